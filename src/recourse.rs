//! The recourse LP of a loss (countries, facilities, an export stop): the
//! largest share of demand that can still be served when it happens, with
//! recourse flows limited per facility and year and, given the plan's stock
//! levels, stock drawn from what the plan holds. Used by `stress` and by the
//! resilience table of a solve; it works on the plan and the formulation
//! only (no solve outcome), so `outcome` and `stress` both depend on it and
//! not on each other.

use std::collections::HashMap;

use rayon::prelude::*;
use serde::Serialize;

use crate::error::Result;
use crate::model::lp::{Lp, Sense};
use crate::model::{add_recourse, formulate, recourse_levels, BuildOptions, FacilityKind, Loss};
use crate::plan::Plan;
use crate::solve::{self, SolverOptions, Status};

/// t per facility (its stage and index in the plan) and year: throughput
/// or capacity.
pub type ByFacilityYear = HashMap<(FacilityKind, usize, i64), f64>;

/// t per stockpile (its index in the plan) and year: the level at the end
/// of the year.
pub type ByStockYear = HashMap<(usize, i64), f64>;

/// A market's demand served under one disruption in one year
/// (`resilience.served[]`).
#[derive(Clone, Debug, Serialize)]
pub struct Served {
    pub disruption: String,
    pub year: i64,
    pub market: String,
    pub demand: f64,
    pub served: f64,
    pub share: f64,
}

/// One thing that can be lost.
#[derive(Clone, Debug)]
pub struct LossCase {
    pub label: String,
    pub kind: &'static str,
    pub countries: Vec<String>,
    pub facilities: Vec<String>,
    pub exports_from: Vec<String>,
    pub capacity_factor: f64,
    pub years: Option<crate::plan::YearRange>,
}

/// For every disruption, year and market: the largest share of the market's
/// demand the plan (its throughput plus reserves) can serve.
pub fn served_under_disruptions(
    plan: &Plan,
    planned: &ByFacilityYear,
    options: &SolverOptions,
) -> Result<Vec<Served>> {
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
    let rows: Vec<Result<Vec<Served>>> = cases
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
            // The markets of λ together (every market unless `[resilience]
            // markets` names some): the largest share every one of them can
            // get at once (the λ of this disruption and year), then each
            // market's share in that allocation.
            let (lp, served) = recourse_lp(plan, &routes, &case, planned, None);
            let rows: Vec<_> = served
                .iter()
                .filter(|s| plan.resilience.counts(s.0))
                .collect();
            let mut out = Vec::new();
            if let Some((x, _)) = max_min_share(&lp, &rows, &one)? {
                // Only the markets of λ: what the others get in this
                // allocation is not a guarantee of anything.
                for (k, _, demand, cols) in served.iter().filter(|s| plan.resilience.counts(s.0)) {
                    let got: f64 = cols.iter().map(|c| x[c.0 as usize]).sum();
                    out.push(Served {
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

/// Deliveries of one market in one year under a loss: `(market, year, demand, columns)`.
pub type ServedCols = Vec<(usize, i64, f64, Vec<crate::model::lp::Col>)>;

/// The recourse LP of a loss over its years: recourse flows limited by
/// `limits` per facility and year (the plan's throughput, or effective
/// capacity), deliveries at most demand, and — given the plan's stock
/// levels — recourse stock drawn from what the plan holds. No objective yet.
pub fn recourse_lp(
    plan: &Plan,
    routes: &crate::model::Formulation,
    case: &LossCase,
    limits: &ByFacilityYear,
    stock: Option<&ByStockYear>,
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
                .get(&(cap.kind, cap.index, year))
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
                levels.get(&(s, first - 1)).copied().unwrap_or(0.0)
            };
            (Vec::new(), held)
        });
    }
    (lp, served)
}

/// Maximize `λ` with `served ≥ λ × demand` for the given deliveries; returns
/// the solution values and `λ`'s column, or `None` if the solve failed.
pub fn max_min_share(
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
