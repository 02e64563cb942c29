//! Header fields on the wire: the grammar a request head and a response
//! head share.
//!
//! # Why
//!
//! HTTP/1.1 writes header fields the same way in both directions (RFC 9112
//! §5): `Name: value` lines after the first line of the head. So the rules
//! are written once, here, and used by the client's response parser
//! (`parse.rs`), its chunked trailers (`chunked.rs`), and the demo
//! server's request parser (`src/demo/request.rs`). Each caller decides
//! only what differs: which first line comes before the fields, and what
//! a refusal means (a client [`Error`], a server's `400`).
//!
//! # How
//!
//! * a name is a token (RFC 9110 §5.6.2: letters, digits and
//!   ``!#$%&'*+-.^_`|~``): a space before the colon, a NUL or a non-ASCII
//!   byte in a name is an error;
//! * a value loses the spaces and tabs around it, may not contain control
//!   characters other than tab, and keeps its other bytes, including
//!   obs-text (0x80-0xFF): bytes that are not UTF-8 become U+FFFD in the
//!   stored `String`;
//! * a folded line (starting with a space or tab, "obs-fold") continues
//!   the previous value, joined by one space, as RFC 9112 §5.2 requires of
//!   user agents.

use super::error::Part;
use super::{Error, Headers};

/// Parses `lines` (the header lines of a head, each without its line
/// break, the blank line excluded) into [`Headers`]; at most `max_headers`
/// fields.
pub(crate) fn parse_header_block<'a>(
    lines: impl Iterator<Item = &'a [u8]>,
    max_headers: usize,
) -> Result<Headers, Error> {
    let mut headers = Headers::new();
    for line in lines {
        if let Some(folded) = folded_continuation(line) {
            let value = headers.last_value_mut().ok_or(Error::malformed(
                Part::HeaderLine,
                "folded line before the first header",
            ))?;
            value.push(' ');
            value.push_str(&field_value(folded)?);
            continue;
        }
        if headers.len() == max_headers {
            return Err(Error::TooManyHeaders { limit: max_headers });
        }
        let (name, value) = parse_header_line(line)?;
        headers.push(name, value);
    }
    Ok(headers)
}

/// The rest of `line` if it is an obs-fold continuation: it starts with a
/// space or a tab.
pub(crate) fn folded_continuation(line: &[u8]) -> Option<&[u8]> {
    match line {
        [b' ' | b'\t', folded @ ..] => Some(folded),
        _ => None,
    }
}

/// `Name: value`, with optional whitespace around the value.
pub(crate) fn parse_header_line(line: &[u8]) -> Result<(String, String), Error> {
    let malformed = |reason| Error::malformed(Part::HeaderLine, reason);
    let colon = line
        .iter()
        .position(|&byte| byte == b':')
        .ok_or(malformed("header line without a colon"))?;
    let (name, value) = (&line[..colon], &line[colon + 1..]);
    if name.is_empty() {
        return Err(malformed("empty header name"));
    }
    if !is_token(name) {
        return Err(malformed(
            "header name with a space, control character or non-ASCII byte",
        ));
    }
    // The name is ASCII, so this conversion never replaces anything.
    Ok((
        String::from_utf8_lossy(name).into_owned(),
        field_value(value)?,
    ))
}

/// A header value without surrounding spaces and tabs; control characters
/// other than tab are refused, other bytes converted lossily to UTF-8.
fn field_value(value: &[u8]) -> Result<String, Error> {
    let is_space = |byte: &u8| matches!(byte, b' ' | b'\t');
    let start = value
        .iter()
        .position(|b| !is_space(b))
        .unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|b| !is_space(b))
        .map_or(start, |i| i + 1);
    let value = &value[start..end];
    if value.iter().any(|&byte| is_forbidden_control(byte)) {
        return Err(Error::malformed(
            Part::HeaderLine,
            "control character in a header value",
        ));
    }
    Ok(String::from_utf8_lossy(value).into_owned())
}

/// Control characters, except horizontal tab: never valid in a line.
pub(crate) fn is_forbidden_control(byte: u8) -> bool {
    (byte < 0x20 && byte != b'\t') || byte == 0x7F
}

/// Whether `text` is a token (RFC 9110 §5.6.2): one or more `tchar`s. Header
/// names and request methods are tokens.
pub(crate) fn is_token(text: &[u8]) -> bool {
    !text.is_empty()
        && text
            .iter()
            .all(|&byte| byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(text: &[u8]) -> Result<Headers, Error> {
        parse_header_block(text.split(|&byte| byte == b'\n'), 100)
    }

    fn malformed_part(text: &[u8]) -> Part {
        match block(text) {
            Err(Error::Malformed { part, .. }) => part,
            other => panic!("expected Malformed for {text:?}, got {other:?}"),
        }
    }

    #[test]
    fn values_lose_surrounding_whitespace_only() {
        let headers = block(b"Content-Type: text/html\nX-A:  1 \t\nX-B:a b").unwrap();
        assert_eq!(headers.get("content-type"), Some("text/html"));
        assert_eq!(headers.get("x-a"), Some("1"));
        assert_eq!(headers.get("x-b"), Some("a b"));
    }

    #[test]
    fn obsolete_folding_joins_with_a_space() {
        let headers = block(b"X: a\n  b\n\tc").unwrap();
        assert_eq!(headers.get("x"), Some("a b c"));
        assert_eq!(malformed_part(b" b"), Part::HeaderLine);
    }

    #[test]
    fn values_keep_obs_text_lossily() {
        let headers = block(b"X: caf\xe9").unwrap();
        assert_eq!(headers.get("x"), Some("caf\u{FFFD}"));
    }

    #[test]
    fn rejects_bad_header_lines() {
        for bad in [
            &b"NoColon"[..],
            b": empty",
            b"Name : space",
            b"Na\x00me: nul",
            b"N\xc3\xa4me: utf8",
            b"Name: nul\x00value",
            b"Name: lone\rCR",
        ] {
            assert_eq!(malformed_part(bad), Part::HeaderLine, "{bad:?}");
        }
    }

    #[test]
    fn counts_fields_not_folded_lines() {
        assert_eq!(block(b"A: 1\n 2\nB: 3").unwrap().len(), 2);
        let three = parse_header_block(b"A: 1\nB: 2\nC: 3".split(|&b| b == b'\n'), 2);
        assert!(matches!(three, Err(Error::TooManyHeaders { limit: 2 })));
    }

    #[test]
    fn tokens_are_tchars_only() {
        assert!(is_token(b"GET"));
        assert!(is_token(b"X-Custom_1.0~!"));
        for bad in [&b""[..], b"G ET", b"(x)", b"caf\xc3\xa9", b"a:b"] {
            assert!(!is_token(bad), "{bad:?}");
        }
    }
}
