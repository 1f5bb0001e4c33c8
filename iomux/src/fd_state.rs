//! Per-fd user state: [`EventBase::set_fd_state`] and its kin, owned by the event base and
//! lent to stateful handlers for the length of a call (`StateSlot`).

use crate::fd_entry::{erase, Call};
use crate::{BoxError, Error, Event, EventBase, Exception, HandlerResult, IoOptions, Result};
use std::any::Any;
use std::os::fd::{AsRawFd, RawFd};

/// Per-fd user state: owned by the event base, lent to stateful handlers during a call.
#[derive(Default)]
pub(crate) enum StateSlot {
    #[default]
    Empty,
    Present(Box<dyn Any>),
    /// Lent to a running handler.
    InUse,
    /// Lent, and removed meanwhile: dropped when the handler returns.
    InUseRemoved,
}

impl EventBase {
    /// Attaches `state` to `fd`, owned by the event base (replacing and dropping any earlier
    /// state). Handlers registered with
    /// [`set_stateful_io_handler`](Self::set_stateful_io_handler) get `&mut` access to it,
    /// which is how one socket and its buffers are shared by an fd's read and write handlers
    /// (the tutorial's io-buffer) without `Rc<RefCell<_>>`. The state lives until
    /// [`remove_fd_state`](Self::remove_fd_state) or [`take_fd_state`](Self::take_fd_state),
    /// or until the base is dropped, independently of the handlers coming and going; owning the
    /// socket in the state means removing the state closes it. IOLib's tutorial shares
    /// closures over an io-buffer instead (see [the porting table][porting]).
    ///
    /// ```
    /// use iomux::{DispatchOptions, Event, EventBase, Handlers, IoOptions};
    /// use std::os::fd::{AsRawFd, OwnedFd};
    ///
    /// struct Conn { pipe: OwnedFd, got: Vec<u8> }
    ///
    /// let mut base = EventBase::new()?;
    /// let (r, w) = isys::pipe(true)?;
    /// isys::write(&w, b"hello")?;
    /// let fd = r.as_raw_fd();
    /// base.set_fd_state(fd, Conn { pipe: r, got: Vec::new() })?;
    /// let opts = IoOptions::new();
    /// base.set_stateful_io_handler(fd, Event::Read, opts, |base, c: &mut Conn, fd, _, _| {
    ///     let mut buf = [0u8; 16];
    ///     let n = isys::read(&c.pipe, &mut buf)?;
    ///     c.got.extend_from_slice(&buf[..n]);
    ///     base.remove_fd_handlers(fd, Handlers::ALL); // the state stays
    ///     Ok(())
    /// })?;
    /// base.event_dispatch(DispatchOptions::default().exit_when_empty(true))?;
    /// assert_eq!(base.fd_state::<Conn>(fd).unwrap().got, b"hello");
    /// let conn: Conn = base.take_fd_state(fd).unwrap(); // dropping `conn` closes the pipe
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// - [`Error::BadFd`]: `fd` is not open.
    /// - [`Error::FdTooLarge`]: the select backend and an fd at or above `FD_SETSIZE`.
    /// - [`Error::InvalidArgument`]: the fd's state is lent to the handler that is running
    ///   (change it through the handler's `&mut` instead).
    ///
    /// [porting]: https://github.com/iolib-rs/iolib-rs/blob/main/docs/PORTING.md#the-event-base
    pub fn set_fd_state<T: 'static>(&mut self, fd: impl AsRawFd, state: T) -> Result<()> {
        self.settle();
        let fd = fd.as_raw_fd();
        self.prepare_entry(fd, false)?;
        let entry = self.entry(fd).expect("prepared above");
        if matches!(entry.state, StateSlot::InUse | StateSlot::InUseRemoved) {
            return Err(Error::InvalidArgument(format!(
                "fd {fd}'s state is lent to a running handler; change it through the handler's &mut"
            )));
        }
        entry.state = StateSlot::Present(Box::new(state));
        Ok(())
    }

    /// The state attached to `fd`, if it is a `T` and not lent to a running handler.
    ///
    /// ```
    /// use iomux::EventBase;
    /// use std::os::fd::AsRawFd;
    ///
    /// let mut base = EventBase::new()?;
    /// let (r, _w) = isys::pipe(true)?;
    /// base.set_fd_state(r.as_raw_fd(), 7u32)?;
    /// assert_eq!(base.fd_state::<u32>(r.as_raw_fd()), Some(&7));
    /// assert_eq!(base.fd_state::<String>(r.as_raw_fd()), None); // another type
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fd_state<T: 'static>(&self, fd: impl AsRawFd) -> Option<&T> {
        let e = self
            .fds
            .get(usize::try_from(fd.as_raw_fd()).ok()?)?
            .as_ref()?;
        match &e.state {
            StateSlot::Present(b) => b.downcast_ref(),
            _ => None,
        }
    }

    /// Mutable access to the state attached to `fd`, if it is a `T` and not lent to a running
    /// handler.
    ///
    /// ```
    /// use iomux::EventBase;
    /// use std::os::fd::AsRawFd;
    ///
    /// let mut base = EventBase::new()?;
    /// let (r, _w) = isys::pipe(true)?;
    /// base.set_fd_state(r.as_raw_fd(), vec![1u8])?;
    /// base.fd_state_mut::<Vec<u8>>(r.as_raw_fd()).unwrap().push(2);
    /// assert_eq!(base.fd_state::<Vec<u8>>(r.as_raw_fd()).unwrap(), &[1, 2]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fd_state_mut<T: 'static>(&mut self, fd: impl AsRawFd) -> Option<&mut T> {
        self.settle();
        match &mut self.entry(fd.as_raw_fd())?.state {
            StateSlot::Present(b) => b.downcast_mut(),
            _ => None,
        }
    }

    /// Detaches and returns the state of `fd` if it is a `T` (not while a handler holds it).
    /// A state of another type stays.
    ///
    /// ```
    /// use iomux::EventBase;
    /// use std::os::fd::AsRawFd;
    ///
    /// let mut base = EventBase::new()?;
    /// let (r, _w) = isys::pipe(true)?;
    /// base.set_fd_state(r.as_raw_fd(), String::from("peer"))?;
    /// assert_eq!(base.take_fd_state::<u32>(r.as_raw_fd()), None); // wrong type: kept
    /// assert_eq!(base.take_fd_state::<String>(r.as_raw_fd()).as_deref(), Some("peer"));
    /// assert_eq!(base.take_fd_state::<String>(r.as_raw_fd()), None); // gone
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn take_fd_state<T: 'static>(&mut self, fd: impl AsRawFd) -> Option<T> {
        self.settle();
        let fd = fd.as_raw_fd();
        let entry = self.entry(fd)?;
        let StateSlot::Present(b) = std::mem::take(&mut entry.state) else {
            return None;
        };
        match b.downcast::<T>() {
            Ok(t) => {
                if entry.removable() {
                    self.fds[fd as usize] = None;
                }
                Some(*t)
            }
            Err(b) => {
                entry.state = StateSlot::Present(b);
                None
            }
        }
    }

    /// Drops the state of `fd` (closing a socket it owns). Called from the handler that holds
    /// it, the state is dropped when that handler returns. Returns whether there was one.
    ///
    /// ```
    /// use iomux::EventBase;
    /// use std::os::fd::AsRawFd;
    ///
    /// let mut base = EventBase::new()?;
    /// let (r, w) = isys::pipe(true)?;
    /// let fd = r.as_raw_fd();
    /// base.set_fd_state(fd, r)?; // the state owns the read end
    /// assert!(base.remove_fd_state(fd)); // and closes it
    /// assert!(!base.remove_fd_state(fd));
    /// assert!(isys::write(&w, b"x").is_err()); // EPIPE: no reader left
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn remove_fd_state(&mut self, fd: impl AsRawFd) -> bool {
        self.settle();
        let fd = fd.as_raw_fd();
        let Some(entry) = self.entry(fd) else {
            return false;
        };
        let had = match std::mem::take(&mut entry.state) {
            StateSlot::Empty => false,
            StateSlot::Present(b) => {
                drop(b);
                true
            }
            StateSlot::InUse => {
                entry.state = StateSlot::InUseRemoved;
                true
            }
            StateSlot::InUseRemoved => {
                entry.state = StateSlot::InUseRemoved;
                false
            }
        };
        if matches!(self.entry(fd), Some(e) if e.removable()) {
            self.fds[fd as usize] = None;
        }
        had
    }

    /// Removes and returns every state of type `T`, with its fd (for shutting a server down:
    /// closing each client connection the base holds). Handlers stay; remove them first
    /// (or use [`drop_fd`](Self::drop_fd)) if the states own their fds.
    ///
    /// ```
    /// use iomux::EventBase;
    /// use std::os::fd::AsRawFd;
    ///
    /// let mut base = EventBase::new()?;
    /// let (a, b) = isys::pipe(true)?;
    /// base.set_fd_state(a.as_raw_fd(), 1u32)?;
    /// base.set_fd_state(b.as_raw_fd(), 2u32)?;
    /// let drained = base.drain_fd_states::<u32>();
    /// assert_eq!(drained.iter().map(|&(_, n)| n).sum::<u32>(), 3);
    /// assert_eq!(base.fd_states::<u32>().count(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn drain_fd_states<T: 'static>(&mut self) -> Vec<(RawFd, T)> {
        self.settle();
        let fds: Vec<RawFd> = (0..self.fds.len() as RawFd)
            .filter(|&fd| self.fd_state::<T>(fd).is_some())
            .collect();
        fds.into_iter()
            .filter_map(|fd| self.take_fd_state::<T>(fd).map(|t| (fd, t)))
            .collect()
    }

    /// Sets a handler that gets `&mut T`, the state attached to `fd` with
    /// [`set_fd_state`](Self::set_fd_state), as its second argument. The event base lends the
    /// state for the length of the call.
    ///
    /// The handler ends `event_dispatch` with an error if the fd has no `T` when it is called.
    /// [`set_fd_state`](Self::set_fd_state) has a fuller example.
    ///
    /// ```
    /// use iomux::{DispatchOptions, Event, EventBase, Handlers, IoOptions};
    /// use std::os::fd::AsRawFd;
    ///
    /// let mut base = EventBase::new()?;
    /// let (_r, w) = isys::pipe(true)?;
    /// let fd = w.as_raw_fd();
    /// base.set_fd_state(fd, 0u32)?; // how often the handler ran
    /// let opts = IoOptions::new();
    /// base.set_stateful_io_handler(fd, Event::Write, opts, |base, n: &mut u32, fd, _, _| {
    ///     *n += 1;
    ///     if *n == 3 {
    ///         base.remove_fd_handlers(fd, Handlers::ALL);
    ///     }
    ///     Ok(())
    /// })?;
    /// base.event_dispatch(DispatchOptions::default().exit_when_empty(true))?;
    /// assert_eq!(base.fd_state::<u32>(fd), Some(&3));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`set_io_handler`](Self::set_io_handler): [`Error::HandlerExists`],
    /// [`Error::BadFd`], [`Error::FdTooLarge`], [`Error::FdSys`], and
    /// [`Error::InvalidArgument`] for [`Event::Error`]. A missing state is no error here; it
    /// is the handler's [`Error::Handler`] when it is called.
    #[inline(always)]
    pub fn set_stateful_io_handler<T, F>(
        &mut self,
        fd: impl AsRawFd,
        event: Event,
        options: IoOptions,
        mut handler: F,
    ) -> Result<()>
    where
        T: 'static,
        F: FnMut(&mut EventBase, &mut T, RawFd, Event, Option<Exception>) -> HandlerResult
            + 'static,
    {
        if event == Event::Error {
            return Err(Error::InvalidArgument(
                "use set_error_handler for Event::Error".into(),
            ));
        }
        let erased = erase(move |base, state: &mut dyn Any, fd, call: Call| {
            match state.downcast_mut::<T>() {
                Some(state) => handler(base, state, fd, call.event(), call.exc()),
                None => Err(missing_state::<T>(fd)),
            }
        });
        self.install(fd.as_raw_fd(), event, options, true, erased)
    }
}

/// The error of a stateful handler called without its state.
pub(crate) fn missing_state<T>(fd: RawFd) -> BoxError {
    format!(
        "fd {fd} has no state of type {}",
        std::any::type_name::<T>()
    )
    .into()
}
