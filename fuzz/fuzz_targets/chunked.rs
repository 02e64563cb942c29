//! Any bytes into the chunked decoder, whole and split in two.
//!
//! The first two bytes choose where to split the rest; the decoder must
//! give the same result either way, and never a body past its cap. The
//! comparison is the one tests/parser_properties.rs makes, from the same
//! file.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/support/chunked_split.rs"]
mod chunked_split;

use chunked_split::decode;

const BODY_CAP: u64 = 4096;
const TRAILER_CAP: usize = 1024;

fuzz_target!(|data: &[u8]| {
    let [high, low, input @ ..] = data else {
        return;
    };
    let cut = usize::from(u16::from_be_bytes([*high, *low])) % (input.len() + 1);
    let whole = decode([input], BODY_CAP, TRAILER_CAP);
    let (a, b) = input.split_at(cut);
    assert_eq!(decode([a, b], BODY_CAP, TRAILER_CAP), whole);
});
