//! nonblocking-connect: connect to several servers at once with non-blocking connects and
//! one event base (tutorial's "Future Directions": non-blocking connects, the "web client
//! connecting to many servers" it mentions). Each target's outcome is printed as it lands.
//!
//! `nonblocking-connect --port P1 --port P2 ... [--host H]`; exits 0 if every connect
//! succeeded, 1 otherwise.
//! Walkthrough: docs/TUTORIAL.md#non-blocking-connects

mod common;

use iolib::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Connects that failed (counted from the handlers too).
static FAILURES: AtomicUsize = AtomicUsize::new(0);

struct Pending {
    socket: ActiveSocket,
    target: String,
}

fn main() {
    let mut host = common::DEFAULT_HOST.to_string();
    let mut ports = Vec::new();
    let mut argv = std::env::args().skip(1);
    while let Some(a) = argv.next() {
        match (a.as_str(), argv.next()) {
            ("--host", Some(h)) => host = h,
            ("--port", Some(p)) => ports.push(
                p.parse::<u16>()
                    .unwrap_or_else(|_| common::fail("bad port", p)),
            ),
            _ => common::fail(
                "usage",
                "nonblocking-connect [--host H] --port P [--port P ...]",
            ),
        }
    }
    let addr = common::resolve_ipv4(&host).unwrap_or_else(|e| common::fail("lookup-hostname", e));
    let mut base = EventBase::builder()
        .exit_when_empty(true)
        .build()
        .unwrap_or_else(|e| common::fail("event-base", e));
    for port in ports {
        let target = format!("{addr}:{port}");
        let mut socket = ActiveSocket::new(Family::Ipv4, ExternalFormat::UTF8_CRLF)
            .unwrap_or_else(|e| common::fail("make-socket", e));
        // :wait nil — start the connect and come back at once.
        match socket.connect(&addr, port, Wait::No) {
            Ok(true) => println!("{target}: connected at once"),
            Ok(false) => {
                println!("{target}: connect in progress");
                let fd = socket.socket_os_fd().unwrap_or(-1);
                let setup = base
                    .set_fd_state(fd, Pending { socket, target })
                    .and_then(|_| {
                        // Writable means the connect finished, one way or the other; give up after 5 s.
                        base.set_stateful_io_handler(
                            fd,
                            Event::Write,
                            IoOptions::new().timeout(Duration::from_secs(5)),
                            |base, p: &mut Pending, fd, _, exc| {
                                let outcome = if exc == Some(Exception::Timeout) {
                                    Err("timed out".to_string())
                                } else {
                                    match p.socket.socket_option(OptionName::Error) {
                                        Ok(SocketOption::Error(None)) => Ok(()),
                                        Ok(SocketOption::Error(Some(e))) => {
                                            Err(SocketError::from_errno("connect", e).to_string())
                                        }
                                        Ok(_) => Ok(()),
                                        Err(e) => Err(e.to_string()),
                                    }
                                };
                                match outcome {
                                    Ok(()) => println!("{}: connected", p.target),
                                    Err(e) => {
                                        println!("{}: failed: {e}", p.target);
                                        FAILURES.fetch_add(1, Ordering::SeqCst);
                                    }
                                }
                                base.remove_fd_handlers(fd, Handlers::ALL);
                                base.remove_fd_state(fd);
                                Ok(())
                            },
                        )
                    });
                if let Err(e) = setup {
                    common::fail("set-io-handler", e);
                }
            }
            Err(e) => {
                println!("{target}: failed: {e}");
                FAILURES.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
    if let Err(e) = base.event_dispatch(DispatchOptions::default()) {
        common::fail("event-dispatch", e);
    }
    std::process::exit(if FAILURES.load(Ordering::SeqCst) > 0 {
        1
    } else {
        0
    });
}
