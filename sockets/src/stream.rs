//! The input side of an [`ActiveSocket`]'s stream buffer (IOLib's stream `buffer` and
//! `io-helpers`): line and character reads decoded through the external format, the input
//! budget charged while a long line grows the buffer, and `std::io::{Read, BufRead}` on raw
//! bytes. The output side is in `output.rs`.
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
//!   `settings.max_line_length` bounds such a line. Once at most half the base size is left
//!   unconsumed in a grown buffer, the buffer shrinks back to the base size.
//! - `charged` is how much of `ibuf.len()` beyond the base size is charged to
//!   `settings.input_budget` (0 without a budget); growing charges first and fails with
//!   `InputBudgetExceeded` when the budget has no room; shrinking, `close_abort` and `Drop`
//!   release it. Reads that neither grow nor shrink the buffer never touch the budget.
//! - `discarding` is true while the rest of a line longer than `max_line_length` (or over
//!   the input budget) is skipped, up to and including its line end.
//! - `drained` is true when the last `recv` came back short or would have blocked (the kernel
//!   buffer is then most likely empty); the next blocking read waits for readiness first.
//!
//! `lines_read` counts lines for the line numbers in encoding errors.

use crate::active::ActiveSocket;
use crate::budget::InputBudget;
use crate::error::{Error, Result, SysContext};
use crate::format::{Encoding, LineEnd};
use crate::wait::pause_before_retry;
use isys::{Errno, MsgFlags};
use std::io;
use std::time::Instant;

/// Settings a passive socket hands to the sockets it accepts.
#[derive(Debug, Clone)]
pub(crate) struct StreamSettings {
    pub(crate) input_buffer_size: usize,
    pub(crate) output_buffer_size: usize,
    pub(crate) max_line_length: usize,
    pub(crate) input_budget: Option<InputBudget>,
}

impl Default for StreamSettings {
    fn default() -> Self {
        StreamSettings {
            input_buffer_size: DEFAULT_BUFFER_SIZE,
            output_buffer_size: DEFAULT_BUFFER_SIZE,
            max_line_length: DEFAULT_MAX_LINE_LENGTH,
            input_budget: None,
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

    /// The input buffer's base size; growth beyond it is charged to the input budget.
    fn base_input_size(&self) -> usize {
        self.settings.input_buffer_size.max(512)
    }

    /// [`fill`](Self::fill); with `wait` false, `Ok(None)` when nothing is available now.
    fn fill_with(&mut self, wait: bool) -> Result<Option<usize>> {
        if self.ipos == self.iend {
            self.ipos = 0;
            self.iend = 0;
        }
        let want = self.base_input_size();
        if self.ibuf.len() > want && self.iend - self.ipos <= want / 2 {
            // The long line that grew the buffer is consumed: back to the base size.
            self.compact_input();
            self.ibuf.truncate(want);
            self.ibuf.shrink_to_fit();
            self.release_input_budget();
        }
        if self.ibuf.len() - self.iend < want / 4 {
            self.compact_input();
            if self.ibuf.len() - self.iend < want / 4 {
                self.grow_input((self.ibuf.len() * 2).max(want))?;
            }
        }
        let n = if wait {
            self.recv_waiting(None)?
        } else {
            loop {
                match isys::recv(
                    self.base.fd()?,
                    &mut self.ibuf[self.iend..],
                    MsgFlags::empty(),
                ) {
                    Ok(n) => break n,
                    Err(Errno::EINTR) => continue,
                    Err(Errno::EWOULDBLOCK | Errno::ENOBUFS | Errno::ENOMEM) => return Ok(None),
                    Err(e) => return Err(Error::from_errno("recv", e)),
                }
            }
        };
        self.iend += n;
        Ok(Some(n))
    }

    /// Moves the unconsumed input to the front of the buffer.
    fn compact_input(&mut self) {
        if self.ipos > 0 {
            self.ibuf.copy_within(self.ipos..self.iend, 0);
            self.iend -= self.ipos;
            self.ipos = 0;
        }
    }

    /// Grows the input buffer to `new_len`, charging what lies beyond the base size to the
    /// input budget; [`Error::InputBudgetExceeded`] (buffer unchanged) when it has no room.
    fn grow_input(&mut self, new_len: usize) -> Result<()> {
        if let Some(budget) = &self.settings.input_budget {
            let need = new_len
                .saturating_sub(self.base_input_size())
                .saturating_sub(self.charged);
            if need > 0 {
                if !budget.try_charge(need) {
                    return Err(Error::InputBudgetExceeded {
                        limit: budget.limit(),
                    });
                }
                self.charged += need;
            }
        }
        self.ibuf.resize(new_len, 0);
        Ok(())
    }

    /// Gives this socket's charge back to its input budget.
    pub(crate) fn release_input_budget(&mut self) {
        if self.charged > 0 {
            if let Some(budget) = &self.settings.input_budget {
                budget.release(self.charged);
            }
            self.charged = 0;
        }
    }

    /// The budget this socket's input buffer growth is charged to, if any.
    pub fn input_budget(&self) -> Option<&InputBudget> {
        self.settings.input_budget.as_ref()
    }

    /// Shares `budget` (or none: only [`max_line_length`](Self::max_line_length) bounds the
    /// buffer) for the input this socket buffers beyond its base buffer size, that is while
    /// an unfinished line fills it. What is charged now moves to the new budget. See
    /// [`InputBudget`].
    pub fn set_input_budget(&mut self, budget: Option<InputBudget>) {
        self.release_input_budget();
        self.settings.input_budget = budget;
        if let Some(budget) = &self.settings.input_budget {
            let extra = self.ibuf.len().saturating_sub(self.base_input_size());
            budget.force_charge(extra);
            self.charged = extra;
        }
    }

    /// One `recv` into `ibuf[iend..]` (or into `external` when given), waiting for data.
    ///
    /// A hang-up or error reported by the wait does not end the read: `recv` then returns the
    /// bytes still pending, then 0 (end of file) or the error. `EINTR` is retried; `ENOBUFS`
    /// and `ENOMEM` are retried after a millisecond's pause; both within the read timeout.
    fn recv_waiting(&mut self, mut external: Option<&mut [u8]>) -> Result<usize> {
        let deadline = self
            .read_timeout
            .and_then(|t| Instant::now().checked_add(t));
        let what = self.read_timeout.unwrap_or_default();
        let mut after_pollerr = false;
        loop {
            if self.drained {
                self.drained = false;
                after_pollerr = self.base.wait_input(deadline, what)?;
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
                Err(Errno::EWOULDBLOCK) => {
                    if std::mem::take(&mut after_pollerr) {
                        // POLLERR that recv does not report: the pending error, if any;
                        // otherwise pause rather than spin on a condition we cannot clear.
                        if let Some(e) = isys::socket_error(fd).ctx("getsockopt")? {
                            return Err(Error::from_errno("recv", e));
                        }
                        pause_before_retry(deadline, what)?;
                    }
                    self.drained = true;
                }
                Err(Errno::ENOBUFS | Errno::ENOMEM) => pause_before_retry(deadline, what)?,
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
    ///
    /// The length checked against `max_line_length` is the line's content, never its line
    /// end, however the bytes arrive: in CRLF mode a `\r` ending the buffered bytes may be the
    /// first half of the line end and is not counted until the next byte says.
    fn read_line_inner(&mut self, out: &mut String, wait: bool) -> Result<Option<bool>> {
        let term = self.format.line_end.terminator();
        let crlf = self.format.line_end == LineEnd::Crlf;
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
                if crlf && stop > start && self.ibuf[stop - 1] == b'\r' {
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
            let pending_cr = crlf && scanned > 0 && self.ibuf[self.iend - 1] == b'\r';
            if self.discarding {
                self.ipos = self.iend;
                scanned = 0;
            } else if scanned - usize::from(pending_cr) > max {
                // Too long: drop what we have and skip to the next line end.
                return Err(self.skip_rest_of_line(Error::LineTooLong { limit: max }));
            }
            let got = match self.fill_with(wait) {
                Ok(Some(n)) => n,
                Ok(None) => return Ok(None),
                Err(e @ Error::InputBudgetExceeded { .. }) => {
                    return Err(self.skip_rest_of_line(e));
                }
                Err(e) => return Err(e),
            };
            if got == 0 {
                if self.discarding || self.ipos == self.iend {
                    self.discarding = false;
                    return Ok(Some(false));
                }
                let (start, stop) = (self.ipos, self.iend);
                self.ipos = self.iend;
                self.lines_read += 1;
                if stop - start > max {
                    // Only a lone `\r` at end of file can get here: it was not a line end.
                    return Err(Error::LineTooLong { limit: max });
                }
                self.decode_into(start, stop, out)?;
                return Ok(Some(true));
            }
        }
    }

    /// Drops the buffered part of the current line and skips the rest of it up to its line
    /// end; returns `err` for the caller to report.
    fn skip_rest_of_line(&mut self, err: Error) -> Error {
        self.ipos = self.iend;
        self.discarding = true;
        self.lines_read += 1;
        err
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
