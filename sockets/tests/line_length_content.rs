//! The maximum line length counts a line's content, never its line end, however the bytes
//! are split between reads: a socketpair fed in pieces.

use sockets::*;

fn pair(format: ExternalFormat, max: usize) -> (ActiveSocket, ActiveSocket) {
    let (mut reader, writer) = make_socket_pair(format).unwrap();
    reader.set_max_line_length(max);
    (reader, writer)
}

fn feed(writer: &ActiveSocket, bytes: &[u8]) {
    assert_eq!(
        writer.send_to(bytes, MsgFlags::empty()).unwrap(),
        bytes.len()
    );
}

/// Every result `read_line_no_hang` gives for `input` fed in the pieces `cuts` make, then
/// `read_line` after the writer closes, up to end of file.
fn read_split(format: ExternalFormat, max: usize, input: &[u8], cuts: &[usize]) -> Vec<String> {
    let (mut reader, mut writer) = pair(format, max);
    let mut out = Vec::new();
    let show = |r: Result<String>| match r {
        Ok(line) => format!("line {line:?}"),
        Err(Error::LineTooLong { .. }) => "too long".to_string(),
        Err(e) => format!("error {e}"),
    };
    let mut from = 0;
    for &cut in cuts.iter().chain(std::iter::once(&input.len())) {
        feed(&writer, &input[from..cut]);
        from = cut;
        loop {
            match reader.read_line_no_hang() {
                Ok(None) => break,
                Ok(Some(line)) => out.push(show(Ok(line))),
                Err(e) => out.push(show(Err(e))),
            }
        }
    }
    writer.close().unwrap();
    loop {
        match reader.read_line() {
            Err(Error::EndOfFile) => break,
            r => out.push(show(r)),
        }
    }
    out
}

#[test]
fn a_crlf_line_of_exactly_the_maximum_is_accepted_however_split() {
    let input = b"abcdefgh\r\nxy\r\n";
    let want = ["line \"abcdefgh\"", "line \"xy\""];
    assert_eq!(read_split(ExternalFormat::UTF8_CRLF, 8, input, &[]), want);
    for cut in 1..input.len() {
        assert_eq!(
            read_split(ExternalFormat::UTF8_CRLF, 8, input, &[cut]),
            want,
            "split at {cut}"
        );
    }
    let every_byte: Vec<usize> = (1..input.len()).collect();
    assert_eq!(
        read_split(ExternalFormat::UTF8_CRLF, 8, input, &every_byte),
        want
    );
}

#[test]
fn a_lone_cr_is_content_when_no_lf_follows() {
    // `\r` then `x`: the `\r` was content after all, so the line is too long.
    let got = read_split(ExternalFormat::UTF8_CRLF, 8, b"abcdefgh\rx\r\nok\r\n", &[9]);
    assert_eq!(got, ["too long", "line \"ok\""]);
    // A lone `\r` at end of file is content too.
    let got = read_split(ExternalFormat::UTF8_CRLF, 8, b"abcdefgh\r", &[]);
    assert_eq!(got, ["too long"]);
    let got = read_split(ExternalFormat::UTF8_CRLF, 8, b"abcdefg\r", &[]);
    assert_eq!(got, ["line \"abcdefg\\r\""]);
    // With LF line ends `\r` is always content.
    let got = read_split(ExternalFormat::UTF8_LF, 8, b"abcdefgh\r\nabcdefg\r\n", &[9]);
    assert_eq!(got, ["too long", "line \"abcdefg\\r\""]);
}

#[test]
fn one_byte_over_is_too_long_and_the_next_line_survives() {
    for cuts in [&[][..], &[5], &[9], &[10], &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]] {
        let got = read_split(ExternalFormat::UTF8_CRLF, 8, b"abcdefghi\r\nok\r\n", cuts);
        assert_eq!(got, ["too long", "line \"ok\""], "cuts {cuts:?}");
        let got = read_split(ExternalFormat::UTF8_LF, 8, b"abcdefghi\nok\n", cuts);
        assert_eq!(got, ["too long", "line \"ok\""], "cuts {cuts:?}");
    }
}
