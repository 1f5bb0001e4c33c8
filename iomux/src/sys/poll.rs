//! poll(2) backend: a dense `pollfd` array plus an fd -> slot index; fds found ready move
//! to the front of the array.

use super::{Interest, Ready};
use isys::{PollFd, PollFlags};
use std::os::fd::RawFd;
use std::time::Duration;

const NONE: usize = usize::MAX;

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
    /// many as `poll` counted, and moves each one it finds to the front of the array: fds
    /// that are ready often gather there, so with many idle fds behind them the scan stays
    /// short.
    pub fn select(&mut self, timeout: Option<Duration>) -> isys::Result<usize> {
        self.ready.clear();
        let n = isys::poll(&mut self.fds, timeout)?;
        let mut front = 0;
        let mut i = 0;
        while self.ready.len() < n && i < self.fds.len() {
            let p = self.fds[i];
            let r = p.revents();
            if !r.is_empty() {
                self.ready.push(Ready {
                    fd: p.fd(),
                    read: r.intersects(PollFlags::IN | PollFlags::PRI),
                    write: r.contains(PollFlags::OUT),
                    error: r.contains(PollFlags::ERR),
                    hup: r.contains(PollFlags::HUP),
                    invalid: r.contains(PollFlags::NVAL),
                });
                if i != front {
                    let q = self.fds[front];
                    self.fds.swap(i, front);
                    self.slot[p.fd() as usize] = front;
                    self.slot[q.fd() as usize] = i;
                }
                front += 1;
            }
            i += 1;
        }
        Ok(self.ready.len())
    }

    #[inline]
    pub fn ready(&self, i: usize) -> Ready {
        self.ready[i]
    }
}
