//! chat-client: the chat server's client, on the event base. Two read handlers: one on
//! stdin (an `FdStream`, non-blocking like the socket) sends each typed line to the server,
//! one on the socket prints what the others said. At stdin's end of file it stops reading
//! stdin and goes on printing until the server closes the connection (to the chat server a
//! half-close is leaving) or SIGINT/SIGTERM.
//!
//! ```text
//! cargo run --example chat-client -- --host localhost --port PORT
//! ```

mod common;

use iolib::prelude::*;
use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;

fn main() {
    let args = common::client_args();
    let socket = match common::connect_to_server(&args.host, args.port) {
        Ok(s) => s,
        Err(SocketError::ConnectionRefused) => common::connection_refused(&args.host, args.port),
        Err(e) => common::fail("connect", e),
    };
    let stdin =
        FdStream::stdin(ExternalFormat::UTF8_CRLF).unwrap_or_else(|e| common::fail("stdin", e));
    let mut base = EventBase::new().unwrap_or_else(|e| common::fail("event-base", e));
    let sfd = socket.as_raw_fd();
    let ifd = stdin.as_raw_fd();
    base.set_fd_state(sfd, socket)
        .unwrap_or_else(|e| common::fail("event-base", e));
    base.set_fd_state(ifd, stdin)
        .unwrap_or_else(|e| common::fail("event-base", e));

    // What the server says: print it; its end of file ends the client.
    base.set_stateful_io_handler(
        sfd,
        Event::Read,
        IoOptions::new(),
        |base, socket: &mut ActiveSocket, _fd: RawFd, _, _| loop {
            match socket.read_line_no_hang() {
                Ok(Some(line)) => common::print_flush(&format!("{line}\n")),
                Ok(None) => return Ok(()),
                Err(SocketError::EndOfFile) => {
                    base.exit_event_loop(Duration::ZERO);
                    return Ok(());
                }
                Err(e) => return Err(e.into()),
            }
        },
    )
    .unwrap_or_else(|e| common::fail("event-base", e));

    // What the user types: send it; at end of file, stop watching stdin.
    base.set_stateful_io_handler(
        ifd,
        Event::Read,
        IoOptions::new(),
        move |base, stdin: &mut FdStream, fd: RawFd, _, _| {
            let mut done = false;
            let mut lines = Vec::new();
            loop {
                match stdin.read_line_no_hang() {
                    Ok(Some(line)) => lines.push(line),
                    Ok(None) => break,
                    Err(SocketError::EndOfFile) => {
                        done = true;
                        break;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            if let Some(socket) = base.fd_state_mut::<ActiveSocket>(sfd) {
                for line in &lines {
                    socket.write_line(line)?;
                }
                socket.finish_output()?;
            }
            if done {
                base.remove_fd_handlers(fd, Handlers::ALL);
                base.remove_fd_state(fd);
            }
            Ok(())
        },
    )
    .unwrap_or_else(|e| common::fail("event-base", e));

    common::exit_loop_on_signals(&mut base);
    let outcome = base.event_dispatch(DispatchOptions::default());
    if let Some(mut socket) = base.take_fd_state::<ActiveSocket>(sfd) {
        let _ = socket.close();
    }
    drop(base.take_fd_state::<FdStream>(ifd));
    if let Err(e) = outcome {
        common::fail("event-dispatch", e);
    }
}
