//! Errors: [`Error`] and [`Result`] for iomux calls, [`BoxError`] and [`HandlerResult`] for
//! what handlers return.

use crate::{Backend, Event};
use std::fmt;
use std::os::fd::RawFd;

/// A boxed error a handler can return; `?` on any `std::error::Error + Send + Sync` works.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What handlers return.
pub type HandlerResult = std::result::Result<(), BoxError>;

/// iomux errors. Each fallible call lists the variants it returns under `# Errors`; the
/// accessors [`errno`](Self::errno), [`fd`](Self::fd), [`event`](Self::event) and
/// [`handler_error_as`](Self::handler_error_as) answer the common questions without a
/// `match`. Display gives a sentence that names the fd, event or call.
///
/// ```
/// use iomux::{Error, Event, EventBase};
/// use std::os::fd::AsRawFd;
///
/// let mut base = EventBase::new()?;
/// let (r, _w) = isys::pipe(true)?;
/// base.set_io_handler(r.as_raw_fd(), Event::Read, |_, _, _, _| Ok(()))?;
/// let err = base.set_io_handler(r.as_raw_fd(), Event::Read, |_, _, _, _| Ok(())).unwrap_err();
/// assert!(matches!(err, Error::HandlerExists { event: Event::Read, .. }));
/// assert_eq!((err.fd(), err.event()), (Some(r.as_raw_fd()), Some(Event::Read)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A syscall failed.
    #[error("{call}: {}", errno.desc())]
    Sys {
        /// The syscall.
        call: &'static str,
        /// Its errno.
        errno: isys::Errno,
    },
    /// A syscall about one fd failed (registering it with the backend, changing its
    /// interest).
    #[error("{call} on fd {fd}: {}", errno.desc())]
    FdSys {
        /// The syscall and what it was for.
        call: &'static str,
        /// The fd.
        fd: RawFd,
        /// Its errno.
        errno: isys::Errno,
    },
    /// The fd is not open.
    #[error("fd {0} is not an open file descriptor")]
    BadFd(RawFd),
    /// The select backend cannot watch fds at or above `FD_SETSIZE`.
    #[error("fd {fd} is not below FD_SETSIZE ({limit}): the select backend cannot watch it; use poll or epoll")]
    FdTooLarge {
        /// The fd.
        fd: RawFd,
        /// `FD_SETSIZE`.
        limit: usize,
    },
    /// A handler is already registered for this fd and event.
    #[error("fd {fd} already has a {event:?} handler (remove it first)")]
    HandlerExists {
        /// The fd.
        fd: RawFd,
        /// The event.
        event: Event,
    },
    /// An unknown backend name (e.g. in `IOMUX_BACKEND`).
    #[error(
        "{}unknown iomux backend {name:?}, expected one of select, poll, epoll, kqueue",
        EnvPrefix(*env_var, name)
    )]
    UnknownBackend {
        /// The name given.
        name: String,
        /// The environment variable it came from (`Some("IOMUX_BACKEND")`), or `None` when a
        /// program passed it.
        env_var: Option<&'static str>,
    },
    /// A backend that was not compiled in.
    #[error(
        "{}iomux backend {backend} is not compiled in (available: {available})",
        EnvPrefix(*env_var, backend.name())
    )]
    BackendUnavailable {
        /// The backend asked for.
        backend: Backend,
        /// The compiled backends.
        available: String,
        /// The environment variable that asked for it (`Some("IOMUX_BACKEND")`), or `None`
        /// when a program did.
        env_var: Option<&'static str>,
    },
    /// `event_dispatch` called from inside a handler.
    #[error("event_dispatch called from inside a handler of the same event base")]
    Reentrant,
    /// A bad argument.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A handler returned this error, which ended `event_dispatch`. Display names the
    /// handler: "read handler of fd 7 failed: connection reset by peer".
    #[error("{}: {source}", HandlerName(*fd, *event))]
    Handler {
        /// The fd whose handler failed; `None` for timer and signal handlers.
        fd: Option<RawFd>,
        /// The failed handler's event; `None` for timer and signal handlers.
        event: Option<Event>,
        /// What the handler returned.
        #[source]
        source: BoxError,
    },
}

impl Error {
    pub(crate) fn sys(call: &'static str, errno: isys::Errno) -> Error {
        Error::Sys { call, errno }
    }

    /// The errno behind this error, if a syscall failed ([`Error::Sys`], [`Error::FdSys`];
    /// `EBADF` for [`Error::BadFd`]).
    ///
    /// ```
    /// use iomux::{Event, EventBase};
    ///
    /// let mut base = EventBase::new()?;
    /// let err = base.set_io_handler(-1, Event::Read, |_, _, _, _| Ok(())).unwrap_err();
    /// assert_eq!(err.errno(), Some(isys::Errno::EBADF)); // Error::BadFd(-1)
    /// # Ok::<(), iomux::Error>(())
    /// ```
    pub fn errno(&self) -> Option<isys::Errno> {
        match self {
            Error::Sys { errno, .. } | Error::FdSys { errno, .. } => Some(*errno),
            Error::BadFd(_) => Some(isys::Errno::EBADF),
            _ => None,
        }
    }

    /// The handler's error, if this is [`Error::Handler`], for downcasting (or see
    /// [`handler_error_as`](Self::handler_error_as), which has an example).
    pub fn handler_error(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        match self {
            Error::Handler { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }

    /// The handler's error as a `T`, if this is [`Error::Handler`] and the handler returned a
    /// `T`: `e.handler_error_as::<sockets::Error>()`. This is how IOLib's `handler-case`
    /// around `event-dispatch` ports (see [the porting table][porting]).
    ///
    /// ```
    /// use iomux::{DispatchOptions, Event, EventBase};
    /// use std::io;
    /// use std::os::fd::AsRawFd;
    ///
    /// let mut base = EventBase::new()?;
    /// let (_r, w) = isys::pipe(true)?;
    /// base.set_io_handler(w.as_raw_fd(), Event::Write, |_, _, _, _| {
    ///     Err(io::Error::from(io::ErrorKind::ConnectionReset).into())
    /// })?;
    /// let err = base.event_dispatch(DispatchOptions::default()).unwrap_err();
    /// let io = err.handler_error_as::<io::Error>().expect("the handler's io::Error");
    /// assert_eq!(io.kind(), io::ErrorKind::ConnectionReset);
    /// assert_eq!((err.fd(), err.event()), (Some(w.as_raw_fd()), Some(Event::Write)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// [porting]: https://github.com/iolib-rs/iolib-rs/blob/main/docs/PORTING.md#the-event-base
    pub fn handler_error_as<T: std::error::Error + 'static>(&self) -> Option<&T> {
        self.handler_error()?.downcast_ref()
    }

    /// The fd this error is about: the failed handler's (`None` for timer and signal
    /// handlers), or the fd of [`Error::FdSys`], [`Error::BadFd`], [`Error::FdTooLarge`] and
    /// [`Error::HandlerExists`]. [`Error`] and
    /// [`handler_error_as`](Self::handler_error_as) have examples.
    pub fn fd(&self) -> Option<RawFd> {
        match self {
            Error::Handler { fd, .. } => *fd,
            Error::FdSys { fd, .. }
            | Error::BadFd(fd)
            | Error::FdTooLarge { fd, .. }
            | Error::HandlerExists { fd, .. } => Some(*fd),
            _ => None,
        }
    }

    /// The event this error is about: the failed handler's (`None` for timer and signal
    /// handlers), or the event of [`Error::HandlerExists`]. [`Error`] and
    /// [`handler_error_as`](Self::handler_error_as) have examples.
    pub fn event(&self) -> Option<Event> {
        match self {
            Error::Handler { event, .. } => *event,
            Error::HandlerExists { event, .. } => Some(*event),
            _ => None,
        }
    }
}

/// "IOMUX_BACKEND=name: " before a backend error that came from the environment.
struct EnvPrefix<'a>(Option<&'static str>, &'a str);

impl fmt::Display for EnvPrefix<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(var) => write!(f, "{var}={}: ", self.1),
            None => Ok(()),
        }
    }
}

/// "read handler of fd 7 failed", or "timer or signal handler failed" without an fd.
struct HandlerName(Option<RawFd>, Option<Event>);

impl fmt::Display for HandlerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.0, self.1) {
            (Some(fd), Some(event)) => write!(f, "{event} handler of fd {fd} failed"),
            (Some(fd), None) => write!(f, "handler of fd {fd} failed"),
            (None, _) => f.write_str("timer or signal handler failed"),
        }
    }
}

/// The event's name as IOLib spells its keyword, without the colon: `read`, `write`, `error`.
impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Event::Read => "read",
            Event::Write => "write",
            Event::Error => "error",
        })
    }
}

/// The result of iomux calls.
pub type Result<T> = std::result::Result<T, Error>;
