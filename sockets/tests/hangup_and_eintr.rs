//! What a blocking read sees when the peer goes away, and signals during blocking operations:
//! an orderly close is end of file after every pending byte (even when a reset followed it),
//! and `EINTR` neither ends a wait nor stretches its timeout.

use sockets::*;
use std::time::{Duration, Instant};

fn tcp_pair() -> (ActiveSocket, ActiveSocket) {
    let listener = make_socket()
        .connect(Connect::Passive)
        .local_host("127.0.0.1")
        .local_port(0)
        .external_format(ExternalFormat::UTF8_CRLF)
        .build_passive()
        .unwrap();
    let client = make_socket()
        .remote_host("127.0.0.1")
        .remote_port(listener.local_port().unwrap())
        .external_format(ExternalFormat::UTF8_CRLF)
        .build_active()
        .unwrap();
    let server = listener
        .accept_connection(Wait::For(Duration::from_secs(5)))
        .unwrap()
        .unwrap();
    (client, server)
}

#[test]
fn a_close_after_the_last_line_reads_as_end_of_file() {
    let (mut client, mut server) = tcp_pair();
    server.write_line("bye").unwrap();
    server.close().unwrap();
    std::thread::sleep(Duration::from_millis(50)); // POLLIN|POLLHUP|POLLRDHUP together
    assert_eq!(client.read_line().unwrap(), "bye");
    assert!(matches!(client.read_line(), Err(Error::EndOfFile)));
}

/// The echo client's case: the server answered `quit` and closed; the client wrote one more
/// line, which the closed server answered with a reset (POLLERR, `SO_ERROR` = `EPIPE`).
/// IOLib's client sees end of file on its next read, not a hangup.
#[test]
fn a_reset_after_the_close_still_reads_as_end_of_file() {
    let (mut client, mut server) = tcp_pair();
    client.write_line("quit").unwrap();
    client.finish_output().unwrap();
    assert_eq!(server.read_line().unwrap(), "quit");
    server.write_line("quit").unwrap();
    server.close().unwrap();
    assert_eq!(client.read_line().unwrap(), "quit");
    std::thread::sleep(Duration::from_millis(50));
    client.write_line("more").unwrap();
    client.finish_output().unwrap(); // the kernel took it; the reset comes back
    std::thread::sleep(Duration::from_millis(50));
    match client.read_line() {
        Err(Error::EndOfFile) => {}
        other => panic!("expected end of file, got {other:?}"),
    }
}

#[test]
fn signals_neither_end_nor_stretch_a_read_timeout() {
    isys::catch_signal_interrupting(isys::Signal::SIGUSR1).unwrap();
    let (mut reader, writer) = make_socket_pair(ExternalFormat::UTF8_LF).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let t = std::thread::spawn(move || {
        tx.send(isys::pthread_self()).unwrap();
        reader.set_read_timeout(Some(Duration::from_millis(300)));
        let start = Instant::now();
        let timed_out = reader.read_line();
        let waited = start.elapsed();
        reader.set_read_timeout(Some(Duration::from_secs(5)));
        (timed_out, waited, reader.read_line())
    });
    let thread = rx.recv().unwrap();
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(500) {
        let _ = isys::pthread_kill(thread, isys::Signal::SIGUSR1);
        std::thread::sleep(Duration::from_millis(10));
    }
    writer
        .send_to(b"after the signals\n", MsgFlags::empty())
        .unwrap();
    let mut signalled = true;
    while signalled {
        // Keep interrupting the second, successful read too.
        signalled = isys::pthread_kill(thread, isys::Signal::SIGUSR1).is_ok() && !t.is_finished();
        std::thread::sleep(Duration::from_millis(5));
    }
    let (timed_out, waited, line) = t.join().unwrap();
    assert!(matches!(timed_out, Err(Error::Timeout(_))), "{timed_out:?}");
    assert!(
        waited >= Duration::from_millis(300) && waited < Duration::from_millis(450),
        "waited {waited:?}"
    );
    assert_eq!(line.unwrap(), "after the signals");
}

#[test]
fn signals_do_not_end_a_write_wait() {
    isys::catch_signal_interrupting(isys::Signal::SIGUSR1).unwrap();
    let (mut writer, mut reader) = make_socket_pair(ExternalFormat::UTF8_LF).unwrap();
    reader.set_max_line_length(8 << 20);
    let (tx, rx) = std::sync::mpsc::channel();
    let t = std::thread::spawn(move || {
        tx.send(isys::pthread_self()).unwrap();
        // More than the socket buffers hold: finish_output must wait for the reader.
        writer.write_bytes(&vec![b'w'; 4 << 20]).unwrap();
        writer.write_bytes(b"\n").unwrap();
        writer.finish_output()
    });
    let thread = rx.recv().unwrap();
    for _ in 0..20 {
        let _ = isys::pthread_kill(thread, isys::Signal::SIGUSR1);
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(reader.read_line().unwrap().len(), 4 << 20);
    t.join().unwrap().unwrap();
}
