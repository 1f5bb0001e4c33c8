//! ipv6-daytime-client: ex3-client over IPv6 (tutorial's "Future Directions"). `--host`
//! takes an IPv6 address or name (default `::1`); IPv4 addresses are used IPv4-mapped.
//! Walkthrough: docs/TUTORIAL.md#ipv6-daytime

mod common;

use iolib::prelude::*;

fn main() {
    let mut args = common::client_args();
    if args.host == common::DEFAULT_HOST {
        args.host = "::1".into();
    }
    let addr = iolib::sockets::lookup_hostname(&args.host)
        .map(|h| h.address)
        .unwrap_or_else(|e| common::fail("lookup-hostname", e));
    let mut socket = make_socket()
        .ipv6(Ipv6Mode::Yes)
        .external_format(ExternalFormat::UTF8_CRLF)
        .build_active()
        .unwrap_or_else(|e| common::fail("make-socket", e));
    match socket.connect(&addr, args.port, Wait::Forever) {
        Ok(_) => {}
        Err(SocketError::ConnectionRefused) => common::connection_refused(&args.host, args.port),
        Err(e) => common::fail("connect", e),
    }
    let remote = socket
        .remote_name()
        .unwrap_or_else(|e| common::fail("remote-name", e));
    let local = socket
        .local_name()
        .unwrap_or_else(|e| common::fail("local-name", e));
    println!(
        "Connected to server [{}]:{} via my local connection at [{}]:{}!",
        remote.0, remote.1, local.0, local.1
    );
    match socket.read_line() {
        Ok(line) => println!("{line}"),
        Err(SocketError::EndOfFile) => println!("Got end-of-file. Server closed connection!"),
        Err(e) => common::fail("read-line", e),
    }
}
