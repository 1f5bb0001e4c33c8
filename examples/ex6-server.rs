//! ex6-server: a single-threaded echo server on the multiplexer; each client's read handler
//! reads a line and writes it straight back, blocking (section 2.6.2). A client that sends
//! half a line stalls everyone: ex8-server fixes that with non-blocking I/O.
//!
//! What the blocking costs, bounded: a read or write waits at most [`STALL`] in all for one
//! client (`common::read_line_within`, `common::finish_output_within`), however it trickles
//! its bytes. A client stalled mid-line keeps its partial line buffered and is read again when
//! more arrives; a client that does not read its echoes within [`STALL`] is dropped. So the
//! other clients (and SIGINT/SIGTERM) wait at most that long for one slow client.
//! Walkthrough: docs/TUTORIAL.md#ex6-server

mod common;

use common::ClientConn;
use iolib::prelude::*;
use std::os::fd::RawFd;
use std::time::Duration;

/// The longest one client's blocking read or write may hold up the server.
const STALL: Duration = Duration::from_millis(500);

/// One client connection: the socket and who it is (the table entry of the Lisp's
/// `*ex6-server-open-connections*`, owned by the event base).
struct Connection {
    socket: ActiveSocket,
    peer: common::Peer,
}

impl ClientConn for Connection {
    fn socket(&mut self) -> &mut ActiveSocket {
        &mut self.socket
    }
    fn peer(&self) -> &common::Peer {
        &self.peer
    }
}

/// The disconnector: removes all the handlers, closes the socket and forgets the connection.
fn disconnect(base: &mut EventBase, fd: RawFd, conn: &mut Connection) {
    if !conn.peer.quiet {
        println!("Closing connection to {}:{}", conn.peer.who, conn.peer.port);
    }
    base.remove_fd_handlers(fd, Handlers::ALL);
    let _ = conn.socket.close();
    base.remove_fd_state(fd);
}

/// Reads a line, then echoes it right back onto the socket it came from. Blocking I/O: this
/// code can suffer the denial of service on page 167 of Stevens' book.
fn ex6_server_line_echoer(
    base: &mut EventBase,
    conn: &mut Connection,
    fd: RawFd,
    _event: Event,
    exception: Option<Exception>,
) -> HandlerResult {
    let (who, port, quiet) = (conn.peer.who.clone(), conn.peer.port, conn.peer.quiet);
    let mut next = if exception == Some(Exception::Error) {
        Err(SocketError::ConnectionReset)
    } else {
        // Read a line from the client: blocking, at most STALL in all.
        common::read_line_within(&mut conn.socket, STALL)
    };
    loop {
        let line = match next {
            Ok(Some(line)) => line,
            Ok(None) => return Ok(()),
            // Handle the usual and common conditions we'll see while talking to a client.
            Err(SocketError::ConnectionReset) => {
                if !quiet {
                    println!("Client's connection was reset by peer.");
                }
                disconnect(base, fd, conn);
                return Ok(());
            }
            Err(SocketError::EndOfFile) => {
                if !quiet {
                    println!("Client went away on a read.");
                }
                disconnect(base, fd, conn);
                return Ok(());
            }
            // Anything else ends this client alone (the server's failure policy logs it).
            Err(e) => return Err(e.into()),
        };
        if !quiet {
            println!("Read {who}:{port}: {line}");
        }
        let written = writeln!(conn.socket, "{line}")
            .and_then(|_| common::finish_output_within(&mut conn.socket, STALL));
        match written {
            Ok(()) => {}
            Err(SocketError::Hangup) | Err(SocketError::ConnectionReset) => {
                if !quiet {
                    println!("Client went away on a write.");
                }
                disconnect(base, fd, conn);
                return Ok(());
            }
            Err(SocketError::Timeout(_)) => {
                eprintln!("Client {who}:{port} does not read its echoes; closing it.");
                disconnect(base, fd, conn);
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        }
        if !quiet {
            println!("Wrote {who}:{port}: {line}");
        }
        // Close the connection to the client if it asked to quit.
        if line == "quit" {
            if !quiet {
                println!("Client requested quit!");
            }
            disconnect(base, fd, conn);
            return Ok(());
        }
        // Lines already in the socket's buffer would not wake the multiplexer: take them.
        // Only those, though: what is still in the kernel makes the fd readable for the next
        // round, so a client that floods lines cannot keep the others waiting.
        if !conn.socket.has_buffered_line() {
            return Ok(());
        }
        next = conn.socket.read_line_no_hang();
    }
}

/// The second half of the listener handler: save the client and set up its line echoer.
fn on_client(
    base: &mut EventBase,
    client: ActiveSocket,
    who: Address,
    port: u16,
    args: &common::Args,
) -> HandlerResult {
    let fd = client.socket_os_fd().unwrap_or(-1);
    say!(args, "Creating line-echoer for {who}:{port}");
    let mut client = client;
    // The write side of `writeln!` flushes a full buffer itself: bound that wait too.
    client.set_write_timeout(Some(STALL));
    base.set_fd_state(
        fd,
        Connection {
            socket: client,
            peer: common::Peer {
                who,
                port,
                quiet: args.quiet,
            },
        },
    )?;
    base.set_stateful_io_handler(fd, Event::Read, IoOptions::new(), ex6_server_line_echoer)?;
    Ok(())
}

/// The entrance function into this example.
fn main() {
    let args = common::server_args();
    common::serve_multiplexed::<Connection>(&args, on_client);
}
