//! Memory: `g_malloc`, `g_try_malloc0[_n]`, `g_free`, `g_memdup2`, `g_slice_*`.
//! Everything is libc `malloc`/`calloc`/`free`, so it mixes with plain C both ways.

use crate::{gconstpointer, gpointer, gsize, sys};

/// `g_malloc(n)`: NULL for 0, else `malloc(n)`; aborts when out of memory.
///
/// ```
/// use tinyglib::*;
/// unsafe {
///     assert!(tinyglib_g_malloc(0).is_null());
///     let p = tinyglib_g_malloc(16);
///     assert!(!p.is_null());
///     tinyglib_g_free(p);
/// }
/// ```
///
/// # Safety
/// The result must be released with `g_free` or `free`.
#[no_mangle]
pub unsafe extern "C" fn tinyglib_g_malloc(n_bytes: gsize) -> gpointer {
    if n_bytes == 0 {
        return core::ptr::null_mut();
    }
    // SAFETY: n_bytes is non-zero.
    unsafe { sys::xmalloc(n_bytes) }
}

/// `g_try_malloc0(n)`: NULL for 0 or on failure (never aborts), else zeroed memory.
///
/// ```
/// use tinyglib::*;
/// unsafe {
///     assert!(core::hint::black_box(tinyglib_g_try_malloc0(usize::MAX)).is_null());
///     let p = tinyglib_g_try_malloc0(8) as *mut u64;
///     assert_eq!(*p, 0);
///     tinyglib_g_free(p.cast());
/// }
/// ```
///
/// # Safety
/// The result must be released with `g_free` or `free`.
#[no_mangle]
pub unsafe extern "C" fn tinyglib_g_try_malloc0(n_bytes: gsize) -> gpointer {
    if n_bytes == 0 {
        return core::ptr::null_mut();
    }
    // SAFETY: plain libc call.
    unsafe { sys::calloc(1, n_bytes) }
}

/// `g_try_malloc0_n(n, size)`: NULL when `n * size` overflows or is 0.
///
/// ```
/// use tinyglib::*;
/// unsafe {
///     assert!(core::hint::black_box(tinyglib_g_try_malloc0_n(usize::MAX, 2)).is_null());
///     assert!(tinyglib_g_try_malloc0_n(0, 4).is_null());
///     let p = tinyglib_g_try_malloc0_n(4, 4);
///     assert!(!p.is_null());
///     tinyglib_g_free(p);
/// }
/// ```
///
/// # Safety
/// The result must be released with `g_free` or `free`.
#[no_mangle]
pub unsafe extern "C" fn tinyglib_g_try_malloc0_n(
    n_blocks: gsize,
    n_block_bytes: gsize,
) -> gpointer {
    match n_blocks.checked_mul(n_block_bytes) {
        // SAFETY: forwards to g_try_malloc0.
        Some(n) => unsafe { tinyglib_g_try_malloc0(n) },
        None => core::ptr::null_mut(),
    }
}

/// `g_free(p)`: libc `free`; NULL is a no-op. Accepts memory from plain `malloc`.
///
/// ```
/// use tinyglib::*;
/// unsafe {
///     tinyglib_g_free(core::ptr::null_mut());
///     tinyglib_g_free(tinyglib_g_malloc(3));
/// }
/// ```
///
/// # Safety
/// `mem` is NULL or a live block from the C allocator.
#[no_mangle]
pub unsafe extern "C" fn tinyglib_g_free(mem: gpointer) {
    // SAFETY: forwarded precondition; free(NULL) is a no-op.
    unsafe { sys::free(mem) }
}

/// `g_memdup2(mem, n)`: NULL when `mem` is NULL or `n` is 0, else a `malloc`ed copy.
///
/// ```
/// use tinyglib::*;
/// unsafe {
///     let src = [1u8, 2, 3];
///     let p = tinyglib_g_memdup2(src.as_ptr().cast(), 3) as *mut u8;
///     assert_eq!(core::slice::from_raw_parts(p, 3), &src);
///     tinyglib_g_free(p.cast());
/// }
/// ```
///
/// # Safety
/// `mem` must be readable for `byte_size` bytes.
#[no_mangle]
pub unsafe extern "C" fn tinyglib_g_memdup2(mem: gconstpointer, byte_size: gsize) -> gpointer {
    if mem.is_null() || byte_size == 0 {
        return core::ptr::null_mut();
    }
    // SAFETY: byte_size is non-zero; the regions are distinct and `byte_size` long.
    unsafe {
        let p = sys::xmalloc(byte_size);
        core::ptr::copy_nonoverlapping(mem as *const u8, p as *mut u8, byte_size);
        p
    }
}

/// `g_slice_alloc(n)`: uninitialised `malloc` memory (NULL for 0); aborts when out of
/// memory. `g_slice_new(T)` expands to it.
///
/// ```
/// use tinyglib::*;
/// unsafe {
///     let p = tinyglib_g_slice_alloc(32);
///     tinyglib_g_slice_free1(32, p);
/// }
/// ```
///
/// # Safety
/// Release with `g_slice_free1` (or `free`).
#[no_mangle]
pub unsafe extern "C" fn tinyglib_g_slice_alloc(block_size: gsize) -> gpointer {
    // SAFETY: same contract as g_malloc.
    unsafe { tinyglib_g_malloc(block_size) }
}

/// `g_slice_free1(n, p)`: frees a block from [`tinyglib_g_slice_alloc`]; NULL is a no-op.
///
/// ```
/// unsafe { tinyglib::tinyglib_g_slice_free1(8, core::ptr::null_mut()) }
/// ```
///
/// # Safety
/// `mem_block` is NULL or a live block from the C allocator.
#[no_mangle]
pub unsafe extern "C" fn tinyglib_g_slice_free1(_block_size: gsize, mem_block: gpointer) {
    // SAFETY: forwarded precondition.
    unsafe { sys::free(mem_block) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malloc_family() {
        // SAFETY: blocks are used within their sizes and freed once.
        unsafe {
            assert!(tinyglib_g_malloc(0).is_null());
            assert!(tinyglib_g_try_malloc0(0).is_null());
            // black_box keeps LLVM from eliding the unused allocation and folding
            // the null check to false (it may assume elided allocations succeed).
            let huge = core::hint::black_box(tinyglib_g_try_malloc0(usize::MAX));
            assert!(huge.is_null());
            tinyglib_g_free(huge);
            let over = core::hint::black_box(tinyglib_g_try_malloc0_n(usize::MAX / 2, 3));
            assert!(over.is_null());
            assert!(tinyglib_g_try_malloc0_n(3, 0).is_null());
            let p = tinyglib_g_try_malloc0_n(3, 5) as *mut u8;
            assert!((0..15).all(|i| *p.add(i) == 0));
            // g_free and free mix both ways.
            sys::free(p.cast());
            let q = sys::malloc(4);
            tinyglib_g_free(q);
            assert!(tinyglib_g_memdup2(core::ptr::null(), 4).is_null());
            assert!(tinyglib_g_memdup2(b"x".as_ptr().cast(), 0).is_null());
            let d = tinyglib_g_memdup2(b"xyz".as_ptr().cast(), 3) as *mut u8;
            assert_eq!(core::slice::from_raw_parts(d, 3), b"xyz");
            tinyglib_g_free(d.cast());
            tinyglib_g_slice_free1(4, core::ptr::null_mut());
            let s = tinyglib_g_slice_alloc(24);
            tinyglib_g_slice_free1(24, s);
        }
    }
}
