//! ex4-server: a concurrent daytime server, one thread per client, blocking I/O
//! (section 2.3.4). Bordeaux threads become std threads; the special variable that hands the
//! client to its thread becomes a move into the thread's closure.
//! Walkthrough: docs/TUTORIAL.md#ex4-server

mod common;

use iolib::prelude::*;

/// The thread which handles the client connection. The client socket is always closed when
/// it returns (unwind-protect's cleanup form is the socket's Drop).
fn process_ex4_client_thread(mut client: ActiveSocket, args: common::Args) {
    let (who, port) = match client.remote_name() {
        Ok(n) => n,
        Err(_) => return,
    };
    say!(
        args,
        "A thread is handling the connection from {who}:{port}!"
    );
    // Prepare the time and send it to the client.
    if !args.quiet {
        common::print_flush(&format!("Sending the time to {who}:{port}..."));
    }
    match writeln!(client, "{}", common::daytime()).and_then(|_| client.finish_output()) {
        Ok(()) => say!(args, "Sent!"),
        Err(SocketError::ConnectionReset) => {
            say!(args, "Client {who}:{port} reset the connection!")
        }
        Err(SocketError::Hangup) => say!(args, "Client {who}:{port} closed connection."),
        Err(e) => eprintln!("Client {who}:{port}: {e}"),
    }
    // Cleanup form.
    say!(args, "Closing connection to {who}:{port}!");
    let _ = client.close();
}

/// Accepts clients forever, one thread each (`process-ex4-client-thread`); on
/// SIGINT/SIGTERM, closes every client and joins the threads.
fn run_ex4_server_helper(args: &common::Args) {
    common::serve_threaded(args, "process-ex4-client-thread", process_ex4_client_thread);
}

/// The entry point into this example.
fn main() {
    let args = common::server_args();
    run_ex4_server_helper(&args);
    say!(args, "Server Exited");
}
