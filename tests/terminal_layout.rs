//! `compare` and `sweep` on the terminal (issue 24): as many columns side by
//! side as the terminal's width takes (`COLUMNS`, else 160 when stdout is
//! not a terminal), short labels with the unit apart, scenario descriptions
//! as a legend under the table, `--metrics` to choose the metrics, and a
//! sweep's points as rows. Tables are read back cell by cell from the
//! printed box drawing and checked against the plan file (scenario names
//! and descriptions), hand-worked totals (tests/plans/22) or the same run's
//! JSON, never against the layout's own output.

mod common;

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;
use unicode_width::UnicodeWidthStr;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn path(rel: &str) -> String {
    root().join(rel).to_string_lossy().into_owned()
}

/// What one run printed.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Run `reeplan ARGS` with `COLUMNS` set to `columns` (or unset), stdout a
/// pipe (not a terminal).
fn run(columns: Option<usize>, args: &[&str]) -> Run {
    let mut cmd = Command::new(common::bin());
    cmd.args(args).env_remove("RUST_BACKTRACE");
    match columns {
        Some(n) => cmd.env("COLUMNS", n.to_string()),
        None => cmd.env_remove("COLUMNS"),
    };
    let out = cmd.output().expect("run reeplan");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).expect("UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("UTF-8"),
    }
}

#[track_caller]
fn ok(columns: Option<usize>, args: &[&str]) -> String {
    let r = run(columns, args);
    assert_eq!(r.code, Some(0), "reeplan {}: {}", args.join(" "), r.stderr);
    r.stdout
}

/// One printed table: its title, header cells (a header of several lines
/// joined by spaces), body rows and the lines under it.
#[derive(Debug)]
struct Printed {
    title: String,
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
    notes: Vec<String>,
}

/// The cells of one `│ a ┆ b │` line.
fn cells(line: &str) -> Vec<String> {
    let inner = line
        .trim_start_matches('│')
        .trim_end_matches('│')
        .to_string();
    inner.split('┆').map(|c| c.trim().to_string()).collect()
}

/// Every table of a terminal report, in order.
fn tables(text: &str) -> Vec<Printed> {
    let mut out = Vec::new();
    for block in text.split("\n\n").filter(|b| !b.trim().is_empty()) {
        let lines: Vec<&str> = block.lines().collect();
        let top = lines
            .iter()
            .position(|l| l.starts_with('┌'))
            .unwrap_or_else(|| panic!("no table in\n{block}"));
        let rule = lines.iter().position(|l| l.starts_with('╞')).expect("╞");
        let bottom = lines.iter().position(|l| l.starts_with('└')).expect("└");
        // Header lines stack: the cells of each column joined by a space.
        let mut headers: Vec<String> = Vec::new();
        for line in &lines[top + 1..rule] {
            for (i, c) in cells(line).into_iter().enumerate() {
                if i == headers.len() {
                    headers.push(String::new());
                }
                if !c.is_empty() {
                    if !headers[i].is_empty() {
                        headers[i].push(' ');
                    }
                    headers[i].push_str(&c);
                }
            }
        }
        out.push(Printed {
            title: lines[..top].join(" "),
            headers,
            rows: lines[rule + 1..bottom].iter().map(|l| cells(l)).collect(),
            notes: lines[bottom + 1..].iter().map(|l| l.to_string()).collect(),
        });
    }
    out
}

/// Every line fits in `width` terminal columns.
#[track_caller]
fn fits(text: &str, width: usize) {
    for line in text.lines() {
        assert!(
            line.width() <= width,
            "a line of {} columns, more than {width}:\n{line}",
            line.width()
        );
    }
}

/// `1234567.8` → `1,234,568`: money as the tables show it.
fn money(v: f64) -> String {
    let digits = format!("{:.0}", v.abs());
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if v < -0.5 {
        format!("-{out}")
    } else {
        out
    }
}

/// The scenarios of a plan file, `(name, description)`, in file order.
fn scenarios(plan: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(plan).expect("plan");
    let doc: toml::Table = text.parse().expect("TOML");
    doc["scenario"]
        .as_table()
        .expect("[scenario]")
        .iter()
        .map(|(name, s)| {
            let description = s.get("description").and_then(|d| d.as_str());
            (name.clone(), description.unwrap_or_default().to_string())
        })
        .collect()
}

/// The row of `label` in a table (by its first cell).
#[track_caller]
fn row<'a>(t: &'a Printed, label: &str) -> &'a [String] {
    t.rows
        .iter()
        .find(|r| r[0] == label)
        .unwrap_or_else(|| panic!("no row {label:?} in {t:?}"))
}

// ---------------------------------------------------------------- compare

const TARIFFS: &str = "models/tariff-scenarios.toml";

#[test]
fn a_wide_terminal_shows_every_scenario_in_one_table() {
    let plan = path(TARIFFS);
    let names = scenarios(&plan);
    assert_eq!(names.len(), 4, "tariff-0, -25, -50, -100");
    let text = ok(Some(250), &["compare", &plan]);
    fits(&text, 250);
    let t = tables(&text);
    assert_eq!(t.len(), 1, "one table:\n{text}");
    let t = &t[0];
    assert!(!t.title.contains("part"), "{}", t.title);
    let mut expect = vec!["metric".to_string(), "unit".into(), "base".into()];
    expect.extend(names.iter().map(|(n, _)| n.clone()));
    assert_eq!(t.headers, expect);
    // The descriptions are a legend under the table, not a row.
    assert!(t.rows.iter().all(|r| r[0] != "description"));
    let legend: Vec<String> = names.iter().map(|(n, d)| format!("{n}: {d}")).collect();
    assert_eq!(t.notes, legend);
    // Short labels, the unit apart; each column's total cost is the one
    // the JSON of the same comparison gives, with its difference to base.
    let json: Value =
        serde_json::from_str(&ok(None, &["compare", &plan, "--format", "json"])).unwrap();
    let total = row(t, "total cost");
    assert_eq!(total[1], "USD");
    let cost = |j: usize| {
        json["columns"][j]["metrics"]["cost.total"]
            .as_f64()
            .unwrap()
    };
    for j in 0..=names.len() {
        let cell = &total[2 + j];
        assert!(
            cell.starts_with(&money(cost(j))),
            "column {j}: {cell} against {}",
            cost(j)
        );
    }
    assert_eq!(row(t, "unmet demand")[1], "t");
    assert_eq!(row(t, "mining in CN")[1], "% of t REO mined");
}

#[test]
fn a_narrow_terminal_splits_into_parts_that_fit() {
    let plan = path(TARIFFS);
    let names = scenarios(&plan);
    let text = ok(Some(100), &["compare", &plan]);
    fits(&text, 100);
    let parts = tables(&text);
    assert!(parts.len() > 1, "split at 100 columns:\n{text}");
    let n = parts.len();
    let mut shown: Vec<String> = Vec::new();
    for (k, p) in parts.iter().enumerate() {
        assert!(
            p.title.ends_with(&format!("part {} of {n}", k + 1)),
            "{}",
            p.title
        );
        assert_eq!(p.headers[..2], ["metric", "unit"]);
        shown.extend(p.headers[2..].iter().cloned());
        // Each part's legend: the descriptions of its own scenarios.
        let legend: Vec<String> = names
            .iter()
            .filter(|(name, _)| p.headers.contains(name))
            .map(|(name, d)| format!("{name}: {d}"))
            .collect();
        assert_eq!(p.notes, legend, "part {}", k + 1);
    }
    let mut expect = vec!["base".to_string()];
    expect.extend(names.iter().map(|(n, _)| n.clone()));
    assert_eq!(shown, expect, "every column once, in order");
}

/// tests/plans/22: base 100,000; dear_au 120,000; no_cn 150,000 (worked in
/// the plan's header).
#[test]
fn compare_metrics_picks_the_rows_in_the_order_given() {
    let plan = path("tests/plans/22_scenario.toml");
    let text = ok(None, &["compare", &plan, "--metrics", "unmet,cost.total"]);
    let t = tables(&text);
    assert_eq!(t.len(), 1);
    let labels: Vec<&str> = t[0].rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(labels, ["status", "unmet demand", "total cost"]);
    assert_eq!(
        row(&t[0], "total cost")[1..],
        ["USD", "100,000", "120,000 (+20,000)", "150,000 (+50,000)"]
    );
    // The same rows in every format.
    let md = ok(
        None,
        &[
            "compare",
            &plan,
            "--metrics",
            "unmet,cost.total",
            "-f",
            "markdown",
        ],
    );
    let md_labels: Vec<&str> = md
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| metric"))
        .map(|l| l[2..].split(" |").next().unwrap())
        .collect();
    assert_eq!(
        md_labels,
        [
            "status",
            "description",
            "unmet demand (t)",
            "total cost (USD)"
        ]
    );
    let json: Value = serde_json::from_str(&ok(
        None,
        &[
            "compare",
            &plan,
            "--metrics",
            "unmet,cost.total",
            "-f",
            "json",
        ],
    ))
    .unwrap();
    for c in json["columns"].as_array().unwrap() {
        let keys: Vec<&String> = c["metrics"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["cost.total", "unmet"]);
    }
    assert_eq!(json["columns"][2]["metrics"]["cost.total"], 150000.0);
}

/// A country named by --metrics is shown even when --top leaves it out:
/// with --top 1 only one mining country is ranked (AU and CN both reach
/// 100 % in some column; the tie goes to AU by name), but mining.CN named
/// is a row: 100 % in base (m_cn is the cheaper mine), 0 % in dear_au and
/// no_cn (plan 22's header).
#[test]
fn a_named_country_is_shown_beyond_the_top() {
    let plan = path("tests/plans/22_scenario.toml");
    let text = ok(None, &["compare", &plan, "--top", "1"]);
    let t = &tables(&text)[0];
    assert!(t.rows.iter().any(|r| r[0] == "mining in AU"));
    assert!(t.rows.iter().all(|r| r[0] != "mining in CN"), "{text}");
    let text = ok(
        None,
        &["compare", &plan, "--top", "1", "--metrics", "mining.CN"],
    );
    let t = &tables(&text)[0];
    assert_eq!(
        row(t, "mining in CN")[1..],
        [
            "% of t REO mined",
            "100.0 %",
            "0.0 % (-100.0 pp)",
            "0.0 % (-100.0 pp)"
        ]
    );
}

#[test]
fn an_unknown_metric_is_a_usage_error_that_lists_the_known_keys() {
    let plan = path("tests/plans/22_scenario.toml");
    let set = "mine.m_au.cost=1000,2000";
    for args in [
        vec!["compare", &plan, "--metrics", "cost.total,cost.totl"],
        vec!["sweep", &plan, "--set", set, "--metrics", "cost.totl"],
        vec!["compare", &plan, "--metrics", "cost.total,,unmet"],
    ] {
        let r = run(None, &args);
        assert_eq!(r.code, Some(2), "{args:?}: {}", r.stderr);
        assert_eq!(r.stdout, "", "{args:?}");
        assert!(r.stderr.starts_with("error: --metrics "), "{}", r.stderr);
        assert!(r.stderr.contains("no such metric"), "{}", r.stderr);
        for known in [
            "cost.total",
            "cost.resource",
            "unmet",
            "mining.CN",
            "mining.AU",
        ] {
            assert!(r.stderr.contains(known), "{known} not listed: {}", r.stderr);
        }
        // Refused before anything is solved.
        assert!(!r.stderr.contains("solving"), "{}", r.stderr);
    }
    let r = run(None, &["compare", &plan, "--metrics", "unmet,unmet"]);
    assert_eq!(r.code, Some(2));
    assert!(r.stderr.contains("given twice"), "{}", r.stderr);
}

// ---------------------------------------------------------------- sweep

/// Four points are four rows of one table, metrics as columns, at the
/// width a pipe gets (160).
#[test]
fn a_sweep_prints_its_points_as_rows() {
    let plan = path(TARIFFS);
    let set = "tariff.us-301-cn-magnet.ad_valorem=0,0.25,0.5,1";
    let values = ["0", "0.25", "0.5", "1"];
    let text = ok(None, &["sweep", &plan, "--set", set]);
    fits(&text, 160);
    let t = tables(&text);
    assert_eq!(t.len(), 1, "one table:\n{text}");
    let t = &t[0];
    assert!(t.title.ends_with("(4 points)"), "{}", t.title);
    assert_eq!(t.headers[..3], ["point", "ad_valorem", "status"]);
    assert!(t
        .notes
        .contains(&"ad_valorem: tariff.us-301-cn-magnet.ad_valorem".to_string()));
    assert_eq!(t.rows.len(), 4);
    let cost_col = t
        .headers
        .iter()
        .position(|h| h == "total cost USD")
        .unwrap_or_else(|| panic!("{:?}", t.headers));
    let lines: Vec<Value> = ok(None, &["sweep", &plan, "--set", set, "-f", "json"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for (i, r) in t.rows.iter().enumerate() {
        assert_eq!(r[0], i.to_string());
        assert_eq!(r[1], values[i]);
        assert_eq!(r[2], "optimal");
        assert_eq!(r[cost_col], money(lines[i]["cost.total"].as_f64().unwrap()));
    }
}

#[test]
fn sweep_metrics_picks_the_columns_in_every_format() {
    let plan = path("tests/plans/22_scenario.toml");
    let set = "mine.m_au.cost=500,2000";
    let metrics = ["unmet", "mining.AU", "cost.total"];
    let text = ok(
        Some(100),
        &[
            "sweep",
            &plan,
            "--set",
            set,
            "--metrics",
            &metrics.join(","),
        ],
    );
    fits(&text, 100);
    let t = &tables(&text)[0];
    assert_eq!(
        t.headers,
        [
            "point",
            "cost",
            "status",
            "unmet demand t",
            "mining in AU % of t REO mined",
            "total cost USD"
        ]
    );
    // Plan 22's base: m_au at 500 undercuts m_cn (1000/t): 100 t × 500;
    // at 2000 m_cn serves: 100 t × 1000.
    assert_eq!(
        row(t, "0")[1..],
        ["500", "optimal", "0.0", "100.0 %", "50,000"]
    );
    assert_eq!(
        row(t, "1")[1..],
        ["2000", "optimal", "0.0", "0.0 %", "100,000"]
    );
    let csv = ok(
        None,
        &[
            "sweep",
            &plan,
            "--set",
            set,
            "--metrics",
            &metrics.join(","),
            "-f",
            "csv",
        ],
    );
    assert_eq!(
        csv.lines().next().unwrap(),
        "point,mine.m_au.cost,status,unmet demand (t),\"mining in AU (share of t REO mined, over the horizon)\",total cost (USD)"
    );
    let json = ok(
        None,
        &[
            "sweep",
            &plan,
            "--set",
            set,
            "--metrics",
            &metrics.join(","),
            "-f",
            "json",
        ],
    );
    for line in json.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            ["point", "set", "status", "unmet", "mining.AU", "cost.total"]
        );
    }
}
