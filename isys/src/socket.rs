//! Socket calls: socket, socketpair, bind, listen, accept4, connect, shutdown, names,
//! options, send/recv and sendmsg/recvmsg with `SCM_RIGHTS`.

use crate::fd::owned;
use crate::{Errno, Result, SockAddr};
use bitflags::bitflags;
use std::mem;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

pub use libc;

bitflags! {
    /// Flags of `send(2)`/`recv(2)` and friends, with IOLib's names.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct MsgFlags: libc::c_int {
        /// `MSG_OOB`: out-of-band data (IOLib `:out-of-band`).
        const OUT_OF_BAND = libc::MSG_OOB;
        /// `MSG_PEEK`: look without consuming (IOLib `:peek`).
        const PEEK = libc::MSG_PEEK;
        /// `MSG_WAITALL`: wait for the full request (IOLib `:wait-all`).
        const WAIT_ALL = libc::MSG_WAITALL;
        /// `MSG_DONTWAIT`: non-blocking for this call (IOLib `:dont-wait`).
        const DONT_WAIT = libc::MSG_DONTWAIT;
        /// `MSG_DONTROUTE`: bypass routing (IOLib `:dont-route`).
        const DONT_ROUTE = libc::MSG_DONTROUTE;
        /// `MSG_EOR`: end of record (IOLib `:end-of-record`).
        const END_OF_RECORD = libc::MSG_EOR;
        /// `MSG_TRUNC`: in results, the datagram was longer than the buffer.
        const TRUNCATED = libc::MSG_TRUNC;
        /// `MSG_CTRUNC`: in results, control data was truncated.
        const CONTROL_TRUNCATED = libc::MSG_CTRUNC;
        #[cfg(linux_like)]
        /// `MSG_MORE` (Linux): more data follows (IOLib `:more`).
        const MORE = libc::MSG_MORE;
        #[cfg(linux_like)]
        /// `MSG_CONFIRM` (Linux): link layer forward progress (IOLib `:confirm`).
        const CONFIRM = libc::MSG_CONFIRM;
        #[cfg(linux_like)]
        /// `MSG_ERRQUEUE` (Linux): read the error queue.
        const ERR_QUEUE = libc::MSG_ERRQUEUE;
    }
}

cfg_if::cfg_if! {
    if #[cfg(not(target_vendor = "apple"))] {
        const NOSIGNAL: libc::c_int = libc::MSG_NOSIGNAL;
    } else {
        const NOSIGNAL: libc::c_int = 0;
    }
}

/// Per-socket set-up after creation: `SO_NOSIGPIPE` where `MSG_NOSIGNAL` does not exist.
fn after_create(fd: OwnedFd) -> Result<OwnedFd> {
    #[cfg(target_vendor = "apple")]
    setsockopt(
        &fd,
        libc::SOL_SOCKET,
        libc::SO_NOSIGPIPE,
        &(1 as libc::c_int),
    )?;
    Ok(fd)
}

/// `socket(2)` with `SOCK_CLOEXEC` (and `SOCK_NONBLOCK` when `nonblocking`).
///
/// `domain` is `AF_INET`, `AF_INET6`, `AF_UNIX`; `ty` is `SOCK_STREAM` or `SOCK_DGRAM`.
pub fn socket(
    domain: libc::c_int,
    ty: libc::c_int,
    protocol: libc::c_int,
    nonblocking: bool,
) -> Result<OwnedFd> {
    cfg_if::cfg_if! {
        if #[cfg(not(target_vendor = "apple"))] {
            let ty = ty | libc::SOCK_CLOEXEC | if nonblocking { libc::SOCK_NONBLOCK } else { 0 };
            let fd = syscall!(socket(domain, ty, protocol)).map(owned)?;
        } else {
            let fd = syscall!(socket(domain, ty, protocol)).map(owned)?;
            crate::set_cloexec(&fd, true)?;
            if nonblocking {
                crate::set_nonblocking(&fd, true)?;
            }
        }
    }
    after_create(fd)
}

/// `socketpair(2)` with `SOCK_CLOEXEC` (and `SOCK_NONBLOCK` when `nonblocking`).
pub fn socketpair(
    domain: libc::c_int,
    ty: libc::c_int,
    protocol: libc::c_int,
    nonblocking: bool,
) -> Result<(OwnedFd, OwnedFd)> {
    let mut fds = [-1 as RawFd; 2];
    cfg_if::cfg_if! {
        if #[cfg(not(target_vendor = "apple"))] {
            let ty = ty | libc::SOCK_CLOEXEC | if nonblocking { libc::SOCK_NONBLOCK } else { 0 };
            syscall!(socketpair(domain, ty, protocol, fds.as_mut_ptr()))?;
            let (a, b) = (owned(fds[0]), owned(fds[1]));
        } else {
            syscall!(socketpair(domain, ty, protocol, fds.as_mut_ptr()))?;
            let (a, b) = (owned(fds[0]), owned(fds[1]));
            for fd in [&a, &b] {
                crate::set_cloexec(fd, true)?;
                if nonblocking {
                    crate::set_nonblocking(fd, true)?;
                }
            }
        }
    }
    Ok((after_create(a)?, after_create(b)?))
}

/// `bind(2)`.
pub fn bind<Fd: AsFd>(fd: Fd, addr: &SockAddr) -> Result<()> {
    syscall!(bind(fd.as_fd().as_raw_fd(), addr.as_ptr(), addr.len())).map(drop)
}

/// `listen(2)`.
pub fn listen<Fd: AsFd>(fd: Fd, backlog: i32) -> Result<()> {
    syscall!(listen(fd.as_fd().as_raw_fd(), backlog)).map(drop)
}

/// `accept4(2)` with `SOCK_CLOEXEC` (and `SOCK_NONBLOCK` when `nonblocking`): the new
/// connection and the peer's address. `EWOULDBLOCK` when nothing is pending on a non-blocking
/// listener.
pub fn accept4<Fd: AsFd>(fd: Fd, nonblocking: bool) -> Result<(OwnedFd, SockAddr)> {
    let mut addr = SockAddr::empty();
    let raw = fd.as_fd().as_raw_fd();
    cfg_if::cfg_if! {
        if #[cfg(not(target_vendor = "apple"))] {
            let flags = libc::SOCK_CLOEXEC | if nonblocking { libc::SOCK_NONBLOCK } else { 0 };
            let new = syscall!(accept4(raw, addr.as_mut_ptr(), addr.len_mut(), flags)).map(owned)?;
        } else {
            let new = syscall!(accept(raw, addr.as_mut_ptr(), addr.len_mut())).map(owned)?;
            crate::set_cloexec(&new, true)?;
            crate::set_nonblocking(&new, nonblocking)?;
        }
    }
    Ok((after_create(new)?, addr))
}

/// `connect(2)`. On a non-blocking socket `EINPROGRESS` means "wait for writability, then read
/// `SO_ERROR`".
pub fn connect<Fd: AsFd>(fd: Fd, addr: &SockAddr) -> Result<()> {
    syscall!(connect(fd.as_fd().as_raw_fd(), addr.as_ptr(), addr.len())).map(drop)
}

/// How [`shutdown`] closes a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shutdown {
    /// `SHUT_RD`.
    Read,
    /// `SHUT_WR`: sends FIN; the peer reads end of file.
    Write,
    /// `SHUT_RDWR`.
    Both,
}

/// `shutdown(2)`.
pub fn shutdown<Fd: AsFd>(fd: Fd, how: Shutdown) -> Result<()> {
    let how = match how {
        Shutdown::Read => libc::SHUT_RD,
        Shutdown::Write => libc::SHUT_WR,
        Shutdown::Both => libc::SHUT_RDWR,
    };
    syscall!(shutdown(fd.as_fd().as_raw_fd(), how)).map(drop)
}

/// `getsockname(2)`: the local address.
pub fn getsockname<Fd: AsFd>(fd: Fd) -> Result<SockAddr> {
    let mut addr = SockAddr::empty();
    syscall!(getsockname(
        fd.as_fd().as_raw_fd(),
        addr.as_mut_ptr(),
        addr.len_mut()
    ))?;
    Ok(addr)
}

/// `getpeername(2)`: the peer's address (`ENOTCONN` when not connected).
pub fn getpeername<Fd: AsFd>(fd: Fd) -> Result<SockAddr> {
    let mut addr = SockAddr::empty();
    syscall!(getpeername(
        fd.as_fd().as_raw_fd(),
        addr.as_mut_ptr(),
        addr.len_mut()
    ))?;
    Ok(addr)
}

mod sealed {
    pub trait Sealed {}
}

/// Plain-old-data types that a socket option can hold (`int`, `struct linger`,
/// `struct timeval`, multicast requests). Sealed: every bit pattern of these is valid.
pub trait SockOptValue: sealed::Sealed + Copy {}
macro_rules! sockopt_value {
    ($($t:ty),*) => { $(impl sealed::Sealed for $t {} impl SockOptValue for $t {})* };
}
sockopt_value!(
    libc::c_int,
    libc::linger,
    libc::timeval,
    libc::ip_mreq,
    libc::ipv6_mreq
);

/// `getsockopt(2)` for a fixed-size value.
pub fn getsockopt<T: SockOptValue, Fd: AsFd>(
    fd: Fd,
    level: libc::c_int,
    name: libc::c_int,
) -> Result<T> {
    // SAFETY: T is one of the sealed plain-old-data option types; all-zero is valid.
    let mut value: T = unsafe { mem::zeroed() };
    let mut len = mem::size_of::<T>() as libc::socklen_t;
    syscall!(getsockopt(
        fd.as_fd().as_raw_fd(),
        level,
        name,
        (&mut value as *mut T).cast(),
        &mut len
    ))?;
    Ok(value)
}

/// `setsockopt(2)` for a fixed-size value.
pub fn setsockopt<T: SockOptValue, Fd: AsFd>(
    fd: Fd,
    level: libc::c_int,
    name: libc::c_int,
    value: &T,
) -> Result<()> {
    syscall!(setsockopt(
        fd.as_fd().as_raw_fd(),
        level,
        name,
        (value as *const T).cast(),
        mem::size_of::<T>() as libc::socklen_t
    ))
    .map(drop)
}

/// `getsockopt(2)` into a byte buffer (e.g. `SO_BINDTODEVICE`); returns the length used.
pub fn getsockopt_bytes<Fd: AsFd>(
    fd: Fd,
    level: libc::c_int,
    name: libc::c_int,
    buf: &mut [u8],
) -> Result<usize> {
    let mut len = buf.len() as libc::socklen_t;
    syscall!(getsockopt(
        fd.as_fd().as_raw_fd(),
        level,
        name,
        buf.as_mut_ptr().cast(),
        &mut len
    ))?;
    Ok(len as usize)
}

/// `setsockopt(2)` from a byte buffer.
pub fn setsockopt_bytes<Fd: AsFd>(
    fd: Fd,
    level: libc::c_int,
    name: libc::c_int,
    value: &[u8],
) -> Result<()> {
    syscall!(setsockopt(
        fd.as_fd().as_raw_fd(),
        level,
        name,
        value.as_ptr().cast(),
        value.len() as libc::socklen_t
    ))
    .map(drop)
}

/// `getsockopt(fd, SOL_SOCKET, SO_ERROR)`: the pending error, cleared by reading it.
/// `Ok(None)` when there is none.
pub fn socket_error<Fd: AsFd>(fd: Fd) -> Result<Option<Errno>> {
    let e: libc::c_int = getsockopt(fd, libc::SOL_SOCKET, libc::SO_ERROR)?;
    Ok((e != 0).then(|| Errno::from_raw(e)))
}

/// `send(2)` with `MSG_NOSIGNAL`: never raises `SIGPIPE`; a closed peer is `Err(EPIPE)`.
pub fn send<Fd: AsFd>(fd: Fd, buf: &[u8], flags: MsgFlags) -> Result<usize> {
    syscall!(send(
        fd.as_fd().as_raw_fd(),
        buf.as_ptr().cast(),
        buf.len(),
        flags.bits() | NOSIGNAL
    ))
    .map(|n| n as usize)
}

/// `sendto(2)` with `MSG_NOSIGNAL`.
pub fn sendto<Fd: AsFd>(fd: Fd, buf: &[u8], flags: MsgFlags, addr: &SockAddr) -> Result<usize> {
    syscall!(sendto(
        fd.as_fd().as_raw_fd(),
        buf.as_ptr().cast(),
        buf.len(),
        flags.bits() | NOSIGNAL,
        addr.as_ptr(),
        addr.len()
    ))
    .map(|n| n as usize)
}

/// `recv(2)`: `Ok(0)` is end of file on a stream socket.
pub fn recv<Fd: AsFd>(fd: Fd, buf: &mut [u8], flags: MsgFlags) -> Result<usize> {
    syscall!(recv(
        fd.as_fd().as_raw_fd(),
        buf.as_mut_ptr().cast(),
        buf.len(),
        flags.bits()
    ))
    .map(|n| n as usize)
}

/// `recvfrom(2)`: the byte count and the sender's address.
pub fn recvfrom<Fd: AsFd>(fd: Fd, buf: &mut [u8], flags: MsgFlags) -> Result<(usize, SockAddr)> {
    let mut addr = SockAddr::empty();
    let n = syscall!(recvfrom(
        fd.as_fd().as_raw_fd(),
        buf.as_mut_ptr().cast(),
        buf.len(),
        flags.bits(),
        addr.as_mut_ptr(),
        addr.len_mut()
    ))?;
    Ok((n as usize, addr))
}

/// Most fds one [`sendmsg`]/[`recvmsg`] call carries (Linux's `SCM_MAX_FD` is 253).
pub const MAX_FDS_PER_MESSAGE: usize = 253;

fn cmsg_space(nfds: usize) -> usize {
    let bytes = (nfds * mem::size_of::<RawFd>()) as libc::c_uint;
    // SAFETY: CMSG_SPACE is pure arithmetic on its argument.
    unsafe { libc::CMSG_SPACE(bytes) as usize }
}

/// `sendmsg(2)` with `MSG_NOSIGNAL`, sending `data` and, as `SCM_RIGHTS` ancillary data,
/// duplicates of `fds` (they stay open here).
///
/// # Errors
/// `EINVAL` for more than [`MAX_FDS_PER_MESSAGE`] fds; whatever `sendmsg` returns.
pub fn sendmsg<Fd: AsFd>(
    fd: Fd,
    data: &[u8],
    fds: &[BorrowedFd<'_>],
    flags: MsgFlags,
) -> Result<usize> {
    if fds.len() > MAX_FDS_PER_MESSAGE {
        return Err(Errno::EINVAL);
    }
    let mut iov = libc::iovec {
        iov_base: data.as_ptr() as *mut libc::c_void,
        iov_len: data.len(),
    };
    // u64 words keep the control buffer aligned for cmsghdr.
    let mut control = vec![0u64; cmsg_space(fds.len()).div_ceil(8)];
    // SAFETY: msghdr is plain old data; all-zero is valid.
    let mut msg: libc::msghdr = unsafe { mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    if !fds.is_empty() {
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = cmsg_space(fds.len()) as _;
        // SAFETY: msg_control points at a zeroed, aligned buffer of CMSG_SPACE(n fds) bytes,
        // so the first header and its data (n ints) are in bounds.
        unsafe {
            let cmsg = libc::CMSG_FIRSTHDR(&msg);
            (*cmsg).cmsg_level = libc::SOL_SOCKET;
            (*cmsg).cmsg_type = libc::SCM_RIGHTS;
            (*cmsg).cmsg_len = libc::CMSG_LEN((fds.len() * mem::size_of::<RawFd>()) as _) as _;
            let data = libc::CMSG_DATA(cmsg).cast::<RawFd>();
            for (i, f) in fds.iter().enumerate() {
                data.add(i).write_unaligned(f.as_raw_fd());
            }
        }
    }
    syscall!(sendmsg(
        fd.as_fd().as_raw_fd(),
        &msg,
        flags.bits() | NOSIGNAL
    ))
    .map(|n| n as usize)
}

/// `recvmsg(2)` with `MSG_CMSG_CLOEXEC`: reads into `buf` and accepts up to `max_fds`
/// fds passed with `SCM_RIGHTS`. Returns the byte count, the received fds (owned, CLOEXEC) and
/// the result flags (check [`MsgFlags::CONTROL_TRUNCATED`] when fewer fds came than were sent).
pub fn recvmsg<Fd: AsFd>(
    fd: Fd,
    buf: &mut [u8],
    max_fds: usize,
    flags: MsgFlags,
) -> Result<(usize, Vec<OwnedFd>, MsgFlags)> {
    let max_fds = max_fds.min(MAX_FDS_PER_MESSAGE);
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let space = cmsg_space(max_fds.max(1));
    let mut control = vec![0u64; space.div_ceil(8)];
    // SAFETY: msghdr is plain old data; all-zero is valid.
    let mut msg: libc::msghdr = unsafe { mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = space as _;
    #[cfg(not(target_vendor = "apple"))]
    let extra = libc::MSG_CMSG_CLOEXEC;
    #[cfg(target_vendor = "apple")]
    let extra = 0;
    let n = syscall!(recvmsg(
        fd.as_fd().as_raw_fd(),
        &mut msg,
        flags.bits() | extra
    ))? as usize;
    let mut fds = Vec::new();
    // SAFETY: the kernel filled msg_control/msg_controllen; the CMSG_* macros walk only within
    // msg_controllen, and each SCM_RIGHTS payload holds (cmsg_len - CMSG_LEN(0)) / 4 fds.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_RIGHTS {
                let payload = (*cmsg).cmsg_len as usize - libc::CMSG_LEN(0) as usize;
                let data = libc::CMSG_DATA(cmsg).cast::<RawFd>();
                for i in 0..payload / mem::size_of::<RawFd>() {
                    fds.push(owned(data.add(i).read_unaligned()));
                }
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    #[cfg(target_vendor = "apple")]
    for f in &fds {
        crate::set_cloexec(f, true)?;
    }
    Ok((n, fds, MsgFlags::from_bits_retain(msg.msg_flags)))
}
