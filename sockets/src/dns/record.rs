//! Resource records: IOLib's record types (A, AAAA, CNAME, NS, SOA, PTR, MX, TXT, SRV, HINFO,
//! WKS, ANY) as [`RecordType`], their data as the typed [`RecordData`], and their wire form.

use super::name::{push_escaped, read_text_name, write_text_name};
use super::wire::{read_char_string, Reader, WireError, Writer};
use crate::address::{Ipv4Address, Ipv6Address};
use std::fmt;
use std::str::FromStr;

/// The Internet class (`IN`), the only one the resolver asks for.
pub const CLASS_IN: u16 = 1;

/// A record type (IOLib's `:type` keyword of `dns-query`).
///
/// ```
/// use sockets::dns::RecordType;
///
/// assert_eq!(":mx".parse::<RecordType>()?, RecordType::MX);
/// assert_eq!(RecordType::from_code(28), RecordType::AAAA);
/// assert_eq!(RecordType::AAAA.code(), 28);
/// # Ok::<(), sockets::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordType {
    /// IPv4 address (1).
    A,
    /// Authoritative name server (2).
    NS,
    /// Canonical name (5).
    CNAME,
    /// Start of authority (6).
    SOA,
    /// Well-known services (11).
    WKS,
    /// Domain name pointer, for reverse lookups (12).
    PTR,
    /// Host information (13).
    HINFO,
    /// Mail exchange (15).
    MX,
    /// Text strings (16).
    TXT,
    /// IPv6 address (28).
    AAAA,
    /// Service location (33).
    SRV,
    /// EDNS0 pseudo-record (41); appears only in [`Message::edns`](super::Message::edns).
    OPT,
    /// Any type (255), only in questions.
    ANY,
    /// Any other type, by number.
    Other(u16),
}

const NAMED: [(RecordType, u16, &str); 13] = [
    (RecordType::A, 1, "A"),
    (RecordType::NS, 2, "NS"),
    (RecordType::CNAME, 5, "CNAME"),
    (RecordType::SOA, 6, "SOA"),
    (RecordType::WKS, 11, "WKS"),
    (RecordType::PTR, 12, "PTR"),
    (RecordType::HINFO, 13, "HINFO"),
    (RecordType::MX, 15, "MX"),
    (RecordType::TXT, 16, "TXT"),
    (RecordType::AAAA, 28, "AAAA"),
    (RecordType::SRV, 33, "SRV"),
    (RecordType::OPT, 41, "OPT"),
    (RecordType::ANY, 255, "ANY"),
];

impl RecordType {
    /// The type's number on the wire.
    pub fn code(self) -> u16 {
        match self {
            RecordType::Other(n) => n,
            t => NAMED.iter().find(|e| e.0 == t).map_or(0, |e| e.1),
        }
    }

    /// The type with number `code` (named when it is one of the above).
    pub fn from_code(code: u16) -> RecordType {
        NAMED
            .iter()
            .find(|e| e.1 == code)
            .map_or(RecordType::Other(code), |e| e.0)
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match NAMED
            .iter()
            .find(|e| e.0 == RecordType::from_code(self.code()))
        {
            Some(e) => f.write_str(e.2),
            None => write!(f, "TYPE{}", self.code()),
        }
    }
}

impl FromStr for RecordType {
    type Err = WireError;

    /// Parses `A`, `aaaa`, `:mx` (IOLib's keyword) or `TYPE65`.
    fn from_str(s: &str) -> Result<Self, WireError> {
        let s = s.trim_start_matches(':');
        if let Some(e) = NAMED.iter().find(|e| e.2.eq_ignore_ascii_case(s)) {
            return Ok(e.0);
        }
        s.get(..4)
            .filter(|p| p.eq_ignore_ascii_case("TYPE"))
            .and_then(|_| s[4..].parse().ok())
            .map(RecordType::from_code)
            .ok_or_else(|| WireError::BadRdata {
                rtype: s.to_string(),
                reason: "unknown record type",
            })
    }
}

/// A start-of-authority record's data.
///
/// ```
/// use sockets::dns::{RecordData, RecordType, Soa};
///
/// let soa = Soa { mname: "ns.example.".into(), rname: "admin.example.".into(), serial: 1,
///     refresh: 3600, retry: 600, expire: 86400, minimum: 60 };
/// assert_eq!(RecordData::Soa(soa).record_type(), RecordType::SOA);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Soa {
    /// The primary name server.
    pub mname: String,
    /// The responsible person's mailbox, as a name.
    pub rname: String,
    /// The zone's serial number.
    pub serial: u32,
    /// Refresh interval, seconds.
    pub refresh: u32,
    /// Retry interval, seconds.
    pub retry: u32,
    /// Expiry, seconds.
    pub expire: u32,
    /// Negative-caching TTL, seconds.
    pub minimum: u32,
}

/// A record's data, typed by its record type.
///
/// See [`Resolver::query`](crate::dns::Resolver::query) for records in an answer.
///
/// ```
/// use sockets::dns::{RecordData, RecordType};
///
/// let mx = RecordData::Mx { preference: 10, exchange: "mail.example.com".into() };
/// assert_eq!(mx.record_type(), RecordType::MX);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RecordData {
    /// An IPv4 address.
    A(Ipv4Address),
    /// An IPv6 address.
    Aaaa(Ipv6Address),
    /// The canonical name this name is an alias of.
    Cname(String),
    /// A name server of the zone.
    Ns(String),
    /// The name an address maps back to.
    Ptr(String),
    /// The zone's start of authority.
    Soa(Soa),
    /// A mail exchange and its preference (lower is preferred).
    Mx {
        /// Preference.
        preference: u16,
        /// The exchange host.
        exchange: String,
    },
    /// One or more character strings (bytes, usually text).
    Txt(Vec<Vec<u8>>),
    /// A service's location (RFC 2782).
    Srv {
        /// Priority (lower first).
        priority: u16,
        /// Weight among equal priorities.
        weight: u16,
        /// Port.
        port: u16,
        /// Target host.
        target: String,
    },
    /// Host information: CPU and operating system.
    Hinfo {
        /// CPU type.
        cpu: Vec<u8>,
        /// Operating system.
        os: Vec<u8>,
    },
    /// Well-known services: an address, an IP protocol number and a port bitmap.
    Wks {
        /// The address.
        address: Ipv4Address,
        /// IP protocol (6 = TCP, 17 = UDP).
        protocol: u8,
        /// Bit `n` (most significant first) set = port `n` offered.
        bitmap: Vec<u8>,
    },
    /// Data of a type without a decoder here (RFC 3597 form).
    Unknown {
        /// The type's number.
        rtype: u16,
        /// The raw data.
        data: Vec<u8>,
    },
}

impl RecordData {
    /// The record type this data belongs to.
    pub fn record_type(&self) -> RecordType {
        match self {
            RecordData::A(_) => RecordType::A,
            RecordData::Aaaa(_) => RecordType::AAAA,
            RecordData::Cname(_) => RecordType::CNAME,
            RecordData::Ns(_) => RecordType::NS,
            RecordData::Ptr(_) => RecordType::PTR,
            RecordData::Soa(_) => RecordType::SOA,
            RecordData::Mx { .. } => RecordType::MX,
            RecordData::Txt(_) => RecordType::TXT,
            RecordData::Srv { .. } => RecordType::SRV,
            RecordData::Hinfo { .. } => RecordType::HINFO,
            RecordData::Wks { .. } => RecordType::WKS,
            RecordData::Unknown { rtype, .. } => RecordType::from_code(*rtype),
        }
    }

    /// Decodes `len` bytes of data of type `rtype` at the reader's position (names inside may
    /// point anywhere earlier in the message).
    pub(crate) fn decode(rtype: u16, r: &mut Reader<'_>, len: usize) -> Result<Self, WireError> {
        let end = r.pos + len;
        if end > r.msg.len() {
            return Err(WireError::Truncated {
                what: "record data",
            });
        }
        let bad = |reason| WireError::BadRdata {
            rtype: RecordType::from_code(rtype).to_string(),
            reason,
        };
        // Reads of the data's own fields must not run past its end.
        let mut d = Reader {
            msg: &r.msg[..end],
            pos: r.pos,
        };
        let data = match RecordType::from_code(rtype) {
            RecordType::A if len == 4 => {
                let b = d.bytes(4, "A")?;
                RecordData::A(Ipv4Address([b[0], b[1], b[2], b[3]]))
            }
            RecordType::A => return Err(bad("length is not 4")),
            RecordType::AAAA if len == 16 => {
                let b = d.bytes(16, "AAAA")?;
                let mut w = [0u16; 8];
                for (i, x) in w.iter_mut().enumerate() {
                    *x = u16::from_be_bytes([b[2 * i], b[2 * i + 1]]);
                }
                RecordData::Aaaa(Ipv6Address(w))
            }
            RecordType::AAAA => return Err(bad("length is not 16")),
            RecordType::CNAME => RecordData::Cname(read_text_name(&mut d)?),
            RecordType::NS => RecordData::Ns(read_text_name(&mut d)?),
            RecordType::PTR => RecordData::Ptr(read_text_name(&mut d)?),
            RecordType::SOA => RecordData::Soa(Soa {
                mname: read_text_name(&mut d)?,
                rname: read_text_name(&mut d)?,
                serial: d.u32("SOA")?,
                refresh: d.u32("SOA")?,
                retry: d.u32("SOA")?,
                expire: d.u32("SOA")?,
                minimum: d.u32("SOA")?,
            }),
            RecordType::MX => RecordData::Mx {
                preference: d.u16("MX")?,
                exchange: read_text_name(&mut d)?,
            },
            RecordType::TXT => {
                let mut strings = Vec::new();
                while d.remaining() > 0 {
                    strings.push(read_char_string(&mut d, "TXT")?.to_vec());
                }
                if strings.is_empty() {
                    return Err(bad("no character string"));
                }
                RecordData::Txt(strings)
            }
            RecordType::SRV => RecordData::Srv {
                priority: d.u16("SRV")?,
                weight: d.u16("SRV")?,
                port: d.u16("SRV")?,
                target: read_text_name(&mut d)?,
            },
            RecordType::HINFO => RecordData::Hinfo {
                cpu: read_char_string(&mut d, "HINFO")?.to_vec(),
                os: read_char_string(&mut d, "HINFO")?.to_vec(),
            },
            RecordType::WKS if len >= 5 => {
                let b = d.bytes(5, "WKS")?;
                RecordData::Wks {
                    address: Ipv4Address([b[0], b[1], b[2], b[3]]),
                    protocol: b[4],
                    bitmap: d.bytes(len - 5, "WKS")?.to_vec(),
                }
            }
            RecordType::WKS => return Err(bad("shorter than 5 bytes")),
            _ => RecordData::Unknown {
                rtype,
                data: d.bytes(len, "record data")?.to_vec(),
            },
        };
        if d.pos != end {
            return Err(bad("data longer than its fields"));
        }
        r.pos = end;
        Ok(data)
    }

    /// Appends the data (without its length). Names of the RFC 1035 types are compressed;
    /// SRV's target is not (RFC 2782).
    pub(crate) fn encode(&self, w: &mut Writer) -> Result<(), WireError> {
        match self {
            RecordData::A(a) => w.bytes(&a.0),
            RecordData::Aaaa(a) => a.0.iter().for_each(|x| w.u16(*x)),
            RecordData::Cname(n) | RecordData::Ns(n) | RecordData::Ptr(n) => {
                write_text_name(w, n, true)?
            }
            RecordData::Soa(s) => {
                write_text_name(w, &s.mname, true)?;
                write_text_name(w, &s.rname, true)?;
                for v in [s.serial, s.refresh, s.retry, s.expire, s.minimum] {
                    w.u32(v);
                }
            }
            RecordData::Mx {
                preference,
                exchange,
            } => {
                w.u16(*preference);
                write_text_name(w, exchange, true)?;
            }
            RecordData::Txt(strings) => {
                for s in strings {
                    w.char_string(s)?;
                }
            }
            RecordData::Srv {
                priority,
                weight,
                port,
                target,
            } => {
                w.u16(*priority);
                w.u16(*weight);
                w.u16(*port);
                write_text_name(w, target, false)?;
            }
            RecordData::Hinfo { cpu, os } => {
                w.char_string(cpu)?;
                w.char_string(os)?;
            }
            RecordData::Wks {
                address,
                protocol,
                bitmap,
            } => {
                w.bytes(&address.0);
                w.u8(*protocol);
                w.bytes(bitmap);
            }
            RecordData::Unknown { data, .. } => w.bytes(data),
        }
        Ok(())
    }
}

/// A character string in zone-file form: quoted, with `"` and `\` escaped and bytes outside
/// printable ASCII as `\DDD`.
///
/// ```
/// use sockets::dns::quote_string;
///
/// assert_eq!(quote_string(b"say \"hi\"\n"), r#""say \"hi\"\010""#);
/// ```
pub fn quote_string(s: &[u8]) -> String {
    let mut out = String::from("\"");
    for &b in s {
        push_escaped(&mut out, b, b"\"\\", 0x20);
    }
    out.push('"');
    out
}

/// Names end with a dot in the zone-file form.
fn fqdn(name: &str) -> String {
    if name == "." {
        ".".into()
    } else {
        format!("{name}.")
    }
}

impl fmt::Display for RecordData {
    /// The data column of dig's answer section.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordData::A(a) => write!(f, "{a}"),
            RecordData::Aaaa(a) => write!(f, "{a}"),
            RecordData::Cname(n) | RecordData::Ns(n) | RecordData::Ptr(n) => f.write_str(&fqdn(n)),
            RecordData::Soa(s) => write!(
                f,
                "{} {} {} {} {} {} {}",
                fqdn(&s.mname),
                fqdn(&s.rname),
                s.serial,
                s.refresh,
                s.retry,
                s.expire,
                s.minimum
            ),
            RecordData::Mx {
                preference,
                exchange,
            } => write!(f, "{preference} {}", fqdn(exchange)),
            RecordData::Txt(strings) => {
                let quoted: Vec<String> = strings.iter().map(|s| quote_string(s)).collect();
                f.write_str(&quoted.join(" "))
            }
            RecordData::Srv {
                priority,
                weight,
                port,
                target,
            } => write!(f, "{priority} {weight} {port} {}", fqdn(target)),
            RecordData::Hinfo { cpu, os } => {
                write!(f, "{} {}", quote_string(cpu), quote_string(os))
            }
            RecordData::Wks {
                address,
                protocol,
                bitmap,
            } => {
                write!(f, "{address} {protocol}")?;
                for (i, byte) in bitmap.iter().enumerate() {
                    for bit in 0..8 {
                        if byte & (0x80 >> bit) != 0 {
                            write!(f, " {}", i * 8 + bit)?;
                        }
                    }
                }
                Ok(())
            }
            RecordData::Unknown { data, .. } => {
                write!(f, "\\# {}", data.len())?;
                if !data.is_empty() {
                    f.write_str(" ")?;
                }
                data.iter().try_for_each(|b| write!(f, "{b:02x}"))
            }
        }
    }
}

/// A resource record of a message's answer, authority or additional section.
///
/// See [`Resolver::query`](crate::dns::Resolver::query) for an example.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResourceRecord {
    /// The owner name.
    pub name: String,
    /// The class ([`CLASS_IN`]).
    pub class: u16,
    /// Time to live, seconds.
    pub ttl: u32,
    /// The typed data (its type is the record's type).
    pub data: RecordData,
}

impl ResourceRecord {
    /// The record's type.
    pub fn record_type(&self) -> RecordType {
        self.data.record_type()
    }
}

impl fmt::Display for ResourceRecord {
    /// One line of dig's answer section: `NAME. TTL IN TYPE DATA`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let class = if self.class == CLASS_IN {
            "IN".to_string()
        } else {
            format!("CLASS{}", self.class)
        };
        write!(
            f,
            "{}\t{}\t{class}\t{}\t{}",
            fqdn(&self.name),
            self.ttl,
            self.record_type(),
            self.data
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_type_names() {
        for t in [
            "A", "AAAA", "CNAME", "NS", "SOA", "PTR", "MX", "TXT", "SRV", "HINFO", "WKS", "ANY",
        ] {
            let parsed: RecordType = t.parse().unwrap();
            assert_eq!(parsed.to_string(), t);
            assert_eq!(RecordType::from_code(parsed.code()), parsed);
        }
        assert_eq!(":mx".parse::<RecordType>().unwrap(), RecordType::MX);
        assert_eq!(
            "type65".parse::<RecordType>().unwrap(),
            RecordType::Other(65)
        );
        assert_eq!(RecordType::Other(65).to_string(), "TYPE65");
        assert!("bogus".parse::<RecordType>().is_err());
    }
}
