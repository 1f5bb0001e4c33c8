//! # isys: errno-typed raw syscalls
//!
//! The bottom layer of iolib-rs, after IOLib's `isys` package: **one thin function per
//! syscall**, named after it, each documented with the C call it makes. Every failure is an
//! [`Errno`] value the caller can match on (`Errno::EWOULDBLOCK`, `Errno::EPIPE`, ...).
//!
//! A non-blocking pipe, a read that would block, then `poll(2)` waiting for the data:
//!
//! ```
//! use isys::{pipe, poll, read, write, AsRawFd, Errno, PollFd, PollFlags};
//! use std::time::Duration;
//!
//! let (r, w) = pipe(true)?; // pipe2(2) with O_CLOEXEC | O_NONBLOCK
//! let mut buf = [0u8; 16];
//! assert_eq!(read(&r, &mut buf), Err(Errno::EWOULDBLOCK)); // nothing there yet
//!
//! let mut fds = [PollFd::new(r.as_raw_fd(), PollFlags::IN)];
//! assert_eq!(poll(&mut fds, Some(Duration::ZERO))?, 0); // not readable
//! write(&w, b"hello")?;
//! assert_eq!(poll(&mut fds, Some(Duration::from_secs(5)))?, 1); // now it is
//! assert!(fds[0].revents().contains(PollFlags::IN));
//! let n = read(&r, &mut buf)?;
//! assert_eq!(&buf[..n], b"hello");
//! # Ok::<(), Errno>(())
//! ```
//!
//! ## Errors
//! Fallible calls return [`Result<T>`](Result), whose error is the `errno` the C call set. Each
//! function's `# Errors` section lists the errnos a caller typically handles; the man page of
//! the named C call has the complete list. No call retries `EINTR` by itself (see
//! [`repeat_upon_eintr`]), and every call that takes an fd fails with `EBADF` when it is not
//! open.
//!
//! ## Contracts
//! - fds are created `CLOEXEC` (`SOCK_CLOEXEC`, `pipe2`, `accept4`, `EPOLL_CLOEXEC`, with an
//!   `fcntl` fallback where the OS lacks the flag) and returned as [`OwnedFd`]; calls that use an
//!   fd take [`AsFd`]. Raw numbers appear only where the kernel API is about numbers (fd sets,
//!   epoll data).
//! - Sends never raise `SIGPIPE`: `MSG_NOSIGNAL` on Linux, `SO_NOSIGPIPE` on BSD/macOS (set at
//!   socket creation).
//! - **EINTR is never hidden**: raw calls return `Err(Errno::EINTR)`. Use
//!   [`repeat_upon_eintr`] to retry, or [`repeat_decreasing_timeout`] to retry against a
//!   monotonic deadline so a retry never stretches a timeout.
//! - `select`'s [`FdSet`] refuses an fd outside `0..FD_SETSIZE` with `EINVAL` instead of
//!   writing out of bounds.
//! - On x86-64 Linux and Android, `read`, `write`, `recv`, `send` (and their `_opt` forms) and
//!   `epoll_wait` enter the kernel with the `syscall` instruction instead of calling libc's
//!   wrappers, which make them thread cancellation points (a switch around every call in a
//!   multi-threaded process): same arguments, same errnos, without libc's bookkeeping.
//!
//! ## Backends per OS
//! | call family | Linux | macOS / BSD |
//! |---|---|---|
//! | `select`, `poll` | yes | yes |
//! | `epoll_*` | yes | — |
//! | `kqueue`, `kevent` | — | yes (not built on this project's Linux CI) |
//!
//! All `unsafe` of the crate is in the [`syscall!`](crate) macro, the kernel entries of the
//! data path (`direct.rs`) and a few documented blocks, each with a `// SAFETY:` line.
#![deny(missing_docs, missing_debug_implementations)]
#![warn(unsafe_op_in_unsafe_fn)]
// libc's integer types differ per platform; casts that are no-ops here are not elsewhere.
#![allow(clippy::unnecessary_cast)]

use std::time::{Duration, Instant};

pub use nix::errno::Errno;
pub use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};

/// The result of every isys call: the value, or the errno the kernel returned.
///
/// ```
/// fn reserve_fd() -> isys::Result<isys::OwnedFd> {
///     isys::open(c"/dev/null", isys::libc::O_RDONLY)
/// }
/// assert!(reserve_fd().is_ok());
/// ```
pub type Result<T> = std::result::Result<T, Errno>;

/// Calls a libc function and turns a `-1` return into `Err(Errno::last())`.
///
/// This macro is the crate's choke point for `unsafe`: every use passes pointers that come
/// from live Rust references or owned buffers whose lengths are passed alongside.
macro_rules! syscall {
    ($fn:ident ( $($arg:expr),* $(,)? )) => {{
        // SAFETY: the arguments are valid for the call: fds are borrowed from live owners,
        // pointers come from references/slices that outlive the call, lengths match them.
        let res = unsafe { libc::$fn($($arg),*) };
        if res == -1 {
            Err(Errno::last())
        } else {
            Ok(res)
        }
    }};
}

mod addr;
mod direct;
#[cfg(linux_like)]
mod epoll;
mod fd;
#[cfg(bsd_like)]
mod kqueue;
mod msg;
mod netdb;
mod poll;
mod random;
mod select;
mod signal;
mod socket;
mod sockopt;
mod wait;

pub use addr::{SockAddr, UnixAddrKind};
#[cfg(linux_like)]
pub use epoll::*;
pub use fd::*;
#[cfg(bsd_like)]
pub use kqueue::*;
pub use msg::*;
pub use netdb::*;
pub use poll::*;
pub use random::{getrandom, random_u16};
pub use select::*;
pub use signal::*;
pub use socket::*;
pub use sockopt::*;
pub use wait::*;

/// Converts an [`std::io::Error`] to an [`Errno`], losslessly for OS errors.
///
/// Errors that did not come from the OS (no raw errno) map to `Errno::UnknownErrno`.
/// No C call.
///
/// ```
/// use isys::{errno_from_io, Errno};
///
/// let e = std::fs::File::open("/nonexistent/x").unwrap_err();
/// assert_eq!(errno_from_io(&e), Errno::ENOENT);
/// let other = std::io::Error::new(std::io::ErrorKind::Other, "not from the OS");
/// assert_eq!(errno_from_io(&other), Errno::UnknownErrno);
/// ```
pub fn errno_from_io(err: &std::io::Error) -> Errno {
    err.raw_os_error()
        .map(Errno::from_raw)
        .unwrap_or(Errno::UnknownErrno)
}

/// Converts an [`Errno`] to an [`std::io::Error`] carrying the same raw errno. No C call.
///
/// ```
/// use isys::{errno_to_io, Errno};
///
/// let e = errno_to_io(Errno::EWOULDBLOCK);
/// assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock);
/// assert_eq!(e.raw_os_error(), Some(Errno::EWOULDBLOCK as i32));
/// ```
pub fn errno_to_io(errno: Errno) -> std::io::Error {
    std::io::Error::from_raw_os_error(errno as i32)
}

/// Calls `f` until it returns something other than `Err(Errno::EINTR)` (IOLib's
/// `repeat-upon-eintr`). No C call of its own.
///
/// ```
/// use isys::{pipe, read, repeat_upon_eintr, write};
///
/// let (r, w) = pipe(false)?;
/// write(&w, b"x")?;
/// let mut buf = [0u8; 1];
/// // A blocking read that a signal handler may interrupt: retried until it completes.
/// assert_eq!(repeat_upon_eintr(|| read(&r, &mut buf))?, 1);
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// Whatever `f` returns other than `EINTR`.
pub fn repeat_upon_eintr<T, F>(mut f: F) -> Result<T>
where
    F: FnMut() -> Result<T>,
{
    loop {
        match f() {
            Err(Errno::EINTR) => continue,
            other => return other,
        }
    }
}

/// Calls `f(remaining)` and retries on `EINTR` against a monotonic deadline, so the total time
/// never exceeds `timeout` (IOLib's `repeat-decreasing-timeout`).
///
/// `None` means no timeout: `f(None)` is retried forever on `EINTR`. With `Some(t)`, each retry
/// gets what is left of `t` (possibly zero); `f` is expected to return promptly when given zero.
/// No C call of its own (the deadline is an [`Instant`], on the monotonic clock).
///
/// ```
/// use isys::{pipe, poll, repeat_decreasing_timeout, AsRawFd, PollFd, PollFlags};
/// use std::time::Duration;
///
/// let (r, _w) = pipe(true)?;
/// let mut fds = [PollFd::new(r.as_raw_fd(), PollFlags::IN)];
/// // Waits at most 10ms in total, however often a signal interrupts poll(2).
/// let ready = repeat_decreasing_timeout(Some(Duration::from_millis(10)), |left| {
///     poll(&mut fds, left)
/// })?;
/// assert_eq!(ready, 0); // timed out: nothing was written
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// Whatever `f` returns other than `EINTR`.
pub fn repeat_decreasing_timeout<T, F>(timeout: Option<Duration>, mut f: F) -> Result<T>
where
    F: FnMut(Option<Duration>) -> Result<T>,
{
    let deadline = timeout.map(|t| Instant::now().checked_add(t));
    let mut remaining = timeout;
    loop {
        match f(remaining) {
            Err(Errno::EINTR) => {
                remaining = match deadline {
                    None => None,
                    // A deadline past Instant's range is the same as no deadline.
                    Some(None) => timeout,
                    Some(Some(d)) => Some(d.saturating_duration_since(Instant::now())),
                };
            }
            other => return other,
        }
    }
}

/// Resource limits for [`getrlimit`] / [`setrlimit`].
///
/// ```
/// use isys::{getrlimit, Resource};
///
/// let (soft, hard) = getrlimit(Resource::NoFile)?;
/// assert!(soft <= hard);
/// # Ok::<(), isys::Errno>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// `RLIMIT_NOFILE`: the number of open fds.
    NoFile,
    /// `RLIMIT_CORE`: core file size.
    Core,
    /// `RLIMIT_STACK`: stack size.
    Stack,
}

impl Resource {
    fn raw(self) -> libc::c_int {
        (match self {
            Resource::NoFile => libc::RLIMIT_NOFILE,
            Resource::Core => libc::RLIMIT_CORE,
            Resource::Stack => libc::RLIMIT_STACK,
        }) as libc::c_int
    }
}

/// `getrlimit(2)`: returns `(soft, hard)`; `u64::MAX` means unlimited.
///
/// ```
/// use isys::{getrlimit, Resource};
///
/// let (soft, hard) = getrlimit(Resource::Stack)?;
/// assert!(soft > 0 && soft <= hard);
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// `EINVAL` when the kernel does not know the resource (not expected for these three).
pub fn getrlimit(resource: Resource) -> Result<(u64, u64)> {
    let mut rl = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    syscall!(getrlimit(resource.raw() as _, &mut rl))?;
    Ok((rl.rlim_cur as u64, rl.rlim_max as u64))
}

/// `setrlimit(2)`: sets `(soft, hard)`.
///
/// Lowering a limit, or raising the soft limit up to the hard one, needs no privilege:
///
/// ```
/// use isys::{getrlimit, setrlimit, Resource};
///
/// let (soft, hard) = getrlimit(Resource::Core)?;
/// setrlimit(Resource::Core, 0, hard)?; // no core dumps from this process
/// assert_eq!(getrlimit(Resource::Core)?, (0, hard));
/// setrlimit(Resource::Core, soft, hard)?;
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// - `EPERM`: raising the hard limit without privilege (`CAP_SYS_RESOURCE` on Linux).
/// - `EINVAL`: `soft > hard`; on macOS also an `RLIMIT_NOFILE` above `kern.maxfilesperproc`.
pub fn setrlimit(resource: Resource, soft: u64, hard: u64) -> Result<()> {
    let rl = libc::rlimit {
        rlim_cur: soft as libc::rlim_t,
        rlim_max: hard as libc::rlim_t,
    };
    syscall!(setrlimit(resource.raw() as _, &rl)).map(drop)
}

/// Raises the soft `RLIMIT_NOFILE` to `want` (capped at the hard limit); returns the new soft
/// limit. Where the kernel refuses a value under the hard limit (macOS caps it at
/// `kern.maxfilesperproc` with `EINVAL`), the highest accepted value is found by halving.
/// Calls `getrlimit(2)` then `setrlimit(2)` with `RLIMIT_NOFILE`.
///
/// ```
/// use isys::{getrlimit, raise_nofile_limit, Resource};
///
/// let now = raise_nofile_limit(4096)?;
/// assert_eq!(getrlimit(Resource::NoFile)?.0, now);
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// The errno of `getrlimit(2)` or `setrlimit(2)`, other than the `EINVAL`/`EPERM` that make it
/// try a lower value.
pub fn raise_nofile_limit(want: u64) -> Result<u64> {
    let (soft, hard) = getrlimit(Resource::NoFile)?;
    let mut target = want.min(hard);
    while target > soft {
        match setrlimit(Resource::NoFile, target, hard) {
            Ok(()) => return Ok(target),
            Err(Errno::EINVAL) | Err(Errno::EPERM) => target = soft + (target - soft) / 2,
            Err(e) => return Err(e),
        }
    }
    Ok(soft)
}

/// Clocks for [`clock_gettime`].
///
/// ```
/// use isys::{clock_gettime, ClockId};
///
/// let a = clock_gettime(ClockId::Monotonic)?;
/// let b = clock_gettime(ClockId::Monotonic)?;
/// assert!(b >= a); // the monotonic clock never goes back
/// # Ok::<(), isys::Errno>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockId {
    /// `CLOCK_MONOTONIC`: never jumps; use it for deadlines.
    Monotonic,
    /// `CLOCK_REALTIME`: wall-clock time since the Unix epoch.
    Realtime,
}

/// `clock_gettime(2)`: the time on `clock` as a [`Duration`] since that clock's origin.
///
/// ```
/// use isys::{clock_gettime, ClockId};
///
/// let since_epoch = clock_gettime(ClockId::Realtime)?;
/// assert!(since_epoch.as_secs() > 1_500_000_000); // after 2017
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// `EINVAL` when the kernel does not support the clock (not expected for these two).
pub fn clock_gettime(clock: ClockId) -> Result<Duration> {
    let id = match clock {
        ClockId::Monotonic => libc::CLOCK_MONOTONIC,
        ClockId::Realtime => libc::CLOCK_REALTIME,
    };
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    syscall!(clock_gettime(id, &mut ts))?;
    Ok(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
}

/// `getpid(2)`: this process's id (through [`std::process::id`]). Never fails.
///
/// ```
/// assert_eq!(isys::getpid() as u32, std::process::id());
/// ```
pub fn getpid() -> i32 {
    std::process::id() as i32
}

/// Rounds a timeout up to whole milliseconds for `poll`/`epoll_wait` (`-1` = forever), so a
/// sub-millisecond wait never becomes a busy zero-timeout loop.
#[inline]
pub(crate) fn timeout_ms(timeout: Option<Duration>) -> libc::c_int {
    match timeout {
        None => -1,
        Some(t) => {
            let ms = t.as_nanos().div_ceil(1_000_000);
            ms.min(libc::c_int::MAX as u128) as libc::c_int
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_rounds_up() {
        assert_eq!(timeout_ms(None), -1);
        assert_eq!(timeout_ms(Some(Duration::ZERO)), 0);
        assert_eq!(timeout_ms(Some(Duration::from_micros(1))), 1);
        assert_eq!(timeout_ms(Some(Duration::from_millis(5))), 5);
        assert_eq!(
            timeout_ms(Some(Duration::from_secs(u64::MAX))),
            libc::c_int::MAX
        );
    }

    #[test]
    fn decreasing_timeout_passes_remaining() {
        let mut calls = Vec::new();
        let r: Result<()> = repeat_decreasing_timeout(Some(Duration::from_millis(50)), |rem| {
            calls.push(rem);
            if calls.len() < 3 {
                std::thread::sleep(Duration::from_millis(10));
                Err(Errno::EINTR)
            } else {
                Ok(())
            }
        });
        assert!(r.is_ok());
        assert_eq!(calls[0], Some(Duration::from_millis(50)));
        assert!(calls[1].unwrap() <= Duration::from_millis(40));
        assert!(calls[2].unwrap() <= Duration::from_millis(30));
    }
}

/// A broken-down local time, from [`localtime`].
///
/// ```
/// let t = isys::localtime(0)?; // the epoch, in the local time zone
/// assert!(t.year == 1970 || t.year == 1969);
/// assert!((1..=12).contains(&t.month) && t.hour < 24);
/// # Ok::<(), isys::Errno>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalTime {
    /// Year (e.g. 2010).
    pub year: i32,
    /// Month, 1–12.
    pub month: u32,
    /// Day of the month, 1–31.
    pub day: u32,
    /// Hour, 0–23.
    pub hour: u32,
    /// Minute, 0–59.
    pub minute: u32,
    /// Second, 0–60.
    pub second: u32,
}

/// `localtime_r(3)` of `secs` since the Unix epoch (what Lisp's `get-decoded-time` gives).
///
/// ```
/// use isys::{clock_gettime, localtime, ClockId};
///
/// let now = clock_gettime(ClockId::Realtime)?.as_secs() as i64;
/// let t = localtime(now)?;
/// assert!(t.year >= 2024 && (1..=31).contains(&t.day));
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// `EOVERFLOW` when the year does not fit the C `struct tm` (`localtime_r` returned NULL).
pub fn localtime(secs: i64) -> Result<LocalTime> {
    let t = secs as libc::time_t;
    // SAFETY: tm is plain old data; all-zero is valid.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are to live locals; localtime_r is the reentrant variant.
    let r = unsafe { libc::localtime_r(&t, &mut tm) };
    if r.is_null() {
        return Err(Errno::EOVERFLOW);
    }
    Ok(LocalTime {
        year: tm.tm_year + 1900,
        month: (tm.tm_mon + 1) as u32,
        day: tm.tm_mday as u32,
        hour: tm.tm_hour as u32,
        minute: tm.tm_min as u32,
        second: tm.tm_sec as u32,
    })
}
