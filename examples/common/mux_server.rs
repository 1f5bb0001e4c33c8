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
        base.remove_fd_handlers(fd, Handlers::ALL);
    }
    for ev in events {
        base.remove_fd_handlers(fd, Handlers::from(*ev));
    }
    if close {
        if !conn.peer().quiet {
            println!(
                "Closing connection to {}:{}",
                conn.peer().who,
                conn.peer().port
            );
        }
        base.remove_fd_handlers(fd, Handlers::ALL);
        let _ = conn.socket().close();
        base.remove_fd_state(fd);
    }
}

/// The common frame of ex6/ex7/ex8 (sections 2.6.2–2.6.4): make the event base and the
/// server socket, register the listener, dispatch until SIGINT/SIGTERM, then close every
/// open client connection, the server socket and the event base.
///
/// `on_client` is the second half of the tutorial's listener handler: it gets each accepted
/// client and registers its handlers.
///
/// Beyond the tutorial, so that no client and no exhausted resource takes the server down:
/// the listener is the library's [`Listener`] (it sheds connections when out of fds, backs
/// off when out of memory, and refuses one client whose fd the backend cannot watch), and a
/// handler's per-peer error (reset, end of file, invalid UTF-8, a line too long, ...) drops
/// that client alone with one log line ([`drop_failing_peers`]). Only an error that concerns
/// the whole process ends the loop, and then the server exits with status 1.
pub fn serve_multiplexed<T: ClientConn>(
    args: &Args,
    on_client: fn(&mut EventBase, ActiveSocket, Address, u16, &Args) -> HandlerResult,
) {
    // Honours IOMUX_BACKEND=select|poll|epoll.
    let mut base = EventBase::new().unwrap_or_else(|e| fail("event-base", e));
    base.set_handler_error_policy(drop_failing_peers);
    let server = make_server(args);

    // Set up the listener for any incoming clients. The server socket is its state, owned
    // by the event base.
    let largs = args.clone();
    let accepted = move |base: &mut EventBase, client: ActiveSocket| -> HandlerResult {
        let Ok((who, port)) = client.remote_name() else {
            return Ok(()); // gone already
        };
        say!(largs, "Accepted a client from {who}:{port}");
        on_client(base, client, who, port, &largs)
    };
    let server_fd = Listener::new(server)
        .register(&mut base, accepted)
        .unwrap_or_else(|e| fail("set-io-handler", e));
    // Leave the loop cleanly on SIGINT/SIGTERM.
    for sig in [Signal::SIGINT, Signal::SIGTERM] {
        base.add_signal_handler(sig, |base, _| {
            base.exit_event_loop(Duration::ZERO);
            Ok(())
        })
        .unwrap_or_else(|e| fail("signal handler", e));
    }

    // Keep accepting connections until told to stop. Per-client failures end only that
    // client; what reaches us here concerns the whole server.
    let outcome = base.event_dispatch(DispatchOptions::default());
    if let Err(e) = &outcome {
        eprintln!("event-dispatch: {e}");
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
        base.remove_fd_handlers(fd, Handlers::ALL);
        conn.socket().close_abort();
    }
    // Ensure the server socket is closed, and clean up the multiplexer too.
    if let Some(mut server) = Listener::unregister(&mut base, server_fd) {
        let _ = server.close();
    }
    base.close();
    say!(args, "Server Exited");
    if outcome.is_err() {
        std::process::exit(1);
    }
}
