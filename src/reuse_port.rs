//! One port, several listeners ([`reuse_port_listeners`]): the way to spread a server over
//! several event bases, one per thread, with `SO_REUSEPORT` letting the kernel share the
//! incoming connections among them.

use sockets::{
    make_socket, Address, AddressFamily, BaseSocket, Connect, PassiveSocket, SocketKind,
    SocketOption,
};

/// Makes `count` (at least one) passive internet stream sockets bound to `host`:`port` with
/// `SO_REUSEPORT` (and reuse-address), each listening with `backlog`. Port 0 takes a free
/// port for the first socket and that same port for the others. Give each socket its own
/// event base and thread: the kernel spreads new connections across the listening sockets.
///
/// ```
/// use iolib::{reuse_port_listeners, sockets::{Address, BaseSocket, IPV4_LOOPBACK}};
/// let listeners = reuse_port_listeners(&Address::Ipv4(IPV4_LOOPBACK), 0, 2, 128)?;
/// assert_eq!(listeners.len(), 2);
/// assert_eq!(listeners[0].local_port()?, listeners[1].local_port()?);
/// # Ok::<(), iolib::sockets::Error>(())
/// ```
///
/// # Errors
/// The first failing call's error: [`AddressInUse`](sockets::Error::AddressInUse) when a
/// socket without `SO_REUSEPORT` holds the port, an option error where the platform lacks
/// `SO_REUSEPORT`.
pub fn reuse_port_listeners(
    host: &Address,
    port: u16,
    count: usize,
    backlog: i32,
) -> sockets::Result<Vec<PassiveSocket>> {
    let mut port = port;
    let mut out = Vec::with_capacity(count.max(1));
    for _ in 0..count.max(1) {
        let s = make_socket()
            .connect(Connect::Passive)
            .family(AddressFamily::Internet)
            .kind(SocketKind::Stream)
            .build_passive()?;
        s.set_socket_option(SocketOption::ReusePort(true))?;
        s.bind_address(host, port)?;
        s.listen_on(backlog)?;
        port = s.local_port()?;
        out.push(s);
    }
    Ok(out)
}
