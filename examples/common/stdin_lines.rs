//! Line input from stdin for the clients that also watch a socket: an [`FdStream`] over
//! stdin, the same line reader the sockets use.

use iolib::prelude::*;
use std::os::fd::{AsFd, AsRawFd};

/// Line input from stdin for the multiplexed clients. Its buffer is visible (unlike std's
/// `Stdin`), so we can tell whether a line is waiting without blocking.
#[derive(Debug)]
pub struct StdinLines {
    stream: FdStream,
    /// A line (or end of file, `None`) read ahead by `wait_line_or_readable`.
    ahead: Option<Option<String>>,
}

impl Default for StdinLines {
    fn default() -> Self {
        // CRLF also reads bare LF lines, so both what a terminal and what `nc` send work.
        let stream =
            FdStream::stdin(ExternalFormat::UTF8_CRLF).unwrap_or_else(|e| super::fail("stdin", e));
        StdinLines {
            stream,
            ahead: None,
        }
    }
}

impl StdinLines {
    /// One line if one can be had without waiting: `Some(None)` at end of file.
    fn try_line(&mut self) -> Option<Option<String>> {
        loop {
            match self.stream.read_line_no_hang() {
                Ok(Some(line)) => return Some(Some(line)),
                Ok(None) => return None,
                Err(SocketError::EndOfFile) => return Some(None),
                // A line stdin's encoding refuses is skipped.
                Err(SocketError::Encoding { .. } | SocketError::LineTooLong { .. }) => continue,
                Err(_) => return Some(None),
            }
        }
    }

    /// Waits until a line (or end of file) is available on stdin, or `other` becomes
    /// readable: `true` for stdin. This keeps a client waiting for its user from sitting on
    /// data the server already sent.
    pub fn wait_line_or_readable(&mut self, other: &impl AsFd) -> bool {
        loop {
            if self.ahead.is_none() {
                self.ahead = self.try_line();
            }
            if self.ahead.is_some() {
                return true;
            }
            let mut fds = [
                isys::PollFd::new(self.stream.as_fd().as_raw_fd(), isys::PollFlags::IN),
                isys::PollFd::new(other.as_fd().as_raw_fd(), isys::PollFlags::IN),
            ];
            match isys::poll(&mut fds, None) {
                Ok(_) | Err(Errno::EINTR) => {}
                Err(_) => return true,
            }
            if fds[0].revents().is_empty() && !fds[1].revents().is_empty() {
                return false;
            }
        }
    }

    /// Reads a line without its end (blocking); `None` at end of file.
    pub fn read_line(&mut self) -> Option<String> {
        if let Some(line) = self.ahead.take() {
            return line;
        }
        loop {
            match self.stream.read_line() {
                Ok(line) => return Some(line),
                Err(SocketError::Encoding { .. } | SocketError::LineTooLong { .. }) => continue,
                Err(_) => return None,
            }
        }
    }
}
