//! The client side: resolving the server's address and the echo clients' connect with its
//! Connected line.

use iolib::prelude::*;
use iolib::sockets;

/// The IPv4 address a client connects to (IOLib's `(lookup-hostname host)`).
pub fn resolve_ipv4(host: &str) -> Result<Address, SocketError> {
    sockets::lookup_hostname(host)?
        .first_ipv4()
        .ok_or_else(|| SocketError::InvalidAddress(format!("{host} has no IPv4 address")))
}

/// The echo clients' opening (ex4, ex5a, ex5b): an active internet stream socket in the
/// tutorial's UTF-8/CRLF format, a blocking connect to `host:port`, and the Connected line.
/// (The daytime clients spell these steps out, as the tutorial does.)
pub fn connect_to_server(host: &str, port: u16) -> Result<ActiveSocket, SocketError> {
    let mut socket = make_socket()
        .connect(Connect::Active)
        .family(AddressFamily::Internet)
        .kind(SocketKind::Stream)
        .external_format(ExternalFormat::UTF8_CRLF)
        .build_active()?;
    socket.connect(&resolve_ipv4(host)?, port, Wait::Forever)?;
    println!(
        "Connected to server {} from my local connection at {}!",
        hp(socket.remote_name()?),
        hp(socket.local_name()?)
    );
    Ok(socket)
}

/// `host:port` of an address pair.
pub fn hp(name: (Address, u16)) -> String {
    format!("{}:{}", name.0, name.1)
}
