//! Authoring help: `reeplan schema` and `reeplan init`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::error::Error;

/// A commented starter plan that solves (see `reeplan init`).
pub const STARTER: &str = include_str!("starter.toml");

#[derive(Args)]
pub struct InitArgs {
    /// Name of the plan; the file written is NAME.toml (default: plan).
    name: Option<String>,
    /// Overwrite the file if it exists.
    #[arg(long)]
    force: bool,
}

pub fn init(args: &InitArgs) -> Result<ExitCode, Error> {
    let name = args.name.as_deref().unwrap_or("plan");
    let stem = name.strip_suffix(".toml").unwrap_or(name);
    if stem.trim().is_empty() || stem.ends_with('/') || stem.ends_with('.') {
        return Err(Error::Usage(format!(
            "init {name:?}: the plan needs a name (the file written is NAME.toml)"
        )));
    }
    let file = if name.ends_with(".toml") {
        PathBuf::from(name)
    } else {
        PathBuf::from(format!("{name}.toml"))
    };
    if file.exists() && !args.force {
        return Err(Error::Usage(format!(
            "{} already exists; choose another name or pass --force",
            file.display()
        )));
    }
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let text = STARTER.replacen("name = \"starter\"", &format!("name = {stem:?}"), 1);
    super::output::write_file(&file, text.as_bytes())?;
    eprintln!(
        "wrote {}: a small plan that solves. Try:\n  reeplan check {0}\n  reeplan solve {0}",
        file.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn schema() -> Result<ExitCode, Error> {
    let schema = crate::plan::schema::json_schema();
    let text =
        serde_json::to_string_pretty(&schema).map_err(|e| Error::Output(format!("JSON: {e}")))?;
    crate::fsio::print(format!("{text}\n").as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
