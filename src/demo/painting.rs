//! Painting a landscape from a seed: the pixels of the demo pictures.
//!
//! # Why
//!
//! The demo server's pictures must cost what real photographs cost to
//! encode, decode and resize, and must be the same every time they are
//! asked for. So they are painted, not stored: a seeded generator picks a
//! scene (sky gradient, sun, hills, balloons, houses), and an optional film
//! grain gives a JPEG the fine detail of a camera's sensor. Encoding, the
//! cache and the pool that runs this are `images.rs`'s business.
//!
//! # How
//!
//! [`paint`] draws in layers, back to front: the sky (with the sun's glow)
//! and three ridges of hills in one pass over the pixels, then balloons and
//! houses blended over boxes of pixels ([`fill_box`]), then the vignette and
//! the grain. Every position and size is a fraction of the picture's size,
//! so a seed gives the same scene at any size. Colors are `f32` RGB
//! ([`Color`]), rounded to 8 bits when stored; random numbers come from
//! [`SplitMix64`], a tiny generator that needs no dependency.

use std::f32::consts::TAU;

use image::{Rgb, RgbImage};

/// An RGB color with channels in `0.0..=255.0`.
type Color = [f32; 3];

/// Paints the landscape for `seed`. Every position and size is a fraction of
/// the picture's size, so the same seed gives the same scene at any size.
pub(crate) fn paint(width: u32, height: u32, seed: u64, grain: f32) -> RgbImage {
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

    #[test]
    fn a_seed_paints_one_scene() {
        assert_eq!(paint(40, 30, 7, 9.0), paint(40, 30, 7, 9.0));
        assert_ne!(paint(40, 30, 7, 0.0), paint(40, 30, 8, 0.0));
        assert_ne!(paint(40, 30, 7, 0.0), paint(40, 30, 7, 9.0));
    }

    #[test]
    fn colors_mix_and_convert_within_range() {
        assert_eq!(mix([0.0; 3], [200.0; 3], 0.5), [100.0; 3]);
        assert_eq!(to_pixel([-5.0, 127.6, 300.0]), Rgb([0, 128, 255]));
        assert_eq!(hsv(0.0, 1.0, 1.0).map(f32::round), [255.0, 0.0, 0.0]);
        let mut rng = SplitMix64(1);
        assert!((0..100).all(|_| (0.0..1.0).contains(&rng.unit())));
    }
}
