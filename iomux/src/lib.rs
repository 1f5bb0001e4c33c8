//! # iomux: IOLib's event base
//!
//! Handlers per fd and event, timers, signal handlers and `event_dispatch`, on the select,
//! poll, epoll and kqueue backends chosen with cargo features. Level-triggered on every
//! backend; the same test suite runs on each.
//!
//! ```
//! use iomux::{DispatchOptions, Event, EventBase, Handlers};
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
//!     base.remove_fd_handlers(fd, Handlers::ALL);
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
//! handler's error back typed), as in IOLib, unless a failure policy ([`EventBase::set_handler_error_policy`]) says otherwise:
//! [`OnError::DropFd`] ends that fd alone ([`EventBase::drop_fd`]) and the loop goes on.
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
#![deny(missing_docs, missing_debug_implementations)]
#![warn(unsafe_op_in_unsafe_fn)]
#![forbid(unsafe_code)]

mod backend;
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
