//! Rendering tables for the terminal (fitted to its width), Markdown and
//! CSV, and writing files atomically (a temporary name, then a rename).

use std::path::{Path, PathBuf};

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, ContentArrangement};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::{Cell, Note, Table};
use crate::error::{Error, Result};

/// Tables for the terminal.
pub fn render_table(tables: &[Table]) -> String {
    let mut out = String::new();
    for t in tables {
        out.push_str(&t.title);
        out.push('\n');
        if t.rows.is_empty() && t.footer.is_empty() {
            out.push_str("  (none)\n\n");
            continue;
        }
        let mut ct = comfy_table::Table::new();
        ct.load_style(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Disabled)
            .set_header(t.headers.clone());
        for row in t.rows.iter().chain(&t.footer) {
            ct.add_row(row.iter().map(|c| {
                let cell = comfy_table::Cell::new(c.display());
                if c.is_numeric() {
                    cell.set_alignment(CellAlignment::Right)
                } else {
                    cell
                }
            }));
        }
        // Wider than the terminal: text cells (and headers) wrap at spaces
        // so the table fits; a table that fits keeps one line per row.
        let mut text = ct.to_string();
        let width = terminal_width();
        if display_width(&text) > width {
            ct.set_content_arrangement(ContentArrangement::Dynamic)
                .set_width(u16::try_from(width).unwrap_or(u16::MAX));
            text = ct.to_string();
        }
        out.push_str(&text);
        out.push('\n');
        for note in &t.notes {
            out.push_str(&note.line());
            out.push('\n');
        }
        out.push('\n');
    }
    out
}

impl Note {
    /// The note as printed: `column: text`, or the text alone.
    pub fn line(&self) -> String {
        match &self.column {
            Some(c) => format!("{c}: {}", self.text),
            None => self.text.clone(),
        }
    }
}

/// Columns a table is fitted to when stdout is not a terminal (a pipe, a
/// file): wide enough for a pager or an editor.
const WIDTH_NOT_A_TERMINAL: usize = 160;

/// The width terminal tables are fitted to: `COLUMNS` when it holds a
/// number, else the terminal's own width when stdout is one, else
/// [`WIDTH_NOT_A_TERMINAL`].
pub fn terminal_width() -> usize {
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0);
    // comfy-table asks the terminal, and only when stdout is one.
    columns
        .or_else(|| comfy_table::Table::new().width().map(usize::from))
        .filter(|&n| n > 0)
        .unwrap_or(WIDTH_NOT_A_TERMINAL)
}

/// Columns `text` takes on a terminal (its widest line).
fn display_width(text: &str) -> usize {
    text.lines().map(UnicodeWidthStr::width).max().unwrap_or(0)
}

/// `text` broken into lines of at most `width` columns at spaces (a word
/// wider than that is broken where it must); lines after the first are
/// indented by two spaces.
fn wrap(text: &str, width: usize) -> String {
    const INDENT: &str = "  ";
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    // Whether `line` holds anything past its indent (only then is it broken).
    let mut started = false;
    for word in text.split_whitespace() {
        if started && line.width() + 1 + word.width() > width {
            lines.push(std::mem::replace(&mut line, INDENT.into()));
            started = false;
        }
        if started {
            line.push(' ');
        }
        for ch in word.chars() {
            if started && line.width() + ch.width().unwrap_or(0) > width {
                lines.push(std::mem::replace(&mut line, INDENT.into()));
            }
            line.push(ch);
            started = true;
        }
    }
    lines.push(line);
    lines.join("\n")
}

/// `text` broken at spaces into lines of at most `width` columns where it
/// can (a word wider than that keeps a line of its own).
fn break_at_spaces(text: &str, width: usize) -> String {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        match lines.last_mut() {
            Some(line) if line.width() + 1 + word.width() <= width => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines.join("\n")
}

/// Headers are broken at spaces to no narrower than this, so that a short
/// column keeps readable headers.
const HEADER_MIN: usize = 14;

/// Fit a table to a terminal `width` columns wide: the first `fixed`
/// columns (labels) repeat in every part and the other columns are spread
/// over as many parts as needed so that each fits; headers are broken at
/// spaces to their column's width, the title and the notes are wrapped to
/// the terminal's, and each part keeps the notes about its own columns.
/// CSV, JSON and workbooks keep the whole table; this is only for reading
/// on a screen.
pub fn fit_width(t: Table, fixed: usize, width: usize) -> Vec<Table> {
    // A header wider than its column's cells is broken at spaces to their
    // width, each of its lines apart: a long label costs height, not width.
    let heads: Vec<String> = (0..t.headers.len())
        .map(|i| {
            let cells = t
                .rows
                .iter()
                .chain(&t.footer)
                .filter_map(|r| r.get(i))
                .map(|c| display_width(&c.display()))
                .max()
                .unwrap_or(0);
            t.headers[i]
                .lines()
                .map(|l| break_at_spaces(l, cells.max(HEADER_MIN)))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect();
    // comfy-table draws `│ a ┆ b │`: a border, then per column one space
    // each side of its widest line and one rule.
    let col_width = |i: usize| {
        std::iter::once(display_width(&heads[i]))
            .chain(
                t.rows
                    .iter()
                    .chain(&t.footer)
                    .filter_map(|r| r.get(i))
                    .map(|c| display_width(&c.display())),
            )
            .max()
            .unwrap_or(0)
            + 3
    };
    let n = t.headers.len();
    let fixed = fixed.min(n);
    let fixed_width: usize = (0..fixed).map(col_width).sum::<usize>() + 1;
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut used = fixed_width;
    for i in fixed..n {
        let w = col_width(i);
        match groups.last_mut() {
            Some(g) if used + w <= width => g.push(i),
            _ => {
                groups.push(vec![i]);
                used = fixed_width;
            }
        }
        used += w;
    }
    if groups.is_empty() {
        groups.push(Vec::new());
    }
    let parts = groups.len();
    groups
        .iter()
        .enumerate()
        .map(|(k, g)| {
            let columns: Vec<usize> = (0..fixed).chain(g.iter().copied()).collect();
            let pick = |row: &Vec<Cell>| -> Vec<Cell> {
                columns
                    .iter()
                    .map(|&i| row.get(i).cloned().unwrap_or(Cell::Empty))
                    .collect()
            };
            let headers: Vec<String> = columns.iter().map(|&i| heads[i].clone()).collect();
            let (name, title) = if parts > 1 {
                (
                    format!("{}_{}", t.name, k + 1),
                    format!("{} — part {} of {parts}", t.title, k + 1),
                )
            } else {
                (t.name.clone(), t.title.clone())
            };
            let notes = t
                .notes
                .iter()
                .filter(|note| {
                    note.column
                        .as_ref()
                        .is_none_or(|c| columns.iter().any(|&i| &t.headers[i] == c))
                })
                .map(|note| Note {
                    column: None,
                    text: wrap(&note.line(), width),
                })
                .collect();
            Table {
                name,
                title: wrap(&title, width),
                headers,
                rows: t.rows.iter().map(pick).collect(),
                footer: t.footer.iter().map(pick).collect(),
                notes,
                chart: None,
            }
        })
        .collect()
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|")
}

/// GitHub-flavoured Markdown: a heading and a table per table, totals in bold.
pub fn render_markdown(tables: &[Table]) -> String {
    let mut out = String::new();
    for t in tables {
        out.push_str(&format!("### {}\n\n", md_escape(&t.title)));
        if t.rows.is_empty() && t.footer.is_empty() {
            out.push_str("(none)\n\n");
            continue;
        }
        let numeric: Vec<bool> = (0..t.headers.len())
            .map(|i| {
                t.rows
                    .iter()
                    .chain(&t.footer)
                    .any(|r| r.get(i).is_some_and(Cell::is_numeric))
            })
            .collect();
        out.push_str(&format!(
            "| {} |\n",
            t.headers
                .iter()
                .map(|h| md_escape(h))
                .collect::<Vec<_>>()
                .join(" | ")
        ));
        out.push_str(&format!(
            "|{}|\n",
            numeric
                .iter()
                .map(|&n| if n { "---:" } else { "---" })
                .collect::<Vec<_>>()
                .join("|")
        ));
        for row in &t.rows {
            out.push_str(&format!(
                "| {} |\n",
                row.iter()
                    .map(|c| md_escape(&c.display()))
                    .collect::<Vec<_>>()
                    .join(" | ")
            ));
        }
        for row in &t.footer {
            out.push_str(&format!(
                "| {} |\n",
                row.iter()
                    .map(|c| match c {
                        Cell::Empty => String::new(),
                        c => format!("**{}**", md_escape(&c.display())),
                    })
                    .collect::<Vec<_>>()
                    .join(" | ")
            ));
        }
        out.push('\n');
    }
    out
}

fn csv_bytes(t: &Table) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let to_err = |e: csv::Error| Error::Output(format!("CSV writing failed: {e}"));
    w.write_record(&t.headers).map_err(to_err)?;
    for row in t.rows.iter().chain(&t.footer) {
        w.write_record(row.iter().map(Cell::raw)).map_err(to_err)?;
    }
    w.into_inner()
        .map_err(|e| Error::Output(format!("CSV writing failed: {e}")))
}

/// CSV for every table: `(file name, contents)`.
pub fn render_csv_files(tables: &[Table]) -> Result<Vec<(String, Vec<u8>)>> {
    tables
        .iter()
        .map(|t| Ok((format!("{}.csv", t.name), csv_bytes(t)?)))
        .collect()
}

/// Write every file into `dir` so that no reader ever sees a half-written
/// one and the set comes from one run (see [`crate::fsio::write_set`]).
pub fn write_atomically(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<Vec<PathBuf>> {
    crate::fsio::write_set(dir, files)
}
