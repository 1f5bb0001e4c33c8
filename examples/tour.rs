//! The tour: every client/server pairing of the tutorial (section 2.1), run against each
//! other on loopback, one after another, with both sides' output and a summary.
//!
//! `cargo run --release --example tour` — exits non-zero if any pairing misbehaves.
//! Multiplexed programs run on the default backend; set `IOMUX_BACKEND` to pick another.

#[path = "../tests/support/mod.rs"]
mod support;

#[path = "../sockets/tests/support/dnsmasq.rs"]
mod dnsmasq;

use std::time::{Duration, Instant};
use support::{is_daytime, run_client, Input, Server};

const HOST: &str = "127.0.0.1";

struct Outcome {
    client: &'static str,
    server: &'static str,
    passed: bool,
    why: String,
    took: Duration,
}

fn show(title: &str, lines: &[String]) {
    println!("  --- {title} ---");
    for l in lines {
        println!("  | {l}");
    }
}

fn pairing(client: &'static str, server: &'static str, input: Input, expect: &[String]) -> Outcome {
    let start = Instant::now();
    println!("\n=== {client}  <->  {server} ===");
    let srv = match Server::start(server, 0, &[], &[]) {
        Ok(s) => s,
        Err(e) => {
            return Outcome {
                client,
                server,
                passed: false,
                why: e,
                took: start.elapsed(),
            };
        }
    };
    let port = srv.port;
    let run = run_client(client, HOST, port, input, Duration::from_secs(20), &[]);
    let (sstatus, sout, serr) = if server == "ex1-server" {
        srv.wait(Duration::from_secs(10)) // serves one client, then exits on its own
    } else {
        srv.stop()
    };
    show(&format!("{server} (port {port})"), &sout);
    if !serr.is_empty() {
        show(&format!("{server} stderr"), &serr);
    }
    show(client, &run.stdout);
    if !run.stderr.is_empty() {
        show(&format!("{client} stderr"), &run.stderr);
    }

    let mut problems = Vec::new();
    if !run.ok() {
        problems.push(format!("client exit status {:?}", run.status));
    }
    if !sstatus.is_some_and(|s| s.success()) {
        problems.push(format!("server exit status {sstatus:?}"));
    }
    // The tutorial's listings: ex1-client says "via", the later clients say "from".
    let word = if client == "ex1-client" {
        "via"
    } else {
        "from"
    };
    let want_connected =
        format!("Connected to server {HOST}:{port} {word} my local connection at {HOST}:");
    if !run.stdout.iter().any(|l| l.starts_with(&want_connected)) {
        problems.push("no 'Connected to server' line".into());
    }
    if expect.is_empty() {
        if !run.stdout.iter().any(|l| is_daytime(l)) {
            problems.push("no daytime line".into());
        }
    } else {
        // The echoed lines, in order, among the client's output.
        let mut it = run.stdout.iter();
        for want in expect {
            if !it.any(|l| l == want) {
                problems.push(format!("echo of {want:?} missing or out of order"));
                break;
            }
        }
    }
    let passed = problems.is_empty();
    let why = if passed {
        "ok".to_string()
    } else {
        problems.join("; ")
    };
    println!("  => {}", if passed { "PASS" } else { "FAIL" });
    Outcome {
        client,
        server,
        passed,
        why,
        took: start.elapsed(),
    }
}

/// The resolver leg: the dns-query example against dnsmasq on loopback (no internet needed),
/// one query per record kind it prints; `None` (skipped) where dnsmasq is not installed.
fn dns_leg() -> Option<Outcome> {
    let start = Instant::now();
    println!("\n=== dns-query  <->  dnsmasq ===");
    let Some(server) = dnsmasq::Dnsmasq::start() else {
        println!("  (dnsmasq is not installed: skipped; `apt-get install dnsmasq-base` to run it)");
        return None;
    };
    let addr = server.server.to_string();
    let cases: [(&[&str], &str, bool); 6] = [
        (&["www.test"], "IN\tA\t192.0.2.10", true),
        (
            &["host.test", "--type", "AAAA"],
            "IN\tAAAA\t2001:db8::10",
            true,
        ),
        (&["test", "--type", "MX"], "IN\tMX\t10 mx.test.", true),
        (
            &["_sip._tcp.test", "--type", "SRV"],
            "IN\tSRV\t1 5 5060 sip.test.",
            true,
        ),
        (
            &["txt.test", "--type", "TXT", "--tcp"],
            "\"hello world\" \"second\"",
            true,
        ),
        (&["nope.test"], "no such name: nope.test", false),
    ];
    let mut problems = Vec::new();
    for (args, expect, ok) in cases {
        let out = std::process::Command::new(support::example("dns-query"))
            .args(args)
            .args(["--server", &addr, "--timeout", "2"])
            .output();
        let Ok(out) = out else {
            problems.push("cannot run dns-query".to_string());
            continue;
        };
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        println!("  $ dns-query {} --server {addr}", args.join(" "));
        for l in text.lines() {
            println!("  | {l}");
        }
        if out.status.success() != ok || !text.contains(expect) {
            problems.push(format!("dns-query {}: expected {expect:?}", args.join(" ")));
        }
    }
    Some(Outcome {
        client: "dns-query",
        server: "dnsmasq",
        passed: problems.is_empty(),
        why: problems.join("; "),
        took: start.elapsed(),
    })
}

fn main() {
    let started = Instant::now();
    println!(
        "iolib-rs tour: the IOLib tutorial's clients and servers, paired as in its section 2.1"
    );
    println!(
        "(multiplexer backend: {})",
        std::env::var("IOMUX_BACKEND").unwrap_or_else(|_| "default".into())
    );
    let mut results = Vec::new();

    // Daytime: ex1/ex2/ex3 clients with ex1..ex4 servers.
    for server in ["ex1-server", "ex2-server", "ex3-server", "ex4-server"] {
        for client in ["ex1-client", "ex2-client", "ex3-client"] {
            results.push(pairing(client, server, Input::Nothing, &[]));
        }
    }

    // Echo, line at a time: ex4/ex5a clients with ex5/ex6 servers; "quit" ends the session.
    let lines: Vec<String> = ["hello, echo server", "Grüße aus Rust", "quit"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for server in ["ex5-server", "ex6-server"] {
        for client in ["ex4-client", "ex5a-client"] {
            results.push(pairing(
                client,
                server,
                Input::Interactive(lines.clone()),
                &lines,
            ));
        }
    }

    // Echo, batch input with half-close: ex5b-client with ex7/ex8 servers.
    let batch: Vec<String> = (1..=50).map(|i| format!("batch line {i} of 50")).collect();
    let mut data = batch.join("\n").into_bytes();
    data.push(b'\n');
    for server in ["ex7-server", "ex8-server"] {
        results.push(pairing(
            "ex5b-client",
            server,
            Input::Batch(data.clone()),
            &batch,
        ));
    }

    results.extend(dns_leg());

    println!("\n=== summary ===");
    println!("{:<12} {:<12} {:>8}  result", "client", "server", "time");
    for r in &results {
        println!(
            "{:<12} {:<12} {:>6}ms  {}",
            r.client,
            r.server,
            r.took.as_millis(),
            if r.passed {
                "PASS".to_string()
            } else {
                format!("FAIL: {}", r.why)
            }
        );
    }
    let failed = results.iter().filter(|r| !r.passed).count();
    println!(
        "\n{} of {} pairings passed in {:.1}s",
        results.len() - failed,
        results.len(),
        started.elapsed().as_secs_f64()
    );
    if failed > 0 {
        std::process::exit(1);
    }
}
