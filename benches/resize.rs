//! Where the CPU time of one image goes: tandem and Pillow, side by side,
//! on the same bytes, in the same run.
//!
//! ```text
//! CARGO_TARGET_DIR=/tmp/target-resize cargo bench --bench resize
//! ```
//!
//! For a 1920 x 1080 photo-like JPEG (quality 85) and the same picture as
//! PNG, both generated here, it prints the median of [`RUNS`] runs of each
//! stage (decode, resize to 128 x 128, encode as PNG) and of the whole
//! `process`. Then it writes the bytes to a temporary file and has Pillow do
//! the article's work on them (`Image.open(io.BytesIO(data))`,
//! `.resize((128, 128))`, `.save(..., "PNG")`) in a timing loop. PNG output
//! goes to memory on both sides: this measures CPU, not the disk.
//!
//! The last JPEG row is Pillow's reduced-scale decode (`draft()`: libjpeg
//! decodes at 1/8 scale), for reference: tandem decodes JPEGs at full size
//! (docs/resize-measurements.md says why).

#[path = "../tests/support/rng.rs"]
mod rng;

use std::fmt::Write as _;
use std::process::Command;
use std::time::{Duration, Instant};

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ExtendedColorType, ImageEncoder, Rgb, RgbImage};
use rng::Rng;
use tandem::resize::{Settings, decode, encode_png, process, resize};

/// Timed runs per measurement; the median is reported.
const RUNS: usize = 30;

/// Pillow's side: the same stages, timed the same way, in milliseconds.
/// Prints `decode resize encode total draft_decode png_bytes`
/// (`draft_decode` is `-` for a PNG).
const PILLOW_SCRIPT: &str = r#"
import io, statistics, sys, time
from PIL import Image

data = open(sys.argv[1], "rb").read()
runs = int(sys.argv[2])

def median_ms(work):
    for _ in range(3):
        work()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)

def decoded():
    image = Image.open(io.BytesIO(data))
    image.load()
    return image

def draft_decoded():
    image = Image.open(io.BytesIO(data))
    image.draft("RGB", (128, 128))
    image.load()
    return image

def save(image):
    out = io.BytesIO()
    image.save(out, "PNG")
    return out

def article():
    # The Python article's resize(data, i), saving to memory.
    save(Image.open(io.BytesIO(data)).resize((128, 128)))

source = decoded()
small = source.resize((128, 128), Image.BICUBIC)
draft = median_ms(draft_decoded) if source.format == "JPEG" else None
print(
    median_ms(decoded),
    median_ms(lambda: source.resize((128, 128), Image.BICUBIC)),
    median_ms(lambda: save(small)),
    median_ms(article),
    "-" if draft is None else draft,
    len(save(small).getvalue()),
)
"#;

fn main() {
    let settings = Settings::new(128, 128);
    let picture = photo_like(1920, 1080);
    let inputs = [
        ("JPEG 1920x1080 q85", "jpg", jpeg_bytes(&picture)),
        ("PNG 1920x1080", "png", png_bytes(&picture)),
    ];
    let pillow_ready = pillow_installed();
    if !pillow_ready {
        println!("Pillow not installed (pip install pillow)");
    }

    println!("median of {RUNS} runs, one thread, target 128x128 bicubic, ms\n");
    println!(
        "{:<28} {:<22} {:>9} {:>9} {:>14}",
        "input", "stage", "tandem", "Pillow", "tandem/Pillow"
    );
    for (name, extension, bytes) in &inputs {
        let pixels = decode(bytes, &settings.limits).expect("the bench's image decodes");
        let small = resize(&pixels, &settings).expect("the bench's image resizes");
        let tandem = [
            median(|| decode(bytes, &settings.limits)),
            median(|| resize(&pixels, &settings)),
            median(|| encode_png(&small)),
            median(|| process(bytes, &settings)),
        ];
        let pillow = if pillow_ready {
            pillow_times(bytes, extension)
        } else {
            None
        };
        let label = format!("{name} ({} KB)", bytes.len() / 1000);
        let stages = [
            "decode (full size)",
            "resize",
            "encode PNG",
            "total (process)",
        ];
        for (index, stage) in stages.iter().enumerate() {
            let theirs = pillow.as_ref().map(|pillow| pillow.stages[index]);
            let input = if index == 0 { label.as_str() } else { "" };
            print_row(input, stage, Some(ms(tandem[index])), theirs);
        }
        if let Some(draft) = pillow.as_ref().and_then(|pillow| pillow.draft_decode) {
            print_row("", "decode at 1/8 (draft)", None, Some(draft));
        }
        let encoded = encode_png(&small).expect("encodes").len();
        let theirs = pillow.map_or("-".to_string(), |pillow| pillow.png_bytes.to_string());
        println!(
            "{:<28} {:<22} {:>9} {:>9}",
            "", "PNG bytes", encoded, theirs
        );
        println!();
    }
}

/// A deterministic stand-in for a photo: smooth gradients, a few flat
/// shapes with hard edges, and sensor-like noise, so that the JPEG is about
/// as large (and as slow to decode) as a real 1080p photo at quality 85.
fn photo_like(width: u32, height: u32) -> RgbImage {
    let mut rng = Rng::new(0x2545_F491_4F6C_DD1D);
    RgbImage::from_fn(width, height, |x, y| {
        let noise = rng.below(13) as f32 - 6.0;
        let (fx, fy) = (x as f32 / width as f32, y as f32 / height as f32);
        let (dx, dy) = (fx - 0.6, (fy - 0.4) * height as f32 / width as f32);
        let mut color = [
            255.0 * fx,
            255.0 * fy,
            128.0 + 100.0 * (fx * 12.0).sin() * (fy * 7.0).cos(),
        ];
        if dx * dx + dy * dy < 0.012 {
            color = [230.0, 200.0, 40.0];
        } else if (0.12..0.33).contains(&fx) && (0.5..0.83).contains(&fy) {
            color = [20.0, 60.0, 160.0];
        }
        Rgb(color.map(|channel| (channel + noise).clamp(0.0, 255.0) as u8))
    })
}

fn jpeg_bytes(picture: &RgbImage) -> Vec<u8> {
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, 85)
        .encode_image(picture)
        .expect("JPEG encoding into memory");
    jpeg
}

fn png_bytes(picture: &RgbImage) -> Vec<u8> {
    let mut png = Vec::new();
    PngEncoder::new_with_quality(&mut png, CompressionType::Default, FilterType::Adaptive)
        .write_image(
            picture.as_raw(),
            picture.width(),
            picture.height(),
            ExtendedColorType::Rgb8,
        )
        .expect("PNG encoding into memory");
    png
}

/// The median wall time of `RUNS` calls, after three warm-up calls.
fn median<T, E: std::fmt::Debug>(mut work: impl FnMut() -> Result<T, E>) -> Duration {
    for _ in 0..3 {
        work().expect("the bench's work succeeds");
    }
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(work().expect("the bench's work succeeds"));
            started.elapsed()
        })
        .collect();
    times.sort();
    times[RUNS / 2]
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn print_row(input: &str, stage: &str, tandem: Option<f64>, pillow: Option<f64>) {
    let cell = |value: Option<f64>| value.map_or("-".to_string(), |ms| format!("{ms:.2}"));
    let mut row = format!(
        "{input:<28} {stage:<22} {:>9} {:>9}",
        cell(tandem),
        cell(pillow)
    );
    if let (Some(tandem), Some(pillow)) = (tandem, pillow) {
        let _ = write!(row, " {:>14}", format!("{:.2}x", tandem / pillow));
    }
    println!("{row}");
}

fn pillow_installed() -> bool {
    Command::new("python3")
        .args(["-c", "import PIL"])
        .output()
        .is_ok_and(|output| output.status.success())
}

/// Pillow's medians, in milliseconds.
struct PillowTimes {
    /// decode, resize, encode, total: the rows of the table.
    stages: [f64; 4],
    draft_decode: Option<f64>,
    png_bytes: usize,
}

/// Runs [`PILLOW_SCRIPT`] on `bytes`; `None` (with a message) on failure.
fn pillow_times(bytes: &[u8], extension: &str) -> Option<PillowTimes> {
    let path = std::env::temp_dir().join(format!(
        "tandem-bench-resize-{}.{extension}",
        std::process::id()
    ));
    std::fs::write(&path, bytes).ok()?;
    let output = Command::new("python3")
        .arg("-c")
        .arg(PILLOW_SCRIPT)
        .arg(&path)
        .arg(RUNS.to_string())
        .output();
    let _ = std::fs::remove_file(&path);
    let output = output.ok()?;
    if !output.status.success() {
        eprintln!("Pillow failed: {}", String::from_utf8_lossy(&output.stderr));
        return None;
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let fields: Vec<&str> = text.split_whitespace().collect();
    let number = |index: usize| fields.get(index)?.parse::<f64>().ok();
    Some(PillowTimes {
        stages: [number(0)?, number(1)?, number(2)?, number(3)?],
        draft_decode: number(4),
        png_bytes: fields.get(5)?.parse().ok()?,
    })
}
