//! Every SVG the tool writes is one well-formed XML document (issue 24): a
//! single `<svg>` root, at most one XML declaration (at the start), and a
//! picture of several panels holds each panel as a nested `<svg
//! class="panel">` at its offset, with that panel's title inside it. Each
//! chart-writing command is run on a small plan and its file (or the SVGs
//! inlined in its `--format html` report) is read with a real XML parser
//! (roxmltree), not searched for substrings. When headless Chromium is
//! installed, a two-panel chart is also loaded in it, which must show no
//! parse error and both panels' titles.

mod common;
use common::run_in;

use std::path::{Path, PathBuf};
use std::process::Command;

const SVG_NS: &str = "http://www.w3.org/2000/svg";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn test_plan(name: &str) -> String {
    root()
        .join("tests/plans")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn model(name: &str) -> String {
    root()
        .join("models")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// Run `reeplan ARGS` in `dir`; it must succeed. Returns stdout.
#[track_caller]
fn ok(dir: &Path, args: &[&str]) -> String {
    let run = run_in(dir, args);
    assert_eq!(
        run.code,
        Some(0),
        "reeplan {}\nstderr:\n{}",
        args.join(" "),
        run.stderr
    );
    run.stdout
}

/// The text of every `<text>` element under `node`, trimmed.
fn texts(node: roxmltree::Node) -> Vec<String> {
    node.descendants()
        .filter(|n| n.has_tag_name((SVG_NS, "text")))
        .map(|n| n.text().unwrap_or_default().trim().to_string())
        .collect()
}

/// Parse `svg` as XML and check it is one SVG picture made of `panels`,
/// each given by the titles drawn in it. One panel: the titles anywhere in
/// the document. Several: one nested `<svg class="panel">` per panel,
/// stacked at equal heights from the top, each holding its own titles.
#[track_caller]
fn assert_svg(what: &str, svg: &str, panels: &[&[&str]]) {
    let decls = svg.matches("<?xml").count();
    assert!(
        decls == 0 || (decls == 1 && svg.starts_with("<?xml")),
        "{what}: an XML declaration other than one at the start"
    );
    let doc = roxmltree::Document::parse(svg)
        .unwrap_or_else(|e| panic!("{what}: not well-formed XML: {e}"));
    let svg_root = doc.root_element();
    assert!(
        svg_root.has_tag_name((SVG_NS, "svg")),
        "{what}: the root element is {:?}, not an SVG <svg>",
        svg_root.tag_name()
    );
    let nested: Vec<roxmltree::Node> = svg_root
        .children()
        .filter(|n| n.has_tag_name((SVG_NS, "svg")))
        .collect();
    if panels.len() == 1 {
        assert!(nested.is_empty(), "{what}: one picture, no nested panels");
        let found = texts(svg_root);
        for title in panels[0] {
            assert!(
                found.iter().any(|t| t == title),
                "{what}: title {title:?} not drawn; texts: {found:?}"
            );
        }
        return;
    }
    assert_eq!(nested.len(), panels.len(), "{what}: one <svg> per panel");
    let attr = |n: &roxmltree::Node, name: &str| -> f64 {
        n.attribute(name)
            .unwrap_or_else(|| panic!("{what}: a panel without {name}"))
            .parse()
            .unwrap_or_else(|e| panic!("{what}: a panel's {name}: {e}"))
    };
    let height = attr(&svg_root, "height");
    let panel_h = height / panels.len() as f64;
    for (i, (panel, titles)) in nested.iter().zip(panels).enumerate() {
        assert_eq!(panel.attribute("class"), Some("panel"), "{what}");
        assert_eq!(attr(panel, "x"), 0.0, "{what}: panel {i}");
        assert_eq!(attr(panel, "y"), panel_h * i as f64, "{what}: panel {i}");
        assert_eq!(attr(panel, "height"), panel_h, "{what}: panel {i}");
        assert_eq!(
            attr(panel, "width"),
            attr(&svg_root, "width"),
            "{what}: panel {i}"
        );
        let found = texts(*panel);
        for title in *titles {
            assert!(
                found.iter().any(|t| t == title),
                "{what}: panel {i} has no title {title:?}; its texts: {found:?}"
            );
        }
    }
}

/// The SVGs inlined in an HTML report, one per `<figure class="chart">`.
fn html_figures(html: &str) -> Vec<&str> {
    html.split("<figure class=\"chart\">\n")
        .skip(1)
        .map(|rest| {
            let end = rest.find("\n<figcaption>").expect("a figure's caption");
            &rest[..end]
        })
        .collect()
}

// ---------------------------------------------------------------- titles

/// A picture's panels, each given by the titles drawn in it.
type Panels = &'static [&'static [&'static str]];

const FRONTIER_RULE: [&[&str]; 2] = [
    &["Cost of independence: rule nonchina"],
    &["Cost of one more percentage point"],
];

const FRONTIER_STOCKPILE: [&[&str]; 2] = [
    &["What each t of s_us capacity buys in worst-case coverage"],
    &["What it costs"],
];

const FRONTIER_BUDGET: [&[&str]; 1] =
    [&["What each extra percent of spend buys in worst-case coverage"]];

const SWEEP: [&[&str]; 2] = [
    &["Total cost against share_rule.nonchina.min_share"],
    &["Clean share achieved against share_rule.nonchina.min_share"],
];

const FLOW_HEADS: [&str; 4] = [
    "Mines (t REO mined)",
    "Separation (t REO separated)",
    "Magnet plants (t magnet made)",
    "Markets (t magnet delivered)",
];

// ---------------------------------------------------------------- files

/// The two-panel frontier chart of the issue, on the shipped DFARS model.
#[test]
fn frontier_chart_of_the_issue_is_one_document() {
    let dir = tempfile::tempdir().unwrap();
    ok(
        dir.path(),
        &[
            "frontier",
            &model("dfars-2027.toml"),
            "--scenario",
            "dfars-all-us",
            "--rule",
            "dfars-225-7018",
            "--steps",
            "5",
            "--chart",
            "frontier.svg",
        ],
    );
    let svg = std::fs::read_to_string(dir.path().join("frontier.svg")).unwrap();
    assert_svg(
        "frontier --rule dfars-225-7018",
        &svg,
        &[
            &["Cost of independence: rule dfars-225-7018"],
            &["Cost of one more percentage point"],
        ],
    );
}

#[test]
fn every_chart_file_is_one_document() {
    let dir = tempfile::tempdir().unwrap();
    let share = test_plan("04_share_forces_dearer_refinery.toml");
    let budget = test_plan("24_resilience_partial.toml");
    let stock = test_plan("43_resilience_stock_bridge.toml");
    let cases: [(&str, Vec<&str>, Panels); 5] = [
        (
            "flows.svg",
            vec!["solve", &stock, "--year", "2027", "--chart", "flows.svg"],
            &[&[
                "43_resilience_stock_bridge — flows in 2027",
                FLOW_HEADS[0],
                FLOW_HEADS[1],
                FLOW_HEADS[2],
                FLOW_HEADS[3],
            ]],
        ),
        (
            "sweep.svg",
            vec![
                "sweep",
                &share,
                "--set",
                "share_rule.nonchina.min_share=0:1:0.25",
                "--chart",
                "sweep.svg",
            ],
            &SWEEP,
        ),
        (
            "rule.svg",
            vec![
                "frontier", &share, "--rule", "nonchina", "--steps", "4", "--chart", "rule.svg",
            ],
            &FRONTIER_RULE,
        ),
        (
            "budget.svg",
            vec![
                "frontier",
                &budget,
                "--budget",
                "0:0.3:0.1",
                "--chart",
                "budget.svg",
            ],
            &FRONTIER_BUDGET,
        ),
        (
            "stock.svg",
            vec![
                "frontier",
                &stock,
                "--stockpile",
                "s_us.capacity=0:200:50",
                "--chart",
                "stock.svg",
            ],
            &FRONTIER_STOCKPILE,
        ),
    ];
    for (file, args, panels) in cases {
        ok(dir.path(), &args);
        let svg = std::fs::read_to_string(dir.path().join(file))
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_svg(file, &svg, panels);
    }
}

// ---------------------------------------------------------------- HTML

/// Every SVG inlined in an HTML report parses on its own as one document.
#[test]
fn every_svg_in_an_html_report_is_one_document() {
    let dir = tempfile::tempdir().unwrap();
    let share = test_plan("04_share_forces_dearer_refinery.toml");
    let budget = test_plan("24_resilience_partial.toml");
    let stock = test_plan("43_resilience_stock_bridge.toml");
    let scenarios = test_plan("22_scenario.toml");
    let html = ["--format", "html"];
    let cases: [(Vec<&str>, Panels); 6] = [
        (
            vec!["solve", &stock, "--year", "2027"],
            &[&["43_resilience_stock_bridge — flows in 2027", FLOW_HEADS[0]]],
        ),
        (
            vec![
                "sweep",
                &share,
                "--set",
                "share_rule.nonchina.min_share=0:1:0.25",
            ],
            &SWEEP,
        ),
        (
            vec!["frontier", &share, "--rule", "nonchina", "--steps", "4"],
            &FRONTIER_RULE,
        ),
        (
            vec!["frontier", &budget, "--budget", "0:0.3:0.1"],
            &FRONTIER_BUDGET,
        ),
        (
            vec!["frontier", &stock, "--stockpile", "s_us.capacity=0:200:50"],
            &FRONTIER_STOCKPILE,
        ),
        (vec!["compare", &scenarios], &[&["Total cost (USD)"]]),
    ];
    for (args, panels) in cases {
        let all: Vec<&str> = args.iter().chain(&html).copied().collect();
        let page = ok(dir.path(), &all);
        let figures = html_figures(&page);
        // solve's report opens with the concern countries' share by stage
        // and the cost by year, then the flows; the others have one figure.
        let want = if args[0] == "solve" { 3 } else { 1 };
        assert_eq!(figures.len(), want, "reeplan {}: figures", args.join(" "));
        if want == 3 {
            assert_svg(
                &args.join(" "),
                figures[0],
                &[&["Share handled in the concern countries (CN), by stage"]],
            );
            assert_svg(
                &args.join(" "),
                figures[1],
                &[&["Cost by year: resource cost, transfers, penalties"]],
            );
        }
        assert_svg(&args.join(" "), figures[want - 1], panels);
    }
}

// ---------------------------------------------------------------- browser

fn chromium() -> Option<PathBuf> {
    let out = Command::new("sh")
        .args(["-c", "command -v chromium || command -v chromium-browser"])
        .output()
        .ok()?;
    let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !path.is_empty()).then(|| PathBuf::from(path))
}

/// A browser shows both panels of a two-panel chart: an SVG that is not
/// well-formed XML is shown up to its first error, with a `<parsererror>`.
#[test]
fn a_two_panel_chart_loads_in_headless_chromium() {
    let Some(browser) = chromium() else {
        println!("skipped: chromium is not installed");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let share = test_plan("04_share_forces_dearer_refinery.toml");
    ok(
        dir.path(),
        &[
            "frontier", &share, "--rule", "nonchina", "--steps", "4", "--chart", "rule.svg",
        ],
    );
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("file://{}", dir.path().join("rule.svg").display()))
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dom = String::from_utf8_lossy(&out.stdout);
    let start: String = dom.chars().take(600).collect();
    assert!(!dom.contains("parsererror"), "a parse error: {start}");
    for title in FRONTIER_RULE.iter().flat_map(|p| p.iter()) {
        assert!(dom.contains(title), "{title:?} not in the DOM");
    }
}
