//! `--set PATH=VALUE`: change one value of a plan from the command line.
//!
//! Paths name tables by key and array entries by id:
//! `plan.discount_rate`, `elements.NdPr.price`, `transport.cross_border.oxide`,
//! `transport.lane.CN.US.magnet`, `tariff.s301.ad_valorem`,
//! `mine.mountain-pass.capacity`, `mine.mp.grade.NdPr`, `market.us.demand.2030`.
//! The override is applied to the spanned tree after any scenario, and the
//! result is validated like any plan, so a bad value gets the usual message.

use super::read::{known_keys, strsim_distance};
use super::schema::{self, Layout, Ty};
use super::tree::{self, Key, Node, Table, Value};
use crate::error::{Error, SourceFile, Span};

/// One `PATH=VALUE`, parsed.
#[derive(Clone, Debug)]
pub struct Override {
    pub path: String,
    pub value: Node,
}

impl Override {
    /// Parse `PATH=VALUE`. VALUE is read as a TOML value (`0.5`, `2030`,
    /// `{ 2025 = 1, 2030 = 2 }`, `["AU"]`); anything that is not valid TOML is
    /// taken as a string, so `plan.objective=max-resilience` works unquoted.
    pub fn parse(spec: &str) -> Result<Override, Error> {
        let Some((path, raw)) = spec.split_once('=') else {
            return Err(Error::Usage(format!("--set {spec}: expected PATH=VALUE")));
        };
        let path = path.trim().to_string();
        if path.is_empty() {
            return Err(Error::Usage(format!("--set {spec}: the path is empty")));
        }
        // The value is located in what the user typed: `PATH=VALUE` itself.
        let at = spec.len() - raw.trim_start().len();
        Ok(Override {
            value: parse_value_at(spec, at, raw.trim()),
            path,
        })
    }

    /// Same path, another value (sweeps).
    pub fn with_value(&self, raw: &str) -> Override {
        Override {
            path: self.path.clone(),
            value: parse_value(&self.path, raw),
        }
    }
}

/// Parse VALUE where it starts at byte `at` of `spec` (`PATH=VALUE`): the
/// TOML text is `v` and `=` padded so that every offset in it is the same
/// offset in `spec`, and the source is named after `spec`, so an error
/// reads `--set PATH=VALUE (column C): ...`.
fn parse_value_at(spec: &str, at: usize, raw: &str) -> Node {
    let name = format!("--set {spec}");
    if at >= 2 {
        let text = format!("v{}={raw}\n", " ".repeat(at - 2));
        let file = SourceFile::new(name.clone(), text);
        if let Ok(Node {
            value: Value::Table(t),
            ..
        }) = tree::parse(&file)
        {
            if t.entries.len() == 1 {
                if let Some(v) = t.get("v") {
                    return v.clone();
                }
            }
        }
    }
    let file = SourceFile::new(name, format!("{}{raw}", " ".repeat(at)));
    Node {
        span: Span::new(&file, at..at + raw.len()),
        value: Value::Str(raw.to_string()),
    }
}

fn parse_value(path: &str, raw: &str) -> Node {
    let text = format!("v = {raw}\n");
    let file = SourceFile::new(format!("--set {path}"), text);
    if let Ok(Node {
        value: Value::Table(t),
        ..
    }) = tree::parse(&file)
    {
        if t.entries.len() == 1 {
            if let Some(v) = t.get("v") {
                return v.clone();
            }
        }
    }
    let file = SourceFile::new(format!("--set {path}"), raw.to_string());
    Node {
        span: Span::new(&file, 0..raw.len()),
        value: Value::Str(raw.to_string()),
    }
}

fn key_named(name: &str, span: &Span) -> Key {
    Key {
        name: name.to_string(),
        span: span.clone(),
    }
}

/// Whether `kind` is a table of product rates of `[transport]`
/// (`domestic`, `cross_border`).
fn is_rates(kind: &str) -> bool {
    matches!(
        schema::field(schema::TRANSPORT, kind).map(|f| f.ty),
        Some(Ty::ProductRates)
    )
}

/// Whether `product` names a product with a rate (`concentrate`, …).
fn is_product(product: &str) -> bool {
    schema::field(schema::PRODUCT_RATES, product).is_some()
}

/// Every path `--set` can address in this tree (for "did you mean"), in
/// the order the closest is chosen from: `SECTION.KEY`,
/// `elements.NAME.price`, `transport.KIND.PRODUCT`, then `SECTION.ID.KEY`.
fn valid_paths(root: &Table) -> Vec<String> {
    let mut out = Vec::new();
    for section in schema::sections(Layout::Table) {
        for f in schema::fields(section) {
            if !matches!(f.ty, Ty::ProductRates | Ty::Table(_) | Ty::Tables(_)) {
                out.push(format!("{section}.{}", f.name));
            }
        }
    }
    for section in schema::sections(Layout::Map) {
        if let Some(Node {
            value: Value::Table(entries),
            ..
        }) = root.get(section)
        {
            for (name, _) in &entries.entries {
                for k in known_keys(section) {
                    out.push(format!("{section}.{}.{k}", name.name));
                }
            }
        }
    }
    for section in schema::sections(Layout::Table) {
        for f in schema::fields(section) {
            if matches!(f.ty, Ty::ProductRates) {
                for p in schema::PRODUCT_RATES {
                    out.push(format!("{section}.{}.{}", f.name, p.name));
                }
            }
        }
    }
    for section in schema::sections(Layout::Array) {
        if let Some(Node {
            value: Value::Array(items),
            ..
        }) = root.get(section)
        {
            for item in items {
                if let Value::Table(t) = &item.value {
                    if let Some(Node {
                        value: Value::Str(id),
                        ..
                    }) = t.get("id")
                    {
                        for k in known_keys(section) {
                            if k != "id" {
                                out.push(format!("{section}.{id}.{k}"));
                            }
                        }
                    }
                }
            }
        }
    }
    out
}

fn not_found(root: &Table, path: &str, why: &str) -> Error {
    let paths = valid_paths(root);
    let best = paths.iter().min_by_key(|p| strsim_distance(path, p));
    let hint = match best {
        Some(p) => format!("; the closest valid path is {p}"),
        None => String::new(),
    };
    Error::Usage(format!("--set {path}: {why}{hint}"))
}

/// Apply one override to the (already scenario-patched) tree.
pub fn apply(root: &mut Node, o: &Override) -> Result<(), Error> {
    let Value::Table(table) = &mut root.value else {
        return Err(Error::Usage(format!(
            "--set {}: the plan is not a table",
            o.path
        )));
    };
    let segments: Vec<&str> = o.path.split('.').collect();
    let section = segments[0];
    let rest = &segments[1..];
    match schema::layout(section) {
        Some(Layout::Array) => apply_to_entry(table, section, rest, o),
        // Lanes are matched by their countries, a level below the rates.
        Some(Layout::Table) if section == "transport" => apply_transport(table, rest, o),
        Some(Layout::Table) => {
            let [key] = rest else {
                return Err(not_found(table, &o.path, "expected SECTION.KEY"));
            };
            if !known_keys(section).contains(key) {
                return Err(not_found(
                    table,
                    &o.path,
                    &format!("[{section}] has no key \"{key}\""),
                ));
            }
            let target = ensure_table(table, section, &o.value.span);
            target.set(key_named(key, &o.value.span), o.value.clone());
            Ok(())
        }
        Some(Layout::Map) => {
            let (name, key) = match rest {
                [name @ .., key] if !name.is_empty() => (name.join("."), *key),
                _ => return Err(not_found(table, &o.path, "expected elements.NAME.price")),
            };
            let elements = ensure_table(table, section, &o.value.span);
            let Some(Node {
                value: Value::Table(element),
                ..
            }) = elements.get_mut(&name)
            else {
                return Err(not_found(
                    table,
                    &o.path,
                    &format!("no element \"{name}\" is declared"),
                ));
            };
            if !known_keys(section).contains(&key) {
                return Err(not_found(table, &o.path, "an element has only a price"));
            }
            element.set(key_named(key, &o.value.span), o.value.clone());
            Ok(())
        }
        Some(Layout::Data | Layout::Scenarios) | None => Err(not_found(
            table,
            &o.path,
            &format!("\"{section}\" is not a section of the plan"),
        )),
    }
}

fn ensure_table<'a>(table: &'a mut Table, key: &str, span: &Span) -> &'a mut Table {
    let missing = !matches!(
        table.get(key),
        Some(Node {
            value: Value::Table(_),
            ..
        })
    );
    if missing {
        table.set(
            key_named(key, span),
            Node {
                span: span.clone(),
                value: Value::Table(Table::default()),
            },
        );
    }
    match table.get_mut(key) {
        Some(Node {
            value: Value::Table(t),
            ..
        }) => t,
        // Just made sure it is a table.
        _ => unreachable!("ensure_table inserted a table"),
    }
}

fn apply_transport(table: &mut Table, rest: &[&str], o: &Override) -> Result<(), Error> {
    match rest {
        [kind, product] if is_rates(kind) && is_product(product) => {
            let transport = ensure_table(table, "transport", &o.value.span);
            let rates = ensure_table(transport, kind, &o.value.span);
            rates.set(key_named(product, &o.value.span), o.value.clone());
            Ok(())
        }
        ["lane", from, to, product] if is_product(product) => {
            let span = o.value.span.clone();
            let transport = ensure_table(table, "transport", &span);
            if transport.get("lane").is_none() {
                transport.set(
                    key_named("lane", &span),
                    Node {
                        span: span.clone(),
                        value: Value::Array(Vec::new()),
                    },
                );
            }
            let Some(Node {
                value: Value::Array(lanes),
                ..
            }) = transport.get_mut("lane")
            else {
                return Err(Error::Usage(format!("--set {}: [transport] lane is not an array", o.path)));
            };
            let is_pair = |n: &Node| match &n.value {
                Value::Table(t) => {
                    matches!(t.get("from"), Some(Node { value: Value::Str(f), .. }) if f == from)
                        && matches!(t.get("to"), Some(Node { value: Value::Str(x), .. }) if x == to)
                }
                _ => false,
            };
            let has_product =
                |n: &Node| matches!(&n.value, Value::Table(t) if t.get(product).is_some()) && is_pair(n);
            let slot = lanes.iter().position(has_product).or_else(|| lanes.iter().position(is_pair));
            let slot = match slot {
                Some(i) => i,
                None => {
                    let mut t = Table::default();
                    let s = |v: &str| Node {
                        span: span.clone(),
                        value: Value::Str(v.to_string()),
                    };
                    t.set(key_named("from", &span), s(from));
                    t.set(key_named("to", &span), s(to));
                    lanes.push(Node {
                        span: span.clone(),
                        value: Value::Table(t),
                    });
                    lanes.len() - 1
                }
            };
            if let Value::Table(t) = &mut lanes[slot].value {
                t.set(key_named(product, &span), o.value.clone());
            }
            Ok(())
        }
        _ => Err(not_found(
            table,
            &o.path,
            "expected transport.domestic.PRODUCT, transport.cross_border.PRODUCT or transport.lane.FROM.TO.PRODUCT",
        )),
    }
}

fn apply_to_entry(
    table: &mut Table,
    section: &str,
    rest: &[&str],
    o: &Override,
) -> Result<(), Error> {
    // Ids may contain dots: try the longest prefix that names an entry.
    let found = {
        let Some(Node {
            value: Value::Array(items),
            ..
        }) = table.get(section)
        else {
            return Err(not_found(
                table,
                &o.path,
                &format!("the plan has no [[{section}]] entries"),
            ));
        };
        (1..rest.len()).rev().find_map(|n| {
            let id = rest[..n].join(".");
            items
                .iter()
                .position(|item| matches!(&item.value, Value::Table(t) if matches!(t.get("id"), Some(Node { value: Value::Str(s), .. }) if *s == id)))
                .map(|i| (i, n))
        })
    };
    let Some((index, n)) = found else {
        return Err(not_found(
            table,
            &o.path,
            &format!("no {section} has the id given in this path"),
        ));
    };
    let key = rest[n];
    let sub = &rest[n + 1..];
    if !known_keys(section).contains(&key) || key == "id" {
        return Err(not_found(
            table,
            &o.path,
            &format!("a {section} has no key \"{key}\""),
        ));
    }
    let Some(Node {
        value: Value::Array(items),
        ..
    }) = table.get_mut(section)
    else {
        return Err(Error::Usage(format!(
            "--set {}: [[{section}]] is not an array",
            o.path
        )));
    };
    let Value::Table(entry) = &mut items[index].value else {
        return Err(Error::Usage(format!(
            "--set {}: the entry is not a table",
            o.path
        )));
    };
    let span = o.value.span.clone();
    match sub {
        [] => {
            entry.set(key_named(key, &span), o.value.clone());
            Ok(())
        }
        // grade.NdPr, recipe.Dy, recovery.Tb, capacity.2030, demand.2030, min_share.2030, ...
        sub => {
            let inner = sub.join(".");
            let target = match entry.get_mut(key) {
                Some(Node {
                    value: Value::Table(t), ..
                }) => t,
                Some(_) => {
                    return Err(Error::Usage(format!(
                        "--set {}: {key} of this {section} is a single value, not a table; set {section}.{}.{key} instead",
                        o.path,
                        rest[..n].join(".")
                    )))
                }
                None => {
                    entry.set(
                        key_named(key, &span),
                        Node {
                            span: span.clone(),
                            value: Value::Table(Table::default()),
                        },
                    );
                    match entry.get_mut(key) {
                        Some(Node {
                            value: Value::Table(t), ..
                        }) => t,
                        _ => unreachable!("a table was just inserted"),
                    }
                }
            };
            // A year written another way (`02026`) is that year: it
            // replaces the plan's own `2026` rather than adding a second
            // key the reader would then blame on the plan file.
            let inner = match inner.parse::<i64>() {
                Ok(year) => {
                    target
                        .entries
                        .retain(|(k, _)| k.name.parse::<i64>() != Ok(year));
                    year.to_string()
                }
                Err(_) => inner,
            };
            target.set(key_named(&inner, &span), o.value.clone());
            Ok(())
        }
    }
}
