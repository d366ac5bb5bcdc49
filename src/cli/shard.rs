//! Sharding a sweep across the array jobs of a cluster scheduler
//! (`--shard K/N` or `--shard auto`) and `reeplan merge`, which puts the
//! shards' outputs back together into the unsharded table.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use crate::error::Error;

/// `--shard K/N`, or `auto`: the index and count from the scheduler's
/// environment (Slurm job array, or Kubernetes Indexed Job).
pub fn parse_shard(s: &str) -> Result<(usize, usize), Error> {
    if s.trim() == "auto" {
        return from_env(|name| std::env::var(name).ok());
    }
    let err = || {
        Error::Usage(format!(
            "--shard {s}: expected K/N with 0 <= K < N, or auto"
        ))
    };
    let (k, n) = s.split_once('/').ok_or_else(err)?;
    let (k, n): (usize, usize) = (
        k.trim().parse().map_err(|_| err())?,
        n.trim().parse().map_err(|_| err())?,
    );
    if n == 0 || k >= n {
        return Err(err());
    }
    Ok((k, n))
}

/// The shard of this task: Slurm's `SLURM_ARRAY_TASK_ID −
/// SLURM_ARRAY_TASK_MIN` of `SLURM_ARRAY_TASK_COUNT`, or a Kubernetes
/// Indexed Job's `JOB_COMPLETION_INDEX` of `REEPLAN_SHARD_COUNT` (the Job's
/// `completions`, which Kubernetes does not pass to the pod itself).
pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<(usize, usize), Error> {
    let number = |name: &str| -> Result<Option<usize>, Error> {
        match var(name) {
            None => Ok(None),
            Some(v) => v.trim().parse().map(Some).map_err(|_| {
                Error::Usage(format!(
                    "--shard auto: {name}={v:?} is not a whole number >= 0"
                ))
            }),
        }
    };
    let (k, n, from) = if let Some(id) = number("SLURM_ARRAY_TASK_ID")? {
        let min = number("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
        let Some(count) = number("SLURM_ARRAY_TASK_COUNT")? else {
            return Err(Error::Usage(
                "--shard auto: SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not".into(),
            ));
        };
        if id < min {
            return Err(Error::Usage(format!(
                "--shard auto: SLURM_ARRAY_TASK_ID={id} is below SLURM_ARRAY_TASK_MIN={min}"
            )));
        }
        (
            id - min,
            count,
            "Slurm (--array must be a contiguous range such as 0-7)",
        )
    } else if let Some(index) = number("JOB_COMPLETION_INDEX")? {
        let Some(count) = number("REEPLAN_SHARD_COUNT")? else {
            return Err(Error::Usage(
                "--shard auto: JOB_COMPLETION_INDEX is set but REEPLAN_SHARD_COUNT is not: set it to the Indexed Job's completions".into(),
            ));
        };
        (
            index,
            count,
            "the Indexed Job (REEPLAN_SHARD_COUNT must equal completions)",
        )
    } else {
        return Err(Error::Usage(
            "--shard auto: neither a Slurm job array (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT) nor a Kubernetes Indexed Job (JOB_COMPLETION_INDEX with REEPLAN_SHARD_COUNT) is set; give --shard K/N instead".into(),
        ));
    };
    if n == 0 || k >= n {
        return Err(Error::Usage(format!(
            "--shard auto: task {k} of {n} from {from} is not a shard 0 <= K < N"
        )));
    }
    Ok((k, n))
}

#[derive(Args)]
pub struct MergeArgs {
    /// Shard outputs of `reeplan sweep --shard` (sweep-shard-K-of-N.csv or
    /// .jsonl), or directories holding them.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Write the merged table here instead of to stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    out: Option<PathBuf>,
}

/// One shard file: CSV (header in shard 0 only) or JSON lines.
enum Kind {
    Csv,
    Jsonl,
}

fn kind_of(path: &Path) -> Option<Kind> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("csv") => Some(Kind::Csv),
        Some("jsonl") => Some(Kind::Jsonl),
        _ => None,
    }
}

/// `reeplan merge`: the shards' rows, sorted by point, under one header.
pub fn merge(args: &MergeArgs) -> Result<ExitCode, Error> {
    let mut files = Vec::new();
    for input in &args.inputs {
        if input.is_dir() {
            let entries = std::fs::read_dir(input).map_err(|e| Error::io(input, e))?;
            let mut found: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                    name.starts_with("sweep-shard-") && kind_of(p).is_some()
                })
                .collect();
            found.sort();
            files.extend(found);
        } else {
            files.push(input.clone());
        }
    }
    if files.is_empty() {
        return Err(Error::Usage(
            "merge: no sweep-shard-*.csv or .jsonl files found".into(),
        ));
    }
    let kinds: Vec<Kind> = files
        .iter()
        .map(|f| {
            kind_of(f).ok_or_else(|| {
                Error::Usage(format!(
                    "merge: {}: expected a .csv or .jsonl shard output",
                    f.display()
                ))
            })
        })
        .collect::<Result<_, _>>()?;
    let csv = matches!(kinds[0], Kind::Csv);
    if kinds.iter().any(|k| matches!(k, Kind::Csv) != csv) {
        return Err(Error::Usage(
            "merge: the inputs mix CSV and JSON lines; merge one format at a time".into(),
        ));
    }
    complete_set(&files)?;
    // Read through the input reader: regular files only, and each one an
    // input of this run, so `-o` cannot overwrite a shard.
    let texts = files
        .iter()
        .map(|f| {
            crate::fsio::read_input_up_to(f, crate::fsio::MAX_SHARD_BYTES)
                .map_err(|e| Error::Input(format!("merge: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(out) = &args.out {
        crate::fsio::check_target(out)?;
    }
    let bytes = if csv {
        merge_csv(&files, &texts)?
    } else {
        merge_jsonl(&files, &texts)?
    };
    match &args.out {
        Some(path) => super::output::write_file(path, &bytes)?,
        None => {
            use std::io::Write;
            let _ = std::io::stdout().lock().write_all(&bytes);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn bad(path: &Path, line: usize, what: String) -> Error {
    Error::Input(format!("merge: {}:{line}: {what}", path.display()))
}

/// `sweep-shard-K-of-N.csv` → `(K, N)`.
fn shard_of(path: &Path) -> Option<(usize, usize)> {
    let stem = path.file_stem()?.to_str()?;
    let (k, n) = stem.strip_prefix("sweep-shard-")?.split_once("-of-")?;
    Some((k.parse().ok()?, n.parse().ok()?))
}

/// When every input is named as `sweep --shard` names it, the names must
/// make one whole set: the same N, each K from 0 to N−1 once. (A lost
/// shard need not leave a gap in the points: the last ones are dealt
/// round-robin.)
fn complete_set(files: &[PathBuf]) -> Result<(), Error> {
    let Some(shards) = files
        .iter()
        .map(|f| shard_of(f))
        .collect::<Option<Vec<_>>>()
    else {
        return Ok(());
    };
    let n = shards[0].1;
    if n == 0 {
        return Err(Error::Input(format!(
            "merge: {}: a sweep has at least one shard (sweep-shard-K-of-N with N >= 1)",
            files[0].display()
        )));
    }
    if let Some((f, (_, m))) = files.iter().zip(&shards).find(|(_, (_, m))| *m != n) {
        return Err(Error::Input(format!(
            "merge: {} is a shard of {m}, the others of {n} (two different sweeps?)",
            f.display()
        )));
    }
    if let Some((f, _)) = files.iter().zip(&shards).find(|(_, (k, _))| *k >= n) {
        return Err(Error::Input(format!(
            "merge: {}: shard numbers run from 0 to {}",
            f.display(),
            n - 1
        )));
    }
    let mut seen = vec![0usize; n];
    for (k, _) in &shards {
        seen[*k] += 1;
    }
    let missing: Vec<String> = (0..n)
        .filter(|k| seen[*k] == 0)
        .map(|k| k.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(Error::Input(format!(
            "merge: shard {} of {n} is missing (give every sweep-shard-K-of-{n} file)",
            missing.join(", ")
        )));
    }
    if let Some(k) = (0..n).find(|k| seen[*k] > 1) {
        return Err(Error::Input(format!(
            "merge: shard {k} of {n} is given twice"
        )));
    }
    Ok(())
}

/// Sort rows by point; a point seen twice is an error (shards overlap), and
/// so is a point missing below the highest (a shard left out).
fn sorted<T>(mut rows: Vec<(usize, PathBuf, usize, T)>) -> Result<Vec<T>, Error> {
    if rows.is_empty() {
        return Err(Error::Input(
            "merge: the inputs hold no sweep points".into(),
        ));
    }
    rows.sort_by_key(|r| r.0);
    // Sorted, the missing points are those below the first and in the gaps.
    let missing: Vec<String> = (0..rows[0].0)
        .chain(rows.windows(2).flat_map(|w| w[0].0 + 1..w[1].0))
        .take(10)
        .map(|p| p.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(Error::Input(format!(
            "merge: point {} missing (a shard left out?)",
            missing.join(", ")
        )));
    }
    for w in rows.windows(2) {
        if w[0].0 == w[1].0 {
            return Err(bad(
                &w[1].1,
                w[1].2,
                format!(
                    "point {} also in {}:{} (overlapping shards?)",
                    w[1].0,
                    w[0].1.display(),
                    w[0].2
                ),
            ));
        }
    }
    Ok(rows.into_iter().map(|r| r.3).collect())
}

fn merge_csv(files: &[PathBuf], texts: &[String]) -> Result<Vec<u8>, Error> {
    let mut header: Option<csv::StringRecord> = None;
    let mut rows = Vec::new();
    for (path, text) in files.iter().zip(texts) {
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        for (i, rec) in r.records().enumerate() {
            let rec = rec.map_err(|e| bad(path, i + 1, e.to_string()))?;
            let first = rec.get(0).unwrap_or("");
            if first == "point" {
                if header.as_ref().is_some_and(|h| h != &rec) {
                    return Err(bad(
                        path,
                        i + 1,
                        "a header unlike the other shards' (a different sweep?)".into(),
                    ));
                }
                header = Some(rec);
                continue;
            }
            let point: usize = first.parse().map_err(|_| {
                bad(
                    path,
                    i + 1,
                    format!("expected a point number in the first column, found {first:?}"),
                )
            })?;
            rows.push((point, path.clone(), i + 1, rec));
        }
    }
    // Every row as wide as the header: a row cut short, or a shard of a
    // sweep with other axes, would put values under the wrong columns.
    if let Some(h) = &header {
        if let Some((_, path, line, rec)) = rows.iter().find(|r| r.3.len() != h.len()) {
            return Err(bad(
                path,
                *line,
                format!(
                    "{} fields where the header (shard 0) has {}: a row cut short, or a shard of another sweep",
                    rec.len(),
                    h.len()
                ),
            ));
        }
    }
    let rows = sorted(rows)?;
    if header.is_none() {
        return Err(Error::Input(
            "merge: no header row: shard 0's output (sweep-shard-0-of-N.csv) holds it and is not among the inputs".into(),
        ));
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    let e = |e: csv::Error| Error::Output(format!("merge: CSV: {e}"));
    if let Some(h) = &header {
        w.write_record(h).map_err(e)?;
    }
    for r in &rows {
        w.write_record(r).map_err(e)?;
    }
    w.into_inner()
        .map_err(|e| Error::Output(format!("merge: CSV: {e}")))
}

fn merge_jsonl(files: &[PathBuf], texts: &[String]) -> Result<Vec<u8>, Error> {
    let mut rows = Vec::new();
    let mut set_keys: Option<(Vec<String>, PathBuf, usize)> = None;
    for (path, text) in files.iter().zip(texts) {
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let v: serde_json::Value =
                serde_json::from_str(line).map_err(|e| bad(path, i + 1, e.to_string()))?;
            let point = v["point"].as_u64().ok_or_else(|| {
                bad(
                    path,
                    i + 1,
                    "expected an object with a \"point\" number".into(),
                )
            })?;
            // Every point of one sweep sets the same paths.
            let keys: Vec<String> = v["set"]
                .as_object()
                .map(|o| o.keys().cloned().collect())
                .unwrap_or_default();
            match &set_keys {
                None => set_keys = Some((keys, path.clone(), i + 1)),
                Some((first, at, line)) if *first != keys => {
                    return Err(bad(
                        path,
                        i + 1,
                        format!(
                            "sets {keys:?} where {}:{line} sets {first:?}: a shard of another sweep",
                            at.display()
                        ),
                    ));
                }
                Some(_) => {}
            }
            rows.push((point as usize, path.clone(), i + 1, line.to_string()));
        }
    }
    let mut out = String::new();
    for line in sorted(rows)? {
        out.push_str(&line);
        out.push('\n');
    }
    Ok(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn slurm_task_ids_count_from_the_array_minimum() {
        let vars = [
            ("SLURM_ARRAY_TASK_ID", "7"),
            ("SLURM_ARRAY_TASK_MIN", "5"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ];
        assert_eq!(from_env(env(&vars)).unwrap(), (2, 4));
    }

    #[test]
    fn an_indexed_job_needs_its_count() {
        let vars = [("JOB_COMPLETION_INDEX", "3"), ("REEPLAN_SHARD_COUNT", "5")];
        assert_eq!(from_env(env(&vars)).unwrap(), (3, 5));
        let e = from_env(env(&[("JOB_COMPLETION_INDEX", "3")])).unwrap_err();
        assert!(e.to_string().contains("REEPLAN_SHARD_COUNT"), "{e}");
    }

    #[test]
    fn neither_scheduler_is_a_clear_error() {
        let e = from_env(env(&[])).unwrap_err().to_string();
        assert!(e.contains("SLURM_ARRAY_TASK_ID") && e.contains("JOB_COMPLETION_INDEX"));
        // A strided array (e.g. --array=0-6:2 gives ids 0,2,4,6 of 4).
        let vars = [
            ("SLURM_ARRAY_TASK_ID", "6"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ];
        assert!(from_env(env(&vars))
            .unwrap_err()
            .to_string()
            .contains("contiguous"));
        let vars = [
            ("SLURM_ARRAY_TASK_ID", "x"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ];
        assert!(from_env(env(&vars))
            .unwrap_err()
            .to_string()
            .contains("\"x\""));
    }
}
