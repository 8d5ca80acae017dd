//! The patch series: `patches/series` lists `git format-patch` style files, in
//! the order they apply. Parsing uses the `patch` crate for the unified diffs;
//! the mail header and git's extended lines around them are handled here.

use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// One line of a hunk, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HunkLine {
    /// Unchanged line present in old and new.
    Context(String),
    /// Line only in the old file.
    Remove(String),
    /// Line only in the new file.
    Add(String),
}

/// A hunk with its ranges (1-based starts, as in `@@ -a,b +c,d @@`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hunk {
    /// First line of the old range (1-based; for an empty range, the line before).
    pub old_start: usize,
    /// Number of old lines.
    pub old_count: usize,
    /// First line of the new range.
    pub new_start: usize,
    /// Number of new lines.
    pub new_count: usize,
    /// The lines.
    pub lines: Vec<HunkLine>,
}

impl Hunk {
    /// The `@@ -a,b +c,d @@` header of this hunk.
    ///
    /// ```
    /// let h = vmi_upstream::series::Hunk { old_start: 3, old_count: 2, new_start: 3, new_count: 3, lines: vec![] };
    /// assert_eq!(h.header(), "@@ -3,2 +3,3 @@");
    /// ```
    pub fn header(&self) -> String {
        format!(
            "@@ -{},{} +{},{} @@",
            self.old_start, self.old_count, self.new_start, self.new_count
        )
    }

    /// The lines the hunk expects in the old file, in order.
    pub fn old_lines(&self) -> impl Iterator<Item = &str> {
        self.lines.iter().filter_map(|l| match l {
            HunkLine::Context(s) | HunkLine::Remove(s) => Some(s.as_str()),
            HunkLine::Add(_) => None,
        })
    }

    /// The lines the hunk leaves in the new file, in order.
    pub fn new_lines(&self) -> impl Iterator<Item = &str> {
        self.lines.iter().filter_map(|l| match l {
            HunkLine::Context(s) | HunkLine::Add(s) => Some(s.as_str()),
            HunkLine::Remove(_) => None,
        })
    }

    /// Lines added plus lines removed.
    pub fn changed_lines(&self) -> usize {
        self.lines
            .iter()
            .filter(|l| !matches!(l, HunkLine::Context(_)))
            .count()
    }
}

/// The change one patch makes to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePatch {
    /// Path before (relative to the source root), `None` when the file is created.
    pub old_path: Option<String>,
    /// Path after, `None` when the file is deleted.
    pub new_path: Option<String>,
    /// The hunks, in file order.
    pub hunks: Vec<Hunk>,
    /// Whether the new file ends with a newline.
    pub end_newline: bool,
}

impl FilePatch {
    /// The path this change is about (new path, or old path for a deletion).
    pub fn path(&self) -> &str {
        self.new_path
            .as_deref()
            .or(self.old_path.as_deref())
            .unwrap_or("?")
    }
}

/// A parsed patch file of the series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// The mail header and message (everything before the diff).
    pub header: String,
    /// The per-file changes.
    pub files: Vec<FilePatch>,
}

impl PatchFile {
    /// Reads and parses a patch file.
    pub fn load(path: &Path) -> Result<PatchFile> {
        let text = std::fs::read_to_string(path).map_err(Error::io("reading patch", path))?;
        PatchFile::parse(&text, path)
    }

    /// Parses `git format-patch` output (or a plain `git diff`).
    ///
    /// ```
    /// use vmi_upstream::series::PatchFile;
    /// let text = "From 0 Mon Sep 17 00:00:00 2001\nSubject: [PATCH] x\n\nWhy.\n---\n a | 1 +\n\n\
    /// diff --git a/a b/a\n--- a/a\n+++ b/a\n@@ -1,1 +1,2 @@\n one\n+two\n-- \n2.39.2\n";
    /// let p = PatchFile::parse(text, "0001-x.patch".as_ref()).unwrap();
    /// assert_eq!(p.files[0].path(), "a");
    /// assert_eq!(p.changed_lines(), 1);
    /// ```
    pub fn parse(text: &str, path: &Path) -> Result<PatchFile> {
        let malformed = |message: String| Error::MalformedPatch {
            patch: path.to_path_buf(),
            message,
        };
        // The mail signature ("-- \n<git version>") ends the diff.
        let body = match text.rfind("\n-- \n") {
            Some(i) => &text[..=i],
            None => text,
        };
        let starts: Vec<usize> = line_starts(body)
            .filter(|&i| body[i..].starts_with("diff --git "))
            .collect();
        if starts.is_empty() {
            return Err(malformed("no `diff --git` section found".into()));
        }
        let header = body[..starts[0]].to_string();
        let mut files = Vec::new();
        for (n, &start) in starts.iter().enumerate() {
            let end = starts.get(n + 1).copied().unwrap_or(body.len());
            files.push(parse_file_section(&body[start..end]).map_err(&malformed)?);
        }
        Ok(PatchFile {
            path: path.to_path_buf(),
            header,
            files,
        })
    }

    /// The file name of the patch (for messages).
    pub fn name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// Lines added plus lines removed, over all files.
    pub fn changed_lines(&self) -> usize {
        self.files
            .iter()
            .flat_map(|f| &f.hunks)
            .map(Hunk::changed_lines)
            .sum()
    }
}

fn line_starts(s: &str) -> impl Iterator<Item = usize> + '_ {
    std::iter::once(0).chain(
        s.match_indices('\n')
            .map(|(i, _)| i + 1)
            .filter(move |&i| i < s.len()),
    )
}

fn parse_file_section(section: &str) -> std::result::Result<FilePatch, String> {
    let first = section.lines().next().unwrap_or_default();
    for line in section
        .lines()
        .take_while(|l| !l.starts_with("--- ") && !l.starts_with("@@"))
    {
        for unsupported in [
            "rename from",
            "copy from",
            "old mode",
            "new mode",
            "GIT binary patch",
            "Binary files",
        ] {
            if line.starts_with(unsupported) {
                return Err(format!(
                    "{first}: {unsupported:?} is not supported; keep patches to plain text edits"
                ));
            }
        }
    }
    if !section.contains("\n--- ") {
        return Err(format!(
            "{first}: no `---`/`+++` file header (empty or mode-only change?)"
        ));
    }
    // The `patch` crate asserts on trailing garbage; keep its panics out of the build.
    let parsed = std::panic::catch_unwind(|| {
        patch::Patch::from_single(section).map(|p| {
            let strip = |p: &str| -> Option<String> {
                if p == "/dev/null" {
                    None
                } else {
                    Some(
                        p.strip_prefix("a/")
                            .or_else(|| p.strip_prefix("b/"))
                            .unwrap_or(p)
                            .to_string(),
                    )
                }
            };
            let hunks = p
                .hunks
                .iter()
                .map(|h| Hunk {
                    old_start: h.old_range.start as usize,
                    old_count: h.old_range.count as usize,
                    new_start: h.new_range.start as usize,
                    new_count: h.new_range.count as usize,
                    lines: h
                        .lines
                        .iter()
                        .map(|l| match l {
                            patch::Line::Add(s) => HunkLine::Add(s.to_string()),
                            patch::Line::Remove(s) => HunkLine::Remove(s.to_string()),
                            patch::Line::Context(s) => HunkLine::Context(s.to_string()),
                        })
                        .collect(),
                })
                .collect();
            FilePatch {
                old_path: strip(&p.old.path),
                new_path: strip(&p.new.path),
                hunks,
                end_newline: p.end_newline,
            }
        })
    });
    let fp = match parsed {
        Ok(Ok(fp)) => fp,
        Ok(Err(e)) => return Err(format!("{first}: {e}")),
        Err(_) => return Err(format!("{first}: unparseable unified diff")),
    };
    if fp.hunks.is_empty() {
        return Err(format!("{first}: no hunks"));
    }
    for (i, h) in fp.hunks.iter().enumerate() {
        if h.old_lines().count() != h.old_count || h.new_lines().count() != h.new_count {
            return Err(format!(
                "{}: hunk #{} ({}) has {} old and {} new lines, which does not match its header",
                fp.path(),
                i + 1,
                h.header(),
                h.old_lines().count(),
                h.new_lines().count()
            ));
        }
    }
    Ok(fp)
}

/// One entry of `patches/series`, resolved to its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesEntry {
    /// The file name as written in `series`.
    pub name: String,
    /// Its full path.
    pub path: PathBuf,
}

/// Reads `<patches_dir>/series`: one file name per line, `#` comments and blank
/// lines ignored. Every entry must exist.
///
/// ```
/// let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
/// let entries = vmi_upstream::series::read_series(&root.join("patches")).unwrap();
/// assert!(entries.iter().all(|e| e.path.exists()));
/// ```
pub fn read_series(patches_dir: &Path) -> Result<Vec<SeriesEntry>> {
    let series = patches_dir.join("series");
    let text =
        std::fs::read_to_string(&series).map_err(Error::io("reading the patch series", &series))?;
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let name = raw.trim();
        if name.is_empty() || name.starts_with('#') {
            continue;
        }
        let path = patches_dir.join(name);
        if name.contains('/') || name.contains('\\') || !path.is_file() {
            return Err(Error::MissingPatch {
                series: series.clone(),
                line: i + 1,
                name: name.to_string(),
                dir: patches_dir.to_path_buf(),
            });
        }
        out.push(SeriesEntry {
            name: name.to_string(),
            path,
        });
    }
    Ok(out)
}

/// Reads and parses every patch of the series, in order.
pub fn load_series(patches_dir: &Path) -> Result<Vec<PatchFile>> {
    read_series(patches_dir)?
        .iter()
        .map(|e| PatchFile::load(&e.path))
        .collect()
}
