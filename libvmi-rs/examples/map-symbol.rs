//! Upstream's `map-symbol`: hex-dump the page of kernel memory at a symbol.
//!
//! ```text
//! map-symbol <image or VM name> <symbol> [-c libvmi.conf]
//! ```

mod common;

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: map-symbol <image|name> <symbol> [-c libvmi.conf]";
    let config = common::config(&mut args).unwrap_or_else(|e| common::fail(e));
    let (mode, domain) =
        common::target(&mut args).unwrap_or_else(|e| common::fail(format!("{e}\n{usage}")));
    let symbol = args.first().cloned().unwrap_or_else(|| common::fail(usage));
    let vmi = common::open(mode, domain, config).unwrap_or_else(|e| common::fail(e));
    let mut page = [0u8; libvmi::PAGE_SIZE as usize];
    vmi.read_ksym(&symbol, &mut page)
        .unwrap_or_else(|e| common::fail(e));
    common::print_hex(&page);
}
