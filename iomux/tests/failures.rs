//! Handler failures and the failure policy, the end-of-work rule, and fds epoll refuses: on
//! every compiled backend.

mod util;

use iomux::*;
use isys::{AsRawFd, OwnedFd};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

const LONG: Duration = Duration::from_secs(5);

fn pipe_with_byte() -> (OwnedFd, OwnedFd) {
    let (r, w) = isys::pipe(true).unwrap();
    isys::write(&w, b"!").unwrap();
    (r, w)
}

/// Without a policy a handler error ends the dispatch (IOLib's behaviour); with `DropFd` the
/// failing fd alone is dropped, its state and handler-owned fds closed, and the others served.
fn drop_fd_policy_ends_only_the_failing_fd(b: Backend) {
    let mut eb = EventBase::with_backend(b).unwrap();
    let (bad_r, bad_w) = pipe_with_byte();
    let (good_r, good_w) = pipe_with_byte();
    let bad = bad_r.as_raw_fd();
    // The failing handler owns its fd; the state is a second owned fd, to see both closed.
    let (state_r, state_w) = isys::pipe(true).unwrap();
    eb.set_fd_state(bad, state_r).unwrap();
    eb.set_io_handler(bad, Event::Read, move |_, _, _, _| {
        let _owned = &bad_r;
        Err("peer sent garbage".into())
    })
    .unwrap();
    let served = Rc::new(Cell::new(0));
    let s = served.clone();
    eb.set_io_handler(good_r.as_raw_fd(), Event::Read, move |eb, fd, _, _| {
        let mut buf = [0u8; 8];
        isys::read(&good_r, &mut buf)?;
        s.set(s.get() + 1);
        if s.get() == 3 {
            eb.remove_fd_handlers(fd, Handlers::ALL);
        } else {
            isys::write(&good_w, b"!")?;
        }
        Ok(())
    })
    .unwrap();
    let failures = Rc::new(RefCell::new(Vec::new()));
    let f = failures.clone();
    eb.set_handler_error_policy(move |failure| {
        f.borrow_mut()
            .push((failure.fd, failure.event, failure.error.to_string()));
        OnError::DropFd
    });
    eb.event_dispatch(
        DispatchOptions::default()
            .exit_when_empty(true)
            .timeout(LONG),
    )
    .unwrap();
    assert_eq!(served.get(), 3, "{b:?}: the other fd was served throughout");
    assert_eq!(
        *failures.borrow(),
        vec![(bad, Event::Read, "peer sent garbage".to_string())]
    );
    assert!(!eb.fd_monitored(bad));
    // Both read ends are closed (their write ends see EPIPE; Rust ignores SIGPIPE).
    assert_eq!(
        isys::write(&bad_w, b"x"),
        Err(isys::Errno::EPIPE),
        "the handler's fd was closed by dropping it"
    );
    assert_eq!(
        isys::write(&state_w, b"x"),
        Err(isys::Errno::EPIPE),
        "the fd's state was dropped"
    );

    // The default: the error ends the dispatch and names itself.
    eb.clear_handler_error_policy();
    let (r, _w) = pipe_with_byte();
    eb.set_io_handler(r.as_raw_fd(), Event::Read, |_, _, _, _| Err("fatal".into()))
        .unwrap();
    let e = eb
        .event_dispatch(DispatchOptions::default().timeout(LONG))
        .unwrap_err();
    assert_eq!(e.handler_error().unwrap().to_string(), "fatal");
    assert!(eb.fd_monitored(r.as_raw_fd()), "no policy: nothing dropped");
}

/// `Continue` keeps the handler: the next round calls it again (a transient error).
fn continue_policy_keeps_the_handler(b: Backend) {
    let mut eb = EventBase::with_backend(b).unwrap();
    let (r, _w) = pipe_with_byte();
    let calls = Rc::new(Cell::new(0));
    let c = calls.clone();
    eb.set_io_handler(r.as_raw_fd(), Event::Read, move |eb, fd, _, _| {
        c.set(c.get() + 1);
        if c.get() < 3 {
            return Err("no buffer space for now".into());
        }
        eb.remove_fd_handlers(fd, Handlers::ALL);
        Ok(())
    })
    .unwrap();
    eb.set_handler_error_policy(|_| OnError::Continue);
    eb.event_dispatch(
        DispatchOptions::default()
            .exit_when_empty(true)
            .timeout(LONG),
    )
    .unwrap();
    assert_eq!(calls.get(), 3);
}

/// `exit_when_empty` ends the loop once no fd handlers and no timers remain, even with a
/// signal handler installed (a server's SIGINT handler).
fn exit_when_empty_ignores_signal_handlers(b: Backend) {
    let mut eb = EventBase::with_backend(b).unwrap();
    let id = eb
        .add_signal_handler(Signal::SIGUSR2, |_, _| Ok(()))
        .unwrap();
    eb.add_timer(Timer::once(Duration::from_millis(10)), |_| Ok(()));
    assert!(!eb.is_empty());
    let start = std::time::Instant::now();
    eb.event_dispatch(
        DispatchOptions::default()
            .exit_when_empty(true)
            .timeout(LONG),
    )
    .unwrap();
    assert!(start.elapsed() < Duration::from_secs(2), "{b:?}");
    assert!(eb.has_no_work());
    assert!(!eb.is_empty(), "the signal handler is still there");
    assert!(eb.remove_signal_handler(id));
}

/// A regular file is always ready on every backend (epoll refuses it with EPERM: it is kept
/// aside and reported ready, as poll and select report it).
fn regular_files_are_always_ready(b: Backend) {
    let path = std::env::temp_dir().join(format!("iomux-file-{}-{b:?}", std::process::id()));
    std::fs::write(&path, b"line one\nline two\n").unwrap();
    let file = std::fs::File::open(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let mut eb = EventBase::with_backend(b).unwrap();
    let got = Rc::new(RefCell::new(Vec::new()));
    let g = got.clone();
    eb.set_io_handler(file.as_raw_fd(), Event::Read, move |eb, fd, _, _| {
        let mut buf = [0u8; 4];
        let n = std::io::Read::read(&mut &file, &mut buf)?;
        if n == 0 {
            eb.remove_fd_handlers(fd, Handlers::ALL);
        }
        g.borrow_mut().extend_from_slice(&buf[..n]);
        Ok(())
    })
    .unwrap_or_else(|e| panic!("{b:?}: {e}"));
    eb.event_dispatch(
        DispatchOptions::default()
            .exit_when_empty(true)
            .timeout(LONG),
    )
    .unwrap();
    assert_eq!(&got.borrow()[..], b"line one\nline two\n");
}

per_backend!(
    drop_fd_policy_ends_only_the_failing_fd,
    continue_policy_keeps_the_handler,
    exit_when_empty_ignores_signal_handlers,
    regular_files_are_always_ready,
);
