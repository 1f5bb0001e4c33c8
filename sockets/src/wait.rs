//! Waiting and deadlines (IOLib's `:wait` and `:timeout`): [`Wait`], turning it into a
//! deadline, and the one wait on a socket's fd that every "blocking" operation goes through
//! (`poll(2)` with a deadline, a pending socket error reported as its condition), and the
//! short pause before retrying when the kernel is short of memory. `EINTR` never ends a wait
//! and never stretches its deadline (`isys::wait_until_fd_ready` retries against it).

use crate::base_socket::Base;
use crate::error::{Error, Result, SysContext};
use isys::{FdEvent, FdWaitError};
use std::time::{Duration, Instant};

/// How long a "blocking" operation waits (IOLib's `:wait`).
///
/// ```
/// use sockets::*;
/// use std::time::Duration;
///
/// let server = make_socket().connect(Connect::Passive).local_host("127.0.0.1").local_port(0)
///     .build_passive()?;
/// assert!(server.accept_connection(Wait::No)?.is_none()); // nobody yet
/// assert!(server.accept_connection(Wait::For(Duration::from_millis(5)))?.is_none());
/// assert_eq!(Wait::from(true), Wait::Forever); // IOLib's `:wait t`
/// # Ok::<(), sockets::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Wait {
    /// Do not wait (`:wait nil`).
    No,
    /// Wait as long as it takes (`:wait t`).
    #[default]
    Forever,
    /// Wait at most this long.
    For(Duration),
}

impl Wait {
    pub(crate) fn deadline(self) -> Option<Option<Instant>> {
        match self {
            Wait::No => None,
            Wait::Forever => Some(None),
            Wait::For(d) => Some(Instant::now().checked_add(d)),
        }
    }
}

impl From<bool> for Wait {
    fn from(b: bool) -> Self {
        if b {
            Wait::Forever
        } else {
            Wait::No
        }
    }
}

impl From<Duration> for Wait {
    fn from(d: Duration) -> Self {
        Wait::For(d)
    }
}

pub(crate) fn remaining(deadline: Option<Instant>) -> Option<Duration> {
    deadline.map(|d| d.saturating_duration_since(Instant::now()))
}

/// How long a blocking operation pauses before trying again when the kernel is short of
/// memory (`ENOBUFS`, `ENOMEM`): long enough not to spin, short enough not to be noticed.
pub(crate) const RETRY_PAUSE: Duration = Duration::from_millis(1);

/// Pauses [`RETRY_PAUSE`] (never past `deadline`) before a retry; a deadline already passed
/// is [`Error::Timeout`] (of `what`).
pub(crate) fn pause_before_retry(deadline: Option<Instant>, what: Duration) -> Result<()> {
    match remaining(deadline) {
        Some(left) if left.is_zero() => Err(Error::Timeout(what)),
        Some(left) => {
            std::thread::sleep(left.min(RETRY_PAUSE));
            Ok(())
        }
        None => {
            std::thread::sleep(RETRY_PAUSE);
            Ok(())
        }
    }
}

impl Base {
    /// `wait_until_fd_ready`, with POLLERR turned into the socket's pending error.
    pub(crate) fn wait_ready(
        &self,
        event: FdEvent,
        timeout: Option<Duration>,
    ) -> Result<(bool, bool)> {
        let fd = self.fd()?;
        match isys::wait_until_fd_ready(fd, event, timeout) {
            Ok(r) => Ok(r),
            Err(FdWaitError::PollErr { .. }) => match isys::socket_error(fd).ctx("getsockopt")? {
                Some(e) => Err(Error::from_errno("poll", e)),
                None => Ok((event != FdEvent::Write, event != FdEvent::Read)),
            },
            Err(e) => Err(e.into()),
        }
    }

    /// Waits until `deadline` for input before a `recv`; running out is [`Error::Timeout`]
    /// (of `what`). A hang-up is readiness, and so is `POLLERR` (returned as `true`): the
    /// `recv` that follows returns the bytes still pending, then end of file or the error,
    /// so a peer's orderly close reads as end of file after all its data.
    pub(crate) fn wait_input(&self, deadline: Option<Instant>, what: Duration) -> Result<bool> {
        match isys::wait_until_fd_ready(self.fd()?, FdEvent::Read, remaining(deadline)) {
            Ok((false, false)) => Err(Error::Timeout(what)),
            Ok(_) => Ok(false),
            Err(FdWaitError::PollErr { .. }) => Ok(true),
            Err(e) => Err(e.into()),
        }
    }

    /// Waits until `deadline` for `event`; running out is [`Error::Timeout`] (of `what`).
    pub(crate) fn wait(
        &self,
        event: FdEvent,
        deadline: Option<Instant>,
        what: Duration,
    ) -> Result<()> {
        match self.wait_ready(event, remaining(deadline))? {
            (false, false) => Err(Error::Timeout(what)),
            _ => Ok(()),
        }
    }
}
