//! The echo servers measured side by side, each run as its own process: iolib-rs (iomux +
//! sockets, on any backend), mio 1.x, tokio 1.x (current-thread runtime), and raw libc epoll.
//!
//! Protocol with the orchestrator: the server prints `PORT <n>` once listening; on stdin,
//! `mark` starts counting allocations and dispatched events, `stop` (or end of file) prints
//! `STATS allocs=<a> events=<e>` for the span since `mark` and exits.

use crate::alloc;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// Readiness events handled since start (each handler call / each event processed).
pub static EVENTS: AtomicU64 = AtomicU64::new(0);
static MARK: AtomicU64 = AtomicU64::new(0);
static MARK_ALLOCS: AtomicU64 = AtomicU64::new(0);

const BUF: usize = 16 * 1024;

fn announce(port: u16) {
    println!("PORT {port}");
    let _ = std::io::stdout().flush();
}

/// Handles one command line from the orchestrator; returns false to exit.
fn command(line: &str) -> bool {
    match line.trim() {
        "mark" => {
            MARK.store(EVENTS.load(Ordering::SeqCst), Ordering::SeqCst);
            MARK_ALLOCS.store(alloc::count(), Ordering::SeqCst);
            true
        }
        _ => {
            let events = EVENTS.load(Ordering::SeqCst) - MARK.load(Ordering::SeqCst);
            let allocs = alloc::count() - MARK_ALLOCS.load(Ordering::SeqCst);
            println!("STATS allocs={allocs} events={events}");
            let _ = std::io::stdout().flush();
            false
        }
    }
}

/// Makes stdin non-blocking, so each server reads its commands in its own event loop: every
/// server stays one thread. (A second thread would cost each glibc `recv`/`send` of the
/// process a pthread-cancellation switch, about 60 instructions per round trip, which the
/// single-threaded servers would not pay.)
fn commands_nonblocking() {
    isys::set_nonblocking(std::io::stdin(), true).expect("stdin non-blocking");
}

/// Runs every command waiting on stdin; exits the process at `stop` or end of input.
fn stdin_commands() {
    let stdin = std::io::stdin();
    let mut buf = [0u8; 256];
    loop {
        match isys::read(&stdin, &mut buf) {
            Ok(n) => run_commands(&buf[..n]),
            Err(isys::Errno::EINTR) => {}
            Err(_) => return,
        }
    }
}

/// Runs the command lines in `bytes` (end of input when empty); exits the process at `stop`.
fn run_commands(bytes: &[u8]) {
    if bytes.is_empty() {
        command("stop");
        std::process::exit(0);
    }
    for line in String::from_utf8_lossy(bytes).lines() {
        if !command(line) {
            std::process::exit(0);
        }
    }
}

// ----- iolib-rs -------------------------------------------------------------------------------

mod iolib_server {
    use super::*;
    use iomux::{
        Backend, DispatchOptions, Event, EventBase, Exception, HandlerResult, Handlers, IoOptions,
    };
    use sockets::{make_socket, ActiveSocket, BaseSocket, Connect, MsgFlags, Wait};
    use std::os::fd::RawFd;

    struct Conn {
        sock: ActiveSocket,
        buf: Box<[u8]>,
        start: usize,
        end: usize,
    }

    /// Sends what is pending; registers the write handler only when the socket is full.
    fn flush(base: &mut EventBase, c: &mut Conn, fd: RawFd) -> HandlerResult {
        while c.start < c.end {
            match c.sock.send_to(&c.buf[c.start..c.end], MsgFlags::empty()) {
                Ok(n) => c.start += n,
                Err(e) if e.is_would_block() => {
                    if !base.fd_monitored_for(fd, Event::Write) {
                        base.remove_fd_handlers(fd, Handlers::READ);
                        base.set_stateful_io_handler(fd, Event::Write, IoOptions::new(), on_write)?;
                    }
                    return Ok(());
                }
                Err(_) => return close(base, fd),
            }
        }
        c.start = 0;
        c.end = 0;
        Ok(())
    }

    fn close(base: &mut EventBase, fd: RawFd) -> HandlerResult {
        base.remove_fd_handlers(fd, Handlers::ALL);
        base.remove_fd_state(fd);
        Ok(())
    }

    fn on_read(
        base: &mut EventBase,
        c: &mut Conn,
        fd: RawFd,
        _: Event,
        exc: Option<Exception>,
    ) -> HandlerResult {
        EVENTS.fetch_add(1, Ordering::Relaxed);
        if exc.is_some() {
            return close(base, fd);
        }
        match c.sock.receive_from(&mut c.buf, MsgFlags::empty()) {
            Ok(0) => close(base, fd),
            Ok(n) => {
                c.start = 0;
                c.end = n;
                flush(base, c, fd)
            }
            Err(e) if e.is_would_block() => Ok(()),
            Err(_) => close(base, fd),
        }
    }

    fn on_write(
        base: &mut EventBase,
        c: &mut Conn,
        fd: RawFd,
        _: Event,
        exc: Option<Exception>,
    ) -> HandlerResult {
        EVENTS.fetch_add(1, Ordering::Relaxed);
        if exc.is_some() {
            return close(base, fd);
        }
        flush(base, c, fd)?;
        if c.start == c.end && base.fd_monitored_for(fd, Event::Write) {
            base.remove_fd_handlers(fd, Handlers::WRITE);
            base.set_stateful_io_handler(fd, Event::Read, IoOptions::new(), on_read)?;
        }
        Ok(())
    }

    pub fn run(backend: Backend) {
        isys::raise_nofile_limit(20_000).ok();
        let mut base = EventBase::with_backend(backend).expect("event base");
        let server = make_socket()
            .connect(Connect::Passive)
            .local_host("127.0.0.1")
            .local_port(0)
            .backlog(4096)
            .build_passive()
            .expect("listen");
        announce(server.local_port().expect("port"));
        let sfd = server.socket_os_fd().expect("fd");
        base.set_fd_state(sfd, server).expect("state");
        base.set_stateful_io_handler(
            sfd,
            Event::Read,
            IoOptions::new(),
            |base, server: &mut sockets::PassiveSocket, _, _, _| {
                while let Ok(Some(client)) = server.accept_connection(Wait::No) {
                    let fd = client.socket_os_fd().unwrap_or(-1);
                    let _ = isys::setsockopt(&client, libc::IPPROTO_TCP, libc::TCP_NODELAY, &1);
                    base.set_fd_state(
                        fd,
                        Conn {
                            sock: client,
                            buf: vec![0; BUF].into_boxed_slice(),
                            start: 0,
                            end: 0,
                        },
                    )?;
                    base.set_stateful_io_handler(fd, Event::Read, IoOptions::new(), on_read)?;
                }
                Ok(())
            },
        )
        .expect("listener");
        // Commands on stdin through the event base too.
        base.set_io_handler(0, Event::Read, |base, _, _, _| {
            let mut buf = [0u8; 256];
            let stdin = std::io::stdin();
            let n = isys::read(std::os::fd::AsFd::as_fd(&stdin), &mut buf).unwrap_or(0);
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            if n == 0 {
                command("stop");
                base.exit_event_loop(std::time::Duration::ZERO);
            }
            for line in text.lines() {
                if !command(line) {
                    base.exit_event_loop(std::time::Duration::ZERO);
                }
            }
            Ok(())
        })
        .expect("stdin");
        base.event_dispatch(DispatchOptions::default())
            .expect("dispatch");
    }
}

pub use iolib_server::run as run_iolib;

// ----- mio ------------------------------------------------------------------------------------

/// An echo server written the way mio's own examples write one (edge-triggered: read until
/// WouldBlock, write back, keep what did not fit).
pub fn run_mio() {
    use mio::net::TcpListener;
    use mio::{Events, Interest, Poll, Token};
    use std::io::{ErrorKind, Read};

    isys::raise_nofile_limit(20_000).ok();
    commands_nonblocking();
    let mut poll = Poll::new().expect("poll");
    let mut listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).expect("bind");
    announce(listener.local_addr().expect("addr").port());
    const LISTENER: Token = Token(usize::MAX);
    const STDIN: Token = Token(usize::MAX - 1);
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)
        .expect("register");
    poll.registry()
        .register(&mut mio::unix::SourceFd(&0), STDIN, Interest::READABLE)
        .expect("register stdin");
    struct Conn {
        stream: mio::net::TcpStream,
        pending: Vec<u8>,
        sent: usize,
    }
    let mut conns: Vec<Option<Conn>> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    let mut events = Events::with_capacity(1024);
    let mut buf = vec![0u8; BUF];
    loop {
        if let Err(e) = poll.poll(&mut events, None) {
            if e.kind() == ErrorKind::Interrupted {
                continue;
            }
            panic!("poll: {e}");
        }
        for ev in events.iter() {
            if ev.token() == STDIN {
                stdin_commands();
                continue;
            }
            EVENTS.fetch_add(1, Ordering::Relaxed);
            if ev.token() == LISTENER {
                loop {
                    match listener.accept() {
                        Ok((mut stream, _)) => {
                            let _ = stream.set_nodelay(true);
                            let i = free.pop().unwrap_or_else(|| {
                                conns.push(None);
                                conns.len() - 1
                            });
                            poll.registry()
                                .register(
                                    &mut stream,
                                    Token(i),
                                    Interest::READABLE | Interest::WRITABLE,
                                )
                                .expect("register");
                            conns[i] = Some(Conn {
                                stream,
                                pending: Vec::with_capacity(BUF),
                                sent: 0,
                            });
                        }
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        Err(_) => break,
                    }
                }
                continue;
            }
            let i = ev.token().0;
            let mut closed = false;
            if let Some(c) = conns[i].as_mut() {
                // Edge-triggered: work until WouldBlock. Echo each chunk straight back; keep
                // only what the socket would not take (and stop reading until it is out).
                loop {
                    while c.sent < c.pending.len() {
                        match c.stream.write(&c.pending[c.sent..]) {
                            Ok(n) => c.sent += n,
                            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                            Err(_) => {
                                closed = true;
                                break;
                            }
                        }
                    }
                    if closed || c.sent < c.pending.len() {
                        break;
                    }
                    c.pending.clear();
                    c.sent = 0;
                    match c.stream.read(&mut buf) {
                        Ok(0) => {
                            closed = true;
                            break;
                        }
                        Ok(n) => c.pending.extend_from_slice(&buf[..n]),
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                        Err(_) => {
                            closed = true;
                            break;
                        }
                    }
                }
            }
            if closed {
                if let Some(mut c) = conns[i].take() {
                    let _ = poll.registry().deregister(&mut c.stream);
                    free.push(i);
                }
            }
        }
    }
}

// ----- tokio ----------------------------------------------------------------------------------

/// An echo server written the way tokio's own examples write one, on the current-thread
/// runtime (one thread, like every other server here): one task per connection, `read` then
/// `write_all`.
pub fn run_tokio() {
    use std::os::fd::AsFd;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    isys::raise_nofile_limit(20_000).ok();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .expect("runtime");
    rt.block_on(async {
        // Commands on stdin as one more task (tokio's own stdin would add a blocking thread).
        // The orchestrator's stdin is a pipe; run by hand from a terminal, there are none.
        let stdin = std::io::stdin().as_fd().try_clone_to_owned();
        if let Ok(rx) = stdin.and_then(tokio::net::unix::pipe::Receiver::from_owned_fd) {
            tokio::spawn(async move {
                let mut buf = [0u8; 256];
                while rx.readable().await.is_ok() {
                    match rx.try_read(&mut buf) {
                        Ok(n) => run_commands(&buf[..n]),
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                        Err(_) => return,
                    }
                }
            });
        }
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.bind("127.0.0.1:0".parse().unwrap()).expect("bind");
        // The same backlog as the other servers (tokio's `TcpListener::bind` uses 1024).
        let listener = socket.listen(4096).expect("listen");
        announce(listener.local_addr().expect("addr").port());
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let mut buf = vec![0u8; BUF];
                loop {
                    let n = match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    EVENTS.fetch_add(1, Ordering::Relaxed);
                    if stream.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
}

// ----- raw epoll ------------------------------------------------------------------------------

/// The practical limit: level-triggered epoll with one read and one write per event, written
/// against libc directly. The only `unsafe` of the bench crate lives in `raw.rs`.
pub fn run_raw() {
    isys::raise_nofile_limit(20_000).ok();
    commands_nonblocking();
    crate::raw::echo_server(announce, stdin_commands, &EVENTS);
}
