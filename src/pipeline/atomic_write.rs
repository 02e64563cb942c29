//! Saving a file so that no reader ever sees half of it.
//!
//! A run writes `resized_<i>.png` into a directory that another program
//! (a web server, an image viewer) may be reading at the same moment, and
//! the CLI writes its `--timeline` the same way. Writing in place would let
//! that reader see a truncated PNG; writing a temporary file and renaming
//! it over the target is atomic on POSIX file systems.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// Writes `bytes` to `.<name>.tmp-<pid>` next to `path`, then renames it to
/// `path`: a reader sees the old file or the whole new one, never half a
/// PNG. The temporary file is removed on any error.
///
/// It is created with `create_new` (`O_EXCL`), which refuses to follow a
/// symlink planted under its name; `rename` replaces whatever is at `path`,
/// a symlink included, without following it.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path.file_name().map_or_else(
        || "output".into(),
        |name| name.to_string_lossy().into_owned(),
    );
    let temporary = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    // A leftover from an earlier run that died with this same pid.
    let _ = fs::remove_file(&temporary);
    let written = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temporary)
        .and_then(|mut file| file.write_all(bytes))
        .and_then(|()| fs::rename(&temporary, path));
    if written.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_writes_replace_and_leave_no_temporary_file() {
        let dir = std::env::temp_dir().join(format!("tandem-atomic-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("resized_3.png");
        write_atomically(&path, b"old").unwrap();
        write_atomically(&path, b"new").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        // Renaming onto a directory fails: the temporary file goes too.
        let blocked = dir.join("resized_4.png");
        fs::create_dir(&blocked).unwrap();
        assert!(write_atomically(&blocked, b"png").is_err());
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 2);
        fs::remove_dir_all(&dir).unwrap();
    }
}
