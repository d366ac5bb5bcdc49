//! Max-resilience: the budget curve and reserves, against hand values.

use std::process::Command;

fn run(args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_reeplan"))
        .args(args)
        .output()
        .expect("run reeplan");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

fn plan_path(name: &str) -> String {
    format!("{}/tests/plans/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn lambda_never_falls_as_the_budget_rises_and_matches_the_hand_curve() {
    // tests/plans/24: two identical suppliers, each disrupted in turn;
    // reserving spare capacity costs 10 per t against C* = 10,000, so each
    // 1 % of budget buys 1 pp: λ* = min(1, 0.5 + budget) (worked out in the
    // plan's header).
    let j = run(&[
        "frontier",
        &plan_path("24_resilience_partial.toml"),
        "--budget",
        "0:1:0.1",
        "--format",
        "json",
    ]);
    let points = j["points"].as_array().expect("points");
    // The 11 grid budgets, plus the points frontier adds where the curve bends.
    let budgets: Vec<f64> = points
        .iter()
        .map(|p| p["budget"].as_f64().unwrap())
        .collect();
    for k in 0..=10 {
        let b = k as f64 / 10.0;
        assert!(
            budgets.iter().any(|x| (x - b).abs() < 1e-9),
            "budget {b} missing: {budgets:?}"
        );
    }
    let mut last = 0.0;
    for p in points {
        let b = p["budget"].as_f64().unwrap();
        let l = p["lambda"].as_f64().unwrap();
        assert!(l >= last - 1e-7, "λ* fell at budget {b}");
        assert!((l - (0.5 + b).min(1.0)).abs() < 1e-6, "budget {b}: λ* {l}");
        last = l;
    }
}

#[test]
fn reserves_are_zero_when_they_are_useless() {
    // The only supply chain sits in one country whose exports stop: no
    // reserve anywhere can serve the market in the crisis, so λ* = 0 and the
    // cheapest plan holding λ* ≥ 0 buys no reserve even with a large budget.
    let text = r#"
[plan]
first_year = 2026
last_year = 2026
objective = "max-resilience"
[elements.NdPr]
price = 1
[resilience]
budget = 1.0
reserve_cost = 0.5
[[mine]]
id = "m"
country = "CN"
capacity = 1000
cost = 10
grade = { NdPr = 1 }
[[refinery]]
id = "r"
country = "CN"
capacity = 1000
cost = 10
[[magnet_plant]]
id = "p"
country = "CN"
capacity = 1000
cost = 10
recipe = { NdPr = 1 }
[[market]]
id = "us"
country = "US"
demand = 100
[[disruption]]
id = "cn-ban"
exports_from = ["CN"]
"#;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("plan.toml");
    std::fs::write(&path, text).expect("write");
    let j = run(&["solve", path.to_str().expect("utf-8"), "--format", "json"]);
    assert!(j["objective_value"].as_f64().unwrap().abs() < 1e-6);
    assert_eq!(j["cost"]["reserves"].as_f64().unwrap(), 0.0);
    assert!(j["resilience"]["reserves"].as_array().unwrap().is_empty());
    // C* = 100 × (10 + 10 + 10) = 3,000, and the reported plan costs just that.
    assert!((j["cost"]["total"].as_f64().unwrap() - 3000.0).abs() < 1e-6);
}
