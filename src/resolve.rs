//! DNS resolution on an event base, without a thread: [`dns_query_on`] starts a query (from
//! anywhere, including inside a handler during `event_dispatch`) and calls a completion
//! handler with the response or the resolver error. The query itself is `sockets`' sans-I/O
//! [`DnsQuery`]; this file only watches its fd with an I/O handler and its deadline with a
//! one-shot timer, re-registering when the query moves to another socket (UDP to TCP).

use crate::iomux::{Event, EventBase, Exception, Handlers, Timer, TimerId};
use crate::isys::{FdEvent, RawFd};
use crate::sockets::dns::{DnsQuery, QueryOptions, RecordType, Resolver, Response, Step};
use crate::sockets::{Error as SocketError, Result as SocketResult};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

type OnDone = Box<dyn FnOnce(&mut EventBase, SocketResult<Response>)>;

/// A query in flight on a base: the machine, the completion handler, and what is registered.
struct Driver {
    query: DnsQuery,
    on_done: Option<OnDone>,
    /// The fd, event and query generation the I/O handler is registered for.
    registered: Option<(RawFd, Event, u64)>,
    timer: Option<(TimerId, Instant)>,
}

type Shared = Rc<RefCell<Driver>>;

/// Starts IOLib's `dns-query` on `base` and returns at once; `on_done` runs on the base when
/// the query finishes (answer, no such name, failure or timeout). Retries and the TCP
/// fallback run on the base's handlers and timers.
///
/// The query's types are `sockets`' ([`sockets::dns`](crate::sockets::dns)): a [`Resolver`]
/// (its configuration files and servers), the [`RecordType`] asked for, [`QueryOptions`]
/// (servers, timeout, tries, TCP), and the [`Response`] with the decoded message.
///
/// Here a one-reply DNS server on a loopback UDP port answers the query:
///
/// ```
/// use iolib::dns_query_on;
/// use iolib::iomux::{DispatchOptions, EventBase};
/// use iolib::sockets::dns::{Message, QueryOptions, RecordData, RecordType, Resolver};
/// use iolib::sockets::dns::{ResourceRecord, CLASS_IN};
/// use iolib::sockets::Ipv4Address;
/// use std::time::Duration;
///
/// type AnyError = Box<dyn std::error::Error + Send + Sync>;
/// let server = std::net::UdpSocket::bind("127.0.0.1:0")?;
/// let server_addr = server.local_addr()?;
/// let dns_server = std::thread::spawn(move || -> Result<(), AnyError> {
///     let mut buf = [0; 512];
///     let (n, client) = server.recv_from(&mut buf)?;
///     let mut reply = Message::decode(&buf[..n])?; // the query, turned into its answer
///     reply.flags.response = true;
///     reply.answers.push(ResourceRecord {
///         name: reply.questions[0].name.clone(),
///         class: CLASS_IN,
///         ttl: 60,
///         data: RecordData::A(Ipv4Address([192, 0, 2, 7])),
///     });
///     server.send_to(&reply.encode()?, client)?;
///     Ok(())
/// });
///
/// // No configuration files: only the server above, no search domains.
/// let resolver = Resolver::new("/nonexistent/resolv.conf", "/nonexistent/hosts");
/// let options = QueryOptions::new()
///     .nameservers([server_addr])
///     .search(Vec::<String>::new())
///     .timeout(Duration::from_secs(2));
/// let mut base = EventBase::new()?;
/// dns_query_on(&mut base, &resolver, "www.example", RecordType::A, &options, |_, result| {
///     let response = result.expect("an answer");
///     assert_eq!(response.answers()[0].data, RecordData::A(Ipv4Address([192, 0, 2, 7])));
/// })?;
/// // The base returns once the query is done and nothing is left on it.
/// let until_done = DispatchOptions::default()
///     .exit_when_empty(true)
///     .timeout(Duration::from_secs(5));
/// base.event_dispatch(until_done)?;
/// assert!(base.is_empty());
/// dns_server.join().unwrap()?;
/// # Ok::<(), AnyError>(())
/// ```
///
/// # Errors
/// What [`Resolver::start_query`] returns (a bad name, no server reachable), or a failure
/// to register with the base ([`SocketError::InvalidArgument`] naming it). `on_done` is not
/// called then.
pub fn dns_query_on<F>(
    base: &mut EventBase,
    resolver: &Resolver,
    name: &str,
    qtype: RecordType,
    options: &QueryOptions,
    on_done: F,
) -> SocketResult<()>
where
    F: FnOnce(&mut EventBase, SocketResult<Response>) + 'static,
{
    let query = resolver.start_query(name, qtype, options)?;
    let shared = Rc::new(RefCell::new(Driver {
        query,
        on_done: Some(Box::new(on_done)),
        registered: None,
        timer: None,
    }));
    sync(base, &shared).inspect_err(|_| {
        teardown(base, &shared);
    })
}

fn event_of(e: FdEvent) -> Event {
    match e {
        FdEvent::Write => Event::Write,
        FdEvent::Read | FdEvent::ReadWrite => Event::Read,
    }
}

/// Brings the base's registrations in line with the query: the handler on its current fd
/// and interest, the timer at its deadline.
fn sync(base: &mut EventBase, shared: &Shared) -> SocketResult<()> {
    let (want, deadline, stale, old_timer) = {
        let d = shared.borrow();
        let want = d
            .query
            .raw_fd()
            .map(|fd| (fd, event_of(d.query.interest()), d.query.generation()));
        let deadline = d.query.deadline();
        let stale = (d.registered != want).then_some(d.registered).flatten();
        let old_timer = d.timer.filter(|(_, at)| *at != deadline);
        (want, deadline, stale, old_timer)
    };
    if let Some((fd, _, _)) = stale {
        base.remove_fd_handlers(fd, Handlers::ALL);
        shared.borrow_mut().registered = None;
    }
    let registered = shared.borrow().registered;
    if let (Some((fd, event, gen)), None) = (want, registered) {
        let s = Rc::clone(shared);
        base.set_io_handler(fd, event, move |base, _fd, _event, exception| {
            let step = s.borrow_mut().query.on_readable();
            if exception == Some(Exception::Error) && matches!(step, Step::Pending) {
                // The base drops this fd's handlers after an error call: register again on
                // the next round.
                s.borrow_mut().registered = None;
                let again = Rc::clone(&s);
                base.add_timer(Timer::once(Duration::ZERO), move |base| {
                    after(base, &again, Step::Pending);
                    Ok(())
                });
                return Ok(());
            }
            after(base, &s, step);
            Ok(())
        })
        .map_err(|e| SocketError::InvalidArgument(format!("event base: {e}")))?;
        shared.borrow_mut().registered = Some((fd, event, gen));
    }
    if let Some((id, _)) = old_timer {
        base.remove_timer(id);
        shared.borrow_mut().timer = None;
    }
    let has_timer = shared.borrow().timer.is_some();
    if !has_timer {
        let s = Rc::clone(shared);
        let id = base.add_timer(
            Timer::once(deadline.saturating_duration_since(Instant::now())),
            move |base| {
                s.borrow_mut().timer = None;
                let step = s.borrow_mut().query.on_timeout();
                after(base, &s, step);
                Ok(())
            },
        );
        shared.borrow_mut().timer = Some((id, deadline));
    }
    Ok(())
}

/// Acts on a step: keep watching, or tear down and call the completion handler.
fn after(base: &mut EventBase, shared: &Shared, step: Step) {
    match step {
        Step::Pending => {
            if let Err(e) = sync(base, shared) {
                finish(base, shared, Err(e));
            }
        }
        Step::Done(r) => finish(base, shared, r),
    }
}

/// Removes the query's handler and timer (which drops the query and closes its sockets) and
/// returns the completion handler.
fn teardown(base: &mut EventBase, shared: &Shared) -> Option<OnDone> {
    let (registered, timer, on_done) = {
        let mut d = shared.borrow_mut();
        (d.registered.take(), d.timer.take(), d.on_done.take())
    };
    if let Some((fd, _, _)) = registered {
        base.remove_fd_handlers(fd, Handlers::ALL);
    }
    if let Some((id, _)) = timer {
        base.remove_timer(id);
    }
    on_done
}

fn finish(base: &mut EventBase, shared: &Shared, result: SocketResult<Response>) {
    if let Some(f) = teardown(base, shared) {
        f(base, result);
    }
}
