//! `--format html` writes one self-contained report.html; it is loaded in
//! headless Chromium (when installed; `.ci/run` installs it): the DOM holds
//! the tables and inline SVG charts, nothing is fetched from the network,
//! and a screenshot is taken (and kept under target/ for a look).

use std::path::{Path, PathBuf};
use std::process::Command;

fn model(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("models")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn reeplan(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_reeplan"))
        .args(args)
        .output()
        .expect("run reeplan");
    assert!(
        out.status.success(),
        "reeplan {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn chromium() -> Option<PathBuf> {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if let Ok(out) = Command::new("sh")
            .args(["-c", &format!("command -v {name}")])
            .output()
        {
            let p = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if out.status.success() && !p.is_empty() {
                return Some(PathBuf::from(p));
            }
        }
    }
    None
}

/// Run headless Chromium on `page` with `what` (`--dump-dom` or
/// `--screenshot=FILE`); returns stdout.
fn browse(browser: &Path, page: &Path, what: &str) -> String {
    let profile = tempfile::tempdir().expect("profile dir");
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=1600,2400",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(what)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "chromium {what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn check_self_contained(html: &str) {
    assert!(html.starts_with("<!DOCTYPE html>"));
    for banned in ["<script", "<link", "http://", "https://", "src=\""] {
        // The SVG namespace is the one URL allowed (it is never fetched).
        let count = html.matches(banned).count();
        let ns = html.matches("http://www.w3.org/").count();
        let allowed = if banned == "http://" { ns } else { 0 };
        assert_eq!(count, allowed, "{banned} in a self-contained report");
    }
}

fn shot_dir() -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("html-report");
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn solve_and_compare_reports_load_in_headless_chromium() {
    let work = tempfile::tempdir().unwrap();
    let solve_dir = work.path().join("solve");
    let compare_dir = work.path().join("compare");
    let plan = model("us-magnets-2035.toml");
    reeplan(&[
        "solve",
        &plan,
        "--format",
        "html",
        "--out",
        solve_dir.to_str().unwrap(),
    ]);
    reeplan(&[
        "compare",
        &model("dfars-2027.toml"),
        "--format",
        "html",
        "--out",
        compare_dir.to_str().unwrap(),
    ]);
    let cases = [
        (
            solve_dir.join("report.html"),
            vec![
                "id=\"summary\"",
                "id=\"sourcing\"",
                "id=\"concern\"",
                "id=\"binds\"",
                "<svg",
                "Mines (t REO mined)",
            ],
        ),
        (
            compare_dir.join("report.html"),
            vec!["id=\"compare\"", "<svg", "class=\"bar\"", "no-dfars"],
        ),
    ];
    for (page, _) in &cases {
        let html = std::fs::read_to_string(page).expect("report.html written");
        check_self_contained(&html);
    }
    let Some(browser) = chromium() else {
        println!("skipped: chromium is not installed (apt-get install chromium; .ci/run does)");
        return;
    };
    for (i, (page, expect)) in cases.iter().enumerate() {
        let dom = browse(&browser, page, "--dump-dom");
        for e in expect {
            assert!(dom.contains(e), "{e} not in the DOM of {}", page.display());
        }
        // The browser parsed the SVG: its drawn elements are in the DOM
        // (the flow chart's bands; one bar per compared column).
        if i == 0 {
            assert!(dom.matches("<polygon").count() > 10, "flow bands");
        } else {
            assert_eq!(
                dom.matches("class=\"bar\"").count(),
                3,
                "base, no-dfars, dfars-all-us"
            );
        }
        let png = shot_dir().join(format!("report-{i}.png"));
        browse(&browser, page, &format!("--screenshot={}", png.display()));
        let bytes = std::fs::read(&png).expect("screenshot written");
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
        assert!(
            bytes.len() > 20_000,
            "a drawn page, not a blank one: {} bytes",
            bytes.len()
        );
        println!("screenshot: {}", png.display());
    }
}
