//! What ex5a-client and ex5b-client share (sections 2.5.2–2.5.3): the tutorial presents ex5b
//! as a difference to ex5a, and so do we. Everything but what happens at stdin's end of file
//! is here; each client supplies that as its `on_eof`.
//!
//! The Lisp closes over `socket` in a read closure, a write closure and a disconnector. Here
//! the socket lives in the event base as the fd's state, and both handlers get `&mut` to it.

use super::StdinLines;
use iolib::prelude::*;
use std::os::fd::{AsFd, RawFd};

/// What the handlers share (the Lisp closures' lexical environment).
pub struct Client {
    /// The socket to the server.
    pub socket: ActiveSocket,
    /// Our stdin, buffered so the write handler can tell whether a line is waiting.
    pub stdin: StdinLines,
    /// The example's name, for messages: `ex5a`, `ex5b`.
    pub name: &'static str,
    /// What to do when stdin ends.
    pub on_eof: fn(&mut EventBase, RawFd, &mut Client),
}

/// The disconnector: removes the handlers named in `events` (all when empty) and, with
/// `close`, closes the socket (without flushing: the connection may already be gone).
pub fn disconnect(
    base: &mut EventBase,
    fd: RawFd,
    client: &mut Client,
    events: &[Event],
    close: bool,
) {
    println!("Disconnecting socket: {}", client.socket);
    if events.is_empty() {
        base.remove_fd_handlers(fd, Handlers::ALL);
    }
    for ev in events {
        base.remove_fd_handlers(fd, Handlers::from(*ev));
    }
    if close {
        client.socket.close_abort();
        base.remove_fd_state(fd);
    }
}

/// Called when the socket to the server is writable: send it a line from stdin.
fn str_cli_write(
    base: &mut EventBase,
    client: &mut Client,
    fd: RawFd,
    _event: Event,
    _exception: Option<Exception>,
) -> HandlerResult {
    // If the server already answered or closed, let the read handler see that first, as
    // IOLib's client sees the end-of-file on its read rather than writing into a closed
    // connection. Reading stdin blocks; if the server speaks meanwhile, the same.
    if isys::fd_readable(client.socket.as_fd()).unwrap_or(false)
        || !client.stdin.wait_line_or_readable(&client.socket)
    {
        return Ok(());
    }
    let Some(line) = client.stdin.read_line() else {
        println!(
            "make-{}-str-cli-write: User performed end-of-file!",
            client.name
        );
        (client.on_eof)(base, fd, client);
        return Ok(());
    };
    match writeln!(client.socket, "{line}").and_then(|_| client.socket.finish_output()) {
        Ok(()) => Ok(()),
        Err(SocketError::Hangup) | Err(SocketError::ConnectionReset) => {
            // What the server sent before it closed comes first: an orderly close is an
            // end-of-file on the read side.
            if let Err(SocketError::EndOfFile) = client.socket.read_line_no_hang() {
                println!(
                    "make-{}-str-cli-read: server closed connection on read!",
                    client.name
                );
                disconnect(base, fd, client, &[], true);
                return Ok(());
            }
            println!(
                "make-{}-str-cli-write: server closed connection on write!",
                client.name
            );
            disconnect(base, fd, client, &[], true);
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// Called when the socket from the server is readable: print the server's lines.
fn str_cli_read(
    base: &mut EventBase,
    client: &mut Client,
    fd: RawFd,
    _event: Event,
    _exception: Option<Exception>,
) -> HandlerResult {
    // When the server is done (after "quit", or after our half-close) we see end-of-file.
    let mut result = client.socket.read_line().map(Some);
    loop {
        match result {
            Ok(Some(line)) => println!("{line}"),
            Ok(None) => return Ok(()),
            Err(SocketError::EndOfFile) | Err(SocketError::ConnectionReset) => {
                println!(
                    "make-{}-str-cli-read: server closed connection on read!",
                    client.name
                );
                disconnect(base, fd, client, &[], true);
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        }
        // Lines already buffered would not wake the multiplexer: print them now.
        result = client.socket.read_line_no_hang();
    }
}

fn run_helper(
    base: &mut EventBase,
    host: &str,
    port: u16,
    name: &'static str,
    on_eof: fn(&mut EventBase, RawFd, &mut Client),
) -> Result<(), SocketError> {
    // Not a scoped socket: the handlers decide when to close it.
    let socket = super::connect_to_server(host, port)?;
    let fd = socket.socket_os_fd().unwrap_or(-1);
    let client = Client {
        socket,
        stdin: StdinLines::default(),
        name,
        on_eof,
    };
    let setup = base
        .set_fd_state(fd, client)
        .and_then(|_| base.set_stateful_io_handler(fd, Event::Read, IoOptions::new(), str_cli_read))
        .and_then(|_| {
            base.set_stateful_io_handler(fd, Event::Write, IoOptions::new(), str_cli_write)
        });
    if let Err(e) = setup {
        super::fail("set-io-handler", e);
    }

    // Keep processing input and output on the fd by calling the handlers as the socket
    // becomes ready; they close the socket at the right time.
    if let Err(e) = base.event_dispatch(DispatchOptions::default()) {
        // We'll notify the user if a handler missed catching common conditions.
        match e.handler_error_as::<SocketError>() {
            Some(SocketError::Hangup) => {
                println!("Uncaught hangup. Server closed connection on write!")
            }
            Some(SocketError::EndOfFile) => {
                println!("Uncaught end-of-file. Server closed connection on read!")
            }
            _ => eprintln!("event-dispatch: {e}"),
        }
    }
    // Cleanup: close the socket if a handler did not (safe to do more than once).
    println!("Client safely closing open socket to server.");
    if let Some(mut client) = base.take_fd_state::<Client>(fd) {
        client.socket.close_abort();
    }
    Ok(())
}

/// The entry point of both clients: the event base leaves its loop when no handlers remain.
pub fn main(name: &'static str, on_eof: fn(&mut EventBase, RawFd, &mut Client)) -> ! {
    let args = super::client_args();
    let mut base = EventBase::builder()
        .exit_when_empty(true)
        .build()
        .unwrap_or_else(|e| super::fail("event-base", e));
    let code = match run_helper(&mut base, &args.host, args.port, name, on_eof) {
        Ok(()) => 0,
        Err(SocketError::ConnectionRefused) => {
            super::say_connection_refused(&args.host, args.port);
            1
        }
        Err(e) => {
            eprintln!("{name}-client: {e}");
            1
        }
    };
    // Clean up the event base however we left the client algorithm.
    base.close();
    println!("Client Exited.");
    std::process::exit(code);
}
