//! The answers a planner reads, against hand-worked numbers: cost in three
//! groups, unmet demand by market and year, and the share of each market's
//! (or group's) magnets handled outside the concern countries.

mod common;

use common::{edit, run_plan, MINIMAL};

fn json(text: &str, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["solve", "--format", "json"];
    all.extend_from_slice(args);
    let run = run_plan(text, &all);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    serde_json::from_str(&run.stdout).expect("JSON")
}

fn num(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[track_caller]
fn close(got: f64, want: f64) {
    assert!(
        (got - want).abs() <= 1e-6 * want.abs().max(1.0),
        "got {got}, want {want}"
    );
}

/// The minimal example with 600 t of demand against 500 t of plant
/// capacity (the rest at 1,000,000 USD/t) and a duty of 100 USD/t on oxide
/// from MY to the US.
fn short_and_taxed() -> String {
    let plan = edit(
        MINIMAL,
        "demand = 100",
        "demand = 600\nunmet_penalty = 1000000",
    );
    format!(
        "{plan}\n[[tariff]]\nid = \"duty\"\nproduct = \"oxide\"\nfrom = \"MY\"\nto = \"US\"\nper_tonne = 100\n"
    )
}

#[test]
fn cost_in_three_groups() {
    // By hand: 500 t of magnet (the plant's capacity; a t costs about
    // 41,700 to make against 1,000,000 to leave unmet) need 150 t NdPr
    // oxide = 150 / (0.2 × 0.9) = 833.33 t REO.
    //   resource:  833.33 × (2,000 + 5,000) + 500 × 30,000 = 20,833,333.33
    //   transfers: 150 t oxide × 100 = 15,000
    //   penalties: 100 t unmet × 1,000,000 = 100,000,000
    let j = json(&short_and_taxed(), &[]);
    let c = &j["cost"];
    let resource = 150.0 / 0.18 * 7000.0 + 500.0 * 30000.0;
    close(num(&c["resource"]), resource);
    close(num(&c["transfers"]), 15_000.0);
    close(num(&c["penalties"]), 1e8);
    close(num(&c["total"]), resource + 15_000.0 + 1e8);

    // The summary prints the same three figures and the resource cost per
    // t delivered (20,833,333.33 / 500 = 41,666.67, shown rounded).
    let run = run_plan(&short_and_taxed(), &["solve", "--format", "markdown"]);
    let cell = |label: &str| -> String {
        run.stdout
            .lines()
            .find(|l| l.starts_with(&format!("| {label}")))
            .unwrap_or_else(|| panic!("no row {label:?} in\n{}", run.stdout))
            .rsplit('|')
            .nth(1)
            .expect("value cell")
            .trim()
            .to_string()
    };
    assert_eq!(cell("of which resource cost (USD)"), "20,833,333");
    assert_eq!(
        cell("of which transfers (tariffs less subsidies) (USD)"),
        "15,000"
    );
    assert_eq!(
        cell("of which penalties (unmet, soft rules, contracts) (USD)"),
        "100,000,000"
    );
    assert_eq!(
        cell("resource cost per t magnet delivered (USD/t)"),
        "41,667"
    );
}

#[test]
fn unmet_demand_is_in_the_default_view() {
    // 100 t of 600 unserved: 16.7 % of demand.
    let run = run_plan(&short_and_taxed(), &["solve", "--format", "markdown"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stdout
            .contains("| us | 2026 | 600.0 | 100.0 | 16.7 % |"),
        "{}",
        run.stdout
    );
}

/// Two mines feed one separation plant in MY: CN (cheap, 100 t REO) and AU
/// (dearer). A plant in the US serves market a (US, 90 t); a plant in CN
/// serves market b (CN, 60 t); cross-border magnets cost 100/t, so each
/// market is served from home. Grade, recovery and recipe are 1.
const TWO_PLANTS: &str = r#"
[plan]
first_year = 2026
last_year = 2026
[elements.NdPr]
price = 1
[[mine]]
id = "m_cn"
country = "CN"
capacity = 100
cost = 1
grade = { NdPr = 1 }
[[mine]]
id = "m_au"
country = "AU"
capacity = 100
cost = 2
grade = { NdPr = 1 }
[[refinery]]
id = "r"
country = "MY"
capacity = 1000
[[magnet_plant]]
id = "p_us"
country = "US"
capacity = 1000
cost = 5
recipe = { NdPr = 1 }
[[magnet_plant]]
id = "p_cn"
country = "CN"
capacity = 60
cost = 1
recipe = { NdPr = 1 }
[[market]]
id = "a"
country = "US"
demand = 90
[[market]]
id = "b"
country = "CN"
demand = 60
[transport]
cross_border = { magnet = 100 }
"#;

#[test]
fn outside_concern_shares_by_market_and_group() {
    // 150 t REO: m_cn's 100 (cheaper) and 50 from m_au, pooled at r, so
    // every t of oxide is 1/3 mined outside CN, all of it separated outside.
    // a: made in the US → 1/3, 1, 1. b: made in CN → 1/3, 1, 0.
    // Group a+b: 150 t, 1/3, 1, and 90 / 150 = 0.6 made outside.
    let j = json(TWO_PLANTS, &["--group", "ab=a,b"]);
    let rows = j["outside_concern"].as_array().expect("outside_concern");
    let row = |g: &str| {
        rows.iter()
            .find(|r| r["group"] == g && r["year"] == 2026)
            .unwrap_or_else(|| panic!("no {g} in {rows:?}"))
    };
    for (g, delivered, want) in [
        ("a", 90.0, [1.0 / 3.0, 1.0, 1.0]),
        ("b", 60.0, [1.0 / 3.0, 1.0, 0.0]),
        ("ab", 150.0, [1.0 / 3.0, 1.0, 0.6]),
    ] {
        let r = row(g);
        close(num(&r["delivered"]), delivered);
        for (stage, w) in ["mining", "refining", "magnet"].iter().zip(want) {
            close(num(&r[*stage]), w);
        }
    }
    assert_eq!(row("ab")["markets"], serde_json::json!(["a", "b"]));

    // The table prints them, market-major: with --detail every market and
    // group; by default only the groups asked for (and ruled markets).
    let rows = [
        "| a | 2026 | 90 | 33.3 % | 100.0 % | 100.0 % |",
        "| b | 2026 | 60 | 33.3 % | 100.0 % | 0.0 % |",
        "| ab | 2026 | 150 | 33.3 % | 100.0 % | 60.0 % |",
    ];
    let args = ["solve", "--format", "markdown", "--group", "ab=a,b"];
    let detail = run_plan(TWO_PLANTS, &[&args[..], &["--detail"]].concat());
    let at: Vec<usize> = rows
        .iter()
        .map(|l| {
            detail
                .stdout
                .find(l)
                .unwrap_or_else(|| panic!("missing {l} in\n{}", detail.stdout))
        })
        .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "market-major order");
    let short = run_plan(TWO_PLANTS, &args);
    assert!(short.stdout.contains(rows[2]), "{}", short.stdout);
    assert!(!short.stdout.contains(rows[0]) && !short.stdout.contains(rows[1]));
}

#[test]
fn a_group_must_name_markets_of_the_plan() {
    for (arg, why) in [
        (
            "ab=a,zz",
            "--group ab=a,zz: no market \"zz\" (the plan has: a, b)",
        ),
        (
            "a=a,b",
            "--group a=a,b: \"a\" is already a market or a group",
        ),
        ("ab", "--group ab: expected NAME=MARKET,MARKET"),
    ] {
        let run = run_plan(TWO_PLANTS, &["solve", "--group", arg]);
        assert_eq!(run.code, Some(2), "{arg}: {}", run.stderr);
        assert!(run.stderr.contains(why), "{arg}: {}", run.stderr);
    }
}

#[test]
fn the_html_report_opens_with_an_executive_summary_of_the_same_numbers() {
    // The plan of `cost_in_three_groups`: 120,848,333.33 in total, of which
    // 20,833,333.33 resource cost, 15,000 transfers, 100,000,000
    // penalties; 100 t of 600 unserved (16.7 %).
    let dir = common::plan_dir(&short_and_taxed());
    let run = common::run_in(
        dir.path(),
        &["solve", "plan.toml", "--format", "html", "--out", "out"],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let html = std::fs::read_to_string(dir.path().join("out/report.html")).expect("report");
    for item in [
        "<li>Cost 2026–2026: 120.8 M USD in total, of which 20.8 M USD resource cost (what the chain uses up), 15,000 USD transfers (tariffs less subsidies) and 100.0 M USD penalties (prices of what did not happen).</li>",
        "<li>100 t of magnet demand go unserved over the horizon (us). The worst: us in 2026, 100 t short (16.7 % of its demand).</li>",
        "<li>What binds in 2026: 1 facility at capacity.</li>",
    ] {
        assert!(html.contains(item), "missing {item} in the report");
    }
    // The glossary and the run's command close the page.
    assert!(html.contains("<dt>resource cost</dt>"));
    assert!(html.contains("Run: reeplan solve plan.toml --format html --out out on "));
}

#[test]
fn cost_by_year_adds_up_to_the_total() {
    // The minimal example over 2026-2027 at a 10 % discount rate, with
    // 100 t then 200 t of demand. A t of magnet costs 30,000 + 0.3 t NdPr /
    // (0.2 × 0.9) × 7,000 = 41,666.67: 2026 4,166,666.67; 2027 8,333,333.33
    // / 1.1 = 7,575,757.58.
    let plan = edit(
        MINIMAL,
        "last_year = 2026",
        "last_year = 2027\ndiscount_rate = 0.1",
    );
    let plan = edit(&plan, "demand = 100", "demand = { 2026 = 100, 2027 = 200 }");
    let j = json(&plan, &[]);
    let years = j["cost_by_year"].as_array().expect("cost_by_year");
    let per_t = 30_000.0 + 0.3 / 0.18 * 7_000.0;
    let want = [(2026, 100.0 * per_t), (2027, 200.0 * per_t / 1.1)];
    assert_eq!(years.len(), 2);
    for (y, (year, cost)) in years.iter().zip(want) {
        assert_eq!(y["year"], year);
        close(num(&y["production"]), cost);
        close(num(&y["resource"]), cost);
        close(num(&y["total"]), cost);
    }
    close(num(&j["cost"]["total"]), want[0].1 + want[1].1);
}

#[test]
fn the_workbook_has_native_charts_of_the_shares_and_the_cost_by_year() {
    use std::io::Read;
    let dir = common::plan_dir(&short_and_taxed());
    let run = common::run_in(
        dir.path(),
        &["solve", "plan.toml", "--format", "xlsx", "--out", "out"],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let file = std::fs::File::open(dir.path().join("out/report.xlsx")).expect("workbook");
    let mut zip = zip::ZipArchive::new(file).expect("a zip");
    let mut charts = Vec::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).expect("entry");
        if f.name().expect("entry name").starts_with("xl/charts/chart") {
            let mut xml = String::new();
            f.read_to_string(&mut xml).expect("xml");
            charts.push(xml);
        }
    }
    assert_eq!(charts.len(), 2, "two native charts");
    let all = charts.join("\n");
    // The concern shares: a series per stage row (Excel rows 3-5), named by
    // its first cell, over the year headers (row 2) from column B.
    for row in 3..=5 {
        assert!(
            all.contains(&format!("<c:f>concern!$A${row}</c:f>")),
            "{all}"
        );
        assert!(
            all.contains(&format!("<c:f>concern!$B${row}</c:f>")),
            "{all}"
        );
    }
    assert!(all.contains("<c:f>concern!$B$2</c:f>"), "{all}");
    // Cost by year: resource, transfers, penalties (columns B-D) over the
    // years (column A), with the numbers of `cost_in_three_groups`.
    for col in ["B", "C", "D"] {
        assert!(
            all.contains(&format!("<c:f>cost_by_year!${col}$3</c:f>")),
            "{col}: {all}"
        );
    }
    assert!(all.contains("<c:f>cost_by_year!$A$3</c:f>"), "{all}");
    for cached in [
        "<c:v>15000</c:v>",
        "<c:v>100000000</c:v>",
        "<c:v>resource cost (USD)</c:v>",
    ] {
        assert!(all.contains(cached), "{cached}: {all}");
    }
}

/// Two mines of 50 t REO each, one in CN separated in CN and one in AU
/// separated in MY, feed one US plant making 100 t for one US market.
const HALF_CLEAN: &str = r#"
[plan]
first_year = 2026
last_year = 2026
[elements.NdPr]
price = 1
[[mine]]
id = "m_cn"
country = "CN"
capacity = 50
cost = 1
grade = { NdPr = 1 }
[[mine]]
id = "m_au"
country = "AU"
capacity = 50
cost = 1
grade = { NdPr = 1 }
[[refinery]]
id = "r_cn"
country = "CN"
capacity = 50
[[refinery]]
id = "r_my"
country = "MY"
capacity = 50
[[magnet_plant]]
id = "p_us"
country = "US"
capacity = 100
recipe = { NdPr = 1 }
[[market]]
id = "us"
country = "US"
demand = 100
"#;

#[test]
fn a_rule_that_measures_reports_what_the_flows_allow_and_changes_nothing() {
    // Whatever the solver labels, half of the oxide was mined and separated
    // outside CN, so at most 50 t of the 100 t of magnets can be clean at
    // every stage: a 0 % rule reports 0.5 (not the solver's arbitrary
    // labels), and the outside-concern shares are those of the flows —
    // mined 50 %, separated 50 %, made 100 % — with and without the rule;
    // the cost is the mines' 100 t × 1 either way.
    let with_rule = format!(
        "{HALF_CLEAN}[[share_rule]]\nid = \"measure\"\nmarkets = [\"us\"]\nmin_share = 0\n"
    );
    let plain = json(HALF_CLEAN, &[]);
    let ruled = json(&with_rule, &[]);
    let shares = ruled["shares"].as_array().expect("shares");
    assert_eq!(shares.len(), 1);
    close(num(&shares[0]["achieved"]), 0.5);
    for j in [&plain, &ruled] {
        let row = &j["outside_concern"][0];
        assert_eq!(row["group"], "us");
        close(num(&row["mining"]), 0.5);
        close(num(&row["refining"]), 0.5);
        close(num(&row["magnet"]), 1.0);
        close(num(&j["cost"]["total"]), 100.0);
    }
}
