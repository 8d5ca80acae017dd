//! Hostile-guest mutations of a real guest image: a generator of targeted and random
//! corruptions (task and module lists, names, page tables, truncation), and a way to
//! apply them to one working copy of the image and undo them afterwards, so that a few
//! hundred variants cost a few hundred small writes instead of a few hundred 256 MiB copies.
//!
//! Self-contained (std only) so that other crates' tests can reuse it, e.g. from
//! `vmi-cli/tests/hostile.rs`:
//!
//! ```ignore
//! #[path = "../../libvmi-rs/tests/mutations/mod.rs"]
//! mod mutations;
//! let layout = mutations::Layout::discover(&image, facts)?;     // facts from ground truth
//! let work = mutations::WorkCopy::new(&image, &tmpdir.join(image.file_name().unwrap()))?;
//! for m in mutations::generate(&layout, 300, 1) {
//!     let undo = work.apply(&m)?;
//!     /* run `vmi --image <work> --config <conf> ps` with a timeout */
//!     work.restore(undo)?;
//! }
//! ```
//!
//! The layout (task and module addresses, the physical addresses of what gets corrupted) is
//! found by walking the clean image with this module's own 4-level page-table walk, not
//! with LibVMI: the oracle is independent of the code under test.

#![allow(dead_code)]

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// What the ground truth and offsets.json say (all plain numbers).
#[derive(Clone, Debug)]
pub struct Facts {
    pub kpgd: u64,
    pub init_task: u64,
    pub modules: u64,
    pub tasks: u64,
    pub mm: u64,
    pub pid: u64,
    pub name: u64,
    pub pgd: u64,
    pub thread_group: u64,
    pub module_list: u64,
    pub module_name: u64,
}

/// The clean image's structure, found by walking it.
#[derive(Clone, Debug)]
pub struct Layout {
    pub facts: Facts,
    pub size: u64,
    /// Virtual addresses of the task_structs, in list order, `init_task` first.
    pub tasks: Vec<u64>,
    /// Virtual addresses of the `struct module`s, in list order.
    pub modules: Vec<u64>,
    /// `(task, mm)` of the tasks with an mm (user processes).
    pub user: Vec<(u64, u64)>,
    image: PathBuf,
}

const PRESENT: u64 = 1;
const PS: u64 = 1 << 7;
const ADDR: u64 = 0x000f_ffff_ffff_f000;

fn read_u64(f: &File, pa: u64) -> Option<u64> {
    let mut b = [0u8; 8];
    f.read_exact_at(&mut b, pa).ok()?;
    Some(u64::from_le_bytes(b))
}

/// The physical addresses of the page-table entries used to translate `va` (PML4E, PDPTE,
/// PDE, PTE; fewer for large pages) and the physical address, or `None` if not mapped.
pub fn walk(f: &File, kpgd: u64, va: u64) -> (Vec<u64>, Option<u64>) {
    let mut entries = Vec::new();
    let mut table = kpgd & ADDR;
    for (level, shift) in [(4, 39u32), (3, 30), (2, 21), (1, 12)] {
        let at = table + ((va >> shift) & 0x1ff) * 8;
        entries.push(at);
        let Some(e) = read_u64(f, at) else {
            return (entries, None);
        };
        if e & PRESENT == 0 {
            return (entries, None);
        }
        if (level == 3 || level == 2) && e & PS != 0 {
            let mask = (1u64 << shift) - 1;
            return (entries, Some((e & ADDR & !mask) | (va & mask)));
        }
        table = e & ADDR;
    }
    (entries, Some(table | (va & 0xfff)))
}

impl Layout {
    /// Walk the clean image: the task list from `init_task`, the module list from
    /// `modules`.
    pub fn discover(image: &Path, facts: Facts) -> io::Result<Layout> {
        let f = File::open(image)?;
        let size = f.metadata()?.len();
        let bad = |what: &str| io::Error::other(format!("clean image: cannot follow {what}"));
        let rd = |va: u64| -> Option<u64> { read_u64(&f, walk(&f, facts.kpgd, va).1?) };
        let mut tasks = vec![facts.init_task];
        let head = facts.init_task + facts.tasks;
        let mut at = head;
        loop {
            let next = rd(at).ok_or_else(|| bad("task list"))?;
            if next == head || tasks.len() > 100_000 {
                break;
            }
            tasks.push(next - facts.tasks);
            at = next;
        }
        let mut modules = Vec::new();
        let mut at = facts.modules;
        loop {
            let next = rd(at).ok_or_else(|| bad("module list"))?;
            if next == facts.modules || modules.len() > 10_000 {
                break;
            }
            modules.push(next - facts.module_list);
            at = next;
        }
        let user = tasks
            .iter()
            .filter_map(|&t| match rd(t + facts.mm) {
                Some(mm) if mm != 0 => Some((t, mm)),
                _ => None,
            })
            .collect();
        Ok(Layout {
            facts,
            size,
            tasks,
            modules,
            user,
            image: image.to_owned(),
        })
    }

    /// The physical address of kernel virtual address `va` in the clean image.
    pub fn pa(&self, va: u64) -> Option<u64> {
        let f = File::open(&self.image).ok()?;
        walk(&f, self.facts.kpgd, va).1
    }

    /// The physical addresses of the page-table entries translating `va` (kernel table).
    pub fn pt_entries(&self, va: u64) -> Vec<u64> {
        let f = File::open(&self.image).expect("image");
        walk(&f, self.facts.kpgd, va).0
    }

    fn read_u64_va(&self, va: u64) -> Option<u64> {
        let f = File::open(&self.image).ok()?;
        read_u64(&f, walk(&f, self.facts.kpgd, va).1?)
    }
}

/// One change to the image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Edit {
    /// Overwrite bytes at a physical address (= file offset).
    Write { at: u64, bytes: Vec<u8> },
    /// Cut the file to this length.
    Truncate(u64),
    /// Make the whole file zeros (same length).
    Zero,
}

/// A named set of edits.
#[derive(Clone, Debug)]
pub struct Mutation {
    pub name: String,
    pub edits: Vec<Edit>,
}

impl Mutation {
    fn new(name: impl Into<String>) -> Mutation {
        Mutation {
            name: name.into(),
            edits: Vec::new(),
        }
    }

    fn write(mut self, at: Option<u64>, bytes: &[u8]) -> Mutation {
        if let Some(at) = at {
            self.edits.push(Edit::Write {
                at,
                bytes: bytes.to_vec(),
            });
        }
        self
    }

    fn ptr(self, at: Option<u64>, value: u64) -> Mutation {
        self.write(at, &value.to_le_bytes())
    }

    /// Whether the file is changed beyond single writes (needs a full restore).
    pub fn is_bulk(&self) -> bool {
        self.edits
            .iter()
            .any(|e| matches!(e, Edit::Truncate(_) | Edit::Zero))
    }
}

/// Wild pointer values: unmapped, user, non-canonical, misaligned, NULL-ish, wrapping.
pub const WILD: [u64; 12] = [
    0xdeadbeef000,
    0x0000_7fff_dead_b000,
    0x8000_0000_0000_0000,
    0x1234_5678_9abc_def0,
    0xffff_8000_0000_0000,
    0xffff_ffff_ff00_0000,
    0xffff_ffff_ffff_fff8,
    u64::MAX,
    0,
    8,
    0xdeadbeef0001,
    0xffff_ffff_8000_0003,
];

/// Tiny deterministic PRNG (xorshift64*).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// The targeted mutations (about 150 for the test images), then random ones up to `total`.
pub fn generate(l: &Layout, total: usize, seed: u64) -> Vec<Mutation> {
    let f = &l.facts;
    let mut out = Vec::new();
    let n = l.tasks.len();
    let pa = |va: u64| l.pa(va);
    let tasks_of = |i: usize| l.tasks[i] + f.tasks;
    let mid = n / 2;
    let last = n - 1;

    // --- the task list -------------------------------------------------------------
    out.push(
        Mutation::new("init.tasks.next = &init.tasks (empty list)")
            .ptr(pa(tasks_of(0)), tasks_of(0)),
    );
    for &w in &WILD {
        out.push(Mutation::new(format!("init.tasks.next = {w:#x}")).ptr(pa(tasks_of(0)), w));
        out.push(
            Mutation::new(format!("task[{mid}].tasks.next = {w:#x}")).ptr(pa(tasks_of(mid)), w),
        );
    }
    for (from, to) in [(1, 1), (mid, 1), (last, 1), (last, mid), (mid, mid), (2, 1)] {
        if from < n && to < n {
            out.push(
                Mutation::new(format!(
                    "task[{from}].tasks.next = &task[{to}].tasks (cycle)"
                ))
                .ptr(pa(tasks_of(from)), tasks_of(to)),
            );
        }
    }
    // points into the middle of another structure (the thread group / comm / its own pid)
    for (i, target, what) in [
        (1, l.tasks[2] + f.thread_group, "thread_group"),
        (1, l.tasks[2] + f.name, "comm"),
        (mid, l.tasks[mid] + f.pid, "pid"),
        (0, f.modules, "the modules list head"),
    ] {
        out.push(
            Mutation::new(format!("task[{i}].tasks.next = &{what}")).ptr(pa(tasks_of(i)), target),
        );
    }
    // a task list that is long but not circular: each task points to the next page
    out.push(
        Mutation::new("task[1].tasks.next = task[1].tasks + 4096 (walk into garbage)")
            .ptr(pa(tasks_of(1)), tasks_of(1) + 4096),
    );

    // --- names, pids, mm ----------------------------------------------------------
    for i in [0, 1, mid, last] {
        let comm = pa(l.tasks[i] + f.name);
        out.push(
            Mutation::new(format!("task[{i}].comm = 16 x 'A' (no NUL)")).write(comm, &[b'A'; 16]),
        );
        out.push(
            Mutation::new(format!("task[{i}].comm = 16 x 0xff (no NUL, not UTF-8)"))
                .write(comm, &[0xff; 16]),
        );
        out.push(
            Mutation::new(format!("task[{i}].comm = invalid UTF-8"))
                .write(comm, b"\xc3\x28\xa0\xa1\xe2\x28\xa1\xf0\x90\x28\xbc\0"),
        );
        out.push(
            Mutation::new(format!("task[{i}].pid = -1"))
                .write(pa(l.tasks[i] + f.pid), &u32::MAX.to_le_bytes()),
        );
        out.push(
            Mutation::new(format!("task[{i}].pid = i32::MIN"))
                .write(pa(l.tasks[i] + f.pid), &0x8000_0000u32.to_le_bytes()),
        );
    }
    for (k, &(t, mm)) in l.user.iter().enumerate().filter(|(k, _)| *k < 2) {
        for &w in &WILD[..8] {
            out.push(Mutation::new(format!("user[{k}].mm = {w:#x}")).ptr(pa(t + f.mm), w));
            out.push(Mutation::new(format!("user[{k}].mm->pgd = {w:#x}")).ptr(pa(mm + f.pgd), w));
        }
        out.push(
            Mutation::new(format!("user[{k}].mm = &init_task")).ptr(pa(t + f.mm), f.init_task),
        );
        // its own page table: PML4 entries garbage / self-referencing
        if let Some(pgd) = l.read_u64_va(mm + f.pgd) {
            if let Some(pgd_pa) = pa(pgd) {
                for (what, e) in [
                    ("garbage", 0xffff_ffff_ffff_ffffu64),
                    ("self-reference", pgd_pa | 0x67),
                    ("1G-PS in PML4", 0x8000_0000_0000_00e7),
                ] {
                    let mut m = Mutation::new(format!("user[{k}] PML4[0..256] = {what}"));
                    let bytes: Vec<u8> = (0..256).flat_map(|_| e.to_le_bytes()).collect();
                    m = m.write(Some(pgd_pa), &bytes);
                    out.push(m);
                }
            }
        }
    }

    // --- thread groups ----------------------------------------------------------
    for i in [1, mid] {
        let tg = l.tasks[i] + f.thread_group;
        for &w in &WILD[..9] {
            out.push(Mutation::new(format!("task[{i}].thread_group.next = {w:#x}")).ptr(pa(tg), w));
        }
        out.push(
            Mutation::new(format!(
                "task[{i}].thread_group.next = &task[2].thread_group (foreign list)"
            ))
            .ptr(pa(tg), l.tasks[2] + f.thread_group),
        );
        out.push(
            Mutation::new(format!("task[{i}].thread_group.next = &task[{i}].tasks"))
                .ptr(pa(tg), tasks_of(i)),
        );
    }

    // --- modules -------------------------------------------------------------------
    let head_pa = pa(f.modules);
    for &w in &WILD {
        out.push(Mutation::new(format!("modules.next = {w:#x}")).ptr(head_pa, w));
    }
    out.push(Mutation::new("modules.next = &init_task.tasks").ptr(head_pa, tasks_of(0)));
    for (k, &m) in l.modules.iter().enumerate() {
        let list = m + f.module_list;
        out.push(
            Mutation::new(format!(
                "module[{k}].list.next = &module[{k}].list (self cycle)"
            ))
            .ptr(pa(list), list),
        );
        out.push(
            Mutation::new(format!("module[{k}].list.next = {:#x}", WILD[0])).ptr(pa(list), WILD[0]),
        );
        out.push(
            Mutation::new(format!("module[{k}].name = 56 x 'M' (no NUL)"))
                .write(pa(m + f.module_name), &[b'M'; 56]),
        );
        if k > 0 {
            let first = l.modules[0] + f.module_list;
            out.push(
                Mutation::new(format!("module[{k}].list.next = &module[0].list (cycle)"))
                    .ptr(pa(list), first),
            );
        }
    }

    // --- the kernel page table ------------------------------------------------------
    let kpgd = f.kpgd;
    for (target, tname) in [
        (f.init_task, "init_task"),
        (l.tasks[mid], "a slab task"),
        (f.modules, "modules"),
    ] {
        let entries = l.pt_entries(target);
        for (level, &e_at) in entries.iter().enumerate() {
            let lname = ["PML4E", "PDPTE", "PDE", "PTE"][level];
            for (what, v) in [
                ("0", 0u64),
                ("all ones", u64::MAX),
                ("self-reference to the PML4", kpgd | 0x63),
                ("PS to the end of physical space", 0x000f_ffff_c000_00e3),
                ("beyond the image", 0x0000_7fff_ffff_f063),
                ("its own table (loop)", (e_at & ADDR) | 0x63),
            ] {
                out.push(Mutation::new(format!("{lname} of {tname} = {what}")).ptr(Some(e_at), v));
            }
        }
    }
    // every kernel-half PML4 entry points back to the PML4
    {
        let bytes: Vec<u8> = (0..256).flat_map(|_| (kpgd | 0x63).to_le_bytes()).collect();
        out.push(Mutation::new("PML4[256..512] = recursive").write(Some(kpgd + 256 * 8), &bytes));
        let bytes: Vec<u8> = (0..512)
            .flat_map(|_| 0xffff_ffff_ffff_ffffu64.to_le_bytes())
            .collect();
        out.push(Mutation::new("PML4 all ones").write(Some(kpgd), &bytes));
        out.push(Mutation::new("PML4 zeroed").write(Some(kpgd), &[0u8; 4096]));
    }

    // --- the file itself -------------------------------------------------------------
    let mut cuts = vec![
        0,
        1,
        4095,
        4096,
        1 << 20,
        kpgd,
        kpgd + 4096,
        l.size / 2,
        l.size - 4096,
        l.size - 1,
    ];
    for va in [f.init_task, l.tasks[mid], f.modules] {
        if let Some(p) = pa(va) {
            cuts.push(p);
            cuts.push(p + f.name + 4);
        }
    }
    cuts.sort_unstable();
    cuts.dedup();
    for c in cuts {
        out.push(Mutation {
            name: format!("truncated to {c:#x} bytes"),
            edits: vec![Edit::Truncate(c)],
        });
    }
    out.push(Mutation {
        name: "all zeros".into(),
        edits: vec![Edit::Zero],
    });

    // --- random ---------------------------------------------------------------------
    let mut rng = Rng::new(seed);
    let mut i = 0;
    while out.len() < total {
        i += 1;
        let kind = rng.below(4);
        let m = match kind {
            // byte flips in the pages of a task struct
            0 | 1 => {
                let t = l.tasks[rng.below(n as u64) as usize];
                let flips = 1 + rng.below(64);
                let mut m =
                    Mutation::new(format!("random #{i}: {flips} byte flips in task at {t:#x}"));
                for _ in 0..flips {
                    let off = rng.below(0x3000);
                    let b = rng.next() as u8;
                    m = m.write(pa(t + off), &[b]);
                }
                m
            }
            // random values in the walked pointer fields
            2 => {
                let t = l.tasks[rng.below(n as u64) as usize];
                let field = [f.tasks, f.tasks + 8, f.mm, f.thread_group, f.name, f.pid]
                    [rng.below(6) as usize];
                let v = match rng.below(3) {
                    0 => WILD[rng.below(WILD.len() as u64) as usize],
                    1 => l.tasks[rng.below(n as u64) as usize] + rng.below(0x3000),
                    _ => rng.next(),
                };
                Mutation::new(format!("random #{i}: task {t:#x} +{field:#x} = {v:#x}"))
                    .ptr(pa(t + field), v)
            }
            // random garbage in page-table entries on the way to a task or module
            _ => {
                let target = if rng.below(2) == 0 {
                    l.tasks[rng.below(n as u64) as usize]
                } else if l.modules.is_empty() {
                    f.modules
                } else {
                    l.modules[rng.below(l.modules.len() as u64) as usize]
                };
                let entries = l.pt_entries(target);
                let e_at = entries[rng.below(entries.len() as u64) as usize];
                let v = match rng.below(3) {
                    0 => rng.next(),
                    1 => (rng.below(l.size * 2) & ADDR) | 0x63 | (rng.below(2) << 7),
                    _ => ((entries[0] & ADDR) | 0x63) ^ (1 << rng.below(64)),
                };
                Mutation::new(format!(
                    "random #{i}: page-table entry at {e_at:#x} (for {target:#x}) = {v:#x}"
                ))
                .ptr(Some(e_at), v)
            }
        };
        out.push(m);
    }
    out
}

/// One writable copy of the image, mutated and restored in place.
pub struct WorkCopy {
    pub path: PathBuf,
    original: PathBuf,
    size: u64,
}

/// What [`WorkCopy::apply`] changed.
pub struct Undo {
    saved: Vec<(u64, Vec<u8>)>,
    bulk: bool,
}

impl WorkCopy {
    /// Copy `original` to `path` (once).
    pub fn new(original: &Path, path: &Path) -> io::Result<WorkCopy> {
        std::fs::copy(original, path)?;
        Ok(WorkCopy {
            path: path.to_owned(),
            original: original.to_owned(),
            size: std::fs::metadata(original)?.len(),
        })
    }

    pub fn apply(&self, m: &Mutation) -> io::Result<Undo> {
        let f = OpenOptions::new().write(true).read(true).open(&self.path)?;
        let mut undo = Undo {
            saved: Vec::new(),
            bulk: m.is_bulk(),
        };
        for e in &m.edits {
            match e {
                Edit::Write { at, bytes } => {
                    let mut old = vec![0u8; bytes.len()];
                    f.read_exact_at(&mut old, *at)?;
                    undo.saved.push((*at, old));
                    f.write_all_at(bytes, *at)?;
                }
                Edit::Truncate(len) => f.set_len(*len)?,
                Edit::Zero => {
                    f.set_len(0)?;
                    f.set_len(self.size)?;
                }
            }
        }
        f.sync_data().ok();
        Ok(undo)
    }

    pub fn restore(&self, undo: Undo) -> io::Result<()> {
        if undo.bulk {
            std::fs::copy(&self.original, &self.path)?;
            return Ok(());
        }
        let f = OpenOptions::new().write(true).open(&self.path)?;
        for (at, old) in undo.saved.iter().rev() {
            f.write_all_at(old, *at)?;
        }
        Ok(())
    }
}
