//! One seeded random generator for the tests and the benches.
//!
//! Tests that explore many cases (mutated HTTP responses, which pool jobs
//! to drop) and pictures that must look like photos (noise) need random
//! numbers, but the *same* numbers on every run, so that a failure names a
//! case that fails again and a bench measures the same work each time. A
//! dependency would be more than this needs: xorshift64* (Vigna, "An
//! experimental exploration of Marsaglia's xorshift generators", 2016) is
//! three shifts and a multiply, with a period of 2^64 - 1 and output good
//! enough for picking cases and painting noise (not for cryptography).
//!
//! Benches include this file directly:
//! `#[path = "../tests/support/rng.rs"] mod rng;`.
// Each crate that includes this file uses a part of it.
#![allow(dead_code)]

/// A seeded xorshift64* generator.
///
/// ```ignore
/// let mut rng = Rng::new(42);
/// let die = 1 + rng.below(6);
/// ```
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator whose numbers depend only on `seed`.
    pub fn new(seed: u64) -> Rng {
        // A zero state would stay zero forever.
        Rng(seed | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..bound` (`bound > 0`). The modulo's slight bias
    /// towards small numbers does not matter for picking test cases.
    pub fn below(&mut self, bound: usize) -> usize {
        (self.next_u64() % bound as u64) as usize
    }

    /// One of `items` (not empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}
