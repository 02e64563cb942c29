//! The CPU side of the image pipeline: decode, resize, encode as PNG.
//!
//! # Why
//!
//! In the Python article each downloaded image goes to a process pool:
//!
//! ```python
//! def resize(data, i):
//!     img = Image.open(io.BytesIO(data)).resize((128, 128))
//!     img.save(f"resized_{i}.png")
//! ```
//!
//! This is the work that must stay off the event loop: tens of milliseconds
//! of pure computation per image. In tandem it is [`process`], a plain
//! synchronous function that a [`CpuPool`](crate::CpuPool) worker runs:
//!
//! ```no_run
//! # async fn example(pool: &tandem::CpuPool, data: Vec<u8>) -> Result<(), Box<dyn std::error::Error>> {
//! use tandem::resize::{process, Settings};
//!
//! let thumbnail = pool.run(move || process(&data, &Settings::new(128, 128))).await??;
//! tandem::unblock(move || std::fs::write("resized_0.png", thumbnail.png)).await?;
//! # Ok(())
//! # }
//! ```
//!
//! # How
//!
//! ```text
//!  bytes ──decode──► Pixels (RGB8/RGBA8) ──resize──► Pixels ──encode_png──► PNG bytes
//!        PNG or JPEG,         fast_image_resize,            png crate
//!        within Limits        bicubic by default
//! ```
//!
//! Each stage is a public function ([`decode`], [`resize`], [`encode_png`]),
//! so that each can be measured alone; [`process`] runs the three and times
//! them. Decoding dominates: for a 1920 x 1080 JPEG it is close to 90% of
//! the time, and the whole costs under half of what Pillow needs
//! (docs/resize-measurements.md).
//! Bad input (not an image, truncated, a header claiming 100000 x 100000
//! pixels, zero pixels) is a [`ResizeError`], never a panic.

mod decode;
mod encode;
mod error;
mod pixels;
mod resample;
mod settings;

use std::time::{Duration, Instant};

pub use decode::decode;
pub use encode::encode_png;
pub use error::ResizeError;
/// The resampling filters; re-exported from `fast_image_resize`.
pub use fast_image_resize::FilterType;
/// Decode limits; re-exported from `image`.
pub use image::Limits;
pub use pixels::Pixels;
pub use resample::resize;
pub use settings::{DEFAULT_MAX_ALLOC, DEFAULT_MAX_OUTPUT_PIXELS, DEFAULT_MAX_SIDE, Fit, Settings};

/// The result of [`process`]: a PNG file and how it was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Processed {
    /// The encoded PNG file.
    pub png: Vec<u8>,
    /// The (width, height) of the decoded source image.
    pub source_size: (u32, u32),
    /// The (width, height) of the PNG.
    pub output_size: (u32, u32),
    /// How long each stage took.
    pub timings: StageTimings,
}

/// Wall-clock time of each stage of [`process`]. The stages run on one
/// thread without waiting for I/O, so on an idle machine this is their CPU
/// time; when threads outnumber cores it also counts time spent waiting
/// for a core.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StageTimings {
    /// Time in [`decode`].
    pub decode: Duration,
    /// Time in [`resize`].
    pub resize: Duration,
    /// Time in [`encode_png`].
    pub encode: Duration,
}

impl StageTimings {
    /// The three stages together.
    pub fn total(&self) -> Duration {
        self.decode + self.resize + self.encode
    }
}

/// Decodes a PNG or JPEG image, resizes it and encodes it as PNG: the body of
/// the article's `resize(data, i)`, minus the file write.
///
/// A zero target size, or one over [`Settings::max_output_pixels`], is
/// refused before any decoding.
///
/// ```
/// use tandem::resize::{process, Settings};
///
/// let mut jpeg = Vec::new();
/// let photo = image::RgbImage::from_fn(640, 480, |x, y| image::Rgb([x as u8, y as u8, 128]));
/// photo.write_to(&mut std::io::Cursor::new(&mut jpeg), image::ImageFormat::Jpeg)?;
///
/// let thumbnail = process(&jpeg, &Settings::new(128, 128))?;
/// assert_eq!(thumbnail.source_size, (640, 480));
/// assert_eq!(thumbnail.output_size, (128, 128));
/// assert!(thumbnail.png.starts_with(b"\x89PNG"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
// ANCHOR: process
pub fn process(bytes: &[u8], settings: &Settings) -> Result<Processed, ResizeError> {
    settings.target_size()?;
    let started = Instant::now();
    let decoded = decode(bytes, &settings.limits)?;
    let decoded_at = Instant::now();
    let resized = resize(&decoded, settings)?;
    let resized_at = Instant::now();
    let png = encode_png(&resized)?;
    let encoded_at = Instant::now();
    Ok(Processed {
        png,
        source_size: decoded.dimensions(),
        output_size: resized.dimensions(),
        timings: StageTimings {
            decode: decoded_at - started,
            resize: resized_at - decoded_at,
            encode: encoded_at - resized_at,
        },
    })
}
// ANCHOR_END: process
