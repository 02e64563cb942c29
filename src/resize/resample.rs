//! Stage 2, resize: [`Pixels`] to the size the [`Settings`] ask for.
//!
//! # Why
//!
//! Shrinking a photo to a thumbnail must look at every source pixel, or the
//! result shimmers (aliasing). Pillow's `resize` does it with a convolution
//! whose filter widens with the shrink factor; so does `fast_image_resize`,
//! with SIMD (SSE4.1/AVX2 on x86-64, NEON on ARM): about ten times faster
//! than Pillow with the same filter (docs/resize-measurements.md).
//!
//! # How
//!
//! One call to `fast_image_resize`, on the pixels' own buffer. With alpha,
//! the colors are multiplied by alpha before filtering and divided after (the
//! resizer's default, as Pillow does through its `RGBa` mode): otherwise the
//! invisible color of transparent pixels would bleed into visible ones.
//!
//! A new `Resizer` per call: its scratch buffers are small next to the
//! source image, and a worker thread then holds nothing between jobs.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::ImageBuffer;

use super::{Pixels, ResizeError, Settings};

/// Resizes `pixels` to [`Settings::output_size`], with `settings.filter`.
///
/// ```
/// use tandem::resize::{resize, Pixels, Settings};
///
/// let photo = Pixels::Rgb8(image::RgbImage::new(1920, 1080));
/// let thumbnail = resize(&photo, &Settings::new(128, 128))?;
/// assert_eq!(thumbnail.dimensions(), (128, 128));
/// # Ok::<(), tandem::resize::ResizeError>(())
/// ```
pub fn resize(pixels: &Pixels, settings: &Settings) -> Result<Pixels, ResizeError> {
    let (source_width, source_height) = pixels.dimensions();
    let (width, height) = settings.output_size((source_width, source_height))?;
    let pixel_type = if pixels.has_alpha() {
        PixelType::U8x4
    } else {
        PixelType::U8x3
    };
    // `ImageBuffer` guarantees width * height * channels bytes, and u8
    // samples need no alignment, so neither constructor can fail.
    let source = ImageRef::new(source_width, source_height, pixels.as_bytes(), pixel_type)
        .expect("an ImageBuffer holds exactly its pixels");
    let mut output = Image::new(width, height, pixel_type);
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(settings.filter));
    // Fails only for mismatched pixel types or an invalid crop, and both
    // images share one pixel type and are used whole.
    Resizer::new()
        .resize(&source, &mut output, &options)
        .expect("same pixel type, no crop");
    let samples = output.into_vec();
    let resized = if pixels.has_alpha() {
        ImageBuffer::from_raw(width, height, samples).map(Pixels::Rgba8)
    } else {
        ImageBuffer::from_raw(width, height, samples).map(Pixels::Rgb8)
    };
    Ok(resized.expect("the resizer's buffer holds width * height pixels"))
}
