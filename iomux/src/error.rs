//! Errors: [`Error`] and [`Result`] for iomux calls, [`BoxError`] and [`HandlerResult`] for
//! what handlers return.

use crate::{Backend, Event};
use std::os::fd::RawFd;

/// A boxed error a handler can return; `?` on any `std::error::Error + Send + Sync` works.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What handlers return.
pub type HandlerResult = std::result::Result<(), BoxError>;

/// iomux errors.
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
    #[error("unknown iomux backend {0:?}: expected one of select, poll, epoll, kqueue")]
    UnknownBackend(String),
    /// A backend that was not compiled in.
    #[error("iomux backend {backend} is not compiled in (available: {available})")]
    BackendUnavailable {
        /// The backend asked for.
        backend: Backend,
        /// The compiled backends.
        available: String,
    },
    /// `event_dispatch` called from inside a handler.
    #[error("event_dispatch called from inside a handler of the same event base")]
    Reentrant,
    /// A bad argument.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A handler returned this error, which ended `event_dispatch`.
    #[error("handler failed: {0}")]
    Handler(#[source] BoxError),
}

impl Error {
    pub(crate) fn sys(call: &'static str, errno: isys::Errno) -> Error {
        Error::Sys { call, errno }
    }

    /// The errno behind this error, if a syscall failed.
    pub fn errno(&self) -> Option<isys::Errno> {
        match self {
            Error::Sys { errno, .. } | Error::FdSys { errno, .. } => Some(*errno),
            Error::BadFd(_) => Some(isys::Errno::EBADF),
            _ => None,
        }
    }

    /// The handler's error, if this is one, for downcasting.
    pub fn handler_error(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        match self {
            Error::Handler(e) => Some(e.as_ref()),
            _ => None,
        }
    }
}

/// The result of iomux calls.
pub type Result<T> = std::result::Result<T, Error>;
