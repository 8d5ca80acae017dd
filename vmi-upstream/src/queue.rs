//! The patch series as a queue of git commits, for upstream bumps and edits.
//!
//! A work repository (outside the source tree, objects borrowed from the cache
//! through git alternates) holds each patch of the series as one commit on top
//! of its upstream base. Bumping cherry-picks those commits onto the new
//! upstream with libgit2's real 3-way merge; a patch whose result is already
//! upstream is dropped; a conflict stops with markers in the work tree. Patch
//! files are rendered back from the commits, low-noise: no `index` lines, no
//! dates, stable names.

use std::path::{Path, PathBuf};

use git2::{Oid, Repository, Signature};

use crate::apply::apply_to_text;
use crate::series::PatchFile;
use crate::{Error, Result};

/// The notes ref that carries each commit's patch file name.
pub const NAMES_REF: &str = "refs/notes/tinyvmi-patch-names";

/// Who made a patch, and its message, as parsed from a patch header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchMessage {
    /// `Name <email>` of the author.
    pub author: (String, String),
    /// The subject line, without `[PATCH]`.
    pub subject: String,
    /// The body: why the patch exists and why nothing else would do.
    pub body: String,
}

impl PatchMessage {
    /// Parses the mail header of a `git format-patch` file.
    ///
    /// ```
    /// use vmi_upstream::queue::PatchMessage;
    /// let m = PatchMessage::parse("From 0 Mon Sep 17 00:00:00 2001\nFrom: A B <a@b>\nSubject: [PATCH 1/2] Fix x\n\nBecause.\n---\n f | 1 +\n");
    /// assert_eq!(m.subject, "Fix x");
    /// assert_eq!(m.author, ("A B".to_string(), "a@b".to_string()));
    /// assert_eq!(m.body, "Because.");
    /// ```
    pub fn parse(header: &str) -> PatchMessage {
        let mut author = ("TinyVMI".to_string(), "tinyvmi@invalid".to_string());
        let mut subject = String::new();
        let mut body = Vec::new();
        let mut lines = header.lines().peekable();
        let mut in_subject = false;
        // Mail headers until the first blank line.
        for line in lines.by_ref() {
            if line.is_empty() {
                break;
            }
            if in_subject && line.starts_with([' ', '\t']) {
                subject.push(' ');
                subject.push_str(line.trim());
                continue;
            }
            in_subject = false;
            if let Some(v) = line.strip_prefix("From: ") {
                if let Some((name, rest)) = v.split_once('<') {
                    author = (
                        name.trim().to_string(),
                        rest.trim_end_matches('>').trim().to_string(),
                    );
                }
            } else if let Some(v) = line.strip_prefix("Subject: ") {
                subject = v.to_string();
                in_subject = true;
            }
        }
        for line in lines {
            if line == "---" {
                break;
            }
            body.push(line);
        }
        while body.last().is_some_and(|l| l.trim().is_empty()) {
            body.pop();
        }
        let subject = match subject.strip_prefix('[') {
            Some(rest) if subject.starts_with("[PATCH") => rest
                .split_once(']')
                .map(|(_, s)| s.trim().to_string())
                .unwrap_or(subject.clone()),
            _ => subject.trim().to_string(),
        };
        PatchMessage {
            author,
            subject,
            body: body.join("\n"),
        }
    }

    /// The commit message: subject, blank line, body.
    pub fn commit_message(&self) -> String {
        if self.body.is_empty() {
            format!("{}\n", self.subject)
        } else {
            format!("{}\n\n{}\n", self.subject, self.body)
        }
    }
}

/// A work repository for the patch queue.
pub struct WorkRepo {
    dir: PathBuf,
    repo: Repository,
}

impl std::fmt::Debug for WorkRepo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkRepo")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl WorkRepo {
    /// Creates a fresh work repository at `dir` (which must not exist) whose
    /// objects come from the cache repository at `cache` (git alternates).
    pub fn create(dir: &Path, cache: &Path) -> Result<WorkRepo> {
        let repo =
            Repository::init(dir).map_err(Error::git(format!("creating {}", dir.display())))?;
        let alternates = repo.path().join("objects").join("info").join("alternates");
        std::fs::write(
            &alternates,
            format!("{}\n", cache.join("objects").display()),
        )
        .map_err(Error::io("writing", &alternates))?;
        let mut cfg = repo
            .config()
            .map_err(Error::git("opening the work repository config"))?;
        // Carry patch names across `git commit --amend` and `git rebase`.
        cfg.set_str("notes.rewriteRef", NAMES_REF)
            .map_err(Error::git("configuring notes"))?;
        cfg.set_str("notes.displayRef", NAMES_REF)
            .map_err(Error::git("configuring notes"))?;
        drop(cfg);
        // Reopen so the alternates are seen.
        WorkRepo::open(dir)
    }

    /// Opens an existing work repository.
    pub fn open(dir: &Path) -> Result<WorkRepo> {
        let repo =
            Repository::open(dir).map_err(Error::git(format!("opening {}", dir.display())))?;
        Ok(WorkRepo {
            dir: dir.to_path_buf(),
            repo,
        })
    }

    /// The work tree.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The repository.
    pub fn repo(&self) -> &Repository {
        &self.repo
    }

    /// Commits each patch of `series` on top of `base`, exactly as the build
    /// would apply it, and returns the commits in order.
    pub fn commit_series(&self, base: Oid, series: &[PatchFile]) -> Result<Vec<Oid>> {
        let mut parent = self
            .repo
            .find_commit(base)
            .map_err(Error::git(format!("finding base {base}")))?;
        let mut out = Vec::new();
        for patch in series {
            let tree =
                self.apply_to_tree(&parent.tree().map_err(Error::git("reading a tree"))?, patch)?;
            let msg = PatchMessage::parse(&patch.header);
            let sig = Signature::new(&msg.author.0, &msg.author.1, &git2::Time::new(0, 0))
                .map_err(Error::git("making a signature"))?;
            let oid = self
                .repo
                .commit(None, &sig, &sig, &msg.commit_message(), &tree, &[&parent])
                .map_err(Error::git(format!("committing {}", patch.name())))?;
            self.set_name(oid, &patch.name())?;
            parent = self
                .repo
                .find_commit(oid)
                .map_err(Error::git("reading a commit"))?;
            out.push(oid);
        }
        Ok(out)
    }

    fn apply_to_tree(&self, base: &git2::Tree<'_>, patch: &PatchFile) -> Result<git2::Tree<'_>> {
        let mut update = git2::build::TreeUpdateBuilder::new();
        for fp in &patch.files {
            let read = |p: &str| -> Result<Option<String>> {
                match base.get_path(Path::new(p)) {
                    Ok(entry) => {
                        let blob = self
                            .repo
                            .find_blob(entry.id())
                            .map_err(Error::git(format!("reading {p}")))?;
                        Ok(Some(String::from_utf8_lossy(blob.content()).into_owned()))
                    }
                    Err(_) => Ok(None),
                }
            };
            let original = match (&fp.old_path, &fp.new_path) {
                (Some(old), _) => read(old)?,
                (None, Some(new)) => read(new)?,
                (None, None) => None,
            };
            let new = apply_to_text(patch, fp, original.as_deref())?;
            if let Some(old) = &fp.old_path {
                if fp.new_path.as_deref() != Some(old.as_str()) {
                    update.remove(old);
                }
            }
            if let (Some(path), Some(text)) = (&fp.new_path, new) {
                let blob = self
                    .repo
                    .blob(text.as_bytes())
                    .map_err(Error::git("writing a blob"))?;
                update.upsert(path, blob, git2::FileMode::Blob);
            }
        }
        let oid = update
            .create_updated(&self.repo, base)
            .map_err(Error::git(format!("building the tree of {}", patch.name())))?;
        self.repo
            .find_tree(oid)
            .map_err(Error::git("reading a tree"))
    }

    /// Records the patch file name of a commit.
    pub fn set_name(&self, commit: Oid, name: &str) -> Result<()> {
        let sig = Signature::new("tinyvmi", "tinyvmi@invalid", &git2::Time::new(0, 0))
            .map_err(Error::git("signature"))?;
        self.repo
            .note(&sig, &sig, Some(NAMES_REF), commit, name, true)
            .map_err(Error::git("recording a patch name"))?;
        Ok(())
    }

    /// The patch file name recorded for a commit, if any.
    pub fn name_of(&self, commit: Oid) -> Option<String> {
        self.repo
            .find_note(Some(NAMES_REF), commit)
            .ok()
            .and_then(|n| n.message().ok().map(|m| m.trim().to_string()))
    }

    /// Cherry-picks `commit` onto `onto` with a 3-way merge.
    pub fn pick(&self, commit: Oid, onto: Oid) -> Result<Pick> {
        let c = self
            .repo
            .find_commit(commit)
            .map_err(Error::git("reading a commit"))?;
        let o = self
            .repo
            .find_commit(onto)
            .map_err(Error::git("reading a commit"))?;
        let mut index = self
            .repo
            .cherrypick_commit(&c, &o, 0, None)
            .map_err(Error::git(format!("cherry-picking {commit}")))?;
        if index.has_conflicts() {
            let mut files = Vec::new();
            for conflict in index.conflicts().map_err(Error::git("listing conflicts"))? {
                let conflict = conflict.map_err(Error::git("listing conflicts"))?;
                let entry = conflict.our.or(conflict.their).or(conflict.ancestor);
                if let Some(e) = entry {
                    files.push(String::from_utf8_lossy(&e.path).into_owned());
                }
            }
            files.sort();
            files.dedup();
            return Ok(Pick::Conflict { index, files });
        }
        let tree = index
            .write_tree_to(&self.repo)
            .map_err(Error::git("writing the merged tree"))?;
        if tree == o.tree_id() {
            return Ok(Pick::AlreadyUpstream);
        }
        let tree = self
            .repo
            .find_tree(tree)
            .map_err(Error::git("reading a tree"))?;
        let new = self
            .repo
            .commit(
                None,
                &c.author(),
                &c.committer(),
                c.message().unwrap_or(""),
                &tree,
                &[&o],
            )
            .map_err(Error::git("committing the picked patch"))?;
        if let Some(name) = self.name_of(commit) {
            self.set_name(new, &name)?;
        }
        Ok(Pick::Applied(new))
    }

    /// Writes a conflicted pick into the work tree: `onto` checked out, the
    /// conflicting files with merge markers, HEAD detached at `onto`.
    pub fn write_conflict(&self, onto: Oid, index: &mut git2::Index) -> Result<()> {
        let o = self
            .repo
            .find_object(onto, None)
            .map_err(Error::git("reading a commit"))?;
        self.repo
            .checkout_tree(
                &o,
                Some(
                    git2::build::CheckoutBuilder::new()
                        .force()
                        .remove_untracked(true),
                ),
            )
            .map_err(Error::git("checking out the new upstream"))?;
        self.repo
            .set_head_detached(onto)
            .map_err(Error::git("moving HEAD"))?;
        self.repo
            .checkout_index(
                Some(index),
                Some(
                    git2::build::CheckoutBuilder::new()
                        .force()
                        .allow_conflicts(true)
                        .conflict_style_merge(true),
                ),
            )
            .map_err(Error::git("writing conflict markers"))?;
        Ok(())
    }

    /// Commits the work tree (resolved by the user) on top of `onto` with the
    /// message and name of `original`. Refuses while conflict markers remain.
    pub fn commit_resolution(
        &self,
        original: Oid,
        onto: Oid,
        files: &[String],
    ) -> Result<Option<Oid>> {
        for f in files {
            let p = self.dir.join(f);
            if let Ok(text) = std::fs::read_to_string(&p) {
                if text
                    .lines()
                    .any(|l| l.starts_with("<<<<<<< ") || l.starts_with(">>>>>>> "))
                {
                    return Err(Error::HunkFailed {
                        patch: PathBuf::from(self.name_of(original).unwrap_or_default()),
                        file: f.clone(),
                        hunk: 0,
                        header: "conflict markers".into(),
                        reason: format!(
                            "{} still has conflict markers; resolve them, then continue",
                            p.display()
                        ),
                    });
                }
            }
        }
        let o = self
            .repo
            .find_commit(onto)
            .map_err(Error::git("reading a commit"))?;
        let c = self
            .repo
            .find_commit(original)
            .map_err(Error::git("reading a commit"))?;
        let mut index = self.repo.index().map_err(Error::git("opening the index"))?;
        index
            .read_tree(&o.tree().map_err(Error::git("reading a tree"))?)
            .map_err(Error::git("reading a tree"))?;
        index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .map_err(Error::git("staging the resolution"))?;
        index
            .update_all(["*"], None)
            .map_err(Error::git("staging the resolution"))?;
        let tree = index
            .write_tree()
            .map_err(Error::git("writing the resolved tree"))?;
        if tree == o.tree_id() {
            return Ok(None);
        }
        let tree = self
            .repo
            .find_tree(tree)
            .map_err(Error::git("reading a tree"))?;
        let new = self
            .repo
            .commit(
                None,
                &c.author(),
                &c.committer(),
                c.message().unwrap_or(""),
                &tree,
                &[&o],
            )
            .map_err(Error::git("committing the resolution"))?;
        if let Some(name) = self.name_of(original) {
            self.set_name(new, &name)?;
        }
        Ok(Some(new))
    }

    /// Renders a commit as a low-noise patch file.
    pub fn render(&self, commit: Oid) -> Result<String> {
        render_commit(&self.repo, commit)
    }
}

/// The outcome of cherry-picking one patch.
pub enum Pick {
    /// Applied cleanly; the new commit.
    Applied(Oid),
    /// The result equals the new upstream: upstream already contains the change.
    AlreadyUpstream,
    /// A 3-way conflict in these files.
    Conflict {
        /// The conflicted merge index (write it out with [`WorkRepo::write_conflict`]).
        index: git2::Index,
        /// The conflicting files.
        files: Vec<String>,
    },
}

/// The line ranges of conflict markers in a file's text: `(start, end)`, 1-based.
///
/// ```
/// let t = "a\n<<<<<<< ours\nb\n=======\nc\n>>>>>>> theirs\nd\n";
/// assert_eq!(vmi_upstream::queue::conflict_regions(t), vec![(2, 6)]);
/// ```
pub fn conflict_regions(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, line) in text.lines().enumerate() {
        if line.starts_with("<<<<<<<") {
            start = Some(i + 1);
        } else if line.starts_with(">>>>>>>") {
            if let Some(s) = start.take() {
                out.push((s, i + 1));
            }
        }
    }
    out
}

/// Renders `commit` (against its first parent) as a `git format-patch` style
/// file without noise: zero commit id, no date, no `index` lines.
pub fn render_commit(repo: &Repository, commit: Oid) -> Result<String> {
    let c = repo
        .find_commit(commit)
        .map_err(Error::git("reading a commit"))?;
    let parent = c.parent(0).map_err(Error::git("reading the parent"))?;
    let old = parent.tree().map_err(Error::git("reading a tree"))?;
    let new = c.tree().map_err(Error::git("reading a tree"))?;
    let mut opts = git2::DiffOptions::new();
    opts.context_lines(3);
    let diff = repo
        .diff_tree_to_tree(Some(&old), Some(&new), Some(&mut opts))
        .map_err(Error::git("diffing"))?;
    let stats = diff
        .stats()
        .and_then(|s| s.to_buf(git2::DiffStatsFormat::FULL, 72))
        .map_err(Error::git("diffstat"))?;
    let author = c.author();
    let message = c.message().unwrap_or("").trim_end();
    let (subject, body) = match message.split_once("\n\n") {
        Some((s, b)) => (s.replace('\n', " "), b.trim_end().to_string()),
        None => (message.replace('\n', " "), String::new()),
    };
    let mut out = format!(
        "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\nFrom: {} <{}>\nSubject: [PATCH] {}\n\n",
        author.name().unwrap_or("TinyVMI"),
        author.email().unwrap_or("tinyvmi@invalid"),
        subject
    );
    if !body.is_empty() {
        out.push_str(&body);
        out.push('\n');
    }
    out.push_str("---\n");
    out.push_str(&String::from_utf8_lossy(&stats));
    out.push('\n');
    let mut text = String::new();
    diff.print(git2::DiffFormat::Patch, |_, _, line| {
        let content = String::from_utf8_lossy(line.content());
        match line.origin() {
            '+' | '-' | ' ' => {
                text.push(line.origin());
                text.push_str(&content);
            }
            'F' => {
                for l in content.lines() {
                    if !l.starts_with("index ") {
                        text.push_str(l);
                        text.push('\n');
                    }
                }
            }
            '>' | '<' | '=' => text.push_str(&content),
            _ => text.push_str(&content),
        }
        true
    })
    .map_err(Error::git("printing the diff"))?;
    out.push_str(&text);
    out.push_str("-- \ntinyvmi\n");
    Ok(out)
}

/// A file name for a new patch: `NNNN-<subject-slug>.patch`.
///
/// ```
/// assert_eq!(vmi_upstream::queue::patch_file_name(3, "Fix: the x/y thing!"), "0003-Fix-the-x-y-thing.patch");
/// ```
pub fn patch_file_name(number: usize, subject: &str) -> String {
    let mut slug = String::new();
    for ch in subject.chars() {
        if ch.is_ascii_alphanumeric() || ch == '.' || ch == '_' {
            slug.push(ch);
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug: String = slug.trim_matches(['-', '.']).chars().take(52).collect();
    format!("{number:04}-{}.patch", slug.trim_end_matches('-'))
}
