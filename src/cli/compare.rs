//! `reeplan compare`: the base plan and its scenarios side by side.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::{MetricArgs, OutputArgs, PlanArgs, SolverArgs};
use crate::error::Error;
use crate::plan::Plan;
use crate::report::metrics::{self, metrics, stage_countries, Metric, Metrics, Unit};
use crate::report::{thousands, Cell, Note, Table};
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
    metrics: MetricArgs,
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

fn format_delta(unit: Unit, v: f64) -> String {
    let sign = if v > 0.0 { "+" } else { "" };
    match unit {
        Unit::Share => format!("{sign}{:.1} pp", v * 100.0),
        Unit::Tonnes => format!("{sign}{}", thousands(v, 1)),
        Unit::Money | Unit::MoneyPerTonne => format!("{sign}{}", thousands(v, 0)),
    }
}

/// A value for people, with its difference against the first column's
/// `first` in brackets when there is one: `120,000 (+20,000)`.
fn with_difference(unit: Unit, v: Option<f64>, first: Option<f64>) -> Cell {
    let cell = metrics::cell(unit, v);
    match (v, first) {
        (Some(v), Some(first)) if (v - first).abs() > 1e-9 * first.abs().max(1.0) => Cell::Figure(
            format!("{} ({})", cell.display(), format_delta(unit, v - first)),
        ),
        _ => cell,
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
    // Load every plan first, so a bad scenario name or metric key fails
    // before any solve.
    let plans = names
        .iter()
        .map(|name| source.plan_with(name.as_deref(), &overrides))
        .collect::<Result<Vec<_>, _>>()?;
    let known = known_metrics(&plans);
    let known: Vec<&str> = known.iter().map(String::as_str).collect();
    let selection = metrics::select(&args.metrics.metrics, &known)?;
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
    let compared = compare(&columns, args.top, &selection);
    let json = compared.json(&columns);
    // On a terminal, short labels with a unit column, the descriptions as a
    // legend, and as many columns side by side as the screen takes; every
    // other format keeps all columns in one table with the full labels.
    let tables = match args.output.format {
        super::Format::Table => crate::report::fit_width(
            compared.terminal_table(&columns),
            2,
            crate::report::terminal_width(),
        ),
        super::Format::Csv | super::Format::Xlsx => vec![compared.table(&columns, true)],
        _ => vec![compared.table(&columns, false)],
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
fn metric_keys(rows: &[Metrics]) -> Vec<Metric> {
    let mut keys: Vec<Metric> = Vec::new();
    for m in rows {
        let mut pos = 0;
        for x in &m.metrics {
            match keys.iter().position(|k| k.key == x.key) {
                Some(i) => pos = i + 1,
                None => {
                    keys.insert(
                        pos,
                        Metric {
                            value: None,
                            ..x.clone()
                        },
                    );
                    pos += 1;
                }
            }
        }
    }
    keys
}

/// Every country any column's plan has at each stage.
fn all_countries<'a>(
    mut plans: impl Iterator<Item = &'a Plan>,
) -> [(&'static str, Vec<String>); 3] {
    let mut all = plans.next().map(stage_countries).unwrap_or_default();
    for plan in plans {
        for (i, (_, list)) in stage_countries(plan).into_iter().enumerate() {
            for country in list {
                if !all[i].1.contains(&country) {
                    all[i].1.push(country);
                }
            }
        }
    }
    all
}

/// Stock key years of every column's plan, so the rows are the same.
fn all_stock_years<'a>(plans: impl Iterator<Item = &'a Plan>) -> Vec<i64> {
    let mut years: Vec<i64> = plans
        .flat_map(crate::report::metrics::stock_key_years)
        .collect();
    years.sort_unstable();
    years.dedup();
    years
}

/// The metric keys `--metrics` may name: every key any column can show
/// (every country of every stage, not only the top ones), known before
/// anything is solved.
fn known_metrics(plans: &[Plan]) -> Vec<String> {
    let all = all_countries(plans.iter());
    let stock_years = all_stock_years(plans.iter());
    let unsolved: Vec<Metrics> = plans
        .iter()
        .map(|p| {
            let empty = crate::Outcome::empty(p, Status::Error, Default::default());
            metrics(p, &empty, &all, &stock_years)
        })
        .collect();
    metric_keys(&unsolved).into_iter().map(|m| m.key).collect()
}

/// What `compare` shows, before any layout: each column's metrics, and the
/// metric rows in order (without values). `selection`: the keys
/// `--metrics` named (empty: every row).
pub struct Compared {
    metrics: Vec<Metrics>,
    rows: Vec<Metric>,
    selection: Vec<String>,
}

/// The metrics of every column: the top `top` countries per stage (by their
/// largest share in any column) and any country `selection` names.
pub fn compare(columns: &[Column], top: usize, selection: &[String]) -> Compared {
    let all = all_countries(columns.iter().map(|c| &c.plan));
    let stock_years = all_stock_years(columns.iter().map(|c| &c.plan));
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
                    .filter_map(|m| m.value(&key))
                    .fold(0.0, f64::max);
                (country.clone(), best)
            })
            .filter(|(_, v)| *v > 0.0)
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut picked: Vec<String> = ranked.into_iter().take(top).map(|(c, _)| c).collect();
        for c in list {
            if selection.contains(&format!("{stage}.{c}")) && !picked.contains(c) {
                picked.push(c.clone());
            }
        }
        shown[i].1 = picked;
    }
    let metrics: Vec<Metrics> = columns
        .iter()
        .map(|c| metrics(&c.plan, &c.outcome, &shown, &stock_years))
        .collect();
    let every = metric_keys(&metrics);
    let rows = if selection.is_empty() {
        every
    } else {
        selection
            .iter()
            .filter_map(|key| every.iter().find(|m| &m.key == key).cloned())
            .collect()
    };
    Compared {
        metrics,
        rows,
        selection: selection.to_vec(),
    }
}

impl Compared {
    /// The value of `key` in column `j`.
    fn value(&self, j: usize, key: &str) -> Option<f64> {
        self.metrics[j].value(key)
    }

    /// The rows a table shows: without `--metrics`, rows zero everywhere
    /// say nothing and are left out: "elsewhere" shares always, cost parts
    /// of a feature no column uses unless `raw` (CSV, workbooks).
    fn shown_rows(&self, raw: bool) -> impl Iterator<Item = &Metric> {
        self.rows.iter().filter(move |m| {
            if !self.selection.is_empty() {
                return true;
            }
            let zero = (0..self.metrics.len())
                .all(|j| self.value(j, &m.key).is_none_or(|v| v.abs() < 1e-12));
            let says_nothing = m.key.ends_with(".other")
                || (!raw && m.key.starts_with("cost.") && m.key != "cost.total");
            !(zero && says_nothing)
        })
    }

    /// The side-by-side table with the full labels, metrics by row and
    /// columns by column (Markdown, HTML; with `raw`, CSV and workbooks).
    /// With `raw`, differences get columns of their own and cells stay
    /// numbers; otherwise they are shown in brackets.
    pub fn table(&self, columns: &[Column], raw: bool) -> Table {
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
        // Text rows: a difference column stays empty.
        let text_row = |label: &str, cells: Vec<String>| -> Vec<Cell> {
            let mut row = vec![Cell::text(label)];
            for (j, c) in cells.into_iter().enumerate() {
                row.push(Cell::text(c));
                if raw && j > 0 {
                    row.push(Cell::Empty);
                }
            }
            row
        };
        table.rows.push(text_row(
            "status",
            self.metrics
                .iter()
                .map(|m| m.status.name().into())
                .collect(),
        ));
        if columns.iter().any(|c| c.description.is_some()) {
            table.rows.push(text_row(
                "description",
                columns
                    .iter()
                    .map(|c| c.description.clone().unwrap_or_default())
                    .collect(),
            ));
        }
        // Every row is one metric key; each cell is looked up by that key,
        // so a metric a column lacks (e.g. a share rule only one scenario
        // has) is an empty cell, never another metric's value.
        for m in self.shown_rows(raw) {
            let first = self.value(0, &m.key);
            let mut row = vec![Cell::text(m.label.clone())];
            for j in 0..columns.len() {
                let v = self.value(j, &m.key);
                if !raw {
                    row.push(with_difference(m.unit, v, first.filter(|_| j > 0)));
                    continue;
                }
                row.push(metrics::cell(m.unit, v));
                if j > 0 {
                    row.push(match (v, first) {
                        (Some(v), Some(first)) => metrics::cell(m.unit, Some(v - first)),
                        _ => Cell::Empty,
                    });
                }
            }
            table.rows.push(row);
        }
        table
    }

    /// The table for the terminal: short labels and a unit column, so that
    /// many columns fit side by side; each column's description is a note
    /// under the table (its legend).
    pub fn terminal_table(&self, columns: &[Column]) -> Table {
        let mut headers: Vec<&str> = vec!["metric", "unit"];
        headers.extend(columns.iter().map(|c| c.name.as_str()));
        let mut table = Table::new(
            "compare",
            format!(
                "Comparison of {} (difference against {} in brackets)",
                columns[0].plan.name, columns[0].name
            ),
            &headers,
        );
        let mut status = vec![Cell::text("status"), Cell::text("")];
        status.extend(self.metrics.iter().map(|m| Cell::text(m.status.name())));
        table.rows.push(status);
        for m in self.shown_rows(false) {
            let first = self.value(0, &m.key);
            let mut row = vec![
                Cell::text(m.short.clone()),
                Cell::text(m.unit_label.clone()),
            ];
            row.extend(
                (0..columns.len()).map(|j| {
                    with_difference(m.unit, self.value(j, &m.key), first.filter(|_| j > 0))
                }),
            );
            table.rows.push(row);
        }
        table.notes = columns
            .iter()
            .filter_map(|c| {
                Some(Note {
                    column: Some(c.name.clone()),
                    text: c.description.clone()?,
                })
            })
            .collect();
        table
    }

    /// The JSON form: per column its status, metrics and differences
    /// against the first column, and every metric's label.
    pub fn json(&self, columns: &[Column]) -> serde_json::Value {
        let picked =
            |key: &str| self.selection.is_empty() || self.selection.iter().any(|k| k == key);
        let labels: serde_json::Map<_, _> = self
            .rows
            .iter()
            .map(|m| (m.key.clone(), serde_json::json!(m.label)))
            .collect();
        serde_json::json!({
            "columns": columns.iter().zip(&self.metrics).map(|(c, m)| serde_json::json!({
                "name": c.name,
                "description": c.description,
                "status": m.status,
                "metrics": m.metrics.iter().filter(|x| picked(&x.key)).map(|x| (x.key.clone(), serde_json::json!(x.value))).collect::<serde_json::Map<_, _>>(),
                "difference": m.metrics.iter().filter(|x| picked(&x.key)).map(|x| {
                    let d = match (x.value, self.value(0, &x.key)) {
                        (Some(v), Some(f)) => Some(v - f),
                        _ => None,
                    };
                    (x.key.clone(), serde_json::json!(d))
                }).collect::<serde_json::Map<_, _>>(),
            })).collect::<Vec<_>>(),
            "labels": labels,
        })
    }
}
