//! Accepting on the event base ([`Listener`]): a listening socket's read handler that accepts
//! every pending connection, sheds connections when the process is out of fds, pauses on a
//! back-off timer when memory runs short, and refuses one client (not the server) when that
//! client's fd cannot be watched. Built on [`sockets::Acceptor`].

use crate::failure::scope_of;
use iomux::{Event, EventBase, Exception, HandlerResult, Handlers, IoOptions, Timer};
use sockets::{AcceptOutcome, Acceptor, ActiveSocket, ErrorScope, PassiveSocket};
use std::fmt;
use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;

type OnClient = Box<dyn FnMut(&mut EventBase, ActiveSocket) -> HandlerResult>;
type Log = Box<dyn FnMut(fmt::Arguments<'_>)>;

/// The accepts one readiness event makes at most, so one busy listener cannot starve the
/// connections already open.
pub const DEFAULT_MAX_ACCEPTS_PER_WAKEUP: usize = 64;

/// A listening socket served by an event base: what a multiplexed server registers instead
/// of a hand-written accept handler.
///
/// Once [`register`](Self::register)ed, each readiness of the listener accepts the pending
/// connections (up to [`max_accepts_per_wakeup`](Self::max_accepts_per_wakeup)) and hands
/// each to `on_client`. Under resource exhaustion it neither spins nor exits:
///
/// - out of fds (`EMFILE`, `ENFILE`): the reserve fd is given up, the pending connection
///   accepted and closed at once (its peer learns immediately), the reserve reopened;
///   serving resumes as soon as fds are free. While short of fds, the listener accepts at
///   the end of a round rather than first, so connections that closed in that round have
///   given their fds back by then;
/// - out of memory or buffers (`ENOBUFS`, `ENOMEM`): the listener's read handler is removed
///   and a one-shot timer puts it back after a back-off (10 ms doubling to 1 s);
/// - `on_client` failing with a per-peer error ([`scope_of`] says
///   [`ErrorScope::Peer`] or [`ErrorScope::Transient`], e.g. select's `FdTooLarge` for a
///   client past `FD_SETSIZE`): that client alone is refused, its socket closed.
///
/// Each of these logs at most one line a second (to stderr unless [`on_log`](Self::on_log)
/// says otherwise). Errors of the listening socket itself end `event_dispatch`.
///
/// ```
/// use iolib::prelude::*;
/// use iolib::Listener;
///
/// let mut base = EventBase::new()?;
/// let server = make_socket()
///     .connect(Connect::Passive)
///     .local_host("127.0.0.1")
///     .local_port(0)
///     .build_passive()?;
/// let port = server.local_port()?;
/// let fd = Listener::new(server).register(&mut base, |base, client| {
///     // A real server registers the client's handlers here; this one says hello and goes.
///     let mut client = client;
///     client.write_line("hello")?;
///     client.finish_output()?;
///     base.exit_event_loop(std::time::Duration::ZERO);
///     Ok(())
/// })?;
/// let peer = std::net::TcpStream::connect(("127.0.0.1", port))?;
/// base.event_dispatch(DispatchOptions::default().timeout(std::time::Duration::from_secs(5)))?;
/// let mut line = String::new();
/// std::io::BufRead::read_line(&mut std::io::BufReader::new(peer), &mut line)?;
/// assert_eq!(line, "hello\n"); // the default external format: UTF-8, LF
/// let server: PassiveSocket = Listener::unregister(&mut base, fd).unwrap();
/// # drop(server);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Listener {
    acceptor: Acceptor,
    max_per_wakeup: usize,
    log: Log,
}

impl fmt::Debug for Listener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Listener")
            .field("acceptor", &self.acceptor)
            .field("max_per_wakeup", &self.max_per_wakeup)
            .finish_non_exhaustive()
    }
}

/// The listener's fd state: the listener and what to do with each client.
struct Listening {
    listener: Listener,
    on_client: OnClient,
    /// Out of fds lately: accept only after the rest of the round has run (clients that
    /// left in it have freed their fds by then), not before.
    starved: bool,
    /// This readiness comes after such a deferral: accept now.
    deferred: bool,
}

/// An error of the listening socket itself: never one peer's, so no failure policy drops the
/// listener for it.
#[derive(Debug, thiserror::Error)]
#[error("listening socket: {0}")]
pub struct ListenerError(#[source] pub sockets::Error);

impl Listener {
    /// A listener for `socket` (bound and listening), with a reserve fd for fd exhaustion.
    pub fn new(socket: PassiveSocket) -> Listener {
        Listener {
            acceptor: Acceptor::new(socket),
            max_per_wakeup: DEFAULT_MAX_ACCEPTS_PER_WAKEUP,
            log: Box::new(|args| eprintln!("{args}")),
        }
    }

    /// Accepts at most `n` connections per readiness event (at least 1; default
    /// [`DEFAULT_MAX_ACCEPTS_PER_WAKEUP`]).
    pub fn max_accepts_per_wakeup(mut self, n: usize) -> Listener {
        self.max_per_wakeup = n.max(1);
        self
    }

    /// Where the (rate-limited) lines about shortages and refused clients go; stderr by
    /// default.
    pub fn on_log(mut self, log: impl FnMut(fmt::Arguments<'_>) + 'static) -> Listener {
        self.log = Box::new(log);
        self
    }

    /// The listening socket.
    pub fn socket(&self) -> &PassiveSocket {
        self.acceptor.listener()
    }

    /// Registers the listener on `base`: the socket becomes the fd's state (owned by the
    /// base) and a read handler accepts. `on_client` gets each new connection and registers
    /// its handlers. Returns the listener's fd, for [`unregister`](Self::unregister).
    ///
    /// # Errors
    /// The event base's registration errors (a closed socket, select's `FdTooLarge`).
    pub fn register<F>(self, base: &mut EventBase, on_client: F) -> iomux::Result<RawFd>
    where
        F: FnMut(&mut EventBase, ActiveSocket) -> HandlerResult + 'static,
    {
        let fd = self.acceptor.listener().as_raw_fd();
        base.set_fd_state(
            fd,
            Listening {
                listener: self,
                on_client: Box::new(on_client),
                starved: false,
                deferred: false,
            },
        )?;
        if let Err(e) = base.set_stateful_io_handler(fd, Event::Read, IoOptions::new(), on_ready) {
            base.remove_fd_state(fd);
            return Err(e);
        }
        Ok(fd)
    }

    /// Removes the listener registered on `fd` and gives its socket back (`None` if `fd` has
    /// no listener).
    pub fn unregister(base: &mut EventBase, fd: RawFd) -> Option<PassiveSocket> {
        let listening = base.take_fd_state::<Listening>(fd)?;
        base.remove_fd_handlers(fd, Handlers::ALL);
        Some(listening.listener.acceptor.into_inner())
    }

    fn say(&mut self, args: fmt::Arguments<'_>) {
        if self.acceptor.should_log() {
            let more = self.acceptor.suppressed();
            if more > 0 {
                (self.log)(format_args!(
                    "{args} (and {more} similar since the last report)"
                ));
            } else {
                (self.log)(args);
            }
        }
    }
}

/// The listener's read handler.
fn on_ready(
    base: &mut EventBase,
    st: &mut Listening,
    fd: RawFd,
    _event: Event,
    _exception: Option<Exception>,
) -> HandlerResult {
    if st.starved && !std::mem::take(&mut st.deferred) {
        // Out of fds lately, and the backend may report the listener before the clients
        // whose end of file frees fds this very round: let them go first, accept after.
        pause(base, fd, Duration::ZERO);
        return Ok(());
    }
    let mut short = false;
    for _ in 0..st.listener.max_per_wakeup {
        match st.listener.acceptor.accept().map_err(ListenerError)? {
            AcceptOutcome::Client(client) => {
                if let Err(e) = (st.on_client)(base, client) {
                    match scope_of(e.as_ref()) {
                        ErrorScope::Peer | ErrorScope::Transient => st
                            .listener
                            .say(format_args!("accept: refused a client: {e}")),
                        ErrorScope::Process => return Err(e),
                    }
                }
            }
            AcceptOutcome::WouldBlock => break,
            AcceptOutcome::Shed { errno } => {
                short = true;
                st.listener.say(format_args!(
                    "accept: {}: closing new connections until fds are free",
                    errno.desc()
                ));
            }
            AcceptOutcome::Backoff { errno, retry_after } => {
                st.starved = true;
                st.listener.say(format_args!(
                    "accept: {}: pausing for {retry_after:?}",
                    errno.desc()
                ));
                pause(base, fd, retry_after);
                return Ok(());
            }
        }
    }
    st.starved = short;
    Ok(())
}

/// Takes the listener's read handler away for `after`; a one-shot timer puts it back.
fn pause(base: &mut EventBase, fd: RawFd, after: Duration) {
    base.remove_fd_handlers(fd, Handlers::READ);
    base.add_timer(Timer::once(after), move |base| resume(base, fd));
}

/// The pause's timer: puts the read handler back if the listener is still there, and lets
/// the next readiness accept at once.
fn resume(base: &mut EventBase, fd: RawFd) -> HandlerResult {
    let Some(st) = base.fd_state_mut::<Listening>(fd) else {
        return Ok(());
    };
    st.deferred = true;
    if !base.fd_monitored_for(fd, Event::Read) {
        base.set_stateful_io_handler(fd, Event::Read, IoOptions::new(), on_ready)?;
    }
    Ok(())
}
