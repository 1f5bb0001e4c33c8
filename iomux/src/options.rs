//! Keyword options: [`IoOptions`] for a handler, [`DispatchOptions`] for a run of the loop.

use std::time::Duration;

/// Options of [`EventBase::set_io_handler_with`](crate::EventBase::set_io_handler_with)
/// (IOLib's `:timeout` and `:one-shot`; see [the porting table][porting]).
///
/// ```
/// use iomux::IoOptions;
/// use std::time::Duration;
///
/// let opts = IoOptions::new().timeout(Duration::from_secs(30)).one_shot(true);
/// assert_eq!(opts.timeout, Some(Duration::from_secs(30)));
/// assert!(opts.one_shot);
/// ```
///
/// [porting]: https://github.com/iolib-rs/iolib-rs/blob/main/docs/PORTING.md#the-event-base
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IoOptions {
    /// Call the handler with [`Exception::Timeout`](crate::Exception::Timeout) after this
    /// much inactivity; the timer restarts on each event and the handler stays registered.
    pub timeout: Option<Duration>,
    /// Remove the handler after its first call.
    pub one_shot: bool,
}

impl IoOptions {
    /// Default options: no timeout, not one-shot. [`IoOptions`] has an example.
    pub fn new() -> Self {
        IoOptions::default()
    }
    /// Sets the inactivity timeout (IOLib's `:timeout`): the handler is called with
    /// [`Exception::Timeout`](crate::Exception::Timeout) when its fd has not been ready for
    /// `t`. [`EventBase::set_io_handler_with`](crate::EventBase::set_io_handler_with) has an
    /// example.
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = Some(t);
        self
    }
    /// Makes the handler one-shot (IOLib's `:one-shot`): it is removed as its first call begins.
    pub fn one_shot(mut self, on: bool) -> Self {
        self.one_shot = on;
        self
    }
}

/// Options of [`EventBase::event_dispatch`](crate::EventBase::event_dispatch) (IOLib's
/// `:one-shot`, `:timeout`, `:min-step` and `:max-step`; see [the porting table][porting]).
/// The default runs until [`exit_event_loop`](crate::EventBase::exit_event_loop), a
/// [`Waker`](crate::Waker)'s stop, or the base's own `exit_when_empty`.
///
/// ```
/// use iomux::{DispatchOptions, DispatchOutcome, EventBase};
/// use std::time::Duration;
///
/// let mut base = EventBase::new()?;
/// // One round that does not wait (IOLib's `:timeout 0`): runs what is ready now.
/// let opts = DispatchOptions::default().one_shot(true).timeout(Duration::ZERO);
/// assert_eq!(base.event_dispatch(opts)?, DispatchOutcome::OneShot);
/// // Nothing to do: return at once rather than wait forever.
/// let opts = DispatchOptions::default().exit_when_empty(true);
/// assert_eq!(base.event_dispatch(opts)?, DispatchOutcome::Empty);
/// # Ok::<(), iomux::Error>(())
/// ```
///
/// [porting]: https://github.com/iolib-rs/iolib-rs/blob/main/docs/PORTING.md#the-event-base
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DispatchOptions {
    /// Run one round (one wait plus its handlers and timers), then return.
    pub one_shot: bool,
    /// Return after this long in total.
    pub timeout: Option<Duration>,
    /// Each wait lasts at least this long (unless an event comes first).
    pub min_step: Option<Duration>,
    /// Each wait lasts at most this long.
    pub max_step: Option<Duration>,
    /// Return when no handlers and no timers remain (overrides the base's setting when set).
    pub exit_when_empty: Option<bool>,
}

impl DispatchOptions {
    /// Sets `one_shot` (IOLib's `:one-shot`): one round, then
    /// [`DispatchOutcome::OneShot`](crate::DispatchOutcome::OneShot).
    pub fn one_shot(mut self, on: bool) -> Self {
        self.one_shot = on;
        self
    }
    /// Sets `timeout` (IOLib's `:timeout`): return
    /// [`DispatchOutcome::Timeout`](crate::DispatchOutcome::Timeout) after `t` in total;
    /// `Duration::ZERO` is one round that does not wait.
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = Some(t);
        self
    }
    /// Sets `min_step` (IOLib's `:min-step`): a wait for a timer or the deadline lasts at
    /// least `t`, unless an event comes first.
    pub fn min_step(mut self, t: Duration) -> Self {
        self.min_step = Some(t);
        self
    }
    /// Sets `max_step` (IOLib's `:max-step`): no wait longer than `t`, so a round comes at
    /// least that often.
    pub fn max_step(mut self, t: Duration) -> Self {
        self.max_step = Some(t);
        self
    }
    /// Sets `exit_when_empty` for this dispatch: return
    /// [`DispatchOutcome::Empty`](crate::DispatchOutcome::Empty) when no fd handlers and no
    /// timers remain, the way to run a loop to completion without a timeout.
    pub fn exit_when_empty(mut self, on: bool) -> Self {
        self.exit_when_empty = Some(on);
        self
    }
}
