//! What the chapters are checked against: the repository's files, the
//! anchored regions of its Rust sources, and the names those sources declare.
//!
//! # Why
//!
//! A chapter may quote code only from between two marker comments in a
//! source file, the async book's convention:
//!
//! ```text
//! // ANCHOR: run
//! async fn run<T>(...) -> T {
//!     ...
//! }
//! // ANCHOR_END: run
//! ```
//!
//! The excerpt is the lines strictly between the markers, with any nested
//! marker lines left out and the lines' common indentation removed (so a
//! method quoted from inside an `impl` reads from column 0). Everything else
//! is compared byte for byte.
//!
//! # How
//!
//! [`Tree`] holds every file of the repository (text for `.rs` and `.md`),
//! so that the checks, and the self-check that mutates a copy, never touch
//! the disk again. [`Names`] is a line-based scan of the Rust sources: good
//! enough for tandem's formatted code, not a parser.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// Directories never read: build output, VCS data, fuzzing artefacts.
const SKIPPED: &[&str] = &[
    "target",
    ".git",
    "fuzz/target",
    "fuzz/corpus",
    "fuzz/artifacts",
];

/// Where the Rust sources that docs may quote or name live.
pub const RUST_ROOTS: &[&str] = &["src/", "examples/", "tests/", "benches/"];

/// Every file of the repository, by path relative to its root (`/`
/// separated); `Some(text)` for `.rs` and `.md` files.
#[derive(Clone, Debug)]
pub struct Tree {
    pub files: BTreeMap<String, Option<String>>,
}

impl Tree {
    pub fn load(root: &Path) -> Tree {
        let mut files = BTreeMap::new();
        walk(root, "", &mut files);
        Tree { files }
    }

    /// Whether `path` is a file, or a directory holding one (`src/pool/`).
    pub fn exists(&self, path: &str) -> bool {
        let path = path.trim_end_matches('/');
        if self.files.contains_key(path) {
            return true;
        }
        let dir = format!("{path}/");
        self.files
            .range(dir.clone()..)
            .next()
            .is_some_and(|(key, _)| key.starts_with(&dir))
    }

    pub fn text(&self, path: &str) -> Option<&str> {
        self.files.get(path).and_then(|text| text.as_deref())
    }

    /// The Rust sources under [`RUST_ROOTS`], with their text.
    pub fn rust_sources(&self) -> impl Iterator<Item = (&str, &str)> {
        self.files.iter().filter_map(|(path, text)| {
            let text = text.as_deref()?;
            let rooted = RUST_ROOTS.iter().any(|root| path.starts_with(root));
            (rooted && path.ends_with(".rs")).then_some((path.as_str(), text))
        })
    }
}

fn walk(root: &Path, relative: &str, files: &mut BTreeMap<String, Option<String>>) {
    let Ok(entries) = fs::read_dir(root.join(relative)) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = if relative.is_empty() {
            name
        } else {
            format!("{relative}/{name}")
        };
        if SKIPPED.contains(&path.as_str()) {
            continue;
        }
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            walk(root, &path, files);
        } else if path.ends_with(".rs") || path.ends_with(".md") {
            let text = fs::read_to_string(entry.path()).ok();
            files.insert(path, text);
        } else {
            files.insert(path, None);
        }
    }
}

/// The lines of one anchored region, as a chapter must quote them.
#[derive(Debug)]
pub struct Excerpt {
    /// The lines, common indentation removed.
    pub lines: Vec<String>,
    /// For each line, its 1-based line number in the source file.
    pub line_numbers: Vec<usize>,
}

/// The region between `// ANCHOR: name` and `// ANCHOR_END: name` in `text`.
pub fn excerpt(text: &str, name: &str) -> Result<Excerpt, String> {
    let start = format!("// ANCHOR: {name}");
    let end = format!("// ANCHOR_END: {name}");
    let lines: Vec<&str> = text.lines().collect();
    let find = |marker: &str| -> Vec<usize> {
        let at = lines.iter().enumerate();
        at.filter(|(_, line)| line.trim() == marker)
            .map(|(index, _)| index)
            .collect()
    };
    let (starts, ends) = (find(&start), find(&end));
    let (first, last) = match (starts.as_slice(), ends.as_slice()) {
        ([first], [last]) if first < last => (*first, *last),
        ([], _) => return Err(format!("has no `{start}` line")),
        (_, []) => return Err(format!("has `{start}` but no `{end}` line")),
        ([_], [_]) => return Err(format!("has `{end}` before `{start}`")),
        _ => return Err(format!("has more than one `{start}` or `{end}` line")),
    };
    let region: Vec<(usize, &str)> = (first + 1..last)
        .map(|index| (index + 1, lines[index]))
        .filter(|(_, line)| !line.trim_start().starts_with("// ANCHOR"))
        .collect();
    let indent = region
        .iter()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(_, line)| line.len() - line.trim_start().len())
        .min()
        .unwrap_or(0);
    Ok(Excerpt {
        lines: region
            .iter()
            .map(|(_, line)| line.get(indent..).unwrap_or("").to_string())
            .collect(),
        line_numbers: region.iter().map(|(number, _)| *number).collect(),
    })
}

/// Every anchor name opened in `text` (`// ANCHOR: name`), with its line.
pub fn anchors(text: &str) -> Vec<(usize, String)> {
    let lines = text.lines().enumerate();
    lines
        .filter_map(|(index, line)| {
            let name = line.trim().strip_prefix("// ANCHOR: ")?;
            Some((index + 1, name.trim().to_string()))
        })
        .collect()
}

/// The names the Rust sources declare, and the ones they use from elsewhere.
#[derive(Debug, Default)]
pub struct Names {
    /// Items, variants and fields declared in the sources.
    pub declared: BTreeSet<String>,
    /// `declared`, plus every name imported by a `use` or written after `::`
    /// (`FilterType::CatmullRom`): the outside names the code really uses.
    pub known: BTreeSet<String>,
    /// The functions declared in each file (test names included).
    pub functions: BTreeMap<String, BTreeSet<String>>,
    /// The items (functions, types, constants, modules) declared in each
    /// file: where prose says an item is, it must be.
    pub items: BTreeMap<String, BTreeSet<String>>,
}

/// Keywords after which the next word is a declared name.
const DECLARING: &[&str] = &[
    "fn", "struct", "enum", "trait", "type", "const", "static", "mod", "union",
];
/// Words that may precede a declaring keyword.
const QUALIFIERS: &[&str] = &[
    "pub",
    "pub(crate)",
    "pub(super)",
    "async",
    "unsafe",
    "extern",
    "default",
];

pub fn names(tree: &Tree) -> Names {
    let mut names = Names::default();
    for (path, text) in tree.rust_sources() {
        let functions = names.functions.entry(path.to_string()).or_default();
        let items = names.items.entry(path.to_string()).or_default();
        // Brace depths at which an enum's variants or a struct's fields are.
        let mut bodies: Vec<usize> = Vec::new();
        let mut depth = 0usize;
        let mut in_use = false;
        for raw in text.lines() {
            let line = code_of(raw);
            let words: Vec<&str> = line.split_whitespace().collect();
            let rest: Vec<&str> = words
                .iter()
                .copied()
                .skip_while(|word| QUALIFIERS.contains(word))
                .collect();
            if bodies.last() == Some(&depth) {
                if let Some(name) = words
                    .first()
                    .map(|word| identifier(word))
                    .filter(|name| !name.is_empty())
                {
                    if !matches!(name, "pub" | "r#") {
                        names.declared.insert(name.to_string());
                    }
                }
                if let (Some(true), Some(field)) = (
                    words.first().map(|word| word.starts_with("pub")),
                    words.get(1),
                ) {
                    names.declared.insert(identifier(field).to_string());
                }
            }
            if let [keyword, name, ..] = rest.as_slice() {
                let keyword = *keyword;
                let name = if keyword == "const" && *name == "fn" {
                    rest.get(2).copied().unwrap_or("")
                } else {
                    name
                };
                if DECLARING.contains(&keyword) || keyword == "macro_rules!" {
                    let name = identifier(name);
                    names.declared.insert(name.to_string());
                    items.insert(name.to_string());
                    if keyword == "fn" || (keyword == "const" && rest[1] == "fn") {
                        functions.insert(name.to_string());
                    }
                    if matches!(keyword, "enum" | "struct") && line.trim_end().ends_with('{') {
                        bodies.push(depth + 1);
                    }
                }
            }
            if words
                .first()
                .is_some_and(|word| *word == "use" || word.starts_with("pub"))
                && line.contains("use ")
            {
                in_use = true;
            }
            if in_use {
                // A re-export (`pub use blocking::unblock`) is tandem's name.
                if words.first().is_some_and(|word| word.starts_with("pub")) {
                    names.declared.extend(all_identifiers(&line));
                }
                names.known.extend(all_identifiers(&line));
                in_use = !line.contains(';');
            }
            // Names used from elsewhere: `Path::item`, `.method(`, and
            // `name: Type` (parameters, fields, bindings), `macro!`.
            for (index, _) in line.match_indices("::").chain(line.match_indices('.')) {
                let width = if line[index..].starts_with("::") {
                    2
                } else {
                    1
                };
                names
                    .known
                    .insert(identifier(&line[index + width..]).to_string());
            }
            for (index, mark) in line.match_indices([':', '!']) {
                let glued = mark == ":"
                    && (line[..index].ends_with(':') || line[index + 1..].starts_with(':'));
                let before = line[..index]
                    .rsplit(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .next();
                if let (false, Some(name)) = (glued, before) {
                    names.known.insert(name.to_string());
                }
            }
            for character in line.chars() {
                match character {
                    '{' => depth += 1,
                    '}' => {
                        depth = depth.saturating_sub(1);
                        if bodies.last().is_some_and(|body| *body > depth) {
                            bodies.pop();
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    // A file's stem names it: a fuzz target, a bench, an example.
    let stems = tree.files.keys().filter(|path| path.ends_with(".rs"));
    let stems = stems.filter_map(|path| path.rsplit('/').next()?.strip_suffix(".rs"));
    names.known.extend(stems.map(str::to_string));
    names.known.extend(names.declared.iter().cloned());
    names
}

/// `line` without its `//` comment and with string and character literals
/// emptied, so that neither is read as code.
fn code_of(line: &str) -> String {
    let mut code = String::new();
    let mut chars = line.chars().peekable();
    while let Some(character) = chars.next() {
        match character {
            '/' if chars.peek() == Some(&'/') => break,
            '"' => {
                code.push('"');
                while let Some(inner) = chars.next() {
                    match inner {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
                code.push('"');
            }
            '\'' => {
                // A character literal ('{', '\n'), or a lifetime ('a).
                let literal: String = chars.clone().take(3).collect();
                if literal.starts_with('\\') {
                    for inner in chars.by_ref() {
                        if inner == '\'' {
                            break;
                        }
                    }
                } else if literal.chars().nth(1) == Some('\'') {
                    chars.next();
                    chars.next();
                }
                code.push('\'');
            }
            _ => code.push(character),
        }
    }
    code
}

/// The identifier at the start of `text` (empty if none).
pub fn identifier(text: &str) -> &str {
    let text = text.strip_prefix("r#").unwrap_or(text);
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

fn all_identifiers(line: &str) -> impl Iterator<Item = String> + '_ {
    line.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|word| {
            word.chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_')
        })
        .map(str::to_string)
}
