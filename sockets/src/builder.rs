//! `make_socket`: IOLib's `make-socket` as a builder taking the same keywords. This file owns
//! the `MakeSocket` description, its defaults and its keyword setters; `builder/build.rs`
//! turns a description into a socket.

use crate::address::LocalAddress;
use crate::base_socket::SocketKind;
use crate::buffer::StreamSettings;
use crate::format::ExternalFormat;
use crate::keywords::{AddressFamily, Connect, Host, Ipv6Mode, Protocol};
use crate::passive::DEFAULT_BACKLOG;
use crate::wait::Wait;

mod build;

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
}
