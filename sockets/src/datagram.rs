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
    pub fn new(family: Family) -> Result<Self> {
        Ok(DatagramSocket {
            base: Base::create(family, SocketKind::Datagram)?,
        })
    }

    /// Binds to `addr`:`port` (IOLib's `bind-address`), with `SO_REUSEADDR` when asked.
    pub fn bind_address(
        &self,
        addr: impl Into<Address>,
        port: u16,
        reuse_address: bool,
    ) -> Result<()> {
        self.base.bind(&addr.into(), port, reuse_address)
    }

    /// Sets the default peer (IOLib's `connect` on a datagram socket).
    pub fn connect(&self, addr: impl Into<Address>, port: u16) -> Result<()> {
        let sa = self.base.sockaddr(&addr.into(), port)?;
        isys::connect(self.base.fd()?, &sa).ctx("connect")
    }

    /// Forgets the default peer (IOLib's `disconnect`): `connect` with `AF_UNSPEC`.
    pub fn disconnect(&self) -> Result<()> {
        let unspec = SockAddr::empty();
        match isys::connect(self.base.fd()?, &unspec) {
            // BSDs answer EAFNOSUPPORT but still dissolve the association.
            Ok(()) | Err(Errno::EAFNOSUPPORT) => Ok(()),
            Err(e) => Err(Error::from_errno("connect", e)),
        }
    }

    /// Whether a default peer is set.
    pub fn socket_connected_p(&self) -> bool {
        self.base.fd().is_ok_and(|fd| isys::getpeername(fd).is_ok())
    }

    /// The default peer (IOLib's `remote-name`).
    pub fn remote_name(&self) -> Result<(Address, u16)> {
        address_of(&isys::getpeername(self.base.fd()?).ctx("getpeername")?)
    }

    /// Closes the socket; harmless when already closed.
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
