//! Runs the C behaviour tests (`tests/c/behaviour.c`), compiled by build.rs against the
//! drop-in `include/glib.h` with `-Wall -Werror` and linked into this test binary only.

use core::ffi::c_int;

extern "C" {
    fn tinyglib_ctest_version_and_macros() -> c_int;
    fn tinyglib_ctest_memory_and_strings() -> c_int;
    fn tinyglib_ctest_hash_functions() -> c_int;
    fn tinyglib_ctest_insert_replace_remove() -> c_int;
    fn tinyglib_ctest_nested_destroy() -> c_int;
    fn tinyglib_ctest_foreach_and_iteration() -> c_int;
    fn tinyglib_ctest_tree() -> c_int;
    fn tinyglib_ctest_queue_and_slist() -> c_int;
    fn tinyglib_ctest_find_custom_argument_order() -> c_int;
    fn tinyglib_ctest_null_preconditions() -> c_int;
}

/// The C archive comes last on the link line: reference every tinyglib entry point
/// here so the linker has already pulled them from the rlib by then.
struct Keep([*const (); 57]);
// SAFETY: immutable function addresses, never dereferenced.
unsafe impl Sync for Keep {}

#[used]
static KEEP: Keep = {
    use tinyglib::*;
    Keep([
        tinyglib_g_malloc as *const (),
        tinyglib_g_try_malloc0 as *const (),
        tinyglib_g_try_malloc0_n as *const (),
        tinyglib_g_free as *const (),
        tinyglib_g_memdup2 as *const (),
        tinyglib_g_slice_alloc as *const (),
        tinyglib_g_slice_free1 as *const (),
        tinyglib_g_strdup as *const (),
        tinyglib_g_strndup as *const (),
        tinyglib_g_strdup_printf as *const (),
        tinyglib_g_strconcat as *const (),
        tinyglib_g_stpcpy as *const (),
        tinyglib_g_strlcpy as *const (),
        tinyglib_g_strlcat as *const (),
        tinyglib_g_strcmp0 as *const (),
        tinyglib_g_ascii_strdown as *const (),
        tinyglib_g_str_hash as *const (),
        tinyglib_g_str_equal as *const (),
        tinyglib_g_direct_hash as *const (),
        tinyglib_g_direct_equal as *const (),
        tinyglib_g_int64_hash as *const (),
        tinyglib_g_int64_equal as *const (),
        tinyglib_g_hash_table_new as *const (),
        tinyglib_g_hash_table_new_full as *const (),
        tinyglib_g_hash_table_insert as *const (),
        tinyglib_g_hash_table_replace as *const (),
        tinyglib_g_hash_table_lookup as *const (),
        tinyglib_g_hash_table_remove as *const (),
        tinyglib_g_hash_table_remove_all as *const (),
        tinyglib_g_hash_table_size as *const (),
        tinyglib_g_hash_table_foreach as *const (),
        tinyglib_g_hash_table_foreach_remove as *const (),
        tinyglib_g_hash_table_iter_init as *const (),
        tinyglib_g_hash_table_iter_next as *const (),
        tinyglib_g_hash_table_destroy as *const (),
        tinyglib_g_slist_prepend as *const (),
        tinyglib_g_slist_append as *const (),
        tinyglib_g_slist_concat as *const (),
        tinyglib_g_slist_find_custom as *const (),
        tinyglib_g_slist_length as *const (),
        tinyglib_g_slist_free as *const (),
        tinyglib_g_slist_free_full as *const (),
        tinyglib_g_queue_new as *const (),
        tinyglib_g_queue_free as *const (),
        tinyglib_g_queue_get_length as *const (),
        tinyglib_g_queue_push_head as *const (),
        tinyglib_g_queue_pop_tail as *const (),
        tinyglib_g_queue_find as *const (),
        tinyglib_g_queue_unlink as *const (),
        tinyglib_g_queue_push_head_link as *const (),
        tinyglib_g_tree_new_full as *const (),
        tinyglib_g_tree_insert as *const (),
        tinyglib_g_tree_lookup as *const (),
        tinyglib_g_tree_remove as *const (),
        tinyglib_g_tree_foreach as *const (),
        tinyglib_g_tree_destroy as *const (),
        tinyglib_g_hash_table_new as *const (),
    ])
};

macro_rules! ctest {
    ($name:ident, $f:ident) => {
        #[test]
        fn $name() {
            assert!(!KEEP.0.is_empty());
            // SAFETY: the C test takes no arguments and only uses tinyglib.
            let failed_line = unsafe { $f() };
            assert_eq!(
                failed_line, 0,
                "C check failed at tests/c/behaviour.c:{failed_line}"
            );
        }
    };
}

/// The drop-in headers and the C tests compile warning-free at `-Wall -Wextra`.
#[test]
fn headers_compile_warning_free() {
    let dir = env!("CARGO_MANIFEST_DIR");
    for std in ["-std=gnu99", "-std=gnu11"] {
        let out = std::process::Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
            .args([std, "-Wall", "-Wextra", "-Werror", "-fsyntax-only", "-I"])
            .arg(format!("{dir}/include"))
            .arg(format!("{dir}/tests/c/behaviour.c"))
            .output()
            .expect("run the C compiler");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

ctest!(version_and_macros, tinyglib_ctest_version_and_macros);
ctest!(memory_and_strings, tinyglib_ctest_memory_and_strings);
ctest!(hash_functions, tinyglib_ctest_hash_functions);
ctest!(insert_replace_remove, tinyglib_ctest_insert_replace_remove);
ctest!(nested_destroy, tinyglib_ctest_nested_destroy);
ctest!(foreach_and_iteration, tinyglib_ctest_foreach_and_iteration);
ctest!(tree, tinyglib_ctest_tree);
ctest!(queue_and_slist, tinyglib_ctest_queue_and_slist);
ctest!(
    find_custom_argument_order,
    tinyglib_ctest_find_custom_argument_order
);
ctest!(null_preconditions, tinyglib_ctest_null_preconditions);
