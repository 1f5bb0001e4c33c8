//! `Error::Handler` names the failed handler's fd and event, and hands back the handler's
//! error typed (`handler_error_as`), on every compiled backend.

mod util;

use iomux::*;
use isys::AsRawFd;
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

const LONG: Duration = Duration::from_secs(5);

/// A typed error, as a socket layer would return.
#[derive(Debug, PartialEq)]
struct PeerReset;
impl std::fmt::Display for PeerReset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection reset by peer")
    }
}
impl std::error::Error for PeerReset {}

fn dispatch_err(eb: &mut EventBase) -> Error {
    eb.event_dispatch(DispatchOptions::default().timeout(LONG))
        .unwrap_err()
}

fn read_and_write_handler_errors_name_fd_and_event(b: Backend) {
    let mut eb = EventBase::with_backend(b).unwrap();
    let (r, w) = isys::pipe(true).unwrap();
    isys::write(&w, b"!").unwrap();
    let fd = r.as_raw_fd();
    eb.set_io_handler(fd, Event::Read, |_, _, _, _| Err(Box::new(PeerReset)))
        .unwrap();
    let e = dispatch_err(&mut eb);
    assert_eq!(e.fd(), Some(fd), "{b:?}");
    assert_eq!(e.event(), Some(Event::Read));
    assert_eq!(
        e.to_string(),
        format!("read handler of fd {fd} failed: connection reset by peer")
    );
    assert_eq!(e.handler_error_as::<PeerReset>(), Some(&PeerReset));
    assert!(e.handler_error_as::<std::io::Error>().is_none());
    assert!(matches!(e, Error::Handler { fd: Some(f), event: Some(Event::Read), .. } if f == fd));
    let source = std::error::Error::source(&e).expect("the handler's error is the source");
    assert_eq!(source.to_string(), "connection reset by peer");
    eb.remove_fd_handlers(fd, Handlers::ALL);

    let wfd = w.as_raw_fd();
    eb.set_io_handler(wfd, Event::Write, |_, _, _, _| {
        Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe).into())
    })
    .unwrap();
    let e = dispatch_err(&mut eb);
    assert_eq!(
        (e.fd(), e.event()),
        (Some(wfd), Some(Event::Write)),
        "{b:?}"
    );
    assert!(
        e.to_string()
            .starts_with(&format!("write handler of fd {wfd} failed: ")),
        "{e}"
    );
    assert_eq!(
        e.handler_error_as::<std::io::Error>().map(|e| e.kind()),
        Some(std::io::ErrorKind::BrokenPipe)
    );
}

fn timeout_and_error_handlers_name_their_event(b: Backend) {
    let mut eb = EventBase::with_backend(b).unwrap();
    let (r, _w) = isys::pipe(true).unwrap();
    let fd = r.as_raw_fd();
    eb.set_io_handler_with(
        fd,
        Event::Read,
        IoOptions::new().timeout(Duration::from_millis(10)),
        |_, _, _, exc| {
            assert_eq!(exc, Some(Exception::Timeout));
            Err("idle too long".into())
        },
    )
    .unwrap();
    let e = dispatch_err(&mut eb);
    assert_eq!((e.fd(), e.event()), (Some(fd), Some(Event::Read)), "{b:?}");
    assert_eq!(
        e.to_string(),
        format!("read handler of fd {fd} failed: idle too long")
    );
    // An error handler's failure (select cannot watch errors alone).
    if b != Backend::Select {
        let (a, peer) = std::os::unix::net::UnixStream::pair().unwrap();
        drop(peer);
        let afd = a.as_raw_fd();
        eb.remove_fd_handlers(fd, Handlers::ALL);
        eb.set_error_handler(afd, |_, _, _, _| Err("gone".into()))
            .unwrap();
        let e = dispatch_err(&mut eb);
        assert_eq!(
            (e.fd(), e.event()),
            (Some(afd), Some(Event::Error)),
            "{b:?}"
        );
        assert_eq!(
            e.to_string(),
            format!("error handler of fd {afd} failed: gone")
        );
    }
}

fn timer_and_signal_handler_errors_have_no_fd(b: Backend) {
    let mut eb = EventBase::with_backend(b).unwrap();
    let policy_calls = Rc::new(Cell::new(0));
    let p = policy_calls.clone();
    eb.set_handler_error_policy(move |_| {
        p.set(p.get() + 1);
        OnError::DropFd
    });
    eb.add_timer(Timer::once(Duration::ZERO), |_| Err(Box::new(PeerReset)));
    let e = dispatch_err(&mut eb);
    assert_eq!((e.fd(), e.event()), (None, None), "{b:?}");
    assert_eq!(
        e.to_string(),
        "timer or signal handler failed: connection reset by peer"
    );
    assert_eq!(e.handler_error_as::<PeerReset>(), Some(&PeerReset));

    // A signal handler's error ends the dispatch whatever the policy says, and names no fd
    // (not the base's own signal pipe).
    let signal = signal_for(b);
    let id = eb
        .add_signal_handler(signal, |_, _| Err("signal handler gave up".into()))
        .unwrap();
    isys::raise(signal).unwrap();
    let e = dispatch_err(&mut eb);
    eb.remove_signal_handler(id);
    assert_eq!((e.fd(), e.event()), (None, None), "{b:?}: {e}");
    assert_eq!(
        e.to_string(),
        "timer or signal handler failed: signal handler gave up"
    );
    assert_eq!(policy_calls.get(), 0, "the policy is for fds' handlers");
}

fn other_errors_name_their_fd(b: Backend) {
    let mut eb = EventBase::with_backend(b).unwrap();
    let (r, _w) = isys::pipe(true).unwrap();
    let fd = r.as_raw_fd();
    eb.set_io_handler(fd, Event::Read, |_, _, _, _| Ok(()))
        .unwrap();
    let e = eb
        .set_io_handler(fd, Event::Read, |_, _, _, _| Ok(()))
        .unwrap_err();
    assert_eq!((e.fd(), e.event()), (Some(fd), Some(Event::Read)), "{b:?}");
    assert!(e.handler_error().is_none() && e.handler_error_as::<PeerReset>().is_none());
    let e = eb
        .set_io_handler(-1, Event::Read, |_, _, _, _| Ok(()))
        .unwrap_err();
    assert_eq!((e.fd(), e.event()), (Some(-1), None));
    assert_eq!(Event::Write.to_string(), "write");
}

/// Signals are process-wide: one per backend, so the backends' tests can run at once.
fn signal_for(b: Backend) -> Signal {
    match b {
        Backend::Epoll | Backend::Kqueue => Signal::SIGUSR1,
        Backend::Poll => Signal::SIGUSR2,
        Backend::Select => Signal::SIGWINCH,
    }
}

per_backend!(
    read_and_write_handler_errors_name_fd_and_event,
    timeout_and_error_handlers_name_their_event,
    timer_and_signal_handler_errors_have_no_fd,
    other_errors_name_their_fd,
);
