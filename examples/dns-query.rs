//! dns-query: IOLib's `dns-query` from the command line, printing the answer section as dig
//! does (`NAME TTL IN TYPE DATA`, one record per line).
//!
//! `dns-query NAME [--type TYPE] [--server ADDR[:PORT]] [--tcp] [--timeout SECONDS]`
//!
//! TYPE is A (default), AAAA, CNAME, NS, SOA, PTR, MX, TXT, SRV, HINFO, WKS, ANY or TYPEnnn.
//! Without `--server`, the servers and search list of /etc/resolv.conf are used. No such name,
//! a failure or a timeout prints one line on stderr and exits with status 1.

use iolib::sockets::dns::{default_resolver, parse_server, QueryOptions, RecordType};
use iolib::sockets::Error;
use std::process::exit;
use std::time::Duration;

fn usage() -> ! {
    eprintln!(
        "usage: dns-query NAME [--type TYPE] [--server ADDR[:PORT]] [--tcp] [--timeout SECONDS]"
    );
    exit(2)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut name, mut qtype, mut options) = (None, RecordType::A, QueryOptions::new());
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--type" => {
                let t = args.next().unwrap_or_else(|| usage());
                qtype = t.parse().unwrap_or_else(|_| {
                    eprintln!("dns-query: unknown record type {t:?}");
                    exit(2)
                });
            }
            "--server" => {
                let s = args.next().unwrap_or_else(|| usage());
                let server = parse_server(&s).unwrap_or_else(|| {
                    eprintln!("dns-query: bad server address {s:?}");
                    exit(2)
                });
                let mut list = options.nameservers.take().unwrap_or_default();
                list.push(server);
                options = options.nameservers(list);
            }
            "--tcp" => options = options.tcp(true),
            "--timeout" => {
                let secs: f64 = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .filter(|s: &f64| s.is_finite() && *s > 0.0)
                    .unwrap_or_else(|| usage());
                options = options.timeout(Duration::from_secs_f64(secs));
            }
            "-h" | "--help" => usage(),
            other if other.starts_with("--") || name.is_some() => usage(),
            other => name = Some(other.to_string()),
        }
    }
    let name = name.unwrap_or_else(|| usage());
    match default_resolver().query(&name, qtype, &options) {
        Ok(response) => {
            if response.answers().is_empty() {
                println!(";; {} has no {qtype} records", response.name);
            }
            for record in response.answers() {
                println!("{record}");
            }
            println!(
                ";; from {}{}",
                response.server,
                if response.over_tcp { " over TCP" } else { "" }
            );
        }
        Err(Error::ResolverNoName { name }) => {
            eprintln!("dns-query: no such name: {name}");
            exit(1)
        }
        Err(Error::ResolverTimeout { name, elapsed }) => {
            eprintln!("dns-query: no answer for {name} (timed out after {elapsed:.1?})");
            exit(1)
        }
        Err(e) => {
            eprintln!("dns-query: {e}");
            exit(1)
        }
    }
}
