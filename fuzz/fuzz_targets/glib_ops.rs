//! tinyglib against the real GLib: an operation sequence decoded from the input runs on
//! both (GHashTable with direct keys, GSList, GTree, the string functions) and every
//! result must agree. Ideas from tinyglib/tests/differential.rs; here the fuzzer, not a
//! PRNG, picks the operations.
#![no_main]
#![allow(clippy::missing_transmute_annotations)]

use core::ffi::{c_char, c_int, c_uint, c_void, CStr};
use libfuzzer_sys::fuzz_target;
use tinyglib::*;

type Ptr = *mut c_void;
type CPtr = *const c_void;
type HashFn = unsafe extern "C" fn(CPtr) -> c_uint;
type EqFn = unsafe extern "C" fn(CPtr, CPtr) -> c_int;
type Notify = unsafe extern "C" fn(Ptr);
type CmpData = unsafe extern "C" fn(CPtr, CPtr, Ptr) -> c_int;

#[link(name = "glib-2.0")]
extern "C" {
    fn g_free(p: Ptr);
    fn g_direct_hash(v: CPtr) -> c_uint;
    fn g_direct_equal(a: CPtr, b: CPtr) -> c_int;
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
    fn g_hash_table_destroy(t: Ptr);
    fn g_slist_prepend(l: Ptr, d: Ptr) -> Ptr;
    fn g_slist_append(l: Ptr, d: Ptr) -> Ptr;
    fn g_slist_length(l: Ptr) -> c_uint;
    fn g_slist_free(l: Ptr);
    fn g_tree_new_full(c: Option<CmpData>, d: Ptr, kd: Option<Notify>, vd: Option<Notify>) -> Ptr;
    fn g_tree_insert(t: Ptr, k: Ptr, v: Ptr);
    fn g_tree_lookup(t: Ptr, k: CPtr) -> Ptr;
    fn g_tree_remove(t: Ptr, k: CPtr) -> c_int;
    fn g_tree_destroy(t: Ptr);
    fn g_strndup(s: *const c_char, n: usize) -> *mut c_char;
    fn g_strlcpy(d: *mut c_char, s: *const c_char, n: usize) -> usize;
    fn g_strlcat(d: *mut c_char, s: *const c_char, n: usize) -> usize;
    fn g_strcmp0(a: *const c_char, b: *const c_char) -> c_int;
    fn g_ascii_strdown(s: *const c_char, len: isize) -> *mut c_char;
}

struct Api {
    free: Notify,
    direct_hash: HashFn,
    direct_equal: EqFn,
    h_new:
        unsafe extern "C" fn(Option<HashFn>, Option<EqFn>, Option<Notify>, Option<Notify>) -> Ptr,
    h_insert: unsafe extern "C" fn(Ptr, Ptr, Ptr) -> c_int,
    h_replace: unsafe extern "C" fn(Ptr, Ptr, Ptr) -> c_int,
    h_lookup: unsafe extern "C" fn(Ptr, CPtr) -> Ptr,
    h_remove: unsafe extern "C" fn(Ptr, CPtr) -> c_int,
    h_remove_all: unsafe extern "C" fn(Ptr),
    h_size: unsafe extern "C" fn(Ptr) -> c_uint,
    h_destroy: unsafe extern "C" fn(Ptr),
    sl_prepend: unsafe extern "C" fn(Ptr, Ptr) -> Ptr,
    sl_append: unsafe extern "C" fn(Ptr, Ptr) -> Ptr,
    sl_length: unsafe extern "C" fn(Ptr) -> c_uint,
    sl_free: unsafe extern "C" fn(Ptr),
    t_new: unsafe extern "C" fn(Option<CmpData>, Ptr, Option<Notify>, Option<Notify>) -> Ptr,
    t_insert: unsafe extern "C" fn(Ptr, Ptr, Ptr),
    t_lookup: unsafe extern "C" fn(Ptr, CPtr) -> Ptr,
    t_remove: unsafe extern "C" fn(Ptr, CPtr) -> c_int,
    t_destroy: unsafe extern "C" fn(Ptr),
    strndup: unsafe extern "C" fn(*const c_char, usize) -> *mut c_char,
    strlcpy: unsafe extern "C" fn(*mut c_char, *const c_char, usize) -> usize,
    strlcat: unsafe extern "C" fn(*mut c_char, *const c_char, usize) -> usize,
    strcmp0: unsafe extern "C" fn(*const c_char, *const c_char) -> c_int,
    strdown: unsafe extern "C" fn(*const c_char, isize) -> *mut c_char,
}

macro_rules! fp {
    ($f:expr) => {
        // SAFETY: same C ABI; only opaque pointer types differ.
        unsafe { core::mem::transmute::<*const (), _>($f as *const ()) }
    };
}

fn glib() -> Api {
    Api {
        free: g_free,
        direct_hash: g_direct_hash,
        direct_equal: g_direct_equal,
        h_new: g_hash_table_new_full,
        h_insert: g_hash_table_insert,
        h_replace: g_hash_table_replace,
        h_lookup: g_hash_table_lookup,
        h_remove: g_hash_table_remove,
        h_remove_all: g_hash_table_remove_all,
        h_size: g_hash_table_size,
        h_destroy: g_hash_table_destroy,
        sl_prepend: g_slist_prepend,
        sl_append: g_slist_append,
        sl_length: g_slist_length,
        sl_free: g_slist_free,
        t_new: g_tree_new_full,
        t_insert: g_tree_insert,
        t_lookup: g_tree_lookup,
        t_remove: g_tree_remove,
        t_destroy: g_tree_destroy,
        strndup: g_strndup,
        strlcpy: g_strlcpy,
        strlcat: g_strlcat,
        strcmp0: g_strcmp0,
        strdown: g_ascii_strdown,
    }
}

fn tiny() -> Api {
    Api {
        free: tinyglib_g_free,
        direct_hash: tinyglib_g_direct_hash,
        direct_equal: tinyglib_g_direct_equal,
        h_new: fp!(tinyglib_g_hash_table_new_full),
        h_insert: fp!(tinyglib_g_hash_table_insert),
        h_replace: fp!(tinyglib_g_hash_table_replace),
        h_lookup: fp!(tinyglib_g_hash_table_lookup),
        h_remove: fp!(tinyglib_g_hash_table_remove),
        h_remove_all: fp!(tinyglib_g_hash_table_remove_all),
        h_size: fp!(tinyglib_g_hash_table_size),
        h_destroy: fp!(tinyglib_g_hash_table_destroy),
        sl_prepend: fp!(tinyglib_g_slist_prepend),
        sl_append: fp!(tinyglib_g_slist_append),
        sl_length: fp!(tinyglib_g_slist_length),
        sl_free: fp!(tinyglib_g_slist_free),
        t_new: fp!(tinyglib_g_tree_new_full),
        t_insert: fp!(tinyglib_g_tree_insert),
        t_lookup: fp!(tinyglib_g_tree_lookup),
        t_remove: fp!(tinyglib_g_tree_remove),
        t_destroy: fp!(tinyglib_g_tree_destroy),
        strndup: fp!(tinyglib_g_strndup),
        strlcpy: fp!(tinyglib_g_strlcpy),
        strlcat: fp!(tinyglib_g_strlcat),
        strcmp0: fp!(tinyglib_g_strcmp0),
        strdown: fp!(tinyglib_g_ascii_strdown),
    }
}

unsafe extern "C" fn int_cmp(a: CPtr, b: CPtr, _: Ptr) -> c_int {
    (a as usize).cmp(&(b as usize)) as c_int
}

unsafe fn owned(api: &Api, p: *mut c_char) -> Option<Vec<u8>> {
    if p.is_null() {
        return None;
    }
    let v = unsafe { CStr::from_ptr(p) }.to_bytes().to_vec();
    unsafe { (api.free)(p.cast()) };
    Some(v)
}

unsafe fn slist_vec(mut l: Ptr) -> Vec<usize> {
    let mut v = Vec::new();
    while !l.is_null() {
        let n = l as *mut GSList;
        unsafe {
            v.push((*n).data as usize);
            l = (*n).next.cast();
        }
    }
    v
}

fuzz_target!(|data: &[u8]| {
    let apis = [glib(), tiny()];
    let mut h = [core::ptr::null_mut(); 2];
    let mut t = [core::ptr::null_mut(); 2];
    let mut l: [Ptr; 2] = [core::ptr::null_mut(); 2];
    for i in 0..2 {
        let a = &apis[i];
        h[i] = unsafe { (a.h_new)(Some(a.direct_hash), Some(a.direct_equal), None, None) };
        t[i] = unsafe { (a.t_new)(Some(int_cmp), core::ptr::null_mut(), None, None) };
    }
    let mut sl_len = 0;
    let mut it = data.chunks(3);
    while let Some(c) = it.next() {
        let op = c[0] % 14;
        let k = c.get(1).copied().unwrap_or(0) as usize;
        let v = c.get(2).copied().unwrap_or(0) as usize + 1;
        let (kp, vp) = (k as Ptr, v as Ptr);
        let r: [String; 2] = core::array::from_fn(|i| {
            let a = &apis[i];
            unsafe {
                match op {
                    0 => format!("{}", (a.h_insert)(h[i], kp, vp) != 0),
                    1 => format!("{}", (a.h_replace)(h[i], kp, vp) != 0),
                    2 => format!("{}", (a.h_remove)(h[i], kp) != 0),
                    3 => format!("{:?}", (a.h_lookup)(h[i], kp)),
                    4 => format!("{}", (a.h_size)(h[i])),
                    5 if k == 0 => {
                        (a.h_remove_all)(h[i]);
                        String::new()
                    }
                    6 | 7 if sl_len < 256 => {
                        l[i] = if op == 6 {
                            (a.sl_prepend)(l[i], vp)
                        } else {
                            (a.sl_append)(l[i], vp)
                        };
                        format!("{}", (a.sl_length)(l[i]))
                    }
                    8 => {
                        (a.t_insert)(t[i], kp, vp);
                        String::new()
                    }
                    9 => format!("{}", (a.t_remove)(t[i], kp) != 0),
                    10 => format!("{:?}", (a.t_lookup)(t[i], kp)),
                    11 | 12 | 13 => {
                        // string functions on the rest of the input (then stop)
                        let rest: Vec<u8> = it.clone().flatten().copied().collect();
                        let cut = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
                        let mut s = rest[..cut].to_vec();
                        s.push(0);
                        let sp = s.as_ptr().cast::<c_char>();
                        match op {
                            11 => format!("{:?}", owned(a, (a.strndup)(sp, k))),
                            12 => {
                                let mut buf = vec![b'#'; 64];
                                buf[63] = 0;
                                let n = (a.strlcpy)(buf.as_mut_ptr().cast(), sp, k % 64);
                                let m = (a.strlcat)(buf.as_mut_ptr().cast(), sp, (v - 1) % 64);
                                format!("{n} {m} {:?}", &buf[..])
                            }
                            _ => {
                                let half = s.len() / 2;
                                let mut s2 = s[half..].to_vec();
                                s2.push(0);
                                let c = (a.strcmp0)(sp, s2.as_ptr().cast()).signum();
                                let len = if k % 2 == 0 {
                                    -1
                                } else {
                                    (cut.min(k)) as isize
                                };
                                format!("{c} {:?}", owned(a, (a.strdown)(sp, len)))
                            }
                        }
                    }
                    _ => String::new(),
                }
            }
        });
        if op == 6 || op == 7 {
            sl_len += 1;
        }
        assert_eq!(r[0], r[1], "op {op} key {k} value {v}");
        if op >= 11 {
            break;
        }
    }
    unsafe {
        assert_eq!(slist_vec(l[0]), slist_vec(l[1]), "slist contents");
        for i in 0..2 {
            let a = &apis[i];
            (a.sl_free)(l[i]);
            (a.h_destroy)(h[i]);
            (a.t_destroy)(t[i]);
        }
    }
});
