//! `reeplan explain` on infeasible plans whose cause is known by hand.

mod common;
use common::MINIMAL;
use std::process::Command;

fn explain(text: &str) -> (Option<i32>, serde_json::Value) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("plan.toml");
    std::fs::write(&path, text).expect("write plan");
    let out = Command::new(env!("CARGO_BIN_EXE_reeplan"))
        .args(["explain", path.to_str().expect("utf-8"), "--format", "json"])
        .output()
        .expect("run reeplan");
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
    });
    (out.status.code(), json)
}

fn findings<'a>(j: &'a serde_json::Value, kind: &str) -> Vec<&'a serde_json::Value> {
    j["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["kind"] == kind)
        .collect()
}

#[test]
fn demand_above_all_plant_capacity_names_the_plant_and_the_missing_tonnes() {
    // Plants p1 (60 t) and p2 (15 t) against 100 t of demand: 25 t short,
    // and each plant would need its share of 25 t more. Mines and refineries
    // have room: 100 t of magnet need 30 t NdPr = 166.7 t REO < 1,000.
    let text = MINIMAL.replace("capacity = 500", "capacity = 60")
        + "[[magnet_plant]]\nid = \"p2\"\ncountry = \"US\"\ncapacity = 15\ncost = 30000\nrecipe = { NdPr = 0.3 }\n";
    let (code, j) = explain(&text);
    assert_eq!(code, Some(3));
    assert_eq!(j["status"], "infeasible");
    let unmet = findings(&j, "unmet");
    assert_eq!(unmet.len(), 1);
    assert_eq!(unmet[0]["market"], "us");
    assert!((unmet[0]["tonnes"].as_f64().unwrap() - 25.0).abs() < 1e-6);
    let cap = findings(&j, "capacity");
    let extra: f64 = cap.iter().map(|c| c["extra"].as_f64().unwrap()).sum();
    assert!((extra - 25.0).abs() < 1e-6, "{cap:?}");
    assert!(cap.iter().all(|c| c["stage"] == "magnet"));
    assert!(j["summary"][0]
        .as_str()
        .unwrap()
        .contains("market `us` is 25.0 t of magnet short"));
}

#[test]
fn share_rule_with_no_clean_source_of_one_element_names_rule_element_and_stage() {
    // Dy only from a Chinese mine: clean magnets (every stage outside CN)
    // are impossible, so a 50 % rule on 100 t is 50 t of clean magnet short.
    let text = r#"
[plan]
first_year = 2026
last_year = 2026
[elements.NdPr]
price = 60000
[elements.Dy]
price = 300000
[[mine]]
id = "m_au"
country = "AU"
capacity = 10000
grade = { NdPr = 0.2 }
[[mine]]
id = "m_cn"
country = "CN"
capacity = 10000
grade = { Dy = 0.05 }
[[refinery]]
id = "r_my"
country = "MY"
capacity = 100000
[[magnet_plant]]
id = "p_us"
country = "US"
capacity = 1000
recipe = { NdPr = 0.3, Dy = 0.03 }
[[market]]
id = "us"
country = "US"
demand = 100
[[share_rule]]
id = "clean"
min_share = 0.5
"#;
    let (code, j) = explain(text);
    assert_eq!(code, Some(3));
    let short = findings(&j, "rule-short");
    assert_eq!(short.len(), 1);
    assert_eq!(short[0]["rule"], "clean");
    assert!((short[0]["tonnes"].as_f64().unwrap() - 50.0).abs() < 1e-6);
    let none = findings(&j, "no-clean-source");
    assert_eq!(none.len(), 1, "{j}");
    assert_eq!(none[0]["rule"], "clean");
    assert_eq!(none[0]["stage"], "mining");
    assert_eq!(none[0]["element"], "Dy");
}

#[test]
fn an_embargo_that_cuts_the_only_route_is_named() {
    // The only refinery is in MY and concentrate may not leave AU.
    let text = MINIMAL.to_string()
        + "[[embargo]]\nid = \"au-ore-ban\"\nproduct = \"concentrate\"\nfrom = \"AU\"\nto = \"*\"\n";
    let (code, j) = explain(&text);
    assert_eq!(code, Some(3));
    let e = findings(&j, "embargo");
    assert_eq!(e.len(), 1, "{j}");
    assert_eq!(e[0]["embargoes"][0], "au-ore-ban");
    assert_eq!(e[0]["from"], "AU");
    assert_eq!(e[0]["to"], "MY");
    // 100 t magnet = 30 t NdPr = 30 / (0.2 × 0.9) = 166.67 t REO.
    assert!((e[0]["tonnes"].as_f64().unwrap() - 166.666_666_7).abs() < 1e-3);
}

#[test]
fn a_feasible_plan_has_nothing_to_explain() {
    let (code, j) = explain(MINIMAL);
    assert_eq!(code, Some(0));
    assert_eq!(j["status"], "optimal");
    assert!(j["findings"].as_array().unwrap().is_empty());
}

#[test]
fn solve_prints_the_short_explanation_when_infeasible() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("plan.toml");
    std::fs::write(&path, MINIMAL.replace("capacity = 500", "capacity = 40")).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_reeplan"))
        .args(["solve", path.to_str().expect("utf-8")])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("2026: market `us` is 60.0 t of magnet short"),
        "{err}"
    );
    assert!(err.contains("magnet capacity at p1 (US)"), "{err}");
}

#[test]
fn optimal_plan_paying_unmet_penalty_says_what_is_short_and_why() {
    // tests/plans/15: 40 t of the 100 t demand left unmet at 800/t because
    // p_dear (1000/t) is dearer: serving is possible, the penalty is cheaper.
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/plans/15_unmet_penalty.toml"),
    )
    .unwrap();
    let (code, j) = explain(&text);
    assert_eq!(code, Some(0));
    assert_eq!(j["status"], "optimal");
    let paid = findings(&j, "paid-unmet");
    assert_eq!(paid.len(), 1);
    assert_eq!(paid[0]["market"], "us");
    assert!((paid[0]["tonnes"].as_f64().unwrap() - 40.0).abs() < 1e-6);
    let summary: Vec<&str> = j["summary"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(
        summary
            .iter()
            .any(|s| s.contains("penalty is cheaper than serving")),
        "{summary:?}"
    );

    // Without p_dear, the 40 t cannot be made: p_cheap (60 t) binds, 40 t more needed.
    let start = text.find("[[magnet_plant]]\nid = \"p_dear\"").unwrap();
    let end = text[start..].find("[[market]]").unwrap() + start;
    let tight = format!("{}{}", &text[..start], &text[end..]);
    let (code, j) = explain(&tight);
    assert_eq!(code, Some(0));
    assert_eq!(findings(&j, "paid-unmet").len(), 1);
    let cap = findings(&j, "capacity");
    assert_eq!(cap.len(), 1, "{cap:?}");
    assert_eq!(cap[0]["facility"], "p_cheap");
    assert!(
        (cap[0]["extra"].as_f64().unwrap() - 40.0).abs() < 1e-6,
        "{cap:?}"
    );
}

#[test]
fn a_plant_built_to_its_expand_max_names_expand_max_and_the_missing_tonnes() {
    // p1 has 60 t and may build at most 15 t/yr more: 75 t against 100 t of
    // demand leaves 25 t short, which only a higher expand.max can fix.
    let text = MINIMAL.replace(
        "capacity = 500\ncost = 30000",
        "capacity = 60\ncost = 30000\nexpand = { capex = 1000, max = 15 }",
    );
    let (code, j) = explain(&text);
    assert_eq!(code, Some(3));
    let cap = findings(&j, "capacity");
    assert_eq!(cap.len(), 1, "{cap:?}");
    assert_eq!(cap[0]["facility"], "p1");
    assert_eq!(cap[0]["expand_limit"], "max");
    assert!((cap[0]["capacity"].as_f64().unwrap() - 75.0).abs() < 1e-6);
    assert!((cap[0]["extra"].as_f64().unwrap() - 25.0).abs() < 1e-6);
    let words: Vec<&str> = j["summary"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(
        words.contains(&"2026: binding limit: magnet capacity at p1 (US), which has 75.0 t magnet; 25.0 t magnet more needed; its expand.max (15.0 t/yr) would have to rise by 25.0"),
        "{words:?}"
    );
}

#[test]
fn a_shortfall_before_expand_earliest_names_expand_earliest() {
    // 2026–2027; p1 has 60 t and may build 100 t/yr from 2027: 2027 is met,
    // 2026 is 40 t short, which building earlier would fix.
    let text = MINIMAL
        .replace("last_year = 2026", "last_year = 2027")
        .replace(
            "capacity = 500\ncost = 30000",
            "capacity = 60\ncost = 30000\nexpand = { capex = 1000, max = 100, earliest = 2027 }",
        );
    let (code, j) = explain(&text);
    assert_eq!(code, Some(3));
    let cap = findings(&j, "capacity");
    assert_eq!(cap.len(), 1, "{cap:?}");
    assert_eq!(cap[0]["year"], 2026);
    assert_eq!(cap[0]["expand_limit"], "earliest");
    assert!((cap[0]["capacity"].as_f64().unwrap() - 60.0).abs() < 1e-6);
    assert!((cap[0]["extra"].as_f64().unwrap() - 40.0).abs() < 1e-6);
    let words: Vec<&str> = j["summary"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(
        words.iter().any(|w| w.ends_with("40.0 t magnet more needed; its expand.earliest (2027) would have to come to 2026 or earlier")),
        "{words:?}"
    );
}

#[test]
fn a_closed_facility_or_a_zero_expand_max_is_not_blamed_on_the_lifetime() {
    // p1 (60 t) closes in 2027 and may build 100 t/yr for 10 years: in 2027
    // nothing of it operates (what it built closes with it): no expand hint.
    let text = MINIMAL
        .replace("last_year = 2026", "last_year = 2027")
        .replace(
            "capacity = 500\ncost = 30000",
            "capacity = 60\ncost = 30000\ncloses = 2027\nexpand = { capex = 1000, max = 100, lifetime = 10 }",
        );
    let (_, j) = explain(&text);
    let cap = findings(&j, "capacity");
    let y2027: Vec<_> = cap.iter().filter(|c| c["year"] == 2027).collect();
    assert_eq!(y2027.len(), 1, "{cap:?}");
    assert!(y2027[0].get("expand_limit").is_none(), "{cap:?}");
    // max = 0: raising max is what would fix it.
    let text = MINIMAL.replace(
        "capacity = 500\ncost = 30000",
        "capacity = 60\ncost = 30000\nexpand = { capex = 1000, max = 0 }",
    );
    let (_, j) = explain(&text);
    let cap = findings(&j, "capacity");
    assert_eq!(cap.len(), 1, "{cap:?}");
    assert_eq!(cap[0]["expand_limit"], "max");
    assert!((cap[0]["extra"].as_f64().unwrap() - 40.0).abs() < 1e-6);
}

/// China stops every export; Australia's mine is lean in terbium. 100 t of
/// magnet a year (2024-2026) need 30 t NdPr and 1 t Tb oxide (recipe 0.3 /
/// 0.01); m_au's 100 t REO hold 30 t NdPr but 0.1 t Tb, so 10 t of magnet
/// are made and 90 t go unserved each year (penalty 1,000,000/t).
const TB_BAN: &str = r#"
[plan]
first_year = 2024
last_year = 2026
[elements.NdPr]
price = 1
[elements.Tb]
price = 1
[[mine]]
id = "m_cn"
country = "CN"
capacity = 1000
cost = 10
grade = { NdPr = 0.2, Tb = 0.01 }
[[mine]]
id = "m_au"
country = "AU"
capacity = 100
cost = 50
grade = { NdPr = 0.3, Tb = 0.001 }
[[refinery]]
id = "r_cn"
country = "CN"
capacity = 1000
[[refinery]]
id = "r_my"
country = "MY"
capacity = 1000
[[magnet_plant]]
id = "p_us"
country = "US"
capacity = 1000
recipe = { NdPr = 0.3, Tb = 0.01 }
[[market]]
id = "us"
country = "US"
demand = 100
unmet_penalty = 1000000
[[embargo]]
id = "cn-ban"
product = "*"
from = "CN"
to = "*"
"#;

#[test]
fn the_remedy_builds_outside_the_banned_country_and_names_terbium() {
    // Nothing may grow in CN (concern, and the embargo's exporter). Serving
    // 100 t needs 1 t Tb = 1,000 t REO at m_au: 900 t/yr more, at the
    // assumed 20,000 USD per t/yr (the plan has no mining candidate):
    // 18,000,000, online from 2026 (assumed growth takes two years from the
    // first year), so 2024 and 2025 stay 90 t short. r_my's 1,000 t REO in
    // is just enough. Tb binds: 1 t needed against 0.1 t from m_au at
    // capacity; NdPr (30 t both) does not.
    let (code, j) = explain(TB_BAN);
    assert_eq!(code, Some(0));
    let r = &j["remedy"];
    assert_eq!(r["markets"], serde_json::json!(["us"]));
    assert_eq!(r["excluded_countries"], serde_json::json!(["CN"]));
    let builds = r["builds"].as_array().expect("builds");
    assert_eq!(builds.len(), 1, "{builds:?}");
    assert_eq!(builds[0]["facility"], "m_au");
    assert_eq!(builds[0]["year"], 2026);
    assert_eq!(builds[0]["assumed"], true);
    assert!((builds[0]["capacity"].as_f64().unwrap() - 900.0).abs() < 1e-6);
    assert!((builds[0]["capex"].as_f64().unwrap() - 18_000_000.0).abs() < 1e-3);
    let short = r["still_short"].as_array().expect("still_short");
    let years: Vec<i64> = short.iter().map(|u| u["year"].as_i64().unwrap()).collect();
    assert_eq!(years, [2024, 2025]);
    assert!(short
        .iter()
        .all(|u| (u["tonnes"].as_f64().unwrap() - 90.0).abs() < 1e-6));
    let elements = r["elements"].as_array().expect("elements");
    assert_eq!(elements.len(), 1, "{elements:?}");
    assert_eq!(elements[0]["element"], "Tb");
    assert!((elements[0]["needed"].as_f64().unwrap() - 1.0).abs() < 1e-9);
    assert!((elements[0]["available"].as_f64().unwrap() - 0.1).abs() < 1e-9);
}

#[test]
fn a_candidate_at_its_limit_leaves_the_rest_short() {
    // m_au may add at most 500 t/yr (a candidate, 50,000 per t/yr, from the
    // first year): 600 t REO hold 0.6 t Tb → 60 t of magnet; 40 t a year
    // stay short, since nothing else may grow (CN is excluded, the
    // candidate is not stretched).
    let text = TB_BAN.replace(
        "grade = { NdPr = 0.3, Tb = 0.001 }",
        "grade = { NdPr = 0.3, Tb = 0.001 }\nexpand = { capex = 50000, max = 500 }",
    );
    let (_, j) = explain(&text);
    let r = &j["remedy"];
    let builds = r["builds"].as_array().expect("builds");
    assert_eq!(builds.len(), 1, "{builds:?}");
    assert_eq!(builds[0]["assumed"], false);
    assert!((builds[0]["capacity"].as_f64().unwrap() - 500.0).abs() < 1e-6);
    assert!((builds[0]["capex"].as_f64().unwrap() - 25_000_000.0).abs() < 1e-3);
    assert_eq!(builds[0]["year"], 2024);
    let short = r["still_short"].as_array().expect("still_short");
    assert_eq!(short.len(), 3);
    assert!(short
        .iter()
        .all(|u| (u["tonnes"].as_f64().unwrap() - 40.0).abs() < 1e-6));
}

#[test]
fn explain_fits_160_columns_and_asks_about_one_market() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("plan.toml");
    std::fs::write(&path, TB_BAN).expect("write plan");
    let out = Command::new(env!("CARGO_BIN_EXE_reeplan"))
        .args(["explain", path.to_str().expect("utf-8"), "--market", "us"])
        .output()
        .expect("run reeplan");
    let text = String::from_utf8_lossy(&out.stdout);
    // Table lines (titles are prose and wrap in the terminal).
    for line in text.lines().filter(|l| l.starts_with(['│', '┌', '└', '╞'])) {
        assert!(line.chars().count() <= 160, "{line}");
    }
    assert!(text.contains("│ m_au "), "{text}");
    // The remedy table's cells, as Markdown, against the JSON's builds
    // (one row per facility: its additions summed, from its first year).
    let md = Command::new(env!("CARGO_BIN_EXE_reeplan"))
        .args([
            "explain",
            path.to_str().expect("utf-8"),
            "--format",
            "markdown",
        ])
        .output()
        .expect("run reeplan");
    let md = String::from_utf8_lossy(&md.stdout);
    assert!(
        md.contains("| m_au | AU | mining | 2026 | 900.0 | 18,000,000 | assumed |"),
        "{md}"
    );
    assert!(md.contains("| Tb | 2026 | 1.0 | 0.1 |"), "{md}");
    let bad = Command::new(env!("CARGO_BIN_EXE_reeplan"))
        .args(["explain", path.to_str().expect("utf-8"), "--market", "eu"])
        .output()
        .expect("run reeplan");
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn the_remedy_keeps_what_other_markets_get() {
    // A second market, eu (DE, 100 t at a dearer penalty), gets the 10 t
    // that m_au's terbium makes. Asked about us only, the remedy must serve
    // us's 100 t from new capacity while eu keeps its 10 t: 1.1 t Tb =
    // 1,100 t REO at m_au (+1,000 t/yr, 20,000,000) separated at r_my
    // (+100 t/yr, at the assumed 30,000: 3,000,000), from 2026; us stays
    // 100 t short in 2024 and 2025, eu is never listed.
    let text = format!(
        "{TB_BAN}[[market]]\nid = \"eu\"\ncountry = \"DE\"\ndemand = 100\nunmet_penalty = 2000000\n"
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("plan.toml");
    std::fs::write(&path, &text).expect("write plan");
    let out = Command::new(env!("CARGO_BIN_EXE_reeplan"))
        .args([
            "explain",
            path.to_str().expect("utf-8"),
            "--market",
            "us",
            "--format",
            "json",
        ])
        .output()
        .expect("run reeplan");
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let r = &j["remedy"];
    let built = |id: &str| -> (f64, f64) {
        r["builds"]
            .as_array()
            .expect("builds")
            .iter()
            .filter(|b| b["facility"] == id)
            .fold((0.0, 0.0), |(t, c), b| {
                (
                    t + b["capacity"].as_f64().unwrap(),
                    c + b["capex"].as_f64().unwrap(),
                )
            })
    };
    let (t, c) = built("m_au");
    assert!(
        (t - 1000.0).abs() < 1e-6 && (c - 20_000_000.0).abs() < 1e-3,
        "{r}"
    );
    let (t, c) = built("r_my");
    assert!(
        (t - 100.0).abs() < 1e-6 && (c - 3_000_000.0).abs() < 1e-3,
        "{r}"
    );
    let short: Vec<(String, i64, f64)> = r["still_short"]
        .as_array()
        .expect("still_short")
        .iter()
        .map(|u| {
            (
                u["market"].as_str().unwrap().to_string(),
                u["year"].as_i64().unwrap(),
                u["tonnes"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(short.len(), 2, "{short:?}");
    assert!(
        short
            .iter()
            .all(|(m, _, t)| m == "us" && (t - 100.0).abs() < 1e-6),
        "{short:?}"
    );
}
