//! Reading the optional sections of "Investment, contracts and subsidies" and
//! "Stockpiles" (PLAN_FORMAT.md): `expand`, `[[contract]]`, `[[subsidy]]`,
//! `[[stockpile]]`, with the cross-field checks the spec settles.

use std::collections::HashMap;

use super::{closest_id, entry_name, unique_id, Fields, Horizon, Reader};
use crate::error::Span;
use crate::plan::schema;
use crate::plan::tree::{Node, Table, Value};
use crate::plan::{
    Contract, Element, Expand, Facility, Market, Seller, Stage, StageSet, StockProduct, Stockpile,
    Subsidy, YearValue,
};

/// The facilities and markets a contract or subsidy may name.
pub(super) struct Parties<'a> {
    pub mines: &'a [&'a Facility],
    pub refineries: &'a [&'a Facility],
    pub plants: &'a [&'a Facility],
    pub markets: &'a [Market],
    pub stockpiles: &'a [String],
    pub first_year: i64,
    pub last_year: i64,
}

impl Parties<'_> {
    fn kind_of(&self, id: &str) -> Option<&'static str> {
        if self.mines.iter().any(|f| f.id == id) {
            Some("mine")
        } else if self.refineries.iter().any(|f| f.id == id) {
            Some("refinery")
        } else if self.plants.iter().any(|f| f.id == id) {
            Some("magnet plant")
        } else if self.markets.iter().any(|k| k.id == id) {
            Some("market")
        } else if self.stockpiles.iter().any(|s| s == id) {
            Some("stockpile")
        } else {
            None
        }
    }

    fn all_ids(&self) -> impl Iterator<Item = &str> {
        self.mines
            .iter()
            .chain(self.refineries)
            .chain(self.plants)
            .map(|f| f.id.as_str())
            .chain(self.markets.iter().map(|k| k.id.as_str()))
    }
}

impl Reader {
    fn boolean(&mut self, node: &Node, what: &str) -> Option<bool> {
        match &node.value {
            Value::Bool(b) => Some(*b),
            _ => {
                self.error(
                    &node.span,
                    format!("{what}: expected true or false, found {}", node.found()),
                );
                None
            }
        }
    }

    fn opt_year_value(&mut self, f: &Fields, key: &str) -> Option<Option<YearValue>> {
        match f.get(key) {
            None => Some(None),
            Some(n) => self.year_value(n, &f.field(key), f.bounds(key)).map(Some),
        }
    }

    /// Stage names as a set; `allowed` are the stages that may appear.
    fn stage_set(&mut self, node: &Node, what: &str, allowed: &[Stage]) -> Option<StageSet> {
        let list = self.string_list(node, what)?;
        let mut set: StageSet = 0;
        let mut ok = true;
        for (s, span) in list {
            match Stage::from_name(&s).filter(|st| allowed.contains(st)) {
                Some(stage) => set |= stage.bit(),
                None => {
                    let names: Vec<String> = allowed
                        .iter()
                        .map(|s| format!("\"{}\"", s.name()))
                        .collect();
                    let hint = Stage::meant(&s)
                        .filter(|st| allowed.contains(st))
                        .map_or(String::new(), |st| {
                            format!(" (did you mean \"{}\"?)", st.name())
                        });
                    self.error(
                        &span,
                        format!("{what} = {s:?}: expected one of {}{hint}", names.join(", ")),
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(set)
    }
}

/// `expand` of a facility (`None` when absent).
pub(super) fn read_expand(r: &mut Reader, f: &Fields, horizon: &Horizon) -> Option<Option<Expand>> {
    let Some(node) = f.get("expand") else {
        return Some(None);
    };
    let what = f.field("expand");
    let ef = r.table(node, &what, "expand")?;
    let capex = r
        .required(&ef, "capex")
        .and_then(|n| r.number(n, &ef.field("capex"), ef.bounds("capex")));
    let max = r
        .required(&ef, "max")
        .and_then(|n| r.number(n, &ef.field("max"), ef.bounds("max")));
    let earliest = match ef.get("earliest") {
        Some(n) => r.integer(n, &ef.field("earliest")),
        None => Some(horizon.first),
    };
    let lifetime = match ef.get("lifetime") {
        Some(n) => r.integer_at_least(&ef, "lifetime", n),
        None => Some(schema::default_of(schema::EXPAND, "lifetime") as i64),
    };
    let fixed_cost = r.opt_number(&ef, "fixed_cost");
    let min_build = r.opt_number(&ef, "min_build");
    if let (Some(mb), Some(mx), Some(n)) = (min_build, max, ef.get("min_build")) {
        if mb > mx {
            r.error(
                &n.span,
                format!(
                    "{} = {mb}: must be at most max ({mx})",
                    ef.field("min_build")
                ),
            );
            return None;
        }
    }
    Some(Some(Expand {
        capex: capex?,
        max: max?,
        earliest: earliest?,
        lifetime: lifetime?,
        fixed_cost: fixed_cost?,
        min_build: min_build?,
    }))
}

/// `[[contract]]` entries.
pub(super) fn read_contracts(
    r: &mut Reader,
    root: &Table,
    parties: &Parties,
    elements: &[Element],
) -> Vec<Contract> {
    let mut out = Vec::new();
    let mut seen: HashMap<String, Span> = HashMap::new();
    for (i, node) in r.entries(root, "contract").into_iter().enumerate() {
        let what = entry_name("contract", node, i);
        let Some(f) = r.table(node, &what, "contract") else {
            continue;
        };
        let id = unique_id(r, &f, &mut seen, "contract");
        let seller = r.required(&f, "from").and_then(|n| {
            let s = r.string(n, &f.field("from"))?;
            let found = if let Some(i) = parties.mines.iter().position(|m| m.id == s) {
                Some(Seller::Mine(i))
            } else if let Some(i) = parties.refineries.iter().position(|m| m.id == s) {
                Some(Seller::Refinery(i))
            } else {
                parties
                    .plants
                    .iter()
                    .position(|m| m.id == s)
                    .map(Seller::Plant)
            };
            if found.is_none() {
                let why = match parties.kind_of(&s) {
                    Some(kind) => format!(" (it is a {kind}; a contract's seller is a mine, a refinery or a magnet plant)"),
                    None => closest_id(&s, parties.all_ids()),
                };
                r.error(
                    &n.span,
                    format!(
                        "{} = {s:?}: no mine, refinery or magnet plant has this id{why}",
                        f.field("from")
                    ),
                );
            }
            found
        });
        let buyers = r.required(&f, "to").and_then(|n| {
            let list = r.string_list(n, &f.field("to"))?;
            if list.is_empty() {
                r.error(
                    &n.span,
                    format!("{}: must name at least one buyer", f.field("to")),
                );
                return None;
            }
            let seller = seller?;
            let (kind, pool): (&str, Vec<&str>) = match seller {
                Seller::Mine(_) => (
                    "refinery",
                    parties.refineries.iter().map(|x| x.id.as_str()).collect(),
                ),
                Seller::Refinery(_) => (
                    "magnet plant",
                    parties.plants.iter().map(|x| x.id.as_str()).collect(),
                ),
                Seller::Plant(_) => (
                    "market",
                    parties.markets.iter().map(|x| x.id.as_str()).collect(),
                ),
            };
            let seller_kind = match seller {
                Seller::Mine(_) => "a mine",
                Seller::Refinery(_) => "a refinery",
                Seller::Plant(_) => "a magnet plant",
            };
            let mut idx = Vec::new();
            let mut ok = true;
            for (b, span) in list {
                match pool.iter().position(|p| *p == b) {
                    Some(k) => {
                        if !idx.contains(&k) {
                            idx.push(k);
                        }
                    }
                    None => {
                        let why = match parties.kind_of(&b) {
                            Some("stockpile") => {
                                " (it is a stockpile; a stockpile cannot be a contract's buyer)"
                                    .to_string()
                            }
                            Some(other) => {
                                format!(" (it is a {other}; {seller_kind} sells to a {kind})")
                            }
                            None => closest_id(&b, pool.iter().copied()),
                        };
                        r.error(
                            &span,
                            format!("{} = {b:?}: no {kind} has this id{why}", f.field("to")),
                        );
                        ok = false;
                    }
                }
            }
            ok.then_some(idx)
        });
        let element = match f.get("element") {
            None => Some(None),
            Some(n) => match seller {
                Some(Seller::Refinery(_)) => {
                    r.element_ref(n, &f.field("element"), elements).map(Some)
                }
                Some(_) => {
                    r.error(
                        &n.span,
                        format!(
                            "{}: allowed only when from is a refinery (a contract for oxide)",
                            f.field("element")
                        ),
                    );
                    None
                }
                None => None,
            },
        };
        let min = r.opt_year_value(&f, "min");
        let max = r.opt_year_value(&f, "max");
        let exclusive = match f.get("exclusive") {
            Some(n) => r.boolean(n, &f.field("exclusive")),
            None => Some(false),
        };
        let penalty = match f.get("penalty") {
            None => Some(None),
            Some(n) => r
                .number(n, &f.field("penalty"), f.bounds("penalty"))
                .and_then(|p| {
                    if f.get("min").is_none() {
                        r.error(
                            &n.span,
                            format!(
                                "{} = {p}: a penalty needs min (it is the cost per t short of min)",
                                f.field("penalty")
                            ),
                        );
                        None
                    } else {
                        Some(Some(p))
                    }
                }),
        };
        let (years, years_ok) = r.opt_years(&f);
        if let (Some(None), Some(None), Some(false)) = (&min, &max, exclusive) {
            r.error(
                f.span,
                format!(
                    "{}: a contract needs at least one of min, max or exclusive = true",
                    f.what
                ),
            );
            continue;
        }
        if let (Some(Some(lo)), Some(Some(hi))) = (&min, &max) {
            let first_bad = (parties.first_year..=parties.last_year)
                .find(|&y| years.is_none_or(|r| r.contains(y)) && lo.at(y) > hi.at(y) + 1e-9);
            if let Some(y) = first_bad {
                let span = f.get("min").map_or(f.span, |n| &n.span);
                r.error(
                    span,
                    format!(
                        "{} = {}: must be at most max ({}) in every year the contract applies; in {y} it is not",
                        f.field("min"),
                        lo.at(y),
                        hi.at(y)
                    ),
                );
                continue;
            }
        }
        if let (
            Some(id),
            Some(seller),
            Some(buyers),
            Some(element),
            Some(min),
            Some(max),
            Some(exclusive),
            Some(penalty),
            true,
        ) = (
            id, seller, buyers, element, min, max, exclusive, penalty, years_ok,
        ) {
            out.push(Contract {
                id,
                seller,
                buyers,
                element,
                min,
                max,
                exclusive,
                penalty,
                years,
            });
        }
    }
    out
}

/// `[[subsidy]]` entries, with the check that no facility is paid more
/// than its unit cost in any year of the horizon.
pub(super) fn read_subsidies(r: &mut Reader, root: &Table, parties: &Parties) -> Vec<Subsidy> {
    let mut out: Vec<(Subsidy, Span)> = Vec::new();
    let mut seen: HashMap<String, Span> = HashMap::new();
    for (i, node) in r.entries(root, "subsidy").into_iter().enumerate() {
        let what = entry_name("subsidy", node, i);
        let Some(f) = r.table(node, &what, "subsidy") else {
            continue;
        };
        let id = unique_id(r, &f, &mut seen, "subsidy");
        let stage = r.required(&f, "stage").and_then(|n| {
            let s = r.string(n, &f.field("stage"))?;
            let st = Stage::from_name(&s);
            if st.is_none() {
                r.error(
                    &n.span,
                    format!(
                        "{} = {s:?}: expected \"mining\", \"refining\" or \"magnet\"{}",
                        f.field("stage"),
                        Stage::hint(&s)
                    ),
                );
            }
            st
        });
        let countries = match f.get("countries") {
            None => Some(None),
            Some(n) => r.country_list(n, &f.field("countries")).and_then(|c| {
                if c.is_empty() {
                    r.error(
                        &n.span,
                        format!(
                            "{}: an empty list matches nothing; leave it out to match every facility of the stage",
                            f.field("countries")
                        ),
                    );
                    None
                } else {
                    Some(Some(c))
                }
            }),
        };
        let facilities = match (f.get("facilities"), stage) {
            (None, _) => Some(None),
            (Some(_), None) => None,
            (Some(n), Some(stage)) => r.string_list(n, &f.field("facilities")).and_then(|list| {
                if list.is_empty() {
                    r.error(
                        &n.span,
                        format!(
                            "{}: an empty list matches nothing; leave it out to match every facility of the stage",
                            f.field("facilities")
                        ),
                    );
                    return None;
                }
                let (pool, kind) = match stage {
                    Stage::Mining => (parties.mines, "mine"),
                    Stage::Refining => (parties.refineries, "refinery"),
                    Stage::Magnet => (parties.plants, "magnet plant"),
                };
                let mut ids = Vec::new();
                let mut ok = true;
                for (id, span) in list {
                    if pool.iter().any(|p| p.id == id) {
                        ids.push(id);
                    } else {
                        let why = match parties.kind_of(&id) {
                            Some(other) => format!(
                                " (it is a {other}; a subsidy of stage \"{}\" pays {kind}s)",
                                stage.name()
                            ),
                            None => closest_id(&id, pool.iter().map(|p| p.id.as_str())),
                        };
                        r.error(
                            &span,
                            format!("{} = {id:?}: no {kind} has this id{why}", f.field("facilities")),
                        );
                        ok = false;
                    }
                }
                ok.then_some(Some(ids))
            }),
        };
        let per_tonne = r.opt_year_value_or_default(&f, "per_tonne");
        let share_of_cost = r.opt_year_value_or_default(&f, "share_of_cost");
        let (years, years_ok) = r.opt_years(&f);
        if let (
            Some(id),
            Some(stage),
            Some(countries),
            Some(facilities),
            Some(per_tonne),
            Some(share_of_cost),
            true,
        ) = (
            id,
            stage,
            countries,
            facilities,
            per_tonne,
            share_of_cost,
            years_ok,
        ) {
            out.push((
                Subsidy {
                    id,
                    stage,
                    countries,
                    facilities,
                    per_tonne,
                    share_of_cost,
                    years,
                },
                f.span.clone(),
            ));
        }
    }
    // No facility may be paid more than its cost, in any year of the horizon.
    let stages = [
        (Stage::Mining, parties.mines, "mine"),
        (Stage::Refining, parties.refineries, "refinery"),
        (Stage::Magnet, parties.plants, "magnet plant"),
    ];
    if out.is_empty() {
        return Vec::new();
    }
    'facilities: for (stage, pool, kind) in stages {
        for fac in pool {
            for y in parties.first_year..=parties.last_year {
                let paying: Vec<&(Subsidy, Span)> = out
                    .iter()
                    .filter(|(s, _)| s.stage == stage && s.per_unit(fac, y) > 0.0)
                    .collect();
                let total: f64 = paying.iter().map(|(s, _)| s.per_unit(fac, y)).sum();
                let cost = fac.unit_cost(y);
                if total > cost * (1.0 + 1e-9) + 1e-9 {
                    let ids: Vec<&str> = paying.iter().map(|(s, _)| s.id.as_str()).collect();
                    let span = &paying[paying.len() - 1].1;
                    r.error(
                        span,
                        format!(
                            "subsidy \"{}\": in {y} the subsidies of {kind} \"{}\" ({}) add up to {} per unit, more than its cost {}: a facility would be paid to produce",
                            paying[paying.len() - 1].0.id,
                            fac.id,
                            ids.join(", "),
                            fmt_num(total),
                            fmt_num(cost)
                        ),
                    );
                    continue 'facilities;
                }
            }
        }
    }
    out.into_iter().map(|(s, _)| s).collect()
}

fn fmt_num(v: f64) -> String {
    if v == v.round() && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// `[[stockpile]]` entries. `claim` reserves the id in the namespace of
/// facilities and markets.
pub(super) fn read_stockpiles(
    r: &mut Reader,
    root: &Table,
    elements: &[Element],
    first_year: i64,
    last_year: i64,
    claim: &mut dyn FnMut(&mut Reader, &str, &Node),
) -> Vec<Stockpile> {
    let mut out = Vec::new();
    for (i, node) in r.entries(root, "stockpile").into_iter().enumerate() {
        let what = entry_name("stockpile", node, i);
        let Some(f) = r.table(node, &what, "stockpile") else {
            continue;
        };
        let id = r.required(&f, "id").and_then(|n| r.id(n, &f.field("id")));
        if let (Some(id), Some(n)) = (&id, f.get("id")) {
            claim(r, id, n);
        }
        let name = match f.get("name") {
            Some(n) => r.string(n, &f.field("name")),
            None => id.clone(),
        };
        let country = r
            .required(&f, "country")
            .and_then(|n| r.plain_country(n, &f.field("country")));
        let product = r.required(&f, "product").and_then(|n| {
            let s = r.string(n, &f.field("product"))?;
            match s.as_str() {
                "oxide" => Some(true),
                "magnet" => Some(false),
                _ => {
                    r.error(
                        &n.span,
                        format!(
                            "{} = {s:?}: expected \"oxide\" or \"magnet\"",
                            f.field("product")
                        ),
                    );
                    None
                }
            }
        });
        let product = match (product, f.get("element")) {
            (Some(true), Some(n)) => r
                .element_ref(n, &f.field("element"), elements)
                .map(StockProduct::Oxide),
            (Some(true), None) => {
                r.error(
                    f.span,
                    format!(
                        "{}: missing required key \"element\" (an oxide stockpile holds one element's oxide)",
                        f.what
                    ),
                );
                None
            }
            (Some(false), Some(n)) => {
                r.error(
                    &n.span,
                    format!(
                        "{}: allowed only when product = \"oxide\" (a magnet stockpile holds magnets)",
                        f.field("element")
                    ),
                );
                None
            }
            (Some(false), None) => Some(StockProduct::Magnet),
            (None, _) => None,
        };
        let capacity = r
            .required(&f, "capacity")
            .and_then(|n| r.year_value(n, &f.field("capacity"), f.bounds("capacity")));
        let initial = r.opt_number(&f, "initial");
        let initial_clean = match (f.get("initial_clean"), product) {
            (None, _) => Some(0),
            (Some(_), None) => None,
            (Some(n), Some(p)) => {
                let allowed: &[Stage] = match p {
                    StockProduct::Oxide(_) => &[Stage::Mining, Stage::Refining],
                    StockProduct::Magnet => &Stage::ALL,
                };
                r.stage_set(n, &f.field("initial_clean"), allowed)
            }
        };
        let min_level = r.opt_year_value_or_default(&f, "min_level");
        let holding_cost = r.opt_year_value_or_default(&f, "holding_cost");
        if let (Some(cap), Some(init)) = (&capacity, initial) {
            let c0 = cap.at(first_year);
            if first_year <= last_year && init > c0 + 1e-9 {
                let span = f.get("initial").map_or(f.span, |n| &n.span);
                r.error(
                    span,
                    format!(
                        "{} = {}: must be at most capacity in first_year {first_year} ({})",
                        f.field("initial"),
                        fmt_num(init),
                        fmt_num(c0)
                    ),
                );
                continue;
            }
        }
        if let (Some(cap), Some(floor)) = (&capacity, &min_level) {
            if let Some(y) = (first_year..=last_year).find(|&y| floor.at(y) > cap.at(y) + 1e-9) {
                let span = f.get("min_level").map_or(f.span, |n| &n.span);
                r.error(
                    span,
                    format!(
                        "{}: {} in {y} is more than the capacity then ({}); min_level may not exceed capacity in any year",
                        f.field("min_level"),
                        fmt_num(floor.at(y)),
                        fmt_num(cap.at(y))
                    ),
                );
                continue;
            }
        }
        if let (
            Some(id),
            Some(name),
            Some(country),
            Some(product),
            Some(capacity),
            Some(initial),
            Some(initial_clean),
            Some(min_level),
            Some(holding_cost),
        ) = (
            id,
            name,
            country,
            product,
            capacity,
            initial,
            initial_clean,
            min_level,
            holding_cost,
        ) {
            out.push(Stockpile {
                id,
                name,
                country,
                product,
                capacity,
                initial,
                initial_clean,
                min_level,
                holding_cost,
            });
        }
    }
    out
}
