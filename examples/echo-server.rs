//! echo-server: IOLib's `examples/echo-server.lisp` on the event base. A listener handler
//! accepts; each client gets a read handler that echoes every complete line back, never
//! blocking: a client that does not read its echoes is not read from until it has. A client
//! that fails (reset, end of file, a line too long) is dropped alone by the failure policy.
//! SIGINT/SIGTERM end the loop; every client socket is closed first.
//!
//! ```text
//! cargo run --example echo-server -- --port 0
//! ```

mod common;

use iolib::prelude::*;
use std::os::fd::RawFd;

/// Lines read from the kernel per readiness at most, so one client sending a flood cannot
/// keep the others waiting: what is still in the kernel makes the fd readable again. (Lines
/// already in the socket's buffer are always taken: nothing else would wake us for them.)
const LINES_PER_CALL: usize = 64;

/// The longest line echoed: under the output buffer's size, so `write_line` never flushes
/// (and waits) on its own; a longer line ends that client (`LineTooLong`).
const MAX_LINE: usize = iolib::sockets::DEFAULT_BUFFER_SIZE / 2;

/// Called when a client socket is readable: echo the lines that can be had now, without
/// blocking. (IOLib's echo server reads with `read-line`; inside a handler that would block
/// the loop on a partial line, so it takes lines with `read_line_no_hang`.) When the client
/// does not take its echoes, stop reading it until it has (`flush_echoes`).
fn echo_lines(
    base: &mut EventBase,
    client: &mut ActiveSocket,
    fd: RawFd,
    _event: Event,
    _exception: Option<Exception>,
) -> HandlerResult {
    for n in 0.. {
        if n >= LINES_PER_CALL && !client.has_buffered_line() {
            break;
        }
        // End of file and resets come back as errors: the failure policy drops the client.
        let Some(line) = client.read_line_no_hang()? else {
            break;
        };
        client.write_line(&line)?;
        if client.force_output()? > 0 {
            // The client is not reading: wait until it has taken its echoes.
            base.remove_fd_handlers(fd, Handlers::READ);
            base.set_stateful_io_handler(fd, Event::Write, IoOptions::new(), flush_echoes)?;
            return Ok(());
        }
    }
    Ok(())
}

/// Called when a client that was not reading can take more: send what it is owed, then read
/// from it again (and echo the lines that waited in its buffer meanwhile).
fn flush_echoes(
    base: &mut EventBase,
    client: &mut ActiveSocket,
    fd: RawFd,
    event: Event,
    exception: Option<Exception>,
) -> HandlerResult {
    if client.force_output()? > 0 {
        return Ok(());
    }
    base.remove_fd_handlers(fd, Handlers::WRITE);
    base.set_stateful_io_handler(fd, Event::Read, IoOptions::new(), echo_lines)?;
    if client.has_buffered_line() {
        echo_lines(base, client, fd, event, exception)?;
    }
    Ok(())
}

fn main() {
    let args = common::server_args();
    let quiet = args.quiet;
    let server = common::make_server(&args);
    let mut base = EventBase::new().unwrap_or_else(|e| common::fail("event-base", e));
    base.set_handler_error_policy(drop_failing_peers);
    Listener::new(server)
        .register(&mut base, move |base, client| {
            if !quiet {
                if let Ok((host, port)) = client.remote_name() {
                    println!("Accepted a client from {host}:{port}");
                }
            }
            let fd = client.socket_os_fd().unwrap_or(-1);
            let mut client = client;
            client.set_max_line_length(MAX_LINE);
            base.set_fd_state(fd, client)?;
            base.set_stateful_io_handler(fd, Event::Read, IoOptions::new(), echo_lines)?;
            Ok(())
        })
        .unwrap_or_else(|e| common::fail("listener", e));
    common::exit_loop_on_signals(&mut base);
    let outcome = base.event_dispatch(DispatchOptions::default());
    // Close every client (flushing what it was owed), then the listener.
    for (_, mut client) in base.drain_fd_states::<ActiveSocket>() {
        let _ = client.close();
    }
    if let Err(e) = outcome {
        common::fail("event-dispatch", e);
    }
}
