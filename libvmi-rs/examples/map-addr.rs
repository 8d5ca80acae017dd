//! Upstream's `map-addr`: hex-dump the page of kernel virtual memory at an address.
//!
//! ```text
//! map-addr <image or VM name> <virtual address (hex)> [-c libvmi.conf]
//! ```

mod common;

use libvmi::{Pid, Va};

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: map-addr <image|name> <hex address> [-c libvmi.conf]";
    let config = common::config(&mut args).unwrap_or_else(|e| common::fail(e));
    let (mode, domain) =
        common::target(&mut args).unwrap_or_else(|e| common::fail(format!("{e}\n{usage}")));
    let addr = args.first().unwrap_or_else(|| common::fail(usage));
    let addr = u64::from_str_radix(addr.trim_start_matches("0x"), 16)
        .unwrap_or_else(|_| common::fail(format!("bad address {addr:?}")));
    let vmi = common::open(mode, domain, config).unwrap_or_else(|e| common::fail(e));
    let mut page = [0u8; libvmi::PAGE_SIZE as usize];
    vmi.read_va(Va(addr), Pid::KERNEL, &mut page)
        .unwrap_or_else(|e| common::fail(e));
    common::print_hex(&page);
}
