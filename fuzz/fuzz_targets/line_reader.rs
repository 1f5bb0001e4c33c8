//! The line reader against a model: arbitrary bytes, cut into writes at fuzzer-chosen points,
//! through a socketpair into `read_line_no_hang` (after each write) and `read_line` (after the
//! writer closes), with a small maximum line length and every line end and encoding. The
//! model and the input layout are in `sockets/tests/line_oracle/mod.rs`, shared with the
//! randomized test. Invariants: no panic; no returned line holds its line end or exceeds the
//! maximum; the lines and errors are exactly those of a plain split of the whole input.
#![no_main]

#[path = "../../sockets/tests/line_oracle/mod.rs"]
#[allow(dead_code)]
mod line_oracle;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(case) = line_oracle::Case::from_bytes(data) {
        case.check();
    }
});
