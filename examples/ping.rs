//! ping: ICMP echo through the socket layer's raw sockets (IOLib's `:type :raw :protocol
//! :icmp`). Sends `PING_COUNT` (default 3) echo requests to `--host`, one a second, and
//! prints each reply with its round-trip time. Raw sockets need root (or `CAP_NET_RAW`);
//! without it ping says so and exits with status 1.
//!
//! ```text
//! sudo cargo run --example ping -- --host 127.0.0.1
//! ```

mod common;

use iolib::prelude::*;
use std::time::{Duration, Instant};

const ICMP_ECHO_REQUEST: u8 = 8;
const ICMP_ECHO_REPLY: u8 = 0;

/// The Internet checksum (RFC 1071) of `data`.
fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An echo request: type, code, checksum, identifier, sequence number, then a payload.
fn echo_request(id: u16, seq: u16) -> Vec<u8> {
    let mut packet = vec![ICMP_ECHO_REQUEST, 0, 0, 0];
    packet.extend_from_slice(&id.to_be_bytes());
    packet.extend_from_slice(&seq.to_be_bytes());
    packet.extend_from_slice(b"iolib-rs ping payload, 40 bytes long....");
    let sum = checksum(&packet);
    packet[2..4].copy_from_slice(&sum.to_be_bytes());
    packet
}

/// The (identifier, sequence) of an echo reply in an IPv4 packet, header included.
fn parse_reply(packet: &[u8]) -> Option<(u16, u16, usize)> {
    let ihl = usize::from(packet.first()? & 0x0f) * 4;
    let icmp = packet.get(ihl..)?;
    if icmp.len() < 8 || icmp[0] != ICMP_ECHO_REPLY {
        return None;
    }
    let id = u16::from_be_bytes([icmp[4], icmp[5]]);
    let seq = u16::from_be_bytes([icmp[6], icmp[7]]);
    Some((id, seq, icmp.len()))
}

fn main() {
    let args = common::client_args();
    let count: u16 = std::env::var("PING_COUNT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let target = common::resolve_ipv4(&args.host).unwrap_or_else(|e| common::fail("lookup", e));
    let socket = match make_socket()
        .kind(SocketKind::Raw)
        .protocol("icmp")
        .build_raw()
    {
        Ok(s) => s,
        Err(e) if matches!(e.errno(), Some(Errno::EPERM | Errno::EACCES)) => {
            eprintln!("ping: raw sockets need root or CAP_NET_RAW ({e})");
            std::process::exit(1);
        }
        Err(e) => common::fail("make-socket", e),
    };
    println!("PING {} ({target})", args.host);
    let id = (std::process::id() & 0xffff) as u16;
    let mut received = 0;
    let mut buf = [0u8; 1500];
    for seq in 1..=count {
        let sent_at = Instant::now();
        if let Err(e) = socket.send_to(&echo_request(id, seq), &target, MsgFlags::empty()) {
            common::fail("send-to", e);
        }
        let deadline = sent_at + Duration::from_secs(1);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match socket.wait_readable(Some(left)) {
                Ok(true) => {}
                Ok(false) => {
                    println!("no reply for icmp_seq={seq}");
                    break;
                }
                Err(e) => common::fail("wait", e),
            }
            let (n, from) = match socket.receive_from(&mut buf, MsgFlags::empty()) {
                Ok(r) => r,
                Err(e) if e.is_would_block() => continue,
                Err(e) => common::fail("receive-from", e),
            };
            // A raw ICMP socket sees every ICMP packet: keep only our replies.
            if let Some((rid, rseq, len)) = parse_reply(&buf[..n]) {
                if rid == id && rseq == seq {
                    let ms = sent_at.elapsed().as_secs_f64() * 1000.0;
                    let from = from.map_or("?".into(), |a| a.to_string());
                    println!("{len} bytes from {from}: icmp_seq={seq} time={ms:.3} ms");
                    received += 1;
                    break;
                }
            }
        }
        if seq < count {
            std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
        }
    }
    println!("{count} packets transmitted, {received} received");
    if received == 0 {
        std::process::exit(1);
    }
}
