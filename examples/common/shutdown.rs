//! A clean exit on SIGINT/SIGTERM for the servers that block in accept: a self-pipe the
//! accept waits on too.

use super::fail;
use iolib::prelude::*;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::Duration;

/// SIGINT/SIGTERM for servers that block in accept: a self-pipe the accept waits on too.
pub struct Shutdown {
    read: OwnedFd,
    _write: OwnedFd,
}

impl Shutdown {
    /// Routes SIGINT and SIGTERM to the pipe.
    pub fn install() -> Shutdown {
        let (read, write) = isys::pipe(true).unwrap_or_else(|e| fail("pipe", e));
        for sig in [Signal::SIGINT, Signal::SIGTERM] {
            isys::signal_notify(sig, write.as_raw_fd()).unwrap_or_else(|e| fail("sigaction", e));
        }
        Shutdown {
            read,
            _write: write,
        }
    }

    /// Whether a signal asked us to stop.
    pub fn requested(&self) -> bool {
        isys::fd_readable(&self.read).unwrap_or(true)
    }

    /// A blocking accept that returns `None` when a signal asks the server to stop.
    /// (IOLib's `accept-connection :wait t`, plus the signal.)
    pub fn accept(&self, server: &PassiveSocket) -> Option<ActiveSocket> {
        loop {
            let mut fds = [
                isys::PollFd::new(server.as_fd().as_raw_fd(), isys::PollFlags::IN),
                isys::PollFd::new(self.read.as_raw_fd(), isys::PollFlags::IN),
            ];
            match isys::poll(&mut fds, None) {
                Ok(_) | Err(Errno::EINTR) => {}
                Err(e) => fail("poll", e),
            }
            if !fds[1].revents().is_empty() {
                return None;
            }
            if !fds[0].revents().is_empty() {
                match server.accept_connection(Wait::No) {
                    Ok(Some(c)) => return Some(c),
                    // Nothing after all (the peer vanished between SYN and accept).
                    Ok(None) => continue,
                    Err(e) => {
                        eprintln!("accept-connection: {e}");
                        std::thread::sleep(Duration::from_millis(10));
                    }
                }
            }
        }
    }
}
