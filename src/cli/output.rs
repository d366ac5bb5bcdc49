//! Where and how a command's tables go: `--format` and `--out`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::error::Error;
use crate::report::{
    html, render_csv_files, render_markdown, render_table, write_atomically, xlsx, Table,
};

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
pub enum Format {
    /// Tables for the terminal.
    Table,
    /// JSON for tools (`sweep`: one JSON object per line).
    Json,
    /// GitHub-flavoured Markdown tables that paste into a report.
    Markdown,
    /// CSV with raw numbers, for spreadsheets.
    Csv,
    /// One Excel workbook, a sheet per table (needs --out DIR).
    Xlsx,
    /// One self-contained report.html: tables and SVG charts inline, no
    /// network (with --out DIR; printed otherwise).
    Html,
}

#[derive(Args, Clone)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write the report into this directory instead of printing it: one CSV
    /// file per table (csv), report.xlsx, report.html, report.md,
    /// report.txt or result.json, plus any chart. Each file appears whole or not at all.
    #[arg(long, short = 'o', value_name = "DIR")]
    pub out: Option<PathBuf>,
}

impl OutputArgs {
    /// Check the combination before any work is done.
    pub fn check(&self) -> Result<(), Error> {
        if self.format == Format::Xlsx && self.out.is_none() {
            return Err(Error::Usage(
                "--format xlsx writes a workbook: give --out DIR".into(),
            ));
        }
        Ok(())
    }

    /// Print or write the tables (and the JSON form), plus any charts
    /// (`(path, bytes)`; with --out, a relative chart path lands in DIR).
    pub fn emit(
        &self,
        tables: &[Table],
        json: &serde_json::Value,
        charts: &[(PathBuf, Vec<u8>)],
    ) -> Result<(), Error> {
        let title = tables.first().map(|t| t.title.clone()).unwrap_or_default();
        self.emit_report(tables, json, charts, &title, &[])
    }

    /// As [`emit`](Self::emit), with the title and figures of an HTML report
    /// (`--format html`; ignored by the other formats).
    pub fn emit_report(
        &self,
        tables: &[Table],
        json: &serde_json::Value,
        charts: &[(PathBuf, Vec<u8>)],
        title: &str,
        figures: &[html::Figure],
    ) -> Result<(), Error> {
        self.emit_with_front(tables, json, charts, title, figures, None)
    }

    /// As [`emit_report`](Self::emit_report), with a front page for the
    /// HTML report (`solve`).
    pub fn emit_with_front(
        &self,
        tables: &[Table],
        json: &serde_json::Value,
        charts: &[(PathBuf, Vec<u8>)],
        title: &str,
        figures: &[html::Figure],
        front: Option<&crate::report::brief::Front>,
    ) -> Result<(), Error> {
        let mut files: Vec<(String, Vec<u8>)> = match self.format {
            Format::Table => vec![("report.txt".into(), render_table(tables).into_bytes())],
            Format::Markdown => vec![("report.md".into(), render_markdown(tables).into_bytes())],
            Format::Json => vec![(
                "result.json".into(),
                (serde_json::to_string_pretty(json)
                    .map_err(|e| Error::Output(format!("JSON: {e}")))?
                    + "\n")
                    .into_bytes(),
            )],
            Format::Csv => render_csv_files(tables)?,
            Format::Xlsx => vec![("report.xlsx".into(), xlsx::workbook(tables)?)],
            Format::Html => vec![(
                "report.html".into(),
                html::page_with_front(title, tables, figures, front).into_bytes(),
            )],
        };
        match &self.out {
            Some(dir) => {
                for (path, bytes) in charts {
                    if path.is_relative() && path.parent().is_none_or(|p| p.as_os_str().is_empty())
                    {
                        files.push((path.to_string_lossy().into_owned(), bytes.clone()));
                    } else {
                        write_file(path, bytes)?;
                    }
                }
                let written = write_atomically(dir, &files)?;
                eprintln!("wrote {} file(s) to {}", written.len(), dir.display());
            }
            None => {
                for (path, bytes) in charts {
                    write_file(path, bytes)?;
                    eprintln!("wrote {}", path.display());
                }
                let many = files.len() > 1;
                let mut text = Vec::new();
                for (i, (name, bytes)) in files.iter().enumerate() {
                    if many {
                        let sep = if i > 0 { "\n" } else { "" };
                        text.extend_from_slice(format!("{sep}# {name}\n").as_bytes());
                    }
                    text.extend_from_slice(bytes);
                }
                crate::fsio::print(&text)?;
            }
        }
        Ok(())
    }
}

/// Write one file atomically wherever its path says (its directory must
/// exist; see [`crate::fsio::write_file`]).
pub fn write_file(path: &std::path::Path, bytes: &[u8]) -> Result<(), Error> {
    crate::fsio::write_file(path, bytes)
}

/// Check a `--chart FILE` before any work is done: SVG or PNG by its
/// extension, and a place it may be written (its directory exists; not an
/// input of the run, not a device or other non-regular file). A bare file
/// name with `--out DIR` lands in DIR and is checked when it is written.
pub fn check_chart(path: &std::path::Path, out: Option<&std::path::Path>) -> Result<(), Error> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    if !matches!(ext.as_deref(), Some("svg" | "png")) {
        return Err(Error::Usage(format!(
            "--chart {}: a chart is SVG or PNG; end the file name with .svg or .png",
            path.display()
        )));
    }
    if out.is_some() && bare_name(path) {
        return Ok(());
    }
    crate::fsio::check_target(path)
}

/// A file name without a directory part (lands in `--out DIR`).
pub fn bare_name(path: &std::path::Path) -> bool {
    path.is_relative() && path.parent().is_none_or(|p| p.as_os_str().is_empty())
}
