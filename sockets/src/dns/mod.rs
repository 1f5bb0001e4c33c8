//! IOLib's DNS resolver (its `sockets/dns/`): message encoding and decoding, queries over UDP
//! with TCP fallback, `/etc/resolv.conf` and `/etc/hosts` reloaded when they change, and
//! `lookup_hostname` on top.
//!
//! A [`Resolver`] on files of its own answers from its hosts file without any network:
//!
//! ```
//! use sockets::dns::*;
//!
//! let dir = std::env::temp_dir().join(format!("dns-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! std::fs::write(dir.join("hosts"), "192.0.2.7 printer\n")?;
//! let resolver = Resolver::new(dir.join("no-resolv.conf"), dir.join("hosts"));
//! let found = resolver.lookup_hostname("printer", &LookupOptions::new())?;
//! assert_eq!(found.address.to_string(), "192.0.2.7");
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Asking the system's servers (compiled, not run: it needs the internet):
//!
//! ```no_run
//! use sockets::dns::{dns_query, RecordData, RecordType};
//!
//! for record in dns_query("example.com", RecordType::MX)?.answers() {
//!     if let RecordData::Mx { preference, exchange } = &record.data {
//!         println!("{preference} {exchange}");
//!     }
//! }
//! # Ok::<(), sockets::Error>(())
//! ```
//!
//! Files, bottom up: `wire` (bounds-checked bytes, [`WireError`]), `name` (names, compression),
//! `record` (types and typed data), `header` (flags, response codes), `message` (sections,
//! EDNS0), `config`
//! (`resolv.conf`), `hosts` (the hosts file), `watch` (re-reading files that changed), `plan`
//! (search list, reverse names), `transport` (the UDP and TCP sockets), `query` (the sans-I/O
//! [`DnsQuery`]), `resolver` ([`Resolver`], [`dns_query`]), `lookup` (`lookup_hostname`).
mod config;
mod header;
mod hosts;
mod lookup;
mod message;
mod name;
mod plan;
mod query;
mod record;
mod resolver;
mod transport;
mod watch;
mod wire;

pub use config::{parse_server, ResolvConf, DEFAULT_ATTEMPTS, DEFAULT_TIMEOUT, DNS_PORT};
pub use hosts::{HostsEntry, HostsFile, HostsMatch};
pub use lookup::{lookup_address, lookup_hostname_with, LookupOptions};
pub use message::{Edns, Flags, Message, Question, Rcode, EDNS_UDP_PAYLOAD};
pub use name::{
    format_name, names_equal, parse_name, MAX_LABEL_LEN, MAX_NAME_LEN, MAX_POINTER_HOPS,
};
pub use plan::reverse_name;
pub use query::{DnsQuery, Response, Step};
pub use record::{quote_string, RecordData, RecordType, ResourceRecord, Soa, CLASS_IN};
pub use resolver::{
    default_resolver, dns_query, dns_query_with, parse_nameservers, QueryOptions, Resolver,
    HOSTS_PATH, RESOLV_CONF_PATH,
};
pub use wire::WireError;
