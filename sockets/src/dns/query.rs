//! One DNS query as a sans-I/O state machine, [`DnsQuery`]: it owns its socket, says which fd
//! and readiness it waits for and until when, and advances on [`DnsQuery::on_readable`] /
//! [`DnsQuery::on_timeout`], so any event loop can drive it; [`DnsQuery::wait`] drives it
//! with `poll(2)`. It walks the names of the search list, and for each the servers in order
//! for the configured rounds, over UDP (with EDNS0) and over TCP when an answer is truncated.
//!
//! A UDP reply counts only if it comes from a server this query sent to, carries the query's
//! random id, is a response and repeats the question; anything else is ignored and the wait
//! goes on until the deadline.

use super::message::{Message, Question, Rcode};
use super::plan::Plan;
use super::record::{RecordType, ResourceRecord, CLASS_IN};
use super::transport::{Tcp, TcpProgress, Udp, MAX_MESSAGE};
use crate::error::{Error, Result};
use isys::{AsFd, AsRawFd, BorrowedFd, FdEvent, FdWaitError, OwnedFd, RawFd};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// A server's answer to a query.
///
/// See [`Resolver::query`](crate::dns::Resolver::query) for an example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The name the answer is for (the asked name with a search domain, if one was used).
    pub name: String,
    /// The record type asked for.
    pub qtype: RecordType,
    /// The server that answered.
    pub server: SocketAddr,
    /// Whether the answer came over TCP.
    pub over_tcp: bool,
    /// The decoded message.
    pub message: Message,
}

impl Response {
    /// The answer section.
    ///
    /// See [`Resolver::query`](crate::dns::Resolver::query) for an example.
    pub fn answers(&self) -> &[ResourceRecord] {
        &self.message.answers
    }

    /// The response code.
    ///
    /// See [`dns_query_with`](crate::dns::dns_query_with) for an example.
    pub fn rcode(&self) -> Rcode {
        self.message.response_code()
    }
}

/// What a step of a [`DnsQuery`] came to.
// `Done` comes once per query; boxing it would only add an allocation.
/// See [`DnsQuery`] for an example.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Step {
    /// Still waiting: look at [`DnsQuery::fd`], [`DnsQuery::interest`] and
    /// [`DnsQuery::deadline`] again (they may have changed).
    Pending,
    /// Finished, with the response or the resolver error.
    Done(Result<Response>),
}

/// Why the servers did not answer one name, worst last.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Failure {
    Timeout,
    Again(String),
    Fail(String),
}

/// A query in flight. Dropping it closes its sockets.
///
/// An event loop drives it by hand; this loop does what such a loop would:
///
/// ```
/// use sockets::dns::*;
/// use std::time::Instant;
/// # use sockets::{make_socket, BaseSocket, Ipv4Address, MsgFlags, SocketKind};
/// # fn one_shot_server() -> sockets::Result<std::net::SocketAddr> {
/// #     let udp = make_socket().kind(SocketKind::Datagram).local_host("127.0.0.1")
/// #         .build_datagram()?;
/// #     let addr = std::net::SocketAddr::from(([127, 0, 0, 1], udp.local_port()?));
/// #     std::thread::spawn(move || -> sockets::Result<()> {
/// #         let mut buf = [0; 1500];
/// #         udp.wait_readable(None)?;
/// #         let (n, from) = udp.receive_from(&mut buf, MsgFlags::empty())?;
/// #         let mut reply = Message::decode(&buf[..n])?;
/// #         reply.flags.response = true;
/// #         let name = reply.questions[0].name.clone();
/// #         let data = RecordData::A(Ipv4Address([192, 0, 2, 1]));
/// #         reply.answers.push(ResourceRecord { name, class: CLASS_IN, ttl: 60, data });
/// #         let (host, port) = from.expect("a sender");
/// #         udp.send_to(&reply.encode()?, Some((&host, port)), MsgFlags::empty())?;
/// #         Ok(())
/// #     });
/// #     Ok(addr)
/// # }
/// let resolver = Resolver::new("/nonexistent/resolv.conf", "/nonexistent/hosts")
///     .with_nameservers([one_shot_server()?]);
/// let mut query = resolver.start_query("printer.example", RecordType::A, &QueryOptions::new())?;
/// let response = loop {
///     let fd = query.fd().expect("a socket while pending");
///     let timeout = query.deadline().saturating_duration_since(Instant::now());
///     let step = match isys::wait_until_fd_ready(fd, query.interest(), Some(timeout)) {
///         Ok((false, false)) => query.on_timeout(),
///         Ok((_, true)) => query.on_writable(),
///         _ => query.on_readable(),
///     };
///     if let Step::Done(result) = step {
///         break result?;
///     }
/// };
/// assert_eq!(response.answers().len(), 1);
/// # Ok::<(), sockets::Error>(())
/// ```
#[derive(Debug)]
pub struct DnsQuery {
    plan: Plan,
    started: Instant,
    name_idx: usize,
    try_idx: usize,
    first_server: usize,
    question: Question,
    id: u16,
    packet: Vec<u8>,
    udp: Option<Udp>,
    tcp: Option<Tcp>,
    /// A socket replaced in the last step, kept open until the next step so an event loop can
    /// deregister it before its number is reused.
    retired: Vec<OwnedFd>,
    generation: u64,
    sent_to: Vec<SocketAddr>,
    deadline: Instant,
    failure: Option<Failure>,
    nodata: Option<Response>,
    saw_nxdomain: bool,
    ignored: u64,
    ready: Option<Result<Response>>,
    done: bool,
}

impl DnsQuery {
    /// Starts the query: sends the first packet.
    ///
    /// # Errors
    /// When no server could be sent to, or the random id could not be drawn.
    pub(crate) fn start(plan: Plan) -> Result<DnsQuery> {
        let first_server = if plan.rotate && !plan.servers.is_empty() {
            random_id()? as usize % plan.servers.len()
        } else {
            0
        };
        let now = Instant::now();
        let mut q = DnsQuery {
            question: Question {
                name: String::new(),
                qtype: plan.qtype,
                qclass: CLASS_IN,
            },
            plan,
            started: now,
            name_idx: 0,
            try_idx: 0,
            first_server,
            id: 0,
            packet: Vec::new(),
            udp: None,
            tcp: None,
            retired: Vec::new(),
            generation: 0,
            sent_to: Vec::new(),
            deadline: now,
            failure: None,
            nodata: None,
            saw_nxdomain: false,
            ignored: 0,
            ready: None,
            done: false,
        };
        match q.begin_name() {
            Step::Pending => Ok(q),
            Step::Done(Err(e)) => Err(e),
            Step::Done(ok) => {
                q.ready = Some(ok);
                Ok(q)
            }
        }
    }

    /// The socket to watch, `None` once done.
    ///
    /// See [`DnsQuery`] for an example.
    pub fn fd(&self) -> Option<BorrowedFd<'_>> {
        if self.done {
            return None;
        }
        match (&self.tcp, &self.udp) {
            (Some(t), _) => Some(t.fd.as_fd()),
            (None, Some(u)) => Some(u.fd.as_fd()),
            (None, None) => None,
        }
    }

    /// The watched socket's number, `None` once done.
    pub fn raw_fd(&self) -> Option<RawFd> {
        self.fd().map(|f| f.as_raw_fd())
    }

    /// What to wait for on [`fd`](Self::fd): `Read`, or `Write` while a TCP connection is
    /// being made or written.
    ///
    /// See [`DnsQuery`] for an example.
    pub fn interest(&self) -> FdEvent {
        self.tcp.as_ref().map_or(FdEvent::Read, Tcp::interest)
    }

    /// When [`on_timeout`](Self::on_timeout) should be called if the fd stays quiet.
    ///
    /// See [`DnsQuery`] for an example.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Bumped each time the watched fd changes (UDP to TCP and back, another address family),
    /// so an event loop knows to move its registration.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Replies ignored so far: wrong sender, id or question, or not decodable.
    pub fn ignored_replies(&self) -> u64 {
        self.ignored
    }

    /// Call when the fd is readable (or reports an error).
    ///
    /// See [`DnsQuery`] for an example.
    pub fn on_readable(&mut self) -> Step {
        self.retired.clear();
        if let Some(r) = self.ready.take() {
            return self.finish(r);
        }
        if self.done {
            return Step::Pending;
        }
        if self.tcp.is_some() {
            return self.tcp_step();
        }
        let mut buf = vec![0u8; MAX_MESSAGE];
        loop {
            let Some(udp) = &self.udp else {
                return Step::Pending;
            };
            let (n, from) = match udp.recv(&mut buf) {
                Ok(Some(got)) => got,
                Ok(None) => return Step::Pending,
                // An ICMP error for an earlier datagram (reported once, then cleared): keep
                // waiting for the others.
                Err(_) => {
                    self.ignored += 1;
                    return Step::Pending;
                }
            };
            let Some(from) = from.filter(|f| self.sent_to.contains(f)) else {
                self.ignored += 1;
                continue;
            };
            match Message::decode(&buf[..n]) {
                Ok(m) if self.is_reply(&m) => return self.on_reply(m, from, false),
                _ => self.ignored += 1,
            }
        }
    }

    /// Call when the fd is writable (a TCP connection in progress).
    ///
    /// See [`DnsQuery`] for an example.
    pub fn on_writable(&mut self) -> Step {
        self.on_readable()
    }

    /// Call when [`deadline`](Self::deadline) has passed; earlier calls change nothing.
    ///
    /// See [`DnsQuery`] for an example.
    pub fn on_timeout(&mut self) -> Step {
        self.retired.clear();
        if let Some(r) = self.ready.take() {
            return self.finish(r);
        }
        if self.done || Instant::now() < self.deadline {
            return Step::Pending;
        }
        if let Some(t) = self.tcp.take() {
            self.retire(t.fd);
        }
        self.note(Failure::Timeout);
        self.try_idx += 1;
        self.send_next()
    }

    /// Drives the query to its end, waiting with `poll(2)`.
    ///
    /// Blocks until the answer, up to the query's timeout × attempts per server.
    ///
    /// # Errors
    /// The resolver errors, or a failure of `poll(2)` itself.
    ///
    /// # Examples
    ///
    /// See [`Resolver::start_query`](crate::dns::Resolver::start_query) for an example.
    pub fn wait(mut self) -> Result<Response> {
        loop {
            let step = match self.fd() {
                None => self.on_timeout(),
                Some(fd) => {
                    let left = self.deadline.saturating_duration_since(Instant::now());
                    match isys::wait_until_fd_ready(fd, self.interest(), Some(left)) {
                        Ok((false, false)) => self.on_timeout(),
                        Ok(_) | Err(FdWaitError::PollErr { .. }) => self.on_readable(),
                        Err(e) => return Err(Error::Poll(e)),
                    }
                }
            };
            if let Step::Done(r) = step {
                return r;
            }
        }
    }

    fn is_reply(&self, m: &Message) -> bool {
        m.id == self.id
            && m.flags.response
            && m.questions.len() == 1
            && m.questions[0].matches(&self.question)
    }

    fn retire(&mut self, fd: OwnedFd) {
        self.retired.push(fd);
        self.generation += 1;
    }

    fn note(&mut self, f: Failure) {
        if self.failure.as_ref().map_or(true, |old| f > *old) {
            self.failure = Some(f);
        }
    }

    /// Sets up the current name's question and sends it.
    fn begin_name(&mut self) -> Step {
        let name = self.plan.names[self.name_idx].clone();
        self.id = match random_id() {
            Ok(id) => id,
            Err(e) => return self.finish(Err(e)),
        };
        let msg = Message::query(self.id, &name, self.plan.qtype, self.plan.edns);
        self.packet = match msg.encode() {
            Ok(p) => p,
            Err(e) => return self.finish(Err(e.into())),
        };
        self.question = msg.questions[0].clone();
        self.try_idx = 0;
        self.sent_to.clear();
        self.failure = None;
        self.send_next()
    }

    /// Sends to the server of the current try, moving on past servers that cannot be sent
    /// to; ends the name when the tries are used up.
    fn send_next(&mut self) -> Step {
        let n = self.plan.servers.len();
        let tries = n * self.plan.attempts.max(1) as usize;
        while self.try_idx < tries {
            let server = self.plan.servers[(self.first_server + self.try_idx) % n];
            let sent = if self.plan.tcp {
                self.open_tcp(&server)
            } else {
                self.send_udp(&server)
            };
            match sent {
                Ok(()) => {
                    self.deadline = Instant::now() + self.plan.timeout;
                    return Step::Pending;
                }
                Err(e) => {
                    self.note(Failure::Again(format!("{server}: {e}")));
                    self.try_idx += 1;
                }
            }
        }
        if n == 0 {
            self.note(Failure::Fail("no name servers configured".into()));
        }
        self.name_failed()
    }

    fn send_udp(&mut self, server: &SocketAddr) -> Result<()> {
        if !self.udp.as_ref().is_some_and(|u| u.fits(server)) {
            let fresh = Udp::open(server)?;
            if let Some(old) = self.udp.replace(fresh) {
                self.retire(old.fd);
            } else {
                self.generation += 1;
            }
        }
        self.udp
            .as_ref()
            .map_or(Ok(()), |u| u.send(server, &self.packet))?;
        self.sent_to.push(*server);
        Ok(())
    }

    fn open_tcp(&mut self, server: &SocketAddr) -> Result<()> {
        let tcp = Tcp::open(server, &self.packet)?;
        if let Some(old) = self.tcp.replace(tcp) {
            self.retire(old.fd);
        } else {
            self.generation += 1;
        }
        Ok(())
    }

    fn tcp_step(&mut self) -> Step {
        let Some(tcp) = self.tcp.as_mut() else {
            return Step::Pending;
        };
        let server = tcp.server;
        let outcome = tcp.progress();
        if matches!(outcome, TcpProgress::Pending) {
            return Step::Pending;
        }
        if let Some(t) = self.tcp.take() {
            self.retire(t.fd);
        }
        match outcome {
            TcpProgress::Reply(bytes) => match Message::decode(&bytes) {
                Ok(m) if self.is_reply(&m) => return self.on_reply(m, server, true),
                Ok(_) => self.note(Failure::Fail(format!(
                    "{server}: mismatched reply over TCP"
                ))),
                Err(e) => self.note(Failure::Fail(format!("{server}: {e}"))),
            },
            TcpProgress::Failed(e) => self.note(Failure::Again(format!("{server} over TCP: {e}"))),
            TcpProgress::Pending => {}
        }
        self.try_idx += 1;
        self.send_next()
    }

    fn on_reply(&mut self, m: Message, server: SocketAddr, over_tcp: bool) -> Step {
        if m.flags.truncated && !over_tcp {
            return match self.open_tcp(&server) {
                Ok(()) => {
                    self.deadline = Instant::now() + self.plan.timeout;
                    Step::Pending
                }
                Err(e) => {
                    self.note(Failure::Again(format!("{server} over TCP: {e}")));
                    self.try_idx += 1;
                    self.send_next()
                }
            };
        }
        let response = Response {
            name: self.plan.names[self.name_idx].clone(),
            qtype: self.plan.qtype,
            server,
            over_tcp,
            message: m,
        };
        match response.rcode() {
            Rcode::NoError if !response.answers().is_empty() => self.finish(Ok(response)),
            Rcode::NoError => {
                self.nodata.get_or_insert(response);
                self.next_name()
            }
            Rcode::NxDomain => {
                self.saw_nxdomain = true;
                self.next_name()
            }
            code => {
                let what = format!("{server} answered {code}");
                self.note(if code == Rcode::ServFail {
                    Failure::Again(what)
                } else {
                    Failure::Fail(what)
                });
                self.try_idx += 1;
                self.send_next()
            }
        }
    }

    /// The current name has no records (NXDOMAIN or no data): try the next one.
    fn next_name(&mut self) -> Step {
        self.name_idx += 1;
        if self.name_idx < self.plan.names.len() {
            return self.begin_name();
        }
        let asked = self.plan.asked.clone();
        match self.nodata.take() {
            Some(r) => self.finish(Ok(r)),
            None => self.finish(Err(Error::ResolverNoName { name: asked })),
        }
    }

    /// No server answered the current name: the query fails.
    fn name_failed(&mut self) -> Step {
        let name = self.plan.asked.clone();
        let err = match self.failure.take() {
            Some(Failure::Fail(message)) => Error::ResolverFail { name, message },
            Some(Failure::Again(message)) => Error::ResolverAgain { name, message },
            Some(Failure::Timeout) | None => Error::ResolverTimeout {
                name,
                elapsed: self.started.elapsed(),
            },
        };
        self.finish(Err(err))
    }

    fn finish(&mut self, r: Result<Response>) -> Step {
        self.done = true;
        self.deadline = Instant::now();
        if let Some(u) = self.udp.take() {
            self.retired.push(u.fd);
        }
        if let Some(t) = self.tcp.take() {
            self.retired.push(t.fd);
        }
        Step::Done(r)
    }

    /// The per-try timeout of this query.
    pub fn try_timeout(&self) -> Duration {
        self.plan.timeout
    }
}

fn random_id() -> Result<u16> {
    isys::random_u16().map_err(|e| Error::from_errno("getrandom", e))
}
