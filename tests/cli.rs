//! The `tandem` binary, run as a user would, against a demo server started
//! here on 127.0.0.1.
//!
//! Every run has a deadline and every test writes under its own fresh
//! directory of the system's temp dir (tests/support/cli_run.rs).

#![cfg(feature = "cli")]

mod support;

use std::collections::BTreeSet;
use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};

use support::cli_run::{TempDir, tandem, text};
use support::json::{self, Json};
use tandem::demo::Server;

/// The sorted names of the entries of `dir`.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

/// Decodes a PNG file; returns its size.
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = fs::read(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{} is not a PNG",
        path.display()
    );
    let image = image::load_from_memory_with_format(&bytes, image::ImageFormat::Png)
        .unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    (image.width(), image.height())
}

/// The parsed `--json` output: the item objects, then the summary.
fn json_lines(stdout: &str) -> (Vec<Json>, Json) {
    let mut lines: Vec<Json> = stdout
        .lines()
        .map(|line| json::parse(line).unwrap_or_else(|err| panic!("{line}: {err}")))
        .collect();
    let summary = lines.pop().expect("a summary line");
    assert_eq!(summary.get("summary"), Some(&Json::Bool(true)));
    assert!(lines.iter().all(|line| line.get("summary").is_none()));
    (lines, summary)
}

fn field_u64(object: &Json, key: &str) -> u64 {
    object
        .get(key)
        .and_then(Json::as_u64)
        .unwrap_or_else(|| panic!("{key} in {object:?}"))
}

/// A small image on `server`: `kind` is `png` or `jpeg`.
fn image_url(server: &Server, kind: &str, width: u32, height: u32, seed: u32) -> String {
    server.url(&format!("/image/{kind}?w={width}&h={height}&seed={seed}"))
}

/// A URL on 127.0.0.1 where nothing listens: bound, then released.
fn refused_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}/image/png")
}

#[test]
fn every_input_becomes_a_128x128_png() {
    let server = Server::start().unwrap();
    let dir = TempDir::new("all-ok");
    let out = dir.join("out");
    let urls = [
        image_url(&server, "png", 64, 48, 1),
        image_url(&server, "jpeg", 64, 48, 2),
        image_url(&server, "png", 30, 90, 3),
        image_url(&server, "jpeg", 200, 100, 4),
    ];
    let mut args = vec!["--out", text(&out), "--workers", "2"];
    args.extend(urls.iter().map(String::as_str));
    let run = tandem(&args);
    assert_eq!(run.code, Some(0), "{run:?}");
    let expected: Vec<String> = (0..4).map(|i| format!("resized_{i}.png")).collect();
    assert_eq!(names(&out), expected);
    for name in &expected {
        assert_eq!(png_size(&out.join(name)), (128, 128));
    }
    assert!(run.stdout.contains("4 inputs: 4 saved"), "{}", run.stdout);
    assert!(run.stdout.contains("overlapped"), "{}", run.stdout);
    // Not a terminal: no progress line, nothing else on stderr.
    assert_eq!(run.stderr, "");
}

#[test]
fn json_lines_account_for_every_input_exactly_once() {
    let server = Server::start().unwrap();
    let dir = TempDir::new("json");
    let out = dir.join("out");
    let urls = [
        image_url(&server, "png", 64, 48, 1),
        server.url("/status/404"),
        image_url(&server, "jpeg", 64, 48, 2),
        server.url("/bytes/100"),
        image_url(&server, "png", 64, 48, 1),
    ];
    let mut args = vec!["--json", "--out", text(&out)];
    args.extend(urls.iter().map(String::as_str));
    let run = tandem(&args);
    assert_eq!(run.code, Some(1), "{run:?}");

    let (items, summary) = json_lines(&run.stdout);
    let indexes: Vec<u64> = items.iter().map(|item| field_u64(item, "index")).collect();
    assert_eq!(indexes, [0, 1, 2, 3, 4]);
    for (item, url) in items.iter().zip(&urls) {
        assert_eq!(item.get("url").and_then(Json::as_str), Some(url.as_str()));
        let index = field_u64(item, "index");
        let ok = item.get("ok").and_then(Json::as_bool).unwrap();
        assert_eq!(ok, index != 1 && index != 3, "{item:?}");
        if ok {
            assert_eq!(
                item.keys(),
                [
                    "index",
                    "url",
                    "ok",
                    "path",
                    "source_width",
                    "source_height",
                    "width",
                    "height",
                    "bytes",
                    "download_ms",
                    "cpu_ms",
                    "save_ms"
                ]
            );
            let path = PathBuf::from(item.get("path").and_then(Json::as_str).unwrap());
            assert_eq!(path, out.join(format!("resized_{index}.png")));
            assert_eq!(png_size(&path), (128, 128));
            assert_eq!(
                (
                    field_u64(item, "source_width"),
                    field_u64(item, "source_height")
                ),
                (64, 48)
            );
            assert_eq!(
                (field_u64(item, "width"), field_u64(item, "height")),
                (128, 128)
            );
            assert!(field_u64(item, "bytes") > 0);
            for stage in ["download_ms", "cpu_ms", "save_ms"] {
                assert!(item.get(stage).and_then(Json::as_f64).unwrap() >= 0.0);
            }
        } else {
            assert_eq!(item.keys(), ["index", "url", "ok", "error"]);
        }
    }
    let error = |index: usize| items[index].get("error").and_then(Json::as_str).unwrap();
    assert!(error(1).contains("404"), "{}", error(1));
    assert!(error(3).contains("image"), "{}", error(3));

    assert_eq!(field_u64(&summary, "total"), 5);
    assert_eq!(field_u64(&summary, "succeeded"), 3);
    assert_eq!(field_u64(&summary, "failed"), 2);
    for key in ["wall_ms", "io_ms", "cpu_ms", "overlap_ms"] {
        assert!(
            summary.get(key).and_then(Json::as_f64).unwrap() >= 0.0,
            "{key}"
        );
    }
    let wall = summary.get("wall_ms").and_then(Json::as_f64).unwrap();
    let overlap = summary.get("overlap_ms").and_then(Json::as_f64).unwrap();
    assert!(overlap <= wall);
    assert_eq!(
        names(&out),
        ["resized_0.png", "resized_2.png", "resized_4.png"]
    );
}

#[test]
fn failures_are_reported_and_the_other_inputs_written() {
    let server = Server::start().unwrap();
    let dir = TempDir::new("failures");
    let out = dir.join("out");
    let urls = [
        image_url(&server, "png", 64, 48, 1),
        server.url("/status/404"),
        refused_url(),
        server.url("/bytes/100"),
        image_url(&server, "jpeg", 48, 64, 5),
    ];
    let mut args = vec!["--out", text(&out)];
    args.extend(urls.iter().map(String::as_str));
    let run = tandem(&args);
    assert_eq!(run.code, Some(1), "{run:?}");
    let failures: Vec<&str> = run
        .stdout
        .lines()
        .filter(|line| line.starts_with("failed #"))
        .collect();
    assert_eq!(failures.len(), 3, "{}", run.stdout);
    assert!(failures[0].starts_with(&format!("failed #1 {}: ", urls[1])));
    assert!(failures[0].contains("HTTP 404"));
    assert!(failures[1].starts_with(&format!("failed #2 {}: download failed", urls[2])));
    assert!(failures[2].starts_with(&format!("failed #3 {}: image", urls[3])));
    assert!(run.stdout.contains("5 inputs: 2 saved"), "{}", run.stdout);
    assert_eq!(names(&out), ["resized_0.png", "resized_4.png"]);
    assert_eq!(png_size(&out.join("resized_4.png")), (128, 128));
}

#[test]
fn usage_errors_exit_with_2_and_a_hint() {
    let dir = TempDir::new("usage");
    let out = dir.join("out");
    let missing = dir.join("no-such-list.txt");
    let cases: [&[&str]; 10] = [
        &["--frobnicate"],
        &["--workers", "0"],
        &["--workers", "many"],
        &["--concurrency", "0"],
        &["--size", "0x5"],
        &["--size", "128"],
        &["--mode", "turbo"],
        &["--out"],
        &["--urls", text(&missing)],
        &["--urls", text(&dir.0)],
    ];
    for case in cases {
        let mut args = vec!["--out", text(&out)];
        args.extend_from_slice(case);
        let run = tandem(&args);
        assert_eq!(run.code, Some(2), "{case:?}: {run:?}");
        let lines: Vec<&str> = run.stderr.lines().collect();
        assert_eq!(lines.len(), 2, "{case:?}: {}", run.stderr);
        assert!(lines[0].starts_with("tandem: "), "{}", lines[0]);
        assert_eq!(lines[1], "try 'tandem --help'");
        assert_eq!(run.stdout, "");
    }
    // Nothing was written.
    assert_eq!(names(&dir.0), Vec::<String>::new());
}

#[test]
fn help_and_version_exit_with_0() {
    let help = tandem(&["--help"]);
    assert_eq!(help.code, Some(0));
    assert!(help.stdout.starts_with("tandem: "));
    assert!(help.stdout.contains("Usage: tandem [OPTIONS] [URL ...]"));
    for option in [
        "--urls",
        "--out",
        "--size",
        "--fit",
        "--workers",
        "--concurrency",
        "--mode",
        "--max-side",
        "--max-output-side",
        "--max-output-pixels",
        "--cacert",
        "--timeline",
        "--json",
    ] {
        assert!(help.stdout.contains(option), "{option}");
    }
    let version = tandem(&["-V"]);
    assert_eq!(version.code, Some(0));
    assert_eq!(
        version.stdout,
        format!("tandem {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn a_hostile_url_list_gives_one_outcome_per_line_and_writes_only_in_out() {
    let server = Server::start().unwrap();
    let dir = TempDir::new("hostile");
    let out = dir.join("out");
    let good = image_url(&server, "png", 64, 48, 7);
    let list = dir.join("urls.txt");
    let inputs = [
        good.clone(),
        good.clone(),
        "not a url".to_string(),
        "file:///etc/passwd".to_string(),
        "ftp://x".to_string(),
        server.url("/image/png?w=8&h=8&name=../../escaped.png"),
        server.url("/../../etc/passwd"),
        "http://".to_string(),
        "javascript:alert(1)".to_string(),
        "http://127.0.0.1:0/".to_string(),
        good.clone(),
    ];
    let mut file = String::from("# a list with everything wrong in it\n\n");
    for (n, input) in inputs.iter().enumerate() {
        file.push_str(input);
        file.push_str(if n % 3 == 0 {
            "\r\n\n   \n"
        } else {
            "\n# comment\n"
        });
    }
    fs::write(&list, file).unwrap();
    let before = names(&dir.0);

    let run = tandem(&["--json", "--out", text(&out), "--urls", text(&list)]);
    assert_eq!(run.code, Some(1), "{run:?}");
    let (items, summary) = json_lines(&run.stdout);
    assert_eq!(items.len(), inputs.len());
    assert_eq!(field_u64(&summary, "total"), inputs.len() as u64);
    let mut saved = BTreeSet::new();
    for (index, (item, input)) in items.iter().zip(&inputs).enumerate() {
        assert_eq!(field_u64(item, "index"), index as u64);
        assert_eq!(item.get("url").and_then(Json::as_str), Some(input.as_str()));
        if item.get("ok") == Some(&Json::Bool(true)) {
            saved.insert(format!("resized_{index}.png"));
        }
    }
    // The good URL, three times, and the harmless `name=` query.
    let expected: BTreeSet<String> = [0, 1, 5, 10].map(|i| format!("resized_{i}.png")).into();
    assert_eq!(saved, expected);
    for bad in [2, 3, 4, 6, 7, 8, 9] {
        assert_eq!(
            items[bad].get("ok"),
            Some(&Json::Bool(false)),
            "{:?}",
            items[bad]
        );
    }

    // Only `out` appeared next to the list, and it holds only the outputs.
    let mut after_expected = before.clone();
    after_expected.push("out".to_string());
    after_expected.sort();
    assert_eq!(names(&dir.0), after_expected);
    assert_eq!(names(&out), expected.into_iter().collect::<Vec<_>>());
}

#[test]
fn a_second_run_replaces_the_files_of_the_first() {
    let server = Server::start().unwrap();
    let dir = TempDir::new("rerun");
    let out = dir.join("out");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("resized_0.png"), "stale, not a PNG").unwrap();
    fs::write(out.join("notes.txt"), "kept").unwrap();
    let url = image_url(&server, "png", 64, 48, 9);
    for size in ["32x16", "128x128"] {
        let run = tandem(&["--out", text(&out), "--size", size, &url, &url]);
        assert_eq!(run.code, Some(0), "{run:?}");
    }
    assert_eq!(names(&out), ["notes.txt", "resized_0.png", "resized_1.png"]);
    assert_eq!(png_size(&out.join("resized_0.png")), (128, 128));
    assert_eq!(png_size(&out.join("resized_1.png")), (128, 128));
    assert_eq!(fs::read_to_string(out.join("notes.txt")).unwrap(), "kept");
}

#[test]
fn size_and_fit_shape_the_output() {
    let server = Server::start().unwrap();
    let dir = TempDir::new("fit");
    let out = dir.join("out");
    let wide = image_url(&server, "png", 64, 32, 1);
    let tall = image_url(&server, "jpeg", 30, 60, 2);
    let run = tandem(&[
        "--out",
        text(&out),
        "--size",
        "40x30",
        "--fit",
        &wide,
        &tall,
    ]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(png_size(&out.join("resized_0.png")), (40, 20));
    assert_eq!(png_size(&out.join("resized_1.png")), (15, 30));
}

#[test]
fn max_side_refuses_large_images_before_decoding() {
    let server = Server::start().unwrap();
    let dir = TempDir::new("max-side");
    let out = dir.join("out");
    let small = image_url(&server, "png", 50, 40, 1);
    let large = image_url(&server, "png", 200, 40, 2);
    let run = tandem(&[
        "--json",
        "--max-side",
        "100",
        "--out",
        text(&out),
        &small,
        &large,
    ]);
    assert_eq!(run.code, Some(1), "{run:?}");
    let (items, _) = json_lines(&run.stdout);
    assert_eq!(items[0].get("ok"), Some(&Json::Bool(true)));
    let error = items[1].get("error").and_then(Json::as_str).unwrap();
    assert!(error.contains("200x40"), "{error}");
}

#[test]
fn the_timeline_has_a_row_per_worker() {
    let server = Server::start().unwrap();
    let dir = TempDir::new("timeline");
    let out = dir.join("out");
    let svg = dir.join("run.svg");
    let mut args = vec![
        "--workers",
        "3",
        "--out",
        text(&out),
        "--timeline",
        text(&svg),
    ];
    let urls: Vec<String> = (0..6)
        .map(|seed| image_url(&server, "png", 96, 64, seed))
        .collect();
    args.extend(urls.iter().map(String::as_str));
    args.push("ftp://x");
    let run = tandem(&args);
    assert_eq!(run.code, Some(1), "{run:?}");
    let drawing = fs::read_to_string(&svg).unwrap();
    assert!(drawing.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(drawing.trim_end().ends_with("</svg>"));
    assert_eq!(drawing.matches("<g class=\"row worker\">").count(), 3);
    assert_eq!(drawing.matches("<g class=\"row downloads\">").count(), 1);
    // A bar per stage of each saved input: download, decode, resize,
    // encode, save.
    for index in 0..6 {
        for stage in ["download", "decode", "resize", "encode", "save"] {
            assert!(
                drawing.contains(&format!("<title>#{index} {stage}: ")),
                "#{index} {stage}"
            );
        }
    }
    // Written atomically: no temporary file left beside it.
    assert_eq!(names(&dir.0), ["out", "run.svg"]);
}

#[test]
fn without_urls_the_demo_server_is_used() {
    let dir = TempDir::new("demo");
    let out = dir.join("out");
    let run = tandem(&["--json", "--size", "16x16", "--out", text(&out)]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stderr.contains("demo server"), "{}", run.stderr);
    let (items, summary) = json_lines(&run.stdout);
    assert_eq!(items.len(), 12);
    assert_eq!(field_u64(&summary, "succeeded"), 12);
    let expected: Vec<String> = (0..12).map(|i| format!("resized_{i}.png")).collect();
    let mut written = names(&out);
    written.sort_by_key(|name| name.len());
    assert_eq!(written, expected);
}

#[test]
fn demo_flags_shape_the_run_and_the_summary_reports_the_window() {
    let dir = TempDir::new("demo-flags");
    let out = dir.join("out");
    let args = [
        "--size",
        "16x16",
        "--out",
        text(&out),
        "--demo-images",
        "3",
        "--demo-delay",
        "5-20",
    ];
    let run = tandem(&args);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stderr.contains("5-20 ms late"), "{}", run.stderr);
    assert!(run.stdout.contains("download window"), "{}", run.stdout);
    assert!(
        run.stdout.contains("end to end ") && run.stdout.contains("overlapped"),
        "{}",
        run.stdout
    );
    assert_eq!(names(&out).len(), 3);

    let fixed = [
        "--json",
        "--demo-delay",
        "0",
        "--concurrency",
        "2",
        "--max-buffered",
        "4M",
    ];
    let run = tandem(&[&args[..], &fixed[..]].concat());
    assert_eq!(run.code, Some(0), "{run:?}");
    let (items, summary) = json_lines(&run.stdout);
    assert_eq!(items.len(), 3);
    assert_eq!(
        summary.get("window_adaptive").and_then(Json::as_bool),
        Some(false)
    );
    assert_eq!(field_u64(&summary, "window_max"), 2);
    assert_eq!(field_u64(&summary, "max_buffered_bytes"), 4 << 20);
    assert!(field_u64(&summary, "buffered_peak_bytes") > 0);
    assert!(summary.get("window_mean").and_then(Json::as_f64).is_some());
}
