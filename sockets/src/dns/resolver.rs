//! The [`Resolver`]: where configuration comes from (a `resolv.conf` and a hosts file, re-read
//! when they change, or explicit servers), IOLib's `dns-query` options as [`QueryOptions`],
//! and the process-wide default resolver behind the free functions [`dns_query`] and
//! [`dns_query_with`].

use super::config::{parse_server, ResolvConf};
use super::hosts::HostsFile;
use super::plan::{candidate_names, Plan};
use super::query::{DnsQuery, Response};
use super::record::RecordType;
use super::watch::Watched;
use crate::error::Result;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// The system's resolver configuration file.
pub const RESOLV_CONF_PATH: &str = "/etc/resolv.conf";
/// The system's hosts file.
pub const HOSTS_PATH: &str = "/etc/hosts";

/// IOLib's `dns-query` keywords: `:nameservers`, `:search`, `:repeat`, `:timeout`, plus the
/// transport. Unset fields come from the resolver's configuration.
///
/// ```
/// use sockets::dns::*;
/// use std::time::Duration;
///
/// let options = QueryOptions::new()
///     .nameservers(parse_nameservers(&["192.0.2.53", "[2001:db8::53]:5353"])?)
///     .search(["example.com"])
///     .repeat(1)
///     .timeout(Duration::from_secs(2));
/// assert_eq!(Resolver::system().nameservers(&options).len(), 2);
/// # Ok::<(), sockets::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryOptions {
    /// Servers to ask, in order, instead of the configured ones.
    pub nameservers: Option<Vec<SocketAddr>>,
    /// Search domains instead of `resolv.conf`'s; `Some(vec![])` asks for the name as given.
    pub search: Option<Vec<String>>,
    /// Rounds over the servers (`options attempts:`).
    pub repeat: Option<u32>,
    /// The wait for one server's answer (`options timeout:`).
    pub timeout: Option<Duration>,
    /// Query over TCP from the start (also `options use-vc`).
    pub tcp: bool,
    /// Leave EDNS0 out of the query (then answers over 512 bytes come over TCP).
    pub no_edns: bool,
}

impl QueryOptions {
    /// No options: everything from the configuration.
    ///
    /// See [`QueryOptions`] for an example.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the servers (IOLib's `:nameservers`).
    ///
    /// See [`QueryOptions`] for an example.
    pub fn nameservers(mut self, servers: impl IntoIterator<Item = SocketAddr>) -> Self {
        self.nameservers = Some(servers.into_iter().collect());
        self
    }

    /// Sets the search domains (IOLib's `:search`); empty turns searching off.
    ///
    /// See [`QueryOptions`] and [`dns_query_with`] for examples.
    pub fn search<S: Into<String>>(mut self, domains: impl IntoIterator<Item = S>) -> Self {
        self.search = Some(domains.into_iter().map(Into::into).collect());
        self
    }

    /// Sets the number of rounds (IOLib's `:repeat`).
    ///
    /// See [`QueryOptions`] for an example.
    pub fn repeat(mut self, n: u32) -> Self {
        self.repeat = Some(n);
        self
    }

    /// Sets the per-server timeout (IOLib's `:timeout`).
    ///
    /// See [`QueryOptions`] for an example.
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = Some(t);
        self
    }

    /// Queries over TCP.
    ///
    /// ```
    /// use sockets::dns::QueryOptions;
    ///
    /// let options = QueryOptions::new().tcp(true).no_edns(true); // IOLib's plain-TCP queries
    /// # drop(options);
    /// ```
    pub fn tcp(mut self, on: bool) -> Self {
        self.tcp = on;
        self
    }

    /// Leaves out EDNS0.
    ///
    /// See [`tcp`](Self::tcp) for an example.
    pub fn no_edns(mut self, on: bool) -> Self {
        self.no_edns = on;
        self
    }
}

/// Cached, change-checked configuration files.
#[derive(Debug)]
struct Files {
    resolv_conf: Watched<ResolvConf>,
    hosts: Watched<HostsFile>,
}

/// A DNS resolver: configuration files (re-read when their modification time, size or inode
/// changes; a missing file reads as empty) and optional fixed servers. Share one by reference;
/// every method takes `&self`.
///
/// ```
/// use sockets::dns::*;
/// use sockets::Ipv6Mode;
///
/// // A resolver on a hosts file of its own (and no resolv.conf): no network needed.
/// let dir = std::env::temp_dir().join(format!("resolver-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// std::fs::write(dir.join("hosts"), "192.0.2.7 printer printer.lan\n")?;
/// let resolver = Resolver::new(dir.join("resolv.conf"), dir.join("hosts"));
/// let found = resolver.lookup_hostname("printer", &LookupOptions::new().ipv6(Ipv6Mode::No))?;
/// assert_eq!(found.address.to_string(), "192.0.2.7");
/// assert_eq!(found.aliases, ["printer.lan"]);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Resolver {
    files: Mutex<Files>,
    nameservers: Option<Vec<SocketAddr>>,
}

impl Resolver {
    /// A resolver on `/etc/resolv.conf` and `/etc/hosts`.
    ///
    /// ```
    /// use sockets::dns::Resolver;
    ///
    /// let (resolv_conf, hosts) = Resolver::system().paths();
    /// assert_eq!(hosts, std::path::Path::new("/etc/hosts"));
    /// # drop(resolv_conf);
    /// ```
    pub fn system() -> Resolver {
        Resolver::new(RESOLV_CONF_PATH, HOSTS_PATH)
    }

    /// A resolver on other files (tests, chroots).
    ///
    /// See [`Resolver`] for an example.
    pub fn new(resolv_conf: impl Into<PathBuf>, hosts: impl Into<PathBuf>) -> Resolver {
        Resolver {
            files: Mutex::new(Files {
                resolv_conf: Watched::new(resolv_conf.into(), ResolvConf::parse),
                hosts: Watched::new(hosts.into(), HostsFile::parse),
            }),
            nameservers: None,
        }
    }

    /// Uses these servers instead of the configuration file's.
    ///
    /// ```
    /// use sockets::dns::*;
    ///
    /// let servers = parse_nameservers(&["127.0.0.1:5353"])?;
    /// let resolver = Resolver::new("/nonexistent/resolv.conf", "/nonexistent/hosts")
    ///     .with_nameservers(servers.clone());
    /// assert_eq!(resolver.nameservers(&QueryOptions::new()), servers);
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn with_nameservers(mut self, servers: impl IntoIterator<Item = SocketAddr>) -> Self {
        self.nameservers = Some(servers.into_iter().collect());
        self
    }

    fn files(&self) -> std::sync::MutexGuard<'_, Files> {
        // The files are plain caches: a panic elsewhere cannot leave them inconsistent.
        self.files.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The current `resolv.conf` contents (re-read if the file changed).
    ///
    /// ```
    /// use sockets::dns::*;
    ///
    /// let resolver = Resolver::new("/nonexistent/resolv.conf", "/nonexistent/hosts");
    /// assert!(resolver.resolv_conf().nameservers.is_empty()); // a missing file reads as empty
    /// assert!(resolver.hosts().entries.is_empty());
    /// ```
    pub fn resolv_conf(&self) -> Arc<ResolvConf> {
        self.files().resolv_conf.get()
    }

    /// The current hosts file contents (re-read if the file changed).
    ///
    /// See [`resolv_conf`](Self::resolv_conf) for an example.
    pub fn hosts(&self) -> Arc<HostsFile> {
        self.files().hosts.get()
    }

    /// The paths of the configuration file and the hosts file.
    ///
    /// See [`system`](Self::system) for an example.
    pub fn paths(&self) -> (PathBuf, PathBuf) {
        let f = self.files();
        (f.resolv_conf.path().to_owned(), f.hosts.path().to_owned())
    }

    /// The servers a query with `options` asks: the options', this resolver's, or the
    /// configuration file's.
    ///
    /// See [`with_nameservers`](Self::with_nameservers) for an example.
    pub fn nameservers(&self, options: &QueryOptions) -> Vec<SocketAddr> {
        options
            .nameservers
            .clone()
            .or_else(|| self.nameservers.clone())
            .unwrap_or_else(|| self.resolv_conf().servers())
    }

    pub(crate) fn plan(&self, name: &str, qtype: RecordType, o: &QueryOptions) -> Result<Plan> {
        let conf = self.resolv_conf();
        let search = o.search.as_deref().unwrap_or(&conf.search);
        Ok(Plan {
            asked: name.to_string(),
            names: candidate_names(name, search, conf.ndots)?,
            qtype,
            servers: self.nameservers(o),
            attempts: o.repeat.unwrap_or(conf.attempts).max(1),
            timeout: o.timeout.unwrap_or(conf.timeout),
            tcp: o.tcp || conf.use_tcp,
            edns: !o.no_edns,
            rotate: conf.rotate && o.nameservers.is_none() && self.nameservers.is_none(),
        })
    }

    /// Starts a query without waiting: the state machine to drive from an event loop.
    ///
    /// # Errors
    /// [`Error::Dns`](crate::Error::Dns) for a name that is not one; a resolver error when no
    /// server can be sent to.
    ///
    /// The query never blocks: an event loop registers [`DnsQuery::fd`] for
    /// [`DnsQuery::interest`], calls [`DnsQuery::on_readable`]/[`DnsQuery::on_writable`] when it is
    /// ready and [`DnsQuery::on_timeout`] at [`DnsQuery::deadline`]. [`DnsQuery::wait`] does this
    /// with
    /// `poll(2)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockets::dns::*;
    /// # use sockets::{make_socket, BaseSocket, Ipv4Address, MsgFlags, SocketKind};
    /// # fn one_shot_server() -> sockets::Result<std::net::SocketAddr> {
    /// #     let udp = make_socket().kind(SocketKind::Datagram).local_host("127.0.0.1")
    /// #         .build_datagram()?;
    /// #     let addr = std::net::SocketAddr::from(([127, 0, 0, 1], udp.local_port()?));
    /// #     std::thread::spawn(move || -> sockets::Result<()> {
    /// #         let mut buf = [0; 1500];
    /// #         udp.wait_readable(None)?;
    /// #         let (n, from) = udp.receive_from(&mut buf, MsgFlags::empty())?;
    /// #         let mut reply = Message::decode(&buf[..n])?;
    /// #         reply.flags.response = true;
    /// #         let name = reply.questions[0].name.clone();
    /// #         let data = RecordData::A(Ipv4Address([192, 0, 2, 1]));
    /// #         reply.answers.push(ResourceRecord { name, class: CLASS_IN, ttl: 60, data });
    /// #         let (host, port) = from.expect("a sender");
    /// #         udp.send_to(&reply.encode()?, Some((&host, port)), MsgFlags::empty())?;
    /// #         Ok(())
    /// #     });
    /// #     Ok(addr)
    /// # }
    /// let resolver = Resolver::new("/nonexistent/resolv.conf", "/nonexistent/hosts")
    ///     .with_nameservers([one_shot_server()?]);
    /// let query = resolver.start_query("printer.example", RecordType::A, &QueryOptions::new())?;
    /// let response = query.wait()?; // or drive it from an event loop
    /// assert_eq!(response.answers().len(), 1);
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn start_query(
        &self,
        name: &str,
        qtype: RecordType,
        options: &QueryOptions,
    ) -> Result<DnsQuery> {
        DnsQuery::start(self.plan(name, qtype, options)?)
    }

    /// IOLib's `dns-query`: asks for `name`'s `qtype` records and waits for the answer.
    ///
    /// Blocks until an answer, up to `timeout` × `attempts` per server (5 s and 2 by default,
    /// from `resolv.conf` or `options`) for each name of the search list.
    ///
    /// # Errors
    /// [`Error::ResolverNoName`](crate::Error::ResolverNoName) when no name of the search list
    /// exists, [`Error::ResolverAgain`](crate::Error::ResolverAgain) (SERVFAIL, unreachable
    /// servers), [`Error::ResolverFail`](crate::Error::ResolverFail) (REFUSED and other
    /// refusals), [`Error::ResolverTimeout`](crate::Error::ResolverTimeout).
    /// A name with no records of this type is not an error: the response has no answers.
    ///
    /// # Examples
    ///
    /// A one-shot server on loopback (hidden here: a datagram socket that answers the decoded
    /// query with an A record) stands in for a real one:
    ///
    /// ```
    /// use sockets::dns::*;
    /// # use sockets::{make_socket, BaseSocket, Ipv4Address, MsgFlags, SocketKind};
    /// # fn one_shot_server() -> sockets::Result<std::net::SocketAddr> {
    /// #     let udp = make_socket().kind(SocketKind::Datagram).local_host("127.0.0.1")
    /// #         .build_datagram()?;
    /// #     let addr = std::net::SocketAddr::from(([127, 0, 0, 1], udp.local_port()?));
    /// #     std::thread::spawn(move || -> sockets::Result<()> {
    /// #         let mut buf = [0; 1500];
    /// #         udp.wait_readable(None)?;
    /// #         let (n, from) = udp.receive_from(&mut buf, MsgFlags::empty())?;
    /// #         let mut reply = Message::decode(&buf[..n])?;
    /// #         reply.flags.response = true;
    /// #         let name = reply.questions[0].name.clone();
    /// #         let data = RecordData::A(Ipv4Address([192, 0, 2, 1]));
    /// #         reply.answers.push(ResourceRecord { name, class: CLASS_IN, ttl: 60, data });
    /// #         let (host, port) = from.expect("a sender");
    /// #         udp.send_to(&reply.encode()?, Some((&host, port)), MsgFlags::empty())?;
    /// #         Ok(())
    /// #     });
    /// #     Ok(addr)
    /// # }
    /// let resolver = Resolver::new("/nonexistent/resolv.conf", "/nonexistent/hosts")
    ///     .with_nameservers([one_shot_server()?]);
    /// let response = resolver.query("printer.example", RecordType::A, &QueryOptions::new())?;
    /// let record = &response.answers()[0];
    /// assert_eq!(record.data, RecordData::A("192.0.2.1".parse::<std::net::Ipv4Addr>()?.into()));
    /// assert_eq!(record.to_string(), "printer.example.\t60\tIN\tA\t192.0.2.1"); // dig's layout
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn query(&self, name: &str, qtype: RecordType, options: &QueryOptions) -> Result<Response> {
        self.start_query(name, qtype, options)?.wait()
    }
}

/// The process-wide resolver on `/etc/resolv.conf` and `/etc/hosts`, used by the free
/// functions.
///
/// ```
/// use sockets::dns::default_resolver;
///
/// assert!(std::ptr::eq(default_resolver(), default_resolver()));
/// ```
pub fn default_resolver() -> &'static Resolver {
    static DEFAULT: OnceLock<Resolver> = OnceLock::new();
    DEFAULT.get_or_init(Resolver::system)
}

/// IOLib's `(dns-query name :type qtype)` on the default resolver.
///
/// Blocks as [`Resolver::query`] does.
///
/// # Errors
/// As [`Resolver::query`].
///
/// # Examples
///
/// Compiled, not run: it asks the system's DNS servers, over the internet.
///
/// ```no_run
/// use sockets::dns::*;
///
/// for record in dns_query("example.com", RecordType::MX)?.answers() {
///     println!("{record}");
/// }
/// # Ok::<(), sockets::Error>(())
/// ```
pub fn dns_query(name: &str, qtype: RecordType) -> Result<Response> {
    default_resolver().query(name, qtype, &QueryOptions::default())
}

/// IOLib's `dns-query` with its keywords.
///
/// Blocks as [`Resolver::query`] does.
///
/// # Errors
/// As [`Resolver::query`].
///
/// # Examples
///
/// ```
/// use sockets::dns::*;
/// use std::time::Duration;
/// # use sockets::{make_socket, BaseSocket, Ipv4Address, MsgFlags, SocketKind};
/// # fn one_shot_server() -> sockets::Result<std::net::SocketAddr> {
/// #     let udp = make_socket().kind(SocketKind::Datagram).local_host("127.0.0.1")
/// #         .build_datagram()?;
/// #     let addr = std::net::SocketAddr::from(([127, 0, 0, 1], udp.local_port()?));
/// #     std::thread::spawn(move || -> sockets::Result<()> {
/// #         let mut buf = [0; 1500];
/// #         udp.wait_readable(None)?;
/// #         let (n, from) = udp.receive_from(&mut buf, MsgFlags::empty())?;
/// #         let mut reply = Message::decode(&buf[..n])?;
/// #         reply.flags.response = true;
/// #         let name = reply.questions[0].name.clone();
/// #         let data = RecordData::A(Ipv4Address([192, 0, 2, 1]));
/// #         reply.answers.push(ResourceRecord { name, class: CLASS_IN, ttl: 60, data });
/// #         let (host, port) = from.expect("a sender");
/// #         udp.send_to(&reply.encode()?, Some((&host, port)), MsgFlags::empty())?;
/// #         Ok(())
/// #     });
/// #     Ok(addr)
/// # }
/// let options = QueryOptions::new()
///     .nameservers([one_shot_server()?])
///     .search(Vec::<String>::new())
///     .timeout(Duration::from_secs(2));
/// let response = dns_query_with("printer.example", RecordType::A, &options)?;
/// assert_eq!(response.rcode(), Rcode::NoError);
/// # Ok::<(), sockets::Error>(())
/// ```
pub fn dns_query_with(name: &str, qtype: RecordType, options: &QueryOptions) -> Result<Response> {
    default_resolver().query(name, qtype, options)
}

/// Parses servers written as IOLib's `:nameservers` list: addresses, `ADDR:PORT` or
/// `[ADDR]:PORT`.
///
/// # Errors
/// [`Error::InvalidAddress`](crate::Error::InvalidAddress) for one that does not parse.
///
/// # Examples
///
/// ```
/// use sockets::dns::parse_nameservers;
///
/// let servers = parse_nameservers(&["10.0.0.1", "[::1]:5353"])?;
/// assert_eq!(servers[0].port(), 53);
/// assert_eq!(servers[1].to_string(), "[::1]:5353");
/// assert!(parse_nameservers(&["not an address"]).is_err());
/// # Ok::<(), sockets::Error>(())
/// ```
pub fn parse_nameservers<S: AsRef<str>>(list: &[S]) -> Result<Vec<SocketAddr>> {
    list.iter()
        .map(|s| {
            parse_server(s.as_ref())
                .ok_or_else(|| crate::Error::InvalidAddress(s.as_ref().to_string()))
        })
        .collect()
}
