//! `[data]`: the shipped CSV data set loads through the plan format, and a
//! bad CSV cell is reported with its file, line and column.

use std::process::Command;

fn run(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_reeplan"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run reeplan")
}

#[test]
fn the_shipped_data_set_loads_and_solves() {
    let data = format!("{}/data", env!("CARGO_MANIFEST_DIR"));
    let plan = format!(
        r#"
[plan]
first_year = 2025
last_year = 2035
concern = ["CN", "RU", "KP", "IR"]
[elements.NdPr]
price = 60000
[elements.Dy]
price = 300000
[elements.Tb]
price = 900000
[data]
mines = "{data}/mines.csv"
refineries = "{data}/refineries.csv"
magnet_plants = "{data}/magnet_plants.csv"
markets = "{data}/markets.csv"
"#
    );
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("plan.toml"), plan).expect("write");
    // The data set lies outside the plan's directory: allowed explicitly
    // (docs/reliability.md); without --data-root it is refused.
    let refused = run(dir.path(), &["check", "plan.toml"]);
    assert_eq!(refused.status.code(), Some(1));
    let out = run(dir.path(), &["check", "plan.toml", "--data-root", &data]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = String::from_utf8_lossy(&out.stdout);
    // One facility per data row (header excluded).
    for (file, label) in [
        ("mines.csv", "mines"),
        ("refineries.csv", "refineries"),
        ("magnet_plants.csv", "magnet plants"),
    ] {
        let rows = csv::Reader::from_path(format!("{data}/{file}"))
            .expect("csv")
            .records()
            .count();
        let line = summary
            .lines()
            .find(|l| l.trim_start().starts_with(label))
            .expect("summary line");
        assert!(
            line.contains(&format!(" {rows} (")),
            "{line} vs {rows} rows in {file}"
        );
    }
    let out = run(
        dir.path(),
        &[
            "solve",
            "plan.toml",
            "--format",
            "json",
            "--data-root",
            &data,
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_bad_csv_cell_names_file_line_and_column() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("mines.csv"),
        "id,country,capacity,grade.NdPr,source\nm1,AU,1000,0.2,S1\nm2,US,1000,1.4,S2\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("plan.toml"),
        "[plan]\nfirst_year = 2026\nlast_year = 2026\n[elements.NdPr]\n[data]\nmines = \"mines.csv\"\n",
    )
    .expect("write");
    let out = run(dir.path(), &["check", "plan.toml"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    // Line 3, column 12 is the cell "1.4" (m2,US,1000, takes 11 characters).
    assert!(
        err.contains("mines.csv:3:12: mine \"m2\" grade NdPr = 1.4: must be between 0 and 1"),
        "{err}"
    );
    std::fs::write(
        dir.path().join("mines.csv"),
        "id,country,capcity\nm1,AU,1\n",
    )
    .expect("write");
    let err = String::from_utf8_lossy(&run(dir.path(), &["check", "plan.toml"]).stderr).to_string();
    assert!(
        err.contains("mines.csv:1:12: unknown column \"capcity\""),
        "{err}"
    );
}
