//! Stress test of a plan: for every single country, every concern country's
//! exports, every single facility and every listed disruption, the share of
//! each market's demand that can still be served if it is lost — once with
//! recourse limited to the plan's own throughput (plus reserves), once with
//! all idle capacity (capacity the plan builds included). Stock the plan
//! holds is drawn on both times: a loss over years `a..b` starts from the
//! plan's stock at the end of `a − 1` (`initial` when `a` is the first
//! year), as the recourse of max-resilience does.
//!
//! By default the markets compete for what is left ([`Allocation::Joint`]):
//! one recourse LP over all markets serves as much demand as it can, each
//! t valued at the market's `unmet_penalty` as the plan's objective values
//! it (markets without one, which the plan must serve in full, first);
//! what is left is shared max-min fairly between market-years, so that the
//! split between markets of equal value is not an accident of the solver.
//! [`Allocation::EachAlone`] gives each market all supply to itself: an
//! upper bound, never a forecast.

use std::collections::HashMap;

use rayon::prelude::*;
use serde::Serialize;

use crate::error::Result;
use crate::model::lp::{Col, Lp, Sense};
use crate::model::{formulate, BuildOptions, Formulation};
use crate::outcome::{Outcome, REPORT_EPS};
use crate::plan::Plan;
use crate::recourse::{max_min_share, recourse_lp, ByFacilityYear, ByStockYear, LossCase};
use crate::solve::{self, SolverOptions, Status};

/// How the markets share what is left after a loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Allocation {
    /// One recourse LP over all markets: they compete.
    Joint,
    /// Each market on its own, with all supply to itself.
    EachAlone,
}

impl Allocation {
    /// The assumption in words, for table titles and the JSON.
    pub fn assumption(self) -> &'static str {
        match self {
            Allocation::Joint => {
                "The markets compete for what is left: as much demand is served as can be, valued at each market's unmet_penalty as the plan's objective values it (markets without one first), and what is left is shared so that no market's share of demand can rise without lowering a smaller one."
            }
            Allocation::EachAlone => {
                "Each market on its own, with all supply to itself: an upper bound, since the markets compete for the same supply."
            }
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Exposure {
    pub loss: String,
    pub kind: &'static str,
    pub market: String,
    /// Worst-year share of demand served with the plan's own throughput.
    pub planned_share: Option<f64>,
    pub planned_worst_year: Option<i64>,
    /// t of demand left unserved over the loss's years, plan's throughput.
    pub planned_unserved: Option<f64>,
    /// Worst-year share with all idle capacity available.
    pub idle_share: Option<f64>,
    pub idle_worst_year: Option<i64>,
    /// t left unserved over the loss's years, all idle capacity.
    pub idle_unserved: Option<f64>,
}

impl Exposure {
    /// Does this loss leave the market short, on either side (or could it
    /// not be worked out)?
    pub fn loses_something(&self) -> bool {
        let short = |v: Option<f64>| v.is_none_or(|t| t > REPORT_EPS);
        short(self.planned_unserved) || short(self.idle_unserved)
    }
}

fn loss_cases(plan: &Plan) -> Vec<LossCase> {
    let mut countries: Vec<&String> = plan.facilities().map(|f| &f.country).collect();
    countries.sort();
    countries.dedup();
    let mut out: Vec<LossCase> = countries
        .iter()
        .map(|&c| LossCase {
            label: format!("country {c}"),
            kind: "country",
            countries: vec![c.clone()],
            facilities: Vec::new(),
            exports_from: Vec::new(),
            capacity_factor: 0.0,
            years: None,
        })
        .collect();
    // Each concern country's exports stop (what an export-ban scenario
    // writes as embargoes), where it has facilities: its own market is
    // still served from home.
    out.extend(
        countries
            .iter()
            .filter(|c| plan.is_concern(c))
            .map(|&c| LossCase {
                label: format!("exports from {c}"),
                kind: "exports",
                countries: Vec::new(),
                facilities: Vec::new(),
                exports_from: vec![c.clone()],
                capacity_factor: 1.0,
                years: None,
            }),
    );
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
pub fn stress(
    plan: &Plan,
    outcome: &Outcome,
    allocation: Allocation,
    options: &SolverOptions,
) -> Result<Vec<Exposure>> {
    // The plan's throughput (plus reserves) per facility and year.
    let planned = outcome.planned_throughput();
    let idle = idle_capacity(outcome);
    let stock = stock_levels(outcome);
    let routes = formulate(plan, BuildOptions::default());
    let cases = loss_cases(plan);
    let mut one = options.clone();
    one.threads = Some(1);
    let shares = |case: &LossCase, limits: &ByFacilityYear| match allocation {
        Allocation::Joint => joint_shares(plan, &routes, case, limits, &stock, &one),
        Allocation::EachAlone => each_alone(plan, &routes, case, limits, &stock, &one),
    };
    let results: Vec<Result<Vec<Exposure>>> = cases
        .par_iter()
        .map(|case| {
            let planned_side = shares(case, &planned)?;
            let idle_side = shares(case, &idle)?;
            Ok(plan
                .markets
                .iter()
                .enumerate()
                .filter_map(|(k, m)| {
                    let p = planned_side.get(&k)?;
                    let i = idle_side.get(&k).copied().unwrap_or_default();
                    Some(Exposure {
                        loss: case.label.clone(),
                        kind: case.kind,
                        market: m.id.clone(),
                        planned_share: p.share,
                        planned_worst_year: p.worst_year,
                        planned_unserved: p.unserved,
                        idle_share: i.share,
                        idle_worst_year: i.worst_year,
                        idle_unserved: i.unserved,
                    })
                })
                .collect())
        })
        .collect();
    let mut exposures = Vec::new();
    for r in results {
        exposures.extend(r?);
    }
    // Biggest exposures first: most t left unserved, then the lowest share
    // (what could not be worked out counts as everything lost).
    exposures.sort_by(|a, b| {
        let key = |e: &Exposure| {
            [
                -e.planned_unserved.unwrap_or(f64::INFINITY),
                e.planned_share.unwrap_or(0.0),
                -e.idle_unserved.unwrap_or(f64::INFINITY),
                e.idle_share.unwrap_or(0.0),
            ]
        };
        key(a)
            .partial_cmp(&key(b))
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.loss.cmp(&b.loss))
            .then(a.market.cmp(&b.market))
    });
    Ok(exposures)
}

/// Effective capacity per facility and year, capacity the plan builds included.
fn idle_capacity(outcome: &Outcome) -> ByFacilityYear {
    outcome
        .utilization
        .iter()
        .map(|u| ((u.at.0, u.at.1, u.year), u.capacity))
        .collect()
}

/// The plan's stock at the end of each year, per stockpile.
fn stock_levels(outcome: &Outcome) -> ByStockYear {
    outcome
        .stockpiles
        .iter()
        .map(|s| ((s.index, s.year), s.level))
        .collect()
}

/// What one market gets under a loss: its worst-year share of demand
/// served, the year that is, and the t left unserved over the loss's years
/// (all `None` when the recourse LP could not be solved).
#[derive(Clone, Copy, Debug, Default)]
struct MarketServed {
    share: Option<f64>,
    worst_year: Option<i64>,
    unserved: Option<f64>,
}

/// A market's deliveries in one year: `(market, year, demand, columns)`.
type ServedRow = (usize, i64, f64, Vec<Col>);

/// Each market's worst-year share, that year and the t unserved in the
/// recourse solution `x`.
fn read_markets(rows: &[&ServedRow], x: &[f64]) -> HashMap<usize, MarketServed> {
    let mut out: HashMap<usize, MarketServed> = HashMap::new();
    for (k, y, d, cols) in rows {
        let got: f64 = cols.iter().map(|c| x[c.0 as usize]).sum();
        let share = (got / d).clamp(0.0, 1.0);
        let entry = out.entry(*k).or_insert(MarketServed {
            share: None,
            worst_year: None,
            unserved: Some(0.0),
        });
        if entry.share.is_none_or(|s| share < s) {
            entry.share = Some(share);
            entry.worst_year = Some(*y);
        }
        entry.unserved = entry.unserved.map(|u| u + (d - got).max(0.0));
    }
    for v in out.values_mut() {
        // Solver noise below the reporting threshold reads as nothing lost.
        if v.unserved.is_some_and(|u| u <= REPORT_EPS) {
            v.unserved = Some(0.0);
            v.share = Some(1.0);
            v.worst_year = None;
        }
    }
    out
}

/// The markets compete: [`most_served`] over every market.
fn joint_shares(
    plan: &Plan,
    routes: &Formulation,
    case: &LossCase,
    limits: &ByFacilityYear,
    stock: &ByStockYear,
    options: &SolverOptions,
) -> Result<HashMap<usize, MarketServed>> {
    let (lp, served) = recourse_lp(plan, routes, case, limits, Some(stock));
    let rows: Vec<&ServedRow> = served.iter().collect();
    Ok(match most_served(plan, &lp, &rows, options)? {
        Some(x) => read_markets(&rows, &x),
        None => rows
            .iter()
            .map(|s| (s.0, MarketServed::default()))
            .collect(),
    })
}

/// What a t of each market's demand is worth to the plan's objective, over
/// the largest: its `unmet_penalty`; a market without one, which the plan
/// must serve in full, 2 (above every market that has one).
fn priorities(plan: &Plan) -> Vec<f64> {
    let largest = plan
        .markets
        .iter()
        .filter_map(|m| m.unmet_penalty)
        .fold(0.0f64, f64::max);
    plan.markets
        .iter()
        .map(|m| match m.unmet_penalty {
            Some(p) if largest > 0.0 => p / largest,
            Some(_) => 1.0,
            None => 2.0,
        })
        .collect()
}

/// The most rounds of [`share_fairly`]: each round fixes at least one
/// market-year, and a few settle every plan seen; what is not settled then
/// keeps the last round's allocation.
const FAIR_ROUNDS: usize = 8;

/// The recourse allocation of the deliveries `rows`. First the most demand
/// served as the plan's objective values it: each t delivered to market `k`
/// in year `y` worth `w_y ×` its [`priorities`] entry. Then, holding that, what is left
/// is shared fairly ([`share_fairly`]). `None` when the LP could not be
/// solved.
fn most_served(
    plan: &Plan,
    lp: &Lp,
    rows: &[&ServedRow],
    options: &SolverOptions,
) -> Result<Option<Vec<f64>>> {
    if rows.is_empty() {
        return Ok(None);
    }
    let priority = priorities(plan);
    let mut first = lp.clone();
    first.sense = Sense::Maximize;
    let mut value = Vec::new();
    for (k, y, _, cols) in rows {
        let v = priority[*k] * plan.weight(*y);
        for c in cols {
            first.col_cost[c.0 as usize] += v;
            value.push((*c, v));
        }
    }
    let sol = solve::solve(&first, options)?;
    if sol.status != Status::Optimal {
        return Ok(None);
    }
    let mut held = lp.clone();
    // Held to HiGHS's own feasibility tolerance: a looser hold would let
    // the fair share take demand from a market of higher value.
    held.add_row(
        sol.objective - (1e-12 * sol.objective.abs()).max(1e-7),
        f64::INFINITY,
        value,
    );
    Ok(Some(
        share_fairly(&held, rows, options)?.unwrap_or(sol.col_value),
    ))
}

/// Max-min fair shares of demand across the market-years `rows` (water
/// filling): raise the share every market-year gets together as far as it
/// goes; the market-years whose rows bind (non-zero dual) are held at that
/// share, and the others go on rising in the next round. `None` when the
/// first round could not be solved.
fn share_fairly(lp: &Lp, rows: &[&ServedRow], options: &SolverOptions) -> Result<Option<Vec<f64>>> {
    let mut held: Vec<Option<f64>> = vec![None; rows.len()];
    let mut best = None;
    for _ in 0..FAIR_ROUNDS {
        let mut round = lp.clone();
        round.sense = Sense::Maximize;
        round.col_cost.iter_mut().for_each(|c| *c = 0.0);
        let lambda = round.add_col_bounded(1.0, 0.0, 1.0);
        let mut free_rows = Vec::new();
        for (i, (_, _, d, cols)) in rows.iter().enumerate() {
            let terms = cols.iter().map(|&c| (c, 1.0));
            match held[i] {
                // A little below the share it reached, for solver noise.
                Some(share) => {
                    round.add_row(share * d * (1.0 - 1e-9) - 1e-9, f64::INFINITY, terms);
                }
                None => {
                    let row = round.add_row(0.0, f64::INFINITY, terms.chain([(lambda, -d)]));
                    free_rows.push((i, row));
                }
            }
        }
        let sol = solve::solve(&round, options)?;
        if sol.status != Status::Optimal {
            break;
        }
        let level = sol.col_value[lambda.0 as usize];
        let binding: Vec<usize> = free_rows
            .iter()
            .filter(|(_, row)| sol.row_dual[row.0 as usize].abs() > 1e-9)
            .map(|&(i, _)| i)
            .collect();
        best = Some(sol.col_value);
        if binding.is_empty() || level >= 1.0 - 1e-9 {
            break;
        }
        for i in binding {
            held[i] = Some(level);
        }
        if held.iter().all(Option::is_some) {
            break;
        }
    }
    Ok(best)
}

/// For each market with demand in the loss's years, on its own: the largest
/// λ such that at least λ of its demand is served in every such year and
/// the year that binds, and the t left unserved when it gets all it can.
fn each_alone(
    plan: &Plan,
    routes: &Formulation,
    case: &LossCase,
    limits: &ByFacilityYear,
    stock: &ByStockYear,
    options: &SolverOptions,
) -> Result<HashMap<usize, MarketServed>> {
    let (lp, served) = recourse_lp(plan, routes, case, limits, Some(stock));
    let mut out = HashMap::new();
    let mut markets: Vec<usize> = served.iter().map(|s| s.0).collect();
    markets.sort();
    markets.dedup();
    for k in markets {
        let rows: Vec<&ServedRow> = served.iter().filter(|s| s.0 == k).collect();
        let mut got = MarketServed::default();
        if let Some((x, lambda)) = max_min_share(&lp, &rows, options)? {
            let worst = read_markets(&rows, &x);
            got.share = Some(if worst[&k].unserved == Some(0.0) {
                1.0
            } else {
                x[lambda] + 0.0
            });
            got.worst_year = worst[&k].worst_year;
        }
        if let Some(x) = most_served(plan, &lp, &rows, options)? {
            got.unserved = read_markets(&rows, &x)[&k].unserved;
        }
        out.insert(k, got);
    }
    Ok(out)
}
