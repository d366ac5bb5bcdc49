//! Headline metrics of one solve, the rows of `compare` and the columns of
//! `sweep`: status, cost and its parts, cost per t delivered, unmet demand,
//! each share rule's achieved share, and the share of material handled in
//! each country at each stage.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Cell;
use crate::error::Error;
use crate::outcome::Outcome;
use crate::plan::Plan;

/// How a metric is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    Money,
    Tonnes,
    Share,
    MoneyPerTonne,
}

#[derive(Clone, Debug, Serialize)]
pub struct Metric {
    /// Stable machine name: `cost.total`, `share.dfars`, `refining.CN`.
    pub key: String,
    /// Label for people, with its unit.
    pub label: String,
    /// The label without its unit, for narrow terminal tables
    /// (`mining in CN`); the unit goes in [`unit_label`](Self::unit_label).
    #[serde(skip)]
    pub short: String,
    /// The unit alone: `USD`, `t`, `% of t REO mined`.
    #[serde(skip)]
    pub unit_label: String,
    pub unit: Unit,
    pub value: Option<f64>,
}

/// A metric's value as a table cell: shares as percentages, tonnes with
/// one decimal, money whole.
pub fn cell(unit: Unit, value: Option<f64>) -> Cell {
    match (unit, value) {
        (_, None) => Cell::Empty,
        (Unit::Share, Some(v)) => Cell::Percent(v),
        (Unit::Tonnes, Some(v)) => Cell::tonnes(v),
        (Unit::Money | Unit::MoneyPerTonne, Some(v)) => Cell::money(v),
    }
}

/// The metrics `--metrics` names, in its order: each must be one of
/// `known` (the plan's metric keys), and be named once. An unknown key is a
/// usage error that lists the known ones. An empty request picks nothing
/// (the caller's default applies).
pub fn select(requested: &[String], known: &[&str]) -> Result<Vec<String>, Error> {
    let mut picked: Vec<String> = Vec::new();
    for key in requested {
        let key = key.trim();
        if !known.contains(&key) {
            return Err(Error::Usage(format!(
                "--metrics {key:?}: no such metric in this plan; the known keys are {}",
                known.join(", ")
            )));
        }
        if picked.iter().any(|k| k == key) {
            return Err(Error::Usage(format!(
                "--metrics {key}: given twice; name each metric once"
            )));
        }
        picked.push(key.to_string());
    }
    Ok(picked)
}

#[derive(Clone, Debug, Serialize)]
pub struct Metrics {
    pub status: crate::solve::Status,
    pub metrics: Vec<Metric>,
}

impl Metrics {
    /// The value of the metric `key` (`None`: no such metric, or no value).
    pub fn value(&self, key: &str) -> Option<f64> {
        self.metrics
            .iter()
            .find(|x| x.key == key)
            .and_then(|x| x.value)
    }
}

/// Countries that handle material at each stage, in the plan: the columns
/// of the per-country shares (fixed by the plan so sweep shards agree).
pub fn stage_countries(plan: &Plan) -> [(&'static str, Vec<String>); 3] {
    let collect = |it: &mut dyn Iterator<Item = &String>| {
        let mut v: Vec<String> = it.cloned().collect();
        v.sort();
        v.dedup();
        v
    };
    [
        (
            "mining",
            collect(&mut plan.mines.iter().map(|m| &m.facility.country)),
        ),
        (
            "refining",
            collect(&mut plan.refineries.iter().map(|m| &m.facility.country)),
        ),
        (
            "magnet",
            collect(&mut plan.plants.iter().map(|m| &m.facility.country)),
        ),
    ]
}

/// The metrics of one outcome. `countries` lists, per stage, the countries
/// to report (others are summed into "other").
/// `stock_years`: the years whose closing stock is shown (the same for
/// every column of a comparison; see [`stock_key_years`]).
pub fn metrics(
    plan: &Plan,
    o: &Outcome,
    countries: &[(&'static str, Vec<String>); 3],
    stock_years: &[i64],
) -> Metrics {
    let cur = &o.currency;
    let mut m = Vec::new();
    // `short` and `unit_label` name the metric in narrow tables; `label`
    // (with its unit) everywhere else.
    let mut push = |key: String,
                    label: String,
                    (short, unit_label): (String, String),
                    unit: Unit,
                    value: Option<f64>| {
        m.push(Metric {
            key,
            label,
            short,
            unit_label,
            unit,
            value,
        })
    };
    let cost = o.cost.as_ref();
    if plan.objective == crate::plan::Objective::MaxResilience {
        push(
            "lambda".into(),
            "worst-case share of demand served (λ*)".into(),
            ("worst-case served λ*".into(), "% of demand".into()),
            Unit::Share,
            cost.and(o.objective_value),
        );
    }
    push(
        "cost.total".into(),
        format!("total cost ({cur})"),
        ("total cost".into(), cur.clone()),
        Unit::Money,
        cost.map(|c| c.total),
    );
    // The three groups, then the parts: keys and labels from the one list
    // (values absent when unsolved).
    for (key, label, value) in cost.cloned().unwrap_or_default().groups() {
        push(
            format!("cost.{key}"),
            format!("{label} ({cur})"),
            (short_of(label).into(), cur.clone()),
            Unit::Money,
            cost.map(|_| value),
        );
    }
    let parts = cost.cloned().unwrap_or_default().parts();
    for (key, label, value) in parts {
        push(
            format!("cost.{key}"),
            format!("cost: {label} ({cur})"),
            (format!("cost: {label}"), cur.clone()),
            Unit::Money,
            cost.map(|_| value),
        );
    }
    let solved = cost.is_some();
    let delivered = delivered_to_markets(plan, o);
    push(
        "magnet.delivered".into(),
        "magnets delivered (t)".into(),
        ("magnets delivered".into(), "t".into()),
        Unit::Tonnes,
        solved.then_some(delivered),
    );
    push(
        "cost.per_tonne".into(),
        per_tonne_label(cur),
        ("resource cost per t".into(), format!("{cur}/t magnet")),
        Unit::MoneyPerTonne,
        cost_per_tonne(plan, o),
    );
    // `+ 0.0`: an empty f64 sum is -0.0, which would print as "-0".
    let unmet: f64 = o.unmet.iter().map(|u| u.tonnes).sum::<f64>() + 0.0;
    push(
        "unmet".into(),
        "unmet demand (t)".into(),
        ("unmet demand".into(), "t".into()),
        Unit::Tonnes,
        solved.then_some(unmet),
    );
    // Capacity built over the horizon, per stage (plans with build candidates).
    if plan.has_builds() {
        for (stage, unit) in [
            ("mining", "t REO/yr"),
            ("refining", "t REO/yr"),
            ("magnet", "t magnet/yr"),
        ] {
            // t/yr added at this stage in `country` (`None`: everywhere).
            let built = |country: Option<&str>| {
                o.builds
                    .iter()
                    .filter(|b| b.stage == stage && country.is_none_or(|c| b.country == c))
                    .map(|b| b.capacity)
                    .sum::<f64>()
                    + 0.0
            };
            push(
                format!("built.{stage}"),
                format!("capacity built: {stage} ({unit} added)"),
                (format!("built: {stage}"), format!("{unit} added")),
                Unit::Tonnes,
                solved.then(|| built(None)),
            );
            // By country: every country with a build candidate at the stage.
            for country in build_countries(plan, stage) {
                push(
                    format!("built.{stage}.{country}"),
                    format!("capacity built: {stage} in {country} ({unit} added)"),
                    (
                        format!("built: {stage} in {country}"),
                        format!("{unit} added"),
                    ),
                    Unit::Tonnes,
                    solved.then(|| built(Some(&country))),
                );
            }
        }
    }
    // Stock held at the end of the key years (plans with stockpiles).
    for s in &plan.stockpiles {
        for &year in stock_years {
            // A year outside this plan's horizon has no stock to show.
            let in_horizon = (plan.first_year..=plan.last_year).contains(&year);
            let level = o
                .stockpiles
                .iter()
                .find(|r| r.stockpile == s.id && r.year == year)
                .map_or(0.0, |r| r.level);
            push(
                format!("stock.{}.{year}", s.id),
                format!("stock held: {} at end of {year} (t)", s.id),
                (format!("stock {}, end {year}", s.id), "t".into()),
                Unit::Tonnes,
                (solved && in_horizon).then_some(level),
            );
        }
    }

    // Each rule's clean share, pooled over the years it applies.
    for rule in &plan.share_rules {
        let (mut clean, mut total) = (0.0, 0.0);
        for s in o.shares.iter().filter(|s| s.rule == rule.id) {
            total += s.delivered;
            clean += s.achieved.unwrap_or(0.0) * s.delivered;
        }
        push(
            format!("share.{}", rule.id),
            format!(
                "share rule {}: clean share achieved (over the horizon)",
                rule.id
            ),
            (
                format!("clean share, rule {}", rule.id),
                "% of t delivered".into(),
            ),
            Unit::Share,
            (solved && total > 0.0).then(|| clean / total),
        );
    }

    // Share of the material handled in each country, per stage.
    let mut by_stage: [BTreeMap<String, f64>; 3] = Default::default();
    let country_of = |id: &str| plan.country_of(id).unwrap_or_default().to_string();
    for f in &o.flows.concentrate {
        *by_stage[0].entry(country_of(&f.from)).or_default() += f.tonnes;
        *by_stage[1].entry(country_of(&f.to)).or_default() += f.tonnes;
    }
    // Magnets made: what plants ship (releases from stock were made before).
    for f in o
        .flows
        .magnet
        .iter()
        .filter(|f| !plan.is_stockpile(&f.from))
    {
        *by_stage[2].entry(country_of(&f.from)).or_default() += f.tonnes;
    }
    let units = ["t REO mined", "t REO separated", "t magnet made"];
    for (i, (stage, list)) in countries.iter().enumerate() {
        let total: f64 = by_stage[i].values().sum();
        let share = |t: f64| (solved && total > 0.0).then(|| t / total);
        let mut other = 0.0;
        for (c, t) in &by_stage[i] {
            if !list.contains(c) {
                other += t;
            }
        }
        for c in list {
            let t = by_stage[i].get(c).copied().unwrap_or(0.0);
            push(
                format!("{stage}.{c}"),
                format!("{stage} in {c} (share of {}, over the horizon)", units[i]),
                (format!("{stage} in {c}"), format!("% of {}", units[i])),
                Unit::Share,
                share(t),
            );
        }
        push(
            format!("{stage}.other"),
            format!(
                "{stage} elsewhere (share of {}, over the horizon)",
                units[i]
            ),
            (format!("{stage} elsewhere"), format!("% of {}", units[i])),
            Unit::Share,
            share(other),
        );
    }
    Metrics {
        status: o.status,
        metrics: m,
    }
}

/// A cost group's label without its list of parts: `resource cost
/// (production, transport, ...)` → `resource cost`.
fn short_of(label: &str) -> &str {
    label.split(" (").next().unwrap_or(label)
}

/// Countries with a build candidate (any `expand`, as [`Plan::has_builds`]) at `stage`.
fn build_countries(plan: &Plan, stage: &str) -> Vec<String> {
    let facilities: Vec<&crate::plan::Facility> = match stage {
        "mining" => plan.mines.iter().map(|m| &m.facility).collect(),
        "refining" => plan.refineries.iter().map(|r| &r.facility).collect(),
        _ => plan.plants.iter().map(|p| &p.facility).collect(),
    };
    let mut out: Vec<String> = facilities
        .into_iter()
        .filter(|f| f.expand.is_some())
        .map(|f| f.country.clone())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The years whose closing stock `compare` and `sweep` show: the first and
/// last year of the plan, and the year before each disruption starts (what
/// is held going into the crisis), when that is a horizon year.
pub fn stock_key_years(plan: &Plan) -> Vec<i64> {
    let mut years = vec![plan.first_year, plan.last_year];
    for d in &plan.disruptions {
        if let Some(r) = d.years {
            let before = r.first - 1;
            if before >= plan.first_year && before <= plan.last_year {
                years.push(before);
            }
        }
    }
    years.sort();
    years.dedup();
    years
}

/// The label of [`cost_per_tonne`].
pub fn per_tonne_label(cur: &str) -> String {
    format!("resource cost per t magnet delivered ({cur}/t)")
}

/// What a delivered t of magnet used up: the resource cost (production,
/// transport, investment, reserves, holding; no tariffs, subsidies or
/// penalties, see [`crate::outcome::Cost::groups`]) over the t delivered.
/// `None` unsolved or when nothing was delivered.
pub fn cost_per_tonne(plan: &Plan, o: &Outcome) -> Option<f64> {
    let delivered = delivered_to_markets(plan, o);
    let c = o.cost.as_ref()?;
    (delivered > 0.0).then(|| c.resource / delivered)
}

/// t of magnet delivered to markets over the horizon (shipments into
/// stockpiles are not deliveries; releases from them are).
pub fn delivered_to_markets(plan: &Plan, o: &Outcome) -> f64 {
    o.flows
        .magnet
        .iter()
        .filter(|f| plan.is_market(&f.to))
        .map(|f| f.tonnes)
        .sum::<f64>()
        + 0.0
}
