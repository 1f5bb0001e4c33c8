//! ex8-buffer: the per-client io-buffer of ex8-server, with non-blocking byte I/O.
//!
//! `echo_buf[write_index..read_index]` holds bytes read from the client and not yet written
//! back; `read_index` is where the next read goes. While the buffer is full the read handler
//! is unregistered, so a client that never reads cannot grow the server's memory.

use crate::common::{disconnect, ClientConn, Peer};
use iolib::prelude::*;
use std::os::fd::RawFd;

/// A per-connection log line, formatted only without `--quiet`.
macro_rules! log {
    ($buf:expr, $($t:tt)*) => {
        if !$buf.peer.quiet {
            println!($($t)*);
        }
    };
}

/// The io-buffer's storage (the Lisp closure's lexical bindings).
pub struct Ex8IoBuffer {
    socket: ActiveSocket,
    peer: Peer,
    echo_buf: Box<[u8]>,
    read_index: usize,
    write_index: usize,
    read_handler_registered: bool,
    write_handler_registered: bool,
    eof_seen: bool,
}

impl ClientConn for Ex8IoBuffer {
    fn socket(&mut self) -> &mut ActiveSocket {
        &mut self.socket
    }
    fn peer(&self) -> &Peer {
        &self.peer
    }
}

/// Creates the io-buffer for `socket` and registers its handlers.
pub fn make_ex8_io_buffer(
    base: &mut EventBase,
    socket: ActiveSocket,
    who: Address,
    port: u16,
    quiet: bool,
    max_bytes: usize,
) -> Result<(), iolib::iomux::Error> {
    let fd = socket.socket_os_fd().unwrap_or(-1);
    base.set_fd_state(
        fd,
        Ex8IoBuffer {
            socket,
            peer: Peer { who, port, quiet },
            echo_buf: vec![0u8; max_bytes].into_boxed_slice(),
            read_index: 0,
            write_index: 0,
            read_handler_registered: true,
            write_handler_registered: true,
            eof_seen: false,
        },
    )?;
    base.set_stateful_io_handler(fd, Event::Read, IoOptions::new(), read_some_bytes)?;
    base.set_stateful_io_handler(fd, Event::Write, IoOptions::new(), write_some_bytes)?;
    Ok(())
}

/// Reads however much we are able into the free end of the buffer.
fn read_some_bytes(
    base: &mut EventBase,
    buf: &mut Ex8IoBuffer,
    fd: RawFd,
    _event: Event,
    exception: Option<Exception>,
) -> HandlerResult {
    let max_bytes = buf.echo_buf.len();
    if buf.read_index == max_bytes {
        // Full (a write failed for a moment before we could stop reading): a zero-length
        // read would look like end of file. Stop reading until the writer makes room.
        disconnect(base, fd, buf, &[Event::Read], false);
        buf.read_handler_registered = false;
        return Ok(());
    }
    let received = if exception == Some(Exception::Error) {
        Err(SocketError::ConnectionReset)
    } else {
        let start = buf.read_index;
        buf.socket
            .receive_from(&mut buf.echo_buf[start..max_bytes], MsgFlags::empty())
    };
    match received {
        // Unlike read_line, receive_from returns zero at end of file.
        Ok(0) => {
            // End of file may be the client's half-close, expecting the data we hold: if
            // nothing is left to write we are done; otherwise stop reading and let the write
            // handler finish, then close.
            log!(
                buf,
                "Client {}:{} produced end-of-file on a read.",
                buf.peer.who,
                buf.peer.port
            );
            if buf.read_index == buf.write_index {
                disconnect(base, fd, buf, &[], true);
            } else {
                disconnect(base, fd, buf, &[Event::Read], false);
                buf.read_handler_registered = false;
                buf.eof_seen = true;
            }
            return Ok(());
        }
        Ok(n) => {
            log!(
                buf,
                "Read {n} bytes from {}:{}",
                buf.peer.who,
                buf.peer.port
            );
            buf.read_index += n;
        }
        // Readiness was stale: nothing to read after all.
        Err(e) if e.is_would_block() => return Ok(()),
        Err(SocketError::ConnectionReset) => {
            log!(
                buf,
                "Client {}:{}: connection reset by peer.",
                buf.peer.who,
                buf.peer.port
            );
            disconnect(base, fd, buf, &[], true);
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    }

    // Register the write handler if there is data to write, then try writing right away
    // (even though the socket might not be ready) to save a trip through the multiplexer.
    if buf.write_index != buf.read_index {
        if !buf.write_handler_registered {
            base.set_stateful_io_handler(fd, Event::Write, IoOptions::new(), write_some_bytes)?;
            buf.write_handler_registered = true;
        }
        if let Err(e) = write_some_bytes(base, buf, fd, Event::Write, None) {
            // A passing shortage (ENOBUFS): the write handler retries when writable; the
            // read side's bookkeeping below must still run.
            if iolib::scope_of(e.as_ref()) != ErrorScope::Transient {
                return Err(e);
            }
        }
        if !buf.socket.is_open() {
            return Ok(()); // the write found the client gone
        }
    }

    // Out of room: stop reading until the write handler has written everything back and
    // reset the indices.
    if buf.read_index == max_bytes && buf.read_handler_registered {
        disconnect(base, fd, buf, &[Event::Read], false);
        buf.read_handler_registered = false;
    }
    Ok(())
}

/// Writes whatever of the buffered bytes the socket takes now.
fn write_some_bytes(
    base: &mut EventBase,
    buf: &mut Ex8IoBuffer,
    fd: RawFd,
    _event: Event,
    exception: Option<Exception>,
) -> HandlerResult {
    if exception == Some(Exception::Error) {
        log!(
            buf,
            "Client {}:{}: connection reset by peer.",
            buf.peer.who,
            buf.peer.port
        );
        disconnect(base, fd, buf, &[], true);
        return Ok(());
    }
    // send_to may report success for bytes that vanish into a closed connection; the next
    // receive_from then tells us.
    if buf.read_index > buf.write_index {
        let pending = &buf.echo_buf[buf.write_index..buf.read_index];
        match buf.socket.send_to(pending, MsgFlags::empty()) {
            Ok(n) => {
                log!(buf, "Wrote {n} bytes to {}:{}", buf.peer.who, buf.peer.port);
                buf.write_index += n;
            }
            // isys:ewouldblock: the socket was not ready after all. Try again later.
            Err(e) if e.is_would_block() => {
                log!(buf, "write-some-bytes: ewouldblock");
                return Ok(());
            }
            Err(SocketError::ConnectionReset) => {
                log!(
                    buf,
                    "Client {}:{}: connection reset by peer.",
                    buf.peer.who,
                    buf.peer.port
                );
                disconnect(base, fd, buf, &[], true);
                return Ok(());
            }
            // isys:epipe: a client that does not accept data will never send any again.
            Err(e) if e.errno() == Some(Errno::EPIPE) => {
                log!(
                    buf,
                    "Client {}:{} got hangup on write.",
                    buf.peer.who,
                    buf.peer.port
                );
                disconnect(base, fd, buf, &[], true);
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        }
    }

    // Out of data: after end of file we are done; otherwise unregister the writer, rewind
    // a fully drained buffer, and make sure the reader is registered for more.
    if buf.read_index == buf.write_index {
        if buf.eof_seen {
            disconnect(base, fd, buf, &[], true);
            return Ok(());
        }
        if buf.write_handler_registered {
            disconnect(base, fd, buf, &[Event::Write], false);
            buf.write_handler_registered = false;
        }
        buf.read_index = 0;
        buf.write_index = 0;
        if !buf.read_handler_registered {
            base.set_stateful_io_handler(fd, Event::Read, IoOptions::new(), read_some_bytes)?;
            buf.read_handler_registered = true;
        }
    }
    Ok(())
}
