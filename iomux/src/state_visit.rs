//! Visiting per-fd states without draining them: [`EventBase::fd_states`],
//! [`EventBase::fd_states_mut`] and [`EventBase::for_each_fd_state_mut`], which also lends
//! the event base to its visitor.

use crate::fd_state::StateSlot;
use crate::EventBase;
use std::os::fd::RawFd;

impl EventBase {
    /// Every state of type `T` with its fd, in fd order, without detaching them (a server's
    /// client count, a status page). States of other types, and a state lent to the handler
    /// that is running, are skipped.
    ///
    /// ```
    /// use iomux::EventBase;
    /// use std::os::fd::AsRawFd;
    ///
    /// let mut base = EventBase::new()?;
    /// let (a, b) = isys::pipe(true)?;
    /// base.set_fd_state(a.as_raw_fd(), "reader")?;
    /// base.set_fd_state(b.as_raw_fd(), 5u32)?;
    /// let names: Vec<&str> = base.fd_states::<&str>().map(|(_, s)| *s).collect();
    /// assert_eq!(names, ["reader"]); // the u32 is skipped
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fd_states<T: 'static>(&self) -> impl Iterator<Item = (RawFd, &T)> + '_ {
        self.fds
            .iter()
            .enumerate()
            .filter_map(|(fd, e)| match &e.as_ref()?.state {
                StateSlot::Present(b) => Some((fd as RawFd, b.downcast_ref::<T>()?)),
                _ => None,
            })
    }

    /// Mutable access to every state of type `T` with its fd, in fd order (as
    /// [`fd_states`](Self::fd_states)).
    ///
    /// ```
    /// use iomux::EventBase;
    /// use std::os::fd::AsRawFd;
    ///
    /// let mut base = EventBase::new()?;
    /// let (a, b) = isys::pipe(true)?;
    /// base.set_fd_state(a.as_raw_fd(), 1u32)?;
    /// base.set_fd_state(b.as_raw_fd(), 2u32)?;
    /// base.fd_states_mut::<u32>().for_each(|(_, n)| *n *= 10);
    /// assert_eq!(base.fd_states::<u32>().map(|(_, n)| *n).sum::<u32>(), 30);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fd_states_mut<T: 'static>(&mut self) -> impl Iterator<Item = (RawFd, &mut T)> + '_ {
        self.settle();
        self.fds
            .iter_mut()
            .enumerate()
            .filter_map(|(fd, e)| match &mut e.as_mut()?.state {
                StateSlot::Present(b) => Some((fd as RawFd, b.downcast_mut::<T>()?)),
                _ => None,
            })
    }

    /// Calls `f` with the event base, the fd and the state of every fd that has a `T`, in fd
    /// order, lending each state for the call as a stateful handler gets it: `f` may add and
    /// remove handlers and timers, and drop this or other fds' states
    /// ([`remove_fd_state`](Self::remove_fd_state), [`drop_fd`](Self::drop_fd)); a state
    /// removed while lent is dropped when `f` returns. States attached during the walk are
    /// not visited. Returns how many states were visited.
    ///
    /// ```
    /// use iomux::EventBase;
    /// use std::os::fd::AsRawFd;
    /// let mut base = EventBase::new()?;
    /// let (r, _w) = isys::pipe(true)?;
    /// let r = r.as_raw_fd();
    /// base.set_fd_state(r, 0u32)?;
    /// base.for_each_fd_state_mut::<u32, _>(|base, fd, n| {
    ///     *n += 1;
    ///     base.set_io_handler(fd, iomux::Event::Read, |_, _, _, _| Ok(())).unwrap();
    /// });
    /// assert_eq!(base.fd_state::<u32>(r), Some(&1));
    /// assert!(base.fd_monitored(r));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn for_each_fd_state_mut<T, F>(&mut self, mut f: F) -> usize
    where
        T: 'static,
        F: FnMut(&mut EventBase, RawFd, &mut T),
    {
        self.settle();
        let fds: Vec<RawFd> = self.fd_states::<T>().map(|(fd, _)| fd).collect();
        let mut visited = 0;
        for fd in fds {
            // Take the state out, leaving `InUse` as `call_io` does for a stateful handler.
            let Some(entry) = self.entry(fd) else {
                continue;
            };
            let mut boxed = match std::mem::replace(&mut entry.state, StateSlot::InUse) {
                StateSlot::Present(b) if b.is::<T>() => b,
                other => {
                    // Removed or replaced by an earlier visit.
                    entry.state = other;
                    continue;
                }
            };
            f(self, fd, boxed.downcast_mut::<T>().expect("checked above"));
            visited += 1;
            let Some(entry) = self.entry(fd) else {
                continue; // the entry was purged meanwhile: the state goes with `boxed`
            };
            match entry.state {
                StateSlot::InUse => entry.state = StateSlot::Present(boxed),
                StateSlot::InUseRemoved => {
                    entry.state = StateSlot::Empty;
                    drop(boxed);
                    if entry.removable() {
                        self.fds[fd as usize] = None;
                    }
                }
                // The entry was made anew (the fd's file changed): not this state's fd.
                _ => drop(boxed),
            }
        }
        visited
    }
}
