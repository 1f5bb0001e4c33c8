//! One suite, run on every compiled backend (a module per backend, generated below).

use iomux::*;
use isys::{AsFd, AsRawFd, MsgFlags, OwnedFd};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

fn base(b: Backend) -> EventBase {
    EventBase::with_backend(b).unwrap()
}

fn socketpair() -> (OwnedFd, OwnedFd) {
    isys::socketpair(isys::libc::AF_UNIX, isys::libc::SOCK_STREAM, 0, true).unwrap()
}

fn counter() -> Rc<Cell<u32>> {
    Rc::new(Cell::new(0))
}

const LONG: Duration = Duration::from_secs(5);

fn readiness_on_pipes_and_socketpairs(b: Backend) {
    let mut eb = base(b);
    let (r, w) = isys::pipe(true).unwrap();
    let (s1, s2) = socketpair();
    let reads = Rc::new(RefCell::new(Vec::new()));
    let writes = counter();
    {
        let reads1 = reads.clone();
        eb.set_io_handler(r.as_raw_fd(), Event::Read, move |eb, fd, ev, exc| {
            assert_eq!(ev, Event::Read);
            assert_eq!(exc, None);
            reads1.borrow_mut().push(fd);
            eb.remove_fd_handlers(fd, Handlers::READ);
            Ok(())
        })
        .unwrap();
        let reads = reads.clone();
        eb.set_io_handler(s2.as_raw_fd(), Event::Read, move |eb, fd, _, _| {
            reads.borrow_mut().push(fd);
            eb.remove_fd_handlers(fd, Handlers::ALL);
            Ok(())
        })
        .unwrap();
    }
    {
        let writes = writes.clone();
        eb.set_io_handler(w.as_raw_fd(), Event::Write, move |eb, fd, ev, _| {
            assert_eq!(ev, Event::Write);
            writes.set(writes.get() + 1);
            eb.remove_fd_handlers(fd, Handlers::WRITE);
            Ok(())
        })
        .unwrap();
    }
    assert!(eb.fd_monitored(r.as_raw_fd()));
    assert!(eb.fd_monitored_for(w.as_raw_fd(), Event::Write));
    assert!(!eb.fd_monitored_for(w.as_raw_fd(), Event::Read));
    // Only the writer is ready.
    eb.event_dispatch(DispatchOptions::default().one_shot(true).timeout(LONG))
        .unwrap();
    assert_eq!(writes.get(), 1);
    assert!(reads.borrow().is_empty());
    isys::write(&w, b"x").unwrap();
    isys::send(&s1, b"y", MsgFlags::empty()).unwrap();
    eb.event_dispatch(
        DispatchOptions::default()
            .exit_when_empty(true)
            .timeout(LONG),
    )
    .unwrap();
    let mut got = reads.borrow().clone();
    got.sort();
    let mut want = vec![r.as_raw_fd(), s2.as_raw_fd()];
    want.sort();
    assert_eq!(got, want);
    assert!(eb.is_empty());
}

fn level_triggered_refire(b: Backend) {
    let mut eb = base(b);
    let (r, w) = isys::pipe(true).unwrap();
    isys::write(&w, b"abc").unwrap();
    let calls = counter();
    let c = calls.clone();
    eb.set_io_handler(r.as_raw_fd(), Event::Read, move |eb, fd, _, _| {
        // Read one byte per call: the rest keeps the fd readable.
        let mut one = [0u8; 1];
        let n = isys::read(&r, &mut one)?;
        assert_eq!(n, 1);
        c.set(c.get() + 1);
        if c.get() == 3 {
            eb.remove_fd_handlers(fd, Handlers::ALL);
        }
        Ok(())
    })
    .unwrap();
    eb.event_dispatch(
        DispatchOptions::default()
            .exit_when_empty(true)
            .timeout(LONG),
    )
    .unwrap();
    assert_eq!(calls.get(), 3);
    drop(w);
}

fn handler_removes_another_fds_handler_in_the_same_round(b: Backend) {
    let mut eb = base(b);
    let (r1, w1) = isys::pipe(true).unwrap();
    let (r2, w2) = isys::pipe(true).unwrap();
    isys::write(&w1, b"1").unwrap();
    isys::write(&w2, b"2").unwrap();
    let calls = counter();
    let (fd1, fd2) = (r1.as_raw_fd(), r2.as_raw_fd());
    for fd in [fd1, fd2] {
        let calls = calls.clone();
        let other = if fd == fd1 { fd2 } else { fd1 };
        eb.set_io_handler(fd, Event::Read, move |eb, fd, _, _| {
            calls.set(calls.get() + 1);
            // Whoever runs first removes both: the other must not run in this round.
            eb.remove_fd_handlers(other, Handlers::ALL);
            eb.remove_fd_handlers(fd, Handlers::ALL);
            Ok(())
        })
        .unwrap();
    }
    eb.event_dispatch(DispatchOptions::default().one_shot(true).timeout(LONG))
        .unwrap();
    assert_eq!(calls.get(), 1);
    assert!(eb.is_empty());
    drop((r1, r2, w1, w2));
}

fn replaced_handler_is_not_called_in_the_same_round(b: Backend) {
    let mut eb = base(b);
    let (r1, w1) = isys::pipe(true).unwrap();
    let (r2, w2) = isys::pipe(true).unwrap();
    isys::write(&w1, b"1").unwrap();
    isys::write(&w2, b"2").unwrap();
    let old_calls = counter();
    let new_calls = counter();
    let (fd1, fd2) = (r1.as_raw_fd(), r2.as_raw_fd());
    for fd in [fd1, fd2] {
        let old_calls = old_calls.clone();
        let new_calls = new_calls.clone();
        let other = if fd == fd1 { fd2 } else { fd1 };
        eb.set_io_handler(fd, Event::Read, move |eb, fd, _, _| {
            old_calls.set(old_calls.get() + 1);
            eb.remove_fd_handlers(fd, Handlers::ALL);
            // Replace the other fd's handler.
            if eb.remove_fd_handlers(other, Handlers::READ) {
                let new_calls = new_calls.clone();
                eb.set_io_handler(other, Event::Read, move |_, _, _, _| {
                    new_calls.set(new_calls.get() + 1);
                    Ok(())
                })?;
            }
            Ok(())
        })
        .unwrap();
    }
    eb.event_dispatch(DispatchOptions::default().one_shot(true).timeout(LONG))
        .unwrap();
    assert_eq!(old_calls.get(), 1, "the replaced handler ran");
    assert_eq!(
        new_calls.get(),
        0,
        "the replacement ran in the round it was added"
    );
    eb.event_dispatch(DispatchOptions::default().one_shot(true).timeout(LONG))
        .unwrap();
    assert!(new_calls.get() >= 1);
    drop((r1, r2, w1, w2));
}

fn handler_adds_a_new_fd_and_closes_its_own(b: Backend) {
    let mut eb = base(b);
    let (r, w) = isys::pipe(true).unwrap();
    let (r2, w2) = isys::pipe(true).unwrap();
    isys::write(&w, b"go").unwrap();
    isys::write(&w2, b"second").unwrap();
    let second = counter();
    let s = second.clone();
    let mut r2 = Some(r2);
    let mut own = Some(r);
    let fd = own.as_ref().unwrap().as_raw_fd();
    eb.set_io_handler(fd, Event::Read, move |eb, fd, _, _| {
        // Remove before close (the documented rule), then close by dropping.
        eb.remove_fd_handlers(fd, Handlers::ALL);
        drop(own.take());
        let r2 = r2.take().expect("called once");
        let s = s.clone();
        eb.set_io_handler(r2.as_raw_fd(), Event::Read, move |eb, fd, _, _| {
            s.set(s.get() + 1);
            let mut buf = [0u8; 16];
            isys::read(&r2, &mut buf)?;
            eb.remove_fd_handlers(fd, Handlers::ALL);
            Ok(())
        })?;
        Ok(())
    })
    .unwrap();
    eb.event_dispatch(
        DispatchOptions::default()
            .exit_when_empty(true)
            .timeout(LONG),
    )
    .unwrap();
    assert_eq!(second.get(), 1);
    assert!(!isys::fd_is_open(fd) || eb.is_empty());
    drop((w, w2));
}

fn one_shot_handlers(b: Backend) {
    let mut eb = base(b);
    let (r, w) = isys::pipe(true).unwrap();
    isys::write(&w, b"data stays").unwrap();
    let calls = counter();
    let c = calls.clone();
    eb.set_io_handler_with(
        r.as_raw_fd(),
        Event::Read,
        IoOptions::new().one_shot(true),
        move |_, _, _, _| {
            c.set(c.get() + 1);
            Ok(())
        },
    )
    .unwrap();
    eb.event_dispatch(DispatchOptions::default().timeout(Duration::from_millis(100)))
        .unwrap();
    assert_eq!(
        calls.get(),
        1,
        "one-shot handler ran again although data remained"
    );
    assert!(!eb.fd_monitored(r.as_raw_fd()));
    assert!(eb.is_empty());
}

fn handler_timeouts_fire_and_restart(b: Backend) {
    let mut eb = base(b);
    let (r, w) = isys::pipe(true).unwrap();
    let timeouts = counter();
    let reads = counter();
    let (t, rd) = (timeouts.clone(), reads.clone());
    eb.set_io_handler_with(
        r.as_raw_fd(),
        Event::Read,
        IoOptions::new().timeout(Duration::from_millis(100)),
        move |eb, fd, _, exc| {
            match exc {
                Some(Exception::Timeout) => t.set(t.get() + 1),
                None => {
                    let mut buf = [0u8; 8];
                    isys::read(&r, &mut buf)?;
                    rd.set(rd.get() + 1);
                }
                Some(Exception::Error) => panic!("unexpected error"),
            }
            if t.get() >= 3 {
                eb.remove_fd_handlers(fd, Handlers::ALL);
            }
            Ok(())
        },
    )
    .unwrap();
    // Activity every 30 ms for 150 ms keeps the timeout from firing.
    let start = Instant::now();
    for _ in 0..5 {
        isys::write(&w, b"x").unwrap();
        eb.event_dispatch(DispatchOptions::default().timeout(Duration::from_millis(30)))
            .unwrap();
    }
    assert_eq!(timeouts.get(), 0, "timed out despite activity");
    assert!(reads.get() >= 5);
    // Then silence: it fires, stays registered, and fires again.
    eb.event_dispatch(
        DispatchOptions::default()
            .exit_when_empty(true)
            .timeout(LONG),
    )
    .unwrap();
    assert_eq!(timeouts.get(), 3);
    // The last activity was at about 120 ms, then three 100 ms silences.
    assert!(start.elapsed() >= Duration::from_millis(120 + 3 * 100));
}

fn timers_fire_in_order(b: Backend) {
    let mut eb = base(b);
    let order = Rc::new(RefCell::new(Vec::new()));
    for (i, ms) in [(3, 30u64), (1, 10), (2, 20), (0, 0)] {
        let order = order.clone();
        eb.add_timer(Timer::once(Duration::from_millis(ms)), move |_| {
            order.borrow_mut().push(i);
            Ok(())
        });
    }
    eb.event_dispatch(
        DispatchOptions::default()
            .exit_when_empty(true)
            .timeout(LONG),
    )
    .unwrap();
    assert_eq!(*order.borrow(), vec![0, 1, 2, 3]);
    assert!(eb.is_empty());
}

fn repeating_timer_and_removal_inside_a_timer(b: Backend) {
    let mut eb = base(b);
    let ticks = counter();
    let id_cell: Rc<Cell<Option<TimerId>>> = Rc::new(Cell::new(None));
    let (t, idc) = (ticks.clone(), id_cell.clone());
    let id = eb.add_timer(Timer::every(Duration::from_millis(10)), move |eb| {
        t.set(t.get() + 1);
        if t.get() == 4 {
            assert!(eb.remove_timer(idc.get().unwrap()));
        }
        Ok(())
    });
    id_cell.set(Some(id));
    eb.event_dispatch(
        DispatchOptions::default()
            .exit_when_empty(true)
            .timeout(LONG),
    )
    .unwrap();
    assert_eq!(ticks.get(), 4);
    assert!(!eb.remove_timer(id), "removed twice");
    // A timer removing another timer before it fires.
    let fired = counter();
    let f = fired.clone();
    let victim = eb.add_timer(Timer::once(Duration::from_millis(40)), move |_| {
        f.set(f.get() + 1);
        Ok(())
    });
    eb.add_timer(Timer::once(Duration::from_millis(5)), move |eb| {
        assert!(eb.remove_timer(victim));
        Ok(())
    });
    eb.event_dispatch(
        DispatchOptions::default()
            .exit_when_empty(true)
            .timeout(LONG),
    )
    .unwrap();
    assert_eq!(fired.get(), 0);
}

fn dispatch_options(b: Backend) {
    let mut eb = base(b);
    // timeout: returns after about that long with nothing registered.
    let t = Instant::now();
    eb.event_dispatch(DispatchOptions::default().timeout(Duration::from_millis(50)))
        .unwrap();
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(50) && took < Duration::from_secs(2),
        "{took:?}"
    );
    // timeout 0 returns at once (IOLib's timeout.1).
    let t = Instant::now();
    eb.event_dispatch(DispatchOptions::default().timeout(Duration::ZERO))
        .unwrap();
    assert!(t.elapsed() < Duration::from_millis(500));
    // one_shot: one round, even with a far timer.
    eb.add_timer(Timer::once(Duration::from_secs(60)), |_| Ok(()));
    let rounds = eb.rounds();
    eb.event_dispatch(
        DispatchOptions::default()
            .one_shot(true)
            .max_step(Duration::from_millis(10)),
    )
    .unwrap();
    assert_eq!(eb.rounds(), rounds + 1);
    // max_step bounds each wait: a 100 ms dispatch takes several rounds.
    let rounds = eb.rounds();
    eb.event_dispatch(
        DispatchOptions::default()
            .timeout(Duration::from_millis(100))
            .max_step(Duration::from_millis(10)),
    )
    .unwrap();
    assert!(eb.rounds() - rounds >= 5, "{} rounds", eb.rounds() - rounds);
    // min_step keeps waits long: a timer due every 1 ms cannot make rounds shorter.
    let mut eb = base(b);
    eb.add_timer(Timer::every(Duration::from_millis(1)), |_| Ok(()));
    let rounds = eb.rounds();
    eb.event_dispatch(
        DispatchOptions::default()
            .timeout(Duration::from_millis(100))
            .min_step(Duration::from_millis(40)),
    )
    .unwrap();
    assert!(eb.rounds() - rounds <= 4, "{} rounds", eb.rounds() - rounds);
    // exit_event_loop from a timer, with a delay.
    let mut eb = base(b);
    eb.add_timer(Timer::once(Duration::from_millis(10)), |eb| {
        eb.exit_event_loop(Duration::from_millis(30));
        Ok(())
    });
    eb.add_timer(Timer::once(Duration::from_secs(60)), |_| Ok(()));
    let t = Instant::now();
    eb.event_dispatch(DispatchOptions::default()).unwrap();
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(40) && took < Duration::from_secs(5),
        "{took:?}"
    );
    // exit_when_empty from the builder.
    let mut eb = EventBase::builder()
        .backend(b)
        .exit_when_empty(true)
        .build()
        .unwrap();
    eb.add_timer(Timer::once(Duration::from_millis(5)), |_| Ok(()));
    eb.event_dispatch(DispatchOptions::default()).unwrap();
    assert!(eb.is_empty());
}

fn iolib_timeout_tests(b: Backend) {
    // timeout.2: a 0.1 s one-shot timer fires during a one-shot dispatch.
    let mut eb = base(b);
    let fired = counter();
    let f = fired.clone();
    eb.add_timer(Timer::once(Duration::from_millis(100)), move |_| {
        f.set(1);
        Ok(())
    });
    eb.event_dispatch(DispatchOptions::default().one_shot(true))
        .unwrap();
    assert_eq!(fired.get(), 1);
    // timeout.3: not before its time.
    let mut eb = base(b);
    let fired = counter();
    let f = fired.clone();
    eb.add_timer(Timer::once(Duration::from_millis(100)), move |_| {
        f.set(1);
        Ok(())
    });
    eb.event_dispatch(DispatchOptions::default().timeout(Duration::from_millis(40)))
        .unwrap();
    assert_eq!(fired.get(), 0);
    // timeout.4: a repeating 0.1 s timer fires twice in 0.25 s.
    let mut eb = base(b);
    let count = counter();
    let c = count.clone();
    eb.add_timer(Timer::every(Duration::from_millis(100)), move |_| {
        c.set(c.get() + 1);
        Ok(())
    });
    eb.event_dispatch(DispatchOptions::default().timeout(Duration::from_millis(250)))
        .unwrap();
    assert_eq!(count.get(), 2);
}

fn event_base_with_open_sockets(b: Backend) {
    // IOLib's event-base-with-open-sockets: closing the base leaves sockets open and usable.
    let mut eb = base(b);
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.set_nonblocking(true).unwrap();
    let c = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
    eb.set_io_handler(l.as_raw_fd(), Event::Read, |_, _, _, _| Ok(()))
        .unwrap();
    eb.set_io_handler(c.as_raw_fd(), Event::Write, |_, _, _, _| Ok(()))
        .unwrap();
    eb.event_dispatch(DispatchOptions::default().one_shot(true).timeout(LONG))
        .unwrap();
    eb.close();
    assert!(isys::fd_is_open(l.as_raw_fd()));
    assert!(isys::fd_is_open(c.as_raw_fd()));
    let (mut s, _) = loop {
        match l.accept() {
            Ok(x) => break x,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5))
            }
            Err(e) => panic!("{e}"),
        }
    };
    use std::io::{Read, Write};
    (&c).write_all(b"still works").unwrap();
    s.set_nonblocking(false).unwrap();
    let mut buf = [0u8; 11];
    s.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"still works");
}

fn signal_handler_delivery(b: Backend, sig: Signal) {
    let mut eb = base(b);
    let got = Rc::new(Cell::new(None));
    let g = got.clone();
    let id = eb
        .add_signal_handler(sig, move |eb, s| {
            g.set(Some(s));
            eb.exit_event_loop(Duration::ZERO);
            Ok(())
        })
        .unwrap();
    eb.add_timer(Timer::once(Duration::from_millis(20)), move |_| {
        isys::kill(isys::getpid(), sig)?;
        Ok(())
    });
    eb.event_dispatch(DispatchOptions::default().timeout(LONG))
        .unwrap();
    assert_eq!(got.get(), Some(sig));
    assert!(eb.remove_signal_handler(id));
    assert!(!eb.remove_signal_handler(id));
}

fn error_event_on_a_reset_socket(b: Backend) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let c = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
    c.set_nonblocking(true).unwrap();
    let (s, _) = l.accept().unwrap();
    // SO_LINGER 0 then close: RST.
    let linger = isys::libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    isys::setsockopt(&s, isys::libc::SOL_SOCKET, isys::libc::SO_LINGER, &linger).unwrap();
    drop(s);
    std::thread::sleep(Duration::from_millis(50));
    let mut eb = base(b);
    let seen = Rc::new(RefCell::new(Vec::new()));
    let (s1, s2) = (seen.clone(), seen.clone());
    let reader = c.try_clone().unwrap();
    eb.set_io_handler(c.as_raw_fd(), Event::Read, move |eb, fd, ev, exc| {
        // The condition arrives as readiness; the read reports it.
        let mut buf = [0u8; 16];
        let got = std::io::Read::read(&mut &reader, &mut buf);
        let errno = got.err().and_then(|e| e.raw_os_error());
        s1.borrow_mut()
            .push((ev, exc, errno.map(isys::Errno::from_raw)));
        eb.remove_fd_handlers(fd, Handlers::ALL);
        Ok(())
    })
    .unwrap();
    eb.set_error_handler(c.as_raw_fd(), move |_, _, ev, exc| {
        s2.borrow_mut().push((ev, exc, None));
        Ok(())
    })
    .ok(); // select cannot watch errors alone, but can along with a read handler
    eb.event_dispatch(
        DispatchOptions::default()
            .exit_when_empty(true)
            .timeout(LONG),
    )
    .unwrap();
    // The same on every backend: the read handler sees readiness, its read the reset; the
    // error handler is for fds nobody reads.
    let seen = seen.borrow().clone();
    assert_eq!(
        seen,
        vec![(Event::Read, None, Some(isys::Errno::ECONNRESET))],
        "{b:?}"
    );
    assert!(!eb.fd_monitored(c.as_raw_fd()));
}

fn fd_closed_while_registered_does_not_spin_or_fire_for_reuse(b: Backend) {
    // Work at high fd numbers nobody else in this process uses, so the reuse is exact.
    isys::raise_nofile_limit(8192).unwrap();
    let base_no = match b {
        Backend::Select => 900,
        Backend::Poll => 5000,
        Backend::Epoll => 5200,
        Backend::Kqueue => 5400,
    };
    let mut eb = base(b);
    let (r, w) = isys::pipe(true).unwrap();
    let old = isys::dup_at_least(&r, base_no).unwrap();
    drop(r);
    let num = old.as_raw_fd();
    let stale = counter();
    let s = stale.clone();
    eb.set_io_handler(num, Event::Read, move |_, _, _, _| {
        s.set(s.get() + 1);
        Ok(())
    })
    .unwrap();
    // Broken rule: closed while registered, no reuse.
    drop(old);
    let rounds = eb.rounds();
    let t = Instant::now();
    eb.event_dispatch(DispatchOptions::default().timeout(Duration::from_millis(200)))
        .unwrap();
    assert!(t.elapsed() >= Duration::from_millis(200));
    assert!(
        eb.rounds() - rounds < 20,
        "spun: {} rounds",
        eb.rounds() - rounds
    );
    assert_eq!(stale.get(), 0);
    // poll and select noticed (POLLNVAL / EBADF); epoll and kqueue forget closed fds
    // silently, so their bookkeeping goes on pruning.
    eb.prune_closed_fds();
    assert!(!eb.fd_monitored(num));
    drop(w);

    // Closed while registered and the number reused by a readable pipe.
    let (r, w) = isys::pipe(true).unwrap();
    let old = isys::dup_at_least(&r, base_no + 10).unwrap();
    drop(r);
    let num = old.as_raw_fd();
    let stale = counter();
    let s = stale.clone();
    eb.set_io_handler(num, Event::Read, move |_, _, _, _| {
        s.set(s.get() + 1);
        Ok(())
    })
    .unwrap();
    eb.event_dispatch(
        DispatchOptions::default()
            .one_shot(true)
            .timeout(Duration::from_millis(10)),
    )
    .unwrap();
    drop(old);
    let (r2, w2) = isys::pipe(true).unwrap();
    let reused = isys::dup_at_least(&r2, num).unwrap();
    assert_eq!(reused.as_raw_fd(), num, "number not reused");
    isys::write(&w2, b"new file's data").unwrap();
    let rounds = eb.rounds();
    eb.event_dispatch(DispatchOptions::default().timeout(Duration::from_millis(200)))
        .unwrap();
    assert!(
        eb.rounds() - rounds < 20,
        "spun: {} rounds",
        eb.rounds() - rounds
    );
    assert_eq!(stale.get(), 0, "old handler fired for the new fd");
    // Registering the reused number works and drops the stale handler.
    let fresh = counter();
    let f = fresh.clone();
    eb.set_io_handler(num, Event::Read, move |eb, fd, _, _| {
        f.set(f.get() + 1);
        eb.remove_fd_handlers(fd, Handlers::ALL);
        Ok(())
    })
    .unwrap();
    eb.event_dispatch(
        DispatchOptions::default()
            .exit_when_empty(true)
            .timeout(LONG),
    )
    .unwrap();
    assert_eq!(fresh.get(), 1);
    assert_eq!(stale.get(), 0);
    drop((w, r2, reused));
}

fn registration_errors(b: Backend) {
    let mut eb = base(b);
    let (r, _w) = isys::pipe(true).unwrap();
    eb.set_io_handler(r.as_raw_fd(), Event::Read, |_, _, _, _| Ok(()))
        .unwrap();
    let e = eb
        .set_io_handler(r.as_raw_fd(), Event::Read, |_, _, _, _| Ok(()))
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::HandlerExists {
                event: Event::Read,
                ..
            }
        ),
        "{e}"
    );
    assert!(matches!(
        eb.set_io_handler(-1, Event::Read, |_, _, _, _| Ok(())),
        Err(Error::BadFd(-1))
    ));
    // A closed number.
    isys::raise_nofile_limit(8192).unwrap();
    let high = isys::dup_at_least(&r, 6000).unwrap();
    let n = high.as_raw_fd();
    drop(high);
    if b != Backend::Select {
        assert!(matches!(
            eb.set_io_handler(n, Event::Read, |_, _, _, _| Ok(())),
            Err(Error::BadFd(_))
        ));
    }
    assert!(eb.remove_fd_handlers(r.as_raw_fd(), Handlers::ALL));
    assert!(!eb.remove_fd_handlers(r.as_raw_fd(), Handlers::ALL));
    // A handler error ends the dispatch with it.
    let (r2, w2) = isys::pipe(true).unwrap();
    isys::write(&w2, b"!").unwrap();
    eb.set_io_handler(r2.as_raw_fd(), Event::Read, |_, _, _, _| {
        Err("handler gave up".into())
    })
    .unwrap();
    let e = eb
        .event_dispatch(DispatchOptions::default().timeout(LONG))
        .unwrap_err();
    assert!(e.to_string().contains("handler gave up"), "{e}");
    assert!(e.handler_error().is_some());
    // Re-entrant dispatch is refused.
    eb.remove_fd_handlers(r2.as_raw_fd(), Handlers::ALL);
    eb.add_timer(Timer::once(Duration::ZERO), |eb| {
        assert!(matches!(
            eb.event_dispatch(DispatchOptions::default()),
            Err(Error::Reentrant)
        ));
        Ok(())
    });
    eb.event_dispatch(
        DispatchOptions::default()
            .exit_when_empty(true)
            .timeout(LONG),
    )
    .unwrap();
}

fn select_refuses_fds_past_fd_setsize(b: Backend) {
    let mut eb = base(b);
    isys::raise_nofile_limit(8192).unwrap();
    let (r, _w) = isys::pipe(true).unwrap();
    let high = isys::dup_at_least(&r, isys::FD_SETSIZE as i32 + 100).unwrap();
    let res = eb.set_io_handler(high.as_raw_fd(), Event::Read, |_, _, _, _| Ok(()));
    if b == Backend::Select {
        let e = res.unwrap_err();
        assert!(matches!(e, Error::FdTooLarge { .. }), "{e}");
        assert!(e.to_string().contains("FD_SETSIZE"));
        assert!(!eb.fd_monitored(high.as_raw_fd()));
    } else {
        res.unwrap();
        assert!(eb.fd_monitored(high.as_raw_fd()));
    }
}

fn thousand_sockets_at_once(b: Backend) {
    isys::raise_nofile_limit(8192).unwrap();
    let mut eb = base(b);
    let mut pairs = Vec::new();
    for _ in 0..1000 {
        pairs.push(socketpair());
    }
    let hits = counter();
    let mut registered = 0;
    for (i, (a, _b)) in pairs.iter().enumerate() {
        let hits = hits.clone();
        let r = eb.set_io_handler(a.as_raw_fd(), Event::Read, move |eb, fd, _, _| {
            // Level-triggered: removing the handler is enough, no need to drain.
            hits.set(hits.get() + 1);
            eb.remove_fd_handlers(fd, Handlers::ALL);
            Ok(())
        });
        match r {
            Ok(()) => registered += 1,
            Err(Error::FdTooLarge { .. }) if b == Backend::Select => {}
            Err(e) => panic!("socket {i}: {e}"),
        }
    }
    if b != Backend::Select {
        assert_eq!(registered, 1000);
    }
    for (a, peer) in &pairs {
        if eb.fd_monitored(a.as_raw_fd()) {
            isys::send(peer, b"x", MsgFlags::empty()).unwrap();
        }
    }
    eb.event_dispatch(
        DispatchOptions::default()
            .exit_when_empty(true)
            .timeout(LONG),
    )
    .unwrap();
    assert_eq!(hits.get(), registered);
}

/// The tutorial's io-buffer shape: one state (socket + bytes) shared by an fd's read and
/// write handlers, owned by the event base; removing it closes the socket.
struct EchoState {
    sock: OwnedFd,
    buf: Vec<u8>,
    dropped: Rc<Cell<u32>>,
}

impl Drop for EchoState {
    fn drop(&mut self) {
        self.dropped.set(self.dropped.get() + 1);
    }
}

fn echo_read(
    eb: &mut EventBase,
    st: &mut EchoState,
    fd: i32,
    _: Event,
    _: Option<Exception>,
) -> HandlerResult {
    let mut tmp = [0u8; 64];
    let n = isys::recv(&st.sock, &mut tmp, MsgFlags::empty())?;
    if n == 0 {
        // Peer is done: remove handlers, then the state (closing the socket).
        eb.remove_fd_handlers(fd, Handlers::ALL);
        assert!(eb.remove_fd_state(fd));
        return Ok(());
    }
    st.buf.extend_from_slice(&tmp[..n]);
    if !eb.fd_monitored_for(fd, Event::Write) {
        eb.set_stateful_io_handler(fd, Event::Write, IoOptions::new(), echo_write)?;
    }
    Ok(())
}

fn echo_write(
    eb: &mut EventBase,
    st: &mut EchoState,
    fd: i32,
    _: Event,
    _: Option<Exception>,
) -> HandlerResult {
    let n = isys::send(&st.sock, &st.buf, MsgFlags::empty())?;
    st.buf.drain(..n);
    if st.buf.is_empty() {
        eb.remove_fd_handlers(fd, Handlers::WRITE);
    }
    Ok(())
}

fn stateful_handlers_share_state_and_removal_closes(b: Backend) {
    let mut eb = base(b);
    let (ours, peer) = socketpair();
    let fd = ours.as_raw_fd();
    let dropped = counter();
    eb.set_fd_state(
        fd,
        EchoState {
            sock: ours,
            buf: Vec::new(),
            dropped: dropped.clone(),
        },
    )
    .unwrap();
    eb.set_stateful_io_handler(fd, Event::Read, IoOptions::new(), echo_read)
        .unwrap();
    assert!(eb.fd_state::<EchoState>(fd).is_some());
    assert!(eb.fd_state::<u32>(fd).is_none());
    isys::send(&peer, b"echo me", MsgFlags::empty()).unwrap();
    let mut got = Vec::new();
    while got.len() < 7 {
        eb.event_dispatch(DispatchOptions::default().one_shot(true).timeout(LONG))
            .unwrap();
        let mut tmp = [0u8; 16];
        if let Ok(n) = isys::recv(&peer, &mut tmp, MsgFlags::DONT_WAIT) {
            got.extend_from_slice(&tmp[..n]);
        }
    }
    assert_eq!(got, b"echo me");
    assert_eq!(dropped.get(), 0);
    isys::shutdown(&peer, isys::Shutdown::Write).unwrap();
    eb.event_dispatch(
        DispatchOptions::default()
            .exit_when_empty(true)
            .timeout(LONG),
    )
    .unwrap();
    assert_eq!(dropped.get(), 1, "state not dropped exactly once");
    assert!(eb.fd_state::<EchoState>(fd).is_none());
    // The state owned the socket: the peer now reads end of file.
    let mut tmp = [0u8; 4];
    assert_eq!(isys::recv(&peer, &mut tmp, MsgFlags::empty()).unwrap(), 0);
    // drain_fd_states hands back what is left.
    let (a, _b) = socketpair();
    let afd = a.as_raw_fd();
    eb.set_fd_state(afd, a).unwrap();
    let drained = eb.drain_fd_states::<OwnedFd>();
    assert_eq!(drained.len(), 1);
    assert_eq!(drained[0].0, afd);
}

thread_local! {
    /// Write-handler calls by fd, for the function handlers below (a function captures
    /// nothing, so it counts here; each test runs on its own thread).
    static WRITES: RefCell<Vec<i32>> = const { RefCell::new(Vec::new()) };
}

/// A write handler that captures nothing (the kind the tutorial's servers pass): counts the
/// call and removes itself.
fn count_write_and_stop(
    base: &mut EventBase,
    fd: i32,
    _: Event,
    _: Option<Exception>,
) -> HandlerResult {
    WRITES.with(|w| w.borrow_mut().push(fd));
    base.remove_fd_handlers(fd, Handlers::WRITE);
    Ok(())
}

/// One handler call queues interest changes on several fds and takes some back: the change
/// queued last, one queued earlier, and a handler that owns an fd (which its removal
/// closes). Only the write handler still set when the call returns runs, in the next round.
fn changes_queued_and_taken_back_in_one_call(b: Backend) {
    let mut eb = base(b);
    let pairs: Vec<(Rc<OwnedFd>, OwnedFd)> = (0..3)
        .map(|_| {
            let (a, peer) = socketpair();
            (Rc::new(a), peer)
        })
        .collect();
    let fds: Vec<i32> = pairs.iter().map(|(a, _)| a.as_raw_fd()).collect();
    let reads = counter();
    // A first round reports every fd once: from then on adding a handler takes the fast path.
    for (a, peer) in &pairs {
        isys::write(peer, b"x").unwrap();
        let (reads, a) = (reads.clone(), a.clone());
        eb.set_io_handler(a.as_raw_fd(), Event::Read, move |_, _, _, _| {
            reads.set(reads.get() + 1);
            let mut buf = [0u8; 8];
            match isys::read(&*a, &mut buf) {
                Ok(_) | Err(isys::Errno::EAGAIN) => Ok(()),
                Err(e) => Err(e.into()),
            }
        })
        .unwrap();
    }
    eb.event_dispatch(DispatchOptions::default().one_shot(true).timeout(LONG))
        .unwrap();
    assert_eq!(reads.get(), 3);
    // A handler that owns one end of a socketpair: removing it closes that end.
    let (owned, owned_peer) = socketpair();
    // The next round: fd 0's reader is replaced by one that adds write handlers to all
    // three fds, then takes back fd 1's (queued before the last) and fd 0's (the last),
    // and adds and removes a handler owning `owned` on fd 1 as well. (The replacement is a
    // new entry, which the round reports before the call: all three are verified then.)
    let (f0, f1, f2) = (fds[0], fds[1], fds[2]);
    eb.remove_fd_handlers(f0, Handlers::READ);
    let mut owned = Some(owned);
    let a0 = pairs[0].0.clone();
    eb.set_io_handler(f0, Event::Read, move |eb, _, _, _| {
        let mut buf = [0u8; 8];
        let _ = isys::read(&*a0, &mut buf);
        eb.set_io_handler(f1, Event::Write, count_write_and_stop)?;
        eb.set_io_handler(f2, Event::Write, count_write_and_stop)?;
        eb.set_io_handler(f0, Event::Write, count_write_and_stop)?;
        assert!(eb.fd_monitored_for(f1, Event::Write));
        assert!(eb.remove_fd_handlers(f1, Handlers::WRITE));
        assert!(eb.remove_fd_handlers(f0, Handlers::WRITE));
        assert!(!eb.remove_fd_handlers(f0, Handlers::WRITE), "removed twice");
        let owned = owned.take().expect("called once");
        eb.set_io_handler(f1, Event::Write, move |_, _, _, _| {
            let _keep = &owned;
            panic!("a handler removed in the round it was added ran");
        })?;
        assert!(eb.remove_fd_handlers(f1, Handlers::WRITE));
        Ok(())
    })
    .unwrap();
    isys::write(&pairs[0].1, b"y").unwrap();
    // The closure's removal closed its end: its peer reads end of file.
    let owned_peer_eof = |peer: &OwnedFd| {
        let mut buf = [0u8; 1];
        isys::recv(peer, &mut buf, MsgFlags::DONT_WAIT)
    };
    assert_eq!(owned_peer_eof(&owned_peer), Err(isys::Errno::EAGAIN));
    // The round that calls the new reader, the one after (fd 2 is writable at once), and one
    // more in which nothing is ready.
    for wait in [LONG, LONG, Duration::from_millis(50)] {
        eb.event_dispatch(DispatchOptions::default().one_shot(true).timeout(wait))
            .unwrap();
    }
    assert_eq!(
        owned_peer_eof(&owned_peer),
        Ok(0),
        "the removed closure kept its fd"
    );
    WRITES.with(|w| assert_eq!(*w.borrow(), vec![f2], "write handlers called"));
    assert!(!eb.fd_monitored_for(f0, Event::Write));
    assert!(!eb.fd_monitored_for(f1, Event::Write));
    assert!(!eb.fd_monitored_for(f2, Event::Write));
    // Nothing pending: the readers of fds 1 and 2 stay, idle.
    assert!(eb.fd_monitored(f0) && eb.fd_monitored(f1) && eb.fd_monitored(f2));
    drop(pairs);
}

macro_rules! suite {
    ($($test:ident),* $(,)?) => {
        #[cfg(any(feature = "epoll", all(feature = "native", any(target_os = "linux", target_os = "android"))))]
        mod epoll {
            $( #[test] fn $test() { super::$test(iomux::Backend::Epoll) } )*
            #[test] fn signal_handler_delivery() { super::signal_handler_delivery(iomux::Backend::Epoll, iomux::Signal::SIGUSR1) }
        }
        #[cfg(any(feature = "kqueue", all(feature = "native", any(target_os = "macos", target_os = "ios", target_os = "freebsd", target_os = "openbsd", target_os = "netbsd", target_os = "dragonfly"))))]
        mod kqueue {
            $( #[test] fn $test() { super::$test(iomux::Backend::Kqueue) } )*
            #[test] fn signal_handler_delivery() { super::signal_handler_delivery(iomux::Backend::Kqueue, iomux::Signal::SIGUSR1) }
        }
        #[cfg(feature = "poll")]
        mod poll {
            $( #[test] fn $test() { super::$test(iomux::Backend::Poll) } )*
            #[test] fn signal_handler_delivery() { super::signal_handler_delivery(iomux::Backend::Poll, iomux::Signal::SIGUSR2) }
        }
        #[cfg(feature = "select")]
        mod select {
            $( #[test] fn $test() { super::$test(iomux::Backend::Select) } )*
            #[test] fn signal_handler_delivery() { super::signal_handler_delivery(iomux::Backend::Select, iomux::Signal::SIGWINCH) }
        }
    };
}

suite!(
    readiness_on_pipes_and_socketpairs,
    level_triggered_refire,
    handler_removes_another_fds_handler_in_the_same_round,
    replaced_handler_is_not_called_in_the_same_round,
    handler_adds_a_new_fd_and_closes_its_own,
    one_shot_handlers,
    handler_timeouts_fire_and_restart,
    timers_fire_in_order,
    repeating_timer_and_removal_inside_a_timer,
    dispatch_options,
    iolib_timeout_tests,
    event_base_with_open_sockets,
    error_event_on_a_reset_socket,
    fd_closed_while_registered_does_not_spin_or_fire_for_reuse,
    registration_errors,
    select_refuses_fds_past_fd_setsize,
    thousand_sockets_at_once,
    stateful_handlers_share_state_and_removal_closes,
    changes_queued_and_taken_back_in_one_call,
);

#[test]
fn backends_are_listed_best_first() {
    let all = Backend::available();
    assert!(!all.is_empty());
    assert_eq!(Backend::best(), all[0]);
    for b in all {
        assert_eq!(b.name().parse::<Backend>().unwrap(), *b);
        assert_eq!(EventBase::with_backend(*b).unwrap().backend(), *b);
    }
    assert!(matches!(
        "kqueue2".parse::<Backend>(),
        Err(Error::UnknownBackend { .. })
    ));
    #[cfg(target_os = "linux")]
    assert!(matches!(
        EventBase::with_backend(Backend::Kqueue),
        Err(Error::BackendUnavailable { .. })
    ));
    let _ = AsFd::as_fd(&isys::pipe(true).unwrap().0);
}
