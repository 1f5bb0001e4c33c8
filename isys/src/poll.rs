//! `poll(2)`: the [`PollFd`] entries, their [`PollFlags`] event bits, and [`poll`] itself.

use crate::{timeout_ms, Errno, Result};
use bitflags::bitflags;
use std::fmt;
use std::os::fd::RawFd;
use std::time::Duration;

bitflags! {
    /// `poll(2)` event bits.
    ///
    /// ```
    /// use isys::{pipe, poll, AsRawFd, PollFd, PollFlags};
    /// use std::time::Duration;
    ///
    /// let (r, w) = pipe(false)?;
    /// drop(w);
    /// let mut fds = [PollFd::new(r.as_raw_fd(), PollFlags::IN)];
    /// poll(&mut fds, Some(Duration::from_secs(5)))?;
    /// assert!(fds[0].revents().contains(PollFlags::HUP)); // the writer is gone
    /// # Ok::<(), isys::Errno>(())
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct PollFlags: libc::c_short {
        /// `POLLIN`: readable.
        const IN = libc::POLLIN;
        /// `POLLPRI`: urgent data.
        const PRI = libc::POLLPRI;
        /// `POLLOUT`: writable.
        const OUT = libc::POLLOUT;
        /// `POLLERR` (result only): error condition.
        const ERR = libc::POLLERR;
        /// `POLLHUP` (result only): hang up.
        const HUP = libc::POLLHUP;
        /// `POLLNVAL` (result only): the fd is not open.
        const NVAL = libc::POLLNVAL;
        #[cfg(linux_like)]
        /// `POLLRDHUP` (Linux): the peer shut down its writing half.
        const RDHUP = libc::POLLRDHUP;
    }
}

/// One entry of a [`poll`] array (`struct pollfd`, same layout). Its methods read and write
/// the struct's fields; they make no system call.
///
/// ```
/// use isys::{PollFd, PollFlags};
///
/// let mut pfd = PollFd::new(0, PollFlags::IN);
/// pfd.set_events(PollFlags::IN | PollFlags::OUT);
/// pfd.set_fd(-1); // poll(2) skips negative fds
/// assert_eq!((pfd.fd(), pfd.events()), (-1, PollFlags::IN | PollFlags::OUT));
/// assert!(pfd.revents().is_empty());
/// ```
#[derive(Clone, Copy)]
#[repr(transparent)]
pub struct PollFd(libc::pollfd);

impl PollFd {
    /// An entry watching `fd` for `events`. A negative `fd` is ignored by the kernel.
    ///
    /// ```
    /// use isys::{pipe, AsRawFd, PollFd, PollFlags};
    ///
    /// let (_r, w) = pipe(false)?;
    /// let pfd = PollFd::new(w.as_raw_fd(), PollFlags::OUT);
    /// assert_eq!(pfd.fd(), w.as_raw_fd());
    /// # Ok::<(), isys::Errno>(())
    /// ```
    pub fn new(fd: RawFd, events: PollFlags) -> Self {
        PollFd(libc::pollfd {
            fd,
            events: events.bits(),
            revents: 0,
        })
    }
    /// The fd number.
    ///
    /// ```
    /// assert_eq!(isys::PollFd::new(4, isys::PollFlags::IN).fd(), 4);
    /// ```
    pub fn fd(&self) -> RawFd {
        self.0.fd
    }
    /// Changes the fd number (negative = skip this entry).
    ///
    /// ```
    /// let mut pfd = isys::PollFd::new(4, isys::PollFlags::IN);
    /// pfd.set_fd(-1);
    /// assert_eq!(pfd.fd(), -1);
    /// ```
    pub fn set_fd(&mut self, fd: RawFd) {
        self.0.fd = fd;
    }
    /// The requested events.
    ///
    /// ```
    /// use isys::{PollFd, PollFlags};
    ///
    /// assert_eq!(PollFd::new(4, PollFlags::OUT).events(), PollFlags::OUT);
    /// ```
    pub fn events(&self) -> PollFlags {
        PollFlags::from_bits_retain(self.0.events)
    }
    /// Changes the requested events (the returned ones are left as they are).
    ///
    /// ```
    /// use isys::{PollFd, PollFlags};
    ///
    /// let mut pfd = PollFd::new(4, PollFlags::IN);
    /// pfd.set_events(PollFlags::PRI);
    /// assert_eq!(pfd.events(), PollFlags::PRI);
    /// ```
    pub fn set_events(&mut self, events: PollFlags) {
        self.0.events = events.bits();
    }
    /// The returned events, filled in by [`poll`] (`POLLERR`, `POLLHUP` and `POLLNVAL` may be
    /// there without being asked for).
    ///
    /// ```
    /// use isys::{pipe, poll, write, AsRawFd, PollFd, PollFlags};
    /// use std::time::Duration;
    ///
    /// let (r, w) = pipe(false)?;
    /// write(&w, b"x")?;
    /// let mut fds = [PollFd::new(r.as_raw_fd(), PollFlags::IN)];
    /// poll(&mut fds, Some(Duration::ZERO))?;
    /// assert_eq!(fds[0].revents(), PollFlags::IN);
    /// # Ok::<(), isys::Errno>(())
    /// ```
    pub fn revents(&self) -> PollFlags {
        PollFlags::from_bits_retain(self.0.revents)
    }
}

impl fmt::Debug for PollFd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PollFd")
            .field("fd", &self.fd())
            .field("events", &self.events())
            .field("revents", &self.revents())
            .finish()
    }
}

/// `poll(2)`: waits for events on `fds`; `timeout` is rounded up to whole milliseconds
/// (`None` = forever). Returns the number of entries with non-zero `revents`; `Ok(0)` means
/// the timeout passed. A signal ends the wait early with `EINTR` and the time already spent is
/// not subtracted on retry: use [`repeat_decreasing_timeout`](crate::repeat_decreasing_timeout)
/// or [`wait_until_fd_ready`](crate::wait_until_fd_ready).
///
/// ```
/// use isys::{pipe, poll, write, AsRawFd, PollFd, PollFlags};
/// use std::time::Duration;
///
/// let (r, w) = pipe(false)?;
/// let mut fds = [PollFd::new(r.as_raw_fd(), PollFlags::IN),
///                PollFd::new(w.as_raw_fd(), PollFlags::OUT)];
/// assert_eq!(poll(&mut fds, Some(Duration::from_millis(1)))?, 1); // only w is ready
/// write(&w, b"x")?;
/// assert_eq!(poll(&mut fds, Some(Duration::from_millis(1)))?, 2);
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// - `EINTR`: a signal handler ran before any fd was ready or the timeout passed.
/// - `EINVAL`: more entries than `RLIMIT_NOFILE`.
/// - `ENOMEM`: the kernel could not allocate its tables.
///
/// An fd that is not open is not an error of the call: its entry gets `POLLNVAL`.
pub fn poll(fds: &mut [PollFd], timeout: Option<Duration>) -> Result<usize> {
    syscall!(poll(
        fds.as_mut_ptr().cast::<libc::pollfd>(),
        fds.len() as libc::nfds_t,
        timeout_ms(timeout)
    ))
    .map(|n| n as usize)
}
