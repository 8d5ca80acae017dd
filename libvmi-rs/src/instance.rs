//! The LibVMI instance: initialisation, what LibVMI knows about the guest, pause/resume,
//! caches, and destruction on drop.

use crate::config::{check_syntax, is_word_token, Config};
use crate::error::{Error, InitError, Result};
use crate::events::EventRegistry;
use crate::ffi;
use crate::Dtb;
use crate::Pid;
use crate::Va;
use core::cell::Cell;
use core::fmt;
use core::marker::PhantomData;
use core::ptr::{self, NonNull};
use libvmi_sys as sys;
use std::ffi::{c_void, CStr, CString};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// LibVMI's config parser (flex/bison) and its JSON-profile loader keep global state:
/// initialisations are serialised process-wide, so instances may be created on any thread.
static INIT_LOCK: Mutex<()> = Mutex::new(());

/// How LibVMI reaches the guest (`vmi_mode_t`).
///
/// ```
/// use libvmi::Mode;
/// assert_eq!(Mode::File.to_string(), "File");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum Mode {
    /// A raw physical-memory image (file offset == guest-physical address). Read-only
    /// in upstream LibVMI: its file driver does not implement writes; no events.
    File,
    /// A live Xen domain.
    Xen,
    /// A live KVM guest (KVMi).
    Kvm,
    /// A Bareflank guest.
    Bareflank,
}

impl Mode {
    fn raw(self) -> sys::vmi_mode_t {
        match self {
            Mode::File => sys::VMI_FILE,
            Mode::Xen => sys::VMI_XEN,
            Mode::Kvm => sys::VMI_KVM,
            Mode::Bareflank => sys::VMI_BAREFLANK,
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::File => "File",
            Mode::Xen => "Xen",
            Mode::Kvm => "KVM",
            Mode::Bareflank => "Bareflank",
        })
    }
}

/// Which guest: a domain (or image path) by name, or a domain by id.
///
/// ```
/// use libvmi::Domain;
/// assert_eq!(Domain::Name("win10".into()).to_string(), "domain win10");
/// assert_eq!(Domain::Id(3).to_string(), "domain id 3");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Domain {
    /// A domain name (`VMI_INIT_DOMAINNAME`); in File mode, the image's path.
    Name(String),
    /// A domain id (`VMI_INIT_DOMAINID`).
    Id(u64),
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Domain::Name(n) => write!(f, "domain {n}"),
            Domain::Id(id) => write!(f, "domain id {id}"),
        }
    }
}

/// The guest OS type (`os_t`).
///
/// ```
/// use libvmi::OsType;
/// assert_eq!(OsType::Linux.to_string(), "Linux");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum OsType {
    /// Not known (OS not initialised).
    Unknown,
    /// Linux.
    Linux,
    /// Windows.
    Windows,
    /// FreeBSD.
    FreeBsd,
    /// macOS.
    Osx,
}

impl OsType {
    pub(crate) fn from_raw(raw: sys::os_t) -> OsType {
        match raw {
            sys::VMI_OS_LINUX => OsType::Linux,
            sys::VMI_OS_WINDOWS => OsType::Windows,
            sys::VMI_OS_FREEBSD => OsType::FreeBsd,
            sys::VMI_OS_OSX => OsType::Osx,
            _ => OsType::Unknown,
        }
    }
}

impl fmt::Display for OsType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OsType::Unknown => "unknown",
            OsType::Linux => "Linux",
            OsType::Windows => "Windows",
            OsType::FreeBsd => "FreeBSD",
            OsType::Osx => "OSX",
        })
    }
}

/// The paging mode (`page_mode_t`).
///
/// ```
/// use libvmi::PageMode;
/// assert_eq!(PageMode::Ia32e.address_width(), Some(8));
/// assert_eq!(PageMode::Ia32e.to_string(), "IA-32e (4-level)");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum PageMode {
    /// No paging.
    None,
    /// Not determined.
    Unknown,
    /// x86 32-bit paging.
    Legacy,
    /// x86 PAE.
    Pae,
    /// x86-64 IA-32e paging.
    Ia32e,
    /// ARM 32-bit.
    Aarch32,
    /// ARM 64-bit.
    Aarch64,
    /// Intel EPT, 4 levels.
    Ept4L,
    /// Intel EPT, 5 levels.
    Ept5L,
}

impl PageMode {
    pub(crate) fn from_raw(raw: sys::page_mode_t) -> PageMode {
        match raw as u32 {
            x if x == sys::VMI_PM_NONE as u32 => PageMode::None,
            x if x == sys::VMI_PM_LEGACY as u32 => PageMode::Legacy,
            x if x == sys::VMI_PM_PAE as u32 => PageMode::Pae,
            x if x == sys::VMI_PM_IA32E as u32 => PageMode::Ia32e,
            x if x == sys::VMI_PM_AARCH32 as u32 => PageMode::Aarch32,
            x if x == sys::VMI_PM_AARCH64 as u32 => PageMode::Aarch64,
            x if x == sys::VMI_PM_EPT_4L as u32 => PageMode::Ept4L,
            x if x == sys::VMI_PM_EPT_5L as u32 => PageMode::Ept5L,
            _ => PageMode::Unknown,
        }
    }

    /// The size of a guest pointer in this mode, if known.
    ///
    /// ```
    /// use libvmi::PageMode;
    /// assert_eq!(PageMode::Pae.address_width(), Some(4));
    /// assert_eq!(PageMode::Ia32e.address_width(), Some(8));
    /// assert_eq!(PageMode::Unknown.address_width(), None);
    /// ```
    #[must_use]
    pub fn address_width(self) -> Option<u8> {
        match self {
            PageMode::Legacy | PageMode::Pae | PageMode::Aarch32 => Some(4),
            PageMode::Ia32e | PageMode::Aarch64 | PageMode::Ept4L | PageMode::Ept5L => Some(8),
            PageMode::None | PageMode::Unknown => None,
        }
    }
}

impl fmt::Display for PageMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PageMode::None => "none",
            PageMode::Unknown => "unknown",
            PageMode::Legacy => "legacy (32-bit)",
            PageMode::Pae => "PAE",
            PageMode::Ia32e => "IA-32e (4-level)",
            PageMode::Aarch32 => "AArch32",
            PageMode::Aarch64 => "AArch64",
            PageMode::Ept4L => "EPT (4-level)",
            PageMode::Ept5L => "EPT (5-level)",
        })
    }
}

/// How to initialise a [`Vmi`]: access mode, guest, configuration, events.
///
/// ```no_run
/// use libvmi::{Config, Vmi};
/// let vmi = Vmi::file("/images/mem.raw")
///     .config(Config::File("/images/libvmi.conf".into()))
///     .init()?;
/// # Ok::<(), libvmi::Error>(())
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct Builder {
    mode: Mode,
    domain: Domain,
    config: Config,
    events: bool,
}

impl Builder {
    /// The OS configuration (default: [`Config::GlobalFile`]).
    ///
    /// ```
    /// use libvmi::{Config, Vmi};
    /// let builder = Vmi::file("/images/mem.raw").config(Config::File("/images/libvmi.conf".into()));
    /// assert!(format!("{builder:?}").contains("/images/libvmi.conf"));
    /// ```
    pub fn config(mut self, config: Config) -> Builder {
        self.config = config;
        self
    }

    /// Initialise events too (`VMI_INIT_EVENTS`); required to register events. Xen and
    /// KVM only: File mode fails with [`InitError::Events`].
    ///
    /// ```
    /// use libvmi::Vmi;
    /// let builder = Vmi::xen("debian").events(true);
    /// assert!(format!("{builder:?}").contains("events: true"));
    /// ```
    pub fn events(mut self, enable: bool) -> Builder {
        self.events = enable;
        self
    }

    /// Full initialisation: driver, paging, OS.
    ///
    /// Unlike `vmi_init_complete`, the access mode is the one asked for (no
    /// auto-detection), and a failure after the driver started destroys the instance
    /// properly.
    ///
    /// ```no_run
    /// use libvmi::{Config, OsType, Vmi};
    /// let vmi = Vmi::file("/images/mem.raw")
    ///     .config(Config::File("/images/libvmi.conf".into()))
    ///     .init()?;
    /// assert_eq!(vmi.os_type(), OsType::Linux);
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn init(self) -> Result<Vmi> {
        let config = self.config.clone();
        let mut vmi = self.init_driver()?;
        if vmi.mode != Mode::File {
            // LibVMI initialises paging for File mode from the OS heuristics.
            vmi.init_paging(false)?;
        }
        vmi.init_os(config)?;
        Ok(vmi)
    }

    /// Partial initialisation: the driver only (`vmi_init`). Follow with
    /// [`Vmi::init_paging`] and/or [`Vmi::init_os`]. Physical memory works at once.
    ///
    /// ```no_run
    /// let vmi = libvmi::Vmi::file("/images/mem.raw").init_driver()?;
    /// let mut page = [0u8; 4096];
    /// vmi.read_pa(libvmi::Pa(0x1000), &mut page)?; // no paging or OS needed
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn init_driver(self) -> Result<Vmi> {
        let init_err = |reason| Error::Init {
            mode: self.mode,
            domain: self.domain.to_string(),
            reason,
        };
        let mut flags: u64 = 0;
        if self.events {
            flags |= u64::from(sys::VMI_INIT_EVENTS);
        }
        // The domain argument: a C string for names, a u64 for ids; both outlive vmi_init.
        let name_c;
        let id;
        let domain_ptr: *const c_void = match &self.domain {
            Domain::Name(name) => {
                if self.mode == Mode::File {
                    // Upstream's file driver frees its state twice when the image cannot
                    // be opened (file_init_vmi's error path, then vmi_destroy): check
                    // first, as vmi_init_complete's driver detection (file_test) does.
                    let readable = std::fs::File::open(name)
                        .and_then(|f| f.metadata())
                        .is_ok_and(|m| m.is_file() && m.len() > 0);
                    if !readable {
                        return Err(init_err(InitError::VmNotFound));
                    }
                }
                name_c = CString::new(name.as_str()).map_err(|_| Error::InvalidArgument {
                    what: "domain name",
                    reason: "contains a NUL byte".into(),
                })?;
                flags |= u64::from(sys::VMI_INIT_DOMAINNAME);
                name_c.as_ptr().cast()
            }
            Domain::Id(i) => {
                if self.mode == Mode::File {
                    return Err(Error::InvalidArgument {
                        what: "domain",
                        reason: "File mode needs an image path, not a domain id".into(),
                    });
                }
                id = *i;
                flags |= u64::from(sys::VMI_INIT_DOMAINID);
                ptr::from_ref(&id).cast()
            }
        };
        let mut handle: sys::vmi_instance_t = ptr::null_mut();
        let mut error: sys::vmi_init_error_t = sys::VMI_INIT_ERROR_NONE;
        let status = {
            let _guard = INIT_LOCK.lock().unwrap_or_else(|p| p.into_inner());
            // SAFETY: `handle` and `error` are valid out-pointers; `domain_ptr` points to a
            // NUL-terminated string or a u64 as `flags` says, alive for the call; no init
            // data is passed.
            unsafe {
                sys::vmi_init(
                    &mut handle,
                    self.mode.raw(),
                    domain_ptr,
                    flags,
                    ptr::null_mut(),
                    &mut error,
                )
            }
        };
        if status != sys::VMI_SUCCESS {
            // vmi_init destroys the half-made instance itself on failure.
            let reason = InitError::from_raw(error as u32).unwrap_or(InitError::ModeUnavailable);
            return Err(init_err(reason));
        }
        let Some(handle) = NonNull::new(handle) else {
            return Err(init_err(InitError::Other(error as u32)));
        };
        Ok(Vmi {
            handle,
            mode: self.mode,
            domain: self.domain,
            events_enabled: self.events,
            os_ready: false,
            extras: Vec::new(),
            events: EventRegistry::default(),
            _not_sync: PhantomData,
        })
    }
}

/// In File mode LibVMI names the config entry after the image's file name and parses it
/// with its WORD token: check it can.
fn check_file_name(path: &Path, config: &Config) -> Result<()> {
    if matches!(config, Config::JsonProfile(_)) {
        return Ok(());
    }
    let base = path
        .file_name()
        .map(|b| b.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !is_word_token(&base) {
        return Err(Error::config(
            None,
            format!(
                "LibVMI looks up the configuration entry by the image's file name, {base:?}, \
                 which its config parser cannot read: rename the image to \
                 [A-Za-z0-9][A-Za-z0-9._-]+"
            ),
        ));
    }
    Ok(())
}

/// A LibVMI instance: one guest (a VM or a memory image).
///
/// Created by [`Vmi::file`], [`Vmi::xen`], [`Vmi::xen_id`] or [`Vmi::builder`];
/// dropping it destroys the LibVMI instance (clearing its events first).
///
/// # Threads
///
/// LibVMI is not thread-safe, so `Vmi` is [`Send`] (it can move to another thread) but
/// not [`Sync`] (it cannot be shared between threads). To use one instance from several
/// threads, put it in a `Mutex`, as DRAKVUF locks every LibVMI call. Initialisation is
/// serialised internally, so separate instances may live on separate threads.
///
/// ```compile_fail
/// fn shared<T: Sync>() {}
/// shared::<libvmi::Vmi>();
/// ```
///
/// ```
/// fn movable<T: Send>() {}
/// movable::<libvmi::Vmi>();
/// ```
///
/// # Example
///
/// ```no_run
/// use libvmi::{Config, ConfigMap, Vmi};
///
/// let config = ConfigMap::new()
///     .with("ostype", "Linux")
///     .with("sysmap", "/images/nokaslr/System.map")
///     .with("linux_tasks", 0x8a8u64)
///     .with("linux_mm", 0x8f8u64)
///     .with("linux_pid", 0x9c0u64)
///     .with("linux_name", 0xbc0u64)
///     .with("linux_pgd", 0x48u64);
/// let vmi = Vmi::file("/images/nokaslr/mem.raw").config(Config::Map(config)).init()?;
/// println!("{} {}, {} bytes", vmi.os_type(), vmi.page_mode(0), vmi.memory_size());
/// # Ok::<(), libvmi::Error>(())
/// ```
pub struct Vmi {
    handle: NonNull<sys::vmi_instance>,
    mode: Mode,
    domain: Domain,
    events_enabled: bool,
    os_ready: bool,
    extras: Vec<(String, u64)>,
    pub(crate) events: EventRegistry,
    /// `Cell` makes `Vmi` `!Sync`; the raw handle alone would also make it `!Send`.
    _not_sync: PhantomData<Cell<()>>,
}

// SAFETY: a LibVMI instance has no thread affinity: its state lives in the instance (and
// in the process-global config parser, which is only used under INIT_LOCK). Moving it to
// another thread is fine as long as it is not used from two threads at once, which `!Sync`
// and `&mut`/`&` rules ensure. Event closures are required to be `Send`.
unsafe impl Send for Vmi {}

impl fmt::Debug for Vmi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vmi")
            .field("mode", &self.mode)
            .field("domain", &self.domain)
            .field("os", &self.os_type())
            .finish_non_exhaustive()
    }
}

impl Vmi {
    /// Start initialising an instance for `domain` in `mode`.
    ///
    /// ```
    /// use libvmi::{Domain, Mode, Vmi};
    /// let builder = Vmi::builder(Mode::Xen, Domain::Id(3));
    /// assert_eq!(format!("{builder:?}"), format!("{:?}", Vmi::xen_id(3)));
    /// ```
    pub fn builder(mode: Mode, domain: Domain) -> Builder {
        Builder {
            mode,
            domain,
            config: Config::default(),
            events: false,
        }
    }

    /// A memory image (File mode). In LibVMI's configuration the entry for it is named
    /// after the image's file name.
    ///
    /// ```no_run
    /// let vmi = libvmi::Vmi::file("/images/mem.raw").init_driver()?; // physical memory only
    /// let mut page = [0u8; 4096];
    /// vmi.read_pa(libvmi::Pa(0x1000), &mut page)?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn file(path: impl AsRef<Path>) -> Builder {
        let path: PathBuf = path.as_ref().into();
        Vmi::builder(
            Mode::File,
            Domain::Name(path.to_string_lossy().into_owned()),
        )
    }

    /// A Xen domain by name.
    ///
    /// ```no_run
    /// let vmi = libvmi::Vmi::xen("debian").events(true).init()?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn xen(name: &str) -> Builder {
        Vmi::builder(Mode::Xen, Domain::Name(name.to_owned()))
    }

    /// A Xen domain by id.
    ///
    /// ```
    /// use libvmi::Vmi;
    /// let builder = Vmi::xen_id(3).events(true);
    /// assert!(format!("{builder:?}").contains("Id(3)"));
    /// ```
    pub fn xen_id(id: u64) -> Builder {
        Vmi::builder(Mode::Xen, Domain::Id(id))
    }

    /// The raw LibVMI handle, for calls this crate does not wrap. It stays owned by `self`:
    /// do not destroy it.
    ///
    /// ```no_run
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// // SAFETY: the handle is live while `vmi` is.
    /// let width = unsafe { libvmi::sys::vmi_get_address_width(vmi.as_raw()) };
    /// assert_eq!(width, vmi.address_width());
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    #[must_use]
    pub fn as_raw(&self) -> sys::vmi_instance_t {
        self.handle.as_ptr()
    }

    /// Initialise paging (`vmi_init_paging`), e.g. after [`Builder::init_driver`]. With
    /// `transition_pages`, Windows transition PTEs are followed.
    ///
    /// ```no_run
    /// use libvmi::PageMode;
    /// let mut vmi = libvmi::Vmi::file("/images/mem.raw").init_driver()?;
    /// let mode = vmi.init_paging(false)?;
    /// assert_eq!(mode, PageMode::Ia32e);
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn init_paging(&mut self, transition_pages: bool) -> Result<PageMode> {
        let flags = if transition_pages {
            u64::from(sys::VMI_PM_INITFLAG_TRANSITION_PAGES)
        } else {
            0
        };
        // SAFETY: the handle is a live instance owned by self.
        let pm = PageMode::from_raw(unsafe { sys::vmi_init_paging(self.as_raw(), flags) });
        if pm == PageMode::Unknown {
            return Err(self.init_error(InitError::Paging));
        }
        Ok(pm)
    }

    /// Initialise OS support (`vmi_init_os`) from `config`. For File mode this also
    /// finds the kernel page table (and the KASLR offset if not configured).
    ///
    /// ```no_run
    /// use libvmi::{Config, OsType};
    /// let mut vmi = libvmi::Vmi::file("/images/mem.raw").init_driver()?;
    /// vmi.init_paging(false)?;
    /// let os = vmi.init_os(Config::File("/images/libvmi.conf".into()))?;
    /// assert_eq!(os, OsType::Linux);
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn init_os(&mut self, config: Config) -> Result<OsType> {
        if let (Mode::File, Domain::Name(n)) = (self.mode, &self.domain) {
            check_file_name(Path::new(n), &config)?;
        }
        let rendered = match &config {
            Config::Map(m) => Some(m.render()?),
            _ => None,
        };
        self.check_config_syntax(&config, rendered.as_deref())?;
        let (mode, c_config, extras) = match &config {
            Config::GlobalFile => (sys::VMI_CONFIG_GLOBAL_FILE_ENTRY, None, Vec::new()),
            Config::String(s) => (sys::VMI_CONFIG_STRING, Some(c_string(s, "config")?), vec![]),
            Config::File(p) => (
                sys::VMI_CONFIG_FILE_PATH,
                Some(c_path(p, "config file")?),
                vec![],
            ),
            Config::JsonProfile(p) => (
                sys::VMI_CONFIG_JSON_PATH,
                Some(c_path(p, "JSON profile")?),
                vec![],
            ),
            Config::Map(m) => (
                sys::VMI_CONFIG_STRING,
                Some(c_string(rendered.as_deref().unwrap_or_default(), "config")?),
                m.extras().map(|(k, v)| (k.to_owned(), v)).collect(),
            ),
        };
        let config_ptr = c_config
            .as_ref()
            .map_or(ptr::null_mut(), |c| c.as_ptr().cast_mut().cast::<c_void>());
        let mut error: sys::vmi_init_error_t = sys::VMI_INIT_ERROR_NONE;
        let os = {
            let _guard = INIT_LOCK.lock().unwrap_or_else(|p| p.into_inner());
            // SAFETY: live handle; `config_ptr` is NULL (global file) or a NUL-terminated
            // string alive for the call (LibVMI copies what it keeps); `error` is a valid
            // out-pointer. The parser's global state is protected by INIT_LOCK.
            unsafe { sys::vmi_init_os(self.as_raw(), mode, config_ptr, &mut error) }
        };
        let os = OsType::from_raw(os);
        if os == OsType::Unknown {
            self.os_ready = false;
            let reason = InitError::from_raw(error as u32).unwrap_or(InitError::Os);
            return Err(self.init_error(reason));
        }
        self.os_ready = true;
        self.extras = extras;
        Ok(os)
    }

    /// The name LibVMI looks the configuration entry up by (its `image_type`): the image's
    /// file name in File mode, else the domain name.
    fn config_entry_name(&self) -> Result<String> {
        match (self.mode, &self.domain) {
            (Mode::File, Domain::Name(n)) => Ok(Path::new(n)
                .file_name()
                .map(|b| b.to_string_lossy().into_owned())
                .unwrap_or_default()),
            _ => self.name(),
        }
    }

    /// Refuse configurations LibVMI's parser would reject, and files without an entry for
    /// this VM. LibVMI's parser keeps global state: after a syntax error its scanner points
    /// into the old (closed) input, breaking every later parse in the process; and when a
    /// file has no entry for the VM it silently returns the entry of an earlier parse
    /// (see `config::check_syntax`).
    fn check_config_syntax(&self, config: &Config, rendered: Option<&str>) -> Result<()> {
        let name = self.config_entry_name()?;
        let syntax = |e: String, what: String| {
            Error::config(None, format!("{what} does not parse as libvmi.conf: {e}"))
        };
        let check_file = |p: &Path| -> Result<()> {
            let text = std::fs::read_to_string(p)
                .map_err(|e| Error::config(None, format!("cannot read {}: {e}", p.display())))?;
            let names = check_syntax(&text)
                .map_err(|e| syntax(e, format!("config file {}", p.display())))?;
            if !names.contains(&name.as_str()) {
                return Err(self.init_error(InitError::NoConfigEntry));
            }
            Ok(())
        };
        match config {
            Config::String(body) => {
                check_syntax(&format!("{name} {body}"))
                    .map(drop)
                    .map_err(|e| {
                        syntax(
                            e,
                            "the config string (after LibVMI prepends the entry name)".into(),
                        )
                    })
            }
            Config::Map(_) => check_syntax(&format!("{name} {}", rendered.unwrap_or_default()))
                .map(drop)
                .map_err(|e| syntax(e, "the rendered config map".into())),
            Config::File(p) => check_file(p),
            Config::GlobalFile => match global_config_file() {
                Some(p) => check_file(&p),
                None => Ok(()), // LibVMI reports NoConfig without parsing anything
            },
            Config::JsonProfile(_) => Ok(()),
        }
    }

    fn init_error(&self, reason: InitError) -> Error {
        Error::Init {
            mode: self.mode,
            domain: self.domain.to_string(),
            reason,
        }
    }

    pub(crate) fn require_os(&self, op: &'static str) -> Result<()> {
        if self.os_ready {
            Ok(())
        } else {
            Err(Error::Unsupported {
                op,
                reason: "the OS is not initialised (call init_os or init)",
            })
        }
    }

    pub(crate) fn events_enabled(&self) -> bool {
        self.events_enabled
    }

    /// The access mode.
    ///
    /// ```no_run
    /// use libvmi::Mode;
    /// let vmi = libvmi::Vmi::file("/images/mem.raw").init_driver()?;
    /// assert_eq!(vmi.mode(), Mode::File);
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    #[must_use]
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The domain (or image path) this instance was created for.
    ///
    /// ```no_run
    /// use libvmi::Domain;
    /// let vmi = libvmi::Vmi::xen_id(3).init()?;
    /// assert_eq!(vmi.domain(), &Domain::Id(3));
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    #[must_use]
    pub fn domain(&self) -> &Domain {
        &self.domain
    }

    /// The VM's name as the driver reports it (`vmi_get_name`; in File mode, the path).
    ///
    /// ```no_run
    /// # let vmi = libvmi::Vmi::xen_id(3).init()?;
    /// println!("domain 3 is {}", vmi.name()?);
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn name(&self) -> Result<String> {
        // SAFETY: live handle.
        let p = unsafe { sys::vmi_get_name(self.as_raw()) };
        if p.is_null() {
            return Err(Error::Failed { op: "vmi_get_name" });
        }
        // SAFETY: LibVMI returns a NUL-terminated string allocated with malloc (strdup in
        // the driver), which we copy and then free.
        let name = unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned();
        // SAFETY: `p` came from malloc and is freed once.
        unsafe { ffi::free(p.cast()) };
        Ok(name)
    }

    /// The domain id (`vmi_get_vmid`); `None` for files or when unknown.
    ///
    /// ```no_run
    /// let vmi = libvmi::Vmi::xen("debian").init()?;
    /// if let Some(id) = vmi.vmid() {
    ///     println!("debian is domain {id}");
    /// }
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    #[must_use]
    pub fn vmid(&self) -> Option<u64> {
        // SAFETY: live handle.
        let id = unsafe { sys::vmi_get_vmid(self.as_raw()) };
        (id != u64::MAX && self.mode != Mode::File).then_some(id)
    }

    /// The OS type (`vmi_get_ostype`).
    ///
    /// ```no_run
    /// use libvmi::OsType;
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// if vmi.os_type() == OsType::Linux {
    ///     let _linux = vmi.linux()?;
    /// }
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    #[must_use]
    pub fn os_type(&self) -> OsType {
        // SAFETY: live handle.
        OsType::from_raw(unsafe { sys::vmi_get_ostype(self.as_raw()) })
    }

    /// A description of the OS version: for Windows LibVMI's version string
    /// (`vmi_get_winver_str`); for Linux the kernel's `linux_banner`.
    ///
    /// ```no_run
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// let version = vmi.os_version()?;
    /// assert!(version.starts_with("Linux version"));
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn os_version(&self) -> Result<String> {
        match self.os_type() {
            OsType::Windows => {
                // SAFETY: live handle; returns a static string or NULL.
                let p = unsafe { sys::vmi_get_winver_str(self.as_raw()) };
                if p.is_null() {
                    return Err(Error::Failed {
                        op: "vmi_get_winver_str",
                    });
                }
                // SAFETY: a NUL-terminated static string owned by LibVMI.
                Ok(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
            }
            OsType::Linux => {
                let va = self.translate_ksym2v("linux_banner")?;
                let s = self.read_cstring(crate::AccessContext::kernel(va), 512)?;
                Ok(s.trim_end().to_owned())
            }
            _ => Err(Error::Unsupported {
                op: "os_version",
                reason: "only Windows and Linux guests have a version here",
            }),
        }
    }

    /// The paging mode of `vcpu` (`vmi_get_page_mode`; File mode: the one LibVMI found).
    ///
    /// ```no_run
    /// use libvmi::PageMode;
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// assert_eq!(vmi.page_mode(0), PageMode::Ia32e);
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    #[must_use]
    pub fn page_mode(&self, vcpu: u32) -> PageMode {
        // SAFETY: live handle.
        PageMode::from_raw(unsafe { sys::vmi_get_page_mode(self.as_raw(), vcpu.into()) })
    }

    /// The size of a guest pointer in bytes (`vmi_get_address_width`): 4 or 8, 0 if
    /// paging is not initialised.
    ///
    /// ```no_run
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// let mut ptr = [0u8; 8];
    /// let width = usize::from(vmi.address_width()); // 4 or 8
    /// vmi.read_ksym("init_task", &mut ptr[..width])?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    #[must_use]
    pub fn address_width(&self) -> u8 {
        // SAFETY: live handle.
        unsafe { sys::vmi_get_address_width(self.as_raw()) }
    }

    /// The guest's memory size in bytes (`vmi_get_memsize`; File mode: the image size).
    ///
    /// ```no_run
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init_driver()?;
    /// println!("{} MiB of guest memory", vmi.memory_size() >> 20);
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    #[must_use]
    pub fn memory_size(&self) -> u64 {
        // SAFETY: live handle.
        unsafe { sys::vmi_get_memsize(self.as_raw()) }
    }

    /// One past the highest guest-physical address (`vmi_get_max_physical_address`).
    ///
    /// ```no_run
    /// use libvmi::Pa;
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init_driver()?;
    /// let last_page = vmi.max_physical_address().wrapping_sub(1).page_base();
    /// let mut page = [0u8; 4096];
    /// vmi.read_pa(last_page, &mut page)?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    #[must_use]
    pub fn max_physical_address(&self) -> crate::Pa {
        // SAFETY: live handle.
        crate::Pa(unsafe { sys::vmi_get_max_physical_address(self.as_raw()) })
    }

    /// The number of vCPUs (`vmi_get_num_vcpus`; File mode: 0 or 1).
    ///
    /// ```no_run
    /// # let vmi = libvmi::Vmi::xen("debian").init()?;
    /// for vcpu in 0..vmi.vcpu_count() {
    ///     println!("vCPU {vcpu}: {}", vmi.page_mode(vcpu));
    /// }
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    #[must_use]
    pub fn vcpu_count(&self) -> u32 {
        // SAFETY: live handle.
        unsafe { sys::vmi_get_num_vcpus(self.as_raw()) }
    }

    /// A configured OS offset (`vmi_get_offset`), e.g. `"linux_tasks"`, `"win_pid"`,
    /// `"linux_kaslr"`; or one of the extra offsets given in a [`Config::Map`].
    ///
    /// ```no_run
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// let tasks = vmi.offset("linux_tasks")?; // task_struct.tasks
    /// let pid = vmi.offset("linux_pid")?;
    /// assert!(tasks < pid);
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn offset(&self, name: &str) -> Result<u64> {
        if let Some((_, v)) = self.extras.iter().find(|(k, _)| k == name) {
            return Ok(*v);
        }
        self.require_os("vmi_get_offset")?;
        let mut out: sys::addr_t = 0;
        let status = ffi::with_cstr(name, "offset name", |c| {
            // SAFETY: live handle, NUL-terminated name, valid out-pointer.
            unsafe { sys::vmi_get_offset(self.as_raw(), c, &mut out) }
        })?;
        if status != sys::VMI_SUCCESS {
            return Err(Error::Offset { name: name.into() });
        }
        Ok(out)
    }

    /// An extra offset from the [`Config::Map`] (keys LibVMI does not know), if given.
    ///
    /// ```no_run
    /// use libvmi::{Config, ConfigMap, Vmi};
    /// let config = ConfigMap::new()
    ///     .with("ostype", "Linux")
    ///     .with("sysmap", "/images/nokaslr/System.map")
    ///     .with("linux_thread_group", 0x9d8u64);
    /// let vmi = Vmi::file("/images/mem.raw").config(Config::Map(config)).init()?;
    /// assert_eq!(vmi.extra_offset("linux_thread_group"), Some(0x9d8));
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    #[must_use]
    pub fn extra_offset(&self, name: &str) -> Option<u64> {
        self.extras.iter().find(|(k, _)| k == name).map(|&(_, v)| v)
    }

    /// The offset of `member` in kernel `struct_name`, from a JSON profile
    /// (`vmi_get_kernel_struct_offset`).
    ///
    /// ```no_run
    /// use libvmi::{Config, Vmi};
    /// let vmi = Vmi::file("/images/mem.raw")
    ///     .config(Config::JsonProfile("/images/linux.json".into()))
    ///     .init()?;
    /// let comm = vmi.kernel_struct_offset("task_struct", "comm")?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn kernel_struct_offset(&self, struct_name: &str, member: &str) -> Result<u64> {
        self.require_os("vmi_get_kernel_struct_offset")?;
        let mut out: sys::addr_t = 0;
        let status = ffi::with_cstr(struct_name, "struct name", |s| {
            ffi::with_cstr(member, "member name", |m| {
                // SAFETY: live handle, NUL-terminated strings, valid out-pointer.
                unsafe { sys::vmi_get_kernel_struct_offset(self.as_raw(), s, m, &mut out) }
            })
        })??;
        if status != sys::VMI_SUCCESS {
            return Err(Error::Offset {
                name: format!("{struct_name}.{member}"),
            });
        }
        Ok(out)
    }

    /// Pause the VM (`vmi_pause_vm`) until the guard is dropped (`vmi_resume_vm`).
    /// Pauses do not nest: dropping the guard resumes the VM even if it was paused before.
    /// File mode accepts both (an image never runs).
    ///
    /// ```no_run
    /// # let vmi = libvmi::Vmi::xen("debian").init()?;
    /// {
    ///     let _paused = vmi.pause()?;
    ///     // consistent reads here
    /// } // resumed
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn pause(&self) -> Result<PauseGuard<'_>> {
        self.pause_vm()?;
        Ok(PauseGuard { vmi: self })
    }

    /// Pause the VM without a guard (`vmi_pause_vm`); pair with [`Vmi::resume_vm`].
    ///
    /// ```no_run
    /// # let vmi = libvmi::Vmi::xen("debian").init()?;
    /// vmi.pause_vm()?;
    /// let mut page = [0u8; 4096];
    /// let read = vmi.read_pa(libvmi::Pa(0x1000), &mut page);
    /// vmi.resume_vm()?; // also when the read failed
    /// read?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn pause_vm(&self) -> Result<()> {
        // SAFETY: live handle.
        if unsafe { sys::vmi_pause_vm(self.as_raw()) } != sys::VMI_SUCCESS {
            return Err(Error::Failed { op: "vmi_pause_vm" });
        }
        Ok(())
    }

    /// Resume the VM (`vmi_resume_vm`).
    ///
    /// ```no_run
    /// # let vmi = libvmi::Vmi::xen("debian").init()?;
    /// vmi.pause_vm()?;
    /// // ... inspect the paused guest ...
    /// vmi.resume_vm()?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn resume_vm(&self) -> Result<()> {
        // SAFETY: live handle.
        if unsafe { sys::vmi_resume_vm(self.as_raw()) } != sys::VMI_SUCCESS {
            return Err(Error::Failed {
                op: "vmi_resume_vm",
            });
        }
        Ok(())
    }

    /// Flush the virtual-to-physical cache for one page table, or all (`None`).
    ///
    /// ```no_run
    /// use libvmi::Pid;
    /// # let vmi = libvmi::Vmi::xen("debian").init()?;
    /// let dtb = vmi.pid_to_dtb(Pid(1))?;
    /// vmi.flush_v2p_cache(Some(dtb)); // that address space only
    /// vmi.flush_v2p_cache(None); // all of them
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn flush_v2p_cache(&self, dtb: Option<Dtb>) {
        // SAFETY: live handle; ~0 means all page tables.
        unsafe { sys::vmi_v2pcache_flush(self.as_raw(), dtb.map_or(!0, |d| d.0)) }
    }

    /// Add a translation to the virtual-to-physical cache (`vmi_v2pcache_add`).
    ///
    /// ```no_run
    /// use libvmi::{Pa, Pid, Va};
    /// # let vmi = libvmi::Vmi::xen("debian").init()?;
    /// let dtb = vmi.pid_to_dtb(Pid(1))?;
    /// vmi.add_v2p_cache(Va(0x40_0000), dtb, Pa(0x1_2345_000));
    /// assert_eq!(vmi.pagetable_lookup(dtb, Va(0x40_0000))?, Pa(0x1_2345_000));
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn add_v2p_cache(&self, va: Va, dtb: Dtb, pa: crate::Pa) {
        // SAFETY: live handle.
        unsafe { sys::vmi_v2pcache_add(self.as_raw(), va.0, dtb.0, pa.0) }
    }

    /// Flush the kernel-symbol cache (`vmi_symcache_flush`).
    ///
    /// ```no_run
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// vmi.flush_symbol_cache();
    /// let init_task = vmi.translate_ksym2v("init_task")?; // looked up again
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn flush_symbol_cache(&self) {
        // SAFETY: live handle.
        unsafe { sys::vmi_symcache_flush(self.as_raw()) }
    }

    /// Flush the RVA-to-symbol cache (`vmi_rvacache_flush`).
    ///
    /// ```no_run
    /// # let vmi = libvmi::Vmi::xen("win10").init()?;
    /// vmi.flush_rva_cache();
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn flush_rva_cache(&self) {
        // SAFETY: live handle.
        unsafe { sys::vmi_rvacache_flush(self.as_raw()) }
    }

    /// Flush the pid-to-page-table cache (`vmi_pidcache_flush`).
    ///
    /// ```no_run
    /// use libvmi::Pid;
    /// # let vmi = libvmi::Vmi::xen("debian").init()?;
    /// vmi.flush_pid_cache(); // pids may have been reused since
    /// let dtb = vmi.pid_to_dtb(Pid(1))?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn flush_pid_cache(&self) {
        // SAFETY: live handle.
        unsafe { sys::vmi_pidcache_flush(self.as_raw()) }
    }

    /// Add a pid-to-page-table mapping to the cache (`vmi_pidcache_add`).
    ///
    /// ```no_run
    /// use libvmi::{Dtb, Pid};
    /// # let vmi = libvmi::Vmi::xen("debian").init()?;
    /// vmi.add_pid_cache(Pid(1), Dtb(0x10d_a000));
    /// assert_eq!(vmi.pid_to_dtb(Pid(1))?, Dtb(0x10d_a000));
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn add_pid_cache(&self, pid: Pid, dtb: Dtb) {
        // SAFETY: live handle.
        unsafe { sys::vmi_pidcache_add(self.as_raw(), pid.0, dtb.0) }
    }

    /// Flush the page cache (`vmi_pagecache_flush`): needed to see changes of a running
    /// VM's memory through pages LibVMI already holds.
    ///
    /// ```no_run
    /// # let vmi = libvmi::Vmi::xen("debian").init()?;
    /// let mut page = [0u8; 4096];
    /// vmi.read_pa(libvmi::Pa(0x1000), &mut page)?;
    /// vmi.flush_page_cache(); // the guest kept running: see its newest writes
    /// vmi.read_pa(libvmi::Pa(0x1000), &mut page)?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn flush_page_cache(&self) {
        // SAFETY: live handle.
        unsafe { sys::vmi_pagecache_flush(self.as_raw()) }
    }

    /// Flush every cache.
    ///
    /// ```no_run
    /// # let vmi = libvmi::Vmi::xen("debian").init()?;
    /// vmi.flush_caches(); // e.g. after the guest ran for a while
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn flush_caches(&self) {
        self.flush_v2p_cache(None);
        self.flush_symbol_cache();
        self.flush_rva_cache();
        self.flush_pid_cache();
        self.flush_page_cache();
    }
}

impl Drop for Vmi {
    fn drop(&mut self) {
        self.events.clear_all(self.handle.as_ptr());
        // SAFETY: the handle is live and owned by self; it is not used after this.
        unsafe { sys::vmi_destroy(self.handle.as_ptr()) };
        // Event slots are freed only now: LibVMI no longer refers to them.
        self.events.free_all();
    }
}

/// Keeps the VM paused; resumes it when dropped. From [`Vmi::pause`].
///
/// ```no_run
/// # let vmi = libvmi::Vmi::xen("debian").init()?;
/// let paused = vmi.pause()?;
/// let mut page = [0u8; 4096];
/// paused.read_pa(libvmi::Pa(0x1000), &mut page)?; // the guard derefs to the Vmi
/// drop(paused); // resumed
/// # Ok::<(), libvmi::Error>(())
/// ```
#[must_use = "the VM is resumed when the guard is dropped"]
pub struct PauseGuard<'a> {
    vmi: &'a Vmi,
}

impl PauseGuard<'_> {
    /// Resume now, reporting failure (dropping resumes too, ignoring failure).
    ///
    /// ```no_run
    /// # let vmi = libvmi::Vmi::xen("debian").init()?;
    /// let paused = vmi.pause()?;
    /// // ... consistent reads ...
    /// paused.resume()?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn resume(self) -> Result<()> {
        let vmi = self.vmi;
        core::mem::forget(self);
        vmi.resume_vm()
    }
}

impl core::ops::Deref for PauseGuard<'_> {
    type Target = Vmi;
    fn deref(&self) -> &Vmi {
        self.vmi
    }
}

impl Drop for PauseGuard<'_> {
    fn drop(&mut self) {
        let _ = self.vmi.resume_vm();
    }
}

/// The file LibVMI's `VMI_CONFIG_GLOBAL_FILE_ENTRY` reads: the first that opens of
/// `./libvmi.conf`, `~$SUDO_USER/etc/libvmi.conf`, `$HOME/etc/libvmi.conf`,
/// `/etc/libvmi.conf` (`open_config_file` in LibVMI's core.c).
fn global_config_file() -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Ok(cwd) = std::env::current_dir() {
        candidates.push(cwd.join("libvmi.conf"));
    }
    if let Some(user) = std::env::var_os("SUDO_USER") {
        let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
        let user = user.to_string_lossy();
        if let Some(home) = passwd.lines().find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() > 5 && f[0] == user).then(|| f[5].to_owned())
        }) {
            candidates.push(Path::new(&home).join("etc/libvmi.conf"));
        }
    }
    if let Some(home) = std::env::var_os("HOME") {
        candidates.push(Path::new(&home).join("etc/libvmi.conf"));
    }
    candidates.push(PathBuf::from("/etc/libvmi.conf"));
    candidates
        .into_iter()
        .find(|p| std::fs::File::open(p).is_ok())
}

fn c_string(s: &str, what: &'static str) -> Result<CString> {
    CString::new(s).map_err(|_| Error::InvalidArgument {
        what,
        reason: "contains a NUL byte".into(),
    })
}

fn c_path(p: &Path, what: &'static str) -> Result<CString> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(p.as_os_str().as_bytes()).map_err(|_| Error::InvalidArgument {
        what,
        reason: "contains a NUL byte".into(),
    })
}
