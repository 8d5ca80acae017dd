//! TinyVMI: upstream LibVMI (Xen driver, Linux/Windows/FreeBSD/macOS support, config
//! parser), tinyglib and this crate's glue as **one static archive for Xen Mini-OS stub
//! domains**.
//!
//! Build it (the include directory with `libvmi/libvmi.h`, `glib.h` and `tinyvmi.h`
//! is copied next to the archive, see `minios/README.md`):
//!
//! ```text
//! cargo build --release --target x86_64-unknown-none -p tinyvmi
//! # -> target/x86_64-unknown-none/release/libtinyvmi.a
//! # -> target/x86_64-unknown-none/release/include/
//! cargo xtask minios-audit target/x86_64-unknown-none/release/libtinyvmi.a
//! ```
//!
//! What a stub domain lacks, and where this crate fills in:
//!
//! - **files**: LibVMI's `fopen` calls are renamed at compile time to
//!   [`stdio::tinyvmi_fopen`], which serves in-memory [`blobs`] (config, `System.map`,
//!   the `/sys/hypervisor` version files) and falls back to the real `fopen`;
//! - **a dynamic loader**: the Xen driver's `dlopen`/`dlsym` reach a static table
//!   generated at build time (`minios/csrc/dl_static.c`);
//! - **iconv**: a UTF-16/UTF-8 subset in [`iconv`].
//!
//! On the host the crate is an ordinary `rlib` (with `std`), so the workspace builds and
//! the same pieces are tested there. On `target_os = "none"` it installs
//! [`tinyglib::MallocAllocator`] as the global allocator and a panic handler that calls
//! `abort`.
#![no_std]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(not(target_os = "none"))]
extern crate std;
// Linked (and bundled into libtinyvmi.a) for LibVMI's C code, which calls its g_* API.
extern crate tinyglib;

pub mod blobs;
pub mod iconv;
pub mod stdio;

#[cfg(target_os = "none")]
#[global_allocator]
static ALLOCATOR: tinyglib::MallocAllocator = tinyglib::MallocAllocator;

#[cfg(target_os = "none")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    extern "C" {
        fn abort() -> !;
    }
    // SAFETY: newlib's abort takes no arguments and does not return.
    unsafe { abort() }
}
