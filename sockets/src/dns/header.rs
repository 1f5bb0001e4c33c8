//! The fixed part of a DNS message's header: the flag bits ([`Flags`]) and the response code
//! ([`Rcode`], with EDNS0's extended bits).

use std::fmt;

/// A response code, with the extended bits of EDNS0 folded in.
///
/// ```
/// use sockets::dns::Rcode;
///
/// assert_eq!(Rcode::from_code(3), Rcode::NxDomain);
/// assert_eq!(Rcode::NxDomain.to_string(), "NXDOMAIN");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rcode {
    /// 0: no error.
    NoError,
    /// 1: the server could not parse the query.
    FormErr,
    /// 2: the server failed (a temporary failure for the asker).
    ServFail,
    /// 3: the name does not exist.
    NxDomain,
    /// 4: the server does not do this kind of query.
    NotImp,
    /// 5: the server refuses to answer.
    Refused,
    /// Any other code.
    Other(u16),
}

impl Rcode {
    /// The code's number.
    ///
    /// ```
    /// use sockets::dns::Rcode;
    ///
    /// assert_eq!(Rcode::ServFail.code(), 2);
    /// ```
    pub fn code(self) -> u16 {
        match self {
            Rcode::NoError => 0,
            Rcode::FormErr => 1,
            Rcode::ServFail => 2,
            Rcode::NxDomain => 3,
            Rcode::NotImp => 4,
            Rcode::Refused => 5,
            Rcode::Other(n) => n,
        }
    }

    /// The code numbered `n`.
    pub fn from_code(n: u16) -> Rcode {
        match n {
            0 => Rcode::NoError,
            1 => Rcode::FormErr,
            2 => Rcode::ServFail,
            3 => Rcode::NxDomain,
            4 => Rcode::NotImp,
            5 => Rcode::Refused,
            n => Rcode::Other(n),
        }
    }
}

impl fmt::Display for Rcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rcode::NoError => f.write_str("NOERROR"),
            Rcode::FormErr => f.write_str("FORMERR"),
            Rcode::ServFail => f.write_str("SERVFAIL"),
            Rcode::NxDomain => f.write_str("NXDOMAIN"),
            Rcode::NotImp => f.write_str("NOTIMP"),
            Rcode::Refused => f.write_str("REFUSED"),
            Rcode::Other(n) => write!(f, "RCODE{n}"),
        }
    }
}

/// The header's flag bits (besides the opcode and response code).
///
/// ```
/// use sockets::dns::{Message, RecordType};
///
/// let query = Message::query(1, "example.com", RecordType::A, false);
/// assert!(query.flags.recursion_desired && !query.flags.response);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Flags {
    /// QR: this is a response.
    pub response: bool,
    /// The opcode (0 = standard query).
    pub opcode: u8,
    /// AA: authoritative answer.
    pub authoritative: bool,
    /// TC: truncated; ask again over TCP.
    pub truncated: bool,
    /// RD: recursion desired.
    pub recursion_desired: bool,
    /// RA: recursion available.
    pub recursion_available: bool,
    /// AD: authentic data (DNSSEC).
    pub authentic_data: bool,
    /// CD: checking disabled (DNSSEC).
    pub checking_disabled: bool,
}
