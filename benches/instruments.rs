//! Benchmark of plans with build decisions: a generated plan with
//! `--instruments` (build candidates, contracts, credits, stockpiles: one LP
//! over the horizon), as an LP and as a MIP (`--lumpy`: a third of the
//! builds have `min_build`), reeplan end to end against HiGHS alone on the
//! MPS reeplan writes, three alternating runs each (medians).
//!
//!     cargo bench --bench instruments                       # ~1e5 columns
//!     REEPLAN_BENCH_INSTRUMENTS=small cargo bench --bench instruments
//!
//! Figures: seconds (median of 3), the MIP gap HiGHS reached and its node
//! count, the objective of both (they must agree to the MIP gap).

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use reeplan::generate::{generate_plan_with, GenerateParams, Instruments};
use reeplan::model::{formulate, BuildOptions};
use reeplan::plan::PlanSource;
use reeplan::solve::{self, SolverOptions};

fn params(small: bool) -> GenerateParams {
    let (mines, refineries, plants, markets, years) = if small {
        (22, 11, 18, 8, 5)
    } else {
        (55, 26, 45, 16, 10)
    };
    GenerateParams {
        mines,
        refineries,
        plants,
        markets,
        years,
        ..GenerateParams::default()
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--child-highs") {
        return child_highs(Path::new(&args[1]), args.get(2).map(String::as_str));
    }
    let small = std::env::var("REEPLAN_BENCH_INSTRUMENTS").is_ok_and(|v| v == "small");
    let dir = tempfile::tempdir().expect("temp dir");
    println!("| plan | columns | rows | integer | reeplan (s) | HiGHS alone (s) | ratio | HiGHS alone, solver=ipm (s) | MIP gap | nodes | objective reeplan | objective HiGHS |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for lumpy in [false, true] {
        let text = generate_plan_with(&params(small), Some(Instruments { lumpy }));
        let path = dir.path().join(if lumpy { "mip.toml" } else { "lp.toml" });
        std::fs::write(&path, &text).expect("write plan");
        let plan = PlanSource::load(&path)
            .and_then(|s| s.plan(None))
            .unwrap_or_else(|e| panic!("{e}"));
        let f = formulate(&plan, BuildOptions::default());
        let mps = dir.path().join(if lumpy { "mip.mps" } else { "lp.mps" });
        solve::write_model(&f.lp, &mps).unwrap_or_else(|e| panic!("{e}"));
        let (mut ours, mut theirs, mut theirs_ipm) = (Vec::new(), Vec::new(), Vec::new());
        let (mut obj_ours, mut obj_theirs, mut gap, mut nodes) = (0.0, 0.0, 0.0, 0);
        for _ in 0..3 {
            // reeplan end to end: load, validate, build, solve (MIP and the
            // fixed LP for duals), read back.
            let t = Instant::now();
            let plan = PlanSource::load(&path)
                .and_then(|s| s.plan(None))
                .unwrap_or_else(|e| panic!("{e}"));
            let o = reeplan::solve_plan(&plan, &SolverOptions::default())
                .unwrap_or_else(|e| panic!("{e}"));
            ours.push(t.elapsed().as_secs_f64());
            obj_ours = o.objective_value.unwrap_or(f64::NAN);
            if let Some(m) = o.mip {
                gap = m.gap;
                nodes = m.nodes;
            }
            let t = Instant::now();
            let out = Command::new(std::env::current_exe().expect("exe"))
                .args(["--child-highs", &mps.to_string_lossy()])
                .output()
                .expect("child");
            theirs.push(t.elapsed().as_secs_f64());
            // HiGHS alone with the algorithm reeplan's `auto` picks for a
            // large LP (for a MIP, `solver` would change what is solved).
            if !lumpy {
                let t = Instant::now();
                Command::new(std::env::current_exe().expect("exe"))
                    .args(["--child-highs", &mps.to_string_lossy(), "ipm"])
                    .output()
                    .expect("child");
                theirs_ipm.push(t.elapsed().as_secs_f64());
            }
            obj_theirs = String::from_utf8_lossy(&out.stdout)
                .trim()
                .parse()
                .unwrap_or(f64::NAN);
        }
        let (a, b) = (median(&mut ours), median(&mut theirs));
        let ipm = if theirs_ipm.is_empty() {
            "–".to_string()
        } else {
            format!("{:.2}", median(&mut theirs_ipm))
        };
        println!(
            "| {} | {} | {} | {} | {a:.2} | {b:.2} | {:.2} | {ipm} | {} | {} | {obj_ours:.0} | {obj_theirs:.0} |",
            if lumpy { "MIP (--lumpy)" } else { "LP" },
            f.lp.num_cols(),
            f.lp.num_rows(),
            f.lp.integer_cols.len(),
            a / b,
            if lumpy { format!("{:.2e}", gap) } else { "–".into() },
            if lumpy { nodes.to_string() } else { "–".into() },
        );
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// HiGHS alone: read the MPS, solve (with `solver` set when given), print
/// the objective.
fn child_highs(mps: &Path, solver: Option<&str>) {
    use highs_sys::*;
    let name = std::ffi::CString::new(mps.to_string_lossy().as_bytes()).expect("path");
    let flag = std::ffi::CString::new("output_flag").expect("name");
    // SAFETY: one HiGHS instance, used and destroyed on this thread; the
    // strings are NUL-terminated and outlive the calls.
    let objective = unsafe {
        let highs = Highs_create();
        Highs_setBoolOptionValue(highs, flag.as_ptr(), 0);
        if let Some(v) = solver {
            let key = std::ffi::CString::new("solver").expect("name");
            let value = std::ffi::CString::new(v).expect("value");
            Highs_setStringOptionValue(highs, key.as_ptr(), value.as_ptr());
        }
        assert_ne!(Highs_readModel(highs, name.as_ptr()), STATUS_ERROR);
        assert_ne!(Highs_run(highs), STATUS_ERROR);
        let objective = Highs_getObjectiveValue(highs);
        Highs_destroy(highs);
        objective
    };
    println!("{objective}");
}
