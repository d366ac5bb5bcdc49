//! Scale benchmark: how much of a solve is reeplan's own work, and how much
//! is HiGHS's.
//!
//!     cargo bench --bench scale
//!     REEPLAN_BENCH_SIZES=small,medium cargo bench --bench scale
//!
//! For generated plans of about 1e4, 1e5 and 1e6 LP columns it runs, each in
//! a child process of its own (so each gets its own peak memory):
//!
//! 1. the tool, phase by phase, as `reeplan solve` runs it: load+validate the
//!    plan file, build the LP, copy it into HiGHS, HiGHS's solve, read the
//!    solution back into an `Outcome`, render the reports (terminal tables
//!    and JSON, written to files);
//! 2. HiGHS alone on the same LP, read from an MPS file written by
//!    `reeplan::solve::write_model` (`Highs_readModel` + `Highs_run`): the
//!    floor for any tool built on HiGHS.
//!
//! and prints one table. `REEPLAN_BENCH_SIZES=probe` prints only the LP size
//! of each generated plan (no solve).
//!
//! `REEPLAN_BENCH_SIZES=split` compares, on plans that fall apart into one
//! block per year, reeplan end to end (blocks solved apart, side by side)
//! against HiGHS alone on the MPS reeplan writes, over alternating runs
//! (`REEPLAN_BENCH_RUNS`, default 3; `REEPLAN_BENCH_SPLIT=split-small,split-9y`
//! picks the plans among split-small, split-9y, split-wide and split-large,
//! issue 14's 961,786-column plan, ~20 minutes a run), with each run's peak
//! memory.
//!
//! `REEPLAN_BENCH_SIZES=sweep` times a 20-point tariff sweep cold, rebuilt
//! from the first point's basis and in live models (see `sweep_gain`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use reeplan::generate::{generate_plan, GenerateParams};
use reeplan::model::{formulate, BuildOptions};
use reeplan::plan::PlanSource;
use reeplan::report::{render_table, solve_tables};
use reeplan::solve::{self, SolverOptions};

/// The generated plans, named for the order of magnitude of their columns.
fn sizes() -> Vec<(&'static str, GenerateParams)> {
    let params = |mines, refineries, plants, markets, years| GenerateParams {
        mines,
        refineries,
        plants,
        markets,
        years,
        elements: 3,
        seed: 7,
    };
    vec![
        ("small", params(22, 11, 18, 8, 5)),
        ("medium", params(55, 26, 45, 16, 10)),
        ("large", params(125, 80, 125, 30, 15)),
    ]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--child-tool") => return child_tool(&args[1], Path::new(&args[2])),
        Some("--child-highs") => return child_highs(Path::new(&args[1])),
        _ => {}
    }
    let wanted = std::env::var("REEPLAN_BENCH_SIZES").unwrap_or_default();
    if wanted == "probe" {
        return probe();
    }
    if wanted == "sweep" {
        return sweep_gain();
    }
    if wanted == "split" {
        return split_gain();
    }
    let wanted: Vec<&str> = wanted.split(',').filter(|s| !s.is_empty()).collect();
    let selected: Vec<_> = sizes()
        .into_iter()
        .filter(|(name, _)| wanted.is_empty() || wanted.contains(name))
        .collect();
    if selected.is_empty() {
        eprintln!(
            "REEPLAN_BENCH_SIZES={wanted:?}: known sizes are small, medium, large (or probe)"
        );
        std::process::exit(2);
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    let exe = std::env::current_exe().expect("own path");
    println!(
        "reeplan scale benchmark: {} cores, HiGHS defaults (output off)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let mut results = Vec::new();
    for (name, params) in selected {
        let work = dir.path().join(name);
        std::fs::create_dir_all(&work).expect("work directory");
        eprintln!("[{name}] tool …");
        let tool = run_child(&exe, &["--child-tool", name, &work.to_string_lossy()]);
        eprintln!("[{name}] {}", tool.line());
        let mps = work.join("model.mps");
        eprintln!("[{name}] HiGHS alone on {} …", mps.display());
        let highs = run_child(&exe, &["--child-highs", &mps.to_string_lossy()]);
        eprintln!("[{name}] {}", highs.line());
        let (a, b) = (tool.get("objective"), highs.get("objective"));
        if (a - b).abs() > 1e-6 * a.abs().max(1.0) {
            eprintln!("[{name}] WARNING: objectives differ: tool {a}, HiGHS alone {b}");
        }
        results.push((name, params, tool, highs));
    }
    print_table(&results);
}

/// Plans for the split comparison: years that share no row.
fn split_sizes() -> Vec<(&'static str, GenerateParams)> {
    let params = |mines, refineries, plants, markets, years| GenerateParams {
        mines,
        refineries,
        plants,
        markets,
        years,
        elements: 3,
        seed: 7,
    };
    vec![
        ("split-small", params(40, 20, 40, 10, 6)),
        (
            "split-9y",
            params(SPLIT_9Y.0, SPLIT_9Y.1, SPLIT_9Y.2, SPLIT_9Y.3, 9),
        ),
        // Few, wide years: 191,192 columns in 4 blocks of ~48,000, where
        // `--solver auto` solves each block with the interior-point method.
        ("split-wide", params(120, 60, 120, 20, 4)),
        // Issue 14's 961,786-column, 15-year plan (`reeplan generate
        // --mines 125 --refineries 80 --plants 125 --markets 30 --years 15
        // --seed 7`); one HiGHS-alone run takes ~1,000 s.
        ("split-large", params(125, 80, 125, 30, 15)),
    ]
}

/// Mines, refineries, plants and markets of the 9-year plan: 213,634
/// columns × 13,907 rows (the size of issue 14's 212,749 × 12,542).
const SPLIT_9Y: (usize, usize, usize, usize) = (60, 60, 60, 30);

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// reeplan end to end (split) against HiGHS alone on the written MPS, in
/// alternating runs, each in a child process of its own.
fn split_gain() {
    let runs: usize = std::env::var("REEPLAN_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    let wanted = std::env::var("REEPLAN_BENCH_SPLIT").unwrap_or_default();
    let wanted: Vec<&str> = wanted.split(',').filter(|s| !s.is_empty()).collect();
    let dir = tempfile::tempdir().expect("temporary directory");
    let exe = std::env::current_exe().expect("own path");
    println!(
        "split vs HiGHS alone: {} cores, {runs} alternating runs each",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    for (name, params) in split_sizes() {
        if !wanted.is_empty() && !wanted.contains(&name) {
            continue;
        }
        let work = dir.path().join(name);
        std::fs::create_dir_all(&work).expect("work directory");
        let w = work.to_string_lossy().into_owned();
        let mps = work.join("model.mps").to_string_lossy().into_owned();
        let (mut tool_t, mut highs_t, mut ratio, mut tool_m, mut highs_m) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut info = None;
        for run in 0..runs {
            let tool = run_child(&exe, &["--child-tool", name, &w]);
            let highs = run_child(&exe, &["--child-highs", &mps]);
            let (a, b) = (tool.get("objective"), highs.get("objective"));
            if (a - b).abs() > 1e-6 * a.abs().max(1.0) {
                eprintln!("[{name}] WARNING: objectives differ: tool {a}, HiGHS alone {b}");
            }
            let t = tool.get("total");
            let h = highs.get("read") + highs.get("run");
            eprintln!(
                "[{name}] run {run}: reeplan {t:.2} s ({:.0} MB), HiGHS alone {h:.2} s ({:.0} MB), ×{:.2}",
                tool.get("peak_mib"),
                highs.get("peak_mib"),
                h / t
            );
            tool_t.push(t);
            highs_t.push(h);
            ratio.push(h / t);
            tool_m.push(tool.get("peak_mib"));
            highs_m.push(highs.get("peak_mib"));
            info = Some(tool);
        }
        let info = info.expect("one run");
        println!(
            "{name}: {params:?}
  {} columns × {} rows, {} blocks: reeplan {:.2} s, HiGHS alone (MPS read + solve) {:.2} s; speed-up median ×{:.2} (min {:.2}, max {:.2}); peak MB reeplan {:.0}, HiGHS alone {:.0} (×{:.2})",
            info.get("columns"),
            info.get("rows"),
            info.get("blocks"),
            median(&mut tool_t),
            median(&mut highs_t),
            median(&mut ratio.clone()),
            ratio.iter().copied().fold(f64::INFINITY, f64::min),
            ratio.iter().copied().fold(0.0, f64::max),
            median(&mut tool_m.clone()),
            median(&mut highs_m.clone()),
            median(&mut tool_m) / median(&mut highs_m),
        );
    }
}

/// The gain of warm starts and live models on a 20-point tariff sweep of a
/// generated plan (about 1e5 columns), one point after the other on one
/// thread, in four modes: every point from scratch (cold); rebuilt and
/// started from the first point's optimal basis (`--rebuild`); live models,
/// going on from the previous point (`reeplan sweep`'s default); live
/// models reset to the first point's basis at every point. The modes
/// alternate over `REEPLAN_BENCH_RUNS` runs (default 3; medians printed).
///
/// `REEPLAN_BENCH_SWEEP=us-301` (default) sweeps the US duty on Chinese
/// magnets 0..0.95, which moves no flow of this plan (every point is
/// optimal at the first point's basis); `cn-export` sweeps China's export
/// duty on Dy oxide 0..190,000 per t, which moves flows at every step.
/// `REEPLAN_BENCH_SWEEP_COLD=0` leaves out the cold mode (the slowest).
fn sweep_gain() {
    use reeplan::plan::{Override, PlanSource};
    use reeplan::solve::SolverOptions;
    let params = GenerateParams {
        mines: 60,
        refineries: 30,
        plants: 60,
        markets: 10,
        years: 10,
        elements: 3,
        seed: 7,
    };
    let text = reeplan::generate::generate_plan(&params);
    let source =
        PlanSource::from_text(Path::new("sweep.toml"), text).expect("generated plan loads");
    let options = SolverOptions {
        threads: Some(1),
        ..Default::default()
    };
    let which = std::env::var("REEPLAN_BENCH_SWEEP").unwrap_or_else(|_| "us-301".into());
    let (path, step) = match which.as_str() {
        "us-301" => ("tariff.us_301_magnets.ad_valorem", 0.05),
        "cn-export" => ("tariff.cn_export_dy.per_tonne", 10_000.0),
        other => panic!("REEPLAN_BENCH_SWEEP={other:?}: known sweeps are us-301, cn-export"),
    };
    let runs: usize = std::env::var("REEPLAN_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let plans: Vec<_> = (0..20)
        .map(|i| {
            let o = Override::parse(&format!("{path}={}", i as f64 * step)).expect("override");
            source.plan_with(None, &[o]).expect("plan")
        })
        .collect();
    let modes = ["cold", "rebuilt", "live", "live-reset"];
    let skip_cold = std::env::var("REEPLAN_BENCH_SWEEP_COLD").as_deref() == Ok("0");
    let mut costs = vec![Vec::new(); modes.len()];
    let mut times = vec![Vec::new(); modes.len()];
    for _ in 0..runs {
        for (mode, name) in modes.iter().enumerate() {
            if *name == "cold" && skip_cold {
                continue;
            }
            let t = Instant::now();
            // The first point's solve is part of every warm mode's time.
            let mut anchor = None;
            if *name != "cold" {
                reeplan::outcome::solve_plan_warm(&plans[0], &options, &mut anchor).expect("solve");
            }
            let mut live = reeplan::solve::LiveModels::new(*name == "live-reset");
            costs[mode].clear();
            for plan in &plans {
                let mut warm = anchor.clone();
                let out = if name.starts_with("live") {
                    reeplan::outcome::solve_plan_live(plan, &options, &mut warm, &mut live)
                } else {
                    reeplan::outcome::solve_plan_warm(plan, &options, &mut warm)
                }
                .expect("solve");
                costs[mode].push(out.objective_value.unwrap_or(f64::NAN));
            }
            times[mode].push(secs(t.elapsed()));
            if name.starts_with("live") {
                eprintln!(
                    "{name}: {} block solves changed a live model, {} passed a new one",
                    live.updated(),
                    live.passed()
                );
            }
        }
    }
    let median = |v: &[f64]| -> f64 {
        if v.is_empty() {
            return f64::NAN;
        }
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let reference = usize::from(skip_cold);
    let same = costs.iter().filter(|c| !c.is_empty()).all(|c| {
        c.iter()
            .zip(&costs[reference])
            .all(|(a, b)| (a - b).abs() <= 1e-6 * a.abs().max(1.0))
    });
    let t: Vec<f64> = times.iter().map(|v| median(v)).collect();
    let lp = reeplan::model::formulate(&plans[0], Default::default()).lp;
    println!(
        "20-point sweep of {path} (step {step}), {} columns × {} rows, 1 thread, median of {runs} alternating runs: cold {:.2} s, rebuilt from the first basis {:.2} s, live models {:.2} s, live models reset to the first basis {:.2} s; live vs rebuilt {:.2}×; optima identical: {same}",
        lp.num_cols(),
        lp.num_rows(),
        t[0],
        t[1],
        t[2],
        t[3],
        t[1] / t[2],
    );
    for (name, v) in modes.iter().zip(&times) {
        eprintln!("  {name}: {v:.2?} s");
    }
}

/// Key-value results a child prints on its last line: `RESULT k=v k=v …`.
struct Measured(Vec<(String, f64)>);

impl Measured {
    fn get(&self, key: &str) -> f64 {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map_or(f64::NAN, |(_, v)| *v)
    }

    fn line(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn run_child(exe: &Path, args: &[&str]) -> Measured {
    let out = Command::new(exe)
        .args(args)
        .output()
        .expect("run the benchmark's child process");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let Some(line) = stdout.lines().rev().find(|l| l.starts_with("RESULT ")) else {
        panic!(
            "child {args:?} failed ({}):\n{}\n{}",
            out.status,
            stdout,
            String::from_utf8_lossy(&out.stderr)
        );
    };
    Measured(
        line["RESULT ".len()..]
            .split_whitespace()
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.parse().unwrap_or(f64::NAN)))
            .collect(),
    )
}

fn report(values: &[(&str, f64)]) {
    let kv: Vec<String> = values.iter().map(|(k, v)| format!("{k}={v}")).collect();
    println!("RESULT {}", kv.join(" "));
}

/// Peak resident memory of this process so far, in MiB (`VmHWM`).
fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// The tool's pipeline on one generated plan, timed per phase.
fn child_tool(size: &str, work: &Path) {
    let params = sizes()
        .into_iter()
        .chain(split_sizes())
        .find(|(n, _)| *n == size)
        .map(|(_, p)| p)
        .expect("known size");
    let plan_path = work.join("plan.toml");
    std::fs::write(&plan_path, generate_plan(&params)).expect("write the plan");

    let t0 = Instant::now();
    let source = PlanSource::load(&plan_path).unwrap_or_else(|e| panic!("{e}"));
    let plan = source.plan(None).unwrap_or_else(|e| panic!("{e}"));
    let load = t0.elapsed();

    // What `reeplan solve` does: build, solve and read back in one call; the
    // solver records when its own steps ended.
    let t1 = Instant::now();
    let outcome = reeplan::solve_plan(&plan, &SolverOptions::default()).unwrap();
    let t2 = Instant::now();
    let st = solve::last_solve_times().expect("solve ran");
    let build = st.started - t1;
    let pass = st.passed - st.started;
    let highs = st.solved - st.passed;
    let extract = (st.finished - st.solved) + (t2 - st.finished);

    let t3 = Instant::now();
    let tables = solve_tables(&plan, &outcome);
    let text = render_table(&tables);
    let json = serde_json::to_string_pretty(&outcome).unwrap();
    std::fs::write(work.join("report.txt"), text).unwrap();
    std::fs::write(work.join("result.json"), json).unwrap();
    let render = t3.elapsed();
    let peak = peak_mib();
    let total = t3.elapsed() + (t3 - t0);

    // The exact LP solved, for HiGHS alone (after the peak was read).
    let size = outcome.lp_size;
    let objective = outcome.objective_value.unwrap_or(f64::NAN);
    drop((tables, outcome, source));
    let f = formulate(&plan, BuildOptions::default());
    let blocks = solve::blocks(&f.lp).blocks.len();
    solve::write_model(&f.lp, &work.join("model.mps")).unwrap();

    report(&[
        ("columns", size.columns as f64),
        ("rows", size.rows as f64),
        ("nonzeros", size.nonzeros as f64),
        ("load", secs(load)),
        ("build", secs(build)),
        ("pass", secs(pass)),
        ("highs", secs(highs)),
        ("extract", secs(extract)),
        ("report", secs(render)),
        ("total", secs(total)),
        ("peak_mib", peak),
        ("objective", objective),
        ("blocks", blocks as f64),
    ]);
}

/// HiGHS by itself: read the MPS file and solve it, nothing else.
fn child_highs(mps: &Path) {
    use highs_sys::*;
    let name = std::ffi::CString::new(mps.to_string_lossy().as_bytes()).unwrap();
    let flag = std::ffi::CString::new("output_flag").unwrap();
    // SAFETY: one HiGHS instance, used and destroyed on this thread; the
    // strings are NUL-terminated and outlive the calls.
    let (read, run, objective, status) = unsafe {
        let highs = Highs_create();
        Highs_setBoolOptionValue(highs, flag.as_ptr(), 0);
        let t0 = Instant::now();
        assert_ne!(Highs_readModel(highs, name.as_ptr()), STATUS_ERROR);
        let t1 = Instant::now();
        assert_ne!(Highs_run(highs), STATUS_ERROR);
        let t2 = Instant::now();
        let objective = Highs_getObjectiveValue(highs);
        let status = Highs_getModelStatus(highs);
        Highs_destroy(highs);
        (t1 - t0, t2 - t1, objective, status)
    };
    report(&[
        ("read", secs(read)),
        ("run", secs(run)),
        ("peak_mib", peak_mib()),
        ("objective", objective),
        ("status", f64::from(status)),
    ]);
}

/// Only the LP sizes and build times of the generated plans.
fn probe() {
    for (name, params) in sizes().into_iter().chain(split_sizes()) {
        let text = generate_plan(&params);
        let plan = PlanSource::from_text(&PathBuf::from("probe.toml"), text)
            .and_then(|s| s.plan(None))
            .unwrap_or_else(|e| panic!("{e}"));
        let t = Instant::now();
        let f = formulate(&plan, BuildOptions::default());
        println!(
            "{name:>6}: {params:?}\n        {} columns, {} rows, {} nonzeros, built in {:.3} s",
            f.lp.num_cols(),
            f.lp.num_rows(),
            f.lp.num_nonzeros(),
            t.elapsed().as_secs_f64()
        );
    }
}

fn print_table(results: &[(&str, GenerateParams, Measured, Measured)]) {
    println!();
    println!(
        "{:<7} {:>9} {:>8} {:>9} | {:>7} {:>7} {:>7} {:>9} {:>7} {:>7} | {:>9} {:>8} | {:>7} {:>9} {:>8} | {:>8} {:>7} {:>6}",
        "size", "columns", "rows", "nonzeros",
        "load", "build", "pass", "HiGHS", "extract", "report",
        "total", "peak MB",
        "MPS rd", "HiGHS run", "peak MB",
        "overhead", "e2e/H", "mem/H",
    );
    for (name, _, t, h) in results {
        let overhead =
            t.get("load") + t.get("build") + t.get("pass") + t.get("extract") + t.get("report");
        println!(
            "{:<7} {:>9} {:>8} {:>9} | {:>7.3} {:>7.3} {:>7.3} {:>9.2} {:>7.3} {:>7.3} | {:>9.2} {:>8.0} | {:>7.2} {:>9.2} {:>8.0} | {:>7.2}% {:>7.3} {:>6.2}",
            name,
            t.get("columns"),
            t.get("rows"),
            t.get("nonzeros"),
            t.get("load"),
            t.get("build"),
            t.get("pass"),
            t.get("highs"),
            t.get("extract"),
            t.get("report"),
            t.get("total"),
            t.get("peak_mib"),
            h.get("read"),
            h.get("run"),
            h.get("peak_mib"),
            100.0 * overhead / t.get("highs"),
            t.get("total") / h.get("run"),
            t.get("peak_mib") / h.get("peak_mib"),
        );
    }
    println!();
    println!("times in seconds; overhead = everything but HiGHS's solve, as a share of it;");
    println!("e2e/H = tool end to end over HiGHS alone (run only, MPS read not counted);");
    println!("mem/H = tool peak memory over HiGHS alone's.");
    println!("LP build per nonzero:");
    for (name, _, t, _) in results {
        println!(
            "  {name:<7} {:>8.1} ns/nonzero ({:.3} s for {} nonzeros)",
            1e9 * t.get("build") / t.get("nonzeros"),
            t.get("build"),
            t.get("nonzeros")
        );
    }
}
