//! Stress test of a plan: for every single country, every single facility
//! and every listed disruption, the largest share of each market's demand
//! that can still be served if it is lost — once with recourse limited to
//! the plan's own throughput (plus reserves), once with all idle capacity
//! (capacity the plan builds included). Stock the plan holds is drawn on
//! both times: a loss over years `a..b` starts from the plan's stock at the
//! end of `a − 1` (`initial` when `a` is the first year), as the recourse of
//! max-resilience does.

use std::collections::HashMap;

use rayon::prelude::*;
use serde::Serialize;

use crate::error::Result;
use crate::model::lp::{Lp, Sense};
use crate::model::{add_recourse, formulate, recourse_levels, BuildOptions, FacilityKind, Loss};
use crate::outcome::{facility_id, Outcome};
use crate::plan::Plan;
use crate::report::{Cell, Table};
use crate::solve::{self, SolverOptions, Status};

/// One thing that can be lost.
#[derive(Clone, Debug)]
struct LossCase {
    label: String,
    kind: &'static str,
    countries: Vec<String>,
    facilities: Vec<String>,
    exports_from: Vec<String>,
    capacity_factor: f64,
    years: Option<crate::plan::YearRange>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Exposure {
    pub loss: String,
    pub kind: &'static str,
    pub market: String,
    /// Worst-year share of demand served with the plan's own throughput.
    pub planned_share: Option<f64>,
    pub planned_worst_year: Option<i64>,
    /// Worst-year share with all idle capacity available.
    pub idle_share: Option<f64>,
    pub idle_worst_year: Option<i64>,
}

fn loss_cases(plan: &Plan) -> Vec<LossCase> {
    let mut countries: Vec<&String> = plan.facilities().map(|f| &f.country).collect();
    countries.sort();
    countries.dedup();
    let mut out: Vec<LossCase> = countries
        .into_iter()
        .map(|c| LossCase {
            label: format!("country {c}"),
            kind: "country",
            countries: vec![c.clone()],
            facilities: Vec::new(),
            exports_from: Vec::new(),
            capacity_factor: 0.0,
            years: None,
        })
        .collect();
    let facilities = plan.facilities();
    out.extend(facilities.map(|f| LossCase {
        label: format!("{} ({})", f.id, f.country),
        kind: "facility",
        countries: Vec::new(),
        facilities: vec![f.id.clone()],
        exports_from: Vec::new(),
        capacity_factor: 0.0,
        years: None,
    }));
    out.extend(plan.disruptions.iter().map(|d| LossCase {
        label: format!("disruption {}", d.id),
        kind: "disruption",
        countries: d.countries.clone(),
        facilities: d.facilities.clone(),
        exports_from: d.exports_from.clone(),
        capacity_factor: d.capacity_factor,
        years: d.years,
    }));
    out
}

/// Run the stress test on the plan whose outcome is `outcome`.
pub fn stress(plan: &Plan, outcome: &Outcome, options: &SolverOptions) -> Result<Vec<Exposure>> {
    // The plan's throughput (plus reserves) per facility and year.
    let planned = planned_throughput(outcome);
    let idle = idle_capacity(outcome);
    let stock = stock_levels(outcome);
    let routes = formulate(plan, BuildOptions::default());
    let cases = loss_cases(plan);
    let mut one = options.clone();
    one.threads = Some(1);
    let results: Vec<Result<Vec<Exposure>>> = cases
        .par_iter()
        .map(|case| {
            let planned_side = worst_shares(plan, &routes, case, &planned, &stock, &one)?;
            let idle_side = worst_shares(plan, &routes, case, &idle, &stock, &one)?;
            Ok(plan
                .markets
                .iter()
                .enumerate()
                .filter(|(k, _)| planned_side.contains_key(k))
                .map(|(k, m)| Exposure {
                    loss: case.label.clone(),
                    kind: case.kind,
                    market: m.id.clone(),
                    planned_share: planned_side[&k].0,
                    planned_worst_year: planned_side[&k].1,
                    idle_share: idle_side.get(&k).and_then(|v| v.0),
                    idle_worst_year: idle_side.get(&k).and_then(|v| v.1),
                })
                .collect())
        })
        .collect();
    let mut exposures = Vec::new();
    for r in results {
        exposures.extend(r?);
    }
    // Biggest single points of failure first.
    exposures.sort_by(|a, b| {
        let key = |e: &Exposure| (e.planned_share.unwrap_or(1.0), e.idle_share.unwrap_or(1.0));
        key(a)
            .partial_cmp(&key(b))
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.loss.cmp(&b.loss))
    });
    Ok(exposures)
}

/// For every disruption, year and market: the largest share of the market's
/// demand the plan (its throughput plus reserves) can serve.
pub fn served_under_disruptions(
    plan: &Plan,
    outcome: &Outcome,
    options: &SolverOptions,
) -> Result<Vec<crate::outcome::Served>> {
    let planned = planned_throughput(outcome);
    let routes = formulate(plan, BuildOptions::default());
    let mut one = options.clone();
    one.threads = Some(1);
    let cases: Vec<(usize, i64)> = plan
        .disruptions
        .iter()
        .enumerate()
        .flat_map(|(s, d)| {
            plan.years()
                .filter(move |y| d.years.is_none_or(|r| r.contains(*y)))
                .map(move |y| (s, y))
        })
        .collect();
    let rows: Vec<Result<Vec<crate::outcome::Served>>> = cases
        .par_iter()
        .map(|&(s, year)| {
            let d = &plan.disruptions[s];
            let case = LossCase {
                label: d.id.clone(),
                kind: "disruption",
                countries: d.countries.clone(),
                facilities: d.facilities.clone(),
                exports_from: d.exports_from.clone(),
                capacity_factor: d.capacity_factor,
                years: Some(crate::plan::YearRange {
                    first: year,
                    last: year,
                }),
            };
            // All markets together: the largest share every one of them can
            // get at once (the λ of this disruption and year), then each
            // market's share in that allocation.
            let (lp, served) = recourse_lp(plan, &routes, &case, &planned, None);
            let rows: Vec<_> = served.iter().collect();
            let mut out = Vec::new();
            if let Some((x, _)) = max_min_share(&lp, &rows, &one)? {
                for (k, _, demand, cols) in &served {
                    let got: f64 = cols.iter().map(|c| x[c.0 as usize]).sum();
                    out.push(crate::outcome::Served {
                        disruption: d.id.clone(),
                        year,
                        market: plan.markets[*k].id.clone(),
                        demand: *demand,
                        served: got,
                        share: got / demand,
                    });
                }
            }
            Ok(out)
        })
        .collect();
    let mut out = Vec::new();
    for r in rows {
        out.extend(r?);
    }
    Ok(out)
}

/// Effective capacity per facility and year, capacity the plan builds included.
fn idle_capacity(outcome: &Outcome) -> HashMap<(String, i64), f64> {
    outcome
        .utilization
        .iter()
        .map(|u| ((u.facility.clone(), u.year), u.capacity))
        .collect()
}

/// The plan's stock at the end of each year, per stockpile.
fn stock_levels(outcome: &Outcome) -> HashMap<(String, i64), f64> {
    outcome
        .stockpiles
        .iter()
        .map(|s| ((s.stockpile.clone(), s.year), s.level))
        .collect()
}

fn planned_throughput(outcome: &Outcome) -> HashMap<(String, i64), f64> {
    let mut planned: HashMap<(String, i64), f64> = HashMap::new();
    for u in &outcome.utilization {
        *planned.entry((u.facility.clone(), u.year)).or_default() += u.throughput;
    }
    if let Some(r) = &outcome.resilience {
        for v in &r.reserves {
            *planned.entry((v.facility.clone(), v.year)).or_default() += v.tonnes;
        }
    }
    planned
}

/// Deliveries of one market in one year under a loss: `(market, year, demand, columns)`.
type ServedCols = Vec<(usize, i64, f64, Vec<crate::model::lp::Col>)>;

/// The recourse LP of a loss over its years: recourse flows limited by
/// `limits` per facility and year (the plan's throughput, or effective
/// capacity), deliveries at most demand, and — given the plan's stock
/// levels — recourse stock drawn from what the plan holds. No objective yet.
fn recourse_lp(
    plan: &Plan,
    routes: &crate::model::Formulation,
    case: &LossCase,
    limits: &HashMap<(String, i64), f64>,
    stock: Option<&HashMap<(String, i64), f64>>,
) -> (Lp, ServedCols) {
    let with_stock = stock.is_some() && !plan.stockpiles.is_empty();
    let factor = |kind: FacilityKind, index: usize| -> f64 {
        let f = crate::model::facility(plan, kind, index);
        if case.facilities.contains(&f.id) || case.countries.contains(&f.country) {
            case.capacity_factor
        } else {
            1.0
        }
    };
    let loss = Loss {
        exports_from: &case.exports_from,
        factor: &factor,
    };
    let mut lp = Lp::default();
    let mut served: ServedCols = Vec::new();
    let mut stock_years = Vec::new();
    for ym in &routes.years {
        if !case.years.is_none_or(|r| r.contains(ym.year)) {
            continue;
        }
        let year = ym.year;
        let limit = |cap: &crate::model::CapacityRow, a: f64, _: &Lp| {
            let bound = limits
                .get(&(facility_id(plan, cap.kind, cap.index).to_string(), year))
                .copied()
                .unwrap_or(0.0);
            (Vec::new(), a * bound)
        };
        let recourse = add_recourse(plan, &mut lp, ym, &loss, with_stock, &limit);
        let deliveries = recourse.to_market;
        if with_stock {
            stock_years.push((year, recourse.stock_in, recourse.stock_out));
        }
        for (k, market) in plan.markets.iter().enumerate() {
            let d = market.demand.at(year);
            if d > 0.0 {
                let cols = deliveries.get(&k).cloned().unwrap_or_default();
                lp.add_row(f64::NEG_INFINITY, d, cols.iter().map(|&c| (c, 1.0)));
                served.push((k, year, d, cols));
            }
        }
    }
    if let (true, Some(levels)) = (with_stock, stock) {
        recourse_levels(plan, &mut lp, &stock_years, &|s, first| {
            let held = if first == plan.first_year {
                plan.stockpiles[s].initial
            } else {
                let id = &plan.stockpiles[s].id;
                levels.get(&(id.clone(), first - 1)).copied().unwrap_or(0.0)
            };
            (Vec::new(), held)
        });
    }
    (lp, served)
}

/// Maximize `λ` with `served ≥ λ × demand` for the given deliveries; returns
/// the solution values and `λ`'s column, or `None` if the solve failed.
fn max_min_share(
    lp: &Lp,
    rows: &[&(usize, i64, f64, Vec<crate::model::lp::Col>)],
    options: &SolverOptions,
) -> Result<Option<(Vec<f64>, usize)>> {
    let mut lp = lp.clone();
    lp.sense = Sense::Maximize;
    let lambda = lp.add_col_bounded(1.0, 0.0, 1.0);
    for (_, _, d, cols) in rows {
        let terms: Vec<_> = cols
            .iter()
            .map(|&c| (c, 1.0))
            .chain([(lambda, -d)])
            .collect();
        lp.add_row(0.0, f64::INFINITY, terms);
    }
    let sol = solve::solve(&lp, options)?;
    Ok((sol.status == Status::Optimal).then_some((sol.col_value, lambda.0 as usize)))
}

/// A market's worst-year share served and the year it happens.
type WorstShare = (Option<f64>, Option<i64>);

/// For each market with demand in the loss's years: the largest λ such that
/// at least λ of its demand is served in every such year (the market on its
/// own), and the year that binds.
fn worst_shares(
    plan: &Plan,
    routes: &crate::model::Formulation,
    case: &LossCase,
    limits: &HashMap<(String, i64), f64>,
    stock: &HashMap<(String, i64), f64>,
    options: &SolverOptions,
) -> Result<HashMap<usize, WorstShare>> {
    let (lp, served) = recourse_lp(plan, routes, case, limits, Some(stock));
    let mut out = HashMap::new();
    let mut markets: Vec<usize> = served.iter().map(|s| s.0).collect();
    markets.sort();
    markets.dedup();
    for k in markets {
        let rows: Vec<_> = served.iter().filter(|s| s.0 == k).collect();
        let Some((x, lambda)) = max_min_share(&lp, &rows, options)? else {
            out.insert(k, (None, None));
            continue;
        };
        let worst = rows
            .iter()
            .map(|(_, y, d, cols)| (*y, cols.iter().map(|c| x[c.0 as usize]).sum::<f64>() / d))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(y, _)| y);
        out.insert(k, (Some(x[lambda]), worst));
    }
    Ok(out)
}

/// The ranked table of exposures.
pub fn table(plan: &Plan, exposures: &[Exposure], top: Option<usize>) -> Table {
    let mut t = Table::new(
        "stress",
        format!(
            "Stress test of {}: share of each market's demand still served in its worst year if one thing is lost (each market on its own, with all supply to itself; solve's resilience table shares the supply among all markets at once, so its shares can be lower)",
            plan.name
        ),
        &[
            "rank",
            "lost",
            "market",
            "served (plan's throughput)",
            "worst year",
            "served (all idle capacity)",
            "worst year ",
        ],
    );
    for (i, e) in exposures.iter().take(top.unwrap_or(usize::MAX)).enumerate() {
        t.rows.push(vec![
            Cell::Text((i + 1).to_string()),
            Cell::text(e.loss.clone()),
            Cell::text(e.market.clone()),
            Cell::opt_percent(e.planned_share),
            e.planned_worst_year.map_or(Cell::Empty, Cell::year),
            Cell::opt_percent(e.idle_share),
            e.idle_worst_year.map_or(Cell::Empty, Cell::year),
        ]);
    }
    t
}
