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
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the servers (IOLib's `:nameservers`).
    pub fn nameservers(mut self, servers: impl IntoIterator<Item = SocketAddr>) -> Self {
        self.nameservers = Some(servers.into_iter().collect());
        self
    }

    /// Sets the search domains (IOLib's `:search`); empty turns searching off.
    pub fn search<S: Into<String>>(mut self, domains: impl IntoIterator<Item = S>) -> Self {
        self.search = Some(domains.into_iter().map(Into::into).collect());
        self
    }

    /// Sets the number of rounds (IOLib's `:repeat`).
    pub fn repeat(mut self, n: u32) -> Self {
        self.repeat = Some(n);
        self
    }

    /// Sets the per-server timeout (IOLib's `:timeout`).
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = Some(t);
        self
    }

    /// Queries over TCP.
    pub fn tcp(mut self, on: bool) -> Self {
        self.tcp = on;
        self
    }

    /// Leaves out EDNS0.
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
#[derive(Debug)]
pub struct Resolver {
    files: Mutex<Files>,
    nameservers: Option<Vec<SocketAddr>>,
}

impl Resolver {
    /// A resolver on `/etc/resolv.conf` and `/etc/hosts`.
    pub fn system() -> Resolver {
        Resolver::new(RESOLV_CONF_PATH, HOSTS_PATH)
    }

    /// A resolver on other files (tests, chroots).
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
    pub fn with_nameservers(mut self, servers: impl IntoIterator<Item = SocketAddr>) -> Self {
        self.nameservers = Some(servers.into_iter().collect());
        self
    }

    fn files(&self) -> std::sync::MutexGuard<'_, Files> {
        // The files are plain caches: a panic elsewhere cannot leave them inconsistent.
        self.files.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The current `resolv.conf` contents (re-read if the file changed).
    pub fn resolv_conf(&self) -> Arc<ResolvConf> {
        self.files().resolv_conf.get()
    }

    /// The current hosts file contents (re-read if the file changed).
    pub fn hosts(&self) -> Arc<HostsFile> {
        self.files().hosts.get()
    }

    /// The paths of the configuration file and the hosts file.
    pub fn paths(&self) -> (PathBuf, PathBuf) {
        let f = self.files();
        (f.resolv_conf.path().to_owned(), f.hosts.path().to_owned())
    }

    /// The servers a query with `options` asks: the options', this resolver's, or the
    /// configuration file's.
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
    /// # Errors
    /// [`Error::ResolverNoName`](crate::Error::ResolverNoName) when no name of the search list
    /// exists, [`Error::ResolverAgain`](crate::Error::ResolverAgain) (SERVFAIL, unreachable
    /// servers), [`Error::ResolverFail`](crate::Error::ResolverFail) (REFUSED and other
    /// refusals), [`Error::ResolverTimeout`](crate::Error::ResolverTimeout).
    /// A name with no records of this type is not an error: the response has no answers.
    pub fn query(&self, name: &str, qtype: RecordType, options: &QueryOptions) -> Result<Response> {
        self.start_query(name, qtype, options)?.wait()
    }
}

/// The process-wide resolver on `/etc/resolv.conf` and `/etc/hosts`, used by the free
/// functions.
pub fn default_resolver() -> &'static Resolver {
    static DEFAULT: OnceLock<Resolver> = OnceLock::new();
    DEFAULT.get_or_init(Resolver::system)
}

/// IOLib's `(dns-query name :type qtype)` on the default resolver.
///
/// # Errors
/// As [`Resolver::query`].
pub fn dns_query(name: &str, qtype: RecordType) -> Result<Response> {
    default_resolver().query(name, qtype, &QueryOptions::default())
}

/// IOLib's `dns-query` with its keywords.
///
/// # Errors
/// As [`Resolver::query`].
pub fn dns_query_with(name: &str, qtype: RecordType, options: &QueryOptions) -> Result<Response> {
    default_resolver().query(name, qtype, options)
}

/// Parses servers written as IOLib's `:nameservers` list: addresses, `ADDR:PORT` or
/// `[ADDR]:PORT`.
///
/// # Errors
/// [`Error::InvalidAddress`](crate::Error::InvalidAddress) for one that does not parse.
pub fn parse_nameservers<S: AsRef<str>>(list: &[S]) -> Result<Vec<SocketAddr>> {
    list.iter()
        .map(|s| {
            parse_server(s.as_ref())
                .ok_or_else(|| crate::Error::InvalidAddress(s.as_ref().to_string()))
        })
        .collect()
}
