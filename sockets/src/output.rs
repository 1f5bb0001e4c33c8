//! The output side of the stream buffer (IOLib's `io-helpers` for writing): text encoded
//! through the external format, raw bytes, `finish_output` (all of it, waiting) and
//! `force_output` (one non-blocking try). The buffer and its invariants are in `buffer.rs`.

use crate::buffer::{RawIo, StreamBuffer};
use crate::error::{Error, Result};
use crate::wait::pause_before_retry;
use isys::Errno;
use std::fmt;

impl StreamBuffer {
    /// Writes `text` through the external format (each `\n` becomes the line end). Output is
    /// buffered; it goes out when the buffer fills or on [`finish_output`](Self::finish_output).
    pub(crate) fn write_str<I: RawIo>(&mut self, io: &I, text: &str) -> Result<()> {
        io.io_fd()?;
        let line = self.lines_written + 1;
        self.format.encode_into(text, &mut self.obuf, line)?;
        self.lines_written += memchr::memchr_iter(b'\n', text.as_bytes()).count() as u64;
        self.maybe_flush(io)
    }

    /// Writes `text` and a line end (IOLib's `write-line`).
    pub(crate) fn write_line<I: RawIo>(&mut self, io: &I, text: &str) -> Result<()> {
        self.write_str(io, text)?;
        self.newline(io)
    }

    /// Writes a line end (IOLib's `terpri`/`~%`).
    pub(crate) fn newline<I: RawIo>(&mut self, io: &I) -> Result<()> {
        io.io_fd()?;
        self.obuf.extend_from_slice(self.format.line_end.bytes());
        self.lines_written += 1;
        self.maybe_flush(io)
    }

    /// Formats into the output buffer through the external format: what `write!(sock, ...)`
    /// calls. Takes precedence over [`io::Write::write_fmt`], which would write raw bytes.
    pub(crate) fn write_fmt<I: RawIo>(&mut self, io: &I, args: fmt::Arguments<'_>) -> Result<()> {
        if let Some(s) = args.as_str() {
            return self.write_str(io, s);
        }
        struct Adapter<'a> {
            sock: &'a mut StreamBuffer,
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
        io.io_fd()?;
        let mut a = Adapter {
            sock: self,
            err: None,
        };
        if fmt::write(&mut a, args).is_err() {
            return Err(a.err.unwrap_or_else(|| {
                Error::InvalidArgument("a Display implementation returned an error".into())
            }));
        }
        self.maybe_flush(io)
    }

    /// Writes raw bytes to the output buffer (no encoding, no line-end translation).
    pub(crate) fn write_bytes<I: RawIo>(&mut self, io: &I, bytes: &[u8]) -> Result<()> {
        io.io_fd()?;
        self.obuf.extend_from_slice(bytes);
        self.maybe_flush(io)
    }

    fn maybe_flush<I: RawIo>(&mut self, io: &I) -> Result<()> {
        if self.obuf.len() - self.opos >= self.settings.output_buffer_size {
            self.finish_output(io)?;
        }
        Ok(())
    }

    /// One non-blocking attempt to send buffered output. `EINTR` is retried at once.
    fn send_some<I: RawIo>(&mut self, io: &I) -> Result<SendState> {
        while self.opos < self.obuf.len() {
            let fd = io.io_fd()?;
            match I::write_some(fd, &self.obuf[self.opos..]) {
                Ok(n) => self.opos += n,
                Err(Errno::EINTR) => continue,
                Err(Errno::EWOULDBLOCK) => return Ok(SendState::Blocked),
                Err(Errno::ENOBUFS | Errno::ENOMEM) => return Ok(SendState::Starved),
                Err(e) => return Err(Error::from_errno(I::WRITE_CALL, e)),
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
    pub(crate) fn finish_output<I: RawIo>(&mut self, io: &I) -> Result<()> {
        let (deadline, what) = self.write_deadline();
        loop {
            match self.send_some(io)? {
                SendState::Done => return Ok(()),
                SendState::Blocked => io.wait_output(deadline, what)?,
                SendState::Starved => pause_before_retry(deadline, what)?,
            }
        }
    }

    /// One non-blocking try at sending buffered output (IOLib's `force-output`); returns how
    /// many bytes are still buffered (a full socket buffer, or the kernel short of memory,
    /// leaves them buffered).
    pub(crate) fn force_output<I: RawIo>(&mut self, io: &I) -> Result<usize> {
        self.send_some(io)?;
        Ok(self.obuf.len() - self.opos)
    }

    /// Bytes written and not yet sent.
    pub(crate) fn buffered_output(&self) -> usize {
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
