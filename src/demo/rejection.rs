//! How the server refuses a request: a status and a one-line reason.
//!
//! # Why
//!
//! Reading a request and routing it can both fail in ways the client must
//! hear about: a head that does not parse (`400`), one too large (`431`),
//! a route that does not exist (`404`), a number out of range (`400`).
//! Each of those is a [`Rejection`], returned as an error so that `?`
//! reaches it, and turned into a text reply in one place (`reply.rs`).
//!
//! # How
//!
//! The server parses request heads with the client's rules (`http::fields`,
//! `http::parse`, `http::body::content_length`), which fail with an
//! [`http::Error`](crate::http::Error). The grammar is the same both ways;
//! only what a refusal *means* differs: a client gives up on the response,
//! a server answers it and closes the connection. [`Rejection::from`] is
//! that difference: a head over the limit is `431 Request Header Fields Too
//! Large`, anything else the grammar refuses is `400 Bad Request` with the
//! same reason.

use crate::http::Error;

/// An answer that refuses a request: a status and a one-line reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rejection {
    pub status: u16,
    pub message: String,
}

impl Rejection {
    pub(crate) fn new(status: u16, message: impl Into<String>) -> Rejection {
        Rejection {
            status,
            message: message.into(),
        }
    }

    /// `400 Bad Request` with `message`.
    pub(crate) fn bad_request(message: impl Into<String>) -> Rejection {
        Rejection::new(400, message)
    }
}

impl From<Error> for Rejection {
    /// The server's answer to a request head the client's rules refuse.
    fn from(error: Error) -> Rejection {
        match error {
            Error::HeadersTooLarge { limit } => {
                Rejection::new(431, format!("the request head is limited to {limit} bytes"))
            }
            Error::TooManyHeaders { limit } => Rejection::new(
                431,
                format!("a request head may have at most {limit} header fields"),
            ),
            Error::Malformed { part, reason } => {
                Rejection::bad_request(format!("{part}: {reason}"))
            }
            other => Rejection::bad_request(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Part;

    #[test]
    fn limits_are_431_and_grammar_is_400() {
        let too_large = Rejection::from(Error::HeadersTooLarge { limit: 16 });
        assert_eq!(too_large.status, 431);
        assert!(too_large.message.contains("16 bytes"));
        let malformed = Rejection::from(Error::Malformed {
            part: Part::HeaderLine,
            reason: "header line without a colon",
        });
        assert_eq!(
            malformed,
            Rejection::bad_request("header line: header line without a colon")
        );
    }
}
