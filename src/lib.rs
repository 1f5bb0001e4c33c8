//! # iolib: IOLib's layered I/O library, in Rust
//!
//! An echo server on an event base, and one client's round trip through it:
//!
//! ```
//! use iolib::prelude::*;
//! use std::io::{BufRead, BufReader, Write};
//! use std::time::Duration;
//!
//! let mut base = EventBase::new()?;
//! base.set_handler_error_policy(drop_failing_peers); // a failing client goes, the server stays
//! let server = make_socket()
//!     .connect(Connect::Passive)
//!     .local_host("127.0.0.1")
//!     .local_port(0)
//!     .build_passive()?;
//! let port = server.local_port()?;
//! Listener::new(server).register(&mut base, |base, client| {
//!     let fd = client.socket_os_fd().ok_or(SocketError::NotConnected)?;
//!     base.set_fd_state(fd, client)?;
//!     let echo = |_: &mut EventBase, c: &mut ActiveSocket, _, _, _| -> HandlerResult {
//!         while let Some(line) = c.read_line_no_hang()? {
//!             c.write_line(&line)?; // end of file or a reset: an error, the policy drops `c`
//!         }
//!         Ok(c.finish_output()?)
//!     };
//!     Ok(base.set_stateful_io_handler(fd, Event::Read, IoOptions::new(), echo)?)
//! })?;
//! let waker = base.waker()?;
//! let client = std::thread::spawn(move || -> std::io::Result<String> {
//!     let mut peer = std::net::TcpStream::connect(("127.0.0.1", port))?;
//!     peer.write_all(b"hello\n")?;
//!     let mut echo = String::new();
//!     BufReader::new(peer).read_line(&mut echo)?;
//!     waker.stop().ok(); // ends event_dispatch below
//!     Ok(echo)
//! });
//! base.event_dispatch(DispatchOptions::default().timeout(Duration::from_secs(5)))?;
//! assert_eq!(client.join().unwrap()?, "hello\n");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Crates
//!
//! The facade over three crates, layered as IOLib is; each is re-exported under its library
//! name, and [`prelude`] gathers the names most programs use.
//!
//! | module here | package on crates.io | what it is | IOLib |
//! |---|---|---|---|
//! | [`isys`] | `iolib-isys` | errno-typed raw syscalls, one thin function per call | `syscalls` |
//! | [`sockets`] | `iolib-sockets` | sockets with line-oriented buffered I/O, addresses, DNS | `sockets` |
//! | [`iomux`] | `iolib-iomux` | the event base: handlers, timers, signals on select/poll/epoll/kqueue | `multiplex` |
//! | this crate | `iolib` | what needs sockets and the event base together | |
//!
//! This crate adds what needs both sockets and the event base: [`Listener`], which accepts
//! on an event base without spinning or dying when fds or memory run out,
//! [`drop_failing_peers`], the failure policy that ends one peer's fd on a per-peer error
//! instead of the whole loop ([`scope_of`] is its classification), [`dns_query_on`], which
//! resolves on an event base without a thread, and [`reuse_port_listeners`], for one server
//! on several event bases.
//!
//! ## Features
//!
//! The features choose the event base's backends; they are `iomux`'s, forwarded. Each needs
//! only the C library of its platform, nothing to install.
//!
//! - `native` (default): the platform's native multiplexer: epoll on Linux and Android,
//!   kqueue on macOS and the BSDs.
//! - `poll` (default): `poll(2)`, any Unix.
//! - `select` (default): `select(2)`, any Unix; fds below `FD_SETSIZE` only.
//! - `epoll`: `epoll(7)` alone, Linux and Android.
//! - `kqueue`: `kqueue(2)` alone, macOS and the BSDs.
//!
//! At least one backend must be enabled. Features add up, so `--all-features` works
//! everywhere: a backend the target cannot have is skipped with a build warning (and is an
//! error only when it is the sole backend asked for).
//!
//! | feature | Linux | macOS / BSD | default |
//! |---|---|---|---|
//! | `native` | epoll | kqueue | yes |
//! | `epoll` | yes | skipped (warning) | via `native` |
//! | `kqueue` | skipped (warning) | yes | via `native` |
//! | `poll` | yes | yes | yes |
//! | `select` | yes | yes | yes |
//!
//! No item is behind a feature: the features decide which backends
//! [`Backend::available`](iomux::Backend::available) lists at run time (and so what
//! `EventBase::new` picks and `IOMUX_BACKEND` may name), not which items exist. Some items
//! exist only on their platform (these docs do not mark them, as `doc(cfg)` is not stable):
//! `isys`'s epoll calls, `eventfd` and netlink addresses on Linux and Android, its kqueue
//! calls on macOS and the BSDs.
#![deny(missing_docs, missing_debug_implementations)]

mod failure;
mod listener;
mod reuse_port;

pub use failure::{drop_failing_peers, scope_of};
pub use listener::{Listener, ListenerError, DEFAULT_MAX_ACCEPTS_PER_WAKEUP};
pub use reuse_port::reuse_port_listeners;

pub use iomux;
pub use isys;
pub use sockets;

mod resolve;
pub use resolve::dns_query_on;

/// The names most programs need, for `use iolib::prelude::*`: the event base and its
/// options, the socket types and builder, [`Listener`] and [`drop_failing_peers`], and
/// [`isys`] itself with [`Errno`](isys::Errno) and [`Signal`](isys::Signal). Both error types
/// are renamed here: [`iomux::Error`] to `MuxError`, [`sockets::Error`] to `SocketError`.
///
/// ```
/// use iolib::prelude::*;
/// use std::time::Duration;
///
/// let (mut a, b) = make_socket_pair(ExternalFormat::default())?; // connected, AF_LOCAL
/// let mut base = EventBase::new()?;
/// let fd = b.socket_os_fd().expect("open");
/// base.set_fd_state(fd, b)?;
/// let on_line = |base: &mut EventBase, b: &mut ActiveSocket, _, _, _| -> HandlerResult {
///     assert_eq!(b.read_line()?, "ping");
///     base.exit_event_loop(Duration::ZERO);
///     Ok(())
/// };
/// base.set_stateful_io_handler(fd, Event::Read, IoOptions::new(), on_line)?;
/// a.write_line("ping")?;
/// a.finish_output()?;
/// let five_seconds = DispatchOptions::default().timeout(Duration::from_secs(5));
/// let outcome = base.event_dispatch(five_seconds)?;
/// assert_eq!(outcome, DispatchOutcome::ExitRequested);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub mod prelude {
    pub use crate::iomux::{
        Backend, DispatchOptions, DispatchOutcome, Error as MuxError, Event, EventBase, Exception,
        HandlerFailure, HandlerResult, Handlers, IoOptions, OnError, Timer, TimerId, Waker,
    };
    pub use crate::isys::{self, Errno, Signal};
    pub use crate::sockets::{
        make_socket, make_socket_pair, AcceptOutcome, Acceptor, ActiveSocket, Address,
        AddressFamily, BaseSocket, Connect, DatagramSocket, Error as SocketError, ErrorScope,
        ExternalFormat, Family, FdStream, InputBudget, Ipv6Mode, MsgFlags, OptionName,
        PassiveSocket, RawSocket, Socket, SocketKind, SocketOption, Wait, IPV4_LOOPBACK,
        IPV4_UNSPECIFIED,
    };
    pub use crate::{drop_failing_peers, Listener};
}
