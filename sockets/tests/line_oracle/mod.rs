//! The line reader against a model: bytes fed through a socketpair in pieces, read with
//! `read_line_no_hang` after each piece and `read_line` after the writer closes, must give
//! exactly the lines (or the too-long and encoding errors) a plain split of the whole input
//! gives. Shared by the randomized test (`line_reader_random.rs`) and the cargo-fuzz target
//! (`fuzz/fuzz_targets/line_reader.rs`).

use sockets::*;

/// One run: the input, where it is cut into writes, the format and the maximum line length.
#[derive(Debug, Clone)]
pub struct Case {
    /// The bytes the peer sends.
    pub data: Vec<u8>,
    /// Increasing offsets into `data` where one write ends and the next begins.
    pub cuts: Vec<usize>,
    /// The reader's external format.
    pub format: ExternalFormat,
    /// The reader's maximum line length.
    pub max: usize,
}

/// What one read gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A line.
    Line(String),
    /// `Error::LineTooLong`.
    TooLong,
    /// `Error::Encoding`.
    Encoding,
}

/// The byte that ends a line in `line_end` (CRLF lines end at the `\n`).
fn terminator(line_end: LineEnd) -> u8 {
    match line_end {
        LineEnd::Cr => b'\r',
        _ => b'\n',
    }
}

impl Case {
    /// A case from arbitrary bytes (the fuzzer's input): byte 0 picks the line end and the
    /// encoding, byte 1 the maximum line length (1..=32), byte 2 the number of cuts (0..=15),
    /// the next that many bytes the cut points; the rest is the data.
    pub fn from_bytes(input: &[u8]) -> Option<Case> {
        let (&[config, max, ncuts], rest) = input.split_first_chunk::<3>()?;
        let ncuts = usize::from(ncuts % 16).min(rest.len());
        let (cut_bytes, data) = rest.split_at(ncuts);
        let line_end = match config & 3 {
            0 => LineEnd::Lf,
            1 | 3 => LineEnd::Crlf,
            _ => LineEnd::Cr,
        };
        let encoding = match (config >> 2) & 3 {
            0 | 3 => Encoding::Utf8,
            1 => Encoding::Latin1,
            _ => Encoding::Ascii,
        };
        let mut cuts: Vec<usize> = cut_bytes
            .iter()
            .map(|&b| usize::from(b) % (data.len() + 1))
            .collect();
        cuts.sort_unstable();
        Some(Case {
            data: data.to_vec(),
            cuts,
            format: ExternalFormat::new(encoding, line_end),
            max: 1 + usize::from(max % 32),
        })
    }

    /// What a plain split of the whole input says the reader must give.
    pub fn expected(&self) -> Vec<Outcome> {
        let crlf = self.format.line_end == LineEnd::Crlf;
        let term = terminator(self.format.line_end);
        let mut out = Vec::new();
        let mut pieces: Vec<&[u8]> = self.data.split(|&b| b == term).collect();
        let last = pieces.pop().unwrap_or_default();
        let mut judge = |content: &[u8]| {
            out.push(if content.len() > self.max {
                Outcome::TooLong
            } else {
                match self.format.decode(content, 1) {
                    Ok(s) => Outcome::Line(s),
                    Err(_) => Outcome::Encoding,
                }
            })
        };
        for mut line in pieces {
            if crlf && line.last() == Some(&b'\r') {
                line = &line[..line.len() - 1];
            }
            judge(line);
        }
        if !last.is_empty() {
            judge(last);
        }
        out
    }

    /// Feeds the input through a socketpair and reads it back; panics on any difference from
    /// [`expected`](Self::expected) or any broken invariant.
    pub fn check(&self) {
        let (mut reader, mut writer) = make_socket_pair(self.format).expect("socketpair");
        reader.set_max_line_length(self.max);
        let mut got = Vec::new();
        let record = |r: Result<String>, got: &mut Vec<Outcome>| match r {
            Ok(line) => {
                let term = terminator(self.format.line_end) as char;
                assert!(
                    !line.contains(term),
                    "{self:?}: line {line:?} has its line end"
                );
                assert!(
                    line.chars().count() <= self.max,
                    "{self:?}: {line:?} too long"
                );
                got.push(Outcome::Line(line));
            }
            Err(Error::LineTooLong { limit }) => {
                assert_eq!(limit, self.max);
                got.push(Outcome::TooLong);
            }
            Err(Error::Encoding { .. }) => got.push(Outcome::Encoding),
            Err(e) => panic!("{self:?}: unexpected error {e:?}"),
        };
        let mut from = 0;
        for &cut in self.cuts.iter().chain(std::iter::once(&self.data.len())) {
            let piece = &self.data[from..cut];
            from = cut;
            let mut sent = 0;
            while sent < piece.len() {
                sent += writer
                    .send_to(&piece[sent..], MsgFlags::empty())
                    .expect("send");
            }
            loop {
                match reader.read_line_no_hang() {
                    Ok(None) => break,
                    Ok(Some(line)) => record(Ok(line), &mut got),
                    Err(e) => record(Err(e), &mut got),
                }
            }
        }
        writer.close().expect("close");
        loop {
            match reader.read_line() {
                Err(Error::EndOfFile) => break,
                r => record(r, &mut got),
            }
        }
        assert!(matches!(reader.read_line(), Err(Error::EndOfFile)));
        assert_eq!(got, self.expected(), "{self:?}");
    }
}

/// A small deterministic generator (xorshift64*), so runs repeat from their seed.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number below `n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Fuzzer-like input for [`Case::from_bytes`]: line ends, `\r`, multi-byte and invalid
    /// UTF-8 are frequent, lines around the maximum length.
    pub fn input(&mut self) -> Vec<u8> {
        const ALPHABET: &[u8] = b"ab\r\n\r\n\xc3\xa9\xffz ";
        let len = self.below(200);
        let mut v = vec![self.next() as u8, self.next() as u8, self.next() as u8 % 16];
        let ncuts = usize::from(v[2]);
        v.extend((0..ncuts).map(|_| self.next() as u8));
        v.extend((0..len).map(|_| ALPHABET[self.below(ALPHABET.len())]));
        v
    }
}
