//! Listen, then check again: waiting for a condition that another task or
//! thread makes true and announces on an [`Event`].
//!
//! # Why
//!
//! The semaphore waits for a free permit, a pool submitter for room in the
//! job queue. Both try first, and wait only when the attempt fails. The
//! naive wait (try; on failure, listen; await) loses a wakeup: a permit
//! released *between* the failed try and the listen notifies nobody, and
//! the waiter sleeps on although the permit is free.
//!
//! So the order here is try, listen, try *again*, and only then await: an
//! event notified after the listen wakes the listener, and one notified
//! before it is seen by the second try. An [`Event`] waits in O(1) per
//! waiter however many there are (a pipeline may hold 100,000 of them).

use event_listener::Event;

/// Calls `attempt` until it gives a value, awaiting `event` between
/// attempts; returns the value.
///
/// Whoever makes an attempt succeed must notify `event` afterwards (for
/// example `notify_additional(1)` when one permit comes free).
pub(crate) async fn until<T>(event: &Event, mut attempt: impl FnMut() -> Option<T>) -> T {
    let mut listener = None;
    loop {
        if let Some(value) = attempt() {
            return value;
        }
        match listener.take() {
            // Listen, then try again: a notification sent in between the
            // failed attempt and the listen is not missed.
            None => listener = Some(event.listen()),
            Some(listener) => listener.await,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::pin::pin;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::task::{Context, Poll, Wake, Waker};

    use super::*;

    /// Records whether it was woken.
    #[derive(Default)]
    struct Flag(AtomicBool);

    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    #[test]
    fn the_second_attempt_sees_what_came_before_the_listen() {
        // The condition becomes true, notifying nobody (no one listens
        // yet), between the first attempt and the second, which must find
        // it without waiting for a notification.
        let event = Event::new();
        let attempts = Cell::new(0);
        let flag = Arc::new(Flag::default());
        let waker = Waker::from(Arc::clone(&flag));
        let mut waiting = pin!(until(&event, || {
            attempts.set(attempts.get() + 1);
            event.notify(usize::MAX); // no listener yet: lost
            (attempts.get() == 2).then_some(7)
        }));
        let poll = waiting.as_mut().poll(&mut Context::from_waker(&waker));
        assert_eq!((poll, attempts.get()), (Poll::Ready(7), 2));
    }

    #[test]
    fn a_notification_wakes_the_waiter() {
        let event = Event::new();
        let ready = AtomicBool::new(false);
        let flag = Arc::new(Flag::default());
        let waker = Waker::from(Arc::clone(&flag));
        let mut cx = Context::from_waker(&waker);
        let mut waiting = pin!(until(&event, || ready
            .load(Ordering::SeqCst)
            .then_some("ready")));
        assert_eq!(waiting.as_mut().poll(&mut cx), Poll::Pending);
        assert!(!flag.0.load(Ordering::SeqCst));
        ready.store(true, Ordering::SeqCst);
        event.notify_additional(1);
        assert!(
            flag.0.load(Ordering::SeqCst),
            "the notification woke the waiter"
        );
        assert_eq!(waiting.as_mut().poll(&mut cx), Poll::Ready("ready"));
    }
}
