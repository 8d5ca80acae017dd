//! tinyglib against the real GLib 2.74: an operation sequence decoded from the input runs
//! on both and every result must agree, including the calls of key and value notifiers.
//! Ideas from tinyglib/tests/differential.rs; here the fuzzer, not a PRNG, picks the
//! operations. AddressSanitizer and LeakSanitizer check both sides' memory handling.
//!
//! The input is a sequence of 3-byte records `[op, a, b]`. `a` becomes a key and `b` a
//! value: with the high bit set, one that needs 64 bits (so tables widen their storage),
//! else a small one. Operations (`op % 28`):
//!
//! | op | on |
//! |---|---|
//! | 0–7 | a direct-key GHashTable with logging notifiers: insert, replace, remove, lookup, size, remove_all, foreach_remove (keys divisible by `a % 5 + 2`), iteration (`iter_next` and `foreach`, compared as sorted sets) |
//! | 8–12 | a string-key GHashTable (`g_str_hash`, `g_free` for keys and values): insert, replace, remove, lookup, size |
//! | 13–16 | a GSList: prepend, append, find_custom, concat with a new two-element list |
//! | 17–19 | a GQueue: push_head, pop_tail, find + unlink + push_head_link |
//! | 20–23 | a GTree with logging notifiers: insert, remove, lookup, foreach (stops after `a % 8 + 1`) |
//! | 24–27 | string functions on the rest of the input, which ends the sequence: `g_strndup`; `g_strlcpy` + `g_strlcat`; `g_strcmp0` + `g_ascii_strdown`; `g_strconcat` + `g_stpcpy` + `g_strdup_printf` |
//!
//! Seeds in `corpus/glib_ops/seed-*` (made by `corpus/make_seeds.py`).
#![no_main]

// The real GLib's functions and the table pairing them with tinyglib's (shared with
// tinyglib's differential tests and benchmark).
#[path = "../../tinyglib/tests/support/real_glib.rs"]
mod real_glib;

use core::ffi::{c_char, c_int, CStr};
use libfuzzer_sys::fuzz_target;
use real_glib::{tiny, Api, CPtr, Notify, Ptr, GLIB};
use std::cell::RefCell;
use std::ffi::CString;
use tinyglib::*;

// Notifier logs, one per side (0 = GLib, 1 = tinyglib): ('k' | 'v', pointer value).
std::thread_local! {
    static LOGS: RefCell<[Vec<(char, usize)>; 2]> = const { RefCell::new([Vec::new(), Vec::new()]) };
}

fn log(side: usize, kind: char, p: Ptr) {
    LOGS.with(|l| l.borrow_mut()[side].push((kind, p as usize)));
}

unsafe extern "C" fn log_k0(p: Ptr) {
    log(0, 'k', p)
}
unsafe extern "C" fn log_v0(p: Ptr) {
    log(0, 'v', p)
}
unsafe extern "C" fn log_k1(p: Ptr) {
    log(1, 'k', p)
}
unsafe extern "C" fn log_v1(p: Ptr) {
    log(1, 'v', p)
}

/// Each side's logging notifiers (key, value): GLib's, then tinyglib's.
const LOGGERS: [(Notify, Notify); 2] = [(log_k0, log_v0), (log_k1, log_v1)];

fn take_logs() -> [Vec<(char, usize)>; 2] {
    LOGS.with(|l| core::mem::take(&mut *l.borrow_mut()))
}

unsafe extern "C" fn int_cmp(a: CPtr, b: CPtr, _: Ptr) -> c_int {
    (a as usize).cmp(&(b as usize)) as c_int
}

unsafe extern "C" fn ptr_ne(a: CPtr, b: CPtr) -> c_int {
    c_int::from(a != b)
}

/// foreach_remove predicate: the key is divisible by `*ud`.
unsafe extern "C" fn divisible(k: Ptr, _v: Ptr, ud: Ptr) -> c_int {
    c_int::from((k as usize) % (ud as usize) == 0)
}

/// Hash-table foreach: collect `(key, value)` into the `Vec` at `ud`.
unsafe extern "C" fn collect_pair(k: Ptr, v: Ptr, ud: Ptr) {
    unsafe { (*(ud as *mut Vec<(usize, usize)>)).push((k as usize, v as usize)) }
}

/// Tree foreach: collect keys into the `(Vec, limit)` at `ud`; stop at the limit.
unsafe extern "C" fn collect_key(k: Ptr, _v: Ptr, ud: Ptr) -> c_int {
    let st = unsafe { &mut *(ud as *mut (Vec<usize>, usize)) };
    st.0.push(k as usize);
    c_int::from(st.0.len() >= st.1)
}

/// A key from a byte: with the high bit set, one that needs 64 bits.
fn key(a: u8) -> usize {
    if a & 0x80 != 0 {
        (usize::from(a) << 36) | usize::from(a)
    } else {
        usize::from(a)
    }
}

/// A value (never NULL, so that a failed lookup is distinguishable).
fn value(b: u8) -> usize {
    if b & 0x80 != 0 {
        (usize::from(b) << 40) | usize::from(b)
    } else {
        usize::from(b) + 1
    }
}

unsafe fn owned(api: &Api, p: *mut c_char) -> Option<Vec<u8>> {
    if p.is_null() {
        return None;
    }
    let v = unsafe { CStr::from_ptr(p) }.to_bytes().to_vec();
    unsafe { (api.free)(p.cast()) };
    Some(v)
}

unsafe fn slist_vec(mut l: *mut GSList) -> Vec<usize> {
    let mut v = Vec::new();
    while !l.is_null() {
        unsafe {
            v.push((*l).data as usize);
            l = (*l).next;
        }
    }
    v
}

unsafe fn queue_vec(q: *mut GQueue) -> Vec<usize> {
    let mut v = Vec::new();
    let mut l = unsafe { (*q).head };
    while !l.is_null() {
        unsafe {
            v.push((*l).data as usize);
            l = (*l).next;
        }
    }
    v
}

/// One side's containers.
struct Side {
    h: Ptr,
    hs: Ptr,
    t: Ptr,
    l: *mut GSList,
    q: *mut GQueue,
}

/// The string functions on `rest` (cut at its first NUL).
unsafe fn strings(a: &Api, op: u8, k: u8, v: u8, rest: &[u8]) -> String {
    let cut = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
    let s = CString::new(&rest[..cut]).unwrap();
    let s2 = CString::new(&rest[cut / 2..cut]).unwrap();
    let (sp, sp2) = (s.as_ptr(), s2.as_ptr());
    unsafe {
        match op {
            24 => format!("{:?}", owned(a, (a.strndup)(sp, usize::from(k)))),
            25 => {
                let mut buf = vec![b'#'; 64];
                buf[63] = 0;
                let n = (a.strlcpy)(buf.as_mut_ptr().cast(), sp, usize::from(k) % 64);
                let m = (a.strlcat)(buf.as_mut_ptr().cast(), sp2, usize::from(v) % 64);
                format!("{n} {m} {buf:?}")
            }
            26 => {
                let c = (a.strcmp0)(sp, sp2).signum();
                let c0 = (a.strcmp0)(sp, core::ptr::null()).signum();
                let len = if k % 2 == 0 {
                    -1
                } else {
                    cut.min(usize::from(k)) as isize
                };
                format!("{c} {c0} {:?}", owned(a, (a.ascii_strdown)(sp, len)))
            }
            _ => {
                let cat = owned(a, (a.strconcat)(sp, sp2, sp, core::ptr::null::<c_char>()));
                let mut buf = vec![0u8; 2 * cut + 2];
                let end = (a.stpcpy)(buf.as_mut_ptr().cast(), sp);
                let end = (end as usize).wrapping_sub(buf.as_ptr() as usize);
                let end2 = (a.stpcpy)(buf.as_mut_ptr().add(end).cast(), sp2);
                let end2 = (end2 as usize).wrapping_sub(buf.as_ptr() as usize);
                let printf = owned(
                    a,
                    (a.strdup_printf)(
                        c"%s|%d|%lx|%5.3s|%c|%%".as_ptr(),
                        sp,
                        c_int::from(k) - 128,
                        value(v) as u64,
                        sp2,
                        c_int::from(v | 0x20),
                    ),
                );
                format!("{cat:?} {end} {end2} {buf:?} {printf:?}")
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let apis = [GLIB, tiny()];
    take_logs();
    let mut sides: Vec<Side> = apis
        .iter()
        .zip(LOGGERS)
        .map(|(a, (log_k, log_v))| unsafe {
            Side {
                h: (a.new_full)(
                    Some(a.direct_hash),
                    Some(a.direct_equal),
                    Some(log_k),
                    Some(log_v),
                ),
                hs: (a.new_full)(
                    Some(a.str_hash),
                    Some(a.str_equal),
                    Some(a.free),
                    Some(a.free),
                ),
                t: (a.t_new_full)(
                    Some(int_cmp),
                    core::ptr::null_mut(),
                    Some(log_k),
                    Some(log_v),
                ),
                l: core::ptr::null_mut(),
                q: (a.q_new)(),
            }
        })
        .collect();
    let (mut sl_len, mut q_len) = (0usize, 0usize);
    let mut at = 0;
    while at < data.len() {
        let c = &data[at..(at + 3).min(data.len())];
        at += 3;
        let op = c[0] % 28;
        let (ka, vb) = (
            c.get(1).copied().unwrap_or(0),
            c.get(2).copied().unwrap_or(0),
        );
        let (kp, vp) = (key(ka) as Ptr, value(vb) as Ptr);
        let ks = CString::new(format!("k{ka}")).unwrap();
        let vs = CString::new(format!("v{vb}")).unwrap();
        let r: Vec<String> = apis
            .iter()
            .zip(sides.iter_mut())
            .map(|(a, s)| unsafe {
                match op {
                    0 => format!("{}", (a.insert)(s.h, kp, vp)),
                    1 => format!("{}", (a.replace)(s.h, kp, vp)),
                    2 => format!("{}", (a.remove)(s.h, kp)),
                    3 => format!("{:?}", (a.lookup)(s.h, kp)),
                    4 => format!("{}", (a.size)(s.h)),
                    5 if ka < 16 => {
                        (a.remove_all)(s.h);
                        format!("{}", (a.size)(s.h))
                    }
                    6 => {
                        let m = usize::from(ka % 5 + 2);
                        let n = (a.foreach_remove)(s.h, Some(divisible), m as Ptr);
                        format!("{n} {}", (a.size)(s.h))
                    }
                    7 => {
                        let mut it = GHashTableIter::default();
                        (a.iter_init)(&mut it, s.h);
                        let (mut k, mut v) = (core::ptr::null_mut(), core::ptr::null_mut());
                        let mut pairs = Vec::new();
                        while (a.iter_next)(&mut it, &mut k, &mut v) != 0 {
                            pairs.push((k as usize, v as usize));
                        }
                        let mut each = Vec::new();
                        (a.foreach)(s.h, Some(collect_pair), (&mut each as *mut Vec<_>).cast());
                        pairs.sort_unstable();
                        each.sort_unstable();
                        assert_eq!(pairs, each, "iter_next and foreach disagree");
                        format!("{pairs:?}")
                    }
                    8 | 9 => {
                        let (k2, v2) = ((a.strdup)(ks.as_ptr()), (a.strdup)(vs.as_ptr()));
                        let f = if op == 8 { a.insert } else { a.replace };
                        format!("{}", f(s.hs, k2.cast(), v2.cast()))
                    }
                    10 => format!("{}", (a.remove)(s.hs, ks.as_ptr().cast())),
                    11 => {
                        let p = (a.lookup)(s.hs, ks.as_ptr().cast());
                        format!("{:?}", (!p.is_null()).then(|| CStr::from_ptr(p.cast())))
                    }
                    12 => format!("{}", (a.size)(s.hs)),
                    13 | 14 if sl_len < 256 => {
                        s.l = if op == 13 {
                            (a.sl_prepend)(s.l, vp)
                        } else {
                            (a.sl_append)(s.l, vp)
                        };
                        format!("{}", (a.sl_length)(s.l))
                    }
                    15 => {
                        let f = (a.sl_find_custom)(s.l, vp, Some(ptr_ne));
                        let all = slist_vec(s.l);
                        let pos = slist_vec(f).len();
                        format!("{:?}", (!f.is_null()).then(|| all.len() - pos))
                    }
                    16 if sl_len < 256 => {
                        let two = (a.sl_prepend)((a.sl_prepend)(core::ptr::null_mut(), vp), kp);
                        s.l = (a.sl_concat)(s.l, two);
                        format!("{}", (a.sl_length)(s.l))
                    }
                    17 if q_len < 256 => {
                        (a.q_push_head)(s.q, vp);
                        format!("{}", (a.q_len)(s.q))
                    }
                    18 => format!("{:?} {}", (a.q_pop_tail)(s.q), (a.q_len)(s.q)),
                    19 => {
                        let link = (a.q_find)(s.q, vp);
                        if !link.is_null() {
                            (a.q_unlink)(s.q, link);
                            (a.q_push_head_link)(s.q, link);
                        }
                        format!("{} {}", !link.is_null(), (a.q_len)(s.q))
                    }
                    20 => {
                        (a.t_insert)(s.t, kp, vp);
                        String::new()
                    }
                    21 => format!("{}", (a.t_remove)(s.t, kp)),
                    22 => format!("{:?}", (a.t_lookup)(s.t, kp)),
                    23 => {
                        let mut st: (Vec<usize>, usize) = (Vec::new(), usize::from(ka % 8) + 1);
                        (a.t_foreach)(s.t, Some(collect_key), (&mut st as *mut (Vec<_>, _)).cast());
                        format!("{:?}", st.0)
                    }
                    24..=27 => strings(a, op, ka, vb, &data[at.min(data.len())..]),
                    _ => String::new(),
                }
            })
            .collect();
        assert_eq!(r[0], r[1], "op {op} a {ka} b {vb}: GLib, then tinyglib");
        let mut logs = take_logs();
        if matches!(op, 5 | 6) {
            logs[0].sort_unstable();
            logs[1].sort_unstable();
        }
        assert_eq!(
            logs[0], logs[1],
            "op {op} a {ka} b {vb}: notifier calls differ"
        );
        match op {
            13 | 14 if sl_len < 256 => sl_len += 1,
            16 if sl_len < 256 => sl_len += 2,
            17 if q_len < 256 => q_len += 1,
            18 => q_len = q_len.saturating_sub(1),
            24..=27 => break,
            _ => {}
        }
    }
    unsafe {
        assert_eq!(
            slist_vec(sides[0].l),
            slist_vec(sides[1].l),
            "slist contents"
        );
        assert_eq!(
            queue_vec(sides[0].q),
            queue_vec(sides[1].q),
            "queue contents"
        );
        for (a, s) in apis.iter().zip(&sides) {
            (a.sl_free)(s.l);
            (a.q_free)(s.q);
            (a.destroy)(s.h);
            (a.destroy)(s.hs);
            (a.t_destroy)(s.t);
        }
    }
    let mut logs = take_logs();
    logs[0].sort_unstable();
    logs[1].sort_unstable();
    assert_eq!(logs[0], logs[1], "notifier calls on destroy differ");
    sides.clear();
});
