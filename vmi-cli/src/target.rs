//! Opening the target: a memory image or a Xen domain, initialised as far as a command
//! needs (physical memory, the OS, or events).

use crate::cli::TargetArgs;
use crate::conf;
use crate::error::{init_error, CliError, ConfigSource};
use libvmi::{Config, Domain, Mode, Vmi};
use std::path::Path;

/// How far a command needs LibVMI initialised.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Need {
    /// Physical memory only (the driver): no OS configuration.
    Physical,
    /// The OS (System.map or profile, offsets, kernel page table).
    Os,
    /// Events (a live Xen domain).
    Events,
}

/// The access mode and domain the arguments select.
///
/// ```
/// use libvmi::{Domain, Mode};
/// use vmi_cli::cli::TargetArgs;
/// use vmi_cli::target::select;
/// let args = TargetArgs { domain: Some(Domain::Id(3)), ..TargetArgs::default() };
/// assert_eq!(select(&args)?, (Mode::Xen, Domain::Id(3)));
/// assert_eq!(select(&TargetArgs::default()).unwrap_err().exit_code(), 2);
/// # Ok::<(), vmi_cli::error::CliError>(())
/// ```
pub fn select(args: &TargetArgs) -> Result<(Mode, Domain), CliError> {
    match (&args.image, &args.domain) {
        (Some(path), None) => Ok((
            Mode::File,
            Domain::Name(path.to_string_lossy().into_owned()),
        )),
        (None, Some(domain)) => Ok((Mode::Xen, domain.clone())),
        (Some(_), Some(_)) => Err(CliError::usage(
            "--image and --domain cannot be used together: pick one target",
        )),
        (None, None) => Err(CliError::usage(
            "no target: pass --image PATH (a raw memory image) or --domain NAME|ID (a Xen \
             domain)",
        )),
    }
}

/// The reason of an I/O error without Rust's ` (os error N)` suffix.
///
/// ```
/// let e = std::io::Error::from_raw_os_error(2);
/// assert_eq!(vmi_cli::target::io_reason(&e), "No such file or directory");
/// ```
#[must_use]
pub fn io_reason(e: &std::io::Error) -> String {
    // Wrapped errors (e.g. tempfile's, which add the path) reduce to the OS's reason.
    let s = match e.raw_os_error() {
        Some(code) => std::io::Error::from_raw_os_error(code).to_string(),
        None => e.to_string(),
    };
    match s.rfind(" (os error ") {
        Some(i) if s.ends_with(')') => s[..i].to_owned(),
        _ => s,
    }
}

/// Check that `path` is a readable, non-empty regular file, with a message that says why
/// not.
pub fn check_image(path: &Path) -> Result<(), CliError> {
    let p = path.display();
    let file = std::fs::File::open(path)
        .map_err(|e| CliError::failed(format!("cannot open image {p}: {}", io_reason(&e))))?;
    let meta = file
        .metadata()
        .map_err(|e| CliError::failed(format!("cannot open image {p}: {}", io_reason(&e))))?;
    if meta.is_dir() {
        return Err(CliError::failed(format!(
            "cannot open image {p}: Is a directory"
        )));
    }
    if !meta.is_file() {
        return Err(CliError::failed(format!(
            "cannot use image {p}: not a regular file (LibVMI's File driver maps the file)"
        )));
    }
    if meta.len() == 0 {
        return Err(CliError::failed(format!(
            "cannot use image {p}: the file is empty"
        )));
    }
    Ok(())
}

/// The configuration the arguments select, before LibVMI is started.
enum Selected {
    Ready(Config),
    FromFile(conf::FileConfig),
}

fn select_config(
    args: &TargetArgs,
    mode: Mode,
    domain: &Domain,
) -> Result<(Selected, ConfigSource), CliError> {
    if let Some(profile) = &args.json_profile {
        std::fs::File::open(profile).map_err(|e| {
            CliError::failed(format!(
                "cannot open JSON profile {}: {}",
                profile.display(),
                io_reason(&e)
            ))
        })?;
        return Ok((
            Selected::Ready(Config::JsonProfile(profile.clone())),
            ConfigSource::JsonProfile,
        ));
    }
    let Some(file) = &args.config else {
        return Ok((Selected::Ready(Config::GlobalFile), ConfigSource::Global));
    };
    let file =
        conf::from_file(file, entry_name(mode, domain).as_deref()).map_err(CliError::failed)?;
    Ok((Selected::FromFile(file), ConfigSource::File))
}

/// The name LibVMI looks the configuration entry up by: an image's file name, a domain's
/// name; `None` for a domain id (known once LibVMI is connected).
fn entry_name(mode: Mode, domain: &Domain) -> Option<String> {
    match (mode, domain) {
        (Mode::File, Domain::Name(p)) => Path::new(p)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned()),
        (_, Domain::Name(n)) => Some(n.clone()),
        (_, Domain::Id(_)) => None,
    }
}

/// Open the target the arguments select, initialised as far as `need` says. LibVMI's own
/// messages are kept off standard error (unless `--verbose`); the last one is quoted in
/// the error if initialisation fails.
pub fn open(args: &TargetArgs, need: Need) -> Result<Vmi, CliError> {
    let (mode, domain) = select(args)?;
    if let (Mode::File, Domain::Name(path)) = (mode, &domain) {
        if need == Need::Events {
            return Err(CliError::usage(format!(
                "memory images have no events: `watch` needs a live Xen domain (--domain \
                 NAME|ID), not --image {path}"
            )));
        }
        check_image(Path::new(path))?;
    }
    let (selected, source) = match need {
        Need::Os => select_config(args, mode, &domain)?,
        Need::Physical | Need::Events => (Selected::Ready(Config::GlobalFile), ConfigSource::None),
    };
    let captured = crate::quiet::Captured::start(args.verbose);
    let result = init(mode, &domain, need, selected);
    let said = captured.finish();
    result.map_err(|e| {
        let e = match e {
            Ok(e) => init_error(e, mode, &domain, source),
            Err(e) => e,
        };
        match said {
            Some(s) if e.kind() != crate::error::Kind::Usage => {
                CliError::failed(format!("{e} (LibVMI: {s})"))
            }
            _ => e,
        }
    })
}

/// `Err(Ok(e))`: LibVMI failed; `Err(Err(e))`: something else did.
fn init(
    mode: Mode,
    domain: &Domain,
    need: Need,
    selected: Selected,
) -> Result<Vmi, Result<libvmi::Error, CliError>> {
    let builder = Vmi::builder(mode, domain.clone()).events(need == Need::Events);
    let mut vmi = builder.init_driver().map_err(Ok)?;
    if need != Need::Os {
        return Ok(vmi);
    }
    // What Builder::init does, with the configuration made once the name is known.
    if mode != Mode::File {
        vmi.init_paging(false).map_err(Ok)?;
    }
    let mut scratch = None;
    let config = match selected {
        Selected::Ready(c) => c,
        Selected::FromFile(file) => {
            let name = match entry_name(mode, domain) {
                Some(n) => n,
                None => vmi.name().map_err(Ok)?,
            };
            let tmp = scratch.insert(tempfile::tempfile().map_err(|e| {
                Err(CliError::failed(format!(
                    "cannot create a temporary config file: {}",
                    io_reason(&e)
                )))
            })?);
            file.config(&name, tmp)
                .map_err(|e| Err(CliError::failed(e)))?
        }
    };
    vmi.init_os(config).map_err(Ok)?;
    drop(scratch);
    Ok(vmi)
}
