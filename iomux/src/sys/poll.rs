//! poll(2) backend: a dense `pollfd` array plus an fd -> slot index; fds found ready move
//! to the front of the array.

use super::{Interest, Ready};
use isys::{PollFd, PollFlags};
use std::os::fd::RawFd;
use std::time::Duration;

const NONE: usize = usize::MAX;

/// How many entries the scan after a wait tests with one OR of their `revents`.
const GROUP: usize = 8;

#[derive(Debug)]
pub(crate) struct Selector {
    fds: Vec<PollFd>,
    /// `slot[fd]` is the index of `fd` in `fds`, or NONE.
    slot: Vec<usize>,
    /// The fds with events at the last wait.
    ready: Vec<Ready>,
}

fn flags(i: Interest) -> PollFlags {
    let mut f = PollFlags::empty();
    if i.read {
        f |= PollFlags::IN;
    }
    if i.write {
        f |= PollFlags::OUT;
    }
    f
}

impl Selector {
    pub const MAX_FD: Option<usize> = None;
    pub const VERIFY_IDENTITY: bool = true;

    pub fn new() -> isys::Result<Self> {
        Ok(Selector {
            fds: Vec::with_capacity(64),
            slot: Vec::new(),
            ready: Vec::with_capacity(64),
        })
    }

    pub fn register(&mut self, fd: RawFd, i: Interest) -> isys::Result<()> {
        let u = fd as usize;
        if u >= self.slot.len() {
            self.slot.resize(u + 1, NONE);
        }
        if self.slot[u] != NONE {
            return self.reregister(fd, i);
        }
        self.slot[u] = self.fds.len();
        self.fds.push(PollFd::new(fd, flags(i)));
        Ok(())
    }

    pub fn reregister(&mut self, fd: RawFd, i: Interest) -> isys::Result<()> {
        match self.slot.get(fd as usize) {
            Some(&s) if s != NONE => {
                self.fds[s].set_events(flags(i));
                Ok(())
            }
            _ => self.register(fd, i),
        }
    }

    pub fn deregister(&mut self, fd: RawFd) -> isys::Result<()> {
        let Some(&s) = self.slot.get(fd as usize) else {
            return Ok(());
        };
        if s == NONE {
            return Ok(());
        }
        self.fds.swap_remove(s);
        if let Some(moved) = self.fds.get(s) {
            self.slot[moved.fd() as usize] = s;
        }
        self.slot[fd as usize] = NONE;
        Ok(())
    }

    /// Waits, then collects the entries with events. The scan stops once it has found as
    /// many as `poll` counted, and moves each entry it finds to the front of the array: fds
    /// that are ready often gather there, so with many idle fds behind them the scan stays
    /// short. When few entries are ready among many (each fd of many busy at its own
    /// moment, so that the one ready is anywhere), it skips eight entries without events at a
    /// time: one OR of their `revents`, about one instruction per entry.
    #[inline(always)]
    pub fn select(&mut self, timeout: Option<Duration>) -> isys::Result<usize> {
        self.ready.clear();
        let n = isys::poll(&mut self.fds, timeout)?;
        let len = self.fds.len();
        let mut front = 0;
        let mut i = 0;
        if n * GROUP >= len {
            while self.ready.len() < n && i < len {
                self.collect(i, &mut front);
                i += 1;
            }
        } else {
            self.scan_sparse(n, &mut front);
        }
        Ok(self.ready.len())
    }

    /// The scan when few entries are ready among many: groups without events are skipped
    /// whole, the entries of a group with events are looked at one by one.
    #[inline(never)]
    fn scan_sparse(&mut self, n: usize, front: &mut usize) {
        let len = self.fds.len();
        let mut group = 0;
        while self.ready.len() < n && group < len {
            let end = match self.fds.get(group..group + GROUP) {
                Some(g) => {
                    if g.iter().fold(0, |a, p| a | p.revents().bits()) == 0 {
                        group += GROUP;
                        continue;
                    }
                    group + GROUP
                }
                None => len,
            };
            let mut i = group;
            while self.ready.len() < n && i < end {
                self.collect(i, front);
                i += 1;
            }
            group = end;
        }
    }

    /// Adds entry `i` to the ready list if it has events, moving it to `front`.
    #[inline(always)]
    fn collect(&mut self, i: usize, front: &mut usize) {
        let p = self.fds[i];
        let r = p.revents();
        if r.is_empty() {
            return;
        }
        self.ready.push(Ready {
            fd: p.fd(),
            read: r.intersects(PollFlags::IN | PollFlags::PRI),
            write: r.contains(PollFlags::OUT),
            error: r.contains(PollFlags::ERR),
            hup: r.contains(PollFlags::HUP),
            invalid: r.contains(PollFlags::NVAL),
        });
        // Entries before `front` are the ready ones found so far; the one at `front` was
        // looked at already and is not ready.
        if i != *front {
            let q = self.fds[*front];
            self.fds.swap(i, *front);
            self.slot[p.fd() as usize] = *front;
            self.slot[q.fd() as usize] = i;
        }
        *front += 1;
    }

    #[inline]
    pub fn ready(&self, i: usize) -> Ready {
        self.ready[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::scan_check::{scanned_methods, scans_report_exactly_the_ready_fds, Scanned};

    impl Scanned for Selector {
        scanned_methods!();
        fn check(&self) {
            for (at, p) in self.fds.iter().enumerate() {
                assert_eq!(self.slot[p.fd() as usize], at);
            }
        }
    }

    /// Both scans (many ready: entry by entry; few among many: groups skipped) report
    /// exactly the fds with events, wherever they sit in the array, and keep the fd -> slot
    /// index true through their moves and through registrations and removals.
    #[test]
    fn scans_report_exactly_the_ready_fds_over_many() {
        scans_report_exactly_the_ready_fds(&mut Selector::new().unwrap(), 100, 400);
    }
}
