//! Any socket (IOLib's `make-socket-pair` and `make-socket-from-fd`): the [`Socket`] enum
//! [`make_socket`](crate::make_socket) returns, a connected pair of local sockets, and
//! adopting an existing socket fd with its kind read from the kernel.

use crate::active::ActiveSocket;
use crate::base_socket::{Base, BaseSocket, Family, SocketKind};
use crate::buffer::StreamSettings;
use crate::datagram::DatagramSocket;
use crate::error::{Error, Result, SysContext};
use crate::format::ExternalFormat;
use crate::passive::PassiveSocket;
use crate::raw::RawSocket;
use isys::libc;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

/// Any socket [`make_socket`](crate::make_socket) can build.
///
/// ```
/// use sockets::*;
///
/// let socket = make_socket().kind(SocketKind::Datagram).local_host("127.0.0.1").build()?;
/// assert!(matches!(socket, Socket::Datagram(_)));
/// let udp = socket.into_datagram()?;
/// # Ok::<(), sockets::Error>(())
/// ```
#[derive(Debug)]
pub enum Socket {
    /// A connected or connectable stream socket.
    Active(ActiveSocket),
    /// A listening stream socket.
    Passive(PassiveSocket),
    /// A datagram socket.
    Datagram(DatagramSocket),
    /// A raw socket (IP packets of one protocol, or netlink).
    Raw(RawSocket),
}

impl Socket {
    /// The active stream socket, or `InvalidArgument`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for any other kind of socket.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockets::*;
    ///
    /// let server = make_socket().connect(Connect::Passive).local_host("127.0.0.1").build()?;
    /// assert!(matches!(server.into_active(), Err(Error::InvalidArgument(_)))); // it is passive
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn into_active(self) -> Result<ActiveSocket> {
        match self {
            Socket::Active(s) => Ok(s),
            other => Err(Error::InvalidArgument(format!(
                "expected an active stream socket, got {other:?}"
            ))),
        }
    }
    /// The passive socket, or `InvalidArgument`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for any other kind of socket.
    ///
    /// See [`make_socket_from_fd`] for a `Socket` of a kind known only at run time.
    pub fn into_passive(self) -> Result<PassiveSocket> {
        match self {
            Socket::Passive(s) => Ok(s),
            other => Err(Error::InvalidArgument(format!(
                "expected a passive socket, got {other:?}"
            ))),
        }
    }
    /// The datagram socket, or `InvalidArgument`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for any other kind of socket.
    ///
    /// # Examples
    ///
    /// See [`Socket`] for an example.
    pub fn into_datagram(self) -> Result<DatagramSocket> {
        match self {
            Socket::Datagram(s) => Ok(s),
            other => Err(Error::InvalidArgument(format!(
                "expected a datagram socket, got {other:?}"
            ))),
        }
    }
}

impl Socket {
    /// The raw socket, or `InvalidArgument`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for any other kind of socket.
    ///
    /// # Examples
    ///
    /// See [`RawSocket`] for an example (raw IP needs root).
    pub fn into_raw(self) -> Result<RawSocket> {
        match self {
            Socket::Raw(s) => Ok(s),
            other => Err(Error::InvalidArgument(format!(
                "expected a raw socket, got {other:?}"
            ))),
        }
    }
}

impl AsFd for Socket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Socket::Active(s) => s.as_fd(),
            Socket::Passive(s) => s.as_fd(),
            Socket::Datagram(s) => s.as_fd(),
            Socket::Raw(s) => s.as_fd(),
        }
    }
}

impl BaseSocket for Socket {
    fn base(&self) -> &Base {
        match self {
            Socket::Active(s) => &s.base,
            Socket::Passive(s) => &s.base,
            Socket::Datagram(s) => &s.base,
            Socket::Raw(s) => &s.base,
        }
    }
}

/// A connected pair of local stream sockets (IOLib's `make-socket-pair`).
///
/// # Errors
/// The `socketpair(2)` failure: `EMFILE`/`ENFILE` when out of fds.
///
/// # Examples
///
/// ```
/// use sockets::*;
///
/// let (mut a, mut b) = make_socket_pair(ExternalFormat::UTF8_CRLF)?;
/// writeln!(a, "hello")?;
/// a.finish_output()?;
/// assert_eq!(b.read_line()?, "hello");
/// # Ok::<(), sockets::Error>(())
/// ```
pub fn make_socket_pair(format: ExternalFormat) -> Result<(ActiveSocket, ActiveSocket)> {
    let (a, b) = isys::socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, true).ctx("socketpair")?;
    let mk = |fd| {
        ActiveSocket::from_parts(
            Base::new(fd, Family::Local, SocketKind::Stream),
            format,
            StreamSettings::default(),
        )
    };
    Ok((mk(a), mk(b)))
}

/// Wraps an existing socket fd (IOLib's `make-socket-from-fd`): its type, listening state and
/// family are read from the kernel; the fd is made non-blocking.
///
/// # Errors
/// `ENOTSOCK` (from `getsockopt`) when `fd` is not a socket,
/// [`Error::AddressFamilyNotSupported`] for a family this crate does not know,
/// [`Error::InvalidArgument`] for a socket type other than stream, datagram or raw.
///
/// # Examples
///
/// ```
/// use sockets::*;
/// use std::os::fd::OwnedFd;
///
/// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let socket = make_socket_from_fd(OwnedFd::from(listener), ExternalFormat::UTF8_LF)?;
/// assert!(matches!(socket, Socket::Passive(_)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn make_socket_from_fd(fd: OwnedFd, format: ExternalFormat) -> Result<Socket> {
    let ty: i32 = isys::getsockopt(&fd, libc::SOL_SOCKET, libc::SO_TYPE).ctx("getsockopt")?;
    let family = isys::getsockname(&fd)
        .ctx("getsockname")
        .and_then(|a| Family::from_domain(a.family()).ok_or(Error::AddressFamilyNotSupported))?;
    isys::set_nonblocking(&fd, true).ctx("fcntl")?;
    match ty {
        libc::SOCK_RAW => Ok(Socket::Raw(RawSocket {
            base: Base::new(fd, family, SocketKind::Raw),
        })),
        libc::SOCK_DGRAM => Ok(Socket::Datagram(DatagramSocket {
            base: Base::new(fd, family, SocketKind::Datagram),
        })),
        libc::SOCK_STREAM => {
            let listening: i32 =
                isys::getsockopt(&fd, libc::SOL_SOCKET, libc::SO_ACCEPTCONN).ctx("getsockopt")?;
            let base = Base::new(fd, family, SocketKind::Stream);
            if listening != 0 {
                Ok(Socket::Passive(PassiveSocket::from_base(base, format)))
            } else {
                Ok(Socket::Active(ActiveSocket::from_parts(
                    base,
                    format,
                    StreamSettings::default(),
                )))
            }
        }
        other => Err(Error::InvalidArgument(format!(
            "unsupported socket type {other}"
        ))),
    }
}
