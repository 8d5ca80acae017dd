//! `vmi`: virtual machine introspection from the command line. The work is done by the
//! `vmi_cli` library; this parses the arguments (clap exits with status 2 on usage errors)
//! and reports the outcome as one line on standard error.

use clap::Parser;
use std::io::{BufWriter, Write};
use std::process::ExitCode;
use vmi_cli::cli::Cli;
use vmi_cli::error::{CliError, Kind};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut out = BufWriter::new(std::io::stdout().lock());
    let result = vmi_cli::run(cli, &mut out).and_then(|()| out.flush().map_err(CliError::from));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == Kind::OutputClosed => ExitCode::SUCCESS,
        Err(e) => {
            // Whatever was printed before the failure goes out first.
            let _ = out.flush();
            let prefix = if vmi_cli::output::stderr_colour() {
                "\x1b[1;31merror:\x1b[0m"
            } else {
                "error:"
            };
            eprintln!("{prefix} {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
