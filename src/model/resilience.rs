//! The max-resilience LP of FORMULATION.md: the min-cost constraints with
//! spare-capacity reserves, a budget row, and per-disruption recourse flows
//! that must serve at least `λ` of every market's demand.

use std::collections::{BTreeMap, HashMap};

use super::lp::Lp;
use super::lp::{Col, Row, Sense};
use super::{
    formulate, recipe_row, separation_row, BuildOptions, CapacityRow, FacilityKind, Formulation,
    YearModel,
};
use crate::plan::{Disruption, Plan, Product, StockProduct};

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
        // Recourse stock flows of each disrupted year, for the level rows.
        let mut stock_years: Vec<(i64, StockCols, StockCols)> = Vec::new();
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
            let recourse = add_recourse(plan, lp, ym, &loss, true, &|cap, a, lp| {
                // throughput + reserve: the row's +1 terms (built capacity
                // enters it with −1).
                let planned: Vec<(Col, f64)> = lp
                    .row_terms(cap.row)
                    .filter(|&(_, v)| v > 0.0)
                    .map(|(c, _)| (c, -a))
                    .collect();
                (planned, 0.0)
            });
            let z_to_market = &recourse.to_market;
            stock_years.push((ym.year, recourse.stock_in, recourse.stock_out));
            // Deliveries: at most demand, at least λ × demand.
            for (k, market) in plan.markets.iter().enumerate() {
                let d = market.demand.at(year);
                if d <= 0.0 {
                    continue;
                }
                let deliveries = z_to_market.get(&k).cloned().unwrap_or_default();
                lp.add_row(f64::NEG_INFINITY, d, deliveries.iter().map(|&c| (c, 1.0)));
                if !plan.resilience.counts(k) {
                    continue; // served up to demand, but not part of λ
                }
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
        let years = &formulation.years;
        recourse_levels(plan, lp, &stock_years, &|s, year| {
            // The plan's own stock at the end of the year before.
            match years.iter().find(|ym| ym.year == year - 1) {
                Some(before) => (
                    before
                        .levels
                        .iter()
                        .filter(|l| l.stockpile == s)
                        .map(|l| (l.col, -1.0))
                        .collect(),
                    0.0,
                ),
                None => (Vec::new(), plan.stockpiles[s].initial),
            }
        });
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

/// Recourse flows into or out of each stockpile (by index) in one year.
pub type StockCols = HashMap<usize, Vec<Col>>;

/// Where a recourse stock level starts: `start(stockpile, first year)` gives
/// the terms and right-hand side of `R[first] + terms − in + out = rhs`
/// (the plan's level columns at the end of the year before, or a number).
pub type StockStart<'a> = dyn Fn(usize, i64) -> (Vec<(Col, f64)>, f64) + 'a;

/// The recourse stock levels of one loss: for every stockpile,
/// `R[y] = R[y−1] + in − out` over the lost years, from `start` (the plan's
/// own stock at the end of the year before; `initial` in the first year),
/// with `0 ≤ R[y] ≤ capacity(y)` (`min_level` does not bind in a crisis).
pub fn recourse_levels(
    plan: &Plan,
    lp: &mut Lp,
    stock_years: &[(i64, StockCols, StockCols)],
    start: &StockStart,
) {
    for (s, stock) in plan.stockpiles.iter().enumerate() {
        let mut previous: Option<Col> = None;
        for (i, (year, ins, outs)) in stock_years.iter().enumerate() {
            let level = lp.add_col_bounded(0.0, 0.0, stock.capacity.at(*year));
            let mut terms = vec![(level, 1.0)];
            let mut rhs = 0.0;
            match previous {
                Some(prev) => terms.push((prev, -1.0)),
                None => {
                    let (before, r) = start(s, *year);
                    terms.extend(before);
                    rhs = r;
                }
            }
            terms.extend(ins.get(&s).into_iter().flatten().map(|&c| (c, -1.0)));
            terms.extend(outs.get(&s).into_iter().flatten().map(|&c| (c, 1.0)));
            lp.add_row(rhs, rhs, terms);
            // Lost years are contiguous; a gap would start afresh.
            let next_is_consecutive = stock_years.get(i + 1).is_some_and(|n| n.0 == year + 1);
            previous = next_is_consecutive.then_some(level);
        }
    }
}

/// What [`add_recourse`] adds for one year.
pub struct Recourse {
    /// Recourse deliveries to each market (plants and stockpile releases).
    pub to_market: HashMap<usize, Vec<Col>>,
    pub stock_in: StockCols,
    pub stock_out: StockCols,
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
/// With `with_stock`, class-free stockpile flows too (the caller links
/// their levels across years); without it stockpiles take no part.
pub fn add_recourse(
    plan: &Plan,
    lp: &mut Lp,
    ym: &YearModel,
    loss: &Loss,
    with_stock: bool,
    limit: &ThroughputLimit,
) -> Recourse {
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
    // Oxide leaving (refinery, element) and arriving at (plant, element).
    let mut o_from: BTreeMap<(usize, usize), Vec<Col>> = BTreeMap::new();
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
    let mut z_of_plant: BTreeMap<usize, Vec<Col>> = BTreeMap::new();
    let mut to_market: HashMap<usize, Vec<Col>> = HashMap::new();
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
        to_market.entry(z.market).or_default().push(col);
    }
    let mut stock_in: StockCols = HashMap::new();
    let mut stock_out: StockCols = HashMap::new();
    if with_stock {
        add_stock_recourse(
            plan,
            lp,
            ym,
            &blocked,
            &mut o_from,
            &mut o_to,
            &mut z_of_plant,
            &mut to_market,
            &mut stock_in,
            &mut stock_out,
        );
    }

    // Rows: separation and recipe are written by the plan LP's own family
    // functions (`separation_row`, `recipe_row`), over the class-free
    // columns; without classes there is no oxide use (row 4) to write.
    // Capacity (rows 1, 2, 6) and demand (row 7) are not reused: the
    // recourse limits throughput to a share of the plan's own (`limit`,
    // below) and the callers bound deliveries by `λ × D` and `D`, rows of
    // another form over the same columns.
    //
    // Separation (constraint 3 summed over classes). Every refinery
    // that could ship oxide gets a row, also when the disruption cut
    // off all its concentrate (then it ships nothing).
    for (&(r, e), shipped) in &o_from {
        let inputs = x_at_ref.get(&r).map(Vec::as_slice).unwrap_or(&[]);
        separation_row(plan, lp, r, e, shipped, inputs.iter().copied());
    }
    // Recipe (constraint 5 without classes): magnets made for markets and
    // stockpiles, from oxide shipped and released.
    for (&p, made) in &z_of_plant {
        for (e, &beta) in plan.plants[p].recipe.iter().enumerate() {
            if beta <= 0.0 {
                continue;
            }
            let inputs = o_to.get(&(p, e)).map(Vec::as_slice).unwrap_or(&[]);
            recipe_row(lp, inputs, beta, made);
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
    Recourse {
        to_market,
        stock_in,
        stock_out,
    }
}

/// Class-free recourse stockpile flows of one year: oxide from refineries
/// into stock (`i^σ`) and released to plants in the stockpile's country
/// (`j^σ`); magnets from plants into stock (`zi^σ`) and released to markets
/// in its country (`zo^σ`). Embargoes and the export stop apply to the
/// shipments into stock; releases stay in the country. Contracts do not
/// bind a crisis, so exclusive sellers may ship into stock here.
#[allow(clippy::too_many_arguments)]
fn add_stock_recourse(
    plan: &Plan,
    lp: &mut Lp,
    ym: &YearModel,
    blocked: &dyn Fn(&str, &str) -> bool,
    o_from: &mut BTreeMap<(usize, usize), Vec<Col>>,
    o_to: &mut HashMap<(usize, usize), Vec<Col>>,
    z_of_plant: &mut BTreeMap<usize, Vec<Col>>,
    to_market: &mut HashMap<usize, Vec<Col>>,
    stock_in: &mut StockCols,
    stock_out: &mut StockCols,
) {
    let year = ym.year;
    // Refineries that separate this year (they have concentrate routes),
    // per element they can recover; plants that make magnets.
    let mut separating: Vec<(usize, usize)> = Vec::new();
    for x in &ym.concentrate {
        for (e, &g) in plan.mines[x.mine].grade.iter().enumerate() {
            if g > 0.0 && !separating.contains(&(x.refinery, e)) {
                separating.push((x.refinery, e));
            }
        }
    }
    separating.sort_unstable();
    let making: Vec<usize> = ym
        .capacity_rows
        .iter()
        .filter(|c| c.kind == FacilityKind::Plant)
        .map(|c| c.index)
        .collect();
    for (s, stock) in plan.stockpiles.iter().enumerate() {
        match stock.product {
            StockProduct::Oxide(e) => {
                for &(r, re) in separating.iter().filter(|&&(_, re)| re == e) {
                    let from = &plan.refineries[r].facility.country;
                    if blocked(from, &stock.country)
                        || plan.embargoed(Product::Oxide, Some(e), from, &stock.country, year)
                    {
                        continue;
                    }
                    let col = lp.add_col(0.0);
                    o_from.entry((r, re)).or_default().push(col);
                    stock_in.entry(s).or_default().push(col);
                }
                for (p, plant) in plan.plants.iter().enumerate() {
                    if plant.facility.country == stock.country {
                        let col = lp.add_col(0.0);
                        o_to.entry((p, e)).or_default().push(col);
                        stock_out.entry(s).or_default().push(col);
                    }
                }
            }
            StockProduct::Magnet => {
                for &p in &making {
                    let from = &plan.plants[p].facility.country;
                    if blocked(from, &stock.country)
                        || plan.embargoed(Product::Magnet, None, from, &stock.country, year)
                    {
                        continue;
                    }
                    let col = lp.add_col(0.0);
                    z_of_plant.entry(p).or_default().push(col);
                    stock_in.entry(s).or_default().push(col);
                }
                for (k, market) in plan.markets.iter().enumerate() {
                    if market.country == stock.country && market.demand.at(year) > 0.0 {
                        let col = lp.add_col(0.0);
                        to_market.entry(k).or_default().push(col);
                        stock_out.entry(s).or_default().push(col);
                    }
                }
            }
        }
    }
}
