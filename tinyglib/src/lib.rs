//! # tinyglib
//!
//! The subset of GLib 2.74 that upstream LibVMI uses, implemented in `no_std` Rust
//! (plus two small C-variadic functions) and exported over the C ABI.
//!
//! * Every exported symbol carries the `tinyglib_` prefix (`tinyglib_g_hash_table_new`,
//!   …), so tinyglib and the real GLib can live in one process. The drop-in header
//!   `include/glib.h` maps the GLib names onto the prefixed ones with `#define`s, so C
//!   code written for GLib (upstream LibVMI) compiles unmodified.
//! * Every buffer handed to C comes from libc `malloc`, so `free()` and `g_free()` mix
//!   both ways.
//! * Containers never hold a borrow while calling user callbacks: notifiers, foreach and
//!   compare callbacks may re-enter the library.
//! * The crate defines neither a `#[panic_handler]` nor a `#[global_allocator]`; a
//!   `no_std` final artifact can install [`MallocAllocator`] (as `tinyglib-capi`, the
//!   `libtinyglib.a` staticlib in `capi/`, does).
//!
//! Rust callers use the same functions under their exported names; the
//! [`glib`] module re-exports them under the GLib names.
//!
//! ```
//! use tinyglib::glib::*;
//! unsafe {
//!     let t = g_hash_table_new(Some(g_direct_hash), Some(g_direct_equal));
//!     assert_eq!(g_hash_table_insert(t, 7usize as gpointer, 49usize as gpointer), TRUE);
//!     assert_eq!(g_hash_table_lookup(t, 7usize as gconstpointer) as usize, 49);
//!     g_hash_table_destroy(t);
//! }
//! ```
#![no_std]
#![allow(non_camel_case_types)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(test)]
extern crate std;

mod alloc_impl;
mod hash;
mod mem;
mod pool;
mod queue;
mod slist;
mod strings;
mod sys;
mod tree;

pub use alloc_impl::MallocAllocator;
pub use hash::*;
pub use mem::*;
pub use queue::*;
pub use slist::*;
pub use strings::*;
pub use tree::*;

use core::ffi::{c_char, c_int, c_long, c_uint, c_ulong, c_void};

/// GLib's boolean: an `int`; [`TRUE`] is 1 and [`FALSE`] is 0.
///
/// ```
/// assert_eq!(core::mem::size_of::<tinyglib::gboolean>(), 4);
/// ```
pub type gboolean = c_int;
/// `char`.
///
/// ```
/// let _c: tinyglib::gchar = b'a' as tinyglib::gchar;
/// ```
pub type gchar = c_char;
/// `int`.
///
/// ```
/// let _i: tinyglib::gint = -1;
/// ```
pub type gint = c_int;
/// `unsigned int`.
///
/// ```
/// let _u: tinyglib::guint = 1;
/// ```
pub type guint = c_uint;
/// `long` (64 bits on LP64).
///
/// ```
/// assert_eq!(core::mem::size_of::<tinyglib::glong>(), core::mem::size_of::<usize>());
/// ```
pub type glong = c_long;
/// `unsigned long`.
///
/// ```
/// let _u: tinyglib::gulong = 1;
/// ```
pub type gulong = c_ulong;
/// Signed 64-bit integer.
///
/// ```
/// let _i: tinyglib::gint64 = -1;
/// ```
pub type gint64 = i64;
/// Unsigned 64-bit integer.
///
/// ```
/// let _u: tinyglib::guint64 = 1;
/// ```
pub type guint64 = u64;
/// `size_t`.
///
/// ```
/// let _s: tinyglib::gsize = 1;
/// ```
pub type gsize = usize;
/// `ssize_t`.
///
/// ```
/// let _s: tinyglib::gssize = -1;
/// ```
pub type gssize = isize;
/// `void *`.
///
/// ```
/// let _p: tinyglib::gpointer = core::ptr::null_mut();
/// ```
pub type gpointer = *mut c_void;
/// `const void *`.
///
/// ```
/// let _p: tinyglib::gconstpointer = core::ptr::null();
/// ```
pub type gconstpointer = *const c_void;

/// GLib's `FALSE`.
///
/// ```
/// assert_eq!(tinyglib::FALSE, 0);
/// ```
pub const FALSE: gboolean = 0;
/// GLib's `TRUE` (`!FALSE`).
///
/// ```
/// assert_eq!(tinyglib::TRUE, 1);
/// ```
pub const TRUE: gboolean = 1;

/// The GLib version this implementation reports (`GLIB_MAJOR_VERSION`).
///
/// ```
/// assert_eq!((tinyglib::GLIB_MAJOR_VERSION, tinyglib::GLIB_MINOR_VERSION,
///             tinyglib::GLIB_MICRO_VERSION), (2, 74, 6));
/// ```
pub const GLIB_MAJOR_VERSION: u32 = 2;
/// `GLIB_MINOR_VERSION`.
///
/// ```
/// assert_eq!(tinyglib::GLIB_MINOR_VERSION, 74);
/// ```
pub const GLIB_MINOR_VERSION: u32 = 74;
/// `GLIB_MICRO_VERSION`.
///
/// ```
/// assert_eq!(tinyglib::GLIB_MICRO_VERSION, 6);
/// ```
pub const GLIB_MICRO_VERSION: u32 = 6;

/// `GLIB_CHECK_VERSION(major, minor, micro)`: whether the reported version is at least
/// the given one (GLib's exact formula).
///
/// ```
/// assert!(tinyglib::glib_check_version(2, 67, 3));
/// assert!(!tinyglib::glib_check_version(2, 75, 0));
/// ```
pub const fn glib_check_version(major: u32, minor: u32, micro: u32) -> bool {
    GLIB_MAJOR_VERSION > major
        || (GLIB_MAJOR_VERSION == major && GLIB_MINOR_VERSION > minor)
        || (GLIB_MAJOR_VERSION == major
            && GLIB_MINOR_VERSION == minor
            && GLIB_MICRO_VERSION >= micro)
}

/// `void (*)(gpointer data)`: frees a key, value or element.
///
/// ```
/// let _f: tinyglib::GDestroyNotify = Some(tinyglib::tinyglib_g_free);
/// ```
pub type GDestroyNotify = Option<unsafe extern "C" fn(gpointer)>;
/// `guint (*)(gconstpointer key)`.
///
/// ```
/// let _f: tinyglib::GHashFunc = Some(tinyglib::tinyglib_g_str_hash);
/// ```
pub type GHashFunc = Option<unsafe extern "C" fn(gconstpointer) -> guint>;
/// `gboolean (*)(gconstpointer a, gconstpointer b)`; any non-zero result is TRUE.
///
/// ```
/// let _f: tinyglib::GEqualFunc = Some(tinyglib::tinyglib_g_str_equal);
/// ```
pub type GEqualFunc = Option<unsafe extern "C" fn(gconstpointer, gconstpointer) -> gboolean>;
/// `void (*)(gpointer key, gpointer value, gpointer user_data)`.
///
/// ```
/// unsafe extern "C" fn f(_k: tinyglib::gpointer, _v: tinyglib::gpointer, _u: tinyglib::gpointer) {}
/// let _f: tinyglib::GHFunc = Some(f);
/// ```
pub type GHFunc = Option<unsafe extern "C" fn(gpointer, gpointer, gpointer)>;
/// `gboolean (*)(gpointer key, gpointer value, gpointer user_data)`.
///
/// ```
/// unsafe extern "C" fn f(_k: tinyglib::gpointer, _v: tinyglib::gpointer, _u: tinyglib::gpointer) -> tinyglib::gboolean { 1 }
/// let _f: tinyglib::GHRFunc = Some(f);
/// ```
pub type GHRFunc = Option<unsafe extern "C" fn(gpointer, gpointer, gpointer) -> gboolean>;
/// `gint (*)(gconstpointer a, gconstpointer b)`: only the sign matters (0 = equal).
///
/// ```
/// unsafe extern "C" fn f(_a: tinyglib::gconstpointer, _b: tinyglib::gconstpointer) -> tinyglib::gint { 0 }
/// let _f: tinyglib::GCompareFunc = Some(f);
/// ```
pub type GCompareFunc = Option<unsafe extern "C" fn(gconstpointer, gconstpointer) -> gint>;
/// `gint (*)(gconstpointer a, gconstpointer b, gpointer user_data)`.
///
/// ```
/// unsafe extern "C" fn f(_a: tinyglib::gconstpointer, _b: tinyglib::gconstpointer, _u: tinyglib::gpointer) -> tinyglib::gint { 0 }
/// let _f: tinyglib::GCompareDataFunc = Some(f);
/// ```
pub type GCompareDataFunc =
    Option<unsafe extern "C" fn(gconstpointer, gconstpointer, gpointer) -> gint>;
/// `gboolean (*)(gpointer key, gpointer value, gpointer user_data)`: TRUE stops a
/// [`tinyglib_g_tree_foreach`].
///
/// ```
/// unsafe extern "C" fn f(_k: tinyglib::gpointer, _v: tinyglib::gpointer, _u: tinyglib::gpointer) -> tinyglib::gboolean { 0 }
/// let _f: tinyglib::GTraverseFunc = Some(f);
/// ```
pub type GTraverseFunc = Option<unsafe extern "C" fn(gpointer, gpointer, gpointer) -> gboolean>;

/// Converts a Rust `bool` to an exact GLib boolean (0 or 1).
#[inline]
pub(crate) fn gbool(b: bool) -> gboolean {
    b as gboolean
}

/// `GINT_TO_POINTER`: through `glong`, so 64-bit values survive.
///
/// ```
/// assert_eq!(tinyglib::gint_to_pointer(-1) as isize, -1);
/// ```
pub fn gint_to_pointer(i: glong) -> gpointer {
    i as gpointer
}

/// `GUINT_TO_POINTER`: through `gulong`, so 64-bit values survive.
///
/// ```
/// assert_eq!(tinyglib::guint_to_pointer(0x1_0000_0010) as usize, 0x1_0000_0010);
/// ```
pub fn guint_to_pointer(u: gulong) -> gpointer {
    u as gpointer
}

/// `GPOINTER_TO_UINT`: the low 32 bits.
///
/// ```
/// assert_eq!(tinyglib::gpointer_to_uint(0x1_0000_0010usize as _), 0x10);
/// ```
pub fn gpointer_to_uint(p: gconstpointer) -> guint {
    p as gulong as guint
}

/// Every GLib-named entry point, re-exported under its GLib name for Rust callers,
/// together with the GLib types.
///
/// ```
/// use tinyglib::glib::*;
/// unsafe {
///     let s = g_strdup(c"abc".as_ptr());
///     assert_eq!(g_str_hash(s as gconstpointer), 193485963);
///     g_free(s as gpointer);
/// }
/// ```
pub mod glib {
    pub use crate::{
        gboolean, gchar, gconstpointer, gint, gint64, glong, gpointer, gsize, gssize, guint,
        guint64, gulong, GCompareDataFunc, GCompareFunc, GDestroyNotify, GEqualFunc, GHFunc,
        GHRFunc, GHashFunc, GHashTable, GHashTableIter, GList, GQueue, GSList, GTraverseFunc,
        GTree, FALSE, TRUE,
    };
    pub use crate::{
        tinyglib_g_ascii_strdown as g_ascii_strdown, tinyglib_g_direct_equal as g_direct_equal,
        tinyglib_g_direct_hash as g_direct_hash, tinyglib_g_free as g_free,
        tinyglib_g_hash_table_destroy as g_hash_table_destroy,
        tinyglib_g_hash_table_foreach as g_hash_table_foreach,
        tinyglib_g_hash_table_foreach_remove as g_hash_table_foreach_remove,
        tinyglib_g_hash_table_insert as g_hash_table_insert,
        tinyglib_g_hash_table_iter_init as g_hash_table_iter_init,
        tinyglib_g_hash_table_iter_next as g_hash_table_iter_next,
        tinyglib_g_hash_table_lookup as g_hash_table_lookup,
        tinyglib_g_hash_table_new as g_hash_table_new,
        tinyglib_g_hash_table_new_full as g_hash_table_new_full,
        tinyglib_g_hash_table_remove as g_hash_table_remove,
        tinyglib_g_hash_table_remove_all as g_hash_table_remove_all,
        tinyglib_g_hash_table_replace as g_hash_table_replace,
        tinyglib_g_hash_table_size as g_hash_table_size, tinyglib_g_int64_equal as g_int64_equal,
        tinyglib_g_int64_hash as g_int64_hash, tinyglib_g_malloc as g_malloc,
        tinyglib_g_memdup2 as g_memdup2, tinyglib_g_queue_find as g_queue_find,
        tinyglib_g_queue_free as g_queue_free, tinyglib_g_queue_get_length as g_queue_get_length,
        tinyglib_g_queue_new as g_queue_new, tinyglib_g_queue_pop_tail as g_queue_pop_tail,
        tinyglib_g_queue_push_head as g_queue_push_head,
        tinyglib_g_queue_push_head_link as g_queue_push_head_link,
        tinyglib_g_queue_unlink as g_queue_unlink, tinyglib_g_slice_alloc as g_slice_alloc,
        tinyglib_g_slice_free1 as g_slice_free1, tinyglib_g_slist_append as g_slist_append,
        tinyglib_g_slist_concat as g_slist_concat,
        tinyglib_g_slist_find_custom as g_slist_find_custom, tinyglib_g_slist_free as g_slist_free,
        tinyglib_g_slist_free_full as g_slist_free_full, tinyglib_g_slist_length as g_slist_length,
        tinyglib_g_slist_prepend as g_slist_prepend, tinyglib_g_stpcpy as g_stpcpy,
        tinyglib_g_str_equal as g_str_equal, tinyglib_g_str_hash as g_str_hash,
        tinyglib_g_strcmp0 as g_strcmp0, tinyglib_g_strconcat as g_strconcat,
        tinyglib_g_strdup as g_strdup, tinyglib_g_strdup_printf as g_strdup_printf,
        tinyglib_g_strlcat as g_strlcat, tinyglib_g_strlcpy as g_strlcpy,
        tinyglib_g_strndup as g_strndup, tinyglib_g_tree_destroy as g_tree_destroy,
        tinyglib_g_tree_foreach as g_tree_foreach, tinyglib_g_tree_insert as g_tree_insert,
        tinyglib_g_tree_lookup as g_tree_lookup, tinyglib_g_tree_new_full as g_tree_new_full,
        tinyglib_g_tree_remove as g_tree_remove, tinyglib_g_try_malloc0 as g_try_malloc0,
        tinyglib_g_try_malloc0_n as g_try_malloc0_n,
    };
}
