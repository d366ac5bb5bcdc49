//! Tables of the investment, contract, subsidy and stockpile results: the
//! build plan (first when anything is built), contract status, subsidy
//! outlay and stock levels. Each table is empty (and left out) when the
//! plan does not use the feature.

use super::{Cell, Table};
use crate::outcome::Outcome;
use crate::plan::Plan;

/// The build plan: what to build, where, when, and its overnight cost.
pub fn build_plan(o: &Outcome) -> Option<Table> {
    if o.builds.is_empty() {
        return None;
    }
    let cur = &o.currency;
    let capex_header = format!("overnight capex ({cur})");
    let mut t = Table::new(
        "builds",
        "Build plan: capacity added (t/yr) and its overnight cost",
        &[
            "facility",
            "country",
            "stage",
            "online",
            "t/yr added",
            capex_header.as_str(),
        ],
    );
    let unit = |stage: &str| match stage {
        "mining" => "t REO/yr mined",
        "refining" => "t REO/yr separated",
        _ => "t magnet/yr",
    };
    let mut total = 0.0;
    for b in &o.builds {
        total += b.capex;
        t.rows.push(vec![
            Cell::text(&b.facility),
            Cell::text(&b.country),
            Cell::text(format!("{} ({})", b.stage, unit(b.stage))),
            Cell::year(b.year),
            Cell::tonnes(b.capacity),
            Cell::money(b.capex),
        ]);
    }
    t.footer.push(vec![
        Cell::text("total"),
        Cell::Empty,
        Cell::Empty,
        Cell::Empty,
        Cell::Empty,
        Cell::money(total),
    ]);
    Some(t)
}

/// Contract status per year: delivered against min and max, shortfall.
///
/// `years`: the years to show (`None`: every year). A year in which a
/// contract falls short is shown for that contract whatever `years` says:
/// a shortfall is never hidden.
pub fn contract_status(o: &Outcome, years: Option<&[i64]>) -> Option<Table> {
    if o.contracts.is_empty() {
        return None;
    }
    let title = match years {
        None => "Contracts: delivered against min and max (t of the seller's product)".to_string(),
        Some(ys) => format!(
            "Contracts: delivered against min and max (t of the seller's product), in {} and every year short (--detail: every year)",
            super::glance::year_ranges(ys)
        ),
    };
    let mut t = Table::new(
        "contracts",
        title,
        &["contract", "year", "min", "max", "delivered", "shortfall"],
    );
    let opt = |v: Option<f64>| v.map_or(Cell::Empty, Cell::tonnes);
    let shown = |year: i64, shortfall: f64| {
        years.is_none_or(|ys| ys.contains(&year)) || shortfall > crate::outcome::REPORT_EPS
    };
    for c in o.contracts.iter().filter(|c| shown(c.year, c.shortfall)) {
        t.rows.push(vec![
            Cell::text(&c.contract),
            Cell::year(c.year),
            opt(c.min),
            opt(c.max),
            Cell::tonnes(c.delivered),
            Cell::tonnes(c.shortfall),
        ]);
    }
    Some(t)
}

/// `items` grouped by id, in the order each id first appears.
fn grouped<T>(items: &[T], id: impl Fn(&T) -> &str) -> Vec<(&str, Vec<&T>)> {
    let mut out: Vec<(&str, Vec<&T>)> = Vec::new();
    for item in items {
        let key = id(item);
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some((_, rows)) => rows.push(item),
            None => out.push((key, vec![item])),
        }
    }
    out
}

/// `2027–2029, 2031`, or "none".
fn years_or_none(years: &[i64]) -> Cell {
    if years.is_empty() {
        Cell::text("none")
    } else {
        Cell::text(super::glance::year_ranges(years))
    }
}

/// One row per contract over the horizon: the years it applies, its
/// minimums and deliveries summed, the shortfall and the years short (the
/// default view; `--detail` and `--year` show [`contract_status`]).
pub fn contract_summary(o: &Outcome) -> Option<Table> {
    if o.contracts.is_empty() {
        return None;
    }
    let mut t = Table::new(
        "contracts",
        "Contracts over the horizon: t of the seller's product (--detail: per year)",
        &[
            "contract",
            "years",
            "min, summed",
            "delivered",
            "shortfall",
            "years short",
        ],
    );
    for (id, rows) in grouped(&o.contracts, |c| &c.contract) {
        let years: Vec<i64> = rows.iter().map(|c| c.year).collect();
        let short: Vec<i64> = rows
            .iter()
            .filter(|c| c.shortfall > crate::outcome::REPORT_EPS)
            .map(|c| c.year)
            .collect();
        let min = rows
            .iter()
            .any(|c| c.min.is_some())
            .then(|| rows.iter().filter_map(|c| c.min).sum::<f64>());
        t.rows.push(vec![
            Cell::text(id),
            Cell::text(super::glance::year_ranges(&years)),
            min.map_or(Cell::Empty, Cell::tonnes),
            Cell::tonnes(rows.iter().map(|c| c.delivered).sum()),
            Cell::tonnes(rows.iter().map(|c| c.shortfall).sum()),
            years_or_none(&short),
        ]);
    }
    Some(t)
}

/// One row per subsidy over the horizon: the years it pays and what it
/// pays in all (discounted; the default view, `--detail` shows
/// [`subsidy_outlay`] per year).
pub fn subsidy_summary(o: &Outcome) -> Option<Table> {
    if o.subsidies.is_empty() {
        return None;
    }
    let cur = &o.currency;
    let header = format!("paid ({cur}, discounted)");
    let mut t = Table::new(
        "subsidies",
        "Subsidy outlay over the horizon (--detail: per year)",
        &["subsidy", "years paid", header.as_str()],
    );
    let mut total = 0.0;
    for (id, rows) in grouped(&o.subsidies, |s| &s.subsidy) {
        let paid: f64 = rows.iter().map(|s| s.amount).sum();
        total += paid;
        let years: Vec<i64> = rows
            .iter()
            .filter(|s| s.amount.abs() > crate::outcome::REPORT_EPS)
            .map(|s| s.year)
            .collect();
        t.rows.push(vec![
            Cell::text(id),
            years_or_none(&years),
            Cell::money(paid),
        ]);
    }
    t.footer
        .push(vec![Cell::text("total"), Cell::Empty, Cell::money(total)]);
    Some(t)
}

/// What each subsidy pays, per year (discounted), in `years` (`None`: all);
/// the total is over the years shown, and the title says which.
pub fn subsidy_outlay(o: &Outcome, years: Option<&[i64]>) -> Option<Table> {
    if o.subsidies.is_empty() {
        return None;
    }
    let cur = &o.currency;
    let header = format!("paid ({cur}, discounted)");
    let title = match years {
        None => "Subsidy outlay per subsidy and year".to_string(),
        Some(ys) => format!(
            "Subsidy outlay per subsidy and year, in {}",
            super::glance::year_ranges(ys)
        ),
    };
    let mut t = Table::new("subsidies", title, &["subsidy", "year", header.as_str()]);
    let mut total = 0.0;
    let shown = |year: i64| years.is_none_or(|ys| ys.contains(&year));
    for s in o.subsidies.iter().filter(|s| shown(s.year)) {
        total += s.amount;
        t.rows.push(vec![
            Cell::text(&s.subsidy),
            Cell::year(s.year),
            Cell::money(s.amount),
        ]);
    }
    t.footer
        .push(vec![Cell::text("total"), Cell::Empty, Cell::money(total)]);
    Some(t)
}

/// Stock held at the end of each year, taken in and released, against
/// capacity and floor.
pub fn stock_levels(plan: &Plan, o: &Outcome) -> Option<Table> {
    if o.stockpiles.is_empty() {
        return None;
    }
    let mut t = Table::new(
        "stockpiles",
        "Stockpiles: t held at the end of each year",
        &[
            "stockpile",
            "holds",
            "year",
            "level",
            "added",
            "released",
            "capacity",
            "min_level",
        ],
    );
    for s in &o.stockpiles {
        let holds =
            plan.stockpiles
                .iter()
                .find(|p| p.id == s.stockpile)
                .map_or(String::new(), |p| match p.product {
                    crate::plan::StockProduct::Oxide(e) => {
                        format!("{} oxide", plan.elements[e].name)
                    }
                    crate::plan::StockProduct::Magnet => "magnets".to_string(),
                });
        t.rows.push(vec![
            Cell::text(&s.stockpile),
            Cell::text(holds),
            Cell::year(s.year),
            Cell::tonnes(s.level),
            Cell::tonnes(s.added),
            Cell::tonnes(s.released),
            Cell::tonnes(s.capacity),
            Cell::tonnes(s.min_level),
        ]);
    }
    Some(t)
}
