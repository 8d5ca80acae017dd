//! The tool's error: one line naming the cause and, where there is one, the fix; and the
//! exit status that goes with it.

use libvmi::{Domain, Error, InitError, Mode};
use std::fmt;

/// Exit status: success.
pub const EXIT_OK: u8 = 0;
/// Exit status: introspection (or I/O) failed.
pub const EXIT_FAILURE: u8 = 1;
/// Exit status: the command line is wrong.
pub const EXIT_USAGE: u8 = 2;

/// What went wrong, for the exit status.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// The command line is wrong (exit status 2).
    Usage,
    /// Introspection or I/O failed (exit status 1).
    Failed,
    /// Standard output was closed by its reader (e.g. `vmi ps | head -1`): not reported,
    /// exit status 0.
    OutputClosed,
}

/// An error to report: one line, and its [`Kind`].
///
/// ```
/// use vmi_cli::error::{CliError, EXIT_USAGE};
/// let e = CliError::usage("no target: pass --image PATH or --domain NAME|ID");
/// assert_eq!(e.exit_code(), EXIT_USAGE);
/// assert_eq!(e.to_string(), "no target: pass --image PATH or --domain NAME|ID");
/// ```
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct CliError {
    kind: Kind,
    message: String,
}

impl CliError {
    /// A usage error (exit status 2).
    pub fn usage(message: impl Into<String>) -> CliError {
        CliError {
            kind: Kind::Usage,
            message: one_line(message.into()),
        }
    }

    /// A failure (exit status 1).
    pub fn failed(message: impl Into<String>) -> CliError {
        CliError {
            kind: Kind::Failed,
            message: one_line(message.into()),
        }
    }

    /// The kind of error.
    #[must_use]
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The exit status for it.
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        match self.kind {
            Kind::Usage => EXIT_USAGE,
            Kind::Failed => EXIT_FAILURE,
            Kind::OutputClosed => EXIT_OK,
        }
    }

    /// The message (one line, without the `error: ` prefix).
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Prefix the message with what was being done: `"{what}: {message}"`.
    #[must_use]
    pub fn context(mut self, what: impl fmt::Display) -> CliError {
        self.message = one_line(format!("{what}: {}", self.message));
        self
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

impl From<Error> for CliError {
    /// A LibVMI error without knowledge of the target: invalid arguments are usage errors,
    /// everything else a failure.
    fn from(e: Error) -> CliError {
        match e {
            Error::InvalidArgument { .. } => CliError::usage(e.to_string()),
            _ => CliError::failed(e.to_string()),
        }
    }
}

impl From<std::io::Error> for CliError {
    /// An error writing the output; a closed pipe is [`Kind::OutputClosed`].
    fn from(e: std::io::Error) -> CliError {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return CliError {
                kind: Kind::OutputClosed,
                message: "output closed".into(),
            };
        }
        CliError::failed(format!(
            "cannot write the output: {}",
            crate::target::io_reason(&e)
        ))
    }
}

/// Collapse whitespace runs containing newlines so that the message is one line.
fn one_line(s: String) -> String {
    if !s.contains(['\n', '\r']) {
        return s;
    }
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// How the OS configuration was chosen, for the hints of [`init_error`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ConfigSource {
    /// LibVMI's global libvmi.conf lookup.
    Global,
    /// `--config FILE`.
    File,
    /// `--json-profile FILE`.
    JsonProfile,
    /// None needed (physical memory only).
    None,
}

/// Explain a failed initialisation of `target` (in `mode`), with the fix where there is
/// one.
///
/// ```
/// use libvmi::{Domain, Error, InitError, Mode};
/// use vmi_cli::error::{init_error, ConfigSource};
/// let e = Error::Init { mode: Mode::File, domain: "domain /i/mem.raw".into(), reason: InitError::NoConfig };
/// let msg = init_error(e, Mode::File, &Domain::Name("/i/mem.raw".into()), ConfigSource::Global).to_string();
/// assert!(msg.starts_with("no System.map configured for mem.raw: pass --config FILE (libvmi.conf format)"));
/// ```
pub fn init_error(e: Error, mode: Mode, target: &Domain, config: ConfigSource) -> CliError {
    let what = match (mode, target) {
        (Mode::File, Domain::Name(p)) => std::path::Path::new(p)
            .file_name()
            .map_or_else(|| p.clone(), |n| n.to_string_lossy().into_owned()),
        (_, Domain::Name(n)) => format!("domain {n}"),
        (_, Domain::Id(id)) => format!("domain {id}"),
    };
    let entry = match (mode, target) {
        (_, Domain::Id(_)) => "the domain's name".to_owned(),
        _ => what.trim_start_matches("domain ").to_owned(),
    };
    let Error::Init { reason, .. } = &e else {
        return match e {
            Error::Config { .. } => CliError::failed(e.to_string()),
            other => CliError::from(other),
        };
    };
    let msg = match (reason, config) {
        (InitError::NoConfig, ConfigSource::Global) => format!(
            "no System.map configured for {what}: pass --config FILE (libvmi.conf format) or \
             --json-profile FILE, or add an entry named {entry} to ./libvmi.conf, \
             ~/etc/libvmi.conf or /etc/libvmi.conf"
        ),
        (InitError::NoConfigEntry, ConfigSource::Global) => format!(
            "the global libvmi.conf has no entry named {entry}: add one, or pass --config FILE \
             (libvmi.conf format) or --json-profile FILE"
        ),
        (InitError::NoConfigEntry | InitError::NoConfig, _) => {
            format!("no usable configuration for {what}: {reason}")
        }
        (InitError::Os, ConfigSource::JsonProfile) => format!(
            "cannot initialise the OS of {what} from the JSON profile: it does not match this \
             guest, or this LibVMI has no JSON profile support"
        ),
        (InitError::Os, _) => format!(
            "cannot initialise the OS of {what}: the System.map or offsets do not match this \
             guest's kernel, or the memory holds no running kernel (check ostype, sysmap and \
             the linux_* offsets of its configuration)"
        ),
        (InitError::Paging, _) => format!(
            "cannot determine the paging mode of {what}: no page tables found (is it a memory \
             image of a running x86 guest, and complete?)"
        ),
        (InitError::VmNotFound, _) if mode == Mode::Xen => {
            format!("no Xen {what}: `xl list` shows the running domains")
        }
        (InitError::VmNotFound, _) => format!("cannot open {what}: no such memory image"),
        (InitError::ModeUnavailable, _) if mode == Mode::Xen => format!(
            "cannot reach Xen for {what}: this LibVMI has no Xen driver, or Xen is not \
             running here; run as root in dom0 of a Xen host, or use --image for a memory image"
        ),
        (InitError::Driver | InitError::DriverNotDetected, _) if mode == Mode::Xen => {
            format!(
                "cannot reach Xen for {what}: {reason}; run as root in dom0 of a Xen host \
                 (with libxenctrl), or use --image for a memory image"
            )
        }
        (InitError::Events, _) => format!(
            "cannot initialise events for {what}: {reason}; events need a live Xen domain \
             (and a Xen with VM events enabled)"
        ),
        _ => format!("cannot initialise LibVMI for {what}: {reason}"),
    };
    CliError::failed(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_messages() {
        assert_eq!(CliError::failed("a\n  b").message(), "a b");
        let e = CliError::failed("x").context("reading y");
        assert_eq!(e.to_string(), "reading y: x");
        let e: CliError = Error::InvalidArgument {
            what: "symbol",
            reason: "contains a NUL byte".into(),
        }
        .into();
        assert_eq!(e.exit_code(), EXIT_USAGE);
    }

    #[test]
    fn init_hints() {
        let init = |reason| Error::Init {
            mode: Mode::Xen,
            domain: "domain id 3".into(),
            reason,
        };
        let e = init_error(
            init(InitError::VmNotFound),
            Mode::Xen,
            &Domain::Id(3),
            ConfigSource::None,
        );
        assert_eq!(
            e.to_string(),
            "no Xen domain 3: `xl list` shows the running domains"
        );
        let e = init_error(
            init(InitError::ModeUnavailable),
            Mode::Xen,
            &Domain::Name("deb".into()),
            ConfigSource::Global,
        );
        assert!(e.to_string().starts_with("cannot reach Xen for domain deb"));
        assert_eq!(e.exit_code(), EXIT_FAILURE);
    }
}
