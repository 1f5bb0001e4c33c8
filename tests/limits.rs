//! No exhausted resource takes an echo server down.
//!
//! - fds: under a low `RLIMIT_NOFILE` with more clients than fds, the server neither exits
//!   nor spins nor floods its stderr, and serves a new client promptly once fds are free;
//! - select's `FD_SETSIZE`: ex8 on select refuses (closes) a client whose fd it cannot watch
//!   and keeps serving the others;
//! - memory: many clients sending unfinished lines do not grow ex5's memory past a bound.

mod support;

use std::io::{ErrorKind, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};
use support::hostile::*;

// ----- fds ---------------------------------------------------------------------------------

/// The server's fd limit, and how many clients come at once.
const FD_LIMIT: u64 = 48;
const CLIENTS: usize = 80;
/// How long the server is watched while saturated.
const SATURATED: Duration = Duration::from_secs(2);
/// The most CPU time it may use in that window (a spinning accept loop uses all of it).
const MAX_CPU: Duration = Duration::from_millis(300);
/// The most stderr lines it may print in that window.
const MAX_STDERR_LINES: usize = 10;

fn fd_exhaustion(server: &'static str, backend: &'static str) {
    let who = format!("{server} on {backend} with RLIMIT_NOFILE={FD_LIMIT}");
    let mut checks = Checks::new(&who);
    let mut srv = start_under(
        &with_nofile(FD_LIMIT),
        server,
        backend,
        &["--backlog", "128"],
    );
    let (pid, port) = (srv.pid(), srv.port);

    // More clients than the server has fds; each sends a line.
    let clients: Vec<TcpStream> = (0..CLIENTS)
        .filter_map(|_| try_connect(port).ok())
        .collect();
    checks.check("all clients connect (the backlog holds them)", || {
        if clients.len() == CLIENTS {
            Ok(())
        } else {
            Err(format!("{} of {CLIENTS} connected", clients.len()))
        }
    });
    for c in &clients {
        let _ = (&*c).write_all(b"a line from one client too many\n");
    }
    thread::sleep(Duration::from_millis(300));

    // Saturated: watch CPU time and stderr.
    let stderr_before = srv.stderr.get().len();
    let cpu_before = cpu_time(pid);
    thread::sleep(SATURATED);
    let cpu_after = cpu_time(pid);
    let stderr_lines = srv.stderr.get()[stderr_before..].to_vec();
    // The figures behind the checks, for the record (`--nocapture` shows them).
    if let (Some(a), Some(b)) = (cpu_before, cpu_after) {
        eprintln!(
            "{who}: {:?} CPU and {} stderr lines in {SATURATED:?} while out of fds",
            b - a,
            stderr_lines.len()
        );
    }
    checks.check("the server is alive while out of fds", || {
        alive_or_err(&mut srv)
    });
    checks.check("no spinning while out of fds", || {
        match (cpu_before, cpu_after) {
            (Some(a), Some(b)) if b - a < MAX_CPU => Ok(()),
            (Some(a), Some(b)) => Err(format!(
                "{:?} of CPU time in {SATURATED:?} (at most {MAX_CPU:?})",
                b - a
            )),
            _ => Err("the process is gone".into()),
        }
    });
    checks.check("stderr is not flooded while out of fds", || {
        if stderr_lines.len() <= MAX_STDERR_LINES {
            Ok(())
        } else {
            Err(format!(
                "{} lines in {SATURATED:?} (at most {MAX_STDERR_LINES}), e.g. {:?}",
                stderr_lines.len(),
                &stderr_lines[..3]
            ))
        }
    });

    // Free the fds: a new client is served within a second.
    drop(clients);
    checks.check(
        "a new client is served within 1 s once the clients left",
        || fresh_client_served(port, server, 1, Duration::from_secs(1)),
    );
    checks.check("a clean exit on SIGTERM", || {
        let (status, out, err) = srv.stop();
        if status.is_some_and(|s| s.success()) {
            Ok(())
        } else {
            Err(format!(
                "{status:?}\nstdout {:?}\nstderr {:?}",
                tail(&out, 5),
                tail(&err, 5)
            ))
        }
    });
    checks.finish();
}

macro_rules! fd_tests {
    ($($name:ident: $server:literal on $backend:literal),* $(,)?) => {
        $( #[test] fn $name() { fd_exhaustion($server, $backend) } )*
    };
}

fd_tests!(
    ex5_server_out_of_fds: "ex5-server" on "epoll",
    ex6_server_out_of_fds_on_select: "ex6-server" on "select",
    ex6_server_out_of_fds_on_poll: "ex6-server" on "poll",
    ex6_server_out_of_fds_on_epoll: "ex6-server" on "epoll",
    ex7_server_out_of_fds_on_select: "ex7-server" on "select",
    ex7_server_out_of_fds_on_poll: "ex7-server" on "poll",
    ex7_server_out_of_fds_on_epoll: "ex7-server" on "epoll",
    ex8_server_out_of_fds_on_select: "ex8-server" on "select",
    ex8_server_out_of_fds_on_poll: "ex8-server" on "poll",
    ex8_server_out_of_fds_on_epoll: "ex8-server" on "epoll",
);

// ----- select's FD_SETSIZE -----------------------------------------------------------------

#[test]
fn ex8_on_select_refuses_clients_past_fd_setsize() {
    const N: usize = 1040;
    isys::raise_nofile_limit(4096).expect("raise RLIMIT_NOFILE");
    let mut checks = Checks::new("ex8-server on select with 1040 clients");
    let mut srv = start_under(
        &with_nofile(2000),
        "ex8-server",
        "select",
        &["--backlog", "1100"],
    );
    let port = srv.port;
    let clients: Vec<TcpStream> = (0..N).filter_map(|_| try_connect(port).ok()).collect();
    checks.check("all clients connect", || {
        if clients.len() == N {
            Ok(())
        } else {
            Err(format!("{} of {N} connected", clients.len()))
        }
    });
    thread::sleep(Duration::from_millis(500));
    checks.check("the server is alive", || alive_or_err(&mut srv));

    // Clients connect one after another and get the lowest free fd on the server, so the ones
    // the server cannot watch (fd >= 1024) are the last ones: a closed suffix.
    let closed: Vec<bool> = clients
        .iter()
        .map(|c| peer_closed_now(c) == Some(true))
        .collect();
    let first_closed = closed.iter().position(|&c| c);
    checks.check("the clients past FD_SETSIZE are refused (closed)", || {
        let Some(first) = first_closed else {
            return Err("no client was closed: past fd 1023 they must be refused".into());
        };
        if let Some(open) = closed[first..].iter().position(|&c| !c) {
            return Err(format!(
                "client {} is open after refused client {first}",
                first + open
            ));
        }
        // The server holds a few fds of its own: std streams, listener, signal pipe.
        if !(1000..=1024).contains(&first) {
            return Err(format!(
                "the first refused client is number {first}; expected those past fd 1023 only"
            ));
        }
        Ok(())
    });
    let last_open = first_closed.unwrap_or(N).min(clients.len());
    for i in [
        0,
        1,
        2,
        500,
        900,
        last_open.saturating_sub(2),
        last_open.saturating_sub(1),
    ] {
        if i >= clients.len() {
            continue;
        }
        checks.check(&format!("client {i} (below FD_SETSIZE) is served"), || {
            round_trip(&clients[i], "ex8-server", format!("client {i}"), IO_TIMEOUT).map(|_| ())
        });
    }
    checks.check("the server is alive after the refusals", || {
        alive_or_err(&mut srv)
    });
    drop(clients);
    checks.check("a new client is served", || {
        fresh_client_served(port, "ex8-server", 2, Duration::from_secs(2))
    });
    checks.check("a clean exit on SIGTERM", || {
        let (status, _, err) = srv.stop();
        if status.is_some_and(|s| s.success()) {
            Ok(())
        } else {
            Err(format!("{status:?} stderr {:?}", tail(&err, 5)))
        }
    });
    checks.finish();
}

// ----- memory ------------------------------------------------------------------------------

/// ex5's global bound on buffered input: RSS must stay below this.
const MAX_RSS: u64 = 200 << 20;

#[test]
fn ex5_memory_stays_bounded_with_320_unfinished_one_mib_lines() {
    // 320 clients, each an unfinished line just under the 1 MiB line limit: 320 MiB offered.
    const N: usize = 320;
    const LINE: usize = (1 << 20) - 64;
    let mut checks = Checks::new("ex5-server with 320 unfinished 1 MiB lines");
    let mut srv = start("ex5-server", "epoll", &["--backlog", "512"]);
    let (pid, port) = (srv.pid(), srv.port);
    let clients: Vec<TcpStream> = (0..N).filter_map(|_| try_connect(port).ok()).collect();
    checks.check("all clients connect", || {
        if clients.len() == N {
            Ok(())
        } else {
            Err(format!("{} of {N} connected", clients.len()))
        }
    });
    for c in &clients {
        c.set_nonblocking(true).unwrap();
    }
    let data = vec![b'y'; LINE];
    let mut sent = vec![0usize; clients.len()];
    let mut done = vec![false; clients.len()];
    let mut max_rss = 0u64;
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut last_progress = Instant::now();
    while done.iter().any(|d| !d) && Instant::now() < deadline {
        let mut progress = false;
        for (i, c) in clients.iter().enumerate() {
            if done[i] {
                continue;
            }
            match (&*c).write(&data[sent[i]..]) {
                Ok(n) => {
                    sent[i] += n;
                    progress |= n > 0;
                    done[i] = sent[i] == LINE;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(_) => done[i] = true, // the server closed it (over budget)
            }
        }
        max_rss = max_rss.max(rss(pid).unwrap_or(0));
        if progress {
            last_progress = Instant::now();
        } else if last_progress.elapsed() > Duration::from_secs(2) {
            break; // the server stopped reading: what it holds is what we measure
        } else {
            thread::sleep(Duration::from_millis(2));
        }
    }
    thread::sleep(Duration::from_millis(300));
    max_rss = max_rss.max(rss(pid).unwrap_or(0));
    let peak = peak_rss(pid).unwrap_or(0).max(max_rss);
    let offered: usize = sent.iter().sum();
    eprintln!(
        "ex5: peak RSS {} MiB after {} MiB of unfinished lines offered",
        peak >> 20,
        offered >> 20
    );
    checks.check("at least 300 MiB was offered", || {
        if offered >= 300 << 20 {
            Ok(())
        } else {
            Err(format!(
                "only {} MiB went (the server stopped reading?)",
                offered >> 20
            ))
        }
    });
    checks.check("the server's peak RSS stays under 200 MiB", || {
        if peak < MAX_RSS {
            Ok(())
        } else {
            Err(format!(
                "peak RSS {} MiB after {} MiB of unfinished lines",
                peak >> 20,
                offered >> 20
            ))
        }
    });
    checks.check("the server is alive", || alive_or_err(&mut srv));
    checks.check("a new client is served", || {
        fresh_client_served(port, "ex5-server", 2, Duration::from_secs(2))
    });
    drop(clients);
    checks.check("a clean exit on SIGTERM", || {
        let (status, _, err) = srv.stop();
        if status.is_some_and(|s| s.success()) {
            Ok(())
        } else {
            Err(format!("{status:?} stderr {:?}", tail(&err, 5)))
        }
    });
    checks.finish();
}
