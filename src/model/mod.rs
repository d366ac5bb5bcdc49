//! Formulation: the LP of FORMULATION.md, built from a checked [`Plan`].
//!
//! Each constraint family has one function below (or in `instruments.rs`:
//! builds, contracts, stock balance), named for it. The LP is built year by
//! year; only build columns and stock levels link years (the solver's block
//! split sees that from the matrix itself), and only the
//! variables that can be non-zero are created: shipments between facilities
//! that operate, on lanes that are not embargoed, of elements the receiving
//! plant needs, and only the origin classes that some share rule can tell
//! apart (a plan without share rules gets one class).

mod instruments;
pub mod lp;
mod resilience;

use crate::plan::{Facility, Plan, Product, Seller, Stage, StageSet, StockProduct};
use lp::{Col, Lp, Row};

pub use instruments::{
    annuity_factor, build_cost_per_unit, exclusive_buyers, BuildVar, ContractRow, LevelVar,
    StockIn, StockOut,
};
pub use resilience::{add_recourse, build_resilience, recourse_levels, Loss, ResilienceLp};

/// Origin classes are bit masks of [`Stage`]s; there are at most 8.
pub const NUM_CLASSES: usize = 8;

const MINING: StageSet = 1 << (Stage::Mining as u8);
const REFINING: StageSet = 1 << (Stage::Refining as u8);
const MAGNET: StageSet = 1 << (Stage::Magnet as u8);

/// The origin classes this plan needs to keep apart.
#[derive(Clone, Debug)]
pub struct Classes {
    /// Stages that some share rule mentions; classes are subsets of these.
    pub tracked: StageSet,
    /// Production classes `d ⊆ {mining, refining} ∩ tracked`.
    pub production: Vec<StageSet>,
}

impl Classes {
    pub fn for_plan(plan: &Plan) -> Classes {
        let tracked = plan.share_rules.iter().fold(0, |acc, r| acc | r.stages);
        let upstream = tracked & (MINING | REFINING);
        let production = (0..=upstream).filter(|d| d & !upstream == 0).collect();
        Classes {
            tracked,
            production,
        }
    }

    /// Class of concentrate from mine `m`.
    pub fn mined(&self, plan: &Plan, m: usize) -> StageSet {
        if plan.is_concern(&plan.mines[m].facility.country) {
            0
        } else {
            MINING & self.tracked
        }
    }

    /// Class of oxide separated at refinery `r` from concentrate of class `a`.
    pub fn refined(&self, plan: &Plan, r: usize, a: StageSet) -> StageSet {
        if plan.is_concern(&plan.refineries[r].facility.country) {
            a
        } else {
            a | (REFINING & self.tracked)
        }
    }

    /// Class of magnets of production class `d` made at plant `p`.
    pub fn magnet(&self, plan: &Plan, p: usize, d: StageSet) -> StageSet {
        if plan.is_concern(&plan.plants[p].facility.country) {
            d
        } else {
            d | (MAGNET & self.tracked)
        }
    }
}

/// The facility behind a capacity row.
pub fn facility(plan: &Plan, kind: FacilityKind, index: usize) -> &Facility {
    match kind {
        FacilityKind::Mine => &plan.mines[index].facility,
        FacilityKind::Refinery => &plan.refineries[index].facility,
        FacilityKind::Plant => &plan.plants[index].facility,
    }
}

/// Cost of one unit of a variable, split as the report splits it (undiscounted).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CostParts {
    pub production: f64,
    pub transport: f64,
    pub tariffs: f64,
    /// Production credits: `−σ` per unit (zero or negative).
    pub subsidies: f64,
}

impl CostParts {
    pub fn total(&self) -> f64 {
        self.production + self.transport + self.tariffs + self.subsidies
    }
}

/// Per t REO shipped from mine `m` to refinery `r`: mining and separation
/// costs, concentrate transport and duty.
pub fn concentrate_cost(plan: &Plan, year: i64, m: usize, r: usize) -> CostParts {
    let (mine, refinery) = (&plan.mines[m].facility, &plan.refineries[r].facility);
    CostParts {
        production: mine.unit_cost(year) + refinery.unit_cost(year),
        subsidies: -(plan.subsidy_per_unit(Stage::Mining, mine, year)
            + plan.subsidy_per_unit(Stage::Refining, refinery, year)),
        transport: plan
            .transport
            .cost(Product::Concentrate, &mine.country, &refinery.country),
        tariffs: plan.tariff(
            Product::Concentrate,
            None,
            &mine.country,
            &refinery.country,
            year,
        ),
    }
}

/// Per t oxide of element `e` shipped from refinery `r` to plant `p`.
pub fn oxide_cost(plan: &Plan, year: i64, r: usize, p: usize, e: usize) -> CostParts {
    let (from, to) = (
        &plan.refineries[r].facility.country,
        &plan.plants[p].facility.country,
    );
    oxide_route_cost(plan, year, e, from, to)
}

/// Per t oxide of element `e` shipped between two countries.
pub fn oxide_route_cost(plan: &Plan, year: i64, e: usize, from: &str, to: &str) -> CostParts {
    CostParts {
        transport: plan.transport.cost(Product::Oxide, from, to),
        tariffs: plan.tariff(Product::Oxide, Some(e), from, to, year),
        ..Default::default()
    }
}

/// Per t magnet made at plant `p` and shipped to market `k`.
pub fn magnet_cost(plan: &Plan, year: i64, p: usize, k: usize) -> CostParts {
    magnet_made_cost(plan, year, p, &plan.markets[k].country)
}

/// Per t magnet made at plant `p` and shipped to country `to` (a market's
/// or a stockpile's).
pub fn magnet_made_cost(plan: &Plan, year: i64, p: usize, to: &str) -> CostParts {
    let plant = &plan.plants[p].facility;
    CostParts {
        production: plant.unit_cost(year),
        subsidies: -plan.subsidy_per_unit(Stage::Magnet, plant, year),
        transport: plan.transport.cost(Product::Magnet, &plant.country, to),
        tariffs: plan.tariff(Product::Magnet, None, &plant.country, to, year),
    }
}

/// Per t magnet released from a stockpile in `from` to a market in `to`.
pub fn magnet_route_cost(plan: &Plan, year: i64, from: &str, to: &str) -> CostParts {
    CostParts {
        transport: plan.transport.cost(Product::Magnet, from, to),
        tariffs: plan.tariff(Product::Magnet, None, from, to, year),
        ..Default::default()
    }
}

#[derive(Clone, Copy, Debug)]
pub struct ConcentrateVar {
    pub mine: usize,
    pub refinery: usize,
    pub col: Col,
}

#[derive(Clone, Copy, Debug)]
pub struct OxideVar {
    pub refinery: usize,
    pub plant: usize,
    pub element: usize,
    pub class: StageSet,
    pub col: Col,
}

#[derive(Clone, Copy, Debug)]
pub struct MagnetVar {
    pub plant: usize,
    pub market: usize,
    /// Production class `d`.
    pub class: StageSet,
    pub col: Col,
}

#[derive(Clone, Copy, Debug)]
pub struct UnmetVar {
    pub market: usize,
    pub col: Col,
}

#[derive(Clone, Copy, Debug)]
pub struct ShareRow {
    pub rule: usize,
    pub required: f64,
    pub row: Row,
    /// t of clean magnet short (soft rules only).
    pub shortfall: Option<Col>,
}

/// A facility's capacity row in one year (for utilization and reserves).
#[derive(Clone, Copy, Debug)]
pub struct CapacityRow {
    pub kind: FacilityKind,
    pub index: usize,
    pub capacity: f64,
    pub row: Row,
    /// Spare-capacity reserve `v[f]` (max-resilience only).
    pub reserve: Option<Col>,
    /// Throughput above capacity (elastic relaxation only).
    pub overflow: Option<Col>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FacilityKind {
    Mine,
    Refinery,
    Plant,
}

/// The variables and rows of one year.
#[derive(Clone, Debug, Default)]
pub struct YearModel {
    pub year: i64,
    pub weight: f64,
    pub concentrate: Vec<ConcentrateVar>,
    pub oxide: Vec<OxideVar>,
    pub magnet: Vec<MagnetVar>,
    pub unmet: Vec<UnmetVar>,
    pub share_rows: Vec<ShareRow>,
    pub capacity_rows: Vec<CapacityRow>,
    /// Shipments on embargoed routes (elastic relaxation only).
    pub embargoed_routes: Vec<EmbargoedRoute>,
    /// The balance rows (constraints 3, 4, 5 and 7), for naming them.
    pub balance_rows: Vec<(Row, BalanceRow)>,
    /// Shipments into stockpiles (oxide from refineries, magnets from plants).
    pub stock_in: Vec<StockIn>,
    /// Releases from stockpiles (oxide to plants, magnets to markets).
    pub stock_out: Vec<StockOut>,
    /// Stock held at the end of the year, per stockpile and class.
    pub levels: Vec<LevelVar>,
}

/// What a balance row balances.
#[derive(Clone, Copy, Debug)]
pub enum BalanceRow {
    /// Constraint 3 at a refinery, for one element.
    Separation { refinery: usize, element: usize },
    /// Constraint 4 at a plant, for one element.
    OxideUse { plant: usize, element: usize },
    /// Constraint 5 at a plant, for one element.
    Recipe { plant: usize, element: usize },
    /// Constraint 7.
    Demand { market: usize },
}

/// The min-cost LP and what each of its columns and rows means.
#[derive(Clone, Debug)]
pub struct Formulation {
    pub lp: Lp,
    pub classes: Classes,
    pub years: Vec<YearModel>,
    /// Capacity built (`k[f,y]`, with `b[f,y]` for lumpy builds).
    pub builds: Vec<BuildVar>,
    /// Contract rows, per contract and year it applies.
    pub contracts: Vec<ContractRow>,
}

impl Formulation {
    /// The year model of `year`.
    pub fn year(&self, year: i64) -> Option<&YearModel> {
        self.years.iter().find(|ym| ym.year == year)
    }
}

/// Options that change what is built.
#[derive(Clone, Copy, Debug, Default)]
pub struct BuildOptions {
    /// Add a spare-capacity reserve column to every capacity row
    /// (`throughput + v ≤ cap`), costed at `reserve_cost × unit cost`.
    pub reserves: bool,
    /// Build the elastic relaxation used to explain infeasibility instead.
    pub elastic: Option<Elastic>,
}

/// The elastic relaxation: costs are dropped and hard limits may give at a
/// penalty, so the optimum is the least total violation.
#[derive(Clone, Copy, Debug)]
pub struct Elastic {
    /// Per t of demand left unserved at a market without `unmet_penalty`.
    pub demand: f64,
    /// Per t of clean magnet a hard share rule falls short (also per t a
    /// hard contract minimum or a stockpile floor falls short).
    pub share: f64,
    /// Per t of throughput above effective capacity (`None`: capacity is hard).
    /// Facilities outside their operating years may then be used too.
    pub capacity: Option<f64>,
    /// Per t shipped on an embargoed route (`None`: embargoes hold).
    pub embargo: Option<f64>,
}

/// A shipment on an embargoed route (elastic relaxation only).
#[derive(Clone, Debug)]
pub struct EmbargoedRoute {
    pub product: Product,
    pub element: Option<usize>,
    pub from: String,
    pub to: String,
    pub col: Col,
}

/// Build the min-cost LP of FORMULATION.md (with the investment, contract,
/// subsidy and stockpile families when the plan has them).
pub fn formulate(plan: &Plan, options: BuildOptions) -> Formulation {
    let classes = Classes::for_plan(plan);
    let mut lp = Lp::default(); // minimizes
    let builds = instruments::build_vars(plan, &mut lp, options.elastic.is_some());
    let mut years: Vec<YearModel> = plan
        .years()
        .map(|year| build_year(plan, &classes, &mut lp, year, options, &builds))
        .collect();
    let contracts = instruments::contract_rows(plan, &mut lp, &years, options.elastic);
    instruments::stock_balance_rows(plan, &classes, &mut lp, &mut years, options.elastic);
    Formulation {
        lp,
        classes,
        years,
        builds,
        contracts,
    }
}

/// Index helpers for per-(facility, element, class) lists.
struct Grid {
    elements: usize,
}

impl Grid {
    fn at(&self, f: usize, e: usize, class: StageSet) -> usize {
        (f * self.elements + e) * NUM_CLASSES + class as usize
    }
}

/// Build columns `k[f,y]` whose capacity exists in `year`, for one facility.
fn built_in(builds: &[BuildVar], kind: FacilityKind, index: usize, year: i64) -> Vec<Col> {
    builds
        .iter()
        .filter(|b| b.kind == kind && b.index == index && b.exists_in(year))
        .map(|b| b.col)
        .collect()
}

fn build_year(
    plan: &Plan,
    classes: &Classes,
    lp: &mut Lp,
    year: i64,
    options: BuildOptions,
    builds: &[BuildVar],
) -> YearModel {
    let w = plan.weight(year);
    let num_e = plan.elements.len();
    let grid = Grid { elements: num_e };
    let cap_mine: Vec<f64> = plan
        .mines
        .iter()
        .map(|m| m.facility.effective_capacity(year))
        .collect();
    let cap_ref: Vec<f64> = plan
        .refineries
        .iter()
        .map(|r| r.facility.effective_capacity(year))
        .collect();
    let cap_plant: Vec<f64> = plan
        .plants
        .iter()
        .map(|p| p.facility.effective_capacity(year))
        .collect();
    let demand: Vec<f64> = plan.markets.iter().map(|k| k.demand.at(year)).collect();
    let mut ym = YearModel {
        year,
        weight: w,
        ..Default::default()
    };
    let elastic = options.elastic;
    // A facility takes part when it may have capacity, existing or built
    // (or, when capacity may give, always).
    let may_give = elastic.is_some_and(|e| e.capacity.is_some());
    let operates = |f: &Facility| may_give || plan.may_operate(f, year);
    let mine_on: Vec<bool> = plan.mines.iter().map(|m| operates(&m.facility)).collect();
    let ref_on: Vec<bool> = plan
        .refineries
        .iter()
        .map(|r| operates(&r.facility))
        .collect();
    let plant_on: Vec<bool> = plan.plants.iter().map(|p| operates(&p.facility)).collect();
    // The objective coefficient of a shipment: its cost, or in the elastic
    // relaxation nothing (plus the penalty of an embargoed route). `None`: the
    // route cannot be used.
    let route_cost = |cost: f64, banned: bool| -> Option<f64> {
        match (elastic, banned) {
            (None, false) => Some(w * cost),
            (None, true) => None,
            (Some(_), false) => Some(0.0),
            (Some(e), true) => e.embargo,
        }
    };
    // A route closed by an exclusive contract keeps its column at 0, so
    // that the recourse of max-resilience (which contracts do not bind)
    // still has it.
    let add_route = |lp: &mut Lp, cost: f64, closed: bool| {
        if closed {
            lp.add_col_bounded(cost, 0.0, 0.0)
        } else {
            lp.add_col(cost)
        }
    };

    // Variables x[m,r].
    let mut x_by_ref: Vec<Vec<(usize, Col)>> = vec![Vec::new(); plan.refineries.len()];
    let mut x_by_mine: Vec<Vec<Col>> = vec![Vec::new(); plan.mines.len()];
    for (m, mine) in plan.mines.iter().enumerate() {
        if !mine_on[m] {
            continue;
        }
        let exclusive = exclusive_buyers(plan, Seller::Mine(m), year, None);
        let no_content = mine.grade.iter().all(|&g| g <= 0.0);
        for (r, refinery) in plan.refineries.iter().enumerate() {
            let (from, to) = (&mine.facility.country, &refinery.facility.country);
            if !ref_on[r] {
                continue;
            }
            // Concentrate with no content is useless, unless a contract counts it.
            if no_content && !instruments::counted(plan, Seller::Mine(m), r, year, None) {
                continue;
            }
            let banned = plan.embargoed(Product::Concentrate, None, from, to, year);
            let Some(cost) = route_cost(concentrate_cost(plan, year, m, r).total(), banned) else {
                continue;
            };
            let closed = exclusive.as_ref().is_some_and(|a| !a.contains(&r));
            let col = add_route(lp, cost, closed);
            if banned {
                ym.embargoed_routes.push(EmbargoedRoute {
                    product: Product::Concentrate,
                    element: None,
                    from: from.clone(),
                    to: to.clone(),
                    col,
                });
            }
            x_by_ref[r].push((m, col));
            x_by_mine[m].push(col);
            ym.concentrate.push(ConcentrateVar {
                mine: m,
                refinery: r,
                col,
            });
        }
    }

    // Variables o[r,p,e,b]: oxide classes that refinery r can actually make;
    // and i[r,s,b] into oxide stockpiles.
    let mut o_by_source = vec![Vec::new(); plan.refineries.len() * num_e * NUM_CLASSES];
    let mut o_at_plant = vec![Vec::new(); plan.plants.len() * num_e * NUM_CLASSES];
    for (r, refinery) in plan.refineries.iter().enumerate() {
        for e in 0..num_e {
            let mut made = [false; NUM_CLASSES];
            for &(m, _) in &x_by_ref[r] {
                if plan.mines[m].grade[e] > 0.0 {
                    made[classes.refined(plan, r, classes.mined(plan, m)) as usize] = true;
                }
            }
            if !made.iter().any(|&b| b) {
                continue;
            }
            let exclusive = exclusive_buyers(plan, Seller::Refinery(r), year, Some(e));
            for (p, plant) in plan.plants.iter().enumerate() {
                // Oxide a plant cannot use is not shipped, unless a contract
                // counts it (take-or-pay).
                let usable = plant_on[p] && plant.recipe[e] > 0.0;
                if !usable && !instruments::counted(plan, Seller::Refinery(r), p, year, Some(e)) {
                    continue;
                }
                let (from, to) = (&refinery.facility.country, &plant.facility.country);
                let banned = plan.embargoed(Product::Oxide, Some(e), from, to, year);
                let Some(cost) = route_cost(oxide_cost(plan, year, r, p, e).total(), banned) else {
                    continue;
                };
                let closed = exclusive.as_ref().is_some_and(|a| !a.contains(&p));
                for b in (0..NUM_CLASSES).filter(|&b| made[b]) {
                    let col = add_route(lp, cost, closed);
                    if banned {
                        ym.embargoed_routes.push(EmbargoedRoute {
                            product: Product::Oxide,
                            element: Some(e),
                            from: from.clone(),
                            to: to.clone(),
                            col,
                        });
                    }
                    let b = b as StageSet;
                    o_by_source[grid.at(r, e, b)].push(col);
                    o_at_plant[grid.at(p, e, b)].push(col);
                    ym.oxide.push(OxideVar {
                        refinery: r,
                        plant: p,
                        element: e,
                        class: b,
                        col,
                    });
                }
            }
            // Into oxide stockpiles of this element (never from a seller
            // bound by an exclusive contract).
            if exclusive.is_some() {
                continue;
            }
            for (s, stock) in plan.stockpiles.iter().enumerate() {
                if stock.product != StockProduct::Oxide(e) {
                    continue;
                }
                let (from, to) = (&refinery.facility.country, &stock.country);
                if plan.embargoed(Product::Oxide, Some(e), from, to, year) {
                    continue;
                }
                let cost = match elastic {
                    None => w * oxide_route_cost(plan, year, e, from, to).total(),
                    Some(_) => 0.0,
                };
                for b in (0..NUM_CLASSES).filter(|&b| made[b]) {
                    let col = lp.add_col(cost);
                    let b = b as StageSet;
                    o_by_source[grid.at(r, e, b)].push(col);
                    ym.stock_in.push(StockIn {
                        stockpile: s,
                        from: r,
                        class: b,
                        col,
                    });
                }
            }
        }
    }
    // Releases j[s,p,b] from oxide stockpiles to plants in their country
    // (also plants that cannot use the oxide: that is how stock is written off).
    for (s, stock) in plan.stockpiles.iter().enumerate() {
        let StockProduct::Oxide(e) = stock.product else {
            continue;
        };
        for (p, plant) in plan.plants.iter().enumerate() {
            if plant.facility.country != stock.country {
                continue;
            }
            let cost = match elastic {
                None => w * oxide_route_cost(plan, year, e, &stock.country, &stock.country).total(),
                Some(_) => 0.0,
            };
            for b in instruments::oxide_classes(classes) {
                let col = lp.add_col(cost);
                o_at_plant[grid.at(p, e, b)].push(col);
                ym.stock_out.push(StockOut {
                    stockpile: s,
                    to: p,
                    class: b,
                    col,
                });
            }
        }
    }

    // Variables q[p,e,b,d] and the oxide-use rows (4).
    let mut q_for_recipe = vec![Vec::new(); plan.plants.len() * num_e * NUM_CLASSES];
    for p in 0..plan.plants.len() {
        for e in 0..num_e {
            for b in 0..NUM_CLASSES as StageSet {
                let delivered = &o_at_plant[grid.at(p, e, b)];
                if delivered.is_empty() {
                    continue;
                }
                let mut terms = Vec::new();
                if plant_on[p] && plan.plants[p].recipe[e] > 0.0 {
                    for &d in classes.production.iter().filter(|&&d| d & !b == 0) {
                        let q = lp.add_col(0.0);
                        q_for_recipe[grid.at(p, e, d)].push(q);
                        terms.push((q, 1.0));
                    }
                }
                if terms.is_empty() {
                    continue; // nothing can use it: shipped oxide is discarded
                }
                terms.extend(delivered.iter().map(|&o| (o, -1.0)));
                let row = oxide_use_row(lp, terms);
                ym.balance_rows.push((
                    row,
                    BalanceRow::OxideUse {
                        plant: p,
                        element: e,
                    },
                ));
            }
        }
    }

    // Variables z[p,k,d] (production classes whose whole recipe can be
    // met) and zi[p,s,d] into magnet stockpiles.
    let mut z_by_plant: Vec<Vec<Col>> = vec![Vec::new(); plan.plants.len()];
    let mut z_by_plant_class = vec![Vec::new(); plan.plants.len() * NUM_CLASSES];
    for (p, plant) in plan.plants.iter().enumerate() {
        if !plant_on[p] {
            continue;
        }
        let exclusive = exclusive_buyers(plan, Seller::Plant(p), year, None);
        for &d in &classes.production {
            let feasible = (0..num_e)
                .all(|e| plant.recipe[e] <= 0.0 || !q_for_recipe[grid.at(p, e, d)].is_empty());
            if !feasible {
                continue;
            }
            for (k, market) in plan.markets.iter().enumerate() {
                if demand[k] <= 0.0 {
                    continue;
                }
                let (from, to) = (&plant.facility.country, &market.country);
                let banned = plan.embargoed(Product::Magnet, None, from, to, year);
                let Some(cost) = route_cost(magnet_cost(plan, year, p, k).total(), banned) else {
                    continue;
                };
                let closed = exclusive.as_ref().is_some_and(|a| !a.contains(&k));
                let col = add_route(lp, cost, closed);
                if banned {
                    ym.embargoed_routes.push(EmbargoedRoute {
                        product: Product::Magnet,
                        element: None,
                        from: from.clone(),
                        to: to.clone(),
                        col,
                    });
                }
                z_by_plant[p].push(col);
                z_by_plant_class[p * NUM_CLASSES + d as usize].push(col);
                ym.magnet.push(MagnetVar {
                    plant: p,
                    market: k,
                    class: d,
                    col,
                });
            }
            if exclusive.is_some() {
                continue;
            }
            for (s, stock) in plan.stockpiles.iter().enumerate() {
                if stock.product != StockProduct::Magnet {
                    continue;
                }
                let (from, to) = (&plant.facility.country, &stock.country);
                if plan.embargoed(Product::Magnet, None, from, to, year) {
                    continue;
                }
                let cost = match elastic {
                    None => w * magnet_made_cost(plan, year, p, to).total(),
                    Some(_) => 0.0,
                };
                let col = lp.add_col(cost);
                z_by_plant[p].push(col);
                z_by_plant_class[p * NUM_CLASSES + d as usize].push(col);
                ym.stock_in.push(StockIn {
                    stockpile: s,
                    from: p,
                    class: classes.magnet(plan, p, d),
                    col,
                });
            }
        }
    }
    // Releases zo[s,k,c] from magnet stockpiles to markets in their country.
    for (s, stock) in plan.stockpiles.iter().enumerate() {
        if stock.product != StockProduct::Magnet {
            continue;
        }
        for (k, market) in plan.markets.iter().enumerate() {
            if market.country != stock.country || demand[k] <= 0.0 {
                continue;
            }
            let cost = match elastic {
                None => w * magnet_route_cost(plan, year, &stock.country, &market.country).total(),
                Some(_) => 0.0,
            };
            for c in instruments::magnet_classes(classes) {
                let col = lp.add_col(cost);
                ym.stock_out.push(StockOut {
                    stockpile: s,
                    to: k,
                    class: c,
                    col,
                });
            }
        }
    }

    // Variables u[k].
    for (k, market) in plan.markets.iter().enumerate() {
        if demand[k] <= 0.0 {
            continue;
        }
        let cost = match (elastic, market.unmet_penalty) {
            (None, Some(penalty)) => Some(w * penalty),
            (None, None) => None,
            // Unserved demand is a violation only where the plan forbids it.
            (Some(_), Some(_)) => Some(0.0),
            (Some(e), None) => Some(e.demand),
        };
        if let Some(cost) = cost {
            let col = lp.add_col(cost);
            ym.unmet.push(UnmetVar { market: k, col });
        }
    }

    // Rows.
    let reserve_cost = |lp: &mut Lp, unit_cost: f64| {
        options
            .reserves
            .then(|| lp.add_col(w * plan.resilience.reserve_cost * unit_cost))
    };
    for (m, cols) in x_by_mine.iter().enumerate() {
        if !cols.is_empty() {
            let reserve = reserve_cost(lp, plan.mines[m].facility.unit_cost(year));
            let overflow = overflow_col(lp, elastic);
            let built = built_in(builds, FacilityKind::Mine, m, year);
            let row = capacity_row(
                lp,
                cols.iter().copied(),
                reserve,
                overflow,
                &built,
                cap_mine[m],
            );
            ym.capacity_rows.push(CapacityRow {
                kind: FacilityKind::Mine,
                index: m,
                capacity: cap_mine[m],
                row,
                reserve,
                overflow,
            });
        }
    }
    for (r, xs) in x_by_ref.iter().enumerate() {
        if xs.is_empty() {
            continue;
        }
        let reserve = reserve_cost(lp, plan.refineries[r].facility.unit_cost(year));
        let overflow = overflow_col(lp, elastic);
        let built = built_in(builds, FacilityKind::Refinery, r, year);
        let row = capacity_row(
            lp,
            xs.iter().map(|&(_, c)| c),
            reserve,
            overflow,
            &built,
            cap_ref[r],
        );
        ym.capacity_rows.push(CapacityRow {
            kind: FacilityKind::Refinery,
            index: r,
            capacity: cap_ref[r],
            row,
            reserve,
            overflow,
        });
        let rows = separation_rows(plan, classes, lp, &grid, r, xs, &o_by_source);
        ym.balance_rows.extend(rows);
    }
    for (p, plant) in plan.plants.iter().enumerate() {
        for &d in &classes.production {
            let made = &z_by_plant_class[p * NUM_CLASSES + d as usize];
            if made.is_empty() {
                continue;
            }
            for e in (0..num_e).filter(|&e| plant.recipe[e] > 0.0) {
                let row = recipe_row(lp, &q_for_recipe[grid.at(p, e, d)], plant.recipe[e], made);
                ym.balance_rows.push((
                    row,
                    BalanceRow::Recipe {
                        plant: p,
                        element: e,
                    },
                ));
            }
        }
        if !z_by_plant[p].is_empty() {
            let reserve = reserve_cost(lp, plant.facility.unit_cost(year));
            let overflow = overflow_col(lp, elastic);
            let built = built_in(builds, FacilityKind::Plant, p, year);
            let row = capacity_row(
                lp,
                z_by_plant[p].iter().copied(),
                reserve,
                overflow,
                &built,
                cap_plant[p],
            );
            ym.capacity_rows.push(CapacityRow {
                kind: FacilityKind::Plant,
                index: p,
                capacity: cap_plant[p],
                row,
                reserve,
                overflow,
            });
        }
    }
    demand_rows(plan, lp, &mut ym, &demand);
    share_rule_rows(plan, classes, lp, &mut ym, elastic);
    ym
}

/// Constraints 1, 2 and 6: throughput (plus reserve, less any elastic
/// overflow) within effective capacity plus the capacity built and still
/// standing (`K_f(t)`).
fn capacity_row(
    lp: &mut Lp,
    flows: impl Iterator<Item = Col>,
    reserve: Option<Col>,
    overflow: Option<Col>,
    built: &[Col],
    capacity: f64,
) -> Row {
    let terms: Vec<(Col, f64)> = flows
        .map(|c| (c, 1.0))
        .chain(reserve.map(|v| (v, 1.0)))
        .chain(overflow.map(|e| (e, -1.0)))
        .chain(built.iter().map(|&k| (k, -1.0)))
        .collect();
    lp.add_row(f64::NEG_INFINITY, capacity, terms)
}

fn overflow_col(lp: &mut Lp, elastic: Option<Elastic>) -> Option<Col> {
    elastic
        .and_then(|e| e.capacity)
        .map(|penalty| lp.add_col(penalty))
}

/// Constraint 3: oxide shipped from `r` (to plants and stockpiles), per
/// element and concentrate class, at most what separation recovers from the
/// concentrate of that class.
fn separation_rows(
    plan: &Plan,
    classes: &Classes,
    lp: &mut Lp,
    grid: &Grid,
    r: usize,
    x_in: &[(usize, Col)],
    o_by_source: &[Vec<Col>],
) -> Vec<(Row, BalanceRow)> {
    let mut rows = Vec::new();
    let recovery = &plan.refineries[r].recovery;
    for e in 0..plan.elements.len() {
        for a in [0, MINING & classes.tracked] {
            let b = classes.refined(plan, r, a);
            let shipped = &o_by_source[grid.at(r, e, b)];
            if shipped.is_empty() {
                continue;
            }
            let terms: Vec<(Col, f64)> = shipped
                .iter()
                .map(|&o| (o, 1.0))
                .chain(
                    x_in.iter()
                        .filter(|&&(m, _)| classes.mined(plan, m) == a)
                        .map(|&(m, x)| (x, -recovery[e] * plan.mines[m].grade[e])),
                )
                .collect();
            let row = lp.add_row(f64::NEG_INFINITY, 0.0, terms);
            rows.push((
                row,
                BalanceRow::Separation {
                    refinery: r,
                    element: e,
                },
            ));
            if MINING & classes.tracked == 0 {
                break; // only one concentrate class
            }
        }
    }
    rows
}

/// Constraint 4: oxide used for production classes at most what arrived.
fn oxide_use_row(lp: &mut Lp, terms: Vec<(Col, f64)>) -> Row {
    lp.add_row(f64::NEG_INFINITY, 0.0, terms)
}

/// Constraint 5: each recipe element of production class `d` met from
/// oxide whose class contains `d`.
fn recipe_row(lp: &mut Lp, used: &[Col], per_tonne: f64, made: &[Col]) -> Row {
    let terms: Vec<(Col, f64)> = used
        .iter()
        .map(|&q| (q, 1.0))
        .chain(made.iter().map(|&z| (z, -per_tonne)))
        .collect();
    lp.add_row(0.0, f64::INFINITY, terms)
}

/// Constraint 7: deliveries (from plants and magnet stockpiles) plus
/// unserved demand equal demand.
fn demand_rows(plan: &Plan, lp: &mut Lp, ym: &mut YearModel, demand: &[f64]) {
    let mut terms: Vec<Vec<(Col, f64)>> = vec![Vec::new(); plan.markets.len()];
    for z in &ym.magnet {
        terms[z.market].push((z.col, 1.0));
    }
    for zo in ym.magnet_releases(plan) {
        terms[zo.to].push((zo.col, 1.0));
    }
    for u in &ym.unmet {
        terms[u.market].push((u.col, 1.0));
    }
    for (k, t) in terms.into_iter().enumerate() {
        if demand[k] > 0.0 {
            let row = lp.add_row(demand[k], demand[k], t);
            ym.balance_rows
                .push((row, BalanceRow::Demand { market: k }));
        }
    }
}

impl YearModel {
    /// Releases from magnet stockpiles to markets (`zo`).
    pub fn magnet_releases<'a>(&'a self, plan: &'a Plan) -> impl Iterator<Item = &'a StockOut> {
        self.stock_out
            .iter()
            .filter(|o| plan.stockpiles[o.stockpile].product == StockProduct::Magnet)
    }

    /// Deliveries to markets with the class they carry: `(market, class of
    /// the magnets, column)` for plant shipments and stockpile releases.
    pub fn deliveries<'a>(
        &'a self,
        plan: &'a Plan,
        classes: &'a Classes,
    ) -> impl Iterator<Item = (usize, StageSet, Col)> + 'a {
        self.magnet
            .iter()
            .map(|z| (z.market, classes.magnet(plan, z.plant, z.class), z.col))
            .chain(self.magnet_releases(plan).map(|o| (o.to, o.class, o.col)))
    }
}

/// Constraint 8: clean deliveries at least `min_share` of all deliveries to
/// the rule's markets (stockpile releases count like deliveries).
fn share_rule_rows(
    plan: &Plan,
    classes: &Classes,
    lp: &mut Lp,
    ym: &mut YearModel,
    elastic: Option<Elastic>,
) {
    for (s, rule) in plan.share_rules.iter().enumerate() {
        if !plan.rule_applies(rule, ym.year) {
            continue;
        }
        let required = rule.min_share.at(ym.year);
        let in_rule: Vec<bool> = (0..plan.markets.len())
            .map(|k| rule.markets.contains(&k))
            .collect();
        // A soft rule may fall short at its penalty per t of clean magnet.
        let shortfall = match (elastic, rule.penalty) {
            (None, p) => p.map(|p| lp.add_col(ym.weight * p)),
            (Some(_), Some(_)) => Some(lp.add_col(0.0)),
            (Some(e), None) => Some(lp.add_col(e.share)),
        };
        let terms: Vec<(Col, f64)> = ym
            .deliveries(plan, classes)
            .filter(|&(k, _, _)| in_rule[k])
            .map(|(_, class, col)| {
                let clean = rule.stages & !class == 0;
                (col, if clean { 1.0 - required } else { -required })
            })
            .chain(shortfall.map(|c| (c, 1.0)))
            .collect();
        let row = lp.add_row(0.0, f64::INFINITY, terms);
        ym.share_rows.push(ShareRow {
            rule: s,
            required,
            row,
            shortfall,
        });
    }
}
