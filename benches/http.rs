//! tandem's HTTP client vs ureq on `blocking::unblock` threads, side by side
//! against the same embedded demo server in one run.
//!
//! Run: `cargo bench --bench http`
//!
//! Workload: 2,000 GETs of 16 KiB bodies, 64 in flight at a time. tandem
//! runs them all on its one loop thread; ureq, a blocking client, needs a
//! thread per request in flight.

mod common;

use std::time::Duration;

use common::side_by_side;

const REQUESTS: usize = 2_000;
const IN_FLIGHT: usize = 64;

/// Threads in this process right now.
fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, |tasks| tasks.count())
}

fn main() {
    let server = tandem::demo::Server::start().expect("demo server");
    let url = server.url("/bytes/16384");
    // Both clients keep up to IN_FLIGHT idle connections to the server.
    let client = tandem::http::Client::builder()
        .max_idle_per_host(IN_FLIGHT)
        .build();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .max_idle_connections_per_host(IN_FLIGHT)
        .build()
        .into();
    let limit = tandem::Semaphore::new(IN_FLIGHT);
    let (mut tandem_threads, mut ureq_threads) = (0, 0);
    // Threads before any client ran: main, the demo server's, async-io's.
    let baseline_threads = thread_count();

    let mut tandem_run = || {
        let bytes: usize = tandem::block_on(tandem::join_all((0..REQUESTS).map(|_| async {
            let _permit = limit.acquire().await;
            client.get(&url).await.expect("GET").body().len()
        })))
        .into_iter()
        .sum();
        assert_eq!(bytes, REQUESTS * 16_384);
        if tandem_threads == 0 {
            tandem_threads = thread_count();
        }
    };
    let mut ureq_run = || {
        let bytes: usize = tandem::block_on(tandem::join_all((0..REQUESTS).map(|_| async {
            let _permit = limit.acquire().await;
            let (agent, url) = (agent.clone(), url.clone());
            tandem::unblock(move || {
                let mut response = agent.get(&url).call().expect("GET");
                response.body_mut().read_to_vec().expect("body").len()
            })
            .await
        })))
        .into_iter()
        .sum();
        assert_eq!(bytes, REQUESTS * 16_384);
        ureq_threads = ureq_threads.max(thread_count());
    };

    // A first tandem run before any blocking thread exists counts tandem's threads.
    tandem_run();
    let medians = side_by_side(
        7,
        &mut [("tandem", &mut tandem_run), ("ureq", &mut ureq_run)],
    );
    let throughput = |elapsed: Duration| REQUESTS as f64 / elapsed.as_secs_f64();
    println!(
        "2,000 GETs x 16 KiB, {IN_FLIGHT} in flight: tandem {:.0} req/s, ureq+unblock {:.0} req/s, tandem/ureq throughput {:.2}x (target >= 1.5)",
        throughput(medians[0]),
        throughput(medians[1]),
        medians[1].as_secs_f64() / medians[0].as_secs_f64(),
    );
    println!(
        "threads the clients added: tandem {} (its loop is this thread), ureq+unblock {}",
        tandem_threads.saturating_sub(baseline_threads),
        ureq_threads.saturating_sub(baseline_threads),
    );
}
