//! The prelude names what porting programs reach for: the waker and dispatch outcome, timer
//! ids, the event base's error (as `MuxError`) with its typed accessor, and failure policies.

use iolib::prelude::*;
use std::os::fd::AsRawFd;
use std::time::Duration;

#[test]
fn prelude_names_the_event_base_api() {
    let mut base = EventBase::new().unwrap();
    let waker: Waker = base.waker().unwrap();
    let timer: TimerId = base.add_timer(Timer::once(Duration::from_secs(60)), |_| Ok(()));
    let t = std::thread::spawn(move || waker.stop().unwrap());
    let outcome: DispatchOutcome = base.event_dispatch(DispatchOptions::default()).unwrap();
    t.join().unwrap();
    assert_eq!(outcome, DispatchOutcome::ExitRequested);
    assert!(base.remove_timer(timer));

    // A socket error out of a handler, caught typed, naming its fd.
    let (a, _b) = make_socket_pair(ExternalFormat::default()).unwrap();
    let fd = a.as_raw_fd();
    base.set_handler_error_policy(|failure: &HandlerFailure<'_>| {
        assert!(failure.downcast_ref::<SocketError>().is_some());
        OnError::EndDispatch
    });
    base.set_io_handler(fd, Event::Write, |_, _, _, _| {
        Err(SocketError::Hangup.into())
    })
    .unwrap();
    let e: MuxError = base.event_dispatch(DispatchOptions::default()).unwrap_err();
    assert!(matches!(
        e.handler_error_as::<SocketError>(),
        Some(SocketError::Hangup)
    ));
    assert_eq!((e.fd(), e.event()), (Some(fd), Some(Event::Write)));
    drop(a);
}
