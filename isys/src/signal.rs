//! Signals: a self-pipe notifier for event loops, an interrupting no-op handler (to get
//! `EINTR` on purpose), and kill/raise/pthread_kill.

use crate::{Errno, Result};
use std::mem;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicI32, Ordering};

pub use nix::sys::signal::Signal;

const NSIG: usize = 65;
#[allow(clippy::declare_interior_mutable_const)]
const NO_FD: AtomicI32 = AtomicI32::new(-1);
/// Per-signal write end of a notification pipe; -1 when none.
static NOTIFY_FDS: [AtomicI32; NSIG] = [NO_FD; NSIG];

extern "C" fn notify_handler(sig: libc::c_int) {
    let Some(slot) = NOTIFY_FDS.get(sig as usize) else {
        return;
    };
    let fd = slot.load(Ordering::Relaxed);
    if fd >= 0 {
        let byte = sig as u8;
        // SAFETY: write(2) and errno access are async-signal-safe; errno is saved and
        // restored so the interrupted code does not see it change. A full pipe (EAGAIN) is
        // fine: a wake-up is already pending.
        unsafe {
            let saved = Errno::last_raw();
            libc::write(fd, (&byte as *const u8).cast(), 1);
            Errno::set_raw(saved);
        }
    }
}

extern "C" fn noop_handler(_sig: libc::c_int) {}

fn install(sig: Signal, handler: libc::sighandler_t, restart: bool) -> Result<()> {
    // SAFETY: sigaction is plain old data; all-zero is a valid starting value.
    let mut sa: libc::sigaction = unsafe { mem::zeroed() };
    sa.sa_sigaction = handler;
    sa.sa_flags = if restart { libc::SA_RESTART } else { 0 };
    // SAFETY: sa.sa_mask is a valid sigset_t owned by us.
    unsafe { libc::sigemptyset(&mut sa.sa_mask) };
    syscall!(sigaction(sig as libc::c_int, &sa, std::ptr::null_mut())).map(drop)
}

/// `sigaction(2)`: on `sig`, write the signal number as one byte to `fd` (the write end of a
/// non-blocking pipe, see [`pipe`](crate::pipe)). The handler is async-signal-safe and
/// installed with `SA_RESTART`. One fd per signal per process; a second call replaces it.
///
/// The caller must keep `fd` open until [`signal_unnotify`] is called.
///
/// ```
/// use isys::{pipe, raise, read, signal_notify, signal_unnotify, AsRawFd, Signal};
///
/// let (r, w) = pipe(false)?;
/// signal_notify(Signal::SIGUSR1, w.as_raw_fd())?;
/// raise(Signal::SIGUSR1)?; // the handler writes one byte
/// let mut buf = [0u8; 1];
/// assert_eq!(read(&r, &mut buf)?, 1);
/// assert_eq!(buf[0] as i32, Signal::SIGUSR1 as i32);
/// signal_unnotify(Signal::SIGUSR1)?;
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// `EINVAL` for `SIGKILL` and `SIGSTOP`, which cannot be caught.
pub fn signal_notify(sig: Signal, fd: RawFd) -> Result<()> {
    NOTIFY_FDS[sig as usize].store(fd, Ordering::SeqCst);
    install(
        sig,
        notify_handler as *const () as usize as libc::sighandler_t,
        true,
    )
}

/// Undoes [`signal_notify`]: restores the default disposition of `sig` and forgets the fd
/// (`sigaction(2)` with `SIG_DFL`).
///
/// ```
/// use isys::{pipe, signal_notify, signal_unnotify, AsRawFd, Signal};
///
/// let (_r, w) = pipe(true)?;
/// signal_notify(Signal::SIGWINCH, w.as_raw_fd())?;
/// signal_unnotify(Signal::SIGWINCH)?;
/// drop(w); // safe now: the handler no longer writes to it
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// `EINVAL` for `SIGKILL` and `SIGSTOP`.
pub fn signal_unnotify(sig: Signal) -> Result<()> {
    install(sig, libc::SIG_DFL, false)?;
    NOTIFY_FDS[sig as usize].store(-1, Ordering::SeqCst);
    Ok(())
}

/// `sigaction(2)`: a no-op handler **without** `SA_RESTART`, so blocking calls interrupted by
/// `sig` fail with `EINTR` (how tests and programs provoke `EINTR` on purpose).
///
/// ```
/// use isys::{catch_signal_interrupting, pipe, pthread_kill, read, Errno, Signal};
/// use std::os::unix::thread::JoinHandleExt;
/// use std::time::Duration;
///
/// catch_signal_interrupting(Signal::SIGUSR2)?;
/// let (r, _w) = pipe(false)?;
/// let reader = std::thread::spawn(move || read(&r, &mut [0u8; 1])); // blocks: no data
/// while !reader.is_finished() {
///     let _ = pthread_kill(reader.as_pthread_t() as _, Signal::SIGUSR2);
///     std::thread::sleep(Duration::from_millis(10));
/// }
/// assert_eq!(reader.join().unwrap(), Err(Errno::EINTR));
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// `EINVAL` for `SIGKILL` and `SIGSTOP`.
pub fn catch_signal_interrupting(sig: Signal) -> Result<()> {
    install(
        sig,
        noop_handler as *const () as usize as libc::sighandler_t,
        false,
    )
}

/// `sigaction(2)` with `SIG_IGN`: the signal is discarded. The setting is inherited across
/// `exec`.
///
/// ```
/// use isys::{ignore_signal, raise, Signal};
///
/// ignore_signal(Signal::SIGUSR1)?;
/// raise(Signal::SIGUSR1)?; // would terminate the process by default
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// `EINVAL` for `SIGKILL` and `SIGSTOP`.
pub fn ignore_signal(sig: Signal) -> Result<()> {
    install(sig, libc::SIG_IGN, false)
}

/// `sigaction(2)` with `SIG_DFL`: the signal's default action (for `SIGPIPE`, terminating
/// the process; the Rust runtime ignores `SIGPIPE` until this is called).
///
/// ```
/// use isys::{default_signal, libc, send, socketpair, Errno, MsgFlags, Signal};
///
/// default_signal(Signal::SIGPIPE)?;
/// let (a, b) = socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, false)?;
/// drop(b);
/// // send uses MSG_NOSIGNAL: an error, not a fatal SIGPIPE.
/// assert_eq!(send(&a, b"x", MsgFlags::empty()), Err(Errno::EPIPE));
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// `EINVAL` for `SIGKILL` and `SIGSTOP`.
pub fn default_signal(sig: Signal) -> Result<()> {
    install(sig, libc::SIG_DFL, false)
}

/// `kill(2)`: sends `sig` to process `pid` (`0`: this process group; `-1`: every process
/// this one may signal; `< -1`: the process group `-pid`).
///
/// ```
/// use isys::{getpid, kill, pipe, read, repeat_upon_eintr, signal_notify, AsRawFd, Signal};
///
/// let (r, w) = pipe(false)?;
/// signal_notify(Signal::SIGUSR1, w.as_raw_fd())?;
/// kill(getpid(), Signal::SIGUSR1)?;
/// assert_eq!(repeat_upon_eintr(|| read(&r, &mut [0u8; 1]))?, 1);
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// `ESRCH` when no such process or group exists; `EPERM` when not allowed to signal it
/// (another user's process without privilege); `EINVAL` for an invalid signal.
pub fn kill(pid: i32, sig: Signal) -> Result<()> {
    syscall!(kill(pid, sig as libc::c_int)).map(drop)
}

/// `raise(3)`: sends `sig` to the calling thread. A caught signal's handler has run when it
/// returns.
///
/// ```
/// use isys::{pipe, raise, read, signal_notify, AsRawFd, Signal};
///
/// let (r, w) = pipe(true)?;
/// signal_notify(Signal::SIGUSR2, w.as_raw_fd())?;
/// raise(Signal::SIGUSR2)?;
/// assert_eq!(read(&r, &mut [0u8; 1])?, 1); // already written
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// `EINVAL` for an invalid signal (not expected for a [`Signal`]).
pub fn raise(sig: Signal) -> Result<()> {
    syscall!(raise(sig as libc::c_int)).map(drop)
}

/// A thread id for [`pthread_kill`] (`pthread_t`).
///
/// ```
/// let me: isys::ThreadId = isys::pthread_self();
/// assert_eq!(me, isys::pthread_self());
/// ```
pub type ThreadId = libc::pthread_t;

/// `pthread_self(3)`: the calling thread's id. Never fails.
///
/// ```
/// let main = isys::pthread_self();
/// let other = std::thread::spawn(|| isys::pthread_self() as u64).join().unwrap();
/// assert_ne!(main as u64, other);
/// ```
pub fn pthread_self() -> ThreadId {
    // SAFETY: pthread_self has no preconditions.
    unsafe { libc::pthread_self() }
}

/// `pthread_kill(3)`: sends `sig` to one thread of this process (how an event loop wakes a
/// thread blocked in a call, together with [`catch_signal_interrupting`]).
///
/// ```
/// use isys::{pipe, pthread_kill, pthread_self, read, signal_notify, AsRawFd, Signal};
///
/// let (r, w) = pipe(false)?;
/// signal_notify(Signal::SIGUSR1, w.as_raw_fd())?;
/// pthread_kill(pthread_self(), Signal::SIGUSR1)?;
/// assert_eq!(read(&r, &mut [0u8; 1])?, 1); // blocking read: the handler has written
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// `ESRCH` when the thread has ended (when the C library can tell); `EINVAL` for an invalid
/// signal.
pub fn pthread_kill(thread: ThreadId, sig: Signal) -> Result<()> {
    // SAFETY: an invalid thread id is reported as ESRCH by glibc/musl/libSystem.
    let r = unsafe { libc::pthread_kill(thread, sig as libc::c_int) };
    if r == 0 {
        Ok(())
    } else {
        Err(Errno::from_raw(r))
    }
}
