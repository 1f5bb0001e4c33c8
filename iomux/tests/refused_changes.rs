//! One fd's interest change the kernel refuses or reroutes does not strand the others', and
//! a number reused by a regular file on epoll is served like any regular file.

#![cfg(all(target_os = "linux", any(feature = "epoll", feature = "native")))]

use iomux::*;
use isys::AsRawFd;
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

#[test]
fn a_reused_number_does_not_strand_other_changes_on_epoll() {
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
