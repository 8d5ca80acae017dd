//! The few libc functions tinyglib calls. All are on the Mini-OS allowlist.

use core::ffi::{c_char, c_int, c_void};

extern "C" {
    pub fn malloc(size: usize) -> *mut c_void;
    pub fn calloc(nmemb: usize, size: usize) -> *mut c_void;
    pub fn realloc(ptr: *mut c_void, size: usize) -> *mut c_void;
    pub fn free(ptr: *mut c_void);
    pub fn memalign(align: usize, size: usize) -> *mut c_void;
    pub fn abort() -> !;
    pub fn strlen(s: *const c_char) -> usize;
    pub fn strcmp(a: *const c_char, b: *const c_char) -> c_int;
    pub fn write(fd: c_int, buf: *const c_void, count: usize) -> isize;
}

/// `malloc` that aborts instead of returning NULL (GLib's `g_malloc` contract).
///
/// # Safety
/// `size` must be non-zero.
#[inline]
pub unsafe fn xmalloc(size: usize) -> *mut c_void {
    // SAFETY: plain libc call.
    let p = unsafe { malloc(size) };
    if p.is_null() {
        const MSG: &[u8] = b"tinyglib: out of memory\n";
        // SAFETY: plain libc calls; abort never returns.
        unsafe {
            write(2, MSG.as_ptr().cast(), MSG.len());
            abort()
        }
    }
    p
}
