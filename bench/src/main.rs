//! iolib-rs benchmarks, side by side with mio, tokio and a raw libc epoll server in one run.
//!
//! `cargo run --release -p bench` runs everything and prints markdown tables, also written to
//! `target/bench/results.md`: first counts over fixed work (instructions per round trip under
//! callgrind, syscalls per round trip under `strace -c`; see `count/`), then wall clock
//! (noisy on a shared machine). `-- count ...` runs only the counts (with options to pick
//! servers and scenarios), `-- wall` only the wall clock; `-- --quick` is a smoke test of the
//! harness (numbers too short to mean anything).
//!
//! Servers and the load generator are separate processes (this same binary with a
//! subcommand), so 10,000 connections fit the per-process fd limit on each side.

#[cfg(target_os = "linux")]
mod alloc;
#[cfg(target_os = "linux")]
mod count;
#[cfg(target_os = "linux")]
mod fixload;
#[cfg(target_os = "linux")]
mod load;
#[cfg(target_os = "linux")]
mod micro;
#[cfg(target_os = "linux")]
mod raw;
#[cfg(target_os = "linux")]
mod servers;
#[cfg(target_os = "linux")]
mod suite;

#[cfg(target_os = "linux")]
fn main() {
    suite::main();
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("bench: the suite measures against raw epoll, so it runs on Linux only");
    std::process::exit(2);
}
