//! Solving a plan and reading the answer back in the planner's terms: the
//! JSON object of FORMULATION.md ("What a solve reports") plus the extras the
//! tables show (utilization, resilience detail).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::Result;
use crate::model::{
    self, build_resilience, concentrate_cost, facility, magnet_cost, magnet_made_cost,
    magnet_route_cost, oxide_cost, oxide_route_cost, BuildOptions, FacilityKind, Formulation,
};
use crate::plan::{Objective, Plan, Stage, StageSet, StockProduct};
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
    /// Capital charge and fixed cost of capacity built (`expand`).
    pub investment: f64,
    /// Penalties for contract shortfalls.
    pub contracts: f64,
    /// Production credits paid (zero or negative).
    pub subsidies: f64,
    /// Cost of holding stock.
    pub holding: f64,
    /// What the chain uses up: production, transport, investment, reserves
    /// and holding ([`Cost::finish`] sets it from the parts).
    pub resource: f64,
    /// Money that changes hands without using anything up: tariffs, less
    /// subsidies.
    pub transfers: f64,
    /// Charges for what did not happen: unmet demand, soft share rules
    /// missed, contract volumes short.
    pub penalties: f64,
}

impl Cost {
    /// Every part of the total, in report order: `(key, label, value)`.
    /// One list for the JSON, the summary and the comparisons.
    pub fn parts(&self) -> [(&'static str, &'static str, f64); 10] {
        [
            ("production", "production", self.production),
            ("transport", "transport", self.transport),
            ("tariffs", "tariffs", self.tariffs),
            ("unmet", "unmet demand", self.unmet),
            ("reserves", "spare-capacity reserves", self.reserves),
            ("rules", "soft share-rule penalties", self.rules),
            ("investment", "investment", self.investment),
            ("contracts", "contract penalties", self.contracts),
            ("subsidies", "subsidies", self.subsidies),
            ("holding", "stock holding", self.holding),
        ]
    }

    /// Add another cost's parts to these (the total and groups are set by
    /// [`Cost::finish`]).
    pub fn add(&mut self, other: &Cost) {
        self.production += other.production;
        self.transport += other.transport;
        self.tariffs += other.tariffs;
        self.unmet += other.unmet;
        self.reserves += other.reserves;
        self.rules += other.rules;
        self.investment += other.investment;
        self.contracts += other.contracts;
        self.subsidies += other.subsidies;
        self.holding += other.holding;
    }

    /// The sum of the parts.
    pub fn sum_of_parts(&self) -> f64 {
        self.parts().iter().map(|p| p.2).sum()
    }

    /// Set the total and the three groups from the parts. Every part is in
    /// exactly one group, so `resource + transfers + penalties = total`.
    pub fn finish(&mut self) {
        self.total = self.sum_of_parts();
        self.resource =
            self.production + self.transport + self.reserves + self.investment + self.holding;
        self.transfers = self.tariffs + self.subsidies;
        self.penalties = self.unmet + self.rules + self.contracts;
    }

    /// The three groups, in report order: `(key, label, value)`.
    pub fn groups(&self) -> [(&'static str, &'static str, f64); 3] {
        [
            ("resource", "resource cost", self.resource),
            (
                "transfers",
                "transfers (tariffs less subsidies)",
                self.transfers,
            ),
            (
                "penalties",
                "penalties (unmet, soft rules, contracts)",
                self.penalties,
            ),
        ]
    }
}

/// The cost of one year (`cost_by_year[]`).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct YearCost {
    pub year: i64,
    #[serde(flatten)]
    pub cost: Cost,
}

/// Capacity built (FORMULATION.md `builds[]`).
#[derive(Clone, Debug, Serialize)]
pub struct Build {
    pub facility: String,
    pub stage: &'static str,
    pub country: String,
    /// The year it comes online.
    pub year: i64,
    /// t/yr added.
    pub capacity: f64,
    /// Overnight cost `capex × capacity` (undiscounted).
    pub capex: f64,
}

/// A contract in one year it applies (`contracts[]`).
#[derive(Clone, Debug, Serialize)]
pub struct ContractResult {
    pub contract: String,
    pub year: i64,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub delivered: f64,
    pub shortfall: f64,
}

/// A subsidy's payments in one year (`subsidies[]`, discounted).
#[derive(Clone, Debug, Serialize)]
pub struct SubsidyResult {
    pub subsidy: String,
    pub year: i64,
    pub amount: f64,
}

/// A stockpile at the end of one year (`stockpiles[]`).
#[derive(Clone, Debug, Serialize)]
pub struct StockResult {
    pub stockpile: String,
    /// The stockpile's index in the plan (for `stress`; not reported).
    #[serde(skip)]
    pub index: usize,
    pub year: i64,
    pub level: f64,
    pub added: f64,
    pub released: f64,
    pub capacity: f64,
    pub min_level: f64,
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
    /// The facility's stage and index in the plan (for `stress`; not reported).
    #[serde(skip)]
    pub at: (FacilityKind, usize),
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
    /// The facility's stage and index in the plan (not reported).
    #[serde(skip)]
    pub at: (FacilityKind, usize),
    pub tonnes: f64,
}

pub use crate::recourse::Served;

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
    pub objective: crate::plan::Objective,
    pub objective_value: Option<f64>,
    pub currency: String,
    pub cost: Option<Cost>,
    /// The cost year by year, in the same parts and groups (discounted):
    /// `cost` is their sum.
    pub cost_by_year: Vec<YearCost>,
    pub flows: Flows,
    pub unmet: Vec<Unmet>,
    pub shares: Vec<ShareResult>,
    pub utilization: Vec<Utilization>,
    pub builds: Vec<Build>,
    pub contracts: Vec<ContractResult>,
    pub subsidies: Vec<SubsidyResult>,
    pub stockpiles: Vec<StockResult>,
    /// Gap and nodes of a mixed-integer solve (plans with lumpy builds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mip: Option<crate::solve::MipInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resilience: Option<ResilienceResult>,
    /// Size of the LP solved (the last stage for max-resilience).
    pub lp_size: LpSize,
    /// The flows by origin class, for plans whose share rules tell classes
    /// apart (empty otherwise; not reported).
    #[serde(skip)]
    pub lots: Lots,
}

/// Flows by origin class (FORMULATION.md's `x`, `o`, `q`, `z`, and the
/// stockpile shipments), year by year: what the LP keeps apart for the
/// share rules, so that a market's magnets can be traced lot by lot.
/// Indices are into the plan's facility, market and stockpile lists;
/// classes are stage masks. Only shipments above [`REPORT_EPS`].
#[derive(Clone, Debug, Default)]
pub struct Lots {
    pub years: BTreeMap<i64, YearLots>,
}

#[derive(Clone, Debug, Default)]
pub struct YearLots {
    /// `(mine, refinery, t REO)`; the class follows from the mine.
    pub concentrate: Vec<(usize, usize, f64)>,
    /// `(refinery, plant, element, class b, t)`.
    pub oxide: Vec<(usize, usize, usize, StageSet, f64)>,
    /// `(plant, element, oxide class b, production class d, t)`.
    pub uses: Vec<(usize, usize, StageSet, StageSet, f64)>,
    /// `(plant, market, production class d, t)`.
    pub magnet: Vec<(usize, usize, StageSet, f64)>,
    /// Into stockpiles: `(stockpile, refinery or plant, class, t)` (a magnet
    /// stockpile's class is the magnets' class `class(p,d)`).
    pub stock_in: Vec<(usize, usize, StageSet, f64)>,
    /// Out of stockpiles: `(stockpile, plant or market, class, t)`.
    pub stock_out: Vec<(usize, usize, StageSet, f64)>,
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
            objective: plan.objective,
            objective_value: None,
            currency: plan.currency.clone(),
            cost: None,
            cost_by_year: Vec::new(),
            flows: Flows::default(),
            unmet: Vec::new(),
            shares: Vec::new(),
            utilization: Vec::new(),
            builds: Vec::new(),
            contracts: Vec::new(),
            subsidies: Vec::new(),
            stockpiles: Vec::new(),
            mip: None,
            resilience: None,
            lp_size,
            lots: Lots::default(),
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
    solve_plan_in(plan, options, warm, None)
}

/// As [`solve_plan_warm`], changing the live HiGHS models of `live` where
/// the plan's LP differs from the last one solved there only in costs and
/// bounds (the points of a sweep; see [`solve::LiveModels`]).
pub fn solve_plan_live(
    plan: &Plan,
    options: &SolverOptions,
    warm: &mut Option<solve::Basis>,
    live: &mut solve::LiveModels,
) -> Result<Outcome> {
    solve_plan_in(plan, options, warm, Some(live))
}

fn solve_plan_in(
    plan: &Plan,
    options: &SolverOptions,
    warm: &mut Option<solve::Basis>,
    live: Option<&mut solve::LiveModels>,
) -> Result<Outcome> {
    let formulation = model::formulate(plan, BuildOptions::default());
    let keep = plan.objective == Objective::MinCost;
    let (solution, basis) = if formulation.lp.is_mip() {
        (solve::solve_mip_with_duals(&formulation.lp, options)?, None)
    } else if let Some(live) = live {
        solve::solve_live(&formulation.lp, options, warm.as_ref(), keep, live)?
    } else {
        solve::solve_warm(&formulation.lp, options, warm.as_ref(), keep)?
    };
    if basis.is_some() {
        *warm = basis;
    }
    match plan.objective {
        Objective::MinCost => {
            let outcome = read_outcome(plan, &formulation, &solution, true, None);
            if solution.status != Status::Optimal || model::Classes::for_plan(plan).tracked == 0 {
                return Ok(outcome);
            }
            relabelled(plan, &formulation, &solution, outcome, options)
        }
        Objective::MaxResilience => {
            if solution.status != Status::Optimal {
                return Ok(Outcome::empty(plan, solution.status, size_of(&formulation)));
            }
            solve_resilience(plan, solution.objective, options)
        }
    }
}

/// HiGHS's dual feasibility tolerance for the two max-resilience stages.
/// At its default (1e-7) simplex stopped the λ stage of us-reserve-2030 up
/// to 3e-5 short of λ* (λ's coefficient 1 against demands of 1e4 t), and
/// two equivalent plans (no reserve; every reserve at capacity 0) then
/// reported different λ* and costs 14 M USD apart. At 1e-10 they agree
/// with each other and with IPM to 1e-12 (tests/resilience.rs).
pub const RESILIENCE_DUAL_TOLERANCE: f64 = 1e-10;

/// The same optimal plan with its origin labels chosen to make as much as
/// can be of what the share rules' markets receive clean at the rules'
/// stages. The LP is indifferent to labels where a rule is slack, so the
/// solver's own labelling of a slack rule is arbitrary (a 0 % rule had
/// "achieved" 7.8 % of magnets that were physically 99 % clean). Every
/// physical quantity — each shipment route's total, each stock level, each
/// build, shortfall and unmet tonne — is held at its optimal value and only
/// the split over origin classes moves, so costs, flows and the objective
/// are unchanged and every rule's share can only rise (`achieved ≥
/// required` still holds). Shadow prices are the original LP's. Where the
/// relabelling LP does not solve, the solver's own labels stand.
fn relabelled(
    plan: &Plan,
    f: &Formulation,
    sol: &LpSolution,
    outcome: Outcome,
    options: &SolverOptions,
) -> Result<Outcome> {
    let x = &sol.col_value;
    let mut lp = f.lp.clone();
    let n = lp.num_cols();
    let mut free = vec![false; n];
    // A physical total over class-split columns, held (to solver noise).
    let hold = |lp: &mut model::lp::Lp, free: &mut [bool], cols: &[model::lp::Col]| {
        let total: f64 = cols.iter().map(|c| x[c.0 as usize]).sum();
        let slack = 1e-9 * total.abs().max(1.0);
        lp.add_row(total - slack, total + slack, cols.iter().map(|&c| (c, 1.0)));
        for c in cols {
            free[c.0 as usize] = true;
        }
    };
    for ym in &f.years {
        let mut oxide: BTreeMap<(usize, usize, usize), Vec<model::lp::Col>> = BTreeMap::new();
        for o in &ym.oxide {
            oxide
                .entry((o.refinery, o.plant, o.element))
                .or_default()
                .push(o.col);
        }
        let mut magnet: BTreeMap<(usize, usize), Vec<model::lp::Col>> = BTreeMap::new();
        for z in &ym.magnet {
            magnet.entry((z.plant, z.market)).or_default().push(z.col);
        }
        let mut stock_in: BTreeMap<(usize, usize), Vec<model::lp::Col>> = BTreeMap::new();
        for i in &ym.stock_in {
            stock_in
                .entry((i.stockpile, i.from))
                .or_default()
                .push(i.col);
        }
        let mut stock_out: BTreeMap<(usize, usize), Vec<model::lp::Col>> = BTreeMap::new();
        for o in &ym.stock_out {
            stock_out
                .entry((o.stockpile, o.to))
                .or_default()
                .push(o.col);
        }
        let mut levels: BTreeMap<usize, Vec<model::lp::Col>> = BTreeMap::new();
        for l in &ym.levels {
            levels.entry(l.stockpile).or_default().push(l.col);
        }
        for cols in oxide
            .values()
            .chain(magnet.values())
            .chain(stock_in.values())
            .chain(stock_out.values())
            .chain(levels.values())
        {
            hold(&mut lp, &mut free, cols);
        }
        // Which oxide each production class uses is a label too.
        for u in &ym.uses {
            free[u.col.0 as usize] = true;
        }
    }
    for (c, is_free) in free.iter().enumerate() {
        if !is_free {
            lp.col_lower[c] = x[c];
            lp.col_upper[c] = x[c];
        }
    }
    lp.integer_cols.clear();
    lp.sense = model::lp::Sense::Minimize;
    lp.col_cost.iter_mut().for_each(|c| *c = 0.0);
    for ym in &f.years {
        for s in &ym.share_rows {
            let rule = &plan.share_rules[s.rule];
            for (_, class, col) in ym
                .deliveries(plan, &f.classes)
                .filter(|(k, _, _)| rule.markets.contains(k))
            {
                if rule.stages & !class == 0 {
                    lp.col_cost[col.0 as usize] -= 1.0;
                }
            }
        }
    }
    let relabel = solve::solve(&lp, options)?;
    if relabel.status != Status::Optimal {
        return Ok(outcome);
    }
    let mut out = read_outcome(plan, f, &relabel, false, None);
    for (s, o) in out.shares.iter_mut().zip(&outcome.shares) {
        s.shadow_price = o.shadow_price;
    }
    out.objective_value = outcome.objective_value;
    out.mip = outcome.mip;
    Ok(out)
}

fn solve_resilience(plan: &Plan, c_star: f64, options: &SolverOptions) -> Result<Outcome> {
    let mut rlp = build_resilience(plan, c_star);
    let mut options = options.clone();
    // A tolerance the user sets (--highs-option) stands.
    if !options
        .highs_options
        .iter()
        .any(|(k, _)| k == "dual_feasibility_tolerance")
    {
        options.highs_options.push((
            "dual_feasibility_tolerance".into(),
            RESILIENCE_DUAL_TOLERANCE.to_string(),
        ));
    }
    let options = &options;
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
    let mut reserve_cost: BTreeMap<i64, f64> = BTreeMap::new();
    for ym in &rlp.formulation.years {
        for cap in &ym.capacity_rows {
            if let Some(v) = cap.reserve {
                let t = value(v);
                *reserve_cost.entry(ym.year).or_default() += t * rlp.cost[v.0 as usize];
                if t > REPORT_EPS {
                    reserves.push(Reserve {
                        year: ym.year,
                        facility: facility_id(plan, cap.kind, cap.index).to_string(),
                        at: (cap.kind, cap.index),
                        tonnes: t,
                    });
                }
            }
        }
    }
    let mut outcome = read_outcome(plan, &rlp.formulation, &stage3, false, Some(&reserve_cost));
    outcome.objective_value = Some(lambda_star + 0.0); // `+ 0.0`: no -0 from the solver
    outcome.mip = stage3.mip;
    outcome.resilience = Some(ResilienceResult {
        lambda: lambda_star,
        min_cost: c_star,
        budget: plan.resilience.budget,
        reserves,
        served: Vec::new(),
    });
    // What the reported plan can serve under each disruption, market by
    // market and year by year (the LP itself only guarantees λ* everywhere).
    // With stockpiles the years of a disruption are linked through the
    // stock, so the per-year recomputation does not apply: report the
    // recourse deliveries of the solved LP itself (each at least λ*).
    let served = if plan.stockpiles.is_empty() {
        crate::recourse::served_under_disruptions(plan, &outcome.planned_throughput(), options)?
    } else {
        rlp.served
            .iter()
            .map(|row| {
                let t: f64 = row
                    .deliveries
                    .iter()
                    .map(|&c| value(c))
                    .sum::<f64>()
                    .max(0.0);
                Served {
                    disruption: plan.disruptions[row.disruption].id.clone(),
                    year: row.year,
                    market: plan.markets[row.market].id.clone(),
                    demand: row.demand,
                    served: t,
                    share: (t / row.demand).clamp(0.0, 1.0),
                }
            })
            .collect()
    };
    if let Some(r) = outcome.resilience.as_mut() {
        r.served = served;
    }
    Ok(outcome)
}

impl Outcome {
    /// The plan's throughput plus reserves, per facility id and year: what
    /// the plan itself has to fall back on in a crisis.
    pub fn planned_throughput(&self) -> crate::recourse::ByFacilityYear {
        let mut planned = crate::recourse::ByFacilityYear::new();
        for u in &self.utilization {
            *planned.entry((u.at.0, u.at.1, u.year)).or_default() += u.throughput;
        }
        if let Some(r) = &self.resilience {
            for v in &r.reserves {
                *planned.entry((v.at.0, v.at.1, v.year)).or_default() += v.tonnes;
            }
        }
        planned
    }
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

/// The flows of a solved LP by origin class.
fn read_lots(f: &Formulation, sol: &LpSolution) -> Lots {
    let v = |c: model::lp::Col| sol.col_value[c.0 as usize];
    let mut lots = Lots::default();
    for ym in &f.years {
        let mut y = YearLots::default();
        let pos = |c| Some(v(c)).filter(|&t| t > REPORT_EPS);
        for x in &ym.concentrate {
            if let Some(t) = pos(x.col) {
                y.concentrate.push((x.mine, x.refinery, t));
            }
        }
        for o in &ym.oxide {
            if let Some(t) = pos(o.col) {
                y.oxide.push((o.refinery, o.plant, o.element, o.class, t));
            }
        }
        for q in &ym.uses {
            if let Some(t) = pos(q.col) {
                y.uses.push((q.plant, q.element, q.class, q.production, t));
            }
        }
        for z in &ym.magnet {
            if let Some(t) = pos(z.col) {
                y.magnet.push((z.plant, z.market, z.class, t));
            }
        }
        for i in &ym.stock_in {
            if let Some(t) = pos(i.col) {
                y.stock_in.push((i.stockpile, i.from, i.class, t));
            }
        }
        for o in &ym.stock_out {
            if let Some(t) = pos(o.col) {
                y.stock_out.push((o.stockpile, o.to, o.class, t));
            }
        }
        lots.years.insert(ym.year, y);
    }
    lots
}

/// Read a solved LP back into flows, costs, shares and utilization.
fn read_outcome(
    plan: &Plan,
    f: &Formulation,
    sol: &LpSolution,
    with_duals: bool,
    reserve_cost: Option<&BTreeMap<i64, f64>>,
) -> Outcome {
    let mut out = Outcome::empty(plan, sol.status, size_of(f));
    if sol.status != Status::Optimal {
        return out;
    }
    out.mip = sol.mip;
    if model::Classes::for_plan(plan).tracked != 0 {
        out.lots = read_lots(f, sol);
    }
    let v = |c: model::lp::Col| sol.col_value[c.0 as usize];
    // Every cost is booked in its year; the total is the sum of the years.
    let mut by_year: BTreeMap<i64, Cost> = plan.years().map(|y| (y, Cost::default())).collect();
    let mut flow_cost: BTreeMap<i64, model::CostParts> = BTreeMap::new();
    let mut add = |y: i64, w: f64, t: f64, parts: model::CostParts| {
        let c = flow_cost.entry(y).or_default();
        c.production += w * t * parts.production;
        c.transport += w * t * parts.transport;
        c.tariffs += w * t * parts.tariffs;
        c.subsidies += w * t * parts.subsidies;
    };
    // Throughput per (stage, facility index, year), for subsidies.
    let mut throughput: BTreeMap<(FacilityKind, usize, i64), f64> = BTreeMap::new();
    for ym in &f.years {
        let (y, w) = (ym.year, ym.weight);
        for x in &ym.concentrate {
            let t = v(x.col);
            if t != 0.0 {
                add(y, w, t, concentrate_cost(plan, y, x.mine, x.refinery));
                *throughput
                    .entry((FacilityKind::Mine, x.mine, y))
                    .or_default() += t;
                *throughput
                    .entry((FacilityKind::Refinery, x.refinery, y))
                    .or_default() += t;
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
                add(y, w, t, oxide_cost(plan, y, o.refinery, o.plant, o.element));
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
                add(y, w, t, magnet_cost(plan, y, z.plant, z.market));
                *magnet.entry((z.plant, z.market)).or_default() += t;
                *throughput
                    .entry((FacilityKind::Plant, z.plant, y))
                    .or_default() += t;
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
        // Stockpile shipments: costs, plant throughput, and the stock table.
        let mut added = vec![0.0; plan.stockpiles.len()];
        let mut released = vec![0.0; plan.stockpiles.len()];
        for i in &ym.stock_in {
            let t = v(i.col);
            added[i.stockpile] += t;
            if t == 0.0 {
                continue;
            }
            let stock = &plan.stockpiles[i.stockpile];
            match stock.product {
                StockProduct::Oxide(e) => {
                    let from = &plan.refineries[i.from].facility.country;
                    add(y, w, t, oxide_route_cost(plan, y, e, from, &stock.country));
                }
                StockProduct::Magnet => {
                    add(y, w, t, magnet_made_cost(plan, y, i.from, &stock.country));
                    *throughput
                        .entry((FacilityKind::Plant, i.from, y))
                        .or_default() += t;
                }
            }
        }
        for o in &ym.stock_out {
            let t = v(o.col);
            released[o.stockpile] += t;
            if t == 0.0 {
                continue;
            }
            let stock = &plan.stockpiles[o.stockpile];
            match stock.product {
                StockProduct::Oxide(e) => {
                    let to = &plan.plants[o.to].facility.country;
                    add(y, w, t, oxide_route_cost(plan, y, e, &stock.country, to));
                }
                StockProduct::Magnet => {
                    let to = &plan.markets[o.to].country;
                    add(y, w, t, magnet_route_cost(plan, y, &stock.country, to));
                }
            }
        }
        // Stock shipments appear among the flows, with the stockpile's id
        // as `to` or `from` (ids share one namespace).
        let mut stock_flows: BTreeMap<(bool, usize, usize), f64> = BTreeMap::new();
        for i in &ym.stock_in {
            *stock_flows.entry((true, i.stockpile, i.from)).or_default() += v(i.col);
        }
        for o in &ym.stock_out {
            *stock_flows.entry((false, o.stockpile, o.to)).or_default() += v(o.col);
        }
        for ((into, s, other), t) in stock_flows {
            if t <= REPORT_EPS {
                continue;
            }
            let stock = &plan.stockpiles[s];
            let (from, to) = match (stock.product, into) {
                (StockProduct::Oxide(_), true) => {
                    (plan.refineries[other].facility.id.clone(), stock.id.clone())
                }
                (StockProduct::Oxide(_), false) => {
                    (stock.id.clone(), plan.plants[other].facility.id.clone())
                }
                (StockProduct::Magnet, true) => {
                    (plan.plants[other].facility.id.clone(), stock.id.clone())
                }
                (StockProduct::Magnet, false) => (stock.id.clone(), plan.markets[other].id.clone()),
            };
            match stock.product {
                StockProduct::Oxide(e) => out.flows.oxide.push(OxideFlow {
                    year: y,
                    from,
                    to,
                    element: plan.elements[e].name.clone(),
                    tonnes: t,
                }),
                StockProduct::Magnet => out.flows.magnet.push(MagnetFlow {
                    year: y,
                    from,
                    to,
                    tonnes: t,
                }),
            }
        }
        let mut level = vec![0.0; plan.stockpiles.len()];
        for l in &ym.levels {
            level[l.stockpile] += v(l.col);
        }
        for (s, stock) in plan.stockpiles.iter().enumerate() {
            by_year.entry(y).or_default().holding += w * stock.holding_cost.at(y) * level[s];
            out.stockpiles.push(StockResult {
                stockpile: stock.id.clone(),
                index: s,
                year: y,
                level: clean(level[s]),
                added: clean(added[s]),
                released: clean(released[s]),
                capacity: stock.capacity.at(y),
                min_level: stock.min_level.at(y),
            });
        }
        for u in &ym.unmet {
            let t = v(u.col);
            by_year.entry(y).or_default().unmet +=
                w * t * plan.markets[u.market].unmet_penalty.unwrap_or(0.0);
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
            let mut clean_t = 0.0;
            for (_, class, col) in ym
                .deliveries(plan, &f.classes)
                .filter(|(k, _, _)| rule.markets.contains(k))
            {
                let t = v(col);
                delivered += t;
                if rule.stages & !class == 0 {
                    clean_t += t;
                }
            }
            let achieved = (delivered > REPORT_EPS).then(|| (clean_t / delivered).clamp(0.0, 1.0));
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
            by_year.entry(y).or_default().rules += w * shortfall * rule.penalty.unwrap_or(0.0);
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
                    .filter(|&(c, coef)| coef > 0.0 && Some(c) != cap.reserve)
                    .map(|(c, _)| v(c))
                    .sum();
            let built: f64 = f
                .builds
                .iter()
                .filter(|b| b.kind == cap.kind && b.index == cap.index && b.exists_in(y))
                .map(|b| v(b.col))
                .sum();
            let capacity = cap.capacity + built;
            let fac = facility(plan, cap.kind, cap.index);
            // `+ 0.0`: a solver's -0 is no sign.
            let throughput = throughput + 0.0;
            out.utilization.push(Utilization {
                year: y,
                stage: stage_name(cap.kind),
                facility: fac.id.clone(),
                at: (cap.kind, cap.index),
                country: fac.country.clone(),
                capacity,
                throughput,
                share: if capacity > 0.0 {
                    throughput / capacity + 0.0
                } else {
                    0.0
                },
                // A facility with no capacity that year (not online, not
                // built) has nothing to run at: it is not "at capacity".
                binding: capacity > REPORT_EPS && throughput >= capacity * (1.0 - 1e-6) - 1e-9,
            });
        }
    }
    // Investment and the build plan.
    for b in &f.builds {
        let k = v(b.col);
        let fac = facility(plan, b.kind, b.index);
        for t in plan.years() {
            let c = model::build_cost_in_year(plan, fac, b.year, t);
            if c != 0.0 {
                by_year.entry(t).or_default().investment += k * c;
            }
        }
        if k > REPORT_EPS {
            let capex = fac.expand.as_ref().map_or(0.0, |x| x.capex);
            out.builds.push(Build {
                facility: fac.id.clone(),
                stage: stage_name(b.kind),
                country: fac.country.clone(),
                year: b.year,
                capacity: k,
                capex: capex * k,
            });
        }
    }
    // Contracts.
    for c in &f.contracts {
        let contract = &plan.contracts[c.contract];
        let delivered: f64 = c.flows.iter().map(|&x| v(x)).sum();
        if let Some(h) = c.shortfall {
            by_year.entry(c.year).or_default().contracts +=
                plan.weight(c.year) * contract.penalty.unwrap_or(0.0) * v(h);
        }
        let shortfall = c.min.map_or(0.0, |m| (m - delivered).max(0.0));
        out.contracts.push(ContractResult {
            contract: contract.id.clone(),
            year: c.year,
            min: c.min,
            max: c.max,
            delivered: clean(delivered),
            shortfall: if shortfall > REPORT_EPS {
                shortfall
            } else {
                0.0
            },
        });
    }
    // Each subsidy's own payments.
    for s in &plan.subsidies {
        let kind = match s.stage {
            Stage::Mining => FacilityKind::Mine,
            Stage::Refining => FacilityKind::Refinery,
            Stage::Magnet => FacilityKind::Plant,
        };
        for y in plan.years() {
            let amount: f64 = throughput
                .range((kind, 0, y)..=(kind, usize::MAX, y))
                .filter(|((_, _, yy), _)| *yy == y)
                .map(|(&(_, i, _), &t)| s.per_unit(facility(plan, kind, i), y) * t)
                .sum::<f64>()
                * plan.weight(y);
            if amount > REPORT_EPS {
                out.subsidies.push(SubsidyResult {
                    subsidy: s.id.clone(),
                    year: y,
                    amount,
                });
            }
        }
    }
    let mut cost = Cost::default();
    for (y, c) in &mut by_year {
        if let Some(f) = flow_cost.get(y) {
            c.production += f.production;
            c.transport += f.transport;
            c.tariffs += f.tariffs;
            c.subsidies += f.subsidies;
        }
        c.reserves = reserve_cost.and_then(|r| r.get(y)).copied().unwrap_or(0.0);
        c.finish();
        cost.add(c);
    }
    cost.finish();
    out.cost_by_year = by_year
        .into_iter()
        .map(|(year, cost)| YearCost { year, cost })
        .collect();
    out.objective_value = Some(sol.objective + 0.0);
    out.cost = Some(cost);
    out
}

/// Solver noise below the reporting threshold reads as 0.
fn clean(t: f64) -> f64 {
    if t.abs() > REPORT_EPS {
        t
    } else {
        0.0
    }
}
