//! `fopen` for a system without files: LibVMI's C files are compiled with
//! `-Dfopen=tinyvmi_fopen`, so every path LibVMI opens is first looked up among the
//! [blobs](crate::blobs).

use core::ffi::{c_char, c_void, CStr};

/// C's `FILE` (opaque).
#[repr(C)]
pub struct File {
    _opaque: [u8; 0],
}

extern "C" {
    fn fopen(path: *const c_char, mode: *const c_char) -> *mut File;
    fn fmemopen(buf: *mut c_void, size: usize, mode: *const c_char) -> *mut File;
}

/// `FILE *tinyvmi_fopen(const char *path, const char *mode)`.
///
/// A registered blob opened for reading (`mode` starting with `r`, without `+`) is
/// returned as a read-only `fmemopen` stream over its bytes; any other path or mode
/// goes to the C library's `fopen` (which in a stub domain fails with `ENOENT` for
/// ordinary paths).
///
/// # Safety
/// `path` and `mode` must be NULL or NUL-terminated strings, as for `fopen`.
#[no_mangle]
pub unsafe extern "C" fn tinyvmi_fopen(path: *const c_char, mode: *const c_char) -> *mut File {
    if !path.is_null() && !mode.is_null() {
        // SAFETY: per the contract above.
        let (name, m) = unsafe { (CStr::from_ptr(path), CStr::from_ptr(mode)) };
        let m = m.to_bytes();
        if m.first() == Some(&b'r') && !m.contains(&b'+') {
            if let Some(data) = crate::blobs::get_bytes(name.to_bytes()) {
                // SAFETY: the blob is non-empty and outlives the stream (registry
                // contract); mode "r" never writes through the pointer.
                return unsafe {
                    fmemopen(data.as_ptr() as *mut c_void, data.len(), c"r".as_ptr())
                };
            }
        }
    }
    // SAFETY: the caller's arguments, unchanged.
    unsafe { fopen(path, mode) }
}
