//! Raw sockets (IOLib's `:type :raw`): IP packets of one protocol (`:protocol`, say ICMP),
//! optionally with the IP header written by the program (`:include-headers`, `IP_HDRINCL`),
//! and Linux netlink sockets (`:address-family :netlink`, `:multicast-groups`). Each send
//! and receive is one packet with its peer's address, as on a datagram socket.

use crate::address::Address;
use crate::base_socket::{address_of, fd_traits, Base, BaseSocket, Family, SocketKind};
#[cfg_attr(not(target_os = "linux"), allow(unused_imports))] // Error: the netlink calls
use crate::error::{Error, Result, SysContext};
use isys::{libc, MsgFlags};
use std::fmt;

/// A raw socket (IOLib's raw `socket`): one packet per [`send_to`](Self::send_to) and
/// [`receive_from`](Self::receive_from). On an IPv4 raw socket a received packet starts with
/// its IP header; a sent one does too when [`include_headers`](Self::include_headers) is on.
/// Making one usually needs root (or `CAP_NET_RAW`): without it the error's errno is `EPERM`
/// (or `EACCES`).
///
/// Compiled, not run: raw sockets need root or `CAP_NET_RAW`, which tests do not have.
///
/// ```no_run
/// use sockets::*;
/// // IOLib: (make-socket :type :raw :protocol :icmp)
/// let icmp = make_socket().kind(SocketKind::Raw).protocol("icmp").build_raw()?;
/// assert_eq!(icmp.socket_protocol()?, 1);
/// # Ok::<(), sockets::Error>(())
/// ```
pub struct RawSocket {
    pub(crate) base: Base,
}
fd_traits!(RawSocket);

impl fmt::Debug for RawSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawSocket")
            .field("fd", &self.socket_os_fd())
            .field("family", &self.base.family)
            .finish()
    }
}

/// A netlink address (IOLib's `netlink-address`): a port id (0 is the kernel) and a mask of
/// multicast groups.
///
/// Netlink needs no privilege, so this runs (on Linux):
///
/// ```
/// use sockets::*;
///
/// let nl = make_socket().family(AddressFamily::Netlink).protocol("route").build_raw()?;
/// nl.bind_netlink(NetlinkAddress::default())?; // port 0: the kernel picks one
/// assert_ne!(nl.netlink_local_name()?.port, 0);
/// # Ok::<(), sockets::Error>(())
/// ```
#[cfg(any(target_os = "linux", target_os = "android"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct NetlinkAddress {
    /// The port id (`nl_pid`): 0 for the kernel; a process's socket usually has its pid.
    pub port: u32,
    /// The multicast group mask (`nl_groups`; IOLib's `netlink-address-multicast-groups`).
    pub multicast_groups: u32,
}

impl RawSocket {
    /// A new raw socket of `family` for `protocol` (a number from `/etc/protocols`, see
    /// [`lookup_protocol`](crate::lookup_protocol); for netlink a `NETLINK_*` number).
    ///
    /// # Errors
    /// The `socket(2)` failure: `EPERM`/`EACCES` without the privilege raw sockets need,
    /// `EPROTONOSUPPORT` for an unknown protocol.
    ///
    /// # Examples
    ///
    /// Compiled, not run: it needs root or `CAP_NET_RAW`.
    ///
    /// ```no_run
    /// use sockets::*;
    ///
    /// let icmp = RawSocket::new(Family::Ipv4, lookup_protocol("icmp")?.1)?;
    /// assert!(!icmp.include_headers()?);
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn new(family: Family, protocol: i32) -> Result<Self> {
        Ok(RawSocket {
            base: Base::create_with(family, SocketKind::Raw, protocol)?,
        })
    }

    /// Binds to `addr` (IOLib's `bind-address`); on IP raw sockets there is no port.
    ///
    /// # Errors
    /// [`Error::InvalidAddress`] for an address of another family; the `bind(2)` failure.
    ///
    /// See [`new`](Self::new) for a raw socket (compiled only: it needs root).
    pub fn bind_address(&self, addr: impl Into<Address>) -> Result<()> {
        self.base.bind(&addr.into(), 0, false)
    }

    /// Whether the program writes the IP header of what it sends (`IP_HDRINCL`, IOLib's
    /// `:include-headers`).
    ///
    /// # Errors
    /// The `getsockopt(2)` failure (an IPv6 or netlink socket has no such option).
    ///
    /// # Examples
    ///
    /// See [`new`](Self::new) for an example (compiled only: it needs root).
    pub fn include_headers(&self) -> Result<bool> {
        let v: i32 = isys::getsockopt(self.base.fd()?, libc::IPPROTO_IP, libc::IP_HDRINCL)
            .ctx("getsockopt")?;
        Ok(v != 0)
    }

    /// Turns `IP_HDRINCL` on or off (IOLib's `:include-headers`).
    ///
    /// # Errors
    /// The `setsockopt(2)` failure (an IPv6 or netlink socket has no such option).
    ///
    /// # Examples
    ///
    /// See [`MakeSocket::include_headers`](crate::MakeSocket::include_headers) for an example
    /// (compiled only: it needs root).
    pub fn set_include_headers(&self, on: bool) -> Result<()> {
        isys::setsockopt(
            self.base.fd()?,
            libc::IPPROTO_IP,
            libc::IP_HDRINCL,
            &i32::from(on),
        )
        .ctx("setsockopt")
    }

    /// Sends one packet to `to` (IOLib's `send-to :remote-host`). Non-blocking: a full
    /// buffer is an error whose errno is `EWOULDBLOCK`. `EINTR` is retried.
    ///
    /// # Errors
    /// [`Error::InvalidAddress`] for an address of another family; the `sendto(2)` failure.
    ///
    /// # Examples
    ///
    /// A ping of the loopback address; compiled, not run: it needs root or `CAP_NET_RAW`.
    ///
    /// ```no_run
    /// use sockets::*;
    ///
    /// let icmp = make_socket().kind(SocketKind::Raw).protocol("icmp").build_raw()?;
    /// let echo_request = [8, 0, 0xf7, 0xff, 0, 0, 0, 0]; // type 8, checksum over the rest
    /// icmp.send_to(&echo_request, IPV4_LOOPBACK, MsgFlags::empty())?;
    /// icmp.wait_readable(None)?;
    /// let mut packet = [0; 1500];
    /// let (n, from) = icmp.receive_from(&mut packet, MsgFlags::empty())?;
    /// println!("{n} bytes from {from:?}; ICMP type {}", packet[20]); // after the IP header
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn send_to(&self, buf: &[u8], to: impl Into<Address>, flags: MsgFlags) -> Result<usize> {
        let fd = self.base.fd()?;
        let sa = self.base.sockaddr(&to.into(), 0)?;
        isys::repeat_upon_eintr(|| isys::sendto(fd, buf, flags, &sa)).ctx("sendto")
    }

    /// Receives one packet (IOLib's `receive-from`): its length and the sender's address.
    /// Non-blocking: `EWOULDBLOCK` when none is waiting (see
    /// [`wait_readable`](crate::BaseSocket::wait_readable)). `EINTR` is retried.
    ///
    /// # Errors
    /// The `recvfrom(2)` failure.
    ///
    /// # Examples
    ///
    /// See [`send_to`](Self::send_to) for an example (compiled only: it needs root).
    pub fn receive_from(
        &self,
        buf: &mut [u8],
        flags: MsgFlags,
    ) -> Result<(usize, Option<Address>)> {
        let fd = self.base.fd()?;
        let (n, sa) = isys::repeat_upon_eintr(|| isys::recvfrom(fd, buf, flags)).ctx("recvfrom")?;
        Ok((n, address_of(&sa).ok().map(|(a, _)| a)))
    }

    /// Closes the socket; harmless when already closed.
    ///
    /// # Errors
    /// The `close(2)` failure.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockets::*;
    ///
    /// # #[cfg(any(target_os = "linux", target_os = "android"))] {
    /// let mut nl = make_socket().family(AddressFamily::Netlink).protocol("route").build_raw()?;
    /// nl.close()?;
    /// assert!(!nl.is_open());
    /// # }
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn close(&mut self) -> Result<()> {
        self.base.close()
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
impl RawSocket {
    fn expect_netlink(&self) -> Result<()> {
        if self.base.family != Family::Netlink {
            return Err(Error::InvalidArgument("not a netlink socket".into()));
        }
        Ok(())
    }

    /// Binds a netlink socket to `addr` (port 0 lets the kernel assign one; the multicast
    /// groups subscribe to them).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] on a non-netlink socket; the `bind(2)` failure.
    ///
    /// # Examples
    ///
    /// See [`NetlinkAddress`] for an example.
    pub fn bind_netlink(&self, addr: NetlinkAddress) -> Result<()> {
        self.expect_netlink()?;
        let sa = isys::SockAddr::netlink(addr.port, addr.multicast_groups);
        isys::bind(self.base.fd()?, &sa).ctx("bind")
    }

    /// The netlink address the socket is bound to (IOLib's `local-name` on netlink).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] on a non-netlink socket; the `getsockname(2)` failure.
    ///
    /// # Examples
    ///
    /// See [`NetlinkAddress`] for an example.
    pub fn netlink_local_name(&self) -> Result<NetlinkAddress> {
        self.expect_netlink()?;
        let sa = isys::getsockname(self.base.fd()?).ctx("getsockname")?;
        let (port, multicast_groups) = sa
            .as_netlink()
            .ok_or_else(|| Error::InvalidAddress("not a netlink address".into()))?;
        Ok(NetlinkAddress {
            port,
            multicast_groups,
        })
    }

    /// Sends one netlink message to `to` (port 0 is the kernel). `EINTR` is retried.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] on a non-netlink socket; the `sendto(2)` failure.
    ///
    /// # Examples
    ///
    /// Asks the kernel for its network links (`RTM_GETLINK`, a dump) and reads the first reply:
    ///
    /// ```
    /// use sockets::*;
    ///
    /// let nl = make_socket().family(AddressFamily::Netlink).protocol("route").build_raw()?;
    /// let mut request = Vec::new();
    /// request.extend(20u32.to_ne_bytes()); // nlmsg_len: header (16) + rtgenmsg (4)
    /// request.extend(18u16.to_ne_bytes()); // nlmsg_type: RTM_GETLINK
    /// request.extend(0x301u16.to_ne_bytes()); // nlmsg_flags: NLM_F_REQUEST | NLM_F_DUMP
    /// request.extend([0; 8]); // sequence number, port id
    /// request.extend([0; 4]); // rtgenmsg: AF_UNSPEC, padding
    /// nl.send_to_netlink(&request, NetlinkAddress::default(), MsgFlags::empty())?;
    /// nl.wait_readable(None)?;
    /// let mut reply = vec![0; 32 * 1024];
    /// let (n, from) = nl.receive_from_netlink(&mut reply, MsgFlags::empty())?;
    /// assert!(n >= 16 && from.port == 0); // from the kernel
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn send_to_netlink(
        &self,
        buf: &[u8],
        to: NetlinkAddress,
        flags: MsgFlags,
    ) -> Result<usize> {
        self.expect_netlink()?;
        let fd = self.base.fd()?;
        let sa = isys::SockAddr::netlink(to.port, to.multicast_groups);
        isys::repeat_upon_eintr(|| isys::sendto(fd, buf, flags, &sa)).ctx("sendto")
    }

    /// Receives one netlink message and the sender's address. Non-blocking, like
    /// [`receive_from`](Self::receive_from).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] on a non-netlink socket; the `recvfrom(2)` failure.
    ///
    /// # Examples
    ///
    /// See [`send_to_netlink`](Self::send_to_netlink) for an example.
    pub fn receive_from_netlink(
        &self,
        buf: &mut [u8],
        flags: MsgFlags,
    ) -> Result<(usize, NetlinkAddress)> {
        self.expect_netlink()?;
        let fd = self.base.fd()?;
        let (n, sa) = isys::repeat_upon_eintr(|| isys::recvfrom(fd, buf, flags)).ctx("recvfrom")?;
        let (port, multicast_groups) = sa.as_netlink().unwrap_or((0, 0));
        Ok((
            n,
            NetlinkAddress {
                port,
                multicast_groups,
            },
        ))
    }
}
