//! ex5a-client: an echo client on the multiplexer (section 2.5.2). At stdin's end of file it
//! closes the socket at once, which loses in-flight lines with batch input: the flaw
//! ex5b-client fixes. The machinery both share is in `common/echo_client.rs`.
//! Walkthrough: docs/TUTORIAL.md#ex5a-client

mod common;

use common::echo_client::{self, disconnect, Client};
use iolib::prelude::*;
use std::os::fd::RawFd;

/// At stdin's end of file: remove every handler and close the socket, in-flight data or not.
fn on_eof(base: &mut EventBase, fd: RawFd, client: &mut Client) {
    disconnect(base, fd, client, &[], true);
}

fn main() {
    echo_client::main("ex5a", on_eof);
}
