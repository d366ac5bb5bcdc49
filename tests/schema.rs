//! `reeplan schema` is derived from the format's one definition: it accepts
//! every shipped plan and rejects a misspelt key (checked with a JSON Schema
//! validator), and `reeplan init` writes a plan that it accepts and that solves.

use std::path::Path;
use std::process::Command;

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
