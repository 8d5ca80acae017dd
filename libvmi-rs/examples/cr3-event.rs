//! Upstream's `cr3-event-example`: print every CR3 write of a Xen (or KVM) guest.
//!
//! ```text
//! cr3-event <VM name> [seconds]      (default: run for 10 seconds)
//! ```
//!
//! The closure runs inside `listen`; the registration is cleared when the loop ends (and
//! again, at the latest, when the instance is dropped).

mod common;

use libvmi::events::{EventInfo, EventSpec, RegAccess, Response};
use libvmi::{Register, Vmi};
use std::time::{Duration, Instant};

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: cr3-event <VM name> | -d <domid> [seconds]";
    let (mode, domain) =
        common::target(&mut args).unwrap_or_else(|e| common::fail(format!("{e}\n{usage}")));
    let seconds: u64 = args.first().and_then(|s| s.parse().ok()).unwrap_or(10);
    let mut vmi = Vmi::builder(mode, domain)
        .events(true)
        .init_driver()
        .unwrap_or_else(|e| common::fail(e));
    // Register while paused, as upstream does.
    vmi.pause_vm().unwrap_or_else(|e| common::fail(e));
    vmi.register_event(
        EventSpec::register(Register::CR3, RegAccess::W),
        |_vmi, event| {
            if let EventInfo::Register { value, .. } = event.info() {
                println!("CR3 write happened: vCPU {} Value={value:#x}", event.vcpu());
            }
            Response::NONE
        },
    )
    .unwrap_or_else(|e| common::fail(e));
    vmi.resume_vm().unwrap_or_else(|e| common::fail(e));
    println!("Waiting for events...");
    let end = Instant::now() + Duration::from_secs(seconds);
    vmi.listen_while(Duration::from_millis(500), || Instant::now() < end)
        .unwrap_or_else(|e| common::fail(e));
}
