//! ex5-server: a concurrent echo server, one thread per client, blocking line I/O
//! (section 2.6.1). Only the thread talking to a client blocks, not the whole server. It does
//! not honour batch input (a half-close ends the conversation): use ex7/ex8 for that.

mod common;

use iolib::prelude::*;
use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// Client connections by id, as duplicated fds, so the main thread can shut them down on
/// exit and every client learns at once that the server went away.
type Registry = Arc<Mutex<HashMap<u64, OwnedFd>>>;

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

fn run_ex5_server_helper(args: &common::Args) {
    let shutdown = common::Shutdown::install();
    let server = common::make_server(args);
    let registry: Registry = Arc::default();
    let mut threads: Vec<JoinHandle<()>> = Vec::new();
    let mut next_id = 0u64;

    // Keep accepting connections until told to stop; then clean up the client threads.
    loop {
        say!(args, "Waiting to accept a connection...");
        let Some(client) = shutdown.accept(&server) else {
            break;
        };
        next_id += 1;
        let id = next_id;
        if let Ok(dup) = isys::dup(&client) {
            registry
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(id, dup);
        }
        let (reg, targs) = (registry.clone(), args.clone());
        // ...and handle the connection!
        let spawned = std::thread::Builder::new()
            .name("process-ex5-client-thread".into())
            .spawn(move || {
                process_ex5_client_thread(client, targs);
                reg.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
            });
        match spawned {
            Ok(t) => threads.push(t),
            Err(e) => eprintln!("cannot start a client thread: {e}"),
        }
        threads.retain(|t| !t.is_finished());
    }

    // Clean up all of the client threads: shut their sockets down so they finish now.
    say!(args, "Destroying any active client threads....");
    for fd in registry.lock().unwrap_or_else(|p| p.into_inner()).values() {
        let _ = isys::shutdown(fd, isys::Shutdown::Both);
    }
    for t in threads {
        let _ = t.join();
    }
}

/// The entry point into this example.
fn main() {
    let args = common::server_args();
    run_ex5_server_helper(&args);
    say!(args, "Server Exited");
}
