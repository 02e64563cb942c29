//! The tutorial cannot drift from the code: every Rust block in the docs is
//! an excerpt of the source, and every file, item, test and example the docs
//! name exists.
//!
//! # Why
//!
//! tandem is read as a tutorial. A chapter that quotes code the source no
//! longer has, or sends the reader to a file, a function or a test that was
//! renamed, teaches something false, and nothing else notices: the code
//! still compiles. So `cargo test` reads the docs (`docs/*.md`,
//! `docs/ja/*.md`, README.md, README.ja.md, ARCHITECTURE.md,
//! CONTRIBUTING.md) and fails on any of these:
//!
//! * a fenced block without a language;
//! * a ```` ```rust ```` block that is not preceded by
//!   `<!-- excerpt: src/file.rs anchor -->` or that differs from the lines
//!   between `// ANCHOR: anchor` and `// ANCHOR_END: anchor` in that file
//!   (the async book's convention; see `tests/docs/source.rs`). A sketch
//!   that is not code is fenced as `text`;
//! * a path (`src/x.rs`, `tests/y.rs`, `pool/lobby.rs`, a link) that does
//!   not exist (another project's file is written with the project in
//!   front: `async-io/src/reactor.rs`);
//! * a code span naming a Rust item (`CpuPool`, `spin_for`, `Mode::Batch`,
//!   `LOOP_SPIN`) that no source under src/, examples/, tests/ or benches/
//!   declares or uses;
//! * `tests/file.rs: test_name` where the file has no such function;
//! * an item placed in a file (`` `ChunkedDecoder` (`chunked.rs`) ``, or a
//!   table cell `` `client.rs`, `finish` ``) that the file does not
//!   declare: the code moved, the page did not;
//! * `cargo run --example NAME` (or `--bench`, `--test`) for a target that
//!   does not exist;
//! * a line number cited in a source file (`join.rs line 121`): lines move,
//!   so cite an item or an anchor instead;
//! * a chapter (`docs/NN-*.md`) without its `## Exercises` section.
//!
//! After a merge that changed quoted code, `TANDEM_BLESS_DOCS=1 cargo test
//! --test docs` copies the new lines into the chapters
//! (`tests/docs/bless.rs`); the prose around them is still yours to check.
//!
//! `the_checks_catch_drift` feeds the checks mutated copies of the
//! repository and asserts that each mutation is caught, so this test cannot
//! pass by checking nothing.

#[path = "docs/bless.rs"]
mod bless;
#[path = "docs/items.rs"]
mod items;
#[path = "docs/markdown.rs"]
mod markdown;
#[path = "docs/source.rs"]
mod source;

use std::path::Path;

use markdown::{Doc, Fence};
use source::Tree;

/// The documents checked, besides `docs/*.md` and `docs/ja/*.md`.
const ROOT_DOCS: &[&str] = &[
    "README.md",
    "README.ja.md",
    "ARCHITECTURE.md",
    "CONTRIBUTING.md",
];

/// Path prefixes that name a place in this repository.
const ROOTS: &[&str] = &["src/", "tests/", "examples/", "benches/", "docs/", "fuzz/"];

/// Other projects whose files the docs cite as `project/path` (`async-io/src/reactor.rs`):
/// not looked up here.
const PROJECTS: &[&str] = &[
    "async-io",
    "async-task",
    "async-executor",
    "polling",
    "flume",
    "blocking",
    "event-listener",
    "futures-lite",
    "smol",
    "ureq",
    "async-book",
    "pollster",
    "tokio",
];

#[test]
fn the_docs_match_the_source() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut tree = Tree::load(root);
    if std::env::var_os(bless::VARIABLE).is_some() {
        for path in bless::bless(root, &tree, &documents(&tree)) {
            eprintln!("{path}: excerpts refreshed from the source; read the prose around them");
        }
        tree = Tree::load(root);
    }
    let problems = check(&tree);
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
}

#[test]
fn every_example_says_how_to_run_it() {
    let tree = Tree::load(Path::new(env!("CARGO_MANIFEST_DIR")));
    for (path, text) in tree
        .rust_sources()
        .filter(|(path, _)| path.starts_with("examples/"))
    {
        let name = path.trim_start_matches("examples/").trim_end_matches(".rs");
        let run = text
            .lines()
            .take_while(|line| line.starts_with("//!"))
            .find(|line| line.contains("Run with:"));
        let run = run.unwrap_or_else(|| panic!("{path}: the doc comment has no `Run with:` line"));
        assert!(
            run.contains(&format!("--example {name}")),
            "{path}: `{run}` does not run {name}"
        );
    }
}

/// Everything wrong with the docs of `tree`, one line each.
fn check(tree: &Tree) -> Vec<String> {
    let names = source::names(tree);
    let mut problems = Vec::new();
    for path in documents(tree) {
        let doc = markdown::parse(tree.text(&path).unwrap_or(""));
        for fence in &doc.fences {
            check_fence(tree, &path, fence, &mut problems);
            markdown::check_commands(
                tree,
                &path,
                fence.line,
                &fence.body.join("\n"),
                &mut problems,
            );
        }
        check_paths(tree, &path, &doc, &mut problems);
        let chapter = path
            .strip_prefix("docs/")
            .is_some_and(|name| name.starts_with(|c: char| c.is_ascii_digit()));
        if chapter
            && !doc
                .prose
                .iter()
                .any(|line| line.text.trim() == "## Exercises")
        {
            problems.push(format!(
                "{path}: a chapter ends with a `## Exercises` section (two or three, with hints)"
            ));
        }
        items::check_names(&names, &path, &doc, &mut problems);
        items::check_test_citations(&names, &path, &doc, &mut problems);
        items::check_item_files(&names, &path, &doc, &mut problems);
        for line in &doc.prose {
            markdown::check_commands(tree, &path, line.line, &line.text, &mut problems);
            if markdown::cites_a_line_number(&line.text) {
                problems.push(format!(
                    "{path}:{}: cites a line number of a source file; lines move: cite an item or an anchor",
                    line.line
                ));
            }
        }
    }
    // Every marker pair well formed, quoted or not.
    for (path, text) in tree.rust_sources() {
        for (line, name) in source::anchors(text) {
            if let Err(reason) = source::excerpt(text, &name) {
                problems.push(format!("{path}:{line}: {reason}"));
            }
        }
    }
    problems
}

fn documents(tree: &Tree) -> Vec<String> {
    let in_docs = tree.files.keys().filter(|path| {
        let name = path
            .strip_prefix("docs/")
            .or_else(|| path.strip_prefix("docs/ja/"));
        name.is_some_and(|name| !name.contains('/') && name.ends_with(".md"))
    });
    let root = ROOT_DOCS
        .iter()
        .map(|name| name.to_string())
        .filter(|name| tree.exists(name));
    root.chain(in_docs.cloned()).collect()
}

fn check_fence(tree: &Tree, doc: &str, fence: &Fence, problems: &mut Vec<String>) {
    let language = fence.info.split([',', ' ']).next().unwrap_or("");
    let at = format!("{doc}:{}", fence.line);
    if language.is_empty() {
        problems.push(format!(
            "{at}: a fenced block without a language: `rust` (an excerpt) or `text` (a sketch)"
        ));
        return;
    }
    let label = fence
        .label
        .strip_prefix("<!-- excerpt:")
        .and_then(|rest| rest.strip_suffix("-->"));
    if language != "rust" {
        if label.is_some() {
            problems.push(format!("{at}: an excerpt must be fenced as ```rust"));
        }
        return;
    }
    let Some(label) = label else {
        problems.push(format!(
            "{at}: a ```rust block must be an excerpt: put `<!-- excerpt: src/file.rs anchor -->` on the line \
             before it and `// ANCHOR: anchor` ... `// ANCHOR_END: anchor` around the code, or fence a sketch as ```text"
        ));
        return;
    };
    let (file, anchor) = match label.split_whitespace().collect::<Vec<_>>().as_slice() {
        [file, anchor] => (file.to_string(), anchor.to_string()),
        _ => {
            return problems.push(format!(
                "{at}: write the excerpt label as `<!-- excerpt: src/file.rs anchor -->`"
            ));
        }
    };
    let Some(text) = tree.text(&file) else {
        return problems.push(format!("{at}: the excerpt's file {file} does not exist"));
    };
    let excerpt = match source::excerpt(text, &anchor) {
        Ok(excerpt) => excerpt,
        Err(reason) => return problems.push(format!("{at}: the excerpt's file {file} {reason}")),
    };
    let lines = excerpt.lines.len().max(fence.body.len());
    for index in 0..lines {
        let (ours, theirs) = (fence.body.get(index), excerpt.lines.get(index));
        if ours == theirs {
            continue;
        }
        let shown = |line: Option<&String>| {
            line.map_or("(no line)".to_string(), |line| line.trim().to_string())
        };
        let source_line = excerpt
            .line_numbers
            .get(index)
            .or(excerpt.line_numbers.last())
            .copied()
            .unwrap_or(0);
        problems.push(format!(
            "{doc}:{}: the excerpt of {file} `{anchor}` differs from the source at its line {}: doc: {} / source: {} ({file}:{source_line})",
            fence.line + 1 + index,
            index + 1,
            shown(ours),
            shown(theirs),
        ));
        return;
    }
}

fn check_paths(tree: &Tree, doc: &str, parsed: &Doc, problems: &mut Vec<String>) {
    let dir = doc.rsplit_once('/').map_or("", |(dir, _)| dir);
    for link in &parsed.links {
        let target = link.text.split('#').next().unwrap_or("");
        if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
            continue;
        }
        if !tree.exists(&markdown::resolve(dir, target)) {
            problems.push(format!(
                "{doc}:{}: the link target {target} does not exist",
                link.line
            ));
        }
    }
    for line in &parsed.prose {
        for word in markdown::path_words(&line.text) {
            if word
                .split('/')
                .next()
                .is_some_and(|project| PROJECTS.contains(&project))
            {
                continue;
            }
            let exact = ROOTS.iter().any(|root| word.starts_with(root))
                || ROOT_DOCS.contains(&word.as_str());
            let found = if exact {
                tree.exists(&word)
            } else if word.ends_with(".rs") || word.ends_with(".md") {
                let tail = format!("/{word}");
                tree.files
                    .keys()
                    .any(|path| *path == word || path.ends_with(&tail))
            } else {
                true
            };
            if !found {
                problems.push(format!("{doc}:{}: {word} does not exist", line.line));
            }
        }
    }
}

#[test]
fn the_checks_catch_drift() {
    let tree = Tree::load(Path::new(env!("CARGO_MANIFEST_DIR")));
    let baseline = check(&tree);
    let caught = |mutated: &Tree, expected: &str| {
        let problems: Vec<String> = check(mutated)
            .into_iter()
            .filter(|p| !baseline.contains(p))
            .collect();
        assert!(
            problems.iter().any(|problem| problem.contains(expected)),
            "a mutation went unnoticed: expected a problem containing {expected:?}, got {problems:#?}"
        );
    };
    // The first excerpt any document quotes.
    let (doc_path, fence) = documents(&tree)
        .into_iter()
        .find_map(|path| {
            let doc = markdown::parse(tree.text(&path)?);
            let fence = doc
                .fences
                .into_iter()
                .find(|fence| fence.label.starts_with("<!-- excerpt:"))?;
            Some((path, fence))
        })
        .expect("some document quotes an excerpt");
    let label: Vec<&str> = fence.label.split_whitespace().collect();
    let (file, anchor) = (label[2].to_string(), label[3].to_string());

    // 1. One quoted source line changed.
    let mut mutated = tree.clone();
    let text = mutated.text(&file).unwrap().to_string();
    let excerpt = source::excerpt(&text, &anchor).unwrap();
    let number = excerpt.line_numbers[excerpt
        .lines
        .iter()
        .position(|line| !line.trim().is_empty())
        .unwrap()];
    let changed: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(index, line)| {
            if index + 1 == number {
                format!("{line} // changed")
            } else {
                line.to_string()
            }
        })
        .collect();
    mutated.files.insert(file.clone(), Some(changed.join("\n")));
    caught(
        &mutated,
        &format!("the excerpt of {file} `{anchor}` differs"),
    );

    // 2. A named item renamed throughout the source.
    let doc = markdown::parse(tree.text(&doc_path).unwrap());
    let names = source::names(&tree);
    let mut name = doc
        .spans
        .iter()
        .flat_map(|span| items::item_names(&span.text))
        .map(|(name, _)| name);
    let name = name
        .find(|name| names.declared.contains(name) && name.len() > 4)
        .expect("a named item");
    let mut mutated = tree.clone();
    for text in mutated
        .files
        .iter_mut()
        .filter(|(path, _)| path.ends_with(".rs"))
        .filter_map(|(_, text)| text.as_mut())
    {
        *text = text.replace(&name, &format!("{name}Renamed"));
    }
    caught(&mutated, &format!("names `{name}`"));

    // 3. A cited test file and an example gone; a rust block without its
    // label, a line number, a broken link.
    let mut mutated = tree.clone();
    mutated.files.remove("tests/pool.rs");
    mutated.files.remove("examples/01_run_in_pool.rs");
    let mut chapter = mutated.text(&doc_path).unwrap().to_string();
    chapter.push_str(
        "\n```rust\nfn sketch() {}\n```\n\nSee `join.rs` line 121, [the map](../src/map.rs).\n",
    );
    mutated.files.insert(doc_path.clone(), Some(chapter));
    caught(&mutated, "tests/pool.rs has no test");
    caught(
        &mutated,
        "`--example 01_run_in_pool`: examples/01_run_in_pool.rs does not exist",
    );
    caught(&mutated, "must be an excerpt");
    caught(&mutated, "cites a line number");
    caught(&mutated, "the link target ../src/map.rs does not exist");
}
