//! RESP2, the protocol Redis speaks: commands out, replies in, as pure
//! functions over bytes so that they are testable without a socket.
//!
//! # Why by hand
//!
//! RESP2 is five kinds of reply, each announced by its first byte and ended
//! by `\r\n`; a parser is a page. Writing it here means every size the
//! server controls is bounded *before* anything is allocated for it: a
//! bulk string's announced length, an array's element count, the length of
//! a status line, the nesting depth.
//!
//! # How
//!
//! ```text
//!  command  ["GET", "k"]   ─► *2\r\n$3\r\nGET\r\n$1\r\nk\r\n
//!  replies  +OK\r\n                    Value::Simple("OK")
//!           -ERR wrong type\r\n        Value::Error("ERR wrong type")
//!           :42\r\n                    Value::Integer(42)
//!           $5\r\nhello\r\n            Value::Bulk(b"hello")
//!           $-1\r\n   *-1\r\n          Value::Nil
//!           *2\r\n:1\r\n:2\r\n          Value::Array([Integer(1), Integer(2)])
//! ```
//!
//! [`parse`] looks at the bytes received so far: a complete reply and how
//! many bytes it used, `Ok(None)` when more are needed, or an error as soon
//! as the bytes cannot be a valid reply (so a server that is not Redis is
//! refused at its first byte, not after a timeout).

use super::Error;

/// One reply from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `$-1` or `*-1`: no value (a missing key, a BRPOP that timed out).
    Nil,
    /// `+OK`: a status line.
    Simple(String),
    /// `-ERR ...`: the server refused the command.
    Error(String),
    /// `:n`.
    Integer(i64),
    /// `$n`: binary-safe bytes.
    Bulk(Vec<u8>),
    /// `*n`: replies.
    Array(Vec<Value>),
}

/// How much one reply may hold. Every limit is checked before the bytes it
/// guards are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyLimits {
    /// Longest bulk string, in bytes.
    pub max_bulk_bytes: usize,
    /// Most elements in one array.
    pub max_elements: usize,
    /// Longest status, error or integer line, in bytes.
    pub max_line_bytes: usize,
    /// Deepest nesting of arrays (Redis's own replies use 2 at most here).
    pub max_depth: usize,
}

impl Default for ReplyLimits {
    /// 64 MiB bulk strings, 65 536 elements, 64 KiB lines, depth 4.
    fn default() -> ReplyLimits {
        ReplyLimits {
            max_bulk_bytes: 64 << 20,
            max_elements: 1 << 16,
            max_line_bytes: 64 << 10,
            max_depth: 4,
        }
    }
}

/// A command as RESP bytes: an array of bulk strings.
pub fn encode(args: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + args.iter().map(|arg| arg.len() + 16).sum::<usize>());
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// The first complete reply in `bytes` and the number of bytes it used;
/// `Ok(None)` if `bytes` is a valid beginning that needs more.
pub fn parse(bytes: &[u8], limits: &ReplyLimits) -> Result<Option<(Value, usize)>, Error> {
    parse_at(bytes, 0, limits, 0)
}

fn parse_at(
    bytes: &[u8],
    at: usize,
    limits: &ReplyLimits,
    depth: usize,
) -> Result<Option<(Value, usize)>, Error> {
    let Some(&kind) = bytes.get(at) else {
        return Ok(None);
    };
    if !matches!(kind, b'+' | b'-' | b':' | b'$' | b'*') {
        return Err(Error::Protocol(format!(
            "a reply starting with {:?}, not one of + - : $ * (is this a Redis server?)",
            char::from(kind)
        )));
    }
    let Some((line, next)) = line(bytes, at + 1, limits.max_line_bytes)? else {
        return Ok(None);
    };
    let text = || String::from_utf8_lossy(line).into_owned();
    match kind {
        b'+' => Ok(Some((Value::Simple(text()), next))),
        b'-' => Ok(Some((Value::Error(text()), next))),
        b':' => Ok(Some((Value::Integer(number(line)?), next))),
        b'$' => {
            let length = number(line)?;
            if length < 0 {
                return Ok(Some((Value::Nil, next)));
            }
            let length = usize::try_from(length).unwrap_or(usize::MAX);
            if length > limits.max_bulk_bytes {
                return Err(Error::ReplyTooLarge {
                    what: "bulk string",
                    limit: limits.max_bulk_bytes,
                });
            }
            let end = next + length;
            if bytes.len() < end + 2 {
                return Ok(None);
            }
            if &bytes[end..end + 2] != b"\r\n" {
                return Err(Error::Protocol("a bulk string not ended by CRLF".into()));
            }
            Ok(Some((Value::Bulk(bytes[next..end].to_vec()), end + 2)))
        }
        _ => {
            let count = number(line)?;
            if count < 0 {
                return Ok(Some((Value::Nil, next)));
            }
            let count = usize::try_from(count).unwrap_or(usize::MAX);
            if count > limits.max_elements {
                return Err(Error::ReplyTooLarge {
                    what: "array",
                    limit: limits.max_elements,
                });
            }
            if depth >= limits.max_depth {
                return Err(Error::ReplyTooLarge {
                    what: "array nesting",
                    limit: limits.max_depth,
                });
            }
            let mut items = Vec::new();
            let mut at = next;
            for _ in 0..count {
                match parse_at(bytes, at, limits, depth + 1)? {
                    Some((item, next)) => {
                        items.push(item);
                        at = next;
                    }
                    None => return Ok(None),
                }
            }
            Ok(Some((Value::Array(items), at)))
        }
    }
}

/// The bytes from `start` up to the next CRLF, and where the next line
/// starts; an error if no CRLF comes within `max` bytes.
fn line(bytes: &[u8], start: usize, max: usize) -> Result<Option<(&[u8], usize)>, Error> {
    let window = &bytes[start.min(bytes.len())..bytes.len().min(start + max + 2)];
    match window.windows(2).position(|pair| pair == b"\r\n") {
        Some(end) => Ok(Some((&window[..end], start + end + 2))),
        None if window.len() >= max + 2 => Err(Error::ReplyTooLarge {
            what: "reply line",
            limit: max,
        }),
        None => Ok(None),
    }
}

fn number(line: &[u8]) -> Result<i64, Error> {
    std::str::from_utf8(line)
        .ok()
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| {
            Error::Protocol(format!(
                "{:?} is not a number",
                String::from_utf8_lossy(line)
            ))
        })
}

impl Value {
    /// The bytes of a bulk or status reply; `None` for anything else.
    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bulk(bytes) => Some(bytes),
            Value::Simple(text) => Some(text.as_bytes()),
            _ => None,
        }
    }

    /// The number of an integer reply.
    pub fn integer(&self) -> Option<i64> {
        match self {
            Value::Integer(number) => Some(*number),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(bytes: &[u8]) -> Value {
        let (value, used) = parse(bytes, &ReplyLimits::default()).unwrap().unwrap();
        assert_eq!(used, bytes.len());
        value
    }

    #[test]
    fn commands_are_arrays_of_bulk_strings() {
        assert_eq!(encode(&[b"GET", b"k"]), b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
        assert_eq!(encode(&[b""]), b"*1\r\n$0\r\n\r\n");
    }

    #[test]
    fn every_kind_of_reply_parses() {
        assert_eq!(one(b"+OK\r\n"), Value::Simple("OK".into()));
        assert_eq!(one(b"-ERR no\r\n"), Value::Error("ERR no".into()));
        assert_eq!(one(b":-42\r\n"), Value::Integer(-42));
        assert_eq!(one(b"$5\r\nhe\r\no\r\n"), Value::Bulk(b"he\r\no".to_vec()));
        assert_eq!(one(b"$-1\r\n"), Value::Nil);
        assert_eq!(one(b"*-1\r\n"), Value::Nil);
        assert_eq!(
            one(b"*2\r\n$1\r\nq\r\n*1\r\n:1\r\n"),
            Value::Array(vec![
                Value::Bulk(b"q".to_vec()),
                Value::Array(vec![Value::Integer(1)])
            ])
        );
    }

    #[test]
    fn every_prefix_of_a_reply_asks_for_more() {
        let whole = b"*3\r\n$3\r\nabc\r\n:7\r\n+fine\r\n";
        for end in 0..whole.len() {
            assert_eq!(parse(&whole[..end], &ReplyLimits::default()).unwrap(), None);
        }
    }

    #[test]
    fn limits_refuse_before_storing() {
        let limits = ReplyLimits {
            max_bulk_bytes: 8,
            max_elements: 2,
            max_line_bytes: 16,
            max_depth: 1,
        };
        let refused = |bytes: &[u8]| match parse(bytes, &limits) {
            Err(Error::ReplyTooLarge { what, .. }) => what,
            other => panic!("{other:?}"),
        };
        // Only the announcement has arrived: refused at once.
        assert_eq!(refused(b"$9\r\n"), "bulk string");
        assert_eq!(refused(b"$99999999999999\r\n"), "bulk string");
        assert_eq!(refused(b"*3\r\n"), "array");
        assert_eq!(refused(b"+abcdefghijklmnopqrstu"), "reply line");
        assert_eq!(refused(b"*1\r\n*1\r\n"), "array nesting");
    }

    #[test]
    fn bytes_that_are_not_resp_are_refused_at_once() {
        for bytes in [
            &b"HTTP/1.1 400 Bad Request\r\n"[..],
            b"SSH-2.0",
            b":x\r\n",
            b"$3\r\nabcd\r\n",
        ] {
            assert!(matches!(
                parse(bytes, &ReplyLimits::default()),
                Err(Error::Protocol(_))
            ));
        }
    }
}
