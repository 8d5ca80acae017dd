//! The command line: `vmi [--image PATH | --domain NAME|ID] [--config FILE |
//! --json-profile FILE] <COMMAND>`.

use crate::parse::{parse_domain, parse_len, parse_pid, parse_u64};
use clap::{Args, ColorChoice, Parser, Subcommand, ValueEnum};
use libvmi::{Domain, Pid};
use std::path::PathBuf;

const MAIN_EXAMPLES: &str = "\
Examples:
  vmi --image mem.raw --config libvmi.conf info
  vmi --image mem.raw ps --json
  vmi --domain debian ps                       (a Xen domain by name; a number is an id)
  vmi --image mem.raw sym linux_banner
  vmi --image mem.raw read 0xffffffff82000200 128
  vmi --image mem.raw dump copy.raw
  vmi completions bash > /etc/bash_completion.d/vmi

Configuration: --config FILE uses the entry named like the image's file name (or the
domain's name), or the file's only entry; without --config or --json-profile LibVMI reads
./libvmi.conf, ~/etc/libvmi.conf or /etc/libvmi.conf.

Exit status: 0 success, 1 introspection failed, 2 usage error.";

/// `vmi`: introspect a Xen domain or a raw memory image with LibVMI.
#[derive(Debug, Parser)]
#[command(
    name = "vmi",
    version,
    about = "Virtual machine introspection of Xen domains and raw memory images (LibVMI)",
    after_help = MAIN_EXAMPLES,
    color = ColorChoice::Auto,
    propagate_version = true,
    subcommand_required = true,
    arg_required_else_help = true
)]
pub struct Cli {
    /// The guest and its configuration.
    #[command(flatten)]
    pub target: TargetArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Which guest, and how LibVMI learns about its OS.
#[derive(Debug, Args, Clone, Default)]
pub struct TargetArgs {
    /// A raw physical-memory image (LibVMI's File driver)
    #[arg(
        long,
        value_name = "PATH",
        global = true,
        conflicts_with = "domain",
        value_hint = clap::ValueHint::FilePath
    )]
    pub image: Option<PathBuf>,
    /// A Xen domain: a number is a domain id, anything else a name
    #[arg(long, value_name = "NAME|ID", global = true, value_parser = parse_domain)]
    pub domain: Option<Domain>,
    /// A libvmi.conf-format file: its entry named like the image's file name (or the
    /// domain), or its only entry
    #[arg(
        long,
        value_name = "FILE",
        global = true,
        conflicts_with = "json_profile",
        value_hint = clap::ValueHint::FilePath
    )]
    pub config: Option<PathBuf>,
    /// A JSON kernel profile (Volatility 3 ISF or Rekall)
    #[arg(long, value_name = "FILE", global = true, value_hint = clap::ValueHint::FilePath)]
    pub json_profile: Option<PathBuf>,
    /// Let LibVMI's own messages through to standard error (they are hidden otherwise;
    /// the last one is quoted in an error)
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show the guest's OS, version, page mode, KASLR offset, memory size and vCPUs
    #[command(after_help = "\
Examples:
  vmi --image mem.raw --config libvmi.conf info
  vmi --domain debian info --json")]
    Info {
        /// Print a JSON object
        #[arg(long)]
        json: bool,
    },
    /// List processes: PID, name and page table (DTB)
    #[command(after_help = "\
Examples:
  vmi --image mem.raw ps
  vmi --image mem.raw ps --json | jq '.[] | select(.name == \"sshd\")'

Kernel threads have no page table of their own (DTB `-`, or null in JSON).")]
    Ps {
        /// Print a JSON array of {pid, name, dtb, task}
        #[arg(long)]
        json: bool,
    },
    /// List loaded kernel modules
    #[command(after_help = "\
Examples:
  vmi --image mem.raw modules
  vmi --image mem.raw modules --json")]
    Modules {
        /// Print a JSON array of {name, address}
        #[arg(long)]
        json: bool,
    },
    /// Print the virtual address of a kernel symbol, or the symbol at an address
    #[command(after_help = "\
Examples:
  vmi --image mem.raw sym linux_banner
  vmi --image mem.raw sym init_task
  vmi --image mem.raw sym 0xffffffff81e0d940          (the symbol that starts there)

An address (0x-prefixed hex) names the symbol whose System.map row has exactly that
address (after the KASLR offset): a function's or object's start, as found in function
pointers and system-call tables; an address inside a symbol has none.")]
    Sym {
        /// The kernel symbol (as in System.map), or a 0x-prefixed kernel address
        name: String,
    },
    /// Translate a virtual address to a physical one
    #[command(after_help = "\
Examples:
  vmi --image mem.raw translate 0xffffffff82000200          (kernel page table)
  vmi --image mem.raw translate 0x7ffc1234a000 --pid 812   (that process's page table)")]
    Translate {
        /// The virtual address (0x-prefixed hex or decimal)
        #[arg(value_parser = parse_u64)]
        va: u64,
        /// Translate through this process's page table (default: the kernel's)
        #[arg(long, value_parser = parse_pid)]
        pid: Option<Pid>,
    },
    /// Read memory: kernel virtual (default), a process's virtual, or physical
    #[command(after_help = "\
Examples:
  vmi --image mem.raw read 0xffffffff82000200 128                  (kernel virtual)
  vmi --image mem.raw read 0x7ffc1234a000 64 --pid 812             (user virtual)
  vmi --image mem.raw read 0x1000 4096 --physical --format raw > page.bin
  vmi --image mem.raw read $(vmi --image mem.raw sym linux_banner) 256 --format string

LEN is at most 1 GiB; use `vmi dump` for all of physical memory.")]
    Read {
        /// The address (0x-prefixed hex or decimal)
        #[arg(value_parser = parse_u64)]
        addr: u64,
        /// How many bytes (1 to 1 GiB)
        #[arg(value_parser = parse_len)]
        len: usize,
        /// A virtual address of this process
        #[arg(long, value_parser = parse_pid, conflicts_with = "physical")]
        pid: Option<Pid>,
        /// A physical address (needs no OS configuration)
        #[arg(long)]
        physical: bool,
        /// Output format
        #[arg(long, value_enum, default_value_t = Format::Hex)]
        format: Format,
    },
    /// Write all of physical memory to a file
    #[command(after_help = "\
Examples:
  vmi --domain debian dump debian.raw
  vmi --image mem.raw dump /backup/mem-copy.raw

The file is written as a temporary file next to OUT and renamed when complete: OUT is
never left half-written, and an existing OUT is only replaced by a complete dump.
The file is readable by its owner only (memory holds secrets). Unreadable frames are
written as zeros (and counted). A Xen domain is paused meanwhile. Needs no OS
configuration.")]
    Dump {
        /// The output file
        #[arg(value_hint = clap::ValueHint::FilePath)]
        out: PathBuf,
    },
    /// Print hypervisor events as they happen (Xen only): CR3 writes, memory accesses
    #[command(after_help = "\
Examples:
  vmi --domain debian watch                           (CR3 writes, until Ctrl-C)
  vmi --domain debian watch --count 100 --json
  vmi --domain 3 watch --mem 0x1d5a000 --access w --seconds 30

Memory images have no events. Events are cleared on exit, also on Ctrl-C.")]
    Watch {
        /// Watch writes to CR3 (the default when --mem is not given)
        #[arg(long)]
        cr3: bool,
        /// Watch accesses to the 4 KiB frame holding this physical address (repeatable)
        #[arg(long, value_name = "PADDR", value_parser = parse_u64)]
        mem: Vec<u64>,
        /// Which accesses to --mem frames to report
        #[arg(long, value_enum, default_value_t = Access::Rw)]
        access: Access,
        /// Stop after this many events
        #[arg(long, value_parser = parse_u64)]
        count: Option<u64>,
        /// Stop after this many seconds
        #[arg(long, value_parser = parse_u64)]
        seconds: Option<u64>,
        /// One JSON object per line
        #[arg(long)]
        json: bool,
    },
    /// Print a shell completion script
    #[command(after_help = "\
Examples:
  vmi completions bash > ~/.local/share/bash-completion/completions/vmi
  vmi completions zsh > ~/.zfunc/_vmi
  vmi completions fish > ~/.config/fish/completions/vmi.fish")]
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
}

/// How `vmi read` prints memory.
#[derive(Clone, Copy, PartialEq, Eq, Debug, ValueEnum)]
pub enum Format {
    /// A hex dump with addresses and ASCII
    Hex,
    /// The bytes themselves
    Raw,
    /// Text up to the first NUL byte (lossy UTF-8), ending in a newline
    String,
}

/// Which memory accesses `vmi watch --mem` reports.
#[derive(Clone, Copy, PartialEq, Eq, Debug, ValueEnum)]
pub enum Access {
    /// Reads
    R,
    /// Writes
    W,
    /// Instruction fetches
    X,
    /// Reads and writes
    Rw,
    /// Any access
    Rwx,
}

impl Access {
    /// The LibVMI access mask.
    #[must_use]
    pub fn mask(self) -> libvmi::events::MemAccess {
        use libvmi::events::MemAccess;
        match self {
            Access::R => MemAccess::R,
            Access::W => MemAccess::W,
            Access::X => MemAccess::X,
            Access::Rw => MemAccess::RW,
            Access::Rwx => MemAccess::RWX,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_options_go_anywhere() {
        let cli = Cli::try_parse_from(["vmi", "ps", "--image", "x.raw", "--json"]).unwrap();
        assert_eq!(cli.target.image, Some(PathBuf::from("x.raw")));
        assert!(matches!(cli.command, Command::Ps { json: true }));
        let e = Cli::try_parse_from(["vmi", "--image", "a", "--domain", "b", "info"]);
        assert_eq!(e.unwrap_err().exit_code(), 2);
        let e = Cli::try_parse_from(["vmi", "--image", "a", "read", "zz", "16"]);
        assert_eq!(e.unwrap_err().exit_code(), 2);
        let e = Cli::try_parse_from(["vmi", "read", "0", "1", "--pid", "1", "--physical"]);
        assert_eq!(e.unwrap_err().exit_code(), 2);
    }
}
