//! The frame of the multiplexed servers (ex6, ex7, ex8): the event base with its listener
//! handler, the per-client state trait, the io-buffers' disconnector, and the clean-up after
//! the loop ends.

use super::{fail, make_server, Args, Peer};
use crate::say;
use iolib::prelude::*;
use std::time::Duration;

/// A multiplexed server's per-client state: it owns the client socket.
pub trait ClientConn: 'static {
    /// The client socket.
    fn socket(&mut self) -> &mut ActiveSocket;
    /// Who the client is.
    fn peer(&self) -> &Peer;
}

/// The io-buffers' disconnector (ex7, ex8): removes the handlers named in `events` (all when
/// empty); with `close`, closes the socket and forgets the connection (drops the fd's state).
pub fn disconnect<T: ClientConn>(
    base: &mut EventBase,
    fd: i32,
    conn: &mut T,
    events: &[Event],
    close: bool,
) {
    if events.is_empty() {
        base.remove_fd_handlers(fd, true, true, true);
    }
    for ev in events {
        base.remove_fd_handlers(
            fd,
            *ev == Event::Read,
            *ev == Event::Write,
            *ev == Event::Error,
        );
    }
    if close {
        if !conn.peer().quiet {
            println!(
                "Closing connection to {}:{}",
                conn.peer().who,
                conn.peer().port
            );
        }
        base.remove_fd_handlers(fd, false, false, false);
        let _ = conn.socket().close();
        base.remove_fd_state(fd);
    }
}

/// The common frame of ex6/ex7/ex8 (sections 2.6.2–2.6.4): make the event base and the
/// server socket, register the listener handler, dispatch until SIGINT/SIGTERM, then close
/// every open client connection, the server socket and the event base.
///
/// `on_client` is the second half of the tutorial's listener handler: it gets each accepted
/// client and registers its handlers.
pub fn serve_multiplexed<T: ClientConn>(
    args: &Args,
    on_client: fn(&mut EventBase, ActiveSocket, Address, u16, &Args) -> HandlerResult,
) {
    // Honours IOMUX_BACKEND=select|poll|epoll.
    let mut base = EventBase::new().unwrap_or_else(|e| fail("event-base", e));
    let server = make_server(args);
    let server_fd = server.socket_os_fd().unwrap_or(-1);

    // Set up the listener handler for any incoming clients. The server socket is the
    // handler's state, owned by the event base.
    let largs = args.clone();
    let listener = move |base: &mut EventBase,
                         server: &mut PassiveSocket,
                         _fd: i32,
                         _event: Event,
                         _exception: Option<Exception>|
          -> HandlerResult {
        // The multiplexer says a client is waiting. The tutorial accepts with :wait t; we
        // must not block the whole server if the client vanished meanwhile.
        while let Some(client) = server.accept_connection(Wait::No)? {
            let Ok((who, port)) = client.remote_name() else {
                continue; // gone already
            };
            say!(largs, "Accepted a client from {who}:{port}");
            on_client(base, client, who, port, &largs)?;
        }
        Ok(())
    };
    let setup = base.set_fd_state(server_fd, server).and_then(|_| {
        base.set_stateful_io_handler(server_fd, Event::Read, IoOptions::new(), listener)
    });
    if let Err(e) = setup {
        fail("set-io-handler", e);
    }
    // Leave the loop cleanly on SIGINT/SIGTERM.
    for sig in [Signal::SIGINT, Signal::SIGTERM] {
        base.add_signal_handler(sig, |base, _| {
            base.exit_event_loop(Duration::ZERO);
            Ok(())
        })
        .unwrap_or_else(|e| fail("signal handler", e));
    }

    // Keep accepting connections until told to stop. Just in case a handler misses a
    // condition, we report it here.
    if let Err(e) = base.event_dispatch(DispatchOptions::default()) {
        match e
            .handler_error()
            .and_then(|h| h.downcast_ref::<SocketError>())
        {
            Some(SocketError::ConnectionReset) => {
                println!("Caught unexpected reset by peer! Client connection reset by peer!")
            }
            Some(SocketError::Hangup) => {
                println!("Caught unexpected hangup! Client closed connection on write!")
            }
            Some(SocketError::EndOfFile) => {
                println!("Caught unexpected end-of-file! Client closed connection on read!")
            }
            _ => eprintln!("event-dispatch: {e}"),
        }
    }

    // Close all open connections to the clients, so they know at once the server is gone.
    for (fd, mut conn) in base.drain_fd_states::<T>() {
        let p = conn.peer();
        say!(
            args,
            "Closing a client connection to ({} {})",
            p.who,
            p.port
        );
        base.remove_fd_handlers(fd, false, false, false);
        conn.socket().close_abort();
    }
    // Ensure the server socket is closed, and clean up the multiplexer too.
    if let Some(mut server) = base.take_fd_state::<PassiveSocket>(server_fd) {
        let _ = server.close();
    }
    base.close();
    say!(args, "Server Exited");
}
