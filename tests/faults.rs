//! Syscall failures injected with strace (`-e inject=SYSCALL:error=ERRNO:when=...`) into the
//! echo servers: transient errors (EINTR, EAGAIN, ENOBUFS, ENOMEM) in receives, sends,
//! accepts and the backend's wait must not lose a byte (1 MiB of random bytes through ex8
//! comes back exact); per-connection errors (ECONNRESET, EPIPE) may cost that connection but
//! never the server. ex8 on every backend; ex6 and ex7 on epoll for a subset.
//!
//! Needs strace (and ptrace permission): without it these tests fail and say so.
//! Rust's `recv`/`send` on Linux are the `recvfrom`/`sendto` syscalls.

mod support;

use std::time::Duration;
use support::hostile::*;
use support::Server;

/// What the clients do against a server under injection; `Err` describes the first problem.
fn exact_workload(server: &str, port: u16) -> Result<(), String> {
    // A few clients, one after another, each a few round trips.
    for c in 0..3 {
        let s = try_connect(port)?;
        for i in 0..10 {
            round_trip(&s, server, format!("client {c} line {i}"), IO_TIMEOUT)?;
        }
    }
    // Bulk: 1 MiB of random bytes (ex8) or 2000 lines (line servers), half-closed.
    let (data, want) = if is_line_server(server) {
        let lines: Vec<String> = (0..2000).map(|i| format!("batch line {i}")).collect();
        let mut data = lines.join("\n").into_bytes();
        data.push(b'\n');
        let want: Vec<u8> = lines
            .iter()
            .flat_map(|l| echo_of(server, l.as_bytes()))
            .collect();
        (data, want)
    } else {
        let data = pseudo_random(1 << 20, 0x2545f4914f6cdd1d);
        (data.clone(), data)
    };
    let (got, end) = if server == "ex6-server" {
        // ex6 does not honour half-close: read the echoes back, then close.
        let s = try_connect(port)?;
        let w = s.try_clone().map_err(|e| e.to_string())?;
        let writer = std::thread::spawn(move || write_what_goes(&w, &data, IO_TIMEOUT));
        let got = read_exactly(&s, want.len(), Duration::from_secs(10));
        let _ = writer.join();
        (got?, End::Eof)
    } else {
        send_and_collect(port, data, true, Duration::from_secs(10))
    };
    if end != End::Eof || got != want {
        return Err(format!(
            "bulk echo: {} of {} bytes came back (a prefix: {}), then {end:?}",
            got.len(),
            want.len(),
            got[..] == want[..got.len().min(want.len())]
        ));
    }
    Ok(())
}

/// After a per-connection error: some connection may be lost, but a new client is served.
fn survival_workload(server: &str, port: u16) -> Result<(), String> {
    for c in 0..4 {
        // Each of these may be the one the error hits.
        if let Ok(s) = try_connect(port) {
            for i in 0..5 {
                if round_trip(&s, server, format!("client {c} line {i}"), IO_TIMEOUT).is_err() {
                    break;
                }
            }
        }
    }
    fresh_client_served(port, server, 5, Duration::from_secs(5))
}

#[derive(Clone, Copy, PartialEq)]
enum Expect {
    /// Nothing may be lost.
    Exact,
    /// The server survives and serves a new client.
    Survive,
}

/// Runs `server` on `backend` under strace injecting `inject`, runs the workload, checks the
/// server is alive and exits cleanly on SIGTERM.
fn case(checks: &mut Checks, server: &str, backend: &str, inject: &str, expect: Expect) {
    let launch = strace_launch(&[inject.to_string()]);
    let what = format!("inject {inject}");
    let Ok(srv) = Server::start_with(
        &launch,
        server,
        0,
        &["--quiet"],
        &[("IOMUX_BACKEND", backend)],
    ) else {
        checks.fail(format!("{what}: the server did not start"));
        return;
    };
    let port = srv.port;
    let Some(pid) = wait_traced_pid(&srv) else {
        checks.fail(format!("{what}: no traced server process under strace"));
        return;
    };
    let _guard = KillOnDrop(pid);
    let result = match expect {
        Expect::Exact => exact_workload(server, port),
        Expect::Survive => survival_workload(server, port),
    };
    if result.is_err() {
        // A server that failed may be exiting: let it finish before judging whether it lives.
        std::thread::sleep(Duration::from_millis(300));
    }
    checks.check(&what, || result);
    checks.check(&format!("{what}: the server is alive"), || {
        traced_alive_or_err(&srv, pid)
    });
    if pid_alive(pid) {
        checks.check(&format!("{what}: a clean exit on SIGTERM"), || {
            stop_traced(srv, pid)
        });
    }
}

const TRANSIENT: [&str; 4] = ["EINTR", "EAGAIN", "ENOBUFS", "ENOMEM"];

fn ex8_faults(backend: &str) {
    require_strace();
    let mut checks = Checks::new(format!("ex8-server on {backend} under injected faults"));
    let wait = wait_syscalls(backend);
    // Transient errors in receive, send and wait: exact.
    for sc in ["recvfrom", "sendto", wait] {
        for err in TRANSIENT {
            let inject = format!("{sc}:error={err}:when=3+5");
            case(&mut checks, "ex8-server", backend, &inject, Expect::Exact);
        }
    }
    // Any error in accept leaves the connection queued: it is accepted later, exact.
    for err in ["EINTR", "EAGAIN", "ENOBUFS", "ENOMEM", "EPIPE"] {
        let inject = format!("accept4:error={err}:when=1+2");
        case(&mut checks, "ex8-server", backend, &inject, Expect::Exact);
    }
    // Per-connection errors: one connection may go, the server stays.
    for inject in [
        "recvfrom:error=ECONNRESET:when=4",
        "recvfrom:error=EPIPE:when=4",
        "sendto:error=EPIPE:when=4",
        "sendto:error=ECONNRESET:when=4",
    ] {
        case(&mut checks, "ex8-server", backend, inject, Expect::Survive);
    }
    // EPIPE from the wait itself: nothing to do with any client; the server stays.
    let inject = format!("{wait}:error=EPIPE:when=3+7");
    case(&mut checks, "ex8-server", backend, &inject, Expect::Survive);
    checks.finish();
}

#[test]
fn ex8_on_select_survives_injected_faults() {
    ex8_faults("select");
}

#[test]
fn ex8_on_poll_survives_injected_faults() {
    ex8_faults("poll");
}

#[test]
fn ex8_on_epoll_survives_injected_faults() {
    ex8_faults("epoll");
}

fn line_server_faults(server: &str) {
    require_strace();
    let backend = "epoll";
    let mut checks = Checks::new(format!("{server} on {backend} under injected faults"));
    for sc in ["recvfrom", "sendto", wait_syscalls(backend)] {
        for err in ["EINTR", "EAGAIN", "ENOBUFS"] {
            let inject = format!("{sc}:error={err}:when=3+5");
            case(&mut checks, server, backend, &inject, Expect::Exact);
        }
    }
    for err in ["EINTR", "ENOBUFS"] {
        let inject = format!("accept4:error={err}:when=1+2");
        case(&mut checks, server, backend, &inject, Expect::Exact);
    }
    case(
        &mut checks,
        server,
        backend,
        "recvfrom:error=ECONNRESET:when=4",
        Expect::Survive,
    );
    checks.finish();
}

#[test]
fn ex6_on_epoll_survives_injected_faults() {
    line_server_faults("ex6-server");
}

#[test]
fn ex7_on_epoll_survives_injected_faults() {
    line_server_faults("ex7-server");
}
