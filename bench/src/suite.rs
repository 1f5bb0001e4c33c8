//! The suite (Linux only: it measures against raw epoll).

use crate::{alloc, count, fixload, load, micro, servers};
use count::field;

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Instant;

#[global_allocator]
static GLOBAL: alloc::Counting = alloc::Counting;

/// The bench binary's entry point on Linux.
pub fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
    let num = |i: usize| -> u64 { arg(i).parse().unwrap_or_else(|_| usage()) };
    match arg(0) {
        "server" => match arg(1) {
            "iolib" => servers::run_iolib(arg(2).parse().unwrap_or_else(|_| usage())),
            "mio" => servers::run_mio(),
            "tokio" => servers::run_tokio(),
            "raw" => servers::run_raw(),
            _ => usage(),
        },
        "load" => load::ping_pong(
            num(1) as u16,
            num(2) as usize,
            num(3) as usize,
            arg(4).parse().unwrap_or(2.0),
        ),
        "bulk" => load::bulk(num(1) as u16, num(2)),
        "fixload" => std::process::exit(match arg(1) {
            "ping" => fixload::ping(
                num(2) as u16,
                num(3) as usize,
                num(4),
                num(5) as usize,
                arg(6).parse().unwrap_or(0),
                arg(7).parse().unwrap_or(0),
            ),
            "bulk" => fixload::bulk(num(2) as u16, num(3), num(4) as usize),
            _ => usage(),
        }),
        "linecount" => micro::line_count(arg(1), num(2) as usize, num(3) as usize),
        "count" => {
            let md = count::run(&args[1..]);
            println!("{md}");
            save("counts.md", &md);
        }
        "wall" => {
            let md = orchestrate(args[1..].iter().any(|a| a == "--quick"));
            println!("{md}");
            save("results.md", &md);
        }
        "lines" => {
            let (ours, std) = micro::line_reader(num(1) as usize, num(2) as usize);
            println!("ours {ours:.0} MB/s, std {std:.0} MB/s");
        }
        "" | "--quick" => {
            let quick = arg(0) == "--quick";
            let counts = count::run(if quick { &args[..1] } else { &[] });
            let wall = orchestrate(quick);
            let md = format!(
                "## Counts: instructions and syscalls over fixed work\n\n{counts}\n\
                 ## Wall clock (noisy: the load shares the machine's cores with the server)\n\n{wall}"
            );
            println!("{md}");
            save("results.md", &md);
        }
        _ => usage(),
    }
}

fn usage() -> ! {
    eprintln!(
        "usage: bench [--quick]            counts, then wall clock\n       \
         bench count [OPTIONS]         counts only (bench count --help for the options)\n       \
         bench wall [--quick]          wall clock only"
    );
    std::process::exit(2);
}

/// Writes a report under `target/bench/`.
fn save(name: &str, md: &str) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(name);
    if std::fs::write(&path, md).is_ok() {
        eprintln!("written to {}", path.display());
    }
}

// ----- processes -------------------------------------------------------------------------------

struct ServerProc {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    port: u16,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Iolib(iomux::Backend),
    Mio,
    Tokio,
    Raw,
}

impl Kind {
    fn name(self) -> String {
        match self {
            Kind::Iolib(b) => format!("iolib-rs ({b})"),
            Kind::Mio => "mio 1.x".into(),
            Kind::Tokio => "tokio 1.x (current thread)".into(),
            Kind::Raw => "raw epoll".into(),
        }
    }
}

fn exe() -> std::path::PathBuf {
    std::env::current_exe().expect("current exe")
}

fn start_server(kind: Kind) -> ServerProc {
    let mut cmd = Command::new(exe());
    cmd.arg("server");
    match kind {
        Kind::Iolib(b) => cmd.args(["iolib", b.name()]),
        Kind::Mio => cmd.arg("mio"),
        Kind::Tokio => cmd.arg("tokio"),
        Kind::Raw => cmd.arg("raw"),
    };
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn server");
    let stdin = child.stdin.take().expect("stdin");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("server output");
    let port = line
        .strip_prefix("PORT ")
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("server said {line:?}"));
    ServerProc {
        child,
        stdin,
        stdout,
        port,
    }
}

/// Stops a server; returns (allocations, events) since its `mark`.
fn stop_server(mut s: ServerProc) -> (u64, u64) {
    let _ = s.stdin.write_all(b"stop\n");
    let _ = s.stdin.flush();
    let mut line = String::new();
    let mut stats = (0, 0);
    while s.stdout.read_line(&mut line).unwrap_or(0) > 0 {
        if let Some(rest) = line.strip_prefix("STATS ") {
            let field = |k: &str| {
                rest.split_whitespace()
                    .find_map(|f| f.strip_prefix(k))
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0)
            };
            stats = (field("allocs="), field("events="));
            break;
        }
        line.clear();
    }
    drop(s.stdin);
    let _ = s.child.wait();
    stats
}

#[derive(Debug, Clone, Copy)]
struct Ping {
    rps: f64,
    p50: f64,
    p99: f64,
    failed: f64,
    allocs_per_event: f64,
}

fn ping(kind: Kind, conns: usize, active: usize, secs: f64) -> Ping {
    let mut server = start_server(kind);
    let mut load = Command::new(exe())
        .args([
            "load",
            &server.port.to_string(),
            &conns.to_string(),
            &active.to_string(),
            &secs.to_string(),
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn load");
    let out = BufReader::new(load.stdout.take().expect("stdout"));
    let mut result = String::new();
    for line in out.lines() {
        let line = line.unwrap_or_default();
        if line == "READY" {
            let _ = server.stdin.write_all(b"mark\n");
            let _ = server.stdin.flush();
        } else if line.starts_with("RESULT") {
            result = line;
        }
    }
    let _ = load.wait();
    let (allocs, events) = stop_server(server);
    let rt = field(&result, "rt=");
    let secs = field(&result, "secs=").max(1e-9);
    Ping {
        rps: rt / secs,
        p50: field(&result, "p50="),
        p99: field(&result, "p99="),
        failed: field(&result, "failed="),
        allocs_per_event: if events > 0 {
            allocs as f64 / events as f64
        } else {
            f64::NAN
        },
    }
}

/// The run with the median round-trip rate.
fn median(mut v: Vec<Ping>) -> Ping {
    v.sort_by(|a, b| a.rps.total_cmp(&b.rps));
    v[v.len() / 2]
}

fn bulk(kind: Kind, bytes: u64) -> f64 {
    let server = start_server(kind);
    let out = Command::new(exe())
        .args(["bulk", &server.port.to_string(), &bytes.to_string()])
        .output()
        .expect("bulk");
    stop_server(server);
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.starts_with("RESULT")).unwrap_or("");
    field(line, "bytes=") / field(line, "secs=").max(1e-9) / 1e6
}

// ----- the report ------------------------------------------------------------------------------

fn orchestrate(quick: bool) -> String {
    let t0 = Instant::now();
    let secs = if quick { 0.3 } else { 1.5 };
    let rounds = if quick { 1 } else { 3 };
    let conn_counts: &[usize] = if quick {
        &[10]
    } else {
        &[1, 100, 1000, 10_000]
    };
    let mut md = String::new();
    let _ = writeln!(
        md,
        "## Echo ping-pong: 64-byte lines, median of {rounds} interleaved {secs} s runs\n"
    );
    let _ = writeln!(
        md,
        "| server | conns | round trips/s | p50 µs | p99 µs | failed conns | allocs/event | vs raw epoll | vs mio |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut backends: Vec<iomux::Backend> = iomux::Backend::available().to_vec();
    backends.sort_by_key(|b| b.name() != "epoll");
    for &n in conn_counts {
        let mut kinds = vec![Kind::Raw, Kind::Mio, Kind::Tokio];
        // select cannot watch fds at or above FD_SETSIZE.
        kinds.extend(
            backends
                .iter()
                .filter(|&&b| b != iomux::Backend::Select || n + 16 < isys::FD_SETSIZE)
                .map(|&b| Kind::Iolib(b)),
        );
        // Rounds interleave the servers, and each row is the median round: the machine is
        // shared and noisy, and this way drift hits every server alike.
        let mut runs: Vec<Vec<Ping>> = vec![Vec::new(); kinds.len()];
        for _ in 0..rounds {
            for (i, &k) in kinds.iter().enumerate() {
                runs[i].push(ping(k, n, n, secs));
            }
        }
        let rows: Vec<(Kind, Ping)> = kinds
            .iter()
            .copied()
            .zip(runs.into_iter().map(median))
            .collect();
        let (raw, mio) = (rows[0].1, rows[1].1);
        for (k, p) in rows {
            let _ = writeln!(
                md,
                "| {} | {n} | {:.0} | {:.0} | {:.0} | {:.0} | {:.3} | {:.2}× | {:.2}× |",
                k.name(),
                p.rps,
                p.p50,
                p.p99,
                p.failed,
                p.allocs_per_event,
                p.rps / raw.rps.max(1e-9),
                p.rps / mio.rps.max(1e-9)
            );
        }
        eprintln!(
            "ping-pong with {n} connections done ({:.0}s)",
            t0.elapsed().as_secs_f64()
        );
    }

    let bytes: u64 = if quick { 16 << 20 } else { 1 << 30 };
    let _ = writeln!(
        md,
        "\n## Bulk throughput: {} MiB through the echo server, one connection\n",
        bytes >> 20
    );
    let _ = writeln!(md, "| server | MB/s | vs raw epoll | vs mio |");
    let _ = writeln!(md, "|---|---:|---:|---:|");
    let raw = bulk(Kind::Raw, bytes);
    let mio = bulk(Kind::Mio, bytes);
    let tokio = bulk(Kind::Tokio, bytes);
    let ours = bulk(Kind::Iolib(iomux::Backend::best()), bytes);
    for (k, v) in [
        (Kind::Raw, raw),
        (Kind::Mio, mio),
        (Kind::Tokio, tokio),
        (Kind::Iolib(iomux::Backend::best()), ours),
    ] {
        let _ = writeln!(
            md,
            "| {} | {v:.0} | {:.2}× | {:.2}× |",
            k.name(),
            v / raw.max(1e-9),
            v / mio.max(1e-9)
        );
    }
    eprintln!("bulk done ({:.0}s)", t0.elapsed().as_secs_f64());

    let total = if quick { 1 << 20 } else { 64 << 20 };
    let _ = writeln!(
        md,
        "\n## Line reader: {} MiB of lines over a socketpair\n",
        total >> 20
    );
    let _ = writeln!(
        md,
        "| line length | ActiveSocket::read_line MB/s | std BufReader::read_line MB/s | ratio |"
    );
    let _ = writeln!(md, "|---:|---:|---:|---:|");
    for len in [64, 4096] {
        let (ours, std) = micro::line_reader(len, total);
        let _ = writeln!(
            md,
            "| {len} B | {ours:.0} | {std:.0} | {:.2}× |",
            ours / std.max(1e-9)
        );
    }

    let n = if quick { 10_000 } else { 1_000_000 };
    let (fire, remove) = micro::timers(n);
    let _ = writeln!(
        md,
        "\n## Timers: {n} timers (libuv's million-timers shape)\n"
    );
    let _ = writeln!(md, "| operation | ns per timer |");
    let _ = writeln!(md, "|---|---:|");
    let _ = writeln!(md, "| add, then fire all | {fire:.0} |");
    let _ = writeln!(md, "| add, then remove all | {remove:.0} |");
    eprintln!("micro done ({:.0}s)", t0.elapsed().as_secs_f64());

    let idle = if quick { 100 } else { 10_000 };
    let _ = writeln!(
        md,
        "\n## Idle scaling: 100 active connections alone vs with {idle} idle ones\n"
    );
    let _ = writeln!(
        md,
        "| server | 100 active rt/s | with {idle} idle rt/s | ratio |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|");
    let mut kinds = vec![Kind::Raw, Kind::Mio, Kind::Tokio];
    kinds.extend(
        backends
            .iter()
            .filter(|b| **b != iomux::Backend::Select || idle + 116 < isys::FD_SETSIZE)
            .map(|&b| Kind::Iolib(b)),
    );
    for k in kinds {
        let alone = median((0..rounds).map(|_| ping(k, 100, 100, secs)).collect());
        let crowd = median(
            (0..rounds)
                .map(|_| ping(k, idle + 100, 100, secs))
                .collect(),
        );
        let _ = writeln!(
            md,
            "| {} | {:.0} | {:.0} | {:.2}× |",
            k.name(),
            alone.rps,
            crowd.rps,
            crowd.rps / alone.rps.max(1e-9)
        );
    }
    let _ = writeln!(md, "\n(wall-clock run {:.0} s)", t0.elapsed().as_secs_f64());
    md
}
