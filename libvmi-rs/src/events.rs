//! Hypervisor events with Rust closures: memory access, register writes, single-step,
//! interrupts (INT3), CPUID and debug exceptions.
//!
//! Events need a live hypervisor (Xen or KVM) and an instance initialised with
//! [`Builder::events(true)`](crate::Builder::events). File mode has no events: its
//! initialisation with events fails with [`InitError::Events`](crate::InitError::Events),
//! and registering on an instance without events is an [`Error::Unsupported`].
//!
//! # How it works
//!
//! [`Vmi::register_event`] boxes LibVMI's `vmi_event_t` (so it keeps a stable address
//! while registered) and the closure, and points the event's `data` at the closure. A
//! single `extern "C"` trampoline is the C callback: it calls the closure with the
//! instance and a safe view of the event, and catches panics (which must never unwind
//! into C). A caught panic is resumed by [`Vmi::listen`] once LibVMI has returned.
//!
//! Events stay registered until [`Vmi::clear_event`], the end of [`Vmi::listen_while`],
//! or the drop of the [`Vmi`] (which clears them before `vmi_destroy`). Callbacks get
//! `&Vmi`: they can read, write, translate and set registers, but not register or clear
//! events or listen (those take `&mut Vmi`), so LibVMI's deferred-clear path is never
//! needed.
//!
//! ```no_run
//! use libvmi::events::{EventSpec, RegAccess, Response};
//! use libvmi::{Register, Vmi};
//! use std::sync::atomic::{AtomicBool, Ordering};
//! use std::time::Duration;
//!
//! static STOP: AtomicBool = AtomicBool::new(false);
//! let mut vmi = Vmi::xen("debian").events(true).init()?;
//! vmi.register_event(EventSpec::register(Register::CR3, RegAccess::W), |_vmi, event| {
//!     if let libvmi::events::EventInfo::Register { value, .. } = event.info() {
//!         println!("vCPU {} CR3 <- {value:#x}", event.vcpu());
//!     }
//!     Response::NONE
//! })?;
//! vmi.listen_while(Duration::from_millis(500), || !STOP.load(Ordering::Relaxed))?;
//! # Ok::<(), libvmi::Error>(())
//! ```

use crate::addr::{Gfn, Va};
use crate::error::{Error, Result};
use crate::instance::Vmi;
use crate::registers::{Register, X86Registers};
use core::cell::Cell;
use core::ffi::c_void;
use core::fmt;
use core::ops::BitOr;
use core::ptr;
use libvmi_sys as sys;
use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

/// Register access types for register events (`vmi_reg_access_t`).
///
/// ```
/// use libvmi::events::{EventSpec, EventType, RegAccess};
/// use libvmi::Register;
/// assert_eq!(RegAccess(RegAccess::R.0 | RegAccess::W.0), RegAccess::RW);
/// let spec = EventSpec::register(Register::CR3, RegAccess::W);
/// assert_eq!(spec.event_type(), EventType::Register);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct RegAccess(pub u8);

impl RegAccess {
    /// No access.
    ///
    /// ```
    /// use libvmi::events::RegAccess;
    /// assert_ne!(RegAccess::N, RegAccess::R);
    /// assert_eq!(RegAccess::N.0 & RegAccess::RW.0, 0);
    /// ```
    pub const N: RegAccess = RegAccess(sys::VMI_REGACCESS_N as u8);
    /// Reads.
    ///
    /// ```
    /// use libvmi::events::RegAccess;
    /// assert_eq!(RegAccess::R.0 & RegAccess::RW.0, RegAccess::R.0);
    /// ```
    pub const R: RegAccess = RegAccess(sys::VMI_REGACCESS_R as u8);
    /// Writes (what hypervisors support, for CR0/CR3/CR4/XCR0/MSRs).
    ///
    /// ```
    /// use libvmi::events::{EventSpec, EventType, RegAccess};
    /// use libvmi::Register;
    /// let cr3_writes = EventSpec::register(Register::CR3, RegAccess::W);
    /// assert_eq!(cr3_writes.event_type(), EventType::Register);
    /// ```
    pub const W: RegAccess = RegAccess(sys::VMI_REGACCESS_W as u8);
    /// Reads and writes.
    ///
    /// ```
    /// use libvmi::events::RegAccess;
    /// assert_eq!(RegAccess::RW, RegAccess(RegAccess::R.0 | RegAccess::W.0));
    /// ```
    pub const RW: RegAccess = RegAccess(sys::VMI_REGACCESS_RW as u8);
}

/// Memory access types for memory events (`vmi_mem_access_t`): combine with `|`.
///
/// ```
/// use libvmi::events::MemAccess;
/// assert_eq!(MemAccess::R | MemAccess::W, MemAccess::RW);
/// assert!(MemAccess::RWX.contains(MemAccess::X));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct MemAccess(pub u8);

impl MemAccess {
    /// No access (clears restrictions).
    ///
    /// ```
    /// use libvmi::events::MemAccess;
    /// assert!(!MemAccess::RWX.contains(MemAccess::N));
    /// ```
    pub const N: MemAccess = MemAccess(sys::VMI_MEMACCESS_N as u8);
    /// Read.
    ///
    /// ```
    /// use libvmi::events::MemAccess;
    /// assert!(MemAccess::RW.contains(MemAccess::R));
    /// assert!(!MemAccess::WX.contains(MemAccess::R));
    /// ```
    pub const R: MemAccess = MemAccess(sys::VMI_MEMACCESS_R as u8);
    /// Write.
    ///
    /// ```
    /// use libvmi::events::{EventSpec, EventType, MemAccess};
    /// use libvmi::Gfn;
    /// let writes = EventSpec::memory(Gfn(0x1234), MemAccess::W);
    /// assert_eq!(writes.event_type(), EventType::Memory);
    /// ```
    pub const W: MemAccess = MemAccess(sys::VMI_MEMACCESS_W as u8);
    /// Execute.
    ///
    /// ```
    /// use libvmi::events::MemAccess;
    /// assert!(MemAccess::RX.contains(MemAccess::X));
    /// assert!(!MemAccess::RW.contains(MemAccess::X));
    /// ```
    pub const X: MemAccess = MemAccess(sys::VMI_MEMACCESS_X as u8);
    /// Read or write.
    ///
    /// ```
    /// use libvmi::events::MemAccess;
    /// assert_eq!(MemAccess::R | MemAccess::W, MemAccess::RW);
    /// ```
    pub const RW: MemAccess = MemAccess(sys::VMI_MEMACCESS_RW as u8);
    /// Read or execute.
    ///
    /// ```
    /// use libvmi::events::MemAccess;
    /// assert_eq!(MemAccess::R | MemAccess::X, MemAccess::RX);
    /// ```
    pub const RX: MemAccess = MemAccess(sys::VMI_MEMACCESS_RX as u8);
    /// Write or execute.
    ///
    /// ```
    /// use libvmi::events::MemAccess;
    /// assert_eq!(MemAccess::W | MemAccess::X, MemAccess::WX);
    /// ```
    pub const WX: MemAccess = MemAccess(sys::VMI_MEMACCESS_WX as u8);
    /// Any access.
    ///
    /// ```
    /// use libvmi::events::MemAccess;
    /// assert_eq!(MemAccess::RW | MemAccess::X, MemAccess::RWX);
    /// ```
    pub const RWX: MemAccess = MemAccess(sys::VMI_MEMACCESS_RWX as u8);
    /// Write, then execute (special case).
    ///
    /// ```
    /// use libvmi::events::MemAccess;
    /// // A flag of its own, not a combination of R, W and X:
    /// assert!(!MemAccess::RWX.contains(MemAccess::W2X));
    /// ```
    pub const W2X: MemAccess = MemAccess(sys::VMI_MEMACCESS_W2X as u8);

    /// Whether every bit of `other` is set in `self`.
    ///
    /// ```
    /// use libvmi::events::MemAccess;
    /// let access = MemAccess::W | MemAccess::X;
    /// assert!(access.contains(MemAccess::W));
    /// assert!(!access.contains(MemAccess::R));
    /// ```
    #[must_use]
    pub fn contains(self, other: MemAccess) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for MemAccess {
    type Output = MemAccess;
    fn bitor(self, rhs: MemAccess) -> MemAccess {
        MemAccess(self.0 | rhs.0)
    }
}

/// What the callback asks LibVMI to do (`event_response_t`): combine with `|`.
///
/// ```
/// use libvmi::events::Response;
/// let r = Response::EMULATE | Response::TOGGLE_SINGLESTEP;
/// assert!(r.contains(Response::EMULATE));
/// assert_eq!(Response::default(), Response::NONE);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct Response(pub u32);

impl Response {
    /// Nothing: continue the vCPU.
    ///
    /// ```
    /// use libvmi::events::Response;
    /// assert_eq!(Response::default(), Response::NONE);
    /// assert!(!Response::NONE.contains(Response::EMULATE));
    /// ```
    pub const NONE: Response = Response(sys::VMI_EVENT_RESPONSE_NONE as u32);
    /// Emulate the faulting instruction.
    ///
    /// ```
    /// use libvmi::events::Response;
    /// let r = Response::EMULATE | Response::TOGGLE_SINGLESTEP;
    /// assert!(r.contains(Response::EMULATE));
    /// ```
    pub const EMULATE: Response = Response(sys::VMI_EVENT_RESPONSE_EMULATE as u32);
    /// Emulate without performing writes.
    ///
    /// ```
    /// use libvmi::events::Response;
    /// assert!(!Response::EMULATE_NOWRITE.contains(Response::EMULATE));
    /// ```
    pub const EMULATE_NOWRITE: Response = Response(sys::VMI_EVENT_RESPONSE_EMULATE_NOWRITE as u32);
    /// Deny the access (e.g. a register write).
    ///
    /// ```no_run
    /// use libvmi::events::{EventSpec, RegAccess, Response};
    /// use libvmi::Register;
    /// # let mut vmi = libvmi::Vmi::xen("debian").events(true).init()?;
    /// // Refuse every write to CR4:
    /// vmi.register_event(EventSpec::register(Register::CR4, RegAccess::W), |_vmi, _event| {
    ///     Response::DENY
    /// })?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub const DENY: Response = Response(sys::VMI_EVENT_RESPONSE_DENY as u32);
    /// Toggle single-stepping of this vCPU.
    ///
    /// ```
    /// use libvmi::events::Response;
    /// let r = Response::EMULATE | Response::TOGGLE_SINGLESTEP;
    /// assert!(r.contains(Response::TOGGLE_SINGLESTEP));
    /// assert!(!Response::EMULATE.contains(Response::TOGGLE_SINGLESTEP));
    /// ```
    pub const TOGGLE_SINGLESTEP: Response =
        Response(sys::VMI_EVENT_RESPONSE_TOGGLE_SINGLESTEP as u32);
    /// Switch to the event's SLAT (altp2m) view.
    ///
    /// ```no_run
    /// use libvmi::events::{EventSpec, Response};
    /// # let mut vmi = libvmi::Vmi::xen("debian").events(true).init()?;
    /// vmi.register_event(EventSpec::single_step(0b1), |_vmi, event| {
    ///     event.set_slat_id(0);
    ///     Response::SLAT_ID
    /// })?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub const SLAT_ID: Response = Response(sys::VMI_EVENT_RESPONSE_SLAT_ID as u32);
    /// Apply the registers modified through [`Event::x86_registers_mut`].
    ///
    /// ```no_run
    /// use libvmi::events::{EventSpec, Response};
    /// # let mut vmi = libvmi::Vmi::xen("debian").events(true).init()?;
    /// vmi.register_event(EventSpec::cpuid(), |_vmi, event| {
    ///     if let Some(regs) = event.x86_registers_mut() {
    ///         regs.rax = 0;
    ///     }
    ///     Response::SET_REGISTERS
    /// })?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub const SET_REGISTERS: Response = Response(sys::VMI_EVENT_RESPONSE_SET_REGISTERS as u32);

    /// Whether every bit of `other` is set in `self`.
    ///
    /// ```
    /// use libvmi::events::Response;
    /// let r = Response::EMULATE | Response::SET_REGISTERS;
    /// assert!(r.contains(Response::SET_REGISTERS));
    /// assert!(!r.contains(Response::DENY));
    /// ```
    #[must_use]
    pub fn contains(self, other: Response) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for Response {
    type Output = Response;
    fn bitor(self, rhs: Response) -> Response {
        Response(self.0 | rhs.0)
    }
}

/// The type of an event (`vmi_event_type_t`).
///
/// ```
/// use libvmi::events::{EventSpec, EventType};
/// assert_eq!(EventSpec::cpuid().event_type(), EventType::Cpuid);
/// assert_eq!(EventType::SingleStep.to_string(), "SingleStep");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum EventType {
    /// Memory access on a frame.
    Memory,
    /// Register access.
    Register,
    /// Single-step.
    SingleStep,
    /// Interrupt (INT3).
    Interrupt,
    /// Guest request (hypercall).
    GuestRequest,
    /// CPUID executed.
    Cpuid,
    /// Debug exception.
    DebugException,
    /// Privileged call (ARM SMC).
    PrivilegedCall,
    /// Descriptor-table register access.
    DescriptorAccess,
    /// Failed emulation.
    FailedEmulation,
    /// Domain created/destroyed.
    DomainWatch,
    /// VM exit.
    VmExit,
    /// I/O instruction.
    Io,
    /// Anything else.
    Other(u16),
}

impl EventType {
    fn from_raw(t: u16) -> EventType {
        match u32::from(t) {
            x if x == sys::VMI_EVENT_MEMORY as u32 => EventType::Memory,
            x if x == sys::VMI_EVENT_REGISTER as u32 => EventType::Register,
            x if x == sys::VMI_EVENT_SINGLESTEP as u32 => EventType::SingleStep,
            x if x == sys::VMI_EVENT_INTERRUPT as u32 => EventType::Interrupt,
            x if x == sys::VMI_EVENT_GUEST_REQUEST as u32 => EventType::GuestRequest,
            x if x == sys::VMI_EVENT_CPUID as u32 => EventType::Cpuid,
            x if x == sys::VMI_EVENT_DEBUG_EXCEPTION as u32 => EventType::DebugException,
            x if x == sys::VMI_EVENT_PRIVILEGED_CALL as u32 => EventType::PrivilegedCall,
            x if x == sys::VMI_EVENT_DESCRIPTOR_ACCESS as u32 => EventType::DescriptorAccess,
            x if x == sys::VMI_EVENT_FAILED_EMULATION as u32 => EventType::FailedEmulation,
            x if x == sys::VMI_EVENT_DOMAIN_WATCH as u32 => EventType::DomainWatch,
            x if x == sys::VMI_EVENT_VMEXIT as u32 => EventType::VmExit,
            x if x == sys::VMI_EVENT_IO as u32 => EventType::Io,
            _ => EventType::Other(t),
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// What to watch: built by the constructors, passed to [`Vmi::register_event`].
///
/// ```
/// use libvmi::events::{EventSpec, EventType, MemAccess, RegAccess};
/// use libvmi::{Gfn, Register};
/// let cr3 = EventSpec::register(Register::CR3, RegAccess::W).on_change(true);
/// assert_eq!(cr3.event_type(), EventType::Register);
/// let page = EventSpec::memory(Gfn(0x1234), MemAccess::W | MemAccess::X);
/// assert_eq!(page.event_type(), EventType::Memory);
/// let ss = EventSpec::single_step(0b1);
/// assert_eq!(ss.event_type(), EventType::SingleStep);
/// ```
#[derive(Clone, Copy)]
pub struct EventSpec {
    raw: sys::vmi_event_t,
}

impl fmt::Debug for EventSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventSpec")
            .field("type", &self.event_type())
            .finish_non_exhaustive()
    }
}

impl EventSpec {
    fn new(event_type: u32) -> EventSpec {
        let mut raw: sys::vmi_event_t = crate::ffi::zeroed();
        raw.version = sys::VMI_EVENTS_VERSION as u32;
        raw.type_ = event_type as u16;
        EventSpec { raw }
    }

    /// The event's type.
    ///
    /// ```
    /// use libvmi::events::{EventSpec, EventType};
    /// assert_eq!(EventSpec::interrupt_int3().event_type(), EventType::Interrupt);
    /// ```
    #[must_use]
    pub fn event_type(&self) -> EventType {
        EventType::from_raw(self.raw.type_)
    }

    /// A register event (`SETUP_REG_EVENT`): `reg` accessed with `access`.
    ///
    /// ```
    /// use libvmi::events::{EventSpec, EventType, RegAccess};
    /// use libvmi::Register;
    /// let spec = EventSpec::register(Register::CR3, RegAccess::W);
    /// assert_eq!(spec.event_type(), EventType::Register);
    /// ```
    pub fn register(reg: Register, access: RegAccess) -> EventSpec {
        let mut s = EventSpec::new(sys::VMI_EVENT_REGISTER as u32);
        // SAFETY: writing the reg_event member of the zeroed union selects it.
        unsafe {
            let r = &mut s.raw.__bindgen_anon_1.reg_event;
            r.reg = reg.raw();
            r.in_access = access.0;
        }
        s
    }

    /// For register events: only deliver writes of this value (`reg_event.equal`).
    ///
    /// ```
    /// use libvmi::events::{EventSpec, EventType, RegAccess};
    /// use libvmi::Register;
    /// // Only CR3 loads of one address space:
    /// let spec = EventSpec::register(Register::CR3, RegAccess::W).equal(0x10d_a000);
    /// assert_eq!(spec.event_type(), EventType::Register);
    /// ```
    pub fn equal(mut self, value: u64) -> EventSpec {
        if self.event_type() == EventType::Register {
            // (writing a union field is safe; this selects reg_event, already the member)
            self.raw.__bindgen_anon_1.reg_event.equal = value;
        }
        self
    }

    /// For register events: only deliver writes that change the value (`onchange`).
    ///
    /// ```
    /// use libvmi::events::{EventSpec, EventType, RegAccess};
    /// use libvmi::Register;
    /// let spec = EventSpec::register(Register::CR3, RegAccess::W).on_change(true);
    /// assert_eq!(spec.event_type(), EventType::Register);
    /// ```
    pub fn on_change(mut self, on: bool) -> EventSpec {
        if self.event_type() == EventType::Register {
            // (writing a union field is safe; this selects reg_event, already the member)
            self.raw.__bindgen_anon_1.reg_event.onchange = u8::from(on);
        }
        self
    }

    /// For register events: deliver without pausing the vCPU (`async`).
    ///
    /// ```
    /// use libvmi::events::{EventSpec, EventType, RegAccess};
    /// use libvmi::Register;
    /// let spec = EventSpec::register(Register::CR3, RegAccess::W).asynchronous(true);
    /// assert_eq!(spec.event_type(), EventType::Register);
    /// ```
    pub fn asynchronous(mut self, on: bool) -> EventSpec {
        if self.event_type() == EventType::Register {
            // (writing a union field is safe; this selects reg_event, already the member)
            self.raw.__bindgen_anon_1.reg_event.async_ = u8::from(on);
        }
        self
    }

    /// A memory event on one frame (`SETUP_MEM_EVENT`, not generic).
    ///
    /// ```
    /// use libvmi::events::{EventSpec, EventType, MemAccess};
    /// use libvmi::Pa;
    /// let spec = EventSpec::memory(Pa(0x1234_5678).gfn(), MemAccess::W | MemAccess::X);
    /// assert_eq!(spec.event_type(), EventType::Memory);
    /// ```
    pub fn memory(gfn: Gfn, access: MemAccess) -> EventSpec {
        let mut s = EventSpec::new(sys::VMI_EVENT_MEMORY as u32);
        // SAFETY: writing the mem_event member of the zeroed union selects it.
        unsafe {
            let m = &mut s.raw.__bindgen_anon_1.mem_event;
            m.gfn = gfn.0;
            m.in_access = access.0;
            m.generic = 0;
        }
        s
    }

    /// A generic memory event: every frame whose access rights (set with
    /// `vmi_set_mem_event`) are violated with `access`.
    ///
    /// ```
    /// use libvmi::events::{EventSpec, EventType, MemAccess};
    /// let spec = EventSpec::memory_generic(MemAccess::X);
    /// assert_eq!(spec.event_type(), EventType::Memory);
    /// ```
    pub fn memory_generic(access: MemAccess) -> EventSpec {
        let mut s = EventSpec::new(sys::VMI_EVENT_MEMORY as u32);
        // SAFETY: writing the mem_event member of the zeroed union selects it.
        unsafe {
            let m = &mut s.raw.__bindgen_anon_1.mem_event;
            m.gfn = !0;
            m.in_access = access.0;
            m.generic = 1;
        }
        s
    }

    /// Single-step the vCPUs in `vcpu_mask` (bit n = vCPU n, at most 32), starting at
    /// once (`SETUP_SINGLESTEP_EVENT` with `enable`).
    ///
    /// ```
    /// use libvmi::events::{EventSpec, EventType};
    /// let spec = EventSpec::single_step(0b11); // vCPUs 0 and 1
    /// assert_eq!(spec.event_type(), EventType::SingleStep);
    /// ```
    pub fn single_step(vcpu_mask: u32) -> EventSpec {
        let mut s = EventSpec::new(sys::VMI_EVENT_SINGLESTEP as u32);
        // SAFETY: writing the ss_event member of the zeroed union selects it.
        unsafe {
            let ss = &mut s.raw.__bindgen_anon_1.ss_event;
            ss.vcpus = vcpu_mask;
            ss.enable = 1;
        }
        s
    }

    /// Software breakpoints (INT3) (`SETUP_INTERRUPT_EVENT`). By default the callback must
    /// decide re-injection with [`Event::set_reinject`]; undecided INT3s are re-injected.
    ///
    /// ```
    /// use libvmi::events::{EventSpec, EventType};
    /// assert_eq!(EventSpec::interrupt_int3().event_type(), EventType::Interrupt);
    /// ```
    pub fn interrupt_int3() -> EventSpec {
        let mut s = EventSpec::new(sys::VMI_EVENT_INTERRUPT as u32);
        // SAFETY: writing the interrupt_event member of the zeroed union selects it.
        unsafe {
            let i = &mut s.raw.__bindgen_anon_1.interrupt_event;
            i.intr = sys::INT3 as u8;
            i.__bindgen_anon_1.__bindgen_anon_1.reinject = -1;
        }
        s
    }

    /// CPUID instructions.
    ///
    /// ```
    /// use libvmi::events::{EventSpec, EventType};
    /// assert_eq!(EventSpec::cpuid().event_type(), EventType::Cpuid);
    /// ```
    pub fn cpuid() -> EventSpec {
        EventSpec::new(sys::VMI_EVENT_CPUID as u32)
    }

    /// Debug exceptions.
    ///
    /// ```
    /// use libvmi::events::{EventSpec, EventType};
    /// assert_eq!(EventSpec::debug_exception().event_type(), EventType::DebugException);
    /// ```
    pub fn debug_exception() -> EventSpec {
        EventSpec::new(sys::VMI_EVENT_DEBUG_EXCEPTION as u32)
    }
}

/// What an event reports, copied out of LibVMI's event.
///
/// ```no_run
/// use libvmi::events::{EventInfo, EventSpec, Response};
/// # let mut vmi = libvmi::Vmi::xen("debian").events(true).init()?;
/// vmi.register_event(EventSpec::cpuid(), |_vmi, event| {
///     if let EventInfo::Cpuid { leaf, subleaf, .. } = event.info() {
///         println!("cpuid {leaf:#x}/{subleaf:#x}");
///     }
///     Response::NONE
/// })?;
/// # Ok::<(), libvmi::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum EventInfo {
    /// A register access.
    Register {
        /// The register.
        reg: Register,
        /// The value read or written.
        value: u64,
        /// The previous value (CR0/CR3/CR4/MSR).
        previous: u64,
        /// The MSR index (MSR events).
        msr: u32,
    },
    /// A memory access.
    Memory {
        /// The frame.
        gfn: Gfn,
        /// The virtual address, if the hypervisor knows it.
        gla: Option<Va>,
        /// The offset in the frame.
        offset: u64,
        /// The access that happened.
        access: MemAccess,
    },
    /// A single step.
    SingleStep {
        /// The instruction pointer.
        gla: Va,
        /// Its frame.
        gfn: Gfn,
        /// The offset in the frame.
        offset: u64,
    },
    /// An INT3.
    Interrupt {
        /// The instruction pointer of the INT3.
        gla: Va,
        /// Its frame.
        gfn: Gfn,
        /// The offset in the frame.
        offset: u64,
        /// The instruction length.
        insn_length: u32,
    },
    /// A CPUID.
    Cpuid {
        /// The leaf (EAX).
        leaf: u32,
        /// The subleaf (ECX).
        subleaf: u32,
        /// The instruction length.
        insn_length: u32,
    },
    /// A debug exception.
    Debug {
        /// The instruction pointer.
        gla: Va,
        /// Its frame.
        gfn: Gfn,
        /// The offset in the frame.
        offset: u64,
        /// The instruction length.
        insn_length: u32,
        /// The trap type (`HVMOP_TRAP_*` on Xen).
        trap_type: u8,
    },
    /// Another type: read it from [`Event::raw`].
    Other(EventType),
}

/// The event being delivered, as the callback sees it.
///
/// ```no_run
/// use libvmi::events::{EventSpec, Response};
/// # let mut vmi = libvmi::Vmi::xen("debian").events(true).init()?;
/// vmi.register_event(EventSpec::single_step(0b1), |_vmi, event| {
///     println!("{} on vCPU {}", event.event_type(), event.vcpu());
///     Response::NONE
/// })?;
/// # Ok::<(), libvmi::Error>(())
/// ```
pub struct Event<'a> {
    raw: &'a mut sys::vmi_event_t,
}

impl Event<'_> {
    /// The event's type.
    ///
    /// ```no_run
    /// use libvmi::events::{EventSpec, EventType, Response};
    /// # let mut vmi = libvmi::Vmi::xen("debian").events(true).init()?;
    /// vmi.register_event(EventSpec::cpuid(), |_vmi, event| {
    ///     assert_eq!(event.event_type(), EventType::Cpuid);
    ///     Response::NONE
    /// })?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    #[must_use]
    pub fn event_type(&self) -> EventType {
        EventType::from_raw(self.raw.type_)
    }

    /// The vCPU the event happened on.
    ///
    /// ```no_run
    /// use libvmi::events::{EventSpec, Response};
    /// # let mut vmi = libvmi::Vmi::xen("debian").events(true).init()?;
    /// vmi.register_event(EventSpec::cpuid(), |_vmi, event| {
    ///     println!("CPUID on vCPU {}", event.vcpu());
    ///     Response::NONE
    /// })?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    #[must_use]
    pub fn vcpu(&self) -> u32 {
        self.raw.vcpu_id
    }

    /// The active SLAT (altp2m) view.
    ///
    /// ```no_run
    /// use libvmi::events::{EventSpec, Response};
    /// # let mut vmi = libvmi::Vmi::xen("debian").events(true).init()?;
    /// vmi.register_event(EventSpec::single_step(0b1), |_vmi, event| {
    ///     println!("in SLAT view {}", event.slat_id());
    ///     Response::NONE
    /// })?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    #[must_use]
    pub fn slat_id(&self) -> u16 {
        self.raw.slat_id
    }

    /// Ask to switch to SLAT view `id` (with [`Response::SLAT_ID`]).
    ///
    /// ```no_run
    /// use libvmi::events::{EventSpec, Response};
    /// # let mut vmi = libvmi::Vmi::xen("debian").events(true).init()?;
    /// vmi.register_event(EventSpec::single_step(0b1), |_vmi, event| {
    ///     event.set_slat_id(0); // back to the default view
    ///     Response::SLAT_ID
    /// })?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn set_slat_id(&mut self, id: u16) {
        self.raw.slat_id = id;
    }

    /// What happened.
    ///
    /// ```no_run
    /// use libvmi::events::{EventInfo, EventSpec, MemAccess, Response};
    /// # let mut vmi = libvmi::Vmi::xen("debian").events(true).init()?;
    /// vmi.register_event(EventSpec::memory(libvmi::Gfn(0x1234), MemAccess::W), |_vmi, event| {
    ///     if let EventInfo::Memory { gfn, offset, .. } = event.info() {
    ///         println!("write to {gfn}+{offset:#x}");
    ///     }
    ///     Response::NONE
    /// })?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    #[must_use]
    pub fn info(&self) -> EventInfo {
        let u = &self.raw.__bindgen_anon_1;
        // SAFETY: LibVMI fills the union member that matches the event's type, which is
        // the only member read in each arm.
        unsafe {
            match self.event_type() {
                EventType::Register => EventInfo::Register {
                    reg: Register::from_raw(u.reg_event.reg),
                    value: u.reg_event.value,
                    previous: u.reg_event.previous,
                    msr: u.reg_event.msr,
                },
                EventType::Memory => EventInfo::Memory {
                    gfn: Gfn(u.mem_event.gfn),
                    gla: (u.mem_event.gla_valid != 0).then_some(Va(u.mem_event.gla)),
                    offset: u.mem_event.offset,
                    access: MemAccess(u.mem_event.out_access),
                },
                EventType::SingleStep => EventInfo::SingleStep {
                    gla: Va(u.ss_event.gla),
                    gfn: Gfn(u.ss_event.gfn),
                    offset: u.ss_event.offset,
                },
                EventType::Interrupt => {
                    let i = &u.interrupt_event.__bindgen_anon_1.__bindgen_anon_1;
                    EventInfo::Interrupt {
                        gla: Va(i.gla),
                        gfn: Gfn(i.gfn),
                        offset: i.offset,
                        insn_length: i.insn_length,
                    }
                }
                EventType::Cpuid => EventInfo::Cpuid {
                    leaf: u.cpuid_event.leaf,
                    subleaf: u.cpuid_event.subleaf,
                    insn_length: u.cpuid_event.insn_length,
                },
                EventType::DebugException => EventInfo::Debug {
                    gla: Va(u.debug_event.gla),
                    gfn: Gfn(u.debug_event.gfn),
                    offset: u.debug_event.offset,
                    insn_length: u.debug_event.insn_length,
                    trap_type: u.debug_event.type_,
                },
                other => EventInfo::Other(other),
            }
        }
    }

    /// For INT3 and debug events: re-inject the exception into the guest (`true`), or
    /// swallow it (`false`). Ignored for other events.
    ///
    /// ```no_run
    /// use libvmi::events::{EventSpec, Response};
    /// # let mut vmi = libvmi::Vmi::xen("debian").events(true).init()?;
    /// vmi.register_event(EventSpec::interrupt_int3(), |_vmi, event| {
    ///     event.set_reinject(true); // not our breakpoint: the guest's debugger gets it
    ///     Response::NONE
    /// })?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn set_reinject(&mut self, reinject: bool) {
        let v = i8::from(reinject);
        match self.event_type() {
            // Writing union fields is safe; the member written is the one the type uses.
            EventType::Interrupt => {
                self.raw
                    .__bindgen_anon_1
                    .interrupt_event
                    .__bindgen_anon_1
                    .__bindgen_anon_1
                    .reinject = v;
            }
            EventType::DebugException => {
                self.raw.__bindgen_anon_1.debug_event.reinject = v;
            }
            _ => {}
        }
    }

    /// The vCPU's registers at the event (x86), if the driver provided them.
    ///
    /// ```no_run
    /// use libvmi::events::{EventSpec, Response};
    /// # let mut vmi = libvmi::Vmi::xen("debian").events(true).init()?;
    /// vmi.register_event(EventSpec::single_step(0b1), |_vmi, event| {
    ///     if let Some(regs) = event.x86_registers() {
    ///         println!("rip = {:#x}", regs.rip);
    ///     }
    ///     Response::NONE
    /// })?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    #[must_use]
    pub fn x86_registers(&self) -> Option<&X86Registers> {
        // SAFETY: for register-snapshot events the union holds x86_regs, a pointer that is
        // NULL or valid for the duration of the callback (LibVMI owns it).
        unsafe { self.raw.__bindgen_anon_2.__bindgen_anon_1.x86_regs.as_ref() }
    }

    /// Mutable registers, applied if the callback returns [`Response::SET_REGISTERS`].
    ///
    /// ```no_run
    /// use libvmi::events::{EventSpec, Response};
    /// # let mut vmi = libvmi::Vmi::xen("debian").events(true).init()?;
    /// vmi.register_event(EventSpec::cpuid(), |_vmi, event| {
    ///     let Some(regs) = event.x86_registers_mut() else { return Response::NONE };
    ///     regs.rip += 2; // skip the instruction
    ///     Response::SET_REGISTERS
    /// })?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn x86_registers_mut(&mut self) -> Option<&mut X86Registers> {
        // SAFETY: as in `x86_registers`; the callback has exclusive use during the call.
        unsafe { self.raw.__bindgen_anon_2.__bindgen_anon_1.x86_regs.as_mut() }
    }

    /// The raw LibVMI event, for fields this view does not expose.
    ///
    /// ```no_run
    /// use libvmi::events::{EventSpec, Response};
    /// # let mut vmi = libvmi::Vmi::xen("debian").events(true).init()?;
    /// vmi.register_event(EventSpec::cpuid(), |_vmi, event| {
    ///     println!("event version {}", event.raw().version);
    ///     Response::NONE
    /// })?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    #[must_use]
    pub fn raw(&self) -> &sys::vmi_event_t {
        self.raw
    }
}

/// Identifies a registered event, for [`Vmi::clear_event`].
///
/// ```no_run
/// use libvmi::events::{EventSpec, Response};
/// # let mut vmi = libvmi::Vmi::xen("debian").events(true).init()?;
/// let id = vmi.register_event(EventSpec::cpuid(), |_vmi, _event| Response::NONE)?;
/// vmi.clear_event(id)?;
/// # Ok::<(), libvmi::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct EventId(u64);

type Callback = Box<dyn FnMut(&Vmi, &mut Event<'_>) -> Response + Send>;

/// The Rust side of one registered event: what `vmi_event_t.data` points to.
struct Handler {
    callback: Callback,
    panic: Option<Box<dyn Any + Send>>,
}

/// One registration. Both pointers come from `Box::into_raw` and are freed by
/// `EventRegistry::free`; LibVMI holds `event` while registered.
struct Slot {
    id: EventId,
    event: *mut sys::vmi_event_t,
    handler: *mut Handler,
    /// `vmi_clear_event` failed: LibVMI may still refer to it, so it is only freed after
    /// `vmi_destroy`.
    zombie: bool,
}

/// The events registered on an instance.
#[derive(Default)]
pub(crate) struct EventRegistry {
    slots: Vec<Slot>,
    next_id: u64,
}

impl EventRegistry {
    /// Clear every event (ignoring failures); used before `vmi_destroy`.
    pub(crate) fn clear_all(&mut self, vmi: sys::vmi_instance_t) {
        for slot in &mut self.slots {
            if !slot.zombie {
                // SAFETY: `slot.event` is registered with this live instance; clearing
                // outside a callback is immediate; no free routine.
                let st = unsafe { sys::vmi_clear_event(vmi, slot.event, None) };
                slot.zombie = st != sys::VMI_SUCCESS;
            }
        }
    }

    /// Free every slot; only after `vmi_destroy` or after each was cleared.
    pub(crate) fn free_all(&mut self) {
        for slot in self.slots.drain(..) {
            free_slot(slot);
        }
    }
}

fn free_slot(slot: Slot) {
    // SAFETY: both pointers came from Box::into_raw in register_event and are freed once,
    // when LibVMI no longer refers to them.
    unsafe {
        drop(Box::from_raw(slot.event));
        drop(Box::from_raw(slot.handler));
    }
}

thread_local! {
    /// The instance currently inside `vmi_events_listen` on this thread: what callbacks
    /// receive as `&Vmi`.
    static LISTENING: Cell<*const Vmi> = const { Cell::new(ptr::null()) };
}

/// Restores LISTENING when `listen` returns or unwinds.
struct ListeningGuard(*const Vmi);

impl Drop for ListeningGuard {
    fn drop(&mut self) {
        LISTENING.with(|l| l.set(self.0));
    }
}

/// The C callback for every event registered through this crate.
extern "C" fn trampoline(
    _vmi: sys::vmi_instance_t,
    event: *mut sys::vmi_event_t,
) -> sys::event_response_t {
    let result = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: LibVMI passes the registered event, which we allocated; its `data`
        // points to the Handler allocated with it (or is NULL if misused).
        let Some(event) = (unsafe { event.as_mut() }) else {
            return Response::NONE;
        };
        let handler = event.data.cast::<Handler>();
        if handler.is_null() {
            return Response::NONE;
        }
        let vmi = LISTENING.with(Cell::get);
        if vmi.is_null() {
            // Delivered outside Vmi::listen (cannot happen with the Xen/KVM drivers).
            return Response::NONE;
        }
        // SAFETY: `vmi` was set by `Vmi::listen` from a shared reborrow of the instance,
        // which is alive and not otherwise used while LibVMI runs the callback. The
        // Handler is a separate allocation only this callback uses, and callbacks of one
        // instance are never nested (listening needs `&mut Vmi`).
        let (vmi, handler) = unsafe { (&*vmi, &mut *handler) };
        if handler.panic.is_some() {
            return Response::NONE;
        }
        let mut view = Event { raw: event };
        match catch_unwind(AssertUnwindSafe(|| (handler.callback)(vmi, &mut view))) {
            Ok(r) => r,
            Err(payload) => {
                handler.panic = Some(payload);
                Response::NONE
            }
        }
    }));
    result.unwrap_or(Response::NONE).0 as sys::event_response_t
}

impl Vmi {
    /// Register an event with a closure called for each occurrence. Needs an instance
    /// initialised with events. The closure gets the instance (for reads, translations,
    /// registers) and the event; it returns a [`Response`].
    ///
    /// ```no_run
    /// use libvmi::events::{EventSpec, Response};
    /// # let mut vmi = libvmi::Vmi::xen("debian").events(true).init()?;
    /// let mut count = 0u64;
    /// let id = vmi.register_event(EventSpec::cpuid(), move |_vmi, _event| {
    ///     count += 1;
    ///     Response::NONE
    /// })?;
    /// vmi.listen(std::time::Duration::from_millis(100))?;
    /// vmi.clear_event(id)?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn register_event<F>(&mut self, spec: EventSpec, callback: F) -> Result<EventId>
    where
        F: FnMut(&Vmi, &mut Event<'_>) -> Response + Send + 'static,
    {
        if !self.events_enabled() {
            return Err(Error::Unsupported {
                op: "event registration",
                reason: "the instance was not initialised with events (Builder::events(true); \
                         Xen or KVM only)",
            });
        }
        let handler = Box::into_raw(Box::new(Handler {
            callback: Box::new(callback),
            panic: None,
        }));
        let mut raw = spec.raw;
        raw.data = handler.cast::<c_void>();
        raw.callback = Some(trampoline);
        let event = Box::into_raw(Box::new(raw));
        // SAFETY: live handle; `event` is a fully initialised vmi_event_t at a stable heap
        // address that stays allocated until cleared (or until vmi_destroy).
        let status = unsafe { sys::vmi_register_event(self.as_raw(), event) };
        let id = EventId(self.events.next_id);
        let slot = Slot {
            id,
            event,
            handler,
            zombie: false,
        };
        if status != sys::VMI_SUCCESS {
            free_slot(slot);
            return Err(Error::Failed {
                op: "vmi_register_event",
            });
        }
        self.events.next_id += 1;
        self.events.slots.push(slot);
        Ok(id)
    }

    /// Clear a registered event (`vmi_clear_event`) and free its closure.
    ///
    /// ```no_run
    /// use libvmi::events::{EventSpec, Response};
    /// # let mut vmi = libvmi::Vmi::xen("debian").events(true).init()?;
    /// let id = vmi.register_event(EventSpec::cpuid(), |_vmi, _event| Response::NONE)?;
    /// vmi.listen(std::time::Duration::from_millis(100))?;
    /// vmi.clear_event(id)?;
    /// assert_eq!(vmi.registered_events(), 0);
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn clear_event(&mut self, id: EventId) -> Result<()> {
        let Some(i) = self
            .events
            .slots
            .iter()
            .position(|s| s.id == id && !s.zombie)
        else {
            return Err(Error::InvalidArgument {
                what: "event id",
                reason: format!("{id:?} is not registered"),
            });
        };
        let event = self.events.slots[i].event;
        // SAFETY: live handle; `event` is registered; not inside a callback (we have
        // `&mut self`), so LibVMI clears it at once and no longer refers to it on success.
        let status = unsafe { sys::vmi_clear_event(self.as_raw(), event, None) };
        if status != sys::VMI_SUCCESS {
            self.events.slots[i].zombie = true;
            return Err(Error::Failed {
                op: "vmi_clear_event",
            });
        }
        free_slot(self.events.slots.swap_remove(i));
        Ok(())
    }

    /// Clear every registered event; the first failure is reported after trying all.
    ///
    /// ```no_run
    /// use libvmi::events::{EventSpec, Response};
    /// # let mut vmi = libvmi::Vmi::xen("debian").events(true).init()?;
    /// vmi.register_event(EventSpec::cpuid(), |_vmi, _event| Response::NONE)?;
    /// vmi.register_event(EventSpec::interrupt_int3(), |_vmi, _event| Response::NONE)?;
    /// vmi.clear_events()?;
    /// assert_eq!(vmi.registered_events(), 0);
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn clear_events(&mut self) -> Result<()> {
        let ids: Vec<EventId> = self
            .events
            .slots
            .iter()
            .filter(|s| !s.zombie)
            .map(|s| s.id)
            .collect();
        let mut first = Ok(());
        for id in ids {
            if let Err(e) = self.clear_event(id) {
                if first.is_ok() {
                    first = Err(e);
                }
            }
        }
        first
    }

    /// Wait up to `timeout` for events and deliver them to their closures
    /// (`vmi_events_listen`). A panic in a closure is caught at the C boundary and
    /// resumed here, after LibVMI has returned.
    ///
    /// ```no_run
    /// use libvmi::events::{EventSpec, Response};
    /// use std::time::Duration;
    /// # let mut vmi = libvmi::Vmi::xen("debian").events(true).init()?;
    /// vmi.register_event(EventSpec::cpuid(), |_vmi, _event| Response::NONE)?;
    /// for _ in 0..10 {
    ///     vmi.listen(Duration::from_millis(500))?;
    /// }
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn listen(&mut self, timeout: Duration) -> Result<()> {
        if !self.events_enabled() {
            return Err(Error::Unsupported {
                op: "listening for events",
                reason: "the instance was not initialised with events",
            });
        }
        let ms = u32::try_from(timeout.as_millis()).unwrap_or(u32::MAX);
        let status = {
            let me: &Vmi = self;
            let _restore = ListeningGuard(LISTENING.with(|l| l.replace(ptr::from_ref(me))));
            // SAFETY: live handle; callbacks reach `me` through LISTENING only while this
            // call runs.
            unsafe { sys::vmi_events_listen(me.as_raw(), ms) }
        };
        for slot in &self.events.slots {
            // SAFETY: the handler is alive (owned by the registry); no callback runs now.
            if let Some(payload) = unsafe { (*slot.handler).panic.take() } {
                std::panic::resume_unwind(payload);
            }
        }
        if status != sys::VMI_SUCCESS {
            return Err(Error::Failed {
                op: "vmi_events_listen",
            });
        }
        Ok(())
    }

    /// Listen in a loop while `keep_going()` is true, then clear every registered event,
    /// also when listening fails or a closure panics.
    ///
    /// ```no_run
    /// use libvmi::events::{EventSpec, Response};
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::time::Duration;
    /// static STOP: AtomicBool = AtomicBool::new(false);
    /// # let mut vmi = libvmi::Vmi::xen("debian").events(true).init()?;
    /// vmi.register_event(EventSpec::cpuid(), |_vmi, _event| Response::NONE)?;
    /// vmi.listen_while(Duration::from_millis(500), || !STOP.load(Ordering::Relaxed))?;
    /// assert_eq!(vmi.registered_events(), 0); // cleared on the way out
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn listen_while(
        &mut self,
        timeout: Duration,
        mut keep_going: impl FnMut() -> bool,
    ) -> Result<()> {
        /// Clears the events if the loop is left by `?` or a panic.
        struct ClearOnExit<'a> {
            vmi: &'a mut Vmi,
            armed: bool,
        }
        impl Drop for ClearOnExit<'_> {
            fn drop(&mut self) {
                if self.armed {
                    let _ = self.vmi.clear_events();
                }
            }
        }
        let mut guard = ClearOnExit {
            vmi: self,
            armed: true,
        };
        while keep_going() {
            guard.vmi.listen(timeout)?;
        }
        guard.armed = false;
        guard.vmi.clear_events()
    }

    /// The number of events waiting to be delivered (`vmi_are_events_pending`).
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// # let mut vmi = libvmi::Vmi::xen("debian").events(true).init()?;
    /// if vmi.events_pending()? > 0 {
    ///     vmi.listen(Duration::ZERO)?;
    /// }
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn events_pending(&self) -> Result<usize> {
        if !self.events_enabled() {
            return Err(Error::Unsupported {
                op: "vmi_are_events_pending",
                reason: "the instance was not initialised with events",
            });
        }
        // SAFETY: live handle initialised with events.
        let n = unsafe { sys::vmi_are_events_pending(self.as_raw()) };
        usize::try_from(n).map_err(|_| Error::Failed {
            op: "vmi_are_events_pending",
        })
    }

    /// The number of events registered through this instance.
    ///
    /// ```no_run
    /// use libvmi::events::{EventSpec, Response};
    /// # let mut vmi = libvmi::Vmi::xen("debian").events(true).init()?;
    /// vmi.register_event(EventSpec::cpuid(), |_vmi, _event| Response::NONE)?;
    /// assert_eq!(vmi.registered_events(), 1);
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    #[must_use]
    pub fn registered_events(&self) -> usize {
        self.events.slots.iter().filter(|s| !s.zombie).count()
    }
}
