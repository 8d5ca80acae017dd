//! Small helpers at the C boundary: strings without heap allocation, the raw access
//! context, and the C allocator.

use crate::addr::{AccessContext, Translation};
use crate::error::{Error, Result};
use core::ffi::c_char;
use core::mem::{size_of, MaybeUninit};
use libvmi_sys as sys;

extern "C" {
    /// The C library's `free`, for strings LibVMI returns from `malloc`/`strdup`.
    pub(crate) fn free(ptr: *mut core::ffi::c_void);
}

/// Names up to this length are converted to C strings on the stack.
const STACK_CSTR: usize = 256;

/// Call `f` with `s` as a NUL-terminated C string, without allocating for short strings.
/// Strings with an interior NUL are an [`Error::InvalidArgument`] about `what`.
pub(crate) fn with_cstr<R>(
    s: &str,
    what: &'static str,
    f: impl FnOnce(*const c_char) -> R,
) -> Result<R> {
    let bytes = s.as_bytes();
    if bytes.contains(&0) {
        return Err(Error::InvalidArgument {
            what,
            reason: format!("{s:?} contains a NUL byte"),
        });
    }
    if bytes.len() < STACK_CSTR {
        let mut buf = [0u8; STACK_CSTR];
        buf[..bytes.len()].copy_from_slice(bytes);
        Ok(f(buf.as_ptr().cast()))
    } else {
        let owned = std::ffi::CString::new(bytes).map_err(|_| Error::InvalidArgument {
            what,
            reason: "contains a NUL byte".into(),
        })?;
        Ok(f(owned.as_ptr()))
    }
}

/// The address/page-table part of `access_context_t`: `{ addr; union { pt; pid; } }`.
#[repr(C)]
#[derive(Clone, Copy)]
struct RawTarget {
    addr: u64,
    root: RawRoot,
}

#[repr(C)]
#[derive(Clone, Copy)]
union RawRoot {
    pt: u64,
    pid: i32,
}

/// A mirror of LibVMI's `access_context_t` (ABI version `ACCESS_CONTEXT_VERSION` 1) with
/// named fields instead of bindgen's anonymous unions. Same size and field offsets:
/// checked below against the bindgen type.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct RawAccessContext {
    version: u32,
    _pad: u32,
    pm: u32,
    npm: u32,
    npt: u64,
    tm: u32,
    _pad2: u32,
    target: RawTarget,
}

const _: () = assert!(size_of::<RawAccessContext>() == size_of::<sys::access_context_t>());
const _: () = assert!(
    core::mem::align_of::<RawAccessContext>() == core::mem::align_of::<sys::access_context_t>()
);

impl RawAccessContext {
    /// The raw context for `ctx`. Negative pids are refused (LibVMI would read the union's
    /// other member as a page table).
    #[inline]
    pub(crate) fn new(ctx: &AccessContext) -> Result<RawAccessContext> {
        let (tm, addr, root) = match *ctx {
            AccessContext::Physical(pa) => (sys::VMI_TM_NONE, pa.0, RawRoot { pt: 0 }),
            AccessContext::Virtual(va, Translation::Kernel) => {
                (sys::VMI_TM_PROCESS_PID, va.0, pid_root(0))
            }
            AccessContext::Virtual(va, Translation::Pid(pid)) => {
                if pid.0 < 0 {
                    return Err(Error::Pid { pid });
                }
                (sys::VMI_TM_PROCESS_PID, va.0, pid_root(pid.0))
            }
            AccessContext::Virtual(va, Translation::Dtb(dtb)) => {
                (sys::VMI_TM_PROCESS_DTB, va.0, RawRoot { pt: dtb.0 })
            }
        };
        Ok(RawAccessContext {
            version: sys::ACCESS_CONTEXT_VERSION as u32,
            _pad: 0,
            pm: 0,
            npm: 0,
            npt: 0,
            tm: tm as u32,
            _pad2: 0,
            target: RawTarget { addr, root },
        })
    }

    /// Pointer for LibVMI's `const access_context_t *` parameters.
    #[inline]
    pub(crate) fn as_ptr(&self) -> *const sys::access_context_t {
        core::ptr::from_ref(self).cast()
    }
}

/// A zeroed 8-byte root with the pid in its first 4 bytes, so that the `pt` view of a
/// pid context is deterministic.
#[inline]
fn pid_root(pid: i32) -> RawRoot {
    let mut root = RawRoot { pt: 0 };
    root.pid = pid;
    root
}

/// Zero-initialised plain-old-data from bindgen (all-zero is valid for C structs).
pub(crate) fn zeroed<T: Copy>() -> T {
    // SAFETY: only used for bindgen-generated C structs/unions of integers, pointers and
    // arrays thereof, for which the all-zero bit pattern is a valid value.
    unsafe { MaybeUninit::<T>::zeroed().assume_init() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Dtb, Pa, Pid, Va};

    #[test]
    fn raw_context_layout_matches_libvmi() {
        use core::mem::offset_of;
        assert_eq!(offset_of!(RawAccessContext, tm), 24);
        assert_eq!(offset_of!(RawAccessContext, target), 32);
        assert_eq!(size_of::<RawAccessContext>(), 48);
        let c = RawAccessContext::new(&AccessContext::dtb(Va(0x1000), Dtb(0x2000))).unwrap();
        // SAFETY: reading the u64 member that was written.
        assert_eq!(unsafe { c.target.root.pt }, 0x2000);
        assert_eq!(c.target.addr, 0x1000);
        let c = RawAccessContext::new(&AccessContext::pid(Va(1), Pid(7))).unwrap();
        // SAFETY: the root was zeroed as u64 before the pid was written.
        assert_eq!(unsafe { c.target.root.pt }, 7);
        assert!(RawAccessContext::new(&AccessContext::pid(Va(1), Pid(-1))).is_err());
        let c = RawAccessContext::new(&AccessContext::physical(Pa(5))).unwrap();
        assert_eq!(c.tm, sys::VMI_TM_NONE as u32);
    }

    #[test]
    fn cstr_on_stack_and_heap() {
        let n = with_cstr("init_task", "symbol", |p| {
            // SAFETY: p is a NUL-terminated string alive during the closure.
            unsafe { core::ffi::CStr::from_ptr(p) }.to_bytes().len()
        })
        .unwrap();
        assert_eq!(n, 9);
        let long = "x".repeat(1000);
        let n = with_cstr(&long, "symbol", |p| {
            // SAFETY: as above.
            unsafe { core::ffi::CStr::from_ptr(p) }.to_bytes().len()
        })
        .unwrap();
        assert_eq!(n, 1000);
        assert!(with_cstr("a\0b", "symbol", |_| ()).is_err());
    }
}
