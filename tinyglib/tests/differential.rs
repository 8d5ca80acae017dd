//! Differential tests: random operation sequences run on the real GLib 2.74 (linked in
//! this test binary only, next to tinyglib: the two coexist) and on tinyglib, compared
//! step by step. Where GLib leaves order undefined (hash-table iteration), results are
//! compared as sorted multisets.
//!
//! * `TINYGLIB_SOAK_OPS` — total operations (default 1_000_000, spread over the suites).
//! * `TINYGLIB_SEED` — fix the seed (the seed is printed; a failing run shows it).

// The real GLib's functions and the table pairing them with tinyglib's (shared with the
// benchmark and the fuzz target).
#[path = "support/real_glib.rs"]
mod real_glib;

use core::ffi::{c_char, c_int, c_uint, CStr};
use std::cell::RefCell;
use std::collections::BTreeMap;

use real_glib::{tiny, Api, CPtr, EqFn, HashFn, Notify, Ptr, GLIB};
use tinyglib::*;

// ---------------------------------------------------------------------------------------
// Randomness, budget, seed.

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn seed(suite: u64) -> u64 {
    let base = std::env::var("TINYGLIB_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!("seed: TINYGLIB_SEED={base}");
    base ^ suite.wrapping_mul(0x1234_5678_9abc_def1)
}

/// This suite's share (in thousandths) of the total operation budget.
fn ops(per_mille: u64) -> u64 {
    let total: u64 = std::env::var("TINYGLIB_SOAK_OPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    (total * per_mille / 1000).max(1000)
}

// ---------------------------------------------------------------------------------------
// Notifier logs, one per side (0 = GLib, 1 = tinyglib).

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    K(u64),
    V(u64),
}

std::thread_local! {
    static LOGS: RefCell<[Vec<Ev>; 2]> = const { RefCell::new([Vec::new(), Vec::new()]) };
}

fn push(side: usize, e: Ev) {
    LOGS.with(|l| l.borrow_mut()[side].push(e));
}
fn take_logs() -> [Vec<Ev>; 2] {
    LOGS.with(|l| core::mem::take(&mut *l.borrow_mut()))
}

/// A heap object with an identity: 8 bytes of payload (an i64 for int64 keys, or a
/// string prefix), then a serial. Both sides get the same serials for the same
/// logical allocation, so logs name exactly which object a notifier received.
#[repr(C)]
struct Obj {
    payload: [u8; 24],
    serial: u64,
}

fn obj_new(payload: &[u8], serial: u64) -> Ptr {
    let mut o = Obj {
        payload: [0; 24],
        serial,
    };
    o.payload[..payload.len()].copy_from_slice(payload);
    Box::into_raw(Box::new(o)).cast()
}
unsafe fn serial(p: CPtr) -> u64 {
    unsafe { (*(p as *const Obj)).serial }
}

unsafe extern "C" fn obj_key_free<const SIDE: usize>(p: Ptr) {
    push(SIDE, Ev::K(unsafe { serial(p) }));
    drop(unsafe { Box::from_raw(p as *mut Obj) });
}
unsafe extern "C" fn obj_value_free<const SIDE: usize>(p: Ptr) {
    push(SIDE, Ev::V(unsafe { serial(p) }));
    drop(unsafe { Box::from_raw(p as *mut Obj) });
}
unsafe extern "C" fn raw_key<const SIDE: usize>(p: Ptr) {
    push(SIDE, Ev::K(p as u64));
}
unsafe extern "C" fn raw_value<const SIDE: usize>(p: Ptr) {
    push(SIDE, Ev::V(p as u64));
}

// A user hash with many collisions (exercises the non-inlined path).
unsafe extern "C" fn mod_hash(k: CPtr) -> c_uint {
    (k as usize % 61) as c_uint
}
unsafe extern "C" fn ptr_equal(a: CPtr, b: CPtr) -> c_int {
    (a == b) as c_int
}

// ---------------------------------------------------------------------------------------
// GHashTable.

#[derive(Clone, Copy, PartialEq, Debug)]
enum KeyKind {
    Direct,
    Custom,
    Int64,
    Str,
}

struct HashSide {
    api: Api,
    t: Ptr,
    side: usize,
}

fn describe(kind: KeyKind, p: CPtr) -> u64 {
    match kind {
        KeyKind::Direct | KeyKind::Custom => p as u64,
        // SAFETY: values/keys of object tables are live Objs.
        KeyKind::Int64 | KeyKind::Str => unsafe { serial(p) },
    }
}

unsafe extern "C" fn collect_cb(k: Ptr, v: Ptr, ud: Ptr) {
    unsafe { (*(ud as *mut Vec<(Ptr, Ptr)>)).push((k, v)) };
}

struct Pred {
    modulus: u64,
    rem: u64,
    kind: KeyKind,
}
unsafe extern "C" fn pred_cb(k: Ptr, _v: Ptr, ud: Ptr) -> c_int {
    let p = unsafe { &*(ud as *const Pred) };
    // Decide on the key's *content* so both sides agree.
    let content = match p.kind {
        KeyKind::Direct | KeyKind::Custom => k as u64,
        KeyKind::Int64 => unsafe { *(k as *const i64) as u64 },
        KeyKind::Str => unsafe {
            CStr::from_ptr(k as *const c_char)
                .to_bytes()
                .iter()
                .map(|&b| b as u64)
                .sum()
        },
    };
    (content % p.modulus == p.rem) as c_int
}

struct Inserter {
    api_insert: unsafe extern "C" fn(Ptr, Ptr, Ptr) -> c_int,
    t: Ptr,
    calls: usize,
}
unsafe extern "C" fn insert_during_foreach(_k: Ptr, _v: Ptr, ud: Ptr) {
    let s = unsafe { &mut *(ud as *mut Inserter) };
    s.calls += 1;
    unsafe { (s.api_insert)(s.t, (0xdead_0000 + s.calls) as Ptr, 1 as Ptr) };
}

impl HashSide {
    fn new(api: Api, side: usize, kind: KeyKind) -> HashSide {
        let mut s = HashSide {
            api,
            t: core::ptr::null_mut(),
            side,
        };
        s.create(kind);
        s
    }
    fn create(&mut self, kind: KeyKind) {
        let a = &self.api;
        let (kd, vd): (Notify, Notify) = match (kind, self.side) {
            (KeyKind::Direct | KeyKind::Custom, 0) => (raw_key::<0>, raw_value::<0>),
            (KeyKind::Direct | KeyKind::Custom, _) => (raw_key::<1>, raw_value::<1>),
            (_, 0) => (obj_key_free::<0>, obj_value_free::<0>),
            (_, _) => (obj_key_free::<1>, obj_value_free::<1>),
        };
        let (h, e): (Option<HashFn>, Option<EqFn>) = match kind {
            KeyKind::Direct => {
                if self.side == 0 {
                    (Some(a.direct_hash), Some(a.direct_equal))
                } else {
                    (None, None) // NULL means direct: both forms are exercised
                }
            }
            KeyKind::Custom => (Some(mod_hash), Some(ptr_equal)),
            KeyKind::Int64 => (Some(a.int64_hash), Some(a.int64_equal)),
            KeyKind::Str => (Some(a.str_hash), Some(a.str_equal)),
        };
        // SAFETY: valid functions for the keys this suite uses.
        self.t = unsafe { (a.new_full)(h, e, Some(kd), Some(vd)) };
    }
    fn entries(&self, kind: KeyKind, via_iter: bool) -> Vec<(u64, u64)> {
        let mut v: Vec<(Ptr, Ptr)> = Vec::new();
        // SAFETY: live table; callbacks only collect.
        unsafe {
            if via_iter {
                let mut it = GHashTableIter::default();
                (self.api.iter_init)(&mut it, self.t);
                let (mut k, mut val) = (core::ptr::null_mut(), core::ptr::null_mut());
                while (self.api.iter_next)(&mut it, &mut k, &mut val) != 0 {
                    v.push((k, val));
                }
            } else {
                (self.api.foreach)(
                    self.t,
                    Some(collect_cb),
                    (&mut v as *mut Vec<(Ptr, Ptr)>).cast(),
                );
            }
        }
        let mut out: Vec<(u64, u64)> = v
            .iter()
            .map(|&(k, val)| (describe(kind, k), describe(kind, val)))
            .collect();
        out.sort();
        out
    }
}

/// Checks two notifier logs: identical sequences if `ordered`, else identical sets of
/// adjacent (key, value) pairs.
fn check_logs(ordered: bool, ctx: &str) {
    let [g, t] = take_logs();
    if ordered {
        assert_eq!(g, t, "{ctx}: notifier sequence differs");
    } else {
        let pairs = |l: &Vec<Ev>| {
            assert!(l.len().is_multiple_of(2), "{ctx}: odd log {l:?}");
            let mut p: Vec<(Ev, Ev)> = l
                .chunks(2)
                .map(|c| {
                    assert!(
                        matches!(c[0], Ev::K(_)) && matches!(c[1], Ev::V(_)),
                        "{ctx}: key/value not adjacent: {l:?}"
                    );
                    (c[0].clone(), c[1].clone())
                })
                .collect();
            p.sort();
            p
        };
        assert_eq!(pairs(&g), pairs(&t), "{ctx}: notified entries differ");
    }
}

/// Random operations on a table of `kind` keys drawn from `key_space` distinct keys (or
/// from 16, 300 or 3000, picked by the seed). With a given key space, the operations that
/// walk the whole table are 200 times rarer, those that remove many entries
/// (`foreach_remove`, `remove_all`, `destroy`) 20 000 times, and half the removals are
/// inserts, so the table grows towards five sixths of the key space (and the walks stay
/// affordable).
fn hash_suite(kind: KeyKind, n_ops: u64, suite: u64, key_space: Option<u64>) {
    let large = key_space.is_some();
    let mut peak: c_uint = 0;
    let mut rng = Rng(seed(suite));
    let mut sides = [HashSide::new(GLIB, 0, kind), HashSide::new(tiny(), 1, kind)];
    let mut serial = 1u64;
    let key_space = key_space.unwrap_or_else(|| [16u64, 300, 3000][rng.below(3) as usize]);
    // Fresh key/value pointers for the two sides (same identity, separate objects).
    let mut make = |rng: &mut Rng, is_key: bool| -> [Ptr; 2] {
        let x = rng.below(key_space);
        match kind {
            KeyKind::Direct | KeyKind::Custom => {
                let v = if is_key {
                    if rng.below(10) == 0 {
                        x | 1 << 40
                    } else {
                        x
                    }
                } else if rng.below(4) == 0 {
                    rng.next()
                } else {
                    rng.below(1000)
                };
                [v as Ptr, v as Ptr]
            }
            KeyKind::Int64 | KeyKind::Str => {
                serial += 1;
                let payload: Vec<u8> = if kind == KeyKind::Int64 {
                    ((x as i64) << 20 ^ 7).to_ne_bytes().to_vec()
                } else {
                    format!("key{x}").into_bytes()
                };
                [obj_new(&payload, serial), obj_new(&payload, serial)]
            }
        }
    };
    let ctx = |i: u64, what: &str| format!("{kind:?} op {i} ({what})");
    for i in 0..n_ops {
        let mut op = rng.below(100);
        let wipes = matches!(op, 90..=93 | 98);
        if large && op >= 90 && rng.below(if wipes { 20_000 } else { 200 }) != 0 {
            op = 40;
        }
        if large && (70..=79).contains(&op) {
            op = 0;
        }
        // SAFETY: both tables are live; keys are valid for their functions.
        unsafe {
            match op {
                0..=39 => {
                    let k = make(&mut rng, true);
                    let v = make(&mut rng, false);
                    let replace = rng.below(5) == 0;
                    let r: Vec<c_int> = (0..2)
                        .map(|s| {
                            let f = if replace {
                                sides[s].api.replace
                            } else {
                                sides[s].api.insert
                            };
                            f(sides[s].t, k[s], v[s])
                        })
                        .collect();
                    assert_eq!(r[0], r[1], "{}", ctx(i, "insert/replace result"));
                    assert!(r[1] == 0 || r[1] == 1);
                    check_logs(true, &ctx(i, "insert/replace notifiers"));
                }
                40..=69 => {
                    let k = make(&mut rng, true);
                    let r: Vec<u64> = (0..2)
                        .map(|s| {
                            let v = (sides[s].api.lookup)(sides[s].t, k[s]);
                            if v.is_null() {
                                0
                            } else {
                                describe(kind, v)
                            }
                        })
                        .collect();
                    assert_eq!(r[0], r[1], "{}", ctx(i, "lookup"));
                    if matches!(kind, KeyKind::Int64 | KeyKind::Str) {
                        for p in k {
                            drop(Box::from_raw(p as *mut Obj));
                        }
                    }
                }
                70..=89 => {
                    let k = make(&mut rng, true);
                    let r: Vec<c_int> = (0..2)
                        .map(|s| (sides[s].api.remove)(sides[s].t, k[s]))
                        .collect();
                    assert_eq!(r[0], r[1], "{}", ctx(i, "remove result"));
                    assert!(r[1] == 0 || r[1] == 1);
                    check_logs(true, &ctx(i, "remove notifiers"));
                    if matches!(kind, KeyKind::Int64 | KeyKind::Str) {
                        for p in k {
                            drop(Box::from_raw(p as *mut Obj));
                        }
                    }
                }
                90..=93 => {
                    let pred = Pred {
                        modulus: 2 + rng.below(5),
                        rem: rng.below(2),
                        kind,
                    };
                    let r: Vec<c_uint> = (0..2)
                        .map(|s| {
                            (sides[s].api.foreach_remove)(
                                sides[s].t,
                                Some(pred_cb),
                                &pred as *const Pred as Ptr,
                            )
                        })
                        .collect();
                    assert_eq!(r[0], r[1], "{}", ctx(i, "foreach_remove count"));
                    check_logs(false, &ctx(i, "foreach_remove notifiers"));
                }
                94..=97 => {
                    let via_iter = rng.below(2) == 0;
                    let e = [
                        sides[0].entries(kind, via_iter),
                        sides[1].entries(kind, via_iter),
                    ];
                    assert_eq!(e[0], e[1], "{}", ctx(i, "contents"));
                }
                98 => {
                    if rng.below(20) == 0 {
                        for s in &mut sides {
                            (s.api.destroy)(s.t);
                            s.create(kind);
                        }
                    } else {
                        for s in &sides {
                            (s.api.remove_all)(s.t);
                        }
                    }
                    check_logs(false, &ctx(i, "remove_all/destroy notifiers"));
                }
                _ => {
                    if matches!(kind, KeyKind::Direct)
                        && rng.below(50) == 0
                        && (sides[0].api.size)(sides[0].t) > 0
                    {
                        // Adding an entry inside foreach ends the loop after that call
                        // (GLib also prints a critical).
                        let calls: Vec<usize> = (0..2)
                            .map(|s| {
                                let mut ins = Inserter {
                                    api_insert: sides[s].api.insert,
                                    t: sides[s].t,
                                    calls: 0,
                                };
                                (sides[s].api.foreach)(
                                    sides[s].t,
                                    Some(insert_during_foreach),
                                    (&mut ins as *mut Inserter).cast(),
                                );
                                ins.calls
                            })
                            .collect();
                        // Ends right after the first callback that adds a key (the key may
                        // already exist from an earlier round: then it is an overwrite).
                        assert_eq!(calls[0], calls[1], "{}", ctx(i, "foreach modified"));
                        check_logs(true, &ctx(i, "foreach modified notifiers"));
                    }
                }
            }
            let n: Vec<c_uint> = (0..2).map(|s| (sides[s].api.size)(sides[s].t)).collect();
            assert_eq!(n[0], n[1], "{}", ctx(i, "size"));
            peak = peak.max(n[1]);
        }
    }
    if large {
        // Tagged from 2^16 slots: more than 30720 entries (see tinyglib's hash.rs).
        assert!(
            peak > 31_000,
            "{kind:?}: the table peaked at {peak} entries, short of what this suite is for"
        );
    }
    for s in &sides {
        // SAFETY: live tables, destroyed once.
        unsafe { (s.api.destroy)(s.t) };
    }
    check_logs(false, "final destroy");
}

#[test]
fn hash_table_direct_keys() {
    hash_suite(KeyKind::Direct, ops(300), 1, None);
}

#[test]
fn hash_table_custom_functions() {
    hash_suite(KeyKind::Custom, ops(100), 2, None);
}

#[test]
fn hash_table_int64_keys() {
    hash_suite(KeyKind::Int64, ops(150), 3, None);
}

#[test]
fn hash_table_string_keys() {
    hash_suite(KeyKind::Str, ops(150), 4, None);
}

/// Direct and int64 tables of tens of thousands of entries: from 2^16 slots they take
/// the tagged layout (control bytes instead of hash words), and move back when they
/// shrink.
#[test]
fn hash_table_large_direct_and_int64_keys() {
    hash_suite(KeyKind::Direct, ops(150), 5, Some(80_000));
    hash_suite(KeyKind::Int64, ops(100), 6, Some(80_000));
}

// ---------------------------------------------------------------------------------------
// GSList and GQueue.

unsafe fn slist_vec(l: *mut GSList) -> Vec<usize> {
    let mut v = Vec::new();
    let mut p = l;
    while !p.is_null() {
        unsafe {
            v.push((*p).data as usize);
            p = (*p).next;
        }
    }
    v
}

unsafe extern "C" fn ne_cmp(a: CPtr, b: CPtr) -> c_int {
    // GLib semantics: 0 means "found"; argument order (element, user_data) matters.
    ((a as usize) % 7 != (b as usize)) as c_int
}

#[test]
fn slist_and_queue() {
    let mut rng = Rng(seed(5));
    let apis = [GLIB, tiny()];
    let mut lists: [*mut GSList; 2] = [core::ptr::null_mut(); 2];
    let mut queues: [*mut GQueue; 2] = [core::ptr::null_mut(); 2];
    // SAFETY: lists and queues of each side are only passed to that side.
    unsafe {
        for s in 0..2 {
            queues[s] = (apis[s].q_new)();
        }
        for i in 0..ops(200) {
            let x = rng.below(64) as usize;
            let op = rng.below(20);
            for s in 0..2 {
                let a = &apis[s];
                match op {
                    0..=3 => lists[s] = (a.sl_prepend)(lists[s], x as Ptr),
                    4 | 5 => {
                        if (a.sl_length)(lists[s]) < 200 {
                            lists[s] = (a.sl_append)(lists[s], x as Ptr);
                        }
                    }
                    6 => {
                        let other = (a.sl_prepend)(
                            (a.sl_prepend)(core::ptr::null_mut(), 1 as Ptr),
                            2 as Ptr,
                        );
                        lists[s] = if x.is_multiple_of(2) {
                            (a.sl_concat)(lists[s], other)
                        } else {
                            (a.sl_concat)(other, lists[s])
                        };
                    }
                    7 => {
                        let f = (a.sl_find_custom)(lists[s], (x % 7) as CPtr, Some(ne_cmp));
                        let pos = slist_vec(lists[s]).len() - slist_vec(f).len();
                        push(s, Ev::K(if f.is_null() { u64::MAX } else { pos as u64 }));
                    }
                    8 => {
                        if x.is_multiple_of(8) {
                            if x.is_multiple_of(16) {
                                let f: Notify = if s == 0 {
                                    raw_value::<0>
                                } else {
                                    raw_value::<1>
                                };
                                (a.sl_free_full)(lists[s], Some(f));
                            } else {
                                (a.sl_free)(lists[s]);
                            }
                            lists[s] = core::ptr::null_mut();
                        }
                    }
                    9..=12 => (a.q_push_head)(queues[s], x as Ptr),
                    13 | 14 => {
                        let v = (a.q_pop_tail)(queues[s]);
                        push(s, Ev::V(v as u64));
                    }
                    15..=17 => {
                        // memory_cache.c's LRU touch: find, unlink, push_head_link.
                        let l = (a.q_find)(queues[s], x as CPtr);
                        if !l.is_null() {
                            (a.q_unlink)(queues[s], l);
                            assert!((*l).next.is_null() && (*l).prev.is_null());
                            (a.q_push_head_link)(queues[s], l);
                        }
                        push(s, Ev::K(!l.is_null() as u64));
                    }
                    18 => push(s, Ev::K((a.q_len)(queues[s]) as u64 + 1000)),
                    _ => {
                        if x == 0 {
                            (a.q_free)(queues[s]);
                            queues[s] = (a.q_new)();
                        }
                    }
                }
            }
            check_logs(true, &format!("list op {i}"));
            assert_eq!(slist_vec(lists[0]), slist_vec(lists[1]), "slist op {i}");
            assert_eq!((apis[0].sl_length)(lists[0]), (apis[1].sl_length)(lists[1]));
            let qv = |q: *mut GQueue| {
                let (mut f, mut b) = (Vec::new(), Vec::new());
                let mut l = (*q).head;
                while !l.is_null() {
                    f.push((*l).data as usize);
                    l = (*l).next;
                }
                let mut l = (*q).tail;
                while !l.is_null() {
                    b.push((*l).data as usize);
                    l = (*l).prev;
                }
                b.reverse();
                assert_eq!(f, b, "queue links inconsistent");
                assert_eq!(f.len(), (*q).length as usize);
                f
            };
            assert_eq!(qv(queues[0]), qv(queues[1]), "queue op {i}");
        }
        for s in 0..2 {
            (apis[s].sl_free)(lists[s]);
            (apis[s].q_free)(queues[s]);
        }
    }
}

// ---------------------------------------------------------------------------------------
// GTree.

unsafe extern "C" fn usize_cmp(a: CPtr, b: CPtr, _d: Ptr) -> c_int {
    // Only the sign matters; return large magnitudes to check that.
    match (a as usize).cmp(&(b as usize)) {
        core::cmp::Ordering::Less => -1000,
        core::cmp::Ordering::Equal => 0,
        core::cmp::Ordering::Greater => 77,
    }
}
unsafe extern "C" fn tree_collect(k: Ptr, v: Ptr, ud: Ptr) -> c_int {
    let (out, stop) = unsafe { &mut *(ud as *mut (Vec<(usize, usize)>, usize)) };
    out.push((k as usize, v as usize));
    (out.len() == *stop) as c_int
}

#[test]
fn tree() {
    let mut rng = Rng(seed(6));
    let apis = [GLIB, tiny()];
    let notifiers: [(Notify, Notify); 2] = [
        (raw_key::<0>, raw_value::<0>),
        (raw_key::<1>, raw_value::<1>),
    ];
    let new = |s: usize| unsafe {
        (apis[s].t_new_full)(
            Some(usize_cmp),
            core::ptr::null_mut(),
            Some(notifiers[s].0),
            Some(notifiers[s].1),
        )
    };
    let mut trees = [new(0), new(1)];
    let mut model = BTreeMap::new();
    let mut key_space = 100u64;
    // SAFETY: each tree is only passed to its own side.
    unsafe {
        for i in 0..ops(150) {
            let k = rng.below(key_space) as usize + 1;
            let v = rng.next() as usize;
            match rng.below(20) {
                0..=8 => {
                    for s in 0..2 {
                        (apis[s].t_insert)(trees[s], k as Ptr, v as Ptr);
                    }
                    model.insert(k, v);
                }
                9..=13 => {
                    let r: Vec<usize> = (0..2)
                        .map(|s| (apis[s].t_lookup)(trees[s], k as CPtr) as usize)
                        .collect();
                    assert_eq!(r[0], r[1], "tree lookup op {i}");
                    assert_eq!(r[1], model.get(&k).copied().unwrap_or(0));
                }
                14..=17 => {
                    let r: Vec<c_int> = (0..2)
                        .map(|s| (apis[s].t_remove)(trees[s], k as CPtr))
                        .collect();
                    assert_eq!(r[0], r[1], "tree remove op {i}");
                    model.remove(&k);
                }
                18 => {
                    let stop = rng.below(model.len() as u64 + 2) as usize;
                    let r: Vec<Vec<(usize, usize)>> = (0..2)
                        .map(|s| {
                            let mut st = (Vec::new(), stop);
                            (apis[s].t_foreach)(
                                trees[s],
                                Some(tree_collect),
                                (&mut st as *mut (Vec<(usize, usize)>, usize)).cast(),
                            );
                            st.0
                        })
                        .collect();
                    assert_eq!(r[0], r[1], "tree foreach op {i}");
                }
                _ => {
                    if rng.below(30) == 0 {
                        for s in 0..2 {
                            (apis[s].t_destroy)(trees[s]);
                            trees[s] = new(s);
                        }
                        model.clear();
                        key_space = [10, 100, 1000, 20000][rng.below(4) as usize];
                    }
                }
            }
            check_logs(true, &format!("tree op {i}"));
        }
        for s in 0..2 {
            (apis[s].t_destroy)(trees[s]);
        }
        check_logs(true, "tree final destroy");
    }
}

// ---------------------------------------------------------------------------------------
// Strings and hash functions.

unsafe fn owned(api: &Api, p: *mut c_char) -> Option<Vec<u8>> {
    if p.is_null() {
        return None;
    }
    let v = unsafe { CStr::from_ptr(p).to_bytes().to_vec() };
    unsafe { (api.free)(p.cast()) };
    Some(v)
}

#[test]
fn strings_and_hashes() {
    let mut rng = Rng(seed(7));
    let apis = [GLIB, tiny()];
    // SAFETY: NUL-terminated inputs; buffers sized as passed.
    unsafe {
        for i in 0..ops(50) {
            let len = rng.below(12) as usize;
            let mut s: Vec<u8> = (0..len).map(|_| 1 + rng.below(255) as u8).collect();
            if rng.below(2) == 0 {
                for b in &mut s {
                    *b = b'A' + (*b % 40);
                }
            }
            let cs = std::ffi::CString::new(s.clone()).unwrap();
            let other = std::ffi::CString::new(
                s.iter()
                    .map(|&b| if rng.below(4) == 0 { b'a' } else { b })
                    .collect::<Vec<u8>>(),
            )
            .unwrap();
            let n = rng.below(16) as usize;
            let r: Vec<_> = apis
                .iter()
                .map(|a| {
                    let mut out = Vec::new();
                    out.push(
                        ((a.str_hash)(cs.as_ptr().cast()) as u64)
                            .to_le_bytes()
                            .to_vec(),
                    );
                    out.push(vec![
                        (a.str_equal)(cs.as_ptr().cast(), other.as_ptr().cast()) as u8,
                    ]);
                    out.push(
                        ((a.strcmp0)(cs.as_ptr(), other.as_ptr()) as i64)
                            .to_le_bytes()
                            .to_vec(),
                    );
                    out.push(owned(a, (a.strdup)(cs.as_ptr())).unwrap());
                    out.push(owned(a, (a.strndup)(cs.as_ptr(), n)).unwrap());
                    out.push(
                        owned(
                            a,
                            (a.ascii_strdown)(
                                cs.as_ptr(),
                                if n.is_multiple_of(3) {
                                    -1
                                } else {
                                    n.min(len) as isize
                                },
                            ),
                        )
                        .unwrap(),
                    );
                    let mut buf = [0x55 as c_char; 24];
                    buf[..3].copy_from_slice(&[b'x' as c_char, b'y' as c_char, 0]);
                    if n.is_multiple_of(5) {
                        buf[2] = b'z' as c_char; // unterminated within n
                    }
                    let ret = (a.strlcat)(buf.as_mut_ptr(), other.as_ptr(), n);
                    out.push(ret.to_le_bytes().to_vec());
                    out.push(buf.iter().map(|&c| c as u8).collect());
                    let ret = (a.strlcpy)(buf.as_mut_ptr(), cs.as_ptr(), n);
                    out.push(ret.to_le_bytes().to_vec());
                    out.push(buf.iter().map(|&c| c as u8).collect());
                    let end = (a.stpcpy)(buf.as_mut_ptr(), cs.as_ptr());
                    out.push(vec![end.offset_from(buf.as_ptr()) as u8]);
                    let v64 = rng_free_u64(i);
                    out.push(
                        owned(
                            a,
                            (a.strdup_printf)(
                                c"%s|%u|%lu|%s".as_ptr(),
                                cs.as_ptr(),
                                n as c_uint,
                                v64,
                                core::ptr::null::<c_char>(),
                            ),
                        )
                        .unwrap(),
                    );
                    out.push(
                        owned(
                            a,
                            (a.strconcat)(
                                cs.as_ptr(),
                                other.as_ptr(),
                                cs.as_ptr(),
                                core::ptr::null::<c_char>(),
                            ),
                        )
                        .unwrap(),
                    );
                    let v = (i as i64) << 29 ^ -5;
                    out.push(
                        ((a.int64_hash)(&v as *const i64 as CPtr) as u64)
                            .to_le_bytes()
                            .to_vec(),
                    );
                    out.push(
                        ((a.direct_hash)((v as usize) as CPtr) as u64)
                            .to_le_bytes()
                            .to_vec(),
                    );
                    out
                })
                .collect();
            assert_eq!(
                r[0], r[1],
                "strings op {i}: {:?} vs {:?} (n={n})",
                cs, other
            );
        }
    }
}

fn rng_free_u64(i: u64) -> u64 {
    i.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}
