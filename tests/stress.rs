//! `reeplan stress` against hand-computed exposures.

use std::process::Command;

/// Two identical mines (AU, BR), 1,000 t REO each, grade 1, cost 10; the
/// cheapest plan may use either, so a 60/60 split is forced by capacity
/// 60 each against 100 t of demand: each mine ships 50..60 t.
const PLAN: &str = r#"
[plan]
first_year = 2026
last_year = 2026
[elements.NdPr]
price = 1
[[mine]]
id = "m1"
country = "AU"
capacity = 60
cost = 10
grade = { NdPr = 1 }
[[mine]]
id = "m2"
country = "BR"
capacity = 60
cost = 20
grade = { NdPr = 1 }
[[refinery]]
id = "r"
country = "US"
capacity = 1000
[[magnet_plant]]
id = "p"
country = "US"
capacity = 1000
recipe = { NdPr = 1 }
[[market]]
id = "us"
country = "US"
demand = 100
"#;

#[test]
fn losing_one_of_two_mines() {
    // Min cost: m1 (cheaper) at its 60 t, m2 the other 40 t.
    // Lose m1: with the plan's own throughput m2 gives 40 t → 40 %; with
    //   idle capacity m2 gives 60 t → 60 %.
    // Lose m2: m1 keeps 60 t either way → 60 %.
    // Lose country US (refinery and plant): nothing → 0 %.
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("plan.toml");
    std::fs::write(&path, PLAN).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_reeplan"))
        .args(["stress", path.to_str().expect("utf-8"), "--format", "json"])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let exposures = j["exposures"].as_array().expect("exposures");
    let find = |loss: &str| {
        exposures
            .iter()
            .find(|e| e["loss"] == loss)
            .unwrap_or_else(|| panic!("no exposure {loss}: {j}"))
    };
    let close = |v: &serde_json::Value, x: f64| (v.as_f64().expect("number") - x).abs() < 1e-6;
    assert!(close(&find("m1 (AU)")["planned_share"], 0.4));
    assert!(close(&find("m1 (AU)")["idle_share"], 0.6));
    assert!(close(&find("m2 (BR)")["planned_share"], 0.6));
    assert!(close(&find("m2 (BR)")["idle_share"], 0.6));
    assert!(close(&find("country US")["planned_share"], 0.0));
    // Ranked: the biggest point of failure first.
    assert_eq!(exposures[0]["planned_share"].as_f64(), Some(0.0));
    let shares: Vec<f64> = exposures
        .iter()
        .map(|e| e["planned_share"].as_f64().unwrap_or(1.0))
        .collect();
    assert!(shares.windows(2).all(|w| w[0] <= w[1]), "{shares:?}");
}
