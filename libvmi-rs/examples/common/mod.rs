//! What the examples share: upstream-style target arguments and a hex dump.
#![allow(dead_code)]

use libvmi::{Config, Domain, Mode, Vmi};
use std::path::Path;

/// The guest: a path that exists is a memory image (File mode); `-d <id>` is a Xen domain
/// id; anything else is a Xen domain name.
pub fn target(args: &mut Vec<String>) -> Result<(Mode, Domain), String> {
    if let Some(i) = args.iter().position(|a| a == "-d" || a == "--domid") {
        let id = args.get(i + 1).ok_or("-d needs a domain id")?;
        let id = parse_u64(id).ok_or_else(|| format!("bad domain id {id:?}"))?;
        args.drain(i..=i + 1);
        return Ok((Mode::Xen, Domain::Id(id)));
    }
    if let Some(i) = args.iter().position(|a| a == "-n" || a == "--name") {
        let name = args.get(i + 1).ok_or("-n needs a domain name")?.clone();
        args.drain(i..=i + 1);
        return Ok((mode_for(&name), Domain::Name(name)));
    }
    if args.is_empty() {
        return Err("missing the VM name or memory image".into());
    }
    let name = args.remove(0);
    Ok((mode_for(&name), Domain::Name(name)))
}

fn mode_for(name: &str) -> Mode {
    if Path::new(name).is_file() {
        Mode::File
    } else {
        Mode::Xen
    }
}

/// `-j <profile.json>`, `-c <libvmi.conf>`, or LibVMI's global config file.
pub fn config(args: &mut Vec<String>) -> Result<Config, String> {
    for (flag, json) in [
        ("-j", true),
        ("--json", true),
        ("-c", false),
        ("--config", false),
    ] {
        if let Some(i) = args.iter().position(|a| a == flag) {
            let path = args
                .get(i + 1)
                .ok_or(format!("{flag} needs a path"))?
                .into();
            args.drain(i..=i + 1);
            return Ok(if json {
                Config::JsonProfile(path)
            } else {
                Config::File(path)
            });
        }
    }
    Ok(Config::GlobalFile)
}

/// A full initialisation for `target` with `config`.
pub fn open(mode: Mode, domain: Domain, config: Config) -> libvmi::Result<Vmi> {
    Vmi::builder(mode, domain).config(config).init()
}

pub fn parse_u64(s: &str) -> Option<u64> {
    match s.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

/// Print like LibVMI's `vmi_print_hex`: offset, 16 bytes in hex, their ASCII.
pub fn print_hex(data: &[u8]) {
    for (i, row) in data.chunks(16).enumerate() {
        let hex: Vec<String> = row.iter().map(|b| format!("{b:02x}")).collect();
        let ascii: String = row
            .iter()
            .map(|&b| {
                if b.is_ascii_graphic() || b == b' ' {
                    b as char
                } else {
                    '.'
                }
            })
            .collect();
        println!("{:08x}: {:<48} {ascii}", i * 16, hex.join(" "));
    }
}

/// Exit with the error's message.
pub fn fail(e: impl std::fmt::Display) -> ! {
    eprintln!("error: {e}");
    std::process::exit(1)
}
