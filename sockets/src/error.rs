//! IOLib's socket conditions as one error enum, and what a failure concerns
//! ([`ErrorScope`]): one peer, a passing shortage, or the whole process.

use isys::{Errno, FdWaitError};

/// The result of socket operations.
pub type Result<T> = std::result::Result<T, Error>;

/// IOLib's socket conditions (`socket-connection-refused-error`, `end-of-file`, ...) as
/// variants, plus a catch-all with the errno and the syscall.
///
/// Every variant that came from a syscall can say its errno with [`Error::errno`], so IOLib
/// handlers on `isys:ewouldblock` or `isys:epipe` port as matches on the errno.
///
/// ```
/// use sockets::*;
///
/// let (mut a, mut b) = make_socket_pair(ExternalFormat::UTF8_LF)?;
/// a.close()?;
/// match b.read_line() {
///     Err(Error::EndOfFile) => {} // IOLib's `end-of-file`
///     other => panic!("expected end of file, got {other:?}"),
/// }
/// # Ok::<(), sockets::Error>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
// A one-byte tag instead of the niche in `Encoding::detail`'s capacity: `Ok` of a `Result<T>`
// is then a byte store and a byte compare, not a 64-bit constant (8 bytes more per error).
#[repr(u8)]
pub enum Error {
    /// `ECONNREFUSED`: nobody listens at the remote address.
    #[error("connection refused")]
    ConnectionRefused,
    /// `ECONNRESET`: the peer reset the connection.
    #[error("connection reset by peer")]
    ConnectionReset,
    /// `ECONNABORTED`: the connection was aborted.
    #[error("connection aborted")]
    ConnectionAborted,
    /// `ETIMEDOUT`, or a connect wait that ran out.
    #[error("connection timed out")]
    ConnectionTimeout,
    /// `EADDRINUSE`.
    #[error("address already in use")]
    AddressInUse,
    /// `EADDRNOTAVAIL`.
    #[error("address not available")]
    AddressNotAvailable,
    /// `EAFNOSUPPORT`.
    #[error("address family not supported")]
    AddressFamilyNotSupported,
    /// `ENETDOWN`.
    #[error("network is down")]
    NetworkDown,
    /// `ENETUNREACH`.
    #[error("network is unreachable")]
    NetworkUnreachable,
    /// `ENETRESET`.
    #[error("network dropped the connection on reset")]
    NetworkReset,
    /// `EHOSTDOWN`.
    #[error("host is down")]
    HostDown,
    /// `EHOSTUNREACH`.
    #[error("no route to host")]
    HostUnreachable,
    /// `ENOTCONN`.
    #[error("socket is not connected")]
    NotConnected,
    /// `EISCONN`.
    #[error("socket is already connected")]
    AlreadyConnected,
    /// `ESHUTDOWN`: the endpoint was shut down.
    #[error("cannot send after endpoint shutdown")]
    EndpointShutdown,
    /// `ENOBUFS`.
    #[error("no buffer space available")]
    NoBufferSpace,
    /// `ENOPROTOOPT`, or an option this platform lacks.
    #[error("socket option not supported: {0}")]
    OptionNotSupported(&'static str),
    /// `EOPNOTSUPP`.
    #[error("operation not supported on this socket")]
    OperationNotSupported,
    /// End of file before any byte of the requested item (IOLib's `end-of-file`).
    #[error("end of file")]
    EndOfFile,
    /// `EPIPE` on a stream write: the peer is gone (IOLib's `hangup`).
    #[error("hangup: the peer closed the connection (EPIPE)")]
    Hangup,
    /// A wait with a deadline ran out (read, write or accept timeout).
    #[error("operation timed out after {0:?}")]
    Timeout(std::time::Duration),
    /// A line longer than the socket's maximum line length; the rest of that line is skipped
    /// and the next line can be read.
    #[error("line too long: more than {limit} bytes without a line end")]
    LineTooLong {
        /// The socket's maximum line length in bytes.
        limit: usize,
    },
    /// Growing this socket's input buffer for an unfinished line would take its shared
    /// [`InputBudget`](crate::InputBudget) over its limit. Like [`Error::LineTooLong`], the
    /// rest of that line is skipped and the next line can be read.
    #[error("input budget exceeded: the sockets sharing it may buffer at most {limit} bytes beyond their base buffers")]
    InputBudgetExceeded {
        /// The budget's limit in bytes.
        limit: usize,
    },
    /// Input or output not valid for the socket's encoding.
    #[error("{encoding} encoding error at line {line}, byte {offset}: {detail}")]
    Encoding {
        /// The encoding's name.
        encoding: &'static str,
        /// 1-based line number read or written on this socket.
        line: u64,
        /// Byte offset within that line.
        offset: usize,
        /// What was wrong.
        detail: String,
    },
    /// An address that does not parse, or of the wrong family for the socket.
    #[error("invalid address: {0}")]
    InvalidAddress(String),
    /// A host name the resolver could not resolve.
    #[error("cannot resolve host {name:?}: {message}")]
    Resolver {
        /// The name asked for.
        name: String,
        /// What the resolver said.
        message: String,
    },
    /// IOLib's `resolver-no-name-error`: the name does not exist (NXDOMAIN), or has no record
    /// of the kind asked for.
    #[error("no such host name {name:?}")]
    ResolverNoName {
        /// The name asked for.
        name: String,
    },
    /// IOLib's `resolver-again-error`: a temporary failure (SERVFAIL, no server reachable);
    /// asking again later may work.
    #[error("temporary failure resolving {name:?}: {message}")]
    ResolverAgain {
        /// The name asked for.
        name: String,
        /// What the servers said.
        message: String,
    },
    /// IOLib's `resolver-fail-error`: a permanent failure (REFUSED, FORMERR, NOTIMP, answers
    /// that do not decode).
    #[error("failure resolving {name:?}: {message}")]
    ResolverFail {
        /// The name asked for.
        name: String,
        /// What the servers said.
        message: String,
    },
    /// No server answered within the configured timeout and attempts (IOLib signals
    /// `resolver-again-error` for this).
    #[error("no answer resolving {name:?} after {elapsed:?}")]
    ResolverTimeout {
        /// The name asked for.
        name: String,
        /// How long the resolver tried.
        elapsed: std::time::Duration,
    },
    /// A DNS message that cannot be encoded (a name that is not one) or decoded.
    #[error("DNS message: {0}")]
    Dns(#[from] crate::dns::WireError),
    /// An unknown service name.
    #[error("unknown service {0:?}")]
    UnknownService(String),
    /// An unknown protocol name.
    #[error("unknown protocol {0:?}")]
    UnknownProtocol(String),
    /// A bad argument: unknown builder keyword, inconsistent keywords, bad buffer range.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The socket was already closed.
    #[error("socket is closed")]
    Closed,
    /// `poll(2)` reported a condition on the fd (`POLLNVAL`: not open).
    #[error(transparent)]
    Poll(#[from] FdWaitError),
    /// Any other syscall failure: the errno and the syscall's name.
    #[error("{call}: {}", errno.desc())]
    Sys {
        /// The syscall.
        call: &'static str,
        /// Its errno.
        errno: Errno,
    },
}

impl Error {
    /// Maps `errno` from syscall `call` to IOLib's condition.
    ///
    /// ```
    /// use sockets::{Errno, Error};
    ///
    /// let refused = Error::from_errno("connect", Errno::ECONNREFUSED);
    /// assert!(matches!(refused, Error::ConnectionRefused));
    /// assert!(matches!(Error::from_errno("read", Errno::EIO), Error::Sys { call: "read", .. }));
    /// ```
    pub fn from_errno(call: &'static str, errno: Errno) -> Error {
        match errno {
            Errno::ECONNREFUSED => Error::ConnectionRefused,
            Errno::ECONNRESET => Error::ConnectionReset,
            Errno::ECONNABORTED => Error::ConnectionAborted,
            Errno::ETIMEDOUT => Error::ConnectionTimeout,
            Errno::EADDRINUSE => Error::AddressInUse,
            Errno::EADDRNOTAVAIL => Error::AddressNotAvailable,
            Errno::EAFNOSUPPORT => Error::AddressFamilyNotSupported,
            Errno::ENETDOWN => Error::NetworkDown,
            Errno::ENETUNREACH => Error::NetworkUnreachable,
            Errno::ENETRESET => Error::NetworkReset,
            Errno::EHOSTDOWN => Error::HostDown,
            Errno::EHOSTUNREACH => Error::HostUnreachable,
            Errno::ENOTCONN => Error::NotConnected,
            Errno::EISCONN => Error::AlreadyConnected,
            Errno::ESHUTDOWN => Error::EndpointShutdown,
            Errno::ENOBUFS => Error::NoBufferSpace,
            Errno::ENOPROTOOPT => Error::OptionNotSupported(call),
            Errno::EOPNOTSUPP => Error::OperationNotSupported,
            Errno::EPIPE => Error::Hangup,
            _ => Error::Sys { call, errno },
        }
    }

    /// The errno behind this error, when it came from (or maps to) one.
    ///
    /// ```
    /// use sockets::{Errno, Error};
    ///
    /// assert_eq!(Error::Hangup.errno(), Some(Errno::EPIPE));
    /// assert_eq!(Error::EndOfFile.errno(), None);
    /// ```
    pub fn errno(&self) -> Option<Errno> {
        Some(match self {
            Error::ConnectionRefused => Errno::ECONNREFUSED,
            Error::ConnectionReset => Errno::ECONNRESET,
            Error::ConnectionAborted => Errno::ECONNABORTED,
            Error::ConnectionTimeout => Errno::ETIMEDOUT,
            Error::AddressInUse => Errno::EADDRINUSE,
            Error::AddressNotAvailable => Errno::EADDRNOTAVAIL,
            Error::AddressFamilyNotSupported => Errno::EAFNOSUPPORT,
            Error::NetworkDown => Errno::ENETDOWN,
            Error::NetworkUnreachable => Errno::ENETUNREACH,
            Error::NetworkReset => Errno::ENETRESET,
            Error::HostDown => Errno::EHOSTDOWN,
            Error::HostUnreachable => Errno::EHOSTUNREACH,
            Error::NotConnected => Errno::ENOTCONN,
            Error::AlreadyConnected => Errno::EISCONN,
            Error::EndpointShutdown => Errno::ESHUTDOWN,
            Error::NoBufferSpace => Errno::ENOBUFS,
            Error::OptionNotSupported(_) => Errno::ENOPROTOOPT,
            Error::OperationNotSupported => Errno::EOPNOTSUPP,
            Error::Hangup => Errno::EPIPE,
            Error::Timeout(_) | Error::ResolverTimeout { .. } => Errno::ETIMEDOUT,
            Error::Closed => Errno::EBADF,
            Error::Poll(e) => e.errno(),
            Error::Sys { errno, .. } => *errno,
            _ => return None,
        })
    }

    /// Whether this is `EWOULDBLOCK`/`EAGAIN` (IOLib's `isys:ewouldblock`).
    ///
    /// ```
    /// use sockets::*;
    ///
    /// let (_a, mut b) = make_socket_pair(ExternalFormat::UTF8_LF)?;
    /// let mut buf = [0; 8];
    /// assert!(b.receive_from(&mut buf, MsgFlags::empty()).unwrap_err().is_would_block());
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn is_would_block(&self) -> bool {
        self.errno() == Some(Errno::EWOULDBLOCK)
    }

    /// What this failure concerns: one peer, a passing shortage, or the process (see
    /// [`ErrorScope`] for the table). A server closes the peer's connection on
    /// [`ErrorScope::Peer`], tries again later on [`ErrorScope::Transient`], and stops (or
    /// reports loudly) only on [`ErrorScope::Process`].
    ///
    /// ```
    /// use sockets::*;
    ///
    /// assert_eq!(Error::ConnectionReset.scope(), ErrorScope::Peer);
    /// assert_eq!(Error::NoBufferSpace.scope(), ErrorScope::Transient);
    /// assert_eq!(Error::Closed.scope(), ErrorScope::Process);
    /// assert!(Error::EndOfFile.is_per_peer() && Error::NoBufferSpace.is_transient());
    /// ```
    pub fn scope(&self) -> ErrorScope {
        match self {
            Error::ConnectionRefused
            | Error::ConnectionReset
            | Error::ConnectionAborted
            | Error::ConnectionTimeout
            | Error::NetworkDown
            | Error::NetworkUnreachable
            | Error::NetworkReset
            | Error::HostDown
            | Error::HostUnreachable
            | Error::NotConnected
            | Error::EndpointShutdown
            | Error::EndOfFile
            | Error::Hangup
            | Error::Timeout(_)
            | Error::LineTooLong { .. }
            | Error::InputBudgetExceeded { .. }
            | Error::Encoding { .. } => ErrorScope::Peer,
            Error::NoBufferSpace => ErrorScope::Transient,
            Error::Poll(FdWaitError::PollErr { .. }) => ErrorScope::Peer,
            Error::Poll(FdWaitError::Sys(errno)) | Error::Sys { errno, .. } => {
                ErrorScope::of_errno(*errno)
            }
            _ => ErrorScope::Process,
        }
    }

    /// Whether this failure concerns one peer only ([`ErrorScope::Peer`]).
    ///
    /// See [`scope`](Self::scope) for an example.
    pub fn is_per_peer(&self) -> bool {
        self.scope() == ErrorScope::Peer
    }

    /// Whether this failure is a passing shortage worth retrying ([`ErrorScope::Transient`]).
    ///
    /// See [`scope`](Self::scope) for an example.
    pub fn is_transient(&self) -> bool {
        self.scope() == ErrorScope::Transient
    }
}

/// What a failure concerns, so a server knows whether to drop one connection, wait a little,
/// or give up ([`Error::scope`]).
///
/// | Scope | Conditions | What a server does |
/// |---|---|---|
/// | [`Peer`](ErrorScope::Peer) | `ConnectionReset` (`ECONNRESET`), `ConnectionAborted` (`ECONNABORTED`), `ConnectionTimeout` (`ETIMEDOUT`), `EndOfFile`, `Hangup` (`EPIPE`), `LineTooLong`, `InputBudgetExceeded`, `Encoding`, `NotConnected` (`ENOTCONN`), `EndpointShutdown` (`ESHUTDOWN`), `NetworkReset` (`ENETRESET`), `HostUnreachable`/`NetworkUnreachable`/`HostDown`/`NetworkDown` on a connected peer, `ConnectionRefused` (a datagram peer's ICMP answer), `Timeout` of a read or write, a `POLLERR` on the peer's fd | closes that connection, logs one line, goes on |
/// | [`Transient`](ErrorScope::Transient) | `EINTR`, `EAGAIN`/`EWOULDBLOCK`, `ENOBUFS` (`NoBufferSpace`), `ENOMEM` | tries again shortly (the blocking operations of this crate already do, within their deadline) |
/// | [`Process`](ErrorScope::Process) | everything else: `EBADF`, `EINVAL`, `EMFILE`/`ENFILE` (on accept: handled by [`Acceptor`](crate::Acceptor)), `EADDRINUSE`, `Closed`, `InvalidArgument`, resolver errors, ... | reports it; a bug or a setup problem, not a client's doing |
///
/// ```
/// use sockets::*;
///
/// let (mut a, mut b) = make_socket_pair(ExternalFormat::UTF8_LF)?;
/// a.close()?;
/// let e = b.read_line().unwrap_err();
/// assert_eq!(e.scope(), ErrorScope::Peer); // close this connection, keep serving others
/// # Ok::<(), sockets::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorScope {
    /// One connection failed, or one peer misbehaved: close it, keep serving the others.
    Peer,
    /// A passing shortage or an interruption: try again shortly.
    Transient,
    /// Concerns the whole process (or is a bug): no retry will help.
    Process,
}

impl ErrorScope {
    /// The scope of a bare errno, by the table on [`ErrorScope`].
    ///
    /// ```
    /// use sockets::{Errno, ErrorScope};
    ///
    /// assert_eq!(ErrorScope::of_errno(Errno::ECONNRESET), ErrorScope::Peer);
    /// assert_eq!(ErrorScope::of_errno(Errno::EAGAIN), ErrorScope::Transient);
    /// assert_eq!(ErrorScope::of_errno(Errno::EMFILE), ErrorScope::Process);
    /// ```
    pub fn of_errno(errno: Errno) -> ErrorScope {
        match errno {
            Errno::ECONNREFUSED
            | Errno::ECONNRESET
            | Errno::ECONNABORTED
            | Errno::ETIMEDOUT
            | Errno::ENETDOWN
            | Errno::ENETUNREACH
            | Errno::ENETRESET
            | Errno::EHOSTDOWN
            | Errno::EHOSTUNREACH
            | Errno::ENOTCONN
            | Errno::ESHUTDOWN
            | Errno::EPIPE => ErrorScope::Peer,
            Errno::EINTR | Errno::EAGAIN | Errno::ENOBUFS | Errno::ENOMEM => ErrorScope::Transient,
            _ => ErrorScope::Process,
        }
    }
}

impl From<Error> for std::io::Error {
    fn from(e: Error) -> Self {
        use std::io::ErrorKind;
        let kind = match &e {
            Error::EndOfFile => ErrorKind::UnexpectedEof,
            Error::Encoding { .. }
            | Error::LineTooLong { .. }
            | Error::InputBudgetExceeded { .. } => ErrorKind::InvalidData,
            Error::InvalidAddress(_) | Error::InvalidArgument(_) => ErrorKind::InvalidInput,
            Error::Timeout(_) | Error::ResolverTimeout { .. } => ErrorKind::TimedOut,
            Error::Sys { errno, .. } => return isys::errno_to_io(*errno),
            other => match other.errno() {
                Some(errno) => isys::errno_to_io(errno).kind(),
                None => ErrorKind::Other,
            },
        };
        std::io::Error::new(kind, e)
    }
}

/// Turns an isys result into a socket result, naming the syscall.
pub(crate) trait SysContext<T> {
    fn ctx(self, call: &'static str) -> Result<T>;
}

impl<T> SysContext<T> for isys::Result<T> {
    fn ctx(self, call: &'static str) -> Result<T> {
        self.map_err(|e| Error::from_errno(call, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_maps_both_ways() {
        for e in [
            Errno::ECONNREFUSED,
            Errno::ECONNRESET,
            Errno::EADDRINUSE,
            Errno::EPIPE,
            Errno::EWOULDBLOCK,
            Errno::EINVAL,
        ] {
            assert_eq!(Error::from_errno("x", e).errno(), Some(e));
        }
        assert!(Error::from_errno("recv", Errno::EAGAIN).is_would_block());
        assert!(matches!(
            Error::from_errno("send", Errno::EPIPE),
            Error::Hangup
        ));
        let io: std::io::Error = Error::ConnectionReset.into();
        assert_eq!(io.kind(), std::io::ErrorKind::ConnectionReset);
        let io: std::io::Error = Error::from_errno("recv", Errno::EAGAIN).into();
        assert_eq!(io.raw_os_error(), Some(Errno::EAGAIN as i32));
    }

    #[test]
    fn scopes_follow_the_table() {
        use ErrorScope::*;
        let peer = [
            Error::ConnectionReset,
            Error::ConnectionAborted,
            Error::ConnectionTimeout,
            Error::EndOfFile,
            Error::Hangup,
            Error::LineTooLong { limit: 1 },
            Error::InputBudgetExceeded { limit: 1 },
            Error::Encoding {
                encoding: "UTF-8",
                line: 1,
                offset: 0,
                detail: String::new(),
            },
            Error::NotConnected,
            Error::EndpointShutdown,
            Error::NetworkReset,
            Error::HostUnreachable,
            Error::NetworkUnreachable,
            Error::Timeout(std::time::Duration::from_secs(1)),
            Error::Poll(FdWaitError::PollErr { fd: 3 }),
        ];
        for e in &peer {
            assert_eq!(e.scope(), Peer, "{e:?}");
            assert!(e.is_per_peer() && !e.is_transient());
        }
        for errno in [Errno::EINTR, Errno::EAGAIN, Errno::ENOBUFS, Errno::ENOMEM] {
            let e = Error::from_errno("recv", errno);
            assert_eq!(e.scope(), Transient, "{e:?}");
            assert!(e.is_transient() && !e.is_per_peer());
        }
        for e in [
            Error::from_errno("accept4", Errno::EMFILE),
            Error::from_errno("accept4", Errno::ENFILE),
            Error::from_errno("recv", Errno::EBADF),
            Error::from_errno("setsockopt", Errno::EINVAL),
            Error::AddressInUse,
            Error::Closed,
            Error::InvalidArgument("x".into()),
            Error::Poll(FdWaitError::PollNval { fd: 3 }),
        ] {
            assert_eq!(e.scope(), Process, "{e:?}");
        }
        // Every errno that maps to a peer condition keeps its scope through from_errno.
        for errno in [
            Errno::ECONNRESET,
            Errno::EPIPE,
            Errno::ETIMEDOUT,
            Errno::ENOTCONN,
            Errno::EHOSTUNREACH,
        ] {
            assert_eq!(ErrorScope::of_errno(errno), Peer);
            assert_eq!(Error::from_errno("send", errno).scope(), Peer);
        }
        assert_eq!(
            Error::Poll(FdWaitError::Sys(Errno::EINTR)).scope(),
            Transient
        );
    }
}
