//! `[data]`: facilities, markets, contracts, subsidies and stockpiles
//! imported from CSV files (an extension of format version 1). Each CSV row
//! becomes one `[[mine]]` (etc.) entry of the
//! spanned tree, with spans pointing at the CSV file's row and column, so it
//! is validated exactly like a row written in TOML and its errors name the
//! CSV file, line and column.
//!
//! Columns are the plan's field names; per-element and per-year values use
//! dotted names (`grade.NdPr`, `demand.2030`); lists (`ramp`, `years`,
//! `to`, `countries`, …) are `;`-separated; booleans are `true` or `false`;
//! an empty cell leaves the field out; `source` and `note` are
//! documentation and are not read.

use std::path::Path;
use std::sync::Arc;

use super::read::known_keys;
use super::schema::{self, Field, Ty};
use super::tree::{Key, Node, Table, Value};
use crate::error::{Diagnostic, SourceFile, Span};

/// `[data]` key → (plan array it feeds, singular name for messages).
const SECTIONS: &[(&str, &str)] = &[
    ("mines", "mine"),
    ("refineries", "refinery"),
    ("magnet_plants", "magnet_plant"),
    ("markets", "market"),
    ("contracts", "contract"),
    ("subsidies", "subsidy"),
    ("stockpiles", "stockpile"),
];

/// Columns that document a row and are not read.
const DOC_COLUMNS: &[&str] = &["source", "note"];

/// The fields of `fields` that may be written as `field.ELEMENT`,
/// `field.YEAR` or `field.KEY` columns (tables per element, per year, and
/// nested tables such as `expand`), in the order messages list them.
fn dotted(fields: &[Field]) -> Vec<&'static str> {
    let order = |ty: Ty| match ty {
        Ty::PerElement(_) | Ty::Recovery(_) => Some(0),
        Ty::PerYear(_) => Some(1),
        Ty::Table(_) => Some(2),
        _ => None,
    };
    let mut out: Vec<(u8, &'static str)> = fields
        .iter()
        .filter_map(|f| order(f.ty).map(|o| (o, f.name)))
        .collect();
    out.sort_by_key(|(o, _)| *o);
    out.into_iter().map(|(_, name)| name).collect()
}

/// What column `base` (`base.sub` when dotted) of `fields` holds: the
/// field's type, a nested table's field's type (`expand.earliest`), or
/// `None` for one number of a per-element or per-year table.
fn column_ty(fields: &[Field], base: &str, sub: Option<&str>) -> Option<Ty> {
    let ty = schema::field(fields, base)?.ty;
    match (ty, sub) {
        (ty, None) => Some(ty),
        (Ty::Table(inner), Some(sub)) => schema::field(inner, sub).map(|f| f.ty),
        (_, Some(_)) => None,
    }
}

fn diag(span: &Span, message: String) -> Diagnostic {
    Diagnostic {
        span: Some(span.clone()),
        message,
    }
}

/// Replace `[data]` in the root table by the rows of the files it names.
pub fn expand(root: &mut Node, plan_dir: &Path) -> Result<(), Vec<Diagnostic>> {
    let Value::Table(table) = &mut root.value else {
        return Ok(());
    };
    let Some(data) = table.remove("data") else {
        return Ok(());
    };
    let Value::Table(files) = &data.value else {
        return Err(vec![diag(
            &data.span,
            format!(
                "[data]: expected a table of CSV paths, found {}",
                data.value.type_name()
            ),
        )]);
    };
    let mut diags = Vec::new();
    for (key, value) in &files.entries {
        let Some(&(_, section)) = SECTIONS.iter().find(|(k, _)| *k == key.name) else {
            let names: Vec<&str> = SECTIONS.iter().map(|(k, _)| *k).collect();
            diags.push(diag(
                &key.span,
                format!(
                    "[data]: unknown key {:?} (expected one of: {})",
                    key.name,
                    names.join(", ")
                ),
            ));
            continue;
        };
        let paths: Vec<&Node> = match &value.value {
            Value::Str(_) => vec![value],
            Value::Array(items) => items.iter().collect(),
            other => {
                diags.push(diag(
                    &value.span,
                    format!(
                        "[data] {}: expected a CSV path or an array of paths, found {}",
                        key.name,
                        other.type_name()
                    ),
                ));
                continue;
            }
        };
        for path_node in paths {
            let Value::Str(rel) = &path_node.value else {
                diags.push(diag(
                    &path_node.span,
                    format!(
                        "[data] {}: expected a path (string), found {}",
                        key.name,
                        path_node.value.type_name()
                    ),
                ));
                continue;
            };
            let path = match crate::fsio::data_path(plan_dir, rel) {
                Ok(p) => p,
                Err(why) => {
                    diags.push(diag(
                        &path_node.span,
                        format!("[data] {} = {rel:?}: {why}", key.name),
                    ));
                    continue;
                }
            };
            let text = match crate::fsio::read_input(&path) {
                Ok(t) => t,
                Err(e) => {
                    diags.push(diag(
                        &path_node.span,
                        format!("[data] {} = {rel:?}: cannot read {e}", key.name),
                    ));
                    continue;
                }
            };
            let file = SourceFile::new(&path, text);
            match read_csv(&file, section) {
                Ok(rows) => append(table, section, &key.span, rows),
                Err(d) => diags.extend(d),
            }
        }
    }
    if diags.is_empty() {
        Ok(())
    } else {
        Err(diags)
    }
}

fn append(table: &mut Table, section: &str, key_span: &Span, rows: Vec<Node>) {
    if table.get(section).is_none() {
        table.set(
            Key {
                name: section.to_string(),
                span: key_span.clone(),
            },
            Node {
                span: key_span.clone(),
                value: Value::Array(Vec::new()),
            },
        );
    }
    if let Some(Node {
        value: Value::Array(items),
        ..
    }) = table.get_mut(section)
    {
        items.extend(rows);
    }
    // A non-array here is reported when the plan is read.
}

/// Byte offset of each field's start within one CSV line (quotes respected).
fn field_offsets(line: &str) -> Vec<usize> {
    let mut offsets = vec![0];
    let mut quoted = false;
    for (i, ch) in line.char_indices() {
        match ch {
            '"' => quoted = !quoted,
            ',' if !quoted => offsets.push(i + 1),
            _ => {}
        }
    }
    offsets
}

fn read_csv(file: &Arc<SourceFile>, section: &str) -> Result<Vec<Node>, Vec<Diagnostic>> {
    let whole = Span::new(file, 0..0);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(file.text.as_bytes());
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => return Err(vec![diag(&whole, format!("invalid CSV: {e}"))]),
    };
    let header_offsets = field_offsets(file.text.lines().next().unwrap_or(""));
    let allowed = known_keys(section);
    let fields = schema::fields(section);
    let dotted = dotted(fields);
    let mut diags = Vec::new();
    // Check the header once: every column must be a field of this section.
    let mut columns = Vec::new();
    let mut first_at: std::collections::BTreeMap<&str, usize> = Default::default();
    for (i, h) in headers.iter().enumerate() {
        let h = h.trim();
        let span = Span::new(
            file,
            header_offsets.get(i).copied().unwrap_or(0)
                ..header_offsets.get(i).copied().unwrap_or(0),
        );
        // A column given twice: one of its cells would silently win (the
        // documentation columns are never read, so they may repeat).
        if let Some(&j) = first_at.get(h).filter(|_| !DOC_COLUMNS.contains(&h)) {
            diags.push(diag(
                &span,
                format!(
                    "duplicate column {h:?} (also column {}); give each column once",
                    j + 1
                ),
            ));
            continue;
        }
        first_at.insert(h, i);
        let (base, sub) = match h.split_once('.') {
            Some((b, s)) => (b, Some(s)),
            None => (h, None),
        };
        let known = DOC_COLUMNS.contains(&h)
            || (allowed.contains(&base) && (sub.is_none() || dotted.contains(&base)));
        if !known {
            diags.push(diag(
                &span,
                format!(
                    "unknown column {h:?} for {section} rows (expected {}, {}, with field.ELEMENT or field.YEAR for {})",
                    allowed.join(", "),
                    DOC_COLUMNS.join(", "),
                    dotted.join(", ")
                ),
            ));
        }
        columns.push((
            h.to_string(),
            base.to_string(),
            sub.map(str::to_string),
            span,
        ));
    }
    if !diags.is_empty() {
        return Err(diags);
    }

    let mut rows = Vec::new();
    for result in reader.records() {
        let record = match result {
            Ok(r) => r,
            Err(e) => {
                let span = e.position().map_or(whole.clone(), |p| {
                    Span::new(file, p.byte() as usize..p.byte() as usize)
                });
                diags.push(diag(&span, format!("invalid CSV: {e}")));
                continue;
            }
        };
        let Some(pos) = record.position() else {
            continue;
        };
        let line_start = pos.byte() as usize;
        let line_text = file.text[line_start..].lines().next().unwrap_or("");
        let offsets = field_offsets(line_text);
        let row_span = Span::new(file, line_start..line_start + line_text.len());
        let mut entry = Table::default();
        for (i, cell) in record.iter().enumerate() {
            let cell = cell.trim();
            let (header, base, sub, _) = &columns[i];
            if cell.is_empty() || DOC_COLUMNS.contains(&header.as_str()) {
                continue;
            }
            let at = line_start + offsets.get(i).copied().unwrap_or(0);
            let span = Span::new(file, at..at + cell.len());
            let value = cell_value(column_ty(fields, base, sub.as_deref()), cell, &span);
            let node = Node {
                span: span.clone(),
                value,
            };
            let key = |name: &str| Key {
                name: name.to_string(),
                span: span.clone(),
            };
            match sub {
                None => {
                    if entry.get(base).is_some() {
                        diags.push(diag(
                            &span,
                            format!("column \"{header}\": {base} is also given by {base}.* columns in this row; give one or the other"),
                        ));
                        continue;
                    }
                    entry.set(key(base), node);
                }
                Some(sub) => {
                    if entry.get(base).is_none() {
                        let table = Node {
                            span: span.clone(),
                            value: Value::Table(Table::default()),
                        };
                        entry.set(key(base), table);
                    }
                    let Some(parent) = entry.get_mut(base) else {
                        continue;
                    };
                    match &mut parent.value {
                        Value::Table(t) => t.set(key(sub), node),
                        _ => diags.push(diag(
                            &span,
                            format!("column \"{header}\": {base} is also given by a plain \"{base}\" column in this row; give one or the other"),
                        )),
                    }
                }
            }
        }
        rows.push(Node {
            span: row_span,
            value: Value::Table(entry),
        });
    }
    if diags.is_empty() {
        Ok(rows)
    } else {
        Err(diags)
    }
}

/// A cell's value, typed by the field it fills (`ty`, from the field table;
/// the reader checks ranges): a string for a name, id or country, a
/// `;`-separated list of numbers for a ramp, an integer for an integer
/// field (else what the cell holds, for the reader to report), a number
/// otherwise.
fn cell_value(ty: Option<Ty>, cell: &str, span: &Span) -> Value {
    match ty {
        Some(Ty::Str | Ty::Id | Ty::Country | Ty::CountryOrAny | Ty::OneOf(_)) => {
            Value::Str(cell.to_string())
        }
        Some(Ty::Ramp(_) | Ty::YearRange) => list(cell, span, number),
        Some(Ty::Strings | Ty::Countries) => list(cell, span, |p| Value::Str(p.to_string())),
        Some(Ty::Bool) => match cell {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            // The reader says what was expected.
            other => Value::Str(other.to_string()),
        },
        Some(Ty::Integer | Ty::IntegerAtLeast { .. }) => match cell.parse::<i64>() {
            Ok(i) => Value::Int(i),
            Err(_) => number(cell),
        },
        _ => number(cell),
    }
}

/// A `;`-separated cell as an array (`0.3;0.6;0.9`, `2026;2035`, `a;b`).
fn list(cell: &str, span: &Span, item: impl Fn(&str) -> Value) -> Value {
    Value::Array(
        cell.split(';')
            .map(|part| Node {
                span: span.clone(),
                value: item(part.trim()),
            })
            .collect(),
    )
}

fn number(cell: &str) -> Value {
    if let Ok(i) = cell.parse::<i64>() {
        return Value::Int(i);
    }
    match cell.parse::<f64>() {
        Ok(f) => Value::Float(f),
        Err(_) => Value::Str(cell.to_string()),
    }
}
