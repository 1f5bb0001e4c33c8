//! The write handler a handler adds to an fd whose read handler the loop has called this
//! round, held aside by the base ([`Stage`]) when it is a function (it owns nothing, so it
//! can be left in the stage when taken back). The tutorial's servers add one after each
//! read and remove it after writing, within the read handler's call: held, the pair never
//! touches the fd's entry, its kernel interest or the changelist. Everything else that reads
//! or changes the fd table puts a held handler in its slot first (`settle`): every other
//! method of the base, the loop's paths off its fast one, and the loop itself before a wait.
//!
//! What makes holding safe is one invariant: while the stage is open for an fd, that fd's
//! entry is the user's, reported by the backend, registered with the kernel, and has no write
//! handler, just as `install`'s fast path wants it. `call_io` opens the stage for an fd only
//! after checking so, right before calling its read handler with no exception. The stage
//! stays open after the call, for the rest of the round and through the waits of quiet rounds:
//! nothing touches the fd's entry meanwhile but `settle` (which closes the stage first),
//! `call_io`'s lending of a handler and the state (which leaves the write slot and the
//! registration alone), the held handler's own removal (which restores the entry's state) and
//! `install` (which holds). So every path of the loop that may change an entry otherwise
//! settles first: `dispatch_other` (first reports, purges, errors; `deliver_error`'s calls
//! carry an exception, so they open no stage), `call_io_general`, `put_back`, `run_timers`,
//! and a round that is not quiet (before its changes, refusals and pruning), as one with a
//! handler held is not (`Attention::HELD`).

use crate::event_base::Attention;
use crate::fd_entry::{FdEntry, Handler, NewHandler, Verified};
use crate::{Event, EventBase};
use std::os::fd::RawFd;

/// An fd as the stage keeps it: its 32 bits, zero-extended, so that no `RawFd` (-1
/// included) is ever [`NO_FD`].
#[inline(always)]
pub(crate) fn key(fd: RawFd) -> u64 {
    u64::from(fd as u32)
}

/// `StageFds::open` or `StageFds::held` when no fd is staged: the key of no `RawFd`.
pub(crate) const NO_FD: u64 = u64::MAX;

/// The two fds of the stage, as [`key`]s.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct StageFds {
    /// The fd a write handler added now could be held for (see the invariant above), or
    /// `NO_FD`.
    pub(crate) open: u64,
    /// The fd whose write handler [`Stage::held`] is, or `NO_FD`.
    pub(crate) held: u64,
}

impl StageFds {
    /// Nothing staged.
    pub(crate) const IDLE: StageFds = StageFds {
        open: NO_FD,
        held: NO_FD,
    };
}

/// The fd a write handler could be held for, and the one held.
pub(crate) struct Stage {
    pub(crate) fds: StageFds,
    /// The write handler added to `fds.held`, not yet in its slot (nor its interest in the
    /// changelist, nor counted in `user_slots`: see `EventBase::handler_count`). Meaningful
    /// only while `fds.held` names an fd: one taken back is left here (a function, it owns
    /// nothing), and the next one held replaces it.
    held: Option<Handler>,
    /// Whether `held` is lent the fd's state.
    held_stateful: bool,
}

impl Default for Stage {
    fn default() -> Stage {
        Stage {
            fds: StageFds::IDLE,
            held: None,
            held_stateful: false,
        }
    }
}

impl EventBase {
    /// Whether the stage may open for the fd whose entry is `entry`, the loop about to call
    /// its read handler: the entry is the user's and reported (`Verified::Yes`), and has no
    /// write handler. It is registered with the kernel too, as every entry with a handler is
    /// but within `install_slow` (which registers the first handler or takes it back).
    #[inline(always)]
    pub(crate) fn stageable(entry: &FdEntry) -> bool {
        debug_assert!(entry.read.is_none() || entry.registered.is_some());
        entry.verified == Verified::Yes && entry.write.is_none()
    }

    /// Takes the write handler `install` was given for `fd` if dropping it does nothing (a
    /// function, as the tutorial's servers pass: see `NewHandler::drop_free`), the stage is
    /// open for `fd` and holds none; otherwise gives it back, with the stage settled. (A
    /// closure that owns something takes `install`'s own fast path: its removal drops it.)
    #[inline(always)]
    pub(crate) fn hold(
        &mut self,
        fd: RawFd,
        stateful: bool,
        handler: NewHandler,
    ) -> Option<NewHandler> {
        // Known where this is inlined, from the handler's type.
        if !handler.drop_free {
            self.settle();
            return Some(handler);
        }
        // Two tests, each on its own: the compiler would otherwise merge them into one
        // with more instructions.
        if self.stage.fds.open != key(fd) {
            self.settle();
            return Some(handler);
        }
        if self.stage.fds.held != NO_FD {
            self.settle();
            return Some(handler);
        }
        // The stage stays open: a second write handler for the fd finds one held and goes
        // the general way (which settles, then finds the slot taken).
        self.stage.fds.held = key(fd);
        // Replaces `None` or a function taken back: nothing to drop.
        std::mem::forget(self.stage.held.replace(handler.handler));
        self.stage.held_stateful = stateful;
        self.gate.attention |= Attention::HELD;
        None
    }

    /// Removes the write handler held for `fd`, if one is: as if it had reached its slot and
    /// left it again, which leaves the entry as it was and the stage open.
    #[inline(always)]
    pub(crate) fn unhold(&mut self, fd: RawFd) -> bool {
        if self.stage.fds.held != key(fd) {
            return false;
        }
        // The function stays in `Stage::held` until the next one replaces it: it owns
        // nothing and allocated nothing.
        self.stage.fds.held = NO_FD;
        self.gate.attention &= !Attention::HELD;
        true
    }

    /// The user's handlers: those in their slots, and the one held, if any.
    #[inline]
    pub(crate) fn handler_count(&self) -> usize {
        self.user_slots + usize::from(self.stage.fds.held != NO_FD)
    }

    /// Whether a write handler is held for `fd` (for the methods that take `&self` and so
    /// cannot settle the stage).
    #[inline]
    pub(crate) fn holds(&self, fd: RawFd, event: Event) -> bool {
        event == Event::Write && self.stage.fds.held == key(fd)
    }

    /// Puts a held handler in its slot and closes the stage. Every method of the base that
    /// reads or changes the fd table calls this first (but for the held handler's own
    /// `install` and removal), as do the loop's paths off its fast one (see the invariant
    /// above).
    #[inline(always)]
    pub(crate) fn settle(&mut self) {
        if self.stage.fds != StageFds::IDLE {
            self.settle_slow();
        }
    }

    #[cold]
    #[inline(never)]
    fn settle_slow(&mut self) {
        self.stage.fds.open = NO_FD;
        if self.stage.fds.held != NO_FD {
            self.commit_held();
        }
    }

    /// Puts the held write handler in its slot, as `install` would have when it was added:
    /// the entry is as it was then (the invariant above), and the round the same (a round
    /// that is not quiet, as one with a held handler is not, settles before its wait).
    fn commit_held(&mut self) {
        let fd = std::mem::replace(&mut self.stage.fds.held, NO_FD) as u32 as RawFd;
        self.gate.attention &= !Attention::HELD;
        let Some(handler) = self.stage.held.take() else {
            return;
        };
        let handler = NewHandler {
            handler,
            drop_free: true,
        };
        let stateful = self.stage.held_stateful;
        if let Some(handler) = self.install_known(fd, Event::Write, stateful, handler) {
            // Not reached (see above); the general way still gets it right.
            debug_assert!(
                false,
                "held write handler of fd {fd} found its entry changed"
            );
            let _ = self.install_slow(fd, Event::Write, None, false, stateful, handler);
        }
    }
}
