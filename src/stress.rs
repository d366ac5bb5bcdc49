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
use crate::model::{formulate, BuildOptions};
use crate::outcome::Outcome;
use crate::plan::Plan;
use crate::recourse::{max_min_share, recourse_lp, ByFacilityYear, ByStockYear, LossCase};
use crate::solve::SolverOptions;

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
    let planned = outcome.planned_throughput();
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

/// A market's worst-year share served and the year it happens.
type WorstShare = (Option<f64>, Option<i64>);

/// For each market with demand in the loss's years: the largest λ such that
/// at least λ of its demand is served in every such year (the market on its
/// own), and the year that binds.
fn worst_shares(
    plan: &Plan,
    routes: &crate::model::Formulation,
    case: &LossCase,
    limits: &ByFacilityYear,
    stock: &ByStockYear,
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
        out.insert(k, (Some(x[lambda] + 0.0), worst));
    }
    Ok(out)
}
