//! Soft share rules (`penalty`, an extension of format version 1): the
//! optimum and the shortfall against hand computations.
//!
//! The plan is FORMULATION.md's segregation example: compliance with the
//! 50 % rule costs 660,000 − 420,000 = 240,000 for 50 t of clean magnet,
//! i.e. 4,800 per t (0.03 t Dy × (200,000 − 40,000)).

use std::process::Command;

fn solve(penalty: &str) -> serde_json::Value {
    let base = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/spec/examples/segregation.toml"
    ))
    .or_else(|_| {
        std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/plans/02_segregation.toml"
        ))
    })
    .expect("segregation example");
    let text = base.replacen("min_share = 0.5", &format!("min_share = 0.5\n{penalty}"), 1);
    assert_ne!(text, base, "the plan must have the rule");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("plan.toml");
    std::fs::write(&path, text).expect("write plan");
    let out = Command::new(env!("CARGO_BIN_EXE_reeplan"))
        .args([
            "solve",
            path.to_str().expect("utf-8 path"),
            "--format",
            "json",
        ])
        .output()
        .expect("run reeplan");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * b.abs().max(1.0)
}

#[test]
fn penalty_below_the_cost_of_compliance_buys_the_whole_shortfall() {
    // 3,000 per t < 4,800: no clean magnets; 50 t short × 3,000 = 150,000.
    let d = solve("penalty = 3000");
    assert!(close(
        d["objective_value"].as_f64().unwrap(),
        420_000.0 + 150_000.0
    ));
    assert!(close(d["cost"]["rules"].as_f64().unwrap(), 150_000.0));
    assert!(close(d["shares"][0]["shortfall"].as_f64().unwrap(), 50.0));
    // The shadow price is capped by the penalty: 3,000 per t = 3,000 per pp of 100 t.
    assert!(close(
        d["shares"][0]["shadow_price"].as_f64().unwrap(),
        3_000.0
    ));
    let parts: f64 = [
        "production",
        "transport",
        "tariffs",
        "unmet",
        "reserves",
        "rules",
    ]
    .iter()
    .map(|k| d["cost"][k].as_f64().unwrap())
    .sum();
    assert!(close(parts, d["cost"]["total"].as_f64().unwrap()));
}

#[test]
fn penalty_above_the_cost_of_compliance_meets_the_rule_exactly() {
    let d = solve("penalty = 5000");
    assert!(close(d["objective_value"].as_f64().unwrap(), 660_000.0));
    assert_eq!(d["shares"][0]["shortfall"].as_f64().unwrap(), 0.0);
    assert!(close(d["shares"][0]["achieved"].as_f64().unwrap(), 0.5));
    assert_eq!(d["cost"]["rules"].as_f64().unwrap(), 0.0);
}

#[test]
fn a_negative_penalty_is_rejected() {
    let base = "[plan]\nfirst_year = 2026\nlast_year = 2026\n[elements.NdPr]\n[[market]]\nid = \"us\"\ncountry = \"US\"\ndemand = 0\n[[share_rule]]\nid = \"r\"\nmin_share = 0.5\npenalty = -1\n";
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("plan.toml");
    std::fs::write(&path, base).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_reeplan"))
        .args(["check", path.to_str().expect("utf-8")])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("plan.toml:12:11: share_rule \"r\" penalty = -1: must be >= 0"),
        "{err}"
    );
}
