//! models/world-2030.toml against the targets of issue 15 ("A baseline that
//! matches the world, and a model that says what to build").
//!
//! Every share here is computed from the solve's JSON flows
//! (`flows.concentrate[]`, `flows.magnet[]`), with each facility's country
//! read from the plan file itself (parsed here with the `toml` crate), not
//! from the program's own share tables or `utilization[]`. Contract volumes
//! are likewise read from the plan and evaluated here (per-year tables
//! interpolated as PLAN_FORMAT.md says).
//!
//! The targets are the public figures the issue names (ree-facts S11, S13):
//! 2025 China 60–72 % of mining, 85–95 % of separation, >= 88 % of magnets;
//! 2030 within ± 8 pp of the IEA outlook (mining 54 %, refining 77 %). A
//! target the sourced data does not reach is `#[ignore]`d with the measured
//! figure; nothing in the model is tuned to reach one.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

const MODEL: &str = "models/world-2030.toml";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The plan file as a TOML tree.
fn plan() -> toml::Table {
    let text = std::fs::read_to_string(root().join(MODEL)).expect("read the model");
    text.parse::<toml::Table>().expect("the model is TOML")
}

/// Facility id → country, for every mine, refinery and magnet plant written
/// in the plan (the model has no `[data]` import; checked).
fn countries(plan: &toml::Table) -> BTreeMap<String, String> {
    assert!(
        !plan.contains_key("data"),
        "{MODEL} imports CSV: read those files here too"
    );
    let mut out = BTreeMap::new();
    for kind in ["mine", "refinery", "magnet_plant", "market"] {
        for f in plan[kind].as_array().expect("array of facilities") {
            let id = f["id"].as_str().unwrap().to_string();
            let country = f["country"].as_str().unwrap().to_string();
            out.insert(id, country);
        }
    }
    out
}

/// One entry of `[[kind]]` by id.
fn entry<'a>(plan: &'a toml::Table, kind: &str, id: &str) -> &'a toml::Value {
    plan[kind]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"].as_str() == Some(id))
        .unwrap_or_else(|| panic!("no {kind} {id} in {MODEL}"))
}

/// A per-year value at `year`: a number, or a `{ "YYYY" = v }` table
/// interpolated linearly between listed years and flat outside them.
fn per_year(v: &toml::Value, year: i64) -> f64 {
    let num = |v: &toml::Value| {
        v.as_float()
            .or_else(|| v.as_integer().map(|i| i as f64))
            .expect("a number")
    };
    match v {
        toml::Value::Table(t) => {
            let mut pts: Vec<(i64, f64)> = t
                .iter()
                .map(|(k, v)| (k.parse::<i64>().expect("year key"), num(v)))
                .collect();
            pts.sort_by_key(|p| p.0);
            if year <= pts[0].0 {
                return pts[0].1;
            }
            if year >= pts[pts.len() - 1].0 {
                return pts[pts.len() - 1].1;
            }
            for w in pts.windows(2) {
                let ((y0, v0), (y1, v1)) = (w[0], w[1]);
                if (y0..=y1).contains(&year) {
                    return v0 + (v1 - v0) * (year - y0) as f64 / (y1 - y0) as f64;
                }
            }
            unreachable!()
        }
        other => num(other),
    }
}

/// `reeplan solve MODEL --format json [args]`, which must be optimal.
fn solve(args: &[&str]) -> Value {
    let mut all = vec!["solve", MODEL, "--format", "json"];
    all.extend_from_slice(args);
    let out = Command::new(env!("CARGO_BIN_EXE_reeplan"))
        .args(&all)
        .current_dir(root())
        .output()
        .expect("run reeplan");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{all:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_str(&stdout).expect("JSON on stdout");
    assert_eq!(json["status"], "optimal", "{all:?}");
    json
}

fn flows<'a>(json: &'a Value, product: &str) -> &'a Vec<Value> {
    json["flows"][product].as_array().expect("flows[]")
}

/// Percentage of the t in `product` flows of `year` whose `side` ("from" or
/// "to") facility lies in China.
fn china_share(
    json: &Value,
    country: &BTreeMap<String, String>,
    product: &str,
    side: &str,
    year: i64,
) -> f64 {
    let (mut cn, mut all) = (0.0, 0.0);
    for f in flows(json, product) {
        if f["year"].as_i64() != Some(year) {
            continue;
        }
        let t = f["tonnes"].as_f64().unwrap();
        let id = f[side].as_str().unwrap();
        let c = country
            .get(id)
            .unwrap_or_else(|| panic!("{id} is not in the plan"));
        all += t;
        if c == "CN" {
            cn += t;
        }
    }
    assert!(all > 0.0, "no {product} flows in {year}");
    100.0 * cn / all
}

/// China's share of mining (t REO mined), separation (t REO separated) and
/// magnet making (t magnet made) in `year`.
fn stage_shares(json: &Value, country: &BTreeMap<String, String>, year: i64) -> [f64; 3] {
    [
        china_share(json, country, "concentrate", "from", year),
        china_share(json, country, "concentrate", "to", year),
        china_share(json, country, "magnet", "from", year),
    ]
}

/// t shipped in `product` flows of `year` from `from` (to any of `to`, or
/// anywhere when `to` is empty).
fn shipped(json: &Value, product: &str, year: i64, from: &str, to: &[&str]) -> f64 {
    flows(json, product)
        .iter()
        .filter(|f| f["year"].as_i64() == Some(year) && f["from"] == from)
        .filter(|f| to.is_empty() || to.contains(&f["to"].as_str().unwrap()))
        .map(|f| f["tonnes"].as_f64().unwrap())
        .sum()
}

const YEARS: std::ops::RangeInclusive<i64> = 2025..=2035;

// ------------------------------------------------------------------ targets

#[test]
fn shares_2025_are_in_the_public_range() {
    let plan = plan();
    let country = countries(&plan);
    let json = solve(&[]);
    let [mining, separation, magnets] = stage_shares(&json, &country, 2025);
    // Measured 68.5 / 89.8 / 91.0 % (header of the model).
    assert!(
        (60.0..=72.0).contains(&mining),
        "2025 China mining {mining:.1} %"
    );
    assert!(
        (85.0..=95.0).contains(&separation),
        "2025 China separation {separation:.1} %"
    );
    assert!(magnets >= 88.0, "2025 China magnets {magnets:.1} %");
}

#[test]
fn separation_2030_is_within_8_pp_of_the_iea_outlook() {
    let plan = plan();
    let country = countries(&plan);
    let json = solve(&[]);
    let [_, separation, _] = stage_shares(&json, &country, 2030);
    // IEA GCMO 2024: China 77 % of refining in 2030 (S11). Measured 75.9 %.
    assert!(
        (separation - 77.0).abs() <= 8.0,
        "2030 China separation {separation:.1} % vs IEA 77 %"
    );
}

#[test]
#[ignore = "measured 67.4 % in 2030 vs the IEA's 54 % (band 46-62 %): China's mines are \
            the cheapest and (light RE) run at their quota-path cap: 360 kt REO of 534 kt mined; \
            only cn-quota-flat (54.6 %, 29 kt of magnet demand unmet) reaches the band. \
            Not tuned; see docs/data-notes.md"]
fn mining_2030_is_within_8_pp_of_the_iea_outlook() {
    let plan = plan();
    let country = countries(&plan);
    let json = solve(&[]);
    let [mining, _, _] = stage_shares(&json, &country, 2030);
    assert!(
        (mining - 54.0).abs() <= 8.0,
        "2030 China mining {mining:.1} % vs IEA 54 %"
    );
}

#[test]
fn mt_weld_is_separated_by_lynas_every_year() {
    let json = solve(&[]);
    let lynas = ["lynas-kuantan", "lynas-seadrift"];
    for year in YEARS {
        let all = shipped(&json, "concentrate", year, "au-mt-weld", &[]);
        let to_lynas = shipped(&json, "concentrate", year, "au-mt-weld", &lynas);
        // Lynas's demonstrated FY25 rate, 29,000 t REO (the contract's min).
        assert!(
            all >= 29000.0 - 1e-3,
            "{year}: Mt Weld mined {all:.0} t REO"
        );
        assert!(
            (all - to_lynas).abs() < 1e-3,
            "{year}: {:.0} of {all:.0} t REO of Mt Weld concentrate not separated by Lynas",
            all - to_lynas
        );
    }
}

/// Each contracted magnet plant ships at least its contract's `min` (read
/// from the plan) in every year the contract applies, from its online year.
#[test]
fn contracted_magnet_plants_run_at_their_contracted_volumes() {
    let plan = plan();
    let json = solve(&[]);
    let cases = [
        ("dod-10x-offtake", "mp-10x"),
        ("mp-independence-offtake", "mp-independence"),
        ("evac-offtake", "evac-sumter"),
        ("noveon-offtake", "noveon-san-marcos"),
        ("vulcan-offtake", "vulcan-elements"),
        ("narva-offtake", "neo-narva"),
        ("jp-domestic", "jp-magnets"),
    ];
    for (contract, plant) in cases {
        let c = entry(&plan, "contract", contract);
        assert_eq!(c["from"].as_str(), Some(plant), "{contract}");
        let buyers: Vec<&str> = c["to"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let (first, last) = match c.get("years") {
            Some(y) => {
                let y = y.as_array().unwrap();
                (y[0].as_integer().unwrap(), y[1].as_integer().unwrap())
            }
            None => (2025, 2035),
        };
        let online = entry(&plan, "magnet_plant", plant)
            .get("online")
            .and_then(|v| v.as_integer())
            .unwrap_or(2025);
        assert!(
            first <= online.max(2025),
            "{contract} starts after {plant}'s online year"
        );
        for year in first.max(2025)..=last.min(2035) {
            let min = per_year(&c["min"], year);
            let to_buyers = shipped(&json, "magnet", year, plant, &buyers);
            assert!(
                to_buyers >= min - 1e-3,
                "{year}: {plant} shipped {to_buyers:.0} t to {buyers:?}, contract {contract} min {min:.0}"
            );
        }
    }
    // 10X: the DoD offtake is exclusive, and its volumes are 10X's ramped
    // capacity (0.3 / 0.6 / 0.9 x 7,000 t, then 7,000).
    for (year, t) in [
        (2028, 2100.0),
        (2029, 4200.0),
        (2030, 6300.0),
        (2031, 7000.0),
    ] {
        let all = shipped(&json, "magnet", year, "mp-10x", &[]);
        let us = shipped(&json, "magnet", year, "mp-10x", &["us-defense", "us-other"]);
        assert!(
            (all - t).abs() < 1e-3,
            "{year}: 10X made {all:.0} t, expected {t}"
        );
        assert!(
            (all - us).abs() < 1e-3,
            "{year}: 10X shipped outside the US"
        );
    }
    assert!(
        shipped(&json, "magnet", 2027, "mp-10x", &[]) < 1e-6,
        "10X before 2028"
    );
}

#[test]
fn mountain_pass_ore_stays_with_mp_from_2026() {
    let json = solve(&[]);
    let mp = ["mp-mountain-pass-sep", "mp-heavy-circuit"];
    for year in 2026..=2035 {
        let all = shipped(&json, "concentrate", year, "us-mountain-pass", &[]);
        let own = shipped(&json, "concentrate", year, "us-mountain-pass", &mp);
        assert!(
            (all - own).abs() < 1e-3,
            "{year}: Mountain Pass ore left MP"
        );
    }
    let own_2030 = shipped(&json, "concentrate", 2030, "us-mountain-pass", &mp);
    assert!(
        (own_2030 - 60000.0).abs() < 1e-3,
        "2030: {own_2030:.0} t REO"
    );
}

// ---------------------------------------------------- headline figures

/// The header's RESULT table (± 0.1 pp, one unit in the last digit stated).
#[test]
fn header_headline_shares() {
    let plan = plan();
    let country = countries(&plan);
    let pin = |what: &str, got: f64, want: f64| {
        assert!(
            (got - want).abs() <= 0.1,
            "{what}: {got:.2} %, header says {want}"
        );
    };
    let base = solve(&[]);
    let none = solve(&["--scenario", "no-contracts"]);
    for (json, name, year, want) in [
        (&base, "base", 2025, [68.5, 89.8, 91.0]),
        (&base, "base", 2030, [67.4, 75.9, 87.9]),
        (&none, "no-contracts", 2025, [69.0, 90.6, 94.3]),
        (&none, "no-contracts", 2030, [70.4, 88.1, 98.7]),
    ] {
        let got = stage_shares(json, &country, year);
        for (i, stage) in ["mining", "separation", "magnets"].iter().enumerate() {
            pin(&format!("{name} {year} {stage}"), got[i], want[i]);
        }
    }
    let total = base["cost"]["total"].as_f64().unwrap() / 1e9;
    assert!((total - 143.23).abs() <= 0.01, "base cost {total:.3} bn");
    let unmet: f64 = base["unmet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["tonnes"].as_f64().unwrap())
        .sum();
    assert!(unmet < 1e-3, "base unmet {unmet} t");
}

/// Switching the contracts off moves China's 2030 separation share up by
/// more than 5 pp and its magnet share by more than 5 pp: the baseline's
/// match with the IEA figure comes from the contracts, not from costs.
#[test]
fn contracts_move_the_2030_shares() {
    let plan = plan();
    let country = countries(&plan);
    let base = stage_shares(&solve(&[]), &country, 2030);
    let none = stage_shares(&solve(&["--scenario", "no-contracts"]), &country, 2030);
    assert!(none[1] - base[1] > 5.0, "separation {base:?} -> {none:?}");
    assert!(none[2] - base[2] > 5.0, "magnets {base:?} -> {none:?}");
    // Lynas's captive chain alone: +9.1 pp of separation when switched off.
    let no_lynas = stage_shares(
        &solve(&[
            "--set",
            "contract.lynas-captive.exclusive=false",
            "--set",
            "contract.lynas-captive.min=0",
        ]),
        &country,
        2030,
    );
    assert!(
        (no_lynas[1] - base[1] - 9.1).abs() <= 0.1,
        "lynas-captive off: separation {:.2} -> {:.2}",
        base[1],
        no_lynas[1]
    );
}

#[test]
fn per_year_tables_interpolate_as_the_format_says() {
    let t: toml::Value =
        toml::from_str::<toml::Table>("v = { 2026 = 310, 2028 = 1271 }").unwrap()["v"].clone();
    assert_eq!(per_year(&t, 2025), 310.0);
    assert_eq!(per_year(&t, 2027), 790.5);
    assert_eq!(per_year(&t, 2035), 1271.0);
}

/// The figures README.md states for the flagship ("What the answer means"),
/// recomputed from the JSON: costs from `cost`, the cost per t from the
/// magnet flows, the build from `builds[]`, China's share ranges from the
/// flows, the DFARS shadow prices from `shares[]`, contracts and subsidies
/// from their arrays, and the export-ban figures from that scenario.
#[test]
fn readme_flagship_figures() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let says = |text: &str| assert!(readme.contains(text), "README no longer says {text:?}");
    let json = solve(&[]);
    let bn = |k: &str| json["cost"][k].as_f64().unwrap() / 1e9;
    let near = |got: f64, want: f64, tol: f64, what: &str| {
        assert!((got - want).abs() <= tol, "{what}: {got} vs README {want}");
    };
    says("about 143.2 bn USD, undiscounted, of which 2.6 bn");
    near(bn("total"), 143.2, 0.05, "total");
    near(bn("tariffs"), 2.6, 0.05, "tariffs");
    says("less 2.4 bn of subsidies");
    near(-bn("subsidies"), 2.4, 0.05, "subsidies");
    says("34,900 USD/t");
    let delivered: f64 = flows(&json, "magnet")
        .iter()
        .map(|f| f["tonnes"].as_f64().unwrap())
        .sum();
    near(
        json["cost"]["total"].as_f64().unwrap() / delivered,
        34_900.0,
        50.0,
        "per t",
    );
    says("no unmet demand");
    assert!(json["unmet"].as_array().unwrap().is_empty());
    // The build: Serra Verde phase 2 only.
    says("Serra Verde\n  phase 2 in Brazil (4,673 t REO/yr from 2032, about 1,930 more in each of\n  2033–2035)");
    let builds = json["builds"].as_array().unwrap();
    assert!(builds.iter().all(|b| b["facility"] == "br-serra-verde"));
    for b in builds {
        let (y, t) = (b["year"].as_i64().unwrap(), b["capacity"].as_f64().unwrap());
        match y {
            2032 => near(t, 4673.0, 0.5, "2032 build"),
            2033..=2035 => near(t, 1930.0, 5.0, "later builds"),
            _ => panic!("a build in {y}"),
        }
    }
    // China's share of each stage: the range over the years, rounded.
    says("China mines\n  66–71 %, separates 76–90 % and makes 88–91 %");
    let country = countries(&plan());
    for (stage, lo, hi) in [(0, 66.0, 71.0), (1, 76.0, 90.0), (2, 88.0, 91.0)] {
        let s: Vec<f64> = (2025..=2035)
            .map(|y| stage_shares(&json, &country, y)[stage])
            .collect();
        let min = s.iter().copied().fold(f64::INFINITY, f64::min);
        let max = s.iter().copied().fold(0.0, f64::max);
        near(min, lo, 0.5, "lowest share");
        near(max, hi, 0.5, "highest share");
    }
    // DFARS: shadow price 0 to 2031, positive from 2032, at most ~34.
    says("shadow price from 2032 (up to about\n  34 USD per percentage point)");
    let dfars: Vec<&Value> = json["shares"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["rule"] == "dfars-225-7018")
        .collect();
    for r in &dfars {
        let (y, p) = (
            r["year"].as_i64().unwrap(),
            r["shadow_price"].as_f64().unwrap(),
        );
        assert_eq!(p > 1e-6, y >= 2032, "{y}: {p}");
    }
    let top = dfars
        .iter()
        .map(|r| r["shadow_price"].as_f64().unwrap())
        .fold(0.0, f64::max);
    near(top, 34.0, 0.5, "DFARS shadow price");
    // Contracts met, subsidies paid.
    says("all 14\n  contracts are met (no year short), and the subsidies pay 2.40 bn USD\n  (45X 0.27 bn, the DoD NdPr floor 2.14 bn)");
    let contracts = json["contracts"].as_array().unwrap();
    let mut ids: Vec<&str> = contracts
        .iter()
        .map(|c| c["contract"].as_str().unwrap())
        .collect();
    ids.dedup();
    assert_eq!(ids.len(), 14);
    assert!(contracts
        .iter()
        .all(|c| c["shortfall"].as_f64().unwrap() < 1e-6));
    let paid = |id: Option<&str>| -> f64 {
        json["subsidies"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| id.is_none_or(|id| s["subsidy"] == id))
            .map(|s| s["amount"].as_f64().unwrap())
            .sum::<f64>()
            / 1e9
    };
    near(paid(None), 2.40, 0.005, "subsidies paid");
    near(paid(Some("45x-oxide")), 0.27, 0.005, "45X");
    near(paid(Some("dod-ndpr-floor")), 2.14, 0.005, "NdPr floor");
    // The export ban.
    says("(436.7 bn USD, 627 kt of magnet demand unmet\nover the horizon: US civil demand is short in 2026–2029, 13.4 kt falling to\n4.1 kt as the contracted US plants come up, US defense never");
    let ban = solve(&["--scenario", "cn-export-ban"]);
    near(
        ban["cost"]["total"].as_f64().unwrap() / 1e9,
        436.7,
        0.05,
        "ban cost",
    );
    let unmet = ban["unmet"].as_array().unwrap();
    let kt: f64 = unmet
        .iter()
        .map(|u| u["tonnes"].as_f64().unwrap())
        .sum::<f64>()
        / 1e3;
    near(kt, 627.0, 0.5, "ban unmet");
    let short = |m: &str| -> Vec<(i64, f64)> {
        unmet
            .iter()
            .filter(|u| u["market"] == m)
            .map(|u| (u["year"].as_i64().unwrap(), u["tonnes"].as_f64().unwrap()))
            .collect()
    };
    let us = short("us-other");
    assert_eq!(
        us.iter().map(|u| u.0).collect::<Vec<_>>(),
        [2026, 2027, 2028, 2029]
    );
    near(us[0].1, 13_400.0, 50.0, "US civil short 2026");
    near(us[3].1, 4_100.0, 50.0, "US civil short 2029");
    assert!(us.windows(2).all(|w| w[1].1 < w[0].1), "falling: {us:?}");
    assert!(short("us-defense").is_empty());
    for m in ["eu", "row"] {
        assert_eq!(short(m).len(), 10, "{m} short every year of the ban");
    }
    assert!(short("jp").len() >= 6, "Japan short in most years");
}
