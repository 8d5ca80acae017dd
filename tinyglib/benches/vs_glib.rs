//! tinyglib against the real GLib 2.74, in the same run, same inputs, same call style
//! (both through function pointers). `tinyglib/bench.sh` runs this and rewrites the
//! table in `tinyglib/README.md` from criterion's estimates and the `MEM` lines printed
//! here (bytes of heap per entry, measured with glibc's `mallinfo2`).
//!
//! `TINYGLIB_BENCH_MAX` caps the hash-table sizes (default 1_000_000).

// The real GLib's functions and the table pairing them with tinyglib's (shared with the
// differential tests and the fuzz target).
#[path = "../tests/support/real_glib.rs"]
mod real_glib;

use core::ffi::c_int;
use std::ffi::CString;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use real_glib::{apis, Api, CPtr, EqFn, HashFn, Ptr};

#[repr(C)]
#[derive(Default)]
struct Mallinfo2 {
    arena: usize,
    ordblks: usize,
    smblks: usize,
    hblks: usize,
    hblkhd: usize,
    usmblks: usize,
    fsmblks: usize,
    uordblks: usize,
    fordblks: usize,
    keepcost: usize,
}
extern "C" {
    fn mallinfo2() -> Mallinfo2;
}
fn heap_in_use() -> usize {
    // SAFETY: glibc call without preconditions.
    let m = unsafe { mallinfo2() };
    m.uordblks + m.hblkhd
}

/// Keys of one kind, owned by the benchmark (tables get no destroy notifiers).
enum Keys {
    Direct(Vec<usize>),
    Int64(Vec<i64>),
    Str(Vec<CString>),
}

impl Keys {
    fn new(kind: &str, n: usize) -> Keys {
        // Distinct pseudo-random keys: an odd multiplier is a bijection mod 2^32.
        let mix = |i: usize| (i as u32).wrapping_mul(0x9E37_79B1) as usize;
        match kind {
            "direct" => Keys::Direct((0..n).map(mix).collect()),
            // Distinct low halves (g_int64_hash keeps only those), varying high halves.
            "int64" => Keys::Int64((0..n).map(|i| ((i as i64) << 32) | mix(i) as i64).collect()),
            _ => Keys::Str(
                (0..n)
                    .map(|i| CString::new(format!("/local/domain/{}/name", mix(i))).unwrap())
                    .collect(),
            ),
        }
    }
    fn ptr(&self, i: usize) -> Ptr {
        match self {
            Keys::Direct(v) => v[i] as Ptr,
            Keys::Int64(v) => &v[i] as *const i64 as Ptr,
            Keys::Str(v) => v[i].as_ptr() as Ptr,
        }
    }
    fn funcs(&self, a: &Api) -> (HashFn, EqFn) {
        match self {
            Keys::Direct(_) => (a.direct_hash, a.direct_equal),
            Keys::Int64(_) => (a.int64_hash, a.int64_equal),
            Keys::Str(_) => (a.str_hash, a.str_equal),
        }
    }
}

fn build(a: &Api, keys: &Keys, n: usize) -> Ptr {
    let (h, e) = keys.funcs(a);
    // SAFETY: keys outlive the table; functions match the key kind.
    unsafe {
        let t = (a.new)(Some(h), Some(e));
        for i in 0..n {
            (a.insert)(t, keys.ptr(i), (i + 1) as Ptr);
        }
        assert_eq!((a.size)(t) as usize, n);
        t
    }
}

/// A random permutation of 0..n (lookups and removals in an order unrelated to inserts).
fn shuffled(n: usize) -> Vec<usize> {
    let mut v: Vec<usize> = (0..n).collect();
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    for i in (1..n).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.swap(i, (x % (i as u64 + 1)) as usize);
    }
    v
}

fn sizes() -> Vec<usize> {
    let max: usize = std::env::var("TINYGLIB_BENCH_MAX")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    [1_000, 10_000, 100_000, 1_000_000]
        .into_iter()
        .filter(|&n| n <= max)
        .collect()
}

fn memory_report() {
    // Neither implementation pays its header allocator's first slab in a row (GLib's
    // slice allocator and tinyglib's header pool both carve headers from slabs): one
    // table of each is created and destroyed first.
    for a in &apis() {
        // SAFETY: an empty table, destroyed at once.
        unsafe { (a.destroy)((a.new)(None, None)) };
    }
    for kind in ["direct", "int64", "string"] {
        for &n in &sizes() {
            let keys = Keys::new(kind, n);
            let mut line = format!("MEM hash_{kind} {n}");
            for a in &apis() {
                let before = heap_in_use();
                let t = build(a, &keys, n);
                let bytes = heap_in_use() - before;
                // SAFETY: built above.
                unsafe { (a.destroy)(t) };
                line += &format!(" {}={:.1}", a.name, bytes as f64 / n as f64);
            }
            println!("{line}");
        }
    }
    // LibVMI's v2p cache shape: int64 keys and pointer values (both need 64 bits).
    for &n in &sizes() {
        let keys = Keys::new("int64", n);
        let mut line = format!("MEM hash_int64_ptr_values {n}");
        for a in &apis() {
            let (h, e) = keys.funcs(a);
            let before = heap_in_use();
            // SAFETY: keys outlive the table; the values are never dereferenced.
            unsafe {
                let t = (a.new)(Some(h), Some(e));
                for i in 0..n {
                    (a.insert)(t, keys.ptr(i), (0x5555_0000_0000usize + 64 * i) as Ptr);
                }
                let bytes = heap_in_use() - before;
                (a.destroy)(t);
                line += &format!(" {}={:.1}", a.name, bytes as f64 / n as f64);
            }
        }
        println!("{line}");
    }
    let n = 100_000;
    let mut line = format!("MEM tree {n}");
    for a in &apis() {
        let before = heap_in_use();
        // SAFETY: integer keys with an integer comparator.
        unsafe {
            let t = (a.t_new_full)(Some(usize_cmp), core::ptr::null_mut(), None, None);
            for &i in &shuffled(n) {
                (a.t_insert)(t, (i + 1) as Ptr, i as Ptr);
            }
            let bytes = heap_in_use() - before;
            (a.t_destroy)(t);
            line += &format!(" {}={:.1}", a.name, bytes as f64 / n as f64);
        }
    }
    println!("{line}");
    let mut line = format!("MEM slist {n}");
    for a in &apis() {
        let before = heap_in_use();
        // SAFETY: list built and freed here.
        unsafe {
            let mut l = core::ptr::null_mut();
            for i in 0..n {
                l = (a.sl_prepend)(l, i as Ptr);
            }
            let bytes = heap_in_use() - before;
            (a.sl_free)(l);
            line += &format!(" {}={:.1}", a.name, bytes as f64 / n as f64);
        }
    }
    println!("{line}");
}

fn bench_hash(c: &mut Criterion) {
    for kind in ["direct", "int64", "string"] {
        for op in ["insert", "lookup", "remove"] {
            let mut g = c.benchmark_group(format!("hash_{kind}_{op}"));
            g.sampling_mode(SamplingMode::Flat);
            for &n in &sizes() {
                let keys = Keys::new(kind, n);
                let order = shuffled(n);
                g.throughput(Throughput::Elements(n as u64));
                for a in &apis() {
                    // Built when the benchmark first runs (not at all when a filter
                    // leaves it out; bench.sh runs each group in a process of its own).
                    let mut lookup_table = None;
                    g.bench_with_input(BenchmarkId::new(a.name, n), &n, |b, &n| {
                        if op == "lookup" && lookup_table.is_none() {
                            lookup_table = Some(build(a, &keys, n));
                        }
                        b.iter_custom(|iters| {
                            let mut total = Duration::ZERO;
                            for _ in 0..iters {
                                // SAFETY: keys outlive the tables; each table is destroyed once.
                                unsafe {
                                    match op {
                                        "insert" => {
                                            let (h, e) = keys.funcs(a);
                                            let t = (a.new)(Some(h), Some(e));
                                            let start = Instant::now();
                                            for &i in &order {
                                                (a.insert)(t, keys.ptr(i), (i + 1) as Ptr);
                                            }
                                            total += start.elapsed();
                                            (a.destroy)(t);
                                        }
                                        "lookup" => {
                                            let t = lookup_table.unwrap();
                                            let start = Instant::now();
                                            let mut sum = 0usize;
                                            for &i in &order {
                                                sum = sum.wrapping_add(
                                                    (a.lookup)(t, keys.ptr(i)) as usize
                                                );
                                            }
                                            total += start.elapsed();
                                            assert_eq!(sum, n * (n + 1) / 2);
                                        }
                                        _ => {
                                            let t = build(a, &keys, n);
                                            let start = Instant::now();
                                            for &i in &order {
                                                black_box((a.remove)(t, keys.ptr(i)));
                                            }
                                            total += start.elapsed();
                                            (a.destroy)(t);
                                        }
                                    }
                                }
                            }
                            total
                        })
                    });
                    if let Some(t) = lookup_table {
                        // SAFETY: built above.
                        unsafe { (a.destroy)(t) };
                    }
                }
            }
            g.finish();
        }
    }
}

/// LibVMI's driver/memory_cache.c: a GHashTable of pages plus a GQueue as LRU list,
/// 512 pages; a hit moves the page to the head (find, unlink, push_head_link), a miss
/// evicts the tail (pop_tail, remove) and inserts (push_head, insert).
fn bench_page_cache(c: &mut Criterion) {
    const CAP: usize = 512;
    const ACCESSES: usize = 20_000;
    let mut g = c.benchmark_group("page_cache_lru");
    g.throughput(Throughput::Elements(ACCESSES as u64));
    // 80% of accesses in a hot set of 400 pages, the rest over 4096 pages.
    let mut x = 0x1234_5678u64;
    let pattern: Vec<usize> = (0..ACCESSES)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let page = if x % 10 < 8 {
                (x >> 8) % 400
            } else {
                (x >> 8) % 4096
            };
            (page as usize) << 12
        })
        .collect();
    for a in &apis() {
        g.bench_function(a.name, |b| {
            b.iter(|| {
                // SAFETY: table and queue built and freed here; keys are integers.
                unsafe {
                    let t = (a.new)(Some(a.direct_hash), Some(a.direct_equal));
                    let q = (a.q_new)();
                    let mut hits = 0usize;
                    for &paddr in &pattern {
                        let key = paddr as Ptr;
                        if !(a.lookup)(t, key).is_null() {
                            hits += 1;
                            let l = (a.q_find)(q, key);
                            (a.q_unlink)(q, l);
                            (a.q_push_head_link)(q, l);
                        } else {
                            if (a.q_len)(q) as usize >= CAP {
                                let old = (a.q_pop_tail)(q);
                                (a.remove)(t, old);
                            }
                            (a.q_push_head)(q, key);
                            (a.insert)(t, key, (paddr | 1) as Ptr);
                        }
                    }
                    (a.q_free)(q);
                    (a.destroy)(t);
                    hits
                }
            })
        });
    }
    g.finish();
}

unsafe extern "C" fn data_cmp(a: CPtr, b: CPtr) -> c_int {
    (a != b) as c_int
}

fn bench_slist(c: &mut Criterion) {
    const N: usize = 1000;
    for op in ["prepend_free", "append", "find_custom", "length"] {
        let mut g = c.benchmark_group(format!("slist_{op}"));
        let n = if op == "append" { 200 } else { N };
        g.throughput(Throughput::Elements(n as u64));
        for a in &apis() {
            // SAFETY: lists built and freed here.
            unsafe {
                let mut base = core::ptr::null_mut();
                for i in 0..n {
                    base = (a.sl_prepend)(base, i as Ptr);
                }
                g.bench_function(a.name, |b| match op {
                    "prepend_free" => b.iter(|| {
                        let mut l = core::ptr::null_mut();
                        for i in 0..n {
                            l = (a.sl_prepend)(l, i as Ptr);
                        }
                        (a.sl_free)(black_box(l));
                    }),
                    "append" => b.iter(|| {
                        let mut l = core::ptr::null_mut();
                        for i in 0..n {
                            l = (a.sl_append)(l, i as Ptr);
                        }
                        (a.sl_free)(black_box(l));
                    }),
                    "find_custom" => b.iter(|| {
                        (a.sl_find_custom)(base, black_box(0usize) as CPtr, Some(data_cmp))
                    }),
                    _ => b.iter(|| (a.sl_length)(black_box(base))),
                });
                (a.sl_free)(base);
            }
        }
        g.finish();
    }
}

unsafe extern "C" fn usize_cmp(a: CPtr, b: CPtr, _d: Ptr) -> c_int {
    (a as usize).cmp(&(b as usize)) as c_int
}

fn bench_tree(c: &mut Criterion) {
    for op in ["insert", "lookup", "remove"] {
        let mut g = c.benchmark_group(format!("tree_{op}"));
        g.sampling_mode(SamplingMode::Flat);
        for n in [1_000usize, 100_000] {
            let order = shuffled(n);
            g.throughput(Throughput::Elements(n as u64));
            for a in &apis() {
                // SAFETY: integer keys; each tree destroyed once.
                let build_tree = || unsafe {
                    let t = (a.t_new_full)(Some(usize_cmp), core::ptr::null_mut(), None, None);
                    for &i in &order {
                        (a.t_insert)(t, (i + 1) as Ptr, (i + 1) as Ptr);
                    }
                    t
                };
                let lookup_tree = if op == "lookup" {
                    Some(build_tree())
                } else {
                    None
                };
                g.bench_with_input(BenchmarkId::new(a.name, n), &n, |b, _| {
                    b.iter_custom(|iters| {
                        let mut total = Duration::ZERO;
                        for _ in 0..iters {
                            // SAFETY: as above.
                            unsafe {
                                match op {
                                    "insert" => {
                                        let t = (a.t_new_full)(
                                            Some(usize_cmp),
                                            core::ptr::null_mut(),
                                            None,
                                            None,
                                        );
                                        let start = Instant::now();
                                        for &i in &order {
                                            (a.t_insert)(t, (i + 1) as Ptr, (i + 1) as Ptr);
                                        }
                                        total += start.elapsed();
                                        (a.t_destroy)(t);
                                    }
                                    "lookup" => {
                                        let t = lookup_tree.unwrap();
                                        let start = Instant::now();
                                        for i in 0..n {
                                            black_box((a.t_lookup)(t, (i + 1) as CPtr));
                                        }
                                        total += start.elapsed();
                                    }
                                    _ => {
                                        let t = build_tree();
                                        let start = Instant::now();
                                        for i in 0..n {
                                            black_box((a.t_remove)(t, (i + 1) as CPtr));
                                        }
                                        total += start.elapsed();
                                        (a.t_destroy)(t);
                                    }
                                }
                            }
                        }
                        total
                    })
                });
                if let Some(t) = lookup_tree {
                    // SAFETY: built above.
                    unsafe { (a.t_destroy)(t) };
                }
            }
        }
        g.finish();
    }
}

/// Scratch: interleaved min-of-rounds lookups (TINYGLIB_QUICK=1).
fn quick() {
    let spec = std::env::var("TINYGLIB_QUICK").unwrap();
    let parts: Vec<&str> = spec.split(':').collect();
    for kind in ["direct", "int64", "string"] {
        if parts.len() == 3 && parts[0] != kind {
            continue;
        }
        // `kind:n:rounds` measures any `n`, not only the table's sizes.
        let ns = match parts[..] {
            [_, n, _] => vec![n.parse().expect("TINYGLIB_QUICK=kind:entries:rounds")],
            _ => sizes(),
        };
        for n in ns {
            let keys = Keys::new(kind, n);
            let order = shuffled(n);
            let apis = apis();
            let tables: Vec<Ptr> = apis.iter().map(|a| build(a, &keys, n)).collect();
            let mut best = [f64::MAX; 2];
            let rounds = if parts.len() == 3 {
                parts[2].parse().unwrap()
            } else if n >= 1_000_000 {
                7
            } else {
                25
            };
            let reps = (2_000_000 / n).max(1);
            // The memory floor: one load per lookup from a buffer of GLib's table size (12
            // bytes per slot, power-of-two slots above 4/3 of n) at a position derived from
            // the key's value, in the same order: what any table of that size pays for a
            // hit that finds its entry in the first cache line it touches.
            let words = (n * 4 / 3).next_power_of_two() * 12 / 8;
            let buf: Vec<u64> = (0..words as u64).collect();
            let key_word = |i: usize| -> u64 {
                match &keys {
                    Keys::Direct(v) => v[i] as u64,
                    Keys::Int64(v) => v[i] as u64,
                    Keys::Str(v) => v[i].as_bytes().len() as u64 ^ v[i].as_ptr() as u64,
                }
            };
            let mut floor = f64::MAX;
            for _ in 0..rounds {
                let start = Instant::now();
                let mut sum = 0u64;
                for _ in 0..reps {
                    for &i in &order {
                        let x = black_box(key_word(i)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                        sum = sum.wrapping_add(buf[((x >> 32) as usize * words) >> 32]);
                    }
                }
                black_box(sum);
                floor = floor.min(start.elapsed().as_nanos() as f64 / (reps * n) as f64);
            }
            for _ in 0..rounds {
                for (k, a) in apis.iter().enumerate() {
                    let start = Instant::now();
                    let mut sum = 0usize;
                    for _ in 0..reps {
                        for &i in &order {
                            // SAFETY: keys outlive the tables.
                            sum = sum.wrapping_add(
                                unsafe { (a.lookup)(tables[k], keys.ptr(i)) } as usize
                            );
                        }
                    }
                    black_box(sum);
                    let ns = start.elapsed().as_nanos() as f64 / (reps * n) as f64;
                    best[k] = best[k].min(ns);
                }
            }
            println!(
                "{kind:7} {n:8} glib {:6.1} tiny {:6.1} ratio {:.2}  memory floor {floor:5.1}",
                best[0],
                best[1],
                best[0] / best[1]
            );
            for (k, a) in apis.iter().enumerate() {
                // SAFETY: built above.
                unsafe { (a.destroy)(tables[k]) };
            }
        }
    }
}

fn main() {
    if std::env::var_os("TINYGLIB_QUICK").is_some() {
        quick();
        return;
    }
    if std::env::var_os("TINYGLIB_BENCH_MEMORY").is_some() {
        // Run by bench.sh with glibc's tcache off: mallinfo2 counts the chunks a thread
        // cache holds as in use, which charged a table for the small blocks it had freed
        // while growing (up to ~1 KiB, i.e. 1 byte per entry at 10^3 entries).
        memory_report();
        return;
    }
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(200))
        .measurement_time(Duration::from_millis(700))
        .configure_from_args();
    bench_hash(&mut c);
    bench_page_cache(&mut c);
    bench_slist(&mut c);
    bench_tree(&mut c);
    c.final_summary();
}
