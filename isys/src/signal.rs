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
pub fn signal_notify(sig: Signal, fd: RawFd) -> Result<()> {
    NOTIFY_FDS[sig as usize].store(fd, Ordering::SeqCst);
    install(
        sig,
        notify_handler as *const () as usize as libc::sighandler_t,
        true,
    )
}

/// Undoes [`signal_notify`]: restores the default disposition of `sig` and forgets the fd.
pub fn signal_unnotify(sig: Signal) -> Result<()> {
    install(sig, libc::SIG_DFL, false)?;
    NOTIFY_FDS[sig as usize].store(-1, Ordering::SeqCst);
    Ok(())
}

/// `sigaction(2)`: a no-op handler **without** `SA_RESTART`, so blocking calls interrupted by
/// `sig` fail with `EINTR` (how tests and programs provoke `EINTR` on purpose).
pub fn catch_signal_interrupting(sig: Signal) -> Result<()> {
    install(
        sig,
        noop_handler as *const () as usize as libc::sighandler_t,
        false,
    )
}

/// `sigaction(2)` with `SIG_IGN`.
pub fn ignore_signal(sig: Signal) -> Result<()> {
    install(sig, libc::SIG_IGN, false)
}

/// `sigaction(2)` with `SIG_DFL`.
pub fn default_signal(sig: Signal) -> Result<()> {
    install(sig, libc::SIG_DFL, false)
}

/// `kill(2)`.
pub fn kill(pid: i32, sig: Signal) -> Result<()> {
    syscall!(kill(pid, sig as libc::c_int)).map(drop)
}

/// `raise(3)`: sends `sig` to the calling thread.
pub fn raise(sig: Signal) -> Result<()> {
    syscall!(raise(sig as libc::c_int)).map(drop)
}

/// A thread id for [`pthread_kill`].
pub type ThreadId = libc::pthread_t;

/// `pthread_self(3)`.
pub fn pthread_self() -> ThreadId {
    // SAFETY: pthread_self has no preconditions.
    unsafe { libc::pthread_self() }
}

/// `pthread_kill(3)`: sends `sig` to one thread of this process.
pub fn pthread_kill(thread: ThreadId, sig: Signal) -> Result<()> {
    // SAFETY: an invalid thread id is reported as ESRCH by glibc/musl/libSystem.
    let r = unsafe { libc::pthread_kill(thread, sig as libc::c_int) };
    if r == 0 {
        Ok(())
    } else {
        Err(Errno::from_raw(r))
    }
}
