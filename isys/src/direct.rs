//! The kernel entry of the calls on the data path (`read`, `write`, `recv`, `send`,
//! `epoll_wait`): on x86-64 Linux and Android (64-bit pointers: not x32) the `syscall`
//! instruction itself, past libc's wrappers (`direct_syscalls`, from build.rs); elsewhere
//! libc's function.
//!
//! glibc's wrappers make these calls thread cancellation points: in a process with more than
//! one thread each call switches asynchronous cancellation on and off around the kernel
//! entry (two calls, some 25 instructions each), and in a single-threaded one it still
//! tests for threads and sets `errno`, about 10 instructions per call. Nothing in Rust
//! cancels threads, and isys returns the error instead of reading `errno`, so on x86-64 the
//! kernel is entered directly: the error comes back in `rax` as `-errno`.
//!
//! Each function here is `unsafe` with the contract of the C call it makes: every pointer
//! must be valid for the length passed with it, for the whole call.

use crate::{Errno, Result};

/// The kernel's answer in `rax`: a negative errno on failure, the result otherwise.
#[cfg(direct_syscalls)]
#[inline(always)]
fn answer(ret: isize) -> Result<usize> {
    if ret < 0 {
        Err(Errno::from_raw(-ret as i32))
    } else {
        Ok(ret as usize)
    }
}

/// Enters the kernel with call number `nr` and three arguments.
///
/// # Safety
/// The arguments must satisfy the contract of call `nr` (pointers valid for their lengths).
#[cfg(direct_syscalls)]
#[inline(always)]
unsafe fn syscall3(nr: libc::c_long, a1: usize, a2: usize, a3: usize) -> Result<usize> {
    let ret: isize;
    // SAFETY: the caller passes arguments valid for `nr`. The kernel clobbers rcx and r11,
    // returns in rax, and uses no user stack.
    unsafe {
        std::arch::asm!(
            "syscall",
            inlateout("rax") nr as isize => ret,
            in("rdi") a1,
            in("rsi") a2,
            in("rdx") a3,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    answer(ret)
}

/// Enters the kernel with call number `nr` and four arguments.
///
/// # Safety
/// As [`syscall3`].
#[cfg(direct_syscalls)]
#[inline(always)]
unsafe fn syscall4(nr: libc::c_long, a1: usize, a2: usize, a3: usize, a4: usize) -> Result<usize> {
    let ret: isize;
    // SAFETY: as in `syscall3`; the fourth argument goes in r10.
    unsafe {
        std::arch::asm!(
            "syscall",
            inlateout("rax") nr as isize => ret,
            in("rdi") a1,
            in("rsi") a2,
            in("rdx") a3,
            in("r10") a4,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    answer(ret)
}

/// Enters the kernel with call number `nr`, four arguments and two zero ones (the null
/// address and address length of `recvfrom`/`sendto` standing for `recv`/`send`, which
/// x86-64 Linux has no call numbers of their own for).
///
/// # Safety
/// As [`syscall3`].
#[cfg(direct_syscalls)]
#[inline(always)]
unsafe fn syscall4_zero2(
    nr: libc::c_long,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
) -> Result<usize> {
    let ret: isize;
    // SAFETY: as in `syscall4`; r8 and r9 are the null address and its zero length.
    unsafe {
        std::arch::asm!(
            "syscall",
            inlateout("rax") nr as isize => ret,
            in("rdi") a1,
            in("rsi") a2,
            in("rdx") a3,
            in("r10") a4,
            in("r8") 0usize,
            in("r9") 0usize,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    answer(ret)
}

/// `read(fd, buf, len)`.
///
/// # Safety
/// `buf` must be valid for writes of `len` bytes.
#[inline(always)]
pub(crate) unsafe fn read(fd: libc::c_int, buf: *mut u8, len: usize) -> Result<usize> {
    #[cfg(direct_syscalls)]
    // SAFETY: passed on from the caller.
    unsafe {
        syscall3(libc::SYS_read, fd as usize, buf as usize, len)
    }
    #[cfg(not(direct_syscalls))]
    syscall!(read(fd, buf.cast(), len)).map(|n| n as usize)
}

/// `write(fd, buf, len)`.
///
/// # Safety
/// `buf` must be valid for reads of `len` bytes.
#[inline(always)]
pub(crate) unsafe fn write(fd: libc::c_int, buf: *const u8, len: usize) -> Result<usize> {
    #[cfg(direct_syscalls)]
    // SAFETY: passed on from the caller.
    unsafe {
        syscall3(libc::SYS_write, fd as usize, buf as usize, len)
    }
    #[cfg(not(direct_syscalls))]
    syscall!(write(fd, buf.cast(), len)).map(|n| n as usize)
}

/// `recv(fd, buf, len, flags)` (on x86-64 Linux, `recvfrom` with no address).
///
/// # Safety
/// `buf` must be valid for writes of `len` bytes.
#[inline(always)]
pub(crate) unsafe fn recv(
    fd: libc::c_int,
    buf: *mut u8,
    len: usize,
    flags: libc::c_int,
) -> Result<usize> {
    #[cfg(direct_syscalls)]
    // SAFETY: passed on from the caller; a null address with length 0 asks for no address.
    unsafe {
        syscall4_zero2(
            libc::SYS_recvfrom,
            fd as usize,
            buf as usize,
            len,
            flags as u32 as usize,
        )
    }
    #[cfg(not(direct_syscalls))]
    syscall!(recv(fd, buf.cast(), len, flags)).map(|n| n as usize)
}

/// `send(fd, buf, len, flags)` (on x86-64 Linux, `sendto` with no address).
///
/// # Safety
/// `buf` must be valid for reads of `len` bytes.
#[inline(always)]
pub(crate) unsafe fn send(
    fd: libc::c_int,
    buf: *const u8,
    len: usize,
    flags: libc::c_int,
) -> Result<usize> {
    #[cfg(direct_syscalls)]
    // SAFETY: passed on from the caller; a null address with length 0 sends to the peer.
    unsafe {
        syscall4_zero2(
            libc::SYS_sendto,
            fd as usize,
            buf as usize,
            len,
            flags as u32 as usize,
        )
    }
    #[cfg(not(direct_syscalls))]
    syscall!(send(fd, buf.cast(), len, flags)).map(|n| n as usize)
}

/// `epoll_wait(epfd, events, maxevents, timeout_ms)`; where the kernel has no plain
/// `epoll_wait` (aarch64, riscv64), `epoll_pwait` with no signal mask, the same call.
///
/// # Safety
/// `events` must be valid for writes of `maxevents` events.
#[cfg(linux_like)]
#[inline(always)]
pub(crate) unsafe fn epoll_wait(
    epfd: libc::c_int,
    events: *mut libc::epoll_event,
    maxevents: libc::c_int,
    timeout_ms: libc::c_int,
) -> Result<usize> {
    #[cfg(direct_syscalls)]
    // SAFETY: passed on from the caller.
    unsafe {
        syscall4(
            libc::SYS_epoll_wait,
            epfd as usize,
            events as usize,
            maxevents as usize,
            timeout_ms as isize as usize,
        )
    }
    #[cfg(not(direct_syscalls))]
    syscall!(syscall(
        libc::SYS_epoll_pwait,
        epfd,
        events,
        maxevents,
        timeout_ms,
        std::ptr::null::<libc::sigset_t>(),
        0usize
    ))
    .map(|n| n as usize)
}
