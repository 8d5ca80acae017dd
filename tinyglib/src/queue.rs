//! `GQueue` over `GList` links, GLib's public layouts.

use crate::slist::{alloc_node, free_node};
use crate::{gconstpointer, gpointer, guint};

/// A doubly-linked list node, GLib's layout: `{ data; next; prev; }`.
///
/// ```
/// assert_eq!(core::mem::size_of::<tinyglib::GList>(), 24);
/// ```
#[repr(C)]
#[derive(Debug)]
pub struct GList {
    /// The element.
    pub data: gpointer,
    /// The next link, or NULL.
    pub next: *mut GList,
    /// The previous link, or NULL.
    pub prev: *mut GList,
}

/// A double-ended queue, GLib's layout: `{ GList *head, *tail; guint length; }`.
///
/// ```
/// use tinyglib::*;
/// assert_eq!(core::mem::size_of::<GQueue>(), 24);
/// unsafe {
///     let q = tinyglib_g_queue_new();
///     assert!((*q).head.is_null() && (*q).tail.is_null() && (*q).length == 0);
///     tinyglib_g_queue_free(q);
/// }
/// ```
#[repr(C)]
#[derive(Debug)]
pub struct GQueue {
    /// The first link.
    pub head: *mut GList,
    /// The last link.
    pub tail: *mut GList,
    /// The number of links.
    pub length: guint,
}

/// `g_queue_new()`: an empty queue.
///
/// ```
/// use tinyglib::*;
/// unsafe {
///     let q = tinyglib_g_queue_new();
///     assert_eq!(tinyglib_g_queue_get_length(q), 0);
///     tinyglib_g_queue_free(q);
/// }
/// ```
///
/// # Safety
/// Free the result with [`tinyglib_g_queue_free`].
#[no_mangle]
pub unsafe extern "C" fn tinyglib_g_queue_new() -> *mut GQueue {
    // SAFETY: a fresh node is written before use.
    unsafe {
        let q = alloc_node::<GQueue>();
        q.write(GQueue {
            head: core::ptr::null_mut(),
            tail: core::ptr::null_mut(),
            length: 0,
        });
        q
    }
}

/// `g_queue_free(q)`: frees the links and the queue, not the data. NULL: no-op.
///
/// ```
/// unsafe { tinyglib::tinyglib_g_queue_free(core::ptr::null_mut()) }
/// ```
///
/// # Safety
/// `q` is NULL or a live queue from this library, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn tinyglib_g_queue_free(q: *mut GQueue) {
    if q.is_null() {
        return;
    }
    // SAFETY: each link is read before it is freed.
    unsafe {
        let mut l = (*q).head;
        while !l.is_null() {
            let next = (*l).next;
            free_node(l);
            l = next;
        }
        free_node(q);
    }
}

/// `g_queue_get_length(q)` (0 for NULL).
///
/// ```
/// unsafe { assert_eq!(tinyglib::tinyglib_g_queue_get_length(core::ptr::null_mut()), 0) }
/// ```
///
/// # Safety
/// `q` is NULL or a live queue.
#[no_mangle]
pub unsafe extern "C" fn tinyglib_g_queue_get_length(q: *mut GQueue) -> guint {
    if q.is_null() {
        return 0;
    }
    // SAFETY: `q` is live.
    unsafe { (*q).length }
}

/// `g_queue_push_head_link(q, link)`: pushes a detached link. NULL `q` or `link`: no-op.
///
/// ```
/// use tinyglib::*;
/// unsafe {
///     let q = tinyglib_g_queue_new();
///     tinyglib_g_queue_push_head(q, 1 as gpointer);
///     let l = tinyglib_g_queue_find(q, 1 as gconstpointer);
///     tinyglib_g_queue_unlink(q, l);
///     tinyglib_g_queue_push_head_link(q, l);
///     assert_eq!(tinyglib_g_queue_get_length(q), 1);
///     tinyglib_g_queue_free(q);
/// }
/// ```
///
/// # Safety
/// `q` is NULL or live; `link` is NULL or a detached link from this library.
#[no_mangle]
pub unsafe extern "C" fn tinyglib_g_queue_push_head_link(q: *mut GQueue, link: *mut GList) {
    if q.is_null() || link.is_null() {
        return;
    }
    // SAFETY: `q` is live and `link` detached.
    unsafe {
        (*link).prev = core::ptr::null_mut();
        (*link).next = (*q).head;
        if (*q).head.is_null() {
            (*q).tail = link;
        } else {
            (*(*q).head).prev = link;
        }
        (*q).head = link;
        (*q).length = (*q).length.wrapping_add(1);
    }
}

/// `g_queue_push_head(q, data)`: `data` may be NULL. NULL `q`: no-op.
///
/// ```
/// use tinyglib::*;
/// unsafe {
///     let q = tinyglib_g_queue_new();
///     tinyglib_g_queue_push_head(q, core::ptr::null_mut());
///     assert_eq!(tinyglib_g_queue_get_length(q), 1);
///     tinyglib_g_queue_free(q);
/// }
/// ```
///
/// # Safety
/// `q` is NULL or a live queue.
#[no_mangle]
pub unsafe extern "C" fn tinyglib_g_queue_push_head(q: *mut GQueue, data: gpointer) {
    if q.is_null() {
        return;
    }
    // SAFETY: a fresh link is written before it is pushed.
    unsafe {
        let l = alloc_node::<GList>();
        l.write(GList {
            data,
            next: core::ptr::null_mut(),
            prev: core::ptr::null_mut(),
        });
        tinyglib_g_queue_push_head_link(q, l);
    }
}

/// `g_queue_unlink(q, link)`: detaches `link` (its `prev`/`next` become NULL) without
/// freeing it. NULL `q` or `link`: no-op.
///
/// ```
/// use tinyglib::*;
/// unsafe {
///     let q = tinyglib_g_queue_new();
///     tinyglib_g_queue_push_head(q, 1 as gpointer);
///     let l = (*q).head;
///     tinyglib_g_queue_unlink(q, l);
///     assert!((*q).head.is_null() && (*l).next.is_null() && (*l).prev.is_null());
///     tinyglib_g_queue_push_head_link(q, l);
///     tinyglib_g_queue_free(q);
/// }
/// ```
///
/// # Safety
/// `q` is NULL or live; `link` is NULL or a link of `q`.
#[no_mangle]
pub unsafe extern "C" fn tinyglib_g_queue_unlink(q: *mut GQueue, link: *mut GList) {
    if q.is_null() || link.is_null() {
        return;
    }
    // SAFETY: `link` belongs to `q`.
    unsafe {
        let (prev, next) = ((*link).prev, (*link).next);
        if prev.is_null() {
            (*q).head = next;
        } else {
            (*prev).next = next;
        }
        if next.is_null() {
            (*q).tail = prev;
        } else {
            (*next).prev = prev;
        }
        (*link).prev = core::ptr::null_mut();
        (*link).next = core::ptr::null_mut();
        (*q).length = (*q).length.wrapping_sub(1);
    }
}

/// `g_queue_pop_tail(q)`: removes the tail and returns its data; NULL when empty (or `q`
/// is NULL).
///
/// ```
/// use tinyglib::*;
/// unsafe {
///     let q = tinyglib_g_queue_new();
///     tinyglib_g_queue_push_head(q, 1 as gpointer);
///     tinyglib_g_queue_push_head(q, 2 as gpointer);
///     assert_eq!(tinyglib_g_queue_pop_tail(q) as usize, 1);
///     tinyglib_g_queue_free(q);
/// }
/// ```
///
/// # Safety
/// `q` is NULL or a live queue.
#[no_mangle]
pub unsafe extern "C" fn tinyglib_g_queue_pop_tail(q: *mut GQueue) -> gpointer {
    if q.is_null() {
        return core::ptr::null_mut();
    }
    // SAFETY: `q` is live; the tail link is detached, read, then freed.
    unsafe {
        let l = (*q).tail;
        if l.is_null() {
            return core::ptr::null_mut();
        }
        tinyglib_g_queue_unlink(q, l);
        let data = (*l).data;
        free_node(l);
        data
    }
}

/// `g_queue_find(q, data)`: the first link from the head whose data is `data`
/// (pointer comparison); NULL if none.
///
/// ```
/// use tinyglib::*;
/// unsafe {
///     let q = tinyglib_g_queue_new();
///     tinyglib_g_queue_push_head(q, 1 as gpointer);
///     assert!(!tinyglib_g_queue_find(q, 1 as gconstpointer).is_null());
///     assert!(tinyglib_g_queue_find(q, 2 as gconstpointer).is_null());
///     tinyglib_g_queue_free(q);
/// }
/// ```
///
/// # Safety
/// `q` is NULL or a live queue.
#[no_mangle]
pub unsafe extern "C" fn tinyglib_g_queue_find(q: *mut GQueue, data: gconstpointer) -> *mut GList {
    if q.is_null() {
        return core::ptr::null_mut();
    }
    // SAFETY: walks the queue's links.
    unsafe {
        let mut l = (*q).head;
        while !l.is_null() {
            if core::ptr::eq((*l).data, data) {
                return l;
            }
            l = (*l).next;
        }
    }
    core::ptr::null_mut()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lru_pattern() {
        // SAFETY: queue built and freed here.
        unsafe {
            let q = tinyglib_g_queue_new();
            for i in 0..10usize {
                tinyglib_g_queue_push_head(q, (i % 4) as gpointer);
            }
            // head..tail is 1 0 3 2 1 0 3 2 1 0: the head-most 3 is the third link.
            let l = tinyglib_g_queue_find(q, 3 as gconstpointer);
            assert_eq!(l, (*(*(*q).head).next).next);
            tinyglib_g_queue_unlink(q, l);
            tinyglib_g_queue_push_head_link(q, l);
            assert_eq!((*q).head, l);
            assert_eq!(tinyglib_g_queue_get_length(q), 10);
            let mut popped = std::vec::Vec::new();
            while tinyglib_g_queue_get_length(q) > 0 {
                popped.push(tinyglib_g_queue_pop_tail(q) as usize);
            }
            assert_eq!(popped, [0, 1, 2, 3, 0, 1, 2, 0, 1, 3]);
            assert!(tinyglib_g_queue_pop_tail(q).is_null());
            assert!((*q).head.is_null() && (*q).tail.is_null());
            tinyglib_g_queue_unlink(q, core::ptr::null_mut());
            tinyglib_g_queue_push_head_link(q, core::ptr::null_mut());
            tinyglib_g_queue_free(q);
            let n = core::ptr::null_mut();
            assert!(tinyglib_g_queue_find(n, core::ptr::null()).is_null());
            assert!(tinyglib_g_queue_pop_tail(n).is_null());
            tinyglib_g_queue_push_head(n, core::ptr::null_mut());
        }
    }
}
