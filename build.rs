//! Build script of the `tinyvmi` package.
//!
//! **Target `x86_64-unknown-none` (the Mini-OS archive):** prepares the pinned, patched
//! LibVMI source (the same `vmi-upstream` pipeline as `libvmi-sys`), renders its
//! `config.h` with `libvmi-sys`'s renderer (Xen driver, config parser, Linux, Windows and
//! FreeBSD; no File driver, no JSON profiles and hence no macOS), generates the config parser with bison/flex, and compiles
//! everything with Mini-OS's own flags: against a real Xen tree when `XEN_ROOT` (and
//! optionally `MINIOS_ROOT`) is set, else against Debian's newlib headers plus
//! `minios/include/`. The objects are handed to rustc as static native libraries, so
//! they end up inside `libtinyvmi.a` next to tinyglib and the Rust glue. The public
//! headers are copied to `<OUT_DIR>/include` (also announced as `DEP_TINYVMI_INCLUDE`)
//! and mirrored to `<target dir>/x86_64-unknown-none/<profile>/include/`.
//!
//! **Any other target (the host):** compiles the same Mini-OS-specific C pieces (the
//! static `dlsym` resolver over a table generated for the host's libxenctrl and
//! libxenstore, `getline`, LibVMI's config parser) so the host tests exercise them.
//!
//! Source lists, the `config.h` renderer and the parser generator are `libvmi-sys`'s
//! own files, included by path.

#[allow(dead_code)]
#[path = "libvmi-sys/build/config_h.rs"]
mod config_h;
#[allow(dead_code)]
#[path = "libvmi-sys/build/probe.rs"]
mod probe;
#[path = "minios/build/resolver.rs"]
mod resolver;
#[allow(dead_code)]
#[path = "libvmi-sys/build/sources.rs"]
mod sources;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Prints a one-line error and stops the build without a backtrace.
pub fn fail(msg: impl std::fmt::Display) -> ! {
    eprintln!("\nerror: tinyvmi: {msg}\n");
    std::process::exit(1)
}

/// The LibVMI features of the Mini-OS archive (the fields `config_h::render` reads).
pub struct Features {
    pub file: bool,
    pub xen: bool,
    pub config_file: bool,
}

/// The only files that see the `dl*` renames: the Xen driver's wrappers, which
/// `dlopen`/`dlsym` libxenctrl and libxenstore, and `xen.c`, which `dlclose`s their
/// handles in `xen_destroy`.
const DL_FILES: &[&str] = &[
    "driver/xen/libxc_wrapper.c",
    "driver/xen/libxs_wrapper.c",
    "driver/xen/xen.c",
];

/// Compiled with `sources::SYSMAP_RENAMES`: the System.map lookups go to
/// `libvmi-sys/csrc/sysmap_lookup.c` (as in `libvmi-sys`).
const SYSMAP_FILE: &str = "os/linux/symbols.c";

/// What Mini-OS's xenstore lacks and `minios/csrc/xs_compat.c` provides.
const XS_COMPAT: &[&str] = &["xs_open", "xs_close", "xs_is_domain_introduced"];

/// Renames applied to every LibVMI C file: no filesystem (`fopen` reaches the blob
/// registry first) and the libc functions Mini-OS's newlib does not link.
const LIBVMI_RENAMES: &[(&str, &str)] = &[
    ("fopen", "tinyvmi_fopen"),
    ("getline", "tinyvmi_getline"),
    ("iconv_open", "tinyvmi_iconv_open"),
    ("iconv", "tinyvmi_iconv"),
    ("iconv_close", "tinyvmi_iconv_close"),
];

/// Renames applied to the two wrapper files only: the static resolver.
const DL_RENAMES: &[(&str, &str)] = &[
    ("dlopen", "tinyvmi_dlopen"),
    ("dlsym", "tinyvmi_dlsym"),
    ("dlclose", "tinyvmi_dlclose"),
    ("dlerror", "tinyvmi_dlerror"),
];

fn env_path(key: &str) -> PathBuf {
    PathBuf::from(
        std::env::var_os(key)
            .unwrap_or_else(|| fail(format!("{key} is not set (run through cargo)"))),
    )
}

fn env_nonempty(key: &str) -> Option<String> {
    println!("cargo:rerun-if-env-changed={key}");
    std::env::var(key).ok().filter(|v| !v.is_empty())
}

fn main() {
    for p in [
        "build.rs",
        "minios/build",
        "minios/csrc",
        "minios/include",
        "minios/public",
    ] {
        println!("cargo:rerun-if-changed={p}");
    }
    println!("cargo:rerun-if-changed=minios/audit/allowlist.txt");
    println!("cargo:rerun-if-changed=libvmi-sys/build");
    println!("cargo:rerun-if-changed=libvmi-sys/csrc/xen_setmaxmem_guard.h");
    println!("cargo:rerun-if-changed=libvmi-sys/csrc/sysmap_lookup.c");

    let out = env_path("OUT_DIR");
    let manifest = env_path("CARGO_MANIFEST_DIR");
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();

    probe::require_tool("bison", "bison");
    probe::require_tool("flex", "flex");
    let src = vmi_upstream::prepare_source(&manifest, &out).unwrap_or_else(|e| fail(e));
    let lib = src.join("libvmi");
    let gen = out.join("gen");
    mkdir(&gen);

    // The names the driver asks dlsym for, straight from the wrapper sources.
    let mut wanted = Vec::new();
    for w in DL_FILES {
        let path = lib.join(w);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| fail(format!("reading {}: {e}", path.display())));
        for n in resolver::dlsym_names(&text) {
            if !wanted.contains(&n) {
                wanted.push(n);
            }
        }
    }
    if wanted.is_empty() {
        fail("found no dlsym(\"name\") calls in LibVMI's Xen wrappers: has upstream changed how it loads libxenctrl?");
    }
    let parser = probe::generate_parser(&lib.join("config"), &gen);

    if target_os == "none" {
        minios(&manifest, &out, &src, &gen, &wanted, &parser);
    } else {
        host(&manifest, &gen, &src, &wanted, &parser);
    }
}

fn mkdir(dir: &Path) {
    std::fs::create_dir_all(dir)
        .unwrap_or_else(|e| fail(format!("creating {}: {e}", dir.display())));
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| fail(format!("writing {}: {e}", path.display())));
}

/// Where the C compiler's own headers are (`stddef.h`, `stdarg.h`, ...).
fn gcc_include(cc: &str) -> String {
    Command::new(cc)
        .arg("-print-file-name=include")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|s| s.starts_with('/'))
        .unwrap_or_else(|| {
            fail(format!(
                "`{cc} -print-file-name=include` failed: is {cc} installed?"
            ))
        })
}

/// Mini-OS's compile flags (`TARGET_CPPFLAGS` + `TARGET_CFLAGS` of Xen's stubdom build,
/// minus warnings), against a real Xen tree or against Debian's newlib headers.
struct MiniosFlags {
    cc: String,
    args: Vec<String>,
}

fn minios_flags(manifest: &Path, out: &Path) -> MiniosFlags {
    let cc = env_nonempty("CC_x86_64_unknown_none")
        .or_else(|| env_nonempty("TARGET_CC"))
        .unwrap_or_else(|| "gcc".to_string());
    let gcc_inc = gcc_include(&cc);
    let compat = manifest.join("minios/include");
    let mut args: Vec<String> = Vec::new();
    let mut isystem = |dir: &Path| args.push(format!("-isystem{}", dir.display()));
    if let Some(xen_root) = env_nonempty("XEN_ROOT") {
        // A real Xen tree: exactly the stubdom build's include order.
        let xen_root = PathBuf::from(xen_root);
        let minios = env_nonempty("MINIOS_ROOT")
            .map(PathBuf::from)
            .unwrap_or_else(|| xen_root.join("extras/mini-os"));
        let newlib = env_nonempty("MINIOS_NEWLIB_INCLUDE")
            .map(PathBuf::from)
            .unwrap_or_else(|| xen_root.join("stubdom/cross-root-x86_64/x86_64-xen-elf/include"));
        for dir in [
            minios.join("include"),
            minios.join("include/posix"),
            xen_root.join("tools/include"),
            minios.join("include/x86"),
            minios.join("include/x86/x86_64"),
            newlib,
            PathBuf::from(&gcc_inc),
        ] {
            if !dir.is_dir() {
                fail(format!(
                    "XEN_ROOT/MINIOS_ROOT: {} is not a directory (build Xen's stubdom newlib first: make -C $XEN_ROOT/stubdom cross-newlib)",
                    dir.display()
                ));
            }
            isystem(&dir);
        }
        // Then, as the stubdom's TARGET_CPPFLAGS, `-I` stubdom/include (the public Xen
        // headers as xen/, xen/foreign/, linked there by its mk-headers-<arch> target:
        // tools/include has no xen/ until the tools are built) and xen/include.
        let stubdom_include = xen_root.join("stubdom/include");
        if !stubdom_include.join("xen/foreign/x86_64.h").is_file() {
            fail(format!(
                "XEN_ROOT: {} lacks xen/foreign/x86_64.h (let the stubdom link the Xen headers first: make -C $XEN_ROOT/stubdom mk-headers-x86_64)",
                stubdom_include.display()
            ));
        }
        args.push(format!("-I{}", stubdom_include.display()));
        args.push(format!("-I{}", xen_root.join("xen/include").display()));
    } else {
        // Debian's newlib headers, then the Xen headers (only those, through a
        // directory of symlinks, so no glibc header can leak in), then gcc's.
        let newlib =
            env_nonempty("MINIOS_NEWLIB_INCLUDE").unwrap_or_else(|| "/usr/include/newlib".into());
        if !Path::new(&newlib).join("newlib.h").is_file() {
            fail(format!(
                "no newlib headers at {newlib}: install them (apt-get install libnewlib-dev) or point XEN_ROOT at a Xen tree with a built stubdom cross root"
            ));
        }
        isystem(Path::new(&newlib));
        isystem(&xen_header_links(out));
        isystem(Path::new(&gcc_inc));
    }
    // What Mini-OS provides and newlib lacks (dlfcn.h, ...): after everything else,
    // so real Mini-OS headers win.
    args.push(format!("-idirafter{}", compat.display()));
    for f in [
        "-nostdinc",
        "-D__MINIOS__",
        "-DHAVE_LIBC",
        "-U__linux__",
        "-U__FreeBSD__",
        "-U__sun__",
        "-m64",
        "-mno-red-zone",
        "-fno-pie",
        "-fno-stack-protector",
        "-fno-exceptions",
        "-fno-asynchronous-unwind-tables",
        "-fno-reorder-blocks",
        "-fno-omit-frame-pointer",
        "-O1",
        "-std=gnu99",
        "-fno-strict-aliasing",
        "-w",
    ] {
        args.push(f.to_string());
    }
    MiniosFlags { cc, args }
}

/// A directory holding symlinks to just the Xen headers of the host's libxen-dev.
fn xen_header_links(out: &Path) -> PathBuf {
    let sys = Path::new("/usr/include");
    let dir = out.join("xen-include");
    let _ = std::fs::remove_dir_all(&dir);
    mkdir(&dir);
    let mut n = 0;
    for entry in std::fs::read_dir(sys).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let header = (name.starts_with("xen") || name.starts_with("xs")) && name.ends_with(".h");
        if header || name == "xen" {
            std::os::unix::fs::symlink(entry.path(), dir.join(&name))
                .unwrap_or_else(|e| fail(format!("symlinking {name}: {e}")));
            n += 1;
        }
    }
    if !dir.join("xenctrl.h").exists() {
        fail("the Xen headers (xenctrl.h, xenstore.h) are missing from /usr/include: install them (apt-get install libxen-dev) or point XEN_ROOT at a Xen tree");
    }
    let _ = n;
    dir
}

fn minios_build(flags: &MiniosFlags) -> cc::Build {
    let mut b = cc::Build::new();
    b.compiler(&flags.cc)
        .no_default_flags(true)
        .warnings(false)
        .cargo_warnings(false);
    for a in &flags.args {
        b.flag(a);
    }
    // As on the host (see `sources::string_op_flags`): no `rep stos` per translation.
    for f in sources::string_op_flags() {
        b.flag_if_supported(f);
    }
    b
}

fn rename(b: &mut cc::Build, renames: &[(&str, &str)]) {
    for (from, to) in renames {
        b.define(from, Some(*to));
    }
}

/// The Mini-OS archive's C side.
fn minios(
    manifest: &Path,
    out: &Path,
    src: &Path,
    gen: &Path,
    wanted: &[String],
    parser: &[PathBuf],
) {
    let lib = src.join("libvmi");
    let flags = minios_flags(manifest, out);
    let csrc = manifest.join("minios/csrc");

    // What the Xen headers in use offer (for config.h).
    let probe_c = out.join("xen-probe.c");
    write(
        &probe_c,
        "#include <xenctrl.h>\n#include <xenstore.h>\n#include <xen/memory.h>\n",
    );
    let expanded = minios_build(&flags)
        .file(&probe_c)
        .cargo_metadata(false)
        .try_expand()
        .unwrap_or_else(|e| {
            fail(format!(
                "the Xen headers do not preprocess with Mini-OS's flags: {e}"
            ))
        });
    let expanded = String::from_utf8_lossy(&expanded);
    let xen = probe::Xen {
        xenmem_access_t: expanded.contains("xenmem_access_t"),
        hvmmem_access_t: expanded.contains("hvmmem_access_t"),
    };
    let features = Features {
        file: false,
        xen: true,
        config_file: true,
    };
    let version = config_h::upstream_version(src);
    // macOS support needs the JSON profiles (json-c, which Mini-OS lacks): off.
    let config = config_h::render(&features, Some(&xen), None, &version)
        .replace("#define ENABLE_OSX 1\n", "");
    write(&gen.join("config.h"), &config);

    let glib_include = env_path("DEP_TINYGLIB_INCLUDE");
    let common = |b: &mut cc::Build| {
        b.include(gen)
            .include(src)
            .include(&lib)
            .include(lib.join("config"))
            .include(&glib_include)
            .include(&csrc)
            .define("HAVE_CONFIG_H", None)
            .flag("-include")
            .flag("tinyvmi_compat.h");
        rename(b, LIBVMI_RENAMES);
    };

    // LibVMI minus the files that see the loader.
    let mut files: Vec<PathBuf> = Vec::new();
    for list in [
        sources::CORE,
        sources::OS_LINUX,
        sources::OS_WINDOWS,
        sources::OS_FREEBSD,
        sources::XEN_DRIVER,
    ] {
        files.extend(
            list.iter()
                .filter(|f| !DL_FILES.contains(f))
                .map(|f| lib.join(f)),
        );
    }
    files.extend(parser.iter().cloned());
    // The Linux OS layer's System.map lookups search the registered blob in place
    // (libvmi-sys/csrc/sysmap_lookup.c; upstream fgets the stream from the top per name).
    let symbols = lib.join(SYSMAP_FILE);
    files.retain(|f| *f != symbols);
    let mut b = minios_build(&flags);
    common(&mut b);
    b.files(&files).compile("tinyvmi_libvmi");
    let mut b = minios_build(&flags);
    common(&mut b);
    rename(&mut b, sources::SYSMAP_RENAMES);
    b.file(&symbols).compile("tinyvmi_symbols");
    let mut b = minios_build(&flags);
    common(&mut b);
    b.define("LIBVMI_SYS_SYSMAP_BLOBS", None)
        .file(manifest.join("libvmi-sys/csrc/sysmap_lookup.c"))
        .compile("tinyvmi_sysmap");

    // The files that see the loader, with it renamed to the static resolver.
    let mut b = minios_build(&flags);
    common(&mut b);
    rename(&mut b, DL_RENAMES);
    b.files(DL_FILES.iter().map(|w| lib.join(w)))
        .compile("tinyvmi_xenwrap");

    // The project's C: resolver + generated table, xenstore and stdio stand-ins.
    let mut provided = read_names(&manifest.join("minios/audit/allowlist.txt"));
    provided.extend(XS_COMPAT.iter().map(|s| s.to_string()));
    let table = gen.join("tinyvmi_dl_table.c");
    write(
        &table,
        &resolver::render_table(wanted, &provided, "driver/xen/lib{xc,xs}_wrapper.c (Mini-OS: names on minios/audit/allowlist.txt plus xs_compat.c)"),
    );
    let mut b = minios_build(&flags);
    b.include(&csrc)
        .include(manifest.join("libvmi-sys/csrc"))
        .file(&table)
        .file(csrc.join("dl_static.c"))
        .file(csrc.join("xs_compat.c"))
        .file(csrc.join("stdio_compat.c"))
        .compile("tinyvmi_minios");

    public_headers(manifest, out, &lib, &glib_include, true);
}

/// Copies the public headers to `<OUT_DIR>/include` and, for the Mini-OS build, next to
/// the archive (`<target dir>/<triple>/<profile>/include`).
fn public_headers(manifest: &Path, out: &Path, lib: &Path, glib_include: &Path, mirror: bool) {
    let include = out.join("include");
    let _ = std::fs::remove_dir_all(&include);
    mkdir(&include.join("libvmi"));
    let copy = |from: &Path, to: &Path| {
        std::fs::copy(from, to)
            .unwrap_or_else(|e| fail(format!("copying {}: {e}", from.display())));
    };
    for h in sources::PUBLIC_HEADERS {
        copy(&lib.join(h), &include.join("libvmi").join(h));
    }
    copy_tree(glib_include, &include);
    copy(
        &manifest.join("minios/public/tinyvmi.h"),
        &include.join("tinyvmi.h"),
    );
    println!("cargo:include={}", include.display());
    // OUT_DIR is <target dir>/<triple>/<profile>/build/tinyvmi-<hash>/out.
    if let Some(profile_dir) = mirror.then(|| out.ancestors().nth(3)).flatten() {
        let dest = profile_dir.join("include");
        let _ = std::fs::remove_dir_all(&dest);
        mkdir(&dest);
        copy_tree(&include, &dest);
    }
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).into_iter().flatten().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            mkdir(&target);
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target)
                .unwrap_or_else(|e| fail(format!("copying {}: {e}", entry.path().display())));
        }
    }
}

fn read_names(path: &Path) -> BTreeSet<String> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| fail(format!("reading {}: {e}", path.display())))
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// The host build: the Mini-OS-specific C pieces, compiled for the host so the tests
/// exercise them (archive members are only pulled in by the tests that use them).
fn host(manifest: &Path, gen: &Path, src: &Path, wanted: &[String], parser: &[PathBuf]) {
    let lib = src.join("libvmi");
    let csrc = manifest.join("minios/csrc");
    let glib_include = env_path("DEP_TINYGLIB_INCLUDE");

    // The table for the host: what libxenctrl and libxenstore really export.
    let mut provided = BTreeSet::new();
    let mut link_paths = Vec::new();
    for pc in ["xencontrol", "xenstore"] {
        let found = probe::pkg(pc, "libxen-dev", true);
        let name = if pc == "xencontrol" { "xenctrl" } else { pc };
        let so = found
            .link_paths
            .iter()
            .map(|p| p.join(format!("lib{name}.so")))
            .find(|p| p.exists())
            .unwrap_or_else(|| fail(format!("lib{name}.so not found: install libxen-dev")));
        provided.extend(dynamic_symbols(&so));
        link_paths.extend(found.link_paths.clone());
    }
    let table = gen.join("tinyvmi_dl_table.c");
    write(
        &table,
        &resolver::render_table(
            wanted,
            &provided,
            "driver/xen/lib{xc,xs}_wrapper.c (host: libxenctrl.so, libxenstore.so)",
        ),
    );
    // The tests compare every entry with what the host's dynamic loader finds.
    println!("cargo:rustc-env=TINYVMI_DL_TABLE={}", table.display());
    cc::Build::new()
        .include(&csrc)
        .include(manifest.join("libvmi-sys/csrc"))
        .file(&table)
        .file(csrc.join("dl_static.c"))
        .file(csrc.join("stdio_compat.c"))
        .warnings(true)
        .compile("tinyvmi_hostshims");

    // LibVMI's config parser (bison/flex output) against tinyglib, as in the archive.
    let version = config_h::upstream_version(src);
    let features = Features {
        file: false,
        xen: false,
        config_file: true,
    };
    write(
        &gen.join("config.h"),
        &config_h::render(&features, None, None, &version),
    );
    cc::Build::new()
        .include(gen)
        .include(src)
        .include(&lib)
        .include(lib.join("config"))
        .include(&glib_include)
        .define("HAVE_CONFIG_H", None)
        .files(parser)
        .warnings(false)
        .compile("tinyvmi_hostparser");

    // The tests link the resolver's table against the real Xen libraries.
    for p in &link_paths {
        println!("cargo:rustc-link-search=native={}", p.display());
    }
    println!("cargo:rustc-link-arg-tests=-lxenctrl");
    println!("cargo:rustc-link-arg-tests=-lxenstore");
    public_headers(manifest, &env_path("OUT_DIR"), &lib, &glib_include, false);
}

/// The names a shared library defines (`readelf --dyn-syms`), without version suffixes.
fn dynamic_symbols(so: &Path) -> BTreeSet<String> {
    let out = Command::new("readelf")
        .args(["--dyn-syms", "-W"])
        .arg(so)
        .output()
        .unwrap_or_else(|e| {
            fail(format!(
                "running readelf on {}: {e} (apt-get install binutils)",
                so.display()
            ))
        });
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            (cols.len() >= 8 && cols[6] != "UND" && cols[3] == "FUNC")
                .then(|| cols[7].split('@').next().unwrap_or_default().to_string())
        })
        .collect()
}
