//! The multiplexer backends, one private file each, all meeting one contract.
//!
//! # The backend contract
//! Each backend module exports a `Selector` with:
//!
//! - `const MAX_FD: Option<usize>`: fds at or above it are refused (select: `FD_SETSIZE`).
//! - `const VERIFY_IDENTITY: bool`: whether the kernel object can outlive the fd number in
//!   the backend's interest set. poll and select watch *numbers*, so a number closed and
//!   reused while registered would report the new file's readiness; for them the event base
//!   checks each ready fd's identity before calling a handler. epoll and kqueue drop closed
//!   fds from their interest sets themselves.
//! - `fn new() -> isys::Result<Self>`: the backend's kernel object, if any, CLOEXEC.
//! - `fn register(&mut self, fd, Interest) -> isys::Result<()>`: start watching `fd` (not
//!   watched before). An empty interest means errors and hang-ups only (the select and
//!   kqueue backends cannot watch for those alone).
//! - `fn reregister(&mut self, fd, Interest) -> isys::Result<()>`: change a watched fd's
//!   interest.
//! - `fn deregister(&mut self, fd) -> isys::Result<()>`: stop watching; an fd that was
//!   closed meanwhile is not an error (`EBADF`/`ENOENT` are swallowed).
//! - `fn select(&mut self, out: &mut Vec<Ready>, timeout) -> isys::Result<()>`: wait up to
//!   `timeout` (`None` = forever) and append one [`Ready`] per fd with events. Level
//!   triggered. `EINTR` is returned as is. Must not allocate in steady state: `out` is
//!   reused by the caller and buffers are preallocated.
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

#[cfg(iomux_epoll)]
pub(crate) mod epoll;
#[cfg(iomux_kqueue)]
pub(crate) mod kqueue;
#[cfg(iomux_poll)]
pub(crate) mod poll;
#[cfg(iomux_select)]
pub(crate) mod select;
