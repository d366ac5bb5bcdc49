//! The plan format's fields, defined once: the loader takes each table's
//! allowed keys, numeric defaults and the bounds it checks numbers against
//! from here (so a key is accepted exactly when it is listed), the CSV
//! import types its cells by it, `--set` and scenarios take the sections
//! from it, and `reeplan schema` derives a JSON Schema from the same lists,
//! for editors (Taplo / Even Better TOML) to complete and check plans.

use serde_json::{json, Map, Value};

/// The range a number must lie in: the loader checks every number against
/// its field's bounds (one check, [`Bounds::problem`]), and the JSON Schema
/// states them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bounds {
    pub min: f64,
    /// `min` itself is outside the range (a recovery of 0 recovers nothing).
    pub exclusive_min: bool,
    pub max: f64,
    /// Why nothing above `max` is accepted, as messages say it right after
    /// the number: `must be at most 1000 (t oxide per t magnet)`. `None` for a
    /// range that speaks for itself (`must be between 0 and 1`).
    pub why: Option<&'static str>,
}

/// The largest amount or cost a plan may give (t, t per year, currency per
/// t): HiGHS treats numbers from 1e20 on as infinite and rejects matrix
/// values of 1e15 and more, and products of such numbers overflow its
/// tolerances long before (docs/reliability.md, decision 30).
pub const MAX_AMOUNT: f64 = 1e12;
/// The smallest nonzero grade, recovery or recipe amount (t per t, 10 ppm):
/// the product of two is then at least 1e-10, a hundred times what reeplan
/// tells HiGHS to keep (`small_matrix_value` 1e-12, its floor, in
/// `solve.rs`; HiGHS's default 1e-9 had dropped a grade × recovery of 1e-10).
pub const MIN_COEFFICIENT: f64 = 1e-5;
/// The largest multiple of a reference value: `ad_valorem`, the resilience
/// `budget` and `reserve_cost` (10,000 %).
pub const MAX_MULTIPLE: f64 = 100.0;

impl Bounds {
    /// `[0, max]`, with why `max` is the largest value.
    const fn at_most(max: f64, why: &'static str) -> Bounds {
        Bounds {
            min: 0.0,
            exclusive_min: false,
            max,
            why: Some(why),
        }
    }

    /// What is wrong with `v`, as a message says it after `FIELD = VALUE: `
    /// (`None` when `v` is within the bounds).
    pub fn problem(&self, v: f64) -> Option<String> {
        let below = v < self.min || (self.exclusive_min && v == self.min);
        let above = v > self.max;
        if !(below || above) {
            return None;
        }
        let (min, max) = (shown(self.min), shown(self.max));
        Some(match self.why {
            None if self.exclusive_min => format!("must be greater than {min} and at most {max}"),
            None => format!("must be between {min} and {max}"),
            Some(_) if below && self.exclusive_min => format!("must be > {min}"),
            Some(_) if below => format!("must be >= {min}"),
            Some(why) => format!("must be at most {max}{why}"),
        })
    }
}

/// A bound as messages write it: `1e12` rather than `1000000000000`.
fn shown(v: f64) -> String {
    if v.abs() >= 1e6 {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// An amount or a cost, `>= 0` (PLAN_FORMAT.md) and at most [`MAX_AMOUNT`].
pub const AMOUNT: Bounds = Bounds::at_most(
    MAX_AMOUNT,
    ", the largest amount or cost reeplan accepts (HiGHS cannot work with larger numbers)",
);
/// A share, in `[0, 1]`.
pub const SHARE: Bounds = Bounds {
    min: 0.0,
    exclusive_min: false,
    max: 1.0,
    why: None,
};
/// A share that must be more than nothing: at least [`MIN_COEFFICIENT`]
/// (a recovery is a coefficient of the LP's matrix), at most 1.
const POSITIVE_SHARE: Bounds = Bounds {
    min: MIN_COEFFICIENT,
    ..SHARE
};

/// What a field holds.
#[derive(Clone, Copy, Debug)]
pub enum Ty {
    Str,
    Id,
    Country,
    /// A country code or `"*"`.
    CountryOrAny,
    Integer,
    /// An integer of at least `min`; `unit` names what it counts in messages:
    /// `must be at least 1 (years)`.
    IntegerAtLeast {
        min: i64,
        unit: &'static str,
    },
    /// A number within bounds.
    Number(Bounds),
    /// A number or a `{ year = number }` table, each value within bounds.
    PerYear(Bounds),
    YearRange,
    /// `{ element = number }` within bounds.
    PerElement(Bounds),
    /// A number or such a table per element, within bounds (`recovery`).
    Recovery(Bounds),
    /// An array of numbers within bounds.
    Ramp(Bounds),
    Strings,
    Countries,
    OneOf(&'static [&'static str]),
    /// `{ concentrate, oxide, magnet }`: a table of [`PRODUCT_RATES`].
    ProductRates,
    Bool,
    /// A nested table of these fields (`expand`).
    Table(&'static [Field]),
    /// An array of tables of these fields (`[[transport.lane]]`).
    Tables(&'static [Field]),
}

impl Ty {
    /// The bounds of the numbers a field of this type holds (`None` for a
    /// type that holds no bounded numbers).
    pub fn bounds(self) -> Option<Bounds> {
        match self {
            Ty::Number(b) | Ty::PerYear(b) | Ty::PerElement(b) | Ty::Recovery(b) | Ty::Ramp(b) => {
                Some(b)
            }
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Field {
    pub name: &'static str,
    pub ty: Ty,
    pub required: bool,
    pub doc: &'static str,
    /// The value an optional number takes when it is left out (the loader,
    /// the JSON Schema and the docs' "default" column all take it from here).
    pub default: Option<f64>,
}

const fn f(name: &'static str, ty: Ty, required: bool, doc: &'static str) -> Field {
    Field {
        name,
        ty,
        required,
        doc,
        default: None,
    }
}

impl Field {
    /// The same field with a default for when it is left out.
    const fn or(self, default: f64) -> Field {
        Field {
            default: Some(default),
            ..self
        }
    }
}

/// The field `key` among `fields`.
pub fn field(fields: &[Field], key: &str) -> Option<Field> {
    fields.iter().find(|f| f.name == key).copied()
}

/// The names of `fields`, in order.
pub fn names(fields: &[Field]) -> Vec<&'static str> {
    fields.iter().map(|f| f.name).collect()
}

/// The default of `key` among `fields` (an optional number's value when it
/// is left out). Every optional number of the table has one (tested).
pub fn default_of(fields: &[Field], key: &str) -> f64 {
    field(fields, key).and_then(|f| f.default).unwrap_or(0.0)
}

const NON_NEG: Ty = Ty::Number(AMOUNT);
const PER_YEAR: Ty = Ty::PerYear(AMOUNT);
/// A multiple of a reference value, with what it is a multiple of.
const fn multiple(why: &'static str) -> Ty {
    Ty::Number(Bounds::at_most(MAX_MULTIPLE, why))
}

// Fields that tariffs, embargoes and share rules have in common.
const TRADE_FROM: Field = f("from", Ty::CountryOrAny, true, "exporting country or \"*\"");
const TRADE_TO: Field = f("to", Ty::CountryOrAny, true, "importing country or \"*\"");
const APPLIES_IN: Field = f(
    "years",
    Ty::YearRange,
    false,
    "[first, last] years it applies",
);

pub const PLAN: &[Field] = &[
    f(
        "name",
        Ty::Str,
        false,
        "title used in reports (default: the file stem)",
    ),
    f("first_year", Ty::Integer, true, "first year of the horizon"),
    f(
        "last_year",
        Ty::Integer,
        true,
        "last year of the horizon, inclusive",
    ),
    f(
        "objective",
        Ty::OneOf(&["min-cost", "max-resilience"]),
        false,
        "what to optimize (default min-cost)",
    ),
    f("currency", Ty::Str, false, "currency label (default USD)"),
    f(
        "discount_rate",
        Ty::Number(Bounds::at_most(1.0, " (a rate of 100 % a year)")),
        false,
        "costs in year y are weighted by (1 + r)^-(y - first_year)",
    )
    .or(0.0),
    f(
        "concern",
        Ty::Countries,
        false,
        "countries whose involvement share rules limit (default [\"CN\"])",
    ),
    f(
        "regions",
        Ty::Strings,
        false,
        "codes that are not ISO 3166-1 alpha-2 but this plan uses as countries (e.g. [\"ROW\"]): 2-8 characters of A-Z 0-9",
    ),
    f("version", Ty::Integer, false, "format version: 1").or(1.0),
];
pub const ELEMENT: &[Field] = &[f(
    "price",
    NON_NEG,
    false,
    "reference value per t oxide, for ad-valorem tariffs",
)
.or(0.0)];
pub const PRICES: &[Field] = &[
    f(
        "concentrate",
        NON_NEG,
        false,
        "reference value per t REO of concentrate",
    )
    .or(0.0),
    f("magnet", NON_NEG, false, "reference value per t magnet").or(0.0),
];
pub const EXPAND: &[Field] = &[
    f(
        "capex",
        NON_NEG,
        true,
        "overnight investment per t/yr of capacity added",
    ),
    f(
        "max",
        NON_NEG,
        true,
        "most capacity that may be added over the horizon, t/yr",
    ),
    f(
        "earliest",
        Ty::Integer,
        false,
        "first year added capacity can operate (default first_year)",
    ),
    f(
        "lifetime",
        Ty::IntegerAtLeast {
            min: 1,
            unit: "years",
        },
        false,
        "years added capacity exists, >= 1 (default 20); capex is annualized over them",
    )
    .or(20.0),
    f(
        "fixed_cost",
        NON_NEG,
        false,
        "cost per t/yr of added capacity for every year it exists",
    )
    .or(0.0),
    f(
        "min_build",
        NON_NEG,
        false,
        "each addition is 0 or at least this (a lumpy build: the plan becomes a MIP)",
    )
    .or(0.0),
];

const FACILITY: [Field; 9] = [
    f(
        "id",
        Ty::Id,
        true,
        "unique id (facilities and markets share one namespace)",
    ),
    f("name", Ty::Str, false, "display name"),
    f("country", Ty::Country, true, "country code, e.g. \"US\""),
    f("capacity", PER_YEAR, true, "nameplate capacity per year"),
    f(
        "cost",
        PER_YEAR,
        false,
        "operating cost per unit of capacity's measure",
    )
    .or(0.0),
    f(
        "online",
        Ty::Integer,
        false,
        "first year it operates (default first_year)",
    ),
    f(
        "ramp",
        Ty::Ramp(SHARE),
        false,
        "share of capacity in its first years: [year online, next, ...]",
    ),
    f(
        "closes",
        Ty::Integer,
        false,
        "first year it no longer operates",
    ),
    f(
        "expand",
        Ty::Table(EXPAND),
        false,
        "capacity that may be built: capex, max, earliest, lifetime, fixed_cost, min_build",
    ),
];
pub const MINE: &[Field] = &[
    FACILITY[0],
    FACILITY[1],
    FACILITY[2],
    FACILITY[3],
    FACILITY[4],
    FACILITY[5],
    FACILITY[6],
    FACILITY[7],
    FACILITY[8],
    f(
        "grade",
        Ty::PerElement(SHARE),
        true,
        "t of each element's oxide per t REO of concentrate",
    ),
];
pub const REFINERY: &[Field] = &[
    FACILITY[0],
    FACILITY[1],
    FACILITY[2],
    FACILITY[3],
    FACILITY[4],
    FACILITY[5],
    FACILITY[6],
    FACILITY[7],
    FACILITY[8],
    f(
        "recovery",
        Ty::Recovery(POSITIVE_SHARE),
        false,
        "share of each contained oxide recovered (default 1)",
    )
    .or(1.0),
];
pub const MAGNET_PLANT: &[Field] = &[
    FACILITY[0],
    FACILITY[1],
    FACILITY[2],
    FACILITY[3],
    FACILITY[4],
    FACILITY[5],
    FACILITY[6],
    FACILITY[7],
    FACILITY[8],
    f(
        "recipe",
        Ty::PerElement(Bounds::at_most(1e3, " (t oxide per t magnet)")),
        true,
        "t of each oxide per t of magnet",
    ),
];
pub const MARKET: &[Field] = &[
    f("id", Ty::Id, true, "unique id"),
    f("name", Ty::Str, false, "display name"),
    f("country", Ty::Country, true, "where magnets are delivered"),
    f("demand", PER_YEAR, true, "t magnet per year"),
    f(
        "unmet_penalty",
        NON_NEG,
        false,
        "cost per t of demand left unserved (without it, demand must be met)",
    ),
];
pub const TRANSPORT: &[Field] = &[
    f(
        "domestic",
        Ty::ProductRates,
        false,
        "cost per t shipped within a country",
    ),
    f(
        "cross_border",
        Ty::ProductRates,
        false,
        "cost per t shipped between countries",
    ),
    f(
        "lane",
        Ty::Tables(LANE),
        false,
        "rates for one directed pair of countries, overriding cross_border (or domestic)",
    ),
];
/// The rates of `domestic` and `cross_border`, per product.
pub const PRODUCT_RATES: &[Field] = &[
    f("concentrate", NON_NEG, false, "cost per t of concentrate").or(0.0),
    f("oxide", NON_NEG, false, "cost per t of oxide").or(0.0),
    f("magnet", NON_NEG, false, "cost per t of magnet").or(0.0),
];
pub const LANE: &[Field] = &[
    f("from", Ty::Country, true, "exporting country"),
    f("to", Ty::Country, true, "importing country"),
    f(
        "concentrate",
        NON_NEG,
        false,
        "cost per t of concentrate on this lane",
    ),
    f("oxide", NON_NEG, false, "cost per t of oxide on this lane"),
    f(
        "magnet",
        NON_NEG,
        false,
        "cost per t of magnet on this lane",
    ),
];
pub const TARIFF: &[Field] = &[
    f(
        "id",
        Ty::Id,
        false,
        "names it in reports, scenarios and --set",
    ),
    f(
        "product",
        Ty::OneOf(&["concentrate", "oxide", "magnet"]),
        true,
        "the product taxed",
    ),
    f(
        "element",
        Ty::Str,
        false,
        "oxide only: restrict to one element",
    ),
    TRADE_FROM,
    TRADE_TO,
    f(
        "ad_valorem",
        multiple(" (10,000 % of the reference value)"),
        false,
        "share of the product's reference value",
    )
    .or(0.0),
    f("per_tonne", NON_NEG, false, "currency per t").or(0.0),
    APPLIES_IN,
];
pub const EMBARGO: &[Field] = &[
    f("id", Ty::Id, false, "names it in reports"),
    f(
        "product",
        Ty::OneOf(&["concentrate", "oxide", "magnet", "*"]),
        true,
        "the product banned",
    ),
    f(
        "element",
        Ty::Str,
        false,
        "oxide (or *) only: restrict to one element's oxide",
    ),
    TRADE_FROM,
    TRADE_TO,
    APPLIES_IN,
];
pub const SHARE_RULE: &[Field] = &[
    f("id", Ty::Id, true, "unique id"),
    f(
        "markets",
        Ty::Strings,
        false,
        "market ids pooled (default: all)",
    ),
    f(
        "stages",
        Ty::Strings,
        false,
        "stages that must be outside the concern countries: mining, refining, magnet",
    ),
    f(
        "min_share",
        Ty::PerYear(SHARE),
        true,
        "required clean share of t delivered",
    ),
    APPLIES_IN,
    f(
        "penalty",
        NON_NEG,
        false,
        "extension: cost per t of clean magnet short (absent: a hard rule)",
    ),
];
pub const RESILIENCE: &[Field] = &[
    f(
        "budget",
        multiple(" (10,000 % of the optimum)"),
        false,
        "the plan may cost up to (1 + budget) × the min-cost optimum",
    )
    .or(0.1),
    f(
        "reserve_cost",
        multiple(" (100 times the unit cost)"),
        false,
        "cost of 1 t of spare capacity for a year, as a share of unit cost",
    )
    .or(0.0),
    f(
        "markets",
        Ty::Strings,
        false,
        "extension: the markets whose worst-case share is maximized (default every market)",
    ),
];
pub const DISRUPTION: &[Field] = &[
    f("id", Ty::Id, true, "unique id"),
    f("description", Ty::Str, false, "what happens"),
    f(
        "exports_from",
        Ty::Countries,
        false,
        "cross-border shipments leaving these countries stop",
    ),
    f(
        "countries",
        Ty::Countries,
        false,
        "every facility in these countries is hit",
    ),
    f("facilities", Ty::Strings, false, "these facilities are hit"),
    f(
        "capacity_factor",
        Ty::Number(SHARE),
        false,
        "share of capacity hit facilities keep (default 0)",
    )
    .or(0.0),
    f(
        "years",
        Ty::YearRange,
        false,
        "[first, last] years it lasts",
    ),
];

pub const CONTRACT: &[Field] = &[
    f("id", Ty::Id, true, "unique among contracts"),
    f(
        "from",
        Ty::Id,
        true,
        "the seller: a mine, a refinery or a magnet plant",
    ),
    f(
        "to",
        Ty::Strings,
        true,
        "buyers of the next stage: refineries, magnet plants or markets",
    ),
    f(
        "element",
        Ty::Str,
        false,
        "from a refinery only: count only this element's oxide",
    ),
    f(
        "min",
        PER_YEAR,
        false,
        "the buyers together take at least this much per year",
    ),
    f("max", PER_YEAR, false, "and at most this much per year"),
    f(
        "exclusive",
        Ty::Bool,
        false,
        "the seller sells what the contract counts to no one else",
    ),
    f(
        "penalty",
        NON_NEG,
        false,
        "cost per t short of min (absent: min must be met)",
    ),
    APPLIES_IN,
];
pub const SUBSIDY: &[Field] = &[
    f("id", Ty::Id, true, "unique among subsidies"),
    f(
        "stage",
        Ty::OneOf(&["mining", "refining", "magnet"]),
        true,
        "mines, refineries or magnet plants",
    ),
    f(
        "countries",
        Ty::Countries,
        false,
        "facilities of that stage in these countries",
    ),
    f(
        "facilities",
        Ty::Strings,
        false,
        "and these facilities of that stage",
    ),
    f(
        "per_tonne",
        PER_YEAR,
        false,
        "currency per unit of throughput",
    )
    .or(0.0),
    f(
        "share_of_cost",
        Ty::PerYear(SHARE),
        false,
        "share of the facility's unit cost",
    )
    .or(0.0),
    APPLIES_IN,
];
pub const STOCKPILE: &[Field] = &[
    f(
        "id",
        Ty::Id,
        true,
        "unique (shares the namespace of facilities and markets)",
    ),
    f("name", Ty::Str, false, "display name"),
    f(
        "country",
        Ty::Country,
        true,
        "where it is held; it releases only within this country",
    ),
    f(
        "product",
        Ty::OneOf(&["oxide", "magnet"]),
        true,
        "what it holds",
    ),
    f("element", Ty::Str, false, "the oxide it holds (oxide only)"),
    f(
        "capacity",
        PER_YEAR,
        true,
        "the most t it may hold at the end of a year",
    ),
    f(
        "initial",
        NON_NEG,
        false,
        "t held at the start of first_year",
    )
    .or(0.0),
    f(
        "initial_clean",
        Ty::Strings,
        false,
        "stages at which the initial stock was handled outside the concern countries",
    ),
    f(
        "min_level",
        PER_YEAR,
        false,
        "t that must be held at the end of each year",
    )
    .or(0.0),
    f(
        "holding_cost",
        PER_YEAR,
        false,
        "cost per t held at the end of a year",
    )
    .or(0.0),
];

/// The fields of a table of the plan, by section name (`mine`, `lane`, …).
pub fn fields(section: &str) -> &'static [Field] {
    match section {
        "plan" => PLAN,
        "elements" => ELEMENT,
        "prices" => PRICES,
        "mine" => MINE,
        "refinery" => REFINERY,
        "magnet_plant" => MAGNET_PLANT,
        "market" => MARKET,
        "transport" => TRANSPORT,
        "lane" => LANE,
        "tariff" => TARIFF,
        "embargo" => EMBARGO,
        "share_rule" => SHARE_RULE,
        "resilience" => RESILIENCE,
        "disruption" => DISRUPTION,
        "expand" => EXPAND,
        "contract" => CONTRACT,
        "subsidy" => SUBSIDY,
        "stockpile" => STOCKPILE,
        _ => &[],
    }
}

/// How a top-level section is written, which says how a scenario patches
/// it and how `--set` addresses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// One table (`[plan]`), merged key by key.
    Table,
    /// A table of named tables (`[elements.NAME]`), merged key by key.
    Map,
    /// CSV files (`[data]`), expanded into arrays before the plan is read.
    Data,
    /// An array of tables (`[[mine]]`) whose entries are matched by `id`.
    Array,
    /// `[scenario.NAME]`: patches of the plan.
    Scenarios,
}

/// Top-level tables and arrays of tables, in the order they are documented.
pub const TOP: &[(&str, Layout)] = &[
    ("plan", Layout::Table),
    ("elements", Layout::Map),
    ("prices", Layout::Table),
    ("data", Layout::Data),
    ("mine", Layout::Array),
    ("refinery", Layout::Array),
    ("magnet_plant", Layout::Array),
    ("market", Layout::Array),
    ("transport", Layout::Table),
    ("tariff", Layout::Array),
    ("embargo", Layout::Array),
    ("share_rule", Layout::Array),
    ("resilience", Layout::Table),
    ("disruption", Layout::Array),
    ("contract", Layout::Array),
    ("subsidy", Layout::Array),
    ("stockpile", Layout::Array),
    ("scenario", Layout::Scenarios),
];

/// The top-level sections written as `layout`, in the order of [`TOP`].
pub fn sections(layout: Layout) -> impl Iterator<Item = &'static str> {
    TOP.iter()
        .filter(move |(_, l)| *l == layout)
        .map(|(name, _)| *name)
}

/// How top-level section `name` is written (`None`: it is not one).
pub fn layout(name: &str) -> Option<Layout> {
    TOP.iter().find(|(n, _)| *n == name).map(|(_, l)| *l)
}

fn number(b: Bounds) -> Value {
    let mut m = Map::new();
    m.insert("type".into(), json!("number"));
    let key = if b.exclusive_min {
        "exclusiveMinimum"
    } else {
        "minimum"
    };
    m.insert(key.into(), json!(b.min));
    if b.max.is_finite() {
        m.insert("maximum".into(), json!(b.max));
    }
    Value::Object(m)
}

fn year_table(value: Value) -> Value {
    json!({
        "type": "object",
        "minProperties": 1,
        "patternProperties": { "^-?[0-9]+$": value },
        "additionalProperties": false,
    })
}

fn ty_schema(ty: Ty) -> Value {
    match ty {
        Ty::Str => json!({ "type": "string" }),
        Ty::Id => json!({ "type": "string", "pattern": "^[A-Za-z0-9_.-]{1,64}$" }),
        Ty::Country => json!({ "type": "string", "minLength": 1, "not": { "const": "*" } }),
        Ty::CountryOrAny => json!({ "type": "string", "minLength": 1 }),
        Ty::Integer => json!({ "type": "integer" }),
        Ty::IntegerAtLeast { min, .. } => json!({ "type": "integer", "minimum": min }),
        Ty::Number(b) => number(b),
        Ty::PerYear(b) => {
            let n = number(b);
            json!({ "oneOf": [n.clone(), year_table(n)] })
        }
        Ty::YearRange => json!({
            "type": "array", "items": { "type": "integer" }, "minItems": 2, "maxItems": 2,
        }),
        Ty::PerElement(b) => json!({
            "type": "object",
            "additionalProperties": number(b),
        }),
        Ty::Recovery(b) => {
            let n = number(b);
            json!({ "oneOf": [n.clone(), { "type": "object", "additionalProperties": n }] })
        }
        Ty::Ramp(b) => json!({ "type": "array", "items": number(b) }),
        Ty::Strings => json!({ "type": "array", "items": { "type": "string" } }),
        Ty::Countries => json!({ "type": "array", "items": ty_schema(Ty::Country) }),
        Ty::OneOf(values) => json!({ "enum": values }),
        Ty::ProductRates => table_schema(PRODUCT_RATES),
        Ty::Bool => json!({ "type": "boolean" }),
        Ty::Table(fields) => table_schema(fields),
        Ty::Tables(fields) => json!({ "type": "array", "items": table_schema(fields) }),
    }
}

/// A closed table (`additionalProperties: false`) of the given fields.
fn table_schema(fields: &[Field]) -> Value {
    table_schema_with(fields, true)
}

/// The same, with its required fields marked as such when `require`.
fn table_schema_with(fields: &[Field], require: bool) -> Value {
    let mut props = Map::new();
    for field in fields {
        let mut s = ty_schema(field.ty);
        if let Value::Object(m) = &mut s {
            m.insert("description".into(), json!(field.doc));
            if let Some(d) = field.default {
                let d = match field.ty {
                    Ty::Integer | Ty::IntegerAtLeast { .. } => json!(d as i64),
                    _ => json!(d),
                };
                m.insert("default".into(), d);
            }
        }
        props.insert(field.name.into(), s);
    }
    let required: Vec<&str> = fields
        .iter()
        .filter(|f| f.required)
        .map(|f| f.name)
        .collect();
    let mut m = Map::new();
    m.insert("type".into(), json!("object"));
    m.insert("properties".into(), Value::Object(props));
    if require && !required.is_empty() {
        m.insert("required".into(), json!(required));
    }
    m.insert("additionalProperties".into(), json!(false));
    Value::Object(m)
}

fn section_schema(name: &str, layout: Layout, require: bool) -> Value {
    match layout {
        Layout::Table => table_schema_with(fields(name), require),
        Layout::Map => {
            json!({ "type": "object", "additionalProperties": table_schema(fields(name)) })
        }
        Layout::Array => {
            json!({ "type": "array", "items": table_schema_with(fields(name), require) })
        }
        Layout::Data => {
            let paths = json!({ "oneOf": [{ "type": "string" }, { "type": "array", "items": { "type": "string" } }] });
            json!({
                "type": "object",
                "description": "extension: facilities and markets from CSV files, paths relative to the plan",
                "properties": { "mines": paths, "refineries": paths, "magnet_plants": paths, "markets": paths },
                "additionalProperties": false,
            })
        }
        Layout::Scenarios => json!({}),
    }
}

/// The JSON Schema (draft 2020-12) of plan files.
pub fn json_schema() -> Value {
    let mut props = Map::new();
    for &(name, layout) in TOP {
        if layout != Layout::Scenarios {
            props.insert(name.into(), section_schema(name, layout, true));
        }
    }
    // A scenario patches the plan: the same sections, nothing required.
    let mut patch = Map::new();
    for &(name, layout) in TOP {
        if !matches!(layout, Layout::Scenarios | Layout::Data) {
            patch.insert(name.into(), section_schema(name, layout, false));
        }
    }
    patch.insert("description".into(), json!({ "type": "string" }));
    patch.insert(
        "remove".into(),
        json!({ "type": "array", "items": { "type": "string" } }),
    );
    props.insert(
        "scenario".into(),
        json!({
            "type": "object",
            "description": "named variants of the plan: [scenario.NAME] patches",
            "additionalProperties": {
                "type": "object",
                "properties": Value::Object(patch),
                "additionalProperties": false,
            },
        }),
    );
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "reeplan plan file (format version 1)",
        "description": "Rare-earth magnet supply chain: mines → refineries → magnet plants → markets. See docs/plan-format.md.",
        "type": "object",
        "properties": Value::Object(props),
        "required": ["plan", "elements"],
        "additionalProperties": false,
    })
}
