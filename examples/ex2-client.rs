//! ex2-client: the daytime client in Lisp style (section 2.2.2): `with-open-socket` becomes
//! a socket that Rust closes when it goes out of scope.
//! Walkthrough: docs/TUTORIAL.md#ex2-client

mod common;

use iolib::prelude::*;

fn run(args: &common::Args) -> Result<(), SocketError> {
    // with-open-socket: the socket is closed however this function returns.
    let mut socket = make_socket()
        .connect(Connect::Active)
        .family(AddressFamily::Internet)
        .kind(SocketKind::Stream)
        .external_format(ExternalFormat::UTF8_CRLF)
        .build_active()?;

    // Do a blocking connect to the daytime server on the port. lookup-hostname converts a
    // hostname to 4 values; we only want the first, an address.
    socket.connect(&common::resolve_ipv4(&args.host)?, args.port, Wait::Forever)?;
    println!(
        "Connected to server {} from my local connection at {}!",
        common::hp(socket.remote_name()?),
        common::hp(socket.local_name()?)
    );

    // Read the one line of information I need from the daytime server. It blocks until the
    // whole line is read.
    let line = socket.read_line()?;
    println!("{line}");
    Ok(())
}

fn main() {
    let args = common::client_args();
    match run(&args) {
        Ok(()) => {}
        Err(SocketError::ConnectionRefused) => common::connection_refused(&args.host, args.port),
        Err(e) => common::fail("ex2-client", e),
    }
}
