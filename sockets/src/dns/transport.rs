//! The sockets a query talks through: a UDP socket bound to port 0 (the kernel picks a random
//! source port) that sends to servers and reports each datagram's sender, and a TCP
//! connection carrying one length-prefixed exchange (RFC 1035 §4.2.2). Both are non-blocking,
//! CLOEXEC and owned; nothing here waits.

use crate::error::{Error, Result, SysContext};
use isys::libc;
use isys::{Errno, FdEvent, MsgFlags, OwnedFd, SockAddr};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Largest DNS message (TCP's 16-bit length; also the UDP receive buffer).
pub(crate) const MAX_MESSAGE: usize = 65_535;

fn family(addr: &SocketAddr) -> libc::c_int {
    if addr.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    }
}

/// A UDP socket for one address family.
#[derive(Debug)]
pub(crate) struct Udp {
    pub(crate) fd: OwnedFd,
    pub(crate) family: libc::c_int,
}

impl Udp {
    /// A non-blocking UDP socket of `server`'s family, bound to the wildcard address, port 0.
    pub(crate) fn open(server: &SocketAddr) -> Result<Udp> {
        let family = family(server);
        let fd = isys::socket(family, libc::SOCK_DGRAM, 0, true).ctx("socket")?;
        let any = match server.ip() {
            IpAddr::V4(_) => SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), 0),
            IpAddr::V6(_) => SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), 0),
        };
        isys::bind(&fd, &SockAddr::from_std(&any)).ctx("bind")?;
        Ok(Udp { fd, family })
    }

    /// Whether this socket can reach `server`.
    pub(crate) fn fits(&self, server: &SocketAddr) -> bool {
        self.family == family(server)
    }

    /// Sends one datagram to `server`.
    pub(crate) fn send(&self, server: &SocketAddr, packet: &[u8]) -> Result<()> {
        let to = SockAddr::from_std(server);
        isys::repeat_upon_eintr(|| isys::sendto(&self.fd, packet, MsgFlags::empty(), &to))
            .ctx("sendto")?;
        Ok(())
    }

    /// One waiting datagram and its sender, `None` when nothing is waiting. Datagrams from
    /// a sender that is not an internet address are reported with sender `None`.
    pub(crate) fn recv(&self, buf: &mut [u8]) -> Result<Option<(usize, Option<SocketAddr>)>> {
        match isys::repeat_upon_eintr(|| isys::recvfrom(&self.fd, buf, MsgFlags::empty())) {
            Ok((n, from)) => Ok(Some((n, from.as_std()))),
            Err(Errno::EAGAIN) => Ok(None),
            Err(e) => Err(Error::from_errno("recvfrom", e)),
        }
    }
}

/// Where a TCP exchange is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TcpState {
    Connecting,
    Sending,
    Receiving,
}

/// What a step of a TCP exchange came to.
#[derive(Debug)]
pub(crate) enum TcpProgress {
    /// Waiting for the fd.
    Pending,
    /// The whole reply, without its length prefix.
    Reply(Vec<u8>),
    /// The connection failed or closed early.
    Failed(Error),
}

/// One query and its reply over a TCP connection.
#[derive(Debug)]
pub(crate) struct Tcp {
    pub(crate) fd: OwnedFd,
    pub(crate) server: SocketAddr,
    out: Vec<u8>,
    sent: usize,
    got: Vec<u8>,
    state: TcpState,
}

impl Tcp {
    /// Starts a non-blocking connect to `server` that will carry `packet`.
    pub(crate) fn open(server: &SocketAddr, packet: &[u8]) -> Result<Tcp> {
        let fd = isys::socket(family(server), libc::SOCK_STREAM, 0, true).ctx("socket")?;
        match isys::connect(&fd, &SockAddr::from_std(server)) {
            Ok(()) | Err(Errno::EINPROGRESS) | Err(Errno::EINTR) => {}
            Err(e) => return Err(Error::from_errno("connect", e)),
        }
        let len =
            u16::try_from(packet.len()).map_err(|_| crate::dns::WireError::MessageTooLarge)?;
        let mut out = len.to_be_bytes().to_vec();
        out.extend_from_slice(packet);
        Ok(Tcp {
            fd,
            server: *server,
            out,
            sent: 0,
            got: Vec::new(),
            state: TcpState::Connecting,
        })
    }

    /// What the exchange waits for.
    pub(crate) fn interest(&self) -> FdEvent {
        match self.state {
            TcpState::Connecting | TcpState::Sending => FdEvent::Write,
            TcpState::Receiving => FdEvent::Read,
        }
    }

    /// Does whatever the fd allows now: finish connecting, send, receive.
    pub(crate) fn progress(&mut self) -> TcpProgress {
        match self.try_progress() {
            Ok(p) => p,
            Err(e) => TcpProgress::Failed(e),
        }
    }

    fn try_progress(&mut self) -> Result<TcpProgress> {
        if self.state == TcpState::Connecting {
            if let Some(e) = isys::socket_error(&self.fd).ctx("getsockopt")? {
                return Err(Error::from_errno("connect", e));
            }
            self.state = TcpState::Sending;
        }
        while self.state == TcpState::Sending {
            match isys::send(&self.fd, &self.out[self.sent..], MsgFlags::empty()) {
                Ok(n) => {
                    self.sent += n;
                    if self.sent == self.out.len() {
                        self.state = TcpState::Receiving;
                    }
                }
                Err(Errno::EINTR) => {}
                // Still connecting, or the send buffer is full.
                Err(Errno::EAGAIN) | Err(Errno::ENOTCONN) => return Ok(TcpProgress::Pending),
                Err(e) => return Err(Error::from_errno("send", e)),
            }
        }
        let mut buf = [0u8; 4096];
        loop {
            if self.got.len() >= 2 {
                let want = 2 + u16::from_be_bytes([self.got[0], self.got[1]]) as usize;
                if self.got.len() >= want {
                    return Ok(TcpProgress::Reply(self.got[2..want].to_vec()));
                }
            }
            match isys::recv(&self.fd, &mut buf, MsgFlags::empty()) {
                Ok(0) => return Err(Error::EndOfFile),
                Ok(n) => self.got.extend_from_slice(&buf[..n]),
                Err(Errno::EINTR) => {}
                Err(Errno::EAGAIN) => return Ok(TcpProgress::Pending),
                Err(e) => return Err(Error::from_errno("recv", e)),
            }
        }
    }
}
