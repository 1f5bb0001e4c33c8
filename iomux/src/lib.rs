//! # iomux: IOLib's event base
//!
//! Handlers per fd and event, timers, signal handlers and `event_dispatch`, on the select,
//! poll, epoll and kqueue backends chosen with cargo features. Level-triggered on every
//! backend; the same test suite runs on each.
//!
//! An echo server for one client, in the style of IOLib's tutorial: the listener's read
//! handler accepts, the connection's read handler echoes, and the loop ends when no handler
//! is left.
//!
//! ```
//! use iomux::{DispatchOptions, Event, EventBase, Handlers};
//! use std::io::{Read, Write};
//! use std::net::{TcpListener, TcpStream};
//! use std::os::fd::AsRawFd;
//! use std::time::Duration;
//!
//! let listener = TcpListener::bind("127.0.0.1:0")?;
//! listener.set_nonblocking(true)?;
//! let mut client = TcpStream::connect(listener.local_addr()?)?;
//! client.write_all(b"ping")?;
//!
//! let mut base = EventBase::new()?;
//! base.set_io_handler(listener.as_raw_fd(), Event::Read, move |base, fd, _event, _exc| {
//!     let (mut conn, _peer) = listener.accept()?;
//!     base.remove_fd_handlers(fd, Handlers::ALL); // one client: this drops the listener
//!     base.set_io_handler(conn.as_raw_fd(), Event::Read, move |base, fd, _event, _exc| {
//!         let mut buf = [0u8; 64];
//!         let n = conn.read(&mut buf)?;
//!         conn.write_all(&buf[..n])?;
//!         base.remove_fd_handlers(fd, Handlers::ALL); // and this closes the connection
//!         Ok(())
//!     })?;
//!     Ok(())
//! })?;
//! let opts = DispatchOptions::default().exit_when_empty(true).timeout(Duration::from_secs(10));
//! base.event_dispatch(opts)?;
//!
//! let mut echo = String::new();
//! client.read_to_string(&mut echo)?;
//! assert_eq!(echo, "ping");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Features
//! The backends are additive cargo features; every compiled one is in [`Backend::available`],
//! best first, and [`EventBase::new`] takes the first.
//! - `native` (default): the platform's own backend, [`Backend::Epoll`] on Linux and
//!   Android, [`Backend::Kqueue`] on BSD and macOS.
//! - `poll` (default): [`Backend::Poll`].
//! - `select` (default): [`Backend::Select`], for fds below `FD_SETSIZE`.
//! - `epoll`, `kqueue`: one native backend by name (ignored, with a build warning, on an OS
//!   that lacks it, if another backend is enabled).
//!
//! No item of the API is behind a feature: the [`Backend`] variants always exist, and one
//! that was not compiled in makes [`EventBase::with_backend`] fail with
//! [`Error::BackendUnavailable`]. [`Backend::Epoll`] needs the `native` or `epoll` feature
//! (Linux, Android), [`Backend::Kqueue`] the `native` or `kqueue` feature (BSD, macOS),
//! [`Backend::Poll`] the `poll` feature and [`Backend::Select`] the `select` feature.
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
//! again in that round. Another thread wakes or stops the loop with a [`Waker`];
//! [`EventBase::event_dispatch`] says why it returned ([`DispatchOutcome`]).
//!
//! ## Conditions, the same on every backend
//! Level-triggered everywhere. An error or hang-up reaches an fd's read and write handlers as
//! readiness: the handler's read returns the bytes that arrived first, then end of file (a
//! peer's orderly close) or the error (`ECONNRESET`, an ICMP refusal on a datagram socket:
//! reading clears it and the handlers stay). Only an fd watched by nothing but an error
//! handler gets [`Exception::Error`], after which its handlers are removed. fds the backend
//! cannot watch (regular files on epoll) are always ready, as poll and select report them.
//!
//! ## Failures
//! A handler returning an error ends [`EventBase::event_dispatch`] with that error
//! ([`Error::Handler`], which names the fd and event; [`Error::handler_error_as`] gives the
//! handler's error back typed), as in IOLib, unless a failure policy
//! ([`EventBase::set_handler_error_policy`]) says otherwise: [`OnError::DropFd`] ends that
//! fd alone ([`EventBase::drop_fd`]) and the loop goes on.
//!
//! ## The fd-closing rule
//! **Remove an fd's handlers before closing it.** The event base defends when that rule is
//! broken, at no syscall per event: a closed fd never spins the loop or crashes it (poll's
//! `POLLNVAL`, select's `EBADF`, and epoll/kqueue dropping closed fds all end in the stale
//! handlers being removed without being called). An fd's identity (`st_dev`, `st_ino`) is
//! taken when it gets its entry (its first handler or state) and checked again by
//! [`EventBase::set_fd_state`], by adding a handler before the backend has reported the fd,
//! by adding one to a slot that is taken, and — on poll and select, which watch fd *numbers*
//! — the first time the backend reports the fd: a number closed and reused in that window
//! never fires the old handlers for the new file, and registering the new file drops them.
//! After that first report, a number closed and reused while its handlers stay registered is
//! caught only when the kernel finds it closed (poll's `POLLNVAL`, select's `EBADF`, epoll's
//! `ENOENT` on an interest change); a handler added for the new file joins the stale entry
//! unchecked, since checking costs an `fstat` per registration. Removing the handlers before
//! closing (or [`EventBase::drop_fd`], which removes handlers and state together) is what
//! guarantees the rest; the library's own owners (fd states, `iolib::Listener`, the failure
//! policy) always do. (epoll's own caveat: a closed fd that was `dup`ed stays in the epoll
//! set until every duplicate is closed.)
//!
//! ## IOLib's names
//! Each IOLib name has its row in [the porting table][porting] (`docs/PORTING.md`, "The event
//! base"); here they are with the item that ports them.
//!
//! | IOLib | iomux |
//! |---|---|
//! | `event-base`, `make-instance 'event-base :exit-when-empty` | [`EventBase`], [`EventBase::builder`] |
//! | `set-io-handler ... :timeout :one-shot` | [`EventBase::set_io_handler`], [`EventBase::set_io_handler_with`], [`IoOptions`] |
//! | `set-error-handler` | [`EventBase::set_error_handler`] |
//! | `remove-fd-handlers ... :read :write :error` | [`EventBase::remove_fd_handlers`], [`Handlers`] |
//! | `fd-monitored-p` | [`EventBase::fd_monitored`], [`EventBase::fd_monitored_for`] |
//! | `:read`, `:write`, `:error`; the handler's exception | [`Event`], [`Exception`] |
//! | `add-timer ... :one-shot`, `remove-timer` | [`EventBase::add_timer`], [`Timer`], [`TimerId`], [`EventBase::remove_timer`] |
//! | `event-dispatch ... :one-shot :timeout :min-step :max-step` | [`EventBase::event_dispatch`], [`DispatchOptions`], [`DispatchOutcome`] |
//! | `exit-event-loop ... :delay` | [`EventBase::exit_event_loop`] |
//! | `event-base-empty-p` | [`EventBase::is_empty`] |
//! | `close` on an event base | [`EventBase::close`] |
//! | `multiplexer`, `*default-multiplexer*` | [`Backend`], [`Backend::best`] |
//! | `handler-case` around `event-dispatch` | [`Error::Handler`], [`Error::handler_error_as`], [`EventBase::set_handler_error_policy`] |
//! | `wait-until-fd-ready`, `fd-readablep`, `fd-writablep` | [`wait_until_fd_ready`], [`fd_readable`], [`fd_writable`] |
//!
//! [porting]: https://github.com/iolib-rs/iolib-rs/blob/main/docs/PORTING.md#the-event-base
#![deny(missing_docs, missing_debug_implementations)]
#![warn(unsafe_op_in_unsafe_fn)]
#![forbid(unsafe_code)]

mod backend;
mod changelist;
mod error;
mod event_base;
mod event_loop;
mod failure;
mod fd_entry;
mod fd_state;
mod handlers;
mod multiplexer;
mod options;
mod outcome;
mod signals;
mod stage;
mod state_visit;
mod sys;
mod timers;
mod waker;

pub use backend::Backend;
pub use error::{BoxError, Error, HandlerResult, Result};
pub use event_base::{EventBase, EventBaseBuilder};
pub use failure::{HandlerFailure, OnError};
pub use fd_entry::{Event, Exception};
pub use handlers::Handlers;
pub use options::{DispatchOptions, IoOptions};
pub use outcome::DispatchOutcome;
pub use signals::SignalHandlerId;
pub use timers::{Timer, TimerId};
pub use waker::Waker;

pub use isys::{fd_readable, fd_writable, wait_until_fd_ready, FdEvent, FdWaitError, Signal};
