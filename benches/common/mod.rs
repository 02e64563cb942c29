//! Side-by-side timing shared by the benchmarks: every contender runs in the
//! same process, interleaved round by round, so machine noise hits all of
//! them alike; the median of the rounds is reported.

#![allow(dead_code)] // each bench binary uses its own subset

use std::time::{Duration, Instant};

/// Times `contenders` for `rounds` interleaved rounds; returns the median
/// duration of each, in the order given.
pub fn side_by_side(rounds: usize, contenders: &mut [(&str, &mut dyn FnMut())]) -> Vec<Duration> {
    let samples = side_by_side_samples(rounds, contenders);
    samples.into_iter().map(median).collect()
}

/// Like [`side_by_side`], but every round's duration of each contender:
/// `samples[contender][round]`, for ratios taken round by round.
pub fn side_by_side_samples(
    rounds: usize,
    contenders: &mut [(&str, &mut dyn FnMut())],
) -> Vec<Vec<Duration>> {
    let mut samples: Vec<Vec<Duration>> = contenders.iter().map(|_| Vec::new()).collect();
    for _ in 0..rounds {
        for (index, (_, run)) in contenders.iter_mut().enumerate() {
            let started = Instant::now();
            run();
            samples[index].push(started.elapsed());
        }
    }
    samples
}

/// The median and the quartiles (25th and 75th percentile, nearest rank)
/// of `values`.
pub fn quartiles(mut values: Vec<f64>) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    let at = |fraction: f64| values[((values.len() - 1) as f64 * fraction).round() as usize];
    (at(0.5), at(0.25), at(0.75))
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

/// This process's peak resident set so far (`VmHWM` in
/// `/proc/self/status`), in KiB. Linux only.
pub fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("Linux /proc");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| {
            value
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .expect("a VmHWM line")
}
