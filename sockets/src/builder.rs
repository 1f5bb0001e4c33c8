//! `make_socket`: IOLib's `make-socket` as a builder taking the same keywords.

use crate::active::ActiveSocket;
use crate::address::{ensure_address, Address, LocalAddress};
use crate::base_socket::{Base, BaseSocket, Family, SocketKind};
use crate::buffer::StreamSettings;
use crate::datagram::DatagramSocket;
use crate::error::{Error, Result};
use crate::format::ExternalFormat;
use crate::keywords::{AddressFamily, Connect, Host, Ipv6Mode, Protocol};
use crate::lookup::lookup_hostname;
use crate::options::SocketOption;
use crate::passive::{PassiveSocket, DEFAULT_BACKLOG};
use crate::raw::RawSocket;
use crate::socket::Socket;
use crate::wait::Wait;
use isys::libc;

/// The `make-socket` builder; see [`make_socket`].
///
/// ```
/// use sockets::*;
/// use std::time::Duration;
///
/// let server = make_socket().connect(Connect::Passive).local_host("127.0.0.1").local_port(0)
///     .backlog(128).input_buffer_size(4096).max_line_length(1024).build_passive()?;
/// let client = make_socket().remote_host("127.0.0.1").remote_port(server.local_port()?)
///     .nodelay(true).connect_timeout(Duration::from_secs(5)).build_active()?;
/// let conn = server.accept_connection(Wait::Forever)?.expect("the client");
/// assert_eq!(conn.max_line_length(), 1024); // accepted sockets inherit the settings
/// # drop(client);
/// # Ok::<(), sockets::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct MakeSocket {
    family: AddressFamily,
    kind: SocketKind,
    connect: Connect,
    format: ExternalFormat,
    ipv6: Ipv6Mode,
    local_host: Option<Host>,
    local_port: Option<u16>,
    remote_host: Option<Host>,
    remote_port: Option<u16>,
    local_filename: Option<LocalAddress>,
    remote_filename: Option<LocalAddress>,
    reuse_address: bool,
    backlog: i32,
    nodelay: Option<bool>,
    keepalive: Option<bool>,
    settings: StreamSettings,
    wait: Wait,
    protocol: Protocol,
    include_headers: Option<bool>,
    multicast_groups: u32,
}

/// Starts a socket description with IOLib's defaults: internet, stream, active, UTF-8/LF,
/// reuse-address on, backlog 5. Like IOLib, [`MakeSocket::build`] binds, listens and connects
/// when the corresponding keywords are given.
///
/// IOLib: `make-socket`; see docs/PORTING.md, "Sockets", for every keyword.
///
/// ```
/// use sockets::*;
///
/// let server = make_socket()
///     .connect(Connect::Passive)
///     .local_host("127.0.0.1")
///     .local_port(0)
///     .external_format(ExternalFormat::UTF8_CRLF)
///     .build_passive()?;
/// let client = make_socket()
///     .connect(Connect::Active)
///     .remote_host("127.0.0.1")
///     .remote_port(server.local_port()?)
///     .build_active()?;
/// assert!(client.socket_connected_p());
/// # Ok::<(), sockets::Error>(())
/// ```
pub fn make_socket() -> MakeSocket {
    MakeSocket {
        family: AddressFamily::Internet,
        kind: SocketKind::Stream,
        connect: Connect::Active,
        format: ExternalFormat::default(),
        ipv6: Ipv6Mode::No,
        local_host: None,
        local_port: None,
        remote_host: None,
        remote_port: None,
        local_filename: None,
        remote_filename: None,
        reuse_address: true,
        backlog: DEFAULT_BACKLOG,
        nodelay: None,
        keepalive: None,
        settings: StreamSettings::default(),
        wait: Wait::Forever,
        protocol: Protocol::Number(0),
        include_headers: None,
        multicast_groups: 0,
    }
}

impl MakeSocket {
    /// `:address-family`.
    ///
    /// See [`AddressFamily`] for an example.
    pub fn family(mut self, f: AddressFamily) -> Self {
        self.family = f;
        self
    }
    /// `:type`.
    ///
    /// ```
    /// use sockets::*;
    ///
    /// let udp = make_socket().kind(SocketKind::Datagram).local_host("127.0.0.1").build()?;
    /// assert!(matches!(udp, Socket::Datagram(_)));
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn kind(mut self, k: SocketKind) -> Self {
        self.kind = k;
        self
    }
    /// `:connect`.
    ///
    /// See [`Connect`] for an example.
    pub fn connect(mut self, c: Connect) -> Self {
        self.connect = c;
        self
    }
    /// `:external-format`.
    ///
    /// ```
    /// use sockets::*;
    ///
    /// let server = make_socket().connect(Connect::Passive).local_host("127.0.0.1")
    ///     .external_format(ExternalFormat::UTF8_CRLF).build_passive()?;
    /// assert_eq!(server.external_format(),
    ///     ExternalFormat::UTF8_CRLF); // and its accepted sockets'
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn external_format(mut self, f: ExternalFormat) -> Self {
        self.format = f;
        self
    }
    /// `:ipv6`.
    ///
    /// See [`Ipv6Mode`] for an example.
    pub fn ipv6(mut self, m: Ipv6Mode) -> Self {
        self.ipv6 = m;
        self
    }
    /// `:local-host`: bind to this address (a name is resolved).
    ///
    /// ```
    /// use sockets::*;
    ///
    /// let udp = make_socket().kind(SocketKind::Datagram).local_host("127.0.0.1").local_port(0)
    ///     .build_datagram()?;
    /// assert_eq!(udp.local_host()?, Address::Ipv4(IPV4_LOOPBACK));
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn local_host(mut self, h: impl Into<Host>) -> Self {
        self.local_host = Some(h.into());
        self
    }
    /// `:local-port`.
    ///
    /// See [`local_host`](Self::local_host) for an example; port 0 picks a free port.
    pub fn local_port(mut self, p: u16) -> Self {
        self.local_port = Some(p);
        self
    }
    /// `:remote-host`: connect to this address (a name is resolved).
    ///
    /// ```
    /// use sockets::*;
    ///
    /// let server = make_socket().connect(Connect::Passive).local_host("127.0.0.1")
    ///     .build_passive()?;
    /// let client = make_socket().remote_host("localhost").remote_port(server.local_port()?)
    ///     .build_active()?;
    /// assert!(client.remote_host()?.is_loopback());
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn remote_host(mut self, h: impl Into<Host>) -> Self {
        self.remote_host = Some(h.into());
        self
    }
    /// `:remote-port`.
    ///
    /// See [`remote_host`](Self::remote_host) for an example.
    pub fn remote_port(mut self, p: u16) -> Self {
        self.remote_port = Some(p);
        self
    }
    /// `:local-filename` for local sockets (use [`LocalAddress::abstract_name`] for Linux
    /// abstract names).
    ///
    /// See [`AddressFamily`] for an example.
    pub fn local_filename(mut self, f: impl Into<LocalAddress>) -> Self {
        self.local_filename = Some(f.into());
        self
    }
    /// `:remote-filename` for local sockets.
    ///
    /// See [`AddressFamily`] for an example.
    pub fn remote_filename(mut self, f: impl Into<LocalAddress>) -> Self {
        self.remote_filename = Some(f.into());
        self
    }
    /// `:reuse-address` (default on).
    ///
    /// ```
    /// use sockets::*;
    ///
    /// let server = make_socket().connect(Connect::Passive).local_host("127.0.0.1")
    ///     .reuse_address(false).build_passive()?;
    /// assert_eq!(server.socket_option(OptionName::ReuseAddress)?,
    ///     SocketOption::ReuseAddress(false));
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn reuse_address(mut self, on: bool) -> Self {
        self.reuse_address = on;
        self
    }
    /// `:backlog` (default 5).
    ///
    /// ```
    /// use sockets::*;
    ///
    /// let server = make_socket().connect(Connect::Passive).local_host("127.0.0.1").backlog(1024)
    ///     .build_passive()?;
    /// let listening = server.socket_option(OptionName::AcceptConnections)?;
    /// assert_eq!(listening, SocketOption::AcceptConnections(true));
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn backlog(mut self, n: i32) -> Self {
        self.backlog = n;
        self
    }
    /// `:nodelay` (`TCP_NODELAY`).
    ///
    /// ```
    /// use sockets::*;
    ///
    /// let server = make_socket().connect(Connect::Passive).local_host("127.0.0.1")
    ///     .build_passive()?;
    /// let client = make_socket().remote_host("127.0.0.1").remote_port(server.local_port()?)
    ///     .nodelay(true).keepalive(true).build_active()?;
    /// assert_eq!(client.socket_option(OptionName::TcpNodelay)?, SocketOption::TcpNodelay(true));
    /// assert_eq!(client.socket_option(OptionName::KeepAlive)?, SocketOption::KeepAlive(true));
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn nodelay(mut self, on: bool) -> Self {
        self.nodelay = Some(on);
        self
    }
    /// `:keepalive` (`SO_KEEPALIVE`).
    ///
    /// See [`nodelay`](Self::nodelay) for an example.
    pub fn keepalive(mut self, on: bool) -> Self {
        self.keepalive = Some(on);
        self
    }
    /// `:input-buffer-size`.
    ///
    /// See [`MakeSocket`] for an example.
    pub fn input_buffer_size(mut self, n: usize) -> Self {
        self.settings.input_buffer_size = n.max(1);
        self
    }
    /// `:output-buffer-size`.
    ///
    /// ```
    /// use sockets::*;
    ///
    /// let server = make_socket().connect(Connect::Passive).local_host("127.0.0.1")
    ///     .output_buffer_size(64 * 1024).build_passive()?;
    /// # drop(server);
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn output_buffer_size(mut self, n: usize) -> Self {
        self.settings.output_buffer_size = n.max(1);
        self
    }
    /// The maximum line length for `read_line` (beyond IOLib).
    ///
    /// See [`MakeSocket`] for an example.
    pub fn max_line_length(mut self, n: usize) -> Self {
        self.settings.max_line_length = n.max(1);
        self
    }
    /// The [`InputBudget`](crate::InputBudget) the socket's input buffer growth is charged
    /// to; on a passive socket, shared by every socket it accepts (beyond IOLib). Default:
    /// none, only the maximum line length bounds a buffer.
    ///
    /// ```
    /// use sockets::*;
    ///
    /// let budget = InputBudget::new(64 << 20);
    /// let server = make_socket().connect(Connect::Passive).local_host("127.0.0.1")
    ///     .input_budget(budget.clone()).build_passive()?;
    /// assert!(server.input_budget().is_some_and(|b| b.same_as(&budget)));
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn input_budget(mut self, budget: crate::InputBudget) -> Self {
        self.settings.input_budget = Some(budget);
        self
    }
    /// `:protocol`: a number or a name from `/etc/protocols` (`"icmp"`, `"tcp"`, ...); the
    /// default 0 is the family and type's usual protocol.
    ///
    /// See [`Protocol`] for an example.
    pub fn protocol(mut self, p: impl Into<Protocol>) -> Self {
        self.protocol = p.into();
        self
    }
    /// `:include-headers` on a raw IPv4 socket (`IP_HDRINCL`): the program writes the IP
    /// header of what it sends.
    ///
    /// Compiled, not run: raw sockets need root or `CAP_NET_RAW`.
    ///
    /// ```no_run
    /// use sockets::*;
    ///
    /// let raw = make_socket().kind(SocketKind::Raw).protocol("udp").include_headers(true)
    ///     .build_raw()?;
    /// assert!(raw.include_headers()?);
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn include_headers(mut self, on: bool) -> Self {
        self.include_headers = Some(on);
        self
    }
    /// `:multicast-groups` on a netlink socket: the group mask it binds to (binding happens
    /// when this is non-zero).
    ///
    /// ```
    /// use sockets::*;
    ///
    /// # #[cfg(any(target_os = "linux", target_os = "android"))] {
    /// // RTMGRP_LINK: hear about network links coming and going (needs no privilege).
    /// let nl = make_socket().family(AddressFamily::Netlink).protocol("route").multicast_groups(1)
    ///     .build_raw()?;
    /// assert_eq!(nl.netlink_local_name()?.multicast_groups, 1);
    /// # }
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn multicast_groups(mut self, groups: u32) -> Self {
        self.multicast_groups = groups;
        self
    }
    /// How long the connect waits (default forever; beyond IOLib's `make-socket`).
    ///
    /// See [`MakeSocket`] for an example.
    pub fn connect_timeout(mut self, wait: impl Into<Wait>) -> Self {
        self.wait = wait.into();
        self
    }

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
    /// See [`make_socket`] for an example.
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
    /// See [`make_socket`] for an example.
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
