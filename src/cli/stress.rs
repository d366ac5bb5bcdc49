//! `reeplan stress`: the biggest single points of failure of a plan.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::{ObjectiveArg, OutputArgs, PlanArgs, SolverArgs};
use crate::error::Error;
use crate::solve::Status;
use crate::stress::Allocation;

#[derive(Args)]
pub struct StressArgs {
    #[command(flatten)]
    input: PlanArgs,
    /// Stress this scenario of the plan.
    #[arg(long, short = 's', value_name = "NAME")]
    scenario: Option<String>,
    /// The plan to stress: the min-cost plan (default: the plan's objective).
    #[arg(long, value_enum)]
    objective: Option<ObjectiveArg>,
    /// Show only these markets (repeatable or comma-separated).
    #[arg(long, value_name = "ID", value_delimiter = ',')]
    market: Vec<String>,
    /// Show only the N biggest exposures.
    #[arg(long, value_name = "N")]
    top: Option<usize>,
    /// Give each market all remaining supply to itself (an upper bound per
    /// market). Default: the markets compete for what is left, served as
    /// the plan's objective would (unmet_penalty), the rest shared so the
    /// worst-served market gets the most it can.
    #[arg(long)]
    each_alone: bool,
    #[command(flatten)]
    output: OutputArgs,
    #[command(flatten)]
    solver: SolverArgs,
}

pub fn run(args: &StressArgs) -> Result<ExitCode, Error> {
    if args.top == Some(0) {
        return Err(Error::Usage(
            "--top 0: must be at least 1 (leave it out to show every exposure)".into(),
        ));
    }
    let options = args.solver.options()?;
    args.output.check()?;
    let source = super::load(&args.input.plan)?;
    let mut plan = source.plan_with(args.scenario.as_deref(), &args.input.overrides()?)?;
    if let Some(o) = args.objective {
        super::set_objective(&mut plan, o.into(), &args.input.plan)?;
    }
    for m in &args.market {
        if !plan.markets.iter().any(|k| &k.id == m) {
            let known: Vec<&str> = plan.markets.iter().map(|k| k.id.as_str()).collect();
            return Err(Error::Usage(format!(
                "--market {m}: no such market (the plan has: {})",
                known.join(", ")
            )));
        }
    }
    eprintln!("solving the {} plan...", plan.objective.name());
    let outcome = crate::solve_plan(&plan, &options)?;
    if outcome.status != Status::Optimal {
        eprintln!("the plan is {}: nothing to stress", outcome.status.name());
        return Ok(super::exit_code(outcome.status));
    }
    eprintln!("stressing every country, facility and disruption...");
    for d in &plan.disruptions {
        if d.years
            .is_some_and(|r| r.last < plan.first_year || r.first > plan.last_year)
        {
            eprintln!(
                "note: disruption {} (years {}–{}) lies outside the plan's years {}–{}: nothing to stress",
                d.id,
                d.years.map_or(0, |r| r.first),
                d.years.map_or(0, |r| r.last),
                plan.first_year,
                plan.last_year
            );
        }
    }
    let pool = super::start_pool(None)?;
    let allocation = if args.each_alone {
        Allocation::EachAlone
    } else {
        Allocation::Joint
    };
    let mut exposures =
        pool.install(|| crate::stress::stress(&plan, &outcome, allocation, &options))?;
    if !args.market.is_empty() {
        exposures.retain(|e| args.market.contains(&e.market));
    }
    let table = crate::report::analysis::stress_table(&plan, &exposures, allocation, args.top);
    let json = serde_json::json!({
        "plan": plan.name,
        "objective": plan.objective.name(),
        "allocation": allocation,
        "assumption": allocation.assumption(),
        "exposures": exposures,
    });
    args.output
        .emit(&[table], &json, &Vec::<(PathBuf, Vec<u8>)>::new())?;
    Ok(ExitCode::SUCCESS)
}
