//! Rendering tables for the terminal, Markdown and CSV, and writing files
//! atomically (a temporary name, then a rename).

use std::path::{Path, PathBuf};

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, ContentArrangement};

use super::{Cell, Table};
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
        out.push_str(&ct.to_string());
        out.push_str("\n\n");
    }
    out
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
