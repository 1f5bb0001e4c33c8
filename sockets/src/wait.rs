//! Waiting and deadlines (IOLib's `:wait` and `:timeout`): [`Wait`], turning it into a
//! deadline, and the one wait on a socket's fd that every "blocking" operation goes through
//! (`poll(2)` with a deadline, a pending socket error reported as its condition).

use crate::base_socket::Base;
use crate::error::{Error, Result, SysContext};
use isys::{FdEvent, FdWaitError};
use std::time::{Duration, Instant};

/// How long a "blocking" operation waits (IOLib's `:wait`).
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
