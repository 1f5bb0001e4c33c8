//! IOLib's `event-base`: the [`EventBase`] struct, the `Gate` and `Attention` bits its loop
//! tests before each wait, its builder and constructors, and what it says about itself
//! (backend, rounds, emptiness). Handlers, timers, signals and the loop itself add
//! `impl EventBase` blocks in their own files; dropping the base gives back its signal
//! notifiers (in `signals.rs`).

use crate::failure::FailurePolicy;
use crate::fd_entry::FdEntry;
use crate::multiplexer::Selector;
use crate::signals::SignalPipe;
use crate::stage::Stage;
use crate::timers::{TimerHeap, TimerSlot};
use crate::waker::Shared as WakerShared;
use crate::{Backend, Result};
use std::fmt;
use std::os::fd::RawFd;
use std::sync::Arc;

/// [`Gate::last_change`] when no change is queued after those in `changes`.
pub(crate) const NO_CHANGE: u32 = 0;

/// What the loop tests before each wait, in one word: the common round has nothing to look
/// at but the wait and the handlers of what it reports (both halves zero,
/// [`Gate::is_quiet`]), and the two halves compare as one.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(C, align(8))]
pub(crate) struct Gate {
    /// The bits of [`Attention`]: timers, an exit, fds the backend keeps aside, changes in
    /// `changes`, the dispatch's options.
    pub(crate) attention: u32,
    /// The fd queued last in the changelist (not in `changes`), complemented ([`change_key`]),
    /// or [`NO_CHANGE`]: the one a removal may take back (a write handler added and removed
    /// within one handler call, as the tutorial's servers do on every echo) with one compare
    /// and one store. Complemented so that no change is 0, and the quiet gate the word 0:
    /// one test before each wait.
    pub(crate) last_change: u32,
}

/// An fd as [`Gate::last_change`] keeps it: its bits complemented, so that no fd with an
/// entry (all are non-negative) is [`NO_CHANGE`].
#[inline(always)]
pub(crate) fn change_key(fd: RawFd) -> u32 {
    !(fd as u32)
}

impl Gate {
    /// Nothing to look at before the wait: no attention bits and no change queued (both
    /// halves zero), written so that the compiler reads both halves as one word and compares
    /// it with zero.
    #[inline(always)]
    pub(crate) fn is_quiet(&self) -> bool {
        (u64::from(self.attention) | u64::from(self.last_change) << 32) == 0
    }

    /// The fd queued last, if any.
    #[inline(always)]
    pub(crate) fn last_change_fd(&self) -> Option<RawFd> {
        (self.last_change != NO_CHANGE).then_some(!self.last_change as RawFd)
    }
}

/// The bits of [`Gate::attention`]: while they are zero a round is a wait with no end
/// but an event and the handlers of what it reports, and nothing else to look at.
pub(crate) struct Attention;

impl Attention {
    /// Something may be pending: timers, an exit, or (on epoll) fds kept aside as always
    /// ready. Set by whatever queues one; cleared only by the loop, when it finds none.
    pub(crate) const WORK: u32 = 1;
    /// This dispatch bounds its waits or may end a round by itself (options decided once).
    pub(crate) const DISPATCH: u32 = 2;
    /// A write handler may be held aside (`stage.rs`): the round commits it before its wait.
    pub(crate) const HELD: u32 = 4;
}

/// IOLib's `event-base`: fd handlers, timers and signal handlers on one backend (its row in
/// [the porting table][porting]).
///
/// Make one with [`new`](Self::new), [`with_backend`](Self::with_backend) or
/// [`builder`](Self::builder); register handlers and timers; run them with
/// [`event_dispatch`](Self::event_dispatch). The [crate docs](crate) have a fuller example.
///
/// ```
/// use iomux::{DispatchOptions, DispatchOutcome, EventBase, Timer};
/// use std::time::Duration;
///
/// let mut base = EventBase::new()?;
/// base.add_timer(Timer::once(Duration::from_millis(1)), |_base| Ok(()));
/// let outcome = base.event_dispatch(DispatchOptions::default().exit_when_empty(true))?;
/// assert_eq!(outcome, DispatchOutcome::Empty); // the timer fired, nothing is left
/// # Ok::<(), iomux::Error>(())
/// ```
///
/// [porting]: https://github.com/iolib-rs/iolib-rs/blob/main/docs/PORTING.md#the-event-base
pub struct EventBase {
    pub(crate) selector: Selector,
    pub(crate) fds: Vec<Option<FdEntry>>,
    /// The changelist: fds whose kernel interest may differ from their handlers', to bring
    /// in step before the next wait; the latest is `last_change`, the rest are here.
    pub(crate) changes: Vec<RawFd>,
    pub(crate) heap: TimerHeap,
    pub(crate) timers: Vec<TimerSlot>,
    pub(crate) free_timers: Vec<u32>,
    pub(crate) live_timers: usize,
    pub(crate) timeout_handlers: usize,
    /// Handlers in the slots of the user's fds (with the one held aside: `handler_count`).
    pub(crate) user_slots: usize,
    pub(crate) signals: Option<SignalPipe>,
    pub(crate) waker: Option<Arc<WakerShared>>,
    pub(crate) next_id: u64,
    pub(crate) round: u64,
    pub(crate) dispatch_gen: u64,
    pub(crate) exit_requested: bool,
    /// Whether a round must look beyond its wait and handlers, and the change queued last:
    /// one word the loop tests (see [`Gate`]).
    pub(crate) gate: Gate,
    /// A write handler added to an fd whose read handler the loop called this round, held
    /// aside until the next wait or anything else touches the fd table (`stage.rs`).
    pub(crate) stage: Stage,
    pub(crate) exit_when_empty: bool,
    pub(crate) dispatching: bool,
    pub(crate) failure_policy: Option<FailurePolicy>,
}

impl fmt::Debug for EventBase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventBase")
            .field("backend", &self.selector.backend())
            .field("handlers", &self.handler_count())
            .field("timers", &self.live_timers)
            .field("exit_when_empty", &self.exit_when_empty)
            .finish()
    }
}

/// Builder for [`EventBase`] (IOLib's `make-instance 'event-base` initargs; see
/// [the porting table][porting]).
///
/// ```
/// use iomux::{Backend, EventBase};
///
/// let base = EventBase::builder()
///     .exit_when_empty(true)
///     .backend(Backend::best())
///     .build()?;
/// assert_eq!(base.backend(), Backend::best());
/// # Ok::<(), iomux::Error>(())
/// ```
///
/// [porting]: https://github.com/iolib-rs/iolib-rs/blob/main/docs/PORTING.md#the-event-base
#[derive(Debug, Clone, Copy, Default)]
pub struct EventBaseBuilder {
    exit_when_empty: bool,
    backend: Option<Backend>,
}

impl EventBaseBuilder {
    /// Return from `event_dispatch` when no handlers and no timers remain (IOLib's
    /// `:exit-when-empty`); a dispatch's
    /// [`DispatchOptions::exit_when_empty`](crate::DispatchOptions::exit_when_empty)
    /// overrides it.
    pub fn exit_when_empty(mut self, on: bool) -> Self {
        self.exit_when_empty = on;
        self
    }
    /// Use this backend (otherwise `IOMUX_BACKEND`, then the best compiled one). An explicit
    /// backend ignores `IOMUX_BACKEND`.
    pub fn backend(mut self, b: Backend) -> Self {
        self.backend = Some(b);
        self
    }
    /// Creates the event base.
    ///
    /// # Errors
    /// - [`Error::BackendUnavailable`](crate::Error::BackendUnavailable): the backend asked
    ///   for (by [`backend`](Self::backend) or by `IOMUX_BACKEND`, then with
    ///   `env_var: Some("IOMUX_BACKEND")`) was not compiled in.
    /// - [`Error::UnknownBackend`](crate::Error::UnknownBackend): `IOMUX_BACKEND` names no
    ///   backend.
    /// - [`Error::Sys`](crate::Error::Sys) with `call: "multiplexer setup"`: the backend's
    ///   kernel object (the epoll or kqueue fd) could not be made, e.g. `EMFILE`.
    pub fn build(self) -> Result<EventBase> {
        let backend = match self.backend {
            Some(b) => b,
            None => Backend::from_env()?.unwrap_or_else(Backend::best),
        };
        let mut base = EventBase::create(backend)?;
        base.exit_when_empty = self.exit_when_empty;
        Ok(base)
    }
}

impl EventBase {
    /// An event base on the best compiled backend, or the one `IOMUX_BACKEND` names.
    ///
    /// ```
    /// use iomux::EventBase;
    ///
    /// let base = EventBase::new()?;
    /// assert!(base.is_empty());
    /// println!("iomux backend: {}", base.backend());
    /// # Ok::<(), iomux::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`EventBaseBuilder::build`]: [`Error::UnknownBackend`](crate::Error::UnknownBackend)
    /// or [`Error::BackendUnavailable`](crate::Error::BackendUnavailable) for a bad
    /// `IOMUX_BACKEND` (the message starts with `IOMUX_BACKEND=value:`), and
    /// [`Error::Sys`](crate::Error::Sys) when the backend cannot be set up.
    pub fn new() -> Result<EventBase> {
        EventBase::builder().build()
    }

    /// An event base on `backend`, whatever `IOMUX_BACKEND` says.
    ///
    /// ```
    /// use iomux::{Backend, EventBase};
    ///
    /// for &backend in Backend::available() {
    ///     assert_eq!(EventBase::with_backend(backend)?.backend(), backend);
    /// }
    /// # Ok::<(), iomux::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::BackendUnavailable`](crate::Error::BackendUnavailable) (with `env_var: None`)
    /// if it was not compiled in; [`Error::Sys`](crate::Error::Sys) when the backend cannot
    /// be set up.
    pub fn with_backend(backend: Backend) -> Result<EventBase> {
        EventBase::builder().backend(backend).build()
    }

    /// A builder, for the options of IOLib's `make-instance 'event-base`: see
    /// [`EventBaseBuilder`].
    pub fn builder() -> EventBaseBuilder {
        EventBaseBuilder::default()
    }

    fn create(backend: Backend) -> Result<EventBase> {
        Ok(EventBase {
            selector: Selector::new(backend)?,
            fds: Vec::new(),
            changes: Vec::with_capacity(64),
            heap: TimerHeap::default(),
            timers: Vec::new(),
            free_timers: Vec::new(),
            live_timers: 0,
            timeout_handlers: 0,
            user_slots: 0,
            signals: None,
            waker: None,
            next_id: 1,
            round: 0,
            dispatch_gen: 0,
            exit_requested: false,
            gate: Gate {
                attention: Attention::WORK,
                last_change: NO_CHANGE,
            },
            stage: Stage::default(),
            exit_when_empty: false,
            dispatching: false,
            failure_policy: None,
        })
    }

    /// The backend in use.
    ///
    /// ```
    /// use iomux::{Backend, EventBase};
    ///
    /// let base = EventBase::with_backend(Backend::best())?;
    /// assert_eq!(base.backend(), Backend::best());
    /// # Ok::<(), iomux::Error>(())
    /// ```
    pub fn backend(&self) -> Backend {
        self.selector.backend()
    }

    /// How many waits (rounds) the loop has made so far: a diagnostic for tests and
    /// benchmarks (a loop that spins shows up here).
    ///
    /// ```
    /// use iomux::{DispatchOptions, EventBase};
    /// use std::time::Duration;
    ///
    /// let mut base = EventBase::new()?;
    /// base.event_dispatch(DispatchOptions::default().one_shot(true).timeout(Duration::ZERO))?;
    /// assert_eq!(base.rounds(), 1);
    /// # Ok::<(), iomux::Error>(())
    /// ```
    pub fn rounds(&self) -> u64 {
        self.round
    }

    /// Whether `event_dispatch` returns when the base has no work (see
    /// [`has_no_work`](Self::has_no_work)); a dispatch's
    /// [`DispatchOptions::exit_when_empty`](crate::DispatchOptions::exit_when_empty)
    /// overrides it.
    ///
    /// ```
    /// use iomux::{DispatchOptions, DispatchOutcome, EventBase};
    ///
    /// let mut base = EventBase::new()?;
    /// base.set_exit_when_empty(true);
    /// assert_eq!(base.event_dispatch(DispatchOptions::default())?, DispatchOutcome::Empty);
    /// # Ok::<(), iomux::Error>(())
    /// ```
    pub fn set_exit_when_empty(&mut self, on: bool) {
        self.exit_when_empty = on;
    }

    /// Whether no handlers, timers or signal handlers remain (IOLib's `event-base-empty-p`;
    /// see [the porting table][porting]).
    ///
    /// ```
    /// use iomux::{EventBase, Signal, Timer};
    /// use std::time::Duration;
    ///
    /// let mut base = EventBase::new()?;
    /// assert!(base.is_empty() && base.has_no_work());
    /// let id = base.add_timer(Timer::once(Duration::from_secs(60)), |_| Ok(()));
    /// assert!(!base.is_empty() && !base.has_no_work());
    /// base.remove_timer(id);
    /// base.add_signal_handler(Signal::SIGUSR2, |_, _| Ok(()))?;
    /// assert!(!base.is_empty() && base.has_no_work()); // a signal handler is no work
    /// # Ok::<(), iomux::Error>(())
    /// ```
    ///
    /// [porting]: https://github.com/iolib-rs/iolib-rs/blob/main/docs/PORTING.md#the-event-base
    pub fn is_empty(&self) -> bool {
        self.handler_count() == 0
            && self.live_timers == 0
            && self
                .signals
                .as_ref()
                .map_or(true, |p| p.handlers.is_empty())
    }

    /// Whether no fd handlers and no timers remain: what `exit_when_empty` waits for. Signal
    /// handlers do not count (a server's SIGINT handler must not keep an otherwise finished
    /// loop running). See [`is_empty`](Self::is_empty) for an example.
    pub fn has_no_work(&self) -> bool {
        self.handler_count() == 0 && self.live_timers == 0
    }

    /// Releases the backend's fd and every handler (IOLib's `close` on an event base);
    /// the same as dropping it. Handlers and states that own fds close them; the signals
    /// it handled get their default disposition back.
    pub fn close(self) {
        drop(self);
    }
}
