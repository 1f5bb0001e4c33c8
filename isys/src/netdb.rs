//! Name service calls: getaddrinfo(3), if_nameindex(3), if_nametoindex(3) and
//! if_indextoname(3).

use crate::{Errno, SockAddr};
use std::ffi::{CStr, CString};
use std::fmt;

/// One result of [`getaddrinfo`].
///
/// ```
/// use isys::{getaddrinfo, libc};
///
/// let ai = &getaddrinfo(Some("::1"), Some("53"), libc::AF_UNSPEC, libc::SOCK_DGRAM,
///                       libc::AI_NUMERICHOST | libc::AI_NUMERICSERV)?[0];
/// assert_eq!((ai.family, ai.socktype), (libc::AF_INET6, libc::SOCK_DGRAM));
/// assert_eq!(ai.addr.as_std(), Some("[::1]:53".parse()?));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct AddrInfo {
    /// `ai_family`.
    pub family: i32,
    /// `ai_socktype`.
    pub socktype: i32,
    /// `ai_protocol`.
    pub protocol: i32,
    /// `ai_addr`.
    pub addr: SockAddr,
    /// `ai_canonname` (only on the first entry, when `AI_CANONNAME` was asked).
    pub canonname: Option<String>,
}

/// A `getaddrinfo(3)` failure: the `EAI_*` code and `gai_strerror`'s text.
///
/// ```
/// use isys::{getaddrinfo, libc};
///
/// let err = getaddrinfo(Some("not an address"), None, libc::AF_UNSPEC, 0,
///                       libc::AI_NUMERICHOST).unwrap_err();
/// assert!(err.is_no_name() && !err.is_temporary());
/// assert_eq!(err.errno, None); // only set for EAI_SYSTEM
/// println!("{err}"); // "getaddrinfo: <gai_strerror's text> (code <EAI_NONAME>)"
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddrInfoError {
    /// The `EAI_*` code.
    pub code: i32,
    /// The errno, when the code is `EAI_SYSTEM`.
    pub errno: Option<Errno>,
    /// `gai_strerror(code)`.
    pub message: String,
}

impl AddrInfoError {
    /// Whether the name does not exist (`EAI_NONAME`, or glibc's `EAI_NODATA`).
    ///
    /// ```
    /// use isys::{getaddrinfo, libc};
    ///
    /// let err = getaddrinfo(Some("x"), None, 0, 0, libc::AI_NUMERICHOST).unwrap_err();
    /// assert!(err.is_no_name());
    /// ```
    pub fn is_no_name(&self) -> bool {
        self.code == libc::EAI_NONAME || self.code == EAI_NODATA
    }
    /// Whether this is a temporary failure (`EAI_AGAIN`): the name server did not answer in
    /// time; asking again later may work.
    ///
    /// ```
    /// use isys::{getaddrinfo, libc};
    ///
    /// let err = getaddrinfo(Some("x"), None, 0, 0, libc::AI_NUMERICHOST).unwrap_err();
    /// assert!(!err.is_temporary()); // a malformed address stays malformed
    /// ```
    pub fn is_temporary(&self) -> bool {
        self.code == libc::EAI_AGAIN
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
const EAI_NODATA: i32 = libc::EAI_NODATA;
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
const EAI_NODATA: i32 = libc::EAI_NONAME;

impl fmt::Display for AddrInfoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "getaddrinfo: {} (code {})", self.message, self.code)
    }
}

impl std::error::Error for AddrInfoError {}

/// `getaddrinfo(3)` for `host` (and optional `service`), with hints `family` (`AF_UNSPEC`
/// for any), `socktype` (0 for any) and `flags` (`AI_CANONNAME`, `AI_NUMERICHOST`, ...).
/// The list is copied and released with `freeaddrinfo(3)` before returning.
///
/// Blocks while the system resolver works (`/etc/hosts`, DNS, ...), with the resolver's own
/// timeouts (`/etc/resolv.conf` `options timeout:`/`attempts:`) and no way to cancel it.
/// `AI_NUMERICHOST` never blocks.
///
/// ```
/// use isys::{getaddrinfo, libc};
///
/// let found = getaddrinfo(Some("127.0.0.1"), Some("80"), libc::AF_INET, libc::SOCK_STREAM,
///                         libc::AI_NUMERICHOST)?;
/// assert_eq!(found[0].addr.as_std(), Some("127.0.0.1:80".parse()?));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// An [`AddrInfoError`] with the `EAI_*` code:
/// - `EAI_NONAME` (and glibc `EAI_NODATA`): no such name, or no address of the asked family;
///   also for a `host` or `service` with a NUL byte (checked before the call).
/// - `EAI_AGAIN`: temporary failure (the name server timed out); `EAI_FAIL`: permanent.
/// - `EAI_SERVICE`: unknown service for the socket type; `EAI_FAMILY`, `EAI_SOCKTYPE`,
///   `EAI_BADFLAGS`: bad hints.
/// - `EAI_MEMORY`; `EAI_SYSTEM` with the `errno` (e.g. `EMFILE`).
pub fn getaddrinfo(
    host: Option<&str>,
    service: Option<&str>,
    family: i32,
    socktype: i32,
    flags: i32,
) -> Result<Vec<AddrInfo>, AddrInfoError> {
    let bad = |msg: &str| AddrInfoError {
        code: libc::EAI_NONAME,
        errno: None,
        message: msg.to_string(),
    };
    let host = host
        .map(CString::new)
        .transpose()
        .map_err(|_| bad("host name contains a NUL byte"))?;
    let service = service
        .map(CString::new)
        .transpose()
        .map_err(|_| bad("service name contains a NUL byte"))?;
    // SAFETY: addrinfo is plain old data; all-zero hints are valid.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_family = family;
    hints.ai_socktype = socktype;
    hints.ai_flags = flags;
    let mut res: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: the strings are NUL-terminated and live across the call; res is an out pointer.
    let code = unsafe {
        libc::getaddrinfo(
            host.as_ref().map_or(std::ptr::null(), |h| h.as_ptr()),
            service.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()),
            &hints,
            &mut res,
        )
    };
    if code != 0 {
        let errno = (code == libc::EAI_SYSTEM).then(Errno::last);
        // SAFETY: gai_strerror returns a static NUL-terminated string.
        let message = unsafe { CStr::from_ptr(libc::gai_strerror(code)) }
            .to_string_lossy()
            .into_owned();
        return Err(AddrInfoError {
            code,
            errno,
            message,
        });
    }
    let mut out = Vec::new();
    let mut p = res;
    // SAFETY: walking the list getaddrinfo returned; each ai_addr holds ai_addrlen bytes (at
    // most sizeof(sockaddr_storage)); the list is freed once, after the walk.
    unsafe {
        while !p.is_null() {
            let ai = &*p;
            let mut addr = SockAddr::empty();
            let len = (ai.ai_addrlen as usize).min(std::mem::size_of::<libc::sockaddr_storage>());
            if !ai.ai_addr.is_null() {
                std::ptr::copy_nonoverlapping(
                    ai.ai_addr.cast::<u8>(),
                    addr.as_mut_ptr().cast::<u8>(),
                    len,
                );
                *addr.len_mut() = len as libc::socklen_t;
            }
            let canonname = (!ai.ai_canonname.is_null()).then(|| {
                CStr::from_ptr(ai.ai_canonname)
                    .to_string_lossy()
                    .into_owned()
            });
            out.push(AddrInfo {
                family: ai.ai_family,
                socktype: ai.ai_socktype,
                protocol: ai.ai_protocol,
                addr,
                canonname,
            });
            p = ai.ai_next;
        }
        libc::freeaddrinfo(res);
    }
    Ok(out)
}

/// `if_nameindex(3)`: every network interface as `(index, name)`.
///
/// ```
/// let ifs = isys::if_nameindex()?;
/// assert!(ifs.iter().any(|(_, name)| name.starts_with("lo"))); // lo (Linux), lo0 (macOS)
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// `ENOBUFS` / `ENOMEM` when out of memory; `EMFILE` / `ENFILE` for the socket it opens
/// internally; `ENOSYS` on Android before API 24, whose libc has no `if_nameindex`.
pub fn if_nameindex() -> crate::Result<Vec<(u32, String)>> {
    #[cfg(not(target_os = "android"))]
    {
        let ifs = nix::net::if_::if_nameindex()?;
        Ok(ifs
            .iter()
            .map(|i| (i.index(), i.name().to_string_lossy().into_owned()))
            .collect())
    }
    #[cfg(target_os = "android")]
    {
        android_if_nameindex()
    }
}

/// Bionic has `if_nameindex` from API 24 on, and nix offers it only off Android. Linking to it
/// directly would fail against an older API level's libc, so it is looked up when called and
/// an older system gets `ENOSYS`.
#[cfg(target_os = "android")]
fn android_if_nameindex() -> crate::Result<Vec<(u32, String)>> {
    type List = unsafe extern "C" fn() -> *mut libc::if_nameindex;
    type Free = unsafe extern "C" fn(*mut libc::if_nameindex);
    // SAFETY: dlsym takes a NUL-terminated name; a non-null result is the named libc
    // function, whose type is the one bionic's <net/if.h> declares. The list it returns is
    // an array ended by a zero index, read before it is freed exactly once.
    unsafe {
        let list = libc::dlsym(libc::RTLD_DEFAULT, c"if_nameindex".as_ptr());
        let free = libc::dlsym(libc::RTLD_DEFAULT, c"if_freenameindex".as_ptr());
        if list.is_null() || free.is_null() {
            return Err(Errno::ENOSYS);
        }
        let (list, free) = (
            std::mem::transmute::<*mut libc::c_void, List>(list),
            std::mem::transmute::<*mut libc::c_void, Free>(free),
        );
        let head = list();
        if head.is_null() {
            return Err(Errno::last());
        }
        let mut out = Vec::new();
        let mut p = head;
        while (*p).if_index != 0 && !(*p).if_name.is_null() {
            let name = CStr::from_ptr((*p).if_name);
            out.push(((*p).if_index, name.to_string_lossy().into_owned()));
            p = p.add(1);
        }
        free(head);
        Ok(out)
    }
}

/// `if_nametoindex(3)`: the index of interface `name`.
///
/// ```
/// use isys::{if_nameindex, if_nametoindex};
///
/// let (index, name) = if_nameindex()?.remove(0);
/// assert_eq!(if_nametoindex(&name)?, index);
/// assert!(if_nametoindex("no-such-if0").is_err());
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// `ENODEV` (Linux) / `ENXIO` (macOS) when there is no such interface (or the name is longer
/// than `IFNAMSIZ`); `EMFILE` / `ENFILE` for the socket it opens internally.
pub fn if_nametoindex(name: &str) -> crate::Result<u32> {
    nix::net::if_::if_nametoindex(name).map(|i| i as u32)
}

/// `if_indextoname(3)`: the name of the interface with `index`; `ENXIO` when there is none.
pub fn if_indextoname(index: u32) -> crate::Result<String> {
    let mut buf = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: buf holds IF_NAMESIZE bytes, as if_indextoname requires.
    let p = unsafe { libc::if_indextoname(index, buf.as_mut_ptr()) };
    if p.is_null() {
        return Err(Errno::last());
    }
    // SAFETY: on success buf holds a NUL-terminated name.
    Ok(unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned())
}
