//! `IOMUX_BACKEND` steers `EventBase::new()`. Its own test binary: the environment is
//! process-wide.

use iomux::{Backend, Error, EventBase};

#[test]
fn iomux_backend_overrides_the_default_and_bad_values_are_clear_errors() {
    std::env::remove_var("IOMUX_BACKEND");
    assert_eq!(EventBase::new().unwrap().backend(), Backend::best());
    for b in Backend::available() {
        std::env::set_var("IOMUX_BACKEND", b.name());
        assert_eq!(EventBase::new().unwrap().backend(), *b);
        // An explicit choice wins over the environment.
        let other = *Backend::available().last().unwrap();
        assert_eq!(EventBase::with_backend(other).unwrap().backend(), other);
    }
    std::env::set_var("IOMUX_BACKEND", "epolll");
    let e = EventBase::new().unwrap_err();
    assert!(
        matches!(e, Error::UnknownBackend { ref name, env_var: Some("IOMUX_BACKEND") } if name == "epolll"),
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        "IOMUX_BACKEND=epolll: unknown iomux backend \"epolll\", \
         expected one of select, poll, epoll, kqueue"
    );
    // The same mistake made by a program names no variable.
    let e = "epolll".parse::<Backend>().unwrap_err();
    assert!(
        matches!(e, Error::UnknownBackend { env_var: None, .. }),
        "{e}"
    );
    assert!(e.to_string().starts_with("unknown iomux backend"), "{e}");
    #[cfg(target_os = "linux")]
    {
        std::env::set_var("IOMUX_BACKEND", "kqueue");
        let e = EventBase::new().unwrap_err();
        assert!(
            matches!(
                e,
                Error::BackendUnavailable {
                    backend: Backend::Kqueue,
                    env_var: Some("IOMUX_BACKEND"),
                    ..
                }
            ),
            "{e}"
        );
        let msg = e.to_string();
        assert!(
            msg.starts_with("IOMUX_BACKEND=kqueue: iomux backend kqueue is not compiled in"),
            "{msg}"
        );
        let e = EventBase::with_backend(Backend::Kqueue).unwrap_err();
        assert!(
            matches!(e, Error::BackendUnavailable { env_var: None, .. }),
            "{e}"
        );
        assert!(e.to_string().starts_with("iomux backend kqueue"), "{e}");
    }
    // `from_env` itself, as a program checking the variable early would call it.
    std::env::set_var("IOMUX_BACKEND", "kqueue2");
    let e = Backend::from_env().unwrap_err();
    assert!(
        e.to_string()
            .starts_with("IOMUX_BACKEND=kqueue2: unknown iomux backend"),
        "{e}"
    );
    std::env::set_var("IOMUX_BACKEND", "");
    assert_eq!(EventBase::new().unwrap().backend(), Backend::best());
    std::env::remove_var("IOMUX_BACKEND");
}
