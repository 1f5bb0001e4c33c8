//! The multiplexer (IOLib's `multiplexer`): `Selector` dispatches statically to the compiled
//! backend in `sys/`, with epoll's event buffer beside it. The changelist that feeds it is
//! `changelist.rs`.

use crate::sys::{self, Interest, Plain, Ready};
use crate::{Backend, Error, Result};
use std::os::fd::RawFd;
use std::time::Duration;

/// The compiled backend, and epoll's event buffer beside it.
///
/// The buffer is outside the backend enum, empty on the other backends, so that reading the
/// `i`th ready fd ([`ready_plain`](Self::ready_plain)) is a bounds check on it and nothing
/// else: no check of which backend this is, once per ready fd.
#[derive(Debug)]
pub(crate) struct Selector {
    #[cfg(iomux_epoll)]
    events: isys::EpollBuffer,
    backend: Backends,
}

/// Static dispatch over the compiled backends. One per event base, so the select variant's
/// inline fd sets cost nothing worth a box (and an indirection on every wait).
///
/// An explicit tag (`repr(u8)`) makes telling the variants apart one byte compare, instead of
/// decoding a niche inside the epoll variant on every wait.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
#[repr(u8)]
enum Backends {
    #[cfg(iomux_epoll)]
    Epoll(sys::epoll::Selector),
    #[cfg(iomux_kqueue)]
    Kqueue(sys::kqueue::Selector),
    #[cfg(iomux_poll)]
    Poll(sys::poll::Selector),
    #[cfg(iomux_select)]
    Select(sys::select::Selector),
}

macro_rules! with_selector {
    ($sel:expr, $s:ident, $ty:ident => $body:expr) => {
        match $sel {
            #[cfg(iomux_epoll)]
            Backends::Epoll($s) => {
                #[allow(unused)]
                type $ty = sys::epoll::Selector;
                $body
            }
            #[cfg(iomux_kqueue)]
            Backends::Kqueue($s) => {
                #[allow(unused)]
                type $ty = sys::kqueue::Selector;
                $body
            }
            #[cfg(iomux_poll)]
            Backends::Poll($s) => {
                #[allow(unused)]
                type $ty = sys::poll::Selector;
                $body
            }
            #[cfg(iomux_select)]
            Backends::Select($s) => {
                #[allow(unused)]
                type $ty = sys::select::Selector;
                $body
            }
        }
    };
}

/// A backend's wait, out of line, its result packed ([`sys::pack`]).
#[cfg(any(iomux_kqueue, iomux_poll, iomux_select))]
macro_rules! select_packed {
    ($s:expr, $ty:ty, $timeout:expr) => {{
        #[inline(never)]
        fn packed(s: &mut $ty, timeout: Option<Duration>) -> isize {
            sys::pack(s.select(timeout))
        }
        packed($s, $timeout)
    }};
}

impl Selector {
    pub(crate) fn new(backend: Backend) -> Result<Selector> {
        backend.check_available()?;
        let r = match backend {
            #[cfg(iomux_epoll)]
            Backend::Epoll => sys::epoll::Selector::new().map(Backends::Epoll),
            #[cfg(iomux_kqueue)]
            Backend::Kqueue => sys::kqueue::Selector::new().map(Backends::Kqueue),
            #[cfg(iomux_poll)]
            Backend::Poll => sys::poll::Selector::new().map(Backends::Poll),
            #[cfg(iomux_select)]
            Backend::Select => sys::select::Selector::new().map(Backends::Select),
            #[allow(unreachable_patterns)]
            _ => unreachable!("checked by check_available"),
        };
        let backend = r.map_err(|e| Error::sys("multiplexer setup", e))?;
        Ok(Selector {
            #[cfg(iomux_epoll)]
            events: match backend {
                Backends::Epoll(_) => sys::epoll::Selector::buffer(),
                #[allow(unreachable_patterns)]
                _ => isys::EpollBuffer::default(),
            },
            backend,
        })
    }
    pub(crate) fn backend(&self) -> Backend {
        match self.backend {
            #[cfg(iomux_epoll)]
            Backends::Epoll(_) => Backend::Epoll,
            #[cfg(iomux_kqueue)]
            Backends::Kqueue(_) => Backend::Kqueue,
            #[cfg(iomux_poll)]
            Backends::Poll(_) => Backend::Poll,
            #[cfg(iomux_select)]
            Backends::Select(_) => Backend::Select,
        }
    }
    pub(crate) fn max_fd(&self) -> Option<usize> {
        with_selector!(&self.backend, _s, S => S::MAX_FD)
    }
    pub(crate) fn verify_identity(&self) -> bool {
        with_selector!(&self.backend, _s, S => S::VERIFY_IDENTITY)
    }
    pub(crate) fn register(&mut self, fd: RawFd, i: Interest) -> isys::Result<()> {
        with_selector!(&mut self.backend, s, _S => s.register(fd, i))
    }
    pub(crate) fn reregister(&mut self, fd: RawFd, i: Interest) -> isys::Result<()> {
        with_selector!(&mut self.backend, s, _S => s.reregister(fd, i))
    }
    /// The call that registers an fd, for error messages.
    pub(crate) fn register_call(&self) -> &'static str {
        match self.backend() {
            Backend::Epoll => "epoll_ctl(EPOLL_CTL_ADD)",
            Backend::Kqueue => "kevent(EV_ADD)",
            Backend::Poll => "add to the poll set",
            Backend::Select => "add to the select set",
        }
    }

    pub(crate) fn deregister(&mut self, fd: RawFd) -> isys::Result<()> {
        with_selector!(&mut self.backend, s, _S => s.deregister(fd))
    }
    /// Waits; returns how many fds have events, read back with [`ready`](Self::ready).
    /// epoll's wait is inlined into the loop behind one tag compare; the others are a call.
    #[inline(always)]
    pub(crate) fn select(&mut self, timeout: Option<Duration>) -> isys::Result<usize> {
        match &mut self.backend {
            #[cfg(iomux_epoll)]
            Backends::Epoll(s) => s.select(&mut self.events, timeout),
            #[allow(unreachable_patterns)]
            _ => sys::unpack(self.select_other(timeout)),
        }
    }
    /// `select(None)` while nothing is kept aside (see [`has_always`](Self::has_always)):
    /// on epoll, the kernel's wait alone.
    #[inline(always)]
    pub(crate) fn select_plain(&mut self) -> isys::Result<usize> {
        match &mut self.backend {
            #[cfg(iomux_epoll)]
            Backends::Epoll(s) => s.select_plain(&mut self.events),
            #[allow(unreachable_patterns)]
            _ => sys::unpack(self.select_other(None)),
        }
    }
    /// Whether the backend keeps fds aside that every wait reports (epoll's always-ready
    /// fds), so that a wait must look at more than the kernel's answer.
    pub(crate) fn has_always(&self) -> bool {
        match &self.backend {
            #[cfg(iomux_epoll)]
            Backends::Epoll(s) => s.has_always(),
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }
    /// `select` for the backends other than epoll: a call of the backend's own wait, out of
    /// line, whose registers are its own to save.
    #[inline(always)]
    #[cfg_attr(
        not(any(iomux_kqueue, iomux_poll, iomux_select)),
        allow(unused_variables)
    )]
    fn select_other(&mut self, timeout: Option<Duration>) -> isize {
        match &mut self.backend {
            // Waited on by `select` itself.
            #[cfg(iomux_epoll)]
            Backends::Epoll(_) => unreachable!("epoll's wait is select's own"),
            #[cfg(iomux_kqueue)]
            Backends::Kqueue(s) => select_packed!(s, sys::kqueue::Selector, timeout),
            #[cfg(iomux_poll)]
            Backends::Poll(s) => select_packed!(s, sys::poll::Selector, timeout),
            #[cfg(iomux_select)]
            Backends::Select(s) => select_packed!(s, sys::select::Selector, timeout),
        }
    }
    /// The `i`th fd with events at the last wait.
    #[inline]
    pub(crate) fn ready(&self, i: usize) -> Ready {
        match &self.backend {
            #[cfg(iomux_epoll)]
            Backends::Epoll(s) => s.ready(&self.events, i),
            #[cfg(iomux_kqueue)]
            Backends::Kqueue(s) => s.ready(i),
            #[cfg(iomux_poll)]
            Backends::Poll(s) => s.ready(i),
            #[cfg(iomux_select)]
            Backends::Select(s) => s.ready(i),
        }
    }
    /// The `i`th fd with events as `(fd, readiness)`, the fd as the fd table's index (the
    /// `u32` it is, widened where it is read), when it has no error, hang-up or invalid flag;
    /// `None` means ask [`ready`](Self::ready). On epoll that is a bounds check on its buffer
    /// and a read of it, without building a [`Ready`] and without asking which backend this
    /// is: the buffer is empty on the others, which derive it from `ready(i)`.
    #[inline(always)]
    pub(crate) fn ready_plain(&self, i: usize) -> Option<(usize, Plain)> {
        #[cfg(iomux_epoll)]
        if let Some(ev) = self.events.get(i) {
            return sys::epoll::plain(ev);
        }
        // Off epoll's path: laid out after it, so that it runs on with no jump.
        #[cfg(iomux_epoll)]
        other_backend();
        let r = self.ready(i);
        (!(r.invalid || r.error || r.hup))
            .then_some((r.fd as u32 as usize, Plain::new(r.read, r.write)))
    }
}

/// Marks the other backends' branch of [`Selector::ready_plain`] as the unlikely one when
/// epoll is compiled in (it costs them nothing: it is inlined away).
#[cfg(iomux_epoll)]
#[cold]
#[inline(always)]
fn other_backend() {}
