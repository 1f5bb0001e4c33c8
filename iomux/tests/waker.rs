//! `Waker` and `DispatchOutcome`: waking and stopping a loop from another thread, and what
//! `event_dispatch` says about why it returned, on every compiled backend.

mod util;

use iomux::*;
use isys::{AsRawFd, OwnedFd};
use std::thread;
use std::time::{Duration, Instant};

const LONG: Duration = Duration::from_secs(5);
/// How soon after a wake the blocked dispatch must return.
const PROMPT: Duration = Duration::from_millis(100);

fn base(b: Backend) -> EventBase {
    EventBase::with_backend(b).unwrap()
}

/// A pipe whose read end never becomes readable, with a handler on it: work that keeps a
/// loop with `exit_when_empty` running.
fn idle_handler(eb: &mut EventBase) -> (OwnedFd, OwnedFd) {
    let (r, w) = isys::pipe(true).unwrap();
    eb.set_io_handler(r.as_raw_fd(), Event::Read, |_, _, _, _| Ok(()))
        .unwrap();
    (r, w)
}

/// Calls `f` with the waker on another thread after `after`; returns the instant just before.
fn later(waker: &Waker, after: Duration, f: fn(&Waker)) -> thread::JoinHandle<Instant> {
    let waker = waker.clone();
    thread::spawn(move || {
        thread::sleep(after);
        let at = Instant::now();
        f(&waker);
        at
    })
}

fn wake_from_another_thread_ends_a_blocked_wait(b: Backend) {
    let mut eb = base(b);
    let waker = eb.waker().unwrap();
    let (_r, _w) = idle_handler(&mut eb);
    let t = later(&waker, Duration::from_millis(50), |w| w.wake().unwrap());
    let outcome = eb
        .event_dispatch(DispatchOptions::default().one_shot(true).timeout(LONG))
        .unwrap();
    let returned = Instant::now();
    let woke = t.join().unwrap();
    assert_eq!(outcome, DispatchOutcome::OneShot, "{b:?}");
    assert!(
        returned.saturating_duration_since(woke) < PROMPT,
        "{b:?}: returned {:?} after the wake",
        returned.saturating_duration_since(woke)
    );
}

fn wake_does_not_end_a_dispatch(b: Backend) {
    let mut eb = base(b);
    let waker = eb.waker().unwrap();
    let (_r, _w) = idle_handler(&mut eb);
    let t = later(&waker, Duration::from_millis(20), |w| {
        for _ in 0..3 {
            w.wake().unwrap();
            thread::sleep(Duration::from_millis(10));
        }
    });
    let start = Instant::now();
    let rounds = eb.rounds();
    let outcome = eb
        .event_dispatch(DispatchOptions::default().timeout(Duration::from_millis(200)))
        .unwrap();
    t.join().unwrap();
    assert_eq!(outcome, DispatchOutcome::Timeout, "{b:?}");
    assert!(start.elapsed() >= Duration::from_millis(200), "{b:?}");
    let woken = eb.rounds() - rounds;
    assert!((2..=10).contains(&woken), "{b:?}: {woken} rounds");
}

fn stop_from_another_thread_ends_the_dispatch(b: Backend) {
    let mut eb = base(b);
    let waker = eb.waker().unwrap();
    let (_r, _w) = idle_handler(&mut eb);
    let t = later(&waker, Duration::from_millis(50), |w| w.stop().unwrap());
    let outcome = eb.event_dispatch(DispatchOptions::default()).unwrap();
    let returned = Instant::now();
    let stopped = t.join().unwrap();
    assert_eq!(outcome, DispatchOutcome::ExitRequested, "{b:?}");
    assert!(
        returned.saturating_duration_since(stopped) < PROMPT,
        "{b:?}"
    );
    // The stop was used up: the next dispatch runs to its own end.
    let outcome = eb
        .event_dispatch(DispatchOptions::default().timeout(Duration::from_millis(30)))
        .unwrap();
    assert_eq!(outcome, DispatchOutcome::Timeout, "{b:?}");
    // A stop that comes before the dispatch ends the next one after its first round.
    waker.stop().unwrap();
    let start = Instant::now();
    let outcome = eb
        .event_dispatch(DispatchOptions::default().timeout(LONG))
        .unwrap();
    assert_eq!(outcome, DispatchOutcome::ExitRequested, "{b:?}");
    assert!(start.elapsed() < PROMPT, "{b:?}");
}

fn a_waker_is_no_work(b: Backend) {
    let mut eb = base(b);
    let waker = eb.waker().unwrap();
    assert!(eb.is_empty() && eb.has_no_work(), "{b:?}");
    let start = Instant::now();
    let outcome = eb
        .event_dispatch(
            DispatchOptions::default()
                .exit_when_empty(true)
                .timeout(LONG),
        )
        .unwrap();
    assert_eq!(outcome, DispatchOutcome::Empty, "{b:?}");
    assert!(start.elapsed() < PROMPT, "{b:?}");
    // A pending wake is no work either.
    waker.wake().unwrap();
    let outcome = eb
        .event_dispatch(
            DispatchOptions::default()
                .exit_when_empty(true)
                .timeout(LONG),
        )
        .unwrap();
    assert_eq!(outcome, DispatchOutcome::Empty, "{b:?}");
    // And a wake while a timer is the only work lets the timer end the loop as usual.
    let start = Instant::now();
    eb.add_timer(Timer::once(Duration::from_millis(60)), |_| Ok(()));
    let t = later(&waker, Duration::from_millis(10), |w| w.wake().unwrap());
    let outcome = eb
        .event_dispatch(
            DispatchOptions::default()
                .exit_when_empty(true)
                .timeout(LONG),
        )
        .unwrap();
    t.join().unwrap();
    assert_eq!(outcome, DispatchOutcome::Empty, "{b:?}");
    assert!(start.elapsed() >= Duration::from_millis(60), "{b:?}");
}

fn many_wakes_are_one_and_do_not_spin(b: Backend) {
    let mut eb = base(b);
    let waker = eb.waker().unwrap();
    let (_r, _w) = idle_handler(&mut eb);
    // Enough to fill a pipe: the writes past that are dropped, the wake stays pending.
    for _ in 0..100_000 {
        waker.wake().unwrap();
    }
    let outcome = eb
        .event_dispatch(DispatchOptions::default().one_shot(true).timeout(LONG))
        .unwrap();
    assert_eq!(outcome, DispatchOutcome::OneShot, "{b:?}");
    let rounds = eb.rounds();
    let outcome = eb
        .event_dispatch(DispatchOptions::default().timeout(Duration::from_millis(50)))
        .unwrap();
    assert_eq!(outcome, DispatchOutcome::Timeout, "{b:?}");
    assert!(eb.rounds() - rounds <= 2, "{b:?}: the wake was drained");
    // Another wake still gets through.
    let t = later(&waker, Duration::from_millis(20), |w| w.wake().unwrap());
    let outcome = eb
        .event_dispatch(DispatchOptions::default().one_shot(true).timeout(LONG))
        .unwrap();
    t.join().unwrap();
    assert_eq!(outcome, DispatchOutcome::OneShot, "{b:?}");
}

fn wakers_are_shared_and_outlive_the_base(b: Backend) {
    fn send_sync_clone<T: Send + Sync + Clone + 'static>() {}
    send_sync_clone::<Waker>();
    let mut eb = base(b);
    let w1 = eb.waker().unwrap();
    let w2 = eb.waker().unwrap();
    let (_r, _w) = idle_handler(&mut eb);
    let t = later(&w2, Duration::from_millis(20), |w| w.stop().unwrap());
    assert_eq!(
        eb.event_dispatch(DispatchOptions::default().timeout(LONG))
            .unwrap(),
        DispatchOutcome::ExitRequested,
        "{b:?}: a second waker stops the same base"
    );
    t.join().unwrap();
    drop(eb);
    // Waking a base that is gone does nothing (and raises no SIGPIPE).
    for _ in 0..100_000 {
        w1.wake().unwrap();
    }
    w1.stop().unwrap();
    assert!(format!("{w1:?}").starts_with("Waker"));
}

fn outcomes_say_why_dispatch_returned(b: Backend) {
    let mut eb = base(b);
    let (_r, _w) = idle_handler(&mut eb);
    // Timeout.
    assert_eq!(
        eb.event_dispatch(DispatchOptions::default().timeout(Duration::from_millis(10)))
            .unwrap(),
        DispatchOutcome::Timeout
    );
    // OneShot.
    assert_eq!(
        eb.event_dispatch(
            DispatchOptions::default()
                .one_shot(true)
                .max_step(Duration::from_millis(10))
        )
        .unwrap(),
        DispatchOutcome::OneShot
    );
    // ExitRequested: from a timer, after a delay, before the dispatch, and within a one-shot
    // round (the exit wins over one_shot).
    eb.add_timer(Timer::once(Duration::from_millis(5)), |eb| {
        eb.exit_event_loop(Duration::ZERO);
        Ok(())
    });
    assert_eq!(
        eb.event_dispatch(DispatchOptions::default().timeout(LONG))
            .unwrap(),
        DispatchOutcome::ExitRequested
    );
    eb.exit_event_loop(Duration::from_millis(10));
    assert_eq!(
        eb.event_dispatch(DispatchOptions::default().timeout(LONG))
            .unwrap(),
        DispatchOutcome::ExitRequested
    );
    eb.exit_event_loop(Duration::ZERO);
    assert_eq!(
        eb.event_dispatch(DispatchOptions::default().timeout(LONG))
            .unwrap(),
        DispatchOutcome::ExitRequested
    );
    eb.add_timer(Timer::once(Duration::ZERO), |eb| {
        eb.exit_event_loop(Duration::ZERO);
        Ok(())
    });
    assert_eq!(
        eb.event_dispatch(DispatchOptions::default().one_shot(true).timeout(LONG))
            .unwrap(),
        DispatchOutcome::ExitRequested
    );
    // Empty: once the last handler goes, and at once on an empty base.
    eb.remove_fd_handlers(_r.as_raw_fd(), Handlers::ALL);
    eb.add_timer(Timer::once(Duration::from_millis(5)), |_| Ok(()));
    assert_eq!(
        eb.event_dispatch(
            DispatchOptions::default()
                .exit_when_empty(true)
                .timeout(LONG)
        )
        .unwrap(),
        DispatchOutcome::Empty
    );
    assert_eq!(
        eb.event_dispatch(DispatchOptions::default().exit_when_empty(true))
            .unwrap(),
        DispatchOutcome::Empty
    );
    // A handler's error is the Err, not an outcome.
    let (r, w) = isys::pipe(true).unwrap();
    isys::write(&w, b"!").unwrap();
    eb.set_io_handler(r.as_raw_fd(), Event::Read, |_, _, _, _| Err("no".into()))
        .unwrap();
    assert!(eb
        .event_dispatch(DispatchOptions::default().timeout(LONG))
        .is_err());
}

per_backend!(
    wake_from_another_thread_ends_a_blocked_wait,
    wake_does_not_end_a_dispatch,
    stop_from_another_thread_ends_the_dispatch,
    a_waker_is_no_work,
    many_wakes_are_one_and_do_not_spin,
    wakers_are_shared_and_outlive_the_base,
    outcomes_say_why_dispatch_returned,
);
