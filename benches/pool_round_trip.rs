//! One CPU job's round trip from the loop and back: tandem's `CpuPool` vs
//! `blocking::unblock`, both awaited from tandem's loop, side by side.
//!
//! Run: `cargo bench --bench pool_round_trip`
//!
//! Each round submits an empty job, awaits its result, and repeats, so the
//! figure is pure overhead: queueing, waking a worker, waking the loop.

mod common;

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
}
