//! Name service calls: getaddrinfo(3), if_nameindex(3), if_nametoindex(3) and
//! if_indextoname(3).

use crate::{Errno, SockAddr};
use std::ffi::{CStr, CString};
use std::fmt;

/// One result of [`getaddrinfo`].
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
    pub fn is_no_name(&self) -> bool {
        self.code == libc::EAI_NONAME || self.code == EAI_NODATA
    }
    /// Whether this is a temporary failure (`EAI_AGAIN`).
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
pub fn if_nameindex() -> crate::Result<Vec<(u32, String)>> {
    let ifs = nix::net::if_::if_nameindex()?;
    Ok(ifs
        .iter()
        .map(|i| (i.index(), i.name().to_string_lossy().into_owned()))
        .collect())
}

/// `if_nametoindex(3)`: the index of interface `name`.
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
