//! Which handler errors end one peer and which end the server: [`scope_of`] classifies any
//! error a handler returns (socket errors, iomux errors, bare errnos, `std::io` errors), and
//! [`drop_failing_peers`] is the failure policy a server installs on its event base.

use iomux::{HandlerFailure, OnError};
use sockets::ErrorScope;

/// What an error a handler returned concerns: one peer, a passing shortage, or the process.
///
/// [`sockets::Error`] answers with its own [`scope`](sockets::Error::scope); an errno
/// ([`isys::Errno`], or a `std::io::Error` carrying one) by [`ErrorScope::of_errno`]. An
/// [`iomux::Error`] about one fd (`FdTooLarge` on select, `BadFd`, a refused registration)
/// concerns the peer whose fd it is. Anything else concerns the process.
///
/// ```
/// use iolib::{scope_of, sockets::ErrorScope};
/// assert_eq!(scope_of(&iolib::sockets::Error::ConnectionReset), ErrorScope::Peer);
/// assert_eq!(scope_of(&iolib::isys::Errno::ENOBUFS), ErrorScope::Transient);
/// let too_big = iolib::iomux::Error::FdTooLarge { fd: 1024, limit: 1024 };
/// assert_eq!(scope_of(&too_big), ErrorScope::Peer);
/// let epipe = std::io::Error::from(iolib::isys::Errno::EPIPE); // an io::Error: by its errno
/// assert_eq!(scope_of(&epipe), ErrorScope::Peer);
/// let custom = std::io::Error::other("configuration"); // neither: the process's
/// assert_eq!(scope_of(&custom), ErrorScope::Process);
/// ```
pub fn scope_of(error: &(dyn std::error::Error + 'static)) -> ErrorScope {
    if let Some(e) = error.downcast_ref::<sockets::Error>() {
        return e.scope();
    }
    if let Some(e) = error.downcast_ref::<iomux::Error>() {
        return match e {
            iomux::Error::FdTooLarge { .. }
            | iomux::Error::BadFd(_)
            | iomux::Error::FdSys { .. } => ErrorScope::Peer,
            iomux::Error::Handler { source, .. } => scope_of(source.as_ref()),
            _ => ErrorScope::Process,
        };
    }
    if let Some(errno) = error.downcast_ref::<isys::Errno>() {
        return ErrorScope::of_errno(*errno);
    }
    if let Some(e) = error.downcast_ref::<std::io::Error>() {
        if let Some(raw) = e.raw_os_error() {
            return ErrorScope::of_errno(isys::Errno::from_raw(raw));
        }
        if let Some(inner) = e.get_ref() {
            return scope_of(inner);
        }
        return match e.kind() {
            std::io::ErrorKind::UnexpectedEof
            | std::io::ErrorKind::InvalidData
            | std::io::ErrorKind::TimedOut => ErrorScope::Peer,
            _ => ErrorScope::Process,
        };
    }
    ErrorScope::Process
}

/// The failure policy of a server on the event base
/// ([`EventBase::set_handler_error_policy`](iomux::EventBase::set_handler_error_policy)):
///
/// - a per-peer error ([`ErrorScope::Peer`]: reset, end of file, EPIPE, an encoding error,
///   a line too long, an fd select cannot watch, ...) drops that fd alone
///   ([`OnError::DropFd`]: its handlers and state go, closing the connection), with one line
///   on stderr;
/// - a passing shortage ([`ErrorScope::Transient`]: `ENOBUFS`, `ENOMEM`) keeps the handlers,
///   and the next round retries ([`OnError::Continue`]);
/// - anything else ends `event_dispatch` with the error ([`OnError::EndDispatch`]).
///
/// ```
/// use iolib::prelude::*;
/// use std::time::Duration;
///
/// let mut base = EventBase::new()?;
/// base.set_handler_error_policy(drop_failing_peers);
/// let (peer, other_end) = make_socket_pair(ExternalFormat::default())?;
/// let fd = peer.socket_os_fd().expect("open");
/// base.set_fd_state(fd, peer)?;
/// let on_read = |_: &mut EventBase, p: &mut ActiveSocket, _, _, _| -> HandlerResult {
///     p.read_line()?; // the other end has closed: end of file, a per-peer error
///     Ok(())
/// };
/// base.set_stateful_io_handler(fd, Event::Read, IoOptions::new(), on_read)?;
/// drop(other_end);
/// let options = DispatchOptions::default().exit_when_empty(true).timeout(Duration::from_secs(5));
/// // The peer's fd is dropped (its socket closed), then the empty base returns: no error.
/// assert_eq!(base.event_dispatch(options)?, DispatchOutcome::Empty);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn drop_failing_peers(failure: &HandlerFailure<'_>) -> OnError {
    match scope_of(failure.error) {
        ErrorScope::Peer => {
            eprintln!("fd {}: {}; connection dropped", failure.fd, failure.error);
            OnError::DropFd
        }
        ErrorScope::Transient => OnError::Continue,
        ErrorScope::Process => OnError::EndDispatch,
    }
}
