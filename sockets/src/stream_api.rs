//! The public line-stream methods (IOLib's stream functions: `read-line`, `read-char`,
//! `write-line`, `finish-output`, ...) and `std::io::{Read, BufRead, Write}`, written once
//! and given to every type that has a [`StreamBuffer`](crate::buffer::StreamBuffer) in a
//! `buf` field and a [`RawIo`](crate::buffer::RawIo) in the field the macro is told:
//! [`ActiveSocket`](crate::ActiveSocket) (its socket) and [`FdStream`](crate::FdStream)
//! (any fd).

/// Implements the line-stream methods and the `std::io` traits for `$t`, whose `buf` field is
/// the stream buffer and whose `$io` field moves the bytes.
macro_rules! line_stream_methods {
    ($t:ty, $io:ident) => {
        impl $t {
            /// The external format.
            pub fn external_format(&self) -> $crate::ExternalFormat {
                self.buf.format
            }
            /// Changes the external format (applies to bytes not yet decoded).
            ///
            /// ```
            /// use sockets::*;
            ///
            /// let (mut a, mut b) = make_socket_pair(ExternalFormat::UTF8_LF)?;
            /// b.set_external_format(ExternalFormat::parse("latin-1")?);
            /// a.write_bytes(b"\xe9t\xe9\n")?;
            /// a.finish_output()?;
            /// assert_eq!(b.read_line()?, "été");
            /// assert_eq!(b.external_format().encoding, Encoding::Latin1);
            /// # Ok::<(), sockets::Error>(())
            /// ```
            pub fn set_external_format(&mut self, format: $crate::ExternalFormat) {
                self.buf.format = format;
            }
            /// The maximum line length [`read_line`](Self::read_line) accepts.
            pub fn max_line_length(&self) -> usize {
                self.buf.settings.max_line_length
            }
            /// Sets the maximum line length (at least 1).
            ///
            /// ```
            /// use sockets::*;
            ///
            /// let (mut a, mut b) = make_socket_pair(ExternalFormat::UTF8_LF)?;
            /// b.set_max_line_length(8);
            /// a.write_line("far too long a line")?;
            /// a.write_line("short")?;
            /// a.finish_output()?;
            /// assert!(matches!(b.read_line(), Err(Error::LineTooLong { .. })));
            /// assert_eq!(b.read_line()?, "short");
            /// # Ok::<(), sockets::Error>(())
            /// ```
            pub fn set_max_line_length(&mut self, n: usize) {
                self.buf.settings.max_line_length = n.max(1);
            }
            /// How long a read waits for data (`None` = forever, the default).
            ///
            /// ```
            /// use sockets::*;
            /// use std::time::Duration;
            ///
            /// let (_a, mut b) = make_socket_pair(ExternalFormat::UTF8_LF)?;
            /// b.set_read_timeout(Some(Duration::from_millis(10)));
            /// assert!(matches!(b.read_line(), Err(Error::Timeout(_))));
            /// # Ok::<(), sockets::Error>(())
            /// ```
            pub fn set_read_timeout(&mut self, t: Option<std::time::Duration>) {
                self.buf.read_timeout = t;
            }
            /// How long a write waits for room (`None` = forever, the default).
            ///
            /// ```
            /// use sockets::*;
            ///
            /// let (mut a, _b) = make_socket_pair(ExternalFormat::UTF8_LF)?;
            /// a.set_write_timeout(Some(std::time::Duration::from_millis(10)));
            /// // Nobody reads: the kernel buffers fill, then the write times out.
            /// let chunk = vec![b'x'; 64 * 1024];
            /// let error = loop {
            ///     if let Err(e) = a.write_bytes(&chunk).and_then(|()| a.finish_output()) {
            ///         break e;
            ///     }
            /// };
            /// assert!(matches!(error, Error::Timeout(_)));
            /// # Ok::<(), sockets::Error>(())
            /// ```
            pub fn set_write_timeout(&mut self, t: Option<std::time::Duration>) {
                self.buf.write_timeout = t;
            }
            /// The budget this stream's input buffer growth is charged to, if any.
            pub fn input_budget(&self) -> Option<&$crate::InputBudget> {
                self.buf.settings.input_budget.as_ref()
            }
            /// Shares `budget` (or none: only [`max_line_length`](Self::max_line_length)
            /// bounds the buffer) for the input this stream buffers beyond its base buffer
            /// size, that is while an unfinished line fills it. What is charged now moves to
            /// the new budget. See [`InputBudget`](crate::InputBudget).
            ///
            /// See [`InputBudget::new`](crate::InputBudget::new) for an example.
            pub fn set_input_budget(&mut self, budget: Option<$crate::InputBudget>) {
                self.buf.set_input_budget(budget);
            }

            /// Reads a line without its line end (IOLib's `read-line`), waiting for it (up to
            /// the read timeout).
            ///
            /// The line end is the external format's (`CRLF` also accepts a bare `LF`). A last
            /// line without a line end is returned as a line.
            ///
            /// IOLib: `read-line`; see docs/PORTING.md, "Sockets".
            ///
            /// # Errors
            /// [`Error::EndOfFile`](crate::Error::EndOfFile) only when end of file comes
            /// before any byte. A line longer than [`max_line_length`](Self::max_line_length)
            /// is [`Error::LineTooLong`](crate::Error::LineTooLong); the rest of that line is
            /// skipped and the next call reads the line after it.
            /// [`Error::Encoding`](crate::Error::Encoding) for bytes the encoding refuses,
            /// [`Error::Timeout`](crate::Error::Timeout) when the read timeout runs out, and
            /// the read's own failure (a reset, ...).
            ///
            /// # Examples
            ///
            /// ```
            /// use sockets::*;
            ///
            /// let (mut a, mut b) = make_socket_pair(ExternalFormat::UTF8_CRLF)?;
            /// a.write_str("one\ntwo")?; // the last line has no line end
            /// a.close()?;
            /// assert_eq!(b.read_line()?, "one");
            /// assert_eq!(b.read_line()?, "two");
            /// assert!(matches!(b.read_line(), Err(Error::EndOfFile)));
            /// # Ok::<(), sockets::Error>(())
            /// ```
            pub fn read_line(&mut self) -> $crate::Result<String> {
                self.buf.read_line(&self.$io)
            }

            /// Like [`read_line`](Self::read_line), appending to `out` (no allocation when
            /// `out` has room); `Ok(false)` at end of file before any byte.
            ///
            /// Blocks like [`read_line`](Self::read_line), up to the read timeout.
            ///
            /// # Errors
            /// As [`read_line`](Self::read_line), but end of file is `Ok(false)`.
            ///
            /// # Examples
            ///
            /// ```
            /// use sockets::*;
            ///
            /// let (mut a, mut b) = make_socket_pair(ExternalFormat::UTF8_LF)?;
            /// a.write_line("a")?;
            /// a.write_line("b")?;
            /// a.close()?;
            /// let mut line = String::new();
            /// while b.read_line_into(&mut line)? {
            ///     line.push(',');
            /// }
            /// assert_eq!(line, "a,b,");
            /// # Ok::<(), sockets::Error>(())
            /// ```
            pub fn read_line_into(&mut self, out: &mut String) -> $crate::Result<bool> {
                self.buf.read_line_into(&self.$io, out)
            }

            /// Reads a line only if one can be had without waiting (IOLib's `read-line` after
            /// `listen`): `Ok(None)` when no complete line is buffered or arriving now. A last
            /// line without a line end, at end of file, is returned.
            ///
            /// An event-loop read handler should read with this: lines already in the
            /// stream's buffer make the fd look idle to the multiplexer, so it drains them
            /// with this until `Ok(None)`, and it never blocks the loop.
            ///
            /// Never blocks.
            ///
            /// # Errors
            /// [`Error::EndOfFile`](crate::Error::EndOfFile) at end of file before any byte;
            /// otherwise as [`read_line`](Self::read_line) (never a timeout).
            ///
            /// # Examples
            ///
            /// ```
            /// use sockets::*;
            ///
            /// let (mut a, mut b) = make_socket_pair(ExternalFormat::UTF8_LF)?;
            /// assert_eq!(b.read_line_no_hang()?, None);
            /// a.write_str("x\ny\n")?;
            /// a.finish_output()?;
            /// b.wait_readable(None)?;
            /// assert_eq!(b.read_line_no_hang()?.as_deref(), Some("x"));
            /// assert!(b.has_buffered_line());
            /// assert_eq!(b.read_line_no_hang()?.as_deref(), Some("y"));
            /// # Ok::<(), sockets::Error>(())
            /// ```
            pub fn read_line_no_hang(&mut self) -> $crate::Result<Option<String>> {
                self.buf.read_line_no_hang(&self.$io)
            }

            /// Whether a complete line is already buffered (no syscall).
            ///
            /// See [`read_line_no_hang`](Self::read_line_no_hang) for an example.
            pub fn has_buffered_line(&self) -> bool {
                self.buf.has_buffered_line()
            }

            /// Reads one character (IOLib's `read-char`); the format's line end reads as
            /// `'\n'`.
            ///
            /// Blocks up to the read timeout.
            ///
            /// # Errors
            /// [`Error::EndOfFile`](crate::Error::EndOfFile) at end of file,
            /// [`Error::Encoding`](crate::Error::Encoding) for a byte sequence the encoding
            /// refuses (the bad byte is skipped), and the read's own failure.
            ///
            /// # Examples
            ///
            /// ```
            /// use sockets::*;
            ///
            /// let (mut a, mut b) = make_socket_pair(ExternalFormat::UTF8_LF)?;
            /// a.write_str("é\n")?;
            /// a.finish_output()?;
            /// assert_eq!(b.read_char()?, 'é');
            /// assert_eq!(b.read_char()?, '\n');
            /// # Ok::<(), sockets::Error>(())
            /// ```
            pub fn read_char(&mut self) -> $crate::Result<char> {
                self.buf.read_char(&self.$io)
            }

            /// Bytes already read from the fd and not yet consumed.
            ///
            /// ```
            /// use sockets::*;
            ///
            /// let (mut a, mut b) = make_socket_pair(ExternalFormat::UTF8_LF)?;
            /// a.write_str("one\ntwo\n")?;
            /// a.finish_output()?;
            /// assert_eq!(b.read_line()?, "one");
            /// assert_eq!(b.buffered_input(), b"two\n"); // read from the fd with the first line
            /// # Ok::<(), sockets::Error>(())
            /// ```
            pub fn buffered_input(&self) -> &[u8] {
                self.buf.buffered_input()
            }

            /// Writes `text` through the external format (each `\n` becomes the line end).
            /// Output is buffered; it goes out when the buffer fills or on
            /// [`finish_output`](Self::finish_output).
            ///
            /// # Errors
            /// [`Error::Encoding`](crate::Error::Encoding) for a character the encoding cannot
            /// write (nothing of `text` is buffered), [`Error::Closed`](crate::Error::Closed),
            /// and [`finish_output`](Self::finish_output)'s errors when the buffer fills.
            ///
            /// # Examples
            ///
            /// ```
            /// use sockets::*;
            ///
            /// let (mut a, mut b) = make_socket_pair(ExternalFormat::UTF8_LF)?;
            /// a.write_str("no line end yet")?;
            /// a.newline()?;
            /// a.finish_output()?;
            /// assert_eq!(b.read_line()?, "no line end yet");
            /// # Ok::<(), sockets::Error>(())
            /// ```
            pub fn write_str(&mut self, text: &str) -> $crate::Result<()> {
                self.buf.write_str(&self.$io, text)
            }

            /// Writes `text` and a line end (IOLib's `write-line`).
            ///
            /// Blocks only when the output buffer is full, as
            /// [`finish_output`](Self::finish_output)
            /// does.
            ///
            /// IOLib: `write-line`; see docs/PORTING.md, "Sockets".
            ///
            /// # Errors
            /// As [`write_str`](Self::write_str).
            ///
            /// # Examples
            ///
            /// ```
            /// use sockets::*;
            ///
            /// let (mut a, mut b) = make_socket_pair(ExternalFormat::UTF8_CRLF)?;
            /// a.write_line("hi")?;
            /// assert_eq!(a.buffered_output(), 4); // "hi\r\n", not sent yet
            /// a.finish_output()?;
            /// assert_eq!(b.read_line()?, "hi");
            /// # Ok::<(), sockets::Error>(())
            /// ```
            pub fn write_line(&mut self, text: &str) -> $crate::Result<()> {
                self.buf.write_line(&self.$io, text)
            }

            /// Writes a line end (IOLib's `terpri`/`~%`).
            ///
            /// # Errors
            /// As [`write_str`](Self::write_str).
            ///
            /// # Examples
            ///
            /// See [`write_str`](Self::write_str) for an example.
            pub fn newline(&mut self) -> $crate::Result<()> {
                self.buf.newline(&self.$io)
            }

            /// Formats into the output buffer through the external format: what
            /// `write!(stream, ...)` calls. Takes precedence over
            /// [`io::Write::write_fmt`](std::io::Write::write_fmt), which would write raw
            /// bytes.
            ///
            /// # Errors
            /// As [`write_str`](Self::write_str).
            ///
            /// # Examples
            ///
            /// See [`finish_output`](Self::finish_output) for an example.
            pub fn write_fmt(&mut self, args: std::fmt::Arguments<'_>) -> $crate::Result<()> {
                self.buf.write_fmt(&self.$io, args)
            }

            /// Writes raw bytes to the output buffer (no encoding, no line-end translation).
            ///
            /// # Errors
            /// [`Error::Closed`](crate::Error::Closed), and
            /// [`finish_output`](Self::finish_output)'s errors when the buffer fills.
            ///
            /// # Examples
            ///
            /// ```
            /// use sockets::*;
            ///
            /// let (mut a, mut b) = make_socket_pair(ExternalFormat::UTF8_LF)?;
            /// a.write_bytes(b"raw\n")?;
            /// a.finish_output()?;
            /// assert_eq!(b.read_line()?, "raw");
            /// # Ok::<(), sockets::Error>(())
            /// ```
            pub fn write_bytes(&mut self, bytes: &[u8]) -> $crate::Result<()> {
                self.buf.write_bytes(&self.$io, bytes)
            }

            /// Sends all buffered output, waiting as needed (IOLib's `finish-output`).
            /// `EINTR` is retried, and `ENOBUFS`/`ENOMEM` (the kernel short of memory) are
            /// retried after a millisecond's pause, both within the write timeout.
            ///
            /// Blocks until everything is sent, up to the write timeout.
            ///
            /// IOLib: `finish-output`; see docs/PORTING.md, "Sockets".
            ///
            /// # Errors
            /// [`Error::Hangup`](crate::Error::Hangup) (`EPIPE`) or
            /// [`Error::ConnectionReset`](crate::Error::ConnectionReset) when the reader is
            /// gone, [`Error::Timeout`](crate::Error::Timeout) when the write timeout runs
            /// out, [`Error::Closed`](crate::Error::Closed) when closed; all but the last are
            /// per-peer ([`Error::scope`](crate::Error::scope)).
            ///
            /// # Examples
            ///
            /// ```
            /// use sockets::*;
            ///
            /// let (mut a, mut b) = make_socket_pair(ExternalFormat::UTF8_LF)?;
            /// writeln!(a, "{} + {} = {}", 1, 2, 1 + 2)?;
            /// a.finish_output()?;
            /// assert_eq!(a.buffered_output(), 0);
            /// assert_eq!(b.read_line()?, "1 + 2 = 3");
            /// # Ok::<(), sockets::Error>(())
            /// ```
            pub fn finish_output(&mut self) -> $crate::Result<()> {
                self.buf.finish_output(&self.$io)
            }

            /// One non-blocking try at sending buffered output (IOLib's `force-output`);
            /// returns how many bytes are still buffered (a full kernel buffer, or the kernel
            /// short of memory, leaves them buffered).
            ///
            /// Never blocks.
            ///
            /// # Errors
            /// As [`finish_output`](Self::finish_output), but never a timeout.
            ///
            /// # Examples
            ///
            /// ```
            /// use sockets::*;
            ///
            /// let (mut a, mut b) = make_socket_pair(ExternalFormat::UTF8_LF)?;
            /// a.write_line("quick")?;
            /// assert_eq!(a.force_output()?, 0); // an empty socket buffer takes it all
            /// assert_eq!(b.read_line()?, "quick");
            /// # Ok::<(), sockets::Error>(())
            /// ```
            pub fn force_output(&mut self) -> $crate::Result<usize> {
                self.buf.force_output(&self.$io)
            }

            /// Bytes written and not yet sent.
            ///
            /// See [`write_line`](Self::write_line) for an example.
            pub fn buffered_output(&self) -> usize {
                self.buf.buffered_output()
            }
        }

        impl std::io::Read for $t {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                Ok(self.buf.read_bytes(&self.$io, buf)?)
            }
        }

        impl std::io::BufRead for $t {
            fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
                Ok(self.buf.fill_buf(&self.$io)?)
            }
            fn consume(&mut self, amt: usize) {
                self.buf.consume(amt);
            }
        }

        impl std::io::Write for $t {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.write_bytes(buf)?;
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(self.finish_output()?)
            }
        }
    };
}
pub(crate) use line_stream_methods;
