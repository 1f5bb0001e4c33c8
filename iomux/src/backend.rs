//! Picking a backend (IOLib's `detect`): [`Backend`], the compiled ones best first, the
//! `IOMUX_BACKEND` override, and the names it is spelled with.

use crate::{Error, Result};
use std::fmt;
use std::str::FromStr;

/// The environment variable that overrides the default backend.
const ENV_VAR: &str = "IOMUX_BACKEND";

/// A multiplexer backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// epoll(7), Linux.
    Epoll,
    /// kqueue(2), BSD and macOS.
    Kqueue,
    /// poll(2).
    Poll,
    /// select(2), fds below `FD_SETSIZE` only.
    Select,
}

impl Backend {
    /// The compiled backends, best first.
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
    pub fn is_available(self) -> bool {
        Backend::available().contains(&self)
    }

    /// The backend's name as `IOMUX_BACKEND` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Epoll => "epoll",
            Backend::Kqueue => "kqueue",
            Backend::Poll => "poll",
            Backend::Select => "select",
        }
    }

    /// The best compiled backend.
    pub fn best() -> Backend {
        Backend::available()[0]
    }

    /// The backend `IOMUX_BACKEND` names, if set.
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
