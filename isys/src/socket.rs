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
    ///
    /// ```
    /// use isys::{libc, recv, send, socketpair, MsgFlags};
    ///
    /// let (a, b) = socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, false)?;
    /// send(&a, b"ping", MsgFlags::empty())?;
    /// let mut buf = [0u8; 4];
    /// assert_eq!(recv(&b, &mut buf, MsgFlags::PEEK)?, 4); // looked at, left in place
    /// assert_eq!(recv(&b, &mut buf, MsgFlags::DONT_WAIT)?, 4);
    /// assert_eq!(recv(&b, &mut buf, MsgFlags::DONT_WAIT), Err(isys::Errno::EAGAIN));
    /// # Ok::<(), isys::Errno>(())
    /// ```
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
/// On macOS: `socket(2)` then `fcntl` for each flag, and `SO_NOSIGPIPE` set.
///
/// ```
/// use isys::{is_nonblocking, libc, socket};
///
/// let tcp = socket(libc::AF_INET, libc::SOCK_STREAM, 0, true)?;
/// assert!(is_nonblocking(&tcp)?);
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// - `EAFNOSUPPORT`: the kernel lacks the family (IPv6 disabled, for one).
/// - `EPROTONOSUPPORT` / `EINVAL`: the protocol or type is unknown for the family.
/// - `EMFILE` / `ENFILE`: the process's or the system's fd limit is reached.
/// - `EACCES`: not allowed to create this kind of socket (`SOCK_RAW` without privilege).
/// - `ENOBUFS` / `ENOMEM`: out of kernel memory.
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

/// `socketpair(2)` with `SOCK_CLOEXEC` (and `SOCK_NONBLOCK` when `nonblocking`): two
/// connected, unnamed sockets. On macOS: `socketpair(2)` then `fcntl` for each flag, and
/// `SO_NOSIGPIPE` set.
///
/// ```
/// use isys::{libc, recv, send, socketpair, MsgFlags};
///
/// let (a, b) = socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, false)?;
/// send(&a, b"hi", MsgFlags::empty())?;
/// let mut buf = [0u8; 2];
/// assert_eq!(recv(&b, &mut buf, MsgFlags::empty())?, 2);
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// - `EAFNOSUPPORT`: the family is not `AF_UNIX` (the only one with socket pairs).
/// - `EOPNOTSUPP` / `EPROTONOSUPPORT`: the type or protocol is not supported for the family.
/// - `EMFILE` / `ENFILE`: the process's or the system's fd limit is reached.
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

/// `bind(2)`: gives the socket its local address. Port 0 asks the kernel for a free port;
/// read it back with [`getsockname`].
///
/// ```
/// use isys::{bind, getsockname, libc, socket, SockAddr};
/// use std::net::{Ipv4Addr, SocketAddr};
///
/// let s = socket(libc::AF_INET, libc::SOCK_STREAM, 0, false)?;
/// bind(&s, &SockAddr::from(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))))?;
/// assert_ne!(getsockname(&s)?.as_std().unwrap().port(), 0);
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// - `EADDRINUSE`: another socket has the address (see `SO_REUSEADDR`), or no ephemeral port
///   is free for port 0.
/// - `EACCES`: a port below 1024 without privilege, or no permission on a local path.
/// - `EADDRNOTAVAIL`: the IP is not one of this host's addresses.
/// - `EINVAL`: the socket is already bound, or the address is the wrong size for its family.
/// - `EAFNOSUPPORT`: the address family does not match the socket's.
/// - Local (`AF_UNIX`) paths: `EADDRINUSE` when the path exists, `ENOENT` when a directory
///   in it does not, `EROFS` on a read-only file system.
pub fn bind<Fd: AsFd>(fd: Fd, addr: &SockAddr) -> Result<()> {
    syscall!(bind(fd.as_fd().as_raw_fd(), addr.as_ptr(), addr.len())).map(drop)
}

/// `listen(2)`: marks a stream socket as accepting connections; `backlog` is capped by the
/// kernel (`net.core.somaxconn` on Linux). An unbound socket gets a free port.
///
/// ```
/// use isys::{bind, libc, listen, socket, SockAddr};
/// use std::net::{Ipv4Addr, SocketAddr};
///
/// let l = socket(libc::AF_INET, libc::SOCK_STREAM, 0, false)?;
/// bind(&l, &SockAddr::from(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))))?;
/// listen(&l, 128)?;
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// - `EOPNOTSUPP`: the socket type does not listen (`SOCK_DGRAM`).
/// - `EADDRINUSE`: another socket already listens on the same port.
/// - `EINVAL`: the socket is connected or shut down (macOS, BSD).
/// - `EBADF` / `ENOTSOCK`: `fd` is not an open socket.
pub fn listen<Fd: AsFd>(fd: Fd, backlog: i32) -> Result<()> {
    syscall!(listen(fd.as_fd().as_raw_fd(), backlog)).map(drop)
}

/// `accept4(2)` with `SOCK_CLOEXEC` (and `SOCK_NONBLOCK` when `nonblocking`): the new
/// connection and the peer's address. `EWOULDBLOCK` when nothing is pending on a non-blocking
/// listener. On macOS: `accept(2)` then `fcntl` for each flag, and `SO_NOSIGPIPE` set.
///
/// On a blocking listener it waits, without a timeout (`SO_RCVTIMEO` sets one on Linux, then
/// `EAGAIN`), until a connection is pending.
///
/// ```
/// use isys::{accept4, bind, connect, getsockname, libc, listen, socket, Errno, SockAddr};
/// use std::net::{Ipv4Addr, SocketAddr};
///
/// let l = socket(libc::AF_INET, libc::SOCK_STREAM, 0, true)?;
/// bind(&l, &SockAddr::from(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))))?;
/// listen(&l, 8)?;
/// assert_eq!(accept4(&l, true).unwrap_err(), Errno::EWOULDBLOCK); // nobody yet
///
/// let c = socket(libc::AF_INET, libc::SOCK_STREAM, 0, false)?;
/// connect(&c, &getsockname(&l)?)?;
/// isys::set_nonblocking(&l, false)?; // a blocking accept waits for the connection
/// let (_conn, peer) = accept4(&l, false)?;
/// assert_eq!(peer, getsockname(&c)?);
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// - `EAGAIN`/`EWOULDBLOCK`: the listener is non-blocking and no connection is pending.
/// - `EINTR`: a signal handler ran while waiting.
/// - `ECONNABORTED`: a pending connection was reset before it was accepted; try again.
/// - `EMFILE` / `ENFILE`: the process's or the system's fd limit is reached (the connection
///   stays pending, so the listener stays readable).
/// - `EINVAL`: the socket is not listening. `ENOBUFS` / `ENOMEM`: out of kernel memory.
/// - Linux also reports network errors already pending on the new connection (`ENETDOWN`,
///   `EPROTO`, `EHOSTUNREACH`, ...); treat them like `EAGAIN`.
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
/// `SO_ERROR`" (see [`socket_error`]).
///
/// On a blocking TCP socket it waits until the handshake completes or fails, up to the
/// kernel's SYN retry limit (about two minutes on Linux); for a shorter timeout, connect
/// non-blocking and wait with [`wait_until_fd_ready`](crate::wait_until_fd_ready).
///
/// ```
/// use isys::{bind, connect, getsockname, libc, socket, Errno, SockAddr};
/// use std::net::{Ipv4Addr, SocketAddr};
///
/// // A port that is bound but not listening refuses connections.
/// let closed = socket(libc::AF_INET, libc::SOCK_STREAM, 0, false)?;
/// bind(&closed, &SockAddr::from(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))))?;
/// let c = socket(libc::AF_INET, libc::SOCK_STREAM, 0, false)?;
/// assert_eq!(connect(&c, &getsockname(&closed)?), Err(Errno::ECONNREFUSED));
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// - `EINPROGRESS`: non-blocking and not yet established (not a failure, see above).
/// - `EALREADY`: a non-blocking connect is still in progress. `EISCONN`: already connected.
/// - `ECONNREFUSED`: nothing listens there (or a local socket's path has no listener).
/// - `ETIMEDOUT`, `ENETUNREACH`, `EHOSTUNREACH`: the peer cannot be reached.
/// - `EADDRNOTAVAIL`: no free local port; `EAFNOSUPPORT`: the family does not match.
/// - `EINTR`: a signal interrupted a blocking connect; the handshake goes on in the
///   background, as after `EINPROGRESS`.
/// - `EACCES` / `EPERM`: a broadcast address without `SO_BROADCAST`, a firewall rule, or no
///   permission on a local path.
pub fn connect<Fd: AsFd>(fd: Fd, addr: &SockAddr) -> Result<()> {
    syscall!(connect(fd.as_fd().as_raw_fd(), addr.as_ptr(), addr.len())).map(drop)
}

/// How [`shutdown`] closes a connection.
///
/// ```
/// use isys::{libc, recv, send, shutdown, socketpair, MsgFlags, Shutdown};
///
/// let (a, b) = socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, false)?;
/// shutdown(&a, Shutdown::Write)?;
/// assert_eq!(recv(&b, &mut [0u8; 4], MsgFlags::empty())?, 0); // b reads end of file
/// send(&b, b"still open", MsgFlags::empty())?; // the other direction still works
/// # Ok::<(), isys::Errno>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shutdown {
    /// `SHUT_RD`.
    Read,
    /// `SHUT_WR`: sends FIN; the peer reads end of file.
    Write,
    /// `SHUT_RDWR`.
    Both,
}

/// `shutdown(2)`: closes one or both directions of a connection without closing the fd.
/// Does not block.
///
/// ```
/// use isys::{libc, send, shutdown, socketpair, Errno, MsgFlags, Shutdown};
///
/// let (a, _b) = socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, false)?;
/// shutdown(&a, Shutdown::Both)?;
/// assert_eq!(send(&a, b"x", MsgFlags::empty()), Err(Errno::EPIPE));
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// `ENOTCONN` when the socket is not connected (macOS also after the peer closed);
/// `ENOTSOCK` / `EBADF` when `fd` is not an open socket.
pub fn shutdown<Fd: AsFd>(fd: Fd, how: Shutdown) -> Result<()> {
    let how = match how {
        Shutdown::Read => libc::SHUT_RD,
        Shutdown::Write => libc::SHUT_WR,
        Shutdown::Both => libc::SHUT_RDWR,
    };
    syscall!(shutdown(fd.as_fd().as_raw_fd(), how)).map(drop)
}

/// `getsockname(2)`: the local address.
///
/// ```
/// use isys::{bind, getsockname, libc, socket, SockAddr};
/// use std::net::{Ipv4Addr, SocketAddr};
///
/// let s = socket(libc::AF_INET, libc::SOCK_DGRAM, 0, false)?;
/// bind(&s, &SockAddr::from(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))))?;
/// let local = getsockname(&s)?.as_std().unwrap();
/// assert!(local.ip().is_loopback() && local.port() != 0); // the port the kernel chose
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// `ENOTSOCK` / `EBADF` when `fd` is not an open socket; `ENOBUFS` when out of kernel memory.
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
///
/// ```
/// use isys::{bind, connect, getpeername, getsockname, libc, listen, socket, Errno, SockAddr};
/// use std::net::{Ipv4Addr, SocketAddr};
///
/// let l = socket(libc::AF_INET, libc::SOCK_STREAM, 0, false)?;
/// bind(&l, &SockAddr::from(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))))?;
/// listen(&l, 8)?;
/// let c = socket(libc::AF_INET, libc::SOCK_STREAM, 0, false)?;
/// assert_eq!(getpeername(&c).unwrap_err(), Errno::ENOTCONN);
/// connect(&c, &getsockname(&l)?)?;
/// assert_eq!(getpeername(&c)?, getsockname(&l)?);
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// `ENOTCONN` when the socket is not connected (or, on macOS, the peer is gone);
/// `ENOTSOCK` / `EBADF` when `fd` is not an open socket.
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
///
/// ```
/// use isys::{getsockopt, libc, setsockopt, socket};
///
/// let s = socket(libc::AF_INET, libc::SOCK_STREAM, 0, false)?;
/// let linger = libc::linger { l_onoff: 1, l_linger: 0 }; // close sends RST
/// setsockopt(&s, libc::SOL_SOCKET, libc::SO_LINGER, &linger)?;
/// let got: libc::linger = getsockopt(&s, libc::SOL_SOCKET, libc::SO_LINGER)?;
/// assert_eq!((got.l_onoff != 0, got.l_linger), (true, 0));
/// # Ok::<(), isys::Errno>(())
/// ```
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
///
/// ```
/// use isys::{getsockopt, libc, socket};
///
/// let s = socket(libc::AF_INET, libc::SOCK_DGRAM, 0, false)?;
/// let ty: libc::c_int = getsockopt(&s, libc::SOL_SOCKET, libc::SO_TYPE)?;
/// assert_eq!(ty, libc::SOCK_DGRAM);
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// - `ENOPROTOOPT`: no option `name` at `level` for this socket.
/// - `EINVAL`: `T` is the wrong size for the option.
/// - `ENOTSOCK` / `EBADF`: `fd` is not an open socket.
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
///
/// ```
/// use isys::{getsockopt, libc, setsockopt, socket};
///
/// let s = socket(libc::AF_INET, libc::SOCK_STREAM, 0, false)?;
/// setsockopt(&s, libc::SOL_SOCKET, libc::SO_REUSEADDR, &(1 as libc::c_int))?;
/// let on: libc::c_int = getsockopt(&s, libc::SOL_SOCKET, libc::SO_REUSEADDR)?;
/// assert_ne!(on, 0);
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// - `ENOPROTOOPT`: no option `name` at `level` for this socket.
/// - `EINVAL`: `T` is the wrong size or the value is out of range; `EDOM` for a
///   `SO_RCVTIMEO`/`SO_SNDTIMEO` too large.
/// - `EPERM` / `EACCES`: a privileged option (Linux `SO_BINDTODEVICE` on old kernels,
///   `SO_MARK`).
/// - `ENOTSOCK` / `EBADF`: `fd` is not an open socket.
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
///
/// ```
/// use isys::{getsockopt_bytes, libc, socket};
///
/// let s = socket(libc::AF_INET, libc::SOCK_STREAM, 0, false)?;
/// let mut buf = [0u8; 16];
/// let n = getsockopt_bytes(&s, libc::SOL_SOCKET, libc::SO_TYPE, &mut buf)?;
/// assert_eq!(n, 4); // an int
/// assert_eq!(i32::from_ne_bytes(buf[..4].try_into().unwrap()), libc::SOCK_STREAM);
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// `ENOPROTOOPT` for an unknown option; `EINVAL` when `buf` is too small for it (some
/// options); `ENOTSOCK` / `EBADF` when `fd` is not an open socket.
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

/// `setsockopt(2)` from a byte buffer (options whose value is a string or a struct isys has
/// no type for).
///
/// ```
/// use isys::{getsockopt, libc, setsockopt_bytes, socket};
///
/// let s = socket(libc::AF_INET, libc::SOCK_STREAM, 0, false)?;
/// setsockopt_bytes(&s, libc::SOL_SOCKET, libc::SO_KEEPALIVE, &1i32.to_ne_bytes())?;
/// let on: libc::c_int = getsockopt(&s, libc::SOL_SOCKET, libc::SO_KEEPALIVE)?;
/// assert_ne!(on, 0);
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// As [`setsockopt`]: `ENOPROTOOPT`, `EINVAL` (wrong length or value), `EPERM`, `ENOTSOCK`,
/// `EBADF`; Linux `SO_BINDTODEVICE` gives `ENODEV` for an unknown interface name.
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
/// `Ok(None)` when there is none. This is how a non-blocking [`connect`] reports its outcome
/// once the socket is writable.
///
/// ```
/// use isys::{bind, connect, getsockname, libc, listen, socket, socket_error};
/// use isys::{wait_until_fd_ready, Errno, FdEvent, SockAddr};
/// use std::net::{Ipv4Addr, SocketAddr};
/// use std::time::Duration;
///
/// let l = socket(libc::AF_INET, libc::SOCK_STREAM, 0, false)?;
/// bind(&l, &SockAddr::from(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))))?;
/// listen(&l, 8)?;
/// let c = socket(libc::AF_INET, libc::SOCK_STREAM, 0, true)?;
/// match connect(&c, &getsockname(&l)?) {
///     Ok(()) | Err(Errno::EINPROGRESS) => {}
///     Err(e) => return Err(e.into()),
/// }
/// wait_until_fd_ready(&c, FdEvent::Write, Some(Duration::from_secs(5)))?;
/// assert_eq!(socket_error(&c)?, None); // connected
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// `ENOTSOCK` / `EBADF` when `fd` is not an open socket. The pending error itself is the
/// `Ok(Some(_))` value, not an `Err`.
pub fn socket_error<Fd: AsFd>(fd: Fd) -> Result<Option<Errno>> {
    let e: libc::c_int = getsockopt(fd, libc::SOL_SOCKET, libc::SO_ERROR)?;
    Ok((e != 0).then(|| Errno::from_raw(e)))
}

/// `send(2)` with `MSG_NOSIGNAL`: never raises `SIGPIPE`; a closed peer is `Err(EPIPE)`.
/// (macOS has no `MSG_NOSIGNAL`; its sockets get `SO_NOSIGPIPE` when isys creates them.)
///
/// On a blocking socket it waits until all of `buf` is queued (stream) or the datagram is
/// sent, with no timeout unless `SO_SNDTIMEO` is set (then `EAGAIN`, or a short count).
///
/// ```
/// use isys::{libc, send, socketpair, Errno, MsgFlags};
///
/// let (a, b) = socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, false)?;
/// assert_eq!(send(&a, b"hello", MsgFlags::empty())?, 5);
/// drop(b);
/// assert_eq!(send(&a, b"hello", MsgFlags::empty()), Err(Errno::EPIPE)); // no SIGPIPE
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// - `EAGAIN`/`EWOULDBLOCK`: non-blocking (or `MsgFlags::DONT_WAIT`) and the send buffer is
///   full.
/// - `EPIPE`: the peer closed or this side was shut down for writing; `ECONNRESET`: the peer
///   reset the connection.
/// - `EINTR`: a signal handler ran before anything was sent.
/// - `EMSGSIZE`: a datagram too large to send in one piece.
/// - `ENOTCONN` / `EDESTADDRREQ`: the socket is not connected. `ENOBUFS`: out of buffers.
pub fn send<Fd: AsFd>(fd: Fd, buf: &[u8], flags: MsgFlags) -> Result<usize> {
    syscall!(send(
        fd.as_fd().as_raw_fd(),
        buf.as_ptr().cast(),
        buf.len(),
        flags.bits() | NOSIGNAL
    ))
    .map(|n| n as usize)
}

/// `sendto(2)` with `MSG_NOSIGNAL`: sends a datagram to `addr` (an unconnected UDP socket).
///
/// ```
/// use isys::{bind, getsockname, libc, recvfrom, sendto, socket, MsgFlags, SockAddr};
/// use std::net::{Ipv4Addr, SocketAddr};
///
/// let lo = SockAddr::from(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)));
/// let (a, b) = (socket(libc::AF_INET, libc::SOCK_DGRAM, 0, false)?,
///               socket(libc::AF_INET, libc::SOCK_DGRAM, 0, false)?);
/// bind(&a, &lo)?;
/// bind(&b, &lo)?;
/// assert_eq!(sendto(&a, b"ping", MsgFlags::empty(), &getsockname(&b)?)?, 4);
/// let mut buf = [0u8; 16];
/// let (n, from) = recvfrom(&b, &mut buf, MsgFlags::empty())?;
/// assert_eq!((&buf[..n], from), (&b"ping"[..], getsockname(&a)?));
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// As [`send`], plus: `EMSGSIZE` for a datagram over the path's limit; `EACCES` for a
/// broadcast address without `SO_BROADCAST`; `ENETUNREACH` / `EHOSTUNREACH`; `EAFNOSUPPORT`
/// or `EINVAL` when `addr`'s family does not match the socket's; `EISCONN` on a connected
/// socket (some systems).
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
///
/// On a blocking socket it waits until data, end of file or an error arrives, with no
/// timeout unless `SO_RCVTIMEO` is set (then `EAGAIN`).
///
/// ```
/// use isys::{libc, recv, send, socketpair, Errno, MsgFlags};
///
/// let (a, b) = socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, true)?;
/// let mut buf = [0u8; 8];
/// assert_eq!(recv(&b, &mut buf, MsgFlags::empty()), Err(Errno::EWOULDBLOCK));
/// send(&a, b"data", MsgFlags::empty())?;
/// assert_eq!(recv(&b, &mut buf, MsgFlags::empty())?, 4);
/// drop(a);
/// assert_eq!(recv(&b, &mut buf, MsgFlags::empty())?, 0); // end of file
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// - `EAGAIN`/`EWOULDBLOCK`: non-blocking (or `MsgFlags::DONT_WAIT`) and nothing is there, or
///   `SO_RCVTIMEO` expired.
/// - `EINTR`: a signal handler ran before any data came.
/// - `ECONNRESET`: the peer reset the connection; `ETIMEDOUT`: keep-alive or retransmission
///   gave up; `ECONNREFUSED`: a connected UDP socket's earlier datagram was refused.
/// - `ENOTCONN`: a stream socket that is not connected.
pub fn recv<Fd: AsFd>(fd: Fd, buf: &mut [u8], flags: MsgFlags) -> Result<usize> {
    syscall!(recv(
        fd.as_fd().as_raw_fd(),
        buf.as_mut_ptr().cast(),
        buf.len(),
        flags.bits()
    ))
    .map(|n| n as usize)
}

/// `recvfrom(2)`: the byte count and the sender's address. Blocks like [`recv`].
///
/// A datagram longer than `buf` is cut short; the rest is lost (Linux reports its full
/// length when `MsgFlags::TRUNCATED` is passed).
///
/// ```
/// use isys::{bind, getsockname, libc, recvfrom, sendto, socket, MsgFlags, SockAddr};
/// use std::net::{Ipv4Addr, SocketAddr};
///
/// let s = socket(libc::AF_INET, libc::SOCK_DGRAM, 0, false)?;
/// bind(&s, &SockAddr::from(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))))?;
/// let me = getsockname(&s)?;
/// sendto(&s, b"to myself", MsgFlags::empty(), &me)?;
/// let mut buf = [0u8; 2];
/// let (n, from) = recvfrom(&s, &mut buf, MsgFlags::empty())?;
/// assert_eq!((n, &buf, from), (2, b"to", me)); // truncated to the buffer
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// As [`recv`]: `EAGAIN`/`EWOULDBLOCK`, `EINTR`, `ECONNRESET`, `ECONNREFUSED`, `ENOTCONN`.
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
/// duplicates of `fds` (they stay open here). Blocks like [`send`].
///
/// ```
/// use isys::{libc, pipe, sendmsg, socketpair, AsFd, MsgFlags};
///
/// let (a, _b) = socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, false)?;
/// let (r, w) = pipe(false)?;
/// // Data must accompany the fds on a stream socket: at least one byte.
/// assert_eq!(sendmsg(&a, b"2 fds", &[r.as_fd(), w.as_fd()], MsgFlags::empty())?, 5);
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// - `EINVAL`: more than [`MAX_FDS_PER_MESSAGE`] fds (checked before the call).
/// - As [`send`]: `EAGAIN`/`EWOULDBLOCK`, `EPIPE` (no `SIGPIPE`), `ECONNRESET`, `EINTR`.
/// - `ETOOMANYREFS` (Linux): too many fds in flight for this user (`RLIMIT_NOFILE`).
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
/// On macOS (no `MSG_CMSG_CLOEXEC`) each received fd is made CLOEXEC with `fcntl`. Blocks
/// like [`recv`].
///
/// ```
/// use isys::{libc, pipe, read, recvmsg, sendmsg, socketpair, write, AsFd, MsgFlags};
///
/// let (a, b) = socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, false)?;
/// let (r, w) = pipe(false)?;
/// sendmsg(&a, b"w", &[w.as_fd()], MsgFlags::empty())?;
/// drop(w);
/// let mut buf = [0u8; 8];
/// let (n, fds, flags) = recvmsg(&b, &mut buf, 4, MsgFlags::empty())?;
/// assert_eq!((n, fds.len()), (1, 1));
/// assert!(!flags.contains(MsgFlags::CONTROL_TRUNCATED));
/// write(&fds[0], b"through")?; // the received fd is the pipe's write end
/// assert_eq!(read(&r, &mut buf)?, 7);
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// - As [`recv`]: `EAGAIN`/`EWOULDBLOCK`, `EINTR`, `ECONNRESET`, `ENOTCONN`.
/// - More fds than `max_fds` (or than the receiver may open) is not an error: the extra ones
///   are closed by the kernel and [`MsgFlags::CONTROL_TRUNCATED`] is set.
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
