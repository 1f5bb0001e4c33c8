//! Line streams on any fd (IOLib's `fd-streams`): [`FdStream`] puts the socket stream's
//! buffer, external formats and line reader over stdin, pipes, terminals and files, moving
//! bytes with `read(2)`/`write(2)` (a socket's `recv`/`send` fail with `ENOTSOCK` on other
//! fds). The fd is made non-blocking, so the stream works inside event-base handlers
//! ([`read_line_no_hang`](FdStream::read_line_no_hang)); its "blocking" calls wait with
//! `poll(2)` and the timeouts, as a socket's do. Regular files are always ready.

use crate::buffer::{RawIo, StreamBuffer, StreamSettings};
use crate::error::{Error, Result, SysContext};
use crate::format::ExternalFormat;
use crate::stream_api::line_stream_methods;
use crate::wait::remaining;
use isys::{Errno, FdEvent, FdWaitError};
use std::fmt;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

/// A line-buffered stream over any fd (IOLib's `dual-channel-fd-mixin` streams): stdin,
/// stdout, pipes, terminals, files. It has every line method [`ActiveSocket`](crate::ActiveSocket)
/// has (`read_line`, `read_line_no_hang`, `read_char`, `write_line`, `write!`,
/// `finish_output`, `force_output`, `std::io::{Read, BufRead, Write}`), from the same code.
///
/// The fd is switched to non-blocking mode, which the file description shares with every
/// other holder of it (a shell's terminal, for stdin): [`close`](Self::close),
/// [`close_abort`](Self::close_abort), [`into_fd`](Self::into_fd) and `Drop` put the old mode
/// back. Like a socket, `Drop` discards unsent output: call
/// [`finish_output`](Self::finish_output) or [`close`](Self::close) first.
///
/// ```
/// use sockets::{ExternalFormat, FdStream};
/// use std::io::Write;
/// let (r, w) = isys::pipe(false)?;
/// let mut out = FdStream::new(w, ExternalFormat::UTF8_CRLF)?;
/// let mut input = FdStream::new(r, ExternalFormat::UTF8_CRLF)?;
/// writeln!(out, "héllo")?;
/// out.close()?;
/// assert_eq!(input.read_line()?, "héllo");
/// assert!(matches!(input.read_line(), Err(sockets::Error::EndOfFile)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct FdStream {
    io: FdIo,
    /// The stream buffer; its invariants are described at the top of `buffer.rs`.
    buf: StreamBuffer,
}
line_stream_methods!(FdStream, io);

/// The fd of an [`FdStream`] and how it moves bytes: `read(2)`/`write(2)`.
#[derive(Debug)]
struct FdIo {
    fd: Option<OwnedFd>,
    /// Whether the fd was non-blocking before we made it so.
    was_nonblocking: bool,
}

impl FdIo {
    fn wait(&self, event: FdEvent, deadline: Option<Instant>, what: Duration) -> Result<bool> {
        match isys::wait_until_fd_ready(self.io_fd()?, event, remaining(deadline)) {
            Ok((false, false)) => Err(Error::Timeout(what)),
            Ok(_) => Ok(false),
            // The read or write that follows reports the error, or would block and pauses.
            Err(FdWaitError::PollErr { .. }) => Ok(true),
            Err(e) => Err(e.into()),
        }
    }

    /// Gives the fd back in the blocking mode it had.
    fn release(&mut self) -> Option<OwnedFd> {
        let fd = self.fd.take()?;
        if !self.was_nonblocking {
            let _ = isys::set_nonblocking(&fd, false);
        }
        Some(fd)
    }
}

impl RawIo for FdIo {
    const READ_CALL: &'static str = "read";
    const WRITE_CALL: &'static str = "write";
    fn io_fd(&self) -> Result<BorrowedFd<'_>> {
        self.fd.as_ref().map(|f| f.as_fd()).ok_or(Error::Closed)
    }
    fn read_some(fd: BorrowedFd<'_>, buf: &mut [u8]) -> isys::Result<usize> {
        isys::read(fd, buf)
    }
    fn write_some(fd: BorrowedFd<'_>, buf: &[u8]) -> isys::Result<usize> {
        isys::write(fd, buf)
    }
    fn wait_input(&self, deadline: Option<Instant>, what: Duration) -> Result<bool> {
        self.wait(FdEvent::Read, deadline, what)
    }
    fn wait_output(&self, deadline: Option<Instant>, what: Duration) -> Result<()> {
        self.wait(FdEvent::Write, deadline, what).map(|_| ())
    }
    fn pending_error(&self) -> Result<Option<Errno>> {
        Ok(None)
    }
}

impl fmt::Debug for FdStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FdStream")
            .field("fd", &self.fd_number())
            .field("format", &self.buf.format)
            .field("buffered_input", &self.buf.buffered_input().len())
            .field("buffered_output", &self.buf.buffered_output())
            .finish()
    }
}

impl FdStream {
    /// A stream over `fd` with `format` and the default buffer sizes; the fd is made
    /// non-blocking (and put back on close).
    ///
    /// # Errors
    /// The `fcntl(2)` failure (an fd that is not open).
    ///
    /// # Examples
    ///
    /// See [`FdStream`] for an example over a pipe.
    pub fn new(fd: OwnedFd, format: ExternalFormat) -> Result<Self> {
        let was_nonblocking = isys::is_nonblocking(&fd).ctx("fcntl")?;
        isys::set_nonblocking(&fd, true).ctx("fcntl")?;
        Ok(FdStream {
            io: FdIo {
                fd: Some(fd),
                was_nonblocking,
            },
            buf: StreamBuffer::new(format, StreamSettings::default()),
        })
    }

    /// A stream over a duplicate of fd 0 (IOLib's `*standard-input*` as an fd stream).
    ///
    /// # Errors
    /// The `dup(2)` or `fcntl(2)` failure.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockets::{ExternalFormat, FdStream};
    ///
    /// let input = FdStream::stdin(ExternalFormat::UTF8_LF)?; // a dup: closing it leaves fd 0 open
    /// assert!(input.is_open());
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn stdin(format: ExternalFormat) -> Result<Self> {
        FdStream::new(isys::dup(std::io::stdin().as_fd()).ctx("dup")?, format)
    }

    /// A stream over a duplicate of fd 1 (IOLib's `*standard-output*` as an fd stream).
    ///
    /// # Errors
    /// The `dup(2)` or `fcntl(2)` failure.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockets::{ExternalFormat, FdStream};
    ///
    /// let mut out = FdStream::stdout(ExternalFormat::UTF8_LF)?;
    /// out.write_line("hello from an fd stream")?;
    /// out.finish_output()?;
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn stdout(format: ExternalFormat) -> Result<Self> {
        FdStream::new(isys::dup(std::io::stdout().as_fd()).ctx("dup")?, format)
    }

    /// Opens `path` for reading and wraps it.
    ///
    /// # Errors
    /// The `open(2)` failure, as [`Error::Sys`].
    ///
    /// # Examples
    ///
    /// ```
    /// use sockets::{Error, ExternalFormat, FdStream};
    ///
    /// let path = std::env::temp_dir().join(format!("fd-stream-doc-{}.txt", std::process::id()));
    /// std::fs::write(&path, "first\nsecond\n")?;
    /// let mut file = FdStream::open(&path, ExternalFormat::UTF8_LF)?;
    /// assert_eq!(file.read_line()?, "first");
    /// assert_eq!(file.read_line()?, "second");
    /// assert!(matches!(file.read_line(), Err(Error::EndOfFile)));
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open(path: impl AsRef<std::path::Path>, format: ExternalFormat) -> Result<Self> {
        let file = std::fs::File::open(path)
            .map_err(|e| Error::from_errno("open", isys::errno_from_io(&e)))?;
        FdStream::new(OwnedFd::from(file), format)
    }

    /// The fd number, `None` once closed (IOLib's `fd-of`).
    ///
    /// ```
    /// use sockets::*;
    ///
    /// let (r, _w) = isys::pipe(false)?;
    /// let mut input = FdStream::new(r, ExternalFormat::UTF8_LF)?;
    /// assert!(input.fd_number().is_some() && input.is_open());
    /// input.close_abort();
    /// assert_eq!(input.fd_number(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fd_number(&self) -> Option<RawFd> {
        self.io.fd.as_ref().map(|f| f.as_raw_fd())
    }

    /// Whether the stream is open.
    ///
    /// See [`fd_number`](Self::fd_number) for an example.
    pub fn is_open(&self) -> bool {
        self.io.fd.is_some()
    }

    /// Sends buffered output, then closes (IOLib's `close`). The fd is closed even when the
    /// flush fails (that error is returned). Closing a closed stream does nothing.
    ///
    /// # Errors
    /// [`finish_output`](Self::finish_output)'s errors, then the `close(2)` failure.
    ///
    /// # Examples
    ///
    /// See [`FdStream`] for an example: closing the write end gives the reader end of file.
    pub fn close(&mut self) -> Result<()> {
        if !self.is_open() {
            return Ok(());
        }
        let flushed = self.finish_output();
        let closed = match self.discard() {
            Some(fd) => isys::close(fd).ctx("close"),
            None => Ok(()),
        };
        flushed.and(closed)
    }

    /// Drops buffered output and closes (IOLib's `close :abort t`).
    ///
    /// See [`fd_number`](Self::fd_number) for an example.
    pub fn close_abort(&mut self) {
        drop(self.discard());
    }

    /// Gives up the fd (in its old blocking mode) without closing it; buffered output is
    /// sent first.
    ///
    /// # Errors
    /// [`finish_output`](Self::finish_output)'s errors (the stream is then still open).
    ///
    /// # Examples
    ///
    /// ```
    /// use sockets::{ExternalFormat, FdStream};
    ///
    /// let (_r, w) = isys::pipe(false)?;
    /// let mut out = FdStream::new(w, ExternalFormat::UTF8_LF)?;
    /// out.write_line("sent before the fd is given back")?;
    /// let w = out.into_fd()?;
    /// # drop(w);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_fd(mut self) -> Result<OwnedFd> {
        self.finish_output()?;
        self.discard().ok_or(Error::Closed)
    }

    /// Drops the buffers and takes the fd out, in its old mode.
    fn discard(&mut self) -> Option<OwnedFd> {
        self.buf.obuf.clear();
        self.buf.opos = 0;
        self.buf.release_input_budget();
        self.io.release()
    }
}

impl Drop for FdStream {
    fn drop(&mut self) {
        self.close_abort();
    }
}

impl AsFd for FdStream {
    /// The fd. On a closed stream this is a placeholder fd on which every operation fails,
    /// never an fd that reused the old number.
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io
            .io_fd()
            .unwrap_or_else(|_| crate::base_socket::closed_placeholder())
    }
}

impl AsRawFd for FdStream {
    fn as_raw_fd(&self) -> RawFd {
        self.as_fd().as_raw_fd()
    }
}
