//! The one place where GLib data crosses into Rust: the `GSList` of `page_info_t` that
//! `vmi_get_va_pages` returns.
//!
//! LibVMI allocates the list's elements with `g_try_malloc0` and its nodes with
//! `g_slist_prepend`; both must go back to the GLib implementation LibVMI is linked with
//! (real GLib or tinyglib, whose header maps `g_*` onto `tinyglib_g_*`).

use core::ffi::c_void;

/// GLib's singly linked list node (`struct _GSList`), a stable ABI.
#[repr(C)]
struct GSList {
    data: *mut c_void,
    next: *mut GSList,
}

// The backend is chosen by build.rs from libvmi-sys's `links` metadata.
extern "C" {
    #[cfg_attr(libvmi_glib_tinyglib, link_name = "tinyglib_g_free")]
    fn g_free(mem: *mut c_void);
    #[cfg_attr(libvmi_glib_tinyglib, link_name = "tinyglib_g_slist_free")]
    fn g_slist_free(list: *mut GSList);
}

/// Upper bound on list length walked (a page-table walk of a 48-bit address space yields
/// far fewer 4 KiB mappings than this in practice; the bound only guards the loop).
const MAX_NODES: usize = 1 << 28;

/// Convert a list of `page_info_t*` to Rust values with `convert`, freeing the elements
/// and the list.
///
/// # Safety
/// `list` must be the head of a `GSList` returned by LibVMI whose `data` pointers are
/// NULL or point to `page_info_t`s allocated with `g_malloc`; neither may be used after.
pub(crate) unsafe fn take_page_list<T>(
    list: *mut libvmi_sys::GSList,
    convert: impl Fn(&libvmi_sys::page_info_t) -> T,
) -> Vec<T> {
    let head = list.cast::<GSList>();
    let mut out = Vec::new();
    let mut node = head;
    let mut n = 0usize;
    while !node.is_null() && n < MAX_NODES {
        // SAFETY: `node` is a live node of the list (caller's guarantee).
        let (data, next) = unsafe { ((*node).data, (*node).next) };
        if !data.is_null() {
            // SAFETY: `data` points to a page_info_t (caller's guarantee); it is copied
            // and then freed exactly once with the allocator that made it.
            unsafe {
                out.push(convert(&*data.cast::<libvmi_sys::page_info_t>()));
                g_free(data);
            }
        }
        node = next;
        n += 1;
    }
    // SAFETY: `head` is the list's head; its nodes are freed once, elements already gone.
    unsafe { g_slist_free(head) };
    out
}
