//! The upstream cache: a bare git repository outside the source tree that git2
//! fills from the pinned URL (honouring `url.<base>.insteadOf` from the user's
//! git configuration) and from which the pinned tree is exported.
//!
//! Every object read from the cache is hash-checked by libgit2, so a cache
//! whose content does not match the pinned commit is refused, never built.

use std::fs::File;
use std::path::{Path, PathBuf};

use git2::{Oid, Repository};

use crate::{Error, Pin, Result};

/// Environment variable overriding the cache root.
pub const CACHE_ENV: &str = "TINYVMI_CACHE_DIR";

/// The root of TinyVMI's cache: `$TINYVMI_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/tinyvmi`, else `$HOME/.cache/tinyvmi`.
///
/// ```
/// let root = vmi_upstream::fetch::cache_root().unwrap();
/// assert!(root.is_absolute());
/// ```
pub fn cache_root() -> Result<PathBuf> {
    let from_env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(p) = from_env(CACHE_ENV) {
        return Ok(absolute(p));
    }
    if let Some(p) = from_env("XDG_CACHE_HOME") {
        return Ok(absolute(p).join("tinyvmi"));
    }
    if let Some(p) = from_env("HOME") {
        return Ok(absolute(p).join(".cache").join("tinyvmi"));
    }
    Err(Error::BadPin {
        file: PathBuf::from(CACHE_ENV),
        message: "no cache directory: set TINYVMI_CACHE_DIR (or HOME)".into(),
    })
}

fn absolute(p: PathBuf) -> PathBuf {
    std::path::absolute(&p).unwrap_or(p)
}

/// The bare repository holding upstream objects.
pub struct UpstreamCache {
    path: PathBuf,
    repo: Repository,
    _lock: File,
}

impl std::fmt::Debug for UpstreamCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamCache")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl UpstreamCache {
    /// Opens (creating if needed) the cache at the default location, taking an
    /// exclusive lock so concurrent builds do not fetch into it at once.
    pub fn open_default() -> Result<UpstreamCache> {
        UpstreamCache::open(&cache_root()?.join("upstream").join("libvmi.git"))
    }

    /// Opens (creating if needed) a cache repository at `path`, locked.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let cache = vmi_upstream::fetch::UpstreamCache::open(&dir.path().join("c.git")).unwrap();
    /// assert!(cache.path().join("HEAD").exists());
    /// ```
    pub fn open(path: &Path) -> Result<UpstreamCache> {
        std::fs::create_dir_all(path).map_err(Error::io("creating the cache", path))?;
        let lock_path = path.join("tinyvmi.lock");
        let lock = File::create(&lock_path).map_err(Error::io("creating", &lock_path))?;
        lock.lock().map_err(Error::io("locking", &lock_path))?;
        let repo = match Repository::open_bare(path) {
            Ok(r) => r,
            Err(_) => Repository::init_bare(path).map_err(Error::git(format!(
                "creating the cache repository {}",
                path.display()
            )))?,
        };
        Ok(UpstreamCache {
            path: path.to_path_buf(),
            repo,
            _lock: lock,
        })
    }

    /// The cache directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The underlying repository.
    pub fn repo(&self) -> &Repository {
        &self.repo
    }

    /// True when the cache already holds `commit` (then nothing is fetched).
    pub fn has_commit(&self, commit: &str) -> bool {
        Oid::from_str(commit)
            .ok()
            .is_some_and(|oid| self.repo.find_commit(oid).is_ok())
    }

    /// Makes sure the cache holds the pinned commit, fetching it from the pin's
    /// URL if not, and returns its id. No network access when it is cached.
    pub fn ensure(&self, pin: &Pin) -> Result<Oid> {
        let oid = Oid::from_str(&pin.commit).map_err(|e| Error::BadCommit {
            file: PathBuf::from("vendor/libvmi.toml"),
            value: format!("{} ({e})", pin.commit),
        })?;
        if !self.has_commit(&pin.commit) {
            self.fetch(&pin.url, &pin.commit)?;
        }
        let commit = self.repo.find_commit(oid).map_err(|e| Error::Fetch {
            url: pin.url.clone(),
            commit: pin.commit.clone(),
            reason: format!("the remote does not have that commit ({})", e.message()),
        })?;
        if commit.id() != oid {
            return Err(Error::Cache {
                path: self.path.clone(),
                reason: format!("asked for {oid}, got {}", commit.id()),
            });
        }
        // Keep the commit reachable so no gc ever drops it.
        self.repo
            .reference(
                &format!("refs/tinyvmi/pins/{oid}"),
                oid,
                true,
                "tinyvmi pin",
            )
            .map_err(Error::git("recording the pin in the cache"))?;
        Ok(oid)
    }

    /// Fetches `rev` (a commit SHA, branch or tag) from `url` into the cache and
    /// returns the commit it names. Used by the build (with the pinned SHA) and by
    /// `xtask upstream bump`.
    pub fn fetch(&self, url: &str, rev: &str) -> Result<Oid> {
        let fail = |reason: String| Error::Fetch {
            url: url.to_string(),
            commit: rev.to_string(),
            reason,
        };
        let mut remote = self
            .repo
            .remote_anonymous(url)
            .map_err(|e| fail(e.message().to_string()))?;
        // Everything upstream publishes: branches and tags. Fetching by SHA alone
        // depends on server settings; the full refs work everywhere and the mirror
        // is small (a few MB).
        let refspecs = [
            "+refs/heads/*:refs/remotes/upstream/*",
            "+refs/tags/*:refs/tags/*",
        ];
        let mut opts = git2::FetchOptions::new();
        opts.download_tags(git2::AutotagOption::All);
        remote
            .fetch(&refspecs, Some(&mut opts), Some("tinyvmi: fetch upstream"))
            .map_err(|e| fail(e.message().to_string()))?;
        self.resolve(rev)
            .ok_or_else(|| fail(format!("{url} has no commit, branch or tag named {rev}")))
    }

    /// Resolves a revision already in the cache: a full SHA, a branch of the
    /// upstream remote, or a tag.
    pub fn resolve(&self, rev: &str) -> Option<Oid> {
        let candidates = [
            rev.to_string(),
            format!("refs/remotes/upstream/{rev}"),
            format!("refs/tags/{rev}"),
        ];
        candidates.iter().find_map(|c| {
            self.repo
                .revparse_single(c)
                .ok()
                .and_then(|o| o.peel_to_commit().ok())
                .map(|c| c.id())
        })
    }

    /// Writes the tree of `commit` into `dest` (which must not exist yet).
    /// Every blob is hash-verified by libgit2 as it is read.
    pub fn export(&self, commit: Oid, dest: &Path) -> Result<()> {
        let damaged = |reason: String| Error::Cache {
            path: self.path.clone(),
            reason,
        };
        let tree = self
            .repo
            .find_commit(commit)
            .and_then(|c| c.tree())
            .map_err(|e| damaged(e.message().to_string()))?;
        std::fs::create_dir_all(dest).map_err(Error::io("creating", dest))?;
        let mut failure = None;
        tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
            let name = match entry.name() {
                Ok(n) => n,
                Err(_) => {
                    failure = Some(damaged(format!("non-UTF-8 file name in {dir}")));
                    return git2::TreeWalkResult::Abort;
                }
            };
            let path = dest.join(dir).join(name);
            let result = match entry.kind() {
                Some(git2::ObjectType::Tree) => {
                    std::fs::create_dir_all(&path).map_err(Error::io("creating", &path))
                }
                Some(git2::ObjectType::Blob) => self
                    .repo
                    .find_blob(entry.id())
                    .map_err(|e| damaged(format!("{dir}{name}: {}", e.message())))
                    .and_then(|blob| write_entry(&path, blob.content(), entry.filemode())),
                // Submodules are not part of LibVMI's build; nothing to write.
                _ => Ok(()),
            };
            match result {
                Ok(()) => git2::TreeWalkResult::Ok,
                Err(e) => {
                    failure = Some(e);
                    git2::TreeWalkResult::Abort
                }
            }
        })
        .map_err(|e| {
            failure
                .take()
                .unwrap_or_else(|| damaged(e.message().to_string()))
        })?;
        match failure {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

fn write_entry(path: &Path, content: &[u8], mode: i32) -> Result<()> {
    if mode == 0o120000 {
        let target = String::from_utf8_lossy(content).into_owned();
        return std::os::unix::fs::symlink(target, path)
            .map_err(Error::io("creating symlink", path));
    }
    std::fs::write(path, content).map_err(Error::io("writing", path))?;
    if mode == 0o100755 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
            .map_err(Error::io("chmod", path))?;
    }
    Ok(())
}
