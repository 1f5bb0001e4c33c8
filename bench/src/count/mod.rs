//! Counting, not timing: user-space instructions (valgrind's callgrind) and syscalls
//! (`strace -c -f`) per round trip, per MiB or per line, over exactly the same work for
//! every server, counting only the measured span.
//!
//! This file holds the options and the scenarios; `servers.rs` the servers compared,
//! `measure.rs` one measurement under one tool, `report.rs` the tables.
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
//! its syscalls are counted over `--bulk-runs` runs taken together, 9 by default), `lines`
//! (`read_line` per line against std's `BufRead::read_line`).

mod measure;
mod report;
mod servers;

pub(crate) use measure::field;
use measure::{line_instructions, Mode, Work};
use report::table;
use servers::{all_servers, quick_keeps, selected, Server};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// The paced scenario's gap between requests reaching the server, in microseconds: each of N
/// connections waits N times this after an answer. Several times what a server slowed by
/// callgrind or strace takes to answer one request here.
const PACE_US: u64 = 2000;

/// Pause between the load's `READY` and switching the counter on (shorter in `--quick`).
static SETTLE_MS: AtomicU64 = AtomicU64::new(300);

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
            &format!(
                "{base_cmd} --scenarios bulk --bulk-mib {}{}",
                o.bulk_mib,
                if o.bulk_runs == 9 {
                    String::new()
                } else {
                    format!(" --bulk-runs {}", o.bulk_runs)
                }
            ),
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
