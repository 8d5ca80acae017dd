//! Layout of the bound C types: Rust's view (bindgen's, through clang) against the C
//! compiler that built the library (a table compiled into the archive by the build
//! script). bindgen's own per-field assertions are compile-time checks in the crate.

use core::ffi::{c_char, CStr};

use libvmi_sys::*;

/// One entry of the C table.
#[repr(C)]
struct CLayout {
    name: *const c_char,
    size: usize,
    align: usize,
}

extern "C" {
    /// `{name, sizeof, _Alignof}` per type, ended by a NULL name.
    static libvmi_sys_layout: [CLayout; 0];
}

/// `(name, size_of, align_of)` as Rust sees the same types.
const RUST: &[(&str, usize, usize)] = include!(concat!(env!("OUT_DIR"), "/layout.rs"));

fn c_table() -> Vec<(String, usize, usize)> {
    let mut out = Vec::new();
    // SAFETY: the table is a static array ended by an entry whose name is NULL; every
    // other name is a NUL-terminated string literal.
    unsafe {
        let mut entry = core::ptr::addr_of!(libvmi_sys_layout).cast::<CLayout>();
        while !(*entry).name.is_null() {
            let e = &*entry;
            let name = CStr::from_ptr(e.name).to_str().unwrap().to_string();
            out.push((name, e.size, e.align));
            entry = entry.add(1);
        }
    }
    out
}

#[test]
fn rust_and_c_agree_on_every_bound_type() {
    let c = c_table();
    assert_eq!(c.len(), RUST.len());
    assert!(RUST.len() > 30, "only {} types checked", RUST.len());
    let mut wrong = Vec::new();
    for ((name, size, align), (c_name, c_size, c_align)) in RUST.iter().zip(&c) {
        assert_eq!(name, c_name);
        if (size, align) != (c_size, c_align) {
            wrong.push(format!(
                "{name}: Rust {size}/{align}, C {c_size}/{c_align} (size/align)"
            ));
        }
    }
    assert!(wrong.is_empty(), "layout mismatches:\n{}", wrong.join("\n"));
}

#[test]
fn the_types_the_safe_api_relies_on_are_checked() {
    for name in [
        "vmi_event_t",
        "x86_registers_t",
        "registers_t",
        "access_context_t",
        "page_info_t",
        "vmi_init_data_t",
    ] {
        assert!(RUST.iter().any(|(n, ..)| *n == name), "{name} not checked");
    }
    // Spot checks with known values (x86_64).
    assert_eq!(core::mem::size_of::<addr_t>(), 8);
    assert_eq!(core::mem::size_of::<status_t>(), 4);
}
