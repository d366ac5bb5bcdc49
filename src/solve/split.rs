//! Independent blocks of an LP solved apart.
//!
//! The blocks are the connected components of the constraint matrix seen as
//! a graph of rows and columns (an entry links its row and its column), found
//! from the LP itself by union-find over the CSR rows. Nothing is assumed
//! about the plan: a feature that links years (a build variable, a stockpile
//! level) merges their blocks, and an LP that does not fall apart is solved
//! as one.
//!
//! Each block is copied into an LP of its own and solved with the same
//! settings (integer columns go with their block, which is then a MIP), side
//! by side on threads; the values, row duals and objective are put back in
//! the whole LP's order, so everything downstream sees the same
//! [`LpSolution`] as from one solve. Columns in no row are set to the bound
//! their cost pushes them to; rows with no entries only need to admit 0.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::{
    Basis, LiveModels, LiveSlot, LpSolution, SolveTimes, SolverOptions, Status, LAST_SOLVE,
};
use crate::error::{Error, Result};
use crate::model::lp::{Lp, Sense};

/// Marks a column in no row, or a row with no entry.
const NONE: u32 = u32::MAX;

/// HiGHS basis status codes (`kHighsBasisStatus…`).
const AT_LOWER: i32 = 0;
const BASIC: i32 = 1;
const AT_UPPER: i32 = 2;
const AT_ZERO: i32 = 3;

/// The independent blocks of an LP, each a set of columns and rows (both in
/// ascending order), ordered by their first column.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Blocks {
    pub blocks: Vec<Block>,
    /// Columns that appear in no row.
    pub free_cols: Vec<u32>,
    /// Rows with no entry.
    pub empty_rows: Vec<u32>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Block {
    pub cols: Vec<u32>,
    pub rows: Vec<u32>,
}

fn find(parent: &mut [u32], mut x: u32) -> u32 {
    while parent[x as usize] != x {
        let p = parent[x as usize];
        parent[x as usize] = parent[p as usize]; // path halving
        x = parent[x as usize];
    }
    x
}

/// The connected components of `lp`'s constraint matrix.
pub fn blocks(lp: &Lp) -> Blocks {
    let (nc, nr) = (lp.num_cols(), lp.num_rows());
    let mut parent: Vec<u32> = (0..nc as u32).collect();
    let mut in_row = vec![false; nc];
    for i in 0..nr {
        let entries = &lp.index[lp.row_start[i]..lp.row_start[i + 1]];
        let Some(&first) = entries.first() else {
            continue;
        };
        let mut root = find(&mut parent, first);
        in_row[first as usize] = true;
        for &c in &entries[1..] {
            in_row[c as usize] = true;
            let r = find(&mut parent, c);
            if r != root {
                // Keep the smaller index as root: blocks come out in the
                // order of their first column.
                let (lo, hi) = if r < root { (r, root) } else { (root, r) };
                parent[hi as usize] = lo;
                root = lo;
            }
        }
    }
    let mut out = Blocks::default();
    let mut block_of_root = vec![NONE; nc];
    let mut col_block = vec![NONE; nc];
    for c in 0..nc as u32 {
        if !in_row[c as usize] {
            out.free_cols.push(c);
            continue;
        }
        let r = find(&mut parent, c) as usize;
        if block_of_root[r] == NONE {
            block_of_root[r] = out.blocks.len() as u32;
            out.blocks.push(Block::default());
        }
        let b = block_of_root[r];
        col_block[c as usize] = b;
        out.blocks[b as usize].cols.push(c);
    }
    for i in 0..nr {
        match lp.index[lp.row_start[i]..lp.row_start[i + 1]].first() {
            Some(&c) => out.blocks[col_block[c as usize] as usize]
                .rows
                .push(i as u32),
            None => out.empty_rows.push(i as u32),
        }
    }
    out
}

/// The LP of one block; `local[c]` is column `c`'s index within its block.
fn sub_lp(lp: &Lp, block: &Block, local: &[u32]) -> Lp {
    let pick = |v: &[f64], at: &[u32]| -> Vec<f64> { at.iter().map(|&i| v[i as usize]).collect() };
    let mut row_start = Vec::with_capacity(block.rows.len() + 1);
    row_start.push(0);
    let mut index = Vec::new();
    let mut value = Vec::new();
    for &i in &block.rows {
        let range = lp.row_start[i as usize]..lp.row_start[i as usize + 1];
        index.extend(lp.index[range.clone()].iter().map(|&c| local[c as usize]));
        value.extend_from_slice(&lp.value[range]);
        row_start.push(index.len());
    }
    // Every field of the LP, so that a new one (integrality) cannot be
    // forgotten here: it is passed through per block.
    Lp {
        sense: lp.sense,
        col_cost: pick(&lp.col_cost, &block.cols),
        col_lower: pick(&lp.col_lower, &block.cols),
        col_upper: pick(&lp.col_upper, &block.cols),
        row_lower: pick(&lp.row_lower, &block.rows),
        row_upper: pick(&lp.row_upper, &block.rows),
        row_start,
        index,
        value,
        // Only LPs are split (see `solve_split`).
        integer_cols: Vec::new(),
    }
}

/// How one part of the split solve ended: a block's solution and basis, or
/// a block not solved because another one already decided the status.
type Part = Option<(LpSolution, Option<Basis>)>;

/// Solve `lp` block by block when it has at least two blocks; `None` when
/// it does not fall apart (the caller then solves it as one).
pub(super) fn solve_split(
    lp: &Lp,
    options: &SolverOptions,
    start: Option<&Basis>,
    keep: bool,
    live: Option<&mut LiveModels>,
) -> Result<Option<(LpSolution, Option<Basis>)>> {
    // A MIP is solved as one (its duals come from the fixed LP, solved
    // apart afterwards, which may split).
    if lp.is_mip() {
        return Ok(None);
    }
    let started = Instant::now();
    let parts = blocks(lp);
    if parts.blocks.len() < 2 {
        return Ok(None);
    }
    let n = parts.blocks.len();
    let workers = options
        .threads
        .map(|t| t as usize)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, n);
    if options.verbose {
        eprintln!(
            "reeplan: the LP falls apart into {n} independent blocks ({} columns in no row); solving them apart on {workers} thread(s) (--monolithic: as one)",
            parts.free_cols.len()
        );
    }
    let deadline = options
        .time_limit
        .map(|t| started + Duration::from_secs_f64(t));
    let mut block_options = options.clone();
    block_options.monolithic = true;
    if workers > 1 && n >= workers {
        // One HiGHS thread per block when the blocks fill the threads.
        block_options.threads = Some(1);
    }
    let mut local = vec![0u32; lp.num_cols()];
    for b in &parts.blocks {
        for (k, &c) in b.cols.iter().enumerate() {
            local[c as usize] = k as u32;
        }
    }
    let start = start.filter(|b| b.cols.len() == lp.num_cols() && b.rows.len() == lp.num_rows());
    let stop = AtomicBool::new(false);
    // Blocks are dealt to the threads in contiguous runs (neighbouring
    // years together); within a run each block starts from the previous
    // block's optimal basis when their shapes are the same. The runs depend
    // only on the number of threads, so a given setting always gives the
    // same answer.
    let reset_basis = live.as_ref().is_some_and(|l| l.reset_basis);
    // Each run gets the live models of its own blocks.
    let solve_run = |(range, mut slots): (std::ops::Range<usize>, Option<&mut [LiveSlot]>)| -> Result<Vec<Part>> {
        let mut out = Vec::with_capacity(range.len());
        let mut previous: Option<Basis> = None;
        let first = range.start;
        for b in range {
            if stop.load(Ordering::Relaxed) {
                out.push(None);
                continue;
            }
            let block = &parts.blocks[b];
            let sub = sub_lp(lp, block, &local);
            let mut opts = block_options.clone();
            if let Some(d) = deadline {
                let left = d.saturating_duration_since(Instant::now()).as_secs_f64();
                if left <= 0.0 {
                    out.push(Some((failed(Status::TimeLimit), None)));
                    continue;
                }
                opts.time_limit = Some(left);
            }
            let given = start.map(|s| Basis {
                cols: block.cols.iter().map(|&c| s.cols[c as usize]).collect(),
                rows: block.rows.iter().map(|&r| s.rows[r as usize]).collect(),
            });
            let warm = given.or_else(|| {
                previous
                    .take()
                    .filter(|p| p.cols.len() == sub.num_cols() && p.rows.len() == sub.num_rows())
            });
            let slot = slots.as_deref_mut().map(|s| (&mut s[b - first], reset_basis));
            let (sol, basis) = super::solve_one(&sub, &opts, warm.as_ref(), true, slot)?;
            if matches!(sol.status, Status::Infeasible | Status::Unbounded) {
                stop.store(true, Ordering::Relaxed);
            }
            previous.clone_from(&basis);
            out.push(Some((sol, basis.filter(|_| keep))));
        }
        Ok(out)
    };
    let ranges: Vec<std::ops::Range<usize>> = (0..workers)
        .map(|w| w * n / workers..(w + 1) * n / workers)
        .collect();
    let mut slot_runs: Vec<Option<&mut [LiveSlot]>> = match live {
        Some(l) => {
            let mut rest = l.slots(n);
            let mut out = Vec::with_capacity(workers);
            for r in &ranges {
                let (head, tail) = std::mem::take(&mut rest).split_at_mut(r.len());
                out.push(Some(head));
                rest = tail;
            }
            out
        }
        None => (0..workers).map(|_| None).collect(),
    };
    let runs: Vec<_> = ranges.into_iter().zip(slot_runs.drain(..)).collect();
    let solved: Vec<Part> = if workers == 1 {
        solve_run(runs.into_iter().next().unwrap_or((0..n, None)))?
    } else {
        // A pool of its own: HiGHS keeps one scheduler per OS thread, fixed
        // at its first solve's thread count, so fresh threads keep the
        // blocks' setting from clashing with the caller's.
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(workers)
            .build()
            .map_err(|e| Error::Solver(format!("cannot start solver threads: {e}")))?;
        use rayon::prelude::*;
        let per_run: Vec<Result<Vec<Part>>> =
            pool.install(|| runs.into_par_iter().map(solve_run).collect());
        let mut all = Vec::with_capacity(n);
        for r in per_run {
            all.extend(r?);
        }
        all
    };
    let solved_at = Instant::now();
    let result = assemble(lp, &parts, solved, keep);
    let finished = Instant::now();
    LAST_SOLVE.with(|last| {
        last.set(Some(SolveTimes {
            started,
            passed: started,
            solved: solved_at,
            finished,
        }))
    });
    Ok(Some(result))
}

fn failed(status: Status) -> LpSolution {
    LpSolution {
        status,
        objective: f64::NAN,
        col_value: Vec::new(),
        row_value: Vec::new(),
        row_dual: Vec::new(),
        mip: None,
    }
}

/// How sure a status is: a proven infeasibility decides for the whole LP,
/// then unboundedness, then a failure, then a time limit.
fn rank(s: Status) -> u8 {
    match s {
        Status::Infeasible => 4,
        Status::Unbounded => 3,
        Status::Error => 2,
        Status::TimeLimit => 1,
        Status::Optimal => 0,
    }
}

/// Put the blocks' answers back in the whole LP's order.
fn assemble(lp: &Lp, parts: &Blocks, solved: Vec<Part>, keep: bool) -> (LpSolution, Option<Basis>) {
    let (nc, nr) = (lp.num_cols(), lp.num_rows());
    let mut status = Status::Optimal;
    let mut worse = |s: Status| {
        if rank(s) > rank(status) {
            status = s;
        }
    };
    // Rows with no entry hold exactly when they admit 0.
    for &r in &parts.empty_rows {
        let (lo, hi) = (lp.row_lower[r as usize], lp.row_upper[r as usize]);
        if lo > 1e-9 || hi < -1e-9 {
            worse(Status::Infeasible);
        }
    }
    // Columns in no row sit at the bound their cost pushes them to.
    let sign = match lp.sense {
        Sense::Minimize => 1.0,
        Sense::Maximize => -1.0,
    };
    let mut free = Vec::with_capacity(parts.free_cols.len());
    for &c in &parts.free_cols {
        let c = c as usize;
        let (lo, hi, cost) = (lp.col_lower[c], lp.col_upper[c], sign * lp.col_cost[c]);
        if lo > hi {
            worse(Status::Infeasible);
            continue;
        }
        let (v, at) = if cost > 0.0 {
            (lo, AT_LOWER)
        } else if cost < 0.0 {
            (hi, AT_UPPER)
        } else if lo.is_finite() {
            (lo, AT_LOWER)
        } else if hi.is_finite() {
            (hi, AT_UPPER)
        } else {
            (0.0, AT_ZERO)
        };
        if !v.is_finite() {
            worse(Status::Unbounded);
        }
        free.push((c, v, at));
    }
    for part in solved.iter().flatten() {
        worse(part.0.status);
    }
    if status != Status::Optimal {
        return (failed(status), None);
    }
    let mut sol = LpSolution {
        status,
        objective: 0.0,
        col_value: vec![0.0; nc],
        row_value: vec![0.0; nr],
        row_dual: vec![0.0; nr],
        mip: None,
    };
    let mut basis = keep.then(|| Basis {
        cols: vec![AT_LOWER; nc],
        rows: vec![BASIC; nr],
    });
    let mut whole = true;
    for &(c, v, at) in &free {
        sol.col_value[c] = v;
        sol.objective += lp.col_cost[c] * v;
        if let Some(b) = basis.as_mut() {
            b.cols[c] = at;
        }
    }
    for (block, part) in parts.blocks.iter().zip(solved) {
        let Some((s, b)) = part else {
            unreachable!("a block is skipped only when another one decided the status");
        };
        sol.objective += s.objective;
        for (k, &c) in block.cols.iter().enumerate() {
            sol.col_value[c as usize] = s.col_value[k];
        }
        for (k, &r) in block.rows.iter().enumerate() {
            sol.row_value[r as usize] = s.row_value[k];
            sol.row_dual[r as usize] = s.row_dual.get(k).copied().unwrap_or(0.0);
        }
        match (basis.as_mut(), b) {
            (Some(whole_basis), Some(b)) => {
                for (k, &c) in block.cols.iter().enumerate() {
                    whole_basis.cols[c as usize] = b.cols[k];
                }
                for (k, &r) in block.rows.iter().enumerate() {
                    whole_basis.rows[r as usize] = b.rows[k];
                }
            }
            (Some(_), None) => whole = false,
            _ => {}
        }
    }
    (sol, basis.filter(|_| whole))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::lp::Col;

    /// Two blocks {x0, x2 | r0, r2} and {x1 | r1}, a free column x3 and an
    /// empty row r3.
    fn two_blocks() -> Lp {
        let mut lp = Lp::default();
        let x: Vec<Col> = (0..4).map(|i| lp.add_col(1.0 + i as f64)).collect();
        lp.add_row(1.0, f64::INFINITY, [(x[0], 1.0), (x[2], 1.0)]);
        lp.add_row(2.0, f64::INFINITY, [(x[1], 1.0)]);
        lp.add_row(3.0, f64::INFINITY, [(x[2], 1.0)]);
        lp.add_row(-1.0, 1.0, []);
        lp
    }

    #[test]
    fn components_of_a_small_matrix() {
        let b = blocks(&two_blocks());
        assert_eq!(
            b.blocks,
            vec![
                Block {
                    cols: vec![0, 2],
                    rows: vec![0, 2]
                },
                Block {
                    cols: vec![1],
                    rows: vec![1]
                }
            ]
        );
        assert_eq!(b.free_cols, vec![3]);
        assert_eq!(b.empty_rows, vec![3]);
    }

    #[test]
    fn a_row_linking_two_chains_merges_them() {
        // x0-x1 and x2-x3 linked by rows, then one row linking x3 and x0.
        let mut lp = Lp::default();
        let x: Vec<Col> = (0..4).map(|_| lp.add_col(1.0)).collect();
        lp.add_row(0.0, 1.0, [(x[1], 1.0), (x[0], 1.0)]);
        lp.add_row(0.0, 1.0, [(x[3], 1.0), (x[2], 1.0)]);
        assert_eq!(blocks(&lp).blocks.len(), 2);
        lp.add_row(0.0, 1.0, [(x[3], 1.0), (x[0], 1.0)]);
        let b = blocks(&lp);
        assert_eq!(b.blocks.len(), 1);
        assert_eq!(b.blocks[0].cols, vec![0, 1, 2, 3]);
        assert_eq!(b.blocks[0].rows, vec![0, 1, 2]);
    }

    #[test]
    fn split_solve_reassembles_values_duals_and_objective() {
        // min x0 + 2 x1 + 3 x2 + 4 x3 with x0 + x2 >= 1, x1 >= 2, x2 >= 3:
        // x2 = 3 (x0 = 0), x1 = 2, x3 = 0; objective 2·2 + 3·3 = 13.
        // Duals: r1 → 2, r2 → 3 (x2's cost; r0 slack) and r0 → 0.
        let lp = two_blocks();
        let options = SolverOptions::default();
        let (s, basis) = solve_split(&lp, &options, None, true, None)
            .unwrap()
            .unwrap();
        assert_eq!(s.status, Status::Optimal);
        assert!((s.objective - 13.0).abs() < 1e-9);
        let want = [0.0, 2.0, 3.0, 0.0];
        for (a, b) in s.col_value.iter().zip(want) {
            assert!((a - b).abs() < 1e-9, "{:?}", s.col_value);
        }
        let rows = [3.0, 2.0, 3.0, 0.0];
        for (a, b) in s.row_value.iter().zip(rows) {
            assert!((a - b).abs() < 1e-9, "{:?}", s.row_value);
        }
        let duals = [0.0, 2.0, 3.0, 0.0];
        for (a, b) in s.row_dual.iter().zip(duals) {
            assert!((a - b).abs() < 1e-9, "{:?}", s.row_dual);
        }
        let basis = basis.expect("a basis");
        let basic = basis
            .cols
            .iter()
            .chain(&basis.rows)
            .filter(|&&s| s == BASIC);
        assert_eq!(basic.count(), lp.num_rows());
    }

    #[test]
    fn an_infeasible_block_makes_the_lp_infeasible() {
        let mut lp = two_blocks();
        lp.col_upper[1] = 1.0; // x1 >= 2 cannot hold
        let s = solve_split(&lp, &SolverOptions::default(), None, false, None)
            .unwrap()
            .unwrap();
        assert_eq!(s.0.status, Status::Infeasible);
        let mut lp = two_blocks();
        lp.row_lower[3] = 0.5; // the empty row cannot hold
        let s = solve_split(&lp, &SolverOptions::default(), None, false, None)
            .unwrap()
            .unwrap();
        assert_eq!(s.0.status, Status::Infeasible);
    }

    #[test]
    fn a_free_column_pushed_to_an_infinite_bound_is_unbounded() {
        let mut lp = two_blocks();
        lp.col_cost[3] = -1.0;
        let s = solve_split(&lp, &SolverOptions::default(), None, false, None)
            .unwrap()
            .unwrap();
        assert_eq!(s.0.status, Status::Unbounded);
        // Maximizing turns the signs: x3 with cost -1 then sits at 0.
        let mut lp = two_blocks();
        lp.sense = Sense::Maximize;
        for c in &mut lp.col_cost {
            *c = -*c;
        }
        let (s, _) = solve_split(&lp, &SolverOptions::default(), None, false, None)
            .unwrap()
            .unwrap();
        assert_eq!(s.status, Status::Optimal);
        assert!((s.objective + 13.0).abs() < 1e-9);
    }

    #[test]
    fn one_block_is_left_to_the_caller() {
        let mut lp = Lp::default();
        let x = lp.add_col(1.0);
        let y = lp.add_col(1.0);
        lp.add_row(1.0, 2.0, [(x, 1.0), (y, 1.0)]);
        assert!(
            solve_split(&lp, &SolverOptions::default(), None, false, None)
                .unwrap()
                .is_none()
        );
    }
}
