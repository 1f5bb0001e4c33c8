//! Socket lifecycle calls: socket, socketpair, bind, listen, accept4, connect, shutdown,
//! and the local and peer names (getsockname, getpeername).

use crate::fd::owned;
use crate::{Errno, Result, SockAddr};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};

pub use libc;

/// Per-socket set-up after creation: `SO_NOSIGPIPE` where `MSG_NOSIGNAL` does not exist.
fn after_create(fd: OwnedFd) -> Result<OwnedFd> {
    #[cfg(target_vendor = "apple")]
    crate::setsockopt(
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
/// `SO_ERROR`" (see [`socket_error`](crate::socket_error)).
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
