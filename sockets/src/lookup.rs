//! Name lookups (IOLib's `lookup-hostname` and its `namedb/`): host names through
//! `/etc/hosts` then the system resolver, services in `/etc/services`, protocols in
//! `/etc/protocols`, and the names of the network interfaces.

use crate::address::{ensure_address, Address};
use crate::error::{Error, Result};

/// What [`lookup_hostname`] found.
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
    pub fn first_ipv4(&self) -> Option<Address> {
        std::iter::once(&self.address)
            .chain(&self.other_addresses)
            .find(|a| matches!(a, Address::Ipv4(_)))
            .cloned()
    }
}

fn lookup_in_hosts(text: &str, name: &str) -> Option<HostLookup> {
    let mut addrs = Vec::new();
    let mut canonical = None;
    let mut aliases = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        let mut fields = line.split_whitespace();
        let (Some(addr), names) = (fields.next(), fields) else {
            continue;
        };
        let names: Vec<&str> = names.collect();
        if !names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            continue;
        }
        let Ok(a) = ensure_address(addr) else {
            continue;
        };
        if !addrs.contains(&a) {
            addrs.push(a);
        }
        if canonical.is_none() {
            canonical = Some(names[0].to_string());
        }
        for n in names {
            if Some(n) != canonical.as_deref() && !aliases.iter().any(|x: &String| x == n) {
                aliases.push(n.to_string());
            }
        }
    }
    build_lookup(addrs, canonical?, aliases)
}

fn build_lookup(
    mut addrs: Vec<Address>,
    canonical_name: String,
    aliases: Vec<String>,
) -> Option<HostLookup> {
    // IPv4 first, as IOLib's lookup-hostname returns the main address.
    addrs.sort_by_key(|a| !matches!(a, Address::Ipv4(_)));
    let mut it = addrs.into_iter();
    Some(HostLookup {
        address: it.next()?,
        other_addresses: it.collect(),
        canonical_name,
        aliases,
    })
}

/// Resolves a host name (IOLib's `lookup-hostname`): an address literal is returned as is,
/// then `/etc/hosts` is consulted, then the system resolver (`getaddrinfo`).
pub fn lookup_hostname(name: &str) -> Result<HostLookup> {
    if let Ok(a) = ensure_address(name) {
        return Ok(HostLookup {
            address: a,
            other_addresses: vec![],
            canonical_name: name.to_string(),
            aliases: vec![],
        });
    }
    if name.is_empty() || name.contains('\0') {
        return Err(Error::Resolver {
            name: name.to_string(),
            message: "empty or NUL-containing host name".into(),
        });
    }
    if let Ok(text) = std::fs::read_to_string("/etc/hosts") {
        if let Some(found) = lookup_in_hosts(&text, name) {
            return Ok(found);
        }
    }
    let res = isys::getaddrinfo(
        Some(name),
        None,
        isys::libc::AF_UNSPEC,
        isys::libc::SOCK_STREAM,
        isys::libc::AI_CANONNAME,
    )
    .map_err(|e| Error::Resolver {
        name: name.to_string(),
        message: e.message,
    })?;
    let canonical = res
        .iter()
        .find_map(|r| r.canonname.clone())
        .unwrap_or_else(|| name.to_string());
    let mut addrs = Vec::new();
    for r in &res {
        if let Some(sa) = r.addr.as_std() {
            let a = Address::from(sa.ip());
            if !addrs.contains(&a) {
                addrs.push(a);
            }
        }
    }
    build_lookup(addrs, canonical, vec![]).ok_or_else(|| Error::Resolver {
        name: name.to_string(),
        message: "no addresses".into(),
    })
}

/// A service from `/etc/services`.
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
pub fn list_network_interfaces() -> Result<Vec<(u32, String)>> {
    isys::if_nameindex().map_err(|e| Error::from_errno("if_nameindex", e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::{IPV4_LOOPBACK, IPV6_LOOPBACK};

    #[test]
    fn hosts_file_parsing() {
        let text =
            "# comment\n127.0.0.1 localhost loopy\n::1 localhost ip6-localhost\n10.0.0.1 other\n";
        let h = lookup_in_hosts(text, "localhost").unwrap();
        assert_eq!(h.address, Address::Ipv4(IPV4_LOOPBACK));
        assert_eq!(h.other_addresses, vec![Address::Ipv6(IPV6_LOOPBACK)]);
        assert_eq!(h.canonical_name, "localhost");
        assert!(h.aliases.contains(&"loopy".to_string()));
        assert_eq!(h.first_ipv4(), Some(Address::Ipv4(IPV4_LOOPBACK)));
        let v6 = lookup_in_hosts(text, "ip6-localhost").unwrap();
        assert_eq!(v6.first_ipv4(), None);
        assert!(lookup_in_hosts(text, "nothere").is_none());
    }

    #[test]
    fn services_parsing() {
        let text = "ssh 22/tcp\nhttp 80/tcp www # web\nhttp 80/udp\n";
        assert_eq!(find_service(text, "www", "tcp").unwrap().port, 80);
        assert_eq!(find_service(text, "22", "").unwrap().name, "ssh");
        assert_eq!(find_service(text, "http", "udp").unwrap().protocol, "udp");
        assert!(find_service(text, "ssh", "udp").is_none());
    }
}
