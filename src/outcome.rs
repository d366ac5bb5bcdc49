//! Solving a plan and reading the answer back in the planner's terms: the
//! JSON object of FORMULATION.md ("What a solve reports") plus the extras the
//! tables show (utilization, resilience detail).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::Result;
use crate::model::{
    self, build_resilience, concentrate_cost, facility, magnet_cost, oxide_cost, BuildOptions,
    FacilityKind, Formulation,
};
use crate::plan::{Objective, Plan};
use crate::solve::{self, LpSolution, SolverOptions, Status};

/// Flows below this many tonnes are not reported.
pub const REPORT_EPS: f64 = 1e-6;

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Cost {
    pub total: f64,
    pub production: f64,
    pub transport: f64,
    pub tariffs: f64,
    pub unmet: f64,
    pub reserves: f64,
    /// Penalties of soft share rules (extension; 0 when every rule is hard).
    pub rules: f64,
}

impl Cost {
    /// The parts of the total, in report order: `(key, label, value)`. The
    /// solve summary, `compare` and `sweep` all list cost parts from here, so
    /// a new part is added in this one place.
    pub fn parts(&self) -> Vec<(&'static str, &'static str, f64)> {
        vec![
            ("production", "production", self.production),
            ("transport", "transport", self.transport),
            ("tariffs", "tariffs", self.tariffs),
            ("unmet", "unmet demand", self.unmet),
            ("reserves", "reserves", self.reserves),
            ("rules", "soft share-rule penalties", self.rules),
        ]
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct ConcentrateFlow {
    pub year: i64,
    pub from: String,
    pub to: String,
    pub tonnes: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct OxideFlow {
    pub year: i64,
    pub from: String,
    pub to: String,
    pub element: String,
    pub tonnes: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct MagnetFlow {
    pub year: i64,
    pub from: String,
    pub to: String,
    pub tonnes: f64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Flows {
    pub concentrate: Vec<ConcentrateFlow>,
    pub oxide: Vec<OxideFlow>,
    pub magnet: Vec<MagnetFlow>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Unmet {
    pub year: i64,
    pub market: String,
    pub tonnes: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct ShareResult {
    pub rule: String,
    pub year: i64,
    pub required: f64,
    pub achieved: Option<f64>,
    pub shadow_price: Option<f64>,
    /// t magnet delivered to the rule's markets.
    pub delivered: f64,
    /// t of clean magnet short of the rule (soft rules; 0 for hard ones).
    pub shortfall: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Utilization {
    pub year: i64,
    pub stage: &'static str,
    pub facility: String,
    pub country: String,
    /// Effective capacity (t REO in or out, or t magnet).
    pub capacity: f64,
    pub throughput: f64,
    /// Throughput over effective capacity.
    pub share: f64,
    /// At capacity (within 1e-6 relative).
    pub binding: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct Reserve {
    pub year: i64,
    pub facility: String,
    pub tonnes: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Served {
    pub disruption: String,
    pub year: i64,
    pub market: String,
    pub demand: f64,
    pub served: f64,
    pub share: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct ResilienceResult {
    pub lambda: f64,
    pub min_cost: f64,
    pub budget: f64,
    pub reserves: Vec<Reserve>,
    pub served: Vec<Served>,
}

/// Everything a solve reports. Serializes to the JSON contract.
#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    pub plan: String,
    pub scenario: Option<String>,
    pub status: Status,
    pub objective: &'static str,
    pub objective_value: Option<f64>,
    pub currency: String,
    pub cost: Option<Cost>,
    pub flows: Flows,
    pub unmet: Vec<Unmet>,
    pub shares: Vec<ShareResult>,
    pub utilization: Vec<Utilization>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resilience: Option<ResilienceResult>,
    /// Size of the LP solved (the last stage for max-resilience).
    pub lp_size: LpSize,
}

#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct LpSize {
    pub columns: usize,
    pub rows: usize,
    pub nonzeros: usize,
}

impl Outcome {
    /// An outcome without a solution (infeasible, failed, or a template).
    pub fn empty(plan: &Plan, status: Status, lp_size: LpSize) -> Outcome {
        Outcome {
            plan: plan.name.clone(),
            scenario: plan.scenario.as_ref().map(|s| s.name.clone()),
            status,
            objective: plan.objective.name(),
            objective_value: None,
            currency: plan.currency.clone(),
            cost: None,
            flows: Flows::default(),
            unmet: Vec::new(),
            shares: Vec::new(),
            utilization: Vec::new(),
            resilience: None,
            lp_size,
        }
    }
}

fn size_of(f: &Formulation) -> LpSize {
    LpSize {
        columns: f.lp.num_cols(),
        rows: f.lp.num_rows(),
        nonzeros: f.lp.num_nonzeros(),
    }
}

/// Solve a plan with its objective and read back the outcome.
pub fn solve_plan(plan: &Plan, options: &SolverOptions) -> Result<Outcome> {
    solve_plan_warm(plan, options, &mut None)
}

/// As [`solve_plan`], starting HiGHS from `warm` (the basis of a previous
/// plan of the same shape, e.g. the previous sweep point) when the LP's
/// shape matches, and leaving the new optimal basis in it (min-cost only).
pub fn solve_plan_warm(
    plan: &Plan,
    options: &SolverOptions,
    warm: &mut Option<solve::Basis>,
) -> Result<Outcome> {
    let formulation = model::formulate(plan, BuildOptions::default());
    let keep = plan.objective == Objective::MinCost;
    let (solution, basis) = solve::solve_warm(&formulation.lp, options, warm.as_ref(), keep)?;
    if basis.is_some() {
        *warm = basis;
    }
    match plan.objective {
        Objective::MinCost => Ok(read_outcome(plan, &formulation, &solution, true, None)),
        Objective::MaxResilience => {
            if solution.status != Status::Optimal {
                return Ok(Outcome::empty(plan, solution.status, size_of(&formulation)));
            }
            solve_resilience(plan, solution.objective, options)
        }
    }
}

fn solve_resilience(plan: &Plan, c_star: f64, options: &SolverOptions) -> Result<Outcome> {
    let mut rlp = build_resilience(plan, c_star);
    let stage2 = solve::solve(&rlp.formulation.lp, options)?;
    if stage2.status != Status::Optimal {
        return Ok(Outcome::empty(
            plan,
            stage2.status,
            size_of(&rlp.formulation),
        ));
    }
    let lambda_star = stage2.col_value[rlp.lambda.0 as usize];
    rlp.minimize_cost_at(lambda_star);
    let stage3 = solve::solve(&rlp.formulation.lp, options)?;
    if stage3.status != Status::Optimal {
        return Ok(Outcome::empty(
            plan,
            stage3.status,
            size_of(&rlp.formulation),
        ));
    }
    let value = |c: model::lp::Col| stage3.col_value[c.0 as usize];
    let mut reserves = Vec::new();
    let mut reserve_cost = 0.0;
    for ym in &rlp.formulation.years {
        for cap in &ym.capacity_rows {
            if let Some(v) = cap.reserve {
                let t = value(v);
                reserve_cost += t * rlp.cost[v.0 as usize];
                if t > REPORT_EPS {
                    reserves.push(Reserve {
                        year: ym.year,
                        facility: facility_id(plan, cap.kind, cap.index).to_string(),
                        tonnes: t,
                    });
                }
            }
        }
    }
    let mut outcome = read_outcome(plan, &rlp.formulation, &stage3, false, Some(reserve_cost));
    outcome.objective_value = Some(lambda_star);
    outcome.resilience = Some(ResilienceResult {
        lambda: lambda_star,
        min_cost: c_star,
        budget: plan.resilience.budget,
        reserves,
        served: Vec::new(),
    });
    // What the reported plan can serve under each disruption, market by
    // market and year by year (the LP itself only guarantees λ* everywhere).
    let served = crate::stress::served_under_disruptions(plan, &outcome, options)?;
    if let Some(r) = outcome.resilience.as_mut() {
        r.served = served;
    }
    Ok(outcome)
}

pub fn facility_id(plan: &Plan, kind: FacilityKind, index: usize) -> &str {
    &facility(plan, kind, index).id
}

pub fn stage_name(kind: FacilityKind) -> &'static str {
    match kind {
        FacilityKind::Mine => "mining",
        FacilityKind::Refinery => "refining",
        FacilityKind::Plant => "magnet",
    }
}

/// Read a solved LP back into flows, costs, shares and utilization.
fn read_outcome(
    plan: &Plan,
    f: &Formulation,
    sol: &LpSolution,
    with_duals: bool,
    reserve_cost: Option<f64>,
) -> Outcome {
    let mut out = Outcome::empty(plan, sol.status, size_of(f));
    if sol.status != Status::Optimal {
        return out;
    }
    let v = |c: model::lp::Col| sol.col_value[c.0 as usize];
    let mut cost = Cost::default();
    let mut add = |w: f64, t: f64, parts: model::CostParts| {
        cost.production += w * t * parts.production;
        cost.transport += w * t * parts.transport;
        cost.tariffs += w * t * parts.tariffs;
    };
    for ym in &f.years {
        let (y, w) = (ym.year, ym.weight);
        for x in &ym.concentrate {
            let t = v(x.col);
            if t != 0.0 {
                add(w, t, concentrate_cost(plan, y, x.mine, x.refinery));
            }
            if t > REPORT_EPS {
                out.flows.concentrate.push(ConcentrateFlow {
                    year: y,
                    from: plan.mines[x.mine].facility.id.clone(),
                    to: plan.refineries[x.refinery].facility.id.clone(),
                    tonnes: t,
                });
            }
        }
        let mut oxide: BTreeMap<(usize, usize, usize), f64> = BTreeMap::new();
        for o in &ym.oxide {
            let t = v(o.col);
            if t != 0.0 {
                add(w, t, oxide_cost(plan, y, o.refinery, o.plant, o.element));
                *oxide.entry((o.refinery, o.plant, o.element)).or_default() += t;
            }
        }
        for ((r, p, e), t) in oxide {
            if t > REPORT_EPS {
                out.flows.oxide.push(OxideFlow {
                    year: y,
                    from: plan.refineries[r].facility.id.clone(),
                    to: plan.plants[p].facility.id.clone(),
                    element: plan.elements[e].name.clone(),
                    tonnes: t,
                });
            }
        }
        let mut magnet: BTreeMap<(usize, usize), f64> = BTreeMap::new();
        for z in &ym.magnet {
            let t = v(z.col);
            if t != 0.0 {
                add(w, t, magnet_cost(plan, y, z.plant, z.market));
                *magnet.entry((z.plant, z.market)).or_default() += t;
            }
        }
        for ((p, k), t) in magnet {
            if t > REPORT_EPS {
                out.flows.magnet.push(MagnetFlow {
                    year: y,
                    from: plan.plants[p].facility.id.clone(),
                    to: plan.markets[k].id.clone(),
                    tonnes: t,
                });
            }
        }
        for u in &ym.unmet {
            let t = v(u.col);
            cost.unmet += w * t * plan.markets[u.market].unmet_penalty.unwrap_or(0.0);
            if t > REPORT_EPS {
                out.unmet.push(Unmet {
                    year: y,
                    market: plan.markets[u.market].id.clone(),
                    tonnes: t,
                });
            }
        }
        for s in &ym.share_rows {
            let rule = &plan.share_rules[s.rule];
            let mut delivered = 0.0;
            let mut clean = 0.0;
            for z in ym
                .magnet
                .iter()
                .filter(|z| rule.markets.contains(&z.market))
            {
                let t = v(z.col);
                delivered += t;
                if rule.stages & !f.classes.magnet(plan, z.plant, z.class) == 0 {
                    clean += t;
                }
            }
            let achieved = (delivered > REPORT_EPS).then(|| (clean / delivered).clamp(0.0, 1.0));
            let shadow_price = with_duals.then(|| {
                // π ≥ 0 in theory; clear solver noise and -0.0.
                let pi = sol.row_dual[s.row.0 as usize];
                if pi > 1e-9 {
                    pi * delivered / 100.0
                } else {
                    0.0
                }
            });
            let shortfall = s.shortfall.map_or(0.0, |c| v(c).max(0.0));
            cost.rules += w * shortfall * rule.penalty.unwrap_or(0.0);
            out.shares.push(ShareResult {
                rule: rule.id.clone(),
                year: y,
                required: s.required,
                achieved,
                shadow_price,
                delivered,
                shortfall: if shortfall > REPORT_EPS {
                    shortfall
                } else {
                    0.0
                },
            });
        }
        for cap in &ym.capacity_rows {
            let throughput: f64 =
                f.lp.row_terms(cap.row)
                    .filter(|&(c, _)| Some(c) != cap.reserve)
                    .map(|(c, _)| v(c))
                    .sum();
            let fac = facility(plan, cap.kind, cap.index);
            out.utilization.push(Utilization {
                year: y,
                stage: stage_name(cap.kind),
                facility: fac.id.clone(),
                country: fac.country.clone(),
                capacity: cap.capacity,
                throughput,
                share: if cap.capacity > 0.0 {
                    throughput / cap.capacity
                } else {
                    0.0
                },
                binding: throughput >= cap.capacity * (1.0 - 1e-6) - 1e-9,
            });
        }
    }
    cost.reserves = reserve_cost.unwrap_or(0.0);
    cost.total =
        cost.production + cost.transport + cost.tariffs + cost.unmet + cost.reserves + cost.rules;
    out.objective_value = Some(sol.objective);
    out.cost = Some(cost);
    out
}
