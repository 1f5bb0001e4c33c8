//! Counting, not timing: user-space instructions (valgrind's callgrind) and syscalls
//! (`strace -c -f`) per round trip, per MiB or per line, over exactly the same work for
//! every server, counting only the measured span.
//!
//! Each measurement runs one server process under one tool while `bench fixload` (its own
//! process) drives the fixed work through it: connect and warm up every connection, print
//! `READY`; then the tool is switched on (callgrind: `callgrind_control -z`; strace: attached
//! with `-p`), the load is told to go, and at `DONE` the tool is switched off again
//! (`callgrind_control -d`; strace interrupted). So connecting, accepting, warming up and
//! shutting down never count.
//!
//! ```text
//! bench count [--quick] [--servers LIST] [--scenarios LIST] [--conns LIST] [--trips N]
//!             [--idle N] [--bulk-mib N] [--bulk-runs N] [--runs N] [--modes instr,sys]
//!             [--no-build]
//! ```
//!
//! `--runs N` measures every server N times in each mode, going round all the servers once
//! per run, and reports the runs taken together (work and counts added up) with each run's
//! figure where they differ: mio's and tokio's counts depend on how many events each wait
//! finds, which moves from run to run. Bulk's syscalls always take at least `--bulk-runs`
//! runs (9; 1 with `--quick`).
//!
//! Servers (a name selects every server it prefixes: `iolib` is all three backends):
//! `c`, `mio`, `tokio`, `iolib-epoll`, `iolib-poll`, `iolib-select`, `ex8-epoll`, `ex8-poll`,
//! `ex8-select` (the tutorial's ex8-server example binary, backend chosen by
//! `IOMUX_BACKEND`). Scenarios: `ping` (64-byte ping-pong at each of `--conns`, closed
//! loop), `paced` (the same, each connection waiting after each answer, so that every server
//! waits for every request; at 1, 100 and 1,000 connections unless `--conns` says), `idle`
//! (10 busy connections beside 10,000 idle ones), `bulk` (64 MiB through one connection;
//! its syscalls are counted over `--bulk-runs` runs taken together, 9 by default), `lines` (`read_line` per line against std's `BufRead::read_line`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The paced scenario's gap between requests reaching the server, in microseconds: each of N
/// connections waits N times this after an answer. Several times what a server slowed by
/// callgrind or strace takes to answer one request here.
const PACE_US: u64 = 2000;

/// Pause between the load's `READY` and switching the counter on (shorter in `--quick`).
static SETTLE_MS: AtomicU64 = AtomicU64::new(300);

/// One server of the comparison.
#[derive(Clone, Debug)]
struct Server {
    key: String,
    label: String,
    program: PathBuf,
    args: Vec<String>,
    backend: Option<&'static str>,
    /// The bench's own servers stop at `stop` on stdin; ex8 stops on SIGTERM.
    own: bool,
}

impl Server {
    /// select(2) cannot watch fds at or above FD_SETSIZE.
    fn fits(&self, fds: usize) -> bool {
        self.backend != Some("select") || fds + 16 < isys::FD_SETSIZE
    }
}

/// What the load does.
#[derive(Clone, Copy, Debug)]
enum Work {
    Ping {
        busy: usize,
        idle: usize,
        trips_each: u64,
        /// Microseconds each connection waits after an answer (0: closed loop).
        think_us: u64,
    },
    Bulk {
        mib: u64,
        chunk: usize,
        /// Syscall counts repeated this many times per server and taken together: how many
        /// reads come back short depends on when the traced server wakes, and moves by a
        /// few percent between runs of the same server.
        sys_runs: usize,
    },
}

impl Work {
    /// How many times each server is measured in `mode`, when `--runs` asks for `all`.
    fn runs(self, mode: Mode, all: usize) -> usize {
        match (self, mode) {
            (Work::Bulk { sys_runs, .. }, Mode::Sys) => sys_runs.max(all).max(1),
            _ => all.max(1),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Instr,
    Sys,
}

/// One measurement's result.
#[derive(Clone, Debug, Default)]
struct Counted {
    /// Round trips or bytes, from the load's `DONE` line.
    units: f64,
    /// Instructions (instr mode) or syscalls (sys mode) in the span.
    total: f64,
    /// Syscalls by name (sys mode).
    by_name: BTreeMap<String, f64>,
    errors: f64,
}

struct Opts {
    quick: bool,
    servers: Vec<String>,
    scenarios: Vec<String>,
    conns: Vec<usize>,
    /// The paced scenario's sizes: `conns` up to 1,000 unless `--conns` names them (at
    /// 10,000 each connection would wait 10 s per round trip).
    paced_conns: Vec<usize>,
    trips: u64,
    idle: usize,
    bulk_mib: u64,
    /// Syscall counts of the bulk scenario per server (taken together).
    bulk_runs: usize,
    /// Every measurement repeated this many times per server, taken together.
    runs: usize,
    modes: Vec<Mode>,
    build: bool,
}

fn usage() -> ! {
    eprintln!(
        "usage: bench count [--quick] [--servers c,mio,tokio,iolib,ex8,...] \
         [--scenarios ping,paced,idle,bulk,lines] [--conns 1,100,1000,10000] [--trips N] \
         [--idle N] [--bulk-mib N] [--bulk-runs N] [--runs N] [--modes instr,sys] [--no-build]"
    );
    std::process::exit(2);
}

fn parse(args: &[String]) -> Opts {
    let quick = args.iter().any(|a| a == "--quick");
    let mut o = Opts {
        quick,
        servers: vec![],
        scenarios: ["ping", "paced", "idle", "bulk", "lines"]
            .map(String::from)
            .to_vec(),
        // Quick: a smoke test of every server and scenario, counts too small to mean much.
        conns: if quick {
            vec![10]
        } else {
            vec![1, 100, 1000, 10_000]
        },
        paced_conns: if quick { vec![10] } else { vec![1, 100, 1000] },
        trips: if quick { 200 } else { 20_000 },
        idle: if quick { 100 } else { 10_000 },
        bulk_mib: if quick { 1 } else { 64 },
        bulk_runs: if quick { 1 } else { 9 },
        runs: 1,
        modes: vec![Mode::Instr, Mode::Sys],
        build: true,
    };
    let list = |v: Option<&String>| -> Vec<String> {
        v.unwrap_or_else(|| usage())
            .split(',')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--quick" => {}
            "--no-build" => o.build = false,
            "--servers" => o.servers = list(it.next()),
            "--scenarios" => o.scenarios = list(it.next()),
            "--conns" => {
                o.conns = list(it.next())
                    .iter()
                    .map(|s| s.parse().unwrap_or_else(|_| usage()))
                    .collect();
                o.paced_conns = o.conns.clone();
            }
            "--trips" => o.trips = num(it.next()),
            "--idle" => o.idle = num(it.next()) as usize,
            "--bulk-mib" => o.bulk_mib = num(it.next()),
            "--bulk-runs" => o.bulk_runs = num(it.next()) as usize,
            "--runs" => o.runs = num(it.next()) as usize,
            "--modes" => {
                o.modes = list(it.next())
                    .iter()
                    .map(|m| match m.as_str() {
                        "instr" | "cg" => Mode::Instr,
                        "sys" | "st" => Mode::Sys,
                        _ => usage(),
                    })
                    .collect()
            }
            _ => usage(),
        }
    }
    o
}

fn num(v: Option<&String>) -> u64 {
    v.and_then(|s| s.replace('_', "").parse().ok())
        .unwrap_or_else(|| usage())
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The ex8-server example binary beside the bench binary (target/release/examples),
/// rebuilt first unless `--no-build`, so its figures are always the current code's.
fn ex8_binary(build: bool) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let path = exe.parent()?.join("examples").join("ex8-server");
    if build {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let profile_release = exe.parent()?.file_name()? == "release";
        let mut cmd = Command::new(cargo);
        cmd.current_dir(workspace()).args([
            "build",
            "--quiet",
            "-p",
            "iolib",
            "--example",
            "ex8-server",
        ]);
        if profile_release {
            cmd.arg("--release");
        }
        match cmd.status() {
            Ok(s) if s.success() => {}
            _ => eprintln!("count: building ex8-server failed; using what is there"),
        }
    }
    path.exists().then_some(path)
}

fn all_servers(build: bool) -> Vec<Server> {
    let exe = std::env::current_exe().expect("current exe");
    let own = |key: &str, label: &str, args: &[&str]| Server {
        key: key.into(),
        label: label.into(),
        program: exe.clone(),
        args: args.iter().map(|s| s.to_string()).collect(),
        backend: None,
        own: true,
    };
    let mut v = vec![
        own("c", "C-style raw epoll (libc)", &["server", "raw"]),
        own("mio", "mio 1.x", &["server", "mio"]),
        own("tokio", "tokio 1.x current-thread", &["server", "tokio"]),
    ];
    for b in ["epoll", "poll", "select"] {
        if iomux::Backend::available().iter().any(|x| x.name() == b) {
            let mut s = own(
                &format!("iolib-{b}"),
                &format!("iolib-rs bench server ({b})"),
                &["server", "iolib", b],
            );
            s.backend = Some(b);
            v.push(s);
        }
    }
    if let Some(ex8) = ex8_binary(build) {
        for b in ["epoll", "poll", "select"] {
            v.push(Server {
                key: format!("ex8-{b}"),
                label: format!("ex8-server example ({b})"),
                program: ex8.clone(),
                args: ["--port", "0", "--quiet", "--backlog", "4096", "--nodelay"]
                    .map(String::from)
                    .to_vec(),
                backend: Some(b),
                own: false,
            });
        }
        // ex8's structure on two event bases, one per thread, sharing the port
        // (`--threads 2`, SO_REUSEPORT): counts add up both threads' work.
        v.push(Server {
            key: "ex8t2-epoll".into(),
            label: "ex8-server --threads 2 (epoll)".into(),
            program: ex8.clone(),
            args: [
                "--port",
                "0",
                "--quiet",
                "--backlog",
                "4096",
                "--threads",
                "2",
                "--nodelay",
            ]
            .map(String::from)
            .to_vec(),
            backend: Some("epoll"),
            own: false,
        });
    } else {
        eprintln!("count: no ex8-server binary: its rows are skipped");
    }
    v
}

fn selected(all: Vec<Server>, want: &[String]) -> Vec<Server> {
    if want.is_empty() {
        return all;
    }
    all.into_iter()
        .filter(|s| {
            want.iter()
                .any(|w| s.key == *w || s.key.starts_with(&format!("{w}-")))
        })
        .collect()
}

/// `--quick` without `--servers` runs the idle and bulk scenarios on one backend only (every
/// backend still runs in the ping-pong scenario), to stay well under a minute.
fn quick_keeps(o: &Opts, s: &Server, backend: &str) -> bool {
    !o.quick || !o.servers.is_empty() || !matches!(s.backend, Some(b) if b != backend)
}

// ----- one measurement -------------------------------------------------------------------------

/// Lines from a child's stdout, on a thread, so reads can time out.
fn line_channel(out: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn wait_for(
    rx: &mpsc::Receiver<String>,
    secs: u64,
    pick: impl Fn(&str) -> Option<String>,
) -> Option<String> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        match rx.recv_timeout(left) {
            Ok(line) => {
                if let Some(v) = pick(&line) {
                    return Some(v);
                }
            }
            Err(_) => return None,
        }
    }
}

fn port_of(line: &str) -> Option<String> {
    if let Some(p) = line.strip_prefix("PORT ") {
        return Some(p.trim().to_string());
    }
    let rest = line.strip_prefix("Listening on socket bound to: ")?;
    Some(rest.rsplit(':').next()?.trim().to_string())
}

fn field(line: &str, key: &str) -> f64 {
    line.split_whitespace()
        .find_map(|f| f.strip_prefix(key))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

fn signal(pid: u32, sig: &str) {
    let _ = Command::new("kill")
        .args([sig, &pid.to_string()])
        .stderr(Stdio::null())
        .status();
}

struct Running {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Running {
    /// Stops the server: `stop` on stdin for the bench's own, SIGTERM for ex8; SIGKILL if it
    /// lingers.
    fn stop(mut self, own: bool) {
        if own {
            if let Some(mut s) = self.stdin.take() {
                let _ = s.write_all(b"stop\n");
            }
        } else {
            signal(self.child.id(), "-TERM");
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn measure(server: &Server, work: Work, mode: Mode, out: &Path) -> Result<Counted, String> {
    let tag = match work {
        Work::Ping {
            busy,
            idle,
            think_us,
            ..
        } => {
            let paced = if think_us > 0 { ".paced" } else { "" };
            format!("{}.c{busy}.i{idle}{paced}", server.key)
        }
        Work::Bulk { mib, .. } => format!("{}.bulk{mib}", server.key),
    };
    let tag = format!("{tag}.{}", if mode == Mode::Instr { "cg" } else { "st" });
    let cg_file = out.join(format!("{tag}.out"));
    let _ = std::fs::remove_file(cg_file.with_extension("out.1"));
    let mut cmd = match mode {
        Mode::Instr => {
            let mut c = Command::new("valgrind");
            c.arg("--tool=callgrind")
                .arg(format!("--callgrind-out-file={}", cg_file.display()));
            // Extra callgrind options, e.g. `--dump-instr=yes` for per-instruction counts.
            if let Ok(extra) = std::env::var("BENCH_CALLGRIND_ARGS") {
                c.args(extra.split_whitespace());
            }
            c.arg(&server.program);
            c
        }
        Mode::Sys => Command::new(&server.program),
    };
    cmd.args(&server.args);
    if let Some(b) = server.backend {
        cmd.env("IOMUX_BACKEND", b);
    }
    let log = std::fs::File::create(out.join(format!("{tag}.log"))).map_err(|e| e.to_string())?;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("spawn {}: {e}", server.key))?;
    let stdin = child.stdin.take();
    let srv_out = line_channel(child.stdout.take().expect("stdout"));
    let srv = Running { child, stdin };
    let pid = srv.child.id();
    let Some(port) = wait_for(&srv_out, 60, port_of) else {
        srv.stop(server.own);
        return Err(format!("{tag}: the server announced no port"));
    };
    // Keep draining the server's stdout (a full pipe would block it).
    std::thread::spawn(move || while srv_out.recv().is_ok() {});

    let exe = std::env::current_exe().expect("current exe");
    let mut load = Command::new(exe);
    load.arg("fixload");
    match work {
        Work::Ping {
            busy,
            idle,
            trips_each,
            think_us,
        } => load.args([
            "ping".to_string(),
            port,
            busy.to_string(),
            trips_each.to_string(),
            "64".into(),
            idle.to_string(),
            think_us.to_string(),
        ]),
        Work::Bulk { mib, chunk, .. } => {
            load.args(["bulk".to_string(), port, mib.to_string(), chunk.to_string()])
        }
    };
    let mut load = load
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawn fixload: {e}"))?;
    let mut go = load.stdin.take().expect("stdin");
    let load_out = line_channel(load.stdout.take().expect("stdout"));
    let finish = |mut load: Child, srv: Running| {
        let _ = load.kill();
        let _ = load.wait();
        srv.stop(server.own);
    };
    if wait_for(&load_out, 600, |l| l.starts_with("READY").then(String::new)).is_none() {
        finish(load, srv);
        return Err(format!("{tag}: the load never got ready"));
    }
    // Let the server settle after the warm-up.
    std::thread::sleep(Duration::from_millis(SETTLE_MS.load(Ordering::Relaxed)));

    let strace_file = out.join(format!("{tag}.strace"));
    let mut strace = None;
    match mode {
        Mode::Instr => {
            let _ = Command::new("callgrind_control")
                .args(["-z", &pid.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        Mode::Sys => {
            strace = Command::new("strace")
                .args(["-c", "-f", "-p", &pid.to_string(), "-o"])
                .arg(&strace_file)
                .stderr(Stdio::piped())
                .spawn()
                .ok();
            // strace says "Process N attached" once it is; go only then.
            if let Some(err) = strace.as_mut().and_then(|s| s.stderr.take()) {
                let rx = line_channel(err);
                if wait_for(&rx, 10, |l| l.contains("attached").then(String::new)).is_none() {
                    eprintln!("count: {tag}: strace did not say it attached");
                }
                std::thread::spawn(move || while rx.recv().is_ok() {});
            }
        }
    }
    let _ = go.write_all(b"go\n");
    let _ = go.flush();
    let done = wait_for(&load_out, 900, |l| {
        l.starts_with("DONE").then(|| l.to_string())
    });
    match mode {
        Mode::Instr => {
            let _ = Command::new("callgrind_control")
                .args(["-d", &pid.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        Mode::Sys => {
            if let Some(mut st) = strace {
                signal(st.id(), "-INT");
                let _ = st.wait();
            }
        }
    }
    let _ = go.write_all(b"close\n");
    drop(go);
    let _ = load.wait();
    srv.stop(server.own);
    let done = done.ok_or_else(|| format!("{tag}: the load did not finish"))?;
    let units = match work {
        Work::Ping { .. } => field(&done, "trips="),
        Work::Bulk { .. } => field(&done, "bytes="),
    };
    let mut c = Counted {
        units,
        errors: field(&done, "errors="),
        ..Counted::default()
    };
    match mode {
        Mode::Instr => {
            let path = cg_file.with_extension("out.1");
            c.total = callgrind_total(&path)
                .ok_or_else(|| format!("{tag}: no callgrind dump at {}", path.display()))?;
        }
        Mode::Sys => {
            let text = std::fs::read_to_string(&strace_file)
                .map_err(|e| format!("{tag}: no strace summary: {e}"))?;
            c.by_name = strace_counts(&text);
            c.total = c.by_name.values().sum();
        }
    }
    Ok(c)
}

/// The `summary:` (or `totals:`) line of a callgrind dump: its first event is Ir.
fn callgrind_total(path: &Path) -> Option<f64> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .find_map(|l| {
            l.strip_prefix("summary:")
                .or_else(|| l.strip_prefix("totals:"))
        })
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// Calls by syscall name from `strace -c` (rows: % time, seconds, usecs/call, calls,
/// errors when any, name).
fn strace_counts(text: &str) -> BTreeMap<String, f64> {
    let mut m = BTreeMap::new();
    for l in text.lines() {
        let f: Vec<&str> = l.split_whitespace().collect();
        if f.len() < 5 || f[0].parse::<f64>().is_err() {
            continue;
        }
        let name = f[f.len() - 1];
        if name == "total" {
            continue;
        }
        if let Ok(calls) = f[3].parse::<f64>() {
            *m.entry(name.to_string()).or_insert(0.0) += calls;
        }
    }
    m
}

// ----- lines: read_line per line -------------------------------------------------------------

fn line_instructions(which: &str, len: usize, total: usize, out: &Path) -> Result<f64, String> {
    let exe = std::env::current_exe().expect("current exe");
    let file = out.join(format!("lines.{which}.{len}.out"));
    let func = if which == "iolib" {
        "*counted_read_lines_iolib*"
    } else {
        "*counted_read_lines_std*"
    };
    let o = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", file.display()))
        .arg("--collect-atstart=no")
        .arg(format!("--toggle-collect={func}"))
        .arg(exe)
        .args(["linecount", which, &len.to_string(), &total.to_string()])
        .stderr(Stdio::null())
        .output()
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&o.stdout);
    let lines = text
        .lines()
        .find_map(|l| l.strip_prefix("LINES "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .ok_or("linecount printed no count")?;
    let ir = callgrind_total(&file).ok_or("no callgrind output")?;
    Ok(ir / lines.max(1.0))
}

// ----- the report ------------------------------------------------------------------------------

fn per(c: &Counted, div: f64) -> f64 {
    c.total / (c.units / div).max(1e-9)
}

fn ratio(v: f64, base: Option<f64>) -> String {
    match base {
        Some(b) if b > 0.0 => format!("{:.2}×", v / b),
        _ => "–".into(),
    }
}

fn top_syscalls(c: &Counted, div: f64) -> String {
    let mut v: Vec<(&String, &f64)> = c.by_name.iter().collect();
    v.sort_by(|a, b| b.1.total_cmp(a.1));
    let units = (c.units / div).max(1e-9);
    v.iter()
        .take(5)
        .filter(|(_, n)| **n / units >= 0.0005)
        .map(|(k, n)| format!("{k} {:.3}", **n / units))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The runs of one measurement taken together: their units, counts and errors added up.
fn pooled(runs: Vec<Counted>) -> Option<Counted> {
    runs.into_iter().reduce(|mut all, c| {
        all.units += c.units;
        all.total += c.total;
        all.errors += c.errors;
        for (name, n) in c.by_name {
            *all.by_name.entry(name).or_insert(0.0) += n;
        }
        all
    })
}

/// Runs the selected servers on one piece of work in every mode; appends a table to `md`.
#[allow(clippy::too_many_arguments)]
fn table(
    md: &mut String,
    title: &str,
    command: &str,
    unit: &str,
    div: f64,
    servers: &[Server],
    work: Work,
    modes: &[Mode],
    runs: usize,
    out: &Path,
) {
    // Every measurement of every server, per mode (0: instructions, 1: syscalls). A repeated
    // mode goes round all the servers once per run, so that a drift in the machine's state
    // touches each server alike.
    let mut got: Vec<[Vec<Counted>; 2]> = vec![Default::default(); servers.len()];
    for (k, m) in [Mode::Instr, Mode::Sys].into_iter().enumerate() {
        if !modes.contains(&m) {
            continue;
        }
        for _ in 0..work.runs(m, runs) {
            for (s, g) in servers.iter().zip(got.iter_mut()) {
                match measure(s, work, m, out) {
                    Ok(c) => g[k].push(c),
                    Err(e) => eprintln!("count: {e}"),
                }
            }
        }
    }
    // All runs of a server pooled (their work and counts added up); the servers whose
    // repeated runs differed, with each run's figure, per mode.
    let mut spread: [Vec<String>; 2] = Default::default();
    let mut rows: Vec<(Server, Option<Counted>, Option<Counted>)> = Vec::new();
    for (s, [i, y]) in servers.iter().zip(got) {
        for (k, v) in [&i, &y].into_iter().enumerate() {
            let mut each: Vec<f64> = v.iter().map(|c| per(c, div)).collect();
            each.sort_by(f64::total_cmp);
            // At the table's precision: instructions to 0.1, syscalls to 0.001.
            let (prec, step) = if k == 0 { (1, 0.05) } else { (3, 0.0005) };
            if each.len() > 1 && each[each.len() - 1] - each[0] >= step {
                let each: Vec<String> = each.iter().map(|x| format!("{x:.prec$}")).collect();
                spread[k].push(format!("{} {}", s.label, each.join(", ")));
            }
        }
        rows.push((s.clone(), pooled(i), pooled(y)));
    }
    let base = |key: &str, which: usize| {
        rows.iter().find(|r| r.0.key == key).and_then(|r| {
            let c = if which == 0 { &r.1 } else { &r.2 };
            c.as_ref().map(|c| per(c, div))
        })
    };
    let (ci, cs, mi, ms) = (base("c", 0), base("c", 1), base("mio", 0), base("mio", 1));
    let _ = writeln!(md, "### {title}\n\n`{command}`\n");
    let _ = writeln!(
        md,
        "| server | instructions/{unit} | vs C | vs mio | syscalls/{unit} | vs C | vs mio | syscalls by name, per {unit} |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|---|");
    for (s, i, y) in &rows {
        let (iv, yv) = (
            i.as_ref().map(|c| per(c, div)),
            y.as_ref().map(|c| per(c, div)),
        );
        let cell =
            |v: Option<f64>, prec: usize| v.map_or("–".to_string(), |v| format!("{v:.prec$}"));
        let errs = i.iter().chain(y.iter()).map(|c| c.errors).sum::<f64>();
        let _ = writeln!(
            md,
            "| {}{} | {} | {} | {} | {} | {} | {} | {} |",
            s.label,
            if errs > 0.0 { " (load errors!)" } else { "" },
            cell(iv, 1),
            iv.map_or("–".into(), |v| ratio(v, ci)),
            iv.map_or("–".into(), |v| ratio(v, mi)),
            cell(yv, 3),
            yv.map_or("–".into(), |v| ratio(v, cs)),
            yv.map_or("–".into(), |v| ratio(v, ms)),
            y.as_ref().map(|c| top_syscalls(c, div)).unwrap_or_default()
        );
    }
    for (k, m) in [Mode::Instr, Mode::Sys].into_iter().enumerate() {
        let n = work.runs(m, runs);
        if n < 2 || !modes.contains(&m) {
            continue;
        }
        let what = if m == Mode::Instr {
            "Instructions"
        } else {
            "Syscalls"
        };
        let differed = if spread[k].is_empty() {
            "every server's runs gave the same figure".to_string()
        } else {
            format!(
                "the servers whose runs differed, each run in order of size: {}; the others' \
                 runs gave the same figure",
                spread[k].join("; ")
            )
        };
        let _ = writeln!(
            md,
            "\n{what} per {unit}: {n} runs per server taken together (the work and the counts \
             of all added up); {differed}."
        );
    }
    let _ = writeln!(md);
}

/// `bench count ...`: prints the tables and writes them to `target/bench/counts.md`;
/// returns the markdown.
pub fn run(args: &[String]) -> String {
    let o = parse(args);
    if o.quick {
        SETTLE_MS.store(50, Ordering::Relaxed);
    }
    let t0 = Instant::now();
    let mut md = String::new();
    let valgrind = have("valgrind") && have("callgrind_control");
    let strace = have("strace");
    let mut modes = o.modes.clone();
    if !valgrind && modes.contains(&Mode::Instr) {
        let _ = writeln!(
            md,
            "(instruction counts skipped: valgrind is not installed; `apt-get install valgrind`)\n"
        );
        modes.retain(|m| *m != Mode::Instr);
    }
    if !strace && modes.contains(&Mode::Sys) {
        let _ = writeln!(
            md,
            "(syscall counts skipped: strace is not installed; `apt-get install strace`)\n"
        );
        modes.retain(|m| *m != Mode::Sys);
    }
    eprint!("{md}");
    if modes.is_empty() {
        return md;
    }
    isys::raise_nofile_limit(20_000).ok();
    let out = workspace().join("target/bench/counts");
    let _ = std::fs::create_dir_all(&out);
    let servers = selected(all_servers(o.build), &o.servers);
    let sel = if o.servers.is_empty() {
        String::new()
    } else {
        format!(" --servers {}", o.servers.join(","))
    };
    let modes_arg = if modes.len() == 2 {
        String::new()
    } else {
        format!(
            " --modes {}",
            if modes[0] == Mode::Instr {
                "instr"
            } else {
                "sys"
            }
        )
    };
    let runs_arg = if o.runs > 1 {
        format!(" --runs {}", o.runs)
    } else {
        String::new()
    };
    let base_cmd = format!("cargo run --release -p bench -- count{sel}{modes_arg}{runs_arg}");
    let has = |s: &str| o.scenarios.iter().any(|x| x == s);

    // The closed loop at each of `--conns`; paced, a twentieth of the round trips, each
    // connection waiting PACE_US per connection after an answer: one request per PACE_US
    // reaches the server, which under either tool has long answered the last one and gone
    // back to its wait.
    let pings = [
        ("ping", &o.conns, o.trips, 0),
        ("paced", &o.paced_conns, (o.trips / 20).max(1), PACE_US),
    ];
    for (scenario, conns, trips, pace_us) in pings {
        if !has(scenario) {
            continue;
        }
        for &n in conns {
            let each = (trips / n as u64).max(1);
            let think_us = pace_us * n as u64;
            let s = if n == 1 { "" } else { "s" };
            let title = if think_us == 0 {
                format!(
                    "64-byte ping-pong, {n} connection{s}, {} round trips",
                    each * n as u64
                )
            } else {
                format!(
                    "64-byte ping-pong, paced: {n} connection{s}, {} round trips, each \
                     connection waiting {} ms after an answer",
                    each * n as u64,
                    think_us as f64 / 1000.0
                )
            };
            let list: Vec<Server> = servers.iter().filter(|s| s.fits(n)).cloned().collect();
            table(
                &mut md,
                &title,
                &format!(
                    "{base_cmd} --scenarios {scenario} --conns {n} --trips {}",
                    o.trips
                ),
                "round trip",
                1.0,
                &list,
                Work::Ping {
                    busy: n,
                    idle: 0,
                    trips_each: each,
                    think_us,
                },
                &modes,
                o.runs,
                &out,
            );
            eprintln!(
                "count: {scenario} with {n} connections done ({:.0} s)",
                t0.elapsed().as_secs_f64()
            );
        }
    }
    if has("idle") {
        let busy = 10;
        let each = (o.trips / 10 / busy as u64).max(1);
        let list: Vec<Server> = servers
            .iter()
            .filter(|s| s.fits(busy + o.idle) && quick_keeps(&o, s, "poll"))
            .cloned()
            .collect();
        table(
            &mut md,
            &format!(
                "{busy} busy connections beside {} idle ones, {} round trips",
                o.idle,
                each * busy as u64
            ),
            &format!(
                "{base_cmd} --scenarios idle --idle {} --trips {}",
                o.idle, o.trips
            ),
            "round trip",
            1.0,
            &list,
            Work::Ping {
                busy,
                idle: o.idle,
                trips_each: each,
                think_us: 0,
            },
            &modes,
            o.runs,
            &out,
        );
        eprintln!("count: idle done ({:.0} s)", t0.elapsed().as_secs_f64());
    }
    if has("bulk") {
        let list: Vec<Server> = servers
            .iter()
            .filter(|s| quick_keeps(&o, s, "epoll"))
            .cloned()
            .collect();
        table(
            &mut md,
            &format!(
                "Bulk: {} MiB through one connection in 64 KiB writes",
                o.bulk_mib
            ),
            &format!("{base_cmd} --scenarios bulk --bulk-mib {}", o.bulk_mib),
            "MiB",
            (1u64 << 20) as f64,
            &list,
            Work::Bulk {
                mib: o.bulk_mib,
                chunk: 64 * 1024,
                sys_runs: o.bulk_runs,
            },
            &modes,
            o.runs,
            &out,
        );
        eprintln!("count: bulk done ({:.0} s)", t0.elapsed().as_secs_f64());
    }
    if has("lines") && modes.contains(&Mode::Instr) {
        let total = if o.quick { 256 << 10 } else { 8 << 20 };
        let _ = writeln!(
            md,
            "### read_line: instructions per line, {} KiB of lines over a socketpair\n\n\
             `cargo run --release -p bench -- count --scenarios lines`\n",
            total >> 10
        );
        let _ = writeln!(
            md,
            "| line length | ActiveSocket::read_line_into | std BufReader::read_line | ratio (ours ÷ std) |"
        );
        let _ = writeln!(md, "|---:|---:|---:|---:|");
        for len in [64, 4096] {
            let ours = line_instructions("iolib", len, total, &out);
            let std = line_instructions("std", len, total, &out);
            match (ours, std) {
                (Ok(a), Ok(b)) => {
                    let _ = writeln!(md, "| {len} B | {a:.1} | {b:.1} | {:.2}× |", a / b);
                }
                (a, b) => eprintln!("count: lines {len}: {a:?} {b:?}"),
            }
        }
        let _ = writeln!(md);
        eprintln!("count: lines done ({:.0} s)", t0.elapsed().as_secs_f64());
    }
    let _ = writeln!(
        md,
        "(count run {:.0} s; raw tool output in target/bench/counts/)\n",
        t0.elapsed().as_secs_f64()
    );
    md
}
