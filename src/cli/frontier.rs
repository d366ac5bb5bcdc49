//! `reeplan frontier`: the cost of independence. Min cost as one share
//! rule's required share rises from 0 to the largest feasible value, with
//! the shadow price (cost of one more percentage point) at each point.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use rayon::prelude::*;

use super::{OutputArgs, PlanArgs, SolverArgs};
use crate::error::Error;
use crate::plan::{Objective, Override, PlanSource};
use crate::report::chart::{self, AxisFormat, LineChart, Series};
use crate::report::{Cell, Table};
use crate::solve::{SolverOptions, Status};
use crate::Outcome;

#[derive(Args)]
pub struct FrontierArgs {
    #[command(flatten)]
    input: PlanArgs,
    /// The share rule whose required share is raised (its min_share is set
    /// to the same value in every year the rule applies).
    #[arg(long, value_name = "ID")]
    rule: String,
    /// Number of steps between 0 and the largest feasible share.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1000))]
    steps: u32,
    /// Use this scenario of the plan.
    #[arg(long, short = 's', value_name = "NAME")]
    scenario: Option<String>,
    /// Draw cost and shadow price against the required share: SVG, or PNG
    /// when FILE ends in .png.
    #[arg(long, value_name = "FILE")]
    chart: Option<PathBuf>,
    #[command(flatten)]
    output: OutputArgs,
    #[command(flatten)]
    solver: SolverArgs,
}

struct Point {
    share: f64,
    outcome: Outcome,
}

pub fn run(args: &FrontierArgs) -> Result<ExitCode, Error> {
    let options = args.solver.options()?;
    args.output.check()?;
    let source = PlanSource::load(&args.input.plan)?;
    let fixed = args.input.overrides()?;
    let base = source.plan_with(args.scenario.as_deref(), &fixed)?;
    if !base.share_rules.iter().any(|r| r.id == args.rule) {
        let known: Vec<&str> = base.share_rules.iter().map(|r| r.id.as_str()).collect();
        return Err(Error::Usage(format!(
            "--rule {}: no such share rule (the plan has: {})",
            args.rule,
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        )));
    }
    if base.objective != Objective::MinCost {
        eprintln!("note: the frontier is drawn for the min-cost objective");
    }
    let solve_at = |share: f64, options: &SolverOptions| -> Result<Outcome, Error> {
        let mut overrides = fixed.clone();
        overrides.push(Override::parse(&format!(
            "share_rule.{}.min_share={share}",
            args.rule
        ))?);
        let mut plan = source.plan_with(args.scenario.as_deref(), &overrides)?;
        plan.objective = Objective::MinCost;
        crate::solve_plan(&plan, options)
    };
    let zero = solve_at(0.0, &options)?;
    if zero.status != Status::Optimal {
        return Err(Error::Solver(format!(
            "the plan is {} even with the rule at 0 %; nothing to draw",
            zero.status.name()
        )));
    }
    // The largest feasible share, by bisection (feasibility is monotone).
    let mut s_max = 1.0;
    if solve_at(1.0, &options)?.status != Status::Optimal {
        let (mut lo, mut hi) = (0.0f64, 1.0f64);
        eprintln!(
            "finding the largest feasible share of rule {}...",
            args.rule
        );
        while hi - lo > 1e-4 {
            let mid = (lo + hi) / 2.0;
            if solve_at(mid, &options)?.status == Status::Optimal {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        s_max = (lo * 1e4).floor() / 1e4;
    }
    let steps = args.steps as usize;
    let mut one_thread = options.clone();
    if one_thread.threads.is_none() {
        one_thread.threads = Some(1);
    }
    let points: Vec<Point> = (0..=steps)
        .into_par_iter()
        .map(|i| {
            let share = s_max * i as f64 / steps as f64;
            solve_at(share, &one_thread).map(|outcome| Point { share, outcome })
        })
        .collect::<Result<_, _>>()?;

    let cur = &base.currency;
    let cost_header = format!("total cost ({cur})");
    let delta_header = format!("added cost vs 0 % ({cur})");
    let price_header = format!("shadow price ({cur} per pp)");
    let mut table = Table::new(
        "frontier",
        format!(
            "Cost of independence: rule {} from 0 % to {:.1} % (largest feasible share)",
            args.rule,
            s_max * 100.0
        ),
        &[
            "required share",
            "status",
            &cost_header,
            &delta_header,
            &price_header,
            "achieved share",
        ],
    );
    let zero_cost = zero.cost.as_ref().map_or(0.0, |c| c.total);
    let mut cost_pts = Vec::new();
    let mut price_pts = Vec::new();
    for p in &points {
        let rows: Vec<_> = p
            .outcome
            .shares
            .iter()
            .filter(|s| s.rule == args.rule)
            .collect();
        let price: f64 = rows.iter().filter_map(|s| s.shadow_price).sum();
        let delivered: f64 = rows.iter().map(|s| s.delivered).sum();
        let clean: f64 = rows
            .iter()
            .map(|s| s.achieved.unwrap_or(0.0) * s.delivered)
            .sum();
        let cost = p.outcome.cost.as_ref().map(|c| c.total);
        if let Some(c) = cost {
            cost_pts.push((p.share, c));
            price_pts.push((p.share, price));
        }
        table.rows.push(vec![
            Cell::Percent(p.share),
            Cell::text(p.outcome.status.name()),
            cost.map_or(Cell::Empty, Cell::money),
            cost.map_or(Cell::Empty, |c| Cell::money(c - zero_cost)),
            if cost.is_some() {
                Cell::money(price)
            } else {
                Cell::Empty
            },
            if delivered > 0.0 {
                Cell::Percent(clean / delivered)
            } else {
                Cell::Empty
            },
        ]);
    }
    let mut charts = Vec::new();
    if let Some(path) = &args.chart {
        let panels = [
            LineChart {
                title: format!("Cost of independence: rule {}", args.rule),
                x_label: format!("required share of rule {}", args.rule),
                y_label: cost_header.clone(),
                x_format: AxisFormat::Percent,
                y_format: AxisFormat::Thousands,
                series: vec![Series {
                    name: "min total cost".into(),
                    points: cost_pts,
                }],
            },
            LineChart {
                title: "Cost of one more percentage point".into(),
                x_label: format!("required share of rule {}", args.rule),
                y_label: price_header.clone(),
                x_format: AxisFormat::Percent,
                y_format: AxisFormat::Thousands,
                series: vec![Series {
                    name: "shadow price".into(),
                    points: price_pts,
                }],
            },
        ];
        charts.push((path.clone(), chart::panels(path, &panels)?));
    }
    let json = serde_json::json!({
        "rule": args.rule,
        "largest_feasible_share": s_max,
        "points": points.iter().map(|p| {
            let rows: Vec<_> = p.outcome.shares.iter().filter(|s| s.rule == args.rule).collect();
            serde_json::json!({
                "required": p.share,
                "status": p.outcome.status.name(),
                "cost": p.outcome.cost.as_ref().map(|c| c.total),
                "shadow_price": rows.iter().filter_map(|s| s.shadow_price).sum::<f64>(),
            })
        }).collect::<Vec<_>>(),
    });
    args.output.emit(&[table], &json, &charts)?;
    Ok(ExitCode::SUCCESS)
}
