//! Zero heap allocations per dispatched event in steady state, on every compiled backend:
//! a counting global allocator around a ping-pong over a socketpair, with a handler
//! timeout and a repeating timer in play. Only the dispatching thread's allocations count:
//! the test harness's own thread allocates now and then (its bookkeeping of running tests).

use iomux::{Backend, DispatchOptions, Event, EventBase, IoOptions, Timer};
use isys::{AsRawFd, MsgFlags};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

struct Counting;
static ALLOCS: AtomicU64 = AtomicU64::new(0);
thread_local! {
    /// Set on the dispatching thread while its allocations count.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

fn counting() -> bool {
    COUNTING.try_with(Cell::get).unwrap_or(false)
}
static CALLS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        if counting() {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as ours.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        if counting() {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as ours.
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn ping_pong(backend: Backend, rounds: u32) -> (u64, u64, u64) {
    let mut eb = EventBase::with_backend(backend).unwrap();
    let (a, b) = isys::socketpair(isys::libc::AF_UNIX, isys::libc::SOCK_STREAM, 0, true).unwrap();
    let (afd, bfd) = (a.as_raw_fd(), b.as_raw_fd());
    // A second handle on a's socket to start the exchange.
    let kick = isys::dup(&a).unwrap();
    // Each side echoes what it reads; one byte circulates forever.
    for (fd, sock) in [(afd, a), (bfd, b)] {
        eb.set_io_handler_with(
            fd,
            Event::Read,
            IoOptions::new().timeout(Duration::from_secs(60)),
            move |_, _, _, _| {
                let mut buf = [0u8; 64];
                let n = isys::recv(&sock, &mut buf, MsgFlags::empty())?;
                isys::send(&sock, &buf[..n], MsgFlags::empty())?;
                CALLS.fetch_add(1, Ordering::Relaxed);
                Ok(())
            },
        )
        .unwrap();
    }
    eb.add_timer(Timer::every(Duration::from_millis(1)), |_| Ok(()));
    isys::send(&kick, b"p", MsgFlags::empty()).unwrap();
    let opts = DispatchOptions::default().one_shot(true);
    for _ in 0..1000 {
        eb.event_dispatch(opts).unwrap(); // warm-up: buffers reach their steady size
    }
    ALLOCS.store(0, Ordering::SeqCst);
    let calls = CALLS.load(Ordering::SeqCst);
    let before = eb.rounds();
    COUNTING.set(true);
    for _ in 0..rounds {
        eb.event_dispatch(opts).unwrap();
    }
    COUNTING.set(false);
    (
        ALLOCS.load(Ordering::SeqCst),
        eb.rounds() - before,
        CALLS.load(Ordering::SeqCst) - calls,
    )
}

#[test]
fn no_allocation_per_dispatched_event() {
    for &b in Backend::available() {
        let (allocs, rounds, calls) = ping_pong(b, 20_000);
        assert_eq!(rounds, 20_000);
        assert!(calls >= 19_000, "{b}: only {calls} handler calls");
        assert_eq!(allocs, 0, "{b}: {allocs} allocations in {rounds} rounds");
    }
}
