//! The stream buffer of an [`ActiveSocket`] and the I/O that goes through it (IOLib's
//! stream `buffer` and `io-helpers`): line and character reads decoded through the external
//! format, formatted and line writes encoded through it, `finish_output`/`force_output`,
//! and `std::io::{Read, BufRead, Write}` on raw bytes.
//!
//! # Invariants
//!
//! Input, `ibuf` with the cursors `ipos` and `iend`:
//! - `ipos <= iend <= ibuf.len()`.
//! - `ibuf[ipos..iend]` holds bytes received and not yet consumed, in arrival order; every
//!   reader (line, character, [`io::Read`], [`io::BufRead`], `receive_from`) takes bytes
//!   from there before asking the kernel. `ibuf[iend..]` is free room for the next `recv`.
//! - When `ipos == iend` the next fill resets both to 0. Before a `recv`, when less than a
//!   quarter of the buffer size (`settings.input_buffer_size`, at least 512) is free, the
//!   unconsumed bytes move to the front; the buffer grows (doubling) only if that still
//!   leaves too little room, that is while one unfinished line fills it, and
//!   `settings.max_line_length` bounds such a line.
//! - `discarding` is true while the rest of a line longer than `max_line_length` is skipped,
//!   up to and including its line end.
//! - `drained` is true when the last `recv` came back short or would have blocked (the kernel
//!   buffer is then most likely empty); the next blocking read waits for readiness first.
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
//! `lines_read` and `lines_written` count lines for the line numbers in encoding errors.

use crate::active::ActiveSocket;
use crate::error::{Error, Result};
use crate::format::{Encoding, LineEnd};
use isys::{Errno, FdEvent, MsgFlags};
use std::fmt;
use std::io;
use std::time::Instant;

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

impl ActiveSocket {
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
