//! Why an image could not be processed.
//!
//! Every way a download can be bad (not an image, cut short, a "bomb" that
//! claims more pixels than memory can hold) ends as a [`ResizeError`] value,
//! never as a panic: a worker thread of the CPU pool must survive any input.

use std::fmt;

/// Why [`process`](super::process) or one of its stages failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResizeError {
    /// The bytes start with neither the PNG nor the JPEG signature.
    UnsupportedFormat,
    /// The bytes look like PNG or JPEG but are not a valid image: corrupt,
    /// truncated, or using a feature the decoder lacks.
    Decode(String),
    /// The image's header claims more pixels than the decode
    /// [`Limits`](image::Limits) allow; nothing was allocated for them.
    TooLarge {
        /// The width the header claims.
        width: u32,
        /// The height the header claims.
        height: u32,
    },
    /// A width or height of zero, in the image or in the requested size.
    ZeroSize,
    /// The requested output has more pixels than
    /// [`Settings::max_output_pixels`](super::Settings::max_output_pixels);
    /// refused before anything was decoded or allocated.
    OutputTooLarge {
        /// The requested width.
        width: u32,
        /// The requested height.
        height: u32,
        /// The bound, in pixels.
        max_pixels: u64,
    },
    /// Encoding the result as PNG failed.
    Encode(String),
}

impl fmt::Display for ResizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResizeError::UnsupportedFormat => write!(f, "not a PNG or JPEG image"),
            ResizeError::Decode(reason) => write!(f, "could not decode the image: {reason}"),
            ResizeError::TooLarge { width, height } => {
                write!(f, "a {width}x{height} image is over the decode limits")
            }
            ResizeError::ZeroSize => write!(f, "an image or target size with no pixels"),
            ResizeError::OutputTooLarge {
                width,
                height,
                max_pixels,
            } => write!(
                f,
                "a {width}x{height} output is over the limit of {max_pixels} pixels"
            ),
            ResizeError::Encode(reason) => write!(f, "could not encode the PNG: {reason}"),
        }
    }
}

impl std::error::Error for ResizeError {}
