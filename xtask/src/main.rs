//! `cargo xtask`: developer commands for TinyVMI.
//!
//! ```text
//! cargo xtask upstream status     # the pin, each patch and its size, and whether the series applies
//! cargo xtask minios-audit <a>     # can this archive link into a Xen Mini-OS stub domain?
//! ```

mod minios_audit;
mod upstream;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Developer commands for TinyVMI.
#[derive(Parser)]
#[command(name = "cargo xtask", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Work with the upstream pin and the patch series.
    #[command(subcommand)]
    Upstream(upstream::Command),
    /// Audit a static archive for linking into a Xen Mini-OS stub domain.
    ///
    /// Example: cargo xtask minios-audit target/x86_64-unknown-none/release/libtinyvmi.a
    MiniosAudit {
        /// The archive to check.
        archive: PathBuf,
    },
}

/// The workspace root (the parent of this crate).
fn workspace_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent().map(PathBuf::from).unwrap_or(here)
}

fn minios_audit(archive: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    let data = workspace_root().join("minios").join("audit");
    let allow = minios_audit::read_list(&data.join("allowlist.txt"))?;
    let reserved = minios_audit::read_list(&data.join("reserved-definitions.txt"))?;
    let report = minios_audit::audit(archive, &allow, &reserved)?;
    if minios_audit::print(archive, &report) {
        println!("PASS");
        Ok(())
    } else {
        Err(format!(
            "{} violation(s): {} cannot be a Mini-OS application archive as it stands",
            report.violations.len(),
            archive.display()
        )
        .into())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Upstream(cmd) => upstream::run(cmd, &workspace_root()),
        Command::MiniosAudit { archive } => minios_audit(&archive),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
