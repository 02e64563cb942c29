//! Which code spans in the docs name a Rust item, and whether the sources
//! still have it.
//!
//! A span is taken for an item name when it has the shape of one: a
//! CamelCase word with two humps or more (`CpuPool`, not `Host`) or with a
//! shape after it (`Tls(String)`), a
//! snake_case word with an underscore (`spin_for`), a constant
//! (`LOOP_SPIN`), or a path (`Mode::Batch`, `tandem::spawn`), optionally
//! followed by `(..)`, `<..>`, ` { .. }` or `!`. Anything else
//! (`pool.run(job).await`, `--size WxH`) is prose in code font and is not
//! looked up. A path into another crate (`async_io::block_on`) is not
//! looked up either; a path through `tandem::` or `crate::` must name
//! something tandem itself declares.

use super::markdown::Doc;
use super::source::{self, Names};

/// Crates whose items the docs may name by path without tandem declaring
/// them (`async_io::block_on`).
const CRATES: &[&str] = &[
    "std",
    "core",
    "alloc",
    "async_io",
    "async_task",
    "flume",
    "futures_lite",
    "event_listener",
    "blocking",
    "ureq",
    "image",
    "fast_image_resize",
    "rustls",
    "smol",
    "serde_json",
    "pollster",
];

/// Names the docs quote where a Rust item's name could stand, but that are
/// not Rust items: they are not looked up.
const OUTSIDE_NAMES: &[&str] = &[
    // Python's and the article's.
    "ProcessPoolExecutor",
    "ThreadPoolExecutor",
    "ClientSession",
    "run_in_executor",
    "wait_for",
    "return_exceptions",
    "max_workers",
    "cpu_bound_task",
    "heavy_analysis",
    "run_until_complete",
    "as_completed",
    "create_task",
    "get_event_loop",
    "BrokenProcessPool",
    // Celery's, kombu's and Redis's (docs/11-beyond-one-machine.md): Python
    // names, wire fields, Redis keys, exception names sent as strings.
    "as_task_v2",
    "restore_by_tag",
    "unacked_index",
    "exc_message",
    "delivery_info",
    "worker_pid",
    "time_start",
    "AsyncResult",
    "DownloadError",
    "NotRegistered",
    "BadMessage",
    "ImageError",
    "TANDEM_VISIBILITY_TIMEOUT",
    "apply_async",
    "maybe_expire",
    "call_at",
    "apply_eta_task",
    "execute_using_pool",
    "maybe_make_aware",
    "TaskRevokedError",
    "InvalidTaskError",
    // The operating system's.
    "epoll_wait",
    "epoll_ctl",
    "futex_wake",
    "TCP_NODELAY",
    "O_EXCL",
    "VmHWM",
    "eventfd_write",
    // rustdoc's, and other libraries' that tandem does not use.
    "no_run",
    "DecoderOptions",
    "Decoder",
    "Level",
];

/// The standard prelude's names, used in docs as in code (`Some(x)`).
const PRELUDE: &[&str] = &[
    "Some", "None", "Ok", "Err", "Box", "Vec", "String", "Option", "Result",
];

pub fn check_names(names: &Names, doc: &str, parsed: &Doc, problems: &mut Vec<String>) {
    for span in &parsed.spans {
        for (name, strict) in item_names(&span.text) {
            let set = if strict {
                &names.declared
            } else {
                &names.known
            };
            if !set.contains(&name) && !OUTSIDE_NAMES.contains(&name.as_str()) {
                problems.push(format!(
                    "{doc}:{}: `{}` names `{name}`, which no file under src/, examples/, tests/ or benches/ declares",
                    span.line, span.text
                ));
            }
        }
    }
}

/// The Rust item names in a code span, each with whether it must be
/// declared by tandem itself (`tandem::x`, `crate::x`) rather than merely
/// used by its code. Spans that are not a name (`pool.run(job).await`,
/// `--size WxH`) give none.
pub fn item_names(span: &str) -> Vec<(String, bool)> {
    let span = span.trim().trim_start_matches('&');
    let head_end = span
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(span.len());
    let (head, tail) = span.split_at(head_end);
    let tail_is_shape = tail.is_empty()
        || ["(", " {", "!"].iter().any(|start| tail.starts_with(start))
        || tail.starts_with('<') && is_camel(head);
    if head.is_empty() || !tail_is_shape || head.ends_with(':') || head.starts_with(':') {
        return Vec::new();
    }
    let segments: Vec<&str> = head.split("::").collect();
    if segments.len() > 1 {
        if segments.iter().any(|segment| segment.is_empty()) || CRATES.contains(&segments[0]) {
            return Vec::new();
        }
        let strict = matches!(segments[0], "tandem" | "crate");
        let last = segments[segments.len() - 1];
        let mut found = vec![(last.to_string(), strict)];
        if !strict && is_camel(segments[0]) {
            found.push((segments[0].to_string(), false));
        }
        return found;
    }
    // One hump (`Url`) only with a shape after it (`Tls(String)`): alone,
    // it is as likely a header (`Host`) or a word.
    let humps = head.chars().filter(char::is_ascii_uppercase).count();
    let looks_like_item =
        is_camel(head) && (humps >= 2 || !tail.is_empty()) && !PRELUDE.contains(&head)
            || is_snake(head) && head.contains('_') && !head.ends_with('_')
            || head.contains('_')
                && head
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if looks_like_item {
        vec![(head.to_string(), false)]
    } else {
        Vec::new()
    }
}

fn is_camel(word: &str) -> bool {
    let mut chars = word.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && word.chars().nth(1).is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_alphanumeric())
}

fn is_snake(word: &str) -> bool {
    word.starts_with(|c: char| c.is_ascii_lowercase())
        && word
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// `tests/file.rs: name` (or `: a, b`) in a code span: the file must
/// declare a function of that name.
pub fn check_test_citations(names: &Names, doc: &str, parsed: &Doc, problems: &mut Vec<String>) {
    for span in &parsed.spans {
        let Some((file, cited)) = span.text.split_once(".rs:") else {
            continue;
        };
        let file = format!("{}.rs", file.trim());
        if !file.starts_with("tests/") {
            continue;
        }
        let functions = names.functions.get(&file);
        for name in cited.split(',').map(|name| source::identifier(name.trim())) {
            if !functions.is_some_and(|functions| functions.contains(name)) {
                problems.push(format!("{doc}:{}: {file} has no test `{name}`", span.line));
            }
        }
    }
}

/// Prose that says which file an item is in: `` `Item` (`file.rs` ``, or a
/// table cell `` `file.rs`, `Item` `` (chapter 8's walk through the
/// client). The file (a path from the root, or the end of one:
/// `chunked.rs`) must declare the item, so code moved to another file
/// fails the page that still sends the reader to the old one.
pub fn check_item_files(names: &Names, doc: &str, parsed: &Doc, problems: &mut Vec<String>) {
    // The prose as one text, lines joined by a space (a span and its file
    // may sit on two lines), with the line each byte came from.
    let mut text = String::new();
    let mut line_of = Vec::new();
    for line in &parsed.prose {
        text.push_str(&line.text);
        text.push(' ');
        line_of.extend(std::iter::repeat_n(line.line, line.text.len() + 1));
    }
    let mut placed = Vec::new();
    for (at, _) in text.match_indices("` (`") {
        let item_start = text[..at].rfind('`').map(|start| start + 1);
        let path_start = at + "` (`".len();
        let path_end = text[path_start..].find('`').map(|end| path_start + end);
        if let (Some(item_start), Some(path_end)) = (item_start, path_end) {
            let (item, path) = (&text[item_start..at], &text[path_start..path_end]);
            placed.push((line_of[at], item, path));
        }
    }
    for line in parsed
        .prose
        .iter()
        .filter(|line| line.text.starts_with('|'))
    {
        for part in line.text.split(['|', ';']) {
            let spans: Vec<&str> = part.trim().split("`, `").collect();
            if let [path, item] = spans.as_slice() {
                let (path, item) = (path.trim_start_matches('`'), item.trim_end_matches('`'));
                placed.push((line.line, item, path));
            }
        }
    }
    for (line, item, path) in placed {
        let Some((name, _)) = item_names(item).into_iter().next() else {
            continue;
        };
        if !path.ends_with(".rs") || path.contains([' ', '`']) {
            continue;
        }
        let suffix = format!("/{path}");
        let mut files = names
            .items
            .iter()
            .filter(|(file, _)| *file == path || file.ends_with(&suffix))
            .peekable();
        // A file that does not exist is check_paths' to report.
        if files.peek().is_some() && !files.any(|(_, declared)| declared.contains(&name)) {
            problems.push(format!(
                "{doc}:{line}: `{item}` is placed in {path}, which does not declare `{name}`"
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_placed_in_a_file_that_does_not_declare_it_is_caught() {
        let mut names = Names::default();
        let declared = ["ClientSettings", "from_settings"].map(String::from);
        names
            .items
            .insert("src/http/settings.rs".into(), declared.into());
        names
            .items
            .insert("src/http/client.rs".into(), ["get".to_string()].into());
        let doc = super::super::markdown::parse(
            "Its `ClientSettings` (`settings.rs`) are one value.\n\
             A setter on `ClientSettings`\n(`src/http/client.rs`), and\n\
             `Client::get` (`client.rs`) and `gone` (`src/nowhere.rs`).\n\
             \n\
             | step | file, function |\n\
             |---|---|\n\
             | 1 | `client.rs`, `Client::get`; `client.rs`, `from_settings` |\n",
        );
        let mut problems = Vec::new();
        check_item_files(&names, "doc.md", &doc, &mut problems);
        assert_eq!(
            problems,
            [
                "doc.md:2: `ClientSettings` is placed in src/http/client.rs, which does not declare `ClientSettings`",
                "doc.md:8: `from_settings` is placed in client.rs, which does not declare `from_settings`",
            ]
        );
    }
}
