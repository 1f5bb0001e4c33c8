//! A clean exit on SIGINT/SIGTERM for the servers that block in accept: a self-pipe the
//! accept waits on too.

use super::fail;
use iolib::prelude::*;
use std::os::fd::{AsRawFd, OwnedFd};

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
    /// (IOLib's `accept-connection :wait t`, plus the signal.) Out of fds or memory, it
    /// neither spins nor gives up: the acceptor sheds or backs off, and one line a second at
    /// most says so.
    pub fn accept(&self, acceptor: &mut Acceptor) -> Option<ActiveSocket> {
        loop {
            let mut fds = [
                isys::PollFd::new(acceptor.listener().as_raw_fd(), isys::PollFlags::IN),
                isys::PollFd::new(self.read.as_raw_fd(), isys::PollFlags::IN),
            ];
            match isys::poll(&mut fds, None) {
                Ok(_) | Err(Errno::EINTR) => {}
                Err(e) => fail("poll", e),
            }
            if !fds[1].revents().is_empty() {
                return None;
            }
            if fds[0].revents().is_empty() {
                continue;
            }
            match acceptor.accept() {
                Ok(AcceptOutcome::Client(c)) => return Some(c),
                // Nothing after all (the peer vanished between SYN and accept).
                Ok(AcceptOutcome::WouldBlock) => {}
                Ok(AcceptOutcome::Shed { errno }) => {
                    if acceptor.should_log() {
                        eprintln!(
                            "accept-connection: {}: closing new connections until fds are free",
                            errno.desc()
                        );
                    }
                }
                Ok(AcceptOutcome::Backoff { errno, retry_after }) => {
                    if acceptor.should_log() {
                        eprintln!(
                            "accept-connection: {}: pausing for {retry_after:?}",
                            errno.desc()
                        );
                    }
                    // Pause, but wake at once for a signal.
                    let mut stop = [isys::PollFd::new(
                        self.read.as_raw_fd(),
                        isys::PollFlags::IN,
                    )];
                    let _ = isys::poll(&mut stop, Some(retry_after));
                }
                Err(e) => fail("accept-connection", e),
            }
        }
    }
}

/// SIGINT/SIGTERM for programs on the event base: the signal ends `event_dispatch` at the end
/// of the round it arrives in.
pub fn exit_loop_on_signals(base: &mut EventBase) {
    for sig in [Signal::SIGINT, Signal::SIGTERM] {
        base.add_signal_handler(sig, |base, _| {
            base.exit_event_loop(std::time::Duration::ZERO);
            Ok(())
        })
        .unwrap_or_else(|e| fail("signal handler", e));
    }
}
