//! The timer heap: user timers, handler inactivity timeouts and delayed exits share one
//! binary min-heap ordered by (deadline, sequence). Entries are deleted lazily: the event base
//! checks each popped entry against its live state and drops stale ones.

use crate::Event;
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::os::fd::RawFd;
use std::time::Instant;

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
