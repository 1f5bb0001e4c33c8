//! No client takes an echo server down. While a well-behaved client keeps echoing lines
//! (each round trip checked exactly), hostile clients send invalid UTF-8, NUL bytes, CR-only
//! line ends and an over-long line, half-close, stall mid-line, flood without reading and
//! reset with output pending. The well-behaved client is served throughout; the server is
//! alive afterwards and serves a new client; a line server closes the connection of a client
//! whose line is not UTF-8 or too long (that client alone sees end of file, as IOLib treats
//! the bad line as that client's end of file), while ex8, being binary-safe, echoes every
//! byte.
//!
//! ex5-server (threaded) once; ex6, ex7, ex8 and IOLib's echo-server on each of select, poll
//! and epoll. Each
//! scenario runs all its checks and reports every one that failed.

mod support;

use std::io::Write;
use std::net::{Shutdown, TcpStream};
use std::thread;
use std::time::Duration;
use support::hostile::*;
use support::Server;

/// The line servers' maximum line length: `sockets::DEFAULT_MAX_LINE_LENGTH` (1 MiB), which
/// ex5/ex6/ex7 read with.
const MAX_LINE: usize = 1 << 20;
/// The longest a well-behaved round trip may take while the hostile clients do their worst.
const STEADY_LATENCY: Duration = Duration::from_secs(2);

/// The server under attack and its well-behaved client. A server that dies is recorded as a
/// failure and restarted, so each hostile client is judged on its own.
struct Target {
    server: &'static str,
    backend: &'static str,
    srv: Server,
    steady: Option<Steady>,
}

impl Target {
    fn start(server: &'static str, backend: &'static str) -> Target {
        let srv = start(server, backend, &["--backlog", "64"]);
        let steady = Some(Steady::start(srv.port, server, STEADY_LATENCY));
        Target {
            server,
            backend,
            srv,
            steady,
        }
    }

    fn port(&self) -> u16 {
        self.srv.port
    }

    /// After `what`: if the server died (a new client is not served, and the process is
    /// gone), record it and start a new one.
    fn survived(&mut self, checks: &mut Checks, what: &str) {
        let served = fresh_client_served(self.port(), self.server, 1, Duration::from_secs(1));
        if served.is_err() {
            thread::sleep(Duration::from_millis(100));
        }
        if let Err(e) = alive_or_err(&mut self.srv) {
            checks.fail(format!("{what}: {e}"));
            if let Some(s) = self.steady.take() {
                s.finish();
            }
            *self = Target::start(self.server, self.backend);
        }
    }
}

fn hostile_clients(server: &'static str, backend: &'static str) {
    let who = format!("{server} on {backend}");
    let mut checks = Checks::new(&who);
    let mut target = Target::start(server, backend);
    let line_server = is_line_server(server);

    // ---- Bad content, one client at a time. ----

    // NUL bytes are valid UTF-8: the line comes back as it went.
    let port = target.port();
    checks.check("a line with NUL bytes is echoed", || {
        round_trip(
            &try_connect(port)?,
            server,
            b"nul \0 in \0 the line",
            IO_TIMEOUT,
        )
        .map(|_| ())
    });

    target.survived(&mut checks, "the server exited after a line with NUL bytes");

    // Invalid UTF-8.
    let port = target.port();
    checks.check("a line of invalid UTF-8", || {
        let bad = try_connect(port)?;
        round_trip(&bad, server, b"a good line first", IO_TIMEOUT)?;
        let invalid: &[u8] = b"not utf-8: \xff\xfe \xc3\x28 \xed\xa0\x80";
        if !line_server {
            return round_trip(&bad, server, invalid, IO_TIMEOUT)
                .map(|_| ())
                .map_err(|e| format!("ex8 must echo it exactly: {e}"));
        }
        let mut msg = invalid.to_vec();
        msg.push(b'\n');
        (&bad).write_all(&msg).map_err(|e| e.to_string())?;
        let (got, end) = read_until_closed(&bad, Duration::from_secs(3));
        if got.is_empty() && end == End::Eof {
            Ok(())
        } else {
            Err(format!(
                "must end that client's connection with an end of file and no echo; got {:?} \
                 then {end:?}",
                String::from_utf8_lossy(&got)
            ))
        }
    });

    target.survived(
        &mut checks,
        "the server exited after a line of invalid UTF-8",
    );

    // An over-long line: 2 MiB without a line end, then the line end.
    let port = target.port();
    checks.check("an over-long line (2 MiB)", || {
        let mut long = vec![b'x'; 2 * MAX_LINE];
        long.push(b'\n');
        if line_server {
            let (got, end) = send_and_collect(port, long, false, Duration::from_secs(5));
            if got.is_empty() && end.closed() {
                return Ok(());
            }
            return Err(format!(
                "a line over {MAX_LINE} bytes must close that client's connection without an \
                 echo; got {} bytes then {end:?}",
                got.len()
            ));
        }
        let (got, end) = send_and_collect(port, long.clone(), true, Duration::from_secs(10));
        if end == End::Eof && got == long {
            Ok(())
        } else {
            Err(format!(
                "ex8 must echo it exactly: {} of {} bytes came back ({}), then {end:?}",
                got.len(),
                long.len(),
                if got[..] == long[..got.len().min(long.len())] {
                    "a prefix"
                } else {
                    "differing"
                }
            ))
        }
    });

    target.survived(&mut checks, "the server exited after an over-long line");

    // CR-only line ends: no line end for a LF/CRLF reader; a LF later ends the one line,
    // whose CRs are content (ex8 echoes bytes as they come).
    let port = target.port();
    checks.check("CR-only line ends, then a LF", || {
        let cr = try_connect(port)?;
        (&cr)
            .write_all(b"one\rtwo\rthree\r")
            .map_err(|e| e.to_string())?;
        thread::sleep(Duration::from_millis(100));
        (&cr).write_all(b"\n").map_err(|e| e.to_string())?;
        let want: &[u8] = b"one\rtwo\rthree\r\n";
        let got = read_exactly(&cr, want.len(), IO_TIMEOUT)?;
        if got == want {
            Ok(())
        } else {
            Err(format!(
                "echo {:?}, want {:?}",
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(want)
            ))
        }
    });

    target.survived(&mut checks, "the server exited after CR-only line ends");

    // Half-close after some lines: every echo, then end of file (the servers that honour it).
    if matches!(server, "ex7-server" | "ex8-server") {
        let port = target.port();
        checks.check("half-close after 200 lines", || {
            let lines: Vec<String> = (0..200).map(|i| format!("half-close line {i}")).collect();
            let mut data = lines.join("\n").into_bytes();
            data.push(b'\n');
            let want: Vec<u8> = lines
                .iter()
                .flat_map(|l| echo_of(server, l.as_bytes()))
                .collect();
            let (got, end) = send_and_collect(port, data, true, Duration::from_secs(5));
            if end == End::Eof && got == want {
                Ok(())
            } else {
                Err(format!(
                    "{} of {} bytes came back (in order: {}), then {end:?}",
                    got.len(),
                    want.len(),
                    got[..] == want[..got.len().min(want.len())]
                ))
            }
        });
    }

    target.survived(&mut checks, "the server exited after a half-close");

    // ---- Clients that hold on: all at once, kept open until the end. ----

    let port = target.port();
    let mut held: Vec<TcpStream> = Vec::new();
    checks.check("clients that stall, flood and reset can connect", || {
        // A partial line, then a stall: the line never ends.
        let stalled = try_connect(port)?;
        let _ = (&stalled).write_all(b"half a line that never ends");
        held.push(stalled);
        // Sends a lot and never reads.
        let chunk = "a flood line nobody reads back\n".repeat(2000);
        let flooder = try_connect(port)?;
        let flooded = flood(&flooder, chunk.as_bytes(), Duration::from_secs(2));
        held.push(flooder);
        // Resets (SO_LINGER 0, close) while the server has output pending for it.
        let resetter = try_connect(port)?;
        flood(&resetter, chunk.as_bytes(), Duration::from_secs(1));
        reset(resetter);
        if flooded == 0 {
            return Err("the flooder could not send anything".into());
        }
        Ok(())
    });

    // Let the hostile clients sit a moment, then judge.
    thread::sleep(Duration::from_millis(500));
    let report = target.steady.take().expect("steady client").finish();
    checks.check("the well-behaved client was served throughout", || {
        match (&report.error, report.rounds) {
            (Some(e), n) => Err(format!("{e} (after {n} round trips)")),
            (None, n) if n < 10 => Err(format!("only {n} round trips")),
            _ => Ok(()),
        }
    });
    checks.check(
        "the server is alive with the stalled and flooding clients",
        || alive_or_err(&mut target.srv),
    );
    checks.check("a new client is served", || {
        fresh_client_served(port, server, 3, Duration::from_secs(2))
    });
    for s in &held {
        let _ = s.shutdown(Shutdown::Both);
    }
    drop(held);
    thread::sleep(Duration::from_millis(100));
    checks.check(
        "the server is alive after the hostile clients went away",
        || alive_or_err(&mut target.srv),
    );
    checks.check("a clean exit on SIGTERM", || {
        let (status, out, err) = target.srv.stop();
        if status.is_some_and(|s| s.success()) {
            Ok(())
        } else {
            Err(format!(
                "{status:?}\nstdout {:?}\nstderr {:?}",
                tail(&out, 10),
                tail(&err, 10)
            ))
        }
    });
    checks.finish();
}

macro_rules! hostile_tests {
    ($($name:ident: $server:literal on $backend:literal),* $(,)?) => {
        $( #[test] fn $name() { hostile_clients($server, $backend) } )*
    };
}

hostile_tests!(
    ex5_server_survives_hostile_clients: "ex5-server" on "epoll",
    ex6_server_survives_hostile_clients_on_select: "ex6-server" on "select",
    ex6_server_survives_hostile_clients_on_poll: "ex6-server" on "poll",
    ex6_server_survives_hostile_clients_on_epoll: "ex6-server" on "epoll",
    ex7_server_survives_hostile_clients_on_select: "ex7-server" on "select",
    ex7_server_survives_hostile_clients_on_poll: "ex7-server" on "poll",
    ex7_server_survives_hostile_clients_on_epoll: "ex7-server" on "epoll",
    ex8_server_survives_hostile_clients_on_select: "ex8-server" on "select",
    ex8_server_survives_hostile_clients_on_poll: "ex8-server" on "poll",
    ex8_server_survives_hostile_clients_on_epoll: "ex8-server" on "epoll",
    echo_server_survives_hostile_clients_on_select: "echo-server" on "select",
    echo_server_survives_hostile_clients_on_poll: "echo-server" on "poll",
    echo_server_survives_hostile_clients_on_epoll: "echo-server" on "epoll",
);
