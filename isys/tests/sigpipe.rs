//! With SIGPIPE at its default disposition (which kills the process), a send to a peer that
//! closed must return EPIPE and the process must survive. Its own test binary, because the
//! default disposition is process-wide.

use isys::*;

#[test]
fn send_after_peer_close_is_epipe_with_default_sigpipe() {
    default_signal(Signal::SIGPIPE).unwrap();
    let (a, b) = socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, false).unwrap();
    drop(b);
    for _ in 0..3 {
        assert_eq!(send(&a, b"x", MsgFlags::empty()), Err(Errno::EPIPE));
    }
    // TCP too: a connected pair on loopback, peer gone.
    let l = socket(libc::AF_INET, libc::SOCK_STREAM, 0, false).unwrap();
    bind(&l, &SockAddr::from_std(&"127.0.0.1:0".parse().unwrap())).unwrap();
    listen(&l, 1).unwrap();
    let c = socket(libc::AF_INET, libc::SOCK_STREAM, 0, false).unwrap();
    connect(&c, &getsockname(&l).unwrap()).unwrap();
    let (s, _) = accept4(&l, false).unwrap();
    drop(s);
    let mut saw_epipe = false;
    for _ in 0..50 {
        match send(&c, &[0u8; 1024], MsgFlags::empty()) {
            Ok(_) => std::thread::sleep(std::time::Duration::from_millis(5)),
            Err(e) => {
                assert!(e == Errno::EPIPE || e == Errno::ECONNRESET, "{e}");
                saw_epipe |= e == Errno::EPIPE;
                if saw_epipe {
                    break;
                }
            }
        }
    }
    assert!(saw_epipe, "never saw EPIPE");
}
