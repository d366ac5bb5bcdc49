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

#[test]
fn reserve_sizing_curve_over_a_stockpile_capacity_matches_the_hand_curve() {
    // tests/plans/43: a two-year ban bridged by the US magnet stock L held at
    // the end of 2026; λ ≤ L / 200, L ≤ capacity C, and the budget (3,000 of
    // holding at 30 per t) allows L ≤ 100. So λ*(C) = min(C, 100) / 200 and
    // the cheapest plan at λ* holds L = 200 λ*: cost 30,000 + 30 × L.
    // Between points: λ* gains 0.5 pp per t and costs 30 per t up to C = 100.
    let j = run(&[
        "frontier",
        &plan_path("43_resilience_stock_bridge.toml"),
        "--stockpile",
        "s_us.capacity=0:160:40",
        "--format",
        "json",
    ]);
    assert_eq!(j["stockpile"], "s_us");
    assert_eq!(j["key"], "capacity");
    let points = j["points"].as_array().expect("points");
    let caps: Vec<f64> = points
        .iter()
        .map(|p| p["value"].as_f64().unwrap())
        .collect();
    assert_eq!(caps, vec![0.0, 40.0, 80.0, 120.0, 160.0]);
    let hand = |c: f64| {
        let l: f64 = c.min(100.0);
        (l / 200.0, 30_000.0 + 30.0 * l)
    };
    for (i, p) in points.iter().enumerate() {
        let c = caps[i];
        let (lambda, cost) = hand(c);
        assert_eq!(p["status"], "optimal");
        let got_l = p["lambda"].as_f64().unwrap();
        let got_c = p["cost"].as_f64().unwrap();
        assert!(
            (got_l - lambda).abs() < 1e-6,
            "C = {c}: λ* {got_l} vs {lambda}"
        );
        // λ* is held to within 1e-7 below its optimum in stage 3.
        assert!(
            (got_c - cost).abs() < 1e-2,
            "C = {c}: cost {got_c} vs {cost}"
        );
        if i == 0 {
            assert!(p["lambda_gain_pp_per_t"].is_null());
            continue;
        }
        let (l0, c0) = hand(caps[i - 1]);
        let gain = (lambda - l0) * 100.0 / 40.0;
        let per_t = (cost - c0) / 40.0;
        assert!(
            (p["lambda_gain_pp_per_t"].as_f64().unwrap() - gain).abs() < 1e-5,
            "C = {c}"
        );
        assert!(
            (p["cost_per_t"].as_f64().unwrap() - per_t).abs() < 1e-3,
            "C = {c}"
        );
    }
}

#[test]
fn reserve_sizing_names_a_missing_stockpile_and_a_wrong_key() {
    for (spec, want) in [
        (
            "nope.capacity=0:10:5",
            "no stockpile `nope` (the plan has: s_us)",
        ),
        (
            "s_us.holding_cost=0:10:5",
            "expected ID.KEY=START:STOP:STEP with KEY capacity or min_level",
        ),
        ("s_us.capacity=10:0:5", "need 0 <= START <= STOP"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_reeplan"))
            .args([
                "frontier",
                &plan_path("43_resilience_stock_bridge.toml"),
                "--stockpile",
                spec,
            ])
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2), "{spec}: a usage error");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{spec}: {err}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn reserve_sizing_keeps_going_past_values_the_plan_cannot_take() {
    // tests/plans/44 holds an initial 60 t: a capacity below that is invalid
    // at that point only; from 60 t on λ* is the plan's own 0.3 (its header).
    let out = Command::new(env!("CARGO_BIN_EXE_reeplan"))
        .args([
            "frontier",
            &plan_path("44_resilience_initial_stock.toml"),
            "--stockpile",
            "s_us.capacity=0:100:20",
            "--format",
            "json",
        ])
        .output()
        .expect("run");
    // The values it cannot take are bad input: exit 1, the table still whole.
    assert_eq!(out.status.code(), Some(1));
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let points = j["points"].as_array().expect("points");
    assert_eq!(points.len(), 6);
    for p in &points[..3] {
        assert_eq!(p["status"], "error", "{p}");
        assert!(
            p["error"]
                .as_str()
                .unwrap()
                .contains("must be at most capacity"),
            "{p}"
        );
    }
    for p in &points[3..] {
        assert_eq!(p["status"], "optimal", "{p}");
        assert!((p["lambda"].as_f64().unwrap() - 0.3).abs() < 1e-6, "{p}");
    }
    assert_ne!(
        out.status.code(),
        Some(0),
        "a curve with invalid points is not a clean success"
    );
}

/// `frontier` sets its own swept value at every point: a `--set` of it (or
/// of a table holding it) would be silently overwritten, so it is a usage
/// error in each mode (fuzzing).
#[test]
fn frontier_refuses_a_set_of_its_own_swept_value() {
    for (plan, args, says) in [
        (
            "04_share_forces_dearer_refinery.toml",
            vec!["--rule", "nonchina", "--set", "share_rule.nonchina.min_share=0.2"],
            "--set share_rule.nonchina.min_share: --rule sets share_rule.nonchina.min_share at every point",
        ),
        (
            "44_resilience_initial_stock.toml",
            vec!["--budget", "0:0.2:0.1", "--set", "resilience.budget=0.5"],
            "--set resilience.budget: --budget sets resilience.budget at every point",
        ),
        (
            "44_resilience_initial_stock.toml",
            vec!["--stockpile", "s_us.capacity=60:100:20", "--set", "stockpile.s_us.capacity=70"],
            "--set stockpile.s_us.capacity: --stockpile sets stockpile.s_us.capacity at every point",
        ),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_reeplan"))
            .arg("frontier")
            .arg(plan_path(plan))
            .args(&args)
            .output()
            .expect("run");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

/// us-reserve-2030 without its reserves and with every reserve at capacity
/// 0 are the same plan: λ* and the plan's cost agree to 1e-9 relative (at
/// HiGHS's default dual tolerance simplex had stopped the λ stage up to
/// 3e-5 short, with costs 14 M USD apart), and agree with IPM.
#[test]
fn equivalent_resilience_plans_give_the_same_answer() {
    let model = concat!(env!("CARGO_MANIFEST_DIR"), "/models/us-reserve-2030.toml");
    let zero: Vec<String> = [
        "us-ndpr-reserve",
        "us-dy-reserve",
        "us-tb-reserve",
        "us-magnet-reserve",
    ]
    .iter()
    .map(|id| format!("stockpile.{id}.capacity=0"))
    .collect();
    let solve = |extra: &[&str]| {
        let mut args = vec!["solve", model, "--format", "json"];
        args.extend_from_slice(extra);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_reeplan"))
            .args(&args)
            .output()
            .expect("run");
        let j: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        (
            j["objective_value"].as_f64().expect("λ*"),
            j["cost"]["total"].as_f64().expect("cost"),
        )
    };
    let mut zero_args: Vec<&str> = Vec::new();
    for z in &zero {
        zero_args.extend(["--set", z.as_str()]);
    }
    let none = solve(&["--scenario", "no-reserve"]);
    let empty = solve(&zero_args);
    let ipm = solve(&["--scenario", "no-reserve", "--solver", "ipm"]);
    for (what, other) in [("capacity 0", empty), ("IPM", ipm)] {
        assert!(
            (none.0 - other.0).abs() < 1e-9,
            "{what}: λ* {none:?} vs {other:?}"
        );
        assert!(
            (none.1 - other.1).abs() < 1e-9 * none.1,
            "{what}: cost {none:?} vs {other:?}"
        );
    }
}
