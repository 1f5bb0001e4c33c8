//! No fd is leaked across a sweep of socket operations, successful and failing. One test in
//! its own binary so that nothing else opens fds while we count /proc/self/fd.

use sockets::*;
use std::time::Duration;

fn open_fds() -> usize {
    // /proc on Linux, /dev/fd on BSD and macOS.
    let dir = if cfg!(target_os = "linux") {
        "/proc/self/fd"
    } else {
        "/dev/fd"
    };
    std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

fn sweep() {
    let l = make_socket()
        .connect(Connect::Passive)
        .local_host("127.0.0.1")
        .local_port(0)
        .build_passive()
        .unwrap();
    let port = l.local_port().unwrap();
    for _ in 0..20 {
        let mut c = make_socket()
            .remote_host("127.0.0.1")
            .remote_port(port)
            .build_active()
            .unwrap();
        let mut s = l
            .accept_connection(Wait::For(Duration::from_secs(5)))
            .unwrap()
            .unwrap();
        c.write_line("x").unwrap();
        c.finish_output().unwrap();
        assert_eq!(s.read_line().unwrap(), "x");
        c.close().unwrap();
        drop(s);
    }
    // Failures must not leak either.
    let closed = {
        let t = make_socket()
            .connect(Connect::Passive)
            .local_host("127.0.0.1")
            .local_port(0)
            .build_passive()
            .unwrap();
        t.local_port().unwrap()
    };
    for _ in 0..20 {
        assert!(make_socket()
            .remote_host("127.0.0.1")
            .remote_port(closed)
            .build()
            .is_err());
        assert!(make_socket()
            .connect(Connect::Passive)
            .local_host("127.0.0.1")
            .local_port(port)
            .build()
            .is_err());
        let (a, mut b) = make_socket_pair(ExternalFormat::default()).unwrap();
        let (r, w) = isys::pipe(false).unwrap();
        a.send_file_descriptor(std::os::fd::AsFd::as_fd(&w))
            .unwrap();
        drop(b.receive_file_descriptor().unwrap());
        drop((r, w));
        let d = make_socket()
            .local_host("127.0.0.1")
            .local_port(0)
            .build_datagram()
            .unwrap();
        drop(d);
    }
}

#[test]
fn no_fd_leaks_across_the_suite() {
    sweep(); // warm up lazily created fds (placeholder, resolver files)
    let before = open_fds();
    sweep();
    let after = open_fds();
    assert!(before > 0);
    assert_eq!(before, after, "fds leaked: {before} before, {after} after");
}
