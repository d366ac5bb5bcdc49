//! Issue 16: no crash, no hang, no lost or leaked data, whatever the input or
//! the machine does (docs/reliability.md lists the promises these pin).
//! Every test builds its own input; tests that need a full disk or another
//! user mount a private tmpfs (`unshare -m`) or drop to `nobody`
//! (`setpriv`), and print a message and pass where the machine refuses.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{bin, edit, plan_dir, run_in, Run, MINIMAL};

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// No Rust panic, no abort.
#[track_caller]
fn clean(run: &Run) {
    assert!(
        !run.stderr.contains("panicked") && !run.stderr.contains("terminate called"),
        "{}",
        run.stderr
    );
    assert_ne!(run.code, None, "killed by a signal: {}", run.stderr);
    assert_ne!(run.code, Some(134), "aborted: {}", run.stderr);
}

#[track_caller]
fn code(run: &Run, expected: i32) {
    clean(run);
    assert_eq!(run.code, Some(expected), "stderr: {}", run.stderr);
}

fn sh(dir: &Path, script: &str) -> Run {
    let out = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(bin())
        .current_dir(dir)
        .output()
        .expect("run sh");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[track_caller]
fn no_temp_files(dir: &Path) {
    for n in names_in(dir) {
        assert!(
            !(n.starts_with('.') && n.contains(".tmp")),
            "leftover temporary file {n}"
        );
    }
}

// ------------------------------------------------------------ 1. aborts

#[test]
fn too_many_threads_are_clamped_to_the_cores_with_a_warning() {
    let dir = plan_dir(MINIMAL);
    let start = Instant::now();
    let run = run_in(dir.path(), &["solve", "plan.toml", "--threads", "100000"]);
    code(&run, 0);
    let n = cores();
    assert!(
        run.stderr.contains(&format!(
            "warning: --threads 100000: this machine has {n} core(s); using {n}"
        )),
        "{}",
        run.stderr
    );
    assert!(start.elapsed() < Duration::from_secs(60));
}

#[test]
fn too_many_jobs_are_clamped_and_zero_jobs_or_top_are_usage_errors() {
    let dir = plan_dir(MINIMAL);
    let run = run_in(
        dir.path(),
        &[
            "sweep",
            "plan.toml",
            "--set",
            "mine.m1.cost=1,2",
            "-j",
            "100000",
        ],
    );
    code(&run, 0);
    assert!(
        run.stderr
            .contains("warning: --jobs 100000: this machine has"),
        "{}",
        run.stderr
    );
    let run = run_in(
        dir.path(),
        &["sweep", "plan.toml", "--set", "mine.m1.cost=1,2", "-j", "0"],
    );
    code(&run, 2);
    assert!(run.stderr.contains("--jobs 0: must be at least 1"));
    let run = run_in(dir.path(), &["stress", "plan.toml", "--top", "0"]);
    code(&run, 2);
    assert!(run.stderr.contains("--top 0: must be at least 1"));
    let run = run_in(dir.path(), &["compare", "plan.toml", "--top", "0"]);
    code(&run, 2);
    assert!(
        run.stderr.contains("--top 0: must be at least 1"),
        "{}",
        run.stderr
    );
}

/// Threads the system refuses (RLIMIT_NPROC, which binds only non-root
/// users): a clear error and exit 1, not an abort inside HiGHS.
#[test]
fn refused_threads_are_a_clear_error() {
    let dir = plan_dir(MINIMAL);
    let ok = sh(
        dir.path(),
        "command -v setpriv >/dev/null && command -v bash >/dev/null && [ \"$(id -u)\" = 0 ]",
    );
    if ok.code != Some(0) {
        eprintln!("skipped: needs root and setpriv to run as nobody with ulimit -u");
        return;
    }
    sh(dir.path(), "chmod 755 . && chmod 644 plan.toml");
    // nobody may have at most one process: this one; no thread can start.
    let run = sh(
        dir.path(),
        "exec bash -c 'ulimit -u 1 && exec setpriv --reuid=65534 --regid=65534 --clear-groups \"$0\" solve plan.toml --threads 2' \"$0\"",
    );
    if run.code == Some(126) || run.code == Some(127) || run.stderr.contains("setpriv:") {
        eprintln!("skipped: cannot run the binary as nobody: {}", run.stderr);
        return;
    }
    code(&run, 1);
    assert!(
        run.stderr.contains("error: cannot start 2 thread(s)"),
        "{}",
        run.stderr
    );
}

#[test]
fn generate_sizes_are_bounded_before_allocating() {
    let dir = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let run = run_in(dir.path(), &["generate", "--mines", "4000000000"]);
    code(&run, 2);
    assert_eq!(run.stdout, "");
    let run = run_in(
        dir.path(),
        &["generate", "--mines", "100000", "--refineries", "100000"],
    );
    code(&run, 2);
    assert!(
        run.stderr
            .contains("more than the 100000 facilities and markets"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "");
    assert!(start.elapsed() < Duration::from_secs(10));
}

// ------------------------------------------------------------ 2. hangs

#[test]
fn devices_fifos_and_huge_files_are_refused_as_plans() {
    let dir = tempfile::tempdir().unwrap();
    let start = Instant::now();
    for dev in ["/dev/zero", "/dev/urandom"] {
        let run = run_in(dir.path(), &["check", dev]);
        code(&run, 1);
        assert_eq!(
            run.stderr,
            format!("error: {dev}: not a regular file (reeplan reads plans and CSV files only from regular files)\n")
        );
    }
    let fifo = dir.path().join("fifo.toml");
    if sh(dir.path(), "mkfifo fifo.toml").code == Some(0) {
        let run = run_in(dir.path(), &["check", "fifo.toml"]);
        code(&run, 1);
        assert!(run.stderr.contains("fifo.toml: not a regular file"));
        std::fs::remove_file(&fifo).unwrap();
    } else {
        eprintln!("skipped the FIFO case: mkfifo failed");
    }
    // A sparse file one byte over 64 MiB.
    let big = std::fs::File::create(dir.path().join("big.toml")).unwrap();
    big.set_len((64 << 20) + 1).unwrap();
    let run = run_in(dir.path(), &["check", "big.toml"]);
    code(&run, 1);
    assert_eq!(
        run.stderr,
        format!(
            "error: big.toml: {} bytes is larger than the 64 MiB reeplan reads\n",
            (64 << 20) + 1
        )
    );
    assert!(start.elapsed() < Duration::from_secs(20));
}

#[test]
fn a_csv_that_is_a_device_is_refused() {
    let dir = plan_dir(&format!("{MINIMAL}\n[data]\nmines = \"zero.csv\"\n"));
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.csv")).unwrap();
    // Through a symlink out of the directory: refused before it is opened.
    let run = run_in(dir.path(), &["check", "plan.toml"]);
    code(&run, 1);
    assert!(
        run.stderr
            .contains("the file is outside the plan's directory"),
        "{}",
        run.stderr
    );
    // Allowed with --data-root /dev, it is still not a regular file.
    let run = run_in(dir.path(), &["check", "plan.toml", "--data-root", "/dev"]);
    code(&run, 1);
    assert!(
        run.stderr.contains("zero.csv: not a regular file"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_huge_grid_is_refused_as_a_whole() {
    let dir = plan_dir(MINIMAL);
    let start = Instant::now();
    let run = run_in(
        dir.path(),
        &[
            "sweep",
            "plan.toml",
            "--set",
            "mine.m1.cost=0:1:0.0001",
            "--set",
            "refinery.r1.cost=0:1000:0.1",
        ],
    );
    code(&run, 2);
    // 10001 × 10001 values.
    assert!(
        run.stderr
            .contains("the grid has 10001 × 10001 points, more than the 1000000"),
        "{}",
        run.stderr
    );
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[test]
fn a_shard_builds_only_its_own_points() {
    // A 1000 × 1000 grid (the most allowed); shard 0 of 1,000,000 owns
    // point 0 only: both costs 0, so the cost is the plant's alone,
    // 100 t × 30000 = 3,000,000.
    let dir = plan_dir(MINIMAL);
    let run = run_in(
        dir.path(),
        &[
            "sweep",
            "plan.toml",
            "--set",
            "mine.m1.cost=0:999:1",
            "--set",
            "refinery.r1.cost=0:999:1",
            "--shard",
            "0/1000000",
            "--format",
            "csv",
            "--cold",
        ],
    );
    code(&run, 0);
    let rows: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(rows.len(), 2, "{}", run.stdout);
    assert!(rows[1].starts_with("0,0,0,optimal,3000000"), "{}", rows[1]);
}

// ------------------------------------------------------------ 3. data loss

/// Run `script` in a private mount namespace with a 1 MiB tmpfs at `disk`
/// filled up; `None` when the machine does not allow it.
fn on_full_disk(dir: &Path, args: &str) -> Option<Run> {
    let probe = sh(
        dir,
        "unshare -m sh -c 'mkdir -p disk && mount -t tmpfs -o size=1m tmpfs disk'",
    );
    if probe.code != Some(0) {
        eprintln!("skipped: cannot mount a private tmpfs: {}", probe.stderr);
        return None;
    }
    let script = format!(
        "unshare -m sh -c 'mount -t tmpfs -o size=1m tmpfs disk && \
         (head -c 2000000 /dev/zero > disk/fill 2>/dev/null; true) && \
         \"$0\" {args}; echo \"exit=$?\"; ls -a disk' \"$0\""
    );
    Some(sh(dir, &script))
}

#[test]
fn a_full_disk_fails_the_write_and_leaves_nothing() {
    let dir = plan_dir(MINIMAL);
    std::fs::create_dir(dir.path().join("disk")).unwrap();
    for args in [
        "solve plan.toml --write-model disk/x.mps",
        "solve plan.toml --write-model disk/x.lp",
        "solve plan.toml --chart disk/x.svg",
        "solve plan.toml --format csv --out disk/rep",
        "generate --mines 5 --out disk/gen.toml",
    ] {
        let Some(run) = on_full_disk(dir.path(), args) else {
            return;
        };
        assert!(run.stdout.contains("exit=1"), "{args}: {run:?}");
        assert!(
            run.stderr.contains("error: cannot write disk/")
                || run.stderr.contains("error: cannot create disk/"),
            "{args}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        // Only the filler is left on the disk (and at most an empty report
        // directory).
        let left: Vec<&str> = run
            .stdout
            .lines()
            .skip_while(|l| !l.starts_with("exit="))
            .skip(1)
            .filter(|l| !matches!(*l, "." | ".." | "fill" | "rep"))
            .collect();
        assert!(left.is_empty(), "{args}: left {left:?}");
    }
}

#[test]
fn devices_and_inputs_are_never_replaced() {
    let dir = plan_dir(MINIMAL);
    let plan_before = std::fs::read_to_string(dir.path().join("plan.toml")).unwrap();
    // Not .svg or .png: a usage error before any work.
    for target in ["/dev/full", "plan.toml"] {
        let run = run_in(dir.path(), &["solve", "plan.toml", "--chart", target]);
        code(&run, 2);
        assert!(
            run.stderr
                .contains("a chart is SVG or PNG; end the file name with .svg or .png"),
            "{}",
            run.stderr
        );
    }
    assert!(std::fs::metadata("/dev/full")
        .unwrap()
        .file_type()
        .is_char_device_like());
    // A device under a chart's name: refused, left alone.
    std::os::unix::fs::symlink("/dev/full", dir.path().join("full.svg")).unwrap();
    let run = run_in(dir.path(), &["solve", "plan.toml", "--chart", "full.svg"]);
    code(&run, 1);
    assert!(
        run.stderr
            .contains("cannot write full.svg: it exists and is not a regular file"),
        "{}",
        run.stderr
    );
    let run = run_in(
        dir.path(),
        &["solve", "plan.toml", "--write-model", "/dev/full"],
    );
    code(&run, 2);
    let run = run_in(
        dir.path(),
        &["solve", "plan.toml", "--write-model", "full.svg.mps"],
    );
    code(&run, 0);
    // The model cannot overwrite the plan: `solve plan.mps.toml`? The plan
    // is .toml, so write a plan named like a model and point at it.
    std::fs::copy(dir.path().join("plan.toml"), dir.path().join("m.lp")).unwrap();
    let run = run_in(dir.path(), &["solve", "m.lp", "--write-model", "m.lp"]);
    code(&run, 1);
    assert!(
        run.stderr
            .contains("cannot write m.lp: it is an input of this run"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("m.lp")).unwrap(),
        plan_before
    );
    // A report file over a CSV the plan reads: refused.
    let csv = "id,country,capacity,cost,grade.NdPr\nm2,CA,10,3000,0.1\n";
    let text = format!("{MINIMAL}\n[data]\nmines = \"out/report.txt\"\n");
    std::fs::create_dir(dir.path().join("out")).unwrap();
    std::fs::write(dir.path().join("out/report.txt"), csv).unwrap();
    std::fs::write(dir.path().join("p2.toml"), text).unwrap();
    let run = run_in(dir.path(), &["solve", "p2.toml", "--out", "out"]);
    code(&run, 1);
    assert!(
        run.stderr
            .contains("cannot write out/report.txt: it is an input of this run"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out/report.txt")).unwrap(),
        csv
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("plan.toml")).unwrap(),
        plan_before
    );
}

trait CharDevice {
    fn is_char_device_like(&self) -> bool;
}

impl CharDevice for std::fs::FileType {
    fn is_char_device_like(&self) -> bool {
        use std::os::unix::fs::FileTypeExt;
        self.is_char_device()
    }
}

#[test]
fn a_chart_in_a_missing_directory_fails_without_creating_it() {
    let dir = plan_dir(MINIMAL);
    let run = run_in(
        dir.path(),
        &["solve", "plan.toml", "--chart", "typo/dir/x.svg"],
    );
    code(&run, 1);
    assert_eq!(
        run.stderr,
        "error: cannot write typo/dir/x.svg: the directory typo/dir does not exist\n"
    );
    assert_eq!(run.stdout, "", "nothing solved or printed");
    assert!(!dir.path().join("typo").exists());
    // --out DIR creates DIR, but not a missing parent.
    let run = run_in(dir.path(), &["solve", "plan.toml", "--out", "typo/rep"]);
    code(&run, 1);
    assert!(!dir.path().join("typo").exists());
}

#[test]
fn concurrent_runs_into_one_directory_leave_one_runs_set() {
    // Two plans whose reports differ everywhere: demand 100 or 200.
    let dir = plan_dir(MINIMAL);
    std::fs::write(
        dir.path().join("b.toml"),
        edit(MINIMAL, "demand = 100", "demand = 200"),
    )
    .unwrap();
    let one = |plan: &str, out: &str| {
        let run = run_in(
            dir.path(),
            &["solve", plan, "--format", "csv", "--out", out],
        );
        code(&run, 0);
        names_in(&dir.path().join(out))
            .into_iter()
            .map(|n| {
                (
                    n.clone(),
                    std::fs::read(dir.path().join(out).join(n)).unwrap(),
                )
            })
            .collect::<Vec<_>>()
    };
    let set_a = one("plan.toml", "a");
    let set_b = one("b.toml", "b");
    assert_ne!(set_a, set_b);
    for round in 0..12 {
        let start = |plan: &str| {
            Command::new(bin())
                .args(["solve", plan, "--format", "csv", "--out", "shared"])
                .current_dir(dir.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        };
        let (mut x, mut y) = (start("plan.toml"), start("b.toml"));
        assert!(x.wait().unwrap().success());
        assert!(y.wait().unwrap().success());
        let got: Vec<(String, Vec<u8>)> = names_in(&dir.path().join("shared"))
            .into_iter()
            .map(|n| {
                (
                    n.clone(),
                    std::fs::read(dir.path().join("shared").join(n)).unwrap(),
                )
            })
            .collect();
        assert!(got == set_a || got == set_b, "round {round}: a mixed set");
    }
}

#[test]
fn sigint_leaves_no_temporary_files() {
    // A plan big enough that writing its model takes a while.
    let dir = tempfile::tempdir().unwrap();
    let gen = run_in(
        dir.path(),
        &[
            "generate", "--mines", "200", "--plants", "200", "--out", "big.toml",
        ],
    );
    code(&gen, 0);
    let mut interrupted = 0;
    for delay_ms in [50u64, 150, 300, 500, 800, 1200] {
        let mut child = Command::new(bin())
            .args([
                "solve",
                "big.toml",
                "--write-model",
                "big.mps",
                "--chart",
                "f.svg",
            ])
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status();
        let status = child.wait().unwrap();
        if status.code() == Some(130) {
            interrupted += 1;
        }
        assert!(
            matches!(status.code(), Some(0 | 130)),
            "{delay_ms} ms: {status:?}"
        );
        no_temp_files(dir.path());
    }
    eprintln!("{interrupted} of 6 runs interrupted");
}

#[test]
fn leftovers_of_a_killed_run_do_not_break_the_next() {
    let dir = plan_dir(MINIMAL);
    let out = dir.path().join("rep");
    std::fs::create_dir(&out).unwrap();
    // What SIGKILL leaves: a temporary file of a report name, an hour old.
    let stale = out.join(".report.txt.AbCdEf.tmp");
    let f = std::fs::File::create(&stale).unwrap();
    f.set_modified(std::time::SystemTime::now() - Duration::from_secs(3600))
        .unwrap();
    drop(f);
    let run = run_in(dir.path(), &["solve", "plan.toml", "--out", "rep"]);
    code(&run, 0);
    assert_eq!(names_in(&out), ["report.txt"]);
}

// ------------------------------------------------------------ 4. file access

const SECRET: &str = "id,country,capacity,cost,grade.NdPr\nsecret-line-do-not-print\n";

#[test]
fn a_plan_reads_csv_files_only_below_its_directory() {
    let root = tempfile::tempdir().unwrap();
    let plans = root.path().join("plans");
    let shared = root.path().join("shared");
    std::fs::create_dir(&plans).unwrap();
    std::fs::create_dir(&shared).unwrap();
    std::fs::write(shared.join("mines.csv"), SECRET).unwrap();
    std::fs::write(
        shared.join("good.csv"),
        "id,country,capacity,cost,grade.NdPr\nm2,CA,10,3000,0.1\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(shared.join("mines.csv"), plans.join("link.csv")).unwrap();
    let abs = shared.join("mines.csv");
    let abs = abs.to_str().unwrap();
    for (path, why) in [
        ("/etc/passwd", "an absolute path is not allowed"),
        (abs, "an absolute path is not allowed"),
        (
            "../shared/mines.csv",
            "the path leads out of the plan's directory",
        ),
        (
            "a/../../shared/mines.csv",
            "the path leads out of the plan's directory",
        ),
        ("link.csv", "the file is outside the plan's directory"),
    ] {
        std::fs::write(
            plans.join("plan.toml"),
            format!("{MINIMAL}\n[data]\nmines = {path:?}\n"),
        )
        .unwrap();
        let run = run_in(&plans, &["check", "plan.toml"]);
        code(&run, 1);
        assert!(run.stderr.contains(why), "{path}: {}", run.stderr);
        assert!(
            run.stderr
                .contains("allow another directory with --data-root DIR"),
            "{}",
            run.stderr
        );
        assert!(!run.stderr.contains("secret") && !run.stderr.contains("root:"));
    }
    // --data-root allows the shared directory, and only it.
    std::fs::write(
        plans.join("plan.toml"),
        format!("{MINIMAL}\n[data]\nmines = \"../shared/good.csv\"\n"),
    )
    .unwrap();
    let run = run_in(&plans, &["check", "plan.toml", "--data-root", "../shared"]);
    code(&run, 0);
    assert!(run.stdout.contains("mines         2"), "{}", run.stdout);
    std::fs::write(
        plans.join("plan.toml"),
        format!("{MINIMAL}\n[data]\nmines = \"/etc/passwd\"\n"),
    )
    .unwrap();
    let run = run_in(&plans, &["check", "plan.toml", "--data-root", "../shared"]);
    code(&run, 1);
    assert!(!run.stderr.contains("root:"), "{}", run.stderr);
}

// ------------------------------------------------------------ 5. messages

fn check_text(text: &str) -> Run {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("plan.toml"), text).unwrap();
    run_in(dir.path(), &["check", "plan.toml"])
}

#[test]
fn numbers_highs_cannot_take_are_rejected_at_load() {
    let cases = [
        (
            "recipe = { NdPr = 0.3 }",
            "recipe = { NdPr = 1e308 }",
            "recipe = { NdPr = |1e308 }",
            "magnet_plant \"p1\" recipe NdPr",
            "must be at most 1000 (t oxide per t magnet)",
        ),
        (
            "demand = 100",
            "demand = 1e308",
            "demand = |1e308",
            "market \"us\" demand",
            "must be at most 1e12, the largest amount or cost reeplan accepts",
        ),
        (
            "demand = 100",
            "demand = 1e15\nunmet_penalty = 1e300",
            "demand = |1e15",
            "market \"us\" demand",
            "must be at most 1e12",
        ),
        (
            "capacity = 500",
            "capacity = 1e13",
            "capacity = |1e13",
            "magnet_plant \"p1\" capacity",
            "must be at most 1e12",
        ),
        (
            "cost = 30000",
            "cost = 2e12",
            "cost = |2e12",
            "magnet_plant \"p1\" cost",
            "must be at most 1e12",
        ),
    ];
    for (old, new, marked, field, why) in cases {
        let text = edit(MINIMAL, old, new);
        let run = check_text(&text);
        code(&run, 1);
        let first = run.stderr.lines().next().unwrap_or_default().to_string();
        let loc = common::at(&text, marked);
        assert!(
            first.starts_with(&format!("error: {loc}: {field} = ")) && first.contains(why),
            "{new}: {}",
            run.stderr
        );
    }
    // The largest allowed values pass.
    let text = edit(
        MINIMAL,
        "demand = 100",
        "demand = 1e12\nunmet_penalty = 1e12",
    );
    code(&check_text(&text), 0);
}

#[test]
fn bad_bytes_are_located() {
    // 0xFF at line 3, column 6.
    let mut bytes = b"[plan]\nname = \"x\"\nfirst".to_vec();
    bytes.push(0xFF);
    bytes.extend_from_slice(b"_year = 2026\n");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("plan.toml"), &bytes).unwrap();
    let run = run_in(dir.path(), &["check", "plan.toml"]);
    code(&run, 1);
    assert_eq!(
        run.stderr,
        "error: plan.toml:3:6: invalid UTF-8 (byte 0xFF); plans and CSV files must be UTF-8 text\n"
    );
    // UTF-16 with a byte order mark.
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(MINIMAL.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    std::fs::write(dir.path().join("plan.toml"), &utf16).unwrap();
    let run = run_in(dir.path(), &["check", "plan.toml"]);
    code(&run, 1);
    assert_eq!(
        run.stderr,
        "error: plan.toml:1:1: the file is UTF-16 (little-endian) text (it starts with a byte order mark); save it as UTF-8\n"
    );
    // Binary garbage: exit 1 with a location, whatever the bytes.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let garbage: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    std::fs::write(dir.path().join("plan.toml"), &garbage).unwrap();
    let run = run_in(dir.path(), &["check", "plan.toml"]);
    code(&run, 1);
    assert!(
        run.stderr.starts_with("error: plan.toml:"),
        "{}",
        run.stderr
    );
    // A CSV with a bad byte: its own file, line and column (line 2, col 4).
    std::fs::write(
        dir.path().join("plan.toml"),
        format!("{MINIMAL}\n[data]\nmines = \"m.csv\"\n"),
    )
    .unwrap();
    let mut csv = b"id,country,capacity,cost,grade.NdPr\nm2,".to_vec();
    csv.push(0xC3);
    csv.extend_from_slice(b"A,10,3000,0.1\n");
    std::fs::write(dir.path().join("m.csv"), &csv).unwrap();
    let run = run_in(dir.path(), &["check", "plan.toml"]);
    code(&run, 1);
    assert!(
        run.stderr.contains("m.csv:2:4: invalid UTF-8 (byte 0xC3)"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_very_deep_dotted_header_is_located_at_its_line() {
    let header = format!("[{}]", vec!["a"; 20_000].join("."));
    let text = format!("{MINIMAL}\n{header}\nx = 1\n");
    let line = text.lines().position(|l| l == header).unwrap() + 1;
    let run = check_text(&text);
    code(&run, 1);
    assert!(
        run.stderr
            .starts_with(&format!("error: plan.toml:{line}:1: invalid TOML")),
        "{}",
        run.stderr.chars().take(300).collect::<String>()
    );
}

#[test]
fn init_needs_a_name() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["", ".toml", "  "] {
        let run = run_in(dir.path(), &["init", name]);
        code(&run, 2);
        assert!(
            run.stderr.contains("the plan needs a name"),
            "{}",
            run.stderr
        );
    }
    assert!(names_in(dir.path()).is_empty());
}

#[test]
fn a_bad_set_value_is_located_in_what_was_typed() {
    let dir = plan_dir(MINIMAL);
    let run = run_in(
        dir.path(),
        &["solve", "plan.toml", "--set", "plan.discount_rate=5"],
    );
    code(&run, 1);
    // "plan.discount_rate=" is 19 characters: the value is column 20.
    assert_eq!(
        run.stderr,
        "error: --set plan.discount_rate=5 (column 20): [plan] discount_rate = 5: must be at most 1 (a rate of 100 % a year)\n"
    );
}

// ------------------------------------------------------------ 6. nonsense

#[test]
fn a_recipe_must_need_some_oxide() {
    for recipe in ["recipe = {}", "recipe = { NdPr = 0 }"] {
        let text = edit(MINIMAL, "recipe = { NdPr = 0.3 }", recipe);
        let run = check_text(&text);
        code(&run, 1);
        let loc = common::at(&text, &recipe.replacen("{", "|{", 1));
        assert_eq!(
            run.stderr,
            format!("error: {loc}: magnet_plant \"p1\" recipe: must give at least one element a value > 0 (a plant that needs no oxide would make magnets from nothing)\n")
        );
    }
}

#[test]
fn country_codes_with_control_characters_are_errors() {
    for bad in ["\"U\\u0000S\"", "\"U\\nS\"", "\"US\\t\""] {
        let text = edit(MINIMAL, "country = \"AU\"", &format!("country = {bad}"));
        let run = check_text(&text);
        code(&run, 1);
        assert!(
            // Caught as any string of a plan is (decision 83), at the field.
            run.stderr.contains("mine \"m1\" country = ")
                && run.stderr.contains(
                    "control characters (such as ESC, NUL, a tab or a line break) are not allowed"
                ),
            "{bad}: {}",
            run.stderr
        );
    }
}

#[test]
fn a_tariff_from_a_country_to_itself_is_a_warning() {
    let text = format!(
        "{MINIMAL}\n[[tariff]]\nid = \"self\"\nproduct = \"magnet\"\nfrom = \"US\"\nto = \"US\"\nper_tonne = 5\n"
    );
    let run = check_text(&text);
    code(&run, 0);
    let loc = common::at(&text, "to = |\"US\"");
    assert_eq!(
        run.stderr,
        format!("warning: {loc}: tariff \"self\": from and to are both \"US\"; a tariff is charged only on cross-border shipments, so this one never applies\n")
    );
}

#[test]
fn the_discount_rate_is_bounded() {
    let text = edit(
        MINIMAL,
        "last_year = 2026",
        "last_year = 2026\ndiscount_rate = 1e308",
    );
    let run = check_text(&text);
    code(&run, 1);
    assert!(
        run.stderr.contains("[plan] discount_rate = ")
            && run
                .stderr
                .contains("must be at most 1 (a rate of 100 % a year)"),
        "{}",
        run.stderr
    );
    let text = edit(
        MINIMAL,
        "last_year = 2026",
        "last_year = 2026\ndiscount_rate = 1",
    );
    code(&check_text(&text), 0);
}

#[test]
fn generated_plans_always_pass_check() {
    let dir = tempfile::tempdir().unwrap();
    for (years, mines, markets) in [(1, 3, 1), (1, 10, 4), (2, 5, 2), (7, 8, 3)] {
        for seed in 0..4 {
            let (y, m, k, s) = (
                years.to_string(),
                mines.to_string(),
                markets.to_string(),
                seed.to_string(),
            );
            let run = run_in(
                dir.path(),
                &[
                    "generate",
                    "--years",
                    &y,
                    "--mines",
                    &m,
                    "--refineries",
                    "3",
                    "--plants",
                    "3",
                    "--markets",
                    &k,
                    "--seed",
                    &s,
                    "--out",
                    "g.toml",
                ],
            );
            code(&run, 0);
            let run = run_in(dir.path(), &["check", "g.toml"]);
            code(&run, 0);
        }
    }
}

// ------------------------------------------------------------ 7. exits

#[test]
fn frontier_on_a_plan_infeasible_at_zero_exits_3() {
    // Demand 1000 t, the plant makes at most 500: infeasible whatever the rule.
    let text = format!(
        "{}\n[[share_rule]]\nid = \"r\"\nmin_share = 0.5\n",
        edit(MINIMAL, "demand = 100", "demand = 1000")
    );
    let dir = plan_dir(&text);
    let run = run_in(dir.path(), &["frontier", "plan.toml", "--rule", "r"]);
    code(&run, 3);
    assert!(
        run.stderr
            .contains("the plan is infeasible even with the rule at 0 %"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("solver failure"));
}

#[test]
fn a_closed_pipe_ends_quietly_and_a_full_stdout_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    // More output than a pipe holds, and nobody reading it.
    let mut child = Command::new(bin())
        .args(["generate", "--mines", "3000"])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    let run = sh(dir.path(), "\"$0\" schema > /dev/full");
    code(&run, 1);
    assert!(
        run.stderr
            .contains("error: cannot write to standard output"),
        "{}",
        run.stderr
    );
}

#[test]
fn output_failures_exit_1_not_as_solver_failures() {
    let dir = plan_dir(MINIMAL);
    // A directory where the chart should go.
    std::fs::create_dir(dir.path().join("x.svg")).unwrap();
    let run = run_in(dir.path(), &["solve", "plan.toml", "--chart", "x.svg"]);
    code(&run, 1);
    assert!(!run.stderr.contains("solver failure"), "{}", run.stderr);
    // --out onto a file.
    std::fs::write(dir.path().join("file"), "x").unwrap();
    let run = run_in(dir.path(), &["solve", "plan.toml", "--out", "file"]);
    code(&run, 1);
    assert!(
        run.stderr
            .contains("cannot write into file: it exists and is not a directory"),
        "{}",
        run.stderr
    );
}

/// The smallest coefficients a plan may give (grade 1e-5, recovery 1e-5)
/// still solve to the optimum: 1 t of magnet (recipe 1 t NdPr) needs
/// 1 / (1e-5 × 1e-5) = 1e10 t REO, mined at 1 USD/t, so the cost is 1e10.
/// (HiGHS's default small_matrix_value, 1e-9, had dropped the 1e-10 entry
/// and called the plan infeasible; found by fuzzing.)
#[test]
fn the_smallest_coefficients_still_solve_to_the_optimum() {
    let plan = "[plan]\nfirst_year = 2026\nlast_year = 2026\n[elements.NdPr]\nprice = 0\n\
        [[mine]]\nid = \"m1\"\ncountry = \"AU\"\ncapacity = 1e12\ncost = 1\ngrade = { NdPr = 1e-5 }\n\
        [[refinery]]\nid = \"r1\"\ncountry = \"MY\"\ncapacity = 1e12\ncost = 0\nrecovery = 1e-5\n\
        [[magnet_plant]]\nid = \"p1\"\ncountry = \"US\"\ncapacity = 1e12\ncost = 0\nrecipe = { NdPr = 1 }\n\
        [[market]]\nid = \"us\"\ncountry = \"US\"\ndemand = 1\n";
    let dir = plan_dir(plan);
    let run = run_in(dir.path(), &["solve", "plan.toml", "--format", "json"]);
    code(&run, 0);
    let j: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let cost = j["objective_value"].as_f64().unwrap();
    assert!((cost - 1e10).abs() <= 1e-6 * 1e10, "{cost}");
}
