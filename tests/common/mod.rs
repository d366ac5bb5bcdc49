//! Helpers shared by the integration tests that run the real `reeplan`
//! binary: plans written to a temporary directory, the command run, its exit
//! code and output captured with the temporary path filtered out.

#![allow(dead_code)] // each test crate uses its own subset

use std::path::{Path, PathBuf};
use std::process::Command;

/// The minimal example of PLAN_FORMAT.md, verbatim. Its optimum is
/// 166.67 × (2000 + 5000) + 100 × 30000 = 4,166,666.67 (worked in the spec).
pub const MINIMAL: &str = r#"[plan]
name = "two-stage toy"
first_year = 2026
last_year = 2026

[elements.NdPr]
price = 60000

[[mine]]
id = "m1"
country = "AU"
capacity = 1000
cost = 2000
grade = { NdPr = 0.2 }

[[refinery]]
id = "r1"
country = "MY"
capacity = 1000
cost = 5000
recovery = 0.9

[[magnet_plant]]
id = "p1"
country = "US"
capacity = 500
cost = 30000
recipe = { NdPr = 0.3 }

[[market]]
id = "us"
country = "US"
demand = 100
"#;

/// The minimal example's optimum, worked by hand in PLAN_FORMAT.md:
/// 30 t NdPr / (0.2 × 0.9) t REO × 7000 + 100 t × 30000.
pub const MINIMAL_OPTIMUM: f64 = 30.0 / (0.2 * 0.9) * (2000.0 + 5000.0) + 100.0 * 30000.0;

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    /// `None` if the process was killed by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_reeplan"))
}

/// Run `reeplan ARGS` in `dir`, replacing every mention of `dir` in the output
/// by nothing, so `/tmp/.tmpXYZ/plan.toml` reads `plan.toml`.
pub fn run_in(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(bin())
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("run reeplan");
    let filter = |bytes: Vec<u8>| {
        let text = String::from_utf8(bytes).expect("output is UTF-8");
        let prefix = format!("{}/", dir.display());
        text.replace(&prefix, "")
    };
    Run {
        code: out.status.code(),
        stdout: filter(out.stdout),
        stderr: filter(out.stderr),
    }
}

/// A temporary directory holding `plan.toml` with `text`.
pub fn plan_dir(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("plan.toml"), text).expect("write plan");
    dir
}

/// Write `text` as `plan.toml` in a fresh directory and run
/// `reeplan ARGS... <abs path of plan.toml>` there.
pub fn run_plan(text: &str, args: &[&str]) -> Run {
    let dir = plan_dir(text);
    let plan = dir.path().join("plan.toml");
    let plan = plan.to_str().expect("UTF-8 temp path");
    let mut all: Vec<&str> = args.to_vec();
    all.push(plan);
    run_in(dir.path(), &all)
}

/// `text` with `old` (which must occur exactly once) replaced by `new`.
pub fn edit(text: &str, old: &str, new: &str) -> String {
    assert_eq!(
        text.matches(old).count(),
        1,
        "{old:?} must occur exactly once in the plan"
    );
    text.replacen(old, new, 1)
}

/// The location `plan.toml:LINE:COL` of a spot in `text`, computed
/// independently of the program: `marked` is a snippet of `text` with one `|`
/// where the location should point, e.g. `"ramp = [0.5, |1.5]"`. The snippet
/// without the `|` must occur exactly once in `text`.
pub fn at(text: &str, marked: &str) -> String {
    let caret = marked.find('|').expect("snippet has a | marker");
    let snippet = marked.replacen('|', "", 1);
    assert_eq!(
        text.matches(snippet.as_str()).count(),
        1,
        "{snippet:?} must occur exactly once in the plan"
    );
    let offset = text.find(snippet.as_str()).unwrap() + caret;
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = text[line_start..offset].chars().count() + 1;
    format!("plan.toml:{line}:{col}")
}
