//! `reeplan frontier`: the cost of independence. Min cost as one share
//! rule's required share rises from 0 to the largest feasible value, with
//! the shadow price (cost of one more percentage point) at each point;
//! or, under max-resilience, λ* against the budget (`--budget`) or against
//! a stockpile's capacity or floor (`--stockpile`: how big the reserve
//! should be).

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
    #[arg(
        long,
        value_name = "ID",
        required_unless_present_any = ["budget", "stockpile"],
        conflicts_with_all = ["budget", "stockpile"]
    )]
    rule: Option<String>,
    /// Instead: the budget curve of max-resilience, λ* (worst-case share of
    /// demand served under the plan's disruptions) for budgets
    /// START:STOP:STEP, e.g. 0:0.5:0.05.
    #[arg(long, value_name = "START:STOP:STEP", conflicts_with = "stockpile")]
    budget: Option<String>,
    /// Instead: the reserve-sizing curve, λ* and plan cost under
    /// max-resilience as one stockpile's capacity or min_level (t, the same
    /// in every year) runs over START:STOP:STEP, e.g.
    /// us-tb-reserve.capacity=0:120:20. Shows what each extra t of reserve
    /// buys in λ* and what it costs.
    #[arg(long, value_name = "ID.KEY=START:STOP:STEP")]
    stockpile: Option<String>,
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
    let pool = super::start_pool(None)?;
    pool.install(|| run_in_pool(args, options))
}

fn run_in_pool(args: &FrontierArgs, options: SolverOptions) -> Result<ExitCode, Error> {
    args.output.check()?;
    if let Some(path) = &args.chart {
        super::output::check_chart(path, args.output.out.as_deref())?;
    }
    let source = super::load(&args.input.plan)?;
    let fixed = args.input.overrides()?;
    let base = source.plan_with(args.scenario.as_deref(), &fixed)?;
    if let Some(spec) = &args.stockpile {
        return stock_curve(args, &source, &fixed, spec, &options);
    }
    let rule = match (&args.rule, &args.budget) {
        (_, Some(range)) => return budget_curve(args, &source, &fixed, range, &options),
        (Some(rule), None) => rule.clone(),
        (None, None) => {
            return Err(Error::Usage(
                "give --rule ID or --budget START:STOP:STEP".into(),
            ))
        }
    };
    let args_rule = &rule;
    super::not_swept(&fixed, &format!("share_rule.{rule}.min_share"), "--rule")?;
    if !base.share_rules.iter().any(|r| &r.id == args_rule) {
        let known: Vec<&str> = base.share_rules.iter().map(|r| r.id.as_str()).collect();
        return Err(Error::Usage(format!(
            "--rule {}: no such share rule (the plan has: {})",
            args_rule,
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
            args_rule
        ))?);
        let mut plan = source.plan_with(args.scenario.as_deref(), &overrides)?;
        plan.objective = Objective::MinCost;
        crate::solve_plan(&plan, options)
    };
    let zero = solve_at(0.0, &options)?;
    if zero.status != Status::Optimal {
        // Infeasible is an answer (exit 3), not a solver failure.
        eprintln!(
            "error: the plan is {} even with the rule at 0 %; nothing to draw",
            zero.status.name()
        );
        return Ok(super::exit_code(zero.status));
    }
    // The largest feasible share, by bisection (feasibility is monotone).
    let mut s_max = 1.0;
    if solve_at(1.0, &options)?.status != Status::Optimal {
        let (mut lo, mut hi) = (0.0f64, 1.0f64);
        eprintln!(
            "finding the largest feasible share of rule {}...",
            args_rule
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
    // The cost of independence is what the chain uses up on top of the 0 %
    // plan; transfers and penalties stand beside it, never inside it.
    let delta_headers = [
        format!("+ resource cost vs 0 % ({cur})"),
        format!("+ transfers vs 0 % ({cur})"),
        format!("+ penalties vs 0 % ({cur})"),
    ];
    let price_header = format!("shadow price ({cur} per pp)");
    let mut table = Table::new(
        "frontier",
        format!(
            "Cost of independence: rule {} from 0 % to {:.1} % (largest feasible share)",
            args_rule,
            s_max * 100.0
        ),
        &[
            "required share",
            "status",
            &cost_header,
            &delta_headers[0],
            &delta_headers[1],
            &delta_headers[2],
            &price_header,
            "achieved share",
        ],
    );
    let zero_groups = zero.cost.as_ref().map(|c| c.groups());
    let mut cost_pts = Vec::new();
    let mut price_pts = Vec::new();
    for p in &points {
        let rows: Vec<_> = p
            .outcome
            .shares
            .iter()
            .filter(|s| s.rule == *args_rule)
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
        let mut row = vec![
            Cell::Setting(p.share),
            Cell::text(p.outcome.status.name()),
            cost.map_or(Cell::Empty, Cell::money),
        ];
        for g in 0..3 {
            row.push(match (&p.outcome.cost, &zero_groups) {
                (Some(c), Some(z)) => Cell::money(c.groups()[g].2 - z[g].2),
                _ => Cell::Empty,
            });
        }
        row.extend([
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
        table.rows.push(row);
    }
    let panels = [
        LineChart {
            title: format!("Cost of independence: rule {}", args_rule),
            x_label: format!("required share of rule {}", args_rule),
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
            x_label: format!("required share of rule {}", args_rule),
            y_label: price_header.clone(),
            x_format: AxisFormat::Percent,
            y_format: AxisFormat::Thousands,
            series: vec![Series {
                name: "shadow price".into(),
                points: price_pts,
            }],
        },
    ];
    let mut charts = Vec::new();
    if let Some(path) = &args.chart {
        charts.push((path.clone(), chart::panels(path, &panels)?));
    }
    let figures = html_figures(
        args,
        &format!("Cost of independence: rule {args_rule}"),
        &panels,
    )?;
    let json = serde_json::json!({
        "rule": args_rule,
        "largest_feasible_share": s_max,
        "points": points.iter().map(|p| {
            let rows: Vec<_> = p.outcome.shares.iter().filter(|s| s.rule == *args_rule).collect();
            serde_json::json!({
                "required": p.share,
                "status": p.outcome.status.name(),
                "cost": p.outcome.cost.as_ref().map(|c| c.total),
                "resource": p.outcome.cost.as_ref().map(|c| c.resource),
                "transfers": p.outcome.cost.as_ref().map(|c| c.transfers),
                "penalties": p.outcome.cost.as_ref().map(|c| c.penalties),
                "shadow_price": rows.iter().filter_map(|s| s.shadow_price).sum::<f64>(),
            })
        }).collect::<Vec<_>>(),
    });
    let title = table.title.clone();
    args.output
        .emit_report(&[table], &json, &charts, &title, &figures)?;
    Ok(ExitCode::SUCCESS)
}

/// The figures of an HTML report (`--format html`): the frontier's chart.
fn html_figures(
    args: &FrontierArgs,
    caption: &str,
    panels: &[LineChart],
) -> Result<Vec<crate::report::html::Figure>, Error> {
    if args.output.format != super::Format::Html {
        return Ok(Vec::new());
    }
    let svg = chart::panels(std::path::Path::new("frontier.svg"), panels)?;
    Ok(vec![crate::report::html::Figure {
        caption: caption.to_string(),
        svg: String::from_utf8_lossy(&svg).into_owned(),
    }])
}

/// Most points added where the budget curve bends.
const MAX_REFINED: usize = 40;

/// Add points where the budget curve bends: an interval whose midpoint is
/// off the straight line between its ends by more than 0.1 pp is split, and
/// so on down to a sixteenth of the step. Points stay sorted by budget.
fn refine_bends(
    points: &mut Vec<(f64, Outcome)>,
    step: f64,
    solve_at: &(dyn Fn(f64) -> Result<(f64, Outcome), Error> + Sync),
) -> Result<(), Error> {
    let lambda = |o: &Outcome| o.objective_value;
    // Intervals still to look at, by their ends' budgets.
    let mut todo: Vec<(f64, f64)> = points
        .windows(2)
        .filter(|w| match (lambda(&w[0].1), lambda(&w[1].1)) {
            (Some(a), Some(b)) => (a - b).abs() > 1e-6,
            _ => false,
        })
        .map(|w| (w[0].0, w[1].0))
        .collect();
    let mut added = 0;
    while !todo.is_empty() && added < MAX_REFINED {
        let batch: Vec<(f64, f64)> = todo
            .drain(..)
            .filter(|(a, b)| b - a > step / 16.0 + 1e-12)
            .take(MAX_REFINED - added)
            .collect();
        let mids: Vec<(f64, f64, (f64, Outcome))> = batch
            .par_iter()
            .map(|&(a, b)| {
                let m = ((a + b) / 2.0 * 1e12).round() / 1e12;
                solve_at(m).map(|p| (a, b, p))
            })
            .collect::<Result<_, _>>()?;
        for (a, b, p) in mids {
            added += 1;
            let at = |x: f64| points.iter().find(|q| q.0 == x).and_then(|q| lambda(&q.1));
            if let (Some(la), Some(lb), Some(lm)) = (at(a), at(b), lambda(&p.1)) {
                let line = (la + lb) / 2.0;
                if (lm - line).abs() > 1e-3 {
                    if (lm - la).abs() > 1e-6 {
                        todo.push((a, p.0));
                    }
                    if (lb - lm).abs() > 1e-6 {
                        todo.push((p.0, b));
                    }
                }
            }
            let pos = points.partition_point(|q| q.0 < p.0);
            points.insert(pos, p);
        }
    }
    Ok(())
}

/// The points of `START:STOP:STEP` (`0 <= START <= STOP`, at most 10,001
/// points) and the step, for the option named `flag`.
fn grid(flag: &str, range: &str) -> Result<(Vec<f64>, f64), Error> {
    let r = crate::grid::parse(range, true, 10_001)
        .map_err(|e| Error::Usage(format!("{flag} {range}: {e}")))?;
    Ok((r.values(), r.step))
}

/// λ* and plan cost under max-resilience against one stockpile's capacity
/// or min_level: the reserve-sizing curve.
fn stock_curve(
    args: &FrontierArgs,
    source: &PlanSource,
    fixed: &[Override],
    spec: &str,
    options: &SolverOptions,
) -> Result<ExitCode, Error> {
    let usage = || {
        Error::Usage(format!(
            "--stockpile {spec}: expected ID.KEY=START:STOP:STEP with KEY capacity or min_level, e.g. us-tb-reserve.capacity=0:120:20"
        ))
    };
    let (path, range) = spec.split_once('=').ok_or_else(usage)?;
    let (id, key) = path.trim().rsplit_once('.').ok_or_else(usage)?;
    super::not_swept(fixed, &format!("stockpile.{id}.{key}"), "--stockpile")?;
    if !matches!(key, "capacity" | "min_level") {
        return Err(usage());
    }
    let (values, _) = grid("--stockpile", range)?;
    let base = source.plan_with(args.scenario.as_deref(), fixed)?;
    if !base.stockpiles.iter().any(|s| s.id == id) {
        let known: Vec<&str> = base.stockpiles.iter().map(|s| s.id.as_str()).collect();
        return Err(Error::Usage(format!(
            "--stockpile {spec}: no stockpile `{id}` (the plan has: {})",
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        )));
    }
    if base.disruptions.is_empty() {
        return Err(Error::Usage(
            "--stockpile: the plan has no [[disruption]] to be resilient against".into(),
        ));
    }
    let mut one_thread = options.clone();
    if one_thread.threads.is_none() {
        one_thread.threads = Some(1);
    }
    eprintln!(
        "solving {} points of stockpile {id} {key} (max-resilience, 3 LPs each)...",
        values.len()
    );
    // A value the plan cannot take (a capacity below `initial`, a floor
    // above the capacity) is a row of its own, as in `sweep`; the other
    // points still solve.
    let points: Vec<(f64, std::result::Result<Outcome, String>)> = values
        .par_iter()
        .map(
            |&v| -> Result<(f64, std::result::Result<Outcome, String>), Error> {
                let mut overrides = fixed.to_vec();
                overrides.push(Override::parse(&format!("stockpile.{id}.{key}={v}"))?);
                let mut plan = match source.plan_with(args.scenario.as_deref(), &overrides) {
                    Ok(p) => p,
                    Err(Error::Plan(d)) => {
                        let why = Error::Plan(d).to_string();
                        let first = why.lines().next().unwrap_or_default().to_string();
                        return Ok((v, Err(format!("{id}.{key} = {v} is invalid here: {first}"))));
                    }
                    Err(e) => return Err(e),
                };
                plan.objective = Objective::MaxResilience;
                crate::solve_plan(&plan, &one_thread).map(|o| (v, Ok(o)))
            },
        )
        .collect::<Result<_, _>>()?;
    let cur = &base.currency;
    let value_header = format!("{id} {key} (t)");
    let cost_header = format!("plan cost ({cur})");
    let resource_header = format!("resource cost ({cur})");
    let gain_header = "λ* gained per extra t (pp)".to_string();
    let marginal_header = format!("resource cost per extra t ({cur})");
    let mut table = Table::new(
        "stock_curve",
        format!(
            "Reserve sizing of {}: worst-case share of demand served (λ*) and plan cost against {id} {key}",
            base.name
        ),
        &[
            &value_header,
            "status",
            "λ*",
            &cost_header,
            &resource_header,
            &gain_header,
            &marginal_header,
            "what moved the cost",
        ],
    );
    let mut lambda_pts = Vec::new();
    let mut cost_pts = Vec::new();
    let mut json_points = Vec::new();
    let mut previous: Option<(f64, f64, f64)> = None;
    let mut previous_cost: Option<crate::outcome::Cost> = None;
    for (v, o) in &points {
        let o = match o {
            Ok(o) => o,
            Err(why) => {
                let mut row = vec![Cell::tonnes(*v), Cell::text(format!("error: {why}"))];
                row.resize(table.headers.len(), Cell::Empty);
                table.rows.push(row);
                json_points.push(serde_json::json!({
                    "value": v,
                    "status": "error",
                    "error": why,
                }));
                continue;
            }
        };
        let lambda = o.objective_value;
        let cost = o.cost.as_ref().map(|c| c.total);
        let resource = o.cost.as_ref().map(|c| c.resource);
        // Against the previous solved point: what the extra tonnes bought,
        // and the resource they used up (tariffs and subsidies moving with
        // the plan are transfers, not a cost of the reserve).
        let (gain, marginal) = match (previous, lambda, resource) {
            (Some((pv, pl, pc)), Some(l), Some(c)) if v > &pv => {
                (Some((l - pl) * 100.0 / (v - pv)), Some((c - pc) / (v - pv)))
            }
            _ => (None, None),
        };
        // The plan cost is the least cost at this point's own λ*, so it
        // may fall as the reserve grows: say which parts moved it.
        let moved = match (&previous_cost, &o.cost, marginal) {
            (Some(a), Some(b), Some(_)) => cost_moves(a, b, cur),
            _ => String::new(),
        };
        let moved = match (gain, marginal) {
            (Some(g), _) if g < -1e-9 => {
                format!("λ* fell, which a larger reserve cannot cause: solver tolerance; {moved}")
            }
            (_, Some(m)) if m < 0.0 => format!(
                "less used up at a higher λ* (each point is the least cost at its own λ*): {moved}"
            ),
            _ => moved,
        };
        if let (Some(l), Some(c), Some(r)) = (lambda, cost, resource) {
            lambda_pts.push((*v, l));
            cost_pts.push((*v, c));
            previous = Some((*v, l, r));
            previous_cost = o.cost.clone();
        }
        table.rows.push(vec![
            Cell::tonnes(*v),
            Cell::text(o.status.name()),
            lambda.map_or(Cell::Empty, Cell::Percent),
            cost.map_or(Cell::Empty, Cell::money),
            resource.map_or(Cell::Empty, Cell::money),
            gain.map_or(Cell::Empty, |g| Cell::Number {
                value: g,
                decimals: 3,
            }),
            marginal.map_or(Cell::Empty, Cell::money),
            Cell::text(moved),
        ]);
        json_points.push(serde_json::json!({
            "value": v,
            "status": o.status.name(),
            "lambda": lambda,
            "cost": cost,
            "holding": o.cost.as_ref().map(|c| c.holding),
            "resource": resource,
            "lambda_gain_pp_per_t": gain,
            "cost_per_t": marginal,
        }));
    }
    let panels = [
        LineChart {
            title: format!("What each t of {id} {key} buys in worst-case coverage"),
            x_label: value_header.clone(),
            y_label: "worst-case share of demand served (λ*)".into(),
            x_format: AxisFormat::Thousands,
            y_format: AxisFormat::Percent,
            series: vec![Series {
                name: "λ*".into(),
                points: lambda_pts,
            }],
        },
        LineChart {
            title: "What it costs".into(),
            x_label: value_header.clone(),
            y_label: cost_header.clone(),
            x_format: AxisFormat::Thousands,
            y_format: AxisFormat::Thousands,
            series: vec![Series {
                name: "plan cost".into(),
                points: cost_pts,
            }],
        },
    ];
    let mut charts = Vec::new();
    if let Some(path) = &args.chart {
        charts.push((path.clone(), chart::panels(path, &panels)?));
    }
    let figures = html_figures(args, &format!("Reserve sizing: {id} {key}"), &panels)?;
    let json = serde_json::json!({
        "stockpile": id,
        "key": key,
        "points": json_points,
    });
    let title = table.title.clone();
    args.output
        .emit_report(&[table], &json, &charts, &title, &figures)?;
    // A value the plan cannot take is bad input (exit 1), as it would be
    // for `solve --set`; its row says why. Otherwise the worst status.
    if points.iter().any(|(_, o)| o.is_err()) {
        return Ok(ExitCode::from(1));
    }
    let worst = points
        .iter()
        .filter_map(|(_, o)| o.as_ref().ok().map(|o| o.status))
        .find(|s| *s != Status::Optimal)
        .unwrap_or(Status::Optimal);
    Ok(super::exit_code(worst))
}

/// λ* against the max-resilience budget.
fn budget_curve(
    args: &FrontierArgs,
    source: &PlanSource,
    fixed: &[Override],
    range: &str,
    options: &SolverOptions,
) -> Result<ExitCode, Error> {
    super::not_swept(fixed, "resilience.budget", "--budget")?;
    let (budgets, step) = grid("--budget", range)?;
    let base = source.plan_with(args.scenario.as_deref(), fixed)?;
    if base.disruptions.is_empty() {
        return Err(Error::Usage(
            "--budget: the plan has no [[disruption]] to be resilient against".into(),
        ));
    }
    let mut one_thread = options.clone();
    if one_thread.threads.is_none() {
        one_thread.threads = Some(1);
    }
    let solve_at = |b: f64| -> Result<(f64, Outcome), Error> {
        let mut overrides = fixed.to_vec();
        overrides.push(Override::parse(&format!("resilience.budget={b}"))?);
        let mut plan = source.plan_with(args.scenario.as_deref(), &overrides)?;
        plan.objective = Objective::MaxResilience;
        crate::solve_plan(&plan, &one_thread).map(|o| (b, o))
    };
    let mut points: Vec<(f64, Outcome)> = budgets
        .par_iter()
        .map(|&b| solve_at(b))
        .collect::<Result<_, _>>()?;
    let given = points.len();
    refine_bends(&mut points, step, &solve_at)?;
    let added = points.len() - given;
    let cur = &base.currency;
    let cost_header = format!("plan cost ({cur})");
    let reserve_header = format!("reserves ({cur})");
    let mut table = Table::new(
        "budget_curve",
        format!(
            "Budget curve of {}: worst-case share of demand served (λ*) against the budget{}",
            base.name,
            if added > 0 {
                format!(" ({added} points added where the curve bends)")
            } else {
                String::new()
            }
        ),
        &["budget", "status", "λ*", &cost_header, &reserve_header],
    );
    let mut pts = Vec::new();
    for (b, o) in &points {
        if let Some(l) = o.objective_value {
            pts.push((*b, l));
        }
        table.rows.push(vec![
            Cell::Setting(*b),
            Cell::text(o.status.name()),
            o.objective_value.map_or(Cell::Empty, Cell::Percent),
            o.cost
                .as_ref()
                .map_or(Cell::Empty, |c| Cell::money(c.total)),
            o.cost
                .as_ref()
                .map_or(Cell::Empty, |c| Cell::money(c.reserves)),
        ]);
    }
    let chart = LineChart {
        title: "What each extra percent of spend buys in worst-case coverage".into(),
        x_label: "budget over the least cost".into(),
        y_label: "worst-case share of demand served (λ*)".into(),
        x_format: AxisFormat::Percent,
        y_format: AxisFormat::Percent,
        series: vec![Series {
            name: "λ*".into(),
            points: pts,
        }],
    };
    let mut charts = Vec::new();
    if let Some(path) = &args.chart {
        charts.push((path.clone(), chart::line_chart(path, &chart)?));
    }
    let figures = html_figures(
        args,
        "Worst-case share of demand served against the budget",
        std::slice::from_ref(&chart),
    )?;
    let json = serde_json::json!({
        "points": points.iter().map(|(b, o)| serde_json::json!({
            "budget": b,
            "status": o.status.name(),
            "lambda": o.objective_value,
            "cost": o.cost.as_ref().map(|c| c.total),
            "reserves": o.cost.as_ref().map(|c| c.reserves),
        })).collect::<Vec<_>>(),
    });
    let title = table.title.clone();
    args.output
        .emit_report(&[table], &json, &charts, &title, &figures)?;
    let worst = points
        .iter()
        .map(|(_, o)| o.status)
        .find(|s| *s != Status::Optimal)
        .unwrap_or(Status::Optimal);
    Ok(super::exit_code(worst))
}

/// The two cost parts that moved most between two points, signed:
/// `reserves -8,000,000, holding +350,000` (empty when none moved).
fn cost_moves(from: &crate::outcome::Cost, to: &crate::outcome::Cost, cur: &str) -> String {
    let mut moves: Vec<(&str, f64)> = from
        .parts()
        .iter()
        .zip(to.parts().iter())
        .map(|(a, b)| (b.1, b.2 - a.2))
        .filter(|(_, d)| d.abs() >= 0.5)
        .collect();
    moves.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
    moves
        .iter()
        .take(2)
        .map(|(label, d)| {
            let sign = if *d < 0.0 { "-" } else { "+" };
            let d = d.abs();
            let amount = if d >= 1e9 {
                format!("{:.2} bn", d / 1e9)
            } else if d >= 1e6 {
                format!("{:.1} M", d / 1e6)
            } else {
                crate::report::thousands(d, 0)
            };
            format!("{label} {sign}{amount} {cur}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}
