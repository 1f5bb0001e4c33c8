//! File-descriptor calls: read/write, readv/writev, open, close, dup, pipe, fcntl.

use crate::{Errno, Result};
use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};

/// Wraps a freshly created fd number in an [`OwnedFd`].
pub(crate) fn owned(fd: RawFd) -> OwnedFd {
    // SAFETY: `fd` was just returned by a creating syscall that succeeded; nobody else owns it.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// `read(2)`: reads into `buf`; `Ok(0)` is end of file.
pub fn read<Fd: AsFd>(fd: Fd, buf: &mut [u8]) -> Result<usize> {
    syscall!(read(
        fd.as_fd().as_raw_fd(),
        buf.as_mut_ptr().cast(),
        buf.len()
    ))
    .map(|n| n as usize)
}

/// `write(2)`: writes from `buf`, returns how many bytes the kernel took.
///
/// On a socket prefer [`send`](crate::send), which never raises `SIGPIPE`.
pub fn write<Fd: AsFd>(fd: Fd, buf: &[u8]) -> Result<usize> {
    syscall!(write(
        fd.as_fd().as_raw_fd(),
        buf.as_ptr().cast(),
        buf.len()
    ))
    .map(|n| n as usize)
}

/// `readv(2)`: scatter read.
pub fn readv<Fd: AsFd>(fd: Fd, bufs: &mut [IoSliceMut<'_>]) -> Result<usize> {
    let n = bufs.len().min(libc::c_int::MAX as usize) as libc::c_int;
    // IoSliceMut is ABI-compatible with `struct iovec` on Unix (documented by std).
    syscall!(readv(fd.as_fd().as_raw_fd(), bufs.as_mut_ptr().cast(), n)).map(|n| n as usize)
}

/// `writev(2)`: gather write.
pub fn writev<Fd: AsFd>(fd: Fd, bufs: &[IoSlice<'_>]) -> Result<usize> {
    let n = bufs.len().min(libc::c_int::MAX as usize) as libc::c_int;
    syscall!(writev(fd.as_fd().as_raw_fd(), bufs.as_ptr().cast(), n)).map(|n| n as usize)
}

/// `close(2)` with the error reported (dropping an [`OwnedFd`] ignores it).
///
/// The fd is consumed: whatever the result, it is closed (Linux never leaves it open after
/// `EINTR`), so it can never be closed twice.
pub fn close(fd: OwnedFd) -> Result<()> {
    let raw = fd.into_raw_fd();
    syscall!(close(raw)).map(drop)
}

/// `fcntl(fd, F_DUPFD_CLOEXEC, 0)`: a new CLOEXEC fd for the same open file (`dup(2)`).
pub fn dup<Fd: AsFd>(fd: Fd) -> Result<OwnedFd> {
    syscall!(fcntl(fd.as_fd().as_raw_fd(), libc::F_DUPFD_CLOEXEC, 0)).map(owned)
}

/// `fcntl(fd, F_DUPFD_CLOEXEC, min)`: like [`dup`] but the new number is at least `min`.
pub fn dup_at_least<Fd: AsFd>(fd: Fd, min: RawFd) -> Result<OwnedFd> {
    syscall!(fcntl(fd.as_fd().as_raw_fd(), libc::F_DUPFD_CLOEXEC, min)).map(owned)
}

/// `dup2(2)` / `dup3(2)`: makes `target` refer to `fd`'s open file, closing what `target`
/// referred to. The target is consumed and returned as the new owner; it is CLOEXEC.
pub fn dup2<Fd: AsFd>(fd: Fd, target: OwnedFd) -> Result<OwnedFd> {
    let new = target.into_raw_fd();
    cfg_if::cfg_if! {
        if #[cfg(linux_like)] {
            let r = syscall!(dup3(fd.as_fd().as_raw_fd(), new, libc::O_CLOEXEC));
        } else {
            let r = syscall!(dup2(fd.as_fd().as_raw_fd(), new)).and_then(|n| {
                set_cloexec(&owned_ref(n), true).map(|_| n)
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
/// O_RDONLY)` is how a server keeps a reserve fd for running out of fds).
pub fn open(path: &std::ffi::CStr, flags: libc::c_int) -> Result<OwnedFd> {
    syscall!(open(path.as_ptr(), flags | libc::O_CLOEXEC)).map(owned)
}

/// `pipe2(2)` with `O_CLOEXEC` (and `O_NONBLOCK` when `nonblocking`): `(read end, write end)`.
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
pub fn fcntl_getfl<Fd: AsFd>(fd: Fd) -> Result<libc::c_int> {
    syscall!(fcntl(fd.as_fd().as_raw_fd(), libc::F_GETFL))
}

/// `fcntl(fd, F_SETFL, flags)`.
pub fn fcntl_setfl<Fd: AsFd>(fd: Fd, flags: libc::c_int) -> Result<()> {
    syscall!(fcntl(fd.as_fd().as_raw_fd(), libc::F_SETFL, flags)).map(drop)
}

/// `fcntl(fd, F_GETFD)`: the fd flags (`FD_CLOEXEC`).
pub fn fcntl_getfd<Fd: AsFd>(fd: Fd) -> Result<libc::c_int> {
    syscall!(fcntl(fd.as_fd().as_raw_fd(), libc::F_GETFD))
}

/// `fcntl(fd, F_SETFD, flags)`.
pub fn fcntl_setfd<Fd: AsFd>(fd: Fd, flags: libc::c_int) -> Result<()> {
    syscall!(fcntl(fd.as_fd().as_raw_fd(), libc::F_SETFD, flags)).map(drop)
}

/// Whether `O_NONBLOCK` is set (`fcntl(F_GETFL)`).
pub fn is_nonblocking<Fd: AsFd>(fd: Fd) -> Result<bool> {
    Ok(fcntl_getfl(fd)? & libc::O_NONBLOCK != 0)
}

/// Sets or clears `O_NONBLOCK` (`fcntl(F_GETFL)` then `F_SETFL` if it changes).
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
pub fn is_cloexec<Fd: AsFd>(fd: Fd) -> Result<bool> {
    Ok(fcntl_getfd(fd)? & libc::FD_CLOEXEC != 0)
}

/// Sets or clears `FD_CLOEXEC` (`fcntl(F_SETFD)`).
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
/// Takes a raw number because its purpose is to ask about numbers nobody may own.
pub fn fd_is_open(fd: RawFd) -> bool {
    // SAFETY: F_GETFD only inspects the descriptor table; an invalid number yields EBADF.
    let r = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    r != -1 || Errno::last() != Errno::EBADF
}

/// `fstat(2)`: the `(st_dev, st_ino)` pair that identifies the open file behind `fd`.
///
/// Takes a raw number: its use is telling whether a number still names the file it named
/// earlier (an event loop defending against fds closed and reused while registered).
pub fn fstat_identity(fd: RawFd) -> Result<(u64, u64)> {
    // SAFETY: stat is plain old data; all-zero is valid.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    syscall!(fstat(fd, &mut st))?;
    Ok((st.st_dev as u64, st.st_ino as u64))
}
