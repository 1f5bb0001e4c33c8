//! dnsmasq on loopback, for the resolver's tests (dns_dnsmasq.rs here) and the tour's
//! DNS leg: a free port, records of every kind dnsmasq serves, killed on drop. `None` where
//! dnsmasq is not installed or does not come up.

#![allow(dead_code)] // each user takes what it needs

use sockets::dns::{QueryOptions, RecordType, Resolver};
use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running dnsmasq, killed on drop.
pub struct Dnsmasq {
    child: Child,
    /// Where it answers.
    pub server: SocketAddr,
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The dnsmasq binary, if installed.
pub fn binary() -> Option<&'static str> {
    ["dnsmasq", "/usr/sbin/dnsmasq", "/usr/bin/dnsmasq"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .stdout(Stdio::null())
                .status()
                .is_ok()
        })
}

/// A TXT record's value of about `len` bytes: 200-byte strings, as dnsmasq takes several
/// separated by commas.
fn txt(len: usize, fill: char) -> String {
    let chunk = fill.to_string().repeat(200);
    vec![chunk; len / 200].join(",")
}

impl Dnsmasq {
    /// Starts dnsmasq serving the `test` zone: host.test (A, AAAA), v4only.test (A),
    /// www.test and alias.test (a CNAME chain), an MX, an SRV, TXT records of 2 strings, about
    /// 800 bytes (big.test) and 2,000 bytes (huge.test), a PTR for 192.0.2.1, and `test` as
    /// its domain with an authoritative zone. Retries another port if the one picked was taken.
    pub fn start() -> Option<Dnsmasq> {
        let bin = binary()?;
        for _ in 0..10 {
            let port = UdpSocket::bind("127.0.0.1:0")
                .and_then(|s| s.local_addr())
                .ok()?
                .port();
            let mut child = Command::new(bin)
                .args([
                    "--no-daemon",
                    &format!("--port={port}"),
                    "--listen-address=127.0.0.1",
                    "--bind-interfaces",
                    "--no-resolv",
                    "--no-hosts",
                    "--conf-file=/dev/null",
                    "--log-facility=/dev/null",
                    "--host-record=host.test,192.0.2.10,2001:db8::10",
                    "--host-record=v4only.test,192.0.2.20",
                    "--cname=www.test,host.test",
                    "--cname=alias.test,www.test",
                    "--mx-host=test,mx.test,10",
                    "--srv-host=_sip._tcp.test,sip.test,5060,1,5",
                    "--txt-record=txt.test,hello world,second",
                    &format!("--txt-record=big.test,{}", txt(800, 'b')),
                    &format!("--txt-record=huge.test,{}", txt(2000, 'h')),
                    "--ptr-record=1.2.0.192.in-addr.arpa,ptr.test",
                    "--local=/test/",
                    "--local=/2.0.192.in-addr.arpa/",
                    "--domain=test",
                    "--auth-zone=test",
                    "--auth-server=ns1.test",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .ok()?;
            let server = SocketAddr::from(([127, 0, 0, 1], port));
            let resolver = Resolver::new("/nonexistent/resolv.conf", "/nonexistent/hosts");
            let probe = QueryOptions::new()
                .nameservers([server])
                .search(Vec::<String>::new())
                .timeout(Duration::from_millis(100))
                .repeat(1);
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(5) {
                if child.try_wait().ok().flatten().is_some() {
                    break; // the port was taken meanwhile: try another
                }
                if resolver.query("host.test", RecordType::A, &probe).is_ok() {
                    return Some(Dnsmasq { child, server });
                }
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        None
    }
}
