//! Platform probe for the `iolib` facade: emits cfgs only, and rejects backend features that
//! cannot exist on the target with a clear message.

use std::env;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let linux_like = matches!(os.as_str(), "linux" | "android");
    let bsd_like = matches!(
        os.as_str(),
        "macos" | "ios" | "tvos" | "watchos" | "freebsd" | "openbsd" | "netbsd" | "dragonfly"
    );
    if linux_like {
        println!("cargo:rustc-cfg=linux_like");
    }
    if bsd_like {
        println!("cargo:rustc-cfg=bsd_like");
    }
    if env::var_os("CARGO_FEATURE_EPOLL").is_some() && !linux_like {
        panic!("iolib: the `epoll` feature needs Linux or Android (target os is `{os}`); use `kqueue`, `poll` or `select`");
    }
    if env::var_os("CARGO_FEATURE_KQUEUE").is_some() && !bsd_like {
        panic!("iolib: the `kqueue` feature needs BSD or macOS (target os is `{os}`); use `epoll`, `poll` or `select`");
    }
}
