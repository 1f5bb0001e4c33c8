//! dnsmasq on loopback for the tour's DNS leg: a free port, a few records of each kind the
//! dns-query example prints, killed on drop. `None` where dnsmasq is not installed.

use iolib::sockets::dns::{QueryOptions, RecordType, Resolver};
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

fn binary() -> Option<&'static str> {
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

impl Dnsmasq {
    /// Starts dnsmasq serving the `test` zone: host.test (A, AAAA), www.test (CNAME), an MX,
    /// an SRV and a TXT record. Retries another port if the one picked was taken.
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
                    "--cname=www.test,host.test",
                    "--mx-host=test,mx.test,10",
                    "--srv-host=_sip._tcp.test,sip.test,5060,1,5",
                    "--txt-record=txt.test,hello world,second",
                    "--local=/test/",
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
                    break;
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
