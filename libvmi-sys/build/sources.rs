//! LibVMI's C sources per feature, relative to `libvmi/` in the upstream tree: the
//! equivalent of upstream's CMakeLists.txt, kept sorted so an upstream bump shows up
//! as a readable diff here; and what the host and Mini-OS builds both compile them with
//! (the System.map renames, the code-generation flags).

/// Always compiled: the core, the architectures, the caches, the OS dispatch.
pub const CORE: &[&str] = &[
    "accessors.c",
    "arch/amd64.c",
    "arch/arch_interface.c",
    "arch/arm_aarch32.c",
    "arch/arm_aarch64.c",
    "arch/ept.c",
    "arch/intel.c",
    "cache.c",
    "convenience.c",
    "core.c",
    "disk/vbd.c",
    "driver/driver_interface.c",
    "driver/memory_cache.c",
    "events.c",
    "msr-index.c",
    "os/os_interface.c",
    "pretty_print.c",
    "read.c",
    "slat.c",
    "strmatch.c",
    "write.c",
];

/// Feature `file`.
pub const FILE_DRIVER: &[&str] = &["driver/file/file.c"];

/// Feature `xen`.
pub const XEN_DRIVER: &[&str] = &[
    "driver/xen/altp2m.c",
    "driver/xen/libxc_wrapper.c",
    "driver/xen/libxs_wrapper.c",
    "driver/xen/xen.c",
    "driver/xen/xen_events.c",
];

// Guest operating systems: all of upstream's (macOS only with `json-profiles`: its
// offsets come from a JSON profile only).
/// Linux (`ENABLE_LINUX`).
pub const OS_LINUX: &[&str] = &[
    "os/linux/core.c",
    "os/linux/elfparse.c",
    "os/linux/memory.c",
    "os/linux/symbols.c",
];
/// Windows (`ENABLE_WINDOWS`).
pub const OS_WINDOWS: &[&str] = &[
    "os/windows/core.c",
    "os/windows/kdbg.c",
    "os/windows/memory.c",
    "os/windows/peparse.c",
    "os/windows/process.c",
    "os/windows/unicode.c",
];
/// FreeBSD (`ENABLE_FREEBSD`).
pub const OS_FREEBSD: &[&str] = &[
    "os/freebsd/core.c",
    "os/freebsd/memory.c",
    "os/freebsd/symbols.c",
];
/// macOS (`ENABLE_OSX`; needs `json-profiles`).
pub const OS_OSX: &[&str] = &["os/osx/core.c", "os/osx/memory.c", "os/osx/symbols.c"];

/// Feature `json-profiles`.
pub const JSON_PROFILES: &[&str] = &[
    "json_profiles/json_profiles.c",
    "json_profiles/rekall.c",
    "json_profiles/volatility_ist.c",
];

/// The headers upstream installs as `<libvmi/...>` (bindings are generated from these).
pub const PUBLIC_HEADERS: &[&str] = &["events.h", "libvmi.h", "libvmi_extra.h", "slat.h", "x86.h"];

/// Functions the public headers declare but upstream defines nowhere: left out of the
/// bindings, so a call is a compile error instead of a link error. `tests/link.rs`
/// references every function the bindings do declare, so a new gap fails the tests.
pub const DECLARED_NOT_DEFINED: &[&str] = &[
    // libvmi.h: declared next to vmi_pagetable_lookup_extended, never implemented.
    "vmi_nested_pagetable_lookup_extended",
    // libvmi_extra.h (LIBVMI_EXTRA_JSON): json_profiles.c defines it without `_from_json`.
    "vmi_get_struct_field_type_name_from_json",
];

/// The renames `os/linux/symbols.c` is compiled with (host and Mini-OS): its System.map
/// lookups both ways go to `csrc/sysmap_lookup.c`, which calls the renamed originals for
/// what it leaves to them.
pub const SYSMAP_RENAMES: &[(&str, &str)] = &[
    (
        "linux_symbol_to_address",
        "libvmi_sys_upstream_linux_symbol_to_address",
    ),
    (
        "linux_system_map_address_to_symbol",
        "libvmi_sys_upstream_linux_system_map_address_to_symbol",
    ),
];

/// Code-generation flags for every LibVMI compile unit on x86-64 (each passed only if the
/// compiler takes it; GCC does, Clang has no such option and keeps its own choice).
///
/// LibVMI zeroes a 128-byte `page_info_t` on every translation, cached or not
/// (`vmi_pagetable_lookup_cache`, `vmi_translate_uv2p`, `vmi_nested_pagetable_lookup`), and
/// small structures per Xen event. GCC's generic tuning emits `rep stosq` for these, and
/// on the AMD EPYC development machine a 128-byte `rep stosq` takes 12 ns where eight
/// 16-byte stores take 2.5 ns (a warm translation is ~35 ns in all). These flags make
/// fixed-size initialisations and copies up to 256 bytes vector-store loops, and larger
/// ones calls to the C library's `memset`/`memcpy`, never `rep` string instructions.
/// A build flag, not a patch: the code stays upstream's.
pub fn string_op_flags() -> &'static [&'static str] {
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("x86_64") {
        &[
            "-mmemset-strategy=vector_loop:256:noalign,libcall:-1:noalign",
            "-mmemcpy-strategy=vector_loop:256:noalign,libcall:-1:noalign",
        ]
    } else {
        &[]
    }
}
