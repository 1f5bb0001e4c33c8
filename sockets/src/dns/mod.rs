//! IOLib's DNS resolver (its `sockets/dns/`): message encoding and decoding, queries over UDP
//! with TCP fallback, `/etc/resolv.conf` and `/etc/hosts` reloaded when they change, and
//! `lookup_hostname` on top.
//!
//! Files: `wire` (bounds-checked bytes, [`WireError`]), `name` (names, compression), `record`
//! (types and typed data), `message` (header, sections, EDNS0).

mod message;
mod name;
mod record;
mod wire;

pub use message::{Edns, Flags, Message, Question, Rcode, EDNS_UDP_PAYLOAD};
pub use name::{
    format_name, names_equal, parse_name, MAX_LABEL_LEN, MAX_NAME_LEN, MAX_POINTER_HOPS,
};
pub use record::{quote_string, RecordData, RecordType, ResourceRecord, Soa, CLASS_IN};
pub use wire::WireError;
