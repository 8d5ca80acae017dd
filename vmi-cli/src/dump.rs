//! `vmi dump`: all of physical memory into a file, atomically.

use crate::error::CliError;
use crate::target::io_reason;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use libvmi::{AccessContext, Pa, Vmi, PAGE_SIZE};
use std::io::{BufWriter, IsTerminal, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

/// How much is read from LibVMI at a time.
const CHUNK: usize = 1 << 20;

/// What a dump wrote.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct DumpStats {
    /// Bytes written (the guest's physical address space).
    pub bytes: u64,
    /// Frames that could not be read and were written as zeros.
    pub unreadable_frames: u64,
}

/// The directory a new file `out` goes in (`.` for a bare file name).
///
/// ```
/// use std::path::Path;
/// use vmi_cli::dump::parent_dir;
/// assert_eq!(parent_dir(Path::new("mem.raw")), Path::new("."));
/// assert_eq!(parent_dir(Path::new("/tmp/x/mem.raw")), Path::new("/tmp/x"));
/// ```
#[must_use]
pub fn parent_dir(out: &Path) -> &Path {
    match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Write the guest's physical memory to `out`: into a temporary file in the same
/// directory, renamed to `out` only when complete, so `out` is never half-written and an
/// existing `out` survives a failure. The VM is paused meanwhile. Unreadable frames are
/// written as zeros. A progress bar is drawn on standard error if it is a terminal.
/// `interrupted` is polled: when set, the dump stops and the temporary file is removed.
pub fn dump(vmi: &Vmi, out: &Path, interrupted: &AtomicBool) -> Result<DumpStats, CliError> {
    let shown = out.display();
    if out.is_dir() {
        return Err(CliError::failed(format!(
            "cannot write {shown}: it is a directory; name the output file"
        )));
    }
    let dir = parent_dir(out);
    let name = out
        .file_name()
        .map_or_else(|| "dump".into(), |n| n.to_string_lossy().into_owned());
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".part")
        .tempfile_in(dir)
        .map_err(|e| {
            CliError::failed(format!(
                "cannot create {shown}: cannot create a file in {}: {}",
                dir.display(),
                io_reason(&e)
            ))
        })?;
    let write_err =
        |e: std::io::Error| CliError::failed(format!("cannot write {shown}: {}", io_reason(&e)));

    let paused = vmi.pause()?;
    let end = vmi.max_physical_address().0;
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::with_draw_target(Some(end), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] [{wide_bar}] {binary_bytes}/{binary_total_bytes} \
             ({binary_bytes_per_sec}, {eta})",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar
    } else {
        ProgressBar::hidden()
    };

    let mut writer = BufWriter::with_capacity(CHUNK, tmp.as_file());
    let mut buf = vec![0u8; CHUNK];
    let mut pa = 0u64;
    let mut unreadable = 0u64;
    while pa < end {
        if interrupted.load(Ordering::Relaxed) {
            bar.abandon();
            return Err(CliError::failed(format!(
                "interrupted: {shown} not written"
            )));
        }
        let n = usize::try_from(end - pa).map_or(CHUNK, |left| left.min(CHUNK));
        let done = vmi.read_partial(AccessContext::physical(Pa(pa)), &mut buf[..n])?;
        let valid = if done < n {
            // The frame at `pa + done` is unreadable: zeros up to its end, then go on.
            let frame_end = (pa + done as u64) / PAGE_SIZE * PAGE_SIZE + PAGE_SIZE;
            let upto = usize::try_from(frame_end - pa).map_or(n, |u| u.min(n));
            buf[done..upto].fill(0);
            unreadable += 1;
            upto
        } else {
            n
        };
        writer.write_all(&buf[..valid]).map_err(write_err)?;
        pa += valid as u64;
        bar.set_position(pa);
    }
    writer.flush().map_err(write_err)?;
    drop(writer);
    drop(paused);
    tmp.as_file().sync_all().map_err(write_err)?;
    tmp.persist(out).map_err(|e| write_err(e.error))?;
    bar.finish();
    Ok(DumpStats {
        bytes: end,
        unreadable_frames: unreadable,
    })
}
