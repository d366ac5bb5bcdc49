//! `reeplan explain`: why a plan has no solution and what would fix it.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::{OutputArgs, PlanArgs, SolverArgs};
use crate::error::Error;
use crate::explain;

#[derive(Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    input: PlanArgs,
    /// Explain this scenario of the plan.
    #[arg(long, short = 's', value_name = "NAME")]
    scenario: Option<String>,
    #[command(flatten)]
    output: OutputArgs,
    #[command(flatten)]
    solver: SolverArgs,
}

pub fn run(args: &ExplainArgs) -> Result<ExitCode, Error> {
    let options = args.solver.options()?;
    args.output.check()?;
    let source = super::load(&args.input.plan)?;
    let plan = source.plan_with(args.scenario.as_deref(), &args.input.overrides()?)?;
    let e = explain::explain(&plan, &options)?;
    let json = serde_json::to_value(&e).map_err(|err| Error::Output(format!("JSON: {err}")))?;
    let tables = if e.findings.is_empty() {
        let mut t = crate::report::Table::new(
            "explain",
            format!("{}: {}", e.plan, e.summary.join("; ")),
            &["finding"],
        );
        t.rows
            .push(vec![crate::report::Cell::text(e.summary.join("; "))]);
        vec![t]
    } else {
        let mut tables = vec![crate::report::analysis::explain_table(&e)];
        if !e.iis.is_empty() {
            let mut t = crate::report::Table::new(
                "iis",
                format!(
                    "Irreducible infeasible subset (HiGHS): these cannot all hold; drop any one and the rest can ({} shipment bounds also take part)",
                    e.iis_bounds
                ),
                &["constraint"],
            );
            t.rows.extend(
                e.iis
                    .iter()
                    .map(|c| vec![crate::report::Cell::text(c.clone())]),
            );
            tables.push(t);
        }
        tables
    };
    args.output
        .emit(&tables, &json, &Vec::<(PathBuf, Vec<u8>)>::new())?;
    Ok(if e.status == crate::solve::Status::Infeasible {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}
