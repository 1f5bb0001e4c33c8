//! # iomux: IOLib's event base
//!
//! Handlers per fd and event, timers, signal handlers and `event_dispatch`, on the select,
//! poll, epoll and kqueue backends chosen with cargo features. Level-triggered on every
//! backend; the same test suite runs on each.
//!
//! ```
//! use iomux::{DispatchOptions, Event, EventBase};
//! use std::os::fd::AsRawFd;
//!
//! let mut base = EventBase::new()?;
//! let (r, w) = isys::pipe(true)?;
//! isys::write(&w, b"hello")?;
//! let fd = r.as_raw_fd();
//! // The handler owns the pipe's read end; removing the handler drops (closes) it.
//! base.set_io_handler(fd, Event::Read, move |base, fd, _event, _exception| {
//!     let mut buf = [0u8; 16];
//!     let n = isys::read(&r, &mut buf)?;
//!     assert_eq!(&buf[..n], b"hello");
//!     base.remove_fd_handlers(fd, false, false, false);
//!     Ok(())
//! })?;
//! base.event_dispatch(DispatchOptions::default().exit_when_empty(true))?;
//! assert!(base.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Backends per OS
//! | feature | Linux | macOS / BSD | picked by `EventBase::new()` |
//! |---|---|---|---|
//! | `native` | epoll | kqueue | first |
//! | `epoll` | yes | — | first (Linux) |
//! | `kqueue` | — | yes | first (BSD/macOS) |
//! | `poll` | yes | yes | second |
//! | `select` | yes | yes (fds < `FD_SETSIZE`) | last |
//!
//! `IOMUX_BACKEND=select|poll|epoll|kqueue` overrides the choice of [`EventBase::new`] for any
//! program; [`EventBase::with_backend`] chooses explicitly.
//!
//! ## Handlers
//! Handlers are called as IOLib calls them, `(fd, event, exception)`, plus `&mut EventBase`,
//! through which they can add and remove handlers (their own included), timers and signal
//! handlers, and stop the loop. A handler removed or replaced during a round is not called
//! again in that round. A handler returning an error ends [`EventBase::event_dispatch`] with
//! that error.
//!
//! ## The fd-closing rule
//! **Remove an fd's handlers before closing it.** The event base defends when that rule is
//! broken: a closed fd never spins the loop or crashes it (poll's `POLLNVAL`, select's
//! `EBADF`, and epoll/kqueue dropping closed fds all end in the stale handlers being removed
//! without being called), and on poll and select — which watch fd *numbers* — each ready fd's
//! identity (`st_dev`, `st_ino`) is checked so a handler never fires for a new file that
//! reused the number. Registering a handler for a number whose old file is gone drops the old
//! handlers first. (epoll's own caveat: a closed fd that was `dup`ed stays in the epoll set
//! until every duplicate is closed.)
#![deny(missing_docs, missing_debug_implementations)]
#![warn(unsafe_op_in_unsafe_fn)]
#![forbid(unsafe_code)]

mod sys;
mod timers;

use std::any::Any;
use std::fmt;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::str::FromStr;
use std::time::{Duration, Instant};

pub use isys::{fd_readable, fd_writable, wait_until_fd_ready, FdEvent, FdWaitError, Signal};

use sys::{Interest, Ready};
use timers::{TimerHeap, TimerKey};

/// A boxed error a handler can return; `?` on any `std::error::Error + Send + Sync` works.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;
/// What handlers return.
pub type HandlerResult = std::result::Result<(), BoxError>;

type IoHandler = Box<dyn FnMut(&mut EventBase, RawFd, Event, Option<Exception>) -> HandlerResult>;
type TimerFn = Box<dyn FnMut(&mut EventBase) -> HandlerResult>;
type SignalFn = Box<dyn FnMut(&mut EventBase, Signal) -> HandlerResult>;

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
    fn sys(call: &'static str, errno: isys::Errno) -> Error {
        Error::Sys { call, errno }
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

/// An I/O event kind (IOLib's `:read`, `:write`, `:error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Event {
    /// Readable (data, end of file, or hang-up).
    Read,
    /// Writable.
    Write,
    /// An error condition (only for [`EventBase::set_error_handler`]).
    Error,
}

/// Why a handler is called other than plain readiness (IOLib's exception argument).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Exception {
    /// POLLERR/EPOLLERR/EV_ERROR: after this call, the fd's handlers are removed.
    Error,
    /// The handler's inactivity timeout passed; it stays registered.
    Timeout,
}

/// A multiplexer backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// epoll(7), Linux.
    Epoll,
    /// kqueue(2), BSD and macOS.
    Kqueue,
    /// poll(2).
    Poll,
    /// select(2), fds below `FD_SETSIZE` only.
    Select,
}

impl Backend {
    /// The compiled backends, best first.
    pub fn available() -> &'static [Backend] {
        &[
            #[cfg(iomux_epoll)]
            Backend::Epoll,
            #[cfg(iomux_kqueue)]
            Backend::Kqueue,
            #[cfg(iomux_poll)]
            Backend::Poll,
            #[cfg(iomux_select)]
            Backend::Select,
        ]
    }

    /// Whether this backend is compiled in.
    pub fn is_available(self) -> bool {
        Backend::available().contains(&self)
    }

    /// The backend's name as `IOMUX_BACKEND` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Epoll => "epoll",
            Backend::Kqueue => "kqueue",
            Backend::Poll => "poll",
            Backend::Select => "select",
        }
    }

    /// The best compiled backend.
    pub fn best() -> Backend {
        Backend::available()[0]
    }

    /// The backend `IOMUX_BACKEND` names, if set.
    ///
    /// # Errors
    /// An unknown or uncompiled name.
    pub fn from_env() -> Result<Option<Backend>> {
        match std::env::var("IOMUX_BACKEND") {
            Ok(v) if !v.trim().is_empty() => {
                let b: Backend = v.trim().parse()?;
                b.check_available()?;
                Ok(Some(b))
            }
            _ => Ok(None),
        }
    }

    fn check_available(self) -> Result<()> {
        if self.is_available() {
            Ok(())
        } else {
            Err(Error::BackendUnavailable {
                backend: self,
                available: Backend::available()
                    .iter()
                    .map(|b| b.name())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Backend {
    type Err = Error;
    fn from_str(s: &str) -> Result<Backend> {
        match s.to_ascii_lowercase().as_str() {
            "epoll" => Ok(Backend::Epoll),
            "kqueue" => Ok(Backend::Kqueue),
            "poll" => Ok(Backend::Poll),
            "select" => Ok(Backend::Select),
            _ => Err(Error::UnknownBackend(s.to_string())),
        }
    }
}

/// Static dispatch over the compiled backends. One per event base, so the select variant's
/// inline fd sets cost nothing worth a box (and an indirection on every wait).
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
enum Selector {
    #[cfg(iomux_epoll)]
    Epoll(sys::epoll::Selector),
    #[cfg(iomux_kqueue)]
    Kqueue(sys::kqueue::Selector),
    #[cfg(iomux_poll)]
    Poll(sys::poll::Selector),
    #[cfg(iomux_select)]
    Select(sys::select::Selector),
}

macro_rules! with_selector {
    ($sel:expr, $s:ident, $ty:ident => $body:expr) => {
        match $sel {
            #[cfg(iomux_epoll)]
            Selector::Epoll($s) => {
                #[allow(unused)]
                type $ty = sys::epoll::Selector;
                $body
            }
            #[cfg(iomux_kqueue)]
            Selector::Kqueue($s) => {
                #[allow(unused)]
                type $ty = sys::kqueue::Selector;
                $body
            }
            #[cfg(iomux_poll)]
            Selector::Poll($s) => {
                #[allow(unused)]
                type $ty = sys::poll::Selector;
                $body
            }
            #[cfg(iomux_select)]
            Selector::Select($s) => {
                #[allow(unused)]
                type $ty = sys::select::Selector;
                $body
            }
        }
    };
}

impl Selector {
    fn new(backend: Backend) -> Result<Selector> {
        backend.check_available()?;
        let r = match backend {
            #[cfg(iomux_epoll)]
            Backend::Epoll => sys::epoll::Selector::new().map(Selector::Epoll),
            #[cfg(iomux_kqueue)]
            Backend::Kqueue => sys::kqueue::Selector::new().map(Selector::Kqueue),
            #[cfg(iomux_poll)]
            Backend::Poll => sys::poll::Selector::new().map(Selector::Poll),
            #[cfg(iomux_select)]
            Backend::Select => sys::select::Selector::new().map(Selector::Select),
            #[allow(unreachable_patterns)]
            _ => unreachable!("checked by check_available"),
        };
        r.map_err(|e| Error::sys("multiplexer setup", e))
    }
    fn backend(&self) -> Backend {
        match self {
            #[cfg(iomux_epoll)]
            Selector::Epoll(_) => Backend::Epoll,
            #[cfg(iomux_kqueue)]
            Selector::Kqueue(_) => Backend::Kqueue,
            #[cfg(iomux_poll)]
            Selector::Poll(_) => Backend::Poll,
            #[cfg(iomux_select)]
            Selector::Select(_) => Backend::Select,
        }
    }
    fn max_fd(&self) -> Option<usize> {
        with_selector!(self, _s, S => S::MAX_FD)
    }
    fn verify_identity(&self) -> bool {
        with_selector!(self, _s, S => S::VERIFY_IDENTITY)
    }
    fn register(&mut self, fd: RawFd, i: Interest) -> isys::Result<()> {
        with_selector!(self, s, _S => s.register(fd, i))
    }
    fn reregister(&mut self, fd: RawFd, i: Interest) -> isys::Result<()> {
        with_selector!(self, s, _S => s.reregister(fd, i))
    }
    fn deregister(&mut self, fd: RawFd) -> isys::Result<()> {
        with_selector!(self, s, _S => s.deregister(fd))
    }
    fn select(&mut self, out: &mut Vec<Ready>, timeout: Option<Duration>) -> isys::Result<()> {
        with_selector!(self, s, _S => s.select(out, timeout))
    }
}

/// Options of [`EventBase::set_io_handler_with`] (IOLib's `:timeout` and `:one-shot`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IoOptions {
    /// Call the handler with [`Exception::Timeout`] after this much inactivity; the timer
    /// restarts on each event and the handler stays registered.
    pub timeout: Option<Duration>,
    /// Remove the handler after its first call.
    pub one_shot: bool,
}

impl IoOptions {
    /// Default options: no timeout, not one-shot.
    pub fn new() -> Self {
        IoOptions::default()
    }
    /// Sets the inactivity timeout.
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = Some(t);
        self
    }
    /// Makes the handler one-shot.
    pub fn one_shot(mut self, on: bool) -> Self {
        self.one_shot = on;
        self
    }
}

/// Options of [`EventBase::event_dispatch`] (IOLib's keywords).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DispatchOptions {
    /// Run one round (one wait plus its handlers and timers), then return.
    pub one_shot: bool,
    /// Return after this long in total.
    pub timeout: Option<Duration>,
    /// Each wait lasts at least this long (unless an event comes first).
    pub min_step: Option<Duration>,
    /// Each wait lasts at most this long.
    pub max_step: Option<Duration>,
    /// Return when no handlers and no timers remain (overrides the base's setting when set).
    pub exit_when_empty: Option<bool>,
}

impl DispatchOptions {
    /// Sets `one_shot`.
    pub fn one_shot(mut self, on: bool) -> Self {
        self.one_shot = on;
        self
    }
    /// Sets `timeout`.
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = Some(t);
        self
    }
    /// Sets `min_step`.
    pub fn min_step(mut self, t: Duration) -> Self {
        self.min_step = Some(t);
        self
    }
    /// Sets `max_step`.
    pub fn max_step(mut self, t: Duration) -> Self {
        self.max_step = Some(t);
        self
    }
    /// Sets `exit_when_empty` for this dispatch.
    pub fn exit_when_empty(mut self, on: bool) -> Self {
        self.exit_when_empty = Some(on);
        self
    }
}

/// A timer's handle, for [`EventBase::remove_timer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimerId {
    index: u32,
    gen: u32,
}

/// A signal handler's handle, for [`EventBase::remove_signal_handler`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SignalHandlerId(u64);

struct Slot {
    id: u64,
    /// `None` while the handler is running.
    handler: Option<IoHandler>,
    added_round: u64,
    timeout: Option<Duration>,
    deadline: Option<Instant>,
    one_shot: bool,
}

#[derive(Default)]
struct FdEntry {
    read: Option<Slot>,
    write: Option<Slot>,
    error: Option<Slot>,
    /// What the kernel has; `None` = not registered.
    registered: Option<Interest>,
    /// In the changelist.
    dirty: bool,
    /// `(st_dev, st_ino)` at registration.
    identity: (u64, u64),
    /// The event base's own signal pipe.
    internal: bool,
    /// User state attached with `set_fd_state`.
    state: StateSlot,
}

/// Per-fd user state: owned by the event base, lent to stateful handlers during a call.
#[derive(Default)]
enum StateSlot {
    #[default]
    Empty,
    Present(Box<dyn Any>),
    /// Lent to a running handler.
    InUse,
    /// Lent, and removed meanwhile: dropped when the handler returns.
    InUseRemoved,
}

impl FdEntry {
    fn slot_mut(&mut self, event: Event) -> &mut Option<Slot> {
        match event {
            Event::Read => &mut self.read,
            Event::Write => &mut self.write,
            Event::Error => &mut self.error,
        }
    }
    fn wanted(&self) -> Option<Interest> {
        if self.read.is_none() && self.write.is_none() && self.error.is_none() {
            return None;
        }
        Some(Interest {
            read: self.read.is_some(),
            write: self.write.is_some(),
        })
    }
    /// Nothing left to keep: no handlers, nothing in the kernel, no state.
    fn removable(&self) -> bool {
        self.registered.is_none()
            && self.wanted().is_none()
            && matches!(self.state, StateSlot::Empty)
    }
    fn slot_count(&self) -> usize {
        usize::from(self.read.is_some())
            + usize::from(self.write.is_some())
            + usize::from(self.error.is_some())
    }
}

struct UserTimer {
    callback: Option<TimerFn>,
    interval: Option<Duration>,
    deadline: Instant,
}

#[derive(Default)]
struct TimerSlot {
    gen: u32,
    timer: Option<UserTimer>,
}

struct SignalEntry {
    id: u64,
    signal: Signal,
    handler: Option<SignalFn>,
}

struct SignalPipe {
    read: OwnedFd,
    write: OwnedFd,
    handlers: Vec<SignalEntry>,
}

/// IOLib's `event-base`: fd handlers, timers and signal handlers on one backend.
pub struct EventBase {
    selector: Selector,
    fds: Vec<Option<FdEntry>>,
    changes: Vec<RawFd>,
    events: Vec<Ready>,
    heap: TimerHeap,
    timers: Vec<TimerSlot>,
    free_timers: Vec<u32>,
    live_timers: usize,
    timeout_handlers: usize,
    user_slots: usize,
    signals: Option<SignalPipe>,
    next_id: u64,
    round: u64,
    dispatch_gen: u64,
    exit_requested: bool,
    exit_when_empty: bool,
    dispatching: bool,
}

impl fmt::Debug for EventBase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventBase")
            .field("backend", &self.selector.backend())
            .field("handlers", &self.user_slots)
            .field("timers", &self.live_timers)
            .field("exit_when_empty", &self.exit_when_empty)
            .finish()
    }
}

/// Builder for [`EventBase`] (IOLib's `make-instance 'event-base` initargs).
#[derive(Debug, Clone, Copy, Default)]
pub struct EventBaseBuilder {
    exit_when_empty: bool,
    backend: Option<Backend>,
}

impl EventBaseBuilder {
    /// Return from `event_dispatch` when no handlers and no timers remain.
    pub fn exit_when_empty(mut self, on: bool) -> Self {
        self.exit_when_empty = on;
        self
    }
    /// Use this backend (otherwise `IOMUX_BACKEND`, then the best compiled one).
    pub fn backend(mut self, b: Backend) -> Self {
        self.backend = Some(b);
        self
    }
    /// Creates the event base.
    pub fn build(self) -> Result<EventBase> {
        let backend = match self.backend {
            Some(b) => b,
            None => Backend::from_env()?.unwrap_or_else(Backend::best),
        };
        let mut base = EventBase::create(backend)?;
        base.exit_when_empty = self.exit_when_empty;
        Ok(base)
    }
}

const MAX_FD_INDEX: usize = 1 << 24;

impl EventBase {
    /// An event base on the best compiled backend, or the one `IOMUX_BACKEND` names.
    pub fn new() -> Result<EventBase> {
        EventBase::builder().build()
    }

    /// An event base on `backend`.
    ///
    /// # Errors
    /// [`Error::BackendUnavailable`] if it was not compiled in.
    pub fn with_backend(backend: Backend) -> Result<EventBase> {
        EventBase::builder().backend(backend).build()
    }

    /// A builder.
    pub fn builder() -> EventBaseBuilder {
        EventBaseBuilder::default()
    }

    fn create(backend: Backend) -> Result<EventBase> {
        Ok(EventBase {
            selector: Selector::new(backend)?,
            fds: Vec::new(),
            changes: Vec::with_capacity(64),
            events: Vec::with_capacity(1024),
            heap: TimerHeap::default(),
            timers: Vec::new(),
            free_timers: Vec::new(),
            live_timers: 0,
            timeout_handlers: 0,
            user_slots: 0,
            signals: None,
            next_id: 1,
            round: 0,
            dispatch_gen: 0,
            exit_requested: false,
            exit_when_empty: false,
            dispatching: false,
        })
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.selector.backend()
    }

    /// How many waits (rounds) the loop has made so far: a diagnostic for tests and
    /// benchmarks (a loop that spins shows up here).
    pub fn rounds(&self) -> u64 {
        self.round
    }

    /// Drops the handlers of every fd that was closed (or whose number now names another
    /// file) while registered, without calling them; returns how many fds were pruned. One
    /// `fstat` per registered fd. `event_dispatch` does this itself before blocking forever
    /// with `exit_when_empty`.
    pub fn prune_closed_fds(&mut self) -> usize {
        let mut pruned = 0;
        for fd in 0..self.fds.len() {
            let Some(identity) = self.fds[fd].as_ref().map(|e| e.identity) else {
                continue;
            };
            if isys::fstat_identity(fd as RawFd).ok() != Some(identity) {
                self.purge(fd as RawFd);
                pruned += 1;
            }
        }
        pruned
    }

    /// Whether `event_dispatch` returns when the base is empty.
    pub fn set_exit_when_empty(&mut self, on: bool) {
        self.exit_when_empty = on;
    }

    fn entry(&mut self, fd: RawFd) -> Option<&mut FdEntry> {
        self.fds.get_mut(usize::try_from(fd).ok()?)?.as_mut()
    }

    fn check_fd(&self, fd: RawFd) -> Result<(u64, u64)> {
        if fd < 0 || fd as usize >= MAX_FD_INDEX {
            return Err(Error::BadFd(fd));
        }
        if let Some(limit) = self.selector.max_fd() {
            if fd as usize >= limit {
                return Err(Error::FdTooLarge { fd, limit });
            }
        }
        isys::fstat_identity(fd).map_err(|_| Error::BadFd(fd))
    }

    /// Makes sure `fd` has an entry for the file it names now, dropping stale handlers of a
    /// closed file whose number was reused.
    fn prepare_entry(&mut self, fd: RawFd, internal: bool) -> Result<()> {
        let identity = self.check_fd(fd)?;
        let stale = matches!(self.entry(fd), Some(e) if e.identity != identity);
        if stale {
            self.purge(fd);
        }
        let u = fd as usize;
        if u >= self.fds.len() {
            self.fds.resize_with(u + 1, || None);
        }
        if self.fds[u].is_none() {
            self.fds[u] = Some(FdEntry {
                identity,
                internal,
                ..FdEntry::default()
            });
        }
        Ok(())
    }

    fn install(
        &mut self,
        fd: RawFd,
        event: Event,
        opts: IoOptions,
        handler: IoHandler,
    ) -> Result<()> {
        self.prepare_entry(fd, false)?;
        let now = Instant::now();
        let id = self.next_id;
        self.next_id += 1;
        let round = self.round;
        let entry = self.entry(fd).expect("prepared above");
        if entry.slot_mut(event).is_some() {
            return Err(Error::HandlerExists { fd, event });
        }
        let deadline = opts.timeout.map(|t| now + t);
        *entry.slot_mut(event) = Some(Slot {
            id,
            handler: Some(handler),
            added_round: round,
            timeout: opts.timeout,
            deadline,
            one_shot: opts.one_shot,
        });
        let internal = entry.internal;
        if !internal {
            self.user_slots += 1;
        }
        if let Some(d) = deadline {
            self.timeout_handlers += 1;
            self.heap
                .push(d, TimerKey::HandlerTimeout { fd, event, id });
        }
        self.sync_interest(fd, true).inspect_err(|_| {
            // Undo: the kernel refused the fd (e.g. a regular file on epoll).
            self.remove_slot(fd, event);
        })
    }

    /// Records an interest change; the first registration goes to the kernel at once so its
    /// errors surface here, later changes wait in the changelist for the next wait.
    fn sync_interest(&mut self, fd: RawFd, eager: bool) -> Result<()> {
        let entry = self.entry(fd).expect("entry exists");
        let wanted = entry.wanted();
        if entry.registered.is_none() && eager {
            if let Some(i) = wanted {
                self.selector.register(fd, i).map_err(|e| match e {
                    isys::Errno::EINVAL if self.selector.max_fd().is_some() => Error::FdTooLarge {
                        fd,
                        limit: self.selector.max_fd().unwrap_or(0),
                    },
                    e => Error::sys("register fd", e),
                })?;
                self.entry(fd).expect("entry exists").registered = Some(i);
            }
            return Ok(());
        }
        let entry = self.entry(fd).expect("entry exists");
        if entry.registered != wanted && !entry.dirty {
            entry.dirty = true;
            self.changes.push(fd);
        }
        Ok(())
    }

    fn apply_changes(&mut self) -> Result<()> {
        for i in 0..self.changes.len() {
            let fd = self.changes[i];
            let Some(entry) = self.entry(fd) else {
                continue;
            };
            entry.dirty = false;
            let (registered, wanted) = (entry.registered, entry.wanted());
            if registered == wanted {
                continue;
            }
            let r = match (registered, wanted) {
                (_, None) => self.selector.deregister(fd),
                (None, Some(i)) => self.selector.register(fd, i),
                (Some(_), Some(i)) => self.selector.reregister(fd, i),
            };
            match r {
                Ok(()) => {
                    let entry = self.entry(fd).expect("entry exists");
                    entry.registered = wanted;
                    if entry.removable() {
                        self.fds[fd as usize] = None;
                    }
                }
                // The fd was closed behind our back: drop its handlers.
                Err(isys::Errno::EBADF) | Err(isys::Errno::ENOENT) => self.purge(fd),
                Err(e) => {
                    self.changes.clear();
                    return Err(Error::sys("update interest", e));
                }
            }
        }
        self.changes.clear();
        Ok(())
    }

    fn remove_slot(&mut self, fd: RawFd, event: Event) -> bool {
        let Some(entry) = self.entry(fd) else {
            return false;
        };
        let Some(slot) = entry.slot_mut(event).take() else {
            return false;
        };
        let internal = entry.internal;
        if !internal {
            self.user_slots -= 1;
        }
        if slot.timeout.is_some() {
            self.timeout_handlers -= 1;
        }
        let entry = self.entry(fd).expect("checked above");
        if entry.wanted().is_none() && entry.registered.is_some() {
            // The last handler went: leave the kernel set now, while the fd is surely still
            // open (callers close right after), rather than at the next wait.
            entry.registered = None;
            let _ = self.selector.deregister(fd);
        }
        let entry = self.entry(fd).expect("checked above");
        if entry.removable() {
            self.fds[fd as usize] = None;
        } else {
            let _ = self.sync_interest(fd, false);
        }
        true
    }

    /// Drops every handler of `fd` without calling them and forgets it in the kernel.
    fn purge(&mut self, fd: RawFd) {
        let Some(entry) = self.fds.get_mut(fd as usize).and_then(Option::take) else {
            return;
        };
        if !entry.internal {
            self.user_slots -= entry.slot_count();
        }
        for s in [&entry.read, &entry.write, &entry.error]
            .into_iter()
            .flatten()
        {
            if s.timeout.is_some() {
                self.timeout_handlers -= 1;
            }
        }
        if entry.registered.is_some() {
            let _ = self.selector.deregister(fd);
        }
    }

    /// Sets the handler for `fd` and `event` (IOLib's `set-io-handler`). `fd` is anything
    /// with a raw fd, or the number itself.
    ///
    /// # Errors
    /// [`Error::HandlerExists`] if one is set already; [`Error::BadFd`] for a closed fd;
    /// [`Error::FdTooLarge`] on select for fds at or above `FD_SETSIZE`.
    pub fn set_io_handler<F>(&mut self, fd: impl AsRawFd, event: Event, handler: F) -> Result<()>
    where
        F: FnMut(&mut EventBase, RawFd, Event, Option<Exception>) -> HandlerResult + 'static,
    {
        self.set_io_handler_with(fd, event, IoOptions::default(), handler)
    }

    /// [`set_io_handler`](Self::set_io_handler) with IOLib's `:timeout` and `:one-shot`.
    pub fn set_io_handler_with<F>(
        &mut self,
        fd: impl AsRawFd,
        event: Event,
        options: IoOptions,
        handler: F,
    ) -> Result<()>
    where
        F: FnMut(&mut EventBase, RawFd, Event, Option<Exception>) -> HandlerResult + 'static,
    {
        if event == Event::Error {
            return Err(Error::InvalidArgument(
                "use set_error_handler for Event::Error".into(),
            ));
        }
        self.install(fd.as_raw_fd(), event, options, Box::new(handler))
    }

    /// Attaches `state` to `fd`, owned by the event base (replacing and dropping any earlier
    /// state). Handlers registered with
    /// [`set_stateful_io_handler`](Self::set_stateful_io_handler) get `&mut` access to it,
    /// which is how one socket and its buffers are shared by an fd's read and write handlers
    /// (the tutorial's io-buffer) without `Rc<RefCell<_>>`. The state lives until
    /// [`remove_fd_state`](Self::remove_fd_state) or [`take_fd_state`](Self::take_fd_state),
    /// or until the base is dropped, independently of the handlers coming and going; owning the
    /// socket in the state means removing the state closes it.
    ///
    /// # Errors
    /// [`Error::BadFd`] for a closed fd (and select's [`Error::FdTooLarge`]).
    pub fn set_fd_state<T: 'static>(&mut self, fd: impl AsRawFd, state: T) -> Result<()> {
        let fd = fd.as_raw_fd();
        self.prepare_entry(fd, false)?;
        let entry = self.entry(fd).expect("prepared above");
        if matches!(entry.state, StateSlot::InUse | StateSlot::InUseRemoved) {
            return Err(Error::InvalidArgument(format!(
                "fd {fd}'s state is lent to a running handler; change it through the handler's &mut"
            )));
        }
        entry.state = StateSlot::Present(Box::new(state));
        Ok(())
    }

    /// The state attached to `fd`, if it is a `T` and not lent to a running handler.
    pub fn fd_state<T: 'static>(&self, fd: impl AsRawFd) -> Option<&T> {
        let e = self
            .fds
            .get(usize::try_from(fd.as_raw_fd()).ok()?)?
            .as_ref()?;
        match &e.state {
            StateSlot::Present(b) => b.downcast_ref(),
            _ => None,
        }
    }

    /// Mutable access to the state attached to `fd`.
    pub fn fd_state_mut<T: 'static>(&mut self, fd: impl AsRawFd) -> Option<&mut T> {
        match &mut self.entry(fd.as_raw_fd())?.state {
            StateSlot::Present(b) => b.downcast_mut(),
            _ => None,
        }
    }

    /// Detaches and returns the state of `fd` if it is a `T` (not while a handler holds it).
    pub fn take_fd_state<T: 'static>(&mut self, fd: impl AsRawFd) -> Option<T> {
        let fd = fd.as_raw_fd();
        let entry = self.entry(fd)?;
        let StateSlot::Present(b) = std::mem::take(&mut entry.state) else {
            return None;
        };
        match b.downcast::<T>() {
            Ok(t) => {
                if entry.removable() {
                    self.fds[fd as usize] = None;
                }
                Some(*t)
            }
            Err(b) => {
                entry.state = StateSlot::Present(b);
                None
            }
        }
    }

    /// Drops the state of `fd` (closing a socket it owns). Called from the handler that holds
    /// it, the state is dropped when that handler returns. Returns whether there was one.
    pub fn remove_fd_state(&mut self, fd: impl AsRawFd) -> bool {
        let fd = fd.as_raw_fd();
        let Some(entry) = self.entry(fd) else {
            return false;
        };
        let had = match std::mem::take(&mut entry.state) {
            StateSlot::Empty => false,
            StateSlot::Present(b) => {
                drop(b);
                true
            }
            StateSlot::InUse => {
                entry.state = StateSlot::InUseRemoved;
                true
            }
            StateSlot::InUseRemoved => {
                entry.state = StateSlot::InUseRemoved;
                false
            }
        };
        if matches!(self.entry(fd), Some(e) if e.removable()) {
            self.fds[fd as usize] = None;
        }
        had
    }

    /// Removes and returns every state of type `T`, with its fd (for shutting a server down:
    /// closing each client connection the base holds).
    pub fn drain_fd_states<T: 'static>(&mut self) -> Vec<(RawFd, T)> {
        let fds: Vec<RawFd> = (0..self.fds.len() as RawFd)
            .filter(|&fd| self.fd_state::<T>(fd).is_some())
            .collect();
        fds.into_iter()
            .filter_map(|fd| self.take_fd_state::<T>(fd).map(|t| (fd, t)))
            .collect()
    }

    /// Sets a handler that gets `&mut T`, the state attached to `fd` with
    /// [`set_fd_state`](Self::set_fd_state), as its second argument.
    ///
    /// The handler ends `event_dispatch` with an error if the fd has no `T` when it is called.
    pub fn set_stateful_io_handler<T, F>(
        &mut self,
        fd: impl AsRawFd,
        event: Event,
        options: IoOptions,
        mut handler: F,
    ) -> Result<()>
    where
        T: 'static,
        F: FnMut(&mut EventBase, &mut T, RawFd, Event, Option<Exception>) -> HandlerResult
            + 'static,
    {
        self.set_io_handler_with(fd, event, options, move |base, fd, ev, exc| {
            base.with_state::<T>(fd, |base, state| handler(base, state, fd, ev, exc))
        })
    }

    /// Lends `fd`'s state to `f`, then puts it back unless it was removed meanwhile.
    fn with_state<T: 'static>(
        &mut self,
        fd: RawFd,
        f: impl FnOnce(&mut EventBase, &mut T) -> HandlerResult,
    ) -> HandlerResult {
        let missing = || -> BoxError {
            format!(
                "fd {fd} has no state of type {}",
                std::any::type_name::<T>()
            )
            .into()
        };
        let entry = self.entry(fd).ok_or_else(missing)?;
        let mut boxed = match std::mem::replace(&mut entry.state, StateSlot::InUse) {
            StateSlot::Present(b) => b,
            other => {
                entry.state = other;
                return Err(missing());
            }
        };
        let r = match boxed.downcast_mut::<T>() {
            Some(state) => f(self, state),
            None => Err(missing()),
        };
        if let Some(entry) = self.entry(fd) {
            if matches!(entry.state, StateSlot::InUse) {
                entry.state = StateSlot::Present(boxed);
                return r;
            }
            if matches!(entry.state, StateSlot::InUseRemoved) {
                entry.state = StateSlot::Empty;
            }
            if entry.removable() {
                self.fds[fd as usize] = None;
            }
        }
        drop(boxed);
        r
    }

    /// Sets the error handler of `fd` (IOLib's `set-error-handler`), called with
    /// `(fd, Event::Error, Some(Exception::Error))` on an error condition, before the fd's
    /// handlers are removed. (The select backend cannot watch for errors alone.)
    pub fn set_error_handler<F>(&mut self, fd: impl AsRawFd, handler: F) -> Result<()>
    where
        F: FnMut(&mut EventBase, RawFd, Event, Option<Exception>) -> HandlerResult + 'static,
    {
        self.install(
            fd.as_raw_fd(),
            Event::Error,
            IoOptions::default(),
            Box::new(handler),
        )
    }

    /// Removes handlers of `fd` (IOLib's `remove-fd-handlers`): those flagged, or all of them
    /// when no flag is set. Returns whether anything was removed.
    pub fn remove_fd_handlers(
        &mut self,
        fd: impl AsRawFd,
        read: bool,
        write: bool,
        error: bool,
    ) -> bool {
        let fd = fd.as_raw_fd();
        if matches!(self.entry(fd), Some(e) if e.internal) {
            return false;
        }
        let all = !read && !write && !error;
        let mut removed = false;
        for (want, ev) in [
            (read, Event::Read),
            (write, Event::Write),
            (error, Event::Error),
        ] {
            if all || want {
                removed |= self.remove_slot(fd, ev);
            }
        }
        removed
    }

    /// Whether `fd` has any handler (IOLib's `fd-monitored-p`).
    pub fn fd_monitored(&self, fd: impl AsRawFd) -> bool {
        let fd = fd.as_raw_fd();
        usize::try_from(fd)
            .ok()
            .and_then(|u| self.fds.get(u))
            .and_then(Option::as_ref)
            .is_some_and(|e| !e.internal && e.slot_count() > 0)
    }

    /// Whether `fd` has a handler for `event`.
    pub fn fd_monitored_for(&self, fd: impl AsRawFd, event: Event) -> bool {
        let fd = fd.as_raw_fd();
        let Some(e) = usize::try_from(fd)
            .ok()
            .and_then(|u| self.fds.get(u))
            .and_then(Option::as_ref)
        else {
            return false;
        };
        !e.internal
            && match event {
                Event::Read => e.read.is_some(),
                Event::Write => e.write.is_some(),
                Event::Error => e.error.is_some(),
            }
    }

    /// Adds a timer (IOLib's `add-timer`): `f` runs after `after`, then every `after` again
    /// unless `one_shot`.
    pub fn add_timer<F>(&mut self, f: F, after: Duration, one_shot: bool) -> TimerId
    where
        F: FnMut(&mut EventBase) -> HandlerResult + 'static,
    {
        let deadline = Instant::now() + after;
        let index = match self.free_timers.pop() {
            Some(i) => i,
            None => {
                self.timers.push(TimerSlot::default());
                (self.timers.len() - 1) as u32
            }
        };
        let slot = &mut self.timers[index as usize];
        slot.timer = Some(UserTimer {
            callback: Some(Box::new(f)),
            interval: (!one_shot).then_some(after),
            deadline,
        });
        let id = TimerId {
            index,
            gen: slot.gen,
        };
        self.live_timers += 1;
        self.heap
            .push(deadline, TimerKey::User { index, gen: id.gen });
        id
    }

    /// Removes a timer (IOLib's `remove-timer`); `false` if it already fired (one-shot) or was
    /// removed. A timer may remove itself.
    pub fn remove_timer(&mut self, id: TimerId) -> bool {
        match self.timers.get_mut(id.index as usize) {
            Some(slot) if slot.gen == id.gen && slot.timer.is_some() => {
                self.free_timer(id.index);
                self.maybe_compact_heap();
                true
            }
            _ => false,
        }
    }

    fn free_timer(&mut self, index: u32) {
        let slot = &mut self.timers[index as usize];
        slot.timer = None;
        slot.gen = slot.gen.wrapping_add(1);
        self.free_timers.push(index);
        self.live_timers -= 1;
    }

    /// Drops dead heap entries when they far outnumber live ones (many removed timers).
    fn maybe_compact_heap(&mut self) {
        let live = self.live_timers + self.timeout_handlers + 1;
        if self.heap.len() < 1024 || self.heap.len() < live * 4 {
            return;
        }
        let timers = &self.timers;
        let dispatch_gen = self.dispatch_gen;
        self.heap.retain(|e| match e.key {
            TimerKey::User { index, gen } => timers.get(index as usize).is_some_and(|s| {
                s.gen == gen && s.timer.as_ref().is_some_and(|t| t.deadline == e.deadline)
            }),
            TimerKey::Exit { gen } => gen == dispatch_gen,
            TimerKey::HandlerTimeout { .. } => true,
        });
    }

    /// Calls `f` when `signal` arrives (beyond IOLib; for clean exits on SIGINT/SIGTERM).
    /// Delivery goes through a self-pipe watched by this event base, so `f` runs in the loop,
    /// not in signal context. A signal has one notifier per process: a second event base
    /// taking the same signal takes it over.
    pub fn add_signal_handler<F>(&mut self, signal: Signal, f: F) -> Result<SignalHandlerId>
    where
        F: FnMut(&mut EventBase, Signal) -> HandlerResult + 'static,
    {
        if self.signals.is_none() {
            let (read, write) = isys::pipe(true).map_err(|e| Error::sys("pipe", e))?;
            let rfd = read.as_raw_fd();
            self.signals = Some(SignalPipe {
                read,
                write,
                handlers: Vec::new(),
            });
            self.prepare_entry(rfd, true)?;
            let handler: IoHandler = Box::new(|base, _fd, _ev, _exc| base.drain_signals());
            let id = self.next_id;
            self.next_id += 1;
            let entry = self.entry(rfd).expect("prepared above");
            entry.read = Some(Slot {
                id,
                handler: Some(handler),
                added_round: 0,
                timeout: None,
                deadline: None,
                one_shot: false,
            });
            self.sync_interest(rfd, true)?;
        }
        let id = self.next_id;
        self.next_id += 1;
        let pipe = self.signals.as_mut().expect("created above");
        if !pipe.handlers.iter().any(|h| h.signal == signal) {
            isys::signal_notify(signal, pipe.write.as_raw_fd())
                .map_err(|e| Error::sys("sigaction", e))?;
        }
        pipe.handlers.push(SignalEntry {
            id,
            signal,
            handler: Some(Box::new(f)),
        });
        Ok(SignalHandlerId(id))
    }

    /// Removes a signal handler; the signal's default disposition comes back when its last
    /// handler goes. Returns whether it was registered.
    pub fn remove_signal_handler(&mut self, id: SignalHandlerId) -> bool {
        let Some(pipe) = self.signals.as_mut() else {
            return false;
        };
        let Some(pos) = pipe.handlers.iter().position(|h| h.id == id.0) else {
            return false;
        };
        let signal = pipe.handlers.remove(pos).signal;
        if !pipe.handlers.iter().any(|h| h.signal == signal) {
            let _ = isys::signal_unnotify(signal);
        }
        true
    }

    fn drain_signals(&mut self) -> HandlerResult {
        let mut buf = [0u8; 64];
        loop {
            let Some(pipe) = self.signals.as_ref() else {
                return Ok(());
            };
            let n = match isys::read(&pipe.read, &mut buf) {
                Ok(0) | Err(isys::Errno::EWOULDBLOCK) => return Ok(()),
                Err(isys::Errno::EINTR) => continue,
                Err(e) => return Err(Box::new(Error::sys("read", e))),
                Ok(n) => n,
            };
            for &b in &buf[..n] {
                let Ok(signal) = Signal::try_from(b as i32) else {
                    continue;
                };
                let mut i = 0;
                while let Some(pipe) = self.signals.as_mut() {
                    let Some(entry) = pipe.handlers.get_mut(i) else {
                        break;
                    };
                    i += 1;
                    if entry.signal != signal {
                        continue;
                    }
                    let id = entry.id;
                    let Some(mut h) = entry.handler.take() else {
                        continue;
                    };
                    let r = h(self, signal);
                    if let Some(e) = self
                        .signals
                        .as_mut()
                        .and_then(|p| p.handlers.iter_mut().find(|x| x.id == id))
                    {
                        e.handler = Some(h);
                    }
                    r?;
                }
            }
        }
    }

    /// Stops `event_dispatch` after `delay` (IOLib's `exit-event-loop`); zero means at the end
    /// of the current round.
    pub fn exit_event_loop(&mut self, delay: Duration) {
        if delay.is_zero() {
            self.exit_requested = true;
        } else {
            self.heap.push(
                Instant::now() + delay,
                TimerKey::Exit {
                    gen: self.dispatch_gen,
                },
            );
        }
    }

    /// Whether no handlers, timers or signal handlers remain (IOLib's `event-base-empty-p`).
    pub fn is_empty(&self) -> bool {
        self.user_slots == 0
            && self.live_timers == 0
            && self
                .signals
                .as_ref()
                .map_or(true, |p| p.handlers.is_empty())
    }

    /// Runs the event loop (IOLib's `event-dispatch`) until [`exit_event_loop`], the options'
    /// `timeout`, one round with `one_shot`, the base becoming empty with `exit_when_empty`,
    /// or a handler error (returned as [`Error::Handler`]).
    ///
    /// [`exit_event_loop`]: Self::exit_event_loop
    pub fn event_dispatch(&mut self, options: DispatchOptions) -> Result<()> {
        if self.dispatching {
            return Err(Error::Reentrant);
        }
        self.dispatching = true;
        let r = self.run(options);
        self.dispatching = false;
        self.exit_requested = false;
        self.dispatch_gen += 1;
        r
    }

    fn run(&mut self, opts: DispatchOptions) -> Result<()> {
        let start = Instant::now();
        let deadline = opts.timeout.and_then(|t| start.checked_add(t));
        let exit_when_empty = opts.exit_when_empty.unwrap_or(self.exit_when_empty);
        loop {
            if self.exit_requested || (exit_when_empty && self.is_empty()) {
                return Ok(());
            }
            let next = self.heap.peek_deadline();
            let now = (next.is_some() || deadline.is_some()).then(Instant::now);
            let mut wait = next
                .zip(now)
                .map(|(d, now)| d.saturating_duration_since(now));
            if let (Some(d), Some(now)) = (deadline, now) {
                let rem = d.saturating_duration_since(now);
                wait = Some(wait.map_or(rem, |w| w.min(rem)));
            }
            if let Some(max) = opts.max_step {
                wait = Some(wait.map_or(max, |w| w.min(max)));
            }
            if let Some(min) = opts.min_step {
                wait = wait.map(|w| w.max(min));
            }
            if wait.is_none() && exit_when_empty && !self.selector.verify_identity() {
                // About to block forever: handlers of fds closed behind our back (epoll and
                // kqueue forget those silently) must not keep an otherwise empty base alive.
                self.prune_closed_fds();
                if self.is_empty() {
                    return Ok(());
                }
            }
            self.apply_changes()?;
            self.round += 1;
            self.events.clear();
            match self.selector.select(&mut self.events, wait) {
                Ok(()) | Err(isys::Errno::EINTR) => {}
                Err(e) => return Err(Error::sys("wait for events", e)),
            }
            self.dispatch_fd_events()?;
            self.run_timers()?;
            if opts.one_shot || deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(());
            }
        }
    }

    fn dispatch_fd_events(&mut self) -> Result<()> {
        let verify = self.selector.verify_identity();
        for i in 0..self.events.len() {
            let ready = self.events[i];
            let fd = ready.fd;
            let Some(entry) = self.entry(fd) else {
                continue;
            };
            let (identity, has_r, has_w) =
                (entry.identity, entry.read.is_some(), entry.write.is_some());
            if ready.invalid {
                self.purge(fd);
                continue;
            }
            if verify && isys::fstat_identity(fd).ok() != Some(identity) {
                // Closed while registered, and maybe reused: never call the old handlers.
                self.purge(fd);
                continue;
            }
            if ready.error {
                self.deliver_error(fd)?;
                continue;
            }
            if ready.hup && !has_r && !has_w {
                // A hang-up nobody reads: report it and stop watching, or it would spin.
                self.deliver_error(fd)?;
                continue;
            }
            if ready.read || ready.hup {
                self.call_io(fd, Event::Read, None)?;
            }
            if ready.write || ready.hup {
                self.call_io(fd, Event::Write, None)?;
            }
        }
        Ok(())
    }

    fn deliver_error(&mut self, fd: RawFd) -> Result<()> {
        let ids: [Option<u64>; 3] = {
            let e = self.entry(fd).expect("caller checked");
            [
                e.read.as_ref().map(|s| s.id),
                e.write.as_ref().map(|s| s.id),
                e.error.as_ref().map(|s| s.id),
            ]
        };
        let mut result = Ok(());
        for ev in [Event::Read, Event::Write, Event::Error] {
            if result.is_ok() {
                result = self.call_io(fd, ev, Some(Exception::Error));
            }
        }
        // Unregister the handlers that saw the error (not ones added by them meanwhile).
        for (ev, id) in [Event::Read, Event::Write, Event::Error]
            .into_iter()
            .zip(ids)
        {
            let same = self
                .entry(fd)
                .and_then(|e| e.slot_mut(ev).as_ref().map(|s| s.id))
                .is_some_and(|cur| Some(cur) == id);
            if same {
                self.remove_slot(fd, ev);
            }
        }
        result
    }

    /// Calls the handler of `fd`/`event` if it was registered before this round's wait.
    fn call_io(&mut self, fd: RawFd, event: Event, exc: Option<Exception>) -> Result<()> {
        let round = self.round;
        let Some(entry) = self.entry(fd) else {
            return Ok(());
        };
        let Some(slot) = entry.slot_mut(event).as_mut() else {
            return Ok(());
        };
        if slot.added_round >= round {
            return Ok(());
        }
        let Some(mut handler) = slot.handler.take() else {
            return Ok(());
        };
        let (id, one_shot) = (slot.id, slot.one_shot);
        if let Some(t) = slot.timeout {
            slot.deadline = Some(Instant::now() + t);
        }
        if one_shot {
            self.remove_slot(fd, event);
        }
        let r = handler(self, fd, event, exc);
        if !one_shot {
            if let Some(slot) = self.entry(fd).and_then(|e| e.slot_mut(event).as_mut()) {
                if slot.id == id && slot.handler.is_none() {
                    slot.handler = Some(handler);
                }
            }
        }
        r.map_err(Error::Handler)
    }

    fn run_timers(&mut self) -> Result<()> {
        if self.heap.peek_deadline().is_none() {
            return Ok(()); // the common case on a busy server: no clock read at all
        }
        let now = Instant::now();
        let limit = self.heap.next_seq();
        while let Some(entry) = self.heap.pop_due(now, limit) {
            match entry.key {
                TimerKey::Exit { gen } => {
                    if gen == self.dispatch_gen {
                        self.exit_requested = true;
                    }
                }
                TimerKey::User { index, gen } => {
                    let Some(slot) = self.timers.get_mut(index as usize) else {
                        continue;
                    };
                    let Some(timer) = slot
                        .timer
                        .as_mut()
                        .filter(|t| slot.gen == gen && t.deadline == entry.deadline)
                    else {
                        continue;
                    };
                    let Some(mut cb) = timer.callback.take() else {
                        continue;
                    };
                    match timer.interval {
                        Some(iv) => {
                            // Catch up without bursts: never schedule in the past.
                            timer.deadline = (entry.deadline + iv).max(now);
                            let d = timer.deadline;
                            self.heap.push(d, TimerKey::User { index, gen });
                        }
                        None => self.free_timer(index),
                    }
                    let r = cb(self);
                    if let Some(t) = self
                        .timers
                        .get_mut(index as usize)
                        .filter(|s| s.gen == gen)
                        .and_then(|s| s.timer.as_mut())
                    {
                        t.callback.get_or_insert(cb);
                    }
                    r.map_err(Error::Handler)?;
                }
                TimerKey::HandlerTimeout { fd, event, id } => {
                    let Some(slot) = self
                        .entry(fd)
                        .and_then(|e| e.slot_mut(event).as_mut())
                        .filter(|s| s.id == id)
                    else {
                        continue;
                    };
                    let Some(d) = slot.deadline else {
                        continue;
                    };
                    if d > now {
                        // Activity moved the deadline: look again then.
                        self.heap.push(d, entry.key);
                        continue;
                    }
                    let timeout = slot.timeout.unwrap_or_default();
                    let one_shot = slot.one_shot;
                    // The handler sees Timeout; its timer restarts (call_io resets it).
                    let r = self.call_timeout(fd, event, id);
                    if !one_shot {
                        if let Some(slot) = self
                            .entry(fd)
                            .and_then(|e| e.slot_mut(event).as_mut())
                            .filter(|s| s.id == id)
                        {
                            let d = slot.deadline.unwrap_or(now + timeout);
                            self.heap.push(d, entry.key);
                        }
                    }
                    r?;
                }
            }
        }
        self.maybe_compact_heap();
        Ok(())
    }

    fn call_timeout(&mut self, fd: RawFd, event: Event, id: u64) -> Result<()> {
        // Timeouts fire even for handlers added this round: their clock started at add time.
        if let Some(slot) = self.entry(fd).and_then(|e| e.slot_mut(event).as_mut()) {
            if slot.id == id {
                slot.added_round = 0;
            }
        }
        self.call_io(fd, event, Some(Exception::Timeout))
    }

    /// Releases the backend's fd and every handler (IOLib's `close` on an event base);
    /// the same as dropping it.
    pub fn close(self) {
        drop(self);
    }
}

impl Drop for EventBase {
    fn drop(&mut self) {
        if let Some(pipe) = self.signals.take() {
            for h in &pipe.handlers {
                let _ = isys::signal_unnotify(h.signal);
            }
        }
    }
}
