//! urgent-data: TCP urgent (out-of-band) data, from the tutorial's "Future Directions".
//! One process, a connection over loopback: the sender interleaves one urgent byte with
//! normal data; the receiver reads the normal stream and fetches the urgent byte apart with
//! `MsgFlags::OUT_OF_BAND` (or inline, with the `OobInline` option).
//! Walkthrough: docs/TUTORIAL.md#urgent-data

mod common;

use iolib::prelude::*;
use std::time::Duration;

fn main() {
    let server = make_socket()
        .connect(Connect::Passive)
        .local_host("127.0.0.1")
        .local_port(0)
        .build_passive()
        .unwrap_or_else(|e| common::fail("make-socket", e));
    let port = server
        .local_port()
        .unwrap_or_else(|e| common::fail("local-port", e));
    let sender = make_socket()
        .remote_host("127.0.0.1")
        .remote_port(port)
        .nodelay(true)
        .build_active()
        .unwrap_or_else(|e| common::fail("connect", e));
    let mut receiver = server
        .accept_connection(Wait::For(Duration::from_secs(5)))
        .unwrap_or_else(|e| common::fail("accept", e))
        .unwrap_or_else(|| common::fail("accept", "no connection"));

    // Normal bytes, one urgent byte, more normal bytes.
    for (bytes, flags) in [
        (&b"abc"[..], MsgFlags::empty()),
        (b"!", MsgFlags::OUT_OF_BAND),
        (b"def", MsgFlags::empty()),
    ] {
        sender
            .send_to(bytes, flags)
            .unwrap_or_else(|e| common::fail("send-to", e));
    }
    println!("Sent \"abc\", urgent \"!\", \"def\"");

    // The urgent byte is kept apart from the stream (SO_OOBINLINE off, the default).
    let mut urgent = [0u8; 1];
    let mut normal = Vec::new();
    let mut got_urgent = None;
    let mut buf = [0u8; 64];
    while normal.len() < 6 || got_urgent.is_none() {
        if got_urgent.is_none() {
            match receiver.receive_from(&mut urgent, MsgFlags::OUT_OF_BAND) {
                Ok(1) => got_urgent = Some(urgent[0] as char),
                Ok(_) => {}
                // Not arrived yet, or the read position is not at the mark yet.
                Err(e) if e.is_would_block() || e.errno() == Some(Errno::EINVAL) => {}
                Err(e) => common::fail("receive-from (urgent)", e),
            }
        }
        if normal.len() < 6 {
            match receiver.receive_from(&mut buf, MsgFlags::empty()) {
                Ok(0) => break,
                Ok(n) => normal.extend_from_slice(&buf[..n]),
                Err(e) if e.is_would_block() => {
                    let _ = receiver.wait_readable(Some(Duration::from_millis(50)));
                }
                Err(e) => common::fail("receive-from", e),
            }
        } else {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    println!(
        "Normal data: {:?}, urgent byte: {:?}",
        String::from_utf8_lossy(&normal),
        got_urgent.map(String::from).unwrap_or_default()
    );
    let _ = receiver.close();
}
