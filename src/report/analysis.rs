//! The tables of `stress` and `explain`: the analyses compute, this module
//! only lays out what they found (same formats as `solve`'s tables).

use crate::explain::{Explanation, Finding};
use crate::plan::Plan;
use crate::report::{Cell, Table};
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
            "Stress test of {}: demand left unserved if one thing is lost, over the years it lasts, and each market's share served in its worst year ({})",
            plan.name,
            allocation.assumption()
        ),
        &[
            "rank",
            "lost",
            "market",
            "unserved t (plan's throughput)",
            "served",
            "worst year",
            "unserved t (all idle capacity)",
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
            Cell::text(format!(
                "{} more (loss, market) pairs with demand unserved (--top)",
                losing.len() - shown
            )),
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
            Cell::text(format!(
                "the other {} (loss, market) pairs: nothing unserved",
                whole.len()
            )),
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
        &["year", "finding", "item", "tonnes", "unit", "in words"],
    );
    for (f, words) in e.findings.iter().zip(&e.summary) {
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
            Cell::text(words.clone()),
        ]);
    }
    t
}
