//! `reeplan schema` is derived from the format's one definition: it accepts
//! every shipped plan and rejects a misspelt key (checked with a JSON Schema
//! validator), and `reeplan init` writes a plan that it accepts and that solves.

use std::path::Path;
use std::process::Command;

use reeplan::plan::schema::{self, Field, Layout, Ty};

fn reeplan(args: &[&str], dir: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_reeplan"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run reeplan")
}

fn validator() -> jsonschema::Validator {
    let out = reeplan(&["schema"], Path::new(env!("CARGO_MANIFEST_DIR")));
    assert!(out.status.success());
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("a valid JSON Schema")
}

fn as_json(toml_text: &str) -> serde_json::Value {
    let value: toml::Value = toml::from_str(toml_text).expect("TOML");
    serde_json::to_value(value).expect("JSON")
}

#[test]
fn every_shipped_model_and_example_plan_is_valid() {
    let v = validator();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    for dir in ["models", "tests/plans"] {
        for entry in std::fs::read_dir(root.join(dir)).expect("dir") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "toml") {
                let doc = as_json(&std::fs::read_to_string(&path).expect("read"));
                let errors: Vec<String> = v.iter_errors(&doc).map(|e| e.to_string()).collect();
                assert!(errors.is_empty(), "{}: {errors:?}", path.display());
                checked += 1;
            }
        }
    }
    assert!(checked >= 10, "only {checked} plans found");
}

#[test]
fn a_misspelt_key_is_rejected() {
    let v = validator();
    let good = "[plan]\nfirst_year = 2026\nlast_year = 2026\n[elements.NdPr]\nprice = 1\n[[mine]]\nid = \"m\"\ncountry = \"AU\"\ncapacity = 10\ngrade = { NdPr = 0.2 }\n";
    assert!(v.is_valid(&as_json(good)));
    for bad in [
        good.replace("capacity = 10", "capcity = 10"),
        good.replace("first_year", "first_yaer"),
        good.replace("[elements.NdPr]\nprice = 1", "[elements.NdPr]\nprise = 1"),
        good.replace("grade = { NdPr = 0.2 }", "grade = { NdPr = 1.4 }"),
        // (`2026.0` for an integer cannot be caught: JSON Schema counts a
        // float with no fraction as an integer; `reeplan check` catches it.)
        good.replace("first_year = 2026", "first_year = \"2026\""),
        good.to_string() + "[scenario.s]\n[scenario.s.plan]\nlast_yaer = 2027\n",
    ] {
        assert!(!v.is_valid(&as_json(&bad)), "accepted:\n{bad}");
    }
}

#[test]
fn init_writes_a_commented_plan_that_is_valid_and_solves() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = reeplan(&["init", "starter"], dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = dir.path().join("starter.toml");
    let text = std::fs::read_to_string(&path).expect("starter.toml written");
    assert!(text.starts_with("# "), "commented");
    assert!(validator().is_valid(&as_json(&text)));
    let solved = reeplan(&["solve", "starter.toml", "--format", "json"], dir.path());
    assert_eq!(
        solved.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&solved.stderr)
    );
    // A second init does not overwrite.
    let again = reeplan(&["init", "starter"], dir.path());
    assert_eq!(again.status.code(), Some(2));
}

/// A small valid plan with one entry of every section that holds a bounded
/// number, arranged so that each number may sit on its bounds without
/// breaking a rule across fields: one element in `grade` (its values must
/// add up to at most 1), two in `recipe` (one must stay `> 0`), a contract
/// with `min` but no `max` (`min <= max`; a penalty needs `min`), expand and
/// stockpile capacities of 1e12 (`min_build <= max`, `initial <= capacity`),
/// a magnet tariff with `[prices] magnet` set (an ad-valorem duty needs a
/// price) and a subsidy that matches no facility (none may be paid more
/// than its cost).
const EVERY_BOUND: &str = r#"
[plan]
first_year = 2026
last_year = 2027
discount_rate = 0.05

[elements.NdPr]
price = 60000

[elements.Dy]
price = 300000

[prices]
concentrate = 1000
magnet = 50000

[[mine]]
id = "m"
country = "AU"
capacity = 1000
cost = 2000
ramp = [0.5]
grade = { NdPr = 0.2 }
expand = { capex = 100, max = 1e12, lifetime = 20, fixed_cost = 1, min_build = 0 }

[[refinery]]
id = "r"
country = "MY"
capacity = 1000
cost = 5000
recovery = 0.9
expand = { capex = 100, max = 1e12 }

[[magnet_plant]]
id = "p"
country = "US"
capacity = 500
cost = 30000
recipe = { NdPr = 0.3, Dy = 0.05 }
expand = { capex = 100, max = 1e12 }

[[market]]
id = "us"
country = "US"
demand = 100
unmet_penalty = 1e6

[transport]
domestic = { concentrate = 1, oxide = 1, magnet = 1 }
cross_border = { concentrate = 2, oxide = 2, magnet = 2 }

[[transport.lane]]
from = "AU"
to = "MY"
concentrate = 3

[[tariff]]
id = "t"
product = "magnet"
from = "*"
to = "US"
per_tonne = 1

[[share_rule]]
id = "s"
min_share = 0.5
penalty = 10

[resilience]
budget = 0.1
reserve_cost = 0

[[disruption]]
id = "d"
countries = ["AU"]
capacity_factor = 0.5

[[contract]]
id = "c"
from = "m"
to = ["r"]
min = 0
penalty = 5

[[subsidy]]
id = "sub"
stage = "mining"
countries = ["NZ"]
per_tonne = 0
share_of_cost = 0

[[stockpile]]
id = "st"
country = "US"
product = "magnet"
capacity = 1e12
initial = 0
min_level = 0
holding_cost = 1
"#;

/// One step from a table of the plan to a table inside it: the table under
/// a key, or the first entry of the array of tables under a key.
#[derive(Clone, Copy, Debug)]
enum Step {
    Key(&'static str),
    FirstOf(&'static str),
}

/// Every field of the table that holds a bounded number, with the steps to
/// the table it is written in (nested tables, lanes and product rates too).
fn bounded_fields(fields: &'static [Field], at: &[Step], out: &mut Vec<(Vec<Step>, Field)>) {
    let inside = |steps: &[Step]| [at, steps].concat();
    for f in fields {
        match f.ty {
            Ty::Table(inner) => bounded_fields(inner, &inside(&[Step::Key(f.name)]), out),
            Ty::Tables(inner) => bounded_fields(inner, &inside(&[Step::FirstOf(f.name)]), out),
            Ty::ProductRates => {
                bounded_fields(schema::PRODUCT_RATES, &inside(&[Step::Key(f.name)]), out)
            }
            Ty::IntegerAtLeast { .. } => out.push((at.to_vec(), *f)),
            ty if ty.bounds().is_some() => out.push((at.to_vec(), *f)),
            _ => {}
        }
    }
}

/// The table `steps` lead to (the base plan has every one).
fn table_at<'a>(root: &'a mut toml::Table, steps: &[Step]) -> &'a mut toml::Table {
    steps.iter().fold(root, |table, step| match step {
        Step::Key(k) => table
            .get_mut(*k)
            .and_then(|v| v.as_table_mut())
            .unwrap_or_else(|| panic!("the base plan has no table {k}")),
        Step::FirstOf(k) => table
            .get_mut(*k)
            .and_then(|v| v.as_array_mut())
            .and_then(|a| a.first_mut())
            .and_then(|v| v.as_table_mut())
            .unwrap_or_else(|| panic!("the base plan has no [[{k}]] entry")),
    })
}

/// The written forms of a number `v` for a field of type `ty`, each with
/// what a message adds to the field's name (` 2026`, ` NdPr`). `current` is
/// the field's value in the base plan (an element table keeps its other
/// elements).
fn forms(ty: Ty, v: f64, current: Option<&toml::Value>) -> Vec<(toml::Value, &'static str)> {
    let n = toml::Value::Float(v);
    let one = |key: &str| {
        let mut t = current
            .and_then(|c| c.as_table().cloned())
            .unwrap_or_default();
        t.insert(key.to_string(), n.clone());
        toml::Value::Table(t)
    };
    match ty {
        Ty::Number(_) => vec![(n.clone(), "")],
        Ty::PerYear(_) => vec![(n.clone(), ""), (one("2026"), " 2026")],
        Ty::PerElement(_) => vec![(one("NdPr"), " NdPr")],
        Ty::Recovery(_) => vec![(n.clone(), ""), (one("NdPr"), " NdPr")],
        Ty::Ramp(_) => vec![(toml::Value::Array(vec![n.clone()]), "")],
        Ty::IntegerAtLeast { .. } => vec![(toml::Value::Integer(v as i64), "")],
        other => panic!("{other:?} holds no bounded number"),
    }
}

/// Values on each bound (accepted) and just outside it (rejected); for an
/// exclusive minimum, the minimum itself is outside and just above it inside.
fn probes(ty: Ty) -> Vec<(f64, bool)> {
    if let Ty::IntegerAtLeast { min, .. } = ty {
        return vec![(min as f64, true), (min as f64 - 1.0, false)];
    }
    let b = ty.bounds().expect("bounded");
    let step = |x: f64| 1e-6 * x.abs().max(1.0);
    let mut out = if b.exclusive_min {
        vec![(b.min + step(b.min), true), (b.min, false)]
    } else {
        vec![(b.min, true), (b.min - step(b.min), false)]
    };
    assert!(
        b.max.is_finite(),
        "{ty:?}: every number has a largest value"
    );
    out.extend([(b.max, true), (b.max + step(b.max), false)]);
    out
}

#[test]
fn every_bound_of_the_field_table_is_the_one_the_loader_and_the_json_schema_check() {
    let base: toml::Table = toml::from_str(EVERY_BOUND).expect("TOML");
    let load = |root: &toml::Table| {
        let text = toml::to_string(root).expect("TOML text");
        reeplan::plan::PlanSource::from_text(Path::new("plan.toml"), text)
    };
    assert!(load(&base).is_ok(), "the base plan is valid");
    let validator = jsonschema::validator_for(&schema::json_schema()).expect("a JSON Schema");

    let mut fields = Vec::new();
    for &(name, layout) in schema::TOP {
        let at = match layout {
            Layout::Table => vec![Step::Key(name)],
            Layout::Map => vec![Step::Key(name), Step::Key("NdPr")],
            Layout::Array => vec![Step::FirstOf(name)],
            // CSV rows are read as [[mine]] entries; a scenario as the plan.
            Layout::Data | Layout::Scenarios => continue,
        };
        bounded_fields(schema::fields(name), &at, &mut fields);
    }
    let mut checked = 0;
    for (at, field) in &fields {
        for (v, accepted) in probes(field.ty) {
            let current = table_at(&mut base.clone(), at).get(field.name).cloned();
            for (value, suffix) in forms(field.ty, v, current.as_ref()) {
                let mut root = base.clone();
                table_at(&mut root, at).insert(field.name.to_string(), value.clone());
                let what = format!("{at:?} {} = {value}", field.name);
                let json = serde_json::to_value(&root).expect("JSON");
                assert_eq!(validator.is_valid(&json), accepted, "JSON Schema, {what}");
                match load(&root) {
                    Ok(_) => assert!(accepted, "the loader accepts {what}"),
                    Err(reeplan::Error::Plan(diags)) => {
                        assert!(!accepted, "the loader rejects {what}: {diags:?}");
                        let named = format!(" {}{suffix} = ", field.name);
                        assert!(
                            diags.iter().any(
                                |d| d.message.contains(&named) && d.message.contains("must be")
                            ),
                            "no error names{named}for {what}: {diags:?}"
                        );
                    }
                    Err(e) => panic!("{what}: {e}"),
                }
                checked += 1;
            }
        }
    }
    // 58 bounded fields of 15 sections, each on and just outside both bounds.
    assert!(fields.len() >= 58, "only {} bounded fields", fields.len());
    assert!(checked >= 4 * 58, "only {checked} probes");
}
