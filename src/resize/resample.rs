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
use fast_image_resize::pixels::{U8x3, U8x4};
use fast_image_resize::{
    IntoImageView, IntoImageViewMut, PixelTrait, PixelType, ResizeAlg, ResizeOptions, Resizer,
};
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
    if pixels.has_alpha() {
        resize_as::<U8x4>(&source, &mut output, &options);
    } else {
        resize_as::<U8x3>(&source, &mut output, &options);
    }
    let samples = output.into_vec();
    let resized = if pixels.has_alpha() {
        ImageBuffer::from_raw(width, height, samples).map(Pixels::Rgba8)
    } else {
        ImageBuffer::from_raw(width, height, samples).map(Pixels::Rgb8)
    };
    Ok(resized.expect("the resizer's buffer holds width * height pixels"))
}

/// The resize itself, for the one pixel type `P` that `source` and `output`
/// hold.
///
/// `Resizer::resize` would find the type at run time, but it then carries
/// the code for all thirteen of fast_image_resize's pixel types (each for
/// every SIMD level): 450 KB of the stripped CLI. Naming the two types
/// tandem uses keeps the same code path for them and drops the others.
fn resize_as<P: PixelTrait>(
    source: &ImageRef<'_>,
    output: &mut Image<'_>,
    options: &ResizeOptions,
) {
    // Both images were made with the pixel type `P` stands for.
    let source = source.image_view::<P>().expect("the source holds P pixels");
    let mut target = output
        .image_view_mut::<P>()
        .expect("the output holds P pixels");
    // Fails only for an invalid crop, and both images are used whole.
    Resizer::new()
        .resize_typed(&source, &mut target, options)
        .expect("no crop");
}
