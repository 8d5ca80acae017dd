//! Text output: aligned tables, hex dumps, and colour (only on a terminal, never with
//! `NO_COLOR`).

use std::io::{self, IsTerminal, Write};

/// Whether to colour a stream: it is a terminal, `NO_COLOR` is unset or empty, and `TERM`
/// is not `dumb`.
#[must_use]
pub fn use_colour(stream_is_terminal: bool) -> bool {
    stream_is_terminal
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}

/// Whether standard output gets colour (see [`use_colour`]).
#[must_use]
pub fn stdout_colour() -> bool {
    use_colour(io::stdout().is_terminal())
}

/// Whether standard error gets colour (see [`use_colour`]).
#[must_use]
pub fn stderr_colour() -> bool {
    use_colour(io::stderr().is_terminal())
}

/// Column alignment in a [`Table`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Align {
    /// Pad on the right.
    Left,
    /// Pad on the left (numbers).
    Right,
}

/// A table of text cells printed with aligned columns, separated by two spaces; the last
/// column is never padded.
///
/// ```
/// use vmi_cli::output::{Align, Table};
/// let mut t = Table::new(&[("PID", Align::Right), ("NAME", Align::Left), ("DTB", Align::Left)]);
/// t.row(vec!["0".into(), "swapper/0".into(), "-".into()]);
/// t.row(vec!["1".into(), "init".into(), "0x10d6000".into()]);
/// assert_eq!(
///     t.render(false),
///     "PID  NAME       DTB\n  0  swapper/0  -\n  1  init       0x10d6000\n"
/// );
/// ```
#[derive(Clone, Debug)]
pub struct Table {
    header: Vec<String>,
    align: Vec<Align>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers and alignments.
    #[must_use]
    pub fn new(columns: &[(&str, Align)]) -> Table {
        Table {
            header: columns.iter().map(|(h, _)| (*h).to_owned()).collect(),
            align: columns.iter().map(|&(_, a)| a).collect(),
            rows: Vec::new(),
        }
    }

    /// Add a row (missing cells are empty, extra cells are dropped).
    pub fn row(&mut self, mut cells: Vec<String>) {
        cells.resize(self.header.len(), String::new());
        self.rows.push(cells);
    }

    /// The table as text, the header in bold if `colour`.
    #[must_use]
    pub fn render(&self, colour: bool) -> String {
        let widths: Vec<usize> = (0..self.header.len())
            .map(|c| {
                std::iter::once(&self.header)
                    .chain(&self.rows)
                    .map(|r| r[c].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        let mut line = |cells: &[String], bold: bool| {
            let mut text = String::new();
            for (c, cell) in cells.iter().enumerate() {
                let last = c + 1 == cells.len();
                let pad = widths[c] - cell.chars().count();
                if c > 0 {
                    text.push_str("  ");
                }
                match self.align[c] {
                    Align::Right => {
                        text.extend(std::iter::repeat_n(' ', pad));
                        text.push_str(cell);
                    }
                    Align::Left => {
                        text.push_str(cell);
                        if !last {
                            text.extend(std::iter::repeat_n(' ', pad));
                        }
                    }
                }
            }
            text.truncate(text.trim_end().len());
            if bold {
                out.push_str("\x1b[1m");
                out.push_str(&text);
                out.push_str("\x1b[0m");
            } else {
                out.push_str(&text);
            }
            out.push('\n');
        };
        line(&self.header, colour);
        for r in &self.rows {
            line(r, false);
        }
        out
    }
}

/// Write `data` as a hex dump, 16 bytes a line: the address of the line's first byte
/// (`base` + offset), the bytes in hex, and their printable ASCII.
///
/// ```
/// let mut out = Vec::new();
/// vmi_cli::output::hex_dump(&mut out, 0xffff_ffff_8200_0010, b"Linux version 6.1\0")?;
/// assert_eq!(
///     String::from_utf8(out).unwrap(),
///     "ffffffff82000010  4c 69 6e 75 78 20 76 65  72 73 69 6f 6e 20 36 2e  |Linux version 6.|\n\
///      ffffffff82000020  31 00                                             |1.|\n"
/// );
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn hex_dump(out: &mut dyn Write, base: u64, data: &[u8]) -> io::Result<()> {
    let mut line = String::with_capacity(80);
    for (i, row) in data.chunks(16).enumerate() {
        line.clear();
        let addr = base.wrapping_add(16 * i as u64);
        line.push_str(&format!("{addr:016x}  "));
        for j in 0..16 {
            match row.get(j) {
                Some(b) => line.push_str(&format!("{b:02x} ")),
                None => line.push_str("   "),
            }
            if j == 7 {
                line.push(' ');
            }
        }
        line.push(' ');
        line.push('|');
        line.extend(row.iter().map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '.'
            }
        }));
        line.push('|');
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// A byte count for people: `268435456 (256 MiB)`.
///
/// ```
/// assert_eq!(vmi_cli::output::human_size(268435456), "268435456 bytes (256 MiB)");
/// assert_eq!(vmi_cli::output::human_size(1536), "1536 bytes (1.5 KiB)");
/// assert_eq!(vmi_cli::output::human_size(100), "100 bytes");
/// ```
#[must_use]
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let mut v = bytes as f64;
    let mut unit = "";
    for u in UNITS {
        if v < 1024.0 {
            break;
        }
        v /= 1024.0;
        unit = u;
    }
    let num = format!("{v:.1}");
    let num = num.strip_suffix(".0").unwrap_or(&num);
    format!("{bytes} bytes ({num} {unit})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_edge_cases() {
        let mut t = Table::new(&[("A", Align::Left), ("B", Align::Left)]);
        t.row(vec!["long cell".into()]);
        assert_eq!(t.render(false), "A          B\nlong cell\n");
        assert!(t.render(true).starts_with("\x1b[1mA"));
        let mut out = Vec::new();
        hex_dump(&mut out, u64::MAX, &[0x41; 17]).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(s.lines().nth(1).unwrap().starts_with("000000000000000f"));
    }
}
