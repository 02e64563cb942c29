//! Writing JSON string literals, shared by the demo server's `/get` and the
//! command line's `--json` lines.
//!
//! tandem writes little JSON and reads none, so it needs no JSON library:
//! only this, the one part that is easy to get wrong.

use std::fmt::Write as _;

/// `text` as a JSON string literal, quotes included. Escapes what JSON
/// requires (`"`, `\` and control characters); the rest stays UTF-8.
///
/// ```
/// assert_eq!(tandem::json::string("say \"hi\"\n"), r#""say \"hi\"\n""#);
/// ```
pub fn string(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\r' => quoted.push_str("\\r"),
            '\t' => quoted.push_str("\\t"),
            c if c.is_control() => {
                // Every char `is_control` matches is in the BMP: one \u escape.
                let _ = write!(quoted, "\\u{:04x}", u32::from(c));
            }
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(string("plain é"), "\"plain é\"");
        assert_eq!(string("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(
            string("\n\r\t\u{1}\u{1b}\u{7f}"),
            r#""\n\r\t\u0001\u001b\u007f""#
        );
    }
}
