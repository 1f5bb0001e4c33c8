//! Socket options: getsockopt/setsockopt for the sealed plain-old-data value types
//! ([`SockOptValue`]) and for byte buffers, and `SO_ERROR` as [`socket_error`].

use crate::{Errno, Result};
use std::mem;
use std::os::fd::{AsFd, AsRawFd};

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
/// `Ok(None)` when there is none. This is how a non-blocking [`connect`](crate::connect)
/// reports its outcome once the socket is writable.
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
