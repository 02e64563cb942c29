//! Stage 1, decode: PNG or JPEG bytes to [`Pixels`], within limits.
//!
//! # Why
//!
//! The bytes come from the network, so they are untrusted. Pillow's
//! `Image.open(io.BytesIO(data))` guesses the format from the first bytes
//! and guards against decompression bombs; this stage does the same, with
//! typed errors instead of exceptions:
//!
//! * the format comes from the signature (magic bytes), never from a URL or
//!   a `Content-Type`, and only PNG and JPEG are accepted;
//! * the header's width and height, and the bytes the decoded pixels would
//!   take, are checked against [`image::Limits`] *before* the pixel buffer is
//!   allocated: a 60-byte PNG may claim 100000 x 100000 pixels (30 GB);
//! * a truncated JPEG is an error, as in Pillow ("image file is truncated").
//!
//! # How
//!
//! The `image` crate does the decoding: its PNG decoder is the `png` crate,
//! its JPEG decoder is `zune-jpeg` (SIMD, the fastest pure-Rust one). The
//! result is converted to RGB8 or RGBA8 ([`Pixels`]).
//!
//! Not done, as in the Python article: EXIF orientation is ignored (Pillow
//! applies it only through `ImageOps.exif_transpose`), and ICC color profiles
//! are dropped. JPEGs are decoded at full size: zune-jpeg cannot decode at
//! 1/2, 1/4 or 1/8 scale (what Pillow's `draft()` asks of libjpeg), and
//! `jpeg-decoder`, which can, was at 1/8 scale only 10-25% faster than
//! zune-jpeg at full scale: not worth a second JPEG decoder
//! (docs/resize-measurements.md).

use std::io::Cursor;

use image::codecs::jpeg::JpegDecoder;
use image::codecs::png::PngDecoder;
use image::{DynamicImage, ImageDecoder, ImageError, ImageResult, Limits};

use super::{Pixels, ResizeError};

/// The first eight bytes of every PNG file.
const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
/// Every JPEG starts with a start-of-image marker (FF D8) and then another
/// marker, whose first byte is FF.
const JPEG_SIGNATURE: &[u8] = &[0xFF, 0xD8, 0xFF];
/// JPEG's start-of-scan marker: entropy-coded pixel data follows it.
const JPEG_START_OF_SCAN: [u8; 2] = [0xFF, 0xDA];
/// JPEG's end-of-image marker.
const JPEG_END_OF_IMAGE: [u8; 2] = [0xFF, 0xD9];

/// The image formats this stage accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Png,
    Jpeg,
}

impl Format {
    /// Recognizes the format by its signature.
    fn sniff(bytes: &[u8]) -> Result<Format, ResizeError> {
        if bytes.starts_with(PNG_SIGNATURE) {
            Ok(Format::Png)
        } else if bytes.starts_with(JPEG_SIGNATURE) {
            Ok(Format::Jpeg)
        } else {
            Err(ResizeError::UnsupportedFormat)
        }
    }
}

/// Decodes a PNG or JPEG image into 8-bit RGB, or RGBA if it has alpha.
///
/// `limits` bounds the width, the height and the bytes of the decoded
/// pixels; an image over them is [`ResizeError::TooLarge`], found from its
/// header alone.
///
/// ```
/// use tandem::resize::{decode, Settings};
///
/// let mut png = Vec::new();
/// image::RgbaImage::new(40, 30).write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)?;
///
/// let pixels = decode(&png, &Settings::default().limits)?;
/// assert_eq!(pixels.dimensions(), (40, 30));
/// assert!(pixels.has_alpha());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Pixels, ResizeError> {
    let image = match Format::sniff(bytes)? {
        Format::Png => decode_within_limits(PngDecoder::new(Cursor::new(bytes)), limits)?,
        Format::Jpeg => {
            check_jpeg_complete(bytes)?;
            decode_within_limits(JpegDecoder::new(Cursor::new(bytes)), limits)?
        }
    };
    Ok(Pixels::from(image))
}

/// Runs a decoder whose header is parsed, after checking what the header
/// claims against `limits`.
fn decode_within_limits(
    decoder: ImageResult<impl ImageDecoder>,
    limits: &Limits,
) -> Result<DynamicImage, ResizeError> {
    let mut decoder = decoder.map_err(decode_error)?;
    let (width, height) = decoder.dimensions();
    if width == 0 || height == 0 {
        return Err(ResizeError::ZeroSize);
    }
    let too_large = ResizeError::TooLarge { width, height };
    // The checks `image::ImageReader::decode` makes, done here so that their
    // failure can say which size was refused.
    let mut budget = limits.clone();
    budget
        .check_dimensions(width, height)
        .and_then(|()| budget.reserve(decoder.total_bytes()))
        .map_err(|_| too_large.clone())?;
    decoder.set_limits(budget).map_err(|_| too_large.clone())?;
    DynamicImage::from_decoder(decoder).map_err(|error| match error {
        ImageError::Limits(_) => too_large,
        other => decode_error(other),
    })
}

/// Refuses a JPEG that was cut short.
///
/// zune-jpeg, like a browser, decodes a truncated JPEG without complaint and
/// paints the missing rows gray. Pillow refuses it, and so does tandem: a
/// complete JPEG has an end-of-image marker after its last start-of-scan
/// marker. Inside scan data an FF byte is always followed by 00 or a restart
/// marker, so neither marker can appear there by accident. Bytes after the
/// end-of-image marker (camera trailers, the second picture of an MPO file)
/// are allowed.
fn check_jpeg_complete(bytes: &[u8]) -> Result<(), ResizeError> {
    // Search from the end: in a complete file the end marker is usually the
    // last two bytes, so this costs nothing on the happy path.
    let last_end = bytes.windows(2).rposition(|pair| pair == JPEG_END_OF_IMAGE);
    let complete = last_end.is_some_and(|end| {
        !bytes[end..]
            .windows(2)
            .any(|pair| pair == JPEG_START_OF_SCAN)
    });
    if complete {
        Ok(())
    } else {
        Err(ResizeError::Decode(
            "truncated JPEG: no end-of-image marker after the last scan".to_string(),
        ))
    }
}

/// A decoder's error as a [`ResizeError`].
fn decode_error(error: ImageError) -> ResizeError {
    ResizeError::Decode(error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_signatures() {
        assert_eq!(Format::sniff(b"\x89PNG\r\n\x1a\n...."), Ok(Format::Png));
        assert_eq!(Format::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Ok(Format::Jpeg));
        assert_eq!(
            Format::sniff(b"GIF89a"),
            Err(ResizeError::UnsupportedFormat)
        );
        assert_eq!(Format::sniff(b""), Err(ResizeError::UnsupportedFormat));
        // A PNG signature cut short is not a PNG.
        assert_eq!(
            Format::sniff(b"\x89PNG"),
            Err(ResizeError::UnsupportedFormat)
        );
    }

    #[test]
    fn a_jpeg_needs_an_end_marker_after_its_last_scan() {
        let soi = [0xFF, 0xD8];
        let complete = [&soi[..], &[0xFF, 0xDA, 1, 2, 3], &[0xFF, 0xD9]].concat();
        assert_eq!(check_jpeg_complete(&complete), Ok(()));

        let with_trailer = [&complete[..], b"camera trailer"].concat();
        assert_eq!(check_jpeg_complete(&with_trailer), Ok(()));

        let cut = &complete[..complete.len() - 1];
        assert!(check_jpeg_complete(cut).is_err());

        // An embedded thumbnail's end marker does not complete the main image.
        let thumbnail = [&soi[..], &[0xFF, 0xDA, 9], &[0xFF, 0xD9]].concat();
        let cut_after_thumbnail = [&soi[..], &thumbnail, &[0xFF, 0xDA, 1, 2]].concat();
        assert!(check_jpeg_complete(&cut_after_thumbnail).is_err());
    }
}
