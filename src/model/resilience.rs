//! The max-resilience LP of FORMULATION.md: the min-cost constraints with
//! spare-capacity reserves, a budget row, and per-disruption recourse flows
//! that must serve at least `λ` of every market's demand.

use std::collections::HashMap;

use super::lp::Lp;
use super::lp::{Col, Row, Sense};
use super::{formulate, BuildOptions, CapacityRow, FacilityKind, Formulation, YearModel};
use crate::plan::{Disruption, Plan};

/// A market's recourse deliveries under one disruption in one year.
#[derive(Clone, Debug)]
pub struct ServedRow {
    pub disruption: usize,
    pub year: i64,
    pub market: usize,
    pub demand: f64,
    pub deliveries: Vec<Col>,
}

#[derive(Clone, Debug)]
pub struct ResilienceLp {
    /// The plan's own variables and rows (with reserves), plus everything below.
    pub formulation: Formulation,
    /// Discounted cost of every column (reserves included): the min-cost objective.
    pub cost: Vec<f64>,
    pub lambda: Col,
    pub budget_row: Row,
    pub served: Vec<ServedRow>,
}

impl ResilienceLp {
    /// Stage 2: maximize `λ`.
    pub fn maximize_lambda(&mut self) {
        let lp = &mut self.formulation.lp;
        lp.sense = Sense::Maximize;
        lp.col_cost.iter_mut().for_each(|c| *c = 0.0);
        lp.col_cost[self.lambda.0 as usize] = 1.0;
    }

    /// Stage 3: hold `λ ≥ λ* − 1e-7` and minimize cost.
    pub fn minimize_cost_at(&mut self, lambda_star: f64) {
        let lp = &mut self.formulation.lp;
        lp.sense = Sense::Minimize;
        lp.col_cost.clone_from(&self.cost);
        let l = self.lambda.0 as usize;
        lp.col_lower[l] = (lambda_star - 1e-7).max(0.0);
    }
}

fn hit_factor(plan: &Plan, s: &Disruption, kind: FacilityKind, index: usize) -> f64 {
    let facility = crate::model::facility(plan, kind, index);
    if s.facilities.contains(&facility.id) || s.countries.contains(&facility.country) {
        s.capacity_factor
    } else {
        1.0
    }
}

/// Build the max-resilience LP given the min-cost optimum `c_star`. The LP
/// starts in stage 2 (maximize `λ`).
pub fn build_resilience(plan: &Plan, c_star: f64) -> ResilienceLp {
    let mut formulation = formulate(
        plan,
        BuildOptions {
            reserves: true,
            elastic: None,
        },
    );
    let cost = formulation.lp.col_cost.clone();
    let lp = &mut formulation.lp;

    // 3. the plan costs at most (1 + budget) × C*, with the settled relative slack.
    let limit = (1.0 + plan.resilience.budget) * c_star * (1.0 + 1e-9);
    let budget_terms: Vec<(Col, f64)> = cost
        .iter()
        .enumerate()
        .filter(|(_, &c)| c != 0.0)
        .map(|(j, &c)| (Col(j as u32), c))
        .collect();
    let budget_row = lp.add_row(f64::NEG_INFINITY, limit, budget_terms);

    // λ is a share of demand: at most 1 (it is unbounded only when no
    // disrupted year has any demand, and then 1 is the honest answer).
    let lambda = lp.add_col_bounded(0.0, 0.0, 1.0);
    let mut served = Vec::new();

    for (s, disruption) in plan.disruptions.iter().enumerate() {
        for ym in &formulation.years {
            if !disruption.years.is_none_or(|r| r.contains(ym.year)) {
                continue;
            }
            let year = ym.year;
            let loss = Loss {
                exports_from: &disruption.exports_from,
                factor: &|kind, index| hit_factor(plan, disruption, kind, index),
            };
            // Recourse throughput within a_s(f) × (throughput + reserve).
            let z_to_market = add_recourse(plan, lp, ym, &loss, &|cap, a, lp| {
                let planned: Vec<(Col, f64)> =
                    lp.row_terms(cap.row).map(|(c, _)| (c, -a)).collect();
                (planned, 0.0)
            });
            // Deliveries: at most demand, at least λ × demand.
            for (k, market) in plan.markets.iter().enumerate() {
                let d = market.demand.at(year);
                if d <= 0.0 {
                    continue;
                }
                let deliveries = z_to_market.get(&k).cloned().unwrap_or_default();
                lp.add_row(f64::NEG_INFINITY, d, deliveries.iter().map(|&c| (c, 1.0)));
                let terms: Vec<(Col, f64)> = deliveries
                    .iter()
                    .map(|&c| (c, 1.0))
                    .chain([(lambda, -d)])
                    .collect();
                lp.add_row(0.0, f64::INFINITY, terms);
                served.push(ServedRow {
                    disruption: s,
                    year,
                    market: k,
                    demand: d,
                    deliveries,
                });
            }
        }
    }

    let mut out = ResilienceLp {
        cost: {
            let mut c = cost;
            c.resize(formulation.lp.num_cols(), 0.0);
            c
        },
        formulation,
        lambda,
        budget_row,
        served,
    };
    out.maximize_lambda();
    out
}

/// `limit(capacity row, factor, lp)`: the terms moved to the left-hand side
/// and the right-hand side of `recourse + terms ≤ rhs`.
pub type ThroughputLimit<'a> = dyn Fn(&CapacityRow, f64, &Lp) -> (Vec<(Col, f64)>, f64) + 'a;

/// What a loss takes away: lanes leaving some countries, and a share of
/// each facility's throughput (`factor`: 1 for facilities not hit).
pub struct Loss<'a> {
    pub exports_from: &'a [String],
    pub factor: &'a dyn Fn(FacilityKind, usize) -> f64,
}

/// Recourse flows for one year under `loss`, on the plan's own
/// (non-embargoed) routes, with constraints 3 and 5 of FORMULATION.md
/// (without origin classes) and each facility's recourse throughput within
/// a limit: `limit(capacity row, factor, lp)` gives the terms moved to the
/// left-hand side and the right-hand side of `recourse + terms ≤ rhs`.
/// Returns the recourse deliveries to each market.
pub fn add_recourse(
    plan: &Plan,
    lp: &mut Lp,
    ym: &YearModel,
    loss: &Loss,
    limit: &ThroughputLimit,
) -> HashMap<usize, Vec<Col>> {
    let blocked = |from: &str, to: &str| from != to && loss.exports_from.iter().any(|c| c == from);
    // Recourse flows, on the plan's own (non-embargoed) routes.
    let mut flows: HashMap<(FacilityKind, usize), Vec<Col>> = HashMap::new();
    let mut x_at_ref: HashMap<usize, Vec<(usize, Col)>> = HashMap::new();
    for x in &ym.concentrate {
        let (from, to) = (
            &plan.mines[x.mine].facility.country,
            &plan.refineries[x.refinery].facility.country,
        );
        if blocked(from, to) {
            continue;
        }
        let col = lp.add_col(0.0);
        flows
            .entry((FacilityKind::Mine, x.mine))
            .or_default()
            .push(col);
        flows
            .entry((FacilityKind::Refinery, x.refinery))
            .or_default()
            .push(col);
        x_at_ref.entry(x.refinery).or_default().push((x.mine, col));
    }
    let mut o_seen: HashMap<(usize, usize, usize), Col> = HashMap::new();
    let mut o_from: HashMap<(usize, usize), Vec<Col>> = HashMap::new();
    let mut o_to: HashMap<(usize, usize), Vec<Col>> = HashMap::new();
    for o in &ym.oxide {
        let key = (o.refinery, o.plant, o.element);
        if o_seen.contains_key(&key) {
            continue;
        }
        let (from, to) = (
            &plan.refineries[o.refinery].facility.country,
            &plan.plants[o.plant].facility.country,
        );
        if blocked(from, to) {
            continue;
        }
        let col = lp.add_col(0.0);
        o_seen.insert(key, col);
        o_from.entry((o.refinery, o.element)).or_default().push(col);
        o_to.entry((o.plant, o.element)).or_default().push(col);
    }
    let mut z_seen: HashMap<(usize, usize), Col> = HashMap::new();
    let mut z_of_plant: HashMap<usize, Vec<Col>> = HashMap::new();
    let mut z_to_market: HashMap<usize, Vec<Col>> = HashMap::new();
    for z in &ym.magnet {
        if z_seen.contains_key(&(z.plant, z.market)) {
            continue;
        }
        let (from, to) = (
            &plan.plants[z.plant].facility.country,
            &plan.markets[z.market].country,
        );
        if blocked(from, to) {
            continue;
        }
        let col = lp.add_col(0.0);
        z_seen.insert((z.plant, z.market), col);
        z_of_plant.entry(z.plant).or_default().push(col);
        z_to_market.entry(z.market).or_default().push(col);
    }

    // Separation (constraint 3 summed over classes). Every refinery
    // that could ship oxide gets a row, also when the disruption cut
    // off all its concentrate (then it ships nothing).
    let mut shipping: Vec<&(usize, usize)> = o_from.keys().collect();
    shipping.sort();
    for &(r, e) in shipping {
        let inputs = x_at_ref.get(&r).map(Vec::as_slice).unwrap_or(&[]);
        let terms: Vec<(Col, f64)> = o_from[&(r, e)]
            .iter()
            .map(|&c| (c, 1.0))
            .chain(
                inputs
                    .iter()
                    .map(|&(m, c)| (c, -plan.refineries[r].recovery[e] * plan.mines[m].grade[e])),
            )
            .collect();
        lp.add_row(f64::NEG_INFINITY, 0.0, terms);
    }
    // Recipe (constraint 5 without classes).
    let mut plants: Vec<&usize> = z_of_plant.keys().collect();
    plants.sort();
    for &p in plants {
        for (e, &beta) in plan.plants[p].recipe.iter().enumerate() {
            if beta <= 0.0 {
                continue;
            }
            let inputs = o_to.get(&(p, e)).map(Vec::as_slice).unwrap_or(&[]);
            let terms: Vec<(Col, f64)> = inputs
                .iter()
                .map(|&c| (c, 1.0))
                .chain(z_of_plant[&p].iter().map(|&z| (z, -beta)))
                .collect();
            lp.add_row(0.0, f64::INFINITY, terms);
        }
    }
    for (p, cols) in &z_of_plant {
        flows
            .entry((FacilityKind::Plant, *p))
            .or_default()
            .extend(cols);
    }
    for cap in &ym.capacity_rows {
        let Some(recourse) = flows.get(&(cap.kind, cap.index)) else {
            continue;
        };
        let a = (loss.factor)(cap.kind, cap.index);
        let (bound, rhs) = limit(cap, a, lp);
        let terms: Vec<(Col, f64)> = recourse.iter().map(|&c| (c, 1.0)).chain(bound).collect();
        lp.add_row(f64::NEG_INFINITY, rhs, terms);
    }
    z_to_market
}
