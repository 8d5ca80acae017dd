//! `xen-check`: issue 11's checks of the safe `libvmi` API against live Xen domUs, run
//! inside the dom0 of the Xen-in-QEMU harness (`ci/xen/run`, see `ci/xen/README.md`).
//!
//! ```text
//! xen-check [--no-events] [GUEST...]      (default: the domains in $TVMI_GUESTS)
//! ```
//!
//! For every guest (PV and PVH alike):
//!
//! * **init-name**, **init-id**: initialisation by domain name (`/etc/libvmi.conf`) and by
//!   domain id (the entry body of `/run/tvmi/domu/<name>/libvmi-string.conf` as a config
//!   string);
//! * **process-list**: with the domain paused by [`Vmi::pause`]'s guard, the task-list walk
//!   equals the guest's ground truth (pid and name of every thread-group leader, plus pid 0
//!   `swapper/0`); the ground truth is taken before and after the walk, and the walk is
//!   repeated (up to 3 times) if they differ;
//! * **pause**: `xl list <name>` shows state `p` while the guard lives, and not after;
//! * **registers**: CR3 of vCPU 0 (read in the same pause) is the page-table base of a
//!   known process (LibVMI's `pid_to_dtb`) or the kernel's (`kpgd`);
//! * **modules**: the module list equals the guest's `/proc/modules` (names, in order);
//! * **banner**: `linux_banner` reads "Linux version ..." and equals the guest's
//!   `/proc/version`;
//! * **markers**: every string of the marker process is read by pid + virtual address,
//!   and the translation agrees with the guest's `/proc/self/pagemap` (PVH: exactly; PV:
//!   LibVMI's "physical" addresses are machine addresses, so the page offset only).
//!
//! With the `vmi` command line tool in `PATH` (ci/xen-test ships it to dom0), the same
//! through the tool, by domain name with `/etc/libvmi.conf`:
//!
//! * **cli-ps**: `vmi --domain <name> ps --json` equals the ground truth (retried up to 3
//!   times if the guest's processes changed meanwhile);
//! * **cli-modules**: `vmi --domain <name> modules --json` equals `/proc/modules`, in order;
//! * **cli-watch** (PVH, unless `--no-events`): `vmi --domain <name> watch --cr3 --seconds
//!   20 --json` prints CR3-write events as JSON lines (at least 3) and exits 0 while the
//!   guest is made to work as for **cr3-events** (killed after 120 s); **cli-alive**: the
//!   guest runs and answers afterwards (the tool left no vCPU waiting on an event).
//!
//! Once: **no-such-domain**: initialising a domain that does not exist fails with
//! [`Error::Init`] / [`InitError::VmNotFound`] naming the domain.
//!
//! On PVH guests (unless `--no-events`):
//!
//! * **cr3-events**: CR3-write events reach a Rust closure and are counted while
//!   `tvmi-domu again` makes the guest work (the idle guest switches no address spaces
//!   on its own); then the events are cleared by [`Vmi::listen_while`];
//! * **mem-event**, **single-step**: registered; Xen implements `mem_access` and MTF
//!   single-stepping only on Intel VMX, and QEMU's TCG emulates AMD SVM, so here both are
//!   expected to fail — the check passes if the result is clean (a success that clears
//!   again, or an [`Error`] naming the operation);
//! * **alive**: afterwards the guest still runs (`xl list` state `r`/`b`) and answers on
//!   its console (`tvmi-domu again`).
//!
//! Prints `PASS <guest>: <check>: ...` or `FAIL <guest>: <check>: ...` per check and a
//! summary; exits 1 if any check failed (2 on a usage error).

use libvmi::events::{EventInfo, EventSpec, MemAccess, RegAccess, Response};
use libvmi::os::linux::Process;
use libvmi::{Config, Error, ErrorKind, Gfn, InitError, Mode, Pid, Register, Va, Vmi};
use std::collections::BTreeSet;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The outcome of one check: a detail line for PASS, a reason for FAIL.
type Outcome = Result<String, String>;

/// Where the harness keeps each domU's files inside dom0.
const DOMU_DIR: &str = "/run/tvmi/domu";

/// Bits of CR3 that hold the page-table base (no PCID, no flags, no bit 63).
const CR3_BASE_MASK: u64 = 0x000f_ffff_ffff_f000;

/// Counts and prints check results.
struct Report {
    passed: usize,
    failed: Vec<String>,
    /// When the previous result was recorded: each line shows the time since.
    last: Instant,
}

impl Report {
    /// Print one check's result line and remember it.
    fn record(&mut self, guest: &str, check: &str, outcome: Outcome) {
        let took = format!("[+{:.1} s]", self.last.elapsed().as_secs_f64());
        self.last = Instant::now();
        match outcome {
            Ok(detail) => {
                println!("PASS {guest}: {check}: {detail} {took}");
                self.passed += 1;
            }
            Err(reason) => {
                println!("FAIL {guest}: {check}: {reason} {took}");
                self.failed.push(format!("{guest}: {check}"));
            }
        }
    }
}

/// Run a program, returning its stdout if it exits with status 0.
fn run(program: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`{program} {}` failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The state column of `xl list <name>` (e.g. `-b----`, `--p---`).
fn xl_state(name: &str) -> Result<String, String> {
    let out = run("xl", &["list", name])?;
    let line = out
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .ok_or_else(|| format!("`xl list {name}` does not list {name}: {out:?}"))?;
    line.split_whitespace()
        .nth(4)
        .map(str::to_owned)
        .ok_or_else(|| format!("no state column in {line:?}"))
}

/// A ground-truth block of the guest (`tvmi-domu gt`), reduced to what LibVMI can see.
#[derive(PartialEq, Eq, Debug)]
struct GroundTruth {
    /// (pid, name as `task_struct.comm` holds it) of every process, plus (0, swapper/0).
    procs: BTreeSet<(i32, String)>,
    /// Module names in `/proc/modules` order.
    modules: Vec<String>,
}

impl GroundTruth {
    /// Parse `proc <pid> <ppid> <kthread> <name>` and `module <name> ...` lines.
    fn parse(text: &str) -> Result<GroundTruth, String> {
        let mut procs = BTreeSet::from([(0, "swapper/0".to_owned())]);
        let mut modules = Vec::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("proc ") {
                let mut f = rest.splitn(4, ' ');
                let (Some(pid), Some(_ppid), Some(kthread), Some(name)) =
                    (f.next(), f.next(), f.next(), f.next())
                else {
                    return Err(format!("bad ground-truth line {line:?}"));
                };
                let pid: i32 = pid
                    .parse()
                    .map_err(|_| format!("bad pid in ground-truth line {line:?}"))?;
                procs.insert((pid, comm_of(name, kthread == "1")));
            } else if let Some(rest) = line.strip_prefix("module ") {
                if let Some(name) = rest.split_whitespace().next() {
                    modules.push(name.to_owned());
                }
            }
        }
        Ok(GroundTruth { procs, modules })
    }

    /// Block `n` (or the newest) of `guest`'s ground truth.
    fn fetch(guest: &str, n: &str) -> Result<GroundTruth, String> {
        GroundTruth::parse(&run("tvmi-domu", &["gt", guest, n])?)
    }
}

/// `/proc/<pid>/comm` as `task_struct.comm` holds it: kernel workers lose their workqueue
/// suffix (`kworker/0:1-events`), and at most 15 bytes remain.
fn comm_of(name: &str, kthread: bool) -> String {
    let mut n = name;
    if kthread && n.starts_with("kworker/") {
        if let Some(i) = n.find('-') {
            n = &n[..i];
        }
    }
    let mut end = n.len().min(15);
    while !n.is_char_boundary(end) {
        end -= 1;
    }
    n[..end].to_owned()
}

/// The number of the guest's newest ground-truth block.
fn gt_last(guest: &str) -> Result<String, String> {
    Ok(run("tvmi-domu", &["last", guest])?.trim().to_owned())
}

/// Ask the guest for a new ground-truth block; its number.
fn gt_again(guest: &str) -> Result<String, String> {
    Ok(run("tvmi-domu", &["again", guest])?.trim().to_owned())
}

/// A file of the harness about `guest`.
fn domu_file(guest: &str, file: &str) -> Result<String, String> {
    let path = format!("{DOMU_DIR}/{guest}/{file}");
    std::fs::read_to_string(&path).map_err(|e| format!("cannot read {path}: {e}"))
}

/// One line of `markers.txt`: `marker kind=K pid=P vaddr=0x.. paddr=0x.. text=T`.
struct Marker {
    kind: String,
    pid: i32,
    vaddr: u64,
    paddr: u64,
    text: String,
}

fn parse_markers(text: &str) -> Result<Vec<Marker>, String> {
    let hex = |s: &str| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok();
    let mut markers = Vec::new();
    for line in text.lines().filter(|l| l.starts_with("marker ")) {
        let field = |key: &str| {
            line.split(' ')
                .find_map(|w| w.strip_prefix(key))
                .map(str::to_owned)
        };
        let text = line.split_once(" text=").map(|(_, t)| t.to_owned());
        match (
            field("kind="),
            field("pid="),
            field("vaddr="),
            field("paddr="),
            text,
        ) {
            (Some(kind), Some(pid), Some(va), Some(pa), Some(text)) => markers.push(Marker {
                kind,
                pid: pid.parse().map_err(|_| format!("bad pid in {line:?}"))?,
                vaddr: hex(&va).ok_or_else(|| format!("bad vaddr in {line:?}"))?,
                paddr: hex(&pa).ok_or_else(|| format!("bad paddr in {line:?}"))?,
                text,
            }),
            _ => return Err(format!("bad marker line {line:?}")),
        }
    }
    if markers.is_empty() {
        return Err("markers.txt has no marker lines".into());
    }
    Ok(markers)
}

/// Whether `guest` is the PVH domU (the harness names them `tvmi-pv` and `tvmi-pvh`).
fn is_pvh(guest: &str) -> bool {
    guest.ends_with("pvh")
}

fn main() {
    let mut events = true;
    let mut guests = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--no-events" => events = false,
            "-h" | "--help" => {
                println!("usage: xen-check [--no-events] [GUEST...]  (default: $TVMI_GUESTS)");
                return;
            }
            a if a.starts_with('-') => {
                eprintln!("xen-check: unknown option {a}");
                std::process::exit(2);
            }
            a => guests.push(a.to_owned()),
        }
    }
    if guests.is_empty() {
        guests = std::env::var("TVMI_GUESTS")
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_owned)
            .collect();
    }
    if guests.is_empty() {
        eprintln!("xen-check: no guests (pass names or set TVMI_GUESTS)");
        std::process::exit(2);
    }

    let started = Instant::now();
    let mut report = Report {
        passed: 0,
        failed: Vec::new(),
        last: started,
    };
    let cli = vmi_cli();
    for guest in &guests {
        let t = Instant::now();
        check_guest(&mut report, guest);
        if events && is_pvh(guest) {
            check_events(&mut report, guest);
        }
        if let Some(cli) = &cli {
            report.record(guest, "cli-ps", cli_ps(cli, guest));
            report.record(guest, "cli-modules", cli_modules(cli, guest));
            if events && is_pvh(guest) {
                report.record(guest, "cli-watch", cli_watch(cli, guest));
                report.record(guest, "cli-alive", check_alive(guest));
            }
        }
        println!("# {guest}: checks took {:.1} s", t.elapsed().as_secs_f64());
    }
    report.record("xen", "no-such-domain", check_no_such_domain());

    println!(
        "# xen-check: {} passed, {} failed, {:.1} s",
        report.passed,
        report.failed.len(),
        started.elapsed().as_secs_f64()
    );
    if report.failed.is_empty() {
        println!("RESULT PASS");
    } else {
        println!("RESULT FAIL ({})", report.failed.join("; "));
        std::process::exit(1);
    }
}

/// Every non-event check of one guest.
fn check_guest(report: &mut Report, guest: &str) {
    let domid: Result<u64, String> = domu_file(guest, "domid").and_then(|s| {
        s.trim()
            .parse()
            .map_err(|_| format!("bad domid file: {s:?}"))
    });

    // Initialisation by name, with the entry of /etc/libvmi.conf.
    let by_name = Vmi::xen(guest).config(Config::GlobalFile).init();
    let vmi = match by_name {
        Ok(vmi) => {
            let outcome = check_identity(&vmi, guest, domid.as_ref().ok().copied());
            report.record(guest, "init-name", outcome);
            vmi
        }
        Err(e) => {
            report.record(guest, "init-name", Err(e.to_string()));
            return;
        }
    };

    // Initialisation by id, with the entry's body as a config string.
    let by_id = match &domid {
        Ok(id) => domu_file(guest, "libvmi-string.conf").and_then(|body| {
            let body = body.trim().to_owned();
            let v = Vmi::xen_id(*id)
                .config(Config::String(body))
                .init()
                .map_err(|e| e.to_string())?;
            check_identity(&v, guest, Some(*id))
        }),
        Err(e) => Err(e.clone()),
    };
    report.record(guest, "init-id", by_id);

    check_walk(report, guest, &vmi);

    let banner = check_banner(&vmi, guest);
    report.record(guest, "banner", banner);

    let markers = check_markers(&vmi, guest);
    report.record(guest, "markers", markers);
}

/// What every initialised instance must say about itself.
fn check_identity(vmi: &Vmi, guest: &str, domid: Option<u64>) -> Outcome {
    let name = vmi.name().map_err(|e| e.to_string())?;
    if name != guest {
        return Err(format!("vmi_get_name says {name:?}"));
    }
    if vmi.mode() != Mode::Xen {
        return Err(format!("mode {}", vmi.mode()));
    }
    let id = vmi.vmid();
    if domid.is_some() && id != domid {
        return Err(format!("vmid {id:?}, harness says {domid:?}"));
    }
    if vmi.os_type() != libvmi::OsType::Linux {
        return Err(format!("OS type {}", vmi.os_type()));
    }
    Ok(format!(
        "{} domain id {}, OS {}, {}, {} vCPU(s), {} MiB",
        vmi.domain(),
        id.map_or("?".into(), |i| i.to_string()),
        vmi.os_type(),
        vmi.page_mode(0),
        vmi.vcpu_count(),
        vmi.memory_size() >> 20
    ))
}

/// What was seen while the domain was paused.
struct PausedView {
    state_paused: Result<String, String>,
    walk: libvmi::Result<Vec<Process>>,
    registers: Outcome,
}

/// Process list (paused, compared with the ground truth before and after), pause/resume
/// through `xl list`, CR3, and the module list.
fn check_walk(report: &mut Report, guest: &str, vmi: &Vmi) {
    let linux = match vmi.linux() {
        Ok(l) => l,
        Err(e) => {
            report.record(guest, "process-list", Err(e.to_string()));
            return;
        }
    };
    let mut last_err = String::from("no attempt made");
    for attempt in 1..=3 {
        let before = match gt_last(guest).and_then(|n| GroundTruth::fetch(guest, &n)) {
            Ok(gt) => gt,
            Err(e) => {
                last_err = e;
                break;
            }
        };
        let state_before = xl_state(guest);
        let view = {
            let paused = match vmi.pause() {
                Ok(g) => g,
                Err(e) => {
                    last_err = e.to_string();
                    break;
                }
            };
            // The running guest may have changed pages LibVMI holds.
            paused.flush_caches();
            let state_paused = xl_state(guest);
            let walk: libvmi::Result<Vec<Process>> = linux.processes().collect();
            let registers = match &walk {
                Ok(w) => check_cr3(&paused, w),
                Err(e) => Err(format!("no process list: {e}")),
            };
            PausedView {
                state_paused,
                walk,
                registers,
            }
            // the guard drops here: resumed
        };
        let state_after = xl_state(guest);
        let after = match gt_again(guest).and_then(|n| GroundTruth::fetch(guest, &n)) {
            Ok(gt) => gt,
            Err(e) => {
                last_err = format!("no new ground truth after the walk: {e}");
                break;
            }
        };
        if before.procs != after.procs && attempt < 3 {
            println!("# {guest}: processes changed during attempt {attempt}; walking again");
            continue;
        }
        report.record(
            guest,
            "pause",
            check_pause(&state_before, &view.state_paused, &state_after),
        );
        report.record(guest, "process-list", compare_walk(&view.walk, &before));
        report.record(guest, "registers", view.registers);
        report.record(guest, "modules", compare_modules(vmi, &before));
        return;
    }
    report.record(guest, "process-list", Err(last_err));
}

/// `xl list` state: not paused before, `p` while the guard lived, not `p` after.
fn check_pause(
    before: &Result<String, String>,
    paused: &Result<String, String>,
    after: &Result<String, String>,
) -> Outcome {
    let (before, paused, after) = (before.as_ref()?, paused.as_ref()?, after.as_ref()?);
    if before.contains('p') {
        return Err(format!("already paused before the guard: {before}"));
    }
    if !paused.contains('p') {
        return Err(format!(
            "xl list state {paused} while the pause guard lived"
        ));
    }
    if after.contains('p') {
        return Err(format!("xl list state {after} after the guard dropped"));
    }
    Ok(format!(
        "xl list state {before} -> {paused} (guard) -> {after} (dropped)"
    ))
}

/// The walk equals the ground truth (pid and name), idle task first.
fn compare_walk(walk: &libvmi::Result<Vec<Process>>, truth: &GroundTruth) -> Outcome {
    let walk = walk.as_ref().map_err(|e| e.to_string())?;
    let first = walk.first().ok_or("the walk found no process")?;
    if (first.pid, first.name.as_str()) != (Pid(0), "swapper/0") {
        return Err(format!(
            "the walk starts with pid {} {:?}",
            first.pid, first.name
        ));
    }
    let got: BTreeSet<(i32, String)> = walk.iter().map(|p| (p.pid.0, p.name.clone())).collect();
    if got.len() != walk.len() {
        return Err("the walk lists a process twice".into());
    }
    if got != truth.procs {
        let missing: Vec<_> = truth.procs.difference(&got).collect();
        let extra: Vec<_> = got.difference(&truth.procs).collect();
        return Err(format!(
            "differs from the guest's ground truth: missing {missing:?}, unexpected {extra:?}"
        ));
    }
    let user = walk.iter().filter(|p| p.dtb.is_some()).count();
    Ok(format!(
        "{} processes incl. swapper/0 = ground truth ({user} with a page table), domain paused during the walk",
        walk.len()
    ))
}

/// CR3 of vCPU 0 is a known process's page table (`pid_to_dtb`) or the kernel's.
fn check_cr3(vmi: &Vmi, walk: &[Process]) -> Outcome {
    let cr3 = vmi
        .get_vcpureg(Register::CR3, 0)
        .map_err(|e| e.to_string())?;
    let rip = vmi
        .get_vcpureg(Register::RIP, 0)
        .map_err(|e| e.to_string())?;
    // The whole register set: Xen's driver provides it for HVM/PVH vCPUs only.
    let set = match vmi.get_x86_registers(0) {
        Ok(regs) if regs.cr3 == cr3 && regs.rip == rip => "get_x86_registers agrees".to_owned(),
        Ok(regs) => {
            return Err(format!(
                "get_x86_registers says CR3 {:#x} RIP {:#x}, get_vcpureg CR3 {cr3:#x} RIP {rip:#x}",
                regs.cr3, regs.rip
            ))
        }
        Err(e) => format!("get_x86_registers: {e}"),
    };
    let base = cr3 & CR3_BASE_MASK;
    let mut user_dtbs = 0;
    for p in walk {
        let Some(dtb) = p.dtb else { continue };
        user_dtbs += 1;
        let by_pid = vmi.pid_to_dtb(p.pid).map_err(|e| e.to_string())?;
        if by_pid != dtb {
            return Err(format!(
                "pid_to_dtb({}) = {by_pid} but the walk read {dtb} from its mm",
                p.pid
            ));
        }
        if by_pid.0 & CR3_BASE_MASK == base {
            return Ok(format!(
                "CR3 {cr3:#x} = pid_to_dtb({}) ({}); RIP {rip:#x}; {set}; checked pid_to_dtb of {user_dtbs} process(es)",
                p.pid, p.name
            ));
        }
    }
    let kpgd = vmi.offset("kpgd").map_err(|e| e.to_string())?;
    if kpgd & CR3_BASE_MASK == base {
        return Ok(format!(
            "CR3 {cr3:#x} = the kernel's page table (kpgd {kpgd:#x}); RIP {rip:#x}; {set}"
        ));
    }
    let dtbs: Vec<String> = walk
        .iter()
        .filter_map(|p| p.dtb.map(|d| format!("{}:{d}", p.pid)))
        .collect();
    Err(format!(
        "CR3 {cr3:#x} is neither kpgd {kpgd:#x} nor a process's page table ({})",
        dtbs.join(" ")
    ))
}

/// The module list equals `/proc/modules`, in order.
fn compare_modules(vmi: &Vmi, truth: &GroundTruth) -> Outcome {
    let linux = vmi.linux().map_err(|e| e.to_string())?;
    let got: Vec<String> = linux
        .modules()
        .map(|m| m.map(|m| m.name))
        .collect::<libvmi::Result<_>>()
        .map_err(|e| e.to_string())?;
    if got != truth.modules {
        return Err(format!(
            "LibVMI {got:?}, guest /proc/modules {:?}",
            truth.modules
        ));
    }
    Ok(format!(
        "{} modules = ground truth, in order: {}",
        got.len(),
        got.join(" ")
    ))
}

/// `linux_banner` reads "Linux version ..." and equals the guest's `/proc/version`.
fn check_banner(vmi: &Vmi, guest: &str) -> Outcome {
    let banner = vmi
        .linux()
        .and_then(|l| l.banner())
        .map_err(|e| e.to_string())?;
    if !banner.starts_with("Linux version ") {
        return Err(format!("linux_banner reads {banner:?}"));
    }
    let facts = domu_file(guest, "facts.txt")?;
    let want = facts
        .lines()
        .find_map(|l| l.strip_prefix("version "))
        .ok_or("facts.txt has no version line")?
        .trim();
    if banner != want {
        return Err(format!("linux_banner {banner:?} != guest's {want:?}"));
    }
    Ok(format!("{banner:?} = guest's /proc/version"))
}

/// Every marker string, read by pid + virtual address.
fn check_markers(vmi: &Vmi, guest: &str) -> Outcome {
    let markers = parse_markers(&domu_file(guest, "markers.txt")?)?;
    let exact = is_pvh(guest);
    let mut kinds = Vec::new();
    for m in &markers {
        let (va, pid) = (Va(m.vaddr), Pid(m.pid));
        let text = vmi
            .read_cstring_va(va, pid, m.text.len() + 1)
            .map_err(|e| format!("{} marker: {e}", m.kind))?;
        if text != m.text {
            return Err(format!(
                "{} marker at {va} of pid {pid}: read {text:?}, want {:?}",
                m.kind, m.text
            ));
        }
        let pa = vmi
            .translate_uv2p(va, pid)
            .map_err(|e| format!("{} marker: {e}", m.kind))?;
        let agrees = if exact {
            pa.0 == m.paddr
        } else {
            pa.0 & 0xfff == m.paddr & 0xfff
        };
        if !agrees {
            return Err(format!(
                "{} marker at {va} of pid {pid}: LibVMI translates to {pa}, the guest says {:#x}",
                m.kind, m.paddr
            ));
        }
        kinds.push(m.kind.as_str());
    }
    Ok(format!(
        "{} strings ({}) of pid {} read by pid + vaddr; translation = guest's paddr ({})",
        markers.len(),
        kinds.join(" "),
        markers[0].pid,
        if exact {
            "exactly"
        } else {
            "page offset: PV machine addresses"
        }
    ))
}

/// Initialising a domain that does not exist fails cleanly, naming it.
fn check_no_such_domain() -> Outcome {
    const NAME: &str = "tvmi-no-such-domain";
    let e = match Vmi::xen(NAME).init() {
        Ok(_) => return Err(format!("initialising {NAME} succeeded")),
        Err(e) => e,
    };
    let msg = e.to_string();
    match &e {
        Error::Init {
            mode: Mode::Xen,
            reason: InitError::VmNotFound,
            ..
        } if e.kind() == ErrorKind::Init && msg.contains(NAME) => {}
        _ => return Err(format!("unexpected error {e:?}: {msg}")),
    }
    // By id: 32000 is above every id Xen hands out to this run's domains.
    let id_err = match Vmi::xen_id(32000).init() {
        Ok(_) => return Err("initialising domain id 32000 succeeded".into()),
        Err(e) => e,
    };
    let id_msg = id_err.to_string();
    if !matches!(
        id_err,
        Error::Init {
            mode: Mode::Xen,
            ..
        }
    ) || !id_msg.contains("32000")
    {
        return Err(format!("by id: unexpected error {id_err:?}: {id_msg}"));
    }
    Ok(format!(
        "Error::Init/VmNotFound: \"{msg}\"; by id: \"{id_msg}\""
    ))
}

/// CR3-write events counted in a closure while the guest works, then cleared; a memory
/// event and single-stepping (not implemented by Xen on AMD SVM); the guest alive after.
fn check_events(report: &mut Report, guest: &str) {
    // Events need the driver only (no OS): skip the slower OS initialisation.
    let mut vmi = match Vmi::xen(guest).events(true).init_driver() {
        Ok(v) => v,
        Err(e) => {
            report.record(guest, "cr3-events", Err(format!("init with events: {e}")));
            return;
        }
    };

    // A memory event on the frame of the marker's data string (PVH: guest-physical).
    let gfn = domu_file(guest, "markers.txt")
        .and_then(|t| parse_markers(&t))
        .map(|m| Gfn(m[0].paddr >> 12));
    let mem = match gfn {
        Ok(gfn) => clean_registration(&mut vmi, EventSpec::memory(gfn, MemAccess::W), "write"),
        Err(e) => Err(e),
    };
    report.record(guest, "mem-event", mem);
    let ss = clean_registration(&mut vmi, EventSpec::single_step(1), "vCPU 0");
    report.record(guest, "single-step", ss);
    // Last: its trigger may checkpoint the domain.
    report.record(guest, "cr3-events", cr3_events(&mut vmi, guest));
    drop(vmi);

    report.record(guest, "alive", check_alive(guest));
}

/// Count CR3 writes while `tvmi-domu again` runs in another thread; clear; check none stay.
fn cr3_events(vmi: &mut Vmi, guest: &str) -> Outcome {
    let count = Arc::new(AtomicU64::new(0));
    let values = Arc::new(Mutex::new(BTreeSet::new()));
    let (c, v) = (Arc::clone(&count), Arc::clone(&values));
    vmi.register_event(
        EventSpec::register(Register::CR3, RegAccess::W),
        move |_vmi, event| {
            if let EventInfo::Register { value, .. } = event.info() {
                c.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut set) = v.lock() {
                    set.insert(value & CR3_BASE_MASK);
                }
            }
            Response::NONE
        },
    )
    .map_err(|e| format!("register CR3 event: {e}"))?;

    // Make the guest work. First the console command of the harness: the guest's init shell
    // prints a ground truth (shell builtins only: no new process, so possibly no address
    // space switch). If that brings no CR3 write, checkpoint the domain with `xl save -c`:
    // suspending freezes every user task (each is woken and scheduled: its page table is
    // loaded) and resuming thaws them again; the domain keeps running.
    let done = Arc::new(AtomicBool::new(false));
    let trigger = {
        let (done, count, guest) = (Arc::clone(&done), Arc::clone(&count), guest.to_owned());
        std::thread::spawn(move || {
            let mut steps = Vec::new();
            let again = gt_again(&guest);
            std::thread::sleep(Duration::from_secs(1));
            let n = count.load(Ordering::Relaxed);
            steps.push(match again {
                Ok(g) => format!("`tvmi-domu again` (ground truth {g}): {n} CR3 writes"),
                Err(e) => format!("`tvmi-domu again` failed: {e}"),
            });
            if n == 0 {
                let file = format!("/tmp/xen-check-{guest}.save");
                let t = Instant::now();
                let saved = run("xl", &["save", "-c", &guest, &file]);
                let _ = std::fs::remove_file(&file);
                std::thread::sleep(Duration::from_secs(1));
                let total = count.load(Ordering::Relaxed);
                steps.push(match saved {
                    Ok(_) => format!(
                        "then `xl save -c` (checkpoint, {:.1} s): {} more",
                        t.elapsed().as_secs_f64(),
                        total - n
                    ),
                    Err(e) => format!("then `xl save -c` failed: {e}"),
                });
            }
            done.store(true, Ordering::Relaxed);
            steps
        })
    };
    let t = Instant::now();
    let deadline = t + Duration::from_secs(240);
    let listened = vmi.listen_while(Duration::from_millis(200), || {
        !done.load(Ordering::Relaxed) && Instant::now() < deadline
    });
    let listen_time = t.elapsed();
    // Deliver nothing more: the trigger may still be waiting if the deadline hit.
    let triggers = trigger.join().map_err(|_| "trigger thread panicked")?;
    listened.map_err(|e| format!("listen loop: {e}"))?;
    if vmi.registered_events() != 0 {
        return Err(format!(
            "{} event(s) still registered after listen_while",
            vmi.registered_events()
        ));
    }
    let n = count.load(Ordering::Relaxed);
    let distinct = values.lock().map(|s| s.len()).unwrap_or(0);
    let steps = triggers.join("; ");
    if n == 0 {
        return Err(format!(
            "no CR3 write in {:.1} s: {steps}",
            listen_time.as_secs_f64()
        ));
    }
    Ok(format!(
        "{n} CR3 writes ({distinct} distinct bases) delivered to the closure in {:.1} s ({steps}); cleared, listen loop left cleanly",
        listen_time.as_secs_f64()
    ))
}

/// Register `spec`: a clean failure (an [`Error`] naming the operation) or a success that
/// clears again both pass; what happened is reported.
fn clean_registration(vmi: &mut Vmi, spec: EventSpec, what: &str) -> Outcome {
    let kind = spec.event_type();
    match vmi.register_event(spec, |_vmi, _event| Response::NONE) {
        Err(e) => {
            let msg = e.to_string();
            if matches!(e, Error::Failed { op } if msg.contains(op)) && msg.contains("register") {
                if vmi.registered_events() != 0 {
                    return Err(format!("failed ({msg}) but an event stays registered"));
                }
                Ok(format!(
                    "{kind} event ({what}) not available here, clean error: Error::Failed \"{msg}\" (Xen implements it on Intel VMX only; QEMU TCG emulates AMD SVM)"
                ))
            } else {
                Err(format!("unexpected error {e:?}: {msg}"))
            }
        }
        Ok(id) => {
            vmi.listen(Duration::from_millis(200))
                .map_err(|e| format!("registered, then listen failed: {e}"))?;
            vmi.clear_event(id)
                .map_err(|e| format!("registered, then clearing failed: {e}"))?;
            Ok(format!(
                "{kind} event ({what}) registered, listened and cleared"
            ))
        }
    }
}

/// The guest still runs and answers on its console.
fn check_alive(guest: &str) -> Outcome {
    let state = xl_state(guest)?;
    if !(state.contains('r') || state.contains('b'))
        || state.contains('p')
        || state.contains('c')
        || state.contains('d')
    {
        return Err(format!("xl list state {state}"));
    }
    let n = gt_again(guest)?;
    Ok(format!(
        "xl list state {state}; the guest printed ground truth {n} on request"
    ))
}

/// The `vmi` tool, if it is in `PATH`.
fn vmi_cli() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("vmi"))
        .find(|p| p.is_file())
}

/// Run `vmi --domain <guest> ARGS`: its stdout, or why it failed (exit status and stderr).
fn run_cli(cli: &std::path::Path, guest: &str, args: &[&str]) -> Result<String, String> {
    let mut all = vec!["--domain", guest];
    all.extend_from_slice(args);
    run(&cli.to_string_lossy(), &all)
}

/// `vmi ps --json` equals the ground truth.
fn cli_ps(cli: &std::path::Path, guest: &str) -> Outcome {
    let mut last_err = String::new();
    for attempt in 1..=3 {
        let before = GroundTruth::fetch(guest, &gt_last(guest)?)?;
        let out = run_cli(cli, guest, &["ps", "--json"])?;
        let after = GroundTruth::fetch(guest, &gt_again(guest)?)?;
        let rows: Vec<serde_json::Value> = serde_json::from_str(&out)
            .map_err(|e| format!("ps --json is not JSON ({e}): {out}"))?;
        let got: BTreeSet<(i32, String)> = rows
            .iter()
            .filter_map(|r| Some((r["pid"].as_i64()? as i32, r["name"].as_str()?.to_owned())))
            .collect();
        if got.len() != rows.len() {
            return Err(format!("rows without pid and name, or listed twice: {out}"));
        }
        if got == before.procs || got == after.procs {
            return Ok(format!(
                "{} processes = ground truth (attempt {attempt})",
                rows.len()
            ));
        }
        let missing: Vec<_> = after.procs.difference(&got).collect();
        let extra: Vec<_> = got.difference(&after.procs).collect();
        last_err = format!("missing {missing:?}, unexpected {extra:?}");
    }
    Err(format!("differs from the ground truth 3 times: {last_err}"))
}

/// `vmi modules --json` equals `/proc/modules`, in order.
fn cli_modules(cli: &std::path::Path, guest: &str) -> Outcome {
    let truth = GroundTruth::fetch(guest, &gt_last(guest)?)?;
    let out = run_cli(cli, guest, &["modules", "--json"])?;
    let rows: Vec<serde_json::Value> = serde_json::from_str(&out)
        .map_err(|e| format!("modules --json is not JSON ({e}): {out}"))?;
    let got: Vec<String> = rows
        .iter()
        .map(|r| r["name"].as_str().unwrap_or("<no name>").to_owned())
        .collect();
    if got != truth.modules {
        return Err(format!(
            "vmi {got:?}, guest /proc/modules {:?}",
            truth.modules
        ));
    }
    Ok(format!("{} modules = ground truth, in order", got.len()))
}

/// `vmi watch --cr3 --seconds 20 --json` reports CR3 writes and exits 0 while the guest
/// works. (Time-limited rather than `--count`: the tool must not leave in the middle of the
/// `xl save -c` that makes the guest work.)
fn cli_watch(cli: &std::path::Path, guest: &str) -> Outcome {
    let mut child = Command::new(cli)
        .args([
            "--domain",
            guest,
            "watch",
            "--cr3",
            "--seconds",
            "20",
            "--json",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", cli.display()))?;
    let t = Instant::now();
    let mut steps = Vec::new();
    // Give it time to register, then make the guest work, as cr3-events does.
    std::thread::sleep(Duration::from_secs(3));
    let poll = |child: &mut std::process::Child| child.try_wait().ok().flatten();
    let mut status = poll(&mut child);
    if status.is_none() {
        steps.push(match gt_again(guest) {
            Ok(_) => "`tvmi-domu again`".to_owned(),
            Err(e) => format!("`tvmi-domu again` failed: {e}"),
        });
        std::thread::sleep(Duration::from_secs(2));
        status = poll(&mut child);
    }
    if status.is_none() {
        let file = format!("/tmp/xen-check-cli-{guest}.save");
        let saved = run("xl", &["save", "-c", guest, &file]);
        let _ = std::fs::remove_file(&file);
        steps.push(match saved {
            Ok(_) => "`xl save -c`".to_owned(),
            Err(e) => format!("`xl save -c` failed: {e}"),
        });
    }
    let deadline = t + Duration::from_secs(120);
    let status = loop {
        if let Some(s) = poll(&mut child) {
            break Some(s);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let out = child
        .wait_with_output()
        .map_err(|e| format!("vmi watch: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let Some(status) = status else {
        return Err(format!(
            "still running after 120 s ({}); output so far: {stdout} {stderr}",
            steps.join(", ")
        ));
    };
    if !status.success() {
        return Err(format!(
            "exit {status} ({}): {}",
            steps.join(", "),
            stderr.trim()
        ));
    }
    let events: Vec<serde_json::Value> = stdout
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("not JSON lines ({e}): {stdout}"))?;
    let cr3 = events
        .iter()
        .filter(|e| e["type"] == "register" && e["register"] == "CR3")
        .count();
    if cr3 < 3 || cr3 != events.len() {
        return Err(format!(
            "expected at least 3 CR3-write events only, got: {stdout}"
        ));
    }
    Ok(format!(
        "{cr3} CR3 writes as JSON lines, exit 0, in {:.1} s (triggers: {})",
        t.elapsed().as_secs_f64(),
        if steps.is_empty() {
            "none needed".to_owned()
        } else {
            steps.join(", ")
        }
    ))
}
