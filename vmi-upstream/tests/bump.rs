//! `bump`, `continue`, `abort`, `edit`/`refresh` on synthetic upstream
//! repositories: a clean rebase, context shifted by unrelated upstream edits,
//! a real conflict, a patch upstream already merged, and a dirty workspace.

use std::path::{Path, PathBuf};

use git2::{Repository, Signature};
use vmi_upstream::bump::{Bump, Outcome};
use vmi_upstream::series::load_series;
use vmi_upstream::Pin;

const FILE: &str = "libvmi/libvmi.h";

struct Fixture {
    _tmp: tempfile::TempDir,
    up: PathBuf,
    up_repo: Repository,
    ws: PathBuf,
    cache: PathBuf,
}

fn commit(repo: &Repository, dir: &Path, files: &[(&str, &str)]) -> String {
    for (p, c) in files {
        let full = dir.join(p);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, c).unwrap();
    }
    let mut index = repo.index().unwrap();
    index
        .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
        .unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = Signature::now("t", "t@example.org").unwrap();
    let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let parents: Vec<_> = parent.iter().collect();
    repo.commit(Some("HEAD"), &sig, &sig, "c", &tree, &parents)
        .unwrap()
        .to_string()
}

fn lines(n: usize) -> String {
    (1..=n).map(|i| format!("int v{i};\n")).collect()
}

/// A patch adding `int x;` after `int v5;` (context v3..v7 around it).
fn patch_text(body: &str) -> String {
    format!(
        "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n\
         From: Dev <dev@example.org>\nSubject: [PATCH] Add x\n\n{body}\n---\n\n\
         diff --git a/{FILE} b/{FILE}\n--- a/{FILE}\n+++ b/{FILE}\n\
         @@ -3,5 +3,6 @@\n int v3;\n int v4;\n int v5;\n+int x;\n int v6;\n int v7;\n-- \n2.39.2\n"
    )
}

impl Fixture {
    /// Upstream with a base commit; workspace pinned to it with one patch.
    fn new() -> (Fixture, String) {
        let tmp = tempfile::tempdir().unwrap();
        let up = tmp.path().join("up");
        let up_repo = Repository::init(&up).unwrap();
        let base = commit(&up_repo, &up, &[(FILE, &lines(10))]);
        let ws = tmp.path().join("ws");
        std::fs::create_dir_all(ws.join("vendor")).unwrap();
        std::fs::create_dir_all(ws.join("patches")).unwrap();
        std::fs::write(
            ws.join("vendor/libvmi.toml"),
            Pin {
                url: format!("file://{}", up.display()),
                commit: base.clone(),
            }
            .render(),
        )
        .unwrap();
        std::fs::write(
            ws.join("patches/0001-Add-x.patch"),
            patch_text("Why: no flag can add x."),
        )
        .unwrap();
        std::fs::write(ws.join("patches/series"), "# series\n0001-Add-x.patch\n").unwrap();
        std::fs::write(
            ws.join("Cargo.toml"),
            format!("[package]\nversion = \"0.1.0+libvmi.{}\"\n", &base[..7]),
        )
        .unwrap();
        // The workspace is a git repository with everything committed.
        let ws_repo = Repository::init(&ws).unwrap();
        commit(&ws_repo, &ws, &[]);
        let cache = tmp.path().join("cache.git");
        let f = Fixture {
            _tmp: tmp,
            up,
            up_repo,
            ws,
            cache,
        };
        (f, base)
    }

    fn upstream_commit(&self, content: &str) -> String {
        commit(&self.up_repo, &self.up, &[(FILE, content)])
    }

    fn bump(&self, dry_run: bool) -> Bump {
        Bump {
            workspace_root: self.ws.clone(),
            cache: self.cache.clone(),
            state_dir: self.ws.join("target/upstream-work"),
            dry_run,
        }
    }

    fn pin(&self) -> Pin {
        Pin::load(&self.ws).unwrap()
    }

    fn patch(&self) -> String {
        std::fs::read_to_string(self.ws.join("patches/0001-Add-x.patch")).unwrap()
    }

    /// The series applied to the pin, as the build does it.
    fn built_file(&self) -> String {
        let out = self.ws.join("target/check");
        let _ = std::fs::remove_dir_all(&out);
        let p = vmi_upstream::prepare_with(&self.ws, &out, None, Some(&self.cache)).unwrap();
        std::fs::read_to_string(p.root.join(FILE)).unwrap()
    }
}

fn done(o: Outcome) -> vmi_upstream::bump::Report {
    match o {
        Outcome::Done(r) => r,
        Outcome::Conflict(c) => panic!("unexpected conflict: {c:?}"),
    }
}

#[test]
fn clean_rebase_updates_pin_patches_and_versions() {
    let (f, _) = Fixture::new();
    // Upstream appends lines far from the patch.
    let new = f.upstream_commit(&(lines(10) + "int tail;\n"));
    let r = done(f.bump(false).start(&new).unwrap());
    assert_eq!(r.applied, ["0001-Add-x.patch"]);
    assert!(r.written);
    assert_eq!(f.pin().commit, new);
    let cargo = std::fs::read_to_string(f.ws.join("Cargo.toml")).unwrap();
    assert!(cargo.contains(&format!("+libvmi.{}", &new[..7])), "{cargo}");
    let patch = f.patch();
    assert!(patch.contains("Why: no flag can add x."), "{patch}");
    assert!(
        !patch.contains("\nindex ") && !patch.contains("Date:"),
        "noise in: {patch}"
    );
    assert!(f.built_file().contains("int v5;\nint x;\nint v6;"));
    assert!(!f.ws.join("target/upstream-work").exists());
}

#[test]
fn context_shifted_by_unrelated_edits_is_carried() {
    let (f, _) = Fixture::new();
    let new = f.upstream_commit(&("// new header comment\n// two\n".to_string() + &lines(10)));
    let r = done(f.bump(false).start(&new).unwrap());
    assert_eq!(r.applied.len(), 1);
    assert!(f.patch().contains("@@ -5,6 +5,7 @@"), "{}", f.patch());
    assert!(f.built_file().starts_with("// new header comment\n"));
}

#[test]
fn branch_names_resolve_and_dry_run_writes_nothing() {
    let (f, base) = Fixture::new();
    f.upstream_commit(&(lines(10) + "int tail;\n"));
    let before = f.patch();
    let r = done(f.bump(true).start("master").unwrap());
    assert!(!r.written);
    assert_eq!(f.pin().commit, base);
    assert_eq!(f.patch(), before);
}

#[test]
fn already_merged_patch_is_dropped() {
    let (f, _) = Fixture::new();
    let merged = lines(10).replace("int v5;\n", "int v5;\nint x;\n");
    let new = f.upstream_commit(&merged);
    let r = done(f.bump(false).start(&new).unwrap());
    assert_eq!(r.dropped, ["0001-Add-x.patch"]);
    assert!(r.applied.is_empty());
    assert!(!f.ws.join("patches/0001-Add-x.patch").exists());
    assert!(load_series(&f.ws.join("patches")).unwrap().is_empty());
    assert_eq!(f.built_file(), merged);
}

#[test]
fn conflict_changes_nothing_then_continue_finishes() {
    let (f, base) = Fixture::new();
    let before = f.patch();
    // Upstream rewrites the very lines the patch touches.
    let new = f.upstream_commit(&lines(10).replace("int v5;\nint v6;\n", "long v5;\nlong v6;\n"));
    let c = match f.bump(false).start(&new).unwrap() {
        Outcome::Conflict(c) => c,
        Outcome::Done(r) => panic!("expected a conflict, got {r:?}"),
    };
    assert_eq!(c.patch, "0001-Add-x.patch");
    assert_eq!(c.files.len(), 1);
    assert_eq!(c.files[0].0, FILE);
    assert!(!c.files[0].1.is_empty(), "no conflict region reported");
    // Nothing in the workspace changed.
    assert_eq!(f.pin().commit, base);
    assert_eq!(f.patch(), before);
    let marked = std::fs::read_to_string(c.work_tree.join(FILE)).unwrap();
    assert!(marked.contains("<<<<<<<"), "{marked}");
    // Continue refuses while markers remain.
    assert!(f.bump(false).resume().is_err());
    // Resolve and continue.
    let resolved = lines(10).replace("int v5;\nint v6;\n", "long v5;\nint x;\nlong v6;\n");
    std::fs::write(c.work_tree.join(FILE), &resolved).unwrap();
    let r = done(f.bump(false).resume().unwrap());
    assert_eq!(r.applied, ["0001-Add-x.patch"]);
    assert_eq!(f.pin().commit, new);
    assert_eq!(f.built_file(), resolved);
}

#[test]
fn abort_leaves_workspace_untouched() {
    let (f, base) = Fixture::new();
    let new = f.upstream_commit(&lines(10).replace("int v5;\nint v6;\n", "long v5;\nlong v6;\n"));
    assert!(matches!(
        f.bump(false).start(&new).unwrap(),
        Outcome::Conflict(_)
    ));
    // A second bump while one is in progress is refused.
    assert!(f.bump(false).start(&new).is_err());
    f.bump(false).abort().unwrap();
    assert!(!f.ws.join("target/upstream-work").exists());
    assert_eq!(f.pin().commit, base);
}

#[test]
fn dirty_patches_dir_is_refused() {
    let (f, _) = Fixture::new();
    let new = f.upstream_commit(&(lines(10) + "int tail;\n"));
    std::fs::write(f.ws.join("patches/0001-Add-x.patch"), patch_text("edited")).unwrap();
    let err = f.bump(false).start(&new).unwrap_err().to_string();
    assert!(
        err.contains("uncommitted changes") && err.contains("patches/0001-Add-x.patch"),
        "{err}"
    );
}

#[test]
fn edit_then_refresh_rewrites_the_patch_from_code() {
    let (f, _) = Fixture::new();
    let state = f.ws.join("target/upstream-work");
    let tree = vmi_upstream::bump::edit(&f.ws, &f.cache, &state).unwrap();
    assert!(std::fs::read_to_string(tree.join(FILE))
        .unwrap()
        .contains("int x;"));
    // Change the patch by editing code and amending its commit.
    let repo = Repository::open(&tree).unwrap();
    std::fs::write(
        tree.join(FILE),
        lines(10).replace("int v5;\n", "int v5;\nint x, y;\n"),
    )
    .unwrap();
    let mut index = repo.index().unwrap();
    index.add_path(Path::new(FILE)).unwrap();
    index.write().unwrap();
    let t = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    let amended = head
        .amend(Some("HEAD"), None, None, None, None, Some(&t))
        .unwrap();
    // libgit2 does not copy notes on amend the way git does; carry the name as git would.
    let name = repo
        .find_note(Some(vmi_upstream::queue::NAMES_REF), head.id())
        .unwrap()
        .message()
        .unwrap()
        .to_string();
    let sig = Signature::now("t", "t@example.org").unwrap();
    repo.note(
        &sig,
        &sig,
        Some(vmi_upstream::queue::NAMES_REF),
        amended,
        &name,
        true,
    )
    .unwrap();
    let names = vmi_upstream::bump::refresh(&f.ws, &state).unwrap();
    assert_eq!(names, ["0001-Add-x.patch"]);
    assert!(f.patch().contains("+int x, y;"), "{}", f.patch());
    assert!(f.built_file().contains("int x, y;"));
}

#[test]
fn header_report_names_functions_constants_and_struct_sizes() {
    let (f, _) = Fixture::new();
    let with = |s: &str, e: &str, fun: &str| format!("{}{s}\n{e}\n{fun}\n", lines(10));
    let mid = f.upstream_commit(&with(
        "typedef struct { int a; } foo_t;",
        "enum e { E_A = 1, E_B };",
        "int vmi_old(int x);",
    ));
    done(f.bump(false).start(&mid).unwrap());
    commit(&Repository::open(&f.ws).unwrap(), &f.ws, &[]);
    let new = f.upstream_commit(&with(
        "typedef struct { int a; long b; } foo_t;",
        "enum e { E_A = 2, E_B, E_C };",
        "int vmi_new(long x);",
    ));
    let r = done(f.bump(false).start(&new).unwrap());
    let h = &r.header_changes;
    for needle in [
        "~ struct foo_t (definition changed, size 4 bytes -> 16 bytes)",
        "~ constant E_A (value changed)",
        "+ constant E_C",
        "+ function vmi_new",
        "- function vmi_old",
    ] {
        assert!(h.contains(needle), "{needle:?} missing from:\n{h}");
    }
}
