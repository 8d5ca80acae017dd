//! The commands that inspect the guest: `info`, `ps`, `modules`, `sym`, `translate`, `read`.

use crate::cli::Format;
use crate::error::CliError;
use crate::output::{self, Align, Table};
use libvmi::{AccessContext, Error, OsType, Pa, Pid, Translation, Va, Vmi};
use serde::Serialize;
use std::io::Write;

/// How much `read` asks LibVMI for at a time.
const READ_CHUNK: usize = 1 << 20;

/// `0x`-prefixed lower-case hex, as the JSON output writes addresses (they do not fit a
/// JSON number exactly).
///
/// ```
/// assert_eq!(vmi_cli::commands::hex(0xffff_ffff_8200_0000), "0xffffffff82000000");
/// ```
#[must_use]
pub fn hex(v: u64) -> String {
    format!("{v:#x}")
}

fn to_json(out: &mut dyn Write, value: &impl Serialize) -> Result<(), CliError> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(|e| match e.io_error_kind() {
        Some(kind) => CliError::from(std::io::Error::from(kind)),
        None => CliError::failed(format!("cannot write JSON: {e}")),
    })?;
    writeln!(out)?;
    Ok(())
}

/// What `info --json` prints.
#[derive(Debug, Serialize)]
pub struct Info {
    /// `File` or `Xen`.
    pub mode: String,
    /// The image path or domain name.
    pub target: String,
    /// The OS type.
    pub os: String,
    /// The kernel banner (Linux) or version string (Windows).
    pub version: Option<String>,
    /// The paging mode of vCPU 0.
    pub page_mode: String,
    /// Pointer width in bytes.
    pub address_width: u8,
    /// Linux: the KASLR offset (hex).
    pub kaslr_offset: Option<String>,
    /// Guest memory in bytes.
    pub memory_size: u64,
    /// vCPUs (0 or 1 for images).
    pub vcpus: u32,
}

/// `vmi info`.
pub fn info(vmi: &Vmi, json: bool, out: &mut dyn Write) -> Result<(), CliError> {
    let os = vmi.os_type();
    let version = vmi.os_version();
    let kaslr = match os {
        OsType::Linux => vmi.offset("linux_kaslr").ok(),
        _ => None,
    };
    let info = Info {
        mode: vmi.mode().to_string(),
        target: vmi.name().unwrap_or_else(|_| vmi.domain().to_string()),
        os: os.to_string(),
        version: version.as_ref().ok().cloned(),
        page_mode: vmi.page_mode(0).to_string(),
        address_width: vmi.address_width(),
        kaslr_offset: kaslr.map(hex),
        memory_size: vmi.memory_size(),
        vcpus: vmi.vcpu_count(),
    };
    if json {
        return to_json(out, &info);
    }
    let version = match &version {
        Ok(v) => v.clone(),
        Err(e) => format!("unknown ({e})"),
    };
    let rows = [
        ("target", format!("{} ({})", info.target, info.mode)),
        ("os", info.os.clone()),
        ("version", version),
        ("page mode", info.page_mode.clone()),
        (
            "kaslr offset",
            info.kaslr_offset.clone().unwrap_or_else(|| "-".into()),
        ),
        ("memory", output::human_size(info.memory_size)),
        ("vcpus", info.vcpus.to_string()),
    ];
    for (k, v) in rows {
        writeln!(out, "{:<13} {v}", format!("{k}:"))?;
    }
    Ok(())
}

/// A row of `ps --json`.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct ProcessRow {
    /// The pid.
    pub pid: i32,
    /// `task_struct.comm`.
    pub name: String,
    /// The page table (hex), `null` for kernel threads.
    pub dtb: Option<String>,
    /// The address of its `task_struct` (hex).
    pub task: String,
}

fn linux(vmi: &Vmi) -> Result<libvmi::os::linux::Linux<'_>, CliError> {
    vmi.linux().map_err(|e| match e {
        Error::Unsupported { .. } => CliError::failed(format!(
            "process and module lists are only implemented for Linux guests (this one is {})",
            vmi.os_type()
        )),
        other => other.into(),
    })
}

/// `vmi ps`.
pub fn ps(vmi: &Vmi, json: bool, out: &mut dyn Write) -> Result<(), CliError> {
    let linux = linux(vmi)?;
    let mut rows = Vec::new();
    for p in linux.processes() {
        let p = p.map_err(|e| {
            CliError::from(e).context(format!(
                "walking the process list (after {} processes)",
                rows.len()
            ))
        })?;
        rows.push(ProcessRow {
            pid: p.pid.0,
            name: p.name,
            dtb: p.dtb.map(|d| hex(d.0)),
            task: hex(p.task.0),
        });
    }
    if json {
        return to_json(out, &rows);
    }
    let mut t = Table::new(&[
        ("PID", Align::Right),
        ("NAME", Align::Left),
        ("DTB", Align::Left),
    ]);
    for r in rows {
        t.row(vec![
            r.pid.to_string(),
            r.name,
            r.dtb.unwrap_or_else(|| "-".into()),
        ]);
    }
    out.write_all(t.render(output::stdout_colour()).as_bytes())?;
    Ok(())
}

/// A row of `modules --json`.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct ModuleRow {
    /// The module's name.
    pub name: String,
    /// The address of its `struct module` (hex).
    pub address: String,
}

/// `vmi modules`.
pub fn modules(vmi: &Vmi, json: bool, out: &mut dyn Write) -> Result<(), CliError> {
    let linux = linux(vmi)?;
    let mut rows = Vec::new();
    for m in linux.modules() {
        let m = m.map_err(|e| {
            CliError::from(e).context(format!(
                "walking the module list (after {} modules)",
                rows.len()
            ))
        })?;
        rows.push(ModuleRow {
            name: m.name,
            address: hex(m.address.0),
        });
    }
    if json {
        return to_json(out, &rows);
    }
    let mut t = Table::new(&[("NAME", Align::Left), ("ADDRESS", Align::Left)]);
    for r in rows {
        t.row(vec![r.name, r.address]);
    }
    out.write_all(t.render(output::stdout_colour()).as_bytes())?;
    Ok(())
}

/// `vmi sym NAME` (the symbol's address) or `vmi sym 0xADDRESS` (the symbol there).
pub fn sym(vmi: &Vmi, name: &str, out: &mut dyn Write) -> Result<(), CliError> {
    if name.starts_with("0x") || name.starts_with("0X") {
        // Symbols never start with 0x: this is an address.
        let va = crate::parse::parse_u64(name).map_err(CliError::usage)?;
        let symbol = vmi.translate_v2ksym(Va(va)).map_err(|e| match e {
            Error::NoSymbolAt { .. } => CliError::failed(format!(
                "no kernel symbol starts at {va:#x} (a reverse lookup matches a symbol's first byte only)"
            )),
            other => other.into(),
        })?;
        writeln!(out, "{symbol}")?;
        return Ok(());
    }
    let va = vmi.translate_ksym2v(name).map_err(|e| match e {
        Error::Symbol { .. } => CliError::failed(format!(
            "{e} (in the System.map or profile of the configuration)"
        )),
        other => other.into(),
    })?;
    writeln!(out, "{va}")?;
    Ok(())
}

/// The address space `--pid` selects: the kernel's for none or 0; for Linux the process's
/// page table, found by the bounded walk of the `libvmi` crate.
pub fn address_space(vmi: &Vmi, pid: Option<Pid>) -> Result<Translation, CliError> {
    let pid = match pid {
        None => return Ok(Translation::Kernel),
        Some(p) if p.is_kernel() => return Ok(Translation::Kernel),
        Some(p) => p,
    };
    if vmi.os_type() != OsType::Linux {
        return Ok(Translation::Pid(pid));
    }
    let process = linux(vmi)?.process(pid).map_err(|e| match e {
        Error::Pid { .. } => {
            CliError::failed(format!("no process with pid {pid}: `vmi ps` lists them"))
        }
        other => CliError::from(other).context(format!("looking for pid {pid}")),
    })?;
    match process.dtb {
        Some(dtb) => Ok(Translation::Dtb(dtb)),
        None => Err(CliError::failed(format!(
            "pid {pid} ({}) is a kernel thread: it has no user address space; omit --pid for \
             kernel addresses",
            process.name
        ))),
    }
}

/// `vmi translate VA [--pid PID]`.
pub fn translate(
    vmi: &Vmi,
    va: u64,
    pid: Option<Pid>,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let via = address_space(vmi, pid)?;
    let pa = vmi.translate(AccessContext::Virtual(Va(va), via))?;
    writeln!(out, "{pa}")?;
    Ok(())
}

/// Where `vmi read` reads.
pub fn read_context(
    vmi: &Vmi,
    addr: u64,
    pid: Option<Pid>,
    physical: bool,
) -> Result<AccessContext, CliError> {
    if physical {
        return Ok(AccessContext::physical(Pa(addr)));
    }
    Ok(AccessContext::Virtual(Va(addr), address_space(vmi, pid)?))
}

/// `vmi read`: `len` bytes at `ctx`, printed in `format`, read in chunks so that output
/// starts at once. A failure names the first unreadable address and how much was read.
pub fn read(
    vmi: &Vmi,
    ctx: AccessContext,
    len: usize,
    format: Format,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let mut buf = vec![0u8; len.min(READ_CHUNK)];
    let mut off = 0usize;
    let mut text = Vec::new();
    while off < len {
        let n = (len - off).min(buf.len());
        let at = ctx + off as u64;
        let done = vmi.read_partial(at, &mut buf[..n])?;
        let chunk = &buf[..done];
        let finished = match format {
            Format::Hex => {
                output::hex_dump(out, at.address(), chunk)?;
                false
            }
            Format::Raw => {
                out.write_all(chunk)?;
                false
            }
            Format::String => match chunk.iter().position(|&b| b == 0) {
                Some(nul) => {
                    text.extend_from_slice(&chunk[..nul]);
                    true
                }
                None => {
                    text.extend_from_slice(chunk);
                    false
                }
            },
        };
        if finished {
            break;
        }
        if done < n {
            if format == Format::String {
                write_text(out, &text)?;
            }
            let bad = ctx + (off + done) as u64;
            return Err(CliError::failed(format!(
                "cannot read {bad}: not mapped or outside guest memory ({} of {len} bytes read)",
                off + done
            )));
        }
        off += n;
    }
    if format == Format::String {
        write_text(out, &text)?;
    }
    Ok(())
}

/// Text read from the guest as a line: lossy UTF-8, a newline added unless it ends in one.
fn write_text(out: &mut dyn Write, text: &[u8]) -> Result<(), CliError> {
    out.write_all(String::from_utf8_lossy(text).as_bytes())?;
    if !text.ends_with(b"\n") {
        writeln!(out)?;
    }
    Ok(())
}
