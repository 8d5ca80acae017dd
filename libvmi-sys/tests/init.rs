//! Calls into the LibVMI this crate built: clean failures on a missing image, the
//! configuration-string path without any guest (and without any libvmi.conf), and a
//! full init from a configuration string on a real guest memory image.

use std::ffi::CString;
#[cfg(feature = "config-file")]
use std::path::PathBuf;
use std::sync::Mutex;

use libvmi_sys::*;

/// LibVMI's config parser (bison/flex) keeps global state: one parse at a time.
static PARSER: Mutex<()> = Mutex::new(());

/// The nokaslr image of the newest image set (`TINYVMI_IMAGES`, else the default cache).
#[cfg(feature = "config-file")]
fn image_dir() -> PathBuf {
    let set = std::env::var_os("TINYVMI_IMAGES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let cache = std::env::var_os("TINYVMI_CACHE_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| {
                    PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/tinyvmi")
                });
            let mut sets: Vec<_> = std::fs::read_dir(cache.join("images"))
                .map(|d| {
                    d.flatten()
                        .map(|e| e.path())
                        .filter(|p| p.join("image-set.json").exists())
                        .collect()
                })
                .unwrap_or_default();
            sets.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
            sets.pop()
                .expect("no guest images: run ci/guest-images/build (or set TINYVMI_IMAGES)")
        });
    set.join("nokaslr")
}

#[test]
fn missing_image_fails_cleanly_with_a_driver_error() {
    let mut vmi: vmi_instance_t = std::ptr::null_mut();
    let mut err: vmi_init_error_t = VMI_INIT_ERROR_NONE;
    let name = CString::new("/nonexistent/tinyvmi/memory.raw").unwrap();
    // SAFETY: valid pointers for the duration of the call; LibVMI only reads `name`.
    let status = unsafe {
        vmi_init(
            &mut vmi,
            VMI_FILE,
            name.as_ptr().cast(),
            VMI_INIT_DOMAINNAME as u64,
            std::ptr::null_mut(),
            &mut err,
        )
    };
    assert_eq!(status, VMI_FAILURE);
    assert_eq!(err, VMI_INIT_ERROR_DRIVER);
}

/// With the mode left to auto-detection, nothing claims a file that does not exist.
#[test]
fn missing_image_is_not_detected_by_init_complete() {
    let _parser = PARSER.lock().unwrap_or_else(|e| e.into_inner());
    let mut vmi: vmi_instance_t = std::ptr::null_mut();
    let mut err: vmi_init_error_t = VMI_INIT_ERROR_NONE;
    let name = CString::new("/nonexistent/tinyvmi/memory.raw").unwrap();
    let config = CString::new("{ ostype = \"Linux\"; }").unwrap();
    // SAFETY: valid pointers for the duration of the call; LibVMI only reads `name` and
    // `config` and writes the out-parameters.
    let status = unsafe {
        vmi_init_complete(
            &mut vmi,
            name.as_ptr().cast(),
            VMI_INIT_DOMAINNAME as u64,
            std::ptr::null_mut(),
            VMI_CONFIG_STRING,
            config.as_ptr() as *mut _,
            &mut err,
        )
    };
    assert_eq!(status, VMI_FAILURE);
    // core.c: vmi_get_access_mode() fails → VMI_INIT_ERROR_DRIVER_NOT_DETECTED.
    assert_eq!(err, VMI_INIT_ERROR_DRIVER_NOT_DETECTED);
    assert!(vmi.is_null());
}

/// A zero-filled "memory image" in the temp dir, removed on drop.
#[cfg(feature = "config-file")]
struct ZeroImage(PathBuf);

#[cfg(feature = "config-file")]
impl ZeroImage {
    fn new(tag: &str) -> ZeroImage {
        let path =
            std::env::temp_dir().join(format!("libvmi-sys-{tag}-{}.raw", std::process::id()));
        std::fs::write(&path, vec![0u8; 1 << 20]).unwrap();
        ZeroImage(path)
    }
}

#[cfg(feature = "config-file")]
impl Drop for ZeroImage {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// `vmi_init_os` with a configuration string on an instance over `image`: the OS it
/// reports and the init error.
#[cfg(feature = "config-file")]
fn init_os_with_string(image: &ZeroImage, config: &str) -> (os_t, vmi_init_error_t) {
    let name = CString::new(image.0.to_str().unwrap()).unwrap();
    let config = CString::new(config).unwrap();
    let mut vmi: vmi_instance_t = std::ptr::null_mut();
    let mut err: vmi_init_error_t = VMI_INIT_ERROR_NONE;
    // SAFETY: valid pointers; `vmi` is destroyed before returning and used only in between.
    unsafe {
        let status = vmi_init(
            &mut vmi,
            VMI_FILE,
            name.as_ptr().cast(),
            VMI_INIT_DOMAINNAME as u64,
            std::ptr::null_mut(),
            &mut err,
        );
        assert_eq!(status, VMI_SUCCESS, "vmi_init on a zero image: error {err}");
        let os = vmi_init_os(vmi, VMI_CONFIG_STRING, config.as_ptr() as *mut _, &mut err);
        vmi_destroy(vmi);
        (os, err)
    }
}

/// The configuration string reaches the parser (no libvmi.conf is read): a valid entry
/// gets past configuration to the OS stage (which a zero-filled image then fails), a
/// syntax error and an entry without an OS type fail at the configuration stage.
#[cfg(feature = "config-file")]
#[test]
fn config_string_is_parsed_without_a_guest() {
    let _parser = PARSER.lock().unwrap_or_else(|e| e.into_inner());
    let image = ZeroImage::new("config");
    let valid = "{ ostype = \"Linux\"; linux_tasks = 0x7d0; linux_mm = 0x850; \
                 linux_pid = 0x950; linux_name = 0xbc8; linux_pgd = 0x50; }";
    assert_eq!(
        init_os_with_string(&image, valid),
        (VMI_OS_UNKNOWN, VMI_INIT_ERROR_OS)
    );
    assert_eq!(
        init_os_with_string(&image, "{ ostype = "),
        (VMI_OS_UNKNOWN, VMI_INIT_ERROR_NO_CONFIG)
    );
    assert_eq!(
        init_os_with_string(&image, "{ linux_pgd = 0x50; }"),
        (VMI_OS_UNKNOWN, VMI_INIT_ERROR_NO_CONFIG_ENTRY)
    );
    // The parser recovers from the syntax error.
    assert_eq!(
        init_os_with_string(&image, valid),
        (VMI_OS_UNKNOWN, VMI_INIT_ERROR_OS)
    );
}

#[cfg(feature = "config-file")]
#[test]
fn config_string_init_reads_the_banner_of_a_real_guest() {
    let _parser = PARSER.lock().unwrap_or_else(|e| e.into_inner());
    let dir = image_dir();
    let truth: String =
        std::fs::read_to_string(dir.join("ground-truth.json")).expect("ground-truth.json");
    let image = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "raw"))
        .expect("a .raw image");
    // The entry body of the set's libvmi.conf, handed over as a string: no global config file.
    let conf = std::fs::read_to_string(dir.join("libvmi.conf")).unwrap();
    let body = &conf[conf.find('{').expect("an entry")..];
    let config = CString::new(body).unwrap();
    let name = CString::new(image.to_str().unwrap()).unwrap();
    let mut vmi: vmi_instance_t = std::ptr::null_mut();
    let mut err: vmi_init_error_t = VMI_INIT_ERROR_NONE;
    // SAFETY: valid pointers; the config string outlives the call.
    let status = unsafe {
        vmi_init_complete(
            &mut vmi,
            name.as_ptr().cast(),
            VMI_INIT_DOMAINNAME as u64,
            std::ptr::null_mut(),
            VMI_CONFIG_STRING,
            config.as_ptr() as *mut _,
            &mut err,
        )
    };
    assert_eq!(status, VMI_SUCCESS, "init error {err}");
    // SAFETY: `vmi` is a live instance from here to vmi_destroy.
    unsafe {
        assert_eq!(vmi_get_ostype(vmi), VMI_OS_LINUX);
        let sym = CString::new("linux_banner").unwrap();
        let mut buf = [0u8; 64];
        let mut read = 0usize;
        assert_eq!(
            vmi_read_ksym(
                vmi,
                sym.as_ptr(),
                buf.len(),
                buf.as_mut_ptr().cast(),
                &mut read
            ),
            VMI_SUCCESS
        );
        assert_eq!(read, buf.len());
        let text = String::from_utf8_lossy(&buf);
        assert!(text.starts_with("Linux version "), "{text}");
        // The guest's own /proc/version starts with the same bytes.
        let banner_start = &text[..40];
        assert!(
            truth.contains(banner_start),
            "{banner_start:?} not in the ground truth"
        );
        vmi_destroy(vmi);
    }
}

/// Upstream's config-string init echoed the string's NUL terminator to stdout (see
/// csrc/config_string.c). Run an init in a child process and check its stdout.
#[cfg(feature = "config-file")]
#[test]
fn config_string_init_writes_nothing_to_stdout() {
    if std::env::var_os("LIBVMI_SYS_STDOUT_CHILD").is_some() {
        config_string_is_parsed_without_a_guest();
        return config_string_init_reads_the_banner_of_a_real_guest();
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "config_string_init_writes_nothing_to_stdout",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("LIBVMI_SYS_STDOUT_CHILD", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "child failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !out.stdout.contains(&0u8),
        "a NUL byte reached stdout: {:?}",
        String::from_utf8_lossy(&out.stdout)
    );
}
