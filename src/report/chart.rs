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

/// Something that can draw itself on any plotters backend. It draws and
/// nothing more: the document is finished (`present`) once, by [`render`],
/// after every part of the picture is drawn; an SVG closed early would have
/// the rest drawn after its root element.
trait Draw {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String>;
}

/// Render pictures of `size` stacked one above the other, with the backend
/// the file name asks for; returns the file's bytes. An SVG is one document:
/// each picture is a nested `<svg>` placed at its offset.
fn render<D: Draw>(path: &Path, size: (u32, u32), pictures: &[D]) -> Result<Vec<u8>, Error> {
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
            let height = size.1 * pictures.len().max(1) as u32;
            let root = BitMapBackend::new(tmp.path(), (size.0, height)).into_drawing_area();
            root.fill(&WHITE).map_err(chart_error)?;
            let areas = root.split_evenly((pictures.len().max(1), 1));
            for (picture, area) in pictures.iter().zip(&areas) {
                picture.draw(area).map_err(chart_error)?;
            }
            root.present().map_err(chart_error)?;
        }
        std::fs::read(tmp.path()).map_err(|e| Error::io(tmp.path(), e))
    } else {
        let documents = pictures
            .iter()
            .map(|picture| svg_document(size, picture))
            .collect::<Result<Vec<_>, _>>()?;
        let svg = match documents.as_slice() {
            [one] => one.clone(),
            _ => stack_svg(size, &documents)?,
        };
        Ok(svg.into_bytes())
    }
}

/// One picture as a whole SVG document (one `<svg>` root, closed once).
fn svg_document(size: (u32, u32), picture: &impl Draw) -> Result<String, Error> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        picture.draw(&root).map_err(chart_error)?;
        root.present().map_err(chart_error)?;
    }
    Ok(svg)
}

/// SVG documents of `size` stacked into one: an outer `<svg>` root holding
/// each document's content in a nested `<svg class="panel">` at its offset
/// (the nested element keeps the panel's own coordinates).
fn stack_svg(size: (u32, u32), documents: &[String]) -> Result<String, Error> {
    let (w, h) = size;
    let total = h * documents.len() as u32;
    let mut out = format!(
        "<svg width=\"{w}\" height=\"{total}\" viewBox=\"0 0 {w} {total}\" xmlns=\"http://www.w3.org/2000/svg\">\n"
    );
    for (i, doc) in documents.iter().enumerate() {
        let y = h * i as u32;
        out.push_str(&format!(
            "<svg class=\"panel\" x=\"0\" y=\"{y}\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">\n"
        ));
        out.push_str(svg_content(doc)?);
        out.push_str("</svg>\n");
    }
    out.push_str("</svg>\n");
    Ok(out)
}

/// What is inside the root element of an SVG document plotters wrote: the
/// text between its `<svg ...>` start tag and its closing `</svg>`.
fn svg_content(doc: &str) -> Result<&str, Error> {
    let malformed = || chart_error("the SVG backend wrote an unexpected document");
    let body = doc.trim_end().strip_prefix("<svg ").ok_or_else(malformed)?;
    let body = body.strip_suffix("</svg>").ok_or_else(malformed)?;
    // Attribute values are escaped (no raw `>`), so the first `>` ends the tag.
    let start_end = body.find('>').ok_or_else(malformed)?;
    Ok(body[start_end + 1..].trim_start_matches('\n'))
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
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
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
        let mut chart = ChartBuilder::on(root)
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
        Ok(())
    }
}

/// A line chart (sweeps, frontiers).
pub fn line_chart(path: &Path, chart: &LineChart) -> Result<Vec<u8>, Error> {
    render(path, (1200, 750), std::slice::from_ref(chart))
}

/// Several line charts, stacked one above the other in one picture.
pub fn panels(path: &Path, charts: &[LineChart]) -> Result<Vec<u8>, Error> {
    render(path, (1200, 650), charts)
}

// ---------------------------------------------------------------- colours

/// The colour of a country, the same in every chart and report: a fixed
/// colour for the countries the shipped models use (China and the other
/// usual concern countries in reds), any other code hashed into a palette.
pub fn country_color(code: &str) -> RGBColor {
    match code {
        "CN" => RGBColor(214, 39, 40),
        "RU" => RGBColor(165, 15, 21),
        "MM" => RGBColor(240, 110, 90),
        "KP" => RGBColor(120, 10, 30),
        "IR" => RGBColor(200, 80, 60),
        "US" => RGBColor(31, 119, 180),
        "AU" => RGBColor(44, 160, 44),
        "JP" => RGBColor(148, 103, 189),
        "MY" => RGBColor(23, 190, 207),
        "EE" => RGBColor(140, 86, 75),
        "FR" => RGBColor(0, 64, 128),
        "DE" => RGBColor(102, 102, 0),
        "BR" => RGBColor(188, 189, 34),
        "VN" => RGBColor(255, 127, 14),
        "TH" => RGBColor(227, 119, 194),
        "NG" => RGBColor(0, 128, 96),
        "ROW" => RGBColor(127, 127, 127),
        _ => {
            // FNV-1a: stable across runs and platforms.
            let mut h: u32 = 0x811c_9dc5;
            for b in code.bytes() {
                h = (h ^ b as u32).wrapping_mul(0x0100_0193);
            }
            EXTRA_COLORS[h as usize % EXTRA_COLORS.len()]
        }
    }
}

const EXTRA_COLORS: [RGBColor; 8] = [
    RGBColor(174, 199, 232),
    RGBColor(152, 223, 138),
    RGBColor(197, 176, 213),
    RGBColor(196, 156, 148),
    RGBColor(158, 218, 229),
    RGBColor(219, 219, 141),
    RGBColor(255, 187, 120),
    RGBColor(90, 90, 160),
];

/// `#rrggbb` of a country's colour (for HTML).
pub fn country_hex(code: &str) -> String {
    let RGBColor(r, g, b) = country_color(code);
    format!("#{r:02x}{g:02x}{b:02x}")
}

// ---------------------------------------------------------------- flow chart

/// What each column of the flow chart measures.
pub const FLOW_STAGES: [&str; 4] = [
    "t REO mined",
    "t REO separated",
    "t magnet made",
    "t magnet delivered",
];

/// One box of the flow chart.
#[derive(Clone, Debug)]
pub struct FlowNode {
    /// 0 mines, 1 refineries, 2 magnet plants, 3 markets.
    pub stage: usize,
    pub id: String,
    pub country: String,
    /// What the stage measures (see [`FLOW_STAGES`]) in the year shown.
    pub tonnes: f64,
    /// Markets: t magnet of demand not met (drawn as a grey box below).
    pub unmet: f64,
    pub label: String,
    pub y: f64,
    pub h: f64,
    /// Height of the unmet part (markets), below `y + h`.
    pub unmet_h: f64,
    /// A stockpile: `"added"` (stock taken in, drawn where the product
    /// arrives) or `"drawn"` (stock released, drawn where it leaves from).
    pub stock: Option<&'static str>,
    /// Capacity the plan built at this facility that exists this year (t/yr).
    pub built: f64,
}

/// One band: tonnes shipped from one node to the next column.
#[derive(Clone, Debug)]
pub struct FlowBand {
    pub from: usize,
    pub to: usize,
    pub tonnes: f64,
    /// Top and height of the band at its source and at its target.
    pub y_from: f64,
    pub h_from: f64,
    pub y_to: f64,
    pub h_to: f64,
}

/// The flow chart of one year as plain geometry: nodes with their labels,
/// bands, legend. Drawn by [`flow_chart`] (SVG or PNG) and [`flow_svg`].
#[derive(Clone, Debug)]
pub struct FlowLayout {
    pub title: String,
    pub size: (u32, u32),
    pub xs: [f64; 4],
    pub node_w: f64,
    pub nodes: Vec<FlowNode>,
    pub bands: Vec<FlowBand>,
    /// Countries shown, concern countries first, with "(concern)" marked.
    pub legend: Vec<(String, String)>,
}

/// Thinnest band drawn, in pixels, so that small flows stay visible.
pub const MIN_BAND: f64 = 3.0;

/// Lay out the flow (Sankey) diagram of `year`: mines → refineries →
/// magnet plants → markets. Each node is labelled with what its stage
/// measures (t REO mined, t REO separated, t magnet made, t magnet
/// delivered); each column is scaled on its own so it fills the height;
/// each band takes its share of the node it leaves and of the node it
/// enters, and is at least [`MIN_BAND`] thick.
pub fn flow_layout(plan: &Plan, o: &Outcome, year: i64) -> FlowLayout {
    let country = |id: &str| plan.country_of(id).unwrap_or_default().to_string();
    // (stage of the source, from, to, tonnes at the source's unit)
    let mut links: Vec<(usize, String, String, f64)> = Vec::new();
    for f in o.flows.concentrate.iter().filter(|f| f.year == year) {
        links.push((0, f.from.clone(), f.to.clone(), f.tonnes));
    }
    let mut oxide: BTreeMap<(String, String), f64> = BTreeMap::new();
    for f in o.flows.oxide.iter().filter(|f| f.year == year) {
        *oxide.entry((f.from.clone(), f.to.clone())).or_default() += f.tonnes;
    }
    for ((a, b), t) in oxide {
        links.push((1, a, b, t));
    }
    for f in o.flows.magnet.iter().filter(|f| f.year == year) {
        links.push((2, f.from.clone(), f.to.clone(), f.tonnes));
    }
    // What each node measures: mines their concentrate out, refineries
    // their concentrate in, plants their magnets out, markets magnets in.
    let mut measure: [BTreeMap<String, f64>; 4] = Default::default();
    let mut present: [BTreeMap<String, ()>; 4] = Default::default();
    // Stockpiles appear twice: where their intake arrives ("added", in the
    // column after the shipper) and where their releases leave from
    // ("drawn", in the column before the receiver), measured in t of their
    // product.
    for (s, a, b, t) in &links {
        present[*s].insert(a.clone(), ());
        present[*s + 1].insert(b.clone(), ());
        match s {
            0 => {
                *measure[0].entry(a.clone()).or_default() += t;
                *measure[1].entry(b.clone()).or_default() += t;
            }
            1 => {
                if plan.is_stockpile(a) {
                    *measure[1].entry(a.clone()).or_default() += t;
                }
                if plan.is_stockpile(b) {
                    *measure[2].entry(b.clone()).or_default() += t;
                }
            }
            2 => {
                *measure[2].entry(a.clone()).or_default() += t;
                *measure[3].entry(b.clone()).or_default() += t;
            }
            _ => {}
        }
    }
    let stock_of = |stage: usize, id: &str| -> Option<(&'static str, String)> {
        let s = plan.stockpiles.iter().find(|s| s.id == id)?;
        let (what, added_at) = match s.product {
            crate::plan::StockProduct::Oxide(e) => (format!("{} oxide", plan.elements[e].name), 2),
            crate::plan::StockProduct::Magnet => ("magnet".to_string(), 3),
        };
        Some((if stage == added_at { "added" } else { "drawn" }, what))
    };
    // Capacity the plan built that exists in `year`, per facility.
    let mut built: BTreeMap<String, f64> = BTreeMap::new();
    for b in &o.builds {
        let exists = plan
            .facilities()
            .find(|f| f.id == b.facility)
            .is_some_and(|f| f.built_exists(b.year, year));
        if exists {
            *built.entry(b.facility.clone()).or_default() += b.capacity;
        }
    }
    let mut unmet: BTreeMap<String, f64> = BTreeMap::new();
    for u in o.unmet.iter().filter(|u| u.year == year) {
        *unmet.entry(u.market.clone()).or_default() += u.tonnes;
        present[3].insert(u.market.clone(), ());
    }

    let size = (1500u32, 950u32);
    let (top, bottom) = (90.0, size.1 as f64 - 110.0);
    let usable = bottom - top;
    let xs = [60.0, 450.0, 840.0, 1230.0];
    let gap = 8.0;
    let mut nodes: Vec<FlowNode> = Vec::new();
    let mut index: [BTreeMap<String, usize>; 4] = Default::default();
    for stage in 0..4 {
        let mut ids: Vec<&String> = present[stage].keys().collect();
        let t_of =
            |id: &str| measure[stage].get(id).copied().unwrap_or(0.0) + unmet_of(&unmet, stage, id);
        // Concern countries first, then by country, then the biggest first.
        ids.sort_by(|a, b| {
            let (ca, cb) = (country(a), country(b));
            (!plan.is_concern(&ca), ca)
                .cmp(&(!plan.is_concern(&cb), cb))
                .then(t_of(b).total_cmp(&t_of(a)))
                .then(a.cmp(b))
        });
        let n = ids.len() as f64;
        let total: f64 = ids.iter().map(|id| t_of(id)).sum();
        let avail = (usable - gap * (n - 1.0).max(0.0)).max(n * MIN_BAND);
        // Bands in and out per node, for the minimum heights.
        let bands_at = |id: &str, outgoing: bool| {
            links
                .iter()
                .filter(|(s, a, b, _)| {
                    if outgoing {
                        *s == stage && a == id
                    } else {
                        *s + 1 == stage && b == id
                    }
                })
                .count() as f64
        };
        let min_h = |id: &str| {
            let bands = bands_at(id, true).max(bands_at(id, false));
            (bands * MIN_BAND).max(MIN_BAND)
        };
        // Scale so the column fits, with small nodes raised to their minimum.
        let mut k = avail / total.max(1e-12);
        for _ in 0..3 {
            let h: f64 = ids.iter().map(|id| (t_of(id) * k).max(min_h(id))).sum();
            if h > avail {
                k *= avail / h;
            }
        }
        let mut y = top;
        for id in ids {
            let c = country(id);
            let t = measure[stage].get(id.as_str()).copied().unwrap_or(0.0);
            let short = unmet_of(&unmet, stage, id);
            let stock = stock_of(stage, id);
            let built_here = if stock.is_none() {
                built.get(id.as_str()).copied().unwrap_or(0.0)
            } else {
                0.0
            };
            let label = if let Some((how, what)) = &stock {
                format!(
                    "{id} ({c}) stock: {} t {what} {how}",
                    super::thousands(t, 0)
                )
            } else if stage == 3 {
                let mut l = format!("{id} {} {}", super::thousands(t, 0), FLOW_STAGES[3]);
                if short > 0.0 {
                    l.push_str(&format!(", {} t unmet", super::thousands(short, 0)));
                }
                l
            } else {
                let mut l = format!(
                    "{id} ({c}) {} {}",
                    super::thousands(t, 0),
                    FLOW_STAGES[stage]
                );
                if built_here > 0.0 {
                    l.push_str(&format!(
                        " · {} t/yr built",
                        super::thousands(built_here, 0)
                    ));
                }
                l
            };
            let whole = (t_of(id) * k).max(min_h(id));
            let unmet_h = if short > 0.0 {
                (short * k).max(MIN_BAND).min(whole)
            } else {
                0.0
            };
            index[stage].insert(id.clone(), nodes.len());
            nodes.push(FlowNode {
                stage,
                id: id.clone(),
                country: c,
                tonnes: t,
                unmet: short,
                label,
                y,
                h: whole - unmet_h,
                unmet_h,
                stock: stock.map(|(how, _)| how),
                built: built_here,
            });
            y += whole + gap;
        }
    }
    // Bands: each end takes its share of the node (at least MIN_BAND).
    let mut bands: Vec<FlowBand> = links
        .iter()
        .filter_map(|(s, a, b, t)| {
            Some(FlowBand {
                from: *index[*s].get(a)?,
                to: *index[*s + 1].get(b)?,
                tonnes: *t,
                y_from: 0.0,
                h_from: 0.0,
                y_to: 0.0,
                h_to: 0.0,
            })
        })
        .collect();
    bands.sort_by_key(|b| (b.from, b.to));
    for (i, node) in nodes.iter().enumerate() {
        for outgoing in [true, false] {
            let mine: Vec<usize> = (0..bands.len())
                .filter(|&j| {
                    if outgoing {
                        bands[j].from == i
                    } else {
                        bands[j].to == i
                    }
                })
                .collect();
            let tonnes: Vec<f64> = mine.iter().map(|&j| bands[j].tonnes).collect();
            let raw = band_heights(&tonnes, node.h);
            let mut y = node.y;
            // Bands to (or from) higher nodes first, so they cross less.
            let mut order: Vec<usize> = (0..mine.len()).collect();
            order.sort_by_key(|&m| {
                let b = &bands[mine[m]];
                if outgoing {
                    b.to
                } else {
                    b.from
                }
            });
            for m in order {
                let h = raw[m];
                let b = &mut bands[mine[m]];
                if outgoing {
                    b.y_from = y;
                    b.h_from = h;
                } else {
                    b.y_to = y;
                    b.h_to = h;
                }
                y += h;
            }
        }
    }
    let mut countries: Vec<String> = nodes.iter().map(|n| n.country.clone()).collect();
    countries.sort();
    countries.dedup();
    countries.sort_by_key(|c| !plan.is_concern(c));
    let legend = countries
        .iter()
        .map(|c| {
            let label = if plan.is_concern(c) {
                format!("{c} (concern)")
            } else {
                c.clone()
            };
            (c.clone(), label)
        })
        .collect();
    let title = format!(
        "{} — flows in {year}{}",
        o.plan,
        o.scenario
            .as_ref()
            .map(|s| format!(" (scenario {s})"))
            .unwrap_or_default()
    );
    FlowLayout {
        title,
        size,
        xs,
        node_w: 18.0,
        nodes,
        bands,
        legend,
    }
}

/// Split a node's height `h` among its bands in proportion to tonnes, each
/// at least [`MIN_BAND`]: the bands that would be thinner get the minimum and
/// the others share what is left (the node is at least that tall).
fn band_heights(tonnes: &[f64], h: f64) -> Vec<f64> {
    let mut fixed = vec![false; tonnes.len()];
    loop {
        let n_fixed = fixed.iter().filter(|f| **f).count() as f64;
        let free_t: f64 = tonnes
            .iter()
            .zip(&fixed)
            .filter(|(_, f)| !**f)
            .map(|(t, _)| t)
            .sum();
        let left = (h - n_fixed * MIN_BAND).max(0.0);
        let mut changed = false;
        let out: Vec<f64> = tonnes
            .iter()
            .zip(fixed.iter_mut())
            .map(|(t, f)| {
                if *f {
                    return MIN_BAND;
                }
                let v = if free_t > 0.0 { t / free_t * left } else { 0.0 };
                if v < MIN_BAND {
                    *f = true;
                    changed = true;
                }
                v.max(MIN_BAND)
            })
            .collect();
        if !changed {
            return out;
        }
    }
}

fn unmet_of(unmet: &BTreeMap<String, f64>, stage: usize, id: &str) -> f64 {
    if stage == 3 {
        unmet.get(id).copied().unwrap_or(0.0)
    } else {
        0.0
    }
}

/// The outline of a band: a smooth S from its source end to its target end.
fn band_polygon(l: &FlowLayout, b: &FlowBand) -> Vec<(f64, f64)> {
    let from = &l.nodes[b.from];
    let to = &l.nodes[b.to];
    let x0 = l.xs[from.stage] + l.node_w;
    let x1 = l.xs[to.stage];
    let steps = 24;
    let at = |t: f64, ya: f64, yb: f64| {
        let s = t * t * (3.0 - 2.0 * t);
        (x0 + (x1 - x0) * t, ya + (yb - ya) * s)
    };
    let mut poly = Vec::new();
    for i in 0..=steps {
        poly.push(at(i as f64 / steps as f64, b.y_from, b.y_to));
    }
    for i in (0..=steps).rev() {
        poly.push(at(
            i as f64 / steps as f64,
            b.y_from + b.h_from,
            b.y_to + b.h_to,
        ));
    }
    poly
}

const UNMET_COLOR: RGBColor = RGBColor(200, 200, 200);
const STAGE_HEADS: [&str; 4] = [
    "Mines (t REO mined)",
    "Separation (t REO separated)",
    "Magnet plants (t magnet made)",
    "Markets (t magnet delivered)",
];
const FOOTNOTE: &str = "Band width ∝ tonnes within each column (thinnest bands drawn at 3 px); colour = country of the shipping facility; grey = unmet demand.";
const FOOTNOTE_INSTRUMENTS: &str = "Pale boxes with a black edge = stockpiles (stock added where it arrives, drawn where it leaves); black edge = a facility with capacity the plan builds.";

/// Draw the flow diagram of `year`: SVG, or PNG when `path` ends in `.png`.
pub fn flow_chart(plan: &Plan, o: &Outcome, year: i64, path: &Path) -> Result<Vec<u8>, Error> {
    let layout = flow_layout(plan, o, year);
    render(path, layout.size, std::slice::from_ref(&layout))
}

/// The flow diagram of `year` as an SVG document (for HTML reports).
pub fn flow_svg(plan: &Plan, o: &Outcome, year: i64) -> Result<String, Error> {
    let bytes = flow_chart(plan, o, year, Path::new("flows.svg"))?;
    String::from_utf8(bytes).map_err(chart_error)
}

impl Draw for FlowLayout {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        let (xs, size, node_w) = (self.xs, self.size, self.node_w);
        root.fill(&WHITE).map_err(e)?;
        root.draw(&Text::new(
            self.title.clone(),
            (40, 20),
            (FONT, 28).into_font().style(FontStyle::Bold),
        ))
        .map_err(e)?;
        for (i, head) in STAGE_HEADS.iter().enumerate() {
            root.draw(&Text::new(
                head.to_string(),
                (xs[i] as i32 - 20, 60),
                (FONT, 18).into_font(),
            ))
            .map_err(e)?;
        }
        for b in &self.bands {
            let color = country_color(&self.nodes[b.from].country);
            let poly: Vec<(i32, i32)> = band_polygon(self, b)
                .into_iter()
                .map(|(x, y)| (x.round() as i32, y.round() as i32))
                .collect();
            root.draw(&Polygon::new(poly, color.mix(0.45).filled()))
                .map_err(e)?;
        }
        let per_column = |stage: usize| self.nodes.iter().filter(|n| n.stage == stage).count();
        for n in &self.nodes {
            let (x, y) = (xs[n.stage] as i32, n.y.round() as i32);
            let y1 = (n.y + n.h).round() as i32;
            let corners = [(x, y), (x + node_w as i32, y1.max(y + 1))];
            let fill = if n.stock.is_some() {
                country_color(&n.country).mix(0.35).filled()
            } else {
                country_color(&n.country).filled()
            };
            root.draw(&Rectangle::new(corners, fill)).map_err(e)?;
            if n.stock.is_some() || n.built > 0.0 {
                root.draw(&Rectangle::new(corners, BLACK.stroke_width(2)))
                    .map_err(e)?;
            }
            if n.unmet_h > 0.0 {
                let y2 = (n.y + n.h + n.unmet_h).round() as i32;
                root.draw(&Rectangle::new(
                    [(x, y1), (x + node_w as i32, y2.max(y1 + 1))],
                    UNMET_COLOR.filled(),
                ))
                .map_err(e)?;
            }
            let ly = (n.y + (n.h + n.unmet_h) / 2.0) as i32 - 7;
            if n.h + n.unmet_h >= 10.0 || per_column(n.stage) <= 30 {
                root.draw(&Text::new(
                    n.label.clone(),
                    (x + node_w as i32 + 6, ly),
                    (FONT, 13).into_font(),
                ))
                .map_err(e)?;
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
        let unmet = ("".to_string(), "unmet demand".to_string());
        let any_unmet = self.nodes.iter().any(|n| n.unmet > 0.0);
        for (code, label) in self.legend.iter().chain(any_unmet.then_some(&unmet)) {
            let color = if code.is_empty() {
                UNMET_COLOR
            } else {
                country_color(code)
            };
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
            FOOTNOTE.to_string(),
            (40, size.1 as i32 - 30),
            (FONT, 14).into_font().color(&RGBColor(90, 90, 90)),
        ))
        .map_err(e)?;
        if self
            .nodes
            .iter()
            .any(|n| n.stock.is_some() || n.built > 0.0)
        {
            root.draw(&Text::new(
                FOOTNOTE_INSTRUMENTS.to_string(),
                (40, size.1 as i32 - 12),
                (FONT, 14).into_font().color(&RGBColor(90, 90, 90)),
            ))
            .map_err(e)?;
        }
        Ok(())
    }
}
