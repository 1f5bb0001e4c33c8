//! kqueue(2) backend (BSD, macOS), written to the pattern mio and polling use: one
//! `EVFILT_READ` and one `EVFILT_WRITE` filter per fd, changes submitted with `EV_RECEIPT`
//! so each change reports its own result. Not compiled on Linux; CI on macOS builds it.

use super::{Interest, Ready};
use isys::{
    Errno, KEvent, OwnedFd, EVFILT_READ, EVFILT_WRITE, EV_ADD, EV_DELETE, EV_EOF, EV_ERROR,
    EV_RECEIPT,
};
use std::os::fd::RawFd;
use std::time::Duration;

#[derive(Debug)]
pub(crate) struct Selector {
    kq: OwnedFd,
    events: Vec<KEvent>,
    /// What the kernel has for each fd, to know which filters to add or delete.
    current: Vec<Interest>,
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

    fn apply(&mut self, fd: RawFd, new: Interest) -> isys::Result<()> {
        let u = fd as usize;
        if u >= self.current.len() {
            self.current.resize(u + 1, Interest::default());
        }
        let old = self.current[u];
        let mut changes = [KEvent::empty(); 2];
        let mut n = 0;
        for (was, want, filter) in [
            (old.read, new.read, EVFILT_READ),
            (old.write, new.write, EVFILT_WRITE),
        ] {
            if was != want {
                let op = if want { EV_ADD } else { EV_DELETE };
                changes[n] = KEvent::new(fd as usize, filter, op | EV_RECEIPT, fd as usize);
                n += 1;
            }
        }
        if n > 0 {
            let mut results = [KEvent::empty(); 2];
            let got = isys::kevent(
                &self.kq,
                &changes[..n],
                &mut results[..n],
                Some(Duration::ZERO),
            )?;
            for r in &results[..got] {
                if r.flags() & EV_ERROR != 0 && r.data() != 0 {
                    let e = Errno::from_raw(r.data() as i32);
                    // Deleting a filter of a closed fd is not an error.
                    if !(new.is_empty() && (e == Errno::ENOENT || e == Errno::EBADF)) {
                        return Err(e);
                    }
                }
            }
        }
        self.current[u] = new;
        Ok(())
    }

    pub fn register(&mut self, fd: RawFd, i: Interest) -> isys::Result<()> {
        self.apply(fd, i)
    }

    pub fn reregister(&mut self, fd: RawFd, i: Interest) -> isys::Result<()> {
        self.apply(fd, i)
    }

    pub fn deregister(&mut self, fd: RawFd) -> isys::Result<()> {
        self.apply(fd, Interest::default())
    }

    pub fn select(&mut self, timeout: Option<Duration>) -> isys::Result<usize> {
        self.ready.clear();
        let n = isys::kevent(&self.kq, &[], &mut self.events, timeout)?;
        for ev in &self.events[..n] {
            let fd = ev.ident() as RawFd;
            let eof = ev.flags() & EV_EOF != 0;
            // EV_ERROR, or EV_EOF carrying an errno (a reset connection): both are POLLERR.
            let error = ev.flags() & EV_ERROR != 0 || (eof && ev.fflags() != 0);
            let r = Ready {
                fd,
                read: ev.filter() == EVFILT_READ,
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
