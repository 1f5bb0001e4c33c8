//! # sockets: IOLib's socket layer
//!
//! Active and passive stream sockets, datagram sockets, IPv4/IPv6/local families, with
//! IOLib's names (`make_socket`, `accept_connection`, `read_line`, `finish_output`,
//! `send_to`, `receive_from`, `local_name`, ...) and conditions as [`Error`] variants.
//! Every fd is non-blocking and CLOEXEC; "blocking" operations wait with `poll(2)` and a
//! deadline. Writes never raise `SIGPIPE`.
//!
//! ```
//! use sockets::*;
//!
//! // An echo over loopback: a listener on a free port, a client, one line each way.
//! let server = make_socket().connect(Connect::Passive)
//!     .local_host("127.0.0.1").local_port(0).build_passive()?;
//! let mut client = make_socket()
//!     .remote_host("127.0.0.1").remote_port(server.local_port()?).build_active()?;
//! let mut conn = server.accept_connection(Wait::Forever)?.expect("the client");
//!
//! client.write_line("hello")?;
//! client.finish_output()?;
//! let line = conn.read_line()?;
//! writeln!(conn, "echo: {line}")?;
//! conn.close()?;
//! assert_eq!(client.read_line()?, "echo: hello");
//! assert!(matches!(client.read_line(), Err(Error::EndOfFile)));
//! # Ok::<(), sockets::Error>(())
//! ```
//!
//! ## Porting from IOLib
//! Every IOLib name has a row in the workspace's `docs/PORTING.md` (`make-socket` →
//! [`make_socket`], `accept-connection` → [`PassiveSocket::accept_connection`], `read-line`
//! → [`ActiveSocket::read_line`], `socket-option` → [`BaseSocket::socket_option`],
//! `lookup-hostname` → [`lookup_hostname`], `dns-query` → [`dns::dns_query`], ...), and each
//! item's documentation names the IOLib function it ports. Keywords given as data go through
//! [`MakeSocket::keyword`].
//!
//! ## Blocking and errors
//! Operations that wait say so and for how long: reads up to the read timeout
//! ([`ActiveSocket::set_read_timeout`]), writes up to the write timeout, accepts and
//! connects up to their [`Wait`]. Each fallible function's `# Errors` section lists the
//! [`Error`] variants (or errnos, through [`Error::errno`]) it returns and when.
//!
//! ## Line-oriented I/O
//! [`ActiveSocket::read_line`] returns a line without its end; the external format decides
//! the encoding (UTF-8, Latin-1, ASCII) and line end (LF, CRLF, CR). `write!`/`writeln!` and
//! [`ActiveSocket::write_line`] encode through the format; [`ActiveSocket::finish_output`]
//! flushes, [`ActiveSocket::force_output`] tries once without waiting. `std::io::{Read,
//! BufRead, Write}` are implemented on raw bytes. [`FdStream`] has the same methods, from the
//! same buffer code, over any other fd: stdin, pipes, terminals, files.
//!
//! ## Servers that stay up
//! [`Error::scope`] says whom a failure concerns ([`ErrorScope`]: one peer, a passing
//! shortage, the process). An [`InputBudget`] shared by a listener's sockets bounds the memory
//! their unfinished lines take. An [`Acceptor`] keeps accepting when fds or memory run out
//! (a reserve fd to shed connections, exponential back-off, rate-limited logging). Signals
//! never surface: `EINTR` is retried everywhere, against the operation's deadline.
//!
//! ## DNS
//! [`dns`] is IOLib's resolver: [`dns::dns_query`] with typed records, UDP with EDNS0 and TCP
//! fallback, `resolv.conf`/hosts re-read on change; [`lookup_hostname`] uses it.
#![deny(missing_docs, missing_debug_implementations)]
#![warn(unsafe_op_in_unsafe_fn)]
#![forbid(unsafe_code)]

mod acceptor;
mod active;
mod address;
mod address_text;
mod base_socket;
mod budget;
mod buffer;
mod builder;
mod datagram;
pub mod dns;
mod error;
mod fd_stream;
mod format;
mod keywords;
mod lookup;
mod options;
mod output;
mod passive;
mod raw;
mod send_receive;
mod socket;
mod stream;
mod stream_api;
mod wait;

pub use acceptor::{AcceptOutcome, Acceptor, MAX_BACKOFF, MIN_BACKOFF};
pub use active::ActiveSocket;
pub use address::*;
pub use address_text::{address_to_string, ensure_address};
pub use base_socket::{BaseSocket, Family, SocketKind};
pub use budget::InputBudget;
pub use buffer::{DEFAULT_BUFFER_SIZE, DEFAULT_MAX_LINE_LENGTH};
pub use builder::{make_socket, MakeSocket};
pub use datagram::DatagramSocket;
pub use error::{Error, ErrorScope, Result};
pub use fd_stream::FdStream;
pub use format::{Encoding, ExternalFormat, LineEnd};
pub use isys::{Errno, MsgFlags};
pub use keywords::{AddressFamily, Connect, Host, Ipv6Mode, Protocol};
pub use lookup::{
    list_network_interfaces, lookup_hostname, lookup_interface, lookup_protocol, lookup_service,
    HostLookup, Service,
};
pub use options::{OptionName, SocketOption};
pub use passive::{PassiveSocket, DEFAULT_BACKLOG};
#[cfg(any(target_os = "linux", target_os = "android"))]
pub use raw::NetlinkAddress;
pub use raw::RawSocket;
pub use socket::{make_socket_from_fd, make_socket_pair, Socket};
pub use wait::Wait;
