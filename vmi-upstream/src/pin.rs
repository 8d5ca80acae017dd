//! The upstream pin: `vendor/libvmi.toml` holds the upstream URL and the full
//! commit SHA everything is built from.

use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// The pinned upstream: where it lives and exactly which commit.
///
/// # Example
///
/// ```
/// use vmi_upstream::Pin;
/// let pin = Pin::parse(
///     "url = \"https://github.com/libvmi/libvmi\"\ncommit = \"82bbee6c378da854d07887048b06dc4ee8e20d6a\"\n",
///     "vendor/libvmi.toml".as_ref(),
/// )
/// .unwrap();
/// assert_eq!(pin.short(), "82bbee6");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// The upstream repository URL, as written (mirrors come in through git's `insteadOf`).
    pub url: String,
    /// The full 40-hex-digit commit SHA, lower case.
    pub commit: String,
}

impl Pin {
    /// The pin file inside a workspace.
    ///
    /// ```
    /// use vmi_upstream::Pin;
    /// assert!(Pin::file_in("/ws".as_ref()).ends_with("vendor/libvmi.toml"));
    /// ```
    pub fn file_in(workspace_root: &Path) -> PathBuf {
        workspace_root.join("vendor").join("libvmi.toml")
    }

    /// Reads and validates the pin file of a workspace.
    ///
    /// ```
    /// let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    /// let pin = vmi_upstream::Pin::load(root).unwrap();
    /// assert_eq!(pin.commit.len(), 40);
    /// ```
    pub fn load(workspace_root: &Path) -> Result<Pin> {
        let file = Pin::file_in(workspace_root);
        let text = std::fs::read_to_string(&file).map_err(Error::io("reading the pin", &file))?;
        Pin::parse(&text, &file)
    }

    /// Parses the text of a pin file; `file` is only used in error messages.
    ///
    /// The format is a tiny TOML subset: `key = "value"` lines, `#` comments.
    ///
    /// ```
    /// use vmi_upstream::Pin;
    /// let err = Pin::parse("url = \"u\"\ncommit = \"abc\"\n", "p.toml".as_ref()).unwrap_err();
    /// assert!(err.to_string().contains("not a full commit SHA"));
    /// ```
    pub fn parse(text: &str, file: &Path) -> Result<Pin> {
        let bad = |message: String| Error::BadPin {
            file: file.to_path_buf(),
            message,
        };
        let (mut url, mut commit) = (None, None);
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (key, value) = line.split_once('=').ok_or_else(|| {
                bad(format!(
                    "line {}: expected `key = \"value\"`, found {raw:?}",
                    i + 1
                ))
            })?;
            let value = value.trim();
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .filter(|v| !v.contains('"'))
                .ok_or_else(|| {
                    bad(format!(
                        "line {}: the value of {} must be a quoted string",
                        i + 1,
                        key.trim()
                    ))
                })?;
            let slot = match key.trim() {
                "url" => &mut url,
                "commit" => &mut commit,
                other => {
                    return Err(bad(format!(
                        "line {}: unknown key {other:?} (expected url and commit)",
                        i + 1
                    )))
                }
            };
            if slot.replace(value.to_string()).is_some() {
                return Err(bad(format!("line {}: {} is set twice", i + 1, key.trim())));
            }
        }
        let url = url.ok_or_else(|| bad("no `url = \"...\"` line".into()))?;
        let commit = commit.ok_or_else(|| bad("no `commit = \"...\"` line".into()))?;
        if url.is_empty() {
            return Err(bad("url is empty".into()));
        }
        if !is_full_sha(&commit) {
            return Err(Error::BadCommit {
                file: file.to_path_buf(),
                value: commit,
            });
        }
        Ok(Pin {
            url,
            commit: commit.to_ascii_lowercase(),
        })
    }

    /// The first seven digits of the commit, as used in version metadata.
    ///
    /// ```
    /// # let pin = vmi_upstream::Pin { url: "u".into(), commit: "82bbee6c378da854d07887048b06dc4ee8e20d6a".into() };
    /// assert_eq!(pin.short(), "82bbee6");
    /// ```
    pub fn short(&self) -> &str {
        &self.commit[..7]
    }

    /// Renders the pin file, keeping a fixed comment header.
    ///
    /// ```
    /// # use vmi_upstream::Pin;
    /// # let pin = Pin { url: "https://github.com/libvmi/libvmi".into(), commit: "82bbee6c378da854d07887048b06dc4ee8e20d6a".into() };
    /// let text = pin.render();
    /// assert_eq!(Pin::parse(&text, "x".as_ref()).unwrap(), pin);
    /// ```
    pub fn render(&self) -> String {
        format!(
            "# The upstream pin: the only upstream LibVMI text this repository carries\n\
             # (together with patches/). Change it with `cargo xtask upstream bump <REV>`.\n\
             url = \"{}\"\ncommit = \"{}\"\n",
            self.url, self.commit
        )
    }
}

/// True when `s` is exactly 40 hexadecimal digits.
///
/// ```
/// assert!(vmi_upstream::pin::is_full_sha("82bbee6c378da854d07887048b06dc4ee8e20d6a"));
/// assert!(!vmi_upstream::pin::is_full_sha("82bbee6"));
/// ```
pub fn is_full_sha(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}
