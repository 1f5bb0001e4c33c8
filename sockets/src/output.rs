//! The output side of an [`ActiveSocket`]'s stream buffer: formatted and line writes encoded
//! through the external format, raw byte writes, `finish_output`/`force_output`, and
//! [`io::Write`].
//!
//! Output, `obuf` with the cursor `opos`:
//! - `opos <= obuf.len()`.
//! - `obuf[..opos]` has been sent; `obuf[opos..]` is written by the program and not yet sent,
//!   already encoded (text through the external format, each `\n` as its line end; raw bytes
//!   as given). When everything is sent, `obuf` is emptied and `opos` is 0.
//! - A write appends whole, then flushes (waiting, as `finish_output`) once at least
//!   `settings.output_buffer_size` bytes are unsent, so `obuf` may briefly exceed that size.
//!   Otherwise output goes out only on `finish_output` and [`io::Write::flush`] (all of it,
//!   waiting up to the write timeout), `force_output` (one non-blocking try), `shutdown` with
//!   writing, `close`, and the conversions out of an `ActiveSocket`. `close_abort` and `Drop`
//!   discard it. `send_to` bypasses `obuf`, so it can overtake output still buffered here.
//!
//! `lines_written` counts lines for the line numbers in encoding errors.

use crate::active::ActiveSocket;
use crate::error::{Error, Result};
use crate::wait::pause_before_retry;
use isys::{Errno, FdEvent, MsgFlags};
use std::fmt;
use std::io;
use std::time::Instant;

impl ActiveSocket {
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

    /// One non-blocking attempt to send buffered output. `EINTR` is retried at once.
    fn send_some(&mut self) -> Result<SendState> {
        while self.opos < self.obuf.len() {
            let fd = self.base.fd()?;
            match isys::send(fd, &self.obuf[self.opos..], MsgFlags::empty()) {
                Ok(n) => self.opos += n,
                Err(Errno::EINTR) => continue,
                Err(Errno::EWOULDBLOCK) => return Ok(SendState::Blocked),
                Err(Errno::ENOBUFS | Errno::ENOMEM) => return Ok(SendState::Starved),
                Err(e) => return Err(Error::from_errno("send", e)),
            }
        }
        self.obuf.clear();
        self.opos = 0;
        Ok(SendState::Done)
    }

    /// Sends all buffered output, waiting as needed (IOLib's `finish-output`).
    /// [`Error::Hangup`] when the peer is gone; [`Error::Timeout`] when the write timeout
    /// runs out. `EINTR` is retried, and `ENOBUFS`/`ENOMEM` (the kernel short of memory) are
    /// retried after a millisecond's pause, both within the write timeout.
    ///
    /// # Errors
    /// [`Error::Hangup`] or [`Error::ConnectionReset`] when the peer is gone,
    /// [`Error::Timeout`] when the write timeout runs out, [`Error::Closed`] on a closed
    /// socket; all but the last are per-peer ([`Error::scope`]).
    pub fn finish_output(&mut self) -> Result<()> {
        let deadline = self
            .write_timeout
            .and_then(|t| Instant::now().checked_add(t));
        let what = self.write_timeout.unwrap_or_default();
        loop {
            match self.send_some()? {
                SendState::Done => return Ok(()),
                SendState::Blocked => self.base.wait(FdEvent::Write, deadline, what)?,
                SendState::Starved => pause_before_retry(deadline, what)?,
            }
        }
    }

    /// One non-blocking try at sending buffered output (IOLib's `force-output`); returns how
    /// many bytes are still buffered (a full socket buffer, or the kernel short of memory,
    /// leaves them buffered).
    pub fn force_output(&mut self) -> Result<usize> {
        self.send_some()?;
        Ok(self.obuf.len() - self.opos)
    }

    /// Bytes written and not yet sent.
    pub fn buffered_output(&self) -> usize {
        self.obuf.len() - self.opos
    }
}

/// How far one non-blocking send of the output buffer got.
enum SendState {
    /// Everything went out.
    Done,
    /// The socket buffer is full: wait for writability.
    Blocked,
    /// The kernel is short of memory (`ENOBUFS`/`ENOMEM`): pause, then try again.
    Starved,
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
