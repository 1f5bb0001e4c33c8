//! The stream buffer (IOLib's stream `buffer`) that [`ActiveSocket`](crate::ActiveSocket)
//! and [`FdStream`](crate::FdStream) share: one [`StreamBuffer`] holds the input and output
//! bytes, the external format and the line counters, and works over a small I/O trait,
//! [`RawIo`], that says how to move bytes on the fd (`recv`/`send` on a socket,
//! `read`/`write` on any other fd) and how to wait for it. The input side (lines,
//! characters, `std::io::Read`) is in `stream.rs`, the output side in `output.rs`, the public
//! methods both types get in `stream_api.rs`.
//!
//! # Invariants
//!
//! Input, `ibuf` with the cursors `ipos` and `iend`:
//! - `ipos <= iend <= ibuf.len()`.
//! - `ibuf[ipos..iend]` holds bytes received and not yet consumed, in arrival order; every
//!   reader (line, character, [`io::Read`](std::io::Read), [`io::BufRead`](std::io::BufRead),
//!   `receive_from`) takes bytes from there before asking the kernel. `ibuf[iend..]` is free
//!   room for the next read.
//! - When `ipos == iend` the next fill resets both to 0. Before a read, when less than a
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
//! - `drained` is true when the last read came back short or would have blocked (the kernel
//!   buffer is then most likely empty); the next blocking read waits for readiness first.
//!
//! Output, `obuf` with the cursor `opos`:
//! - `opos <= obuf.len()`; `obuf[..opos]` is sent, `obuf[opos..]` is written by the program
//!   and not yet sent, already encoded (text through the external format, each `\n` as its
//!   line end; raw bytes as given). When everything is sent, `obuf` is emptied and `opos` is 0.
//! - A write appends whole, then flushes (waiting, as `finish_output`) once at least
//!   `settings.output_buffer_size` bytes are unsent, so `obuf` may briefly exceed that size.
//!   Otherwise output goes out only on `finish_output` and `flush` (all of it, waiting up to
//!   the write timeout), `force_output` (one non-blocking try), and closing (sockets: also
//!   `shutdown` with writing and the conversions out of an `ActiveSocket`). `close_abort` and
//!   `Drop` discard it. A socket's `send_to` bypasses `obuf`, so it can overtake output still
//!   buffered here.
//!
//! `lines_read` and `lines_written` count lines for the line numbers in encoding errors.

use crate::base_socket::Base;
use crate::budget::InputBudget;
use crate::error::{Result, SysContext};
use crate::format::ExternalFormat;
use isys::{Errno, FdEvent, MsgFlags};
use std::os::fd::BorrowedFd;
use std::time::{Duration, Instant};

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

/// Default input and output buffer size of an active socket or fd stream.
pub const DEFAULT_BUFFER_SIZE: usize = 16 * 1024;
/// Default maximum line length for `read_line`: 1 MiB.
pub const DEFAULT_MAX_LINE_LENGTH: usize = 1 << 20;

/// The buffered state of a line stream; see the module doc for its invariants.
#[derive(Debug)]
pub(crate) struct StreamBuffer {
    pub(crate) format: ExternalFormat,
    pub(crate) ibuf: Vec<u8>,
    pub(crate) ipos: usize,
    pub(crate) iend: usize,
    pub(crate) obuf: Vec<u8>,
    pub(crate) opos: usize,
    pub(crate) settings: StreamSettings,
    /// Skipping the rest of a line that was too long.
    pub(crate) discarding: bool,
    pub(crate) lines_read: u64,
    pub(crate) lines_written: u64,
    pub(crate) read_timeout: Option<Duration>,
    pub(crate) write_timeout: Option<Duration>,
    /// The last read left the kernel buffer empty: the next blocking read waits first
    /// instead of paying for a read that can only say EWOULDBLOCK.
    pub(crate) drained: bool,
    /// Bytes of `ibuf` beyond its base size charged to `settings.input_budget`.
    pub(crate) charged: usize,
}

impl StreamBuffer {
    pub(crate) fn new(format: ExternalFormat, settings: StreamSettings) -> Self {
        StreamBuffer {
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
            charged: 0,
        }
    }

    /// The read timeout as a deadline from now, and itself (for the timeout error).
    pub(crate) fn read_deadline(&self) -> (Option<Instant>, Duration) {
        deadline_of(self.read_timeout)
    }

    /// The write timeout as a deadline from now, and itself (for the timeout error).
    pub(crate) fn write_deadline(&self) -> (Option<Instant>, Duration) {
        deadline_of(self.write_timeout)
    }
}

fn deadline_of(t: Option<Duration>) -> (Option<Instant>, Duration) {
    (
        t.and_then(|t| Instant::now().checked_add(t)),
        t.unwrap_or_default(),
    )
}

/// How a [`StreamBuffer`] moves bytes on its fd and waits for it. The fd is non-blocking:
/// `read_some`/`write_some` return `EWOULDBLOCK` rather than wait, and the waits take a
/// deadline.
pub(crate) trait RawIo {
    /// The syscall names for error messages.
    const READ_CALL: &'static str;
    /// See [`READ_CALL`](Self::READ_CALL).
    const WRITE_CALL: &'static str;
    /// The fd, or [`Error::Closed`](crate::Error::Closed).
    fn io_fd(&self) -> Result<BorrowedFd<'_>>;
    /// One read into `buf`.
    fn read_some(fd: BorrowedFd<'_>, buf: &mut [u8]) -> isys::Result<usize>;
    /// One write of `buf`, never raising `SIGPIPE` where the OS allows.
    fn write_some(fd: BorrowedFd<'_>, buf: &[u8]) -> isys::Result<usize>;
    /// Waits for input until `deadline` (running out is [`Error::Timeout`](crate::Error::Timeout) of `what`);
    /// `Ok(true)` when the wait reported an error condition the next read may not show.
    fn wait_input(&self, deadline: Option<Instant>, what: Duration) -> Result<bool>;
    /// Waits for room to write until `deadline` (running out is [`Error::Timeout`](crate::Error::Timeout)).
    fn wait_output(&self, deadline: Option<Instant>, what: Duration) -> Result<()>;
    /// The pending error behind an error condition, if the fd keeps one (sockets do).
    fn pending_error(&self) -> Result<Option<Errno>>;
}

impl RawIo for Base {
    const READ_CALL: &'static str = "recv";
    const WRITE_CALL: &'static str = "send";
    fn io_fd(&self) -> Result<BorrowedFd<'_>> {
        self.fd()
    }
    fn read_some(fd: BorrowedFd<'_>, buf: &mut [u8]) -> isys::Result<usize> {
        isys::recv(fd, buf, MsgFlags::empty())
    }
    fn write_some(fd: BorrowedFd<'_>, buf: &[u8]) -> isys::Result<usize> {
        isys::send(fd, buf, MsgFlags::empty())
    }
    fn wait_input(&self, deadline: Option<Instant>, what: Duration) -> Result<bool> {
        Base::wait_input(self, deadline, what)
    }
    fn wait_output(&self, deadline: Option<Instant>, what: Duration) -> Result<()> {
        self.wait(FdEvent::Write, deadline, what)
    }
    fn pending_error(&self) -> Result<Option<Errno>> {
        isys::socket_error(self.fd()?).ctx("getsockopt")
    }
}
