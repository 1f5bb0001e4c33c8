//! The resolver against hostile or broken servers, written here: replies with the wrong id,
//! the wrong question, from another port or address, compression loops, truncated messages,
//! counts larger than the message, silence, SERVFAIL and REFUSED. A bad reply is ignored and
//! the good one that follows is taken; silence ends in a timeout within the configured bound.

use sockets::dns::{
    Message, QueryOptions, RecordData, RecordType, Resolver, ResourceRecord, CLASS_IN,
};
use sockets::{Error, Ipv4Address};
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

/// What the fake server sends for one query: (sending socket's address, bytes) in order.
type Behaviour = fn(&Message, &[u8]) -> Vec<(&'static str, Vec<u8>)>;

/// A UDP server on 127.0.0.1:0 answering with `behave` from a thread (which ends after a
/// second of silence).
fn fake_server(behave: Behaviour) -> SocketAddr {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    let addr = sock.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while let Ok((n, peer)) = sock.recv_from(&mut buf) {
            let Ok(q) = Message::decode(&buf[..n]) else {
                continue;
            };
            for (from, bytes) in behave(&q, &buf[..n]) {
                if from == "server" {
                    let _ = sock.send_to(&bytes, peer);
                } else if let Ok(other) = UdpSocket::bind(from) {
                    let _ = other.send_to(&bytes, peer);
                }
            }
        }
    });
    addr
}

fn answer(q: &Message, ip: [u8; 4]) -> Message {
    let mut r = q.clone();
    r.flags.response = true;
    r.edns = None;
    r.answers = vec![ResourceRecord {
        name: q.questions[0].name.clone(),
        class: CLASS_IN,
        ttl: 60,
        data: RecordData::A(Ipv4Address(ip)),
    }];
    r
}

const GOOD: [u8; 4] = [1, 2, 3, 4];
const BAD: [u8; 4] = [6, 6, 6, 6];

fn good(q: &Message) -> (&'static str, Vec<u8>) {
    ("server", answer(q, GOOD).encode().unwrap())
}

fn options(servers: &[SocketAddr]) -> QueryOptions {
    QueryOptions::new()
        .nameservers(servers.iter().copied())
        .search(Vec::<String>::new())
        .timeout(Duration::from_millis(1500))
        .repeat(1)
}

fn resolver() -> Resolver {
    Resolver::new("/nonexistent/resolv.conf", "/nonexistent/hosts")
}

/// The query gets the good answer that follows the hostile reply.
fn survives(behave: Behaviour) {
    let server = fake_server(behave);
    let r = resolver()
        .query("victim.test", RecordType::A, &options(&[server]))
        .unwrap();
    assert_eq!(r.answers()[0].data, RecordData::A(Ipv4Address(GOOD)));
    assert_eq!(r.server, server);
}

#[test]
fn wrong_id_is_ignored() {
    survives(|q, _| {
        let mut bad = answer(q, BAD);
        bad.id = q.id.wrapping_add(1);
        vec![("server", bad.encode().unwrap()), good(q)]
    });
}

#[test]
fn wrong_question_is_ignored() {
    survives(|q, _| {
        let mut bad = answer(q, BAD);
        bad.questions[0].name = "other.test".into();
        let mut bad_type = answer(q, BAD);
        bad_type.questions[0].qtype = RecordType::AAAA;
        let mut no_question = answer(q, BAD);
        no_question.questions.clear();
        let mut not_response = answer(q, BAD);
        not_response.flags.response = false;
        vec![
            ("server", bad.encode().unwrap()),
            ("server", bad_type.encode().unwrap()),
            ("server", no_question.encode().unwrap()),
            ("server", not_response.encode().unwrap()),
            good(q),
        ]
    });
}

#[test]
fn reply_from_another_port_or_address_is_ignored() {
    survives(|q, _| {
        let bad = answer(q, BAD).encode().unwrap();
        vec![("127.0.0.1:0", bad.clone()), ("127.0.0.2:0", bad), good(q)]
    });
}

#[test]
fn compression_loop_is_ignored() {
    survives(|q, _| {
        let mut bytes = answer(q, BAD).encode().unwrap();
        // Replace the answer's owner name (a pointer to the question) by a pointer to itself.
        let at = bytes.len() - 16;
        assert_eq!(bytes[at] & 0xc0, 0xc0);
        bytes[at] = 0xc0 | (at >> 8) as u8;
        bytes[at + 1] = at as u8;
        vec![("server", bytes), good(q)]
    });
}

#[test]
fn truncated_message_and_huge_counts_are_ignored() {
    survives(|q, _| {
        let full = answer(q, BAD).encode().unwrap();
        let mut counts = full.clone();
        counts[6] = 0xff;
        counts[7] = 0xff;
        vec![
            ("server", full[..full.len() - 3].to_vec()),
            ("server", full[..7].to_vec()),
            ("server", counts),
            ("server", Vec::new()),
            good(q),
        ]
    });
}

#[test]
fn silence_times_out_within_the_bound() {
    let server = fake_server(|_, _| Vec::new());
    let o = options(&[server])
        .timeout(Duration::from_millis(150))
        .repeat(2);
    let start = Instant::now();
    let e = resolver()
        .query("victim.test", RecordType::A, &o)
        .unwrap_err();
    let took = start.elapsed();
    assert!(matches!(e, Error::ResolverTimeout { .. }), "{e}");
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
    // Hostile replies alone also end in the timeout, not in an answer.
    let server = fake_server(|q, _| {
        let mut bad = answer(q, BAD);
        bad.id ^= 0x5555;
        vec![("server", bad.encode().unwrap())]
    });
    let o = options(&[server]).timeout(Duration::from_millis(150));
    let e = resolver()
        .query("victim.test", RecordType::A, &o)
        .unwrap_err();
    assert!(matches!(e, Error::ResolverTimeout { .. }), "{e}");
}

fn rcode_reply(q: &Message, rcode: u16) -> Vec<(&'static str, Vec<u8>)> {
    let mut r = answer(q, BAD);
    r.answers.clear();
    r.rcode = rcode;
    vec![("server", r.encode().unwrap())]
}

#[test]
fn servfail_is_again_and_refused_is_fail() {
    let servfail = fake_server(|q, _| rcode_reply(q, 2));
    let refused = fake_server(|q, _| rcode_reply(q, 5));
    let e = resolver()
        .query("victim.test", RecordType::A, &options(&[servfail]))
        .unwrap_err();
    assert!(matches!(e, Error::ResolverAgain { .. }), "{e}");
    let e = resolver()
        .query("victim.test", RecordType::A, &options(&[refused]))
        .unwrap_err();
    assert!(matches!(e, Error::ResolverFail { .. }), "{e}");
    // The next server in order is asked after a failing one.
    let working = fake_server(|q, _| vec![good(q)]);
    let r = resolver()
        .query(
            "victim.test",
            RecordType::A,
            &options(&[servfail, refused, working]),
        )
        .unwrap();
    assert_eq!(r.server, working);
}

#[test]
fn nxdomain_from_a_fake_is_no_name() {
    let nx = fake_server(|q, _| rcode_reply(q, 3));
    let e = resolver()
        .query("victim.test", RecordType::A, &options(&[nx]))
        .unwrap_err();
    assert!(matches!(e, Error::ResolverNoName { .. }), "{e}");
}
