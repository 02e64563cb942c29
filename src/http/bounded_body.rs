//! Collecting a body without ever holding more than a limit.
//!
//! # Why
//!
//! A server may send gigabytes, or announce a `Content-Length` it never
//! sends, or a small one and then keep going. The client must not store
//! more than it agreed to, nor reserve memory on the strength of a claim.
//! So every body, whatever its framing, goes into a [`BoundedBody`], which
//! refuses bytes that would take it past its limit *before* storing them.
//!
//! # How
//!
//! [`BoundedBody::extend`] checks the new length against the limit first,
//! then grows the buffer by doubling (as `Vec` does) but never reserves
//! past the limit. [`BoundedBody::with_announced_length`] reserves room
//! for an announced length up front, but at most [`MAX_PREALLOCATION`]:
//! the announcement is only a claim.

use super::Error;

/// At most this much is reserved up front for a body of announced length:
/// a `Content-Length` under the limit is still only a claim.
const MAX_PREALLOCATION: usize = 1 << 20;

/// A body being collected, which never grows past its limit.
///
/// ```
/// let mut body = tandem::http::body::BoundedBody::new(4);
/// body.extend(b"abc")?;
/// assert!(body.extend(b"de").is_err());
/// assert_eq!(body.into_vec(), b"abc");
/// # Ok::<(), tandem::http::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct BoundedBody {
    bytes: Vec<u8>,
    limit: u64,
}

impl BoundedBody {
    /// An empty body that may hold `limit` bytes.
    pub fn new(limit: u64) -> BoundedBody {
        BoundedBody {
            bytes: Vec::new(),
            limit,
        }
    }

    /// An empty body expecting `announced` bytes: reserves room for them,
    /// but no more than 1 MiB, since the announcement may be a lie.
    pub fn with_announced_length(limit: u64, announced: u64) -> BoundedBody {
        let reserve = announced.min(limit).min(MAX_PREALLOCATION as u64) as usize;
        BoundedBody {
            bytes: Vec::with_capacity(reserve),
            limit,
        }
    }

    /// Appends `bytes`, or fails with [`Error::BodyTooLarge`] and stores
    /// nothing if they would take the body past its limit.
    pub fn extend(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let needed = self.bytes.len() + bytes.len();
        if needed as u64 > self.limit {
            return Err(Error::BodyTooLarge { limit: self.limit });
        }
        if needed > self.bytes.capacity() {
            // Grow by doubling, as Vec does, but never reserve past the limit.
            let cap = usize::try_from(self.limit).unwrap_or(usize::MAX);
            let target = needed.max(self.bytes.capacity() * 2).min(cap);
            self.bytes.reserve_exact(target - self.bytes.len());
        }
        self.bytes.extend_from_slice(bytes);
        Ok(())
    }

    /// Bytes stored so far.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether nothing is stored yet.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The bytes.
    pub fn into_vec(self) -> Vec<u8> {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_reserves_past_its_limit() {
        let mut body = BoundedBody::with_announced_length(1000, u64::MAX);
        assert!(body.bytes.capacity() <= 1000);
        for _ in 0..10 {
            body.extend(&[0; 100]).unwrap();
            assert!(body.bytes.capacity() <= 1000);
        }
        assert!(matches!(
            body.extend(&[0]),
            Err(Error::BodyTooLarge { limit: 1000 })
        ));
        assert_eq!(body.len(), 1000);
    }

    #[test]
    fn reserves_at_most_a_mebibyte_for_a_claim() {
        let body = BoundedBody::with_announced_length(u64::MAX, u64::MAX);
        assert!(body.bytes.capacity() <= MAX_PREALLOCATION);
    }
}
