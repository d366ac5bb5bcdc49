//! Tracing a market's magnets lot by lot. When share rules tell origin
//! classes apart, the LP keeps oxide and magnets of different classes apart
//! at every refinery, plant and stockpile (FORMULATION.md, "origin
//! classes"), and so does this trace: within one class a facility's output
//! is mixed in proportion to its inputs, as in the pooled trace of
//! [`super::glance::Sources`], but a lot of one class never takes the mix
//! of another. A market under a share rule therefore shows where its clean
//! lots came from, not the average of everything its plants handled.

use std::collections::BTreeMap;

use super::glance::{add_scaled, initial_mix, normalized, Mix};
use crate::model::Classes;
use crate::outcome::{Lots, YearLots};
use crate::plan::{Plan, Stage, StageSet, StockProduct};

const MINING: StageSet = 1 << (Stage::Mining as u8);
const MAGNET: StageSet = 1 << (Stage::Magnet as u8);

/// The lot-by-lot trace of one outcome, year by year (stock links years).
pub struct LotTrace<'a> {
    plan: &'a Plan,
    lots: &'a Lots,
    classes: Classes,
    /// `(stockpile, class)` → mix and level at the end of the last year traced.
    pools: BTreeMap<(usize, StageSet), (Mix, f64)>,
    /// Year → mixes of that year's output.
    years: BTreeMap<i64, YearMixes>,
}

#[derive(Default)]
struct YearMixes {
    /// `(plant, production class d)` → mix of one t of its magnets.
    plants: BTreeMap<(usize, StageSet), Mix>,
    /// `(stockpile, class)` → mix of one t it releases.
    stocks: BTreeMap<(usize, StageSet), Mix>,
}

/// A mix with only one stage known: `stage` happened in `country`.
fn only(stage: usize, country: &str) -> Mix {
    let mut m: Mix = Default::default();
    m[stage].insert(country.to_string(), 1.0);
    m
}

impl<'a> LotTrace<'a> {
    pub fn new(plan: &'a Plan, lots: &'a Lots) -> LotTrace<'a> {
        let classes = Classes::for_plan(plan);
        let mut pools = BTreeMap::new();
        for (s, stock) in plan.stockpiles.iter().enumerate() {
            let class = stock.initial_clean & classes.tracked;
            pools.insert((s, class), (initial_mix(stock), stock.initial));
        }
        LotTrace {
            plan,
            lots,
            classes,
            pools,
            years: BTreeMap::new(),
        }
    }

    /// Trace every year up to `year` that has not been traced yet.
    fn trace(&mut self, year: i64) {
        let from = self
            .years
            .keys()
            .next_back()
            .map_or(self.plan.first_year, |y| y + 1);
        for y in from..=year {
            self.trace_one(y);
        }
    }

    fn trace_one(&mut self, year: i64) {
        let plan = self.plan;
        let empty = YearLots::default();
        let lots = self.lots.years.get(&year).unwrap_or(&empty);
        // Refineries: (refinery, concentrate class a) → mix of its oxide.
        let mut refined: BTreeMap<(usize, StageSet), Mix> = BTreeMap::new();
        for &(m, r, t) in &lots.concentrate {
            let a = self.classes.mined(plan, m);
            let mine = only(0, &plan.mines[m].facility.country);
            add_scaled(refined.entry((r, a)).or_default(), &mine, t);
        }
        for ((r, _), mix) in refined.iter_mut() {
            *mix = normalized(std::mem::take(mix));
            mix[1] = BTreeMap::from([(plan.refineries[*r].facility.country.clone(), 1.0)]);
        }
        // Oxide of class b from refinery r came from concentrate of class
        // b ∩ {mining} (refining adds only the refining stage).
        let of_refinery = |r: usize, b: StageSet| -> Mix {
            refined
                .get(&(r, b & MINING))
                .cloned()
                .unwrap_or_else(|| only(1, &plan.refineries[r].facility.country))
        };
        let mut stocks = BTreeMap::new();
        self.stock_year(lots, false, &mut stocks, &|r, b| of_refinery(r, b));
        // Plants' oxide: (plant, element, class b) → mix.
        let mut oxide: BTreeMap<(usize, usize, StageSet), Mix> = BTreeMap::new();
        for &(r, p, e, b, t) in &lots.oxide {
            add_scaled(oxide.entry((p, e, b)).or_default(), &of_refinery(r, b), t);
        }
        for &(s, p, b, t) in &lots.stock_out {
            if let StockProduct::Oxide(e) = plan.stockpiles[s].product {
                if let Some(mix) = stocks.get(&(s, b)) {
                    add_scaled(oxide.entry((p, e, b)).or_default(), mix, t);
                }
            }
        }
        let oxide: BTreeMap<_, _> = oxide.into_iter().map(|(k, m)| (k, normalized(m))).collect();
        // Production classes: the oxide each uses, by tonnes over elements.
        let mut plants: BTreeMap<(usize, StageSet), Mix> = BTreeMap::new();
        for &(p, e, b, d, t) in &lots.uses {
            if let Some(mix) = oxide.get(&(p, e, b)) {
                add_scaled(plants.entry((p, d)).or_default(), mix, t);
            }
        }
        for ((p, _), mix) in plants.iter_mut() {
            *mix = normalized(std::mem::take(mix));
            mix[2] = BTreeMap::from([(plan.plants[*p].facility.country.clone(), 1.0)]);
        }
        let made = |p: usize, d: StageSet| -> Mix {
            plants
                .get(&(p, d))
                .cloned()
                .unwrap_or_else(|| only(2, &plan.plants[p].facility.country))
        };
        // Magnets into stock carry class(p,d) = d, plus the magnet stage.
        self.stock_year(lots, true, &mut stocks, &|p, c| made(p, c & !MAGNET));
        for &(p, _, d, _) in &lots.magnet {
            plants
                .entry((p, d))
                .or_insert_with(|| only(2, &plan.plants[p].facility.country));
        }
        self.years.insert(year, YearMixes { plants, stocks });
    }

    /// One year of the oxide (or magnet) stockpiles, class by class: each
    /// pool's release has the mix of its start-of-year stock and this year's
    /// intake (`intake(from, class)` gives a shipper's mix); the pool
    /// carries on with what is left.
    fn stock_year(
        &mut self,
        lots: &YearLots,
        magnets: bool,
        releases: &mut BTreeMap<(usize, StageSet), Mix>,
        intake: &dyn Fn(usize, StageSet) -> Mix,
    ) {
        let plan = self.plan;
        let is_kind =
            |s: usize| matches!(plan.stockpiles[s].product, StockProduct::Magnet) == magnets;
        let mut keys: Vec<(usize, StageSet)> = self.pools.keys().copied().collect();
        keys.extend(lots.stock_in.iter().map(|&(s, _, c, _)| (s, c)));
        keys.extend(lots.stock_out.iter().map(|&(s, _, c, _)| (s, c)));
        keys.sort();
        keys.dedup();
        for (s, c) in keys.into_iter().filter(|k| is_kind(k.0)) {
            let (start, level) = self.pools.get(&(s, c)).cloned().unwrap_or_default();
            let mut pool: Mix = Default::default();
            add_scaled(&mut pool, &start, level);
            let mut taken = 0.0;
            for &(_, from, _, t) in lots.stock_in.iter().filter(|i| (i.0, i.2) == (s, c)) {
                add_scaled(&mut pool, &intake(from, c), t);
                taken += t;
            }
            let released: f64 = lots
                .stock_out
                .iter()
                .filter(|o| (o.0, o.2) == (s, c))
                .map(|o| o.3)
                .sum();
            let pool = normalized(pool);
            let end = (level + taken - released).max(0.0);
            releases.insert((s, c), pool.clone());
            self.pools.insert((s, c), (pool, end));
        }
    }

    /// Where market `k`'s magnets of `year` come from, in tonnes by country
    /// per stage: `[mined in, separated in, made in]`.
    pub fn of_market(&mut self, year: i64, k: usize) -> Mix {
        self.trace(year);
        let mixes = &self.years[&year];
        let empty = YearLots::default();
        let lots = self.lots.years.get(&year).unwrap_or(&empty);
        let mut out: Mix = Default::default();
        for &(p, _, d, t) in lots.magnet.iter().filter(|z| z.1 == k) {
            if let Some(m) = mixes.plants.get(&(p, d)) {
                add_scaled(&mut out, m, t);
            }
        }
        for &(s, _, c, t) in lots.stock_out.iter().filter(|o| o.1 == k) {
            if matches!(self.plan.stockpiles[s].product, StockProduct::Magnet) {
                if let Some(m) = mixes.stocks.get(&(s, c)) {
                    add_scaled(&mut out, m, t);
                }
            }
        }
        out
    }
}
