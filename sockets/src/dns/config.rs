//! `/etc/resolv.conf` as [`ResolvConf`]: name servers, the search list (`search`/`domain`)
//! and `options timeout: attempts: ndots:`, with glibc's defaults and limits.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// The DNS port.
pub const DNS_PORT: u16 = 53;
/// glibc's default per-try timeout (`RES_TIMEOUT`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// glibc's default number of rounds over the servers (`RES_DFLRETRY`).
pub const DEFAULT_ATTEMPTS: u32 = 2;

/// The resolver configuration from a `resolv.conf` file.
///
/// ```
/// use sockets::dns::ResolvConf;
/// use std::time::Duration;
///
/// let conf = ResolvConf::parse("nameserver 192.0.2.53\nsearch lan\noptions timeout:2 ndots:2\n");
/// assert_eq!(conf.nameservers[0].to_string(), "192.0.2.53:53");
/// assert_eq!(conf.search, ["lan"]);
/// assert_eq!((conf.timeout, conf.ndots), (Duration::from_secs(2), 2));
/// assert_eq!(ResolvConf::parse("").servers().len(), 2); // 127.0.0.1 and ::1
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvConf {
    /// `nameserver` lines, in order (port 53). Empty means the local server, 127.0.0.1.
    pub nameservers: Vec<SocketAddr>,
    /// The search list: the last `search` or `domain` line wins.
    pub search: Vec<String>,
    /// `options ndots:N` (default 1, at most 15): a name with at least this many dots is
    /// tried as is before the search list.
    pub ndots: u32,
    /// `options timeout:N` (default 5 s, at most 30 s): the wait for one server's answer.
    pub timeout: Duration,
    /// `options attempts:N` (default 2, at most 5): rounds over the server list.
    pub attempts: u32,
    /// `options rotate`: start at a different server each query.
    pub rotate: bool,
    /// `options use-vc`: always query over TCP.
    pub use_tcp: bool,
}

impl Default for ResolvConf {
    fn default() -> Self {
        ResolvConf {
            nameservers: Vec::new(),
            search: Vec::new(),
            ndots: 1,
            timeout: DEFAULT_TIMEOUT,
            attempts: DEFAULT_ATTEMPTS,
            rotate: false,
            use_tcp: false,
        }
    }
}

impl ResolvConf {
    /// Parses the text of a `resolv.conf`. Unknown lines and options are ignored, as the C
    /// library does; a bad server address is skipped.
    ///
    /// See [`ResolvConf`] for an example.
    pub fn parse(text: &str) -> ResolvConf {
        let mut conf = ResolvConf::default();
        for line in text.lines() {
            let line = line.split(['#', ';']).next().unwrap_or("");
            let mut words = line.split_whitespace();
            let Some(key) = words.next() else { continue };
            match key {
                "nameserver" => {
                    if let Some(a) = words.next().and_then(parse_server) {
                        conf.nameservers.push(a);
                    }
                }
                "domain" => {
                    if let Some(d) = words.next() {
                        conf.search = vec![d.trim_end_matches('.').to_string()];
                    }
                }
                "search" => {
                    conf.search = words
                        .map(|d| d.trim_end_matches('.').to_string())
                        .filter(|d| !d.is_empty())
                        .collect();
                }
                "options" => words.for_each(|o| conf.option(o)),
                _ => {}
            }
        }
        conf
    }

    fn option(&mut self, o: &str) {
        let (key, value) = match o.split_once(':') {
            Some((k, v)) => (k, v.parse::<u32>().ok()),
            None => (o, None),
        };
        match (key, value) {
            ("ndots", Some(n)) => self.ndots = n.min(15),
            ("timeout", Some(n)) => self.timeout = Duration::from_secs(n.clamp(1, 30) as u64),
            ("attempts", Some(n)) => self.attempts = n.clamp(1, 5),
            ("rotate", _) => self.rotate = true,
            ("use-vc", _) => self.use_tcp = true,
            _ => {}
        }
    }

    /// The servers to ask: the configured ones, or 127.0.0.1 and ::1 when there are none.
    ///
    /// See [`ResolvConf`] for an example.
    pub fn servers(&self) -> Vec<SocketAddr> {
        if self.nameservers.is_empty() {
            vec![
                SocketAddr::new(IpAddr::from([127, 0, 0, 1]), DNS_PORT),
                SocketAddr::new(IpAddr::from(std::net::Ipv6Addr::LOCALHOST), DNS_PORT),
            ]
        } else {
            self.nameservers.clone()
        }
    }
}

/// Parses a server as `resolv.conf` and IOLib's `:nameservers` write it: an address (port 53),
/// `ADDR:PORT` for IPv4, `[ADDR]:PORT` for IPv6. An IPv6 zone (`%eth0`) is dropped.
///
/// ```
/// use sockets::dns::parse_server;
///
/// assert_eq!(parse_server("192.0.2.1:5353").map(|a| a.port()), Some(5353));
/// assert_eq!(parse_server("fe80::1%eth0").map(|a| a.port()), Some(53));
/// assert_eq!(parse_server("dns.example"), None);
/// ```
pub fn parse_server(s: &str) -> Option<SocketAddr> {
    if let Ok(a) = s.parse::<SocketAddr>() {
        return Some(a);
    }
    let bare = s.split('%').next().unwrap_or(s);
    bare.parse::<IpAddr>()
        .ok()
        .map(|ip| SocketAddr::new(ip, DNS_PORT))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_glibc_style() {
        let c = ResolvConf::parse(
            "# comment\nnameserver 10.0.0.1\nnameserver ::1 ; trailing\nnameserver bogus\n\
             domain old.example\nsearch a.example b.example.\n\
             options ndots:3 timeout:2 attempts:9 rotate unknown:1 use-vc\n",
        );
        assert_eq!(
            c.nameservers,
            vec!["10.0.0.1:53".parse().unwrap(), "[::1]:53".parse().unwrap()]
        );
        assert_eq!(c.search, vec!["a.example", "b.example"]);
        assert_eq!(c.ndots, 3);
        assert_eq!(c.timeout, Duration::from_secs(2));
        assert_eq!(c.attempts, 5);
        assert!(c.rotate && c.use_tcp);
        let d = ResolvConf::parse("search x.example\ndomain y.example\n");
        assert_eq!(d.search, vec!["y.example"]);
        let empty = ResolvConf::parse("");
        assert_eq!(empty, ResolvConf::default());
        assert_eq!(empty.servers().len(), 2);
        assert_eq!(parse_server("127.0.0.1:5353").unwrap().port(), 5353);
        assert_eq!(parse_server("[::1]:5353").unwrap().port(), 5353);
        assert_eq!(parse_server("fe80::1%eth0").unwrap().port(), 53);
        assert!(parse_server("nope").is_none());
    }
}
