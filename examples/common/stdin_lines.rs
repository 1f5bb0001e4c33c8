//! Line input from stdin for the clients that also watch a socket.

use iolib::prelude::*;
use std::os::fd::{AsFd, AsRawFd};

/// Line input from stdin for the multiplexed clients: our own buffer over fd 0, so we can
/// tell whether a line is waiting without blocking (std's `Stdin` buffers invisibly).
#[derive(Debug, Default)]
pub struct StdinLines {
    buf: Vec<u8>,
    eof: bool,
}

impl StdinLines {
    fn has_line(&self) -> bool {
        self.eof || self.buf.contains(&b'\n')
    }

    fn read_more(&mut self) {
        let mut chunk = [0u8; 4096];
        let stdin = std::io::stdin();
        match isys::repeat_upon_eintr(|| isys::read(stdin.as_fd(), &mut chunk)) {
            Ok(0) | Err(_) => self.eof = true,
            Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
        }
    }

    /// Waits until a line (or end of file) is available on stdin, or `other` becomes
    /// readable: `true` for stdin. This keeps a client waiting for its user from sitting on
    /// data the server already sent.
    pub fn wait_line_or_readable(&mut self, other: &impl AsFd) -> bool {
        let stdin = std::io::stdin();
        loop {
            if self.has_line() {
                return true;
            }
            let mut fds = [
                isys::PollFd::new(stdin.as_fd().as_raw_fd(), isys::PollFlags::IN),
                isys::PollFd::new(other.as_fd().as_raw_fd(), isys::PollFlags::IN),
            ];
            match isys::poll(&mut fds, None) {
                Ok(_) | Err(Errno::EINTR) => {}
                Err(_) => return true,
            }
            if !fds[0].revents().is_empty() {
                self.read_more();
            } else if !fds[1].revents().is_empty() {
                return false;
            }
        }
    }

    /// Reads a line without its end (blocking); `None` at end of file.
    pub fn read_line(&mut self) -> Option<String> {
        loop {
            if let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
                let rest = self.buf.split_off(pos + 1);
                let mut line = std::mem::replace(&mut self.buf, rest);
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Some(String::from_utf8_lossy(&line).into_owned());
            }
            if self.eof {
                if self.buf.is_empty() {
                    return None;
                }
                let line = std::mem::take(&mut self.buf);
                return Some(String::from_utf8_lossy(&line).into_owned());
            }
            self.read_more();
        }
    }
}
