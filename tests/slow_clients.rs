//! A client that trickles its line one byte at a time holds ex6 and ex7 (which keep the
//! tutorial's blocking read) for at most their bound on one call, however long it trickles:
//! another client's echo comes back within a second throughout.

mod support;

use std::io::Write;
use std::thread;
use std::time::{Duration, Instant};
use support::hostile::*;

fn trickle_does_not_hold_others(server: &'static str, backend: &'static str) {
    let mut srv = start(server, backend, &[]);
    let port = srv.port;
    let slow = connect(port);
    let trickler = thread::spawn(move || {
        // 4 s of one byte every 300 ms, never a line end.
        let end = Instant::now() + Duration::from_secs(4);
        while Instant::now() < end {
            if (&slow).write_all(b"x").is_err() {
                break;
            }
            thread::sleep(Duration::from_millis(300));
        }
        slow
    });
    thread::sleep(Duration::from_millis(200));
    let other = connect(port);
    let mut worst = Duration::ZERO;
    for i in 0..6 {
        let took = round_trip(&other, server, format!("hello {i}"), Duration::from_secs(3))
            .unwrap_or_else(|e| panic!("{server} on {backend}: {e}"));
        worst = worst.max(took);
        thread::sleep(Duration::from_millis(250));
    }
    drop(trickler.join());
    assert!(
        worst < Duration::from_secs(1),
        "{server} on {backend}: a trickling client held another's echo for {worst:?}"
    );
    assert_alive(&mut srv, "after the trickling client");
}

#[test]
fn ex6_bounds_a_trickling_client() {
    for backend in ["epoll", "poll", "select"] {
        trickle_does_not_hold_others("ex6-server", backend);
    }
}

#[test]
fn ex7_bounds_a_trickling_client() {
    for backend in ["epoll", "poll", "select"] {
        trickle_does_not_hold_others("ex7-server", backend);
    }
}
