//! The acceptor under fd exhaustion, for real: the listener runs in a child process (this test
//! binary re-executed with an environment variable, since `RLIMIT_NOFILE` is process-wide and
//! tests run in parallel) under a low fd limit, with more clients than fds.
//!
//! Phase 1: the child can hold only a few connections; every other one must be shed (its
//! peer sees the connection closed) without spinning. Phase 2: the limit drops below every
//! fd number, so not even the reserve can be reopened; the child must back off (10 ms,
//! doubling, each back-off slept) instead of spinning. Phase 3: the limit is restored and the held connections
//! closed; the pending connection is accepted and served.

use sockets::*;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const CHILD_ENV: &str = "IOLIB_ACCEPTOR_CHILD";
/// Clients connecting in phase 1.
const CLIENTS: usize = 24;
/// Extra fds the child may open in phase 1.
const HOLD: u64 = 3;

fn say(line: String) {
    println!("{line}");
    std::io::stdout().flush().unwrap();
}

/// The listener's side; runs only in the re-executed child.
#[test]
fn acceptor_child_body() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let listener = make_socket()
        .connect(Connect::Passive)
        .local_host("127.0.0.1")
        .local_port(0)
        .backlog(64)
        .build_passive()
        .unwrap();
    let port = listener.local_port().unwrap();
    let mut acceptor = Acceptor::new(listener);
    assert!(acceptor.has_reserve());
    let (soft, hard) = isys::getrlimit(isys::Resource::NoFile).unwrap();
    let top = (0..4096).filter(|&fd| isys::fd_is_open(fd)).max().unwrap() as u64;
    isys::setrlimit(isys::Resource::NoFile, top + 1 + HOLD, hard).unwrap();
    // Fill every free number under the limit, then free HOLD of them.
    let mut ballast = Vec::new();
    while let Ok(fd) = isys::open(c"/dev/null", isys::libc::O_RDONLY) {
        ballast.push(fd);
    }
    ballast.truncate(ballast.len() - HOLD as usize);
    say(format!("PORT {port}"));

    // Phase 1: hold what fits, shed the rest.
    let start = Instant::now();
    let (mut held, mut sheds, mut calls, mut backoffs) = (Vec::new(), 0, 0, 0);
    while held.len() + sheds < CLIENTS && start.elapsed() < Duration::from_secs(20) {
        calls += 1;
        match acceptor.accept_blocking(Wait::For(Duration::from_millis(100))) {
            Ok(AcceptOutcome::Client(c)) => held.push(c),
            Ok(AcceptOutcome::Shed { errno }) => {
                assert_eq!(errno, Errno::EMFILE);
                sheds += 1;
            }
            Ok(AcceptOutcome::Backoff { .. }) => backoffs += 1,
            Ok(AcceptOutcome::WouldBlock) => {}
            Err(e) => panic!("accept: {e}"),
        }
    }
    assert!(acceptor.has_reserve(), "the reserve is back after shedding");
    say(format!(
        "SHED {sheds} HELD {} CALLS {calls} BACKOFFS {backoffs}",
        held.len()
    ));

    // Phase 2: not even the reserve fits.
    isys::setrlimit(isys::Resource::NoFile, 3, hard).unwrap();
    say("PHASE2".into());
    let start = Instant::now();
    let (mut waits, mut calls) = (Vec::new(), 0);
    for _ in 0..6 {
        calls += 1;
        match acceptor.accept_blocking(Wait::Forever) {
            Ok(AcceptOutcome::Backoff { retry_after, errno }) => {
                assert_eq!(errno, Errno::EMFILE);
                waits.push(retry_after.as_millis().to_string());
            }
            other => panic!("phase 2: {other:?}"),
        }
    }
    assert!(acceptor.should_log());
    assert!(!acceptor.should_log(), "one log line per second at most");
    say(format!(
        "BACKOFF {} CALLS {calls} MS {}",
        waits.join(","),
        start.elapsed().as_millis()
    ));

    // Phase 3: fds again.
    isys::setrlimit(isys::Resource::NoFile, soft, hard).unwrap();
    drop(held);
    drop(ballast);
    let mut client = match acceptor.accept_blocking(Wait::For(Duration::from_secs(10))) {
        Ok(AcceptOutcome::Client(c)) => c,
        other => panic!("phase 3: {other:?}"),
    };
    assert!(
        acceptor.has_reserve(),
        "the reserve reopens after a success"
    );
    assert_eq!(acceptor.current_backoff(), Duration::ZERO);
    client.set_read_timeout(Some(Duration::from_secs(10)));
    let line = client.read_line().unwrap();
    client.write_line(&line).unwrap();
    client.finish_output().unwrap();
    say("RESUMED".into());
}

/// What follows `prefix` in the next line of the child's stdout that has it (the test harness
/// may have printed its own words first), waiting at most 20 s.
fn expect(lines: &mpsc::Receiver<String>, prefix: &str) -> String {
    loop {
        let line = lines
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("no {prefix:?} line from the child"));
        if let Some((_, rest)) = line.split_once(prefix) {
            return rest.to_string();
        }
    }
}

fn field(line: &str, name: &str) -> usize {
    let mut words = line.split_whitespace();
    while let Some(w) = words.next() {
        if w == name {
            return words.next().unwrap().parse().unwrap();
        }
    }
    panic!("no {name} in {line:?}")
}

/// Whether the server closed this connection (end of file or reset), without waiting.
fn closed(mut s: &TcpStream) -> bool {
    let mut b = [0u8; 1];
    match s.read(&mut b) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) if e.kind() == ErrorKind::WouldBlock => false,
        Err(_) => true,
    }
}

#[test]
fn acceptor_sheds_backs_off_and_resumes_under_fd_exhaustion() {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "acceptor_child_body",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let out = BufReader::new(child.stdout.take().unwrap());
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in out.lines().map_while(|l| l.ok()) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let port: u16 = expect(&lines, "PORT ").trim().parse().unwrap();

    // Phase 1.
    let clients: Vec<TcpStream> = (0..CLIENTS)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    let report = expect(&lines, "SHED ");
    let report = format!("SHED {report}");
    eprintln!("phase 1: {report}");
    let (sheds, held, calls) = (
        field(&report, "SHED"),
        field(&report, "HELD"),
        field(&report, "CALLS"),
    );
    assert_eq!(sheds + held, CLIENTS, "{report}");
    assert_eq!(held, HOLD as usize, "{report}");
    assert!(calls <= 2 * CLIENTS + 20, "accept calls spun: {report}");
    for c in &clients {
        c.set_nonblocking(true).unwrap();
    }
    let start = Instant::now();
    let mut seen = 0;
    while start.elapsed() < Duration::from_secs(2) {
        seen = clients.iter().filter(|c| closed(c)).count();
        if seen >= sheds {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        seen, sheds,
        "every shed peer sees its connection closed promptly"
    );

    // Phase 2: one more client waits in the backlog while the child backs off.
    expect(&lines, "PHASE2");
    let mut late = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let report = expect(&lines, "BACKOFF ");
    eprintln!("phase 2: BACKOFF {report}");
    let waits: Vec<u64> = report
        .split_whitespace()
        .next()
        .unwrap()
        .split(',')
        .filter(|w| !w.is_empty())
        .map(|w| w.parse().unwrap())
        .collect();
    let calls = field(&report, "CALLS");
    // Each call tries once and sleeps its back-off: 10 + 20 + 40 + 80 + 160 + 320 ms.
    assert_eq!(waits, [10, 20, 40, 80, 160, 320], "{report}");
    assert_eq!(calls, waits.len(), "{report}");
    assert!(field(&report, "MS") >= 620, "back-offs not slept: {report}");

    // Phase 3.
    late.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    late.write_all(b"hello\n").unwrap();
    let mut echo = String::new();
    BufReader::new(&late).read_line(&mut echo).unwrap();
    assert_eq!(echo, "hello\n");
    expect(&lines, "RESUMED");
    assert!(child.wait().unwrap().success());
    drop(clients);
}
