//! A bound on buffered input shared by many sockets ([`InputBudget`]): what a server gives
//! every connection it accepts so that clients sending endless unfinished lines cannot, all
//! together, take the process's memory.
//!
//! A stream socket's input buffer has a base size (`input_buffer_size`, at least 512 bytes).
//! It grows beyond that only while one unfinished line fills it; that growth, and only that,
//! is charged to the socket's budget, and released when the buffer shrinks back (once the long
//! line is consumed) or the socket is closed or dropped. Reads that do not grow the buffer
//! never touch the budget, so the hot path costs no atomic operation.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A limit on the input bytes a group of sockets may buffer beyond their base buffers,
/// shared by cheap clones (an `Arc` around one atomic counter).
///
/// Attach one with [`ActiveSocket::set_input_budget`](crate::ActiveSocket::set_input_budget),
/// [`MakeSocket::input_budget`](crate::MakeSocket::input_budget), or on a listener with
/// [`PassiveSocket::set_input_budget`](crate::PassiveSocket::set_input_budget), so every
/// accepted socket shares it. When growing a socket's buffer for an unfinished line would
/// take the total over the limit, that read fails with
/// [`Error::InputBudgetExceeded`](crate::Error::InputBudgetExceeded) (a per-peer error) and
/// the rest of that line is skipped, as for [`Error::LineTooLong`](crate::Error::LineTooLong).
/// Without a budget (the default) only the maximum line length bounds a socket's buffer.
///
/// ```
/// use sockets::*;
/// let budget = InputBudget::new(64 * 1024);
/// let (mut a, b) = make_socket_pair(ExternalFormat::default())?;
/// a.set_input_budget(Some(budget.clone()));
/// assert_eq!(budget.in_use(), 0);
/// # drop(b);
/// # Ok::<(), sockets::Error>(())
/// ```
#[derive(Clone)]
pub struct InputBudget {
    inner: Arc<Inner>,
}

struct Inner {
    limit: usize,
    used: AtomicUsize,
}

impl InputBudget {
    /// A budget of `limit` bytes, shared by every clone.
    ///
    /// ```
    /// use sockets::*;
    ///
    /// // Lines longer than the 16 KiB base buffer need budget; this one has 1 KiB.
    /// let (mut a, mut b) = make_socket_pair(ExternalFormat::UTF8_LF)?;
    /// b.set_input_budget(Some(InputBudget::new(1024)));
    /// a.write_line(&"x".repeat(40_000))?;
    /// a.write_line("next")?;
    /// a.finish_output()?;
    /// assert!(matches!(b.read_line(), Err(Error::InputBudgetExceeded { .. })));
    /// assert_eq!(b.read_line()?, "next");
    /// # Ok::<(), sockets::Error>(())
    /// ```
    pub fn new(limit: usize) -> Self {
        InputBudget {
            inner: Arc::new(Inner {
                limit,
                used: AtomicUsize::new(0),
            }),
        }
    }

    /// The limit in bytes.
    ///
    /// See [`same_as`](Self::same_as) for an example.
    pub fn limit(&self) -> usize {
        self.inner.limit
    }

    /// Bytes charged right now by the sockets sharing this budget.
    ///
    /// See [`InputBudget`] for an example.
    pub fn in_use(&self) -> usize {
        self.inner.used.load(Ordering::Relaxed)
    }

    /// Bytes that can still be charged.
    ///
    /// See [`same_as`](Self::same_as) for an example.
    pub fn available(&self) -> usize {
        self.limit().saturating_sub(self.in_use())
    }

    /// Whether `other` is a clone of this budget (the same counter).
    ///
    /// ```
    /// use sockets::InputBudget;
    ///
    /// let budget = InputBudget::new(1 << 20);
    /// assert!(budget.same_as(&budget.clone()));
    /// assert!(!budget.same_as(&InputBudget::new(1 << 20)));
    /// assert_eq!(budget.available(), budget.limit());
    /// ```
    pub fn same_as(&self, other: &InputBudget) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Charges `n` bytes if that keeps the total within the limit; `false` (nothing charged)
    /// otherwise.
    pub(crate) fn try_charge(&self, n: usize) -> bool {
        let limit = self.inner.limit;
        self.inner
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |used| {
                used.checked_add(n).filter(|&total| total <= limit)
            })
            .is_ok()
    }

    /// Charges `n` bytes whatever the limit (moving a socket's existing charge here).
    pub(crate) fn force_charge(&self, n: usize) {
        self.inner.used.fetch_add(n, Ordering::AcqRel);
    }

    /// Gives back `n` bytes charged earlier.
    pub(crate) fn release(&self, n: usize) {
        let _ = self
            .inner
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |used| {
                Some(used.saturating_sub(n))
            });
    }
}

impl fmt::Debug for InputBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InputBudget")
            .field("limit", &self.limit())
            .field("in_use", &self.in_use())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_stay_within_the_limit_and_clones_share_them() {
        let a = InputBudget::new(100);
        let b = a.clone();
        assert!(a.try_charge(60));
        assert!(!b.try_charge(41));
        assert_eq!(b.in_use(), 60);
        assert!(b.try_charge(40));
        assert_eq!(a.available(), 0);
        a.release(60);
        b.release(40);
        assert_eq!(a.in_use(), 0);
        assert!(a.same_as(&b) && !a.same_as(&InputBudget::new(100)));
        a.release(5);
        assert_eq!(a.in_use(), 0, "releasing more than charged saturates");
    }
}
