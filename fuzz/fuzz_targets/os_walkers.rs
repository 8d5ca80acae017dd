//! The Linux walkers on mutated real guest images: the input is a list of 11-byte
//! records (which task or module, which byte offset in it, 8 bytes to write), applied to
//! a working copy of the nokaslr image (found like the tests do: TINYVMI_IMAGES or the
//! cache), then processes, threads, modules and process memory are walked; afterwards
//! the bytes are restored. Any input must give `Ok` or a clean `Error` in bounded time.
#![no_main]

#[path = "../../libvmi-rs/tests/common/mod.rs"]
mod common;
#[path = "../../libvmi-rs/tests/mutations/mod.rs"]
mod mutations;

use libfuzzer_sys::fuzz_target;
use libvmi::{Config, Vmi};
use mutations::{Edit, Facts, Layout, Mutation, WorkCopy};
use std::io::{Read, Seek, SeekFrom};
use std::sync::OnceLock;

struct State {
    v: common::Variant,
    layout: Layout,
    work: WorkCopy,
    sysmap: std::path::PathBuf,
}

fn state() -> &'static State {
    static S: OnceLock<State> = OnceLock::new();
    S.get_or_init(|| {
        let v = common::Variant::load("nokaslr");
        let facts = Facts {
            kpgd: v.hex("kpgd").0,
            init_task: v.symbol("init_task").0,
            modules: v.symbol("modules").0,
            tasks: v.offset("linux_tasks"),
            mm: v.offset("linux_mm"),
            pid: v.offset("linux_pid"),
            name: v.offset("linux_name"),
            pgd: v.offset("linux_pgd"),
            thread_group: v.other_offset("task_struct.thread_group"),
            module_list: v.other_offset("module.list"),
            module_name: v.other_offset("module.name"),
        };
        let layout = Layout::discover(&v.image, facts).unwrap();
        let dir = std::env::temp_dir().join(format!("tinyvmi-fuzz-os-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let work = WorkCopy::new(&v.image, &dir.join("image.raw")).unwrap();
        // the symbols LibVMI looks up first (its linear System.map search is slow)
        let text = std::fs::read_to_string(v.dir.join("System.map")).unwrap();
        let hot = |l: &&str| {
            l.split(' ').nth(2).is_some_and(|s| {
                [
                    "init_task",
                    "init_top_pgt",
                    "_text",
                    "linux_banner",
                    "modules",
                ]
                .contains(&s)
            })
        };
        let mut out: String = text.lines().filter(hot).flat_map(|l| [l, "\n"]).collect();
        out.extend(text.lines().filter(|l| !hot(l)).flat_map(|l| [l, "\n"]));
        let sysmap = dir.join("System.map");
        std::fs::write(&sysmap, out).unwrap();
        State {
            v,
            layout,
            work,
            sysmap,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let s = state();
    let l = &s.layout;
    let mut m = Mutation {
        name: "fuzz".into(),
        edits: Vec::new(),
    };
    for r in data.chunks_exact(11).take(64) {
        let base = match r[0] % 4 {
            0 | 1 => l.tasks[r[1] as usize % l.tasks.len()],
            2 if !l.modules.is_empty() => l.modules[r[1] as usize % l.modules.len()],
            2 => l.facts.modules,
            _ => l.facts.init_task,
        };
        let off = u16::from_le_bytes([r[2], 0]) as u64 * 8
            + [
                l.facts.tasks,
                l.facts.mm,
                l.facts.thread_group,
                l.facts.name,
                0,
                l.facts.pid,
            ][(r[2] % 6) as usize];
        let off = off & 0x3ff8 | u64::from(r[2] & 7 == 7) * (off & 7);
        let Some(pa) = l.pa(base + off) else { continue };
        if pa + 8 > l.size {
            continue;
        }
        m.edits.push(Edit::Write {
            at: pa,
            bytes: r[3..11].to_vec(),
        });
    }
    let undo = s.work.apply(&m).unwrap();
    let mut map = s.v.config_map(true);
    map.set("sysmap", s.sysmap.as_path());
    if let Ok(vmi) = Vmi::file(&s.work.path).config(Config::Map(map)).init() {
        if let Ok(linux) = vmi.linux() {
            for p in linux.processes() {
                let Ok(p) = p else { break };
                if let Ok(threads) = linux.threads(&p) {
                    for t in threads {
                        if t.is_err() {
                            break;
                        }
                    }
                }
                if let Ok(mut mem) = linux.process_memory(&p) {
                    let mut buf = [0u8; 64];
                    let _ = mem
                        .seek(SeekFrom::Start(0x40_0000))
                        .and_then(|_| mem.read(&mut buf));
                }
            }
            for m in linux.modules() {
                if m.is_err() {
                    break;
                }
            }
        }
    }
    s.work.restore(undo).unwrap();
});
