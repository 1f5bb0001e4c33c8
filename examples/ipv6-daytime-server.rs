//! ipv6-daytime-server: ex3-server's daytime service on a dual-stack IPv6 socket (tutorial's
//! "Future Directions": IPv6). IPv4 clients show up as IPv4-mapped addresses.
//! Walkthrough: docs/TUTORIAL.md#ipv6-daytime

mod common;

use iolib::prelude::*;

fn main() {
    let args = common::server_args();
    let shutdown = common::Shutdown::install();
    // :ipv6 t — one socket for both families.
    let server = match make_socket()
        .connect(Connect::Passive)
        .ipv6(Ipv6Mode::Yes)
        .local_host("::")
        .local_port(args.port)
        .backlog(args.backlog)
        .external_format(ExternalFormat::UTF8_CRLF)
        .build_passive()
    {
        Ok(s) => s,
        Err(SocketError::AddressInUse) => common::address_in_use(),
        Err(e) => common::fail("make-socket", e),
    };
    let (host, port) = server
        .local_name()
        .unwrap_or_else(|e| common::fail("local-name", e));
    println!("Listening on socket bound to: [{host}]:{port}");
    let mut server = Acceptor::new(server);
    let _ = std::io::Write::flush(&mut std::io::stdout());
    while let Some(mut client) = shutdown.accept(&mut server) {
        if let Ok((who, rport)) = client.remote_name() {
            let note = match &who {
                Address::Ipv6(a) if a.is_ipv4_mapped() => " (an IPv4 client, mapped)",
                _ => "",
            };
            say!(args, "Got a connection from [{who}]:{rport}{note}!");
        }
        match writeln!(client, "{}", common::daytime()).and_then(|_| client.finish_output()) {
            Ok(()) => {}
            Err(SocketError::ConnectionReset) => say!(args, "Client reset connection!"),
            Err(SocketError::Hangup) => say!(args, "Client closed connection!"),
            Err(e) => eprintln!("write to client: {e}"),
        }
    }
    say!(args, "Server Exited");
}
