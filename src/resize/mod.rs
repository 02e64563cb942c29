//! Decode, resize, encode (being written).
