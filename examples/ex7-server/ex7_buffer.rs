//! ex7-buffer: the per-client io-buffer of ex7-server. The Lisp closes `read-a-line` and
//! `write-a-line` over shared lexical storage; here that storage is a struct owned by the
//! event base as the fd's state, and the two handlers get `&mut` to it.

use crate::common::{disconnect, finish_output_within, read_line_within, ClientConn, Peer};
use iolib::prelude::*;
use std::collections::VecDeque;
use std::os::fd::RawFd;
use std::time::Duration;

/// The longest one client's blocking read or write may hold up the server (the tutorial's
/// blocking `read-line` and `finish-output`, bounded so a stalled client, or SIGTERM, waits at
/// most this long).
pub const STALL: Duration = Duration::from_millis(500);

/// The io-buffer's storage.
pub struct Ex7IoBuffer {
    socket: ActiveSocket,
    peer: Peer,
    max_bytes: usize,
    line_queue: VecDeque<String>,
    bytes_left_to_write: usize,
    read_handler_registered: bool,
    write_handler_registered: bool,
    eof_seen: bool,
}

impl Ex7IoBuffer {
    /// The bytes of the line end each echoed line goes out with (CRLF: 2).
    fn line_end_len(&self) -> usize {
        self.socket.external_format().line_end.bytes().len()
    }
}

impl ClientConn for Ex7IoBuffer {
    fn socket(&mut self) -> &mut ActiveSocket {
        &mut self.socket
    }
    fn peer(&self) -> &Peer {
        &self.peer
    }
}

/// Creates the io-buffer for `socket` and registers its read and write handlers (the
/// tutorial's `(funcall io-buffer :read-a-line)` and `:write-a-line`).
pub fn make_ex7_io_buffer(
    base: &mut EventBase,
    socket: ActiveSocket,
    who: Address,
    port: u16,
    quiet: bool,
    max_bytes: usize,
) -> Result<(), iolib::iomux::Error> {
    let fd = socket.socket_os_fd().unwrap_or(-1);
    let mut socket = socket;
    // The write side of `writeln!` flushes a full buffer itself: bound that wait too.
    socket.set_write_timeout(Some(STALL));
    base.set_fd_state(
        fd,
        Ex7IoBuffer {
            socket,
            peer: Peer { who, port, quiet },
            max_bytes,
            line_queue: VecDeque::new(),
            bytes_left_to_write: 0,
            read_handler_registered: true,
            write_handler_registered: true,
            eof_seen: false,
        },
    )?;
    base.set_stateful_io_handler(fd, Event::Read, IoOptions::new(), read_a_line)?;
    base.set_stateful_io_handler(fd, Event::Write, IoOptions::new(), write_a_line)?;
    Ok(())
}

/// Reads lines into the queue. Registers the write handler when there is data to write;
/// unregisters itself when more than `max_bytes` wait to be written, or at end of file.
fn read_a_line(
    base: &mut EventBase,
    buf: &mut Ex7IoBuffer,
    fd: RawFd,
    _event: Event,
    exception: Option<Exception>,
) -> HandlerResult {
    let first = if exception == Some(Exception::Error) {
        Err(SocketError::ConnectionReset)
    } else {
        read_line_within(&mut buf.socket, STALL)
    };
    take_lines(base, buf, fd, first)
}

/// Queues `next` and every further line already buffered (lines in the socket's buffer do
/// not wake the multiplexer, so they must be taken whenever we read).
fn take_lines(
    base: &mut EventBase,
    buf: &mut Ex7IoBuffer,
    fd: RawFd,
    mut next: Result<Option<String>, SocketError>,
) -> HandlerResult {
    loop {
        match next {
            Ok(Some(line)) => {
                buf.peer.say(format_args!(
                    "Read from {}:{}: {line}",
                    buf.peer.who, buf.peer.port
                ));
                let quit = line == "quit";
                buf.bytes_left_to_write += line.len() + buf.line_end_len(); // with the line end we add back
                buf.line_queue.push_back(line);
                // I have data to write: make sure the write handler is registered.
                if !buf.write_handler_registered {
                    base.set_stateful_io_handler(fd, Event::Write, IoOptions::new(), write_a_line)?;
                    buf.write_handler_registered = true;
                }
                // "quit": echo it, then close (no more reading).
                if quit {
                    buf.eof_seen = true;
                    disconnect(base, fd, buf, &[Event::Read], false);
                    buf.read_handler_registered = false;
                    return Ok(());
                }
                // More data than I should be holding: stop reading until the write handler
                // has made room.
                if buf.bytes_left_to_write >= buf.max_bytes {
                    disconnect(base, fd, buf, &[Event::Read], false);
                    buf.read_handler_registered = false;
                    return Ok(());
                }
            }
            Ok(None) => return Ok(()),
            Err(SocketError::ConnectionReset) => {
                // If the client resets its connection, we close everything down.
                buf.peer.say(format_args!(
                    "Client {}:{}: Connection reset by peer",
                    buf.peer.who, buf.peer.port
                ));
                disconnect(base, fd, buf, &[], true);
                return Ok(());
            }
            Err(SocketError::EndOfFile) => {
                // End of file may just be the client's half-close, expecting the data we
                // hold: if there is nothing left to write, the client is gone; otherwise stop
                // reading and let the write handler finish.
                buf.peer.say(format_args!(
                    "Client {}:{} produced end-of-file on a read.",
                    buf.peer.who, buf.peer.port
                ));
                if buf.bytes_left_to_write == 0 {
                    disconnect(base, fd, buf, &[], true);
                } else {
                    disconnect(base, fd, buf, &[Event::Read], false);
                    buf.read_handler_registered = false;
                    buf.eof_seen = true;
                }
                return Ok(());
            }
            // Anything else ends this client alone (the server's failure policy logs it).
            Err(e) => return Err(e.into()),
        }
        // Lines already buffered would not wake the multiplexer: take them now.
        next = buf.socket.read_line_no_hang();
    }
}

/// Writes one queued line. Re-registers the reader when below `max_bytes`; unregisters
/// itself when nothing is left; closes when nothing is left after the client's end of file.
fn write_a_line(
    base: &mut EventBase,
    buf: &mut Ex7IoBuffer,
    fd: RawFd,
    _event: Event,
    exception: Option<Exception>,
) -> HandlerResult {
    let result = if exception == Some(Exception::Error) {
        Err(SocketError::ConnectionReset)
    } else {
        write_one(buf)
    };
    match result {
        Ok(()) => {}
        Err(SocketError::ConnectionReset) => {
            buf.peer.say(format_args!(
                "Client {}:{}: connection reset by peer.",
                buf.peer.who, buf.peer.port
            ));
            disconnect(base, fd, buf, &[], true);
            return Ok(());
        }
        Err(SocketError::Hangup) => {
            // A client that doesn't accept data will never send us any again either.
            buf.peer.say(format_args!(
                "Client {}:{} got hangup on write.",
                buf.peer.who, buf.peer.port
            ));
            disconnect(base, fd, buf, &[], true);
            return Ok(());
        }
        Err(SocketError::Timeout(_)) => {
            buf.peer.say(format_args!(
                "Client {}:{} does not read its echoes; closing it.",
                buf.peer.who, buf.peer.port
            ));
            disconnect(base, fd, buf, &[], true);
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    }
    // Fallen below the mark: re-register the reader, unless the client's end of file came,
    // and take the lines that arrived meanwhile and wait in the socket's buffer (they will
    // not make the fd readable again).
    if buf.bytes_left_to_write < buf.max_bytes && !(buf.eof_seen || buf.read_handler_registered) {
        base.set_stateful_io_handler(fd, Event::Read, IoOptions::new(), read_a_line)?;
        buf.read_handler_registered = true;
        if buf.socket.has_buffered_line() {
            let next = buf.socket.read_line_no_hang();
            take_lines(base, buf, fd, next)?;
            if !buf.socket.is_open() {
                return Ok(());
            }
        }
    }
    // Nothing left to write: after end of file we are done with this client; otherwise
    // unregister so a always-writable socket does not call us for nothing.
    if buf.bytes_left_to_write == 0 {
        if buf.eof_seen {
            disconnect(base, fd, buf, &[], true);
        } else {
            disconnect(base, fd, buf, &[Event::Write], false);
            buf.write_handler_registered = false;
        }
    }
    Ok(())
}

fn write_one(buf: &mut Ex7IoBuffer) -> Result<(), SocketError> {
    if let Some(line) = buf.line_queue.pop_front() {
        writeln!(buf.socket, "{line}")?;
        finish_output_within(&mut buf.socket, STALL)?;
        buf.peer.say(format_args!(
            "Wrote to {}:{}: {line}",
            buf.peer.who, buf.peer.port
        ));
        buf.bytes_left_to_write -= line.len() + buf.line_end_len();
    }
    Ok(())
}
