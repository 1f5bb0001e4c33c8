//! isys on real fds: errno round trip, CLOEXEC, EINTR retries, select bounds, SCM_RIGHTS,
//! wait_until_fd_ready.

use isys::*;
use std::io::{IoSlice, IoSliceMut};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

#[track_caller]
fn assert_cloexec<F: AsFd>(fd: F) {
    assert!(is_cloexec(fd).unwrap(), "fd is not CLOEXEC");
}

#[test]
fn errno_round_trips_through_io_error() {
    for e in [
        Errno::EPIPE,
        Errno::ECONNRESET,
        Errno::EWOULDBLOCK,
        Errno::EINTR,
        Errno::EBADF,
    ] {
        let io = errno_to_io(e);
        assert_eq!(io.raw_os_error(), Some(e as i32));
        assert_eq!(errno_from_io(&io), e);
        let io2: std::io::Error = e.into();
        assert_eq!(errno_from_io(&io2), e);
    }
    assert_eq!(Errno::EWOULDBLOCK, Errno::EAGAIN);
    assert_eq!(
        errno_to_io(Errno::EWOULDBLOCK).kind(),
        std::io::ErrorKind::WouldBlock
    );
    let custom = std::io::Error::other("not from the OS");
    assert_eq!(errno_from_io(&custom), Errno::UnknownErrno);
}

#[test]
fn every_created_fd_is_cloexec_and_nonblock_when_asked() {
    let (r, w) = pipe(true).unwrap();
    for fd in [&r, &w] {
        assert_cloexec(fd);
        assert!(is_nonblocking(fd).unwrap());
    }
    let (r2, _w2) = pipe(false).unwrap();
    assert!(!is_nonblocking(&r2).unwrap());
    assert_cloexec(&r2);

    let s = socket(libc::AF_INET, libc::SOCK_STREAM, 0, true).unwrap();
    assert_cloexec(&s);
    assert!(is_nonblocking(&s).unwrap());
    let b = socket(libc::AF_INET6, libc::SOCK_DGRAM, 0, false).unwrap();
    assert_cloexec(&b);
    assert!(!is_nonblocking(&b).unwrap());

    let (a, c) = socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, true).unwrap();
    for fd in [&a, &c] {
        assert_cloexec(fd);
        assert!(is_nonblocking(fd).unwrap());
    }
    assert_cloexec(dup(&a).unwrap());
    assert_cloexec(dup_at_least(&a, 100).unwrap());
    let target = dup(&c).unwrap();
    let d2 = dup2(&a, target).unwrap();
    assert_cloexec(&d2);

    // accept4 on a real listener.
    bind(&s, &SockAddr::from_std(&"127.0.0.1:0".parse().unwrap())).unwrap();
    listen(&s, 5).unwrap();
    let addr = getsockname(&s).unwrap();
    assert_eq!(accept4(&s, true).unwrap_err(), Errno::EWOULDBLOCK);
    let cl = socket(libc::AF_INET, libc::SOCK_STREAM, 0, false).unwrap();
    connect(&cl, &addr).unwrap();
    wait_until_fd_ready(&s, FdEvent::Read, Some(Duration::from_secs(5))).unwrap();
    let (conn, peer) = accept4(&s, true).unwrap();
    assert_cloexec(&conn);
    assert!(is_nonblocking(&conn).unwrap());
    assert_eq!(peer, getsockname(&cl).unwrap());
    assert_eq!(getpeername(&conn).unwrap(), getsockname(&cl).unwrap());

    #[cfg(target_os = "linux")]
    assert_cloexec(epoll_create1().unwrap());
}

#[test]
fn read_write_readv_writev_and_eof() {
    let (r, w) = pipe(true).unwrap();
    assert_eq!(read(&r, &mut [0u8; 4]), Err(Errno::EWOULDBLOCK));
    assert_eq!(
        writev(&w, &[IoSlice::new(b"ab"), IoSlice::new(b"cde")]).unwrap(),
        5
    );
    let (mut x, mut y) = ([0u8; 2], [0u8; 8]);
    let n = readv(&r, &mut [IoSliceMut::new(&mut x), IoSliceMut::new(&mut y)]).unwrap();
    assert_eq!(n, 5);
    assert_eq!(&x, b"ab");
    assert_eq!(&y[..3], b"cde");
    close(w).unwrap();
    assert_eq!(read(&r, &mut [0u8; 4]), Ok(0));
    // fd_is_open reports numbers; a high number nobody else in this process uses.
    raise_nofile_limit(16_384).unwrap();
    let high = dup_at_least(&r, 15_001).unwrap();
    let raw = high.as_raw_fd();
    assert!(fd_is_open(raw));
    drop(high);
    assert!(!fd_is_open(raw));
}

#[test]
fn repeat_upon_eintr_retries_an_interrupted_read() {
    catch_signal_interrupting(Signal::SIGUSR1).unwrap();
    let (r, w) = pipe(false).unwrap();
    let me = pthread_self();
    let interrupts = Arc::new(AtomicBool::new(false));
    let seen_eintr = Arc::new(AtomicBool::new(false));
    let t = {
        let interrupts = interrupts.clone();
        thread::spawn(move || {
            for _ in 0..5 {
                thread::sleep(Duration::from_millis(20));
                pthread_kill(me, Signal::SIGUSR1).unwrap();
            }
            interrupts.store(true, Ordering::SeqCst);
            thread::sleep(Duration::from_millis(20));
            write(&w, b"x").unwrap();
        })
    };
    let mut buf = [0u8; 1];
    let n = repeat_upon_eintr(|| {
        let r = read(&r, &mut buf);
        if r == Err(Errno::EINTR) {
            seen_eintr.store(true, Ordering::SeqCst);
        }
        r
    })
    .unwrap();
    t.join().unwrap();
    assert_eq!(n, 1);
    assert_eq!(buf[0], b'x');
    assert!(interrupts.load(Ordering::SeqCst));
    assert!(
        seen_eintr.load(Ordering::SeqCst),
        "the read was never interrupted"
    );
}

#[test]
fn repeat_decreasing_timeout_never_stretches_under_eintr() {
    catch_signal_interrupting(Signal::SIGUSR2).unwrap();
    let (r, _w) = pipe(true).unwrap();
    let me = pthread_self();
    let stop = Arc::new(AtomicBool::new(false));
    let t = {
        let stop = stop.clone();
        thread::spawn(move || {
            // Interrupt far longer than the timeout: a retry that restarted the full timeout
            // would never return while this runs.
            let end = Instant::now() + Duration::from_secs(3);
            while !stop.load(Ordering::SeqCst) && Instant::now() < end {
                let _ = pthread_kill(me, Signal::SIGUSR2);
                thread::sleep(Duration::from_millis(10));
            }
        })
    };
    let start = Instant::now();
    let got = wait_until_fd_ready(&r, FdEvent::Read, Some(Duration::from_millis(300))).unwrap();
    let took = start.elapsed();
    stop.store(true, Ordering::SeqCst);
    t.join().unwrap();
    assert_eq!(got, (false, false));
    assert!(
        took >= Duration::from_millis(300),
        "returned early: {took:?}"
    );
    assert!(
        took < Duration::from_millis(1500),
        "timeout stretched: {took:?}"
    );
}

#[test]
fn select_refuses_fds_past_fd_setsize() {
    let limit = raise_nofile_limit(FD_SETSIZE as u64 + 64).unwrap();
    if limit <= FD_SETSIZE as u64 {
        panic!("cannot raise RLIMIT_NOFILE above FD_SETSIZE (hard limit too low): {limit}");
    }
    let (r, w) = pipe(true).unwrap();
    let high = dup_at_least(&r, FD_SETSIZE as i32).unwrap();
    assert!(high.as_raw_fd() as usize >= FD_SETSIZE);
    let mut set = FdSet::new();
    assert_eq!(set.insert(high.as_raw_fd()), Err(Errno::EINVAL));
    assert_eq!(set.insert(-1), Err(Errno::EINVAL));
    assert!(!set.contains(high.as_raw_fd()));
    assert_eq!(
        select(
            FD_SETSIZE as i32 + 1,
            Some(&mut set),
            None,
            None,
            Some(Duration::ZERO)
        ),
        Err(Errno::EINVAL)
    );
    // A low fd works end to end.
    set.insert(r.as_raw_fd()).unwrap();
    write(&w, b"!").unwrap();
    let n = select(
        r.as_raw_fd() + 1,
        Some(&mut set),
        None,
        None,
        Some(Duration::from_secs(5)),
    )
    .unwrap();
    assert_eq!(n, 1);
    assert!(set.contains(r.as_raw_fd()));
}

#[test]
fn send_to_closed_peer_is_epipe() {
    let (a, b) = socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, false).unwrap();
    drop(b);
    assert_eq!(send(&a, b"hello", MsgFlags::empty()), Err(Errno::EPIPE));
}

/// The data-path calls (read, write, recv, send and their `_opt` forms) enter the kernel
/// directly on x86-64 Linux: their errnos, flags and datagram semantics are the C calls'.
#[test]
fn data_path_calls_keep_the_c_calls_errnos_and_semantics() {
    let (r, w) = pipe(true).unwrap();
    // The wrong end of a pipe, and a socket call on a pipe.
    assert_eq!(read(&w, &mut [0u8; 4]), Err(Errno::EBADF));
    assert_eq!(write(&r, b"x"), Err(Errno::EBADF));
    assert_eq!(
        recv(&r, &mut [0u8; 4], MsgFlags::empty()),
        Err(Errno::ENOTSOCK)
    );
    assert_eq!(send(&w, b"x", MsgFlags::empty()), Err(Errno::ENOTSOCK));
    assert_eq!(
        recv_opt(None, &mut [0u8; 4], MsgFlags::empty()),
        Err(Errno::EBADF)
    );
    // A write larger than the pipe takes part of it, then EAGAIN.
    let big = vec![7u8; 1 << 20];
    let took = write(&w, &big).unwrap();
    assert!(took > 0 && took < big.len());
    assert_eq!(write(&w, &big), Err(Errno::EAGAIN));
    let mut sink = vec![0u8; 1 << 20];
    let mut drained = 0;
    while let Ok(n) = read(&r, &mut sink) {
        assert!(sink[..n].iter().all(|&b| b == 7));
        drained += n;
    }
    assert_eq!(drained, took);

    // Flags reach the kernel: a peek leaves the bytes, MSG_DONTWAIT on a blocking socket.
    let (a, b) = socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, false).unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(recv(&b, &mut buf, MsgFlags::DONT_WAIT), Err(Errno::EAGAIN));
    assert_eq!(send(&a, b"peek", MsgFlags::empty()), Ok(4));
    assert_eq!(recv(&b, &mut buf, MsgFlags::PEEK), Ok(4));
    assert_eq!(recv(&b, &mut buf, MsgFlags::empty()), Ok(4));
    assert_eq!(&buf[..4], b"peek");
    // An empty buffer is no error.
    assert_eq!(send(&a, b"", MsgFlags::empty()), Ok(0));

    // recv, unlike read, consumes a zero-length datagram.
    let (c, d) = socketpair(libc::AF_UNIX, libc::SOCK_DGRAM, 0, false).unwrap();
    assert_eq!(send(&c, b"", MsgFlags::empty()), Ok(0));
    assert_eq!(send(&c, b"xy", MsgFlags::empty()), Ok(2));
    assert_eq!(recv(&d, &mut buf, MsgFlags::empty()), Ok(0));
    assert_eq!(recv(&d, &mut buf, MsgFlags::empty()), Ok(2));

    // A reset peer: ECONNRESET from recv, then EPIPE (no SIGPIPE) from send.
    let lo = SockAddr::from(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
    let listener = socket(libc::AF_INET, libc::SOCK_STREAM, 0, false).unwrap();
    bind(&listener, &lo).unwrap();
    listen(&listener, 1).unwrap();
    let client = socket(libc::AF_INET, libc::SOCK_STREAM, 0, false).unwrap();
    connect(&client, &getsockname(&listener).unwrap()).unwrap();
    let (server, _) = accept4(&listener, false).unwrap();
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    setsockopt(&server, libc::SOL_SOCKET, libc::SO_LINGER, &linger).unwrap();
    assert_eq!(send(&client, b"unread", MsgFlags::empty()), Ok(6));
    drop(server); // closed with data unread and no linger: a reset
    assert_eq!(
        recv(&client, &mut buf, MsgFlags::empty()),
        Err(Errno::ECONNRESET)
    );
    assert_eq!(send(&client, b"more", MsgFlags::empty()), Err(Errno::EPIPE));
}

#[test]
fn scm_rights_passes_a_pipe() {
    let (a, b) = socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, false).unwrap();
    let (r, w) = pipe(false).unwrap();
    assert_eq!(
        sendmsg(&a, b"F", &[w.as_fd()], MsgFlags::empty()).unwrap(),
        1
    );
    drop(w);
    let mut buf = [0u8; 4];
    let (n, fds, flags) = recvmsg(&b, &mut buf, 4, MsgFlags::empty()).unwrap();
    assert_eq!(n, 1);
    assert_eq!(buf[0], b'F');
    assert!(!flags.contains(MsgFlags::CONTROL_TRUNCATED));
    assert_eq!(fds.len(), 1);
    assert_cloexec(&fds[0]);
    write(&fds[0], b"through").unwrap();
    let mut got = [0u8; 7];
    assert_eq!(read(&r, &mut got).unwrap(), 7);
    assert_eq!(&got, b"through");
}

#[test]
fn wait_until_fd_ready_cases() {
    let (r, w) = pipe(true).unwrap();
    // timeout
    let t = Instant::now();
    assert_eq!(
        wait_until_fd_ready(&r, FdEvent::Read, Some(Duration::from_millis(50))).unwrap(),
        (false, false)
    );
    assert!(t.elapsed() >= Duration::from_millis(50));
    // writable
    assert_eq!(
        wait_until_fd_ready(&w, FdEvent::Write, None).unwrap(),
        (false, true)
    );
    assert!(fd_writable(&w).unwrap());
    assert!(!fd_readable(&r).unwrap());
    // readable
    write(&w, b"x").unwrap();
    assert_eq!(
        wait_until_fd_ready(&r, FdEvent::ReadWrite, None).unwrap(),
        (true, false)
    );
    // hang-up counts as readable
    let mut b = [0u8; 1];
    read(&r, &mut b).unwrap();
    drop(w);
    assert!(fd_readable(&r).unwrap());
    // POLLNVAL names the condition (a high number no parallel test reuses)
    raise_nofile_limit(16_384).unwrap();
    let high = dup_at_least(&r, 15_101).unwrap();
    let raw = high.as_raw_fd();
    drop(high);
    let err = wait_until_raw_fd_ready(raw, FdEvent::Read, Some(Duration::ZERO)).unwrap_err();
    assert_eq!(err, FdWaitError::PollNval { fd: raw });
    assert_eq!(err.errno(), Errno::EBADF);
    assert!(err.to_string().contains("POLLNVAL"), "{err}");
}

#[test]
fn pollerr_on_reset_socket_is_named() {
    let (a, b) = socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, true).unwrap();
    // The write end of a pipe whose reader is gone reports POLLERR.
    drop(b);
    let (r, w) = pipe(true).unwrap();
    drop(r);
    let err = wait_until_fd_ready(&w, FdEvent::Write, Some(Duration::from_secs(1))).unwrap_err();
    assert!(matches!(err, FdWaitError::PollErr { .. }), "{err:?}");
    assert!(err.to_string().contains("POLLERR"));
    // The socket with a closed peer is readable (EOF) rather than an error.
    assert!(fd_readable(&a).unwrap());
}

#[test]
fn socket_options_round_trip_and_so_error() {
    let s = socket(libc::AF_INET, libc::SOCK_STREAM, 0, true).unwrap();
    let before: i32 = getsockopt(&s, libc::SOL_SOCKET, libc::SO_KEEPALIVE).unwrap();
    assert_eq!(before, 0);
    setsockopt(&s, libc::SOL_SOCKET, libc::SO_KEEPALIVE, &1i32).unwrap();
    let after: i32 = getsockopt(&s, libc::SOL_SOCKET, libc::SO_KEEPALIVE).unwrap();
    assert_ne!(after, 0);
    assert_eq!(socket_error(&s).unwrap(), None);
}

#[test]
fn nonblocking_connect_refused_is_reported_through_so_error() {
    // Find a closed port: bind, read the port, close.
    let l = socket(libc::AF_INET, libc::SOCK_STREAM, 0, true).unwrap();
    bind(&l, &SockAddr::from_std(&"127.0.0.1:0".parse().unwrap())).unwrap();
    let addr = getsockname(&l).unwrap();
    drop(l);
    let s = socket(libc::AF_INET, libc::SOCK_STREAM, 0, true).unwrap();
    match connect(&s, &addr) {
        Err(Errno::EINPROGRESS) => {
            let _ = wait_until_fd_ready(&s, FdEvent::Write, Some(Duration::from_secs(5)));
            assert_eq!(socket_error(&s).unwrap(), Some(Errno::ECONNREFUSED));
        }
        Err(e) => assert_eq!(e, Errno::ECONNREFUSED),
        Ok(()) => panic!("connected to a closed port"),
    }
}

#[test]
fn udp_sendto_recvfrom() {
    let a = socket(libc::AF_INET, libc::SOCK_DGRAM, 0, false).unwrap();
    let b = socket(libc::AF_INET, libc::SOCK_DGRAM, 0, false).unwrap();
    let any = SockAddr::from_std(&"127.0.0.1:0".parse().unwrap());
    bind(&a, &any).unwrap();
    bind(&b, &any).unwrap();
    let b_addr = getsockname(&b).unwrap();
    assert_eq!(sendto(&a, b"dgram", MsgFlags::empty(), &b_addr).unwrap(), 5);
    let mut buf = [0u8; 16];
    let (n, from) = recvfrom(&b, &mut buf, MsgFlags::empty()).unwrap();
    assert_eq!(&buf[..n], b"dgram");
    assert_eq!(from, getsockname(&a).unwrap());
    assert_eq!(
        recvfrom(&b, &mut buf, MsgFlags::DONT_WAIT).unwrap_err(),
        Errno::EWOULDBLOCK
    );
}

#[test]
fn getaddrinfo_localhost_and_interfaces() {
    let res = getaddrinfo(
        Some("127.0.0.1"),
        Some("80"),
        libc::AF_INET,
        libc::SOCK_STREAM,
        0,
    )
    .unwrap();
    assert_eq!(res[0].addr.as_std(), Some("127.0.0.1:80".parse().unwrap()));
    let err = getaddrinfo(
        Some("no such host.invalid"),
        None,
        0,
        0,
        libc::AI_NUMERICHOST,
    )
    .unwrap_err();
    assert!(err.is_no_name(), "{err}");
    let ifs = if_nameindex().unwrap();
    let lo = if cfg!(target_os = "linux") {
        "lo"
    } else {
        "lo0"
    };
    assert!(ifs.iter().any(|(_, n)| n == lo), "{ifs:?}");
    assert!(if_nametoindex(lo).unwrap() > 0);
}

#[test]
fn clocks_and_rlimits() {
    let a = clock_gettime(ClockId::Monotonic).unwrap();
    let b = clock_gettime(ClockId::Monotonic).unwrap();
    assert!(b >= a);
    assert!(clock_gettime(ClockId::Realtime).unwrap() > Duration::from_secs(1_600_000_000));
    let (soft, hard) = getrlimit(Resource::NoFile).unwrap();
    assert!(soft <= hard);
}
