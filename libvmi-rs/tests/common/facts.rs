//! [`Variant::facts`]: what `mutations` needs to know about an image set variant. For the
//! tests that have both `common` and `mutations` as crate-root modules (`hostile.rs`, the
//! fuzz target `os_walkers`), with `#[path = ".../common/facts.rs"] mod facts;`. Kept out
//! of `common/mod.rs` so that `common` works without `mutations` (vmi-cli's tests, ...)
//! and `mutations` stays std only.

use crate::common::Variant;
use crate::mutations::Facts;

impl Variant {
    /// The ground truth and offsets.json as `mutations::Facts`.
    pub fn facts(&self) -> Facts {
        Facts {
            kpgd: self.hex("kpgd").0,
            init_task: self.symbol("init_task").0,
            modules: self.symbol("modules").0,
            tasks: self.offset("linux_tasks"),
            mm: self.offset("linux_mm"),
            pid: self.offset("linux_pid"),
            name: self.offset("linux_name"),
            pgd: self.offset("linux_pgd"),
            thread_group: self.other_offset("task_struct.thread_group"),
            module_list: self.other_offset("module.list"),
            module_name: self.other_offset("module.name"),
        }
    }
}
