//! Helpers for the tests that attack the echo servers: hostile and well-behaved clients,
//! resource limits, the server's CPU time and memory from /proc, and syscall fault injection
//! with strace.

use super::{wait_timeout, Launch, Server};
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// Where the servers listen and the clients connect.
pub const HOST: &str = "127.0.0.1";
/// The backends every multiplexed server runs on.
pub const BACKENDS: [&str; 3] = ["select", "poll", "epoll"];
/// How long a single read or write of a test client may block before the test fails.
pub const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// The echo servers: ex5 (threaded) and the multiplexed ex6, ex7, ex8.
pub fn is_line_server(server: &str) -> bool {
    server != "ex8-server"
}

/// The multiplexed servers honour `IOMUX_BACKEND`; ex5 ignores it.
pub fn backend_env(backend: &str) -> Vec<(&'static str, String)> {
    vec![("IOMUX_BACKEND", backend.to_string())]
}

fn env_refs<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Starts `server --port 0 --quiet extra...` on `backend` under `launch`; panics with the
/// server's output if it does not come up.
pub fn start_under(launch: &Launch, server: &str, backend: &str, extra: &[&str]) -> Server {
    let mut args = vec!["--quiet"];
    args.extend_from_slice(extra);
    let env = backend_env(backend);
    Server::start_with(launch, server, 0, &args, &env_refs(&env))
        .unwrap_or_else(|e| panic!("{server} on {backend} did not start: {e}"))
}

/// Starts `server --port 0 --quiet extra...` on `backend`.
pub fn start(server: &str, backend: &str, extra: &[&str]) -> Server {
    start_under(&Launch::default(), server, backend, extra)
}

/// Sets `RLIMIT_NOFILE` of the command's process to `n` (soft and hard) before it runs.
pub fn limit_nofile(cmd: &mut Command, n: u64) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure runs in the child between fork and exec and only calls
    // setrlimit(2), which is async-signal-safe; it touches no memory shared with the parent.
    unsafe {
        cmd.pre_exec(move || {
            let lim = libc::rlimit {
                rlim_cur: n as libc::rlim_t,
                rlim_max: n as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// The launch that runs a server with at most `n` open fds: `prlimit --nofile=N:N --` from
/// util-linux when it is installed, otherwise a `setrlimit` in the child before exec.
pub fn with_nofile(n: u64) -> Launch {
    let have_prlimit = Command::new("prlimit")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if have_prlimit {
        Launch {
            wrapper: vec!["prlimit".into(), format!("--nofile={n}:{n}"), "--".into()],
            nofile: None,
        }
    } else {
        Launch {
            wrapper: Vec::new(),
            nofile: Some(n),
        }
    }
}

/// Whether the server process is still running.
pub fn alive(srv: &mut Server) -> bool {
    matches!(srv.child.try_wait(), Ok(None))
}

/// Fails the test unless the server process is still running.
#[track_caller]
pub fn assert_alive(srv: &mut Server, when: &str) {
    if let Ok(Some(status)) = srv.child.try_wait() {
        thread::sleep(Duration::from_millis(50));
        panic!(
            "{} exited {when}: {status}\nstdout {:?}\nstderr {:?}",
            srv.name,
            tail(&srv.stdout.get(), 20),
            tail(&srv.stderr.get(), 20)
        );
    }
}

/// The last `n` lines, for messages.
pub fn tail(v: &[String], n: usize) -> Vec<String> {
    v[v.len().saturating_sub(n)..].to_vec()
}

/// SIGTERM, then a clean exit (status 0) within 10 s; returns stdout and stderr.
#[track_caller]
pub fn stop_clean(srv: Server) -> (Vec<String>, Vec<String>) {
    let name = srv.name.clone();
    let (status, out, err) = srv.stop();
    assert!(
        status.is_some_and(|s| s.success()),
        "{name} did not exit cleanly on SIGTERM: {status:?}\nstdout {:?}\nstderr {:?}",
        tail(&out, 20),
        tail(&err, 20)
    );
    assert!(
        !err.iter().any(|l| l.contains("panicked")),
        "{name} panicked: {err:?}"
    );
    (out, err)
}

// ----- clients ------------------------------------------------------------------------------

/// A connected client with read and write timeouts ([`IO_TIMEOUT`]).
pub fn connect(port: u16) -> TcpStream {
    try_connect(port).unwrap_or_else(|e| panic!("port {port}: {e}"))
}

/// [`connect`], as a result.
pub fn try_connect(port: u16) -> Result<TcpStream, String> {
    let s = TcpStream::connect((HOST, port)).map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    s.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    Ok(s)
}

/// What the server sends back for `line` (given without its line end) sent with a LF:
/// line servers answer in CRLF; ex8 echoes the bytes.
pub fn echo_of(server: &str, line: &[u8]) -> Vec<u8> {
    let mut v = line.to_vec();
    if is_line_server(server) {
        v.extend_from_slice(b"\r\n");
    } else {
        v.push(b'\n');
    }
    v
}

/// Reads exactly `n` bytes within `timeout`, whatever the socket's own timeout.
pub fn read_exactly(s: &TcpStream, n: usize, timeout: Duration) -> Result<Vec<u8>, String> {
    let end = Instant::now() + timeout;
    let mut buf = vec![0u8; n];
    let mut got = 0;
    while got < n {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!(
                "timed out after {timeout:?} with {got} of {n} bytes: {:?}",
                String::from_utf8_lossy(&buf[..got])
            ));
        }
        s.set_read_timeout(Some(left)).map_err(|e| e.to_string())?;
        match (&*s).read(&mut buf[got..]) {
            Ok(0) => {
                return Err(format!(
                    "end of file after {got} of {n} bytes: {:?}",
                    String::from_utf8_lossy(&buf[..got])
                ))
            }
            Ok(k) => got += k,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => return Err(format!("read after {got} of {n} bytes: {e}")),
        }
    }
    let _ = s.set_read_timeout(Some(IO_TIMEOUT));
    Ok(buf)
}

/// One echo round trip of `line` (without its end) within `timeout`; returns how long it took.
pub fn round_trip(
    s: &TcpStream,
    server: &str,
    line: impl AsRef<[u8]>,
    timeout: Duration,
) -> Result<Duration, String> {
    let line = line.as_ref();
    let start = Instant::now();
    let mut msg = line.to_vec();
    msg.push(b'\n');
    let shown = String::from_utf8_lossy(line);
    (&*s)
        .write_all(&msg)
        .map_err(|e| format!("write {shown:?}: {e}"))?;
    let want = echo_of(server, line);
    let got = read_exactly(s, want.len(), timeout)?;
    if got != want {
        return Err(format!(
            "echo of {shown:?} came back as {:?}",
            String::from_utf8_lossy(&got)
        ));
    }
    Ok(start.elapsed())
}

/// A new client connects and gets `lines` echo round trips done within `within`.
pub fn fresh_client_served(
    port: u16,
    server: &str,
    lines: usize,
    within: Duration,
) -> Result<(), String> {
    let start = Instant::now();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let s = TcpStream::connect_timeout(&addr, within)
        .map_err(|e| format!("a new client cannot connect: {e}"))?;
    s.set_write_timeout(Some(within)).unwrap();
    for i in 0..lines {
        let left = within.saturating_sub(start.elapsed());
        round_trip(&s, server, format!("fresh client line {i}"), left)
            .map_err(|e| format!("a new client is not served within {within:?}: {e}"))?;
    }
    Ok(())
}

/// Sets SO_LINGER {on, 0}: closing the socket then sends a reset.
pub fn set_linger_zero(s: &TcpStream) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    isys::setsockopt(s, libc::SOL_SOCKET, libc::SO_LINGER, &linger).expect("SO_LINGER");
}

/// Closes `s` with a reset (RST) instead of an orderly FIN.
pub fn reset(s: TcpStream) {
    set_linger_zero(&s);
    drop(s);
}

/// How a connection ended for the reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// Orderly end of file.
    Eof,
    /// ECONNRESET.
    Reset,
    /// Still open when the time ran out.
    Timeout,
    /// Another error.
    Other(String),
}

impl End {
    /// The server closed the connection (EOF or reset).
    pub fn closed(&self) -> bool {
        matches!(self, End::Eof | End::Reset)
    }
}

/// Reads everything until the connection ends or `timeout` passes.
pub fn read_until_closed(s: &TcpStream, timeout: Duration) -> (Vec<u8>, End) {
    let end = Instant::now() + timeout;
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return (out, End::Timeout);
        }
        let _ = s.set_read_timeout(Some(left));
        match (&*s).read(&mut buf) {
            Ok(0) => return (out, End::Eof),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return (out, End::Reset),
            Err(e) => return (out, End::Other(e.to_string())),
        }
    }
}

/// Whether the peer has closed `s`, looking without blocking: `Some(true)` closed (EOF or
/// reset), `Some(false)` open with nothing to read, `None` data is waiting.
pub fn peer_closed_now(s: &TcpStream) -> Option<bool> {
    let mut b = [0u8; 1];
    s.set_nonblocking(true).unwrap();
    let r = s.peek(&mut b);
    s.set_nonblocking(false).unwrap();
    match r {
        Ok(0) => Some(true),
        Ok(_) => None,
        Err(e) if e.kind() == ErrorKind::WouldBlock => Some(false),
        Err(_) => Some(true),
    }
}

/// Writes as much of `data` as the connection takes within `timeout` (the peer may close
/// it meanwhile); returns how many bytes went.
pub fn write_what_goes(s: &TcpStream, data: &[u8], timeout: Duration) -> usize {
    let end = Instant::now() + timeout;
    let mut sent = 0;
    while sent < data.len() {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        let _ = s.set_write_timeout(Some(left));
        match (&*s).write(&data[sent..]) {
            Ok(0) => break,
            Ok(n) => sent += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break,
        }
    }
    sent
}

/// Sends `data` from one thread while reading the answer in this one, then half-closes;
/// returns everything read until the server's end of file (or `timeout`).
pub fn send_and_collect(
    port: u16,
    data: Vec<u8>,
    half_close: bool,
    timeout: Duration,
) -> (Vec<u8>, End) {
    let s = connect(port);
    let w = s.try_clone().unwrap();
    let writer = thread::spawn(move || {
        write_what_goes(&w, &data, timeout);
        if half_close {
            let _ = w.shutdown(Shutdown::Write);
        }
    });
    let r = read_until_closed(&s, timeout);
    let _ = writer.join();
    r
}

/// Fills the connection without reading: writes `chunk` without blocking until the kernel
/// buffers are full (or `timeout`); returns the bytes written.
pub fn flood(s: &TcpStream, chunk: &[u8], timeout: Duration) -> usize {
    s.set_nonblocking(true).unwrap();
    let end = Instant::now() + timeout;
    let mut sent = 0;
    let mut stalled_since: Option<Instant> = None;
    while Instant::now() < end {
        match (&*s).write(chunk) {
            Ok(n) => {
                sent += n;
                stalled_since = None;
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                // Full for a while: the server stopped reading (as it should).
                let since = *stalled_since.get_or_insert_with(Instant::now);
                if since.elapsed() > Duration::from_millis(300) {
                    break;
                }
                thread::sleep(Duration::from_millis(5));
            }
            Err(_) => break,
        }
    }
    s.set_nonblocking(false).unwrap();
    sent
}

// ----- the well-behaved client --------------------------------------------------------------

/// What the well-behaved client saw.
#[derive(Debug)]
pub struct SteadyReport {
    /// Round trips completed.
    pub rounds: usize,
    /// The slowest one.
    pub max_latency: Duration,
    /// The first failure, if any.
    pub error: Option<String>,
}

/// A client that keeps doing echo round trips on one connection until stopped, each within
/// `max_latency`.
pub struct Steady {
    stop: Arc<AtomicBool>,
    handle: thread::JoinHandle<SteadyReport>,
}

impl Steady {
    /// Connects and starts echoing.
    pub fn start(port: u16, server: &str, max_latency: Duration) -> Steady {
        let stop = Arc::new(AtomicBool::new(false));
        let s = connect(port);
        let (flag, server) = (stop.clone(), server.to_string());
        let handle = thread::spawn(move || {
            let mut rep = SteadyReport {
                rounds: 0,
                max_latency: Duration::ZERO,
                error: None,
            };
            while !flag.load(Ordering::Relaxed) {
                let line = format!("well-behaved line {} ünïcödé", rep.rounds);
                match round_trip(&s, &server, &line, max_latency) {
                    Ok(d) => {
                        rep.rounds += 1;
                        rep.max_latency = rep.max_latency.max(d);
                    }
                    Err(e) => {
                        rep.error = Some(format!("round trip {}: {e}", rep.rounds));
                        break;
                    }
                }
                thread::sleep(Duration::from_millis(5));
            }
            rep
        });
        Steady { stop, handle }
    }

    /// Stops and reports.
    pub fn finish(self) -> SteadyReport {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.join().expect("well-behaved client thread")
    }
}

// ----- /proc -------------------------------------------------------------------------------

/// The CPU time (user + system) process `pid` used so far, from /proc/PID/stat; `None` if
/// the process is gone.
pub fn cpu_time(pid: i32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state); utime and stime are fields 14 and 15, in clock ticks.
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    // SAFETY: sysconf only reads a configuration value.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Some(Duration::from_millis((utime + stime) * 1000 / hz))
}

/// A `Vm...` line of /proc/PID/status, in bytes; `None` if the process is gone.
pub fn vm_bytes(pid: i32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map(|kib| kib * 1024)
}

/// The resident set size of `pid` now (VmRSS).
pub fn rss(pid: i32) -> Option<u64> {
    vm_bytes(pid, "VmRSS")
}

/// The peak resident set size of `pid` so far (VmHWM).
pub fn peak_rss(pid: i32) -> Option<u64> {
    vm_bytes(pid, "VmHWM")
}

// ----- strace ------------------------------------------------------------------------------

/// Fails the test with instructions unless strace is installed and can trace here.
pub fn require_strace() {
    static CHECK: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    let r = CHECK.get_or_init(|| {
        match Command::new("strace")
            .args(["-f", "-qq", "-o", "/dev/null", "true"])
            .output()
        {
            Err(e) => Err(format!(
                "strace is not installed ({e}): the fault-injection tests need it. Install it \
                 (Debian/Ubuntu: `apt-get install strace`; CI installs it)."
            )),
            Ok(o) if !o.status.success() => Err(format!(
                "strace cannot trace here (ptrace refused?): {}",
                String::from_utf8_lossy(&o.stderr)
            )),
            Ok(_) => Ok(()),
        }
    });
    if let Err(e) = r {
        panic!("{e}");
    }
}

/// The launch that runs a server under strace with `injects` (each an `-e inject=` value,
/// e.g. `recvfrom:error=EINTR:when=3+5`).
pub fn strace_launch(injects: &[String]) -> Launch {
    require_strace();
    // Only traced syscalls can be tampered with (`trace=none` would disable the injection):
    // trace exactly the injected ones, output to /dev/null.
    let traced: Vec<&str> = injects
        .iter()
        .flat_map(|i| i.split(':').next().unwrap_or_default().split(','))
        .collect();
    let mut wrapper: Vec<String> = ["strace", "-f", "-qq", "-o", "/dev/null", "-e"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    wrapper.push(format!("trace={}", traced.join(",")));
    for i in injects {
        wrapper.push("-e".into());
        wrapper.push(format!("inject={i}"));
    }
    wrapper.push("--".into());
    Launch {
        wrapper,
        nofile: None,
    }
}

/// The syscalls a backend waits in (glibc on Linux x86-64 and aarch64).
pub fn wait_syscalls(backend: &str) -> &'static str {
    match backend {
        "select" => "pselect6",
        "poll" => "poll,ppoll",
        _ => "epoll_wait,epoll_pwait",
    }
}

/// The pid of the traced server: strace's child.
pub fn traced_pid(strace_pid: i32) -> Option<i32> {
    let tasks = std::fs::read_dir(format!("/proc/{strace_pid}/task")).ok()?;
    for t in tasks.flatten() {
        let children = std::fs::read_to_string(t.path().join("children")).unwrap_or_default();
        if let Some(pid) = children.split_whitespace().next() {
            return pid.parse().ok();
        }
    }
    None
}

/// Whether process `pid` exists and is not a zombie.
pub fn pid_alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            let rest = &s[s.rfind(')')? + 2..];
            rest.chars().next()
        })
        .is_some_and(|state| !matches!(state, 'Z' | 'X'))
}

/// The traced server's pid, waiting up to a second for strace to start it.
pub fn wait_traced_pid(srv: &Server) -> Option<i32> {
    let end = Instant::now() + Duration::from_secs(1);
    loop {
        if let Some(pid) = traced_pid(srv.pid()) {
            return Some(pid);
        }
        if Instant::now() >= end {
            return None;
        }
        thread::sleep(Duration::from_millis(5));
    }
}

/// Kills the traced server `pid` when dropped, if it still runs: killing strace alone would
/// leave its tracee running.
#[derive(Debug)]
pub struct KillOnDrop(pub i32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if pid_alive(self.0) {
            let _ = isys::kill(self.0, isys::Signal::SIGKILL);
        }
    }
}

/// `Ok` while the traced server `pid` runs; otherwise what it printed.
pub fn traced_alive_or_err(srv: &Server, pid: i32) -> Result<(), String> {
    if pid_alive(pid) {
        return Ok(());
    }
    thread::sleep(Duration::from_millis(50));
    Err(format!(
        "the server exited\nstdout {:?}\nstderr {:?}",
        tail(&srv.stdout.get(), 10),
        tail(&srv.stderr.get(), 10)
    ))
}

/// SIGTERM to the traced server `pid` (not to strace), then a clean exit (strace passes on
/// the server's status) within 10 s.
pub fn stop_traced(mut srv: Server, pid: i32) -> Result<(), String> {
    if !pid_alive(pid) {
        return Err("the server had exited before SIGTERM".into());
    }
    let _ = isys::kill(pid, isys::Signal::SIGTERM);
    let status = wait_timeout(&mut srv.child, Duration::from_secs(10));
    thread::sleep(Duration::from_millis(20));
    if status.is_some_and(|s| s.success()) {
        Ok(())
    } else {
        Err(format!(
            "no clean exit on SIGTERM: {status:?}\nstderr {:?}",
            tail(&srv.stderr.get(), 10)
        ))
    }
}

// ----- data --------------------------------------------------------------------------------

/// Reproducible pseudo-random bytes.
pub fn pseudo_random(n: usize, mut seed: u64) -> Vec<u8> {
    (0..n)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8
        })
        .collect()
}

/// Several independent checks of one scenario: each failure is recorded, and the test fails
/// at the end listing all of them (one stuck check does not hide what the others saw).
#[derive(Debug, Default)]
pub struct Checks {
    who: String,
    failures: Vec<String>,
}

impl Checks {
    /// Checks of `who` (a server on a backend).
    pub fn new(who: impl Into<String>) -> Checks {
        Checks {
            who: who.into(),
            failures: Vec::new(),
        }
    }

    /// Runs one check; a failure (or a panic inside it) is recorded under `what`.
    pub fn check(&mut self, what: &str, f: impl FnOnce() -> Result<(), String>) {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        match r {
            Ok(Ok(())) => {}
            Ok(Err(e)) => self.failures.push(format!("{what}: {e}")),
            Err(p) => {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                self.failures.push(format!("{what}: panicked: {msg}"));
            }
        }
    }

    /// Records a failure found outside [`check`](Self::check).
    pub fn fail(&mut self, what: String) {
        self.failures.push(what);
    }

    /// Fails the test if any check failed.
    #[track_caller]
    pub fn finish(self) {
        assert!(
            self.failures.is_empty(),
            "{}: {} check(s) failed:\n  - {}",
            self.who,
            self.failures.len(),
            self.failures.join("\n  - ")
        );
    }
}

/// `Ok` while the server process runs; otherwise its exit status and last output.
pub fn alive_or_err(srv: &mut Server) -> Result<(), String> {
    match srv.child.try_wait() {
        Ok(None) => Ok(()),
        other => {
            thread::sleep(Duration::from_millis(50));
            Err(format!(
                "the server exited: {other:?}\nstdout {:?}\nstderr {:?}",
                tail(&srv.stdout.get(), 10),
                tail(&srv.stderr.get(), 10)
            ))
        }
    }
}
