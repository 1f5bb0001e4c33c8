//! Data transfer on sockets: [`MsgFlags`], send/recv, sendto/recvfrom, and sendmsg/recvmsg
//! carrying fds as `SCM_RIGHTS` ancillary data. Sends never raise `SIGPIPE`.

use crate::direct;
use crate::fd::owned;
use crate::{Errno, Result, SockAddr};
use bitflags::bitflags;
use std::mem;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

bitflags! {
    /// Flags of `send(2)`/`recv(2)` and friends, with IOLib's names.
    ///
    /// ```
    /// use isys::{libc, recv, send, socketpair, MsgFlags};
    ///
    /// let (a, b) = socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, false)?;
    /// send(&a, b"ping", MsgFlags::empty())?;
    /// let mut buf = [0u8; 4];
    /// assert_eq!(recv(&b, &mut buf, MsgFlags::PEEK)?, 4); // looked at, left in place
    /// assert_eq!(recv(&b, &mut buf, MsgFlags::DONT_WAIT)?, 4);
    /// assert_eq!(recv(&b, &mut buf, MsgFlags::DONT_WAIT), Err(isys::Errno::EAGAIN));
    /// # Ok::<(), isys::Errno>(())
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct MsgFlags: libc::c_int {
        /// `MSG_OOB`: out-of-band data (IOLib `:out-of-band`).
        const OUT_OF_BAND = libc::MSG_OOB;
        /// `MSG_PEEK`: look without consuming (IOLib `:peek`).
        const PEEK = libc::MSG_PEEK;
        /// `MSG_WAITALL`: wait for the full request (IOLib `:wait-all`).
        const WAIT_ALL = libc::MSG_WAITALL;
        /// `MSG_DONTWAIT`: non-blocking for this call (IOLib `:dont-wait`).
        const DONT_WAIT = libc::MSG_DONTWAIT;
        /// `MSG_DONTROUTE`: bypass routing (IOLib `:dont-route`).
        const DONT_ROUTE = libc::MSG_DONTROUTE;
        /// `MSG_EOR`: end of record (IOLib `:end-of-record`).
        const END_OF_RECORD = libc::MSG_EOR;
        /// `MSG_TRUNC`: in results, the datagram was longer than the buffer.
        const TRUNCATED = libc::MSG_TRUNC;
        /// `MSG_CTRUNC`: in results, control data was truncated.
        const CONTROL_TRUNCATED = libc::MSG_CTRUNC;
        #[cfg(linux_like)]
        /// `MSG_MORE` (Linux): more data follows (IOLib `:more`).
        const MORE = libc::MSG_MORE;
        #[cfg(linux_like)]
        /// `MSG_CONFIRM` (Linux): link layer forward progress (IOLib `:confirm`).
        const CONFIRM = libc::MSG_CONFIRM;
        #[cfg(linux_like)]
        /// `MSG_ERRQUEUE` (Linux): read the error queue.
        const ERR_QUEUE = libc::MSG_ERRQUEUE;
    }
}

cfg_if::cfg_if! {
    if #[cfg(not(target_vendor = "apple"))] {
        const NOSIGNAL: libc::c_int = libc::MSG_NOSIGNAL;
    } else {
        const NOSIGNAL: libc::c_int = 0;
    }
}

/// `send(2)` with `MSG_NOSIGNAL`: never raises `SIGPIPE`; a closed peer is `Err(EPIPE)`.
/// (macOS has no `MSG_NOSIGNAL`; its sockets get `SO_NOSIGPIPE` when isys creates them.)
///
/// On a blocking socket it waits until all of `buf` is queued (stream) or the datagram is
/// sent, with no timeout unless `SO_SNDTIMEO` is set (then `EAGAIN`, or a short count).
///
/// ```
/// use isys::{libc, send, socketpair, Errno, MsgFlags};
///
/// let (a, b) = socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, false)?;
/// assert_eq!(send(&a, b"hello", MsgFlags::empty())?, 5);
/// drop(b);
/// assert_eq!(send(&a, b"hello", MsgFlags::empty()), Err(Errno::EPIPE)); // no SIGPIPE
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// - `EAGAIN`/`EWOULDBLOCK`: non-blocking (or `MsgFlags::DONT_WAIT`) and the send buffer is
///   full.
/// - `EPIPE`: the peer closed or this side was shut down for writing; `ECONNRESET`: the peer
///   reset the connection.
/// - `EINTR`: a signal handler ran before anything was sent.
/// - `EMSGSIZE`: a datagram too large to send in one piece.
/// - `ENOTCONN` / `EDESTADDRREQ`: the socket is not connected. `ENOBUFS`: out of buffers.
pub fn send<Fd: AsFd>(fd: Fd, buf: &[u8], flags: MsgFlags) -> Result<usize> {
    send_opt(Some(fd.as_fd()), buf, flags)
}

/// [`send`] on an fd that may be gone: `None` goes to the kernel as fd `-1`, which it refuses
/// with `EBADF`. For callers that keep an `Option` of their fd (`None` once closed): the
/// closed case costs them no branch before the call.
///
/// ```
/// use isys::{libc, send_opt, socketpair, AsFd, Errno, MsgFlags};
///
/// let (a, _b) = socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, false)?;
/// assert_eq!(send_opt(Some(a.as_fd()), b"hi", MsgFlags::empty())?, 2);
/// assert_eq!(send_opt(None, b"hi", MsgFlags::empty()), Err(Errno::EBADF));
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// `EBADF` for `None`; otherwise as [`send`].
#[inline]
pub fn send_opt(fd: Option<BorrowedFd<'_>>, buf: &[u8], flags: MsgFlags) -> Result<usize> {
    // SAFETY: `buf` is valid for reads of its length; the fd is borrowed from a live owner
    // (or -1, which the kernel refuses).
    unsafe {
        direct::send(
            raw_or_minus_one(fd),
            buf.as_ptr(),
            buf.len(),
            flags.bits() | NOSIGNAL,
        )
    }
}

/// The fd number of `fd`, `-1` (never open) for `None`. The same bits as the `Option`, whose
/// `None` is stored as `-1`, so this is a plain load.
#[inline(always)]
fn raw_or_minus_one(fd: Option<BorrowedFd<'_>>) -> RawFd {
    match fd {
        Some(fd) => fd.as_raw_fd(),
        None => -1,
    }
}

/// `sendto(2)` with `MSG_NOSIGNAL`: sends a datagram to `addr` (an unconnected UDP socket).
///
/// ```
/// use isys::{bind, getsockname, libc, recvfrom, sendto, socket, MsgFlags, SockAddr};
/// use std::net::{Ipv4Addr, SocketAddr};
///
/// let lo = SockAddr::from(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)));
/// let (a, b) = (socket(libc::AF_INET, libc::SOCK_DGRAM, 0, false)?,
///               socket(libc::AF_INET, libc::SOCK_DGRAM, 0, false)?);
/// bind(&a, &lo)?;
/// bind(&b, &lo)?;
/// assert_eq!(sendto(&a, b"ping", MsgFlags::empty(), &getsockname(&b)?)?, 4);
/// let mut buf = [0u8; 16];
/// let (n, from) = recvfrom(&b, &mut buf, MsgFlags::empty())?;
/// assert_eq!((&buf[..n], from), (&b"ping"[..], getsockname(&a)?));
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// As [`send`], plus: `EMSGSIZE` for a datagram over the path's limit; `EACCES` for a
/// broadcast address without `SO_BROADCAST`; `ENETUNREACH` / `EHOSTUNREACH`; `EAFNOSUPPORT`
/// or `EINVAL` when `addr`'s family does not match the socket's; `EISCONN` on a connected
/// socket (some systems).
pub fn sendto<Fd: AsFd>(fd: Fd, buf: &[u8], flags: MsgFlags, addr: &SockAddr) -> Result<usize> {
    syscall!(sendto(
        fd.as_fd().as_raw_fd(),
        buf.as_ptr().cast(),
        buf.len(),
        flags.bits() | NOSIGNAL,
        addr.as_ptr(),
        addr.len()
    ))
    .map(|n| n as usize)
}

/// `recv(2)`: `Ok(0)` is end of file on a stream socket.
///
/// On a blocking socket it waits until data, end of file or an error arrives, with no
/// timeout unless `SO_RCVTIMEO` is set (then `EAGAIN`).
///
/// ```
/// use isys::{libc, recv, send, socketpair, Errno, MsgFlags};
///
/// let (a, b) = socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, true)?;
/// let mut buf = [0u8; 8];
/// assert_eq!(recv(&b, &mut buf, MsgFlags::empty()), Err(Errno::EWOULDBLOCK));
/// send(&a, b"data", MsgFlags::empty())?;
/// assert_eq!(recv(&b, &mut buf, MsgFlags::empty())?, 4);
/// drop(a);
/// assert_eq!(recv(&b, &mut buf, MsgFlags::empty())?, 0); // end of file
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// - `EAGAIN`/`EWOULDBLOCK`: non-blocking (or `MsgFlags::DONT_WAIT`) and nothing is there, or
///   `SO_RCVTIMEO` expired.
/// - `EINTR`: a signal handler ran before any data came.
/// - `ECONNRESET`: the peer reset the connection; `ETIMEDOUT`: keep-alive or retransmission
///   gave up; `ECONNREFUSED`: a connected UDP socket's earlier datagram was refused.
/// - `ENOTCONN`: a stream socket that is not connected.
pub fn recv<Fd: AsFd>(fd: Fd, buf: &mut [u8], flags: MsgFlags) -> Result<usize> {
    recv_opt(Some(fd.as_fd()), buf, flags)
}

/// [`recv`] on an fd that may be gone: `None` goes to the kernel as fd `-1`, which it refuses
/// with `EBADF` (see [`send_opt`]).
///
/// ```
/// use isys::{libc, recv_opt, send, socketpair, AsFd, Errno, MsgFlags};
///
/// let (a, b) = socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, false)?;
/// send(&a, b"hi", MsgFlags::empty())?;
/// let mut buf = [0u8; 4];
/// assert_eq!(recv_opt(Some(b.as_fd()), &mut buf, MsgFlags::empty())?, 2);
/// assert_eq!(recv_opt(None, &mut buf, MsgFlags::empty()), Err(Errno::EBADF));
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// `EBADF` for `None`; otherwise as [`recv`].
#[inline]
pub fn recv_opt(fd: Option<BorrowedFd<'_>>, buf: &mut [u8], flags: MsgFlags) -> Result<usize> {
    // SAFETY: `buf` is valid for writes of its length; the fd is borrowed from a live owner
    // (or -1, which the kernel refuses).
    unsafe {
        direct::recv(
            raw_or_minus_one(fd),
            buf.as_mut_ptr(),
            buf.len(),
            flags.bits(),
        )
    }
}

/// `recvfrom(2)`: the byte count and the sender's address. Blocks like [`recv`].
///
/// A datagram longer than `buf` is cut short; the rest is lost (Linux reports its full
/// length when `MsgFlags::TRUNCATED` is passed).
///
/// ```
/// use isys::{bind, getsockname, libc, recvfrom, sendto, socket, MsgFlags, SockAddr};
/// use std::net::{Ipv4Addr, SocketAddr};
///
/// let s = socket(libc::AF_INET, libc::SOCK_DGRAM, 0, false)?;
/// bind(&s, &SockAddr::from(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))))?;
/// let me = getsockname(&s)?;
/// sendto(&s, b"to myself", MsgFlags::empty(), &me)?;
/// let mut buf = [0u8; 2];
/// let (n, from) = recvfrom(&s, &mut buf, MsgFlags::empty())?;
/// assert_eq!((n, &buf, from), (2, b"to", me)); // truncated to the buffer
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// As [`recv`]: `EAGAIN`/`EWOULDBLOCK`, `EINTR`, `ECONNRESET`, `ECONNREFUSED`, `ENOTCONN`.
pub fn recvfrom<Fd: AsFd>(fd: Fd, buf: &mut [u8], flags: MsgFlags) -> Result<(usize, SockAddr)> {
    let mut addr = SockAddr::empty();
    let n = syscall!(recvfrom(
        fd.as_fd().as_raw_fd(),
        buf.as_mut_ptr().cast(),
        buf.len(),
        flags.bits(),
        addr.as_mut_ptr(),
        addr.len_mut()
    ))?;
    Ok((n as usize, addr))
}

/// Most fds one [`sendmsg`]/[`recvmsg`] call carries (Linux's `SCM_MAX_FD` is 253).
pub const MAX_FDS_PER_MESSAGE: usize = 253;

fn cmsg_space(nfds: usize) -> usize {
    let bytes = (nfds * mem::size_of::<RawFd>()) as libc::c_uint;
    // SAFETY: CMSG_SPACE is pure arithmetic on its argument.
    unsafe { libc::CMSG_SPACE(bytes) as usize }
}

/// `sendmsg(2)` with `MSG_NOSIGNAL`, sending `data` and, as `SCM_RIGHTS` ancillary data,
/// duplicates of `fds` (they stay open here). Blocks like [`send`].
///
/// ```
/// use isys::{libc, pipe, sendmsg, socketpair, AsFd, MsgFlags};
///
/// let (a, _b) = socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, false)?;
/// let (r, w) = pipe(false)?;
/// // Data must accompany the fds on a stream socket: at least one byte.
/// assert_eq!(sendmsg(&a, b"2 fds", &[r.as_fd(), w.as_fd()], MsgFlags::empty())?, 5);
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// - `EINVAL`: more than [`MAX_FDS_PER_MESSAGE`] fds (checked before the call).
/// - As [`send`]: `EAGAIN`/`EWOULDBLOCK`, `EPIPE` (no `SIGPIPE`), `ECONNRESET`, `EINTR`.
/// - `ETOOMANYREFS` (Linux): too many fds in flight for this user (`RLIMIT_NOFILE`).
pub fn sendmsg<Fd: AsFd>(
    fd: Fd,
    data: &[u8],
    fds: &[BorrowedFd<'_>],
    flags: MsgFlags,
) -> Result<usize> {
    if fds.len() > MAX_FDS_PER_MESSAGE {
        return Err(Errno::EINVAL);
    }
    let mut iov = libc::iovec {
        iov_base: data.as_ptr() as *mut libc::c_void,
        iov_len: data.len(),
    };
    // u64 words keep the control buffer aligned for cmsghdr.
    let mut control = vec![0u64; cmsg_space(fds.len()).div_ceil(8)];
    // SAFETY: msghdr is plain old data; all-zero is valid.
    let mut msg: libc::msghdr = unsafe { mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    if !fds.is_empty() {
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = cmsg_space(fds.len()) as _;
        // SAFETY: msg_control points at a zeroed, aligned buffer of CMSG_SPACE(n fds) bytes,
        // so the first header and its data (n ints) are in bounds.
        unsafe {
            let cmsg = libc::CMSG_FIRSTHDR(&msg);
            (*cmsg).cmsg_level = libc::SOL_SOCKET;
            (*cmsg).cmsg_type = libc::SCM_RIGHTS;
            (*cmsg).cmsg_len = libc::CMSG_LEN((fds.len() * mem::size_of::<RawFd>()) as _) as _;
            let data = libc::CMSG_DATA(cmsg).cast::<RawFd>();
            for (i, f) in fds.iter().enumerate() {
                data.add(i).write_unaligned(f.as_raw_fd());
            }
        }
    }
    syscall!(sendmsg(
        fd.as_fd().as_raw_fd(),
        &msg,
        flags.bits() | NOSIGNAL
    ))
    .map(|n| n as usize)
}

/// `recvmsg(2)` with `MSG_CMSG_CLOEXEC`: reads into `buf` and accepts up to `max_fds`
/// fds passed with `SCM_RIGHTS`. Returns the byte count, the received fds (owned, CLOEXEC) and
/// the result flags (check [`MsgFlags::CONTROL_TRUNCATED`] when fewer fds came than were sent).
/// On macOS (no `MSG_CMSG_CLOEXEC`) each received fd is made CLOEXEC with `fcntl`. Blocks
/// like [`recv`].
///
/// ```
/// use isys::{libc, pipe, read, recvmsg, sendmsg, socketpair, write, AsFd, MsgFlags};
///
/// let (a, b) = socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, false)?;
/// let (r, w) = pipe(false)?;
/// sendmsg(&a, b"w", &[w.as_fd()], MsgFlags::empty())?;
/// drop(w);
/// let mut buf = [0u8; 8];
/// let (n, fds, flags) = recvmsg(&b, &mut buf, 4, MsgFlags::empty())?;
/// assert_eq!((n, fds.len()), (1, 1));
/// assert!(!flags.contains(MsgFlags::CONTROL_TRUNCATED));
/// write(&fds[0], b"through")?; // the received fd is the pipe's write end
/// assert_eq!(read(&r, &mut buf)?, 7);
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// - As [`recv`]: `EAGAIN`/`EWOULDBLOCK`, `EINTR`, `ECONNRESET`, `ENOTCONN`.
/// - More fds than `max_fds` (or than the receiver may open) is not an error: the extra ones
///   are closed by the kernel and [`MsgFlags::CONTROL_TRUNCATED`] is set.
pub fn recvmsg<Fd: AsFd>(
    fd: Fd,
    buf: &mut [u8],
    max_fds: usize,
    flags: MsgFlags,
) -> Result<(usize, Vec<OwnedFd>, MsgFlags)> {
    let max_fds = max_fds.min(MAX_FDS_PER_MESSAGE);
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let space = cmsg_space(max_fds.max(1));
    let mut control = vec![0u64; space.div_ceil(8)];
    // SAFETY: msghdr is plain old data; all-zero is valid.
    let mut msg: libc::msghdr = unsafe { mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = space as _;
    #[cfg(not(target_vendor = "apple"))]
    let extra = libc::MSG_CMSG_CLOEXEC;
    #[cfg(target_vendor = "apple")]
    let extra = 0;
    let n = syscall!(recvmsg(
        fd.as_fd().as_raw_fd(),
        &mut msg,
        flags.bits() | extra
    ))? as usize;
    let mut fds = Vec::new();
    // SAFETY: the kernel filled msg_control/msg_controllen; the CMSG_* macros walk only within
    // msg_controllen, and each SCM_RIGHTS payload holds (cmsg_len - CMSG_LEN(0)) / 4 fds.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_RIGHTS {
                let payload = (*cmsg).cmsg_len as usize - libc::CMSG_LEN(0) as usize;
                let data = libc::CMSG_DATA(cmsg).cast::<RawFd>();
                for i in 0..payload / mem::size_of::<RawFd>() {
                    fds.push(owned(data.add(i).read_unaligned()));
                }
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    #[cfg(target_vendor = "apple")]
    for f in &fds {
        crate::set_cloexec(f, true)?;
    }
    Ok((n, fds, MsgFlags::from_bits_retain(msg.msg_flags)))
}
