//! In-process micro-benchmarks: the line reader against std's `BufReader`, and timers.

use iomux::{DispatchOptions, EventBase, Timer};
use sockets::ExternalFormat;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

fn payload(line_len: usize, total: usize) -> Vec<u8> {
    let mut line = vec![b'a'; line_len - 1];
    line.push(b'\n');
    let mut v = Vec::with_capacity(total);
    while v.len() + line_len <= total {
        v.extend_from_slice(&line);
    }
    v
}

/// MB/s of `read_line_into` on an `ActiveSocket` vs `BufReader<UnixStream>::read_line`,
/// both fed by the same kind of writer (a std `UnixStream` on a thread) over a socketpair, so
/// only the readers differ.
pub fn line_reader(line_len: usize, total: usize) -> (f64, f64) {
    // Best of three alternating runs each: the machine is shared and noisy.
    let mut best = (0f64, 0f64);
    for _ in 0..3 {
        let (o, s) = line_reader_once(line_len, total);
        best = (best.0.max(o), best.1.max(s));
    }
    best
}

fn line_reader_once(line_len: usize, total: usize) -> (f64, f64) {
    let data = payload(line_len, total);
    let bytes = data.len() as f64;

    // Ours.
    let (mut a, theirs) = UnixStream::pair().expect("pair");
    let mut b = sockets::ActiveSocket::from(theirs);
    b.set_external_format(ExternalFormat::UTF8_LF);
    let d = data.clone();
    let w = std::thread::spawn(move || {
        a.write_all(&d).expect("write");
    });
    let start = Instant::now();
    let mut line = String::with_capacity(line_len);
    let mut n = 0usize;
    loop {
        line.clear();
        match b.read_line_into(&mut line) {
            Ok(true) => n += line.len() + 1,
            Ok(false) => break,
            Err(e) => panic!("{e}"),
        }
    }
    let ours = bytes / start.elapsed().as_secs_f64() / 1e6;
    w.join().expect("writer");
    assert_eq!(n, data.len());

    // std.
    let (mut x, y) = UnixStream::pair().expect("pair");
    let w = std::thread::spawn(move || {
        x.write_all(&data).expect("write");
    });
    let start = Instant::now();
    let mut r = BufReader::with_capacity(sockets::DEFAULT_BUFFER_SIZE, y);
    let mut n2 = 0usize;
    loop {
        line.clear();
        match r.read_line(&mut line) {
            Ok(0) => break,
            Ok(k) => n2 += k,
            Err(e) => panic!("{e}"),
        }
    }
    let std = bytes / start.elapsed().as_secs_f64() / 1e6;
    w.join().expect("writer");
    assert_eq!(n2, n);
    (ours, std)
}

/// ns per timer for add-then-fire of `n` one-shot timers, and for add-then-remove.
pub fn timers(n: usize) -> (f64, f64) {
    let mut base = EventBase::new().expect("event base");
    let start = Instant::now();
    for i in 0..n {
        // Spread over 0..1 ms so the heap has real work.
        base.add_timer(
            Timer::once(Duration::from_nanos((i as u64 * 7919) % 1_000_000)),
            |_| Ok(()),
        );
    }
    base.event_dispatch(DispatchOptions::default().exit_when_empty(true))
        .expect("dispatch");
    let fire = start.elapsed().as_nanos() as f64 / n as f64;

    let start = Instant::now();
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        ids.push(base.add_timer(
            Timer::once(Duration::from_secs(60 + (i as u64 % 60))),
            |_| Ok(()),
        ));
    }
    for id in ids {
        base.remove_timer(id);
    }
    let remove = start.elapsed().as_nanos() as f64 / n as f64;
    assert!(base.is_empty());
    (fire, remove)
}

/// The reader loop whose instructions the count mode measures for `ActiveSocket`
/// (callgrind collects only inside this function, by name: keep it out of line).
#[inline(never)]
pub fn counted_read_lines_iolib(sock: &mut sockets::ActiveSocket, line: &mut String) -> usize {
    let mut lines = 0;
    loop {
        line.clear();
        match sock.read_line_into(line) {
            Ok(true) => lines += 1,
            Ok(false) => return lines,
            Err(e) => panic!("{e}"),
        }
    }
}

/// The same loop for std's `BufReader::read_line`.
#[inline(never)]
pub fn counted_read_lines_std(r: &mut BufReader<UnixStream>, line: &mut String) -> usize {
    let mut lines = 0;
    loop {
        line.clear();
        match r.read_line(line) {
            Ok(0) => return lines,
            Ok(_) => lines += 1,
            Err(e) => panic!("{e}"),
        }
    }
}

/// `bench linecount iolib|std LEN TOTAL`: reads TOTAL bytes of LEN-byte lines written by a
/// std `UnixStream` on a thread, with the named reader; prints `LINES <n>`. Run under
/// callgrind with collection on only inside `counted_read_lines_*`.
pub fn line_count(which: &str, line_len: usize, total: usize) {
    let data = payload(line_len, total);
    let (mut a, b) = UnixStream::pair().expect("pair");
    let w = std::thread::spawn(move || {
        a.write_all(&data).expect("write");
    });
    let mut line = String::with_capacity(line_len);
    let lines = if which == "iolib" {
        let mut s = sockets::ActiveSocket::from(b);
        s.set_external_format(ExternalFormat::UTF8_LF);
        counted_read_lines_iolib(&mut s, &mut line)
    } else {
        let mut r = BufReader::with_capacity(sockets::DEFAULT_BUFFER_SIZE, b);
        counted_read_lines_std(&mut r, &mut line)
    };
    w.join().expect("writer");
    println!("LINES {lines}");
}
