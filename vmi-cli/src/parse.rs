//! Parsing of command-line values: numbers (decimal or `0x` hex), lengths with a cap, pids
//! and targets.
//!
//! These functions are used as clap value parsers, so a bad value is a usage error (exit
//! status 2) with clap's message and the reason given here.

use libvmi::Domain;

/// The largest `LEN` `vmi read` accepts: 1 GiB. Whole memory goes through `vmi dump`.
pub const MAX_READ_LEN: u64 = 1 << 30;

/// Parse an unsigned 64-bit number: `0x`-prefixed hexadecimal or decimal; `_` may separate
/// digits.
///
/// ```
/// use vmi_cli::parse::parse_u64;
/// assert_eq!(parse_u64("0xffffffff82000000"), Ok(0xffff_ffff_8200_0000));
/// assert_eq!(parse_u64("0X1F"), Ok(0x1f));
/// assert_eq!(parse_u64("4096"), Ok(4096));
/// assert_eq!(parse_u64("1_000"), Ok(1000));
/// assert!(parse_u64("").is_err());
/// assert!(parse_u64("0x").is_err());
/// assert!(parse_u64("12abc").unwrap_err().contains("not a number"));
/// assert!(parse_u64("-1").is_err());
/// assert!(parse_u64("0x1_0000_0000_0000_0000").unwrap_err().contains("too large"));
/// ```
pub fn parse_u64(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (digits, radix) = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => (hex, 16),
        None => (t, 10),
    };
    let clean: String = digits.chars().filter(|&c| c != '_').collect();
    let valid =
        !clean.is_empty() && !digits.starts_with('_') && clean.chars().all(|c| c.is_digit(radix));
    if !valid {
        return Err(format!(
            "{s:?} is not a number: expected decimal (4096) or hexadecimal with 0x (0x1000)"
        ));
    }
    u64::from_str_radix(&clean, radix).map_err(|_| format!("{s:?} is too large for 64 bits"))
}

/// Parse a read length: a number from 1 to [`MAX_READ_LEN`].
///
/// ```
/// use vmi_cli::parse::parse_len;
/// assert_eq!(parse_len("0x100"), Ok(256));
/// assert!(parse_len("0").is_err());
/// assert!(parse_len("0x40000001").unwrap_err().contains("at most 1 GiB"));
/// ```
pub fn parse_len(s: &str) -> Result<usize, String> {
    let n = parse_u64(s)?;
    if n == 0 {
        return Err("the length must be at least 1 byte".into());
    }
    if n > MAX_READ_LEN {
        return Err(format!(
            "{n} bytes is more than `read` prints: at most 1 GiB ({MAX_READ_LEN} bytes); \
             use `vmi dump FILE` for all of physical memory"
        ));
    }
    usize::try_from(n).map_err(|_| format!("{n} bytes do not fit in this machine's memory"))
}

/// Parse a process id: a non-negative number that fits LibVMI's `vmi_pid_t` (`i32`).
///
/// ```
/// use vmi_cli::parse::parse_pid;
/// assert_eq!(parse_pid("1"), Ok(libvmi::Pid(1)));
/// assert_eq!(parse_pid("0x10"), Ok(libvmi::Pid(16)));
/// assert!(parse_pid("4294967296").is_err());
/// assert!(parse_pid("init").is_err());
/// ```
pub fn parse_pid(s: &str) -> Result<libvmi::Pid, String> {
    let n = parse_u64(s)?;
    i32::try_from(n)
        .map(libvmi::Pid)
        .map_err(|_| format!("{n} is not a valid pid (at most {})", i32::MAX))
}

/// Parse a Xen domain: a number is a domain id, anything else a domain name.
///
/// ```
/// use libvmi::Domain;
/// use vmi_cli::parse::parse_domain;
/// assert_eq!(parse_domain("7"), Ok(Domain::Id(7)));
/// assert_eq!(parse_domain("debian-12"), Ok(Domain::Name("debian-12".into())));
/// assert!(parse_domain("").is_err());
/// ```
pub fn parse_domain(s: &str) -> Result<Domain, String> {
    if s.is_empty() {
        return Err("the domain name or id is empty".into());
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return s
            .parse()
            .map(Domain::Id)
            .map_err(|_| format!("domain id {s} is too large"));
    }
    if s.contains('\0') {
        return Err("the domain name contains a NUL byte".into());
    }
    Ok(Domain::Name(s.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_u64(" 10 "), Ok(10));
        assert_eq!(parse_u64("0xFFFF_FFFF"), Ok(0xffff_ffff));
        assert_eq!(parse_u64(&u64::MAX.to_string()), Ok(u64::MAX));
        for bad in [
            "_1", "0x_", "1.5", "0b101", "1e3", "+1", "0x-1", "ten", "0xg",
        ] {
            assert!(parse_u64(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_len("1073741824"), Ok(1 << 30));
        assert!(parse_pid("-1").is_err());
        assert_eq!(parse_pid("2147483647"), Ok(libvmi::Pid(i32::MAX)));
        assert!(parse_pid("2147483648").is_err());
        assert!(parse_domain("99999999999999999999999").is_err());
    }
}
