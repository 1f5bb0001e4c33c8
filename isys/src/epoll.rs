//! epoll (Linux): [`EpollFlags`], [`EpollEvent`], [`EpollOp`], [`EpollBuffer`], and
//! epoll_create1, epoll_ctl, epoll_wait.

use crate::direct;
use crate::fd::owned;
use crate::{timeout_ms, Errno, Result};
use bitflags::bitflags;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::time::Duration;

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
    let buf = events.as_mut_ptr().cast::<libc::epoll_event>();
    // Straight to the kernel, past libc's cancellation-point wrapper (`direct.rs`).
    // SAFETY: the kernel writes at most `n` events into `buf`, which `events` owns for the
    // call; the fd is borrowed from a live owner.
    unsafe { direct::epoll_wait(epfd.as_fd().as_raw_fd(), buf, n, timeout_ms(timeout)) }
}

/// An event buffer for [`epoll_wait_buffer`] whose length always fits `epoll_wait`'s `int
/// maxevents` and is kept beside the events as that `int`, so that a wait passes it as it is
/// (where [`epoll_wait`] clamps a slice's length on every call). Reads and writes as a slice
/// of events; its length changes only through [`resize`](Self::resize).
///
/// ```
/// use isys::{epoll_create1, epoll_ctl, epoll_wait_buffer, pipe, write, AsRawFd};
/// use isys::{EpollBuffer, EpollEvent, EpollFlags, EpollOp};
/// use std::time::Duration;
///
/// let ep = epoll_create1()?;
/// let (r, w) = pipe(true)?;
/// epoll_ctl(&ep, EpollOp::Add, r.as_raw_fd(), Some(EpollEvent::new(EpollFlags::IN, 7)))?;
/// let mut events = EpollBuffer::new(8);
/// write(&w, b"x")?;
/// assert_eq!(epoll_wait_buffer(&ep, &mut events, Some(Duration::from_secs(5)))?, 1);
/// assert_eq!((events[0].events(), events[0].data()), (EpollFlags::IN, 7));
/// events.resize(16);
/// assert_eq!(events.len(), 16);
/// # Ok::<(), isys::Errno>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct EpollBuffer {
    events: Vec<EpollEvent>,
    /// `events.len()` as an `int` (the length never exceeds `c_int::MAX`).
    max: libc::c_int,
}

impl EpollBuffer {
    /// Room for `n` events (at most `c_int::MAX`; zero makes a wait fail with `EINVAL`).
    pub fn new(n: usize) -> EpollBuffer {
        let mut b = EpollBuffer::default();
        b.resize(n);
        b
    }
    /// Makes room for `n` events (at most `c_int::MAX`), keeping the first ones.
    pub fn resize(&mut self, n: usize) {
        let n = n.min(libc::c_int::MAX as usize);
        self.events.resize(n, EpollEvent::empty());
        self.max = n as libc::c_int;
    }
}

impl Deref for EpollBuffer {
    type Target = [EpollEvent];
    #[inline]
    fn deref(&self) -> &[EpollEvent] {
        &self.events
    }
}

impl DerefMut for EpollBuffer {
    #[inline]
    fn deref_mut(&mut self) -> &mut [EpollEvent] {
        &mut self.events
    }
}

/// [`epoll_wait`] into an [`EpollBuffer`]: fills all of it at most, returns how many.
///
/// # Errors
/// As [`epoll_wait`]; `EINVAL` for an empty buffer.
#[inline]
pub fn epoll_wait_buffer<Fd: AsFd>(
    epfd: Fd,
    events: &mut EpollBuffer,
    timeout: Option<Duration>,
) -> Result<usize> {
    let buf = events.events.as_mut_ptr().cast::<libc::epoll_event>();
    // SAFETY: the kernel writes at most `events.max` events into `buf`, and `events.max` is
    // the length of the vector `buf` points into, which `events` owns for the call; the fd
    // is borrowed from a live owner.
    unsafe {
        direct::epoll_wait(
            epfd.as_fd().as_raw_fd(),
            buf,
            events.max,
            timeout_ms(timeout),
        )
    }
}
