//! Signal handlers: [`EventBase::add_signal_handler`] delivers signals through a self-pipe the
//! event base watches, so handlers run in the loop, not in signal context; dropping the base
//! gives the signals back.

use crate::fd_entry::plain_handler;
use crate::{Error, EventBase, HandlerResult, Result, Signal};
use std::os::fd::{AsRawFd, OwnedFd};

type SignalFn = Box<dyn FnMut(&mut EventBase, Signal) -> HandlerResult>;

/// A signal handler's handle, for [`EventBase::remove_signal_handler`]: what
/// [`EventBase::add_signal_handler`] returns (which has an example).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SignalHandlerId(u64);

pub(crate) struct SignalEntry {
    id: u64,
    signal: Signal,
    handler: Option<SignalFn>,
}

pub(crate) struct SignalPipe {
    read: OwnedFd,
    write: OwnedFd,
    pub(crate) handlers: Vec<SignalEntry>,
}

impl EventBase {
    /// Calls `f` when `signal` arrives (beyond IOLib; for clean exits on SIGINT/SIGTERM).
    /// Delivery goes through a self-pipe watched by this event base, so `f` runs in the loop,
    /// not in signal context. A signal has one notifier per process: a second event base
    /// taking the same signal takes it over. A signal may have several handlers; each is
    /// called, in the order they were added. An error a signal handler returns ends
    /// [`event_dispatch`](Self::event_dispatch) with [`Error::Handler`] (`fd: None`).
    ///
    /// ```
    /// use iomux::{DispatchOptions, DispatchOutcome, EventBase, Signal};
    /// use std::time::Duration;
    ///
    /// let mut base = EventBase::new()?;
    /// base.add_signal_handler(Signal::SIGUSR1, |base, signal| {
    ///     assert_eq!(signal, Signal::SIGUSR1);
    ///     base.exit_event_loop(Duration::ZERO); // a clean exit, as on SIGINT
    ///     Ok(())
    /// })?;
    /// isys::raise(Signal::SIGUSR1)?; // handled in the loop, not now
    /// let opts = DispatchOptions::default().timeout(Duration::from_secs(10));
    /// assert_eq!(base.event_dispatch(opts)?, DispatchOutcome::ExitRequested);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// - [`Error::Sys`] with `call: "pipe"`: the self-pipe could not be made (first signal
    ///   handler of this base; `EMFILE`, `ENFILE`).
    /// - [`Error::Sys`] with `call: "sigaction"`: the signal cannot be caught (`EINVAL` for
    ///   `SIGKILL` and `SIGSTOP`).
    /// - [`Error::FdTooLarge`] (select) or [`Error::FdSys`]: the backend cannot watch the
    ///   self-pipe.
    pub fn add_signal_handler<F>(&mut self, signal: Signal, f: F) -> Result<SignalHandlerId>
    where
        F: FnMut(&mut EventBase, Signal) -> HandlerResult + 'static,
    {
        self.settle();
        if self.signals.is_none() {
            let (read, write) = isys::pipe(true).map_err(|e| Error::sys("pipe", e))?;
            let rfd = read.as_raw_fd();
            self.signals = Some(SignalPipe {
                read,
                write,
                handlers: Vec::new(),
            });
            let handler = plain_handler(|base, _fd, _ev, _exc| base.drain_signals());
            self.add_internal_reader(rfd, handler)?;
        }
        let id = self.next_id;
        self.next_id += 1;
        let pipe = self.signals.as_mut().expect("created above");
        if !pipe.handlers.iter().any(|h| h.signal == signal) {
            isys::signal_notify(signal, pipe.write.as_raw_fd())
                .map_err(|e| Error::sys("sigaction", e))?;
        }
        pipe.handlers.push(SignalEntry {
            id,
            signal,
            handler: Some(Box::new(f)),
        });
        Ok(SignalHandlerId(id))
    }

    /// Removes a signal handler; the signal's default disposition comes back when its last
    /// handler goes. Returns whether it was registered.
    ///
    /// ```
    /// use iomux::{EventBase, Signal};
    ///
    /// let mut base = EventBase::new()?;
    /// let id = base.add_signal_handler(Signal::SIGUSR2, |_, _| Ok(()))?;
    /// assert!(base.remove_signal_handler(id));
    /// assert!(!base.remove_signal_handler(id));
    /// assert!(base.is_empty());
    /// # Ok::<(), iomux::Error>(())
    /// ```
    pub fn remove_signal_handler(&mut self, id: SignalHandlerId) -> bool {
        self.settle();
        let Some(pipe) = self.signals.as_mut() else {
            return false;
        };
        let Some(pos) = pipe.handlers.iter().position(|h| h.id == id.0) else {
            return false;
        };
        let signal = pipe.handlers.remove(pos).signal;
        if !pipe.handlers.iter().any(|h| h.signal == signal) {
            let _ = isys::signal_unnotify(signal);
        }
        true
    }

    fn drain_signals(&mut self) -> HandlerResult {
        let mut buf = [0u8; 64];
        loop {
            let Some(pipe) = self.signals.as_ref() else {
                return Ok(());
            };
            let n = match isys::read(&pipe.read, &mut buf) {
                Ok(0) | Err(isys::Errno::EWOULDBLOCK) => return Ok(()),
                Err(isys::Errno::EINTR) => continue,
                Err(e) => return Err(Box::new(Error::sys("read", e))),
                Ok(n) => n,
            };
            for &b in &buf[..n] {
                let Ok(signal) = Signal::try_from(b as i32) else {
                    continue;
                };
                let mut i = 0;
                while let Some(pipe) = self.signals.as_mut() {
                    let Some(entry) = pipe.handlers.get_mut(i) else {
                        break;
                    };
                    i += 1;
                    if entry.signal != signal {
                        continue;
                    }
                    let id = entry.id;
                    let Some(mut h) = entry.handler.take() else {
                        continue;
                    };
                    let r = h(self, signal);
                    if let Some(e) = self
                        .signals
                        .as_mut()
                        .and_then(|p| p.handlers.iter_mut().find(|x| x.id == id))
                    {
                        e.handler = Some(h);
                    }
                    r?;
                }
            }
        }
    }
}

impl Drop for EventBase {
    fn drop(&mut self) {
        if let Some(pipe) = self.signals.take() {
            for h in &pipe.handlers {
                let _ = isys::signal_unnotify(h.signal);
            }
        }
    }
}
