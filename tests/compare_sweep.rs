//! `compare`, `sweep`, `frontier`, `--set`, report formats and charts (issue
//! 5), run through the real `reeplan` binary on small plans written here,
//! whose answers are worked by hand in the comments, and on the shipped
//! models (where the checks are structural: monotone costs, a sweep point
//! equal to the scenario it reproduces, shards equal to the whole).

mod common;
use common::MINIMAL;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

// ---------------------------------------------------------------- plans

/// Oxide for 100 t of magnet in the minimal example: 166.67 t REO × 7000.
const OXIDE_100T: f64 = 30.0 / (0.2 * 0.9) * 7000.0;

/// The minimal example with its market moved to Germany and a magnet
/// tariff US → DE valued at 50,000 USD/t. The only route crosses the border,
/// so the cost is 4,166,666.67 + 100 t × 50,000 × ad_valorem:
/// ad_valorem 0 → 4,166,666.67, 0.5 → 6,666,666.67.
fn minimal_with_tariff() -> String {
    let text = MINIMAL.replace(
        "id = \"us\"\ncountry = \"US\"",
        "id = \"de\"\ncountry = \"DE\"",
    );
    assert_ne!(text, MINIMAL);
    format!(
        "{text}\n[prices]\nmagnet = 50000\n\n[[tariff]]\nid = \"de-magnet\"\nproduct = \"magnet\"\nfrom = \"US\"\nto = \"DE\"\nad_valorem = 0.1\n"
    )
}

/// The minimal example plus a cheaper Chinese magnet plant (10,000 USD/t)
/// and a Section-301-like tariff on Chinese magnets into the US valued at
/// 50,000 USD/t. Both plants use the same oxide (166.67 t REO × 7000 =
/// 1,166,666.67 for 100 t), so per t of magnet the Chinese route costs
/// 10,000 + 50,000 × t and the US route 30,000: China is the cheapest route
/// while t < 0.4.
///   t = 0     → 1,166,666.67 + 100 × 10,000 = 2,166,666.67
///   t = 0.25  → 1,166,666.67 + 100 × 22,500 = 3,416,666.67 (tariffs 1,250,000)
///   t >= 0.4  → 1,166,666.67 + 100 × 30,000 = 4,166,666.67 (all US-made)
const TOY: &str = r#"[plan]
name = "tariff toy"
first_year = 2026
last_year = 2026

[elements.NdPr]
price = 60000

[prices]
magnet = 50000

[[mine]]
id = "m1"
country = "AU"
capacity = 1000
cost = 2000
grade = { NdPr = 0.2 }

[[refinery]]
id = "r1"
country = "MY"
capacity = 1000
cost = 5000
recovery = 0.9

[[magnet_plant]]
id = "p_us"
country = "US"
capacity = 500
cost = 30000
recipe = { NdPr = 0.3 }

[[magnet_plant]]
id = "p_cn"
country = "CN"
capacity = 500
cost = 10000
recipe = { NdPr = 0.3 }

[[market]]
id = "us"
country = "US"
demand = 100

[[tariff]]
id = "s301"
product = "magnet"
from = "CN"
to = "US"
ad_valorem = 0.25

[scenario.high]
description = "301 at 100 %"
[[scenario.high.tariff]]
id = "s301"
ad_valorem = 1.0

[scenario.free]
description = "no 301"
[[scenario.free.tariff]]
id = "s301"
ad_valorem = 0
"#;

/// Hand-worked cost of `TOY` at tariff `t` with `demand` t (≤ 500 so one
/// plant can serve it all).
fn toy_cost(t: f64, demand: f64) -> f64 {
    OXIDE_100T * demand / 100.0 + demand * f64::min(10_000.0 + 50_000.0 * t, 30_000.0)
}

/// PLAN_FORMAT's worked example `examples/segregation.toml` (copied from
/// /work/shared/spec/examples). Hand-worked: cost(required share s) =
/// 420,000 + 480,000 × s (each pp moves 1 t of magnet = 0.03 t Dy from
/// 40,000 to 200,000 USD/t Dy = 4,800 USD): 0 → 420,000, 0.5 → 660,000,
/// 0.8 → 804,000, 1.0 → 900,000 (all 100 t clean: NdPr 300,000 + 3 t Dy ×
/// 200,000). Shadow price 4,800 per pp while 0 < s < 1.
const SEGREGATION: &str = r#"[plan]
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
cost = 1000
grade = { NdPr = 0.2 }

[[mine]]
id = "m_audy"
country = "AU"
capacity = 10000
cost = 1000
grade = { Dy = 0.01 }

[[mine]]
id = "m_cn"
country = "CN"
capacity = 10000
cost = 1000
grade = { Dy = 0.05 }

[[refinery]]
id = "r_my"
country = "MY"
capacity = 100000
cost = 1000

[[refinery]]
id = "r_cn"
country = "CN"
capacity = 100000
cost = 1000

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
id = "all_clean"
min_share = 0.5
"#;

fn segregation_cost(s: f64) -> f64 {
    420_000.0 + 480_000.0 * s
}

/// `SEGREGATION` with the clean Dy mine cut to 200 t REO = 2 t Dy: enough
/// for 2 / 0.03 = 66.67 t of clean magnet, so the largest feasible share is
/// 2/3 (cost there 420,000 + 480,000 × 2/3 = 740,000).
fn segregation_scarce() -> String {
    let old = "id = \"m_audy\"\ncountry = \"AU\"\ncapacity = 10000";
    assert_eq!(SEGREGATION.matches(old).count(), 1);
    SEGREGATION.replacen(old, "id = \"m_audy\"\ncountry = \"AU\"\ncapacity = 200", 1)
}

// ---------------------------------------------------------------- helpers

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

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

fn run_in(dir: &Path, args: &[&str]) -> Run {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_reeplan"))
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("run reeplan");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

/// A temporary directory holding `plan.toml`.
fn plan_dir(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("plan.toml"), text).expect("write plan");
    dir
}

/// Run and require exit code 0.
#[track_caller]
fn ok(dir: &Path, args: &[&str]) -> Run {
    let run = run_in(dir, args);
    assert_eq!(
        run.code,
        Some(0),
        "reeplan {}\nstderr:\n{}",
        args.join(" "),
        run.stderr
    );
    run
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(json_of)
        .collect()
}

#[track_caller]
fn close(what: &str, actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() <= 1e-6 * expected.abs().max(1.0),
        "{what}: got {actual}, expected {expected}"
    );
}

fn num(v: &Value, what: &str) -> f64 {
    v.as_f64()
        .unwrap_or_else(|| panic!("{what} is not a number: {v}"))
}

/// Each value at least the one before (up to solver noise).
#[track_caller]
fn non_decreasing(what: &str, values: &[f64]) {
    for w in values.windows(2) {
        assert!(
            w[1] >= w[0] - 1e-9 * w[0].abs().max(1.0),
            "{what} fell: {values:?}"
        );
    }
}

/// The objective of `solve ARGS --format json` (exit 0, optimal).
fn objective(dir: &Path, args: &[&str]) -> f64 {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let run = ok(dir, &all);
    let j = json_of(&run.stdout);
    assert_eq!(j["status"], "optimal");
    num(&j["objective_value"], "objective_value")
}

/// The files in `dir`, sorted.
fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[track_caller]
fn no_temp_files(dir: &Path) {
    for name in files_in(dir) {
        assert!(
            !name.starts_with('.') && !name.ends_with(".tmp"),
            "leftover temporary file {name} in {}",
            dir.display()
        );
    }
}

/// The lines of a `--format csv` output (header, if any, included).
fn csv_rows(text: &str) -> Vec<String> {
    text.lines().map(str::to_string).collect()
}

fn point_of_csv(line: &str) -> usize {
    line.split(',')
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("row without point: {line}"))
}

const TARIFF_301: &str = "tariff.us-301-cn-magnet.ad_valorem";

// ---------------------------------------------------------------- sweep: real numbers

/// The minimal example with a magnet tariff, at two hand-worked values.
#[test]
fn sweep_minimal_example_with_magnet_tariff_by_hand() {
    let dir = plan_dir(&minimal_with_tariff());
    let run = ok(
        dir.path(),
        &[
            "sweep",
            "plan.toml",
            "--set",
            "tariff.de-magnet.ad_valorem=0,0.5",
            "--format",
            "json",
        ],
    );
    let rows = json_lines(&run.stdout);
    assert_eq!(rows.len(), 2, "{}", run.stdout);
    // 4,166,666.67 + 100 t × 50,000 × {0, 0.5}
    let base = 30.0 / (0.2 * 0.9) * 7000.0 + 100.0 * 30000.0;
    for (row, t) in rows.iter().zip([0.0, 0.5]) {
        assert_eq!(row["status"], "optimal");
        close(
            &format!("cost at {t}"),
            num(&row["cost.total"], "cost"),
            base + 100.0 * 50_000.0 * t,
        );
        close(
            &format!("tariffs at {t}"),
            num(&row["cost.tariffs"], "tariffs"),
            100.0 * 50_000.0 * t,
        );
    }
    close(
        "t = 0.5",
        num(&rows[1]["cost.total"], "cost"),
        6_666_666.666_666_667,
    );
    // The swept value is the plan's own value when swept to it: the solve agrees.
    close(
        "solve at 0.1",
        objective(dir.path(), &["solve", "plan.toml"]),
        base + 100.0 * 50_000.0 * 0.1,
    );
}

/// Raising the tariff on the cheapest route never lowers cost; each point
/// matches the hand-worked cost.
#[test]
fn sweep_tariff_on_cheapest_route_by_hand() {
    let dir = plan_dir(TOY);
    let run = ok(
        dir.path(),
        &[
            "sweep",
            "plan.toml",
            "--set",
            "tariff.s301.ad_valorem=0:1:0.25",
            "--format",
            "json",
        ],
    );
    let rows = json_lines(&run.stdout);
    assert_eq!(rows.len(), 5, "{}", run.stdout);
    let mut costs = Vec::new();
    for (i, (row, t)) in rows.iter().zip([0.0, 0.25, 0.5, 0.75, 1.0]).enumerate() {
        assert_eq!(row["point"], i);
        let v: f64 = row["set"]["tariff.s301.ad_valorem"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        close("swept value", v, t);
        assert_eq!(row["status"], "optimal");
        let cost = num(&row["cost.total"], "cost.total");
        close(&format!("cost at {t}"), cost, toy_cost(t, 100.0));
        costs.push(cost);
        // Who makes the magnets: China below 0.4, the US above.
        let cn = num(&row["magnet.CN"], "magnet.CN");
        close(
            &format!("made in CN at {t}"),
            cn,
            if t < 0.4 { 1.0 } else { 0.0 },
        );
    }
    non_decreasing("toy cost against the tariff", &costs);
    close("t = 0", costs[0], 2_166_666.666_666_667);
    close("t = 0.25", costs[1], 3_416_666.666_666_667);
    close(
        "tariffs at 0.25",
        num(&rows[1]["cost.tariffs"], "tariffs"),
        1_250_000.0,
    );
    close("t = 1", costs[4], 4_166_666.666_666_667);
}

/// The shipped tariff model: raising the 301 duty never lowers world cost,
/// and the point at today's 25 % is the base plan itself.
#[test]
fn sweep_shipped_tariff_never_lowers_cost() {
    let dir = tempfile::tempdir().unwrap();
    let plan = model("tariff-scenarios.toml");
    let set = format!("{TARIFF_301}=0:1:0.25");
    let run = ok(
        dir.path(),
        &["sweep", &plan, "--set", &set, "--format", "json"],
    );
    let rows = json_lines(&run.stdout);
    assert_eq!(rows.len(), 5, "{}", run.stdout);
    let costs: Vec<f64> = rows
        .iter()
        .map(|r| {
            assert_eq!(r["status"], "optimal", "{r}");
            num(&r["cost.total"], "cost.total")
        })
        .collect();
    non_decreasing("tariff-scenarios cost against the 301 duty", &costs);
    assert!(costs[4] > costs[0], "a 100 % duty costs nothing? {costs:?}");
    // The base plan has the duty at 25 % (point 1).
    close(
        "point 0.25 = base",
        costs[1],
        objective(dir.path(), &["solve", &plan]),
    );
    // At 0 the oxide duty is 0 too (base), which is scenario tariff-0.
    close(
        "point 0 = tariff-0",
        costs[0],
        objective(dir.path(), &["solve", &plan, "--scenario", "tariff-0"]),
    );
}

/// Two `--set` make a grid (first axis slowest); its diagonal reproduces the
/// scenarios that patch both duties; cost never falls along either axis.
#[test]
fn sweep_grid_diagonal_equals_scenarios() {
    let dir = tempfile::tempdir().unwrap();
    let plan = model("tariff-scenarios.toml");
    let a = format!("{TARIFF_301}=0,0.5,1");
    let b = "tariff.us-cn-oxide.ad_valorem=0,0.5,1";
    let run = ok(
        dir.path(),
        &["sweep", &plan, "--set", &a, "--set", b, "--format", "json"],
    );
    let rows = json_lines(&run.stdout);
    assert_eq!(rows.len(), 9, "{}", run.stdout);
    let vals = ["0", "0.5", "1"];
    let mut cost = [[0.0; 3]; 3];
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row["point"], i);
        assert_eq!(row["set"][TARIFF_301], vals[i / 3], "{row}");
        assert_eq!(
            row["set"]["tariff.us-cn-oxide.ad_valorem"],
            vals[i % 3],
            "{row}"
        );
        cost[i / 3][i % 3] = num(&row["cost.total"], "cost.total");
    }
    #[allow(clippy::needless_range_loop)] // k indexes both rows and columns
    for k in 0..3 {
        non_decreasing(
            "cost along the magnet duty",
            &[cost[0][k], cost[1][k], cost[2][k]],
        );
        non_decreasing("cost along the oxide duty", &cost[k]);
    }
    for (k, scenario) in ["tariff-0", "tariff-50", "tariff-100"]
        .into_iter()
        .enumerate()
    {
        close(
            &format!("grid point ({k},{k}) = {scenario}"),
            cost[k][k],
            objective(dir.path(), &["solve", &plan, "--scenario", scenario]),
        );
    }
}

// ---------------------------------------------------------------- sweep: shards and jobs

fn sharded_equals_unsharded_csv(dir: &Path, plan: &str, set: &str) {
    // --rebuild: each point's row does not depend on the shard.
    let whole = ok(
        dir,
        &["sweep", plan, "--set", set, "--format", "csv", "--rebuild"],
    )
    .stdout;
    let whole = csv_rows(&whole);
    assert!(whole.len() >= 4, "{whole:?}");
    let header = whole[0].clone();
    assert!(header.starts_with("point,"), "{header}");
    let mut cat = Vec::new();
    for k in 0..3 {
        let shard = format!("{k}/3");
        let out = ok(
            dir,
            &[
                "sweep",
                plan,
                "--set",
                set,
                "--format",
                "csv",
                "--shard",
                &shard,
                "--rebuild",
            ],
        )
        .stdout;
        let lines = csv_rows(&out);
        // Only shard 0 writes the header.
        assert_eq!(
            lines.iter().filter(|l| **l == header).count(),
            usize::from(k == 0),
            "shard {shard}:\n{out}"
        );
        if k == 0 {
            assert_eq!(lines.first(), Some(&header));
        }
        for l in &lines {
            if *l != header {
                assert_eq!(
                    point_of_csv(l) % 3,
                    k,
                    "shard {shard} solved a foreign point: {l}"
                );
            }
        }
        cat.extend(lines);
    }
    // `cat` of the shards holds exactly the unsharded rows: header first,
    // then the rows, which sort back into order by point.
    assert_eq!(cat[0], header);
    let mut rows: Vec<String> = cat[1..].to_vec();
    rows.sort_by_key(|l| point_of_csv(l));
    assert_eq!(rows, whole[1..].to_vec());
}

fn sharded_equals_unsharded_json(dir: &Path, plan: &str, set: &str) {
    let whole = ok(
        dir,
        &["sweep", plan, "--set", set, "--format", "json", "--rebuild"],
    )
    .stdout;
    let whole: Vec<String> = whole.lines().map(str::to_string).collect();
    assert!(whole.len() >= 3);
    let mut cat = Vec::new();
    for k in 0..3 {
        let shard = format!("{k}/3");
        let out = ok(
            dir,
            &[
                "sweep",
                plan,
                "--set",
                set,
                "--format",
                "json",
                "--shard",
                &shard,
                "--rebuild",
            ],
        )
        .stdout;
        for l in out.lines() {
            let p = json_of(l)["point"].as_u64().unwrap() as usize;
            assert_eq!(p % 3, k, "shard {shard} solved a foreign point: {l}");
            cat.push((p, l.to_string()));
        }
    }
    cat.sort_by_key(|(p, _)| *p);
    let cat: Vec<String> = cat.into_iter().map(|(_, l)| l).collect();
    assert_eq!(cat, whole);
}

#[test]
fn sweep_shards_concatenate_to_the_unsharded_rows_csv() {
    let dir = plan_dir(TOY);
    // 7 points over 3 shards: 3 + 2 + 2.
    sharded_equals_unsharded_csv(dir.path(), "plan.toml", "tariff.s301.ad_valorem=0:1.5:0.25");
    // The shipped model, 5 points.
    sharded_equals_unsharded_csv(
        dir.path(),
        &model("tariff-scenarios.toml"),
        &format!("{TARIFF_301}=0:1:0.25"),
    );
}

#[test]
fn sweep_shards_concatenate_to_the_unsharded_rows_json() {
    let dir = plan_dir(TOY);
    sharded_equals_unsharded_json(dir.path(), "plan.toml", "tariff.s301.ad_valorem=0:1.5:0.25");
    sharded_equals_unsharded_json(
        dir.path(),
        &model("tariff-scenarios.toml"),
        &format!("{TARIFF_301}=0:1:0.25"),
    );
}

/// A point whose plan is invalid (a negative duty) gives an error row; the
/// JSON lines of the shards still concatenate to the unsharded output.
#[test]
fn sweep_shards_with_a_failing_point_json() {
    let dir = plan_dir(TOY);
    let set = "tariff.s301.ad_valorem=0,-1,0.5";
    let whole = run_in(
        dir.path(),
        &["sweep", "plan.toml", "--set", set, "--format", "json"],
    );
    assert_ne!(whole.code, Some(0), "a failed point must not exit 0");
    let rows = json_lines(&whole.stdout);
    assert_eq!(rows.len(), 3, "{}", whole.stdout);
    assert_eq!(rows[1]["status"], "error");
    assert!(
        rows[1]["error"].as_str().unwrap().contains("ad_valorem"),
        "{}",
        rows[1]
    );
    close(
        "point 2",
        num(&rows[2]["cost.total"], "cost"),
        toy_cost(0.5, 100.0),
    );
    let mut cat = String::new();
    for k in 0..3 {
        let shard = format!("{k}/3");
        cat.push_str(
            &run_in(
                dir.path(),
                &[
                    "sweep",
                    "plan.toml",
                    "--set",
                    set,
                    "--format",
                    "json",
                    "--shard",
                    &shard,
                ],
            )
            .stdout,
        );
    }
    assert_eq!(cat, whole.stdout);
}

/// The same with --format csv: every row has the unsharded columns.
#[test]
fn sweep_shards_with_a_failing_point_csv() {
    let dir = plan_dir(TOY);
    let set = "tariff.s301.ad_valorem=0,-1,0.5";
    let whole = run_in(
        dir.path(),
        &["sweep", "plan.toml", "--set", set, "--format", "csv"],
    );
    assert_ne!(whole.code, Some(0), "a failed point must not exit 0");
    let mut cat = String::new();
    for k in 0..3 {
        let shard = format!("{k}/3");
        cat.push_str(
            &run_in(
                dir.path(),
                &[
                    "sweep",
                    "plan.toml",
                    "--set",
                    set,
                    "--format",
                    "csv",
                    "--shard",
                    &shard,
                ],
            )
            .stdout,
        );
    }
    assert_eq!(cat, whole.stdout);
}

#[test]
fn sweep_jobs_1_and_2_give_identical_output() {
    let dir = tempfile::tempdir().unwrap();
    let plan = model("tariff-scenarios.toml");
    let set = format!("{TARIFF_301}=0:1:0.25");
    for format in ["csv", "json", "markdown"] {
        let one = ok(
            dir.path(),
            &[
                "sweep", &plan, "--set", &set, "--format", format, "--jobs", "1",
            ],
        );
        let two = ok(
            dir.path(),
            &[
                "sweep", &plan, "--set", &set, "--format", format, "--jobs", "2",
            ],
        );
        assert!(!one.stdout.is_empty());
        assert_eq!(
            one.stdout, two.stdout,
            "--format {format}: --jobs 1 and 2 differ"
        );
    }
}

// ---------------------------------------------------------------- frontier

/// The segregation example: cost 420,000 + 480,000 × s, shadow 4,800 per pp.
#[test]
fn frontier_segregation_by_hand() {
    let dir = plan_dir(SEGREGATION);
    let run = ok(
        dir.path(),
        &[
            "frontier",
            "plan.toml",
            "--rule",
            "all_clean",
            "--steps",
            "4",
            "--format",
            "json",
        ],
    );
    let j = json_of(&run.stdout);
    assert_eq!(j["rule"], "all_clean");
    close(
        "largest feasible share",
        num(&j["largest_feasible_share"], "largest"),
        1.0,
    );
    let points = j["points"].as_array().unwrap();
    assert_eq!(points.len(), 5);
    let mut costs = Vec::new();
    for (p, s) in points.iter().zip([0.0, 0.25, 0.5, 0.75, 1.0]) {
        close("required", num(&p["required"], "required"), s);
        assert_eq!(p["status"], "optimal");
        let cost = num(&p["cost"], "cost");
        close(&format!("cost at {s}"), cost, segregation_cost(s));
        costs.push(cost);
        if s > 0.0 && s < 1.0 {
            close(
                &format!("shadow price at {s}"),
                num(&p["shadow_price"], "shadow"),
                4_800.0,
            );
        }
    }
    non_decreasing("frontier cost", &costs);
    close("0 %", costs[0], 420_000.0);
    close("50 %", costs[2], 660_000.0);
    close("100 %", costs[4], 900_000.0);
}

/// With clean Dy for only 66.67 t of magnet the largest feasible share is
/// 2/3, found by bisection to 0.01 pp; every point costs 420,000 + 480,000 × s.
#[test]
fn frontier_largest_feasible_share_by_hand() {
    let dir = plan_dir(&segregation_scarce());
    let run = ok(
        dir.path(),
        &[
            "frontier",
            "plan.toml",
            "--rule",
            "all_clean",
            "--steps",
            "4",
            "--format",
            "json",
        ],
    );
    let j = json_of(&run.stdout);
    let s_max = num(&j["largest_feasible_share"], "largest");
    assert!(
        (2.0 / 3.0 - 1e-4..=2.0 / 3.0 + 1e-9).contains(&s_max),
        "largest feasible share {s_max}, by hand 2/3"
    );
    let points = j["points"].as_array().unwrap();
    assert_eq!(points.len(), 5);
    let mut costs = Vec::new();
    for (i, p) in points.iter().enumerate() {
        let s = num(&p["required"], "required");
        close("required", s, s_max * i as f64 / 4.0);
        assert_eq!(p["status"], "optimal");
        let cost = num(&p["cost"], "cost");
        close(&format!("cost at {s}"), cost, segregation_cost(s));
        costs.push(cost);
    }
    non_decreasing("frontier cost", &costs);
    close(
        "cost at the largest share",
        costs[4],
        segregation_cost(s_max),
    );
    assert!((costs[4] - 740_000.0).abs() < 480_000.0 * 1e-4 + 1e-6);
    // Beyond 2/3 the plan is infeasible (exit code 3).
    let over = run_in(
        dir.path(),
        &[
            "solve",
            "plan.toml",
            "--set",
            "share_rule.all_clean.min_share=0.67",
        ],
    );
    assert_eq!(over.code, Some(3), "{}", over.stderr);
}

/// The shipped DFARS model extended to all US demand: the frontier's cost
/// never falls as the required share rises, starts at the plan without the
/// rule and ends at the all-US scenario.
#[test]
fn frontier_shipped_cost_never_falls() {
    let dir = tempfile::tempdir().unwrap();
    let plan = model("dfars-2027.toml");
    let run = ok(
        dir.path(),
        &[
            "frontier",
            &plan,
            "--scenario",
            "dfars-all-us",
            "--rule",
            "dfars-225-7018",
            "--steps",
            "5",
            "--format",
            "json",
        ],
    );
    let j = json_of(&run.stdout);
    close(
        "largest feasible share (unmet penalties keep 100 % feasible)",
        num(&j["largest_feasible_share"], "largest"),
        1.0,
    );
    let points = j["points"].as_array().unwrap();
    assert_eq!(points.len(), 6);
    let costs: Vec<f64> = points
        .iter()
        .map(|p| {
            assert_eq!(p["status"], "optimal");
            assert!(num(&p["shadow_price"], "shadow") >= 0.0);
            num(&p["cost"], "cost")
        })
        .collect();
    let shares: Vec<f64> = points
        .iter()
        .map(|p| num(&p["required"], "required"))
        .collect();
    non_decreasing("required share", &shares);
    non_decreasing("frontier cost", &costs);
    close(
        "0 % = no rule",
        costs[0],
        objective(dir.path(), &["solve", &plan, "--scenario", "no-dfars"]),
    );
    close(
        "100 % = dfars-all-us",
        costs[5],
        objective(dir.path(), &["solve", &plan, "--scenario", "dfars-all-us"]),
    );
}

// ---------------------------------------------------------------- compare

/// compare on the shipped tariff model: one column per scenario plus base,
/// the base column's differences are all 0, every other column's difference
/// is its value minus base.
#[test]
fn compare_tariff_scenarios_json() {
    let dir = tempfile::tempdir().unwrap();
    let plan = model("tariff-scenarios.toml");
    let run = ok(dir.path(), &["compare", &plan, "--format", "json"]);
    let j = json_of(&run.stdout);
    let columns = j["columns"].as_array().unwrap();
    let names: Vec<&str> = columns
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["base", "tariff-0", "tariff-25", "tariff-50", "tariff-100"]
    );
    let base = &columns[0];
    for (key, d) in base["difference"].as_object().unwrap() {
        assert!(
            d.is_null() || d.as_f64() == Some(0.0),
            "base difference of {key}: {d}"
        );
    }
    for c in columns {
        assert_eq!(c["status"], "optimal", "{}", c["name"]);
        for (key, v) in c["metrics"].as_object().unwrap() {
            let (Some(v), Some(b)) = (v.as_f64(), base["metrics"][key].as_f64()) else {
                continue;
            };
            close(
                &format!("{} difference of {key}", c["name"]),
                num(&c["difference"][key], key),
                v - b,
            );
        }
        // The total is the sum of its parts.
        let m = &c["metrics"];
        let parts: f64 = [
            "production",
            "transport",
            "tariffs",
            "unmet",
            "reserves",
            "rules",
        ]
        .iter()
        .map(|p| m[format!("cost.{p}")].as_f64().unwrap_or(0.0))
        .sum();
        close(
            "total = sum of parts",
            num(&m["cost.total"], "cost.total"),
            parts,
        );
    }
    let total = |i: usize| num(&columns[i]["metrics"]["cost.total"], "cost.total");
    // Each column equals `solve --scenario`.
    for (i, name) in names.iter().enumerate() {
        let mut args = vec!["solve", plan.as_str()];
        if i > 0 {
            args.extend(["--scenario", name]);
        }
        close(
            &format!("compare column {name}"),
            total(i),
            objective(dir.path(), &args),
        );
    }
    // The base is tariff-25 for magnets (0 % on oxides) and costs the same.
    close(
        "tariff-25 − base",
        num(&columns[2]["difference"]["cost.total"], "d"),
        0.0,
    );
    // Cost rises with the tariff.
    non_decreasing(
        "cost against the tariff",
        &[total(1), total(2), total(3), total(4)],
    );
}

/// compare on the toy: base (25 %), high (100 %), free (0 %), by hand.
#[test]
fn compare_toy_scenarios_by_hand() {
    let dir = plan_dir(TOY);
    let run = ok(dir.path(), &["compare", "plan.toml", "--format", "json"]);
    let j = json_of(&run.stdout);
    let columns = j["columns"].as_array().unwrap();
    let names: Vec<&str> = columns
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["base", "high", "free"]);
    assert_eq!(columns[1]["description"], "301 at 100 %");
    let get = |i: usize, k: &str| num(&columns[i]["metrics"][k], k);
    let diff = |i: usize, k: &str| num(&columns[i]["difference"][k], k);
    close("base", get(0, "cost.total"), toy_cost(0.25, 100.0));
    close("high", get(1, "cost.total"), toy_cost(1.0, 100.0));
    close("free", get(2, "cost.total"), toy_cost(0.0, 100.0));
    close("high − base", diff(1, "cost.total"), 750_000.0);
    close("free − base", diff(2, "cost.total"), -1_250_000.0);
    close("base tariffs", get(0, "cost.tariffs"), 1_250_000.0);
    // Resource cost per t: the 1,250,000 of tariffs is a transfer, not a
    // cost of the magnets (decision 84).
    close(
        "cost per t (base)",
        get(0, "cost.per_tonne"),
        (toy_cost(0.25, 100.0) - 1_250_000.0) / 100.0,
    );
    close("made in CN (base)", get(0, "magnet.CN"), 1.0);
    close("made in CN (high)", get(1, "magnet.CN"), 0.0);
    close("made in CN: high − base", diff(1, "magnet.CN"), -1.0);
    // CSV: raw numbers, the difference in a column of its own.
    let run = ok(dir.path(), &["compare", "plan.toml", "--format", "csv"]);
    let mut lines = run.stdout.lines();
    assert_eq!(
        lines.next(),
        Some("metric,base,high,high − base,free,free − base")
    );
    let row = lines
        .find(|l| l.starts_with("total cost"))
        .expect("total cost row");
    let cells: Vec<f64> = row
        .split(',')
        .skip(1)
        .map(|c| c.parse().expect("raw number"))
        .collect();
    close("CSV base", cells[0], toy_cost(0.25, 100.0));
    close("CSV high", cells[1], toy_cost(1.0, 100.0));
    close("CSV high − base", cells[2], 750_000.0);
    close("CSV free − base", cells[4], -1_250_000.0);
    // --set applies to every column: demand 200 t (one plant still suffices).
    let run = ok(
        dir.path(),
        &[
            "compare",
            "plan.toml",
            "--set",
            "market.us.demand=200",
            "--format",
            "json",
        ],
    );
    let j = json_of(&run.stdout);
    let columns = j["columns"].as_array().unwrap();
    close(
        "base at 200 t",
        num(&columns[0]["metrics"]["cost.total"], "c"),
        toy_cost(0.25, 200.0),
    );
    close(
        "high at 200 t",
        num(&columns[1]["metrics"]["cost.total"], "c"),
        toy_cost(1.0, 200.0),
    );
    close(
        "high at 200 t by hand",
        num(&columns[1]["metrics"]["cost.total"], "c"),
        8_333_333.333_333_333,
    );
}

// ---------------------------------------------------------------- --set

#[test]
fn set_min_share_changes_the_solve() {
    let dir = plan_dir(SEGREGATION);
    close(
        "segregation at 0.5",
        objective(dir.path(), &["solve", "plan.toml"]),
        660_000.0,
    );
    let run = ok(
        dir.path(),
        &[
            "solve",
            "plan.toml",
            "--set",
            "share_rule.all_clean.min_share=0.8",
            "--format",
            "json",
        ],
    );
    let j = json_of(&run.stdout);
    // 420,000 + 80 t × 0.03 t Dy × 160,000 = 804,000
    close(
        "segregation at 0.8",
        num(&j["objective_value"], "objective"),
        804_000.0,
    );
    let share = &j["shares"][0];
    close("required", num(&share["required"], "required"), 0.8);
    close("achieved", num(&share["achieved"], "achieved"), 0.8);
    close(
        "shadow price",
        num(&share["shadow_price"], "shadow"),
        4_800.0,
    );
    close(
        "at 0",
        objective(
            dir.path(),
            &[
                "solve",
                "plan.toml",
                "--set",
                "share_rule.all_clean.min_share=0",
            ],
        ),
        420_000.0,
    );
}

#[test]
fn set_unknown_path_is_a_usage_error_naming_the_closest_path() {
    let dir = plan_dir(TOY);
    let cases: [(&[&str], &str); 6] = [
        (
            &["solve", "plan.toml", "--set", "tariff.s30.ad_valorem=0.5"],
            "tariff.s301.ad_valorem",
        ),
        (
            &["solve", "plan.toml", "--set", "tariff.s301.advalorem=0.5"],
            "tariff.s301.ad_valorem",
        ),
        (
            &["solve", "plan.toml", "--set", "mine.m2.capacity=5"],
            "mine.m1.capacity",
        ),
        (
            &["compare", "plan.toml", "--set", "tarif.s301.ad_valorem=0.5"],
            "tariff.s301.ad_valorem",
        ),
        (
            &[
                "sweep",
                "plan.toml",
                "--set",
                "tariff.s301.ad_valorm=0:1:0.5",
            ],
            "tariff.s301.ad_valorem",
        ),
        (
            &["solve", "plan.toml", "--set", "plan.discount_rat=0.1"],
            "plan.discount_rate",
        ),
    ];
    for (args, closest) in cases {
        let run = run_in(dir.path(), args);
        assert_eq!(run.code, Some(2), "{args:?}: {}", run.stderr);
        assert_eq!(run.stdout, "", "{args:?}");
        assert!(
            run.stderr.contains(closest),
            "{args:?}: {closest} not named in:\n{}",
            run.stderr
        );
    }
    let seg = plan_dir(SEGREGATION);
    let run = run_in(
        seg.path(),
        &[
            "frontier",
            "plan.toml",
            "--rule",
            "all_clean",
            "--set",
            "share_rule.all_clen.min_share=0.1",
        ],
    );
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains("share_rule.all_clean.min_share"),
        "{}",
        run.stderr
    );
}

// ---------------------------------------------------------------- report files

#[test]
fn csv_out_writes_whole_files_and_no_temporaries() {
    let work = plan_dir(TOY);
    // compare on a shipped model
    let out = work.path().join("cmp");
    let run = ok(
        work.path(),
        &[
            "compare",
            &model("tariff-scenarios.toml"),
            "--format",
            "csv",
            "--out",
            "cmp",
        ],
    );
    assert_eq!(run.stdout, "");
    assert_eq!(files_in(&out), ["compare.csv"]);
    no_temp_files(&out);
    let text = std::fs::read_to_string(out.join("compare.csv")).unwrap();
    let header = text.lines().next().unwrap();
    for name in [
        "metric",
        "base",
        "tariff-0",
        "tariff-25",
        "tariff-50",
        "tariff-100",
    ] {
        assert!(header.contains(name), "{name} not in {header}");
    }
    // The CSV keeps raw numbers: the total-cost row holds the solve's value.
    let total = objective(work.path(), &["solve", &model("tariff-scenarios.toml")]);
    let row = text
        .lines()
        .find(|l| l.starts_with("total cost"))
        .expect("total cost row");
    let base_cell: f64 = row.split(',').nth(1).unwrap().parse().expect("raw number");
    close("CSV total cost", base_cell, total);

    // solve: one CSV per table
    let run = ok(
        work.path(),
        &["solve", "plan.toml", "--format", "csv", "--out", "solve"],
    );
    assert_eq!(run.stdout, "");
    let files = files_in(&work.path().join("solve"));
    assert!(files.contains(&"summary.csv".to_string()), "{files:?}");
    assert!(files.iter().all(|f| f.ends_with(".csv")), "{files:?}");
    no_temp_files(&work.path().join("solve"));

    // sweep: one file; rerunning into the same directory replaces it whole
    for _ in 0..2 {
        ok(
            work.path(),
            &[
                "sweep",
                "plan.toml",
                "--set",
                "tariff.s301.ad_valorem=0,1",
                "--format",
                "csv",
                "--out",
                "sweep",
            ],
        );
    }
    assert_eq!(files_in(&work.path().join("sweep")), ["sweep.csv"]);
    let text = std::fs::read_to_string(work.path().join("sweep/sweep.csv")).unwrap();
    assert_eq!(text.lines().count(), 3, "{text}");
}

#[test]
fn xlsx_out_writes_a_zip_workbook() {
    let work = plan_dir(TOY);
    let plan = model("tariff-scenarios.toml");
    let dfars = model("dfars-2027.toml");
    let cases: [(&str, Vec<&str>); 4] = [
        ("compare", vec!["compare", plan.as_str()]),
        ("solve", vec!["solve", "plan.toml"]),
        (
            "sweep",
            vec!["sweep", "plan.toml", "--set", "tariff.s301.ad_valorem=0,1"],
        ),
        (
            "frontier",
            vec![
                "frontier",
                &dfars,
                "--rule",
                "dfars-225-7018",
                "--steps",
                "1",
            ],
        ),
    ];
    for (name, mut args) in cases {
        args.extend(["--format", "xlsx", "--out", name]);
        let run = ok(work.path(), &args);
        assert_eq!(run.stdout, "", "{name}");
        let dir = work.path().join(name);
        assert_eq!(files_in(&dir), ["report.xlsx"], "{name}");
        let bytes = std::fs::read(dir.join("report.xlsx")).unwrap();
        assert!(
            bytes.starts_with(b"PK\x03\x04"),
            "{name}: report.xlsx is not a ZIP"
        );
        assert!(bytes.len() > 1000, "{name}: {} bytes", bytes.len());
    }
}

#[test]
fn xlsx_without_out_is_a_usage_error() {
    let dir = plan_dir(SEGREGATION);
    let cases: [&[&str]; 4] = [
        &["solve", "plan.toml", "--format", "xlsx"],
        &["compare", "plan.toml", "--format", "xlsx"],
        &[
            "sweep",
            "plan.toml",
            "--set",
            "share_rule.all_clean.min_share=0,1",
            "--format",
            "xlsx",
        ],
        &[
            "frontier",
            "plan.toml",
            "--rule",
            "all_clean",
            "--format",
            "xlsx",
        ],
    ];
    for args in cases {
        let run = run_in(dir.path(), args);
        assert_eq!(run.code, Some(2), "{args:?}: {}", run.stderr);
        assert_eq!(run.stdout, "", "{args:?}");
        assert!(run.stderr.contains("--out"), "{args:?}: {}", run.stderr);
    }
}

/// Report files (and charts) written with --out are ordinary files (mode
/// 0644 under umask 022), not the 0600 of the temporary file they were
/// written to.
#[cfg(unix)]
#[test]
fn out_files_are_readable_by_others() {
    use std::os::unix::fs::PermissionsExt;
    let dir = plan_dir(TOY);
    let status = Command::new("sh")
        .arg("-c")
        .arg("umask 022 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_reeplan"))
        .args([
            "solve",
            "plan.toml",
            "--format",
            "csv",
            "--out",
            "out",
            "--chart",
            "flows.svg",
        ])
        .current_dir(dir.path())
        .status()
        .expect("run reeplan");
    assert_eq!(status.code(), Some(0));
    for name in files_in(&dir.path().join("out")) {
        let mode = std::fs::metadata(dir.path().join("out").join(&name))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o644, "{name}: mode {:o}", mode & 0o777);
    }
}

// ---------------------------------------------------------------- charts

#[track_caller]
fn assert_svg(path: &Path) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(text.contains("<svg"), "{} is not an SVG", path.display());
}

#[track_caller]
fn assert_png(path: &Path) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{} is not a PNG",
        path.display()
    );
}

#[test]
fn solve_chart_svg_and_png() {
    let dir = plan_dir(TOY);
    for name in ["flows.svg", "flows.png"] {
        let run = ok(
            dir.path(),
            &["solve", "plan.toml", "--chart", name, "--year", "2026"],
        );
        assert!(run.stdout.contains("optimal"), "{}", run.stdout);
        let path = dir.path().join(name);
        if name.ends_with(".svg") {
            assert_svg(&path);
        } else {
            assert_png(&path);
        }
    }
    // On a shipped model, the default year (the last).
    let run = ok(
        dir.path(),
        &["solve", &model("us-baseline.toml"), "--chart", "us.svg"],
    );
    assert!(!run.stdout.is_empty());
    assert_svg(&dir.path().join("us.svg"));
    // With --out, a bare chart name lands in the directory next to the report.
    ok(
        dir.path(),
        &[
            "solve",
            "plan.toml",
            "--format",
            "csv",
            "--out",
            "rep",
            "--chart",
            "f.png",
        ],
    );
    assert_png(&dir.path().join("rep/f.png"));
    no_temp_files(&dir.path().join("rep"));
    // A chart path with a directory part is written where it says.
    std::fs::create_dir(dir.path().join("charts")).unwrap();
    ok(
        dir.path(),
        &[
            "solve",
            "plan.toml",
            "--format",
            "csv",
            "--out",
            "rep2",
            "--chart",
            "charts/solve.svg",
        ],
    );
    assert_svg(&dir.path().join("charts/solve.svg"));
    assert!(!files_in(&dir.path().join("rep2"))
        .iter()
        .any(|f| f.ends_with(".svg")));
}

#[test]
fn sweep_chart_svg_and_png() {
    let dir = plan_dir(TOY);
    for name in ["sweep.svg", "sweep.png"] {
        ok(
            dir.path(),
            &[
                "sweep",
                "plan.toml",
                "--set",
                "tariff.s301.ad_valorem=0:1:0.25",
                "--chart",
                name,
            ],
        );
        let path = dir.path().join(name);
        if name.ends_with(".svg") {
            assert_svg(&path);
        } else {
            assert_png(&path);
        }
    }
    // With --out and --format csv a bare chart name lands in DIR.
    ok(
        dir.path(),
        &[
            "sweep",
            "plan.toml",
            "--set",
            "tariff.s301.ad_valorem=0,1",
            "--format",
            "csv",
            "--out",
            "rep",
            "--chart",
            "s.svg",
        ],
    );
    assert_eq!(files_in(&dir.path().join("rep")), ["s.svg", "sweep.csv"]);
    assert_svg(&dir.path().join("rep/s.svg"));
}

#[test]
fn frontier_chart_svg_and_png() {
    let dir = plan_dir(SEGREGATION);
    for name in ["frontier.svg", "frontier.png"] {
        ok(
            dir.path(),
            &[
                "frontier",
                "plan.toml",
                "--rule",
                "all_clean",
                "--steps",
                "4",
                "--chart",
                name,
            ],
        );
        let path = dir.path().join(name);
        if name.ends_with(".svg") {
            assert_svg(&path);
        } else {
            assert_png(&path);
        }
    }
}

/// A chart path with a directory part is written where it says, as `solve`
/// and `frontier` do with --out (output.rs: only a bare file name lands in
/// DIR; see `solve_chart_svg_and_png`).
#[test]
fn sweep_out_with_chart_in_another_directory() {
    let dir = plan_dir(TOY);
    std::fs::create_dir(dir.path().join("charts")).unwrap();
    let abs: PathBuf = dir.path().join("charts/abs.svg");
    let abs = abs.to_str().unwrap();
    for (format, chart) in [("csv", abs), ("json", "charts/rel.svg")] {
        let run = run_in(
            dir.path(),
            &[
                "sweep",
                "plan.toml",
                "--set",
                "tariff.s301.ad_valorem=0,1",
                "--format",
                format,
                "--out",
                "rep",
                "--chart",
                chart,
            ],
        );
        assert_eq!(
            run.code,
            Some(0),
            "--format {format} --chart {chart}: {}",
            run.stderr
        );
        let path = if Path::new(chart).is_absolute() {
            PathBuf::from(chart)
        } else {
            dir.path().join(chart)
        };
        assert_svg(&path);
    }
}

/// The same `--set PATH` twice is a usage error, in a sweep (which had
/// labelled its rows 0 and 5 while solving both at 0.25) and in a solve.
#[test]
fn a_path_set_twice_is_a_usage_error() {
    let dir = plan_dir(TOY);
    let p = "tariff.s301.ad_valorem";
    for args in [
        vec![
            "sweep",
            "plan.toml",
            "--set",
            "tariff.s301.ad_valorem=0,0.5",
            "--set",
            "tariff.s301.ad_valorem=0.25",
        ],
        vec![
            "solve",
            "plan.toml",
            "--set",
            "tariff.s301.ad_valorem=0",
            "--set",
            " tariff.s301.ad_valorem =0.5",
        ],
        vec![
            "compare",
            "plan.toml",
            "--set",
            "tariff.s301.ad_valorem=0",
            "--set",
            "tariff.s301.ad_valorem=0.5",
        ],
    ] {
        let run = run_in(dir.path(), &args);
        assert_eq!(run.code, Some(2), "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains(&format!("--set {p}: given twice")),
            "{args:?}: {}",
            run.stderr
        );
        assert!(run.stdout.is_empty(), "{args:?}");
    }
    // A table and a key inside it: one would replace the other.
    let run = run_in(
        dir.path(),
        &[
            "sweep",
            "plan.toml",
            "--set",
            "mine.m1.grade.NdPr=0.2,0.5",
            "--set",
            "mine.m1.grade={NdPr=0.3}",
        ],
    );
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("--set mine.m1.grade.NdPr and --set mine.m1.grade: one is inside the other"),
        "{}",
        run.stderr
    );
    // Distinct paths on one tariff stay allowed.
    ok(
        dir.path(),
        &[
            "solve",
            "plan.toml",
            "--set",
            "tariff.s301.ad_valorem=0",
            "--set",
            "tariff.s301.per_tonne=5",
        ],
    );
}

/// A value the plan cannot take at a later sweep point keeps its row (with
/// the reason) and makes the run bad input, exit 1, as at point 0.
#[test]
fn a_bad_value_at_any_sweep_point_is_bad_input() {
    let dir = plan_dir(TOY);
    for values in ["-1,500", "500,-1"] {
        let set = format!("mine.m1.capacity={values}");
        let run = run_in(
            dir.path(),
            &["sweep", "plan.toml", "--set", &set, "--format", "csv"],
        );
        assert_eq!(run.code, Some(1), "{values}: {}", run.stderr);
        // A later bad point is solved around: the good point's row and the
        // bad one's reason are both there.
        if values == "500,-1" {
            let lines: Vec<&str> = run.stdout.lines().collect();
            assert!(lines[1].starts_with("0,500,optimal,"), "{}", run.stdout);
            assert!(
                lines[2].starts_with("1,-1,\"error: --set mine.m1.capacity=-1")
                    && lines[2].contains("must be >= 0"),
                "{}",
                run.stdout
            );
        }
    }
}
