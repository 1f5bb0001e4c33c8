//! One fd's interest change the kernel refuses or reroutes does not strand the others', a
//! refused change the failure policy keeps is retried, and a number reused by a regular file
//! on epoll is served like any regular file.

#![cfg(all(target_os = "linux", any(feature = "epoll", feature = "native")))]

use iomux::*;
use isys::{AsRawFd, EpollEvent, EpollFlags, EpollOp, OwnedFd, RawFd};
use std::cell::Cell;
use std::rc::Rc;
use std::sync::Mutex;
use std::time::Duration;

/// One test at a time: the second finds the base's epoll fd among the process's open fds.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

#[test]
fn a_reused_number_does_not_strand_other_changes_on_epoll() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    isys::raise_nofile_limit(8192).unwrap();
    let mut eb = EventBase::with_backend(Backend::Epoll).unwrap();
    let (r, w) = isys::pipe(true).unwrap();
    let old = isys::dup_at_least(&r, 6500).unwrap();
    drop(r);
    let x = old.as_raw_fd();
    eb.set_io_handler(x, Event::Read, |_, _, _, _| Ok(()))
        .unwrap();
    let (y, peer) =
        isys::socketpair(isys::libc::AF_UNIX, isys::libc::SOCK_STREAM, 0, true).unwrap();
    eb.set_io_handler(y.as_raw_fd(), Event::Read, |_, _, _, _| Ok(()))
        .unwrap();
    isys::write(&w, b"x").unwrap();
    isys::write(&peer, b"y").unwrap();
    eb.event_dispatch(DispatchOptions::default().one_shot(true))
        .unwrap();
    // x closed behind the base's back, its number now a regular file.
    drop(old);
    let f = std::fs::File::open("Cargo.toml").unwrap();
    let reused = isys::dup_at_least(&f, x).unwrap();
    assert_eq!(reused.as_raw_fd(), x);
    eb.set_io_handler(x, Event::Write, |eb, fd, _, _| {
        eb.remove_fd_handlers(fd, Handlers::WRITE);
        Ok(())
    })
    .unwrap();
    let wrote = Rc::new(Cell::new(0));
    let k = wrote.clone();
    eb.set_io_handler(y.as_raw_fd(), Event::Write, move |_, _, _, _| {
        k.set(k.get() + 1);
        Ok(())
    })
    .unwrap();
    let first = eb.event_dispatch(DispatchOptions::default().timeout(Duration::from_millis(50)));
    assert!(first.is_ok(), "x's change ended the dispatch: {first:?}");
    assert!(
        wrote.get() > 0,
        "y's write handler never reached the kernel"
    );
    eb.remove_fd_handlers(x, Handlers::ALL);
    drop(reused);
}

/// The process's epoll instances.
fn epoll_fds() -> Vec<RawFd> {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| {
            let e = e.ok()?;
            let target = std::fs::read_link(e.path()).ok()?;
            let fd = e.file_name().to_str()?.parse().ok()?;
            (target.to_str()? == "anon_inode:[eventpoll]").then_some(fd)
        })
        .collect()
}

/// A new epoll instance at exactly fd number `n` (which must be free).
fn epoll_at(n: RawFd) -> OwnedFd {
    let ep = isys::epoll_create1().unwrap();
    if ep.as_raw_fd() == n {
        return ep;
    }
    let moved = isys::dup_at_least(&ep, n).unwrap();
    assert_eq!(moved.as_raw_fd(), n, "fd {n} was taken meanwhile");
    moved
}

/// Two changes refused in one round and kept by the policy are queued again (the first ends
/// up before the last one queued); taking the last one back must not strand the other, which
/// is retried before each wait until the kernel takes it.
#[test]
fn a_kept_refusal_is_retried_after_the_change_queued_after_it_is_taken_back() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let before = epoll_fds();
    let mut eb = EventBase::with_backend(Backend::Epoll).unwrap();
    let base_epfd = *epoll_fds()
        .iter()
        .find(|fd| !before.contains(fd))
        .expect("the base's epoll fd");
    eb.set_handler_error_policy(|_| OnError::Continue);
    let (r1, w1) = isys::pipe(true).unwrap();
    let (r2, w2) = isys::pipe(true).unwrap();
    let (x1, x2) = (r1.as_raw_fd(), r2.as_raw_fd());
    let reads1 = Rc::new(Cell::new(0u32));
    let k = reads1.clone();
    eb.set_io_handler(x1, Event::Read, move |eb, _, _, _| {
        k.set(k.get() + 1);
        if k.get() == 2 {
            eb.exit_event_loop(Duration::ZERO);
        }
        Ok(())
    })
    .unwrap();
    eb.set_io_handler(x2, Event::Read, |_, _, _, _| Ok(()))
        .unwrap();
    isys::write(&w1, b"x").unwrap();
    isys::write(&w2, b"x").unwrap();
    eb.event_dispatch(DispatchOptions::default().one_shot(true))
        .unwrap();
    assert_eq!(reads1.get(), 1);
    // Both closed behind the base's back; their numbers now name epoll instances that watch
    // the base's own, so the kernel refuses to add them to it (ELOOP).
    drop((r1, r2));
    let in_ = EpollEvent::new(EpollFlags::IN, 0);
    let e1 = Rc::new(epoll_at(x1));
    isys::epoll_ctl(&*e1, EpollOp::Add, base_epfd, Some(in_)).unwrap();
    let e2 = epoll_at(x2);
    isys::epoll_ctl(&e2, EpollOp::Add, base_epfd, Some(in_)).unwrap();
    eb.set_io_handler(x1, Event::Write, |_, _, _, _| Ok(()))
        .unwrap();
    eb.set_io_handler(x2, Event::Write, |_, _, _, _| Ok(()))
        .unwrap();
    // A readable pipe for x1's epoll instance to watch once the refusal is lifted.
    let (p, pw) = isys::pipe(true).unwrap();
    isys::write(&pw, b"p").unwrap();
    let (z, z_peer) =
        isys::socketpair(isys::libc::AF_UNIX, isys::libc::SOCK_STREAM, 0, true).unwrap();
    isys::write(&z_peer, b"z").unwrap();
    let (e1_in_handler, p_fd) = (e1.clone(), p.as_raw_fd());
    // Runs in the round after the refusals: takes x2's change back, lifts x1's refusal and
    // makes x1 (an epoll instance watching a readable pipe) readable.
    eb.set_io_handler(z.as_raw_fd(), Event::Read, move |eb, fd, _, _| {
        assert!(eb.remove_fd_handlers(x2, Handlers::WRITE));
        isys::epoll_ctl(&*e1_in_handler, EpollOp::Delete, base_epfd, None)?;
        isys::epoll_ctl(&*e1_in_handler, EpollOp::Add, p_fd, Some(in_))?;
        eb.remove_fd_handlers(fd, Handlers::ALL);
        Ok(())
    })
    .unwrap();
    // The bug this guards against leaves the loop waiting forever: stop it after 2 s.
    let waker = eb.waker().unwrap();
    let (done, finished) = std::sync::mpsc::channel::<()>();
    let stopper = std::thread::spawn(move || {
        if finished.recv_timeout(Duration::from_secs(2)).is_err() {
            let _ = waker.stop();
        }
    });
    let outcome = eb.event_dispatch(DispatchOptions::default());
    let _ = done.send(());
    assert!(outcome.is_ok(), "{outcome:?}");
    assert_eq!(
        reads1.get(),
        2,
        "x1's refused change was not retried: its read handler never ran again"
    );
    stopper.join().unwrap();
    eb.remove_fd_handlers(x1, Handlers::ALL);
    eb.remove_fd_handlers(x2, Handlers::ALL);
    drop((e1, e2, w1, w2, p, pw, z, z_peer));
}
