//! The command line every example takes: IOLib's `*host*`/`*port*` defaults as `--host` and
//! `--port`, plus the servers' `--quiet`, `--backlog`, `--max-buffered`, `--threads` and
//! `--nodelay`.

use iolib::sockets;

/// IOLib's `*host*` and `*port*`.
pub const DEFAULT_HOST: &str = "localhost";
/// The tutorial's port.
pub const DEFAULT_PORT: u16 = 9999;

/// Command-line options shared by the examples.
#[derive(Debug, Clone)]
pub struct Args {
    pub host: String,
    pub port: u16,
    pub quiet: bool,
    /// The listen backlog (`--backlog`, servers only): the tutorial's 5 by default.
    pub backlog: i32,
    /// The bound on input all clients together may hold in unfinished lines
    /// (`--max-buffered BYTES`, servers only; 64 MiB by default).
    pub max_buffered: usize,
    /// Event bases, one per thread, sharing the port through `SO_REUSEPORT` (`--threads N`,
    /// ex6–ex8 only; 1 by default).
    pub threads: usize,
    /// `TCP_NODELAY` on every accepted client (`--nodelay`, ex6–ex8 only; off by default,
    /// as in the tutorial): with it, an echo goes out at once instead of waiting for the
    /// acknowledgement of the previous one (Nagle's algorithm).
    pub nodelay: bool,
}

/// The servers' default `--max-buffered`: 64 MiB of unfinished lines across all clients.
pub const DEFAULT_MAX_BUFFERED: usize = 64 << 20;

fn usage(prog: &str, server: bool, err: &str) -> ! {
    eprintln!("{prog}: {err}");
    if server {
        eprintln!(
            "usage: {prog} [--port PORT] [--quiet] [--backlog N] [--max-buffered BYTES] [--threads N] [--nodelay]   (PORT 0 = any free port)"
        );
    } else {
        eprintln!("usage: {prog} [--host HOST] [--port PORT]");
    }
    std::process::exit(2);
}

fn parse(server: bool) -> Args {
    let mut argv = std::env::args();
    let prog = argv.next().unwrap_or_else(|| "example".into());
    let prog = prog.rsplit('/').next().unwrap_or("example").to_string();
    let mut args = Args {
        host: DEFAULT_HOST.into(),
        port: DEFAULT_PORT,
        quiet: false,
        backlog: sockets::DEFAULT_BACKLOG,
        max_buffered: DEFAULT_MAX_BUFFERED,
        threads: 1,
        nodelay: false,
    };
    while let Some(a) = argv.next() {
        match a.as_str() {
            "--host" if !server => {
                args.host = argv
                    .next()
                    .unwrap_or_else(|| usage(&prog, server, "--host needs a value"))
            }
            "--port" => {
                let v = argv
                    .next()
                    .unwrap_or_else(|| usage(&prog, server, "--port needs a value"));
                args.port = v
                    .parse()
                    .unwrap_or_else(|_| usage(&prog, server, &format!("bad port {v:?}")));
            }
            "--quiet" if server => args.quiet = true,
            "--nodelay" if server => args.nodelay = true,
            "--backlog" if server => {
                let v = argv
                    .next()
                    .unwrap_or_else(|| usage(&prog, server, "--backlog needs a value"));
                args.backlog = v
                    .parse()
                    .unwrap_or_else(|_| usage(&prog, server, &format!("bad backlog {v:?}")));
            }
            "--max-buffered" if server => {
                let v = argv
                    .next()
                    .unwrap_or_else(|| usage(&prog, server, "--max-buffered needs a value"));
                args.max_buffered = v
                    .parse()
                    .unwrap_or_else(|_| usage(&prog, server, &format!("bad byte count {v:?}")));
            }
            "--threads" if server => {
                let v = argv
                    .next()
                    .unwrap_or_else(|| usage(&prog, server, "--threads needs a value"));
                args.threads =
                    v.parse().ok().filter(|&n| n >= 1).unwrap_or_else(|| {
                        usage(&prog, server, &format!("bad thread count {v:?}"))
                    });
            }
            "-h" | "--help" => usage(&prog, server, "help"),
            other => usage(&prog, server, &format!("unknown argument {other:?}")),
        }
    }
    args
}

/// `--host`, `--port` for clients.
pub fn client_args() -> Args {
    parse(false)
}

/// `--port`, `--quiet` for servers.
pub fn server_args() -> Args {
    parse(true)
}
