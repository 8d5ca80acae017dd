//! [`MallocAllocator`]: a `GlobalAlloc` over C `malloc`/`calloc`/`realloc`/`memalign`/`free`.

use core::alloc::{GlobalAlloc, Layout};
use core::ffi::c_void;

use crate::sys;

/// The alignment that `malloc` guarantees on the supported 64-bit targets.
const MALLOC_ALIGN: usize = 16;

/// A [`GlobalAlloc`] over the C allocator, for `no_std` final artifacts (staticlibs,
/// Mini-OS applications). Over-aligned requests use `memalign` (Mini-OS has no
/// `posix_memalign`). The `tinyglib` rlib itself does not install it.
///
/// ```
/// use core::alloc::{GlobalAlloc, Layout};
/// let a = tinyglib::MallocAllocator;
/// unsafe {
///     let l = Layout::from_size_align(100, 64).unwrap();
///     let p = a.alloc(l);
///     assert!(!p.is_null() && p as usize % 64 == 0);
///     a.dealloc(p, l);
/// }
/// ```
#[derive(Debug, Default, Clone, Copy)]
pub struct MallocAllocator;

// SAFETY: every block comes from the C allocator with at least the requested size and
// alignment, and is released with `free`, which accepts both malloc and memalign blocks.
unsafe impl GlobalAlloc for MallocAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= MALLOC_ALIGN {
            // SAFETY: libc call; `layout.size()` is non-zero per the GlobalAlloc contract.
            unsafe { sys::malloc(layout.size()) as *mut u8 }
        } else {
            // SAFETY: libc call; the alignment is a power of two.
            unsafe { sys::memalign(layout.align(), layout.size()) as *mut u8 }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= MALLOC_ALIGN {
            // SAFETY: libc call.
            unsafe { sys::calloc(1, layout.size()) as *mut u8 }
        } else {
            // SAFETY: `alloc` upholds the contract; the block is `size` bytes long.
            unsafe {
                let p = self.alloc(layout);
                if !p.is_null() {
                    core::ptr::write_bytes(p, 0, layout.size());
                }
                p
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from malloc/calloc/realloc/memalign.
        unsafe { sys::free(ptr as *mut c_void) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if layout.align() <= MALLOC_ALIGN {
            // SAFETY: `ptr` came from malloc/calloc/realloc with this alignment.
            unsafe { sys::realloc(ptr as *mut c_void, new_size) as *mut u8 }
        } else {
            // SAFETY: the new layout is valid (GlobalAlloc contract); both blocks are at
            // least min(old, new) bytes long and do not overlap.
            unsafe {
                let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
                let p = self.alloc(new_layout);
                if !p.is_null() {
                    core::ptr::copy_nonoverlapping(ptr, p, layout.size().min(new_size));
                    self.dealloc(ptr, layout);
                }
                p
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligned_and_realloc() {
        let a = MallocAllocator;
        // Miri has no `memalign` shim: it checks the malloc/calloc/realloc paths only.
        let aligns: &[usize] = if cfg!(miri) {
            &[1, 8, 16]
        } else {
            &[1, 8, 16, 32, 64, 4096]
        };
        for &align in aligns {
            let l = Layout::from_size_align(24, align).unwrap();
            // SAFETY: valid layout; the block is used within its size and freed once.
            unsafe {
                let p = a.alloc_zeroed(l);
                assert!(!p.is_null());
                assert_eq!(p as usize % align, 0);
                assert!((0..24).all(|i| *p.add(i) == 0));
                p.write(7);
                let q = a.realloc(p, l, 1000);
                assert_eq!(q as usize % align, 0);
                assert_eq!(*q, 7);
                a.dealloc(q, Layout::from_size_align(1000, align).unwrap());
            }
        }
    }
}
