//! Refreshing quoted excerpts from the source, for after a merge:
//!
//! ```text
//! TANDEM_BLESS_DOCS=1 cargo test --test docs
//! ```
//!
//! rewrites every labelled ```` ```rust ```` block in the docs with the
//! current lines between its markers, then runs the checks as usual. It
//! only copies code: read the prose around each block that changed
//! (`git diff docs/`) before committing, since the point of the check is
//! that a chapter's words still describe the code it quotes.

use std::fs;
use std::path::Path;

use super::source::{self, Tree};

/// The environment variable that turns blessing on.
pub const VARIABLE: &str = "TANDEM_BLESS_DOCS";

/// Rewrites the excerpts of `documents` under `root`; returns the paths
/// of the files it changed.
pub fn bless(root: &Path, tree: &Tree, documents: &[String]) -> Vec<String> {
    let mut changed = Vec::new();
    for path in documents {
        let Some(text) = tree.text(path) else {
            continue;
        };
        let blessed = refreshed(tree, text);
        if blessed != text {
            fs::write(root.join(path), &blessed).expect("the docs are writable");
            changed.push(path.clone());
        }
    }
    changed
}

/// `text` with each labelled rust block's body replaced by its excerpt
/// (blocks whose anchor cannot be found are left for the checks to report).
fn refreshed(tree: &Tree, text: &str) -> String {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut out: Vec<String> = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        let line = lines[index];
        out.push(line.to_string());
        index += 1;
        let label = line
            .trim()
            .strip_prefix("<!-- excerpt:")
            .and_then(|rest| rest.strip_suffix("-->"));
        let Some((file, anchor)) = label.and_then(|label| label.trim().split_once(' ')) else {
            continue;
        };
        if lines.get(index).map(|line| line.trim()) != Some("```rust") {
            continue;
        }
        let Some(end) = (index + 1..lines.len()).find(|&at| lines[at].trim() == "```") else {
            continue;
        };
        let Some(excerpt) = tree
            .text(file)
            .and_then(|text| source::excerpt(text, anchor.trim()).ok())
        else {
            continue;
        };
        out.push(lines[index].to_string());
        out.extend(excerpt.lines);
        out.push(lines[end].to_string());
        index = end + 1;
    }
    out.join("\n")
}
