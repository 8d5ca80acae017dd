//! LibVMI's OS configuration: where it comes from, and a key/value map rendered safely into
//! `libvmi.conf` syntax.
//!
//! LibVMI needs, for OS-aware work, an OS type, a symbol source (System.map or a JSON
//! profile) and structure offsets. [`Config`] says where they come from. A [`ConfigMap`]
//! is rendered into LibVMI's config-string syntax (`{ key = value; ... }`) and passed as
//! `VMI_CONFIG_STRING`, which works the same with real GLib and with tinyglib.
//!
//! The rendering follows LibVMI's lexer (`libvmi/config/lexicon.l`) and grammar
//! (`grammar.y`) exactly, and refuses what they cannot represent instead of producing a
//! string that parses differently:
//!
//! * numeric keys (`linux_tasks`, `kpgd`, `win_pid`, ...) are written as `0x...`;
//! * file keys (`sysmap`, `rekall_profile`, `volatility_ist`) must be paths made only of
//!   `[A-Za-z0-9/._@-]` and contain a `/` (otherwise the lexer reads them as another token);
//! * word keys (`ostype`, `pagemode`, `aarch64_ttbr*_granule_size`) must match
//!   `[A-Za-z0-9][A-Za-z0-9._-]+` and not be a number or a keyword;
//! * there is no escaping in the format, so a quote, space, `;`, `{`, `#` or newline is
//!   rejected, never written.
//!
//! Keys LibVMI does not know are *not* rendered (its grammar rejects unknown keys); numeric
//! ones are kept as **extra offsets** that this crate's OS layers read, e.g.
//! `linux_thread_group` (the offset of `task_struct.thread_group`) for thread listing, or
//! `linux_module_list`/`linux_module_name` for the module walk. See
//! [`crate::os::linux`].
//!
//! ```
//! use libvmi::ConfigMap;
//!
//! let map = ConfigMap::new()
//!     .with("ostype", "Linux")
//!     .with("sysmap", "/images/nokaslr/System.map")
//!     .with("linux_tasks", 0x8a8)
//!     .with("linux_thread_group", 0x9d8); // extra: not rendered, kept for thread listing
//! assert_eq!(
//!     map.render().unwrap(),
//!     "{ linux_tasks = 0x8a8; ostype = \"Linux\"; sysmap = \"/images/nokaslr/System.map\"; }"
//! );
//! assert_eq!(map.extras().collect::<Vec<_>>(), vec![("linux_thread_group", 0x9d8)]);
//!
//! // Injection attempts are refused, not escaped:
//! let evil = ConfigMap::new().with("ostype", "Linux\"; kpgd = 0x0; \"x");
//! assert!(evil.render().is_err());
//! ```

use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

/// LibVMI's `CONFIG_STR_LENGTH`: longer values are silently cut by its parser.
const CONFIG_STR_LENGTH: usize = 1024;

/// Where LibVMI's OS configuration comes from.
///
/// ```
/// use libvmi::{Config, ConfigMap};
/// let from_map = Config::Map(ConfigMap::new().with("ostype", "Linux"));
/// let from_string = Config::String("{ ostype = \"Linux\"; }".into());
/// let from_file = Config::File("/etc/libvmi.conf".into());
/// assert_eq!(from_file.to_string(), "config file /etc/libvmi.conf");
/// # let _ = (from_map, from_string);
/// ```
#[derive(Clone, Debug, Default)]
pub enum Config {
    /// `VMI_CONFIG_GLOBAL_FILE_ENTRY`: the entry for the VM in the first of
    /// `./libvmi.conf`, `~/etc/libvmi.conf`, `/etc/libvmi.conf` (LibVMI's default).
    #[default]
    GlobalFile,
    /// `VMI_CONFIG_STRING`: the *body* of a `libvmi.conf` entry, `{ key = value; ... }`.
    /// LibVMI prepends the VM's name itself (for files: the image's file name), so do not
    /// include it. Checked against LibVMI's grammar before LibVMI parses it (its parser
    /// cannot recover from a syntax error), then passed unchanged.
    String(String),
    /// `VMI_CONFIG_FILE_PATH`: a `libvmi.conf` file; the entry named after the VM is used
    /// (for files: the image's file name, without directories). The file is checked first:
    /// it must parse, and have that entry (LibVMI would otherwise reuse the entry of an
    /// earlier parse in the process).
    File(PathBuf),
    /// A key/value map, validated and rendered to `VMI_CONFIG_STRING` (see
    /// [`ConfigMap::render`]). Its extra numeric keys stay available to the OS layers.
    Map(ConfigMap),
    /// `VMI_CONFIG_JSON_PATH`: a Volatility 3 ISF / Rekall JSON kernel profile. Only works
    /// if LibVMI was built with JSON profile support.
    JsonProfile(PathBuf),
}

impl fmt::Display for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Config::GlobalFile => f.write_str("global libvmi.conf"),
            Config::String(_) => f.write_str("config string"),
            Config::File(p) => write!(f, "config file {}", p.display()),
            Config::Map(_) => f.write_str("config map"),
            Config::JsonProfile(p) => write!(f, "JSON profile {}", p.display()),
        }
    }
}

/// A configuration value: a number or a string.
///
/// ```
/// use libvmi::ConfigValue;
/// assert_eq!(ConfigValue::from(0x10u64), ConfigValue::Number(0x10));
/// assert_eq!(ConfigValue::from("Linux"), ConfigValue::Str("Linux".into()));
/// ```
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum ConfigValue {
    /// A number (offsets, addresses, widths).
    Number(u64),
    /// A string (OS type, paths, page mode).
    Str(String),
}

impl From<u64> for ConfigValue {
    fn from(v: u64) -> Self {
        ConfigValue::Number(v)
    }
}
impl From<u32> for ConfigValue {
    fn from(v: u32) -> Self {
        ConfigValue::Number(v.into())
    }
}
impl From<i32> for ConfigValue {
    /// Negative values wrap like C's `strtoull` would read them; offsets are never negative.
    fn from(v: i32) -> Self {
        ConfigValue::Number(v as u64)
    }
}
impl From<usize> for ConfigValue {
    fn from(v: usize) -> Self {
        ConfigValue::Number(v as u64)
    }
}
impl From<&str> for ConfigValue {
    fn from(v: &str) -> Self {
        ConfigValue::Str(v.to_owned())
    }
}
impl From<String> for ConfigValue {
    fn from(v: String) -> Self {
        ConfigValue::Str(v)
    }
}
impl From<&std::path::Path> for ConfigValue {
    fn from(v: &std::path::Path) -> Self {
        ConfigValue::Str(v.to_string_lossy().into_owned())
    }
}
impl From<PathBuf> for ConfigValue {
    fn from(v: PathBuf) -> Self {
        ConfigValue::Str(v.to_string_lossy().into_owned())
    }
}

/// What LibVMI's grammar expects after `key =`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum KeyClass {
    /// `NUM`: `0x[0-9a-fA-F]+|[0-9]+`.
    Number,
    /// `QUOTE FILENAME QUOTE`.
    File,
    /// `QUOTE WORD QUOTE`.
    Word,
}

/// The keys of LibVMI's grammar (`grammar.y`, commit 82bbee6c) and what they take.
const KNOWN_KEYS: &[(&str, KeyClass)] = &[
    ("sysmap", KeyClass::File),
    ("rekall_profile", KeyClass::File),
    ("volatility_ist", KeyClass::File),
    ("ostype", KeyClass::Word),
    ("pagemode", KeyClass::Word),
    ("aarch64_ttbr0_va_width", KeyClass::Number),
    ("aarch64_ttbr0_granule_size", KeyClass::Word),
    ("aarch64_ttbr1_va_width", KeyClass::Number),
    ("aarch64_ttbr1_granule_size", KeyClass::Word),
    ("kpgd", KeyClass::Number),
    ("linux_tasks", KeyClass::Number),
    ("linux_mm", KeyClass::Number),
    ("linux_pid", KeyClass::Number),
    ("linux_name", KeyClass::Number),
    ("linux_pgd", KeyClass::Number),
    ("linux_addr", KeyClass::Number),
    ("linux_init_task", KeyClass::Number),
    ("linux_kaslr", KeyClass::Number),
    ("win_ntoskrnl", KeyClass::Number),
    ("win_ntoskrnl_va", KeyClass::Number),
    ("win_tasks", KeyClass::Number),
    ("win_pdbase", KeyClass::Number),
    ("win_pid", KeyClass::Number),
    ("win_pname", KeyClass::Number),
    ("win_kdvb", KeyClass::Number),
    ("win_kdbg", KeyClass::Number),
    ("win_kpcr", KeyClass::Number),
    ("win_sysproc", KeyClass::Number),
    ("freebsd_name", KeyClass::Number),
    ("freebsd_pid", KeyClass::Number),
    ("freebsd_vmspace", KeyClass::Number),
    ("freebsd_pmap", KeyClass::Number),
    ("freebsd_pgd", KeyClass::Number),
];

fn key_class(key: &str) -> Option<KeyClass> {
    KNOWN_KEYS
        .iter()
        .find(|(k, _)| *k == key)
        .map(|&(_, class)| class)
}

/// Whether `s` is one of the lexer's keyword tokens (which win over WORD on equal length).
fn is_keyword(s: &str) -> bool {
    key_class(s).is_some()
}

/// The lexer's `NUM`: `0x[0-9a-fA-F]+|[0-9]+`, matching the whole string.
fn is_num_token(s: &str) -> bool {
    if let Some(hex) = s.strip_prefix("0x") {
        !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit())
    } else {
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
    }
}

/// Parse a `NUM` token the way LibVMI does (`strtoull(s, NULL, 0)` on a NUM token).
fn parse_num_token(s: &str) -> Option<u64> {
    if !is_num_token(s) {
        return None;
    }
    if let Some(hex) = s.strip_prefix("0x") {
        u64::from_str_radix(hex, 16).ok()
    } else if s.len() > 1 && s.starts_with('0') {
        // strtoull with base 0 reads a leading 0 as octal
        u64::from_str_radix(&s[1..], 8).ok()
    } else {
        s.parse().ok()
    }
}

/// Whether `s` lexes as exactly one WORD token: `[a-zA-Z0-9][a-zA-Z0-9._-]+`, and neither a
/// keyword nor a NUM (both of which win on equal length).
pub(crate) fn is_word_token(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2
        && b[0].is_ascii_alphanumeric()
        && b[1..]
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
        && !is_keyword(s)
        && !is_num_token(s)
}

/// Whether `s` lexes as exactly one FILENAME token: `[a-zA-Z0-9/._@-]+` containing a `/`
/// (with a `/` no other rule can match the whole string, so FILENAME is the longest match).
fn is_filename_token(s: &str) -> bool {
    !s.is_empty()
        && s.contains('/')
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'/' | b'.' | b'_' | b'@' | b'-'))
}

/// A key/value configuration, rendered into LibVMI's config-string syntax.
///
/// Keys LibVMI knows are validated and rendered; unknown keys with numeric values are kept
/// as extra offsets (see the [module documentation](self)); unknown keys with string values
/// are an error at rendering.
///
/// ```
/// use libvmi::ConfigMap;
/// let mut map = ConfigMap::new();
/// map.set("ostype", "Linux").set("linux_pid", 0x9c0u64);
/// assert_eq!(map.render_entry("mem.raw").unwrap(), "mem.raw {\n    linux_pid = 0x9c0;\n    ostype = \"Linux\";\n}\n");
/// assert!(ConfigMap::new().with("sysmap", "has space/System.map").render().is_err());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigMap {
    entries: BTreeMap<String, ConfigValue>,
}

impl ConfigMap {
    /// An empty map.
    ///
    /// ```
    /// use libvmi::ConfigMap;
    /// let map = ConfigMap::new();
    /// assert_eq!(map.iter().count(), 0);
    /// assert_eq!(map.render().unwrap(), "{ }");
    /// ```
    #[must_use]
    pub fn new() -> ConfigMap {
        ConfigMap::default()
    }

    /// Set `key` to `value` (validated when rendered).
    ///
    /// ```
    /// use libvmi::{ConfigMap, ConfigValue};
    /// let mut map = ConfigMap::new();
    /// map.set("ostype", "Linux").set("linux_pid", 0x9c0u64);
    /// assert_eq!(map.get("linux_pid"), Some(&ConfigValue::Number(0x9c0)));
    /// ```
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<ConfigValue>) -> &mut Self {
        self.entries.insert(key.into(), value.into());
        self
    }

    /// Builder form of [`ConfigMap::set`].
    ///
    /// ```
    /// use libvmi::ConfigMap;
    /// let map = ConfigMap::new().with("ostype", "Linux").with("linux_tasks", 0x8a8u64);
    /// assert_eq!(map.render().unwrap(), "{ linux_tasks = 0x8a8; ostype = \"Linux\"; }");
    /// ```
    #[must_use]
    pub fn with(mut self, key: impl Into<String>, value: impl Into<ConfigValue>) -> Self {
        self.set(key, value);
        self
    }

    /// The value of `key`.
    ///
    /// ```
    /// use libvmi::{ConfigMap, ConfigValue};
    /// let map = ConfigMap::new().with("ostype", "Linux");
    /// assert_eq!(map.get("ostype"), Some(&ConfigValue::Str("Linux".into())));
    /// assert_eq!(map.get("sysmap"), None);
    /// ```
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&ConfigValue> {
        self.entries.get(key)
    }

    /// Remove `key`, returning its value.
    ///
    /// ```
    /// use libvmi::{ConfigMap, ConfigValue};
    /// let mut map = ConfigMap::new().with("kpgd", 0x1c0a000u64);
    /// assert_eq!(map.remove("kpgd"), Some(ConfigValue::Number(0x1c0a000)));
    /// assert_eq!(map.get("kpgd"), None);
    /// ```
    pub fn remove(&mut self, key: &str) -> Option<ConfigValue> {
        self.entries.remove(key)
    }

    /// All entries, sorted by key.
    ///
    /// ```
    /// use libvmi::ConfigMap;
    /// let map = ConfigMap::new().with("ostype", "Linux").with("linux_pid", 0x9c0u64);
    /// let keys: Vec<&str> = map.iter().map(|(k, _)| k).collect();
    /// assert_eq!(keys, ["linux_pid", "ostype"]);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ConfigValue)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The numeric entries LibVMI does not know (extra offsets for this crate's OS layers).
    ///
    /// ```
    /// use libvmi::ConfigMap;
    /// let map = ConfigMap::new()
    ///     .with("linux_pid", 0x9c0u64) // known to LibVMI: not an extra
    ///     .with("linux_thread_group", 0x9d8u64);
    /// assert_eq!(map.extras().collect::<Vec<_>>(), [("linux_thread_group", 0x9d8)]);
    /// ```
    pub fn extras(&self) -> impl Iterator<Item = (&str, u64)> {
        self.entries.iter().filter_map(|(k, v)| match v {
            ConfigValue::Number(n) if key_class(k).is_none() => Some((k.as_str(), *n)),
            _ => None,
        })
    }

    /// Render the entry body, `{ key = value; ... }`, as LibVMI's `VMI_CONFIG_STRING`
    /// expects it. Errors name the key that cannot be represented.
    ///
    /// ```
    /// use libvmi::ConfigMap;
    /// let map = ConfigMap::new().with("ostype", "Linux").with("sysmap", "/boot/System.map");
    /// assert_eq!(map.render().unwrap(), "{ ostype = \"Linux\"; sysmap = \"/boot/System.map\"; }");
    /// assert!(ConfigMap::new().with("ostype", "Linux; kpgd").render().is_err());
    /// ```
    pub fn render(&self) -> Result<String> {
        let mut out = String::from("{ ");
        for (key, value) in self.rendered_entries()? {
            out.push_str(&key);
            out.push_str(" = ");
            out.push_str(&value);
            out.push_str("; ");
        }
        out.push('}');
        Ok(out)
    }

    /// Render a whole `libvmi.conf` entry named `name` (e.g. to write a config file).
    /// `name` must be a valid LibVMI entry name (`[A-Za-z0-9][A-Za-z0-9._-]+`).
    ///
    /// ```
    /// use libvmi::ConfigMap;
    /// let map = ConfigMap::new().with("ostype", "Linux");
    /// assert_eq!(map.render_entry("debian").unwrap(), "debian {\n    ostype = \"Linux\";\n}\n");
    /// assert!(map.render_entry("bad name").is_err());
    /// ```
    pub fn render_entry(&self, name: &str) -> Result<String> {
        if !is_word_token(name) {
            return Err(Error::config(
                None,
                format!(
                    "entry name {name:?} is not representable: LibVMI requires \
                     [A-Za-z0-9][A-Za-z0-9._-]+ that is neither a number nor a keyword"
                ),
            ));
        }
        let mut out = format!("{name} {{\n");
        for (key, value) in self.rendered_entries()? {
            out.push_str(&format!("    {key} = {value};\n"));
        }
        out.push_str("}\n");
        Ok(out)
    }

    fn rendered_entries(&self) -> Result<Vec<(String, String)>> {
        let mut out = Vec::with_capacity(self.entries.len());
        for (key, value) in &self.entries {
            let Some(class) = key_class(key) else {
                match value {
                    ConfigValue::Number(_) => continue, // an extra offset
                    ConfigValue::Str(_) => {
                        return Err(Error::config(
                            Some(key),
                            "LibVMI does not know this key (unknown keys may only carry numbers: \
                             extra offsets for the OS layers)",
                        ))
                    }
                }
            };
            let rendered = match (class, value) {
                (KeyClass::Number, ConfigValue::Number(n)) => format!("{n:#x}"),
                (KeyClass::Number, ConfigValue::Str(s)) => match parse_num_token(s) {
                    Some(n) => format!("{n:#x}"),
                    None => {
                        return Err(Error::config(
                            Some(key),
                            format!("expects a number (decimal or 0x hex), got {s:?}"),
                        ))
                    }
                },
                (_, ConfigValue::Number(n)) => {
                    return Err(Error::config(
                        Some(key),
                        format!("expects a string, got the number {n}"),
                    ))
                }
                (KeyClass::File, ConfigValue::Str(s)) => {
                    check_len(key, s)?;
                    if !is_filename_token(s) {
                        return Err(Error::config(
                            Some(key),
                            format!(
                                "{s:?} is not representable in libvmi.conf: a path must contain \
                                 a '/' and only the characters [A-Za-z0-9/._@-] (use an \
                                 absolute path without spaces or quotes)"
                            ),
                        ));
                    }
                    format!("\"{s}\"")
                }
                (KeyClass::Word, ConfigValue::Str(s)) => {
                    check_len(key, s)?;
                    if !is_word_token(s) {
                        return Err(Error::config(
                            Some(key),
                            format!(
                                "{s:?} is not representable in libvmi.conf: expected \
                                 [A-Za-z0-9][A-Za-z0-9._-]+, not a number or keyword"
                            ),
                        ));
                    }
                    format!("\"{s}\"")
                }
            };
            out.push((key.clone(), rendered));
        }
        Ok(out)
    }
}

/// A token of LibVMI's config lexer.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Token<'a> {
    Key(&'a str),
    Num,
    Word,
    FileName,
    Quote,
    OBrace,
    EBrace,
    Semicolon,
    Equals,
}

/// Tokenise like `lexicon.l` (longest match, earliest rule on ties), but strictly: a
/// character no rule matches (which flex would silently echo and skip) is an error.
fn tokenize(text: &str) -> core::result::Result<Vec<(usize, Token<'_>)>, String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\n' => {
                i += 1;
                continue;
            }
            b'#' => match b[i..].iter().position(|&x| x == b'\n') {
                Some(n) => {
                    i += n + 1;
                    continue;
                }
                None => return Err(format!("comment without a final newline at byte {i}")),
            },
            b'"' | b'{' | b'}' | b';' | b'=' => {
                out.push((
                    i,
                    match c {
                        b'"' => Token::Quote,
                        b'{' => Token::OBrace,
                        b'}' => Token::EBrace,
                        b';' => Token::Semicolon,
                        _ => Token::Equals,
                    },
                ));
                i += 1;
                continue;
            }
            _ => {}
        }
        let rest = &b[i..];
        let run = |ok: fn(u8) -> bool| rest.iter().take_while(|&&x| ok(x)).count();
        let kw = KNOWN_KEYS
            .iter()
            .filter(|(k, _)| rest.starts_with(k.as_bytes()))
            .map(|(k, _)| *k)
            .max_by_key(|k| k.len());
        let num = if rest.starts_with(b"0x") && run_hex(&rest[2..]) > 0 {
            2 + run_hex(&rest[2..])
        } else {
            run(|x| x.is_ascii_digit())
        };
        let word = if c.is_ascii_alphanumeric() {
            let n = 1 + rest[1..]
                .iter()
                .take_while(|&&x| x.is_ascii_alphanumeric() || matches!(x, b'.' | b'_' | b'-'))
                .count();
            if n >= 2 {
                n
            } else {
                0
            }
        } else {
            0
        };
        let file =
            run(|x| x.is_ascii_alphanumeric() || matches!(x, b'/' | b'.' | b'_' | b'@' | b'-'));
        let kw_len = kw.map_or(0, str::len);
        let longest = kw_len.max(num).max(word).max(file);
        if longest == 0 {
            return Err(format!(
                "unexpected character {:?} at byte {i}",
                text[i..].chars().next().unwrap_or('?')
            ));
        }
        let token = if kw_len == longest {
            Token::Key(kw.unwrap_or_default())
        } else if num == longest {
            Token::Num
        } else if word == longest {
            Token::Word
        } else {
            Token::FileName
        };
        out.push((i, token));
        i += longest;
    }
    Ok(out)
}

fn run_hex(b: &[u8]) -> usize {
    b.iter().take_while(|x| x.is_ascii_hexdigit()).count()
}

/// Check `text` against LibVMI's config grammar (`grammar.y`): `(WORD '{' (assignment? ';')*
/// '}')*`, each assignment `key = NUM` or `key = "FILENAME"` or `key = "WORD"` as the key
/// demands.
///
/// LibVMI's parser must only ever see input it accepts: after a syntax error its flex
/// scanner keeps the unread rest of the old input (a closed stream) and every later
/// configuration parse in the process fails or reads freed memory. So every configuration
/// is checked here first.
///
/// Returns the entry names, in order.
pub(crate) fn check_syntax(text: &str) -> core::result::Result<Vec<&str>, String> {
    let tokens = tokenize(text)?;
    let mut names = Vec::new();
    let mut t = tokens.iter().peekable();
    let expect = |got: Option<&(usize, Token<'_>)>, want: &str| -> String {
        match got {
            Some((at, tok)) => format!("expected {want} at byte {at}, found {tok:?}"),
            None => format!("expected {want}, found the end"),
        }
    };
    while let Some(&(at, tok)) = t.next() {
        if tok == Token::Word {
            let len = text[at..]
                .bytes()
                .take_while(|&x| x.is_ascii_alphanumeric() || matches!(x, b'.' | b'_' | b'-'))
                .count();
            names.push(&text[at..at + len]);
        } else {
            return Err(format!(
                "expected an entry name at byte {at}, found {tok:?} (names must match \
                 [A-Za-z0-9][A-Za-z0-9._-]+ and not be a number or keyword)"
            ));
        }
        match t.next() {
            Some((_, Token::OBrace)) => {}
            other => return Err(expect(other, "'{'")),
        }
        loop {
            match t.next() {
                Some((_, Token::EBrace)) => break,
                Some((_, Token::Semicolon)) => continue,
                Some(&(at, Token::Key(key))) => {
                    match t.next() {
                        Some((_, Token::Equals)) => {}
                        other => return Err(expect(other, "'='")),
                    }
                    match key_class(key) {
                        Some(KeyClass::Number) => match t.next() {
                            Some((_, Token::Num)) => {}
                            other => return Err(expect(other, &format!("a number for {key}"))),
                        },
                        Some(class) => {
                            let want = if class == KeyClass::File {
                                Token::FileName
                            } else {
                                Token::Word
                            };
                            let ok = matches!(t.next(), Some((_, Token::Quote)))
                                && matches!(t.next(), Some((_, x)) if *x == want)
                                && matches!(t.next(), Some((_, Token::Quote)));
                            if !ok {
                                return Err(format!(
                                    "bad value for {key} (byte {at}): expected a quoted {}",
                                    if class == KeyClass::File {
                                        "path containing '/' made of [A-Za-z0-9/._@-]"
                                    } else {
                                        "word [A-Za-z0-9][A-Za-z0-9._-]+"
                                    }
                                ));
                            }
                        }
                        None => return Err(format!("unknown key {key} at byte {at}")),
                    }
                    match t.next() {
                        Some((_, Token::Semicolon)) => {}
                        other => return Err(expect(other, "';'")),
                    }
                }
                other => return Err(expect(other, "a key, ';' or '}'")),
            }
        }
    }
    Ok(names)
}

fn check_len(key: &str, s: &str) -> Result<()> {
    if s.len() >= CONFIG_STR_LENGTH {
        return Err(Error::config(
            Some(key),
            format!(
                "{} bytes is too long: LibVMI cuts values at {} bytes",
                s.len(),
                CONFIG_STR_LENGTH - 1
            ),
        ));
    }
    Ok(())
}

impl<K: Into<String>, V: Into<ConfigValue>> FromIterator<(K, V)> for ConfigMap {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut map = ConfigMap::new();
        for (k, v) in iter {
            map.set(k, v);
        }
        map
    }
}

impl<K: Into<String>, V: Into<ConfigValue>> Extend<(K, V)> for ConfigMap {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.set(k, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        assert!(is_word_token("Linux"));
        assert!(is_word_token("IA32E"));
        assert!(is_word_token("mem.raw"));
        assert!(is_word_token("linux-6.1.0-nokaslr.raw"));
        assert!(!is_word_token("a"));
        assert!(!is_word_token("sysmap"));
        assert!(!is_word_token("1234"));
        assert!(!is_word_token("0x12"));
        assert!(is_word_token("0x12g"));
        assert!(!is_word_token("-x"));
        assert!(!is_word_token("a b"));
        assert!(!is_word_token("a/b"));
        assert!(is_filename_token("/a/b.map"));
        assert!(is_filename_token("./System.map"));
        assert!(!is_filename_token("System.map"));
        assert!(!is_filename_token("/a b"));
        assert!(!is_filename_token("/a\"b"));
        assert!(!is_filename_token("/a;b"));
        assert_eq!(parse_num_token("0x10"), Some(16));
        assert_eq!(parse_num_token("010"), Some(8));
        assert_eq!(parse_num_token("10"), Some(10));
        assert_eq!(parse_num_token("0x"), None);
        assert_eq!(parse_num_token("-1"), None);
        assert_eq!(parse_num_token("0xffffffffffffffffff"), None);
    }

    #[test]
    fn render_all_classes() {
        let map = ConfigMap::new()
            .with("ostype", "Linux")
            .with("pagemode", "IA32E")
            .with("kpgd", "0x1c0a000")
            .with("linux_name", 0xbc0u64)
            .with("sysmap", "/x/System.map");
        assert_eq!(
            map.render().unwrap(),
            "{ kpgd = 0x1c0a000; linux_name = 0xbc0; ostype = \"Linux\"; pagemode = \"IA32E\"; \
             sysmap = \"/x/System.map\"; }"
        );
    }

    #[test]
    fn rejects_unrepresentable() {
        for (k, v) in [
            ("ostype", ConfigValue::from("Li nux")),
            ("ostype", ConfigValue::from("Linux\"")),
            ("ostype", ConfigValue::from("kpgd")),
            ("ostype", ConfigValue::from(1u64)),
            ("sysmap", ConfigValue::from("System.map")),
            ("sysmap", ConfigValue::from("/a/b\n")),
            ("sysmap", ConfigValue::from("/a/#b")),
            ("sysmap", ConfigValue::from("/a/{b}")),
            ("linux_tasks", ConfigValue::from("12 ; kpgd = 0")),
            ("whatever", ConfigValue::from("x")),
        ] {
            let err = ConfigMap::new().with(k, v.clone()).render().unwrap_err();
            assert!(
                matches!(&err, Error::Config { key: Some(key), .. } if key == k),
                "{k} = {v:?}: {err}"
            );
        }
        let long = format!("/{}", "a".repeat(CONFIG_STR_LENGTH));
        assert!(ConfigMap::new().with("sysmap", long).render().is_err());
        assert!(ConfigMap::new().render_entry("a b").is_err());
    }

    #[test]
    fn syntax_check_follows_the_grammar() {
        let ok = [
            "",
            "a.raw { }",
            "a.raw { ; ; }",
            "# comment\nmem.raw {\n ostype = \"Linux\";\n sysmap = \"/x/System.map\";\n linux_tasks = 0x8a8; kpgd = 123;\n}\n",
            "x1 { pagemode = \"VMI_PM_IA32E\"; } y2 { win_pid = 0x10; }",
            "xkpgd { }",
        ];
        for t in ok {
            assert!(check_syntax(t).is_ok(), "{t:?}: {:?}", check_syntax(t));
        }
        assert_eq!(
            check_syntax("x1 { } y-2.raw { }"),
            Ok(vec!["x1", "y-2.raw"])
        );
        let bad = [
            "a { ostype = Linux; }",
            "a { ostype = \"Linux\" }",
            "a { sysmap = \"System.map\"; }",
            "a { linux_tasks = \"0x10\"; }",
            "a { linux_tasks = 0x10 }",
            "a { whatever = 1; }",
            "a b { }",
            "a { ",
            "kpgd { }",
            "123 { }",
            "a { ostype = \"Li nux\"; }",
            "a { ostype = \"Linux\"; } +",
            "a { } # no newline",
            "a { sysmap = \"/a b\"; }",
        ];
        for t in bad {
            assert!(check_syntax(t).is_err(), "{t:?}");
        }
        // everything render() produces parses
        let map = ConfigMap::new()
            .with("ostype", "Linux")
            .with("sysmap", "/x/y/System.map")
            .with("linux_tasks", 1u64)
            .with("pagemode", "VMI_PM_IA32E")
            .with("extra", 5u64);
        assert_eq!(
            check_syntax(&format!("img.raw {}", map.render().unwrap())),
            Ok(vec!["img.raw"])
        );
        assert_eq!(
            check_syntax(&map.render_entry("img.raw").unwrap()),
            Ok(vec!["img.raw"])
        );
    }

    #[test]
    fn extras_are_kept_not_rendered() {
        let map: ConfigMap = [("linux_thread_group", 0x9d8u64), ("linux_tasks", 0x8a8)]
            .into_iter()
            .collect();
        assert_eq!(map.render().unwrap(), "{ linux_tasks = 0x8a8; }");
        assert_eq!(
            map.extras().collect::<Vec<_>>(),
            vec![("linux_thread_group", 0x9d8)]
        );
    }
}
