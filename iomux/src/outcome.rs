//! Why [`EventBase::event_dispatch`](crate::EventBase::event_dispatch) returned:
//! [`DispatchOutcome`].

/// Why [`EventBase::event_dispatch`](crate::EventBase::event_dispatch) returned `Ok` (a
/// handler's error, the other way it ends, is its `Err`).
///
/// ```
/// use iomux::{DispatchOptions, DispatchOutcome, EventBase};
/// use std::time::Duration;
///
/// let mut base = EventBase::new()?;
/// match base.event_dispatch(DispatchOptions::default().timeout(Duration::from_millis(1)))? {
///     DispatchOutcome::Timeout => {} // nothing happened for 1 ms
///     other => panic!("unexpected {other:?}"),
/// }
/// # Ok::<(), iomux::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DispatchOutcome {
    /// [`exit_event_loop`](crate::EventBase::exit_event_loop) was called (by a handler, a
    /// timer, or before the dispatch), its delay passed, or a [`Waker`](crate::Waker) was
    /// told to [`stop`](crate::Waker::stop).
    ExitRequested,
    /// The dispatch options' `timeout` passed.
    Timeout,
    /// The dispatch options asked for `one_shot` and the round is done.
    OneShot,
    /// `exit_when_empty` is on and no fd handlers and no timers remain.
    Empty,
}
