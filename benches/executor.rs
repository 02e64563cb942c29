//! tandem's executor vs `smol::LocalExecutor`, side by side in one run.
//!
//! Run: `cargo bench --bench executor`
//!
//! * spawn: spawn 100,000 trivial tasks and await them all.
//! * ping-pong: two tasks hand a baton to each other 100,000 times; each
//!   hand-over is one waker call, so this measures the executor's
//!   wake -> schedule -> run path and nothing else.
//! * ping-pong through channels: the same through a pair of one-slot flume
//!   channels (the same channels for both executors), a more realistic
//!   wakeup whose cost is mostly the channel's.

mod common;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::task::{Poll, Waker};

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

/// A baton two players hand to each other: whose turn it is, and the waker
/// of the player waiting for its turn.
#[derive(Default)]
struct Baton {
    turn: Cell<usize>,
    waiting: [RefCell<Option<Waker>>; 2],
}

async fn player(baton: Rc<Baton>, me: usize) {
    let other = 1 - me;
    for _ in 0..PINGS / 2 {
        futures_lite::future::poll_fn(|cx| {
            if baton.turn.get() == me {
                Poll::Ready(())
            } else {
                *baton.waiting[me].borrow_mut() = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await;
        baton.turn.set(other);
        if let Some(waker) = baton.waiting[other].borrow_mut().take() {
            waker.wake();
        }
    }
}

fn tandem_baton() {
    tandem::block_on(async {
        let baton = Rc::new(Baton::default());
        let second = tandem::spawn(player(Rc::clone(&baton), 1));
        tandem::spawn(player(baton, 0)).await;
        second.await;
    });
}

fn smol_baton() {
    let executor = smol::LocalExecutor::new();
    smol::block_on(executor.run(async {
        let baton = Rc::new(Baton::default());
        let second = executor.spawn(player(Rc::clone(&baton), 1));
        executor.spawn(player(baton, 0)).await;
        second.await;
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
    let baton = side_by_side(
        rounds,
        &mut [("tandem", &mut tandem_baton), ("smol", &mut smol_baton)],
    );
    report(
        "ping-pong 100k wakeups",
        baton[0],
        "smol::LocalExecutor",
        baton[1],
        PINGS,
        "<= 0.8",
    );
    let channels = side_by_side(
        rounds,
        &mut [
            ("tandem", &mut tandem_ping_pong),
            ("smol", &mut smol_ping_pong),
        ],
    );
    report(
        "ping-pong via flume channels",
        channels[0],
        "smol::LocalExecutor",
        channels[1],
        PINGS,
        "none: the channel dominates",
    );
}
