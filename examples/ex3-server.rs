//! ex3-server: the iterative daytime server with condition handling (section 2.3.3).
//! Walkthrough: docs/TUTORIAL.md#ex3-server

mod common;

use iolib::prelude::*;

fn run_ex3_server_helper(args: &common::Args) {
    let shutdown = common::Shutdown::install();
    // The acceptor keeps accepting when fds run out (see common::Shutdown::accept).
    let mut server = Acceptor::new(common::make_server(args));

    // Keep accepting connections forever.
    loop {
        say!(args, "Waiting to accept a connection...");
        // The client socket is closed when this loop turn ends (with-accept-connection).
        let Some(mut client) = shutdown.accept(&mut server) else {
            break;
        };
        // When we get a new connection, show who it is from.
        if let Ok((who, rport)) = client.remote_name() {
            say!(args, "Got a connection from {who}:{rport}!");
        }
        if !args.quiet {
            common::print_flush("Sending the time...");
        }
        // Catch the client closing the connection; the socket closes either way.
        match writeln!(client, "{}", common::daytime()).and_then(|_| client.finish_output()) {
            Ok(()) => {}
            Err(SocketError::ConnectionReset) => say!(args, "Client reset connection!"),
            Err(SocketError::Hangup) => say!(args, "Client closed connection!"),
            Err(e) => eprintln!("write to client: {e}"),
        }
        say!(args, "Sent!");
    }
}

/// The main entry point into the example 3 server. An address already in use (a server
/// already on the port) is reported by make_server with the tutorial's message.
fn main() {
    let args = common::server_args();
    run_ex3_server_helper(&args);
    say!(args, "Server Exited");
}
