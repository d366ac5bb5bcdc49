//! The plan file exactly as written: a TOML tree in which every key and value
//! remembers where it stands in its source file. Scenario patches are applied
//! to this tree, so an error in a patched value points at the scenario's line.

use std::sync::Arc;

use toml::de::{DeTable, DeValue};

use crate::error::{Diagnostic, SourceFile, Span};

#[derive(Clone, Debug)]
pub struct Node {
    pub span: Span,
    pub value: Value,
}

#[derive(Clone, Debug)]
pub enum Value {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Datetime(String),
    Array(Vec<Node>),
    Table(Table),
}

#[derive(Clone, Debug)]
pub struct Key {
    pub name: String,
    pub span: Span,
}

/// A table keeps its keys in file order.
#[derive(Clone, Debug, Default)]
pub struct Table {
    pub entries: Vec<(Key, Node)>,
}

impl Table {
    pub fn get(&self, name: &str) -> Option<&Node> {
        self.entries
            .iter()
            .find(|(k, _)| k.name == name)
            .map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut Node> {
        self.entries
            .iter_mut()
            .find(|(k, _)| k.name == name)
            .map(|(_, v)| v)
    }

    /// Replace the value of `key` (keeping its position) or append it.
    pub fn set(&mut self, key: Key, node: Node) {
        match self.entries.iter_mut().find(|(k, _)| k.name == key.name) {
            Some(slot) => slot.1 = node,
            None => self.entries.push((key, node)),
        }
    }

    pub fn remove(&mut self, name: &str) -> Option<Node> {
        let i = self.entries.iter().position(|(k, _)| k.name == name)?;
        Some(self.entries.remove(i).1)
    }
}

impl Value {
    /// The TOML type name, for "expected X, found Y" messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "a string",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a float",
            Value::Bool(_) => "a boolean",
            Value::Datetime(_) => "a date-time",
            Value::Array(_) => "an array",
            Value::Table(_) => "a table",
        }
    }
}

impl Node {
    /// What was found, for "expected X, found Y": the type, and the value
    /// when it is a scalar (`a float 1.4`, `a string "CN"`, `a table`).
    pub fn found(&self) -> String {
        match &self.value {
            Value::Array(_) | Value::Table(_) => self.value.type_name().to_string(),
            other => format!("{} {}", other.type_name(), self.show()),
        }
    }

    /// A short rendering of the value for error messages (`1.4`, `"CN"`, `a table`).
    pub fn show(&self) -> String {
        match &self.value {
            Value::Str(s) => format!("{s:?}"),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => format_float(*f),
            Value::Bool(b) => b.to_string(),
            Value::Datetime(d) => d.clone(),
            Value::Array(_) => "an array".into(),
            Value::Table(_) => "a table".into(),
        }
    }
}

fn format_float(f: f64) -> String {
    if f.is_finite() && f == f.trunc() && f.abs() < 1e15 {
        format!("{f:.1}")
    } else if f.is_finite() && (f.abs() >= 1e15 || (f != 0.0 && f.abs() < 1e-6)) {
        // 1e308, not 309 digits.
        format!("{f:e}")
    } else {
        f.to_string()
    }
}

/// Parse TOML text into a spanned tree. Syntax errors come back located.
pub fn parse(file: &Arc<SourceFile>) -> Result<Node, Vec<Diagnostic>> {
    let (root, errors) = DeTable::parse_recoverable(&file.text);
    if !errors.is_empty() {
        return Err(errors
            .into_iter()
            .map(|e| Diagnostic {
                // Some errors (the nesting limit) carry no position: point
                // at the most deeply nested line.
                span: Some(Span::new(
                    file,
                    e.span().unwrap_or_else(|| deepest_line(&file.text)),
                )),
                message: format!("invalid TOML: {}", e.message().trim_end()),
            })
            .collect());
    }
    let span = root.span();
    let mut diags = Vec::new();
    let table = convert_table(file, root.into_inner(), "", &mut diags);
    if diags.is_empty() {
        Ok(Node {
            span: Span::new(file, span),
            value: Value::Table(table),
        })
    } else {
        Err(diags)
    }
}

/// The line with the most nesting (dots in keys, brackets, braces): where
/// an error without a position (the parser's nesting limit) is reported.
fn deepest_line(text: &str) -> std::ops::Range<usize> {
    let mut best = (0, 0..0);
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let depth = line
            .bytes()
            .filter(|b| matches!(b, b'.' | b'[' | b'{'))
            .count();
        if depth > best.0 {
            best = (depth, start..start);
        }
        start += line.len();
    }
    best.1
}

fn convert_table(
    file: &Arc<SourceFile>,
    table: DeTable<'_>,
    path: &str,
    diags: &mut Vec<Diagnostic>,
) -> Table {
    let mut out = Table::default();
    for (key, value) in table {
        let key_span = Span::new(file, key.span());
        let name: &str = key.get_ref();
        let child = if path.is_empty() {
            name.to_string()
        } else {
            format!("{path}.{name}")
        };
        let node = convert(file, value, &child, diags);
        out.entries.push((
            Key {
                name: key.into_inner().into_owned(),
                span: key_span,
            },
            node,
        ));
    }
    out
}

/// `path` names the value in messages (`mine.capacity`, `plan.first_year`).
fn convert(
    file: &Arc<SourceFile>,
    value: toml::Spanned<DeValue<'_>>,
    path: &str,
    diags: &mut Vec<Diagnostic>,
) -> Node {
    let span = Span::new(file, value.span());
    let value = match value.into_inner() {
        DeValue::String(s) => Value::Str(s.into_owned()),
        DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
            Ok(v) => Value::Int(v),
            Err(_) => {
                diags.push(Diagnostic {
                    span: Some(span.clone()),
                    message: format!("{path} = {i}: integer out of range (it must fit in 64 bits)"),
                });
                Value::Int(0)
            }
        },
        DeValue::Float(f) => {
            let text = f.as_str().replace('_', "");
            let v: f64 = text.parse().unwrap_or(f64::NAN);
            if v.is_infinite() && !text.contains("inf") {
                diags.push(Diagnostic {
                    span: Some(span.clone()),
                    message: format!(
                        "{path} = {text}: number out of range (too large for a 64-bit float)"
                    ),
                });
            }
            Value::Float(v)
        }
        DeValue::Boolean(b) => Value::Bool(b),
        DeValue::Datetime(d) => Value::Datetime(d.to_string()),
        DeValue::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|item| convert(file, item, path, diags))
                .collect(),
        ),
        DeValue::Table(t) => Value::Table(convert_table(file, t, path, diags)),
    };
    Node { span, value }
}
