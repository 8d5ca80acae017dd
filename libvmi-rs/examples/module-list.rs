//! Upstream's `module-list`: list the kernel modules of a Linux guest.
//!
//! ```text
//! module-list <image or VM name> [-c libvmi.conf]
//! ```

mod common;

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let (mode, domain) = common::target(&mut args).unwrap_or_else(|e| {
        common::fail(format!(
            "{e}\nusage: module-list <image|name> [-c libvmi.conf]"
        ))
    });
    let config = common::config(&mut args).unwrap_or_else(|e| common::fail(e));
    let vmi = common::open(mode, domain, config).unwrap_or_else(|e| common::fail(e));
    let _paused = vmi.pause().unwrap_or_else(|e| common::fail(e));
    let linux = vmi.linux().unwrap_or_else(|e| common::fail(e));
    for module in linux.modules() {
        match module {
            Ok(m) => println!("{}", m.name),
            Err(e) => common::fail(e),
        }
    }
}
