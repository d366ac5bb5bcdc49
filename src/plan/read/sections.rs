//! The sections of the plan file, one reader each; `read_all` calls them in
//! order and assembles the plan. Each reports its problems located at the
//! field they concern and returns what could be read.

use super::*;

/// What `[plan]` gives (each `None` where it was invalid, already reported).
pub(super) struct Header {
    pub name: Option<String>,
    pub first_year: Option<i64>,
    pub last_year: Option<i64>,
    pub objective: Option<Objective>,
    pub currency: Option<String>,
    pub discount_rate: Option<f64>,
    pub concern: Option<Vec<String>>,
    /// Where an objective problem is reported.
    pub objective_span: Span,
}

/// The one namespace of facility, market and stockpile ids: each id and the
/// kind and place that claimed it first.
#[derive(Default)]
pub(super) struct Ids(pub HashMap<String, (String, Span)>);

impl Ids {
    /// Claim `id` for a `kind`; a second claim is an error at `node`.
    pub fn claim(&mut self, r: &mut Reader, id: &str, kind: &str, node: &Node) {
        if let Some((other_kind, other_span)) = self.0.get(id) {
            r.error(
                &node.span,
                format!(
                    "{kind} id \"{id}\" is already used by a {other_kind} at {}; facility and market ids must be unique",
                    other_span.location()
                ),
            );
        } else {
            self.0
                .insert(id.to_string(), (kind.to_string(), node.span.clone()));
        }
    }
}

/// `[plan]`: the horizon, objective, currency, discounting and concern
/// countries. `None` when the table is missing or not a table.
pub(super) fn read_header(
    r: &mut Reader,
    root: &Node,
    root_table: &Table,
    default_name: &str,
) -> Option<Header> {
    // [plan]
    let Some(plan_node) = root_table.get("plan") else {
        r.error(
            &root.span,
            "missing the [plan] table (it needs at least first_year and last_year)",
        );
        return None;
    };
    let pf = r.table(plan_node, "[plan]", "plan")?;
    let name = match pf.get("name") {
        Some(n) => r.string(n, "[plan] name"),
        None => Some(default_name.to_string()),
    };
    let first_year = r
        .required(&pf, "first_year")
        .and_then(|n| r.integer(n, "[plan] first_year"));
    let last_year = r
        .required(&pf, "last_year")
        .and_then(|n| r.integer(n, "[plan] last_year"));
    if let (Some(a), Some(b)) = (first_year, last_year) {
        let node = pf.get("last_year").unwrap_or(plan_node);
        if b < a {
            r.error(
                &node.span,
                format!("[plan] last_year = {b}: must be >= first_year ({a})"),
            );
        } else if i128::from(b) - i128::from(a) >= i128::from(MAX_HORIZON_YEARS) {
            r.error(
                &node.span,
                format!("[plan] last_year = {b}: a horizon of more than {MAX_HORIZON_YEARS} years is not supported"),
            );
        }
    }
    let objective = match pf.get("objective") {
        Some(n) => r.string(n, "[plan] objective").and_then(|s| {
            let o = Objective::from_name(&s);
            if o.is_none() {
                r.error(
                    &n.span,
                    format!(
                        "[plan] objective = {s:?}: expected \"min-cost\" or \"max-resilience\""
                    ),
                );
            }
            o
        }),
        None => Some(Objective::MinCost),
    };
    let currency = match pf.get("currency") {
        Some(n) => r.string(n, "[plan] currency"),
        None => Some("USD".to_string()),
    };
    let discount_rate = r.opt_number(&pf, "discount_rate");
    // Declared regions first: every country code after them may use one.
    if let Some(n) = pf.get("regions") {
        read_regions(r, n);
    }
    let concern = match pf.get("concern") {
        Some(n) => r.country_list(n, "[plan] concern"),
        None => Some(vec!["CN".to_string()]),
    };
    if let Some(n) = pf.get("version") {
        if let Some(v) = r.integer(n, "[plan] version") {
            if v != 1 {
                r.error(
                    &n.span,
                    format!("[plan] version = {v}: only format version 1 is supported"),
                );
            }
        }
    }

    let objective_span = pf
        .get("objective")
        .map_or(plan_node.span.clone(), |n| n.span.clone());
    Some(Header {
        name,
        first_year,
        last_year,
        objective,
        currency,
        discount_rate,
        concern,
        objective_span,
    })
}

/// `[plan] regions`: codes of 2-8 characters of A-Z 0-9, each declared
/// once and none an ISO 3166-1 alpha-2 code (that would shadow a country).
fn read_regions(r: &mut Reader, node: &Node) {
    let Some(items) = r.string_list(node, "[plan] regions") else {
        return;
    };
    for (code, span) in items {
        let what = "[plan] regions";
        if !countries::is_region_form(&code) {
            r.error(
                &span,
                format!("{what}: {code:?} is not a region code: expected 2-8 characters of A-Z 0-9, such as \"ROW\""),
            );
        } else if countries::is_iso(&code) {
            r.error(
                &span,
                format!("{what}: {code:?} is an ISO 3166-1 country code; declare only codes that are not countries"),
            );
        } else if r.regions.contains(&code) {
            r.error(&span, format!("{what}: {code:?} is declared twice"));
        } else {
            r.regions.push(code);
        }
    }
}

/// `[elements.NAME]`: the tracked elements and their reference prices.
pub(super) fn read_elements(r: &mut Reader, root: &Node, root_table: &Table) -> Vec<Element> {
    // [elements]
    let mut elements = Vec::new();
    match root_table.get("elements") {
        None => r.error(
            &root.span,
            "missing [elements]: declare at least one element, e.g. [elements.NdPr]",
        ),
        Some(node) => {
            if let Value::Table(t) = &node.value {
                if t.entries.is_empty() {
                    r.error(
                        &node.span,
                        "[elements]: declare at least one element, e.g. [elements.NdPr]",
                    );
                }
                for (key, value) in &t.entries {
                    let what = format!("[elements.{}]", key.name);
                    if key.name.trim().is_empty() {
                        r.error(&key.span, format!("{what}: an element needs a name"));
                    }
                    // Element names head table columns and CSV fields.
                    if key.name.chars().any(crate::error::is_unsafe_char) {
                        r.error(
                            &key.span,
                            format!(
                                "[elements.{:?}]: {} in an element's name",
                                key.name,
                                crate::error::UNSAFE_CHARS
                            ),
                        );
                        continue;
                    }
                    let Some(ef) = r.table(value, &what, "elements") else {
                        continue;
                    };
                    let price = r.opt_number(&ef, "price").unwrap_or(0.0);
                    elements.push(Element {
                        name: key.name.clone(),
                        price,
                    });
                }
            } else {
                r.error(
                    &node.span,
                    format!(
                        "[elements]: expected a table, found {}",
                        node.value.type_name()
                    ),
                );
            }
        }
    }

    elements
}

/// `[prices]`: the reference values of concentrate and magnets.
pub(super) fn read_prices(r: &mut Reader, root_table: &Table) -> (f64, f64) {
    // [prices]
    let (mut concentrate_price, mut magnet_price) = (0.0, 0.0);
    if let Some(node) = root_table.get("prices") {
        if let Some(f) = r.table(node, "[prices]", "prices") {
            concentrate_price = r.opt_number(&f, "concentrate").unwrap_or(0.0);
            magnet_price = r.opt_number(&f, "magnet").unwrap_or(0.0);
        }
    }

    (concentrate_price, magnet_price)
}

/// `[[mine]]`: capacity, costs and grades.
pub(super) fn read_mines(
    r: &mut Reader,
    root_table: &Table,
    horizon: &Horizon,
    elements: &[Element],
    ids: &mut Ids,
) -> Vec<Mine> {
    let mut claim_id =
        |r: &mut Reader, id: &str, kind: &str, node: &Node| ids.claim(r, id, kind, node);
    let mut mines = Vec::new();
    for (i, node) in r.entries(root_table, "mine").into_iter().enumerate() {
        let what = entry_name("mine", node, i);
        let Some(f) = r.table(node, &what, "mine") else {
            continue;
        };
        let facility = read_facility(r, &f, horizon, &mut claim_id, "mine");
        let grade = r
            .required(&f, "grade")
            .and_then(|n| r.element_table(n, &f.field("grade"), elements, f.bounds("grade"), 0.0));
        if let (Some(g), Some(n)) = (&grade, f.get("grade")) {
            let sum: f64 = g.iter().sum();
            if sum > 1.0 + 1e-9 {
                r.error(
                    &n.span,
                    format!("{} grades sum to {sum}: must be at most 1", f.what),
                );
            }
        }
        if let (Some(facility), Some(grade)) = (facility, grade) {
            mines.push(Mine { facility, grade });
        }
    }

    mines
}

/// `[[refinery]]`: capacity, costs and recoveries.
pub(super) fn read_refineries(
    r: &mut Reader,
    root_table: &Table,
    horizon: &Horizon,
    elements: &[Element],
    ids: &mut Ids,
) -> Vec<Refinery> {
    let mut claim_id =
        |r: &mut Reader, id: &str, kind: &str, node: &Node| ids.claim(r, id, kind, node);
    let mut refineries = Vec::new();
    for (i, node) in r.entries(root_table, "refinery").into_iter().enumerate() {
        let what = entry_name("refinery", node, i);
        let Some(f) = r.table(node, &what, "refinery") else {
            continue;
        };
        let facility = read_facility(r, &f, horizon, &mut claim_id, "refinery");
        let full = schema::default_of(schema::REFINERY, "recovery");
        let recovery = match f.get("recovery") {
            None => Some(vec![full; elements.len()]),
            Some(n) if matches!(n.value, Value::Table(_)) => r.element_table(
                n,
                &f.field("recovery"),
                elements,
                f.bounds("recovery"),
                full,
            ),
            Some(n) => r
                .number(n, &f.field("recovery"), f.bounds("recovery"))
                .map(|v| vec![v; elements.len()]),
        };
        if let (Some(facility), Some(recovery)) = (facility, recovery) {
            refineries.push(Refinery { facility, recovery });
        }
    }

    refineries
}

/// `[[magnet_plant]]`: capacity, costs and recipes.
pub(super) fn read_plants(
    r: &mut Reader,
    root_table: &Table,
    horizon: &Horizon,
    elements: &[Element],
    ids: &mut Ids,
) -> Vec<MagnetPlant> {
    let mut claim_id =
        |r: &mut Reader, id: &str, kind: &str, node: &Node| ids.claim(r, id, kind, node);
    let mut plants = Vec::new();
    for (i, node) in r
        .entries(root_table, "magnet_plant")
        .into_iter()
        .enumerate()
    {
        let what = entry_name("magnet_plant", node, i);
        let Some(f) = r.table(node, &what, "magnet_plant") else {
            continue;
        };
        let facility = read_facility(r, &f, horizon, &mut claim_id, "magnet_plant");
        let recipe = r
            .required(&f, "recipe")
            .and_then(|n| {
                let bounds = f.bounds("recipe");
                let recipe = r.element_table(n, &f.field("recipe"), elements, bounds, 0.0)?;
                if recipe.iter().all(|&v| v == 0.0) && !elements.is_empty() {
                    r.error(
                        &n.span,
                        format!(
                            "{}: must give at least one element a value > 0 (a plant that needs no oxide would make magnets from nothing)",
                            f.field("recipe")
                        ),
                    );
                    return None;
                }
                Some(recipe)
            });
        if let (Some(facility), Some(recipe)) = (facility, recipe) {
            plants.push(MagnetPlant { facility, recipe });
        }
    }

    plants
}

/// `[[market]]`: demand and its unmet penalty; ids share the facilities'
/// namespace.
pub(super) fn read_markets(r: &mut Reader, root_table: &Table, ids: &mut Ids) -> Vec<Market> {
    let mut claim_id =
        |r: &mut Reader, id: &str, kind: &str, node: &Node| ids.claim(r, id, kind, node);
    let mut markets = Vec::new();
    for (i, node) in r.entries(root_table, "market").into_iter().enumerate() {
        let what = entry_name("market", node, i);
        let Some(f) = r.table(node, &what, "market") else {
            continue;
        };
        let id = r.required(&f, "id").and_then(|n| r.id(n, &f.field("id")));
        if let (Some(id), Some(n)) = (&id, f.get("id")) {
            claim_id(r, id, "market", n);
        }
        let name = match f.get("name") {
            Some(n) => r.string(n, &f.field("name")),
            None => id.clone(),
        };
        let country = r
            .required(&f, "country")
            .and_then(|n| r.plain_country(n, &f.field("country")));
        let demand = r
            .required(&f, "demand")
            .and_then(|n| r.year_value(n, &f.field("demand"), f.bounds("demand")));
        let unmet_penalty = match f.get("unmet_penalty") {
            Some(n) => r
                .number(n, &f.field("unmet_penalty"), f.bounds("unmet_penalty"))
                .map(Some),
            None => Some(None),
        };
        if let (Some(id), Some(name), Some(country), Some(demand), Some(unmet_penalty)) =
            (id, name, country, demand, unmet_penalty)
        {
            markets.push(Market {
                id,
                name,
                country,
                demand,
                unmet_penalty,
            });
        }
    }

    markets
}

/// `[[tariff]]`: ad-valorem and per-tonne duties by product, element,
/// route and years (an ad-valorem duty on a good without a price is an error).
pub(super) fn read_tariffs(
    r: &mut Reader,
    root_table: &Table,
    elements: &[Element],
    concentrate_price: f64,
    magnet_price: f64,
) -> Vec<Tariff> {
    // [[tariff]]
    let mut tariffs = Vec::new();
    let mut tariff_ids = HashMap::new();
    for (i, node) in r.entries(root_table, "tariff").into_iter().enumerate() {
        let what = entry_name("tariff", node, i);
        let Some(f) = r.table(node, &what, "tariff") else {
            continue;
        };
        let id = read_opt_id(r, &f, &mut tariff_ids);
        let product = r.required(&f, "product").and_then(|n| {
            let s = r.string(n, &f.field("product"))?;
            let p = Product::from_name(&s);
            if p.is_none() {
                r.error(
                    &n.span,
                    format!(
                        "{} = {s:?}: expected \"concentrate\", \"oxide\" or \"magnet\"",
                        f.field("product")
                    ),
                );
            }
            p
        });
        let oxide_only = product.is_some_and(|p| p != Product::Oxide);
        let element = r.trade_element(&f, elements, oxide_only, "product = \"oxide\"");
        let (from, to) = r.trade_route(&f);
        let ad_valorem = r.opt_number(&f, "ad_valorem");
        let per_tonne = r.opt_number(&f, "per_tonne");
        let (years, years_ok) = r.opt_years(&f);
        if let (Some(product), Some(element), Some(av)) = (product, element, ad_valorem) {
            if av > 0.0 {
                let span = f.get("ad_valorem").map_or(f.span, |n| &n.span);
                match (product, element) {
                    (Product::Oxide, None) => {
                        let free: Vec<&str> = elements
                            .iter()
                            .filter(|e| e.price == 0.0)
                            .map(|e| e.name.as_str())
                            .collect();
                        if !free.is_empty() {
                            r.error(
                                span,
                                format!(
                                    "{} = {av}: elements {} have price 0, so this oxide tariff would charge nothing on them; give [elements.X] price or restrict the tariff with element",
                                    f.field("ad_valorem"),
                                    free.join(", ")
                                ),
                            );
                        }
                    }
                    (Product::Oxide, Some(e)) if elements[e].price == 0.0 => r.error(
                        span,
                        format!(
                            "{} = {av}: element {} has price 0, so this tariff would charge nothing; set [elements.{}] price",
                            f.field("ad_valorem"),
                            elements[e].name,
                            elements[e].name
                        ),
                    ),
                    (Product::Concentrate, _) if concentrate_price == 0.0 => r.error(
                        span,
                        format!(
                            "{} = {av}: [prices] concentrate is 0, so this tariff would charge nothing; set [prices] concentrate",
                            f.field("ad_valorem")
                        ),
                    ),
                    (Product::Magnet, _) if magnet_price == 0.0 => r.error(
                        span,
                        format!(
                            "{} = {av}: [prices] magnet is 0, so this tariff would charge nothing; set [prices] magnet",
                            f.field("ad_valorem")
                        ),
                    ),
                    _ => {}
                }
            }
        }
        if let (
            Some(id),
            Some(product),
            Some(element),
            Some(from),
            Some(to),
            Some(ad_valorem),
            Some(per_tonne),
            true,
        ) = (
            id, product, element, from, to, ad_valorem, per_tonne, years_ok,
        ) {
            tariffs.push(Tariff {
                id,
                product,
                element,
                from,
                to,
                ad_valorem,
                per_tonne,
                years,
            });
        }
    }

    tariffs
}

/// `[[embargo]]`: routes closed by product, element and years.
pub(super) fn read_embargoes(
    r: &mut Reader,
    root_table: &Table,
    elements: &[Element],
) -> Vec<Embargo> {
    // [[embargo]]
    let mut embargoes = Vec::new();
    let mut embargo_ids = HashMap::new();
    for (i, node) in r.entries(root_table, "embargo").into_iter().enumerate() {
        let what = entry_name("embargo", node, i);
        let Some(f) = r.table(node, &what, "embargo") else {
            continue;
        };
        let id = read_opt_id(r, &f, &mut embargo_ids);
        let product = r.required(&f, "product").and_then(|n| {
            let s = r.string(n, &f.field("product"))?;
            if s == "*" {
                return Some(None);
            }
            let p = Product::from_name(&s);
            if p.is_none() {
                r.error(
                    &n.span,
                    format!(
                        "{} = {s:?}: expected \"concentrate\", \"oxide\", \"magnet\" or \"*\"",
                        f.field("product")
                    ),
                );
            }
            p.map(Some)
        });
        let not_oxide = matches!(product, Some(Some(p)) if p != Product::Oxide);
        let element = r.trade_element(&f, elements, not_oxide, "product is \"oxide\" or \"*\"");
        let (from, to) = r.trade_route(&f);
        let (years, years_ok) = r.opt_years(&f);
        if let (Some(id), Some(mut product), Some(element), Some(from), Some(to), true) =
            (id, product, element, from, to, years_ok)
        {
            // With an element, "*" matches only that element's oxide.
            if element.is_some() {
                product = Some(Product::Oxide);
            }
            embargoes.push(Embargo {
                id,
                product,
                element,
                from,
                to,
                years,
            });
        }
    }

    embargoes
}

/// `[[share_rule]]`: clean-share floors over sets of markets and stages.
pub(super) fn read_share_rules(
    r: &mut Reader,
    root_table: &Table,
    markets: &[Market],
    ids: &Ids,
) -> Vec<ShareRule> {
    let ids = &ids.0;
    // [[share_rule]]
    let mut share_rules = Vec::new();
    let mut rule_ids = HashMap::new();
    for (i, node) in r.entries(root_table, "share_rule").into_iter().enumerate() {
        let what = entry_name("share_rule", node, i);
        let Some(f) = r.table(node, &what, "share_rule") else {
            continue;
        };
        let id = unique_id(r, &f, &mut rule_ids, "share_rule");
        let rule_markets = match f.get("markets") {
            None => Some((0..markets.len()).collect()),
            Some(n) => market_list(
                r,
                n,
                &f.field("markets"),
                markets,
                "pool all markets",
                &|m| {
                    ids.get(m).map(|(kind, span)| {
                        if kind == "market" {
                            // Claimed by a market whose entry has an error.
                            format!(
                                " that could be read: the market at {} is invalid (see its error)",
                                span.location()
                            )
                        } else {
                            format!(" (it is a {kind}; a share rule pools markets)")
                        }
                    })
                },
            ),
        };
        let stages = match f.get("stages") {
            None => Some(Stage::ALL.iter().fold(0, |acc, s| acc | s.bit())),
            Some(n) => r.string_list(n, &f.field("stages")).and_then(|list| {
                if list.is_empty() {
                    r.error(
                        &n.span,
                        format!("{}: must list at least one stage", f.field("stages")),
                    );
                    return None;
                }
                let mut set: StageSet = 0;
                let mut ok = true;
                for (s, span) in list {
                    match Stage::from_name(&s) {
                        Some(stage) => set |= stage.bit(),
                        None => {
                            r.error(
                                &span,
                                format!(
                                    "{} = {s:?}: expected \"mining\", \"refining\" or \"magnet\"{}",
                                    f.field("stages"),
                                    Stage::hint(&s)
                                ),
                            );
                            ok = false;
                        }
                    }
                }
                ok.then_some(set)
            }),
        };
        let min_share = r
            .required(&f, "min_share")
            .and_then(|n| r.year_value(n, &f.field("min_share"), f.bounds("min_share")));
        let (years, years_ok) = r.opt_years(&f);
        let penalty = match f.get("penalty") {
            Some(n) => r
                .number(n, &f.field("penalty"), f.bounds("penalty"))
                .map(Some),
            None => Some(None),
        };
        if let (Some(id), Some(markets), Some(stages), Some(min_share), true, Some(penalty)) =
            (id, rule_markets, stages, min_share, years_ok, penalty)
        {
            share_rules.push(ShareRule {
                id,
                markets,
                stages,
                min_share,
                years,
                penalty,
            });
        }
    }

    share_rules
}

/// `[resilience]`: the budget and reserve cost of max-resilience.
pub(super) fn read_resilience(
    r: &mut Reader,
    root_table: &Table,
    markets: &[Market],
) -> Resilience {
    // [resilience]
    let budget = schema::default_of(schema::RESILIENCE, "budget");
    let reserve_cost = schema::default_of(schema::RESILIENCE, "reserve_cost");
    let mut resilience = Resilience {
        budget,
        reserve_cost,
        markets: None,
    };
    if let Some(node) = root_table.get("resilience") {
        if let Some(f) = r.table(node, "[resilience]", "resilience") {
            resilience.budget = r.opt_number(&f, "budget").unwrap_or(budget);
            resilience.reserve_cost = r.opt_number(&f, "reserve_cost").unwrap_or(reserve_cost);
            if let Some(n) = f.get("markets") {
                let what = f.field("markets");
                resilience.markets =
                    market_list(r, n, &what, markets, "count every market", &|_| None);
            }
        }
    }

    resilience
}

/// A non-empty list of market ids (each counted once), as market indices.
/// `leave_out` says what leaving the key out means; `hint(id)` may explain
/// an id that names something else (else the closest market id is offered).
fn market_list(
    r: &mut Reader,
    n: &Node,
    what: &str,
    markets: &[Market],
    leave_out: &str,
    hint: &dyn Fn(&str) -> Option<String>,
) -> Option<Vec<usize>> {
    let list = r.string_list(n, what)?;
    if list.is_empty() {
        r.error(
            &n.span,
            format!("{what}: must name at least one market (leave it out to {leave_out})"),
        );
        return None;
    }
    let mut out = Vec::new();
    let mut ok = true;
    for (m, span) in list {
        match markets.iter().position(|k| k.id == m) {
            Some(k) if !out.contains(&k) => out.push(k),
            Some(_) => {}
            None => {
                let hint = hint(&m)
                    .unwrap_or_else(|| closest_id(&m, markets.iter().map(|k| k.id.as_str())));
                r.error(
                    &span,
                    format!("{what} = {m:?}: no market has this id{hint}"),
                );
                ok = false;
            }
        }
    }
    ok.then_some(out)
}

/// `[[disruption]]`: what a crisis takes away, and when.
pub(super) fn read_disruptions(
    r: &mut Reader,
    root_table: &Table,
    mines: &[Mine],
    refineries: &[Refinery],
    plants: &[MagnetPlant],
    markets: &[Market],
) -> Vec<Disruption> {
    // [[disruption]]
    let facility_ids: Vec<&str> = mines
        .iter()
        .map(|m| m.facility.id.as_str())
        .chain(refineries.iter().map(|f| f.facility.id.as_str()))
        .chain(plants.iter().map(|f| f.facility.id.as_str()))
        .collect();
    let mut disruptions = Vec::new();
    let mut disruption_ids = HashMap::new();
    for (i, node) in r.entries(root_table, "disruption").into_iter().enumerate() {
        let what = entry_name("disruption", node, i);
        let Some(f) = r.table(node, &what, "disruption") else {
            continue;
        };
        let id = unique_id(r, &f, &mut disruption_ids, "disruption");
        let description = match f.get("description") {
            Some(n) => r.string(n, &f.field("description")).map(Some),
            None => Some(None),
        };
        let exports_from = match f.get("exports_from") {
            Some(n) => r.country_list(n, &f.field("exports_from")),
            None => Some(Vec::new()),
        };
        let countries = match f.get("countries") {
            Some(n) => r.country_list(n, &f.field("countries")),
            None => Some(Vec::new()),
        };
        let facilities = match f.get("facilities") {
            None => Some(Vec::new()),
            Some(n) => r.string_list(n, &f.field("facilities")).and_then(|list| {
                let mut ok = true;
                let mut out = Vec::new();
                for (id, span) in list {
                    if facility_ids.contains(&id.as_str()) {
                        out.push(id);
                    } else {
                        let hint = closest_id(&id, facility_ids.iter().copied());
                        let kind = if markets.iter().any(|k| k.id == id) {
                            " (it is a market; a disruption hits mines, refineries and magnet plants)".to_string()
                        } else {
                            hint
                        };
                        r.error(
                            &span,
                            format!("{} = {id:?}: no mine, refinery or magnet plant has this id{kind}", f.field("facilities")),
                        );
                        ok = false;
                    }
                }
                ok.then_some(out)
            }),
        };
        let capacity_factor = r.opt_number(&f, "capacity_factor");
        let (years, years_ok) = r.opt_years(&f);
        if let (
            Some(id),
            Some(description),
            Some(exports_from),
            Some(countries),
            Some(facilities),
            Some(capacity_factor),
            true,
        ) = (
            id,
            description,
            exports_from,
            countries,
            facilities,
            capacity_factor,
            years_ok,
        ) {
            disruptions.push(Disruption {
                id,
                description,
                exports_from,
                countries,
                facilities,
                capacity_factor,
                years,
            });
        }
    }

    disruptions
}
