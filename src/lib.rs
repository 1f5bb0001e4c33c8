//! # iolib: IOLib's layered I/O library, in Rust
//!
//! The facade over three crates, layered as IOLib is:
//!
//! - [`isys`]: errno-typed raw syscalls, one thin function per call.
//! - [`sockets`]: IOLib's socket layer with line-oriented buffered I/O.
//! - [`iomux`]: IOLib's event base on select, poll, epoll and kqueue.
//!
//! It adds what needs both sockets and the event base: [`Listener`], which accepts on an event
//! base without spinning or dying when fds or memory run out, and [`drop_failing_peers`], the
//! failure policy that ends one peer's fd on a per-peer error instead of the whole loop.
//!
//! Beyond the three: [`dns_query_on`] resolves on an event base without a thread.
//!
//! ```
//! use iolib::prelude::*;
//!
//! let (r, w) = isys::pipe(true).unwrap();
//! isys::write(&w, b"x").unwrap();
//! assert!(isys::fd_readable(&r).unwrap());
//! ```
//!
//! ## Backends per OS (cargo features of `iomux`, forwarded here)
//! | feature | Linux | macOS / BSD | default |
//! |---|---|---|---|
//! | `native` | epoll | kqueue | yes |
//! | `epoll` | yes | build error | via `native` |
//! | `kqueue` | build error | yes | via `native` |
//! | `poll` | yes | yes | yes |
//! | `select` | yes | yes | yes |
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

/// The names most programs need, for `use iolib::prelude::*`.
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
