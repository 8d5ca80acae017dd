//! The upstream LibVMI pipeline, shared by `libvmi-sys`'s build script and the
//! `xtask` bump tool so that the two can never disagree about what the pin or a
//! patch means:
//!
//! pin (`vendor/libvmi.toml`) → git2 fetch into a verified cache
//! → export the pinned tree into `OUT_DIR` → apply `patches/series` exactly.
//!
//! # Environment
//!
//! | variable | effect |
//! |---|---|
//! | `LIBVMI_SOURCE_DIR` | build from this local checkout instead of the cache; a git checkout must be at the pinned commit |
//! | `TINYVMI_CACHE_DIR` | cache root (default `$XDG_CACHE_HOME/tinyvmi`, else `~/.cache/tinyvmi`) |
//!
//! # Example
//!
//! ```no_run
//! // In a build script:
//! let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
//! let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
//! let src = vmi_upstream::prepare_source(root, &out).unwrap_or_else(|e| {
//!     eprintln!("error: {e}");
//!     std::process::exit(1)
//! });
//! assert!(src.join("libvmi/libvmi.h").exists());
//! ```

pub mod apply;
pub mod bump;
mod error;
pub mod fetch;
pub mod pin;
pub mod queue;
pub mod series;

use std::path::{Path, PathBuf};

pub use error::{Error, Result};
pub use pin::Pin;

/// Environment variable naming a local LibVMI checkout to build from.
pub const SOURCE_DIR_ENV: &str = "LIBVMI_SOURCE_DIR";

/// Where the pristine upstream tree comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Exported from the git2 cache at the pinned commit.
    Cache(PathBuf),
    /// Copied from `LIBVMI_SOURCE_DIR`.
    LocalDir(PathBuf),
}

/// A patched source tree ready to compile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedSource {
    /// The root of the patched tree (it contains `libvmi/`).
    pub root: PathBuf,
    /// The pin it was made from.
    pub pin: Pin,
    /// Where the pristine tree came from.
    pub origin: Origin,
    /// The patches applied, in order.
    pub patches: Vec<String>,
}

/// Build-script entry point: prepares the patched source under `out_dir` and
/// prints the `cargo:rerun-if-*` lines for every input it reads. Returns the
/// root of the patched tree.
pub fn prepare_source(workspace_root: &Path, out_dir: &Path) -> Result<PathBuf> {
    for var in [SOURCE_DIR_ENV, fetch::CACHE_ENV, "XDG_CACHE_HOME", "HOME"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    println!(
        "cargo:rerun-if-changed={}",
        Pin::file_in(workspace_root).display()
    );
    println!(
        "cargo:rerun-if-changed={}",
        workspace_root.join("patches").display()
    );
    let local = std::env::var_os(SOURCE_DIR_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    if let Some(dir) = &local {
        println!("cargo:rerun-if-changed={}", dir.display());
    }
    prepare(
        workspace_root,
        &out_dir.join("libvmi-src"),
        local.as_deref(),
    )
    .map(|p| p.root)
}

/// Prepares the patched source at `dest` (replacing what is there), from
/// `local` if given, else from the cache. Prints nothing.
pub fn prepare(workspace_root: &Path, dest: &Path, local: Option<&Path>) -> Result<PreparedSource> {
    let cache = match local {
        Some(_) => None,
        None => Some(fetch::cache_root()?.join("upstream").join("libvmi.git")),
    };
    prepare_with(workspace_root, dest, local, cache.as_deref())
}

/// Like [`prepare`], with an explicit cache repository (used when `local` is `None`).
///
/// ```no_run
/// let ws = std::path::Path::new(".");
/// vmi_upstream::prepare_with(ws, "/tmp/src".as_ref(), None, Some("/tmp/cache.git".as_ref())).unwrap();
/// ```
pub fn prepare_with(
    workspace_root: &Path,
    dest: &Path,
    local: Option<&Path>,
    cache: Option<&Path>,
) -> Result<PreparedSource> {
    let pin = Pin::load(workspace_root)?;
    let patches = series::load_series(&workspace_root.join("patches"))?;
    if dest.exists() {
        std::fs::remove_dir_all(dest).map_err(Error::io("removing the old source copy", dest))?;
    }
    let origin = match local {
        Some(dir) => {
            check_local_checkout(dir, &pin)?;
            copy_tree(dir, dest)?;
            Origin::LocalDir(dir.to_path_buf())
        }
        None => {
            let cache_path = match cache {
                Some(p) => p.to_path_buf(),
                None => fetch::cache_root()?.join("upstream").join("libvmi.git"),
            };
            let cache = fetch::UpstreamCache::open(&cache_path)?;
            let oid = cache.ensure(&pin)?;
            cache.export(oid, dest)?;
            Origin::Cache(cache.path().to_path_buf())
        }
    };
    apply::apply_series(&patches, dest)?;
    Ok(PreparedSource {
        root: dest.to_path_buf(),
        pin,
        origin,
        patches: patches.iter().map(|p| p.name()).collect(),
    })
}

/// Refuses a `LIBVMI_SOURCE_DIR` that is not a LibVMI tree, or a git checkout at
/// another commit than the pin.
pub fn check_local_checkout(dir: &Path, pin: &Pin) -> Result<()> {
    let not_tree = |reason: &str| Error::NotASourceTree {
        path: dir.to_path_buf(),
        reason: reason.to_string(),
        url: pin.url.clone(),
    };
    if !dir.is_dir() {
        return Err(not_tree("no such directory"));
    }
    if !dir.join("libvmi").join("libvmi.h").is_file() {
        return Err(not_tree("libvmi/libvmi.h is missing"));
    }
    if dir.join(".git").exists() {
        let repo = git2::Repository::open(dir)
            .map_err(Error::git(format!("opening {}", dir.display())))?;
        let head = repo
            .head()
            .and_then(|h| h.peel_to_commit())
            .map_err(Error::git(format!("reading HEAD of {}", dir.display())))?;
        if head.id().to_string() != pin.commit {
            return Err(Error::WrongCheckout {
                path: dir.to_path_buf(),
                found: head.id().to_string(),
                pinned: pin.commit.clone(),
            });
        }
    }
    Ok(())
}

/// Copies a directory tree, skipping `.git`.
fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).map_err(Error::io("creating", to))?;
    let entries = std::fs::read_dir(from).map_err(Error::io("reading", from))?;
    for entry in entries {
        let entry = entry.map_err(Error::io("reading", from))?;
        let name = entry.file_name();
        if name == ".git" {
            continue;
        }
        let src = entry.path();
        let dst = to.join(&name);
        let ty = entry.file_type().map_err(Error::io("reading", &src))?;
        if ty.is_dir() {
            copy_tree(&src, &dst)?;
        } else if ty.is_symlink() {
            let target = std::fs::read_link(&src).map_err(Error::io("reading link", &src))?;
            std::os::unix::fs::symlink(target, &dst)
                .map_err(Error::io("creating symlink", &dst))?;
        } else {
            std::fs::copy(&src, &dst).map_err(Error::io("copying", &src))?;
        }
    }
    Ok(())
}
