//! LibVMI writes its own diagnostics (`VMI_ERROR: ...`, `VMI_WARNING: ...`) straight to
//! file descriptor 2. The tool reports errors as one line, so while LibVMI initialises,
//! descriptor 2 points at a temporary file; the last message is kept to quote in an
//! error. `--verbose` lets them through instead.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// Captures what is written to descriptor 2 until dropped or [`Captured::finish`]ed.
pub struct Captured {
    saved: Option<OwnedFd>,
    file: Option<File>,
}

impl Captured {
    /// Start capturing descriptor 2 (or do nothing if that fails or `passthrough`).
    #[must_use]
    pub fn start(passthrough: bool) -> Captured {
        let none = Captured {
            saved: None,
            file: None,
        };
        if passthrough {
            return none;
        }
        let Ok(file) = tempfile::tempfile() else {
            return none;
        };
        // SAFETY: dup of descriptor 2 has no memory-safety preconditions; the result, if
        // valid, is a new descriptor owned by nobody else.
        let saved = unsafe { libc::dup(2) };
        if saved < 0 {
            return none;
        }
        // SAFETY: `saved` is a fresh descriptor we own.
        let saved = unsafe { OwnedFd::from_raw_fd(saved) };
        // SAFETY: both descriptors are open; dup2 replaces descriptor 2 atomically.
        if unsafe { libc::dup2(file.as_raw_fd(), 2) } < 0 {
            return none;
        }
        Captured {
            saved: Some(saved),
            file: Some(file),
        }
    }

    fn restore(&mut self) {
        if let Some(saved) = self.saved.take() {
            // SAFETY: `saved` is open (owned here); dup2 makes descriptor 2 a copy of it.
            unsafe { libc::dup2(saved.as_raw_fd(), 2) };
        }
    }

    /// Stop capturing; the last line written, without LibVMI's `VMI_ERROR: ` style prefix.
    pub fn finish(mut self) -> Option<String> {
        self.restore();
        let mut file = self.file.take()?;
        let mut text = String::new();
        file.seek(SeekFrom::Start(0)).ok()?;
        file.take(1 << 20).read_to_string(&mut text).ok()?;
        last_message(&text)
    }
}

impl Drop for Captured {
    fn drop(&mut self) {
        self.restore();
    }
}

/// The last non-empty line of `text`, without a `VMI_ERROR: `/`ERROR: `-style prefix.
///
/// ```
/// use vmi_cli::quiet::last_message;
/// let text = "VMI_WARNING: Looking for kernel PGD\nVMI_ERROR: Brute force search failed\n";
/// assert_eq!(last_message(text).as_deref(), Some("Brute force search failed"));
/// assert_eq!(last_message("\n  \n"), None);
/// ```
#[must_use]
pub fn last_message(text: &str) -> Option<String> {
    let line = text.lines().map(str::trim).rfind(|l| !l.is_empty())?;
    let line = ["VMI_ERROR:", "VMI_WARNING:", "ERROR:", "WARNING:"]
        .iter()
        .find_map(|p| line.strip_prefix(p))
        .unwrap_or(line)
        .trim_start_matches(['*', ' '])
        .trim();
    (!line.is_empty()).then(|| line.to_owned())
}
