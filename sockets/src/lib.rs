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
//! // A daytime-style exchange on loopback, port 0.
//! let server = make_socket()
//!     .connect(Connect::Passive)
//!     .local_host("127.0.0.1")
//!     .local_port(0)
//!     .external_format(ExternalFormat::UTF8_CRLF)
//!     .build_passive()?;
//! let port = server.local_port()?;
//! let mut client = make_socket()
//!     .remote_host("127.0.0.1")
//!     .remote_port(port)
//!     .external_format(ExternalFormat::UTF8_CRLF)
//!     .build_active()?;
//! let mut conn = server.accept_connection(Wait::Forever)?.expect("a client");
//! writeln!(conn, "2/27/2010 13:51:48")?;
//! conn.finish_output()?;
//! assert_eq!(client.read_line()?, "2/27/2010 13:51:48");
//! conn.close()?;
//! assert!(matches!(client.read_line(), Err(Error::EndOfFile)));
//! # Ok::<(), sockets::Error>(())
//! ```
//!
//! ## Line-oriented I/O
//! [`ActiveSocket::read_line`] returns a line without its end; the external format decides
//! the encoding (UTF-8, Latin-1, ASCII) and line end (LF, CRLF, CR). `write!`/`writeln!` and
//! [`ActiveSocket::write_line`] encode through the format; [`ActiveSocket::finish_output`]
//! flushes, [`ActiveSocket::force_output`] tries once without waiting. `std::io::{Read,
//! BufRead, Write}` are implemented on raw bytes.
//!
//! ## DNS
//! [`dns`] is IOLib's resolver: [`dns::dns_query`] with typed records, UDP with EDNS0 and TCP
//! fallback, `resolv.conf`/hosts re-read on change; [`lookup_hostname`] uses it.
#![deny(missing_docs, missing_debug_implementations)]
#![warn(unsafe_op_in_unsafe_fn)]
#![forbid(unsafe_code)]

mod address;
mod builder;
pub mod dns;
mod error;
mod format;
mod options;
mod socket;

pub use address::*;
pub use builder::{make_socket, AddressFamily, Connect, Host, Ipv6Mode, MakeSocket};
pub use error::{Error, Result};
pub use format::{Encoding, ExternalFormat, LineEnd};
pub use isys::{Errno, MsgFlags};
pub use options::{OptionName, SocketOption};
pub use socket::{
    make_socket_from_fd, make_socket_pair, ActiveSocket, BaseSocket, DatagramSocket, Family,
    PassiveSocket, Socket, SocketKind, Wait, DEFAULT_BACKLOG, DEFAULT_BUFFER_SIZE,
    DEFAULT_MAX_LINE_LENGTH,
};
