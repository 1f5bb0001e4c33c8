//! `FdStream`: the socket stream's line I/O over files and pipes. IOLib's stream test (one
//! text in several encodings and line-end styles, read in each and written in each) runs
//! here on regular files, as `sockets.rs` runs it on sockets.

use sockets::*;
use std::io::{BufRead, Read};
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::time::Duration;

fn parse_name(file: &str) -> (String, ExternalFormat) {
    let stem = file.trim_end_matches(".txt");
    let mut parts: Vec<&str> = stem.rsplitn(3, '_').collect();
    parts.reverse();
    let f = ExternalFormat::parse(&format!("{}:{}", parts[1], parts[2])).unwrap();
    (parts[0].to_string(), f)
}

fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fd-stream-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn read_lines(stream: &mut FdStream) -> Vec<String> {
    let mut lines = Vec::new();
    loop {
        match stream.read_line() {
            Ok(l) => lines.push(l),
            Err(Error::EndOfFile) => return lines,
            Err(e) => panic!("{e}"),
        }
    }
}

#[test]
fn stream_test_data_round_trips_between_formats_on_files() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let out_dir = scratch_dir("roundtrip");
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
        let final_newline = bytes.last() == sfmt.line_end.bytes().last();
        let lines = read_lines(&mut FdStream::open(dir.join(src), sfmt).unwrap());
        assert!(!lines.is_empty(), "{src}");
        for dst in &files {
            let (dtext, dfmt) = parse_name(dst);
            if dtext != text {
                continue;
            }
            let path = out_dir.join(format!("{src}-{dst}"));
            let file = std::fs::File::create(&path).unwrap();
            let mut out = FdStream::new(OwnedFd::from(file), dfmt).unwrap();
            for (i, l) in lines.iter().enumerate() {
                if i + 1 < lines.len() || final_newline {
                    out.write_line(l).unwrap();
                } else {
                    out.write_str(l).unwrap();
                }
            }
            out.close().unwrap();
            let expected = std::fs::read(dir.join(dst)).unwrap();
            assert!(
                std::fs::read(&path).unwrap() == expected,
                "{src} -> {dst}: output differs"
            );
            compared += 1;
        }
    }
    std::fs::remove_dir_all(&out_dir).unwrap();
    assert!(compared >= 50, "only {compared} comparisons");
}

#[test]
fn pipes_read_lines_chars_and_bytes() {
    let (r, w) = isys::pipe(false).unwrap();
    let mut out = FdStream::new(w, ExternalFormat::UTF8_CRLF).unwrap();
    let mut input = FdStream::new(r, ExternalFormat::UTF8_CRLF).unwrap();
    write!(out, "one\ntwo ü\nxyz").unwrap();
    out.finish_output().unwrap();
    assert_eq!(input.read_line().unwrap(), "one");
    assert_eq!(input.read_char().unwrap(), 't');
    let mut rest = String::new();
    input.read_line_into(&mut rest).unwrap();
    assert_eq!(rest, "wo ü");
    // No line end yet: nothing without waiting.
    assert_eq!(input.read_line_no_hang().unwrap(), None);
    out.write_line("").unwrap();
    out.close().unwrap();
    let mut bytes = Vec::new();
    input.read_to_end(&mut bytes).unwrap();
    assert_eq!(bytes, b"xyz\r\n");
    assert!(matches!(input.read_line(), Err(Error::EndOfFile)));
}

#[test]
fn read_line_no_hang_never_blocks_and_timeouts_apply() {
    let (r, w) = isys::pipe(false).unwrap();
    let mut input = FdStream::new(r, ExternalFormat::UTF8_LF).unwrap();
    assert_eq!(input.read_line_no_hang().unwrap(), None);
    input.set_read_timeout(Some(Duration::from_millis(30)));
    assert!(matches!(input.read_line(), Err(Error::Timeout(_))));
    let mut out = FdStream::new(w, ExternalFormat::UTF8_LF).unwrap();
    out.write_line("a").unwrap();
    out.write_line("b").unwrap();
    out.finish_output().unwrap();
    assert_eq!(input.read_line_no_hang().unwrap().as_deref(), Some("a"));
    assert!(input.has_buffered_line());
    assert_eq!(input.fill_buf().unwrap(), b"b\n");
    input.consume(2);
    drop(out);
    assert!(matches!(input.read_line_no_hang(), Err(Error::EndOfFile)));
}

#[test]
fn writing_to_a_pipe_without_reader_is_a_hangup() {
    let (r, w) = isys::pipe(false).unwrap();
    drop(r);
    let mut out = FdStream::new(w, ExternalFormat::UTF8_LF).unwrap();
    out.write_line("nobody listens").unwrap();
    assert!(matches!(out.finish_output(), Err(Error::Hangup)));
}

#[test]
fn the_blocking_mode_is_put_back() {
    let (r, _w) = isys::pipe(false).unwrap();
    let s = FdStream::new(r, ExternalFormat::UTF8_LF).unwrap();
    assert!(isys::is_nonblocking(&s).unwrap());
    let fd = s.into_fd().unwrap();
    assert!(!isys::is_nonblocking(&fd).unwrap());
}

#[test]
fn long_lines_in_files_are_refused_and_skipped() {
    let dir = scratch_dir("long");
    let path = dir.join("long.txt");
    std::fs::write(&path, format!("{}\nshort\n", "x".repeat(5000))).unwrap();
    let mut s = FdStream::open(&path, ExternalFormat::UTF8_LF).unwrap();
    s.set_max_line_length(100);
    assert!(matches!(s.read_line(), Err(Error::LineTooLong { .. })));
    assert_eq!(s.read_line().unwrap(), "short");
    s.close().unwrap();
    assert!(matches!(s.read_line(), Err(Error::Closed)));
    std::fs::remove_dir_all(&dir).unwrap();
}
