//! The TOML examples of README.md and docs/plan-format.md are run, so the
//! docs cannot rot: every whole plan checks and solves; the plan-format
//! fragments together (its `[plan]` header, facilities, markets, tariffs,
//! embargoes, rules, disruptions, scenarios, build candidates, contracts,
//! subsidies, stockpiles, soft rule) form one plan that checks and solves in
//! every scenario; the `[data]` example imports the shipped CSV files.

use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The ```toml blocks of a document, in order.
fn toml_blocks(doc: &str) -> Vec<String> {
    let text = std::fs::read_to_string(root().join(doc)).expect("read doc");
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        match &mut current {
            None if line.trim_start() == "```toml" => current = Some(String::new()),
            Some(block) if line.trim_start() == "```" => {
                out.push(std::mem::take(block));
                current = None;
            }
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
            None => {}
        }
    }
    assert!(current.is_none(), "{doc}: a ```toml block is not closed");
    out
}

fn reeplan(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_reeplan"))
        .args(args)
        .output()
        .expect("run reeplan");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `check` passes and `solve` (optionally in a scenario) is optimal.
#[track_caller]
fn checks_and_solves(path: &Path, extra: &[&str], scenarios: &[&str]) {
    let p = path.to_str().expect("utf-8");
    let mut args = vec!["check", p];
    args.extend_from_slice(extra);
    let (code, _, err) = reeplan(&args);
    assert_eq!(code, Some(0), "check {p}: {err}");
    for s in [None].into_iter().chain(scenarios.iter().map(Some)) {
        let mut args = vec!["solve", p, "--format", "json"];
        args.extend_from_slice(extra);
        if let Some(s) = s {
            args.extend_from_slice(&["--scenario", s]);
        }
        let (code, out, err) = reeplan(&args);
        assert_eq!(code, Some(0), "solve {p} {s:?}: {err}");
        let j: serde_json::Value = serde_json::from_str(&out).expect("JSON");
        assert_eq!(j["status"], "optimal", "{p} {s:?}");
    }
}

fn is_whole_plan(block: &str) -> bool {
    block.contains("[plan]") && block.contains("[[market]]")
}

#[test]
fn whole_plans_in_the_docs_check_and_solve() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut n = 0;
    for doc in ["README.md", "docs/plan-format.md"] {
        for (i, block) in toml_blocks(doc).into_iter().enumerate() {
            if !is_whole_plan(&block) {
                continue;
            }
            let path = dir
                .path()
                .join(format!("{}-{i}.toml", doc.replace('/', "-")));
            std::fs::write(&path, &block).expect("write");
            checks_and_solves(&path, &[], &[]);
            n += 1;
        }
    }
    assert!(n >= 2, "the README's and the format's minimal examples");
}

#[test]
fn the_plan_format_fragments_together_form_a_plan_that_solves() {
    let blocks = toml_blocks("docs/plan-format.md");
    let fragments: Vec<&String> = blocks
        .iter()
        .filter(|b| !is_whole_plan(b) && !b.contains("[data]"))
        .collect();
    // Every section the format documents has an example among them.
    for section in [
        "[plan]",
        "[elements.",
        "[prices]",
        "[[mine]]",
        "[[refinery]]",
        "[[magnet_plant]]",
        "[[market]]",
        "[transport]",
        "[[tariff]]",
        "[[embargo]]",
        "[[share_rule]]",
        "[resilience]",
        "[[disruption]]",
        "[scenario.",
        "expand",
        "[[contract]]",
        "[[subsidy]]",
        "[[stockpile]]",
    ] {
        assert!(
            fragments.iter().any(|b| b.contains(section)),
            "no example of {section}"
        );
    }
    let text: String = fragments.iter().map(|b| format!("{b}\n")).collect();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("fragments.toml");
    std::fs::write(&path, &text).expect("write");
    let scenarios: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("[scenario."))
        .filter_map(|l| l.split(']').next())
        .filter(|s| !s.contains('.'))
        .map(String::from)
        .collect();
    assert!(!scenarios.is_empty());
    let names: Vec<&str> = scenarios.iter().map(String::as_str).collect();
    checks_and_solves(&path, &[], &names);
    let (code, out, err) = reeplan(&[
        "solve",
        path.to_str().unwrap(),
        "--objective",
        "max-resilience",
        "--format",
        "json",
    ]);
    assert_eq!(code, Some(0), "{err}");
    let j: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(j["status"], "optimal");
}

#[test]
fn the_data_example_imports_the_shipped_csv_files() {
    // The example names ../data/*.csv from a plan in a sibling directory and
    // one extra file next to the plan: lay that out with the shipped CSVs
    // and an extra-refineries.csv holding only the header.
    let blocks = toml_blocks("docs/plan-format.md");
    let data = blocks
        .iter()
        .find(|b| b.contains("[data]"))
        .expect("a [data] example");
    let header = blocks
        .iter()
        .find(|b| b.contains("[plan]") && !is_whole_plan(b))
        .expect("the [plan] example");
    let elements = blocks
        .iter()
        .find(|b| b.contains("[elements."))
        .expect("the elements example");
    let dir = tempfile::tempdir().expect("temp dir");
    let (models, shipped) = (dir.path().join("models"), dir.path().join("data"));
    std::fs::create_dir_all(&models).unwrap();
    std::fs::create_dir_all(&shipped).unwrap();
    for e in std::fs::read_dir(root().join("data")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "csv") {
            std::fs::copy(&p, shipped.join(p.file_name().unwrap())).unwrap();
        }
    }
    let refineries = std::fs::read_to_string(root().join("data/refineries.csv")).unwrap();
    let first = refineries.lines().next().unwrap();
    std::fs::write(models.join("extra-refineries.csv"), format!("{first}\n")).unwrap();
    let path = models.join("plan.toml");
    std::fs::write(&path, format!("{header}\n{elements}\n{data}")).unwrap();
    let root_arg = dir.path().to_str().unwrap();
    checks_and_solves(&path, &["--data-root", root_arg], &[]);
}

/// README's output excerpts: after each `sh` block that runs one reeplan
/// command with `--format markdown`, every table row shown is a row of that
/// command's own output, word for word (labels, columns, differences).
#[test]
fn the_readme_markdown_excerpts_are_the_commands_output() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let lines: Vec<&str> = readme.lines().collect();
    let mut checked = 0;
    let mut i = 0;
    while i < lines.len() {
        if lines[i] != "```sh" {
            i += 1;
            continue;
        }
        let end = i + lines[i..].iter().position(|l| *l == "```").unwrap();
        let block: Vec<&str> = lines[i + 1..end].to_vec();
        i = end + 1;
        // One command, on one line, asking for markdown.
        let [command] = block.as_slice() else {
            continue;
        };
        let Some(args) = command.strip_prefix("cargo run --release -- ") else {
            continue;
        };
        if !args.contains("--format markdown") {
            continue;
        }
        // The table that follows, before the next code block.
        let rows: Vec<&str> = lines[i..]
            .iter()
            .take_while(|l| !l.starts_with("```"))
            .skip_while(|l| !l.starts_with('|'))
            .take_while(|l| l.starts_with('|'))
            .copied()
            .collect();
        assert!(rows.len() >= 3, "no table after {command}");
        let args: Vec<String> = args
            .split_whitespace()
            .map(|a| {
                if a.starts_with("models/") {
                    root().join(a).to_string_lossy().into_owned()
                } else {
                    a.to_string()
                }
            })
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, out, err) = reeplan(&args);
        assert_eq!(code, Some(0), "{command}: {err}");
        // Cells compared trimmed (the renderer may pad a repeated header).
        let cells =
            |l: &str| -> Vec<String> { l.split('|').map(|c| c.trim().to_string()).collect() };
        let printed: Vec<Vec<String>> = out.lines().map(cells).collect();
        for row in rows {
            assert!(
                printed.contains(&cells(row)),
                "{command}: README row not in the output: {row}\n{out}"
            );
        }
        checked += 1;
    }
    assert!(checked >= 4, "only {checked} excerpts found");
}
