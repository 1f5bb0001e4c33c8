//! What the per-backend test files share: `per_backend!` turns each `fn name(b: Backend)` into
//! one `#[test]` per compiled backend (a module per backend, as the suite does).

/// `per_backend!(a, b)`: tests `epoll::a`, `poll::a`, `select::a`, ... for each backend the
/// features compile in.
#[macro_export]
macro_rules! per_backend {
    ($($test:ident),* $(,)?) => {
        #[cfg(any(feature = "epoll", all(feature = "native", any(target_os = "linux", target_os = "android"))))]
        mod epoll { $( #[test] fn $test() { super::$test(iomux::Backend::Epoll) } )* }
        #[cfg(any(feature = "kqueue", all(feature = "native", any(target_os = "macos", target_os = "ios", target_os = "freebsd", target_os = "openbsd", target_os = "netbsd", target_os = "dragonfly"))))]
        mod kqueue { $( #[test] fn $test() { super::$test(iomux::Backend::Kqueue) } )* }
        #[cfg(feature = "poll")]
        mod poll { $( #[test] fn $test() { super::$test(iomux::Backend::Poll) } )* }
        #[cfg(feature = "select")]
        mod select { $( #[test] fn $test() { super::$test(iomux::Backend::Select) } )* }
    };
}
