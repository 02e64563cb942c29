//! Property tests of the response parsers, on seeded random mutations.
//!
//! # Why
//!
//! The unit tests of `parse.rs` and `chunked.rs` try the inputs someone
//! thought of. Here a generator makes the inputs nobody thought of: valid
//! responses, mutated by byte flips, insertions, deletions, truncations,
//! splices, duplicated lines and huge numbers. Whatever the bytes, the
//! parsers must keep four promises:
//!
//! 1. never panic: every input gives `Ok` or `Err`;
//! 2. never store more than the limits allow (head bytes, header count,
//!    body bytes);
//! 3. the head parser is *incremental*: any prefix of a head it accepts is
//!    "not complete yet", never an error or a different head;
//! 4. the chunked decoder gives the same result however its input is split
//!    into reads: whole, in two pieces at every point, or byte by byte.
//!
//! # How
//!
//! A seeded generator (`tests/support/rng.rs`, the same cases on every run)
//! picks a corpus entry and one to four mutations. The seeds are fixed, so
//! a failure names a case that fails again on the next run. A cargo-fuzz
//! layout in `fuzz/` drives the same entry points with coverage guidance.

mod support;

use support::chunked_split::{Decoded, decode};
use support::rng::Rng;
use tandem::http::Method;
use tandem::http::body::{BoundedBody, Framing, content_length, framing};
use tandem::http::parse::{HeadLimits, parse_response_head};

/// Cases per property.
const CASES: usize = 20_000;

/// Small limits, so that mutations reach them.
const LIMITS: HeadLimits = HeadLimits {
    max_bytes: 512,
    max_headers: 8,
};
const BODY_CAP: u64 = 256;
const TRAILER_CAP: usize = 128;

/// Valid responses to start from.
const RESPONSES: &[&[u8]] = &[
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n6;a;b=\"c\"\r\n world\r\n0\r\nExpires: never\r\nX-Checksum: 1\r\n\r\n",
    b"HTTP/1.0 404 Not Found\nContent-Length: 0\n\n",
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nX-Folded: a\r\n  b\r\nContent-Length: 3\r\n\r\nabc",
    b"HTTP/1.1 204\r\nServer: x\r\n\r\n",
    b"HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\nA\n0123456789\n0\n\n",
    b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the server closes",
    b"HTTP/1.1 301 Moved\r\nLocation: /x\r\nContent-Length: 2, 2\r\n\r\nok",
];

/// Valid chunked bodies to start from.
const CHUNKED: &[&[u8]] = &[
    b"5\r\nhello\r\n0\r\n\r\n",
    b"5;name=value\r\nhello\r\n6;a;b=\"c\"\r\n world\r\n0\r\nExpires: never\r\n\r\n",
    b"A\n0123456789\n0\n\n",
    b"1f\r\nthirty-one bytes of chunk data.\r\n1F\r\nthirty-one bytes of chunk data.\r\n0\r\n\r\n",
    b"0000001\r\nx\r\n0;last\r\nA: 1\r\nB: 2\r\n\r\n",
];

/// Bytes that matter to an HTTP parser.
const INTERESTING: &[u8] = b"\r\n: \t;,0123456789abcdefABCDEF-+\x00\x7f\x80\xff";

/// Numbers that overflow or exceed limits.
const HUGE: &[&[u8]] = &[
    b"18446744073709551615",
    b"18446744073709551616",
    b"99999999999999999999999",
    b"FFFFFFFFFFFFFFFF",
    b"10000000000000000",
    b"4294967296",
];

/// Applies one random mutation to `input`; `corpus` feeds splices.
fn mutate(rng: &mut Rng, input: &mut Vec<u8>, corpus: &[&[u8]]) {
    let at = |rng: &mut Rng, input: &Vec<u8>| rng.below(input.len() + 1);
    match rng.below(9) {
        0 if !input.is_empty() => {
            let i = rng.below(input.len());
            input[i] ^= 1 << rng.below(8);
        }
        1 if !input.is_empty() => {
            let i = rng.below(input.len());
            input[i] = *rng.pick(INTERESTING);
        }
        2 => {
            let i = at(rng, input);
            let byte = if rng.below(2) == 0 {
                *rng.pick(INTERESTING)
            } else {
                rng.next_u64() as u8
            };
            input.insert(i, byte);
        }
        3 => {
            let start = at(rng, input);
            let end = (start + 1 + rng.below(8)).min(input.len());
            input.drain(start..end);
        }
        4 => input.truncate(at(rng, input)),
        5 => {
            // Splice: this input's start, another input's end.
            let other = rng.pick(corpus);
            let cut = at(rng, input);
            input.truncate(cut);
            input.extend_from_slice(&other[rng.below(other.len() + 1)..]);
        }
        6 => {
            // Duplicate a line, LF included (a repeated header, chunk...).
            let starts: Vec<usize> = std::iter::once(0)
                .chain(
                    input
                        .iter()
                        .enumerate()
                        .filter(|&(_, &b)| b == b'\n')
                        .map(|(i, _)| i + 1),
                )
                .filter(|&i| i < input.len())
                .collect();
            if let Some(&start) = starts.get(rng.below(starts.len().max(1))) {
                let end = input[start..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(input.len(), |i| start + i + 1);
                let line = input[start..end].to_vec();
                input.splice(start..start, line);
            }
        }
        7 => {
            // Replace a run of hex digits (a length, a chunk size) by a huge number.
            let start = at(rng, input);
            if let Some(offset) = input[start..].iter().position(u8::is_ascii_hexdigit) {
                let from = start + offset;
                let len = input[from..]
                    .iter()
                    .take_while(|b| b.is_ascii_hexdigit())
                    .count();
                input.splice(from..from + len, rng.pick(HUGE).iter().copied());
            }
        }
        _ => {
            // Repeat a stretch several times: long lines, many headers.
            let start = at(rng, input);
            let end = (start + 1 + rng.below(16)).min(input.len());
            let stretch = input[start..end].to_vec();
            for _ in 0..1 + rng.below(40) {
                input.splice(start..start, stretch.iter().copied());
            }
        }
    }
}

/// A corpus entry with one to four mutations (sometimes none).
fn mutated(rng: &mut Rng, corpus: &[&[u8]]) -> Vec<u8> {
    let mut input = rng.pick(corpus).to_vec();
    for _ in 0..rng.below(5) {
        mutate(rng, &mut input, corpus);
    }
    input
}

/// Promise 4 for one input; returns the result of feeding it whole.
fn check_chunked_splits(input: &[u8], every_point: bool) -> Decoded {
    let whole = decode([input], BODY_CAP, TRAILER_CAP);
    let context = || format!("input {:?}", String::from_utf8_lossy(input));
    let bytes = decode(input.chunks(1), BODY_CAP, TRAILER_CAP);
    assert_eq!(bytes, whole, "byte by byte differs, {}", context());
    if every_point {
        for cut in 0..=input.len() {
            let (a, b) = input.split_at(cut);
            assert_eq!(
                decode([a, b], BODY_CAP, TRAILER_CAP),
                whole,
                "split at {cut} differs, {}",
                context()
            );
        }
    }
    whole
}

#[test]
fn chunked_decoder_is_split_invariant_and_bounded() {
    let mut rng = Rng::new(0x5EED_C0DE);
    let (mut done, mut failed) = (0, 0);
    for case in 0..CASES {
        let input = mutated(&mut rng, CHUNKED);
        // Every split point for a quarter of the cases keeps the test fast.
        match check_chunked_splits(&input, case % 4 == 0) {
            Decoded::Done { .. } => done += 1,
            Decoded::Failed(_) => failed += 1,
            Decoded::Incomplete { .. } => {}
        }
    }
    // The generator must reach both sides, or the test proves little.
    assert!(
        done > CASES / 10 && failed > CASES / 10,
        "{done} done, {failed} failed"
    );
}

#[test]
fn head_parser_and_framing_never_panic_and_respect_limits() {
    let mut rng = Rng::new(0xBAD_5EED);
    let (mut parsed, mut refused) = (0, 0);
    for _ in 0..CASES {
        let input = mutated(&mut rng, RESPONSES);
        let context = || format!("input {:?}", String::from_utf8_lossy(&input));
        let (head, consumed) = match parse_response_head(&input, &LIMITS) {
            Err(_) => {
                refused += 1;
                continue;
            }
            Ok(None) => {
                assert!(input.len() <= LIMITS.max_bytes, "{}", context());
                continue;
            }
            Ok(Some(parsed)) => parsed,
        };
        parsed += 1;
        assert!(
            consumed <= input.len() && consumed <= LIMITS.max_bytes,
            "{}",
            context()
        );
        assert!(head.headers.len() <= LIMITS.max_headers, "{}", context());
        assert!((100..=999).contains(&head.status), "{}", context());
        // Promise 3: a prefix of an accepted head is incomplete, and more
        // bytes after it change nothing.
        for _ in 0..4 {
            let cut = rng.below(consumed);
            assert!(
                matches!(parse_response_head(&input[..cut], &LIMITS), Ok(None)),
                "prefix of {cut}, {}",
                context()
            );
        }
        let again = parse_response_head(&input[..consumed], &LIMITS).unwrap();
        assert_eq!(again, Some((head.clone(), consumed)), "{}", context());

        // Framing, and the body it frames, within the cap.
        let rest = &input[consumed..];
        match framing(Method::Get, &head) {
            Ok(Framing::Chunked) => {
                assert!(head.headers.get("transfer-encoding").is_some());
                check_chunked_splits(rest, false);
            }
            Ok(Framing::Length(length)) => {
                assert_eq!(content_length(&head.headers).unwrap(), Some(length));
                let mut body = BoundedBody::with_announced_length(BODY_CAP, length);
                let take = rest
                    .len()
                    .min(usize::try_from(length).unwrap_or(usize::MAX));
                if body.extend(&rest[..take]).is_ok() {
                    assert_eq!(body.len(), take);
                }
                assert!(body.len() as u64 <= BODY_CAP);
            }
            Ok(Framing::Empty | Framing::UntilClose) | Err(_) => {}
        }
        assert_eq!(framing(Method::Head, &head).unwrap(), Framing::Empty);
    }
    assert!(
        parsed > CASES / 10 && refused > CASES / 10,
        "{parsed} parsed, {refused} refused"
    );
}

#[test]
fn unmutated_corpus_is_valid() {
    // The generator starts from valid inputs: check that they are.
    for response in RESPONSES {
        let (head, _) = parse_response_head(response, &LIMITS).unwrap().unwrap();
        assert!(framing(Method::Get, &head).is_ok());
    }
    for body in CHUNKED {
        assert!(matches!(
            check_chunked_splits(body, true),
            Decoded::Done { used, .. } if used == body.len()
        ));
    }
}
