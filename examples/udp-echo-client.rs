//! udp-echo-client: sends each stdin line as a datagram and prints the echo (tutorial's
//! "Future Directions": UDP). Datagrams can be lost: each waits up to a second, three tries.
//! Walkthrough: docs/TUTORIAL.md#udp-echo

mod common;

use iolib::prelude::*;
use std::time::Duration;

fn main() {
    let args = common::client_args();
    let addr =
        common::resolve_ipv4(&args.host).unwrap_or_else(|e| common::fail("lookup-hostname", e));
    let socket = make_socket()
        .kind(SocketKind::Datagram)
        .local_host("0.0.0.0")
        .local_port(0)
        .build_datagram()
        .unwrap_or_else(|e| common::fail("make-socket", e));
    // A connected datagram socket only hears from its peer, and learns of ICMP refusals.
    socket
        .connect(&addr, args.port)
        .unwrap_or_else(|e| common::fail("connect", e));
    let mut stdin = common::StdinLines::default();
    let mut buf = [0u8; 65_536];
    while let Some(line) = stdin.read_line() {
        let mut answered = false;
        for _ in 0..3 {
            match socket.send_to(line.as_bytes(), None, MsgFlags::empty()) {
                Ok(_) => {}
                Err(SocketError::ConnectionRefused) => {
                    common::connection_refused(&args.host, args.port)
                }
                Err(e) => common::fail("send-to", e),
            }
            match socket.wait_readable(Some(Duration::from_secs(1))) {
                Ok(true) => {}
                Ok(false) => continue,
                // The ICMP "port unreachable" for our datagram.
                Err(SocketError::ConnectionRefused) => {
                    common::connection_refused(&args.host, args.port)
                }
                Err(e) => common::fail("wait", e),
            }
            match socket.receive_from(&mut buf, MsgFlags::empty()) {
                Ok((n, _)) => {
                    println!("{}", String::from_utf8_lossy(&buf[..n]));
                    answered = true;
                    break;
                }
                Err(SocketError::ConnectionRefused) => {
                    common::connection_refused(&args.host, args.port)
                }
                Err(e) if e.is_would_block() => continue,
                Err(e) => common::fail("receive-from", e),
            }
        }
        if !answered {
            println!("No answer for {line:?} after 3 tries.");
            std::process::exit(1);
        }
    }
}
