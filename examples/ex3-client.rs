//! ex3-client: the daytime client with condition handling (section 2.2.3).
//! Walkthrough: docs/TUTORIAL.md#ex3-client

mod common;

use iolib::prelude::*;

/// Connects to the server and reads the daytime line.
fn run_ex3_client_helper(host: &str, port: u16) -> Result<(), SocketError> {
    // Create an internet TCP socket under IPV4 (closed when this function returns).
    let mut socket = make_socket()
        .connect(Connect::Active)
        .family(AddressFamily::Internet)
        .kind(SocketKind::Stream)
        .external_format(ExternalFormat::UTF8_CRLF)
        .build_active()?;

    // Do a blocking connect to the daytime server on the port.
    socket.connect(&common::resolve_ipv4(host)?, port, Wait::Forever)?;
    println!(
        "Connected to server {} from my local connection at {}!",
        common::hp(socket.remote_name()?),
        common::hp(socket.local_name()?)
    );

    // Read the one line of information I need from the daytime server...
    match socket.read_line() {
        Ok(line) => println!("{line}"),
        // ...however, let's notice the condition if the server went away prematurely.
        Err(SocketError::EndOfFile) => println!("Got end-of-file. Server closed connection!"),
        Err(e) => return Err(e),
    }
    Ok(())
}

/// The main entry point into ex3-client.
fn main() {
    let args = common::client_args();
    match run_ex3_client_helper(&args.host, args.port) {
        Ok(()) => {}
        // Handle a commonly signaled error...
        Err(SocketError::ConnectionRefused) => common::connection_refused(&args.host, args.port),
        Err(e) => common::fail("ex3-client", e),
    }
}
