//! Per-fd entries (IOLib's `fd-entry`): the [`Event`] and [`Exception`] a handler is called
//! with, the one handler type every slot holds, the read/write/error handler slots of an fd
//! (with the timing of timed and one-shot handlers), the interest they add up to, and the
//! event base's fd table: creating an entry for the file an fd names now, removing a slot,
//! and purging the entries of fds closed behind the base's back.

use crate::event_base::change_key;
use crate::fd_state::StateSlot;
use crate::sys::Interest;
use crate::{Error, EventBase, HandlerResult, Result};
use std::any::Any;
use std::os::fd::RawFd;
use std::time::{Duration, Instant};

/// An I/O event kind (IOLib's `:read`, `:write`, `:error`; see [the porting table][porting]):
/// which handler of an fd is set, called or removed. Display spells it as IOLib's keyword
/// without the colon.
///
/// ```
/// use iomux::{Event, Handlers};
///
/// assert_eq!(Event::Read.to_string(), "read");
/// assert_eq!(Handlers::from(Event::Write), Handlers::WRITE);
/// ```
///
/// [porting]: https://github.com/iolib-rs/iolib-rs/blob/main/docs/PORTING.md#the-event-base
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Event {
    /// Readable (data, end of file, or hang-up).
    Read,
    /// Writable.
    Write,
    /// An error condition (only for [`EventBase::set_error_handler`]).
    Error,
}

/// Why a handler is called other than plain readiness (IOLib's exception argument; see
/// [the porting table][porting]). Handlers get `None` for plain readiness.
///
/// ```
/// use iomux::{Event, Exception, HandlerResult};
/// use std::os::fd::RawFd;
///
/// fn on_read(fd: RawFd, _event: Event, exc: Option<Exception>) -> HandlerResult {
///     match exc {
///         None => println!("fd {fd} is readable"),
///         Some(Exception::Timeout) => println!("fd {fd} was idle too long"),
///         Some(Exception::Error) => println!("fd {fd} had an error"),
///     }
///     Ok(())
/// }
/// on_read(0, Event::Read, Some(Exception::Timeout))?;
/// # Ok::<(), iomux::BoxError>(())
/// ```
///
/// [porting]: https://github.com/iolib-rs/iolib-rs/blob/main/docs/PORTING.md#the-event-base
//
// Numbered from 1, so that `None` of an `Option<Exception>` is 0 and a handler's test
// `exc == Some(Exception::Error)` is one compare of its argument (from 0 it is three tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Exception {
    /// An error or hang-up condition (POLLERR/POLLHUP, EPOLLERR/EPOLLHUP, EV_ERROR/EV_EOF)
    /// on an fd watched only by an error handler; after this call the fd's handlers are
    /// removed. Read and write handlers get such conditions as readiness instead (their I/O
    /// call returns the error), on every backend.
    Error = 1,
    /// The handler's inactivity timeout passed; it stays registered.
    Timeout = 2,
}

/// Drops a removed handler's box and answers `true` (the handler was there); out of line, so
/// that `remove_slot` ends in a jump here and keeps nothing live across a call.
#[inline(never)]
fn drop_handler(handler: Option<Handler>) -> bool {
    drop(handler);
    true
}

/// What a slot calls: every handler has the stateful signature and gets the fd's state,
/// type-erased (a stateful handler's closure downcasts it). A plain handler is wrapped by
/// [`plain_handler`], whose closure ignores the state it is given ([`NoState`]), so a slot
/// holds one box and one flag says whether to lend it the fd's state.
pub(crate) type Handler =
    Box<dyn FnMut(&mut EventBase, &mut dyn Any, RawFd, Call) -> HandlerResult>;

/// The event and exception a handler is called with, packed into one integer (the
/// exception in the low byte, as an `Option<Exception>` is stored, the event in the high
/// one), so that a call's arguments all fit in registers (a struct of the two would be
/// passed as two arguments), and a handler's test of the exception is one compare of a byte.
#[derive(Clone, Copy)]
pub(crate) struct Call(u16);

impl Call {
    #[inline(always)]
    pub(crate) fn new(event: Event, exc: Option<Exception>) -> Call {
        let exc = match exc {
            None => 0,
            Some(e) => e as u16,
        };
        Call(exc | (event as u16) << 8)
    }
    #[inline(always)]
    pub(crate) fn event(self) -> Event {
        match self.0 >> 8 {
            0 => Event::Read,
            1 => Event::Write,
            _ => Event::Error,
        }
    }
    #[inline(always)]
    pub(crate) fn exc(self) -> Option<Exception> {
        match self.0 & 0xff {
            0 => None,
            1 => Some(Exception::Error),
            _ => Some(Exception::Timeout),
        }
    }
}

/// A handler boxed into the one [`Handler`] type, on its way into a slot, with what removing
/// it will need to know.
pub(crate) struct NewHandler {
    pub(crate) handler: Handler,
    /// Dropping the box does nothing: the closure captures nothing and has no drop glue (a
    /// function, as the tutorial's servers pass), so the box holds no allocation either.
    pub(crate) drop_free: bool,
}

/// Boxes `closure` as a [`NewHandler`]; whether it is `drop_free` is known here, from its type.
#[inline(always)]
pub(crate) fn erase<C>(closure: C) -> NewHandler
where
    C: FnMut(&mut EventBase, &mut dyn Any, RawFd, Call) -> HandlerResult + 'static,
{
    NewHandler {
        drop_free: std::mem::size_of::<C>() == 0 && !std::mem::needs_drop::<C>(),
        handler: Box::new(closure),
    }
}

/// A plain handler (`set_io_handler`, `set_error_handler`, the base's own readers) in the one
/// handler type: the wrapper adds nothing to the closure's size (a closure that captures
/// nothing still allocates nothing).
#[inline]
pub(crate) fn plain_handler<F>(mut handler: F) -> NewHandler
where
    F: FnMut(&mut EventBase, RawFd, Event, Option<Exception>) -> HandlerResult + 'static,
{
    erase(move |base, _state, fd, call: Call| handler(base, fd, call.event(), call.exc()))
}

/// What a handler gets for the state when it is lent none: a plain handler, or a stateful
/// one whose fd has no state (its downcast fails and says which state it wanted).
pub(crate) struct NoState;

/// A handler in its slot: what `call_io`'s fast path and `remove_slot` touch, four words.
/// A timed or one-shot handler keeps the rest in its [`SlotTiming`], beside the slots.
pub(crate) struct Slot {
    /// `None` while the handler is running.
    pub(crate) handler: Option<Handler>,
    /// The round the handler was added in; [`GENERAL`] for a timed or one-shot handler,
    /// whose round is in its `SlotTiming`: no round reaches it, so `call_io`'s fast path
    /// (which calls handlers added before this round) leaves such a handler to
    /// `call_io_general` with the one compare it makes anyway.
    pub(crate) added_round: u64,
    /// Lent the fd's state for a call (`set_stateful_io_handler`).
    pub(crate) stateful: bool,
    /// Dropping the handler does nothing ([`NewHandler::drop_free`]): `remove_slot` forgets
    /// it instead of calling through its vtable.
    pub(crate) drop_free: bool,
}

/// `Slot::added_round` of a timed or one-shot handler.
pub(crate) const GENERAL: u64 = u64::MAX;

/// The round and timeout of a timed or one-shot handler (whose slot's `added_round` is
/// [`GENERAL`]), kept in its fd's entry beside the slots (`FdEntry::timing`), out of the way
/// of the fast paths; its one-shot flag is `FdEntry::one_shot`, in the entry's spare bytes
/// (which keeps the entry at a size indexed with one multiply). The default (no id, no
/// timeout, not one-shot) whenever the slot is empty or holds any other handler: only
/// `install_slow` fills it, and `remove_slot_general` resets it.
#[derive(Clone, Copy, Default)]
pub(crate) struct SlotTiming {
    /// Names a timed handler's heap entries (0 for untimed handlers, which have none).
    pub(crate) id: u64,
    /// The round the handler was added in; 0 once its timeout fired (callable at once).
    pub(crate) added_round: u64,
    pub(crate) timeout: Option<Duration>,
    pub(crate) deadline: Option<Instant>,
}

/// Whether the backend has reported a user's fd since it got its entry (and on poll and
/// select its identity was checked then): from then on adding or removing a handler checks
/// nothing else, and its reports take `dispatch_fd_events`'s fast path. The base's own fds
/// (signal pipe, waker) are `Internal` and never `Yes`, so those fast paths need no check of
/// their own to leave them alone. A whole word, so that its niche (the largest of
/// `FdEntry`'s) is the one `Option<FdEntry>` uses: `None` is a fourth value of this word,
/// "an entry, verified" is one compare, and so is "an entry of the user's" (`No` or `Yes`).
#[repr(u64)]
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Verified {
    #[default]
    No = 0,
    Yes = 1,
    /// One of the base's own fds: no user handler, no `exit_when_empty` work.
    Internal = 2,
}

/// Whether an fd's entry is in the changelist, and what its change is when it is one slot
/// added (the tutorial's servers add a write handler after a read and remove it after the
/// write): removing that slot again, while the entry is still the change queued last, takes
/// the change back without comparing interests.
#[repr(u8)]
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Queued {
    /// Not in the changelist.
    #[default]
    No,
    /// In the changelist, for some change.
    Yes,
    /// In the changelist, and what the handlers want is what the kernel has plus reading,
    /// for the read slot added since.
    AddedRead,
    /// As `AddedRead`, for writing.
    AddedWrite,
}

impl Queued {
    /// Whether the entry is in the changelist.
    #[inline]
    pub(crate) fn any(self) -> bool {
        self != Queued::No
    }
    /// After any change to the entry's slots or kernel interest other than the one `self`
    /// names: still in the changelist if it was, for some change.
    #[inline]
    pub(crate) fn blurred(self) -> Queued {
        if self.any() {
            Queued::Yes
        } else {
            Queued::No
        }
    }
}

#[derive(Default)]
pub(crate) struct FdEntry {
    pub(crate) read: Option<Slot>,
    pub(crate) write: Option<Slot>,
    pub(crate) error: Option<Slot>,
    /// What the kernel has; `None` = not registered.
    pub(crate) registered: Option<Interest>,
    /// Whether the entry is in the changelist, and what its change is (see [`Queued`]).
    pub(crate) queued: Queued,
    /// `(st_dev, st_ino)` at registration.
    pub(crate) identity: (u64, u64),
    /// Whether the backend has reported this fd since it got its entry, or whether it is one
    /// of the base's own (see [`Verified`]).
    pub(crate) verified: Verified,
    /// User state attached with `set_fd_state`.
    pub(crate) state: StateSlot,
    /// The timing of the read, write and error slots, by `Event` (see [`SlotTiming`]).
    pub(crate) timing: [SlotTiming; 3],
    /// Whether the read, write and error slots hold one-shot handlers, by `Event`: part of
    /// their [`SlotTiming`], filled and reset with it.
    pub(crate) one_shot: [bool; 3],
}

impl FdEntry {
    #[inline]
    pub(crate) fn slot_mut(&mut self, event: Event) -> &mut Option<Slot> {
        match event {
            Event::Read => &mut self.read,
            Event::Write => &mut self.write,
            Event::Error => &mut self.error,
        }
    }
    /// The slot of `event` and the fd's state, borrowed together.
    #[inline]
    pub(crate) fn slot_and_state(&mut self, event: Event) -> (&mut Option<Slot>, &mut StateSlot) {
        let slot = match event {
            Event::Read => &mut self.read,
            Event::Write => &mut self.write,
            Event::Error => &mut self.error,
        };
        (slot, &mut self.state)
    }
    #[inline]
    pub(crate) fn slot(&self, event: Event) -> &Option<Slot> {
        match event {
            Event::Read => &self.read,
            Event::Write => &self.write,
            Event::Error => &self.error,
        }
    }
    #[inline]
    pub(crate) fn timing_mut(&mut self, event: Event) -> &mut SlotTiming {
        &mut self.timing[event as usize]
    }
    /// The timing of the `event` slot if it holds the timed handler `id` (a handler removed
    /// since, or replaced by another, has another id or none).
    #[inline]
    pub(crate) fn timed(&mut self, event: Event, id: u64) -> Option<&mut SlotTiming> {
        let here = self.slot(event).is_some();
        let timing = &mut self.timing[event as usize];
        (here && timing.id == id).then_some(timing)
    }
    /// The round the `event` handler was added in, if there is one.
    #[inline]
    pub(crate) fn added_round(&self, event: Event) -> Option<u64> {
        let s = self.slot(event).as_ref()?;
        Some(match s.added_round {
            GENERAL => self.timing[event as usize].added_round,
            round => round,
        })
    }
    #[inline]
    pub(crate) fn wanted(&self) -> Option<Interest> {
        if self.read.is_none() && self.write.is_none() && self.error.is_none() {
            return None;
        }
        Some(Interest {
            read: self.read.is_some(),
            write: self.write.is_some(),
        })
    }
    /// Nothing left to keep: no handlers, nothing in the kernel, no state.
    #[inline]
    pub(crate) fn removable(&self) -> bool {
        self.registered.is_none()
            && self.wanted().is_none()
            && matches!(self.state, StateSlot::Empty)
    }
    /// One of the base's own fds (signal pipe, waker).
    #[inline]
    pub(crate) fn internal(&self) -> bool {
        self.verified == Verified::Internal
    }
    pub(crate) fn slot_count(&self) -> usize {
        usize::from(self.read.is_some())
            + usize::from(self.write.is_some())
            + usize::from(self.error.is_some())
    }
}

const MAX_FD_INDEX: usize = 1 << 24;

impl EventBase {
    #[inline]
    pub(crate) fn entry(&mut self, fd: RawFd) -> Option<&mut FdEntry> {
        self.fds.get_mut(usize::try_from(fd).ok()?)?.as_mut()
    }

    fn check_fd(&self, fd: RawFd) -> Result<(u64, u64)> {
        if fd < 0 || fd as usize >= MAX_FD_INDEX {
            return Err(Error::BadFd(fd));
        }
        if let Some(limit) = self.selector.max_fd() {
            if fd as usize >= limit {
                return Err(Error::FdTooLarge { fd, limit });
            }
        }
        isys::fstat_identity(fd).map_err(|_| Error::BadFd(fd))
    }

    /// Makes sure `fd` has an entry for the file it names now, dropping stale handlers of a
    /// closed file whose number was reused.
    pub(crate) fn prepare_entry(&mut self, fd: RawFd, internal: bool) -> Result<()> {
        let identity = self.check_fd(fd)?;
        let stale = matches!(self.entry(fd), Some(e) if e.identity != identity);
        if stale {
            self.purge(fd);
        }
        let u = fd as usize;
        if u >= self.fds.len() {
            self.fds.resize_with(u + 1, || None);
        }
        if self.fds[u].is_none() {
            self.fds[u] = Some(FdEntry {
                identity,
                verified: if internal {
                    Verified::Internal
                } else {
                    Verified::No
                },
                ..FdEntry::default()
            });
        }
        Ok(())
    }

    /// Removes the handler of `fd`/`event`; returns whether there was one. Not for the base's
    /// own fds, whose handlers stay (it returns `false`). The interest
    /// change waits in the changelist (so removing a handler added in the same round costs
    /// nothing), except that the last handler leaves the kernel set at once, while the fd is
    /// surely still open (callers close right after).
    #[inline(always)]
    pub(crate) fn remove_slot(&mut self, fd: RawFd, event: Event) -> bool {
        let entry = match self.fds.get_mut(fd as usize) {
            // A user's fd the backend has reported: the common case.
            Some(Some(entry)) if entry.verified == Verified::Yes => entry,
            _ => return self.remove_slot_unverified(fd, event),
        };
        let slot = entry.slot_mut(event);
        let Some(s) = slot.as_mut() else {
            return false;
        };
        if s.added_round == GENERAL {
            return self.remove_slot_general(fd, event);
        }
        // Only the handler's box leaves the entry (no copy of the slot); it is dropped last,
        // after the bookkeeping, out of line and as a tail call, so that nothing is live
        // across a call here and the path saves no registers.
        let handler = s.handler.take();
        let drop_free = s.drop_free;
        *slot = None;
        self.user_slots -= 1;
        let undoes = match event {
            Event::Read => entry.queued == Queued::AddedRead,
            Event::Write => entry.queued == Queued::AddedWrite,
            Event::Error => false,
        };
        if !(undoes && self.gate.last_change == change_key(fd)) {
            return self.last_removal(fd, handler);
        }
        // Undoes the change queued last, the addition of this very slot (a write handler
        // added and removed within one handler call, as the tutorial's servers do on every
        // echo): the handlers want what the kernel has again, and nothing is left to apply.
        entry.queued = Queued::No;
        self.unqueue_last_change();
        if drop_free {
            // Nothing to drop and nothing allocated (see `NewHandler::drop_free`).
            std::mem::forget(handler);
            return true;
        }
        drop_handler(handler)
    }

    /// The rest of `remove_slot` when the removal is not the undoing of the change queued
    /// last: the entry's kernel interest changes (a change to queue, or no handler left), or
    /// none is registered yet, or the change queued for it was more than this slot.
    #[cold]
    #[inline(never)]
    fn last_removal(&mut self, fd: RawFd, handler: Option<Handler>) -> bool {
        self.interest_after_removal(fd);
        drop_handler(handler)
    }

    /// `remove_slot` off its fast path's first test: an fd not reported yet goes on to
    /// `remove_slot_general`; no entry, or one of the base's own fds (whose handlers stay),
    /// removes nothing.
    #[cold]
    #[inline(never)]
    fn remove_slot_unverified(&mut self, fd: RawFd, event: Event) -> bool {
        match self.fds.get(fd as usize) {
            Some(Some(entry)) if entry.verified == Verified::No => {
                self.remove_slot_general(fd, event)
            }
            _ => false,
        }
    }

    /// `remove_slot` for a timed or one-shot handler, or an fd not reported yet.
    #[cold]
    #[inline(never)]
    fn remove_slot_general(&mut self, fd: RawFd, event: Event) -> bool {
        let Some(Some(entry)) = self.fds.get_mut(fd as usize) else {
            return false;
        };
        let slot = entry.slot_mut(event);
        let Some(s) = slot.as_mut() else {
            return false;
        };
        // As in `remove_slot`: the box is dropped last, when the fd (which the closure may
        // own) is out of the kernel.
        let handler = s.handler.take();
        *slot = None;
        let timed = std::mem::take(entry.timing_mut(event)).timeout.is_some();
        entry.one_shot[event as usize] = false;
        if !entry.internal() {
            self.user_slots -= 1;
        }
        if timed {
            self.timeout_handlers -= 1;
        }
        self.interest_after_removal(fd);
        drop(handler);
        true
    }

    /// After a slot of `fd` went: the last handler leaves the kernel set at once, any other
    /// change waits in the changelist, and one that undoes the change just recorded takes it
    /// back out.
    fn interest_after_removal(&mut self, fd: RawFd) {
        let Some(Some(entry)) = self.fds.get_mut(fd as usize) else {
            return;
        };
        let wanted = entry.wanted();
        if wanted.is_none() {
            self.forget_entry(fd);
        } else if entry.registered != wanted {
            let was = entry.queued;
            self.mark_changed(fd, was);
        } else if entry.queued.any() && self.gate.last_change == change_key(fd) {
            entry.queued = Queued::No;
            self.unqueue_last_change();
        } else {
            entry.queued = entry.queued.blurred();
        }
    }

    /// `fd` has no handler left: out of the kernel set at once, and the entry goes unless it
    /// holds state.
    #[cold]
    #[inline(never)]
    fn forget_entry(&mut self, fd: RawFd) {
        let Some(entry) = self.entry(fd) else {
            return;
        };
        entry.queued = entry.queued.blurred();
        if entry.registered.is_some() {
            entry.registered = None;
            let _ = self.selector.deregister(fd);
        }
        if matches!(self.entry(fd), Some(e) if e.removable()) {
            self.fds[fd as usize] = None;
        }
    }

    /// Drops every handler of `fd` without calling them and forgets it in the kernel.
    pub(crate) fn purge(&mut self, fd: RawFd) {
        let Some(entry) = self.fds.get_mut(fd as usize).and_then(Option::take) else {
            return;
        };
        if !entry.internal() {
            self.user_slots -= entry.slot_count();
        }
        for (slot, timing) in [&entry.read, &entry.write, &entry.error]
            .into_iter()
            .zip(&entry.timing)
        {
            if slot.is_some() && timing.timeout.is_some() {
                self.timeout_handlers -= 1;
            }
        }
        if entry.registered.is_some() {
            let _ = self.selector.deregister(fd);
        }
    }

    /// Drops the handlers of every fd that was closed (or whose number now names another
    /// file) while registered, without calling them; returns how many fds were pruned. One
    /// `fstat` per registered fd. `event_dispatch` does this itself before blocking forever
    /// with `exit_when_empty`.
    ///
    /// This repairs a broken [fd-closing rule](crate#the-fd-closing-rule): remove an fd's
    /// handlers before closing it, and there is nothing to prune.
    ///
    /// ```
    /// use iomux::{Event, EventBase};
    /// use std::os::fd::AsRawFd;
    ///
    /// let mut base = EventBase::new()?;
    /// let (r, _w) = isys::pipe(true)?;
    /// base.set_io_handler(r.as_raw_fd(), Event::Read, |_, _, _, _| Ok(()))?;
    /// drop(r); // closed with its handler still set
    /// assert_eq!(base.prune_closed_fds(), 1);
    /// assert!(base.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn prune_closed_fds(&mut self) -> usize {
        self.settle();
        let mut pruned = 0;
        for fd in 0..self.fds.len() {
            let Some(identity) = self.fds[fd].as_ref().map(|e| e.identity) else {
                continue;
            };
            if isys::fstat_identity(fd as RawFd).ok() != Some(identity) {
                self.purge(fd as RawFd);
                pruned += 1;
            }
        }
        pruned
    }
}
