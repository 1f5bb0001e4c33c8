//! How conversations end, and lines that are already there.
//!
//! - After an echo server answers `quit` and closes, the clients report IOLib's end of file
//!   ("Got end-of-file. Server closed connection on read!" for ex4-client, the tutorial's
//!   "make-ex5a-str-cli-read: server closed connection on read!" for ex5a-client), never a
//!   hangup or a reset.
//! - The multiplexed clients work with stdin redirected from a regular file on epoll.
//! - SIGTERM with a client's partial line pending: ex6 and ex7 exit cleanly within 1 s.
//! - ex7 echoes 10,000 pipelined lines sent in one write (lines already buffered in the
//!   socket stream are processed without another read event).

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::thread;
use std::time::{Duration, Instant};
use support::hostile::*;
use support::{example, wait_timeout, Server};

const T: Duration = Duration::from_secs(10);

/// A client process with piped stdin and its stdout lines arriving on a channel.
struct ClientProc {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl ClientProc {
    fn spawn(name: &str, port: u16, backend: &str, stdin: Stdio) -> ClientProc {
        let mut child = Command::new(example(name))
            .args(["--host", HOST, "--port", &port.to_string()])
            .env("IOMUX_BACKEND", backend)
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn client");
        let (tx, lines) = channel();
        let out = child.stdout.take().unwrap();
        let err = child.stderr.take().unwrap();
        let tx2 = tx.clone();
        thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(l);
            }
        });
        thread::spawn(move || {
            for l in BufReader::new(err).lines().map_while(Result::ok) {
                let _ = tx2.send(format!("stderr: {l}"));
            }
        });
        ClientProc {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    fn send(&mut self, line: &str) {
        let stdin = self.child.stdin.as_mut().expect("piped stdin");
        let _ = writeln!(stdin, "{line}");
        let _ = stdin.flush();
    }

    /// Waits for a stdout line equal to `want`; false on timeout or exit.
    fn expect(&mut self, want: &str) -> bool {
        let end = Instant::now() + T;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    let hit = l == want;
                    self.seen.push(l);
                    if hit {
                        return true;
                    }
                }
                Err(_) => return false,
            }
        }
    }

    /// Waits for the process to exit (stdin still open), then collects the rest.
    fn finish(mut self) -> (Option<std::process::ExitStatus>, Vec<String>) {
        let status = wait_timeout(&mut self.child, T);
        drop(self.child.stdin.take());
        thread::sleep(Duration::from_millis(50));
        while let Ok(l) = self.lines.try_recv() {
            self.seen.push(l);
        }
        (status, self.seen)
    }
}

fn no_hangup_or_reset(out: &[String]) -> bool {
    !out.iter().any(|l| {
        let l = l.to_lowercase();
        l.contains("hangup") || l.contains("reset") || l.contains("on write")
    })
}

fn servers_with_quit() -> Vec<(&'static str, &'static str)> {
    let mut v = vec![("ex5-server", "epoll")];
    for b in BACKENDS {
        v.push(("ex6-server", b));
        v.push(("ex7-server", b));
    }
    v
}

#[test]
fn ex4_client_reports_end_of_file_after_quit() {
    let want = "Got end-of-file. Server closed connection on read!";
    let mut failures = Vec::new();
    for (server, backend) in servers_with_quit() {
        let srv = start(server, backend, &[]);
        let mut c = ClientProc::spawn("ex4-client", srv.port, backend, Stdio::piped());
        c.send("hello");
        let echoed = c.expect("hello");
        c.send("quit");
        let quit = c.expect("quit");
        // The next line goes to a server that has closed: the read sees end of file. (Typed
        // a moment later, as a person would: sent before the server's close, the line would
        // meet a closed socket and TCP would answer it with a reset, whatever the client.)
        std::thread::sleep(std::time::Duration::from_millis(300));
        c.send("a line after quit");
        let (status, out) = c.finish();
        let ok = echoed
            && quit
            && status.is_some_and(|s| s.success())
            && out.iter().any(|l| l == want)
            && no_hangup_or_reset(&out);
        if !ok {
            failures.push(format!("{server} on {backend}: {status:?} {out:?}"));
        }
        drop(srv);
    }
    assert!(
        failures.is_empty(),
        "ex4-client must print {want:?} (and no hangup/reset) after quit:\n{}",
        failures.join("\n")
    );
}

#[test]
fn ex5a_client_reports_end_of_file_after_quit_on_every_backend() {
    let want = "make-ex5a-str-cli-read: server closed connection on read!";
    let mut failures = Vec::new();
    for (server, server_backend) in servers_with_quit() {
        for backend in BACKENDS {
            let env = backend_env(server_backend);
            let srv = Server::start(server, 0, &["--quiet"], &[("IOMUX_BACKEND", &env[0].1)])
                .expect("server starts");
            // The client's own backend is `backend`; its stdin stays open throughout.
            let mut c = ClientProc::spawn("ex5a-client", srv.port, backend, Stdio::piped());
            c.send("hello");
            let echoed = c.expect("hello");
            c.send("quit");
            let quit = c.expect("quit");
            let (status, out) = c.finish();
            let ok = echoed
                && quit
                && status.is_some_and(|s| s.success())
                && out.iter().any(|l| l == want)
                && no_hangup_or_reset(&out)
                && out.last().map(String::as_str) == Some("Client Exited.");
            if !ok {
                failures.push(format!(
                    "ex5a-client on {backend} vs {server} on {server_backend}: {status:?} {out:?}"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "ex5a-client must print {want:?} (and no hangup/reset) after quit:\n{}",
        failures.join("\n")
    );
}

/// A regular file with `lines`, for a client's stdin.
fn stdin_file(tag: &str, lines: &[String]) -> std::fs::File {
    let path = std::env::temp_dir().join(format!("iolib-endings-{tag}-{}.txt", std::process::id()));
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(&path, text).unwrap();
    let f = std::fs::File::open(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    f
}

#[test]
fn ex5a_client_with_a_regular_file_as_stdin_on_epoll() {
    // ex5a closes at its stdin's end of file, losing in-flight echoes by design (the
    // tutorial's point); with a file it must still run: connect, send, reach end of file,
    // exit 0, with nothing on stderr.
    let srv = start("ex5-server", "epoll", &[]);
    let lines: Vec<String> = (0..5).map(|i| format!("file line {i}")).collect();
    let c = ClientProc::spawn(
        "ex5a-client",
        srv.port,
        "epoll",
        Stdio::from(stdin_file("ex5a", &lines)),
    );
    let (status, out) = c.finish();
    assert!(status.is_some_and(|s| s.success()), "{status:?} {out:?}");
    assert!(
        out.iter().any(|l| l.starts_with("Connected to server")),
        "{out:?}"
    );
    assert!(
        out.iter()
            .any(|l| l == "make-ex5a-str-cli-write: User performed end-of-file!"),
        "{out:?}"
    );
    assert!(
        !out.iter().any(|l| l.starts_with("stderr: ")),
        "stderr: {out:?}"
    );
    assert_eq!(out.last().map(String::as_str), Some("Client Exited."));
}

#[test]
fn ex5b_client_with_a_regular_file_as_stdin_on_epoll_echoes_every_line() {
    let lines: Vec<String> = (0..200).map(|i| format!("file line {i}")).collect();
    for server in ["ex7-server", "ex8-server"] {
        let srv = start(server, "epoll", &[]);
        let c = ClientProc::spawn(
            "ex5b-client",
            srv.port,
            "epoll",
            Stdio::from(stdin_file(server, &lines)),
        );
        let (status, out) = c.finish();
        assert!(
            status.is_some_and(|s| s.success()),
            "{server}: {status:?} {out:?}"
        );
        let echoed: Vec<&String> = out.iter().filter(|l| l.starts_with("file line")).collect();
        assert_eq!(
            echoed,
            lines.iter().collect::<Vec<_>>(),
            "{server}: ex5b-client with a file on stdin must echo every line"
        );
        assert!(
            !out.iter().any(|l| l.starts_with("stderr: ")),
            "{server}: {out:?}"
        );
    }
}

// ----- SIGTERM with a partial line ----------------------------------------------------------

fn sigterm_with_partial_line(server: &str, backend: &str) -> Result<(), String> {
    let srv = start(server, backend, &[]);
    let c = connect(srv.port);
    round_trip(&c, server, "a whole line", IO_TIMEOUT)?;
    (&c).write_all(b"abc").map_err(|e| e.to_string())?;
    thread::sleep(Duration::from_millis(200));
    isys::kill(srv.pid(), isys::Signal::SIGTERM).map_err(|e| e.to_string())?;
    let start = Instant::now();
    let (status, out, err) = srv.wait(Duration::from_secs(1));
    match status {
        Some(s) if s.success() => Ok(()),
        Some(s) => Err(format!("exit {s} after {:?}: {err:?}", start.elapsed())),
        None => Err(format!(
            "still running 1 s after SIGTERM (killed); stdout {:?}",
            tail(&out, 5)
        )),
    }
}

#[test]
fn ex6_and_ex7_exit_on_sigterm_with_a_partial_line_pending() {
    let mut failures = Vec::new();
    for server in ["ex6-server", "ex7-server"] {
        for b in BACKENDS {
            if let Err(e) = sigterm_with_partial_line(server, b) {
                failures.push(format!("{server} on {b}: {e}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "SIGTERM with a client's partial line pending must end the server cleanly within \
         1 s:\n{}",
        failures.join("\n")
    );
}

// ----- pipelining ---------------------------------------------------------------------------

/// Ample for 10,000 short lines on loopback.
const PIPELINE_TIME: Duration = Duration::from_secs(5);

fn ex7_pipelined(backend: &str) {
    const N: usize = 10_000;
    let srv = start("ex7-server", backend, &[]);
    let s = connect(srv.port);
    let mut data = Vec::with_capacity(N * 12);
    for i in 0..N {
        data.extend_from_slice(format!("line {i:05}\n").as_bytes());
    }
    let mut w = s.try_clone().unwrap();
    let writer = thread::spawn(move || w.write_all(&data).map_err(|e| e.to_string()));
    let want_len = N * "line 00000\r\n".len();
    let mut got = Vec::with_capacity(want_len);
    let end = Instant::now() + PIPELINE_TIME;
    let mut buf = vec![0u8; 64 * 1024];
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    while got.len() < want_len && Instant::now() < end {
        match (&s).read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(_) => continue,
        }
    }
    let wrote = writer.join().unwrap();
    let lines = got.split(|&b| b == b'\n').filter(|l| !l.is_empty()).count();
    assert!(
        got.len() == want_len,
        "ex7 on {backend}: {lines} of {N} echoes came back in {PIPELINE_TIME:?} (write: {wrote:?})"
    );
    for (i, l) in got.split_inclusive(|&b| b == b'\n').enumerate() {
        assert_eq!(l, format!("line {i:05}\r\n").as_bytes(), "ex7 on {backend}");
    }
    stop_clean(srv);
}

#[test]
fn ex7_echoes_10000_pipelined_lines_on_select() {
    ex7_pipelined("select");
}

#[test]
fn ex7_echoes_10000_pipelined_lines_on_poll() {
    ex7_pipelined("poll");
}

#[test]
fn ex7_echoes_10000_pipelined_lines_on_epoll() {
    ex7_pipelined("epoll");
}
