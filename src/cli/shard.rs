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
    let bytes = if csv {
        merge_csv(&files)?
    } else {
        merge_jsonl(&files)?
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
    Error::Usage(format!("merge: {}:{line}: {what}", path.display()))
}

/// Sort rows by point; a point seen twice is an error (shards overlap).
fn sorted<T>(mut rows: Vec<(usize, PathBuf, usize, T)>) -> Result<Vec<T>, Error> {
    rows.sort_by_key(|r| r.0);
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

fn merge_csv(files: &[PathBuf]) -> Result<Vec<u8>, Error> {
    let mut header: Option<csv::StringRecord> = None;
    let mut rows = Vec::new();
    for path in files {
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_path(path)
            .map_err(|e| Error::io(path, std::io::Error::other(e.to_string())))?;
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
    let rows = sorted(rows)?;
    let mut w = csv::Writer::from_writer(Vec::new());
    let e = |e: csv::Error| Error::Solver(format!("CSV: {e}"));
    if let Some(h) = &header {
        w.write_record(h).map_err(e)?;
    }
    for r in &rows {
        w.write_record(r).map_err(e)?;
    }
    w.into_inner()
        .map_err(|e| Error::Solver(format!("CSV: {e}")))
}

fn merge_jsonl(files: &[PathBuf]) -> Result<Vec<u8>, Error> {
    let mut rows = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
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
