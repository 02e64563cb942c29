//! tandem's executor vs `smol::LocalExecutor`, side by side in one run.
//!
//! Run: `cargo bench --bench executor`
//!
//! * spawn: spawn 100,000 trivial tasks and await them all.
//! * ping-pong: two tasks wake each other 100,000 times through a pair of
//!   one-slot flume channels (the same channels for both executors).

mod common;

use common::{report, side_by_side};

const TASKS: u32 = 100_000;
const PINGS: u32 = 100_000;

fn tandem_spawn() {
    tandem::block_on(async {
        let tasks: Vec<_> = (0..TASKS)
            .map(|i| tandem::spawn(async move { i }))
            .collect();
        for task in tasks {
            std::hint::black_box(task.await);
        }
    });
}

fn smol_spawn() {
    let executor = smol::LocalExecutor::new();
    smol::block_on(executor.run(async {
        let tasks: Vec<_> = (0..TASKS)
            .map(|i| executor.spawn(async move { i }))
            .collect();
        for task in tasks {
            std::hint::black_box(task.await);
        }
    }));
}

/// The two halves of a ping-pong: `pinger` sends, then waits for the reply.
async fn ping(to: flume::Sender<u32>, from: flume::Receiver<u32>) {
    for i in 0..PINGS {
        to.send_async(i).await.unwrap();
        from.recv_async().await.unwrap();
    }
}

async fn pong(to: flume::Sender<u32>, from: flume::Receiver<u32>) {
    while let Ok(i) = from.recv_async().await {
        to.send_async(i).await.unwrap();
    }
}

fn tandem_ping_pong() {
    tandem::block_on(async {
        let (to_pong, pong_inbox) = flume::bounded(1);
        let (to_ping, ping_inbox) = flume::bounded(1);
        let ponger = tandem::spawn(pong(to_ping, pong_inbox));
        tandem::spawn(ping(to_pong, ping_inbox)).await;
        ponger.await;
    });
}

fn smol_ping_pong() {
    let executor = smol::LocalExecutor::new();
    smol::block_on(executor.run(async {
        let (to_pong, pong_inbox) = flume::bounded(1);
        let (to_ping, ping_inbox) = flume::bounded(1);
        let ponger = executor.spawn(pong(to_ping, pong_inbox));
        executor.spawn(ping(to_pong, ping_inbox)).await;
        ponger.await;
    }));
}

fn main() {
    let rounds = 15;
    let spawn = side_by_side(
        rounds,
        &mut [("tandem", &mut tandem_spawn), ("smol", &mut smol_spawn)],
    );
    report(
        "spawn+await 100k tasks",
        spawn[0],
        "smol::LocalExecutor",
        spawn[1],
        TASKS,
        "<= 0.8",
    );
    let pingpong = side_by_side(
        rounds,
        &mut [
            ("tandem", &mut tandem_ping_pong),
            ("smol", &mut smol_ping_pong),
        ],
    );
    report(
        "ping-pong 100k wakeups",
        pingpong[0],
        "smol::LocalExecutor",
        pingpong[1],
        PINGS,
        "<= 0.8",
    );
}
