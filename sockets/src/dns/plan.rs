//! What one query will do, worked out before the first packet: the names to try (the search
//! list applied as glibc applies it, with `ndots`), the servers in order, the rounds, the
//! per-try timeout and the transport; and the reverse-lookup name of an address.

use super::name::parse_name;
use super::record::RecordType;
use crate::address::Address;
use crate::error::Result;
use std::net::SocketAddr;
use std::time::Duration;

/// A query's fixed plan (the options merged with `resolv.conf`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    /// The name the caller asked for, for errors.
    pub(crate) asked: String,
    /// The names to try, in order.
    pub(crate) names: Vec<String>,
    pub(crate) qtype: RecordType,
    pub(crate) servers: Vec<SocketAddr>,
    pub(crate) attempts: u32,
    pub(crate) timeout: Duration,
    pub(crate) tcp: bool,
    pub(crate) edns: bool,
    /// Start at a random server (`options rotate`).
    pub(crate) rotate: bool,
}

/// The names to try for `name` (glibc's `res_nsearch`): a name ending in a dot only as is;
/// else, with at least `ndots` dots, as is first and then with each search domain; with fewer,
/// with each search domain first and as is last.
///
/// # Errors
/// [`Error::Dns`](crate::Error::Dns) if `name` is not a valid domain name.
pub(crate) fn candidate_names(name: &str, search: &[String], ndots: u32) -> Result<Vec<String>> {
    let labels = parse_name(name)?;
    if name.ends_with('.') && !name.ends_with("\\.") || labels.is_empty() {
        return Ok(vec![name.trim_end_matches('.').to_string()]);
    }
    let dots = name.matches('.').count() as u32;
    let mut out = Vec::new();
    if dots >= ndots {
        out.push(name.to_string());
    }
    for domain in search {
        let full = format!("{name}.{domain}");
        // A search domain that makes the name too long or invalid is skipped.
        if parse_name(&full).is_ok() && !out.contains(&full) {
            out.push(full);
        }
    }
    if dots < ndots {
        out.push(name.to_string());
    }
    Ok(out)
}

/// The PTR name of an address: `4.3.2.1.in-addr.arpa` for 1.2.3.4, nibbles under `ip6.arpa`
/// for IPv6 (an IPv4-mapped address uses its IPv4 form). `None` for local addresses.
///
/// ```
/// use sockets::dns::reverse_name;
/// use sockets::ensure_address;
///
/// assert_eq!(reverse_name(&ensure_address("192.0.2.1")?).as_deref(),
///     Some("1.2.0.192.in-addr.arpa"));
/// # Ok::<(), sockets::Error>(())
/// ```
pub fn reverse_name(address: &Address) -> Option<String> {
    match address {
        Address::Ipv4(a) => {
            let [x, y, z, w] = a.0;
            Some(format!("{w}.{z}.{y}.{x}.in-addr.arpa"))
        }
        Address::Ipv6(a) => match a.to_ipv4() {
            Some(v4) => reverse_name(&Address::Ipv4(v4)),
            None => {
                let mut s = String::new();
                for word in a.0.iter().rev() {
                    for shift in [0, 4, 8, 12] {
                        s.push_str(&format!("{:x}.", (word >> shift) & 0xf));
                    }
                }
                s.push_str("ip6.arpa");
                Some(s)
            }
        },
        Address::Local(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search() -> Vec<String> {
        vec!["a.example".into(), "b.example".into()]
    }

    #[test]
    fn search_order_follows_ndots() {
        assert_eq!(
            candidate_names("www", &search(), 1).unwrap(),
            vec!["www.a.example", "www.b.example", "www"]
        );
        assert_eq!(
            candidate_names("www.x", &search(), 1).unwrap(),
            vec!["www.x", "www.x.a.example", "www.x.b.example"]
        );
        assert_eq!(
            candidate_names("www.x", &search(), 2).unwrap(),
            vec!["www.x.a.example", "www.x.b.example", "www.x"]
        );
        assert_eq!(
            candidate_names("www.x.", &search(), 1).unwrap(),
            vec!["www.x"]
        );
        assert_eq!(candidate_names("www", &[], 1).unwrap(), vec!["www"]);
        assert!(candidate_names("a..b", &search(), 1).is_err());
        let long = vec!["x".repeat(62); 4].join(".");
        assert_eq!(
            candidate_names(&long, &search(), 1).unwrap(),
            vec![long.clone()]
        );
    }

    #[test]
    fn reverse_names() {
        let a = crate::ensure_address("192.0.2.1").unwrap();
        assert_eq!(reverse_name(&a).unwrap(), "1.2.0.192.in-addr.arpa");
        let b = crate::ensure_address("2001:db8::567:89ab").unwrap();
        assert_eq!(
            reverse_name(&b).unwrap(),
            "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"
        );
        let m = crate::ensure_address("::ffff:10.1.2.3").unwrap();
        assert_eq!(reverse_name(&m).unwrap(), "3.2.1.10.in-addr.arpa");
    }
}
