//! Builds upstream LibVMI for `libvmi-sys`:
//!
//! probes (one message per missing Debian package) → pin → git2 fetch into the cache
//! (or `LIBVMI_SOURCE_DIR`) → copy into `OUT_DIR` → patches (all done by `vmi-upstream`)
//! → `config.h` generated here → bison/flex for the config parser → `cc` → bindgen.
//! Never writes into the source tree; reruns only when the pin, the patches, this
//! script, `csrc/` or an environment variable it reads change.
//!
//! The modules `config_h`, `probe` and `sources` are also compiled into the root
//! `tinyvmi` build script (by `#[path]`): keep their signatures.

mod config_h;
mod probe;
mod sources;

use std::path::{Path, PathBuf};

/// Name of the static archive (`lib<NAME>.a` in `OUT_DIR`): not `vmi`, so an installed
/// upstream `libvmi.a` on a library search path can never be picked up instead.
const ARCHIVE: &str = "libvmi_sys";

/// Prints a one-line (or few-line) error and stops the build without a backtrace.
pub fn fail(msg: impl std::fmt::Display) -> ! {
    eprintln!("\nerror: libvmi-sys: {msg}\n");
    std::process::exit(1)
}

fn env_path(key: &str) -> PathBuf {
    PathBuf::from(
        std::env::var_os(key)
            .unwrap_or_else(|| fail(format!("{key} is not set (run through cargo)"))),
    )
}

/// Reads an environment variable of ours, and reruns when it changes.
fn env_var(key: &str) -> Option<String> {
    println!("cargo:rerun-if-env-changed={key}");
    std::env::var(key).ok().filter(|v| !v.trim().is_empty())
}

/// The features that shape the build.
#[derive(Debug, Clone, Copy)]
pub struct Features {
    /// `file`: the File driver.
    pub file: bool,
    /// `xen`: the Xen driver.
    pub xen: bool,
    /// `config-file`: the libvmi.conf parser.
    pub config_file: bool,
    /// `json-profiles`: Rekall/Volatility JSON profiles (json-c).
    pub json_profiles: bool,
    /// `tinyglib` (else `system-glib`).
    pub tinyglib: bool,
}

impl Features {
    fn from_env() -> Features {
        let on = |f: &str| std::env::var_os(format!("CARGO_FEATURE_{f}")).is_some();
        let (tiny, system) = (on("TINYGLIB"), on("SYSTEM_GLIB"));
        if tiny == system {
            fail(if tiny {
                "features `tinyglib` and `system-glib` are both on; pick one GLib backend (e.g. --no-default-features --features file,xen,config-file,json-profiles,system-glib)"
            } else {
                "no GLib backend: enable exactly one of the features `tinyglib` or `system-glib`"
            });
        }
        Features {
            file: on("FILE"),
            xen: on("XEN"),
            config_file: on("CONFIG_FILE"),
            json_profiles: on("JSON_PROFILES"),
            tinyglib: tiny,
        }
    }
}

fn main() {
    println!("cargo:rerun-if-changed=build");
    println!("cargo:rerun-if-changed=csrc");
    // Read by bindgen (libclang) and by Command (bison, flex, pkg-config).
    for var in ["LIBCLANG_PATH", "BINDGEN_EXTRA_CLANG_ARGS", "PATH"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    let debug = env_var("LIBVMI_SYS_DEBUG");
    let features = Features::from_env();
    let out = env_path("OUT_DIR");
    let manifest = env_path("CARGO_MANIFEST_DIR");
    let workspace = manifest
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| manifest.clone());

    // Every probe runs before the (slower) fetch and compile, so a missing package is
    // the first and only thing said.
    if features.config_file {
        probe::require_tool("bison", "bison");
        probe::require_tool("flex", "flex");
    }
    let glib_includes = if features.tinyglib {
        let dir = env_path("DEP_TINYGLIB_INCLUDE");
        if !dir.join("glib.h").is_file() {
            fail(format!(
                "tinyglib announced {} as its include directory, but there is no glib.h in it",
                dir.display()
            ));
        }
        vec![dir]
    } else {
        probe::pkg("glib-2.0", "libglib2.0-dev", true).include_paths
    };
    let json = features
        .json_profiles
        .then(|| probe::pkg("json-c", "libjson-c-dev", true));
    require_libclang();

    let src = vmi_upstream::prepare_source(&workspace, &out).unwrap_or_else(|e| fail(e));
    let lib = src.join("libvmi");

    let gen = out.join("gen");
    mkdir(&gen);
    let xen = features.xen.then(|| probe::xen(&glib_includes));
    let version = config_h::upstream_version(&src);
    let config = config_h::render(&features, xen.as_ref(), json.as_ref(), &version);
    write(&gen.join("config.h"), &config);

    let mut files: Vec<PathBuf> = Vec::new();
    let mut add = |list: &[&str]| files.extend(list.iter().map(|f| lib.join(f)));
    add(sources::CORE);
    add(sources::OS_LINUX);
    add(sources::OS_WINDOWS);
    add(sources::OS_FREEBSD);
    if features.json_profiles {
        add(sources::OS_OSX);
    }
    if features.file {
        add(sources::FILE_DRIVER);
    }
    if features.xen {
        add(sources::XEN_DRIVER);
    }
    if features.json_profiles {
        add(sources::JSON_PROFILES);
    }
    if features.config_file {
        files.extend(probe::generate_parser(&lib.join("config"), &gen));
    }
    // Shims: compile-time renames into small C files of our own (see csrc/).
    files.push(manifest.join("csrc/config_string.c"));

    // The bindings come first: the C compiler's view of their types' layout goes into
    // the archive (an object nothing but `tests/layout.rs` pulls in).
    let include = out.join("include");
    public_headers(&lib, &include);
    let bindings = bindings(&include, &out, &features);
    let layout_types = layout_types(&bindings);
    let layout_c = gen.join("libvmi_sys_layout.c");
    write(&layout_c, &layout_c_table(&layout_types));
    files.push(layout_c);

    let mut cc = cc::Build::new();
    cc.include(&gen)
        .include(&src)
        .include(&lib)
        .include(lib.join("config"))
        .includes(&glib_includes)
        .define("HAVE_CONFIG_H", None)
        .define("fmemopen", Some("libvmi_sys_fmemopen"))
        // Upstream's debug warning flags (cc adds -Wall -Wextra); upstream's own
        // warnings are not ours to fix, so they never fail the build nor reach
        // `cargo:warning` (they are in the build log).
        .flag_if_supported("-Wno-unused-parameter")
        .flag_if_supported("-Wno-missing-field-initializers")
        .flag_if_supported("-Wno-missing-braces")
        .flag_if_supported("-Wno-unused-result")
        .flag_if_supported("-Wno-ignored-attributes")
        // The public API is marked `visibility("default")` in the headers; everything
        // else stays internal if the archive ends up in a shared object.
        .flag_if_supported("-fvisibility=hidden")
        .warnings(true)
        .cargo_warnings(false);
    for flag in sources::string_op_flags() {
        cc.flag_if_supported(flag);
    }
    if let Some(j) = &json {
        cc.includes(&j.include_paths);
    }
    if let Some(level) = &debug {
        // Upstream's VMI_DEBUG option: a vmi_debug_flag_t mask, e.g. __VMI_DEBUG_ALL.
        cc.define("VMI_DEBUG", Some(format!("({level})").as_str()));
    }
    if features.file {
        // The File driver's own compile unit gets upstream's USE_MMAP (mapped lazily:
        // csrc/file_driver_lazy_map.h) and renames into csrc/file_driver.c: pages
        // straight from the mapping (no page cache, no second copy), writes (upstream's
        // file_write always fails) and init/destroy wrappers (no double free when the
        // image cannot be opened); the driver table, filled in another compile unit,
        // gets ours.
        let lazy_map = manifest.join("csrc/file_driver_lazy_map.h");
        shim_unit(
            &mut cc,
            &mut files,
            (
                lib.join("driver/file/file.c"),
                manifest.join("csrc/file_driver.c"),
            ),
            &[
                ("USE_MMAP", "1"),
                ("file_write", "libvmi_sys_upstream_file_write"),
                ("memory_cache_insert", "libvmi_sys_file_map_page"),
                ("file_init_vmi", "libvmi_sys_upstream_file_init_vmi"),
                ("file_destroy", "libvmi_sys_upstream_file_destroy"),
            ],
            |unit| {
                unit.flag("-include").flag(&lazy_map);
            },
        );
    }
    if features.xen {
        // The Xen driver's libxenctrl lookups go through csrc/xen_guard.c, which keeps
        // upstream's driver probe from setting dom0's maximum memory to 0.
        shim_unit(
            &mut cc,
            &mut files,
            (
                lib.join("driver/xen/libxc_wrapper.c"),
                manifest.join("csrc/xen_guard.c"),
            ),
            &[("dlsym", "libvmi_sys_xen_dlsym")],
            |_| {},
        );
    }
    // vmi_read's page copies: csrc/read_copy.c says why.
    shim_unit(
        &mut cc,
        &mut files,
        (lib.join("read.c"), manifest.join("csrc/read_copy.c")),
        &[("memcpy", "libvmi_sys_read_copy")],
        |_| {},
    );
    // The v2p cache's validating one-byte reads: csrc/v2p_validate.c says why.
    shim_unit(
        &mut cc,
        &mut files,
        (
            lib.join("accessors.c"),
            manifest.join("csrc/v2p_validate.c"),
        ),
        &[("vmi_read_8_pa", "libvmi_sys_validate_8_pa")],
        |_| {},
    );
    // The Linux OS layer's System.map lookups: csrc/sysmap_lookup.c says why.
    shim_unit(
        &mut cc,
        &mut files,
        (
            lib.join("os/linux/symbols.c"),
            manifest.join("csrc/sysmap_lookup.c"),
        ),
        sources::SYSMAP_RENAMES,
        |_| {},
    );
    cc.files(&files).compile(ARCHIVE);

    if let Some(j) = &json {
        for p in &j.link_paths {
            println!("cargo:rustc-link-search=native={}", p.display());
        }
        for l in &j.libs {
            println!("cargo:rustc-link-lib={l}");
        }
    }
    if !features.tinyglib {
        // Link lines for real GLib (the include paths were taken above).
        probe::pkg("glib-2.0", "libglib2.0-dev", false);
    }
    if features.xen {
        // The Xen driver finds libxenctrl and libxenstore with dlopen at run time.
        println!("cargo:rustc-link-lib=dl");
    }

    println!("cargo:include={}", include.display());
    println!("cargo:root={}", out.display());
    println!("cargo:src={}", src.display());
    println!(
        "cargo:glib={}",
        if features.tinyglib {
            "tinyglib"
        } else {
            "system"
        }
    );

    write(&out.join("bindings.rs"), &bindings);
    write(&out.join("functions.rs"), &function_table(&bindings));
    write(&out.join("layout.rs"), &layout_rust(&layout_types));
}

/// The installed-style include tree for dependants (and bindgen): `<libvmi/libvmi.h>`
/// and friends, as upstream installs them.
fn public_headers(lib: &Path, include: &Path) {
    let inc_vmi = include.join("libvmi");
    mkdir(&inc_vmi);
    for h in sources::PUBLIC_HEADERS {
        let from = lib.join(h);
        std::fs::copy(&from, inc_vmi.join(h))
            .unwrap_or_else(|e| fail(format!("copying {}: {e}", from.display())));
    }
}

fn mkdir(dir: &Path) {
    std::fs::create_dir_all(dir)
        .unwrap_or_else(|e| fail(format!("creating {}: {e}", dir.display())));
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| fail(format!("writing {}: {e}", path.display())));
}

/// Runs `f` with panic messages silenced (bindgen panics when it cannot load libclang).
fn quietly<T>(f: impl FnOnce() -> T) -> std::thread::Result<T> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    std::panic::set_hook(hook);
    result
}

/// Requires libclang (bindgen loads it at run time).
fn require_libclang() {
    if quietly(bindgen::clang_version).is_err() {
        fail("bindgen cannot load libclang: install it (apt-get install libclang-dev), or point LIBCLANG_PATH at the directory holding libclang.so");
    }
}

/// The opaque stand-ins for the GLib and json-c types in the public headers' signatures:
/// the bindings never depend on which GLib (or json-c) the library was built with.
const OPAQUE: &str = r#"
/// GLib's singly linked list (`GSList`), opaque: walk and free it with the GLib LibVMI is
/// linked with (`DEP_VMI_GLIB` says which: `tinyglib` or `system`).
#[repr(C)]
pub struct GSList {
    _private: [u8; 0],
    _marker: core::marker::PhantomData<(*mut u8, core::marker::PhantomPinned)>,
}
/// GLib's hash table (`GHashTable`), opaque (the `VMI_CONFIG_GHASHTABLE` configuration).
#[repr(C)]
pub struct GHashTable {
    _private: [u8; 0],
    _marker: core::marker::PhantomData<(*mut u8, core::marker::PhantomPinned)>,
}
"#;

const OPAQUE_JSON: &str = r#"
/// json-c's `json_object`, opaque (feature `json-profiles`).
#[repr(C)]
pub struct json_object {
    _private: [u8; 0],
    _marker: core::marker::PhantomData<(*mut u8, core::marker::PhantomPinned)>,
}
"#;

/// Generates the raw bindings for the public headers, as installed under `include`.
fn bindings(include: &Path, out: &Path, features: &Features) -> String {
    // Stub <glib.h> and <json-c/json.h>: only the type names the headers use.
    let stubs = out.join("bindgen-stubs");
    mkdir(&stubs.join("json-c"));
    write(
        &stubs.join("glib.h"),
        "typedef struct _GSList GSList;\ntypedef struct _GHashTable GHashTable;\n",
    );
    write(
        &stubs.join("json-c/json.h"),
        "typedef struct json_object json_object;\n",
    );
    let mut header = String::from("#define LIBVMI_EXTRA_GLIB\n");
    if features.json_profiles {
        header.push_str("#define LIBVMI_EXTRA_JSON\n");
    }
    for h in sources::PUBLIC_HEADERS {
        header.push_str(&format!("#include <libvmi/{h}>\n"));
    }
    let mut builder = bindgen::Builder::default()
        .header_contents("libvmi-sys.h", &header)
        .clang_arg(format!("-I{}", include.display()))
        .clang_arg(format!("-I{}", stubs.display()))
        .use_core()
        .ctypes_prefix("core::ffi")
        .prepend_enum_name(false)
        .default_enum_style(bindgen::EnumVariation::Consts)
        // Everything the five public headers declare (functions, types, macros, enum
        // constants), and what it depends on — nothing else from libc.
        .allowlist_file(r".*[/\\]libvmi[/\\](libvmi|libvmi_extra|events|slat|x86)\.h")
        .blocklist_type("GSList|_GSList|GHashTable|_GHashTable|json_object")
        .raw_line(OPAQUE)
        .derive_default(true)
        .layout_tests(true)
        .generate_comments(true);
    if features.json_profiles {
        builder = builder.raw_line(OPAQUE_JSON);
    }
    for f in sources::DECLARED_NOT_DEFINED {
        builder = builder.blocklist_function(f);
    }
    let generated = quietly(move || builder.generate())
        .unwrap_or_else(|_| fail("bindgen panicked on LibVMI's public headers"))
        .unwrap_or_else(|e| {
            fail(format!(
                "bindgen failed on LibVMI's public headers: {e} (clang's own headers come with libclang-dev / clang)"
            ))
        });
    generated.to_string()
}

/// A table naming every function the bindings declare, for `tests/link.rs`: linking it
/// proves each one is defined in the archive.
fn function_table(bindings: &str) -> String {
    // Only the functions in `extern "C"` blocks (not the bitfield accessors in `impl`s).
    let mut in_extern = false;
    let mut names: Vec<&str> = Vec::new();
    for line in bindings.lines() {
        if line.starts_with("unsafe extern \"C\" {") || line.starts_with("extern \"C\" {") {
            in_extern = true;
        } else if line == "}" {
            in_extern = false;
        } else if in_extern {
            if let Some(name) = line.trim().strip_prefix("pub fn ") {
                names.extend(name.split(['(', '<']).next());
            }
        }
    }
    names.sort_unstable();
    names.dedup();
    let mut table = String::from(
        "// Generated by libvmi-sys's build script: every function the bindings declare.\n&[\n",
    );
    for n in names {
        table.push_str(&format!("    (\"{n}\", {n} as *const ()),\n"));
    }
    table.push_str("]\n");
    table
}

/// The C typedefs (`*_t`) the bindings define, except the opaque ones: the types whose
/// size and alignment `tests/layout.rs` compares between Rust and the C compiler.
fn layout_types(bindings: &str) -> Vec<String> {
    let mut names: Vec<String> = bindings
        .lines()
        .filter_map(|l| {
            let l = l.trim_start();
            ["pub type ", "pub struct ", "pub union "]
                .iter()
                .find_map(|p| l.strip_prefix(p))
        })
        .filter_map(|rest| rest.split([' ', '=', '{', '<', ';']).next())
        .filter(|n| n.ends_with("_t") && !n.starts_with('_') && !n.contains("__"))
        .map(str::to_string)
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// The C side of the layout check: `{name, sizeof, _Alignof}` for each type.
fn layout_c_table(types: &[String]) -> String {
    let mut c = String::from(
        "/* Generated by libvmi-sys's build script: the C compiler's view of the bound types. */\n\
         #include <stddef.h>\n#include <libvmi/libvmi.h>\n#include <libvmi/events.h>\n\
         #include <libvmi/slat.h>\n#include <libvmi/x86.h>\n\
         struct libvmi_sys_layout { const char *name; size_t size; size_t align; };\n\
         const struct libvmi_sys_layout libvmi_sys_layout[] = {\n",
    );
    for t in types {
        c.push_str(&format!("    {{\"{t}\", sizeof({t}), _Alignof({t})}},\n"));
    }
    c.push_str("    {NULL, 0, 0}\n};\n");
    c
}

/// The Rust side of the layout check, for `tests/layout.rs`.
fn layout_rust(types: &[String]) -> String {
    let mut rs = String::from(
        "// Generated by libvmi-sys's build script: Rust's view of the bound C typedefs.\n&[\n",
    );
    for t in types {
        rs.push_str(&format!(
            "    (\"{t}\", core::mem::size_of::<{t}>(), core::mem::align_of::<{t}>()),\n"
        ));
    }
    rs.push_str("]\n");
    rs
}

/// Compiles one upstream file as a unit of its own, with compile-time renames (and the
/// flags `extra` adds), and puts our shim in its place in the main file list; the unit's
/// objects join `cc`'s archive. `(upstream, shim)`: the two files.
fn shim_unit(
    cc: &mut cc::Build,
    files: &mut Vec<PathBuf>,
    (upstream, shim): (PathBuf, PathBuf),
    renames: &[(&str, &str)],
    extra: impl FnOnce(&mut cc::Build),
) {
    files.retain(|f| *f != upstream);
    files.push(shim);
    let mut unit = cc.clone();
    unit.file(&upstream);
    for (name, value) in renames {
        unit.define(name, Some(*value));
    }
    extra(&mut unit);
    let objects = unit.compile_intermediates();
    cc.objects(objects);
}
