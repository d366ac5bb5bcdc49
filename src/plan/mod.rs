//! The plan: checked, resolved, and ready to formulate. Everything after
//! [`load`] trusts these values; every rule of PLAN_FORMAT.md is enforced in
//! `read.rs` on the way in.

mod countries;
mod data;
pub mod overrides;
mod read;
mod scenario;
pub mod schema;
pub mod tree;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use crate::error::{Error, Result, SourceFile};

pub use overrides::Override;
pub use read::{is_valid_id, MAX_HORIZON_YEARS};

/// A value given per year: a constant or a table interpolated linearly between
/// listed years and flat outside them.
#[derive(Clone, Debug, PartialEq)]
pub enum YearValue {
    Constant(f64),
    /// Sorted by year, at least one point, years distinct.
    Table(Vec<(i64, f64)>),
}

impl YearValue {
    pub fn at(&self, year: i64) -> f64 {
        match self {
            YearValue::Constant(v) => *v,
            YearValue::Table(points) => {
                let (first, last) = (points[0], points[points.len() - 1]);
                if year <= first.0 {
                    return first.1;
                }
                if year >= last.0 {
                    return last.1;
                }
                let i = points.partition_point(|&(y, _)| y <= year);
                let (y0, v0) = points[i - 1];
                let (y1, v1) = points[i];
                if y0 == year {
                    return v0;
                }
                // i128: year keys may be any i64, and their difference may not fit.
                let t = (i128::from(year) - i128::from(y0)) as f64
                    / (i128::from(y1) - i128::from(y0)) as f64;
                v0 + t * (v1 - v0)
            }
        }
    }
}

/// An inclusive range of years `[first, last]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct YearRange {
    pub first: i64,
    pub last: i64,
}

impl YearRange {
    pub fn contains(&self, year: i64) -> bool {
        self.first <= year && year <= self.last
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Product {
    Concentrate,
    Oxide,
    Magnet,
}

impl Product {
    pub const ALL: [Product; 3] = [Product::Concentrate, Product::Oxide, Product::Magnet];

    pub fn name(self) -> &'static str {
        match self {
            Product::Concentrate => "concentrate",
            Product::Oxide => "oxide",
            Product::Magnet => "magnet",
        }
    }

    pub fn from_name(name: &str) -> Option<Product> {
        Product::ALL.into_iter().find(|p| p.name() == name)
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// The three stages at which origin is traced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stage {
    Mining,
    Refining,
    Magnet,
}

impl Stage {
    pub const ALL: [Stage; 3] = [Stage::Mining, Stage::Refining, Stage::Magnet];

    pub fn name(self) -> &'static str {
        match self {
            Stage::Mining => "mining",
            Stage::Refining => "refining",
            Stage::Magnet => "magnet",
        }
    }

    pub fn from_name(name: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The stage a planner most likely meant by another word for it
    /// (`"separation"` → refining), for error messages.
    pub fn meant(word: &str) -> Option<Stage> {
        match word.trim().to_ascii_lowercase().as_str() {
            "mining" | "mine" | "mines" | "mined" | "extraction" => Some(Stage::Mining),
            "refining" | "refinery" | "refine" | "refined" | "separation" | "separating"
            | "separated" | "processing" => Some(Stage::Refining),
            "magnet" | "magnets" | "making" | "manufacturing" | "plant" => Some(Stage::Magnet),
            _ => None,
        }
    }

    /// ` (did you mean "refining"?)` where [`Stage::meant`] knows the word,
    /// else nothing.
    pub fn hint(word: &str) -> String {
        Stage::meant(word).map_or(String::new(), |s| {
            format!(" (did you mean \"{}\"?)", s.name())
        })
    }

    /// Bit of this stage in a [`StageSet`].
    pub fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of stages as a bit mask (bit 0 mining, 1 refining, 2 magnet).
pub type StageSet = u8;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Objective {
    MinCost,
    MaxResilience,
}

impl Objective {
    pub fn name(self) -> &'static str {
        match self {
            Objective::MinCost => "min-cost",
            Objective::MaxResilience => "max-resilience",
        }
    }

    pub fn from_name(name: &str) -> Option<Objective> {
        match name {
            "min-cost" => Some(Objective::MinCost),
            "max-resilience" => Some(Objective::MaxResilience),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Element {
    pub name: String,
    /// Reference value per t oxide, for ad-valorem tariffs.
    pub price: f64,
}

/// What mines, refineries and magnet plants have in common.
#[derive(Clone, Debug)]
pub struct Facility {
    pub id: String,
    pub name: String,
    pub country: String,
    pub capacity: YearValue,
    pub cost: YearValue,
    pub online: i64,
    pub ramp: Vec<f64>,
    pub closes: Option<i64>,
    /// Capacity that may be built (`expand`).
    pub expand: Option<Expand>,
}

/// `expand`: capacity that may be built at a facility.
#[derive(Clone, Debug, PartialEq)]
pub struct Expand {
    /// Overnight investment per t/yr added.
    pub capex: f64,
    /// Most capacity added over the horizon, t/yr.
    pub max: f64,
    /// First year added capacity can operate.
    pub earliest: i64,
    /// Years added capacity exists.
    pub lifetime: i64,
    /// Cost per t/yr added for every year it exists.
    pub fixed_cost: f64,
    /// Each addition 0 or at least this (lumpy build, a MIP); 0: continuous.
    pub min_build: f64,
}

impl Facility {
    /// Whether capacity added in `built` (a horizon year) exists in year `t`.
    pub fn built_exists(&self, built: i64, t: i64) -> bool {
        let Some(x) = &self.expand else {
            return false;
        };
        built <= t
            && i128::from(t) < i128::from(built) + i128::from(x.lifetime)
            && self.closes.is_none_or(|c| t < c)
    }

    /// Years of the horizon in which added capacity may come online (`Y_f`).
    pub fn build_years(&self, first: i64, last: i64) -> Vec<i64> {
        let Some(x) = &self.expand else {
            return Vec::new();
        };
        (first.max(x.earliest)..=last)
            .filter(|&y| self.closes.is_none_or(|c| y < c))
            .collect()
    }

    /// Whether the facility may have capacity in year `t`: existing or built.
    pub fn may_operate(&self, first: i64, last: i64, t: i64) -> bool {
        self.effective_capacity(t) > 0.0
            || (self.expand.as_ref().is_some_and(|x| x.max > 0.0)
                && self
                    .build_years(first, last)
                    .iter()
                    .any(|&y| self.built_exists(y, t)))
    }

    /// Capacity × ramp factor, 0 outside `[online, closes)`.
    pub fn effective_capacity(&self, year: i64) -> f64 {
        if year < self.online || self.closes.is_some_and(|c| year >= c) {
            return 0.0;
        }
        let since_online = year.saturating_sub(self.online);
        let ramp = usize::try_from(since_online)
            .ok()
            .and_then(|i| self.ramp.get(i))
            .copied()
            .unwrap_or(1.0);
        self.capacity.at(year) * ramp
    }

    pub fn unit_cost(&self, year: i64) -> f64 {
        self.cost.at(year)
    }
}

#[derive(Clone, Debug)]
pub struct Mine {
    pub facility: Facility,
    /// t oxide of each element (by index into `Plan::elements`) per t REO.
    pub grade: Vec<f64>,
}

#[derive(Clone, Debug)]
pub struct Refinery {
    pub facility: Facility,
    /// Share of each element's contained oxide recovered.
    pub recovery: Vec<f64>,
}

#[derive(Clone, Debug)]
pub struct MagnetPlant {
    pub facility: Facility,
    /// t oxide of each element per t magnet.
    pub recipe: Vec<f64>,
}

#[derive(Clone, Debug)]
pub struct Market {
    pub id: String,
    pub name: String,
    pub country: String,
    pub demand: YearValue,
    pub unmet_penalty: Option<f64>,
}

/// A country code or the wildcard `"*"` (tariffs and embargoes only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CountryMatch {
    Any,
    Is(String),
}

impl CountryMatch {
    pub fn matches(&self, country: &str) -> bool {
        match self {
            CountryMatch::Any => true,
            CountryMatch::Is(c) => c == country,
        }
    }

    pub fn label(&self) -> &str {
        match self {
            CountryMatch::Any => "*",
            CountryMatch::Is(c) => c,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Tariff {
    pub id: Option<String>,
    pub product: Product,
    /// Index into `Plan::elements`; oxide only.
    pub element: Option<usize>,
    pub from: CountryMatch,
    pub to: CountryMatch,
    pub ad_valorem: f64,
    pub per_tonne: f64,
    pub years: Option<YearRange>,
}

#[derive(Clone, Debug)]
pub struct Embargo {
    pub id: Option<String>,
    /// `None` is `"*"`: every product.
    pub product: Option<Product>,
    pub element: Option<usize>,
    pub from: CountryMatch,
    pub to: CountryMatch,
    pub years: Option<YearRange>,
}

#[derive(Clone, Debug)]
pub struct ShareRule {
    pub id: String,
    /// Indices into `Plan::markets`.
    pub markets: Vec<usize>,
    pub stages: StageSet,
    pub min_share: YearValue,
    pub years: Option<YearRange>,
    /// Extension: cost per t of clean magnet short of the rule. `None`: a hard rule.
    pub penalty: Option<f64>,
}

#[derive(Clone, Debug)]
pub struct Resilience {
    pub budget: f64,
    pub reserve_cost: f64,
    /// Markets whose worst-case share `λ` is maximized (extension; `None`:
    /// every market). The others still get recourse deliveries up to their
    /// demand, but no share of theirs bounds `λ`.
    pub markets: Option<Vec<usize>>,
}

impl Resilience {
    /// Whether market `k`'s share bounds `λ`.
    pub fn counts(&self, k: usize) -> bool {
        self.markets.as_ref().is_none_or(|m| m.contains(&k))
    }
}

#[derive(Clone, Debug)]
pub struct Disruption {
    pub id: String,
    pub description: Option<String>,
    pub exports_from: Vec<String>,
    pub countries: Vec<String>,
    pub facilities: Vec<String>,
    pub capacity_factor: f64,
    pub years: Option<YearRange>,
}

#[derive(Clone, Debug, Default)]
pub struct Transport {
    /// Cost per t by product index, same country.
    pub domestic: [f64; 3],
    /// Cost per t by product index, different countries.
    pub cross_border: [f64; 3],
    /// `(from, to)` → cost per t by product index where the lane gives one.
    pub lanes: HashMap<(String, String), [Option<f64>; 3]>,
}

impl Transport {
    /// `T(prod, a, b)` of FORMULATION.md.
    pub fn cost(&self, product: Product, from: &str, to: &str) -> f64 {
        let p = product.index();
        if let Some(lane) = self.lanes.get(&(from.to_string(), to.to_string())) {
            if let Some(v) = lane[p] {
                return v;
            }
        }
        if from == to {
            self.domestic[p]
        } else {
            self.cross_border[p]
        }
    }
}

/// The seller of a contract: a facility of one stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seller {
    Mine(usize),
    Refinery(usize),
    Plant(usize),
}

/// `[[contract]]`: a seller's flow to a set of buyers of the next stage.
#[derive(Clone, Debug)]
pub struct Contract {
    pub id: String,
    pub seller: Seller,
    /// Indices of refineries (seller a mine), plants (a refinery) or markets (a plant).
    pub buyers: Vec<usize>,
    /// Refinery sellers only: count only this element's oxide.
    pub element: Option<usize>,
    pub min: Option<YearValue>,
    pub max: Option<YearValue>,
    pub exclusive: bool,
    /// Cost per t short of `min`; `None`: `min` must be met.
    pub penalty: Option<f64>,
    pub years: Option<YearRange>,
}

impl Contract {
    pub fn applies(&self, year: i64) -> bool {
        self.years.is_none_or(|r| r.contains(year))
    }

    /// Whether the contract counts oxide of element `e` (refinery sellers).
    pub fn counts_element(&self, e: usize) -> bool {
        self.element.is_none_or(|x| x == e)
    }
}

/// `[[subsidy]]`: a production credit per unit of throughput.
#[derive(Clone, Debug)]
pub struct Subsidy {
    pub id: String,
    pub stage: Stage,
    /// `None`: not given.
    pub countries: Option<Vec<String>>,
    pub facilities: Option<Vec<String>>,
    pub per_tonne: YearValue,
    pub share_of_cost: YearValue,
    pub years: Option<YearRange>,
}

impl Subsidy {
    pub fn applies(&self, year: i64) -> bool {
        self.years.is_none_or(|r| r.contains(year))
    }

    pub fn matches(&self, facility: &Facility) -> bool {
        match (&self.countries, &self.facilities) {
            (None, None) => true,
            (c, f) => {
                c.as_ref().is_some_and(|c| c.contains(&facility.country))
                    || f.as_ref().is_some_and(|f| f.contains(&facility.id))
            }
        }
    }

    /// Payment per unit of throughput of `facility` in `year` (0 when inactive).
    pub fn per_unit(&self, facility: &Facility, year: i64) -> f64 {
        if !self.applies(year) || !self.matches(facility) {
            return 0.0;
        }
        self.per_tonne.at(year) + self.share_of_cost.at(year) * facility.unit_cost(year)
    }
}

/// What a stockpile holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StockProduct {
    /// One element's oxide (index into `Plan::elements`).
    Oxide(usize),
    Magnet,
}

/// `[[stockpile]]`: stock carried from year to year.
#[derive(Clone, Debug)]
pub struct Stockpile {
    pub id: String,
    pub name: String,
    pub country: String,
    pub product: StockProduct,
    pub capacity: YearValue,
    pub initial: f64,
    /// Stages at which the initial stock was handled outside the concern countries.
    pub initial_clean: StageSet,
    pub min_level: YearValue,
    pub holding_cost: YearValue,
}

#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub description: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Plan {
    pub name: String,
    pub first_year: i64,
    pub last_year: i64,
    pub objective: Objective,
    pub currency: String,
    pub discount_rate: f64,
    pub concern: Vec<String>,
    pub elements: Vec<Element>,
    pub concentrate_price: f64,
    pub magnet_price: f64,
    pub mines: Vec<Mine>,
    pub refineries: Vec<Refinery>,
    pub plants: Vec<MagnetPlant>,
    pub markets: Vec<Market>,
    pub transport: Transport,
    pub tariffs: Vec<Tariff>,
    pub embargoes: Vec<Embargo>,
    pub share_rules: Vec<ShareRule>,
    pub resilience: Resilience,
    pub disruptions: Vec<Disruption>,
    pub contracts: Vec<Contract>,
    pub subsidies: Vec<Subsidy>,
    pub stockpiles: Vec<Stockpile>,
    /// The scenario applied to the base plan, if any.
    pub scenario: Option<Scenario>,
}

impl Plan {
    pub fn years(&self) -> impl Iterator<Item = i64> + Clone {
        self.first_year..=self.last_year
    }

    pub fn num_years(&self) -> usize {
        (self.last_year - self.first_year + 1) as usize
    }

    /// Discount weight `w_y = (1 + r)^-(y - first_year)`.
    pub fn weight(&self, year: i64) -> f64 {
        (1.0 + self.discount_rate).powf(-((year - self.first_year) as f64))
    }

    pub fn is_concern(&self, country: &str) -> bool {
        self.concern.iter().any(|c| c == country)
    }

    /// Reference value per t of a product, for ad-valorem tariffs.
    pub fn reference_value(&self, product: Product, element: Option<usize>) -> f64 {
        match product {
            Product::Concentrate => self.concentrate_price,
            Product::Magnet => self.magnet_price,
            Product::Oxide => element.map_or(0.0, |e| self.elements[e].price),
        }
    }

    /// `τ(prod, e, a, b, y)`: the sum of every matching tariff, 0 within a country.
    pub fn tariff(
        &self,
        product: Product,
        element: Option<usize>,
        from: &str,
        to: &str,
        year: i64,
    ) -> f64 {
        if from == to {
            return 0.0;
        }
        let value = self.reference_value(product, element);
        self.tariffs
            .iter()
            .filter(|t| {
                t.product == product
                    && (t.element.is_none() || t.element == element)
                    && t.from.matches(from)
                    && t.to.matches(to)
                    && t.years.is_none_or(|r| r.contains(year))
            })
            .map(|t| t.ad_valorem * value + t.per_tonne)
            .sum()
    }

    /// Whether a cross-border shipment is banned by some embargo.
    pub fn embargoed(
        &self,
        product: Product,
        element: Option<usize>,
        from: &str,
        to: &str,
        year: i64,
    ) -> bool {
        from != to
            && self.embargoes.iter().any(|b| {
                b.product.is_none_or(|p| p == product)
                    && (b.element.is_none() || b.element == element)
                    && b.from.matches(from)
                    && b.to.matches(to)
                    && b.years.is_none_or(|r| r.contains(year))
            })
    }

    /// Whether share rule `rule` applies in `year`.
    pub fn rule_applies(&self, rule: &ShareRule, year: i64) -> bool {
        rule.years.is_none_or(|r| r.contains(year))
    }

    /// Every mine, refinery and magnet plant, in that order.
    pub fn facilities(&self) -> impl Iterator<Item = &Facility> {
        self.mines
            .iter()
            .map(|m| &m.facility)
            .chain(self.refineries.iter().map(|r| &r.facility))
            .chain(self.plants.iter().map(|p| &p.facility))
    }

    /// The country of a facility or market, by id.
    pub fn country_of(&self, id: &str) -> Option<&str> {
        self.facilities()
            .find(|f| f.id == id)
            .map(|f| f.country.as_str())
            .or_else(|| {
                self.markets
                    .iter()
                    .find(|k| k.id == id)
                    .map(|k| k.country.as_str())
            })
            .or_else(|| {
                self.stockpiles
                    .iter()
                    .find(|s| s.id == id)
                    .map(|s| s.country.as_str())
            })
    }

    /// Whether `id` names a market (flows to stockpiles are not deliveries).
    pub fn is_market(&self, id: &str) -> bool {
        self.markets.iter().any(|k| k.id == id)
    }

    /// Whether `id` names a stockpile.
    pub fn is_stockpile(&self, id: &str) -> bool {
        self.stockpiles.iter().any(|s| s.id == id)
    }

    /// `σ_f(y)`: the subsidy per unit of throughput of a facility of `stage`.
    pub fn subsidy_per_unit(&self, stage: Stage, facility: &Facility, year: i64) -> f64 {
        self.subsidies
            .iter()
            .filter(|s| s.stage == stage)
            .map(|s| s.per_unit(facility, year))
            .sum()
    }

    /// Whether any facility may be built (the years are then linked).
    pub fn has_builds(&self) -> bool {
        self.facilities().any(|f| f.expand.is_some())
    }

    /// Whether any build is lumpy (the plan is a MIP).
    pub fn has_integer_builds(&self) -> bool {
        self.facilities()
            .any(|f| f.expand.as_ref().is_some_and(|x| x.min_build > 0.0))
    }

    /// Whether `facility` of the horizon may have capacity in `year`.
    pub fn may_operate(&self, facility: &Facility, year: i64) -> bool {
        facility.may_operate(self.first_year, self.last_year, year)
    }

    pub fn element_index(&self, name: &str) -> Option<usize> {
        self.elements.iter().position(|e| e.name == name)
    }
}

/// A loaded plan file: the base plan and the names of its scenarios, all
/// validated.
pub struct PlanSource {
    file: Arc<SourceFile>,
    root: tree::Node,
    pub scenarios: Vec<Scenario>,
    /// Things that are valid but almost certainly not what was meant (a
    /// tariff from a country to itself, which is never charged).
    pub warnings: Vec<crate::error::Diagnostic>,
}

impl PlanSource {
    /// Read, parse and validate a plan file and every scenario in it.
    pub fn load(path: &Path) -> Result<PlanSource> {
        let text = crate::fsio::read_input(path).map_err(|message| {
            Error::Plan(vec![crate::error::Diagnostic {
                span: None,
                message,
            }])
        })?;
        PlanSource::from_text(path, text)
    }

    pub fn from_text(path: &Path, text: String) -> Result<PlanSource> {
        let file = SourceFile::new(path, text);
        let mut root = tree::parse(&file).map_err(Error::Plan)?;
        let plan_dir = path.parent().unwrap_or(Path::new("."));
        data::expand(&mut root, plan_dir).map_err(Error::Plan)?;
        let (base, scenario_nodes) = scenario::split(&root).map_err(Error::Plan)?;
        let default_name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "plan".into());
        read::read_plan(&base, &default_name, None).map_err(Error::Plan)?;
        let mut diags = Vec::new();
        let mut scenarios = Vec::new();
        for sc in &scenario_nodes {
            match scenario::apply(&base, sc) {
                Ok(patched) => {
                    if let Err(mut d) =
                        read::read_plan(&patched, &default_name, Some(sc.info.clone()))
                    {
                        for diag in &mut d {
                            diag.message =
                                format!("scenario \"{}\": {}", sc.info.name, diag.message);
                        }
                        diags.extend(d);
                    }
                }
                Err(d) => diags.extend(d),
            }
            scenarios.push(sc.info.clone());
        }
        if !diags.is_empty() {
            return Err(Error::Plan(diags));
        }
        let warnings = read::warnings(&base);
        Ok(PlanSource {
            file,
            root,
            scenarios,
            warnings,
        })
    }

    pub fn path(&self) -> &Path {
        &self.file.path
    }

    /// The plan file's text as read.
    pub fn text(&self) -> &str {
        &self.file.text
    }

    /// The base plan (`None`) or a named scenario of it.
    pub fn plan(&self, scenario_name: Option<&str>) -> Result<Plan> {
        self.plan_with(scenario_name, &[])
    }

    /// A scenario (or the base plan) with `--set` overrides applied on top.
    pub fn plan_with(&self, scenario_name: Option<&str>, overrides: &[Override]) -> Result<Plan> {
        let default_name = self
            .file
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "plan".into());
        let (base, scenario_nodes) = scenario::split(&self.root).map_err(Error::Plan)?;
        let (mut tree, info) = match scenario_name {
            None => (base, None),
            Some(name) => {
                let sc = scenario_nodes
                    .iter()
                    .find(|s| s.info.name == name)
                    .ok_or_else(|| {
                        let known: Vec<&str> = scenario_nodes
                            .iter()
                            .map(|s| s.info.name.as_str())
                            .collect();
                        Error::Usage(if known.is_empty() {
                            format!(
                                "{}: no scenario named \"{name}\" (the plan has no scenarios)",
                                self.file.path.display()
                            )
                        } else {
                            format!(
                                "{}: no scenario named \"{name}\" (known: {})",
                                self.file.path.display(),
                                known.join(", ")
                            )
                        })
                    })?;
                (
                    scenario::apply(&base, sc).map_err(Error::Plan)?,
                    Some(sc.info.clone()),
                )
            }
        };
        for o in overrides {
            overrides::apply(&mut tree, o)?;
        }
        read::read_plan(&tree, &default_name, info).map_err(Error::Plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(extra: &str) -> Plan {
        let text = format!(
            r#"
[plan]
first_year = 2025
last_year = 2030
[elements.NdPr]
price = 60000
[elements.Dy]
price = 300000
[prices]
concentrate = 1000
magnet = 50000
{extra}
"#
        );
        let src =
            PlanSource::from_text(Path::new("t.toml"), text).unwrap_or_else(|e| panic!("{e}"));
        src.plan(None).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn year_table_interpolates_linearly_and_is_flat_outside() {
        let v = YearValue::Table(vec![(2025, 100.0), (2030, 400.0)]);
        assert_eq!(v.at(2020), 100.0);
        assert_eq!(v.at(2025), 100.0);
        // 100 + 3/5 × 300 = 280
        assert_eq!(v.at(2028), 280.0);
        assert_eq!(v.at(2030), 400.0);
        assert_eq!(v.at(2040), 400.0);
        // A step: two keys in consecutive years.
        let step = YearValue::Table(vec![(2027, 1000.0), (2028, 5000.0)]);
        assert_eq!(step.at(2027), 1000.0);
        assert_eq!(step.at(2028), 5000.0);
        // Extreme keys do not overflow.
        let wide = YearValue::Table(vec![(i64::MIN, 0.0), (i64::MAX, 1.0)]);
        assert!((wide.at(0) - 0.5).abs() < 1e-9);
    }

    #[test]
    fn effective_capacity_applies_ramp_online_and_closes() {
        let plan = load(
            r#"
[[mine]]
id = "m"
country = "AU"
capacity = { 2025 = 1000, 2030 = 2000 }
online = 2026
ramp = [0.25, 0.5]
closes = 2030
grade = { NdPr = 0.2 }
"#,
        );
        let f = &plan.mines[0].facility;
        assert_eq!(f.effective_capacity(2025), 0.0); // before online
        assert_eq!(f.effective_capacity(2026), 1200.0 * 0.25); // capacity(2026) = 1200
        assert_eq!(f.effective_capacity(2027), 1400.0 * 0.5);
        assert_eq!(f.effective_capacity(2028), 1600.0);
        assert_eq!(f.effective_capacity(2029), 1800.0);
        assert_eq!(f.effective_capacity(2030), 0.0); // closed
    }

    #[test]
    fn transport_lane_overrides_domestic_and_cross_border() {
        let plan = load(
            r#"
[transport]
domestic = { magnet = 10 }
cross_border = { oxide = 50, magnet = 100 }
[[transport.lane]]
from = "CN"
to = "US"
magnet = 300
[[transport.lane]]
from = "CN"
to = "US"
oxide = 70
[[transport.lane]]
from = "US"
to = "US"
magnet = 5
"#,
        );
        let t = &plan.transport;
        assert_eq!(t.cost(Product::Magnet, "CN", "US"), 300.0);
        assert_eq!(t.cost(Product::Oxide, "CN", "US"), 70.0); // merged lane entry
        assert_eq!(t.cost(Product::Concentrate, "CN", "US"), 0.0); // lane silent → cross_border default 0
        assert_eq!(t.cost(Product::Magnet, "US", "CN"), 100.0); // lanes are directed
        assert_eq!(t.cost(Product::Magnet, "US", "US"), 5.0); // a lane from == to overrides domestic
        assert_eq!(t.cost(Product::Magnet, "JP", "JP"), 10.0);
    }

    #[test]
    fn tariffs_stack_match_wildcards_and_years_and_never_apply_domestically() {
        let plan = load(
            r#"
[[tariff]]
id = "s301"
product = "magnet"
from = "CN"
to = "US"
ad_valorem = 0.25
years = [2026, 2040]
[[tariff]]
id = "mfn"
product = "magnet"
from = "*"
to = "US"
ad_valorem = 0.021
per_tonne = 10
[[tariff]]
id = "dy"
product = "oxide"
element = "Dy"
from = "CN"
to = "*"
per_tonne = 1000
[[tariff]]
id = "ox"
product = "oxide"
from = "*"
to = "*"
ad_valorem = 0.1
"#,
        );
        let dy = plan.element_index("Dy");
        let nd = plan.element_index("NdPr");
        // 2025: only MFN: 0.021 × 50,000 + 10 = 1,060
        assert!((plan.tariff(Product::Magnet, None, "CN", "US", 2025) - 1060.0).abs() < 1e-9);
        // 2026: + 25 % × 50,000 = 12,500 → 13,560
        assert!((plan.tariff(Product::Magnet, None, "CN", "US", 2026) - 13560.0).abs() < 1e-9);
        assert!((plan.tariff(Product::Magnet, None, "JP", "US", 2026) - 1060.0).abs() < 1e-9);
        assert_eq!(plan.tariff(Product::Magnet, None, "US", "US", 2026), 0.0);
        // Dy oxide from CN: 1,000 + 10 % × 300,000 = 31,000; NdPr: 10 % × 60,000 = 6,000
        assert!((plan.tariff(Product::Oxide, dy, "CN", "JP", 2027) - 31000.0).abs() < 1e-9);
        assert!((plan.tariff(Product::Oxide, nd, "CN", "JP", 2027) - 6000.0).abs() < 1e-9);
        assert_eq!(plan.tariff(Product::Oxide, dy, "CN", "CN", 2027), 0.0);
        assert_eq!(
            plan.tariff(Product::Concentrate, None, "CN", "US", 2027),
            0.0
        );
    }

    #[test]
    fn embargoes_match_product_element_wildcards_and_years() {
        let plan = load(
            r#"
[[embargo]]
id = "dy-ban"
product = "*"
element = "Dy"
from = "CN"
to = "*"
years = [2027, 2028]
[[embargo]]
id = "magnets"
product = "magnet"
from = "CN"
to = "US"
"#,
        );
        let dy = plan.element_index("Dy");
        let nd = plan.element_index("NdPr");
        assert!(!plan.embargoed(Product::Oxide, dy, "CN", "US", 2026));
        assert!(plan.embargoed(Product::Oxide, dy, "CN", "US", 2027));
        assert!(!plan.embargoed(Product::Oxide, nd, "CN", "US", 2027));
        // "*" with an element matches only that element's oxide.
        assert!(!plan.embargoed(Product::Magnet, None, "CN", "JP", 2027));
        assert!(!plan.embargoed(Product::Concentrate, None, "CN", "JP", 2027));
        assert!(plan.embargoed(Product::Magnet, None, "CN", "US", 2025));
        assert!(!plan.embargoed(Product::Magnet, None, "CN", "CN", 2025));
    }

    #[test]
    fn discount_weight() {
        let mut plan = load("");
        plan.discount_rate = 0.1;
        assert_eq!(plan.weight(2025), 1.0);
        assert!((plan.weight(2027) - 1.0 / 1.21).abs() < 1e-12);
    }

    #[test]
    fn scenario_patches_apply_in_order() {
        let text = r#"
[plan]
first_year = 2026
last_year = 2026
[elements.NdPr]
price = 1
[transport]
cross_border = { oxide = 5, magnet = 7 }
[[mine]]
id = "a"
country = "AU"
capacity = 10
grade = { NdPr = 0.2 }
[[mine]]
id = "b"
country = "AU"
capacity = { 2026 = 30 }
grade = { NdPr = 0.1 }

[scenario.s]
description = "patched"
remove = ["a"]
[scenario.s.transport]
cross_border = { oxide = 9 }
[[scenario.s.mine]]
id = "b"
capacity = 99
[[scenario.s.mine]]
id = "c"
country = "US"
capacity = 1
grade = { NdPr = 0.5 }
"#;
        let src = PlanSource::from_text(Path::new("t.toml"), text.to_string())
            .unwrap_or_else(|e| panic!("{e}"));
        let base = src.plan(None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(base.mines.len(), 2);
        let s = src.plan(Some("s")).unwrap_or_else(|e| panic!("{e}"));
        let ids: Vec<&str> = s.mines.iter().map(|m| m.facility.id.as_str()).collect();
        assert_eq!(ids, ["b", "c"]);
        assert_eq!(s.mines[0].facility.capacity, YearValue::Constant(99.0));
        assert_eq!(s.mines[0].grade, vec![0.1]); // keys not given are kept
        assert_eq!(s.transport.cross_border[Product::Oxide.index()], 9.0);
        assert_eq!(s.transport.cross_border[Product::Magnet.index()], 7.0); // recursive merge
        assert_eq!(src.scenarios[0].description.as_deref(), Some("patched"));
    }
}
