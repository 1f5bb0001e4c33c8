//! The maximum line length counts a line's content, never its terminator: with a limit of
//! L, a CRLF line of exactly L bytes is accepted however the `\r` and `\n` arrive (together,
//! or `\r` in one segment and `\n` later); L + 1 bytes are too long.

use sockets::{ActiveSocket, Error, ExternalFormat};
use std::thread;
use std::time::Duration;

const L: usize = 64;

/// A reader with limit `L` and `format` over a socketpair, and the writing end.
fn pair(format: ExternalFormat) -> (ActiveSocket, std::os::unix::net::UnixStream) {
    let (a, b) = isys::socketpair(isys::libc::AF_UNIX, isys::libc::SOCK_STREAM, 0, true).unwrap();
    let mut reader = ActiveSocket::from(a);
    reader.set_external_format(format);
    reader.set_max_line_length(L);
    reader.set_read_timeout(Some(Duration::from_secs(5)));
    (reader, std::os::unix::net::UnixStream::from(b))
}

/// Writes `segments` with a pause between them, so each arrives (and is read) on its own.
fn send_in_segments(mut w: std::os::unix::net::UnixStream, segments: Vec<Vec<u8>>) {
    use std::io::Write;
    thread::spawn(move || {
        for s in segments {
            w.write_all(&s).unwrap();
            thread::sleep(Duration::from_millis(100));
        }
        // Keep the connection open a moment: end of file must not be what ends the line.
        thread::sleep(Duration::from_millis(200));
    });
}

fn content(n: usize) -> Vec<u8> {
    (0..n).map(|i| b'a' + (i % 26) as u8).collect()
}

fn read_segments(format: ExternalFormat, segments: Vec<Vec<u8>>) -> Result<String, Error> {
    let (mut r, w) = pair(format);
    send_in_segments(w, segments);
    r.read_line()
}

#[test]
fn crlf_line_of_exactly_the_limit_with_crlf_together() {
    let mut line = content(L);
    line.extend_from_slice(b"\r\n");
    let got = read_segments(ExternalFormat::UTF8_CRLF, vec![line]);
    assert_eq!(got.unwrap().as_bytes(), content(L));
}

#[test]
fn crlf_line_of_exactly_the_limit_with_cr_alone_then_lf() {
    let mut first = content(L);
    first.push(b'\r');
    let got = read_segments(ExternalFormat::UTF8_CRLF, vec![first, b"\n".to_vec()]);
    match got {
        Ok(line) => assert_eq!(line.as_bytes(), content(L)),
        Err(e) => panic!(
            "a line of exactly {L} bytes whose \\r arrived before its \\n was refused: {e} \
             (the terminator must not count towards the limit)"
        ),
    }
}

#[test]
fn crlf_line_of_exactly_the_limit_then_cr_then_lf_each_alone() {
    let got = read_segments(
        ExternalFormat::UTF8_CRLF,
        vec![content(L), b"\r".to_vec(), b"\n".to_vec()],
    );
    match got {
        Ok(line) => assert_eq!(line.as_bytes(), content(L)),
        Err(e) => panic!("a line of exactly {L} bytes, then \\r, then \\n was refused: {e}"),
    }
}

#[test]
fn lf_line_of_exactly_the_limit_with_lf_later() {
    let got = read_segments(ExternalFormat::UTF8_LF, vec![content(L), b"\n".to_vec()]);
    assert_eq!(got.unwrap().as_bytes(), content(L));
}

#[test]
fn one_byte_over_the_limit_is_too_long_however_it_arrives() {
    // The limit is real: L + 1 bytes of content are refused, terminator together or apart.
    let mut together = content(L + 1);
    together.extend_from_slice(b"\r\n");
    let mut cr_first = content(L + 1);
    cr_first.push(b'\r');
    for (how, segments) in [
        ("together", vec![together]),
        ("\\r then \\n", vec![cr_first, b"\n".to_vec()]),
    ] {
        let got = read_segments(ExternalFormat::UTF8_CRLF, segments);
        assert!(
            matches!(got, Err(Error::LineTooLong { .. })),
            "{} bytes ({how}): {got:?}",
            L + 1
        );
    }
}

#[test]
fn the_line_after_an_exact_limit_line_is_read_whole() {
    // Exactly-L CRLF line with a split terminator, then a short line: both come out.
    let mut first = content(L);
    first.push(b'\r');
    let (mut r, w) = pair(ExternalFormat::UTF8_CRLF);
    send_in_segments(w, vec![first, b"\nnext\r\n".to_vec()]);
    let a = r.read_line();
    let b = r.read_line();
    assert!(
        matches!(&a, Ok(l) if l.as_bytes() == content(L)),
        "first line: {a:?}"
    );
    assert_eq!(b.unwrap(), "next");
}
