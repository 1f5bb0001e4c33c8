//! The frame of the threaded servers (ex4, ex5): a thread per client, all shut down and
//! joined on SIGINT/SIGTERM.

use super::{make_server, Args, Shutdown};
use crate::say;
use iolib::prelude::*;
use std::os::fd::OwnedFd;

/// The frame of the threaded servers ex4 and ex5 (sections 2.3.4, 2.6.1): accept clients
/// until SIGINT/SIGTERM and hand each to a new thread named `thread_name` running `handle`;
/// at exit, shut every live client down so its thread finishes at once, and join them all
/// (the tutorial's "Destroying any active client threads", without killing threads).
pub fn serve_threaded(args: &Args, thread_name: &str, handle: fn(ActiveSocket, Args)) {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    let shutdown = Shutdown::install();
    let mut acceptor = Acceptor::new(make_server(args));
    // Client connections by id, as duplicated fds the main thread can shut down.
    let registry: Arc<Mutex<HashMap<u64, OwnedFd>>> = Arc::default();
    let mut threads: Vec<std::thread::JoinHandle<()>> = Vec::new();
    let mut next_id = 0u64;

    loop {
        say!(args, "Waiting to accept a connection...");
        let Some(client) = shutdown.accept(&mut acceptor) else {
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
            .name(thread_name.into())
            .spawn(move || {
                handle(client, targs);
                reg.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
            });
        match spawned {
            Ok(t) => threads.push(t),
            Err(e) => eprintln!("cannot start a client thread: {e}"),
        }
        threads.retain(|t| !t.is_finished());
    }

    say!(args, "Destroying any active client threads....");
    for fd in registry.lock().unwrap_or_else(|p| p.into_inner()).values() {
        let _ = isys::shutdown(fd, isys::Shutdown::Both);
    }
    for t in threads {
        let _ = t.join();
    }
}
