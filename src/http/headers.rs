//! Header fields: an ordered list of `(name, value)` with case-insensitive
//! lookup.
//!
//! # Why
//!
//! HTTP header names are case-insensitive (`Content-Length` and
//! `content-length` are the same field), a name may appear more than once
//! (`Set-Cookie`), and some fields are comma-separated lists
//! (`Connection: keep-alive, Upgrade`). A `Vec` in arrival order with a
//! case-insensitive lookup handles all three; a response has few enough
//! fields (at most the client's header-count limit) that a linear scan
//! beats hashing.
//!
//! # How
//!
//! Names are kept as received. Values are `String`s: the parser has already
//! rejected control characters, and bytes that are not UTF-8 (allowed by
//! HTTP as "obs-text") are replaced by U+FFFD when the value is stored.

use std::fmt;

/// The header fields of a response, in the order received.
///
/// ```
/// let mut headers = tandem::http::Headers::new();
/// headers.push("Content-Type", "text/plain");
/// headers.push("Connection", "keep-alive, Upgrade");
/// assert_eq!(headers.get("content-type"), Some("text/plain"));
/// assert!(headers.contains_token("CONNECTION", "upgrade"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers {
    fields: Vec<(String, String)>,
}

impl Headers {
    /// No fields.
    pub fn new() -> Headers {
        Headers::default()
    }

    /// Appends a field, keeping any earlier field of the same name.
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.fields.push((name.into(), value.into()));
    }

    /// The value of the first field called `name` (any case).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.get_all(name).next()
    }

    /// The values of every field called `name` (any case), in order.
    pub fn get_all<'s: 'n, 'n>(&'s self, name: &'n str) -> impl Iterator<Item = &'s str> + 'n {
        self.fields
            .iter()
            .filter(move |(field, _)| field.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Whether any field called `name` holds `token` in its comma-separated
    /// list, comparing case-insensitively: `Connection: close`.
    pub fn contains_token(&self, name: &str, token: &str) -> bool {
        self.get_all(name)
            .flat_map(|value| value.split(','))
            .any(|item| item.trim().eq_ignore_ascii_case(token))
    }

    /// Every field as `(name, value)`, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The value of the last field pushed, to extend with a folded line.
    pub(crate) fn last_value_mut(&mut self) -> Option<&mut String> {
        self.fields.last_mut().map(|(_, value)| value)
    }
}

impl fmt::Display for Headers {
    /// One `Name: value` per line, as on the wire.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, value) in self.iter() {
            writeln!(f, "{name}: {value}")?;
        }
        Ok(())
    }
}
