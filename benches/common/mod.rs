//! Side-by-side timing shared by the benchmarks: every contender runs in the
//! same process, interleaved round by round, so machine noise hits all of
//! them alike; the median of the rounds is reported.

#![allow(dead_code)] // each bench binary uses its own subset

use std::time::{Duration, Instant};

/// Times `contenders` for `rounds` interleaved rounds; returns the median
/// duration of each, in the order given.
pub fn side_by_side(rounds: usize, contenders: &mut [(&str, &mut dyn FnMut())]) -> Vec<Duration> {
    let mut samples: Vec<Vec<Duration>> = contenders.iter().map(|_| Vec::new()).collect();
    for _ in 0..rounds {
        for (index, (_, run)) in contenders.iter_mut().enumerate() {
            let started = Instant::now();
            run();
            samples[index].push(started.elapsed());
        }
    }
    samples.into_iter().map(median).collect()
}

pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Prints one line: `name: ours vs reference = ratio (target)`.
pub fn report(
    name: &str,
    ours: Duration,
    reference_name: &str,
    reference: Duration,
    per: u32,
    target: &str,
) {
    let ratio = ours.as_secs_f64() / reference.as_secs_f64();
    println!(
        "{name:<34} tandem {:>9.3} ms ({:>7.3} us/op)   {reference_name} {:>9.3} ms ({:>7.3} us/op)   ratio {ratio:.2}  (target: {target})",
        ours.as_secs_f64() * 1e3,
        ours.as_secs_f64() * 1e6 / f64::from(per),
        reference.as_secs_f64() * 1e3,
        reference.as_secs_f64() * 1e6 / f64::from(per),
    );
}
