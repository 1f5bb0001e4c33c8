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
///
/// ```
/// use iolib::{Listener, DEFAULT_MAX_ACCEPTS_PER_WAKEUP};
/// # use iolib::prelude::*;
/// # let socket = make_socket().connect(Connect::Passive).local_host("127.0.0.1").local_port(0).build_passive()?;
///
/// assert_eq!(DEFAULT_MAX_ACCEPTS_PER_WAKEUP, 64);
/// // Fewer accepts per wakeup: fairer to the open connections, slower to drain a burst.
/// let listener = Listener::new(socket).max_accepts_per_wakeup(DEFAULT_MAX_ACCEPTS_PER_WAKEUP / 4);
/// # drop(listener);
/// # Ok::<(), iolib::sockets::Error>(())
/// ```
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
///
/// It ends `event_dispatch`, as the source of [`iomux::Error::Handler`]; find it there with
/// [`handler_error_as`](iomux::Error::handler_error_as).
///
/// ```
/// use iolib::{scope_of, ListenerError};
/// use iolib::sockets::{Error, ErrorScope};
///
/// // The same errno that drops a peer is the server's own failure on the listening socket.
/// assert_eq!(scope_of(&Error::ConnectionAborted), ErrorScope::Peer);
/// let e = ListenerError(Error::ConnectionAborted);
/// assert_eq!(scope_of(&e), ErrorScope::Process);
/// assert!(e.to_string().starts_with("listening socket: "));
/// ```
#[derive(Debug, thiserror::Error)]
#[error("listening socket: {0}")]
pub struct ListenerError(#[source] pub sockets::Error);

impl Listener {
    /// A listener for `socket` (bound and listening), with a reserve fd for fd exhaustion.
    ///
    /// ```
    /// use iolib::Listener;
    /// # use iolib::prelude::*;
    /// # let socket = make_socket().connect(Connect::Passive).local_host("127.0.0.1").local_port(0).build_passive()?;
    ///
    /// let port = socket.local_port()?;
    /// let listener = Listener::new(socket);
    /// assert_eq!(listener.socket().local_port()?, port);
    /// # Ok::<(), iolib::sockets::Error>(())
    /// ```
    pub fn new(socket: PassiveSocket) -> Listener {
        Listener {
            acceptor: Acceptor::new(socket),
            max_per_wakeup: DEFAULT_MAX_ACCEPTS_PER_WAKEUP,
            log: Box::new(|args| eprintln!("{args}")),
        }
    }

    /// Accepts at most `n` connections per readiness event (at least 1; default
    /// [`DEFAULT_MAX_ACCEPTS_PER_WAKEUP`]). The rest wait in the kernel's backlog for the
    /// next round, which comes at once: the listener stays readable.
    ///
    /// ```
    /// use iolib::Listener;
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    /// use std::time::Duration;
    /// # use iolib::prelude::*;
    /// # let socket = make_socket().connect(Connect::Passive).local_host("127.0.0.1").local_port(0).build_passive()?;
    ///
    /// let port = socket.local_port()?;
    /// let peers: Vec<_> = (0..3)
    ///     .map(|_| std::net::TcpStream::connect(("127.0.0.1", port)))
    ///     .collect::<Result<_, _>>()?;
    /// let mut base = EventBase::new()?;
    /// let accepted = Rc::new(Cell::new(0));
    /// let count = Rc::clone(&accepted);
    /// Listener::new(socket)
    ///     .max_accepts_per_wakeup(1)
    ///     .register(&mut base, move |_, _client| {
    ///         count.set(count.get() + 1);
    ///         Ok(())
    ///     })?;
    /// let one_round = DispatchOptions::default().one_shot(true).timeout(Duration::from_secs(5));
    /// base.event_dispatch(one_round)?;
    /// assert_eq!(accepted.get(), 1, "one accept in the first round");
    /// for _ in 1..peers.len() {
    ///     base.event_dispatch(one_round)?;
    /// }
    /// assert_eq!(accepted.get(), 3, "then one a round");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn max_accepts_per_wakeup(mut self, n: usize) -> Listener {
        self.max_per_wakeup = n.max(1);
        self
    }

    /// Where the (rate-limited) lines about shortages and refused clients go; stderr by
    /// default.
    ///
    /// ```
    /// use iolib::Listener;
    /// use std::cell::RefCell;
    /// use std::rc::Rc;
    /// use std::time::Duration;
    /// # use iolib::prelude::*;
    /// # let socket = make_socket().connect(Connect::Passive).local_host("127.0.0.1").local_port(0).build_passive()?;
    ///
    /// let port = socket.local_port()?;
    /// let lines = Rc::new(RefCell::new(Vec::new()));
    /// let log = Rc::clone(&lines);
    /// let mut base = EventBase::new()?;
    /// Listener::new(socket)
    ///     .on_log(move |line| log.borrow_mut().push(line.to_string()))
    ///     .register(&mut base, |base, _client| {
    ///         base.exit_event_loop(Duration::ZERO);
    ///         // A per-peer error: this client is refused, the listener goes on.
    ///         Err(SocketError::ConnectionReset.into())
    ///     })?;
    /// let _peer = std::net::TcpStream::connect(("127.0.0.1", port))?;
    /// base.event_dispatch(DispatchOptions::default().timeout(Duration::from_secs(5)))?;
    /// assert!(lines.borrow()[0].starts_with("accept: refused a client"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn on_log(mut self, log: impl FnMut(fmt::Arguments<'_>) + 'static) -> Listener {
        self.log = Box::new(log);
        self
    }

    /// The listening socket.
    ///
    /// ```
    /// use iolib::Listener;
    /// use iolib::sockets::BaseSocket;
    /// # use iolib::prelude::*;
    /// # let socket = make_socket().connect(Connect::Passive).local_host("127.0.0.1").local_port(0).build_passive()?;
    ///
    /// let listener = Listener::new(socket);
    /// let (host, port) = listener.socket().local_name()?;
    /// assert_eq!(host.to_string(), "127.0.0.1");
    /// assert_ne!(port, 0);
    /// # Ok::<(), iolib::sockets::Error>(())
    /// ```
    pub fn socket(&self) -> &PassiveSocket {
        self.acceptor.listener()
    }

    /// Registers the listener on `base`: the socket becomes the fd's state (owned by the
    /// base) and a read handler accepts. `on_client` gets each new connection and registers
    /// its handlers. Returns the listener's fd, for [`unregister`](Self::unregister).
    ///
    /// The example on [`Listener`] serves one client; the crate's example, an echo server.
    ///
    /// ```
    /// use iolib::Listener;
    /// use std::time::Duration;
    /// # use iolib::prelude::*;
    /// # let socket = make_socket().connect(Connect::Passive).local_host("127.0.0.1").local_port(0).build_passive()?;
    ///
    /// let port = socket.local_port()?;
    /// let mut base = EventBase::new()?;
    /// let fd = Listener::new(socket).register(&mut base, |base, client| {
    ///     assert_eq!(client.remote_name()?.0.to_string(), "127.0.0.1");
    ///     base.exit_event_loop(Duration::ZERO);
    ///     Ok(()) // dropping `client` closes the connection
    /// })?;
    /// assert!(base.fd_monitored_for(fd, Event::Read));
    /// let _peer = std::net::TcpStream::connect(("127.0.0.1", port))?;
    /// let five_seconds = DispatchOptions::default().timeout(Duration::from_secs(5));
    /// let outcome = base.event_dispatch(five_seconds)?;
    /// assert_eq!(outcome, DispatchOutcome::ExitRequested);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
    ///
    /// ```
    /// use iolib::Listener;
    /// # use iolib::prelude::*;
    /// # let socket = make_socket().connect(Connect::Passive).local_host("127.0.0.1").local_port(0).build_passive()?;
    ///
    /// let port = socket.local_port()?;
    /// let mut base = EventBase::new()?;
    /// let fd = Listener::new(socket).register(&mut base, |_, _| Ok(()))?;
    /// let socket = Listener::unregister(&mut base, fd).expect("registered");
    /// assert!(base.is_empty());
    /// assert_eq!(socket.local_port()?, port); // still open, still listening
    /// assert!(Listener::unregister(&mut base, fd).is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
