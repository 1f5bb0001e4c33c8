//! Emits `linux_like` / `bsd_like` cfgs for isys, and `direct_syscalls` where the data-path
//! calls enter the kernel by the `syscall` instruction (`src/direct.rs`): Linux or Android on
//! x86-64 with 64-bit pointers (not the x32 ABI, whose 32-bit `usize` would leave the upper
//! halves of the argument registers undefined).
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if matches!(os.as_str(), "linux" | "android") {
        println!("cargo:rustc-cfg=linux_like");
        let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
        let width = std::env::var("CARGO_CFG_TARGET_POINTER_WIDTH").unwrap_or_default();
        if arch == "x86_64" && width == "64" {
            println!("cargo:rustc-cfg=direct_syscalls");
        }
    }
    if matches!(
        os.as_str(),
        "macos" | "ios" | "tvos" | "watchos" | "freebsd" | "openbsd" | "netbsd" | "dragonfly"
    ) {
        println!("cargo:rustc-cfg=bsd_like");
    }
}
