//! `tinyvmi-bench`: end-to-end benchmarks of upstream LibVMI on the real guest images,
//! through the safe `libvmi` crate.
//!
//! The same source is built twice, once with LibVMI on `tinyglib` (feature `tinyglib`) and
//! once on real GLib (feature `system-glib`); `ci/bench` runs the two binaries
//! alternately and aggregates the JSON lines this program prints into a table of medians
//! and ratios. Every workload is timed inside the process with [`Instant`], repeating it
//! until a sample lasts at least [`MIN_SAMPLE`].
//!
//! ```text
//! tinyvmi-bench run     [GROUP...] [--images DIR] [--run N]
//!                                                  the workloads (of the named groups:
//!                                                  init ps ksym read_va read_pa v2p),
//!                                                  one JSON line each
//! tinyvmi-bench rss     [--images DIR]             peak RSS of init + process listing
//! tinyvmi-bench profile WORKLOAD PASSES [--images DIR]
//!                                                  one workload, PASSES times, untimed
//!                                                  (for `valgrind --tool=callgrind`)
//! tinyvmi-bench report  FILE                       markdown table from JSON lines
//! tinyvmi-bench groups                             the workload group names
//! ```
//!
//! The image set is `--images`, else `$TINYVMI_IMAGES`, else the newest complete set under
//! `~/.cache/tinyvmi/images` (as in `libvmi-rs/tests/common`).

mod report;

use libvmi::{AccessContext, Config, Pa, Va, Vmi};
use std::collections::{HashMap, HashSet};
use std::ffi::CString;
use std::hint::black_box;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The GLib backend this binary was built with.
#[cfg(all(feature = "tinyglib", not(feature = "system-glib")))]
const BUILD: &str = "tinyglib";
/// The GLib backend this binary was built with.
#[cfg(feature = "system-glib")]
const BUILD: &str = "system-glib";

/// The shortest sample: a workload is repeated until its timed part lasts this long.
const MIN_SAMPLE: Duration = Duration::from_millis(100);

/// Page size of the guest.
const PAGE: usize = 4096;
/// Pages in the 64 MiB of the per-page, bulk and translation workloads.
const PAGES: usize = 16384;
/// Bytes of the 64 MiB workloads.
const BYTES: usize = PAGES * PAGE;
/// Where the 64 MiB start in guest-physical memory (16 MiB: past the low holes).
const START_PA: u64 = 16 << 20;
/// The base of the Linux x86-64 direct map without KASLR (`page_offset_base`).
const DIRECT_MAP: u64 = 0xffff_8880_0000_0000;
/// Pages of the hot translation workload: few enough that LibVMI's page cache (512
/// pages) holds every target page its v2p-cache hit check reads.
const HOT_PAGES: u64 = 256;
/// How many symbols of System.map the cold symbol workload translates (spread evenly).
const COLD_SYMBOLS: usize = 8;

type Res<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() {
    if let Err(e) = real_main() {
        eprintln!("tinyvmi-bench: {e}");
        std::process::exit(1);
    }
}

fn real_main() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut images = None;
    let mut run = 0u32;
    let mut positional = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--images" => images = Some(PathBuf::from(it.next().ok_or("--images needs a value")?)),
            "--run" => run = it.next().ok_or("--run needs a value")?.parse()?,
            "-h" | "--help" => {
                println!(
                    "usage: tinyvmi-bench run [GROUP...] | rss | profile WORKLOAD PASSES | report FILE | groups \
                     [--images DIR] [--run N]\n  groups: {}",
                    group_names()
                );
                return Ok(());
            }
            _ => positional.push(a.clone()),
        }
    }
    if positional.first().map(String::as_str) == Some("report") {
        let file = positional
            .get(1)
            .ok_or("report needs a file of JSON lines")?;
        print!("{}", report::render(&std::fs::read_to_string(file)?));
        return Ok(());
    }
    if positional.first().map(String::as_str) == Some("groups") {
        println!("{}", group_names());
        return Ok(());
    }
    let set = ImageSet::find(images)?;
    match positional.first().map(String::as_str) {
        Some("run") | None => {
            let groups = &positional[positional.len().min(1)..];
            if let Some(g) = groups
                .iter()
                .find(|g| !WORKLOADS.iter().any(|w| w.group == g.as_str()))
            {
                return Err(
                    format!("unknown workload group {g:?} (one of: {})", group_names()).into(),
                );
            }
            let mut out = Emitter { run };
            for w in WORKLOADS
                .iter()
                .filter(|w| groups.is_empty() || groups.iter().any(|g| g == w.group))
            {
                (w.run)(&set, &mut out)?;
            }
            Ok(())
        }
        Some("rss") => rss(&set),
        Some("profile") => {
            let name = positional.get(1).ok_or("profile needs a workload name")?;
            let passes: usize = positional
                .get(2)
                .ok_or("profile needs a pass count")?
                .parse()?;
            profile(&set, name, passes)
        }
        Some(other) => Err(format!("unknown command {other:?}").into()),
    }
}

/// The two variants of the guest image set.
struct ImageSet {
    nokaslr: Variant,
    kaslr: Variant,
}

/// One variant: its raw image, System.map and the two LibVMI configurations.
struct Variant {
    image: PathBuf,
    sysmap: PathBuf,
    /// `libvmi.conf`: no page table, KASLR offset found by LibVMI's scan.
    conf_scan: PathBuf,
    /// `libvmi-kpgd.conf`: page mode, kpgd and KASLR offset given.
    conf_kpgd: PathBuf,
}

impl ImageSet {
    fn find(explicit: Option<PathBuf>) -> Res<ImageSet> {
        let dir = match explicit.or_else(|| std::env::var_os("TINYVMI_IMAGES").map(PathBuf::from)) {
            Some(d) => d,
            None => {
                let home = std::env::var_os("HOME").ok_or("HOME is not set")?;
                let images = PathBuf::from(home).join(".cache/tinyvmi/images");
                std::fs::read_dir(&images)
                    .map_err(|e| format!("{}: {e} (run ci/guest-images/build)", images.display()))?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.join("image-set.json").is_file())
                    .max_by_key(|p| {
                        std::fs::metadata(p.join("image-set.json"))
                            .and_then(|m| m.modified())
                            .ok()
                    })
                    .ok_or("no guest image set found (run ci/guest-images/build)")?
            }
        };
        Ok(ImageSet {
            nokaslr: Variant::load(&dir.join("nokaslr"))?,
            kaslr: Variant::load(&dir.join("kaslr"))?,
        })
    }
}

impl Variant {
    fn load(dir: &Path) -> Res<Variant> {
        let image = std::fs::read_dir(dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| p.extension().is_some_and(|x| x == "raw"))
            .ok_or_else(|| format!("no .raw image in {}", dir.display()))?;
        Ok(Variant {
            image,
            sysmap: dir.join("System.map"),
            conf_scan: dir.join("libvmi.conf"),
            conf_kpgd: dir.join("libvmi-kpgd.conf"),
        })
    }

    /// A fully initialised instance with `conf`.
    fn init(&self, conf: &Path) -> Res<Vmi> {
        Ok(Vmi::file(&self.image)
            .config(Config::File(conf.to_path_buf()))
            .init()?)
    }

    /// Every distinct symbol name of System.map with its link-time address, in file
    /// order, first occurrence winning (as LibVMI's linear search does).
    fn symbols(&self) -> Res<Vec<(CString, u64)>> {
        let text = std::fs::read_to_string(&self.sysmap)?;
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for line in text.lines() {
            let mut f = line.split_ascii_whitespace();
            let (Some(addr), Some(_), Some(name)) = (f.next(), f.next(), f.next()) else {
                continue;
            };
            if seen.insert(name) {
                out.push((CString::new(name)?, u64::from_str_radix(addr, 16)?));
            }
        }
        Ok(out)
    }
}

/// Prints one JSON line per measurement.
struct Emitter {
    run: u32,
}

impl Emitter {
    /// One measurement: `value` in `unit` per operation, over `ops` operations.
    fn emit(&mut self, workload: &str, unit: &str, value: f64, ops: u64) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "{{\"build\":\"{BUILD}\",\"run\":{},\"workload\":\"{workload}\",\"unit\":\"{unit}\",\"value\":{value:.6},\"ops\":{ops}}}",
            self.run
        );
        let _ = out.flush();
    }
}

/// Repeat `pass` (which returns its own timed duration and operation count) until the
/// timed total reaches [`MIN_SAMPLE`]; returns seconds per operation and operations.
fn sample(mut pass: impl FnMut() -> Res<(Duration, u64)>) -> Res<(f64, u64)> {
    let mut total = Duration::ZERO;
    let mut ops = 0;
    while total < MIN_SAMPLE {
        let (d, n) = pass()?;
        total += d;
        ops += n;
    }
    Ok((total.as_secs_f64() / ops as f64, ops))
}

/// Time `f` once.
fn timed<T>(f: impl FnOnce() -> Res<T>) -> Res<(Duration, T)> {
    let t = Instant::now();
    let v = f()?;
    Ok((t.elapsed(), v))
}

/// A named workload.
struct Workload {
    /// The name `run` selects it by (`ci/bench` interleaves the builds per group).
    group: &'static str,
    run: fn(&ImageSet, &mut Emitter) -> Res<()>,
}

/// The group names, space-separated.
fn group_names() -> String {
    WORKLOADS
        .iter()
        .map(|w| w.group)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The suite, in run order.
const WORKLOADS: &[Workload] = &[
    Workload {
        group: "init",
        run: w_init,
    },
    Workload {
        group: "ps",
        run: w_ps,
    },
    Workload {
        group: "ksym",
        run: w_ksym,
    },
    Workload {
        group: "read_va",
        run: w_read_va,
    },
    Workload {
        group: "read_pa",
        run: w_read_pa,
    },
    Workload {
        group: "v2p",
        run: w_v2p,
    },
];

/// Initialisation of the KASLR image, with the KASLR scan (`libvmi.conf`) and without
/// (`libvmi-kpgd.conf`); each sample includes `vmi_destroy`.
fn w_init(set: &ImageSet, out: &mut Emitter) -> Res<()> {
    for (name, conf) in [
        ("init_kaslr_scan", &set.kaslr.conf_scan),
        ("init_kpgd", &set.kaslr.conf_kpgd),
    ] {
        let (s, n) = sample(|| {
            let (d, vmi) = timed(|| set.kaslr.init(conf))?;
            let t = Instant::now();
            drop(vmi);
            Ok((d + t.elapsed(), 1))
        })?;
        out.emit(name, "ms", s * 1e3, n);
    }
    Ok(())
}

/// One process listing: pid, name, task and page table of every process.
fn list_processes(vmi: &Vmi) -> Res<usize> {
    let linux = vmi.linux()?;
    let mut n = 0;
    for p in linux.processes() {
        black_box(p?);
        n += 1;
    }
    if n < 10 {
        return Err(format!("only {n} processes listed").into());
    }
    Ok(n)
}

/// Warm, repeated process listing on the nokaslr image.
fn w_ps(set: &ImageSet, out: &mut Emitter) -> Res<()> {
    let vmi = set.nokaslr.init(&set.nokaslr.conf_kpgd)?;
    list_processes(&vmi)?;
    let (s, n) = sample(|| {
        let (d, _) = timed(|| list_processes(&vmi))?;
        Ok((d, 1))
    })?;
    out.emit("ps_warm", "us", s * 1e6, n);
    Ok(())
}

/// Fill LibVMI's kernel-symbol cache with every System.map name (`vmi_symcache_add`, the
/// values LibVMI's own System.map search would cache).
fn fill_symcache(vmi: &Vmi, syms: &[(CString, u64)]) {
    for (name, addr) in syms {
        // SAFETY: live handle, NUL-terminated name. The C prototype takes `char *`, but
        // LibVMI only reads the name (it stores a `g_strndup` copy).
        unsafe {
            libvmi::sys::vmi_symcache_add(vmi.as_raw(), 0, 0, name.as_ptr().cast_mut(), *addr)
        };
    }
}

/// Translate every name (`translate_ksym2v`); returns how many.
fn translate_all(vmi: &Vmi, names: &[&str]) -> Res<u64> {
    for name in names {
        black_box(vmi.translate_ksym2v(name)?);
    }
    Ok(names.len() as u64)
}

/// `translate_v2ksym` of each address.
fn reverse_all(vmi: &Vmi, addrs: &[u64]) -> Res<u64> {
    for &a in addrs {
        black_box(vmi.translate_v2ksym(Va(a))?);
    }
    Ok(addrs.len() as u64)
}

/// Kernel-symbol translation on the nokaslr image:
/// * `ksym_cold`: LibVMI's own path with the symbol cache empty (a System.map search per
///   name: `libvmi-sys/csrc/sysmap_lookup.c`), for [`COLD_SYMBOLS`] names spread over the
///   file;
/// * `v2ksym_cold`: `translate_v2ksym` of those names' addresses, RVA cache empty (a
///   System.map search per address, the same shim);
/// * `ksym_fill`: filling the symbol cache with every System.map name;
/// * `ksym_warm`: `translate_ksym2v` of every System.map name, cache filled.
fn w_ksym(set: &ImageSet, out: &mut Emitter) -> Res<()> {
    let syms = set.nokaslr.symbols()?;
    let names: Vec<&str> = syms
        .iter()
        .map(|(n, _)| n.to_str())
        .collect::<Result<_, _>>()?;
    let vmi = set.nokaslr.init(&set.nokaslr.conf_kpgd)?;
    let step = names.len() / COLD_SYMBOLS;
    let cold: Vec<&str> = (0..COLD_SYMBOLS)
        .map(|i| names[i * step + step / 2])
        .collect();
    let (s, n) = sample(|| {
        vmi.flush_symbol_cache();
        let (d, n) = timed(|| translate_all(&vmi, &cold))?;
        Ok((d, n))
    })?;
    out.emit("ksym_cold", "ms", s * 1e3, n);
    // The cache must hold what LibVMI itself finds.
    for (i, name) in cold.iter().enumerate() {
        let va = vmi.translate_ksym2v(name)?;
        let want = syms[i * step + step / 2].1;
        if va.0 != want {
            return Err(format!("{name}: LibVMI says {va}, System.map {want:#x}").into());
        }
    }
    // The reverse: the same names' addresses, RVA cache empty.
    let addrs: Vec<u64> = (0..COLD_SYMBOLS)
        .map(|i| syms[i * step + step / 2].1)
        .collect();
    let (s, n) = sample(|| {
        vmi.flush_rva_cache();
        timed(|| reverse_all(&vmi, &addrs))
    })?;
    out.emit("v2ksym_cold", "ms", s * 1e3, n);
    let by_name: HashMap<&str, u64> = names
        .iter()
        .copied()
        .zip(syms.iter().map(|s| s.1))
        .collect();
    for &a in &addrs {
        let name = vmi.translate_v2ksym(Va(a))?;
        if by_name.get(name.as_str()) != Some(&a) {
            return Err(format!("{a:#x}: LibVMI says {name}, not a name at that address").into());
        }
    }
    let (s, n) = sample(|| {
        vmi.flush_symbol_cache();
        let (d, _) = timed(|| {
            fill_symcache(&vmi, &syms);
            Ok(())
        })?;
        Ok((d, syms.len() as u64))
    })?;
    out.emit("ksym_fill", "ns", s * 1e9, n);
    let (s, n) = sample(|| timed(|| translate_all(&vmi, &names)))?;
    out.emit("ksym_warm", "ns", s * 1e9, n);
    Ok(())
}

/// Per-page virtual reads of 64 MiB of the kernel direct map (nokaslr), 4 KiB at a time
/// into one caller buffer:
/// * `read_va_page`: v2p and page caches flushed before each pass (every page is new);
/// * `read_va_page_v2p_warm`: the v2p cache holds every page (page cache too small).
fn w_read_va(set: &ImageSet, out: &mut Emitter) -> Res<()> {
    let vmi = set.nokaslr.init(&set.nokaslr.conf_kpgd)?;
    let mut buf = vec![0u8; PAGE];
    let mut check = vec![0u8; PAGE];
    vmi.read(AccessContext::kernel(Va(DIRECT_MAP + START_PA)), &mut buf)?;
    vmi.read_pa(Pa(START_PA), &mut check)?;
    if buf != check {
        return Err("the direct map does not map physical memory at its base".into());
    }
    let pass = |vmi: &Vmi, buf: &mut [u8]| -> Res<(Duration, u64)> {
        timed(|| {
            for i in 0..PAGES as u64 {
                vmi.read(
                    AccessContext::kernel(Va(DIRECT_MAP + START_PA + i * PAGE as u64)),
                    buf,
                )?;
            }
            Ok(PAGES as u64)
        })
    };
    let (s, n) = sample(|| {
        vmi.flush_v2p_cache(None);
        vmi.flush_page_cache();
        pass(&vmi, &mut buf)
    })?;
    out.emit("read_va_page", "us", s * 1e6, n);
    let (s, n) = sample(|| pass(&vmi, &mut buf))?;
    out.emit("read_va_page_v2p_warm", "us", s * 1e6, n);
    Ok(())
}

/// Bulk physical reads of 64 MiB (one `vmi_read` per MiB into one caller buffer), and
/// `memcpy` of the same bytes (read from the image file once) as the limit.
fn w_read_pa(set: &ImageSet, out: &mut Emitter) -> Res<()> {
    let vmi = Vmi::file(&set.nokaslr.image).init_driver()?;
    let mut dst = vec![0xa5u8; BYTES];
    let (s, n) = sample(|| {
        vmi.flush_page_cache();
        timed(|| {
            for (i, chunk) in dst.chunks_mut(1 << 20).enumerate() {
                vmi.read_pa(Pa(START_PA + (i << 20) as u64), chunk)?;
            }
            Ok(1)
        })
    })?;
    out.emit("read_pa_bulk", "ms", s * 1e3, n);
    let mut src = vec![0u8; BYTES];
    {
        use std::io::{Read, Seek, SeekFrom};
        let mut f = std::fs::File::open(&set.nokaslr.image)?;
        f.seek(SeekFrom::Start(START_PA))?;
        f.read_exact(&mut src)?;
    }
    if src != dst {
        return Err("vmi_read_pa and the image file disagree".into());
    }
    let (s, n) = sample(|| {
        timed(|| {
            black_box(&mut dst).copy_from_slice(black_box(&src));
            Ok(1)
        })
    })?;
    out.emit("memcpy", "ms", s * 1e3, n);
    Ok(())
}

/// Kernel virtual-to-physical translation of the 16384 direct-map pages (nokaslr):
/// `v2p_cold` flushes the v2p cache before each pass, `v2p_warm` does not. A v2p-cache
/// hit makes LibVMI read a byte of the target page (its validity check), which misses
/// the 512-page page cache for 16384 pages; `v2p_warm_hot` repeats the first
/// [`HOT_PAGES`] pages, whose targets stay in the page cache: the pure cache path.
fn w_v2p(set: &ImageSet, out: &mut Emitter) -> Res<()> {
    let vmi = set.nokaslr.init(&set.nokaslr.conf_kpgd)?;
    let pass = |vmi: &Vmi| -> Res<(Duration, u64)> {
        timed(|| {
            for i in 0..PAGES as u64 {
                let off = i * PAGE as u64 + (i * 8) % PAGE as u64;
                let pa = vmi.translate_kv2p(Va(DIRECT_MAP + START_PA + off))?;
                if pa.0 != START_PA + off {
                    return Err(format!("v2p of direct-map page {i}: {pa}").into());
                }
            }
            Ok(PAGES as u64)
        })
    };
    let (s, n) = sample(|| {
        vmi.flush_v2p_cache(None);
        pass(&vmi)
    })?;
    out.emit("v2p_cold", "ns", s * 1e9, n);
    pass(&vmi)?;
    let (s, n) = sample(|| pass(&vmi))?;
    out.emit("v2p_warm", "ns", s * 1e9, n);
    let hot = |vmi: &Vmi| -> Res<(Duration, u64)> {
        timed(|| {
            for i in 0..HOT_PAGES {
                black_box(vmi.translate_kv2p(Va(DIRECT_MAP + START_PA + i * PAGE as u64))?);
            }
            Ok(HOT_PAGES)
        })
    };
    hot(&vmi)?;
    let (s, n) = sample(|| hot(&vmi))?;
    out.emit("v2p_warm_hot", "ns", s * 1e9, n);
    Ok(())
}

/// `struct rusage` of Linux (x86-64 and aarch64 alike: two `timeval`s, 14 longs).
#[repr(C)]
struct Rusage {
    utime: [i64; 2],
    stime: [i64; 2],
    maxrss: i64,
    rest: [i64; 13],
}

extern "C" {
    fn getrusage(who: i32, usage: *mut Rusage) -> i32;
}

/// Peak RSS (KiB, `ru_maxrss`) of a fresh process that initialises the nokaslr image and
/// lists its processes 100 times.
fn rss(set: &ImageSet) -> Res<()> {
    let vmi = set.nokaslr.init(&set.nokaslr.conf_kpgd)?;
    for _ in 0..100 {
        list_processes(&vmi)?;
    }
    drop(vmi);
    let mut ru = Rusage {
        utime: [0; 2],
        stime: [0; 2],
        maxrss: 0,
        rest: [0; 13],
    };
    // SAFETY: RUSAGE_SELF (0) and a properly sized, writable struct.
    if unsafe { getrusage(0, &mut ru) } != 0 {
        return Err(std::io::Error::last_os_error().into());
    }
    Emitter { run: 0 }.emit("ps_peak_rss", "KiB", ru.maxrss as f64, 1);
    Ok(())
}

/// Run one workload `passes` times without timing, after its setup: callgrind's
/// instruction count for N passes minus that for 0 passes is the workload's cost.
/// Prints `{"workload":…,"ops_per_pass":…}`.
fn profile(set: &ImageSet, name: &str, passes: usize) -> Res<()> {
    let ops = profile_passes(set, name, passes)?;
    println!("{{\"workload\":\"{name}\",\"ops_per_pass\":{ops}}}");
    Ok(())
}

/// The body of [`profile`]; returns the operations per pass.
fn profile_passes(set: &ImageSet, name: &str, passes: usize) -> Res<u64> {
    let v = &set.nokaslr;
    let ops = match name {
        "init_kaslr_scan" | "init_kpgd" => {
            let conf = if name == "init_kpgd" {
                &set.kaslr.conf_kpgd
            } else {
                &set.kaslr.conf_scan
            };
            for _ in 0..passes {
                drop(set.kaslr.init(conf)?);
            }
            1
        }
        "ps_warm" => {
            let vmi = v.init(&v.conf_kpgd)?;
            list_processes(&vmi)?;
            for _ in 0..passes {
                list_processes(&vmi)?;
            }
            1
        }
        "ksym_cold" | "v2ksym_cold" | "ksym_fill" | "ksym_warm" => {
            let syms = v.symbols()?;
            let names: Vec<&str> = syms
                .iter()
                .map(|(n, _)| n.to_str())
                .collect::<Result<_, _>>()?;
            let vmi = v.init(&v.conf_kpgd)?;
            match name {
                "ksym_cold" => {
                    // One symbol from the middle of System.map per pass.
                    let mid = names[names.len() / 2];
                    for _ in 0..passes {
                        vmi.flush_symbol_cache();
                        translate_all(&vmi, &[mid])?;
                    }
                    1
                }
                "v2ksym_cold" => {
                    // The address of that symbol, back to a name, per pass.
                    let mid = syms[names.len() / 2].1;
                    for _ in 0..passes {
                        vmi.flush_rva_cache();
                        reverse_all(&vmi, &[mid])?;
                    }
                    1
                }
                "ksym_fill" => {
                    for _ in 0..passes {
                        vmi.flush_symbol_cache();
                        fill_symcache(&vmi, &syms);
                    }
                    syms.len() as u64
                }
                _ => {
                    fill_symcache(&vmi, &syms);
                    for _ in 0..passes {
                        translate_all(&vmi, &names)?;
                    }
                    names.len() as u64
                }
            }
        }
        "read_va_page" | "read_va_page_v2p_warm" => {
            let vmi = v.init(&v.conf_kpgd)?;
            let mut buf = vec![0u8; PAGE];
            let warm = name == "read_va_page_v2p_warm";
            let read_all = |buf: &mut [u8]| -> Res<()> {
                for i in 0..PAGES as u64 {
                    vmi.read(
                        AccessContext::kernel(Va(DIRECT_MAP + START_PA + i * PAGE as u64)),
                        buf,
                    )?;
                }
                Ok(())
            };
            if warm {
                read_all(&mut buf)?;
            }
            for _ in 0..passes {
                if !warm {
                    vmi.flush_v2p_cache(None);
                    vmi.flush_page_cache();
                }
                read_all(&mut buf)?;
            }
            PAGES as u64
        }
        "read_pa_bulk" => {
            let vmi = Vmi::file(&v.image).init_driver()?;
            let mut dst = vec![0u8; BYTES];
            for _ in 0..passes {
                vmi.flush_page_cache();
                for (i, chunk) in dst.chunks_mut(1 << 20).enumerate() {
                    vmi.read_pa(Pa(START_PA + (i << 20) as u64), chunk)?;
                }
            }
            1
        }
        "v2p_cold" | "v2p_warm" | "v2p_warm_hot" => {
            let vmi = v.init(&v.conf_kpgd)?;
            let all = |vmi: &Vmi| -> Res<()> {
                for i in 0..PAGES as u64 {
                    black_box(vmi.translate_kv2p(Va(DIRECT_MAP + START_PA + i * PAGE as u64))?);
                }
                Ok(())
            };
            if name == "v2p_warm_hot" {
                let hot = || -> Res<()> {
                    for i in 0..HOT_PAGES {
                        black_box(vmi.translate_kv2p(Va(DIRECT_MAP + START_PA + i * PAGE as u64))?);
                    }
                    Ok(())
                };
                hot()?;
                for _ in 0..passes {
                    hot()?;
                }
                return Ok(HOT_PAGES);
            }
            let warm = name == "v2p_warm";
            if warm {
                all(&vmi)?;
            }
            for _ in 0..passes {
                if !warm {
                    vmi.flush_v2p_cache(None);
                }
                all(&vmi)?;
            }
            PAGES as u64
        }
        other => return Err(format!("unknown workload {other:?}").into()),
    };
    Ok(ops)
}
