//! ex1-server: an iterative daytime server that serves one client and exits, "C style"
//! (section 2.3.1).
//! Walkthrough: docs/TUTORIAL.md#ex1-server

mod common;

fn main() {
    let args = common::server_args();
    let shutdown = common::Shutdown::install();

    // Create, bind and listen: see common::make_server for the tutorial's steps 1-3.
    // The acceptor keeps accepting when fds run out (see common::Shutdown::accept).
    let mut socket = iolib::sockets::Acceptor::new(common::make_server(&args));

    // Block on accepting a connection.
    say!(args, "Waiting to accept a connection...");
    if let Some(mut client) = shutdown.accept(&mut socket) {
        // When we get a new connection, show who it is from.
        if let Ok((who, rport)) = client.remote_name() {
            say!(args, "Got a connection from {who}:{rport}!");
        }

        // Send the time, then finish-output so all of it is sent (a blocking write).
        if !args.quiet {
            common::print_flush("Sending the time...");
        }
        let sent = writeln!(client, "{}", common::daytime()).and_then(|_| client.finish_output());
        if let Err(e) = sent {
            // ex1 handles no conditions in Lisp; here one line instead of the debugger.
            eprintln!("write to client: {e}");
        }

        // We're done talking to the client.
        let _ = client.close();
        say!(args, "Sent!");
    }

    // We're done with the server socket too.
    let _ = socket.listener_mut().close();
}
