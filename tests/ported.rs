//! End-to-end tests of the ported IOLib programs beyond the tutorial: echo-server,
//! chat-server with chat-client, and ping. Real processes, loopback, port 0.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;
use support::{example, run_client, Input, Server};

const HOST: &str = "127.0.0.1";
const T: Duration = Duration::from_secs(30);

fn connect(port: u16) -> (TcpStream, BufReader<TcpStream>) {
    let s = TcpStream::connect((HOST, port)).unwrap();
    s.set_read_timeout(Some(T)).unwrap();
    let r = BufReader::new(s.try_clone().unwrap());
    (s, r)
}

fn line(r: &mut BufReader<TcpStream>) -> String {
    let mut l = String::new();
    r.read_line(&mut l).unwrap();
    l.trim_end_matches(['\r', '\n']).to_string()
}

fn stop_clean(server: Server) -> Vec<String> {
    let (status, out, err) = server.stop();
    assert!(
        status.is_some_and(|s| s.success()),
        "did not exit cleanly on SIGTERM: {status:?} {out:?} {err:?}"
    );
    assert!(!err.iter().any(|l| l.contains("panicked")), "{err:?}");
    out
}

#[test]
fn echo_server_echoes_lines_to_several_clients_and_survives_resets() {
    let srv = Server::start("echo-server", 0, &[], &[]).unwrap();
    let (mut a, mut ar) = connect(srv.port);
    let (mut b, mut br) = connect(srv.port);
    a.write_all(b"hello\r\nworld\r\n").unwrap();
    b.write_all("ünïcödé\r\n".as_bytes()).unwrap();
    assert_eq!(line(&mut ar), "hello");
    assert_eq!(line(&mut ar), "world");
    assert_eq!(line(&mut br), "ünïcödé");
    // A client that goes away mid-line takes no one else down.
    b.write_all(b"half a li").unwrap();
    drop((b, br));
    a.write_all(b"still here\r\n").unwrap();
    assert_eq!(line(&mut ar), "still here");
    let out = stop_clean(srv);
    assert!(out.iter().any(|l| l.starts_with("Accepted a client from")));
}

#[test]
fn chat_server_broadcasts_to_the_others_and_drops_idle_clients() {
    let srv = Server::start("chat-server", 0, &[], &[("CHAT_IDLE_SECONDS", "1.5")]).unwrap();
    let (mut a, mut ar) = connect(srv.port);
    let (mut b, mut br) = connect(srv.port);
    let joined = line(&mut ar);
    assert!(
        joined.starts_with("* 127.0.0.1:") && joined.ends_with(" joined"),
        "{joined}"
    );
    a.write_all(b"hi all\r\n").unwrap();
    let said = line(&mut br);
    assert!(
        said.starts_with("[127.0.0.1:") && said.ends_with("] hi all"),
        "{said}"
    );
    b.write_all(b"hello a\r\n").unwrap();
    assert!(line(&mut ar).ends_with("] hello a"));
    // b keeps talking, a falls silent and is told so after the idle timeout.
    for _ in 0..4 {
        std::thread::sleep(Duration::from_millis(500));
        b.write_all(b"tick\r\n").unwrap();
    }
    let mut a_lines = Vec::new();
    loop {
        let l = line(&mut ar);
        if l.is_empty() {
            break;
        }
        a_lines.push(l);
    }
    assert!(
        a_lines.iter().any(|l| l == "* idle too long, goodbye"),
        "{a_lines:?}"
    );
    // b hears that a left, and still gets the server's goodbye on SIGTERM.
    let mut heard_leave = false;
    while !heard_leave {
        heard_leave = line(&mut br).ends_with("left (idle)");
    }
    drop(a);
    let out = stop_clean(srv);
    let mut rest = Vec::new();
    loop {
        let l = line(&mut br);
        if l.is_empty() {
            break;
        }
        rest.push(l);
    }
    assert!(
        rest.iter().any(|l| l == "* server shutting down"),
        "{rest:?}"
    );
    assert!(
        out.iter().any(|l| l.ends_with("idle, disconnected")),
        "{out:?}"
    );
}

#[test]
fn chat_client_sends_typed_lines_and_prints_the_others() {
    let srv = Server::start("chat-server", 0, &[], &[]).unwrap();
    let (mut other, mut or) = connect(srv.port);
    let run = {
        let port = srv.port;
        let handle = std::thread::spawn(move || {
            run_client(
                "chat-client",
                HOST,
                port,
                Input::Batch(b"from the client\n".to_vec()),
                T,
                &[],
            )
        });
        let joined = line(&mut or);
        assert!(joined.ends_with(" joined"), "{joined}");
        assert!(line(&mut or).ends_with("] from the client"));
        other.write_all(b"answer\r\n").unwrap();
        std::thread::sleep(Duration::from_millis(300));
        drop(other);
        drop(stop_clean(srv));
        handle.join().unwrap()
    };
    assert!(run.ok(), "{run:?}");
    assert!(
        run.stdout.iter().any(|l| l.ends_with("] answer")),
        "{:?}",
        run.stdout
    );
}

#[test]
fn ping_gets_echo_replies_from_loopback_as_root() {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let out = Command::new(example("ping"))
        .args(["--host", HOST])
        .env("PING_COUNT", "2")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !root {
        // Without root, unless CAP_NET_RAW was given, ping must say why and fail cleanly.
        if !out.status.success() {
            assert!(stderr.contains("raw sockets need root"), "{stderr}");
            eprintln!("skipped: ping needs root or CAP_NET_RAW to reach 127.0.0.1");
            return;
        }
    }
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("bytes from 127.0.0.1: icmp_seq=1"),
        "{stdout}"
    );
    assert!(
        stdout.contains("2 packets transmitted, 2 received"),
        "{stdout}"
    );
}

#[test]
fn chat_server_is_not_held_up_by_a_flooder_or_a_client_that_never_reads() {
    let srv = Server::start("chat-server", 0, &["--quiet"], &[]).unwrap();
    let port = srv.port;
    // Reads everything it is sent, on its own thread, and reports when it hears the newcomer.
    let (listener, mut heard) = connect(port);
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || loop {
        let mut l = String::new();
        match heard.read_line(&mut l) {
            Ok(0) | Err(_) => break,
            Ok(_) if l.contains("can you hear me") => {
                let _ = tx.send(std::time::Instant::now());
                break;
            }
            Ok(_) => {}
        }
    });
    // Never reads: what is broadcast to it piles up until the server drops it.
    let (deaf, _) = connect(port);
    // Floods lines without reading, for a second.
    let (flooder, _) = connect(port);
    flooder.set_nonblocking(true).unwrap();
    let end = std::time::Instant::now() + Duration::from_secs(1);
    while std::time::Instant::now() < end {
        let _ = (&flooder).write(&b"flood flood flood flood\n".repeat(200));
    }
    // A newcomer's line reaches the listener promptly through all that.
    let (speaker, _) = connect(port);
    let start = std::time::Instant::now();
    (&speaker).write_all(b"can you hear me\n").unwrap();
    let heard_at = rx
        .recv_timeout(Duration::from_secs(5))
        .expect("the listener never heard the newcomer");
    assert!(
        heard_at - start < Duration::from_secs(2),
        "the line took {:?} through the flood",
        heard_at - start
    );
    drop((deaf, flooder, speaker, listener));
    let _ = reader.join();
    stop_clean(srv);
}

#[test]
fn echo_server_echoes_every_pipelined_line_and_chat_refuses_only_the_long_line() {
    // 200 lines in one write: more than one readiness' worth, all already buffered at once.
    let srv = Server::start("echo-server", 0, &["--quiet"], &[]).unwrap();
    let (s, mut r) = connect(srv.port);
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let batch: String = (0..200).map(|i| format!("pipelined {i}\n")).collect();
    (&s).write_all(batch.as_bytes()).unwrap();
    for i in 0..200 {
        assert_eq!(line(&mut r), format!("pipelined {i}"));
    }
    drop((s, r));
    stop_clean(srv);

    // A line too long for the chat ends its sender alone; the others keep talking.
    let srv = Server::start("chat-server", 0, &["--quiet"], &[]).unwrap();
    let (a, mut ar) = connect(srv.port);
    let (b, mut br) = connect(srv.port);
    let (c, _) = connect(srv.port);
    b.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let _ = line(&mut ar); // b joined
    let _ = line(&mut ar); // c joined
    let _ = line(&mut br); // c joined
    let mut long = "x".repeat(9000);
    long.push('\n');
    (&c).write_all(long.as_bytes()).unwrap();
    (&a).write_all(b"after the long line\n").unwrap();
    loop {
        let got = line(&mut br);
        assert!(!got.contains("xxxx"), "the over-long line was broadcast");
        if got.ends_with("after the long line") {
            break;
        }
    }
    drop((a, b, c));
    stop_clean(srv);
}
