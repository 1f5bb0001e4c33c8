//! IOLib's `lookup-hostname` on the resolver: address literals reverse-resolved (hosts file,
//! then PTR), names from the hosts file, then from DNS (A and/or AAAA by IOLib's `:ipv6`
//! modes, following CNAME chains), with `:ns` to pick the servers; the special names of
//! RFC 6761 (`localhost`, `.invalid`) answered without asking anyone.

use super::hosts::HostsMatch;
use super::plan::reverse_name;
use super::query::Response;
use super::record::{RecordData, RecordType};
use super::resolver::{default_resolver, QueryOptions, Resolver};
use crate::address::{Address, IPV4_LOOPBACK, IPV6_LOOPBACK};
use crate::address_text::ensure_address;
use crate::error::{Error, Result};
use crate::keywords::Ipv6Mode;
use crate::lookup::HostLookup;
use std::net::SocketAddr;

/// `lookup-hostname`'s keywords.
///
/// ```
/// use sockets::dns::*;
/// use sockets::Ipv6Mode;
///
/// // IOLib: (lookup-hostname host :ipv6 nil :ns '("10.0.0.1"))
/// let options = LookupOptions::new().ipv6(Ipv6Mode::No).ns(parse_nameservers(&["10.0.0.1"])?);
/// # drop(options);
/// # Ok::<(), sockets::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LookupOptions {
    /// IOLib's `:ipv6`: [`Ipv6Mode::No`] IPv4 only (`nil`), [`Ipv6Mode::Only`] IPv6 only
    /// (`:ipv6`), [`Ipv6Mode::Yes`] both (`t`). The default here is both, IPv4 first.
    pub ipv6: Option<Ipv6Mode>,
    /// IOLib's `:ns`: the servers to ask.
    pub ns: Option<Vec<SocketAddr>>,
    /// Other query options (timeout, rounds, search, TCP).
    pub query: QueryOptions,
}

impl LookupOptions {
    /// Default options: both families, the configured servers.
    ///
    /// See [`LookupOptions`] for an example.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets IOLib's `:ipv6`.
    ///
    /// See [`LookupOptions`] for an example.
    pub fn ipv6(mut self, mode: Ipv6Mode) -> Self {
        self.ipv6 = Some(mode);
        self
    }

    /// Sets IOLib's `:ns`.
    ///
    /// See [`LookupOptions`] for an example.
    pub fn ns(mut self, servers: impl IntoIterator<Item = SocketAddr>) -> Self {
        self.ns = Some(servers.into_iter().collect());
        self
    }

    /// Sets the other query options.
    ///
    /// ```
    /// use sockets::dns::*;
    /// use std::time::Duration;
    ///
    /// let query = QueryOptions::new().timeout(Duration::from_secs(1));
    /// let options = LookupOptions::new().query(query);
    /// # drop(options);
    /// ```
    pub fn query(mut self, options: QueryOptions) -> Self {
        self.query = options;
        self
    }

    fn mode(&self) -> Ipv6Mode {
        self.ipv6.unwrap_or(Ipv6Mode::Yes)
    }

    fn query_options(&self) -> QueryOptions {
        let mut q = self.query.clone();
        if let Some(ns) = &self.ns {
            q.nameservers = Some(ns.clone());
        }
        q
    }
}

/// Whether `name` is under the `invalid` top-level domain (RFC 6761 §6.4).
fn is_invalid_name(name: &str) -> bool {
    let n = name.trim_end_matches('.').to_ascii_lowercase();
    n == "invalid" || n.ends_with(".invalid")
}

/// Whether `name` is `localhost` or under it (RFC 6761 §6.3).
fn is_localhost_name(name: &str) -> bool {
    let n = name.trim_end_matches('.').to_ascii_lowercase();
    n == "localhost" || n.ends_with(".localhost")
}

/// Builds the result from addresses (IPv4 first, as IOLib's main address is).
fn host_lookup(
    mut addrs: Vec<Address>,
    canonical: String,
    aliases: Vec<String>,
    name: &str,
) -> Result<HostLookup> {
    addrs.sort_by_key(|a| !matches!(a, Address::Ipv4(_)));
    let mut it = addrs.into_iter();
    let address = it.next().ok_or_else(|| Error::ResolverNoName {
        name: name.to_string(),
    })?;
    Ok(HostLookup {
        address,
        other_addresses: it.collect(),
        canonical_name: canonical,
        aliases,
    })
}

impl From<HostsMatch> for HostLookup {
    fn from(m: HostsMatch) -> HostLookup {
        let mut it = m.addresses.into_iter();
        let address = it.next().unwrap_or(Address::Ipv4(IPV4_LOOPBACK));
        HostLookup {
            address,
            other_addresses: it.collect(),
            canonical_name: m.canonical_name,
            aliases: m.aliases,
        }
    }
}

/// Follows the CNAME chain from the response's name through its answers; returns the
/// canonical name, the aliases on the way, and the addresses of the canonical name.
fn addresses_of(r: &Response) -> (String, Vec<String>, Vec<Address>) {
    let mut canonical = r.name.clone();
    let mut aliases: Vec<String> = Vec::new();
    // At most one hop per answer: a CNAME loop in the answer cannot spin.
    for _ in 0..r.answers().len() {
        let next = r.answers().iter().find_map(|rr| match &rr.data {
            RecordData::Cname(t) if super::name::names_equal(&rr.name, &canonical) => Some(t),
            _ => None,
        });
        match next {
            Some(t) if !aliases.iter().any(|a| super::name::names_equal(a, t)) => {
                aliases.push(std::mem::replace(&mut canonical, t.clone()));
            }
            _ => break,
        }
    }
    let addrs = r
        .answers()
        .iter()
        .filter(|rr| super::name::names_equal(&rr.name, &canonical))
        .filter_map(|rr| match &rr.data {
            RecordData::A(a) => Some(Address::Ipv4(*a)),
            RecordData::Aaaa(a) => Some(Address::Ipv6(*a)),
            _ => None,
        })
        .collect();
    (canonical, aliases, addrs)
}

impl Resolver {
    /// IOLib's `lookup-hostname`: the address, other addresses, canonical name and aliases
    /// of `name`.
    ///
    /// An address literal is reverse-resolved ([`lookup_address`](Self::lookup_address)); if
    /// that finds no name, the literal itself is the canonical name. A name is looked up in
    /// the hosts file, then asked of DNS (A, AAAA or both per `ipv6`).
    ///
    /// # Errors
    /// [`Error::ResolverNoName`] when the name does not exist or has no address of the
    /// families asked for; [`Error::ResolverAgain`], [`Error::ResolverFail`],
    /// [`Error::ResolverTimeout`] as from [`Resolver::query`].
    ///
    /// Blocks as [`Resolver::query`] does when the name is not in the hosts file.
    ///
    /// # Examples
    ///
    /// See [`Resolver`].
    pub fn lookup_hostname(&self, name: &str, options: &LookupOptions) -> Result<HostLookup> {
        if let Ok(address) = ensure_address(name) {
            return Ok(self
                .lookup_address(&address, options)
                .unwrap_or(HostLookup {
                    address,
                    other_addresses: Vec::new(),
                    canonical_name: name.to_string(),
                    aliases: Vec::new(),
                }));
        }
        if name.is_empty() || name.contains('\0') {
            return Err(Error::ResolverFail {
                name: name.to_string(),
                message: "empty or NUL-containing host name".into(),
            });
        }
        if is_invalid_name(name) {
            return Err(Error::ResolverNoName {
                name: name.to_string(),
            });
        }
        let mode = options.mode();
        if let Some(m) = self.hosts().lookup_name(name, mode) {
            return Ok(m.into());
        }
        if is_localhost_name(name) {
            let addrs = match mode {
                Ipv6Mode::No => vec![Address::Ipv4(IPV4_LOOPBACK)],
                Ipv6Mode::Only => vec![Address::Ipv6(IPV6_LOOPBACK)],
                Ipv6Mode::Yes => vec![Address::Ipv4(IPV4_LOOPBACK), Address::Ipv6(IPV6_LOOPBACK)],
            };
            return host_lookup(addrs, name.trim_end_matches('.').to_string(), vec![], name);
        }
        let types: &[RecordType] = match mode {
            Ipv6Mode::No => &[RecordType::A],
            Ipv6Mode::Only => &[RecordType::AAAA],
            Ipv6Mode::Yes => &[RecordType::A, RecordType::AAAA],
        };
        let q = options.query_options();
        let (mut canonical, mut aliases, mut addrs) = (None, Vec::new(), Vec::new());
        let mut first_error = None;
        for &t in types {
            match self.query(name, t, &q) {
                Ok(r) => {
                    let (c, al, ad) = addresses_of(&r);
                    canonical.get_or_insert(c);
                    for a in al {
                        if !aliases.contains(&a) {
                            aliases.push(a);
                        }
                    }
                    addrs.extend(ad);
                }
                // The name does not exist: asking for another type will not change that.
                Err(e @ Error::ResolverNoName { .. }) => return Err(e),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        if addrs.is_empty() {
            if let Some(e) = first_error {
                return Err(e);
            }
        }
        host_lookup(
            addrs,
            canonical.unwrap_or_else(|| name.to_string()),
            aliases,
            name,
        )
    }

    /// The reverse lookup of an address (IOLib's `lookup-hostname` on an address): the hosts
    /// file's name for it, else the PTR records of its `in-addr.arpa`/`ip6.arpa` name (the
    /// first is the canonical name, the others aliases).
    ///
    /// Blocks as [`Resolver::query`] does when the address is not in the hosts file.
    ///
    /// # Errors
    /// [`Error::ResolverNoName`] when no name is known; the other resolver errors as from
    /// [`Resolver::query`].
    ///
    /// # Examples
    ///
    /// ```
    /// use sockets::dns::*;
    ///
    /// let dir = std::env::temp_dir().join(format!("lookup-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// std::fs::write(dir.join("hosts"), "192.0.2.7 printer printer.lan\n")?;
    /// let resolver = Resolver::new(dir.join("resolv.conf"), dir.join("hosts"));
    /// let found = resolver
    ///     .lookup_address(&sockets::ensure_address("192.0.2.7")?, &LookupOptions::new())?;
    /// assert_eq!(found.canonical_name, "printer");
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn lookup_address(&self, address: &Address, options: &LookupOptions) -> Result<HostLookup> {
        if let Some(e) = self.hosts().lookup_address(address) {
            return Ok(HostLookup {
                address: address.clone(),
                other_addresses: Vec::new(),
                canonical_name: e.canonical_name.clone(),
                aliases: e.aliases.clone(),
            });
        }
        let no_name = || Error::ResolverNoName {
            name: address.to_string(),
        };
        let ptr = reverse_name(address).ok_or_else(no_name)?;
        let q = options.query_options().search(Vec::<String>::new());
        let r = self.query(&ptr, RecordType::PTR, &q)?;
        let mut names = r.answers().iter().filter_map(|rr| match &rr.data {
            RecordData::Ptr(n) => Some(n.clone()),
            _ => None,
        });
        let canonical_name = names.next().ok_or_else(no_name)?;
        Ok(HostLookup {
            address: address.clone(),
            other_addresses: Vec::new(),
            canonical_name,
            aliases: names.collect(),
        })
    }
}

/// IOLib's `lookup-hostname` with its keywords, on the default resolver.
///
/// Blocks as [`Resolver::query`] does when the name is not in the hosts file.
///
/// IOLib: `lookup-hostname`; see docs/PORTING.md, "Addresses and names".
///
/// # Errors
/// As [`Resolver::lookup_hostname`].
///
/// # Examples
///
/// ```
/// use sockets::dns::*;
/// use sockets::Ipv6Mode;
///
/// let found = lookup_hostname_with("localhost", &LookupOptions::new().ipv6(Ipv6Mode::No))?;
/// assert!(found.address.is_loopback());
/// # Ok::<(), sockets::Error>(())
/// ```
pub fn lookup_hostname_with(name: &str, options: &LookupOptions) -> Result<HostLookup> {
    default_resolver().lookup_hostname(name, options)
}

/// The reverse lookup of `address` on the default resolver.
///
/// Blocks as [`Resolver::query`] does when the address is not in the hosts file.
///
/// # Errors
/// As [`Resolver::lookup_address`].
///
/// # Examples
///
/// ```
/// use sockets::*;
///
/// let found = dns::lookup_address(&Address::Ipv4(IPV4_LOOPBACK))?; // from /etc/hosts
/// assert!(!found.canonical_name.is_empty());
/// # Ok::<(), sockets::Error>(())
/// ```
pub fn lookup_address(address: &Address) -> Result<HostLookup> {
    default_resolver().lookup_address(address, &LookupOptions::default())
}
