//! Unbuffered transfers (IOLib's `send-to` and `receive-from`): single `send`/`recv` calls
//! on stream sockets that bypass the stream buffer, datagrams with their peer address, and
//! fd passing over local sockets (`SCM_RIGHTS`).
//!
//! Every call here retries `EINTR` itself: a signal never surfaces as an error. The fd passing
//! calls, which wait, also retry `ENOBUFS`/`ENOMEM` after a short pause within their timeout.

use crate::active::ActiveSocket;
use crate::address::Address;
use crate::base_socket::{address_of, Family};
use crate::datagram::DatagramSocket;
use crate::error::{Error, Result, SysContext};
use crate::wait::pause_before_retry;
use isys::{libc, Errno, FdEvent, MsgFlags};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::Instant;

/// The rest of a `send(2)` that failed with `e`: [`Error::Closed`] when there was no fd
/// (`e` is then `EBADF`), else retries `EINTR` and builds the error. Out of line, so the
/// caller's fast path is one call and one compare.
#[cold]
#[inline(never)]
fn send_failed(fd: &Option<OwnedFd>, buf: &[u8], flags: MsgFlags, e: Errno) -> Result<usize> {
    let Some(fd) = fd.as_ref() else {
        return Err(Error::Closed);
    };
    let r = match e {
        Errno::EINTR => isys::repeat_upon_eintr(|| isys::send(fd, buf, flags)),
        e => Err(e),
    };
    r.map_err(|e| Error::from_errno("send", e))
}

/// The rest of a `recv(2)` that failed with `e`, as [`send_failed`].
#[cold]
#[inline(never)]
fn recv_failed(fd: &Option<OwnedFd>, buf: &mut [u8], flags: MsgFlags, e: Errno) -> Result<usize> {
    let Some(fd) = fd.as_ref() else {
        return Err(Error::Closed);
    };
    let r = match e {
        Errno::EINTR => isys::repeat_upon_eintr(|| isys::recv(fd, &mut *buf, flags)),
        e => Err(e),
    };
    r.map_err(|e| Error::from_errno("recv", e))
}

fn range_check(len: usize, start: usize, end: Option<usize>) -> Result<std::ops::Range<usize>> {
    let end = end.unwrap_or(len);
    if start > end || end > len {
        return Err(Error::InvalidArgument(format!(
            "bad buffer range {start}..{end} for a buffer of {len} bytes"
        )));
    }
    Ok(start..end)
}

impl ActiveSocket {
    // ----- unbuffered -------------------------------------------------------------------

    /// One `send(2)` of `buf`, bypassing the output buffer (IOLib's `send-to` on a stream).
    /// The fd is non-blocking: a full socket buffer is an error whose errno is `EWOULDBLOCK`
    /// ([`Error::is_would_block`]); a closed peer is [`Error::Hangup`] (`EPIPE`). `EINTR` is
    /// retried.
    ///
    /// # Errors
    /// An error whose [`errno`](Error::errno) is `EWOULDBLOCK` when the socket buffer is full,
    /// [`Error::Hangup`], [`Error::ConnectionReset`], [`Error::Closed`].
    ///
    /// # Examples
    ///
    /// ```
    /// use sockets::*;
    ///
    /// let (a, mut b) = make_socket_pair(ExternalFormat::UTF8_LF)?;
    /// assert_eq!(a.send_to(b"raw bytes", MsgFlags::empty())?, 9);
    /// let mut buf = [0; 16];
    /// assert_eq!(b.receive_from(&mut buf, MsgFlags::empty())?, 9);
    /// # Ok::<(), sockets::Error>(())
    /// ```
    #[inline]
    pub fn send_to(&self, buf: &[u8], flags: MsgFlags) -> Result<usize> {
        // A closed socket (no fd) goes to the kernel as fd -1: EBADF, which send_failed
        // reports as Closed. The open case pays no branch for it.
        let fd = self.base.fd.as_ref().map(AsFd::as_fd);
        match isys::send_opt(fd, buf, flags) {
            Ok(n) => Ok(n),
            Err(e) => send_failed(&self.base.fd, buf, flags, e),
        }
    }

    /// [`send_to`](Self::send_to) on `buf[start..end]` (`end` `None` = the end), IOLib's
    /// `:start`/`:end`. A bad range is [`Error::InvalidArgument`].
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `start..end` is not within `buf`; otherwise as
    /// [`send_to`](Self::send_to).
    ///
    /// # Examples
    ///
    /// ```
    /// use sockets::*;
    ///
    /// let (a, mut b) = make_socket_pair(ExternalFormat::UTF8_LF)?;
    /// a.send_to_range(b"..abc..", 2, Some(5), MsgFlags::empty())?;
    /// let mut buf = [0; 8];
    /// let n = b.receive_from_range(&mut buf, 4, None, MsgFlags::empty())?;
    /// assert_eq!(&buf[4..4 + n], b"abc");
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn send_to_range(
        &self,
        buf: &[u8],
        start: usize,
        end: Option<usize>,
        flags: MsgFlags,
    ) -> Result<usize> {
        let r = range_check(buf.len(), start, end)?;
        self.send_to(&buf[r], flags)
    }

    /// One `recv(2)` into `buf`, bypassing line decoding (IOLib's `receive-from` on a stream);
    /// bytes already buffered by line reads come first. `Ok(0)` is end of file. Non-blocking:
    /// nothing available is an `EWOULDBLOCK` error. `EINTR` is retried.
    ///
    /// # Errors
    /// An error whose [`errno`](Error::errno) is `EWOULDBLOCK` when nothing is there yet (wait
    /// with [`wait_readable`](crate::BaseSocket::wait_readable)), [`Error::ConnectionReset`],
    /// [`Error::Closed`]. See [`send_to`](Self::send_to) for an example.
    #[inline]
    pub fn receive_from(&mut self, buf: &mut [u8], flags: MsgFlags) -> Result<usize> {
        if self.buf.ipos != self.buf.iend && !buf.is_empty() {
            return Ok(self.take_buffered(buf, flags));
        }
        // As in send_to: a closed socket is EBADF from the kernel, reported as Closed.
        let fd = self.base.fd.as_ref().map(AsFd::as_fd);
        match isys::recv_opt(fd, buf, flags) {
            Ok(n) => Ok(n),
            Err(e) => recv_failed(&self.base.fd, buf, flags, e),
        }
    }

    /// Copies what fits of the buffered input (not empty) into `buf` (not empty), consuming it
    /// unless `flags` has `PEEK`. Out of line: rare next to the `recv(2)` path of
    /// [`receive_from`](Self::receive_from), which it would otherwise crowd.
    #[inline(never)]
    fn take_buffered(&mut self, buf: &mut [u8], flags: MsgFlags) -> usize {
        let have = &self.buf.ibuf[self.buf.ipos..self.buf.iend];
        let n = have.len().min(buf.len());
        buf[..n].copy_from_slice(&have[..n]);
        if !flags.contains(MsgFlags::PEEK) {
            self.buf.ipos += n;
        }
        n
    }

    /// [`receive_from`](Self::receive_from) into `buf[start..end]`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `start..end` is not within `buf`; otherwise as
    /// [`receive_from`](Self::receive_from).
    ///
    /// # Examples
    ///
    /// See [`send_to_range`](Self::send_to_range) for an example.
    pub fn receive_from_range(
        &mut self,
        buf: &mut [u8],
        start: usize,
        end: Option<usize>,
        flags: MsgFlags,
    ) -> Result<usize> {
        let r = range_check(buf.len(), start, end)?;
        self.receive_from(&mut buf[r], flags)
    }

    /// Sends `fd` over a local socket with `SCM_RIGHTS` (IOLib's `send-file-descriptor`).
    ///
    /// Blocks while the socket buffer is full, up to the write timeout.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] on a socket that is not local, [`Error::Hangup`] when the
    /// peer is gone, [`Error::Timeout`] when the write timeout runs out, [`Error::Closed`].
    ///
    /// # Examples
    ///
    /// ```
    /// use sockets::*;
    /// use std::os::fd::AsFd;
    ///
    /// let (a, mut b) = make_socket_pair(ExternalFormat::UTF8_LF)?;
    /// let file = std::fs::File::open("/dev/null")?;
    /// a.send_file_descriptor(file.as_fd())?;
    /// let received = b.receive_file_descriptor()?;
    /// # drop(received);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn send_file_descriptor(&self, fd: BorrowedFd<'_>) -> Result<()> {
        if self.base.family != Family::Local {
            return Err(Error::InvalidArgument(
                "file descriptors can only be passed over local sockets".into(),
            ));
        }
        let deadline = self
            .buf
            .write_timeout
            .and_then(|t| Instant::now().checked_add(t));
        let what = self.buf.write_timeout.unwrap_or_default();
        loop {
            match isys::sendmsg(self.base.fd()?, b"\0", &[fd], MsgFlags::empty()) {
                Ok(_) => return Ok(()),
                Err(Errno::EINTR) => continue,
                Err(Errno::EWOULDBLOCK) => self.base.wait(FdEvent::Write, deadline, what)?,
                Err(Errno::ENOBUFS | Errno::ENOMEM) => pause_before_retry(deadline, what)?,
                Err(e) => return Err(Error::from_errno("sendmsg", e)),
            }
        }
    }

    /// Receives an fd sent with [`send_file_descriptor`](Self::send_file_descriptor)
    /// (IOLib's `receive-file-descriptor`); waits like a read. [`Error::EndOfFile`] if the
    /// peer closed first.
    ///
    /// Blocks up to the read timeout.
    ///
    /// # Errors
    /// [`Error::EndOfFile`] when the peer closed first, [`Error::Timeout`] when the read timeout
    /// runs out, [`Error::InvalidArgument`] on a socket that is not local or when the message
    /// carried no fd, [`Error::Closed`].
    /// See [`send_file_descriptor`](Self::send_file_descriptor) for an example.
    pub fn receive_file_descriptor(&mut self) -> Result<OwnedFd> {
        if self.base.family != Family::Local {
            return Err(Error::InvalidArgument(
                "file descriptors can only be passed over local sockets".into(),
            ));
        }
        let deadline = self
            .buf
            .read_timeout
            .and_then(|t| Instant::now().checked_add(t));
        let what = self.buf.read_timeout.unwrap_or_default();
        loop {
            let mut byte = [0u8; 1];
            match isys::recvmsg(self.base.fd()?, &mut byte, 1, MsgFlags::empty()) {
                Ok((0, _, _)) => return Err(Error::EndOfFile),
                Ok((_, mut fds, _)) => {
                    return fds.pop().ok_or_else(|| {
                        Error::InvalidArgument("message carried no file descriptor".into())
                    })
                }
                Err(Errno::EINTR) => continue,
                Err(Errno::EWOULDBLOCK) => self.base.wait(FdEvent::Read, deadline, what)?,
                Err(Errno::ENOBUFS | Errno::ENOMEM) => pause_before_retry(deadline, what)?,
                Err(e) => return Err(Error::from_errno("recvmsg", e)),
            }
        }
    }
}

impl DatagramSocket {
    /// Sends one datagram (IOLib's `send-to`): to `to` when given, else to the connected
    /// peer. Non-blocking: `EWOULDBLOCK` when the buffer is full. `EINTR` is retried.
    ///
    /// # Errors
    /// An error whose [`errno`](Error::errno) is `EWOULDBLOCK` when the buffer is full,
    /// `EMSGSIZE` for a datagram too large, [`Error::NotConnected`] (`EDESTADDRREQ` too) with no
    /// `to` and no default peer, [`Error::InvalidAddress`] for an address of another family,
    /// [`Error::Closed`]. See [`DatagramSocket`] for an example.
    pub fn send_to(
        &self,
        buf: &[u8],
        to: Option<(&Address, u16)>,
        flags: MsgFlags,
    ) -> Result<usize> {
        let fd = self.base.fd()?;
        match to {
            Some((addr, port)) => {
                let sa = self.base.sockaddr(addr, port)?;
                isys::repeat_upon_eintr(|| isys::sendto(fd, buf, flags, &sa)).ctx("sendto")
            }
            None => isys::repeat_upon_eintr(|| isys::send(fd, buf, flags)).ctx("send"),
        }
    }

    /// Receives one datagram (IOLib's `receive-from`): the byte count and the sender.
    /// Non-blocking: `EWOULDBLOCK` when none is waiting (see
    /// [`wait_readable`](crate::BaseSocket::wait_readable)). `EINTR` is retried.
    ///
    /// # Errors
    /// An error whose [`errno`](Error::errno) is `EWOULDBLOCK` when no datagram is waiting,
    /// [`Error::ConnectionRefused`] when an earlier datagram to the default peer met a closed
    /// port, [`Error::Closed`]. See [`DatagramSocket`] for an example.
    pub fn receive_from(
        &self,
        buf: &mut [u8],
        flags: MsgFlags,
    ) -> Result<(usize, Option<(Address, u16)>)> {
        let fd = self.base.fd()?;
        let (n, sa) = isys::repeat_upon_eintr(|| isys::recvfrom(fd, buf, flags)).ctx("recvfrom")?;
        let from = if sa.is_empty() || sa.family() == libc::AF_UNSPEC {
            None
        } else {
            address_of(&sa).ok()
        };
        Ok((n, from))
    }
}
