//! echo-server: IOLib's `examples/echo-server.lisp` on the event base. A listener handler
//! accepts; each client gets a read handler that echoes every complete line back; a client
//! that fails (reset, end of file, a line too long) is dropped alone by the failure policy.
//! SIGINT/SIGTERM end the loop; every client socket is closed first.
//!
//! ```text
//! cargo run --example echo-server -- --port 0
//! ```

mod common;

use iolib::prelude::*;
use std::os::fd::RawFd;

/// Called when a client socket is readable: echo every line that can be had now.
/// (IOLib's echo server reads with `read-line`; inside a handler that would block the loop
/// on a partial line, so it drains with `read_line_no_hang`.)
fn echo_lines(
    _base: &mut EventBase,
    client: &mut ActiveSocket,
    _fd: RawFd,
    _event: Event,
    _exception: Option<Exception>,
) -> HandlerResult {
    while let Some(line) = client.read_line_no_hang()? {
        client.write_line(&line)?;
    }
    // End of file and resets come back as errors above: the failure policy drops the client.
    client.finish_output()?;
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
            base.set_fd_state(fd, client)?;
            base.set_stateful_io_handler(fd, Event::Read, IoOptions::new(), echo_lines)?;
            Ok(())
        })
        .unwrap_or_else(|e| common::fail("listener", e));
    for signal in [Signal::SIGINT, Signal::SIGTERM] {
        base.add_signal_handler(signal, |base, _| {
            base.exit_event_loop(std::time::Duration::ZERO);
            Ok(())
        })
        .unwrap_or_else(|e| common::fail("signal", e));
    }
    let outcome = base.event_dispatch(DispatchOptions::default());
    // Close every client (flushing what it was owed), then the listener.
    for (_, mut client) in base.drain_fd_states::<ActiveSocket>() {
        let _ = client.close();
    }
    if let Err(e) = outcome {
        common::fail("event-dispatch", e);
    }
}
