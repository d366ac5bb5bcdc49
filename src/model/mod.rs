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
    annuity_factor, build_cost_in_year, build_cost_per_unit, exclusive_buyers, BuildVar,
    ContractRow, LevelVar, StockIn, StockOut,
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

/// `q[p,e,b,d]`: t of oxide of element `e`, class `b`, that plant `p` uses
/// for magnets of production class `d`.
#[derive(Clone, Copy, Debug)]
pub struct UseVar {
    pub plant: usize,
    pub element: usize,
    /// Oxide class `b`.
    pub class: StageSet,
    /// Production class `d ⊆ b`.
    pub production: StageSet,
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
    /// Oxide use per production class (for tracing lots, not costed).
    pub uses: Vec<UseVar>,
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

/// Columns per (facility, element, class): the index map behind `o`, `i`,
/// `j` and `q`, which FORMULATION.md indexes by facility, element and class.
struct Grid {
    elements: usize,
    cells: Vec<Vec<Col>>,
}

impl Grid {
    fn new(facilities: usize, elements: usize) -> Grid {
        Grid {
            elements,
            cells: vec![Vec::new(); facilities * elements * NUM_CLASSES],
        }
    }

    fn cell(&self, f: usize, e: usize, class: StageSet) -> usize {
        (f * self.elements + e) * NUM_CLASSES + class as usize
    }

    fn at(&self, f: usize, e: usize, class: StageSet) -> &[Col] {
        &self.cells[self.cell(f, e, class)]
    }

    fn push(&mut self, f: usize, e: usize, class: StageSet, col: Col) {
        let i = self.cell(f, e, class);
        self.cells[i].push(col);
    }
}

/// Columns per (plant, production class): the index map behind `z` and `zi`.
struct ByClass {
    cells: Vec<[Vec<Col>; NUM_CLASSES]>,
}

impl ByClass {
    fn new(facilities: usize) -> ByClass {
        ByClass {
            cells: (0..facilities)
                .map(|_| std::array::from_fn(|_| Vec::new()))
                .collect(),
        }
    }

    fn at(&self, f: usize, class: StageSet) -> &[Col] {
        &self.cells[f][class as usize]
    }

    fn push(&mut self, f: usize, class: StageSet, col: Col) {
        self.cells[f][class as usize].push(col);
    }

    /// Every class of facility `f`, in class order.
    fn all(&self, f: usize) -> impl Iterator<Item = Col> + '_ {
        self.cells[f].iter().flatten().copied()
    }
}

/// The columns of one year, by the index sets the rows of FORMULATION.md
/// sum them over (stockpile flows included where "Stockpiles" adds them).
struct YearCols {
    /// `x[m,·]`, per mine (row 1).
    x_from: Vec<Vec<Col>>,
    /// `x[·,r]` with its mine, per refinery (rows 2 and 3).
    x_into: Vec<Vec<(usize, Col)>>,
    /// `o[r,·,e,b]` and `i[r,·,b]` by `(r, e, b)`: oxide leaving a refinery (row 3).
    o_from: Grid,
    /// `o[·,p,e,b]` and `j[·,p,b]` by `(p, e, b)`: oxide arriving at a plant (row 4).
    o_into: Grid,
    /// `q[p,e,b,·]` by `(p, e, b)`: oxide of class `b` used (row 4).
    q_of: Grid,
    /// `q[p,e,·,d]` by `(p, e, d)`: oxide used for production class `d` (row 5).
    q_for: Grid,
    /// `z[p,·,d]` and `zi[p,·,d]` by `(p, d)`: magnets made (rows 5 and 6).
    made: ByClass,
}

/// What every variable and row family of one year reads.
struct YearBuild<'a> {
    plan: &'a Plan,
    classes: &'a Classes,
    year: i64,
    /// `w_y`.
    weight: f64,
    options: BuildOptions,
    builds: &'a [BuildVar],
    /// `D(k,y)`.
    demand: Vec<f64>,
    /// Facilities that take part: those that may have capacity, existing
    /// or built (or, when capacity may give, all of them).
    mine_on: Vec<bool>,
    ref_on: Vec<bool>,
    plant_on: Vec<bool>,
}

/// A route constraint 9 leaves open (see [`YearBuild::route_allowed`]).
struct Route<'p> {
    product: Product,
    element: Option<usize>,
    from: &'p str,
    to: &'p str,
    /// Objective coefficient of each column on the route.
    cost: f64,
    /// Embargoed, open only in the elastic relaxation at its penalty.
    embargoed: bool,
}

impl<'a> YearBuild<'a> {
    fn new(
        plan: &'a Plan,
        classes: &'a Classes,
        year: i64,
        options: BuildOptions,
        builds: &'a [BuildVar],
    ) -> YearBuild<'a> {
        let may_give = options.elastic.is_some_and(|e| e.capacity.is_some());
        let operates = |f: &Facility| may_give || plan.may_operate(f, year);
        YearBuild {
            plan,
            classes,
            year,
            weight: plan.weight(year),
            options,
            builds,
            demand: plan.markets.iter().map(|k| k.demand.at(year)).collect(),
            mine_on: plan.mines.iter().map(|m| operates(&m.facility)).collect(),
            ref_on: plan
                .refineries
                .iter()
                .map(|r| operates(&r.facility))
                .collect(),
            plant_on: plan.plants.iter().map(|p| operates(&p.facility)).collect(),
        }
    }

    /// The objective coefficient of a column of (undiscounted) unit cost
    /// `cost`: discounted, or nothing in the elastic relaxation.
    fn cost(&self, cost: f64) -> f64 {
        match self.options.elastic {
            None => self.weight * cost,
            Some(_) => 0.0,
        }
    }

    /// Constraint 9: a shipment of `product` (of `element`) from country
    /// `from` to `to` at unit cost `cost`, unless it is embargoed (`None`).
    /// The elastic relaxation drops costs and may use an embargoed route at
    /// its penalty.
    fn route_allowed<'p>(
        &self,
        product: Product,
        element: Option<usize>,
        from: &'p str,
        to: &'p str,
        cost: f64,
    ) -> Option<Route<'p>> {
        let embargoed = self.plan.embargoed(product, element, from, to, self.year);
        let cost = match (self.options.elastic, embargoed) {
            (None, false) => self.weight * cost,
            (None, true) => return None,
            (Some(_), false) => 0.0,
            (Some(e), true) => e.embargo?,
        };
        Some(Route {
            product,
            element,
            from,
            to,
            cost,
            embargoed,
        })
    }

    /// A shipment's column on `route`, recorded when the route is
    /// embargoed. A route `closed` by an exclusive contract keeps its column
    /// at 0, so that the recourse of max-resilience (which contracts do not
    /// bind) still has it.
    fn add_shipment(&self, lp: &mut Lp, ym: &mut YearModel, route: &Route, closed: bool) -> Col {
        let col = if closed {
            lp.add_col_bounded(route.cost, 0.0, 0.0)
        } else {
            lp.add_col(route.cost)
        };
        if route.embargoed {
            ym.embargoed_routes.push(EmbargoedRoute {
                product: route.product,
                element: route.element,
                from: route.from.to_string(),
                to: route.to.to_string(),
                col,
            });
        }
        col
    }

    /// Variables of "Variables" and the stockpile flows of "Stockpiles", in
    /// this order: `x`; `o` and `i`; `j`; `q`; `z` and `zi`; `zo`; `u`.
    fn variables(&self, lp: &mut Lp, ym: &mut YearModel) -> YearCols {
        let plan = self.plan;
        let num_e = plan.elements.len();
        let mut cols = YearCols {
            x_from: vec![Vec::new(); plan.mines.len()],
            x_into: vec![Vec::new(); plan.refineries.len()],
            o_from: Grid::new(plan.refineries.len(), num_e),
            o_into: Grid::new(plan.plants.len(), num_e),
            q_of: Grid::new(plan.plants.len(), num_e),
            q_for: Grid::new(plan.plants.len(), num_e),
            made: ByClass::new(plan.plants.len()),
        };
        self.concentrate_vars(lp, ym, &mut cols);
        self.oxide_vars(lp, ym, &mut cols);
        self.oxide_release_vars(lp, ym, &mut cols);
        self.use_vars(lp, ym, &mut cols);
        self.magnet_vars(lp, ym, &mut cols);
        self.magnet_release_vars(lp, ym);
        self.unmet_vars(lp, ym);
        cols
    }

    /// `x[m,r]`: between facilities that operate, on open routes, of
    /// concentrate with content (or that a contract counts).
    fn concentrate_vars(&self, lp: &mut Lp, ym: &mut YearModel, cols: &mut YearCols) {
        let (plan, year) = (self.plan, self.year);
        for (m, mine) in plan.mines.iter().enumerate() {
            if !self.mine_on[m] {
                continue;
            }
            let exclusive = exclusive_buyers(plan, Seller::Mine(m), year, None);
            let no_content = mine.grade.iter().all(|&g| g <= 0.0);
            for (r, refinery) in plan.refineries.iter().enumerate() {
                if !self.ref_on[r] {
                    continue;
                }
                // Concentrate with no content is useless, unless a contract counts it.
                if no_content && !instruments::counted(plan, Seller::Mine(m), r, year, None) {
                    continue;
                }
                let Some(route) = self.route_allowed(
                    Product::Concentrate,
                    None,
                    &mine.facility.country,
                    &refinery.facility.country,
                    concentrate_cost(plan, year, m, r).total(),
                ) else {
                    continue;
                };
                let closed = exclusive.as_ref().is_some_and(|a| !a.contains(&r));
                let col = self.add_shipment(lp, ym, &route, closed);
                cols.x_into[r].push((m, col));
                cols.x_from[m].push(col);
                ym.concentrate.push(ConcentrateVar {
                    mine: m,
                    refinery: r,
                    col,
                });
            }
        }
    }

    /// `o[r,p,e,b]` for the oxide classes `b` refinery `r` can make, to
    /// plants that use element `e` (or that a contract counts it for); and
    /// `i[r,s,b]` into oxide stockpiles of `e`.
    fn oxide_vars(&self, lp: &mut Lp, ym: &mut YearModel, cols: &mut YearCols) {
        let (plan, classes, year) = (self.plan, self.classes, self.year);
        for (r, refinery) in plan.refineries.iter().enumerate() {
            for e in 0..plan.elements.len() {
                let mut makes = [false; NUM_CLASSES];
                for &(m, _) in &cols.x_into[r] {
                    if plan.mines[m].grade[e] > 0.0 {
                        makes[classes.refined(plan, r, classes.mined(plan, m)) as usize] = true;
                    }
                }
                if !makes.iter().any(|&b| b) {
                    continue;
                }
                let made = || (0..NUM_CLASSES as StageSet).filter(|&b| makes[b as usize]);
                let exclusive = exclusive_buyers(plan, Seller::Refinery(r), year, Some(e));
                for (p, plant) in plan.plants.iter().enumerate() {
                    // Oxide a plant cannot use is not shipped, unless a
                    // contract counts it (take-or-pay).
                    let usable = self.plant_on[p] && plant.recipe[e] > 0.0;
                    if !usable && !instruments::counted(plan, Seller::Refinery(r), p, year, Some(e))
                    {
                        continue;
                    }
                    let Some(route) = self.route_allowed(
                        Product::Oxide,
                        Some(e),
                        &refinery.facility.country,
                        &plant.facility.country,
                        oxide_cost(plan, year, r, p, e).total(),
                    ) else {
                        continue;
                    };
                    let closed = exclusive.as_ref().is_some_and(|a| !a.contains(&p));
                    for b in made() {
                        let col = self.add_shipment(lp, ym, &route, closed);
                        cols.o_from.push(r, e, b, col);
                        cols.o_into.push(p, e, b, col);
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
                    let cost = oxide_route_cost(plan, year, e, from, to).total();
                    // Embargoes on shipments into stock hold even in the
                    // elastic relaxation.
                    let Some(route) = self
                        .route_allowed(Product::Oxide, Some(e), from, to, cost)
                        .filter(|route| !route.embargoed)
                    else {
                        continue;
                    };
                    for b in made() {
                        let col = self.add_shipment(lp, ym, &route, false);
                        cols.o_from.push(r, e, b, col);
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
    }

    /// `j[s,p,b]` from oxide stockpiles to plants in their country (also
    /// plants that cannot use the oxide: that is how stock is written off).
    fn oxide_release_vars(&self, lp: &mut Lp, ym: &mut YearModel, cols: &mut YearCols) {
        let (plan, year) = (self.plan, self.year);
        for (s, stock) in plan.stockpiles.iter().enumerate() {
            let StockProduct::Oxide(e) = stock.product else {
                continue;
            };
            for (p, plant) in plan.plants.iter().enumerate() {
                if plant.facility.country != stock.country {
                    continue;
                }
                let cost = self
                    .cost(oxide_route_cost(plan, year, e, &stock.country, &stock.country).total());
                for b in instruments::oxide_classes(self.classes) {
                    let col = lp.add_col(cost);
                    cols.o_into.push(p, e, b, col);
                    ym.stock_out.push(StockOut {
                        stockpile: s,
                        to: p,
                        class: b,
                        col,
                    });
                }
            }
        }
    }

    /// `q[p,e,b,d]` for every production class `d ⊆ b`, where oxide of
    /// class `b` arrives at a plant that operates and uses element `e`.
    fn use_vars(&self, lp: &mut Lp, ym: &mut YearModel, cols: &mut YearCols) {
        let plan = self.plan;
        for (p, plant) in plan.plants.iter().enumerate() {
            for e in 0..plan.elements.len() {
                if !self.plant_on[p] || plant.recipe[e] <= 0.0 {
                    continue; // shipped oxide is discarded
                }
                for b in 0..NUM_CLASSES as StageSet {
                    if cols.o_into.at(p, e, b).is_empty() {
                        continue;
                    }
                    for &d in self.classes.production.iter().filter(|&&d| d & !b == 0) {
                        let q = lp.add_col(0.0);
                        cols.q_of.push(p, e, b, q);
                        cols.q_for.push(p, e, d, q);
                        ym.uses.push(UseVar {
                            plant: p,
                            element: e,
                            class: b,
                            production: d,
                            col: q,
                        });
                    }
                }
            }
        }
    }

    /// `z[p,k,d]` to markets with demand and `zi[p,s,d]` into magnet
    /// stockpiles, for the production classes `d` whose whole recipe can be
    /// met.
    fn magnet_vars(&self, lp: &mut Lp, ym: &mut YearModel, cols: &mut YearCols) {
        let (plan, classes, year) = (self.plan, self.classes, self.year);
        for (p, plant) in plan.plants.iter().enumerate() {
            if !self.plant_on[p] {
                continue;
            }
            let exclusive = exclusive_buyers(plan, Seller::Plant(p), year, None);
            for &d in &classes.production {
                let feasible = (0..plan.elements.len())
                    .all(|e| plant.recipe[e] <= 0.0 || !cols.q_for.at(p, e, d).is_empty());
                if !feasible {
                    continue;
                }
                for (k, market) in plan.markets.iter().enumerate() {
                    if self.demand[k] <= 0.0 {
                        continue;
                    }
                    let Some(route) = self.route_allowed(
                        Product::Magnet,
                        None,
                        &plant.facility.country,
                        &market.country,
                        magnet_cost(plan, year, p, k).total(),
                    ) else {
                        continue;
                    };
                    let closed = exclusive.as_ref().is_some_and(|a| !a.contains(&k));
                    let col = self.add_shipment(lp, ym, &route, closed);
                    cols.made.push(p, d, col);
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
                    let cost = magnet_made_cost(plan, year, p, to).total();
                    // Embargoes on shipments into stock hold even in the
                    // elastic relaxation.
                    let Some(route) = self
                        .route_allowed(Product::Magnet, None, from, to, cost)
                        .filter(|route| !route.embargoed)
                    else {
                        continue;
                    };
                    let col = self.add_shipment(lp, ym, &route, false);
                    cols.made.push(p, d, col);
                    ym.stock_in.push(StockIn {
                        stockpile: s,
                        from: p,
                        class: classes.magnet(plan, p, d),
                        col,
                    });
                }
            }
        }
    }

    /// `zo[s,k,c]` from magnet stockpiles to markets in their country.
    fn magnet_release_vars(&self, lp: &mut Lp, ym: &mut YearModel) {
        let (plan, year) = (self.plan, self.year);
        for (s, stock) in plan.stockpiles.iter().enumerate() {
            if stock.product != StockProduct::Magnet {
                continue;
            }
            for (k, market) in plan.markets.iter().enumerate() {
                if market.country != stock.country || self.demand[k] <= 0.0 {
                    continue;
                }
                let cost = self
                    .cost(magnet_route_cost(plan, year, &stock.country, &market.country).total());
                for c in instruments::magnet_classes(self.classes) {
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
    }

    /// `u[k]` for markets with demand and an `unmet_penalty` (in the
    /// elastic relaxation: all of them).
    fn unmet_vars(&self, lp: &mut Lp, ym: &mut YearModel) {
        for (k, market) in self.plan.markets.iter().enumerate() {
            if self.demand[k] <= 0.0 {
                continue;
            }
            let cost = match (self.options.elastic, market.unmet_penalty) {
                (None, Some(penalty)) => Some(self.weight * penalty),
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

/// One year of the LP: its variables, then the rows of constraints 1–8,
/// one function per family.
///
/// The rows keep the order the LP has always had (oxide use; mines;
/// each refinery's capacity and separation; each plant's recipe and
/// capacity; demand; share rules): the solver picks among alternative
/// optima by that order, so a different order may report other (equally
/// cheap) flows.
fn build_year(
    plan: &Plan,
    classes: &Classes,
    lp: &mut Lp,
    year: i64,
    options: BuildOptions,
    builds: &[BuildVar],
) -> YearModel {
    let b = YearBuild::new(plan, classes, year, options, builds);
    let mut ym = YearModel {
        year,
        weight: b.weight,
        ..Default::default()
    };
    let cols = b.variables(lp, &mut ym);
    oxide_use_rows(&b, lp, &mut ym, &cols);
    for (m, x_from) in cols.x_from.iter().enumerate() {
        capacity_row(&b, lp, &mut ym, FacilityKind::Mine, m, x_from.clone());
    }
    for (r, x_into) in cols.x_into.iter().enumerate() {
        let flows = x_into.iter().map(|&(_, x)| x).collect();
        capacity_row(&b, lp, &mut ym, FacilityKind::Refinery, r, flows);
        separation_rows(&b, lp, &mut ym, &cols, r);
    }
    for p in 0..plan.plants.len() {
        recipe_rows(&b, lp, &mut ym, &cols, p);
        let flows = cols.made.all(p).collect();
        capacity_row(&b, lp, &mut ym, FacilityKind::Plant, p, flows);
    }
    demand_rows(plan, lp, &mut ym, &b.demand);
    share_rule_rows(plan, classes, lp, &mut ym, options.elastic);
    ym
}

/// Constraints 1, 2 and 6 (mine, refinery and plant capacity) for one
/// facility with throughput `flows` this year (none: no row): throughput
/// (plus the reserve `v[f]` of max-resilience, less any elastic overflow)
/// within `cap_f(y)` plus the capacity built and still standing (`K_f(t)`,
/// "Investment").
fn capacity_row(
    b: &YearBuild,
    lp: &mut Lp,
    ym: &mut YearModel,
    kind: FacilityKind,
    index: usize,
    flows: Vec<Col>,
) {
    if flows.is_empty() {
        return;
    }
    let (plan, year) = (b.plan, b.year);
    let f = facility(plan, kind, index);
    let capacity = f.effective_capacity(year);
    let reserve = b
        .options
        .reserves
        .then(|| lp.add_col(b.weight * plan.resilience.reserve_cost * f.unit_cost(year)));
    let overflow = b
        .options
        .elastic
        .and_then(|e| e.capacity)
        .map(|penalty| lp.add_col(penalty));
    let built = built_in(b.builds, kind, index, year);
    let terms: Vec<(Col, f64)> = flows
        .into_iter()
        .map(|c| (c, 1.0))
        .chain(reserve.map(|v| (v, 1.0)))
        .chain(overflow.map(|e| (e, -1.0)))
        .chain(built.iter().map(|&k| (k, -1.0)))
        .collect();
    let row = lp.add_row(f64::NEG_INFINITY, capacity, terms);
    ym.capacity_rows.push(CapacityRow {
        kind,
        index,
        capacity,
        row,
        reserve,
        overflow,
    });
}

/// Constraint 3 (separation) at refinery `r`, for every element and
/// concentrate class `a`: oxide of class `a ∪ ref(r)` shipped (to plants
/// and stockpiles) at most what separation recovers from the concentrate
/// of class `a`.
fn separation_rows(b: &YearBuild, lp: &mut Lp, ym: &mut YearModel, cols: &YearCols, r: usize) {
    let (plan, classes) = (b.plan, b.classes);
    let concentrate_classes: &[StageSet] = if MINING & classes.tracked == 0 {
        &[0]
    } else {
        &[0, MINING]
    };
    let x_in = &cols.x_into[r];
    for e in 0..plan.elements.len() {
        for &a in concentrate_classes {
            let shipped = cols.o_from.at(r, e, classes.refined(plan, r, a));
            if shipped.is_empty() {
                continue;
            }
            let of_class = x_in
                .iter()
                .copied()
                .filter(|&(m, _)| classes.mined(plan, m) == a);
            let row = separation_row(plan, lp, r, e, shipped, of_class);
            ym.balance_rows.push((
                row,
                BalanceRow::Separation {
                    refinery: r,
                    element: e,
                },
            ));
        }
    }
}

/// One row of constraint 3 at refinery `r` for element `e`:
/// `Σ shipped ≤ ρ(r,e) × Σ_m g(m,e) × x[m,r]` over the concentrate `x_in`
/// (`(mine, column)`) taken in. The plan LP writes one per concentrate class,
/// the recourse of max-resilience and stress one summed over classes.
pub(super) fn separation_row(
    plan: &Plan,
    lp: &mut Lp,
    r: usize,
    e: usize,
    shipped: &[Col],
    x_in: impl IntoIterator<Item = (usize, Col)>,
) -> Row {
    let recovery = plan.refineries[r].recovery[e];
    let terms: Vec<(Col, f64)> = shipped
        .iter()
        .map(|&o| (o, 1.0))
        .chain(
            x_in.into_iter()
                .map(|(m, x)| (x, -recovery * plan.mines[m].grade[e])),
        )
        .collect();
    lp.add_row(f64::NEG_INFINITY, 0.0, terms)
}

/// Constraint 4 (oxide use), for every plant, element and oxide class `b`
/// it uses: `Σ_{d ⊆ b} q[p,e,b,d]` at most what arrived (shipped and
/// released from stock). Oxide nothing can use gets no row: it is discarded.
fn oxide_use_rows(b: &YearBuild, lp: &mut Lp, ym: &mut YearModel, cols: &YearCols) {
    for p in 0..b.plan.plants.len() {
        for e in 0..b.plan.elements.len() {
            for class in 0..NUM_CLASSES as StageSet {
                let used = cols.q_of.at(p, e, class);
                if used.is_empty() {
                    continue;
                }
                let terms: Vec<(Col, f64)> = used
                    .iter()
                    .map(|&q| (q, 1.0))
                    .chain(cols.o_into.at(p, e, class).iter().map(|&o| (o, -1.0)))
                    .collect();
                let row = lp.add_row(f64::NEG_INFINITY, 0.0, terms);
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
}

/// Constraint 5 (recipe) at plant `p`, for every production class `d` it
/// makes and recipe element `e`: `Σ_{b ⊇ d} q[p,e,b,d] ≥ β(p,e) × (Σ_k
/// z[p,k,d] + Σ_s zi[p,s,d])`.
fn recipe_rows(b: &YearBuild, lp: &mut Lp, ym: &mut YearModel, cols: &YearCols, p: usize) {
    let recipe = &b.plan.plants[p].recipe;
    for &d in &b.classes.production {
        let made = cols.made.at(p, d);
        if made.is_empty() {
            continue;
        }
        for (e, &beta) in recipe.iter().enumerate() {
            if beta <= 0.0 {
                continue;
            }
            let row = recipe_row(lp, cols.q_for.at(p, e, d), beta, made);
            ym.balance_rows.push((
                row,
                BalanceRow::Recipe {
                    plant: p,
                    element: e,
                },
            ));
        }
    }
}

/// One row of constraint 5: oxide `used` at least `per_tonne` (`β(p,e)`)
/// times the magnets `made`. The plan LP writes one per production class,
/// the recourse one without classes (`used`: oxide shipped and released).
pub(super) fn recipe_row(lp: &mut Lp, used: &[Col], per_tonne: f64, made: &[Col]) -> Row {
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
