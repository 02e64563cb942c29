//! How much the command line may ask for: every number that sizes memory
//! or threads is bounded, and every file it reads whole.
//!
//! # Why
//!
//! A command line is input too. `--size 100000x100000` once made the
//! resizer ask for 30 GB and abort the process; `--size 20000x20000` ran
//! for over a minute writing 400-megapixel PNGs; a `--workers` of a million
//! asks for a million threads; `--urls /dev/zero` reads forever. So each
//! of them has a bound here, and a value past it is a [`UsageError`]
//! (exit status 2) before any work starts.
//!
//! # How
//!
//! | input                 | bound                                        |
//! |-----------------------|----------------------------------------------|
//! | `--size` W and H      | `--max-output-side`, [`DEFAULT_MAX_OUTPUT_SIDE`] |
//! | `--size` W x H        | `--max-output-pixels`, at most [`MAX_OUTPUT_PIXELS`] |
//! | `--workers`           | [`MAX_WORKERS`]                              |
//! | `--concurrency`       | [`MAX_CONCURRENCY`]                          |
//! | `--urls`              | [`MAX_URLS_FILE_BYTES`]                      |
//! | `--cacert`            | [`MAX_CACERT_FILE_BYTES`]                    |
//!
//! The output pixel bound is also the library's
//! ([`Settings::max_output_pixels`](tandem::resize::Settings)), so the
//! check holds for every image even if the command line missed a case.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use super::usage::UsageError;
use tandem::resize::DEFAULT_MAX_ALLOC;

/// The largest `--size` side allowed without `--max-output-side`.
pub const DEFAULT_MAX_OUTPUT_SIDE: u32 = 8192;
/// The largest `--max-output-pixels`: an RGBA output of this many pixels
/// takes the decoder's whole default allocation bound (512 MiB).
pub const MAX_OUTPUT_PIXELS: u64 = DEFAULT_MAX_ALLOC / 4;
/// The most CPU pool threads.
pub const MAX_WORKERS: usize = 1024;
/// The most downloads in flight.
pub const MAX_CONCURRENCY: usize = 10_000;
/// The largest `--urls` file: 64 MiB, about a million URLs.
pub const MAX_URLS_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// The largest `--cacert` file: 16 MiB, a hundred times a system bundle.
#[cfg_attr(not(feature = "tls"), allow(dead_code))]
pub const MAX_CACERT_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// `--size` against `--max-output-side` and `--max-output-pixels`.
pub fn check_output_size(
    (width, height): (u32, u32),
    max_side: u32,
    max_pixels: u64,
) -> Result<(), UsageError> {
    if width > max_side || height > max_side {
        return Err(UsageError(format!(
            "--size {width}x{height} has a side over {max_side} pixels \
             (raise --max-output-side to allow it)"
        )));
    }
    let pixels = u64::from(width) * u64::from(height);
    if pixels > max_pixels {
        return Err(UsageError(format!(
            "--size {width}x{height} is {pixels} pixels, over {max_pixels} \
             (raise --max-output-pixels to allow it)"
        )));
    }
    Ok(())
}

/// `value` if it is at most `max`, else a usage error naming `flag`.
pub fn at_most<N: PartialOrd + std::fmt::Display>(
    flag: &str,
    value: N,
    max: N,
) -> Result<N, UsageError> {
    if value > max {
        return Err(UsageError(format!("{flag} is at most {max}, not {value}")));
    }
    Ok(value)
}

/// The bytes of `path`, given to `flag`, when they are at most `max`;
/// reads at most `max + 1` bytes whatever the file (`/dev/zero` included).
pub fn read_file(flag: &str, path: &Path, max: u64) -> Result<Vec<u8>, UsageError> {
    let cannot =
        |err: std::io::Error| UsageError(format!("cannot read {flag} {}: {err}", path.display()));
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|file| file.take(max + 1).read_to_end(&mut bytes))
        .map_err(cannot)?;
    if bytes.len() as u64 > max {
        return Err(UsageError(format!(
            "{flag} {} is larger than {max} bytes",
            path.display()
        )));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_sizes_are_bounded_by_side_and_pixels() {
        assert!(check_output_size((8192, 2048), 8192, 16_777_216).is_ok());
        assert!(check_output_size((8193, 1), 8192, 16_777_216).is_err());
        assert!(check_output_size((4097, 4096), 8192, 16_777_216).is_err());
        assert!(check_output_size((u32::MAX, u32::MAX), u32::MAX, u64::MAX).is_ok());
    }

    #[test]
    fn files_are_read_up_to_the_bound() {
        if Path::new("/dev/zero").exists() {
            let error = read_file("--urls", Path::new("/dev/zero"), 1000).unwrap_err();
            assert_eq!(error.0, "--urls /dev/zero is larger than 1000 bytes");
        }
        let error = read_file("--urls", Path::new("/nonexistent/tandem"), 10).unwrap_err();
        assert!(
            error
                .0
                .starts_with("cannot read --urls /nonexistent/tandem")
        );
    }
}
