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
    stress_json_with(text, &[])
}

fn stress_json_with(text: &str, extra: &[&str]) -> serde_json::Value {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("plan.toml");
    std::fs::write(&path, text).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_reeplan"))
        .args(["stress", path.to_str().expect("utf-8"), "--format", "json"])
        .args(extra)
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

/// Two markets compete for one year's supply. The CN mine is cheap (cost
/// 10), the AU mine dear (1,000); 1 t REO makes 1 t magnet (grade 0.3,
/// recipe 0.3). Demand: a (US) 80 t, b (DE) 40 t, each with a penalty.
const COMPETING: &str = r#"
[plan]
first_year = 2026
last_year = 2026
[elements.NdPr]
price = 1
[[mine]]
id = "m_cn"
country = "CN"
capacity = 100
cost = 10
grade = { NdPr = 0.3 }
[[mine]]
id = "m_au"
country = "AU"
capacity = 100
cost = 1000
grade = { NdPr = 0.3 }
[[refinery]]
id = "r"
country = "MY"
capacity = 1000
[[magnet_plant]]
id = "p"
country = "US"
capacity = 1000
recipe = { NdPr = 0.3 }
[[market]]
id = "a"
country = "US"
demand = 80
unmet_penalty = 1000000
[[market]]
id = "b"
country = "DE"
demand = 40
unmet_penalty = 1000000
"#;

/// `(planned_unserved, planned_share, idle_unserved, idle_share)` of one
/// loss and market.
fn exposure(j: &serde_json::Value, loss: &str, market: &str) -> [f64; 4] {
    let e = j["exposures"]
        .as_array()
        .expect("exposures")
        .iter()
        .find(|e| e["loss"] == loss && e["market"] == market)
        .unwrap_or_else(|| panic!("no row {loss} / {market} in {j}"));
    [
        "planned_unserved",
        "planned_share",
        "idle_unserved",
        "idle_share",
    ]
    .map(|k| e[k].as_f64().unwrap_or_else(|| panic!("{k} of {e}")))
}

fn assert_exposure(j: &serde_json::Value, loss: &str, market: &str, want: [f64; 4]) {
    let got = exposure(j, loss, market);
    for (g, w) in got.iter().zip(want) {
        assert!(
            (g - w).abs() < 1e-6,
            "{loss} / {market}: {got:?}, want {want:?}"
        );
    }
}

#[test]
fn markets_compete_for_what_is_left() {
    // The plan: 120 t of magnet from 120 t REO, m_cn at its 100 t, m_au 20.
    // Lose CN (the country, or its exports: the mine ships to MY):
    //   plan's throughput: m_au's 20 t for 120 t of demand, shared alike:
    //     20/120 = 1/6 each; a short 80 × 5/6 = 66.667, b 40 × 5/6 = 33.333;
    //   idle capacity: m_au's 100 t: 5/6 each; a short 13.333, b 6.667.
    // Each market alone would be served 20/80 = 25 % and 20/40 = 50 %
    // (plan's throughput), 100 % with idle capacity.
    let j = stress_json(COMPETING);
    assert_eq!(j["allocation"], "joint");
    for loss in ["country CN", "exports from CN", "m_cn (CN)"] {
        assert_exposure(
            &j,
            loss,
            "a",
            [200.0 / 3.0, 1.0 / 6.0, 40.0 / 3.0, 5.0 / 6.0],
        );
        assert_exposure(
            &j,
            loss,
            "b",
            [100.0 / 3.0, 1.0 / 6.0, 20.0 / 3.0, 5.0 / 6.0],
        );
    }
    // Lose AU: m_cn's 100 t (plan's and idle): 5/6 each.
    assert_exposure(
        &j,
        "country AU",
        "a",
        [40.0 / 3.0, 5.0 / 6.0, 40.0 / 3.0, 5.0 / 6.0],
    );
    // Ranked by t unserved: losing the refinery or the plant (or their
    // countries) leaves a's whole 80 t unserved; then a's 66.7 t of the CN
    // losses come before b's whole 40 t.
    let unserved: Vec<(String, f64)> = j["exposures"]
        .as_array()
        .expect("exposures")
        .iter()
        .map(|e| {
            (
                e["market"].as_str().unwrap_or("").to_string(),
                e["planned_unserved"].as_f64().unwrap_or(f64::NAN),
            )
        })
        .collect();
    assert!(
        unserved[..4]
            .iter()
            .all(|(m, t)| m == "a" && (t - 80.0).abs() < 1e-6),
        "{unserved:?}"
    );
    assert!(
        unserved[4..7]
            .iter()
            .all(|(m, t)| m == "a" && (t - 200.0 / 3.0).abs() < 1e-6),
        "{unserved:?}"
    );
    assert!(
        unserved.windows(2).all(|w| w[0].1 >= w[1].1 - 1e-9),
        "{unserved:?}"
    );

    let alone = stress_json_with(COMPETING, &["--each-alone"]);
    assert_eq!(alone["allocation"], "each-alone");
    assert_exposure(&alone, "country CN", "a", [60.0, 0.25, 0.0, 1.0]);
    assert_exposure(&alone, "country CN", "b", [20.0, 0.5, 0.0, 1.0]);
}

#[test]
fn a_market_of_higher_value_is_served_first() {
    // b's shortfall costs twice a's: b gets what it needs first.
    //   plan's throughput (20 t): b 20 of 40 (short 20), a nothing (80);
    //   idle capacity (100 t): b 40 (short 0), a 60 (short 20).
    let text = COMPETING.replacen(
        "demand = 40\nunmet_penalty = 1000000",
        "demand = 40\nunmet_penalty = 2000000",
        1,
    );
    assert_ne!(text, COMPETING);
    let j = stress_json(&text);
    assert_exposure(&j, "country CN", "a", [80.0, 0.0, 20.0, 0.75]);
    assert_exposure(&j, "country CN", "b", [20.0, 0.5, 0.0, 1.0]);
}

#[test]
fn the_table_names_the_assumption_and_folds_what_loses_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("plan.toml");
    std::fs::write(&path, COMPETING).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_reeplan"))
        .args(["stress", path.to_str().expect("utf-8"), "--format", "csv"])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    // Losses: countries AU, CN, MY, US; exports from CN; m_cn, m_au, r, p.
    // Every one but none leaves a or b short; nothing is folded.
    let rows: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    assert_eq!(rows.len(), 18, "{text}");
    let md = Command::new(env!("CARGO_BIN_EXE_reeplan"))
        .args([
            "stress",
            path.to_str().expect("utf-8"),
            "--format",
            "markdown",
        ])
        .output()
        .expect("run");
    let md = String::from_utf8_lossy(&md.stdout);
    assert!(md.contains("The markets compete for what is left"), "{md}");
}
