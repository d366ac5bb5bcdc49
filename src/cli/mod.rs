//! The `reeplan` command line: argument definitions (clap derive; each flag
//! defined once drives parsing and `--help`) and one function per command.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod authoring;
mod compare;
mod explain;
mod frontier;
mod generate;
mod output;
mod shard;
mod stress;
mod sweep;

pub use output::{Format, OutputArgs};

use crate::plan::{Objective, Override, Plan, PlanSource};
use crate::report::{self, chart};
use crate::solve::{Algorithm, SolverOptions, Status};
use crate::Error;

/// Plan rare-earth magnet supply from mine to magnet.
///
/// A plan file (TOML) lists mines, separation plants (refineries), magnet
/// plants and markets, with capacities, ramp-ups, costs, transport, tariffs,
/// embargoes and non-China share rules. reeplan builds the linear program of
/// the cheapest (or most resilient) allocation, solves it with HiGHS and
/// prints who supplies whom, year by year, at what cost.
///
/// Exit codes: 0 solved to optimality; 1 invalid plan or I/O error;
/// 2 command-line usage error; 3 infeasible; 4 unbounded, time limit or
/// solver failure.
#[derive(Parser)]
#[command(name = "reeplan", version, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Let plans read [data] CSV files below DIR too (by default a plan
    /// reads CSV files only below its own directory). Repeatable.
    #[arg(long, global = true, value_name = "DIR")]
    data_root: Vec<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Load and validate a plan (and all its scenarios) without solving it.
    ///
    /// Prints a one-screen summary: horizon, facilities per stage and
    /// country, markets, tariffs, embargoes, share rules and scenarios.
    Check {
        /// The plan file (TOML).
        plan: PathBuf,
    },
    /// Solve a plan and print the allocation plan.
    ///
    /// Prints one screen: a summary (status, objective, the cost parts the
    /// plan uses, t delivered, unmet demand, LP size), sourcing per market
    /// (share of its magnets by country mined, separated and made in, in the
    /// key years), the share each stage handles in concern countries, and
    /// what binds (capacities at their limit, share rules with a shadow
    /// price, unmet demand). --detail adds every flow, the utilization of
    /// every facility in use and each share rule per year.
    Solve(SolveArgs),
    /// Solve the base plan and its scenarios and compare them side by side.
    ///
    /// Rows are metrics (status, cost and its parts, cost per t delivered,
    /// unmet demand, each share rule's achieved share, the share of material
    /// mined, separated and made in each country); columns are the base plan
    /// and each scenario, with the difference against the first column.
    Compare(compare::CompareArgs),
    /// Solve one plan per point of a grid of --set values (in parallel) and
    /// print one row per point with the same metrics as `compare`.
    ///
    /// Example: reeplan sweep plan.toml --set tariff.s301.ad_valorem=0:1:0.25
    Sweep(sweep::SweepArgs),
    /// The cost of independence: min cost as a share rule's required share
    /// rises from 0 to the largest feasible value, with its shadow price.
    Frontier(frontier::FrontierArgs),
    /// Why a plan has no solution: what must give (unserved demand, share
    /// rules short) per year, which capacities are the bottleneck and by how
    /// many tonnes, and which embargo cuts the only route.
    ///
    /// Exit code 3 when the plan is infeasible (and explained), 0 when it is
    /// feasible.
    Explain(explain::ExplainArgs),
    /// Stress test: for every single country, facility and listed
    /// disruption, the share of each market's demand still served if it is
    /// lost (with the plan's own throughput, and with all idle capacity),
    /// ranked with the biggest single points of failure first.
    Stress(stress::StressArgs),
    /// Print the JSON Schema of plan files (for editor completion and
    /// checking, e.g. with Taplo / Even Better TOML).
    Schema,
    /// Write a commented starter plan that solves: NAME.toml (default plan.toml).
    Init(authoring::InitArgs),
    /// Write a synthetic but valid plan of a requested size (for tests and
    /// benchmarks); the same seed always gives the same plan.
    Generate(generate::GenerateArgs),
    /// Merge the outputs of a sharded sweep (`--shard`, CSV or JSON lines)
    /// into the unsharded table: one header, rows sorted by point.
    Merge(shard::MergeArgs),
}

/// Settings passed through to HiGHS.
#[derive(Args, Clone)]
pub struct SolverArgs {
    /// Stop HiGHS after this many seconds (status "time-limit", exit code 4).
    #[arg(long, value_name = "SECONDS")]
    time_limit: Option<f64>,
    /// Number of threads HiGHS may use.
    #[arg(long, value_name = "N")]
    threads: Option<u32>,
    /// Show HiGHS's own log on stderr.
    #[arg(long, short = 'v')]
    verbose: bool,
    /// Solve the LP as one, even where it falls apart into independent
    /// blocks (by default each block, e.g. each year, is solved apart and
    /// the blocks side by side).
    #[arg(long)]
    monolithic: bool,
    /// HiGHS's LP algorithm; auto picks by the rule measured in docs/scale.md.
    #[arg(long, value_enum, default_value = "auto")]
    solver: SolverArg,
    /// Set any HiGHS option by its HiGHS name, e.g. presolve=off or
    /// primal_feasibility_tolerance=1e-8; repeatable, applied last.
    #[arg(long = "highs-option", value_name = "KEY=VALUE")]
    highs_option: Vec<String>,
    /// Relative MIP gap at which HiGHS stops, for plans with lumpy builds
    /// (`expand.min_build`); HiGHS's default is 1e-4.
    #[arg(long, value_name = "GAP")]
    mip_gap: Option<f64>,
}

#[derive(Clone, Copy, ValueEnum)]
enum SolverArg {
    Auto,
    Simplex,
    Ipm,
    Pdlp,
}

impl SolverArgs {
    fn options(&self) -> Result<SolverOptions, Error> {
        if let Some(t) = self.time_limit {
            if !(t > 0.0 && t.is_finite()) {
                return Err(Error::Usage(format!(
                    "--time-limit {t}: must be a positive number of seconds"
                )));
            }
        }
        if self.threads == Some(0) {
            return Err(Error::Usage("--threads 0: must be at least 1".into()));
        }
        if let Some(g) = self.mip_gap {
            if !(g >= 0.0 && g.is_finite()) {
                return Err(Error::Usage(format!(
                    "--mip-gap {g}: must be a number >= 0 (e.g. 0.01 for 1 %)"
                )));
            }
        }
        let mut highs_options = Vec::new();
        for kv in &self.highs_option {
            let Some((k, v)) = kv.split_once('=') else {
                return Err(Error::Usage(format!(
                    "--highs-option {kv}: expected KEY=VALUE"
                )));
            };
            let (k, v) = (k.trim(), v.trim());
            // Files are reeplan's to read and write (atomically, never an
            // input): a HiGHS option that reads or writes one is refused.
            if k.contains("file") || k.starts_with("write_") || k.starts_with("read_") {
                return Err(Error::Usage(format!(
                    "--highs-option {kv}: HiGHS options that read or write files are not \
                     passed on (reeplan writes its outputs itself: --write-model, -o)"
                )));
            }
            // HiGHS logs to stdout, where the report goes: its log is
            // --verbose's, sent to stderr.
            if matches!(k, "output_flag" | "log_to_console") {
                return Err(Error::Usage(format!(
                    "--highs-option {kv}: HiGHS's log is shown with --verbose (on stderr, so that the report on stdout stays whole)"
                )));
            }
            crate::solve::check_highs_option(k, v)
                .map_err(|e| Error::Usage(format!("--highs-option {kv}: {e}")))?;
            // Threads: the same limit as --threads (more threads than cores
            // only cost memory; HiGHS may stall starting 100,000).
            let v = if k == "threads" {
                match v.parse::<usize>() {
                    Ok(n) if n > 0 => clamp_threads("--highs-option threads", n).to_string(),
                    _ => v.to_string(),
                }
            } else {
                v.to_string()
            };
            highs_options.push((k.to_string(), v));
        }
        let threads = self
            .threads
            .map(|n| clamp_threads("--threads", n as usize) as u32);
        probe_threads(threads.map_or_else(cores, |n| n as usize))?;
        Ok(SolverOptions {
            time_limit: self.time_limit,
            threads,
            verbose: self.verbose,
            monolithic: self.monolithic,
            algorithm: match self.solver {
                SolverArg::Auto => Algorithm::Auto,
                SolverArg::Simplex => Algorithm::Simplex,
                SolverArg::Ipm => Algorithm::Ipm,
                SolverArg::Pdlp => Algorithm::Pdlp,
            },
            highs_options,
            mip_gap: self.mip_gap,
        })
    }
}

/// The number of cores of this machine: the most threads that help.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// A thread count larger than the number of cores only slows a solve down
/// (and thousands of threads abort HiGHS): clamp it, with a warning.
fn clamp_threads(flag: &str, n: usize) -> usize {
    let max = cores();
    if n > max {
        eprintln!("warning: {flag} {n}: this machine has {max} core(s); using {max}");
        max
    } else {
        n
    }
}

/// Check that `n` threads can be started now, so that a machine (or a
/// `ulimit -u`) that refuses them gives a clear error instead of an abort
/// inside HiGHS or rayon.
fn probe_threads(n: usize) -> Result<(), Error> {
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(n));
    let mut handles = Vec::new();
    let mut failure = None;
    for _ in 1..n {
        let b = std::sync::Arc::clone(&barrier);
        match std::thread::Builder::new().spawn(move || {
            b.wait();
        }) {
            Ok(h) => handles.push(h),
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    if let Some(e) = failure {
        // The threads started wait for ever; the process is about to end.
        return Err(threads_error(n, &e));
    }
    barrier.wait();
    for h in handles {
        let _ = h.join();
    }
    Ok(())
}

fn threads_error(n: usize, e: &dyn std::fmt::Display) -> Error {
    Error::Output(format!(
        "cannot start {n} thread(s): {e} (the system limits threads; lower --threads or --jobs)"
    ))
}

/// Start rayon's pool for commands that solve in parallel (explicitly, so
/// that a refusal is an error, not a panic).
pub(crate) fn start_pool(jobs: Option<usize>) -> Result<rayon::ThreadPool, Error> {
    let n = jobs.map_or_else(cores, |j| clamp_threads("--jobs", j));
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .map_err(|e| threads_error(n, &e))
}

/// Which metrics `compare` shows as rows and `sweep` as columns.
#[derive(Args, Clone)]
pub struct MetricArgs {
    /// Show only these metrics, in this order, by key: e.g.
    /// cost.total,cost.resource,unmet (in every format). An unknown key is
    /// an error that lists the plan's keys.
    #[arg(long, value_name = "KEY,KEY", value_delimiter = ',')]
    pub metrics: Vec<String>,
}

/// Which plan to solve: a file, a scenario of it, and overrides.
#[derive(Args, Clone)]
pub struct PlanArgs {
    /// The plan file (TOML).
    plan: PathBuf,
    /// Change one value of the plan: PATH=VALUE, repeatable. Tables by key,
    /// array entries by id: plan.discount_rate=0.05,
    /// tariff.s301.ad_valorem=0.5, share_rule.dfars.min_share=0.8,
    /// mine.mountain-pass.capacity=60000, market.us.demand.2030=25000.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
}

impl PlanArgs {
    fn overrides(&self) -> Result<Vec<Override>, Error> {
        for s in &self.set {
            warn_if_percent(s);
        }
        let set: Vec<Override> = self
            .set
            .iter()
            .map(|s| Override::parse(s))
            .collect::<Result<_, _>>()?;
        no_repeated_paths("--set", set.iter().map(|o| o.path.as_str()))?;
        Ok(set)
    }
}

/// Whether two `--set` paths set the same value: equal, or one a table the
/// other is inside (`mine.m1.grade` and `mine.m1.grade.NdPr`).
fn overlap(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim(), b.trim());
    a == b || a.starts_with(&format!("{b}.")) || b.starts_with(&format!("{a}."))
}

/// The same `--set PATH` twice, or a table and a key inside it, is a usage
/// error: one of the two values would be silently dropped (and a sweep would
/// label its rows with a value it never solved).
pub(crate) fn no_repeated_paths<'a>(
    flag: &str,
    paths: impl Iterator<Item = &'a str>,
) -> Result<(), Error> {
    let paths: Vec<&str> = paths.collect();
    for (i, a) in paths.iter().enumerate() {
        for b in &paths[..i] {
            if a.trim() == b.trim() {
                return Err(Error::Usage(format!(
                    "{flag} {}: given twice; give each path once",
                    a.trim()
                )));
            }
            if overlap(a, b) {
                return Err(Error::Usage(format!(
                    "{flag} {} and {flag} {}: one is inside the other, so one value would replace the other; give one",
                    b.trim(),
                    a.trim()
                )));
            }
        }
    }
    Ok(())
}

/// A `--set` of the value a command sweeps itself is a usage error (it would
/// be overwritten at every point).
pub(crate) fn not_swept(fixed: &[Override], swept: &str, by: &str) -> Result<(), Error> {
    match fixed.iter().find(|o| overlap(&o.path, swept)) {
        Some(o) => Err(Error::Usage(format!(
            "--set {}: {by} sets {swept} at every point; leave the --set out",
            o.path.trim()
        ))),
        None => Ok(()),
    }
}

/// Fields that hold a share (1 = 100 %) but have no upper bound in the plan
/// format, so that a percent typed by mistake (25 for 25 %) is accepted.
/// (`discount_rate` is not among them: above 1 it is refused at load.)
const SHARE_FIELDS: &[&str] = &["ad_valorem", "reserve_cost", "budget"];

/// Warn on stderr (without refusing it) when `--set PATH=VALUE` gives a
/// share field a value above 1: usually a percent typed by mistake.
pub(crate) fn warn_if_percent(spec: &str) {
    let Some((path, raw)) = spec.split_once('=') else {
        return;
    };
    let Some(field) = path
        .trim()
        .split('.')
        .find(|seg| SHARE_FIELDS.contains(seg))
    else {
        return;
    };
    // Numbers in the value: one number, a list (sweeps), a range or a
    // `{ year = value }` table.
    let values = raw
        .split([',', ':', '{', '}'])
        .filter_map(|part| part.rsplit('=').next())
        .filter_map(|v| v.trim().parse::<f64>().ok());
    if let Some(big) = values.filter(|v| *v > 1.0).reduce(f64::max) {
        eprintln!(
            "warning: --set {}: {field} is a share (1 = 100 %); {big} means {} %. Did you mean {}?",
            spec.trim(),
            big * 100.0,
            big / 100.0
        );
    }
}

#[derive(Args)]
struct SolveArgs {
    #[command(flatten)]
    input: PlanArgs,
    /// Solve this `[scenario.NAME]` of the plan instead of the base plan.
    #[arg(long, short = 's', value_name = "NAME")]
    scenario: Option<String>,
    #[command(flatten)]
    output: OutputArgs,
    /// Override the plan's objective.
    #[arg(long, value_enum)]
    objective: Option<ObjectiveArg>,
    #[command(flatten)]
    solver: SolverArgs,
    /// Also write the exact LP solved (min-cost stage) to FILE; the format
    /// follows the extension: .mps or .lp.
    #[arg(long, value_name = "FILE")]
    write_model: Option<PathBuf>,
    /// Draw the allocation of one year as a flow (Sankey) diagram: mines →
    /// refineries → magnet plants → markets, band width ∝ tonnes, coloured
    /// by country. SVG, or PNG when FILE ends in .png.
    #[arg(long, value_name = "FILE")]
    chart: Option<PathBuf>,
    /// Show only these years (repeatable or comma-separated): in the
    /// sourcing, concern and binds tables, the --detail tables, and the flow
    /// chart (its first year; default: the last year of the plan).
    #[arg(long, value_name = "YEAR", value_delimiter = ',')]
    year: Vec<i64>,
    /// Also print the full tables: every flow (mine → refinery, refinery →
    /// plant per element, plant → market), unmet demand, utilization of
    /// every facility in use and every share rule per year. CSV and xlsx
    /// output always hold them.
    #[arg(long)]
    detail: bool,
    /// Report these markets together in the outside-concern (China-free)
    /// shares, as NAME=MARKET,MARKET (repeatable), e.g.
    /// `--group us=us-defense,us-other`.
    #[arg(long, value_name = "NAME=IDS")]
    group: Vec<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum ObjectiveArg {
    MinCost,
    MaxResilience,
}

impl From<ObjectiveArg> for Objective {
    fn from(o: ObjectiveArg) -> Objective {
        match o {
            ObjectiveArg::MinCost => Objective::MinCost,
            ObjectiveArg::MaxResilience => Objective::MaxResilience,
        }
    }
}

/// Run the command line; returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    crate::fsio::install_signal_handler();
    let result = cli
        .data_root
        .iter()
        .try_for_each(|d| crate::fsio::allow_data_root(d))
        .and_then(|()| run(cli.command));
    match result {
        Ok(code) => code,
        Err(e) => {
            // One "error: " line per problem; a control character from the
            // plan or the command line is shown escaped, never sent raw.
            for line in e.to_string().lines() {
                eprintln!("error: {}", crate::error::escape_controls(line));
            }
            ExitCode::from(match e {
                Error::Usage(_) => 2,
                Error::Solver(_) => 4,
                Error::Plan(_) | Error::Io { .. } | Error::Output(_) | Error::Input(_) => 1,
            })
        }
    }
}

fn run(command: Command) -> Result<ExitCode, Error> {
    match command {
        Command::Check { plan } => check(&plan),
        Command::Solve(args) => solve(&args),
        Command::Compare(args) => compare::run(&args),
        Command::Sweep(args) => sweep::run(&args),
        Command::Frontier(args) => frontier::run(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Schema => authoring::schema(),
        Command::Init(args) => authoring::init(&args),
        Command::Stress(args) => stress::run(&args),
        Command::Generate(args) => generate::run(&args),
        Command::Merge(args) => shard::merge(&args),
    }
}

/// Load a plan, printing its warnings on stderr.
fn load(path: &Path) -> Result<PlanSource, Error> {
    let source = PlanSource::load(path)?;
    for w in &source.warnings {
        eprintln!("warning: {}", crate::error::escape_controls(&w.to_string()));
    }
    Ok(source)
}

fn exit_code(status: Status) -> ExitCode {
    ExitCode::from(match status {
        Status::Optimal => 0,
        Status::Infeasible => 3,
        Status::Unbounded | Status::TimeLimit | Status::Error => 4,
    })
}

fn check(path: &Path) -> Result<ExitCode, Error> {
    let source = load(path)?;
    let plan = source.plan(None)?;
    crate::fsio::print(summary(&plan, &source).as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

fn count_by_country<'a>(countries: impl Iterator<Item = &'a str>) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for c in countries {
        *counts.entry(c).or_default() += 1;
    }
    let total: usize = counts.values().sum();
    if total == 0 {
        return "0".into();
    }
    let parts: Vec<String> = counts.iter().map(|(c, n)| format!("{c} {n}")).collect();
    format!("{total} ({})", parts.join(", "))
}

fn summary(plan: &Plan, source: &PlanSource) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "{}: valid plan \"{}\"\n",
        source.path().display(),
        plan.name
    ));
    s.push_str(&format!(
        "  horizon       {}–{} ({} year{}), objective {}, currency {}{}\n",
        plan.first_year,
        plan.last_year,
        plan.num_years(),
        if plan.num_years() == 1 { "" } else { "s" },
        plan.objective.name(),
        plan.currency,
        if plan.discount_rate > 0.0 {
            format!(", discount rate {} %", plan.discount_rate * 100.0)
        } else {
            String::new()
        }
    ));
    s.push_str(&format!(
        "  elements      {}\n",
        plan.elements
            .iter()
            .map(|e| e.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    s.push_str(&format!("  concern       {}\n", plan.concern.join(", ")));
    s.push_str(&format!(
        "  mines         {}\n",
        count_by_country(plan.mines.iter().map(|m| m.facility.country.as_str()))
    ));
    s.push_str(&format!(
        "  refineries    {}\n",
        count_by_country(plan.refineries.iter().map(|m| m.facility.country.as_str()))
    ));
    s.push_str(&format!(
        "  magnet plants {}\n",
        count_by_country(plan.plants.iter().map(|m| m.facility.country.as_str()))
    ));
    s.push_str(&format!(
        "  markets       {}\n",
        count_by_country(plan.markets.iter().map(|m| m.country.as_str()))
    ));
    let ids = |ids: Vec<String>| {
        if ids.is_empty() {
            String::new()
        } else {
            format!(": {}", ids.join(", "))
        }
    };
    s.push_str(&format!(
        "  tariffs       {}{}\n",
        plan.tariffs.len(),
        ids(plan.tariffs.iter().filter_map(|t| t.id.clone()).collect())
    ));
    s.push_str(&format!(
        "  embargoes     {}{}\n",
        plan.embargoes.len(),
        ids(plan.embargoes.iter().filter_map(|t| t.id.clone()).collect())
    ));
    s.push_str(&format!(
        "  share rules   {}{}\n",
        plan.share_rules.len(),
        ids(plan.share_rules.iter().map(|r| r.id.clone()).collect())
    ));
    s.push_str(&format!(
        "  disruptions   {}{}\n",
        plan.disruptions.len(),
        ids(plan.disruptions.iter().map(|r| r.id.clone()).collect())
    ));
    s.push_str(&format!(
        "  scenarios     {}{}\n",
        source.scenarios.len(),
        ids(source.scenarios.iter().map(|r| r.name.clone()).collect())
    ));
    s
}

/// The front page of `solve --format html`: the executive summary (the
/// outside-concern shares of the groups asked for and the ruled markets),
/// the plan's notes, the glossary, the run; and the charts of the concern
/// countries' share of each stage and of the cost in its three groups,
/// over the years.
fn report_front(
    plan: &Plan,
    outcome: &crate::outcome::Outcome,
    groups: &[(String, Vec<String>)],
    text: &str,
) -> Result<(report::brief::Front, Vec<report::html::Figure>), Error> {
    use report::chart::{AxisFormat, LineChart, Series};
    let mut outside = Vec::new();
    if outcome.cost.is_some() {
        outside = report::glance::outside_concern_shares(plan, outcome, groups);
        outside.retain(|s| report::glance::asked_or_ruled(plan, groups, s));
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
    let command: Vec<String> = std::env::args()
        .skip(1)
        .map(|a| crate::error::escape_controls(&a))
        .collect();
    let about = report::brief::header_comment(text);
    let mut summary = Vec::new();
    if let Some(q) = about.as_deref().and_then(report::brief::question) {
        summary.push(format!("Question: {q}"));
    }
    if let Some(sc) = &plan.scenario {
        summary.push(match &sc.description {
            Some(d) => format!("Scenario {}: {d}", sc.name),
            None => format!("Scenario {}", sc.name),
        });
    }
    summary.extend(report::brief::summary(plan, outcome, &outside));
    let front = report::brief::Front {
        summary,
        about,
        glossary: report::brief::GLOSSARY.to_vec(),
        run: format!(
            "Run: reeplan {} on {} (UTC).",
            command.join(" "),
            report::brief::date_of(now)
        ),
    };
    if outcome.cost.is_none() {
        return Ok((front, Vec::new()));
    }
    let stages = ["t REO mined", "t REO separated", "t magnet made"];
    let series = (0..3)
        .map(|i| Series {
            name: stages[i].to_string(),
            points: plan
                .years()
                .filter_map(|y| {
                    report::glance::concern_shares(plan, outcome, y)[i].map(|s| (y as f64, s))
                })
                .collect(),
        })
        .collect();
    let chart = LineChart {
        title: format!(
            "Share handled in the concern countries ({}), by stage",
            plan.concern.join(", ")
        ),
        x_label: "year".into(),
        y_label: "share of the stage's tonnes".into(),
        x_format: AxisFormat::Plain,
        y_format: AxisFormat::Percent,
        series,
    };
    let svg = report::chart::line_chart(std::path::Path::new("concern.svg"), &chart)?;
    let mut figures = vec![report::html::Figure {
        caption: format!(
            "Share of each stage handled in the concern countries ({}), all markets, {}–{}",
            plan.concern.join(", "),
            plan.first_year,
            plan.last_year
        ),
        svg: String::from_utf8_lossy(&svg).into_owned(),
    }];
    // Cost by year in its three groups (discounted, as the totals).
    let groups = ["resource cost", "transfers", "penalties"];
    let series = (0..3)
        .map(|g| Series {
            name: groups[g].to_string(),
            points: outcome
                .cost_by_year
                .iter()
                .map(|y| (y.year as f64, y.cost.groups()[g].2))
                .collect(),
        })
        .collect();
    let cost_chart = LineChart {
        title: "Cost by year: resource cost, transfers, penalties".into(),
        x_label: "year".into(),
        y_label: format!("{} (discounted)", outcome.currency),
        x_format: AxisFormat::Plain,
        y_format: AxisFormat::Thousands,
        series,
    };
    let svg = report::chart::line_chart(std::path::Path::new("cost.svg"), &cost_chart)?;
    figures.push(report::html::Figure {
        caption: format!(
            "Cost by year in its three groups, {} (discounted): resource cost is what the chain uses up; transfers are tariffs less subsidies; penalties price what did not happen",
            outcome.currency
        ),
        svg: String::from_utf8_lossy(&svg).into_owned(),
    });
    Ok((front, figures))
}

/// `--group NAME=ID,ID`: market groups, each a valid id-like name (not a
/// market id) over markets of the plan, each name once.
fn market_groups(args: &[String], plan: &Plan) -> Result<Vec<(String, Vec<String>)>, Error> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for arg in args {
        let usage = |why: String| Error::Usage(format!("--group {arg}: {why}"));
        let Some((name, ids)) = arg.split_once('=') else {
            return Err(usage("expected NAME=MARKET,MARKET".into()));
        };
        if !crate::plan::is_valid_id(name) {
            return Err(usage(
                "a group name must be 1-64 characters of A-Z a-z 0-9 _ . -".into(),
            ));
        }
        if plan.markets.iter().any(|m| m.id == name) || out.iter().any(|g| g.0 == name) {
            return Err(usage(format!("\"{name}\" is already a market or a group")));
        }
        let mut members = Vec::new();
        for id in ids.split(',').map(str::trim) {
            if !plan.markets.iter().any(|m| m.id == id) {
                let known: Vec<&str> = plan.markets.iter().map(|m| m.id.as_str()).collect();
                return Err(usage(format!(
                    "no market \"{id}\" (the plan has: {})",
                    known.join(", ")
                )));
            }
            if !members.iter().any(|m: &String| m == id) {
                members.push(id.to_string());
            }
        }
        out.push((name.to_string(), members));
    }
    Ok(out)
}

/// `--objective`: the plan's objective for this run, with the check the
/// loader makes of `[plan] objective` (max-resilience needs a disruption).
pub(crate) fn set_objective(
    plan: &mut Plan,
    objective: Objective,
    file: &Path,
) -> Result<(), Error> {
    if objective == Objective::MaxResilience && plan.disruptions.is_empty() {
        return Err(Error::Usage(format!(
            "--objective max-resilience: {} has no [[disruption]] to be resilient against",
            file.display()
        )));
    }
    plan.objective = objective;
    Ok(())
}

fn solve(args: &SolveArgs) -> Result<ExitCode, Error> {
    let options = args.solver.options()?;
    let source = load(&args.input.plan)?;
    let mut plan = source.plan_with(args.scenario.as_deref(), &args.input.overrides()?)?;
    if let Some(o) = args.objective {
        set_objective(&mut plan, o.into(), &args.input.plan)?;
    }
    for &year in &args.year {
        if !(plan.first_year..=plan.last_year).contains(&year) {
            return Err(Error::Usage(format!(
                "--year {year}: the plan covers {}–{}",
                plan.first_year, plan.last_year
            )));
        }
    }
    args.output.check()?;
    let groups = market_groups(&args.group, &plan)?;
    if let Some(path) = &args.chart {
        output::check_chart(path, args.output.out.as_deref())?;
    }
    if let Some(path) = &args.write_model {
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        if !matches!(ext.as_deref(), Some("mps" | "lp")) {
            return Err(Error::Usage(format!(
                "--write-model {}: the model is written as MPS or LP; end the file name with .mps or .lp",
                path.display()
            )));
        }
        crate::fsio::check_target(path)?;
    }
    if let Some(path) = &args.write_model {
        let f = crate::model::formulate(&plan, crate::model::BuildOptions::default());
        crate::solve::write_model(&f.lp, path)?;
    }
    let outcome = crate::solve_plan(&plan, &options)?;
    let view = report::View {
        detail: args.detail || matches!(args.output.format, Format::Csv | Format::Xlsx),
        years: args.year.clone(),
        groups: groups.clone(),
    };
    let tables = report::solve_report(&plan, &outcome, &view);
    let mut json =
        serde_json::to_value(&outcome).map_err(|e| Error::Output(format!("JSON: {e}")))?;
    if outcome.cost.is_some() {
        json["outside_concern"] = serde_json::to_value(report::glance::outside_concern_shares(
            &plan, &outcome, &groups,
        ))
        .map_err(|e| Error::Output(format!("JSON: {e}")))?;
    }
    let mut charts = Vec::new();
    if let Some(path) = &args.chart {
        if outcome.cost.is_some() {
            let year = args.year.first().copied().unwrap_or(plan.last_year);
            charts.push((
                path.clone(),
                chart::flow_chart(&plan, &outcome, year, path)?,
            ));
        } else {
            eprintln!("no chart: the plan has no solution to draw");
        }
    }
    let mut figures = Vec::new();
    let mut front = None;
    if args.output.format == Format::Html {
        let (f, charts) = report_front(&plan, &outcome, &groups, source.text())?;
        front = Some(f);
        figures.extend(charts);
    }
    if args.output.format == Format::Html && outcome.cost.is_some() {
        let year = args.year.first().copied().unwrap_or(plan.last_year);
        figures.push(report::html::Figure {
            caption: format!(
                "Flows in {year}: mines → separation → magnet plants → markets (t REO mined, t REO separated, t magnet made, t magnet delivered)"
            ),
            svg: chart::flow_svg(&plan, &outcome, year)?,
        });
    }
    let title = match &outcome.scenario {
        Some(sc) => format!("{} (scenario {sc})", outcome.plan),
        None => outcome.plan.clone(),
    };
    args.output
        .emit_with_front(&tables, &json, &charts, &title, &figures, front.as_ref())?;
    if outcome.status == Status::Infeasible && plan.objective == Objective::MinCost {
        // The short version of `reeplan explain`, on stderr.
        eprintln!("the plan is infeasible: no allocation meets every demand, capacity, embargo and share rule.");
        match crate::explain::explain(&plan, &options) {
            Ok(e) => {
                for line in e.summary.iter().take(12) {
                    eprintln!("  {line}");
                }
                if e.summary.len() > 12 {
                    eprintln!(
                        "  … {} more: run `reeplan explain` for all",
                        e.summary.len() - 12
                    );
                }
            }
            Err(err) => eprintln!("  (could not explain: {err})"),
        }
    }
    match outcome.status {
        Status::TimeLimit => eprintln!("HiGHS reached the time limit before proving an optimum"),
        Status::Unbounded => eprintln!(
            "HiGHS reports the LP unbounded, which no plan can be (every flow is capped): \
             a numerical failure, also on a second try (interior point for an LP, no presolve \
             for a MIP); the plan's numbers span too many orders of magnitude (see the Matrix \
             and RHS ranges with --verbose)"
        ),
        Status::Error => eprintln!(
            "HiGHS could not solve the LP (numbers too large or too small to handle? check capacities, costs and demands)"
        ),
        _ => {}
    }
    Ok(exit_code(outcome.status))
}
