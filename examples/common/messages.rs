//! The tutorial's failure messages (connection refused, address in use) and the exit with
//! status 1 that follows a handled failure.

use iolib::sockets;

/// `(lookup-hostname host)` for messages: the address, or the name if it does not resolve.
pub fn host_for_message(host: &str) -> String {
    sockets::lookup_hostname(host)
        .map(|h| h.address.to_string())
        .unwrap_or_else(|_| host.to_string())
}

/// Prints the tutorial's refused-connection message.
pub fn say_connection_refused(host: &str, port: u16) {
    println!(
        "Connection refused to {}:{}. Maybe the server isn't running?",
        host_for_message(host),
        port
    );
}

/// The tutorial's refused-connection message; exits 1.
pub fn connection_refused(host: &str, port: u16) -> ! {
    say_connection_refused(host, port);
    std::process::exit(1);
}

/// The tutorial's address-in-use message; exits 1.
pub fn address_in_use() -> ! {
    println!("Bind: Address already in use, forget :reuse-addr t?");
    std::process::exit(1);
}

/// Any other failure: one clear line on stderr, exit 1 (never a panic).
pub fn fail(what: &str, e: impl std::fmt::Display) -> ! {
    eprintln!("{what}: {e}");
    std::process::exit(1);
}
