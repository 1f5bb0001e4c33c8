//! IOLib's `make-socket` keywords as text: `.keyword(":type", ":raw")` and the table of
//! keywords (`:address-family`, `:type`, `:connect`, ...) with the values each one takes,
//! mapped onto the typed [`MakeSocket`] setters.

use crate::address::LocalAddress;
use crate::base_socket::SocketKind;
use crate::builder::{AddressFamily, Connect, Ipv6Mode, MakeSocket};
use crate::error::{Error, Result};
use crate::format::ExternalFormat;

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
