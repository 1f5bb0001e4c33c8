//! The multiplexer backends, one private file each, all meeting one contract.
//!
//! # The backend contract
//! Each backend module exports a `Selector` with:
//!
//! - `const MAX_FD: Option<usize>`: fds at or above it are refused (select: `FD_SETSIZE`).
//! - `const VERIFY_IDENTITY: bool`: whether the backend watches fd *numbers* (poll, select),
//!   so that a number closed and reused while registered would report the new file's
//!   readiness; for them the event base checks an fd's identity the first time the backend
//!   reports it after it got its entry. epoll and kqueue watch files and drop closed ones
//!   from their interest sets themselves.
//! - `fn new() -> isys::Result<Self>`: the backend's kernel object, if any, CLOEXEC.
//! - `fn register(&mut self, fd, Interest) -> isys::Result<()>`: start watching `fd` (not
//!   watched before). An empty interest means errors and hang-ups only (the select backend
//!   cannot watch for those alone; kqueue keeps an edge-triggered read filter for them).
//! - `fn reregister(&mut self, fd, Interest) -> isys::Result<()>`: change a watched fd's
//!   interest.
//! - `fn deregister(&mut self, fd) -> isys::Result<()>`: stop watching; an fd that was
//!   closed meanwhile is not an error (`EBADF`/`ENOENT` are swallowed).
//! - `fn select(&mut self, timeout) -> isys::Result<usize>`: wait up to `timeout` (`None` =
//!   forever) and return how many fds have events. Level triggered. `EINTR` is returned as
//!   is. Must not allocate in steady state (buffers are preallocated and reused).
//! - `fn ready(&self, i) -> Ready`: the `i`th of those fds (`i` below what `select`
//!   returned), valid until the next `select` even if fds are registered or deregistered
//!   meanwhile. epoll reads it straight from the kernel's buffer; the others keep a copy.
//!
//! epoll's `select` and `ready` take one more argument, its event buffer, which the
//! multiplexer's `Selector` keeps outside the backend enum (see `epoll.rs`).
//!
//! fds the kernel object cannot watch (epoll's `EPERM` for regular files) are accepted and
//! reported ready for their interest on every wait, as poll and select report them.
//!
//! Readiness is reported as flags, never interpreted here: error (POLLERR/EPOLLERR/EV_ERROR),
//! hang-up (POLLHUP/EPOLLHUP/EV_EOF), invalid (POLLNVAL, or an fd select found closed).

use std::os::fd::RawFd;

/// What an fd is watched for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Interest {
    pub read: bool,
    pub write: bool,
}

impl Interest {
    #[cfg_attr(not(any(iomux_kqueue, iomux_epoll)), allow(dead_code))]
    pub fn is_empty(self) -> bool {
        !self.read && !self.write
    }
}

/// One fd's readiness from a backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Ready {
    pub fd: RawFd,
    pub read: bool,
    pub write: bool,
    pub error: bool,
    pub hup: bool,
    pub invalid: bool,
}

/// A ready fd's read and write readiness as bits tested where they are used: on epoll the
/// kernel's own event bits, with no conversion.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plain(pub u32);

impl Plain {
    /// `EPOLLIN | EPOLLPRI | EPOLLRDHUP`.
    pub const READ: u32 = 0x1 | 0x2 | 0x2000;
    /// `EPOLLOUT` (bit 2).
    pub const WRITE: u32 = 0x4;

    /// From two flags: read as `EPOLLIN` alone (bit 0), write as `EPOLLOUT` (bit 2).
    #[inline(always)]
    pub fn new(read: bool, write: bool) -> Plain {
        Plain(u32::from(read) | u32::from(write) << 2)
    }
    #[inline(always)]
    pub fn read(self) -> bool {
        self.0 & Self::READ != 0
    }
    #[inline(always)]
    pub fn write(self) -> bool {
        self.0 & Self::WRITE != 0
    }
}

/// A wait's result in one register, for waits called out of line: the count, or minus the
/// errno. Returned as a `Result` (three words, through memory) it would make the inlined wait
/// it is merged with go through memory too.
#[inline(always)]
pub(crate) fn pack(r: isys::Result<usize>) -> isize {
    match r {
        Ok(n) => n as isize,
        Err(e) => -(e as i32 as isize),
    }
}

/// The `Result` [`pack`] packed.
#[inline(always)]
pub(crate) fn unpack(r: isize) -> isys::Result<usize> {
    if r < 0 {
        Err(isys::Errno::from_raw(-r as i32))
    } else {
        Ok(r as usize)
    }
}

#[cfg(iomux_epoll)]
pub(crate) mod epoll;
#[cfg(iomux_kqueue)]
pub(crate) mod kqueue;
#[cfg(iomux_poll)]
pub(crate) mod poll;
#[cfg(all(test, any(iomux_poll, iomux_select)))]
mod scan_check;
#[cfg(iomux_select)]
pub(crate) mod select;
