//! What becomes of a handler's error: the base's failure policy ([`OnError`],
//! [`HandlerFailure`], [`EventBase::set_handler_error_policy`]) and ending one fd
//! ([`EventBase::drop_fd`]).
//!
//! IOLib unwinds `event-dispatch` when a handler signals an unhandled condition; that stays
//! the default here. A server usually wants the opposite for per-peer failures (a reset, an
//! encoding error, a line too long): end that fd alone and go on serving the others. A policy
//! decides per error.

use crate::fd_entry::Handler;
use crate::{BoxError, Error, Event, EventBase, Exception, Handlers, Result};
use std::fmt;
use std::os::fd::{AsRawFd, RawFd};

/// What the event base does with a handler's error (the answer of a failure policy, set with
/// [`EventBase::set_handler_error_policy`]). IOLib's `handler-case` around `event-dispatch`
/// is the nearest thing (see [the porting table][porting]).
///
/// ```
/// use iomux::{DispatchOptions, Event, EventBase, OnError};
/// use std::os::fd::AsRawFd;
///
/// let mut base = EventBase::new()?;
/// base.set_handler_error_policy(|_failure| OnError::DropFd);
/// let (_r, w) = isys::pipe(true)?;
/// let fd = w.as_raw_fd();
/// base.set_io_handler(fd, Event::Write, move |_, _, _, _| {
///     let _owned = &w; // dropped, so closed, with the handler
///     Err("this peer is done".into())
/// })?;
/// // Without the policy this dispatch would return the handler's error.
/// base.event_dispatch(DispatchOptions::default().exit_when_empty(true))?;
/// assert!(!base.fd_monitored(fd));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// [porting]: https://github.com/iolib-rs/iolib-rs/blob/main/docs/PORTING.md#the-event-base
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OnError {
    /// End `event_dispatch` with [`Error::Handler`], which names the fd and event (IOLib's
    /// unwinding; the default).
    EndDispatch,
    /// End this fd alone ([`EventBase::drop_fd`]: its handlers and state are dropped, which
    /// closes a socket they own) and go on.
    DropFd,
    /// Keep the fd's handlers and go on: the error was transient (`ENOBUFS`, `ENOMEM`) and
    /// the next round retries, level-triggered.
    Continue,
}

/// A handler's error, as a failure policy sees it.
///
/// ```
/// use iomux::{EventBase, OnError};
/// use std::io;
///
/// let mut base = EventBase::new()?;
/// base.set_handler_error_policy(|failure| match failure.downcast_ref::<io::Error>() {
///     Some(e) if e.kind() == io::ErrorKind::ConnectionReset => OnError::DropFd,
///     _ => OnError::EndDispatch,
/// });
/// # Ok::<(), iomux::Error>(())
/// ```
pub struct HandlerFailure<'a> {
    /// The fd whose handler failed.
    pub fd: RawFd,
    /// The handler's event.
    pub event: Event,
    /// The exception the handler was called with.
    pub exception: Option<Exception>,
    /// What the handler returned.
    pub error: &'a (dyn std::error::Error + Send + Sync + 'static),
}

impl fmt::Debug for HandlerFailure<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandlerFailure")
            .field("fd", &self.fd)
            .field("event", &self.event)
            .field("exception", &self.exception)
            .field("error", &format_args!("{}", self.error))
            .finish()
    }
}

impl HandlerFailure<'_> {
    /// The error as a `T`, if it is one ([`HandlerFailure`] has an example).
    pub fn downcast_ref<T: std::error::Error + 'static>(&self) -> Option<&T> {
        self.error.downcast_ref()
    }
}

pub(crate) type FailurePolicy = Box<dyn FnMut(&HandlerFailure<'_>) -> OnError>;

impl EventBase {
    /// Sets what happens when an fd's handler returns an error: `policy` sees the fd, the
    /// event and the error, and answers [`OnError`]. Without a policy every error ends
    /// `event_dispatch` (IOLib's behaviour). Timer and signal handlers have no fd: their
    /// errors always end `event_dispatch`.
    ///
    /// The policy is the place for the one log line a dropped peer deserves. The facade crate
    /// `iolib` has one for servers, `iolib::drop_failing_peers`, which drops the fd on per-peer
    /// socket errors (see `sockets::ErrorScope`).
    ///
    /// ```
    /// use iomux::{EventBase, OnError};
    /// let mut base = EventBase::new()?;
    /// base.set_handler_error_policy(|failure| {
    ///     eprintln!("fd {}: {}; dropped", failure.fd, failure.error);
    ///     OnError::DropFd
    /// });
    /// # Ok::<(), iomux::Error>(())
    /// ```
    pub fn set_handler_error_policy<F>(&mut self, policy: F)
    where
        F: FnMut(&HandlerFailure<'_>) -> OnError + 'static,
    {
        self.failure_policy = Some(Box::new(policy));
    }

    /// Removes the failure policy: handler errors end `event_dispatch` again.
    ///
    /// ```
    /// use iomux::{EventBase, OnError};
    ///
    /// let mut base = EventBase::new()?;
    /// base.set_handler_error_policy(|_| OnError::Continue);
    /// base.clear_handler_error_policy(); // back to IOLib's behaviour
    /// # Ok::<(), iomux::Error>(())
    /// ```
    pub fn clear_handler_error_policy(&mut self) {
        self.failure_policy = None;
    }

    /// Ends everything the base holds for `fd`: removes its handlers and drops its state
    /// (so a socket owned by a handler closure or by the state is closed). What
    /// [`OnError::DropFd`] does; also handy for a handler that decides its peer is done.
    /// Called from a handler of `fd`, the state is dropped when that handler returns.
    /// Returns whether there was anything to drop.
    ///
    /// ```
    /// use iomux::{Event, EventBase};
    /// use std::os::fd::AsRawFd;
    ///
    /// let mut base = EventBase::new()?;
    /// let (r, _w) = isys::pipe(true)?;
    /// let fd = r.as_raw_fd();
    /// base.set_fd_state(fd, r)?; // the state owns the pipe's read end
    /// base.set_io_handler(fd, Event::Read, |_, _, _, _| Ok(()))?;
    /// assert!(base.drop_fd(fd)); // handler removed, state dropped, fd closed
    /// assert!(!base.fd_monitored(fd) && base.is_empty());
    /// assert!(!base.drop_fd(fd));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn drop_fd(&mut self, fd: impl AsRawFd) -> bool {
        let fd = fd.as_raw_fd();
        let handlers = self.remove_fd_handlers(fd, Handlers::ALL);
        let state = self.remove_fd_state(fd);
        handlers || state
    }

    /// A handler of `fd` returned `error`: asks the policy, and acts on its answer.
    /// `handler` is the failed handler when it is no longer in its slot (one-shot), dropped
    /// after the policy ran.
    pub(crate) fn handler_failed(
        &mut self,
        fd: RawFd,
        event: Event,
        exception: Option<Exception>,
        error: BoxError,
        handler: Option<Handler>,
    ) -> Result<()> {
        // The base's own fds (the signal pipe, the waker) run signal handlers and the like:
        // their errors have no fd of the user's and always end the dispatch.
        let internal = self
            .fds
            .get(fd as usize)
            .and_then(Option::as_ref)
            .is_some_and(|e| e.internal());
        if internal {
            drop(handler);
            return Err(Error::Handler {
                fd: None,
                event: None,
                source: error,
            });
        }
        let verdict = match self.failure_policy.as_mut() {
            None => OnError::EndDispatch,
            Some(policy) => policy(&HandlerFailure {
                fd,
                event,
                exception,
                error: error.as_ref(),
            }),
        };
        drop(handler);
        match verdict {
            OnError::EndDispatch => Err(Error::Handler {
                fd: Some(fd),
                event: Some(event),
                source: error,
            }),
            OnError::DropFd => {
                self.drop_fd(fd);
                Ok(())
            }
            OnError::Continue => Ok(()),
        }
    }
}
