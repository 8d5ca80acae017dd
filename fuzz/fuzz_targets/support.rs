//! Shared by the LibVMI fuzz targets (`mod support;`).
#![allow(dead_code)]

use std::ffi::c_char;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// LeakSanitizer suppressions, read by the sanitizer runtime at its first leak check (so
/// a plain `cargo fuzz run` needs no `LSAN_OPTIONS`). Each entry is a leak in upstream
/// LibVMI's C code at the pinned commit, found by these targets; we do not patch upstream
/// for them (HARDENING.md, "Fuzzing", has the details and reproducers; line numbers are
/// the pinned upstream source's):
///
/// * `set_image_type_for_file` (libvmi/core.c:412): `vmi->image_type_complete`, a copy of
///   the image path, is never freed (`vmi_destroy` frees only `image_type`). Every
///   File-mode instance.
/// * `file_set_name` (libvmi/driver/file/file.c:219): the File driver's copy of the path,
///   `fi->filename`, is never freed (`file_destroy` frees `fi` only). Every File-mode
///   instance.
/// * `entry_done` (libvmi/config/grammar.y:229): after each entry the parser allocates a
///   fresh `tmp_entry` table; `vmi_parse_config` (grammar.y:241) overwrites it with a new
///   one at the start of the next parse. Every parse after the first leaks an empty table.
/// * `freebsd_read_config_ghashtable_entries` (libvmi/os/freebsd/core.c:158): the
///   `sysmap` copy; when `freebsd_init` fails, its error path (core.c:140) frees `os_data`
///   but not `os_data->sysmap`.
/// * `yylex` (libvmi/config/lexicon.l:54): the `linux_addr` keyword string; the grammar's
///   `linux_addr_assignment` (grammar.y:450) frees the number but not the key (every
///   other assignment stores or frees both). The suppression names the lexer because the
///   leaked string's stack has no other distinct frame; by the grammar, `linux_addr` is
///   its only leak on a successful parse, and unparsable strings never reach LibVMI
///   (config_string's oracle).
///
/// `TINYVMI_FUZZ_NO_SUPPRESSIONS=1` turns them off, to reproduce the leaks.
#[no_mangle]
pub extern "C" fn __lsan_default_suppressions() -> *const c_char {
    if std::env::var_os("TINYVMI_FUZZ_NO_SUPPRESSIONS").is_some() {
        return c"".as_ptr();
    }
    c"leak:set_image_type_for_file
leak:file_set_name
leak:entry_done
leak:freebsd_read_config_ghashtable_entries
leak:yylex
"
    .as_ptr()
}

/// LeakSanitizer options: do not print the suppression statistics at every leak check.
#[no_mangle]
pub extern "C" fn __lsan_default_options() -> *const c_char {
    c"print_suppressions=0".as_ptr()
}

/// A path that opens `f` again, even after its name is gone.
pub fn fd_path(f: &File) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", f.as_raw_fd()))
}

/// Remove `<tmp>/<prefix><pid>` directories of fuzzing processes that are gone.
pub fn remove_stale_dirs(tmp: &Path, prefix: &str) {
    for e in std::fs::read_dir(tmp).into_iter().flatten().flatten() {
        let name = e.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(prefix)) else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// A System.map with `text` (for `os_walkers`: `common::Variant::fast_sysmap`, the
/// symbols LibVMI looks up at init first), returned open and already unlinked.
pub fn sysmap_file(text: &str) -> File {
    let tmp = std::env::temp_dir().join(format!("tinyvmi-fuzz-sysmap-{}", std::process::id()));
    std::fs::write(&tmp, text).unwrap();
    let f = File::open(&tmp).unwrap();
    std::fs::remove_file(&tmp).unwrap();
    f
}
