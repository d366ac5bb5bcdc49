//! Sweeps start each point from a basis: the first point's (`--rebuild`),
//! or the previous point's in the live model (the default). Neither may
//! change an optimum: rebuilt warm rows equal the cold ones, and live rows
//! have the rebuilt costs and tonnes (where several flows are optimal, the
//! live model may pick another one, so shares are not compared).

use std::process::Command;

fn sweep(extra: &[&str]) -> String {
    let model = format!(
        "{}/models/tariff-scenarios.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut args = vec![
        "sweep",
        model.as_str(),
        "--set",
        "tariff.us-301-cn-magnet.ad_valorem=0:1:0.1",
        "--format",
        "csv",
        "--jobs",
        "1",
    ];
    args.extend_from_slice(extra);
    let out = Command::new(env!("CARGO_BIN_EXE_reeplan"))
        .args(&args)
        .output()
        .expect("run reeplan");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn warm_started_sweep_equals_the_cold_one() {
    let warm = sweep(&["--rebuild"]);
    let cold = sweep(&["--cold"]);
    let parse = |s: &str| -> Vec<Vec<String>> {
        csv::Reader::from_reader(s.as_bytes())
            .records()
            .map(|r| r.expect("row").iter().map(str::to_string).collect())
            .collect()
    };
    let (w, c) = (parse(&warm), parse(&cold));
    assert_eq!(w.len(), 11);
    assert_eq!(w.len(), c.len());
    for (a, b) in w.iter().zip(&c) {
        // point, value, status equal; every number within 1e-6 relative.
        assert_eq!(a[..3], b[..3]);
        for (x, y) in a[3..].iter().zip(&b[3..]) {
            match (x.parse::<f64>(), y.parse::<f64>()) {
                (Ok(x), Ok(y)) => assert!((x - y).abs() <= 1e-6 * x.abs().max(1.0), "{x} vs {y}"),
                _ => assert_eq!(x, y),
            }
        }
    }
}

fn rows(csv_text: &str) -> Vec<Vec<String>> {
    csv::Reader::from_reader(csv_text.as_bytes())
        .records()
        .map(|r| r.expect("row").iter().map(str::to_string).collect())
        .collect()
}

fn sweep_of(set: &str, extra: &[&str]) -> (String, String) {
    let model = format!(
        "{}/models/tariff-scenarios.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut args = vec![
        "sweep",
        model.as_str(),
        "--set",
        set,
        "--format",
        "csv",
        "--verbose",
    ];
    args.extend_from_slice(extra);
    let out = Command::new(env!("CARGO_BIN_EXE_reeplan"))
        .args(&args)
        .output()
        .expect("run reeplan");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    (String::from_utf8(out.stdout).expect("utf-8"), stderr)
}

/// The cost columns (total and parts) and the tonnes, which are unique at
/// an optimum: live models and rebuilt models must agree on them.
fn assert_same_optima(live: &str, rebuilt: &str) {
    let (l, r) = (rows(live), rows(rebuilt));
    assert!(l.len() >= 5, "{live}");
    assert_eq!(l.len(), r.len());
    let header = csv::Reader::from_reader(live.as_bytes())
        .headers()
        .unwrap()
        .clone();
    for (a, b) in l.iter().zip(&r) {
        assert_eq!(a[..3], b[..3]);
        for (k, name) in header.iter().enumerate() {
            if name.contains("cost") || name.contains("(t)") {
                let (x, y): (f64, f64) = (a[k].parse().unwrap(), b[k].parse().unwrap());
                assert!(
                    (x - y).abs() <= 1e-7 * x.abs().max(1.0),
                    "point {}: {name}: live {x} vs rebuilt {y}",
                    a[0]
                );
            }
        }
    }
}

/// The count `--verbose` prints: solves that changed a live model, all solves.
fn live_counts(stderr: &str) -> (usize, usize) {
    let line = stderr
        .lines()
        .find(|l| l.contains("live models:"))
        .unwrap_or_else(|| panic!("no live-model line in:\n{stderr}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words.iter().position(|w| *w == "of").expect("N of M");
    (
        words[at - 1].parse().unwrap(),
        words[at + 1].parse().unwrap(),
    )
}

#[test]
fn a_tariff_sweep_changes_costs_in_the_live_model_and_keeps_the_optima() {
    let set = "tariff.us-301-cn-magnet.ad_valorem=0:1:0.1";
    let (live, stderr) = sweep_of(set, &["--jobs", "2"]);
    let (rebuilt, rebuilt_err) = sweep_of(set, &["--rebuild"]);
    assert_same_optima(&live, &rebuilt);
    // 11 points in one run of neighbours: every point after the first
    // changes the costs of the model the first one passed (each block of
    // the split LP has its own live model).
    let (updated, all) = live_counts(&stderr);
    assert!(all >= 11 && all % 11 == 0, "{stderr}");
    let blocks = all / 11;
    assert_eq!(updated, all - blocks, "{stderr}");
    assert!(!rebuilt_err.contains("live models:"), "{rebuilt_err}");
}

#[test]
fn a_sweep_that_changes_the_matrix_passes_each_model_anew() {
    // A grade is a coefficient of the matrix (concentrate -> oxide).
    let set = "mine.cn-mines-north.grade.NdPr=0.18:0.26:0.02";
    let (live, stderr) = sweep_of(set, &[]);
    let (rebuilt, _) = sweep_of(set, &["--rebuild"]);
    assert_same_optima(&live, &rebuilt);
    let (updated, all) = live_counts(&stderr);
    // Only the blocks whose matrix holds no grade of that mine (none here:
    // the mine is in every year) could be changed in place.
    assert!(all >= 5, "{stderr}");
    assert_eq!(updated, 0, "{stderr}");
}
