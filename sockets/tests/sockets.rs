//! The sockets layer on real sockets over loopback (port 0 everywhere).

use sockets::*;
use std::io::{BufRead, Read, Write};
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

fn listener(format: ExternalFormat) -> PassiveSocket {
    make_socket()
        .connect(Connect::Passive)
        .local_host("127.0.0.1")
        .local_port(0)
        .external_format(format)
        .build_passive()
        .unwrap()
}

fn connected_pair(format: ExternalFormat) -> (ActiveSocket, ActiveSocket) {
    let l = listener(format);
    let port = l.local_port().unwrap();
    let c = make_socket()
        .remote_host("127.0.0.1")
        .remote_port(port)
        .external_format(format)
        .build_active()
        .unwrap();
    let s = l
        .accept_connection(Wait::For(Duration::from_secs(5)))
        .unwrap()
        .unwrap();
    (c, s)
}

fn closed_port() -> u16 {
    let l = listener(ExternalFormat::default());
    l.local_port().unwrap()
}

#[test]
fn tcp_client_server_names_and_lines() {
    let l = listener(ExternalFormat::UTF8_CRLF);
    let (addr, port) = l.local_name().unwrap();
    assert_eq!(addr, Address::Ipv4(IPV4_LOOPBACK));
    assert_ne!(port, 0);
    let server = thread::spawn(move || {
        let mut c = l.accept_connection(true).unwrap().unwrap();
        let line = c.read_line().unwrap();
        writeln!(c, "echo: {line}").unwrap();
        c.finish_output().unwrap();
        c.remote_name().unwrap()
    });
    let mut c = make_socket()
        .remote_host("localhost")
        .remote_port(port)
        .external_format(ExternalFormat::UTF8_CRLF)
        .build_active()
        .unwrap();
    assert!(c.socket_connected_p());
    assert_eq!(c.remote_port().unwrap(), port);
    c.write_line("héllo").unwrap();
    c.finish_output().unwrap();
    assert_eq!(c.read_line().unwrap(), "echo: héllo");
    let seen_by_server = server.join().unwrap();
    assert_eq!(seen_by_server, c.local_name().unwrap());
    assert!(matches!(c.read_line(), Err(Error::EndOfFile)));
}

#[test]
fn unknown_keyword_and_bad_combinations_are_errors() {
    let e = make_socket().keyword(":frobnicate", "t").unwrap_err();
    assert!(
        matches!(e, Error::InvalidArgument(ref m) if m.contains("frobnicate")),
        "{e}"
    );
    assert!(make_socket().keyword("type", "sequenced").is_err());
    assert!(make_socket().keyword("local-port", "99999").is_err());
    let ok = make_socket()
        .keywords([
            (":address-family", ":internet"),
            (":type", ":stream"),
            (":connect", ":passive"),
            (":local-host", "127.0.0.1"),
            (":local-port", "0"),
            (":external-format", "utf-8:crlf"),
        ])
        .unwrap()
        .build()
        .unwrap();
    assert!(matches!(ok, Socket::Passive(_)));
    // A passive socket with a remote host is refused.
    let e = make_socket()
        .connect(Connect::Passive)
        .remote_host("127.0.0.1")
        .build()
        .unwrap_err();
    assert!(matches!(e, Error::InvalidArgument(_)));
    let e = make_socket()
        .connect(Connect::Passive)
        .kind(SocketKind::Datagram)
        .build()
        .unwrap_err();
    assert!(matches!(e, Error::InvalidArgument(_)));
    // An unparsable host name is a resolver error, not a panic.
    let e = make_socket()
        .remote_host("no-such-host.invalid")
        .remote_port(1)
        .build()
        .unwrap_err();
    assert!(
        matches!(e, Error::Resolver { .. } | Error::InvalidAddress(_)),
        "{e}"
    );
}

#[test]
fn bind_to_used_port_is_address_in_use() {
    let l = listener(ExternalFormat::default());
    let port = l.local_port().unwrap();
    let e = make_socket()
        .connect(Connect::Passive)
        .local_host("127.0.0.1")
        .local_port(port)
        .build()
        .unwrap_err();
    assert!(matches!(e, Error::AddressInUse), "{e}");
    assert_eq!(e.errno(), Some(Errno::EADDRINUSE));
}

#[test]
fn option_round_trips_change_the_value() {
    let (c, _s) = connected_pair(ExternalFormat::default());
    macro_rules! round_trip {
        ($name:ident, $new:expr) => {{
            let before = c.socket_option(OptionName::$name).unwrap();
            let new = SocketOption::$name($new);
            assert_ne!(before, new, "initial value already {:?}", new);
            c.set_socket_option(new.clone()).unwrap();
            assert_eq!(c.socket_option(OptionName::$name).unwrap(), new);
        }};
    }
    round_trip!(KeepAlive, true);
    round_trip!(TcpNodelay, true);
    round_trip!(OobInline, true);
    round_trip!(Linger, Some(Duration::from_secs(3)));
    round_trip!(ReceiveTimeout, Some(Duration::from_millis(1500)));
    round_trip!(SendTimeout, Some(Duration::from_secs(2)));
    round_trip!(DontRoute, true);
    #[cfg(target_os = "linux")]
    {
        round_trip!(TcpKeepIdle, 77);
        round_trip!(TcpKeepInterval, 13);
        round_trip!(TcpKeepCount, 4);
        round_trip!(TcpCork, true);
    }
    // Buffer sizes: the kernel may round; it must change.
    let before = c.socket_option(OptionName::ReceiveBuffer).unwrap();
    c.set_socket_option(SocketOption::ReceiveBuffer(200_000))
        .unwrap();
    assert_ne!(c.socket_option(OptionName::ReceiveBuffer).unwrap(), before);
    // Read-only options.
    assert_eq!(
        c.socket_option(OptionName::Type).unwrap(),
        SocketOption::Type(isys::libc::SOCK_STREAM)
    );
    assert_eq!(
        c.socket_option(OptionName::Error).unwrap(),
        SocketOption::Error(None)
    );
    assert!(c.set_socket_option(SocketOption::Type(1)).is_err());
    let l = listener(ExternalFormat::default());
    assert_eq!(
        l.socket_option(OptionName::AcceptConnections).unwrap(),
        SocketOption::AcceptConnections(true)
    );
    assert_eq!(
        l.socket_option(OptionName::ReuseAddress).unwrap(),
        SocketOption::ReuseAddress(true)
    );
}

#[test]
fn udp_send_to_receive_from_both_ways() {
    let a = make_socket()
        .local_host("127.0.0.1")
        .local_port(0)
        .build_datagram()
        .unwrap();
    let b = make_socket()
        .local_host("127.0.0.1")
        .local_port(0)
        .build_datagram()
        .unwrap();
    let (a_addr, a_port) = a.local_name().unwrap();
    let (b_addr, b_port) = b.local_name().unwrap();
    a.send_to(b"ping", Some((&b_addr, b_port)), MsgFlags::empty())
        .unwrap();
    assert!(b.wait_readable(Some(Duration::from_secs(5))).unwrap());
    let mut buf = [0u8; 64];
    let (n, from) = b.receive_from(&mut buf, MsgFlags::empty()).unwrap();
    assert_eq!(&buf[..n], b"ping");
    assert_eq!(from, Some((a_addr.clone(), a_port)));
    b.send_to(b"pong", Some((&a_addr, a_port)), MsgFlags::empty())
        .unwrap();
    assert!(a.wait_readable(Some(Duration::from_secs(5))).unwrap());
    let (n, from) = a.receive_from(&mut buf, MsgFlags::empty()).unwrap();
    assert_eq!(&buf[..n], b"pong");
    assert_eq!(from, Some((b_addr.clone(), b_port)));
    // Connected datagram socket, then disconnect.
    a.connect(&b_addr, b_port).unwrap();
    assert!(a.socket_connected_p());
    a.send_to(b"again", None, MsgFlags::empty()).unwrap();
    assert!(b.wait_readable(Some(Duration::from_secs(5))).unwrap());
    assert_eq!(b.receive_from(&mut buf, MsgFlags::empty()).unwrap().0, 5);
    a.disconnect().unwrap();
    assert!(!a.socket_connected_p());
    // Nothing waiting: EWOULDBLOCK reaches the caller as a matchable errno.
    let e = b.receive_from(&mut buf, MsgFlags::empty()).unwrap_err();
    assert!(e.is_would_block(), "{e}");
}

fn temp_path(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("iolib-test-{}-{tag}.sock", std::process::id()))
}

#[test]
fn local_stream_and_datagram_sockets() {
    let path = temp_path("stream");
    let _ = std::fs::remove_file(&path);
    let l = make_socket()
        .family(AddressFamily::Local)
        .connect(Connect::Passive)
        .local_filename(LocalAddress::path(&path))
        .build_passive()
        .unwrap();
    assert_eq!(l.local_filename().unwrap(), LocalAddress::path(&path));
    let mut c = make_socket()
        .family(AddressFamily::Local)
        .remote_filename(LocalAddress::path(&path))
        .build_active()
        .unwrap();
    let mut s = l
        .accept_connection(Wait::For(Duration::from_secs(5)))
        .unwrap()
        .unwrap();
    c.write_line("over a local socket").unwrap();
    c.finish_output().unwrap();
    assert_eq!(s.read_line().unwrap(), "over a local socket");
    assert_eq!(c.remote_filename().unwrap(), LocalAddress::path(&path));
    std::fs::remove_file(&path).unwrap();

    let dpath = temp_path("dgram");
    let _ = std::fs::remove_file(&dpath);
    let d = make_socket()
        .family(AddressFamily::Local)
        .local_filename(LocalAddress::path(&dpath))
        .build_datagram()
        .unwrap();
    let sender = make_socket()
        .family(AddressFamily::Local)
        .build_datagram()
        .unwrap();
    sender
        .send_to(
            b"local dgram",
            Some((&Address::Local(LocalAddress::path(&dpath)), 0)),
            MsgFlags::empty(),
        )
        .unwrap();
    assert!(d.wait_readable(Some(Duration::from_secs(5))).unwrap());
    let mut buf = [0u8; 32];
    let (n, _) = d.receive_from(&mut buf, MsgFlags::empty()).unwrap();
    assert_eq!(&buf[..n], b"local dgram");
    std::fs::remove_file(&dpath).unwrap();
}

#[cfg(target_os = "linux")]
#[test]
fn abstract_local_names() {
    let name = format!("iolib-abstract-{}", std::process::id());
    let l = make_socket()
        .family(AddressFamily::Local)
        .connect(Connect::Passive)
        .local_filename(LocalAddress::abstract_name(&name))
        .build_passive()
        .unwrap();
    let got = l.local_filename().unwrap();
    assert!(got.is_abstract);
    assert_eq!(got.name, name.as_bytes());
    let mut c = make_socket()
        .family(AddressFamily::Local)
        .remote_filename(LocalAddress::abstract_name(&name))
        .build_active()
        .unwrap();
    let mut s = l.accept_connection(true).unwrap().unwrap();
    writeln!(c, "abstract").unwrap();
    c.finish_output().unwrap();
    assert_eq!(s.read_line().unwrap(), "abstract");
}

#[test]
fn socket_open_p_after_close_and_double_close() {
    let (mut c, _s) = connected_pair(ExternalFormat::default());
    assert!(c.socket_open_p());
    assert!(c.socket_os_fd().is_some());
    c.close().unwrap();
    assert!(!c.socket_open_p());
    assert_eq!(c.socket_os_fd(), None);
    c.close().unwrap();
    c.close_abort();
    assert!(matches!(c.read_line(), Err(Error::Closed)));
    assert!(matches!(c.write_line("x"), Err(Error::Closed)));
    assert!(matches!(c.local_name(), Err(Error::Closed)));
    // AsFd on a closed socket is a placeholder that fails every operation.
    assert!(isys::send(c.as_fd(), b"x", MsgFlags::empty()).is_err());
}

#[test]
fn lookups() {
    let h = lookup_hostname("localhost").unwrap();
    assert!(h.address.is_loopback(), "{h:?}");
    let h = lookup_hostname("127.0.0.1").unwrap();
    assert_eq!(h.address, Address::Ipv4(IPV4_LOOPBACK));
    assert!(matches!(
        lookup_hostname("no-such-host.invalid"),
        Err(Error::Resolver { .. })
    ));
    if std::path::Path::new("/etc/services").exists() {
        let s = lookup_service("ssh", "tcp").unwrap();
        assert_eq!(s.port, 22);
        assert_eq!(lookup_service("80", "tcp").unwrap().name, "http");
        assert!(lookup_service("no-such-service", "").is_err());
    }
    if std::path::Path::new("/etc/protocols").exists() {
        assert_eq!(lookup_protocol("tcp").unwrap().1, 6);
        assert_eq!(lookup_protocol("17").unwrap().0, "udp");
        assert!(lookup_protocol("nope").is_err());
    }
    let ifs = list_network_interfaces().unwrap();
    let lo = if cfg!(target_os = "linux") {
        "lo"
    } else {
        "lo0"
    };
    assert!(ifs.iter().any(|(_, n)| n == lo), "{ifs:?}");
}

// ----- line I/O ------------------------------------------------------------------------------

fn parse_name(file: &str) -> (String, ExternalFormat) {
    let stem = file.trim_end_matches(".txt");
    let mut parts: Vec<&str> = stem.rsplitn(3, '_').collect();
    parts.reverse();
    let (text, enc, eol) = (parts[0], parts[1], parts[2]);
    let f = ExternalFormat::parse(&format!("{enc}:{eol}")).unwrap();
    (text.to_string(), f)
}

fn read_all_lines(bytes: &[u8], format: ExternalFormat) -> Vec<String> {
    let (mut a, mut b) = make_socket_pair(format).unwrap();
    let data = bytes.to_vec();
    let writer = thread::spawn(move || {
        a.write_bytes(&data).unwrap();
        a.close().unwrap();
    });
    let mut lines = Vec::new();
    loop {
        match b.read_line() {
            Ok(l) => lines.push(l),
            Err(Error::EndOfFile) => break,
            Err(e) => panic!("{e}"),
        }
    }
    writer.join().unwrap();
    lines
}

fn write_all_lines(lines: &[String], format: ExternalFormat, final_newline: bool) -> Vec<u8> {
    let (mut a, mut b) = make_socket_pair(format).unwrap();
    let lines = lines.to_vec();
    let writer = thread::spawn(move || {
        for (i, l) in lines.iter().enumerate() {
            if i + 1 < lines.len() || final_newline {
                a.write_line(l).unwrap();
            } else {
                a.write_str(l).unwrap();
            }
        }
        a.close().unwrap();
    });
    let mut out = Vec::new();
    b.read_to_end(&mut out).unwrap();
    writer.join().unwrap();
    out
}

#[test]
fn stream_test_data_round_trips_between_formats() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    assert!(files.len() >= 21, "{files:?}");
    let mut compared = 0;
    for src in &files {
        let (text, sfmt) = parse_name(src);
        let bytes = std::fs::read(dir.join(src)).unwrap();
        let final_newline =
            bytes.last() == Some(&sfmt.line_end.bytes()[sfmt.line_end.bytes().len() - 1]);
        let lines = read_all_lines(&bytes, sfmt);
        assert!(!lines.is_empty(), "{src}");
        for dst in &files {
            let (dtext, dfmt) = parse_name(dst);
            if dtext != text {
                continue;
            }
            let expected = std::fs::read(dir.join(dst)).unwrap();
            let got = write_all_lines(&lines, dfmt, final_newline);
            assert!(got == expected, "{src} -> {dst}: output differs");
            compared += 1;
        }
    }
    assert!(compared >= 50, "only {compared} comparisons");
}

#[test]
fn invalid_input_is_an_encoding_error_that_says_where() {
    let (mut a, mut b) = make_socket_pair(ExternalFormat::UTF8_LF).unwrap();
    a.write_bytes(b"fine\nbro\xffken\nafter\n").unwrap();
    a.finish_output().unwrap();
    assert_eq!(b.read_line().unwrap(), "fine");
    match b.read_line() {
        Err(Error::Encoding { line, offset, .. }) => assert_eq!((line, offset), (2, 3)),
        other => panic!("{other:?}"),
    }
    assert_eq!(b.read_line().unwrap(), "after");
    // Unencodable output.
    let (mut c, _d) = make_socket_pair(ExternalFormat::new(Encoding::Ascii, LineEnd::Lf)).unwrap();
    assert!(matches!(c.write_line("naïve"), Err(Error::Encoding { .. })));
    assert_eq!(c.buffered_output(), 0);
}

#[test]
fn a_line_split_across_many_tiny_writes() {
    let (mut a, mut b) = make_socket_pair(ExternalFormat::UTF8_CRLF).unwrap();
    let writer = thread::spawn(move || {
        for byte in "spread über many writes\r\n".bytes() {
            a.write_bytes(&[byte]).unwrap();
            a.finish_output().unwrap();
            thread::sleep(Duration::from_micros(200));
        }
        a
    });
    assert_eq!(b.read_line().unwrap(), "spread über many writes");
    drop(writer.join().unwrap());
}

#[test]
fn cr_lf_split_across_reads() {
    let (mut a, mut b) = make_socket_pair(ExternalFormat::UTF8_CRLF).unwrap();
    a.write_bytes(b"first\r").unwrap();
    a.finish_output().unwrap();
    let writer = thread::spawn(move || {
        thread::sleep(Duration::from_millis(50));
        a.write_bytes(b"\nsecond\nthird\r\n").unwrap();
        a.finish_output().unwrap();
        a
    });
    assert_eq!(b.read_line().unwrap(), "first");
    assert_eq!(b.read_line().unwrap(), "second"); // bare LF accepted in CRLF mode
    assert_eq!(b.read_line().unwrap(), "third");
    drop(writer.join().unwrap());
}

#[test]
fn line_too_long_then_next_line_is_readable() {
    let (mut a, mut b) = make_socket_pair(ExternalFormat::UTF8_LF).unwrap();
    b.set_max_line_length(1000);
    let writer = thread::spawn(move || {
        a.write_bytes(&vec![b'x'; 100_000]).unwrap();
        a.write_bytes(b"\nshort\n").unwrap();
        a.finish_output().unwrap();
        a
    });
    assert!(matches!(
        b.read_line(),
        Err(Error::LineTooLong { limit: 1000 })
    ));
    assert_eq!(b.read_line().unwrap(), "short");
    let _a = writer.join().unwrap();
    // A line that fits in the buffer but is over the limit.
    let (mut c, mut d) = make_socket_pair(ExternalFormat::UTF8_LF).unwrap();
    d.set_max_line_length(10);
    c.write_bytes(b"01234567890123\nok\n").unwrap();
    c.finish_output().unwrap();
    assert!(matches!(d.read_line(), Err(Error::LineTooLong { .. })));
    assert_eq!(d.read_line().unwrap(), "ok");
}

#[test]
fn end_of_file_vs_last_line_without_newline() {
    let (mut a, mut b) = make_socket_pair(ExternalFormat::UTF8_LF).unwrap();
    a.write_bytes(b"one\ntwo").unwrap();
    a.close().unwrap();
    assert_eq!(b.read_line().unwrap(), "one");
    assert_eq!(b.read_line().unwrap(), "two");
    assert!(matches!(b.read_line(), Err(Error::EndOfFile)));
    assert!(matches!(b.read_line(), Err(Error::EndOfFile)));
    assert!(matches!(b.read_char(), Err(Error::EndOfFile)));
}

#[test]
fn read_char_and_std_io_traits() {
    let (mut a, mut b) = make_socket_pair(ExternalFormat::UTF8_CRLF).unwrap();
    a.write_bytes("é\r\nrest\nmore".as_bytes()).unwrap();
    a.close().unwrap();
    assert_eq!(b.read_char().unwrap(), 'é');
    assert_eq!(b.read_char().unwrap(), '\n');
    let mut line = String::new();
    BufRead::read_line(&mut b, &mut line).unwrap();
    assert_eq!(line, "rest\n");
    let mut rest = String::new();
    b.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "more");
}

#[test]
fn writing_after_the_peer_closed_is_hangup() {
    let (mut c, s) = connected_pair(ExternalFormat::default());
    drop(s);
    let deadline = Instant::now() + Duration::from_secs(5);
    let err = loop {
        let r = c
            .write_line("are you there?")
            .and_then(|_| c.finish_output());
        match r {
            Ok(()) if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
            Ok(()) => panic!("writes to a closed peer kept succeeding"),
            Err(e) => break e,
        }
    };
    assert!(
        matches!(err, Error::Hangup | Error::ConnectionReset),
        "{err:?}"
    );
    // The errno can be matched like IOLib's isys:epipe.
    assert!(matches!(
        err.errno(),
        Some(Errno::EPIPE) | Some(Errno::ECONNRESET)
    ));
}

#[test]
fn peer_abort_is_connection_reset() {
    let (mut c, mut s) = connected_pair(ExternalFormat::default());
    s.set_socket_option(SocketOption::Linger(Some(Duration::ZERO)))
        .unwrap();
    c.write_line("unread data").unwrap();
    c.finish_output().unwrap();
    thread::sleep(Duration::from_millis(50));
    s.close_abort(); // RST because of SO_LINGER 0 (and unread data)
    thread::sleep(Duration::from_millis(50));
    let e = c.read_line().unwrap_err();
    assert!(matches!(e, Error::ConnectionReset), "{e:?}");
}

#[test]
fn connection_refused_on_a_closed_port() {
    let port = closed_port();
    let e = make_socket()
        .remote_host("127.0.0.1")
        .remote_port(port)
        .build()
        .unwrap_err();
    assert!(matches!(e, Error::ConnectionRefused), "{e:?}");
    assert_eq!(e.errno(), Some(Errno::ECONNREFUSED));
}

#[test]
fn non_blocking_accept_returns_none() {
    let l = listener(ExternalFormat::default());
    assert!(l.accept_connection(Wait::No).unwrap().is_none());
    let t = Instant::now();
    assert!(l
        .accept_connection(Wait::For(Duration::from_millis(100)))
        .unwrap()
        .is_none());
    assert!(t.elapsed() >= Duration::from_millis(100));
}

#[test]
fn non_blocking_connect_in_progress_then_done() {
    let l = listener(ExternalFormat::default());
    let (addr, port) = l.local_name().unwrap();
    let mut c = ActiveSocket::new(Family::Ipv4, ExternalFormat::default()).unwrap();
    let done = c.connect(&addr, port, Wait::No).unwrap();
    if !done {
        assert!(c.wait_writable(Some(Duration::from_secs(5))).unwrap());
    }
    assert!(l
        .accept_connection(Wait::For(Duration::from_secs(5)))
        .unwrap()
        .is_some());
    assert!(c.socket_connected_p());
}

#[test]
fn connect_with_timeout_to_a_full_backlog_errors_in_about_that_time() {
    // A listener that never accepts, with backlog 0: once its queue is full, further SYNs are
    // dropped and connects hang like a blackhole.
    let l = make_socket()
        .connect(Connect::Passive)
        .local_host("127.0.0.1")
        .local_port(0)
        .backlog(0)
        .build_passive()
        .unwrap();
    let (addr, port) = l.local_name().unwrap();
    let mut fillers = Vec::new();
    let timeout = Duration::from_millis(300);
    for _ in 0..64 {
        let mut c = ActiveSocket::new(Family::Ipv4, ExternalFormat::default()).unwrap();
        let start = Instant::now();
        match c.connect(&addr, port, Wait::For(timeout)) {
            Ok(_) => fillers.push(c),
            Err(Error::ConnectionTimeout) => {
                let took = start.elapsed();
                assert!(took >= timeout, "gave up early: {took:?}");
                assert!(took < timeout * 5, "took far too long: {took:?}");
                return;
            }
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    panic!(
        "the backlog never filled after {} connections",
        fillers.len()
    );
}

#[test]
fn fd_passing_over_local_sockets() {
    let (a, mut b) = make_socket_pair(ExternalFormat::default()).unwrap();
    let (r, w) = isys::pipe(false).unwrap();
    a.send_file_descriptor(w.as_fd()).unwrap();
    drop(w);
    let got = b.receive_file_descriptor().unwrap();
    assert!(isys::is_cloexec(&got).unwrap());
    isys::write(&got, b"via SCM_RIGHTS").unwrap();
    drop(got);
    let mut buf = [0u8; 32];
    let n = isys::read(&r, &mut buf).unwrap();
    assert_eq!(&buf[..n], b"via SCM_RIGHTS");
    // Over TCP it is a clear error.
    let (c, _s) = connected_pair(ExternalFormat::default());
    assert!(matches!(
        c.send_file_descriptor(r.as_fd()),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn send_to_and_receive_from_on_streams_with_ranges() {
    let (c, mut s) = connected_pair(ExternalFormat::default());
    let data = b"0123456789";
    assert_eq!(
        c.send_to_range(data, 2, Some(5), MsgFlags::empty())
            .unwrap(),
        3
    );
    assert!(matches!(
        c.send_to_range(data, 5, Some(2), MsgFlags::empty()),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        c.send_to_range(data, 0, Some(11), MsgFlags::empty()),
        Err(Error::InvalidArgument(_))
    ));
    assert!(s.wait_readable(Some(Duration::from_secs(5))).unwrap());
    let mut buf = [0u8; 8];
    let n = s
        .receive_from_range(&mut buf, 1, None, MsgFlags::empty())
        .unwrap();
    assert_eq!(&buf[1..1 + n], b"234");
    assert!(s
        .receive_from(&mut buf, MsgFlags::empty())
        .unwrap_err()
        .is_would_block());
    drop(c);
    assert!(s.wait_readable(Some(Duration::from_secs(5))).unwrap());
    assert_eq!(s.receive_from(&mut buf, MsgFlags::empty()).unwrap(), 0);
}

#[test]
fn half_close_delivers_everything_before_eof() {
    let (mut c, mut s) = connected_pair(ExternalFormat::UTF8_CRLF);
    for i in 0..1000 {
        writeln!(c, "line {i}").unwrap();
    }
    c.shutdown(false, true).unwrap();
    for i in 0..1000 {
        assert_eq!(s.read_line().unwrap(), format!("line {i}"));
    }
    assert!(matches!(s.read_line(), Err(Error::EndOfFile)));
    // The other direction still works.
    s.write_line("still here").unwrap();
    s.close().unwrap();
    assert_eq!(c.read_line().unwrap(), "still here");
}

#[test]
fn ipv6_dual_stack_and_std_conversions() {
    let l = match make_socket()
        .connect(Connect::Passive)
        .ipv6(Ipv6Mode::Yes)
        .local_host("::")
        .local_port(0)
        .build_passive()
    {
        Ok(l) => l,
        Err(Error::AddressFamilyNotSupported) | Err(Error::AddressNotAvailable) => return,
        Err(e) => panic!("{e}"),
    };
    let port = l.local_port().unwrap();
    // An IPv4 client reaches the dual-stack listener.
    let std_client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut c = ActiveSocket::from(std_client);
    let mut s = l.accept_connection(true).unwrap().unwrap();
    let peer = s.remote_host().unwrap();
    assert!(
        address_equal(&peer, &Address::Ipv4(IPV4_LOOPBACK)),
        "{peer}"
    );
    c.write_line("v4 to v6").unwrap();
    c.finish_output().unwrap();
    assert_eq!(s.read_line().unwrap(), "v4 to v6");
    let mut back = std::net::TcpStream::try_from(s).unwrap();
    back.write_all(b"std\n").unwrap();
    assert_eq!(c.read_line().unwrap(), "std");
    let std_listener: std::net::TcpListener = l.into();
    assert_eq!(std_listener.local_addr().unwrap().port(), port);
}

#[test]
fn make_socket_from_fd_detects_the_kind() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let s = make_socket_from_fd(l.into(), ExternalFormat::default()).unwrap();
    let Socket::Passive(p) = s else {
        panic!("{s:?}")
    };
    assert_eq!(p.local_port().unwrap(), port);
    let u = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    assert!(matches!(
        make_socket_from_fd(u.into(), ExternalFormat::default()).unwrap(),
        Socket::Datagram(_)
    ));
    let c = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    assert!(matches!(
        make_socket_from_fd(c.into(), ExternalFormat::default()).unwrap(),
        Socket::Active(_)
    ));
}

#[test]
fn read_timeout_is_an_error_and_the_socket_stays_usable() {
    let (mut a, mut b) = make_socket_pair(ExternalFormat::default()).unwrap();
    b.set_read_timeout(Some(Duration::from_millis(100)));
    let t = Instant::now();
    assert!(matches!(b.read_line(), Err(Error::Timeout(_))));
    assert!(t.elapsed() >= Duration::from_millis(100));
    a.write_line("late").unwrap();
    a.finish_output().unwrap();
    assert_eq!(b.read_line().unwrap(), "late");
}

#[test]
fn read_line_no_hang_only_returns_complete_lines() {
    let (mut a, mut b) = make_socket_pair(ExternalFormat::UTF8_CRLF).unwrap();
    assert_eq!(b.read_line_no_hang().unwrap(), None);
    a.write_bytes(b"one\r\ntwo\r\nthr").unwrap();
    a.finish_output().unwrap();
    assert_eq!(b.read_line().unwrap(), "one");
    assert!(b.has_buffered_line());
    assert_eq!(b.read_line_no_hang().unwrap().as_deref(), Some("two"));
    assert!(!b.has_buffered_line());
    assert_eq!(b.read_line_no_hang().unwrap(), None);
    a.write_bytes(b"ee").unwrap();
    a.close().unwrap();
    // The last line without a line end comes at end of file, then EndOfFile.
    let mut last = None;
    for _ in 0..100 {
        last = b.read_line_no_hang().unwrap();
        if last.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(last.as_deref(), Some("three"));
    assert!(matches!(b.read_line_no_hang(), Err(Error::EndOfFile)));
}

#[test]
fn waiting_on_a_datagram_socket_with_a_pending_icmp_error_names_it() {
    let closed = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let d = make_socket()
        .kind(SocketKind::Datagram)
        .remote_host("127.0.0.1")
        .remote_port(closed)
        .build_datagram()
        .unwrap();
    d.send_to(b"anyone?", None, MsgFlags::empty()).unwrap();
    let e = d.wait_readable(Some(Duration::from_secs(5))).unwrap_err();
    assert!(matches!(e, Error::ConnectionRefused), "{e:?}");
}

#[cfg(target_os = "linux")]
#[test]
fn linux_tcp_and_socket_options_round_trip() {
    let (c, _s) = connected_pair(ExternalFormat::default());
    macro_rules! round_trip {
        ($sock:expr, $name:ident, $new:expr) => {{
            let before = $sock.socket_option(OptionName::$name).unwrap();
            let new = SocketOption::$name($new);
            assert_ne!(before, new, "initial value already {:?}", new);
            $sock.set_socket_option(new.clone()).unwrap();
            assert_eq!($sock.socket_option(OptionName::$name).unwrap(), new);
        }};
    }
    round_trip!(c, TcpLinger2, 17);
    round_trip!(c, TcpSynCount, 3);
    round_trip!(c, Priority, 4);
    round_trip!(c, ReusePort, true);
    round_trip!(c, ReceiveLowWater, 16);
    let l = listener(ExternalFormat::default());
    round_trip!(l, TcpDeferAccept, 7); // the kernel keeps whole retransmission periods: 1+2+4 s
    let d = make_socket()
        .kind(SocketKind::Datagram)
        .build_datagram()
        .unwrap();
    round_trip!(d, Broadcast, true);
    // Values the kernel adjusts: set, then read back something changed and sane.
    let mss = c.socket_option(OptionName::TcpMaxSegment).unwrap();
    assert!(
        matches!(mss, SocketOption::TcpMaxSegment(n) if n > 0),
        "{mss:?}"
    );
    c.set_socket_option(SocketOption::TcpWindowClamp(40_000))
        .unwrap();
    assert!(matches!(
        c.socket_option(OptionName::TcpWindowClamp).unwrap(),
        SocketOption::TcpWindowClamp(n) if n > 0
    ));
    c.set_socket_option(SocketOption::TcpQuickAck(true))
        .unwrap();
    assert!(matches!(
        c.socket_option(OptionName::TcpQuickAck).unwrap(),
        SocketOption::TcpQuickAck(_)
    ));
    // Binding to the loopback device and back.
    c.set_socket_option(SocketOption::BindToDevice("lo".into()))
        .unwrap();
    assert_eq!(
        c.socket_option(OptionName::BindToDevice).unwrap(),
        SocketOption::BindToDevice("lo".into())
    );
    // A read-only option refuses a value; a missing interface is a clear error, no panic.
    assert!(c
        .set_socket_option(SocketOption::AcceptConnections(true))
        .is_err());
    assert!(c
        .set_socket_option(SocketOption::BindToDevice("no-such-if0".into()))
        .is_err());
}

#[test]
fn unbuffered_calls_take_buffered_input_first_and_report_a_closed_socket() {
    let (mut a, mut b) = make_socket_pair(ExternalFormat::UTF8_LF).unwrap();
    a.send_to(b"line\nrest", MsgFlags::empty()).unwrap();
    assert_eq!(b.read_line().unwrap(), "line");
    // "rest" is in b's input buffer now: a peek leaves it, a read takes it.
    let mut buf = [0u8; 16];
    assert_eq!(b.receive_from(&mut buf, MsgFlags::PEEK).unwrap(), 4);
    assert_eq!(b.receive_from(&mut buf[..2], MsgFlags::empty()).unwrap(), 2);
    assert_eq!(&buf[..2], b"re");
    assert_eq!(b.receive_from(&mut buf, MsgFlags::empty()).unwrap(), 2);
    assert_eq!(&buf[..2], b"st");
    assert!(b
        .receive_from(&mut buf, MsgFlags::empty())
        .unwrap_err()
        .is_would_block());
    // An empty buffer takes nothing of the buffered input.
    a.send_to(b"x\ny", MsgFlags::empty()).unwrap();
    assert_eq!(b.read_line().unwrap(), "x");
    let _ = b.receive_from(&mut [], MsgFlags::empty());
    assert_eq!(b.receive_from(&mut buf, MsgFlags::empty()).unwrap(), 1);
    assert_eq!(buf[0], b'y');

    a.close().unwrap();
    assert!(matches!(
        a.send_to(b"x", MsgFlags::empty()),
        Err(Error::Closed)
    ));
    assert!(matches!(
        a.receive_from(&mut buf, MsgFlags::empty()),
        Err(Error::Closed)
    ));
    b.close().unwrap();
    assert!(matches!(
        b.receive_from(&mut buf, MsgFlags::empty()),
        Err(Error::Closed)
    ));
}
