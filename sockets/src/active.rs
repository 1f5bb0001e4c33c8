//! Active stream sockets (IOLib's `active-socket`): the [`ActiveSocket`] type, its
//! constructors and conversions, `connect`, the peer's name, `shutdown` and `close`. Its
//! buffered and line I/O is the shared stream buffer (`buffer.rs`, `stream.rs`, `output.rs`,
//! `stream_api.rs`), its unbuffered sends and receives in `send_receive.rs`.

use crate::address::{Address, LocalAddress};
use crate::base_socket::{address_of, family_of, fd_traits, Base, BaseSocket, Family, SocketKind};
use crate::buffer::{StreamBuffer, StreamSettings};
use crate::error::{Error, Result, SysContext};
use crate::format::ExternalFormat;
use crate::stream_api::line_stream_methods;
use crate::wait::{remaining, Wait};
use isys::{Errno, FdEvent, MsgFlags};
use std::fmt;
use std::os::fd::{IntoRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

/// A connected (or connecting) stream socket (IOLib's `active-socket`) with line-oriented
/// buffered I/O. The fd is non-blocking; "blocking" reads and writes wait on it with
/// `poll(2)`, honouring [`set_read_timeout`](Self::set_read_timeout) and
/// [`set_write_timeout`](Self::set_write_timeout).
///
/// `write!(sock, ...)` formats text through the external format (each `\n` becomes the line
/// end); [`io::Write`](std::io::Write) writes raw bytes.
///
/// ```
/// use sockets::*;
///
/// let (mut a, mut b) = make_socket_pair(ExternalFormat::UTF8_LF)?;
/// a.write_line("ping")?;
/// a.finish_output()?;
/// assert_eq!(b.read_line()?, "ping");
/// # Ok::<(), sockets::Error>(())
/// ```
pub struct ActiveSocket {
    pub(crate) base: Base,
    /// The stream buffer; its invariants are described at the top of `buffer.rs`.
    pub(crate) buf: StreamBuffer,
}
fd_traits!(ActiveSocket);
line_stream_methods!(ActiveSocket, base);

impl fmt::Debug for ActiveSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActiveSocket")
            .field("fd", &self.socket_os_fd())
            .field("family", &self.base.family)
            .field("format", &self.buf.format)
            .field("buffered_input", &self.buf.buffered_input().len())
            .field("buffered_output", &self.buf.buffered_output())
            .finish()
    }
}

impl ActiveSocket {
    pub(crate) fn from_parts(base: Base, format: ExternalFormat, settings: StreamSettings) -> Self {
        ActiveSocket {
            base,
            buf: StreamBuffer::new(format, settings),
        }
    }

    /// A new unconnected active stream socket of `family` with `format`.
    ///
    /// # Errors
    /// The `socket(2)` failure: `EMFILE`/`ENFILE` when out of fds,
    /// [`Error::AddressFamilyNotSupported`] for a family the system lacks.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockets::*;
    ///
    /// let server = make_socket().connect(Connect::Passive).local_host("127.0.0.1").local_port(0)
    ///     .build_passive()?;
    /// let mut client = ActiveSocket::new(Family::Ipv4, ExternalFormat::UTF8_LF)?;
    /// assert!(client.connect(IPV4_LOOPBACK, server.local_port()?, Wait::Forever)?);
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn new(family: Family, format: ExternalFormat) -> Result<Self> {
        Ok(ActiveSocket::from_parts(
            Base::create(family, SocketKind::Stream)?,
            format,
            StreamSettings::default(),
        ))
    }

    /// Binds the local end before connecting (IOLib's `bind-address` on an active socket).
    ///
    /// # Errors
    /// [`Error::AddressInUse`], [`Error::AddressNotAvailable`] (an address not on this host),
    /// [`Error::InvalidAddress`] for an address of another family, [`Error::Closed`].
    ///
    /// # Examples
    ///
    /// ```
    /// use sockets::*;
    ///
    /// let client = ActiveSocket::new(Family::Ipv4, ExternalFormat::UTF8_LF)?;
    /// client.bind_address(IPV4_LOOPBACK, 0)?;
    /// assert_eq!(client.local_host()?, Address::Ipv4(IPV4_LOOPBACK));
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn bind_address(&self, addr: impl Into<Address>, port: u16) -> Result<()> {
        self.base.bind(&addr.into(), port, false)
    }

    /// Connects to `addr`:`port` (IOLib's `connect`). The connect is non-blocking underneath:
    /// with [`Wait::No`] it returns `Ok(false)` while the connection is in progress; otherwise
    /// it waits (up to the given time; running out is [`Error::ConnectionTimeout`]) and reads
    /// `SO_ERROR` back, so a refused connection is [`Error::ConnectionRefused`].
    ///
    /// Blocks up to `wait` (`Wait::Forever`: as long as the kernel tries, about two minutes for
    /// TCP).
    ///
    /// # Errors
    /// [`Error::ConnectionRefused`], [`Error::ConnectionTimeout`] (the wait ran out, or the
    /// kernel gave up), [`Error::NetworkUnreachable`], [`Error::HostUnreachable`],
    /// [`Error::InvalidAddress`] for an address of another family, [`Error::Closed`].
    ///
    /// # Examples
    ///
    /// ```
    /// use sockets::*;
    ///
    /// // Nobody listens on the port this closed listener had.
    /// let port = make_socket().connect(Connect::Passive).local_host("127.0.0.1").local_port(0)
    ///     .build_passive()?.local_port()?;
    /// let mut client = ActiveSocket::new(Family::Ipv4, ExternalFormat::UTF8_LF)?;
    /// let wait = Wait::For(std::time::Duration::from_secs(5));
    /// let refused = client.connect(IPV4_LOOPBACK, port, wait);
    /// assert!(matches!(refused, Err(Error::ConnectionRefused)));
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn connect(
        &mut self,
        addr: impl Into<Address>,
        port: u16,
        wait: impl Into<Wait>,
    ) -> Result<bool> {
        let sa = self.base.sockaddr(&addr.into(), port)?;
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
    ///
    /// ```
    /// use sockets::*;
    ///
    /// let (a, _b) = make_socket_pair(ExternalFormat::UTF8_LF)?;
    /// assert!(a.socket_connected_p());
    /// assert!(!ActiveSocket::new(Family::Ipv4, ExternalFormat::UTF8_LF)?.socket_connected_p());
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn socket_connected_p(&self) -> bool {
        self.base.fd().is_ok_and(|fd| isys::getpeername(fd).is_ok())
    }

    /// The peer's address and port (IOLib's `remote-name`).
    ///
    /// # Errors
    /// [`Error::NotConnected`] before a connection, [`Error::Closed`] after `close`,
    /// [`Error::InvalidArgument`] on a local socket (use
    /// [`remote_filename`](Self::remote_filename)).
    ///
    /// # Examples
    ///
    /// ```
    /// use sockets::*;
    ///
    /// let server = make_socket().connect(Connect::Passive).local_host("127.0.0.1").local_port(0)
    ///     .build_passive()?;
    /// let port = server.local_port()?;
    /// let client = make_socket().remote_host("127.0.0.1").remote_port(port).build_active()?;
    /// assert_eq!(client.remote_name()?, (Address::Ipv4(IPV4_LOOPBACK), port));
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn remote_name(&self) -> Result<(Address, u16)> {
        address_of(&isys::getpeername(self.base.fd()?).ctx("getpeername")?)
    }
    /// The peer's address (IOLib's `remote-host`).
    ///
    /// # Errors
    /// As [`remote_name`](Self::remote_name).
    ///
    /// # Examples
    ///
    /// See [`remote_name`](Self::remote_name) for an example.
    pub fn remote_host(&self) -> Result<Address> {
        self.remote_name().map(|(a, _)| a)
    }
    /// The peer's port (IOLib's `remote-port`).
    ///
    /// # Errors
    /// As [`remote_name`](Self::remote_name).
    ///
    /// # Examples
    ///
    /// See [`remote_name`](Self::remote_name) for an example.
    pub fn remote_port(&self) -> Result<u16> {
        self.remote_name().map(|(_, p)| p)
    }
    /// The peer's filename on a local socket (IOLib's `remote-filename`).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] on an internet socket, [`Error::NotConnected`],
    /// [`Error::Closed`].
    ///
    /// # Examples
    ///
    /// ```
    /// use sockets::*;
    ///
    /// let (a, _b) = make_socket_pair(ExternalFormat::UTF8_LF)?;
    /// // A socket pair's ends have no names.
    /// assert_eq!(a.remote_filename()?, LocalAddress::path(""));
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn remote_filename(&self) -> Result<LocalAddress> {
        match self.remote_host()? {
            Address::Local(l) => Ok(l),
            other => Err(Error::InvalidArgument(format!(
                "{other} is not a local socket name"
            ))),
        }
    }

    // ----- closing -----------------------------------------------------------------------

    /// Shuts down reading and/or writing (IOLib's `shutdown`). Shutting down writing sends
    /// buffered output first, then FIN: the peer reads end of file after all the data.
    ///
    /// Blocks while flushing, up to the write timeout.
    ///
    /// # Errors
    /// [`finish_output`](Self::finish_output)'s errors when writing is shut down,
    /// [`Error::NotConnected`], [`Error::Closed`].
    ///
    /// # Examples
    ///
    /// ```
    /// use sockets::*;
    ///
    /// let (mut a, mut b) = make_socket_pair(ExternalFormat::UTF8_LF)?;
    /// a.write_line("last")?;
    /// a.shutdown(false, true)?;
    /// assert_eq!(b.read_line()?, "last");
    /// assert!(matches!(b.read_line(), Err(Error::EndOfFile)));
    /// # Ok::<(), sockets::Error>(())
    /// ```
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
    ///
    /// Input nobody read is discarded, whether this socket buffered it or the kernel holds it
    /// (up to 1 MiB of the latter is read and dropped, without waiting), so the peer sees an
    /// orderly end of file after everything sent here, not a reset: an echo client that
    /// wrote one more line after `quit` reads the server's last answer and then end of file.
    /// [`close_abort`](Self::close_abort) skips both the flush and this.
    ///
    /// Blocks while flushing, up to the write timeout.
    ///
    /// # Errors
    /// [`finish_output`](Self::finish_output)'s errors ([`Error::Hangup`],
    /// [`Error::ConnectionReset`], [`Error::Timeout`]); the socket is closed all the same.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockets::*;
    ///
    /// let (mut a, b) = make_socket_pair(ExternalFormat::UTF8_LF)?;
    /// a.close()?;
    /// a.close()?; // harmless
    /// assert!(!a.is_open() && b.is_open());
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn close(&mut self) -> Result<()> {
        if !self.is_open() {
            return Ok(());
        }
        let flushed = self.finish_output();
        self.discard_unread_input();
        self.close_abort();
        flushed
    }

    /// Reads and drops what the kernel has received and nobody read, without waiting: closing
    /// with unread input would make the kernel answer with a reset instead of end of file.
    fn discard_unread_input(&mut self) {
        const MAX_DISCARD: usize = 1 << 20;
        let Ok(fd) = self.base.fd() else { return };
        let mut scratch = [0u8; 4096];
        let mut discarded = 0;
        while discarded < MAX_DISCARD {
            match isys::recv(fd, &mut scratch, MsgFlags::DONT_WAIT) {
                Ok(0) => break,
                Ok(n) => discarded += n,
                Err(Errno::EINTR) => continue,
                Err(_) => break,
            }
        }
    }

    /// Drops buffered output and closes (IOLib's `close :abort t`).
    ///
    /// ```
    /// use sockets::*;
    ///
    /// let (mut a, _b) = make_socket_pair(ExternalFormat::UTF8_LF)?;
    /// a.write_line("never sent")?;
    /// a.close_abort();
    /// assert!(!a.is_open());
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn close_abort(&mut self) {
        self.buf.obuf.clear();
        self.buf.opos = 0;
        self.buf.release_input_budget();
        let _ = self.base.close();
    }
}

impl Drop for ActiveSocket {
    fn drop(&mut self) {
        self.close_abort();
    }
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
