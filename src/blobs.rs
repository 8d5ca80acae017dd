//! In-memory files for a stub domain: named, read-only byte blobs that LibVMI's
//! `fopen` calls (renamed to [`tinyvmi_fopen`](crate::stdio::tinyvmi_fopen) in the
//! archive) open instead of files.
//!
//! Register everything before `vmi_init*`: the config under the path LibVMI opens
//! (`/etc/libvmi.conf`, its last fallback for `VMI_CONFIG_GLOBAL_FILE_ENTRY`, or the
//! path given with `VMI_CONFIG_FILE_PATH`; `VMI_CONFIG_STRING` needs no blob), the
//! `System.map` under the path the config's `sysmap` entry names, and the hypervisor
//! version ([`register_xen_version`]).
//!
//! Mini-OS is single-threaded, so no lock is needed there; a spin flag still guards the
//! table so concurrent callers (host tests) are well defined. No thread-local storage.
//!
//! ```
//! static MAP: &[u8] = b"ffffffff81000000 T _text\n";
//! tinyvmi::blobs::register("/maps/System.map", MAP).unwrap();
//! assert_eq!(tinyvmi::blobs::get("/maps/System.map"), Some(MAP));
//! assert!(tinyvmi::blobs::unregister("/maps/System.map"));
//! assert_eq!(tinyvmi::blobs::get("/maps/System.map"), None);
//! ```

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::ffi::{c_char, c_int, c_uint, c_void, CStr};
use core::sync::atomic::{AtomicBool, Ordering};

/// Why a blob was not registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobError {
    /// The name is empty.
    EmptyName,
    /// The data is empty (`fmemopen` cannot open a zero-length buffer).
    EmptyData,
    /// The name contains a NUL byte, so C could never open it.
    NulInName,
}

impl core::fmt::Display for BlobError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            BlobError::EmptyName => "blob name is empty",
            BlobError::EmptyData => "blob data is empty",
            BlobError::NulInName => "blob name contains a NUL byte",
        })
    }
}

struct Entry {
    name: Box<[u8]>,
    data: &'static [u8],
}

struct Registry {
    busy: AtomicBool,
    entries: UnsafeCell<Vec<Entry>>,
}

// SAFETY: `entries` is only touched inside `with`, which holds `busy`.
unsafe impl Sync for Registry {}

static REGISTRY: Registry = Registry {
    busy: AtomicBool::new(false),
    entries: UnsafeCell::new(Vec::new()),
};

fn with<R>(f: impl FnOnce(&mut Vec<Entry>) -> R) -> R {
    while REGISTRY
        .busy
        .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        core::hint::spin_loop();
    }
    // SAFETY: `busy` is held, so this is the only reference.
    let r = f(unsafe { &mut *REGISTRY.entries.get() });
    REGISTRY.busy.store(false, Ordering::Release);
    r
}

fn register_bytes(name: &[u8], data: &'static [u8]) -> Result<(), BlobError> {
    if name.is_empty() {
        return Err(BlobError::EmptyName);
    }
    if name.contains(&0) {
        return Err(BlobError::NulInName);
    }
    if data.is_empty() {
        return Err(BlobError::EmptyData);
    }
    with(
        |entries| match entries.iter_mut().find(|e| &*e.name == name) {
            Some(e) => e.data = data,
            None => entries.push(Entry {
                name: name.into(),
                data,
            }),
        },
    );
    Ok(())
}

/// Registers `data` under the path `name`, replacing a blob of the same name.
///
/// ```
/// assert_eq!(tinyvmi::blobs::register("", b"x"), Err(tinyvmi::blobs::BlobError::EmptyName));
/// assert_eq!(tinyvmi::blobs::register("/a", b""), Err(tinyvmi::blobs::BlobError::EmptyData));
/// ```
pub fn register(name: &str, data: &'static [u8]) -> Result<(), BlobError> {
    register_bytes(name.as_bytes(), data)
}

/// Forgets the blob `name`; `true` if there was one.
pub fn unregister(name: &str) -> bool {
    unregister_bytes(name.as_bytes())
}

fn unregister_bytes(name: &[u8]) -> bool {
    with(|entries| {
        let before = entries.len();
        entries.retain(|e| &*e.name != name);
        entries.len() != before
    })
}

/// The blob registered as `name`, if any.
pub fn get(name: &str) -> Option<&'static [u8]> {
    get_bytes(name.as_bytes())
}

pub(crate) fn get_bytes(name: &[u8]) -> Option<&'static [u8]> {
    with(|entries| entries.iter().find(|e| &*e.name == name).map(|e| e.data))
}

/// Registers `/sys/hypervisor/type` (`xen`) and `/sys/hypervisor/version/major` and
/// `minor`: LibVMI's Xen driver reads the hypervisor version from these files. Each
/// call leaks the two small version strings (call it once, at start-up).
///
/// ```
/// tinyvmi::blobs::register_xen_version(4, 20);
/// assert_eq!(tinyvmi::blobs::get("/sys/hypervisor/version/minor"), Some(&b"20\n"[..]));
/// assert_eq!(tinyvmi::blobs::get("/sys/hypervisor/type"), Some(&b"xen\n"[..]));
/// ```
pub fn register_xen_version(major: u32, minor: u32) {
    fn leak(n: u32) -> &'static [u8] {
        let mut digits = Vec::new();
        let mut v = n;
        loop {
            digits.push(b'0' + (v % 10) as u8);
            v /= 10;
            if v == 0 {
                break;
            }
        }
        digits.reverse();
        digits.push(b'\n');
        Box::leak(digits.into_boxed_slice())
    }
    // Names and data are non-empty and NUL-free: these cannot fail.
    let _ = register("/sys/hypervisor/type", b"xen\n");
    let _ = register("/sys/hypervisor/version/major", leak(major));
    let _ = register("/sys/hypervisor/version/minor", leak(minor));
}

/// C: `int tinyvmi_blob_register(const char *name, const void *data, size_t len)`.
///
/// Returns 0, or -1 for a NULL argument, an empty name or `len == 0`.
///
/// # Safety
/// `name` must be NULL or a NUL-terminated string (it is copied). `data` must be NULL
/// or point to `len` readable bytes that stay valid and unchanged until the blob is
/// unregistered.
#[no_mangle]
pub unsafe extern "C" fn tinyvmi_blob_register(
    name: *const c_char,
    data: *const c_void,
    len: usize,
) -> c_int {
    if name.is_null() || data.is_null() {
        return -1;
    }
    // SAFETY: per the contract above.
    let (name, data) = unsafe {
        (
            CStr::from_ptr(name).to_bytes(),
            core::slice::from_raw_parts(data.cast::<u8>(), len),
        )
    };
    match register_bytes(name, data) {
        Ok(()) => 0,
        Err(_) => -1,
    }
}

/// C: `int tinyvmi_blob_unregister(const char *name)`: 0 if there was such a blob.
///
/// # Safety
/// `name` must be NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn tinyvmi_blob_unregister(name: *const c_char) -> c_int {
    if name.is_null() {
        return -1;
    }
    // SAFETY: per the contract above.
    let name = unsafe { CStr::from_ptr(name) }.to_bytes();
    if unregister_bytes(name) {
        0
    } else {
        -1
    }
}

/// C: `int tinyvmi_register_xen_version(unsigned major, unsigned minor)`; see
/// [`register_xen_version`]. Returns 0.
#[no_mangle]
pub extern "C" fn tinyvmi_register_xen_version(major: c_uint, minor: c_uint) -> c_int {
    register_xen_version(major, minor);
    0
}

/// C: `const void *tinyvmi_blob_get(const char *name, size_t *len)`: the bytes of the
/// blob `name` (their length in `*len`), or NULL if there is none. The Mini-OS archive's
/// System.map lookups (`libvmi-sys/csrc/sysmap_lookup.c`) search the blob in place.
///
/// ```
/// use tinyvmi::blobs::tinyvmi_blob_get;
/// static MAP: &[u8] = b"ffffffff81000000 T _text\n";
/// tinyvmi::blobs::register("/maps/get-example", MAP).unwrap();
/// let mut len = 0;
/// // SAFETY: a NUL-terminated name and a valid out-pointer.
/// let p = unsafe { tinyvmi_blob_get(c"/maps/get-example".as_ptr(), &mut len) };
/// assert_eq!((p.cast::<u8>(), len), (MAP.as_ptr(), MAP.len()));
/// assert!(unsafe { tinyvmi_blob_get(c"/maps/none".as_ptr(), &mut len) }.is_null());
/// ```
///
/// # Safety
/// `name` must be NULL or a NUL-terminated string; `len` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tinyvmi_blob_get(name: *const c_char, len: *mut usize) -> *const c_void {
    if name.is_null() || len.is_null() {
        return core::ptr::null();
    }
    // SAFETY: per the contract above.
    let name = unsafe { CStr::from_ptr(name) }.to_bytes();
    match get_bytes(name) {
        Some(data) => {
            // SAFETY: `len` is writable (contract).
            unsafe { *len = data.len() };
            data.as_ptr().cast()
        }
        None => core::ptr::null(),
    }
}
