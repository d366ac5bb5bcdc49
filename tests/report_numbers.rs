//! Every number a report shows is checked against the solve's JSON,
//! recomputed here from the JSON's flows, shares and costs (not with the
//! program's metrics code): every cell of `compare` (CSV and Markdown) and
//! `sweep` (CSV) on the shipped models, every node label of the flow chart,
//! and every cell of the one-screen solve tables (sourcing, concern shares,
//! what binds).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn model(name: &str) -> String {
    root()
        .join("models")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn run(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_reeplan"))
        .args(args)
        .output()
        .expect("run reeplan");
    assert!(
        out.status.success(),
        "reeplan {args:?} exited {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn solve_json(args: &[&str]) -> Value {
    let mut a = vec!["solve"];
    a.extend_from_slice(args);
    a.extend_from_slice(&["--format", "json"]);
    serde_json::from_str(&run(&a)).expect("JSON")
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// `1234567.891` → `1,234,567.9` (decimals 1), written here independently.
fn grouped(v: f64, decimals: usize) -> String {
    let s = format!("{:.*}", decimals, v.abs());
    let (int, frac) = s
        .split_once('.')
        .map_or((s.as_str(), None), |(i, f)| (i, Some(f)));
    let digits: Vec<char> = int.chars().collect();
    let mut out = String::new();
    for (i, c) in digits.iter().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(*c);
    }
    if let Some(f) = frac {
        out = format!("{out}.{f}");
    }
    if v < 0.0 && s.chars().any(|c| c.is_ascii_digit() && c != '0') {
        out = format!("-{out}");
    }
    out
}

fn close(what: &str, actual: f64, expected: f64) {
    let tol = 1e-7 * expected.abs().max(1.0);
    assert!(
        (actual - expected).abs() <= tol,
        "{what}: table has {actual}, the JSON gives {expected}"
    );
}

/// Facility (and market) id → country, from the plan file itself.
fn countries_of(plan_path: &str) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(plan_path).expect("read plan");
    let doc: toml::Table = text.parse().expect("plan TOML");
    let mut out = BTreeMap::new();
    for section in ["mine", "refinery", "magnet_plant", "market"] {
        for item in doc
            .get(section)
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
        {
            if let (Some(id), Some(c)) = (
                item.get("id").and_then(|v| v.as_str()),
                item.get("country").and_then(|v| v.as_str()),
            ) {
                out.insert(id.to_string(), c.to_string());
            }
        }
    }
    // Scenarios may add facilities.
    if let Some(scenarios) = doc.get("scenario").and_then(|v| v.as_table()) {
        for sc in scenarios.values() {
            for section in ["mine", "refinery", "magnet_plant", "market"] {
                for item in sc
                    .get(section)
                    .and_then(|v| v.as_array())
                    .into_iter()
                    .flatten()
                {
                    if let (Some(id), Some(c)) = (
                        item.get("id").and_then(|v| v.as_str()),
                        item.get("country").and_then(|v| v.as_str()),
                    ) {
                        out.insert(id.to_string(), c.to_string());
                    }
                }
            }
        }
    }
    out
}

/// The value of the metric a row label names, from one solve's JSON.
/// `shown` lists the countries with a row of their own per stage (for the
/// "elsewhere" rows). `None` = the metric does not apply (empty cell).
fn expected(
    label: &str,
    j: &Value,
    country: &BTreeMap<String, String>,
    shown: &BTreeMap<String, Vec<String>>,
) -> Option<f64> {
    let cost = j.get("cost").filter(|c| !c.is_null());
    // Stockpile ids: shipments into stock are not deliveries, and magnets
    // released from stock were made (and counted) when they went in.
    let stock: Vec<&str> = j["stockpiles"]
        .as_array()
        .map(|a| a.iter().filter_map(|s| s["stockpile"].as_str()).collect())
        .unwrap_or_default();
    let magnets: f64 = j["flows"]["magnet"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| !stock.contains(&x["to"].as_str().unwrap_or("")))
        .map(|x| f(&x["tonnes"]))
        .sum();
    let unmet: f64 = j["unmet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| f(&x["tonnes"]))
        .sum();
    if label == "worst-case share of demand served (λ*)" {
        assert_eq!(
            j["objective"], "max-resilience",
            "λ* only under max-resilience"
        );
        return cost.and_then(|_| j["objective_value"].as_f64());
    }
    if label.starts_with("total cost (") {
        return cost.map(|c| f(&c["total"]));
    }
    if let Some(rest) = label.strip_prefix("cost: ") {
        let part = rest.rsplit_once(" (").expect("unit").0;
        let field = match part {
            "unmet demand" => "unmet".to_string(),
            "soft share-rule penalties" => "rules".to_string(),
            "contract penalties" => "contracts".to_string(),
            "stock holding" => "holding".to_string(),
            "spare-capacity reserves" => "reserves".to_string(),
            other => other.replace(' ', "_"),
        };
        return cost.map(|c| {
            c.get(&field)
                .map(f)
                .unwrap_or_else(|| panic!("cost part {part}: no field {field}"))
        });
    }
    if label == "magnets delivered (t)" {
        return cost.map(|_| magnets);
    }
    // The three groups of the total, summed here from the JSON's parts.
    let resource = |c: &Value| {
        [
            "production",
            "transport",
            "reserves",
            "investment",
            "holding",
        ]
        .iter()
        .map(|k| f(&c[*k]))
        .sum::<f64>()
    };
    if label.starts_with("resource cost per t magnet delivered") {
        // Tariffs and subsidies move money; penalties price what did not
        // happen: neither is a cost of delivery.
        return cost.and_then(|c| (magnets > 0.0).then(|| resource(c) / magnets));
    }
    if label.starts_with("resource cost (") {
        return cost.map(resource);
    }
    if label.starts_with("transfers (") {
        return cost.map(|c| f(&c["tariffs"]) + f(&c["subsidies"]));
    }
    if label.starts_with("penalties (") {
        return cost.map(|c| f(&c["unmet"]) + f(&c["rules"]) + f(&c["contracts"]));
    }
    if label == "unmet demand (t)" {
        return cost.map(|_| unmet);
    }
    if let Some(rest) = label.strip_prefix("capacity built: ") {
        // The builds of that stage, summed from the JSON's builds[].
        // "magnet (t …)" or "magnet in US (t …)".
        let (stage, tail) = rest.split_once(' ').expect("stage");
        let in_country = tail
            .strip_prefix("in ")
            .map(|t| t.split_once(' ').expect("country").0);
        cost?;
        let built: f64 = j["builds"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| b["stage"] == stage && in_country.is_none_or(|c| b["country"] == c))
            .map(|b| f(&b["capacity"]))
            .sum();
        return Some(built);
    }
    if let Some(rest) = label.strip_prefix("stock held: ") {
        // "s_us at end of 2029 (t)": that row of the JSON's stockpiles[].
        let (id, tail) = rest.split_once(" at end of ").expect("stockpile");
        let year: i64 = tail.split_once(' ').expect("year").0.parse().expect("year");
        cost?;
        let rows: Vec<&Value> = j["stockpiles"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["stockpile"] == id)
            .collect();
        if rows.is_empty() {
            return None; // this column's plan has no such stockpile
        }
        let row = rows
            .iter()
            .find(|s| s["year"] == year)
            .unwrap_or_else(|| panic!("no stockpiles[] row {id} {year}"));
        return Some(f(&row["level"]));
    }
    if let Some(rest) = label.strip_prefix("share rule ") {
        let id = rest.split_once(':').expect("rule id").0;
        cost?;
        let (mut clean, mut total) = (0.0, 0.0);
        for s in j["shares"].as_array().unwrap() {
            if s["rule"] == id {
                let d = f(&s["delivered"]);
                total += d;
                clean += s["achieved"].as_f64().unwrap_or(0.0) * d;
            }
        }
        return (total > 0.0).then(|| clean / total);
    }
    for stage in ["mining", "refining", "magnet"] {
        let Some(rest) = label.strip_prefix(&format!("{stage} ")) else {
            continue;
        };
        cost?;
        let mut by: BTreeMap<String, f64> = BTreeMap::new();
        let (flows, end) = match stage {
            "mining" => ("concentrate", "from"),
            "refining" => ("concentrate", "to"),
            _ => ("magnet", "from"),
        };
        for x in j["flows"][flows].as_array().unwrap() {
            let id = x[end].as_str().unwrap();
            if stock.contains(&id) {
                continue;
            }
            *by.entry(country[id].clone()).or_default() += f(&x["tonnes"]);
        }
        let total: f64 = by.values().sum();
        if total <= 0.0 {
            return None;
        }
        if rest.starts_with("elsewhere") {
            let listed: f64 = shown[stage]
                .iter()
                .map(|c| by.get(c).copied().unwrap_or(0.0))
                .sum();
            return Some((total - listed) / total);
        }
        let c = rest
            .strip_prefix("in ")
            .and_then(|r| r.split_once(' '))
            .expect("country")
            .0;
        return Some(by.get(c).copied().unwrap_or(0.0) / total);
    }
    panic!("row label {label:?} names no metric this test knows");
}

/// Countries with a row of their own, per stage, from the row labels.
fn shown_countries(labels: &[String]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for stage in ["mining", "refining", "magnet"] {
        out.insert(stage.to_string(), Vec::new());
    }
    for l in labels {
        for stage in ["mining", "refining", "magnet"] {
            if let Some(rest) = l.strip_prefix(&format!("{stage} in ")) {
                let c = rest.split_once(' ').unwrap().0.to_string();
                out.get_mut(stage).unwrap().push(c);
            }
        }
    }
    out
}

fn is_share(label: &str) -> bool {
    label.starts_with("share rule ")
        || label.starts_with("worst-case share")
        || ["mining ", "refining ", "magnet "]
            .iter()
            .any(|p| label.starts_with(p))
}

/// How the terminal and Markdown show a metric's value (independently).
fn shown_value(label: &str, v: Option<f64>) -> String {
    match v {
        None => "–".into(),
        Some(v) if is_share(label) => format!("{:.1} %", v * 100.0),
        Some(v) if label.ends_with("(t)") || label.ends_with("added)") => grouped(v, 1),
        Some(v) => grouped(v, 0),
    }
}

fn models_with_scenarios() -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(root().join("models")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "toml") {
            let text = std::fs::read_to_string(&p).unwrap();
            if text.lines().any(|l| l.starts_with("[scenario.")) {
                out.push(p.file_name().unwrap().to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

fn scenario_names(plan: &str) -> Vec<String> {
    let text = std::fs::read_to_string(plan).unwrap();
    let doc: toml::Table = text.parse().unwrap();
    doc["scenario"]
        .as_table()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

#[test]
fn every_compare_cell_equals_the_scenario_solve() {
    let models = models_with_scenarios();
    assert!(models.len() >= 4, "{models:?}");
    for name in models {
        let plan = model(&name);
        let country = countries_of(&plan);
        let columns: Vec<String> = std::iter::once("base".to_string())
            .chain(scenario_names(&plan))
            .collect();
        let solves: Vec<Value> = columns
            .iter()
            .map(|c| {
                if c == "base" {
                    solve_json(&[&plan])
                } else {
                    solve_json(&[&plan, "--scenario", c])
                }
            })
            .collect();

        // CSV: raw numbers, a difference column after each scenario.
        let csv_text = run(&["compare", &plan, "--format", "csv"]);
        let mut r = csv::Reader::from_reader(csv_text.as_bytes());
        let headers: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
        let mut expect_headers = vec!["metric".to_string()];
        for (j, c) in columns.iter().enumerate() {
            expect_headers.push(c.clone());
            if j > 0 {
                expect_headers.push(format!("{c} − base"));
            }
        }
        assert_eq!(headers, expect_headers, "{name}");
        let rows: Vec<Vec<String>> = r
            .records()
            .map(|x| x.unwrap().iter().map(String::from).collect())
            .collect();
        let labels: Vec<String> = rows.iter().map(|r| r[0].clone()).collect();
        let shown = shown_countries(&labels);
        let mut checked = 0;
        for row in &rows {
            let label = &row[0];
            if label == "status" {
                for (j, s) in solves.iter().enumerate() {
                    assert_eq!(row[col_of(j)], s["status"].as_str().unwrap(), "{name}");
                }
                continue;
            }
            if label == "description" {
                continue;
            }
            let base = expected(label, &solves[0], &country, &shown);
            for (j, s) in solves.iter().enumerate() {
                let want = expected(label, s, &country, &shown);
                let cell = &row[col_of(j)];
                let what = format!("{name}: {label} in column {}", columns[j]);
                match want {
                    None => assert_eq!(cell, "", "{what}: a metric the column lacks is empty"),
                    Some(v) => close(
                        &what,
                        cell.parse().unwrap_or_else(|_| panic!("{what}: {cell:?}")),
                        v,
                    ),
                }
                if j > 0 {
                    let d = &row[col_of(j) + 1];
                    match (want, base) {
                        (Some(v), Some(b)) => {
                            close(&format!("{what} − base"), d.parse().unwrap(), v - b)
                        }
                        _ => assert_eq!(d, "", "{what} − base"),
                    }
                }
                checked += 1;
            }
        }
        assert!(checked > 10 * columns.len(), "{name}: {checked} cells");

        // Markdown: the same rows, values as people read them.
        let md = run(&["compare", &plan, "--format", "markdown"]);
        let md_rows: Vec<Vec<String>> = md
            .lines()
            .filter(|l| l.starts_with("| ") && !l.starts_with("| metric"))
            .map(|l| {
                l.trim_matches('|')
                    .split(" | ")
                    .map(|c| c.trim().to_string())
                    .collect()
            })
            .collect();
        let md_labels: Vec<String> = md_rows.iter().map(|r| r[0].clone()).collect();
        let md_shown = shown_countries(&md_labels);
        assert_eq!(
            md_shown, shown,
            "{name}: same country rows in CSV and Markdown"
        );
        for row in &md_rows {
            let label = &row[0];
            if label == "status" || label == "description" {
                continue;
            }
            assert_eq!(row.len(), columns.len() + 1, "{name}: {row:?}");
            for (j, s) in solves.iter().enumerate() {
                let want = shown_value(label, expected(label, s, &country, &shown));
                let cell = row[j + 1].split(" (").next().unwrap();
                assert_eq!(
                    cell, want,
                    "{name}: {label} in column {} (Markdown)",
                    columns[j]
                );
            }
        }
    }
}

/// CSV column of column `j` (base has no difference column).
fn col_of(j: usize) -> usize {
    if j == 0 {
        1
    } else {
        2 * j
    }
}

#[test]
fn every_sweep_cell_equals_the_point_solve() {
    let plan = model("dfars-2027.toml");
    let country = countries_of(&plan);
    let path = "share_rule.dfars-225-7018.min_share";
    let values = ["0.5", "1"];
    let csv_text = run(&[
        "sweep",
        &plan,
        "--set",
        &format!("{path}={}", values.join(",")),
        "--format",
        "csv",
        // Each point from scratch like `solve` (a warm start may land on
        // another optimum of equal cost with other shares).
        "--cold",
    ]);
    let mut r = csv::Reader::from_reader(csv_text.as_bytes());
    let headers: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(&headers[..3], ["point", path, "status"]);
    let shown = shown_countries(&headers);
    let rows: Vec<Vec<String>> = r
        .records()
        .map(|x| x.unwrap().iter().map(String::from).collect())
        .collect();
    assert_eq!(rows.len(), values.len());
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row[0], i.to_string());
        assert_eq!(row[1], values[i]);
        let j = solve_json(&[&plan, "--set", &format!("{path}={}", values[i])]);
        assert_eq!(row[2], j["status"].as_str().unwrap());
        for (h, cell) in headers.iter().zip(row).skip(3) {
            let what = format!("sweep point {i}: {h}");
            match expected(h, &j, &country, &shown) {
                None => assert_eq!(cell, "", "{what}"),
                Some(v) => close(&what, cell.parse().unwrap(), v),
            }
        }
    }
}

// ------------------------------------------------------------ library side

struct Solved {
    plan: reeplan::Plan,
    outcome: reeplan::Outcome,
    json: Value,
    country: BTreeMap<String, String>,
}

fn solved(name: &str) -> Solved {
    let path = model(name);
    let source = reeplan::PlanSource::load(Path::new(&path)).expect("load");
    let plan = source.plan(None).expect("plan");
    let outcome = reeplan::solve_plan(&plan, &Default::default()).expect("solve");
    let json = serde_json::to_value(&outcome).unwrap();
    Solved {
        plan,
        outcome,
        json,
        country: countries_of(&path),
    }
}

fn sum_where(j: &Value, flows: &str, year: i64, key: &str, id: &str) -> f64 {
    j["flows"][flows]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["year"] == year && x[key] == id)
        .map(|x| f(&x["tonnes"]))
        .sum()
}

#[test]
fn every_flow_chart_node_is_labelled_with_what_its_stage_measures() {
    for (name, year) in [
        ("us-magnets-2035.toml", 2030),
        ("us-magnets-2035.toml", 2035),
        ("china-export-ban.toml", 2030),
    ] {
        let s = solved(name);
        let layout = reeplan::report::chart::flow_layout(&s.plan, &s.outcome, year);
        assert!(layout.nodes.len() > 10, "{name}");
        let units = [
            "t REO mined",
            "t REO separated",
            "t magnet made",
            "t magnet delivered",
        ];
        // Every facility and market with a flow that year has one node.
        let mut ids: [BTreeSet<String>; 4] = Default::default();
        for (stage, flows, key) in [
            (0, "concentrate", "from"),
            (1, "concentrate", "to"),
            (1, "oxide", "from"),
            (2, "oxide", "to"),
            (2, "magnet", "from"),
            (3, "magnet", "to"),
        ] {
            for x in s.json["flows"][flows].as_array().unwrap() {
                if x["year"] == year {
                    ids[stage].insert(x[key].as_str().unwrap().to_string());
                }
            }
        }
        for u in s.json["unmet"].as_array().unwrap() {
            if u["year"] == year {
                ids[3].insert(u["market"].as_str().unwrap().to_string());
            }
        }
        for (stage, want) in ids.iter().enumerate() {
            let got: BTreeSet<String> = layout
                .nodes
                .iter()
                .filter(|n| n.stage == stage)
                .map(|n| n.id.clone())
                .collect();
            assert_eq!(&got, want, "{name} {year} stage {stage}");
        }
        for n in &layout.nodes {
            let t = match n.stage {
                0 => sum_where(&s.json, "concentrate", year, "from", &n.id),
                1 => sum_where(&s.json, "concentrate", year, "to", &n.id),
                2 => sum_where(&s.json, "magnet", year, "from", &n.id),
                _ => sum_where(&s.json, "magnet", year, "to", &n.id),
            };
            // Facilities: the same figure as their utilization row.
            if n.stage < 3 {
                let u = s.json["utilization"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|u| u["year"] == year && u["facility"] == n.id.as_str())
                    .unwrap_or_else(|| panic!("{}: no utilization row", n.id));
                close(&format!("{} throughput", n.id), f(&u["throughput"]), t);
            }
            close(&format!("{name} {year} node {}", n.id), n.tonnes, t);
            let label = if n.stage == 3 {
                let short: f64 = s.json["unmet"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|u| u["year"] == year && u["market"] == n.id.as_str())
                    .map(|u| f(&u["tonnes"]))
                    .sum();
                let mut l = format!("{} {} {}", n.id, grouped(t, 0), units[3]);
                if short > 0.0 {
                    l += &format!(", {} t unmet", grouped(short, 0));
                }
                l
            } else {
                format!(
                    "{} ({}) {} {}",
                    n.id,
                    s.country[&n.id],
                    grouped(t, 0),
                    units[n.stage]
                )
            };
            assert_eq!(n.label, label, "{name} {year}");
        }
        // Bands: at least the minimum width, and within their nodes.
        for b in &layout.bands {
            assert!(b.h_from >= 3.0 - 1e-9 && b.h_to >= 3.0 - 1e-9, "{b:?}");
            let (from, to) = (&layout.nodes[b.from], &layout.nodes[b.to]);
            assert!(b.y_from >= from.y - 1e-6 && b.y_from + b.h_from <= from.y + from.h + 1e-6);
            assert!(b.y_to >= to.y - 1e-6 && b.y_to + b.h_to <= to.y + to.h + 1e-6);
        }
    }
}

/// The cells of one table of the default solve output, as displayed.
fn table_cells(t: &reeplan::report::Table) -> Vec<Vec<String>> {
    t.rows
        .iter()
        .map(|r| r.iter().map(|c| c.display()).collect())
        .collect()
}

/// A whole-percent share as the sourcing cells write it: a share that is
/// not whole (beyond 1e-6) never reads 100% or 0%.
fn pct0(v: f64) -> String {
    let p = format!("{:.0}", v * 100.0);
    if p == "100" && v < 1.0 - 1e-6 {
        return ">99%".into();
    }
    if p == "0" && v > 1e-6 {
        return "<1%".into();
    }
    format!("{p}%")
}

/// Shares by country as the sourcing table writes them, largest first,
/// the rest as "other" beyond three countries.
fn mix(by: &BTreeMap<String, f64>) -> String {
    let total: f64 = by.values().sum();
    let mut v: Vec<(String, f64)> = by
        .iter()
        .map(|(c, t)| (c.clone(), t / total))
        .filter(|x| x.1 >= 0.005)
        .collect();
    v.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap().then(a.0.cmp(&b.0)));
    if v.len() > 3 {
        let rest = 1.0 - v[0].1 - v[1].1;
        v.truncate(2);
        v.push(("other".into(), rest));
    } else {
        // The countries under 0.5 % are a rest of their own.
        let rest = 1.0 - v.iter().map(|x| x.1).sum::<f64>();
        if rest > 1e-6 {
            v.push(("other".into(), rest));
        }
    }
    v.iter()
        .map(|(c, s)| format!("{c} {}", pct0(*s)))
        .collect::<Vec<_>>()
        .join(", ")
}

#[test]
fn sourcing_and_concern_tables_equal_the_flows() {
    // The free-for-all and the contracted flagship (its contracts and
    // subsidies after the tables; it builds nothing).
    sourcing_and_concern_of(
        "us-magnets-2035.toml",
        &["summary", "sourcing", "outside_concern", "concern", "binds"],
    );
    sourcing_and_concern_of(
        "world-2030.toml",
        &[
            "summary",
            "sourcing",
            "outside_concern",
            "concern",
            "binds",
            "contracts",
            "subsidies",
        ],
    );
}

fn sourcing_and_concern_of(name: &str, want_tables: &[&str]) {
    let s = solved(name);
    let j = &s.json;
    let all = reeplan::report::solve_report(&s.plan, &s.outcome, &Default::default());
    let names: Vec<&str> = all.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, want_tables);
    let pick = |n: &str| all.iter().find(|t| t.name == n).expect(n);
    let tables = [pick("summary"), pick("sourcing"), pick("concern")];
    // Key years: first, last, and each share rule's first year.
    let mut years: BTreeSet<i64> = [2025, 2035].into();
    let mut rule_first: BTreeMap<String, i64> = BTreeMap::new();
    for r in j["shares"].as_array().unwrap() {
        let y = r["year"].as_i64().unwrap();
        let e = rule_first
            .entry(r["rule"].as_str().unwrap().into())
            .or_insert(y);
        *e = (*e).min(y);
    }
    years.extend(rule_first.values());
    assert!(years.len() >= 3, "{years:?}");

    // Proportional tracing from the flows, written out here.
    let flows = |kind: &str, y: i64| -> Vec<(String, String, f64)> {
        j["flows"][kind]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["year"] == y)
            .map(|x| {
                (
                    x["from"].as_str().unwrap().to_string(),
                    x["to"].as_str().unwrap().to_string(),
                    f(&x["tonnes"]),
                )
            })
            .collect()
    };
    let mut expect = Vec::new();
    let mut outside_expect: Vec<(String, i64, f64, [f64; 3])> = Vec::new();
    let markets: Vec<String> = {
        let text = std::fs::read_to_string(model(name)).unwrap();
        let doc: toml::Table = text.parse().unwrap();
        doc["market"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_string())
            .collect()
    };
    // Share rules of the plan: (id, markets); in force in a year when the
    // JSON has its row. Both models have one rule, min_share 1 over every
    // stage, and no stockpile.
    let doc: toml::Table = std::fs::read_to_string(model(name))
        .unwrap()
        .parse()
        .unwrap();
    let rules: Vec<(String, Vec<String>)> = doc
        .get("share_rule")
        .and_then(|r| r.as_array())
        .into_iter()
        .flatten()
        .map(|r| {
            assert_eq!(r["min_share"].as_integer(), Some(1), "{name}");
            assert_eq!(r["stages"].as_array().unwrap().len(), 3, "{name}");
            let ms = r["markets"].as_array().unwrap().iter();
            let ms = ms.map(|m| m.as_str().unwrap().to_string()).collect();
            (r["id"].as_str().unwrap().to_string(), ms)
        })
        .collect();
    assert!(s.plan.stockpiles.is_empty(), "{name}");
    let ruled = |m: &String, y: i64| {
        rules.iter().any(|(id, ms)| {
            ms.contains(m)
                && j["shares"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|r| r["rule"] == id.as_str() && r["year"] == y)
        })
    };
    for m in &markets {
        for &y in &years {
            let (conc, ox, mag) = (
                flows("concentrate", y),
                flows("oxide", y),
                flows("magnet", y),
            );
            let into = |list: &[(String, String, f64)], to: &str| -> Vec<(String, f64)> {
                let rows: Vec<&(String, String, f64)> = list.iter().filter(|x| x.1 == to).collect();
                let total: f64 = rows.iter().map(|x| x.2).sum();
                rows.iter().map(|x| (x.0.clone(), x.2 / total)).collect()
            };
            let mut st: [BTreeMap<String, f64>; 3] = Default::default();
            let mut delivered = 0.0;
            if ruled(m, y) {
                // Lot by lot: the market's magnet lots (plant, production
                // class d), the oxide each class used (element, class b),
                // the refineries that shipped oxide of class b, and the mines
                // of the concentrate class b ∩ {mining} they separated.
                let lots = &s.outcome.lots.years[&y];
                let k = s.plan.markets.iter().position(|x| &x.id == m).unwrap();
                let mining = 1u8 << (reeplan::plan::Stage::Mining as u8);
                let clean = |c: &str| !s.plan.concern.iter().any(|q| q == c);
                let of = |id: &str| s.country[id].clone();
                for &(p, _, d, t) in lots.magnet.iter().filter(|z| z.1 == k) {
                    delivered += t;
                    *st[2].entry(of(&s.plan.plants[p].facility.id)).or_default() += t;
                    let used: Vec<_> = lots.uses.iter().filter(|u| u.0 == p && u.3 == d).collect();
                    let q_all: f64 = used.iter().map(|u| u.4).sum();
                    for &&(_, e, b, _, q) in &used {
                        let into: Vec<_> = lots
                            .oxide
                            .iter()
                            .filter(|o| o.1 == p && o.2 == e && o.3 == b)
                            .collect();
                        let o_all: f64 = into.iter().map(|o| o.4).sum();
                        for &&(r, _, _, _, o) in &into {
                            let w = t * q / q_all * o / o_all;
                            *st[1]
                                .entry(of(&s.plan.refineries[r].facility.id))
                                .or_default() += w;
                            let feed: Vec<_> = lots
                                .concentrate
                                .iter()
                                .filter(|x| x.1 == r)
                                .filter(|x| {
                                    let c = of(&s.plan.mines[x.0].facility.id);
                                    (if clean(&c) { mining } else { 0 }) == b & mining
                                })
                                .collect();
                            let x_all: f64 = feed.iter().map(|x| x.2).sum();
                            for &&(mine, _, x) in &feed {
                                *st[0]
                                    .entry(of(&s.plan.mines[mine].facility.id))
                                    .or_default() += w * x / x_all;
                            }
                        }
                    }
                }
                // A rule with min_share 1 over every stage: no concern
                // country anywhere in the market's lots.
                for stage in &st {
                    assert!(stage.keys().all(|c| clean(c)), "{name} {m} {y}: {st:?}");
                }
            }
            for (plant, _, t) in mag.iter().filter(|x| &x.1 == m && !ruled(m, y)) {
                delivered += t;
                *st[2].entry(s.country[plant].clone()).or_default() += t;
                for (r, a) in into(&ox, plant) {
                    *st[1].entry(s.country[&r].clone()).or_default() += t * a;
                    for (mine, b) in into(&conc, &r) {
                        *st[0].entry(s.country[&mine].clone()).or_default() += t * a * b;
                    }
                }
            }
            if delivered > 1e-6 {
                expect.push(vec![
                    m.clone(),
                    y.to_string(),
                    grouped(delivered, 0),
                    mix(&st[0]),
                    mix(&st[1]),
                    mix(&st[2]),
                ]);
                // The same trace gives the share handled outside the
                // concern countries at each stage.
                let outside = st.clone().map(|by| {
                    let total: f64 = by.values().sum();
                    let out: f64 = by
                        .iter()
                        .filter(|(c, _)| !s.plan.concern.contains(c))
                        .map(|(_, t)| t)
                        .sum();
                    out / total
                });
                outside_expect.push((m.clone(), y, delivered, outside));
            }
        }
    }
    assert_eq!(table_cells(tables[1]), expect, "{name}: sourcing");
    // Outside-concern shares: every market in the key years, against the
    // library's numbers; the default table shows the ruled markets' rows.
    let got = reeplan::report::glance::outside_concern_shares(&s.plan, &s.outcome, &[]);
    for (m, y, delivered, want) in &outside_expect {
        let g = got
            .iter()
            .find(|g| &g.group == m && g.year == *y)
            .unwrap_or_else(|| panic!("{name}: no outside-concern row {m} {y}"));
        close(
            &format!("{name} {m} {y} delivered"),
            g.delivered,
            *delivered,
        );
        for (stage, (v, w)) in [g.mining, g.refining, g.magnet]
            .iter()
            .zip(want)
            .enumerate()
        {
            let v = v.unwrap_or_else(|| panic!("{name} {m} {y} stage {stage}: no share"));
            assert!(
                (v - w).abs() < 1e-6,
                "{name} {m} {y} stage {stage}: {v} vs {w}"
            );
        }
    }
    let table = pick("outside_concern");
    let ruled_rows: Vec<Vec<String>> = markets
        .iter()
        .flat_map(|m| outside_expect.iter().filter(move |r| &r.0 == m))
        .filter(|r| rules.iter().any(|(_, ms)| ms.contains(&r.0)))
        .map(|(m, y, d, w)| {
            let mut row = vec![m.clone(), y.to_string(), grouped(*d, 0)];
            row.extend(
                w.iter()
                    .map(|v| reeplan::report::Cell::Percent(*v).display()),
            );
            row
        })
        .collect();
    assert_eq!(
        table_cells(table),
        ruled_rows,
        "{name}: outside-concern table"
    );
    // The title says which rows follow the lots: each rule in force in a
    // year shown, with its markets.
    let named: Vec<String> = rules
        .iter()
        .filter(|(_, ms)| years.iter().any(|&y| ms.iter().any(|m| ruled(m, y))))
        .map(|(id, ms)| format!("{id}: {}", ms.join(", ")))
        .collect();
    let title = &tables[1].title;
    let want = format!(
        "a market's rows in the years a share rule binds it ({}) follow the lots the LP keeps apart for the rule",
        named.join("; ")
    );
    assert!(
        !named.is_empty() && title.contains(&want),
        "{name}: {title:?} lacks {want:?}"
    );

    // Concern shares per year: DFARS concern list CN, RU, KP, IR.
    // A row per stage, a column per year.
    let concern = ["CN", "RU", "KP", "IR"];
    let mut expect = Vec::new();
    for (stage, kind, end) in [
        ("t REO mined", "concentrate", 0),
        ("t REO separated", "concentrate", 1),
        ("t magnet made", "magnet", 0),
    ] {
        let mut row = vec![stage.to_string()];
        for y in 2025..=2035 {
            let (mut c, mut t) = (0.0, 0.0);
            for x in flows(kind, y) {
                let id = if end == 0 { &x.0 } else { &x.1 };
                t += x.2;
                if concern.contains(&s.country[id].as_str()) {
                    c += x.2;
                }
            }
            row.push(format!("{:.1} %", c / t * 100.0));
        }
        expect.push(row);
    }
    let years: Vec<String> = (2025..=2035).map(|y| y.to_string()).collect();
    assert_eq!(
        tables[2].headers[1..],
        years[..],
        "concern: a column per year"
    );
    assert_eq!(table_cells(tables[2]), expect, "{name}: concern");
}

#[test]
fn what_binds_equals_the_utilization_and_share_rows() {
    for name in ["us-magnets-2035.toml", "china-export-ban.toml"] {
        let s = solved(name);
        let j = &s.json;
        let tables = reeplan::report::solve_report(&s.plan, &s.outcome, &Default::default());
        let binds = tables.iter().find(|t| t.name == "binds").expect("binds");
        let ranges = |ys: &[i64]| -> String {
            let mut parts = Vec::new();
            let mut i = 0;
            while i < ys.len() {
                let mut k = i;
                while k + 1 < ys.len() && ys[k + 1] == ys[k] + 1 {
                    k += 1;
                }
                parts.push(if k > i {
                    format!("{}–{}", ys[i], ys[k])
                } else {
                    ys[i].to_string()
                });
                i = k + 1;
            }
            parts.join(", ")
        };
        let mut expect: Vec<Vec<String>> = Vec::new();
        let cur = j["currency"].as_str().unwrap();
        let mut rules: BTreeMap<String, (Vec<i64>, f64, Vec<i64>, f64)> = BTreeMap::new();
        for r in j["shares"].as_array().unwrap() {
            let e = rules.entry(r["rule"].as_str().unwrap().into()).or_default();
            let p = r["shadow_price"].as_f64().unwrap_or(0.0);
            if p > 0.0 {
                e.0.push(r["year"].as_i64().unwrap());
                e.1 = e.1.max(p);
            }
            if f(&r["shortfall"]) > 0.0 {
                e.2.push(r["year"].as_i64().unwrap());
                e.3 += f(&r["shortfall"]);
            }
        }
        for (rule, (ys, p, sys, short)) in &rules {
            if !ys.is_empty() {
                expect.push(vec![
                    "share rule".into(),
                    rule.clone(),
                    ranges(ys),
                    format!("shadow price up to {} {cur} per pp", grouped(*p, 0)),
                ]);
            }
            if !sys.is_empty() {
                expect.push(vec![
                    "share rule short".into(),
                    rule.clone(),
                    ranges(sys),
                    format!("{} t clean magnet short", grouped(*short, 0)),
                ]);
            }
        }
        let mut unmet: BTreeMap<String, (Vec<i64>, f64)> = BTreeMap::new();
        for u in j["unmet"].as_array().unwrap() {
            let e = unmet
                .entry(u["market"].as_str().unwrap().into())
                .or_default();
            e.0.push(u["year"].as_i64().unwrap());
            e.1 += f(&u["tonnes"]);
        }
        for (m, (ys, t)) in &unmet {
            expect.push(vec![
                "unmet demand".into(),
                m.clone(),
                ranges(ys),
                format!("{} t magnet short", grouped(*t, 0)),
            ]);
        }
        let mut caps: BTreeMap<(String, String, String), Vec<i64>> = BTreeMap::new();
        for u in j["utilization"].as_array().unwrap() {
            if u["binding"] == true && f(&u["capacity"]) > 1e-6 {
                caps.entry((
                    u["facility"].as_str().unwrap().into(),
                    u["country"].as_str().unwrap().into(),
                    u["stage"].as_str().unwrap().into(),
                ))
                .or_default()
                .push(u["year"].as_i64().unwrap());
            }
        }
        let mut caps: Vec<_> = caps.into_iter().collect();
        caps.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
        for ((fac, c, stage), ys) in caps.iter().take(8) {
            expect.push(vec![
                format!("{stage} capacity"),
                format!("{fac} ({c})"),
                ranges(ys),
                "at capacity".into(),
            ]);
        }
        if caps.len() > 8 {
            expect.push(vec![
                "…".into(),
                format!("{} more facilities at capacity", caps.len() - 8),
                "–".into(),
                "see --detail".into(),
            ]);
        }
        assert_eq!(table_cells(binds), expect, "{name}");
    }
}

#[test]
fn summary_leaves_out_unused_cost_parts_and_puts_lp_size_last() {
    let s = solved("us-magnets-2035.toml");
    let j = &s.json;
    let tables = reeplan::report::solve_report(&s.plan, &s.outcome, &Default::default());
    let cells = table_cells(&tables[0]);
    let labels: Vec<&str> = cells.iter().map(|r| r[0].as_str()).collect();
    for (field, label) in [
        ("production", "cost: production (USD)"),
        ("transport", "cost: transport (USD)"),
        ("tariffs", "cost: tariffs (USD)"),
        ("unmet", "cost: unmet demand (USD)"),
        ("reserves", "cost: spare-capacity reserves (USD)"),
        ("rules", "cost: soft share-rule penalties (USD)"),
    ] {
        let v = f(&j["cost"][field]);
        let row = cells.iter().find(|r| r[0] == label);
        if v == 0.0 {
            assert!(row.is_none(), "{label} is zero and must be left out");
        } else {
            assert_eq!(row.expect(label)[1], grouped(v, 0), "{label}");
        }
    }
    assert_eq!(labels.last(), Some(&"LP size (columns × rows, nonzeros)"));
    let total = cells.iter().find(|r| r[0] == "total cost (USD)").unwrap();
    assert_eq!(total[1], grouped(f(&j["cost"]["total"]), 0));
}

#[test]
fn the_flagship_default_output_fits_one_screen_and_detail_gives_the_full_tables() {
    let plan = model("us-magnets-2035.toml");
    let short = run(&["solve", &plan]);
    let lines = short.lines().count();
    // A tall terminal's screen: the default view gained the cost groups and
    // the outside-concern shares of the ruled markets (issue 24).
    assert!(lines < 90, "{lines} lines:\n{short}");
    for title in [
        "Summary",
        "Sourcing per market",
        "Share of each market's magnets handled outside the concern countries",
        "Share handled in concern countries",
        "What binds",
    ] {
        assert!(short.contains(title), "{title} missing:\n{short}");
    }
    let full = run(&["solve", &plan, "--detail"]);
    for title in [
        "Concentrate: mine → refinery",
        "Oxide: refinery → magnet plant",
        "Magnets: plant → market",
        "Utilization of effective capacity",
    ] {
        assert!(full.contains(title), "{title} missing with --detail");
    }
    // Idle facilities are never printed: no utilization row at 0 t.
    let j = solve_json(&[&plan]);
    let busy = j["utilization"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| f(&u["throughput"]) > 1e-6)
        .count();
    let csv_dir = tempfile::tempdir().unwrap();
    run(&[
        "solve",
        &plan,
        "--format",
        "csv",
        "--out",
        csv_dir.path().to_str().unwrap(),
    ]);
    let util = std::fs::read_to_string(csv_dir.path().join("utilization.csv")).unwrap();
    assert_eq!(
        util.lines().count(),
        busy + 1,
        "header + one row per facility in use"
    );
    // --year selects the years shown.
    let one = run(&["solve", &plan, "--year", "2030"]);
    let sourcing: Vec<&str> = one
        .lines()
        .skip_while(|l| !l.starts_with("Sourcing"))
        .take_while(|l| !l.is_empty())
        .filter(|l| l.starts_with('│'))
        .skip(1)
        .collect();
    assert!(!sourcing.is_empty());
    assert!(sourcing.iter().all(|l| l.contains("2030")), "{sourcing:?}");
}

#[test]
fn set_warns_when_a_share_field_gets_a_percent() {
    let plan = model("tariff-scenarios.toml");
    let out = Command::new(env!("CARGO_BIN_EXE_reeplan"))
        .args([
            "solve",
            &plan,
            "--set",
            "tariff.us-301-cn-magnet.ad_valorem=25",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning: --set tariff.us-301-cn-magnet.ad_valorem=25: ad_valorem is a share (1 = 100 %); 25 means 2500 %"),
        "{err}"
    );
    assert!(out.status.success(), "a warning, not a refusal: {err}");
    let out = Command::new(env!("CARGO_BIN_EXE_reeplan"))
        .args([
            "solve",
            &plan,
            "--set",
            "tariff.us-301-cn-magnet.ad_valorem=0.25",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("warning"));
}

/// `--year 2030,2031`: the per-year subsidy table shows those years only,
/// each row the JSON's amount, and its total is their sum.
#[test]
fn subsidy_outlay_follows_the_years_asked_for() {
    let s = solved("world-2030.toml");
    let view = reeplan::report::View {
        detail: true,
        years: vec![2030, 2031],
        ..Default::default()
    };
    let tables = reeplan::report::solve_report(&s.plan, &s.outcome, &view);
    let t = tables
        .iter()
        .find(|t| t.name == "subsidies")
        .expect("the subsidy table");
    let mut expect = Vec::new();
    let mut total = 0.0;
    for r in s.json["subsidies"].as_array().unwrap() {
        let year = r["year"].as_i64().unwrap();
        if year == 2030 || year == 2031 {
            total += f(&r["amount"]);
            expect.push(vec![
                r["subsidy"].as_str().unwrap().to_string(),
                year.to_string(),
                grouped(f(&r["amount"]), 0),
            ]);
        }
    }
    assert!(!expect.is_empty());
    assert_eq!(table_cells(t), expect);
    let foot: Vec<String> = t.footer[0].iter().map(|c| c.display()).collect();
    assert_eq!(foot, ["total", "–", &grouped(total, 0)]);
    assert!(t.title.ends_with("in 2030–2031"), "{}", t.title);
}

/// Plan 15 by hand (its header): 60 t delivered from p_cheap at 500 USD/t,
/// 40 t left unmet at 800 USD/t. The magnets delivered cost 30,000 / 60 =
/// 500 USD/t; the 32,000 of penalty is no price of them (decisions 82, 84).
#[test]
fn cost_per_tonne_delivered_leaves_the_unmet_penalty_out() {
    let s = solved_file(
        &root()
            .join("tests/plans/15_unmet_penalty.toml")
            .to_string_lossy(),
    );
    let tables = reeplan::report::solve_report(&s.plan, &s.outcome, &Default::default());
    let cells = table_cells(&tables[0]);
    let row = |label: &str| {
        cells
            .iter()
            .find(|r| r[0] == label)
            .unwrap_or_else(|| panic!("no row {label}"))[1]
            .clone()
    };
    assert_eq!(row("total cost (USD)"), "62,000");
    assert_eq!(row("magnets delivered (t)"), "60.0");
    assert_eq!(row("resource cost per t magnet delivered (USD/t)"), "500");
}

fn solved_file(path: &str) -> Solved {
    let source = reeplan::PlanSource::load(Path::new(path)).expect("load");
    let plan = source.plan(None).expect("plan");
    let outcome = reeplan::solve_plan(&plan, &Default::default()).expect("solve");
    let json = serde_json::to_value(&outcome).unwrap();
    Solved {
        plan,
        outcome,
        json,
        country: countries_of(path),
    }
}

fn node<'a>(
    layout: &'a reeplan::report::chart::FlowLayout,
    stage: usize,
    id: &str,
) -> &'a reeplan::report::chart::FlowNode {
    layout
        .nodes
        .iter()
        .find(|n| n.stage == stage && n.id == id)
        .unwrap_or_else(|| panic!("no node {id} in column {stage}: {layout:?}"))
}

#[test]
fn flow_chart_draws_stock_added_where_it_arrives_and_drawn_where_it_leaves() {
    // Magnets (plan 42): 2026 p_us → s_us arrives in the markets column;
    // 2027 s_us → us leaves from the plants column. Oxide (plan 39): 2026
    // r_my → s_us arrives in the plants column; 2027 s_us → p_us leaves
    // from the refineries column. Tonnes from the JSON flows.
    for (file, flows, arrive, leave, what) in [
        (
            "tests/plans/42_stock_magnet_class.toml",
            "magnet",
            3,
            2,
            "magnet",
        ),
        (
            "tests/plans/39_stock_fill_cheap_year.toml",
            "oxide",
            2,
            1,
            "NdPr oxide",
        ),
    ] {
        let s = solved_file(&root().join(file).to_string_lossy());
        let added = sum_where(&s.json, flows, 2026, "to", "s_us");
        let drawn = sum_where(&s.json, flows, 2027, "from", "s_us");
        assert!(added > 0.0 && drawn > 0.0, "{file}");
        let l26 = reeplan::report::chart::flow_layout(&s.plan, &s.outcome, 2026);
        let n = node(&l26, arrive, "s_us");
        assert_eq!(n.stock, Some("added"));
        assert_eq!(
            n.label,
            format!("s_us (US) stock: {} t {what} added", grouped(added, 0))
        );
        close("added", n.tonnes, added);
        let l27 = reeplan::report::chart::flow_layout(&s.plan, &s.outcome, 2027);
        let n = node(&l27, leave, "s_us");
        assert_eq!(n.stock, Some("drawn"));
        assert_eq!(
            n.label,
            format!("s_us (US) stock: {} t {what} drawn", grouped(drawn, 0))
        );
        close("drawn", n.tonnes, drawn);
        // The stockpile is not also drawn as a facility of that column.
        assert_eq!(l27.nodes.iter().filter(|n| n.id == "s_us").count(), 1);
    }
}

#[test]
fn flow_chart_marks_capacity_the_plan_builds() {
    let s = solved_file(&model("us-build-2030.toml"));
    let builds = s.json["builds"].as_array().expect("builds");
    assert!(!builds.is_empty());
    let year = 2030;
    let layout = reeplan::report::chart::flow_layout(&s.plan, &s.outcome, year);
    let stage_col = |stage: &str| match stage {
        "mining" => 0,
        "refining" => 1,
        _ => 2,
    };
    let mut marked = 0;
    for b in builds {
        let id = b["facility"].as_str().unwrap();
        // Lifetimes are 20 years, so everything built by 2030 exists then.
        let built: f64 = builds
            .iter()
            .filter(|x| x["facility"] == id && x["year"].as_i64().unwrap() <= year)
            .map(|x| f(&x["capacity"]))
            .sum();
        let Some(n) = layout
            .nodes
            .iter()
            .find(|n| n.id == id && n.stage == stage_col(b["stage"].as_str().unwrap()))
        else {
            continue; // built but idle that year: no node
        };
        close("built", n.built, built);
        assert!(
            n.label
                .ends_with(&format!(" · {} t/yr built", grouped(built, 0))),
            "{}",
            n.label
        );
        marked += 1;
    }
    assert!(marked > 0, "no built facility has a node in {year}");
    for n in layout.nodes.iter().filter(|n| n.built == 0.0) {
        assert!(!n.label.contains("built"), "{}", n.label);
    }
}

#[test]
fn sourcing_traces_magnets_through_stockpiles() {
    // Worked from each plan's header (not from the program):
    // 42: 2026 us gets 100 t made by p_cn (CN) from AU ore separated in MY;
    //     2027 it gets 50 t released from s_us (made by p_us, US, in 2026)
    //     and 50 t from p_cn: made in CN 50 %, US 50 %.
    // 39: 2027 p_us makes magnets from NdPr released by s_us, which r_my
    //     (MY) separated from m_au (AU) ore in 2026.
    // 41: p_us uses 25 t of initial clean stock (origin unknown) and 25 t
    //     from r_cn (CN): mined and separated "CN 50%, initial stock 50%".
    // 43: everything passes through s_us; made in CN (p_cn), not in the
    //     stockpile's country.
    for (file, years, want) in [
        (
            "42_stock_magnet_class.toml",
            vec![2026, 2027],
            vec![
                ["us", "2026", "100", "AU 100%", "MY 100%", "CN 100%"],
                ["us", "2027", "100", "AU 100%", "MY 100%", "CN 50%, US 50%"],
            ],
        ),
        (
            "39_stock_fill_cheap_year.toml",
            vec![2027],
            vec![["us", "2027", "100", "AU 100%", "MY 100%", "US 100%"]],
        ),
        (
            "41_stock_initial_clean.toml",
            vec![2026],
            vec![[
                "us",
                "2026",
                "100",
                "CN 50%, initial stock 50%",
                "CN 50%, initial stock 50%",
                "US 100%",
            ]],
        ),
        (
            // 48-52: the rows worked out in each plan's header (ruled
            // markets by their lots; stock pools per class in 50 and 51).
            "48_sourcing_lots_refining_rule.toml",
            vec![2026],
            vec![
                ["def", "2026", "40", "AU 75%, CN 25%", "MY 100%", "JP 100%"],
                [
                    "civ",
                    "2026",
                    "110",
                    "CN 67%, AU 33%",
                    "CN 73%, MY 27%",
                    "JP 100%",
                ],
            ],
        ),
        (
            "49_sourcing_lots_two_rules.toml",
            vec![2026],
            vec![
                ["def", "2026", "20", "AU 100%", "CN 100%", "JP 100%"],
                ["civ", "2026", "30", "CN 100%", "MY 100%", "JP 100%"],
                [
                    "oth",
                    "2026",
                    "50",
                    "CN 80%, AU 20%",
                    "CN 70%, MY 30%",
                    "JP 100%",
                ],
            ],
        ),
        (
            "50_sourcing_lots_oxide_stock.toml",
            vec![2027],
            vec![
                [
                    "def",
                    "2027",
                    "40",
                    "initial stock 100%",
                    "initial stock 100%",
                    "JP 100%",
                ],
                [
                    "civ",
                    "2027",
                    "60",
                    "CN 60%, initial stock 40%",
                    "CN 60%, initial stock 40%",
                    "JP 100%",
                ],
            ],
        ),
        (
            "51_sourcing_lots_magnet_stock.toml",
            vec![2027],
            vec![
                ["def", "2027", "40", "AU 100%", "MY 100%", "US 100%"],
                [
                    "civ",
                    "2027",
                    "60",
                    "CN 60%, AU 40%",
                    "MY 100%",
                    "CN 60%, US 40%",
                ],
            ],
        ),
        (
            "52_sourcing_lots_magnet_rule.toml",
            vec![2027],
            vec![
                ["def", "2027", "40", "CN 100%", "MY 100%", "US 100%"],
                ["civ", "2027", "60", "CN 100%", "MY 100%", "CN 60%, US 40%"],
            ],
        ),
        (
            // 47: def's lots are AU-mined (the rule); civ takes r_my's
            // output as mixed, CN 100 / 150 and AU 50 / 150 (header).
            "47_sourcing_lots.toml",
            vec![2026],
            vec![
                ["def", "2026", "40", "AU 100%", "MY 100%", "JP 100%"],
                ["civ", "2026", "110", "CN 67%, AU 33%", "MY 100%", "JP 100%"],
            ],
        ),
        (
            "43_resilience_stock_bridge.toml",
            vec![2026, 2027, 2028],
            vec![
                ["us", "2026", "100", "AU 100%", "MY 100%", "CN 100%"],
                ["us", "2027", "100", "AU 100%", "MY 100%", "CN 100%"],
                ["us", "2028", "100", "AU 100%", "MY 100%", "CN 100%"],
            ],
        ),
    ] {
        let s = solved_file(&root().join("tests/plans").join(file).to_string_lossy());
        let t = reeplan::report::glance::sourcing_table(&s.plan, &s.outcome, &years);
        let want: Vec<Vec<String>> = want
            .iter()
            .map(|r| r.iter().map(|c| c.to_string()).collect())
            .collect();
        assert_eq!(table_cells(&t), want, "{file}");
    }
}

/// The flows by origin class the sourcing table traces (`Outcome::lots`)
/// add up to the reported flows, route by route and year by year, and every
/// magnet lot's production class is one its plant's oxide use covers.
#[test]
fn lots_add_up_to_the_reported_flows() {
    for name in ["us-magnets-2035.toml", "world-2030.toml", "dfars-2027.toml"] {
        let s = solved(name);
        assert!(
            !s.outcome.lots.years.is_empty(),
            "{name}: a plan with a share rule"
        );
        let mut by_route: BTreeMap<(i64, &str, String, String), f64> = BTreeMap::new();
        for (kind, list) in [
            ("concentrate", &s.json["flows"]["concentrate"]),
            ("oxide", &s.json["flows"]["oxide"]),
            ("magnet", &s.json["flows"]["magnet"]),
        ] {
            for x in list.as_array().unwrap() {
                let key = (
                    x["year"].as_i64().unwrap(),
                    kind,
                    x["from"].as_str().unwrap().to_string(),
                    x["to"].as_str().unwrap().to_string(),
                );
                *by_route.entry(key).or_default() += f(&x["tonnes"]);
            }
        }
        let mut lots: BTreeMap<(i64, &str, String, String), f64> = BTreeMap::new();
        let p = &s.plan;
        for (&y, l) in &s.outcome.lots.years {
            for &(m, r, t) in &l.concentrate {
                let k = (
                    y,
                    "concentrate",
                    p.mines[m].facility.id.clone(),
                    p.refineries[r].facility.id.clone(),
                );
                *lots.entry(k).or_default() += t;
            }
            for &(r, q, _, _, t) in &l.oxide {
                let k = (
                    y,
                    "oxide",
                    p.refineries[r].facility.id.clone(),
                    p.plants[q].facility.id.clone(),
                );
                *lots.entry(k).or_default() += t;
            }
            for &(q, k, d, t) in &l.magnet {
                let key = (
                    y,
                    "magnet",
                    p.plants[q].facility.id.clone(),
                    p.markets[k].id.clone(),
                );
                *lots.entry(key).or_default() += t;
                assert!(
                    l.uses.iter().any(|u| u.0 == q && u.3 == d),
                    "{name} {y}: magnets of class {d} from {} without oxide use",
                    p.plants[q].facility.id
                );
            }
        }
        assert_eq!(
            by_route.keys().collect::<Vec<_>>(),
            lots.keys().collect::<Vec<_>>(),
            "{name}: the same routes"
        );
        for (k, t) in &by_route {
            assert!(
                (lots[k] - t).abs() <= 1e-6 * t.max(1.0),
                "{name} {k:?}: {} vs {t}",
                lots[k]
            );
        }
    }
}
