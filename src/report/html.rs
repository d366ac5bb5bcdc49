//! One self-contained HTML report (`--format html`): inline styles, inline
//! SVG charts, no scripts and nothing fetched from the network.

use super::{Cell, Table};

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:1560px;padding:0 1em;color:#222}\
h1{font-size:1.6em}h2{font-size:1.15em;margin-top:1.8em}\
table{border-collapse:collapse;margin:.5em 0 1em;font-size:.9em}\
th,td{border:1px solid #ccc;padding:.25em .6em;vertical-align:top}\
th{background:#f2f2f2;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}\
tr.total td{font-weight:bold;border-top:2px solid #888}\
figure{margin:1em 0}figure svg{max-width:100%;height:auto;border:1px solid #ddd}\
figcaption{color:#555;font-size:.9em}p.note{color:#555;font-size:.85em}\
pre{white-space:pre-wrap;font-size:.85em;background:#fafafa;border:1px solid #eee;padding:.6em}dt{font-weight:bold}dd{margin:0 0 .5em 1.5em}";

/// A figure: an SVG document and its caption.
pub struct Figure {
    pub caption: String,
    pub svg: String,
}

fn table_html(t: &Table, out: &mut String) {
    out.push_str(&format!(
        "<section class=\"table\" id=\"{}\">\n<h2>{}</h2>\n",
        esc(&t.name),
        esc(&t.title)
    ));
    if t.rows.is_empty() && t.footer.is_empty() {
        out.push_str("<p>(none)</p>\n</section>\n");
        return;
    }
    out.push_str("<table>\n<thead><tr>");
    for h in &t.headers {
        out.push_str(&format!("<th>{}</th>", esc(h)));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for (rows, class) in [(&t.rows, ""), (&t.footer, " class=\"total\"")] {
        for row in rows {
            out.push_str(&format!("<tr{class}>"));
            for c in row {
                let num = if c.is_numeric() { " class=\"num\"" } else { "" };
                let text = match c {
                    Cell::Empty => "–".to_string(),
                    c => c.display(),
                };
                out.push_str(&format!("<td{num}>{}</td>", esc(&text)));
            }
            out.push_str("</tr>\n");
        }
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}

/// Strip an XML declaration or doctype so the SVG can sit inside HTML.
fn inline_svg(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => svg,
    }
}

/// The whole page: a title, the tables in order, then the figures.
pub fn page(title: &str, tables: &[Table], figures: &[Figure]) -> String {
    page_with_front(title, tables, figures, None)
}

/// [`page`] with a front page first: the executive summary, then (after
/// the summary table and the charts) the plan's notes, a glossary and the
/// run's date and command at the end.
pub fn page_with_front(
    title: &str,
    tables: &[Table],
    figures: &[Figure],
    front: Option<&super::brief::Front>,
) -> String {
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str(&format!("<title>{}</title>\n", esc(title)));
    out.push_str(&format!("<style>{STYLE}</style>\n</head>\n<body>\n"));
    out.push_str(&format!("<h1>{}</h1>\n", esc(title)));
    if let Some(f) = front {
        out.push_str("<section id=\"executive-summary\">\n<h2>Executive summary</h2>\n<ul>\n");
        for line in &f.summary {
            out.push_str(&format!("<li>{}</li>\n", esc(line)));
        }
        out.push_str("</ul>\n</section>\n");
    }
    let (first, rest) = tables.split_at(tables.len().min(1));
    for t in first {
        table_html(t, &mut out);
    }
    // Charts right after the summary: they are what a reader looks at first.
    for f in figures {
        out.push_str(&format!(
            "<figure class=\"chart\">\n{}\n<figcaption>{}</figcaption>\n</figure>\n",
            inline_svg(&f.svg),
            esc(&f.caption)
        ));
    }
    for t in rest {
        table_html(t, &mut out);
    }
    if let Some(f) = front {
        if let Some(about) = &f.about {
            out.push_str(&format!(
                "<section id=\"about\">\n<h2>About this plan: its question, model and sources (the plan file's own notes)</h2>\n<pre>{}</pre>\n</section>\n",
                esc(about)
            ));
        }
        out.push_str("<section id=\"glossary\">\n<h2>Glossary</h2>\n<dl>\n");
        for (term, meaning) in &f.glossary {
            out.push_str(&format!(
                "<dt>{}</dt><dd>{}</dd>\n",
                esc(term),
                esc(meaning)
            ));
        }
        out.push_str("</dl>\n</section>\n");
        out.push_str(&format!("<p class=\"note\">{}</p>\n", esc(&f.run)));
    }
    out.push_str(&format!(
        "<p class=\"note\">Written by reeplan {}.</p>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION")
    ));
    out
}

/// A horizontal bar chart as SVG (e.g. total cost per scenario).
pub fn bar_chart(title: &str, unit: &str, bars: &[(String, f64)]) -> String {
    let label_w = 220.0;
    let bar_h = 26.0;
    let width = 1000.0;
    let top = 50.0;
    let height = top + bars.len() as f64 * (bar_h + 10.0) + 30.0;
    let max = bars
        .iter()
        .map(|(_, v)| v.abs())
        .fold(0.0, f64::max)
        .max(1e-12);
    let scale = (width - label_w - 200.0) / max;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\">\
<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\
<text x=\"20\" y=\"30\" font-family=\"sans-serif\" font-size=\"20\" font-weight=\"bold\">{}</text>",
        esc(title)
    );
    for (i, (name, v)) in bars.iter().enumerate() {
        let y = top + i as f64 * (bar_h + 10.0);
        let w = (v.abs() * scale).max(1.0);
        s.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" font-family=\"sans-serif\" font-size=\"14\" text-anchor=\"end\">{}</text>\
<rect class=\"bar\" x=\"{label_w}\" y=\"{y}\" width=\"{w:.1}\" height=\"{bar_h}\" fill=\"#1f77b4\"/>\
<text x=\"{:.1}\" y=\"{}\" font-family=\"sans-serif\" font-size=\"14\">{} {}</text>",
            label_w - 10.0,
            y + bar_h * 0.7,
            esc(name),
            label_w + w + 8.0,
            y + bar_h * 0.7,
            super::thousands(*v, 0),
            esc(unit)
        ));
    }
    s.push_str("</svg>");
    s
}
