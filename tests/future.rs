//! The examples for the tutorial's "Future Directions": UDP, IPv6, non-blocking connects,
//! urgent data. Real processes on loopback.

mod support;

use std::process::Command;
use std::time::Duration;
use support::{example, is_daytime, run_client, Input, Server};

const T: Duration = Duration::from_secs(30);

#[test]
fn udp_echo_client_and_server_on_every_backend() {
    for b in ["select", "poll", "epoll"] {
        let env = [("IOMUX_BACKEND", b)];
        let srv = Server::start("udp-echo-server", 0, &[], &env).unwrap();
        let lines: Vec<String> = (0..20).map(|i| format!("datagram {i}")).collect();
        let mut input = lines.join("\n").into_bytes();
        input.push(b'\n');
        let run = run_client(
            "udp-echo-client",
            "127.0.0.1",
            srv.port,
            Input::Batch(input),
            T,
            &env,
        );
        assert!(run.ok(), "{b}: {run:?}");
        assert_eq!(run.stdout, lines, "{b}");
        let (status, out, _) = srv.stop();
        assert!(status.is_some_and(|s| s.success()), "{b}: {status:?}");
        assert_eq!(
            out.iter()
                .filter(|l| l.starts_with("Echoing 10 bytes"))
                .count(),
            10,
            "{b}: {out:?}"
        );
    }
}

#[test]
fn udp_client_reports_a_refused_port() {
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let run = run_client(
        "udp-echo-client",
        "127.0.0.1",
        port,
        Input::Batch(b"anyone?\n".to_vec()),
        T,
        &[],
    );
    assert_eq!(run.status.and_then(|s| s.code()), Some(1), "{run:?}");
    assert!(
        run.stdout.iter().any(
            |l| l.starts_with("Connection refused to 127.0.0.1:") || l.starts_with("No answer")
        ),
        "{run:?}"
    );
}

#[test]
fn ipv6_daytime_serves_ipv6_and_mapped_ipv4_clients() {
    let srv = match Server::start("ipv6-daytime-server", 0, &[], &[]) {
        Ok(s) => s,
        Err(e) if e.contains("Address family not supported") => return, // no IPv6 here
        Err(e) => panic!("{e}"),
    };
    for host in ["::1", "127.0.0.1"] {
        let run = run_client(
            "ipv6-daytime-client",
            host,
            srv.port,
            Input::Nothing,
            T,
            &[],
        );
        assert!(run.ok(), "{host}: {run:?}");
        assert!(
            run.stdout.iter().any(|l| is_daytime(l)),
            "{host}: {:?}",
            run.stdout
        );
    }
    let (status, out, _) = srv.stop();
    assert!(status.is_some_and(|s| s.success()));
    assert!(
        out.iter()
            .any(|l| l.starts_with("Got a connection from [::1]:")),
        "{out:?}"
    );
    assert!(
        out.iter().any(|l| l.contains("(an IPv4 client, mapped)")),
        "{out:?}"
    );
}

#[test]
fn nonblocking_connect_to_several_servers_at_once() {
    let a = Server::start("ex2-server", 0, &["--quiet"], &[]).unwrap();
    let b = Server::start("ex8-server", 0, &["--quiet"], &[]).unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = Command::new(example("nonblocking-connect"))
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            &a.port.to_string(),
            "--port",
            &b.port.to_string(),
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    for p in [a.port, b.port] {
        assert!(
            text.contains(&format!("127.0.0.1:{p}: connected")),
            "{text}"
        );
    }
    let out = Command::new(example("nonblocking-connect"))
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            &a.port.to_string(),
            "--port",
            &closed.to_string(),
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!("127.0.0.1:{closed}: failed: connection refused")),
        "{text}"
    );
    assert!(
        text.contains(&format!("127.0.0.1:{}: connected", a.port)),
        "{text}"
    );
    a.stop();
    b.stop();
}

#[test]
fn urgent_data_is_received_apart_from_the_stream() {
    let out = Command::new(example("urgent-data")).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(r#"Normal data: "abcdef", urgent byte: "!""#),
        "{text}"
    );
}
