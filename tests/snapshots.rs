//! Whole outputs of the real binary, pinned (insta snapshots under
//! tests/snapshots/): `solve`, `check`, `compare`, `stress --top 5` and
//! `explain` on small plans from tests/plans, run from the repository root
//! so paths are stable. The numbers in these plans are worked by hand in
//! their headers and checked cell by cell elsewhere (tests/report_numbers.rs,
//! tests/reference_lp.rs); these snapshots catch what those do not look at:
//! a column shifted against its label, a row lost, a header reworded. After
//! a deliberate change, review with `cargo insta review` (or rerun with
//! `INSTA_UPDATE=always` and read the diff).

use std::process::Command;

fn run(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_reeplan"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("RUST_BACKTRACE")
        .env("COLUMNS", "120")
        .output()
        .expect("run reeplan");
    format!(
        "exit: {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

macro_rules! pin {
    ($name:literal, $($arg:expr),+) => {
        insta::with_settings!({
            description => format!("reeplan {}", [$($arg),+].join(" ")),
            omit_expression => true,
            prepend_module_to_snapshot => false,
        }, {
            insta::assert_snapshot!($name, run(&[$($arg),+]));
        });
    };
}

#[test]
fn solve_minimal() {
    pin!("solve_minimal", "solve", "tests/plans/01_minimal.toml");
}

#[test]
fn solve_with_builds() {
    pin!(
        "solve_build_max_earliest",
        "solve",
        "tests/plans/32_build_max_earliest.toml"
    );
}

#[test]
fn solve_with_a_magnet_stockpile() {
    pin!(
        "solve_stock_magnet_class",
        "solve",
        "tests/plans/42_stock_magnet_class.toml"
    );
}

#[test]
fn solve_max_resilience() {
    pin!(
        "solve_resilience_stock_bridge",
        "solve",
        "tests/plans/43_resilience_stock_bridge.toml"
    );
}

#[test]
fn check_valid_plan() {
    pin!(
        "check_scenario_plan",
        "check",
        "tests/plans/22_scenario.toml"
    );
}

#[test]
fn compare_scenarios() {
    pin!(
        "compare_scenarios",
        "compare",
        "tests/plans/22_scenario.toml"
    );
}

#[test]
fn stress_top_five() {
    pin!(
        "stress_export_ban",
        "stress",
        "tests/plans/30_resilience_export_ban.toml",
        "--top",
        "5"
    );
}

#[test]
fn explain_infeasible() {
    pin!(
        "explain_infeasible",
        "explain",
        "tests/plans/16_infeasible.toml"
    );
}
