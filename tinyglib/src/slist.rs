//! `GSList`: GLib's public singly-linked node layout. Nodes come from a node pool over
//! the Rust global allocator (see `pool.rs`); free them only with
//! [`tinyglib_g_slist_free`] / [`tinyglib_g_slist_free_full`].

use crate::pool::{Pool, POOL16, POOL24};

use crate::{gconstpointer, gpointer, guint, GCompareFunc, GDestroyNotify};

/// A singly-linked list node, GLib's layout: `{ gpointer data; GSList *next; }`.
/// The empty list is NULL.
///
/// ```
/// use tinyglib::*;
/// assert_eq!(core::mem::size_of::<GSList>(), 16);
/// unsafe {
///     let l = tinyglib_g_slist_prepend(core::ptr::null_mut(), 5 as gpointer);
///     assert_eq!((*l).data as usize, 5);
///     assert!((*l).next.is_null());
///     tinyglib_g_slist_free(l);
/// }
/// ```
#[repr(C)]
#[derive(Debug)]
pub struct GSList {
    /// The element.
    pub data: gpointer,
    /// The next node, or NULL.
    pub next: *mut GSList,
}

/// The pool for nodes of type `T` (16 or 24 bytes).
fn pool_for<T>() -> &'static Pool {
    const { assert!(core::mem::size_of::<T>() == 16 || core::mem::size_of::<T>() == 24) };
    if core::mem::size_of::<T>() == 16 {
        &POOL16
    } else {
        &POOL24
    }
}

/// An uninitialised node for a `T` (`GSList`, `GList` or `GQueue`).
pub(crate) fn alloc_node<T>() -> *mut T {
    pool_for::<T>().alloc() as *mut T
}

/// # Safety
/// `p` came from `alloc_node::<T>` and is not used afterwards.
pub(crate) unsafe fn free_node<T>(p: *mut T) {
    // SAFETY: forwarded.
    unsafe { pool_for::<T>().free(p as *mut u8) }
}

unsafe fn new_node(data: gpointer, next: *mut GSList) -> *mut GSList {
    // SAFETY: a fresh node is written before use.
    unsafe {
        let n = alloc_node::<GSList>();
        n.write(GSList { data, next });
        n
    }
}

/// `g_slist_prepend(list, data)`: returns the new head.
///
/// ```
/// use tinyglib::*;
/// unsafe {
///     let l = tinyglib_g_slist_prepend(core::ptr::null_mut(), 1 as gpointer);
///     let l = tinyglib_g_slist_prepend(l, 2 as gpointer);
///     assert_eq!((*l).data as usize, 2);
///     tinyglib_g_slist_free(l);
/// }
/// ```
///
/// # Safety
/// `list` is NULL or a list from this library.
#[no_mangle]
pub unsafe extern "C" fn tinyglib_g_slist_prepend(
    list: *mut GSList,
    data: gpointer,
) -> *mut GSList {
    // SAFETY: forwarded.
    unsafe { new_node(data, list) }
}

/// `g_slist_append(list, data)`: walks to the end; returns the head (the new node when
/// `list` is NULL).
///
/// ```
/// use tinyglib::*;
/// unsafe {
///     let l = tinyglib_g_slist_append(core::ptr::null_mut(), 1 as gpointer);
///     let l = tinyglib_g_slist_append(l, 2 as gpointer);
///     assert_eq!((*(*l).next).data as usize, 2);
///     tinyglib_g_slist_free(l);
/// }
/// ```
///
/// # Safety
/// `list` is NULL or a list from this library.
#[no_mangle]
pub unsafe extern "C" fn tinyglib_g_slist_append(list: *mut GSList, data: gpointer) -> *mut GSList {
    // SAFETY: walks valid nodes.
    unsafe {
        let n = new_node(data, core::ptr::null_mut());
        if list.is_null() {
            return n;
        }
        let mut last = list;
        while !(*last).next.is_null() {
            last = (*last).next;
        }
        (*last).next = n;
        list
    }
}

/// `g_slist_concat(l1, l2)`: appends `l2` to `l1` and returns `l1`, or `l2` if `l1` is NULL.
///
/// ```
/// use tinyglib::*;
/// unsafe {
///     let a = tinyglib_g_slist_prepend(core::ptr::null_mut(), 1 as gpointer);
///     let b = tinyglib_g_slist_prepend(core::ptr::null_mut(), 2 as gpointer);
///     let l = tinyglib_g_slist_concat(a, b);
///     assert_eq!(tinyglib_g_slist_length(l), 2);
///     tinyglib_g_slist_free(l);
/// }
/// ```
///
/// # Safety
/// Both are NULL or distinct lists from this library.
#[no_mangle]
pub unsafe extern "C" fn tinyglib_g_slist_concat(
    list1: *mut GSList,
    list2: *mut GSList,
) -> *mut GSList {
    if list1.is_null() {
        return list2;
    }
    // SAFETY: walks valid nodes.
    unsafe {
        let mut last = list1;
        while !(*last).next.is_null() {
            last = (*last).next;
        }
        (*last).next = list2;
    }
    list1
}

/// `g_slist_find_custom(list, data, func)`: the first node, head to tail, with
/// `func(node->data, data) == 0`; NULL if none. A NULL `func` returns `list` (GLib's
/// behaviour after its critical message).
///
/// ```
/// use tinyglib::*;
/// unsafe extern "C" fn cmp(a: gconstpointer, b: gconstpointer) -> gint { (a != b) as gint }
/// unsafe {
///     let l = tinyglib_g_slist_prepend(core::ptr::null_mut(), 1 as gpointer);
///     let l = tinyglib_g_slist_prepend(l, 2 as gpointer);
///     let f = tinyglib_g_slist_find_custom(l, 1 as gconstpointer, Some(cmp));
///     assert_eq!((*f).data as usize, 1);
///     tinyglib_g_slist_free(l);
/// }
/// ```
///
/// # Safety
/// `list` is NULL or a valid list; `func` must not free the node it is looking at.
#[no_mangle]
pub unsafe extern "C" fn tinyglib_g_slist_find_custom(
    list: *mut GSList,
    data: gconstpointer,
    func: GCompareFunc,
) -> *mut GSList {
    let Some(f) = func else { return list };
    let mut l = list;
    // SAFETY: walks valid nodes; the next pointer is read after the callback.
    unsafe {
        while !l.is_null() {
            if f((*l).data, data) == 0 {
                return l;
            }
            l = (*l).next;
        }
    }
    core::ptr::null_mut()
}

/// `g_slist_length(list)`: the number of nodes (0 for NULL).
///
/// ```
/// unsafe { assert_eq!(tinyglib::tinyglib_g_slist_length(core::ptr::null_mut()), 0) }
/// ```
///
/// # Safety
/// `list` is NULL or a valid list.
#[no_mangle]
pub unsafe extern "C" fn tinyglib_g_slist_length(list: *mut GSList) -> guint {
    let mut n: guint = 0;
    let mut l = list;
    // SAFETY: walks valid nodes.
    unsafe {
        while !l.is_null() {
            n = n.wrapping_add(1);
            l = (*l).next;
        }
    }
    n
}

/// `g_slist_free(list)`: frees the nodes, not the data. NULL is fine.
///
/// ```
/// unsafe { tinyglib::tinyglib_g_slist_free(core::ptr::null_mut()) }
/// ```
///
/// # Safety
/// `list` is NULL or a list from this library, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn tinyglib_g_slist_free(list: *mut GSList) {
    let mut l = list;
    // SAFETY: each node is read before it is freed.
    unsafe {
        while !l.is_null() {
            let next = (*l).next;
            free_node(l);
            l = next;
        }
    }
}

/// `g_slist_free_full(list, free_func)`: `free_func(data)` for every node head to tail,
/// then frees the nodes. NULL is fine.
///
/// ```
/// use tinyglib::*;
/// unsafe {
///     let l = tinyglib_g_slist_prepend(core::ptr::null_mut(), tinyglib_g_malloc(8));
///     tinyglib_g_slist_free_full(l, Some(tinyglib_g_free));
/// }
/// ```
///
/// # Safety
/// As [`tinyglib_g_slist_free`]; `free_func` accepts every element.
#[no_mangle]
pub unsafe extern "C" fn tinyglib_g_slist_free_full(list: *mut GSList, free_func: GDestroyNotify) {
    if let Some(f) = free_func {
        let mut l = list;
        // SAFETY: walks valid nodes; the callback gets only the data.
        unsafe {
            while !l.is_null() {
                f((*l).data);
                l = (*l).next;
            }
        }
    }
    // SAFETY: forwarded.
    unsafe { tinyglib_g_slist_free(list) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gint;

    unsafe extern "C" fn differs(a: gconstpointer, b: gconstpointer) -> gint {
        (a == b) as gint
    }

    #[test]
    fn list_ops() {
        // SAFETY: lists built and freed here.
        unsafe {
            let mut l = core::ptr::null_mut();
            for i in 0..5usize {
                l = tinyglib_g_slist_append(l, i as gpointer);
            }
            l = tinyglib_g_slist_prepend(l, 9 as gpointer);
            assert_eq!(tinyglib_g_slist_length(l), 6);
            let f = tinyglib_g_slist_find_custom(l, 9 as gconstpointer, Some(differs));
            assert_eq!((*f).data as usize, 0);
            assert_eq!(tinyglib_g_slist_find_custom(l, 0 as gconstpointer, None), l);
            assert!(tinyglib_g_slist_find_custom(
                core::ptr::null_mut(),
                0 as gconstpointer,
                Some(differs)
            )
            .is_null());
            let m = tinyglib_g_slist_concat(core::ptr::null_mut(), l);
            assert_eq!(m, l);
            let m = tinyglib_g_slist_concat(
                l,
                tinyglib_g_slist_prepend(core::ptr::null_mut(), 7 as gpointer),
            );
            assert_eq!(tinyglib_g_slist_length(m), 7);
            tinyglib_g_slist_free(m);
        }
    }
}
