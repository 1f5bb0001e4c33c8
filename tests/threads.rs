//! ex8-server with `--threads 2`: two event bases, one per thread, sharing the port through
//! `SO_REUSEPORT`. Many clients are served correctly wherever the kernel puts them, and the
//! server still stops cleanly on SIGTERM and SIGINT, closing the clients of both threads.

mod support;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;
use support::Server;

const BACKENDS: [&str; 3] = ["select", "poll", "epoll"];
const T: Duration = Duration::from_secs(30);

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(T)).unwrap();
    s
}

#[test]
fn ex8_with_two_threads_serves_300_clients_on_every_backend() {
    isys::raise_nofile_limit(4096).unwrap();
    for b in BACKENDS {
        let env = [("IOMUX_BACKEND", b)];
        let args = ["--quiet", "--backlog", "512", "--threads", "2"];
        let srv = Server::start("ex8-server", 0, &args, &env).unwrap();
        let clients: Vec<TcpStream> = (0..300).map(|_| connect(srv.port)).collect();
        for round in 0..3 {
            for (i, c) in clients.iter().enumerate() {
                let msg = format!("client {i} round {round}\n");
                (&mut &*c).write_all(msg.as_bytes()).unwrap();
            }
            for (i, c) in clients.iter().enumerate() {
                let msg = format!("client {i} round {round}\n");
                let mut buf = vec![0u8; msg.len()];
                (&mut &*c).read_exact(&mut buf).unwrap();
                assert_eq!(buf, msg.as_bytes(), "{b}");
            }
        }
        // Half-close: everything sent is echoed, then the server closes.
        let c = connect(srv.port);
        let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let writer = {
            let c = c.try_clone().unwrap();
            let data = data.clone();
            std::thread::spawn(move || {
                (&c).write_all(&data).unwrap();
                c.shutdown(Shutdown::Write).unwrap();
            })
        };
        let mut back = Vec::new();
        (&c).read_to_end(&mut back).unwrap();
        writer.join().unwrap();
        assert_eq!(back, data, "{b}: half-closed client");
        drop(clients);
        let (status, out, err) = srv.stop();
        assert!(
            status.is_some_and(|s| s.success()),
            "{b}: {status:?} {out:?} {err:?}"
        );
        assert!(!err.iter().any(|l| l.contains("panicked")), "{b}: {err:?}");
    }
}

#[test]
fn ex8_with_two_threads_closes_every_client_on_sigint() {
    let srv = Server::start("ex8-server", 0, &["--threads", "2"], &[]).unwrap();
    // Enough clients that both listeners, almost surely, get some.
    let clients: Vec<TcpStream> = (0..16).map(|_| connect(srv.port)).collect();
    for c in &clients {
        (&mut &*c).write_all(b"hello\n").unwrap();
        let mut buf = [0u8; 6];
        (&mut &*c).read_exact(&mut buf).unwrap();
    }
    isys::kill(srv.pid(), isys::Signal::SIGINT).unwrap();
    let (status, out, err) = srv.wait(T);
    assert!(status.is_some_and(|s| s.success()), "{status:?} {err:?}");
    let closed = out
        .iter()
        .filter(|l| l.starts_with("Closing a client connection to"))
        .count();
    assert_eq!(closed, clients.len(), "{out:?}");
    assert_eq!(out.last().map(String::as_str), Some("Server Exited"));
    for c in &clients {
        let mut rest = Vec::new();
        (&mut &*c).read_to_end(&mut rest).unwrap(); // EOF: the server closed us
    }
}
