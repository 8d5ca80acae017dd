//! Upstream's `process-list`: list a guest's processes (Linux).
//!
//! ```text
//! process-list <image or VM name> [-c libvmi.conf | -j profile.json]
//! process-list -d <domid> [-c libvmi.conf]
//! ```

mod common;

use libvmi::{Mode, OsType};

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: process-list <image|name> | -n <name> | -d <domid>  [-c libvmi.conf | -j profile.json]";
    let (mode, domain) =
        common::target(&mut args).unwrap_or_else(|e| common::fail(format!("{e}\n{usage}")));
    let config = common::config(&mut args).unwrap_or_else(|e| common::fail(e));
    let vmi = common::open(mode, domain, config).unwrap_or_else(|e| common::fail(e));
    if vmi.os_type() != OsType::Linux {
        common::fail(format!(
            "this example walks Linux guests; the guest is {}",
            vmi.os_type()
        ));
    }
    // Pause the VM for consistent memory access; resumed when `_paused` is dropped.
    let _paused = vmi.pause().unwrap_or_else(|e| common::fail(e));
    let name = vmi.name().unwrap_or_default();
    match (vmi.mode(), vmi.vmid()) {
        (Mode::File, _) | (_, None) => println!("Process listing for file {name}"),
        (_, Some(id)) => println!("Process listing for VM {name} (id={id})"),
    }
    let linux = vmi.linux().unwrap_or_else(|e| common::fail(e));
    for process in linux.processes() {
        match process {
            Ok(p) => println!("[{:5}] {} (struct addr:{:x})", p.pid, p.name, p.task),
            Err(e) => common::fail(e),
        }
    }
}
