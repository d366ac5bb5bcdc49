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
regions = ["ROW"]
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
    // A column given twice (fuzzing: the second cell had silently won).
    for (header, at) in [
        // Column 32 (1-based characters) is the second grade.NdPr, of column 4.
        (
            "id,country,capacity,grade.NdPr,grade.NdPr\nm1,AU,1000,0.2,0.9\n",
            "mines.csv:1:32: duplicate column \"grade.NdPr\" (also column 4)",
        ),
        // Column 37 is the second capacity.2026, of column 3.
        (
            "id,country,capacity.2026,grade.NdPr,capacity.2026\nm1,AU,1000,0.2,10\n",
            "mines.csv:1:37: duplicate column \"capacity.2026\" (also column 3)",
        ),
    ] {
        std::fs::write(dir.path().join("mines.csv"), header).expect("write");
        let out = run(dir.path(), &["check", "plan.toml"]);
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(at), "{err}");
    }
    // Documentation columns are never read, so they may repeat.
    std::fs::write(
        dir.path().join("mines.csv"),
        "id,country,capacity,grade.NdPr,source,source\nm1,AU,1000,0.2,S1,S2\n",
    )
    .expect("write");
    let out = run(dir.path(), &["check", "plan.toml"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
}

/// data/contracts.csv and data/subsidies.csv are the contracts and
/// subsidies of models/world-2030.toml (which writes them inline so that it
/// loads with plain `reeplan check`): the model with its `[[contract]]` and
/// `[[subsidy]]` entries replaced by `[data]` rows loads to the same ones.
#[test]
fn the_data_sets_contracts_and_subsidies_are_the_world_models() {
    use reeplan::plan::PlanSource;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let model = root.join("models/world-2030.toml");
    let inline = PlanSource::load(&model)
        .expect("world model loads")
        .plan_with(None, &[])
        .expect("base plan");
    let mut table: toml::Table = std::fs::read_to_string(&model)
        .expect("read")
        .parse()
        .expect("TOML");
    assert!(table.remove("contract").is_some() && table.remove("subsidy").is_some());
    let mut data = toml::Table::new();
    data.insert("contracts".into(), "contracts.csv".into());
    data.insert("subsidies".into(), "subsidies.csv".into());
    table.insert("data".into(), toml::Value::Table(data));
    // Named as if it lay in data/, so the CSV files are in its directory.
    let from_data = PlanSource::from_text(&root.join("data/world-2030.toml"), table.to_string())
        .expect("the model with [data] rows loads")
        .plan_with(None, &[])
        .expect("base plan");
    assert_eq!(inline.contracts.len(), 14);
    assert_eq!(inline.subsidies.len(), 2);
    assert_eq!(
        format!("{:?}", from_data.contracts),
        format!("{:?}", inline.contracts)
    );
    assert_eq!(
        format!("{:?}", from_data.subsidies),
        format!("{:?}", inline.subsidies)
    );
    // Every row documents its source or derivation.
    for file in ["contracts.csv", "subsidies.csv"] {
        let mut r = csv::Reader::from_path(root.join("data").join(file)).expect("csv");
        let note = r
            .headers()
            .unwrap()
            .iter()
            .position(|h| h == "note")
            .unwrap();
        for row in r.records() {
            let row = row.unwrap();
            assert!(row[note].len() > 40, "{file}: {} has no note", &row[0]);
        }
    }
}

/// Lists and booleans in contract rows: `;`-separated buyers, `a;b` years,
/// `true`; a cell that is not a boolean is named by file, line and column.
#[test]
fn contract_rows_read_lists_years_and_booleans() {
    let dir = tempfile::tempdir().expect("temp dir");
    let plan = "[plan]\nfirst_year = 2026\nlast_year = 2027\n[elements.NdPr]\nprice = 1\n\
        [[mine]]\nid = \"m\"\ncountry = \"AU\"\ncapacity = 100\ncost = 1\ngrade = { NdPr = 0.5 }\n\
        [[refinery]]\nid = \"r1\"\ncountry = \"AU\"\ncapacity = 100\ncost = 1\n\
        [[refinery]]\nid = \"r2\"\ncountry = \"AU\"\ncapacity = 100\ncost = 1\n\
        [[magnet_plant]]\nid = \"p\"\ncountry = \"AU\"\ncapacity = 100\ncost = 1\nrecipe = { NdPr = 0.3 }\n\
        [[market]]\nid = \"k\"\ncountry = \"AU\"\ndemand = 10\n\
        [data]\ncontracts = \"contracts.csv\"\n";
    std::fs::write(dir.path().join("plan.toml"), plan).expect("write");
    std::fs::write(
        dir.path().join("contracts.csv"),
        "id,from,to,min.2026,min.2027,exclusive,years,note\nc,m,r1;r2,10,20,true,2026;2027,by hand\n",
    )
    .expect("write");
    let out = run(dir.path(), &["solve", "plan.toml", "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    // Demand needs 10 × 0.3 / 0.5 = 6 t of ore a year; the contract makes
    // m ship at least 10 (2026) and 20 (2027) to r1 and r2 together.
    let contracts = json["contracts"].as_array().expect("contracts[]");
    let delivered = |year: i64| -> f64 {
        contracts
            .iter()
            .filter(|c| c["contract"] == "c" && c["year"] == year)
            .map(|c| c["delivered"].as_f64().unwrap())
            .sum()
    };
    assert!((delivered(2026) - 10.0).abs() < 1e-6, "{contracts:?}");
    assert!((delivered(2027) - 20.0).abs() < 1e-6, "{contracts:?}");
    std::fs::write(
        dir.path().join("contracts.csv"),
        "id,from,to,min,exclusive\nc,m,r1,10,yes\n",
    )
    .expect("write");
    let out = run(dir.path(), &["check", "plan.toml"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    // Line 2, column 11 is the cell "yes" ("c,m,r1,10," takes 10 characters).
    assert!(
        err.contains("contracts.csv:2:11: contract \"c\" exclusive"),
        "{err}"
    );
}
