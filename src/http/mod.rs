//! HTTP/1.1 client (being written).
