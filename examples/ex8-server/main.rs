//! ex8-server: echo server with non-blocking I/O on the multiplexer (section 2.6.4):
//! `receive_from`/`send_to` on a 16 KiB byte buffer per client, never blocking on one
//! client, binary-safe, and honouring half-close. No "quit": it echoes bytes.
//! Walkthrough: docs/TUTORIAL.md#ex8-server

#[path = "../common/mod.rs"]
mod common;
mod ex8_buffer;

use iolib::prelude::*;

/// The second half of the listener handler: the client's io-buffer registers its
/// read-some-bytes and write-some-bytes handlers.
fn on_client(
    base: &mut EventBase,
    client: ActiveSocket,
    who: Address,
    port: u16,
    args: &common::Args,
) -> HandlerResult {
    ex8_buffer::make_ex8_io_buffer(base, client, who, port, args.quiet, 16 * 1024)?;
    Ok(())
}

fn main() {
    let args = common::server_args();
    common::serve_multiplexed::<ex8_buffer::Ex8IoBuffer>(&args, on_client);
}
