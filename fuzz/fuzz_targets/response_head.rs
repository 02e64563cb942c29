//! Any bytes into the response head parser and the framing rules.
//!
//! The promises checked are those of tests/parser_properties.rs: no panic,
//! nothing stored past the limits, and the framing of any accepted head is
//! decided without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tandem::http::body::framing;
use tandem::http::parse::{parse_response_head, HeadLimits};
use tandem::http::Method;

/// Small limits, so that the fuzzer reaches them.
const LIMITS: HeadLimits = HeadLimits {
    max_bytes: 4096,
    max_headers: 32,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(Some((head, consumed))) = parse_response_head(data, &LIMITS) {
        assert!(consumed <= data.len() && consumed <= LIMITS.max_bytes);
        assert!(head.headers.len() <= LIMITS.max_headers);
        assert!((100..=999).contains(&head.status));
        let _ = framing(Method::Get, &head);
    }
});
