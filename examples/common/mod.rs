//! What the tutorial's `package.lisp` gives every example: `*host*`/`*port*` defaults (here
//! `--host`/`--port`), plus the daytime string, quiet logging, and a clean exit on
//! SIGINT/SIGTERM for the blocking servers.
#![allow(dead_code)] // each example uses a subset

pub mod echo_client;

use iolib::prelude::*;
use iolib::sockets;
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::Duration;

/// IOLib's `*host*` and `*port*`.
pub const DEFAULT_HOST: &str = "localhost";
/// The tutorial's port.
pub const DEFAULT_PORT: u16 = 9999;

/// Command-line options shared by the examples.
#[derive(Debug, Clone)]
pub struct Args {
    pub host: String,
    pub port: u16,
    pub quiet: bool,
    /// The listen backlog (`--backlog`, servers only): the tutorial's 5 by default.
    pub backlog: i32,
}

fn usage(prog: &str, server: bool, err: &str) -> ! {
    eprintln!("{prog}: {err}");
    if server {
        eprintln!("usage: {prog} [--port PORT] [--quiet] [--backlog N]   (PORT 0 = any free port)");
    } else {
        eprintln!("usage: {prog} [--host HOST] [--port PORT]");
    }
    std::process::exit(2);
}

fn parse(server: bool) -> Args {
    let mut argv = std::env::args();
    let prog = argv.next().unwrap_or_else(|| "example".into());
    let prog = prog.rsplit('/').next().unwrap_or("example").to_string();
    let mut args = Args {
        host: DEFAULT_HOST.into(),
        port: DEFAULT_PORT,
        quiet: false,
        backlog: sockets::DEFAULT_BACKLOG,
    };
    while let Some(a) = argv.next() {
        match a.as_str() {
            "--host" if !server => {
                args.host = argv
                    .next()
                    .unwrap_or_else(|| usage(&prog, server, "--host needs a value"))
            }
            "--port" => {
                let v = argv
                    .next()
                    .unwrap_or_else(|| usage(&prog, server, "--port needs a value"));
                args.port = v
                    .parse()
                    .unwrap_or_else(|_| usage(&prog, server, &format!("bad port {v:?}")));
            }
            "--quiet" if server => args.quiet = true,
            "--backlog" if server => {
                let v = argv
                    .next()
                    .unwrap_or_else(|| usage(&prog, server, "--backlog needs a value"));
                args.backlog = v
                    .parse()
                    .unwrap_or_else(|_| usage(&prog, server, &format!("bad backlog {v:?}")));
            }
            "-h" | "--help" => usage(&prog, server, "help"),
            other => usage(&prog, server, &format!("unknown argument {other:?}")),
        }
    }
    args
}

/// `--host`, `--port` for clients.
pub fn client_args() -> Args {
    parse(false)
}

/// `--port`, `--quiet` for servers.
pub fn server_args() -> Args {
    parse(true)
}

/// Lisp's `(format t ...)` for per-connection logging: off with `--quiet`.
#[macro_export]
macro_rules! say {
    ($args:expr, $($t:tt)*) => {
        if !$args.quiet {
            println!($($t)*);
        }
    };
}

/// `print!` then flush (Lisp's `format` without `~%` followed by `finish-output`).
pub fn print_flush(s: &str) {
    print!("{s}");
    let _ = std::io::stdout().flush();
}

/// The daytime line, as `(get-decoded-time)` formats it: `M/D/YYYY H:M:S`.
pub fn daytime() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    match isys::localtime(now) {
        Ok(t) => format!(
            "{}/{}/{} {}:{}:{}",
            t.month, t.day, t.year, t.hour, t.minute, t.second
        ),
        Err(_) => "1/1/1970 0:0:0".into(),
    }
}

/// `(lookup-hostname host)` for messages: the address, or the name if it does not resolve.
pub fn host_for_message(host: &str) -> String {
    sockets::lookup_hostname(host)
        .map(|h| h.address.to_string())
        .unwrap_or_else(|_| host.to_string())
}

/// The IPv4 address a client connects to (IOLib's `(lookup-hostname host)`).
pub fn resolve_ipv4(host: &str) -> Result<Address, SocketError> {
    sockets::lookup_hostname(host)?
        .first_ipv4()
        .ok_or_else(|| SocketError::InvalidAddress(format!("{host} has no IPv4 address")))
}

/// The echo clients' opening (ex4, ex5a, ex5b): an active internet stream socket in the
/// tutorial's UTF-8/CRLF format, a blocking connect to `host:port`, and the Connected line.
/// (The daytime clients spell these steps out, as the tutorial does.)
pub fn connect_to_server(host: &str, port: u16) -> Result<ActiveSocket, SocketError> {
    let mut socket = make_socket()
        .connect(Connect::Active)
        .family(AddressFamily::Internet)
        .kind(SocketKind::Stream)
        .external_format(ExternalFormat::UTF8_CRLF)
        .build_active()?;
    socket.connect(&resolve_ipv4(host)?, port, Wait::Forever)?;
    println!(
        "Connected to server {} via my local connection at {}!",
        hp(socket.remote_name()?),
        hp(socket.local_name()?)
    );
    Ok(socket)
}

/// `host:port` of an address pair.
pub fn hp(name: (Address, u16)) -> String {
    format!("{}:{}", name.0, name.1)
}

/// Prints the tutorial's refused-connection message.
pub fn say_connection_refused(host: &str, port: u16) {
    println!(
        "Connection refused to {}:{}. Maybe the server isn't running?",
        host_for_message(host),
        port
    );
}

/// The tutorial's refused-connection message; exits 1.
pub fn connection_refused(host: &str, port: u16) -> ! {
    say_connection_refused(host, port);
    std::process::exit(1);
}

/// The tutorial's address-in-use message; exits 1.
pub fn address_in_use() -> ! {
    println!("Bind: Address already in use, forget :reuse-addr t?");
    std::process::exit(1);
}

/// Any other failure: one clear line on stderr, exit 1 (never a panic).
pub fn fail(what: &str, e: impl std::fmt::Display) -> ! {
    eprintln!("{what}: {e}");
    std::process::exit(1);
}

/// The passive socket every server makes: internet, stream, UTF-8/CRLF, bound to 0.0.0.0
/// with reuse-address, listening with backlog 5, announced with the Listening line.
pub fn make_server(args: &Args) -> PassiveSocket {
    // Create a passive (server) TCP socket under IPV4. Sockets meant to be listened upon
    // *must* be created passively.
    let server = make_socket()
        .connect(Connect::Passive)
        .family(AddressFamily::Internet)
        .kind(SocketKind::Stream)
        .external_format(ExternalFormat::UTF8_CRLF)
        .build_passive()
        .unwrap_or_else(|e| fail("make-socket", e));
    say!(
        args,
        "Created socket: {server}[fd={}]",
        server.socket_os_fd().unwrap_or(-1)
    );
    // Bind the socket to all interfaces with the specified port (reuse-address is on).
    match server.bind_address(&Address::Ipv4(IPV4_UNSPECIFIED), args.port) {
        Ok(()) => {}
        Err(SocketError::AddressInUse) => address_in_use(),
        Err(e) => fail("bind-address", e),
    }
    say!(args, "Bound socket: {server}");
    // Start listening on the server socket.
    server
        .listen_on(args.backlog)
        .unwrap_or_else(|e| fail("listen-on", e));
    let (host, port) = server
        .local_name()
        .unwrap_or_else(|e| fail("local-name", e));
    println!("Listening on socket bound to: {host}:{port}");
    let _ = std::io::stdout().flush();
    server
}

/// SIGINT/SIGTERM for servers that block in accept: a self-pipe the accept waits on too.
pub struct Shutdown {
    read: OwnedFd,
    _write: OwnedFd,
}

impl Shutdown {
    /// Routes SIGINT and SIGTERM to the pipe.
    pub fn install() -> Shutdown {
        let (read, write) = isys::pipe(true).unwrap_or_else(|e| fail("pipe", e));
        for sig in [Signal::SIGINT, Signal::SIGTERM] {
            isys::signal_notify(sig, write.as_raw_fd()).unwrap_or_else(|e| fail("sigaction", e));
        }
        Shutdown {
            read,
            _write: write,
        }
    }

    /// Whether a signal asked us to stop.
    pub fn requested(&self) -> bool {
        isys::fd_readable(&self.read).unwrap_or(true)
    }

    /// A blocking accept that returns `None` when a signal asks the server to stop.
    /// (IOLib's `accept-connection :wait t`, plus the signal.)
    pub fn accept(&self, server: &PassiveSocket) -> Option<ActiveSocket> {
        loop {
            let mut fds = [
                isys::PollFd::new(server.as_fd().as_raw_fd(), isys::PollFlags::IN),
                isys::PollFd::new(self.read.as_raw_fd(), isys::PollFlags::IN),
            ];
            match isys::poll(&mut fds, None) {
                Ok(_) | Err(Errno::EINTR) => {}
                Err(e) => fail("poll", e),
            }
            if !fds[1].revents().is_empty() {
                return None;
            }
            if !fds[0].revents().is_empty() {
                match server.accept_connection(Wait::No) {
                    Ok(Some(c)) => return Some(c),
                    // Nothing after all (the peer vanished between SYN and accept).
                    Ok(None) => continue,
                    Err(e) => {
                        eprintln!("accept-connection: {e}");
                        std::thread::sleep(Duration::from_millis(10));
                    }
                }
            }
        }
    }
}

/// The frame of the threaded servers ex4 and ex5 (sections 2.3.4, 2.6.1): accept clients
/// until SIGINT/SIGTERM and hand each to a new thread named `thread_name` running `handle`;
/// at exit, shut every live client down so its thread finishes at once, and join them all
/// (the tutorial's "Destroying any active client threads", without killing threads).
pub fn serve_threaded(args: &Args, thread_name: &str, handle: fn(ActiveSocket, Args)) {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    let shutdown = Shutdown::install();
    let server = make_server(args);
    // Client connections by id, as duplicated fds the main thread can shut down.
    let registry: Arc<Mutex<HashMap<u64, OwnedFd>>> = Arc::default();
    let mut threads: Vec<std::thread::JoinHandle<()>> = Vec::new();
    let mut next_id = 0u64;

    loop {
        say!(args, "Waiting to accept a connection...");
        let Some(client) = shutdown.accept(&server) else {
            break;
        };
        next_id += 1;
        let id = next_id;
        if let Ok(dup) = isys::dup(&client) {
            registry
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(id, dup);
        }
        let (reg, targs) = (registry.clone(), args.clone());
        // ...and handle the connection!
        let spawned = std::thread::Builder::new()
            .name(thread_name.into())
            .spawn(move || {
                handle(client, targs);
                reg.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
            });
        match spawned {
            Ok(t) => threads.push(t),
            Err(e) => eprintln!("cannot start a client thread: {e}"),
        }
        threads.retain(|t| !t.is_finished());
    }

    say!(args, "Destroying any active client threads....");
    for fd in registry.lock().unwrap_or_else(|p| p.into_inner()).values() {
        let _ = isys::shutdown(fd, isys::Shutdown::Both);
    }
    for t in threads {
        let _ = t.join();
    }
}

/// Who a connection is with, for the servers' messages.
#[derive(Debug, Clone)]
pub struct Peer {
    pub who: Address,
    pub port: u16,
    /// Per-connection logging off (`--quiet`).
    pub quiet: bool,
}

impl Peer {
    /// Prints a per-connection log line unless `--quiet`.
    pub fn say(&self, msg: std::fmt::Arguments<'_>) {
        if !self.quiet {
            println!("{msg}");
        }
    }
}

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

/// Line input from stdin for the multiplexed clients: our own buffer over fd 0, so we can
/// tell whether a line is waiting without blocking (std's `Stdin` buffers invisibly).
#[derive(Debug, Default)]
pub struct StdinLines {
    buf: Vec<u8>,
    eof: bool,
}

impl StdinLines {
    fn has_line(&self) -> bool {
        self.eof || self.buf.contains(&b'\n')
    }

    fn read_more(&mut self) {
        let mut chunk = [0u8; 4096];
        let stdin = std::io::stdin();
        match isys::repeat_upon_eintr(|| isys::read(stdin.as_fd(), &mut chunk)) {
            Ok(0) | Err(_) => self.eof = true,
            Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
        }
    }

    /// Waits until a line (or end of file) is available on stdin, or `other` becomes
    /// readable: `true` for stdin. This keeps a client waiting for its user from sitting on
    /// data the server already sent.
    pub fn wait_line_or_readable(&mut self, other: &impl AsFd) -> bool {
        let stdin = std::io::stdin();
        loop {
            if self.has_line() {
                return true;
            }
            let mut fds = [
                isys::PollFd::new(stdin.as_fd().as_raw_fd(), isys::PollFlags::IN),
                isys::PollFd::new(other.as_fd().as_raw_fd(), isys::PollFlags::IN),
            ];
            match isys::poll(&mut fds, None) {
                Ok(_) | Err(Errno::EINTR) => {}
                Err(_) => return true,
            }
            if !fds[0].revents().is_empty() {
                self.read_more();
            } else if !fds[1].revents().is_empty() {
                return false;
            }
        }
    }

    /// Reads a line without its end (blocking); `None` at end of file.
    pub fn read_line(&mut self) -> Option<String> {
        loop {
            if let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
                let rest = self.buf.split_off(pos + 1);
                let mut line = std::mem::replace(&mut self.buf, rest);
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Some(String::from_utf8_lossy(&line).into_owned());
            }
            if self.eof {
                if self.buf.is_empty() {
                    return None;
                }
                let line = std::mem::take(&mut self.buf);
                return Some(String::from_utf8_lossy(&line).into_owned());
            }
            self.read_more();
        }
    }
}
