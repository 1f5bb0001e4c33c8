//! Socket types: passive (listening) and active (connected, with line-oriented buffered I/O)
//! stream sockets, and datagram sockets.
//!
//! # Buffer invariants
//! `ActiveSocket` keeps `ipos <= iend <= ibuf.len()`: bytes `ibuf[ipos..iend]` have been
//! received and not yet consumed. `opos <= obuf.len()`: bytes `obuf[opos..]` are written by
//! the program and not yet sent.

use crate::address::{Address, LocalAddress};
use crate::error::{Error, Result, SysContext};
use crate::format::{Encoding, ExternalFormat, LineEnd};
use crate::options::{self, OptionName, SocketOption};
use isys::{libc, Errno, FdEvent, FdWaitError, MsgFlags, SockAddr, UnixAddrKind};
use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, IntoRawFd, OwnedFd, RawFd};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// IOLib's `:address-family`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// IPv4 (`:internet` without `:ipv6`).
    Ipv4,
    /// IPv6, dual-stack unless `ipv6_only` was asked (`:internet :ipv6 t`).
    Ipv6,
    /// Local / Unix domain (`:local`).
    Local,
}

impl Family {
    fn domain(self) -> i32 {
        match self {
            Family::Ipv4 => libc::AF_INET,
            Family::Ipv6 => libc::AF_INET6,
            Family::Local => libc::AF_UNIX,
        }
    }
    fn from_domain(d: i32) -> Option<Family> {
        match d {
            libc::AF_INET => Some(Family::Ipv4),
            libc::AF_INET6 => Some(Family::Ipv6),
            libc::AF_UNIX => Some(Family::Local),
            _ => None,
        }
    }
}

/// IOLib's `:type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SocketKind {
    /// `:stream` (TCP, or a local stream).
    Stream,
    /// `:datagram` (UDP, or a local datagram socket).
    Datagram,
}

impl SocketKind {
    pub(crate) fn raw(self) -> i32 {
        match self {
            SocketKind::Stream => libc::SOCK_STREAM,
            SocketKind::Datagram => libc::SOCK_DGRAM,
        }
    }
}

/// How long a "blocking" operation waits (IOLib's `:wait`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Wait {
    /// Do not wait (`:wait nil`).
    No,
    /// Wait as long as it takes (`:wait t`).
    #[default]
    Forever,
    /// Wait at most this long.
    For(Duration),
}

impl Wait {
    fn deadline(self) -> Option<Option<Instant>> {
        match self {
            Wait::No => None,
            Wait::Forever => Some(None),
            Wait::For(d) => Some(Instant::now().checked_add(d)),
        }
    }
}

impl From<bool> for Wait {
    fn from(b: bool) -> Self {
        if b {
            Wait::Forever
        } else {
            Wait::No
        }
    }
}

impl From<Duration> for Wait {
    fn from(d: Duration) -> Self {
        Wait::For(d)
    }
}

fn remaining(deadline: Option<Instant>) -> Option<Duration> {
    deadline.map(|d| d.saturating_duration_since(Instant::now()))
}

/// A stand-in fd for [`AsFd`] on a closed socket: an unconnected local socket, on which every
/// operation fails (`ENOTCONN`) instead of touching whatever fd reused the old number.
fn closed_placeholder() -> BorrowedFd<'static> {
    static PLACEHOLDER: OnceLock<OwnedFd> = OnceLock::new();
    PLACEHOLDER
        .get_or_init(|| {
            isys::socket(libc::AF_UNIX, libc::SOCK_STREAM, 0, true)
                .expect("cannot create the closed-socket placeholder fd")
        })
        .as_fd()
}

/// The state every socket type shares: the fd (None once closed), family and kind.
/// Public but unnameable outside the crate, which seals [`BaseSocket`].
#[derive(Debug)]
pub struct Base {
    fd: Option<OwnedFd>,
    family: Family,
    kind: SocketKind,
}

impl Base {
    pub(crate) fn new(fd: OwnedFd, family: Family, kind: SocketKind) -> Self {
        Base {
            fd: Some(fd),
            family,
            kind,
        }
    }

    pub(crate) fn create(family: Family, kind: SocketKind) -> Result<Self> {
        let fd = isys::socket(family.domain(), kind.raw(), 0, true).ctx("socket")?;
        Ok(Base::new(fd, family, kind))
    }

    pub(crate) fn fd(&self) -> Result<BorrowedFd<'_>> {
        self.fd.as_ref().map(|f| f.as_fd()).ok_or(Error::Closed)
    }

    fn sockaddr(&self, addr: &Address, port: u16) -> Result<SockAddr> {
        sockaddr_for(self.family, addr, port)
    }

    fn bind(&self, addr: &Address, port: u16, reuse_address: bool) -> Result<()> {
        let fd = self.fd()?;
        if reuse_address && self.family != Family::Local {
            isys::setsockopt(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, &1).ctx("setsockopt")?;
        }
        isys::bind(fd, &self.sockaddr(addr, port)?).ctx("bind")
    }

    /// `wait_until_fd_ready`, with POLLERR turned into the socket's pending error.
    fn wait_ready(&self, event: FdEvent, timeout: Option<Duration>) -> Result<(bool, bool)> {
        let fd = self.fd()?;
        match isys::wait_until_fd_ready(fd, event, timeout) {
            Ok(r) => Ok(r),
            Err(FdWaitError::PollErr { .. }) => match isys::socket_error(fd).ctx("getsockopt")? {
                Some(e) => Err(Error::from_errno("poll", e)),
                None => Ok((event != FdEvent::Write, event != FdEvent::Read)),
            },
            Err(e) => Err(e.into()),
        }
    }

    fn close(&mut self) -> Result<()> {
        match self.fd.take() {
            Some(fd) => isys::close(fd).ctx("close"),
            None => Ok(()),
        }
    }

    /// Waits until `deadline` for `event`; running out is [`Error::Timeout`] (of `what`).
    fn wait(&self, event: FdEvent, deadline: Option<Instant>, what: Duration) -> Result<()> {
        match self.wait_ready(event, remaining(deadline))? {
            (false, false) => Err(Error::Timeout(what)),
            _ => Ok(()),
        }
    }
}

/// Converts an address and port to the kernel's form for a socket of `family`.
/// IPv4 addresses on an IPv6 socket become IPv4-mapped.
pub(crate) fn sockaddr_for(family: Family, addr: &Address, port: u16) -> Result<SockAddr> {
    use std::net::{SocketAddr, SocketAddrV4, SocketAddrV6};
    let wrong = || Error::InvalidAddress(format!("{addr} cannot be used with a {family:?} socket"));
    match (family, addr) {
        (Family::Ipv4, Address::Ipv4(a)) => Ok(SockAddr::from_std(&SocketAddr::V4(
            SocketAddrV4::new((*a).into(), port),
        ))),
        (Family::Ipv4, Address::Ipv6(a)) => match a.to_ipv4() {
            Some(v4) => sockaddr_for(family, &Address::Ipv4(v4), port),
            None => Err(wrong()),
        },
        (Family::Ipv6, Address::Ipv6(a)) => Ok(SockAddr::from_std(&SocketAddr::V6(
            SocketAddrV6::new((*a).into(), port, 0, 0),
        ))),
        (Family::Ipv6, Address::Ipv4(a)) => {
            sockaddr_for(family, &Address::Ipv6(a.to_ipv6_mapped()), port)
        }
        (Family::Local, Address::Local(l)) => {
            let r = if l.is_abstract {
                SockAddr::unix_abstract(&l.name)
            } else {
                SockAddr::unix(&l.name)
            };
            r.map_err(|e| match e {
                Errno::ENAMETOOLONG => Error::InvalidAddress(format!("local name too long: {l}")),
                Errno::EAFNOSUPPORT => Error::AddressFamilyNotSupported,
                _ => Error::InvalidAddress(format!("bad local name: {l:?}")),
            })
        }
        _ => Err(wrong()),
    }
}

/// The address and port of a kernel address (port 0 for local addresses).
pub(crate) fn address_of(sa: &SockAddr) -> Result<(Address, u16)> {
    if let Some(s) = sa.as_std() {
        return Ok((Address::from(s.ip()), s.port()));
    }
    match sa.as_unix() {
        Some(UnixAddrKind::Pathname(p)) => Ok((
            Address::Local(LocalAddress {
                name: p,
                is_abstract: false,
            }),
            0,
        )),
        Some(UnixAddrKind::Abstract(n)) => Ok((
            Address::Local(LocalAddress {
                name: n,
                is_abstract: true,
            }),
            0,
        )),
        Some(UnixAddrKind::Unnamed) => Ok((
            Address::Local(LocalAddress {
                name: vec![],
                is_abstract: false,
            }),
            0,
        )),
        None => Err(Error::InvalidAddress(format!(
            "unsupported address family {}",
            sa.family()
        ))),
    }
}

/// What every socket can do (IOLib's generic functions on `socket`): names, options, fd,
/// open state. Implemented by [`ActiveSocket`], [`PassiveSocket`] and [`DatagramSocket`].
pub trait BaseSocket: AsFd {
    #[doc(hidden)]
    fn base(&self) -> &Base;

    /// The address family.
    fn family(&self) -> Family {
        self.base().family
    }
    /// Stream or datagram.
    fn kind(&self) -> SocketKind {
        self.base().kind
    }
    /// Whether the socket is open (IOLib's `socket-open-p`).
    fn is_open(&self) -> bool {
        self.base().fd.is_some()
    }
    /// IOLib's name for [`is_open`](Self::is_open).
    fn socket_open_p(&self) -> bool {
        self.is_open()
    }
    /// The fd number, `None` once closed (IOLib's `socket-os-fd`).
    fn socket_os_fd(&self) -> Option<RawFd> {
        self.base().fd.as_ref().map(|f| f.as_raw_fd())
    }
    /// The local address and port (IOLib's `local-name`); `getsockname(2)`.
    fn local_name(&self) -> Result<(Address, u16)> {
        address_of(&isys::getsockname(self.base().fd()?).ctx("getsockname")?)
    }
    /// The local address (IOLib's `local-host`).
    fn local_host(&self) -> Result<Address> {
        self.local_name().map(|(a, _)| a)
    }
    /// The local port (IOLib's `local-port`).
    fn local_port(&self) -> Result<u16> {
        self.local_name().map(|(_, p)| p)
    }
    /// The local socket's filename (IOLib's `local-filename`); `InvalidArgument` on an
    /// internet socket.
    fn local_filename(&self) -> Result<LocalAddress> {
        match self.local_host()? {
            Address::Local(l) => Ok(l),
            other => Err(Error::InvalidArgument(format!(
                "{other} is not a local socket name"
            ))),
        }
    }
    /// Reads an option (IOLib's `socket-option`).
    fn socket_option(&self, name: OptionName) -> Result<SocketOption> {
        options::get(self.base().fd()?, name)
    }
    /// Sets an option (IOLib's `(setf socket-option)`).
    fn set_socket_option(&self, option: SocketOption) -> Result<()> {
        options::set(self.base().fd()?, &option)
    }
    /// Waits until the socket is readable; `Ok(false)` on timeout. A pending socket error
    /// (say an ICMP "port unreachable" on a datagram socket) is returned as its condition
    /// (`ConnectionRefused`, ...).
    fn wait_readable(&self, timeout: Option<Duration>) -> Result<bool> {
        self.base()
            .wait_ready(FdEvent::Read, timeout)
            .map(|(r, _)| r)
    }
    /// Waits until the socket is writable; `Ok(false)` on timeout. A pending socket error is
    /// returned as its condition.
    fn wait_writable(&self, timeout: Option<Duration>) -> Result<bool> {
        self.base()
            .wait_ready(FdEvent::Write, timeout)
            .map(|(_, w)| w)
    }
}

macro_rules! fd_traits {
    ($t:ty) => {
        impl BaseSocket for $t {
            fn base(&self) -> &Base {
                &self.base
            }
        }
        impl AsFd for $t {
            /// The socket's fd. On a closed socket this is a placeholder fd on which every
            /// operation fails, never an fd that reused the old number.
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.base.fd().unwrap_or_else(|_| closed_placeholder())
            }
        }
        impl AsRawFd for $t {
            fn as_raw_fd(&self) -> RawFd {
                self.as_fd().as_raw_fd()
            }
        }
    };
}

fn range_check(len: usize, start: usize, end: Option<usize>) -> Result<std::ops::Range<usize>> {
    let end = end.unwrap_or(len);
    if start > end || end > len {
        return Err(Error::InvalidArgument(format!(
            "bad buffer range {start}..{end} for a buffer of {len} bytes"
        )));
    }
    Ok(start..end)
}

// ---------------------------------------------------------------------------------------------

/// A listening stream socket (IOLib's `passive-socket`): bind, listen, accept.
pub struct PassiveSocket {
    pub(crate) base: Base,
    pub(crate) format: ExternalFormat,
    pub(crate) settings: StreamSettings,
    pub(crate) reuse_address: bool,
}
fd_traits!(PassiveSocket);

/// Settings a passive socket hands to the sockets it accepts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StreamSettings {
    pub(crate) input_buffer_size: usize,
    pub(crate) output_buffer_size: usize,
    pub(crate) max_line_length: usize,
}

impl Default for StreamSettings {
    fn default() -> Self {
        StreamSettings {
            input_buffer_size: DEFAULT_BUFFER_SIZE,
            output_buffer_size: DEFAULT_BUFFER_SIZE,
            max_line_length: DEFAULT_MAX_LINE_LENGTH,
        }
    }
}

/// Default input and output buffer size of an active socket.
pub const DEFAULT_BUFFER_SIZE: usize = 16 * 1024;
/// Default maximum line length for [`ActiveSocket::read_line`]: 1 MiB.
pub const DEFAULT_MAX_LINE_LENGTH: usize = 1 << 20;
/// IOLib's default listen backlog.
pub const DEFAULT_BACKLOG: i32 = 5;

impl fmt::Debug for PassiveSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PassiveSocket")
            .field("fd", &self.socket_os_fd())
            .field("family", &self.base.family)
            .field("local", &self.local_name().ok())
            .finish()
    }
}

impl PassiveSocket {
    pub(crate) fn from_base(base: Base, format: ExternalFormat) -> Self {
        PassiveSocket {
            base,
            format,
            settings: StreamSettings::default(),
            reuse_address: true,
        }
    }

    /// A new unbound passive stream socket of `family`.
    pub fn new(family: Family) -> Result<Self> {
        Ok(PassiveSocket::from_base(
            Base::create(family, SocketKind::Stream)?,
            ExternalFormat::default(),
        ))
    }

    /// Binds to `addr`:`port` (IOLib's `bind-address`), setting `SO_REUSEADDR` first unless
    /// `reuse_address` was turned off. Port 0 picks a free port.
    pub fn bind_address(&self, addr: &Address, port: u16) -> Result<()> {
        self.base.bind(addr, port, self.reuse_address)
    }

    /// Starts listening (IOLib's `listen-on`).
    pub fn listen_on(&self, backlog: i32) -> Result<()> {
        isys::listen(self.base.fd()?, backlog).ctx("listen")
    }

    /// Accepts a connection (IOLib's `accept-connection`). With [`Wait::No`] or when the wait
    /// times out, `Ok(None)` if nothing is pending; also `Ok(None)` when the peer vanished
    /// between its SYN and the accept. The new socket is non-blocking and inherits this
    /// socket's external format and buffer settings.
    pub fn accept_connection(&self, wait: impl Into<Wait>) -> Result<Option<ActiveSocket>> {
        let wait = wait.into();
        let deadline = wait.deadline();
        loop {
            match isys::accept4(self.base.fd()?, true) {
                Ok((fd, _)) => {
                    let base = Base::new(fd, self.base.family, SocketKind::Stream);
                    return Ok(Some(ActiveSocket::from_parts(
                        base,
                        self.format,
                        self.settings,
                    )));
                }
                Err(Errno::EINTR) => continue,
                Err(Errno::ECONNABORTED) | Err(Errno::EPROTO) => return Ok(None),
                Err(Errno::EWOULDBLOCK) => {
                    let Some(deadline) = deadline else {
                        return Ok(None);
                    };
                    let fd = self.base.fd()?;
                    match isys::wait_until_fd_ready(fd, FdEvent::Read, remaining(deadline)) {
                        Ok((false, false)) => return Ok(None),
                        Ok(_) | Err(FdWaitError::PollErr { .. }) => continue,
                        Err(e) => return Err(e.into()),
                    }
                }
                Err(e) => return Err(Error::from_errno("accept4", e)),
            }
        }
    }

    /// Closes the socket; harmless when already closed.
    pub fn close(&mut self) -> Result<()> {
        self.base.close()
    }

    /// The external format handed to accepted sockets.
    pub fn external_format(&self) -> ExternalFormat {
        self.format
    }
}

impl From<std::net::TcpListener> for PassiveSocket {
    fn from(l: std::net::TcpListener) -> Self {
        let family = match l.local_addr() {
            Ok(std::net::SocketAddr::V6(_)) => Family::Ipv6,
            _ => Family::Ipv4,
        };
        let fd = OwnedFd::from(l);
        let _ = isys::set_nonblocking(&fd, true);
        PassiveSocket::from_base(
            Base::new(fd, family, SocketKind::Stream),
            Default::default(),
        )
    }
}

impl From<PassiveSocket> for std::net::TcpListener {
    fn from(mut s: PassiveSocket) -> Self {
        let fd = s.base.fd.take().unwrap_or_else(|| {
            isys::dup(closed_placeholder()).expect("cannot duplicate the placeholder fd")
        });
        std::net::TcpListener::from(fd)
    }
}

// ---------------------------------------------------------------------------------------------

/// A connected (or connecting) stream socket (IOLib's `active-socket`) with line-oriented
/// buffered I/O. The fd is non-blocking; "blocking" reads and writes wait on it with
/// `poll(2)`, honouring [`set_read_timeout`](Self::set_read_timeout) and
/// [`set_write_timeout`](Self::set_write_timeout).
///
/// `write!(sock, ...)` formats text through the external format (each `\n` becomes the line
/// end); [`io::Write`] writes raw bytes.
pub struct ActiveSocket {
    base: Base,
    format: ExternalFormat,
    ibuf: Vec<u8>,
    ipos: usize,
    iend: usize,
    obuf: Vec<u8>,
    opos: usize,
    settings: StreamSettings,
    /// Skipping the rest of a line that was too long.
    discarding: bool,
    lines_read: u64,
    lines_written: u64,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    /// The last recv left the kernel buffer empty: the next blocking read waits first
    /// instead of paying for a recv that can only say EWOULDBLOCK.
    drained: bool,
}
fd_traits!(ActiveSocket);

impl fmt::Debug for ActiveSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActiveSocket")
            .field("fd", &self.socket_os_fd())
            .field("family", &self.base.family)
            .field("format", &self.format)
            .field("buffered_input", &(self.iend - self.ipos))
            .field("buffered_output", &(self.obuf.len() - self.opos))
            .finish()
    }
}

impl ActiveSocket {
    pub(crate) fn from_parts(base: Base, format: ExternalFormat, settings: StreamSettings) -> Self {
        ActiveSocket {
            base,
            format,
            ibuf: Vec::new(),
            ipos: 0,
            iend: 0,
            obuf: Vec::new(),
            opos: 0,
            settings,
            discarding: false,
            lines_read: 0,
            lines_written: 0,
            read_timeout: None,
            write_timeout: None,
            drained: false,
        }
    }

    /// A new unconnected active stream socket of `family` with `format`.
    pub fn new(family: Family, format: ExternalFormat) -> Result<Self> {
        Ok(ActiveSocket::from_parts(
            Base::create(family, SocketKind::Stream)?,
            format,
            StreamSettings::default(),
        ))
    }

    /// The external format.
    pub fn external_format(&self) -> ExternalFormat {
        self.format
    }
    /// Changes the external format (applies to bytes not yet decoded).
    pub fn set_external_format(&mut self, format: ExternalFormat) {
        self.format = format;
    }
    /// The maximum line length [`read_line`](Self::read_line) accepts.
    pub fn max_line_length(&self) -> usize {
        self.settings.max_line_length
    }
    /// Sets the maximum line length (at least 1).
    pub fn set_max_line_length(&mut self, n: usize) {
        self.settings.max_line_length = n.max(1);
    }
    /// How long a read waits for data (`None` = forever, the default).
    pub fn set_read_timeout(&mut self, t: Option<Duration>) {
        self.read_timeout = t;
    }
    /// How long a write waits for room (`None` = forever, the default).
    pub fn set_write_timeout(&mut self, t: Option<Duration>) {
        self.write_timeout = t;
    }

    /// Binds the local end before connecting (IOLib's `bind-address` on an active socket).
    pub fn bind_address(&self, addr: &Address, port: u16) -> Result<()> {
        self.base.bind(addr, port, false)
    }

    /// Connects to `addr`:`port` (IOLib's `connect`). The connect is non-blocking underneath:
    /// with [`Wait::No`] it returns `Ok(false)` while the connection is in progress; otherwise
    /// it waits (up to the given time; running out is [`Error::ConnectionTimeout`]) and reads
    /// `SO_ERROR` back, so a refused connection is [`Error::ConnectionRefused`].
    pub fn connect(&mut self, addr: &Address, port: u16, wait: impl Into<Wait>) -> Result<bool> {
        let sa = self.base.sockaddr(addr, port)?;
        let deadline = wait.into().deadline();
        loop {
            let r = isys::connect(self.base.fd()?, &sa);
            match r {
                Ok(()) => return Ok(true),
                Err(Errno::EINTR) | Err(Errno::EINPROGRESS) | Err(Errno::EALREADY) => {
                    let Some(deadline) = deadline else {
                        return Ok(false);
                    };
                    return self.finish_connect(deadline).map(|_| true);
                }
                // A local socket whose listener's backlog is full: wait and try again.
                Err(Errno::EAGAIN) if self.base.family == Family::Local => {
                    let Some(deadline) = deadline else {
                        return Err(Error::from_errno("connect", Errno::EAGAIN));
                    };
                    match self.base.wait(FdEvent::Write, deadline, Duration::ZERO) {
                        Ok(()) => {
                            // Writability of an unconnected local socket says little; pace
                            // the retries.
                            std::thread::sleep(Duration::from_millis(1));
                            if remaining(deadline) == Some(Duration::ZERO) {
                                return Err(Error::ConnectionTimeout);
                            }
                        }
                        Err(Error::Timeout(_)) => return Err(Error::ConnectionTimeout),
                        Err(e) => return Err(e),
                    }
                }
                Err(Errno::EISCONN) => return Ok(true),
                Err(e) => return Err(Error::from_errno("connect", e)),
            }
        }
    }

    fn finish_connect(&self, deadline: Option<Instant>) -> Result<()> {
        // A refused or failed connect shows up here as the socket's pending error.
        if !self.base.wait_ready(FdEvent::Write, remaining(deadline))?.1 {
            return Err(Error::ConnectionTimeout);
        }
        match isys::socket_error(self.base.fd()?).ctx("getsockopt")? {
            Some(e) => Err(Error::from_errno("connect", e)),
            None => Ok(()),
        }
    }

    /// Whether the socket is connected (IOLib's `socket-connected-p`): `getpeername` succeeds.
    pub fn socket_connected_p(&self) -> bool {
        self.base.fd().is_ok_and(|fd| isys::getpeername(fd).is_ok())
    }

    /// The peer's address and port (IOLib's `remote-name`).
    pub fn remote_name(&self) -> Result<(Address, u16)> {
        address_of(&isys::getpeername(self.base.fd()?).ctx("getpeername")?)
    }
    /// The peer's address (IOLib's `remote-host`).
    pub fn remote_host(&self) -> Result<Address> {
        self.remote_name().map(|(a, _)| a)
    }
    /// The peer's port (IOLib's `remote-port`).
    pub fn remote_port(&self) -> Result<u16> {
        self.remote_name().map(|(_, p)| p)
    }
    /// The peer's filename on a local socket (IOLib's `remote-filename`).
    pub fn remote_filename(&self) -> Result<LocalAddress> {
        match self.remote_host()? {
            Address::Local(l) => Ok(l),
            other => Err(Error::InvalidArgument(format!(
                "{other} is not a local socket name"
            ))),
        }
    }

    // ----- input ------------------------------------------------------------------------

    /// Reads more bytes into the input buffer, waiting (up to the read timeout) for them.
    /// Returns how many arrived; 0 is end of file.
    fn fill(&mut self) -> Result<usize> {
        self.fill_with(true).map(|n| n.unwrap_or(0))
    }

    /// [`fill`](Self::fill); with `wait` false, `Ok(None)` when nothing is available now.
    fn fill_with(&mut self, wait: bool) -> Result<Option<usize>> {
        if self.ipos == self.iend {
            self.ipos = 0;
            self.iend = 0;
        }
        let want = self.settings.input_buffer_size.max(512);
        if self.ibuf.len() - self.iend < want / 4 {
            if self.ipos > 0 {
                self.ibuf.copy_within(self.ipos..self.iend, 0);
                self.iend -= self.ipos;
                self.ipos = 0;
            }
            if self.ibuf.len() - self.iend < want / 4 {
                let new_len = (self.ibuf.len() * 2).max(want);
                self.ibuf.resize(new_len, 0);
            }
        }
        let n = if wait {
            self.recv_waiting(None)?
        } else {
            match isys::recv(
                self.base.fd()?,
                &mut self.ibuf[self.iend..],
                MsgFlags::empty(),
            ) {
                Ok(n) => n,
                Err(Errno::EWOULDBLOCK) | Err(Errno::EINTR) => return Ok(None),
                Err(e) => return Err(Error::from_errno("recv", e)),
            }
        };
        self.iend += n;
        Ok(Some(n))
    }

    /// One `recv` into `ibuf[iend..]` (or into `external` when given), waiting for data.
    fn recv_waiting(&mut self, mut external: Option<&mut [u8]>) -> Result<usize> {
        let deadline = self
            .read_timeout
            .and_then(|t| Instant::now().checked_add(t));
        loop {
            if self.drained {
                self.drained = false;
                self.base.wait(
                    FdEvent::Read,
                    deadline,
                    self.read_timeout.unwrap_or_default(),
                )?;
            }
            let fd = self.base.fd()?;
            let buf: &mut [u8] = match external.as_deref_mut() {
                Some(b) => b,
                None => &mut self.ibuf[self.iend..],
            };
            let want = buf.len();
            match isys::recv(fd, buf, MsgFlags::empty()) {
                Ok(n) => {
                    // A short read usually means the kernel buffer is now empty.
                    self.drained = n > 0 && n < want;
                    return Ok(n);
                }
                Err(Errno::EINTR) => continue,
                Err(Errno::EWOULDBLOCK) => self.drained = true,
                Err(e) => return Err(Error::from_errno("recv", e)),
            }
        }
    }

    /// Reads a line without its line end (IOLib's `read-line`).
    ///
    /// The line end is the external format's (`CRLF` also accepts a bare `LF`). A last line
    /// without a line end is returned as a line; [`Error::EndOfFile`] only when end of file
    /// comes before any byte. A line longer than
    /// [`max_line_length`](Self::max_line_length) is [`Error::LineTooLong`]; the rest of that
    /// line is skipped and the next call reads the line after it.
    pub fn read_line(&mut self) -> Result<String> {
        let mut line = String::new();
        match self.read_line_into(&mut line)? {
            true => Ok(line),
            false => Err(Error::EndOfFile),
        }
    }

    /// Like [`read_line`](Self::read_line), appending to `out` (no allocation when `out` has
    /// room); `Ok(false)` at end of file before any byte.
    pub fn read_line_into(&mut self, out: &mut String) -> Result<bool> {
        self.read_line_inner(out, true).map(|r| r.unwrap_or(false))
    }

    /// Reads a line only if one can be had without waiting (IOLib's `read-line` after
    /// `listen`): `Ok(None)` when no complete line is buffered or arriving now. A last line
    /// without a line end, at end of file, is returned; end of file before any byte is
    /// [`Error::EndOfFile`].
    ///
    /// An event-loop read handler should drain lines with this after its first
    /// [`read_line`](Self::read_line): lines already in the socket's buffer make the fd look
    /// idle to the multiplexer.
    pub fn read_line_no_hang(&mut self) -> Result<Option<String>> {
        let mut line = String::new();
        match self.read_line_inner(&mut line, false)? {
            None => Ok(None),
            Some(true) => Ok(Some(line)),
            Some(false) => Err(Error::EndOfFile),
        }
    }

    /// Whether a complete line is already buffered (no syscall).
    pub fn has_buffered_line(&self) -> bool {
        memchr::memchr(self.format.line_end.terminator(), self.buffered_input()).is_some()
    }

    /// The line reader; `Ok(None)` only when `wait` is false and nothing complete is available.
    fn read_line_inner(&mut self, out: &mut String, wait: bool) -> Result<Option<bool>> {
        let term = self.format.line_end.terminator();
        let max = self.settings.max_line_length;
        let mut scanned = 0;
        loop {
            let window = &self.ibuf[self.ipos + scanned..self.iend];
            if let Some(i) = memchr::memchr(term, window) {
                let end = self.ipos + scanned + i;
                let start = self.ipos;
                self.ipos = end + 1;
                if self.discarding {
                    self.discarding = false;
                    scanned = 0;
                    continue;
                }
                let mut stop = end;
                if self.format.line_end == LineEnd::Crlf
                    && stop > start
                    && self.ibuf[stop - 1] == b'\r'
                {
                    stop -= 1;
                }
                self.lines_read += 1;
                if stop - start > max {
                    return Err(Error::LineTooLong { limit: max });
                }
                self.decode_into(start, stop, out)?;
                return Ok(Some(true));
            }
            scanned = self.iend - self.ipos;
            if self.discarding {
                self.ipos = self.iend;
                scanned = 0;
            } else if scanned > max {
                // Too long: drop what we have and skip to the next line end.
                self.ipos = self.iend;
                self.discarding = true;
                self.lines_read += 1;
                return Err(Error::LineTooLong { limit: max });
            }
            let got = match self.fill_with(wait)? {
                Some(n) => n,
                None => return Ok(None),
            };
            if got == 0 {
                if self.discarding || self.ipos == self.iend {
                    self.discarding = false;
                    return Ok(Some(false));
                }
                let (start, stop) = (self.ipos, self.iend);
                self.ipos = self.iend;
                self.lines_read += 1;
                self.decode_into(start, stop, out)?;
                return Ok(Some(true));
            }
        }
    }

    fn decode_into(&self, start: usize, stop: usize, out: &mut String) -> Result<()> {
        let bytes = &self.ibuf[start..stop];
        if self.format.encoding == Encoding::Utf8 {
            if let Ok(s) = std::str::from_utf8(bytes) {
                out.push_str(s);
                return Ok(());
            }
        }
        out.push_str(&self.format.decode(bytes, self.lines_read)?);
        Ok(())
    }

    /// Makes sure `n` bytes are buffered; `Ok(false)` if end of file comes first.
    fn ensure(&mut self, n: usize) -> Result<bool> {
        while self.iend - self.ipos < n {
            if self.fill()? == 0 {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Reads one character (IOLib's `read-char`); the format's line end reads as `'\n'`.
    /// [`Error::EndOfFile`] at end of file.
    pub fn read_char(&mut self) -> Result<char> {
        if !self.ensure(1)? {
            return Err(Error::EndOfFile);
        }
        let b = self.ibuf[self.ipos];
        let len = match self.format.encoding {
            Encoding::Utf8 => match b {
                0x00..=0x7f => 1,
                0xc0..=0xdf => 2,
                0xe0..=0xef => 3,
                0xf0..=0xf7 => 4,
                _ => 1,
            },
            _ => 1,
        };
        if !self.ensure(len)? {
            return Err(Error::Encoding {
                encoding: self.format.encoding.name(),
                line: self.lines_read + 1,
                offset: 0,
                detail: "end of file inside a character".into(),
            });
        }
        let s = self
            .format
            .decode(&self.ibuf[self.ipos..self.ipos + len], self.lines_read + 1)
            .inspect_err(|_| self.ipos += 1)?;
        self.ipos += len;
        let c = s.chars().next().unwrap_or('\u{fffd}');
        match (c, self.format.line_end) {
            ('\r', LineEnd::Cr) => Ok('\n'),
            ('\r', LineEnd::Crlf) => {
                if self.ensure(1)? && self.ibuf[self.ipos] == b'\n' {
                    self.ipos += 1;
                    Ok('\n')
                } else {
                    Ok('\r')
                }
            }
            _ => Ok(c),
        }
    }

    /// Bytes already received and not yet read.
    pub fn buffered_input(&self) -> &[u8] {
        &self.ibuf[self.ipos..self.iend]
    }

    // ----- output ------------------------------------------------------------------------

    /// Writes `text` through the external format (each `\n` becomes the line end). Output is
    /// buffered; it goes out when the buffer fills or on [`finish_output`](Self::finish_output).
    pub fn write_str(&mut self, text: &str) -> Result<()> {
        self.base.fd()?;
        let line = self.lines_written + 1;
        self.format.encode_into(text, &mut self.obuf, line)?;
        self.lines_written += memchr::memchr_iter(b'\n', text.as_bytes()).count() as u64;
        self.maybe_flush()
    }

    /// Writes `text` and a line end (IOLib's `write-line`).
    pub fn write_line(&mut self, text: &str) -> Result<()> {
        self.write_str(text)?;
        self.newline()
    }

    /// Writes a line end (IOLib's `terpri`/`~%`).
    pub fn newline(&mut self) -> Result<()> {
        self.base.fd()?;
        self.obuf.extend_from_slice(self.format.line_end.bytes());
        self.lines_written += 1;
        self.maybe_flush()
    }

    /// Formats into the output buffer through the external format: what `write!(sock, ...)`
    /// calls. Takes precedence over [`io::Write::write_fmt`], which would write raw bytes.
    pub fn write_fmt(&mut self, args: fmt::Arguments<'_>) -> Result<()> {
        if let Some(s) = args.as_str() {
            return self.write_str(s);
        }
        struct Adapter<'a> {
            sock: &'a mut ActiveSocket,
            err: Option<Error>,
        }
        impl fmt::Write for Adapter<'_> {
            fn write_str(&mut self, s: &str) -> fmt::Result {
                let line = self.sock.lines_written + 1;
                match self.sock.format.encode_into(s, &mut self.sock.obuf, line) {
                    Ok(()) => {
                        self.sock.lines_written +=
                            memchr::memchr_iter(b'\n', s.as_bytes()).count() as u64;
                        Ok(())
                    }
                    Err(e) => {
                        self.err = Some(e);
                        Err(fmt::Error)
                    }
                }
            }
        }
        self.base.fd()?;
        let mut a = Adapter {
            sock: self,
            err: None,
        };
        if fmt::write(&mut a, args).is_err() {
            return Err(a.err.unwrap_or_else(|| {
                Error::InvalidArgument("a Display implementation returned an error".into())
            }));
        }
        self.maybe_flush()
    }

    /// Writes raw bytes to the output buffer (no encoding, no line-end translation).
    pub fn write_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        self.base.fd()?;
        self.obuf.extend_from_slice(bytes);
        self.maybe_flush()
    }

    fn maybe_flush(&mut self) -> Result<()> {
        if self.obuf.len() - self.opos >= self.settings.output_buffer_size {
            self.finish_output()?;
        }
        Ok(())
    }

    /// One non-blocking attempt to send buffered output. Returns `Ok(true)` when everything
    /// went out.
    fn send_some(&mut self) -> Result<bool> {
        while self.opos < self.obuf.len() {
            let fd = self.base.fd()?;
            match isys::send(fd, &self.obuf[self.opos..], MsgFlags::empty()) {
                Ok(n) => self.opos += n,
                Err(Errno::EINTR) => continue,
                Err(Errno::EWOULDBLOCK) => return Ok(false),
                Err(e) => return Err(Error::from_errno("send", e)),
            }
        }
        self.obuf.clear();
        self.opos = 0;
        Ok(true)
    }

    /// Sends all buffered output, waiting as needed (IOLib's `finish-output`).
    /// [`Error::Hangup`] when the peer is gone.
    pub fn finish_output(&mut self) -> Result<()> {
        let deadline = self
            .write_timeout
            .and_then(|t| Instant::now().checked_add(t));
        while !self.send_some()? {
            self.base.wait(
                FdEvent::Write,
                deadline,
                self.write_timeout.unwrap_or_default(),
            )?;
        }
        Ok(())
    }

    /// One non-blocking try at sending buffered output (IOLib's `force-output`); returns how
    /// many bytes are still buffered.
    pub fn force_output(&mut self) -> Result<usize> {
        self.send_some()?;
        Ok(self.obuf.len() - self.opos)
    }

    /// Bytes written and not yet sent.
    pub fn buffered_output(&self) -> usize {
        self.obuf.len() - self.opos
    }

    // ----- unbuffered -------------------------------------------------------------------

    /// One `send(2)` of `buf`, bypassing the output buffer (IOLib's `send-to` on a stream).
    /// The fd is non-blocking: a full socket buffer is an error whose errno is `EWOULDBLOCK`
    /// ([`Error::is_would_block`]); a closed peer is [`Error::Hangup`] (`EPIPE`).
    pub fn send_to(&self, buf: &[u8], flags: MsgFlags) -> Result<usize> {
        isys::send(self.base.fd()?, buf, flags).ctx("send")
    }

    /// [`send_to`](Self::send_to) on `buf[start..end]` (`end` `None` = the end), IOLib's
    /// `:start`/`:end`. A bad range is [`Error::InvalidArgument`].
    pub fn send_to_range(
        &self,
        buf: &[u8],
        start: usize,
        end: Option<usize>,
        flags: MsgFlags,
    ) -> Result<usize> {
        let r = range_check(buf.len(), start, end)?;
        self.send_to(&buf[r], flags)
    }

    /// One `recv(2)` into `buf`, bypassing line decoding (IOLib's `receive-from` on a stream);
    /// bytes already buffered by line reads come first. `Ok(0)` is end of file. Non-blocking:
    /// nothing available is an `EWOULDBLOCK` error.
    pub fn receive_from(&mut self, buf: &mut [u8], flags: MsgFlags) -> Result<usize> {
        let have = self.iend - self.ipos;
        if have > 0 && !buf.is_empty() {
            let n = have.min(buf.len());
            buf[..n].copy_from_slice(&self.ibuf[self.ipos..self.ipos + n]);
            if !flags.contains(MsgFlags::PEEK) {
                self.ipos += n;
            }
            return Ok(n);
        }
        isys::recv(self.base.fd()?, buf, flags).ctx("recv")
    }

    /// [`receive_from`](Self::receive_from) into `buf[start..end]`.
    pub fn receive_from_range(
        &mut self,
        buf: &mut [u8],
        start: usize,
        end: Option<usize>,
        flags: MsgFlags,
    ) -> Result<usize> {
        let r = range_check(buf.len(), start, end)?;
        self.receive_from(&mut buf[r], flags)
    }

    /// Sends `fd` over a local socket with `SCM_RIGHTS` (IOLib's `send-file-descriptor`).
    pub fn send_file_descriptor(&self, fd: BorrowedFd<'_>) -> Result<()> {
        if self.base.family != Family::Local {
            return Err(Error::InvalidArgument(
                "file descriptors can only be passed over local sockets".into(),
            ));
        }
        let deadline = self
            .write_timeout
            .and_then(|t| Instant::now().checked_add(t));
        loop {
            match isys::sendmsg(self.base.fd()?, b"\0", &[fd], MsgFlags::empty()) {
                Ok(_) => return Ok(()),
                Err(Errno::EINTR) => continue,
                Err(Errno::EWOULDBLOCK) => self.base.wait(
                    FdEvent::Write,
                    deadline,
                    self.write_timeout.unwrap_or_default(),
                )?,
                Err(e) => return Err(Error::from_errno("sendmsg", e)),
            }
        }
    }

    /// Receives an fd sent with [`send_file_descriptor`](Self::send_file_descriptor)
    /// (IOLib's `receive-file-descriptor`); waits like a read. [`Error::EndOfFile`] if the
    /// peer closed first.
    pub fn receive_file_descriptor(&mut self) -> Result<OwnedFd> {
        if self.base.family != Family::Local {
            return Err(Error::InvalidArgument(
                "file descriptors can only be passed over local sockets".into(),
            ));
        }
        let deadline = self
            .read_timeout
            .and_then(|t| Instant::now().checked_add(t));
        loop {
            let mut byte = [0u8; 1];
            match isys::recvmsg(self.base.fd()?, &mut byte, 1, MsgFlags::empty()) {
                Ok((0, _, _)) => return Err(Error::EndOfFile),
                Ok((_, mut fds, _)) => {
                    return fds.pop().ok_or_else(|| {
                        Error::InvalidArgument("message carried no file descriptor".into())
                    })
                }
                Err(Errno::EINTR) => continue,
                Err(Errno::EWOULDBLOCK) => self.base.wait(
                    FdEvent::Read,
                    deadline,
                    self.read_timeout.unwrap_or_default(),
                )?,
                Err(e) => return Err(Error::from_errno("recvmsg", e)),
            }
        }
    }

    // ----- closing -----------------------------------------------------------------------

    /// Shuts down reading and/or writing (IOLib's `shutdown`). Shutting down writing sends
    /// buffered output first, then FIN: the peer reads end of file after all the data.
    pub fn shutdown(&mut self, read: bool, write: bool) -> Result<()> {
        let how = match (read, write) {
            (true, true) => isys::Shutdown::Both,
            (true, false) => isys::Shutdown::Read,
            (false, true) => isys::Shutdown::Write,
            (false, false) => {
                return Err(Error::InvalidArgument(
                    "shutdown needs read, write or both".into(),
                ))
            }
        };
        if write {
            self.finish_output()?;
        }
        isys::shutdown(self.base.fd()?, how).ctx("shutdown")
    }

    /// Sends buffered output, then closes (IOLib's `close`). The fd is closed even when the
    /// flush fails (that error is returned). Closing a closed socket does nothing.
    pub fn close(&mut self) -> Result<()> {
        if !self.is_open() {
            return Ok(());
        }
        let flushed = self.finish_output();
        self.close_abort();
        flushed
    }

    /// Drops buffered output and closes (IOLib's `close :abort t`).
    pub fn close_abort(&mut self) {
        self.obuf.clear();
        self.opos = 0;
        let _ = self.base.close();
    }
}

impl Drop for ActiveSocket {
    fn drop(&mut self) {
        self.close_abort();
    }
}

impl io::Read for ActiveSocket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.ipos == self.iend {
            if buf.len() >= self.settings.input_buffer_size {
                return Ok(self.recv_waiting(Some(buf))?);
            }
            if self.fill()? == 0 {
                return Ok(0);
            }
        }
        let n = (self.iend - self.ipos).min(buf.len());
        buf[..n].copy_from_slice(&self.ibuf[self.ipos..self.ipos + n]);
        self.ipos += n;
        Ok(n)
    }
}

impl io::BufRead for ActiveSocket {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.ipos == self.iend {
            self.fill()?;
        }
        Ok(&self.ibuf[self.ipos..self.iend])
    }
    fn consume(&mut self, amt: usize) {
        self.ipos = (self.ipos + amt).min(self.iend);
    }
}

impl io::Write for ActiveSocket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_bytes(buf)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(self.finish_output()?)
    }
}

fn family_of(fd: &OwnedFd) -> Family {
    isys::getsockname(fd)
        .ok()
        .and_then(|a| Family::from_domain(a.family()))
        .unwrap_or(Family::Ipv4)
}

impl From<OwnedFd> for ActiveSocket {
    /// Adopts a connected stream socket fd (made non-blocking), with the default format.
    fn from(fd: OwnedFd) -> Self {
        let family = family_of(&fd);
        let _ = isys::set_nonblocking(&fd, true);
        ActiveSocket::from_parts(
            Base::new(fd, family, SocketKind::Stream),
            ExternalFormat::default(),
            StreamSettings::default(),
        )
    }
}

impl From<std::net::TcpStream> for ActiveSocket {
    fn from(s: std::net::TcpStream) -> Self {
        ActiveSocket::from(OwnedFd::from(s))
    }
}

impl From<std::os::unix::net::UnixStream> for ActiveSocket {
    fn from(s: std::os::unix::net::UnixStream) -> Self {
        ActiveSocket::from(OwnedFd::from(s))
    }
}

impl IntoRawFd for ActiveSocket {
    /// Gives up the fd without closing it; buffered output is sent first if it can be
    /// without waiting, otherwise dropped.
    fn into_raw_fd(mut self) -> RawFd {
        let _ = self.force_output();
        match self.base.fd.take() {
            Some(fd) => fd.into_raw_fd(),
            None => -1,
        }
    }
}

impl TryFrom<ActiveSocket> for std::net::TcpStream {
    type Error = Error;
    /// The socket as a blocking std stream; buffered output is sent first.
    fn try_from(mut s: ActiveSocket) -> Result<Self> {
        s.finish_output()?;
        let fd = s.base.fd.take().ok_or(Error::Closed)?;
        isys::set_nonblocking(&fd, false).ctx("fcntl")?;
        Ok(std::net::TcpStream::from(fd))
    }
}

// ---------------------------------------------------------------------------------------------

/// A datagram socket (IOLib's datagram `active-socket`): UDP or local datagrams.
pub struct DatagramSocket {
    pub(crate) base: Base,
}
fd_traits!(DatagramSocket);

impl fmt::Debug for DatagramSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatagramSocket")
            .field("fd", &self.socket_os_fd())
            .field("family", &self.base.family)
            .field("local", &self.local_name().ok())
            .finish()
    }
}

impl DatagramSocket {
    /// A new unbound datagram socket of `family` (non-blocking).
    pub fn new(family: Family) -> Result<Self> {
        Ok(DatagramSocket {
            base: Base::create(family, SocketKind::Datagram)?,
        })
    }

    /// Binds to `addr`:`port` (IOLib's `bind-address`), with `SO_REUSEADDR` when asked.
    pub fn bind_address(&self, addr: &Address, port: u16, reuse_address: bool) -> Result<()> {
        self.base.bind(addr, port, reuse_address)
    }

    /// Sets the default peer (IOLib's `connect` on a datagram socket).
    pub fn connect(&self, addr: &Address, port: u16) -> Result<()> {
        let sa = self.base.sockaddr(addr, port)?;
        isys::connect(self.base.fd()?, &sa).ctx("connect")
    }

    /// Forgets the default peer (IOLib's `disconnect`): `connect` with `AF_UNSPEC`.
    pub fn disconnect(&self) -> Result<()> {
        let unspec = SockAddr::empty();
        match isys::connect(self.base.fd()?, &unspec) {
            // BSDs answer EAFNOSUPPORT but still dissolve the association.
            Ok(()) | Err(Errno::EAFNOSUPPORT) => Ok(()),
            Err(e) => Err(Error::from_errno("connect", e)),
        }
    }

    /// Whether a default peer is set.
    pub fn socket_connected_p(&self) -> bool {
        self.base.fd().is_ok_and(|fd| isys::getpeername(fd).is_ok())
    }

    /// The default peer (IOLib's `remote-name`).
    pub fn remote_name(&self) -> Result<(Address, u16)> {
        address_of(&isys::getpeername(self.base.fd()?).ctx("getpeername")?)
    }

    /// Sends one datagram (IOLib's `send-to`): to `to` when given, else to the connected
    /// peer. Non-blocking: `EWOULDBLOCK` when the buffer is full.
    pub fn send_to(
        &self,
        buf: &[u8],
        to: Option<(&Address, u16)>,
        flags: MsgFlags,
    ) -> Result<usize> {
        let fd = self.base.fd()?;
        match to {
            Some((addr, port)) => {
                let sa = self.base.sockaddr(addr, port)?;
                isys::sendto(fd, buf, flags, &sa).ctx("sendto")
            }
            None => isys::send(fd, buf, flags).ctx("send"),
        }
    }

    /// Receives one datagram (IOLib's `receive-from`): the byte count and the sender.
    /// Non-blocking: `EWOULDBLOCK` when none is waiting (see
    /// [`wait_readable`](BaseSocket::wait_readable)).
    pub fn receive_from(
        &self,
        buf: &mut [u8],
        flags: MsgFlags,
    ) -> Result<(usize, Option<(Address, u16)>)> {
        let (n, sa) = isys::recvfrom(self.base.fd()?, buf, flags).ctx("recvfrom")?;
        let from = if sa.is_empty() || sa.family() == libc::AF_UNSPEC {
            None
        } else {
            address_of(&sa).ok()
        };
        Ok((n, from))
    }

    /// Closes the socket; harmless when already closed.
    pub fn close(&mut self) -> Result<()> {
        self.base.close()
    }
}

impl From<std::net::UdpSocket> for DatagramSocket {
    fn from(s: std::net::UdpSocket) -> Self {
        let fd = OwnedFd::from(s);
        let family = family_of(&fd);
        let _ = isys::set_nonblocking(&fd, true);
        DatagramSocket {
            base: Base::new(fd, family, SocketKind::Datagram),
        }
    }
}

// ---------------------------------------------------------------------------------------------

/// Any socket [`make_socket`](crate::make_socket) can build.
#[derive(Debug)]
pub enum Socket {
    /// A connected or connectable stream socket.
    Active(ActiveSocket),
    /// A listening stream socket.
    Passive(PassiveSocket),
    /// A datagram socket.
    Datagram(DatagramSocket),
}

impl Socket {
    /// The active stream socket, or `InvalidArgument`.
    pub fn into_active(self) -> Result<ActiveSocket> {
        match self {
            Socket::Active(s) => Ok(s),
            other => Err(Error::InvalidArgument(format!(
                "expected an active stream socket, got {other:?}"
            ))),
        }
    }
    /// The passive socket, or `InvalidArgument`.
    pub fn into_passive(self) -> Result<PassiveSocket> {
        match self {
            Socket::Passive(s) => Ok(s),
            other => Err(Error::InvalidArgument(format!(
                "expected a passive socket, got {other:?}"
            ))),
        }
    }
    /// The datagram socket, or `InvalidArgument`.
    pub fn into_datagram(self) -> Result<DatagramSocket> {
        match self {
            Socket::Datagram(s) => Ok(s),
            other => Err(Error::InvalidArgument(format!(
                "expected a datagram socket, got {other:?}"
            ))),
        }
    }
}

impl AsFd for Socket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Socket::Active(s) => s.as_fd(),
            Socket::Passive(s) => s.as_fd(),
            Socket::Datagram(s) => s.as_fd(),
        }
    }
}

impl BaseSocket for Socket {
    fn base(&self) -> &Base {
        match self {
            Socket::Active(s) => &s.base,
            Socket::Passive(s) => &s.base,
            Socket::Datagram(s) => &s.base,
        }
    }
}

/// A connected pair of local stream sockets (IOLib's `make-socket-pair`).
pub fn make_socket_pair(format: ExternalFormat) -> Result<(ActiveSocket, ActiveSocket)> {
    let (a, b) = isys::socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, true).ctx("socketpair")?;
    let mk = |fd| {
        ActiveSocket::from_parts(
            Base::new(fd, Family::Local, SocketKind::Stream),
            format,
            StreamSettings::default(),
        )
    };
    Ok((mk(a), mk(b)))
}

/// Wraps an existing socket fd (IOLib's `make-socket-from-fd`): its type, listening state and
/// family are read from the kernel; the fd is made non-blocking.
pub fn make_socket_from_fd(fd: OwnedFd, format: ExternalFormat) -> Result<Socket> {
    let ty: i32 = isys::getsockopt(&fd, libc::SOL_SOCKET, libc::SO_TYPE).ctx("getsockopt")?;
    let family = isys::getsockname(&fd)
        .ctx("getsockname")
        .and_then(|a| Family::from_domain(a.family()).ok_or(Error::AddressFamilyNotSupported))?;
    isys::set_nonblocking(&fd, true).ctx("fcntl")?;
    match ty {
        libc::SOCK_DGRAM => Ok(Socket::Datagram(DatagramSocket {
            base: Base::new(fd, family, SocketKind::Datagram),
        })),
        libc::SOCK_STREAM => {
            let listening: i32 =
                isys::getsockopt(&fd, libc::SOL_SOCKET, libc::SO_ACCEPTCONN).ctx("getsockopt")?;
            let base = Base::new(fd, family, SocketKind::Stream);
            if listening != 0 {
                Ok(Socket::Passive(PassiveSocket::from_base(base, format)))
            } else {
                Ok(Socket::Active(ActiveSocket::from_parts(
                    base,
                    format,
                    StreamSettings::default(),
                )))
            }
        }
        other => Err(Error::InvalidArgument(format!(
            "unsupported socket type {other}"
        ))),
    }
}

fn describe(f: &mut fmt::Formatter<'_>, what: &str, s: &dyn BaseSocket) -> fmt::Result {
    let fam = match s.family() {
        Family::Ipv4 => "ipv4",
        Family::Ipv6 => "ipv6",
        Family::Local => "local",
    };
    let Some(fd) = s.socket_os_fd() else {
        return write!(f, "#<{what} {fam} socket, closed>");
    };
    let name = |r: Result<(Address, u16)>| match r {
        Ok((Address::Local(l), _)) => l.to_string(),
        Ok((a, p)) => format!("{a}:{p}"),
        Err(_) => "?".to_string(),
    };
    write!(
        f,
        "#<{what} {fam} socket {}, fd: {fd}>",
        name(s.local_name())
    )
}

impl fmt::Display for PassiveSocket {
    /// IOLib-style: `#<passive ipv4 socket 0.0.0.0:9999, fd: 3>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        describe(f, "passive", self)
    }
}

impl fmt::Display for ActiveSocket {
    /// IOLib-style: `#<active ipv4 socket 127.0.0.1:34794, fd: 5>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        describe(f, "active", self)
    }
}

impl fmt::Display for DatagramSocket {
    /// IOLib-style: `#<datagram ipv4 socket 0.0.0.0:5353, fd: 4>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        describe(f, "datagram", self)
    }
}
