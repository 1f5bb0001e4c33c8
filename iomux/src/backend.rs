//! Picking a backend (IOLib's `detect`): [`Backend`], the compiled ones best first, the
//! `IOMUX_BACKEND` override, and the names it is spelled with.

use crate::{Error, Result};
use std::fmt;
use std::str::FromStr;

/// The environment variable that overrides the default backend.
const ENV_VAR: &str = "IOMUX_BACKEND";

/// A multiplexer backend (IOLib's `multiplexer` classes; see [the porting table][porting]).
/// Every variant exists on every OS; [`available`](Self::available) lists the compiled ones.
/// Names parse case-insensitively and print as `IOMUX_BACKEND` spells them.
///
/// ```
/// use iomux::{Backend, EventBase};
///
/// let backend: Backend = "Poll".parse()?;
/// assert_eq!(backend, Backend::Poll);
/// assert_eq!(backend.to_string(), "poll");
/// assert!("kqueue2".parse::<Backend>().is_err()); // Error::UnknownBackend
/// if backend.is_available() {
///     assert_eq!(EventBase::with_backend(backend)?.backend(), Backend::Poll);
/// }
/// # Ok::<(), iomux::Error>(())
/// ```
///
/// [porting]: https://github.com/iolib-rs/iolib-rs/blob/main/docs/PORTING.md#the-event-base
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// epoll(7), Linux and Android: needs the `native` or `epoll` feature.
    Epoll,
    /// kqueue(2), BSD and macOS: needs the `native` or `kqueue` feature.
    Kqueue,
    /// poll(2): needs the `poll` feature (a default one).
    Poll,
    /// select(2), fds below `FD_SETSIZE` only: needs the `select` feature (a default one).
    Select,
}

impl Backend {
    /// The compiled backends, best first: the native one, then poll, then select, as the
    /// features allow. Never empty (a build without a backend fails).
    ///
    /// ```
    /// use iomux::Backend;
    ///
    /// let names: Vec<&str> = Backend::available().iter().map(|b| b.name()).collect();
    /// println!("compiled backends: {}", names.join(", "));
    /// assert_eq!(Backend::available()[0], Backend::best());
    /// ```
    pub fn available() -> &'static [Backend] {
        &[
            #[cfg(iomux_epoll)]
            Backend::Epoll,
            #[cfg(iomux_kqueue)]
            Backend::Kqueue,
            #[cfg(iomux_poll)]
            Backend::Poll,
            #[cfg(iomux_select)]
            Backend::Select,
        ]
    }

    /// Whether this backend is compiled in.
    ///
    /// ```
    /// use iomux::Backend;
    ///
    /// assert!(Backend::best().is_available());
    /// if cfg!(target_os = "linux") {
    ///     assert!(!Backend::Kqueue.is_available());
    /// }
    /// ```
    pub fn is_available(self) -> bool {
        Backend::available().contains(&self)
    }

    /// The backend's name as `IOMUX_BACKEND` spells it (also its `Display`).
    ///
    /// ```
    /// assert_eq!(iomux::Backend::Select.name(), "select");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Backend::Epoll => "epoll",
            Backend::Kqueue => "kqueue",
            Backend::Poll => "poll",
            Backend::Select => "select",
        }
    }

    /// The best compiled backend: the one [`EventBase::new`](crate::EventBase::new) takes
    /// when `IOMUX_BACKEND` is not set (IOLib's `*default-multiplexer*`).
    ///
    /// ```
    /// use iomux::Backend;
    ///
    /// if cfg!(target_os = "linux") && Backend::Epoll.is_available() {
    ///     assert_eq!(Backend::best(), Backend::Epoll);
    /// }
    /// ```
    pub fn best() -> Backend {
        Backend::available()[0]
    }

    /// The backend `IOMUX_BACKEND` names, if set (an empty value counts as unset).
    ///
    /// ```
    /// use iomux::{Backend, Error};
    ///
    /// std::env::set_var("IOMUX_BACKEND", "kqueue2");
    /// let err = Backend::from_env().unwrap_err();
    /// assert!(matches!(err, Error::UnknownBackend { env_var: Some("IOMUX_BACKEND"), .. }));
    /// assert!(err.to_string().starts_with("IOMUX_BACKEND=kqueue2: "));
    /// std::env::remove_var("IOMUX_BACKEND");
    /// assert_eq!(Backend::from_env()?, None);
    /// # Ok::<(), Error>(())
    /// ```
    ///
    /// # Errors
    /// An unknown or uncompiled name: [`Error::UnknownBackend`] or
    /// [`Error::BackendUnavailable`] with `env_var: Some("IOMUX_BACKEND")`, whose message
    /// starts with the variable and its value (`IOMUX_BACKEND=kqueue2: unknown iomux backend
    /// ...`).
    pub fn from_env() -> Result<Option<Backend>> {
        match std::env::var(ENV_VAR) {
            Ok(v) if !v.trim().is_empty() => {
                let from_env = |e| match e {
                    Error::UnknownBackend { name, .. } => Error::UnknownBackend {
                        name,
                        env_var: Some(ENV_VAR),
                    },
                    Error::BackendUnavailable {
                        backend, available, ..
                    } => Error::BackendUnavailable {
                        backend,
                        available,
                        env_var: Some(ENV_VAR),
                    },
                    other => other,
                };
                let b: Backend = v.trim().parse().map_err(from_env)?;
                b.check_available().map_err(from_env)?;
                Ok(Some(b))
            }
            _ => Ok(None),
        }
    }

    pub(crate) fn check_available(self) -> Result<()> {
        if self.is_available() {
            Ok(())
        } else {
            Err(Error::BackendUnavailable {
                backend: self,
                available: Backend::available()
                    .iter()
                    .map(|b| b.name())
                    .collect::<Vec<_>>()
                    .join(", "),
                env_var: None,
            })
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Backend {
    type Err = Error;
    /// Parses a backend name, in any case: `epoll`, `kqueue`, `poll` or `select`. The
    /// backend need not be compiled in ([`Backend::is_available`] says).
    ///
    /// # Errors
    /// [`Error::UnknownBackend`] (with `env_var: None`) for any other name.
    fn from_str(s: &str) -> Result<Backend> {
        match s.to_ascii_lowercase().as_str() {
            "epoll" => Ok(Backend::Epoll),
            "kqueue" => Ok(Backend::Kqueue),
            "poll" => Ok(Backend::Poll),
            "select" => Ok(Backend::Select),
            _ => Err(Error::UnknownBackend {
                name: s.to_string(),
                env_var: None,
            }),
        }
    }
}
