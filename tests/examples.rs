//! End-to-end tests of the tutorial programs: real processes on loopback, port 0, every
//! multiplexed program on select, poll and epoll.

mod support;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::thread;
use std::time::{Duration, Instant};
#[cfg(target_os = "linux")]
use support::fd_count;
use support::{is_daytime, run_client, ClientRun, Input, Server};

const HOST: &str = "127.0.0.1";
const T: Duration = Duration::from_secs(30);
const BACKENDS: [&str; 3] = ["select", "poll", "epoll"];

fn env(backend: &str) -> [(&'static str, &str); 1] {
    [("IOMUX_BACKEND", backend)]
}

#[track_caller]
fn assert_connected(run: &ClientRun, client: &str, port: u16) {
    // The tutorial's listings: ex1-client says "via", the later clients say "from".
    let word = if client == "ex1-client" {
        "via"
    } else {
        "from"
    };
    let want = format!("Connected to server {HOST}:{port} {word} my local connection at {HOST}:");
    assert!(
        run.stdout
            .iter()
            .any(|l| l.starts_with(&want) && l.ends_with('!')),
        "no connected line in {:?}",
        run.stdout
    );
}

#[track_caller]
fn assert_in_order(got: &[String], want: &[String]) {
    let mut it = got.iter();
    for w in want {
        assert!(
            it.any(|g| g == w),
            "missing or out of order: {w:?}\nin {got:?}"
        );
    }
}

fn stop_clean(server: Server) -> Vec<String> {
    let name = server.name.clone();
    let (status, out, err) = server.stop();
    assert!(
        status.is_some_and(|s| s.success()),
        "{name} did not exit cleanly on SIGTERM: {status:?}\nstdout {out:?}\nstderr {err:?}"
    );
    // ex1/ex2 servers handle no conditions (as in the tutorial) and report them on stderr;
    // nothing may panic.
    assert!(
        !err.iter().any(|l| l.contains("panicked")),
        "{name} panicked: {err:?}"
    );
    out
}

// ----- daytime -------------------------------------------------------------------------------

fn daytime_pair(client: &str, server: &str) {
    let srv = Server::start(server, 0, &[], &[]).unwrap();
    let port = srv.port;
    let run = run_client(client, HOST, port, Input::Nothing, T, &[]);
    assert!(run.ok(), "{client}: {run:?}");
    assert_connected(&run, client, port);
    assert!(run.stdout.iter().any(|l| is_daytime(l)), "{:?}", run.stdout);
    if server == "ex1-server" {
        let (status, out, _) = srv.wait(T);
        assert!(
            status.is_some_and(|s| s.success()),
            "ex1-server: {status:?}"
        );
        assert!(out
            .iter()
            .any(|l| l.starts_with("Got a connection from 127.0.0.1:")));
        assert!(
            out.iter().any(|l| l == "Sending the time...Sent!"),
            "{out:?}"
        );
    } else {
        stop_clean(srv);
    }
}

macro_rules! daytime_tests {
    ($($name:ident: $client:literal x $server:literal),* $(,)?) => {
        $( #[test] fn $name() { daytime_pair($client, $server) } )*
    };
}

daytime_tests!(
    ex1_client_ex1_server: "ex1-client" x "ex1-server",
    ex2_client_ex1_server: "ex2-client" x "ex1-server",
    ex3_client_ex1_server: "ex3-client" x "ex1-server",
    ex1_client_ex2_server: "ex1-client" x "ex2-server",
    ex2_client_ex2_server: "ex2-client" x "ex2-server",
    ex3_client_ex2_server: "ex3-client" x "ex2-server",
    ex1_client_ex3_server: "ex1-client" x "ex3-server",
    ex2_client_ex3_server: "ex2-client" x "ex3-server",
    ex3_client_ex3_server: "ex3-client" x "ex3-server",
    ex1_client_ex4_server: "ex1-client" x "ex4-server",
    ex2_client_ex4_server: "ex2-client" x "ex4-server",
    ex3_client_ex4_server: "ex3-client" x "ex4-server",
);

// ----- echo, line at a time ------------------------------------------------------------------

fn lines(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn echo_pair(client: &str, server: &str, backend: &str) {
    let srv = Server::start(server, 0, &[], &env(backend)).unwrap();
    let port = srv.port;
    let input = lines(&["first line", "ünïcödé line", "", "quit"]);
    let run = run_client(
        client,
        HOST,
        port,
        Input::Interactive(input.clone()),
        T,
        &env(backend),
    );
    assert!(run.ok(), "{client} on {backend}: {run:?}");
    assert_connected(&run, client, port);
    assert_in_order(&run.stdout, &input);
    assert_eq!(
        run.stdout.last().map(String::as_str),
        Some("Client Exited.")
    );
    let out = stop_clean(srv);
    assert!(
        out.iter().any(|l| l.contains("quit")),
        "{server} did not log the quit: {out:?}"
    );
}

#[test]
fn ex4_client_ex5_server() {
    echo_pair("ex4-client", "ex5-server", "epoll");
}

#[test]
fn ex5a_client_ex5_server_all_backends() {
    for b in BACKENDS {
        echo_pair("ex5a-client", "ex5-server", b);
    }
}

#[test]
fn ex4_client_ex6_server_all_backends() {
    for b in BACKENDS {
        echo_pair("ex4-client", "ex6-server", b);
    }
}

#[test]
fn ex5a_client_ex6_server_all_backends() {
    for b in BACKENDS {
        echo_pair("ex5a-client", "ex6-server", b);
    }
}

#[test]
fn ex7_server_echoes_quit_and_closes() {
    for b in BACKENDS {
        echo_pair("ex4-client", "ex7-server", b);
    }
}

// ----- batch input with half-close ----------------------------------------------------------

fn batch(server: &str, backend: &str, n: usize) {
    let srv = Server::start(server, 0, &["--quiet"], &env(backend)).unwrap();
    let want: Vec<String> = (0..n)
        .map(|i| format!("line {i:04} of a batch of {n}"))
        .collect();
    let mut data = want.join("\n").into_bytes();
    data.push(b'\n');
    let run = run_client(
        "ex5b-client",
        HOST,
        srv.port,
        Input::Batch(data),
        T,
        &env(backend),
    );
    assert!(run.ok(), "{server} on {backend}: {:?}", run.status);
    let echoed: Vec<String> = run
        .stdout
        .iter()
        .filter(|l| l.starts_with("line "))
        .cloned()
        .collect();
    assert_eq!(echoed.len(), n, "{server} on {backend}: lines lost");
    assert_eq!(echoed, want, "{server} on {backend}: order not kept");
    stop_clean(srv);
}

#[test]
fn ex5b_client_2000_lines_through_ex7_on_every_backend() {
    for b in BACKENDS {
        batch("ex7-server", b, 2000);
    }
}

#[test]
fn ex5b_client_2000_lines_through_ex8_on_every_backend() {
    for b in BACKENDS {
        batch("ex8-server", b, 2000);
    }
}

// ----- ex8 specifics -------------------------------------------------------------------------

fn pseudo_random(n: usize, mut seed: u64) -> Vec<u8> {
    (0..n)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8
        })
        .collect()
}

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect((HOST, port)).unwrap();
    s.set_read_timeout(Some(T)).unwrap();
    s
}

#[test]
fn ex8_echoes_one_mib_of_random_bytes_exactly_after_half_close() {
    // Once as the tutorial has it, once with TCP_NODELAY on every client (`--nodelay`).
    for (b, args) in BACKENDS
        .into_iter()
        .flat_map(|b| [(b, &["--quiet"][..]), (b, &["--quiet", "--nodelay"][..])])
    {
        let srv = Server::start("ex8-server", 0, args, &env(b)).unwrap();
        let data = pseudo_random(1 << 20, 0x9e3779b97f4a7c15);
        let s = connect(srv.port);
        let mut w = s.try_clone().unwrap();
        let payload = data.clone();
        let writer = thread::spawn(move || {
            w.write_all(&payload).unwrap();
            w.shutdown(Shutdown::Write).unwrap();
        });
        let mut got = Vec::new();
        (&s).read_to_end(&mut got).unwrap();
        writer.join().unwrap();
        assert_eq!(got.len(), data.len(), "{b} {args:?}");
        assert!(got == data, "{b} {args:?}: bytes differ");
        stop_clean(srv);
    }
}

#[test]
fn ex8_a_client_stuck_mid_line_or_not_reading_does_not_delay_others() {
    for b in BACKENDS {
        let srv = Server::start("ex8-server", 0, &["--quiet"], &env(b)).unwrap();
        // A sends half a line and never reads; it also floods until its buffers are full.
        let stuck = connect(srv.port);
        (&stuck).write_all(b"half a line without its end").unwrap();
        stuck.set_nonblocking(true).unwrap();
        let chunk = vec![b'x'; 64 * 1024];
        let flood_end = Instant::now() + Duration::from_secs(2);
        while Instant::now() < flood_end {
            match (&stuck).write(&chunk) {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("{e}"),
            }
        }
        // B is served promptly.
        let other = connect(srv.port);
        let start = Instant::now();
        for i in 0..50 {
            let msg = format!("round trip {i}\n");
            (&other).write_all(msg.as_bytes()).unwrap();
            let mut buf = vec![0u8; msg.len()];
            (&other).read_exact(&mut buf).unwrap();
            assert_eq!(buf, msg.as_bytes());
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{b}: other client delayed"
        );
        drop(stuck);
        stop_clean(srv);
    }
}

#[test]
fn ex8_serves_200_concurrent_clients() {
    isys::raise_nofile_limit(4096).unwrap();
    for b in BACKENDS {
        // A backlog for 200 connections arriving at once (the tutorial's 5 makes the kernel
        // drop SYNs, which clients retry a second later).
        let srv =
            Server::start("ex8-server", 0, &["--quiet", "--backlog", "256"], &env(b)).unwrap();
        let port = srv.port;
        let clients: Vec<TcpStream> = (0..200).map(|_| connect(port)).collect();
        for round in 0..3 {
            for (i, c) in clients.iter().enumerate() {
                let msg = format!("client {i} round {round}\n");
                let mut c = c;
                c.write_all(msg.as_bytes()).unwrap();
            }
            for (i, c) in clients.iter().enumerate() {
                let msg = format!("client {i} round {round}\n");
                let mut buf = vec![0u8; msg.len()];
                let mut c = c;
                c.read_exact(&mut buf).unwrap();
                assert_eq!(buf, msg.as_bytes(), "{b}");
            }
        }
        drop(clients);
        stop_clean(srv);
    }
}

// ----- robustness ----------------------------------------------------------------------------

fn reset_connection(port: u16, send: &[u8]) {
    let s = TcpStream::connect((HOST, port)).unwrap();
    let _ = (&s).write_all(send);
    let linger = isys::libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    isys::setsockopt(&s, isys::libc::SOL_SOCKET, isys::libc::SO_LINGER, &linger).unwrap();
    drop(s); // RST
}

#[test]
fn clients_that_reset_mid_stream_do_not_kill_servers() {
    let servers: Vec<(&str, &str)> = vec![
        ("ex2-server", ""),
        ("ex3-server", ""),
        ("ex4-server", ""),
        ("ex5-server", "epoll"),
        ("ex6-server", "select"),
        ("ex6-server", "poll"),
        ("ex6-server", "epoll"),
        ("ex7-server", "select"),
        ("ex7-server", "poll"),
        ("ex7-server", "epoll"),
        ("ex8-server", "select"),
        ("ex8-server", "poll"),
        ("ex8-server", "epoll"),
    ];
    for (server, backend) in servers {
        let e = env(if backend.is_empty() { "epoll" } else { backend });
        let srv = Server::start(server, 0, &["--quiet"], &e).unwrap();
        for i in 0..20 {
            let payload: &[u8] = match i % 3 {
                0 => b"",
                1 => b"half a li",
                _ => b"a full line\r\nand half",
            };
            reset_connection(srv.port, payload);
        }
        thread::sleep(Duration::from_millis(100));
        // Still serving.
        let daytime = matches!(server, "ex2-server" | "ex3-server" | "ex4-server");
        let run = if daytime {
            run_client("ex3-client", HOST, srv.port, Input::Nothing, T, &e)
        } else {
            run_client(
                "ex4-client",
                HOST,
                srv.port,
                Input::Interactive(lines(&["still there?", "quit"])),
                T,
                &e,
            )
        };
        assert!(run.ok(), "{server}/{backend} after resets: {run:?}");
        if daytime {
            assert!(
                run.stdout.iter().any(|l| is_daytime(l)),
                "{server}: {:?}",
                run.stdout
            );
        } else {
            assert_in_order(&run.stdout, &lines(&["still there?", "quit"]));
        }
        stop_clean(srv);
    }
}

#[test]
fn threaded_servers_serve_concurrent_clients() {
    // ex5: an idle connected client does not block another one.
    let srv = Server::start("ex5-server", 0, &["--quiet"], &[]).unwrap();
    let idle: Vec<TcpStream> = (0..5).map(|_| connect(srv.port)).collect();
    let run = run_client(
        "ex4-client",
        HOST,
        srv.port,
        Input::Interactive(lines(&["while others idle", "quit"])),
        T,
        &[],
    );
    assert!(run.ok(), "{run:?}");
    assert_in_order(&run.stdout, &lines(&["while others idle", "quit"]));
    // The idle ones are still being served by their threads.
    for (i, c) in idle.iter().enumerate() {
        let mut c = c;
        writeln!(c, "idle {i}").unwrap();
        let mut buf = vec![0u8; format!("idle {i}\r\n").len()];
        c.read_exact(&mut buf).unwrap();
        assert_eq!(buf, format!("idle {i}\r\n").as_bytes());
    }
    // Shutting down closes the idle clients' connections.
    let out = stop_clean(srv);
    assert!(out.iter().any(|l| l.starts_with("Listening")));
    for c in &idle {
        let mut buf = [0u8; 8];
        let mut c = c;
        assert_eq!(
            c.read(&mut buf).unwrap(),
            0,
            "client not closed at server exit"
        );
    }

    // ex4: ten clients at once all get the time.
    let srv = Server::start("ex4-server", 0, &["--quiet"], &[]).unwrap();
    let port = srv.port;
    let handles: Vec<_> = (0..10)
        .map(|_| {
            thread::spawn(move || run_client("ex2-client", HOST, port, Input::Nothing, T, &[]))
        })
        .collect();
    for h in handles {
        let run = h.join().unwrap();
        assert!(run.ok(), "{run:?}");
        assert!(run.stdout.iter().any(|l| is_daytime(l)));
    }
    stop_clean(srv);
}

#[test]
fn refused_and_address_in_use_messages_and_exit_status() {
    // A port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind((HOST, 0)).unwrap();
        l.local_addr().unwrap().port()
    };
    for client in [
        "ex1-client",
        "ex2-client",
        "ex3-client",
        "ex4-client",
        "ex5a-client",
        "ex5b-client",
    ] {
        let run = run_client(client, HOST, port, Input::Nothing, T, &[]);
        assert_eq!(
            run.status.and_then(|s| s.code()),
            Some(1),
            "{client}: {run:?}"
        );
        let want = format!("Connection refused to {HOST}:{port}. Maybe the server isn't running?");
        assert!(run.stdout.contains(&want), "{client}: {:?}", run.stdout);
        assert!(run.stderr.is_empty(), "{client}: {:?}", run.stderr);
    }
    // A port a server already listens on.
    let first = Server::start("ex8-server", 0, &["--quiet"], &[]).unwrap();
    for server in [
        "ex1-server",
        "ex2-server",
        "ex3-server",
        "ex4-server",
        "ex5-server",
        "ex6-server",
        "ex7-server",
        "ex8-server",
    ] {
        let out = std::process::Command::new(support::example(server))
            .args(["--port", &first.port.to_string(), "--quiet"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{server}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("Bind: Address already in use"),
            "{server}: {text:?}"
        );
    }
    stop_clean(first);
}

#[cfg(target_os = "linux")]
fn fd_growth(server: &str, backend: &str) {
    let srv = Server::start(server, 0, &["--quiet", "--backlog", "256"], &env(backend)).unwrap();
    let pid = srv.pid();
    // Warm up (lazily opened fds), then count.
    for _ in 0..5 {
        let s = connect(srv.port);
        drop(s);
    }
    thread::sleep(Duration::from_millis(100));
    let before = fd_count(pid);
    assert!(before > 0);
    for i in 0..500 {
        let s = connect(srv.port);
        if i % 2 == 0 {
            let _ = (&s).write_all(b"x\n");
        }
        drop(s);
    }
    // Let the server notice every close.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut after = fd_count(pid);
    while after > before && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(50));
        after = fd_count(pid);
    }
    assert!(
        after <= before,
        "{server}/{backend}: fds grew from {before} to {after}"
    );
    stop_clean(srv);
}

#[cfg(target_os = "linux")] // reads /proc/PID/fd
#[test]
fn no_fd_growth_after_500_connect_close_cycles() {
    for b in BACKENDS {
        fd_growth("ex8-server", b);
        fd_growth("ex7-server", b);
        fd_growth("ex6-server", b);
    }
    fd_growth("ex5-server", "epoll");
    fd_growth("ex3-server", "epoll");
}

#[test]
fn servers_close_clients_and_exit_cleanly_on_sigint() {
    for server in ["ex6-server", "ex7-server", "ex8-server"] {
        let srv = Server::start(server, 0, &[], &[]).unwrap();
        let c = connect(srv.port);
        (&c).write_all(b"hello\n").unwrap();
        let mut buf = [0u8; 7];
        (&c).read_exact(&mut buf[..if server == "ex8-server" { 6 } else { 7 }])
            .unwrap();
        isys::kill(srv.pid(), isys::Signal::SIGINT).unwrap();
        let (status, out, err) = srv.wait(T);
        assert!(
            status.is_some_and(|s| s.success()),
            "{server}: {status:?} {err:?}"
        );
        assert!(
            out.iter()
                .any(|l| l.starts_with("Closing a client connection to")),
            "{server}: {out:?}"
        );
        assert_eq!(out.last().map(String::as_str), Some("Server Exited"));
        let mut rest = Vec::new();
        (&c).read_to_end(&mut rest).unwrap(); // EOF: the server closed us
    }
}
