//! The shipped models under `models/`, run through the real `reeplan`
//! binary: every model loads (`check`), the base plan and every
//! `[scenario.NAME]` solve to optimality, and each model's headline figures
//! stay where its header comment says they are.
//!
//! The expected numbers below are copied from the `RESULT` section of each
//! model's header comment (figures cross-checked against an independent LP),
//! never from the program's output. Each tolerance is about one unit in the
//! last digit the header states (e.g. ± 0.01 bn for "136.40 bn", ± 0.1 kt
//! for "16.8 kt"), or 0.5 % where the header says "about".
//!
//! A change to the data or the formulation that moves a headline figure must
//! be explained: update the model's header (RESULT, with the reason) first,
//! then the number here. Never adjust an expected number to whatever the
//! program prints without that explanation.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const BN: f64 = 1e9;
const M: f64 = 1e6;
const KT: f64 = 1e3;

/// The models this file pins, by file name. A new model under models/ must
/// get its headline figures pinned here (see `every_model_has_pinned_headlines`).
const PINNED: &[&str] = &[
    "china-export-ban.toml",
    "dfars-2027.toml",
    "eu-crma-2030.toml",
    "resilience-2030.toml",
    "tariff-scenarios.toml",
    "us-baseline.toml",
    "us-build-2030.toml",
    "us-magnets-2035.toml",
    "us-reserve-2030.toml",
    "world-2030.toml", // pinned in tests/world.rs
];

/// US markets in the shipped data.
const US_MARKETS: &[&str] = &["us-defense", "us-other"];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn models_dir() -> PathBuf {
    root().join("models")
}

fn model_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(models_dir())
        .expect("read models/")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no models under models/");
    files
}

fn reeplan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_reeplan"))
        .args(args)
        .current_dir(root())
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("run reeplan")
}

/// The scenario names of a plan file: every `[scenario.NAME]` header
/// (sub-tables such as `[scenario.NAME.plan]` and array entries
/// `[[scenario.NAME.tariff]]` name the same scenario and are skipped).
fn scenarios_in(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        let Some(rest) = line.strip_prefix("[scenario.") else {
            continue;
        };
        let Some(end) = rest.find(']') else { continue };
        let inner = rest[..end].trim();
        let inner = inner.trim_matches('"');
        if inner.is_empty() || inner.contains('.') {
            continue;
        }
        if !names.iter().any(|n| n == inner) {
            names.push(inner.to_string());
        }
    }
    names
}

/// One solve of a model (base or scenario), `--format json`, which must exit
/// 0 with status "optimal".
struct Solved {
    what: String,
    json: Value,
    /// Facility id → country, from `utilization`.
    country: BTreeMap<String, String>,
}

fn solve(model: &str, scenario: Option<&str>) -> Solved {
    let path = format!("models/{model}");
    let mut args = vec!["solve", path.as_str(), "--format", "json"];
    if let Some(s) = scenario {
        args.extend(["--scenario", s]);
    }
    let what = format!("{model} --scenario {}", scenario.unwrap_or("(base)"));
    let out = reeplan(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{what}: exit code {:?}\nstderr:\n{stderr}",
        out.status.code()
    );
    let json: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{what}: stdout is not JSON ({e}):\n{stdout}"));
    assert_eq!(json["status"], "optimal", "{what}: {}", json["status"]);
    let objective = json["objective_value"].as_f64();
    assert!(
        objective.is_some_and(f64::is_finite),
        "{what}: objective_value {}",
        json["objective_value"]
    );
    let mut country = BTreeMap::new();
    for u in json["utilization"].as_array().expect("utilization[]") {
        country.insert(
            u["facility"].as_str().unwrap().to_string(),
            u["country"].as_str().unwrap().to_string(),
        );
    }
    Solved {
        what,
        json,
        country,
    }
}

impl Solved {
    fn objective(&self) -> f64 {
        self.json["objective_value"].as_f64().unwrap()
    }

    fn cost(&self, part: &str) -> f64 {
        self.json["cost"][part]
            .as_f64()
            .unwrap_or_else(|| panic!("{}: cost.{part} missing", self.what))
    }

    /// t of demand left unmet in `year` in markets for which `keep` is true.
    fn unmet(&self, year: i64, keep: impl Fn(&str) -> bool) -> f64 {
        self.json["unmet"]
            .as_array()
            .expect("unmet[]")
            .iter()
            .filter(|u| u["year"].as_i64() == Some(year) && keep(u["market"].as_str().unwrap()))
            .map(|u| u["tonnes"].as_f64().unwrap())
            .sum()
    }

    fn unmet_total(&self) -> f64 {
        self.json["unmet"]
            .as_array()
            .expect("unmet[]")
            .iter()
            .map(|u| u["tonnes"].as_f64().unwrap())
            .sum()
    }

    /// t of magnet delivered to the US markets in `year` by plants in `country`.
    fn us_magnets_from(&self, year: i64, country: &str) -> f64 {
        self.json["flows"]["magnet"]
            .as_array()
            .expect("flows.magnet[]")
            .iter()
            .filter(|f| {
                f["year"].as_i64() == Some(year)
                    && US_MARKETS.contains(&f["to"].as_str().unwrap())
                    && self.country[f["from"].as_str().unwrap()] == country
            })
            .map(|f| f["tonnes"].as_f64().unwrap())
            .sum()
    }

    /// t of magnet made by plants in `country` in `year`.
    fn made_in(&self, year: i64, country: &str) -> f64 {
        self.json["utilization"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| {
                u["year"].as_i64() == Some(year)
                    && u["stage"] == "magnet"
                    && u["country"] == country
            })
            .map(|u| u["throughput"].as_f64().unwrap())
            .sum()
    }

    fn delivered_total(&self) -> f64 {
        self.json["flows"]["magnet"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["tonnes"].as_f64().unwrap())
            .sum()
    }

    /// The `shares[]` row of `rule` in `year`.
    fn share(&self, rule: &str, year: i64) -> &Value {
        self.json["shares"]
            .as_array()
            .expect("shares[]")
            .iter()
            .find(|s| s["rule"] == rule && s["year"].as_i64() == Some(year))
            .unwrap_or_else(|| panic!("{}: no share row {rule} {year}", self.what))
    }

    fn shadow(&self, rule: &str, year: i64) -> f64 {
        self.share(rule, year)["shadow_price"].as_f64().unwrap()
    }

    fn achieved(&self, rule: &str, year: i64) -> f64 {
        self.share(rule, year)["achieved"].as_f64().unwrap()
    }
}

/// Assert a headline figure: `actual` within `tol` of the header's `expected`.
/// A change that moves it must be explained in the model's header first.
#[track_caller]
fn pin(what: &str, actual: f64, expected: f64, tol: f64) {
    assert!(
        (actual - expected).abs() <= tol,
        "{what}: reeplan gives {actual}, the model header states {expected} (± {tol}). \
         A change that moves a headline figure must be explained: update the header's \
         RESULT with the reason, then this test."
    );
}

/// Relative tolerance for figures the header gives as "about".
fn about(expected: f64, rel: f64) -> f64 {
    expected.abs() * rel
}

// ---------------------------------------------------------------- loading

#[test]
fn every_model_has_pinned_headlines() {
    let found: Vec<String> = model_files()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let pinned: Vec<String> = PINNED.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        found, pinned,
        "models/ and the models pinned in tests/models.rs differ: pin the headline figures \
         of a new model (from its header) when adding it"
    );
}

#[test]
fn every_model_checks() {
    for path in model_files() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let rel = format!("models/{name}");
        let out = reeplan(&["check", &rel]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "check {name}:\n{stderr}");
        assert!(stdout.contains("valid plan"), "check {name}:\n{stdout}");
        // The scenarios `check` lists are the `[scenario.NAME]` of the file.
        let scenarios = scenarios_in(&text);
        let line = stdout
            .lines()
            .find(|l| l.trim_start().starts_with("scenarios"))
            .unwrap_or_else(|| panic!("check {name}: no scenarios line:\n{stdout}"));
        let listed = format!("scenarios     {}", scenarios.len());
        assert!(
            line.trim_start().starts_with(listed.trim_start()),
            "check {name}: expected {} scenarios {scenarios:?}, got: {line}",
            scenarios.len()
        );
        for s in &scenarios {
            assert!(
                line.contains(s.as_str()),
                "check {name}: {s} not in: {line}"
            );
        }
    }
}

#[test]
fn every_model_and_scenario_solves_to_optimality() {
    let mut solved = 0;
    for path in model_files() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let base = solve(&name, None);
        let objective = base.json["objective"].as_str().unwrap().to_string();
        let mut runs = vec![base];
        for s in scenarios_in(&text) {
            runs.push(solve(&name, Some(&s)));
        }
        for r in &runs {
            if objective == "max-resilience" {
                let lambda = r.objective();
                assert!((0.0..=1.0).contains(&lambda), "{}: λ* = {lambda}", r.what);
            } else {
                // Min-cost: the objective is the discounted total cost.
                let total = r.cost("total");
                assert!(
                    (r.objective() - total).abs() <= 1e-6 * total.abs().max(1.0),
                    "{}: objective {} vs cost.total {total}",
                    r.what,
                    r.objective()
                );
                assert!(total > 0.0, "{}: total cost {total}", r.what);
            }
            solved += 1;
        }
    }
    // 7 base plans + 14 scenarios when this was written.
    assert!(solved >= 21, "only {solved} solves");
}

#[test]
fn scenario_names_are_read_from_headers() {
    let text =
        "[scenario.a]\nx=1\n[[scenario.a.tariff]]\nid=\"t\"\n[scenario.b]\n[scenario.b.plan]\n";
    assert_eq!(scenarios_in(text), vec!["a".to_string(), "b".to_string()]);
}

// ---------------------------------------------------------------- headline figures

/// us-baseline.toml, header RESULT. A change that moves these must be explained.
#[test]
fn us_baseline_headlines() {
    let base = solve("us-baseline.toml", None);
    // "total world cost 2025-2035: 136.40 bn USD, of which tariffs 5.28 bn"
    pin(
        "us-baseline total cost",
        base.objective(),
        136.40 * BN,
        0.01 * BN,
    );
    pin(
        "us-baseline tariffs",
        base.cost("tariffs"),
        5.28 * BN,
        0.01 * BN,
    );
    // "no unmet demand anywhere"
    pin("us-baseline unmet t", base.unmet_total(), 0.0, 1e-6);
    // "2030 CN 16.8 kt (76 %), VN 2.2 kt, Lynas/JS Link MY 3.0 kt"
    pin(
        "us-baseline US from CN 2030",
        base.us_magnets_from(2030, "CN"),
        16.8 * KT,
        0.1 * KT,
    );
    pin(
        "us-baseline US from VN 2030",
        base.us_magnets_from(2030, "VN"),
        2.2 * KT,
        0.1 * KT,
    );
    pin(
        "us-baseline US from MY 2030",
        base.us_magnets_from(2030, "MY"),
        3.0 * KT,
        0.1 * KT,
    );
    // "2025 (IEEPA year): US demand is met from Japan (15.1 kt)"
    pin(
        "us-baseline US from JP 2025",
        base.us_magnets_from(2025, "JP"),
        15.1 * KT,
        0.1 * KT,
    );
    // "US magnet plants ... make 0 t"
    for year in [2025, 2030, 2035] {
        pin(
            &format!("us-baseline US plants {year}"),
            base.made_in(year, "US"),
            0.0,
            1e-6,
        );
    }
    // "licensing-lifted: 133.44 bn" and "licensing costs the world 2.95 bn"
    let lifted = solve("us-baseline.toml", Some("licensing-lifted"));
    pin(
        "us-baseline licensing-lifted",
        lifted.objective(),
        133.44 * BN,
        0.01 * BN,
    );
    pin(
        "us-baseline cost of licensing",
        base.objective() - lifted.objective(),
        2.95 * BN,
        0.01 * BN,
    );
}

/// dfars-2027.toml, header RESULT. A change that moves these must be explained.
#[test]
fn dfars_2027_headlines() {
    let rule = "dfars-225-7018";
    let base = solve("dfars-2027.toml", None);
    let no_rule = solve("dfars-2027.toml", Some("no-dfars"));
    // "0.96 M USD over 2027-2035 (136,397.76 M vs 136,396.79 M without the rule)"
    pin(
        "dfars total cost",
        base.objective(),
        136_397.76 * M,
        0.01 * M,
    );
    pin(
        "dfars no-dfars total",
        no_rule.objective(),
        136_396.79 * M,
        0.01 * M,
    );
    pin(
        "dfars cost of the rule",
        base.objective() - no_rule.objective(),
        0.96 * M,
        0.01 * M,
    );
    // "The rule is met in every year (achieved 1.0)."
    for year in 2027..=2035 {
        pin(
            &format!("dfars achieved {year}"),
            base.achieved(rule, year),
            1.0,
            1e-6,
        );
    }
    // "Shadow price is 0 in 2027-2031 and 2,264-2,564 USD per pp in 2032-2035"
    for year in 2027..=2031 {
        pin(
            &format!("dfars shadow {year}"),
            base.shadow(rule, year),
            0.0,
            1e-6,
        );
    }
    pin("dfars shadow 2032", base.shadow(rule, 2032), 2_264.0, 1.0);
    pin("dfars shadow 2035", base.shadow(rule, 2035), 2_564.0, 1.0);
    // "dfars-all-us ...: 150.26 bn USD (+13.9 bn); US civil demand is short
    // 1.9 kt in 2030 and 6.1 kt in 2035 (21.6 kt over 2027-2035)"
    let all_us = solve("dfars-2027.toml", Some("dfars-all-us"));
    pin(
        "dfars-all-us total",
        all_us.objective(),
        150.26 * BN,
        0.01 * BN,
    );
    pin(
        "dfars-all-us extra cost",
        all_us.objective() - no_rule.objective(),
        13.9 * BN,
        0.1 * BN,
    );
    let us = |m: &str| US_MARKETS.contains(&m);
    pin(
        "dfars-all-us US unmet 2030",
        all_us.unmet(2030, us),
        1.9 * KT,
        0.1 * KT,
    );
    pin(
        "dfars-all-us US unmet 2035",
        all_us.unmet(2035, us),
        6.1 * KT,
        0.1 * KT,
    );
    let over: f64 = (2027..=2035).map(|y| all_us.unmet(y, us)).sum();
    pin("dfars-all-us US unmet 2027-2035", over, 21.6 * KT, 0.1 * KT);
}

/// eu-crma-2030.toml, header RESULT. A change that moves these must be explained.
#[test]
fn eu_crma_2030_headlines() {
    let base = solve("eu-crma-2030.toml", None);
    let no_crma = solve("eu-crma-2030.toml", Some("no-crma"));
    // "cost 137.60 bn vs 136.40 bn without (no-crma): the benchmarks cost 1.2 bn"
    pin("eu-crma total", base.objective(), 137.60 * BN, 0.01 * BN);
    pin(
        "eu-crma no-crma total",
        no_crma.objective(),
        136.40 * BN,
        0.01 * BN,
    );
    pin(
        "eu-crma cost of the benchmarks",
        base.objective() - no_crma.objective(),
        1.2 * BN,
        0.1 * BN,
    );
    // "35 % made outside China, exactly the rule"; "2030 shadow 3.8 M USD/pp,
    // 2035 19.2 M USD/pp"
    pin(
        "eu-crma magnet rule achieved 2030",
        base.achieved("crma-magnet-35", 2030),
        0.35,
        1e-6,
    );
    pin(
        "eu-crma magnet shadow 2030",
        base.shadow("crma-magnet-35", 2030),
        3.8 * M,
        0.1 * M,
    );
    pin(
        "eu-crma magnet shadow 2035",
        base.shadow("crma-magnet-35", 2035),
        19.2 * M,
        0.1 * M,
    );
    // "the mining rule is slack"
    pin(
        "eu-crma mining shadow 2030",
        base.shadow("crma-mining-35", 2030),
        0.0,
        1e-6,
    );
    // "crma-literal: ... 9.6 kt (2030) and 11.9 kt (2035) of EU demand go
    // unmet; 167.55 bn USD"
    let literal = solve("eu-crma-2030.toml", Some("crma-literal"));
    pin(
        "eu-crma crma-literal total",
        literal.objective(),
        167.55 * BN,
        0.01 * BN,
    );
    let eu = |m: &str| m == "eu";
    pin(
        "eu-crma crma-literal EU unmet 2030",
        literal.unmet(2030, eu),
        9.6 * KT,
        0.1 * KT,
    );
    pin(
        "eu-crma crma-literal EU unmet 2035",
        literal.unmet(2035, eu),
        11.9 * KT,
        0.1 * KT,
    );
}

/// resilience-2030.toml, header RESULT. A change that moves these must be explained.
#[test]
fn resilience_2030_headlines() {
    let r = solve("resilience-2030.toml", None);
    assert_eq!(r.json["objective"], "max-resilience");
    // "lambda* = 0.475: under a Chinese export ban at most 47.5 % of every
    // market's 2030 demand can be guaranteed" (λ* ≈ 0.4751)
    pin("resilience λ*", r.objective(), 0.4751, 0.0001);
    pin(
        "resilience.lambda",
        r.json["resilience"]["lambda"].as_f64().unwrap(),
        0.4751,
        0.0001,
    );
    // "Least cost C* = 12.89 bn USD; the resilient plan costs 13.35 bn
    // (+3.6 %, inside the 10 % budget), of which reserves 0.43 bn."
    let c_star = r.json["resilience"]["min_cost"].as_f64().unwrap();
    pin("resilience C*", c_star, 12.89 * BN, 0.01 * BN);
    pin(
        "resilience plan cost",
        r.cost("total"),
        13.35 * BN,
        0.01 * BN,
    );
    pin(
        "resilience reserves",
        r.cost("reserves"),
        0.43 * BN,
        0.01 * BN,
    );
    pin(
        "resilience cost increase",
        r.cost("total") / c_star - 1.0,
        0.036,
        0.001,
    );
    assert!(
        r.cost("total") <= 1.1 * c_star * (1.0 + 1e-9),
        "over the 10 % budget"
    );
    // "planner-markets: lambda over US defense, US civil, the EU and Japan
    // only: 70.8 % of their demand is guaranteed under the export ban"
    let p = solve("resilience-2030.toml", Some("planner-markets"));
    pin("planner-markets λ*", p.objective(), 0.7081, 0.0001);
    let served = p.json["resilience"]["served"].as_array().unwrap();
    let planner = ["us-defense", "us-other", "eu", "jp"];
    assert!(served
        .iter()
        .all(|s| planner.contains(&s["market"].as_str().unwrap())));
    for s in served.iter().filter(|s| s["disruption"] == "cn-export-ban") {
        pin(
            "planner share under the ban",
            s["share"].as_f64().unwrap(),
            0.7081,
            0.0001,
        );
    }
}

/// tariff-scenarios.toml, header RESULT table. A change that moves these must be explained.
#[test]
fn tariff_scenarios_headlines() {
    // (scenario, total bn, tariffs bn, US 2030 from CN kt)
    let table: [(Option<&str>, f64, f64, f64); 5] = [
        (Some("tariff-0"), 133.83, 3.22, 22.0),
        (None, 136.40, 5.28, 16.8), // base = tariff-25 for magnets
        (Some("tariff-25"), 136.40, 5.28, 16.8),
        (Some("tariff-50"), 137.59, 4.62, 5.6),
        (Some("tariff-100"), 139.15, 5.85, 5.2),
    ];
    for (scenario, total, tariffs, cn_kt) in table {
        let s = solve("tariff-scenarios.toml", scenario);
        let name = scenario.unwrap_or("base");
        pin(
            &format!("{name} total"),
            s.objective(),
            total * BN,
            0.01 * BN,
        );
        pin(
            &format!("{name} tariffs"),
            s.cost("tariffs"),
            tariffs * BN,
            0.01 * BN,
        );
        pin(
            &format!("{name} US from CN 2030"),
            s.us_magnets_from(2030, "CN"),
            cn_kt * KT,
            0.1 * KT,
        );
        // "all optimal, no unmet demand"; "US plants make 0 t in every scenario"
        pin(&format!("{name} unmet"), s.unmet_total(), 0.0, 1e-6);
        pin(
            &format!("{name} US plants 2030"),
            s.made_in(2030, "US"),
            0.0,
            1e-6,
        );
        if scenario == Some("tariff-50") {
            // "JP 11.2, CN 5.6, VN 2.2, MY 3.0 kt"
            pin(
                "tariff-50 US from JP 2030",
                s.us_magnets_from(2030, "JP"),
                11.2 * KT,
                0.1 * KT,
            );
        }
    }
}

/// china-export-ban.toml, header RESULT. A change that moves these must be explained.
#[test]
fn china_export_ban_headlines() {
    let outside_cn = |m: &str| m != "cn";
    let ban = solve("china-export-ban.toml", None);
    // "Demand outside China left unmet: 65.3 kt (2026), 65.1 kt (2028),
    // 69.4 kt (2030), 79.4 kt (2035)"; "China's own market is never short".
    for (year, kt) in [(2026, 65.3), (2028, 65.1), (2030, 69.4), (2035, 79.4)] {
        pin(
            &format!("ban unmet outside CN {year}"),
            ban.unmet(year, outside_cn),
            kt * KT,
            0.1 * KT,
        );
    }
    for year in 2025..=2035 {
        pin(
            &format!("ban unmet in CN {year}"),
            ban.unmet(year, |m| m == "cn"),
            0.0,
            1e-6,
        );
    }
    // "US: defense is met in full"
    for year in 2025..=2035 {
        pin(
            &format!("ban us-defense unmet {year}"),
            ban.unmet(year, |m| m == "us-defense"),
            0.0,
            1e-6,
        );
    }
    // "heavy-only gives the same shortfall as the full ban (476.0 vs 476.2 bn USD)"
    pin("ban total", ban.objective(), 476.2 * BN, 0.1 * BN);
    let heavy = solve("china-export-ban.toml", Some("heavy-only"));
    pin("heavy-only total", heavy.objective(), 476.0 * BN, 0.1 * BN);
    // "ban-and-feed-stop is WORSE (71.5 kt short in 2030)"
    let feed = solve("china-export-ban.toml", Some("ban-and-feed-stop"));
    pin(
        "ban-and-feed-stop unmet outside CN 2030",
        feed.unmet(2030, outside_cn),
        71.5 * KT,
        0.1 * KT,
    );
}

/// us-magnets-2035.toml (the counterfactual, the flagship until 2026-12-01), header RESULT. A change that moves
/// these must be explained.
#[test]
fn us_magnets_2035_headlines() {
    let base = solve("us-magnets-2035.toml", None);
    // "base: 136.40 bn USD world cost 2025-2035 (tariffs 5.28 bn), no unmet demand"
    pin("flagship total", base.objective(), 136.40 * BN, 0.01 * BN);
    pin(
        "flagship tariffs",
        base.cost("tariffs"),
        5.28 * BN,
        0.01 * BN,
    );
    pin("flagship unmet", base.unmet_total(), 0.0, 1e-6);
    // "US magnets in 2030 come mostly from China: 16.8 kt of 22.0 kt"
    pin(
        "flagship US from CN 2030",
        base.us_magnets_from(2030, "CN"),
        16.8 * KT,
        0.1 * KT,
    );
    // "2035: China 21.5 kt of 23.9 kt"
    pin(
        "flagship US from CN 2035",
        base.us_magnets_from(2035, "CN"),
        21.5 * KT,
        0.1 * KT,
    );
    // "Cost per t magnet delivered (world average): ~33,200 USD/t"
    pin(
        "flagship cost per t delivered",
        base.cost("total") / base.delivered_total(),
        33_200.0,
        about(33_200.0, 0.005),
    );
    // "DFARS ... shadow price 0 in 2027-2031, 2,264-2,564 USD/pp in 2032-2035"
    let rule = "dfars-225-7018";
    pin(
        "flagship DFARS shadow 2030",
        base.shadow(rule, 2030),
        0.0,
        1e-6,
    );
    pin(
        "flagship DFARS shadow 2032",
        base.shadow(rule, 2032),
        2_264.0,
        1.0,
    );
    pin(
        "flagship DFARS shadow 2035",
        base.shadow(rule, 2035),
        2_564.0,
        1.0,
    );
    // "tariff-0: 133.93 bn; ... DFARS then costs ... (92,380 USD/pp)" in 2030
    let t0 = solve("us-magnets-2035.toml", Some("tariff-0"));
    pin(
        "flagship tariff-0 total",
        t0.objective(),
        133.93 * BN,
        0.01 * BN,
    );
    pin(
        "flagship tariff-0 DFARS shadow 2030",
        t0.shadow(rule, 2030),
        92_380.0,
        10.0,
    );
    // "tariff-50 / tariff-100: 137.59 / 139.16 bn"
    let t50 = solve("us-magnets-2035.toml", Some("tariff-50"));
    pin(
        "flagship tariff-50 total",
        t50.objective(),
        137.59 * BN,
        0.01 * BN,
    );
    let t100 = solve("us-magnets-2035.toml", Some("tariff-100"));
    pin(
        "flagship tariff-100 total",
        t100.objective(),
        139.16 * BN,
        0.01 * BN,
    );
    // "cn-export-ban: 476.20 bn, of which unmet 352 bn. US defense is met in
    // full; US plants run where Tb allows: 4.8 kt (2026), 18.8 kt (2030),
    // 18.7 kt (2035)"
    let ban = solve("us-magnets-2035.toml", Some("cn-export-ban"));
    pin(
        "flagship cn-export-ban total",
        ban.objective(),
        476.20 * BN,
        0.01 * BN,
    );
    pin(
        "flagship cn-export-ban unmet cost",
        ban.cost("unmet"),
        352.0 * BN,
        1.0 * BN,
    );
    for (year, kt) in [(2026, 4.8), (2030, 18.8), (2035, 18.7)] {
        pin(
            &format!("flagship cn-export-ban US plants {year}"),
            ban.made_in(year, "US"),
            kt * KT,
            0.1 * KT,
        );
    }
    for year in 2025..=2035 {
        pin(
            &format!("flagship cn-export-ban us-defense unmet {year}"),
            ban.unmet(year, |m| m == "us-defense"),
            0.0,
            1e-6,
        );
    }
}

#[test]
fn us_build_2030_headlines() {
    let base = solve("us-build-2030.toml", None);
    let no_builds = solve("us-build-2030.toml", Some("no-builds"));
    let no_civil = solve("us-build-2030.toml", Some("no-civil-target"));
    // "136,622.71 M USD in total, of which 32.19 M investment"
    pin("build total", base.objective(), 136_622.71 * M, 0.01 * M);
    pin(
        "build investment",
        base.json["cost"]["investment"].as_f64().unwrap(),
        32.19 * M,
        0.01 * M,
    );
    // "Serra Verde phase 2: 10,210 t/yr REO added (4,742 in 2028), 102.1 M capex"
    let builds = base.json["builds"].as_array().unwrap();
    assert!(
        builds.iter().all(|b| b["facility"] == "br-serra-verde"),
        "{builds:?}"
    );
    let added: f64 = builds.iter().map(|b| b["capacity"].as_f64().unwrap()).sum();
    pin("serra verde added", added, 10_210.5, 1.0);
    let capex: f64 = builds.iter().map(|b| b["capex"].as_f64().unwrap()).sum();
    pin("serra verde capex", capex, 102.1 * M, 0.1 * M);
    // "without builds 137,107.18 M; without the civil target 136,393.25 M"
    pin(
        "no-builds total",
        no_builds.objective(),
        137_107.18 * M,
        0.01 * M,
    );
    pin(
        "no-civil-target total",
        no_civil.objective(),
        136_393.25 * M,
        0.01 * M,
    );
    // "the civil target is met exactly from 2030 (achieved 0.5)"
    for year in 2030..=2035 {
        pin(
            &format!("civil achieved {year}"),
            base.achieved("us-civil-half", year),
            0.5,
            1e-6,
        );
    }
}

#[test]
fn us_reserve_2030_headlines() {
    let base = solve("us-reserve-2030.toml", None);
    let none = solve("us-reserve-2030.toml", Some("no-reserve"));
    // "lambda* = 60.4 % with the reserves against 9.9 % without"
    pin("reserve lambda", base.objective(), 0.6038, 1e-4);
    pin("no-reserve lambda", none.objective(), 0.0993, 1e-4);
    // "costs 7,586.43 M USD ... against a least cost of 7,452.62 M"
    pin(
        "reserve plan cost",
        base.cost("total"),
        7_586.43 * M,
        0.01 * M,
    );
    pin(
        "reserve least cost",
        base.json["resilience"]["min_cost"].as_f64().unwrap(),
        7_452.62 * M,
        0.01 * M,
    );
    // "fills the Tb reserve to its 80 t and the magnet reserve to its 6,000 t by the end of 2028"
    let level = |id: &str, year: i64| {
        base.json["stockpiles"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["stockpile"] == id && s["year"] == year)
            .and_then(|s| s["level"].as_f64())
            .unwrap()
    };
    pin("Tb held 2028", level("us-tb-reserve", 2028), 80.0, 1e-3);
    pin(
        "magnets held 2028",
        level("us-magnet-reserve", 2028),
        6000.0,
        1e-3,
    );
}

#[test]
fn us_reserve_2030_frontier_gives_the_readme_reserve_sizing_table() {
    // README: Tb reserve capacity 0/40/80/120/160 t → λ* 23.8/42.1/60.4/60.6/60.6 %,
    // and "λ* gained per extra t" 0.457/0.457/0.006/0.000 pp (recomputed here
    // from the λ* of neighbouring points, not read from the program).
    let out = reeplan(&[
        "frontier",
        "models/us-reserve-2030.toml",
        "--stockpile",
        "us-tb-reserve.capacity=0:160:40",
        "--format",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let points = j["points"].as_array().unwrap();
    let lambdas: Vec<f64> = points
        .iter()
        .map(|p| p["lambda"].as_f64().unwrap())
        .collect();
    for (got, readme) in lambdas.iter().zip([0.238, 0.421, 0.604, 0.606, 0.606]) {
        pin("Tb reserve λ*", *got, readme, 0.0005);
    }
    for i in 1..points.len() {
        let gain = (lambdas[i] - lambdas[i - 1]) * 100.0 / 40.0;
        let shown = points[i]["lambda_gain_pp_per_t"].as_f64().unwrap();
        pin("λ* gain per t", shown, gain, 1e-9);
        let readme = [0.457, 0.457, 0.006, 0.000][i - 1];
        pin("README λ* gain per t", shown, readme, 0.0005);
    }
}
