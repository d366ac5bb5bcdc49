//! reeplan: plan rare-earth magnet supply from mine to magnet as a linear
//! program solved with HiGHS.
//!
//! The program flows one way, each stage in its own module:
//! `plan` (load and validate a plan file) → `model` (formulate the LP) →
//! `solve` (HiGHS) → `outcome` (the answer in the planner's terms) →
//! `report` (tables, JSON, Markdown, CSV).

pub mod cli;
pub mod error;
pub mod explain;
pub mod fsio;
pub mod generate;
pub mod grid;
pub mod model;
pub mod outcome;
pub mod plan;
pub mod recourse;
pub mod report;
pub mod solve;
pub mod stress;
pub mod variants;

pub use error::{Error, Result};
pub use outcome::{solve_plan, Outcome};
pub use plan::{Plan, PlanSource};
