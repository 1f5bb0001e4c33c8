//! DNS messages (RFC 1035 §4): header, question, the three record sections and EDNS0's OPT
//! pseudo-record (RFC 6891), encoded with name compression and decoded without trusting a
//! single count or offset.

pub use super::header::{Flags, Rcode};
use super::name::{names_equal, read_text_name, write_text_name};
use super::record::{RecordData, RecordType, ResourceRecord, CLASS_IN};
use super::wire::{Reader, WireError, Writer};

/// The UDP payload size the resolver advertises with EDNS0: the DNS flag day 2020 value, which
/// avoids IP fragmentation on any path.
pub const EDNS_UDP_PAYLOAD: u16 = 1232;

/// A question: the name, type and class asked for.
///
/// ```
/// use sockets::dns::{Message, RecordType};
///
/// let a = Message::query(1, "Example.com", RecordType::A, false);
/// let b = Message::query(2, "example.com.", RecordType::A, true);
/// assert!(a.questions[0].matches(&b.questions[0]));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Question {
    /// The name, in text form.
    pub name: String,
    /// The type.
    pub qtype: RecordType,
    /// The class ([`CLASS_IN`]).
    pub qclass: u16,
}

impl Question {
    /// Whether `other` asks the same thing (names compare case-insensitively).
    pub fn matches(&self, other: &Question) -> bool {
        self.qtype.code() == other.qtype.code()
            && self.qclass == other.qclass
            && names_equal(&self.name, &other.name)
    }
}

/// EDNS0 (RFC 6891): the OPT pseudo-record's fields.
///
/// ```
/// use sockets::dns::{Message, RecordType, EDNS_UDP_PAYLOAD};
///
/// let query = Message::query(1, "example.com", RecordType::A, true);
/// assert_eq!(query.edns.map(|e| e.udp_payload_size), Some(EDNS_UDP_PAYLOAD));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Edns {
    /// The largest UDP payload the sender can receive.
    pub udp_payload_size: u16,
    /// The EDNS version (0).
    pub version: u8,
    /// DO: DNSSEC records wanted.
    pub dnssec_ok: bool,
    /// Options as (code, data) pairs.
    pub options: Vec<(u16, Vec<u8>)>,
}

impl Default for Edns {
    fn default() -> Self {
        Edns {
            udp_payload_size: EDNS_UDP_PAYLOAD,
            version: 0,
            dnssec_ok: false,
            options: Vec::new(),
        }
    }
}

/// A DNS message: a query or a response.
///
/// ```
/// use sockets::dns::*;
///
/// let query = Message::query(0x1234, "example.com", RecordType::AAAA, true);
/// let bytes = query.encode()?;
/// assert_eq!(&bytes[..2], &[0x12, 0x34]); // the id
/// assert_eq!(Message::decode(&bytes)?, query);
/// # Ok::<(), sockets::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    /// The id that pairs a response with its query.
    pub id: u16,
    /// The flag bits.
    pub flags: Flags,
    /// The response code (12 bits with EDNS0's extension).
    pub rcode: u16,
    /// The question section.
    pub questions: Vec<Question>,
    /// The answer section.
    pub answers: Vec<ResourceRecord>,
    /// The authority section.
    pub authorities: Vec<ResourceRecord>,
    /// The additional section, without the OPT record (see `edns`).
    pub additionals: Vec<ResourceRecord>,
    /// EDNS0 information, from the OPT record when there is one.
    pub edns: Option<Edns>,
}

impl Message {
    /// A standard recursive query for `name`'s `qtype` records in class IN, with EDNS0
    /// advertising [`EDNS_UDP_PAYLOAD`] when `edns`.
    ///
    /// See [`Message`] for an example.
    pub fn query(id: u16, name: &str, qtype: RecordType, edns: bool) -> Message {
        Message {
            id,
            flags: Flags {
                recursion_desired: true,
                ..Flags::default()
            },
            questions: vec![Question {
                name: name.to_string(),
                qtype,
                qclass: CLASS_IN,
            }],
            edns: edns.then(Edns::default),
            ..Message::default()
        }
    }

    /// The response code as an [`Rcode`].
    ///
    /// ```
    /// use sockets::dns::{Message, Rcode, RecordType};
    ///
    /// let mut reply = Message::query(1, "nowhere.example", RecordType::A, false);
    /// reply.rcode = 3;
    /// assert_eq!(reply.response_code(), Rcode::NxDomain);
    /// ```
    pub fn response_code(&self) -> Rcode {
        Rcode::from_code(self.rcode)
    }

    /// Encodes the message, compressing names.
    ///
    /// # Errors
    /// [`WireError::BadName`] for a name that is not one, [`WireError::StringTooLong`],
    /// [`WireError::MessageTooLarge`].
    ///
    /// # Examples
    ///
    /// See [`Message`].
    pub fn encode(&self) -> Result<Vec<u8>, WireError> {
        let mut w = Writer::default();
        w.u16(self.id);
        let f = &self.flags;
        let hi = (f.response as u8) << 7
            | (f.opcode & 0x0f) << 3
            | (f.authoritative as u8) << 2
            | (f.truncated as u8) << 1
            | f.recursion_desired as u8;
        let lo = (f.recursion_available as u8) << 7
            | (f.authentic_data as u8) << 5
            | (f.checking_disabled as u8) << 4
            | (self.rcode & 0x0f) as u8;
        w.u8(hi);
        w.u8(lo);
        let count = |n: usize| u16::try_from(n).map_err(|_| WireError::MessageTooLarge);
        w.u16(count(self.questions.len())?);
        w.u16(count(self.answers.len())?);
        w.u16(count(self.authorities.len())?);
        w.u16(count(
            self.additionals.len() + self.edns.is_some() as usize,
        )?);
        for q in &self.questions {
            write_text_name(&mut w, &q.name, true)?;
            w.u16(q.qtype.code());
            w.u16(q.qclass);
        }
        for rr in self
            .answers
            .iter()
            .chain(&self.authorities)
            .chain(&self.additionals)
        {
            write_text_name(&mut w, &rr.name, true)?;
            w.u16(rr.record_type().code());
            w.u16(rr.class);
            w.u32(rr.ttl);
            let at = w.buf.len();
            w.u16(0);
            rr.data.encode(&mut w)?;
            let len = w.buf.len() - at - 2;
            w.patch_u16(
                at,
                u16::try_from(len).map_err(|_| WireError::MessageTooLarge)?,
            );
        }
        if let Some(e) = &self.edns {
            w.u8(0); // the root name
            w.u16(RecordType::OPT.code());
            w.u16(e.udp_payload_size);
            w.u8((self.rcode >> 4) as u8);
            w.u8(e.version);
            w.u16(if e.dnssec_ok { 0x8000 } else { 0 });
            let at = w.buf.len();
            w.u16(0);
            for (code, data) in &e.options {
                w.u16(*code);
                w.u16(u16::try_from(data.len()).map_err(|_| WireError::MessageTooLarge)?);
                w.bytes(data);
            }
            let len = w.buf.len() - at - 2;
            w.patch_u16(
                at,
                u16::try_from(len).map_err(|_| WireError::MessageTooLarge)?,
            );
        }
        if w.buf.len() > u16::MAX as usize {
            return Err(WireError::MessageTooLarge);
        }
        Ok(w.buf)
    }

    /// Decodes a message. Counts are believed only as far as the bytes go; names are
    /// decompressed with a hop limit and backwards-only pointers; trailing bytes after the
    /// last record are ignored (as resolvers do).
    ///
    /// # Errors
    /// A [`WireError`] naming what is malformed; never a panic.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockets::dns::{Message, WireError};
    ///
    /// assert!(matches!(Message::decode(&[0; 5]), Err(WireError::Truncated { .. })));
    /// ```
    pub fn decode(bytes: &[u8]) -> Result<Message, WireError> {
        let mut r = Reader::new(bytes);
        let id = r.u16("header")?;
        let hi = r.u8("header")?;
        let lo = r.u8("header")?;
        let counts = [
            r.u16("header")?,
            r.u16("header")?,
            r.u16("header")?,
            r.u16("header")?,
        ];
        let mut m = Message {
            id,
            flags: Flags {
                response: hi & 0x80 != 0,
                opcode: (hi >> 3) & 0x0f,
                authoritative: hi & 0x04 != 0,
                truncated: hi & 0x02 != 0,
                recursion_desired: hi & 0x01 != 0,
                recursion_available: lo & 0x80 != 0,
                authentic_data: lo & 0x20 != 0,
                checking_disabled: lo & 0x10 != 0,
            },
            rcode: (lo & 0x0f) as u16,
            ..Message::default()
        };
        // A question takes at least 5 bytes, a record at least 11: no count can make us
        // reserve more than the message could hold.
        m.questions
            .reserve((counts[0] as usize).min(r.remaining() / 5));
        for _ in 0..counts[0] {
            let name = read_text_name(&mut r)?;
            m.questions.push(Question {
                name,
                qtype: RecordType::from_code(r.u16("question")?),
                qclass: r.u16("question")?,
            });
        }
        for (section, &n) in counts[1..].iter().enumerate() {
            let mut records = Vec::with_capacity((n as usize).min(r.remaining() / 11));
            for _ in 0..n {
                let name = read_text_name(&mut r)?;
                let rtype = r.u16("record")?;
                let class = r.u16("record")?;
                let ttl = r.u32("record")?;
                let len = r.u16("record")? as usize;
                if rtype == RecordType::OPT.code() && section == 2 {
                    if m.edns.is_some() {
                        return Err(WireError::BadRdata {
                            rtype: "OPT".into(),
                            reason: "more than one OPT record",
                        });
                    }
                    m.rcode |= ((ttl >> 24) as u16) << 4;
                    m.edns = Some(Edns {
                        udp_payload_size: class,
                        version: (ttl >> 16) as u8,
                        dnssec_ok: ttl & 0x8000 != 0,
                        options: read_options(&mut r, len)?,
                    });
                    continue;
                }
                let data = RecordData::decode(rtype, &mut r, len)?;
                records.push(ResourceRecord {
                    name,
                    class,
                    ttl,
                    data,
                });
            }
            match section {
                0 => m.answers = records,
                1 => m.authorities = records,
                _ => m.additionals = records,
            }
        }
        Ok(m)
    }
}

fn read_options(r: &mut Reader<'_>, len: usize) -> Result<Vec<(u16, Vec<u8>)>, WireError> {
    let data = r.bytes(len, "OPT record")?;
    let mut d = Reader::new(data);
    let mut options = Vec::new();
    while d.remaining() > 0 {
        let code = d.u16("EDNS option")?;
        let n = d.u16("EDNS option")? as usize;
        options.push((code, d.bytes(n, "EDNS option")?.to_vec()));
    }
    Ok(options)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::record::Soa;
    use crate::{Ipv4Address, Ipv6Address};

    fn rr(name: &str, data: RecordData) -> ResourceRecord {
        ResourceRecord {
            name: name.into(),
            class: CLASS_IN,
            ttl: 3600,
            data,
        }
    }

    fn every_type() -> Vec<ResourceRecord> {
        vec![
            rr("a.example.com", RecordData::A(Ipv4Address([192, 0, 2, 1]))),
            rr(
                "a.example.com",
                RecordData::Aaaa(Ipv6Address([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1])),
            ),
            rr("www.example.com", RecordData::Cname("a.example.com".into())),
            rr("example.com", RecordData::Ns("ns1.example.com".into())),
            rr(
                "1.2.0.192.in-addr.arpa",
                RecordData::Ptr("a.example.com".into()),
            ),
            rr(
                "example.com",
                RecordData::Soa(Soa {
                    mname: "ns1.example.com".into(),
                    rname: "hostmaster.example.com".into(),
                    serial: 2024010101,
                    refresh: 7200,
                    retry: 3600,
                    expire: 1209600,
                    minimum: 300,
                }),
            ),
            rr(
                "example.com",
                RecordData::Mx {
                    preference: 10,
                    exchange: "mail.example.com".into(),
                },
            ),
            rr(
                "example.com",
                RecordData::Txt(vec![b"v=spf1 -all".to_vec(), b"\"quoted\"\x01".to_vec()]),
            ),
            rr(
                "_sip._tcp.example.com",
                RecordData::Srv {
                    priority: 1,
                    weight: 5,
                    port: 5060,
                    target: "sip.example.com".into(),
                },
            ),
            rr(
                "a.example.com",
                RecordData::Hinfo {
                    cpu: b"x86_64".to_vec(),
                    os: b"Linux".to_vec(),
                },
            ),
            rr(
                "a.example.com",
                RecordData::Wks {
                    address: Ipv4Address([192, 0, 2, 1]),
                    protocol: 6,
                    bitmap: vec![0, 0, 0x40],
                },
            ),
            rr(
                "a.example.com",
                RecordData::Unknown {
                    rtype: 99,
                    data: vec![1, 2, 3],
                },
            ),
        ]
    }

    #[test]
    fn round_trip_every_type() {
        let mut m = Message::query(0xbeef, "example.com", RecordType::ANY, true);
        m.flags.response = true;
        m.flags.recursion_available = true;
        m.rcode = Rcode::NxDomain.code();
        m.answers = every_type();
        m.authorities = vec![rr("example.com", RecordData::Ns("ns2.example.com".into()))];
        m.additionals = vec![rr(
            "ns2.example.com",
            RecordData::A(Ipv4Address([1, 2, 3, 4])),
        )];
        let bytes = m.encode().unwrap();
        let back = Message::decode(&bytes).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.response_code(), Rcode::NxDomain);
        // Every type also round-trips alone, and its Display is dig's data column.
        for r in every_type() {
            let mut one = Message::query(1, &r.name, r.record_type(), false);
            one.answers = vec![r.clone()];
            assert_eq!(Message::decode(&one.encode().unwrap()).unwrap(), one);
        }
        let shown: Vec<String> = every_type().iter().map(|r| r.data.to_string()).collect();
        assert_eq!(shown[0], "192.0.2.1");
        assert_eq!(shown[1], "2001:db8::1");
        assert_eq!(shown[6], "10 mail.example.com.");
        assert_eq!(shown[7], r#""v=spf1 -all" "\"quoted\"\001""#);
        assert_eq!(shown[8], "1 5 5060 sip.example.com.");
        assert_eq!(shown[10], "192.0.2.1 6 17");
        assert_eq!(shown[11], "\\# 3 010203");
        assert_eq!(
            every_type()[6].to_string(),
            "example.com.\t3600\tIN\tMX\t10 mail.example.com."
        );
    }

    #[test]
    fn compression_shrinks_and_extended_rcode() {
        let mut m = Message::query(7, "example.com", RecordType::MX, true);
        m.answers = (0..20)
            .map(|i| {
                rr(
                    "example.com",
                    RecordData::Mx {
                        preference: i,
                        exchange: format!("mx{i}.example.com"),
                    },
                )
            })
            .collect();
        m.rcode = 0x1f3; // needs the OPT record's extended bits
        let bytes = m.encode().unwrap();
        // Each record: a 2-byte owner pointer + 10 fixed + 2 preference + "mxN" + pointer.
        assert!(bytes.len() < 12 + 17 + 20 * 22 + 11 + 20, "{}", bytes.len());
        let back = Message::decode(&bytes).unwrap();
        assert_eq!(back.rcode, 0x1f3);
        assert_eq!(back.answers, m.answers);
        assert_eq!(back.edns.unwrap().udp_payload_size, EDNS_UDP_PAYLOAD);
    }

    #[test]
    fn malformed_messages_are_errors() {
        let good = Message::query(9, "www.example.com", RecordType::A, true)
            .encode()
            .unwrap();
        // Every truncation fails cleanly (the whole message has no optional tail).
        for n in 0..good.len() {
            assert!(Message::decode(&good[..n]).is_err(), "prefix {n}");
        }
        // Counts larger than the message.
        let mut big = good.clone();
        big[6] = 0xff;
        big[7] = 0xff;
        assert!(matches!(
            Message::decode(&big),
            Err(WireError::Truncated { .. })
        ));
        // Record data length beyond the message, and data longer than its fields.
        let mut m = Message::query(9, "x", RecordType::A, false);
        m.answers = vec![rr("x", RecordData::A(Ipv4Address([1, 2, 3, 4])))];
        let mut b = m.encode().unwrap();
        let len_at = b.len() - 6;
        b[len_at + 1] = 200;
        assert!(Message::decode(&b).is_err());
        b[len_at + 1] = 3;
        assert!(matches!(
            Message::decode(&b),
            Err(WireError::BadRdata { .. })
        ));
        // A CNAME whose data holds a name plus junk.
        let mut m = Message::query(9, "x", RecordType::CNAME, false);
        m.answers = vec![rr("x", RecordData::Cname("y".into()))];
        let mut b = m.encode().unwrap();
        let n = b.len();
        b[n - 4] += 1; // rdlength 3 -> 4
        b.push(0);
        assert!(Message::decode(&b).is_err());
    }

    #[test]
    fn compression_keeps_case() {
        // Found by the fuzzer: a case-folding compression table made "ns.exampLe.com" point
        // at an earlier "example.com", changing the name on the round trip.
        let mut m = Message::query(1, "www.example.com", RecordType::NS, false);
        m.answers = vec![
            rr("example.com", RecordData::Ns("ns.exampLe.com".into())),
            rr("EXAMPLE.COM", RecordData::Ns("NS.example.com".into())),
        ];
        let back = Message::decode(&m.encode().unwrap()).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn encode_rejects_bad_input() {
        let m = Message::query(1, "a..b", RecordType::A, false);
        assert!(matches!(m.encode(), Err(WireError::BadName { .. })));
        let mut m = Message::query(1, "a", RecordType::TXT, false);
        m.answers = vec![rr("a", RecordData::Txt(vec![vec![b'x'; 256]]))];
        assert_eq!(m.encode(), Err(WireError::StringTooLong));
    }
}
