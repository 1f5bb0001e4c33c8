//! The line reader against a model on random inputs cut at random points (the std-only twin of
//! the cargo-fuzz target in `fuzz/`). A fixed seed and a short run by default; set
//! `IOLIB_LINE_FUZZ_SECS=600` for a ten-minute run (`IOLIB_LINE_FUZZ_SEED` picks the seed).

mod line_oracle;

use line_oracle::{Case, Rng};
use std::time::{Duration, Instant};

#[test]
fn the_crlf_split_case() {
    // CRLF, UTF-8, max 8, one cut between `\r` and `\n`.
    let mut input = vec![1, 7, 1, 9];
    input.extend_from_slice(b"abcdefgh\r\nxy\r\n");
    let case = Case::from_bytes(&input).unwrap();
    assert_eq!((case.max, &case.cuts[..]), (8, &[9][..]));
    case.check();
}

#[test]
fn random_inputs_cut_anywhere_read_as_the_model_says() {
    let secs: u64 = std::env::var("IOLIB_LINE_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let seed: u64 = std::env::var("IOLIB_LINE_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x1011_b5ee);
    let mut rng = Rng(seed | 1);
    let start = Instant::now();
    let mut runs = 0u64;
    loop {
        if secs == 0 && runs >= 2_000 {
            break;
        }
        if secs > 0 && start.elapsed() >= Duration::from_secs(secs) {
            break;
        }
        let input = rng.input();
        if let Some(case) = Case::from_bytes(&input) {
            case.check();
        }
        runs += 1;
    }
    eprintln!(
        "line reader: {runs} random cases in {:?} (seed {seed:#x})",
        start.elapsed()
    );
}
