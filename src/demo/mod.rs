//! Embedded loopback demo server (being written).
