//! Address types (IOLib's `ipv4-address`, `ipv6-address`, `local-address`, and `Address`),
//! their constants, integer and vector forms, predicates, IOLib's `address=`, and conversions
//! to and from `std::net`. Their text forms are in `address_text.rs`; name lookups are in
//! `lookup.rs`.

use crate::error::{Error, Result};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

/// An IPv4 address as IOLib's 4-octet vector.
///
/// ```
/// use sockets::Ipv4Address;
///
/// let a = Ipv4Address::from_dotted("127.1")?;
/// assert_eq!(a, Ipv4Address([127, 0, 0, 1]));
/// assert_eq!(a.to_integer(), 0x7f00_0001);
/// assert!(a.is_loopback());
/// # Ok::<(), sockets::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ipv4Address(pub [u8; 4]);

/// An IPv6 address as IOLib's 8-word vector.
///
/// ```
/// use sockets::{Ipv4Address, Ipv6Address};
///
/// let a = Ipv6Address::from_colon_separated("::ffff:10.0.0.1")?;
/// assert!(a.is_ipv4_mapped());
/// assert_eq!(a.to_ipv4(), Some(Ipv4Address([10, 0, 0, 1])));
/// assert_eq!(a.to_ipv4().unwrap().to_ipv6_mapped(), a);
/// # Ok::<(), sockets::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ipv6Address(pub [u16; 8]);

/// A local (Unix-domain) address: a filesystem path or a Linux abstract name.
///
/// ```
/// use sockets::LocalAddress;
///
/// assert_eq!(LocalAddress::path("/tmp/app.sock").to_string(), "/tmp/app.sock");
/// assert_eq!(LocalAddress::abstract_name("app").to_string(), "@app");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LocalAddress {
    /// The path or the abstract name's bytes.
    pub name: Vec<u8>,
    /// Whether this is an abstract name (Linux), never visible in the filesystem.
    pub is_abstract: bool,
}

/// Any address a socket can have.
///
/// ```
/// use sockets::*;
///
/// let a: Address = std::net::Ipv4Addr::LOCALHOST.into();
/// assert_eq!(a, Address::Ipv4(IPV4_LOOPBACK));
/// assert_eq!(a.to_string(), "127.0.0.1");
/// assert!(ensure_address("::")?.is_unspecified());
/// # Ok::<(), sockets::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Address {
    /// IPv4.
    Ipv4(Ipv4Address),
    /// IPv6.
    Ipv6(Ipv6Address),
    /// Local (Unix domain).
    Local(LocalAddress),
}

/// `0.0.0.0` (IOLib's `+ipv4-unspecified+`).
///
/// See [`ANY_IPV4`] for an example.
pub const IPV4_UNSPECIFIED: Ipv4Address = Ipv4Address([0, 0, 0, 0]);
/// `127.0.0.1` (IOLib's `+ipv4-loopback+`).
///
/// See [`ANY_IPV4`] for an example.
pub const IPV4_LOOPBACK: Ipv4Address = Ipv4Address([127, 0, 0, 1]);
/// `::` (IOLib's `+ipv6-unspecified+`).
///
/// See [`ANY_IPV4`] for an example.
pub const IPV6_UNSPECIFIED: Ipv6Address = Ipv6Address([0; 8]);
/// `::1` (IOLib's `+ipv6-loopback+`).
///
/// See [`ANY_IPV4`] for an example.
pub const IPV6_LOOPBACK: Ipv6Address = Ipv6Address([0, 0, 0, 0, 0, 0, 0, 1]);
/// `0.0.0.0` as an [`Address`] (IOLib's `+ipv4-unspecified+` for `bind-address`).
///
/// ```
/// use sockets::*;
///
/// let udp = DatagramSocket::new(Family::Ipv4)?;
/// udp.bind_address(ANY_IPV4, 0, true)?; // every local address
/// assert!(udp.local_host()?.is_unspecified());
/// assert_eq!(IPV4_LOOPBACK.to_string(), "127.0.0.1");
/// assert_eq!(IPV6_LOOPBACK.to_string(), "::1");
/// # Ok::<(), sockets::Error>(())
/// ```
pub const ANY_IPV4: Address = Address::Ipv4(IPV4_UNSPECIFIED);

impl Ipv4Address {
    /// From a 32-bit integer in host order (IOLib's `integer-to-vector`).
    ///
    /// ```
    /// use sockets::*;
    ///
    /// assert_eq!(Ipv4Address::from_integer(0x7f00_0001), IPV4_LOOPBACK);
    /// assert_eq!(IPV4_LOOPBACK.to_vector(), [127, 0, 0, 1]);
    /// ```
    pub fn from_integer(n: u32) -> Self {
        Ipv4Address(n.to_be_bytes())
    }
    /// To a 32-bit integer in host order.
    ///
    /// See [`from_integer`](Self::from_integer) for an example.
    pub fn to_integer(self) -> u32 {
        u32::from_be_bytes(self.0)
    }
    /// The octets.
    ///
    /// See [`from_integer`](Self::from_integer) for an example.
    pub fn to_vector(self) -> [u8; 4] {
        self.0
    }
    /// `127.0.0.0/8`.
    pub fn is_loopback(self) -> bool {
        self.0[0] == 127
    }
    /// `224.0.0.0/4`.
    pub fn is_multicast(self) -> bool {
        self.0[0] & 0xf0 == 0xe0
    }
    /// `0.0.0.0`.
    pub fn is_unspecified(self) -> bool {
        self == IPV4_UNSPECIFIED
    }
    /// The IPv4-mapped IPv6 address `::ffff:a.b.c.d` (IOLib's `map-ipv4-address-to-ipv6`).
    ///
    /// ```
    /// use sockets::*;
    ///
    /// assert_eq!(IPV4_LOOPBACK.to_ipv6_mapped().to_string(), "::ffff:127.0.0.1");
    /// ```
    pub fn to_ipv6_mapped(self) -> Ipv6Address {
        Ipv6Address::from(Ipv4Addr::from(self.0).to_ipv6_mapped())
    }
}

impl Ipv6Address {
    /// From a 128-bit integer.
    ///
    /// ```
    /// use sockets::*;
    ///
    /// assert_eq!(Ipv6Address::from_integer(1), IPV6_LOOPBACK);
    /// assert_eq!(IPV6_LOOPBACK.to_integer(), 1);
    /// ```
    pub fn from_integer(n: u128) -> Self {
        Ipv6Address::from(Ipv6Addr::from(n))
    }
    /// To a 128-bit integer.
    ///
    /// See [`from_integer`](Self::from_integer) for an example.
    pub fn to_integer(self) -> u128 {
        u128::from(Ipv6Addr::from(self))
    }
    /// The eight 16-bit words.
    pub fn to_vector(self) -> [u16; 8] {
        self.0
    }
    /// `::1`.
    pub fn is_loopback(self) -> bool {
        self == IPV6_LOOPBACK
    }
    /// `ff00::/8`.
    pub fn is_multicast(self) -> bool {
        self.0[0] & 0xff00 == 0xff00
    }
    /// `::`.
    pub fn is_unspecified(self) -> bool {
        self == IPV6_UNSPECIFIED
    }
    /// Whether this is `::ffff:a.b.c.d`.
    ///
    /// See [`Ipv6Address`] for an example.
    pub fn is_ipv4_mapped(self) -> bool {
        self.0[..5] == [0; 5] && self.0[5] == 0xffff
    }
    /// The IPv4 address of an IPv4-mapped address (IOLib's `map-ipv6-address-to-ipv4`).
    ///
    /// ```
    /// use sockets::*;
    ///
    /// assert_eq!(IPV6_LOOPBACK.to_ipv4(), None); // not a mapped address
    /// ```
    pub fn to_ipv4(self) -> Option<Ipv4Address> {
        Ipv6Addr::from(self)
            .to_ipv4_mapped()
            .map(|a| Ipv4Address(a.octets()))
    }
}

impl LocalAddress {
    /// A filesystem path.
    ///
    /// See [`AddressFamily`](crate::AddressFamily) for a listener on a path.
    pub fn path(p: impl AsRef<Path>) -> Self {
        use std::os::unix::ffi::OsStrExt;
        LocalAddress {
            name: p.as_ref().as_os_str().as_bytes().to_vec(),
            is_abstract: false,
        }
    }
    /// A Linux abstract name.
    ///
    /// ```
    /// use sockets::*;
    ///
    /// # #[cfg(any(target_os = "linux", target_os = "android"))] {
    /// let name = LocalAddress::abstract_name(format!("doc-{}", std::process::id()));
    /// let server = make_socket().family(AddressFamily::Local).connect(Connect::Passive)
    ///     .local_filename(name.clone()).build_passive()?;
    /// assert_eq!(server.local_filename()?, name); // no file appears anywhere
    /// # }
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn abstract_name(name: impl AsRef<[u8]>) -> Self {
        LocalAddress {
            name: name.as_ref().to_vec(),
            is_abstract: true,
        }
    }
}

impl From<Ipv4Addr> for Ipv4Address {
    fn from(a: Ipv4Addr) -> Self {
        Ipv4Address(a.octets())
    }
}
impl From<Ipv4Address> for Ipv4Addr {
    fn from(a: Ipv4Address) -> Self {
        Ipv4Addr::from(a.0)
    }
}
impl From<Ipv6Addr> for Ipv6Address {
    fn from(a: Ipv6Addr) -> Self {
        Ipv6Address(a.segments())
    }
}
impl From<Ipv6Address> for Ipv6Addr {
    fn from(a: Ipv6Address) -> Self {
        let w = a.0;
        Ipv6Addr::new(w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7])
    }
}
impl From<IpAddr> for Address {
    fn from(a: IpAddr) -> Self {
        match a {
            IpAddr::V4(a) => Address::Ipv4(a.into()),
            IpAddr::V6(a) => Address::Ipv6(a.into()),
        }
    }
}
impl From<Ipv4Address> for Address {
    fn from(a: Ipv4Address) -> Self {
        Address::Ipv4(a)
    }
}
impl From<Ipv6Address> for Address {
    fn from(a: Ipv6Address) -> Self {
        Address::Ipv6(a)
    }
}
impl From<LocalAddress> for Address {
    fn from(a: LocalAddress) -> Self {
        Address::Local(a)
    }
}
/// Lets `&Address` go where `impl Into<Address>` is taken (`bind_address(&addr, ..)` as
/// before).
impl From<&Address> for Address {
    fn from(a: &Address) -> Self {
        a.clone()
    }
}
impl From<&Ipv4Address> for Address {
    fn from(a: &Ipv4Address) -> Self {
        Address::Ipv4(*a)
    }
}
impl From<&Ipv6Address> for Address {
    fn from(a: &Ipv6Address) -> Self {
        Address::Ipv6(*a)
    }
}
impl From<&LocalAddress> for Address {
    fn from(a: &LocalAddress) -> Self {
        Address::Local(a.clone())
    }
}
impl From<std::net::Ipv4Addr> for Address {
    fn from(a: std::net::Ipv4Addr) -> Self {
        Address::Ipv4(a.into())
    }
}
impl From<std::net::Ipv6Addr> for Address {
    fn from(a: std::net::Ipv6Addr) -> Self {
        Address::Ipv6(a.into())
    }
}
impl TryFrom<Address> for IpAddr {
    type Error = Error;
    fn try_from(a: Address) -> Result<IpAddr> {
        a.to_ip()
            .ok_or_else(|| Error::InvalidAddress(format!("{a} is not an IP address")))
    }
}

impl Address {
    /// The `std::net` address, for IP addresses.
    ///
    /// ```
    /// use sockets::*;
    ///
    /// assert_eq!(Address::Ipv4(IPV4_LOOPBACK).to_ip(),
    ///     Some(std::net::Ipv4Addr::LOCALHOST.into()));
    /// assert_eq!(Address::Local(LocalAddress::path("/tmp/s")).to_ip(), None);
    /// ```
    pub fn to_ip(&self) -> Option<IpAddr> {
        match self {
            Address::Ipv4(a) => Some(IpAddr::V4((*a).into())),
            Address::Ipv6(a) => Some(IpAddr::V6((*a).into())),
            Address::Local(_) => None,
        }
    }
    /// Loopback (`127/8`, `::1`, or an IPv4-mapped loopback).
    ///
    /// ```
    /// use sockets::*;
    ///
    /// assert!(Address::Ipv6(IPV4_LOOPBACK.to_ipv6_mapped()).is_loopback());
    /// assert!(ensure_address("224.0.0.1")?.is_multicast());
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn is_loopback(&self) -> bool {
        match self {
            Address::Ipv4(a) => a.is_loopback(),
            Address::Ipv6(a) => a.is_loopback() || a.to_ipv4().is_some_and(|v4| v4.is_loopback()),
            Address::Local(_) => false,
        }
    }
    /// Multicast.
    pub fn is_multicast(&self) -> bool {
        match self {
            Address::Ipv4(a) => a.is_multicast(),
            Address::Ipv6(a) => a.is_multicast(),
            Address::Local(_) => false,
        }
    }
    /// Unspecified (`0.0.0.0`, `::`).
    pub fn is_unspecified(&self) -> bool {
        match self {
            Address::Ipv4(a) => a.is_unspecified(),
            Address::Ipv6(a) => a.is_unspecified(),
            Address::Local(_) => false,
        }
    }
}

/// IOLib's `address=`: the same family and the same bytes. An IPv4 address and its
/// IPv4-mapped IPv6 form are equal too.
///
/// ```
/// use sockets::*;
///
/// let v4 = Address::Ipv4(IPV4_LOOPBACK);
/// let mapped = Address::Ipv6(IPV4_LOOPBACK.to_ipv6_mapped());
/// assert!(address_equal(&v4, &mapped));
/// assert!(!address_equal(&v4, &Address::Ipv6(IPV6_LOOPBACK)));
/// ```
pub fn address_equal(a: &Address, b: &Address) -> bool {
    match (a, b) {
        (Address::Ipv4(x), Address::Ipv6(y)) | (Address::Ipv6(y), Address::Ipv4(x)) => {
            y.to_ipv4() == Some(*x)
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ensure_address;

    #[test]
    fn integers_vectors_predicates() {
        assert_eq!(Ipv4Address::from_integer(0x7f000001), IPV4_LOOPBACK);
        assert_eq!(IPV4_LOOPBACK.to_integer(), 0x7f000001);
        assert_eq!(Ipv6Address::from_integer(1), IPV6_LOOPBACK);
        assert_eq!(IPV6_LOOPBACK.to_integer(), 1);
        assert_eq!(IPV6_LOOPBACK.to_vector(), [0, 0, 0, 0, 0, 0, 0, 1]);
        assert!(Ipv4Address([224, 0, 0, 1]).is_multicast());
        assert!(ensure_address("ff02::1").unwrap().is_multicast());
        assert!(ensure_address("0.0.0.0").unwrap().is_unspecified());
        assert!(ensure_address("::").unwrap().is_unspecified());
        assert!(!ensure_address("8.8.8.8").unwrap().is_loopback());
        let ip: IpAddr = "10.1.2.3".parse().unwrap();
        assert_eq!(IpAddr::try_from(Address::from(ip)).unwrap(), ip);
    }
}
