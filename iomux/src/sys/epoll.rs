//! epoll(7) backend (Linux). Interest changes reach the kernel through the event base's
//! changelist, so only real changes cost an `epoll_ctl`.
//!
//! epoll refuses fds whose file has no readiness to watch (regular files, some character
//! devices: `EPERM`). Those are kept aside and reported ready for their interest on every
//! wait, as poll and select report them (and as libuv does); while any with an interest is
//! registered the wait does not block. Their identity is checked at each wait (an `fstat`
//! each, on this rare path only), so one closed behind the base's back is reported invalid
//! and purged instead of firing forever. They are reported in the event buffer itself, after
//! the kernel's events, as events marked `EPOLLONESHOT` (a bit the kernel never reports back),
//! so reading the `i`th ready fd is one bounds check whatever it is.
//!
//! The event buffer is the one part of this backend kept outside its `Selector`: the
//! multiplexer's `Selector` holds it (empty on the other backends) and lends it to `select`
//! and `ready`, so the event loop reads a ready fd from it with no check of which backend
//! it has: the bounds check does for both.
//!
//! `EPOLLRDHUP` is asked for only with read interest: a peer's half-close is news for a
//! reader, and asked for without one it would be reported, level-triggered, to nobody.

use super::{Interest, Plain, Ready};
use isys::{EpollBuffer, EpollEvent, EpollFlags, EpollOp, Errno, OwnedFd};
use std::os::fd::RawFd;
use std::time::Duration;

#[derive(Debug)]
pub(crate) struct Selector {
    epfd: OwnedFd,
    /// fds epoll refused with `EPERM`, with their interest and identity: always ready.
    always: Vec<Always>,
    /// The non-empty ones of `always` at the last wait (and whether each is still the file
    /// registered), which the [`ALWAYS`] events after the kernel's index.
    always_now: Vec<(RawFd, Interest, bool)>,
}

/// The flags of an event that stands for an always-ready fd (its data is the index in
/// `always_now`): `ONESHOT` marks it (the kernel reports no such bit back, and it is never
/// registered here), `ERR` keeps it off `ready_plain`'s fast path with the same test.
const ALWAYS: EpollFlags = EpollFlags::ONESHOT.union(EpollFlags::ERR);

/// An fd epoll refused, reported ready on every wait.
#[derive(Debug, Clone, Copy)]
struct Always {
    fd: RawFd,
    interest: Interest,
    /// `(st_dev, st_ino)` when registered; `None` if unknown.
    identity: Option<(u64, u64)>,
}

fn flags(i: Interest) -> EpollFlags {
    let mut f = EpollFlags::empty();
    if i.read {
        f |= EpollFlags::IN | EpollFlags::RDHUP;
    }
    if i.write {
        f |= EpollFlags::OUT;
    }
    f
}

impl Selector {
    pub const MAX_FD: Option<usize> = None;
    pub const VERIFY_IDENTITY: bool = false;

    /// The event buffer `select` fills: the kernel's events of the last wait, then the
    /// always-ready fds' [`ALWAYS`] events.
    pub fn buffer() -> EpollBuffer {
        EpollBuffer::new(1024)
    }

    pub fn new() -> isys::Result<Self> {
        Ok(Selector {
            epfd: isys::epoll_create1()?,
            always: Vec::new(),
            always_now: Vec::new(),
        })
    }

    pub fn register(&mut self, fd: RawFd, i: Interest) -> isys::Result<()> {
        let ev = EpollEvent::new(flags(i), fd as u64);
        match isys::epoll_ctl(&self.epfd, EpollOp::Add, fd, Some(ev)) {
            // Still in the set from an earlier registration of the same open file.
            Err(Errno::EEXIST) => isys::epoll_ctl(&self.epfd, EpollOp::Modify, fd, Some(ev)),
            // A regular file (or the like): always ready.
            Err(Errno::EPERM) => {
                self.set_always(fd, i);
                Ok(())
            }
            r => r,
        }
    }

    #[cold]
    fn set_always(&mut self, fd: RawFd, i: Interest) {
        match self.always.iter_mut().find(|a| a.fd == fd) {
            Some(entry) => entry.interest = i,
            None => self.always.push(Always {
                fd,
                interest: i,
                identity: isys::fstat_identity(fd).ok(),
            }),
        }
    }

    pub fn reregister(&mut self, fd: RawFd, i: Interest) -> isys::Result<()> {
        if self.always.iter().any(|a| a.fd == fd) {
            self.set_always(fd, i);
            return Ok(());
        }
        let ev = EpollEvent::new(flags(i), fd as u64);
        match isys::epoll_ctl(&self.epfd, EpollOp::Modify, fd, Some(ev)) {
            // The kernel dropped it (the fd was closed, the number reused): add again.
            // The number now names a file epoll cannot watch (it was closed and reused by a
            // regular file): always ready.
            Err(Errno::EPERM) => {
                self.set_always(fd, i);
                Ok(())
            }
            Err(Errno::ENOENT) => match isys::epoll_ctl(&self.epfd, EpollOp::Add, fd, Some(ev)) {
                // The number now names a file epoll cannot watch: always ready.
                Err(Errno::EPERM) => {
                    self.set_always(fd, i);
                    Ok(())
                }
                r => r,
            },
            r => r,
        }
    }

    pub fn deregister(&mut self, fd: RawFd) -> isys::Result<()> {
        if let Some(p) = self.always.iter().position(|a| a.fd == fd) {
            self.always.swap_remove(p);
            return Ok(());
        }
        match isys::epoll_ctl(&self.epfd, EpollOp::Delete, fd, None) {
            Err(Errno::EBADF) | Err(Errno::ENOENT) => Ok(()),
            r => r,
        }
    }

    #[inline]
    pub fn select(
        &mut self,
        events: &mut EpollBuffer,
        timeout: Option<Duration>,
    ) -> isys::Result<usize> {
        if !self.always.is_empty() {
            return super::unpack(self.select_with_always(events, timeout));
        }
        let n = isys::epoll_wait_buffer(&self.epfd, events, timeout)?;
        if n == events.len() {
            grow(events);
        }
        Ok(n)
    }

    /// `select(None)` while no fd is kept aside as always ready.
    #[inline(always)]
    pub fn select_plain(&mut self, events: &mut EpollBuffer) -> isys::Result<usize> {
        debug_assert!(self.always.is_empty());
        let n = isys::epoll_wait_buffer(&self.epfd, events, None)?;
        if n == events.len() {
            grow(events);
        }
        Ok(n)
    }

    /// Whether some fds are kept aside as always ready.
    pub fn has_always(&self) -> bool {
        !self.always.is_empty()
    }

    /// `select` while epoll refused some fds: those with an interest make the wait a check,
    /// and follow the kernel's events in the buffer as [`ALWAYS`] events.
    #[cold]
    #[inline(never)]
    fn select_with_always(&mut self, events: &mut EpollBuffer, timeout: Option<Duration>) -> isize {
        super::pack(self.wait_with_always(events, timeout))
    }

    fn wait_with_always(
        &mut self,
        events: &mut EpollBuffer,
        timeout: Option<Duration>,
    ) -> isys::Result<usize> {
        self.always_now.clear();
        for a in &self.always {
            if a.interest.is_empty() {
                continue;
            }
            let same = a.identity.is_some() && isys::fstat_identity(a.fd).ok() == a.identity;
            self.always_now.push((a.fd, a.interest, same));
        }
        let k = self.always_now.len();
        let timeout = if k == 0 {
            timeout
        } else {
            Some(Duration::ZERO)
        };
        if events.len() <= k {
            events.resize(k + 1);
        }
        let room = events.len() - k;
        let n = isys::epoll_wait(&self.epfd, &mut events[..room], timeout)?;
        for j in 0..k {
            events[n + j] = EpollEvent::new(ALWAYS, j as u64);
        }
        if n == room {
            grow(events);
        }
        Ok(n + k)
    }

    #[inline]
    pub fn ready(&self, events: &[EpollEvent], i: usize) -> Ready {
        let ev = &events[i];
        let f = ev.events();
        if f.contains(ALWAYS) {
            let (fd, i, same) = self.always_now[ev.data() as usize];
            return Ready {
                fd,
                read: same && i.read,
                write: same && i.write,
                invalid: !same,
                ..Ready::default()
            };
        }
        Ready {
            fd: ev.data() as RawFd,
            read: f.intersects(EpollFlags::IN | EpollFlags::PRI | EpollFlags::RDHUP),
            write: f.contains(EpollFlags::OUT),
            error: f.contains(EpollFlags::ERR),
            hup: f.contains(EpollFlags::HUP),
            invalid: false,
        }
    }
}

/// Doubles a buffer the last wait filled (more may be waiting), keeping its events.
#[cold]
#[inline(never)]
fn grow(events: &mut EpollBuffer) {
    let n = events.len();
    if n < 1 << 16 {
        events.resize(n * 2);
    }
}

/// A ready fd's event as `(fd, readiness)` (the fd as the fd table's index), when that is
/// all there is to it (no error or hang-up, not one of the always-ready fds); `None` sends
/// the caller to [`Selector::ready`].
#[inline(always)]
pub(crate) fn plain(ev: &EpollEvent) -> Option<(usize, Plain)> {
    let f = ev.events();
    if f.intersects(EpollFlags::ERR | EpollFlags::HUP) {
        return None;
    }
    Some((ev.data() as u32 as usize, Plain(f.bits())))
}

// `Plain`'s bits are epoll's.
const _: () = assert!(
    Plain::READ
        == EpollFlags::IN
            .union(EpollFlags::PRI)
            .union(EpollFlags::RDHUP)
            .bits()
        && Plain::WRITE == EpollFlags::OUT.bits()
);
