//! Several sockets sharing one small input budget: growth beyond the base buffer is charged,
//! refused past the limit (that line is skipped, the next one read), and released when the
//! long line is consumed or the socket closed.

use sockets::*;
use std::time::Duration;

/// The base input buffer of a socket pair and the budget: room for two sockets' growth.
const BASE: usize = DEFAULT_BUFFER_SIZE;
const LIMIT: usize = 2 * BASE;
/// An unfinished line that doubles the buffer once (and leaves a quarter of it free).
const LONG: usize = BASE + BASE / 4;

fn reader_pair(budget: &InputBudget) -> (ActiveSocket, ActiveSocket) {
    let (mut reader, writer) = make_socket_pair(ExternalFormat::UTF8_LF).unwrap();
    reader.set_input_budget(Some(budget.clone()));
    (reader, writer)
}

fn feed(writer: &ActiveSocket, bytes: &[u8]) {
    assert_eq!(
        writer.send_to(bytes, MsgFlags::empty()).unwrap(),
        bytes.len()
    );
}

#[test]
fn sockets_sharing_a_budget_are_refused_past_it_and_recover() {
    let budget = InputBudget::new(LIMIT);
    let long = vec![b'x'; LONG];
    let (mut a, wa) = reader_pair(&budget);
    let (mut b, wb) = reader_pair(&budget);
    let (mut c, wc) = reader_pair(&budget);

    // Short lines never touch the budget.
    feed(&wa, b"short\n");
    assert_eq!(a.read_line().unwrap(), "short");
    assert_eq!(budget.in_use(), 0);

    // Two unfinished long lines fill the budget; the third is refused.
    for (r, w) in [(&mut a, &wa), (&mut b, &wb)] {
        feed(w, &long);
        assert!(r.read_line_no_hang().unwrap().is_none());
    }
    assert_eq!(budget.in_use(), LIMIT);
    feed(&wc, &long);
    match c.read_line_no_hang() {
        Err(e @ Error::InputBudgetExceeded { limit: LIMIT }) => {
            assert!(e.is_per_peer());
        }
        other => panic!("expected InputBudgetExceeded, got {other:?}"),
    }
    assert_eq!(
        budget.in_use(),
        LIMIT,
        "a refused charge leaves the budget as it was"
    );
    // The rest of c's line is skipped; the next line is read.
    feed(&wc, b"tail of the long line\nnext\n");
    assert_eq!(c.read_line().unwrap(), "next");

    // a's line completes; once consumed, the buffer shrinks and the charge is released.
    feed(&wa, b"\nafter\n");
    assert_eq!(a.read_line().unwrap().len(), LONG);
    assert_eq!(a.read_line().unwrap(), "after");
    assert!(a.read_line_no_hang().unwrap().is_none());
    assert_eq!(budget.in_use(), BASE);

    // Now c has room again.
    feed(&wc, &long);
    assert!(c.read_line_no_hang().unwrap().is_none());
    assert_eq!(budget.in_use(), LIMIT);

    // Closing and dropping release too.
    b.close().unwrap();
    assert_eq!(budget.in_use(), BASE);
    drop(c);
    assert_eq!(budget.in_use(), 0);
    drop((wa, wb, wc));
}

#[test]
fn moving_a_socket_to_another_budget_moves_its_charge() {
    let first = InputBudget::new(LIMIT);
    let (mut r, w) = reader_pair(&first);
    feed(&w, &[b'y'; LONG]);
    assert!(r.read_line_no_hang().unwrap().is_none());
    assert_eq!(first.in_use(), BASE);
    let second = InputBudget::new(LIMIT);
    r.set_input_budget(Some(second.clone()));
    assert_eq!((first.in_use(), second.in_use()), (0, BASE));
    assert!(r.input_budget().unwrap().same_as(&second));
    r.set_input_budget(None);
    assert_eq!(second.in_use(), 0);
    feed(&w, b"\n");
    assert_eq!(r.read_line().unwrap().len(), LONG);
}

#[test]
fn accepted_sockets_share_the_listeners_budget() {
    const SMALL: usize = 512;
    let budget = InputBudget::new(SMALL);
    let mut listener = make_socket()
        .connect(Connect::Passive)
        .local_host("127.0.0.1")
        .local_port(0)
        .input_buffer_size(SMALL)
        .build_passive()
        .unwrap();
    assert!(listener.input_budget().is_none());
    listener.set_input_budget(Some(budget.clone()));
    let port = listener.local_port().unwrap();
    let mut writers = Vec::new();
    let mut conns = Vec::new();
    for _ in 0..2 {
        writers.push(std::net::TcpStream::connect(("127.0.0.1", port)).unwrap());
        let conn = listener
            .accept_connection(Wait::For(Duration::from_secs(5)))
            .unwrap()
            .unwrap();
        assert!(conn.input_budget().unwrap().same_as(&budget));
        conns.push(conn);
    }
    use std::io::Write;
    for w in &mut writers {
        w.write_all(&[b'z'; SMALL + SMALL / 4]).unwrap();
    }
    let mut results = Vec::new();
    for c in &mut conns {
        c.set_read_timeout(Some(Duration::from_millis(200)));
        results.push(c.read_line());
    }
    // The first grows within the budget and then waits for the rest of its line; the
    // second finds the budget spent.
    assert!(matches!(results[0], Err(Error::Timeout(_))), "{results:?}");
    assert!(
        matches!(results[1], Err(Error::InputBudgetExceeded { limit: SMALL })),
        "{results:?}"
    );

    // The builder keyword does the same.
    let built = make_socket()
        .connect(Connect::Passive)
        .local_host("127.0.0.1")
        .local_port(0)
        .input_budget(budget.clone())
        .build_passive()
        .unwrap();
    assert!(built.input_budget().unwrap().same_as(&budget));
}
