//! A small fixed-size node pool for list links (`GSList`, `GList`, `GQueue`) and hash
//! table headers: nodes are
//! carved from 8 KiB slabs and recycled through a free list, so lists cost exactly their
//! node size per element and neighbouring nodes share cache lines (GLib 2.74 gets the
//! same from its slice allocator). Slabs are kept for reuse, not returned.
//!
//! A spin lock (one atomic swap when uncontended) keeps the pool safe when lists are
//! used from several threads; no user code ever runs while it is held. Mini-OS is
//! single-threaded, so it never spins there.

use alloc::alloc::{alloc, handle_alloc_error, Layout};
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

const SLAB_BYTES: usize = 8192;

struct FreeNode {
    next: *mut FreeNode,
}

pub(crate) struct Pool {
    locked: AtomicBool,
    free: UnsafeCell<*mut FreeNode>,
    node_size: usize,
}

// SAFETY: `free` is only touched while `locked` is held.
unsafe impl Sync for Pool {}

impl Pool {
    /// A pool of `node_size`-byte nodes (a multiple of 8, at least 8).
    pub(crate) const fn new(node_size: usize) -> Pool {
        Pool {
            locked: AtomicBool::new(false),
            free: UnsafeCell::new(core::ptr::null_mut()),
            node_size,
        }
    }

    #[inline]
    fn lock(&self) {
        while self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            core::hint::spin_loop();
        }
    }

    #[inline]
    fn unlock(&self) {
        self.locked.store(false, Ordering::Release);
    }

    /// Carves a new slab into nodes, linked in address order; returns the first.
    #[cold]
    unsafe fn refill(&self) -> *mut FreeNode {
        // SAFETY: constant, valid layout.
        let layout = unsafe { Layout::from_size_align_unchecked(SLAB_BYTES, 16) };
        // SAFETY: non-zero size.
        let slab = unsafe { alloc(layout) };
        if slab.is_null() {
            handle_alloc_error(layout);
        }
        let n = SLAB_BYTES / self.node_size;
        // SAFETY: every node lies inside the slab.
        unsafe {
            for i in 0..n {
                let node = slab.add(i * self.node_size) as *mut FreeNode;
                let next = if i + 1 < n {
                    slab.add((i + 1) * self.node_size) as *mut FreeNode
                } else {
                    core::ptr::null_mut()
                };
                node.write(FreeNode { next });
            }
        }
        slab as *mut FreeNode
    }

    /// An uninitialised node of `node_size` bytes, 8-aligned.
    #[inline]
    pub(crate) fn alloc(&self) -> *mut u8 {
        self.lock();
        // SAFETY: the lock is held; free-list nodes are valid and unused.
        let node = unsafe {
            let mut head = *self.free.get();
            if head.is_null() {
                head = self.refill();
            }
            *self.free.get() = (*head).next;
            head
        };
        self.unlock();
        node as *mut u8
    }

    /// Returns a node to the pool.
    ///
    /// # Safety
    /// `p` came from `alloc` of this pool and is not used afterwards.
    #[inline]
    pub(crate) unsafe fn free(&self, p: *mut u8) {
        let node = p as *mut FreeNode;
        self.lock();
        // SAFETY: the lock is held; `p` is a node of this pool.
        unsafe {
            node.write(FreeNode {
                next: *self.free.get(),
            });
            *self.free.get() = node;
        }
        self.unlock();
    }
}

/// 16-byte nodes: `GSList`.
pub(crate) static POOL16: Pool = Pool::new(16);
/// 24-byte nodes: `GList`, `GQueue`.
pub(crate) static POOL24: Pool = Pool::new(24);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recycles_nodes() {
        let a = POOL24.alloc();
        let b = POOL24.alloc();
        assert_ne!(a, b);
        assert_eq!(a as usize % 8, 0);
        // SAFETY: both came from POOL24.
        unsafe {
            POOL24.free(a);
            let c = POOL24.alloc();
            POOL24.free(b);
            POOL24.free(c);
        }
    }
}
