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
    // Measured 68.8 / 90.2 / 91.7 % (header of the model).
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
    // IEA GCMO 2024: China 77 % of refining in 2030 (S11). Measured 73.6 %.
    assert!(
        (separation - 77.0).abs() <= 8.0,
        "2030 China separation {separation:.1} % vs IEA 77 %"
    );
}

#[test]
#[ignore = "measured 66.0 % in 2030 vs the IEA's 54 % (band 46-62 %): the least-cost plan \
            mines only what the magnet chain needs, cheapest first, and China's mines are the \
            cheapest (353 kt REO of 534 kt mined); the band is reached only if every non-Chinese \
            mine sells its full capacity and Lynas builds Seadrift (scenario mines-sell-capacity, \
            60.9 %, inferred; 62.2 % with Lynas held to Kuantan) or \
            China's quota stays flat (cn-quota-flat, 54.6 %, 29 kt unmet). Not tuned; see \
            docs/data-notes.md"]
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
        (&base, "base", 2025, [68.8, 90.2, 91.7]),
        (&base, "base", 2030, [66.0, 73.6, 87.9]),
        (&none, "no-contracts", 2025, [69.0, 90.6, 94.3]),
        (&none, "no-contracts", 2030, [70.4, 88.1, 98.7]),
    ] {
        let got = stage_shares(json, &country, year);
        for (i, stage) in ["mining", "separation", "magnets"].iter().enumerate() {
            pin(&format!("{name} {year} {stage}"), got[i], want[i]);
        }
    }
    let total = base["cost"]["total"].as_f64().unwrap() / 1e9;
    assert!((total - 143.66).abs() <= 0.01, "base cost {total:.3} bn");
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
    // Lynas's captive chain alone: +8.2 pp of separation when switched off.
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
        (no_lynas[1] - base[1] - 8.2).abs() <= 0.1,
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
    says("about 143.7 bn USD, undiscounted) in its three groups:\n  143.3 bn of resource cost");
    near(bn("total"), 143.7, 0.05, "total");
    near(bn("resource"), 143.3, 0.05, "resource");
    says("0.34 bn of net transfers (2.8 bn\n  tariffs less 2.4 bn of subsidies");
    near(bn("tariffs") + bn("subsidies"), 0.34, 0.005, "transfers");
    near(bn("tariffs"), 2.8, 0.05, "tariffs");
    near(-bn("subsidies"), 2.4, 0.05, "subsidies");
    says("and no\n  penalties");
    near(bn("penalties"), 0.0, 1e-12, "penalties");
    // Resource cost per t delivered, from the parts (not the program's
    // own grouping).
    let resource: f64 = [
        "production",
        "transport",
        "reserves",
        "investment",
        "holding",
    ]
    .iter()
    .map(|k| json["cost"][*k].as_f64().unwrap())
    .sum();
    says("(about 34,900\n  USD/t)");
    let delivered: f64 = flows(&json, "magnet")
        .iter()
        .map(|f| f["tonnes"].as_f64().unwrap())
        .sum();
    near(resource / delivered, 34_900.0, 50.0, "per t");
    says("no unmet demand");
    assert!(json["unmet"].as_array().unwrap().is_empty());
    // No build in the base; high-demand builds Serra Verde phase 2 and
    // Seadrift, 15,000 and 7,000 t REO/yr in 2028.
    says("- **Build plan**: none.");
    assert!(json["builds"].as_array().unwrap().is_empty());
    says("`--scenario high-demand` builds Serra\n  Verde phase 2 and Lynas Seadrift (15,000 and 7,000 t REO/yr, 2028)");
    let high = solve(&["--scenario", "high-demand"]);
    let built: Vec<(String, i64, f64)> = high["builds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["facility"].as_str().unwrap().to_string(),
                b["year"].as_i64().unwrap(),
                b["capacity"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(built.len(), 2, "{built:?}");
    for (id, t) in [("br-serra-verde", 15000.0), ("lynas-seadrift", 7000.0)] {
        assert!(
            built
                .iter()
                .any(|b| b.0 == id && b.1 == 2028 && (b.2 - t).abs() < 0.5),
            "{id}: {built:?}"
        );
    }
    // The sourcing example rows are the table's own rows; us-defense's
    // (DFARS from 2027) are its clean lots: no Chinese stage.
    let text = Command::new(env!("CARGO_BIN_EXE_reeplan"))
        .args(["solve", MODEL])
        .current_dir(root())
        .output()
        .expect("run reeplan");
    let text = String::from_utf8_lossy(&text.stdout);
    for key in ["│ us-defense ┆ 2027", "│ us-other   ┆ 2035"] {
        let row = text.lines().find(|l| l.starts_with(key)).expect(key);
        says(&format!("  {row}\n"));
    }
    for row in text.lines().filter(|l| l.starts_with("│ us-defense ┆ 20")) {
        let year: i64 = row.split('┆').nth(1).unwrap().trim().parse().unwrap();
        if year >= 2027 {
            assert!(!row.contains("CN"), "{row}");
        }
    }
    says("so us-defense's 880 t of 2027 show\n  where its DFARS-clean magnets came from");
    for r in json["shares"].as_array().unwrap() {
        assert!((r["achieved"].as_f64().unwrap() - 1.0).abs() < 1e-9, "{r}");
    }
    // China's share of each stage: the range over the years, rounded.
    says("China mines\n  65–69 %, separates 73–90 % and makes 88–92 %");
    let country = countries(&plan());
    for (stage, lo, hi) in [(0, 65.0, 69.0), (1, 73.0, 90.0), (2, 88.0, 92.0)] {
        let s: Vec<f64> = (2025..=2035)
            .map(|y| stage_shares(&json, &country, y)[stage])
            .collect();
        let min = s.iter().copied().fold(f64::INFINITY, f64::min);
        let max = s.iter().copied().fold(0.0, f64::max);
        near(min, lo, 0.5, "lowest share");
        near(max, hi, 0.5, "highest share");
    }
    // DFARS: shadow price 0 in every year.
    says("The DFARS rule costs\n  nothing at the margin (shadow price 0 in every year)");
    let dfars: Vec<&Value> = json["shares"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["rule"] == "dfars-225-7018")
        .collect();
    assert_eq!(dfars.len(), 9, "2027-2035");
    for r in &dfars {
        assert!(r["shadow_price"].as_f64().unwrap().abs() < 1e-9, "{r}");
    }
    // Contracts met, subsidies paid.
    says("all 14\n  contracts are met (no year short), and the subsidies pay 2.41 bn USD\n  (45X 0.28 bn, the DoD NdPr floor 2.14 bn)");
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
    near(paid(None), 2.41, 0.005, "subsidies paid");
    near(paid(Some("45x-oxide")), 0.28, 0.005, "45X");
    near(paid(Some("dod-ndpr-floor")), 2.14, 0.005, "NdPr floor");
    // The export ban.
    says("(437.3 bn USD, 627 kt of magnet demand unmet\nover the horizon: US civil demand is short in 2026–2029, 13.4 kt falling to\n4.1 kt as the contracted US plants come up, US defense never");
    let ban = solve(&["--scenario", "cn-export-ban"]);
    near(
        ban["cost"]["total"].as_f64().unwrap() / 1e9,
        437.3,
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

/// Iluka, Arafura and Energy Fuels fill their own separation with their
/// own feed (decision 79): each captive mine ships its contract's `min`
/// (read from the plan) to its own refinery, and nothing elsewhere, in every
/// year the contract applies.
#[test]
fn captive_chains_fill_their_own_separation() {
    let plan = plan();
    let json = solve(&[]);
    for (contract, mine, refinery) in [
        ("iluka-captive", "au-eneabba-feed", "iluka-eneabba"),
        ("nolans-captive", "au-nolans", "arafura-nolans-ref"),
        ("ef-captive", "us-ef-monazite", "ef-white-mesa"),
    ] {
        let c = entry(&plan, "contract", contract);
        assert_eq!(c["from"].as_str(), Some(mine));
        assert_eq!(c["exclusive"].as_bool(), Some(true), "{contract}");
        let first = c
            .get("years")
            .map(|y| y.as_array().unwrap()[0].as_integer().unwrap())
            .unwrap_or(2025);
        for year in first..=2035 {
            let min = per_year(&c["min"], year);
            let all = shipped(&json, "concentrate", year, mine, &[]);
            let own = shipped(&json, "concentrate", year, mine, &[refinery]);
            assert!(min > 0.0, "{contract} {year}");
            assert!(
                own >= min - 1e-3,
                "{year}: {mine} -> {refinery} {own:.0} t, min {min:.0}"
            );
            assert!(
                (all - own).abs() < 1e-3,
                "{year}: {mine} ore left {refinery}"
            );
        }
    }
    // The volumes are the refineries' ramped capacities [D]: Eneabba
    // 15,000 x 0.3 / 0.6 / 0.9 / 1 from 2027, Nolans 17,700 x the same from
    // 2029, White Mesa Phase 1 4,800.
    for (mine, year, t) in [
        ("au-eneabba-feed", 2027, 4500.0),
        ("au-eneabba-feed", 2029, 13500.0),
        ("au-eneabba-feed", 2030, 15000.0),
        ("au-nolans", 2030, 10620.0),
        ("au-nolans", 2032, 17700.0),
        ("us-ef-monazite", 2025, 4800.0),
    ] {
        let got = shipped(&json, "concentrate", year, mine, &[]);
        assert!(
            (got - t).abs() < 1e-3,
            "{year} {mine}: {got} t, expected {t}"
        );
    }
}

/// The supply-outlook reading (scenario mines-sell-capacity): every
/// non-Chinese mine ships its whole capacity, Mt Weld's ore beyond Kuantan
/// goes to a Seadrift build, and China's 2030 mining share falls into the
/// IEA band -- a scenario, not the base (decision 80).
#[test]
fn mines_sell_capacity_reading() {
    let plan = plan();
    let country = countries(&plan);
    let json = solve(&["--scenario", "mines-sell-capacity"]);
    for m in plan["mine"].as_array().unwrap() {
        let id = m["id"].as_str().unwrap();
        if m["country"].as_str() == Some("CN") {
            continue;
        }
        let online = m.get("online").and_then(|v| v.as_integer()).unwrap_or(2025);
        let ramp: Vec<f64> = m
            .get("ramp")
            .map(|r| {
                r.as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_float().unwrap())
                    .collect()
            })
            .unwrap_or_default();
        for year in 2028..=2035 {
            if year < online {
                continue;
            }
            let share = ramp.get((year - online) as usize).copied().unwrap_or(1.0);
            let cap = per_year(&m["capacity"], year) * share;
            let got = shipped(&json, "concentrate", year, id, &[]);
            // Mountain Pass is bound by MP's own separation (60,000 from
            // 2030; 46,667 and 53,333 in 2028-2029 against 60,000 mined).
            if id == "us-mountain-pass" && year < 2030 {
                assert!(got < cap, "{year}: {got}");
                continue;
            }
            assert!(
                (got - cap).abs() < 1e-3,
                "{year} {id}: {got:.0} of {cap:.0} t REO"
            );
        }
    }
    let [mining, separation, _] = stage_shares(&json, &country, 2030);
    assert!((mining - 60.9).abs() <= 0.1, "2030 mining {mining:.2} %");
    assert!((mining - 54.0).abs() <= 8.0);
    assert!(
        (separation - 72.4).abs() <= 0.1,
        "2030 separation {separation:.2} %"
    );
    let builds = json["builds"].as_array().unwrap();
    assert_eq!(builds.len(), 1, "{builds:?}");
    assert_eq!(builds[0]["facility"], "lynas-seadrift");
    assert_eq!(builds[0]["year"], 2028);
    assert!((builds[0]["capacity"].as_f64().unwrap() - 7000.0).abs() < 0.5);
    let base = solve(&[]);
    let more =
        (json["cost"]["total"].as_f64().unwrap() - base["cost"]["total"].as_f64().unwrap()) / 1e9;
    assert!((more - 0.5).abs() <= 0.05, "{more:.3} bn more");
    // Held to Kuantan (no Seadrift build), the reading stays 0.2 pp above
    // the band.
    let held = solve(&[
        "--scenario",
        "mines-sell-capacity",
        "--set",
        "contract.lynas-captive.min.2028=46000",
    ]);
    assert!(held["builds"].as_array().unwrap().is_empty());
    let mining = stage_shares(&held, &country, 2030)[0];
    assert!(
        (mining - 62.2).abs() <= 0.1,
        "held to Kuantan: {mining:.2} %"
    );
}

/// README's paragraph on the flagship ("The world as contracted and
/// announced"), recomputed from the solves.
#[test]
fn readme_world_section_figures() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let readme = readme.split_whitespace().collect::<Vec<_>>().join(" ");
    let says = |text: &str| assert!(readme.contains(text), "README no longer says {text:?}");
    let country = countries(&plan());
    let base = solve(&[]);
    let [a, b, c] = stage_shares(&base, &country, 2025);
    let [d, e, f] = stage_shares(&base, &country, 2030);
    says(&format!(
        "China's share comes out at {a:.1} % of mining, {b:.1} % of separation and {c:.1} % of magnets in 2025, and at {d:.1} %, {e:.1} % and {f:.1} % in 2030 — separation {:.1} pp from the IEA outlook (77 %), mining {:.1} pp above it (54 %).",
        77.0 - e,
        d - 54.0
    ));
    let sell = solve(&["--scenario", "mines-sell-capacity"]);
    let m = stage_shares(&sell, &country, 2030)[0];
    let more =
        (sell["cost"]["total"].as_f64().unwrap() - base["cost"]["total"].as_f64().unwrap()) / 1e9;
    says(&format!(
        "China's 2030 mining share is then {m:.1} %, inside the IEA band, for {more:.1} bn USD more"
    ));
    let held = solve(&[
        "--scenario",
        "mines-sell-capacity",
        "--set",
        "contract.lynas-captive.min.2028=46000",
    ]);
    let h = stage_shares(&held, &country, 2030)[0];
    says(&format!("held to Kuantan it is {h:.1} %, just outside."));
    let none = stage_shares(&solve(&["--scenario", "no-contracts"]), &country, 2030);
    says(&format!(
        "gives China {:.0} % of mining, {:.0} % of separation and {:.0} % of magnets in 2030",
        none[0], none[1], none[2]
    ));
    let us_made: f64 = flows(&base, "magnet")
        .iter()
        .filter(|x| x["year"] == 2030 && x["to"] == "us-other")
        .filter(|x| country[x["from"].as_str().unwrap()] == "US")
        .map(|x| x["tonnes"].as_f64().unwrap())
        .sum();
    let us_all: f64 = flows(&base, "magnet")
        .iter()
        .filter(|x| x["year"] == 2030 && x["to"] == "us-other")
        .map(|x| x["tonnes"].as_f64().unwrap())
        .sum();
    says(&format!(
        "({:.1} kt of {:.0} kt of US civil demand made in the US in 2030)",
        us_made / 1e3,
        us_all / 1e3
    ));
}

/// The civil target of us-build-2030.toml on the contracted world (scenario
/// us-civil-target): no build and no cost; README's frontier figures,
/// recomputed by point solves with the share set in every year (what
/// `frontier` does) and compared with `frontier`'s own rows.
#[test]
fn us_civil_target_needs_no_build_on_the_contracted_world() {
    let base = solve(&[]);
    let cost = |j: &Value| j["cost"]["total"].as_f64().unwrap();
    let target = solve(&["--scenario", "us-civil-target"]);
    assert!(target["builds"].as_array().unwrap().is_empty());
    assert!(target["unmet"].as_array().unwrap().is_empty());
    assert!(
        (cost(&target) - cost(&base)).abs() < 1.0,
        "{}",
        cost(&target) - cost(&base)
    );
    let rows: Vec<&Value> = target["shares"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["rule"] == "us-civil-half")
        .collect();
    assert_eq!(rows.len(), 8, "2028-2035");
    for r in &rows {
        let (got, want) = (
            r["achieved"].as_f64().unwrap(),
            r["required"].as_f64().unwrap(),
        );
        assert!(got >= want - 1e-9, "{r}");
    }
    let at = |share: &str| {
        solve(&[
            "--scenario",
            "us-civil-target",
            "--set",
            &format!("share_rule.us-civil-half.min_share={share}"),
        ])
    };
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let readme = readme.split_whitespace().collect::<Vec<_>>().join(" ");
    let says = |text: &str| assert!(readme.contains(text), "README no longer says {text:?}");
    let (half, sixty, ninety, all) = (at("0.5"), at("0.6"), at("0.9"), at("1"));
    let added = |j: &Value| cost(j) - cost(&base);
    let grouped = |v: f64| {
        let s = format!("{:.0}", v);
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        out
    };
    says(&format!(
        "{} USD more at 50 %, {:.1} M USD at 60 %, {:.2} bn at 90 % and {:.2} bn at 100 %",
        grouped(added(&half)),
        added(&sixty) / 1e6,
        added(&ninety) / 1e9,
        added(&all) / 1e9
    ));
    let builds: Vec<(String, i64, f64)> = all["builds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["facility"].as_str().unwrap().into(),
                b["year"].as_i64().unwrap(),
                b["capacity"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(builds.len(), 1, "{builds:?}");
    assert_eq!((builds[0].0.as_str(), builds[0].1), ("neo-narva", 2028));
    let unmet = all["unmet"].as_array().unwrap();
    assert_eq!(unmet.len(), 1, "{unmet:?}");
    assert_eq!(
        (unmet[0]["market"].as_str(), unmet[0]["year"].as_i64()),
        (Some("us-other"), Some(2028))
    );
    let clean_2028 = all["shares"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == "us-civil-half" && r["year"] == 2028)
        .unwrap()["delivered"]
        .as_f64()
        .unwrap();
    says(&format!(
        "At 100 % the LP builds Narva phase 2 ({} t/yr, 2028) and still leaves {} t of US civil demand unmet in 2028, because the China-free chain has {} t that year.",
        grouped(builds[0].2),
        grouped(unmet[0]["tonnes"].as_f64().unwrap()),
        grouped(clean_2028)
    ));
    // `frontier` gives the same totals.
    let out = Command::new(env!("CARGO_BIN_EXE_reeplan"))
        .args([
            "frontier",
            MODEL,
            "--scenario",
            "us-civil-target",
            "--rule",
            "us-civil-half",
            "--format",
            "csv",
        ])
        .current_dir(root())
        .output()
        .expect("run reeplan frontier");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for (share, j) in [
        ("0.5", &half),
        ("0.6", &sixty),
        ("0.9", &ninety),
        ("1", &all),
    ] {
        let row = text
            .lines()
            .find(|l| l.starts_with(&format!("{share},")))
            .unwrap_or_else(|| panic!("no frontier row {share}: {text}"));
        let total: f64 = row.split(',').nth(2).unwrap().parse().unwrap();
        assert!(
            (total - cost(j)).abs() <= 1e-6 * total,
            "{share}: {total} vs {}",
            cost(j)
        );
    }
}

/// README's "what share of US magnets is China-free" figures: the group
/// us = us-defense + us-other, by stage, 2027 and 2030, from the JSON
/// (each market's shares are checked against an independent trace in
/// tests/report_numbers.rs; a group is their delivery-weighted sum, here
/// recomputed from the two markets' rows).
#[test]
fn readme_us_china_free_figures() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let text = "46.7 % mined, 45.1 % separated,\n  39.1 % made outside in 2027; 98.9 %, 100 %, 100 % in 2030";
    assert!(readme.contains(text), "README no longer says {text:?}");
    let json = solve(&["--group", "us=us-defense,us-other"]);
    let rows = json["outside_concern"].as_array().unwrap();
    let row = |g: &str, y: i64| {
        rows.iter()
            .find(|r| r["group"] == g && r["year"] == y)
            .unwrap_or_else(|| panic!("no {g} {y}"))
    };
    for (year, want) in [(2027, [46.7, 45.1, 39.1]), (2030, [98.9, 100.0, 100.0])] {
        let (d, o) = (row("us-defense", year), row("us-other", year));
        let (td, to) = (
            d["delivered"].as_f64().unwrap(),
            o["delivered"].as_f64().unwrap(),
        );
        for (i, stage) in ["mining", "refining", "magnet"].iter().enumerate() {
            let weighted =
                (d[*stage].as_f64().unwrap() * td + o[*stage].as_f64().unwrap() * to) / (td + to);
            let group = row("us", year)[*stage].as_f64().unwrap();
            assert!((weighted - group).abs() < 1e-9, "{year} {stage}");
            assert!(
                (group * 100.0 - want[i]).abs() < 0.05,
                "{year} {stage}: {} vs README {}",
                group * 100.0,
                want[i]
            );
        }
    }
}
