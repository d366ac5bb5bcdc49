//! `reeplan compare`: the base plan and its scenarios side by side.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::{OutputArgs, PlanArgs, SolverArgs};
use crate::error::Error;
use crate::plan::Plan;
use crate::report::metrics::{metrics, stage_countries, Metrics, Unit};
use crate::report::{thousands, Cell, Table};
use crate::solve::Status;

#[derive(Args)]
pub struct CompareArgs {
    #[command(flatten)]
    input: PlanArgs,
    /// Scenarios to compare with the base plan (repeatable; default: all).
    #[arg(long, short = 's', value_name = "NAME")]
    scenario: Vec<String>,
    /// Leave the base plan out (compare scenarios only).
    #[arg(long)]
    no_base: bool,
    /// Countries shown per stage before the rest is summed into "other".
    #[arg(long, default_value_t = 3, value_name = "N")]
    top: usize,
    #[command(flatten)]
    output: OutputArgs,
    #[command(flatten)]
    solver: SolverArgs,
}

/// One column of the comparison.
pub struct Column {
    pub name: String,
    pub description: Option<String>,
    pub plan: Plan,
    pub outcome: crate::Outcome,
}

fn format_value(unit: Unit, v: Option<f64>) -> Cell {
    match (unit, v) {
        (_, None) => Cell::Empty,
        (Unit::Share, Some(v)) => Cell::Percent(v),
        (Unit::Tonnes, Some(v)) => Cell::tonnes(v),
        (Unit::Money | Unit::MoneyPerTonne, Some(v)) => Cell::money(v),
    }
}

fn format_delta(unit: Unit, v: f64) -> String {
    let sign = if v > 0.0 { "+" } else { "" };
    match unit {
        Unit::Share => format!("{sign}{:.1} pp", v * 100.0),
        Unit::Tonnes => format!("{sign}{}", thousands(v, 1)),
        Unit::Money | Unit::MoneyPerTonne => format!("{sign}{}", thousands(v, 0)),
    }
}

pub fn run(args: &CompareArgs) -> Result<ExitCode, Error> {
    if args.top == 0 {
        return Err(Error::Usage(
            "--top 0: must be at least 1 (countries shown per stage)".into(),
        ));
    }
    let options = args.solver.options()?;
    args.output.check()?;
    let source = super::load(&args.input.plan)?;
    let overrides = args.input.overrides()?;
    let mut names: Vec<Option<String>> = Vec::new();
    if !args.no_base {
        names.push(None);
    }
    if args.scenario.is_empty() {
        names.extend(source.scenarios.iter().map(|s| Some(s.name.clone())));
    } else {
        names.extend(args.scenario.iter().cloned().map(Some));
    }
    if names.is_empty() {
        return Err(Error::Usage(
            "nothing to compare: --no-base and the plan has no scenarios".into(),
        ));
    }
    // Load every plan first, so a bad scenario name fails before any solve.
    let plans = names
        .iter()
        .map(|name| source.plan_with(name.as_deref(), &overrides))
        .collect::<Result<Vec<_>, _>>()?;
    let mut columns = Vec::new();
    for (i, (name, plan)) in names.iter().zip(plans).enumerate() {
        eprintln!(
            "[{}/{}] solving {}",
            i + 1,
            names.len(),
            name.as_deref().unwrap_or("base")
        );
        let outcome = crate::solve_plan(&plan, &options)?;
        let description = plan.scenario.as_ref().and_then(|s| s.description.clone());
        columns.push(Column {
            name: name.clone().unwrap_or_else(|| "base".into()),
            description,
            plan,
            outcome,
        });
    }
    let raw = matches!(args.output.format, super::Format::Csv | super::Format::Xlsx);
    let (table, json) = comparison(&columns, args.top, raw);
    // On a terminal, a wide comparison is split into parts that fit the
    // screen; every other format keeps all columns in one table.
    let tables = if args.output.format == super::Format::Table {
        crate::report::fit_width(table, 1, 110)
    } else {
        vec![table]
    };
    let mut figures = Vec::new();
    if args.output.format == super::Format::Html {
        let cur = &columns[0].plan.currency;
        let bars: Vec<(String, f64)> = columns
            .iter()
            .filter_map(|c| Some((c.name.clone(), c.outcome.cost.as_ref()?.total)))
            .collect();
        figures.push(crate::report::html::Figure {
            caption: "Total cost of each column (solved columns only)".into(),
            svg: crate::report::html::bar_chart(&format!("Total cost ({cur})"), cur, &bars),
        });
    }
    let title = format!("Comparison of {}", columns[0].plan.name);
    args.output.emit_report(
        &tables,
        &json,
        &Vec::<(PathBuf, Vec<u8>)>::new(),
        &title,
        &figures,
    )?;
    let worst = columns
        .iter()
        .map(|c| c.outcome.status)
        .find(|s| *s != Status::Optimal)
        .unwrap_or(Status::Optimal);
    Ok(super::exit_code(worst))
}

/// Every metric key any column has, each once, in the order the columns
/// list them (a key only a later column has goes after its predecessor there).
fn metric_keys(rows: &[Metrics]) -> Vec<(String, String, Unit)> {
    let mut keys: Vec<(String, String, Unit)> = Vec::new();
    for m in rows {
        let mut pos = 0;
        for x in &m.metrics {
            match keys.iter().position(|k| k.0 == x.key) {
                Some(i) => pos = i + 1,
                None => {
                    keys.insert(pos, (x.key.clone(), x.label.clone(), x.unit));
                    pos += 1;
                }
            }
        }
    }
    keys
}

/// The side-by-side table and its JSON form.
/// With `raw`, differences get columns of their own and cells stay numbers
/// (CSV, workbooks); otherwise they are shown in brackets.
pub fn comparison(columns: &[Column], top: usize, raw: bool) -> (Table, serde_json::Value) {
    // Countries: every country any column uses, then the top N per stage.
    let mut all = stage_countries(&columns[0].plan);
    for c in &columns[1..] {
        for (i, (_, list)) in stage_countries(&c.plan).into_iter().enumerate() {
            for country in list {
                if !all[i].1.contains(&country) {
                    all[i].1.push(country);
                }
            }
        }
    }
    // Stock key years of every column's plan, so the rows are the same.
    let mut stock_years: Vec<i64> = columns
        .iter()
        .flat_map(|c| crate::report::metrics::stock_key_years(&c.plan))
        .collect();
    stock_years.sort_unstable();
    stock_years.dedup();
    let full: Vec<Metrics> = columns
        .iter()
        .map(|c| metrics(&c.plan, &c.outcome, &all, &stock_years))
        .collect();
    let mut shown = all.clone();
    for (i, (stage, list)) in all.iter().enumerate() {
        let mut ranked: Vec<(String, f64)> = list
            .iter()
            .map(|country| {
                let key = format!("{stage}.{country}");
                let best = full
                    .iter()
                    .filter_map(|m| {
                        m.metrics
                            .iter()
                            .find(|x| x.key == key)
                            .and_then(|x| x.value)
                    })
                    .fold(0.0, f64::max);
                (country.clone(), best)
            })
            .filter(|(_, v)| *v > 0.0)
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        shown[i].1 = ranked.into_iter().take(top).map(|(c, _)| c).collect();
    }
    let rows: Vec<Metrics> = columns
        .iter()
        .map(|c| metrics(&c.plan, &c.outcome, &shown, &stock_years))
        .collect();

    let mut headers: Vec<String> = vec!["metric".into()];
    for (j, c) in columns.iter().enumerate() {
        headers.push(c.name.clone());
        if raw && j > 0 {
            headers.push(format!("{} − {}", c.name, columns[0].name));
        }
    }
    let header_refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    let mut table = Table::new(
        "compare",
        format!(
            "Comparison of {} (difference against {} in brackets)",
            columns[0].plan.name, columns[0].name
        ),
        &header_refs,
    );
    let mut status_row = vec![Cell::text("status")];
    for (j, m) in rows.iter().enumerate() {
        status_row.push(Cell::text(m.status.name()));
        if raw && j > 0 {
            status_row.push(Cell::Empty);
        }
    }
    table.rows.push(status_row);
    if columns.iter().any(|c| c.description.is_some()) {
        let mut row = vec![Cell::text("description")];
        for (j, c) in columns.iter().enumerate() {
            row.push(Cell::text(c.description.clone().unwrap_or_default()));
            if raw && j > 0 {
                row.push(Cell::Empty);
            }
        }
        table.rows.push(row);
    }
    // Every row is one metric key; each cell is looked up by that key, so a
    // metric a column lacks (e.g. a share rule only one scenario has) is an
    // empty cell, never another metric's value.
    let keys = metric_keys(&rows);
    let value_of = |m: &Metrics, key: &str| {
        m.metrics
            .iter()
            .find(|x| x.key == key)
            .and_then(|x| x.value)
    };
    for (key, label, unit) in &keys {
        let values: Vec<Option<f64>> = rows.iter().map(|m| value_of(m, key)).collect();
        let zero = values.iter().all(|v| v.is_none_or(|v| v.abs() < 1e-12));
        // Rows zero everywhere say nothing: "elsewhere" shares always, cost
        // parts of a feature no column uses in the terminal and Markdown.
        if zero
            && (key.ends_with(".other")
                || (!raw && key.starts_with("cost.") && key != "cost.total"))
        {
            continue;
        }
        let mut row = vec![Cell::text(label.clone())];
        for (j, v) in values.iter().enumerate() {
            let cell = format_value(*unit, *v);
            if raw {
                row.push(cell);
                if j > 0 {
                    row.push(match (v, values[0]) {
                        (Some(v), Some(first)) => format_value(*unit, Some(v - first)),
                        _ => Cell::Empty,
                    });
                }
                continue;
            }
            let cell = match (j, v, values[0]) {
                (j, Some(v), Some(first)) if j > 0 => {
                    let d = v - first;
                    if d.abs() > 1e-9 * first.abs().max(1.0) {
                        Cell::Figure(format!("{} ({})", cell.display(), format_delta(*unit, d)))
                    } else {
                        cell
                    }
                }
                _ => cell,
            };
            row.push(cell);
        }
        table.rows.push(row);
    }
    let json = serde_json::json!({
        "columns": columns.iter().zip(&rows).map(|(c, m)| serde_json::json!({
            "name": c.name,
            "description": c.description,
            "status": m.status,
            "metrics": m.metrics.iter().map(|x| (x.key.clone(), serde_json::json!(x.value))).collect::<serde_json::Map<_, _>>(),
            "difference": m.metrics.iter().map(|x| {
                let d = match (x.value, value_of(&rows[0], &x.key)) {
                    (Some(v), Some(f)) => Some(v - f),
                    _ => None,
                };
                (x.key.clone(), serde_json::json!(d))
            }).collect::<serde_json::Map<_, _>>(),
        })).collect::<Vec<_>>(),
        "labels": keys.iter().map(|(k, l, _)| (k.clone(), serde_json::json!(l))).collect::<serde_json::Map<_, _>>(),
    });
    (table, json)
}
