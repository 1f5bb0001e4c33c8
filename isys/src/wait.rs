//! Waiting for one fd with a deadline (IOLib's `wait-until-fd-ready`), on `poll(2)`.

use crate::{poll, repeat_decreasing_timeout, Errno, PollFd, PollFlags};
use std::fmt;
use std::os::fd::{AsFd, AsRawFd, RawFd};

use std::time::Duration;

/// Which readiness [`wait_until_fd_ready`] waits for.
///
/// ```
/// use isys::{pipe, wait_until_fd_ready, FdEvent};
/// use std::time::Duration;
///
/// let (r, w) = pipe(false)?;
/// let now = Some(Duration::ZERO);
/// assert_eq!(wait_until_fd_ready(&w, FdEvent::ReadWrite, now)?, (false, true));
/// assert_eq!(wait_until_fd_ready(&r, FdEvent::Read, now)?, (false, false)); // timed out
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
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
///
/// ```
/// use isys::{pipe, wait_until_raw_fd_ready, AsRawFd, Errno, FdEvent, FdWaitError};
///
/// let (r, _w) = pipe(false)?;
/// let n = r.as_raw_fd();
/// drop(r);
/// let err = wait_until_raw_fd_ready(n, FdEvent::Read, None).unwrap_err();
/// assert_eq!(err, FdWaitError::PollNval { fd: n });
/// assert_eq!(err.errno(), Errno::EBADF);
/// let io: std::io::Error = err.into(); // for `?` in io::Result code
/// assert!(io.to_string().contains("POLLNVAL"));
/// # Ok::<(), Errno>(())
/// ```
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
    ///
    /// ```
    /// use isys::{Errno, FdWaitError};
    ///
    /// assert_eq!(FdWaitError::Sys(Errno::EINVAL).errno(), Errno::EINVAL);
    /// assert_eq!(FdWaitError::PollErr { fd: 3 }.errno(), Errno::EIO);
    /// ```
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
/// Calls `poll(2)` on one entry, with the timeout rounded up to whole milliseconds; blocks
/// for at most `timeout` in total however many signals arrive.
///
/// ```
/// use isys::{pipe, wait_until_fd_ready, write, FdEvent};
/// use std::time::Duration;
///
/// let (r, w) = pipe(false)?;
/// let writer = std::thread::spawn(move || write(&w, b"x"));
/// let (readable, _) = wait_until_fd_ready(&r, FdEvent::Read, Some(Duration::from_secs(5)))?;
/// assert!(readable);
/// writer.join().unwrap()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// - [`FdWaitError::PollErr`]: `POLLERR`, an error is pending on the fd (a refused connect,
///   a pipe whose read end closed, when asking for writability).
/// - [`FdWaitError::PollNval`]: `POLLNVAL`, `fd` is not open.
/// - [`FdWaitError::Sys`] for `poll`'s own failures: `ENOMEM`, `EINVAL`. Never `EINTR`,
///   which is retried.
pub fn wait_until_fd_ready<Fd: AsFd>(
    fd: Fd,
    event: FdEvent,
    timeout: Option<Duration>,
) -> Result<(bool, bool), FdWaitError> {
    wait_until_raw_fd_ready(fd.as_fd().as_raw_fd(), event, timeout)
}

/// [`wait_until_fd_ready`] on a raw fd number (IOLib's API is about numbers). A number that is
/// not open is reported as [`FdWaitError::PollNval`], never undefined behaviour.
///
/// ```
/// use isys::{wait_until_raw_fd_ready, AsRawFd, FdEvent};
/// use std::time::Duration;
///
/// let (r, _w) = isys::pipe(false)?;
/// let ready = wait_until_raw_fd_ready(r.as_raw_fd(), FdEvent::Write, Some(Duration::ZERO))?;
/// assert_eq!(ready, (false, false)); // a read end is never writable
/// let closed = wait_until_raw_fd_ready(1_000_000, FdEvent::Read, None);
/// assert!(closed.is_err()); // POLLNVAL: not an open fd, reported at once
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// As [`wait_until_fd_ready`].
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

/// Whether `fd` is readable right now (a zero-timeout [`wait_until_fd_ready`]); never blocks.
///
/// ```
/// use isys::{fd_readable, pipe, write};
///
/// let (r, w) = pipe(false)?;
/// assert!(!fd_readable(&r)?);
/// write(&w, b"x")?;
/// assert!(fd_readable(&r)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// As [`wait_until_fd_ready`].
pub fn fd_readable<Fd: AsFd>(fd: Fd) -> Result<bool, FdWaitError> {
    wait_until_fd_ready(fd, FdEvent::Read, Some(Duration::ZERO)).map(|(r, _)| r)
}

/// Whether `fd` is writable right now (a zero-timeout [`wait_until_fd_ready`]); never blocks.
///
/// ```
/// use isys::{fd_writable, pipe, write};
///
/// let (_r, w) = pipe(true)?;
/// assert!(fd_writable(&w)?);
/// while write(&w, &[0u8; 4096]).is_ok() {} // fill the pipe until EAGAIN
/// assert!(!fd_writable(&w)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// As [`wait_until_fd_ready`].
pub fn fd_writable<Fd: AsFd>(fd: Fd) -> Result<bool, FdWaitError> {
    wait_until_fd_ready(fd, FdEvent::Write, Some(Duration::ZERO)).map(|(_, w)| w)
}
