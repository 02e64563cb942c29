//! The `tandem` command line (being written): for now it runs the first
//! example's work so that `cargo run --release` does something real.

fn main() {
    let pool = tandem::CpuPool::new(2).expect("two workers");
    let result = tandem::block_on(pool.run(|| (0..1_000_000u64).map(|i| i * i).sum::<u64>() + 42));
    println!("計算結果 (result): {result:?}");
}
