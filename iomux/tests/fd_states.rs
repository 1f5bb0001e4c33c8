//! Visiting per-fd states without draining them (`fd_states`, `fd_states_mut`,
//! `for_each_fd_state_mut`), on every compiled backend.

mod util;

use iomux::*;
use isys::{AsRawFd, OwnedFd, RawFd};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

const LONG: Duration = Duration::from_secs(5);

#[derive(Debug, PartialEq)]
struct Conn {
    name: &'static str,
    lines: u32,
}

fn pipes(n: usize) -> Vec<(OwnedFd, OwnedFd)> {
    (0..n).map(|_| isys::pipe(true).unwrap()).collect()
}

fn visiting_leaves_the_states_in_place(b: Backend) {
    let mut eb = EventBase::with_backend(b).unwrap();
    let p = pipes(4);
    let fds: Vec<RawFd> = p.iter().map(|(r, _)| r.as_raw_fd()).collect();
    eb.set_fd_state(
        fds[2],
        Conn {
            name: "c",
            lines: 0,
        },
    )
    .unwrap();
    eb.set_fd_state(
        fds[0],
        Conn {
            name: "a",
            lines: 0,
        },
    )
    .unwrap();
    eb.set_fd_state(fds[1], "not a Conn").unwrap();
    eb.set_fd_state(
        fds[3],
        Conn {
            name: "d",
            lines: 0,
        },
    )
    .unwrap();
    let seen: Vec<(RawFd, &'static str)> =
        eb.fd_states::<Conn>().map(|(fd, c)| (fd, c.name)).collect();
    let mut want = vec![(fds[0], "a"), (fds[2], "c"), (fds[3], "d")];
    want.sort();
    assert_eq!(seen, want, "{b:?}: fd order, only Conns");
    assert_eq!(eb.fd_states::<&str>().count(), 1);
    assert_eq!(eb.fd_states::<u64>().count(), 0);
    for (fd, c) in eb.fd_states_mut::<Conn>() {
        c.lines = fd as u32;
    }
    for fd in [fds[0], fds[2], fds[3]] {
        assert_eq!(eb.fd_state::<Conn>(fd).unwrap().lines, fd as u32, "{b:?}");
    }
    assert_eq!(
        eb.drain_fd_states::<Conn>().len(),
        3,
        "nothing was drained before"
    );
}

fn the_visitor_gets_the_base(b: Backend) {
    let mut eb = EventBase::with_backend(b).unwrap();
    // Visits go in fd order; tests running in parallel can hand out the numbers in any order.
    let mut p = pipes(3);
    p.sort_by_key(|(r, _)| r.as_raw_fd());
    let fds: Vec<RawFd> = p.iter().map(|(r, _)| r.as_raw_fd()).collect();
    // Each state owns a pipe's read end, to see which are closed.
    let mut writers = Vec::new();
    for (i, (r, w)) in p.into_iter().enumerate() {
        writers.push(w);
        eb.set_fd_state(r.as_raw_fd(), (i, r)).unwrap();
        eb.set_io_handler(fds[i], Event::Read, |_, _, _, _| Ok(()))
            .unwrap();
    }
    let visited = Rc::new(RefCell::new(Vec::new()));
    let v = visited.clone();
    let (first, last) = (fds[0], fds[2]);
    let n = eb.for_each_fd_state_mut::<(usize, OwnedFd), _>(move |eb, fd, (i, _)| {
        v.borrow_mut().push(*i);
        if fd == first {
            // Drop another fd before it is visited, and this one's handler.
            assert!(eb.drop_fd(last));
            assert!(eb.remove_fd_handlers(fd, Handlers::ALL));
            // The lent state is not visible meanwhile.
            assert!(eb.fd_state::<(usize, OwnedFd)>(fd).is_none());
            assert_eq!(eb.fd_states::<(usize, OwnedFd)>().count(), 1);
        } else {
            // Removing its own state: dropped when the visit returns.
            assert!(eb.remove_fd_state(fd));
        }
    });
    assert_eq!(n, 2, "{b:?}");
    assert_eq!(*visited.borrow(), vec![0, 1], "{b:?}");
    // fd 0's state is back, fd 1's and fd 2's are gone and their pipes closed.
    assert!(eb.fd_state::<(usize, OwnedFd)>(fds[0]).is_some(), "{b:?}");
    assert!(!eb.fd_monitored(fds[0]));
    assert!(eb.fd_state::<(usize, OwnedFd)>(fds[1]).is_none());
    assert!(eb.fd_monitored(fds[1]), "only its state went");
    assert_eq!(isys::write(&writers[0], b"x"), Ok(1));
    assert_eq!(isys::write(&writers[1], b"x"), Err(isys::Errno::EPIPE));
    assert_eq!(isys::write(&writers[2], b"x"), Err(isys::Errno::EPIPE));
    eb.remove_fd_handlers(fds[1], Handlers::ALL);
    eb.drop_fd(fds[0]);
    assert!(eb.is_empty());
}

fn a_handler_can_visit_the_other_states(b: Backend) {
    let mut eb = EventBase::with_backend(b).unwrap();
    let p = pipes(3);
    let fds: Vec<RawFd> = p.iter().map(|(r, _)| r.as_raw_fd()).collect();
    for (i, &fd) in fds.iter().enumerate() {
        eb.set_fd_state(
            fd,
            Conn {
                name: ["a", "b", "c"][i],
                lines: 0,
            },
        )
        .unwrap();
    }
    isys::write(&p[1].1, b"!").unwrap();
    let r1 = fds[1];
    let others = Rc::new(RefCell::new(Vec::new()));
    let o = others.clone();
    eb.set_stateful_io_handler::<Conn, _>(
        fds[1],
        Event::Read,
        IoOptions::new(),
        move |eb, me, fd, _, _| {
            me.lines += 1;
            // A broadcast: every other client's state, the handler's own is lent to it.
            for (_, c) in eb.fd_states_mut::<Conn>() {
                c.lines += 10;
            }
            *o.borrow_mut() = eb.fd_states::<Conn>().map(|(_, c)| c.name).collect();
            eb.remove_fd_handlers(fd, Handlers::ALL);
            Ok(())
        },
    )
    .unwrap();
    eb.event_dispatch(
        DispatchOptions::default()
            .exit_when_empty(true)
            .timeout(LONG),
    )
    .unwrap();
    // In fd order; other tests running in parallel can make c's fd lower than a's.
    let mut seen = others.borrow().clone();
    seen.sort_unstable();
    assert_eq!(seen, vec!["a", "c"], "{b:?}");
    assert_eq!(eb.fd_state::<Conn>(r1).unwrap().lines, 1);
    assert_eq!(eb.fd_state::<Conn>(fds[0]).unwrap().lines, 10);
    assert_eq!(eb.fd_state::<Conn>(fds[2]).unwrap().lines, 10);
}

per_backend!(
    visiting_leaves_the_states_in_place,
    the_visitor_gets_the_base,
    a_handler_can_visit_the_other_states,
);
