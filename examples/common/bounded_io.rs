//! The tutorial's blocking line I/O with a bound on the whole call, for the multiplexed
//! servers that keep it (ex6, ex7): a read or a write waits at most so long for one client in
//! all, however the client trickles its bytes, so the others (and SIGINT/SIGTERM) wait at
//! most that long for it. What a stalled read leaves stays buffered for the next call.

use iolib::prelude::*;
use std::time::{Duration, Instant};

/// `read-line`, waiting at most `limit` in all: `Ok(None)` when no complete line came in
/// time (the partial line stays buffered). End of file and the other conditions are errors,
/// as from `read_line`.
pub fn read_line_within(
    socket: &mut ActiveSocket,
    limit: Duration,
) -> Result<Option<String>, SocketError> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(line) = socket.read_line_no_hang()? {
            return Ok(Some(line));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || !socket.wait_readable(Some(left))? {
            return Ok(None);
        }
    }
}

/// `finish-output`, waiting at most `limit` in all: [`SocketError::Timeout`] when the client
/// has not taken everything by then (it does not read).
pub fn finish_output_within(socket: &mut ActiveSocket, limit: Duration) -> Result<(), SocketError> {
    let deadline = Instant::now() + limit;
    let mut pending = usize::MAX;
    loop {
        let left_over = socket.force_output()?;
        if left_over == 0 {
            return Ok(());
        }
        if left_over == pending {
            // Writable yet nothing went (ENOBUFS, ENOMEM): pause rather than spin.
            std::thread::sleep(Duration::from_millis(1));
        }
        pending = left_over;
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || !socket.wait_writable(Some(left))? {
            return Err(SocketError::Timeout(limit));
        }
    }
}
