//! udp-echo-server: a datagram echo server on the multiplexer, from the tutorial's "Future
//! Directions" (UDP examples). Each datagram goes back to its sender.
//! Walkthrough: docs/TUTORIAL.md#udp-echo

mod common;

use iolib::prelude::*;

fn main() {
    let args = common::server_args();
    let socket = make_socket()
        .kind(SocketKind::Datagram)
        .build_datagram()
        .unwrap_or_else(|e| common::fail("make-socket", e));
    match socket.bind_address(IPV4_UNSPECIFIED, args.port, true) {
        Ok(()) => {}
        Err(SocketError::AddressInUse) => common::address_in_use(),
        Err(e) => common::fail("bind-address", e),
    }
    let (host, port) = socket
        .local_name()
        .unwrap_or_else(|e| common::fail("local-name", e));
    println!("Listening on socket bound to: {host}:{port}");

    let mut base = EventBase::new().unwrap_or_else(|e| common::fail("event-base", e));
    let fd = socket.socket_os_fd().unwrap_or(-1);
    let quiet = args.quiet;
    let setup = base.set_fd_state(fd, socket).and_then(|_| {
        base.set_stateful_io_handler(
            fd,
            Event::Read,
            IoOptions::new(),
            move |_, socket: &mut DatagramSocket, _, _, _| {
                let mut buf = [0u8; 65_536];
                // Drain every datagram waiting now; each is one receive_from.
                loop {
                    match socket.receive_from(&mut buf, MsgFlags::empty()) {
                        Ok((n, Some((who, port)))) => {
                            if !quiet {
                                println!("Echoing {n} bytes to {who}:{port}");
                            }
                            if let Err(e) =
                                socket.send_to(&buf[..n], Some((&who, port)), MsgFlags::empty())
                            {
                                eprintln!("send-to {who}:{port}: {e}");
                            }
                        }
                        Ok((_, None)) => {}
                        Err(e) if e.is_would_block() => return Ok(()),
                        // An ICMP error from an earlier send (the peer's port closed): not fatal.
                        Err(SocketError::ConnectionRefused) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
            },
        )
    });
    if let Err(e) = setup {
        common::fail("set-io-handler", e);
    }
    common::exit_loop_on_signals(&mut base);
    if let Err(e) = base.event_dispatch(DispatchOptions::default()) {
        common::fail("event-dispatch", e);
    }
    say!(args, "Server Exited");
}
