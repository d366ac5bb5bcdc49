//! Independent blocks solved apart give what one solve of the whole LP
//! gives: `--monolithic` against the default split on generated plans, the
//! shipped models and the hand plans of tests/plans.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use reeplan::generate::{generate_plan, GenerateParams};
use reeplan::model::{formulate, BuildOptions};
use reeplan::plan::{Plan, PlanSource};
use reeplan::solve::{blocks, SolverOptions, Status};
use reeplan::Outcome;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn options(monolithic: bool) -> SolverOptions {
    SolverOptions {
        monolithic,
        ..Default::default()
    }
}

fn both(plan: &Plan) -> (Outcome, Outcome) {
    let split = reeplan::solve_plan(plan, &options(false)).expect("split solve");
    let whole = reeplan::solve_plan(plan, &options(true)).expect("monolithic solve");
    (split, whole)
}

fn close(what: &str, a: f64, b: f64, rel: f64) {
    assert!(
        (a - b).abs() <= rel * a.abs().max(b.abs()).max(1.0),
        "{what}: split {a} vs monolithic {b}"
    );
}

/// Quantities every optimum shares: the objective, the total cost, and per
/// year the tonnes delivered and unmet.
fn same_unique(name: &str, split: &Outcome, whole: &Outcome) {
    assert_eq!(split.status, whole.status, "{name}");
    if whole.status != Status::Optimal {
        return;
    }
    close(
        &format!("{name}: objective"),
        split.objective_value.unwrap(),
        whole.objective_value.unwrap(),
        1e-9,
    );
    let (a, b) = (split.cost.as_ref().unwrap(), whole.cost.as_ref().unwrap());
    close(&format!("{name}: total cost"), a.total, b.total, 1e-9);
    let per_year = |o: &Outcome| {
        let mut m: BTreeMap<i64, (f64, f64)> = BTreeMap::new();
        for f in &o.flows.magnet {
            m.entry(f.year).or_default().0 += f.tonnes;
        }
        for u in &o.unmet {
            m.entry(u.year).or_default().1 += u.tonnes;
        }
        m
    };
    let (pa, pb) = (per_year(split), per_year(whole));
    assert_eq!(
        pa.keys().collect::<Vec<_>>(),
        pb.keys().collect::<Vec<_>>(),
        "{name}"
    );
    for (y, (d, u)) in &pa {
        close(&format!("{name}: {y} delivered"), *d, pb[y].0, 1e-7);
        close(&format!("{name}: {y} unmet"), *u, pb[y].1, 1e-7);
    }
}

/// Flows and shadow prices, for plans whose optimum is unique; with
/// `upstream` false only the magnet flows (the hand plans mostly cost
/// nothing upstream, so their concentrate and oxide flows are not unique).
fn same_flows_and_duals(name: &str, split: &Outcome, whole: &Outcome, upstream: bool) {
    let flows = |o: &Outcome| -> Vec<(i64, String, String, String, f64)> {
        let mut v = Vec::new();
        for f in o.flows.concentrate.iter().filter(|_| upstream) {
            v.push((
                f.year,
                f.from.clone(),
                f.to.clone(),
                String::new(),
                f.tonnes,
            ));
        }
        for f in o.flows.oxide.iter().filter(|_| upstream) {
            v.push((
                f.year,
                f.from.clone(),
                f.to.clone(),
                f.element.clone(),
                f.tonnes,
            ));
        }
        for f in &o.flows.magnet {
            v.push((
                f.year,
                f.from.clone(),
                f.to.clone(),
                "magnet".into(),
                f.tonnes,
            ));
        }
        v
    };
    let (fa, fb) = (flows(split), flows(whole));
    assert_eq!(fa.len(), fb.len(), "{name}: flows {fa:?} vs {fb:?}");
    for (a, b) in fa.iter().zip(&fb) {
        assert_eq!((a.0, &a.1, &a.2, &a.3), (b.0, &b.1, &b.2, &b.3), "{name}");
        close(&format!("{name}: flow {a:?}"), a.4, b.4, 1e-7);
    }
    assert_eq!(split.shares.len(), whole.shares.len(), "{name}");
    for (a, b) in split.shares.iter().zip(&whole.shares) {
        assert_eq!((&a.rule, a.year), (&b.rule, b.year), "{name}");
        close(
            &format!("{name}: shadow price {} {}", a.rule, a.year),
            a.shadow_price.unwrap_or(0.0),
            b.shadow_price.unwrap_or(0.0),
            1e-7,
        );
    }
    let stages = |u: &&reeplan::outcome::Utilization| upstream || u.stage == "magnet";
    for (a, b) in split
        .utilization
        .iter()
        .filter(stages)
        .zip(whole.utilization.iter().filter(stages))
    {
        close(
            &format!("{name}: throughput {} {}", a.facility, a.year),
            a.throughput,
            b.throughput,
            1e-7,
        );
    }
}

fn load(path: &Path) -> (PlanSource, Plan) {
    let source = PlanSource::load(path).unwrap_or_else(|e| panic!("{e}"));
    let plan = source.plan(None).unwrap_or_else(|e| panic!("{e}"));
    (source, plan)
}

#[test]
fn generated_plans_split_into_one_block_per_year_and_agree() {
    for seed in 1..=6 {
        let years = 2 + seed as usize % 4;
        let params = GenerateParams {
            mines: 5 + seed as usize,
            refineries: 3,
            plants: 4,
            markets: 3,
            years,
            elements: 1 + seed as usize % 3,
            seed,
        };
        let text = generate_plan(&params);
        let plan = PlanSource::from_text(Path::new("generated.toml"), text)
            .and_then(|s| s.plan(None))
            .unwrap_or_else(|e| panic!("{e}"));
        // No row of the formulation holds columns of two years, and within
        // a year every column reaches a demand row: one block per year.
        let lp = formulate(&plan, BuildOptions::default()).lp;
        assert_eq!(blocks(&lp).blocks.len(), years, "seed {seed}");
        let (split, whole) = both(&plan);
        assert_eq!(whole.status, Status::Optimal, "seed {seed}");
        same_unique(&format!("seed {seed}"), &split, &whole);
        // Flows are not compared: generated plans share transport costs
        // between markets of a country, so their optima are degenerate
        // (measured: seed 1 routes the same tonnes to other markets).
    }
}

#[test]
fn shipped_models_agree() {
    let mut seen = 0;
    for entry in std::fs::read_dir(root().join("models")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let (source, base) = load(&path);
        let mut plans = vec![base];
        for s in &source.scenarios {
            plans.push(source.plan(Some(&s.name)).unwrap());
        }
        for plan in plans {
            let name = format!(
                "{} {:?}",
                path.display(),
                plan.scenario.as_ref().map(|s| &s.name)
            );
            let (split, whole) = both(&plan);
            same_unique(&name, &split, &whole);
            if let (Some(a), Some(b)) = (&split.resilience, &whole.resilience) {
                close(&format!("{name}: min cost"), a.min_cost, b.min_cost, 1e-9);
            }
            seen += 1;
        }
    }
    assert!(seen >= 7);
}

#[test]
fn hand_plans_agree_in_flows_and_duals() {
    let mut paths: Vec<_> = std::fs::read_dir(root().join("tests/plans"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    let mut infeasible = 0;
    for path in &paths {
        let (_, plan) = load(path);
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let (split, whole) = both(&plan);
        same_unique(&name, &split, &whole);
        same_flows_and_duals(&name, &split, &whole, false);
        if whole.status == Status::Infeasible {
            infeasible += 1;
        }
    }
    // 16_infeasible and 29_infeasible_no_route.
    assert_eq!(infeasible, 2);
}

/// Two copies of the minimal example in two years, one of them short of
/// capacity: infeasible split or not, and `explain` still finds why.
#[test]
fn an_infeasible_year_makes_the_plan_infeasible_and_explain_works() {
    let path = root().join("tests/plans/16_infeasible.toml");
    let (_, plan) = load(&path);
    let (split, whole) = both(&plan);
    assert_eq!(split.status, Status::Infeasible);
    assert_eq!(whole.status, Status::Infeasible);
    let e = reeplan::explain::explain(&plan, &options(false)).unwrap();
    let m = reeplan::explain::explain(&plan, &options(true)).unwrap();
    assert!(!e.summary.is_empty());
    assert_eq!(e.summary.len(), m.summary.len());
}

#[test]
fn a_time_limit_already_spent_ends_in_time_limit() {
    let text = generate_plan(&GenerateParams {
        mines: 30,
        refineries: 15,
        plants: 25,
        markets: 8,
        years: 4,
        elements: 3,
        seed: 3,
    });
    let plan = PlanSource::from_text(Path::new("generated.toml"), text)
        .and_then(|s| s.plan(None))
        .unwrap();
    let out = reeplan::solve_plan(
        &plan,
        &SolverOptions {
            time_limit: Some(1e-9),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(out.status, Status::TimeLimit);
}

// ---------------------------------------------------------------- command line

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_reeplan"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn objective_of(stdout: &str) -> f64 {
    let v: serde_json::Value = serde_json::from_str(stdout).expect("JSON");
    v["objective_value"].as_f64().expect("objective")
}

#[test]
fn solver_flags_reach_highs() {
    let plan = root().join("tests/plans/07_discounting.toml");
    let plan = plan.to_str().unwrap();
    let base = run(&["solve", plan, "--format", "json", "--monolithic"]);
    assert_eq!(base.0, Some(0), "{}", base.2);
    let want = objective_of(&base.1);
    for extra in [
        vec!["--solver", "simplex"],
        vec!["--solver", "ipm"],
        vec!["--solver", "auto"],
        vec![
            "--highs-option",
            "presolve=off",
            "--highs-option",
            "simplex_strategy=4",
        ],
        vec!["--mip-gap", "0.01"],
    ] {
        let mut args = vec!["solve", plan, "--format", "json"];
        args.extend(&extra);
        let (code, out, err) = run(&args);
        assert_eq!(code, Some(0), "{extra:?}: {err}");
        close(&format!("{extra:?}"), objective_of(&out), want, 1e-7);
    }
    // PDLP is a first-order method: optimal to its own, looser tolerance.
    let (code, out, err) = run(&["solve", plan, "--format", "json", "--solver", "pdlp"]);
    assert_eq!(code, Some(0), "{err}");
    close("pdlp", objective_of(&out), want, 1e-3);
}

#[test]
fn wrong_solver_flags_are_usage_errors() {
    let plan = root().join("tests/plans/01_minimal.toml");
    let plan = plan.to_str().unwrap();
    for (args, says) in [
        (
            vec!["--highs-option", "no_such_option=1"],
            "HiGHS has no option named \"no_such_option\"",
        ),
        (
            vec!["--highs-option", "presolve=sometimes"],
            "HiGHS rejected presolve=\"sometimes\"",
        ),
        (
            vec!["--highs-option", "time_limit=soon"],
            "expected a number",
        ),
        (vec!["--highs-option", "presolve"], "expected KEY=VALUE"),
        // Options that read or write files (fuzzing found solution_file
        // overwriting the plan itself).
        (
            vec![
                "--highs-option",
                "write_solution_to_file=true",
                "--highs-option",
                "solution_file=plan.toml",
            ],
            "HiGHS options that read or write files are not passed on",
        ),
        (
            vec!["--highs-option", "read_solution_file=/etc/passwd"],
            "HiGHS options that read or write files are not passed on",
        ),
        (
            vec!["--highs-option", "log_file=x.log"],
            "HiGHS options that read or write files are not passed on",
        ),
        // HiGHS's log would land on stdout, in the report.
        (
            vec!["--highs-option", "output_flag=true"],
            "HiGHS's log is shown with --verbose",
        ),
        (
            vec!["--mip-gap=-0.1"],
            "--mip-gap -0.1: must be a number >= 0",
        ),
        (vec!["--solver", "barrier"], "invalid value 'barrier'"),
    ] {
        let mut all = vec!["solve", plan];
        all.extend(&args);
        let (code, _, err) = run(&all);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

/// `--highs-option threads=N` is held to the machine's cores, as `--threads`
/// is (100,000 threads had stalled HiGHS past 30 s).
#[test]
fn highs_option_threads_is_clamped_like_threads() {
    let plan = root().join("tests/plans/01_minimal.toml");
    let (code, _, err) = run(&[
        "solve",
        plan.to_str().unwrap(),
        "--highs-option",
        "threads=100000",
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("warning: --highs-option threads 100000: this machine has"),
        "{err}"
    );
}

#[test]
fn write_model_still_writes_the_whole_lp() {
    let dir = tempfile::tempdir().unwrap();
    let plan = root().join("tests/plans/07_discounting.toml");
    let (a, b) = (dir.path().join("split.lp"), dir.path().join("whole.lp"));
    for (file, extra) in [(&a, None), (&b, Some("--monolithic"))] {
        let mut args = vec![
            "solve".to_string(),
            plan.to_string_lossy().into_owned(),
            "--write-model".into(),
            file.to_string_lossy().into_owned(),
        ];
        args.extend(extra.map(String::from));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, _, err) = run(&refs);
        assert_eq!(code, Some(0), "{err}");
    }
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
}
