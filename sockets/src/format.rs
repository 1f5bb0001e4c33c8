//! External formats (IOLib's `:external-format`): an encoding and a line-end style.

use crate::error::{Error, Result};

/// A character encoding.
///
/// ```
/// use sockets::{Encoding, ExternalFormat, LineEnd};
///
/// let latin1 = ExternalFormat::new(Encoding::Latin1, LineEnd::Lf);
/// assert_eq!(latin1.decode(&[0x63, 0x61, 0x66, 0xe9], 1)?, "café");
/// assert_eq!(Encoding::Latin1.name(), "Latin-1");
/// # Ok::<(), sockets::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Encoding {
    /// UTF-8 (IOLib `:utf-8`).
    #[default]
    Utf8,
    /// ISO-8859-1 (IOLib `:latin-1`): every byte is the code point of the same value.
    Latin1,
    /// 7-bit ASCII (IOLib `:ascii`).
    Ascii,
}

impl Encoding {
    /// The encoding's name.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Latin1 => "Latin-1",
            Encoding::Ascii => "ASCII",
        }
    }
}

/// A line-end style (IOLib `:eol-style`).
///
/// ```
/// use sockets::LineEnd;
///
/// assert_eq!(LineEnd::Crlf.bytes(), b"\r\n");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LineEnd {
    /// `\n` (IOLib `:lf`).
    #[default]
    Lf,
    /// `\r\n` (IOLib `:crlf`). Reading also accepts a bare `\n`, as people typing into `nc`
    /// send.
    Crlf,
    /// `\r` (IOLib `:cr`).
    Cr,
}

impl LineEnd {
    /// The bytes written for a newline.
    pub fn bytes(self) -> &'static [u8] {
        match self {
            LineEnd::Lf => b"\n",
            LineEnd::Crlf => b"\r\n",
            LineEnd::Cr => b"\r",
        }
    }
    /// The byte that ends a line when reading.
    pub(crate) fn terminator(self) -> u8 {
        match self {
            LineEnd::Lf | LineEnd::Crlf => b'\n',
            LineEnd::Cr => b'\r',
        }
    }
}

/// An external format: encoding plus line end. IOLib's `'(:utf-8 :eol-style :crlf)` is
/// `ExternalFormat::new(Encoding::Utf8, LineEnd::Crlf)`.
///
/// ```
/// use sockets::*;
///
/// let (mut a, mut b) = make_socket_pair(ExternalFormat::parse("latin-1:crlf")?)?;
/// writeln!(a, "café")?;
/// a.finish_output()?;
/// let mut raw = [0; 8];
/// let n = b.receive_from(&mut raw, MsgFlags::PEEK)?;
/// assert_eq!(&raw[..n], b"caf\xe9\r\n");
/// assert_eq!(b.read_line()?, "café");
/// # Ok::<(), sockets::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ExternalFormat {
    /// The encoding.
    pub encoding: Encoding,
    /// The line end.
    pub line_end: LineEnd,
}

impl ExternalFormat {
    /// UTF-8 with CRLF line ends, what every tutorial program uses.
    pub const UTF8_CRLF: ExternalFormat = ExternalFormat::new(Encoding::Utf8, LineEnd::Crlf);
    /// UTF-8 with LF line ends.
    pub const UTF8_LF: ExternalFormat = ExternalFormat::new(Encoding::Utf8, LineEnd::Lf);

    /// A format from its parts.
    pub const fn new(encoding: Encoding, line_end: LineEnd) -> Self {
        ExternalFormat { encoding, line_end }
    }

    /// Parses IOLib-style names: `"utf-8"`, `"latin-1"`/`"iso-8859-1"`, `"ascii"`, optionally
    /// followed by `:lf`, `:crlf` or `:cr` (e.g. `"utf-8:crlf"`).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the unknown encoding or line end.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockets::{Encoding, ExternalFormat, LineEnd};
    ///
    /// assert_eq!(ExternalFormat::parse(":utf-8:crlf")?, ExternalFormat::UTF8_CRLF);
    /// assert_eq!(ExternalFormat::parse("ascii")?.line_end, LineEnd::Lf);
    /// assert!(ExternalFormat::parse("ebcdic").is_err());
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn parse(s: &str) -> Result<Self> {
        let lower = s.trim_start_matches(':').to_ascii_lowercase();
        let (enc, eol) = lower.split_once(':').unwrap_or((lower.as_str(), "lf"));
        let encoding = match enc.trim_start_matches(':') {
            "utf-8" | "utf8" => Encoding::Utf8,
            "latin-1" | "latin1" | "iso-8859-1" => Encoding::Latin1,
            "ascii" | "us-ascii" => Encoding::Ascii,
            other => {
                return Err(Error::InvalidArgument(format!(
                    "unknown encoding {other:?}"
                )))
            }
        };
        let line_end = match eol.trim_start_matches(':') {
            "lf" => LineEnd::Lf,
            "crlf" => LineEnd::Crlf,
            "cr" => LineEnd::Cr,
            other => {
                return Err(Error::InvalidArgument(format!(
                    "unknown eol-style {other:?}"
                )))
            }
        };
        Ok(ExternalFormat { encoding, line_end })
    }

    /// Decodes one line's bytes (without its line end). `line` is for error messages.
    ///
    /// # Errors
    /// [`Error::Encoding`] with the line number and byte offset of the first byte the encoding
    /// refuses (invalid UTF-8, a byte above 127 in ASCII).
    ///
    /// # Examples
    ///
    /// ```
    /// use sockets::{Error, ExternalFormat};
    ///
    /// assert_eq!(ExternalFormat::UTF8_LF.decode("žluť".as_bytes(), 1)?, "žluť");
    /// let bad = ExternalFormat::UTF8_LF.decode(b"\xff", 3);
    /// assert!(matches!(bad, Err(Error::Encoding { line: 3, .. })));
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn decode(&self, bytes: &[u8], line: u64) -> Result<String> {
        let err = |offset: usize, detail: String| Error::Encoding {
            encoding: self.encoding.name(),
            line,
            offset,
            detail,
        };
        match self.encoding {
            Encoding::Utf8 => match std::str::from_utf8(bytes) {
                Ok(s) => Ok(s.to_owned()),
                Err(e) => {
                    let at = e.valid_up_to();
                    let len = e.error_len().unwrap_or(bytes.len() - at);
                    Err(err(
                        at,
                        format!(
                            "invalid UTF-8 sequence {:02x?}",
                            &bytes[at..at + len.min(4)]
                        ),
                    ))
                }
            },
            Encoding::Latin1 => Ok(bytes.iter().map(|&b| b as char).collect()),
            Encoding::Ascii => match bytes.iter().position(|&b| b > 0x7f) {
                None => Ok(String::from_utf8(bytes.to_vec()).expect("ASCII is UTF-8")),
                Some(at) => Err(err(at, format!("byte {:#04x} is not ASCII", bytes[at]))),
            },
        }
    }

    /// Appends `text` to `out`, encoded, with each `\n` written as this format's line end.
    /// `line` is the 1-based output line for error messages. On error nothing is appended.
    ///
    /// # Errors
    /// [`Error::Encoding`] for a character the encoding cannot write (`é` in ASCII, `€` in
    /// Latin-1).
    ///
    /// # Examples
    ///
    /// ```
    /// use sockets::ExternalFormat;
    ///
    /// let mut out = Vec::new();
    /// ExternalFormat::UTF8_CRLF.encode_into("a\nb", &mut out, 1)?;
    /// assert_eq!(out, b"a\r\nb");
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn encode_into(&self, text: &str, out: &mut Vec<u8>, line: u64) -> Result<()> {
        let start = out.len();
        let eol = self.line_end.bytes();
        let fail = |out: &mut Vec<u8>, offset: usize, c: char| {
            out.truncate(start);
            Err(Error::Encoding {
                encoding: self.encoding.name(),
                line,
                offset,
                detail: format!("character {c:?} (U+{:04X}) cannot be encoded", c as u32),
            })
        };
        match self.encoding {
            Encoding::Utf8 => {
                if self.line_end == LineEnd::Lf {
                    out.extend_from_slice(text.as_bytes());
                } else {
                    let mut rest = text.as_bytes();
                    while let Some(i) = memchr::memchr(b'\n', rest) {
                        out.extend_from_slice(&rest[..i]);
                        out.extend_from_slice(eol);
                        rest = &rest[i + 1..];
                    }
                    out.extend_from_slice(rest);
                }
            }
            Encoding::Latin1 | Encoding::Ascii => {
                let max = if self.encoding == Encoding::Ascii {
                    0x7f
                } else {
                    0xff
                };
                for (offset, c) in text.char_indices() {
                    if c == '\n' {
                        out.extend_from_slice(eol);
                    } else if (c as u32) <= max {
                        out.push(c as u8);
                    } else {
                        return fail(out, offset, c);
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_names() {
        assert_eq!(
            ExternalFormat::parse("utf-8:crlf").unwrap(),
            ExternalFormat::UTF8_CRLF
        );
        assert_eq!(
            ExternalFormat::parse(":latin-1").unwrap(),
            ExternalFormat::new(Encoding::Latin1, LineEnd::Lf)
        );
        assert!(ExternalFormat::parse("ebcdic").is_err());
        assert!(ExternalFormat::parse("utf-8:crcr").is_err());
    }

    #[test]
    fn decode_errors_say_where() {
        let f = ExternalFormat::UTF8_LF;
        let e = f.decode(b"ab\xffcd", 7).unwrap_err();
        match e {
            Error::Encoding { line, offset, .. } => assert_eq!((line, offset), (7, 2)),
            _ => panic!("{e}"),
        }
        let a = ExternalFormat::new(Encoding::Ascii, LineEnd::Lf);
        assert!(a.decode(b"caf\xe9", 1).is_err());
        let l = ExternalFormat::new(Encoding::Latin1, LineEnd::Lf);
        assert_eq!(l.decode(b"caf\xe9", 1).unwrap(), "café");
    }

    #[test]
    fn encode_translates_newlines_and_refuses_unencodable() {
        let mut out = Vec::new();
        ExternalFormat::UTF8_CRLF
            .encode_into("a\nb\n", &mut out, 1)
            .unwrap();
        assert_eq!(out, b"a\r\nb\r\n");
        out.clear();
        let l = ExternalFormat::new(Encoding::Latin1, LineEnd::Cr);
        l.encode_into("é\n", &mut out, 1).unwrap();
        assert_eq!(out, b"\xe9\r");
        out.clear();
        assert!(l.encode_into("€", &mut out, 1).is_err());
        assert!(out.is_empty());
    }
}
