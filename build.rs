//! Platform probe for the `iolib` facade: emits cfgs only (`linux_like`, `bsd_like`), and
//! rejects backend features that cannot exist on the target with a clear message.
//!
//! Features are additive, so `--all-features` (docs.rs, clippy) enables both `epoll` and
//! `kqueue`: an impossible backend is then ignored with a warning as long as another backend
//! can be built. Asking *only* for impossible backends is an error.

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
    let on = |f: &str| env::var_os(format!("CARGO_FEATURE_{f}")).is_some();
    let usable = on("POLL")
        || on("SELECT")
        || on("NATIVE")
        || (on("EPOLL") && linux_like)
        || (on("KQUEUE") && bsd_like);
    for (feature, ok, needs) in [
        ("EPOLL", linux_like, "Linux or Android"),
        ("KQUEUE", bsd_like, "BSD or macOS"),
    ] {
        if on(feature) && !ok {
            let name = feature.to_lowercase();
            if usable {
                println!(
                    "cargo:warning=iolib: the `{name}` backend needs {needs}; ignored on `{os}`"
                );
            } else {
                panic!("iolib: the `{name}` backend needs {needs} (target os is `{os}`); enable `poll` or `select` instead");
            }
        }
    }
}
