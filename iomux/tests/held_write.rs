//! A write handler added to an fd whose read handler the loop is calling waits aside in the
//! base (`stage.rs`) until the next wait or anything else touches the fd table: whatever the
//! handler does next must see it as if it were in its slot. On every compiled backend.

mod util;

use iomux::*;
use isys::{AsRawFd, MsgFlags, OwnedFd, RawFd};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

const LONG: Duration = Duration::from_secs(5);

fn socketpair() -> (OwnedFd, OwnedFd) {
    isys::socketpair(isys::libc::AF_UNIX, isys::libc::SOCK_STREAM, 0, true).unwrap()
}

fn one_round(eb: &mut EventBase, wait: Duration) -> Result<DispatchOutcome> {
    eb.event_dispatch(DispatchOptions::default().one_shot(true).timeout(wait))
}

/// Drains what the peer sent, so that the reader is not called again for it.
fn drain(a: &OwnedFd) {
    let mut buf = [0u8; 64];
    while isys::recv(a, &mut buf, MsgFlags::DONT_WAIT).is_ok_and(|n| n > 0) {}
}

/// One end of a socketpair, shared with the handlers that read it, and its peer.
fn pair() -> (Rc<OwnedFd>, OwnedFd) {
    let (a, peer) = socketpair();
    (Rc::new(a), peer)
}

thread_local! {
    static CALLS: RefCell<Vec<(RawFd, Event)>> = const { RefCell::new(Vec::new()) };
}

fn calls() -> Vec<(RawFd, Event)> {
    CALLS.with(|c| c.borrow().clone())
}

/// A write handler that captures nothing (the kind the tutorial's servers pass): records
/// the call and removes itself.
fn write_once(eb: &mut EventBase, fd: RawFd, ev: Event, _: Option<Exception>) -> HandlerResult {
    CALLS.with(|c| c.borrow_mut().push((fd, ev)));
    eb.remove_fd_handlers(fd, Handlers::WRITE);
    Ok(())
}

/// A reader whose first step is given by the test; reports the fd to the base first.
fn reader_round(eb: &mut EventBase, a: &OwnedFd, peer: &OwnedFd) {
    isys::send(peer, b"x", MsgFlags::empty()).unwrap();
    one_round(eb, LONG).unwrap();
    drain(a);
}

/// Has the backend report `a` once, with a reader that is then removed: from then on a
/// reader's call opens the stage for it.
fn reported(eb: &mut EventBase, a: &OwnedFd, peer: &OwnedFd) {
    let fd = a.as_raw_fd();
    eb.set_io_handler(fd, Event::Read, |_, _, _, _| Ok(()))
        .unwrap();
    reader_round(eb, a, peer);
    assert!(eb.remove_fd_handlers(fd, Handlers::READ));
}

/// A base on `b` and a socketpair whose first end it has reported (see `reported`).
fn reported_pair(b: Backend) -> (EventBase, Rc<OwnedFd>, OwnedFd, RawFd) {
    let mut eb = EventBase::with_backend(b).unwrap();
    let (a, peer) = pair();
    reported(&mut eb, &a, &peer);
    let fd = a.as_raw_fd();
    (eb, a, peer, fd)
}

/// Kept: the handler added during the read call is watched by the kernel at the next wait,
/// and seen as set by every query meanwhile.
fn kept_write_handler_runs_next_round(b: Backend) {
    let mut eb = EventBase::with_backend(b).unwrap();
    let (a, peer) = pair();
    let fd = a.as_raw_fd();
    let a2 = a.clone();
    let seen = Rc::new(Cell::new(false));
    reported(&mut eb, &a, &peer);
    let seen2 = seen.clone();
    eb.set_io_handler(fd, Event::Read, move |eb, fd, _, _| {
        drain(&a2);
        eb.set_io_handler(fd, Event::Write, write_once)?;
        assert!(eb.fd_monitored_for(fd, Event::Write));
        assert!(eb.fd_monitored(fd));
        assert!(!eb.is_empty() && !eb.has_no_work());
        seen2.set(true);
        Ok(())
    })
    .unwrap();
    reader_round(&mut eb, &a, &peer);
    assert!(seen.get());
    assert!(eb.fd_monitored_for(fd, Event::Write));
    one_round(&mut eb, LONG).unwrap();
    assert_eq!(calls(), vec![(fd, Event::Write)]);
    assert!(!eb.fd_monitored_for(fd, Event::Write));
}

/// Taken back in the same call: never runs; a closure that owns an fd is dropped (and its fd
/// closed) by the removal itself; adding it twice is refused, as for a handler in its slot.
fn removed_in_the_same_call_never_runs(b: Backend) {
    let (mut eb, a, peer, fd) = reported_pair(b);
    let a2 = a.clone();
    let (owned, owned_peer) = socketpair();
    let mut owned = Some(owned);
    let owned_peer = Rc::new(owned_peer);
    let op = owned_peer.clone();
    eb.set_io_handler(fd, Event::Read, move |eb, fd, _, _| {
        drain(&a2);
        let owned = owned.take().expect("called once");
        eb.set_io_handler(fd, Event::Write, move |_, _, _, _| {
            let _keep = &owned;
            panic!("a write handler removed in the call that added it ran");
        })?;
        assert!(matches!(
            eb.set_io_handler(fd, Event::Write, write_once),
            Err(Error::HandlerExists { .. })
        ));
        let mut buf = [0u8; 1];
        assert_eq!(
            isys::recv(&*op, &mut buf, MsgFlags::DONT_WAIT),
            Err(isys::Errno::EAGAIN)
        );
        assert!(eb.remove_fd_handlers(fd, Handlers::WRITE));
        assert_eq!(
            isys::recv(&*op, &mut buf, MsgFlags::DONT_WAIT),
            Ok(0),
            "the removal did not drop the closure"
        );
        assert!(!eb.remove_fd_handlers(fd, Handlers::WRITE), "removed twice");
        assert!(!eb.fd_monitored_for(fd, Event::Write));
        // Added and taken back again, a function this time.
        eb.set_io_handler(fd, Event::Write, write_once)?;
        assert!(eb.remove_fd_handlers(fd, Handlers::WRITE));
        Ok(())
    })
    .unwrap();
    reader_round(&mut eb, &a, &peer);
    one_round(&mut eb, Duration::from_millis(50)).unwrap();
    assert_eq!(calls(), vec![]);
    assert!(eb.fd_monitored(fd) && !eb.fd_monitored_for(fd, Event::Write));
}

/// Anything else done to the base puts the held handler in its slot first: removing the
/// reader, adding a timed handler, removing every handler.
fn other_calls_see_the_held_handler(b: Backend) {
    let (mut eb, a, peer, fd) = reported_pair(b);
    let a2 = a.clone();
    let step = Rc::new(Cell::new(0));
    let step2 = step.clone();
    eb.set_io_handler(fd, Event::Read, move |eb, fd, _, _| {
        drain(&a2);
        step2.set(step2.get() + 1);
        match step2.get() {
            1 => {
                eb.set_io_handler(fd, Event::Write, write_once)?;
                // The reader goes; the writer stays, and runs next round.
                assert!(eb.remove_fd_handlers(fd, Handlers::READ));
                assert!(eb.fd_monitored_for(fd, Event::Write));
                assert!(!eb.is_empty());
            }
            _ => unreachable!("removed in its first call"),
        }
        Ok(())
    })
    .unwrap();
    reader_round(&mut eb, &a, &peer);
    assert_eq!(step.get(), 1);
    one_round(&mut eb, LONG).unwrap();
    assert_eq!(calls(), vec![(fd, Event::Write)]);
    assert!(!eb.fd_monitored(fd));

    // A timed write handler finds the slot taken; removing everything removes the held one.
    reported(&mut eb, &a, &peer);
    let a3 = a.clone();
    eb.set_io_handler(fd, Event::Read, move |eb, fd, _, _| {
        drain(&a3);
        eb.set_io_handler(fd, Event::Write, write_once)?;
        let timed = IoOptions::new().timeout(Duration::from_secs(60));
        assert!(matches!(
            eb.set_io_handler_with(fd, Event::Write, timed, write_once),
            Err(Error::HandlerExists { .. })
        ));
        assert!(eb.remove_fd_handlers(fd, Handlers::ALL));
        assert!(!eb.fd_monitored(fd));
        assert!(eb.is_empty());
        Ok(())
    })
    .unwrap();
    reader_round(&mut eb, &a, &peer);
    one_round(&mut eb, Duration::from_millis(50)).unwrap();
    assert_eq!(calls(), vec![(fd, Event::Write)], "no second write call");
    assert!(eb.is_empty());
}

/// The reader of one fd adds a write handler to another fd whose reader ran earlier in the
/// same round (its entry unchanged since): it is held too, and runs next round.
fn added_to_another_fd_read_this_round(b: Backend) {
    let mut eb = EventBase::with_backend(b).unwrap();
    let pairs: Vec<(Rc<OwnedFd>, OwnedFd)> = (0..2).map(|_| pair()).collect();
    let fds: Vec<RawFd> = pairs.iter().map(|(a, _)| a.as_raw_fd()).collect();
    for &fd in &fds {
        eb.set_io_handler(fd, Event::Read, |_, _, _, _| Ok(()))
            .unwrap();
    }
    for (_, peer) in &pairs {
        isys::send(peer, b"x", MsgFlags::empty()).unwrap();
    }
    one_round(&mut eb, LONG).unwrap();
    pairs.iter().for_each(|(a, _)| drain(a));
    let first: Rc<Cell<Option<RawFd>>> = Rc::new(Cell::new(None));
    for (a, _) in &pairs {
        let fd = a.as_raw_fd();
        eb.remove_fd_handlers(fd, Handlers::READ);
        let (first, a2) = (first.clone(), a.clone());
        eb.set_io_handler(fd, Event::Read, move |eb, fd, _, _| {
            drain(&a2);
            match first.get() {
                None => first.set(Some(fd)),
                Some(other) => {
                    eb.set_io_handler(other, Event::Write, write_once)?;
                    assert!(eb.fd_monitored_for(other, Event::Write));
                }
            }
            Ok(())
        })
        .unwrap();
    }
    // The replaced readers are new entries: a round reports them before they are called.
    for (_, peer) in &pairs {
        isys::send(peer, b"x", MsgFlags::empty()).unwrap();
    }
    one_round(&mut eb, LONG).unwrap();
    if !first
        .get()
        .is_some_and(|f| eb.fd_monitored_for(f, Event::Write))
    {
        // A round that reported one fd only: the other comes next.
        one_round(&mut eb, LONG).unwrap();
    }
    let other = first.get().expect("a reader ran");
    assert!(eb.fd_monitored_for(other, Event::Write));
    one_round(&mut eb, LONG).unwrap();
    assert_eq!(calls(), vec![(other, Event::Write)]);
}

/// A reader that adds a write handler and then fails, or asks the loop to exit: the handler
/// stays set through the error or the exit, and runs at the next dispatch.
fn held_through_an_error_and_an_exit(b: Backend) {
    for fail in [true, false] {
        CALLS.with(|c| c.borrow_mut().clear());
        let (mut eb, a, peer, fd) = reported_pair(b);
        let a2 = a.clone();
        let called = Rc::new(Cell::new(false));
        let called2 = called.clone();
        eb.set_io_handler(fd, Event::Read, move |eb, fd, _, _| {
            drain(&a2);
            if called2.replace(true) {
                return Ok(());
            }
            eb.set_io_handler(fd, Event::Write, write_once)?;
            if fail {
                return Err("the reader failed".into());
            }
            eb.exit_event_loop(Duration::ZERO);
            Ok(())
        })
        .unwrap();
        isys::send(&peer, b"x", MsgFlags::empty()).unwrap();
        let outcome = eb.event_dispatch(DispatchOptions::default().timeout(LONG));
        if fail {
            assert!(matches!(outcome, Err(Error::Handler { .. })), "{outcome:?}");
        } else {
            assert_eq!(outcome.unwrap(), DispatchOutcome::ExitRequested);
        }
        assert!(called.get());
        assert!(eb.fd_monitored_for(fd, Event::Write));
        assert!(calls().is_empty());
        one_round(&mut eb, LONG).unwrap();
        assert_eq!(calls(), vec![(fd, Event::Write)]);
        assert!(!eb.fd_monitored_for(fd, Event::Write));
    }
}

/// The tutorial's echo on a stateful reader: read, add the writer, write at once, remove
/// the writer; many rounds, and the peer gets every byte back.
fn stateful_echo_through_the_held_pair(b: Backend) {
    struct Conn {
        sock: OwnedFd,
        buf: Vec<u8>,
        writer: bool,
    }
    fn on_write(
        eb: &mut EventBase,
        c: &mut Conn,
        fd: RawFd,
        _: Event,
        _: Option<Exception>,
    ) -> HandlerResult {
        let n = isys::send(&c.sock, &c.buf, MsgFlags::DONT_WAIT)?;
        c.buf.drain(..n);
        if c.buf.is_empty() && c.writer {
            assert!(eb.remove_fd_handlers(fd, Handlers::WRITE));
            c.writer = false;
        }
        Ok(())
    }
    fn on_read(
        eb: &mut EventBase,
        c: &mut Conn,
        fd: RawFd,
        _: Event,
        _: Option<Exception>,
    ) -> HandlerResult {
        let mut buf = [0u8; 256];
        let n = isys::recv(&c.sock, &mut buf, MsgFlags::DONT_WAIT)?;
        if n == 0 {
            eb.remove_fd_handlers(fd, Handlers::ALL);
            return Ok(());
        }
        c.buf.extend_from_slice(&buf[..n]);
        if !c.writer {
            eb.set_stateful_io_handler(fd, Event::Write, IoOptions::new(), on_write)?;
            c.writer = true;
        }
        on_write(eb, c, fd, Event::Write, None)
    }
    let mut eb = EventBase::with_backend(b).unwrap();
    let (a, peer) = socketpair();
    let fd = a.as_raw_fd();
    eb.set_fd_state(
        fd,
        Conn {
            sock: a,
            buf: Vec::new(),
            writer: false,
        },
    )
    .unwrap();
    eb.set_stateful_io_handler(fd, Event::Read, IoOptions::new(), on_read)
        .unwrap();
    for i in 0..200u32 {
        let msg = i.to_be_bytes();
        isys::send(&peer, &msg, MsgFlags::empty()).unwrap();
        let mut got = Vec::new();
        while got.len() < msg.len() {
            one_round(&mut eb, LONG).unwrap();
            let mut buf = [0u8; 8];
            if let Ok(n) = isys::recv(&peer, &mut buf, MsgFlags::DONT_WAIT) {
                got.extend_from_slice(&buf[..n]);
            }
        }
        assert_eq!(got, msg);
        assert!(!eb.fd_monitored_for(fd, Event::Write));
    }
    drop(peer);
    eb.event_dispatch(
        DispatchOptions::default()
            .exit_when_empty(true)
            .timeout(LONG),
    )
    .unwrap();
    assert!(!eb.fd_monitored(fd));
}

/// No fd number is taken for "nothing staged": -1 gets `BadFd` and removes nothing, inside a
/// read handler's call as outside any.
fn negative_fds_are_never_held(b: Backend) {
    let mut eb = EventBase::with_backend(b).unwrap();
    let check = |eb: &mut EventBase| {
        assert!(matches!(
            eb.set_io_handler(-1, Event::Write, write_once),
            Err(Error::BadFd(-1))
        ));
        assert!(!eb.remove_fd_handlers(-1, Handlers::WRITE));
        assert!(!eb.fd_monitored_for(-1, Event::Write) && !eb.fd_monitored(-1));
    };
    check(&mut eb);
    assert!(eb.is_empty());
    let (a, peer) = pair();
    let fd = a.as_raw_fd();
    let a2 = a.clone();
    let called = Rc::new(Cell::new(0));
    let called2 = called.clone();
    eb.set_io_handler(fd, Event::Read, move |eb, _, _, _| {
        drain(&a2);
        called2.set(called2.get() + 1);
        check(eb);
        Ok(())
    })
    .unwrap();
    reader_round(&mut eb, &a, &peer);
    reader_round(&mut eb, &a, &peer);
    assert_eq!(called.get(), 2);
    check(&mut eb);
    assert!(eb.remove_fd_handlers(fd, Handlers::READ));
    assert!(eb.is_empty());
    let outcome = eb.event_dispatch(
        DispatchOptions::default()
            .exit_when_empty(true)
            .timeout(LONG),
    );
    assert_eq!(outcome.unwrap(), DispatchOutcome::Empty);
}

/// An fd watched by an error handler alone hangs up; the error handler adds a write handler
/// to it. The error's delivery removes only the handlers that saw it: the write handler
/// stays, and runs in the next round.
fn write_handler_added_by_an_error_handler(b: Backend) {
    if b == Backend::Select {
        return; // select watches no fd for errors alone
    }
    let mut eb = EventBase::with_backend(b).unwrap();
    let (a, peer) = pair();
    let fd = a.as_raw_fd();
    let errors = Rc::new(Cell::new(0));
    let errors2 = errors.clone();
    eb.set_error_handler(fd, move |eb, fd, _, exc| {
        assert_eq!(exc, Some(Exception::Error));
        errors2.set(errors2.get() + 1);
        eb.set_io_handler(fd, Event::Write, write_once)?;
        assert!(eb.fd_monitored_for(fd, Event::Write));
        Ok(())
    })
    .unwrap();
    drop(peer);
    one_round(&mut eb, LONG).unwrap();
    assert_eq!(errors.get(), 1);
    assert!(eb.fd_monitored_for(fd, Event::Write));
    assert!(!eb.fd_monitored_for(fd, Event::Error));
    one_round(&mut eb, LONG).unwrap();
    assert_eq!(calls(), vec![(fd, Event::Write)]);
    assert!(!eb.fd_monitored(fd));
    drop(a);
}

per_backend!(
    kept_write_handler_runs_next_round,
    removed_in_the_same_call_never_runs,
    other_calls_see_the_held_handler,
    added_to_another_fd_read_this_round,
    held_through_an_error_and_an_exit,
    stateful_echo_through_the_held_pair,
    negative_fds_are_never_held,
    write_handler_added_by_an_error_handler,
);
