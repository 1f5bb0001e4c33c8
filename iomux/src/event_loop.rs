//! The event loop (IOLib's `event-loop`): [`EventBase::event_dispatch`] waits on the backend,
//! then calls the handlers of each ready fd and the due timers, round after round.

use crate::event_base::Attention;
use crate::fd_entry::{Call, Handler, NoState, Verified};
use crate::fd_state::StateSlot;
use crate::stage;
use crate::sys::Ready;
use crate::timers::TimerKey;
use crate::{
    DispatchOptions, DispatchOutcome, Error, Event, EventBase, Exception, HandlerResult, Result,
};
use std::any::Any;
use std::os::fd::RawFd;
use std::time::{Duration, Instant};

/// Consecutive failed waits (other than EINTR) before `event_dispatch` gives up.
const MAX_WAIT_FAILURES: u32 = 1000;
/// The pause after a failed wait.
const WAIT_FAILURE_BACKOFF: Duration = Duration::from_millis(1);

/// What one dispatch was asked for, decided once.
struct Dispatch {
    opts: DispatchOptions,
    deadline: Option<Instant>,
    exit_when_empty: bool,
    /// Before blocking with no end in sight, drop the handlers of fds closed behind the
    /// base's back (on epoll and kqueue, which forget those silently): they must not keep an
    /// otherwise empty base alive.
    prune_before_blocking: bool,
}

impl EventBase {
    /// Stops `event_dispatch` after `delay` (IOLib's `exit-event-loop`; see
    /// [the porting table][porting]); zero means at the end of the current round. Called
    /// with zero outside a dispatch, it makes the next dispatch return at once; a nonzero
    /// delay belongs to the dispatch it was asked in (outside any, to the next one).
    ///
    /// ```
    /// use iomux::{DispatchOptions, DispatchOutcome, EventBase};
    /// use std::time::{Duration, Instant};
    ///
    /// let mut base = EventBase::new()?;
    /// let start = Instant::now();
    /// base.exit_event_loop(Duration::from_millis(20));
    /// let outcome = base.event_dispatch(DispatchOptions::default())?;
    /// assert_eq!(outcome, DispatchOutcome::ExitRequested);
    /// assert!(start.elapsed() >= Duration::from_millis(20));
    /// # Ok::<(), iomux::Error>(())
    /// ```
    ///
    /// [porting]: https://github.com/iolib-rs/iolib-rs/blob/main/docs/PORTING.md#the-event-base
    pub fn exit_event_loop(&mut self, delay: Duration) {
        if delay.is_zero() {
            self.exit_requested = true;
            self.gate.attention |= Attention::WORK;
        } else {
            self.queue_timer(
                Instant::now() + delay,
                TimerKey::Exit {
                    gen: self.dispatch_gen,
                },
            );
        }
    }

    /// Arms a timer entry.
    #[inline]
    pub(crate) fn queue_timer(&mut self, deadline: Instant, key: TimerKey) {
        self.heap.push(deadline, key);
        self.gate.attention |= Attention::WORK;
    }

    /// Runs the event loop (IOLib's `event-dispatch`) until [`exit_event_loop`] (or a
    /// [`Waker::stop`](crate::Waker::stop)), the options' `timeout`, one round with
    /// `one_shot`, the base becoming empty with `exit_when_empty`, or a handler error. Says
    /// which: [`DispatchOutcome`]. See [the porting table][porting].
    ///
    /// # Blocking
    /// This call blocks the thread: each round waits for the backend to report a ready fd, for
    /// the next timer, for a signal or a [`Waker`](crate::Waker), and for no longer than the
    /// options' `timeout` and `max_step` allow. With no handlers, no timers and neither
    /// `timeout` nor `exit_when_empty`, it waits until another thread wakes or stops it, or
    /// a signal handler stops it. `timeout(Duration::ZERO)` makes one round that does not
    /// wait. An interrupted wait (`EINTR`) is retried within the same deadline.
    ///
    /// ```
    /// use iomux::{DispatchOptions, DispatchOutcome, EventBase, Timer};
    /// use std::time::Duration;
    ///
    /// let mut base = EventBase::new()?;
    /// base.add_timer(Timer::every(Duration::from_secs(3600)), |_| Ok(()));
    /// let opts = DispatchOptions::default().timeout(Duration::from_millis(10));
    /// assert_eq!(base.event_dispatch(opts)?, DispatchOutcome::Timeout);
    /// # Ok::<(), iomux::Error>(())
    /// ```
    ///
    /// # Errors
    /// - [`Error::Handler`] `{ fd, event, source }`: a handler returned `source`, which ended
    ///   the dispatch: always for timer and signal handlers (`fd` and `event` are `None`),
    ///   for fd handlers unless the
    ///   [failure policy](Self::set_handler_error_policy) answered otherwise.
    ///   [`Error::handler_error_as`] gives `source` back typed.
    /// - [`Error::Reentrant`]: called from a handler of this base.
    /// - [`Error::Handler`] whose `source` is an [`Error::FdSys`] with
    ///   `call: "update interest"`: the backend refused an fd's interest change (other than
    ///   for an fd closed meanwhile, whose handlers are dropped) and the failure policy did not
    ///   drop or keep that fd. The other fds' changes went through; the refused one is retried
    ///   before the next wait.
    /// - [`Error::Sys`] with `call: "wait for events"`: the wait failed with `EBADF`,
    ///   `EFAULT` or `EINVAL`, or kept failing (e.g. `ENOMEM`) for a thousand tries.
    ///
    /// The base stays usable after an error: dispatch again to go on.
    ///
    /// [`exit_event_loop`]: Self::exit_event_loop
    /// [porting]: https://github.com/iolib-rs/iolib-rs/blob/main/docs/PORTING.md#the-event-base
    pub fn event_dispatch(&mut self, options: DispatchOptions) -> Result<DispatchOutcome> {
        self.settle();
        if self.dispatching {
            return Err(Error::Reentrant);
        }
        self.dispatching = true;
        let r = self.run(options);
        self.settle();
        self.dispatching = false;
        self.exit_requested = false;
        self.gate.attention = (self.gate.attention & !Attention::DISPATCH) | Attention::WORK;
        self.dispatch_gen += 1;
        r
    }

    fn run(&mut self, opts: DispatchOptions) -> Result<DispatchOutcome> {
        let deadline = opts.timeout.and_then(|t| Instant::now().checked_add(t));
        let exit_when_empty = opts.exit_when_empty.unwrap_or(self.exit_when_empty);
        let d = Dispatch {
            deadline,
            exit_when_empty,
            prune_before_blocking: exit_when_empty && !self.selector.verify_identity(),
            opts,
        };
        // Constant for the whole dispatch, decided once: without a deadline or step bounds
        // the wait is unbounded whenever there is no timer (no clock read, nothing to
        // compute), and then, unless an empty base must end the dispatch, needs no pruning
        // either; without one-shot, a deadline or `exit_when_empty` nothing ends a round but
        // an exit. The rest is out of line, so that the loop keeps none of the options.
        let unbounded_wait = deadline.is_none()
            && opts.max_step.is_none()
            && opts.min_step.is_none()
            && !d.prune_before_blocking;
        let round_may_end = opts.one_shot || deadline.is_some() || exit_when_empty;
        // Failed waits in a row, and the round of the last: a successful wait resets nothing.
        let (mut wait_failures, mut failed_round) = (0u32, 0u64);
        // Asked before this dispatch; later requests are seen at the end of each round.
        if self.exit_requested {
            return Ok(DispatchOutcome::ExitRequested);
        }
        if exit_when_empty && self.has_no_work() {
            return Ok(DispatchOutcome::Empty);
        }
        self.gate.attention |= Attention::WORK;
        if !unbounded_wait || round_may_end {
            self.gate.attention |= Attention::DISPATCH;
        }
        loop {
            // One test for the common round: no changes, no timers, no exit, nothing epoll
            // keeps aside, and options that neither bound the wait nor end a round.
            // (`changes` is not empty without `Attention::WORK`: see `spill_last_change`.)
            let waited = if self.gate.is_quiet() {
                self.round += 1;
                self.selector.select_plain()
            } else {
                // Cleared before the changes are applied: a change queued again while
                // they are (one the kernel refused and the policy kept) may spill the one
                // before it into `changes`, which sets `Attention::WORK` again.
                self.gate.attention &= Attention::DISPATCH;
                // A held write handler goes to its slot, and the stage closes: what follows
                // may change any fd's entry (`stage.rs`).
                self.settle();
                // Before the wait's length is decided, so that nothing is called between
                // that and the wait.
                if self.has_changes() {
                    self.apply_changes()?;
                }
                if !self.heap.is_empty() || self.exit_requested || self.selector.has_always() {
                    self.gate.attention |= Attention::WORK;
                }
                // The unbounded wait has a call of its own, with its timeout a constant.
                if unbounded_wait && self.heap.is_empty() {
                    self.round += 1;
                    self.selector.select(None)
                } else {
                    let Some(wait) = self.bounded_wait(&d) else {
                        return Ok(DispatchOutcome::Empty);
                    };
                    self.round += 1;
                    self.selector.select(wait)
                }
            };
            let ready = match waited {
                Ok(n) => n,
                // Neither a failure nor the end of a run of them.
                Err(isys::Errno::EINTR) => {
                    failed_round = self.round;
                    0
                }
                // Our own mistake (a bad fd set or argument): retrying cannot help.
                Err(e @ (isys::Errno::EBADF | isys::Errno::EFAULT | isys::Errno::EINVAL)) => {
                    return Err(Error::sys("wait for events", e))
                }
                // Anything else (ENOMEM above all) is the kernel short of something for a
                // moment: back off a little and wait again, unless it persists.
                Err(e) => {
                    if failed_round + 1 != self.round {
                        wait_failures = 0;
                    }
                    failed_round = self.round;
                    wait_failures += 1;
                    if wait_failures > MAX_WAIT_FAILURES {
                        return Err(Error::sys("wait for events", e));
                    }
                    std::thread::sleep(WAIT_FAILURE_BACKOFF);
                    0
                }
            };
            self.dispatch_fd_events(ready)?;
            if self.gate.attention != 0 {
                if !self.heap.is_empty() {
                    self.run_timers()?;
                }
                if self.exit_requested {
                    return Ok(DispatchOutcome::ExitRequested);
                }
                if round_may_end {
                    if let Some(outcome) = self.round_end(&d) {
                        return Ok(outcome);
                    }
                }
            }
        }
    }

    /// The wait of a round with a timer, a deadline, step bounds or pruning to do; `None`
    /// when the base turned out empty (see [`Dispatch::prune_before_blocking`]).
    #[inline(never)]
    fn bounded_wait(&mut self, d: &Dispatch) -> Option<Option<Duration>> {
        let wait = self.wait_length(&d.opts, d.deadline);
        if wait.is_none() && d.prune_before_blocking {
            // About to block forever: handlers of fds closed behind our back (epoll and
            // kqueue forget those silently) must not keep an otherwise empty base alive.
            self.prune_closed_fds();
            if self.has_no_work() {
                return None;
            }
        }
        Some(wait)
    }

    /// Whether the dispatch ends after this round for one-shot, its deadline or an empty base.
    #[inline(never)]
    fn round_end(&self, d: &Dispatch) -> Option<DispatchOutcome> {
        if d.opts.one_shot {
            return Some(DispatchOutcome::OneShot);
        }
        if d.deadline.is_some_and(|t| Instant::now() >= t) {
            return Some(DispatchOutcome::Timeout);
        }
        if d.exit_when_empty && self.has_no_work() {
            return Some(DispatchOutcome::Empty);
        }
        None
    }

    /// How long the next wait may last (`None` = until an event): up to the next timer and
    /// the dispatch's deadline, within `min_step`..`max_step`. No clock read without a timer
    /// or a deadline.
    #[inline]
    fn wait_length(&self, opts: &DispatchOptions, deadline: Option<Instant>) -> Option<Duration> {
        let next = self.heap.peek_deadline();
        let mut wait = if next.is_none() && deadline.is_none() {
            None
        } else {
            let now = Instant::now();
            let until = |d: Instant| d.saturating_duration_since(now);
            match (next, deadline) {
                (Some(a), Some(b)) => Some(until(a.min(b))),
                (a, b) => a.or(b).map(until),
            }
        };
        if let Some(max) = opts.max_step {
            wait = Some(wait.map_or(max, |w| w.min(max)));
        }
        if let Some(min) = opts.min_step {
            wait = wait.map(|w| w.max(min));
        }
        wait
    }

    /// Calls the handlers of the `count` fds the last wait reported.
    ///
    /// The common case (an fd the backend has reported before, plain readiness without an
    /// error or hang-up) goes straight to the handlers with `call_io` inlined here; the rest
    /// is `dispatch_other`.
    fn dispatch_fd_events(&mut self, count: usize) -> Result<()> {
        for i in 0..count {
            let Some((index, plain)) = self.selector.ready_plain(i) else {
                self.dispatch_other(self.selector.ready(i))?;
                continue;
            };
            let fd = index as RawFd;
            // One compare: an entry, and verified (`Verified`'s word is `Option`'s niche).
            // Anything else is `dispatch_other`'s (which skips an fd without an entry).
            let entry = match self.fds.get_mut(index) {
                Some(Some(entry)) if entry.verified == Verified::Yes => entry,
                _ => {
                    self.dispatch_other(self.selector.ready(i))?;
                    continue;
                }
            };
            if plain.read() && entry.read.is_some() {
                self.call_io(fd, Event::Read, None)?;
            }
            if plain.write() {
                self.call_io(fd, Event::Write, None)?;
            }
        }
        Ok(())
    }

    /// One ready fd off `dispatch_fd_events`'s fast path: first reports, invalid fds, errors
    /// and hang-ups.
    #[cold]
    #[inline(never)]
    fn dispatch_other(&mut self, ready: Ready) -> Result<()> {
        self.settle();
        let fd = ready.fd;
        let Some(entry) = self.entry(fd) else {
            return Ok(());
        };
        let (verified, has_r, has_w) = (
            entry.verified != Verified::No,
            entry.read.is_some(),
            entry.write.is_some(),
        );
        if ready.invalid {
            self.purge(fd);
            return Ok(());
        }
        if !verified && !self.verify_first_report(fd) {
            return Ok(());
        }
        if !has_r && !has_w {
            if ready.error || ready.hup {
                // An error or hang-up only an error handler watches: report it and stop
                // watching, or it would spin.
                self.deliver_error(fd)?;
            }
            return Ok(());
        }
        // Errors and hang-ups reach the read and write handlers as readiness, on every
        // backend alike (select cannot tell them apart): the handler's I/O call returns
        // the pending bytes, then end of file or the error (which clears it).
        let cond = ready.error || ready.hup;
        if ready.read || cond {
            self.call_io(fd, Event::Read, None)?;
        }
        if ready.write || cond {
            self.call_io(fd, Event::Write, None)?;
        }
        Ok(())
    }

    /// Calls the error handler of an fd that has no read or write handler, then removes it.
    fn deliver_error(&mut self, fd: RawFd) -> Result<()> {
        let round = self.round;
        let mut result = Ok(());
        for ev in [Event::Read, Event::Write, Event::Error] {
            if result.is_ok() {
                result = self.call_io(fd, ev, Some(Exception::Error));
            }
        }
        // Unregister the handlers that saw the error: only those added before this round
        // were called, and any added meanwhile (even in a slot emptied by the calls) carry
        // this round; those stay for the next. (No write handler the calls added is held
        // aside: a call with an exception opens no stage, `stage.rs`.)
        for ev in [Event::Read, Event::Write, Event::Error] {
            let seen = self
                .entry(fd)
                .and_then(|e| e.added_round(ev))
                .is_some_and(|added| added < round);
            if seen {
                self.remove_slot(fd, ev);
            }
        }
        result
    }

    /// The backend reports `fd` for the first time since it got its entry. On poll and
    /// select, which watch numbers, checks that the number still names the file it named
    /// then; if not (closed while registered, maybe reused), drops the old handlers unseen.
    /// Returns whether to go on with the fd.
    #[cold]
    fn verify_first_report(&mut self, fd: RawFd) -> bool {
        if self.selector.verify_identity() {
            let identity = self.entry(fd).map(|e| e.identity);
            if isys::fstat_identity(fd).ok() != identity {
                self.purge(fd);
                return false;
            }
        }
        if let Some(e) = self.entry(fd) {
            if e.verified == Verified::No {
                e.verified = Verified::Yes;
            }
        }
        true
    }

    /// Calls the handler of `fd`/`event` if it was registered before this round's wait,
    /// lending a stateful handler the fd's state; puts both back afterwards unless they were
    /// removed or replaced meanwhile.
    ///
    /// The fast path (no timeout, not one-shot, the state present, both still in place after
    /// the call, `Ok`) looks the entry up once before and once after the call and moves only
    /// the handler's and the state's boxes; everything else is `call_io_general`.
    #[inline(always)]
    pub(crate) fn call_io(
        &mut self,
        fd: RawFd,
        event: Event,
        exc: Option<Exception>,
    ) -> Result<()> {
        let round = self.round;
        let Some(Some(entry)) = self.fds.get_mut(fd as u32 as usize) else {
            return Ok(());
        };
        if event == Event::Read && exc.is_none() && Self::stageable(entry) {
            // A write handler added to this fd may wait aside from now on (`stage.rs`).
            self.stage.fds.open = stage::key(fd);
        }
        let (slot, state) = entry.slot_and_state(event);
        let Some(slot) = slot.as_mut() else {
            return Ok(());
        };
        if slot.added_round >= round {
            return self.call_io_general(fd, event, exc);
        }
        let Some(mut h) = slot.handler.take() else {
            return Ok(());
        };
        if !slot.stateful {
            let r = h(self, &mut NoState, fd, Call::new(event, exc));
            let Ok(()) = r else {
                return self.put_back(fd, event, exc, false, h, None, r);
            };
            if let Some(Some(entry)) = self.fds.get_mut(fd as u32 as usize) {
                if let Some(s) = entry.slot_mut(event).as_mut() {
                    // Still the slot it came from: a handler removed meanwhile leaves no
                    // slot, and one added holds its handler.
                    if s.handler.is_none() {
                        // Replaces a `None`: nothing to drop.
                        std::mem::forget(s.handler.replace(h));
                        return Ok(());
                    }
                }
            }
            return self.put_back(fd, event, exc, false, h, None, Ok(()));
        }
        let mut b = match std::mem::replace(state, StateSlot::InUse) {
            StateSlot::Present(b) => b,
            // No state to lend (the closure reports it): the general way.
            other => {
                *state = other;
                slot.handler = Some(h);
                return self.call_io_general(fd, event, exc);
            }
        };
        let r = h(self, b.as_mut(), fd, Call::new(event, exc));
        let Ok(()) = r else {
            return self.put_back(fd, event, exc, false, h, Some(b), r);
        };
        if let Some(Some(entry)) = self.fds.get_mut(fd as u32 as usize) {
            let (slot, state) = entry.slot_and_state(event);
            if let (Some(s), StateSlot::InUse) = (slot.as_mut(), &*state) {
                if s.handler.is_none() {
                    // Both replace values that own nothing (`None`, `InUse`).
                    std::mem::forget(s.handler.replace(h));
                    std::mem::forget(std::mem::replace(state, StateSlot::Present(b)));
                    return Ok(());
                }
            }
        }
        self.put_back(fd, event, exc, false, h, Some(b), Ok(()))
    }

    /// `call_io` for everything off its fast path: one-shot handlers, timeouts, a handler
    /// added this round, a stateful handler without its state.
    #[cold]
    #[inline(never)]
    fn call_io_general(&mut self, fd: RawFd, event: Event, exc: Option<Exception>) -> Result<()> {
        self.settle();
        let round = self.round;
        let Some(entry) = self.fds.get_mut(fd as usize).and_then(Option::as_mut) else {
            return Ok(());
        };
        if !matches!(entry.added_round(event), Some(added) if added < round) {
            return Ok(());
        }
        let Some(slot) = entry.slot_mut(event).as_mut() else {
            return Ok(());
        };
        let Some(mut handler) = slot.handler.take() else {
            return Ok(());
        };
        let stateful = slot.stateful;
        let one_shot = entry.one_shot[event as usize];
        let timing = entry.timing_mut(event);
        if let Some(t) = timing.timeout {
            timing.deadline = Some(Instant::now() + t);
        }
        let mut state = if stateful {
            match std::mem::replace(&mut entry.state, StateSlot::InUse) {
                StateSlot::Present(b) => Some(b),
                other => {
                    entry.state = other;
                    None
                }
            }
        } else {
            None
        };
        if one_shot {
            self.remove_slot(fd, event);
        }
        let call = Call::new(event, exc);
        let r = match state.as_mut() {
            Some(b) => handler(self, b.as_mut(), fd, call),
            // A plain handler ignores it; a stateful one's downcast fails and says which
            // state it wanted.
            None => handler(self, &mut NoState, fd, call),
        };
        self.put_back(fd, event, exc, one_shot, handler, state, r)
    }

    /// After a handler call: puts the handler (unless one-shot, removed or replaced) and the
    /// lent state back, drops what is no longer anyone's, and hands an error to the failure
    /// policy.
    #[allow(clippy::too_many_arguments)]
    #[cold]
    #[inline(never)]
    fn put_back(
        &mut self,
        fd: RawFd,
        event: Event,
        exc: Option<Exception>,
        one_shot: bool,
        handler: Handler,
        mut state: Option<Box<dyn Any>>,
        r: HandlerResult,
    ) -> Result<()> {
        self.settle();
        let mut spare = Some(handler);
        if let Some(entry) = self.fds.get_mut(fd as usize).and_then(Option::as_mut) {
            if !one_shot {
                if let Some(slot) = entry.slot_mut(event).as_mut() {
                    if slot.handler.is_none() {
                        slot.handler = spare.take();
                    }
                }
            }
            if let Some(b) = state.take() {
                match entry.state {
                    StateSlot::InUse => entry.state = StateSlot::Present(b),
                    // Removed while lent: dropped below, with the entry if nothing is left.
                    StateSlot::InUseRemoved => {
                        entry.state = StateSlot::Empty;
                        state = Some(b);
                    }
                    // The entry was made anew meanwhile (the fd's file changed): not ours.
                    _ => state = Some(b),
                }
                if entry.removable() {
                    self.fds[fd as usize] = None;
                }
            }
        }
        drop(state);
        match r {
            Ok(()) => Ok(()),
            Err(e) => self.handler_failed(fd, event, exc, e, spare),
        }
    }
}
