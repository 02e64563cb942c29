//! Bad images through `tandem::resize::process`, alone and on the CPU pool.
//!
//! # Why
//!
//! Downloaded bytes are untrusted: cut short, mislabelled, or crafted to
//! make a decoder allocate gigabytes (a "decompression bomb"). Each must
//! end as one typed [`ResizeError`], never a panic nor a huge allocation,
//! and on the pool one bad image must not cost the batch: the other jobs
//! of the same batch still succeed and every worker survives.
//!
//! # How
//!
//! [`bad_inputs`] builds every fault from a real encoded image (truncated
//! at several points, magic bytes changed, header dimensions patched) and
//! says which error it must give. The same list is checked sequentially,
//! then as one batch interleaved with good images on a [`CpuPool`].
#![cfg(feature = "image")]

mod support;

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, RgbImage};
use support::images::{jpeg_claiming, png_claiming};
use tandem::CpuPool;
use tandem::resize::{ResizeError, Settings, process};

/// A small picture with some structure, encoded as `format`.
fn encoded(format: ImageFormat) -> Vec<u8> {
    let picture = RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 4, y as u8 * 5, 90]));
    let mut bytes = Vec::new();
    DynamicImage::ImageRgb8(picture)
        .write_to(&mut Cursor::new(&mut bytes), format)
        .unwrap();
    bytes
}

/// The error a bad input must give. `Decode` carries the decoder's own
/// message, so only its variant is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expected {
    Unsupported,
    Decode,
    TooLarge(u32, u32),
}

impl Expected {
    fn matches(self, error: &ResizeError) -> bool {
        match (self, error) {
            (Expected::Unsupported, ResizeError::UnsupportedFormat)
            | (Expected::Decode, ResizeError::Decode(_)) => true,
            (Expected::TooLarge(w, h), ResizeError::TooLarge { width, height }) => {
                (w, h) == (*width, *height)
            }
            _ => false,
        }
    }
}

/// One bad input: a name for messages, its bytes, the error it must give.
struct Case {
    name: String,
    bytes: Vec<u8>,
    expected: Expected,
}

fn case(name: impl Into<String>, bytes: Vec<u8>, expected: Expected) -> Case {
    Case {
        name: name.into(),
        bytes,
        expected,
    }
}

/// Every fault this file tries.
fn bad_inputs() -> Vec<Case> {
    let png = encoded(ImageFormat::Png);
    let jpeg = encoded(ImageFormat::Jpeg);
    let idat = png.windows(4).position(|w| w == b"IDAT").unwrap();
    let mut cases = Vec::new();

    // Truncated: in the signature's wake, the header, and the pixel data.
    for cut in [8, 20, 33, idat + 6, idat + 40, png.len() / 2] {
        cases.push(case(
            format!("PNG cut at {cut}"),
            png[..cut].to_vec(),
            Expected::Decode,
        ));
    }
    // A JPEG needs its end-of-image marker after the last scan.
    for cut in [
        3,
        20,
        jpeg.len() / 4,
        jpeg.len() / 2,
        jpeg.len() - 2,
        jpeg.len() - 1,
    ] {
        cases.push(case(
            format!("JPEG cut at {cut}"),
            jpeg[..cut].to_vec(),
            Expected::Decode,
        ));
    }

    // Wrong magic bytes: sniffed, refused before any decoder runs.
    let mut png_bad_magic = png.clone();
    png_bad_magic[1] = b'Q';
    let mut jpeg_bad_magic = jpeg.clone();
    jpeg_bad_magic[2] = 0x00;
    for (name, bytes) in [
        ("PNG with a changed signature byte", png_bad_magic),
        ("JPEG without a marker after SOI", jpeg_bad_magic),
        ("GIF", b"GIF89a\x01\x00\x01\x00\x00\x00\x00".to_vec()),
        (
            "BMP",
            b"BM\x36\x00\x00\x00\x00\x00\x00\x00\x36\x00".to_vec(),
        ),
        ("WebP", b"RIFF\x24\x00\x00\x00WEBPVP8 ".to_vec()),
        (
            "an HTML error page",
            b"<html><body>404</body></html>".to_vec(),
        ),
        ("nothing", Vec::new()),
    ] {
        cases.push(case(name, bytes, Expected::Unsupported));
    }

    // Decompression bombs: a few bytes claiming billions of pixels. Over the
    // side limit (16384), or within it but over the allocation budget.
    for (width, height) in [(65_000, 65_000), (16_384, 16_384), (1, 16_385)] {
        cases.push(case(
            format!("PNG claiming {width}x{height}"),
            png_claiming(width, height),
            Expected::TooLarge(width, height),
        ));
    }
    for (width, height) in [(65_000, 65_000), (16_000, 16_000)] {
        cases.push(case(
            format!("JPEG claiming {width}x{height}"),
            jpeg_claiming(&jpeg, width, height),
            Expected::TooLarge(u32::from(width), u32::from(height)),
        ));
    }

    // No pixels at all. Behaviour: both decoders refuse a zero dimension
    // in the header themselves ("Invalid image dimensions"), so this is
    // `Decode`; `ZeroSize` is what a zero *target* size gives.
    cases.push(case("PNG of 0x0", png_claiming(0, 0), Expected::Decode));
    cases.push(case("PNG of 0x10", png_claiming(0, 10), Expected::Decode));
    cases.push(case(
        "JPEG of 0x0",
        jpeg_claiming(&jpeg, 0, 0),
        Expected::Decode,
    ));
    cases
}

fn settings() -> Settings {
    Settings::new(32, 32)
}

#[track_caller]
fn check(case: &Case, result: Result<(u32, u32), ResizeError>) {
    match result {
        Err(error) if case.expected.matches(&error) => {}
        other => panic!("{}: expected {:?}, got {other:?}", case.name, case.expected),
    }
}

#[test]
fn every_bad_input_is_a_typed_error() {
    let cases = bad_inputs();
    assert!(cases.len() >= 25);
    for case in &cases {
        let result = process(&case.bytes, &settings()).map(|processed| processed.output_size);
        check(case, result);
    }
}

#[test]
fn bombs_are_refused_without_allocating_their_pixels() {
    // Refusing from the header is instant; decoding 65000 x 65000 pixels
    // would take minutes and 12 GB. A generous bound still tells them apart.
    let started = std::time::Instant::now();
    for case in bad_inputs()
        .iter()
        .filter(|case| matches!(case.expected, Expected::TooLarge(..)))
    {
        check(
            case,
            process(&case.bytes, &settings()).map(|p| p.output_size),
        );
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

/// `process` on a pool worker; the output size, or the error.
fn resize_on(
    pool: &CpuPool,
    bytes: Vec<u8>,
) -> impl std::future::Future<Output = Result<Result<(u32, u32), ResizeError>, tandem::JobError>> {
    pool.run(move || process(&bytes, &settings()).map(|processed| processed.output_size))
}

#[test]
fn bad_inputs_on_the_pool_leave_the_rest_of_the_batch_intact() {
    let good = [encoded(ImageFormat::Png), encoded(ImageFormat::Jpeg)];
    let cases = bad_inputs();
    let pool = CpuPool::new(2).unwrap();
    // A good image between every two bad ones, all in one batch.
    let jobs = cases.iter().enumerate().flat_map(|(i, case)| {
        let bad = case.bytes.clone();
        let good = good[i % 2].clone();
        [resize_on(&pool, bad), resize_on(&pool, good)]
    });
    let results = tandem::block_on(tandem::join_all(jobs));
    for (i, pair) in results.chunks(2).enumerate() {
        let bad = pair[0].clone().expect("the job ran and returned");
        check(&cases[i], bad);
        assert_eq!(
            pair[1],
            Ok(Ok((32, 32))),
            "good image next to {}",
            cases[i].name
        );
    }
    let stats = pool.shutdown();
    assert_eq!(stats.completed, 2 * cases.len() as u64);
    assert_eq!(stats.panicked, 0);
}
