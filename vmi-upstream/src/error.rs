//! The one error type of the upstream pipeline.
//!
//! Every message names the culprit (file, URL, commit, patch, hunk) and, where
//! there is one, the way out, because these errors end up as the only line a
//! user sees from a failed `cargo build`.

use std::path::PathBuf;

/// Everything that can go wrong between the pin and a patched source tree.
///
/// # Example
///
/// ```
/// use vmi_upstream::Error;
/// let e = Error::BadCommit { file: "vendor/libvmi.toml".into(), value: "82bbee6".into() };
/// assert!(e.to_string().contains("40 hexadecimal digits"));
/// ```
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done ("reading", "creating", ...).
        action: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The pin file is malformed.
    #[error("{}: {message}", file.display())]
    BadPin {
        /// The pin file.
        file: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The pinned commit is not a full SHA-1.
    #[error("{}: commit {value:?} is not a full commit SHA (40 hexadecimal digits); pin an exact upstream commit, e.g. commit = \"82bbee6c378da854d07887048b06dc4ee8e20d6a\"", file.display())]
    BadCommit {
        /// The pin file.
        file: PathBuf,
        /// The offending value.
        value: String,
    },
    /// Fetching from upstream failed.
    #[error("could not fetch LibVMI commit {commit} from {url}: {reason}\n  ways out: (1) allow network access to {url}; (2) point git at a mirror: git config --global url.\"file:///path/to/libvmi.git\".insteadOf {url}; (3) build from a local checkout of that commit: LIBVMI_SOURCE_DIR=/path/to/libvmi cargo build")]
    Fetch {
        /// The URL tried (before any `insteadOf` rewrite).
        url: String,
        /// The commit wanted.
        commit: String,
        /// What went wrong.
        reason: String,
    },
    /// The cache holds something other than the pinned commit, or a damaged object.
    #[error("the LibVMI cache at {} is damaged or tampered with ({reason}); it was not used. Delete it and build again: rm -rf {}", path.display(), path.display())]
    Cache {
        /// The cache directory.
        path: PathBuf,
        /// What was found.
        reason: String,
    },
    /// `LIBVMI_SOURCE_DIR` points at a git checkout of another commit.
    #[error("LIBVMI_SOURCE_DIR={} is a git checkout at {found}, but vendor/libvmi.toml pins {pinned}; check out the pinned commit there (git -C {} checkout {pinned}) or unset LIBVMI_SOURCE_DIR", path.display(), path.display())]
    WrongCheckout {
        /// The checkout.
        path: PathBuf,
        /// Its HEAD.
        found: String,
        /// The pinned commit.
        pinned: String,
    },
    /// `LIBVMI_SOURCE_DIR` does not look like a LibVMI source tree.
    #[error("LIBVMI_SOURCE_DIR={} is not a LibVMI source tree ({reason}); point it at a checkout of {url} at the pinned commit", path.display())]
    NotASourceTree {
        /// The directory.
        path: PathBuf,
        /// Why it was rejected.
        reason: String,
        /// The upstream URL.
        url: String,
    },
    /// A `series` entry names a file that is not there.
    #[error("{}: line {line}: patch file {name:?} does not exist in {}", series.display(), dir.display())]
    MissingPatch {
        /// The series file.
        series: PathBuf,
        /// Line number in the series file (1-based).
        line: usize,
        /// The missing file name.
        name: String,
        /// The patches directory.
        dir: PathBuf,
    },
    /// A patch file cannot be parsed.
    #[error("patch {}: malformed: {message}", patch.display())]
    MalformedPatch {
        /// The patch file.
        patch: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A hunk does not apply exactly.
    #[error("patch {}: hunk #{hunk} ({header}) of {file} does not apply: {reason}", patch.display())]
    HunkFailed {
        /// The patch file.
        patch: PathBuf,
        /// The file in the source tree.
        file: String,
        /// 1-based hunk number within that file.
        hunk: usize,
        /// The hunk header, e.g. `@@ -10,7 +10,8 @@`.
        header: String,
        /// Why it failed.
        reason: String,
    },
    /// A git operation failed.
    #[error("git: {context}: {source}")]
    Git {
        /// What was being done.
        context: String,
        /// The libgit2 error.
        #[source]
        source: git2::Error,
    },
}

impl Error {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io {
            action,
            path,
            source,
        }
    }

    pub(crate) fn git(context: impl Into<String>) -> impl FnOnce(git2::Error) -> Error {
        let context = context.into();
        move |source| Error::Git { context, source }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
