//! The tables of `stress` and `explain`: the analyses compute, this module
//! only lays out what they found (same formats as `solve`'s tables).

use crate::explain::{Explanation, Finding, Remedy, ASSUMED_CAPEX};
use crate::plan::Plan;
use crate::report::{thousands, Cell, Table};
use crate::solve::Status;
use crate::stress::{Allocation, Exposure};

/// The ranked table of exposures.
pub fn stress_table(
    plan: &Plan,
    exposures: &[Exposure],
    allocation: Allocation,
    top: Option<usize>,
) -> Table {
    let mut t = Table::new(
        "stress",
        format!(
            "Stress test of {}: demand left unserved if one thing is lost, and each market's share served in its worst year. A country, facility or export loss lasts the whole horizon ({}–{}); \"exports from\" stops every product leaving that country; contracts, share rules and builds do not bind a crisis. {}",
            plan.name,
            plan.first_year,
            plan.last_year,
            allocation.assumption()
        ),
        &[
            "rank",
            "lost",
            "market",
            "unserved t (plan)",
            "served",
            "worst year",
            "unserved t (idle capacity)",
            "served ",
            "worst year ",
        ],
    );
    // Rows that lose nothing on either side are one line at the end.
    let (losing, whole): (Vec<&Exposure>, Vec<&Exposure>) =
        exposures.iter().partition(|e| e.loses_something());
    for (i, e) in losing.iter().take(top.unwrap_or(usize::MAX)).enumerate() {
        t.rows.push(vec![
            Cell::Text((i + 1).to_string()),
            Cell::text(e.loss.clone()),
            Cell::text(e.market.clone()),
            e.planned_unserved.map_or(Cell::Empty, Cell::tonnes),
            Cell::opt_percent(e.planned_share),
            e.planned_worst_year.map_or(Cell::Empty, Cell::year),
            e.idle_unserved.map_or(Cell::Empty, Cell::tonnes),
            Cell::opt_percent(e.idle_share),
            e.idle_worst_year.map_or(Cell::Empty, Cell::year),
        ]);
    }
    let shown = top.unwrap_or(usize::MAX).min(losing.len());
    if losing.len() > shown {
        t.footer.push(vec![
            Cell::text("–"),
            Cell::text(format!("{} more short (--top)", losing.len() - shown)),
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
        ]);
    }
    if !whole.is_empty() {
        t.footer.push(vec![
            Cell::text("–"),
            Cell::text(format!("{} more: nothing unserved", whole.len())),
            Cell::Empty,
            Cell::tonnes(0.0),
            Cell::Percent(1.0),
            Cell::Empty,
            Cell::tonnes(0.0),
            Cell::Percent(1.0),
            Cell::Empty,
        ]);
    }
    t
}

/// The explanation as a table (same formats as `solve`).
pub fn explain_table(e: &Explanation) -> Table {
    let mut t = Table::new(
        "explain",
        if e.status == Status::Infeasible {
            format!("Why {} has no solution", e.plan)
        } else {
            format!("What {} leaves short, and why", e.plan)
        },
        &["year", "finding", "item", "tonnes", "unit", "detail"],
    );
    for f in &e.findings {
        let (year, kind, item, tonnes, unit) = match f {
            Finding::Unmet {
                year,
                market,
                tonnes,
            } => (
                *year,
                "demand short",
                market.clone(),
                Some(*tonnes),
                "t magnet",
            ),
            Finding::RuleShort { year, rule, tonnes } => (
                *year,
                "share rule short",
                rule.clone(),
                Some(*tonnes),
                "t clean magnet",
            ),
            Finding::PaidUnmet {
                year,
                market,
                tonnes,
            } => (
                *year,
                "demand short (penalty paid)",
                market.clone(),
                Some(*tonnes),
                "t magnet",
            ),
            Finding::PaidRuleShort { year, rule, tonnes } => (
                *year,
                "soft rule short (penalty paid)",
                rule.clone(),
                Some(*tonnes),
                "t clean magnet",
            ),
            Finding::Capacity {
                year,
                facility,
                extra,
                unit,
                ..
            } => (
                *year,
                "capacity needed",
                facility.clone(),
                Some(*extra),
                *unit,
            ),
            Finding::Embargo {
                year,
                embargoes,
                tonnes,
                ..
            } => (
                *year,
                "embargo blocks",
                embargoes.join(", "),
                Some(*tonnes),
                "t",
            ),
            Finding::NoCleanSource { year, rule, .. } => {
                (*year, "no clean source", rule.clone(), None, "")
            }
            Finding::ContractShort {
                year,
                contract,
                tonnes,
            } => (
                *year,
                "contract short",
                contract.clone(),
                Some(*tonnes),
                "t",
            ),
            Finding::FloorShort {
                year,
                stockpile,
                tonnes,
            } => (
                *year,
                "stock floor short",
                stockpile.clone(),
                Some(*tonnes),
                "t",
            ),
        };
        t.rows.push(vec![
            Cell::year(year),
            Cell::text(kind),
            Cell::text(item),
            tonnes.map_or(Cell::Empty, Cell::tonnes),
            Cell::text(unit),
            Cell::text(finding_detail(f)),
        ]);
    }
    t
}

/// What a finding says beyond its year, item and tonnes, briefly (the
/// JSON's `summary` has it in full sentences).
fn finding_detail(f: &Finding) -> String {
    match f {
        Finding::Capacity {
            stage,
            country,
            capacity,
            expand_limit,
            ..
        } => {
            let mut d = format!("{stage} in {country}, has {}", thousands(*capacity, 1));
            if let Some(limit) = expand_limit {
                d += &format!("; expand.{limit} binds");
            }
            d
        }
        Finding::Embargo {
            product,
            element,
            from,
            to,
            ..
        } => match element {
            Some(e) => format!("{product} ({e}) {from} → {to}"),
            None => format!("{product} {from} → {to}"),
        },
        Finding::NoCleanSource { stage, element, .. } => match element {
            Some(e) => format!("no {stage} of {e} outside the concern countries"),
            None => format!("no {stage} outside the concern countries"),
        },
        _ => String::new(),
    }
}

/// What would serve the markets short in full: the capacity to add, what
/// it still cannot serve, and the elements short outside the excluded
/// countries.
pub fn remedy_tables(plan: &Plan, r: &Remedy) -> Vec<Table> {
    let cur = &plan.currency;
    let mut builds = Table::new(
        "remedy",
        format!(
            "What would serve {} in full, every other market keeping what it gets: the least-cost capacity to add outside {} (assumed: no build candidate; online from {} at the earliest and not before the facility; capex per t/yr the median of the plan's candidates at the stage, or {})",
            r.markets.join(", "),
            r.excluded_countries.join(", "),
            plan.first_year + crate::explain::ASSUMED_LEAD_YEARS,
            ASSUMED_CAPEX
                .iter()
                .map(|(s, c)| format!("{} {}", s.name(), thousands(*c, 0)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        &[
            "facility",
            "country",
            "stage",
            "online in",
            "t/yr added",
            &format!("overnight capex ({cur})"),
            "basis",
        ],
    );
    // One row per facility: what it adds over the horizon, from the first
    // year (the JSON has each year's addition).
    let mut order: Vec<&str> = Vec::new();
    for b in &r.builds {
        if !order.contains(&b.facility.as_str()) {
            order.push(&b.facility);
        }
    }
    for id in order {
        let of: Vec<_> = r.builds.iter().filter(|b| b.facility == id).collect();
        let first = of[0];
        let years: Vec<i64> = of.iter().map(|b| b.year).collect();
        builds.rows.push(vec![
            Cell::text(id),
            Cell::text(&first.country),
            Cell::text(first.stage),
            Cell::text(crate::report::glance::year_ranges(&years)),
            Cell::tonnes(of.iter().map(|b| b.capacity).sum()),
            Cell::money(of.iter().map(|b| b.capex).sum()),
            Cell::text(if first.assumed {
                "assumed"
            } else {
                "candidate"
            }),
        ]);
    }
    if !r.builds.is_empty() {
        let total: f64 = r.builds.iter().map(|b| b.capex).sum();
        builds.footer.push(vec![
            Cell::text("total"),
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::money(total),
            Cell::Empty,
        ]);
    } else {
        builds.title += ": nothing to add";
    }
    let mut tables = vec![builds];
    if !r.still_short.is_empty() {
        let mut t = Table::new(
            "remedy_short",
            "Still short with that capacity (before added capacity can come online, or with no route at all: an embargo, a share rule with no clean source)",
            &["year", "market", "t magnet short"],
        );
        for u in &r.still_short {
            t.rows.push(vec![
                Cell::year(u.year),
                Cell::text(&u.market),
                Cell::tonnes(u.tonnes),
            ]);
        }
        tables.push(t);
    }
    if r.elements.is_empty() {
        let mut t = Table::new("remedy_elements", "Elements that bind", &["finding"]);
        t.rows.push(vec![Cell::text(format!(
            "none: mines outside {} hold enough of every element at capacity; what binds is the capacity above",
            r.excluded_countries.join(", ")
        ))]);
        tables.push(t);
    } else {
        let mut t = Table::new(
            "remedy_elements",
            format!(
                "Elements that bind: oxide the markets' magnets need (at the leanest recipe) against what mines outside {} yield at capacity, in the year the gap is widest",
                r.excluded_countries.join(", ")
            ),
            &["element", "year", "needed (t oxide)", "available (t oxide)"],
        );
        for g in &r.elements {
            t.rows.push(vec![
                Cell::text(&g.element),
                Cell::year(g.year),
                Cell::tonnes(g.needed),
                Cell::tonnes(g.available),
            ]);
        }
        tables.push(t);
    }
    tables
}
