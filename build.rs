//! Platform probe for the `iolib` facade: emits cfgs only (`linux_like`, `bsd_like`).
//!
//! The facade's backend features forward to iomux (`epoll = ["iomux/epoll"]`, ...), and
//! iomux's own build script is where an impossible backend (epoll off Linux, kqueue off
//! BSD/macOS) is rejected with a clear message, so the check lives in one place for both.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if matches!(os.as_str(), "linux" | "android") {
        println!("cargo:rustc-cfg=linux_like");
    }
    if matches!(
        os.as_str(),
        "macos" | "ios" | "tvos" | "watchos" | "freebsd" | "openbsd" | "netbsd" | "dragonfly"
    ) {
        println!("cargo:rustc-cfg=bsd_like");
    }
}
