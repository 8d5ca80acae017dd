//! `libtinyglib.a`: the tinyglib rlib packaged as a `no_std` static library for C
//! programs and Xen Mini-OS stub domains. It adds only what a final artifact needs:
//! the global allocator ([`tinyglib_core::MallocAllocator`], over C `malloc`/`free`/
//! `memalign`) and a panic handler that calls `abort()`.
//!
//! A workspace of its own (panic = abort in every profile). Build:
//!
//! ```sh
//! cargo build --manifest-path tinyglib/capi/Cargo.toml --release                               # host
//! cargo build --manifest-path tinyglib/capi/Cargo.toml --release --target x86_64-unknown-none  # Mini-OS
//! ```
//!
//! then link `tinyglib/capi/target/<triple>/release/libtinyglib.a` with `-I tinyglib/include`.
#![no_std]

// Link every exported `tinyglib_*` symbol into the archive.
pub use tinyglib_core::*;

#[global_allocator]
static ALLOCATOR: tinyglib_core::MallocAllocator = tinyglib_core::MallocAllocator;

extern "C" {
    fn abort() -> !;
}

/// The host's precompiled `alloc` is built for unwinding and refers to the personality
/// routine from its unwind tables. With panic = abort nothing ever unwinds, so it is
/// never called; it only has to exist for the link of a plain C program.
#[cfg(not(target_os = "none"))]
#[no_mangle]
pub extern "C" fn rust_eh_personality() {}

#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    // SAFETY: libc abort never returns; nothing unwinds into C.
    unsafe { abort() }
}
