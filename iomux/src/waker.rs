//! Waking an event loop from another thread: [`Waker`] (as `mio::Waker` does), over an
//! `eventfd(2)` on Linux and Android and a non-blocking pipe elsewhere, which the event base
//! watches as one of its own fds (like the signal pipe: it is no work for
//! `exit_when_empty`).

use crate::fd_entry::{plain_handler, NewHandler, Slot};
use crate::{Error, EventBase, HandlerResult, Result};
use std::fmt;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Wakes or stops an [`EventBase`]'s loop from any thread (made by [`EventBase::waker`]).
///
/// [`wake`](Self::wake) makes the loop's current wait return (or the next one, if the loop
/// is not waiting), so a dispatch with `one_shot` returns and any other goes on with its next
/// round: what a thread does after handing the loop work through a channel.
/// [`stop`](Self::stop) also ends the dispatch, as
/// [`exit_event_loop`](EventBase::exit_event_loop)`(Duration::ZERO)` would, with
/// [`DispatchOutcome::ExitRequested`](crate::DispatchOutcome::ExitRequested).
///
/// A waker is cheap to clone; every clone wakes the same base. Waking a base that was
/// dropped does nothing.
///
/// ```
/// use iomux::{DispatchOptions, DispatchOutcome, EventBase};
/// use std::time::Duration;
///
/// let mut base = EventBase::new()?;
/// let waker = base.waker()?;
/// let stopper = std::thread::spawn(move || {
///     std::thread::sleep(Duration::from_millis(20));
///     waker.stop()
/// });
/// // No handlers and no timers: without the waker this would wait forever.
/// let outcome = base.event_dispatch(DispatchOptions::default())?;
/// assert_eq!(outcome, DispatchOutcome::ExitRequested);
/// stopper.join().unwrap()?;
/// # Ok::<(), iomux::Error>(())
/// ```
#[derive(Clone)]
pub struct Waker {
    shared: Arc<Shared>,
}

/// The fds and the stop flag, shared by the base and its wakers: the fds stay open while
/// either holds them, so a waker outliving its base writes into a full pipe (`EAGAIN`,
/// ignored), never into a closed one (`EPIPE`).
pub(crate) struct Shared {
    /// The eventfd, or the pipe's write end.
    write: OwnedFd,
    /// The pipe's read end; `None` for an eventfd, which is read where it is written.
    read: Option<OwnedFd>,
    /// Set by [`Waker::stop`], taken by the base's handler.
    stop: AtomicBool,
}

impl Shared {
    fn new() -> Result<Shared> {
        cfg_if::cfg_if! {
            if #[cfg(any(target_os = "linux", target_os = "android"))] {
                let write = isys::eventfd(0).map_err(|e| Error::sys("eventfd", e))?;
                let read = None;
            } else {
                let (r, write) = isys::pipe(true).map_err(|e| Error::sys("pipe", e))?;
                let read = Some(r);
            }
        }
        Ok(Shared {
            write,
            read,
            stop: AtomicBool::new(false),
        })
    }

    fn read_fd(&self) -> &OwnedFd {
        self.read.as_ref().unwrap_or(&self.write)
    }

    /// Empties the fd (resets the eventfd's count, reads the pipe dry).
    fn drain(&self) -> HandlerResult {
        let mut buf = [0u8; 64];
        loop {
            match isys::read(self.read_fd(), &mut buf) {
                Ok(0) | Err(isys::Errno::EWOULDBLOCK) => return Ok(()),
                Ok(n) if n < buf.len() => return Ok(()),
                Ok(_) | Err(isys::Errno::EINTR) => continue,
                Err(e) => return Err(Box::new(Error::sys("read from the waker", e))),
            }
        }
    }
}

impl fmt::Debug for Waker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Waker")
            .field("fd", &self.shared.read_fd().as_raw_fd())
            .field("stop", &self.shared.stop.load(Ordering::Relaxed))
            .finish()
    }
}

impl Waker {
    /// Makes the event loop's current wait return, or its next one if it is not waiting.
    /// Wakes that come before the loop gets round to them count as one.
    ///
    /// ```
    /// use iomux::{DispatchOptions, DispatchOutcome, EventBase};
    ///
    /// let mut base = EventBase::new()?;
    /// let waker = base.waker()?;
    /// waker.wake()?; // before the dispatch: its first wait returns at once
    /// let outcome = base.event_dispatch(DispatchOptions::default().one_shot(true))?;
    /// assert_eq!(outcome, DispatchOutcome::OneShot);
    /// # Ok::<(), iomux::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Sys`] if writing to the eventfd or pipe fails (other than it being full,
    /// which means a wake is pending already).
    pub fn wake(&self) -> Result<()> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        let bytes = 1u64.to_ne_bytes();
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        let bytes = [1u8];
        loop {
            match isys::write(&self.shared.write, &bytes) {
                Ok(_) | Err(isys::Errno::EWOULDBLOCK) => return Ok(()),
                Err(isys::Errno::EINTR) => continue,
                Err(e) => return Err(Error::sys("write to the waker", e)),
            }
        }
    }

    /// Ends the event loop's current dispatch at the end of its round, or the next dispatch
    /// after its first round if none is running, with
    /// [`DispatchOutcome::ExitRequested`](crate::DispatchOutcome::ExitRequested). [`Waker`]
    /// has an example with a thread.
    ///
    /// ```
    /// use iomux::{DispatchOptions, DispatchOutcome, EventBase};
    ///
    /// let mut base = EventBase::new()?;
    /// base.waker()?.stop()?;
    /// let outcome = base.event_dispatch(DispatchOptions::default())?;
    /// assert_eq!(outcome, DispatchOutcome::ExitRequested);
    /// # Ok::<(), iomux::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`wake`](Self::wake).
    pub fn stop(&self) -> Result<()> {
        self.shared.stop.store(true, Ordering::Release);
        self.wake()
    }
}

impl EventBase {
    /// A [`Waker`] for this base, to wake or stop its loop from another thread. The first
    /// call makes an eventfd (Linux, Android) or a pipe (elsewhere) that the base watches;
    /// later calls hand out clones. The base's own fd is no work for `exit_when_empty`.
    /// [`Waker`] has an example.
    ///
    /// # Errors
    /// [`Error::Sys`] if the eventfd or pipe cannot be made (no fds left); select's
    /// [`Error::FdTooLarge`] if its number is at or above `FD_SETSIZE`; [`Error::FdSys`] if
    /// the backend refuses it.
    pub fn waker(&mut self) -> Result<Waker> {
        self.settle();
        if let Some(shared) = &self.waker {
            return Ok(Waker {
                shared: shared.clone(),
            });
        }
        let shared = Arc::new(Shared::new()?);
        let mine = shared.clone();
        let handler = plain_handler(move |base, _fd, _ev, _exc| {
            mine.drain()?;
            if mine.stop.swap(false, Ordering::Acquire) {
                base.exit_event_loop(Duration::ZERO);
            }
            Ok(())
        });
        self.add_internal_reader(shared.read_fd().as_raw_fd(), handler)?;
        self.waker = Some(shared.clone());
        Ok(Waker { shared })
    }

    /// Watches `fd`, one of the base's own (signal pipe, waker), for reading with `handler`:
    /// not a user handler, so no work for `exit_when_empty` and out of reach of
    /// `remove_fd_handlers`.
    pub(crate) fn add_internal_reader(&mut self, fd: RawFd, handler: NewHandler) -> Result<()> {
        self.prepare_entry(fd, true)?;
        let entry = self.entry(fd).expect("prepared above");
        entry.read = Some(Slot {
            handler: Some(handler.handler),
            added_round: 0,
            stateful: false,
            drop_free: handler.drop_free,
        });
        self.sync_interest(fd)
    }
}
