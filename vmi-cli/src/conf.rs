//! Choosing the configuration LibVMI gets: `--config FILE` (libvmi.conf format),
//! `--json-profile FILE`, or LibVMI's usual lookup of a global `libvmi.conf`.
//!
//! From a `--config` file the entry named like the target (for an image: its file name;
//! for a Xen domain: its name) is used; when there is no such entry but the file holds
//! exactly one, that one is used whatever its name, so one file can serve a renamed copy of
//! an image.

use libvmi::Config;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// One entry of a libvmi.conf file: its name and its body (from `{` to `}` inclusive).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Entry<'a> {
    /// The entry's name (the VM or image it is for).
    pub name: &'a str,
    /// The body, braces included, as LibVMI's config string takes it.
    pub body: &'a str,
}

/// Split a libvmi.conf text into its entries (`NAME { ... }`; `#` starts a comment that
/// runs to the end of the line). Only the structure is checked here; LibVMI's grammar is
/// checked by the `libvmi` crate before LibVMI parses anything.
///
/// ```
/// use vmi_cli::conf::entries;
/// let text = "# images\nmem.raw {\n  ostype = \"Linux\"; # linux\n}\nwin10 { ostype = \"Windows\"; }\n";
/// let e = entries(text)?;
/// assert_eq!(e.len(), 2);
/// assert_eq!(e[0].name, "mem.raw");
/// assert_eq!(e[1].body, "{ ostype = \"Windows\"; }");
/// assert!(entries("mem.raw { ostype = \"Linux\";").is_err());
/// # Ok::<(), String>(())
/// ```
pub fn entries(text: &str) -> Result<Vec<Entry<'_>>, String> {
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    let skip_blank = |mut i: usize| {
        while i < bytes.len() {
            match bytes[i] {
                b'#' => {
                    while i < bytes.len() && bytes[i] != b'\n' {
                        i += 1;
                    }
                }
                c if c.is_ascii_whitespace() => i += 1,
                _ => break,
            }
        }
        i
    };
    loop {
        i = skip_blank(i);
        if i >= bytes.len() {
            return Ok(out);
        }
        let start = i;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() && !b"{}#".contains(&bytes[i]) {
            i += 1;
        }
        let name = &text[start..i];
        if name.is_empty() {
            return Err(format!("expected an entry name at byte {start}"));
        }
        i = skip_blank(i);
        if bytes.get(i) != Some(&b'{') {
            return Err(format!("expected `{{` after entry name {name:?}"));
        }
        let open = i;
        i += 1;
        loop {
            match bytes.get(i) {
                None => return Err(format!("entry {name:?} has no closing `}}`")),
                Some(b'#') => {
                    while i < bytes.len() && bytes[i] != b'\n' {
                        i += 1;
                    }
                }
                Some(b'}') => break,
                Some(b'{') => return Err(format!("nested `{{` in entry {name:?}")),
                Some(_) => i += 1,
            }
        }
        i += 1;
        out.push(Entry {
            name,
            body: &text[open..i],
        });
    }
}

/// Which entry of a config file to use for a target named `wanted` (`None`: the name is
/// not known here, e.g. a Xen domain given by id).
///
/// ```
/// use vmi_cli::conf::{entries, pick, Pick};
/// let text = "a.raw { ostype = \"Linux\"; }\nb.raw { ostype = \"Linux\"; }";
/// assert_eq!(pick(&entries(text)?, Some("b.raw")), Ok(Pick::Named));
/// assert!(pick(&entries(text)?, Some("c.raw")).unwrap_err().contains("a.raw, b.raw"));
/// let one = "a.raw { ostype = \"Linux\"; }";
/// assert_eq!(pick(&entries(one)?, Some("copy.raw")), Ok(Pick::Only("{ ostype = \"Linux\"; }")));
/// # Ok::<(), String>(())
/// ```
pub fn pick<'a>(entries: &[Entry<'a>], wanted: Option<&str>) -> Result<Pick<'a>, String> {
    if let Some(w) = wanted {
        if entries.iter().any(|e| e.name == w) {
            return Ok(Pick::Named);
        }
    }
    match entries {
        [only] => Ok(Pick::Only(only.body)),
        [] => Err("it has no entries".into()),
        many => {
            let names: Vec<&str> = many.iter().map(|e| e.name).collect();
            match wanted {
                Some(w) => Err(format!(
                    "it has no entry named {w} (it has {}): add one, or pass a file with a \
                     single entry",
                    names.join(", ")
                )),
                // LibVMI looks the entry up by the domain's name itself.
                None => Ok(Pick::Named),
            }
        }
    }
}

/// The outcome of [`pick`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Pick<'a> {
    /// Use the entry named like the target (LibVMI finds it in the file).
    Named,
    /// Use this body (the file's only entry, named otherwise).
    Only(&'a str),
}

/// What `--config FILE` selects.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum FileConfig {
    /// The file has an entry named like the target: LibVMI reads the file.
    Named(PathBuf),
    /// The file's only entry (named otherwise): its body.
    Only(String),
}

impl FileConfig {
    /// The [`Config`] to give LibVMI for a target whose configuration entry LibVMI looks
    /// up as `entry_name`. For [`FileConfig::Only`] the entry is written, renamed, to the
    /// temporary file `scratch` (LibVMI's config-string route would write a stray NUL byte
    /// to standard output: upstream feeds the string's terminator to its lexer, which
    /// echoes it).
    pub fn config(&self, entry_name: &str, scratch: &mut File) -> Result<Config, String> {
        match self {
            FileConfig::Named(p) => Ok(Config::File(p.clone())),
            FileConfig::Only(body) => {
                let path = scratch_path(scratch)?;
                writeln!(scratch, "{entry_name} {body}")
                    .and_then(|()| scratch.flush())
                    .map_err(|e| format!("cannot write a temporary config file: {e}"))?;
                Ok(Config::File(path))
            }
        }
    }
}

/// The path of an open file, through `/proc/self/fd` (for files without a name).
fn scratch_path(file: &File) -> Result<PathBuf, String> {
    use std::os::fd::AsRawFd;
    let link = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
    if link.exists() {
        Ok(link)
    } else {
        Err("cannot name a temporary config file (no /proc)".into())
    }
}

/// Read `--config FILE` and select the entry for a target named `wanted`.
pub fn from_file(path: &Path, wanted: Option<&str>) -> Result<FileConfig, String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "cannot read config file {}: {}",
            path.display(),
            crate::target::io_reason(&e)
        )
    })?;
    let list = entries(&text).map_err(|e| {
        format!(
            "config file {} is not in libvmi.conf format: {e}",
            path.display()
        )
    })?;
    match pick(&list, wanted).map_err(|e| format!("config file {}: {e}", path.display()))? {
        Pick::Named => Ok(FileConfig::Named(path.to_owned())),
        Pick::Only(body) => Ok(FileConfig::Only(body.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structure_errors() {
        assert!(entries("").unwrap().is_empty());
        assert!(entries("# only a comment\n").unwrap().is_empty());
        assert!(entries("{ }").is_err());
        assert!(entries("x { { } }").is_err());
        assert!(entries("x y { }").is_err());
        // a `}` in a comment does not end the entry
        let e = entries("x { # } not yet\n ostype = \"Linux\"; }").unwrap();
        assert_eq!(e.len(), 1);
        assert!(e[0].body.ends_with("\"Linux\"; }"));
        assert_eq!(pick(&[], Some("x")), Err("it has no entries".into()));
    }

    #[test]
    fn by_id_lets_libvmi_choose() {
        let text = "a { ostype = \"Linux\"; }\nb { ostype = \"Linux\"; }";
        assert_eq!(pick(&entries(text).unwrap(), None), Ok(Pick::Named));
    }
}
