//! Waiting for one fd with a deadline (IOLib's `wait-until-fd-ready`), on `poll(2)`.

use crate::{poll, repeat_decreasing_timeout, Errno, PollFd, PollFlags};
use std::fmt;
use std::os::fd::{AsFd, AsRawFd, RawFd};

use std::time::Duration;

/// Which readiness [`wait_until_fd_ready`] waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FdEvent {
    /// Readable (or end of file / hang-up).
    Read,
    /// Writable.
    Write,
    /// Either.
    ReadWrite,
}

/// Why [`wait_until_fd_ready`] failed, naming the poll condition (IOLib's `poll-error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FdWaitError {
    /// `poll(2)` itself failed.
    Sys(Errno),
    /// `POLLERR`: an error condition is pending on the fd (for a socket, `SO_ERROR` or the
    /// next read/write says which).
    PollErr {
        /// The fd.
        fd: RawFd,
    },
    /// `POLLNVAL`: the number is not an open fd.
    PollNval {
        /// The fd.
        fd: RawFd,
    },
}

impl FdWaitError {
    /// The errno closest to this condition: the poll errno, `EIO` for `POLLERR`, `EBADF`
    /// for `POLLNVAL`.
    pub fn errno(&self) -> Errno {
        match *self {
            FdWaitError::Sys(e) => e,
            FdWaitError::PollErr { .. } => Errno::EIO,
            FdWaitError::PollNval { .. } => Errno::EBADF,
        }
    }
}

impl fmt::Display for FdWaitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FdWaitError::Sys(e) => write!(f, "poll(2) failed: {}", e.desc()),
            FdWaitError::PollErr { fd } => {
                write!(
                    f,
                    "fd {fd}: POLLERR, an error condition is pending on the descriptor"
                )
            }
            FdWaitError::PollNval { fd } => {
                write!(f, "fd {fd}: POLLNVAL, not an open file descriptor")
            }
        }
    }
}

impl std::error::Error for FdWaitError {}

impl From<FdWaitError> for std::io::Error {
    fn from(e: FdWaitError) -> Self {
        std::io::Error::new(crate::errno_to_io(e.errno()).kind(), e)
    }
}

/// Waits until `fd` is ready for `event` or `timeout` passes (`None` = forever), retrying
/// `EINTR` against a monotonic deadline. Returns `(readable, writable)`; both `false` means
/// the timeout passed.
///
/// A hang-up (`POLLHUP`) counts as readiness for what was asked, so the next read sees end of
/// file and the next write sees `EPIPE`.
///
/// # Errors
/// [`FdWaitError::PollErr`] / [`FdWaitError::PollNval`] name the condition; `Sys` for `poll`'s
/// own failures.
pub fn wait_until_fd_ready<Fd: AsFd>(
    fd: Fd,
    event: FdEvent,
    timeout: Option<Duration>,
) -> Result<(bool, bool), FdWaitError> {
    wait_until_raw_fd_ready(fd.as_fd().as_raw_fd(), event, timeout)
}

/// [`wait_until_fd_ready`] on a raw fd number (IOLib's API is about numbers). A number that is
/// not open is reported as [`FdWaitError::PollNval`], never undefined behaviour.
pub fn wait_until_raw_fd_ready(
    raw: RawFd,
    event: FdEvent,
    timeout: Option<Duration>,
) -> Result<(bool, bool), FdWaitError> {
    let want = match event {
        FdEvent::Read => PollFlags::IN,
        FdEvent::Write => PollFlags::OUT,
        FdEvent::ReadWrite => PollFlags::IN | PollFlags::OUT,
    };
    let mut pfd = [PollFd::new(raw, want)];
    let n =
        repeat_decreasing_timeout(timeout, |rem| poll(&mut pfd, rem)).map_err(FdWaitError::Sys)?;
    if n == 0 {
        return Ok((false, false));
    }
    let got = pfd[0].revents();
    if got.contains(PollFlags::NVAL) {
        return Err(FdWaitError::PollNval { fd: raw });
    }
    if got.contains(PollFlags::ERR) {
        return Err(FdWaitError::PollErr { fd: raw });
    }
    let hup = got.contains(PollFlags::HUP);
    Ok((
        want.contains(PollFlags::IN) && (hup || got.intersects(PollFlags::IN | PollFlags::PRI)),
        want.contains(PollFlags::OUT) && (hup || got.contains(PollFlags::OUT)),
    ))
}

/// Whether `fd` is readable right now (a zero-timeout [`wait_until_fd_ready`]).
pub fn fd_readable<Fd: AsFd>(fd: Fd) -> Result<bool, FdWaitError> {
    wait_until_fd_ready(fd, FdEvent::Read, Some(Duration::ZERO)).map(|(r, _)| r)
}

/// Whether `fd` is writable right now (a zero-timeout [`wait_until_fd_ready`]).
pub fn fd_writable<Fd: AsFd>(fd: Fd) -> Result<bool, FdWaitError> {
    wait_until_fd_ready(fd, FdEvent::Write, Some(Duration::ZERO)).map(|(_, w)| w)
}
