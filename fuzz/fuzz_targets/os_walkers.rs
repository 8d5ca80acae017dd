//! The Linux walkers on a mutated real guest image. The input is small: up to 32 records
//! of 16 bytes, each one write into a task, a module, a process's `mm` or the `modules`
//! list head of a working copy of a guest image (found as the tests find it:
//! `TINYVMI_IMAGES`, else the newest set in the cache). Then the safe API initialises
//! LibVMI on the copy (with kpgd, KASLR offset and offsets configured) and walks
//! processes, threads, process memory and modules, and the writes are undone. Any input
//! must give `Ok` or a clean `Error` in bounded time, within the walks' documented bounds.
//!
//! The image is the kaslr variant unless `TINYVMI_FUZZ_VARIANT=nokaslr`. On nokaslr
//! LibVMI's `init_kaslr` runs at every init (a configured offset of 0 counts as unknown),
//! and when a write breaks `init_task` it tests every kernel page: ~0.5 s per input instead
//! of ~40 ms, with the walkers, the code under test, unchanged.
//!
//! A record (`r[0..16]`):
//!
//! | bytes | meaning |
//! |---|---|
//! | `r[0]` | object, `% 8`: 0–3 a task, 4–5 a module, 6 a user process's `mm`, 7 the `modules` head |
//! | `r[1]` | which one (index into the clean image's task, module or mm list) |
//! | `r[2]` | field of that object (see [`TASK_FIELDS`], [`MODULE_FIELDS`], ...) |
//! | `r[3]` | `(r[3] as i8) >> 3`: a move of -16..15 words from the field (0 for 0..7) |
//! | `r[4]` | value, `% 8`: 0 the literal `r[8..16]`; 1 a pointer into a task (`r[5]` which, `r[6]` field, `r[7] as i8` bytes); 2 the same into a module; 3 a wild pointer ([`mutations::WILD`]`[r[5] % 12]`); 4 the field's own address; 5 the clean value plus `r[5] as i8`; 6 the first `r[5] % 8 + 1` bytes of the literal only; 7 the `modules` head or `init_task.tasks` |
//!
//! Seeds in `corpus/os_walkers/seed-*` (made by `corpus/make_seeds.py`).
#![no_main]

#[path = "../../libvmi-rs/tests/common/mod.rs"]
mod common;
#[path = "../../libvmi-rs/tests/common/facts.rs"]
mod facts;
#[path = "../../libvmi-rs/tests/mutations/mod.rs"]
mod mutations;

mod support;

use libfuzzer_sys::fuzz_target;
use libvmi::os::linux::{MAX_MODULES, MAX_TASKS, MAX_THREADS, MODULE_NAME_LEN, TASK_COMM_LEN};
use libvmi::{Config, Pid, Vmi};
use mutations::{Facts, Layout};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::OnceLock;

/// The `task_struct` fields a record can hit (`Facts` names; `+8` is a list's `prev`).
const TASK_FIELDS: [(&str, u64); 10] = [
    ("tasks", 0),
    ("tasks", 8),
    ("mm", 0),
    ("thread_group", 0),
    ("thread_group", 8),
    ("name", 0),
    ("name", 8),
    ("pid", 0),
    ("pid", 4),
    ("start", 0),
];
const MODULE_FIELDS: [(&str, u64); 5] = [
    ("module_list", 0),
    ("module_list", 8),
    ("module_name", 0),
    ("module_name", 8),
    ("start", 0),
];
const MM_FIELDS: [(&str, u64); 2] = [("pgd", 0), ("start", 0)];
const HEAD_FIELDS: [(&str, u64); 2] = [("start", 0), ("start", 8)];

struct State {
    v: common::Variant,
    layout: Layout,
    /// The working copy of the image, written and restored in place. It is unlinked at
    /// once: LibVMI opens it through a symlink (named like the image, as LibVMI names the
    /// config entry after the file) to /proc/self/fd, so nothing big is left behind
    /// however the process ends.
    work: File,
    image: PathBuf,
    /// The clean image, to read the values a record modifies.
    clean: File,
    /// The System.map with LibVMI's symbols first (also unlinked, also through
    /// /proc/self/fd).
    sysmap: PathBuf,
    _sysmap: File,
}

/// One write: physical address (= file offset) and bytes.
type Edit = (u64, Vec<u8>);

fn field(f: &Facts, name: &str) -> u64 {
    match name {
        "tasks" => f.tasks,
        "mm" => f.mm,
        "thread_group" => f.thread_group,
        "name" => f.name,
        "pid" => f.pid,
        "pgd" => f.pgd,
        "module_list" => f.module_list,
        "module_name" => f.module_name,
        _ => 0,
    }
}

fn state() -> &'static State {
    static S: OnceLock<State> = OnceLock::new();
    S.get_or_init(|| {
        let v = common::Variant::load(match std::env::var("TINYVMI_FUZZ_VARIANT").as_deref() {
            Ok("nokaslr") => "nokaslr",
            Ok("kaslr") | Err(_) => "kaslr",
            Ok(other) => panic!("TINYVMI_FUZZ_VARIANT={other}: not nokaslr or kaslr"),
        });
        let layout = Layout::discover(&v.image, v.facts()).unwrap();
        assert!(!layout.tasks.is_empty() && !layout.user.is_empty());
        let tmp = std::env::temp_dir();
        support::remove_stale_dirs(&tmp, "tinyvmi-fuzz-os-");
        let dir = tmp.join(format!("tinyvmi-fuzz-os-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let copy = dir.join("work.raw");
        std::fs::copy(&v.image, &copy).unwrap();
        let work = File::options().read(true).write(true).open(&copy).unwrap();
        std::fs::remove_file(&copy).unwrap();
        let image = dir.join(v.image.file_name().unwrap());
        std::os::unix::fs::symlink(support::fd_path(&work), &image).unwrap();
        let sysmap_file = support::sysmap_file(&v.fast_sysmap());
        State {
            clean: File::open(&v.image).unwrap(),
            sysmap: support::fd_path(&sysmap_file),
            _sysmap: sysmap_file,
            v,
            layout,
            work,
            image,
        }
    })
}

/// The kernel virtual address of a field: object kind (`r[0]`), which one (`r[1]`) and
/// field (`r[2]`) of a record, or of a pointer value.
fn target(l: &Layout, obj: u8, which: u8, fsel: u8) -> u64 {
    let f = &l.facts;
    let pick = |v: &[u64]| v[which as usize % v.len()];
    let (base, fields): (u64, &[(&str, u64)]) = match obj % 8 {
        0..=3 => (pick(&l.tasks), &TASK_FIELDS),
        4 | 5 if !l.modules.is_empty() => (pick(&l.modules), &MODULE_FIELDS),
        6 => (
            pick(&l.user.iter().map(|u| u.1).collect::<Vec<_>>()),
            &MM_FIELDS,
        ),
        _ => (f.modules, &HEAD_FIELDS),
    };
    let (name, plus) = fields[fsel as usize % fields.len()];
    base + field(f, name) + plus
}

fn decode(s: &State, data: &[u8]) -> Vec<Edit> {
    let l = &s.layout;
    let mut edits = Vec::new();
    for r in data.chunks_exact(16).take(32) {
        let shift = i64::from((r[3] as i8) >> 3) * 8;
        let at = target(l, r[0], r[1], r[2]).wrapping_add_signed(shift);
        let Some(pa) = l.pa(at) else { continue };
        if pa.saturating_add(8) > l.size || (pa & 0xfff) > 0xff8 {
            continue; // the 8 bytes must stay in one page (the next may not follow)
        }
        let literal = u64::from_le_bytes(r[8..16].try_into().unwrap());
        let mut clean = [0u8; 8];
        s.clean.read_exact_at(&mut clean, pa).unwrap();
        let value = match r[4] % 8 {
            0 | 6 => literal,
            1 => target(l, 0, r[5], r[6]).wrapping_add_signed(i64::from(r[7] as i8)),
            2 => target(l, 4, r[5], r[6]).wrapping_add_signed(i64::from(r[7] as i8)),
            3 => mutations::WILD[r[5] as usize % mutations::WILD.len()],
            4 => at,
            5 => u64::from_le_bytes(clean).wrapping_add_signed(i64::from(r[5] as i8)),
            _ if r[5] % 2 == 0 => l.facts.modules,
            _ => l.facts.init_task + l.facts.tasks,
        };
        let len = if r[4] % 8 == 6 {
            r[5] as usize % 8 + 1
        } else {
            8
        };
        edits.push((pa, value.to_le_bytes()[..len].to_vec()));
    }
    edits
}

/// Every error must say something. With `TINYVMI_FUZZ_VERBOSE` set, print it (to see
/// what an input does: `TINYVMI_FUZZ_VERBOSE=1 cargo +nightly fuzz run os_walkers <file>`).
fn clean_error(what: &str, e: &libvmi::Error) {
    let msg = e.to_string();
    assert!(!msg.is_empty(), "{what}: empty error message: {e:?}");
    if verbose() {
        eprintln!("os_walkers: {what}: {msg}");
    }
}

fn verbose() -> bool {
    static V: OnceLock<bool> = OnceLock::new();
    *V.get_or_init(|| std::env::var_os("TINYVMI_FUZZ_VERBOSE").is_some())
}

fn walk(s: &State) {
    let mut map = s.v.config_map(true);
    map.set("sysmap", s.sysmap.as_path());
    let vmi = match Vmi::file(&s.image).config(Config::Map(map)).init() {
        Ok(vmi) => vmi,
        Err(e) => return clean_error("init", &e),
    };
    let linux = match vmi.linux() {
        Ok(l) => l,
        Err(e) => return clean_error("linux", &e),
    };
    let mut buf = [0u8; 64];
    let mut procs = 0;
    let mut it = linux.processes();
    for p in it.by_ref() {
        procs += 1;
        assert!(procs <= MAX_TASKS + 1, "process walk exceeded its bound");
        let p = match p {
            Ok(p) => p,
            Err(e) => {
                clean_error("processes", &e);
                break;
            }
        };
        assert!(p.name.chars().count() < TASK_COMM_LEN, "{:?}", p.name);
        match linux.threads(&p) {
            Ok(threads) => {
                let mut n = 0;
                let mut threads = threads;
                for t in threads.by_ref() {
                    n += 1;
                    assert!(n <= MAX_THREADS + 1, "thread walk exceeded its bound");
                    if let Err(e) = t {
                        clean_error("threads", &e);
                        break;
                    }
                }
                assert!(threads.next().is_none(), "thread iterator not fused");
            }
            Err(e) => clean_error("threads()", &e),
        }
        if p.dtb.is_some() {
            match linux.process_memory(&p) {
                Ok(mut mem) => {
                    for at in [0x40_0000u64, 0x7ffe_0000_0000] {
                        if let Err(e) = mem
                            .seek(SeekFrom::Start(at))
                            .and_then(|_| mem.read(&mut buf))
                        {
                            assert!(!e.to_string().is_empty());
                        }
                    }
                }
                Err(e) => clean_error("process_memory", &e),
            }
        }
    }
    assert!(it.next().is_none(), "process iterator not fused");
    if let Err(e) = linux.process(Pid(1)) {
        clean_error("process(1)", &e);
    }
    let mut mods = 0;
    let mut it = linux.modules();
    for m in it.by_ref() {
        mods += 1;
        assert!(mods <= MAX_MODULES + 1, "module walk exceeded its bound");
        match m {
            Ok(m) => assert!(m.name.chars().count() < MODULE_NAME_LEN, "{:?}", m.name),
            Err(e) => {
                clean_error("modules", &e);
                break;
            }
        }
    }
    assert!(it.next().is_none(), "module iterator not fused");
    if verbose() {
        eprintln!("os_walkers: {procs} processes, {mods} modules walked");
    }
}

fuzz_target!(|data: &[u8]| {
    let s = state();
    let edits = decode(s, data);
    if verbose() {
        eprintln!("os_walkers: writes (file offset, bytes): {edits:02x?}");
    }
    let mut undo = Vec::with_capacity(edits.len());
    for (at, bytes) in &edits {
        let mut old = vec![0; bytes.len()];
        s.work.read_exact_at(&mut old, *at).unwrap();
        s.work.write_all_at(bytes, *at).unwrap();
        undo.push((*at, old));
    }
    walk(s);
    for (at, old) in undo.iter().rev() {
        s.work.write_all_at(old, *at).unwrap();
    }
});
