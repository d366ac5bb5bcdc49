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

fn stress_json(text: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("plan.toml");
    std::fs::write(&path, text).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_reeplan"))
        .args(["stress", path.to_str().expect("utf-8"), "--format", "json"])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

fn share_of(j: &serde_json::Value, loss: &str, side: &str) -> f64 {
    j["exposures"]
        .as_array()
        .expect("exposures")
        .iter()
        .find(|e| e["loss"] == loss)
        .unwrap_or_else(|| panic!("no exposure {loss}: {j}"))[side]
        .as_f64()
        .expect("share")
}

/// One mine, one refinery (AU, MY, ample), two plants: p_cn (CN, 60 t,
/// cost 0) and p_us (US, no capacity, may build up to 100 t/yr, capex 1 per
/// t/yr, cost 10 per t). 100 t of demand in the US, 2026 only.
const BUILT: &str = r#"
[plan]
first_year = 2026
last_year = 2026
[elements.NdPr]
price = 1
[[mine]]
id = "m"
country = "AU"
capacity = 1000
grade = { NdPr = 1 }
[[refinery]]
id = "r"
country = "MY"
capacity = 1000
[[magnet_plant]]
id = "p_cn"
country = "CN"
capacity = 60
recipe = { NdPr = 1 }
[[magnet_plant]]
id = "p_us"
country = "US"
capacity = 0
cost = 10
recipe = { NdPr = 1 }
expand = { capex = 1, max = 100 }
[[market]]
id = "us"
country = "US"
demand = 100
"#;

#[test]
fn idle_capacity_counts_what_the_plan_builds() {
    // Min cost: p_cn makes its 60 t; 40 t/yr are built at p_us and used.
    // Lose CN: p_us is left with its built 40 t → 40 % on both sides (the
    // 60 t more it could still build are not capacity the plan has).
    // Lose p_us: p_cn's 60 t → 60 % on both sides.
    let j = stress_json(BUILT);
    assert!((share_of(&j, "country CN", "planned_share") - 0.4).abs() < 1e-6);
    assert!((share_of(&j, "country CN", "idle_share") - 0.4).abs() < 1e-6);
    assert!((share_of(&j, "p_us (US)", "planned_share") - 0.6).abs() < 1e-6);
    assert!((share_of(&j, "p_us (US)", "idle_share") - 0.6).abs() < 1e-6);
}

/// The only plant is in China; the US holds a magnet stockpile of 30 t
/// that must stay full (min_level 30), 2026–2027, 100 t of demand a year.
const STOCK: &str = r#"
[plan]
first_year = 2026
last_year = 2027
[elements.NdPr]
price = 1
[[mine]]
id = "m"
country = "AU"
capacity = 1000
grade = { NdPr = 1 }
[[refinery]]
id = "r"
country = "MY"
capacity = 1000
[[magnet_plant]]
id = "p_cn"
country = "CN"
capacity = 1000
cost = 1
recipe = { NdPr = 1 }
[[market]]
id = "us"
country = "US"
demand = 100
[[stockpile]]
id = "s_us"
country = "US"
product = "magnet"
capacity = 30
initial = 30
min_level = 30
[[disruption]]
id = "ban-2027"
exports_from = ["CN"]
years = [2027, 2027]
"#;

#[test]
fn stress_draws_on_the_stock_the_plan_holds() {
    // Lose CN over the whole horizon: only the initial 30 t reach the US,
    // shared over two years: 200 λ ≤ 30 → λ = 15 %.
    // The 2027 ban: the plan holds 30 t at the end of 2026 → 30 %.
    // Lose p_cn (a facility, all years): 15 % as for the country.
    let j = stress_json(STOCK);
    for side in ["planned_share", "idle_share"] {
        assert!(
            (share_of(&j, "country CN", side) - 0.15).abs() < 1e-6,
            "{j}"
        );
        assert!(
            (share_of(&j, "disruption ban-2027", side) - 0.30).abs() < 1e-6,
            "{j}"
        );
        assert!((share_of(&j, "p_cn (CN)", side) - 0.15).abs() < 1e-6, "{j}");
    }
}

#[test]
fn a_disruption_outside_the_horizon_is_named_not_dropped_silently() {
    let text = STOCK.replace("years = [2027, 2027]", "years = [2030, 2031]");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("plan.toml");
    std::fs::write(&path, text).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_reeplan"))
        .args(["stress", path.to_str().expect("utf-8"), "--format", "json"])
        .output()
        .expect("run");
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("note: disruption ban-2027 (years 2030–2031) lies outside the plan's years 2026–2027: nothing to stress"),
        "{err}"
    );
}
