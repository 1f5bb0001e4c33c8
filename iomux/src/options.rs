//! Keyword options: [`IoOptions`] for a handler, [`DispatchOptions`] for a run of the loop.

use std::time::Duration;

/// Options of [`EventBase::set_io_handler_with`](crate::EventBase::set_io_handler_with)
/// (IOLib's `:timeout` and `:one-shot`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IoOptions {
    /// Call the handler with [`Exception::Timeout`](crate::Exception::Timeout) after this
    /// much inactivity; the timer restarts on each event and the handler stays registered.
    pub timeout: Option<Duration>,
    /// Remove the handler after its first call.
    pub one_shot: bool,
}

impl IoOptions {
    /// Default options: no timeout, not one-shot.
    pub fn new() -> Self {
        IoOptions::default()
    }
    /// Sets the inactivity timeout.
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = Some(t);
        self
    }
    /// Makes the handler one-shot.
    pub fn one_shot(mut self, on: bool) -> Self {
        self.one_shot = on;
        self
    }
}

/// Options of [`EventBase::event_dispatch`](crate::EventBase::event_dispatch) (IOLib's
/// keywords).
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
    /// Sets `one_shot`.
    pub fn one_shot(mut self, on: bool) -> Self {
        self.one_shot = on;
        self
    }
    /// Sets `timeout`.
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = Some(t);
        self
    }
    /// Sets `min_step`.
    pub fn min_step(mut self, t: Duration) -> Self {
        self.min_step = Some(t);
        self
    }
    /// Sets `max_step`.
    pub fn max_step(mut self, t: Duration) -> Self {
        self.max_step = Some(t);
        self
    }
    /// Sets `exit_when_empty` for this dispatch.
    pub fn exit_when_empty(mut self, on: bool) -> Self {
        self.exit_when_empty = Some(on);
        self
    }
}
