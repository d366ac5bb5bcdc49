//! Charts for reports (plotters): line charts for sweeps and frontiers and a
//! flow (Sankey) diagram of one year's allocation. SVG by default; PNG when
//! the file name ends in `.png` (text drawn with the bundled DejaVu Sans).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::error::Error;
use crate::outcome::Outcome;
use crate::plan::Plan;

const FONT: &str = "sans-serif";
static FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

fn register_font() {
    REGISTER.call_once(|| {
        // The font is bundled and known to parse; a failure would only lose text.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES);
        let _ = plotters::style::register_font(FONT, FontStyle::Bold, FONT_BYTES);
    });
}

fn chart_error(e: impl std::fmt::Display) -> Error {
    Error::Output(format!("drawing the chart failed: {e}"))
}

/// Something that can draw itself on any plotters backend.
trait Draw {
    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> Result<(), String>;
}

/// Render with the backend the file name asks for; returns the file's bytes.
fn render(path: &Path, size: (u32, u32), chart: &impl Draw) -> Result<Vec<u8>, Error> {
    register_font();
    let png = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("png"));
    if png {
        let tmp = tempfile::Builder::new()
            .suffix(".png")
            .tempfile()
            .map_err(|e| Error::io(std::env::temp_dir(), e))?;
        {
            let root = BitMapBackend::new(tmp.path(), size).into_drawing_area();
            chart.draw(root).map_err(chart_error)?;
        }
        std::fs::read(tmp.path()).map_err(|e| Error::io(tmp.path(), e))
    } else {
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
            chart.draw(root).map_err(chart_error)?;
        }
        Ok(svg.into_bytes())
    }
}

/// One line of a line chart.
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// How an axis' numbers are written.
#[derive(Clone, Copy)]
pub enum AxisFormat {
    Plain,
    Percent,
    Thousands,
}

fn fmt_axis(v: f64, f: AxisFormat) -> String {
    match f {
        AxisFormat::Percent => trim_number(v * 100.0, 1) + " %",
        AxisFormat::Thousands => compact(v),
        AxisFormat::Plain => {
            if v.abs() >= 10_000.0 {
                compact(v)
            } else {
                trim_number(v, 4)
            }
        }
    }
}

/// `0.30000000000000004` → `0.3`.
fn trim_number(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" {
        "0".into()
    } else {
        s
    }
}

/// Large money figures on an axis: `136.4 bn`, `12.5 M`, `45,000`.
fn compact(v: f64) -> String {
    let a = v.abs();
    if a >= 1e9 {
        format!("{} bn", trim_number(v / 1e9, 2))
    } else if a >= 1e6 {
        format!("{} M", trim_number(v / 1e6, 2))
    } else {
        super::thousands(v, 0)
    }
}

pub struct LineChart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub x_format: AxisFormat,
    pub y_format: AxisFormat,
    pub series: Vec<Series>,
}

const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(23, 190, 207),
    RGBColor(188, 189, 34),
    RGBColor(127, 127, 127),
];

impl Draw for LineChart {
    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> Result<(), String> {
        let c = self;
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let pts = c.series.iter().flat_map(|s| s.points.iter());
        let (mut x0, mut x1, mut y0, mut y1) = (
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
        );
        for &(x, y) in pts {
            if x.is_finite() && y.is_finite() {
                x0 = x0.min(x);
                x1 = x1.max(x);
                y0 = y0.min(y);
                y1 = y1.max(y);
            }
        }
        if !x0.is_finite() {
            (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
        }
        if x1 <= x0 {
            x1 = x0 + 1.0;
        }
        let pad = ((y1 - y0).abs() * 0.08).max(y1.abs() * 0.02).max(1e-9);
        let (y0, y1) = (y0 - pad, y1 + pad);
        let mut chart = ChartBuilder::on(&root)
            .caption(&c.title, (FONT, 26))
            .margin(20)
            .x_label_area_size(60)
            .y_label_area_size(110)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(|e| e.to_string())?;
        let (xf, yf) = (c.x_format, c.y_format);
        chart
            .configure_mesh()
            .x_desc(&c.x_label)
            .y_desc(&c.y_label)
            .x_label_formatter(&|v| fmt_axis(*v, xf))
            .y_label_formatter(&|v| fmt_axis(*v, yf))
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 18))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(|e| e.to_string())?;
        for (i, s) in c.series.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            let points: Vec<(f64, f64)> = s
                .points
                .iter()
                .copied()
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .collect();
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(3)))
                .map_err(|e| e.to_string())?
                .label(s.name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3))
                });
            chart
                .draw_series(points.iter().map(|&p| Circle::new(p, 4, color.filled())))
                .map_err(|e| e.to_string())?;
        }
        chart
            .configure_series_labels()
            .label_font((FONT, 16))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())
    }
}

/// A line chart (sweeps, frontiers).
pub fn line_chart(path: &Path, chart: &LineChart) -> Result<Vec<u8>, Error> {
    render(path, (1200, 750), chart)
}

/// Line charts stacked one above the other in one picture.
struct Panels<'a>(&'a [LineChart]);

impl Draw for Panels<'_> {
    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> Result<(), String> {
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let areas = root.split_evenly((self.0.len().max(1), 1));
        for (chart, area) in self.0.iter().zip(areas) {
            chart.draw(area)?;
        }
        root.present().map_err(|e| e.to_string())
    }
}

/// Several line charts, stacked.
pub fn panels(path: &Path, charts: &[LineChart]) -> Result<Vec<u8>, Error> {
    let height = 650 * charts.len().max(1) as u32;
    render(path, (1200, height), &Panels(charts))
}

// ---------------------------------------------------------------- flow chart

struct Node {
    label: String,
    country: String,
    /// Band units in and out (each stage scaled on its own).
    inflow: f64,
    outflow: f64,
    tonnes_label: String,
    y: f64,
    h: f64,
    in_cursor: f64,
    out_cursor: f64,
}

const CONCERN_COLORS: [RGBColor; 3] = [
    RGBColor(214, 39, 40),
    RGBColor(240, 110, 90),
    RGBColor(165, 15, 21),
];
const CLEAN_COLORS: [RGBColor; 14] = [
    RGBColor(31, 119, 180),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(23, 190, 207),
    RGBColor(140, 86, 75),
    RGBColor(188, 189, 34),
    RGBColor(255, 127, 14),
    RGBColor(127, 127, 127),
    RGBColor(0, 64, 128),
    RGBColor(0, 128, 96),
    RGBColor(227, 119, 194),
    RGBColor(102, 102, 0),
    RGBColor(174, 199, 232),
    RGBColor(152, 223, 138),
];

fn country_colors(plan: &Plan, countries: &[String]) -> BTreeMap<String, RGBColor> {
    let (mut ci, mut ni) = (0, 0);
    let mut out = BTreeMap::new();
    for c in countries {
        let color = if plan.is_concern(c) {
            ci += 1;
            CONCERN_COLORS[(ci - 1) % CONCERN_COLORS.len()]
        } else {
            ni += 1;
            CLEAN_COLORS[(ni - 1) % CLEAN_COLORS.len()]
        };
        out.insert(c.clone(), color);
    }
    out
}

struct Link {
    from: (usize, usize),
    to: (usize, usize),
    units: f64,
}

/// Flow (Sankey) diagram of `year`: mines → refineries → magnet plants →
/// markets; band width ∝ tonnes within each stage; colour = country of the
/// shipping facility, concern countries in reds.
pub fn flow_chart(plan: &Plan, o: &Outcome, year: i64, path: &Path) -> Result<Vec<u8>, Error> {
    // Columns of nodes, keyed by id.
    let mut columns: [BTreeMap<String, Node>; 4] = Default::default();
    let country = |id: &str| plan.country_of(id).unwrap_or_default().to_string();
    let mut raw_links: Vec<(usize, String, String, f64)> = Vec::new();
    for f in o.flows.concentrate.iter().filter(|f| f.year == year) {
        raw_links.push((0, f.from.clone(), f.to.clone(), f.tonnes));
    }
    let mut oxide: BTreeMap<(String, String), f64> = BTreeMap::new();
    for f in o.flows.oxide.iter().filter(|f| f.year == year) {
        *oxide.entry((f.from.clone(), f.to.clone())).or_default() += f.tonnes;
    }
    for ((a, b), t) in oxide {
        raw_links.push((1, a, b, t));
    }
    for f in o.flows.magnet.iter().filter(|f| f.year == year) {
        raw_links.push((2, f.from.clone(), f.to.clone(), f.tonnes));
    }
    // Scale each stage so its total fills the same height.
    let mut stage_total = [0.0f64; 3];
    for (s, _, _, t) in &raw_links {
        stage_total[*s] += t;
    }
    let mut tonnes_in: [BTreeMap<String, f64>; 4] = Default::default();
    let mut tonnes_out: [BTreeMap<String, f64>; 4] = Default::default();
    for (s, a, b, t) in &raw_links {
        *tonnes_out[*s].entry(a.clone()).or_default() += t;
        *tonnes_in[*s + 1].entry(b.clone()).or_default() += t;
        let units = t / stage_total[*s].max(1e-12);
        for (col, id, is_out) in [(*s, a, true), (*s + 1, b, false)] {
            let node = columns[col].entry(id.clone()).or_insert_with(|| Node {
                label: id.clone(),
                country: country(id),
                inflow: 0.0,
                outflow: 0.0,
                tonnes_label: String::new(),
                y: 0.0,
                h: 0.0,
                in_cursor: 0.0,
                out_cursor: 0.0,
            });
            if is_out {
                node.outflow += units;
            } else {
                node.inflow += units;
            }
        }
    }
    let units_name = ["t REO", "t REO in", "t magnet", "t magnet"];
    for (col, nodes) in columns.iter_mut().enumerate() {
        for (id, n) in nodes.iter_mut() {
            let t = if col == 0 {
                tonnes_out[0].get(id).copied().unwrap_or(0.0)
            } else {
                tonnes_in[col].get(id).copied().unwrap_or(0.0)
            };
            n.tonnes_label = format!("{} {}", super::thousands(t, 0), units_name[col]);
        }
    }
    let mut countries: Vec<String> = columns
        .iter()
        .flat_map(|c| c.values().map(|n| n.country.clone()))
        .collect();
    countries.sort();
    countries.dedup();
    // Concern countries first in the legend.
    countries.sort_by_key(|c| !plan.is_concern(c));
    let colors = country_colors(plan, &countries);

    let size = (1500u32, 950u32);
    let (top, bottom) = (90.0, size.1 as f64 - 110.0);
    let usable = bottom - top;
    let xs = [60.0, 450.0, 840.0, 1230.0];
    let node_w = 18.0;
    // Layout: order by (concern first, country, size); heights share `usable` minus gaps.
    let mut order: [Vec<String>; 4] = Default::default();
    for (col, nodes) in columns.iter_mut().enumerate() {
        let mut ids: Vec<&Node> = nodes.values().collect();
        ids.sort_by(|a, b| {
            (!plan.is_concern(&a.country), &a.country)
                .cmp(&(!plan.is_concern(&b.country), &b.country))
                .then(b.inflow.max(b.outflow).total_cmp(&a.inflow.max(a.outflow)))
        });
        order[col] = ids.iter().map(|n| n.label.clone()).collect();
        let gap = 8.0;
        let n = order[col].len() as f64;
        let total_units: f64 = nodes.values().map(|n| n.inflow.max(n.outflow)).sum();
        let scale = (usable - gap * (n - 1.0).max(0.0)) / total_units.max(1e-12);
        let mut y = top;
        for id in &order[col] {
            if let Some(node) = nodes.get_mut(id) {
                node.h = (node.inflow.max(node.outflow) * scale).max(2.0);
                node.y = y;
                y += node.h + gap;
            }
        }
    }
    // Band height per unit: the same scale as the column it leaves.
    let band_scale: Vec<f64> = (0..4)
        .map(|col| {
            let nodes = &columns[col];
            let n = nodes.len() as f64;
            let total_units: f64 = nodes.values().map(|n| n.inflow.max(n.outflow)).sum();
            (usable - 8.0 * (n - 1.0).max(0.0)) / total_units.max(1e-12)
        })
        .collect();
    let mut links = Vec::new();
    for (s, a, b, t) in &raw_links {
        let fi = order[*s].iter().position(|x| x == a).unwrap_or(0);
        let ti = order[*s + 1].iter().position(|x| x == b).unwrap_or(0);
        links.push(Link {
            from: (*s, fi),
            to: (*s + 1, ti),
            units: t / stage_total[*s].max(1e-12),
        });
    }
    // Stable band order: by target position.
    links.sort_by_key(|l| (l.from.0, l.from.1, l.to.1));

    // Resolve geometry of every band before drawing.
    let mut bands = Vec::new();
    for l in &links {
        let h_out = l.units * band_scale[l.from.0].min(band_scale[l.to.0]);
        let from_id = order[l.from.0][l.from.1].clone();
        let to_id = order[l.to.0][l.to.1].clone();
        let (y_from, color) = {
            let n = columns[l.from.0]
                .get_mut(&from_id)
                .ok_or_else(|| chart_error("flow chart layout"))?;
            let y = n.y + n.out_cursor;
            n.out_cursor += h_out;
            (y, colors.get(&n.country).copied().unwrap_or(PALETTE[7]))
        };
        let y_to = {
            let n = columns[l.to.0]
                .get_mut(&to_id)
                .ok_or_else(|| chart_error("flow chart layout"))?;
            let y = n.y + n.in_cursor;
            n.in_cursor += h_out;
            y
        };
        let x0 = xs[l.from.0] + node_w;
        let x1 = xs[l.to.0];
        let steps = 24;
        let curve = |t: f64, ya: f64, yb: f64| {
            // Smoothstep between the two ends.
            let s = t * t * (3.0 - 2.0 * t);
            (x0 + (x1 - x0) * t, ya + (yb - ya) * s)
        };
        let mut poly = Vec::new();
        for i in 0..=steps {
            let (x, y) = curve(i as f64 / steps as f64, y_from, y_to);
            poly.push((x as i32, y as i32));
        }
        for i in (0..=steps).rev() {
            let (x, y) = curve(i as f64 / steps as f64, y_from + h_out, y_to + h_out);
            poly.push((x as i32, (y.max(y + 1.0)) as i32));
        }
        bands.push(Band { poly, color });
    }

    let title = format!(
        "{} — flows in {year}{}",
        o.plan,
        o.scenario
            .as_ref()
            .map(|s| format!(" (scenario {s})"))
            .unwrap_or_default()
    );
    let legend: Vec<(String, RGBColor)> = countries
        .iter()
        .map(|c| {
            let label = if plan.is_concern(c) {
                format!("{c} (concern)")
            } else {
                c.clone()
            };
            (label, colors.get(c).copied().unwrap_or(PALETTE[7]))
        })
        .collect();
    let nodes: Vec<Vec<NodeBox>> = columns
        .iter()
        .map(|col| {
            col.values()
                .map(|n| NodeBox {
                    label: format!("{} ({}) {}", n.label, n.country, n.tonnes_label),
                    color: colors.get(&n.country).copied().unwrap_or(PALETTE[7]),
                    y: n.y,
                    h: n.h,
                })
                .collect()
        })
        .collect();
    let drawing = FlowDrawing {
        title,
        size,
        xs,
        node_w,
        nodes,
        bands,
        legend,
    };
    render(path, size, &drawing)
}

struct NodeBox {
    label: String,
    color: RGBColor,
    y: f64,
    h: f64,
}

struct Band {
    poly: Vec<(i32, i32)>,
    color: RGBColor,
}

struct FlowDrawing {
    title: String,
    size: (u32, u32),
    xs: [f64; 4],
    node_w: f64,
    nodes: Vec<Vec<NodeBox>>,
    bands: Vec<Band>,
    legend: Vec<(String, RGBColor)>,
}

impl Draw for FlowDrawing {
    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> Result<(), String> {
        let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        let (xs, size, node_w) = (self.xs, self.size, self.node_w);
        root.fill(&WHITE).map_err(e)?;
        root.draw(&Text::new(
            self.title.clone(),
            (40, 20),
            (FONT, 28).into_font().style(FontStyle::Bold),
        ))
        .map_err(e)?;
        for (i, head) in [
            "Mines (t REO)",
            "Separation (t REO in)",
            "Magnet plants (t magnet)",
            "Markets (t magnet)",
        ]
        .iter()
        .enumerate()
        {
            root.draw(&Text::new(
                head.to_string(),
                (xs[i] as i32 - 20, 60),
                (FONT, 18).into_font(),
            ))
            .map_err(e)?;
        }
        for b in &self.bands {
            root.draw(&Polygon::new(b.poly.clone(), b.color.mix(0.45).filled()))
                .map_err(e)?;
        }
        for (col, nodes) in self.nodes.iter().enumerate() {
            for n in nodes {
                let (x, y) = (xs[col] as i32, n.y as i32);
                root.draw(&Rectangle::new(
                    [(x, y), (x + node_w as i32, (n.y + n.h) as i32)],
                    n.color.filled(),
                ))
                .map_err(e)?;
                let ly = (n.y + n.h / 2.0) as i32 - 7;
                if n.h >= 10.0 || nodes.len() <= 30 {
                    root.draw(&Text::new(
                        n.label.clone(),
                        (x + node_w as i32 + 6, ly),
                        (FONT, 13).into_font(),
                    ))
                    .map_err(e)?;
                }
            }
        }
        // Legend: country colours, concern countries marked.
        let mut x = 40;
        let y = size.1 as i32 - 70;
        root.draw(&Text::new(
            "Country of the shipping facility:".to_string(),
            (x, y - 24),
            (FONT, 15).into_font(),
        ))
        .map_err(e)?;
        for (label, color) in &self.legend {
            root.draw(&Rectangle::new([(x, y), (x + 18, y + 18)], color.filled()))
                .map_err(e)?;
            root.draw(&Text::new(
                label.clone(),
                (x + 24, y + 1),
                (FONT, 15).into_font(),
            ))
            .map_err(e)?;
            x += 30 + 9 * label.chars().count() as i32;
        }
        root.draw(&Text::new(
            "Band width is proportional to tonnes within each stage (t REO, t oxide, t magnet)."
                .to_string(),
            (40, size.1 as i32 - 30),
            (FONT, 14).into_font().color(&RGBColor(90, 90, 90)),
        ))
        .map_err(e)?;
        root.present().map_err(e)
    }
}
