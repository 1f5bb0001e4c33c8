//! ex2-server: an iterative daytime server that serves clients one after another, forever
//! (section 2.3.2). `with-accept-connection` becomes a client socket scoped to one loop turn.
//! Walkthrough: docs/TUTORIAL.md#ex2-server

mod common;

fn main() {
    let args = common::server_args();
    let shutdown = common::Shutdown::install();
    // The acceptor keeps accepting when fds run out (see common::Shutdown::accept).
    let mut server = iolib::sockets::Acceptor::new(common::make_server(&args));

    // Keep accepting connections forever (until SIGINT/SIGTERM).
    loop {
        say!(args, "Waiting to accept a connection...");
        let Some(mut client) = shutdown.accept(&mut server) else {
            break;
        };
        // When we get a new connection, show who it is from.
        if let Ok((who, rport)) = client.remote_name() {
            say!(args, "Got a connection from {who}:{rport}!");
        }
        // Send the time and finish-output so that all the data is sent.
        if !args.quiet {
            common::print_flush("Sending the time...");
        }
        let sent = writeln!(client, "{}", common::daytime()).and_then(|_| client.finish_output());
        if let Err(e) = sent {
            eprintln!("write to client: {e}");
        }
        say!(args, "Sent!");
        // Leaving the loop body closes the client (with-accept-connection).
    }
    say!(args, "Server Exited");
}
