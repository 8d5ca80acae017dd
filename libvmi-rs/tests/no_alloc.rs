//! The read and translate paths do not allocate on the Rust side: bytes go straight into
//! the caller's buffer, symbol names are passed to C from the stack. (LibVMI's own C
//! allocations, e.g. its caches, are not counted.) Needs the guest images.

mod common;

use common::Variant;
use libvmi::{AccessContext, Config, Pid, Vmi};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

thread_local! {
    /// Count only this test's thread (the harness runs other tests concurrently).
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn reads_and_translations_do_not_allocate() {
    let v = Variant::load("nokaslr");
    let vmi = Vmi::file(&v.image)
        .config(Config::Map(v.config_map(true)))
        .init()
        .unwrap();
    let m = &v.truth["markers"][0];
    let (pid, va) = (Pid(m["pid"].int() as i32), libvmi::Va(m["vaddr"].hex()));
    let dtb = vmi.pid_to_dtb(pid).unwrap();
    let init = v.symbol("init_task");
    let mut buf = [0u8; 256];
    let mut run = || {
        let pa = vmi.translate_uv2p(va, pid).unwrap();
        vmi.read_pa(pa, &mut buf).unwrap();
        vmi.read_va(va, pid, &mut buf).unwrap();
        vmi.read(AccessContext::dtb(va, dtb), &mut buf).unwrap();
        assert_eq!(vmi.pagetable_lookup(dtb, va).unwrap(), pa);
        assert_eq!(vmi.translate_ksym2v("init_task").unwrap(), init);
        vmi.translate_kv2p(init).unwrap();
        vmi.read_u64(AccessContext::kernel(init)).unwrap();
        vmi.read_addr(AccessContext::kernel(init)).unwrap();
        vmi.read_cstr_into(
            AccessContext::kernel(init + v.offset("linux_name")),
            &mut buf,
        )
        .unwrap();
    };
    run(); // warm LibVMI's caches
    COUNTING.with(|c| c.set(true));
    for _ in 0..100 {
        run();
    }
    COUNTING.with(|c| c.set(false));
    assert_eq!(
        ALLOCS.load(Ordering::SeqCst),
        0,
        "Rust-side allocations on the hot paths"
    );
}
