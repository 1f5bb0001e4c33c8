//! One measurement: a server under callgrind or strace while `bench fixload` drives a fixed
//! piece of work through it, the tool switched on only for the measured span; what the
//! tools wrote, read back; and `read_line`'s instructions per line.

use super::servers::Server;
use super::SETTLE_MS;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// What the load does.
#[derive(Clone, Copy, Debug)]
pub(super) enum Work {
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
    pub(super) fn runs(self, mode: Mode, all: usize) -> usize {
        match (self, mode) {
            (Work::Bulk { sys_runs, .. }, Mode::Sys) => sys_runs.max(all).max(1),
            _ => all.max(1),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mode {
    Instr,
    Sys,
}

/// One measurement's result.
#[derive(Clone, Debug, Default)]
pub(super) struct Counted {
    /// Round trips or bytes, from the load's `DONE` line.
    pub(super) units: f64,
    /// Instructions (instr mode) or syscalls (sys mode) in the span.
    pub(super) total: f64,
    /// Syscalls by name (sys mode).
    pub(super) by_name: BTreeMap<String, f64>,
    pub(super) errors: f64,
}

/// Lines from a child's stdout, on a thread, so reads can time out.
pub(super) fn line_channel(out: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
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

pub(super) fn wait_for(
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

pub(super) fn port_of(line: &str) -> Option<String> {
    if let Some(p) = line.strip_prefix("PORT ") {
        return Some(p.trim().to_string());
    }
    let rest = line.strip_prefix("Listening on socket bound to: ")?;
    Some(rest.rsplit(':').next()?.trim().to_string())
}

/// The number after `key` (e.g. `trips=`) in a line of `key=value` fields (a load's result
/// line); 0 when absent.
pub(crate) fn field(line: &str, key: &str) -> f64 {
    line.split_whitespace()
        .find_map(|f| f.strip_prefix(key))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

pub(super) fn signal(pid: u32, sig: &str) {
    let _ = Command::new("kill")
        .args([sig, &pid.to_string()])
        .stderr(Stdio::null())
        .status();
}

pub(super) struct Running {
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

/// Measures `server` on `work` under `mode`'s tool; `run` numbers a repeated measurement
/// (its tool output is kept under a name of its own).
pub(super) fn measure(
    server: &Server,
    work: Work,
    mode: Mode,
    run: usize,
    out: &Path,
) -> Result<Counted, String> {
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
    let run = if run > 0 {
        format!(".run{}", run + 1)
    } else {
        String::new()
    };
    let tag = format!(
        "{tag}{run}.{}",
        if mode == Mode::Instr { "cg" } else { "st" }
    );
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
            callgrind_control("-z", pid);
        }
        Mode::Sys => {
            // A summary left by an earlier measurement must not be read as this one's.
            let _ = std::fs::remove_file(&strace_file);
            match Command::new("strace")
                .args(["-c", "-f", "-p", &pid.to_string(), "-o"])
                .arg(&strace_file)
                .stderr(Stdio::piped())
                .spawn()
            {
                Ok(child) => strace = Some(child),
                Err(e) => {
                    finish(load, srv);
                    return Err(format!("{tag}: strace: {e}"));
                }
            }
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
            callgrind_control("-d", pid);
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

/// `callgrind_control OP PID`: `-z` zeroes the server's counters, `-d` dumps them.
fn callgrind_control(op: &str, pid: u32) {
    let _ = Command::new("callgrind_control")
        .args([op, &pid.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// The `summary:` (or `totals:`) line of a callgrind dump: its first event is Ir.
pub(super) fn callgrind_total(path: &Path) -> Option<f64> {
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
pub(super) fn strace_counts(text: &str) -> BTreeMap<String, f64> {
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

pub(super) fn line_instructions(
    which: &str,
    len: usize,
    total: usize,
    out: &Path,
) -> Result<f64, String> {
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
