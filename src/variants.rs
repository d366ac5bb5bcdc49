//! Solving many variants of one plan — the points of a sweep — side by side,
//! reusing work between them.
//!
//! Every variant is the plan with its own `--set` overrides. Three ways to
//! reuse work ([`Reuse`]): none (each variant from scratch); rebuild each
//! variant's LP and start HiGHS from the optimal basis of an anchor variant
//! (the grid's first point), so that each variant's answer depends on
//! nothing but itself; or live models (the default of `reeplan sweep`): the
//! variants are cut into runs of [`LIVE_RUN`] neighbours, and each run is
//! solved one variant after the other in live HiGHS models, one per
//! independent block, changing only the costs and bounds that differ
//! (see [`crate::solve::LiveModels`]). The runs do not depend on the number
//! of threads, so any thread count gives the same answers.

use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::error::Result;
use crate::outcome::{solve_plan_live, solve_plan_warm, Outcome};
use crate::plan::{Override, Plan, PlanSource};
use crate::solve::{Basis, LiveModels, SolverOptions};

/// How many neighbouring variants one live model solves in a row: long
/// enough for most of the gain (each starts from its neighbour's optimum),
/// short enough that a grid of a few hundred points keeps every core busy.
pub const LIVE_RUN: usize = 16;

/// How work is reused from one variant to the next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reuse {
    /// Every variant from scratch.
    Cold,
    /// Every variant's LP built anew, started from the anchor's basis.
    Rebuild,
    /// Live models, in runs of neighbours (started from the anchor's basis).
    Live,
}

/// What the live models did: solves (of an LP or block) that changed a
/// live model in place, and solves that passed a model anew.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LiveCounts {
    pub updated: usize,
    pub passed: usize,
}

/// Variants of one plan (or one scenario of it), solved alike.
#[derive(Clone, Copy)]
pub struct Variants<'a> {
    pub source: &'a PlanSource,
    pub scenario: Option<&'a str>,
    pub options: &'a SolverOptions,
    pub reuse: Reuse,
}

impl Variants<'_> {
    /// The optimal basis of the plan with `anchor`'s overrides, to start
    /// the variants from (`None` with [`Reuse::Cold`], or when it does not
    /// solve: the variants then start cold, which changes no answer).
    pub fn anchor_basis(&self, anchor: &[Override]) -> Option<Basis> {
        if self.reuse == Reuse::Cold {
            return None;
        }
        let mut basis = None;
        if let Ok(plan) = self.source.plan_with(self.scenario, anchor) {
            // A failure here only means no warm start.
            let _ = solve_plan_warm(&plan, self.options, &mut basis);
        }
        basis
    }

    /// Solve every variant on `pool` and hand each one's plan and outcome
    /// (or the error that stopped it) to `row`; the rows come back in the
    /// order of `variants`. `start` is the anchor's basis.
    pub fn solve<T, F>(
        &self,
        variants: &[Vec<Override>],
        start: Option<&Basis>,
        pool: &rayon::ThreadPool,
        row: F,
    ) -> (Vec<T>, LiveCounts)
    where
        T: Send,
        F: Fn(Result<(Plan, Outcome)>) -> T + Sync,
    {
        let (source, scenario, options) = (self.source, self.scenario, self.options);
        let start = if self.reuse == Reuse::Cold {
            None
        } else {
            start
        };
        let solve = |overrides: &[Override], live: Option<&mut LiveModels>| {
            let mut warm = start.cloned();
            row(source.plan_with(scenario, overrides).and_then(|plan| {
                let out = match live {
                    Some(live) => solve_plan_live(&plan, options, &mut warm, live),
                    None => solve_plan_warm(&plan, options, &mut warm),
                };
                out.map(|out| (plan, out))
            }))
        };
        if self.reuse != Reuse::Live {
            let rows = pool.install(|| variants.par_iter().map(|v| solve(v, None)).collect());
            return (rows, LiveCounts::default());
        }
        let (updated, passed) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let rows = pool.install(|| {
            variants
                .par_chunks(LIVE_RUN)
                .flat_map_iter(|run| {
                    let mut live = LiveModels::new(false);
                    let rows: Vec<T> = run.iter().map(|v| solve(v, Some(&mut live))).collect();
                    updated.fetch_add(live.updated(), Ordering::Relaxed);
                    passed.fetch_add(live.passed(), Ordering::Relaxed);
                    rows
                })
                .collect()
        });
        let counts = LiveCounts {
            updated: updated.into_inner(),
            passed: passed.into_inner(),
        };
        (rows, counts)
    }
}
