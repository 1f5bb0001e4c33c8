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
/// where the C macros would write out of bounds. Its methods are the `FD_*` macros; they
/// make no system call.
///
/// ```
/// use isys::{Errno, FdSet, FD_SETSIZE};
///
/// let mut set = FdSet::new();
/// set.insert(3)?;
/// assert!(set.contains(3) && !set.contains(4));
/// assert_eq!(set.insert(FD_SETSIZE as i32), Err(Errno::EINVAL)); // out of range
/// set.remove(3);
/// assert!(!set.contains(3));
/// # Ok::<(), Errno>(())
/// ```
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
    ///
    /// ```
    /// assert_eq!(format!("{:?}", isys::FdSet::new()), "{}");
    /// ```
    pub fn new() -> Self {
        // SAFETY: fd_set is a plain bit array; FD_ZERO initialises it fully.
        unsafe {
            let mut set = mem::MaybeUninit::<libc::fd_set>::zeroed();
            libc::FD_ZERO(set.as_mut_ptr());
            FdSet(set.assume_init())
        }
    }

    /// `FD_SET`. `EINVAL` when `fd` is negative or `>= FD_SETSIZE`.
    ///
    /// ```
    /// let mut set = isys::FdSet::new();
    /// set.insert(0)?;
    /// assert_eq!(set.insert(-1), Err(isys::Errno::EINVAL));
    /// # Ok::<(), isys::Errno>(())
    /// ```
    ///
    /// # Errors
    /// `EINVAL` when `fd` is negative or not below [`FD_SETSIZE`] (1024 on Linux and macOS);
    /// watch such fds with [`poll`] instead.
    pub fn insert(&mut self, fd: RawFd) -> Result<()> {
        check_fd(fd)?;
        // SAFETY: fd is within 0..FD_SETSIZE (checked above).
        unsafe { libc::FD_SET(fd, &mut self.0) };
        Ok(())
    }

    /// `FD_CLR`. Numbers outside the range are never in the set, so this is a no-op for them.
    ///
    /// ```
    /// let mut set = isys::FdSet::new();
    /// set.insert(5)?;
    /// set.remove(5);
    /// set.remove(100_000); // out of range: nothing to do
    /// assert!(!set.contains(5));
    /// # Ok::<(), isys::Errno>(())
    /// ```
    pub fn remove(&mut self, fd: RawFd) {
        if check_fd(fd).is_ok() {
            // SAFETY: fd is within 0..FD_SETSIZE.
            unsafe { libc::FD_CLR(fd, &mut self.0) };
        }
    }

    /// `FD_ISSET`; `false` for numbers outside the range.
    ///
    /// ```
    /// let mut set = isys::FdSet::new();
    /// set.insert(7)?;
    /// assert!(set.contains(7) && !set.contains(-7));
    /// # Ok::<(), isys::Errno>(())
    /// ```
    pub fn contains(&self, fd: RawFd) -> bool {
        // SAFETY: fd is within 0..FD_SETSIZE when FD_ISSET is reached.
        check_fd(fd).is_ok() && unsafe { libc::FD_ISSET(fd, &self.0) }
    }

    /// Empties the set (`FD_ZERO`).
    ///
    /// ```
    /// let mut set = isys::FdSet::new();
    /// set.insert(1)?;
    /// set.clear();
    /// assert!(!set.contains(1));
    /// # Ok::<(), isys::Errno>(())
    /// ```
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
/// `timeout` `None` waits forever; `Some(Duration::ZERO)` only checks. The time spent is not
/// subtracted for a retry after `EINTR`: use
/// [`repeat_decreasing_timeout`](crate::repeat_decreasing_timeout).
///
/// ```
/// use isys::{pipe, select, write, AsRawFd, FdSet};
/// use std::time::Duration;
///
/// let (r, w) = pipe(false)?;
/// write(&w, b"x")?;
/// let mut readable = FdSet::new();
/// readable.insert(r.as_raw_fd())?;
/// let n = select(r.as_raw_fd() + 1, Some(&mut readable), None, None, Some(Duration::ZERO))?;
/// assert_eq!(n, 1);
/// assert!(readable.contains(r.as_raw_fd()));
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// - `EINTR`: a signal handler ran while waiting (the sets are left as they were).
/// - `EBADF`: a set holds a number that is not an open fd.
/// - `EINVAL`: `nfds` is negative or above [`FD_SETSIZE`] (checked before the call), or the
///   timeout is invalid.
/// - `ENOMEM`: the kernel could not allocate its tables.
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
    ///
    /// ```
    /// use isys::{pipe, poll, AsRawFd, PollFd, PollFlags};
    /// use std::time::Duration;
    ///
    /// let (r, w) = pipe(false)?;
    /// drop(w);
    /// let mut fds = [PollFd::new(r.as_raw_fd(), PollFlags::IN)];
    /// poll(&mut fds, Some(Duration::from_secs(5)))?;
    /// assert!(fds[0].revents().contains(PollFlags::HUP)); // the writer is gone
    /// # Ok::<(), isys::Errno>(())
    /// ```
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

/// One entry of a [`poll`] array (`struct pollfd`, same layout). Its methods read and write
/// the struct's fields; they make no system call.
///
/// ```
/// use isys::{PollFd, PollFlags};
///
/// let mut pfd = PollFd::new(0, PollFlags::IN);
/// pfd.set_events(PollFlags::IN | PollFlags::OUT);
/// pfd.set_fd(-1); // poll(2) skips negative fds
/// assert_eq!((pfd.fd(), pfd.events()), (-1, PollFlags::IN | PollFlags::OUT));
/// assert!(pfd.revents().is_empty());
/// ```
#[derive(Clone, Copy)]
#[repr(transparent)]
pub struct PollFd(libc::pollfd);

impl PollFd {
    /// An entry watching `fd` for `events`. A negative `fd` is ignored by the kernel.
    ///
    /// ```
    /// use isys::{pipe, AsRawFd, PollFd, PollFlags};
    ///
    /// let (_r, w) = pipe(false)?;
    /// let pfd = PollFd::new(w.as_raw_fd(), PollFlags::OUT);
    /// assert_eq!(pfd.fd(), w.as_raw_fd());
    /// # Ok::<(), isys::Errno>(())
    /// ```
    pub fn new(fd: RawFd, events: PollFlags) -> Self {
        PollFd(libc::pollfd {
            fd,
            events: events.bits(),
            revents: 0,
        })
    }
    /// The fd number.
    ///
    /// ```
    /// assert_eq!(isys::PollFd::new(4, isys::PollFlags::IN).fd(), 4);
    /// ```
    pub fn fd(&self) -> RawFd {
        self.0.fd
    }
    /// Changes the fd number (negative = skip this entry).
    ///
    /// ```
    /// let mut pfd = isys::PollFd::new(4, isys::PollFlags::IN);
    /// pfd.set_fd(-1);
    /// assert_eq!(pfd.fd(), -1);
    /// ```
    pub fn set_fd(&mut self, fd: RawFd) {
        self.0.fd = fd;
    }
    /// The requested events.
    ///
    /// ```
    /// use isys::{PollFd, PollFlags};
    ///
    /// assert_eq!(PollFd::new(4, PollFlags::OUT).events(), PollFlags::OUT);
    /// ```
    pub fn events(&self) -> PollFlags {
        PollFlags::from_bits_retain(self.0.events)
    }
    /// Changes the requested events (the returned ones are left as they are).
    ///
    /// ```
    /// use isys::{PollFd, PollFlags};
    ///
    /// let mut pfd = PollFd::new(4, PollFlags::IN);
    /// pfd.set_events(PollFlags::PRI);
    /// assert_eq!(pfd.events(), PollFlags::PRI);
    /// ```
    pub fn set_events(&mut self, events: PollFlags) {
        self.0.events = events.bits();
    }
    /// The returned events, filled in by [`poll`] (`POLLERR`, `POLLHUP` and `POLLNVAL` may be
    /// there without being asked for).
    ///
    /// ```
    /// use isys::{pipe, poll, write, AsRawFd, PollFd, PollFlags};
    /// use std::time::Duration;
    ///
    /// let (r, w) = pipe(false)?;
    /// write(&w, b"x")?;
    /// let mut fds = [PollFd::new(r.as_raw_fd(), PollFlags::IN)];
    /// poll(&mut fds, Some(Duration::ZERO))?;
    /// assert_eq!(fds[0].revents(), PollFlags::IN);
    /// # Ok::<(), isys::Errno>(())
    /// ```
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
/// (`None` = forever). Returns the number of entries with non-zero `revents`; `Ok(0)` means
/// the timeout passed. A signal ends the wait early with `EINTR` and the time already spent is
/// not subtracted on retry: use [`repeat_decreasing_timeout`](crate::repeat_decreasing_timeout)
/// or [`wait_until_fd_ready`](crate::wait_until_fd_ready).
///
/// ```
/// use isys::{pipe, poll, write, AsRawFd, PollFd, PollFlags};
/// use std::time::Duration;
///
/// let (r, w) = pipe(false)?;
/// let mut fds = [PollFd::new(r.as_raw_fd(), PollFlags::IN),
///                PollFd::new(w.as_raw_fd(), PollFlags::OUT)];
/// assert_eq!(poll(&mut fds, Some(Duration::from_millis(1)))?, 1); // only w is ready
/// write(&w, b"x")?;
/// assert_eq!(poll(&mut fds, Some(Duration::from_millis(1)))?, 2);
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// - `EINTR`: a signal handler ran before any fd was ready or the timeout passed.
/// - `EINVAL`: more entries than `RLIMIT_NOFILE`.
/// - `ENOMEM`: the kernel could not allocate its tables.
///
/// An fd that is not open is not an error of the call: its entry gets `POLLNVAL`.
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
        ///
        /// ```
        /// use isys::EpollFlags;
        ///
        /// let edge_read = EpollFlags::IN | EpollFlags::RDHUP | EpollFlags::ET;
        /// assert!(edge_read.contains(EpollFlags::ET));
        /// ```
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

    /// `struct epoll_event`: events plus 64 bits of user data. Its methods make no system
    /// call.
    ///
    /// ```
    /// use isys::{EpollEvent, EpollFlags};
    ///
    /// let ev = EpollEvent::new(EpollFlags::IN, 42);
    /// assert_eq!((ev.events(), ev.data()), (EpollFlags::IN, 42));
    /// let out = [EpollEvent::empty(); 16]; // a buffer for epoll_wait
    /// assert!(out[0].events().is_empty());
    /// ```
    #[derive(Clone, Copy)]
    #[repr(transparent)]
    pub struct EpollEvent(libc::epoll_event);

    impl EpollEvent {
        /// An event with `events` and user `data`.
        ///
        /// ```
        /// let ev = isys::EpollEvent::new(isys::EpollFlags::OUT, 7);
        /// assert_eq!(ev.data(), 7);
        /// ```
        pub fn new(events: EpollFlags, data: u64) -> Self {
            EpollEvent(libc::epoll_event {
                events: events.bits(),
                u64: data,
            })
        }
        /// An all-zero event, for output buffers.
        ///
        /// ```
        /// let ev = isys::EpollEvent::empty();
        /// assert_eq!((ev.events().bits(), ev.data()), (0, 0));
        /// ```
        pub fn empty() -> Self {
            EpollEvent::new(EpollFlags::empty(), 0)
        }
        /// The event bits.
        ///
        /// ```
        /// use isys::{EpollEvent, EpollFlags};
        ///
        /// assert_eq!(EpollEvent::new(EpollFlags::HUP, 0).events(), EpollFlags::HUP);
        /// ```
        pub fn events(&self) -> EpollFlags {
            EpollFlags::from_bits_retain(self.0.events)
        }
        /// The user data.
        ///
        /// ```
        /// use isys::{EpollEvent, EpollFlags};
        ///
        /// assert_eq!(EpollEvent::new(EpollFlags::IN, u64::MAX).data(), u64::MAX);
        /// ```
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
    ///
    /// ```
    /// use isys::{epoll_create1, epoll_ctl, pipe, AsRawFd, EpollEvent, EpollFlags, EpollOp};
    ///
    /// let ep = epoll_create1()?;
    /// let (r, _w) = pipe(true)?;
    /// let fd = r.as_raw_fd();
    /// epoll_ctl(&ep, EpollOp::Add, fd, Some(EpollEvent::new(EpollFlags::IN, 1)))?;
    /// let edge = EpollEvent::new(EpollFlags::IN | EpollFlags::ET, 1);
    /// epoll_ctl(&ep, EpollOp::Modify, fd, Some(edge))?;
    /// epoll_ctl(&ep, EpollOp::Delete, fd, None)?;
    /// # Ok::<(), isys::Errno>(())
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum EpollOp {
        /// `EPOLL_CTL_ADD`.
        Add,
        /// `EPOLL_CTL_MOD`.
        Modify,
        /// `EPOLL_CTL_DEL`.
        Delete,
    }

    /// `epoll_create1(EPOLL_CLOEXEC)`: a new epoll instance (Linux and Android only).
    ///
    /// ```
    /// let ep = isys::epoll_create1()?;
    /// assert!(isys::is_cloexec(&ep)?);
    /// # Ok::<(), isys::Errno>(())
    /// ```
    ///
    /// # Errors
    /// `EMFILE` / `ENFILE` (the process's or the system's fd limit); `ENOMEM`; `EMFILE` also
    /// when the user's `/proc/sys/fs/epoll/max_user_instances` is reached.
    pub fn epoll_create1() -> Result<OwnedFd> {
        syscall!(epoll_create1(libc::EPOLL_CLOEXEC)).map(owned)
    }

    /// `epoll_ctl(2)`. `fd` is a raw number because a closed fd must still be deletable by
    /// number from the caller's bookkeeping (the kernel then answers `EBADF`).
    ///
    /// The registration belongs to the open file, not the number: closing every fd for it
    /// removes it by itself. `event` may be `None` for [`EpollOp::Delete`].
    ///
    /// ```
    /// use isys::{epoll_create1, epoll_ctl, pipe, AsRawFd, Errno, EpollEvent, EpollFlags, EpollOp};
    ///
    /// let ep = epoll_create1()?;
    /// let (r, _w) = pipe(true)?;
    /// let ev = EpollEvent::new(EpollFlags::IN, r.as_raw_fd() as u64);
    /// epoll_ctl(&ep, EpollOp::Add, r.as_raw_fd(), Some(ev))?;
    /// assert_eq!(epoll_ctl(&ep, EpollOp::Add, r.as_raw_fd(), Some(ev)), Err(Errno::EEXIST));
    /// # Ok::<(), isys::Errno>(())
    /// ```
    ///
    /// # Errors
    /// - `EEXIST`: `Add` of an fd already registered. `ENOENT`: `Modify`/`Delete` of one that
    ///   is not.
    /// - `EBADF`: `epfd` or `fd` is not open.
    /// - `EPERM`: `fd` does not support epoll (a regular file or a directory).
    /// - `EINVAL`: `fd` is `epfd` itself, or `EPOLLEXCLUSIVE` misuse.
    /// - `ELOOP`: nesting epoll instances too deeply or in a cycle.
    /// - `ENOSPC`: the user's `/proc/sys/fs/epoll/max_user_watches` is reached. `ENOMEM`.
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
    ///
    /// Blocks until an event, a signal or the timeout (`None` = forever, `Some(ZERO)` = check
    /// only); `Ok(0)` means the timeout passed.
    ///
    /// ```
    /// use isys::{epoll_create1, epoll_ctl, epoll_wait, pipe, write, AsRawFd};
    /// use isys::{EpollEvent, EpollFlags, EpollOp};
    /// use std::time::Duration;
    ///
    /// let ep = epoll_create1()?;
    /// let (r, w) = pipe(true)?;
    /// epoll_ctl(&ep, EpollOp::Add, r.as_raw_fd(), Some(EpollEvent::new(EpollFlags::IN, 7)))?;
    /// let mut events = [EpollEvent::empty(); 8];
    /// assert_eq!(epoll_wait(&ep, &mut events, Some(Duration::ZERO))?, 0);
    /// write(&w, b"x")?;
    /// assert_eq!(epoll_wait(&ep, &mut events, Some(Duration::from_secs(5)))?, 1);
    /// assert_eq!((events[0].events(), events[0].data()), (EpollFlags::IN, 7));
    /// # Ok::<(), isys::Errno>(())
    /// ```
    ///
    /// # Errors
    /// - `EINTR`: a signal handler ran before any event or the timeout (even with
    ///   `SA_RESTART`).
    /// - `EINVAL`: `events` is empty, or `epfd` is not an epoll fd. `EBADF`: `epfd` not open.
    pub fn epoll_wait<Fd: AsFd>(
        epfd: Fd,
        events: &mut [EpollEvent],
        timeout: Option<Duration>,
    ) -> Result<usize> {
        let n = events.len().min(libc::c_int::MAX as usize) as libc::c_int;
        let fd = epfd.as_fd().as_raw_fd();
        let buf = events.as_mut_ptr().cast::<libc::epoll_event>();
        // Straight to the kernel, past libc's wrapper: that makes the call a thread
        // cancellation point (two calls around it, some 40 instructions per wait), and
        // nothing in Rust cancels threads. Where the kernel has no plain `epoll_wait`
        // (aarch64, riscv64), `epoll_pwait` with no signal mask is the same call.
        #[cfg(target_arch = "x86_64")]
        let r = syscall!(syscall(
            libc::SYS_epoll_wait,
            fd,
            buf,
            n,
            timeout_ms(timeout)
        ));
        #[cfg(not(target_arch = "x86_64"))]
        let r = syscall!(syscall(
            libc::SYS_epoll_pwait,
            fd,
            buf,
            n,
            timeout_ms(timeout),
            std::ptr::null::<libc::sigset_t>(),
            0usize
        ));
        r.map(|n| n as usize)
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

    /// `struct kevent`: a change to apply or an event returned by [`kevent`]. Its methods
    /// make no system call.
    ///
    /// ```
    /// use isys::{KEvent, EVFILT_READ, EV_ADD};
    ///
    /// let change = KEvent::new(3, EVFILT_READ, EV_ADD, 99);
    /// assert_eq!((change.ident(), change.filter(), change.udata()), (3, EVFILT_READ, 99));
    /// assert_eq!(change.flags(), EV_ADD);
    /// ```
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
        ///
        /// ```
        /// let ch = isys::KEvent::new(0, isys::EVFILT_WRITE, isys::EV_DELETE, 0);
        /// assert_eq!(ch.flags(), isys::EV_DELETE);
        /// ```
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
        ///
        /// ```
        /// let out = [isys::KEvent::empty(); 16];
        /// assert_eq!((out[0].ident(), out[0].data()), (0, 0));
        /// ```
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

    /// `kqueue(2)`, made CLOEXEC with `fcntl(F_SETFD)` (macOS and the BSDs only).
    ///
    /// ```
    /// let kq = isys::kqueue()?;
    /// assert!(isys::is_cloexec(&kq)?);
    /// # Ok::<(), isys::Errno>(())
    /// ```
    ///
    /// # Errors
    /// `EMFILE` / `ENFILE` (the process's or the system's fd limit); `ENOMEM`.
    pub fn kqueue() -> Result<OwnedFd> {
        let fd = syscall!(kqueue()).map(owned)?;
        crate::set_cloexec(&fd, true)?;
        Ok(fd)
    }

    /// `kevent(2)`: applies `changes` and fills `events`; returns how many events.
    ///
    /// Blocks until an event, a signal or the timeout (`None` = forever, `Some(ZERO)` = check
    /// only); `Ok(0)` means the timeout passed. A change that fails is reported as an event with
    /// `EV_ERROR` and the errno in [`KEvent::data`] when `events` has room (always with
    /// `EV_RECEIPT`), else as the call's error.
    ///
    /// ```
    /// use isys::{kevent, kqueue, pipe, write, AsRawFd, KEvent, EVFILT_READ, EV_ADD};
    /// use std::time::Duration;
    ///
    /// let kq = kqueue()?;
    /// let (r, w) = pipe(true)?;
    /// let add = KEvent::new(r.as_raw_fd() as usize, EVFILT_READ, EV_ADD, 7);
    /// let mut events = [KEvent::empty(); 8];
    /// assert_eq!(kevent(&kq, &[add], &mut events, Some(Duration::ZERO))?, 0);
    /// write(&w, b"x")?;
    /// assert_eq!(kevent(&kq, &[], &mut events, Some(Duration::from_secs(5)))?, 1);
    /// assert_eq!((events[0].udata(), events[0].data()), (7, 1)); // 1 byte to read
    /// # Ok::<(), isys::Errno>(())
    /// ```
    ///
    /// # Errors
    /// - `EINTR`: a signal handler ran before any event or the timeout.
    /// - `EBADF` / `ENOENT` / `EINVAL`: a change names an fd that is not open, an event that is
    ///   not registered, or a bad filter (when `events` is too small to report it there).
    /// - `ENOMEM`: no memory for a new registration. `EACCES`: no permission for a process
    ///   filter.
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
