//! One Excel workbook per run: a sheet per table, typed numeric cells,
//! units in the headers, frozen header rows.

use rust_xlsxwriter::{Format, Workbook};

use super::{Cell, Table};
use crate::error::Error;

fn sheet_name(name: &str, used: &mut Vec<String>) -> String {
    // Excel: at most 31 characters, none of []:*?/\ and unique.
    let clean: String = name
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .take(28)
        .collect();
    let mut candidate = clean.clone();
    let mut n = 2;
    while used.iter().any(|u| u.eq_ignore_ascii_case(&candidate)) {
        candidate = format!("{clean}_{n}");
        n += 1;
    }
    used.push(candidate.clone());
    candidate
}

/// Width of column `c` in characters: its widest header or cell as shown
/// (numbers with their separators), plus a margin; between 8 and 80.
pub fn column_width(t: &Table, c: usize) -> f64 {
    let widest = std::iter::once(t.headers[c].chars().count())
        .chain(
            t.rows
                .iter()
                .chain(&t.footer)
                .filter_map(|r| r.get(c))
                .map(|cell| cell.display().chars().count()),
        )
        .max()
        .unwrap_or(0);
    (widest + 2).clamp(8, 80) as f64
}

pub fn workbook(tables: &[Table]) -> Result<Vec<u8>, Error> {
    let err =
        |e: rust_xlsxwriter::XlsxError| Error::Output(format!("writing the workbook failed: {e}"));
    let mut wb = Workbook::new();
    let header = Format::new().set_bold();
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("#,##0");
    let tonnes = Format::new().set_num_format("#,##0.0");
    let percent = Format::new().set_num_format("0.0%");
    let setting = Format::new().set_num_format("0.0###%");
    let mut used = Vec::new();
    for t in tables {
        let ws = wb.add_worksheet();
        ws.set_name(sheet_name(&t.name, &mut used)).map_err(err)?;
        ws.write_string(0, 0, &t.title).map_err(err)?;
        ws.set_row_format(0, &bold).map_err(err)?;
        for (c, h) in t.headers.iter().enumerate() {
            ws.write_string_with_format(1, c as u16, h, &header)
                .map_err(err)?;
            ws.set_column_width(c as u16, column_width(t, c))
                .map_err(err)?;
        }
        ws.set_freeze_panes(2, 0).map_err(err)?;
        for (r, row) in t.rows.iter().chain(&t.footer).enumerate() {
            let r = (r + 2) as u32;
            for (c, cell) in row.iter().enumerate() {
                let c = c as u16;
                match cell {
                    Cell::Text(s) | Cell::Figure(s) => {
                        ws.write_string(r, c, s).map_err(err)?;
                    }
                    Cell::Number { value, decimals } => {
                        let f = if *decimals == 0 { &money } else { &tonnes };
                        ws.write_number_with_format(r, c, *value, f).map_err(err)?;
                    }
                    Cell::Percent(v) => {
                        ws.write_number_with_format(r, c, *v, &percent)
                            .map_err(err)?;
                    }
                    Cell::Setting(v) => {
                        ws.write_number_with_format(r, c, *v, &setting)
                            .map_err(err)?;
                    }
                    Cell::Empty => {}
                }
            }
        }
    }
    wb.save_to_buffer().map_err(err)
}
