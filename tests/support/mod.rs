//! Running the example programs as real child processes: shared by the end-to-end tests
//! (`tests/examples.rs`) and the tour (`examples/tour.rs`).
#![allow(dead_code)] // each user takes a subset

pub mod hostile;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Where the example binaries are: next to this executable (the tour, in
/// `target/<profile>/examples`) or in `../examples` (tests, in `target/<profile>/deps`).
pub fn examples_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe.parent().expect("exe dir").to_path_buf();
    if dir.ends_with("deps") {
        dir.parent().expect("profile dir").join("examples")
    } else {
        dir
    }
}

/// The path of example `name`. The examples are (re)built once per process, so a test run
/// never drives stale binaries (`cargo test --test x` does not build examples).
pub fn example(name: &str) -> PathBuf {
    static BUILT: std::sync::Once = std::sync::Once::new();
    let path = examples_dir().join(name);
    BUILT.call_once(|| {
        let release = examples_dir()
            .components()
            .any(|c| c.as_os_str() == "release");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "--quiet", "--examples"]);
        if release {
            cmd.arg("--release");
        }
        cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
        let status = cmd.status().expect("run cargo build --examples");
        assert!(status.success(), "cargo build --examples failed");
    });
    path
}

/// Lines a child printed, collected by a thread.
#[derive(Clone, Default)]
pub struct Lines(Arc<Mutex<Vec<String>>>);

impl Lines {
    fn collect<R: Read + Send + 'static>(src: R) -> (Lines, Receiver<String>) {
        let (lines, rx, _reader) = Lines::collect_joinable(src);
        (lines, rx)
    }

    /// [`collect`](Self::collect), with the reading thread's handle: joined after the child
    /// exits, it guarantees every line the child wrote has been collected.
    fn collect_joinable<R: Read + Send + 'static>(
        src: R,
    ) -> (Lines, Receiver<String>, thread::JoinHandle<()>) {
        let lines = Lines::default();
        let (tx, rx) = channel();
        let l = lines.clone();
        let reader = thread::spawn(move || {
            for line in BufReader::new(src).lines() {
                let Ok(line) = line else { break };
                l.0.lock().unwrap().push(line.clone());
                let _ = tx.send(line);
            }
        });
        (lines, rx, reader)
    }
    /// A copy of what arrived so far.
    pub fn get(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// A running server example.
pub struct Server {
    pub name: String,
    pub child: Child,
    pub port: u16,
    pub stdout: Lines,
    pub stderr: Lines,
}

/// Waits for a child with a deadline; kills it when the deadline passes.
pub fn wait_timeout(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let end = Instant::now() + timeout;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if Instant::now() >= end {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        thread::sleep(Duration::from_millis(5));
    }
}

impl Server {
    /// Starts `name --port PORT extra...` and waits for its Listening line.
    pub fn start(
        name: &str,
        port: u16,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Result<Server, String> {
        Server::start_with(&Launch::default(), name, port, extra, env)
    }

    /// [`Server::start`] under `launch`: behind a wrapper command (strace, prlimit) and/or
    /// with a lowered `RLIMIT_NOFILE`.
    pub fn start_with(
        launch: &Launch,
        name: &str,
        port: u16,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Result<Server, String> {
        let mut cmd = match launch.wrapper.split_first() {
            Some((first, rest)) => {
                let mut c = Command::new(first);
                c.args(rest).arg(example(name));
                c
            }
            None => Command::new(example(name)),
        };
        if let Some(n) = launch.nofile {
            hostile::limit_nofile(&mut cmd, n);
        }
        cmd.arg("--port").arg(port.to_string()).args(extra);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("spawn {name}: {e}"))?;
        let (stdout, rx) = Lines::collect(child.stdout.take().expect("stdout"));
        let (stderr, _) = Lines::collect(child.stderr.take().expect("stderr"));
        let end = Instant::now() + Duration::from_secs(20);
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    let announced = line
                        .strip_prefix("Listening on socket bound to: 0.0.0.0:")
                        .or_else(|| line.strip_prefix("Listening on socket bound to: [::]:"));
                    if let Some(p) = announced {
                        let port = p
                            .trim()
                            .parse()
                            .map_err(|_| format!("bad port in {line:?}"))?;
                        return Ok(Server {
                            name: name.into(),
                            child,
                            port,
                            stdout,
                            stderr,
                        });
                    }
                }
                Err(_) => {
                    let status = wait_timeout(&mut child, Duration::from_secs(2));
                    return Err(format!(
                        "{name} did not announce its port (status {status:?}); stdout {:?} stderr {:?}",
                        stdout.get(),
                        stderr.get()
                    ));
                }
            }
        }
    }

    /// The server's pid.
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Sends SIGTERM and waits for a clean exit. Returns the exit status (None if it had to
    /// be killed) and everything it printed.
    pub fn stop(mut self) -> (Option<ExitStatus>, Vec<String>, Vec<String>) {
        if let Ok(None) = self.child.try_wait() {
            let _ = isys::kill(self.pid(), isys::Signal::SIGTERM);
        }
        let status = wait_timeout(&mut self.child, Duration::from_secs(10));
        thread::sleep(Duration::from_millis(20)); // let the reader threads drain
        (status, self.stdout.get(), self.stderr.get())
    }

    /// Waits for the server to exit on its own (ex1-server serves one client).
    pub fn wait(mut self, timeout: Duration) -> (Option<ExitStatus>, Vec<String>, Vec<String>) {
        let status = wait_timeout(&mut self.child, timeout);
        thread::sleep(Duration::from_millis(20));
        (status, self.stdout.get(), self.stderr.get())
    }
}

impl Drop for Server {
    /// A server a test leaves running (a failed assertion, a panic) is killed, never leaked.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// How to launch a server: a wrapper command in front of it (`strace ...`, `prlimit ...`)
/// and an fd limit to set before it runs.
#[derive(Debug, Clone, Default)]
pub struct Launch {
    /// The wrapper's argv; the example's path and arguments follow it.
    pub wrapper: Vec<String>,
    /// `RLIMIT_NOFILE` (soft and hard) for the server.
    pub nofile: Option<u64>,
}

/// What to feed a client on stdin.
pub enum Input {
    /// Nothing (stdin is /dev/null).
    Nothing,
    /// One line at a time, each sent after the previous one's echo came back.
    Interactive(Vec<String>),
    /// All at once, then end of file.
    Batch(Vec<u8>),
}

/// A finished client run.
#[derive(Debug)]
pub struct ClientRun {
    pub status: Option<ExitStatus>,
    pub stdout: Vec<String>,
    pub stderr: Vec<String>,
}

impl ClientRun {
    /// Whether the client exited with status 0.
    pub fn ok(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }
}

fn feed(mut stdin: ChildStdin, data: Vec<u8>) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let _ = stdin.write_all(&data);
    })
}

/// Runs client `name` against `port` with `input`, for at most `timeout`.
pub fn run_client(
    name: &str,
    host: &str,
    port: u16,
    input: Input,
    timeout: Duration,
    env: &[(&str, &str)],
) -> ClientRun {
    let mut cmd = Command::new(example(name));
    cmd.args(["--host", host, "--port", &port.to_string()]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .stdin(match input {
            Input::Nothing => Stdio::null(),
            _ => Stdio::piped(),
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn client");
    let (stdout, rx, out_reader) = Lines::collect_joinable(child.stdout.take().expect("stdout"));
    let (stderr, _, err_reader) = Lines::collect_joinable(child.stderr.take().expect("stderr"));
    let end = Instant::now() + timeout;
    match input {
        Input::Nothing => {}
        Input::Batch(data) => {
            let stdin = child.stdin.take().expect("stdin");
            drop(feed(stdin, data));
        }
        Input::Interactive(lines) => {
            let mut stdin = child.stdin.take().expect("stdin");
            for line in lines {
                if writeln!(stdin, "{line}").is_err() {
                    break;
                }
                let _ = stdin.flush();
                // Wait for the echo of this line.
                loop {
                    let left = end.saturating_duration_since(Instant::now());
                    match rx.recv_timeout(left) {
                        Ok(got) if got == line => break,
                        Ok(_) => continue,
                        Err(_) => break,
                    }
                }
            }
            drop(stdin);
        }
    }
    let status = wait_timeout(&mut child, end.saturating_duration_since(Instant::now()));
    // The child is gone (exited or killed): its pipes reach end of file once read out.
    let _ = out_reader.join();
    let _ = err_reader.join();
    ClientRun {
        status,
        stdout: stdout.get(),
        stderr: stderr.get(),
    }
}

/// Whether `line` is a daytime line: `M/D/YYYY H:M:S`.
pub fn is_daytime(line: &str) -> bool {
    let Some((date, time)) = line.split_once(' ') else {
        return false;
    };
    let d: Vec<&str> = date.split('/').collect();
    let t: Vec<&str> = time.split(':').collect();
    let nums = |v: &[&str], max: &[u32]| {
        v.len() == max.len()
            && v.iter()
                .zip(max)
                .all(|(s, &m)| !s.is_empty() && s.parse::<u32>().is_ok_and(|n| n <= m))
    };
    nums(&d, &[12, 31, 9999])
        && d[0] != "0"
        && d[1] != "0"
        && d[2].len() == 4
        && nums(&t, &[23, 59, 60])
}

/// The open fds of process `pid` (from /proc).
pub fn fd_count(pid: i32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}
