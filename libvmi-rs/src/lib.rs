//! # libvmi — a safe Rust API over upstream LibVMI
//!
//! Virtual machine introspection of Xen domains and raw memory images through upstream
//! [LibVMI](https://github.com/libvmi/libvmi) (built from a pinned commit by
//! `libvmi-sys`), with:
//!
//! * **typed addresses and ids** — [`Va`], [`Pa`], [`Gfn`], [`Dtb`], [`Pid`] — and an
//!   [`AccessContext`] that says how an address is translated;
//! * **one error type**, [`Error`], that says what failed and for which address, symbol,
//!   pid or register (where LibVMI only says `VMI_FAILURE`);
//! * **RAII**: dropping a [`Vmi`] destroys the instance (clearing its events first);
//!   [`Vmi::pause`] returns a guard that resumes the VM;
//! * **events** with Rust closures and a listen loop that cleans up ([`events`]);
//! * **OS awareness** beyond the C API: bounded walks of Linux processes, threads and
//!   kernel modules ([`os::linux`]), and a process's memory as
//!   [`std::io::Read`] + [`std::io::Seek`] ([`ProcessMemory`]);
//! * **no allocation** on the read and translate paths: bytes go straight into caller
//!   buffers; symbol names are passed to C from the stack.
//!
//! [`Vmi`] is `Send` but not `Sync`: LibVMI is not thread-safe.
//!
//! ## Coverage of LibVMI
//!
//! | area | API |
//! |---|---|
//! | initialisation: File images, Xen domains by name or id; config as string, file, map or JSON profile; partial (driver, then paging, then OS) | [`Vmi::file`], [`Vmi::xen`], [`Vmi::xen_id`], [`Builder`], [`Config`], [`ConfigMap`], [`Vmi::init_paging`], [`Vmi::init_os`] |
//! | reads (bytes, u8–u64, address-width, C strings, `UNICODE_STRING`) and writes, physical and virtual | [`Vmi::read`], [`Vmi::read_pa`], [`Vmi::read_va`], [`Vmi::read_ksym`], [`Vmi::read_u64`], [`Vmi::read_addr`], [`Vmi::read_cstring`], [`Vmi::read_unicode_string`], [`Vmi::write`], ... |
//! | translation: kernel/user v2p, symbols both ways, pid ↔ dtb, page-table lookups, mapped pages | [`Vmi::translate_kv2p`], [`Vmi::translate_uv2p`], [`Vmi::translate_ksym2v`], [`Vmi::translate_v2ksym`], [`Vmi::translate_sym2v`], [`Vmi::translate_v2sym`], [`Vmi::pid_to_dtb`], [`Vmi::dtb_to_pid`], [`Vmi::pagetable_lookup`], [`Vmi::va_pages`] |
//! | guest facts | [`Vmi::os_type`], [`Vmi::os_version`], [`Vmi::page_mode`], [`Vmi::address_width`], [`Vmi::memory_size`], [`Vmi::vcpu_count`], [`Vmi::offset`] |
//! | vCPU registers | [`Vmi::get_vcpureg`], [`Vmi::set_vcpureg`], [`Vmi::get_x86_registers`], [`Vmi::set_x86_registers`] |
//! | pause/resume, caches | [`Vmi::pause`], [`Vmi::flush_v2p_cache`], [`Vmi::flush_page_cache`], [`Vmi::flush_caches`], ... |
//! | events: memory, register, single-step, INT3, CPUID, debug | [`Vmi::register_event`], [`Vmi::listen`], [`Vmi::listen_while`], [`events::EventSpec`] |
//!
//! ## Example
//!
//! ```no_run
//! use libvmi::{AccessContext, Config, Pid, Vmi};
//!
//! let vmi = Vmi::file("/images/linux-6.1.0-nokaslr.raw")
//!     .config(Config::File("/images/libvmi.conf".into()))
//!     .init()?;
//! let linux = vmi.linux()?;
//! for p in linux.processes() {
//!     let p = p?;
//!     println!("[{:5}] {}", p.pid, p.name);
//! }
//! let init_task = vmi.translate_ksym2v("init_task")?;
//! let pid = vmi.read_u32(AccessContext::kernel(init_task + vmi.offset("linux_pid")?))?;
//! assert_eq!(pid, 0);
//! # Ok::<(), libvmi::Error>(())
//! ```
//!
//! Pure parts run anywhere:
//!
//! ```
//! use libvmi::{AccessContext, ConfigMap, Error, Pa};
//! let map = ConfigMap::new().with("ostype", "Linux").with("linux_pid", 0x9c0u64);
//! assert_eq!(map.render()?, "{ linux_pid = 0x9c0; ostype = \"Linux\"; }");
//! let e = Error::Read { ctx: AccessContext::physical(Pa(0x1000)), len: 8, done: 0 };
//! assert!(e.to_string().contains("physical address 0x1000"));
//! # Ok::<(), Error>(())
//! ```

#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]
// Constants from C `#define`s are cast explicitly: bindgen's choice of integer type for
// them is not part of libvmi-sys's contract, so the casts keep this crate independent of it.
#![allow(clippy::unnecessary_cast)]

mod addr;
pub mod config;
mod error;
pub mod events;
mod ffi;
mod glib;
mod instance;
mod memory;
pub mod os;
mod process_memory;
mod registers;
mod translate;

pub use addr::{AccessContext, Dtb, Gfn, Pa, Pid, Translation, Va, PAGE_SHIFT, PAGE_SIZE};
pub use config::{Config, ConfigMap, ConfigValue};
pub use error::{Error, ErrorKind, InitError, RegisterOp, Result};
pub use instance::{Builder, Domain, Mode, OsType, PageMode, PauseGuard, Vmi};
pub use process_memory::ProcessMemory;
pub use registers::{Register, X86Registers};
pub use translate::PageInfo;

/// The raw bindings, for what this crate does not wrap.
pub use libvmi_sys as sys;
