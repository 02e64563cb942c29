//! Resolving a redirect's `Location` against the URL it came from.
//!
//! # Why
//!
//! A `Location` may be absolute (`https://other/x`), or relative in four
//! ways: to the scheme (`//other/x`), to the host (`/login`), to the
//! directory (`../img.png`), or to the path (`?page=2`). A client that
//! follows redirects must resolve each one exactly as a browser would, or
//! it lands somewhere else.
//!
//! # How
//!
//! RFC 3986 §5.2, for the references a redirect can hold: an absolute
//! reference is parsed on its own (and must be http or https), a
//! scheme-relative one borrows the scheme, and the others replace part of
//! the base's target, whose `.` and `..` segments are then removed
//! ([`normalize_target`], §5.2.4). The fragment is dropped, as in
//! [`Url::parse`].

use super::{Url, encode_target, split_scheme};
use crate::http::Error;

impl Url {
    /// Resolves `reference` (a redirect's `Location`) against this URL.
    ///
    /// An absolute reference to a scheme other than http(s) is
    /// [`Error::RedirectScheme`].
    pub fn join(&self, reference: &str) -> Result<Url, Error> {
        let invalid = |reason| Error::InvalidUrl {
            url: reference.to_string(),
            reason,
        };
        let reference = reference.trim();
        if split_scheme(reference).is_some() {
            return Url::parse(reference).map_err(|error| match error {
                Error::UnsupportedScheme(_) => Error::RedirectScheme {
                    location: reference.to_string(),
                },
                other => other,
            });
        }
        if reference.starts_with("//") {
            return Url::parse(&format!("{}:{reference}", self.scheme.as_str()));
        }
        let reference = reference.split('#').next().unwrap_or_default();
        let reference = encode_target(reference).map_err(invalid)?;
        let target = if reference.is_empty() {
            self.target.clone()
        } else if reference.starts_with('?') {
            format!("{}{reference}", self.path())
        } else if reference.starts_with('/') {
            normalize_target(&reference)
        } else {
            // A relative path replaces the last segment of the base path.
            let base = self.path();
            let directory = &base[..=base.rfind('/').unwrap_or(0)];
            normalize_target(&format!("{directory}{reference}"))
        };
        Ok(Url {
            target,
            ..self.clone()
        })
    }
}

/// Removes `.` and `..` segments from the path of `target` (RFC 3986
/// §5.2.4); the query is kept as is.
fn normalize_target(target: &str) -> String {
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (target, None),
    };
    let mut segments: Vec<&str> = Vec::new();
    let mut ends_in_directory = false;
    for segment in path.split('/').skip(1) {
        ends_in_directory = matches!(segment, "." | "..");
        match segment {
            "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }
    if ends_in_directory {
        segments.push("");
    }
    let mut normalized = format!("/{}", segments.join("/"));
    if let Some(query) = query {
        normalized.push('?');
        normalized.push_str(query);
    }
    normalized
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn joins_references() {
        let base = url("http://h:81/a/b/c?q");
        let joined = |reference| base.join(reference).unwrap().to_string();
        assert_eq!(joined("https://other/x"), "https://other/x");
        assert_eq!(joined("//other/x"), "http://other/x");
        assert_eq!(joined("/x/./y/../z"), "http://h:81/x/z");
        assert_eq!(joined("d"), "http://h:81/a/b/d");
        assert_eq!(joined("../d?r"), "http://h:81/a/d?r");
        assert_eq!(joined("../../../.."), "http://h:81/");
        assert_eq!(joined("?r"), "http://h:81/a/b/c?r");
        assert_eq!(joined(""), "http://h:81/a/b/c?q");
        assert_eq!(joined("#f"), "http://h:81/a/b/c?q");
        assert!(matches!(
            base.join("ftp://h/file"),
            Err(Error::RedirectScheme { .. })
        ));
        assert!(matches!(
            base.join("javascript:alert(1)"),
            Err(Error::RedirectScheme { .. })
        ));
    }
}
