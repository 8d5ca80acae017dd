//! Every read, write and translate path against real Linux guest memory images
//! (`ci/guest-images/build`), compared with the guest's own ground truth.
//!
//! Needs an image set: see `tests/common/mod.rs` (env `TINYVMI_IMAGES`, else the newest set
//! in the cache). Without one every test here fails, saying how to build it.

mod common;

use common::Variant;
use libvmi::events::{EventSpec, Response};
use libvmi::{
    AccessContext, Config, Dtb, Error, InitError, Mode, OsType, Pa, PageMode, Pid, Register,
    Translation, Va, Vmi,
};
use std::collections::BTreeSet;
use std::io::{Read, Seek, SeekFrom};

/// A fully initialised instance (config map with kpgd: no page-table search).
fn open(v: &Variant) -> Vmi {
    Vmi::file(&v.image)
        .config(Config::Map(v.config_map(true)))
        .init()
        .unwrap_or_else(|e| panic!("{}: {e}", v.name))
}

fn marker(v: &Variant, kind: &str) -> (Pid, Va, Pa, String) {
    let m = v.truth["markers"]
        .arr()
        .iter()
        .find(|m| m["kind"].str() == kind)
        .unwrap_or_else(|| panic!("no {kind} marker"));
    (
        Pid(m["pid"].int() as i32),
        Va(m["vaddr"].hex()),
        Pa(m["paddr"].hex()),
        m["text"].str().to_owned(),
    )
}

#[test]
fn init_with_every_config_route() {
    for v in Variant::all() {
        // A libvmi.conf file (the entry is named after the image's file name). The set's own
        // .conf files hold absolute paths to where it was built, so use its text with our
        // System.map path.
        let sysmap_line = format!("    sysmap = \"{}\";", v.dir.join("System.map").display());
        let relocate = |text: String| -> String {
            text.lines()
                .map(|l| {
                    if l.trim_start().starts_with("sysmap") {
                        sysmap_line.clone()
                    } else {
                        l.to_owned()
                    }
                })
                .collect::<Vec<_>>()
                .join("\n")
                + "\n"
        };
        let tmp = tempfile::tempdir().unwrap();
        let conf = tmp.path().join("libvmi.conf");
        std::fs::write(
            &conf,
            relocate(std::fs::read_to_string(v.dir.join("libvmi.conf")).unwrap()),
        )
        .unwrap();
        let vmi = Vmi::file(&v.image)
            .config(Config::File(conf.clone()))
            .init()
            .unwrap_or_else(|e| panic!("{} file config: {e}", v.name));
        assert_eq!(vmi.os_type(), OsType::Linux);
        // LibVMI found the KASLR offset and the kernel page table itself
        assert_eq!(vmi.offset("linux_kaslr").unwrap(), v.hex("kaslr_offset").0);
        assert_eq!(vmi.get_vcpureg(Register::CR3, 0).unwrap(), v.hex("kpgd").0);
        drop(vmi);

        // The same written by ConfigMap::render_entry
        let name = v.image.file_name().unwrap().to_str().unwrap();
        std::fs::write(&conf, v.config_map(true).render_entry(name).unwrap()).unwrap();
        let vmi = Vmi::file(&v.image)
            .config(Config::File(conf))
            .init()
            .unwrap();
        assert_eq!(vmi.os_type(), OsType::Linux);
        drop(vmi);

        // The body of libvmi-kpgd.conf as a string
        let text = relocate(std::fs::read_to_string(v.dir.join("libvmi-kpgd.conf")).unwrap());
        let body = &text[text.find('{').unwrap()..];
        let vmi = Vmi::file(&v.image)
            .config(Config::String(body.into()))
            .init()
            .unwrap_or_else(|e| panic!("{} string config: {e}", v.name));
        assert_eq!(vmi.page_mode(0), PageMode::Ia32e);
        drop(vmi);

        // a key/value map, without kpgd (LibVMI searches) and with it
        for kpgd in [false, true] {
            let vmi = Vmi::file(&v.image)
                .config(Config::Map(v.config_map(kpgd)))
                .init()
                .unwrap_or_else(|e| panic!("{} map config (kpgd {kpgd}): {e}", v.name));
            assert_eq!(vmi.offset("linux_kaslr").unwrap(), v.hex("kaslr_offset").0);
            assert_eq!(
                vmi.extra_offset("linux_thread_group"),
                Some(v.other_offset("task_struct.thread_group"))
            );
        }
    }
}

#[test]
fn init_failures_are_clean_and_say_why() {
    let v = Variant::load("nokaslr");
    // No such image
    let e = Vmi::file(v.dir.join("no-such.raw")).init().unwrap_err();
    assert!(
        matches!(
            e,
            Error::Init {
                mode: Mode::File,
                ..
            }
        ),
        "{e}"
    );
    // A config string LibVMI's parser would choke on is refused before it sees it (a
    // syntax error would break every later parse in the process)...
    let e = Vmi::file(&v.image)
        .config(Config::String("garbage { ostype = \"Linux\"; }".into()))
        .init()
        .unwrap_err();
    assert!(matches!(e, Error::Config { .. }), "{e}");
    let e = Vmi::file(&v.image)
        .config(Config::String("{ ostype = Linux; }".into()))
        .init()
        .unwrap_err();
    assert!(matches!(e, Error::Config { .. }), "{e}");
    // ...so parsing still works afterwards
    assert!(Vmi::file(&v.image)
        .config(Config::Map(v.config_map(true)))
        .init()
        .is_ok());
    // A config file without an entry for this image
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path().join("libvmi.conf");
    std::fs::write(&conf, "other.raw { ostype = \"Linux\"; }\n").unwrap();
    let e = Vmi::file(&v.image)
        .config(Config::File(conf))
        .init()
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Init {
                reason: InitError::NoConfig | InitError::NoConfigEntry,
                ..
            }
        ),
        "{e}"
    );
    // Wrong offsets: OS init fails (no kernel page table found or System.map unreadable)
    let mut map = v.config_map(false);
    map.set("sysmap", "/nonexistent/System.map");
    let e = Vmi::file(&v.image)
        .config(Config::Map(map))
        .init()
        .unwrap_err();
    assert!(matches!(e, Error::Init { .. }), "{e}");
    // JSON profile that does not exist
    let e = Vmi::file(&v.image)
        .config(Config::JsonProfile("/nonexistent/profile.json".into()))
        .init()
        .unwrap_err();
    assert!(matches!(e, Error::Init { .. }), "{e}");
    // An unrepresentable config value is refused before LibVMI sees it
    let map = v.config_map(false).with("ostype", "Linux\"; kpgd = 0; \"");
    let e = Vmi::file(&v.image)
        .config(Config::Map(map))
        .init()
        .unwrap_err();
    assert!(
        matches!(e, Error::Config { key: Some(ref k), .. } if k == "ostype"),
        "{e}"
    );
}

#[test]
fn partial_init_driver_then_paging_then_os() {
    let v = Variant::load("kaslr");
    let mut vmi = Vmi::file(&v.image).init_driver().unwrap();
    // physical memory works at once
    let (_, _, paddr, text) = marker(&v, "data");
    let mut buf = vec![0u8; text.len()];
    vmi.read_pa(paddr, &mut buf).unwrap();
    assert_eq!(buf, text.as_bytes());
    assert_eq!(vmi.memory_size(), v.truth["memory_size"].int() as u64);
    // OS-level calls are refused until the OS is initialised
    assert!(matches!(
        vmi.translate_ksym2v("init_task"),
        Err(Error::Unsupported { .. })
    ));
    assert!(matches!(
        vmi.pid_to_dtb(Pid(1)),
        Err(Error::Unsupported { .. })
    ));
    // File mode has no vCPU state before the OS init found the kernel page table: paging
    // initialisation fails cleanly...
    let paging = vmi.init_paging(false);
    assert!(
        matches!(
            paging,
            Err(Error::Init {
                reason: InitError::Paging,
                ..
            }) | Ok(_)
        ),
        "{paging:?}"
    );
    // ...and OS initialisation sets paging up itself.
    assert_eq!(
        vmi.init_os(Config::Map(v.config_map(true))).unwrap(),
        OsType::Linux
    );
    assert_eq!(vmi.page_mode(0), PageMode::Ia32e);
    assert_eq!(
        vmi.translate_ksym2v("init_task").unwrap(),
        v.symbol("init_task")
    );
}

#[test]
fn guest_facts() {
    for v in Variant::all() {
        let vmi = open(&v);
        assert_eq!(vmi.mode(), Mode::File);
        assert_eq!(vmi.os_type(), OsType::Linux);
        assert_eq!(vmi.page_mode(0), PageMode::Ia32e);
        assert_eq!(vmi.address_width(), 8);
        assert_eq!(vmi.memory_size(), v.truth["memory_size"].int() as u64);
        assert_eq!(vmi.max_physical_address(), Pa(vmi.memory_size()));
        assert!(vmi.vcpu_count() <= 1);
        assert_eq!(vmi.os_version().unwrap(), v.truth["banner"].str());
        assert_eq!(
            vmi.linux().unwrap().banner().unwrap(),
            v.truth["banner"].str()
        );
        assert_eq!(vmi.name().unwrap(), v.image.to_string_lossy());
        assert_eq!(vmi.vmid(), None);
        assert_eq!(vmi.offset("linux_tasks").unwrap(), v.offset("linux_tasks"));
        assert!(matches!(
            vmi.offset("no_such_offset"),
            Err(Error::Offset { .. })
        ));
        // registers: File mode knows CR3 (the kernel page table) only
        assert_eq!(vmi.get_vcpureg(Register::CR3, 0).unwrap(), v.hex("kpgd").0);
        let e = vmi.get_vcpureg(Register::RIP, 0).unwrap_err();
        assert_eq!(e.to_string(), "cannot read register RIP of vCPU 0");
        assert!(vmi.set_vcpureg(Register::RAX, 0, 1).is_err());
        assert!(vmi.get_x86_registers(0).is_err());
    }
}

#[test]
fn kernel_symbols_both_ways() {
    for v in Variant::all() {
        let vmi = open(&v);
        let common::Json::Obj(symbols) = &v.truth["symbols"] else {
            panic!("symbols")
        };
        assert!(symbols.len() >= 10);
        for (name, addr) in symbols {
            let va = vmi
                .translate_ksym2v(name)
                .unwrap_or_else(|e| panic!("{}: {e}", v.name));
            assert_eq!(va, Va(addr.hex()), "{} {name}", v.name);
        }
        assert_eq!(
            vmi.translate_v2ksym(v.symbol("init_task")).unwrap(),
            "init_task"
        );
        let e = vmi.translate_ksym2v("tinyvmi_no_such_symbol").unwrap_err();
        assert_eq!(
            e.to_string(),
            "kernel symbol `tinyvmi_no_such_symbol` not found"
        );
        assert!(matches!(
            vmi.translate_ksym2v("bad\0name"),
            Err(Error::InvalidArgument { .. })
        ));
        // kernel v2p: _text is at kernel_text_paddr; through the kernel page table too
        let text_pa = v.hex("kernel_text_paddr");
        assert_eq!(vmi.translate_kv2p(v.symbol("_text")).unwrap(), text_pa);
        let kdtb = Dtb(v.hex("kpgd").0);
        assert_eq!(
            vmi.pagetable_lookup(kdtb, v.symbol("_text")).unwrap(),
            text_pa
        );
        assert_eq!(vmi.pid_to_dtb(Pid::KERNEL).unwrap(), kdtb);
        assert_eq!(
            vmi.translate(AccessContext::kernel(v.symbol("_text")))
                .unwrap(),
            text_pa
        );
        // unmapped kernel address
        let e = vmi.translate_kv2p(Va(0xffff_ffff_ffff_0000)).unwrap_err();
        assert!(
            matches!(
                e,
                Error::Translate {
                    via: Translation::Kernel,
                    ..
                }
            ),
            "{e}"
        );
    }
}

#[test]
fn reads_of_every_width_agree() {
    for v in Variant::all() {
        let vmi = open(&v);
        let text_va = v.symbol("_text");
        let text_pa = v.hex("kernel_text_paddr");
        let mut by_va = [0u8; 64];
        let mut by_pa = [0u8; 64];
        vmi.read_va(text_va, Pid::KERNEL, &mut by_va).unwrap();
        vmi.read_pa(text_pa, &mut by_pa).unwrap();
        assert_eq!(by_va, by_pa);
        let mut by_sym = [0u8; 64];
        vmi.read_ksym("_text", &mut by_sym).unwrap();
        assert_eq!(by_sym, by_pa);
        let ctx = AccessContext::physical(text_pa);
        assert_eq!(vmi.read_u8(ctx).unwrap(), by_pa[0]);
        assert_eq!(
            vmi.read_u16(ctx).unwrap(),
            u16::from_le_bytes([by_pa[0], by_pa[1]])
        );
        assert_eq!(
            vmi.read_u32(ctx).unwrap(),
            u32::from_le_bytes(by_pa[..4].try_into().unwrap())
        );
        let q = u64::from_le_bytes(by_pa[..8].try_into().unwrap());
        assert_eq!(vmi.read_u64(ctx).unwrap(), q);
        assert_eq!(vmi.read_addr(ctx).unwrap(), q);
        assert_eq!(vmi.read_u64_ksym("_text").unwrap(), q);
        assert_eq!(vmi.read_addr_ksym("_text").unwrap(), q);

        // init_task: pid 0, comm "swapper/0", through each translation
        let init = v.symbol("init_task");
        let pid_ctx = AccessContext::kernel(init + v.offset("linux_pid"));
        assert_eq!(vmi.read_u32(pid_ctx).unwrap(), 0);
        let comm = init + v.offset("linux_name");
        assert_eq!(
            vmi.read_cstring(AccessContext::kernel(comm), 16).unwrap(),
            "swapper/0"
        );
        assert_eq!(
            vmi.read_cstring_va(comm, Pid::KERNEL, 16).unwrap(),
            "swapper/0"
        );
        let comm_pa = vmi.translate_kv2p(comm).unwrap();
        assert_eq!(vmi.read_cstring_pa(comm_pa, 16).unwrap(), "swapper/0");
        let kdtb = Dtb(v.hex("kpgd").0);
        let mut buf = [0u8; 16];
        assert_eq!(
            vmi.read_cstr_into(AccessContext::dtb(comm, kdtb), &mut buf)
                .unwrap(),
            b"swapper/0"
        );
        // a too-small buffer is an error, not a truncated string
        let mut small = [0u8; 4];
        assert!(matches!(
            vmi.read_cstr_into(AccessContext::kernel(comm), &mut small),
            Err(Error::GuestData { .. })
        ));
        // the banner via its symbol
        let banner = vmi.read_cstring_ksym("linux_banner", 1024).unwrap();
        assert_eq!(banner.trim_end(), v.truth["banner"].str());
    }
}

#[test]
fn read_errors_name_the_address() {
    let v = Variant::load("nokaslr");
    let vmi = open(&v);
    let size = vmi.memory_size();
    // past the end of physical memory
    let mut buf = [0u8; 16];
    let e = vmi.read_pa(Pa(size + 0x1000), &mut buf).unwrap_err();
    assert!(
        matches!(e, Error::Read { ctx: AccessContext::Physical(Pa(a)), len: 16, done: 0 } if a == size + 0x1000),
        "{e}"
    );
    // straddling the end: a partial read says how much it got
    let mut buf = [0u8; 32];
    let ctx = AccessContext::physical(Pa(size - 16));
    assert_eq!(vmi.read_partial(ctx, &mut buf).unwrap(), 16);
    assert!(matches!(
        vmi.read(ctx, &mut buf),
        Err(Error::Read { done: 16, .. })
    ));
    // unmapped user address of a real process
    let (pid, _, _, _) = marker(&v, "data");
    let e = vmi.read_va(Va(0x1000), pid, &mut buf).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "cannot read 32 bytes at virtual address 0x1000 (page table of pid {pid}): not mapped or outside guest memory"
        )
    );
    // unknown pid, negative pid
    assert!(matches!(
        vmi.pid_to_dtb(Pid(999_999)),
        Err(Error::Pid { pid: Pid(999_999) })
    ));
    assert!(matches!(
        vmi.read_va(Va(0x1000), Pid(-5), &mut buf),
        Err(Error::Pid { pid: Pid(-5) })
    ));
    assert!(matches!(
        vmi.translate_uv2p(Va(0x1000), pid),
        Err(Error::Translate { via: Translation::Pid(p), .. }) if p == pid
    ));
    assert!(matches!(
        vmi.dtb_to_pid(Dtb(0x1000)),
        Err(Error::Dtb { .. })
    ));
}

#[test]
fn user_space_markers_through_every_path() {
    for v in Variant::all() {
        let vmi = open(&v);
        let marker_pid = Pid(v.truth["marker_pid"].int() as i32);
        let dtb = vmi.pid_to_dtb(marker_pid).unwrap();
        assert_eq!(vmi.dtb_to_pid(dtb).unwrap(), marker_pid);
        let pages = vmi.va_pages(dtb).unwrap();
        assert!(!pages.is_empty());
        for kind in ["data", "heap", "stack", "argv", "env"] {
            let (pid, va, pa, text) = marker(&v, kind);
            assert_eq!(pid, marker_pid);
            let what = format!("{} {kind} marker", v.name);
            // translations
            assert_eq!(vmi.translate_uv2p(va, pid).unwrap(), pa, "{what}");
            assert_eq!(vmi.pagetable_lookup(dtb, va).unwrap(), pa, "{what}");
            assert_eq!(
                vmi.translate(AccessContext::dtb(va, dtb)).unwrap(),
                pa,
                "{what}"
            );
            let info = vmi.pagetable_lookup_extended(dtb, va).unwrap();
            assert_eq!(info.pa, pa, "{what}");
            assert_eq!(info.dtb, dtb);
            assert_eq!(info.page_mode, PageMode::Ia32e);
            assert!(info.size >= 4096);
            // the page list has the marker's page
            let page = pages
                .iter()
                .find(|p| p.pa_of(va).is_some())
                .unwrap_or_else(|| panic!("{what}: page not in va_pages"));
            assert_eq!(page.pa_of(va), Some(pa), "{what}");
            // reads: by pid, by dtb, physical, as a C string, through ProcessMemory
            let mut buf = vec![0u8; text.len()];
            vmi.read_va(va, pid, &mut buf).unwrap();
            assert_eq!(buf, text.as_bytes(), "{what}");
            buf.fill(0);
            vmi.read(AccessContext::dtb(va, dtb), &mut buf).unwrap();
            assert_eq!(buf, text.as_bytes(), "{what}");
            buf.fill(0);
            vmi.read_pa(pa, &mut buf).unwrap();
            assert_eq!(buf, text.as_bytes(), "{what}");
            assert_eq!(vmi.read_cstring_va(va, pid, 256).unwrap(), text, "{what}");
            let mut mem = vmi.process_memory(pid).unwrap();
            assert_eq!(mem.seek(SeekFrom::Start(va.0)).unwrap(), va.0);
            buf.fill(0);
            mem.read_exact(&mut buf).unwrap();
            assert_eq!(buf, text.as_bytes(), "{what}");
            assert_eq!(mem.position(), va + text.len() as u64);
            mem.seek(SeekFrom::Current(-(text.len() as i64))).unwrap();
            assert_eq!(mem.read_cstring_at(va, 256).unwrap(), text);
        }
        // ProcessMemory: a read at an unmapped address is an error naming it
        let mut mem = vmi.process_memory(marker_pid).unwrap();
        mem.seek(SeekFrom::Start(0x1000)).unwrap();
        let mut b = [0u8; 8];
        let e = mem.read(&mut b).unwrap_err();
        let inner = e.get_ref().unwrap().downcast_ref::<Error>().unwrap();
        assert!(matches!(inner, Error::Read { .. }), "{inner}");
        // The ELF header at the start of the marker's executable, via its symbols API:
        // the lowest mapped page of a static binary.
        let first = pages
            .iter()
            .filter(|p| p.va.0 < 0x8000_0000_0000)
            .min_by_key(|p| p.va)
            .unwrap();
        mem.seek(SeekFrom::Start(first.va.0)).unwrap();
        let mut magic = [0u8; 4];
        mem.read_exact(&mut magic).unwrap();
        assert_eq!(&magic, b"\x7fELF");
    }
}

#[test]
fn process_list_matches_ground_truth() {
    for v in Variant::all() {
        let vmi = open(&v);
        let linux = vmi.linux().unwrap();
        let procs: Vec<_> = linux.processes().collect::<Result<_, _>>().unwrap();
        // idle task first, at init_task
        assert_eq!(procs[0].pid, Pid(0));
        assert_eq!(procs[0].name, "swapper/0");
        assert_eq!(procs[0].task, v.symbol("init_task"));
        assert_eq!(procs[0].dtb, None);
        // then every process of /proc, in pid order (task-list order)
        let ours: Vec<(i32, String)> = procs[1..]
            .iter()
            .map(|p| (p.pid.0, p.name.clone()))
            .collect();
        let truth: Vec<(i32, String)> = v.truth["processes"]
            .arr()
            .iter()
            .map(|p| (p["pid"].int() as i32, p["name"].str().to_owned()))
            .collect();
        assert_eq!(ours, truth, "{}", v.name);
        // page tables: user processes have one (LibVMI agrees), kernel threads none
        for (p, t) in procs[1..].iter().zip(v.truth["processes"].arr()) {
            if t["kernel_thread"].bool() {
                assert_eq!(p.dtb, None, "{} {}", v.name, p.name);
            } else {
                let dtb = p.dtb.unwrap_or_else(|| panic!("{}: no dtb", p.name));
                assert_eq!(vmi.pid_to_dtb(p.pid).unwrap(), dtb, "{}", p.name);
                assert_eq!(vmi.dtb_to_pid(dtb).unwrap(), p.pid);
            }
        }
        assert_eq!(linux.process(Pid(1)).unwrap().name, truth[0].1);
        assert!(matches!(
            linux.process(Pid(999_999)),
            Err(Error::Pid { .. })
        ));
    }
}

#[test]
fn threads_match_ground_truth() {
    for v in Variant::all() {
        let vmi = open(&v);
        let linux = vmi.linux().unwrap();
        for (p, t) in linux
            .processes()
            .skip(1)
            .map(Result::unwrap)
            .zip(v.truth["processes"].arr())
        {
            let mut ours: Vec<(i32, String)> = linux
                .threads(&p)
                .unwrap()
                .map(|t| t.map(|t| (t.tid.0, t.name)))
                .collect::<Result<_, _>>()
                .unwrap();
            assert_eq!(ours[0].0, p.pid.0, "leader first");
            ours.sort();
            let truth: Vec<(i32, String)> = t["threads"]
                .arr()
                .iter()
                .map(|t| (t["tid"].int() as i32, t["name"].str().to_owned()))
                .collect();
            assert_eq!(ours, truth, "{} pid {}", v.name, p.pid);
        }
        // the multi-threaded marker
        let marker = linux
            .process(Pid(v.truth["marker_pid"].int() as i32))
            .unwrap();
        let names: BTreeSet<String> = linux
            .threads(&marker)
            .unwrap()
            .map(|t| t.unwrap().name)
            .collect();
        assert!(
            names.contains("tvmi-worker-a") && names.contains("tvmi-worker-b"),
            "{names:?}"
        );
    }
}

#[test]
fn threads_need_the_thread_group_offset() {
    let v = Variant::load("nokaslr");
    let mut map = v.config_map(true);
    map.remove("linux_thread_group");
    let vmi = Vmi::file(&v.image).config(Config::Map(map)).init().unwrap();
    let linux = vmi.linux().unwrap();
    let init = linux.process(Pid(1)).unwrap();
    let e = linux.threads(&init).err().unwrap();
    assert!(
        matches!(e, Error::Offset { ref name } if name == "linux_thread_group"),
        "{e}"
    );
    let linux = linux.with_thread_group_offset(v.other_offset("task_struct.thread_group"));
    assert_eq!(linux.threads(&init).unwrap().count(), 1);
}

#[test]
fn module_list_matches_ground_truth() {
    for v in Variant::all() {
        let vmi = open(&v);
        let linux = vmi.linux().unwrap();
        let ours: Vec<String> = linux.modules().map(|m| m.unwrap().name).collect();
        let truth: Vec<String> = v.truth["modules"]
            .arr()
            .iter()
            .map(|m| m["name"].str().to_owned())
            .collect();
        assert_eq!(ours, truth, "{}", v.name);
        // the defaults (upstream module-list's layout) agree with the BTF offsets
        let mut map = v.config_map(true);
        map.remove("linux_module_list");
        map.remove("linux_module_name");
        let plain = Vmi::file(&v.image).config(Config::Map(map)).init().unwrap();
        let linux = plain.linux().unwrap();
        assert_eq!(linux.offsets().module_list, v.other_offset("module.list"));
        assert_eq!(linux.offsets().module_name, v.other_offset("module.name"));
        let again: Vec<String> = linux.modules().map(|m| m.unwrap().name).collect();
        assert_eq!(again, truth);
    }
}

#[test]
fn hostile_offsets_end_in_errors_not_hangs() {
    let v = Variant::load("nokaslr");
    let vmi = open(&v);
    let linux = vmi.linux().unwrap();
    let init = linux.process(Pid(1)).unwrap();
    // thread_group pointing at comm: the "list" is ASCII, not pointers
    let bad = linux.with_thread_group_offset(v.offset("linux_name"));
    let r: Result<Vec<_>, _> = bad.threads(&init).unwrap().collect();
    assert!(r.is_err(), "{r:?}");
    // thread_group pointing at the tasks list: a list that never returns to this head
    let loops = linux.with_thread_group_offset(v.offset("linux_tasks") + 8);
    let r: Result<Vec<_>, _> = loops.threads(&init).unwrap().collect();
    match r {
        Err(Error::GuestData { .. } | Error::Read { .. } | Error::Translate { .. }) => {}
        other => panic!("expected a bounded failure, got {other:?}"),
    }
    // a bogus tasks offset: the walk ends in an error, not a hang or a made-up list
    let mut off = *linux.offsets();
    off.tasks = v.offset("linux_name");
    let r: Result<Vec<_>, _> = linux.with_offsets(off).processes().collect();
    assert!(
        r.is_err(),
        "a wrong tasks offset walked successfully: {r:?}"
    );
    off.tasks = v.offset("linux_tasks") + 8; // tasks.prev: walks the list backwards...
    let backwards: Vec<_> = linux.with_offsets(off).processes().take(3).collect();
    assert!(backwards.iter().any(Result::is_err) || backwards.len() <= 3);
}

/// A fresh copy of an image with an instance on it (writes change the file in place).
fn open_copy(v: &Variant) -> (tempfile::TempDir, std::path::PathBuf, Vmi) {
    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path().join(v.truth["image"].str());
    std::fs::copy(&v.image, &copy).unwrap();
    let mut map = v.config_map(true);
    map.set("sysmap", v.dir.join("System.map"));
    let vmi = Vmi::file(&copy).config(Config::Map(map)).init().unwrap();
    (tmp, copy, vmi)
}

fn file_bytes(path: &std::path::Path, at: u64, len: usize) -> Vec<u8> {
    let mut f = std::fs::File::open(path).unwrap();
    f.seek(SeekFrom::Start(at)).unwrap();
    let mut buf = vec![0; len];
    f.read_exact(&mut buf).unwrap();
    buf
}

/// Every write path, on a copy of each image (File-mode writes come from
/// `libvmi-sys/csrc/file_write.c`): what is written is read back through LibVMI (whose page
/// cache must not serve the old bytes), lands in the file at the guest's own physical
/// address, and a virtual write that crosses pages lands in each page.
#[test]
fn writes_on_a_copy_land_in_the_image() {
    for v in Variant::all() {
        let (_tmp, copy, vmi) = open_copy(&v);
        let (pid, va, pa, text) = marker(&v, "heap");
        assert!(
            text.len() >= 24 && (va.0 & 0xfff) + 24 <= 0x1000,
            "the heap marker must hold 24 bytes in one page for the checks on disk"
        );
        // Warm the page cache first: the write must invalidate it.
        assert_eq!(vmi.read_cstring_va(va, pid, 256).unwrap(), text);

        vmi.write_pa(pa, b"P").unwrap();
        assert_eq!(vmi.read_u8(AccessContext::physical(pa)).unwrap(), b'P');
        vmi.write_va(Va(va.0 + 1), pid, b"VV").unwrap();
        let mut expect = text.clone().into_bytes();
        expect[..3].copy_from_slice(b"PVV");
        let mut back = vec![0; expect.len()];
        vmi.read_va(va, pid, &mut back).unwrap();
        assert_eq!(back, expect, "{}: read back through LibVMI", v.name);
        assert_eq!(file_bytes(&copy, pa.0, 3), b"PVV", "{}: on disk", v.name);

        // Typed writes, read back typed, little-endian on disk.
        let ctx = AccessContext::pid(Va(va.0 + 8), pid);
        vmi.write_u16(ctx, 0xbeef).unwrap();
        assert_eq!(vmi.read_u16(ctx).unwrap(), 0xbeef);
        vmi.write_u32(ctx, 0xdead_beef).unwrap();
        assert_eq!(vmi.read_u32(ctx).unwrap(), 0xdead_beef);
        vmi.write_u64(ctx, 0x0123_4567_89ab_cdef).unwrap();
        assert_eq!(vmi.read_u64(ctx).unwrap(), 0x0123_4567_89ab_cdef);
        vmi.write_addr(ctx, 0xffff_8880_0000_1000).unwrap();
        assert_eq!(vmi.read_addr(ctx).unwrap(), 0xffff_8880_0000_1000);
        vmi.write_u8(ctx, 0x5a).unwrap();
        assert_eq!(
            file_bytes(&copy, pa.0 + 8, 8),
            [0x5a, 0x10, 0, 0, 0x80, 0x88, 0xff, 0xff],
            "{}: typed writes on disk",
            v.name
        );

        // Through std::io::Write on a process's memory.
        let mut mem = vmi.process_memory(pid).unwrap();
        mem.seek(SeekFrom::Start(va.0 + 16)).unwrap();
        std::io::Write::write_all(&mut mem, b"io-write").unwrap();
        assert_eq!(file_bytes(&copy, pa.0 + 16, 8), b"io-write");

        // A kernel write across three page boundaries (the kernel image is physically
        // contiguous: the file offset of _text+x is kernel_text_paddr+x).
        let data: Vec<u8> = (0..3 * 4096 + 0x123).map(|i| (i * 7 + 3) as u8).collect();
        let text_va = v.symbol("_text").0;
        vmi.write(AccessContext::kernel(Va(text_va + 0x800)), &data)
            .unwrap_or_else(|e| panic!("{}: {e}", v.name));
        let mut back = vec![0; data.len()];
        vmi.read_va(Va(text_va + 0x800), Pid::KERNEL, &mut back)
            .unwrap();
        assert_eq!(back, data, "{}: cross-page write read back", v.name);
        assert_eq!(
            file_bytes(&copy, v.hex("kernel_text_paddr").0 + 0x800, data.len()),
            data,
            "{}: cross-page write on disk",
            v.name
        );

        // A symbol write.
        vmi.write_ksym("jiffies", &0x1122_3344_5566_7788u64.to_le_bytes())
            .unwrap();
        assert_eq!(vmi.read_u64_ksym("jiffies").unwrap(), 0x1122_3344_5566_7788);
    }
}

/// `UNICODE_STRING`s written into kernel memory of a copy (a Linux guest has none of its
/// own) read back as the text written, through kernel-virtual and physical contexts; broken
/// headers are [`Error::GuestData`], never a read of garbage.
#[test]
fn unicode_strings_written_into_a_copy_read_back() {
    let v = Variant::load("nokaslr");
    let (_tmp, _copy, vmi) = open_copy(&v);
    let text = "TinyVMI \u{fc}n\u{ef}c\u{f8}d\u{e9} \u{2713} \u{1f980} C:\\Windows\\System32";
    let utf16: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let base = v.symbol("_text").0 + 0x800;
    let (header_va, buffer_va) = (Va(base), Va(base + 0x100));
    let header = |len: u16, max: u16, buffer: u64| {
        let mut h = Vec::new();
        h.extend_from_slice(&len.to_le_bytes());
        h.extend_from_slice(&max.to_le_bytes());
        h.extend_from_slice(&[0; 4]);
        h.extend_from_slice(&buffer.to_le_bytes());
        h
    };
    let len = utf16.len() as u16;
    vmi.write(AccessContext::kernel(buffer_va), &utf16).unwrap();
    vmi.write(
        AccessContext::kernel(header_va),
        &header(len, len + 2, buffer_va.0),
    )
    .unwrap();
    assert_eq!(
        vmi.read_unicode_string(AccessContext::kernel(header_va))
            .unwrap(),
        text
    );
    assert_eq!(
        vmi.read_unicode_string_va(header_va, Pid::KERNEL).unwrap(),
        text
    );
    // Physical: the header's Buffer is then a physical address too.
    let header_pa = vmi.translate_kv2p(header_va).unwrap();
    let buffer_pa = vmi.translate_kv2p(buffer_va).unwrap();
    vmi.write_pa(header_pa, &header(len, len, buffer_pa.0))
        .unwrap();
    assert_eq!(
        vmi.read_unicode_string(AccessContext::physical(header_pa))
            .unwrap(),
        text
    );
    // Empty, then broken headers.
    vmi.write_pa(header_pa, &header(0, 0, 0)).unwrap();
    assert_eq!(
        vmi.read_unicode_string(AccessContext::physical(header_pa))
            .unwrap(),
        ""
    );
    for (bad, why) in [
        (header(len + 1, len + 2, buffer_pa.0), "odd Length"),
        (header(len, len - 2, buffer_pa.0), "exceeds MaximumLength"),
        (header(len, len, 0), "NULL Buffer"),
    ] {
        vmi.write_pa(header_pa, &bad).unwrap();
        match vmi.read_unicode_string(AccessContext::physical(header_pa)) {
            Err(e @ Error::GuestData { .. }) => assert!(e.to_string().contains(why), "{e}"),
            other => panic!("{why}: {other:?}"),
        }
    }
    // A Buffer past the end of memory: a read error naming the address.
    vmi.write_pa(header_pa, &header(len, len, 0xffff_ffff_0000))
        .unwrap();
    assert!(matches!(
        vmi.read_unicode_string(AccessContext::physical(header_pa)),
        Err(Error::Read { .. })
    ));
}

/// Writes that cannot land fail with [`Error::Write`] naming the target, and change nothing:
/// past the end of the image, and when the image file can no longer be opened for writing
/// (it was moved away after init: reads go on through the open descriptor).
#[test]
fn writes_that_cannot_land_fail_cleanly() {
    let v = Variant::load("nokaslr");
    let (tmp, copy, vmi) = open_copy(&v);
    let size = std::fs::metadata(&copy).unwrap().len();
    let e = vmi.write_pa(Pa(size - 1), b"XY").unwrap_err();
    assert!(
        matches!(e, Error::Write { ctx: AccessContext::Physical(p), len: 2, .. } if p.0 == size - 1),
        "{e}"
    );
    assert_eq!(
        std::fs::metadata(&copy).unwrap().len(),
        size,
        "the image grew"
    );

    let (pid, va, pa, text) = marker(&v, "heap");
    let moved = tmp.path().join("moved.raw");
    std::fs::rename(&copy, &moved).unwrap();
    let e = vmi.write_pa(pa, b"X").unwrap_err();
    assert!(
        matches!(e, Error::Write { ctx: AccessContext::Physical(p), len: 1, done: 0 } if p == pa),
        "{e}"
    );
    assert!(matches!(
        vmi.write_va(va, pid, b"X"),
        Err(Error::Write { .. })
    ));
    assert_eq!(vmi.read_cstring_va(va, pid, 256).unwrap(), text);
    assert!(
        !copy.exists(),
        "a failed write created the image file again"
    );
    assert_eq!(file_bytes(&moved, pa.0, text.len()), text.as_bytes());
}

#[test]
fn pause_caches_and_threads() {
    let v = Variant::load("kaslr");
    let vmi = open(&v);
    {
        let paused = vmi.pause().unwrap();
        assert_eq!(paused.os_type(), OsType::Linux);
    }
    vmi.pause().unwrap().resume().unwrap();
    let init = v.symbol("init_task");
    let before = vmi.translate_kv2p(init).unwrap();
    vmi.flush_caches();
    vmi.flush_v2p_cache(Some(Dtb(v.hex("kpgd").0)));
    assert_eq!(vmi.translate_kv2p(init).unwrap(), before);
    assert_eq!(vmi.translate_ksym2v("init_task").unwrap(), init);
    vmi.add_pid_cache(Pid(4242), Dtb(v.hex("kpgd").0));
    assert_eq!(vmi.pid_to_dtb(Pid(4242)).unwrap(), Dtb(v.hex("kpgd").0));
    vmi.flush_pid_cache();
    // Send: the instance moves to another thread and works there
    let handle = std::thread::spawn(move || {
        let pa = vmi.translate_kv2p(init).unwrap();
        drop(vmi);
        pa
    });
    assert_eq!(handle.join().unwrap(), before);
}

/// LibVMI trusts a cached translation only while one byte at its physical address can be
/// read (libvmi-sys shims that read for File images: csrc/v2p_validate.c); otherwise it
/// drops the entry and walks the page tables again.
#[test]
fn cached_translations_are_validated_by_their_physical_page() {
    let v = Variant::load("nokaslr");
    let vmi = open(&v);
    let kpgd = Dtb(v.hex("kpgd").0);
    let init = v.symbol("init_task");
    let real = vmi.translate_kv2p(init).unwrap();
    let offset = init.0 & 0xfff;
    let page = Va(init.0 - offset);
    let end = vmi.max_physical_address().0;
    // A readable page: the cache wins, with the address's offset in the page.
    for fake in [Pa(0x1000), Pa((end & !0xfff) - 0x1000)] {
        vmi.add_v2p_cache(page, kpgd, fake);
        assert_eq!(vmi.translate_kv2p(init).unwrap(), Pa(fake.0 | offset));
    }
    // The last byte of the image is readable too.
    vmi.add_v2p_cache(page, kpgd, Pa((end - 1) & !0xfff));
    assert_eq!(
        vmi.translate_kv2p(Va(page.0 | ((end - 1) & 0xfff)))
            .unwrap(),
        Pa(end - 1)
    );
    // Pages at or past the end of the image cannot be read: the page tables answer.
    for fake in [Pa(end & !0xfff), Pa(end + 0x1000), Pa(0x7fff_ffff_f000)] {
        if fake.0 < end {
            continue;
        }
        vmi.add_v2p_cache(page, kpgd, fake);
        assert_eq!(vmi.translate_kv2p(init).unwrap(), real, "{fake:?}");
    }
    // And a cached page that is readable again after the walk stays the real one.
    assert_eq!(vmi.translate_kv2p(init).unwrap(), real);
    vmi.flush_v2p_cache(None);
    assert_eq!(vmi.translate_kv2p(init).unwrap(), real);
}

#[test]
fn events_are_refused_on_file_images() {
    let v = Variant::load("nokaslr");
    // LibVMI has no events for files: initialisation with events fails, saying so
    let e = Vmi::file(&v.image).events(true).init_driver().unwrap_err();
    assert!(
        matches!(
            e,
            Error::Init {
                mode: Mode::File,
                reason: InitError::Events,
                ..
            }
        ),
        "{e}"
    );
    // an instance without events refuses registration and listening
    let mut vmi = open(&v);
    let e = vmi
        .register_event(
            EventSpec::register(Register::CR3, libvmi::events::RegAccess::W),
            |_, _| Response::NONE,
        )
        .unwrap_err();
    assert!(matches!(e, Error::Unsupported { .. }), "{e}");
    assert!(matches!(
        vmi.listen(std::time::Duration::from_millis(1)),
        Err(Error::Unsupported { .. })
    ));
    assert!(vmi.events_pending().is_err());
    assert_eq!(vmi.registered_events(), 0);
    vmi.clear_events().unwrap();
}

/// A multi-page virtual read that starts and ends mid-page equals the bytes of the raw
/// image at the guest's own physical address of `_text` (the kernel image is physically
/// contiguous; the file offset is the physical address): the oracle is the file, not LibVMI.
#[test]
fn multi_page_virtual_read_crosses_page_boundaries() {
    for v in Variant::all() {
        let vmi = open(&v);
        let start = 0x800u64;
        let len = 3 * 4096 + 0x123;
        let mut via_libvmi = vec![0u8; len];
        vmi.read_va(
            Va(v.symbol("_text").0 + start),
            Pid::KERNEL,
            &mut via_libvmi,
        )
        .unwrap_or_else(|e| panic!("{}: {e}", v.name));
        let mut file = std::fs::File::open(&v.image).unwrap();
        file.seek(SeekFrom::Start(v.hex("kernel_text_paddr").0 + start))
            .unwrap();
        let mut from_file = vec![0u8; len];
        file.read_exact(&mut from_file).unwrap();
        assert_eq!(
            via_libvmi, from_file,
            "{}: 3+ pages from _text+0x800",
            v.name
        );
        assert!(
            via_libvmi.iter().any(|&b| b != 0),
            "{}: read only zeros",
            v.name
        );
    }
}

extern "C" {
    // The Linux OS layer's symbol lookup (libvmi-sys/csrc/sysmap_lookup.c) and upstream's
    // own, which the shim renames (both inside the LibVMI archive).
    fn linux_symbol_to_address(
        vmi: libvmi::sys::vmi_instance_t,
        symbol: *const std::ffi::c_char,
        unused: *mut u64,
        address: *mut u64,
    ) -> libvmi::sys::status_t;
    fn libvmi_sys_upstream_linux_symbol_to_address(
        vmi: libvmi::sys::vmi_instance_t,
        symbol: *const std::ffi::c_char,
        unused: *mut u64,
        address: *mut u64,
    ) -> libvmi::sys::status_t;
    // The reverse lookup, the shim's and upstream's (renamed); both return a string from
    // malloc or NULL.
    fn linux_system_map_address_to_symbol(
        vmi: libvmi::sys::vmi_instance_t,
        address: u64,
        ctx: *const libvmi::sys::access_context_t,
    ) -> *mut std::ffi::c_char;
    fn libvmi_sys_upstream_linux_system_map_address_to_symbol(
        vmi: libvmi::sys::vmi_instance_t,
        address: u64,
        ctx: *const libvmi::sys::access_context_t,
    ) -> *mut std::ffi::c_char;
    fn free(p: *mut std::ffi::c_void);
}

/// The symbol at `va` by the shim (`upstream` false) or by upstream's row-by-row search.
fn reverse_lookup(vmi: &Vmi, va: u64, upstream: bool) -> Option<String> {
    // The kernel's address space (`VMI_TM_PROCESS_PID`, pid 0), the only context the
    // reverse lookup answers for.
    // SAFETY: all zeroes is a valid access_context_t (integers, and a union of integers
    // and a pointer).
    let mut ctx: libvmi::sys::access_context_t = unsafe { std::mem::zeroed() };
    ctx.version = libvmi::sys::ACCESS_CONTEXT_VERSION;
    ctx.__bindgen_anon_4.translate_mechanism = libvmi::sys::VMI_TM_PROCESS_PID;
    let f = if upstream {
        libvmi_sys_upstream_linux_system_map_address_to_symbol
    } else {
        linux_system_map_address_to_symbol
    };
    // SAFETY: a live instance and a kernel context that outlives the call.
    let p = unsafe { f(vmi.as_raw(), va, &ctx) };
    (!p.is_null()).then(|| {
        // SAFETY: a NUL-terminated string from malloc, ours to free.
        unsafe {
            let s = std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned();
            free(p.cast());
            s
        }
    })
}

/// The symbol at `va` by the shim and by upstream's row-by-row search.
fn both_reverse_lookups(vmi: &Vmi, va: u64) -> [Option<String>; 2] {
    [
        reverse_lookup(vmi, va, false),
        reverse_lookup(vmi, va, true),
    ]
}

/// An instance of variant `v` whose System.map is its real map `text` with `rows`
/// appended (init finds what it needs before them); the directory holding the map lives
/// as long as the returned guard.
fn with_rows_appended(v: &Variant, text: &str, rows: &[&str]) -> (tempfile::TempDir, Vmi) {
    let tmp = tempfile::tempdir().unwrap();
    let crafted = tmp.path().join("System.map");
    std::fs::write(&crafted, format!("{text}{}", rows.concat())).unwrap();
    let mut map = v.config_map(true);
    map.set("sysmap", crafted);
    let vmi = Vmi::file(&v.image).config(Config::Map(map)).init().unwrap();
    (tmp, vmi)
}

/// `(found, address)` by the shim alone, for `name`.
fn shim_lookup(vmi: &Vmi, name: &str) -> (bool, u64) {
    let c = std::ffi::CString::new(name).unwrap();
    let mut a = 0u64;
    // SAFETY: a live instance, a NUL-terminated name, an out-pointer to a local.
    let r =
        unsafe { linux_symbol_to_address(vmi.as_raw(), c.as_ptr(), std::ptr::null_mut(), &mut a) };
    (r == libvmi::sys::VMI_SUCCESS, a)
}

/// `(found, address)` by the shim and by upstream's row-by-row search, for `name`.
fn both_lookups(vmi: &Vmi, name: &str) -> [(bool, u64); 2] {
    let c = std::ffi::CString::new(name).unwrap();
    let (mut a, mut b) = (0u64, 0u64);
    // SAFETY: a live instance, a NUL-terminated name, out-pointers to locals.
    let (ra, rb) = unsafe {
        (
            linux_symbol_to_address(vmi.as_raw(), c.as_ptr(), std::ptr::null_mut(), &mut a),
            libvmi_sys_upstream_linux_symbol_to_address(
                vmi.as_raw(),
                c.as_ptr(),
                std::ptr::null_mut(),
                &mut b,
            ),
        )
    };
    let ok = libvmi::sys::VMI_SUCCESS;
    [(ra == ok, a), (rb == ok, b)]
}

/// The Linux OS layer's System.map lookups (`libvmi-sys/csrc/sysmap_lookup.c`: a search of
/// the mapped file instead of upstream's row-by-row `fgets`) give upstream's answers: the
/// same status and address for names from every part of the map, duplicated names (the
/// first row wins), prefixes, suffixes, absent names, names with whitespace and the empty
/// name; and, on a copy of the map with unusual rows appended, for each of them, except
/// where the shim documents that it finds more (a row after one upstream's parser gives up
/// on).
#[test]
fn system_map_lookups_give_upstreams_answers() {
    for v in Variant::all() {
        let text = std::fs::read_to_string(v.dir.join("System.map")).unwrap();
        let rows: Vec<&str> = text.lines().collect();
        let mut names: Vec<String> = rows
            .iter()
            .step_by(7919)
            .chain(rows.last())
            .map(|r| r.split(' ').nth(2).unwrap().to_owned())
            .collect();
        let dup = {
            let mut seen = BTreeSet::new();
            rows.iter()
                .map(|r| r.split(' ').nth(2).unwrap())
                .find(|n| !seen.insert(*n))
                .expect("System.map names no symbol twice")
                .to_owned()
        };
        names.extend([
            dup,
            "init_tas".into(),
            "nit_task".into(),
            "init task".into(),
            "tinyvmi_no_such_symbol".into(),
            String::new(),
        ]);
        let vmi = open(&v);
        for name in &names {
            let [shim, upstream] = both_lookups(&vmi, name);
            assert_eq!(shim, upstream, "{}: {name:?}", v.name);
        }
        assert!(both_lookups(&vmi, "init_task")[0].0);
        // The shim reads 32 KiB blocks of whole rows: the rows that straddle a block's end
        // (carried to the next block) and the last row of each block, against the map's
        // first row of each name.
        let k = v.hex("kaslr_offset").0;
        let mut first = std::collections::HashMap::new();
        for r in &rows {
            let mut f = r.split(' ');
            let addr = u64::from_str_radix(f.next().unwrap(), 16).unwrap();
            first.entry(f.nth(1).unwrap()).or_insert(addr);
        }
        let (bytes, mut start, mut edge_rows) = (text.as_bytes(), 0, 0);
        while start + 32768 < bytes.len() {
            let end = start
                + bytes[start..start + 32768]
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .unwrap()
                + 1;
            for row in [
                &text[text[..end - 1].rfind('\n').map_or(0, |i| i + 1)..end - 1],
                text[end..].lines().next().unwrap(),
            ] {
                let name = row.split(' ').nth(2).unwrap();
                assert_eq!(
                    shim_lookup(&vmi, name),
                    (true, first[name].wrapping_add(k)),
                    "{}: {name:?}",
                    v.name
                );
                edge_rows += 1;
            }
            start = end;
        }
        assert!(edge_rows >= 100, "{edge_rows}");
        drop(vmi);

        // Unusual rows after the real map.
        let extra = [
            "ffffffff00000010 t tinyvmi_dup\n",
            "  ffffffff00000030 T tinyvmi_leading_space\n",
            "ffffffff00000040\tT\ttinyvmi_tabs\n",
            "ffffffff00000050 T tinyvmi_crlf\r\n",
            "ffffffff00000060 T tinyvmi_four fields\n",
            "ffffffff00000070 T  tinyvmi_two_spaces\n",
            "tinyvmi_field0 T x\n",
            "ffffffff00000080 tinyvmi_field1 y\n",
            "ffffffff00000020 t tinyvmi_dup\n",
            "ffffffff00000090 T tinyvmi_suffix_tinyvmi_dup\n",
            &format!("ffffffff000000a0 T tinyvmi_long_row {}\n", "x".repeat(600)),
            "ffffffff000000b0 T tinyvmi_after_long\n",
        ];
        let (_tmp, vmi) = with_rows_appended(&v, &text, &extra);
        for (name, want) in [
            ("tinyvmi_dup", Some(0xffffffff00000010)),
            ("tinyvmi_leading_space", None),
            ("T", Some(0)),
            ("tinyvmi_tabs", Some(0xffffffff00000040)),
            ("tinyvmi_crlf", Some(0xffffffff00000050)),
            ("tinyvmi_four", Some(0xffffffff00000060)),
            ("fields", None),
            ("tinyvmi_two_spaces", Some(0xffffffff00000070)),
            ("tinyvmi_field0", None),
            ("tinyvmi_field1", None),
            ("tinyvmi_long_row", Some(0xffffffff000000a0)),
        ] {
            let [shim, upstream] = both_lookups(&vmi, name);
            assert_eq!(shim, upstream, "{}: {name:?}", v.name);
            assert_eq!(
                shim.0.then_some(shim.1),
                want.map(|a: u64| a.wrapping_add(k)),
                "{}: {name:?}",
                v.name
            );
        }
        // Upstream reads the 600-byte row in pieces and gives up at the second (one
        // field): it finds no name after it. The shim does.
        let [shim, upstream] = both_lookups(&vmi, "tinyvmi_after_long");
        assert_eq!(shim, (true, 0xffffffff000000b0u64.wrapping_add(k)));
        assert!(!upstream.0);
    }
}

/// Reverse System.map lookups (`linux_system_map_address_to_symbol`, shimmed by
/// `libvmi-sys/csrc/sysmap_lookup.c`) give upstream's answers: for addresses from every part
/// of the map (checked against the map's first row with that address too), an address
/// several rows share, absent addresses and address 0 (per-CPU rows, which upstream's
/// unpadded formatting never matches); and, on a copy of the map with unusual rows
/// appended, for each of them (separators doubled, tabs, CRLF, a row without a name, an
/// address alone, leading space, a longer address, an address as a name, a row longer
/// than upstream's 500-byte buffer and a row after it).
#[test]
fn reverse_system_map_lookups_give_upstreams_answers() {
    for v in Variant::all() {
        let text = std::fs::read_to_string(v.dir.join("System.map")).unwrap();
        let k = v.hex("kaslr_offset").0;
        let mut first = std::collections::HashMap::new();
        let mut shared = None;
        for r in text.lines() {
            let mut f = r.split(' ');
            let addr = u64::from_str_radix(f.next().unwrap(), 16).unwrap();
            match first.entry(addr) {
                std::collections::hash_map::Entry::Occupied(_) => {
                    shared = shared.or((addr != 0).then_some(addr));
                }
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(f.nth(1).unwrap());
                }
            }
        }
        let shared = shared.expect("System.map has no two rows at one address");
        let vmi = open(&v);
        let sampled: Vec<u64> = text
            .lines()
            .step_by(4999)
            .chain(text.lines().last())
            .map(|r| u64::from_str_radix(r.split(' ').next().unwrap(), 16).unwrap())
            .filter(|&a| a != 0)
            .chain([shared])
            .collect();
        assert!(sampled.len() >= 10, "{}", sampled.len());
        for a in sampled {
            let [shim, upstream] = both_reverse_lookups(&vmi, a.wrapping_add(k));
            assert_eq!(shim, upstream, "{}: {a:#x}", v.name);
            assert_eq!(shim.as_deref(), Some(first[&a]), "{}: {a:#x}", v.name);
        }
        for a in [0u64, 1, 0xffff_ffff_0000_0001] {
            let [shim, upstream] = both_reverse_lookups(&vmi, a.wrapping_add(k));
            assert_eq!(shim, upstream, "{}: {a:#x}", v.name);
        }
        drop(vmi);

        let extra = [
            "ffffffff00000110 T  tinyvmi_two_spaces\n",
            "ffffffff00000120\tT\ttinyvmi_tabs\n",
            "ffffffff00000130 T tinyvmi_crlf\r\n",
            "ffffffff00000140 T\n",
            "ffffffff00000150\n",
            "  ffffffff00000160 T tinyvmi_leading_space\n",
            "ffffffff00000170 T tinyvmi_four fields\n",
            "ffffffff00000180 t tinyvmi_first\n",
            "ffffffff00000180 t tinyvmi_second\n",
            "ffffffff000001901 T tinyvmi_longer_address\n",
            "ffffffff000001c0 T ffffffff000001d0\n",
            &format!("ffffffff000001a0 T tinyvmi_long_row {}\n", "x".repeat(600)),
            "ffffffff000001b0 T tinyvmi_after_long\n",
            &format!("ffffffff000001e0 {} tinyvmi_far\n", "T".repeat(500)),
            "ffffffff00000150 T tinyvmi_not_first\n",
        ];
        let (_tmp, vmi) = with_rows_appended(&v, &text, &extra);
        for (a, want) in [
            (0xffffffff00000110u64, Some("")),
            (0xffffffff00000120, Some("tinyvmi_tabs")),
            (0xffffffff00000130, Some("tinyvmi_crlf")),
            (0xffffffff00000140, Some("")),
            (0xffffffff00000160, None),
            (0xffffffff00000170, Some("tinyvmi_four")),
            (0xffffffff00000180, Some("tinyvmi_first")),
            (0xffffffff00000190, None),
            (0xffffffff000001d0, None),
            (0xffffffff000001a0, Some("tinyvmi_long_row")),
            (0xffffffff000001b0, Some("tinyvmi_after_long")),
        ] {
            let [shim, upstream] = both_reverse_lookups(&vmi, a.wrapping_add(k));
            assert_eq!(shim, upstream, "{}: {a:#x}", v.name);
            assert_eq!(shim.as_deref(), want, "{}: {a:#x}", v.name);
        }
        // Rows with fewer than two separators in the bytes upstream's fgets reads at once:
        // upstream takes its answer from beyond the row (what earlier rows left in its
        // buffer; for the second, past the buffer's end, so it is not called here). The
        // shim answers nothing (the first row with the address decides, as upstream's).
        for a in [0xffffffff00000150u64, 0xffffffff000001e0] {
            assert_eq!(
                reverse_lookup(&vmi, a.wrapping_add(k), false),
                None,
                "{}: {a:#x}",
                v.name
            );
        }
    }
}
