//! `--out` checked before any work: a directory that can be written.
//!
//! # Why
//!
//! The pipeline saves each image after downloading and resizing it. With
//! an `--out` that is a file, or a directory that cannot be written, every
//! input would be downloaded and decoded only to fail at its save. Asking
//! the file system first costs one small file, and turns a run of failures
//! into one usage error (exit status 2) that says why.
//!
//! # How
//!
//! [`probe`]: the path must be a directory or be creatable as one; then a
//! probe file `.tandem-probe-<pid>` is written in it and removed. Writing
//! is what the saves will do, so it is the question to ask: permissions,
//! a read-only file system and a full quota all answer it.

use std::fs;
use std::path::Path;

use super::usage::UsageError;

/// Creates `dir` if missing and proves a file can be written in it.
pub fn probe(dir: &Path) -> Result<(), UsageError> {
    let fail = |what: &str, err: &dyn std::fmt::Display| {
        UsageError(format!("--out {}: {what}: {err}", dir.display()))
    };
    match fs::metadata(dir) {
        Ok(meta) if !meta.is_dir() => {
            return Err(UsageError(format!(
                "--out {}: exists and is not a directory",
                dir.display()
            )));
        }
        Ok(_) => {}
        // Missing, or not reachable: creating it says which.
        Err(_) => {
            fs::create_dir_all(dir).map_err(|err| fail("cannot create the directory", &err))?;
        }
    }
    let probe = dir.join(format!(".tandem-probe-{}", std::process::id()));
    fs::write(&probe, b"tandem checks that --out is writable\n")
        .map_err(|err| fail("cannot write a file in the directory", &err))?;
    fs::remove_file(&probe).map_err(|err| fail("cannot remove the probe file", &err))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_directory_is_created_and_left_empty() {
        let dir = std::env::temp_dir().join(format!("tandem-probe-unit-{}", std::process::id()));
        let nested = dir.join("a/b");
        probe(&nested).unwrap();
        assert_eq!(fs::read_dir(&nested).unwrap().count(), 0);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_is_refused() {
        let file = std::env::temp_dir().join(format!("tandem-probe-file-{}", std::process::id()));
        fs::write(&file, b"x").unwrap();
        let error = probe(&file).unwrap_err();
        fs::remove_file(&file).unwrap();
        assert!(
            error.0.ends_with("exists and is not a directory"),
            "{error}"
        );
    }
}
