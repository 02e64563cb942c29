//! The image pipeline's contract: every input layout gives a valid PNG of
//! the requested size, and every bad input gives a typed error, not a panic.
#![cfg(feature = "image")]

mod support;

use std::io::Cursor;

use image::{DynamicImage, GenericImageView, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use support::images::{crc32, png_chunk, png_claiming};
use support::rng::Rng;
use tandem::resize::{
    Fit, Pixels, Processed, ResizeError, Settings, decode, encode_png, process, resize,
};

/// A deterministic photo-like picture: gradients, a disc, some noise.
fn photo(width: u32, height: u32) -> RgbImage {
    let mut rng = Rng::new(0x9E37_79B9_7F4A_7C15);
    RgbImage::from_fn(width, height, |x, y| {
        let noise = rng.below(9) as i32 - 4;
        let (dx, dy) = (x as i32 - width as i32 / 2, y as i32 - height as i32 / 2);
        let in_disc = dx * dx + dy * dy < (height as i32 / 4).pow(2);
        let base = if in_disc {
            [230, 200, 40]
        } else {
            [(255 * x / width) as i32, (255 * y / height) as i32, 128]
        };
        Rgb(base.map(|channel| (channel + noise).clamp(0, 255) as u8))
    })
}

fn encoded(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut bytes = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut bytes), format)
        .unwrap();
    bytes
}

/// Checks that `processed` holds a valid PNG of `size` and returns it decoded.
fn decoded_output(processed: &Processed, size: (u32, u32)) -> DynamicImage {
    assert_eq!(processed.output_size, size);
    let output = image::load_from_memory_with_format(&processed.png, ImageFormat::Png)
        .expect("the output is a valid PNG");
    assert_eq!(output.dimensions(), size);
    output
}

/// The mean absolute difference between two RGB images of the same size.
fn mean_difference(a: &RgbImage, b: &RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let total: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    total as f64 / a.as_raw().len() as f64
}

#[test]
fn every_png_layout_becomes_a_128_by_128_png() {
    let rgb = DynamicImage::ImageRgb8(photo(300, 200));
    let layouts = [
        rgb.clone(),
        DynamicImage::ImageRgba8(rgb.to_rgba8()),
        DynamicImage::ImageLuma8(rgb.to_luma8()),
        DynamicImage::ImageLumaA8(rgb.to_luma_alpha8()),
        DynamicImage::ImageRgb16(rgb.to_rgb16()),
        DynamicImage::ImageRgba16(rgb.to_rgba16()),
        DynamicImage::ImageLuma16(rgb.to_luma16()),
    ];
    for source in layouts {
        let processed = process(&encoded(&source, ImageFormat::Png), &Settings::default())
            .unwrap_or_else(|error| panic!("{:?}: {error}", source.color()));
        assert_eq!(processed.source_size, (300, 200));
        let output = decoded_output(&processed, (128, 128));
        let expected = if source.color().has_alpha() {
            image::ColorType::Rgba8
        } else {
            image::ColorType::Rgb8
        };
        assert_eq!(output.color(), expected, "from {:?}", source.color());
    }
}

#[test]
fn sixteen_bit_samples_are_scaled_to_eight_bits() {
    let source = image::ImageBuffer::from_pixel(64, 64, Rgb([65535_u16, 32896, 0]));
    let png = encoded(&DynamicImage::ImageRgb16(source), ImageFormat::Png);
    let output = decoded_output(&process(&png, &Settings::default()).unwrap(), (128, 128));
    assert_eq!(output.to_rgb8().get_pixel(64, 64), &Rgb([255, 128, 0]));
}

#[test]
fn rgb_and_grayscale_jpegs_become_128_by_128_pngs() {
    let rgb = DynamicImage::ImageRgb8(photo(640, 480));
    let gray = DynamicImage::ImageLuma8(rgb.to_luma8());
    for source in [rgb, gray] {
        let jpeg = encoded(&source, ImageFormat::Jpeg);
        let processed = process(&jpeg, &Settings::default()).unwrap();
        assert_eq!(processed.source_size, (640, 480));
        let output = decoded_output(&processed, (128, 128));
        assert_eq!(output.color(), image::ColorType::Rgb8);
        // Close to resizing the source directly (JPEG loses a little).
        let direct = resize(&Pixels::Rgb8(source.to_rgb8()), &Settings::default()).unwrap();
        let Pixels::Rgb8(direct) = direct else {
            panic!("RGB in, RGB out")
        };
        let difference = mean_difference(&output.to_rgb8(), &direct);
        assert!(difference < 3.0, "mean difference {difference}");
    }
}

/// A 16 x 16 CMYK JPEG made by Pillow: red on the left half, blue on the
/// right (`Image.new("RGB", ...).convert("CMYK").save(..., quality=90)`).
const CMYK_JPEG_HEX: &[&str] = &[
    "ffd8ffee000e41646f626500640000000000ffdb0043000302020302020303030304030304050805",
    "050404050a070706080c0a0c0c0b0a0b0b0d0e12100d0e110e0b0b1016101113141515150c0f1718",
    "16141812141514ffc000140800100010044311004d11005911004b1100ffc4001f00000105010101",
    "01010100000000000000000102030405060708090a0bffc400b51000020103030204030505040400",
    "00017d01020300041105122131410613516107227114328191a1082342b1c11552d1f02433627282",
    "090a161718191a25262728292a3435363738393a434445464748494a535455565758595a63646566",
    "6768696a737475767778797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3",
    "b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5",
    "f6f7f8f9faffda000e0443004d0059004b00003f00fbd6bf3eabf3eabf54ebf0168afdfaa2bf7ea8",
    "afc05a2bf0168afdfaa2bfffd9",
];

fn from_hex(lines: &[&str]) -> Vec<u8> {
    let hex: String = lines.concat();
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn cmyk_jpegs_are_converted_to_rgb() {
    let settings = Settings::new(16, 16);
    let output = decoded_output(
        &process(&from_hex(CMYK_JPEG_HEX), &settings).unwrap(),
        (16, 16),
    );
    let output = output.to_rgb8();
    let near = |pixel: &Rgb<u8>, expected: [u8; 3]| {
        pixel
            .0
            .iter()
            .zip(expected)
            .all(|(got, want)| got.abs_diff(want) <= 12)
    };
    assert!(
        near(output.get_pixel(2, 8), [220, 30, 30]),
        "{:?}",
        output.get_pixel(2, 8)
    );
    assert!(
        near(output.get_pixel(13, 8), [30, 30, 220]),
        "{:?}",
        output.get_pixel(13, 8)
    );
}

#[test]
fn contain_keeps_the_aspect_ratio() {
    let settings = Settings {
        fit: Fit::Contain,
        ..Settings::new(128, 128)
    };
    let wide = encoded(&DynamicImage::ImageRgb8(photo(400, 200)), ImageFormat::Jpeg);
    decoded_output(&process(&wide, &settings).unwrap(), (128, 64));
    let tall = encoded(&DynamicImage::ImageRgb8(photo(200, 400)), ImageFormat::Png);
    decoded_output(&process(&tall, &settings).unwrap(), (64, 128));
    let full_hd = encoded(
        &DynamicImage::ImageRgb8(photo(1920, 1080)),
        ImageFormat::Jpeg,
    );
    decoded_output(&process(&full_hd, &settings).unwrap(), (128, 72));
}

#[test]
fn transparent_pixels_do_not_bleed_their_color() {
    // Left half opaque red; right half fully transparent, with a green that
    // must stay invisible. Without premultiplied alpha, the edge pixels of
    // the result would turn green-brown.
    let source = RgbaImage::from_fn(256, 256, |x, _| {
        if x < 128 {
            Rgba([255, 0, 0, 255])
        } else {
            Rgba([0, 255, 0, 0])
        }
    });
    let png = encoded(&DynamicImage::ImageRgba8(source), ImageFormat::Png);
    let output = decoded_output(
        &process(&png, &Settings::new(100, 100)).unwrap(),
        (100, 100),
    );
    let mut partly_transparent = 0;
    for pixel in output.to_rgba8().pixels() {
        let [red, green, blue, alpha] = pixel.0;
        if alpha > 0 {
            assert!(red >= 250 && green <= 2 && blue <= 2, "{:?}", pixel.0);
        }
        if alpha > 0 && alpha < 255 {
            partly_transparent += 1;
        }
    }
    assert!(partly_transparent > 0, "the edge should be blended");
}

#[test]
fn the_stages_compose_into_process() {
    let png = encoded(&DynamicImage::ImageRgb8(photo(320, 240)), ImageFormat::Png);
    let settings = Settings::new(100, 50);
    let processed = process(&png, &settings).unwrap();
    let by_stage =
        encode_png(&resize(&decode(&png, &settings.limits).unwrap(), &settings).unwrap());
    assert_eq!(processed.png, by_stage.unwrap());
    assert_eq!(
        (processed.source_size, processed.output_size),
        ((320, 240), (100, 50))
    );
    let timings = processed.timings;
    assert_eq!(
        timings.total(),
        timings.decode + timings.resize + timings.encode
    );
}

#[test]
fn truncated_files_are_decode_errors() {
    let source = DynamicImage::ImageRgb8(photo(320, 240));
    let jpeg = encoded(&source, ImageFormat::Jpeg);
    let png = encoded(&source, ImageFormat::Png);
    let cuts = [
        &jpeg[..jpeg.len() / 2],
        // Only the end-of-image marker is missing: zune-jpeg alone would
        // accept this, with gray for whatever it did not find.
        &jpeg[..jpeg.len() - 1],
        &png[..png.len() / 2],
        // A PNG cut after its pixel data, in the trailing IEND chunk, is
        // complete and accepted, as Pillow does; a cut in the data is not.
        &png[..png.len() - 30],
    ];
    for cut in cuts {
        let result = process(cut, &Settings::default()).map(|processed| processed.output_size);
        assert!(matches!(result, Err(ResizeError::Decode(_))), "{result:?}");
    }
}

#[test]
fn no_prefix_of_a_file_panics() {
    let rgb = DynamicImage::ImageRgb8(photo(96, 64));
    let rgba = DynamicImage::ImageRgba8(rgb.to_rgba8());
    for (source, format) in [(rgb, ImageFormat::Jpeg), (rgba, ImageFormat::Png)] {
        let bytes = encoded(&source, format);
        for length in (0..bytes.len()).step_by(7) {
            // Any outcome but a panic; only the whole file must succeed.
            let _ = process(&bytes[..length], &Settings::default());
        }
        assert!(process(&bytes, &Settings::default()).is_ok());
    }
}

#[test]
fn other_formats_are_unsupported() {
    let inputs: [&[u8]; 4] = [
        b"",
        b"GIF89a\x01\x00\x01\x00",
        b"<html>404</html>",
        b"\x89PNG",
    ];
    for bytes in inputs {
        assert_eq!(
            process(bytes, &Settings::default()),
            Err(ResizeError::UnsupportedFormat)
        );
    }
}

#[test]
fn crc32_matches_the_standard_check_value() {
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    // The IEND chunk every PNG ends with.
    assert_eq!(png_chunk(b"IEND", &[]), b"\0\0\0\0IEND\xAE\x42\x60\x82");
}

#[test]
fn a_decompression_bomb_is_refused_from_its_header() {
    let bomb = png_claiming(100_000, 100_000);
    assert!(bomb.len() < 100);
    let refused = Err(ResizeError::TooLarge {
        width: 100_000,
        height: 100_000,
    });
    assert_eq!(process(&bomb, &Settings::default()), refused);
}

#[test]
fn the_limits_are_settings() {
    let png = encoded(&DynamicImage::ImageRgb8(photo(300, 200)), ImageFormat::Png);
    let mut narrow = Settings::default();
    narrow.limits.max_image_width = Some(299);
    let refused = Err(ResizeError::TooLarge {
        width: 300,
        height: 200,
    });
    assert_eq!(process(&png, &narrow), refused);

    // 300 x 200 RGB is 180000 bytes of decoded pixels.
    let mut small_budget = Settings::default();
    small_budget.limits.max_alloc = Some(179_999);
    assert_eq!(process(&png, &small_budget), refused);
    small_budget.limits.max_alloc = Some(180_000);
    assert!(process(&png, &small_budget).is_ok());
}

#[test]
fn zero_sizes_are_errors() {
    let png = encoded(&DynamicImage::ImageRgb8(photo(30, 20)), ImageFormat::Png);
    assert_eq!(
        process(&png, &Settings::new(0, 128)),
        Err(ResizeError::ZeroSize)
    );
    // A zero target is refused before the bytes are even looked at.
    assert_eq!(
        process(b"not an image", &Settings::new(128, 0)),
        Err(ResizeError::ZeroSize)
    );
    // PNG forbids a zero width; the decoder says so.
    let result = process(&png_claiming(0, 10), &Settings::default());
    assert!(
        matches!(result, Err(ResizeError::ZeroSize | ResizeError::Decode(_))),
        "{result:?}"
    );
}

#[test]
fn errors_explain_themselves() {
    let too_large = ResizeError::TooLarge {
        width: 100_000,
        height: 100_000,
    };
    assert_eq!(
        too_large.to_string(),
        "a 100000x100000 image is over the decode limits"
    );
    assert_eq!(
        ResizeError::UnsupportedFormat.to_string(),
        "not a PNG or JPEG image"
    );
    let error: Box<dyn std::error::Error> = Box::new(ResizeError::ZeroSize);
    assert!(!error.to_string().is_empty());
}
