//! ex4-server: a concurrent daytime server, one thread per client, blocking I/O
//! (section 2.3.4). Bordeaux threads become std threads; the special variable that hands the
//! client to its thread becomes a move into the thread's closure.

mod common;

use iolib::prelude::*;
use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// Client connections by id, as duplicated fds, so the main thread can shut them down on
/// exit and every client learns at once that the server went away.
type Registry = Arc<Mutex<HashMap<u64, OwnedFd>>>;

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

fn run_ex4_server_helper(args: &common::Args) {
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
            .name("process-ex4-client-thread".into())
            .spawn(move || {
                process_ex4_client_thread(client, targs);
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
    run_ex4_server_helper(&args);
    say!(args, "Server Exited");
}
