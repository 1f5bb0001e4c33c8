//! Datagram sockets (IOLib's datagram `active-socket`): UDP or local datagrams; creating,
//! binding, setting and forgetting the default peer, closing. Sending and receiving
//! datagrams is in `send_receive.rs`.

use crate::address::Address;
use crate::base_socket::{address_of, family_of, fd_traits, Base, BaseSocket, Family, SocketKind};
use crate::error::{Error, Result, SysContext};
use isys::{Errno, SockAddr};
use std::fmt;
use std::os::fd::OwnedFd;

/// A datagram socket (IOLib's datagram `active-socket`): UDP or local datagrams.
///
/// ```
/// use sockets::*;
///
/// let server = make_socket().kind(SocketKind::Datagram).local_host("127.0.0.1").local_port(0)
///     .build_datagram()?;
/// let client = DatagramSocket::new(Family::Ipv4)?;
/// let to = (Address::Ipv4(IPV4_LOOPBACK), server.local_port()?);
/// client.send_to(b"hello", Some((&to.0, to.1)), MsgFlags::empty())?;
/// server.wait_readable(None)?;
/// let mut buf = [0; 16];
/// let (n, from) = server.receive_from(&mut buf, MsgFlags::empty())?;
/// assert_eq!(&buf[..n], b"hello");
/// assert_eq!(from.map(|(a, _)| a), Some(Address::Ipv4(IPV4_LOOPBACK)));
/// # Ok::<(), sockets::Error>(())
/// ```
pub struct DatagramSocket {
    pub(crate) base: Base,
}
fd_traits!(DatagramSocket);

impl fmt::Debug for DatagramSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatagramSocket")
            .field("fd", &self.socket_os_fd())
            .field("family", &self.base.family)
            .field("local", &self.local_name().ok())
            .finish()
    }
}

impl DatagramSocket {
    /// A new unbound datagram socket of `family` (non-blocking).
    ///
    /// # Errors
    /// The `socket(2)` failure: `EMFILE`/`ENFILE` when out of fds,
    /// [`Error::AddressFamilyNotSupported`].
    ///
    /// # Examples
    ///
    /// See [`bind_address`](Self::bind_address) for an example.
    pub fn new(family: Family) -> Result<Self> {
        Ok(DatagramSocket {
            base: Base::create(family, SocketKind::Datagram)?,
        })
    }

    /// Binds to `addr`:`port` (IOLib's `bind-address`), with `SO_REUSEADDR` when asked.
    ///
    /// # Errors
    /// [`Error::AddressInUse`], [`Error::AddressNotAvailable`], [`Error::InvalidAddress`] for an
    /// address of another family, [`Error::Closed`].
    ///
    /// # Examples
    ///
    /// ```
    /// use sockets::*;
    ///
    /// let socket = DatagramSocket::new(Family::Ipv4)?;
    /// socket.bind_address(IPV4_LOOPBACK, 0, true)?;
    /// assert_ne!(socket.local_port()?, 0);
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn bind_address(
        &self,
        addr: impl Into<Address>,
        port: u16,
        reuse_address: bool,
    ) -> Result<()> {
        self.base.bind(&addr.into(), port, reuse_address)
    }

    /// Sets the default peer (IOLib's `connect` on a datagram socket).
    ///
    /// # Errors
    /// [`Error::InvalidAddress`] for an address of another family, [`Error::NetworkUnreachable`],
    /// [`Error::Closed`]. Nothing is sent: a peer that does not listen shows up later, as
    /// [`Error::ConnectionRefused`] from a receive.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockets::*;
    ///
    /// let socket = DatagramSocket::new(Family::Ipv4)?;
    /// socket.connect(IPV4_LOOPBACK, 9)?;
    /// assert_eq!(socket.remote_name()?, (Address::Ipv4(IPV4_LOOPBACK), 9));
    /// socket.disconnect()?;
    /// assert!(!socket.socket_connected_p());
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn connect(&self, addr: impl Into<Address>, port: u16) -> Result<()> {
        let sa = self.base.sockaddr(&addr.into(), port)?;
        isys::connect(self.base.fd()?, &sa).ctx("connect")
    }

    /// Forgets the default peer (IOLib's `disconnect`): `connect` with `AF_UNSPEC`.
    ///
    /// # Errors
    /// [`Error::Closed`], or the `connect(2)` failure. See [`connect`](Self::connect) for an
    /// example.
    pub fn disconnect(&self) -> Result<()> {
        let unspec = SockAddr::empty();
        match isys::connect(self.base.fd()?, &unspec) {
            // BSDs answer EAFNOSUPPORT but still dissolve the association.
            Ok(()) | Err(Errno::EAFNOSUPPORT) => Ok(()),
            Err(e) => Err(Error::from_errno("connect", e)),
        }
    }

    /// Whether a default peer is set.
    ///
    /// See [`connect`](Self::connect) for an example.
    pub fn socket_connected_p(&self) -> bool {
        self.base.fd().is_ok_and(|fd| isys::getpeername(fd).is_ok())
    }

    /// The default peer (IOLib's `remote-name`).
    ///
    /// # Errors
    /// [`Error::NotConnected`] without a default peer, [`Error::Closed`].
    pub fn remote_name(&self) -> Result<(Address, u16)> {
        address_of(&isys::getpeername(self.base.fd()?).ctx("getpeername")?)
    }

    /// Closes the socket; harmless when already closed.
    ///
    /// # Errors
    /// The `close(2)` failure (rare); the fd is released all the same.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockets::*;
    ///
    /// let mut udp = DatagramSocket::new(Family::Ipv4)?;
    /// udp.close()?;
    /// udp.close()?; // harmless
    /// assert!(!udp.is_open());
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn close(&mut self) -> Result<()> {
        self.base.close()
    }
}

impl From<std::net::UdpSocket> for DatagramSocket {
    fn from(s: std::net::UdpSocket) -> Self {
        let fd = OwnedFd::from(s);
        let family = family_of(&fd);
        let _ = isys::set_nonblocking(&fd, true);
        DatagramSocket {
            base: Base::new(fd, family, SocketKind::Datagram),
        }
    }
}
