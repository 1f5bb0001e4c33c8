//! ex5-server: a concurrent echo server, one thread per client, blocking line I/O
//! (section 2.6.1). Only the thread talking to a client blocks, not the whole server. It does
//! not honour batch input (a half-close ends the conversation): use ex7/ex8 for that.
//! Walkthrough: docs/TUTORIAL.md#ex5-server

mod common;

use iolib::prelude::*;

/// The actual function which speaks to the client: read lines and echo them back until
/// "quit" or until a condition on the connection bails us out.
fn str_ex5_echo(
    client: &mut ActiveSocket,
    who: &Address,
    port: u16,
    args: &common::Args,
) -> Result<(), SocketError> {
    loop {
        let line = client.read_line()?;
        say!(args, "Read line from {who}:{port}: {line}");
        writeln!(client, "{line}")?;
        client.finish_output()?;
        say!(args, "Wrote line to {who}:{port}: {line}");
        // Exit the thread when the user requests it with 'quit'; this closes the socket.
        if line == "quit" {
            return Ok(());
        }
    }
}

/// The thread which handles the client connection. No matter how we get out of the echo
/// loop, we always close the connection.
fn process_ex5_client_thread(mut client: ActiveSocket, args: common::Args) {
    let (who, port) = match client.remote_name() {
        Ok(n) => n,
        Err(_) => return,
    };
    say!(
        args,
        "A thread is handling the connection from {who}:{port}!"
    );
    match str_ex5_echo(&mut client, &who, port, &args) {
        Ok(()) => {}
        Err(SocketError::ConnectionReset) => {
            say!(args, "Client {who}:{port}: connection reset by peer.")
        }
        Err(SocketError::EndOfFile) => {
            say!(args, "Client {who}:{port} closed connection for a read.")
        }
        Err(SocketError::Hangup) => {
            say!(args, "Client {who}:{port} closed connection for a write.")
        }
        Err(e) => eprintln!("Client {who}:{port}: {e}"),
    }
    say!(args, "Closing connection to {who}:{port}!");
    let _ = client.close();
}

/// Accepts clients forever, one thread each (`process-ex5-client-thread`); on
/// SIGINT/SIGTERM, closes every client and joins the threads.
fn run_ex5_server_helper(args: &common::Args) {
    common::serve_threaded(args, "process-ex5-client-thread", process_ex5_client_thread);
}

/// The entry point into this example.
fn main() {
    let args = common::server_args();
    run_ex5_server_helper(&args);
    say!(args, "Server Exited");
}
