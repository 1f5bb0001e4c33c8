//! The `build*` side of [`MakeSocket`]: resolving the concrete family, kind, protocol and
//! hosts, checking the keywords agree, then creating the socket and binding, listening and
//! connecting as IOLib's `make-socket` does.

use super::MakeSocket;
use crate::active::ActiveSocket;
use crate::address::Address;
use crate::address_text::ensure_address;
use crate::base_socket::{Base, BaseSocket, Family, SocketKind};
use crate::datagram::DatagramSocket;
use crate::error::{Error, Result};
use crate::keywords::{AddressFamily, Connect, Host, Ipv6Mode, Protocol};
use crate::lookup::lookup_hostname;
use crate::options::SocketOption;
use crate::passive::PassiveSocket;
use crate::raw::RawSocket;
use crate::socket::Socket;
use isys::libc;

impl MakeSocket {
    fn concrete_family(&self) -> Family {
        match (self.family, self.ipv6) {
            (AddressFamily::Local, _) => Family::Local,
            (AddressFamily::Ipv4, _) | (AddressFamily::Internet, Ipv6Mode::No) => Family::Ipv4,
            (AddressFamily::Ipv6, _) | (AddressFamily::Internet, _) => Family::Ipv6,
            #[cfg(any(target_os = "linux", target_os = "android"))]
            (AddressFamily::Netlink, _) => Family::Netlink,
        }
    }

    /// The kind made: netlink sockets are always raw.
    fn concrete_kind(&self) -> SocketKind {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if self.family == AddressFamily::Netlink {
            return SocketKind::Raw;
        }
        self.kind
    }

    /// The protocol number: names are looked up in `/etc/protocols` (netlink's own names
    /// are known here).
    fn protocol_number(&self) -> Result<i32> {
        match &self.protocol {
            Protocol::Number(n) => Ok(*n),
            #[cfg(any(target_os = "linux", target_os = "android"))]
            Protocol::Name(name) if self.family == AddressFamily::Netlink => match name.as_str() {
                "route" => Ok(libc::NETLINK_ROUTE),
                "kobject-uevent" => Ok(libc::NETLINK_KOBJECT_UEVENT),
                "generic" => Ok(libc::NETLINK_GENERIC),
                _ => Err(Error::UnknownProtocol(name.clone())),
            },
            Protocol::Name(name) => crate::lookup::lookup_protocol(name).map(|(_, n)| n),
        }
    }

    fn resolve(&self, host: &Host, family: Family) -> Result<Address> {
        let addr = match host {
            Host::Address(a) => a.clone(),
            Host::Name(n) => match ensure_address(n) {
                Ok(a) => a,
                Err(_) => {
                    let found = lookup_hostname(n)?;
                    if family == Family::Ipv4 {
                        found.first_ipv4().ok_or_else(|| {
                            Error::InvalidAddress(format!("{n} has no IPv4 address"))
                        })?
                    } else {
                        found.address
                    }
                }
            },
        };
        Ok(addr)
    }

    fn validate(&self) -> Result<()> {
        let err = |m: &str| Err(Error::InvalidArgument(m.to_string()));
        let local = self.family == AddressFamily::Local;
        if local && (self.local_host.is_some() || self.remote_host.is_some()) {
            return err("local sockets take :local-filename/:remote-filename, not hosts");
        }
        if !local && (self.local_filename.is_some() || self.remote_filename.is_some()) {
            return err("internet sockets take hosts and ports, not filenames");
        }
        if self.connect == Connect::Passive {
            if self.concrete_kind() != SocketKind::Stream {
                return err("datagram and raw sockets cannot be passive");
            }
            if self.remote_host.is_some()
                || self.remote_port.is_some()
                || self.remote_filename.is_some()
            {
                return err("a passive socket takes no remote host, port or filename");
            }
        }
        if self.remote_port.is_some() && self.remote_host.is_none() {
            return err(":remote-port given without :remote-host");
        }
        if self.backlog < 0 {
            return err(":backlog must not be negative");
        }
        Ok(())
    }

    /// Creates the socket and, like IOLib, binds when a local address is given, listens when
    /// passive and bound, connects when a remote address is given.
    ///
    /// Connecting blocks up to [`connect_timeout`](Self::connect_timeout) (default: forever);
    /// resolving a host name blocks while the resolver asks (see
    /// [`lookup_hostname`](crate::lookup_hostname)).
    ///
    /// IOLib: `make-socket`; see docs/PORTING.md, "Sockets".
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for inconsistent keywords (a remote host without a port, a
    /// local filename on an internet socket, ...), [`Error::UnknownProtocol`],
    /// [`Error::Resolver`]/[`Error::InvalidAddress`] for a host that does not resolve (or has no
    /// address of the socket's family), and the failures of the steps it takes: `socket(2)`
    /// (`EMFILE`, [`Error::AddressFamilyNotSupported`]), [`bind`](PassiveSocket::bind_address)
    /// ([`Error::AddressInUse`]), [`connect`](ActiveSocket::connect)
    /// ([`Error::ConnectionRefused`], [`Error::ConnectionTimeout`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use sockets::*;
    ///
    /// match make_socket().kind(SocketKind::Datagram).local_host("127.0.0.1").build()? {
    ///     Socket::Datagram(udp) => assert_ne!(udp.local_port()?, 0),
    ///     other => panic!("not a datagram socket: {other:?}"),
    /// }
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn build(self) -> Result<Socket> {
        self.validate()?;
        let family = self.concrete_family();
        let kind = self.concrete_kind();
        let base = Base::create_with(family, kind, self.protocol_number()?)?;
        let fd = base.fd()?;
        if family == Family::Ipv6 {
            let only = i32::from(self.ipv6 == Ipv6Mode::Only);
            isys::setsockopt(fd, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, &only)
                .map_err(|e| Error::from_errno("setsockopt", e))?;
        }
        let sock = match (kind, self.connect) {
            (SocketKind::Raw, _) => Socket::Raw(RawSocket { base }),
            (SocketKind::Datagram, _) => Socket::Datagram(DatagramSocket { base }),
            (SocketKind::Stream, Connect::Passive) => {
                let mut p = PassiveSocket::from_base(base, self.format);
                p.settings = self.settings.clone();
                p.reuse_address = self.reuse_address;
                Socket::Passive(p)
            }
            (SocketKind::Stream, Connect::Active) => {
                let settings = self.settings.clone();
                Socket::Active(ActiveSocket::from_parts(base, self.format, settings))
            }
        };
        if let (Socket::Raw(r), Some(on)) = (&sock, self.include_headers) {
            r.set_include_headers(on)?;
        }
        if kind == SocketKind::Stream {
            if let Some(on) = self.nodelay.filter(|_| family != Family::Local) {
                sock.set_socket_option(SocketOption::TcpNodelay(on))?;
            }
            if let Some(on) = self.keepalive {
                sock.set_socket_option(SocketOption::KeepAlive(on))?;
            }
        }
        // Bind.
        let local = match (&self.local_filename, &self.local_host) {
            (Some(f), _) => Some((Address::Local(f.clone()), 0)),
            (None, Some(h)) => Some((self.resolve(h, family)?, self.local_port.unwrap_or(0))),
            (None, None) => self.local_port.map(|p| {
                let any = if family == Family::Ipv6 {
                    Address::Ipv6(crate::IPV6_UNSPECIFIED)
                } else {
                    Address::Ipv4(crate::IPV4_UNSPECIFIED)
                };
                (any, p)
            }),
        };
        let remote = match (&self.remote_filename, &self.remote_host) {
            (Some(f), _) => Some((Address::Local(f.clone()), 0)),
            (None, Some(h)) => Some((self.resolve(h, family)?, self.remote_port.unwrap_or(0))),
            (None, None) => None,
        };
        match sock {
            Socket::Passive(p) => {
                if let Some((addr, port)) = local {
                    p.bind_address(&addr, port)?;
                    p.listen_on(self.backlog)?;
                }
                Ok(Socket::Passive(p))
            }
            Socket::Active(mut a) => {
                if let Some((addr, port)) = local {
                    a.bind_address(&addr, port)?;
                }
                if let Some((addr, port)) = remote {
                    a.connect(&addr, port, self.wait)?;
                }
                Ok(Socket::Active(a))
            }
            Socket::Raw(r) => {
                #[cfg(any(target_os = "linux", target_os = "android"))]
                if family == Family::Netlink {
                    if self.multicast_groups != 0 {
                        r.bind_netlink(crate::raw::NetlinkAddress {
                            port: 0,
                            multicast_groups: self.multicast_groups,
                        })?;
                    }
                    return Ok(Socket::Raw(r));
                }
                if let Some((addr, _)) = local {
                    r.bind_address(addr)?;
                }
                if let Some((addr, _)) = remote {
                    let sa = crate::base_socket::sockaddr_for(family, &addr, 0)?;
                    isys::connect(r.base.fd()?, &sa)
                        .map_err(|e| Error::from_errno("connect", e))?;
                }
                Ok(Socket::Raw(r))
            }
            Socket::Datagram(d) => {
                if let Some((addr, port)) = local {
                    d.bind_address(&addr, port, self.reuse_address)?;
                }
                if let Some((addr, port)) = remote {
                    d.connect(&addr, port)?;
                }
                Ok(Socket::Datagram(d))
            }
        }
    }

    /// [`build`](Self::build), expecting an active stream socket.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the keywords describe another kind of socket; otherwise
    /// as [`build`](Self::build).
    ///
    /// # Examples
    ///
    /// See [`make_socket`](crate::make_socket) for an example.
    pub fn build_active(self) -> Result<ActiveSocket> {
        if self.connect != Connect::Active || self.kind != SocketKind::Stream {
            return Err(Error::InvalidArgument(
                "build_active needs :connect :active and :type :stream".into(),
            ));
        }
        self.build()?.into_active()
    }

    /// [`build`](Self::build), expecting a passive socket (sets `:connect :passive`).
    ///
    /// # Errors
    /// As [`build`](Self::build).
    ///
    /// # Examples
    ///
    /// See [`make_socket`](crate::make_socket) for an example.
    pub fn build_passive(self) -> Result<PassiveSocket> {
        self.connect(Connect::Passive).build()?.into_passive()
    }

    /// [`build`](Self::build), expecting a raw socket (sets `:type :raw`).
    ///
    /// # Errors
    /// As [`build`](Self::build).
    ///
    /// # Examples
    ///
    /// See [`RawSocket`] for an example (raw IP needs root) and
    /// [`multicast_groups`](Self::multicast_groups) for a netlink one.
    pub fn build_raw(self) -> Result<RawSocket> {
        self.kind(SocketKind::Raw).build()?.into_raw()
    }

    /// [`build`](Self::build), expecting a datagram socket (sets `:type :datagram`).
    ///
    /// # Errors
    /// As [`build`](Self::build).
    ///
    /// # Examples
    ///
    /// See [`DatagramSocket`] for an example.
    pub fn build_datagram(self) -> Result<DatagramSocket> {
        self.kind(SocketKind::Datagram).build()?.into_datagram()
    }
}
