//! Configuration strings through the safe API's `Config::String` (our checks first, then
//! LibVMI's bison/flex parser on what passes) and on into `vmi_init` on a small image: any
//! input must end in `Ok` or a clean `Error`, never a crash, hang or leak. The image is 2
//! MiB of zeros (no OS: init fails fast after the parse).
#![no_main]

use libfuzzer_sys::fuzz_target;
use libvmi::{Config, Vmi};
use std::path::PathBuf;
use std::sync::OnceLock;

fn image() -> &'static PathBuf {
    static IMAGE: OnceLock<PathBuf> = OnceLock::new();
    IMAGE.get_or_init(|| {
        let p =
            std::env::temp_dir().join(format!("tinyvmi-fuzz-config-{}.raw", std::process::id()));
        let f = std::fs::File::create(&p).unwrap();
        f.set_len(2 << 20).unwrap();
        p
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let r = Vmi::file(image())
        .config(Config::String(s.to_owned()))
        .init();
    if let Err(e) = r {
        assert!(!e.to_string().is_empty());
    }
});
