//! The changelist: the event base keeps the kernel's interest set in step with the handlers,
//! queuing each fd whose handlers changed (`queue_change`; the change queued last waits in
//! `Gate::last_change`, where the removal that undoes it takes it back) and applying the
//! changes just before each wait (`apply_changes`), refusals included.

use crate::event_base::Attention;
use crate::event_base::{change_key, NO_CHANGE};
use crate::fd_entry::Queued;
use crate::{Error, Event, EventBase, Result};
use std::os::fd::RawFd;

impl EventBase {
    /// Brings the kernel in step with `fd`'s handlers: the first registration goes to the
    /// kernel at once so its errors surface here; later changes wait in the changelist for
    /// the next wait (where a change undone meanwhile costs nothing).
    #[inline]
    pub(crate) fn sync_interest(&mut self, fd: RawFd) -> Result<()> {
        let entry = self.fds[fd as usize].as_mut().expect("entry exists");
        let wanted = entry.wanted();
        // Whatever changed in the slots, a change queued already is no longer one slot's.
        let queued = entry.queued;
        entry.queued = queued.blurred();
        match entry.registered {
            None => self.register_now(fd),
            Some(_) if entry.registered != wanted => {
                self.mark_changed(fd, queued);
                Ok(())
            }
            Some(_) => Ok(()),
        }
    }

    #[cold]
    fn register_now(&mut self, fd: RawFd) -> Result<()> {
        let Some(i) = self.entry(fd).and_then(|e| e.wanted()) else {
            return Ok(());
        };
        self.selector.register(fd, i).map_err(|e| match e {
            isys::Errno::EINVAL if self.selector.max_fd().is_some() => Error::FdTooLarge {
                fd,
                limit: self.selector.max_fd().unwrap_or(0),
            },
            errno => Error::FdSys {
                call: self.selector.register_call(),
                fd,
                errno,
            },
        })?;
        // The fd may be one the backend keeps aside (epoll's always-ready fds).
        self.gate.attention |= Attention::WORK;
        let entry = self.entry(fd).expect("entry exists");
        entry.registered = Some(i);
        entry.queued = entry.queued.blurred();
        Ok(())
    }

    pub(crate) fn apply_changes(&mut self) -> Result<()> {
        let mut refused: Vec<(RawFd, isys::Errno)> = Vec::new();
        if let Some(fd) = self.gate.last_change_fd() {
            self.changes.push(fd);
            self.gate.last_change = NO_CHANGE;
        }
        for i in 0..self.changes.len() {
            let fd = self.changes[i];
            let Some(entry) = self.entry(fd) else {
                continue;
            };
            entry.queued = Queued::No;
            let (registered, wanted) = (entry.registered, entry.wanted());
            if registered == wanted {
                continue;
            }
            let r = match (registered, wanted) {
                (_, None) => self.selector.deregister(fd),
                (None, Some(i)) => self.selector.register(fd, i),
                (Some(_), Some(i)) => self.selector.reregister(fd, i),
            };
            match r {
                Ok(()) => {
                    let entry = self.entry(fd).expect("entry exists");
                    entry.registered = wanted;
                    if entry.removable() {
                        self.fds[fd as usize] = None;
                    }
                }
                // The fd was closed behind our back: drop its handlers.
                Err(isys::Errno::EBADF) | Err(isys::Errno::ENOENT) => self.purge(fd),
                // The kernel refused this fd (ENOMEM, ENOSPC, EPERM...): that concerns this fd
                // only. The other changes still go through; the refusals are handled after.
                Err(errno) => refused.push((fd, errno)),
            }
        }
        self.changes.clear();
        if refused.is_empty() {
            Ok(())
        } else {
            self.interest_refused(refused)
        }
    }

    /// Interest changes the kernel refused, one fd each: the failure policy decides for each,
    /// as for a handler of that fd (`drop_failing_peers` drops it); without a policy the
    /// dispatch ends with the first, and every refused fd not dropped is queued again, so a
    /// later wait retries it.
    #[cold]
    #[inline(never)]
    fn interest_refused(&mut self, refused: Vec<(RawFd, isys::Errno)>) -> Result<()> {
        let mut result = Ok(());
        for (fd, errno) in refused {
            if result.is_ok() {
                let e = Error::FdSys {
                    call: "update interest",
                    fd,
                    errno,
                };
                result = self.handler_failed(fd, Event::Read, None, Box::new(e), None);
            }
            // Kept (a transient refusal, or the dispatch ends first): try again before the
            // next wait.
            if let Some(entry) = self.entry(fd) {
                if entry.registered != entry.wanted() {
                    let was = entry.queued;
                    self.mark_changed(fd, was);
                }
            }
        }
        result
    }

    /// Marks `fd`'s entry as in the changelist for some change, and queues it unless `was`
    /// (its flag before) says it is in already.
    pub(crate) fn mark_changed(&mut self, fd: RawFd, was: Queued) {
        if let Some(entry) = self.entry(fd) {
            entry.queued = Queued::Yes;
        }
        if !was.any() {
            self.queue_change(fd);
        }
    }

    /// Queues an interest change of `fd` for the next wait (the caller marks the entry
    /// `queued`): it becomes `last_change`, and the one before joins `changes`.
    #[inline]
    pub(crate) fn queue_change(&mut self, fd: RawFd) {
        if self.gate.last_change != NO_CHANGE {
            self.spill_last_change();
        }
        self.gate.last_change = change_key(fd);
    }

    /// Moves `last_change` into `changes`, making room for a newer one; the loop finds
    /// `changes` through the attention word, so that its common round tests `last_change`
    /// alone.
    #[cold]
    #[inline(never)]
    fn spill_last_change(&mut self) {
        self.changes.extend(self.gate.last_change_fd());
        self.gate.last_change = NO_CHANGE;
        self.gate.attention |= Attention::WORK;
    }

    /// Takes back the change just queued (the caller checked `last_change` is its fd).
    /// Earlier ones stay in `changes`; none of them can be taken back any more (each is
    /// applied as it finds its entry then).
    #[inline]
    pub(crate) fn unqueue_last_change(&mut self) {
        self.gate.last_change = NO_CHANGE;
    }

    /// Whether any change waits for the next wait.
    #[inline]
    pub(crate) fn has_changes(&self) -> bool {
        self.gate.last_change != NO_CHANGE || !self.changes.is_empty()
    }
}
