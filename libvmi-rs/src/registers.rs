//! vCPU registers: one at a time by [`Register`], or the whole x86 set.
//!
//! In File mode LibVMI knows only CR3 (the kernel page table it found), so
//! `get_vcpureg(Register::CR3, 0)` works there and everything else fails with
//! [`Error::Register`].

use crate::error::{Error, RegisterOp, Result};
use crate::instance::Vmi;
use core::fmt;
use libvmi_sys as sys;

/// LibVMI's x86 register set (`x86_registers_t`), as the hypervisor reports it.
///
/// ```no_run
/// use libvmi::X86Registers;
/// # let vmi = libvmi::Vmi::xen("debian").init()?;
/// let regs: X86Registers = vmi.get_x86_registers(0)?;
/// println!("rip {:#x} cr3 {:#x}", regs.rip, regs.cr3);
/// # Ok::<(), libvmi::Error>(())
/// ```
pub type X86Registers = sys::x86_registers_t;

/// A register, by LibVMI's `reg_t` number (`RAX`, `CR3`, `MSR_LSTAR`, ...).
///
/// ```
/// use libvmi::Register;
/// assert_eq!(Register::CR3.to_string(), "CR3");
/// assert_eq!(Register::from_raw(Register::RIP.raw()), Register::RIP);
/// assert_eq!(Register::from_name("rsp"), Some(Register::RSP));
/// assert_eq!(Register::from_raw(999).to_string(), "register #999");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Register(u64);

macro_rules! registers {
    ($($name:ident = $c:ident),* $(,)?) => {
        impl Register {
            $(
                #[doc = concat!("`", stringify!($c), "`.")]
                #[doc = ""]
                #[doc = "```"]
                #[doc = "use libvmi::Register;"]
                #[doc = concat!(
                    "assert_eq!(Register::from_name(\"", stringify!($name), "\"), Some(Register::",
                    stringify!($name), "));"
                )]
                #[doc = concat!(
                    "assert_eq!(Register::", stringify!($name), ".to_string(), \"", stringify!($name),
                    "\");"
                )]
                #[doc = "```"]
                pub const $name: Register = Register(sys::$c as u64);
            )*

            const NAMED: &'static [(Register, &'static str)] = &[
                $((Register::$name, stringify!($name)),)*
            ];
        }
    };
}

registers! {
    RAX = RAX, RBX = RBX, RCX = RCX, RDX = RDX, RBP = RBP, RSI = RSI, RDI = RDI, RSP = RSP,
    R8 = R8, R9 = R9, R10 = R10, R11 = R11, R12 = R12, R13 = R13, R14 = R14, R15 = R15,
    RIP = RIP, RFLAGS = RFLAGS,
    CR0 = CR0, CR2 = CR2, CR3 = CR3, CR4 = CR4, XCR0 = XCR0,
    DR0 = DR0, DR1 = DR1, DR2 = DR2, DR3 = DR3, DR6 = DR6, DR7 = DR7,
    CS_SEL = CS_SEL, DS_SEL = DS_SEL, ES_SEL = ES_SEL, FS_SEL = FS_SEL, GS_SEL = GS_SEL,
    SS_SEL = SS_SEL, TR_SEL = TR_SEL, LDTR_SEL = LDTR_SEL,
    CS_BASE = CS_BASE, DS_BASE = DS_BASE, ES_BASE = ES_BASE, FS_BASE = FS_BASE,
    GS_BASE = GS_BASE, SS_BASE = SS_BASE, TR_BASE = TR_BASE, LDTR_BASE = LDTR_BASE,
    IDTR_BASE = IDTR_BASE, GDTR_BASE = GDTR_BASE,
    IDTR_LIMIT = IDTR_LIMIT, GDTR_LIMIT = GDTR_LIMIT,
    SYSENTER_CS = SYSENTER_CS, SYSENTER_ESP = SYSENTER_ESP, SYSENTER_EIP = SYSENTER_EIP,
    SHADOW_GS = SHADOW_GS, TSC = TSC,
    MSR_FLAGS = MSR_FLAGS, MSR_LSTAR = MSR_LSTAR, MSR_CSTAR = MSR_CSTAR,
    MSR_SYSCALL_MASK = MSR_SYSCALL_MASK, MSR_EFER = MSR_EFER, MSR_TSC_AUX = MSR_TSC_AUX,
    MSR_STAR = MSR_STAR, MSR_SHADOW_GS_BASE = MSR_SHADOW_GS_BASE, MSR_ALL = MSR_ALL,
    MSR_ANY = MSR_ANY,
}

impl Register {
    /// A register by LibVMI number.
    ///
    /// ```
    /// use libvmi::Register;
    /// assert_eq!(Register::from_raw(Register::CR3.raw()), Register::CR3);
    /// assert_eq!(Register::from_raw(999).name(), None);
    /// ```
    #[must_use]
    pub const fn from_raw(raw: u64) -> Register {
        Register(raw)
    }

    /// LibVMI's number for it.
    ///
    /// ```
    /// use libvmi::Register;
    /// assert_eq!(Register::RIP.raw(), libvmi::sys::RIP as u64);
    /// assert_ne!(Register::RIP.raw(), Register::RSP.raw());
    /// ```
    #[must_use]
    pub const fn raw(self) -> u64 {
        self.0
    }

    /// A register by name (case-insensitive: `"cr3"`, `"RIP"`, `"msr_lstar"`).
    ///
    /// ```
    /// use libvmi::Register;
    /// assert_eq!(Register::from_name("cr3"), Some(Register::CR3));
    /// assert_eq!(Register::from_name("Msr_Lstar"), Some(Register::MSR_LSTAR));
    /// assert_eq!(Register::from_name("cr9"), None);
    /// ```
    #[must_use]
    pub fn from_name(name: &str) -> Option<Register> {
        Register::NAMED
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(name))
            .map(|&(r, _)| r)
    }

    /// Its name, if it is one of the named constants.
    ///
    /// ```
    /// use libvmi::Register;
    /// assert_eq!(Register::CR3.name(), Some("CR3"));
    /// assert_eq!(Register::from_raw(999).name(), None);
    /// ```
    #[must_use]
    pub fn name(self) -> Option<&'static str> {
        Register::NAMED
            .iter()
            .find(|(r, _)| *r == self)
            .map(|&(_, n)| n)
    }
}

impl fmt::Display for Register {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "register #{}", self.0),
        }
    }
}

impl Vmi {
    /// Read one register of `vcpu` (`vmi_get_vcpureg`).
    ///
    /// ```no_run
    /// use libvmi::Register;
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// let cr3 = vmi.get_vcpureg(Register::CR3, 0)?; // File mode: the kernel page table
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn get_vcpureg(&self, reg: Register, vcpu: u32) -> Result<u64> {
        let mut value: u64 = 0;
        // SAFETY: live handle, valid out-pointer.
        let status = unsafe {
            sys::vmi_get_vcpureg(self.as_raw(), &mut value, reg.0 as sys::reg_t, vcpu.into())
        };
        if status != sys::VMI_SUCCESS {
            return Err(Error::Register {
                op: RegisterOp::Get,
                reg,
                vcpu,
            });
        }
        Ok(value)
    }

    /// Write one register of `vcpu` (`vmi_set_vcpureg`). The vCPU should be paused.
    ///
    /// ```no_run
    /// use libvmi::Register;
    /// # let vmi = libvmi::Vmi::xen("debian").init()?;
    /// let paused = vmi.pause()?;
    /// let rip = paused.get_vcpureg(Register::RIP, 0)?;
    /// paused.set_vcpureg(Register::RIP, 0, rip + 1)?; // skip a 1-byte INT3
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn set_vcpureg(&self, reg: Register, vcpu: u32, value: u64) -> Result<()> {
        // SAFETY: live handle.
        let status =
            unsafe { sys::vmi_set_vcpureg(self.as_raw(), value, reg.0 as sys::reg_t, vcpu.into()) };
        if status != sys::VMI_SUCCESS {
            return Err(Error::Register {
                op: RegisterOp::Set,
                reg,
                vcpu,
            });
        }
        Ok(())
    }

    /// Read all x86 registers of `vcpu` (`vmi_get_vcpuregs`).
    ///
    /// ```no_run
    /// # let vmi = libvmi::Vmi::xen("debian").init()?;
    /// let regs = vmi.get_x86_registers(0)?;
    /// println!("vCPU 0 at {:#x}, page table {:#x}", regs.rip, regs.cr3);
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn get_x86_registers(&self, vcpu: u32) -> Result<X86Registers> {
        let mut regs: sys::registers_t = crate::ffi::zeroed();
        // SAFETY: live handle, valid out-pointer to a zeroed registers_t.
        let status = unsafe { sys::vmi_get_vcpuregs(self.as_raw(), &mut regs, vcpu.into()) };
        if status != sys::VMI_SUCCESS {
            return Err(Error::Register {
                op: RegisterOp::Get,
                reg: Register::MSR_ALL,
                vcpu,
            });
        }
        // SAFETY: on x86 LibVMI fills the x86 member of the union.
        Ok(unsafe { regs.__bindgen_anon_1.x86 })
    }

    /// Write all x86 registers of `vcpu` (`vmi_set_vcpuregs`). The vCPU should be paused.
    ///
    /// ```no_run
    /// # let vmi = libvmi::Vmi::xen("debian").init()?;
    /// let _paused = vmi.pause()?;
    /// let mut regs = vmi.get_x86_registers(0)?;
    /// regs.rax = 0;
    /// vmi.set_x86_registers(0, &regs)?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn set_x86_registers(&self, vcpu: u32, regs: &X86Registers) -> Result<()> {
        let mut all: sys::registers_t = crate::ffi::zeroed();
        all.__bindgen_anon_1.x86 = *regs;
        // SAFETY: live handle, valid pointer to an initialised registers_t.
        let status = unsafe { sys::vmi_set_vcpuregs(self.as_raw(), &mut all, vcpu.into()) };
        if status != sys::VMI_SUCCESS {
            return Err(Error::Register {
                op: RegisterOp::Set,
                reg: Register::MSR_ALL,
                vcpu,
            });
        }
        Ok(())
    }
}
