//! Feeding a chunked body to the decoder in pieces, with results that can
//! be compared across different splits of the same bytes.
//!
//! Shared by tests/parser_properties.rs and fuzz/fuzz_targets/chunked.rs
//! (which includes this file by path), so that the property and the fuzzer
//! check the same thing.

use tandem::http::body::BoundedBody;
use tandem::http::chunked::ChunkedDecoder;

/// What decoding a chunked body produced, comparable across splits. The
/// body is compared only on success: after an error it is discarded, and
/// how much of it was stored depends on where the reads ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded {
    /// The body ended after `used` bytes of input.
    Done { body: Vec<u8>, used: usize },
    /// The input ended first: a connection would read more.
    Incomplete { body: Vec<u8> },
    /// The decoder refused the input; the error's `Debug` text.
    Failed(String),
}

/// Decodes the pieces in turn, as a connection delivers reads, until the
/// decoder is done or fails. Asserts the promises that hold for any input:
/// the body never exceeds `body_cap`, and no byte is left unused before the
/// end of the body.
pub fn decode<'a>(
    pieces: impl IntoIterator<Item = &'a [u8]>,
    body_cap: u64,
    trailer_cap: usize,
) -> Decoded {
    let mut decoder = ChunkedDecoder::new(trailer_cap);
    let mut body = BoundedBody::new(body_cap);
    let mut used = 0;
    for piece in pieces {
        let result = decoder.decode(piece, &mut body);
        assert!(body.len() as u64 <= body_cap, "body past its cap");
        match result {
            Err(error) => return Decoded::Failed(format!("{error:?}")),
            Ok(count) => {
                assert!(count <= piece.len());
                used += count;
                if decoder.is_done() {
                    return Decoded::Done {
                        body: body.into_vec(),
                        used,
                    };
                }
                assert_eq!(count, piece.len(), "left bytes unused before the end");
            }
        }
    }
    Decoded::Incomplete {
        body: body.into_vec(),
    }
}
