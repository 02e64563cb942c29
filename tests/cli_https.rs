//! The `tandem` command over https, against a TLS server on 127.0.0.1 whose
//! certificate authority is made when the test starts
//! (tests/support/tls_server.rs), trusted with `--cacert`.

#![cfg(all(feature = "cli", feature = "tls"))]

mod support;

use std::fs;
use std::io::Cursor;

use support::cli_run::{TempDir, tandem, text};
use support::tls_server::{TestCa, TlsServer, chunked_ok, ok};

/// A 200 x 100 PNG.
fn png() -> Vec<u8> {
    let picture = image::RgbImage::from_fn(200, 100, |x, y| image::Rgb([x as u8, y as u8, 7]));
    let mut bytes = Vec::new();
    picture
        .write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
        .unwrap();
    bytes
}

/// A server signed by `ca` serving the PNG at `/length` (Content-Length)
/// and, chunked, anywhere else.
fn image_server(ca: &TestCa) -> TlsServer {
    let image = png();
    TlsServer::start(&ca.leaf(&["127.0.0.1"]), move |path| {
        if path == "/length" {
            ok(&image)
        } else {
            chunked_ok(&image, 1000)
        }
    })
}

#[test]
fn images_over_https_are_saved_with_cacert() {
    let ca = TestCa::new();
    let server = image_server(&ca);
    let dir = TempDir::new("https-ok");
    let roots = dir.join("roots.pem");
    fs::write(&roots, ca.pem()).unwrap();
    let out = dir.join("out");
    let (length, chunked) = (server.url("/length"), server.url("/chunked"));
    let run = tandem(&[
        "--cacert",
        text(&roots),
        "--out",
        text(&out),
        &length,
        &chunked,
    ]);
    assert_eq!(run.code, Some(0), "{run:?}");
    for name in ["resized_0.png", "resized_1.png"] {
        let saved = image::open(out.join(name)).unwrap();
        assert_eq!((saved.width(), saved.height()), (128, 128));
    }
}

#[test]
fn without_cacert_a_private_authority_is_refused_with_the_reason() {
    let ca = TestCa::new();
    let server = image_server(&ca);
    let dir = TempDir::new("https-untrusted");
    let out = dir.join("out");
    let run = tandem(&["--out", text(&out), &server.url("/length")]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stdout.contains(
            "the certificate of 127.0.0.1 was refused: it is not signed by a trusted root"
        ),
        "{}",
        run.stdout
    );
    assert_eq!(fs::read_dir(&out).unwrap().count(), 0);
}

#[test]
fn a_bad_cacert_is_a_usage_error_before_any_download() {
    let ca = TestCa::new();
    let server = image_server(&ca);
    let dir = TempDir::new("https-bad-cacert");
    let garbage = dir.join("garbage.pem");
    fs::write(&garbage, "not a certificate\n").unwrap();
    let missing = dir.join("missing.pem");
    for (roots, reason) in [
        (&garbage, "invalid root certificate"),
        (&missing, "cannot read --cacert"),
    ] {
        let run = tandem(&[
            "--cacert",
            text(roots),
            "--out",
            text(&dir.join("out")),
            &server.url("/"),
        ]);
        assert_eq!(run.code, Some(2), "{run:?}");
        assert!(run.stderr.contains(reason), "{}", run.stderr);
    }
    assert_eq!(server.accepted(), 0);
}
