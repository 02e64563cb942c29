//! The one pixel format the three stages pass along: 8-bit RGB or RGBA.
//!
//! PNG alone has ten pixel layouts (gray, gray + alpha, palette, RGB, RGBA,
//! each in 8 or 16 bits), JPEG adds CMYK. Converting every decoded image to
//! one of two layouts right away means the resizer and the encoder handle
//! exactly two cases, like Pillow's `RGB` and `RGBA` modes. Alpha is kept
//! only when the source has it, so opaque images cost 3 bytes a pixel, not 4.

use image::{DynamicImage, RgbImage, RgbaImage};

/// Decoded or resized pixels, 8 bits per channel.
#[derive(Debug, Clone, PartialEq)]
pub enum Pixels {
    /// An image without transparency.
    Rgb8(RgbImage),
    /// An image with an alpha channel (straight, not premultiplied).
    Rgba8(RgbaImage),
}

impl Pixels {
    /// Width and height in pixels.
    pub fn dimensions(&self) -> (u32, u32) {
        match self {
            Pixels::Rgb8(image) => image.dimensions(),
            Pixels::Rgba8(image) => image.dimensions(),
        }
    }

    /// Whether the pixels carry an alpha channel.
    pub fn has_alpha(&self) -> bool {
        matches!(self, Pixels::Rgba8(_))
    }

    /// The raw samples, row by row, 3 or 4 bytes per pixel.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Pixels::Rgb8(image) => image.as_raw(),
            Pixels::Rgba8(image) => image.as_raw(),
        }
    }
}

impl From<DynamicImage> for Pixels {
    /// Keeps alpha if the source has it; 16-bit samples are rounded to
    /// 8 bits, gray is copied into R, G and B.
    fn from(image: DynamicImage) -> Pixels {
        // `into_rgb8`/`into_rgba8` move the buffer when it is already in
        // that layout and convert it otherwise.
        if image.color().has_alpha() {
            Pixels::Rgba8(image.into_rgba8())
        } else {
            Pixels::Rgb8(image.into_rgb8())
        }
    }
}
