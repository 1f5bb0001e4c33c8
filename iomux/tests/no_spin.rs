//! No spinning: conditions nobody asked for (a peer's half-close without a reader, a regular
//! file closed behind the base's back) never keep the wait returning at once.

mod util;

use iomux::*;
use isys::AsRawFd;
use std::time::Duration;

/// One test at a time: `regular_file_closed_while_registered` closes an fd while its handler
/// stays registered, and a parallel test opening a file could be given that number before the
/// base sees it closed (a reused number is the case the fd-closing rule leaves to the caller;
/// this file tests the number left closed).
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn rounds_in(eb: &mut EventBase, ms: u64) -> u64 {
    let r0 = eb.rounds();
    let _ = eb.event_dispatch(DispatchOptions::default().timeout(Duration::from_millis(ms)));
    eb.rounds() - r0
}

/// An error-only handler on a socket whose peer half-closed: EPOLLRDHUP is level-triggered.
fn error_handler_half_closed_peer(b: Backend) {
    let _serial = serial();
    let mut eb = EventBase::with_backend(b).unwrap();
    let (a, c) = isys::socketpair(isys::libc::AF_UNIX, isys::libc::SOCK_STREAM, 0, true).unwrap();
    eb.set_error_handler(a.as_raw_fd(), |_, _, _, _| Ok(()))
        .unwrap();
    isys::shutdown(&c, isys::Shutdown::Write).unwrap();
    let n = rounds_in(&mut eb, 200);
    assert!(n < 20, "{b:?}: spun {n} rounds");
    drop((a, c));
}

/// An error-only handler on a regular file (epoll: EPERM -> always list with empty interest).
fn error_handler_regular_file(b: Backend) {
    let _serial = serial();
    let mut eb = EventBase::with_backend(b).unwrap();
    let f = std::fs::File::open("/etc/hostname")
        .or_else(|_| std::fs::File::open("Cargo.toml"))
        .unwrap();
    eb.set_error_handler(f.as_raw_fd(), |_, _, _, _| Ok(()))
        .unwrap();
    let n = rounds_in(&mut eb, 200);
    assert!(n < 20, "{b:?}: spun {n} rounds");
}

/// Write handler only, send buffer full, peer half-closed and not reading (ex7/ex8 after EOF).
fn write_handler_blocked_half_closed_peer(b: Backend) {
    let _serial = serial();
    let mut eb = EventBase::with_backend(b).unwrap();
    let (a, c) = isys::socketpair(isys::libc::AF_UNIX, isys::libc::SOCK_STREAM, 0, true).unwrap();
    let buf = vec![0u8; 65536];
    while isys::write(&a, &buf).is_ok() {}
    let calls = std::rc::Rc::new(std::cell::Cell::new(0u32));
    let k = calls.clone();
    eb.set_io_handler(a.as_raw_fd(), Event::Write, move |_, _, _, _| {
        k.set(k.get() + 1);
        Ok(())
    })
    .unwrap();
    isys::shutdown(&c, isys::Shutdown::Write).unwrap();
    let n = rounds_in(&mut eb, 200);
    assert!(
        n < 20,
        "{b:?}: spun {n} rounds, write handler called {} times",
        calls.get()
    );
    drop((a, c));
}

/// A regular file closed while registered (the "broken rule" the suite tests for pipes).
fn regular_file_closed_while_registered(b: Backend) {
    let _serial = serial();
    let mut eb = EventBase::with_backend(b).unwrap();
    let f = std::fs::File::open("Cargo.toml").unwrap();
    let fd = f.as_raw_fd();
    let calls = std::rc::Rc::new(std::cell::Cell::new(0u32));
    let k = calls.clone();
    eb.set_io_handler(fd, Event::Read, move |_, _, _, _| {
        k.set(k.get() + 1);
        Ok(())
    })
    .unwrap();
    eb.event_dispatch(DispatchOptions::default().one_shot(true))
        .unwrap();
    let before = calls.get();
    drop(f);
    let n = rounds_in(&mut eb, 200);
    assert!(
        n < 20,
        "{b:?}: spun {n} rounds; stale handler called {} times",
        calls.get() - before
    );
}

per_backend!(
    error_handler_half_closed_peer,
    error_handler_regular_file,
    write_handler_blocked_half_closed_peer,
    regular_file_closed_while_registered,
);
