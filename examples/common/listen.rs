//! The server side's listening socket: make, bind, listen, and the Listening line.

use super::{address_in_use, fail, Args};
use crate::say;
use iolib::prelude::*;
use std::io::Write;

/// The passive socket every server makes: internet, stream, UTF-8/CRLF, bound to 0.0.0.0
/// with reuse-address, listening with backlog 5, announced with the Listening line. Every
/// client it accepts shares one input budget (`--max-buffered`), so many clients holding
/// long unfinished lines cannot, together, take the server's memory.
pub fn make_server(args: &Args) -> PassiveSocket {
    // Create a passive (server) TCP socket under IPV4. Sockets meant to be listened upon
    // *must* be created passively.
    let mut server = make_socket()
        .connect(Connect::Passive)
        .family(AddressFamily::Internet)
        .kind(SocketKind::Stream)
        .external_format(ExternalFormat::UTF8_CRLF)
        .build_passive()
        .unwrap_or_else(|e| fail("make-socket", e));
    say!(
        args,
        "Created socket: {server}[fd={}]",
        server.socket_os_fd().unwrap_or(-1)
    );
    // Bind the socket to all interfaces with the specified port (reuse-address is on).
    match server.bind_address(IPV4_UNSPECIFIED, args.port) {
        Ok(()) => {}
        Err(SocketError::AddressInUse) => address_in_use(),
        Err(e) => fail("bind-address", e),
    }
    say!(args, "Bound socket: {server}");
    server.set_input_budget(Some(InputBudget::new(args.max_buffered)));
    // Start listening on the server socket.
    server
        .listen_on(args.backlog)
        .unwrap_or_else(|e| fail("listen-on", e));
    let (host, port) = server
        .local_name()
        .unwrap_or_else(|e| fail("local-name", e));
    println!("Listening on socket bound to: {host}:{port}");
    let _ = std::io::stdout().flush();
    server
}
