//! The fixed-work load generator (its own process), so every server does identical work:
//! exactly N round trips after a warm-up, or exactly N MiB through one connection.
//!
//! ```text
//! bench fixload ping PORT BUSY TRIPS MSGBYTES [IDLE] [THINK_US]
//! bench fixload bulk PORT MIB CHUNK
//! ```
//!
//! `ping` opens IDLE idle connections, then BUSY busy ones, and warms every connection up with
//! one blocking round trip (so the server has accepted and registered all of them); prints
//! `READY` and waits for a line on stdin. Then each busy connection makes exactly TRIPS
//! ping-pong round trips of MSGBYTES (a line ending in CRLF), closed loop, and it prints
//! `DONE trips=N secs=S rate=R errors=E`. It then waits for a line (or end of input) before
//! closing everything with RST, so no TIME_WAIT piles up between runs. With THINK_US, each
//! connection waits that many microseconds after an answer before it sends the next request
//! (paced rather than closed loop): chosen long enough, the server has answered and gone
//! back to its wait before the next request comes, on every connection, however much a tool
//! slows it.
//!
//! `bulk` makes one connection and, after `READY` and the go line, writes MIB MiB in
//! CHUNK-byte writes while reading the echo back until every byte has come back; prints
//! `DONE bytes=N secs=S MBps=R errors=0`.
//!
//! The measured span is exactly between the go line and `DONE`, so a tool attached to the
//! server (callgrind_control, strace -p) is switched on and off around it. The shape is that
//! of the C driver the project's earlier counts came from; this one lives in the bench so the
//! bench needs no C compiler.

use isys::{EpollEvent, EpollFlags, EpollOp, PollFd, PollFlags};
use std::io::{BufRead, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

fn wait_line() {
    let mut s = String::new();
    // End of input counts as the line.
    let _ = std::io::stdin().lock().read_line(&mut s);
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn dial(port: u16) -> TcpStream {
    for _ in 0..50 {
        if let Ok(s) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.set_nodelay(true);
            return s;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    eprintln!("fixload: cannot connect to port {port}");
    std::process::exit(1);
}

/// Close with RST (linger on, zero timeout): no TIME_WAIT left behind.
fn rst_close(s: TcpStream) {
    let l = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    let _ = isys::setsockopt(&s, libc::SOL_SOCKET, libc::SO_LINGER, &l);
}

fn message(len: usize) -> Vec<u8> {
    let len = len.max(2);
    let mut m = vec![b'x'; len];
    m[len - 2] = b'\r';
    m[len - 1] = b'\n';
    m
}

struct Conn {
    s: TcpStream,
    got: usize,
    left: u64,
}

/// `fixload ping`: see the module docs.
pub fn ping(port: u16, busy: usize, trips: u64, msg: usize, idle: usize, think_us: u64) -> i32 {
    let think = Duration::from_micros(think_us);
    isys::raise_nofile_limit(20_000).ok();
    let out = message(msg);
    let msg = out.len();
    let mut inb = vec![0u8; msg];
    let total = idle + busy;
    let mut all: Vec<TcpStream> = (0..total).map(|_| dial(port)).collect();
    // Warm-up: one blocking round trip per connection, all sent before any is read.
    for s in &mut all {
        if s.write_all(&out).is_err() {
            eprintln!("fixload: warm-up write failed");
            return 1;
        }
    }
    for s in &mut all {
        if s.read_exact(&mut inb).is_err() {
            eprintln!("fixload: warm-up read failed");
            return 1;
        }
    }
    let mut conns: Vec<Conn> = all
        .split_off(idle)
        .into_iter()
        .map(|s| Conn {
            s,
            got: 0,
            left: trips,
        })
        .collect();
    let idle_conns = all;
    let ep = isys::epoll_create1().expect("epoll_create1");
    for (i, c) in conns.iter().enumerate() {
        c.s.set_nonblocking(true).expect("nonblocking");
        isys::epoll_ctl(
            &ep,
            EpollOp::Add,
            c.s.as_raw_fd(),
            Some(EpollEvent::new(EpollFlags::IN, i as u64)),
        )
        .expect("epoll_ctl");
    }
    say(&format!("READY conns={busy} idle={idle}"));
    wait_line();

    let want = busy as u64 * trips;
    let (mut done, mut errors) = (0u64, 0u64);
    let start = Instant::now();
    // Paced: the connections whose next request is due, in the order they are due (one
    // think time for all, so the order of answers is the order of deadlines). The first
    // requests are spread over one think time, so that they reach the server one at a time.
    let mut due: std::collections::VecDeque<(Instant, usize)> = Default::default();
    for (i, c) in conns.iter_mut().enumerate().filter(|(_, c)| c.left > 0) {
        if think_us > 0 {
            due.push_back((start + think * i as u32 / busy as u32, i));
        } else if !matches!((&c.s).write(&out), Ok(n) if n == msg) {
            errors += 1;
        }
    }
    let mut events = vec![EpollEvent::empty(); 1024];
    while done < want {
        let now = Instant::now();
        while let Some(&(at, i)) = due.front() {
            if at > now {
                break;
            }
            due.pop_front();
            if !matches!((&conns[i].s).write(&out), Ok(n) if n == msg) {
                errors += 1;
            }
        }
        let timeout = match due.front() {
            Some(&(at, _)) => at.saturating_duration_since(now),
            None => Duration::from_secs(10),
        };
        let k = match isys::epoll_wait(&ep, &mut events, Some(timeout)) {
            Ok(0) if !due.is_empty() => continue,
            Ok(0) => {
                eprintln!("fixload: stalled at {done}/{want}");
                errors += 1;
                break;
            }
            Ok(k) => k,
            Err(isys::Errno::EINTR) => continue,
            Err(e) => panic!("epoll_wait: {e}"),
        };
        for ev in &events[..k] {
            let i = ev.data() as usize;
            let c = &mut conns[i];
            match (&c.s).read(&mut inb[..msg - c.got]) {
                Ok(0) => {
                    errors += 1;
                    let _ = isys::epoll_ctl(&ep, EpollOp::Delete, c.s.as_raw_fd(), None);
                }
                Ok(r) => {
                    c.got += r;
                    if c.got == msg {
                        c.got = 0;
                        c.left -= 1;
                        done += 1;
                        if c.left > 0 && think_us > 0 {
                            due.push_back((Instant::now() + think, i));
                        } else if c.left > 0 && !matches!((&c.s).write(&out), Ok(n) if n == msg) {
                            errors += 1;
                        }
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => {
                    errors += 1;
                    let _ = isys::epoll_ctl(&ep, EpollOp::Delete, c.s.as_raw_fd(), None);
                }
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    say(&format!(
        "DONE trips={done} secs={secs:.3} rate={:.0} errors={errors}",
        done as f64 / secs.max(1e-9)
    ));
    wait_line();
    for c in conns {
        rst_close(c.s);
    }
    for s in idle_conns {
        rst_close(s);
    }
    i32::from(errors > 0)
}

/// `fixload bulk`: see the module docs.
pub fn bulk(port: u16, mib: u64, chunk: usize) -> i32 {
    let mut s = dial(port);
    let chunk = chunk.max(1);
    let out = vec![b'b'; chunk];
    let mut inb = vec![0u8; 1 << 16];
    let warm = chunk.min(64);
    if s.write_all(&out[..warm]).is_err() || s.read_exact(&mut inb[..warm]).is_err() {
        eprintln!("fixload: warm-up failed");
        return 1;
    }
    s.set_nonblocking(true).expect("nonblocking");
    say("READY conns=1 idle=0");
    wait_line();
    let total = mib << 20;
    let (mut sent, mut got) = (0u64, 0u64);
    let start = Instant::now();
    while got < total {
        let want = if sent < total {
            PollFlags::IN | PollFlags::OUT
        } else {
            PollFlags::IN
        };
        let mut p = [PollFd::new(s.as_raw_fd(), want)];
        match isys::poll(&mut p, Some(Duration::from_secs(10))) {
            Ok(0) => {
                eprintln!("fixload: bulk stalled");
                return 1;
            }
            Ok(_) | Err(isys::Errno::EINTR) => {}
            Err(e) => panic!("poll: {e}"),
        }
        let rev = p[0].revents();
        if rev.contains(PollFlags::OUT) && sent < total {
            let n = chunk.min((total - sent) as usize);
            match s.write(&out[..n]) {
                Ok(w) => sent += w as u64,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => panic!("write: {e}"),
            }
        }
        if rev.intersects(PollFlags::IN | PollFlags::HUP | PollFlags::ERR) {
            match s.read(&mut inb) {
                Ok(0) => {
                    eprintln!("fixload: end of file from the server");
                    return 1;
                }
                Ok(r) => got += r as u64,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => panic!("read: {e}"),
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    say(&format!(
        "DONE bytes={got} secs={secs:.3} MBps={:.0} errors=0",
        got as f64 / secs.max(1e-9) / 1e6
    ));
    wait_line();
    rst_close(s);
    0
}
