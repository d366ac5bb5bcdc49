//! The `reeplan` command line: argument definitions (clap derive; each flag
//! defined once drives parsing and `--help`) and one function per command.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::plan::{Objective, Plan, PlanSource};
use crate::report::{self, render_csv_files, render_markdown, render_table, write_atomically};
use crate::solve::{SolverOptions, Status};
use crate::{Error, Outcome};

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
    /// Prints a summary (status, objective, cost by component), flows per
    /// year (mine → refinery, refinery → magnet plant per element, plant →
    /// market), facility utilization and each share rule's required vs
    /// achieved share with its shadow price.
    Solve(SolveArgs),
}

#[derive(Args)]
struct SolveArgs {
    /// The plan file (TOML).
    plan: PathBuf,
    /// Solve this `[scenario.NAME]` of the plan instead of the base plan.
    #[arg(long, short = 's', value_name = "NAME")]
    scenario: Option<String>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Write the report into this directory (one CSV file per table with
    /// `--format csv`; report.txt, report.md or result.json otherwise).
    /// Files appear whole or not at all.
    #[arg(long, short = 'o', value_name = "DIR")]
    out: Option<PathBuf>,
    /// Override the plan's objective.
    #[arg(long, value_enum)]
    objective: Option<ObjectiveArg>,
    /// Stop HiGHS after this many seconds (status "time-limit", exit code 4).
    #[arg(long, value_name = "SECONDS")]
    time_limit: Option<f64>,
    /// Number of threads HiGHS may use.
    #[arg(long, value_name = "N")]
    threads: Option<u32>,
    /// Show HiGHS's own log on stderr.
    #[arg(long, short = 'v')]
    verbose: bool,
    /// Also write the exact LP solved (min-cost stage) to FILE; the format
    /// follows the extension: .mps or .lp.
    #[arg(long, value_name = "FILE")]
    write_model: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Format {
    /// Tables for the terminal.
    Table,
    /// The JSON object of FORMULATION.md, for tools.
    Json,
    /// GitHub-flavoured Markdown tables, for reports.
    Markdown,
    /// CSV with raw numbers, for spreadsheets.
    Csv,
}

#[derive(Clone, Copy, ValueEnum)]
enum ObjectiveArg {
    MinCost,
    MaxResilience,
}

/// Run the command line; returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check { plan } => check(&plan),
        Command::Solve(args) => solve(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(match e {
                Error::Usage(_) => 2,
                Error::Solver(_) => 4,
                Error::Plan(_) | Error::Io { .. } => 1,
            })
        }
    }
}

fn exit_code(status: Status) -> ExitCode {
    ExitCode::from(match status {
        Status::Optimal => 0,
        Status::Infeasible => 3,
        Status::Unbounded | Status::TimeLimit | Status::Error => 4,
    })
}

fn check(path: &Path) -> Result<ExitCode, Error> {
    let source = PlanSource::load(path)?;
    let plan = source.plan(None)?;
    print!("{}", summary(&plan, &source));
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
        "  horizon       {}–{} ({} years), objective {}, currency {}{}\n",
        plan.first_year,
        plan.last_year,
        plan.num_years(),
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

fn solve(args: &SolveArgs) -> Result<ExitCode, Error> {
    if let Some(t) = args.time_limit {
        if !(t > 0.0 && t.is_finite()) {
            return Err(Error::Usage(format!(
                "--time-limit {t}: must be a positive number of seconds"
            )));
        }
    }
    if args.threads == Some(0) {
        return Err(Error::Usage("--threads 0: must be at least 1".into()));
    }
    let source = PlanSource::load(&args.plan)?;
    let mut plan = source.plan(args.scenario.as_deref())?;
    if let Some(o) = args.objective {
        plan.objective = match o {
            ObjectiveArg::MinCost => Objective::MinCost,
            ObjectiveArg::MaxResilience => Objective::MaxResilience,
        };
        if plan.objective == Objective::MaxResilience && plan.disruptions.is_empty() {
            return Err(Error::Usage(format!(
                "--objective max-resilience: {} has no [[disruption]] to be resilient against",
                args.plan.display()
            )));
        }
    }
    if let Some(path) = &args.write_model {
        let f = crate::model::formulate(&plan, crate::model::BuildOptions::default());
        crate::solve::write_model(&f.lp, path)?;
    }
    let options = SolverOptions {
        time_limit: args.time_limit,
        threads: args.threads,
        verbose: args.verbose,
    };
    let outcome = crate::solve_plan(&plan, &options)?;
    emit(args, &plan, &outcome)?;
    if outcome.status == Status::Infeasible && args.format != Format::Json {
        eprintln!(
            "the plan is infeasible: no allocation meets every demand, capacity, embargo and share rule. \
             Give markets an unmet_penalty to see the shortfall."
        );
    }
    Ok(exit_code(outcome.status))
}

fn emit(args: &SolveArgs, plan: &Plan, outcome: &Outcome) -> Result<(), Error> {
    let tables = report::solve_tables(plan, outcome);
    let json = || {
        serde_json::to_string_pretty(outcome)
            .map(|s| s + "\n")
            .map_err(|e| Error::Solver(format!("JSON: {e}")))
    };
    let (text, file_name) = match args.format {
        Format::Table => (render_table(&tables), "report.txt"),
        Format::Markdown => (render_markdown(&tables), "report.md"),
        Format::Json => (json()?, "result.json"),
        Format::Csv => {
            let files = render_csv_files(&tables)?;
            match &args.out {
                Some(dir) => {
                    let written = write_atomically(dir, &files)?;
                    eprintln!("wrote {} CSV files to {}", written.len(), dir.display());
                }
                None => {
                    let mut stdout = std::io::stdout().lock();
                    for (i, (name, bytes)) in files.iter().enumerate() {
                        let sep = if i > 0 { "\n" } else { "" };
                        let _ = write!(stdout, "{sep}# {name}\n");
                        let _ = stdout.write_all(bytes);
                    }
                }
            }
            return Ok(());
        }
    };
    match &args.out {
        Some(dir) => {
            let written = write_atomically(dir, &[(file_name.to_string(), text.into_bytes())])?;
            eprintln!("wrote {}", written[0].display());
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(text.as_bytes());
        }
    }
    Ok(())
}
