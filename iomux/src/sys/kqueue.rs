//! kqueue(2) backend (BSD, macOS), written to the pattern mio and polling use: one
//! `EVFILT_READ` and one `EVFILT_WRITE` filter per fd, changes submitted with `EV_RECEIPT`
//! so each change reports its own result. kqueue has no filter for errors alone (epoll and
//! poll report them on an fd watched for nothing): an fd watched only by an error handler
//! keeps an edge-triggered (`EV_CLEAR`) `EVFILT_READ` whose `EV_EOF` and errors are reported
//! and whose plain readability is not. Two differences from epoll follow: the peer's
//! half-close (its FIN alone) is `EV_EOF` here, so the error handler hears of it, where epoll
//! reports a hang-up only when both directions are shut; and data arriving on such an fd ends
//! a wait with nothing to call. Not compiled on Linux; CI type-checks and lints it for
//! FreeBSD and macOS.

use super::{Interest, Ready};
use isys::{
    Errno, KEvent, OwnedFd, EVFILT_READ, EVFILT_WRITE, EV_ADD, EV_CLEAR, EV_DELETE, EV_EOF,
    EV_ERROR, EV_RECEIPT,
};
use std::os::fd::RawFd;
use std::time::Duration;

/// The filters the kernel holds for one fd.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Filters {
    read: bool,
    write: bool,
    /// The read filter is only there for errors and end of file (an error handler alone).
    errors_only: bool,
}

impl Filters {
    /// The filters for a registered fd's `interest` (empty: an error handler alone).
    fn of(interest: Interest) -> Filters {
        let errors_only = interest.is_empty();
        Filters {
            read: interest.read || errors_only,
            write: interest.write,
            errors_only,
        }
    }
}

#[derive(Debug)]
pub(crate) struct Selector {
    kq: OwnedFd,
    events: Vec<KEvent>,
    /// What the kernel has for each fd, to know which filters to add or delete.
    current: Vec<Filters>,
    /// The fds with events at the last wait, read and write filters merged.
    ready: Vec<Ready>,
}

impl Selector {
    pub const MAX_FD: Option<usize> = None;
    pub const VERIFY_IDENTITY: bool = false;

    pub fn new() -> isys::Result<Self> {
        Ok(Selector {
            kq: isys::kqueue()?,
            events: vec![KEvent::empty(); 1024],
            current: Vec::new(),
            ready: Vec::with_capacity(64),
        })
    }

    fn apply(&mut self, fd: RawFd, new: Filters) -> isys::Result<()> {
        let u = fd as usize;
        if u >= self.current.len() {
            self.current.resize(u + 1, Filters::default());
        }
        let old = self.current[u];
        let mut changes = [KEvent::empty(); 3];
        let mut n = 0;
        let mut push = |filter: i16, flags: u16| {
            changes[n] = KEvent::new(fd as usize, filter, flags | EV_RECEIPT, u);
            n += 1;
        };
        // A read filter that switches between plain and errors-only is deleted and added
        // again: whether it is edge-triggered is fixed when it is added.
        let re_add = old.read && new.read && old.errors_only != new.errors_only;
        if old.read && (!new.read || re_add) {
            push(EVFILT_READ, EV_DELETE);
        }
        if new.read && (!old.read || re_add) {
            push(
                EVFILT_READ,
                EV_ADD | if new.errors_only { EV_CLEAR } else { 0 },
            );
        }
        if old.write != new.write {
            push(EVFILT_WRITE, if new.write { EV_ADD } else { EV_DELETE });
        }
        if n == 0 {
            return Ok(());
        }
        let mut results = [KEvent::empty(); 3];
        let got = isys::kevent(
            &self.kq,
            &changes[..n],
            &mut results[..n],
            Some(Duration::ZERO),
        )?;
        // With EV_RECEIPT every change is made or refused on its own, and reported in order:
        // `current` follows the ones made, and the first refusal is the error.
        let gone = !new.read && !new.write;
        let mut first_error = None;
        let mut now = old;
        for (r, c) in results[..got].iter().zip(&changes) {
            if r.flags() & EV_ERROR != 0 && r.data() != 0 {
                let e = Errno::from_raw(r.data() as i32);
                // Deleting a filter of a closed fd is not an error.
                if !(gone && (e == Errno::ENOENT || e == Errno::EBADF)) {
                    first_error.get_or_insert(e);
                    continue;
                }
            }
            let added = c.flags() & EV_ADD != 0;
            if c.filter() == EVFILT_READ {
                now.read = added;
                now.errors_only = added && new.errors_only;
            } else {
                now.write = added;
            }
        }
        self.current[u] = now;
        first_error.map_or(Ok(()), Err)
    }

    pub fn register(&mut self, fd: RawFd, i: Interest) -> isys::Result<()> {
        self.apply(fd, Filters::of(i))
    }

    pub fn reregister(&mut self, fd: RawFd, i: Interest) -> isys::Result<()> {
        self.apply(fd, Filters::of(i))
    }

    pub fn deregister(&mut self, fd: RawFd) -> isys::Result<()> {
        self.apply(fd, Filters::default())
    }

    pub fn select(&mut self, timeout: Option<Duration>) -> isys::Result<usize> {
        self.ready.clear();
        let n = isys::kevent(&self.kq, &[], &mut self.events, timeout)?;
        for ev in &self.events[..n] {
            let fd = ev.ident() as RawFd;
            let eof = ev.flags() & EV_EOF != 0;
            let errors_only = ev.filter() == EVFILT_READ
                && self.current.get(fd as usize).is_some_and(|f| f.errors_only);
            // EV_ERROR, or EV_EOF carrying an errno (a reset connection): both are POLLERR.
            // So is a socket's pending error without end of file (a datagram socket's ICMP
            // error), which fires the read filter with nothing to read; a read filter watched
            // for readability reports it as readiness, whose read returns the error.
            let error = ev.flags() & EV_ERROR != 0
                || (eof && ev.fflags() != 0)
                || (errors_only && !eof && ev.data() == 0);
            if errors_only && !eof && !error {
                continue; // data arrived where only errors are watched
            }
            let r = Ready {
                fd,
                read: ev.filter() == EVFILT_READ && !errors_only,
                write: ev.filter() == EVFILT_WRITE,
                error,
                hup: eof && ev.filter() == EVFILT_READ,
                invalid: false,
            };
            // Merge the read and write filters of one fd into one Ready.
            match self.ready.iter_mut().rev().take(2).find(|x| x.fd == fd) {
                Some(x) => {
                    x.read |= r.read;
                    x.write |= r.write;
                    x.error |= r.error;
                    x.hup |= r.hup;
                }
                None => self.ready.push(r),
            }
        }
        if n == self.events.len() && n < 1 << 16 {
            self.events.resize(n * 2, KEvent::empty());
        }
        Ok(self.ready.len())
    }

    #[inline]
    pub fn ready(&self, i: usize) -> Ready {
        self.ready[i]
    }
}
