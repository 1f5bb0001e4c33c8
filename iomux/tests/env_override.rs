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
        matches!(e, Error::UnknownBackend(ref s) if s == "epolll"),
        "{e}"
    );
    assert!(e.to_string().contains("select, poll, epoll, kqueue"));
    #[cfg(target_os = "linux")]
    {
        std::env::set_var("IOMUX_BACKEND", "kqueue");
        let e = EventBase::new().unwrap_err();
        assert!(matches!(e, Error::BackendUnavailable { .. }), "{e}");
        assert!(e.to_string().contains("not compiled in"));
    }
    std::env::set_var("IOMUX_BACKEND", "");
    assert_eq!(EventBase::new().unwrap().backend(), Backend::best());
    std::env::remove_var("IOMUX_BACKEND");
}
