//! The pipeline against synthetic upstream repositories made in temp dirs:
//! fetch, cache reuse without network, exact patching, and every bad input
//! the build must turn into a one-line error.

use std::path::{Path, PathBuf};

use git2::{Repository, Signature};
use vmi_upstream::{prepare_with, Error};

struct Upstream {
    _dir: tempfile::TempDir,
    path: PathBuf,
    repo: Repository,
}

impl Upstream {
    fn new() -> Upstream {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("upstream");
        let repo = Repository::init(&path).unwrap();
        Upstream {
            _dir: dir,
            path,
            repo,
        }
    }

    /// Commits `files` (path, content) on top of HEAD and returns the SHA.
    fn commit(&self, files: &[(&str, &str)]) -> String {
        for (p, c) in files {
            let full = self.path.join(p);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, c).unwrap();
        }
        let mut index = self.repo.index().unwrap();
        index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .unwrap();
        index.write().unwrap();
        let tree = self.repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = Signature::now("t", "t@example.org").unwrap();
        let parent = self.repo.head().ok().and_then(|h| h.peel_to_commit().ok());
        let parents: Vec<_> = parent.iter().collect();
        self.repo
            .commit(Some("HEAD"), &sig, &sig, "c", &tree, &parents)
            .unwrap()
            .to_string()
    }

    fn url(&self) -> String {
        format!("file://{}", self.path.display())
    }
}

/// A workspace with a pin and a series.
fn workspace(url: &str, commit: &str, patches: &[(&str, &str)]) -> tempfile::TempDir {
    let ws = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(ws.path().join("vendor")).unwrap();
    std::fs::create_dir_all(ws.path().join("patches")).unwrap();
    std::fs::write(
        ws.path().join("vendor/libvmi.toml"),
        format!("url = \"{url}\"\ncommit = \"{commit}\"\n"),
    )
    .unwrap();
    let mut series = String::from("# test series\n");
    for (name, text) in patches {
        std::fs::write(ws.path().join("patches").join(name), text).unwrap();
        series.push_str(name);
        series.push('\n');
    }
    std::fs::write(ws.path().join("patches/series"), series).unwrap();
    ws
}

const HEADER: &str = "libvmi/libvmi.h";
const BASE: &str = "int a;\nint b;\nint c;\nint d;\n";

fn patch(old_ctx: &str) -> String {
    format!(
        "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n\
         Subject: [PATCH] add x\n\nWhy: no flag could do it.\n---\n libvmi/libvmi.h | 1 +\n\n\
         diff --git a/libvmi/libvmi.h b/libvmi/libvmi.h\n--- a/libvmi/libvmi.h\n+++ b/libvmi/libvmi.h\n\
         @@ -1,3 +1,4 @@\n {old_ctx}\n int b;\n+int x;\n int c;\n-- \n2.39.2\n"
    )
}

fn prep(ws: &Path, cache: &Path) -> Result<vmi_upstream::PreparedSource, Error> {
    prepare_with(ws, &ws.join("out/src"), None, Some(cache))
}

#[test]
fn fetches_patches_and_reuses_the_cache_offline() {
    let up = Upstream::new();
    let sha = up.commit(&[(HEADER, BASE)]);
    let ws = workspace(&up.url(), &sha, &[("0001-add-x.patch", &patch("int a;"))]);
    let cache = ws.path().join("cache.git");
    let out = prep(ws.path(), &cache).unwrap();
    assert_eq!(out.patches, ["0001-add-x.patch"]);
    assert_eq!(
        std::fs::read_to_string(out.root.join(HEADER)).unwrap(),
        "int a;\nint b;\nint x;\nint c;\nint d;\n"
    );
    // The cache stays pristine.
    let repo = Repository::open_bare(&cache).unwrap();
    let blob = repo
        .find_commit(git2::Oid::from_str(&sha).unwrap())
        .unwrap()
        .tree()
        .unwrap()
        .get_path(Path::new(HEADER))
        .unwrap()
        .to_object(&repo)
        .unwrap();
    assert_eq!(blob.as_blob().unwrap().content(), BASE.as_bytes());
    // Upstream gone: the second run needs no network.
    std::fs::remove_dir_all(&up.path).unwrap();
    let again = prep(ws.path(), &cache).unwrap();
    assert!(again.root.join(HEADER).exists());
}

#[test]
fn insteadof_in_git_config_redirects_the_fetch() {
    let up = Upstream::new();
    let sha = up.commit(&[(HEADER, BASE)]);
    let ws = workspace("https://example.invalid/libvmi/libvmi", &sha, &[]);
    let cache = ws.path().join("cache.git");
    let repo = Repository::init_bare(&cache).unwrap();
    repo.config()
        .unwrap()
        .set_str(
            &format!("url.{}.insteadOf", up.url()),
            "https://example.invalid/libvmi/libvmi",
        )
        .unwrap();
    drop(repo);
    prep(ws.path(), &cache).unwrap();
}

#[test]
fn unreachable_upstream_names_url_commit_and_ways_out() {
    let sha = "1111111111111111111111111111111111111111";
    let ws = workspace("file:///nonexistent/libvmi", sha, &[]);
    let err = prep(ws.path(), &ws.path().join("c.git"))
        .unwrap_err()
        .to_string();
    for needle in [
        "file:///nonexistent/libvmi",
        sha,
        "insteadOf",
        "LIBVMI_SOURCE_DIR",
    ] {
        assert!(err.contains(needle), "{needle:?} missing from: {err}");
    }
}

#[test]
fn commit_missing_upstream_is_reported() {
    let up = Upstream::new();
    up.commit(&[(HEADER, BASE)]);
    let wanted = "2222222222222222222222222222222222222222";
    let ws = workspace(&up.url(), wanted, &[]);
    let err = prep(ws.path(), &ws.path().join("c.git"))
        .unwrap_err()
        .to_string();
    assert!(err.contains(wanted) && err.contains("no commit"), "{err}");
}

#[test]
fn short_sha_pin_is_refused() {
    let ws = workspace("file:///x", "82bbee6", &[]);
    let err = prep(ws.path(), &ws.path().join("c.git")).unwrap_err();
    assert!(matches!(err, Error::BadCommit { .. }), "{err}");
    assert!(err.to_string().contains("82bbee6"));
}

#[test]
fn non_matching_hunk_names_patch_file_and_hunk() {
    let up = Upstream::new();
    let sha = up.commit(&[(HEADER, BASE)]);
    let ws = workspace(&up.url(), &sha, &[("0001-add-x.patch", &patch("int zzz;"))]);
    let err = prep(ws.path(), &ws.path().join("c.git")).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::HunkFailed { hunk: 1, .. }), "{msg}");
    for needle in ["0001-add-x.patch", HEADER, "@@ -1,3 +1,4 @@", "int zzz;"] {
        assert!(msg.contains(needle), "{needle:?} missing from: {msg}");
    }
}

#[test]
fn series_entry_without_file_is_named() {
    let up = Upstream::new();
    let sha = up.commit(&[(HEADER, BASE)]);
    let ws = workspace(&up.url(), &sha, &[]);
    std::fs::write(ws.path().join("patches/series"), "0009-gone.patch\n").unwrap();
    let err = prep(ws.path(), &ws.path().join("c.git"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("0009-gone.patch") && err.contains("line 1"),
        "{err}"
    );
}

#[test]
fn malformed_patch_is_named() {
    let up = Upstream::new();
    let sha = up.commit(&[(HEADER, BASE)]);
    let bad = "Subject: [PATCH] nothing\n\njust prose, no diff\n";
    let ws = workspace(&up.url(), &sha, &[("0001-bad.patch", bad)]);
    let err = prep(ws.path(), &ws.path().join("c.git"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("0001-bad.patch") && err.contains("malformed"),
        "{err}"
    );
    // A hunk whose header lies about its length.
    let lying = patch("int a;").replace("@@ -1,3 +1,4 @@", "@@ -1,5 +1,4 @@");
    let ws = workspace(&up.url(), &sha, &[("0002-lying.patch", &lying)]);
    let err = prep(ws.path(), &ws.path().join("c.git"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("0002-lying.patch"), "{err}");
}

#[test]
fn local_checkout_at_another_commit_stops_the_build() {
    let up = Upstream::new();
    let first = up.commit(&[(HEADER, BASE)]);
    let second = up.commit(&[(HEADER, "int changed;\n")]);
    let ws = workspace("file:///unused", &first, &[]);
    let err = prepare_with(ws.path(), &ws.path().join("out"), Some(&up.path), None).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::WrongCheckout { .. }), "{msg}");
    assert!(msg.contains(&second) && msg.contains(&first), "{msg}");
    // At the right commit it builds, and .git is not copied.
    let ws = workspace("file:///unused", &second, &[]);
    let out = prepare_with(ws.path(), &ws.path().join("out"), Some(&up.path), None).unwrap();
    assert!(out.root.join(HEADER).exists() && !out.root.join(".git").exists());
}

#[test]
fn tampered_cache_is_refused() {
    let up = Upstream::new();
    let sha = up.commit(&[(HEADER, BASE)]);
    let ws = workspace(&up.url(), &sha, &[]);
    // A cache holding upstream's objects as loose files (as a copied cache would).
    let cache = ws.path().join("c.git");
    Repository::init_bare(&cache).unwrap();
    copy_dir(&up.path.join(".git/objects"), &cache.join("objects"));
    prep(ws.path(), &cache).unwrap();
    // Overwrite the object file of libvmi.h with another blob's: its name now lies.
    let blob_id = up
        .repo
        .find_commit(git2::Oid::from_str(&sha).unwrap())
        .unwrap()
        .tree()
        .unwrap()
        .get_path(Path::new(HEADER))
        .unwrap()
        .id();
    let evil = up.repo.blob(b"int evil;\n").unwrap();
    let obj_path = |root: &Path, id: git2::Oid| {
        let hex = id.to_string();
        root.join(&hex[..2]).join(&hex[2..])
    };
    let target = obj_path(&cache.join("objects"), blob_id);
    std::fs::remove_file(&target).unwrap();
    std::fs::copy(obj_path(&up.path.join(".git/objects"), evil), &target).unwrap();
    std::fs::remove_dir_all(&up.path).unwrap();
    let err = prep(ws.path(), &cache).unwrap_err();
    assert!(matches!(err, Error::Cache { .. }), "{err}");
    assert!(err.to_string().contains("rm -rf"), "{err}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), dst).unwrap();
        }
    }
}
