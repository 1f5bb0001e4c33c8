//! ex5b-client: ex5a-client, except that at stdin's end of file it shuts down only the
//! write end of the socket and keeps reading until the server has sent everything back
//! (section 2.5.3). Pairs with ex7-server and ex8-server, which honour the half-close. As in
//! the tutorial, it is shown as its difference to ex5a: the rest is `common/echo_client.rs`.
//! Walkthrough: docs/TUTORIAL.md#ex5b-client

mod common;

use common::echo_client::{self, disconnect, Client};
use iolib::prelude::*;
use std::os::fd::RawFd;

/// At stdin's end of file: shut down the write end to give the in-flight data the ability
/// to reach the server, and remove only the write handler, so we read no more of stdin but
/// keep reading the server's answers until it closes.
fn on_eof(base: &mut EventBase, fd: RawFd, client: &mut Client) {
    println!("make-ex5b-str-cli-write: Shutting down write end of socket!");
    if let Err(e) = client.socket.shutdown(false, true) {
        println!("make-ex5b-str-cli-write: shutdown: {e}");
        disconnect(base, fd, client, &[], true);
        return;
    }
    disconnect(base, fd, client, &[Event::Write], false);
}

fn main() {
    echo_client::main("ex5b", on_eof);
}
