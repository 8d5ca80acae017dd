//! Configuration strings through the safe API's `Config::String`: our syntax check first
//! (`libvmi-rs/src/config.rs`, `check_syntax`), then LibVMI's bison/flex parser on what
//! passes, then `vmi_init_os` on a small image. Any input must end in `Ok` or a clean
//! `Error`, never a crash, hang or leak.
//!
//! The oracle beyond "no crash": a string our check accepts must also parse in LibVMI.
//! LibVMI's parser keeps global state, and after a syntax error its scanner still points
//! into the old input, which breaks every later parse in the process; the check exists to
//! keep such strings away from it. So `InitError::NoConfig` (LibVMI's "the config does not
//! parse") after the check passed is a bug in the check.
//!
//! The image is 2 MiB of zeros (no OS: init fails fast after the parse). A small fake
//! System.map sits next to it for seeds to name (`corpus/config_string/seed-*` use
//! `/tmp/tinyvmi-fuzz-config/System.map`). Both live in `$TMPDIR/tinyvmi-fuzz-config/`,
//! shared by all runs and never written after creation.
#![no_main]

mod support;

use libfuzzer_sys::fuzz_target;
use libvmi::{Config, Error, InitError, Vmi};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// A fake System.map: the symbols Linux init looks up, at plausible addresses.
const SYSMAP: &str = "\
ffffffff81000000 T _text
ffffffff81000000 T startup_64
ffffffff82000200 D linux_banner
ffffffff82a0a940 D init_task
ffffffff82a10000 D init_top_pgt
ffffffff82b27f70 D modules
";

/// Write `bytes` (or a sparse file of `len` bytes) to `path` unless it exists, atomically.
fn create_once(path: &Path, bytes: &[u8], len: u64) {
    if path.exists() {
        return;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&tmp)
        .unwrap()
        .set_len(len.max(bytes.len() as u64))
        .unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

fn image() -> &'static PathBuf {
    static IMAGE: OnceLock<PathBuf> = OnceLock::new();
    IMAGE.get_or_init(|| {
        let dir = std::env::temp_dir().join("tinyvmi-fuzz-config");
        std::fs::create_dir_all(&dir).unwrap();
        create_once(&dir.join("System.map"), SYSMAP.as_bytes(), 0);
        let image = dir.join("zero.raw");
        create_once(&image, &[], 2 << 20);
        image
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    match Vmi::file(image())
        .config(Config::String(s.to_owned()))
        .init()
    {
        Ok(_) => {}
        Err(Error::Init {
            reason: InitError::NoConfig,
            ..
        }) => panic!(
            "our syntax check passed a config string that LibVMI's parser rejects: {s:?} \
             (LibVMI's parser state is now broken for the rest of the process)"
        ),
        Err(e) => assert!(!e.to_string().is_empty(), "empty error message: {e:?}"),
    }
});
