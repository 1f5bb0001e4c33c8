//! kqueue/kevent (macOS, BSD): [`KEvent`], its filter and flag constants, and the kqueue and
//! kevent calls, written to the pattern mio and polling use. Not compiled on Linux.

use crate::fd::owned;
use crate::{Errno, Result};
use std::fmt;
use std::mem;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::Duration;

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
/// `EV_CLEAR`: report a filter once per change of its state (edge-triggered).
pub const EV_CLEAR: u16 = libc::EV_CLEAR as u16;
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
