//! IOLib's `make-socket` keywords: the types of their values ([`AddressFamily`] for
//! `:address-family`, [`Connect`], [`Ipv6Mode`], [`Protocol`], [`Host`]) and the keywords as
//! text, `.keyword(":type", ":raw")`: the table of keywords with the values each one takes,
//! mapped onto the typed [`MakeSocket`] setters.

use crate::address::{Address, LocalAddress};
use crate::base_socket::SocketKind;
use crate::builder::MakeSocket;
use crate::error::{Error, Result};
use crate::format::ExternalFormat;

/// IOLib's `:address-family`.
///
/// ```
/// use sockets::*;
///
/// let dir = std::env::temp_dir().join(format!("sockets-doc-af-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("s.sock");
/// # let _ = std::fs::remove_file(&path);
/// let server = make_socket().family(AddressFamily::Local).connect(Connect::Passive)
///     .local_filename(LocalAddress::path(&path)).build_passive()?;
/// let client = make_socket().family(AddressFamily::Local)
///     .remote_filename(LocalAddress::path(&path))
///     .build_active()?;
/// assert_eq!(client.family(), Family::Local);
/// # drop((server, client)); std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AddressFamily {
    /// `:internet`: IPv4, or IPv6 with [`MakeSocket::ipv6`].
    #[default]
    Internet,
    /// `:local` (or `:file`): Unix domain.
    Local,
    /// `:ipv4`: IPv4, whatever [`MakeSocket::ipv6`] says.
    Ipv4,
    /// `:ipv6`: IPv6 (dual-stack unless [`MakeSocket::ipv6`] is [`Ipv6Mode::Only`]).
    Ipv6,
    /// `:netlink`: a Linux netlink socket, a [`RawSocket`](crate::RawSocket); its `:protocol` is a
    /// `NETLINK_*`
    /// number (or `"route"`, `"kobject-uevent"`, `"generic"`).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    Netlink,
}

/// IOLib's `:protocol`: a number, or a name looked up in `/etc/protocols`
/// ([`lookup_protocol`](crate::lookup_protocol)) when the socket is made.
///
/// ```no_run
/// // Raw sockets need root or CAP_NET_RAW, so this is only compiled.
/// use sockets::*;
///
/// let icmp = make_socket().kind(SocketKind::Raw).protocol("icmp").build_raw()?;
/// # Ok::<(), sockets::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Protocol {
    /// A protocol number (`IPPROTO_*`, or `NETLINK_*` on a netlink socket).
    Number(i32),
    /// A name such as `"icmp"` or `"ipv6-icmp"`.
    Name(String),
}

impl From<i32> for Protocol {
    fn from(n: i32) -> Self {
        Protocol::Number(n)
    }
}
impl From<&str> for Protocol {
    fn from(s: &str) -> Self {
        match s.trim_start_matches(':').parse() {
            Ok(n) => Protocol::Number(n),
            Err(_) => Protocol::Name(s.trim_start_matches(':').to_ascii_lowercase()),
        }
    }
}
impl From<String> for Protocol {
    fn from(s: String) -> Self {
        Protocol::from(s.as_str())
    }
}

/// IOLib's `:connect`.
///
/// ```
/// use sockets::*;
///
/// let server = make_socket().connect(Connect::Passive).local_host("127.0.0.1").build_passive()?;
/// let client = make_socket().connect(Connect::Active) // the default
///     .remote_host("127.0.0.1").remote_port(server.local_port()?).build_active()?;
/// # drop(client);
/// # Ok::<(), sockets::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Connect {
    /// `:active`: a client socket.
    #[default]
    Active,
    /// `:passive`: a listening socket.
    Passive,
}

/// IOLib's `:ipv6`.
///
/// ```
/// use sockets::*;
///
/// // A dual-stack listener; skipped where the host has no IPv6.
/// if let Ok(server) = make_socket().ipv6(Ipv6Mode::Yes).connect(Connect::Passive)
///     .local_host("::").local_port(0).build_passive()
/// {
///     assert_eq!(server.family(), Family::Ipv6);
/// }
/// let v4 = make_socket().ipv6(Ipv6Mode::No).local_host("127.0.0.1").kind(SocketKind::Datagram)
///     .build_datagram()?;
/// assert_eq!(v4.family(), Family::Ipv4);
/// # Ok::<(), sockets::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ipv6Mode {
    /// IPv4 only (`:ipv6 nil`).
    #[default]
    No,
    /// Dual-stack IPv6 (`:ipv6 t`): accepts IPv4 peers as mapped addresses.
    Yes,
    /// IPv6 only (`:ipv6 :ipv6`).
    Only,
}

/// A host given to the builder: a name to resolve or an address.
///
/// ```
/// use sockets::*;
///
/// let by_name = make_socket().kind(SocketKind::Datagram).local_host("localhost")
///     .build_datagram()?;
/// let by_address = make_socket().kind(SocketKind::Datagram).local_host(IPV4_LOOPBACK)
///     .build_datagram()?;
/// assert_eq!(by_name.local_host()?, by_address.local_host()?);
/// # Ok::<(), sockets::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// A name or textual address, resolved when the socket is made.
    Name(String),
    /// An address.
    Address(Address),
}

impl From<&str> for Host {
    fn from(s: &str) -> Self {
        Host::Name(s.to_string())
    }
}
impl From<String> for Host {
    fn from(s: String) -> Self {
        Host::Name(s)
    }
}
impl From<Address> for Host {
    fn from(a: Address) -> Self {
        Host::Address(a)
    }
}
impl From<crate::Ipv4Address> for Host {
    fn from(a: crate::Ipv4Address) -> Self {
        Host::Address(Address::Ipv4(a))
    }
}
impl From<std::net::IpAddr> for Host {
    fn from(a: std::net::IpAddr) -> Self {
        Host::Address(a.into())
    }
}

fn parse_bool(v: &str) -> Result<bool> {
    match v.to_ascii_lowercase().as_str() {
        "t" | "true" | "yes" | "1" => Ok(true),
        "nil" | "false" | "no" | "0" => Ok(false),
        _ => Err(Error::InvalidArgument(format!("{v:?} is not a boolean"))),
    }
}

fn parse_num<T: std::str::FromStr>(k: &str, v: &str) -> Result<T> {
    v.parse()
        .map_err(|_| Error::InvalidArgument(format!("{k}: {v:?} is not a valid number")))
}

impl MakeSocket {
    /// Applies one IOLib keyword given as text, as a port of `(make-socket :key value ...)`
    /// would: `"address-family"`, `"type"`, `"connect"`, `"external-format"`, `"ipv6"`,
    /// `"local-host"`, `"local-port"`, `"remote-host"`, `"remote-port"`, `"local-filename"`,
    /// `"remote-filename"`, `"reuse-address"`, `"backlog"`, `"nodelay"`, `"keepalive"`,
    /// `"input-buffer-size"`, `"output-buffer-size"`, `"protocol"`, `"include-headers"`,
    /// `"multicast-groups"` (a leading `:` is allowed).
    ///
    /// # Errors
    /// An unknown keyword or a bad value is [`Error::InvalidArgument`].
    ///
    /// # Examples
    ///
    /// ```
    /// use sockets::*;
    ///
    /// let udp = make_socket()
    ///     .keyword(":type", ":datagram")?
    ///     .keyword(":local-host", "127.0.0.1")?
    ///     .build_datagram()?;
    /// assert_eq!(udp.kind(), SocketKind::Datagram);
    /// assert!(make_socket().keyword(":colour", ":blue").is_err());
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn keyword(self, key: &str, value: &str) -> Result<Self> {
        let k = key.trim_start_matches(':').to_ascii_lowercase();
        let v = value.trim_start_matches(':');
        let bad = || Error::InvalidArgument(format!(":{k} does not take {value:?}"));
        Ok(match k.as_str() {
            "address-family" => self.family(match v {
                "internet" => AddressFamily::Internet,
                "local" | "file" => AddressFamily::Local,
                "ipv4" => AddressFamily::Ipv4,
                "ipv6" => AddressFamily::Ipv6,
                #[cfg(any(target_os = "linux", target_os = "android"))]
                "netlink" => AddressFamily::Netlink,
                _ => return Err(bad()),
            }),
            "type" => self.kind(match v {
                "stream" => SocketKind::Stream,
                "datagram" => SocketKind::Datagram,
                "raw" => SocketKind::Raw,
                _ => return Err(bad()),
            }),
            "connect" => self.connect(match v {
                "active" => Connect::Active,
                "passive" => Connect::Passive,
                _ => return Err(bad()),
            }),
            "external-format" => self.external_format(ExternalFormat::parse(v)?),
            "ipv6" => self.ipv6(match v {
                "ipv6" => Ipv6Mode::Only,
                other => {
                    if parse_bool(other)? {
                        Ipv6Mode::Yes
                    } else {
                        Ipv6Mode::No
                    }
                }
            }),
            "local-host" => self.local_host(v),
            "local-port" => self.local_port(parse_num(&k, v)?),
            "remote-host" => self.remote_host(v),
            "remote-port" => self.remote_port(parse_num(&k, v)?),
            "local-filename" => self.local_filename(LocalAddress::path(v)),
            "remote-filename" => self.remote_filename(LocalAddress::path(v)),
            "reuse-address" => self.reuse_address(parse_bool(v)?),
            "backlog" => self.backlog(parse_num(&k, v)?),
            "nodelay" => self.nodelay(parse_bool(v)?),
            "keepalive" => self.keepalive(parse_bool(v)?),
            "input-buffer-size" => self.input_buffer_size(parse_num(&k, v)?),
            "output-buffer-size" => self.output_buffer_size(parse_num(&k, v)?),
            "protocol" => self.protocol(v),
            "include-headers" => self.include_headers(parse_bool(v)?),
            "multicast-groups" => self.multicast_groups(parse_num(&k, v)?),
            _ => {
                return Err(Error::InvalidArgument(format!(
                    "unknown make-socket keyword :{k}"
                )))
            }
        })
    }

    /// Applies several keywords (see [`keyword`](Self::keyword)).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for the first unknown keyword or bad value.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockets::*;
    ///
    /// let server = make_socket()
    ///     .keywords([(":connect", ":passive"), (":local-host", "127.0.0.1"), (":backlog", "64")])?
    ///     .build_passive()?;
    /// assert_ne!(server.local_port()?, 0);
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn keywords<'a>(
        mut self,
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self> {
        for (k, v) in pairs {
            self = self.keyword(k, v)?;
        }
        Ok(self)
    }
}
