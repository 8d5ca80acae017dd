//! `vmi watch`: print hypervisor events (CR3 writes, memory accesses) of a Xen domain.

use crate::cli::Access;
use crate::commands::hex;
use crate::error::CliError;
use libvmi::events::{EventInfo, EventSpec, MemAccess, RegAccess, Response};
use libvmi::{Pa, Register, Vmi};
use serde::Serialize;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What to watch, and for how long.
#[derive(Clone, Debug, Default)]
pub struct WatchOptions {
    /// CR3 writes.
    pub cr3: bool,
    /// Physical addresses whose frames to watch.
    pub mem: Vec<u64>,
    /// Which accesses to those frames.
    pub access: Option<Access>,
    /// Stop after this many events.
    pub count: Option<u64>,
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// JSON lines instead of text.
    pub json: bool,
}

/// One event as `watch --json` prints it.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum EventLine {
    /// A register write.
    Register {
        /// The vCPU.
        vcpu: u32,
        /// The register.
        register: String,
        /// The new value (hex).
        value: String,
        /// The old value (hex).
        previous: String,
    },
    /// A memory access.
    Memory {
        /// The vCPU.
        vcpu: u32,
        /// The physical address accessed (hex).
        pa: String,
        /// The virtual address, if known (hex).
        va: Option<String>,
        /// The access (`r`, `w`, `x` combined).
        access: String,
    },
}

/// `rwx` letters for an access mask.
///
/// ```
/// use libvmi::events::MemAccess;
/// assert_eq!(vmi_cli::watch::access_letters(MemAccess::R | MemAccess::X), "r-x");
/// ```
#[must_use]
pub fn access_letters(a: MemAccess) -> String {
    [
        (MemAccess::R, 'r'),
        (MemAccess::W, 'w'),
        (MemAccess::X, 'x'),
    ]
    .iter()
    .map(|&(bit, c)| if a.contains(bit) { c } else { '-' })
    .collect()
}

impl EventLine {
    fn text(&self) -> String {
        match self {
            EventLine::Register {
                vcpu,
                register,
                value,
                previous,
            } => format!("vcpu {vcpu}: {register} write {previous} -> {value}"),
            EventLine::Memory {
                vcpu,
                pa,
                va,
                access,
            } => match va {
                Some(va) => format!("vcpu {vcpu}: memory {access} at {pa} (virtual {va})"),
                None => format!("vcpu {vcpu}: memory {access} at {pa}"),
            },
        }
    }
}

/// Shared between the event callbacks and the listen loop.
struct Sink {
    json: bool,
    seen: AtomicU64,
    /// Set when standard output fails (e.g. a closed pipe): stop listening.
    broken: AtomicBool,
}

impl Sink {
    fn emit(&self, line: &EventLine) {
        let text = if self.json {
            serde_json::to_string(line).unwrap_or_default()
        } else {
            line.text()
        };
        let mut out = std::io::stdout().lock();
        if writeln!(out, "{text}").and_then(|()| out.flush()).is_err() {
            self.broken.store(true, Ordering::Relaxed);
        }
        self.seen.fetch_add(1, Ordering::Relaxed);
    }
}

/// Register the events, listen until the count, the time limit, Ctrl-C (`interrupted`) or
/// a closed output, then clear them (also on errors). Returns the number of events seen.
pub fn watch(
    vmi: &mut Vmi,
    opts: &WatchOptions,
    interrupted: &AtomicBool,
) -> Result<u64, CliError> {
    let sink = Arc::new(Sink {
        json: opts.json,
        seen: AtomicU64::new(0),
        broken: AtomicBool::new(false),
    });
    let watch_cr3 = opts.cr3 || opts.mem.is_empty();
    // Register while paused, as LibVMI's examples do.
    vmi.pause_vm()?;
    let registered = (|| -> Result<(), CliError> {
        if watch_cr3 {
            let sink = Arc::clone(&sink);
            vmi.register_event(
                EventSpec::register(Register::CR3, RegAccess::W),
                move |_vmi, event| {
                    if let EventInfo::Register {
                        value, previous, ..
                    } = event.info()
                    {
                        sink.emit(&EventLine::Register {
                            vcpu: event.vcpu(),
                            register: "CR3".into(),
                            value: hex(value),
                            previous: hex(previous),
                        });
                    }
                    Response::NONE
                },
            )
            .map_err(|e| CliError::from(e).context("watching CR3 writes"))?;
        }
        let mask = opts.access.unwrap_or(Access::Rw).mask();
        for &pa in &opts.mem {
            let sink = Arc::clone(&sink);
            vmi.register_event(EventSpec::memory(Pa(pa).gfn(), mask), move |_vmi, event| {
                if let EventInfo::Memory {
                    gfn,
                    gla,
                    offset,
                    access,
                } = event.info()
                {
                    sink.emit(&EventLine::Memory {
                        vcpu: event.vcpu(),
                        pa: hex(gfn.pa().0 + offset),
                        va: gla.map(|v| hex(v.0)),
                        access: access_letters(access),
                    });
                }
                // Let the access happen (emulated) instead of faulting again at once.
                Response::EMULATE
            })
            .map_err(|e| CliError::from(e).context(format!("watching the frame of {}", hex(pa))))?;
        }
        Ok(())
    })();
    let resumed = vmi.resume_vm();
    if let Err(e) = registered {
        let _ = vmi.clear_events();
        return Err(e);
    }
    resumed?;
    let deadline = opts.duration.map(|d| Instant::now() + d);
    let limit = opts.count.unwrap_or(u64::MAX);
    let keep_going = || {
        !interrupted.load(Ordering::Relaxed)
            && !sink.broken.load(Ordering::Relaxed)
            && sink.seen.load(Ordering::Relaxed) < limit
            && deadline.is_none_or(|d| Instant::now() < d)
    };
    vmi.listen_while(Duration::from_millis(200), keep_going)?;
    Ok(sink.seen.load(Ordering::Relaxed))
}
