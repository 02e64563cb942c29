//! Generated pictures for `/image/png` and `/image/jpeg`, made off the loop
//! and made once.
//!
//! # Why
//!
//! The image examples download pictures, decode them, resize them and encode
//! them again: the CPU work has to be real for the measurements to mean
//! anything. So the pictures are real too: a landscape painted from a seed
//! (sky gradient, sun, hills, balloons, houses), and for JPEG a film grain
//! that makes it compress, and decode, like a photograph rather than a
//! flat illustration. The same `(format, width, height, seed)` always gives
//! the same bytes, so tests can compare downloads.
//!
//! Painting and encoding a 1920x1080 JPEG takes a tenth of a second or more
//! of one core, about half of it in the encoder. Done on the loop thread,
//! that would stall every other connection; done per request, a benchmark
//! would measure the server. Hence:
//!
//! * the work runs on a [`CpuPool`] owned by the server (the pattern this
//!   crate teaches), and
//! * each picture is kept in an [`ImageCache`] (up to [`CACHE_BUDGET`]
//!   bytes), so it is made once however many clients ask for it.
//!
//! # How
//!
//! ```text
//!   loop: ImageStore::fetch(spec) ── cached? ──yes──► bytes
//!                       │ no
//!                       ▼
//!   pool worker: cache.get_or_render(spec)
//!                slot = cache[spec] (a OnceLock)
//!                slot.get_or_init(|| encode(paint(spec)))
//! ```
//!
//! Each spec has one [`OnceLock`] slot: when several requests for the same
//! picture arrive together, one worker paints it and any other worker that
//! asks meanwhile waits for that result instead of painting it again.

use std::collections::{HashMap, VecDeque};
use std::f32::consts::TAU;
use std::io;
use std::sync::{Arc, Mutex, OnceLock};

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::{ExtendedColorType, ImageEncoder, Rgb, RgbImage};

use crate::{CpuPool, JobError};

/// The largest width or height served.
pub(crate) const MAX_SIDE: u32 = 8192;

/// The size of a picture when the query does not say.
pub(crate) const DEFAULT_SIZE: (u32, u32) = (320, 240);

/// How many encoded bytes the cache keeps; beyond that the oldest pictures
/// are dropped (and painted again if asked for).
const CACHE_BUDGET: usize = 256 * 1024 * 1024;

/// Worker threads painting pictures, at most (fewer on a smaller machine).
const PAINTERS: usize = 2;

/// JPEG quality: what a camera or a photo site typically uses.
const JPEG_QUALITY: u8 = 85;

/// Film grain amplitude of JPEG pictures, in 8-bit levels.
const JPEG_GRAIN: f32 = 9.0;

/// The two formats served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum ImageFormat {
    Png,
    Jpeg,
}

impl ImageFormat {
    /// The format a route names: `png` or `jpeg`.
    pub(crate) fn from_name(name: &str) -> Option<ImageFormat> {
        match name {
            "png" => Some(ImageFormat::Png),
            "jpeg" => Some(ImageFormat::Jpeg),
            _ => None,
        }
    }

    pub(crate) fn content_type(self) -> &'static str {
        match self {
            ImageFormat::Png => "image/png",
            ImageFormat::Jpeg => "image/jpeg",
        }
    }
}

/// Everything that determines a picture's bytes: the cache key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ImageSpec {
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
    pub seed: u64,
}

/// The server's pictures: a CPU pool to make them and a cache to keep them.
pub(crate) struct ImageStore {
    pool: CpuPool,
    cache: Arc<ImageCache>,
}

impl ImageStore {
    /// Starts the painter threads (`tandem-demo-img-N`).
    pub(crate) fn new() -> io::Result<ImageStore> {
        let pool = CpuPool::builder()
            .workers(PAINTERS.min(crate::pool::default_workers()))
            .name("tandem-demo-img")
            .build()
            .map_err(io::Error::other)?;
        Ok(ImageStore {
            pool,
            cache: Arc::new(ImageCache::default()),
        })
    }

    /// The encoded picture for `spec`: from the cache if it is there (no
    /// trip to the pool), else painted on the pool.
    pub(crate) async fn fetch(&self, spec: ImageSpec) -> Result<Arc<[u8]>, JobError> {
        if let Some(bytes) = self.cache.get(spec) {
            return Ok(bytes);
        }
        let cache = Arc::clone(&self.cache);
        self.pool.run(move || cache.get_or_render(spec)).await
    }
}

/// Encoded pictures by spec, oldest evicted first beyond [`CACHE_BUDGET`].
#[derive(Default)]
pub(crate) struct ImageCache {
    state: Mutex<CacheState>,
}

#[derive(Default)]
struct CacheState {
    /// One slot per spec asked for; a slot is empty while being painted.
    slots: HashMap<ImageSpec, Arc<OnceLock<Arc<[u8]>>>>,
    /// Filled slots, oldest first, with their sizes.
    filled: VecDeque<(ImageSpec, usize)>,
    /// The sum of the sizes in `filled`.
    bytes: usize,
}

impl ImageCache {
    /// The picture for `spec`, if it is ready.
    pub(crate) fn get(&self, spec: ImageSpec) -> Option<Arc<[u8]>> {
        let state = self.state.lock().unwrap();
        state.slots.get(&spec)?.get().cloned()
    }

    /// The picture for `spec`, painted now if nobody has; waits if another
    /// thread is painting it. Blocks: call it on a pool worker.
    pub(crate) fn get_or_render(&self, spec: ImageSpec) -> Arc<[u8]> {
        // The lock guards the map only; painting happens outside it.
        let slot = Arc::clone(self.state.lock().unwrap().slots.entry(spec).or_default());
        let mut painted_here = false;
        let bytes = slot.get_or_init(|| {
            painted_here = true;
            Arc::from(render(spec))
        });
        if painted_here {
            self.account(spec, bytes.len());
        }
        Arc::clone(bytes)
    }

    /// Records a newly filled slot and evicts the oldest ones while the
    /// cache is over budget (the newest always stays).
    fn account(&self, spec: ImageSpec, len: usize) {
        let mut state = self.state.lock().unwrap();
        state.filled.push_back((spec, len));
        state.bytes += len;
        while state.bytes > CACHE_BUDGET && state.filled.len() > 1 {
            let (old, old_len) = state
                .filled
                .pop_front()
                .expect("more than one slot is filled");
            state.slots.remove(&old);
            state.bytes -= old_len;
        }
    }
}

/// Paints and encodes the picture for `spec`.
pub(crate) fn render(spec: ImageSpec) -> Vec<u8> {
    let grain = match spec.format {
        ImageFormat::Png => 0.0,
        ImageFormat::Jpeg => JPEG_GRAIN,
    };
    let picture = paint(spec.width, spec.height, spec.seed, grain);
    let (width, height) = picture.dimensions();
    let mut bytes = Vec::new();
    let encoded =
        match spec.format {
            ImageFormat::Png => PngEncoder::new(&mut bytes).write_image(
                picture.as_raw(),
                width,
                height,
                ExtendedColorType::Rgb8,
            ),
            ImageFormat::Jpeg => JpegEncoder::new_with_quality(&mut bytes, JPEG_QUALITY)
                .write_image(picture.as_raw(), width, height, ExtendedColorType::Rgb8),
        };
    // Encoding into memory fails only for sizes beyond both formats' limits
    // (65535 for JPEG), far above MAX_SIDE.
    encoded.expect("encoding a picture of at most MAX_SIDE pixels a side into memory");
    bytes
}

/// An RGB color with channels in `0.0..=255.0`.
type Color = [f32; 3];

/// Paints the landscape for `seed`. Every position and size is a fraction of
/// the picture's size, so the same seed gives the same scene at any size.
fn paint(width: u32, height: u32, seed: u64, grain: f32) -> RgbImage {
    let mut rng = SplitMix64(seed);
    let (w, h) = (width as f32, height as f32);
    let short_side = w.min(h);

    // Sky: a vertical gradient in the seed's hue, and a soft sun.
    let hue = rng.unit();
    let zenith = hsv(hue + 0.55, 0.55, 0.5);
    let horizon = hsv(hue + 0.05, 0.3, 0.97);
    let sun_color = hsv(0.13, 0.25, 1.0);
    let sun = (rng.range(0.15, 0.85) * w, rng.range(0.1, 0.35) * h);
    let sun_radius = rng.range(0.04, 0.08) * short_side;

    // Three ridges of hills, far to near: each a sum of sines across the
    // width, darker and greener the nearer it is (aerial perspective).
    let ridges: Vec<(Vec<f32>, Color)> = (0..3)
        .map(|depth| {
            let base = 0.5 + 0.12 * depth as f32;
            let waves: Vec<(f32, f32, f32)> = (0..3)
                .map(|_| {
                    (
                        rng.range(0.01, 0.06),
                        rng.range(1.0, 6.0),
                        rng.range(0.0, TAU),
                    )
                })
                .collect();
            let tops = (0..width)
                .map(|x| {
                    let u = x as f32 / w;
                    let v = base
                        - waves
                            .iter()
                            .map(|&(amp, freq, phase)| amp * (freq * TAU * u + phase).sin())
                            .sum::<f32>();
                    v * h
                })
                .collect();
            let land = hsv(
                hue + 0.25 + 0.05 * depth as f32,
                0.45,
                0.6 - 0.15 * depth as f32,
            );
            (tops, mix(horizon, land, 0.45 + 0.25 * depth as f32))
        })
        .collect();

    let mut picture = RgbImage::from_fn(width, height, |x, y| {
        let (px, py) = (x as f32, y as f32);
        // The nearest ridge whose top is above this pixel covers it.
        let ground = ridges.iter().rev().find(|(tops, _)| py >= tops[x as usize]);
        let color = match ground {
            Some((tops, land)) => {
                // Shade the ground darker further below its ridge line.
                let below = ((py - tops[x as usize]) / h).min(1.0);
                scale(*land, 1.0 - 0.5 * below)
            }
            None => {
                let sky = mix(zenith, horizon, (py / (0.6 * h)).min(1.0));
                let distance_sq =
                    ((px - sun.0).powi(2) + (py - sun.1).powi(2)) / sun_radius.powi(2);
                let glow = if distance_sq <= 1.0 {
                    1.0
                } else {
                    0.6 / distance_sq
                };
                mix(sky, sun_color, glow.min(1.0))
            }
        };
        to_pixel(color)
    });

    // Balloons in the sky: shaded discs, lit from the upper left.
    for _ in 0..rng.range(3.0, 7.0) as usize {
        let center = (rng.unit() * w, rng.range(0.05, 0.5) * h);
        let radius = rng.range(0.02, 0.07) * short_side;
        let color = hsv(rng.unit(), 0.75, 0.95);
        fill_box(
            &mut picture,
            center.0 - radius,
            center.1 - radius,
            2.0 * radius,
            2.0 * radius,
            |px, py| {
                let distance = ((px - center.0).powi(2) + (py - center.1).powi(2)).sqrt();
                let highlight = ((px - center.0 + 0.4 * radius).powi(2)
                    + (py - center.1 + 0.4 * radius).powi(2))
                .sqrt();
                let shade = 1.1 - 0.6 * (highlight / (1.4 * radius)).min(1.0);
                // Coverage of the pixel by the disc: an anti-aliased edge.
                let coverage = (radius - distance + 0.5).clamp(0.0, 1.0);
                (scale(color, shade), coverage)
            },
        );
    }

    // Houses on the nearest hills, one per slice of the width so that they
    // do not overlap: walls lit from the left, a dark door.
    let (near_tops, _) = &ridges[2];
    let houses = rng.range(2.0, 5.0) as usize;
    for house in 0..houses {
        let house_w = rng.range(0.04, 0.09) * w;
        let house_h = house_w * rng.range(0.6, 1.0);
        let left = (house as f32 + rng.range(0.1, 0.6)) / houses as f32 * w;
        // Stand on the lowest point of the hill under the house.
        let start = (left as usize).min(width as usize - 1);
        let end = ((left + house_w) as usize).clamp(start + 1, width as usize);
        let ground_y = near_tops[start..end]
            .iter()
            .fold(0.0, |low: f32, &top| low.max(top))
            + 0.01 * h;
        let wall = hsv(rng.range(0.0, 0.15), 0.35, 0.9);
        fill_box(
            &mut picture,
            left,
            ground_y - house_h,
            house_w,
            house_h,
            |px, py| {
                let across = (px - left) / house_w;
                let door = (0.4..0.6).contains(&across) && py > ground_y - 0.5 * house_h;
                let color = if door {
                    [60.0, 40.0, 30.0]
                } else {
                    scale(wall, 1.05 - 0.3 * across)
                };
                (color, 1.0)
            },
        );
    }

    // Vignette and grain: the marks of a lens and a sensor.
    let grain_seed = rng.next();
    for (x, y, pixel) in picture.enumerate_pixels_mut() {
        let (u, v) = (x as f32 / w - 0.5, y as f32 / h - 0.5);
        let vignette = 1.0 - 0.5 * (u * u + v * v);
        let noise = mix64(grain_seed ^ (u64::from(y) << 32 | u64::from(x))).to_le_bytes();
        let color: Color = std::array::from_fn(|channel| {
            let jitter = (f32::from(noise[channel]) / 127.5 - 1.0) * grain;
            f32::from(pixel.0[channel]) * vignette + jitter
        });
        *pixel = to_pixel(color);
    }
    picture
}

/// Blends `shade(x, y) = (color, coverage)` over the pixels of the box at
/// `(left, top)` of size `box_w` x `box_h`, clipped to the picture.
fn fill_box(
    picture: &mut RgbImage,
    left: f32,
    top: f32,
    box_w: f32,
    box_h: f32,
    shade: impl Fn(f32, f32) -> (Color, f32),
) {
    let (width, height) = picture.dimensions();
    let x_range = left.max(0.0) as u32..((left + box_w).ceil().max(0.0) as u32).min(width);
    let y_range = top.max(0.0) as u32..((top + box_h).ceil().max(0.0) as u32).min(height);
    for y in y_range {
        for x in x_range.clone() {
            let (color, coverage) = shade(x as f32 + 0.5, y as f32 + 0.5);
            if coverage > 0.0 {
                let pixel = picture.get_pixel_mut(x, y);
                let under = pixel.0.map(f32::from);
                *pixel = to_pixel(mix(under, color, coverage));
            }
        }
    }
}

/// `a` when `t` is 0, `b` when `t` is 1, a straight line between.
fn mix(a: Color, b: Color, t: f32) -> Color {
    std::array::from_fn(|i| a[i] + (b[i] - a[i]) * t)
}

fn scale(color: Color, factor: f32) -> Color {
    color.map(|channel| channel * factor)
}

fn to_pixel(color: Color) -> Rgb<u8> {
    Rgb(color.map(|channel| channel.round().clamp(0.0, 255.0) as u8))
}

/// A color from hue (in turns, wrapping), saturation and value in `0..=1`.
fn hsv(hue: f32, saturation: f32, value: f32) -> Color {
    let sector = hue.rem_euclid(1.0) * 6.0;
    let channel = |offset: f32| {
        let k = (offset + sector) % 6.0;
        value - value * saturation * k.min(4.0 - k).clamp(0.0, 1.0)
    };
    [channel(5.0), channel(3.0), channel(1.0)].map(|c| c * 255.0)
}

/// SplitMix64: a tiny, fast, seedable generator; plenty for painting.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix64(self.0)
    }

    /// A number in `0.0..1.0`.
    fn unit(&mut self) -> f32 {
        // The top 24 bits: exactly representable in an f32.
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// A number in `low..high`.
    fn range(&mut self, low: f32, high: f32) -> f32 {
        low + (high - low) * self.unit()
    }
}

/// SplitMix64's finaliser: scrambles the bits of `z`, also used as a hash
/// of a pixel's position for the grain.
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(format: ImageFormat, seed: u64) -> ImageSpec {
        ImageSpec {
            format,
            width: 48,
            height: 32,
            seed,
        }
    }

    #[test]
    fn pictures_decode_to_their_size_and_depend_only_on_the_spec() {
        for format in [ImageFormat::Png, ImageFormat::Jpeg] {
            let bytes = render(spec(format, 7));
            let decoded = image::load_from_memory(&bytes).unwrap();
            assert_eq!((decoded.width(), decoded.height()), (48, 32));
            assert_eq!(bytes, render(spec(format, 7)));
            assert_ne!(bytes, render(spec(format, 8)));
        }
    }

    #[test]
    fn tiny_pictures_paint_without_panicking() {
        for (width, height) in [(1, 1), (1, 9), (9, 1)] {
            let bytes = render(ImageSpec {
                width,
                height,
                ..spec(ImageFormat::Png, 1)
            });
            assert!(image::load_from_memory(&bytes).is_ok());
        }
    }

    #[test]
    fn the_cache_paints_once_and_evicts_oldest_first() {
        let cache = ImageCache::default();
        let first = spec(ImageFormat::Png, 1);
        assert!(cache.get(first).is_none());
        let bytes = cache.get_or_render(first);
        assert!(Arc::ptr_eq(&bytes, &cache.get(first).unwrap()));
        // Pretend the budget is full: the next picture evicts the first.
        cache.state.lock().unwrap().bytes = CACHE_BUDGET;
        cache.get_or_render(spec(ImageFormat::Png, 2));
        assert!(cache.get(first).is_none());
        assert!(cache.get(spec(ImageFormat::Png, 2)).is_some());
    }
}
