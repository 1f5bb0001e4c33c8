//! Socket options (IOLib's `socket-option` / `(setf socket-option)`), typed.

use crate::error::{Error, Result, SysContext};
use isys::libc;
use std::os::fd::BorrowedFd;
use std::time::Duration;

/// The name of a socket option, for [`BaseSocket::socket_option`](crate::BaseSocket::socket_option).
///
/// ```
/// use sockets::*;
///
/// let (a, _b) = make_socket_pair(ExternalFormat::UTF8_LF)?;
/// let size = a.socket_option(OptionName::ReceiveBuffer)?;
/// assert!(matches!(size, SocketOption::ReceiveBuffer(n) if n > 0));
/// # Ok::<(), sockets::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OptionName {
    /// `SO_REUSEADDR` (IOLib `:reuse-address`).
    ReuseAddress,
    /// `SO_REUSEPORT` (IOLib `:reuse-port`).
    ReusePort,
    /// `SO_KEEPALIVE` (IOLib `:keep-alive`).
    KeepAlive,
    /// `SO_LINGER` (IOLib `:linger`).
    Linger,
    /// `SO_BROADCAST` (IOLib `:broadcast`).
    Broadcast,
    /// `SO_OOBINLINE` (IOLib `:oob-inline`).
    OobInline,
    /// `SO_RCVBUF` (IOLib `:receive-buffer`).
    ReceiveBuffer,
    /// `SO_SNDBUF` (IOLib `:send-buffer`).
    SendBuffer,
    /// `SO_RCVLOWAT` (IOLib `:receive-low-water`).
    ReceiveLowWater,
    /// `SO_SNDLOWAT` (IOLib `:send-low-water`; read-only on Linux).
    SendLowWater,
    /// `SO_RCVTIMEO` (IOLib `:receive-timeout`).
    ReceiveTimeout,
    /// `SO_SNDTIMEO` (IOLib `:send-timeout`).
    SendTimeout,
    /// `TCP_NODELAY` (IOLib `:tcp-nodelay`).
    TcpNodelay,
    /// `SO_DONTROUTE` (IOLib `:dont-route`).
    DontRoute,
    /// `SO_ERROR` (IOLib `:error`, read-only, clears the error).
    Error,
    /// `SO_TYPE` (IOLib `:type`, read-only).
    Type,
    /// `SO_ACCEPTCONN` (IOLib `:accept-connections`, read-only).
    AcceptConnections,
    /// `TCP_CORK` (Linux).
    TcpCork,
    /// `TCP_DEFER_ACCEPT` (Linux), seconds.
    TcpDeferAccept,
    /// `TCP_KEEPCNT`.
    TcpKeepCount,
    /// `TCP_KEEPIDLE` (Linux), seconds.
    TcpKeepIdle,
    /// `TCP_KEEPINTVL`, seconds.
    TcpKeepInterval,
    /// `TCP_LINGER2` (Linux), seconds.
    TcpLinger2,
    /// `TCP_QUICKACK` (Linux).
    TcpQuickAck,
    /// `TCP_SYNCNT` (Linux).
    TcpSynCount,
    /// `TCP_WINDOW_CLAMP` (Linux).
    TcpWindowClamp,
    /// `TCP_MAXSEG`.
    TcpMaxSegment,
    /// `SO_BINDTODEVICE` (Linux).
    BindToDevice,
    /// `SO_PRIORITY` (Linux).
    Priority,
}

/// A socket option with its value, for
/// [`BaseSocket::set_socket_option`](crate::BaseSocket::set_socket_option) and as the result of
/// [`BaseSocket::socket_option`](crate::BaseSocket::socket_option).
///
/// ```
/// use sockets::*;
/// use std::time::Duration;
///
/// let (a, _b) = make_socket_pair(ExternalFormat::UTF8_LF)?;
/// a.set_socket_option(SocketOption::Linger(Some(Duration::from_secs(1))))?;
/// assert_eq!(a.socket_option(OptionName::Linger)?,
///     SocketOption::Linger(Some(Duration::from_secs(1))));
/// # Ok::<(), sockets::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SocketOption {
    /// `SO_REUSEADDR`.
    ReuseAddress(bool),
    /// `SO_REUSEPORT`.
    ReusePort(bool),
    /// `SO_KEEPALIVE`.
    KeepAlive(bool),
    /// `SO_LINGER`: `None` off, `Some(d)` linger for `d` (zero = reset on close).
    Linger(Option<Duration>),
    /// `SO_BROADCAST`.
    Broadcast(bool),
    /// `SO_OOBINLINE`.
    OobInline(bool),
    /// `SO_RCVBUF`, bytes.
    ReceiveBuffer(i32),
    /// `SO_SNDBUF`, bytes.
    SendBuffer(i32),
    /// `SO_RCVLOWAT`, bytes.
    ReceiveLowWater(i32),
    /// `SO_SNDLOWAT`, bytes.
    SendLowWater(i32),
    /// `SO_RCVTIMEO`: `None` = no timeout.
    ReceiveTimeout(Option<Duration>),
    /// `SO_SNDTIMEO`: `None` = no timeout.
    SendTimeout(Option<Duration>),
    /// `TCP_NODELAY`.
    TcpNodelay(bool),
    /// `SO_DONTROUTE`.
    DontRoute(bool),
    /// `SO_ERROR` (read-only): the pending errno, if any.
    Error(Option<isys::Errno>),
    /// `SO_TYPE` (read-only): `SOCK_STREAM`, `SOCK_DGRAM`, ...
    Type(i32),
    /// `SO_ACCEPTCONN` (read-only).
    AcceptConnections(bool),
    /// `TCP_CORK`.
    TcpCork(bool),
    /// `TCP_DEFER_ACCEPT`, seconds.
    TcpDeferAccept(i32),
    /// `TCP_KEEPCNT`.
    TcpKeepCount(i32),
    /// `TCP_KEEPIDLE`, seconds.
    TcpKeepIdle(i32),
    /// `TCP_KEEPINTVL`, seconds.
    TcpKeepInterval(i32),
    /// `TCP_LINGER2`, seconds.
    TcpLinger2(i32),
    /// `TCP_QUICKACK`.
    TcpQuickAck(bool),
    /// `TCP_SYNCNT`.
    TcpSynCount(i32),
    /// `TCP_WINDOW_CLAMP`.
    TcpWindowClamp(i32),
    /// `TCP_MAXSEG`.
    TcpMaxSegment(i32),
    /// `SO_BINDTODEVICE`: interface name (empty = unbind).
    BindToDevice(String),
    /// `SO_PRIORITY`.
    Priority(i32),
}

#[derive(Clone, Copy)]
enum Kind {
    Bool,
    Int,
    Linger,
    Timeval,
    #[cfg_attr(not(any(target_os = "linux", target_os = "android")), allow(dead_code))]
    Bytes,
    Errno,
}

/// `(level, optname, kind, writable)`, or `None` when the platform lacks the option.
fn spec(name: OptionName) -> Option<(i32, i32, Kind, bool)> {
    use OptionName as N;
    let sol = libc::SOL_SOCKET;
    let tcp = libc::IPPROTO_TCP;
    Some(match name {
        N::ReuseAddress => (sol, libc::SO_REUSEADDR, Kind::Bool, true),
        N::ReusePort => (sol, libc::SO_REUSEPORT, Kind::Bool, true),
        N::KeepAlive => (sol, libc::SO_KEEPALIVE, Kind::Bool, true),
        N::Linger => (sol, libc::SO_LINGER, Kind::Linger, true),
        N::Broadcast => (sol, libc::SO_BROADCAST, Kind::Bool, true),
        N::OobInline => (sol, libc::SO_OOBINLINE, Kind::Bool, true),
        N::ReceiveBuffer => (sol, libc::SO_RCVBUF, Kind::Int, true),
        N::SendBuffer => (sol, libc::SO_SNDBUF, Kind::Int, true),
        N::ReceiveLowWater => (sol, libc::SO_RCVLOWAT, Kind::Int, true),
        N::SendLowWater => (
            sol,
            libc::SO_SNDLOWAT,
            Kind::Int,
            !cfg!(target_os = "linux"),
        ),
        N::ReceiveTimeout => (sol, libc::SO_RCVTIMEO, Kind::Timeval, true),
        N::SendTimeout => (sol, libc::SO_SNDTIMEO, Kind::Timeval, true),
        N::TcpNodelay => (tcp, libc::TCP_NODELAY, Kind::Bool, true),
        N::DontRoute => (sol, libc::SO_DONTROUTE, Kind::Bool, true),
        N::Error => (sol, libc::SO_ERROR, Kind::Errno, false),
        N::Type => (sol, libc::SO_TYPE, Kind::Int, false),
        N::AcceptConnections => (sol, libc::SO_ACCEPTCONN, Kind::Bool, false),
        N::TcpKeepCount => (tcp, libc::TCP_KEEPCNT, Kind::Int, true),
        N::TcpKeepInterval => (tcp, libc::TCP_KEEPINTVL, Kind::Int, true),
        N::TcpMaxSegment => (tcp, libc::TCP_MAXSEG, Kind::Int, true),
        _ => return linux_spec(name),
    })
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn linux_spec(name: OptionName) -> Option<(i32, i32, Kind, bool)> {
    use OptionName as N;
    let tcp = libc::IPPROTO_TCP;
    Some(match name {
        N::TcpCork => (tcp, libc::TCP_CORK, Kind::Bool, true),
        N::TcpDeferAccept => (tcp, libc::TCP_DEFER_ACCEPT, Kind::Int, true),
        N::TcpKeepIdle => (tcp, libc::TCP_KEEPIDLE, Kind::Int, true),
        N::TcpLinger2 => (tcp, libc::TCP_LINGER2, Kind::Int, true),
        N::TcpQuickAck => (tcp, libc::TCP_QUICKACK, Kind::Bool, true),
        N::TcpSynCount => (tcp, libc::TCP_SYNCNT, Kind::Int, true),
        N::TcpWindowClamp => (tcp, libc::TCP_WINDOW_CLAMP, Kind::Int, true),
        N::BindToDevice => (libc::SOL_SOCKET, libc::SO_BINDTODEVICE, Kind::Bytes, true),
        N::Priority => (libc::SOL_SOCKET, libc::SO_PRIORITY, Kind::Int, true),
        _ => return None,
    })
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn linux_spec(_name: OptionName) -> Option<(i32, i32, Kind, bool)> {
    None
}

impl SocketOption {
    /// The option's name.
    ///
    /// ```
    /// use sockets::{OptionName, SocketOption};
    ///
    /// assert_eq!(SocketOption::TcpNodelay(true).name(), OptionName::TcpNodelay);
    /// ```
    pub fn name(&self) -> OptionName {
        use OptionName as N;
        use SocketOption as O;
        match self {
            O::ReuseAddress(_) => N::ReuseAddress,
            O::ReusePort(_) => N::ReusePort,
            O::KeepAlive(_) => N::KeepAlive,
            O::Linger(_) => N::Linger,
            O::Broadcast(_) => N::Broadcast,
            O::OobInline(_) => N::OobInline,
            O::ReceiveBuffer(_) => N::ReceiveBuffer,
            O::SendBuffer(_) => N::SendBuffer,
            O::ReceiveLowWater(_) => N::ReceiveLowWater,
            O::SendLowWater(_) => N::SendLowWater,
            O::ReceiveTimeout(_) => N::ReceiveTimeout,
            O::SendTimeout(_) => N::SendTimeout,
            O::TcpNodelay(_) => N::TcpNodelay,
            O::DontRoute(_) => N::DontRoute,
            O::Error(_) => N::Error,
            O::Type(_) => N::Type,
            O::AcceptConnections(_) => N::AcceptConnections,
            O::TcpCork(_) => N::TcpCork,
            O::TcpDeferAccept(_) => N::TcpDeferAccept,
            O::TcpKeepCount(_) => N::TcpKeepCount,
            O::TcpKeepIdle(_) => N::TcpKeepIdle,
            O::TcpKeepInterval(_) => N::TcpKeepInterval,
            O::TcpLinger2(_) => N::TcpLinger2,
            O::TcpQuickAck(_) => N::TcpQuickAck,
            O::TcpSynCount(_) => N::TcpSynCount,
            O::TcpWindowClamp(_) => N::TcpWindowClamp,
            O::TcpMaxSegment(_) => N::TcpMaxSegment,
            O::BindToDevice(_) => N::BindToDevice,
            O::Priority(_) => N::Priority,
        }
    }

    fn from_int(name: OptionName, v: i32) -> SocketOption {
        use OptionName as N;
        use SocketOption as O;
        let b = v != 0;
        match name {
            N::ReuseAddress => O::ReuseAddress(b),
            N::ReusePort => O::ReusePort(b),
            N::KeepAlive => O::KeepAlive(b),
            N::Broadcast => O::Broadcast(b),
            N::OobInline => O::OobInline(b),
            N::ReceiveBuffer => O::ReceiveBuffer(v),
            N::SendBuffer => O::SendBuffer(v),
            N::ReceiveLowWater => O::ReceiveLowWater(v),
            N::SendLowWater => O::SendLowWater(v),
            N::TcpNodelay => O::TcpNodelay(b),
            N::DontRoute => O::DontRoute(b),
            N::Type => O::Type(v),
            N::AcceptConnections => O::AcceptConnections(b),
            N::TcpCork => O::TcpCork(b),
            N::TcpDeferAccept => O::TcpDeferAccept(v),
            N::TcpKeepCount => O::TcpKeepCount(v),
            N::TcpKeepIdle => O::TcpKeepIdle(v),
            N::TcpKeepInterval => O::TcpKeepInterval(v),
            N::TcpLinger2 => O::TcpLinger2(v),
            N::TcpQuickAck => O::TcpQuickAck(b),
            N::TcpSynCount => O::TcpSynCount(v),
            N::TcpWindowClamp => O::TcpWindowClamp(v),
            N::TcpMaxSegment => O::TcpMaxSegment(v),
            N::Priority => O::Priority(v),
            N::Error => O::Error((v != 0).then(|| isys::Errno::from_raw(v))),
            N::Linger | N::ReceiveTimeout | N::SendTimeout | N::BindToDevice => {
                unreachable!("not an int option")
            }
        }
    }

    fn int_value(&self) -> Option<i32> {
        use SocketOption as O;
        Some(match *self {
            O::ReuseAddress(b)
            | O::ReusePort(b)
            | O::KeepAlive(b)
            | O::Broadcast(b)
            | O::OobInline(b)
            | O::TcpNodelay(b)
            | O::DontRoute(b)
            | O::AcceptConnections(b)
            | O::TcpCork(b)
            | O::TcpQuickAck(b) => i32::from(b),
            O::ReceiveBuffer(v)
            | O::SendBuffer(v)
            | O::ReceiveLowWater(v)
            | O::SendLowWater(v)
            | O::Type(v)
            | O::TcpDeferAccept(v)
            | O::TcpKeepCount(v)
            | O::TcpKeepIdle(v)
            | O::TcpKeepInterval(v)
            | O::TcpLinger2(v)
            | O::TcpSynCount(v)
            | O::TcpWindowClamp(v)
            | O::TcpMaxSegment(v)
            | O::Priority(v) => v,
            _ => return None,
        })
    }
}

fn label(name: OptionName) -> &'static str {
    // Debug names are stable identifiers; leak-free static strings via a match would be long,
    // so use a small table of the common ones and a generic label otherwise.
    match name {
        OptionName::TcpCork => "TCP_CORK",
        OptionName::TcpDeferAccept => "TCP_DEFER_ACCEPT",
        OptionName::TcpKeepIdle => "TCP_KEEPIDLE",
        OptionName::TcpLinger2 => "TCP_LINGER2",
        OptionName::TcpQuickAck => "TCP_QUICKACK",
        OptionName::TcpSynCount => "TCP_SYNCNT",
        OptionName::TcpWindowClamp => "TCP_WINDOW_CLAMP",
        OptionName::BindToDevice => "SO_BINDTODEVICE",
        OptionName::Priority => "SO_PRIORITY",
        _ => "socket option",
    }
}

fn to_timeval(d: Option<Duration>) -> libc::timeval {
    let d = d.unwrap_or(Duration::ZERO);
    libc::timeval {
        tv_sec: d.as_secs().min(i32::MAX as u64) as libc::time_t,
        tv_usec: d.subsec_micros() as libc::suseconds_t,
    }
}

pub(crate) fn get(fd: BorrowedFd<'_>, name: OptionName) -> Result<SocketOption> {
    let (level, opt, kind, _) = spec(name).ok_or(Error::OptionNotSupported(label(name)))?;
    Ok(match kind {
        Kind::Bool | Kind::Int | Kind::Errno => {
            let v: libc::c_int = isys::getsockopt(fd, level, opt).ctx("getsockopt")?;
            SocketOption::from_int(name, v)
        }
        Kind::Linger => {
            let l: libc::linger = isys::getsockopt(fd, level, opt).ctx("getsockopt")?;
            SocketOption::Linger(
                (l.l_onoff != 0).then(|| Duration::from_secs(l.l_linger.max(0) as u64)),
            )
        }
        Kind::Timeval => {
            let tv: libc::timeval = isys::getsockopt(fd, level, opt).ctx("getsockopt")?;
            let d = Duration::new(tv.tv_sec.max(0) as u64, (tv.tv_usec.max(0) as u32) * 1000);
            let d = (!d.is_zero()).then_some(d);
            if name == OptionName::ReceiveTimeout {
                SocketOption::ReceiveTimeout(d)
            } else {
                SocketOption::SendTimeout(d)
            }
        }
        Kind::Bytes => {
            let mut buf = [0u8; 64];
            let n = isys::getsockopt_bytes(fd, level, opt, &mut buf).ctx("getsockopt")?;
            let end = buf[..n].iter().position(|&b| b == 0).unwrap_or(n);
            SocketOption::BindToDevice(String::from_utf8_lossy(&buf[..end]).into_owned())
        }
    })
}

pub(crate) fn set(fd: BorrowedFd<'_>, option: &SocketOption) -> Result<()> {
    let name = option.name();
    let (level, opt, _, writable) = spec(name).ok_or(Error::OptionNotSupported(label(name)))?;
    if !writable {
        return Err(Error::InvalidArgument(format!("{name:?} is read-only")));
    }
    match option {
        SocketOption::Linger(d) => {
            let l = libc::linger {
                l_onoff: i32::from(d.is_some()),
                l_linger: d.map_or(0, |d| d.as_secs().min(i32::MAX as u64) as i32),
            };
            isys::setsockopt(fd, level, opt, &l).ctx("setsockopt")
        }
        SocketOption::ReceiveTimeout(d) | SocketOption::SendTimeout(d) => {
            isys::setsockopt(fd, level, opt, &to_timeval(*d)).ctx("setsockopt")
        }
        SocketOption::BindToDevice(dev) => {
            isys::setsockopt_bytes(fd, level, opt, dev.as_bytes()).ctx("setsockopt")
        }
        other => {
            let v = other
                .int_value()
                .ok_or_else(|| Error::InvalidArgument(format!("{name:?} takes no value")))?;
            isys::setsockopt(fd, level, opt, &(v as libc::c_int)).ctx("setsockopt")
        }
    }
}
