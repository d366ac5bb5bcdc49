//! `reeplan generate`: write a synthetic plan of a requested size.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use crate::generate::{generate_plan_with, GenerateParams, Instruments, ELEMENTS};
use crate::Error;

#[derive(Args)]
pub struct GenerateArgs {
    /// Number of mines.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    mines: u32,
    /// Number of refineries (separation plants).
    #[arg(long, default_value_t = 150, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    refineries: u32,
    /// Number of magnet plants.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    plants: u32,
    /// Number of markets.
    #[arg(long, default_value_t = 40, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    markets: u32,
    /// Number of years in the horizon (from 2026).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=500))]
    years: u32,
    /// Number of elements tracked (NdPr, Dy, Tb, Ho, Gd, in this order).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=ELEMENTS.len() as i64))]
    elements: u32,
    /// Seed of the random numbers: the same seed gives the same plan.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Add build candidates (`expand`, some greenfield), captive and offtake
    /// contracts, production credits and stockpiles.
    #[arg(long)]
    instruments: bool,
    /// With --instruments: make a third of the builds lumpy (`min_build`),
    /// so the plan is a mixed-integer program.
    #[arg(long, requires = "instruments")]
    lumpy: bool,
    /// Write the plan to this file (whole or not at all) instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    out: Option<PathBuf>,
}

pub fn run(args: &GenerateArgs) -> Result<ExitCode, Error> {
    let params = GenerateParams {
        mines: args.mines as usize,
        refineries: args.refineries as usize,
        plants: args.plants as usize,
        markets: args.markets as usize,
        years: args.years as usize,
        elements: args.elements as usize,
        seed: args.seed,
    };
    params.check().map_err(Error::Usage)?;
    let instruments = args
        .instruments
        .then_some(Instruments { lumpy: args.lumpy });
    let text = generate_plan_with(&params, instruments);
    match &args.out {
        Some(path) => write_file_atomically(path, text.as_bytes())?,
        None => crate::fsio::print(text.as_bytes())?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Write through a temporary file in the same directory and rename it into
/// place, so the file appears whole or not at all.
fn write_file_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    super::output::write_file(path, bytes)
}
