//! Registering fd handlers (IOLib's `set-io-handler`, `set-error-handler`,
//! `remove-fd-handlers`, `fd-monitored-p`).

use crate::fd_entry::{
    plain_handler, FdEntry, NewHandler, Queued, Slot, SlotTiming, Verified, GENERAL,
};
use crate::timers::TimerKey;
use crate::{Error, Event, EventBase, Exception, HandlerResult, IoOptions, Result};
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant};

bitflags::bitflags! {
    /// Which handlers of an fd [`EventBase::remove_fd_handlers`] removes: IOLib's `:read`,
    /// `:write` and `:error` keywords (see [the porting table][porting]).
    ///
    /// ```
    /// use iomux::{Event, Handlers};
    ///
    /// let both = Handlers::READ | Handlers::WRITE;
    /// assert!(both.contains(Handlers::from(Event::Write)));
    /// assert!(!both.contains(Handlers::ERROR));
    /// ```
    ///
    /// [porting]: https://github.com/iolib-rs/iolib-rs/blob/main/docs/PORTING.md#the-event-base
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct Handlers: u8 {
        /// The read handler (IOLib's `:read t`).
        const READ = 1;
        /// The write handler (`:write t`).
        const WRITE = 1 << 1;
        /// The error handler (`:error t`).
        const ERROR = 1 << 2;
        /// All of them (IOLib's call without keywords).
        const ALL = Self::READ.bits() | Self::WRITE.bits() | Self::ERROR.bits();
    }
}

impl From<Event> for Handlers {
    /// The handler of one event.
    fn from(event: Event) -> Handlers {
        match event {
            Event::Read => Handlers::READ,
            Event::Write => Handlers::WRITE,
            Event::Error => Handlers::ERROR,
        }
    }
}

impl EventBase {
    /// Sets the handler for `fd` and `event` (IOLib's `set-io-handler`; see
    /// [the porting table][porting]). `fd` is anything with a raw fd, or the number itself. The
    /// handler is called as `(base, fd, event, exception)` whenever the fd is ready, from the
    /// next round of [`event_dispatch`](Self::event_dispatch) on, until it is removed.
    ///
    /// ```
    /// use iomux::{DispatchOptions, Event, EventBase, Handlers};
    /// use std::os::fd::AsRawFd;
    ///
    /// let mut base = EventBase::new()?;
    /// let (r, w) = isys::pipe(true)?;
    /// base.set_io_handler(w.as_raw_fd(), Event::Write, move |base, fd, _event, _exc| {
    ///     isys::write(&w, b"hi")?;
    ///     base.remove_fd_handlers(fd, Handlers::WRITE); // closes `w`, which it owns
    ///     Ok(())
    /// })?;
    /// base.event_dispatch(DispatchOptions::default().exit_when_empty(true))?;
    /// assert_eq!(isys::read(&r, &mut [0u8; 8])?, 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// - [`Error::HandlerExists`]: `fd` has an `event` handler already.
    /// - [`Error::BadFd`]: `fd` is not open (or negative).
    /// - [`Error::FdTooLarge`]: the select backend and an fd at or above `FD_SETSIZE`.
    /// - [`Error::FdSys`]: the backend refused the fd when it was first registered; `call`
    ///   names the call (`epoll_ctl(EPOLL_CTL_ADD)`, `kevent(EV_ADD)`).
    /// - [`Error::InvalidArgument`]: `event` is [`Event::Error`]; use
    ///   [`set_error_handler`](Self::set_error_handler).
    ///
    /// [porting]: https://github.com/iolib-rs/iolib-rs/blob/main/docs/PORTING.md#the-event-base
    #[inline]
    pub fn set_io_handler<F>(&mut self, fd: impl AsRawFd, event: Event, handler: F) -> Result<()>
    where
        F: FnMut(&mut EventBase, RawFd, Event, Option<Exception>) -> HandlerResult + 'static,
    {
        self.set_io_handler_with(fd, event, IoOptions::default(), handler)
    }

    /// [`set_io_handler`](Self::set_io_handler) with IOLib's `:timeout` and `:one-shot`
    /// ([`IoOptions`]). With a timeout the handler is also called with
    /// [`Exception::Timeout`] when the fd has not been ready for that long.
    ///
    /// ```
    /// use iomux::{DispatchOptions, Event, EventBase, Exception, Handlers, IoOptions};
    /// use std::os::fd::AsRawFd;
    /// use std::time::Duration;
    ///
    /// let mut base = EventBase::new()?;
    /// let (r, _w) = isys::pipe(true)?; // nothing will be written
    /// let opts = IoOptions::new().timeout(Duration::from_millis(10));
    /// base.set_io_handler_with(r.as_raw_fd(), Event::Read, opts, |base, fd, _event, exc| {
    ///     assert_eq!(exc, Some(Exception::Timeout));
    ///     base.remove_fd_handlers(fd, Handlers::ALL);
    ///     Ok(())
    /// })?;
    /// base.event_dispatch(DispatchOptions::default().exit_when_empty(true))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`set_io_handler`](Self::set_io_handler).
    #[inline]
    pub fn set_io_handler_with<F>(
        &mut self,
        fd: impl AsRawFd,
        event: Event,
        options: IoOptions,
        handler: F,
    ) -> Result<()>
    where
        F: FnMut(&mut EventBase, RawFd, Event, Option<Exception>) -> HandlerResult + 'static,
    {
        if event == Event::Error {
            return Err(Error::InvalidArgument(
                "use set_error_handler for Event::Error".into(),
            ));
        }
        self.install(
            fd.as_raw_fd(),
            event,
            options,
            false,
            plain_handler(handler),
        )
    }

    /// Sets the error handler of `fd` (IOLib's `set-error-handler`), called with
    /// `(fd, Event::Error, Some(Exception::Error))` on an error condition, before the fd's
    /// handlers are removed. (The select backend cannot watch for errors alone.) See
    /// [the porting table][porting].
    ///
    /// ```
    /// use iomux::{DispatchOptions, Event, EventBase, Exception};
    /// use std::os::fd::AsRawFd;
    /// use std::os::unix::net::UnixStream;
    /// use std::time::Duration;
    ///
    /// let mut base = EventBase::new()?;
    /// let (a, b) = UnixStream::pair()?;
    /// base.set_error_handler(a.as_raw_fd(), |_base, _fd, event, exc| {
    ///     assert_eq!((event, exc), (Event::Error, Some(Exception::Error)));
    ///     Ok(()) // the base removes the fd's handlers after this call
    /// })?;
    /// drop(b); // the peer hangs up
    /// let opts = DispatchOptions::default().exit_when_empty(true);
    /// // The timeout is for select, which cannot watch for errors alone.
    /// base.event_dispatch(opts.timeout(Duration::from_secs(1)))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`set_io_handler`](Self::set_io_handler), but never
    /// [`Error::InvalidArgument`].
    ///
    /// [porting]: https://github.com/iolib-rs/iolib-rs/blob/main/docs/PORTING.md#the-event-base
    pub fn set_error_handler<F>(&mut self, fd: impl AsRawFd, handler: F) -> Result<()>
    where
        F: FnMut(&mut EventBase, RawFd, Event, Option<Exception>) -> HandlerResult + 'static,
    {
        self.install(
            fd.as_raw_fd(),
            Event::Error,
            IoOptions::default(),
            false,
            plain_handler(handler),
        )
    }

    /// Removes the handlers of `fd` that `which` names (IOLib's `remove-fd-handlers`, whose
    /// `:read`/`:write`/`:error` keywords are [`Handlers::READ`], [`Handlers::WRITE`],
    /// [`Handlers::ERROR`]; with none of them IOLib removes all: [`Handlers::ALL`]). Returns
    /// whether anything was removed. See [the porting table][porting].
    ///
    /// Remove an fd's handlers before closing it (see the [crate docs](crate)). A handler may
    /// remove its own fd's handlers, its own included; a handler removed during a round is not
    /// called again in that round, and a closure that owns the fd closes it when it is dropped.
    ///
    /// ```
    /// use iomux::{Event, EventBase, Handlers};
    /// use std::os::fd::AsRawFd;
    /// let mut base = EventBase::new()?;
    /// let (r, _w) = isys::pipe(true)?;
    /// let fd = r.as_raw_fd();
    /// base.set_io_handler(fd, Event::Read, |_, _, _, _| Ok(()))?;
    /// assert!(!base.remove_fd_handlers(fd, Handlers::WRITE)); // it had none
    /// assert!(base.remove_fd_handlers(fd, Handlers::ALL));
    /// assert!(!base.fd_monitored(fd));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// [porting]: https://github.com/iolib-rs/iolib-rs/blob/main/docs/PORTING.md#the-event-base
    #[inline(always)]
    pub fn remove_fd_handlers(&mut self, fd: impl AsRawFd, which: Handlers) -> bool {
        let fd = fd.as_raw_fd();
        // One handler, as the tutorial's servers remove after each echo: with `which` known
        // where this is inlined, a direct call to a removal made for that one slot, and for
        // a write handler held aside since it was added (`stage.rs`), no call at all.
        if which == Handlers::WRITE {
            if self.unhold(fd) {
                return true;
            }
            return self.remove_write_slot(fd);
        }
        if which == Handlers::READ {
            return self.remove_read_handler(fd);
        }
        self.remove_handlers_of(fd, which)
    }

    /// `remove_fd_handlers(fd, Handlers::WRITE)` but for a held function (which the caller
    /// takes back inline, in a few stores).
    #[inline(never)]
    fn remove_write_slot(&mut self, fd: RawFd) -> bool {
        self.settle();
        self.remove_slot(fd, Event::Write)
    }

    /// `remove_fd_handlers(fd, Handlers::READ)`.
    #[inline(never)]
    fn remove_read_handler(&mut self, fd: RawFd) -> bool {
        self.settle();
        self.remove_slot(fd, Event::Read)
    }

    /// `remove_fd_handlers` for any combination of handlers.
    #[inline(never)]
    fn remove_handlers_of(&mut self, fd: RawFd, which: Handlers) -> bool {
        // (`remove_slot` leaves the base's own fds alone.)
        self.settle();
        let mut removed = false;
        if which.contains(Handlers::READ) {
            removed |= self.remove_slot(fd, Event::Read);
        }
        if which.contains(Handlers::WRITE) {
            removed |= self.remove_slot(fd, Event::Write);
        }
        if which.contains(Handlers::ERROR) {
            removed |= self.remove_slot(fd, Event::Error);
        }
        removed
    }

    /// Whether `fd` has any handler (IOLib's `fd-monitored-p`; see
    /// [the porting table][porting]).
    ///
    /// ```
    /// use iomux::{Event, EventBase};
    /// use std::os::fd::AsRawFd;
    ///
    /// let mut base = EventBase::new()?;
    /// let (r, _w) = isys::pipe(true)?;
    /// assert!(!base.fd_monitored(r.as_raw_fd()));
    /// base.set_io_handler(r.as_raw_fd(), Event::Read, |_, _, _, _| Ok(()))?;
    /// assert!(base.fd_monitored(r.as_raw_fd()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// [porting]: https://github.com/iolib-rs/iolib-rs/blob/main/docs/PORTING.md#the-event-base
    pub fn fd_monitored(&self, fd: impl AsRawFd) -> bool {
        let fd = fd.as_raw_fd();
        self.holds(fd, Event::Write)
            || usize::try_from(fd)
                .ok()
                .and_then(|u| self.fds.get(u))
                .and_then(Option::as_ref)
                .is_some_and(|e| !e.internal() && e.slot_count() > 0)
    }

    /// Whether `fd` has a handler for `event` (IOLib's `fd-monitored-p` with an event).
    ///
    /// ```
    /// use iomux::{Event, EventBase};
    /// use std::os::fd::AsRawFd;
    ///
    /// let mut base = EventBase::new()?;
    /// let (r, _w) = isys::pipe(true)?;
    /// base.set_io_handler(r.as_raw_fd(), Event::Read, |_, _, _, _| Ok(()))?;
    /// assert!(base.fd_monitored_for(r.as_raw_fd(), Event::Read));
    /// assert!(!base.fd_monitored_for(r.as_raw_fd(), Event::Write));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fd_monitored_for(&self, fd: impl AsRawFd, event: Event) -> bool {
        let fd = fd.as_raw_fd();
        if self.holds(fd, event) {
            return true;
        }
        let Some(e) = usize::try_from(fd)
            .ok()
            .and_then(|u| self.fds.get(u))
            .and_then(Option::as_ref)
        else {
            return false;
        };
        !e.internal()
            && match event {
                Event::Read => e.read.is_some(),
                Event::Write => e.write.is_some(),
                Event::Error => e.error.is_some(),
            }
    }

    /// Puts `handler` in the slot of `fd`/`event`. Adding a handler to an fd the kernel
    /// watches already and the backend has reported since its entry was made (`verified`),
    /// into a free slot, neither timed nor one-shot, checks nothing, reads no clock and writes
    /// the four words of the slot (`install_known`). A write handler added to an fd whose read
    /// handler the loop has called this round (the tutorial's servers add one after each read
    /// and take it back after the write) does not even that: it waits in the base's stage
    /// until it is taken back, the next wait, or anything else asked of the base (`stage.rs`).
    /// Anything else goes through `install_slow` (the fd's identity, the first registration,
    /// timeouts, one-shot handlers and their `SlotTiming`). `stateful`: lend the handler the
    /// fd's state.
    #[inline(always)]
    pub(crate) fn install(
        &mut self,
        fd: RawFd,
        event: Event,
        opts: IoOptions,
        stateful: bool,
        handler: NewHandler,
    ) -> Result<()> {
        let mut handler = handler;
        if opts.timeout.is_none() && !opts.one_shot {
            if event == Event::Write {
                // A write handler added by its fd's read handler waits aside (`stage.rs`).
                match self.hold(fd, stateful, handler) {
                    None => return Ok(()),
                    Some(h) => handler = h,
                }
            } else {
                self.settle();
            }
            match self.install_known(fd, event, stateful, handler) {
                None => return Ok(()),
                Some(h) => handler = h,
            }
        } else {
            self.settle();
        }
        self.install_slow(fd, event, opts.timeout, opts.one_shot, stateful, handler)
    }

    /// `install`'s fast path, for a plain handler (no timeout, not one-shot) on an fd the
    /// backend has reported, into an empty slot: gives the handler back if that is not the
    /// case.
    #[inline(always)]
    pub(crate) fn install_known(
        &mut self,
        fd: RawFd,
        event: Event,
        stateful: bool,
        handler: NewHandler,
    ) -> Option<NewHandler> {
        // Verified, and so not one of the base's own fds either (never `Yes`).
        if let Some(Some(
            entry @ FdEntry {
                verified: Verified::Yes,
                ..
            },
        )) = self.fds.get_mut(fd as usize)
        {
            let registered = entry.registered;
            let slot = entry.slot_mut(event);
            if let (Some(registered), None) = (registered, &*slot) {
                // Writes a `None`: nothing to drop. The slot's timing is the default
                // already, as for every empty slot.
                std::mem::forget(slot.replace(Slot {
                    handler: Some(handler.handler),
                    added_round: self.round,
                    stateful,
                    drop_free: handler.drop_free,
                }));
                self.user_slots += 1;
                // The kernel has some interest already, so the new slot changes it only
                // if it is a read or write handler the kernel does not watch for.
                let (changed, added) = match event {
                    Event::Read => (!registered.read, Queued::AddedRead),
                    Event::Write => (!registered.write, Queued::AddedWrite),
                    Event::Error => (false, Queued::Yes),
                };
                if changed {
                    // The whole change, if it is the first since the kernel's interest
                    // was set (see `Queued`).
                    if entry.queued.any() {
                        entry.queued = Queued::Yes;
                    } else {
                        entry.queued = added;
                        self.queue_change(fd);
                    }
                }
                return None;
            }
        }
        Some(handler)
    }

    #[cold]
    #[inline(never)]
    pub(crate) fn install_slow(
        &mut self,
        fd: RawFd,
        event: Event,
        timeout: Option<Duration>,
        one_shot: bool,
        stateful: bool,
        handler: NewHandler,
    ) -> Result<()> {
        let known = matches!(
            self.entry(fd),
            Some(e) if e.verified == Verified::Yes && e.slot(event).is_none()
        );
        if !known {
            self.prepare_entry(fd, false)?;
        }
        let id = match timeout {
            Some(_) => {
                self.next_id += 1;
                self.next_id
            }
            None => 0,
        };
        let round = self.round;
        let deadline = timeout.map(|t| Instant::now() + t);
        let Some(entry) = self.fds.get_mut(fd as usize).and_then(Option::as_mut) else {
            unreachable!("prepared above")
        };
        let slot = entry.slot_mut(event);
        if slot.is_some() {
            return Err(Error::HandlerExists { fd, event });
        }
        let general = timeout.is_some() || one_shot;
        *slot = Some(Slot {
            handler: Some(handler.handler),
            added_round: if general { GENERAL } else { round },
            stateful,
            drop_free: handler.drop_free,
        });
        if general {
            *entry.timing_mut(event) = SlotTiming {
                id,
                added_round: round,
                timeout,
                deadline,
            };
            entry.one_shot[event as usize] = one_shot;
        }
        if !entry.internal() {
            self.user_slots += 1;
        }
        if let Some(d) = deadline {
            self.timeout_handlers += 1;
            self.queue_timer(d, TimerKey::HandlerTimeout { fd, event, id });
        }
        self.sync_interest(fd).inspect_err(|_| {
            // Undo: the kernel refused the fd (e.g. a regular file on epoll).
            self.remove_slot(fd, event);
        })
    }
}
