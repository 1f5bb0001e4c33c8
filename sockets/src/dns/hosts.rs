//! `/etc/hosts` as [`HostsFile`]: entries of an address, a canonical name and aliases, looked
//! up by name (IOLib's hosts database) and by address (for reverse lookups).

use crate::address::Address;
use crate::address_text::ensure_address;
use crate::keywords::Ipv6Mode;

/// One line of a hosts file.
///
/// See [`HostsFile`] for an example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostsEntry {
    /// The address.
    pub address: Address,
    /// The first name: the canonical one.
    pub canonical_name: String,
    /// The other names.
    pub aliases: Vec<String>,
}

/// The parsed hosts file.
///
/// ```
/// use sockets::dns::HostsFile;
/// use sockets::{ensure_address, Ipv6Mode};
///
/// let hosts = HostsFile::parse("# comment\n192.0.2.7 printer printer.lan\n2001:db8::7 printer\n");
/// let found = hosts.lookup_name("PRINTER.", Ipv6Mode::Yes).expect("listed");
/// assert_eq!(found.addresses.len(), 2);
/// assert_eq!(found.aliases, ["printer.lan"]);
/// let entry = hosts.lookup_address(&ensure_address("192.0.2.7")?).expect("listed");
/// assert_eq!(entry.canonical_name, "printer");
/// # Ok::<(), sockets::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostsFile {
    /// The entries, in file order.
    pub entries: Vec<HostsEntry>,
}

/// What a hosts file says about a name: its addresses (file order), canonical name and
/// aliases.
///
/// See [`HostsFile`] for an example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostsMatch {
    /// The addresses of every line naming the host, without duplicates.
    pub addresses: Vec<Address>,
    /// The first name of the first matching line.
    pub canonical_name: String,
    /// All other names of the matching lines.
    pub aliases: Vec<String>,
}

impl HostsFile {
    /// Parses hosts-file text: `ADDRESS NAME [ALIAS...]` per line, `#` comments. Lines whose
    /// address does not parse are skipped.
    ///
    /// See [`HostsFile`] for an example.
    pub fn parse(text: &str) -> HostsFile {
        let entries = text
            .lines()
            .filter_map(|line| {
                let line = line.split('#').next().unwrap_or("");
                let mut fields = line.split_whitespace();
                let address = ensure_address(fields.next()?).ok()?;
                let canonical_name = fields.next()?.to_string();
                Some(HostsEntry {
                    address,
                    canonical_name,
                    aliases: fields.map(str::to_string).collect(),
                })
            })
            .collect();
        HostsFile { entries }
    }

    /// Looks `name` up (case-insensitively, a trailing dot ignored), keeping the addresses
    /// `ipv6` allows: IPv4 only for [`Ipv6Mode::No`], IPv6 only for [`Ipv6Mode::Only`], both
    /// for [`Ipv6Mode::Yes`]. `None` when no line names the host with such an address.
    ///
    /// See [`HostsFile`] for an example.
    pub fn lookup_name(&self, name: &str, ipv6: Ipv6Mode) -> Option<HostsMatch> {
        let name = name.strip_suffix('.').unwrap_or(name);
        let mut found: Option<HostsMatch> = None;
        for e in &self.entries {
            let names = std::iter::once(&e.canonical_name).chain(&e.aliases);
            if !names.clone().any(|n| n.eq_ignore_ascii_case(name)) {
                continue;
            }
            let wanted = !matches!(
                (&e.address, ipv6),
                (Address::Ipv4(_), Ipv6Mode::Only)
                    | (Address::Ipv6(_), Ipv6Mode::No)
                    | (Address::Local(_), _)
            );
            if !wanted {
                continue;
            }
            let m = found.get_or_insert_with(|| HostsMatch {
                addresses: Vec::new(),
                canonical_name: e.canonical_name.clone(),
                aliases: Vec::new(),
            });
            if !m.addresses.contains(&e.address) {
                m.addresses.push(e.address.clone());
            }
            for n in names {
                if *n != m.canonical_name && !m.aliases.contains(n) {
                    m.aliases.push(n.clone());
                }
            }
        }
        found
    }

    /// The first entry for `address` (an IPv4-mapped IPv6 address matches its IPv4 form).
    ///
    /// See [`HostsFile`] for an example.
    pub fn lookup_address(&self, address: &Address) -> Option<&HostsEntry> {
        self.entries
            .iter()
            .find(|e| crate::address::address_equal(&e.address, address))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{IPV4_LOOPBACK, IPV6_LOOPBACK};

    const TEXT: &str = "# comment\n127.0.0.1 localhost loopy\n::1 localhost ip6-localhost\n\
                        10.0.0.1 other # trailing\nbogus line\n10.0.0.2\n10.0.0.1 other.example other\n";

    #[test]
    fn by_name_with_ipv6_modes() {
        let h = HostsFile::parse(TEXT);
        assert_eq!(h.entries.len(), 4);
        let both = h.lookup_name("LOCALHOST.", Ipv6Mode::Yes).unwrap();
        assert_eq!(
            both.addresses,
            vec![Address::Ipv4(IPV4_LOOPBACK), Address::Ipv6(IPV6_LOOPBACK)]
        );
        assert_eq!(both.canonical_name, "localhost");
        assert_eq!(both.aliases, vec!["loopy", "ip6-localhost"]);
        let v4 = h.lookup_name("localhost", Ipv6Mode::No).unwrap();
        assert_eq!(v4.addresses, vec![Address::Ipv4(IPV4_LOOPBACK)]);
        let v6 = h.lookup_name("localhost", Ipv6Mode::Only).unwrap();
        assert_eq!(v6.addresses, vec![Address::Ipv6(IPV6_LOOPBACK)]);
        assert!(h.lookup_name("ip6-localhost", Ipv6Mode::No).is_none());
        assert!(h.lookup_name("nothere", Ipv6Mode::Yes).is_none());
        let other = h.lookup_name("other", Ipv6Mode::Yes).unwrap();
        assert_eq!(other.addresses.len(), 1);
        assert_eq!(other.aliases, vec!["other.example"]);
    }

    #[test]
    fn by_address() {
        let h = HostsFile::parse(TEXT);
        let e = h.lookup_address(&Address::Ipv4(IPV4_LOOPBACK)).unwrap();
        assert_eq!(e.canonical_name, "localhost");
        let mapped = Address::Ipv6(IPV4_LOOPBACK.to_ipv6_mapped());
        assert_eq!(
            h.lookup_address(&mapped).unwrap().canonical_name,
            "localhost"
        );
        assert!(h
            .lookup_address(&crate::ensure_address("10.9.9.9").unwrap())
            .is_none());
    }
}
