//! docs/plan-format.md against the field table the loader uses
//! (`reeplan::plan::schema`): every section's documented keys are exactly
//! the keys the loader accepts, "required" is said exactly of the required
//! fields, and each documented type agrees with the field's type. A field
//! added to the table without its line in the docs (or the other way round)
//! fails here.

use std::collections::{BTreeMap, BTreeSet};

use reeplan::plan::schema::{self, Field, Layout, Ty};

/// One documented key: (type column, default column).
type Row = (String, String);

/// The key tables of docs/plan-format.md, by the heading above them (in
/// order, one entry per table).
fn doc_tables() -> Vec<(String, BTreeMap<String, Row>)> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/plan-format.md"))
        .expect("docs/plan-format.md");
    let mut out: Vec<(String, BTreeMap<String, Row>)> = Vec::new();
    let mut heading = String::new();
    let mut in_table = false;
    for line in text.lines() {
        if line.starts_with('#') {
            heading = line.trim_start_matches('#').trim().to_string();
            in_table = false;
            continue;
        }
        if line.starts_with("| key | type | default |") {
            out.push((heading.clone(), BTreeMap::new()));
            in_table = true;
            continue;
        }
        if !line.starts_with('|') {
            in_table = false;
            continue;
        }
        if !in_table || line.starts_with("|---") {
            continue;
        }
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
        let key = cells[0].trim_matches('`').to_string();
        let table = &mut out.last_mut().expect("a table").1;
        assert!(
            table
                .insert(key.clone(), (cells[1].to_string(), cells[2].to_string()))
                .is_none(),
            "{heading}: key {key} documented twice"
        );
    }
    out
}

fn tables_under(heading: &str) -> Vec<BTreeMap<String, Row>> {
    let found: Vec<_> = doc_tables()
        .into_iter()
        .filter(|(h, _)| h == heading)
        .map(|(_, t)| t)
        .collect();
    assert!(!found.is_empty(), "no key table under heading {heading:?}");
    found
}

/// The documented type says what the field's type is, and the range of
/// its numbers: a share "in `[0, 1]`" (or `(0, 1]`), anything else
/// "`>= 0`" (the caps of decision 30 are documented in docs/reliability.md).
fn type_agrees(ty: &Ty, doc: &str) -> bool {
    let range_agrees = match ty.bounds() {
        Some(b) if b.why.is_none() => {
            let open = if b.exclusive_min { "(" } else { "[" };
            doc.contains(&format!("{open}{}, {}]", b.min, b.max))
        }
        Some(b) => doc.contains(&format!("`>= {}`", b.min)),
        None => true,
    };
    range_agrees
        && match ty {
            Ty::Integer => doc.starts_with("integer"),
            Ty::IntegerAtLeast { min, .. } => doc.starts_with(&format!("integer `>= {min}`")),
            Ty::Bool => doc.starts_with("boolean"),
            Ty::Str => doc.contains("string") || doc.contains("name"),
            Ty::Id => doc.contains("id"),
            Ty::Country | Ty::CountryOrAny => doc.contains("country"),
            Ty::Number(_) => doc.contains("number"),
            Ty::PerYear(_) => doc.contains("per year"),
            Ty::YearRange => doc.contains("year range") || doc.contains("[first, last]"),
            Ty::PerElement(_) => doc.contains("element"),
            Ty::Recovery(_) => doc.contains("number") && doc.contains("element"),
            Ty::Ramp(_) | Ty::Strings | Ty::Countries => {
                doc.contains("array") || doc.contains("list")
            }
            Ty::OneOf(values) => values.iter().all(|v| doc.contains(&format!("\"{v}\""))),
            Ty::ProductRates => doc.contains("product"),
            Ty::Table(_) | Ty::Tables(_) => true,
        }
}

#[track_caller]
fn agrees(what: &str, fields: &[Field], documented: &BTreeMap<String, Row>, undocumented: &[&str]) {
    let want: BTreeSet<&str> = fields
        .iter()
        .map(|f| f.name)
        .filter(|n| !undocumented.contains(n))
        .collect();
    let got: BTreeSet<&str> = documented.keys().map(String::as_str).collect();
    assert_eq!(
        got, want,
        "{what}: documented keys differ from the field table"
    );
    for f in fields.iter().filter(|f| !undocumented.contains(&f.name)) {
        let (ty, default) = &documented[f.name];
        let says_required = default.trim_matches('*') == "required";
        assert_eq!(
            says_required, f.required,
            "{what}.{}: the docs' default {default:?} vs required = {}",
            f.name, f.required
        );
        assert!(
            type_agrees(&f.ty, ty),
            "{what}.{}: documented type {ty:?} vs {:?}",
            f.name,
            f.ty
        );
        // A number the docs give as the default is the table's default, and
        // the other way round.
        let shown: Option<f64> = default.trim_matches('`').parse().ok();
        match (f.default, shown) {
            (Some(d), Some(v)) => assert_eq!(
                d, v,
                "{what}.{}: default {d} in the table, {v} in the docs",
                f.name
            ),
            (Some(d), None) => panic!(
                "{what}.{}: the table's default {d} is not what the docs say ({default:?})",
                f.name
            ),
            (None, Some(v)) if !f.required => panic!(
                "{what}.{}: the docs give default {v}, the table none",
                f.name
            ),
            _ => {}
        }
    }
}

fn merged(tables: &[BTreeMap<String, Row>]) -> BTreeMap<String, Row> {
    tables.iter().flat_map(|t| t.clone()).collect()
}

#[test]
fn every_section_documents_exactly_the_fields_the_loader_accepts() {
    agrees("[plan]", schema::PLAN, &tables_under("`[plan]`")[0], &[]);
    agrees(
        "[elements.NAME]",
        schema::ELEMENT,
        &tables_under("`[elements.NAME]`")[0],
        &[],
    );
    agrees(
        "[prices]",
        schema::PRICES,
        &tables_under("`[prices]`")[0],
        &[],
    );
    agrees(
        "[[market]]",
        schema::MARKET,
        &tables_under("`[[market]]`")[0],
        &[],
    );
    let transport = tables_under("`[transport]` and `[[transport.lane]]`");
    assert_eq!(transport.len(), 2);
    // `lane` is documented as its own array of tables, below.
    agrees("[transport]", schema::TRANSPORT, &transport[0], &["lane"]);
    agrees("[[transport.lane]]", schema::LANE, &transport[1], &[]);
    agrees(
        "[[tariff]]",
        schema::TARIFF,
        &tables_under("`[[tariff]]`")[0],
        &[],
    );
    agrees(
        "[[embargo]]",
        schema::EMBARGO,
        &tables_under("`[[embargo]]`")[0],
        &[],
    );
    agrees(
        "[[share_rule]]",
        schema::SHARE_RULE,
        &tables_under("`[[share_rule]]`")[0],
        &[],
    );
    agrees(
        "[resilience]",
        schema::RESILIENCE,
        &tables_under("`[resilience]`")[0],
        &[],
    );
    agrees(
        "[[disruption]]",
        schema::DISRUPTION,
        &tables_under("`[[disruption]]`")[0],
        &[],
    );
    agrees(
        "expand",
        schema::EXPAND,
        &tables_under("`expand`: capacity that may be built")[0],
        &[],
    );
    agrees(
        "[[contract]]",
        schema::CONTRACT,
        &tables_under("`[[contract]]`: offtake, supply and captive chains")[0],
        &[],
    );
    agrees(
        "[[subsidy]]",
        schema::SUBSIDY,
        &tables_under("`[[subsidy]]`: production credits and price supports")[0],
        &[],
    );
    agrees(
        "[[stockpile]]",
        schema::STOCKPILE,
        &tables_under("`[[stockpile]]`: stock carried from year to year")[0],
        &[],
    );
    // Facilities: the common table plus each kind's own; `expand` has its
    // own section (checked above).
    let common = tables_under("Facilities: `[[mine]]`, `[[refinery]]`, `[[magnet_plant]]`");
    for (kind, fields) in [
        ("[[mine]]", schema::MINE),
        ("[[refinery]]", schema::REFINERY),
        ("[[magnet_plant]]", schema::MAGNET_PLANT),
    ] {
        let own = tables_under(&format!("`{kind}`"));
        let documented = merged(&[common[0].clone(), own[0].clone()]);
        agrees(kind, fields, &documented, &["expand"]);
        assert!(
            fields.iter().any(|f| f.name == "expand"),
            "{kind} has expand"
        );
    }
}

#[test]
fn every_top_level_section_of_the_field_table_has_a_heading_in_the_docs() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/plan-format.md"))
        .expect("docs");
    let headings: Vec<&str> = text.lines().filter(|l| l.starts_with('#')).collect();
    for (name, layout) in schema::TOP {
        let written = match layout {
            Layout::Array => format!("[[{name}]]"),
            Layout::Map => format!("[{name}.NAME]"),
            Layout::Scenarios => "[scenario.NAME]".to_string(),
            Layout::Table | Layout::Data => format!("[{name}]"),
        };
        assert!(
            headings.iter().any(|h| h.contains(&format!("`{written}`"))),
            "no heading documents `{written}`"
        );
    }
}
