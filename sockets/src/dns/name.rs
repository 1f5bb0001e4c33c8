//! Domain names: the text form used by the API (`www.example.com`, escapes `\.`, `\\` and
//! `\DDD` as in zone files and dig, no trailing dot, `.` for the root) and the wire form,
//! with bounded, loop-proof decompression on read and suffix compression on write.

use super::wire::{Reader, WireError, Writer};

/// Longest name on the wire (RFC 1035 §2.3.4).
pub const MAX_NAME_LEN: usize = 255;
/// Longest label.
pub const MAX_LABEL_LEN: usize = 63;
/// Most compression pointers followed in one name; real messages need a handful.
pub const MAX_POINTER_HOPS: usize = 32;

/// Splits a text name into labels, undoing escapes. `""` and `"."` are the root (no labels);
/// one trailing dot is allowed.
///
/// # Errors
/// [`WireError::BadName`] for empty labels, bad escapes, labels over 63 bytes or names over
/// 255 bytes on the wire.
///
/// # Examples
///
/// ```
/// use sockets::dns::{format_name, parse_name};
///
/// let labels = parse_name("www.Example.com.")?;
/// assert_eq!(labels, [b"www".to_vec(), b"Example".to_vec(), b"com".to_vec()]);
/// assert_eq!(format_name(&labels), "www.Example.com");
/// assert!(parse_name(&"x".repeat(64)).is_err()); // a label is at most 63 bytes
/// # Ok::<(), sockets::dns::WireError>(())
/// ```
pub fn parse_name(text: &str) -> Result<Vec<Vec<u8>>, WireError> {
    let bad = |reason| WireError::BadName {
        name: text.to_string(),
        reason,
    };
    if text.is_empty() || text == "." {
        return Ok(Vec::new());
    }
    let mut labels = Vec::new();
    let mut label = Vec::new();
    let mut bytes = text.bytes().peekable();
    let mut ended_with_dot = false;
    while let Some(b) = bytes.next() {
        ended_with_dot = false;
        match b {
            b'.' => {
                if label.is_empty() {
                    return Err(bad("empty label"));
                }
                labels.push(std::mem::take(&mut label));
                ended_with_dot = true;
            }
            b'\\' => {
                let Some(c) = bytes.next() else {
                    return Err(bad("escape at end of name"));
                };
                if c.is_ascii_digit() {
                    let (Some(d2), Some(d3)) = (bytes.next(), bytes.next()) else {
                        return Err(bad("\\DDD escape needs three digits"));
                    };
                    if !d2.is_ascii_digit() || !d3.is_ascii_digit() {
                        return Err(bad("\\DDD escape needs three digits"));
                    }
                    let v = (c - b'0') as u32 * 100 + (d2 - b'0') as u32 * 10 + (d3 - b'0') as u32;
                    label.push(u8::try_from(v).map_err(|_| bad("\\DDD escape above 255"))?);
                } else {
                    label.push(c);
                }
            }
            _ => label.push(b),
        }
        if label.len() > MAX_LABEL_LEN {
            return Err(bad("label longer than 63 bytes"));
        }
    }
    if !ended_with_dot {
        labels.push(label);
    }
    if wire_len(&labels) > MAX_NAME_LEN {
        return Err(bad("name longer than 255 bytes"));
    }
    Ok(labels)
}

/// The wire length of a name made of `labels` (with the final zero byte).
fn wire_len(labels: &[Vec<u8>]) -> usize {
    labels.iter().map(|l| l.len() + 1).sum::<usize>() + 1
}

/// Joins labels into the text form, escaping `.`, `\` and bytes outside printable ASCII.
///
/// See [`parse_name`] for an example.
pub fn format_name(labels: &[Vec<u8>]) -> String {
    if labels.is_empty() {
        return ".".to_string();
    }
    let mut out = String::new();
    for (i, label) in labels.iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        for &b in label {
            push_escaped(&mut out, b, b".\\", 0x21);
        }
    }
    out
}

/// Appends byte `b` in master-file form (RFC 1035 §5.1): a byte of `specials` behind a
/// backslash, a printable one (from `first_printable` to `~`) as itself, any other as `\DDD`.
pub(crate) fn push_escaped(out: &mut String, b: u8, specials: &[u8], first_printable: u8) {
    if specials.contains(&b) {
        out.push('\\');
        out.push(b as char);
    } else if (first_printable..=0x7e).contains(&b) {
        out.push(b as char);
    } else {
        out.push_str(&format!("\\{b:03}"));
    }
}

/// Whether two text names are the same name (ASCII case-insensitive, trailing dot ignored).
///
/// ```
/// use sockets::dns::names_equal;
///
/// assert!(names_equal("Example.COM.", "example.com"));
/// ```
pub fn names_equal(a: &str, b: &str) -> bool {
    match (parse_name(a), parse_name(b)) {
        (Ok(x), Ok(y)) => {
            x.len() == y.len() && x.iter().zip(&y).all(|(l, m)| l.eq_ignore_ascii_case(m))
        }
        _ => false,
    }
}

/// Reads a possibly compressed name. Each pointer must point strictly before the place the
/// previous jump landed (so before itself, and never into a loop), outside the 12-byte
/// header, and at most [`MAX_POINTER_HOPS`] pointers are followed.
pub(crate) fn read_name(r: &mut Reader<'_>) -> Result<Vec<Vec<u8>>, WireError> {
    let msg = r.msg;
    let mut labels = Vec::new();
    let mut len = 1;
    let mut pos = r.pos;
    // The lowest offset reached by a jump so far; the next target must be below it.
    let mut floor = r.pos;
    let mut jumped = false;
    let mut hops = 0;
    loop {
        let Some(&b) = msg.get(pos) else {
            return Err(WireError::Truncated { what: "name" });
        };
        match b & 0xc0 {
            0x00 => {
                let n = b as usize;
                if n == 0 {
                    pos += 1;
                    break;
                }
                let Some(label) = msg.get(pos + 1..pos + 1 + n) else {
                    return Err(WireError::Truncated { what: "label" });
                };
                len += n + 1;
                if len > MAX_NAME_LEN {
                    return Err(WireError::NameTooLong);
                }
                labels.push(label.to_vec());
                pos += 1 + n;
            }
            0xc0 => {
                let Some(&lo) = msg.get(pos + 1) else {
                    return Err(WireError::Truncated {
                        what: "compression pointer",
                    });
                };
                let target = (((b & 0x3f) as usize) << 8) | lo as usize;
                if target >= floor || target < 12 {
                    return Err(WireError::BadPointer {
                        offset: pos,
                        target,
                    });
                }
                hops += 1;
                if hops > MAX_POINTER_HOPS {
                    return Err(WireError::TooManyPointers);
                }
                if !jumped {
                    r.pos = pos + 2;
                    jumped = true;
                }
                floor = target;
                pos = target;
            }
            _ => return Err(WireError::BadLabel { offset: pos }),
        }
    }
    if !jumped {
        r.pos = pos;
    }
    Ok(labels)
}

/// Writes a name, replacing its longest suffix already in the message (same bytes) by a pointer when
/// `compress`, and remembering the suffixes it writes for later names.
pub(crate) fn write_name(w: &mut Writer, labels: &[Vec<u8>], compress: bool) {
    for i in 0..labels.len() {
        let key = suffix_key(&labels[i..]);
        if compress {
            if let Some(&at) = w.names.get(&key) {
                w.u16(0xc000 | at);
                return;
            }
        }
        if let Ok(at) = u16::try_from(w.buf.len()) {
            if at < 0x4000 {
                w.names.entry(key).or_insert(at);
            }
        }
        w.u8(labels[i].len() as u8);
        w.bytes(&labels[i]);
    }
    w.u8(0);
}

/// The wire form of a name suffix: the compression table's key. Exact bytes, not folded to
/// one case: a pointer must not change the case of the name it stands for (servers and
/// resolvers that randomise case, DNS 0x20, rely on it coming back as sent).
fn suffix_key(labels: &[Vec<u8>]) -> Vec<u8> {
    let mut key = Vec::new();
    for l in labels {
        key.push(l.len() as u8);
        key.extend_from_slice(l);
    }
    key
}

/// Reads a name and returns its text form.
pub(crate) fn read_text_name(r: &mut Reader<'_>) -> Result<String, WireError> {
    read_name(r).map(|l| format_name(&l))
}

/// Writes a text name.
pub(crate) fn write_text_name(w: &mut Writer, name: &str, compress: bool) -> Result<(), WireError> {
    let labels = parse_name(name)?;
    write_name(w, &labels, compress);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Vec<u8> {
        vec![0; 12]
    }

    #[test]
    fn text_forms() {
        assert_eq!(parse_name("").unwrap().len(), 0);
        assert_eq!(parse_name(".").unwrap().len(), 0);
        assert_eq!(parse_name("a.b.").unwrap(), parse_name("a.b").unwrap());
        let l = parse_name(r"a\.b.c\\d.\255x").unwrap();
        assert_eq!(l, vec![b"a.b".to_vec(), b"c\\d".to_vec(), vec![255, b'x']]);
        assert_eq!(format_name(&l), r"a\.b.c\\d.\255x");
        assert!(parse_name("a..b").is_err());
        assert!(parse_name(".a").is_err());
        assert!(parse_name(r"a\").is_err());
        assert!(parse_name(r"a\25").is_err());
        assert!(parse_name(r"a\256").is_err());
        assert!(parse_name(&"x".repeat(64)).is_err());
        assert!(parse_name(&"x".repeat(63)).is_ok());
        let long = vec!["abcdefghi"; 26].join(".");
        assert!(parse_name(&long).is_err());
        assert!(names_equal("WWW.Example.com.", "www.example.COM"));
        assert!(!names_equal("www.example.com", "www.example.org"));
    }

    #[test]
    fn compression_round_trip() {
        let mut w = Writer {
            buf: header(),
            ..Default::default()
        };
        write_text_name(&mut w, "www.example.com", true).unwrap();
        let first = w.buf.len();
        write_text_name(&mut w, "mail.example.com", true).unwrap();
        // "mail" label (5 bytes) + a 2-byte pointer to "example.com".
        assert_eq!(w.buf.len() - first, 7);
        write_text_name(&mut w, "www.example.com", true).unwrap();
        assert_eq!(w.buf.len() - first, 9);
        // Case is kept: "EXAMPLE" is written out, only "com" is shared.
        write_text_name(&mut w, "ns.EXAMPLE.com", true).unwrap();
        assert_eq!(w.buf.len() - first, 9 + 3 + 8 + 2);
        let mut r = Reader::new(&w.buf);
        r.pos = 12;
        assert_eq!(read_text_name(&mut r).unwrap(), "www.example.com");
        assert_eq!(read_text_name(&mut r).unwrap(), "mail.example.com");
        assert_eq!(read_text_name(&mut r).unwrap(), "www.example.com");
        assert_eq!(read_text_name(&mut r).unwrap(), "ns.EXAMPLE.com");
        assert_eq!(r.pos, w.buf.len());
    }

    #[test]
    fn hostile_pointers() {
        // A pointer to itself.
        let mut m = header();
        m.extend([0xc0, 12]);
        let mut r = Reader::new(&m);
        r.pos = 12;
        assert!(matches!(
            read_name(&mut r),
            Err(WireError::BadPointer { .. })
        ));
        // A forward pointer.
        let mut m = header();
        m.extend([0xc0, 14, 0]);
        let mut r = Reader::new(&m);
        r.pos = 12;
        assert!(matches!(
            read_name(&mut r),
            Err(WireError::BadPointer { .. })
        ));
        // A two-step loop: label at 12 then pointer at 14 back to 12, read from 14.
        let mut m = header();
        m.extend([1, b'a', 0xc0, 12]);
        let mut r = Reader::new(&m);
        r.pos = 14;
        assert!(matches!(
            read_name(&mut r),
            Err(WireError::BadPointer { .. })
        ));
        // A pointer into the header.
        let mut m = header();
        m.extend([0xc0, 2]);
        let mut r = Reader::new(&m);
        r.pos = 12;
        assert!(read_name(&mut r).is_err());
        // Reserved label types and truncation.
        for tail in [
            &[0x40u8, 1][..],
            &[0x80, 1],
            &[5, b'a'],
            &[0xc0],
            &[1, b'a'],
        ] {
            let mut m = header();
            m.extend(tail);
            let mut r = Reader::new(&m);
            r.pos = 12;
            assert!(read_name(&mut r).is_err(), "{tail:?}");
        }
        // A long chain of backward pointers stops at the hop limit.
        let mut m = header();
        m.push(0);
        for i in 0..100u16 {
            let target = if i == 0 { 12 } else { 13 + (i - 1) * 2 };
            m.extend([0xc0 | (target >> 8) as u8, target as u8]);
        }
        let mut r = Reader::new(&m);
        r.pos = m.len() - 2;
        assert_eq!(read_name(&mut r), Err(WireError::TooManyPointers));
    }
}
