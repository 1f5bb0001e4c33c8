//! The servers `bench count` compares: the bench's own (C-style raw epoll, mio, tokio, the
//! iolib-rs server on each backend) and the tutorial's ex8-server example, rebuilt first, on
//! each backend and with `--threads 2`; choosing them by name.

use super::{workspace, Opts};
use std::path::PathBuf;
use std::process::Command;

/// One server of the comparison.
#[derive(Clone, Debug)]
pub(super) struct Server {
    pub(super) key: String,
    pub(super) label: String,
    pub(super) program: PathBuf,
    pub(super) args: Vec<String>,
    pub(super) backend: Option<&'static str>,
    /// The bench's own servers stop at `stop` on stdin; ex8 stops on SIGTERM.
    pub(super) own: bool,
}

impl Server {
    /// select(2) cannot watch fds at or above FD_SETSIZE.
    pub(super) fn fits(&self, fds: usize) -> bool {
        self.backend != Some("select") || fds + 16 < isys::FD_SETSIZE
    }
}

/// The ex8-server example binary beside the bench binary (target/release/examples),
/// rebuilt first unless `--no-build`, so its figures are always the current code's.
pub(super) fn ex8_binary(build: bool) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let path = exe.parent()?.join("examples").join("ex8-server");
    if build {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let profile_release = exe.parent()?.file_name()? == "release";
        let mut cmd = Command::new(cargo);
        cmd.current_dir(workspace()).args([
            "build",
            "--quiet",
            "-p",
            "iolib",
            "--example",
            "ex8-server",
        ]);
        if profile_release {
            cmd.arg("--release");
        }
        match cmd.status() {
            Ok(s) if s.success() => {}
            _ => eprintln!("count: building ex8-server failed; using what is there"),
        }
    }
    path.exists().then_some(path)
}

pub(super) fn all_servers(build: bool) -> Vec<Server> {
    let exe = std::env::current_exe().expect("current exe");
    let own = |key: &str, label: &str, args: &[&str]| Server {
        key: key.into(),
        label: label.into(),
        program: exe.clone(),
        args: args.iter().map(|s| s.to_string()).collect(),
        backend: None,
        own: true,
    };
    let mut v = vec![
        own("c", "C-style raw epoll (libc)", &["server", "raw"]),
        own("mio", "mio 1.x", &["server", "mio"]),
        own("tokio", "tokio 1.x current-thread", &["server", "tokio"]),
    ];
    for b in ["epoll", "poll", "select"] {
        if iomux::Backend::available().iter().any(|x| x.name() == b) {
            let mut s = own(
                &format!("iolib-{b}"),
                &format!("iolib-rs bench server ({b})"),
                &["server", "iolib", b],
            );
            s.backend = Some(b);
            v.push(s);
        }
    }
    if let Some(ex8) = ex8_binary(build) {
        for b in ["epoll", "poll", "select"] {
            v.push(Server {
                key: format!("ex8-{b}"),
                label: format!("ex8-server example ({b})"),
                program: ex8.clone(),
                args: ["--port", "0", "--quiet", "--backlog", "4096", "--nodelay"]
                    .map(String::from)
                    .to_vec(),
                backend: Some(b),
                own: false,
            });
        }
        // ex8's structure on two event bases, one per thread, sharing the port
        // (`--threads 2`, SO_REUSEPORT): counts add up both threads' work.
        v.push(Server {
            key: "ex8t2-epoll".into(),
            label: "ex8-server --threads 2 (epoll)".into(),
            program: ex8.clone(),
            args: [
                "--port",
                "0",
                "--quiet",
                "--backlog",
                "4096",
                "--threads",
                "2",
                "--nodelay",
            ]
            .map(String::from)
            .to_vec(),
            backend: Some("epoll"),
            own: false,
        });
    } else {
        eprintln!("count: no ex8-server binary: its rows are skipped");
    }
    v
}

pub(super) fn selected(all: Vec<Server>, want: &[String]) -> Vec<Server> {
    if want.is_empty() {
        return all;
    }
    all.into_iter()
        .filter(|s| {
            want.iter()
                .any(|w| s.key == *w || s.key.starts_with(&format!("{w}-")))
        })
        .collect()
}

/// `--quick` without `--servers` runs the idle and bulk scenarios on one backend only (every
/// backend still runs in the ping-pong scenario), to stay well under a minute.
pub(super) fn quick_keeps(o: &Opts, s: &Server, backend: &str) -> bool {
    !o.quick || !o.servers.is_empty() || !matches!(s.backend, Some(b) if b != backend)
}
