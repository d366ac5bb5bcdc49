//! The families of "Investment, contracts and subsidies" and "Stockpiles"
//! in FORMULATION.md: build variables and their limits, contract rows,
//! exclusivity, and the stock balance that links the years.

use super::lp::{Col, Lp, Row};
use super::{Classes, Elastic, FacilityKind, YearModel, MAGNET, MINING, NUM_CLASSES, REFINING};
use crate::plan::{Facility, Plan, Seller, StageSet, StockProduct};

/// Capacity added at a facility that comes online in `year` (`k[f,y]`).
#[derive(Clone, Copy, Debug)]
pub struct BuildVar {
    pub kind: FacilityKind,
    pub index: usize,
    pub year: i64,
    pub col: Col,
    /// `b[f,y]` of a lumpy build.
    pub binary: Option<Col>,
    /// Last year (exclusive) the capacity exists: `min(year + L, closes)`.
    pub until: i64,
}

impl BuildVar {
    pub fn exists_in(&self, t: i64) -> bool {
        self.year <= t && t < self.until
    }
}

/// `a_f`: the annuity factor of a build with lifetime `l` at rate `r`.
pub fn annuity_factor(rate: f64, lifetime: i64) -> f64 {
    let l = lifetime as f64;
    if rate > 0.0 {
        rate / (1.0 - (1.0 + rate).powf(-l))
    } else {
        1.0 / l
    }
}

/// Discounted cost of one t/yr built at `facility` coming online in `year`:
/// `Σ_t w_t × (capex × a_f + fixed_cost)` over the horizon years it exists.
pub fn build_cost_per_unit(plan: &Plan, facility: &Facility, year: i64) -> f64 {
    plan.years()
        .map(|t| build_cost_in_year(plan, facility, year, t))
        .sum()
}

/// The part of [`build_cost_per_unit`] charged in year `t`: `w_t × (capex
/// × a_f + fixed_cost)` while capacity added in `year` exists, else 0.
pub fn build_cost_in_year(plan: &Plan, facility: &Facility, year: i64, t: i64) -> f64 {
    let Some(x) = &facility.expand else {
        return 0.0;
    };
    if !facility.built_exists(year, t) {
        return 0.0;
    }
    let annual = x.capex * annuity_factor(plan.discount_rate, x.lifetime) + x.fixed_cost;
    plan.weight(t) * annual
}

fn facility_of(plan: &Plan, kind: FacilityKind, index: usize) -> &Facility {
    super::facility(plan, kind, index)
}

/// Build columns for every facility with `expand` and year in `Y_f`, the
/// build limit `Σ k ≤ max`, and for lumpy builds `min_build × b ≤ k ≤ max × b`.
pub(super) fn build_vars(plan: &Plan, lp: &mut Lp, elastic: bool) -> Vec<BuildVar> {
    let mut out = Vec::new();
    let kinds = [
        (FacilityKind::Mine, plan.mines.len()),
        (FacilityKind::Refinery, plan.refineries.len()),
        (FacilityKind::Plant, plan.plants.len()),
    ];
    for (kind, n) in kinds {
        for index in 0..n {
            let f = facility_of(plan, kind, index);
            let Some(x) = &f.expand else { continue };
            if x.max <= 0.0 {
                continue;
            }
            let mut cols = Vec::new();
            for year in f.build_years(plan.first_year, plan.last_year) {
                let cost = if elastic {
                    0.0
                } else {
                    build_cost_per_unit(plan, f, year)
                };
                let col = lp.add_col_bounded(cost, 0.0, x.max);
                let binary = (x.min_build > 0.0).then(|| {
                    let b = lp.add_binary(0.0);
                    lp.add_row(0.0, f64::INFINITY, [(col, 1.0), (b, -x.min_build)]);
                    lp.add_row(f64::NEG_INFINITY, 0.0, [(col, 1.0), (b, -x.max)]);
                    b
                });
                let until = (i128::from(year) + i128::from(x.lifetime))
                    .min(i128::from(f.closes.unwrap_or(i64::MAX)))
                    as i64;
                cols.push(col);
                out.push(BuildVar {
                    kind,
                    index,
                    year,
                    col,
                    binary,
                    until,
                });
            }
            if cols.len() > 1 {
                lp.add_row(f64::NEG_INFINITY, x.max, cols.iter().map(|&c| (c, 1.0)));
            }
        }
    }
    out
}

/// The buyers a seller's exclusive contracts allow for one item in `year`
/// (its concentrate or magnets: `element = None`; a refinery's oxide of
/// element `e`): `None` when no exclusive contract binds the item.
pub fn exclusive_buyers(
    plan: &Plan,
    seller: Seller,
    year: i64,
    element: Option<usize>,
) -> Option<Vec<usize>> {
    let mut allowed: Option<Vec<usize>> = None;
    for c in &plan.contracts {
        if c.seller != seller || !c.exclusive || !c.applies(year) {
            continue;
        }
        if let Some(e) = element {
            if !c.counts_element(e) {
                continue;
            }
        }
        allowed.get_or_insert_with(Vec::new).extend(&c.buyers);
    }
    allowed
}

/// Whether some contract of `seller` applying in `year` counts its flow to
/// `buyer` (of element `element` for a refinery).
pub(super) fn counted(
    plan: &Plan,
    seller: Seller,
    buyer: usize,
    year: i64,
    element: Option<usize>,
) -> bool {
    plan.contracts.iter().any(|c| {
        c.seller == seller
            && c.applies(year)
            && c.buyers.contains(&buyer)
            && element.is_none_or(|e| c.counts_element(e))
    })
}

/// A contract's rows in one year: `F + h ≥ min` and `F ≤ max`.
#[derive(Clone, Debug)]
pub struct ContractRow {
    pub contract: usize,
    pub year: i64,
    /// The seller's flow to the buyers (`F_c(y)`), summed over classes.
    pub flows: Vec<Col>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// Shortfall `h` (with `penalty`, or in the elastic relaxation).
    pub shortfall: Option<Col>,
    pub min_row: Option<Row>,
    pub max_row: Option<Row>,
}

/// The contract family: for every contract and horizon year it applies.
pub(super) fn contract_rows(
    plan: &Plan,
    lp: &mut Lp,
    years: &[YearModel],
    elastic: Option<Elastic>,
) -> Vec<ContractRow> {
    let mut out = Vec::new();
    for (ci, c) in plan.contracts.iter().enumerate() {
        for ym in years {
            if !c.applies(ym.year) {
                continue;
            }
            let flows: Vec<Col> = match c.seller {
                Seller::Mine(m) => ym
                    .concentrate
                    .iter()
                    .filter(|x| x.mine == m && c.buyers.contains(&x.refinery))
                    .map(|x| x.col)
                    .collect(),
                Seller::Refinery(r) => ym
                    .oxide
                    .iter()
                    .filter(|o| {
                        o.refinery == r
                            && c.buyers.contains(&o.plant)
                            && c.counts_element(o.element)
                    })
                    .map(|o| o.col)
                    .collect(),
                Seller::Plant(p) => ym
                    .magnet
                    .iter()
                    .filter(|z| z.plant == p && c.buyers.contains(&z.market))
                    .map(|z| z.col)
                    .collect(),
            };
            let min = c.min.as_ref().map(|v| v.at(ym.year));
            let max = c.max.as_ref().map(|v| v.at(ym.year));
            let mut shortfall = None;
            let min_row = min.map(|lo| {
                shortfall = match (elastic, c.penalty) {
                    (None, Some(p)) => Some(lp.add_col(ym.weight * p)),
                    (None, None) => None,
                    (Some(_), Some(_)) => Some(lp.add_col(0.0)),
                    (Some(e), None) => Some(lp.add_col(e.share)),
                };
                let terms: Vec<(Col, f64)> = flows
                    .iter()
                    .map(|&f| (f, 1.0))
                    .chain(shortfall.map(|h| (h, 1.0)))
                    .collect();
                lp.add_row(lo, f64::INFINITY, terms)
            });
            let max_row =
                max.map(|hi| lp.add_row(f64::NEG_INFINITY, hi, flows.iter().map(|&f| (f, 1.0))));
            out.push(ContractRow {
                contract: ci,
                year: ym.year,
                flows,
                min,
                max,
                shortfall,
                min_row,
                max_row,
            });
        }
    }
    out
}

/// A shipment into a stockpile: oxide from refinery `from` (class `b`) or
/// magnets from plant `from` (`class` is then the magnets' class `class(p,d)`).
#[derive(Clone, Copy, Debug)]
pub struct StockIn {
    pub stockpile: usize,
    pub from: usize,
    pub class: StageSet,
    pub col: Col,
}

/// A release from a stockpile: oxide to plant `to`, or magnets to market `to`.
#[derive(Clone, Copy, Debug)]
pub struct StockOut {
    pub stockpile: usize,
    pub to: usize,
    pub class: StageSet,
    pub col: Col,
}

/// `L[s,a,y]`: t of class `a` held at the end of the year.
#[derive(Clone, Copy, Debug)]
pub struct LevelVar {
    pub stockpile: usize,
    pub class: StageSet,
    pub col: Col,
    /// Shortfall below `min_level` (elastic relaxation only).
    pub floor_shortfall: Option<Col>,
}

/// Classes oxide in stock may carry: subsets of `{mining, refining}` that
/// some rule tells apart.
pub(super) fn oxide_classes(classes: &Classes) -> impl Iterator<Item = StageSet> {
    subsets(classes.tracked & (MINING | REFINING))
}

/// Classes magnets in stock may carry.
pub(super) fn magnet_classes(classes: &Classes) -> impl Iterator<Item = StageSet> {
    subsets(classes.tracked & (MINING | REFINING | MAGNET))
}

fn subsets(of: StageSet) -> impl Iterator<Item = StageSet> {
    (0..NUM_CLASSES as StageSet).filter(move |d| d & !of == 0)
}

/// Level columns, balance rows and limits of every stockpile: for every
/// class `L[a,y] = L[a,y−1] + in − out`, `L[a, first−1]` the initial stock
/// in its class; `min_level ≤ Σ_a L ≤ capacity`; holding cost on `Σ_a L`.
pub(super) fn stock_balance_rows(
    plan: &Plan,
    classes: &Classes,
    lp: &mut Lp,
    years: &mut [YearModel],
    elastic: Option<Elastic>,
) {
    for (s, stock) in plan.stockpiles.iter().enumerate() {
        let class_list: Vec<StageSet> = match stock.product {
            StockProduct::Oxide(_) => oxide_classes(classes).collect(),
            StockProduct::Magnet => magnet_classes(classes).collect(),
        };
        let initial_class = stock.initial_clean & classes.tracked;
        let mut previous: Vec<Option<Col>> = vec![None; NUM_CLASSES];
        for ym in years.iter_mut() {
            let year = ym.year;
            let holding = match elastic {
                None => ym.weight * stock.holding_cost.at(year),
                Some(_) => 0.0,
            };
            let mut levels = Vec::new();
            for &a in &class_list {
                let col = lp.add_col(holding);
                let start = if year == plan.first_year && a == initial_class {
                    stock.initial
                } else {
                    0.0
                };
                // L[a,y] − L[a,y−1] − in + out = start (the initial stock).
                let mut terms = vec![(col, 1.0)];
                if let Some(prev) = previous[a as usize] {
                    terms.push((prev, -1.0));
                }
                terms.extend(
                    ym.stock_in
                        .iter()
                        .filter(|i| i.stockpile == s && i.class == a)
                        .map(|i| (i.col, -1.0)),
                );
                terms.extend(
                    ym.stock_out
                        .iter()
                        .filter(|o| o.stockpile == s && o.class == a)
                        .map(|o| (o.col, 1.0)),
                );
                lp.add_row(start, start, terms);
                previous[a as usize] = Some(col);
                levels.push((a, col));
            }
            let floor = stock.min_level.at(year);
            let floor_shortfall = elastic.filter(|_| floor > 0.0).map(|e| lp.add_col(e.share));
            let terms: Vec<(Col, f64)> = levels
                .iter()
                .map(|&(_, c)| (c, 1.0))
                .chain(floor_shortfall.map(|h| (h, 1.0)))
                .collect();
            // The shortfall column may only make up for the floor, not the cap.
            lp.add_row(floor, f64::INFINITY, terms);
            lp.add_row(
                f64::NEG_INFINITY,
                stock.capacity.at(year),
                levels.iter().map(|&(_, c)| (c, 1.0)),
            );
            for (a, col) in levels {
                ym.levels.push(LevelVar {
                    stockpile: s,
                    class: a,
                    col,
                    floor_shortfall,
                });
            }
        }
    }
}
