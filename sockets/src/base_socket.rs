//! What every socket shares (IOLib's `base-sockets`): the address family and socket kind,
//! the fd holder [`Base`], the [`BaseSocket`] trait (names, options, open state), conversion
//! between [`Address`] and the kernel's socket addresses, and the IOLib-style `Display`.

use crate::active::ActiveSocket;
use crate::address::{Address, LocalAddress};
use crate::datagram::DatagramSocket;
use crate::error::{Error, Result, SysContext};
use crate::options::{self, OptionName, SocketOption};
use crate::passive::PassiveSocket;
use isys::{libc, Errno, FdEvent, SockAddr, UnixAddrKind};
use std::fmt;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::OnceLock;
use std::time::Duration;

/// IOLib's `:address-family`.
///
/// ```
/// use sockets::*;
///
/// let (a, _b) = make_socket_pair(ExternalFormat::UTF8_LF)?;
/// assert_eq!(a.family(), Family::Local);
/// # Ok::<(), sockets::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// IPv4 (`:internet` without `:ipv6`).
    Ipv4,
    /// IPv6, dual-stack unless `ipv6_only` was asked (`:internet :ipv6 t`).
    Ipv6,
    /// Local / Unix domain (`:local`).
    Local,
    /// Netlink, the kernel's messaging family (`:netlink`; Linux only). Netlink sockets are
    /// [`RawSocket`](crate::RawSocket)s.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    Netlink,
}

impl Family {
    pub(crate) fn domain(self) -> i32 {
        match self {
            Family::Ipv4 => libc::AF_INET,
            Family::Ipv6 => libc::AF_INET6,
            Family::Local => libc::AF_UNIX,
            #[cfg(any(target_os = "linux", target_os = "android"))]
            Family::Netlink => libc::AF_NETLINK,
        }
    }
    pub(crate) fn from_domain(d: i32) -> Option<Family> {
        match d {
            libc::AF_INET => Some(Family::Ipv4),
            libc::AF_INET6 => Some(Family::Ipv6),
            libc::AF_UNIX => Some(Family::Local),
            #[cfg(any(target_os = "linux", target_os = "android"))]
            libc::AF_NETLINK => Some(Family::Netlink),
            _ => None,
        }
    }
}

/// IOLib's `:type`.
///
/// ```
/// use sockets::*;
///
/// let udp = make_socket().kind(SocketKind::Datagram).local_host("127.0.0.1").build_datagram()?;
/// assert_eq!(udp.kind(), SocketKind::Datagram);
/// # Ok::<(), sockets::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SocketKind {
    /// `:stream` (TCP, or a local stream).
    Stream,
    /// `:datagram` (UDP, or a local datagram socket).
    Datagram,
    /// `:raw`: IP packets of one protocol (`:protocol`, say ICMP), or netlink messages.
    /// Usually needs root or `CAP_NET_RAW`. See [`RawSocket`](crate::RawSocket).
    Raw,
}

impl SocketKind {
    pub(crate) fn raw(self) -> i32 {
        match self {
            SocketKind::Stream => libc::SOCK_STREAM,
            SocketKind::Datagram => libc::SOCK_DGRAM,
            SocketKind::Raw => libc::SOCK_RAW,
        }
    }
}

/// A stand-in fd for [`AsFd`] on a closed socket: an unconnected local socket, on which every
/// operation fails (`ENOTCONN`) instead of touching whatever fd reused the old number.
pub(crate) fn closed_placeholder() -> BorrowedFd<'static> {
    static PLACEHOLDER: OnceLock<OwnedFd> = OnceLock::new();
    PLACEHOLDER
        .get_or_init(|| {
            isys::socket(libc::AF_UNIX, libc::SOCK_STREAM, 0, true)
                .expect("cannot create the closed-socket placeholder fd")
        })
        .as_fd()
}

/// The state every socket type shares: the fd (None once closed), family and kind.
/// Public but unnameable outside the crate, which seals [`BaseSocket`].
#[derive(Debug)]
pub struct Base {
    pub(crate) fd: Option<OwnedFd>,
    pub(crate) family: Family,
    kind: SocketKind,
}

impl Base {
    pub(crate) fn new(fd: OwnedFd, family: Family, kind: SocketKind) -> Self {
        Base {
            fd: Some(fd),
            family,
            kind,
        }
    }

    pub(crate) fn create(family: Family, kind: SocketKind) -> Result<Self> {
        Base::create_with(family, kind, 0)
    }

    /// A socket of `family` and `kind` for `protocol` (0: the family's default).
    pub(crate) fn create_with(family: Family, kind: SocketKind, protocol: i32) -> Result<Self> {
        let fd = isys::socket(family.domain(), kind.raw(), protocol, true).ctx("socket")?;
        Ok(Base::new(fd, family, kind))
    }

    pub(crate) fn fd(&self) -> Result<BorrowedFd<'_>> {
        self.fd.as_ref().map(|f| f.as_fd()).ok_or(Error::Closed)
    }

    pub(crate) fn sockaddr(&self, addr: &Address, port: u16) -> Result<SockAddr> {
        sockaddr_for(self.family, addr, port)
    }

    pub(crate) fn bind(&self, addr: &Address, port: u16, reuse_address: bool) -> Result<()> {
        let fd = self.fd()?;
        if reuse_address && self.family != Family::Local {
            isys::setsockopt(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, &1).ctx("setsockopt")?;
        }
        isys::bind(fd, &self.sockaddr(addr, port)?).ctx("bind")
    }

    pub(crate) fn close(&mut self) -> Result<()> {
        match self.fd.take() {
            Some(fd) => isys::close(fd).ctx("close"),
            None => Ok(()),
        }
    }
}

/// Converts an address and port to the kernel's form for a socket of `family`.
/// IPv4 addresses on an IPv6 socket become IPv4-mapped.
pub(crate) fn sockaddr_for(family: Family, addr: &Address, port: u16) -> Result<SockAddr> {
    use std::net::{SocketAddr, SocketAddrV4, SocketAddrV6};
    let wrong = || Error::InvalidAddress(format!("{addr} cannot be used with a {family:?} socket"));
    match (family, addr) {
        (Family::Ipv4, Address::Ipv4(a)) => Ok(SockAddr::from_std(&SocketAddr::V4(
            SocketAddrV4::new((*a).into(), port),
        ))),
        (Family::Ipv4, Address::Ipv6(a)) => match a.to_ipv4() {
            Some(v4) => sockaddr_for(family, &Address::Ipv4(v4), port),
            None => Err(wrong()),
        },
        (Family::Ipv6, Address::Ipv6(a)) => Ok(SockAddr::from_std(&SocketAddr::V6(
            SocketAddrV6::new((*a).into(), port, 0, 0),
        ))),
        (Family::Ipv6, Address::Ipv4(a)) => {
            sockaddr_for(family, &Address::Ipv6(a.to_ipv6_mapped()), port)
        }
        (Family::Local, Address::Local(l)) => {
            let r = if l.is_abstract {
                SockAddr::unix_abstract(&l.name)
            } else {
                SockAddr::unix(&l.name)
            };
            r.map_err(|e| match e {
                Errno::ENAMETOOLONG => Error::InvalidAddress(format!("local name too long: {l}")),
                Errno::EAFNOSUPPORT => Error::AddressFamilyNotSupported,
                _ => Error::InvalidAddress(format!("bad local name: {l:?}")),
            })
        }
        _ => Err(wrong()),
    }
}

/// The address and port of a kernel address (port 0 for local addresses).
pub(crate) fn address_of(sa: &SockAddr) -> Result<(Address, u16)> {
    if let Some(s) = sa.as_std() {
        return Ok((Address::from(s.ip()), s.port()));
    }
    match sa.as_unix() {
        Some(UnixAddrKind::Pathname(p)) => Ok((
            Address::Local(LocalAddress {
                name: p,
                is_abstract: false,
            }),
            0,
        )),
        Some(UnixAddrKind::Abstract(n)) => Ok((
            Address::Local(LocalAddress {
                name: n,
                is_abstract: true,
            }),
            0,
        )),
        Some(UnixAddrKind::Unnamed) => Ok((
            Address::Local(LocalAddress {
                name: vec![],
                is_abstract: false,
            }),
            0,
        )),
        None => Err(Error::InvalidAddress(format!(
            "unsupported address family {}",
            sa.family()
        ))),
    }
}

/// What every socket can do (IOLib's generic functions on `socket`): names, options, fd,
/// open state. Implemented by [`ActiveSocket`], [`PassiveSocket`], [`DatagramSocket`] and
/// [`RawSocket`](crate::RawSocket).
///
/// ```
/// use sockets::*;
///
/// let server = make_socket().connect(Connect::Passive).local_host("127.0.0.1").local_port(0)
///     .build_passive()?;
/// assert!(server.is_open());
/// assert_eq!(server.local_host()?, Address::Ipv4(IPV4_LOOPBACK));
/// assert_eq!(server.socket_option(OptionName::AcceptConnections)?,
///     SocketOption::AcceptConnections(true));
/// # Ok::<(), sockets::Error>(())
/// ```
pub trait BaseSocket: AsFd {
    #[doc(hidden)]
    fn base(&self) -> &Base;

    /// The address family.
    fn family(&self) -> Family {
        self.base().family
    }
    /// Stream or datagram.
    fn kind(&self) -> SocketKind {
        self.base().kind
    }
    /// Whether the socket is open (IOLib's `socket-open-p`).
    fn is_open(&self) -> bool {
        self.base().fd.is_some()
    }
    /// IOLib's name for [`is_open`](Self::is_open).
    fn socket_open_p(&self) -> bool {
        self.is_open()
    }
    /// The fd number, `None` once closed (IOLib's `socket-os-fd`).
    ///
    /// ```
    /// use sockets::*;
    ///
    /// let (mut a, _b) = make_socket_pair(ExternalFormat::UTF8_LF)?;
    /// assert!(a.socket_os_fd().is_some());
    /// a.close()?;
    /// assert_eq!(a.socket_os_fd(), None);
    /// # Ok::<(), sockets::Error>(())
    /// ```
    fn socket_os_fd(&self) -> Option<RawFd> {
        self.base().fd.as_ref().map(|f| f.as_raw_fd())
    }
    /// The local address and port (IOLib's `local-name`); `getsockname(2)`.
    ///
    /// # Errors
    /// [`Error::Closed`] on a closed socket, [`Error::InvalidArgument`] on a local socket (use
    /// [`local_filename`](Self::local_filename)).
    ///
    /// # Examples
    ///
    /// ```
    /// use sockets::*;
    ///
    /// let server = make_socket().connect(Connect::Passive).local_host("127.0.0.1").local_port(0)
    ///     .build_passive()?;
    /// let (address, port) = server.local_name()?;
    /// assert_eq!(address, Address::Ipv4(IPV4_LOOPBACK));
    /// assert_ne!(port, 0); // port 0 asked the kernel for a free one
    /// # Ok::<(), sockets::Error>(())
    /// ```
    fn local_name(&self) -> Result<(Address, u16)> {
        address_of(&isys::getsockname(self.base().fd()?).ctx("getsockname")?)
    }
    /// The local address (IOLib's `local-host`).
    ///
    /// # Errors
    /// As [`local_name`](Self::local_name).
    fn local_host(&self) -> Result<Address> {
        self.local_name().map(|(a, _)| a)
    }
    /// The local port (IOLib's `local-port`).
    ///
    /// # Errors
    /// As [`local_name`](Self::local_name).
    fn local_port(&self) -> Result<u16> {
        self.local_name().map(|(_, p)| p)
    }
    /// The local socket's filename (IOLib's `local-filename`); `InvalidArgument` on an
    /// internet socket.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] on an internet socket, [`Error::Closed`].
    ///
    /// # Examples
    ///
    /// ```
    /// use sockets::*;
    ///
    /// let dir = std::env::temp_dir().join(format!("sockets-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("listener.sock");
    /// # let _ = std::fs::remove_file(&path);
    /// let server = make_socket().connect(Connect::Passive).family(AddressFamily::Local)
    ///     .local_filename(LocalAddress::path(&path)).build_passive()?;
    /// assert_eq!(server.local_filename()?, LocalAddress::path(&path));
    /// # drop(server); std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn local_filename(&self) -> Result<LocalAddress> {
        match self.local_host()? {
            Address::Local(l) => Ok(l),
            other => Err(Error::InvalidArgument(format!(
                "{other} is not a local socket name"
            ))),
        }
    }
    /// The protocol number the socket was made for (IOLib's `socket-protocol`): 6 for TCP,
    /// 17 for UDP, 1 for a raw ICMP socket, ... Read from the kernel (`SO_PROTOCOL`).
    ///
    /// # Errors
    /// [`Error::Closed`] on a closed socket; [`Error::OptionNotSupported`] where the system
    /// has no `SO_PROTOCOL` (macOS, OpenBSD).
    ///
    /// # Examples
    ///
    /// ```
    /// use sockets::*;
    ///
    /// let server = make_socket().connect(Connect::Passive).local_host("127.0.0.1").local_port(0)
    ///     .build_passive()?;
    /// # if cfg!(any(target_os = "linux", target_os = "android", target_os = "freebsd")) {
    /// assert_eq!(server.socket_protocol()?, 6); // TCP
    /// # }
    /// # Ok::<(), sockets::Error>(())
    /// ```
    fn socket_protocol(&self) -> Result<i32> {
        let fd = self.base().fd()?;
        #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
        {
            isys::getsockopt(fd, libc::SOL_SOCKET, libc::SO_PROTOCOL).ctx("getsockopt")
        }
        #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
        {
            let _ = fd;
            Err(Error::OptionNotSupported("socket-protocol"))
        }
    }
    /// Reads an option (IOLib's `socket-option`).
    ///
    /// # Errors
    /// [`Error::OptionNotSupported`] for an option this system lacks or that does not apply to
    /// the socket (`ENOPROTOOPT`), [`Error::Closed`].
    ///
    /// # Examples
    ///
    /// ```
    /// use sockets::*;
    ///
    /// let (a, _b) = make_socket_pair(ExternalFormat::UTF8_LF)?;
    /// assert_eq!(a.socket_option(OptionName::Type)?, SocketOption::Type(isys::libc::SOCK_STREAM));
    /// # Ok::<(), sockets::Error>(())
    /// ```
    fn socket_option(&self, name: OptionName) -> Result<SocketOption> {
        options::get(self.base().fd()?, name)
    }
    /// Sets an option (IOLib's `(setf socket-option)`).
    ///
    /// # Errors
    /// [`Error::OptionNotSupported`] as for [`socket_option`](Self::socket_option), `EINVAL` for
    /// a value out of range or a read-only option, [`Error::Closed`].
    ///
    /// # Examples
    ///
    /// ```
    /// use sockets::*;
    ///
    /// let server = make_socket().connect(Connect::Passive).local_host("127.0.0.1").local_port(0)
    ///     .build_passive()?;
    /// server.set_socket_option(SocketOption::KeepAlive(true))?;
    /// assert_eq!(server.socket_option(OptionName::KeepAlive)?, SocketOption::KeepAlive(true));
    /// # Ok::<(), sockets::Error>(())
    /// ```
    fn set_socket_option(&self, option: SocketOption) -> Result<()> {
        options::set(self.base().fd()?, &option)
    }
    /// Waits until the socket is readable; `Ok(false)` on timeout. A pending socket error
    /// (say an ICMP "port unreachable" on a datagram socket) is returned as its condition
    /// (`ConnectionRefused`, ...).
    ///
    /// Blocks up to `timeout` (`None`: forever).
    ///
    /// # Errors
    /// The socket's pending error as its condition ([`Error::ConnectionRefused`], ...),
    /// [`Error::Closed`], [`Error::Poll`].
    ///
    /// # Examples
    ///
    /// ```
    /// use sockets::*;
    /// use std::time::Duration;
    ///
    /// let (mut a, b) = make_socket_pair(ExternalFormat::UTF8_LF)?;
    /// assert!(!b.wait_readable(Some(Duration::ZERO))?);
    /// a.write_line("x")?;
    /// a.finish_output()?;
    /// assert!(b.wait_readable(Some(Duration::from_secs(5)))?);
    /// # Ok::<(), sockets::Error>(())
    /// ```
    fn wait_readable(&self, timeout: Option<Duration>) -> Result<bool> {
        self.base()
            .wait_ready(FdEvent::Read, timeout)
            .map(|(r, _)| r)
    }
    /// Waits until the socket is writable; `Ok(false)` on timeout. A pending socket error is
    /// returned as its condition.
    ///
    /// Blocks up to `timeout` (`None`: forever).
    ///
    /// # Errors
    /// As [`wait_readable`](Self::wait_readable).
    fn wait_writable(&self, timeout: Option<Duration>) -> Result<bool> {
        self.base()
            .wait_ready(FdEvent::Write, timeout)
            .map(|(_, w)| w)
    }
}

/// Implements [`BaseSocket`], [`AsFd`] and [`AsRawFd`] for a socket type with a `base` field.
macro_rules! fd_traits {
    ($t:ty) => {
        impl $crate::base_socket::BaseSocket for $t {
            fn base(&self) -> &$crate::base_socket::Base {
                &self.base
            }
        }
        impl std::os::fd::AsFd for $t {
            /// The socket's fd. On a closed socket this is a placeholder fd on which every
            /// operation fails, never an fd that reused the old number.
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                self.base
                    .fd()
                    .unwrap_or_else(|_| $crate::base_socket::closed_placeholder())
            }
        }
        impl std::os::fd::AsRawFd for $t {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                std::os::fd::AsRawFd::as_raw_fd(&std::os::fd::AsFd::as_fd(self))
            }
        }
    };
}
pub(crate) use fd_traits;

pub(crate) fn family_of(fd: &OwnedFd) -> Family {
    isys::getsockname(fd)
        .ok()
        .and_then(|a| Family::from_domain(a.family()))
        .unwrap_or(Family::Ipv4)
}

fn describe(f: &mut fmt::Formatter<'_>, what: &str, s: &dyn BaseSocket) -> fmt::Result {
    let fam = match s.family() {
        Family::Ipv4 => "ipv4",
        Family::Ipv6 => "ipv6",
        Family::Local => "local",
        #[cfg(any(target_os = "linux", target_os = "android"))]
        Family::Netlink => "netlink",
    };
    let Some(fd) = s.socket_os_fd() else {
        return write!(f, "#<{what} {fam} socket, closed>");
    };
    let name = |r: Result<(Address, u16)>| match r {
        Ok((Address::Local(l), _)) => l.to_string(),
        Ok((a, p)) => format!("{a}:{p}"),
        Err(_) => "?".to_string(),
    };
    write!(
        f,
        "#<{what} {fam} socket {}, fd: {fd}>",
        name(s.local_name())
    )
}

impl fmt::Display for PassiveSocket {
    /// IOLib-style: `#<passive ipv4 socket 0.0.0.0:9999, fd: 3>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        describe(f, "passive", self)
    }
}

impl fmt::Display for ActiveSocket {
    /// IOLib-style: `#<active ipv4 socket 127.0.0.1:34794, fd: 5>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        describe(f, "active", self)
    }
}

impl fmt::Display for crate::raw::RawSocket {
    /// IOLib-style: `#<raw ipv4 socket 0.0.0.0:0, fd: 4>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        describe(f, "raw", self)
    }
}

impl fmt::Display for DatagramSocket {
    /// IOLib-style: `#<datagram ipv4 socket 0.0.0.0:5353, fd: 4>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        describe(f, "datagram", self)
    }
}
