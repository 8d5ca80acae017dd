//! Shared helpers for the image-based tests: find the guest image set built by
//! `ci/guest-images/build`, read its ground truth, and make LibVMI configurations for it.
//!
//! The image set is `$TINYVMI_IMAGES` (a `<kernel>-<recipe>` directory), else the newest
//! complete set under `${TINYVMI_CACHE_DIR:-${XDG_CACHE_HOME:-~/.cache}/tinyvmi}/images`.
//! Without one the tests fail (they never pass silently) and say how to build it.

#![allow(dead_code)]

use libvmi::{ConfigMap, Pa, Va};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The two variants the builder makes.
pub const VARIANTS: [&str; 2] = ["nokaslr", "kaslr"];

/// The image set directory, or a panic telling how to make one.
pub fn image_set() -> PathBuf {
    if let Some(dir) = std::env::var_os("TINYVMI_IMAGES") {
        let dir = PathBuf::from(dir);
        assert!(
            dir.join("image-set.json").is_file(),
            "TINYVMI_IMAGES={} is not a complete guest image set (no image-set.json); \
             run ci/guest-images/build and point TINYVMI_IMAGES at the directory it prints",
            dir.display()
        );
        return dir;
    }
    let cache = std::env::var_os("TINYVMI_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|x| PathBuf::from(x).join("tinyvmi")))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/tinyvmi")))
        .expect("neither TINYVMI_CACHE_DIR, XDG_CACHE_HOME nor HOME is set");
    let images = cache.join("images");
    let newest = std::fs::read_dir(&images)
        .ok()
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("image-set.json").is_file())
        .max_by_key(|p| {
            std::fs::metadata(p.join("image-set.json"))
                .and_then(|m| m.modified())
                .ok()
        });
    newest.unwrap_or_else(|| {
        panic!(
            "no guest image set found under {}: run `ci/guest-images/build` (it prints the \
             set's directory), or set TINYVMI_IMAGES to an existing set",
            images.display()
        )
    })
}

/// One variant (`nokaslr` or `kaslr`) of the image set.
pub struct Variant {
    pub name: &'static str,
    pub dir: PathBuf,
    pub image: PathBuf,
    pub truth: Json,
    pub offsets: Json,
}

impl Variant {
    pub fn load(name: &'static str) -> Variant {
        let dir = image_set().join(name);
        let truth = Json::parse_file(&dir.join("ground-truth.json"));
        let offsets = Json::parse_file(&dir.join("offsets.json"));
        assert_eq!(truth["schema"].int(), 1, "ground-truth.json schema");
        let image = dir.join(truth["image"].str());
        assert!(image.is_file(), "{} missing", image.display());
        Variant {
            name,
            dir,
            image,
            truth,
            offsets,
        }
    }

    pub fn all() -> Vec<Variant> {
        VARIANTS.iter().map(|v| Variant::load(v)).collect()
    }

    /// One of LibVMI's five offsets from offsets.json.
    pub fn offset(&self, key: &str) -> u64 {
        self.offsets["offsets"][key]["value"].int() as u64
    }

    /// One of the other offsets (`task_struct.thread_group`, `module.list`, ...).
    pub fn other_offset(&self, key: &str) -> u64 {
        self.offsets["other"][key]["value"].int() as u64
    }

    /// A config map with LibVMI's offsets, the System.map and (with `kpgd`) the kernel
    /// page table, page mode and KASLR offset, plus the extra offsets for threads and
    /// modules.
    pub fn config_map(&self, kpgd: bool) -> ConfigMap {
        let mut map = ConfigMap::new()
            .with("ostype", "Linux")
            .with("sysmap", self.dir.join("System.map"));
        for key in [
            "linux_tasks",
            "linux_mm",
            "linux_pid",
            "linux_name",
            "linux_pgd",
        ] {
            map.set(key, self.offset(key));
        }
        if kpgd {
            map.set("pagemode", "VMI_PM_IA32E");
            map.set("kpgd", self.hex("kpgd").0);
            map.set("linux_kaslr", self.hex("kaslr_offset").0);
        }
        map.set(
            "linux_thread_group",
            self.other_offset("task_struct.thread_group"),
        );
        map.set("linux_module_list", self.other_offset("module.list"));
        map.set("linux_module_name", self.other_offset("module.name"));
        map
    }

    /// A top-level hex field of the ground truth.
    pub fn hex(&self, key: &str) -> Pa {
        Pa(self.truth[key].hex())
    }

    /// The runtime address of a ground-truth symbol.
    pub fn symbol(&self, name: &str) -> Va {
        Va(self.truth["symbols"][name].hex())
    }

    /// This variant's System.map with the symbols LibVMI looks up at init first: the same
    /// content, but each of init's lookups (`libvmi-sys/csrc/sysmap_lookup.c`, unoptimised
    /// in a debug build; upstream's `get_symbol_row` where the shim defers to it) ends in
    /// the file's first block instead of reading on through the 3.6 MB map. The hostile
    /// suite initialises hundreds of instances with it.
    pub fn fast_sysmap(&self) -> String {
        const FIRST: [&str; 13] = [
            "init_task",
            "init_top_pgt",
            "init_level4_pgt",
            "swapper_pg_dir",
            "_text",
            "_stext",
            "startup_64",
            "phys_startup_64",
            "_etext",
            "linux_banner",
            "modules",
            "init_mm",
            "kaslr_offset",
        ];
        let text = std::fs::read_to_string(self.dir.join("System.map")).unwrap();
        let first = |l: &&str| l.split(' ').nth(2).is_some_and(|s| FIRST.contains(&s));
        let mut out: String = text.lines().filter(first).flat_map(|l| [l, "\n"]).collect();
        out.extend(text.lines().filter(|l| !first(l)).flat_map(|l| [l, "\n"]));
        out
    }

    // `facts()`, the numbers the hostile mutations need, is in `facts.rs` (it needs
    // `mutations`, which not every includer of this module has).
}

/// A minimal JSON value (the tests read the builder's files without extra dependencies).
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Num(f64, Option<i64>),
    Str(String),
    Arr(Vec<Json>),
    Obj(BTreeMap<String, Json>),
}

static NULL: Json = Json::Null;

impl std::ops::Index<&str> for Json {
    type Output = Json;
    fn index(&self, key: &str) -> &Json {
        match self {
            Json::Obj(m) => m.get(key).unwrap_or(&NULL),
            _ => &NULL,
        }
    }
}

impl std::ops::Index<usize> for Json {
    type Output = Json;
    fn index(&self, i: usize) -> &Json {
        match self {
            Json::Arr(v) => v.get(i).unwrap_or(&NULL),
            _ => &NULL,
        }
    }
}

impl Json {
    pub fn parse_file(path: &Path) -> Json {
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        Json::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    pub fn int(&self) -> i64 {
        match self {
            Json::Num(_, Some(i)) => *i,
            other => panic!("expected an integer, got {other:?}"),
        }
    }

    pub fn str(&self) -> &str {
        match self {
            Json::Str(s) => s,
            other => panic!("expected a string, got {other:?}"),
        }
    }

    pub fn bool(&self) -> bool {
        match self {
            Json::Bool(b) => *b,
            other => panic!("expected a bool, got {other:?}"),
        }
    }

    /// A `"0x…"` string as a number.
    pub fn hex(&self) -> u64 {
        let s = self.str();
        u64::from_str_radix(s.trim_start_matches("0x"), 16)
            .unwrap_or_else(|_| panic!("not a hex string: {s:?}"))
    }

    pub fn arr(&self) -> &[Json] {
        match self {
            Json::Arr(v) => v,
            other => panic!("expected an array, got {other:?}"),
        }
    }

    pub fn parse(text: &str) -> Result<Json, String> {
        let mut p = Parser {
            s: text.as_bytes(),
            i: 0,
        };
        let v = p.value()?;
        p.ws();
        if p.i != p.s.len() {
            return Err(format!("trailing data at byte {}", p.i));
        }
        Ok(v)
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn eat(&mut self, b: u8) -> Result<(), String> {
        self.ws();
        if self.s.get(self.i) == Some(&b) {
            self.i += 1;
            Ok(())
        } else {
            Err(format!("expected {:?} at byte {}", b as char, self.i))
        }
    }

    fn value(&mut self) -> Result<Json, String> {
        self.ws();
        match self.s.get(self.i) {
            Some(b'{') => {
                self.i += 1;
                let mut m = BTreeMap::new();
                self.ws();
                if self.s.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Ok(Json::Obj(m));
                }
                loop {
                    self.ws();
                    let k = self.string()?;
                    self.eat(b':')?;
                    m.insert(k, self.value()?);
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(Json::Obj(m));
                        }
                        _ => return Err(format!("bad object at byte {}", self.i)),
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut v = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Ok(Json::Arr(v));
                }
                loop {
                    v.push(self.value()?);
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Json::Arr(v));
                        }
                        _ => return Err(format!("bad array at byte {}", self.i)),
                    }
                }
            }
            Some(b'"') => self.string().map(Json::Str),
            Some(b't') if self.s[self.i..].starts_with(b"true") => {
                self.i += 4;
                Ok(Json::Bool(true))
            }
            Some(b'f') if self.s[self.i..].starts_with(b"false") => {
                self.i += 5;
                Ok(Json::Bool(false))
            }
            Some(b'n') if self.s[self.i..].starts_with(b"null") => {
                self.i += 4;
                Ok(Json::Null)
            }
            Some(_) => {
                let start = self.i;
                while self.i < self.s.len()
                    && matches!(
                        self.s[self.i],
                        b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'
                    )
                {
                    self.i += 1;
                }
                let t = std::str::from_utf8(&self.s[start..self.i]).unwrap();
                let f: f64 = t
                    .parse()
                    .map_err(|_| format!("bad number {t:?} at byte {start}"))?;
                Ok(Json::Num(f, t.parse().ok()))
            }
            None => Err("unexpected end".into()),
        }
    }

    fn string(&mut self) -> Result<String, String> {
        self.eat(b'"')?;
        let mut out = String::new();
        loop {
            let Some(&b) = self.s.get(self.i) else {
                return Err("unterminated string".into());
            };
            self.i += 1;
            match b {
                b'"' => return Ok(out),
                b'\\' => {
                    let e = *self.s.get(self.i).ok_or("bad escape")?;
                    self.i += 1;
                    match e {
                        b'n' => out.push('\n'),
                        b't' => out.push('\t'),
                        b'r' => out.push('\r'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'u' => {
                            let h = std::str::from_utf8(&self.s[self.i..self.i + 4]).unwrap();
                            self.i += 4;
                            let c = u32::from_str_radix(h, 16).map_err(|_| "bad \\u")?;
                            out.push(char::from_u32(c).unwrap_or('\u{fffd}'));
                        }
                        other => out.push(other as char),
                    }
                }
                _ => {
                    // copy a whole UTF-8 sequence
                    let start = self.i - 1;
                    let len = match b {
                        0xf0..=0xff => 4,
                        0xe0..=0xef => 3,
                        0xc0..=0xdf => 2,
                        _ => 1,
                    };
                    self.i = start + len;
                    out.push_str(
                        std::str::from_utf8(&self.s[start..self.i]).map_err(|e| e.to_string())?,
                    );
                }
            }
        }
    }
}

#[test]
fn json_parser_reads_what_the_builder_writes() {
    let j =
        Json::parse(r#"{"a": [1, -2, {"b": "0x1f"}], "c": true, "d": null, "e": "x\"y\u0041é"}"#)
            .unwrap();
    assert_eq!(j["a"][1].int(), -2);
    assert_eq!(j["a"][2]["b"].hex(), 0x1f);
    assert!(j["c"].bool());
    assert_eq!(j["d"], Json::Null);
    assert_eq!(j["e"].str(), "x\"yAé");
}
