//! ex1-client: a daytime client, blocking line-oriented I/O, written "C style" like the
//! tutorial's first example (section 2.2.1).
//! Walkthrough: docs/TUTORIAL.md#ex1-client

mod common;

use iolib::prelude::*;

fn main() {
    let args = common::client_args();

    // Create an internet TCP socket under IPV4.
    let mut socket = make_socket()
        .connect(Connect::Active)
        .family(AddressFamily::Internet)
        .kind(SocketKind::Stream)
        .external_format(ExternalFormat::UTF8_CRLF)
        .build_active()
        .unwrap_or_else(|e| common::fail("make-socket", e));

    // Do a blocking connect to the daytime server on the port.
    let addr =
        common::resolve_ipv4(&args.host).unwrap_or_else(|e| common::fail("lookup-hostname", e));
    match socket.connect(&addr, args.port, Wait::Forever) {
        Ok(_) => {}
        // ex1 does no condition handling in Lisp (it lands in the debugger); we still exit
        // cleanly with the tutorial's message.
        Err(SocketError::ConnectionRefused) => common::connection_refused(&args.host, args.port),
        Err(e) => common::fail("connect", e),
    }
    println!(
        "Connected to server {}:{} via my local connection at {}:{}!",
        socket
            .remote_host()
            .unwrap_or_else(|e| common::fail("remote-host", e)),
        socket
            .remote_port()
            .unwrap_or_else(|e| common::fail("remote-port", e)),
        socket
            .local_host()
            .unwrap_or_else(|e| common::fail("local-host", e)),
        socket
            .local_port()
            .unwrap_or_else(|e| common::fail("local-port", e)),
    );

    // Read the one line of information I need from the daytime server. I can use read_line
    // here because this is a TCP socket.
    let line = socket
        .read_line()
        .unwrap_or_else(|e| common::fail("read-line", e));
    println!("{line}");

    // All done.
    let _ = socket.close();
}
