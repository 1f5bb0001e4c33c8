//! File-descriptor calls: read/write, readv/writev, open, close, dup, pipe, fcntl.

use crate::{direct, Errno, Result};
use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};

/// Wraps a freshly created fd number in an [`OwnedFd`].
pub(crate) fn owned(fd: RawFd) -> OwnedFd {
    // SAFETY: `fd` was just returned by a creating syscall that succeeded; nobody else owns it.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// `read(2)`: reads into `buf`; `Ok(0)` is end of file.
///
/// On a blocking fd it waits until at least one byte (or end of file) is there; on a
/// non-blocking one it returns at once.
///
/// ```
/// use isys::{pipe, read, write};
///
/// let (r, w) = pipe(false)?;
/// write(&w, b"abc")?;
/// drop(w);
/// let mut buf = [0u8; 8];
/// assert_eq!(read(&r, &mut buf)?, 3);
/// assert_eq!(read(&r, &mut buf)?, 0); // writer closed: end of file
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// - `EAGAIN`/`EWOULDBLOCK` (the same value on Linux and macOS): the fd is non-blocking and
///   nothing is there yet.
/// - `EINTR`: a signal handler ran before any data came (not retried, see
///   [`repeat_upon_eintr`](crate::repeat_upon_eintr)).
/// - `EBADF`: `fd` is not open for reading. `EISDIR`: it is a directory.
/// - `ECONNRESET`, `ETIMEDOUT`, `ENOTCONN` on sockets; `EIO` on terminals and devices.
pub fn read<Fd: AsFd>(fd: Fd, buf: &mut [u8]) -> Result<usize> {
    // SAFETY: `buf` is valid for writes of its length; the fd is borrowed from a live owner.
    unsafe { direct::read(fd.as_fd().as_raw_fd(), buf.as_mut_ptr(), buf.len()) }
}

/// `write(2)`: writes from `buf`, returns how many bytes the kernel took.
///
/// On a blocking fd it waits until at least part of `buf` fits; on a non-blocking one it
/// writes what fits now (possibly less than `buf`) or fails with `EAGAIN`.
///
/// On a socket prefer [`send`](crate::send), which never raises `SIGPIPE`.
///
/// ```
/// use isys::{pipe, read, write};
///
/// let (r, w) = pipe(false)?;
/// assert_eq!(write(&w, b"hello")?, 5);
/// let mut buf = [0u8; 5];
/// assert_eq!(read(&r, &mut buf)?, 5);
/// assert_eq!(&buf, b"hello");
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// - `EAGAIN`/`EWOULDBLOCK`: the fd is non-blocking and full (a pipe's buffer, a socket's send
///   buffer).
/// - `EPIPE`: the read end of a pipe or the peer of a socket is closed. `write(2)` also raises
///   `SIGPIPE` then, which kills the process unless it is ignored or caught; `send` does not.
/// - `EINTR`: a signal handler ran before anything was written.
/// - `EBADF`: `fd` is not open for writing. `ENOSPC`, `EFBIG`, `EIO` on files.
pub fn write<Fd: AsFd>(fd: Fd, buf: &[u8]) -> Result<usize> {
    // SAFETY: `buf` is valid for reads of its length; the fd is borrowed from a live owner.
    unsafe { direct::write(fd.as_fd().as_raw_fd(), buf.as_ptr(), buf.len()) }
}

/// `readv(2)`: scatter read, filling `bufs` in order; returns the total byte count.
///
/// ```
/// use isys::{pipe, readv, write};
/// use std::io::IoSliceMut;
///
/// let (r, w) = pipe(false)?;
/// write(&w, b"headbody")?;
/// let (mut head, mut body) = ([0u8; 4], [0u8; 4]);
/// let n = readv(&r, &mut [IoSliceMut::new(&mut head), IoSliceMut::new(&mut body)])?;
/// assert_eq!((n, &head, &body), (8, b"head", b"body"));
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// As [`read`]: `EAGAIN`/`EWOULDBLOCK` on a non-blocking fd with nothing there, `EINTR`,
/// `EBADF`; also `EINVAL` when the lengths add up to more than `ssize_t` or there are more
/// than `IOV_MAX` (1024) buffers.
pub fn readv<Fd: AsFd>(fd: Fd, bufs: &mut [IoSliceMut<'_>]) -> Result<usize> {
    let n = bufs.len().min(libc::c_int::MAX as usize) as libc::c_int;
    // IoSliceMut is ABI-compatible with `struct iovec` on Unix (documented by std).
    syscall!(readv(fd.as_fd().as_raw_fd(), bufs.as_mut_ptr().cast(), n)).map(|n| n as usize)
}

/// `writev(2)`: gather write of `bufs` in order; returns the total byte count, which may be
/// short on a non-blocking fd.
///
/// ```
/// use isys::{pipe, read, writev};
/// use std::io::IoSlice;
///
/// let (r, w) = pipe(false)?;
/// assert_eq!(writev(&w, &[IoSlice::new(b"head"), IoSlice::new(b"body")])?, 8);
/// let mut buf = [0u8; 8];
/// read(&r, &mut buf)?;
/// assert_eq!(&buf, b"headbody");
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// As [`write()`]: `EAGAIN`/`EWOULDBLOCK`, `EPIPE` (with `SIGPIPE`), `EINTR`, `EBADF`; also
/// `EINVAL` for more than `IOV_MAX` (1024) buffers or a total over `ssize_t`.
pub fn writev<Fd: AsFd>(fd: Fd, bufs: &[IoSlice<'_>]) -> Result<usize> {
    let n = bufs.len().min(libc::c_int::MAX as usize) as libc::c_int;
    syscall!(writev(fd.as_fd().as_raw_fd(), bufs.as_ptr().cast(), n)).map(|n| n as usize)
}

/// `close(2)` with the error reported (dropping an [`OwnedFd`] ignores it).
///
/// The fd is consumed: whatever the result, it is closed (Linux never leaves it open after
/// `EINTR`), so it can never be closed twice.
///
/// ```
/// use isys::{close, pipe};
///
/// let (r, w) = pipe(false)?;
/// close(w)?;
/// close(r)?;
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// - `EIO`: an earlier deferred write failed (NFS and similar); the data may be lost.
/// - `EINTR`: a signal arrived while closing; the fd is closed all the same.
/// - `EBADF` cannot happen for a live [`OwnedFd`].
pub fn close(fd: OwnedFd) -> Result<()> {
    let raw = fd.into_raw_fd();
    syscall!(close(raw)).map(drop)
}

/// `fcntl(fd, F_DUPFD_CLOEXEC, 0)`: a new CLOEXEC fd for the same open file (`dup(2)`).
///
/// ```
/// use isys::{dup, is_cloexec, pipe, read, write};
///
/// let (r, w) = pipe(false)?;
/// let w2 = dup(&w)?;
/// assert!(is_cloexec(&w2)?);
/// drop(w);
/// write(&w2, b"x")?; // still the same pipe
/// assert_eq!(read(&r, &mut [0u8; 1])?, 1);
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// `EMFILE` when the process has `RLIMIT_NOFILE` fds open; `EBADF` when `fd` is not open.
pub fn dup<Fd: AsFd>(fd: Fd) -> Result<OwnedFd> {
    syscall!(fcntl(fd.as_fd().as_raw_fd(), libc::F_DUPFD_CLOEXEC, 0)).map(owned)
}

/// `fcntl(fd, F_DUPFD_CLOEXEC, min)`: like [`dup`] but the new number is at least `min`.
///
/// ```
/// use isys::{dup_at_least, pipe, AsRawFd};
///
/// let (r, _w) = pipe(false)?;
/// let high = dup_at_least(&r, 100)?;
/// assert!(high.as_raw_fd() >= 100);
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// - `EINVAL`: `min` is negative or not below `RLIMIT_NOFILE`.
/// - `EMFILE`: no free number at or above `min` under the limit. `EBADF`: `fd` is not open.
pub fn dup_at_least<Fd: AsFd>(fd: Fd, min: RawFd) -> Result<OwnedFd> {
    syscall!(fcntl(fd.as_fd().as_raw_fd(), libc::F_DUPFD_CLOEXEC, min)).map(owned)
}

/// `dup2(2)` / `dup3(2)`: makes `target` refer to `fd`'s open file, closing what `target`
/// referred to. The target is consumed and returned as the new owner; it is CLOEXEC.
/// Linux calls `dup3(fd, target, O_CLOEXEC)`; elsewhere `dup2(2)` then `fcntl(F_SETFD)`.
///
/// ```
/// use isys::{dup2, pipe, read, write, AsRawFd};
///
/// let (r, w) = pipe(false)?;
/// let (_r2, w2) = pipe(false)?;
/// let n = w2.as_raw_fd();
/// let w2 = dup2(&w, w2)?; // the number of w2 now writes into the first pipe
/// assert_eq!(w2.as_raw_fd(), n);
/// write(&w2, b"x")?;
/// assert_eq!(read(&r, &mut [0u8; 1])?, 1);
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// - `EINVAL`: `fd` and `target` are the same number (Linux `dup3`).
/// - `EBUSY`: a race with `open`/`dup` in another thread (Linux).
/// - `EINTR`, `EBADF`. On failure `target` is closed.
pub fn dup2<Fd: AsFd>(fd: Fd, target: OwnedFd) -> Result<OwnedFd> {
    let new = target.into_raw_fd();
    cfg_if::cfg_if! {
        if #[cfg(target_os = "android")] {
            // Bionic has dup3 (API 21), but the libc crate does not declare it for Android.
            let r = syscall!(syscall(libc::SYS_dup3, fd.as_fd().as_raw_fd(), new, libc::O_CLOEXEC))
                .map(|n| n as RawFd);
        } else if #[cfg(linux_like)] {
            let r = syscall!(dup3(fd.as_fd().as_raw_fd(), new, libc::O_CLOEXEC));
        } else {
            let r = syscall!(dup2(fd.as_fd().as_raw_fd(), new)).and_then(|n| {
                set_cloexec(owned_ref(n), true).map(|_| n)
            });
        }
    }
    match r {
        Ok(n) => Ok(owned(n)),
        Err(e) => {
            // The target is still ours (dup3 failed before touching it): close it.
            drop(owned(new));
            Err(e)
        }
    }
}

#[cfg(not(linux_like))]
fn owned_ref(fd: RawFd) -> std::os::fd::BorrowedFd<'static> {
    // SAFETY: used only for the duration of one fcntl on an fd we own right now.
    unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) }
}

/// `open(2)` of `path` with `flags` plus `O_CLOEXEC`: a new fd (`open("/dev/null",
/// O_RDONLY)` is how a server keeps a reserve fd for running out of fds). Blocks only for
/// special files (a FIFO opened for reading waits for a writer unless `O_NONBLOCK`).
///
/// ```
/// use isys::{libc, open, read};
///
/// let null = open(c"/dev/null", libc::O_RDONLY)?;
/// assert_eq!(read(&null, &mut [0u8; 4])?, 0);
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// - `ENOENT` (no such path, and no `O_CREAT`), `EACCES`, `EISDIR` (a directory opened for
///   writing), `EEXIST` (`O_CREAT | O_EXCL` and it exists), `ENOTDIR`, `ELOOP`.
/// - `EMFILE` (the process's `RLIMIT_NOFILE`) / `ENFILE` (the system-wide limit).
/// - `EINTR` while waiting on a FIFO or device.
pub fn open(path: &std::ffi::CStr, flags: libc::c_int) -> Result<OwnedFd> {
    syscall!(open(path.as_ptr(), flags | libc::O_CLOEXEC)).map(owned)
}

/// `pipe2(2)` with `O_CLOEXEC` (and `O_NONBLOCK` when `nonblocking`): `(read end, write end)`.
/// On macOS: `pipe(2)` then `fcntl` for each flag.
///
/// ```
/// use isys::{is_cloexec, is_nonblocking, pipe};
///
/// let (r, w) = pipe(true)?;
/// assert!(is_cloexec(&r)? && is_cloexec(&w)?);
/// assert!(is_nonblocking(&r)? && is_nonblocking(&w)?);
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// `EMFILE` (the process's `RLIMIT_NOFILE`) / `ENFILE` (the system-wide limit on open files).
pub fn pipe(nonblocking: bool) -> Result<(OwnedFd, OwnedFd)> {
    let mut fds = [-1 as RawFd; 2];
    cfg_if::cfg_if! {
        if #[cfg(any(linux_like, target_os = "freebsd", target_os = "openbsd",
                     target_os = "netbsd", target_os = "dragonfly"))] {
            let flags = libc::O_CLOEXEC | if nonblocking { libc::O_NONBLOCK } else { 0 };
            syscall!(pipe2(fds.as_mut_ptr(), flags))?;
            Ok((owned(fds[0]), owned(fds[1])))
        } else {
            syscall!(pipe(fds.as_mut_ptr()))?;
            let (r, w) = (owned(fds[0]), owned(fds[1]));
            for fd in [&r, &w] {
                set_cloexec(fd, true)?;
                if nonblocking {
                    set_nonblocking(fd, true)?;
                }
            }
            Ok((r, w))
        }
    }
}

/// `eventfd(2)` with `EFD_CLOEXEC | EFD_NONBLOCK`: a counter fd that is readable while its
/// count is not zero (Linux and Android). Write 8 native-endian bytes to add to the count; a
/// read of 8 bytes returns the count and resets it.
#[cfg(linux_like)]
pub fn eventfd(initval: u32) -> Result<OwnedFd> {
    syscall!(eventfd(initval, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK)).map(owned)
}

/// `fcntl(fd, F_GETFL)`: the file status flags (`O_NONBLOCK`, `O_APPEND`, ...).
///
/// ```
/// use isys::{fcntl_getfl, libc, pipe};
///
/// let (r, w) = pipe(true)?;
/// assert_eq!(fcntl_getfl(&r)? & libc::O_ACCMODE, libc::O_RDONLY);
/// assert_ne!(fcntl_getfl(&w)? & libc::O_NONBLOCK, 0);
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// `EBADF` when `fd` is not open.
pub fn fcntl_getfl<Fd: AsFd>(fd: Fd) -> Result<libc::c_int> {
    syscall!(fcntl(fd.as_fd().as_raw_fd(), libc::F_GETFL))
}

/// `fcntl(fd, F_SETFL, flags)`: sets the status flags that can change (`O_APPEND`,
/// `O_NONBLOCK`, `O_ASYNC`, ...); the access mode and creation flags are ignored.
///
/// ```
/// use isys::{fcntl_getfl, fcntl_setfl, is_nonblocking, libc, pipe};
///
/// let (r, _w) = pipe(false)?;
/// fcntl_setfl(&r, fcntl_getfl(&r)? | libc::O_NONBLOCK)?;
/// assert!(is_nonblocking(&r)?);
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// `EBADF` when `fd` is not open; `EPERM` when clearing `O_APPEND` on an append-only file.
pub fn fcntl_setfl<Fd: AsFd>(fd: Fd, flags: libc::c_int) -> Result<()> {
    syscall!(fcntl(fd.as_fd().as_raw_fd(), libc::F_SETFL, flags)).map(drop)
}

/// `fcntl(fd, F_GETFD)`: the fd flags (`FD_CLOEXEC`).
///
/// ```
/// use isys::{fcntl_getfd, libc, pipe};
///
/// let (r, _w) = pipe(false)?;
/// assert_eq!(fcntl_getfd(&r)?, libc::FD_CLOEXEC); // every isys fd is CLOEXEC
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// `EBADF` when `fd` is not open.
pub fn fcntl_getfd<Fd: AsFd>(fd: Fd) -> Result<libc::c_int> {
    syscall!(fcntl(fd.as_fd().as_raw_fd(), libc::F_GETFD))
}

/// `fcntl(fd, F_SETFD, flags)`: sets the fd flags (`FD_CLOEXEC` is the only one).
///
/// ```
/// use isys::{fcntl_getfd, fcntl_setfd, pipe};
///
/// let (r, _w) = pipe(false)?;
/// fcntl_setfd(&r, 0)?; // inherited across exec from now on
/// assert_eq!(fcntl_getfd(&r)?, 0);
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// `EBADF` when `fd` is not open.
pub fn fcntl_setfd<Fd: AsFd>(fd: Fd, flags: libc::c_int) -> Result<()> {
    syscall!(fcntl(fd.as_fd().as_raw_fd(), libc::F_SETFD, flags)).map(drop)
}

/// Whether `O_NONBLOCK` is set (`fcntl(F_GETFL)`).
///
/// ```
/// use isys::{is_nonblocking, pipe};
///
/// let (r, _w) = pipe(false)?;
/// assert!(!is_nonblocking(&r)?);
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// `EBADF` when `fd` is not open.
pub fn is_nonblocking<Fd: AsFd>(fd: Fd) -> Result<bool> {
    Ok(fcntl_getfl(fd)? & libc::O_NONBLOCK != 0)
}

/// Sets or clears `O_NONBLOCK` (`fcntl(F_GETFL)` then `F_SETFL` if it changes).
///
/// The flag belongs to the open file, so it is shared with every [`dup`] of `fd` and with
/// other processes holding it.
///
/// ```
/// use isys::{pipe, read, set_nonblocking, Errno};
///
/// let (r, _w) = pipe(false)?;
/// set_nonblocking(&r, true)?;
/// assert_eq!(read(&r, &mut [0u8; 1]), Err(Errno::EAGAIN)); // instead of blocking
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// `EBADF` when `fd` is not open.
pub fn set_nonblocking<Fd: AsFd>(fd: Fd, on: bool) -> Result<()> {
    let fd = fd.as_fd();
    let flags = fcntl_getfl(fd)?;
    let new = if on {
        flags | libc::O_NONBLOCK
    } else {
        flags & !libc::O_NONBLOCK
    };
    if new != flags {
        fcntl_setfl(fd, new)?;
    }
    Ok(())
}

/// Whether `FD_CLOEXEC` is set (`fcntl(F_GETFD)`).
///
/// ```
/// use isys::{is_cloexec, pipe};
///
/// let (r, _w) = pipe(false)?;
/// assert!(is_cloexec(&r)?);
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// `EBADF` when `fd` is not open.
pub fn is_cloexec<Fd: AsFd>(fd: Fd) -> Result<bool> {
    Ok(fcntl_getfd(fd)? & libc::FD_CLOEXEC != 0)
}

/// Sets or clears `FD_CLOEXEC` (`fcntl(F_GETFD)` then `F_SETFD`).
///
/// ```
/// use isys::{is_cloexec, pipe, set_cloexec};
///
/// let (_r, w) = pipe(false)?;
/// set_cloexec(&w, false)?; // a child started with exec inherits it
/// assert!(!is_cloexec(&w)?);
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// `EBADF` when `fd` is not open.
pub fn set_cloexec<Fd: AsFd>(fd: Fd, on: bool) -> Result<()> {
    let fd = fd.as_fd();
    let flags = fcntl_getfd(fd)?;
    let new = if on {
        flags | libc::FD_CLOEXEC
    } else {
        flags & !libc::FD_CLOEXEC
    };
    fcntl_setfd(fd, new)
}

/// Whether the number `fd` is an open descriptor in this process (`fcntl(fd, F_GETFD)`).
///
/// Takes a raw number because its purpose is to ask about numbers nobody may own. Never
/// fails: any errno other than `EBADF` counts as open.
///
/// ```
/// use isys::{fd_is_open, pipe, AsRawFd};
///
/// let (r, _w) = pipe(false)?;
/// let n = r.as_raw_fd();
/// assert!(fd_is_open(n));
/// drop(r);
/// assert!(!fd_is_open(n));
/// # Ok::<(), isys::Errno>(())
/// ```
pub fn fd_is_open(fd: RawFd) -> bool {
    // SAFETY: F_GETFD only inspects the descriptor table; an invalid number yields EBADF.
    let r = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    r != -1 || Errno::last() != Errno::EBADF
}

/// `fstat(2)`: the `(st_dev, st_ino)` pair that identifies the open file behind `fd`.
///
/// Takes a raw number: its use is telling whether a number still names the file it named
/// earlier (an event loop defending against fds closed and reused while registered).
///
/// ```
/// use isys::{dup, fstat_identity, pipe, AsRawFd};
///
/// let (r, _w) = pipe(false)?;
/// let copy = dup(&r)?; // another number for the same open file
/// assert_eq!(fstat_identity(r.as_raw_fd())?, fstat_identity(copy.as_raw_fd())?);
/// let (r2, _w2) = pipe(false)?;
/// assert_ne!(fstat_identity(r.as_raw_fd())?, fstat_identity(r2.as_raw_fd())?);
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// `EBADF` when the number is not open; `EOVERFLOW` on 32-bit systems for huge files.
pub fn fstat_identity(fd: RawFd) -> Result<(u64, u64)> {
    // SAFETY: stat is plain old data; all-zero is valid.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    syscall!(fstat(fd, &mut st))?;
    Ok((st.st_dev as u64, st.st_ino as u64))
}
