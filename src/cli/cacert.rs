//! `--cacert FILE`: the https client trusts the certificate authorities in
//! FILE instead of the built-in roots, as `curl --cacert` does.
//!
//! Read and checked before any download, like every input of the command
//! line: a missing file, one over
//! [`MAX_CACERT_FILE_BYTES`](super::limits::MAX_CACERT_FILE_BYTES), or one
//! without a valid PEM certificate is a [`UsageError`] (exit status 2). The library
//! does the checking (`ClientBuilder::add_root_certificate`); this file
//! only turns its answer into the command's.

use std::path::Path;

use super::usage::UsageError;
use tandem::http::Client;

/// A client with the default settings that trusts the roots in `path`.
#[cfg(feature = "tls")]
pub fn client(path: &Path) -> Result<Client, UsageError> {
    use super::limits::{self, MAX_CACERT_FILE_BYTES};
    let pem = limits::read_file("--cacert", path, MAX_CACERT_FILE_BYTES)?;
    let builder = Client::builder().add_root_certificate(&pem);
    let builder =
        builder.map_err(|err| UsageError(format!("--cacert {}: {err}", path.display())))?;
    Ok(builder.build())
}

/// Without the `tls` feature there is no https to trust roots for.
#[cfg(not(feature = "tls"))]
pub fn client(path: &Path) -> Result<Client, UsageError> {
    Err(UsageError(format!(
        "--cacert {}: tandem was built without the `tls` feature",
        path.display()
    )))
}
