//! Accepting that survives running out of fds or memory ([`Acceptor`]): a reserve fd to shed
//! connections on `EMFILE`/`ENFILE`, an exponential back-off on `ENOBUFS`/`ENOMEM`, internal
//! retries of per-connection failures, and rate-limited logging. Blocking threaded servers use
//! [`Acceptor::accept_blocking`]; an event loop calls [`Acceptor::accept`] from its read
//! handler and turns [`AcceptOutcome::Backoff`] into a timer.

use crate::active::ActiveSocket;
use crate::base_socket::{Base, SocketKind};
use crate::error::{Error, Result};
use crate::passive::PassiveSocket;
use crate::wait::{remaining, Wait};
use isys::{Errno, FdEvent, FdWaitError};
use std::fmt;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

/// The first back-off after a shortage; each further one doubles, up to [`MAX_BACKOFF`].
///
/// ```
/// use sockets::*;
///
/// assert!(MIN_BACKOFF < MAX_BACKOFF);
/// ```
pub const MIN_BACKOFF: Duration = Duration::from_millis(10);
/// The longest back-off.
pub const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// Per-connection failures retried within one [`Acceptor::accept`] call before it reports
/// [`AcceptOutcome::WouldBlock`] (the listener stays readable if more are pending).
const MAX_RETRIES: usize = 64;
/// At most one log line per this long (see [`Acceptor::should_log`]).
const LOG_INTERVAL: Duration = Duration::from_secs(1);

/// What one [`Acceptor::accept`] did.
///
/// ```
/// use sockets::*;
///
/// let listener = make_socket().connect(Connect::Passive).local_host("127.0.0.1").local_port(0)
///     .build_passive()?;
/// let mut acceptor = Acceptor::new(listener);
/// assert!(matches!(acceptor.accept()?, AcceptOutcome::WouldBlock));
/// # Ok::<(), sockets::Error>(())
/// ```
#[derive(Debug)]
pub enum AcceptOutcome {
    /// A new connection, set up like [`PassiveSocket::accept_connection`]'s (non-blocking,
    /// the listener's external format, buffer settings and input budget).
    Client(ActiveSocket),
    /// Nothing is pending (or, from [`Acceptor::accept_blocking`], nothing came within the
    /// wait).
    WouldBlock,
    /// The process (`EMFILE`) or the system (`ENFILE`) is out of fds: the reserve fd was
    /// closed, the pending connection accepted and closed at once (its peer sees the
    /// connection closed), and the reserve reopened. Call `accept` again: each shed consumes
    /// one pending connection, so this never spins.
    Shed {
        /// `EMFILE` or `ENFILE`.
        errno: Errno,
    },
    /// A shortage no shedding fixes (`ENOBUFS`, `ENOMEM`, out of fds with no reserve to
    /// give up, or an errno accept(2) should not return): stop accepting for `retry_after` (an
    /// event loop removes the listener's read handler and sets a timer). Back-offs grow from
    /// 10 ms, doubling to 1 s, and reset after a connection is accepted. Until `retry_after` has passed, [`Acceptor::accept`] answers
    /// `Backoff` with what is left, without a syscall. [`Acceptor::accept_blocking`] has
    /// already slept it.
    Backoff {
        /// What the kernel said.
        errno: Errno,
        /// How long to pause accepting.
        retry_after: Duration,
    },
}

/// A [`PassiveSocket`] with what it needs to keep accepting under resource exhaustion: a
/// reserve fd (`/dev/null`, CLOEXEC) to give up on `EMFILE`/`ENFILE` so the pending
/// connection can be accepted and closed (the trick libuv uses), and a back-off state.
///
/// Failures that concern only the connection being accepted (`ECONNABORTED`, `EPROTO`,
/// `EPERM` from a firewall, the network errors Linux passes on from the new socket) and
/// `EINTR` are retried inside [`accept`](Self::accept); they never reach the caller.
///
/// ```
/// use sockets::*;
/// let listener = make_socket()
///     .connect(Connect::Passive)
///     .local_host("127.0.0.1")
///     .local_port(0)
///     .build_passive()?;
/// # let _client = make_socket().remote_host("127.0.0.1").remote_port(listener.local_port()?)
/// #     .build_active()?;
/// let mut acceptor = Acceptor::new(listener);
/// loop {
///     match acceptor.accept_blocking(Wait::Forever)? {
///         AcceptOutcome::Client(client) => {
///             drop(client); // a real server hands it to a thread and loops on
///             break;
///         }
///         AcceptOutcome::Shed { errno } | AcceptOutcome::Backoff { errno, .. } => {
///             if acceptor.should_log() {
///                 eprintln!("accept: {} ({} more)", errno.desc(), acceptor.suppressed());
///             }
///         }
///         AcceptOutcome::WouldBlock => {}
///     }
/// }
/// # Ok::<(), sockets::Error>(())
/// ```
pub struct Acceptor {
    listener: PassiveSocket,
    reserve: Option<OwnedFd>,
    backoff: Duration,
    /// No accept before this (the current back-off's end), and the shortage that caused it.
    resume_at: Option<(Instant, Errno)>,
    last_log: Option<Instant>,
    suppressed: u64,
}

fn open_reserve() -> Option<OwnedFd> {
    isys::open(c"/dev/null", isys::libc::O_RDONLY).ok()
}

impl Acceptor {
    /// Wraps `listener` and opens the reserve fd. When the reserve cannot be opened now (no
    /// fd left, no `/dev/null`), it is tried again on each shortage; meanwhile `EMFILE` is a
    /// [`AcceptOutcome::Backoff`].
    ///
    /// ```
    /// use sockets::*;
    /// use std::time::Duration;
    ///
    /// let listener = make_socket().connect(Connect::Passive).local_host("127.0.0.1").local_port(0)
    ///     .build_passive()?;
    /// let acceptor = Acceptor::new(listener);
    /// assert!(acceptor.has_reserve());
    /// assert_eq!(acceptor.current_backoff(), Duration::ZERO);
    /// let listener = acceptor.into_inner();
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn new(listener: PassiveSocket) -> Self {
        Acceptor {
            listener,
            reserve: open_reserve(),
            backoff: Duration::ZERO,
            resume_at: None,
            last_log: None,
            suppressed: 0,
        }
    }

    /// The listening socket.
    ///
    /// See [`listener_mut`](Self::listener_mut) for an example.
    pub fn listener(&self) -> &PassiveSocket {
        &self.listener
    }

    /// The listening socket, to change what accepted sockets inherit (say
    /// [`PassiveSocket::set_input_budget`]).
    ///
    /// ```
    /// use sockets::*;
    ///
    /// let listener = make_socket().connect(Connect::Passive).local_host("127.0.0.1")
    ///     .build_passive()?;
    /// let mut acceptor = Acceptor::new(listener);
    /// acceptor.listener_mut().set_input_budget(Some(InputBudget::new(1 << 20)));
    /// assert!(acceptor.listener().input_budget().is_some());
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn listener_mut(&mut self) -> &mut PassiveSocket {
        &mut self.listener
    }

    /// The listening socket; the reserve fd is closed.
    ///
    /// See [`new`](Self::new) for an example.
    pub fn into_inner(self) -> PassiveSocket {
        self.listener
    }

    /// Whether the reserve fd is open.
    ///
    /// See [`new`](Self::new) for an example.
    pub fn has_reserve(&self) -> bool {
        self.reserve.is_some()
    }

    /// The back-off the next shortage would start from (zero after a success).
    ///
    /// See [`new`](Self::new) for an example.
    pub fn current_backoff(&self) -> Duration {
        self.backoff
    }

    /// Accepts one connection without waiting.
    ///
    /// # Errors
    /// A failure of the listener itself (`EBADF`, `EINVAL`: not listening, `ENOTSOCK`,
    /// [`Error::Closed`]): an [`ErrorScope::Process`](crate::ErrorScope::Process) error.
    /// Shortages are outcomes, not errors, and so is any errno accept(2) is not documented
    /// to return: it is met with a back-off, never a spin.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockets::*;
    ///
    /// let listener = make_socket().connect(Connect::Passive).local_host("127.0.0.1").local_port(0)
    ///     .build_passive()?;
    /// let _client = make_socket().remote_host("127.0.0.1").remote_port(listener.local_port()?)
    ///     .build_active()?;
    /// let mut acceptor = Acceptor::new(listener);
    /// acceptor.listener().wait_readable(None)?; // the connection is pending
    /// assert!(matches!(acceptor.accept()?, AcceptOutcome::Client(_)));
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn accept(&mut self) -> Result<AcceptOutcome> {
        if let Some((at, errno)) = self.resume_at {
            let now = Instant::now();
            if now < at {
                return Ok(AcceptOutcome::Backoff {
                    errno,
                    retry_after: at - now,
                });
            }
            self.resume_at = None;
        }
        for _ in 0..MAX_RETRIES {
            let fd = self.listener.base.fd()?;
            match isys::accept4(fd, true) {
                Ok((conn, _)) => {
                    self.backoff = Duration::ZERO;
                    if self.reserve.is_none() {
                        self.reserve = open_reserve();
                    }
                    return Ok(AcceptOutcome::Client(self.adopt(conn)));
                }
                Err(Errno::EWOULDBLOCK) => return Ok(AcceptOutcome::WouldBlock),
                Err(errno @ (Errno::EMFILE | Errno::ENFILE)) => {
                    if let Some(outcome) = self.shed(errno) {
                        return Ok(outcome);
                    }
                }
                Err(errno @ (Errno::ENOBUFS | Errno::ENOMEM)) => return Ok(self.back_off(errno)),
                Err(e) if retried(e) => continue,
                // EINVAL is also what setting up a connection reset before we accepted it can
                // give (macOS's SO_NOSIGPIPE): fatal only if the listener stopped listening.
                Err(Errno::EINVAL) if still_listening(fd) => continue,
                // The listener itself is unusable: no retry helps.
                Err(e @ (Errno::EBADF | Errno::EINVAL | Errno::ENOTSOCK | Errno::EFAULT)) => {
                    return Err(Error::from_errno("accept4", e))
                }
                // Anything else the kernel says is taken as a passing failure: back off
                // rather than spin on it or give up serving.
                Err(errno) => return Ok(self.back_off(errno)),
            }
        }
        Ok(AcceptOutcome::WouldBlock)
    }

    /// Out of fds: give up the reserve to accept and close the pending connection. `None`
    /// when the reserve was missing and could be reopened: the caller tries again.
    fn shed(&mut self, errno: Errno) -> Option<AcceptOutcome> {
        let Some(reserve) = self.reserve.take() else {
            self.reserve = open_reserve();
            return match self.reserve {
                Some(_) => None,
                None => Some(self.back_off(errno)),
            };
        };
        drop(reserve);
        let outcome = match self.listener.base.fd().map(|fd| isys::accept4(fd, true)) {
            // Closing at once tells the peer (end of file) instead of leaving it waiting.
            Ok(Ok((conn, _))) => {
                drop(conn);
                AcceptOutcome::Shed { errno }
            }
            Ok(Err(Errno::EWOULDBLOCK)) => AcceptOutcome::WouldBlock,
            // Still no fd (another thread took the one we freed, or the limit is below the
            // reserve's number): nothing to shed with; back off.
            _ => self.back_off(errno),
        };
        self.reserve = open_reserve();
        Some(outcome)
    }

    fn back_off(&mut self, errno: Errno) -> AcceptOutcome {
        self.backoff = if self.backoff.is_zero() {
            MIN_BACKOFF
        } else {
            (self.backoff * 2).min(MAX_BACKOFF)
        };
        self.resume_at = Instant::now()
            .checked_add(self.backoff)
            .map(|at| (at, errno));
        AcceptOutcome::Backoff {
            errno,
            retry_after: self.backoff,
        }
    }

    fn adopt(&self, conn: OwnedFd) -> ActiveSocket {
        let base = Base::new(conn, self.listener.base.family, SocketKind::Stream);
        ActiveSocket::from_parts(base, self.listener.format, self.listener.settings.clone())
    }

    /// Accepts one connection, waiting up to `wait` for one (what a threaded server's accept
    /// loop calls). A [`AcceptOutcome::Backoff`] is returned after sleeping its
    /// `retry_after` (cut short by the wait's deadline), so the caller can log it and call
    /// again; a [`AcceptOutcome::Shed`] is returned at once. [`AcceptOutcome::WouldBlock`]
    /// means nothing came within the wait (at once with [`Wait::No`]).
    ///
    /// Blocks up to `wait`, plus a back-off's sleep (itself cut short by the wait's deadline).
    ///
    /// # Errors
    /// As [`accept`](Self::accept), and a failed wait on the listener (`POLLNVAL`).
    ///
    /// # Examples
    ///
    /// ```
    /// use sockets::*;
    /// use std::time::Duration;
    ///
    /// let listener = make_socket().connect(Connect::Passive).local_host("127.0.0.1").local_port(0)
    ///     .build_passive()?;
    /// let mut acceptor = Acceptor::new(listener);
    /// let outcome = acceptor.accept_blocking(Duration::from_millis(10))?;
    /// assert!(matches!(outcome, AcceptOutcome::WouldBlock)); // nobody came
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn accept_blocking(&mut self, wait: impl Into<Wait>) -> Result<AcceptOutcome> {
        let deadline = wait.into().deadline();
        loop {
            match self.accept()? {
                AcceptOutcome::WouldBlock => {}
                AcceptOutcome::Backoff { errno, retry_after } => {
                    let pause = match deadline.and_then(remaining) {
                        Some(left) => left.min(retry_after),
                        None if deadline.is_some() => retry_after,
                        None => Duration::ZERO,
                    };
                    std::thread::sleep(pause);
                    return Ok(AcceptOutcome::Backoff { errno, retry_after });
                }
                other => return Ok(other),
            }
            let Some(deadline) = deadline else {
                return Ok(AcceptOutcome::WouldBlock);
            };
            let fd = self.listener.base.fd()?;
            match isys::wait_until_fd_ready(fd, FdEvent::Read, remaining(deadline)) {
                Ok((false, false)) => return Ok(AcceptOutcome::WouldBlock),
                Ok(_) | Err(FdWaitError::PollErr { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Whether to log a shortage now: `true` at most once a second, so a server under
    /// pressure writes one line, not one per connection. Count the calls answered `false`
    /// with [`suppressed`](Self::suppressed).
    ///
    /// ```
    /// use sockets::*;
    ///
    /// let listener = make_socket().connect(Connect::Passive).local_host("127.0.0.1").local_port(0)
    ///     .build_passive()?;
    /// let mut acceptor = Acceptor::new(listener);
    /// assert!(acceptor.should_log());
    /// assert!(!acceptor.should_log()); // within the same second
    /// assert_eq!(acceptor.suppressed(), 1);
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn should_log(&mut self) -> bool {
        let now = Instant::now();
        match self.last_log {
            Some(t) if now.duration_since(t) < LOG_INTERVAL => {
                self.suppressed += 1;
                false
            }
            _ => {
                self.last_log = Some(now);
                true
            }
        }
    }

    /// How many [`should_log`](Self::should_log) calls answered `false` since the last
    /// `true`, reset by reading it.
    ///
    /// See [`should_log`](Self::should_log) for an example.
    pub fn suppressed(&mut self) -> u64 {
        std::mem::take(&mut self.suppressed)
    }
}

/// Whether `fd` is a listening socket (`SO_ACCEPTCONN`).
#[cold]
fn still_listening(fd: BorrowedFd<'_>) -> bool {
    isys::getsockopt::<isys::libc::c_int, _>(fd, isys::libc::SOL_SOCKET, isys::libc::SO_ACCEPTCONN)
        .is_ok_and(|on| on != 0)
}

/// Failures of one pending connection (or an interruption): accept the next one instead.
/// Linux's accept(2) passes on the new socket's pending network errors, to be treated like
/// `EAGAIN` by retrying.
fn retried(e: Errno) -> bool {
    matches!(
        e,
        Errno::EINTR
            | Errno::ECONNABORTED
            | Errno::EPROTO
            | Errno::EPERM
            | Errno::ENETDOWN
            | Errno::ENOPROTOOPT
            | Errno::EHOSTDOWN
            | Errno::EHOSTUNREACH
            | Errno::ENETUNREACH
            | Errno::EOPNOTSUPP
            | Errno::ETIMEDOUT
    )
}

impl fmt::Debug for Acceptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acceptor")
            .field("listener", &self.listener)
            .field("reserve", &self.reserve.as_ref().map(|r| r.as_raw_fd()))
            .field("backoff", &self.backoff)
            .finish()
    }
}

impl AsFd for Acceptor {
    /// The listener's fd.
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.listener.as_fd()
    }
}

impl AsRawFd for Acceptor {
    fn as_raw_fd(&self) -> RawFd {
        self.listener.as_raw_fd()
    }
}

impl From<PassiveSocket> for Acceptor {
    fn from(listener: PassiveSocket) -> Self {
        Acceptor::new(listener)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_a_second_and_resets_on_success() {
        let listener = PassiveSocket::new(crate::Family::Ipv4).unwrap();
        let mut a = Acceptor::new(listener);
        assert!(a.has_reserve());
        let mut seen = vec![];
        for _ in 0..10 {
            match a.back_off(Errno::ENOBUFS) {
                AcceptOutcome::Backoff { retry_after, .. } => seen.push(retry_after),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(seen[0], MIN_BACKOFF);
        assert_eq!(seen[1], MIN_BACKOFF * 2);
        assert_eq!(*seen.last().unwrap(), MAX_BACKOFF);
        assert!(seen.windows(2).all(|w| w[0] <= w[1]));
        // Within the back-off, accept answers without trying.
        match a.accept().unwrap() {
            AcceptOutcome::Backoff { errno, retry_after } => {
                assert_eq!(errno, Errno::ENOBUFS);
                assert!(retry_after <= MAX_BACKOFF && !retry_after.is_zero());
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(a.current_backoff(), MAX_BACKOFF);
    }

    #[test]
    fn logging_is_rate_limited() {
        let mut a = Acceptor::new(PassiveSocket::new(crate::Family::Ipv4).unwrap());
        assert!(a.should_log());
        assert!(!a.should_log());
        assert!(!a.should_log());
        assert_eq!(a.suppressed(), 2);
        assert_eq!(a.suppressed(), 0);
    }

    #[test]
    fn accept_on_a_socket_not_listening_is_an_error() {
        let mut a = Acceptor::new(PassiveSocket::new(crate::Family::Ipv4).unwrap());
        let e = a.accept().unwrap_err();
        assert_eq!(e.scope(), crate::ErrorScope::Process, "{e:?}");
    }
}
