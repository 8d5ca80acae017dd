//! One error type for the whole API: what failed, and for which address, symbol, pid,
//! register or configuration key.
//!
//! LibVMI itself only says `VMI_FAILURE` (and, for initialisation, a `vmi_init_error_t`).
//! Every call in this crate knows what it asked for, so every [`Error`] names it:
//!
//! ```
//! use libvmi::{AccessContext, Error, ErrorKind, Pid, Va};
//!
//! let e = Error::Read { ctx: AccessContext::pid(Va(0x7ffd_0000), Pid(42)), len: 16, done: 0 };
//! assert_eq!(
//!     e.to_string(),
//!     "cannot read 16 bytes at virtual address 0x7ffd0000 (page table of pid 42): \
//!      not mapped or outside guest memory"
//! );
//! assert_eq!(e.kind(), ErrorKind::Memory);
//!
//! let e = Error::Symbol { symbol: "no_such_symbol".into() };
//! assert_eq!(e.to_string(), "kernel symbol `no_such_symbol` not found");
//! ```

use crate::addr::{AccessContext, Dtb, Pid, Va};
use crate::instance::Mode;
use crate::registers::Register;
use core::fmt;

/// The result type of this crate.
///
/// ```
/// fn page_count(bytes: u64) -> libvmi::Result<u64> {
///     if bytes == 0 {
///         return Err(libvmi::Error::Failed { op: "page_count" });
///     }
///     Ok(bytes.div_ceil(libvmi::PAGE_SIZE))
/// }
/// assert_eq!(page_count(4097).unwrap(), 2);
/// assert!(page_count(0).is_err());
/// ```
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// Why initialisation failed: LibVMI's `vmi_init_error_t`, plus the cases LibVMI reports
/// without setting it.
///
/// ```
/// use libvmi::InitError;
/// assert_eq!(
///     InitError::NoConfigEntry.to_string(),
///     "the configuration has no entry for this VM (for files: the entry must be named after \
///      the image's file name)"
/// );
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum InitError {
    /// `VMI_INIT_ERROR_DRIVER_NOT_DETECTED`: no hypervisor or file found.
    DriverNotDetected,
    /// `VMI_INIT_ERROR_DRIVER`: the hypervisor driver failed to initialise (for Xen: no
    /// Xen, no `libxenctrl`, or no privilege).
    Driver,
    /// `VMI_INIT_ERROR_VM_NOT_FOUND`: no such domain, or the file cannot be opened.
    VmNotFound,
    /// `VMI_INIT_ERROR_PAGING`: the paging mode could not be determined.
    Paging,
    /// `VMI_INIT_ERROR_OS`: OS initialisation failed (wrong offsets, System.map or profile,
    /// or no kernel page table found).
    Os,
    /// `VMI_INIT_ERROR_EVENTS`: events could not be initialised (File mode has none).
    Events,
    /// `VMI_INIT_ERROR_NO_CONFIG`: no configuration found, or it does not parse.
    NoConfig,
    /// `VMI_INIT_ERROR_NO_CONFIG_ENTRY`: the configuration has no (valid) entry for the VM.
    NoConfigEntry,
    /// LibVMI failed without saying why; for [`Mode::Xen`]/[`Mode::Kvm`]/[`Mode::Bareflank`]
    /// this is what a LibVMI built without that driver does.
    ModeUnavailable,
    /// LibVMI returned an error code this crate does not know.
    Other(u32),
}

impl InitError {
    /// Map LibVMI's `vmi_init_error_t`. `None` is `VMI_INIT_ERROR_NONE`.
    ///
    /// ```
    /// use libvmi::{sys, InitError};
    /// assert_eq!(InitError::from_raw(sys::VMI_INIT_ERROR_NONE as u32), None);
    /// assert_eq!(InitError::from_raw(sys::VMI_INIT_ERROR_OS as u32), Some(InitError::Os));
    /// assert_eq!(InitError::from_raw(9999), Some(InitError::Other(9999)));
    /// ```
    #[must_use]
    pub fn from_raw(raw: u32) -> Option<InitError> {
        use libvmi_sys as sys;
        let r = raw as sys::vmi_init_error_t;
        Some(match r {
            sys::VMI_INIT_ERROR_NONE => return None,
            sys::VMI_INIT_ERROR_DRIVER_NOT_DETECTED => InitError::DriverNotDetected,
            sys::VMI_INIT_ERROR_DRIVER => InitError::Driver,
            sys::VMI_INIT_ERROR_VM_NOT_FOUND => InitError::VmNotFound,
            sys::VMI_INIT_ERROR_PAGING => InitError::Paging,
            sys::VMI_INIT_ERROR_OS => InitError::Os,
            sys::VMI_INIT_ERROR_EVENTS => InitError::Events,
            sys::VMI_INIT_ERROR_NO_CONFIG => InitError::NoConfig,
            sys::VMI_INIT_ERROR_NO_CONFIG_ENTRY => InitError::NoConfigEntry,
            _ => InitError::Other(raw),
        })
    }
}

impl fmt::Display for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InitError::DriverNotDetected => f.write_str("no hypervisor or memory image detected"),
            InitError::Driver => f.write_str(
                "the hypervisor driver failed to initialise (is the hypervisor running, its \
                 control library installed, and do you have the privilege to use it?)",
            ),
            InitError::VmNotFound => f.write_str("no such VM or memory image"),
            InitError::Paging => f.write_str("cannot determine the guest's paging mode"),
            InitError::Os => f.write_str(
                "OS initialisation failed (check ostype, System.map or profile, and offsets)",
            ),
            InitError::Events => f.write_str("events are not available for this VM or mode"),
            InitError::NoConfig => f.write_str("no configuration found, or it does not parse"),
            InitError::NoConfigEntry => f.write_str(
                "the configuration has no entry for this VM (for files: the entry must be named \
                 after the image's file name)",
            ),
            InitError::ModeUnavailable => f.write_str(
                "LibVMI failed without a reason: this access mode is not available in this \
                 LibVMI build",
            ),
            InitError::Other(code) => write!(f, "LibVMI init error {code}"),
        }
    }
}

/// A register access direction, for [`Error::Register`].
///
/// ```
/// use libvmi::{Error, ErrorKind, Register, RegisterOp};
/// let e = Error::Register { op: RegisterOp::Get, reg: Register::CR3, vcpu: 0 };
/// assert_eq!(e.kind(), ErrorKind::Register);
/// assert_eq!(e.to_string(), "cannot read register CR3 of vCPU 0");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum RegisterOp {
    /// Reading a register.
    Get,
    /// Writing a register.
    Set,
}

/// Everything that can go wrong. Each variant carries what was asked for.
///
/// Match on the variant, or on [`Error::kind`] for coarse handling (exit codes).
///
/// ```
/// use libvmi::{Error, ErrorKind, Va};
/// let e = Error::GuestData {
///     what: "task list",
///     at: Some(Va(0xffff_8880_0000_0000)),
///     detail: "cycle after 3 entries".into(),
/// };
/// assert_eq!(e.kind(), ErrorKind::GuestData);
/// assert_eq!(
///     e.to_string(),
///     "implausible guest data in task list at 0xffff888000000000: cycle after 3 entries"
/// );
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Initialisation (driver, paging or OS) failed.
    #[error("cannot initialise LibVMI ({mode}, {domain}): {reason}")]
    Init {
        /// The access mode asked for.
        mode: Mode,
        /// The domain name, id or image path asked for.
        domain: String,
        /// What LibVMI reported.
        reason: InitError,
    },
    /// A read failed; `done` bytes at the start of the buffer are valid.
    #[error("cannot read {len} bytes at {ctx}: not mapped or outside guest memory")]
    Read {
        /// Where.
        ctx: AccessContext,
        /// How many bytes were asked for.
        len: usize,
        /// How many were read before the failure.
        done: usize,
    },
    /// A write failed; the first `done` bytes were written.
    #[error("cannot write {len} bytes at {ctx}: not mapped, outside guest memory, or the driver does not support writes")]
    Write {
        /// Where.
        ctx: AccessContext,
        /// How many bytes were to be written.
        len: usize,
        /// How many were written before the failure.
        done: usize,
    },
    /// A virtual address is not mapped.
    #[error("cannot translate virtual address {va} ({via})")]
    Translate {
        /// The address.
        va: Va,
        /// The page table used.
        via: crate::addr::Translation,
    },
    /// A kernel symbol was not found.
    #[error("kernel symbol `{symbol}` not found")]
    Symbol {
        /// The symbol.
        symbol: String,
    },
    /// A symbol exported by a user-space module was not found.
    #[error("symbol `{symbol}` not found in the module at {base} ({via})")]
    UserSymbol {
        /// The symbol.
        symbol: String,
        /// The module's base address.
        base: Va,
        /// The address space.
        via: crate::addr::Translation,
    },
    /// No symbol is known at an address.
    #[error("no symbol at {va} ({via})")]
    NoSymbolAt {
        /// The address.
        va: Va,
        /// The address space.
        via: crate::addr::Translation,
    },
    /// A process was not found (or has no page table).
    #[error("no process with pid {pid} (or it has no page table)")]
    Pid {
        /// The pid.
        pid: Pid,
    },
    /// No process uses this page table.
    #[error("no process uses the page table at {dtb}")]
    Dtb {
        /// The page-table root.
        dtb: Dtb,
    },
    /// A vCPU register could not be read or written.
    #[error("cannot {} register {reg} of vCPU {vcpu}", match .op { RegisterOp::Get => "read", RegisterOp::Set => "write" })]
    Register {
        /// Get or set.
        op: RegisterOp,
        /// Which register.
        reg: Register,
        /// Which vCPU.
        vcpu: u32,
    },
    /// An OS offset is not configured.
    #[error("OS offset `{name}` is not available (not in the configuration, or the OS is not initialised)")]
    Offset {
        /// The offset's name (e.g. `linux_tasks`).
        name: String,
    },
    /// The configuration cannot be represented or is invalid.
    #[error("invalid configuration{}: {reason}", match .key { Some(k) => format!(" for `{k}`"), None => String::new() })]
    Config {
        /// The key concerned, if any.
        key: Option<String>,
        /// Why.
        reason: String,
    },
    /// An argument is not acceptable (e.g. a symbol containing a NUL byte).
    #[error("invalid {what}: {reason}")]
    InvalidArgument {
        /// Which argument.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// The operation is not possible with this instance.
    #[error("{op} is not supported: {reason}")]
    Unsupported {
        /// The operation.
        op: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// A LibVMI call failed that has no other subject (pause, resume, listen, ...).
    #[error("{op} failed")]
    Failed {
        /// The LibVMI function or operation.
        op: &'static str,
    },
    /// Guest data walked by this crate is implausible: a cycle, an absurd count or length.
    /// The walk stops instead of looping or returning garbage.
    #[error("implausible guest data in {what}{}: {detail}", match .at { Some(a) => format!(" at {a}"), None => String::new() })]
    GuestData {
        /// The structure being walked.
        what: &'static str,
        /// Where, if known.
        at: Option<Va>,
        /// What is wrong.
        detail: String,
    },
}

/// Coarse classes of [`Error`], e.g. for a CLI's exit codes.
///
/// ```
/// use libvmi::{Error, ErrorKind};
/// assert_eq!(Error::Failed { op: "vmi_pause_vm" }.kind(), ErrorKind::Failed);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// [`Error::Init`].
    Init,
    /// [`Error::Read`], [`Error::Write`].
    Memory,
    /// [`Error::Translate`], [`Error::Pid`], [`Error::Dtb`].
    Translate,
    /// [`Error::Symbol`], [`Error::UserSymbol`], [`Error::NoSymbolAt`], [`Error::Offset`].
    Symbol,
    /// [`Error::Register`].
    Register,
    /// [`Error::Config`], [`Error::InvalidArgument`].
    Usage,
    /// [`Error::Unsupported`].
    Unsupported,
    /// [`Error::Failed`].
    Failed,
    /// [`Error::GuestData`].
    GuestData,
}

impl Error {
    /// The class of this error.
    ///
    /// ```
    /// use libvmi::{Error, ErrorKind};
    /// let e = Error::Failed { op: "vmi_resume_vm" };
    /// assert_eq!(e.kind(), ErrorKind::Failed);
    /// assert_ne!(e.kind(), ErrorKind::Memory);
    /// ```
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Init { .. } => ErrorKind::Init,
            Error::Read { .. } | Error::Write { .. } => ErrorKind::Memory,
            Error::Translate { .. } | Error::Pid { .. } | Error::Dtb { .. } => ErrorKind::Translate,
            Error::Symbol { .. }
            | Error::UserSymbol { .. }
            | Error::NoSymbolAt { .. }
            | Error::Offset { .. } => ErrorKind::Symbol,
            Error::Register { .. } => ErrorKind::Register,
            Error::Config { .. } | Error::InvalidArgument { .. } => ErrorKind::Usage,
            Error::Unsupported { .. } => ErrorKind::Unsupported,
            Error::Failed { .. } => ErrorKind::Failed,
            Error::GuestData { .. } => ErrorKind::GuestData,
        }
    }

    pub(crate) fn config(key: Option<&str>, reason: impl Into<String>) -> Error {
        Error::Config {
            key: key.map(str::to_owned),
            reason: reason.into(),
        }
    }

    pub(crate) fn guest(what: &'static str, at: Option<Va>, detail: impl Into<String>) -> Error {
        Error::GuestData {
            what,
            at,
            detail: detail.into(),
        }
    }
}

impl From<Error> for std::io::Error {
    /// For the [`std::io::Read`]/[`std::io::Write`] implementations: an
    /// [`std::io::ErrorKind::Other`] error whose source is this error.
    fn from(e: Error) -> std::io::Error {
        std::io::Error::other(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::{Pa, Translation};

    #[test]
    fn messages_name_their_subject() {
        let e = Error::Write {
            ctx: AccessContext::physical(Pa(0x1000)),
            len: 4,
            done: 0,
        };
        assert!(e.to_string().contains("physical address 0x1000"));
        let e = Error::Translate {
            va: Va(0xdead_0000),
            via: Translation::Kernel,
        };
        assert_eq!(
            e.to_string(),
            "cannot translate virtual address 0xdead0000 (kernel page table)"
        );
        let e = Error::Register {
            op: RegisterOp::Set,
            reg: Register::CR3,
            vcpu: 1,
        };
        assert_eq!(e.to_string(), "cannot write register CR3 of vCPU 1");
        let e = Error::config(Some("sysmap"), "contains a space");
        assert_eq!(
            e.to_string(),
            "invalid configuration for `sysmap`: contains a space"
        );
        assert_eq!(
            Error::Pid { pid: Pid(9) }.to_string(),
            "no process with pid 9 (or it has no page table)"
        );
        let io: std::io::Error = Error::Failed { op: "x" }.into();
        assert_eq!(io.to_string(), "x failed");
    }

    #[test]
    fn init_error_mapping() {
        use libvmi_sys as sys;
        assert_eq!(InitError::from_raw(sys::VMI_INIT_ERROR_NONE as u32), None);
        assert_eq!(
            InitError::from_raw(sys::VMI_INIT_ERROR_DRIVER as u32),
            Some(InitError::Driver)
        );
        assert_eq!(InitError::from_raw(99), Some(InitError::Other(99)));
    }
}
