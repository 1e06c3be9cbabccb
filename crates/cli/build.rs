//! Links the `rehearse` executable as a fixed-address (non-PIE) program on Linux with the
//! GNU toolchain. A position-independent executable of this size carries ~80,000 relative
//! relocations in ~1.8 MB of `.data.rel.ro`; the dynamic loader writes every one of them at
//! each start, which copies ~450 pages and was most of a 1-step run's system time
//! (docs/BENCHMARKS.md, "#10: process start"). A fixed-address executable has them resolved
//! by the linker. The cost is ASLR of the executable's own code (libraries, stack and heap
//! stay randomised); `REHEARSE_PIE=1` at build time keeps the default position-independent
//! executable.

fn main() {
    println!("cargo:rerun-if-env-changed=REHEARSE_PIE");
    let linux_gnu = std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux")
        && std::env::var("CARGO_CFG_TARGET_ENV").as_deref() == Ok("gnu");
    if linux_gnu && std::env::var_os("REHEARSE_PIE").is_none_or(|v| v != "1") {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
