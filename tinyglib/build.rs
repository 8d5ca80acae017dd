//! Compiles the two C-variadic functions (`csrc/variadic.c`) into the crate, and, for
//! the host's tests only, the C behaviour tests (`tests/c/*.c`) against `include/glib.h`.

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=csrc/variadic.c");
    println!("cargo:rerun-if-changed=include/glib.h");
    println!("cargo:rerun-if-changed=tests/c");
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let include = manifest.join("include");
    println!("cargo:include={}", include.display());

    let target_os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let mut build = cc::Build::new();
    build
        .file("csrc/variadic.c")
        .warnings(true)
        .extra_warnings(true);
    if target_os == "none" {
        // Bare-metal / Mini-OS: freestanding, no red zone, no stack protector, like
        // Xen's stubdom flags. The host compiler is fine for x86_64 (override with
        // CC_x86_64_unknown_none).
        if env::var_os("CC_x86_64_unknown_none").is_none() && env::var_os("TARGET_CC").is_none() {
            build.compiler("cc");
        }
        build
            .flag("-ffreestanding")
            .flag("-fno-stack-protector")
            .flag("-mno-red-zone")
            .flag("-fno-asynchronous-unwind-tables")
            .flag("-fno-exceptions");
    }
    build.compile("tinyglib_variadic");

    // C behaviour tests: an archive handed to the linker of the test targets only.
    if target_os == "linux" {
        let mut tests: Vec<PathBuf> = std::fs::read_dir(manifest.join("tests/c"))
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "c"))
            .collect();
        tests.sort();
        if !tests.is_empty() {
            let mut t = cc::Build::new();
            // No -Werror here (this also runs when tinyglib is built as a dependency);
            // tests/c_behaviour.rs compiles the same file with -Wall -Wextra -Werror.
            t.include(&include)
                .files(&tests)
                .warnings(true)
                .cargo_metadata(false);
            t.compile("tinyglib_ctests");
            let out = PathBuf::from(env::var("OUT_DIR").unwrap());
            println!(
                "cargo:rustc-link-arg-tests={}",
                out.join("libtinyglib_ctests.a").display()
            );
        }
    }
}
