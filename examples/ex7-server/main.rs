//! ex7-server: echo server on the multiplexer with separate read and write handlers sharing
//! a per-client io-buffer (section 2.6.3). Line-oriented blocking I/O; honours batch input
//! (half-close): after the client's end of file it writes everything back, then closes.
//! Walkthrough: docs/TUTORIAL.md#ex7-server

#[path = "../common/mod.rs"]
mod common;
mod ex7_buffer;

use iolib::prelude::*;

/// The second half of the listener handler: make the client's io-buffer, which registers
/// and unregisters its own read and write handlers as data comes and goes.
fn on_client(
    base: &mut EventBase,
    client: ActiveSocket,
    who: Address,
    port: u16,
    args: &common::Args,
) -> HandlerResult {
    ex7_buffer::make_ex7_io_buffer(base, client, who, port, args.quiet, 4096)?;
    Ok(())
}

fn main() {
    let args = common::server_args();
    common::serve_multiplexed::<ex7_buffer::Ex7IoBuffer>(&args, on_client);
}
