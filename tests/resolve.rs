//! DNS on the event base without a thread: queries started from inside `event_dispatch`
//! complete through handlers and timers, including a retry after silence and the TCP
//! fallback (the query moves to another fd).

use iolib::dns_query_on;
use iolib::iomux::{DispatchOptions, EventBase, Timer};
use iolib::sockets::dns::{
    Message, QueryOptions, RecordData, RecordType, Resolver, ResourceRecord, CLASS_IN,
};
use iolib::sockets::{Error, Ipv4Address};
use std::cell::RefCell;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::rc::Rc;
use std::time::Duration;

fn reply(q: &Message, truncated: bool) -> Vec<u8> {
    let mut r = q.clone();
    r.flags.response = true;
    r.flags.truncated = truncated;
    r.edns = None;
    if !truncated {
        r.answers = vec![ResourceRecord {
            name: q.questions[0].name.clone(),
            class: CLASS_IN,
            ttl: 60,
            data: RecordData::A(Ipv4Address([10, 0, 0, 7])),
        }];
    }
    r.encode().unwrap()
}

/// A UDP+TCP server on one loopback port: "tc.test" is truncated over UDP and answered over
/// TCP; "slow.test" is answered only on the second try; everything else at once.
fn server() -> SocketAddr {
    // A free UDP port whose TCP twin is free too (retried: another test may hold it).
    let (udp, tcp, addr) = (0..50)
        .find_map(|_| {
            let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
            let addr = udp.local_addr().unwrap();
            TcpListener::bind(addr).ok().map(|tcp| (udp, tcp, addr))
        })
        .expect("a port free for both UDP and TCP");
    udp.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    std::thread::spawn(move || {
        let mut seen_slow = 0;
        let mut buf = [0u8; 1500];
        while let Ok((n, peer)) = udp.recv_from(&mut buf) {
            let Ok(q) = Message::decode(&buf[..n]) else {
                continue;
            };
            match q.questions[0].name.as_str() {
                "slow.test" if seen_slow == 0 => seen_slow += 1,
                "tc.test" => drop(udp.send_to(&reply(&q, true), peer)),
                _ => drop(udp.send_to(&reply(&q, false), peer)),
            }
        }
    });
    std::thread::spawn(move || {
        if let Ok((mut c, _)) = tcp.accept() {
            let mut len = [0u8; 2];
            c.read_exact(&mut len).unwrap();
            let mut q = vec![0u8; u16::from_be_bytes(len) as usize];
            c.read_exact(&mut q).unwrap();
            let r = reply(&Message::decode(&q).unwrap(), false);
            c.write_all(&(r.len() as u16).to_be_bytes()).unwrap();
            c.write_all(&r).unwrap();
        }
    });
    addr
}

/// A query's name and its (over TCP, first answer) or error text.
type Outcome = (String, Result<(bool, RecordData), String>);

#[test]
fn queries_complete_on_the_event_base() {
    let addr = server();
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let silent_addr = silent.local_addr().unwrap();
    let results: Rc<RefCell<Vec<Outcome>>> = Rc::default();
    let mut base = EventBase::new().unwrap();
    let out = Rc::clone(&results);
    // Started from a timer, i.e. from inside event_dispatch.
    base.add_timer(Timer::once(Duration::ZERO), move |base| {
        let resolver = Resolver::new("/nonexistent/resolv.conf", "/nonexistent/hosts");
        let o = QueryOptions::new()
            .nameservers([addr])
            .search(Vec::<String>::new())
            .timeout(Duration::from_millis(300))
            .repeat(2);
        let silent_o = o
            .clone()
            .nameservers([silent_addr])
            .timeout(Duration::from_millis(100));
        for (name, opts) in [
            ("a.test", &o),
            ("tc.test", &o),
            ("slow.test", &o),
            ("quiet.test", &silent_o),
        ] {
            let out = Rc::clone(&out);
            dns_query_on(
                base,
                &resolver,
                name,
                RecordType::A,
                opts,
                move |_base, r| {
                    let r = r
                        .map(|resp| (resp.over_tcp, resp.answers()[0].data.clone()))
                        .map_err(|e| match e {
                            Error::ResolverTimeout { .. } => "timeout".to_string(),
                            other => other.to_string(),
                        });
                    out.borrow_mut().push((name.to_string(), r));
                },
            )?;
        }
        Ok(())
    });
    base.event_dispatch(
        DispatchOptions::default()
            .exit_when_empty(true)
            .timeout(Duration::from_secs(10)),
    )
    .unwrap();
    let mut got = results.borrow().clone();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    let a = RecordData::A(Ipv4Address([10, 0, 0, 7]));
    assert_eq!(
        got,
        vec![
            ("a.test".to_string(), Ok((false, a.clone()))),
            ("quiet.test".to_string(), Err("timeout".to_string())),
            ("slow.test".to_string(), Ok((false, a.clone()))),
            ("tc.test".to_string(), Ok((true, a))),
        ]
    );
    assert!(base.is_empty(), "the queries left nothing registered");
}
