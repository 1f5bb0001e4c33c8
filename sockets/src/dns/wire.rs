//! The byte level of DNS messages: a bounds-checked reader, a writer that remembers where
//! names were written (for compression), and [`WireError`], every way a message can be
//! malformed or unencodable.

use std::collections::HashMap;

/// Why a DNS message could not be decoded or encoded. Decoding never panics: every malformed
/// input is one of these.
///
/// ```
/// use sockets::dns::{Message, WireError};
/// use sockets::Error;
///
/// let e: Error = Message::decode(b"\x00\x01").unwrap_err().into();
/// assert!(matches!(e, Error::Dns(WireError::Truncated { .. })));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// The message ended inside `what` (also: counts larger than the message).
    #[error("message truncated while reading {what}")]
    Truncated {
        /// The part being read.
        what: &'static str,
    },
    /// A label longer than 63 bytes, or of a reserved type (`0x40`/`0x80` prefixes).
    #[error("bad label at offset {offset}")]
    BadLabel {
        /// Where the label starts.
        offset: usize,
    },
    /// A compression pointer that does not point strictly backwards, or points into the
    /// header.
    #[error("bad compression pointer at offset {offset} to {target}")]
    BadPointer {
        /// Where the pointer is.
        offset: usize,
        /// Where it points.
        target: usize,
    },
    /// More compression pointers in one name than any real message needs.
    #[error("too many compression pointers in one name")]
    TooManyPointers,
    /// A name longer than 255 bytes on the wire.
    #[error("domain name longer than 255 bytes")]
    NameTooLong,
    /// A name in text form that is not a valid domain name.
    #[error("invalid domain name {name:?}: {reason}")]
    BadName {
        /// The text.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Record data that does not fit its type.
    #[error("bad {rtype} record data: {reason}")]
    BadRdata {
        /// The record type's name.
        rtype: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A TXT/HINFO character string longer than 255 bytes (encoding).
    #[error("character string longer than 255 bytes")]
    StringTooLong,
    /// The encoded message would exceed 65,535 bytes, or a section more than 65,535 entries.
    #[error("message too large to encode")]
    MessageTooLarge,
}

/// A cursor over a whole message; every read is bounds-checked.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    pub(crate) msg: &'a [u8],
    pub(crate) pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(msg: &'a [u8]) -> Self {
        Reader { msg, pos: 0 }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.msg.len() - self.pos
    }

    pub(crate) fn bytes(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], WireError> {
        if self.remaining() < n {
            return Err(WireError::Truncated { what });
        }
        let s = &self.msg[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, WireError> {
        Ok(self.bytes(1, what)?[0])
    }

    pub(crate) fn u16(&mut self, what: &'static str) -> Result<u16, WireError> {
        let b = self.bytes(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub(crate) fn u32(&mut self, what: &'static str) -> Result<u32, WireError> {
        let b = self.bytes(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// A growing message with a table of where each written name suffix starts.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    pub(crate) buf: Vec<u8>,
    /// Lower-cased wire form of a name suffix -> its offset (only offsets < 0x4000).
    pub(crate) names: HashMap<Vec<u8>, u16>,
}

impl Writer {
    pub(crate) fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    pub(crate) fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub(crate) fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub(crate) fn bytes(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }

    /// A length-prefixed character string (TXT, HINFO).
    pub(crate) fn char_string(&mut self, s: &[u8]) -> Result<(), WireError> {
        let len = u8::try_from(s.len()).map_err(|_| WireError::StringTooLong)?;
        self.u8(len);
        self.bytes(s);
        Ok(())
    }

    /// Overwrites the big-endian `u16` at `at` (record lengths, counts).
    pub(crate) fn patch_u16(&mut self, at: usize, v: u16) {
        self.buf[at..at + 2].copy_from_slice(&v.to_be_bytes());
    }
}

/// Reads a length-prefixed character string.
pub(crate) fn read_char_string<'a>(
    r: &mut Reader<'a>,
    what: &'static str,
) -> Result<&'a [u8], WireError> {
    let n = r.u8(what)? as usize;
    r.bytes(n, what)
}
