//! What the tutorial's `package.lisp` gives every example (the `--host`/`--port` defaults,
//! the daytime line, the tutorial's messages) and the frames the servers share, one file
//! each; this file only declares and re-exports them.
#![allow(dead_code)] // each example uses a subset

mod bounded_io;
mod cli;
mod connect;
mod daytime;
pub mod echo_client;
mod listen;
mod log;
mod messages;
mod mux_server;
mod shutdown;
mod stdin_lines;
mod threaded_server;

#[allow(unused_imports)] // each example uses a subset
pub use self::{
    bounded_io::{finish_output_within, read_line_within},
    cli::{client_args, server_args, Args, DEFAULT_HOST, DEFAULT_PORT},
    connect::{connect_to_server, hp, resolve_ipv4},
    daytime::daytime,
    listen::make_server,
    log::{print_flush, Peer},
    messages::{
        address_in_use, connection_refused, fail, host_for_message, say_connection_refused,
    },
    mux_server::{disconnect, serve_multiplexed, ClientConn},
    shutdown::{exit_loop_on_signals, Shutdown},
    stdin_lines::StdinLines,
    threaded_server::serve_threaded,
};
