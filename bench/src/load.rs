//! The load generator (its own process): N connections ping-ponging 64-byte lines, or one
//! connection streaming bytes. Built on isys' epoll wrappers.

use isys::{EpollEvent, EpollFlags, EpollOp, Errno, MsgFlags, OwnedFd, SockAddr};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

const MSG: usize = 64;

struct Conn {
    fd: OwnedFd,
    got: usize,
    sent_at: Instant,
    active: bool,
}

fn connect_all(port: u16, n: usize) -> (Vec<Conn>, usize) {
    let addr = SockAddr::from_std(&format!("127.0.0.1:{port}").parse().unwrap());
    let mut conns = Vec::with_capacity(n);
    let mut failed = 0;
    // Connect in waves so the server's accept queue keeps up.
    for chunk in 0..n.div_ceil(256) {
        let mut wave = Vec::new();
        for _ in chunk * 256..((chunk + 1) * 256).min(n) {
            let fd = match isys::socket(libc::AF_INET, libc::SOCK_STREAM, 0, true) {
                Ok(fd) => fd,
                Err(_) => {
                    failed += 1;
                    continue;
                }
            };
            match isys::connect(&fd, &addr) {
                Ok(()) | Err(Errno::EINPROGRESS) => wave.push(fd),
                Err(_) => failed += 1,
            }
        }
        for fd in wave {
            let ok = matches!(
                isys::wait_until_fd_ready(&fd, isys::FdEvent::Write, Some(Duration::from_secs(10))),
                Ok((_, true))
            ) && isys::socket_error(&fd) == Ok(None);
            if ok {
                let _ = isys::setsockopt(&fd, libc::IPPROTO_TCP, libc::TCP_NODELAY, &1);
                conns.push(Conn {
                    fd,
                    got: 0,
                    sent_at: Instant::now(),
                    active: true,
                });
            } else {
                failed += 1;
            }
        }
    }
    (conns, failed)
}

/// Ping-pong on `n` connections of which the first `active` exchange messages, for `secs`
/// after a warm-up; prints `READY` when measuring starts, then
/// `RESULT rt=<round trips> secs=<s> p50=<us> p99=<us> failed=<connections that failed>`.
pub fn ping_pong(port: u16, n: usize, active: usize, secs: f64) {
    isys::raise_nofile_limit(20_000).ok();
    let (mut conns, mut failed) = connect_all(port, n);
    let ep = isys::epoll_create1().expect("epoll");
    for (i, c) in conns.iter_mut().enumerate() {
        c.active = i < active;
        if c.active {
            isys::epoll_ctl(
                &ep,
                EpollOp::Add,
                c.fd.as_raw_fd(),
                Some(EpollEvent::new(EpollFlags::IN, i as u64)),
            )
            .expect("epoll_ctl");
        }
    }
    let msg = {
        let mut m = [b'x'; MSG];
        m[MSG - 1] = b'\n';
        m
    };
    for c in conns.iter_mut().filter(|c| c.active) {
        c.sent_at = Instant::now();
        if isys::send(&c.fd, &msg, MsgFlags::empty()).is_err() {
            failed += 1;
            c.active = false;
        }
    }
    let mut events = vec![EpollEvent::empty(); 1024];
    let mut buf = [0u8; 4096];
    let warmup = Duration::from_millis(300);
    let start = Instant::now();
    let mut measuring = false;
    let mut measure_start = start;
    let mut rt: u64 = 0;
    let mut lat_us: Vec<u32> = Vec::with_capacity(1 << 20);
    let run = Duration::from_secs_f64(secs);
    loop {
        let now = Instant::now();
        if !measuring && now - start >= warmup {
            measuring = true;
            measure_start = now;
            println!("READY");
            use std::io::Write;
            let _ = std::io::stdout().flush();
        }
        if measuring && now - measure_start >= run {
            break;
        }
        let k = match isys::epoll_wait(&ep, &mut events, Some(Duration::from_millis(50))) {
            Ok(k) => k,
            Err(Errno::EINTR) => continue,
            Err(e) => panic!("epoll_wait: {e}"),
        };
        for ev in &events[..k] {
            let c = &mut conns[ev.data() as usize];
            if !c.active {
                continue;
            }
            match isys::recv(&c.fd, &mut buf, MsgFlags::empty()) {
                Ok(0) => {
                    // The server closed this connection: count it, stop using it.
                    c.active = false;
                    failed += 1;
                    let _ = isys::epoll_ctl(&ep, EpollOp::Delete, c.fd.as_raw_fd(), None);
                }
                Ok(m) => {
                    c.got += m;
                    while c.got >= MSG {
                        c.got -= MSG;
                        let now = Instant::now();
                        if measuring {
                            rt += 1;
                            lat_us.push((now - c.sent_at).as_micros().min(u32::MAX as u128) as u32);
                        }
                        c.sent_at = now;
                        if isys::send(&c.fd, &msg, MsgFlags::empty()).is_err() {
                            c.active = false;
                            failed += 1;
                        }
                    }
                }
                Err(Errno::EWOULDBLOCK) | Err(Errno::EINTR) => {}
                Err(_) => {
                    c.active = false;
                    failed += 1;
                    let _ = isys::epoll_ctl(&ep, EpollOp::Delete, c.fd.as_raw_fd(), None);
                }
            }
        }
    }
    let elapsed = measure_start.elapsed().as_secs_f64();
    lat_us.sort_unstable();
    let pct = |p: f64| {
        lat_us
            .get(((lat_us.len() as f64 * p) as usize).min(lat_us.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    println!(
        "RESULT rt={rt} secs={elapsed:.3} p50={} p99={} failed={failed}",
        pct(0.50),
        pct(0.99)
    );
}

/// Streams `bytes` through the echo server on one connection and reads them all back;
/// prints `RESULT bytes=<n> secs=<s>`.
pub fn bulk(port: u16, bytes: u64) {
    use std::io::{Read, Write};
    let s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let mut w = s.try_clone().expect("clone");
    let start = Instant::now();
    let writer = std::thread::spawn(move || {
        let chunk = vec![0xa5u8; 64 * 1024];
        let mut left = bytes;
        while left > 0 {
            let n = left.min(chunk.len() as u64) as usize;
            w.write_all(&chunk[..n]).expect("write");
            left -= n as u64;
        }
    });
    let mut r = s;
    let mut buf = vec![0u8; 256 * 1024];
    let mut got = 0u64;
    while got < bytes {
        let n = r.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        got += n as u64;
    }
    writer.join().expect("writer");
    println!(
        "RESULT bytes={got} secs={:.3}",
        start.elapsed().as_secs_f64()
    );
}
