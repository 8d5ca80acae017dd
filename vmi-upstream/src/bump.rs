//! Upstream bumps, edits and refreshes of the patch series (driven by
//! `cargo xtask upstream`). Nothing in `vendor/` or `patches/` changes until
//! every patch has been carried over; a conflict leaves a work tree with merge
//! markers and a state file so that `continue` and `abort` can pick up.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use git2::Oid;

use crate::fetch::UpstreamCache;
use crate::queue::{conflict_regions, patch_file_name, Pick, WorkRepo};
use crate::series::{load_series, read_series};
use crate::{Error, Pin, Result};

/// Where a bump or edit keeps its work: `<workspace>/target/upstream-work`.
///
/// ```
/// assert!(vmi_upstream::bump::default_state_dir("/ws".as_ref()).ends_with("target/upstream-work"));
/// ```
pub fn default_state_dir(workspace_root: &Path) -> PathBuf {
    workspace_root.join("target").join("upstream-work")
}

/// Inputs of a bump.
#[derive(Debug, Clone)]
pub struct Bump {
    /// The workspace (with `vendor/` and `patches/`).
    pub workspace_root: PathBuf,
    /// The cache repository.
    pub cache: PathBuf,
    /// Where the work tree and state live.
    pub state_dir: PathBuf,
    /// Report only; write nothing.
    pub dry_run: bool,
}

/// What a finished bump did.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Old pinned commit.
    pub old: String,
    /// New pinned commit.
    pub new: String,
    /// Patches carried over, with their new file names.
    pub applied: Vec<String>,
    /// Patches dropped because upstream already contains them.
    pub dropped: Vec<String>,
    /// Whether files were written (false for `--dry-run`).
    pub written: bool,
    /// What changed in upstream's public headers.
    pub header_changes: String,
}

/// A bump stopped by a conflict.
#[derive(Debug, Clone)]
pub struct Conflict {
    /// The patch that conflicts.
    pub patch: String,
    /// Conflicting files, each with the line ranges of its conflict regions.
    pub files: Vec<(String, Vec<(usize, usize)>)>,
    /// The work tree holding the markers.
    pub work_tree: PathBuf,
}

/// The result of `bump` or `continue`.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Every patch carried over.
    Done(Report),
    /// Stopped at a conflict.
    Conflict(Conflict),
}

#[derive(Debug, Default)]
struct State {
    old: String,
    new: String,
    dry_run: bool,
    onto: String,
    todo: Vec<(String, String)>,
    done: Vec<(String, String)>,
    dropped: Vec<String>,
    conflict: Vec<String>,
}

impl State {
    fn path(dir: &Path) -> PathBuf {
        dir.join("state")
    }

    fn save(&self, dir: &Path) -> Result<()> {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "old {}\nnew {}\ndry_run {}\nonto {}",
            self.old, self.new, self.dry_run as u8, self.onto
        );
        for (n, c) in &self.todo {
            let _ = writeln!(s, "todo {n} {c}");
        }
        for (n, c) in &self.done {
            let _ = writeln!(s, "done {n} {c}");
        }
        for n in &self.dropped {
            let _ = writeln!(s, "dropped {n}");
        }
        for f in &self.conflict {
            let _ = writeln!(s, "conflict {f}");
        }
        write_atomic(&State::path(dir), s.as_bytes())
    }

    fn load(dir: &Path) -> Result<State> {
        let p = State::path(dir);
        let text = std::fs::read_to_string(&p).map_err(|_| Error::BadPin {
            file: p.clone(),
            message: "no bump in progress (nothing to continue)".into(),
        })?;
        let mut st = State::default();
        for line in text.lines() {
            let (k, v) = line.split_once(' ').unwrap_or((line, ""));
            let pair = || {
                v.split_once(' ')
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .unwrap_or_default()
            };
            match k {
                "old" => st.old = v.into(),
                "new" => st.new = v.into(),
                "dry_run" => st.dry_run = v == "1",
                "onto" => st.onto = v.into(),
                "todo" => st.todo.push(pair()),
                "done" => st.done.push(pair()),
                "dropped" => st.dropped.push(v.into()),
                "conflict" => st.conflict.push(v.into()),
                _ => {}
            }
        }
        Ok(st)
    }
}

fn oid(s: &str) -> Result<Oid> {
    Oid::from_str(s).map_err(Error::git(format!("bad commit id {s:?} in the bump state")))
}

/// Refuses to run when `patches/` or `vendor/` have uncommitted changes.
pub fn check_clean(workspace_root: &Path) -> Result<()> {
    let Ok(repo) = git2::Repository::open(workspace_root) else {
        return Ok(());
    };
    let mut opts = git2::StatusOptions::new();
    opts.include_untracked(true)
        .pathspec("patches")
        .pathspec("vendor");
    let statuses = repo
        .statuses(Some(&mut opts))
        .map_err(Error::git("reading git status"))?;
    let dirty: Vec<String> = statuses
        .iter()
        .filter_map(|s| s.path().ok().map(String::from))
        .collect();
    if dirty.is_empty() {
        Ok(())
    } else {
        Err(Error::BadPin {
            file: workspace_root.to_path_buf(),
            message: format!(
                "patches/ or vendor/ has uncommitted changes ({}); commit or stash them first, so a bump can be reviewed and undone",
                dirty.join(", ")
            ),
        })
    }
}

impl Bump {
    /// Starts a bump to `rev` (SHA, branch or tag of the pinned URL).
    pub fn start(&self, rev: &str) -> Result<Outcome> {
        check_clean(&self.workspace_root)?;
        if self.state_dir.exists() {
            return Err(Error::BadPin {
                file: self.state_dir.clone(),
                message: "a bump or edit is already in progress here; finish it (cargo xtask upstream continue) or drop it (cargo xtask upstream abort)".into(),
            });
        }
        let pin = Pin::load(&self.workspace_root)?;
        let series = load_series(&self.workspace_root.join("patches"))?;
        let cache = UpstreamCache::open(&self.cache)?;
        let old = cache.ensure(&pin)?;
        let new = match cache.resolve(rev) {
            Some(o) if crate::pin::is_full_sha(rev) => o,
            _ => cache.fetch(&pin.url, rev)?,
        };
        drop(cache);
        std::fs::create_dir_all(&self.state_dir).map_err(Error::io("creating", &self.state_dir))?;
        let work = WorkRepo::create(&self.state_dir.join("tree"), &self.cache)?;
        let commits = match work.commit_series(old, &series) {
            Ok(c) => c,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&self.state_dir);
                return Err(e);
            }
        };
        let mut st = State {
            old: old.to_string(),
            new: new.to_string(),
            dry_run: self.dry_run,
            onto: new.to_string(),
            todo: series
                .iter()
                .map(|p| p.name())
                .zip(commits.iter().map(|c| c.to_string()))
                .collect(),
            ..State::default()
        };
        self.run(&work, &mut st)
    }

    /// Continues after the user resolved a conflict in the work tree.
    pub fn resume(&self) -> Result<Outcome> {
        let mut st = State::load(&self.state_dir)?;
        let work = WorkRepo::open(&self.state_dir.join("tree"))?;
        let (name, commit) = st.todo.first().cloned().ok_or_else(|| Error::BadPin {
            file: State::path(&self.state_dir),
            message: "the bump state has no pending patch".into(),
        })?;
        match work.commit_resolution(oid(&commit)?, oid(&st.onto)?, &st.conflict)? {
            Some(c) => {
                st.onto = c.to_string();
                st.done.push((name, c.to_string()));
            }
            None => st.dropped.push(name),
        }
        st.todo.remove(0);
        st.conflict.clear();
        self.run(&work, &mut st)
    }

    /// Drops a bump in progress; nothing in the workspace changed.
    pub fn abort(&self) -> Result<()> {
        if self.state_dir.exists() {
            std::fs::remove_dir_all(&self.state_dir)
                .map_err(Error::io("removing", &self.state_dir))?;
        }
        Ok(())
    }

    fn run(&self, work: &WorkRepo, st: &mut State) -> Result<Outcome> {
        while let Some((name, commit)) = st.todo.first().cloned() {
            match work.pick(oid(&commit)?, oid(&st.onto)?)? {
                Pick::Applied(c) => {
                    st.onto = c.to_string();
                    st.done.push((name, c.to_string()));
                }
                Pick::AlreadyUpstream => st.dropped.push(name),
                Pick::Conflict { mut index, files } => {
                    work.write_conflict(oid(&st.onto)?, &mut index)?;
                    st.conflict = files.clone();
                    st.save(&self.state_dir)?;
                    let files = files
                        .into_iter()
                        .map(|f| {
                            let text =
                                std::fs::read_to_string(work.dir().join(&f)).unwrap_or_default();
                            let regions = conflict_regions(&text);
                            (f, regions)
                        })
                        .collect();
                    return Ok(Outcome::Conflict(Conflict {
                        patch: name,
                        files,
                        work_tree: work.dir().to_path_buf(),
                    }));
                }
            }
            st.todo.remove(0);
        }
        let report = self.finish(work, st)?;
        std::fs::remove_dir_all(&self.state_dir).map_err(Error::io("removing", &self.state_dir))?;
        Ok(Outcome::Done(report))
    }

    fn finish(&self, work: &WorkRepo, st: &State) -> Result<Report> {
        let old = oid(&st.old)?;
        let new = oid(&st.new)?;
        let mut files = Vec::new();
        for (name, commit) in &st.done {
            files.push((name.clone(), work.render(oid(commit)?)?));
        }
        let header_changes = header_changes(work.repo(), old, new)?;
        let mut report = Report {
            old: st.old.clone(),
            new: st.new.clone(),
            applied: st.done.iter().map(|(n, _)| n.clone()).collect(),
            dropped: st.dropped.clone(),
            written: false,
            header_changes,
        };
        if st.dry_run {
            return Ok(report);
        }
        let pin = Pin::load(&self.workspace_root)?;
        let new_pin = Pin {
            url: pin.url.clone(),
            commit: st.new.clone(),
        };
        write_series(&self.workspace_root, &files)?;
        write_atomic(
            &Pin::file_in(&self.workspace_root),
            new_pin.render().as_bytes(),
        )?;
        update_versions(&self.workspace_root, pin.short(), new_pin.short())?;
        report.written = true;
        Ok(report)
    }
}

/// Writes `files` as the new series (patch files + `series`), removing patch
/// files that left the series. Each file is written atomically.
pub fn write_series(workspace_root: &Path, files: &[(String, String)]) -> Result<()> {
    let dir = workspace_root.join("patches");
    let before: Vec<String> = read_series(&dir)?.into_iter().map(|e| e.name).collect();
    let series_path = dir.join("series");
    let old_series =
        std::fs::read_to_string(&series_path).map_err(Error::io("reading", &series_path))?;
    let comments: String = old_series
        .lines()
        .take_while(|l| l.trim().is_empty() || l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    for (name, text) in files {
        write_atomic(&dir.join(name), text.as_bytes())?;
    }
    let mut series = comments;
    for (name, _) in files {
        series.push_str(name);
        series.push('\n');
    }
    write_atomic(&series_path, series.as_bytes())?;
    for gone in before
        .iter()
        .filter(|b| !files.iter().any(|(n, _)| n == *b))
    {
        let p = dir.join(gone);
        std::fs::remove_file(&p).map_err(Error::io("removing", &p))?;
    }
    Ok(())
}

/// Replaces `+libvmi.<old>` with `+libvmi.<new>` in the workspace's manifests.
pub fn update_versions(workspace_root: &Path, old: &str, new: &str) -> Result<()> {
    let mut manifests = vec![
        workspace_root.join("Cargo.toml"),
        workspace_root.join("Cargo.lock"),
    ];
    if let Ok(rd) = std::fs::read_dir(workspace_root) {
        manifests.extend(rd.flatten().map(|e| e.path().join("Cargo.toml")));
    }
    let from = format!("+libvmi.{old}");
    let to = format!("+libvmi.{new}");
    for m in manifests.into_iter().filter(|m| m.is_file()) {
        let text = std::fs::read_to_string(&m).map_err(Error::io("reading", &m))?;
        if text.contains(&from) {
            write_atomic(&m, text.replace(&from, &to).as_bytes())?;
        }
    }
    Ok(())
}

/// Writes a file atomically (temporary file in the same directory, then rename).
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        path.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default(),
        std::process::id()
    ));
    std::fs::write(&tmp, data).map_err(Error::io("writing", &tmp))?;
    std::fs::rename(&tmp, path).map_err(Error::io("replacing", path))
}

/// The headers LibVMI installs: the API the bindings and the safe API follow.
pub const PUBLIC_HEADERS: [&str; 5] = [
    "libvmi/libvmi.h",
    "libvmi/libvmi_extra.h",
    "libvmi/events.h",
    "libvmi/slat.h",
    "libvmi/x86.h",
];

/// What changed in upstream's public headers between two commits: functions
/// added, removed or with a new signature; enum constants added, removed or
/// renumbered; structs added, removed or redefined, with their sizes before and
/// after (measured by compiling the two header sets with the C compiler).
pub fn header_changes(repo: &git2::Repository, old: Oid, new: Oid) -> Result<String> {
    let read = |c: Oid, path: &str| -> String {
        repo.find_commit(c)
            .and_then(|c| c.tree())
            .and_then(|t| t.get_path(Path::new(path)))
            .and_then(|e| repo.find_blob(e.id()))
            .map(|b| String::from_utf8_lossy(b.content()).into_owned())
            .unwrap_or_default()
    };
    let mut out = String::new();
    let mut changed_structs: Vec<(String, String)> = Vec::new();
    let mut pending: Vec<(String, Vec<String>)> = Vec::new();
    for h in PUBLIC_HEADERS {
        let (a, b) = (api_items(&read(old, h)), api_items(&read(new, h)));
        let mut lines = Vec::new();
        for item in &b {
            match a
                .iter()
                .find(|o| o.kind == item.kind && o.name == item.name)
            {
                None => lines.push(format!("  + {} {}", item.kind, item.name)),
                Some(o) if o.body != item.body => {
                    let what = match item.kind {
                        "function" => "signature changed".to_string(),
                        "struct" => {
                            changed_structs.push((item.name.clone(), item.ctype.clone()));
                            format!("definition changed{{size:{}}}", item.name)
                        }
                        _ => "value changed".to_string(),
                    };
                    lines.push(format!("  ~ {} {} ({what})", item.kind, item.name));
                }
                _ => {}
            }
        }
        for o in &a {
            if !b.iter().any(|n| n.kind == o.kind && n.name == o.name) {
                lines.push(format!("  - {} {}", o.kind, o.name));
            }
        }
        if !lines.is_empty() {
            pending.push((h.to_string(), lines));
        }
    }
    let sizes_old = struct_sizes(&|p| read(old, p), &changed_structs);
    let sizes_new = struct_sizes(&|p| read(new, p), &changed_structs);
    for (h, lines) in pending {
        let _ = writeln!(out, "{h}:");
        for mut l in lines {
            for (name, _) in &changed_structs {
                let tag = format!("{{size:{name}}}");
                if l.contains(&tag) {
                    let size = |m: &std::result::Result<BTreeMap<String, u64>, String>| match m {
                        Ok(m) => m
                            .get(name)
                            .map(|s| format!("{s} bytes"))
                            .unwrap_or_else(|| "?".into()),
                        Err(e) => format!("unknown: {e}"),
                    };
                    let (a, b) = (size(&sizes_old), size(&sizes_new));
                    let note = if a == b {
                        format!(", size {a} unchanged")
                    } else {
                        format!(", size {a} -> {b}")
                    };
                    l = l.replace(&tag, &note);
                }
            }
            let _ = writeln!(out, "{l}");
        }
    }
    if out.is_empty() {
        out.push_str("no change in the public headers\n");
    }
    Ok(out)
}

/// `sizeof` of the given structs with one version's public headers, measured by
/// compiling and running a small C program with the system C compiler (`$CC`, else `cc`).
fn struct_sizes(
    read: &dyn Fn(&str) -> String,
    structs: &[(String, String)],
) -> std::result::Result<BTreeMap<String, u64>, String> {
    if structs.is_empty() {
        return Ok(BTreeMap::new());
    }
    let dir = tempfile_dir().map_err(|e| format!("temp dir: {e}"))?;
    let inc = dir.join("libvmi");
    std::fs::create_dir_all(&inc).map_err(|e| e.to_string())?;
    let mut present = Vec::new();
    for h in PUBLIC_HEADERS {
        let text = read(h);
        for (name, ctype) in structs {
            if api_items(&text)
                .iter()
                .any(|i| i.kind == "struct" && &i.name == name)
            {
                present.push((name.clone(), ctype.clone()));
            }
        }
        std::fs::write(dir.join(h), text).map_err(|e| e.to_string())?;
    }
    let mut c = String::from("#include <stdio.h>\n#include <libvmi/libvmi.h>\n#include <libvmi/events.h>\n#include <libvmi/slat.h>\n#include <libvmi/x86.h>\nint main(void) {\n");
    for (name, ctype) in &present {
        let _ = writeln!(c, "    printf(\"%s %zu\\n\", \"{name}\", sizeof({ctype}));");
    }
    c.push_str("    return 0;\n}\n");
    let src = dir.join("sizes.c");
    let exe = dir.join("sizes");
    std::fs::write(&src, c).map_err(|e| e.to_string())?;
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let out = std::process::Command::new(&cc)
        .arg("-w")
        .arg("-I")
        .arg(&dir)
        .arg(&src)
        .arg("-o")
        .arg(&exe)
        .output()
        .map_err(|e| format!("running {cc}: {e}"))?;
    let result = if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        Err(format!(
            "the headers do not compile alone ({})",
            err.lines().next().unwrap_or("").trim()
        ))
    } else {
        let run = std::process::Command::new(&exe)
            .output()
            .map_err(|e| e.to_string())?;
        Ok(String::from_utf8_lossy(&run.stdout)
            .lines()
            .filter_map(|l| {
                l.split_once(' ')
                    .and_then(|(n, s)| Some((n.to_string(), s.parse().ok()?)))
            })
            .collect())
    };
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn tempfile_dir() -> std::io::Result<PathBuf> {
    let base =
        std::env::temp_dir().join(format!("tinyvmi-sizes-{}-{}", std::process::id(), unique()));
    std::fs::create_dir_all(&base)?;
    Ok(base)
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// One item of a public header.
struct ApiItem {
    kind: &'static str,
    name: String,
    body: String,
    /// For structs: the C type to take `sizeof` of (`struct x` or a typedef name).
    ctype: String,
}

/// Functions (`vmi_*` declarations), enum constants and struct definitions of a
/// header, as `(kind, name, normalized definition)`.
fn api_items(text: &str) -> Vec<ApiItem> {
    let code = strip_comments(text);
    let mut items = Vec::new();
    // Function declarations: a `vmi_` identifier followed by `(`, normalized signature up to `;`.
    for stmt in code.split(';') {
        let norm = stmt.split_whitespace().collect::<Vec<_>>().join(" ");
        if let Some(pos) = norm.find("vmi_") {
            let rest = &norm[pos..];
            if let Some(paren) = rest.find('(') {
                let name = &rest[..paren];
                if name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !norm.contains("typedef")
                    && !norm.contains('{')
                    && !norm.starts_with('#')
                {
                    items.push(ApiItem {
                        kind: "function",
                        name: name.to_string(),
                        body: norm.clone(),
                        ctype: String::new(),
                    });
                }
            }
        }
    }
    // Enum constants and structs: scan `enum ... { ... }` and `struct name { ... }` bodies.
    let bytes = code.as_bytes();
    let mut i = 0;
    while let Some(off) = code[i..].find('{') {
        let open = i + off;
        let head_start = code[..open]
            .rfind([';', '}', '#'])
            .map(|p| p + 1)
            .unwrap_or(0);
        let head = code[head_start..open]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let mut depth = 0usize;
        let mut close = open;
        for (k, &b) in bytes.iter().enumerate().skip(open) {
            match b {
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        close = k;
                        break;
                    }
                }
                _ => {}
            }
        }
        if close == open {
            break;
        }
        let body = &code[open + 1..close];
        let tail: String = code[close + 1..]
            .chars()
            .take_while(|&c| c != ';')
            .collect();
        let norm_body = body.split_whitespace().collect::<Vec<_>>().join(" ");
        if head.contains("enum") {
            for c in body.split(',') {
                let name = c.split('=').next().unwrap_or("").trim();
                if !name.is_empty()
                    && name
                        .chars()
                        .all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
                {
                    items.push(ApiItem {
                        kind: "constant",
                        name: name.to_string(),
                        body: c.split_whitespace().collect::<Vec<_>>().join(" "),
                        ctype: String::new(),
                    });
                }
            }
        } else if head.contains("struct") || head.contains("union") {
            let keyword = if head.contains("union") {
                "union"
            } else {
                "struct"
            };
            let tag = head
                .split_whitespace()
                .last()
                .filter(|n| *n != "struct" && *n != "union")
                .map(String::from);
            let typedef_name = tail
                .trim()
                .trim_start_matches('*')
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .next()
                .unwrap_or("")
                .to_string();
            let (name, ctype) = match tag {
                Some(t) => (t.clone(), format!("{keyword} {t}")),
                None => (typedef_name.clone(), typedef_name),
            };
            if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                items.push(ApiItem {
                    kind: "struct",
                    name,
                    body: norm_body,
                    ctype,
                });
            }
        }
        i = close + 1;
    }
    items
}

fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("/*") {
            rest = r.find("*/").map(|e| &r[e + 2..]).unwrap_or("");
        } else if let Some(r) = rest.strip_prefix("//") {
            rest = r.find('\n').map(|e| &r[e..]).unwrap_or("");
        } else {
            let ch = rest.chars().next().unwrap_or(' ');
            out.push(ch);
            rest = &rest[ch.len_utf8()..];
        }
    }
    out
}

/// Sets up an edit session: the series as commits on the pin in a work tree
/// (branch `series`), for changing patches by editing code; see [`refresh`].
pub fn edit(workspace_root: &Path, cache: &Path, state_dir: &Path) -> Result<PathBuf> {
    if state_dir.exists() {
        return Err(Error::BadPin {
            file: state_dir.to_path_buf(),
            message: "a bump or edit is already in progress here; refresh or abort it first".into(),
        });
    }
    let pin = Pin::load(workspace_root)?;
    let series = load_series(&workspace_root.join("patches"))?;
    let c = UpstreamCache::open(cache)?;
    let base = c.ensure(&pin)?;
    drop(c);
    std::fs::create_dir_all(state_dir).map_err(Error::io("creating", state_dir))?;
    let tree = state_dir.join("tree");
    let work = WorkRepo::create(&tree, cache)?;
    let commits = work.commit_series(base, &series)?;
    let tip = commits.last().copied().unwrap_or(base);
    let repo = work.repo();
    let commit = repo
        .find_commit(tip)
        .map_err(Error::git("reading a commit"))?;
    repo.branch("series", &commit, true)
        .map_err(Error::git("creating branch series"))?;
    repo.reference("refs/tags/upstream-base", base, true, "tinyvmi base")
        .map_err(Error::git("tagging the base"))?;
    repo.set_head("refs/heads/series")
        .map_err(Error::git("checking out"))?;
    repo.checkout_head(Some(git2::build::CheckoutBuilder::new().force()))
        .map_err(Error::git("checking out"))?;
    std::fs::write(state_dir.join("edit"), format!("base {base}\n"))
        .map_err(Error::io("writing", state_dir))?;
    Ok(tree)
}

/// Regenerates the patch files from the edit work tree: one patch per commit
/// between the pin and HEAD, names kept (git notes, carried by amend and
/// rebase), new commits named from their subject.
pub fn refresh(workspace_root: &Path, state_dir: &Path) -> Result<Vec<String>> {
    check_clean(workspace_root)?;
    let tree = state_dir.join("tree");
    let work = WorkRepo::open(&tree).map_err(|_| Error::BadPin {
        file: state_dir.to_path_buf(),
        message: "no edit session; start one with `cargo xtask upstream edit`".into(),
    })?;
    let repo = work.repo();
    let mut opts = git2::StatusOptions::new();
    opts.include_untracked(true);
    let dirty = repo
        .statuses(Some(&mut opts))
        .map_err(Error::git("reading status"))?;
    if !dirty.is_empty() {
        return Err(Error::BadPin {
            file: tree.clone(),
            message: "the edit work tree has uncommitted changes; commit them (git commit --amend folds them into the last patch) and refresh again".into(),
        });
    }
    let pin = Pin::load(workspace_root)?;
    let base = oid(&pin.commit)?;
    let mut walk = repo.revwalk().map_err(Error::git("walking"))?;
    walk.push_head().map_err(Error::git("walking"))?;
    walk.hide(base).map_err(Error::git("walking"))?;
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)
        .map_err(Error::git("walking"))?;
    let mut files = Vec::new();
    for (i, c) in walk.enumerate() {
        let c = c.map_err(Error::git("walking"))?;
        let commit = repo
            .find_commit(c)
            .map_err(Error::git("reading a commit"))?;
        if commit.parent_count() != 1 {
            return Err(Error::BadPin {
                file: tree.clone(),
                message: format!("commit {c} is a merge; the series must be linear"),
            });
        }
        let name = work.name_of(c).unwrap_or_else(|| {
            patch_file_name(i + 1, commit.summary().ok().flatten().unwrap_or("patch"))
        });
        files.push((name, work.render(c)?));
    }
    write_series(workspace_root, &files)?;
    Ok(files.into_iter().map(|(n, _)| n).collect())
}
