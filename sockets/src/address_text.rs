//! Addresses as text: parsing IOLib's dotted IPv4 and colon-separated IPv6 forms
//! (`from_dotted`, `from_colon_separated`, [`ensure_address`]) and printing them (`to_dotted`,
//! `Display` in RFC 5952 form, [`address_to_string`]).

use crate::address::{Address, Ipv4Address, Ipv6Address, LocalAddress};
use crate::error::{Error, Result};
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

impl Ipv4Address {
    /// Dotted-quad text (IOLib's `vector-to-dotted`).
    ///
    /// ```
    /// use sockets::*;
    ///
    /// assert_eq!(Ipv4Address([10, 0, 0, 1]).to_dotted(), "10.0.0.1");
    /// ```
    pub fn to_dotted(self) -> String {
        self.to_string()
    }
    /// Parses IOLib's dotted forms: 1 to 4 decimal parts, the last filling the remaining
    /// bytes (`"127.1"` is `127.0.0.1`, `"10"` is `0.0.0.10`, `"1.2.3"` is `1.2.0.3`).
    ///
    /// # Errors
    /// [`Error::InvalidAddress`] for text that is not 1 to 4 decimal parts, or a part too large
    /// for the bytes it fills.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockets::Ipv4Address;
    ///
    /// assert_eq!(Ipv4Address::from_dotted("1.2.3")?.to_dotted(), "1.2.0.3");
    /// assert!(Ipv4Address::from_dotted("256.1.1.1").is_err());
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn from_dotted(s: &str) -> Result<Self> {
        let bad = || Error::InvalidAddress(format!("{s:?} is not a dotted IPv4 address"));
        let parts: Vec<&str> = s.split('.').collect();
        if parts.is_empty() || parts.len() > 4 {
            return Err(bad());
        }
        let mut nums = Vec::with_capacity(4);
        for p in &parts {
            if p.is_empty() || p.len() > 10 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            nums.push(p.parse::<u64>().map_err(|_| bad())?);
        }
        let (last, head) = nums.split_last().ok_or_else(bad)?;
        if head.iter().any(|&n| n > 255) {
            return Err(bad());
        }
        let rest_bytes = 4 - head.len();
        if *last >= 1u64 << (8 * rest_bytes) {
            return Err(bad());
        }
        let mut out = [0u8; 4];
        for (i, &n) in head.iter().enumerate() {
            out[i] = n as u8;
        }
        let tail = (*last as u32).to_be_bytes();
        out[head.len()..].copy_from_slice(&tail[4 - rest_bytes..]);
        Ok(Ipv4Address(out))
    }
}

impl Ipv6Address {
    /// Parses colon-separated text, with `::` compression and an embedded dotted IPv4 tail
    /// (`::ffff:1.2.3.4`).
    ///
    /// # Errors
    /// [`Error::InvalidAddress`] for text that is not an IPv6 address.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockets::{Ipv6Address, IPV6_LOOPBACK};
    ///
    /// assert_eq!(Ipv6Address::from_colon_separated("::1")?, IPV6_LOOPBACK);
    /// assert!(Ipv6Address::from_colon_separated("1::2::3").is_err());
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn from_colon_separated(s: &str) -> Result<Self> {
        s.parse::<Ipv6Addr>()
            .map(Ipv6Address::from)
            .map_err(|_| Error::InvalidAddress(format!("{s:?} is not an IPv6 address")))
    }
}

impl fmt::Display for Ipv4Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&Ipv4Addr::from(self.0), f)
    }
}
impl fmt::Display for Ipv6Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&Ipv6Addr::from(*self), f)
    }
}
impl fmt::Display for LocalAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_abstract {
            write!(f, "@")?;
        }
        write!(f, "{}", String::from_utf8_lossy(&self.name))
    }
}
impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Ipv4(a) => a.fmt(f),
            Address::Ipv6(a) => a.fmt(f),
            Address::Local(a) => a.fmt(f),
        }
    }
}

/// Parses an address in any of IOLib's textual forms (IOLib's `ensure-address`): dotted IPv4
/// with 1–4 parts, or colon-separated IPv6 (`::` compression, IPv4-mapped tails, optionally
/// in brackets).
///
/// IOLib: `ensure-address`; see docs/PORTING.md, "Addresses and names".
///
/// # Errors
/// [`Error::InvalidAddress`] for text that is neither form (host names are not resolved:
/// use [`lookup_hostname`](crate::lookup_hostname)).
///
/// # Examples
///
/// ```
/// use sockets::*;
///
/// assert_eq!(ensure_address("127.1")?, Address::Ipv4(IPV4_LOOPBACK));
/// assert_eq!(ensure_address("[::1]")?, Address::Ipv6(IPV6_LOOPBACK));
/// assert!(matches!(ensure_address("example.com"), Err(Error::InvalidAddress(_))));
/// # Ok::<(), sockets::Error>(())
/// ```
pub fn ensure_address(s: &str) -> Result<Address> {
    if s.contains(':') {
        let inner = s
            .strip_prefix('[')
            .and_then(|x| x.strip_suffix(']'))
            .unwrap_or(s);
        return Ipv6Address::from_colon_separated(inner).map(Address::Ipv6);
    }
    Ipv4Address::from_dotted(s).map(Address::Ipv4)
}

/// An address as text (IOLib's `address-to-string`): dotted, compressed colon-separated, or
/// the local path (`@name` for abstract names).
///
/// ```
/// use sockets::*;
///
/// assert_eq!(address_to_string(&ensure_address("0:0::1")?), "::1");
/// # Ok::<(), sockets::Error>(())
/// ```
pub fn address_to_string(a: &Address) -> String {
    a.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::{address_equal, IPV4_LOOPBACK};

    #[test]
    fn ipv6_prints_in_rfc_5952_form_where_iolib_differs() {
        // IOLib prints 1:2:3:4:5::6:7; RFC 5952 does not shorten a single zero group.
        let a = ensure_address("1:2:3:4:5::6:7").unwrap();
        assert_eq!(a.to_string(), "1:2:3:4:5:0:6:7");
    }

    #[test]
    fn dotted_forms() {
        let cases = [
            ("127.0.0.1", [127, 0, 0, 1]),
            ("127.1", [127, 0, 0, 1]),
            ("10", [0, 0, 0, 10]),
            ("1.2.3", [1, 2, 0, 3]),
            ("1.2.65535", [1, 2, 255, 255]),
            ("4294967295", [255, 255, 255, 255]),
            ("0.0.0.0", [0, 0, 0, 0]),
        ];
        for (s, v) in cases {
            assert_eq!(Ipv4Address::from_dotted(s).unwrap().0, v, "{s}");
        }
        for bad in [
            "",
            "1.2.3.4.5",
            "256.1.1.1",
            "1.2.3.256",
            "1..2",
            "a.b.c.d",
            "1.2.3.4 ",
            "-1",
            "1.2.65536",
            "4294967296",
            "1.2.3.4.",
        ] {
            assert!(Ipv4Address::from_dotted(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            Ipv4Address::from_dotted("127.1").unwrap().to_string(),
            "127.0.0.1"
        );
    }

    #[test]
    fn colon_forms_and_round_trips() {
        for (s, printed) in [
            ("::", "::"),
            ("::1", "::1"),
            ("fe80:0:0:0:0:0:0:1", "fe80::1"),
            ("2001:db8::ff00:42:8329", "2001:db8::ff00:42:8329"),
            ("::ffff:1.2.3.4", "::ffff:1.2.3.4"),
            ("1:0:0:1:0:0:0:1", "1:0:0:1::1"),
        ] {
            let a = ensure_address(s).unwrap();
            assert_eq!(address_to_string(&a), printed);
            assert_eq!(ensure_address(&address_to_string(&a)).unwrap(), a);
        }
        assert!(ensure_address("1::2::3").is_err());
        assert!(ensure_address("12345::").is_err());
        let mapped = ensure_address("::ffff:127.0.0.1").unwrap();
        assert!(mapped.is_loopback());
        assert!(address_equal(&mapped, &Address::Ipv4(IPV4_LOOPBACK)));
        let Address::Ipv6(m) = mapped else { panic!() };
        assert!(m.is_ipv4_mapped());
        assert_eq!(m.to_ipv4(), Some(IPV4_LOOPBACK));
        assert_eq!(IPV4_LOOPBACK.to_ipv6_mapped(), m);
    }
}
