//! Multiplexing calls: select with bounds-checked fd sets, poll, epoll (Linux), kqueue (BSD).

use crate::{timeout_ms, Errno, Result};
use bitflags::bitflags;
use std::fmt;
use std::mem;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::time::Duration;

/// `FD_SETSIZE`: select(2) can only watch fds below this number.
pub const FD_SETSIZE: usize = libc::FD_SETSIZE as usize;

/// An `fd_set` for [`select`] that refuses fds outside `0..FD_SETSIZE` with `EINVAL`,
/// where the C macros would write out of bounds.
#[derive(Clone, Copy)]
pub struct FdSet(libc::fd_set);

fn check_fd(fd: RawFd) -> Result<()> {
    if fd < 0 || fd as usize >= FD_SETSIZE {
        Err(Errno::EINVAL)
    } else {
        Ok(())
    }
}

impl FdSet {
    /// An empty set (`FD_ZERO`).
    pub fn new() -> Self {
        // SAFETY: fd_set is a plain bit array; FD_ZERO initialises it fully.
        unsafe {
            let mut set = mem::MaybeUninit::<libc::fd_set>::zeroed();
            libc::FD_ZERO(set.as_mut_ptr());
            FdSet(set.assume_init())
        }
    }

    /// `FD_SET`. `EINVAL` when `fd` is negative or `>= FD_SETSIZE`.
    pub fn insert(&mut self, fd: RawFd) -> Result<()> {
        check_fd(fd)?;
        // SAFETY: fd is within 0..FD_SETSIZE (checked above).
        unsafe { libc::FD_SET(fd, &mut self.0) };
        Ok(())
    }

    /// `FD_CLR`. Numbers outside the range are never in the set, so this is a no-op for them.
    pub fn remove(&mut self, fd: RawFd) {
        if check_fd(fd).is_ok() {
            // SAFETY: fd is within 0..FD_SETSIZE.
            unsafe { libc::FD_CLR(fd, &mut self.0) };
        }
    }

    /// `FD_ISSET`; `false` for numbers outside the range.
    pub fn contains(&self, fd: RawFd) -> bool {
        // SAFETY: fd is within 0..FD_SETSIZE when FD_ISSET is reached.
        check_fd(fd).is_ok() && unsafe { libc::FD_ISSET(fd, &self.0) }
    }

    /// Empties the set (`FD_ZERO`).
    pub fn clear(&mut self) {
        // SAFETY: self.0 is a valid fd_set.
        unsafe { libc::FD_ZERO(&mut self.0) };
    }
}

impl Default for FdSet {
    fn default() -> Self {
        FdSet::new()
    }
}

impl fmt::Debug for FdSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries((0..FD_SETSIZE as RawFd).filter(|&fd| self.contains(fd)))
            .finish()
    }
}

/// `select(2)`: waits until an fd in a set is ready; `nfds` is the highest fd plus one.
/// Returns the number of ready fds; the sets are rewritten to the ready ones.
/// `timeout` `None` waits forever.
pub fn select(
    nfds: RawFd,
    read: Option<&mut FdSet>,
    write: Option<&mut FdSet>,
    except: Option<&mut FdSet>,
    timeout: Option<Duration>,
) -> Result<usize> {
    if nfds < 0 || nfds as usize > FD_SETSIZE {
        return Err(Errno::EINVAL);
    }
    let ptr = |s: Option<&mut FdSet>| s.map_or(std::ptr::null_mut(), |s| &mut s.0 as *mut _);
    let mut tv = timeout.map(|t| libc::timeval {
        tv_sec: t.as_secs().min(i32::MAX as u64) as libc::time_t,
        tv_usec: t.subsec_micros() as libc::suseconds_t,
    });
    let tvp = tv.as_mut().map_or(std::ptr::null_mut(), |t| t as *mut _);
    syscall!(select(nfds, ptr(read), ptr(write), ptr(except), tvp)).map(|n| n as usize)
}

bitflags! {
    /// `poll(2)` event bits.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct PollFlags: libc::c_short {
        /// `POLLIN`: readable.
        const IN = libc::POLLIN;
        /// `POLLPRI`: urgent data.
        const PRI = libc::POLLPRI;
        /// `POLLOUT`: writable.
        const OUT = libc::POLLOUT;
        /// `POLLERR` (result only): error condition.
        const ERR = libc::POLLERR;
        /// `POLLHUP` (result only): hang up.
        const HUP = libc::POLLHUP;
        /// `POLLNVAL` (result only): the fd is not open.
        const NVAL = libc::POLLNVAL;
        #[cfg(linux_like)]
        /// `POLLRDHUP` (Linux): the peer shut down its writing half.
        const RDHUP = libc::POLLRDHUP;
    }
}

/// One entry of a [`poll`] array (`struct pollfd`, same layout).
#[derive(Clone, Copy)]
#[repr(transparent)]
pub struct PollFd(libc::pollfd);

impl PollFd {
    /// An entry watching `fd` for `events`. A negative `fd` is ignored by the kernel.
    pub fn new(fd: RawFd, events: PollFlags) -> Self {
        PollFd(libc::pollfd {
            fd,
            events: events.bits(),
            revents: 0,
        })
    }
    /// The fd number.
    pub fn fd(&self) -> RawFd {
        self.0.fd
    }
    /// Changes the fd number (negative = skip this entry).
    pub fn set_fd(&mut self, fd: RawFd) {
        self.0.fd = fd;
    }
    /// The requested events.
    pub fn events(&self) -> PollFlags {
        PollFlags::from_bits_retain(self.0.events)
    }
    /// Changes the requested events.
    pub fn set_events(&mut self, events: PollFlags) {
        self.0.events = events.bits();
    }
    /// The returned events.
    pub fn revents(&self) -> PollFlags {
        PollFlags::from_bits_retain(self.0.revents)
    }
}

impl fmt::Debug for PollFd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PollFd")
            .field("fd", &self.fd())
            .field("events", &self.events())
            .field("revents", &self.revents())
            .finish()
    }
}

/// `poll(2)`: waits for events on `fds`; `timeout` is rounded up to whole milliseconds
/// (`None` = forever). Returns the number of entries with non-zero `revents`.
pub fn poll(fds: &mut [PollFd], timeout: Option<Duration>) -> Result<usize> {
    syscall!(poll(
        fds.as_mut_ptr().cast::<libc::pollfd>(),
        fds.len() as libc::nfds_t,
        timeout_ms(timeout)
    ))
    .map(|n| n as usize)
}

#[cfg(linux_like)]
pub use self::epoll::*;

#[cfg(linux_like)]
mod epoll {
    use super::*;
    use crate::fd::owned;
    use std::os::fd::OwnedFd;

    bitflags! {
        /// `epoll_event.events` bits.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct EpollFlags: u32 {
            /// `EPOLLIN`.
            const IN = libc::EPOLLIN as u32;
            /// `EPOLLOUT`.
            const OUT = libc::EPOLLOUT as u32;
            /// `EPOLLPRI`.
            const PRI = libc::EPOLLPRI as u32;
            /// `EPOLLERR` (always reported).
            const ERR = libc::EPOLLERR as u32;
            /// `EPOLLHUP` (always reported).
            const HUP = libc::EPOLLHUP as u32;
            /// `EPOLLRDHUP`: peer shut down writing.
            const RDHUP = libc::EPOLLRDHUP as u32;
            /// `EPOLLET`: edge-triggered.
            const ET = libc::EPOLLET as u32;
            /// `EPOLLONESHOT`.
            const ONESHOT = libc::EPOLLONESHOT as u32;
        }
    }

    /// `struct epoll_event`: events plus 64 bits of user data.
    #[derive(Clone, Copy)]
    #[repr(transparent)]
    pub struct EpollEvent(libc::epoll_event);

    impl EpollEvent {
        /// An event with `events` and user `data`.
        pub fn new(events: EpollFlags, data: u64) -> Self {
            EpollEvent(libc::epoll_event {
                events: events.bits(),
                u64: data,
            })
        }
        /// An all-zero event, for output buffers.
        pub fn empty() -> Self {
            EpollEvent::new(EpollFlags::empty(), 0)
        }
        /// The event bits.
        pub fn events(&self) -> EpollFlags {
            EpollFlags::from_bits_retain(self.0.events)
        }
        /// The user data.
        pub fn data(&self) -> u64 {
            self.0.u64
        }
    }

    impl fmt::Debug for EpollEvent {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("EpollEvent")
                .field("events", &self.events())
                .field("data", &self.data())
                .finish()
        }
    }

    /// `epoll_ctl` operations.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum EpollOp {
        /// `EPOLL_CTL_ADD`.
        Add,
        /// `EPOLL_CTL_MOD`.
        Modify,
        /// `EPOLL_CTL_DEL`.
        Delete,
    }

    /// `epoll_create1(EPOLL_CLOEXEC)`.
    pub fn epoll_create1() -> Result<OwnedFd> {
        syscall!(epoll_create1(libc::EPOLL_CLOEXEC)).map(owned)
    }

    /// `epoll_ctl(2)`. `fd` is a raw number because a closed fd must still be deletable by
    /// number from the caller's bookkeeping (the kernel then answers `EBADF`).
    pub fn epoll_ctl<Fd: AsFd>(
        epfd: Fd,
        op: EpollOp,
        fd: RawFd,
        event: Option<EpollEvent>,
    ) -> Result<()> {
        let op = match op {
            EpollOp::Add => libc::EPOLL_CTL_ADD,
            EpollOp::Modify => libc::EPOLL_CTL_MOD,
            EpollOp::Delete => libc::EPOLL_CTL_DEL,
        };
        let mut ev = event.unwrap_or_else(EpollEvent::empty);
        syscall!(epoll_ctl(
            epfd.as_fd().as_raw_fd(),
            op,
            fd,
            &mut ev.0 as *mut libc::epoll_event
        ))
        .map(drop)
    }

    /// `epoll_wait(2)`: fills `events`, returns how many; timeout rounded up to milliseconds.
    pub fn epoll_wait<Fd: AsFd>(
        epfd: Fd,
        events: &mut [EpollEvent],
        timeout: Option<Duration>,
    ) -> Result<usize> {
        let n = events.len().min(libc::c_int::MAX as usize) as libc::c_int;
        syscall!(epoll_wait(
            epfd.as_fd().as_raw_fd(),
            events.as_mut_ptr().cast::<libc::epoll_event>(),
            n,
            timeout_ms(timeout)
        ))
        .map(|n| n as usize)
    }
}

#[cfg(bsd_like)]
pub use self::kqueue::*;

/// kqueue/kevent, written to the pattern mio and polling use. Not compiled on Linux.
#[cfg(bsd_like)]
mod kqueue {
    use super::*;
    use crate::fd::owned;
    use std::os::fd::OwnedFd;

    /// `struct kevent`.
    #[derive(Clone, Copy)]
    #[repr(transparent)]
    pub struct KEvent(libc::kevent);

    /// `EVFILT_READ`.
    pub const EVFILT_READ: i16 = libc::EVFILT_READ as i16;
    /// `EVFILT_WRITE`.
    pub const EVFILT_WRITE: i16 = libc::EVFILT_WRITE as i16;
    /// `EV_ADD`.
    pub const EV_ADD: u16 = libc::EV_ADD as u16;
    /// `EV_DELETE`.
    pub const EV_DELETE: u16 = libc::EV_DELETE as u16;
    /// `EV_ERROR`.
    pub const EV_ERROR: u16 = libc::EV_ERROR as u16;
    /// `EV_EOF`.
    pub const EV_EOF: u16 = libc::EV_EOF as u16;
    /// `EV_RECEIPT`: report each change's result as an event.
    pub const EV_RECEIPT: u16 = libc::EV_RECEIPT as u16;

    impl KEvent {
        /// A change or event for `ident` (fd) on `filter` with `flags` and user data `udata`.
        pub fn new(ident: usize, filter: i16, flags: u16, udata: usize) -> Self {
            // SAFETY: struct kevent is plain old data; all-zero is valid.
            let mut ev: libc::kevent = unsafe { mem::zeroed() };
            ev.ident = ident as _;
            ev.filter = filter as _;
            ev.flags = flags as _;
            ev.udata = udata as _;
            KEvent(ev)
        }
        /// An all-zero entry, for output buffers.
        pub fn empty() -> Self {
            KEvent::new(0, 0, 0, 0)
        }
        /// `ident` (the fd).
        pub fn ident(&self) -> usize {
            self.0.ident as usize
        }
        /// `filter`.
        pub fn filter(&self) -> i16 {
            self.0.filter as i16
        }
        /// `flags`.
        pub fn flags(&self) -> u16 {
            self.0.flags as u16
        }
        /// `fflags` (with `EV_EOF` on a socket: the errno that ended it, e.g. `ECONNRESET`).
        pub fn fflags(&self) -> u32 {
            self.0.fflags as u32
        }
        /// `data` (an errno when `flags` has `EV_ERROR`).
        pub fn data(&self) -> i64 {
            self.0.data as i64
        }
        /// `udata`.
        pub fn udata(&self) -> usize {
            self.0.udata as usize
        }
    }

    impl fmt::Debug for KEvent {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("KEvent")
                .field("ident", &self.ident())
                .field("filter", &self.filter())
                .field("flags", &self.flags())
                .field("data", &self.data())
                .finish()
        }
    }

    /// `kqueue(2)`, made CLOEXEC.
    pub fn kqueue() -> Result<OwnedFd> {
        let fd = syscall!(kqueue()).map(owned)?;
        crate::set_cloexec(&fd, true)?;
        Ok(fd)
    }

    /// `kevent(2)`: applies `changes` and fills `events`; returns how many events.
    pub fn kevent<Fd: AsFd>(
        kq: Fd,
        changes: &[KEvent],
        events: &mut [KEvent],
        timeout: Option<Duration>,
    ) -> Result<usize> {
        let ts = timeout.map(|t| libc::timespec {
            tv_sec: t.as_secs().min(i32::MAX as u64) as libc::time_t,
            tv_nsec: t.subsec_nanos() as _,
        });
        let tsp = ts.as_ref().map_or(std::ptr::null(), |t| t as *const _);
        syscall!(kevent(
            kq.as_fd().as_raw_fd(),
            changes.as_ptr().cast(),
            changes.len() as _,
            events.as_mut_ptr().cast(),
            events.len() as _,
            tsp
        ))
        .map(|n| n as usize)
    }
}
