//! ex5b-client: ex5a-client, except that at stdin's end of file it shuts down only the
//! write end of the socket and keeps reading until the server has sent everything back
//! (section 2.5.3). Pairs with ex7-server and ex8-server, which honour the half-close.
//!
//! The Lisp closes over `socket` in a read closure, a write closure and a disconnector. Here
//! the socket lives in the event base as the fd's state, and both handlers get `&mut` to it.

mod common;

use iolib::prelude::*;
use std::os::fd::RawFd;

/// What the handlers share (the Lisp closures' lexical environment).
struct Client {
    socket: ActiveSocket,
    stdin: common::StdinLines,
}

/// The disconnector: removes the handlers named in `events` (all when empty) and, with
/// `close`, closes the socket.
fn disconnect(base: &mut EventBase, fd: RawFd, client: &mut Client, events: &[Event], close: bool) {
    println!("Disconnecting socket: {}", client.socket);
    if events.is_empty() {
        base.remove_fd_handlers(fd, true, true, true);
    } else {
        for ev in events {
            base.remove_fd_handlers(
                fd,
                *ev == Event::Read,
                *ev == Event::Write,
                *ev == Event::Error,
            );
        }
    }
    // And finally, if we were asked to close the socket, we do so here (without flushing:
    // the connection may already be gone).
    if close {
        client.socket.close_abort();
        base.remove_fd_state(fd);
    }
}

/// Called when the socket to the server is writable: send it a line from stdin.
fn ex5b_str_cli_write(
    base: &mut EventBase,
    client: &mut Client,
    fd: RawFd,
    _event: Event,
    _exception: Option<Exception>,
) -> HandlerResult {
    // Reading stdin blocks; but if the server speaks first, let the read handler run.
    if !client.stdin.wait_line_or_readable(&client.socket) {
        return Ok(());
    }
    let line = match client.stdin.read_line() {
        Some(line) => line,
        None => {
            println!("make-ex5b-str-cli-write: User performed end-of-file!");
            // Shut down the write end to give the in-flight data the ability to reach the
            // server!
            println!("make-ex5b-str-cli-write: Shutting down write end of socket!");
            if let Err(e) = client.socket.shutdown(false, true) {
                println!("make-ex5b-str-cli-write: shutdown: {e}");
                disconnect(base, fd, client, &[], true);
                return Ok(());
            }
            // Since we've shut down the write end, remove this handler so we read no more
            // of stdin.
            disconnect(base, fd, client, &[Event::Write], false);
            return Ok(());
        }
    };
    match writeln!(client.socket, "{line}").and_then(|_| client.socket.finish_output()) {
        Ok(()) => Ok(()),
        Err(SocketError::Hangup) | Err(SocketError::ConnectionReset) => {
            println!("make-ex5b-str-cli-write: server closed connection on write!");
            disconnect(base, fd, client, &[], true);
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// Called when the socket from the server is readable: print the server's lines.
fn ex5b_str_cli_read(
    base: &mut EventBase,
    client: &mut Client,
    fd: RawFd,
    _event: Event,
    _exception: Option<Exception>,
) -> HandlerResult {
    // If we sent "quit", the server closes its connection and we see end-of-file.
    let mut result = client.socket.read_line().map(Some);
    loop {
        match result {
            Ok(Some(line)) => println!("{line}"),
            Ok(None) => return Ok(()),
            Err(SocketError::EndOfFile) | Err(SocketError::ConnectionReset) => {
                println!("make-ex5b-str-cli-read: server closed connection on read!");
                disconnect(base, fd, client, &[], true);
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        }
        // Lines already buffered would not wake the multiplexer: print them now.
        result = client.socket.read_line_no_hang();
    }
}

fn run_ex5b_client_helper(base: &mut EventBase, host: &str, port: u16) -> Result<(), SocketError> {
    // We do not use a scoped socket: the handlers decide when to close it.
    let mut socket = make_socket()
        .connect(Connect::Active)
        .family(AddressFamily::Internet)
        .kind(SocketKind::Stream)
        .external_format(ExternalFormat::UTF8_CRLF)
        .build_active()?;
    // Do a blocking connect to the echo server on the port.
    socket.connect(&common::resolve_ipv4(host)?, port, Wait::Forever)?;
    println!(
        "Connected to server {} via my local connection at {}!",
        common::hp(socket.remote_name()?),
        common::hp(socket.local_name()?)
    );
    let fd = socket.socket_os_fd().unwrap_or(-1);
    let setup = base
        .set_fd_state(
            fd,
            Client {
                socket,
                stdin: common::StdinLines::default(),
            },
        )
        .and_then(|_| {
            base.set_stateful_io_handler(fd, Event::Read, IoOptions::new(), ex5b_str_cli_read)
        })
        .and_then(|_| {
            base.set_stateful_io_handler(fd, Event::Write, IoOptions::new(), ex5b_str_cli_write)
        });
    if let Err(e) = setup {
        common::fail("set-io-handler", e);
    }

    // Keep processing input and output on the fd by calling the handlers as the socket
    // becomes ready; they close the socket at the right time.
    if let Err(e) = base.event_dispatch(DispatchOptions::default()) {
        // We'll notify the user if a handler missed catching common conditions.
        match e
            .handler_error()
            .and_then(|h| h.downcast_ref::<SocketError>())
        {
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

/// The entry point: the event base exits its loop when no handlers remain.
fn main() {
    let args = common::client_args();
    let mut base = EventBase::builder()
        .exit_when_empty(true)
        .build()
        .unwrap_or_else(|e| common::fail("event-base", e));
    let code = match run_ex5b_client_helper(&mut base, &args.host, args.port) {
        Ok(()) => 0,
        Err(SocketError::ConnectionRefused) => {
            println!(
                "Connection refused to {}:{}. Maybe the server isn't running?",
                common::host_for_message(&args.host),
                args.port
            );
            1
        }
        Err(e) => {
            eprintln!("ex5b-client: {e}");
            1
        }
    };
    // Clean up the event base however we left the client algorithm.
    base.close();
    println!("Client Exited.");
    std::process::exit(code);
}
