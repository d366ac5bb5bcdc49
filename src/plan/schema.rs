//! The plan format's fields, defined once: the loader takes each table's
//! allowed keys from here (so a key is accepted exactly when it is listed),
//! and `reeplan schema` derives a JSON Schema from the same lists, for
//! editors (Taplo / Even Better TOML) to complete and check plans.

use serde_json::{json, Map, Value};

/// What a field holds.
#[derive(Clone, Copy, Debug)]
pub enum Ty {
    Str,
    Id,
    Country,
    /// A country code or `"*"`.
    CountryOrAny,
    Integer,
    /// A number with optional bounds (`min`, `max`; `exclusive_min`).
    Number {
        min: Option<f64>,
        max: Option<f64>,
        exclusive_min: bool,
    },
    /// A number or a `{ year = number }` table, each value within bounds.
    PerYear {
        min: f64,
        max: Option<f64>,
    },
    YearRange,
    /// `{ element = number }` within bounds.
    PerElement {
        min: f64,
        max: f64,
        exclusive_min: bool,
    },
    /// A number in `(0, 1]` or such a table per element.
    Recovery,
    Ramp,
    Strings,
    Countries,
    OneOf(&'static [&'static str]),
    /// `{ concentrate, oxide, magnet } → number >= 0`.
    ProductRates,
    Bool,
    /// A nested table of these fields (`expand`).
    Table(&'static [Field]),
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

/// The default of `key` among `fields` (an optional number's value when it
/// is left out). Every optional number of the table has one (tested).
pub fn default_of(fields: &[Field], key: &str) -> f64 {
    fields
        .iter()
        .find(|f| f.name == key)
        .and_then(|f| f.default)
        .unwrap_or(0.0)
}

const NON_NEG: Ty = Ty::Number {
    min: Some(0.0),
    max: None,
    exclusive_min: false,
};
const SHARE: Ty = Ty::Number {
    min: Some(0.0),
    max: Some(1.0),
    exclusive_min: false,
};
const PER_YEAR: Ty = Ty::PerYear {
    min: 0.0,
    max: None,
};

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
        NON_NEG,
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
        Ty::Integer,
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
        Ty::Ramp,
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
        Ty::PerElement {
            min: 0.0,
            max: 1.0,
            exclusive_min: false,
        },
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
        Ty::Recovery,
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
        Ty::PerElement {
            min: 0.0,
            max: f64::INFINITY,
            exclusive_min: false,
        },
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
        NON_NEG,
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
        Ty::PerYear {
            min: 0.0,
            max: Some(1.0),
        },
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
        NON_NEG,
        false,
        "the plan may cost up to (1 + budget) × the min-cost optimum",
    )
    .or(0.1),
    f(
        "reserve_cost",
        NON_NEG,
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
        SHARE,
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
        Ty::PerYear {
            min: 0.0,
            max: Some(1.0),
        },
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

/// Top-level tables and arrays of tables, in the order they are documented.
pub const TOP: &[(&str, &str)] = &[
    ("plan", "table"),
    ("elements", "map"),
    ("prices", "table"),
    ("data", "data"),
    ("mine", "array"),
    ("refinery", "array"),
    ("magnet_plant", "array"),
    ("market", "array"),
    ("transport", "table"),
    ("tariff", "array"),
    ("embargo", "array"),
    ("share_rule", "array"),
    ("resilience", "table"),
    ("disruption", "array"),
    ("contract", "array"),
    ("subsidy", "array"),
    ("stockpile", "array"),
    ("scenario", "scenarios"),
];

fn number(min: Option<f64>, max: Option<f64>, exclusive_min: bool) -> Value {
    let mut m = Map::new();
    m.insert("type".into(), json!("number"));
    if let Some(min) = min {
        let key = if exclusive_min {
            "exclusiveMinimum"
        } else {
            "minimum"
        };
        m.insert(key.into(), json!(min));
    }
    if let Some(max) = max.filter(|x| x.is_finite()) {
        m.insert("maximum".into(), json!(max));
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
        Ty::Number {
            min,
            max,
            exclusive_min,
        } => number(min, max, exclusive_min),
        Ty::PerYear { min, max } => {
            let n = number(Some(min), max, false);
            json!({ "oneOf": [n.clone(), year_table(n)] })
        }
        Ty::YearRange => json!({
            "type": "array", "items": { "type": "integer" }, "minItems": 2, "maxItems": 2,
        }),
        Ty::PerElement {
            min,
            max,
            exclusive_min,
        } => json!({
            "type": "object",
            "additionalProperties": number(Some(min), Some(max), exclusive_min),
        }),
        Ty::Recovery => {
            let n = number(Some(0.0), Some(1.0), true);
            json!({ "oneOf": [n.clone(), { "type": "object", "additionalProperties": n }] })
        }
        Ty::Ramp => json!({ "type": "array", "items": number(Some(0.0), Some(1.0), false) }),
        Ty::Strings => json!({ "type": "array", "items": { "type": "string" } }),
        Ty::Countries => json!({ "type": "array", "items": ty_schema(Ty::Country) }),
        Ty::OneOf(values) => json!({ "enum": values }),
        Ty::ProductRates => table_schema(&[
            f("concentrate", NON_NEG, false, "cost per t of concentrate"),
            f("oxide", NON_NEG, false, "cost per t of oxide"),
            f("magnet", NON_NEG, false, "cost per t of magnet"),
        ]),
        Ty::Bool => json!({ "type": "boolean" }),
        Ty::Table(fields) => table_schema(fields),
    }
}

/// A closed table (`additionalProperties: false`) of the given fields.
fn table_schema(fields: &[Field]) -> Value {
    table_schema_with(fields, &[], true)
}

fn table_schema_with(fields: &[Field], extra: &[(&str, Value)], require: bool) -> Value {
    let mut props = Map::new();
    for field in fields {
        let mut s = ty_schema(field.ty);
        if let Value::Object(m) = &mut s {
            m.insert("description".into(), json!(field.doc));
            if let Some(d) = field.default {
                let d = match field.ty {
                    Ty::Integer => json!(d as i64),
                    _ => json!(d),
                };
                m.insert("default".into(), d);
            }
        }
        props.insert(field.name.into(), s);
    }
    for (k, v) in extra {
        props.insert((*k).into(), v.clone());
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

fn section_schema(name: &str, kind: &str, require: bool) -> Value {
    let lanes = || json!({ "type": "array", "items": table_schema(LANE) });
    match kind {
        "table" if name == "transport" => {
            table_schema_with(TRANSPORT, &[("lane", lanes())], require)
        }
        "table" => table_schema_with(fields(name), &[], require),
        "map" => json!({ "type": "object", "additionalProperties": table_schema(ELEMENT) }),
        "array" => {
            json!({ "type": "array", "items": table_schema_with(fields(name), &[], require) })
        }
        "data" => {
            let paths = json!({ "oneOf": [{ "type": "string" }, { "type": "array", "items": { "type": "string" } }] });
            json!({
                "type": "object",
                "description": "extension: facilities and markets from CSV files, paths relative to the plan",
                "properties": { "mines": paths, "refineries": paths, "magnet_plants": paths, "markets": paths },
                "additionalProperties": false,
            })
        }
        _ => json!({}),
    }
}

/// The JSON Schema (draft 2020-12) of plan files.
pub fn json_schema() -> Value {
    let mut props = Map::new();
    for (name, kind) in TOP {
        if *kind != "scenarios" {
            props.insert((*name).into(), section_schema(name, kind, true));
        }
    }
    // A scenario patches the plan: the same sections, nothing required.
    let mut patch = Map::new();
    for (name, kind) in TOP {
        if !matches!(*kind, "scenarios" | "data") {
            patch.insert((*name).into(), section_schema(name, kind, false));
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
