//! The frame of the multiplexed servers (ex6, ex7, ex8): the event base with its listener
//! handler, the per-client state trait, the io-buffers' disconnector, and the clean-up after
//! the loop ends.

use super::{fail, make_server, Args, Peer};
use crate::say;
use iolib::prelude::*;
use std::os::fd::AsRawFd;
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

/// The second half of the tutorial's listener handler: gets each accepted client and
/// registers its handlers.
pub type OnClient = fn(&mut EventBase, ActiveSocket, Address, u16, &Args) -> HandlerResult;

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
///
/// With `--threads N` (N > 1) the same frame runs on N event bases, one per thread, each with
/// its own listening socket on the one port (`SO_REUSEPORT`, [`iolib::reuse_port_listeners`]):
/// the kernel spreads the connections, and a client stays on the thread that accepted it. The
/// main thread's base takes the signals and stops the others through a pipe each watches.
pub fn serve_multiplexed<T: ClientConn>(args: &Args, on_client: OnClient) {
    let ok = if args.threads <= 1 {
        serve_on::<T>(
            make_server(args),
            args,
            on_client,
            Stop::Signals(Vec::new()),
        )
    } else {
        serve_threads::<T>(args, on_client)
    };
    say!(args, "Server Exited");
    if !ok {
        std::process::exit(1);
    }
}

/// How one event base's loop is told to stop.
enum Stop {
    /// By SIGINT/SIGTERM; then it stops the other bases by writing to these pipes.
    Signals(Vec<std::os::fd::OwnedFd>),
    /// By a byte on this pipe.
    Pipe(std::os::fd::OwnedFd),
}

fn serve_threads<T: ClientConn>(args: &Args, on_client: OnClient) -> bool {
    let host = Address::Ipv4(IPV4_UNSPECIFIED);
    let servers = match iolib::reuse_port_listeners(&host, args.port, args.threads, args.backlog) {
        Ok(s) => s,
        Err(SocketError::AddressInUse) => super::address_in_use(),
        Err(e) => fail("bind-address", e),
    };
    let port = servers[0].local_port().unwrap_or(args.port);
    println!("Listening on socket bound to: {host}:{port}");
    let _ = std::io::Write::flush(&mut std::io::stdout());
    let mut servers = servers.into_iter();
    let first = servers.next().expect("at least one listener");
    let mut stops = Vec::new();
    let mut workers = Vec::new();
    for server in servers {
        let (r, w) = isys::pipe(true).unwrap_or_else(|e| fail("pipe", e));
        stops.push(w);
        let args = args.clone();
        workers.push(std::thread::spawn(move || {
            serve_on::<T>(server, &args, on_client, Stop::Pipe(r))
        }));
    }
    let mut ok = serve_on::<T>(first, args, on_client, Stop::Signals(stops));
    for w in workers {
        ok &= w.join().unwrap_or(false);
    }
    ok
}

/// One event base serving `server` until stopped; returns whether it ended cleanly.
fn serve_on<T: ClientConn>(
    mut server: PassiveSocket,
    args: &Args,
    on_client: OnClient,
    stop: Stop,
) -> bool {
    // Honours IOMUX_BACKEND=select|poll|epoll.
    let mut base = EventBase::new().unwrap_or_else(|e| fail("event-base", e));
    base.set_handler_error_policy(drop_failing_peers);
    if args.threads > 1 {
        let share = (args.max_buffered / args.threads).max(1);
        server.set_input_budget(Some(InputBudget::new(share)));
    }

    // Set up the listener for any incoming clients. The server socket is its state, owned
    // by the event base.
    let largs = args.clone();
    let accepted = move |base: &mut EventBase, client: ActiveSocket| -> HandlerResult {
        let Ok((who, port)) = client.remote_name() else {
            return Ok(()); // gone already
        };
        say!(largs, "Accepted a client from {who}:{port}");
        if largs.nodelay {
            if let Err(e) = client.set_socket_option(SocketOption::TcpNodelay(true)) {
                say!(largs, "Client {who}:{port}: TCP_NODELAY: {e}");
            }
        }
        on_client(base, client, who, port, &largs)
    };
    let server_fd = Listener::new(server)
        .register(&mut base, accepted)
        .unwrap_or_else(|e| fail("set-io-handler", e));
    let others = match stop {
        Stop::Signals(others) => {
            // Leave the loop cleanly on SIGINT/SIGTERM, and tell the other bases to.
            let others = std::rc::Rc::new(others);
            for sig in [Signal::SIGINT, Signal::SIGTERM] {
                let others = others.clone();
                base.add_signal_handler(sig, move |base, _| {
                    stop_all(&others);
                    base.exit_event_loop(Duration::ZERO);
                    Ok(())
                })
                .unwrap_or_else(|e| fail("signal handler", e));
            }
            Some(others)
        }
        Stop::Pipe(r) => {
            base.set_io_handler(r.as_raw_fd(), Event::Read, |base, _, _, _| {
                base.exit_event_loop(Duration::ZERO);
                Ok(())
            })
            .unwrap_or_else(|e| fail("set-io-handler", e));
            // The pipe lives as long as the loop: moved into a handler-less keeper below.
            base.set_fd_state(r.as_raw_fd(), r)
                .unwrap_or_else(|e| fail("set-fd-state", e));
            None
        }
    };

    // Keep accepting connections until told to stop. Per-client failures end only that
    // client; what reaches us here concerns the whole server.
    let outcome = base.event_dispatch(DispatchOptions::default());
    if let Err(e) = &outcome {
        eprintln!("event-dispatch: {e}");
    }
    if let Some(others) = &others {
        stop_all(others);
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
    outcome.is_ok()
}

/// Asks the other threads' event bases to stop (a byte on each one's pipe).
fn stop_all(pipes: &[std::os::fd::OwnedFd]) {
    for w in pipes {
        let _ = isys::write(w, b"x");
    }
}
