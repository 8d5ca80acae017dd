//! The Mini-OS symbol audit: can this static archive be an application of a Xen
//! stub domain? Checks every member object against the allowlist of names a
//! Mini-OS application may leave undefined and the names it must not define
//! (`minios/audit/`), and for the things that link but break at run time or
//! never link: thread-local storage, glibc-only names, the dynamic loader.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use object::read::archive::ArchiveFile;
use object::{Object, ObjectSection, ObjectSymbol, RelocationFlags, SectionFlags, SymbolKind};

/// Names that only exist in glibc (and fail the Mini-OS link or mean glibc
/// headers were used). Prefix/suffix patterns are checked in [`glibc_only`].
const GLIBC_ONLY: &[&str] = &[
    "__errno_location",
    "stderr",
    "stdout",
    "stdin",
    "__libc_single_threaded",
    "__assert_fail",
];

/// The dynamic loader: present in Mini-OS only as stubs that fail at run time.
const DYNAMIC_LOADER: &[&str] = &["dlopen", "dlsym", "dlclose", "dlerror", "dlvsym", "dladdr"];

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Violation {
    /// Which rule.
    pub rule: &'static str,
    /// The archive member.
    pub member: String,
    /// The symbol, section or relocation concerned.
    pub what: String,
}

/// The audit's findings.
#[derive(Debug, Default)]
pub struct Report {
    /// Members examined.
    pub members: usize,
    /// Names left undefined by the archive as a whole.
    pub undefined: BTreeSet<String>,
    /// Global names it defines.
    pub defined: usize,
    /// Everything wrong.
    pub violations: Vec<Violation>,
}

/// True for names only glibc has: `__*_chk` fortify wrappers, `__isoc99_*`/`__isoc23_*`
/// scanf variants, and the fixed list above.
pub fn glibc_only(name: &str) -> bool {
    GLIBC_ONLY.contains(&name)
        || (name.starts_with("__") && name.ends_with("_chk"))
        || name.starts_with("__isoc99_")
        || name.starts_with("__isoc23_")
        || name.starts_with("__libc_")
        || name.contains("@GLIBC")
}

/// Reads a list file: one name per line, `#` comments.
pub fn read_list(path: &Path) -> Result<BTreeSet<String>, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect())
}

fn is_tls_reloc(flags: RelocationFlags) -> bool {
    // x86-64 psABI TLS relocations: DTPMOD64 16, DTPOFF64 17, TPOFF64 18, TLSGD 19,
    // TLSLD 20, DTPOFF32 21, GOTTPOFF 22, TPOFF32 23, GOTPC32_TLSDESC 34, TLSDESC_CALL 35, TLSDESC 36.
    matches!(flags, RelocationFlags::Elf { r_type } if (16..=23).contains(&r_type) || (34..=36).contains(&r_type))
}

/// Audits the archive at `path` against `allowlist` and `reserved`.
pub fn audit(
    path: &Path,
    allowlist: &BTreeSet<String>,
    reserved: &BTreeSet<String>,
) -> Result<Report, String> {
    let data = std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let archive = ArchiveFile::parse(&*data)
        .map_err(|e| format!("{} is not an ar archive: {e}", path.display()))?;
    let mut report = Report::default();
    let mut defined = BTreeSet::new();
    let mut undefined: BTreeMap<String, String> = BTreeMap::new();
    for member in archive.members() {
        let member = member.map_err(|e| format!("reading {}: {e}", path.display()))?;
        let name = String::from_utf8_lossy(member.name()).into_owned();
        if name == "/"
            || name == "//"
            || name.starts_with("__.SYMDEF")
            || name.ends_with(".rmeta")
            || name == "lib.rmeta"
        {
            continue;
        }
        let bytes = member.data(&*data).map_err(|e| format!("{name}: {e}"))?;
        let mut v = |rule: &'static str, what: String| {
            report.violations.push(Violation {
                rule,
                member: name.clone(),
                what,
            })
        };
        let obj = match object::File::parse(bytes) {
            Ok(o) => o,
            Err(e) => {
                v("elf64-x86-64", format!("not an object file ({e})"));
                continue;
            }
        };
        report.members += 1;
        if obj.format() != object::BinaryFormat::Elf
            || obj.architecture() != object::Architecture::X86_64
            || !obj.is_64()
        {
            v(
                "elf64-x86-64",
                format!("{:?} {:?}", obj.format(), obj.architecture()),
            );
        }
        for section in obj.sections() {
            let sname = section.name().unwrap_or("");
            let tls_flag =
                matches!(section.flags(), SectionFlags::Elf { sh_flags } if sh_flags & 0x400 != 0);
            if tls_flag || sname.starts_with(".tdata") || sname.starts_with(".tbss") {
                v("no-tls", format!("section {sname}"));
            }
            for (_, reloc) in section.relocations() {
                if is_tls_reloc(reloc.flags()) {
                    v("no-tls", format!("TLS relocation in {sname}"));
                }
            }
        }
        for sym in obj.symbols() {
            let Ok(sname) = sym.name() else { continue };
            if sname.is_empty() {
                continue;
            }
            if sym.kind() == SymbolKind::Tls {
                v("no-tls", format!("TLS symbol {sname}"));
            }
            if sym.is_undefined() {
                undefined
                    .entry(sname.to_string())
                    .or_insert_with(|| name.clone());
            } else if sym.is_global() {
                defined.insert(sname.to_string());
                if !sym.is_weak() && reserved.contains(sname) {
                    v("reserved-definition", sname.to_string());
                }
            }
        }
    }
    report.defined = defined.len();
    for (sym, member) in undefined {
        if defined.contains(&sym) {
            continue;
        }
        let mut push = |rule: &'static str| {
            report.violations.push(Violation {
                rule,
                member: member.clone(),
                what: sym.clone(),
            })
        };
        if DYNAMIC_LOADER.contains(&sym.as_str()) {
            push("no-dynamic-loader");
        } else if glibc_only(&sym) {
            push("no-glibc-names");
        } else if !allowlist.contains(&sym) {
            push("undefined-not-allowlisted");
        }
        report.undefined.insert(sym);
    }
    report.violations.sort();
    report.violations.dedup();
    Ok(report)
}

/// Prints the report; returns whether the archive passes.
pub fn print(path: &Path, r: &Report) -> bool {
    println!("Mini-OS audit of {}", path.display());
    println!(
        "  members: {}   global definitions: {}   undefined names: {}",
        r.members,
        r.defined,
        r.undefined.len()
    );
    let rules = [
        ("elf64-x86-64", "every member is an ELF64 x86-64 object"),
        (
            "undefined-not-allowlisted",
            "every undefined name is on the Mini-OS allowlist",
        ),
        (
            "reserved-definition",
            "no strong definition of a reserved name",
        ),
        (
            "no-tls",
            "no thread-local storage (sections, symbols, relocations)",
        ),
        ("no-glibc-names", "no glibc-only names"),
        ("no-dynamic-loader", "nothing reaches dlopen/dlsym"),
    ];
    for (rule, text) in rules {
        let hits: Vec<_> = r.violations.iter().filter(|v| v.rule == rule).collect();
        println!(
            "  [{}] {text}",
            if hits.is_empty() { " ok " } else { "FAIL" }
        );
        for h in hits.iter().take(50) {
            println!("         {} (in {})", h.what, h.member);
        }
        if hits.len() > 50 {
            println!("         ... and {} more", hits.len() - 50);
        }
    }
    r.violations.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cc(dir: &Path, name: &str, src: &str, flags: &[&str]) -> std::path::PathBuf {
        let c = dir.join(format!("{name}.c"));
        std::fs::write(&c, src).unwrap();
        let o = dir.join(format!("{name}.o"));
        let st = std::process::Command::new("gcc")
            .args(flags)
            .args(["-c", "-O1", "-o"])
            .arg(&o)
            .arg(&c)
            .status()
            .unwrap();
        assert!(st.success());
        o
    }

    fn ar(dir: &Path, objs: &[std::path::PathBuf]) -> std::path::PathBuf {
        let a = dir.join("lib.a");
        let _ = std::fs::remove_file(&a);
        let st = std::process::Command::new("ar")
            .arg("rcs")
            .arg(&a)
            .args(objs)
            .status()
            .unwrap();
        assert!(st.success());
        a
    }

    fn lists() -> (BTreeSet<String>, BTreeSet<String>) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../minios/audit");
        (
            read_list(&root.join("allowlist.txt")).unwrap(),
            read_list(&root.join("reserved-definitions.txt")).unwrap(),
        )
    }

    #[test]
    fn glibc_host_object_fails_every_rule_it_breaks() {
        let dir = tempfile::tempdir().unwrap();
        let src = r#"
            #define _FORTIFY_SOURCE 2
            #include <stdio.h>
            #include <errno.h>
            #include <dlfcn.h>
            #include <string.h>
            __thread int tls_counter;
            int xs_open;                       /* defining is fine, it is not reserved */
            void *memalign(unsigned long a, unsigned long b) { return 0; } /* reserved? only if listed */
            int f(const char *s, char *buf) {
                void *h = dlopen("libxenctrl.so", 0);
                fprintf(stderr, "%p %d\n", h, errno);
                int x; sscanf(s, "%d", &x);
                strcpy(buf, s);
                return ++tls_counter + x;
            }
            int undefined_thing(void);
            int g(void) { return undefined_thing(); }
        "#;
        let o = cc(dir.path(), "bad", src, &["-O2"]);
        let a = ar(dir.path(), &[o]);
        let (allow, reserved) = lists();
        let r = audit(&a, &allow, &reserved).unwrap();
        let rules: BTreeSet<_> = r.violations.iter().map(|v| v.rule).collect();
        for rule in [
            "no-tls",
            "no-glibc-names",
            "no-dynamic-loader",
            "undefined-not-allowlisted",
        ] {
            assert!(
                rules.contains(rule),
                "{rule} not flagged: {:?}",
                r.violations
            );
        }
        assert!(r.violations.iter().any(|v| v.what == "stderr"));
        assert!(r.violations.iter().any(|v| v.what == "__errno_location"));
        assert!(r.violations.iter().any(|v| v.what == "undefined_thing"));
    }

    #[test]
    fn reserved_definition_is_flagged() {
        let dir = tempfile::tempdir().unwrap();
        let (allow, reserved) = lists();
        let name = reserved
            .iter()
            .find(|n| n.starts_with("xc_"))
            .cloned()
            .unwrap_or_else(|| reserved.iter().next().unwrap().clone());
        let o = cc(
            dir.path(),
            "res",
            &format!("int {name}(void) {{ return 1; }}\n"),
            &[],
        );
        let r = audit(&ar(dir.path(), &[o]), &allow, &reserved).unwrap();
        assert!(
            r.violations
                .iter()
                .any(|v| v.rule == "reserved-definition" && v.what == name),
            "{:?}",
            r.violations
        );
    }

    #[test]
    fn newlib_object_passes() {
        let dir = tempfile::tempdir().unwrap();
        if !Path::new("/usr/include/newlib/stdio.h").exists() {
            panic!("libnewlib-dev is missing: run ci/setup");
        }
        let flags = "-nostdinc -isystem /usr/include/newlib -isystem /usr/lib/gcc/x86_64-linux-gnu/12/include -D__MINIOS__ -DHAVE_LIBC -U__linux__ -m64 -mno-red-zone -fno-pie -fno-stack-protector -fno-exceptions -fno-asynchronous-unwind-tables -std=gnu99";
        let flags: Vec<&str> = flags.split(' ').collect();
        let src = "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\nint f(const char *s) { char *p = malloc(strlen(s) + 1); strcpy(p, s); fprintf(stderr, \"%s\", p); free(p); return 0; }\n";
        let o = cc(dir.path(), "good", src, &flags);
        let (allow, reserved) = lists();
        let r = audit(&ar(dir.path(), &[o]), &allow, &reserved).unwrap();
        assert!(r.violations.is_empty(), "{:?}", r.violations);
        assert!(r.undefined.contains("malloc"));
    }
}
