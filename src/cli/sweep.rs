//! `reeplan sweep`: one solve per point of a grid of `--set` values, solved
//! in parallel, one output row per point in a stable order; `--shard K/N`
//! splits the grid across batch jobs.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::{Format, MetricArgs, OutputArgs, SolverArgs};
use crate::error::Error;
use crate::plan::Override;
use crate::report::chart::{self, AxisFormat, LineChart, Series};
use crate::report::metrics::{self, metrics, stage_countries, Metric, Metrics};
use crate::report::{Cell, Note, Table};
use crate::solve::{SolverOptions, Status};
use crate::variants::{Reuse, Variants};

#[derive(Args)]
pub struct SweepArgs {
    /// The plan file (TOML).
    plan: PathBuf,
    /// PATH=V1,V2,... or PATH=START:STOP:STEP (STOP included), repeatable:
    /// several make a grid (the first varies slowest). A single value is a
    /// fixed override.
    #[arg(long = "set", value_name = "PATH=VALUES", required = true)]
    set: Vec<String>,
    /// Sweep this scenario of the plan instead of the base plan.
    #[arg(long, short = 's', value_name = "NAME")]
    scenario: Option<String>,
    /// Solve only points K, K+N, K+2N, ... (0 <= K < N). Rows carry their
    /// point number; the CSV header is written by shard 0 only, so the
    /// shards' outputs concatenated hold exactly the unsharded rows
    /// (`reeplan merge` sorts them back). `auto`: K and N from a Slurm job
    /// array or a Kubernetes Indexed Job (with REEPLAN_SHARD_COUNT).
    #[arg(long, value_name = "K/N|auto")]
    shard: Option<String>,
    /// Points solved at once (default: one per core).
    #[arg(long, short = 'j', value_name = "N")]
    jobs: Option<usize>,
    /// Solve every point from scratch instead of starting HiGHS from the
    /// first point's optimal basis (implies --rebuild).
    #[arg(long)]
    cold: bool,
    /// Build every point's model anew and start it from the first point's
    /// optimal basis, instead of changing costs and bounds in the live
    /// model of the previous point. Slower, but each point's row is then
    /// the same with or without --shard (live models give the same optimum
    /// and costs, but where several flows are optimal they may pick
    /// another one, and last digits may differ; any --jobs gives the same
    /// rows either way).
    #[arg(long)]
    rebuild: bool,
    /// Draw total cost (and each share rule's achieved share) against the
    /// first swept value: SVG, or PNG when FILE ends in .png.
    #[arg(long, value_name = "FILE")]
    chart: Option<PathBuf>,
    #[command(flatten)]
    metrics: MetricArgs,
    #[command(flatten)]
    output: OutputArgs,
    #[command(flatten)]
    solver: SolverArgs,
}

/// One swept path and its values (as written, for TOML parsing).
struct Axis {
    path: String,
    values: Vec<String>,
}

fn parse_axis(spec: &str) -> Result<Axis, Error> {
    let Some((path, values)) = spec.split_once('=') else {
        return Err(Error::Usage(format!(
            "--set {spec}: expected PATH=V1,V2,... or PATH=START:STOP:STEP"
        )));
    };
    let path = path.trim().to_string();
    let values = values.trim();
    if crate::grid::looks_like_range(values) {
        let range = crate::grid::parse(values, false, 100_000)
            .map_err(|e| Error::Usage(format!("--set {spec}: {e}")))?;
        return Ok(Axis {
            path,
            values: range.texts(),
        });
    }
    let values: Vec<String> = values.split(',').map(|v| v.trim().to_string()).collect();
    if values.iter().any(String::is_empty) {
        return Err(Error::Usage(format!(
            "--set {spec}: an empty value in the list"
        )));
    }
    Ok(Axis { path, values })
}

/// The most points one sweep may have, all shards together.
pub const MAX_POINTS: usize = 1_000_000;

/// The number of points of the grid (the product of the axes' lengths),
/// refused above [`MAX_POINTS`] before anything is built.
fn grid_size(axes: &[Axis]) -> Result<usize, Error> {
    let total = axes
        .iter()
        .try_fold(1usize, |n, a| n.checked_mul(a.values.len()))
        .filter(|&n| n <= MAX_POINTS);
    total.ok_or_else(|| {
        let sizes: Vec<String> = axes.iter().map(|a| a.values.len().to_string()).collect();
        Error::Usage(format!(
            "--set: the grid has {} points, more than the {MAX_POINTS} a sweep may have \
             (use fewer values or a coarser step)",
            sizes.join(" × ")
        ))
    })
}

/// Point `index` of the grid (the first axis varies slowest): the index of
/// each axis' value. Computed on demand, so a shard builds only its points.
fn grid_point(axes: &[Axis], mut index: usize) -> Vec<usize> {
    let mut point = vec![0; axes.len()];
    for (slot, axis) in point.iter_mut().zip(axes).rev() {
        let n = axis.values.len().max(1);
        *slot = index % n;
        index /= n;
    }
    point
}

struct PointResult {
    index: usize,
    values: Vec<String>,
    metrics: Result<Metrics, String>,
}

pub fn run(args: &SweepArgs) -> Result<ExitCode, Error> {
    if args.jobs == Some(0) {
        return Err(Error::Usage(
            "--jobs 0: must be at least 1 (leave it out for one per core)".into(),
        ));
    }
    let mut options: SolverOptions = args.solver.options()?;
    args.output.check()?;
    for s in &args.set {
        super::warn_if_percent(s);
    }
    let axes: Vec<Axis> = args
        .set
        .iter()
        .map(|s| parse_axis(s))
        .collect::<Result<_, _>>()?;
    super::no_repeated_paths("--set", axes.iter().map(|a| a.path.as_str()))?;
    let shard = args
        .shard
        .as_deref()
        .map(super::shard::parse_shard)
        .transpose()?;
    let total = grid_size(&axes)?;
    if let Some(path) = &args.chart {
        super::output::check_chart(path, args.output.out.as_deref())?;
    }
    let source = super::load(&args.plan)?;
    // Check every path once, on the base plan, before any solve.
    let base = source.plan_with(args.scenario.as_deref(), &[])?;
    for axis in &axes {
        let o = Override::parse(&format!("{}={}", axis.path, axis.values[0]))?;
        source.plan_with(args.scenario.as_deref(), std::slice::from_ref(&o))?;
    }
    let countries = stage_countries(&base);
    let stock_years = crate::report::metrics::stock_key_years(&base);
    // Every metric of a point, from the plan itself, so every shard writes
    // the same columns; `--metrics` picks among them before any solve.
    let every_metric: Vec<Metric> = metrics(
        &base,
        &crate::Outcome::empty(&base, Status::Error, Default::default()),
        &countries,
        &stock_years,
    )
    .metrics;
    let known: Vec<&str> = every_metric.iter().map(|m| m.key.as_str()).collect();
    let selection = metrics::select(&args.metrics.metrics, &known)?;
    let metric_cols: Vec<Metric> = if selection.is_empty() {
        every_metric.clone()
    } else {
        selection
            .iter()
            .filter_map(|k| every_metric.iter().find(|m| &m.key == k).cloned())
            .collect()
    };
    let selected: Vec<(usize, Vec<usize>)> = match shard {
        Some((k, n)) => (k..total)
            .step_by(n)
            .map(|i| (i, grid_point(&axes, i)))
            .collect(),
        None => (0..total).map(|i| (i, grid_point(&axes, i))).collect(),
    };
    // Points run side by side: one HiGHS thread each unless told otherwise.
    if options.threads.is_none() {
        options.threads = Some(1);
    }
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(selected.len() as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} solving {pos}/{len} points [{bar:30}] {elapsed} (eta {eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let pool = super::start_pool(args.jobs)?;
    // Every point starts from the optimal basis of the grid's first point
    // (in every shard), rebuilt or in live models (crate::variants).
    let reuse = if args.cold {
        Reuse::Cold
    } else if args.rebuild {
        Reuse::Rebuild
    } else {
        Reuse::Live
    };
    let overrides_of = |point: &[usize]| -> Result<Vec<Override>, Error> {
        point
            .iter()
            .zip(&axes)
            .map(|(&i, a)| Override::parse(&format!("{}={}", a.path, a.values[i])))
            .collect()
    };
    let variants = Variants {
        source: &source,
        scenario: args.scenario.as_deref(),
        options: &options,
        reuse,
    };
    let start = variants.anchor_basis(&overrides_of(&vec![0; axes.len()])?);
    let points: Vec<Vec<Override>> = selected
        .iter()
        .map(|(_, p)| overrides_of(p))
        .collect::<Result<_, _>>()?;
    let (metrics_of, live) = variants.solve(&points, start.as_ref(), &pool, |solved| {
        bar.inc(1);
        // A value the plan cannot take is bad input, not a solver failure.
        let bad_input = matches!(solved, Err(Error::Plan(_)));
        let metrics = solved
            .map(|(plan, out)| metrics(&plan, &out, &countries, &stock_years))
            .map_err(|e| e.to_string());
        (metrics, bad_input)
    });
    let (metrics_of, bad): (Vec<Result<Metrics, String>>, Vec<bool>) =
        metrics_of.into_iter().unzip();
    let bad_input = bad.contains(&true);
    if options.verbose && reuse == Reuse::Live {
        eprintln!(
            "reeplan: live models: {} of {} solves changed costs and bounds in the previous point's HiGHS model, {} passed a new model (--rebuild: always a new one)",
            live.updated,
            live.updated + live.passed,
            live.passed
        );
    }
    let mut results: Vec<PointResult> = selected
        .iter()
        .zip(metrics_of)
        .map(|((index, point), metrics)| PointResult {
            index: *index,
            values: point
                .iter()
                .zip(&axes)
                .map(|(&i, a)| a.values[i].clone())
                .collect(),
            metrics,
        })
        .collect();
    bar.finish_and_clear();
    results.sort_by_key(|r| r.index);

    // Columns: point, swept paths, status, then the metrics.
    let mut headers: Vec<String> = vec!["point".into()];
    headers.extend(axes.iter().map(|a| a.path.clone()));
    headers.push("status".into());
    headers.extend(metric_cols.iter().map(|m| m.label.clone()));
    let header_refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    let title = match shard {
        Some((k, n)) => format!("Sweep of {} (shard {k}/{n} of {total} points)", base.name),
        None => format!("Sweep of {} ({total} points)", base.name),
    };
    let mut table = Table::new("sweep", title, &header_refs);
    for r in &results {
        let mut row = vec![Cell::Text(r.index.to_string())];
        row.extend(r.values.iter().map(|v| Cell::text(v.clone())));
        match &r.metrics {
            Ok(m) => {
                row.push(Cell::text(m.status.name()));
                row.extend(metric_cols.iter().map(|c| metric_cell(m, c)));
            }
            Err(e) => {
                row.push(Cell::text(format!("error: {e}")));
                row.extend(metric_cols.iter().map(|_| Cell::Empty));
            }
        }
        table.rows.push(row);
    }

    let mut charts = Vec::new();
    if let Some(path) = &args.chart {
        charts.push((
            path.clone(),
            sweep_chart(path, &axes, &results, &every_metric)?,
        ));
    }
    // The terminal shows the metrics --metrics names, or the main ones.
    let terminal_cols = if selection.is_empty() {
        every_metric
            .iter()
            .filter(|m| shown_by_default(&m.key, &|c: &str| base.is_concern(c)))
            .cloned()
            .collect()
    } else {
        metric_cols.clone()
    };
    let layout = Layout {
        table: &table,
        axes: &axes,
        results: &results,
        metric_cols: &metric_cols,
        every_metric: &every_metric,
        terminal_cols: &terminal_cols,
    };
    emit_sweep(args, &layout, shard, &charts)?;
    let worst = results
        .iter()
        .map(|r| match &r.metrics {
            Ok(m) if m.status == Status::Optimal => Status::Optimal,
            Ok(m) if m.status == Status::Infeasible => Status::Infeasible,
            _ => Status::Error,
        })
        .max_by_key(|s| match s {
            Status::Optimal => 0,
            Status::Infeasible => 1,
            _ => 2,
        })
        .unwrap_or(Status::Optimal);
    // Points with a value the plan cannot take keep their rows (with the
    // reason) and make the run bad input, exit 1, as point 0 would.
    if bad_input {
        return Ok(ExitCode::from(1));
    }
    Ok(super::exit_code(worst))
}

/// What a sweep prints, in every layout.
struct Layout<'a> {
    /// Every column (files, Markdown, HTML).
    table: &'a Table,
    axes: &'a [Axis],
    results: &'a [PointResult],
    /// The metrics of the table and the JSON lines.
    metric_cols: &'a [Metric],
    /// Every metric a point has (for the chart).
    every_metric: &'a [Metric],
    /// The metrics of the terminal table.
    terminal_cols: &'a [Metric],
}

fn emit_sweep(
    args: &SweepArgs,
    layout: &Layout,
    shard: Option<(usize, usize)>,
    charts: &[(PathBuf, Vec<u8>)],
) -> Result<(), Error> {
    let Layout {
        table,
        axes,
        results,
        metric_cols,
        every_metric,
        terminal_cols,
    } = *layout;
    let suffix = shard
        .map(|(k, n)| format!("-shard-{k}-of-{n}"))
        .unwrap_or_default();
    let bytes = match args.output.format {
        Format::Json => {
            // JSON lines: one object per point, so shards concatenate.
            let mut out = String::new();
            for r in results {
                let mut obj = serde_json::Map::new();
                obj.insert("point".into(), serde_json::json!(r.index));
                let values: serde_json::Map<String, serde_json::Value> = axes
                    .iter()
                    .zip(&r.values)
                    .map(|(a, v)| (a.path.clone(), serde_json::json!(v)))
                    .collect();
                obj.insert("set".into(), serde_json::Value::Object(values));
                match &r.metrics {
                    Ok(m) => {
                        obj.insert("status".into(), serde_json::json!(m.status));
                        for c in metric_cols {
                            obj.insert(c.key.clone(), serde_json::json!(m.value(&c.key)));
                        }
                    }
                    Err(e) => {
                        obj.insert("status".into(), serde_json::json!("error"));
                        obj.insert("error".into(), serde_json::json!(e));
                    }
                }
                out.push_str(&serde_json::Value::Object(obj).to_string());
                out.push('\n');
            }
            Some((format!("sweep{suffix}.jsonl"), out.into_bytes()))
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            let e = |e: csv::Error| Error::Output(format!("CSV: {e}"));
            if shard.is_none_or(|(k, _)| k == 0) {
                w.write_record(&table.headers).map_err(e)?;
            }
            for row in &table.rows {
                w.write_record(row.iter().map(Cell::raw)).map_err(e)?;
            }
            let bytes = w
                .into_inner()
                .map_err(|e| Error::Output(format!("CSV: {e}")))?;
            Some((format!("sweep{suffix}.csv"), bytes))
        }
        _ => None,
    };
    match bytes {
        None if args.output.format == Format::Table => {
            let t = terminal_table(table, axes, results, terminal_cols, every_metric.len());
            let tables =
                crate::report::fit_width(t, 1 + axes.len(), crate::report::terminal_width());
            args.output.emit(&tables, &serde_json::Value::Null, charts)
        }
        None if args.output.format == Format::Html => {
            // The sweep's chart, when the first swept value is numeric.
            let figures: Vec<crate::report::html::Figure> = sweep_chart(
                std::path::Path::new("sweep.svg"),
                axes,
                results,
                every_metric,
            )
            .ok()
            .map(|svg| crate::report::html::Figure {
                caption: format!("Total cost and clean shares against {}", axes[0].path),
                svg: String::from_utf8_lossy(&svg).into_owned(),
            })
            .into_iter()
            .collect();
            args.output.emit_report(
                std::slice::from_ref(table),
                &serde_json::Value::Null,
                charts,
                &table.title,
                &figures,
            )
        }
        None => args.output.emit(
            std::slice::from_ref(table),
            &serde_json::Value::Null,
            charts,
        ),
        Some((name, bytes)) => match &args.output.out {
            Some(dir) => {
                let mut files = vec![(name, bytes)];
                for (path, b) in charts {
                    // A bare file name lands in DIR; any other path where it says.
                    if path.is_relative() && path.parent().is_none_or(|p| p.as_os_str().is_empty())
                    {
                        files.push((path.to_string_lossy().into_owned(), b.clone()));
                    } else {
                        super::output::write_file(path, b)?;
                    }
                }
                crate::report::write_atomically(dir, &files)?;
                eprintln!("wrote {} file(s) to {}", files.len(), dir.display());
                Ok(())
            }
            None => {
                for (path, b) in charts {
                    super::output::write_file(path, b)?;
                    eprintln!("wrote {}", path.display());
                }
                crate::fsio::print(&bytes)
            }
        },
    }
}

/// A metric's cell at a solved point.
fn metric_cell(m: &Metrics, c: &Metric) -> Cell {
    metrics::cell(c.unit, m.value(&c.key))
}

/// Whether the terminal shows a metric when --metrics does not say: λ*,
/// total cost, cost per t, unmet demand, each share rule, stock, capacity
/// built per stage and the concern countries' shares per stage.
/// `--format csv` or `json` gives every column.
fn shown_by_default(key: &str, concern: &dyn Fn(&str) -> bool) -> bool {
    let country = ["mining.", "refining.", "magnet."]
        .iter()
        .find_map(|p| key.strip_prefix(p));
    matches!(key, "lambda" | "cost.total" | "cost.per_tonne" | "unmet")
        || key.starts_with("share.")
        || key.starts_with("stock.")
        || (key.starts_with("built.") && key.matches('.').count() == 1)
        || country.is_some_and(concern)
}

/// Each swept path as a column header: its shortest tail of whole
/// segments that is not only digits and that no other path ends with
/// (`tariff.s301.ad_valorem` → `ad_valorem`, `market.us.demand.2030` →
/// `demand.2030`).
fn axis_headers(axes: &[Axis]) -> Vec<String> {
    let ends_with = |path: &str, tail: &str| path == tail || path.ends_with(&format!(".{tail}"));
    axes.iter()
        .map(|a| {
            let segments: Vec<&str> = a.path.split('.').collect();
            (1..=segments.len())
                .map(|k| segments[segments.len() - k..].join("."))
                .find(|tail| {
                    !tail.chars().all(|c| c.is_ascii_digit() || c == '.')
                        && axes
                            .iter()
                            .filter(|b| b.path != a.path)
                            .all(|b| !ends_with(&b.path, tail))
                })
                .unwrap_or_else(|| a.path.clone())
        })
        .collect()
}

/// The sweep for the terminal: one row per point, one column per metric
/// headed by its short label over its unit; the swept paths, any point's
/// error and what was left out are notes under the table.
fn terminal_table(
    table: &Table,
    axes: &[Axis],
    results: &[PointResult],
    cols: &[Metric],
    every: usize,
) -> Table {
    let axis_heads = axis_headers(axes);
    let mut headers: Vec<String> = vec!["point".into()];
    headers.extend(axis_heads.iter().cloned());
    headers.push("status".into());
    headers.extend(
        cols.iter()
            .map(|c| format!("{}\n{}", c.short, c.unit_label)),
    );
    let header_refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    let mut t = Table::new(&table.name, table.title.clone(), &header_refs);
    for r in results {
        let mut row = vec![Cell::Text(r.index.to_string())];
        row.extend(r.values.iter().map(|v| Cell::text(v.clone())));
        match &r.metrics {
            Ok(m) => {
                row.push(Cell::text(m.status.name()));
                row.extend(cols.iter().map(|c| metric_cell(m, c)));
            }
            Err(e) => {
                row.push(Cell::text("error"));
                row.extend(cols.iter().map(|_| Cell::Empty));
                t.notes.push(Note {
                    column: None,
                    text: format!("point {}: {e}", r.index),
                });
            }
        }
        t.rows.push(row);
    }
    for (axis, head) in axes.iter().zip(&axis_heads) {
        if *head != axis.path {
            t.notes.push(Note {
                column: Some(head.clone()),
                text: axis.path.clone(),
            });
        }
    }
    if cols.len() < every {
        t.notes.push(Note {
            column: None,
            text: format!(
                "{} of {every} metrics shown: --metrics KEY,KEY chooses them, \
                 --format csv or json gives them all.",
                cols.len()
            ),
        });
    }
    t
}

fn sweep_chart(
    path: &std::path::Path,
    axes: &[Axis],
    results: &[PointResult],
    metric_cols: &[Metric],
) -> Result<Vec<u8>, Error> {
    let x_of = |r: &PointResult| r.values.first().and_then(|v| v.parse::<f64>().ok());
    if results.iter().any(|r| x_of(r).is_none()) {
        return Err(Error::Usage(format!(
            "--chart: the first swept value ({}) must be numeric to be drawn",
            axes[0].path
        )));
    }
    // One line per combination of the other axes.
    let key = |r: &PointResult| r.values[1..].join(", ");
    let mut groups: Vec<String> = results.iter().map(key).collect();
    groups.dedup();
    groups.sort();
    groups.dedup();
    let series_for = |metric: &str, name_prefix: &str| -> Vec<Series> {
        groups
            .iter()
            .map(|g| Series {
                name: if g.is_empty() {
                    name_prefix.to_string()
                } else {
                    format!("{name_prefix} ({g})")
                },
                points: results
                    .iter()
                    .filter(|r| &key(r) == g)
                    .filter_map(|r| {
                        let x = x_of(r)?;
                        let m = r.metrics.as_ref().ok()?;
                        let y = m.value(metric)?;
                        Some((x, y))
                    })
                    .collect(),
            })
            .collect()
    };
    let cost_label = metric_cols
        .iter()
        .find(|m| m.key == "cost.total")
        .map(|m| m.label.clone())
        .unwrap_or_else(|| "total cost".into());
    let mut panels = vec![LineChart {
        title: format!("Total cost against {}", axes[0].path),
        x_label: axes[0].path.clone(),
        y_label: cost_label,
        x_format: AxisFormat::Plain,
        y_format: AxisFormat::Thousands,
        series: series_for("cost.total", "total cost"),
    }];
    let share_rules: Vec<&str> = metric_cols
        .iter()
        .filter_map(|m| m.key.strip_prefix("share."))
        .collect();
    if !share_rules.is_empty() {
        let mut series = Vec::new();
        for rule in share_rules {
            series.extend(series_for(
                &format!("share.{rule}"),
                &format!("rule {rule}"),
            ));
        }
        panels.push(LineChart {
            title: format!("Clean share achieved against {}", axes[0].path),
            x_label: axes[0].path.clone(),
            y_label: "clean share of t delivered".into(),
            x_format: AxisFormat::Plain,
            y_format: AxisFormat::Percent,
            series,
        });
    }
    chart::panels(path, &panels)
}
