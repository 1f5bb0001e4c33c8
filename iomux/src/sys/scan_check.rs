//! A check the poll and select backends' tests share: the scan after a wait reports exactly
//! the fds with events (many pipes, few or many of them ready, one write end always ready),
//! as fds leave and come back between waits.

use super::{Interest, Ready};
use std::collections::BTreeSet;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::time::Duration;

/// The four methods of [`Scanned`], each calling the backend `Selector`'s own.
macro_rules! scanned_methods {
    () => {
        fn register(&mut self, fd: RawFd, i: Interest) -> isys::Result<()> {
            Selector::register(self, fd, i)
        }
        fn deregister(&mut self, fd: RawFd) -> isys::Result<()> {
            Selector::deregister(self, fd)
        }
        fn select(&mut self, timeout: Option<Duration>) -> isys::Result<usize> {
            Selector::select(self, timeout)
        }
        fn ready(&self, i: usize) -> Ready {
            Selector::ready(self, i)
        }
    };
}
pub(crate) use scanned_methods;

/// What the check drives: a backend's `Selector`.
pub(crate) trait Scanned {
    fn register(&mut self, fd: RawFd, i: Interest) -> isys::Result<()>;
    fn deregister(&mut self, fd: RawFd) -> isys::Result<()>;
    fn select(&mut self, timeout: Option<Duration>) -> isys::Result<usize>;
    fn ready(&self, i: usize) -> Ready;
    /// The backend's own invariants, checked after every wait.
    fn check(&self) {}
}

/// Registers the read ends of `n` pipes and one write end, then for `rounds` waits makes one
/// to three pipes readable (the scan for few among many), every tenth wait half of them, and
/// checks that exactly those and the write end are reported, each as what it is ready for.
pub(crate) fn scans_report_exactly_the_ready_fds<S: Scanned>(sel: &mut S, n: usize, rounds: usize) {
    let pipes: Vec<(OwnedFd, OwnedFd)> = (0..n).map(|_| isys::pipe(true).unwrap()).collect();
    let read = Interest {
        read: true,
        write: false,
    };
    for (r, _) in &pipes {
        sel.register(r.as_raw_fd(), read).unwrap();
    }
    // One write end watched for room: ready at every wait.
    let writer = pipes[n / 2].1.as_raw_fd();
    let write = Interest {
        read: false,
        write: true,
    };
    sel.register(writer, write).unwrap();
    let mut registered = vec![true; n];
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for round in 0..rounds {
        let live = registered.iter().filter(|&&r| r).count();
        let k = if round % 10 == 0 {
            n / 2
        } else {
            1 + (next() % 3) as usize
        }
        .min(live);
        let mut want = BTreeSet::new();
        while want.len() < k {
            let j = (next() % n as u64) as usize;
            if registered[j] && want.insert(j) {
                isys::write(&pipes[j].1, b"x").unwrap();
            }
        }
        let count = sel.select(Some(Duration::from_secs(5))).unwrap();
        let got: BTreeSet<(RawFd, bool, bool)> = (0..count)
            .map(|i| {
                let r = sel.ready(i);
                (r.fd, r.read, r.write)
            })
            .collect();
        let mut expect: BTreeSet<(RawFd, bool, bool)> = want
            .iter()
            .map(|&j| (pipes[j].0.as_raw_fd(), true, false))
            .collect();
        expect.insert((writer, false, true));
        assert_eq!(got, expect, "round {round}");
        sel.check();
        for &j in &want {
            isys::read(&pipes[j].0, &mut [0u8; 8]).unwrap();
        }
        // An fd leaves or comes back between waits.
        let j = (next() % n as u64) as usize;
        if registered[j] {
            sel.deregister(pipes[j].0.as_raw_fd()).unwrap();
        } else {
            sel.register(pipes[j].0.as_raw_fd(), read).unwrap();
        }
        registered[j] = !registered[j];
    }
}
