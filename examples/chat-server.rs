//! chat-server: a line chat on the event base. Every line a client sends goes to every
//! other client as `[HOST:PORT] line`; a client silent for `CHAT_IDLE_SECONDS` (default 300) is
//! told so and disconnected (the read handler's inactivity timeout); a failing client is
//! dropped alone (`drop_failing_peers`); SIGINT/SIGTERM end the loop after telling every
//! client and closing its socket.
//!
//! ```text
//! CHAT_IDLE_SECONDS=60 cargo run --example chat-server -- --port 0
//! cargo run --example chat-client -- --port PORT
//! ```

mod common;

use iolib::prelude::*;
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::os::fd::RawFd;
use std::rc::Rc;
use std::time::Duration;

/// A connected client: its socket and the name its lines are shown under.
struct Client {
    socket: ActiveSocket,
    name: String,
}

/// The fds of the connected clients, for broadcasting; a client's socket is its fd's state.
type Members = Rc<RefCell<BTreeSet<RawFd>>>;

/// Output a client may leave unread before it is dropped as too slow. Below the output
/// buffer's size, so `write_line` never flushes (and waits) on its own.
const MAX_UNREAD: usize = sockets::DEFAULT_BUFFER_SIZE / 2;

/// The longest line a client may send: with its sender's name in front it stays well under
/// [`MAX_UNREAD`].
const MAX_LINE: usize = MAX_UNREAD / 2;

/// Lines read from the kernel per readiness at most (lines already buffered are always
/// taken: nothing else would wake us for them), so a flood cannot keep the others waiting.
const LINES_PER_CALL: usize = 64;

/// Sends `line` to every client but `from`, never waiting: a client that has left more than
/// [`MAX_UNREAD`] bytes unread, or whose connection failed, is dropped, so a slow reader never
/// blocks the others.
fn broadcast(base: &mut EventBase, members: &Members, from: RawFd, line: &str) {
    let fds: Vec<RawFd> = members.borrow().iter().copied().collect();
    for fd in fds.into_iter().filter(|&fd| fd != from) {
        if let Some(other) = base.fd_state_mut::<Client>(fd) {
            let sent = if other.socket.buffered_output() + line.len() + 2 > MAX_UNREAD {
                Err(SocketError::Timeout(Duration::ZERO))
            } else {
                other
                    .socket
                    .write_line(line)
                    .and_then(|()| other.socket.force_output())
                    .map(|_| ())
            };
            if sent.is_err() {
                leave(base, members, fd, None);
            }
        }
    }
}

/// Removes a client: its handlers, its state (closing the socket), its membership.
fn leave(base: &mut EventBase, members: &Members, fd: RawFd, farewell: Option<&str>) {
    members.borrow_mut().remove(&fd);
    base.remove_fd_handlers(fd, Handlers::ALL);
    if let Some(mut client) = base.take_fd_state::<Client>(fd) {
        if let Some(text) = farewell {
            let _ = client.socket.write_line(text);
            let _ = client.socket.force_output();
        }
        // Without waiting: what a slow reader has not taken is dropped.
        client.socket.close_abort();
    }
}

/// The idle timeout: `CHAT_IDLE_SECONDS` (default 300).
fn idle_timeout() -> Duration {
    match std::env::var("CHAT_IDLE_SECONDS") {
        Err(_) => Duration::from_secs(300),
        Ok(v) => match v.parse::<f64>() {
            Ok(s) if s > 0.0 => Duration::from_secs_f64(s),
            _ => common::fail("CHAT_IDLE_SECONDS", "needs a positive number of seconds"),
        },
    }
}

fn main() {
    let idle = idle_timeout();
    let args = common::server_args();
    let quiet = args.quiet;
    let server = common::make_server(&args);
    let mut base = EventBase::new().unwrap_or_else(|e| common::fail("event-base", e));
    base.set_handler_error_policy(drop_failing_peers);
    let members: Members = Rc::default();
    let m = members.clone();
    Listener::new(server)
        .register(&mut base, move |base, socket| {
            // A line is refused from its sender (a per-peer LineTooLong) before it could
            // count against the recipients' MAX_UNREAD.
            let mut socket = socket;
            socket.set_max_line_length(MAX_LINE);
            let name = match socket.remote_name() {
                Ok((host, port)) => format!("{host}:{port}"),
                Err(_) => "?".into(),
            };
            if !quiet {
                println!("{name} joined");
            }
            let fd = socket.socket_os_fd().unwrap_or(-1);
            let joined = format!("* {name} joined");
            broadcast(base, &m, fd, &joined);
            m.borrow_mut().insert(fd);
            base.set_fd_state(fd, Client { socket, name })?;
            let members = m.clone();
            base.set_stateful_io_handler(
                fd,
                Event::Read,
                IoOptions::new().timeout(idle),
                move |base, client: &mut Client, fd, _event, exception| {
                    if exception == Some(Exception::Timeout) {
                        if !quiet {
                            println!("{} idle, disconnected", client.name);
                        }
                        let gone = format!("* {} left (idle)", client.name);
                        let _ = client.socket.write_line("* idle too long, goodbye");
                        let _ = client.socket.force_output();
                        base.remove_fd_handlers(fd, Handlers::ALL);
                        members.borrow_mut().remove(&fd);
                        broadcast(base, &members, fd, &gone);
                        // The state goes with the fd once the handler returns.
                        base.remove_fd_state(fd);
                        return Ok(());
                    }
                    for n in 0.. {
                        if n >= LINES_PER_CALL && !client.socket.has_buffered_line() {
                            break;
                        }
                        match client.socket.read_line_no_hang() {
                            Ok(Some(line)) => {
                                let said = format!("[{}] {line}", client.name);
                                broadcast(base, &members, fd, &said);
                            }
                            Ok(None) => return Ok(()),
                            Err(SocketError::EndOfFile) => {
                                if !quiet {
                                    println!("{} left", client.name);
                                }
                                let gone = format!("* {} left", client.name);
                                base.remove_fd_handlers(fd, Handlers::ALL);
                                members.borrow_mut().remove(&fd);
                                broadcast(base, &members, fd, &gone);
                                base.remove_fd_state(fd);
                                return Ok(());
                            }
                            Err(e) => {
                                members.borrow_mut().remove(&fd);
                                return Err(e.into());
                            }
                        }
                    }
                    // More may wait in the kernel: the fd stays readable for the next round.
                    Ok(())
                },
            )?;
            Ok(())
        })
        .unwrap_or_else(|e| common::fail("listener", e));
    common::exit_loop_on_signals(&mut base);
    let outcome = base.event_dispatch(DispatchOptions::default());
    let remaining = std::mem::take(&mut *members.borrow_mut());
    for fd in remaining {
        leave(&mut base, &members, fd, Some("* server shutting down"));
    }
    if let Err(e) = outcome {
        common::fail("event-dispatch", e);
    }
}
