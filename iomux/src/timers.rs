//! Timers (IOLib's `timers`): [`EventBase::add_timer`] and [`EventBase::remove_timer`], the
//! firing of due timers, handler inactivity timeouts and delayed exits after each wait, and
//! the heap they share.
//!
//! The heap is one binary min-heap ordered by (deadline, sequence). Entries are deleted
//! lazily: the event base checks each popped entry against its live state and drops stale ones.

use crate::event_base::Attention;
use crate::{Error, Event, EventBase, Exception, HandlerResult, Result};
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::os::fd::RawFd;
use std::time::{Duration, Instant};

type TimerFn = Box<dyn FnMut(&mut EventBase) -> HandlerResult>;

/// A timer's handle, for [`EventBase::remove_timer`]: what [`EventBase::add_timer`] returns
/// (IOLib's timer object). A handle outlives its timer harmlessly: removing a timer that fired
/// or was removed returns `false`, even when its slot is reused.
///
/// ```
/// use iomux::{EventBase, Timer};
/// use std::time::Duration;
///
/// let mut base = EventBase::new()?;
/// let a = base.add_timer(Timer::once(Duration::from_secs(60)), |_| Ok(()));
/// let b = base.add_timer(Timer::once(Duration::from_secs(60)), |_| Ok(()));
/// assert_ne!(a, b);
/// # Ok::<(), iomux::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimerId {
    index: u32,
    gen: u32,
}

struct UserTimer {
    callback: Option<TimerFn>,
    interval: Option<Duration>,
    deadline: Instant,
}

/// When a timer fires: once, or at an interval (IOLib's `add-timer` with and without
/// `:one-shot t`; see [the porting table][porting]).
///
/// ```
/// use iomux::{DispatchOptions, EventBase, Timer};
/// use std::time::Duration;
///
/// let mut base = EventBase::new()?;
/// let mut ticks = 0;
/// base.add_timer(Timer::every(Duration::from_millis(1)), move |base| {
///     ticks += 1;
///     if ticks == 3 {
///         base.exit_event_loop(Duration::ZERO);
///     }
///     Ok(())
/// });
/// base.event_dispatch(DispatchOptions::default().timeout(Duration::from_secs(10)))?;
/// # Ok::<(), iomux::Error>(())
/// ```
///
/// [porting]: https://github.com/iolib-rs/iolib-rs/blob/main/docs/PORTING.md#the-event-base
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timer {
    after: Duration,
    repeat: bool,
}

impl Timer {
    /// Fires once, `after` from now (IOLib's `:one-shot t`). [`Timer`] has an example.
    pub fn once(after: Duration) -> Timer {
        Timer {
            after,
            repeat: false,
        }
    }

    /// Fires every `interval`, the first time `interval` from now (IOLib's default), until
    /// [removed](EventBase::remove_timer). [`Timer`] has an example.
    pub fn every(interval: Duration) -> Timer {
        Timer {
            after: interval,
            repeat: true,
        }
    }
}

#[derive(Default)]
pub(crate) struct TimerSlot {
    gen: u32,
    timer: Option<UserTimer>,
}

impl EventBase {
    /// Adds a timer (IOLib's `add-timer`): `f` runs once after [`Timer::once`]'s delay
    /// (IOLib's `:one-shot t`), or every [`Timer::every`]'s interval. A timer may remove itself
    /// with [`remove_timer`](Self::remove_timer). See [the porting table][porting].
    ///
    /// The timer first fires in the first round of [`event_dispatch`](Self::event_dispatch)
    /// after its delay; an error it returns ends the dispatch with
    /// [`Error::Handler`](crate::Error::Handler) (`fd: None`), whatever the failure policy.
    ///
    /// ```
    /// use iomux::{DispatchOptions, EventBase, Timer};
    /// use std::time::Duration;
    /// let mut base = EventBase::new()?;
    /// base.add_timer(Timer::once(Duration::from_millis(5)), |base| {
    ///     base.exit_event_loop(Duration::ZERO);
    ///     Ok(())
    /// });
    /// base.event_dispatch(DispatchOptions::default())?;
    /// # Ok::<(), iomux::Error>(())
    /// ```
    ///
    /// [porting]: https://github.com/iolib-rs/iolib-rs/blob/main/docs/PORTING.md#the-event-base
    pub fn add_timer<F>(&mut self, timer: Timer, f: F) -> TimerId
    where
        F: FnMut(&mut EventBase) -> HandlerResult + 'static,
    {
        let (after, one_shot) = (timer.after, !timer.repeat);
        let deadline = Instant::now() + after;
        let index = match self.free_timers.pop() {
            Some(i) => i,
            None => {
                self.timers.push(TimerSlot::default());
                (self.timers.len() - 1) as u32
            }
        };
        let slot = &mut self.timers[index as usize];
        slot.timer = Some(UserTimer {
            callback: Some(Box::new(f)),
            interval: (!one_shot).then_some(after),
            deadline,
        });
        let id = TimerId {
            index,
            gen: slot.gen,
        };
        self.live_timers += 1;
        self.queue_timer(deadline, TimerKey::User { index, gen: id.gen });
        id
    }

    /// Removes a timer (IOLib's `remove-timer`); `false` if it already fired (one-shot) or was
    /// removed. A timer may remove itself.
    ///
    /// ```
    /// use iomux::{EventBase, Timer};
    /// use std::time::Duration;
    ///
    /// let mut base = EventBase::new()?;
    /// let id = base.add_timer(Timer::every(Duration::from_secs(1)), |_| Ok(()));
    /// assert!(base.remove_timer(id));
    /// assert!(!base.remove_timer(id)); // removed already
    /// assert!(base.is_empty());
    /// # Ok::<(), iomux::Error>(())
    /// ```
    pub fn remove_timer(&mut self, id: TimerId) -> bool {
        match self.timers.get_mut(id.index as usize) {
            Some(slot) if slot.gen == id.gen && slot.timer.is_some() => {
                self.free_timer(id.index);
                self.maybe_compact_heap();
                true
            }
            _ => false,
        }
    }

    fn free_timer(&mut self, index: u32) {
        let slot = &mut self.timers[index as usize];
        slot.timer = None;
        slot.gen = slot.gen.wrapping_add(1);
        self.free_timers.push(index);
        self.live_timers -= 1;
    }

    /// Drops dead heap entries when they far outnumber live ones (many removed timers).
    fn maybe_compact_heap(&mut self) {
        let live = self.live_timers + self.timeout_handlers + 1;
        if self.heap.len() < 1024 || self.heap.len() < live * 4 {
            return;
        }
        let timers = &self.timers;
        let fds = &self.fds;
        let dispatch_gen = self.dispatch_gen;
        self.heap.retain(|e| match e.key {
            TimerKey::User { index, gen } => timers.get(index as usize).is_some_and(|s| {
                s.gen == gen && s.timer.as_ref().is_some_and(|t| t.deadline == e.deadline)
            }),
            TimerKey::Exit { gen } => gen == dispatch_gen,
            // Only while the handler it times is still there.
            TimerKey::HandlerTimeout { fd, event, id } => fds
                .get(fd as usize)
                .and_then(Option::as_ref)
                .is_some_and(|entry| {
                    entry.slot(event).is_some() && entry.timing[event as usize].id == id
                }),
        });
    }

    pub(crate) fn run_timers(&mut self) -> Result<()> {
        self.settle();
        if self.heap.peek_deadline().is_none() {
            return Ok(()); // the common case on a busy server: no clock read at all
        }
        let now = Instant::now();
        let limit = self.heap.next_seq();
        while let Some(entry) = self.heap.pop_due(now, limit) {
            match entry.key {
                TimerKey::Exit { gen } => {
                    if gen == self.dispatch_gen {
                        self.exit_requested = true;
                        self.gate.attention |= Attention::WORK;
                    }
                }
                TimerKey::User { index, gen } => {
                    let Some(slot) = self.timers.get_mut(index as usize) else {
                        continue;
                    };
                    let Some(timer) = slot
                        .timer
                        .as_mut()
                        .filter(|t| slot.gen == gen && t.deadline == entry.deadline)
                    else {
                        continue;
                    };
                    let Some(mut cb) = timer.callback.take() else {
                        continue;
                    };
                    match timer.interval {
                        Some(iv) => {
                            // Catch up without bursts: never schedule in the past.
                            timer.deadline = (entry.deadline + iv).max(now);
                            let d = timer.deadline;
                            self.heap.push(d, TimerKey::User { index, gen });
                        }
                        None => self.free_timer(index),
                    }
                    let r = cb(self);
                    if let Some(t) = self
                        .timers
                        .get_mut(index as usize)
                        .filter(|s| s.gen == gen)
                        .and_then(|s| s.timer.as_mut())
                    {
                        t.callback.get_or_insert(cb);
                    }
                    r.map_err(|source| Error::Handler {
                        fd: None,
                        event: None,
                        source,
                    })?;
                }
                TimerKey::HandlerTimeout { fd, event, id } => {
                    let Some(e) = self.entry(fd) else {
                        continue;
                    };
                    let one_shot = e.one_shot[event as usize];
                    let Some(timing) = e.timed(event, id) else {
                        continue;
                    };
                    let Some(d) = timing.deadline else {
                        continue;
                    };
                    if d > now {
                        // Activity moved the deadline: look again then.
                        self.heap.push(d, entry.key);
                        continue;
                    }
                    let timeout = timing.timeout.unwrap_or_default();
                    // The handler sees Timeout; its timer restarts (call_io resets it).
                    let r = self.call_timeout(fd, event, id);
                    if !one_shot {
                        if let Some(timing) = self.entry(fd).and_then(|e| e.timed(event, id)) {
                            let d = timing.deadline.unwrap_or(now + timeout);
                            self.heap.push(d, entry.key);
                        }
                    }
                    r?;
                }
            }
        }
        self.maybe_compact_heap();
        Ok(())
    }

    fn call_timeout(&mut self, fd: RawFd, event: Event, id: u64) -> Result<()> {
        // Timeouts fire even for handlers added this round: their clock started at add time.
        if let Some(timing) = self.entry(fd).and_then(|e| e.timed(event, id)) {
            timing.added_round = 0;
        }
        self.call_io(fd, event, Some(Exception::Timeout))
    }
}

/// What a heap entry fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimerKey {
    /// A user timer: slab index and generation.
    User { index: u32, gen: u32 },
    /// The inactivity timeout of the handler with `id` on `fd`/`event`.
    HandlerTimeout { fd: RawFd, event: Event, id: u64 },
    /// `exit_event_loop(delay)`, for the dispatch generation `gen`.
    Exit { gen: u64 },
}

#[derive(Debug)]
pub(crate) struct Entry {
    pub deadline: Instant,
    pub seq: u64,
    pub key: TimerKey,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.deadline == other.deadline && self.seq == other.seq
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    /// Reversed, so the std max-heap pops the earliest deadline (then the oldest entry).
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .deadline
            .cmp(&self.deadline)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

#[derive(Debug, Default)]
pub(crate) struct TimerHeap {
    heap: BinaryHeap<Entry>,
    seq: u64,
}

impl TimerHeap {
    pub fn push(&mut self, deadline: Instant, key: TimerKey) {
        self.seq += 1;
        self.heap.push(Entry {
            deadline,
            seq: self.seq,
            key,
        });
    }

    /// The sequence number the next push will get: entries at or above it were pushed after
    /// this call.
    pub fn next_seq(&self) -> u64 {
        self.seq + 1
    }

    pub fn peek_deadline(&self) -> Option<Instant> {
        self.heap.peek().map(|e| e.deadline)
    }

    /// Pops the earliest entry if it is due at `now` and older than `seq_limit`.
    pub fn pop_due(&mut self, now: Instant, seq_limit: u64) -> Option<Entry> {
        match self.heap.peek() {
            Some(e) if e.deadline <= now && e.seq < seq_limit => self.heap.pop(),
            _ => None,
        }
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    pub fn retain(&mut self, f: impl FnMut(&Entry) -> bool) {
        self.heap.retain(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn pops_in_deadline_then_insertion_order() {
        let mut h = TimerHeap::default();
        let t0 = Instant::now();
        let k = |i| TimerKey::User { index: i, gen: 0 };
        h.push(t0 + Duration::from_millis(30), k(3));
        h.push(t0 + Duration::from_millis(10), k(1));
        h.push(t0 + Duration::from_millis(10), k(2));
        h.push(t0 + Duration::from_millis(20), k(4));
        let limit = h.next_seq();
        let later = t0 + Duration::from_millis(25);
        let got: Vec<_> = std::iter::from_fn(|| h.pop_due(later, limit).map(|e| e.key)).collect();
        assert_eq!(got, vec![k(1), k(2), k(4)]);
        assert_eq!(h.len(), 1);
        // Entries pushed after the limit was taken wait for the next pass.
        h.push(t0, k(9));
        assert!(h.pop_due(later, limit).is_none());
    }
}
