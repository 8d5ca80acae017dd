//! Upstream's `dump-memory`: write a guest's physical memory to a file, frame by frame.
//! Needs no OS configuration (driver-only initialisation).
//!
//! ```text
//! dump-memory [-s|--sparse] [-p|--progress] <image or VM name> <output file>
//! ```

mod common;

use libvmi::{Pa, Vmi, PAGE_SIZE};
use std::io::{Seek, SeekFrom, Write};

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut flag = |names: [&str; 2]| {
        let found = args.iter().any(|a| names.contains(&a.as_str()));
        args.retain(|a| !names.contains(&a.as_str()));
        found
    };
    let sparse = flag(["-s", "--sparse"]);
    let progress = flag(["-p", "--progress"]);
    let usage = "usage: dump-memory [-s|--sparse] [-p|--progress] <image|name> <output file>";
    let (mode, domain) =
        common::target(&mut args).unwrap_or_else(|e| common::fail(format!("{e}\n{usage}")));
    let out = args.first().unwrap_or_else(|| common::fail(usage));
    let vmi = Vmi::builder(mode, domain)
        .init_driver()
        .unwrap_or_else(|e| common::fail(e));
    let mut file =
        std::fs::File::create(out).unwrap_or_else(|e| common::fail(format!("{out}: {e}")));
    let _paused = vmi.pause().unwrap_or_else(|e| common::fail(e));

    let end = vmi.max_physical_address().0;
    let mut frame = [0u8; PAGE_SIZE as usize];
    let stride = (end / 100).max(PAGE_SIZE) & !(PAGE_SIZE - 1);
    let mut pa = 0u64;
    while pa < end {
        if progress && pa.is_multiple_of(stride) {
            println!("Progress: {}%", pa * 100 / end);
        }
        // Unreadable frames are written as zeros, as upstream does.
        if vmi.read_pa(Pa(pa), &mut frame).is_err() {
            frame.fill(0);
        }
        let result = if sparse && frame.iter().all(|&b| b == 0) {
            file.seek(SeekFrom::Current(PAGE_SIZE as i64)).map(drop)
        } else {
            file.write_all(&frame)
        };
        result.unwrap_or_else(|e| common::fail(format!("{out}: {e}")));
        pa += PAGE_SIZE;
    }
    file.set_len(end)
        .unwrap_or_else(|e| common::fail(format!("{out}: {e}")));
}
