//! `--verbose` shows HiGHS's log on stderr and keeps stdout a clean report.

use std::process::Command;

#[test]
fn verbose_log_goes_to_stderr_and_json_stays_parseable() {
    let path = format!("{}/tests/plans/01_minimal.toml", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(env!("CARGO_BIN_EXE_reeplan"))
        .args(["solve", &path, "--format", "json", "--verbose"])
        .output()
        .expect("run reeplan");
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("stdout is only the JSON object");
    assert_eq!(json["status"], "optimal");
    assert!(String::from_utf8_lossy(&out.stderr).contains("HiGHS"));
}
