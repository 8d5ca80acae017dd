//! Build-time probes for what LibVMI's build needs, each failing with the Debian
//! package to install.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::fail;

/// True when `tool --version` runs and succeeds.
fn runs(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Requires a tool on PATH; `purpose` says what it is needed for (and how to do without).
pub fn require(tool: &str, package: &str, purpose: &str) {
    if !runs(tool) {
        fail(format!(
            "`{tool}` not found on PATH: {purpose}. Install it (apt-get install {package})"
        ));
    }
}

/// Requires one of the config parser's generators (bison, flex) on PATH.
pub fn require_tool(tool: &str, package: &str) {
    require(
        tool,
        package,
        "LibVMI's libvmi.conf parser is generated with it (to build without the parser, \
         use --no-default-features and the features you need, without `config-file`)",
    );
}

/// Finds a library with pkg-config; with `quiet` true, nothing is emitted for linking.
pub fn pkg(name: &str, package: &str, quiet: bool) -> pkg_config::Library {
    let tool = std::env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".into());
    if !runs(&tool) {
        fail(format!(
            "`{tool}` not found on PATH: {name} is located with it. Install it (apt-get install pkg-config {package})"
        ));
    }
    pkg_config::Config::new()
        .cargo_metadata(!quiet)
        .env_metadata(true)
        .probe(name)
        .unwrap_or_else(|e| {
            let text = e.to_string();
            let first = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("not found");
            fail(format!(
                "{name} not found through pkg-config ({first}): install it (apt-get install {package})"
            ))
        })
}

/// What the Xen headers offer (the `check_type_size` probes of upstream's `FindXen.cmake`).
pub struct Xen {
    /// `xenmem_access_t` exists (`<xenctrl.h>` + `<xen/memory.h>`): `HAVE_XENMEM_ACCESS_T`.
    pub xenmem_access_t: bool,
    /// `hvmmem_access_t` exists (`<xenctrl.h>` + `<xen/hvm/save.h>`, Xen < 4.5): `HAVE_HVMMEM_ACCESS_T`.
    pub hvmmem_access_t: bool,
}

/// Whether `body` compiles (to an object) with these include directories.
fn compiles(dir: &Path, name: &str, body: &str, includes: &[PathBuf]) -> bool {
    let file = dir.join(format!("{name}.c"));
    if std::fs::write(&file, body).is_err() {
        return false;
    }
    let compiler = cc::Build::new()
        .includes(includes)
        .cargo_metadata(false)
        .cargo_warnings(false)
        .warnings(false)
        .get_compiler();
    let mut cmd = compiler.to_command();
    cmd.arg("-c")
        .arg(&file)
        .arg("-o")
        .arg(dir.join(format!("{name}.o")));
    cmd.output().map(|o| o.status.success()).unwrap_or(false)
}

/// Checks the Xen headers (Debian's libxen-dev) and what they define.
pub fn xen(extra: &[PathBuf]) -> Xen {
    let dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default()).join("probe");
    let _ = std::fs::create_dir_all(&dir);
    let headers = "#include <stdint.h>\n#include <xenctrl.h>\n#include <xenstore.h>\n#include <xen/io/ring.h>\n";
    if !compiles(&dir, "xen-headers", headers, extra) {
        fail("the Xen headers (xenctrl.h, xenstore.h, xen/io/ring.h) are missing: install them (apt-get install libxen-dev) or build without the Xen driver (--no-default-features and the features you need, without `xen`)")
    }
    let has_type = |name: &str, header: &str| {
        compiles(
            &dir,
            name,
            &format!("#include <stdint.h>\n#include <xenctrl.h>\n#include <{header}>\nunsigned long libvmi_sys_probe = sizeof({name});\n"),
            extra,
        )
    };
    Xen {
        xenmem_access_t: has_type("xenmem_access_t", "xen/memory.h"),
        hvmmem_access_t: has_type("hvmmem_access_t", "xen/hvm/save.h"),
    }
}

/// Runs flex and bison on LibVMI's config grammar into `gen`; returns the C files.
pub fn generate_parser(config_dir: &Path, gen: &Path) -> Vec<PathBuf> {
    let scanner = gen.join("scanner.c");
    let parser = gen.join("parser.c");
    let run = |cmd: &mut Command, what: &str| {
        let out = cmd
            .output()
            .unwrap_or_else(|e| fail(format!("running {what}: {e}")));
        if !out.status.success() {
            fail(format!(
                "{what} failed on LibVMI's config grammar: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
    };
    run(
        Command::new("flex")
            .arg(format!("--outfile={}", scanner.display()))
            .arg(config_dir.join("lexicon.l"))
            .current_dir(config_dir),
        "flex",
    );
    run(
        Command::new("bison")
            .arg(format!("--output={}", parser.display()))
            .arg(format!("--defines={}", gen.join("grammar.h").display()))
            .arg(config_dir.join("grammar.y"))
            .current_dir(config_dir),
        "bison",
    );
    vec![parser, scanner]
}
