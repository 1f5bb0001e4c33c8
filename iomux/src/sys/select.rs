//! select(2) backend: two master fd sets copied each round. fds at or above `FD_SETSIZE`
//! are refused at registration (the event base checks `MAX_FD`; `FdSet` refuses them too).

use super::{Interest, Ready};
use isys::{Errno, FdSet, FD_SETSIZE};
use std::os::fd::RawFd;
use std::time::Duration;

#[derive(Debug)]
pub(crate) struct Selector {
    read: FdSet,
    write: FdSet,
    /// Registered fds, for finding the ready ones without scanning all of FD_SETSIZE.
    fds: Vec<RawFd>,
    max_fd: RawFd,
    /// The fds with events at the last wait.
    ready: Vec<Ready>,
}

impl Selector {
    pub const MAX_FD: Option<usize> = Some(FD_SETSIZE);
    pub const VERIFY_IDENTITY: bool = true;

    pub fn new() -> isys::Result<Self> {
        Ok(Selector {
            read: FdSet::new(),
            write: FdSet::new(),
            fds: Vec::new(),
            max_fd: -1,
            ready: Vec::with_capacity(64),
        })
    }

    fn set(&mut self, fd: RawFd, i: Interest) -> isys::Result<()> {
        if i.read {
            self.read.insert(fd)?;
        } else {
            self.read.remove(fd);
        }
        if i.write {
            self.write.insert(fd)?;
        } else {
            self.write.remove(fd);
        }
        Ok(())
    }

    pub fn register(&mut self, fd: RawFd, i: Interest) -> isys::Result<()> {
        self.set(fd, i)?;
        if !self.fds.contains(&fd) {
            self.fds.push(fd);
        }
        self.max_fd = self.max_fd.max(fd);
        Ok(())
    }

    pub fn reregister(&mut self, fd: RawFd, i: Interest) -> isys::Result<()> {
        self.register(fd, i)
    }

    pub fn deregister(&mut self, fd: RawFd) -> isys::Result<()> {
        self.read.remove(fd);
        self.write.remove(fd);
        if let Some(p) = self.fds.iter().position(|&f| f == fd) {
            self.fds.swap_remove(p);
        }
        if fd == self.max_fd {
            self.max_fd = self.fds.iter().copied().max().unwrap_or(-1);
        }
        Ok(())
    }

    /// Waits, then collects the fds with events from the returned sets, 64 fds per word
    /// (about one instruction per 64 fds, plus a few per ready fd), stopping once every bit
    /// `select` counted is accounted for.
    pub fn select(&mut self, timeout: Option<Duration>) -> isys::Result<usize> {
        self.ready.clear();
        let (mut r, mut w) = (self.read, self.write);
        let mut e = self.read;
        let n = match isys::select(
            self.max_fd + 1,
            Some(&mut r),
            Some(&mut w),
            Some(&mut e),
            timeout,
        ) {
            Ok(n) => n,
            Err(Errno::EBADF) => {
                // Some registered fd was closed: report those as invalid.
                for &fd in &self.fds {
                    if !isys::fd_is_open(fd) {
                        self.ready.push(Ready {
                            fd,
                            invalid: true,
                            ..Ready::default()
                        });
                    }
                }
                return Ok(self.ready.len());
            }
            Err(err) => return Err(err),
        };
        // The ready fds a word of 64 at a time, in fd order, up to the highest registered
        // and until every bit `select` counted is accounted for.
        let last = usize::try_from(self.max_fd).map_or(0, |m| m / 64 + 1);
        let mut bits = 0;
        for k in 0..last {
            if bits >= n {
                break;
            }
            let (rw, ww, ew) = (r.word(k), w.word(k), e.word(k));
            let mut any = rw | ww | ew;
            while any != 0 {
                let b = any.trailing_zeros();
                any &= any - 1;
                let (rd, wr, ex) = (rw >> b & 1, ww >> b & 1, ew >> b & 1);
                bits += (rd + wr + ex) as usize;
                self.ready.push(Ready {
                    fd: (k * 64) as RawFd + b as RawFd,
                    read: rd | ex != 0,
                    write: wr != 0,
                    ..Ready::default()
                });
            }
        }
        Ok(self.ready.len())
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
    }

    /// The word-at-a-time scan reports exactly the fds with events, across word boundaries
    /// (80 pipes: 160 fds, three 64-bit words at least).
    #[test]
    fn scans_report_exactly_the_ready_fds_over_many() {
        scans_report_exactly_the_ready_fds(&mut Selector::new().unwrap(), 80, 300);
    }
}
