//! Sweeps start each point from the previous point's basis; that must not
//! change any answer. The same sweep solved cold gives the same rows.

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
    let warm = sweep(&[]);
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
