//! Step 1 of the article: await CPU work from the event loop.
//!
//! The Python original:
//!
//! ```python
//! import asyncio
//! from concurrent.futures import ProcessPoolExecutor
//!
//! def cpu_bound_task(x: int) -> int:
//!     # a stand-in for heavy computation
//!     return sum(i * i for i in range(10**6)) + x
//!
//! async def main():
//!     loop = asyncio.get_running_loop()
//!     with ProcessPoolExecutor() as pool:
//!         result = await loop.run_in_executor(pool, cpu_bound_task, 42)
//!     print("計算結果:", result)
//!
//! asyncio.run(main())
//! ```
//!
//! In tandem the loop is `tandem::block_on`, the pool is a `CpuPool`, and
//! `run_in_executor(pool, f, x)` is `pool.run(move || f(x))`. The loop thread
//! does not compute: while the worker sums, the loop could serve sockets.
//!
//! Run with: `cargo run --release --example 01_run_in_pool`

use tandem::CpuPool;

fn cpu_bound_task(x: u64) -> u64 {
    // A stand-in for heavy computation.
    (0..1_000_000u64).map(|i| i * i).sum::<u64>() + x
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `with ProcessPoolExecutor() as pool:` (one worker per core).
    let pool = CpuPool::new(tandem::pool::default_workers())?;

    // `asyncio.run(main())`
    let result = tandem::block_on(async {
        // `await loop.run_in_executor(pool, cpu_bound_task, 42)`
        pool.run(|| cpu_bound_task(42)).await
    })?;

    println!("計算結果 (result): {result}");
    // Leaving the `with` block: the pool finishes its jobs and joins its threads.
    pool.shutdown();
    Ok(())
}
