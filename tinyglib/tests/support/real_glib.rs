//! The real GLib 2.74 next to tinyglib: its C functions (linked from the system's
//! `libglib-2.0`; the two coexist, tinyglib's symbols are `tinyglib_g_*`), and [`Api`],
//! one table of entry points with GLib's C signatures, filled once with GLib's functions
//! ([`GLIB`]) and once with tinyglib's ([`tiny`]), so that the same code calls both.
//!
//! Shared, through `#[path = "..."] mod real_glib;`, by `tinyglib/tests/differential.rs`,
//! `tinyglib/benches/vs_glib.rs` and the fuzz target `fuzz/fuzz_targets/glib_ops.rs`
//! (`fuzz/` is its own workspace: keep this file free of dev-dependencies). Each uses a
//! part of the table.

// Each includer reads only some of the fields.
#![allow(dead_code)]
// `fp!` reinterprets tinyglib functions (typed `*mut GHashTable`, ...) as the C signature
// of the `Api` field they initialise; the field declares the target type.
#![allow(clippy::missing_transmute_annotations)]

use core::ffi::{c_char, c_int, c_uint, c_void};

use tinyglib::*;

pub type Ptr = *mut c_void;
pub type CPtr = *const c_void;
pub type HashFn = unsafe extern "C" fn(CPtr) -> c_uint;
pub type EqFn = unsafe extern "C" fn(CPtr, CPtr) -> c_int;
pub type Notify = unsafe extern "C" fn(Ptr);
pub type Cmp = unsafe extern "C" fn(CPtr, CPtr) -> c_int;
pub type CmpData = unsafe extern "C" fn(CPtr, CPtr, Ptr) -> c_int;
pub type HFunc = unsafe extern "C" fn(Ptr, Ptr, Ptr);
pub type HRFunc = unsafe extern "C" fn(Ptr, Ptr, Ptr) -> c_int;

#[link(name = "glib-2.0")]
extern "C" {
    fn g_free(p: Ptr);
    fn g_direct_hash(v: CPtr) -> c_uint;
    fn g_direct_equal(a: CPtr, b: CPtr) -> c_int;
    fn g_str_hash(v: CPtr) -> c_uint;
    fn g_str_equal(a: CPtr, b: CPtr) -> c_int;
    fn g_int64_hash(v: CPtr) -> c_uint;
    fn g_int64_equal(a: CPtr, b: CPtr) -> c_int;
    fn g_hash_table_new(h: Option<HashFn>, e: Option<EqFn>) -> Ptr;
    fn g_hash_table_new_full(
        h: Option<HashFn>,
        e: Option<EqFn>,
        kd: Option<Notify>,
        vd: Option<Notify>,
    ) -> Ptr;
    fn g_hash_table_insert(t: Ptr, k: Ptr, v: Ptr) -> c_int;
    fn g_hash_table_replace(t: Ptr, k: Ptr, v: Ptr) -> c_int;
    fn g_hash_table_lookup(t: Ptr, k: CPtr) -> Ptr;
    fn g_hash_table_remove(t: Ptr, k: CPtr) -> c_int;
    fn g_hash_table_remove_all(t: Ptr);
    fn g_hash_table_size(t: Ptr) -> c_uint;
    fn g_hash_table_foreach(t: Ptr, f: Option<HFunc>, ud: Ptr);
    fn g_hash_table_foreach_remove(t: Ptr, f: Option<HRFunc>, ud: Ptr) -> c_uint;
    fn g_hash_table_iter_init(it: *mut GHashTableIter, t: Ptr);
    fn g_hash_table_iter_next(it: *mut GHashTableIter, k: *mut Ptr, v: *mut Ptr) -> c_int;
    fn g_hash_table_destroy(t: Ptr);
    fn g_slist_prepend(l: *mut GSList, d: Ptr) -> *mut GSList;
    fn g_slist_append(l: *mut GSList, d: Ptr) -> *mut GSList;
    fn g_slist_concat(a: *mut GSList, b: *mut GSList) -> *mut GSList;
    fn g_slist_find_custom(l: *mut GSList, d: CPtr, f: Option<Cmp>) -> *mut GSList;
    fn g_slist_length(l: *mut GSList) -> c_uint;
    fn g_slist_free(l: *mut GSList);
    fn g_slist_free_full(l: *mut GSList, f: Option<Notify>);
    fn g_queue_new() -> *mut GQueue;
    fn g_queue_free(q: *mut GQueue);
    fn g_queue_get_length(q: *mut GQueue) -> c_uint;
    fn g_queue_push_head(q: *mut GQueue, d: Ptr);
    fn g_queue_pop_tail(q: *mut GQueue) -> Ptr;
    fn g_queue_find(q: *mut GQueue, d: CPtr) -> *mut GList;
    fn g_queue_unlink(q: *mut GQueue, l: *mut GList);
    fn g_queue_push_head_link(q: *mut GQueue, l: *mut GList);
    fn g_tree_new_full(c: Option<CmpData>, d: Ptr, kd: Option<Notify>, vd: Option<Notify>) -> Ptr;
    fn g_tree_insert(t: Ptr, k: Ptr, v: Ptr);
    fn g_tree_lookup(t: Ptr, k: CPtr) -> Ptr;
    fn g_tree_remove(t: Ptr, k: CPtr) -> c_int;
    fn g_tree_foreach(t: Ptr, f: Option<HRFunc>, ud: Ptr);
    fn g_tree_destroy(t: Ptr);
    fn g_strdup(s: *const c_char) -> *mut c_char;
    fn g_strndup(s: *const c_char, n: usize) -> *mut c_char;
    fn g_strlcpy(d: *mut c_char, s: *const c_char, n: usize) -> usize;
    fn g_strlcat(d: *mut c_char, s: *const c_char, n: usize) -> usize;
    fn g_strcmp0(a: *const c_char, b: *const c_char) -> c_int;
    fn g_ascii_strdown(s: *const c_char, len: isize) -> *mut c_char;
    fn g_strdup_printf(fmt: *const c_char, ...) -> *mut c_char;
    fn g_strconcat(s: *const c_char, ...) -> *mut c_char;
    fn g_stpcpy(d: *mut c_char, s: *const c_char) -> *mut c_char;
}

/// One implementation's entry points, with GLib's C signatures.
pub struct Api {
    /// `"glib"` or `"tinyglib"`.
    pub name: &'static str,
    pub free: Notify,
    pub direct_hash: HashFn,
    pub direct_equal: EqFn,
    pub str_hash: HashFn,
    pub str_equal: EqFn,
    pub int64_hash: HashFn,
    pub int64_equal: EqFn,
    pub new: unsafe extern "C" fn(Option<HashFn>, Option<EqFn>) -> Ptr,
    pub new_full:
        unsafe extern "C" fn(Option<HashFn>, Option<EqFn>, Option<Notify>, Option<Notify>) -> Ptr,
    pub insert: unsafe extern "C" fn(Ptr, Ptr, Ptr) -> c_int,
    pub replace: unsafe extern "C" fn(Ptr, Ptr, Ptr) -> c_int,
    pub lookup: unsafe extern "C" fn(Ptr, CPtr) -> Ptr,
    pub remove: unsafe extern "C" fn(Ptr, CPtr) -> c_int,
    pub remove_all: unsafe extern "C" fn(Ptr),
    pub size: unsafe extern "C" fn(Ptr) -> c_uint,
    pub foreach: unsafe extern "C" fn(Ptr, Option<HFunc>, Ptr),
    pub foreach_remove: unsafe extern "C" fn(Ptr, Option<HRFunc>, Ptr) -> c_uint,
    pub iter_init: unsafe extern "C" fn(*mut GHashTableIter, Ptr),
    pub iter_next: unsafe extern "C" fn(*mut GHashTableIter, *mut Ptr, *mut Ptr) -> c_int,
    pub destroy: unsafe extern "C" fn(Ptr),
    pub sl_prepend: unsafe extern "C" fn(*mut GSList, Ptr) -> *mut GSList,
    pub sl_append: unsafe extern "C" fn(*mut GSList, Ptr) -> *mut GSList,
    pub sl_concat: unsafe extern "C" fn(*mut GSList, *mut GSList) -> *mut GSList,
    pub sl_find_custom: unsafe extern "C" fn(*mut GSList, CPtr, Option<Cmp>) -> *mut GSList,
    pub sl_length: unsafe extern "C" fn(*mut GSList) -> c_uint,
    pub sl_free: unsafe extern "C" fn(*mut GSList),
    pub sl_free_full: unsafe extern "C" fn(*mut GSList, Option<Notify>),
    pub q_new: unsafe extern "C" fn() -> *mut GQueue,
    pub q_free: unsafe extern "C" fn(*mut GQueue),
    pub q_len: unsafe extern "C" fn(*mut GQueue) -> c_uint,
    pub q_push_head: unsafe extern "C" fn(*mut GQueue, Ptr),
    pub q_pop_tail: unsafe extern "C" fn(*mut GQueue) -> Ptr,
    pub q_find: unsafe extern "C" fn(*mut GQueue, CPtr) -> *mut GList,
    pub q_unlink: unsafe extern "C" fn(*mut GQueue, *mut GList),
    pub q_push_head_link: unsafe extern "C" fn(*mut GQueue, *mut GList),
    pub t_new_full:
        unsafe extern "C" fn(Option<CmpData>, Ptr, Option<Notify>, Option<Notify>) -> Ptr,
    pub t_insert: unsafe extern "C" fn(Ptr, Ptr, Ptr),
    pub t_lookup: unsafe extern "C" fn(Ptr, CPtr) -> Ptr,
    pub t_remove: unsafe extern "C" fn(Ptr, CPtr) -> c_int,
    pub t_foreach: unsafe extern "C" fn(Ptr, Option<HRFunc>, Ptr),
    pub t_destroy: unsafe extern "C" fn(Ptr),
    pub strdup: unsafe extern "C" fn(*const c_char) -> *mut c_char,
    pub strndup: unsafe extern "C" fn(*const c_char, usize) -> *mut c_char,
    pub strlcpy: unsafe extern "C" fn(*mut c_char, *const c_char, usize) -> usize,
    pub strlcat: unsafe extern "C" fn(*mut c_char, *const c_char, usize) -> usize,
    pub strcmp0: unsafe extern "C" fn(*const c_char, *const c_char) -> c_int,
    pub ascii_strdown: unsafe extern "C" fn(*const c_char, isize) -> *mut c_char,
    pub stpcpy: unsafe extern "C" fn(*mut c_char, *const c_char) -> *mut c_char,
    pub strdup_printf: unsafe extern "C" fn(*const c_char, ...) -> *mut c_char,
    pub strconcat: unsafe extern "C" fn(*const c_char, ...) -> *mut c_char,
}

/// Reinterprets a tinyglib function (typed `*mut GHashTable` etc.) with the C signature.
macro_rules! fp {
    ($f:expr) => {
        // SAFETY: same C ABI; only opaque pointer types differ.
        unsafe { core::mem::transmute::<*const (), _>($f as *const ()) }
    };
}

/// The real GLib.
pub const GLIB: Api = Api {
    name: "glib",
    free: g_free,
    direct_hash: g_direct_hash,
    direct_equal: g_direct_equal,
    str_hash: g_str_hash,
    str_equal: g_str_equal,
    int64_hash: g_int64_hash,
    int64_equal: g_int64_equal,
    new: g_hash_table_new,
    new_full: g_hash_table_new_full,
    insert: g_hash_table_insert,
    replace: g_hash_table_replace,
    lookup: g_hash_table_lookup,
    remove: g_hash_table_remove,
    remove_all: g_hash_table_remove_all,
    size: g_hash_table_size,
    foreach: g_hash_table_foreach,
    foreach_remove: g_hash_table_foreach_remove,
    iter_init: g_hash_table_iter_init,
    iter_next: g_hash_table_iter_next,
    destroy: g_hash_table_destroy,
    sl_prepend: g_slist_prepend,
    sl_append: g_slist_append,
    sl_concat: g_slist_concat,
    sl_find_custom: g_slist_find_custom,
    sl_length: g_slist_length,
    sl_free: g_slist_free,
    sl_free_full: g_slist_free_full,
    q_new: g_queue_new,
    q_free: g_queue_free,
    q_len: g_queue_get_length,
    q_push_head: g_queue_push_head,
    q_pop_tail: g_queue_pop_tail,
    q_find: g_queue_find,
    q_unlink: g_queue_unlink,
    q_push_head_link: g_queue_push_head_link,
    t_new_full: g_tree_new_full,
    t_insert: g_tree_insert,
    t_lookup: g_tree_lookup,
    t_remove: g_tree_remove,
    t_foreach: g_tree_foreach,
    t_destroy: g_tree_destroy,
    strdup: g_strdup,
    strndup: g_strndup,
    strlcpy: g_strlcpy,
    strlcat: g_strlcat,
    strcmp0: g_strcmp0,
    ascii_strdown: g_ascii_strdown,
    stpcpy: g_stpcpy,
    strdup_printf: g_strdup_printf,
    strconcat: g_strconcat,
};

/// tinyglib (a function, not a constant: the casts in `fp!` are not allowed in a
/// constant).
pub fn tiny() -> Api {
    Api {
        name: "tinyglib",
        free: tinyglib_g_free,
        direct_hash: tinyglib_g_direct_hash,
        direct_equal: tinyglib_g_direct_equal,
        str_hash: tinyglib_g_str_hash,
        str_equal: tinyglib_g_str_equal,
        int64_hash: tinyglib_g_int64_hash,
        int64_equal: tinyglib_g_int64_equal,
        new: fp!(tinyglib_g_hash_table_new),
        new_full: fp!(tinyglib_g_hash_table_new_full),
        insert: fp!(tinyglib_g_hash_table_insert),
        replace: fp!(tinyglib_g_hash_table_replace),
        lookup: fp!(tinyglib_g_hash_table_lookup),
        remove: fp!(tinyglib_g_hash_table_remove),
        remove_all: fp!(tinyglib_g_hash_table_remove_all),
        size: fp!(tinyglib_g_hash_table_size),
        foreach: fp!(tinyglib_g_hash_table_foreach),
        foreach_remove: fp!(tinyglib_g_hash_table_foreach_remove),
        iter_init: fp!(tinyglib_g_hash_table_iter_init),
        iter_next: tinyglib_g_hash_table_iter_next,
        destroy: fp!(tinyglib_g_hash_table_destroy),
        sl_prepend: tinyglib_g_slist_prepend,
        sl_append: tinyglib_g_slist_append,
        sl_concat: tinyglib_g_slist_concat,
        sl_find_custom: tinyglib_g_slist_find_custom,
        sl_length: tinyglib_g_slist_length,
        sl_free: tinyglib_g_slist_free,
        sl_free_full: tinyglib_g_slist_free_full,
        q_new: tinyglib_g_queue_new,
        q_free: tinyglib_g_queue_free,
        q_len: tinyglib_g_queue_get_length,
        q_push_head: tinyglib_g_queue_push_head,
        q_pop_tail: tinyglib_g_queue_pop_tail,
        q_find: tinyglib_g_queue_find,
        q_unlink: tinyglib_g_queue_unlink,
        q_push_head_link: tinyglib_g_queue_push_head_link,
        t_new_full: fp!(tinyglib_g_tree_new_full),
        t_insert: fp!(tinyglib_g_tree_insert),
        t_lookup: fp!(tinyglib_g_tree_lookup),
        t_remove: fp!(tinyglib_g_tree_remove),
        t_foreach: fp!(tinyglib_g_tree_foreach),
        t_destroy: fp!(tinyglib_g_tree_destroy),
        strdup: tinyglib_g_strdup,
        strndup: tinyglib_g_strndup,
        strlcpy: tinyglib_g_strlcpy,
        strlcat: tinyglib_g_strlcat,
        strcmp0: tinyglib_g_strcmp0,
        ascii_strdown: tinyglib_g_ascii_strdown,
        stpcpy: tinyglib_g_stpcpy,
        strdup_printf: tinyglib_g_strdup_printf,
        strconcat: tinyglib_g_strconcat,
    }
}

/// Both sides, GLib first (index 0 = GLib, 1 = tinyglib).
pub fn apis() -> [Api; 2] {
    [GLIB, tiny()]
}
