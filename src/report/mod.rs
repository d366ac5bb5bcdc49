//! Reports: the outcome of a solve as tables, rendered for the terminal
//! (comfy-table), for reports (GitHub Markdown), for spreadsheets (CSV) or
//! for tools (JSON).

pub mod analysis;
pub mod brief;
pub mod chart;
pub mod glance;
pub mod html;
pub mod instruments;
mod lots;
pub mod metrics;
mod render;
pub mod xlsx;

pub use glance::View;

use crate::outcome::{Outcome, REPORT_EPS};
use crate::plan::Plan;

pub use render::{
    fit_width, render_csv_files, render_markdown, render_table, terminal_width, write_atomically,
};

/// A cell keeps its raw value for CSV and a display format for people.
#[derive(Clone, Debug)]
pub enum Cell {
    Text(String),
    /// A quantity shown with thousands separators and `decimals` decimals.
    Number {
        value: f64,
        decimals: usize,
    },
    /// A share shown as a percentage.
    Percent(f64),
    /// A share the user set (a grid point): shown with every decimal it has,
    /// up to four (`0.625 %`), so that the points' spacing reads true.
    Setting(f64),
    /// A figure already written out (e.g. `12,345 (+678)`): aligned like a number.
    Figure(String),
    Empty,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }
    pub fn tonnes(v: f64) -> Cell {
        Cell::Number {
            value: v,
            decimals: 1,
        }
    }
    pub fn money(v: f64) -> Cell {
        Cell::Number {
            value: v,
            decimals: 0,
        }
    }
    pub fn year(y: i64) -> Cell {
        Cell::Text(y.to_string())
    }
    pub fn opt_percent(v: Option<f64>) -> Cell {
        v.map_or(Cell::Empty, Cell::Percent)
    }

    /// Text for people: `12,345.6`, `41.2 %`.
    pub fn display(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Number { value, decimals } => thousands(*value, *decimals),
            Cell::Percent(p) => percent(*p, 1),
            Cell::Setting(p) => setting_percent(*p),
            Cell::Figure(s) => s.clone(),
            Cell::Empty => "–".into(),
        }
    }

    /// Raw text for CSV: full precision, no separators.
    pub fn raw(&self) -> String {
        match self {
            Cell::Text(s) | Cell::Figure(s) => s.clone(),
            // `+ 0.0` turns -0 into 0 (a -0 from the solver is no sign).
            Cell::Number { value, .. } | Cell::Percent(value) | Cell::Setting(value) => {
                (value + 0.0).to_string()
            }
            Cell::Empty => String::new(),
        }
    }

    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            Cell::Number { .. } | Cell::Percent(_) | Cell::Setting(_) | Cell::Figure(_)
        )
    }
}

/// A share as a percentage, `0.4123` → `41.2 %` (with `decimals` = 1); a
/// value that rounds to zero has no minus sign (`-1e-12` → `0.0 %`). A share
/// that is not whole never reads as whole: `0.9998` → `> 99.9 %` and
/// `0.0002` → `< 0.1 %` (`> 99 %`, `< 1 %` with no decimals); within
/// [`SHARE_EPS`] of 0 or 1 it is solver noise and reads `0.0 %`, `100.0 %`.
pub fn percent(share: f64, decimals: usize) -> String {
    let mut s = format!("{:.*}", decimals, share * 100.0);
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s.remove(0);
    }
    let step = format!("{:.*}", decimals, 10f64.powi(-(decimals as i32)));
    let below_100 = format!("{:.*}", decimals, 100.0 - 10f64.powi(-(decimals as i32)));
    let rounded: f64 = s.parse().unwrap_or(f64::NAN);
    if rounded == 100.0 && share < 1.0 - SHARE_EPS {
        return format!("> {below_100} %");
    }
    if rounded == 0.0 && share > SHARE_EPS {
        return format!("< {step} %");
    }
    format!("{s} %")
}

/// A share set by the user as a percentage with the decimals it needs (one
/// at least, four at most): `0.5` → `50.0 %`, `0.00625` → `0.625 %`.
pub fn setting_percent(share: f64) -> String {
    let v = share * 100.0;
    let decimals = (1..=4)
        .find(|&d| {
            let scale = 10f64.powi(d);
            ((v * scale).round() / scale - v).abs() < 1e-9 * v.abs().max(1.0)
        })
        .unwrap_or(4);
    percent(share, decimals as usize)
}

/// Shares this close to 0 or 1 are shown as 0 % or 100 %: LP noise, not a
/// quantity (1 t in 1,000,000 t).
pub const SHARE_EPS: f64 = 1e-6;

/// `1234567.891` → `1,234,567.9` (with `decimals` = 1).
pub fn thousands(v: f64, decimals: usize) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    let s = format!("{:.*}", decimals, v.abs());
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i.to_string(), Some(f.to_string())),
        None => (s.clone(), None),
    };
    let mut grouped = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    let negative = v < 0.0 && s.chars().any(|c| c.is_ascii_digit() && c != '0');
    let mut out = if negative {
        format!("-{grouped}")
    } else {
        grouped
    };
    if let Some(f) = frac {
        out.push('.');
        out.push_str(&f);
    }
    out
}

#[derive(Clone, Debug)]
pub struct Table {
    /// File stem for CSV output (`flows_magnet` → `flows_magnet.csv`).
    pub name: String,
    pub title: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    /// Rows after these are totals (rendered apart in Markdown).
    pub footer: Vec<Vec<Cell>>,
    /// Lines printed under the table on the terminal (a legend); the other
    /// formats carry the same facts in their rows or headers.
    pub notes: Vec<Note>,
    /// A native chart of this table's numbers in the workbook (`--format
    /// xlsx`); the other formats have their own charts or none.
    pub chart: Option<SheetChart>,
}

/// How a table's numbers make a line chart in Excel.
#[derive(Clone, Debug)]
pub enum SheetChart {
    /// Every row a series named by its first cell, over the columns from
    /// `first` on (the headers are the categories: years).
    RowsAsSeries { first: usize, title: String },
    /// Each of these columns a series named by its header, over the rows
    /// (the first column is the categories).
    ColumnsAsSeries { columns: Vec<usize>, title: String },
}

/// A line under a terminal table: about one column (printed `column: text`,
/// with whichever part of a split table holds that column) or about the
/// whole table.
#[derive(Clone, Debug)]
pub struct Note {
    pub column: Option<String>,
    pub text: String,
}

impl Table {
    pub fn new(name: &str, title: impl Into<String>, headers: &[&str]) -> Table {
        Table {
            name: name.to_string(),
            title: title.into(),
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
            footer: Vec::new(),
            notes: Vec::new(),
            chart: None,
        }
    }
}

/// Every table of a `solve`: the one-screen report and the full tables.
pub fn solve_tables(plan: &Plan, o: &Outcome) -> Vec<Table> {
    solve_report(
        plan,
        o,
        &View {
            detail: true,
            ..View::default()
        },
    )
}

/// The tables of a `solve`: the summary, sourcing per market, concern
/// shares and what binds; with `view.detail` also the full flow,
/// utilization and share-rule tables (idle facilities and zero flows left
/// out); with `view.years`, only those years.
pub fn solve_report(plan: &Plan, o: &Outcome, view: &View) -> Vec<Table> {
    let cur = &o.currency;
    let mut tables = Vec::new();

    let mut summary = Table::new("summary", "Summary", &["item", "value"]);
    let title = match &o.scenario {
        Some(s) => format!("{} (scenario {s})", o.plan),
        None => o.plan.clone(),
    };
    summary
        .rows
        .push(vec![Cell::text("plan"), Cell::text(title)]);
    summary.rows.push(vec![
        Cell::text("years"),
        Cell::text(format!("{}–{}", plan.first_year, plan.last_year)),
    ]);
    summary
        .rows
        .push(vec![Cell::text("status"), Cell::text(o.status.name())]);
    summary.rows.push(vec![
        Cell::text("objective"),
        Cell::text(o.objective.name()),
    ]);
    if let Some(v) = o.objective_value {
        let cell = if o.objective == crate::plan::Objective::MaxResilience {
            Cell::Percent(v)
        } else {
            Cell::money(v)
        };
        let label = if o.objective == crate::plan::Objective::MaxResilience {
            "worst-case share of demand served (λ*)".to_string()
        } else {
            format!("objective value ({cur}, discounted)")
        };
        summary.rows.push(vec![Cell::text(label), cell]);
    }
    if let Some(c) = &o.cost {
        // Parts the plan does not use (zero) are left out.
        for (_, label, v) in c.parts() {
            if v.abs() > 1e-9 {
                summary.rows.push(vec![
                    Cell::text(format!("cost: {label} ({cur})")),
                    Cell::money(v),
                ]);
            }
        }
        summary.rows.push(vec![
            Cell::text(format!("total cost ({cur})")),
            Cell::money(c.total),
        ]);
        // The total in its three groups: only what is used up is a cost to
        // the economy; tariffs and subsidies move money, penalties price
        // what did not happen.
        for (_, label, v) in c.groups() {
            summary.rows.push(vec![
                Cell::text(format!("of which {label} ({cur})")),
                Cell::money(v),
            ]);
        }
        let delivered = metrics::delivered_to_markets(plan, o);
        summary.rows.push(vec![
            Cell::text("magnets delivered (t)"),
            Cell::tonnes(delivered),
        ]);
        if let Some(per_tonne) = metrics::cost_per_tonne(plan, o) {
            summary.rows.push(vec![
                Cell::text(metrics::per_tonne_label(cur)),
                Cell::money(per_tonne),
            ]);
        }
        let unmet: f64 = o.unmet.iter().map(|u| u.tonnes).sum::<f64>() + 0.0;
        summary
            .rows
            .push(vec![Cell::text("unmet demand (t)"), Cell::tonnes(unmet)]);
    }
    if let Some(m) = &o.mip {
        summary.rows.push(vec![
            Cell::text("MIP gap reached (nodes)"),
            Cell::text(format!("{:.4} % ({} nodes)", m.gap * 100.0, m.nodes)),
        ]);
    }
    summary.rows.push(vec![
        Cell::text("LP size (columns × rows, nonzeros)"),
        Cell::text(format!(
            "{} × {}, {}",
            thousands(o.lp_size.columns as f64, 0),
            thousands(o.lp_size.rows as f64, 0),
            thousands(o.lp_size.nonzeros as f64, 0)
        )),
    ]);
    tables.push(summary);

    if o.cost.is_none() {
        return tables;
    }
    // What to build comes first: it is the answer to a build question.
    tables.extend(instruments::build_plan(o));

    // Years: those asked for, else the key years (sourcing) and every year
    // of a short horizon (concern shares, what binds).
    let all_years: Vec<i64> = (plan.first_year..=plan.last_year).collect();
    let (key, every) = if view.years.is_empty() {
        let every = if all_years.len() <= 15 {
            all_years.clone()
        } else {
            glance::key_years(plan, o)
        };
        (glance::key_years(plan, o), every)
    } else {
        (view.years.clone(), view.years.clone())
    };
    // Demand left unserved comes before where the rest came from: it is
    // the first thing a planner must see.
    tables.extend(unmet_table(plan, o, &view.years));
    let every_shown = if view.years.is_empty() {
        all_years.clone()
    } else {
        view.years.clone()
    };
    tables.push(glance::sourcing_table(plan, o, &key));
    // Outside-concern shares: on one screen, the groups asked for and the
    // markets under a share rule in the key years; with --detail (and in
    // CSV, xlsx, JSON) every market, every year shown.
    let mut outside = glance::outside_concern_shares(plan, o, &view.groups);
    let outside_years = if view.detail { &every_shown } else { &key };
    if !view.detail {
        outside.retain(|s| glance::asked_or_ruled(plan, &view.groups, s));
    }
    if !outside.is_empty() {
        tables.push(glance::outside_concern_table(plan, &outside, outside_years));
    }
    tables.push(glance::concern_table(plan, o, &every));
    let binds_years = if view.years.is_empty() {
        &all_years
    } else {
        &view.years
    };
    tables.push(glance::binds_table(o, binds_years));
    // Contracts, subsidies and stock, when the plan has them.
    // Contracts and subsidies: one row each over the horizon, unless every
    // year (--detail) or given years are asked for (a year short is then
    // always shown).
    if view.detail || !view.years.is_empty() {
        let years = (!view.years.is_empty()).then_some(view.years.as_slice());
        tables.extend(instruments::contract_status(o, years));
        tables.extend(instruments::subsidy_outlay(o, years));
    } else {
        tables.extend(instruments::contract_summary(o));
        tables.extend(instruments::subsidy_summary(o));
    }
    tables.extend(instruments::stock_levels(plan, o));
    if view.detail {
        detail_tables(o, view, &mut tables);
    }
    resilience_tables(o, &mut tables);
    tables
}

/// Demand left unserved, one row per market and year short (in the years
/// asked for, default all), with the market's demand and the share short;
/// and every market with demand that is served nothing at all over those
/// years named in a note. `None` when nothing is short.
fn unmet_table(plan: &Plan, o: &Outcome, years: &[i64]) -> Option<Table> {
    let shown = |y: i64| years.is_empty() || years.contains(&y);
    let mut rows: Vec<&crate::outcome::Unmet> = o.unmet.iter().filter(|u| shown(u.year)).collect();
    if rows.is_empty() {
        return None;
    }
    let position = |id: &str| plan.markets.iter().position(|m| m.id == id);
    rows.sort_by_key(|u| (position(&u.market), u.year));
    let mut t = Table::new(
        "unmet",
        "Unmet demand: t of magnet demand left unserved, by market and year",
        &[
            "market",
            "year",
            "demand (t)",
            "unserved (t)",
            "share of demand",
        ],
    );
    let mut total_demand = 0.0;
    let mut total_short = 0.0;
    for u in &rows {
        let demand = position(&u.market).map_or(0.0, |k| plan.markets[k].demand.at(u.year));
        total_demand += demand;
        total_short += u.tonnes;
        t.rows.push(vec![
            Cell::text(&u.market),
            Cell::year(u.year),
            Cell::tonnes(demand),
            Cell::tonnes(u.tonnes),
            if demand > 0.0 {
                Cell::Percent(u.tonnes / demand)
            } else {
                Cell::Empty
            },
        ]);
    }
    t.footer.push(vec![
        Cell::text("total"),
        Cell::Empty,
        Cell::tonnes(total_demand),
        Cell::tonnes(total_short),
        Cell::Empty,
    ]);
    // Markets with demand in the years shown that receive nothing at all.
    let unserved: Vec<&str> = plan
        .markets
        .iter()
        .filter(|m| {
            let demand: f64 = plan
                .years()
                .filter(|&y| shown(y))
                .map(|y| m.demand.at(y))
                .sum();
            let got: f64 = o
                .flows
                .magnet
                .iter()
                .filter(|f| f.to == m.id && shown(f.year))
                .map(|f| f.tonnes)
                .sum();
            demand > 0.0 && got <= crate::outcome::REPORT_EPS
        })
        .map(|m| m.id.as_str())
        .collect();
    if !unserved.is_empty() {
        t.title = format!(
            "{} (served nothing at all: {})",
            t.title,
            unserved.join(", ")
        );
    }
    // Markets short at the same penalty: the least cost is indifferent
    // between them, so who goes short is not a forecast.
    let mut short: Vec<&str> = rows.iter().map(|u| u.market.as_str()).collect();
    short.sort();
    short.dedup();
    let penalty = |id: &str| {
        plan.markets
            .iter()
            .find(|m| m.id == id)
            .and_then(|m| m.unmet_penalty)
    };
    let tied: Vec<&str> = short
        .iter()
        .copied()
        .filter(|a| {
            short
                .iter()
                .any(|b| b != a && penalty(a).is_some() && penalty(a) == penalty(b))
        })
        .collect();
    if !tied.is_empty() {
        t.title = format!(
            "{}. {} are short at the same unmet_penalty: the least cost is indifferent to which of them goes short, so the split between them is not a forecast (stress shares a loss between markets fairly)",
            t.title,
            tied.join(", ")
        );
    }
    Some(t)
}

/// The full tables (`--detail`), in the years asked for (default all).
fn detail_tables(o: &Outcome, view: &View, tables: &mut Vec<Table>) {
    let cur = &o.currency;
    let shown = |y: i64| view.years.is_empty() || view.years.contains(&y);
    let resource = format!("resource cost ({cur})");
    let transfers = format!("transfers ({cur})");
    let penalties = format!("penalties ({cur})");
    let total = format!("total ({cur})");
    let mut t = Table::new(
        "cost_by_year",
        format!("Cost by year in its three groups ({cur}, discounted)"),
        &["year", &resource, &transfers, &penalties, &total],
    );
    for y in o.cost_by_year.iter().filter(|y| shown(y.year)) {
        t.rows.push(vec![
            Cell::year(y.year),
            Cell::money(y.cost.resource),
            Cell::money(y.cost.transfers),
            Cell::money(y.cost.penalties),
            Cell::money(y.cost.total),
        ]);
    }
    t.chart = Some(SheetChart::ColumnsAsSeries {
        columns: vec![1, 2, 3],
        title: format!("Cost by year ({cur}, discounted)"),
    });
    tables.push(t);
    let mut t = Table::new(
        "flows_concentrate",
        "Concentrate: mine → refinery (t REO)",
        &["year", "mine", "refinery", "t REO"],
    );
    for f in o.flows.concentrate.iter().filter(|f| shown(f.year)) {
        t.rows.push(vec![
            Cell::year(f.year),
            Cell::text(&f.from),
            Cell::text(&f.to),
            Cell::tonnes(f.tonnes),
        ]);
    }
    tables.push(t);

    let mut t = Table::new(
        "flows_oxide",
        "Oxide: refinery → magnet plant (t oxide)",
        &["year", "refinery", "magnet plant", "element", "t oxide"],
    );
    for f in o.flows.oxide.iter().filter(|f| shown(f.year)) {
        t.rows.push(vec![
            Cell::year(f.year),
            Cell::text(&f.from),
            Cell::text(&f.to),
            Cell::text(&f.element),
            Cell::tonnes(f.tonnes),
        ]);
    }
    tables.push(t);

    let mut t = Table::new(
        "flows_magnet",
        "Magnets: plant → market (t magnet)",
        &["year", "magnet plant", "market", "t magnet"],
    );
    for f in o.flows.magnet.iter().filter(|f| shown(f.year)) {
        t.rows.push(vec![
            Cell::year(f.year),
            Cell::text(&f.from),
            Cell::text(&f.to),
            Cell::tonnes(f.tonnes),
        ]);
    }
    let total: f64 = o
        .flows
        .magnet
        .iter()
        .filter(|f| shown(f.year))
        .map(|f| f.tonnes)
        .sum();
    t.footer.push(vec![
        Cell::text("total"),
        Cell::Empty,
        Cell::Empty,
        Cell::tonnes(total),
    ]);
    tables.push(t);

    let mut t = Table::new(
        "utilization",
        "Utilization of effective capacity (mines and refineries in t REO, plants in t magnet)",
        &[
            "year",
            "stage",
            "facility",
            "country",
            "capacity",
            "throughput",
            "utilization",
            "binding",
        ],
    );
    // Idle facilities are left out.
    for u in o
        .utilization
        .iter()
        .filter(|u| shown(u.year) && u.throughput > REPORT_EPS)
    {
        t.rows.push(vec![
            Cell::year(u.year),
            Cell::text(u.stage),
            Cell::text(&u.facility),
            Cell::text(&u.country),
            Cell::tonnes(u.capacity),
            Cell::tonnes(u.throughput),
            Cell::Percent(u.share),
            Cell::text(if u.binding { "yes" } else { "" }),
        ]);
    }
    tables.push(t);

    if !o.shares.is_empty() {
        let price_header = format!("shadow price ({cur} per pp)");
        let mut t = Table::new(
            "share_rules",
            "Share rules: required vs achieved clean share",
            &[
                "rule",
                "year",
                "required",
                "achieved",
                "t delivered",
                "t clean short",
                &price_header,
            ],
        );
        for s in o.shares.iter().filter(|s| shown(s.year)) {
            t.rows.push(vec![
                Cell::text(&s.rule),
                Cell::year(s.year),
                Cell::Percent(s.required),
                Cell::opt_percent(s.achieved),
                Cell::tonnes(s.delivered),
                Cell::tonnes(s.shortfall),
                s.shadow_price.map_or(Cell::Empty, Cell::money),
            ]);
        }
        tables.push(t);
    }
}

/// Reserves and demand served under each disruption (max-resilience).
fn resilience_tables(o: &Outcome, tables: &mut Vec<Table>) {
    if let Some(r) = &o.resilience {
        let mut t = Table::new(
            "reserves",
            format!(
                "Spare-capacity reserves (λ* = {:.1} %, budget {:.1} % over the min-cost {}; λ* is solved to a dual tolerance of {:e} and the reported plan is the least cost with λ ≥ λ* − 1e-7)",
                r.lambda * 100.0,
                r.budget * 100.0,
                thousands(r.min_cost, 0),
                crate::outcome::RESILIENCE_DUAL_TOLERANCE
            ),
            &["year", "facility", "t reserved"],
        );
        for v in &r.reserves {
            t.rows.push(vec![
                Cell::year(v.year),
                Cell::text(&v.facility),
                Cell::tonnes(v.tonnes),
            ]);
        }
        tables.push(t);
        let mut t = Table::new(
            "disruptions",
            "Demand served under each disruption",
            &[
                "disruption",
                "year",
                "market",
                "demand (t)",
                "served (t)",
                "share served",
            ],
        );
        for s in &r.served {
            t.rows.push(vec![
                Cell::text(&s.disruption),
                Cell::year(s.year),
                Cell::text(&s.market),
                Cell::tonnes(s.demand),
                Cell::tonnes(s.served),
                Cell::Percent(s.share),
            ]);
        }
        tables.push(t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_and_rounds() {
        assert_eq!(thousands(1234567.891, 1), "1,234,567.9");
        assert_eq!(thousands(999.95, 1), "1,000.0");
        assert_eq!(thousands(-1234.5, 0), "-1,234");
        assert_eq!(thousands(0.0, 0), "0");
        assert_eq!(thousands(-0.0, 1), "0.0");
        assert_eq!(thousands(-0.04, 1), "0.0");
        assert_eq!(thousands(-0.05, 1), "-0.1");
        assert_eq!(thousands(100.0, 0), "100");
    }

    #[test]
    fn percent_has_no_negative_zero() {
        assert_eq!(percent(0.4123, 1), "41.2 %");
        assert_eq!(percent(-0.0, 1), "0.0 %");
        assert_eq!(percent(-1e-12, 1), "0.0 %");
        assert_eq!(percent(-0.002, 1), "-0.2 %");
        assert_eq!(percent(1.0, 0), "100 %");
        assert_eq!(percent(0.9998, 1), "> 99.9 %");
        assert_eq!(percent(0.9958, 0), "> 99 %");
        assert_eq!(percent(1.0 - 1e-9, 1), "100.0 %");
        assert_eq!(percent(0.0002, 1), "< 0.1 %");
        assert_eq!(percent(0.004, 0), "< 1 %");
        assert_eq!(percent(1e-9, 1), "0.0 %");
        assert_eq!(percent(0.9994, 1), "99.9 %");
        assert_eq!(setting_percent(0.5), "50.0 %");
        assert_eq!(setting_percent(0.00625), "0.625 %");
        assert_eq!(setting_percent(0.0125), "1.25 %");
        assert_eq!(setting_percent(0.0), "0.0 %");
        assert_eq!(Cell::Setting(0.00625).raw(), "0.00625");
        assert_eq!(Cell::Percent(-0.0).display(), "0.0 %");
        assert_eq!(Cell::Percent(-0.0).raw(), "0");
        assert_eq!(Cell::money(-0.0).raw(), "0");
    }
}
