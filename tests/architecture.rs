//! The source's shape, checked: no import circles between `src/` files, no
//! `src/` file over 400 lines, and no layer importing a higher one, with the
//! layers read from the table in ARCHITECTURE.md (so that the document and
//! the code cannot drift apart).
//!
//! # Why
//!
//! tandem's files are meant to be read top to bottom, one concept each, from
//! the bottom layer up. An import circle pulls a reader back and forth
//! between two files; a lower layer that imports a higher one (the executor
//! reaching into the pool) makes the bottom unreadable without the top; a
//! long file is read in more than one sitting. These are easy to introduce
//! and invisible in review, so a test looks for them on every `cargo test`.
//!
//! # How
//!
//! A small lexer drops comments, strings and character literals. Every path
//! that starts with `crate::`, `super::`, `self::` (or `tandem::`, the
//! library as the binary's files name it) is made absolute, then resolved
//! to the longest module prefix that is a file: `crate::pool::lobby::Role`
//! is an import of `src/pool/lobby.rs`. `use` trees are expanded
//! (`use crate::{a, b::{c, d}}`), and `super::` inside an inline module
//! (`mod tests { use super::*; }`) names the file itself. As in
//! `cycles.py`, a file naming its own child modules by bare name (`mod.rs`'s
//! `pub use worker::current_worker`) is the module tree, not an import, and
//! a path to a `lib.rs` re-export (`crate::CpuPool`) is not an edge of the
//! file graph; the layer check follows such a re-export to the module that
//! defines the name.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The most lines a `src/` file may have.
const MAX_LINES: usize = 400;

#[test]
fn no_import_circles_between_src_files() {
    let crate_ = Crate::scan();
    let mut graph: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for import in crate_.file_imports() {
        graph.entry(import.from).or_default().insert(import.to);
    }
    let mut report = String::new();
    for circle in circles(&graph) {
        report.push_str(&format!("import circle: {}\n", circle.join(" <-> ")));
        for import in crate_.file_imports() {
            if circle.contains(&import.from) && circle.contains(&import.to) {
                report.push_str(&format!(
                    "  {}:{} imports crate::{} (from {})\n",
                    import.from, import.line, import.path, import.to
                ));
            }
        }
    }
    assert!(
        report.is_empty(),
        "\n{report}To break a circle, move the shared piece to the file both can import, or to the lower one \
         (ARCHITECTURE.md).\n"
    );
}

#[test]
fn no_src_file_over_400_lines() {
    let crate_ = Crate::scan();
    let report: String = crate_
        .files
        .iter()
        .filter(|file| file.lines > MAX_LINES)
        .map(|file| {
            format!(
                "{}: {} lines, more than {MAX_LINES}: split it by concept (CONTRIBUTING.md)\n",
                file.name, file.lines
            )
        })
        .collect();
    assert!(report.is_empty(), "\n{report}");
}

#[test]
fn no_layer_imports_a_higher_one() {
    let crate_ = Crate::scan();
    let layers = Layers::read();
    let mut problems = Vec::new();
    // Every top-level module has exactly one layer, and the table names
    // only modules that exist.
    for module in &crate_.top_level {
        if !layers.of.contains_key(module.as_str()) {
            problems.push(format!(
                "  `{module}` is in no layer of ARCHITECTURE.md's table"
            ));
        }
    }
    for module in layers.of.keys() {
        if !crate_.top_level.contains(module) {
            problems.push(format!(
                "  ARCHITECTURE.md's table names `{module}`, which is not a module of src/"
            ));
        }
    }
    for import in crate_.layer_imports() {
        let (Some(&from), Some(&to)) = (
            layers.of.get(import.from_module),
            layers.of.get(import.to_module),
        ) else {
            continue; // reported above
        };
        if from != to && !layers.may_import[&from].contains(&to) {
            problems.push(format!(
                "  {}:{} imports crate::{}: layer {from} (`{}`) may not import layer {to} (`{}`)",
                import.file, import.line, import.path, import.from_module, import.to_module
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "\nthe layers of ARCHITECTURE.md are not respected:\n{}\n",
        problems.join("\n")
    );
}

#[test]
fn the_lexer_sees_only_code() {
    let tokens =
        lex("let s = \"crate::a\"; // crate::b\n/* crate::c */ r#\"crate::d\"# '{' crate::e");
    let names: Vec<&str> = tokens
        .iter()
        .filter_map(|token| match &token.kind {
            Kind::Ident(name) => Some(name.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(names, ["let", "s", "crate", "e"]);
    assert_eq!(tokens.last().map(|token| token.line), Some(2));
}

#[test]
fn use_trees_and_inline_modules_resolve() {
    let file = "use crate::{a, b::{c, self}, d as e};\nuse super::f::*;\nmod tests { use super::g; }\nfn h() { self::i::j(); }";
    let paths: Vec<String> = paths_in(file, &["x".to_string(), "y".to_string()])
        .into_iter()
        .map(|(_, path)| path.join("::"))
        .collect();
    assert_eq!(
        paths,
        ["a", "b::c", "b", "d", "x::f", "x::y::g", "x::y::i::j"]
    );
}

// ---------------------------------------------------------------------------
// The crate as files and imports.

/// One `.rs` file of `src/`.
struct File {
    /// Its path from the repository root, `src/pool/lobby.rs`.
    name: String,
    /// Its module path: `["pool", "lobby"]`; empty for lib.rs and main.rs.
    module: Vec<String>,
    lines: usize,
    /// Every absolute crate path it names, with the line.
    paths: Vec<(usize, Vec<String>)>,
}

/// An import of one `src/` file by another.
struct FileImport<'a> {
    from: &'a str,
    to: &'a str,
    line: usize,
    path: String,
}

/// An import between top-level modules (`pool` imports `executor`).
struct LayerImport<'a> {
    file: &'a str,
    line: usize,
    path: String,
    from_module: &'a str,
    to_module: &'a str,
}

struct Crate {
    files: Vec<File>,
    /// Top-level modules, plus `main` for src/main.rs.
    top_level: BTreeSet<String>,
    /// Names lib.rs re-exports (`CpuPool`), and the module defining each.
    reexports: BTreeMap<String, String>,
}

impl Crate {
    fn scan() -> Crate {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for path in rust_files(&root.join("src")) {
            let relative = path.strip_prefix(root).unwrap();
            let mut module: Vec<String> = relative
                .with_extension("")
                .iter()
                .skip(1) // "src"
                .map(|part| part.to_string_lossy().into_owned())
                .collect();
            if module.last().map(String::as_str) == Some("mod") {
                module.pop();
            }
            if module == ["lib"] || module == ["main"] {
                module.clear();
            }
            let text = fs::read_to_string(&path).unwrap();
            files.push(File {
                name: relative.to_string_lossy().replace('\\', "/"),
                lines: text.lines().count(),
                paths: paths_in(&text, &module),
                module,
            });
        }
        let mut top_level: BTreeSet<String> = files
            .iter()
            .filter_map(|file| file.module.first().cloned())
            .collect();
        top_level.insert("main".to_string());
        let lib = fs::read_to_string(root.join("src/lib.rs")).unwrap();
        let reexports = reexports_of(&lib, &top_level);
        Crate {
            files,
            top_level,
            reexports,
        }
    }

    fn file(&self, module: &[String]) -> Option<&File> {
        self.files
            .iter()
            .find(|file| file.module == module && !file.name.ends_with("main.rs"))
    }

    /// The file a path leads to: the longest prefix of it that is a file.
    fn resolve(&self, path: &[String]) -> Option<&File> {
        (1..=path.len())
            .rev()
            .find_map(|length| self.file(&path[..length]))
    }

    fn file_imports(&self) -> Vec<FileImport<'_>> {
        let mut imports = Vec::new();
        for file in &self.files {
            for (line, path) in &file.paths {
                if let Some(target) = self.resolve(path) {
                    if target.name != file.name {
                        imports.push(FileImport {
                            from: &file.name,
                            to: &target.name,
                            line: *line,
                            path: path.join("::"),
                        });
                    }
                }
            }
        }
        imports
    }

    fn layer_imports(&self) -> Vec<LayerImport<'_>> {
        let mut imports = Vec::new();
        for file in &self.files {
            let from_module = match file.module.first() {
                Some(module) => module.as_str(),
                None if file.name.ends_with("main.rs") => "main",
                None => continue, // lib.rs is the map: it names every layer
            };
            for (line, path) in &file.paths {
                let to_module = match path.first() {
                    Some(first) if self.top_level.contains(first) => first.as_str(),
                    Some(first) => match self.reexports.get(first) {
                        Some(module) => module.as_str(),
                        None => continue,
                    },
                    None => continue,
                };
                imports.push(LayerImport {
                    file: &file.name,
                    line: *line,
                    path: path.join("::"),
                    from_module,
                    to_module,
                });
            }
        }
        imports
    }
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(rust_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
    found.sort();
    found
}

/// `pub use module::{Name, ...};` lines of lib.rs: name -> module.
fn reexports_of(lib: &str, modules: &BTreeSet<String>) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    let tokens = lex(lib);
    for (index, token) in tokens.iter().enumerate() {
        if token.kind == Kind::Ident("use".to_string()) {
            let mut cursor = index + 1;
            let mut paths = Vec::new();
            use_tree(&tokens, &mut cursor, &[], &mut paths);
            for path in paths {
                if let (Some(module), Some(name)) = (path.first(), path.last()) {
                    if modules.contains(module) {
                        names.insert(name.clone(), module.clone());
                    }
                }
            }
        }
    }
    names
}

// ---------------------------------------------------------------------------
// Reading paths out of Rust source.

#[derive(Debug, PartialEq, Eq)]
enum Kind {
    Ident(String),
    PathSep,
    Open,
    Close,
    Comma,
    Semicolon,
    Star,
    Other,
}

struct Token {
    kind: Kind,
    line: usize,
}

/// The code's tokens, without comments, strings and character literals.
fn lex(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let (mut i, mut line) = (0, 1);
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    while i < chars.len() {
        let c = chars[i];
        let start_line = line;
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c == '/' && at(i + 1) == '/' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    line += usize::from(chars[i] == '\n');
                    i += 1;
                }
            }
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                line += usize::from(chars[i] == '\n');
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else if c == '\'' {
            // A character literal ('x', '\n', '\u{1F600}'), or a lifetime.
            if at(i + 1) == '\\' {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if at(i + 2) == '\'' {
                i += 3;
            } else {
                i += 1;
            }
        } else if c.is_alphabetic() || c == '_' {
            let begin = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[begin..i].iter().collect();
            // A raw string: r"...", r#"..."#, br"...".
            if (word == "r" || word == "br") && (at(i) == '"' || at(i) == '#') {
                let mut hashes = 0;
                while at(i) == '#' {
                    hashes += 1;
                    i += 1;
                }
                if at(i) == '"' {
                    i += 1;
                    loop {
                        if i >= chars.len() {
                            break;
                        }
                        if chars[i] == '"' && (1..=hashes).all(|k| at(i + k) == '#') {
                            i += 1 + hashes;
                            break;
                        }
                        line += usize::from(chars[i] == '\n');
                        i += 1;
                    }
                    continue;
                }
            }
            tokens.push(Token {
                kind: Kind::Ident(word),
                line: start_line,
            });
        } else {
            let kind = match c {
                ':' if at(i + 1) == ':' => {
                    i += 1;
                    Kind::PathSep
                }
                '{' => Kind::Open,
                '}' => Kind::Close,
                ',' => Kind::Comma,
                ';' => Kind::Semicolon,
                '*' => Kind::Star,
                c if c.is_whitespace() => {
                    i += 1;
                    continue;
                }
                _ => Kind::Other,
            };
            tokens.push(Token {
                kind,
                line: start_line,
            });
            i += 1;
        }
    }
    tokens
}

fn ident(tokens: &[Token], index: usize) -> Option<&str> {
    match tokens.get(index).map(|token| &token.kind) {
        Some(Kind::Ident(name)) => Some(name),
        _ => None,
    }
}

fn is(tokens: &[Token], index: usize, kind: &Kind) -> bool {
    tokens.get(index).map(|token| &token.kind) == Some(kind)
}

/// Every path in `text` that names something of the crate, made absolute
/// for a file whose module path is `module`, with its line.
fn paths_in(text: &str, module: &[String]) -> Vec<(usize, Vec<String>)> {
    let tokens = lex(text);
    let mut found = Vec::new();
    // Inline modules (`mod tests { ... }`) open at a brace depth.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0;
    let mut i = 0;
    while i < tokens.len() {
        let current = || -> Vec<String> {
            let inline = inline.iter().map(|(name, _)| name.clone());
            module.iter().cloned().chain(inline).collect()
        };
        let line = tokens[i].line;
        match &tokens[i].kind {
            Kind::Open => depth += 1,
            Kind::Close => {
                if inline.last().is_some_and(|(_, at)| *at == depth) {
                    inline.pop();
                }
                depth -= 1;
            }
            Kind::Ident(word) if word == "mod" && is(&tokens, i + 2, &Kind::Open) => {
                if let Some(name) = ident(&tokens, i + 1) {
                    inline.push((name.to_string(), depth + 1));
                }
            }
            Kind::Ident(word) if word == "use" => {
                let mut cursor = i + 1;
                let mut paths = Vec::new();
                use_tree(&tokens, &mut cursor, &[], &mut paths);
                let current = current();
                found.extend(
                    paths
                        .iter()
                        .filter_map(|path| absolute(path, &current))
                        .map(|path| (line, path)),
                );
                i = cursor;
                continue;
            }
            Kind::Ident(_) if is(&tokens, i + 1, &Kind::PathSep) => {
                // A path in code: `crate::pool::current_worker()`.
                let mut path = Vec::new();
                while let Some(segment) = ident(&tokens, i) {
                    path.push(segment.to_string());
                    if !is(&tokens, i + 1, &Kind::PathSep) || ident(&tokens, i + 2).is_none() {
                        break;
                    }
                    i += 2;
                }
                found.extend(absolute(&path, &current()).map(|path| (line, path)));
            }
            _ => {}
        }
        i += 1;
    }
    found
}

/// Expands the `use` tree starting at `tokens[*cursor]` into full paths.
fn use_tree(tokens: &[Token], cursor: &mut usize, prefix: &[String], out: &mut Vec<Vec<String>>) {
    let mut path = prefix.to_vec();
    if is(tokens, *cursor, &Kind::PathSep) {
        *cursor += 1; // `use ::std::...`
    }
    loop {
        match &tokens.get(*cursor).map(|token| &token.kind) {
            Some(Kind::Ident(name)) => {
                *cursor += 1;
                if name == "self" && !path.is_empty() && !is(tokens, *cursor, &Kind::PathSep) {
                    // `a::{self, b}`: `self` is the prefix itself.
                } else {
                    path.push(name.clone());
                }
                if is(tokens, *cursor, &Kind::PathSep) {
                    *cursor += 1;
                    continue;
                }
                if ident(tokens, *cursor) == Some("as") {
                    *cursor += 2;
                }
                out.push(path);
                return;
            }
            Some(Kind::Star) => {
                *cursor += 1;
                out.push(path);
                return;
            }
            Some(Kind::Open) => {
                *cursor += 1;
                while !is(tokens, *cursor, &Kind::Close) && *cursor < tokens.len() {
                    use_tree(tokens, cursor, &path, out);
                    if is(tokens, *cursor, &Kind::Comma) {
                        *cursor += 1;
                    }
                }
                *cursor += 1;
                return;
            }
            _ => return,
        }
    }
}

/// `path` from the crate's root, if it starts with `crate`, `tandem`,
/// `self` or `super` (seen from the module `current`).
fn absolute(path: &[String], current: &[String]) -> Option<Vec<String>> {
    let first = path.first()?.as_str();
    let (base, rest): (&[String], &[String]) = match first {
        "crate" | "tandem" => (&[], &path[1..]),
        "self" => (current, &path[1..]),
        "super" => {
            let ups = path
                .iter()
                .take_while(|segment| *segment == "super")
                .count();
            (&current[..current.len().saturating_sub(ups)], &path[ups..])
        }
        _ => return None,
    };
    Some(base.iter().chain(rest).cloned().collect())
}

// ---------------------------------------------------------------------------
// The layers, from ARCHITECTURE.md.

struct Layers {
    /// Top-level module -> its layer.
    of: BTreeMap<String, u32>,
    /// Layer -> the layers it may import (besides its own).
    may_import: BTreeMap<u32, BTreeSet<u32>>,
}

impl Layers {
    /// Reads the table whose header is `| layer | modules | may import |`.
    fn read() -> Layers {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md");
        let text = fs::read_to_string(&path).expect("ARCHITECTURE.md at the repository root");
        let rows = text
            .lines()
            .skip_while(|line| {
                let cells = cells(line);
                cells != ["layer", "modules", "may import"]
            })
            .skip(2) // the header and the |---| line
            .take_while(|line| line.trim_start().starts_with('|'));
        let mut layers = Layers {
            of: BTreeMap::new(),
            may_import: BTreeMap::new(),
        };
        for row in rows {
            let cells = cells(row);
            let layer: u32 = cells[0]
                .parse()
                .unwrap_or_else(|_| panic!("ARCHITECTURE.md: a layer number, not {row:?}"));
            for module in backticked(&cells[1]) {
                let previous = layers.of.insert(module.clone(), layer);
                assert!(
                    previous.is_none(),
                    "ARCHITECTURE.md puts `{module}` in two layers"
                );
            }
            let allowed = layer_numbers(&cells[2]);
            assert!(
                allowed.iter().all(|&other| other < layer),
                "ARCHITECTURE.md: layer {layer} may import only lower layers, not {:?}",
                cells[2]
            );
            layers.may_import.insert(layer, allowed);
        }
        assert!(
            !layers.of.is_empty(),
            "ARCHITECTURE.md has no `| layer | modules | may import |` table"
        );
        layers
    }
}

/// The cells of a markdown table row, trimmed and lower-cased.
fn cells(row: &str) -> Vec<String> {
    let row = row.trim();
    if !row.starts_with('|') {
        return Vec::new();
    }
    row.trim_matches('|')
        .split('|')
        .map(|cell| cell.trim().to_lowercase())
        .collect()
}

/// The `names` in backticks in a cell.
fn backticked(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// "nothing in the crate", "layer 1", "layers 1-3" or "layers 1–3, 5":
/// the layer numbers, ignoring any explanation in parentheses.
fn layer_numbers(cell: &str) -> BTreeSet<u32> {
    let cell = cell.split('(').next().unwrap_or("");
    let mut numbers = BTreeSet::new();
    for part in cell.split(',') {
        let bounds: Vec<u32> = part
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|number| number.parse().ok())
            .collect();
        match bounds[..] {
            [single] => {
                numbers.insert(single);
            }
            [low, high] => numbers.extend(low..=high),
            _ => {}
        }
    }
    numbers
}

/// The groups of two or more files that import each other, in order.
fn circles<'a>(graph: &BTreeMap<&'a str, BTreeSet<&'a str>>) -> Vec<Vec<&'a str>> {
    let reaches = |from: &'a str, to: &'a str| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from];
        while let Some(node) = stack.pop() {
            for &next in graph.get(node).into_iter().flatten() {
                if next == to {
                    return true;
                }
                if seen.insert(next) {
                    stack.push(next);
                }
            }
        }
        false
    };
    let mut circles: Vec<Vec<&str>> = Vec::new();
    for &node in graph.keys() {
        if circles.iter().any(|circle| circle.contains(&node)) {
            continue;
        }
        let mut circle: Vec<&str> = graph
            .keys()
            .copied()
            .filter(|&other| other == node || (reaches(node, other) && reaches(other, node)))
            .collect();
        circle.sort();
        if circle.len() > 1 {
            circles.push(circle);
        }
    }
    circles
}
