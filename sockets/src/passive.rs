//! Passive sockets (IOLib's `passive-socket`): a listening stream socket that binds,
//! listens and accepts, handing its external format and buffer settings to the sockets it
//! accepts.

use crate::active::ActiveSocket;
use crate::address::Address;
use crate::base_socket::{closed_placeholder, fd_traits, Base, BaseSocket, Family, SocketKind};
use crate::budget::InputBudget;
use crate::buffer::StreamSettings;
use crate::error::{Error, Result, SysContext};
use crate::format::ExternalFormat;
use crate::wait::{remaining, Wait};
use isys::{Errno, FdEvent, FdWaitError};
use std::fmt;
use std::os::fd::OwnedFd;

/// IOLib's default listen backlog.
pub const DEFAULT_BACKLOG: i32 = 5;

/// A listening stream socket (IOLib's `passive-socket`): bind, listen, accept.
///
/// ```
/// use sockets::*;
///
/// let server = make_socket().connect(Connect::Passive).local_host("127.0.0.1").local_port(0)
///     .build_passive()?;
/// let _client = make_socket().remote_host("127.0.0.1").remote_port(server.local_port()?)
///     .build_active()?;
/// let conn = server.accept_connection(Wait::Forever)?.expect("a pending connection");
/// assert!(conn.socket_connected_p());
/// # Ok::<(), sockets::Error>(())
/// ```
pub struct PassiveSocket {
    pub(crate) base: Base,
    pub(crate) format: ExternalFormat,
    pub(crate) settings: StreamSettings,
    pub(crate) reuse_address: bool,
}
fd_traits!(PassiveSocket);

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
    ///
    /// # Errors
    /// The `socket(2)` failure: `EMFILE`/`ENFILE` when out of fds,
    /// [`Error::AddressFamilyNotSupported`].
    ///
    /// # Examples
    ///
    /// ```
    /// use sockets::*;
    ///
    /// let server = PassiveSocket::new(Family::Ipv4)?;
    /// server.bind_address(IPV4_LOOPBACK, 0)?;
    /// server.listen_on(DEFAULT_BACKLOG)?;
    /// assert_ne!(server.local_port()?, 0);
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn new(family: Family) -> Result<Self> {
        Ok(PassiveSocket::from_base(
            Base::create(family, SocketKind::Stream)?,
            ExternalFormat::default(),
        ))
    }

    /// Binds to `addr`:`port` (IOLib's `bind-address`), setting `SO_REUSEADDR` first unless
    /// `reuse_address` was turned off. Port 0 picks a free port.
    ///
    /// # Errors
    /// [`Error::AddressInUse`] when another socket holds the port, [`Error::AddressNotAvailable`]
    /// for an address not on this host, [`Error::InvalidAddress`] for an address of another
    /// family, `EACCES` for a privileged port, [`Error::Closed`]. See [`new`](Self::new) for an
    /// example.
    pub fn bind_address(&self, addr: impl Into<Address>, port: u16) -> Result<()> {
        self.base.bind(&addr.into(), port, self.reuse_address)
    }

    /// Starts listening (IOLib's `listen-on`).
    ///
    /// # Errors
    /// `EINVAL`/`EOPNOTSUPP` from `listen(2)` when the socket cannot listen, [`Error::Closed`].
    /// See [`new`](Self::new) for an example.
    pub fn listen_on(&self, backlog: i32) -> Result<()> {
        isys::listen(self.base.fd()?, backlog).ctx("listen")
    }

    /// Accepts a connection (IOLib's `accept-connection`). With [`Wait::No`] or when the wait
    /// times out, `Ok(None)` if nothing is pending; also `Ok(None)` when the peer vanished
    /// between its SYN and the accept. The new socket is non-blocking and inherits this
    /// socket's external format and buffer settings.
    ///
    /// Blocks up to `wait`: [`Wait::Forever`] until a client comes, [`Wait::For`] at most that
    /// long, [`Wait::No`] not at all.
    ///
    /// # Errors
    /// `EMFILE`/`ENFILE` when out of fds and `ENOBUFS`/`ENOMEM` ([`Error::scope`] says these pass;
    /// an [`Acceptor`](crate::Acceptor) handles them), [`Error::Closed`], [`Error::Poll`].
    ///
    /// # Examples
    ///
    /// ```
    /// use sockets::*;
    /// use std::time::Duration;
    ///
    /// let server = make_socket().connect(Connect::Passive).local_host("127.0.0.1").local_port(0)
    ///     .build_passive()?;
    /// assert!(server.accept_connection(Wait::No)?.is_none());
    /// assert!(server.accept_connection(Wait::For(Duration::from_millis(10)))?.is_none());
    /// # Ok::<(), sockets::Error>(())
    /// ```
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
                        self.settings.clone(),
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
    ///
    /// # Errors
    /// The `close(2)` failure (rare: `EIO`); the fd is released all the same.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockets::*;
    ///
    /// let server = make_socket().connect(Connect::Passive).local_host("127.0.0.1").local_port(0)
    ///     .build_passive()?;
    /// let mut server = server;
    /// server.close()?;
    /// assert!(matches!(server.accept_connection(Wait::No), Err(Error::Closed)));
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn close(&mut self) -> Result<()> {
        self.base.close()
    }

    /// Shares `budget` with every socket accepted from now on (or none): the input those
    /// sockets buffer beyond their base buffer size, while unfinished lines fill them, is
    /// bounded by it all together. See [`InputBudget`].
    ///
    /// ```
    /// use sockets::*;
    ///
    /// let mut server = PassiveSocket::new(Family::Ipv4)?;
    /// server.set_input_budget(Some(InputBudget::new(64 << 20)));
    /// assert_eq!(server.input_budget().map(InputBudget::limit), Some(64 << 20));
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn set_input_budget(&mut self, budget: Option<InputBudget>) {
        self.settings.input_budget = budget;
    }

    /// The budget handed to accepted sockets, if any.
    ///
    /// See [`set_input_budget`](Self::set_input_budget) for an example.
    pub fn input_budget(&self) -> Option<&InputBudget> {
        self.settings.input_budget.as_ref()
    }

    /// The external format handed to accepted sockets.
    ///
    /// See [`MakeSocket::external_format`](crate::MakeSocket::external_format) for an example.
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
