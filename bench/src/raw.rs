//! A raw libc epoll echo server: the practical limit the others are compared with. This is
//! the bench crate's only `unsafe`, each block with its `// SAFETY:` line.

use std::sync::atomic::{AtomicU64, Ordering};

const BUF: usize = 16 * 1024;

fn check(r: libc::c_int, what: &str) -> libc::c_int {
    if r < 0 {
        panic!("{what}: {}", std::io::Error::last_os_error());
    }
    r
}

struct Conn {
    pending: Vec<u8>,
    open: bool,
}

/// The epoll token of the orchestrator's command pipe (stdin).
const STDIN_TOKEN: u64 = u64::MAX;

/// Runs forever (the orchestrator ends the process through stdin: `on_stdin` runs whenever
/// fd 0 is readable, and exits the process when told to stop).
pub fn echo_server(announce: fn(u16), on_stdin: fn(), events_counter: &AtomicU64) {
    // SAFETY: plain syscalls on fds this function creates and owns; every pointer passed is to
    // a live local of the right size.
    unsafe {
        let lfd = check(
            libc::socket(
                libc::AF_INET,
                libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                0,
            ),
            "socket",
        );
        let one: libc::c_int = 1;
        libc::setsockopt(
            lfd,
            libc::SOL_SOCKET,
            libc::SO_REUSEADDR,
            (&one as *const libc::c_int).cast(),
            4,
        );
        let mut sin: libc::sockaddr_in = std::mem::zeroed();
        sin.sin_family = libc::AF_INET as libc::sa_family_t;
        sin.sin_addr.s_addr = u32::from_ne_bytes([127, 0, 0, 1]);
        check(
            libc::bind(
                lfd,
                (&sin as *const libc::sockaddr_in).cast(),
                std::mem::size_of::<libc::sockaddr_in>() as u32,
            ),
            "bind",
        );
        check(libc::listen(lfd, 4096), "listen");
        let mut len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        libc::getsockname(lfd, (&mut sin as *mut libc::sockaddr_in).cast(), &mut len);
        announce(u16::from_be(sin.sin_port));

        let ep = check(libc::epoll_create1(libc::EPOLL_CLOEXEC), "epoll_create1");
        let mut ev = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: lfd as u64,
        };
        check(
            libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, lfd, &mut ev),
            "epoll_ctl",
        );
        let mut sev = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: STDIN_TOKEN,
        };
        check(
            libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, 0, &mut sev),
            "epoll_ctl(stdin)",
        );
        let mut conns: Vec<Conn> = Vec::new();
        let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 1024];
        let mut buf = vec![0u8; BUF];
        loop {
            let n = libc::epoll_wait(ep, events.as_mut_ptr(), events.len() as i32, -1);
            if n < 0 {
                continue; // EINTR
            }
            for e in &events[..n as usize] {
                if e.u64 == STDIN_TOKEN {
                    on_stdin();
                    continue;
                }
                events_counter.fetch_add(1, Ordering::Relaxed);
                let fd = e.u64 as i32;
                let flags = e.events;
                if fd == lfd {
                    loop {
                        let c = libc::accept4(
                            lfd,
                            std::ptr::null_mut(),
                            std::ptr::null_mut(),
                            libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                        );
                        if c < 0 {
                            break;
                        }
                        libc::setsockopt(
                            c,
                            libc::IPPROTO_TCP,
                            libc::TCP_NODELAY,
                            (&one as *const libc::c_int).cast(),
                            4,
                        );
                        let mut cev = libc::epoll_event {
                            events: libc::EPOLLIN as u32,
                            u64: c as u64,
                        };
                        libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, c, &mut cev);
                        if conns.len() <= c as usize {
                            conns.resize_with(c as usize + 1, || Conn {
                                pending: Vec::new(),
                                open: false,
                            });
                        }
                        conns[c as usize] = Conn {
                            pending: Vec::new(),
                            open: true,
                        };
                    }
                    continue;
                }
                let conn = &mut conns[fd as usize];
                if !conn.open {
                    continue;
                }
                let mut close = false;
                if flags & libc::EPOLLOUT as u32 != 0 && !conn.pending.is_empty() {
                    let w = libc::send(
                        fd,
                        conn.pending.as_ptr().cast(),
                        conn.pending.len(),
                        libc::MSG_NOSIGNAL,
                    );
                    if w > 0 {
                        conn.pending.drain(..w as usize);
                    } else if w < 0
                        && std::io::Error::last_os_error().raw_os_error() != Some(libc::EAGAIN)
                    {
                        close = true;
                    }
                    if conn.pending.is_empty() {
                        let mut cev = libc::epoll_event {
                            events: libc::EPOLLIN as u32,
                            u64: fd as u64,
                        };
                        libc::epoll_ctl(ep, libc::EPOLL_CTL_MOD, fd, &mut cev);
                    }
                } else if flags & (libc::EPOLLIN | libc::EPOLLHUP | libc::EPOLLERR) as u32 != 0 {
                    let r = libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), 0);
                    if r == 0 {
                        close = true;
                    } else if r > 0 {
                        let r = r as usize;
                        let w = libc::send(fd, buf.as_ptr().cast(), r, libc::MSG_NOSIGNAL);
                        let w = if w < 0 { 0 } else { w as usize };
                        if w < r {
                            conn.pending.extend_from_slice(&buf[w..r]);
                            let mut cev = libc::epoll_event {
                                events: libc::EPOLLOUT as u32,
                                u64: fd as u64,
                            };
                            libc::epoll_ctl(ep, libc::EPOLL_CTL_MOD, fd, &mut cev);
                        }
                    } else if std::io::Error::last_os_error().raw_os_error() != Some(libc::EAGAIN) {
                        close = true;
                    }
                }
                if close {
                    libc::epoll_ctl(ep, libc::EPOLL_CTL_DEL, fd, std::ptr::null_mut());
                    libc::close(fd);
                    conns[fd as usize].open = false;
                    conns[fd as usize].pending = Vec::new();
                }
            }
        }
    }
}
