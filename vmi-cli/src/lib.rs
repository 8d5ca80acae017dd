//! # vmi-cli — the `vmi` command
//!
//! What an analyst types to introspect a Xen domain or a raw memory image, built on the
//! [`libvmi`] crate:
//!
//! ```text
//! vmi --image mem.raw --config libvmi.conf info
//! vmi --image mem.raw ps --json
//! vmi --domain debian modules
//! vmi --image mem.raw read 0xffffffff82000200 128 --pid 1
//! vmi --image mem.raw dump copy.raw
//! vmi --domain debian watch --count 10
//! ```
//!
//! Exit status: 0 success, 1 introspection failed, 2 usage error. Errors are one line on
//! standard error naming the cause and, where there is one, the fix.
//!
//! The binary (`src/main.rs`) only parses the command line and reports; everything else
//! is here:
//!
//! | module | what |
//! |---|---|
//! | [`cli`] | the command line (clap) |
//! | [`parse`] | numbers, lengths, pids, domains |
//! | [`conf`] | picking the entry of a `--config` file |
//! | [`target`] | opening the image or domain as far as a command needs |
//! | [`commands`] | `info`, `ps`, `modules`, `sym`, `translate`, `read` |
//! | [`dump`] | `dump` (atomic, with a progress bar) |
//! | [`watch`] | `watch` (Xen events) |
//! | [`output`] | tables, hex dumps, colour |
//! | [`quiet`] | keeping LibVMI's own messages off standard error |
//! | [`error`] | the one-line errors and exit codes |

#![warn(missing_docs)]

pub mod cli;
pub mod commands;
pub mod conf;
pub mod dump;
pub mod error;
pub mod output;
pub mod parse;
pub mod quiet;
pub mod target;
pub mod watch;

use crate::cli::{Cli, Command};
use crate::error::CliError;
use crate::target::Need;
use clap::CommandFactory;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Set by the Ctrl-C handler that `dump` and `watch` install.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Make Ctrl-C set [`INTERRUPTED`] instead of killing the process, so that a dump removes
/// its temporary file and a watch clears its events. Only the long-running commands do
/// this, after LibVMI is initialised.
fn catch_ctrl_c() {
    // Failing to install (already installed) leaves the default: being killed.
    let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::Relaxed));
}

/// Run the command `cli` asks for, writing its output to `out`. Progress and notes go to
/// standard error.
pub fn run(cli: Cli, out: &mut dyn Write) -> Result<(), CliError> {
    let t = &cli.target;
    match cli.command {
        Command::Completions { shell } => {
            // Generated into memory: clap_complete panics on write errors.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "vmi", &mut script);
            out.write_all(&script)?;
            Ok(())
        }
        Command::Info { json } => commands::info(&target::open(t, Need::Os)?, json, out),
        Command::Ps { json } => commands::ps(&target::open(t, Need::Os)?, json, out),
        Command::Modules { json } => commands::modules(&target::open(t, Need::Os)?, json, out),
        Command::Sym { name } => commands::sym(&target::open(t, Need::Os)?, &name, out),
        Command::Translate { va, pid } => {
            commands::translate(&target::open(t, Need::Os)?, va, pid, out)
        }
        Command::Read {
            addr,
            len,
            pid,
            physical,
            format,
        } => {
            if format == cli::Format::Raw && std::io::stdout().is_terminal() {
                return Err(CliError::usage(
                    "refusing to write raw bytes to a terminal: redirect the output to a file \
                     or a pipe, or use --format hex",
                ));
            }
            let vmi = target::open(t, if physical { Need::Physical } else { Need::Os })?;
            let ctx = commands::read_context(&vmi, addr, pid, physical)?;
            commands::read(&vmi, ctx, len, format, out)
        }
        Command::Dump { out: file } => {
            let vmi = target::open(t, Need::Physical)?;
            catch_ctrl_c();
            let stats = dump::dump(&vmi, &file, &INTERRUPTED)?;
            if stats.unreadable_frames > 0 {
                eprintln!(
                    "note: {} unreadable frames were written as zeros",
                    stats.unreadable_frames
                );
            }
            Ok(())
        }
        Command::Watch {
            cr3,
            mem,
            access,
            count,
            seconds,
            json,
        } => {
            let mut vmi = target::open(t, Need::Events)?;
            catch_ctrl_c();
            let opts = watch::WatchOptions {
                cr3,
                mem,
                access: Some(access),
                count,
                duration: seconds.map(Duration::from_secs),
                json,
            };
            watch::watch(&mut vmi, &opts, &INTERRUPTED)?;
            Ok(())
        }
    }
}
