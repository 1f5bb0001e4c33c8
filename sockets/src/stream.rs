//! The input side of the stream buffer (IOLib's `io-helpers` for reading): line and
//! character reads decoded through the external format, the input budget charged while a
//! long line grows the buffer, and `std::io::{Read, BufRead}` on raw bytes. The buffer, its
//! invariants and the [`RawIo`] trait it reads through are in `buffer.rs`.

use crate::budget::InputBudget;
use crate::buffer::{RawIo, StreamBuffer};
use crate::error::{Error, Result};
use crate::format::{Encoding, LineEnd};
use crate::wait::pause_before_retry;
use isys::Errno;

impl StreamBuffer {
    // ----- input ------------------------------------------------------------------------

    /// Reads more bytes into the input buffer, waiting (up to the read timeout) for them.
    /// Returns how many arrived; 0 is end of file.
    fn fill<I: RawIo>(&mut self, io: &I) -> Result<usize> {
        self.fill_with(io, true).map(|n| n.unwrap_or(0))
    }

    /// The input buffer's base size; growth beyond it is charged to the input budget.
    fn base_input_size(&self) -> usize {
        self.settings.input_buffer_size.max(512)
    }

    /// [`fill`](Self::fill); with `wait` false, `Ok(None)` when nothing is available now.
    fn fill_with<I: RawIo>(&mut self, io: &I, wait: bool) -> Result<Option<usize>> {
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
            self.recv_waiting(io, None)?
        } else {
            loop {
                match I::read_some(io.io_fd()?, &mut self.ibuf[self.iend..]) {
                    Ok(n) => break n,
                    Err(Errno::EINTR) => continue,
                    Err(Errno::EWOULDBLOCK | Errno::ENOBUFS | Errno::ENOMEM) => return Ok(None),
                    Err(e) => return Err(Error::from_errno(I::READ_CALL, e)),
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

    /// Moves the charge to `budget` (or none).
    pub(crate) fn set_input_budget(&mut self, budget: Option<InputBudget>) {
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
    pub(crate) fn recv_waiting<I: RawIo>(
        &mut self,
        io: &I,
        mut external: Option<&mut [u8]>,
    ) -> Result<usize> {
        let (deadline, what) = self.read_deadline();
        let mut after_pollerr = false;
        loop {
            if self.drained {
                self.drained = false;
                after_pollerr = io.wait_input(deadline, what)?;
            }
            let fd = io.io_fd()?;
            let buf: &mut [u8] = match external.as_deref_mut() {
                Some(b) => b,
                None => &mut self.ibuf[self.iend..],
            };
            let want = buf.len();
            match I::read_some(fd, buf) {
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
                        if let Some(e) = io.pending_error()? {
                            return Err(Error::from_errno(I::READ_CALL, e));
                        }
                        pause_before_retry(deadline, what)?;
                    }
                    self.drained = true;
                }
                Err(Errno::ENOBUFS | Errno::ENOMEM) => pause_before_retry(deadline, what)?,
                Err(e) => return Err(Error::from_errno(I::READ_CALL, e)),
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
    pub(crate) fn read_line<I: RawIo>(&mut self, io: &I) -> Result<String> {
        let mut line = String::new();
        match self.read_line_into(io, &mut line)? {
            true => Ok(line),
            false => Err(Error::EndOfFile),
        }
    }

    /// Like [`read_line`](Self::read_line), appending to `out` (no allocation when `out` has
    /// room); `Ok(false)` at end of file before any byte.
    pub(crate) fn read_line_into<I: RawIo>(&mut self, io: &I, out: &mut String) -> Result<bool> {
        self.read_line_inner(io, out, true)
            .map(|r| r.unwrap_or(false))
    }

    /// Reads a line only if one can be had without waiting (IOLib's `read-line` after
    /// `listen`): `Ok(None)` when no complete line is buffered or arriving now. A last line
    /// without a line end, at end of file, is returned; end of file before any byte is
    /// [`Error::EndOfFile`].
    ///
    /// An event-loop read handler should drain lines with this after its first
    /// [`read_line`](Self::read_line): lines already in the socket's buffer make the fd look
    /// idle to the multiplexer.
    pub(crate) fn read_line_no_hang<I: RawIo>(&mut self, io: &I) -> Result<Option<String>> {
        let mut line = String::new();
        match self.read_line_inner(io, &mut line, false)? {
            None => Ok(None),
            Some(true) => Ok(Some(line)),
            Some(false) => Err(Error::EndOfFile),
        }
    }

    /// Whether a complete line is already buffered (no syscall).
    pub(crate) fn has_buffered_line(&self) -> bool {
        memchr::memchr(self.format.line_end.terminator(), self.buffered_input()).is_some()
    }

    /// The line reader; `Ok(None)` only when `wait` is false and nothing complete is available.
    ///
    /// The length checked against `max_line_length` is the line's content, never its line
    /// end, however the bytes arrive: in CRLF mode a `\r` ending the buffered bytes may be the
    /// first half of the line end and is not counted until the next byte says.
    fn read_line_inner<I: RawIo>(
        &mut self,
        io: &I,
        out: &mut String,
        wait: bool,
    ) -> Result<Option<bool>> {
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
                self.decode_into(start, stop, end + 1, out)?;
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
            let got = match self.fill_with(io, wait) {
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
                self.decode_into(start, stop, stop, out)?;
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

    /// Appends the line `ibuf[start..stop]` to `out`. `ibuf[stop..with_end]` is its line end
    /// (ASCII), validated along with it: `from_utf8` checks ASCII two words at a time and
    /// the bytes after the last whole block one by one, so taking the line end too (as
    /// std's `read_line` does) can only shorten that tail.
    #[inline]
    fn decode_into(
        &self,
        start: usize,
        stop: usize,
        with_end: usize,
        out: &mut String,
    ) -> Result<()> {
        if self.format.encoding == Encoding::Utf8 {
            if let Ok(s) = std::str::from_utf8(&self.ibuf[start..with_end]) {
                if let Some(line) = s.get(..stop - start) {
                    out.push_str(line);
                    return Ok(());
                }
            }
        }
        let bytes = &self.ibuf[start..stop];
        out.push_str(&self.format.decode(bytes, self.lines_read)?);
        Ok(())
    }

    /// Makes sure `n` bytes are buffered; `Ok(false)` if end of file comes first.
    fn ensure<I: RawIo>(&mut self, io: &I, n: usize) -> Result<bool> {
        while self.iend - self.ipos < n {
            if self.fill(io)? == 0 {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Reads one character (IOLib's `read-char`); the format's line end reads as `'\n'`.
    /// [`Error::EndOfFile`] at end of file.
    pub(crate) fn read_char<I: RawIo>(&mut self, io: &I) -> Result<char> {
        if !self.ensure(io, 1)? {
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
        if !self.ensure(io, len)? {
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
                if self.ensure(io, 1)? && self.ibuf[self.ipos] == b'\n' {
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
    pub(crate) fn buffered_input(&self) -> &[u8] {
        &self.ibuf[self.ipos..self.iend]
    }

    /// [`io::Read::read`](std::io::Read::read) on the buffer: buffered bytes first, then
    /// one read (straight into `buf` when it is at least a buffer's size).
    pub(crate) fn read_bytes<I: RawIo>(&mut self, io: &I, buf: &mut [u8]) -> Result<usize> {
        if self.ipos == self.iend {
            if buf.len() >= self.settings.input_buffer_size {
                return self.recv_waiting(io, Some(buf));
            }
            if self.fill(io)? == 0 {
                return Ok(0);
            }
        }
        let n = (self.iend - self.ipos).min(buf.len());
        buf[..n].copy_from_slice(&self.ibuf[self.ipos..self.ipos + n]);
        self.ipos += n;
        Ok(n)
    }

    /// [`io::BufRead::fill_buf`](std::io::BufRead::fill_buf) on the buffer.
    pub(crate) fn fill_buf<I: RawIo>(&mut self, io: &I) -> Result<&[u8]> {
        if self.ipos == self.iend {
            self.fill(io)?;
        }
        Ok(&self.ibuf[self.ipos..self.iend])
    }

    /// [`io::BufRead::consume`](std::io::BufRead::consume) on the buffer.
    pub(crate) fn consume(&mut self, amt: usize) {
        self.ipos = (self.ipos + amt).min(self.iend);
    }
}
