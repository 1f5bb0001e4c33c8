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

    /// Waits, then collects the fds with events: the scan of the registered fds stops once
    /// it has accounted for every bit `select` counted, and moves each ready fd to the front
    /// of the list, where fds that are often ready gather.
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
        let (mut bits, mut front) = (0, 0);
        let mut i = 0;
        while bits < n && i < self.fds.len() {
            let fd = self.fds[i];
            let (rd, wr, ex) = (r.contains(fd), w.contains(fd), e.contains(fd));
            if rd || wr || ex {
                bits += usize::from(rd) + usize::from(wr) + usize::from(ex);
                self.ready.push(Ready {
                    fd,
                    read: rd || ex,
                    write: wr,
                    ..Ready::default()
                });
                self.fds.swap(i, front);
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
