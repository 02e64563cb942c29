//! One CPU job's round trip from the loop and back: tandem's `CpuPool` vs
//! `blocking::unblock`, both awaited from tandem's loop, side by side.
//!
//! Run: `cargo bench --bench pool_round_trip`
//!
//! Each round submits an empty job, awaits its result, and repeats, so the
//! figure is pure overhead: queueing, waking a worker, waking the loop.

mod common;

use std::time::Duration;

use common::{report, side_by_side};

const TRIPS: u32 = 20_000;

fn main() {
    let pool = tandem::CpuPool::new(2).unwrap();
    let mut pool_trips = || {
        tandem::block_on(async {
            for i in 0..TRIPS {
                std::hint::black_box(pool.run(move || i).await.unwrap());
            }
        })
    };
    let mut unblock_trips = || {
        tandem::block_on(async {
            for i in 0..TRIPS {
                std::hint::black_box(blocking::unblock(move || i).await);
            }
        })
    };
    let medians = side_by_side(
        9,
        &mut [
            ("CpuPool", &mut pool_trips),
            ("unblock", &mut unblock_trips),
        ],
    );
    report(
        "empty job round trip",
        medians[0],
        "blocking::unblock",
        medians[1],
        TRIPS,
        "<= 0.5",
    );

    // Spinning must stop when work stops: an idle pool and loop cost no CPU.
    let before = process_cpu_time();
    tandem::block_on(async {
        pool.run(|| ()).await.unwrap();
        async_io::Timer::after(Duration::from_secs(1)).await;
    });
    println!(
        "CPU used by the whole process in 1 s of idling after a job: {:.0} ms (resolution: 10 ms)",
        (process_cpu_time() - before).as_secs_f64() * 1e3
    );
}

/// User + system CPU time of this process so far, from /proc/self/stat.
fn process_cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // utime and stime are fields 14 and 15; count after the command name,
    // which is in parentheses and may contain spaces.
    let after_name = stat.rsplit(')').next().unwrap_or("");
    let ticks: u64 = after_name
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|field| field.parse::<u64>().ok())
        .sum();
    // Clock ticks: 100 per second on Linux.
    Duration::from_millis(ticks * 10)
}
