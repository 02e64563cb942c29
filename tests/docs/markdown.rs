//! Reading a markdown document the way the checks need it: its fenced
//! blocks (with the label line before each), its code spans, its links, and
//! the words in it that look like paths; and the checks on plain text
//! (cargo targets named in commands, cited line numbers).
//!
//! # Why not a markdown crate
//!
//! The checks need four things from a page and their line numbers, from
//! documents written by the people who run the checks; a page of scanning
//! is easier to read, and to trust, than a dependency.

use super::source::{self, Tree};

/// One document, split into what the checks look at.
#[derive(Debug, Default)]
pub struct Doc {
    pub fences: Vec<Fence>,
    /// Inline code spans outside fences (`` `like this` ``), newlines
    /// folded to spaces.
    pub spans: Vec<Located>,
    /// Link and image targets outside fences (`[text](target)`).
    pub links: Vec<Located>,
    /// Every line outside fences, with its number.
    pub prose: Vec<Located>,
}

/// A fenced block.
#[derive(Debug)]
pub struct Fence {
    /// The line of the opening fence (1-based).
    pub line: usize,
    /// The info string (`rust`, `text`, `sh`), maybe empty.
    pub info: String,
    /// The lines between the fences, with the opening fence's indentation
    /// removed.
    pub body: Vec<String>,
    /// The nearest non-blank line before the opening fence.
    pub label: String,
}

/// A piece of text and the line it starts on (1-based).
#[derive(Debug, Clone)]
pub struct Located {
    pub line: usize,
    pub text: String,
}

pub fn parse(text: &str) -> Doc {
    let mut doc = Doc::default();
    // Outside fences, with the line each byte came from.
    let mut outside = String::new();
    let mut outside_lines: Vec<usize> = Vec::new();
    let mut open: Option<(String, usize, Fence)> = None;
    let mut last_non_blank = String::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if let Some((marker, fence_indent, mut fence)) = open.take() {
            if trimmed.trim_end() == marker {
                doc.fences.push(fence);
                last_non_blank = marker.clone();
            } else {
                let strip = line.len() - line.trim_start().len();
                fence.body.push(line[strip.min(fence_indent)..].to_string());
                open = Some((marker, fence_indent, fence));
            }
            continue;
        }
        let ticks = trimmed.len() - trimmed.trim_start_matches('`').len();
        if ticks >= 3 {
            let info = trimmed[ticks..].trim().to_string();
            let label = last_non_blank.clone();
            let fence = Fence {
                line: number,
                info,
                body: Vec::new(),
                label,
            };
            open = Some((trimmed[..ticks].to_string(), indent, fence));
            continue;
        }
        if !line.trim().is_empty() {
            last_non_blank = line.trim().to_string();
        }
        doc.prose.push(Located {
            line: number,
            text: line.to_string(),
        });
        outside.push_str(line);
        outside.push('\n');
        outside_lines.extend(std::iter::repeat_n(number, line.len() + 1));
    }
    if let Some((_, _, fence)) = open {
        // An unclosed fence runs to the end of the document.
        doc.fences.push(fence);
    }
    doc.spans = code_spans(&outside, &outside_lines);
    doc.links = links(&outside, &outside_lines);
    doc
}

/// Code spans: a run of n backticks up to the next run of exactly n.
fn code_spans(text: &str, lines: &[usize]) -> Vec<Located> {
    let bytes = text.as_bytes();
    let run_at = |at: usize| bytes[at..].iter().take_while(|byte| **byte == b'`').count();
    let mut spans = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] != b'`' {
            at += 1;
            continue;
        }
        let run = run_at(at);
        let start = at + run;
        let mut search = start;
        let mut end = None;
        while search < bytes.len() {
            if bytes[search] == b'`' {
                let closing = run_at(search);
                if closing == run {
                    end = Some(search);
                    break;
                }
                search += closing;
            } else {
                search += 1;
            }
        }
        match end {
            Some(end) => {
                let inner = text[start..end].replace('\n', " ");
                let inner = if run > 1 {
                    inner.trim().to_string()
                } else {
                    inner
                };
                spans.push(Located {
                    line: lines[at],
                    text: inner,
                });
                at = end + run;
            }
            None => at = start,
        }
    }
    spans
}

/// Link targets: what follows `](` up to the closing parenthesis.
fn links(text: &str, lines: &[usize]) -> Vec<Located> {
    let mut found = Vec::new();
    for (at, _) in text.match_indices("](") {
        let rest = &text[at + 2..];
        if let Some(end) = rest.find(')') {
            let target = rest[..end].trim();
            // `[text](target "title")`
            let target = target.split_whitespace().next().unwrap_or("");
            found.push(Located {
                line: lines[at],
                text: target.to_string(),
            });
        }
    }
    found
}

/// The characters a path is made of.
fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/')
}

/// The path-like words in `text`: maximal runs of path characters that
/// contain a `/` or end in `.rs` or `.md`, without a trailing `.` or `,`.
/// A run glued to a `:` or an `@` (a URL, `owner/repo@...`) is left out:
/// another project's file is cited by a link to it, not checked here.
pub fn path_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(is_path_char) {
        let before = rest[..start].chars().next_back();
        let after_start = &rest[start..];
        let end = after_start
            .find(|c: char| !is_path_char(c))
            .unwrap_or(after_start.len());
        let word = after_start[..end].trim_end_matches(['.', ',']);
        let next = after_start[end..].chars().next();
        let glued = matches!(before, Some(':' | '@'))
            || matches!(next, Some(':' | '@')) && after_start[end..].starts_with("://");
        let looks = word.contains('/') || word.ends_with(".rs") || word.ends_with(".md");
        if looks && !glued && !word.starts_with('/') && !word.starts_with('.') {
            words.push(word.to_string());
        }
        rest = &after_start[end..];
    }
    words
}

/// `target` relative to the directory `dir`, `..` resolved.
pub fn resolve(dir: &str, target: &str) -> String {
    let mut parts: Vec<&str> = dir.split('/').filter(|part| !part.is_empty()).collect();
    for part in target.split('/') {
        match part {
            "." | "" => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    parts.join("/")
}

/// `--example NAME`, `--bench NAME`, `--test NAME` must name a target.
pub fn check_commands(tree: &Tree, doc: &str, line: usize, text: &str, problems: &mut Vec<String>) {
    for (flag, dir) in [
        ("--example ", "examples"),
        ("--bench ", "benches"),
        ("--test ", "tests"),
    ] {
        for (at, _) in text.match_indices(flag) {
            let name = source::identifier(&text[at + flag.len()..]);
            let placeholder = name.chars().all(|c| c.is_ascii_uppercase() || c == '_');
            if !placeholder && !tree.exists(&format!("{dir}/{name}.rs")) {
                problems.push(format!(
                    "{doc}:{line}: `{flag}{name}`: {dir}/{name}.rs does not exist"
                ));
            }
        }
    }
}

/// `join.rs line 121`, `` `join.rs` line 121 ``, `src/x.rs:42`.
pub fn cites_a_line_number(text: &str) -> bool {
    text.match_indices(".rs").any(|(at, _)| {
        let rest = text[at + 3..].trim_start_matches('`');
        let number = |rest: &str| rest.starts_with(|c: char| c.is_ascii_digit());
        rest.strip_prefix(':').is_some_and(number)
            || rest.trim_start().strip_prefix("line ").is_some_and(number)
    })
}
