//! The same conditions reported the same way on every backend: a datagram socket's pending
//! error (ICMP port unreachable) reaches the read handler and leaves it registered; a peer's
//! orderly close reads as end of file after all its bytes; a reset reaches the handler as
//! ECONNRESET; a regular file is always ready; a bad fd's error names it; `exit_when_empty`
//! ignores signal handlers ("no handlers and no timers").

use iomux::*;
use isys::{AsRawFd, OwnedFd};
use std::cell::RefCell;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::rc::Rc;
use std::time::{Duration, Instant};

const LONG: Duration = Duration::from_secs(5);

/// Dispatches one round at a time until `done` or `LONG` passes; returns whether `done`.
fn dispatch_until(eb: &mut EventBase, mut done: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + LONG;
    while !done() && Instant::now() < end {
        eb.event_dispatch(
            DispatchOptions::default()
                .one_shot(true)
                .timeout(Duration::from_millis(50)),
        )
        .unwrap();
    }
    done()
}

/// What a read handler saw.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    Data(Vec<u8>),
    Eof,
    Errno(Option<i32>),
    WouldBlock,
    Exception(Exception),
}

fn record(seen: &Rc<RefCell<Vec<Seen>>>, r: std::io::Result<usize>, buf: &[u8]) {
    let s = match r {
        Ok(0) => Seen::Eof,
        Ok(n) => Seen::Data(buf[..n].to_vec()),
        Err(e) if e.kind() == ErrorKind::WouldBlock => Seen::WouldBlock,
        Err(e) => Seen::Errno(e.raw_os_error()),
    };
    seen.borrow_mut().push(s);
}

fn udp_icmp_error_keeps_the_read_handler(b: Backend) {
    let mut eb = EventBase::with_backend(b).unwrap();
    // A port nobody listens on (bound, noted, closed).
    let port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.connect(("127.0.0.1", port)).unwrap();
    sock.set_nonblocking(true).unwrap();
    let fd = sock.as_raw_fd();
    let seen = Rc::new(RefCell::new(Vec::new()));
    {
        let (seen, sock) = (seen.clone(), sock.try_clone().unwrap());
        eb.set_io_handler(fd, Event::Read, move |_, _, _, exc| {
            if let Some(e) = exc {
                seen.borrow_mut().push(Seen::Exception(e));
            }
            let mut buf = [0u8; 64];
            record(&seen, sock.recv(&mut buf), &buf);
            Ok(())
        })
        .unwrap();
    }
    sock.send(b"anyone there?").unwrap();
    let refused = Seen::Errno(Some(isys::libc::ECONNREFUSED));
    assert!(
        dispatch_until(&mut eb, || seen.borrow().contains(&refused)),
        "{b:?}: the read handler never saw ECONNREFUSED; it saw {:?}",
        seen.borrow()
    );
    assert!(
        eb.fd_monitored_for(fd, Event::Read),
        "{b:?}: the read handler was removed after the datagram error (saw {:?})",
        seen.borrow()
    );
    // Now someone listens there and answers: the same handler gets the reply.
    let server = UdpSocket::bind(("127.0.0.1", port)).expect("rebind the closed port");
    server.set_read_timeout(Some(LONG)).unwrap();
    sock.send(b"hello again").unwrap();
    let mut buf = [0u8; 64];
    let (n, from) = server.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"hello again");
    server.send_to(b"reply", from).unwrap();
    let reply = Seen::Data(b"reply".to_vec());
    assert!(
        dispatch_until(&mut eb, || seen.borrow().contains(&reply)),
        "{b:?}: the read handler did not receive the reply; it saw {:?}",
        seen.borrow()
    );
}

/// A read handler that reads `chunk` bytes per call and records what it got.
fn reader(
    eb: &mut EventBase,
    mut stream: impl Read + 'static,
    fd: i32,
    chunk: usize,
) -> Rc<RefCell<Vec<Seen>>> {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let s = seen.clone();
    eb.set_io_handler(fd, Event::Read, move |eb, fd, _, exc| {
        if let Some(e) = exc {
            s.borrow_mut().push(Seen::Exception(e));
        }
        let mut buf = vec![0u8; chunk];
        let r = stream.read(&mut buf);
        let end = !matches!(r, Ok(n) if n > 0)
            && !matches!(&r, Err(e) if e.kind() == ErrorKind::WouldBlock);
        record(&s, r, &buf);
        if end {
            eb.remove_fd_handlers(fd, Handlers::ALL);
        }
        Ok(())
    })
    .unwrap();
    seen
}

fn received(seen: &[Seen]) -> Vec<u8> {
    seen.iter()
        .flat_map(|s| match s {
            Seen::Data(d) => d.clone(),
            _ => Vec::new(),
        })
        .collect()
}

fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + i / 251) as u8).collect()
}

fn tcp_pair() -> (TcpStream, TcpStream) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let a = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (b, _) = l.accept().unwrap();
    (a, b)
}

/// A kind of stream: its name, the peer's end, our fd and our end.
type StreamCase = (&'static str, Box<dyn Write>, i32, Box<dyn Read>);

fn orderly_close_is_end_of_file_after_all_bytes(b: Backend) {
    // TCP (FIN) and a Unix socketpair (POLLHUP on close), 32 KiB read 1 KiB per call.
    let data = payload(32 * 1024);
    let (peer, ours) = tcp_pair();
    ours.set_nonblocking(true).unwrap();
    let unix = isys::socketpair(isys::libc::AF_UNIX, isys::libc::SOCK_STREAM, 0, true).unwrap();
    let cases: Vec<StreamCase> = vec![
        ("tcp", Box::new(peer), ours.as_raw_fd(), Box::new(ours)),
        (
            "unix",
            Box::new(std::os::unix::net::UnixStream::from(unix.0)),
            unix.1.as_raw_fd(),
            Box::new(std::os::unix::net::UnixStream::from(unix.1)),
        ),
    ];
    for (kind, mut peer, fd, ours) in cases {
        let mut eb = EventBase::with_backend(b).unwrap();
        peer.write_all(&data).unwrap();
        drop(peer); // orderly close
        let seen = reader(&mut eb, ours, fd, 1024);
        assert!(
            dispatch_until(&mut eb, || seen
                .borrow()
                .iter()
                .any(|s| !matches!(s, Seen::Data(_) | Seen::WouldBlock))),
            "{b:?}/{kind}: the handler never saw the end"
        );
        let seen = seen.borrow();
        assert_eq!(
            received(&seen).len(),
            data.len(),
            "{b:?}/{kind}: bytes before the close were lost"
        );
        assert!(received(&seen) == data, "{b:?}/{kind}: bytes differ");
        let ends: Vec<&Seen> = seen
            .iter()
            .filter(|s| !matches!(s, Seen::Data(_) | Seen::WouldBlock))
            .collect();
        assert_eq!(
            ends,
            vec![&Seen::Eof],
            "{b:?}/{kind}: an orderly close must read as end of file, with no error exception"
        );
    }
}

fn reset_reaches_the_read_handler_as_econnreset(b: Backend) {
    let mut eb = EventBase::with_backend(b).unwrap();
    let (peer, ours) = tcp_pair();
    ours.set_nonblocking(true).unwrap();
    let fd = ours.as_raw_fd();
    let seen = reader(&mut eb, ours, fd, 1024);
    let linger = isys::libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    isys::setsockopt(
        &peer,
        isys::libc::SOL_SOCKET,
        isys::libc::SO_LINGER,
        &linger,
    )
    .unwrap();
    drop(peer); // RST
    let reset = Seen::Errno(Some(isys::libc::ECONNRESET));
    assert!(
        dispatch_until(&mut eb, || seen.borrow().contains(&reset)
            || !still_waiting(&seen)),
        "{b:?}: timed out"
    );
    assert!(
        seen.borrow().contains(&reset),
        "{b:?}: the read handler must see the reset as ECONNRESET; it saw {:?}",
        seen.borrow()
    );
}

/// Whether the handler may still be waiting (nothing final recorded yet).
fn still_waiting(seen: &Rc<RefCell<Vec<Seen>>>) -> bool {
    !seen
        .borrow()
        .iter()
        .any(|s| matches!(s, Seen::Eof | Seen::Errno(_)))
}

fn regular_file_is_always_ready(b: Backend) {
    let path = std::env::temp_dir().join(format!(
        "iomux-conditions-{}-{}.txt",
        std::process::id(),
        b.name()
    ));
    std::fs::write(&path, b"file contents\n").unwrap();
    let file = std::fs::File::open(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    let mut eb = EventBase::with_backend(b).unwrap();
    let fd = file.as_raw_fd();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let s = seen.clone();
    let mut file = file;
    eb.set_io_handler(fd, Event::Read, move |eb, fd, _, _| {
        let mut buf = [0u8; 64];
        record(&s, file.read(&mut buf), &buf);
        if s.borrow().contains(&Seen::Eof) {
            eb.remove_fd_handlers(fd, Handlers::ALL);
        }
        Ok(())
    })
    .unwrap_or_else(|e| panic!("{b:?}: a regular file must be accepted for reading: {e}"));
    assert!(
        dispatch_until(&mut eb, || seen.borrow().contains(&Seen::Eof)),
        "{b:?}: a regular file was not reported ready: {:?}",
        seen.borrow()
    );
    assert_eq!(
        received(&seen.borrow()),
        b"file contents\n",
        "{b:?}: file contents"
    );
}

fn bad_fd_errors_name_the_fd(b: Backend) {
    let mut eb = EventBase::with_backend(b).unwrap();
    // A closed fd: a number above everything this test binary opens.
    let closed = 777;
    assert!(!isys::fd_is_open(closed), "fd {closed} happens to be open");
    for fd in [closed, -1] {
        let err = eb
            .set_io_handler(fd, Event::Read, |_, _, _, _| Ok(()))
            .expect_err("registering a closed fd must fail");
        let msg = err.to_string();
        assert!(
            msg.contains(&fd.to_string()),
            "{b:?}: the error for fd {fd} does not name it: {msg:?}"
        );
        assert!(!eb.fd_monitored(fd));
    }
    // A real fd closed after creation, too. Tests run in parallel, so another one may reuse
    // the number between the close and the registration (and close it again before anything
    // here could look): an accepted registration is such a reuse and the attempt is made
    // again; a base that accepted closed fds would never refuse one.
    let mut refused = false;
    for _ in 0..20 {
        let (r, w): (OwnedFd, OwnedFd) = isys::pipe(true).unwrap();
        let n = r.as_raw_fd();
        drop(r);
        let result = eb.set_io_handler(n, Event::Read, |_, _, _, _| Ok(()));
        drop(w);
        match result {
            Err(err) => {
                assert!(
                    err.to_string().contains(&n.to_string()),
                    "{b:?}: {err} does not name fd {n}"
                );
                refused = true;
                break;
            }
            Ok(()) => {
                eb.remove_fd_handlers(n, Handlers::ALL);
            }
        }
    }
    assert!(
        refused,
        "{b:?}: a closed fd was accepted in every one of 20 attempts"
    );
}

fn exit_when_empty_ignores_signal_handlers(b: Backend, sig: Signal) {
    let mut eb = EventBase::builder()
        .backend(b)
        .exit_when_empty(true)
        .build()
        .unwrap();
    eb.add_signal_handler(sig, |_, _| Ok(())).unwrap();
    let (r, w) = isys::pipe(true).unwrap();
    isys::write(&w, b"x").unwrap();
    eb.set_io_handler(r.as_raw_fd(), Event::Read, move |eb, fd, _, _| {
        let mut buf = [0u8; 4];
        isys::read(&r, &mut buf)?;
        eb.remove_fd_handlers(fd, Handlers::ALL);
        Ok(())
    })
    .unwrap();
    eb.add_timer(Timer::once(Duration::from_millis(20)), |_| Ok(()));
    let start = Instant::now();
    eb.event_dispatch(DispatchOptions::default().timeout(Duration::from_secs(3)))
        .unwrap();
    let took = start.elapsed();
    assert!(
        took < Duration::from_secs(1),
        "{b:?}: with no fd handlers and no timers left, event_dispatch with exit_when_empty \
         must return even though a signal handler is installed; it ran {took:?} (until its \
         timeout)"
    );
    drop(w);
}

macro_rules! conditions {
    ($($test:ident),* $(,)?) => {
        #[cfg(any(feature = "epoll", all(feature = "native", any(target_os = "linux", target_os = "android"))))]
        mod epoll {
            $( #[test] fn $test() { super::$test(iomux::Backend::Epoll) } )*
            #[test] fn exit_when_empty_ignores_signal_handlers() { super::exit_when_empty_ignores_signal_handlers(iomux::Backend::Epoll, iomux::Signal::SIGUSR1) }
        }
        #[cfg(any(feature = "kqueue", all(feature = "native", any(target_os = "macos", target_os = "ios", target_os = "freebsd", target_os = "openbsd", target_os = "netbsd", target_os = "dragonfly"))))]
        mod kqueue {
            $( #[test] fn $test() { super::$test(iomux::Backend::Kqueue) } )*
            #[test] fn exit_when_empty_ignores_signal_handlers() { super::exit_when_empty_ignores_signal_handlers(iomux::Backend::Kqueue, iomux::Signal::SIGUSR1) }
        }
        #[cfg(feature = "poll")]
        mod poll {
            $( #[test] fn $test() { super::$test(iomux::Backend::Poll) } )*
            #[test] fn exit_when_empty_ignores_signal_handlers() { super::exit_when_empty_ignores_signal_handlers(iomux::Backend::Poll, iomux::Signal::SIGUSR2) }
        }
        #[cfg(feature = "select")]
        mod select {
            $( #[test] fn $test() { super::$test(iomux::Backend::Select) } )*
            #[test] fn exit_when_empty_ignores_signal_handlers() { super::exit_when_empty_ignores_signal_handlers(iomux::Backend::Select, iomux::Signal::SIGWINCH) }
        }
    };
}

conditions!(
    udp_icmp_error_keeps_the_read_handler,
    orderly_close_is_end_of_file_after_all_bytes,
    reset_reaches_the_read_handler_as_econnreset,
    regular_file_is_always_ready,
    bad_fd_errors_name_the_fd,
);
