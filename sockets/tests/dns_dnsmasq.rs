//! The resolver against a real DNS server: dnsmasq on loopback, on a free port, serving
//! records of every type it can, CNAME chains, no-such-name, REFUSED, search domains and TXT
//! answers too big for plain UDP. Skipped (with a note) where dnsmasq is not installed, except
//! under CI, where it must be.

use sockets::dns::{LookupOptions, QueryOptions, RecordData, RecordType, Resolver};
use sockets::{ensure_address, Address, Error, Ipv6Mode};
use std::time::Duration;

#[path = "support/dnsmasq.rs"]
mod dnsmasq;

use dnsmasq::Dnsmasq;

/// dnsmasq on loopback, or `None` (a note) where it is not installed, except under CI, where
/// it must be.
fn start() -> Option<Dnsmasq> {
    if dnsmasq::binary().is_none() {
        assert!(std::env::var_os("CI").is_none(), "dnsmasq is not installed");
        eprintln!("dnsmasq not installed: skipped");
        return None;
    }
    Some(Dnsmasq::start().expect("dnsmasq did not come up"))
}

trait Ask {
    fn options(&self) -> QueryOptions;
    fn resolver(&self) -> Resolver;
}

impl Ask for Dnsmasq {
    fn options(&self) -> QueryOptions {
        QueryOptions::new()
            .nameservers([self.server])
            .search(Vec::<String>::new())
            .timeout(Duration::from_secs(2))
            .repeat(2)
    }

    /// A resolver on missing files (no hosts entries, default resolv.conf) asking dnsmasq.
    fn resolver(&self) -> Resolver {
        Resolver::new("/nonexistent/resolv.conf", "/nonexistent/hosts")
            .with_nameservers([self.server])
    }
}

fn query(d: &Dnsmasq, name: &str, t: RecordType) -> Vec<RecordData> {
    let r = d.resolver().query(name, t, &d.options()).unwrap();
    r.answers().iter().map(|rr| rr.data.clone()).collect()
}

fn a(s: &str) -> Address {
    ensure_address(s).unwrap()
}

#[test]
fn every_type_dnsmasq_serves() {
    let Some(d) = start() else { return };
    assert_eq!(
        query(&d, "host.test", RecordType::A),
        vec![RecordData::A(sockets::Ipv4Address([192, 0, 2, 10]))]
    );
    let Address::Ipv6(v6) = a("2001:db8::10") else {
        unreachable!()
    };
    assert_eq!(
        query(&d, "host.test", RecordType::AAAA),
        vec![RecordData::Aaaa(v6)]
    );
    let www = query(&d, "www.test", RecordType::A);
    assert_eq!(www[0], RecordData::Cname("host.test".into()));
    assert!(matches!(www[1], RecordData::A(_)));
    assert_eq!(
        query(&d, "test", RecordType::MX),
        vec![RecordData::Mx {
            preference: 10,
            exchange: "mx.test".into()
        }]
    );
    assert_eq!(
        query(&d, "_sip._tcp.test", RecordType::SRV),
        vec![RecordData::Srv {
            priority: 1,
            weight: 5,
            port: 5060,
            target: "sip.test".into()
        }]
    );
    assert_eq!(
        query(&d, "txt.test", RecordType::TXT),
        vec![RecordData::Txt(vec![
            b"hello world".to_vec(),
            b"second".to_vec()
        ])]
    );
    assert_eq!(
        query(&d, "1.2.0.192.in-addr.arpa", RecordType::PTR),
        vec![RecordData::Ptr("ptr.test".into())]
    );
    let soa = query(&d, "test", RecordType::SOA);
    assert!(
        matches!(&soa[0], RecordData::Soa(s) if s.mname == "ns1.test"),
        "{soa:?}"
    );
    // A name without records of the type: an answer with no records, not an error.
    assert!(query(&d, "host.test", RecordType::MX).is_empty());
    // The dig-style line.
    let r = d
        .resolver()
        .query("test", RecordType::MX, &d.options())
        .unwrap();
    assert!(r.answers()[0].to_string().starts_with("test.\t"));
    assert!(r.answers()[0]
        .to_string()
        .ends_with("\tIN\tMX\t10 mx.test."));
}

#[test]
fn cname_chains_and_lookup_hostname() {
    let Some(d) = start() else { return };
    let res = d.resolver();
    let h = res
        .lookup_hostname("www.test", &LookupOptions::new())
        .unwrap();
    assert_eq!(h.canonical_name, "host.test");
    assert_eq!(h.aliases, vec!["www.test"]);
    assert_eq!(h.address, a("192.0.2.10"));
    assert_eq!(h.other_addresses, vec![a("2001:db8::10")]);
    let chain = query(&d, "alias.test", RecordType::CNAME);
    assert_eq!(chain, vec![RecordData::Cname("www.test".into())]);
    // IOLib's :ipv6 modes.
    let v4 = res
        .lookup_hostname("host.test", &LookupOptions::new().ipv6(Ipv6Mode::No))
        .unwrap();
    assert_eq!((v4.address, v4.other_addresses.len()), (a("192.0.2.10"), 0));
    let v6 = res
        .lookup_hostname("host.test", &LookupOptions::new().ipv6(Ipv6Mode::Only))
        .unwrap();
    assert_eq!(
        (v6.address, v6.other_addresses.len()),
        (a("2001:db8::10"), 0)
    );
    assert!(matches!(
        res.lookup_hostname("v4only.test", &LookupOptions::new().ipv6(Ipv6Mode::Only)),
        Err(Error::ResolverNoName { .. })
    ));
    // :ns on a resolver with no servers of its own.
    let bare = Resolver::new("/nonexistent/resolv.conf", "/nonexistent/hosts");
    let h = bare
        .lookup_hostname("v4only.test", &LookupOptions::new().ns([d.server]))
        .unwrap();
    assert_eq!(h.address, a("192.0.2.20"));
}

#[test]
fn no_such_name_refused_and_reverse() {
    let Some(d) = start() else { return };
    let res = d.resolver();
    let e = res
        .query("nope.test", RecordType::A, &d.options())
        .unwrap_err();
    assert!(
        matches!(e, Error::ResolverNoName { ref name } if name == "nope.test"),
        "{e}"
    );
    assert!(matches!(
        res.lookup_hostname("nope.test", &LookupOptions::new()),
        Err(Error::ResolverNoName { .. })
    ));
    // dnsmasq without upstream servers refuses names outside its zone.
    assert!(matches!(
        res.query("elsewhere.example", RecordType::A, &d.options()),
        Err(Error::ResolverFail { .. })
    ));
    // Reverse lookups: PTR records, and a literal without one keeps itself as its name.
    let h = res
        .lookup_hostname("192.0.2.1", &LookupOptions::new())
        .unwrap();
    assert_eq!(h.canonical_name, "ptr.test");
    let h = res
        .lookup_hostname("192.0.2.10", &LookupOptions::new())
        .unwrap();
    assert_eq!(h.canonical_name, "host.test");
    let h = res
        .lookup_address(&a("2001:db8::10"), &LookupOptions::new())
        .unwrap();
    assert_eq!(h.canonical_name, "host.test");
    let h = res
        .lookup_hostname("192.0.2.77", &LookupOptions::new())
        .unwrap();
    assert_eq!(h.canonical_name, "192.0.2.77");
    let e = res
        .lookup_address(&a("192.0.2.77"), &LookupOptions::new())
        .unwrap_err();
    assert!(matches!(e, Error::ResolverNoName { .. }), "{e}");
}

#[test]
fn search_domains() {
    let Some(d) = start() else { return };
    let o = d.options().search(["nothere.test", "test"]);
    let r = d.resolver().query("host", RecordType::A, &o).unwrap();
    assert_eq!(r.name, "host.test");
    // From a resolv.conf: `search`, with ndots:1 ("host" has no dot: search list first).
    let dir = std::env::temp_dir().join(format!("iolib-dns-search-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("resolv.conf");
    std::fs::write(
        &conf,
        "search nothere.test test\noptions timeout:2 attempts:1\n",
    )
    .unwrap();
    let res = Resolver::new(&conf, dir.join("hosts")).with_nameservers([d.server]);
    let h = res.lookup_hostname("www", &LookupOptions::new()).unwrap();
    assert_eq!(h.canonical_name, "host.test");
    // nope.nothere.test and nope.test do not exist; dnsmasq refuses the bare "nope" (outside
    // its zone, no upstream): the search ends on that refusal.
    let e = res
        .lookup_hostname("nope", &LookupOptions::new())
        .unwrap_err();
    assert!(matches!(e, Error::ResolverFail { .. }), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn big_answers_use_edns0_or_tcp() {
    let Some(d) = start() else { return };
    let res = d.resolver();
    let big = res
        .query("big.test", RecordType::TXT, &d.options())
        .unwrap();
    assert!(!big.over_tcp, "800 bytes fit EDNS0's 1232");
    let RecordData::Txt(strings) = &big.answers()[0].data else {
        panic!()
    };
    assert_eq!(strings.concat().len(), 800);
    let plain = res
        .query("big.test", RecordType::TXT, &d.options().no_edns(true))
        .unwrap();
    assert!(plain.over_tcp, "without EDNS0 the answer is truncated: TCP");
    assert_eq!(plain.answers(), big.answers());
    let huge = res
        .query("huge.test", RecordType::TXT, &d.options())
        .unwrap();
    assert!(huge.over_tcp);
    let RecordData::Txt(strings) = &huge.answers()[0].data else {
        panic!()
    };
    assert_eq!(strings.concat().len(), 2000);
    let tcp = res
        .query("host.test", RecordType::A, &d.options().tcp(true))
        .unwrap();
    assert!(tcp.over_tcp);
}
