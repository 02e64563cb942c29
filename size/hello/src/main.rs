//! The smallest Rust program that prints: what every size in
//! docs/tiny-binaries.md is measured against.

fn main() {
    println!("Hello, world!");
}
