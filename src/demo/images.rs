//! The pictures of `/image/png` and `/image/jpeg`: which exist, how they
//! are encoded, and where they are made and kept (off the loop, once).
//!
//! # Why
//!
//! The image examples download pictures, decode them, resize them and encode
//! them again: the CPU work has to be real for the measurements to mean
//! anything. So the pictures are real too: a landscape painted from a seed
//! (`painting.rs`), with, for JPEG, a film grain that makes it compress,
//! and decode, like a photograph rather than a flat illustration. The same
//! `(format, width, height, seed)` always gives the same bytes, so tests
//! can compare downloads.
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
use std::io;
use std::sync::{Arc, Mutex, OnceLock};

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::{ExtendedColorType, ImageEncoder};

use super::painting::paint;
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
