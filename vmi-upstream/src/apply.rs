//! Exact application of a parsed patch to a source tree: every hunk must match
//! at the very lines its header names. No offset search, no fuzz: a patch that
//! needs either must be refreshed (`cargo xtask upstream bump`), not guessed at.

use std::path::Path;

use crate::series::{FilePatch, Hunk, PatchFile};
use crate::{Error, Result};

/// Applies `patch` to the tree rooted at `root`, in place.
///
/// All files are checked before any is written, so a failing patch leaves the
/// tree as it was.
///
/// ```
/// use vmi_upstream::{apply::apply_patch, series::PatchFile};
/// let dir = tempfile::tempdir().unwrap();
/// std::fs::write(dir.path().join("a.c"), "one\nthree\n").unwrap();
/// let p = PatchFile::parse("diff --git a/a.c b/a.c\n--- a/a.c\n+++ b/a.c\n@@ -1,2 +1,3 @@\n one\n+two\n three\n", "0001.patch".as_ref()).unwrap();
/// apply_patch(&p, dir.path()).unwrap();
/// assert_eq!(std::fs::read_to_string(dir.path().join("a.c")).unwrap(), "one\ntwo\nthree\n");
/// ```
pub fn apply_patch(patch: &PatchFile, root: &Path) -> Result<()> {
    let mut results = Vec::with_capacity(patch.files.len());
    for fp in &patch.files {
        results.push((fp, apply_file(patch, fp, root)?));
    }
    for (fp, new) in results {
        if let Some(old) = &fp.old_path {
            if fp.new_path.as_deref() != Some(old.as_str()) {
                let p = root.join(old);
                std::fs::remove_file(&p).map_err(Error::io("removing", &p))?;
            }
        }
        if let (Some(path), Some(text)) = (&fp.new_path, new) {
            let p = root.join(path);
            if let Some(dir) = p.parent() {
                std::fs::create_dir_all(dir).map_err(Error::io("creating", dir))?;
            }
            std::fs::write(&p, text).map_err(Error::io("writing", &p))?;
        }
    }
    Ok(())
}

fn check_relative(patch: &PatchFile, p: &str) -> Result<()> {
    let path = Path::new(p);
    if path.is_absolute()
        || path
            .components()
            .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        return Err(Error::MalformedPatch {
            patch: patch.path.clone(),
            message: format!("path {p:?} leaves the source tree"),
        });
    }
    Ok(())
}

/// Computes the new content of one file (or `None` for a deletion).
fn apply_file(patch: &PatchFile, fp: &FilePatch, root: &Path) -> Result<Option<String>> {
    for p in fp.old_path.iter().chain(fp.new_path.iter()) {
        check_relative(patch, p)?;
    }
    let original = match &fp.old_path {
        Some(old) => {
            let p = root.join(old);
            match std::fs::read_to_string(&p) {
                Ok(t) => Some(t),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(Error::io("reading", p)(e)),
            }
        }
        None => match &fp.new_path {
            Some(new) if root.join(new).exists() => Some(String::new()),
            _ => None,
        },
    };
    apply_to_text(patch, fp, original.as_deref())
}

/// Applies the hunks of one file's change to `original` (the file's current
/// text, `None` when it does not exist) and returns the new text, or `None`
/// when the change deletes the file.
///
/// ```
/// use vmi_upstream::{apply::apply_to_text, series::PatchFile};
/// let p = PatchFile::parse("diff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+b\n", "p".as_ref()).unwrap();
/// assert_eq!(apply_to_text(&p, &p.files[0], Some("a\n")).unwrap().as_deref(), Some("b\n"));
/// assert!(apply_to_text(&p, &p.files[0], Some("c\n")).is_err());
/// ```
pub fn apply_to_text(
    patch: &PatchFile,
    fp: &FilePatch,
    original: Option<&str>,
) -> Result<Option<String>> {
    let fail = |hunk: usize, h: &Hunk, reason: String| Error::HunkFailed {
        patch: patch.path.clone(),
        file: fp.path().to_string(),
        hunk,
        header: h.header(),
        reason,
    };
    let original = match (&fp.old_path, original) {
        (Some(_), Some(t)) => t,
        (Some(_), None) => {
            return Err(fail(
                1,
                &fp.hunks[0],
                "the file does not exist in the source tree".into(),
            ))
        }
        (None, Some(_)) => {
            return Err(fail(
                1,
                &fp.hunks[0],
                "the patch creates the file, but it already exists".into(),
            ))
        }
        (None, None) => "",
    };
    let had_newline = original.is_empty() || original.ends_with('\n');
    let lines: Vec<&str> = if original.is_empty() {
        Vec::new()
    } else {
        original
            .strip_suffix('\n')
            .unwrap_or(original)
            .split('\n')
            .collect()
    };
    let mut out: Vec<&str> = Vec::with_capacity(lines.len() + 16);
    let mut cursor = 0usize;
    let mut touches_end = false;
    for (i, h) in fp.hunks.iter().enumerate() {
        // For an empty old range, the header names the line *after which* to insert.
        let at = if h.old_count == 0 {
            h.old_start
        } else {
            h.old_start.saturating_sub(1)
        };
        if at < cursor {
            return Err(fail(i + 1, h, "hunks overlap or are out of order".into()));
        }
        if at + h.old_count > lines.len() {
            return Err(fail(
                i + 1,
                h,
                format!(
                    "it needs lines {}..{} but the file has {} lines",
                    at + 1,
                    at + h.old_count,
                    lines.len()
                ),
            ));
        }
        for (k, want) in h.old_lines().enumerate() {
            let have = lines[at + k];
            if have != want {
                return Err(fail(
                    i + 1,
                    h,
                    format!(
                        "line {} is {:?}, the patch expects {:?}",
                        at + k + 1,
                        have,
                        want
                    ),
                ));
            }
        }
        out.extend_from_slice(&lines[cursor..at]);
        out.extend(h.new_lines());
        cursor = at + h.old_count;
        touches_end = cursor == lines.len();
    }
    out.extend_from_slice(&lines[cursor..]);
    if fp.new_path.is_none() {
        if !out.is_empty() {
            let last = fp.hunks.len();
            return Err(fail(
                last,
                &fp.hunks[last - 1],
                "deleting the file would drop lines the patch does not list".into(),
            ));
        }
        return Ok(None);
    }
    let end_newline = if touches_end {
        fp.end_newline
    } else {
        had_newline
    };
    let mut text = out.join("\n");
    if end_newline && !out.is_empty() {
        text.push('\n');
    }
    Ok(Some(text))
}

/// Applies a whole series in order, stopping at the first failure.
pub fn apply_series(patches: &[PatchFile], root: &Path) -> Result<()> {
    patches.iter().try_for_each(|p| apply_patch(p, root))
}
