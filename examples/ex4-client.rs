//! ex4-client: a basic echo client, blocking line-oriented I/O (section 2.5.1).
//! Walkthrough: docs/TUTORIAL.md#ex4-client

mod common;

use iolib::prelude::*;
use std::io::BufRead;

/// Reads a line from stdin, writes it to the server, reads the response and writes it to
/// stdout. Sending "quit" makes the server echo it and close its connection.
fn ex4_str_cli(socket: &mut ActiveSocket) -> Result<(), SocketError> {
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut line = String::new();
    loop {
        line.clear();
        match input.read_line(&mut line) {
            Ok(0) | Err(_) => return Ok(()), // end of our input: we are done
            Ok(_) => {}
        }
        let line = line.trim_end_matches(['\n', '\r']);
        // If the server already closed (after our "quit"), see that first, as IOLib sees the
        // end-of-file on this round's read-line: never write into a closed connection first.
        if let Some(early) = socket.read_line_no_hang()? {
            println!("{early}");
        }
        // Send it to the server, get the response.
        let sent = writeln!(socket, "{line}").and_then(|_| socket.finish_output());
        if let Err(e @ (SocketError::Hangup | SocketError::ConnectionReset)) = sent {
            // The server went away while we wrote: what it sent before closing still comes
            // first, so an orderly close still reads as end-of-file.
            return match socket.read_line_no_hang() {
                Err(SocketError::EndOfFile) => Err(SocketError::EndOfFile),
                _ => Err(e),
            };
        }
        sent?;
        println!("{}", socket.read_line()?);
    }
}

fn run_ex4_client_helper(host: &str, port: u16) -> Result<(), SocketError> {
    // Create an internet TCP socket under IPV4 and do a blocking connect to the echo server
    // (with-open-socket: the socket closes when this function returns).
    let mut socket = common::connect_to_server(host, port)?;

    match ex4_str_cli(&mut socket) {
        Ok(()) => {}
        Err(SocketError::ConnectionReset) => println!("Got connection reset. Server went away!"),
        Err(SocketError::Hangup) => println!("Got hangup. Server closed connection on write!"),
        Err(SocketError::EndOfFile) => {
            println!("Got end-of-file. Server closed connection on read!")
        }
        Err(e) => return Err(e),
    }
    Ok(())
}

/// This is the entry point into this example.
fn main() {
    let args = common::client_args();
    let result = run_ex4_client_helper(&args.host, args.port);
    // The unwind-protect's cleanup form.
    let code = match result {
        Ok(()) => 0,
        // Handle a commonly signaled error...
        Err(SocketError::ConnectionRefused) => {
            common::say_connection_refused(&args.host, args.port);
            1
        }
        Err(e) => {
            eprintln!("ex4-client: {e}");
            1
        }
    };
    println!("Client Exited.");
    std::process::exit(code);
}
