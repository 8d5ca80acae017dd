//! Upstream's `va-pages`: the pages mapped in an address space, each checked for
//! readability through an access context. Upstream takes the page table from CR3 write
//! events (Xen/KVM); this version takes a pid, so it also works on memory images.
//!
//! ```text
//! va-pages <image or VM name> <pid> [-c libvmi.conf]
//! ```

mod common;

use libvmi::{AccessContext, Pid};

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: va-pages <image|name> <pid> [-c libvmi.conf]";
    let config = common::config(&mut args).unwrap_or_else(|e| common::fail(e));
    let (mode, domain) =
        common::target(&mut args).unwrap_or_else(|e| common::fail(format!("{e}\n{usage}")));
    let pid: i32 = args
        .first()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| common::fail(usage));
    let vmi = common::open(mode, domain, config).unwrap_or_else(|e| common::fail(e));
    let dtb = vmi.pid_to_dtb(Pid(pid)).unwrap_or_else(|e| common::fail(e));
    let pages = vmi.va_pages(dtb).unwrap_or_else(|e| common::fail(e));
    println!("DTB: {dtb}. Pages: {}", pages.len());
    for page in &pages {
        // Demonstrate an access context: read through the page table, not the pid.
        if vmi.read_u64(AccessContext::dtb(page.va, dtb)).is_err() {
            println!(
                "Page in virtual address space of DTB {dtb} unaccessible: {}.\tSize: {:#x}",
                page.va, page.size
            );
        }
    }
}
