//! Name lookups (IOLib's `lookup-hostname` and its `namedb/`): [`HostLookup`] and the
//! classic `lookup_hostname` front of the resolver in [`dns`](crate::dns), services in
//! `/etc/services`, protocols in `/etc/protocols`, and the network interfaces (by name or
//! index).

use crate::address::Address;
use crate::error::{Error, Result};

/// What [`lookup_hostname`] found.
///
/// ```
/// use sockets::*;
///
/// let found = lookup_hostname("localhost")?; // from /etc/hosts
/// assert!(found.address.is_loopback());
/// # Ok::<(), sockets::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostLookup {
    /// The first address (IPv4 preferred, as IOLib does).
    pub address: Address,
    /// The other addresses.
    pub other_addresses: Vec<Address>,
    /// The canonical name.
    pub canonical_name: String,
    /// Other names of the host.
    pub aliases: Vec<String>,
}

impl HostLookup {
    /// The first IPv4 address found (the main one, then the others): what an IPv4 socket
    /// connects to.
    ///
    /// See [`lookup_hostname`] for an example.
    pub fn first_ipv4(&self) -> Option<Address> {
        std::iter::once(&self.address)
            .chain(&self.other_addresses)
            .find(|a| matches!(a, Address::Ipv4(_)))
            .cloned()
    }
}

/// Resolves a host name (IOLib's `lookup-hostname`) with the default options: an address
/// literal is reverse-resolved (hosts file, then PTR; the literal is its own name when none is
/// found), a name is looked up in `/etc/hosts`, then asked of the DNS servers of
/// `/etc/resolv.conf` for IPv4 and IPv6 addresses (IPv4 first).
///
/// Every resolver failure comes back as [`Error::Resolver`], as it always has; use
/// [`dns::lookup_hostname_with`](crate::dns::lookup_hostname_with) for IOLib's `:ipv6` and
/// `:ns` keywords and the distinct conditions ([`Error::ResolverNoName`],
/// [`Error::ResolverAgain`], [`Error::ResolverFail`], [`Error::ResolverTimeout`]).
///
/// Blocks while the DNS servers are asked: up to `resolv.conf`'s `timeout` times `attempts`
/// per server (5 s and 2 by default).
///
/// IOLib: `lookup-hostname`; see docs/PORTING.md, "Addresses and names".
///
/// # Errors
/// [`Error::Resolver`] for every resolver failure (no such name, no answer, no server).
///
/// # Examples
///
/// ```
/// use sockets::*;
///
/// let found = lookup_hostname("localhost")?;
/// assert_eq!(found.first_ipv4(), Some(Address::Ipv4(IPV4_LOOPBACK)));
/// # Ok::<(), sockets::Error>(())
/// ```
pub fn lookup_hostname(name: &str) -> Result<HostLookup> {
    crate::dns::lookup_hostname_with(name, &crate::dns::LookupOptions::default()).map_err(|e| {
        match e {
            Error::ResolverNoName { .. }
            | Error::ResolverAgain { .. }
            | Error::ResolverFail { .. }
            | Error::ResolverTimeout { .. }
            | Error::Dns(_) => Error::Resolver {
                name: name.to_string(),
                message: e.to_string(),
            },
            other => other,
        }
    })
}

/// A service from `/etc/services`.
///
/// ```
/// use sockets::*;
///
/// # if !std::path::Path::new("/etc/services").exists() { return Ok(()); } // minimal containers
/// let http = lookup_service("http", "tcp")?;
/// assert_eq!((http.port, http.protocol.as_str()), (80, "tcp"));
/// # Ok::<(), sockets::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// The official name.
    pub name: String,
    /// The port.
    pub port: u16,
    /// The protocol (`tcp`, `udp`, ...).
    pub protocol: String,
}

/// Looks up a service by name or number for `protocol` (`"tcp"`, `"udp"`, or `""` for any),
/// in `/etc/services` (IOLib's `lookup-service`).
///
/// # Errors
/// [`Error::UnknownService`] when `/etc/services` has no such service for `protocol` (or
/// cannot be read).
///
/// # Examples
///
/// ```
/// use sockets::*;
///
/// # if !std::path::Path::new("/etc/services").exists() { return Ok(()); } // minimal containers
/// assert_eq!(lookup_service("22", "tcp")?.name, "ssh");
/// assert!(matches!(lookup_service("no-such-service", ""), Err(Error::UnknownService(_))));
/// # Ok::<(), sockets::Error>(())
/// ```
pub fn lookup_service(service: &str, protocol: &str) -> Result<Service> {
    let text = std::fs::read_to_string("/etc/services").unwrap_or_default();
    find_service(&text, service, protocol).ok_or_else(|| Error::UnknownService(service.into()))
}

fn find_service(text: &str, service: &str, protocol: &str) -> Option<Service> {
    let number: Option<u16> = service.parse().ok();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        let mut f = line.split_whitespace();
        let (Some(name), Some(pp)) = (f.next(), f.next()) else {
            continue;
        };
        let Some((port, proto)) = pp.split_once('/') else {
            continue;
        };
        let Ok(port) = port.parse::<u16>() else {
            continue;
        };
        if !protocol.is_empty() && proto != protocol {
            continue;
        }
        let matches = match number {
            Some(n) => n == port,
            None => name == service || f.any(|alias| alias == service),
        };
        if matches {
            return Some(Service {
                name: name.into(),
                port,
                protocol: proto.into(),
            });
        }
    }
    None
}

/// Looks up a protocol by name or number in `/etc/protocols` (IOLib's `lookup-protocol`):
/// `(name, number)`.
///
/// # Errors
/// [`Error::UnknownProtocol`] when `/etc/protocols` has no such protocol (or cannot be read).
///
/// # Examples
///
/// ```
/// use sockets::*;
///
/// # if !std::path::Path::new("/etc/protocols").exists() { return Ok(()); } // minimal containers
/// assert_eq!(lookup_protocol("icmp")?, ("icmp".to_string(), 1));
/// assert_eq!(lookup_protocol("17")?.0, "udp");
/// # Ok::<(), sockets::Error>(())
/// ```
pub fn lookup_protocol(protocol: &str) -> Result<(String, i32)> {
    let text = std::fs::read_to_string("/etc/protocols").unwrap_or_default();
    let number: Option<i32> = protocol.parse().ok();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        let mut f = line.split_whitespace();
        let (Some(name), Some(num)) = (f.next(), f.next()) else {
            continue;
        };
        let Ok(num) = num.parse::<i32>() else {
            continue;
        };
        let hit = match number {
            Some(n) => n == num,
            None => name == protocol || f.any(|a| a.eq_ignore_ascii_case(protocol)),
        };
        if hit {
            return Ok((name.to_string(), num));
        }
    }
    Err(Error::UnknownProtocol(protocol.into()))
}

/// Every network interface as `(index, name)` (IOLib's `list-network-interfaces`).
///
/// # Errors
/// The `if_nameindex(3)` failure (`ENOBUFS`, rare).
///
/// # Examples
///
/// ```
/// use sockets::*;
///
/// let interfaces = list_network_interfaces()?;
/// assert!(interfaces.iter().any(|(_, name)| name == "lo" || name == "lo0"));
/// # Ok::<(), sockets::Error>(())
/// ```
pub fn list_network_interfaces() -> Result<Vec<(u32, String)>> {
    isys::if_nameindex().map_err(|e| Error::from_errno("if_nameindex", e))
}

/// Finds a network interface by name (`"lo"`) or by index (`"1"`, or a number given as
/// text) and returns both as `(name, index)` (IOLib's `lookup-interface`).
///
/// # Errors
/// [`Error::InvalidArgument`] naming the interface when there is none by that name or index.
///
/// # Examples
///
/// ```
/// use sockets::*;
///
/// let lo = if cfg!(target_os = "linux") { "lo" } else { "lo0" };
/// let (name, index) = lookup_interface(lo)?;
/// assert_eq!(lookup_interface(&index.to_string())?, (name, index));
/// assert!(lookup_interface("no-such-interface").is_err());
/// # Ok::<(), sockets::Error>(())
/// ```
pub fn lookup_interface(name_or_index: &str) -> Result<(String, u32)> {
    let missing = || Error::InvalidArgument(format!("no network interface {name_or_index:?}"));
    match name_or_index.parse::<u32>() {
        Ok(index) => isys::if_indextoname(index)
            .map(|name| (name, index))
            .map_err(|_| missing()),
        Err(_) => match isys::if_nametoindex(name_or_index) {
            Ok(index) if index != 0 => Ok((name_or_index.to_string(), index)),
            _ => Err(missing()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_parsing() {
        let text = "ssh 22/tcp\nhttp 80/tcp www # web\nhttp 80/udp\n";
        assert_eq!(find_service(text, "www", "tcp").unwrap().port, 80);
        assert_eq!(find_service(text, "22", "").unwrap().name, "ssh");
        assert_eq!(find_service(text, "http", "udp").unwrap().protocol, "udp");
        assert!(find_service(text, "ssh", "udp").is_none());
    }
}
