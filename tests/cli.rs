//! The command line, run as a real process: subcommands, output formats,
//! exit codes and files written. Numbers asserted here are the hand-worked
//! optimum of PLAN_FORMAT.md's minimal example (see `common::MINIMAL_OPTIMUM`).

mod common;

use std::path::Path;

use common::{edit, plan_dir, run_in, run_plan, MINIMAL, MINIMAL_OPTIMUM};
use serde_json::Value;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * b.abs().max(1.0)
}

fn json_of(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{stdout}"))
}

fn num(v: &Value, what: &str) -> f64 {
    v.as_f64()
        .unwrap_or_else(|| panic!("{what} is not a number: {v}"))
}

/// The minimal example with no magnet plant capacity: the market's 100 t have
/// no supply, and it has no unmet_penalty.
fn infeasible() -> String {
    edit(MINIMAL, "capacity = 500", "capacity = 0")
}

/// The minimal example with one scenario that makes the magnet plant dearer:
/// 166.67 × 7000 + 100 × 40000 = 5,166,666.67.
fn with_scenario() -> String {
    format!(
        "{MINIMAL}\n[scenario.dear]\ndescription = \"dearer magnets\"\n\n[[scenario.dear.magnet_plant]]\nid = \"p1\"\ncost = 40000\n"
    )
}

// ---------------------------------------------------------------- help and usage

#[test]
fn help_mentions_the_subcommands() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_in(dir.path(), &["--help"]);
    assert_eq!(run.code, Some(0));
    assert!(run.stdout.contains("check"), "{}", run.stdout);
    assert!(run.stdout.contains("solve"), "{}", run.stdout);
    assert!(run.stdout.contains("Usage: reeplan"), "{}", run.stdout);
    // The exit codes are part of the interface.
    assert!(run.stdout.contains("3 infeasible"), "{}", run.stdout);
}

#[test]
fn solve_help_mentions_its_options() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_in(dir.path(), &["solve", "--help"]);
    assert_eq!(run.code, Some(0));
    for flag in [
        "--scenario",
        "--format",
        "--out",
        "--write-model",
        "--time-limit",
    ] {
        assert!(
            run.stdout.contains(flag),
            "{flag} missing from:\n{}",
            run.stdout
        );
    }
}

#[test]
fn unknown_flag_is_a_usage_error() {
    let run = run_plan(MINIMAL, &["solve", "--bogus"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert!(run.stderr.contains("--bogus"), "{}", run.stderr);
}

#[test]
fn unknown_subcommand_and_no_arguments_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(run_in(dir.path(), &["frobnicate"]).code, Some(2));
    assert_eq!(run_in(dir.path(), &[]).code, Some(2));
    assert_eq!(run_in(dir.path(), &["solve"]).code, Some(2));
}

#[test]
fn unknown_format_is_a_usage_error() {
    let run = run_plan(MINIMAL, &["solve", "--format", "yaml"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert_eq!(run.stdout, "");
}

#[test]
fn bad_time_limit_and_threads_are_usage_errors() {
    let run = run_plan(MINIMAL, &["solve", "--time-limit", "0"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "error: --time-limit 0: must be a positive number of seconds\n"
    );
    let run = run_plan(MINIMAL, &["solve", "--threads", "0"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert_eq!(run.stderr, "error: --threads 0: must be at least 1\n");
}

#[test]
fn max_resilience_override_without_disruptions_is_an_error() {
    let run = run_plan(MINIMAL, &["solve", "--objective", "max-resilience"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        "error: --objective max-resilience: plan.toml has no [[disruption]] to be resilient against\n"
    );
}

// ---------------------------------------------------------------- check

#[test]
fn check_prints_the_summary() {
    let run = run_plan(&with_scenario(), &["check"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stderr, "");
    assert_eq!(
        run.stdout,
        "plan.toml: valid plan \"two-stage toy\"\n\
         \x20 horizon       2026–2026 (1 year), objective min-cost, currency USD\n\
         \x20 elements      NdPr\n\
         \x20 concern       CN\n\
         \x20 mines         1 (AU 1)\n\
         \x20 refineries    1 (MY 1)\n\
         \x20 magnet plants 1 (US 1)\n\
         \x20 markets       1 (US 1)\n\
         \x20 tariffs       0\n\
         \x20 embargoes     0\n\
         \x20 share rules   0\n\
         \x20 disruptions   0\n\
         \x20 scenarios     1: dear\n"
    );
}

#[test]
fn check_of_an_invalid_plan_exits_1() {
    let run = run_plan(&edit(MINIMAL, "demand = 100", "demand = -1"), &["check"]);
    assert_eq!(run.code, Some(1));
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.starts_with("error: plan.toml:"),
        "{}",
        run.stderr
    );
}

// ---------------------------------------------------------------- solve, formats

#[test]
fn solve_table_prints_the_hand_worked_objective() {
    let run = run_plan(MINIMAL, &["solve"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stderr, "");
    let line = run
        .stdout
        .lines()
        .find(|l| l.contains("objective value"))
        .unwrap_or_else(|| panic!("no objective line in:\n{}", run.stdout));
    assert!(line.contains("4,166,667"), "{line}");
    assert!(run.stdout.contains("optimal"), "{}", run.stdout);
}

#[test]
fn solve_json_matches_the_contract() {
    let run = run_plan(MINIMAL, &["solve", "--format", "json"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let v = json_of(&run.stdout);
    assert_eq!(v["status"], "optimal");
    assert_eq!(v["objective"], "min-cost");
    let objective = num(&v["objective_value"], "objective_value");
    assert!(
        close(objective, MINIMAL_OPTIMUM),
        "{objective} vs {MINIMAL_OPTIMUM}"
    );
    assert!(close(objective, 4_166_666.67), "{objective}");

    let cost = &v["cost"];
    let total = num(&cost["total"], "cost.total");
    assert!(
        close(total, objective),
        "total {total} vs objective {objective}"
    );
    let parts: f64 = ["production", "transport", "tariffs", "unmet", "reserves"]
        .iter()
        .map(|k| num(&cost[*k], k))
        .sum();
    assert!(close(parts, total), "parts {parts} vs total {total}");
    // No transport, tariffs or shortfall in this plan: all of it is production.
    assert!(close(
        num(&cost["production"], "production"),
        MINIMAL_OPTIMUM
    ));

    let flows = &v["flows"];
    let one = |kind: &str| -> &serde_json::Map<String, Value> {
        let list = flows[kind]
            .as_array()
            .unwrap_or_else(|| panic!("flows.{kind} is not an array"));
        assert_eq!(list.len(), 1, "flows.{kind}: {list:?}");
        list[0].as_object().unwrap()
    };
    fn keys(m: &serde_json::Map<String, Value>) -> Vec<&str> {
        let mut k: Vec<&str> = m.keys().map(|s| s.as_str()).collect();
        k.sort_unstable();
        k
    }

    let c = one("concentrate");
    assert_eq!(keys(c), ["from", "to", "tonnes", "year"]);
    assert_eq!(
        (c["year"].as_i64(), c["from"].as_str(), c["to"].as_str()),
        (Some(2026), Some("m1"), Some("r1"))
    );
    assert!(close(num(&c["tonnes"], "t"), 30.0 / (0.2 * 0.9)));

    let o = one("oxide");
    assert_eq!(keys(o), ["element", "from", "to", "tonnes", "year"]);
    assert_eq!(
        (
            o["year"].as_i64(),
            o["from"].as_str(),
            o["to"].as_str(),
            o["element"].as_str()
        ),
        (Some(2026), Some("r1"), Some("p1"), Some("NdPr"))
    );
    assert!(close(num(&o["tonnes"], "t"), 30.0));

    let z = one("magnet");
    assert_eq!(keys(z), ["from", "to", "tonnes", "year"]);
    assert_eq!(
        (z["year"].as_i64(), z["from"].as_str(), z["to"].as_str()),
        (Some(2026), Some("p1"), Some("us"))
    );
    assert!(close(num(&z["tonnes"], "t"), 100.0));

    assert_eq!(v["unmet"], serde_json::json!([]));
    assert_eq!(v["shares"], serde_json::json!([]));
}

#[test]
fn solve_markdown_prints_pipe_tables() {
    let run = run_plan(MINIMAL, &["solve", "--format", "markdown"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let table_lines = run.stdout.lines().filter(|l| l.starts_with('|')).count();
    assert!(table_lines >= 10, "{}", run.stdout);
    assert!(
        run.stdout.lines().any(|l| l.starts_with("|---")),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("4,166,667"), "{}", run.stdout);
    // No box-drawing characters of the terminal tables.
    assert!(!run.stdout.contains('┌'), "{}", run.stdout);
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn solve_csv_out_writes_one_file_per_table_and_no_temp_files() {
    // How many tables the full report has (CSV always holds the --detail
    // tables), counted from the Markdown rendering.
    let md = run_plan(MINIMAL, &["solve", "--format", "markdown", "--detail"]);
    let tables = md.stdout.lines().filter(|l| l.starts_with("### ")).count();
    assert!(tables >= 4, "{}", md.stdout);

    let dir = plan_dir(MINIMAL);
    let out = dir.path().join("out");
    let run = run_in(
        dir.path(),
        &[
            "solve",
            "plan.toml",
            "--format",
            "csv",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stdout, "");
    let names = entries(&out);
    assert_eq!(names.len(), tables, "{names:?}");
    for name in &names {
        assert!(
            name.ends_with(".csv") && !name.starts_with('.'),
            "unexpected file {name} in {names:?}"
        );
        let text = std::fs::read_to_string(out.join(name)).unwrap();
        assert!(
            text.lines().count() >= 2,
            "{name} has no data rows:\n{text}"
        );
    }
    // Nothing left beside the output directory either.
    assert_eq!(entries(dir.path()), ["out", "plan.toml"]);

    // The concentrate flow appears with its raw number.
    let concentrate = names
        .iter()
        .find(|n| n.contains("concentrate"))
        .expect("a concentrate table");
    let text = std::fs::read_to_string(out.join(concentrate)).unwrap();
    assert!(
        text.contains("m1") && text.contains("r1") && text.contains("166.66"),
        "{text}"
    );

    // Writing again over the same directory works and leaves the same files.
    let run = run_in(
        dir.path(),
        &[
            "solve",
            "plan.toml",
            "--format",
            "csv",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(entries(&out), names);
}

#[cfg(unix)]
#[test]
fn csv_out_files_are_readable_by_others() {
    use std::os::unix::fs::PermissionsExt;
    let dir = plan_dir(MINIMAL);
    let out = dir.path().join("out");
    let run = run_in(
        dir.path(),
        &[
            "solve",
            "plan.toml",
            "--format",
            "csv",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    for name in entries(&out) {
        let mode = std::fs::metadata(out.join(&name))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o044, 0o044, "{name} has mode {mode:o}");
    }
}

#[test]
fn csv_without_out_prints_every_table() {
    let run = run_plan(MINIMAL, &["solve", "--format", "csv"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stdout
            .lines()
            .filter(|l| l.starts_with("# ") && l.ends_with(".csv"))
            .count()
            >= 4
    );
}

#[test]
fn json_out_writes_result_json() {
    let dir = plan_dir(MINIMAL);
    let out = dir.path().join("out");
    let run = run_in(
        dir.path(),
        &[
            "solve",
            "plan.toml",
            "--format",
            "json",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert_eq!(entries(&out), ["result.json"]);
    let v = json_of(&std::fs::read_to_string(out.join("result.json")).unwrap());
    assert!(close(
        num(&v["objective_value"], "objective_value"),
        MINIMAL_OPTIMUM
    ));
}

// ---------------------------------------------------------------- infeasible

#[test]
fn infeasible_plan_exits_3() {
    let run = run_plan(&infeasible(), &["solve"]);
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    assert!(run.stdout.contains("infeasible"), "{}", run.stdout);
    assert!(run.stderr.contains("infeasible"), "{}", run.stderr);
}

#[test]
fn infeasible_plan_still_prints_json() {
    let run = run_plan(&infeasible(), &["solve", "--format", "json"]);
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    assert!(
        run.stdout.contains("\"status\": \"infeasible\""),
        "{}",
        run.stdout
    );
    let v = json_of(&run.stdout);
    assert_eq!(v["status"], "infeasible");
    assert_eq!(v["flows"]["magnet"], serde_json::json!([]));
}

#[test]
fn plan_whose_lp_has_no_columns_is_infeasible() {
    let plan = edit(
        MINIMAL,
        "capacity = 1000\ncost = 2000",
        "capacity = 0\ncost = 2000",
    );
    let run = run_plan(&plan, &["solve", "--format", "json"]);
    assert_eq!(run.code, Some(3), "{}", run.stdout);
    assert_eq!(json_of(&run.stdout)["status"], "infeasible");
}

#[test]
fn unmet_penalty_turns_infeasible_into_a_shortfall() {
    // Same plan, but the market accepts a shortfall at 1e6 per t: nothing can
    // be made, so all 100 t are unmet at a cost of 1e8.
    let plan = edit(
        &infeasible(),
        "demand = 100",
        "demand = 100\nunmet_penalty = 1000000",
    );
    let run = run_plan(&plan, &["solve", "--format", "json"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let v = json_of(&run.stdout);
    assert!(close(num(&v["objective_value"], "objective_value"), 1e8));
    assert!(close(num(&v["cost"]["unmet"], "cost.unmet"), 1e8));
    let unmet = v["unmet"].as_array().unwrap();
    assert_eq!(unmet.len(), 1, "{unmet:?}");
    assert_eq!(unmet[0]["market"], "us");
    assert!(close(num(&unmet[0]["tonnes"], "tonnes"), 100.0));
}

// ---------------------------------------------------------------- scenarios

#[test]
fn unknown_scenario_is_an_error() {
    let run = run_plan(&with_scenario(), &["solve", "--scenario", "nosuch"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        "error: plan.toml: no scenario named \"nosuch\" (known: dear)\n"
    );
}

#[test]
fn scenario_on_a_plan_without_scenarios_is_an_error() {
    let run = run_plan(MINIMAL, &["solve", "--scenario", "nosuch"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "error: plan.toml: no scenario named \"nosuch\" (the plan has no scenarios)\n"
    );
}

#[test]
fn named_scenario_is_solved() {
    let base = json_of(&run_plan(&with_scenario(), &["solve", "--format", "json"]).stdout);
    assert!(close(
        num(&base["objective_value"], "base"),
        MINIMAL_OPTIMUM
    ));

    let run = run_plan(
        &with_scenario(),
        &["solve", "--scenario", "dear", "--format", "json"],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let v = json_of(&run.stdout);
    let expected = 30.0 / (0.2 * 0.9) * 7000.0 + 100.0 * 40000.0;
    assert!(
        close(num(&v["objective_value"], "objective_value"), expected),
        "{}",
        v["objective_value"]
    );
    assert_eq!(v["scenario"], "dear");
}

// ---------------------------------------------------------------- --write-model

#[test]
fn write_model_writes_an_mps_file() {
    let dir = plan_dir(MINIMAL);
    let run = run_in(
        dir.path(),
        &["solve", "plan.toml", "--write-model", "x.mps"],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let mps = std::fs::read_to_string(dir.path().join("x.mps")).expect("x.mps written");
    for section in ["ROWS", "COLUMNS", "RHS", "ENDATA"] {
        assert!(
            mps.lines().any(|l| l.starts_with(section)),
            "no {section} in:\n{mps}"
        );
    }
    // The solve still reports as usual.
    assert!(run.stdout.contains("4,166,667"), "{}", run.stdout);
}

#[test]
fn write_model_writes_an_lp_file() {
    let dir = plan_dir(MINIMAL);
    let run = run_in(dir.path(), &["solve", "plan.toml", "--write-model", "x.lp"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let lp = std::fs::read_to_string(dir.path().join("x.lp")).expect("x.lp written");
    assert!(lp.contains("min"), "{lp}");
    // Mine + refinery cost per t REO, 2000 + 5000, is one objective coefficient.
    assert!(lp.contains("7000"), "{lp}");
}

#[test]
fn a_misspelt_set_path_of_each_kind_of_section_names_its_closest_path() {
    let dir = plan_dir(MINIMAL);
    let transport = "expected transport.domestic.PRODUCT, transport.cross_border.PRODUCT \
                     or transport.lane.FROM.TO.PRODUCT";
    for (set, why, closest) in [
        (
            "plan.discont_rate=0.1",
            "[plan] has no key \"discont_rate\"",
            "plan.discount_rate",
        ),
        (
            "prices.magent=1",
            "[prices] has no key \"magent\"",
            "prices.magnet",
        ),
        (
            "resilence.budget=1",
            "\"resilence\" is not a section of the plan",
            "resilience.budget",
        ),
        (
            "elements.NdPr.prise=1",
            "an element has only a price",
            "elements.NdPr.price",
        ),
        (
            "transport.domstic.oxide=1",
            transport,
            "transport.domestic.oxide",
        ),
        (
            "transport.cross_border.magnit=1",
            transport,
            "transport.cross_border.magnet",
        ),
        (
            "market.us.demnd=1",
            "a market has no key \"demnd\"",
            "market.us.demand",
        ),
        (
            "magnet_plant.p1.recipie.NdPr=1",
            "a magnet_plant has no key \"recipie\"",
            "magnet_plant.p1.recipe",
        ),
    ] {
        let run = run_in(dir.path(), &["solve", "plan.toml", "--set", set]);
        let path = set.split('=').next().unwrap_or_default();
        assert_eq!(run.code, Some(2), "{set}: {}", run.stderr);
        assert_eq!(
            run.stderr,
            format!("error: --set {path}: {why}; the closest valid path is {closest}\n"),
            "{set}"
        );
    }
}

/// A year in a `--set` path written with a leading zero is that year: it
/// replaces the plan's own entry (it had been added beside it, and the
/// plan file was then blamed for "year 2026 is given twice").
#[test]
fn a_set_year_with_a_leading_zero_is_that_year() {
    let plan = edit(MINIMAL, "demand = 100", "demand = { 2026 = 100 }");
    let dir = plan_dir(&plan);
    let objective = |year: &str| {
        let set = format!("market.us.demand.{year}=50");
        let run = run_in(
            dir.path(),
            &["solve", "plan.toml", "--format", "json", "--set", &set],
        );
        assert_eq!(run.code, Some(0), "{year}: {}", run.stderr);
        num(&json_of(&run.stdout)["objective_value"], "objective_value")
    };
    // Demand 50 instead of 100: every cost of MINIMAL is per t, so half
    // its optimum (tests/common: 30 t NdPr at 100 t demand).
    let at_2026 = objective("2026");
    assert!(close(at_2026, MINIMAL_OPTIMUM / 2.0), "{at_2026}");
    assert!(close(objective("02026"), MINIMAL_OPTIMUM / 2.0));
}
