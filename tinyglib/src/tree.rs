//! `GTree`: a sorted map kept as a two-level blocked sorted array (leaves of at most
//! `LEAF_CAP` entries, plus an array of each leaf's first key). Lookups binary-search
//! the first keys, then the leaf; comparisons call the user's `GCompareDataFunc`.
//! Positions are always re-read by index after a user callback, and a comparator that
//! modifies the tree makes the search start over.

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::{
    gbool, gboolean, gconstpointer, gint, gpointer, GCompareDataFunc, GDestroyNotify,
    GTraverseFunc, FALSE,
};

const LEAF_CAP: usize = 128;

type CmpFn = unsafe extern "C" fn(gconstpointer, gconstpointer, gpointer) -> gint;

/// An opaque balanced sorted map (`GTree *`), created with [`tinyglib_g_tree_new_full`].
///
/// ```
/// use tinyglib::*;
/// unsafe extern "C" fn cmp(a: gconstpointer, b: gconstpointer, _: gpointer) -> gint {
///     (a as usize).cmp(&(b as usize)) as gint
/// }
/// unsafe {
///     let t: *mut GTree = tinyglib_g_tree_new_full(Some(cmp), core::ptr::null_mut(), None, None);
///     tinyglib_g_tree_insert(t, 2 as gpointer, 20 as gpointer);
///     assert_eq!(tinyglib_g_tree_lookup(t, 2 as gconstpointer) as usize, 20);
///     tinyglib_g_tree_destroy(t);
/// }
/// ```
pub struct GTree {
    firsts: Vec<gpointer>,
    leaves: Vec<Vec<(gpointer, gpointer)>>,
    cmp: CmpFn,
    cmp_data: gpointer,
    key_destroy: GDestroyNotify,
    value_destroy: GDestroyNotify,
    /// Bumped whenever an entry is added or removed.
    version: usize,
}

/// Where a key is, or would be inserted.
struct Pos {
    leaf: usize,
    idx: usize,
    found: bool,
}

/// Calls the comparator on `key` and a stored key. No reference into `t` is alive.
#[inline(always)]
unsafe fn compare(t: *mut GTree, key: gconstpointer, stored: gpointer) -> gint {
    // SAFETY: `t` is live; fields are copied out before the call.
    unsafe {
        let (f, d) = ((*t).cmp, (*t).cmp_data);
        f(key, stored, d)
    }
}

/// What [`bisect`] found: the key at an index, the number of stored keys smaller than it,
/// or that the tree changed under the comparator.
enum Bisect {
    Found(usize),
    Before(usize),
    Changed,
}

/// Binary search of `key` in the sorted keys `get(start..end)`, knowing every key before
/// `start` is smaller. The window halves by a conditional move, not a branch, so the only
/// branches are the loop count (fixed by the length) and "equal" (rare until the end):
/// nothing for the CPU to mispredict. At most `log2(len) + 2` comparator calls.
///
/// # Safety
/// `t` is live; `get(i)` reads stored key `i` of the current tree by value.
#[inline(always)]
unsafe fn bisect(
    t: *mut GTree,
    key: gconstpointer,
    version: usize,
    (start, end): (usize, usize),
    get: impl Fn(usize) -> gpointer,
) -> Bisect {
    // Invariant: keys before `base` are smaller than `key`, keys from `base + len` on are
    // greater.
    let (mut base, mut len) = (start, end - start);
    // SAFETY: `t` is live; `get` reads by index after the version check.
    unsafe {
        while len > 1 {
            let half = len / 2;
            let c = compare(t, key, get(base + half));
            if (*t).version != version {
                return Bisect::Changed;
            }
            if c == 0 {
                return Bisect::Found(base + half);
            }
            base = if c > 0 { base + half } else { base };
            len -= half;
        }
        if len == 1 {
            let c = compare(t, key, get(base));
            if (*t).version != version {
                return Bisect::Changed;
            }
            if c == 0 {
                return Bisect::Found(base);
            }
            base += usize::from(c > 0);
        }
    }
    Bisect::Before(base)
}

unsafe fn search(t: *mut GTree, key: gconstpointer) -> Pos {
    'restart: loop {
        // SAFETY: `t` is live; every read is by value and by index, re-done after each
        // callback, and the search restarts if the tree changed under the callback.
        unsafe {
            let version = (*t).version;
            let nleaves = (*t).leaves.len();
            if nleaves == 0 {
                return Pos {
                    leaf: 0,
                    idx: 0,
                    found: false,
                };
            }
            // The leaves whose first key is smaller than `key`.
            let lo = match bisect(t, key, version, (0, nleaves), |i| (&(*t).firsts)[i]) {
                Bisect::Changed => continue 'restart,
                Bisect::Found(leaf) => {
                    return Pos {
                        leaf,
                        idx: 0,
                        found: true,
                    }
                }
                Bisect::Before(lo) => lo,
            };
            let leaf = lo.saturating_sub(1);
            // Inside the leaf; its first key is already known to be smaller if lo > 0.
            let span = (usize::from(lo > 0), (&(*t).leaves)[leaf].len());
            return match bisect(t, key, version, span, |i| (&(*t).leaves)[leaf][i].0) {
                Bisect::Changed => continue 'restart,
                Bisect::Found(idx) => Pos {
                    leaf,
                    idx,
                    found: true,
                },
                Bisect::Before(idx) => Pos {
                    leaf,
                    idx,
                    found: false,
                },
            };
        }
    }
}

/// `g_tree_new_full(cmp, cmp_data, key_destroy, value_destroy)`; NULL `cmp` gives NULL.
///
/// ```
/// use tinyglib::*;
/// unsafe { assert!(tinyglib_g_tree_new_full(None, core::ptr::null_mut(), None, None).is_null()) }
/// ```
///
/// # Safety
/// `key_compare_func` is a consistent total order over every key later used.
#[no_mangle]
pub unsafe extern "C" fn tinyglib_g_tree_new_full(
    key_compare_func: GCompareDataFunc,
    key_compare_data: gpointer,
    key_destroy_func: GDestroyNotify,
    value_destroy_func: GDestroyNotify,
) -> *mut GTree {
    let Some(cmp) = key_compare_func else {
        return core::ptr::null_mut();
    };
    Box::into_raw(Box::new(GTree {
        firsts: Vec::new(),
        leaves: Vec::new(),
        cmp,
        cmp_data: key_compare_data,
        key_destroy: key_destroy_func,
        value_destroy: value_destroy_func,
        version: 0,
    }))
}

/// `g_tree_insert(t, key, value)`. A present key keeps the **old key** and gets the new
/// value; then `value_destroy(old value)` and `key_destroy(new key)` run, in that order
/// (the opposite of `GHashTable`). NULL `t`: no-op.
///
/// ```
/// use tinyglib::*;
/// unsafe extern "C" fn cmp(a: gconstpointer, b: gconstpointer, _: gpointer) -> gint {
///     (a as usize).cmp(&(b as usize)) as gint
/// }
/// unsafe {
///     let t = tinyglib_g_tree_new_full(Some(cmp), core::ptr::null_mut(), None, None);
///     tinyglib_g_tree_insert(t, 1 as gpointer, 1 as gpointer);
///     tinyglib_g_tree_insert(t, 1 as gpointer, 2 as gpointer);
///     assert_eq!(tinyglib_g_tree_lookup(t, 1 as gconstpointer) as usize, 2);
///     tinyglib_g_tree_destroy(t);
/// }
/// ```
///
/// # Safety
/// `t` is NULL or a live tree.
#[no_mangle]
pub unsafe extern "C" fn tinyglib_g_tree_insert(t: *mut GTree, key: gpointer, value: gpointer) {
    if t.is_null() {
        return;
    }
    // SAFETY: `t` is live; mutations happen with no callout in between, and the
    // notifiers run last with nothing of `t` used after them.
    unsafe {
        let pos = search(t, key);
        if pos.found {
            let slot = &mut (&mut (*t).leaves)[pos.leaf][pos.idx];
            let old_value = core::mem::replace(&mut slot.1, value);
            let (kd, vd) = ((*t).key_destroy, (*t).value_destroy);
            if let Some(vd) = vd {
                vd(old_value);
            }
            if let Some(kd) = kd {
                kd(key);
            }
            return;
        }
        let tree = &mut *t;
        tree.version = tree.version.wrapping_add(1);
        if tree.leaves.is_empty() {
            let mut leaf = Vec::with_capacity(4);
            leaf.push((key, value));
            tree.leaves.push(leaf);
            tree.firsts.push(key);
            return;
        }
        let leaf = &mut tree.leaves[pos.leaf];
        leaf.insert(pos.idx, (key, value));
        if pos.idx == 0 {
            tree.firsts[pos.leaf] = key;
        }
        if leaf.len() > LEAF_CAP {
            let right = leaf.split_off(leaf.len() / 2);
            tree.firsts.insert(pos.leaf + 1, right[0].0);
            tree.leaves.insert(pos.leaf + 1, right);
        }
    }
}

/// `g_tree_lookup(t, key)`: the value, or NULL (also for a NULL tree).
///
/// ```
/// unsafe { assert!(tinyglib::tinyglib_g_tree_lookup(core::ptr::null_mut(), core::ptr::null()).is_null()) }
/// ```
///
/// # Safety
/// `t` is NULL or a live tree.
#[no_mangle]
pub unsafe extern "C" fn tinyglib_g_tree_lookup(t: *mut GTree, key: gconstpointer) -> gpointer {
    if t.is_null() {
        return core::ptr::null_mut();
    }
    // SAFETY: `t` is live; the position is fresh.
    unsafe {
        let pos = search(t, key);
        if pos.found {
            (&(*t).leaves)[pos.leaf][pos.idx].1
        } else {
            core::ptr::null_mut()
        }
    }
}

/// `g_tree_remove(t, key)`: TRUE after detaching the entry and calling
/// `key_destroy(stored key)` then `value_destroy(value)`; FALSE if absent or `t` is NULL.
///
/// ```
/// use tinyglib::*;
/// unsafe extern "C" fn cmp(a: gconstpointer, b: gconstpointer, _: gpointer) -> gint {
///     (a as usize).cmp(&(b as usize)) as gint
/// }
/// unsafe {
///     let t = tinyglib_g_tree_new_full(Some(cmp), core::ptr::null_mut(), None, None);
///     tinyglib_g_tree_insert(t, 1 as gpointer, 1 as gpointer);
///     assert_eq!(tinyglib_g_tree_remove(t, 1 as gconstpointer), 1);
///     assert_eq!(tinyglib_g_tree_remove(t, 1 as gconstpointer), 0);
///     tinyglib_g_tree_destroy(t);
/// }
/// ```
///
/// # Safety
/// `t` is NULL or a live tree.
#[no_mangle]
pub unsafe extern "C" fn tinyglib_g_tree_remove(t: *mut GTree, key: gconstpointer) -> gboolean {
    if t.is_null() {
        return FALSE;
    }
    // SAFETY: `t` is live; the entry is detached before the notifiers run, and nothing
    // of `t` is used after them.
    unsafe {
        let pos = search(t, key);
        if !pos.found {
            return FALSE;
        }
        let tree = &mut *t;
        tree.version = tree.version.wrapping_add(1);
        let (k, v) = tree.leaves[pos.leaf].remove(pos.idx);
        let li = pos.leaf;
        let len = tree.leaves[li].len();
        if len == 0 {
            tree.leaves.remove(li);
            tree.firsts.remove(li);
        } else {
            if pos.idx == 0 {
                tree.firsts[li] = tree.leaves[li][0].0;
            }
            if len < LEAF_CAP / 4 {
                let n = tree.leaves.len();
                if li + 1 < n && len + tree.leaves[li + 1].len() <= LEAF_CAP * 3 / 4 {
                    let right = tree.leaves.remove(li + 1);
                    tree.firsts.remove(li + 1);
                    tree.leaves[li].extend(right);
                } else if li > 0 && len + tree.leaves[li - 1].len() <= LEAF_CAP * 3 / 4 {
                    let right = tree.leaves.remove(li);
                    tree.firsts.remove(li);
                    tree.leaves[li - 1].extend(right);
                }
            }
        }
        let (kd, vd) = (tree.key_destroy, tree.value_destroy);
        if let Some(kd) = kd {
            kd(k);
        }
        if let Some(vd) = vd {
            vd(v);
        }
        gbool(true)
    }
}

/// `g_tree_foreach(t, func, user_data)`: in ascending key order; stops as soon as
/// `func` returns non-zero (or the tree gains or loses entries). NULL: no-op.
///
/// ```
/// use tinyglib::*;
/// unsafe extern "C" fn cmp(a: gconstpointer, b: gconstpointer, _: gpointer) -> gint {
///     (a as usize).cmp(&(b as usize)) as gint
/// }
/// unsafe extern "C" fn first(k: gpointer, _v: gpointer, ud: gpointer) -> gboolean {
///     *(ud as *mut usize) = k as usize;
///     TRUE
/// }
/// unsafe {
///     let t = tinyglib_g_tree_new_full(Some(cmp), core::ptr::null_mut(), None, None);
///     for k in [5usize, 3, 9] { tinyglib_g_tree_insert(t, k as gpointer, core::ptr::null_mut()); }
///     let mut smallest = 0usize;
///     tinyglib_g_tree_foreach(t, Some(first), &mut smallest as *mut usize as gpointer);
///     assert_eq!(smallest, 3);
///     tinyglib_g_tree_destroy(t);
/// }
/// ```
///
/// # Safety
/// `t` is NULL or a live tree that `func` does not destroy.
#[no_mangle]
pub unsafe extern "C" fn tinyglib_g_tree_foreach(
    t: *mut GTree,
    func: GTraverseFunc,
    user_data: gpointer,
) {
    let Some(f) = func else { return };
    if t.is_null() {
        return;
    }
    // SAFETY: `t` is live; entries are read by index and copied before each callback.
    unsafe {
        let version = (*t).version;
        let mut li = 0;
        while li < (*t).leaves.len() {
            let mut i = 0;
            while i < (&(*t).leaves)[li].len() {
                let (k, v) = (&(*t).leaves)[li][i];
                if f(k, v, user_data) != 0 || (*t).version != version {
                    return;
                }
                i += 1;
            }
            li += 1;
        }
    }
}

/// `g_tree_destroy(t)`: `key_destroy` then `value_destroy` per entry in ascending key
/// order, then frees the tree. NULL: no-op.
///
/// ```
/// unsafe { tinyglib::tinyglib_g_tree_destroy(core::ptr::null_mut()) }
/// ```
///
/// # Safety
/// `t` is NULL or a live tree, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn tinyglib_g_tree_destroy(t: *mut GTree) {
    if t.is_null() {
        return;
    }
    // SAFETY: `t` is live and owned by this call; entries are detached before the
    // notifiers run; re-entrant inserts are drained before the tree is freed.
    unsafe {
        loop {
            let leaves = core::mem::take(&mut (*t).leaves);
            (*t).firsts.clear();
            (*t).version = (*t).version.wrapping_add(1);
            if leaves.is_empty() {
                break;
            }
            let (kd, vd) = ((*t).key_destroy, (*t).value_destroy);
            for (k, v) in leaves.into_iter().flatten() {
                if let Some(kd) = kd {
                    kd(k);
                }
                if let Some(vd) = vd {
                    vd(v);
                }
            }
        }
        drop(Box::from_raw(t));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::vec::Vec;

    std::thread_local! {
        static LOG: RefCell<Vec<(char, usize)>> = const { RefCell::new(Vec::new()) };
    }
    unsafe extern "C" fn lk(p: gpointer) {
        LOG.with(|l| l.borrow_mut().push(('k', p as usize)));
    }
    unsafe extern "C" fn lv(p: gpointer) {
        LOG.with(|l| l.borrow_mut().push(('v', p as usize)));
    }
    fn take() -> Vec<(char, usize)> {
        LOG.with(|l| core::mem::take(&mut *l.borrow_mut()))
    }
    unsafe extern "C" fn cmp(a: gconstpointer, b: gconstpointer, _: gpointer) -> gint {
        (a as usize).cmp(&(b as usize)) as gint
    }
    unsafe extern "C" fn collect(k: gpointer, _v: gpointer, ud: gpointer) -> gboolean {
        // SAFETY: ud is a live Vec.
        unsafe { (*(ud as *mut Vec<usize>)).push(k as usize) };
        FALSE
    }

    #[test]
    fn ordered_map() {
        let n = if cfg!(miri) { 300 } else { 5000 };
        // SAFETY: integer keys; notifiers only log.
        unsafe {
            let t = tinyglib_g_tree_new_full(Some(cmp), core::ptr::null_mut(), Some(lk), Some(lv));
            let mut x = 12345usize;
            let mut model = std::collections::BTreeMap::new();
            for _ in 0..n {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let k = (x >> 33) % (n / 2) + 1;
                if x & 1 == 0 {
                    tinyglib_g_tree_insert(t, k as gpointer, (k * 2) as gpointer);
                    model.insert(k, k * 2);
                } else {
                    let r = tinyglib_g_tree_remove(t, k as gconstpointer);
                    assert_eq!(r, model.remove(&k).is_some() as gboolean);
                }
                assert_eq!(
                    tinyglib_g_tree_lookup(t, k as gconstpointer) as usize,
                    model.get(&k).copied().unwrap_or(0)
                );
            }
            let mut seen = Vec::new();
            tinyglib_g_tree_foreach(t, Some(collect), &mut seen as *mut Vec<usize> as gpointer);
            assert_eq!(seen, model.keys().copied().collect::<Vec<_>>());
            take();
            // Existing key: old key kept, value notifier first.
            let k0 = *model.keys().next().unwrap();
            tinyglib_g_tree_insert(t, k0 as gpointer, 1 as gpointer);
            assert_eq!(take(), [('v', k0 * 2), ('k', k0)]);
            tinyglib_g_tree_destroy(t);
            let log = take();
            assert_eq!(log.len(), 2 * model.len());
            let keys: Vec<usize> = log.iter().filter(|e| e.0 == 'k').map(|e| e.1).collect();
            assert_eq!(keys, model.keys().copied().collect::<Vec<_>>());
        }
    }

    #[test]
    fn null_tree() {
        // SAFETY: NULL is accepted everywhere.
        unsafe {
            let n = core::ptr::null_mut();
            tinyglib_g_tree_insert(n, n.cast(), n.cast());
            assert!(tinyglib_g_tree_lookup(n, core::ptr::null()).is_null());
            assert_eq!(tinyglib_g_tree_remove(n, core::ptr::null()), 0);
            tinyglib_g_tree_foreach(n, Some(collect), core::ptr::null_mut());
            tinyglib_g_tree_destroy(n);
        }
    }
}
