//! `select(2)` and its fd sets: [`FdSet`], bounds-checked against [`FD_SETSIZE`].

use crate::{Errno, Result};
use std::fmt;
use std::mem;
use std::os::fd::RawFd;
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
    /// watch such fds with [`poll`](crate::poll) instead.
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

    /// Word `k` of the set as 64 bits: fd `64 * k + b` is bit `b`; 0 for `k` at or past
    /// `FD_SETSIZE / 64`. For finding the fds of a set a word at a time
    /// (`u64::trailing_zeros`) instead of testing every number. No C call.
    ///
    /// ```
    /// let mut set = isys::FdSet::new();
    /// set.insert(3)?;
    /// set.insert(70)?;
    /// assert_eq!((set.word(0), set.word(1), set.word(2)), (1 << 3, 1 << 6, 0));
    /// assert_eq!(set.word(isys::FD_SETSIZE / 64), 0);
    /// # Ok::<(), isys::Errno>(())
    /// ```
    #[inline]
    pub fn word(&self, k: usize) -> u64 {
        const _: () = assert!(mem::size_of::<libc::fd_set>() == FD_SETSIZE / 8);
        if k >= FD_SETSIZE / 64 {
            return 0;
        }
        // An fd_set is an array of integers (`long` on Linux and FreeBSD, `int32_t` on
        // macOS) with fd `f` in bit `f % width` of element `f / width`: on a little-endian
        // machine its bytes read as 64-bit words are the layout above either way.
        #[cfg(target_endian = "little")]
        {
            let p = (&self.0 as *const libc::fd_set).cast::<u64>();
            // SAFETY: `k` is below `FD_SETSIZE / 64`, so the eight bytes at `p + k` lie
            // within the set (whose size is asserted above); any bits are a valid `u64`, and
            // the read is unaligned.
            unsafe { p.add(k).read_unaligned() }
        }
        #[cfg(not(target_endian = "little"))]
        {
            (0..64).fold(0, |w, b| {
                w | u64::from(self.contains((64 * k + b) as RawFd)) << b
            })
        }
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
