//! Dispatch alone: a pipe that stays readable and a read handler that does nothing but count,
//! for many rounds of one `event_dispatch`. Cheap as a test; it is also the fixed workload
//! for counting what one dispatched event costs, for example
//!
//! ```sh
//! cargo test --release -p iolib-iomux --test dispatch_cost --no-run   # prints the binary
//! DISPATCH_ROUNDS=100000 DISPATCH_FDS=1 valgrind --tool=callgrind --toggle-collect='*dispatch_rounds*' \
//!     target/release/deps/dispatch_cost-HASH epoll --test-threads=1
//! ```
//!
//! (instructions per event = the total / (rounds × fds); with one fd, each event pays a whole
//! wait).

use iomux::{Backend, DispatchOptions, Event, EventBase};
use std::cell::Cell;
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::time::Duration;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Runs `n` rounds; kept out of line so a profiler can count just this.
#[inline(never)]
fn dispatch_rounds(eb: &mut EventBase) {
    eb.event_dispatch(DispatchOptions::default()).unwrap();
}

/// `DISPATCH_ROUNDS` waits (default 2000), each reporting `DISPATCH_FDS` ready pipes (default
/// 1): one handler call per pipe per wait.
fn dispatch_alone(b: Backend) {
    let mut eb = EventBase::with_backend(b).unwrap();
    let (rounds, fds) = (env("DISPATCH_ROUNDS", 2000), env("DISPATCH_FDS", 1));
    let n = rounds * fds;
    let calls = Rc::new(Cell::new(0u64));
    let mut pipes = Vec::new();
    for _ in 0..fds {
        let (r, w) = isys::pipe(true).unwrap();
        isys::write(&w, b"x").unwrap();
        let c = calls.clone();
        eb.set_io_handler(r.as_raw_fd(), Event::Read, move |eb, _, _, _| {
            c.set(c.get() + 1);
            if c.get() == n {
                eb.exit_event_loop(Duration::ZERO);
            }
            Ok(())
        })
        .unwrap();
        pipes.push((r, w));
    }
    let before = eb.rounds();
    dispatch_rounds(&mut eb);
    assert_eq!(calls.get(), n);
    assert_eq!(eb.rounds() - before, rounds, "one wait per {fds} events");
}

// One test per backend (skipped when not compiled in), so a profiler can pick one by name.
#[test]
fn epoll() {
    if Backend::Epoll.is_available() {
        dispatch_alone(Backend::Epoll);
    }
}

#[test]
fn poll() {
    if Backend::Poll.is_available() {
        dispatch_alone(Backend::Poll);
    }
}

#[test]
fn select() {
    if Backend::Select.is_available() {
        dispatch_alone(Backend::Select);
    }
}
