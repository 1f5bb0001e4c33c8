//! Emits `linux_like` / `bsd_like` cfgs for isys.
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
