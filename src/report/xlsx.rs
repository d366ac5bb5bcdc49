//! One Excel workbook per run: a sheet per table, typed numeric cells,
//! units in the headers, frozen header rows.

use rust_xlsxwriter::{Chart, ChartType, Format, Workbook};

use super::{Cell, SheetChart, Table};
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
        let name = sheet_name(&t.name, &mut used);
        ws.set_name(&name).map_err(err)?;
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
        if let Some(spec) = &t.chart {
            if let Some(chart) = native_chart(&name, t, spec) {
                // Beside the table: after its last column.
                let col = u16::try_from(t.headers.len() + 1).unwrap_or(u16::MAX);
                ws.insert_chart(2, col, &chart).map_err(err)?;
            }
        }
    }
    wb.save_to_buffer().map_err(err)
}

/// A native Excel line chart over the table's cells as written above (the
/// title in row 0, headers in row 1, data from row 2). `None` for a table
/// with nothing to draw.
fn native_chart(sheet: &str, t: &Table, spec: &SheetChart) -> Option<Chart> {
    let rows = t.rows.len();
    if rows == 0 {
        return None;
    }
    let (first_row, last_row) = (2u32, 2 + rows as u32 - 1);
    let mut chart = Chart::new(ChartType::Line);
    match spec {
        SheetChart::RowsAsSeries { first, title } => {
            let (first_col, last_col) = (*first as u16, (t.headers.len() - 1) as u16);
            if *first >= t.headers.len() {
                return None;
            }
            for r in first_row..=last_row {
                chart
                    .add_series()
                    .set_name((sheet, r, 0))
                    .set_categories((sheet, 1, first_col, 1, last_col))
                    .set_values((sheet, r, first_col, r, last_col));
            }
            chart.title().set_name(title);
        }
        SheetChart::ColumnsAsSeries { columns, title } => {
            for &c in columns.iter().filter(|&&c| c < t.headers.len()) {
                let c = c as u16;
                chart
                    .add_series()
                    .set_name((sheet, 1, c))
                    .set_categories((sheet, first_row, 0, last_row, 0))
                    .set_values((sheet, first_row, c, last_row, c));
            }
            chart.title().set_name(title);
        }
    }
    Some(chart)
}
