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
    /// Ask about these markets only (repeatable or comma-separated): their
    /// shortfalls, and the capacity that would serve them in full. Default:
    /// every market that is short.
    #[arg(long, value_name = "ID", value_delimiter = ',')]
    market: Vec<String>,
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
    let mut asked = Vec::new();
    for m in &args.market {
        match plan.markets.iter().position(|k| &k.id == m) {
            Some(k) => asked.push(k),
            None => {
                let known: Vec<&str> = plan.markets.iter().map(|k| k.id.as_str()).collect();
                return Err(Error::Usage(format!(
                    "--market {m}: no such market (the plan has: {})",
                    known.join(", ")
                )));
            }
        }
    }
    let mut e = explain::explain(&plan, &options)?;
    if !asked.is_empty() {
        // Only the shortfalls of the markets asked about (the causes stay).
        let keep: Vec<bool> = e
            .findings
            .iter()
            .map(|f| match f {
                explain::Finding::Unmet { market, .. }
                | explain::Finding::PaidUnmet { market, .. } => args.market.contains(market),
                _ => true,
            })
            .collect();
        // The summary has a line per finding, then lines of its own.
        let kept = |i: usize| keep.get(i).copied().unwrap_or(true);
        e.findings = std::mem::take(&mut e.findings)
            .into_iter()
            .enumerate()
            .filter_map(|(i, f)| kept(i).then_some(f))
            .collect();
        e.summary = std::mem::take(&mut e.summary)
            .into_iter()
            .enumerate()
            .filter_map(|(i, l)| kept(i).then_some(l))
            .collect();
    } else {
        asked = e.markets_short(&plan);
    }
    if !asked.is_empty() && !e.findings.is_empty() {
        eprintln!("working out the least-cost capacity that would serve the markets short...");
        e.remedy = Some(explain::remedy(&plan, &asked, &options)?);
    }
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
        let mut shown = e.clone();
        if e.remedy.is_some() {
            // The capacity the elastic LP would stretch (27× a plant, a
            // different one each year) is no plan: the remedy's builds are.
            shown
                .findings
                .retain(|f| !matches!(f, explain::Finding::Capacity { .. }));
        }
        let mut tables = vec![crate::report::analysis::explain_table(&shown)];
        if let Some(r) = &e.remedy {
            tables.extend(crate::report::analysis::remedy_tables(&plan, r));
        }
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
