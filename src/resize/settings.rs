//! What to make of an image: target size, fit, filter, decode limits.
//!
//! The defaults reproduce the Python article's
//! `Image.open(io.BytesIO(data)).resize((128, 128))`: a 128 x 128 output,
//! stretched to that size, with a bicubic filter. The decode limits are
//! tandem's answer to Pillow's `Image.MAX_IMAGE_PIXELS` bomb check; the
//! output's pixel bound is the same guard for the size asked for, so that no
//! setting makes the resizer allocate more than memory holds.

use fast_image_resize::FilterType;
use image::Limits;

use super::ResizeError;

/// The largest width, and the largest height, decoded by default.
pub const DEFAULT_MAX_SIDE: u32 = 16_384;
/// The most bytes the decoded pixels may take by default: 512 MiB.
pub const DEFAULT_MAX_ALLOC: u64 = 512 * 1024 * 1024;
/// The most pixels an output may have by default: 4096 x 4096, 64 MiB as
/// RGBA.
pub const DEFAULT_MAX_OUTPUT_PIXELS: u64 = 16_777_216;

/// How the image is fitted into the target width and height.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Fit {
    /// Exactly the target size, stretching if the aspect ratios differ:
    /// Pillow's `img.resize((w, h))`.
    #[default]
    Exact,
    /// The largest size that fits inside the target and keeps the source's
    /// aspect ratio; one side equals the target's. Small images are scaled
    /// up, as CSS's `object-fit: contain` does (Pillow's `thumbnail()` only
    /// shrinks).
    Contain,
}

/// Settings of [`process`](super::process) and its stages.
///
/// ```
/// use tandem::resize::{Fit, Settings};
///
/// // The article's `resize((128, 128))`, but keeping the aspect ratio.
/// let settings = Settings { fit: Fit::Contain, ..Settings::new(128, 128) };
/// assert_eq!(settings.output_size((1920, 1080)), Ok((128, 72)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Target width in pixels.
    pub width: u32,
    /// Target height in pixels.
    pub height: u32,
    /// How the image fits into `width` x `height`.
    pub fit: Fit,
    /// The resampling filter. Default: [`FilterType::CatmullRom`], the
    /// bicubic filter (a = -0.5) that Pillow's `resize` uses by default.
    /// Like Pillow's, the filter is widened when shrinking, so every source
    /// pixel counts (no aliasing).
    pub filter: FilterType,
    /// Bounds on what decoding may allocate. Default: at most
    /// [`DEFAULT_MAX_SIDE`] pixels wide and high, and [`DEFAULT_MAX_ALLOC`]
    /// bytes of decoded pixels.
    pub limits: Limits,
    /// The most pixels (width x height) the output may have; a larger
    /// target is [`ResizeError::OutputTooLarge`], refused before decoding.
    /// Default: [`DEFAULT_MAX_OUTPUT_PIXELS`].
    pub max_output_pixels: u64,
}

impl Settings {
    /// `width` x `height`, [`Fit::Exact`], bicubic, default limits.
    pub fn new(width: u32, height: u32) -> Settings {
        let mut limits = Limits::default();
        limits.max_image_width = Some(DEFAULT_MAX_SIDE);
        limits.max_image_height = Some(DEFAULT_MAX_SIDE);
        limits.max_alloc = Some(DEFAULT_MAX_ALLOC);
        Settings {
            width,
            height,
            fit: Fit::Exact,
            filter: FilterType::CatmullRom,
            limits,
            max_output_pixels: DEFAULT_MAX_OUTPUT_PIXELS,
        }
    }

    /// The size of the output for a `source` of (width, height).
    ///
    /// [`ResizeError::ZeroSize`] if the target or the source has no pixels,
    /// [`ResizeError::OutputTooLarge`] if the target has more than
    /// [`Settings::max_output_pixels`].
    /// With [`Fit::Contain`] the side that does not touch the target is
    /// rounded to the nearest pixel, and is at least one pixel.
    pub fn output_size(&self, source: (u32, u32)) -> Result<(u32, u32), ResizeError> {
        let target = self.target_size()?;
        let (source_width, source_height) = source;
        if source_width == 0 || source_height == 0 {
            return Err(ResizeError::ZeroSize);
        }
        match self.fit {
            Fit::Exact => Ok(target),
            Fit::Contain => Ok(contain(source, target)),
        }
    }

    /// The target (width, height), or [`ResizeError::ZeroSize`], or
    /// [`ResizeError::OutputTooLarge`].
    pub(crate) fn target_size(&self) -> Result<(u32, u32), ResizeError> {
        if self.width == 0 || self.height == 0 {
            return Err(ResizeError::ZeroSize);
        }
        if u64::from(self.width) * u64::from(self.height) > self.max_output_pixels {
            return Err(ResizeError::OutputTooLarge {
                width: self.width,
                height: self.height,
                max_pixels: self.max_output_pixels,
            });
        }
        Ok((self.width, self.height))
    }
}

impl Default for Settings {
    /// The Python article's 128 x 128.
    fn default() -> Settings {
        Settings::new(128, 128)
    }
}

/// The largest size inside `target` with the aspect ratio of `source`.
/// Both sizes are non-zero.
fn contain(source: (u32, u32), target: (u32, u32)) -> (u32, u32) {
    let (source_width, source_height) = (u64::from(source.0), u64::from(source.1));
    let (target_width, target_height) = (u64::from(target.0), u64::from(target.1));
    // Integer arithmetic, so that no float rounding decides which side
    // touches the target. `(a + b / 2) / b` is a / b rounded to nearest.
    let scaled = |side: u64, numerator: u64, denominator: u64| -> u32 {
        let rounded = (side * numerator + denominator / 2) / denominator;
        // At most the target side, which is a u32.
        u32::try_from(rounded.max(1)).unwrap_or(u32::MAX)
    };
    if source_width * target_height >= target_width * source_height {
        // Relatively wider than the target: the width touches.
        (target.0, scaled(source_height, target_width, source_width))
    } else {
        (scaled(source_width, target_height, source_height), target.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contain_size(
        width: u32,
        height: u32,
        source: (u32, u32),
    ) -> Result<(u32, u32), ResizeError> {
        // No pixel bound: these test the arithmetic, up to u32::MAX.
        Settings {
            fit: Fit::Contain,
            max_output_pixels: u64::MAX,
            ..Settings::new(width, height)
        }
        .output_size(source)
    }

    #[test]
    fn exact_ignores_the_aspect_ratio() {
        assert_eq!(
            Settings::new(128, 128).output_size((1920, 1080)),
            Ok((128, 128))
        );
        assert_eq!(Settings::new(128, 128).output_size((1, 1)), Ok((128, 128)));
    }

    #[test]
    fn contain_keeps_the_aspect_ratio() {
        assert_eq!(contain_size(128, 128, (1920, 1080)), Ok((128, 72)));
        assert_eq!(contain_size(128, 128, (1080, 1920)), Ok((72, 128)));
        assert_eq!(contain_size(128, 128, (500, 500)), Ok((128, 128)));
        assert_eq!(contain_size(200, 100, (400, 200)), Ok((200, 100)));
        // 10 * 128 / 1000 = 1.28: rounded, and never below one pixel.
        assert_eq!(contain_size(128, 128, (1000, 10)), Ok((128, 1)));
        assert_eq!(contain_size(128, 128, (100_000, 1)), Ok((128, 1)));
        // Small sources are scaled up.
        assert_eq!(contain_size(128, 128, (32, 16)), Ok((128, 64)));
        // Extreme sizes do not overflow.
        assert_eq!(contain_size(u32::MAX, 1, (u32::MAX, u32::MAX)), Ok((1, 1)));
    }

    #[test]
    fn outputs_over_the_pixel_bound_are_errors() {
        let huge = Settings::new(100_000, 100_000);
        let refused = Err(ResizeError::OutputTooLarge {
            width: 100_000,
            height: 100_000,
            max_pixels: DEFAULT_MAX_OUTPUT_PIXELS,
        });
        assert_eq!(huge.output_size((10, 10)), refused);
        assert_eq!(
            Settings::new(4096, 4096).output_size((1, 1)),
            Ok((4096, 4096))
        );
        let small = Settings {
            max_output_pixels: 100,
            ..Settings::new(10, 11)
        };
        assert!(matches!(
            small.output_size((1, 1)),
            Err(ResizeError::OutputTooLarge {
                max_pixels: 100,
                ..
            })
        ));
    }

    #[test]
    fn zero_sizes_are_errors() {
        assert_eq!(
            Settings::new(0, 128).output_size((10, 10)),
            Err(ResizeError::ZeroSize)
        );
        assert_eq!(contain_size(128, 0, (10, 10)), Err(ResizeError::ZeroSize));
        assert_eq!(
            Settings::new(128, 128).output_size((0, 10)),
            Err(ResizeError::ZeroSize)
        );
    }
}
