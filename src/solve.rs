//! HiGHS, called through `highs-sys` on a model passed in one piece.
//!
//! The `highs` crate (and good_lp above it) would copy the matrix once more
//! and hide the calls we need (row-wise loading, writing the model, the
//! model status that tells "unbounded" from "infeasible"); this module keeps
//! all unsafe code of the program in one place behind a small safe API.

use std::cell::Cell;
use std::ffi::CString;
use std::os::raw::c_void;
use std::path::Path;
use std::time::Instant;

use highs_sys::*;

use crate::error::{Error, Result};
use crate::model::lp::{Lp, Sense};

mod split;
pub use split::{blocks, Block, Blocks};

/// How a solve ended, in the words of FORMULATION.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Optimal,
    Infeasible,
    Unbounded,
    TimeLimit,
    Error,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Optimal => "optimal",
            Status::Infeasible => "infeasible",
            Status::Unbounded => "unbounded",
            Status::TimeLimit => "time-limit",
            Status::Error => "error",
        }
    }
}

/// Solver settings passed through from the command line.
#[derive(Clone, Debug, Default)]
pub struct SolverOptions {
    pub time_limit: Option<f64>,
    pub threads: Option<u32>,
    pub verbose: bool,
    /// Solve the LP as one even where it falls apart into independent
    /// blocks (by default each block is solved apart; see [`split`]).
    pub monolithic: bool,
    /// HiGHS's LP algorithm.
    pub algorithm: Algorithm,
    /// HiGHS options set last, by name (checked with [`check_highs_option`]).
    pub highs_options: Vec<(String, String)>,
    /// Relative MIP gap at which HiGHS stops (`mip_rel_gap`).
    pub mip_gap: Option<f64>,
}

/// How far a MIP solve got.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct MipInfo {
    /// Relative gap between the incumbent and the best bound.
    pub gap: f64,
    /// Branch-and-bound nodes explored.
    pub nodes: i64,
    /// The incumbent's objective value.
    pub objective: f64,
}

/// From this many columns `--solver auto` solves an LP (or block) that
/// starts cold with the interior-point method (docs/scale.md, "Algorithms":
/// cold, IPM won from 8k columns on the generated plans and by 2.3–2.9× at
/// 17k–100k; simplex won only on a small 11.6k-column plan with builds).
pub const IPM_FROM_COLUMNS: usize = 20_000;

/// From this many columns `auto` also uses IPM for a block that could start
/// from the previous year's basis: warm-started simplex beat cold IPM on
/// 24k-column year blocks (48.5 s against 62.5 s over 9 years), IPM beat it
/// 4.5× on 48k-column blocks.
pub const IPM_WARM_FROM_COLUMNS: usize = 40_000;

/// Which HiGHS algorithm solves an LP (HiGHS's `solver` option).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Algorithm {
    /// Chosen by the measured rule of [`Algorithm::for_lp`].
    #[default]
    Auto,
    Simplex,
    Ipm,
    Pdlp,
}

impl Algorithm {
    /// The value of HiGHS's `solver` option for this LP; `None` leaves
    /// HiGHS's own default ("choose": simplex for an LP, branch and bound
    /// for a MIP).
    fn highs_name(self, lp: &Lp, warm: bool) -> Option<&'static str> {
        match self {
            Algorithm::Auto => match Algorithm::for_lp(lp, warm) {
                Algorithm::Simplex | Algorithm::Auto => None,
                other => other.highs_name(lp, warm),
            },
            Algorithm::Simplex => Some("simplex"),
            Algorithm::Ipm => Some("ipm"),
            Algorithm::Pdlp => Some("pdlp"),
        }
    }

    /// The measured rule (docs/scale.md, "Algorithms") for an LP handed to
    /// HiGHS (a whole LP, or one independent block of it): the
    /// interior-point method (with crossover, so the solution is basic and
    /// the duals are those of a vertex) from [`IPM_FROM_COLUMNS`] columns
    /// when it starts cold, from [`IPM_WARM_FROM_COLUMNS`] when the previous
    /// block's basis could start simplex (`warm`), simplex below. A MIP is
    /// left to HiGHS's MIP solver. A solve that starts from a basis the
    /// caller gives (a sweep point) always uses simplex; see [`solve_warm`].
    pub fn for_lp(lp: &Lp, warm: bool) -> Algorithm {
        let from = if warm {
            IPM_WARM_FROM_COLUMNS
        } else {
            IPM_FROM_COLUMNS
        };
        if !lp.is_mip() && lp.num_cols() >= from {
            Algorithm::Ipm
        } else {
            Algorithm::Simplex
        }
    }
}

/// Check a HiGHS option name and value as HiGHS itself would take them;
/// the error says what HiGHS rejected.
pub fn check_highs_option(name: &str, value: &str) -> std::result::Result<(), String> {
    let mut highs = Highs::new();
    highs
        .set_bool("output_flag", false)
        .map_err(|e| e.to_string())?;
    let c = CString::new(name).map_err(|_| format!("{name:?}: not an option name"))?;
    let mut kind: HighsInt = -1;
    // SAFETY: valid instance, NUL-terminated name, one HighsInt to write.
    if unsafe { Highs_getOptionType(highs.0, c.as_ptr(), &mut kind) } == STATUS_ERROR {
        return Err(format!("HiGHS has no option named {name:?}"));
    }
    let kind = match kind {
        k if k == kHighsOptionTypeBool => "true or false",
        k if k == kHighsOptionTypeInt => "an integer in its range",
        k if k == kHighsOptionTypeDouble => "a number in its range",
        _ => "one of its allowed values",
    };
    highs
        .set_any(name, value)
        .map_err(|_| format!("HiGHS rejected {name}={value:?} (expected {kind})"))
}

/// A simplex basis (HiGHS's status codes per column and row), to start the
/// next solve of an LP of the same shape from (sweeps).
#[derive(Clone, Debug)]
pub struct Basis {
    cols: Vec<HighsInt>,
    rows: Vec<HighsInt>,
}

/// Values of a finished solve; empty vectors when there is no solution.
#[derive(Clone, Debug)]
pub struct LpSolution {
    pub status: Status,
    pub objective: f64,
    pub col_value: Vec<f64>,
    pub row_value: Vec<f64>,
    pub row_dual: Vec<f64>,
    /// Set when the LP had integer columns (the duals are then those of the
    /// LP with the integer columns fixed, see [`solve_mip_with_duals`]).
    pub mip: Option<MipInfo>,
}

/// When each step of a [`solve`] ended, so that a caller timing a whole
/// pipeline (the scale benchmark) can tell HiGHS's time from its own.
#[derive(Clone, Copy, Debug)]
pub struct SolveTimes {
    /// `solve` was called.
    pub started: Instant,
    /// The LP has been copied into HiGHS.
    pub passed: Instant,
    /// HiGHS has finished solving.
    pub solved: Instant,
    /// Values and duals have been read back; `solve` returns.
    pub finished: Instant,
}

thread_local! {
    static LAST_SOLVE: Cell<Option<SolveTimes>> = const { Cell::new(None) };
}

/// The step times of the last [`solve`] that returned on this thread.
pub fn last_solve_times() -> Option<SolveTimes> {
    LAST_SOLVE.with(Cell::get)
}

struct Highs(*mut c_void);

// SAFETY: a HiGHS instance is not tied to the thread that created it; it is
// only ever used by one thread at a time (it is owned, never shared).
unsafe impl Send for Highs {}

impl Drop for Highs {
    fn drop(&mut self) {
        // SAFETY: the pointer came from Highs_create and is destroyed once.
        unsafe { Highs_destroy(self.0) }
    }
}

impl Highs {
    fn new() -> Highs {
        // SAFETY: Highs_create has no preconditions.
        Highs(unsafe { Highs_create() })
    }

    fn set_bool(&mut self, name: &str, value: bool) -> Result<()> {
        let c = cstring(name)?;
        // SAFETY: valid instance and NUL-terminated name.
        check(
            unsafe { Highs_setBoolOptionValue(self.0, c.as_ptr(), HighsInt::from(value)) },
            name,
        )
    }

    fn set_int(&mut self, name: &str, value: i32) -> Result<()> {
        let c = cstring(name)?;
        // SAFETY: as above.
        check(
            unsafe { Highs_setIntOptionValue(self.0, c.as_ptr(), value) },
            name,
        )
    }

    fn set_double(&mut self, name: &str, value: f64) -> Result<()> {
        let c = cstring(name)?;
        // SAFETY: as above.
        check(
            unsafe { Highs_setDoubleOptionValue(self.0, c.as_ptr(), value) },
            name,
        )
    }

    fn set_string(&mut self, name: &str, value: &str) -> Result<()> {
        let (c, v) = (cstring(name)?, cstring(value)?);
        // SAFETY: as above.
        check(
            unsafe { Highs_setStringOptionValue(self.0, c.as_ptr(), v.as_ptr()) },
            name,
        )
    }

    /// Set an option of any type from its text, as HiGHS parses it.
    fn set_any(&mut self, name: &str, value: &str) -> Result<()> {
        let (c, v) = (cstring(name)?, cstring(value)?);
        // SAFETY: as above.
        check(
            unsafe { Highs_setOptionValue(self.0, c.as_ptr(), v.as_ptr()) },
            name,
        )
    }

    fn pass(&mut self, lp: &Lp) -> Result<()> {
        let too_big = || Error::Solver("the LP is too large for HiGHS's 32-bit indices".into());
        let num_col = HighsInt::try_from(lp.num_cols()).map_err(|_| too_big())?;
        let num_row = HighsInt::try_from(lp.num_rows()).map_err(|_| too_big())?;
        let num_nz = HighsInt::try_from(lp.num_nonzeros()).map_err(|_| too_big())?;
        let start: Vec<HighsInt> = lp.row_start[..lp.num_rows()]
            .iter()
            .map(|&s| s as HighsInt)
            .collect();
        let index: Vec<HighsInt> = lp.index.iter().map(|&i| i as HighsInt).collect();
        let sense = match lp.sense {
            Sense::Minimize => OBJECTIVE_SENSE_MINIMIZE,
            Sense::Maximize => OBJECTIVE_SENSE_MAXIMIZE,
        };
        // SAFETY: every array has the length HiGHS expects for the counts passed.
        let status = unsafe {
            Highs_passLp(
                self.0,
                num_col,
                num_row,
                num_nz,
                MATRIX_FORMAT_ROW_WISE,
                sense,
                0.0,
                lp.col_cost.as_ptr(),
                lp.col_lower.as_ptr(),
                lp.col_upper.as_ptr(),
                lp.row_lower.as_ptr(),
                lp.row_upper.as_ptr(),
                start.as_ptr(),
                index.as_ptr(),
                lp.value.as_ptr(),
            )
        };
        check(status, "passLp")?;
        for c in &lp.integer_cols {
            let col = HighsInt::try_from(c.0).map_err(|_| too_big())?;
            // SAFETY: valid instance; the column exists in the model just passed.
            let st = unsafe { Highs_changeColIntegrality(self.0, col, kHighsVarTypeInteger) };
            check(st, "changeColIntegrality")?;
        }
        Ok(())
    }

    fn double_info(&self, name: &str) -> Option<f64> {
        let c = CString::new(name).ok()?;
        let mut v = 0.0;
        // SAFETY: valid instance, NUL-terminated name, valid out pointer.
        let st = unsafe { Highs_getDoubleInfoValue(self.0, c.as_ptr(), &mut v) };
        (st != STATUS_ERROR).then_some(v)
    }

    fn int64_info(&self, name: &str) -> Option<i64> {
        let c = CString::new(name).ok()?;
        let mut v = 0i64;
        // SAFETY: valid instance, NUL-terminated name, valid out pointer.
        let st = unsafe { Highs_getInt64InfoValue(self.0, c.as_ptr(), &mut v) };
        (st != STATUS_ERROR).then_some(v)
    }
}

fn cstring(s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| Error::Solver(format!("invalid option text {s:?}")))
}

fn check(status: HighsInt, what: &str) -> Result<()> {
    if status == STATUS_ERROR {
        Err(Error::Solver(format!("HiGHS rejected {what}")))
    } else {
        Ok(())
    }
}

fn configure(highs: &mut Highs, options: &SolverOptions) -> Result<()> {
    highs.set_bool("output_flag", options.verbose)?;
    // Keep every matrix entry the plan can make (a grade × a recovery of at
    // least 1e-5 each, schema::MIN_COEFFICIENT): HiGHS drops entries up to
    // 1e-9 by default; 1e-12 is its floor.
    highs.set_double("small_matrix_value", 1e-12)?;
    if options.verbose && cfg!(unix) {
        // HiGHS logs to stdout, where the report goes: send it to stderr.
        highs.set_bool("log_to_console", false)?;
        highs.set_string("log_file", "/dev/stderr")?;
    }
    if let Some(t) = options.time_limit {
        highs.set_double("time_limit", t)?;
    }
    if let Some(n) = options.threads {
        highs.set_int("threads", i32::try_from(n).unwrap_or(i32::MAX))?;
    }
    if let Some(g) = options.mip_gap {
        highs.set_double("mip_rel_gap", g)?;
    }
    Ok(())
}

/// The algorithm and the user's own HiGHS options, once the LP is known.
fn configure_for(highs: &mut Highs, options: &SolverOptions, lp: &Lp, warm: bool) -> Result<()> {
    if let Some(name) = options.algorithm.highs_name(lp, warm) {
        highs.set_string("solver", name)?;
    }
    for (name, value) in &options.highs_options {
        highs.set_any(name, value)?;
    }
    Ok(())
}

/// Write the LP to an `.mps` or `.lp` file (HiGHS picks the format from the
/// name), atomically: HiGHS writes a temporary file next to it, which is
/// checked to be whole (HiGHS does not report a full disk) and renamed.
pub fn write_model(lp: &Lp, path: &Path) -> Result<()> {
    let lp_format = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("lp"));
    let (suffix, trailer): (&str, &[u8]) = if lp_format {
        (".tmp.lp", b"end")
    } else {
        (".tmp.mps", b"ENDATA")
    };
    let write = |tmp: &Path| -> Result<()> {
        let mut highs = Highs::new();
        highs.set_bool("output_flag", false)?;
        highs.pass(lp)?;
        let name = cstring(&tmp.to_string_lossy())?;
        // SAFETY: valid instance and NUL-terminated file name.
        let status = unsafe { Highs_writeModel(highs.0, name.as_ptr()) };
        if status == STATUS_ERROR {
            return Err(Error::Output(format!(
                "cannot write {}: HiGHS could not write the model",
                path.display()
            )));
        }
        Ok(())
    };
    let whole = |bytes: &[u8]| {
        let end = bytes.trim_ascii_end();
        end.len() >= trailer.len() && end[end.len() - trailer.len()..].eq_ignore_ascii_case(trailer)
    };
    crate::fsio::write_through(path, suffix, write, whole)
}

/// An irreducible infeasible subset of an infeasible LP: the rows (and
/// column bounds) that cannot hold together, found by HiGHS. `None` when
/// HiGHS finds none.
pub fn iis(lp: &Lp, options: &SolverOptions) -> Result<Option<(Vec<usize>, Vec<usize>)>> {
    let mut highs = Highs::new();
    configure(&mut highs, options)?;
    configure_for(&mut highs, options, lp, false)?;
    highs.pass(lp)?;
    // The full (not the light) strategy: an irreducible set, rows first.
    highs.set_int("iis_strategy", kHighsIisStrategyFromLpRowPriority)?;
    let (nc, nr) = (lp.num_cols(), lp.num_rows());
    let (mut num_col, mut num_row): (HighsInt, HighsInt) = (0, 0);
    let mut col_index = vec![0 as HighsInt; nc.max(1)];
    let mut row_index = vec![0 as HighsInt; nr.max(1)];
    let mut col_bound = vec![0 as HighsInt; nc.max(1)];
    let mut row_bound = vec![0 as HighsInt; nr.max(1)];
    let mut col_status = vec![0 as HighsInt; nc.max(1)];
    let mut row_status = vec![0 as HighsInt; nr.max(1)];
    // SAFETY: every buffer holds at least as many entries as the model has
    // columns or rows, the most an IIS can have.
    let status = unsafe {
        Highs_getIis(
            highs.0,
            &mut num_col,
            &mut num_row,
            col_index.as_mut_ptr(),
            row_index.as_mut_ptr(),
            col_bound.as_mut_ptr(),
            row_bound.as_mut_ptr(),
            col_status.as_mut_ptr(),
            row_status.as_mut_ptr(),
        )
    };
    if status == STATUS_ERROR || num_row <= 0 && num_col <= 0 {
        return Ok(None);
    }
    let take = |v: &[HighsInt], n: HighsInt| -> Vec<usize> {
        v.iter()
            .take(n.max(0) as usize)
            .filter_map(|&i| usize::try_from(i).ok())
            .collect()
    };
    Ok(Some((take(&row_index, num_row), take(&col_index, num_col))))
}

/// Solve an LP and read back its status, values and row duals; an LP that
/// falls apart into independent blocks is solved block by block unless
/// `options.monolithic`.
pub fn solve(lp: &Lp, options: &SolverOptions) -> Result<LpSolution> {
    solve_warm(lp, options, None, false).map(|(s, _)| s)
}

/// Solve starting from `start` (a basis of an LP of the same shape, e.g.
/// the previous point of a sweep, where only costs changed); with `keep`,
/// also return the optimal basis for the next solve.
pub fn solve_warm(
    lp: &Lp,
    options: &SolverOptions,
    start: Option<&Basis>,
    keep: bool,
) -> Result<(LpSolution, Option<Basis>)> {
    // A given starting basis (a sweep point starting from the grid's first
    // point) is worth most to simplex: `auto` keeps simplex then.
    let simplex;
    let options = if start.is_some() && options.algorithm == Algorithm::Auto {
        simplex = SolverOptions {
            algorithm: Algorithm::Simplex,
            ..options.clone()
        };
        &simplex
    } else {
        options
    };
    solve_warm_inner(lp, options, start, keep, None)
}

/// HiGHS models kept alive from one solve to the next (the points of a
/// sweep, one `LiveModels` per worker): when the next LP, or a block of it,
/// has the same matrix as the one a slot holds and differs only in costs and
/// bounds, only those are changed in the live HiGHS instance
/// (`Highs_changeColsCostBySet`, `…BoundsBySet`) instead of passing a new
/// model, and HiGHS goes on from the optimal basis of the previous solve
/// with its factorization. Anything else (another matrix, a MIP, a
/// solve that did not end optimal) passes the model anew.
#[derive(Default)]
pub struct LiveModels {
    /// One per block of the LP (one for an LP solved as one).
    slots: Vec<LiveSlot>,
    /// Counts of slots dropped when the number of blocks changed.
    carried: (usize, usize),
    /// Start each solve from the basis given (as a rebuilt model would)
    /// rather than from the live model's own last basis.
    reset_basis: bool,
}

/// The live model of one block, and how often it was reused.
#[derive(Default)]
pub(crate) struct LiveSlot {
    model: Option<LiveModel>,
    updated: usize,
    passed: usize,
}

impl LiveModels {
    /// No live model yet; with `reset_basis`, every solve starts from the
    /// basis given rather than from the live model's last one.
    pub fn new(reset_basis: bool) -> LiveModels {
        LiveModels {
            reset_basis,
            ..Default::default()
        }
    }

    /// `n` slots, keeping the models when the count has not changed.
    fn slots(&mut self, n: usize) -> &mut [LiveSlot] {
        if self.slots.len() != n {
            for s in self.slots.drain(..) {
                self.carried.0 += s.updated;
                self.carried.1 += s.passed;
            }
            self.slots.resize_with(n, LiveSlot::default);
        }
        &mut self.slots
    }

    /// How many solves (of an LP or a block) changed a live model.
    pub fn updated(&self) -> usize {
        self.carried.0 + self.slots.iter().map(|s| s.updated).sum::<usize>()
    }

    /// How many solves passed a model to HiGHS anew.
    pub fn passed(&self) -> usize {
        self.carried.1 + self.slots.iter().map(|s| s.passed).sum::<usize>()
    }
}

/// One LP as a live HiGHS instance holds it.
struct LiveModel {
    highs: Highs,
    lp: Lp,
}

/// `Highs_changeColsBoundsBySet` and `Highs_changeRowsBoundsBySet`.
type BoundsBySet = unsafe extern "C" fn(
    *mut c_void,
    HighsInt,
    *const HighsInt,
    *const f64,
    *const f64,
) -> HighsInt;

/// The indices at which any of `new`'s arrays differs from `old`'s, bitwise.
fn changed(old: &[&Vec<f64>], new: &[&Vec<f64>]) -> Vec<HighsInt> {
    (0..new[0].len())
        .filter(|&i| {
            old.iter()
                .zip(new)
                .any(|(a, b)| a[i].to_bits() != b[i].to_bits())
        })
        .map(|i| i as HighsInt)
        .collect()
}

fn pick(v: &[f64], at: &[HighsInt]) -> Vec<f64> {
    at.iter().map(|&i| v[i as usize]).collect()
}

/// Whether `lp` differs from `held` at most in costs and bounds.
fn same_matrix(held: &Lp, lp: &Lp) -> bool {
    let bits = |a: &[f64], b: &[f64]| {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
    };
    held.sense == lp.sense
        && held.num_cols() == lp.num_cols()
        && held.num_rows() == lp.num_rows()
        && !held.is_mip()
        && !lp.is_mip()
        && held.row_start == lp.row_start
        && held.index == lp.index
        && bits(&held.value, &lp.value)
}

impl LiveModel {
    /// Change the live model's costs and bounds to `lp`'s (same matrix).
    fn update(&mut self, lp: &Lp) -> Result<()> {
        let h = self.highs.0;
        let held = &self.lp;
        let cost = changed(&[&held.col_cost], &[&lp.col_cost]);
        if !cost.is_empty() {
            let v = pick(&lp.col_cost, &cost);
            // SAFETY: `cost` holds valid column indices, `v` one value each.
            let st = unsafe {
                Highs_changeColsCostBySet(h, cost.len() as HighsInt, cost.as_ptr(), v.as_ptr())
            };
            check(st, "changeColsCostBySet")?;
        }
        let cols = (
            &held.col_lower,
            &held.col_upper,
            &lp.col_lower,
            &lp.col_upper,
        );
        let rows = (
            &held.row_lower,
            &held.row_upper,
            &lp.row_lower,
            &lp.row_upper,
        );
        for (what, (old_lo, old_hi, lo, hi), change) in [
            (
                "changeColsBoundsBySet",
                cols,
                Highs_changeColsBoundsBySet as BoundsBySet,
            ),
            (
                "changeRowsBoundsBySet",
                rows,
                Highs_changeRowsBoundsBySet as BoundsBySet,
            ),
        ] {
            let at = changed(&[old_lo, old_hi], &[lo, hi]);
            if at.is_empty() {
                continue;
            }
            let (lo, hi) = (pick(lo, &at), pick(hi, &at));
            // SAFETY: `at` holds valid column (row) indices, with one lower
            // and one upper bound each.
            let st = unsafe {
                change(
                    h,
                    at.len() as HighsInt,
                    at.as_ptr(),
                    lo.as_ptr(),
                    hi.as_ptr(),
                )
            };
            check(st, what)?;
        }
        self.lp.col_cost.clone_from(&lp.col_cost);
        self.lp.col_lower.clone_from(&lp.col_lower);
        self.lp.col_upper.clone_from(&lp.col_upper);
        self.lp.row_lower.clone_from(&lp.row_lower);
        self.lp.row_upper.clone_from(&lp.row_upper);
        Ok(())
    }
}

/// [`solve_warm`] on live models: see [`LiveModels`].
pub fn solve_live(
    lp: &Lp,
    options: &SolverOptions,
    start: Option<&Basis>,
    keep: bool,
    live: &mut LiveModels,
) -> Result<(LpSolution, Option<Basis>)> {
    let simplex;
    let options = if options.algorithm == Algorithm::Auto {
        // A live model goes on from its basis: simplex, as for a given one.
        simplex = SolverOptions {
            algorithm: Algorithm::Simplex,
            ..options.clone()
        };
        &simplex
    } else {
        options
    };
    solve_warm_inner(lp, options, start, keep, Some(live))
}

/// [`solve_warm`] without the choice of algorithm for a given basis: the
/// blocks of a split LP start from the previous block's basis only when
/// that helps the algorithm chosen.
pub(crate) fn solve_warm_inner(
    lp: &Lp,
    options: &SolverOptions,
    start: Option<&Basis>,
    keep: bool,
    mut live: Option<&mut LiveModels>,
) -> Result<(LpSolution, Option<Basis>)> {
    if !options.monolithic {
        if let Some(solved) = split::solve_split(lp, options, start, keep, live.as_deref_mut())? {
            return Ok(solved);
        }
    }
    let slot = live.map(|l| {
        let reset = l.reset_basis;
        (&mut l.slots(1)[0], reset)
    });
    solve_one(lp, options, start, keep, slot)
}

/// Solve `lp` as one model; with a live slot, in the slot's live model when
/// it has the same matrix (see [`LiveModels`]), and keep the model there.
pub(crate) fn solve_one(
    lp: &Lp,
    options: &SolverOptions,
    start: Option<&Basis>,
    keep: bool,
    live: Option<(&mut LiveSlot, bool)>,
) -> Result<(LpSolution, Option<Basis>)> {
    let started = Instant::now();
    let start = start
        .filter(|b| !lp.is_mip() && b.cols.len() == lp.num_cols() && b.rows.len() == lp.num_rows());
    let (mut slot, reset_basis) = match live {
        Some((slot, reset)) => (Some(slot), reset),
        None => (None, false),
    };
    let held = slot
        .as_deref_mut()
        .and_then(|s| s.model.take())
        .filter(|m| same_matrix(&m.lp, lp));
    let reused = held.is_some();
    let mut model = match held {
        Some(mut m) => {
            m.update(lp)?;
            m
        }
        None => {
            let mut highs = Highs::new();
            // Options first: HiGHS greets on stdout unless told not to.
            configure(&mut highs, options)?;
            highs.pass(lp)?;
            LiveModel {
                highs,
                // Only a live slot keeps the LP, to tell the next one's changes.
                lp: if slot.is_some() {
                    lp.clone()
                } else {
                    Lp::default()
                },
            }
        }
    };
    let highs = &mut model.highs;
    if reused {
        // This solve's options (a split block's time limit is what is left);
        // HiGHS measures its time limit over every run of an instance, so
        // its clocks start again at 0 (HiGHS issue #1331).
        configure(highs, options)?;
        // SAFETY: valid instance.
        check(unsafe { Highs_zeroAllClocks(highs.0) }, "zeroAllClocks")?;
    }
    configure_for(highs, options, lp, start.is_some() || reused)?;
    if let Some(b) = start.filter(|_| !reused || reset_basis) {
        // SAFETY: the arrays have the model's column and row counts. A basis
        // HiGHS rejects is ignored: it then solves from scratch.
        let _ = unsafe { Highs_setBasis(highs.0, b.cols.as_ptr(), b.rows.as_ptr()) };
    }
    let passed = Instant::now();
    let mut status = run(highs)?;
    let mut retried = false;
    if status == MODEL_STATUS_UNBOUNDED_OR_INFEASIBLE {
        // Presolve could not tell which; without it, simplex can.
        highs.set_string("presolve", "off")?;
        status = run(highs)?;
        retried = true;
    }
    if status == MODEL_STATUS_UNBOUNDED && !(retried && lp.is_mip()) {
        // Every LP reeplan builds has a bounded objective (each flow, stock
        // and build is capped, λ lies in [0, 1]), so "unbounded" is simplex
        // losing its way on a badly scaled model (a max-resilience budget
        // row of 5e10 against grades of 2e-4, say). The interior-point
        // solver, which scales differently, is the second opinion; a MIP is
        // solved again without presolve.
        if lp.is_mip() {
            highs.set_string("presolve", "off")?;
        } else {
            highs.set_string("solver", "ipm")?;
        }
        status = run(highs)?;
        retried = true;
    }
    let solved = Instant::now();
    let record = |finished| {
        LAST_SOLVE.with(|last| {
            last.set(Some(SolveTimes {
                started,
                passed,
                solved,
                finished,
            }))
        })
    };
    let status = match status {
        MODEL_STATUS_OPTIMAL => Status::Optimal,
        // No columns: feasible exactly when every row admits 0.
        MODEL_STATUS_MODEL_EMPTY => {
            let admits_zero = lp
                .row_lower
                .iter()
                .zip(&lp.row_upper)
                .all(|(&lo, &hi)| lo <= 1e-9 && hi >= -1e-9);
            if admits_zero {
                Status::Optimal
            } else {
                Status::Infeasible
            }
        }
        MODEL_STATUS_INFEASIBLE => Status::Infeasible,
        // Still undecided after a solve without presolve: the LPs reeplan builds
        // have bounded objectives, so this can only be infeasibility.
        MODEL_STATUS_UNBOUNDED_OR_INFEASIBLE => Status::Infeasible,
        MODEL_STATUS_UNBOUNDED => Status::Unbounded,
        MODEL_STATUS_REACHED_TIME_LIMIT => Status::TimeLimit,
        _ => Status::Error,
    };
    if let Some(s) = slot.as_deref_mut() {
        if reused {
            s.updated += 1;
        } else {
            s.passed += 1;
        }
    }
    if status != Status::Optimal {
        drop(model);
        record(Instant::now());
        return Ok((
            LpSolution {
                status,
                objective: f64::NAN,
                col_value: Vec::new(),
                row_value: Vec::new(),
                row_dual: Vec::new(),
                mip: None,
            },
            None,
        ));
    }
    let mut col_value = vec![0.0; lp.num_cols()];
    let mut col_dual = vec![0.0; lp.num_cols()];
    let mut row_value = vec![0.0; lp.num_rows()];
    let mut row_dual = vec![0.0; lp.num_rows()];
    // SAFETY: each buffer has the length of the model passed.
    let st = unsafe {
        Highs_getSolution(
            highs.0,
            col_value.as_mut_ptr(),
            col_dual.as_mut_ptr(),
            row_value.as_mut_ptr(),
            row_dual.as_mut_ptr(),
        )
    };
    check(st, "getSolution")?;
    // SAFETY: valid instance.
    let objective = unsafe { Highs_getObjectiveValue(highs.0) };
    let mip = lp.is_mip().then(|| MipInfo {
        gap: highs.double_info("mip_gap").unwrap_or(0.0).max(0.0),
        nodes: highs.int64_info("mip_node_count").unwrap_or(0),
        objective,
    });
    let basis = (keep && !lp.is_mip()).then(|| {
        let mut b = Basis {
            cols: vec![0; lp.num_cols()],
            rows: vec![0; lp.num_rows()],
        };
        // SAFETY: the buffers have the model's column and row counts.
        let st = unsafe { Highs_getBasis(highs.0, b.cols.as_mut_ptr(), b.rows.as_mut_ptr()) };
        (st != STATUS_ERROR).then_some(b)
    });
    match slot {
        // A model that needed the retry without presolve starts afresh.
        Some(s) if !retried && !lp.is_mip() => s.model = Some(model),
        _ => drop(model), // freeing HiGHS's copy of a large model takes measurable time
    }
    record(Instant::now());
    Ok((
        LpSolution {
            status,
            objective,
            col_value,
            row_value,
            row_dual,
            mip,
        },
        basis.flatten(),
    ))
}

/// Solve a MIP, then the LP with every integer column fixed at its optimal
/// value, so that the duals (shadow prices) are those of that LP, as
/// FORMULATION.md settles. The returned values are the fixed LP's, with the
/// MIP's gap and node count. An LP without integer columns is solved as is.
pub fn solve_mip_with_duals(lp: &Lp, options: &SolverOptions) -> Result<LpSolution> {
    let first = solve(lp, options)?;
    let Some(info) = first.mip else {
        return Ok(first);
    };
    if first.status != Status::Optimal {
        return Ok(first);
    }
    let mut fixed = lp.clone();
    for c in std::mem::take(&mut fixed.integer_cols) {
        let j = c.0 as usize;
        let v = first.col_value[j].round();
        fixed.col_lower[j] = v;
        fixed.col_upper[j] = v;
    }
    let mut second = solve(&fixed, options)?;
    if second.status != Status::Optimal {
        // Cannot happen in exact arithmetic (the MIP's point is feasible);
        // keep the MIP's values without duals rather than fail.
        return Ok(first);
    }
    second.mip = Some(info);
    Ok(second)
}

fn run(highs: &mut Highs) -> Result<HighsInt> {
    // SAFETY: valid instance with a model passed.
    let st = unsafe { Highs_run(highs.0) };
    if st == STATUS_ERROR {
        // SAFETY: valid instance.
        let ms = unsafe { Highs_getModelStatus(highs.0) };
        if ms == MODEL_STATUS_REACHED_TIME_LIMIT {
            return Ok(ms);
        }
        return Err(Error::Solver(format!("HiGHS failed (model status {ms})")));
    }
    // SAFETY: valid instance.
    Ok(unsafe { Highs_getModelStatus(highs.0) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lp_with(cols: usize) -> Lp {
        let mut lp = Lp::default();
        for _ in 0..cols {
            lp.add_col(1.0);
        }
        lp
    }

    /// min c·(x, y) s.t. a·x + y >= d, x, y in [0, 10]; two copies, so the
    /// LP falls apart into two blocks (each with a live model of its own).
    fn two_blocks(c: (f64, f64), a: f64, d: f64) -> Lp {
        let mut lp = Lp::default();
        for _ in 0..2 {
            let x = lp.add_col_bounded(c.0, 0.0, 10.0);
            let y = lp.add_col_bounded(c.1, 0.0, 10.0);
            lp.add_row(d, f64::INFINITY, [(x, a), (y, 1.0)]);
        }
        lp
    }

    #[test]
    fn live_models_change_costs_and_bounds_in_place_and_give_the_rebuilt_optimum() {
        for monolithic in [false, true] {
            let options = SolverOptions {
                monolithic,
                ..Default::default()
            };
            let blocks = if monolithic { 1 } else { 2 };
            let mut live = LiveModels::new(false);
            let solve = |lp: &Lp, live: &mut LiveModels| {
                solve_live(lp, &options, None, true, live).unwrap().0
            };
            // By hand, per block: x = 1 costs 1 (cheaper than y = 1 at 2).
            assert!(
                (solve(&two_blocks((1.0, 2.0), 1.0, 1.0), &mut live).objective - 2.0).abs() < 1e-9
            );
            // x now costs 3: y = 1 at 2 per block.
            let s = solve(&two_blocks((3.0, 2.0), 1.0, 1.0), &mut live);
            assert!((s.objective - 4.0).abs() < 1e-9);
            assert!((s.col_value[1] - 1.0).abs() < 1e-9 && s.col_value[0].abs() < 1e-9);
            // Demand 12 > y's bound 10: y = 10, x = 2 → 3·2 + 2·10 = 26 per block.
            let s = solve(&two_blocks((3.0, 2.0), 1.0, 12.0), &mut live);
            assert!((s.objective - 52.0).abs() < 1e-9);
            // So far one model per block, changed twice in place.
            assert_eq!((live.passed(), live.updated()), (blocks, 2 * blocks));
            // Another matrix (a = 2): passed anew; 2x + y >= 12 with x at 3,
            // y at 2 per unit: x = 6 (18) vs y = 10, x = 1 (23) → 18 per block.
            let s = solve(&two_blocks((3.0, 2.0), 2.0, 12.0), &mut live);
            assert!((s.objective - 36.0).abs() < 1e-9);
            assert_eq!((live.passed(), live.updated()), (2 * blocks, 2 * blocks));
            // Infeasible (demand 40 > 2·10 + 10): reported, and the model is
            // not kept; the next solve passes a new one and is right again.
            let s = solve(&two_blocks((3.0, 2.0), 2.0, 40.0), &mut live);
            assert_eq!(s.status, Status::Infeasible);
            let s = solve(&two_blocks((3.0, 2.0), 2.0, 12.0), &mut live);
            assert!((s.objective - 36.0).abs() < 1e-9);
        }
    }

    /// HiGHS measures its time limit over all runs of an instance: a live
    /// model's clock must start again at every solve, or a long sweep with
    /// `--time-limit` would end in a spurious time limit.
    #[test]
    fn a_live_models_clock_starts_again_at_every_solve() {
        let options = SolverOptions {
            monolithic: true,
            time_limit: Some(60.0),
            ..Default::default()
        };
        let mut live = LiveModels::new(false);
        let mut last = std::time::Duration::ZERO;
        for k in 0..50 {
            let t = Instant::now();
            let lp = two_blocks((1.0 + f64::from(k % 3), 2.0), 1.0, 1.0);
            let s = solve_live(&lp, &options, None, false, &mut live).unwrap().0;
            assert_eq!(s.status, Status::Optimal);
            last = t.elapsed();
        }
        assert_eq!(live.updated(), 49);
        let model = live.slots[0].model.as_ref().expect("kept");
        // SAFETY: valid instance.
        let run_time = unsafe { Highs_getRunTime(model.highs.0) };
        assert!(
            run_time <= last.as_secs_f64() + 1e-4,
            "HiGHS's clock counts {run_time} s, the last solve took {last:?}"
        );
    }

    #[test]
    fn auto_picks_ipm_from_the_measured_size_on() {
        let simplex = Algorithm::Simplex;
        assert_eq!(
            Algorithm::for_lp(&lp_with(IPM_FROM_COLUMNS - 1), false),
            simplex
        );
        assert_eq!(
            Algorithm::for_lp(&lp_with(IPM_FROM_COLUMNS), false),
            Algorithm::Ipm
        );
        // A block that could start from the previous block's basis keeps
        // simplex up to the larger size.
        assert_eq!(Algorithm::for_lp(&lp_with(IPM_FROM_COLUMNS), true), simplex);
        assert_eq!(
            Algorithm::for_lp(&lp_with(IPM_WARM_FROM_COLUMNS), true),
            Algorithm::Ipm
        );
        assert_eq!(Algorithm::Auto.highs_name(&lp_with(10), false), None);
        assert_eq!(
            Algorithm::Auto.highs_name(&lp_with(IPM_FROM_COLUMNS), false),
            Some("ipm")
        );
        let mut mip = lp_with(IPM_WARM_FROM_COLUMNS);
        mip.add_binary(0.0);
        assert_eq!(Algorithm::for_lp(&mip, false), simplex, "a MIP is HiGHS's");
        assert_eq!(
            simplex.highs_name(&lp_with(IPM_WARM_FROM_COLUMNS), false),
            Some("simplex")
        );
    }

    #[test]
    fn a_large_lp_solved_by_auto_has_the_simplex_optimum_and_duals() {
        // min Σ c_j x_j with Σ x_j >= 1, 0 <= x_j <= 1 and c_j = 1 + j:
        // the optimum puts 1 on x_0 (objective 1) and the row's dual is 1.
        let n = IPM_FROM_COLUMNS;
        let mut lp = Lp::default();
        let cols: Vec<_> = (0..n)
            .map(|j| lp.add_col_bounded(1.0 + j as f64, 0.0, 1.0))
            .collect();
        lp.add_row(1.0, f64::INFINITY, cols.iter().map(|&c| (c, 1.0)));
        let auto = solve(&lp, &SolverOptions::default()).unwrap();
        let simplex = solve(
            &lp,
            &SolverOptions {
                algorithm: Algorithm::Simplex,
                ..SolverOptions::default()
            },
        )
        .unwrap();
        for s in [&auto, &simplex] {
            assert_eq!(s.status, Status::Optimal);
            assert!((s.objective - 1.0).abs() < 1e-7, "{}", s.objective);
            assert!((s.col_value[0] - 1.0).abs() < 1e-7);
            assert!((s.row_dual[0] - 1.0).abs() < 1e-7, "{}", s.row_dual[0]);
        }
    }
}
