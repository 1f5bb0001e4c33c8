//! IOLib's `event-base`: the [`EventBase`] struct, its builder and constructors, and what it
//! says about itself (backend, rounds, emptiness). Handlers, timers, signals and the loop
//! itself add `impl EventBase` blocks in their own files; dropping the base gives back its
//! signal notifiers (in `signals.rs`).

use crate::failure::FailurePolicy;
use crate::fd_entry::FdEntry;
use crate::multiplexer::Selector;
use crate::signals::SignalPipe;
use crate::timers::{TimerHeap, TimerSlot};
use crate::waker::Shared as WakerShared;
use crate::{Backend, Result};
use std::fmt;
use std::os::fd::RawFd;
use std::sync::Arc;

/// IOLib's `event-base`: fd handlers, timers and signal handlers on one backend.
pub struct EventBase {
    pub(crate) selector: Selector,
    pub(crate) fds: Vec<Option<FdEntry>>,
    pub(crate) changes: Vec<RawFd>,
    pub(crate) heap: TimerHeap,
    pub(crate) timers: Vec<TimerSlot>,
    pub(crate) free_timers: Vec<u32>,
    pub(crate) live_timers: usize,
    pub(crate) timeout_handlers: usize,
    pub(crate) user_slots: usize,
    pub(crate) signals: Option<SignalPipe>,
    pub(crate) waker: Option<Arc<WakerShared>>,
    pub(crate) next_id: u64,
    pub(crate) round: u64,
    pub(crate) dispatch_gen: u64,
    pub(crate) exit_requested: bool,
    pub(crate) exit_when_empty: bool,
    pub(crate) dispatching: bool,
    pub(crate) failure_policy: Option<FailurePolicy>,
}

impl fmt::Debug for EventBase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventBase")
            .field("backend", &self.selector.backend())
            .field("handlers", &self.user_slots)
            .field("timers", &self.live_timers)
            .field("exit_when_empty", &self.exit_when_empty)
            .finish()
    }
}

/// Builder for [`EventBase`] (IOLib's `make-instance 'event-base` initargs).
#[derive(Debug, Clone, Copy, Default)]
pub struct EventBaseBuilder {
    exit_when_empty: bool,
    backend: Option<Backend>,
}

impl EventBaseBuilder {
    /// Return from `event_dispatch` when no handlers and no timers remain.
    pub fn exit_when_empty(mut self, on: bool) -> Self {
        self.exit_when_empty = on;
        self
    }
    /// Use this backend (otherwise `IOMUX_BACKEND`, then the best compiled one).
    pub fn backend(mut self, b: Backend) -> Self {
        self.backend = Some(b);
        self
    }
    /// Creates the event base.
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
    pub fn new() -> Result<EventBase> {
        EventBase::builder().build()
    }

    /// An event base on `backend`.
    ///
    /// # Errors
    /// [`Error::BackendUnavailable`](crate::Error::BackendUnavailable) if it was not
    /// compiled in.
    pub fn with_backend(backend: Backend) -> Result<EventBase> {
        EventBase::builder().backend(backend).build()
    }

    /// A builder.
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
            exit_when_empty: false,
            dispatching: false,
            failure_policy: None,
        })
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.selector.backend()
    }

    /// How many waits (rounds) the loop has made so far: a diagnostic for tests and
    /// benchmarks (a loop that spins shows up here).
    pub fn rounds(&self) -> u64 {
        self.round
    }

    /// Whether `event_dispatch` returns when the base is empty.
    pub fn set_exit_when_empty(&mut self, on: bool) {
        self.exit_when_empty = on;
    }

    /// Whether no handlers, timers or signal handlers remain (IOLib's `event-base-empty-p`).
    pub fn is_empty(&self) -> bool {
        self.user_slots == 0
            && self.live_timers == 0
            && self
                .signals
                .as_ref()
                .map_or(true, |p| p.handlers.is_empty())
    }

    /// Whether no fd handlers and no timers remain: what `exit_when_empty` waits for. Signal
    /// handlers do not count (a server's SIGINT handler must not keep an otherwise finished
    /// loop running).
    pub fn has_no_work(&self) -> bool {
        self.user_slots == 0 && self.live_timers == 0
    }

    /// Releases the backend's fd and every handler (IOLib's `close` on an event base);
    /// the same as dropping it.
    pub fn close(self) {
        drop(self);
    }
}
