//! `struct sockaddr_storage` as a safe value type.

use crate::{Errno, Result};
use std::fmt;
use std::mem;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// A socket address as the kernel sees it: a `sockaddr_storage` plus its length.
///
/// Built from [`std::net::SocketAddr`] or a local (Unix-domain) path or abstract name, and
/// returned by [`accept4`](crate::accept4), [`getsockname`](crate::getsockname),
/// [`recvfrom`](crate::recvfrom), ... Building and reading one makes no C call.
///
/// ```
/// use isys::SockAddr;
/// use std::net::SocketAddr;
///
/// let std_addr: SocketAddr = "127.0.0.1:8080".parse().unwrap();
/// let a = SockAddr::from(std_addr); // a sockaddr_in in network byte order
/// assert_eq!(a.family(), isys::libc::AF_INET);
/// assert_eq!(a.as_std(), Some(std_addr));
/// assert_eq!(format!("{a:?}"), "SockAddr(127.0.0.1:8080)");
/// ```
#[derive(Clone, Copy)]
pub struct SockAddr {
    storage: libc::sockaddr_storage,
    len: libc::socklen_t,
}

/// What a local (`AF_UNIX`) address names, from [`SockAddr::as_unix`].
///
/// ```
/// use isys::{SockAddr, UnixAddrKind};
///
/// let a = SockAddr::unix(b"/run/app.sock")?;
/// assert_eq!(a.as_unix(), Some(UnixAddrKind::Pathname(b"/run/app.sock".to_vec())));
/// # Ok::<(), isys::Errno>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnixAddrKind {
    /// A filesystem path.
    Pathname(Vec<u8>),
    /// A Linux abstract name (the bytes after the leading NUL).
    Abstract(Vec<u8>),
    /// No name (an unbound or socketpair socket).
    Unnamed,
}

fn sun_path_offset() -> usize {
    mem::offset_of!(libc::sockaddr_un, sun_path)
}

impl SockAddr {
    /// An all-zero address of family `AF_UNSPEC` and full length, ready for the kernel to fill.
    ///
    /// ```
    /// let a = isys::SockAddr::empty();
    /// assert_eq!(a.family(), isys::libc::AF_UNSPEC);
    /// assert_eq!(a.as_std(), None);
    /// ```
    pub fn empty() -> Self {
        SockAddr {
            // SAFETY: sockaddr_storage is plain old data; all-zero is a valid value.
            storage: unsafe { mem::zeroed() },
            len: mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t,
        }
    }

    /// Copies a concrete sockaddr struct into the storage.
    fn from_raw<T: Copy>(raw: &T) -> Self {
        let mut a = SockAddr::empty();
        assert!(mem::size_of::<T>() <= mem::size_of::<libc::sockaddr_storage>());
        // SAFETY: T is a sockaddr_* type no larger than sockaddr_storage (checked above) and
        // the two do not overlap; the storage is suitably aligned for every sockaddr type.
        unsafe {
            std::ptr::copy_nonoverlapping(
                (raw as *const T).cast::<u8>(),
                (&mut a.storage as *mut libc::sockaddr_storage).cast::<u8>(),
                mem::size_of::<T>(),
            )
        };
        a.len = mem::size_of::<T>() as libc::socklen_t;
        a
    }

    /// An IPv4 or IPv6 address from [`std::net`] (a `sockaddr_in` or `sockaddr_in6`, scope id
    /// and flow info included).
    ///
    /// ```
    /// use isys::SockAddr;
    /// use std::net::{Ipv6Addr, SocketAddr};
    ///
    /// let a = SockAddr::from_std(&SocketAddr::from((Ipv6Addr::LOCALHOST, 443)));
    /// assert_eq!(a.family(), isys::libc::AF_INET6);
    /// assert_eq!(a.as_std().unwrap().port(), 443);
    /// ```
    pub fn from_std(addr: &SocketAddr) -> Self {
        match addr {
            SocketAddr::V4(a) => {
                // SAFETY: sockaddr_in is plain old data; all-zero is valid.
                let mut sin: libc::sockaddr_in = unsafe { mem::zeroed() };
                sin.sin_family = libc::AF_INET as libc::sa_family_t;
                sin.sin_port = a.port().to_be();
                sin.sin_addr = libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                };
                #[cfg(bsd_like)]
                {
                    sin.sin_len = mem::size_of::<libc::sockaddr_in>() as u8;
                }
                SockAddr::from_raw(&sin)
            }
            SocketAddr::V6(a) => {
                // SAFETY: sockaddr_in6 is plain old data; all-zero is valid.
                let mut sin6: libc::sockaddr_in6 = unsafe { mem::zeroed() };
                sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                sin6.sin6_port = a.port().to_be();
                sin6.sin6_addr = libc::in6_addr {
                    s6_addr: a.ip().octets(),
                };
                sin6.sin6_flowinfo = a.flowinfo();
                sin6.sin6_scope_id = a.scope_id();
                #[cfg(bsd_like)]
                {
                    sin6.sin6_len = mem::size_of::<libc::sockaddr_in6>() as u8;
                }
                SockAddr::from_raw(&sin6)
            }
        }
    }

    fn unix_raw(bytes: &[u8], abstract_name: bool) -> Result<Self> {
        // SAFETY: sockaddr_un is plain old data; all-zero is valid.
        let mut sun: libc::sockaddr_un = unsafe { mem::zeroed() };
        sun.sun_family = libc::AF_UNIX as libc::sa_family_t;
        let start = usize::from(abstract_name);
        // Pathnames keep a terminating NUL; abstract names use the whole array.
        let room = sun.sun_path.len() - start - usize::from(!abstract_name);
        if bytes.len() > room {
            return Err(Errno::ENAMETOOLONG);
        }
        if !abstract_name && (bytes.is_empty() || bytes.contains(&0)) {
            return Err(Errno::EINVAL);
        }
        for (dst, src) in sun.sun_path[start..].iter_mut().zip(bytes) {
            *dst = *src as libc::c_char;
        }
        let mut a = SockAddr::from_raw(&sun);
        a.len = (sun_path_offset() + start + bytes.len() + usize::from(!abstract_name))
            as libc::socklen_t;
        Ok(a)
    }

    /// A local (`AF_UNIX`) address naming a filesystem path (a `sockaddr_un`; the path must
    /// fit `sun_path`, 108 bytes on Linux and 104 on macOS, with its terminating NUL).
    ///
    /// ```
    /// use isys::{accept4, bind, connect, libc, listen, socket, Errno, SockAddr};
    ///
    /// let path = std::env::temp_dir().join(format!("isys-doc-{}.sock", std::process::id()));
    /// let addr = SockAddr::unix(path.to_str().unwrap().as_bytes())?;
    /// let l = socket(libc::AF_UNIX, libc::SOCK_STREAM, 0, false)?;
    /// bind(&l, &addr)?; // creates the socket file
    /// listen(&l, 1)?;
    /// let c = socket(libc::AF_UNIX, libc::SOCK_STREAM, 0, false)?;
    /// connect(&c, &addr)?;
    /// let _conn = accept4(&l, false)?;
    /// std::fs::remove_file(&path).unwrap();
    /// assert_eq!(SockAddr::unix(b"").unwrap_err(), Errno::EINVAL);
    /// # Ok::<(), isys::Errno>(())
    /// ```
    ///
    /// # Errors
    /// `ENAMETOOLONG` when the path does not fit `sun_path`; `EINVAL` when empty or it has a NUL.
    pub fn unix(path: &[u8]) -> Result<Self> {
        SockAddr::unix_raw(path, false)
    }

    /// A Linux abstract local address (`sun_path[0] == 0`), never visible in the filesystem
    /// and gone when the last socket bound to it closes.
    ///
    /// ```
    /// use isys::{bind, getsockname, libc, socket, SockAddr, UnixAddrKind};
    ///
    /// let name = format!("isys-doc-{}", std::process::id());
    /// let Ok(addr) = SockAddr::unix_abstract(name.as_bytes()) else {
    ///     return Ok(()); // not Linux
    /// };
    /// let s = socket(libc::AF_UNIX, libc::SOCK_STREAM, 0, false)?;
    /// bind(&s, &addr)?;
    /// assert_eq!(getsockname(&s)?.as_unix(), Some(UnixAddrKind::Abstract(name.into_bytes())));
    /// # Ok::<(), isys::Errno>(())
    /// ```
    ///
    /// # Errors
    /// `ENAMETOOLONG` when the name is too long; `EAFNOSUPPORT` off Linux.
    pub fn unix_abstract(name: &[u8]) -> Result<Self> {
        if cfg!(linux_like) {
            SockAddr::unix_raw(name, true)
        } else {
            Err(Errno::EAFNOSUPPORT)
        }
    }

    /// The address family (`AF_INET`, `AF_INET6`, `AF_UNIX`, ...): `ss_family`.
    ///
    /// ```
    /// let a = isys::SockAddr::unix(b"/tmp/s")?;
    /// assert_eq!(a.family(), isys::libc::AF_UNIX);
    /// # Ok::<(), isys::Errno>(())
    /// ```
    pub fn family(&self) -> libc::c_int {
        self.storage.ss_family as libc::c_int
    }

    /// The length the kernel uses for this address (the `socklen_t` passed with it).
    ///
    /// ```
    /// use isys::SockAddr;
    /// use std::net::{Ipv4Addr, SocketAddr};
    ///
    /// let a = SockAddr::from(SocketAddr::from((Ipv4Addr::LOCALHOST, 80)));
    /// assert_eq!(a.len() as usize, std::mem::size_of::<isys::libc::sockaddr_in>());
    /// ```
    pub fn len(&self) -> libc::socklen_t {
        self.len
    }

    /// Whether the length is zero (nothing was filled in).
    ///
    /// ```
    /// assert!(!isys::SockAddr::empty().is_empty()); // full length, waiting to be filled
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(crate) fn as_ptr(&self) -> *const libc::sockaddr {
        (&self.storage as *const libc::sockaddr_storage).cast()
    }

    pub(crate) fn as_mut_ptr(&mut self) -> *mut libc::sockaddr {
        (&mut self.storage as *mut libc::sockaddr_storage).cast()
    }

    pub(crate) fn len_mut(&mut self) -> &mut libc::socklen_t {
        &mut self.len
    }

    /// The IP address and port, when the family is `AF_INET` or `AF_INET6`.
    ///
    /// ```
    /// use isys::SockAddr;
    ///
    /// let a = SockAddr::from("[::1]:53".parse::<std::net::SocketAddr>().unwrap());
    /// assert_eq!(a.as_std().map(|s| s.port()), Some(53));
    /// assert_eq!(SockAddr::unix(b"/tmp/s")?.as_std(), None);
    /// # Ok::<(), isys::Errno>(())
    /// ```
    pub fn as_std(&self) -> Option<SocketAddr> {
        match self.family() {
            libc::AF_INET => {
                // SAFETY: the family says the storage holds a sockaddr_in; storage is aligned
                // and large enough for it.
                let sin: libc::sockaddr_in = unsafe { *(self.as_ptr().cast()) };
                Some(SocketAddr::V4(SocketAddrV4::new(
                    Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes()),
                    u16::from_be(sin.sin_port),
                )))
            }
            libc::AF_INET6 => {
                // SAFETY: the family says the storage holds a sockaddr_in6.
                let sin6: libc::sockaddr_in6 = unsafe { *(self.as_ptr().cast()) };
                Some(SocketAddr::V6(SocketAddrV6::new(
                    Ipv6Addr::from(sin6.sin6_addr.s6_addr),
                    u16::from_be(sin6.sin6_port),
                    sin6.sin6_flowinfo,
                    sin6.sin6_scope_id,
                )))
            }
            _ => None,
        }
    }

    /// A netlink address (`struct sockaddr_nl`): the port id (`nl_pid`, 0 = the kernel or
    /// "assign one" when binding) and the multicast group mask (`nl_groups`).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub fn netlink(pid: u32, groups: u32) -> Self {
        // SAFETY: sockaddr_nl is plain old data; all-zero is a valid value.
        let mut nl: libc::sockaddr_nl = unsafe { mem::zeroed() };
        nl.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        nl.nl_pid = pid;
        nl.nl_groups = groups;
        SockAddr::from_raw(&nl)
    }

    /// The port id and multicast group mask, when the family is `AF_NETLINK`.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub fn as_netlink(&self) -> Option<(u32, u32)> {
        if self.family() != libc::AF_NETLINK {
            return None;
        }
        // SAFETY: the family says the storage holds a sockaddr_nl.
        let nl: libc::sockaddr_nl = unsafe { *(self.as_ptr().cast()) };
        Some((nl.nl_pid, nl.nl_groups))
    }

    /// The path or abstract name, when the family is `AF_UNIX`.
    ///
    /// ```
    /// use isys::{libc, socketpair, getsockname, UnixAddrKind, SockAddr};
    ///
    /// let a = SockAddr::unix(b"/tmp/s")?;
    /// assert_eq!(a.as_unix(), Some(UnixAddrKind::Pathname(b"/tmp/s".to_vec())));
    /// let (x, _y) = socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, false)?;
    /// assert_eq!(getsockname(&x)?.as_unix(), Some(UnixAddrKind::Unnamed));
    /// # Ok::<(), isys::Errno>(())
    /// ```
    pub fn as_unix(&self) -> Option<UnixAddrKind> {
        if self.family() != libc::AF_UNIX {
            return None;
        }
        // SAFETY: the family says the storage holds a sockaddr_un.
        let sun: libc::sockaddr_un = unsafe { *(self.as_ptr().cast()) };
        let n = (self.len as usize).saturating_sub(sun_path_offset());
        let path: Vec<u8> = sun.sun_path[..n.min(sun.sun_path.len())]
            .iter()
            .map(|&c| c as u8)
            .collect();
        Some(if path.is_empty() {
            UnixAddrKind::Unnamed
        } else if path[0] == 0 && cfg!(linux_like) {
            UnixAddrKind::Abstract(path[1..].to_vec())
        } else {
            let end = path.iter().position(|&b| b == 0).unwrap_or(path.len());
            if end == 0 {
                UnixAddrKind::Unnamed
            } else {
                UnixAddrKind::Pathname(path[..end].to_vec())
            }
        })
    }
}

impl From<SocketAddr> for SockAddr {
    fn from(a: SocketAddr) -> Self {
        SockAddr::from_std(&a)
    }
}

impl fmt::Debug for SockAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(a) = self.as_std() {
            write!(f, "SockAddr({a})")
        } else if let Some(u) = self.as_unix() {
            write!(f, "SockAddr(unix {u:?})")
        } else {
            write!(f, "SockAddr(family {}, len {})", self.family(), self.len)
        }
    }
}

impl PartialEq for SockAddr {
    fn eq(&self, other: &Self) -> bool {
        if let (Some(a), Some(b)) = (self.as_std(), other.as_std()) {
            return a == b;
        }
        self.family() == other.family() && self.as_unix() == other.as_unix()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn std_round_trip() {
        for s in ["127.0.0.1:80", "[::1]:443", "0.0.0.0:0", "[fe80::1%2]:9"] {
            let a: SocketAddr = s.parse().unwrap();
            assert_eq!(SockAddr::from_std(&a).as_std(), Some(a));
        }
    }

    #[test]
    fn unix_round_trip() {
        let a = SockAddr::unix(b"/tmp/x.sock").unwrap();
        assert_eq!(
            a.as_unix(),
            Some(UnixAddrKind::Pathname(b"/tmp/x.sock".to_vec()))
        );
        assert_eq!(
            SockAddr::unix(&[b'a'; 200]).unwrap_err(),
            Errno::ENAMETOOLONG
        );
        assert_eq!(SockAddr::unix(b"").unwrap_err(), Errno::EINVAL);
        #[cfg(linux_like)]
        {
            let b = SockAddr::unix_abstract(b"name").unwrap();
            assert_eq!(b.as_unix(), Some(UnixAddrKind::Abstract(b"name".to_vec())));
        }
    }
}
