//! Per-connection logging: the `say!` macro (off with `--quiet`), `print_flush`, and the
//! `Peer` a server's messages name.

use iolib::prelude::*;
use std::io::Write;

/// Lisp's `(format t ...)` for per-connection logging: off with `--quiet`.
#[macro_export]
macro_rules! say {
    ($args:expr, $($t:tt)*) => {
        if !$args.quiet {
            println!($($t)*);
        }
    };
}

/// `print!` then flush (Lisp's `format` without `~%` followed by `finish-output`).
pub fn print_flush(s: &str) {
    print!("{s}");
    let _ = std::io::stdout().flush();
}

/// Who a connection is with, for the servers' messages.
#[derive(Debug, Clone)]
pub struct Peer {
    pub who: Address,
    pub port: u16,
    /// Per-connection logging off (`--quiet`).
    pub quiet: bool,
}

impl Peer {
    /// Prints a per-connection log line unless `--quiet`.
    #[inline]
    pub fn say(&self, msg: std::fmt::Arguments<'_>) {
        if !self.quiet {
            println!("{msg}");
        }
    }
}
