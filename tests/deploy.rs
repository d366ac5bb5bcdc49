//! `--shard auto` under a scheduler, the shipped Slurm and Kubernetes files
//! and `reeplan merge`: the merged shard outputs equal the unsharded sweep.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn exe() -> &'static str {
    env!("CARGO_BIN_EXE_reeplan")
}

/// The model and swept path the shipped files use.
const SET: &str = "tariff.us-301-cn-magnet.ad_valorem=0:1:0.25";

fn plan() -> PathBuf {
    root().join("models/tariff-scenarios.toml")
}

/// A command without any scheduler variable of the test's own environment.
fn clean(cmd: &mut Command) -> &mut Command {
    for v in [
        "SLURM_ARRAY_TASK_ID",
        "SLURM_ARRAY_TASK_MIN",
        "SLURM_ARRAY_TASK_COUNT",
        "SLURM_CPUS_PER_TASK",
        "JOB_COMPLETION_INDEX",
        "REEPLAN_SHARD_COUNT",
    ] {
        cmd.env_remove(v);
    }
    cmd
}

fn ok(out: Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn unsharded(format: &str) -> String {
    let p = plan();
    let out = clean(&mut Command::new(exe()))
        .args([
            "sweep",
            p.to_str().unwrap(),
            "--set",
            SET,
            "--format",
            format,
            "--rebuild",
        ])
        .output()
        .unwrap();
    ok(out, "unsharded sweep")
}

fn merge(dir: &Path) -> String {
    let out = Command::new(exe())
        .args(["merge", dir.to_str().unwrap()])
        .output()
        .unwrap();
    ok(out, "merge")
}

#[test]
fn slurm_array_tasks_merged_equal_the_unsharded_sweep() {
    let whole = unsharded("csv");
    assert_eq!(
        whole.lines().count(),
        1 + 5,
        "header and 5 points:\n{whole}"
    );
    let out_dir = tempfile::tempdir().unwrap();
    // As `sbatch --array=3-6` runs it: ids 3..=6, minimum 3, count 4.
    for id in 3..=6 {
        let out = clean(&mut Command::new("bash"))
            .arg(root().join("deploy/slurm/sweep.sbatch"))
            .arg(plan())
            .arg(SET)
            .env("REEPLAN", exe())
            .env("OUT_DIR", out_dir.path())
            .env("SLURM_ARRAY_TASK_ID", id.to_string())
            .env("SLURM_ARRAY_TASK_MIN", "3")
            .env("SLURM_ARRAY_TASK_COUNT", "4")
            .output()
            .unwrap();
        ok(out, &format!("array task {id}"));
    }
    let mut names: Vec<String> = std::fs::read_dir(out_dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let want: Vec<String> = (0..4)
        .map(|k| format!("sweep-shard-{k}-of-4.csv"))
        .collect();
    assert_eq!(names, want);
    assert_eq!(merge(out_dir.path()), whole);
}

#[test]
fn indexed_job_pods_merged_equal_the_unsharded_sweep_in_json_lines() {
    let whole = unsharded("json");
    let out_dir = tempfile::tempdir().unwrap();
    let p = plan();
    for index in 0..3 {
        let out = clean(&mut Command::new(exe()))
            .args([
                "sweep",
                p.to_str().unwrap(),
                "--set",
                SET,
                "--format",
                "json",
            ])
            .args([
                "--shard",
                "auto",
                "--rebuild",
                "--out",
                out_dir.path().to_str().unwrap(),
            ])
            .env("JOB_COMPLETION_INDEX", index.to_string())
            .env("REEPLAN_SHARD_COUNT", "3")
            .output()
            .unwrap();
        ok(out, &format!("pod {index}"));
    }
    assert_eq!(merge(out_dir.path()), whole);
}

#[test]
fn shard_auto_without_a_scheduler_is_a_usage_error() {
    let p = plan();
    let out = clean(&mut Command::new(exe()))
        .args([
            "sweep",
            p.to_str().unwrap(),
            "--set",
            SET,
            "--shard",
            "auto",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("SLURM_ARRAY_TASK_ID") && err.contains("JOB_COMPLETION_INDEX"),
        "{err}"
    );
}

#[test]
fn merge_rejects_overlapping_shards() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("sweep-shard-0-of-2.csv");
    let b = dir.path().join("sweep-shard-1-of-2.csv");
    std::fs::write(&a, "point,x,status\n0,1,optimal\n").unwrap();
    std::fs::write(&b, "1,2,optimal\n0,1,optimal\n").unwrap();
    let out = Command::new(exe())
        .args(["merge", a.to_str().unwrap(), b.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("point 0 also in"), "{err}");
    // The header alone, then rows 0 and 1, when they do not overlap.
    std::fs::write(&b, "1,2,optimal\n").unwrap();
    let merged = merge(dir.path());
    assert_eq!(merged, "point,x,status\n0,1,optimal\n1,2,optimal\n");
}

fn merge_fails(args: &[&str], says: &str) {
    let out = Command::new(exe())
        .arg("merge")
        .args(args)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
    assert!(err.contains(says), "{args:?}: {err}");
    assert!(out.stdout.is_empty(), "{args:?}: printed a partial table");
}

/// An incomplete or broken shard set is bad input (exit 1), never a table
/// with points silently missing; and `-o` never overwrites a shard.
#[test]
fn merge_rejects_incomplete_sets_and_will_not_overwrite_a_shard() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    std::fs::write(
        p("sweep-shard-0-of-3.csv"),
        "point,x,status
0,1,optimal
3,4,optimal
",
    )
    .unwrap();
    std::fs::write(
        p("sweep-shard-1-of-3.csv"),
        "1,2,optimal
",
    )
    .unwrap();
    std::fs::write(
        p("sweep-shard-2-of-3.csv"),
        "2,3,optimal
",
    )
    .unwrap();
    let (s0, s1, s2) = (
        p("sweep-shard-0-of-3.csv"),
        p("sweep-shard-1-of-3.csv"),
        p("sweep-shard-2-of-3.csv"),
    );
    // Shard 0 left out: named as a set, so the name says which.
    merge_fails(&[&s1, &s2], "shard 0 of 3 is missing");
    merge_fails(&[&s0, &s1], "shard 2 of 3 is missing");
    merge_fails(&[&s0, &s1, &s1, &s2], "shard 1 of 3 is given twice");
    // Renamed files: the gap in the points and the missing header show it.
    std::fs::copy(&s0, p("a.csv")).unwrap();
    std::fs::copy(&s2, p("c.csv")).unwrap();
    std::fs::copy(&s1, p("b.csv")).unwrap();
    merge_fails(&[&p("a.csv"), &p("c.csv")], "point 1 missing");
    merge_fails(&[&p("b.csv"), &p("c.csv")], "point 0 missing");
    std::fs::write(
        p("h.csv"),
        "0,1,optimal
",
    )
    .unwrap();
    merge_fails(&[&p("h.csv")], "no header row");
    std::fs::write(p("empty.csv"), "").unwrap();
    merge_fails(&[&p("empty.csv")], "hold no sweep points");
    std::fs::write(
        p("junk.csv"),
        "point,x
abc,1
",
    )
    .unwrap();
    merge_fails(&[&p("junk.csv")], "expected a point number");
    // A row cut short (or of a sweep with other columns), N = 0, and JSON
    // lines of a sweep over other paths.
    std::fs::write(p("r0.csv"), "point,x,status\n0,1,optimal\n").unwrap();
    std::fs::write(p("r1.csv"), "1,2\n").unwrap();
    merge_fails(
        &[&p("r0.csv"), &p("r1.csv")],
        "r1.csv:1: 2 fields where the header (shard 0) has 3",
    );
    std::fs::write(p("sweep-shard-0-of-0.csv"), "point,x,status\n").unwrap();
    merge_fails(
        &[&p("sweep-shard-0-of-0.csv")],
        "a sweep has at least one shard",
    );
    std::fs::write(p("j0.jsonl"), "{\"point\":0,\"set\":{\"a\":1}}\n").unwrap();
    std::fs::write(p("j1.jsonl"), "{\"point\":1,\"set\":{\"b\":1}}\n").unwrap();
    merge_fails(
        &[&p("j0.jsonl"), &p("j1.jsonl")],
        "j1.jsonl:1: sets [\"b\"] where",
    );
    // -o onto one of the inputs, directly or through a symlink.
    let before = std::fs::read(&s1).unwrap();
    merge_fails(&[&s0, &s1, &s2, "-o", &s1], "it is an input of this run");
    std::os::unix::fs::symlink(&s1, p("link.csv")).unwrap();
    merge_fails(&[&s0, &s1, &s2, "-o", &p("link.csv")], "cannot write");
    assert_eq!(
        std::fs::read(&s1).unwrap(),
        before,
        "shard 1 was overwritten"
    );
    // The whole set merges.
    let out = Command::new(exe())
        .args(["merge", &s0, &s1, &s2])
        .output()
        .unwrap();
    assert_eq!(
        ok(out, "merge"),
        "point,x,status\n0,1,optimal\n1,2,optimal\n2,3,optimal\n3,4,optimal\n"
    );
}

/// The Kubernetes manifest: parsed as YAML, the fields an Indexed Job needs,
/// and its container's command line run for every index as the pods would.
#[test]
fn kubernetes_indexed_job_manifest() {
    let text = std::fs::read_to_string(root().join("deploy/k8s/sweep-job.yaml")).unwrap();
    let job: serde_norway::Value = serde_norway::from_str(&text).expect("valid YAML");
    let s = |v: &serde_norway::Value| v.as_str().map(str::to_string);
    assert_eq!(s(&job["apiVersion"]).as_deref(), Some("batch/v1"));
    assert_eq!(s(&job["kind"]).as_deref(), Some("Job"));
    assert!(s(&job["metadata"]["name"]).is_some_and(|n| !n.is_empty()));
    let spec = &job["spec"];
    assert_eq!(s(&spec["completionMode"]).as_deref(), Some("Indexed"));
    let completions = spec["completions"].as_u64().expect("completions");
    assert!(completions >= 1);
    let parallelism = spec["parallelism"].as_u64().expect("parallelism");
    assert!((1..=completions).contains(&parallelism));
    let pod = &spec["template"]["spec"];
    // A Job's pods may not restart Always.
    let restart = s(&pod["restartPolicy"]).expect("restartPolicy");
    assert!(restart == "Never" || restart == "OnFailure", "{restart}");
    let containers = pod["containers"].as_sequence().expect("containers");
    assert_eq!(containers.len(), 1);
    let c = &containers[0];
    assert!(s(&c["name"]).is_some() && s(&c["image"]).is_some());
    let command: Vec<String> = c["command"]
        .as_sequence()
        .expect("command")
        .iter()
        .filter_map(s)
        .collect();
    assert_eq!(command, ["reeplan"]);
    let args: Vec<String> = c["args"]
        .as_sequence()
        .expect("args")
        .iter()
        .map(|a| s(a).expect("every arg a string"))
        .collect();
    let after = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .map(|i| args[i + 1].clone())
    };
    assert_eq!(after("--shard").as_deref(), Some("auto"));
    // The pods are told the count: REEPLAN_SHARD_COUNT = completions.
    let env = c["env"].as_sequence().expect("env");
    let count = env
        .iter()
        .find(|e| s(&e["name"]).as_deref() == Some("REEPLAN_SHARD_COUNT"))
        .and_then(|e| s(&e["value"]))
        .expect("REEPLAN_SHARD_COUNT");
    assert_eq!(count, completions.to_string());
    // Every mounted volume is declared, and --out is on a mounted volume.
    let volumes: Vec<String> = pod["volumes"]
        .as_sequence()
        .expect("volumes")
        .iter()
        .filter_map(|v| s(&v["name"]))
        .collect();
    let mounts = c["volumeMounts"].as_sequence().expect("volumeMounts");
    let mut mount_paths = Vec::new();
    for m in mounts {
        assert!(volumes.contains(&s(&m["name"]).unwrap()), "{m:?}");
        mount_paths.push(s(&m["mountPath"]).unwrap());
    }
    let out = after("--out").expect("--out");
    assert!(mount_paths.contains(&out), "{out} not mounted");
    let plan_arg = args[1].clone();
    assert!(mount_paths.iter().any(|m| plan_arg.starts_with(m.as_str())));

    // Run the pods' command line for every index (the plan and the shared
    // volume replaced by local paths) and merge.
    let out_dir = tempfile::tempdir().unwrap();
    let local: Vec<String> = args
        .iter()
        .map(|a| {
            if *a == plan_arg {
                plan().to_string_lossy().into_owned()
            } else if *a == out {
                out_dir.path().to_string_lossy().into_owned()
            } else {
                a.clone()
            }
        })
        .collect();
    for index in 0..completions {
        let o = clean(&mut Command::new(exe()))
            .args(&local)
            .env("JOB_COMPLETION_INDEX", index.to_string())
            .env("REEPLAN_SHARD_COUNT", &count)
            .output()
            .unwrap();
        ok(o, &format!("pod {index}"));
    }
    let set = after("--set").unwrap();
    let p = plan();
    let whole = ok(
        clean(&mut Command::new(exe()))
            .args([
                "sweep",
                p.to_str().unwrap(),
                "--set",
                &set,
                "--format",
                "csv",
                "--rebuild",
            ])
            .output()
            .unwrap(),
        "unsharded",
    );
    assert_eq!(whole.lines().count(), 1 + 21);
    assert_eq!(merge(out_dir.path()), whole);
}

/// A shard over 64 MiB (the plan-file limit) still merges: `sweep` writes
/// rows of ~0.5 KiB for up to 1,000,000 points, so shards are read up to
/// 2 GiB (review finding).
#[test]
fn merge_reads_shards_larger_than_a_plan_may_be() {
    let dir = tempfile::tempdir().unwrap();
    let shard = dir.path().join("sweep-shard-0-of-1.csv");
    let pad = "x".repeat(1000);
    let mut text = String::from("point,note,status\n");
    let rows = 70_000;
    for i in 0..rows {
        text.push_str(&format!("{i},{pad},optimal\n"));
    }
    assert!(text.len() > 64 << 20);
    std::fs::write(&shard, &text).unwrap();
    let out_path = dir.path().join("merged.csv");
    let out = Command::new(exe())
        .args([
            "merge",
            shard.to_str().unwrap(),
            "-o",
            out_path.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    ok(out, "merge");
    assert_eq!(std::fs::read_to_string(&out_path).unwrap(), text);
}
