//! Why a plan has no solution, in the planner's words.
//!
//! Three elastic relaxations of the min-cost LP (costs dropped, limits
//! allowed to give at a penalty), each answering one question:
//!
//! 1. **What must give?** Unserved demand and share-rule shortfalls may
//!    appear; capacities and embargoes hold. The least total violation is
//!    what the plan cannot deliver, per year, market and rule.
//! 2. **Which capacity is the bottleneck?** Capacity may now be exceeded
//!    (cheaply, next to the violations of step 1, which become dear): the
//!    extra tonnes needed at each facility fix what capacity can fix.
//! 3. **Which embargo blocks the only route?** What more capacity cannot
//!    fix, shipping across an embargo may (dearer than capacity): the
//!    embargoes whose routes are used are named.
//!
//! Whatever is still violated then is structural; for share rules the
//! stages and elements that have no clean facility at all are named.

use serde::Serialize;

use crate::error::Result;
use crate::model::{formulate, BuildOptions, Elastic, FacilityKind, Formulation};
use crate::outcome::{facility_id, stage_name};
use crate::plan::{Plan, Product, Stage};
use crate::report::thousands;
use crate::solve::{self, SolverOptions, Status};

const EPS: f64 = 1e-6;

#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Finding {
    /// A market without `unmet_penalty` cannot get all its demand.
    Unmet {
        year: i64,
        market: String,
        tonnes: f64,
    },
    /// A hard share rule cannot reach its share: t of clean magnet short.
    RuleShort {
        year: i64,
        rule: String,
        tonnes: f64,
    },
    /// A contract's minimum (without penalty) cannot be met.
    ContractShort {
        year: i64,
        contract: String,
        tonnes: f64,
    },
    /// A stockpile cannot hold its `min_level`.
    FloorShort {
        year: i64,
        stockpile: String,
        tonnes: f64,
    },
    /// More capacity here would fix (part of) the shortfall.
    Capacity {
        year: i64,
        stage: &'static str,
        facility: String,
        country: String,
        /// The capacity it has that year (0 when not operating), capacity
        /// built under its `expand` included.
        capacity: f64,
        extra: f64,
        unit: &'static str,
        /// For a facility with `expand` that still operates that year: the
        /// limit of the build that would have to give — `"max"` (built to
        /// its `expand.max`, or `max` is 0), `"earliest"` (the year comes
        /// before `expand.earliest`) or `"lifetime"` (what it could build
        /// has retired by then). None once the facility has closed.
        #[serde(skip_serializing_if = "Option::is_none")]
        expand_limit: Option<&'static str>,
    },
    /// An embargo cuts the only route for these tonnes.
    Embargo {
        year: i64,
        embargoes: Vec<String>,
        product: &'static str,
        element: Option<String>,
        from: String,
        to: String,
        tonnes: f64,
    },
    /// The optimal plan leaves this demand unserved, paying `unmet_penalty`.
    PaidUnmet {
        year: i64,
        market: String,
        tonnes: f64,
    },
    /// The optimal plan falls short of a soft share rule, paying its penalty.
    PaidRuleShort {
        year: i64,
        rule: String,
        tonnes: f64,
    },
    /// A share rule's stage has no facility outside the concern countries
    /// for an element (nothing clean exists to buy).
    NoCleanSource {
        year: i64,
        rule: String,
        stage: &'static str,
        element: Option<String>,
    },
}

#[derive(Clone, Debug, Serialize)]
pub struct Explanation {
    pub plan: String,
    pub scenario: Option<String>,
    /// Status of the plan itself.
    pub status: Status,
    pub findings: Vec<Finding>,
    /// The findings in plain words, one per line.
    pub summary: Vec<String>,
    /// An irreducible infeasible subset from HiGHS, as plan items: these
    /// constraints cannot all hold (drop any one and the rest can).
    pub iis: Vec<String>,
    /// How many variable bounds (shipments `>= 0`) the subset also uses.
    pub iis_bounds: usize,
    /// What would serve the markets short in full ([`remedy`]); `None`
    /// where nothing is short or it was not asked for.
    pub remedy: Option<Remedy>,
}

impl Explanation {
    /// The markets this explanation finds short (in order of the plan).
    pub fn markets_short(&self, plan: &Plan) -> Vec<usize> {
        let short: Vec<&str> = self
            .findings
            .iter()
            .filter_map(|f| match f {
                Finding::Unmet { market, .. } | Finding::PaidUnmet { market, .. } => {
                    Some(market.as_str())
                }
                _ => None,
            })
            .collect();
        (0..plan.markets.len())
            .filter(|&k| short.contains(&plan.markets[k].id.as_str()))
            .collect()
    }
}

/// A plan item for each row of the LP that means one.
fn row_names(plan: &Plan, f: &Formulation) -> std::collections::HashMap<usize, String> {
    use crate::model::BalanceRow;
    let mut names = std::collections::HashMap::new();
    for c in &f.contracts {
        let id = &plan.contracts[c.contract].id;
        if let (Some(row), Some(min)) = (c.min_row, c.min) {
            names.insert(
                row.0 as usize,
                format!(
                    "{}: contract `{id}` takes at least {} t",
                    c.year,
                    thousands(min, 1)
                ),
            );
        }
        if let (Some(row), Some(max)) = (c.max_row, c.max) {
            names.insert(
                row.0 as usize,
                format!(
                    "{}: contract `{id}` takes at most {} t",
                    c.year,
                    thousands(max, 1)
                ),
            );
        }
    }
    for ym in &f.years {
        let y = ym.year;
        for cap in &ym.capacity_rows {
            let fac = crate::model::facility(plan, cap.kind, cap.index);
            names.insert(
                cap.row.0 as usize,
                format!(
                    "{y}: {} capacity of {} ({}) ≤ {} {}",
                    stage_name(cap.kind),
                    fac.id,
                    fac.country,
                    thousands(cap.capacity, 1),
                    unit_of(cap.kind)
                ),
            );
        }
        for s in &ym.share_rows {
            let rule = &plan.share_rules[s.rule];
            names.insert(
                s.row.0 as usize,
                format!(
                    "{y}: share rule `{}` ≥ {:.1} % clean",
                    rule.id,
                    s.required * 100.0
                ),
            );
        }
        for (row, what) in &ym.balance_rows {
            let name = match *what {
                BalanceRow::Separation { refinery, element } => format!(
                    "{y}: separation at {} ({} recovered from its concentrate)",
                    plan.refineries[refinery].facility.id, plan.elements[element].name
                ),
                BalanceRow::OxideUse { plant, element } => format!(
                    "{y}: {} oxide used at {} ≤ delivered",
                    plan.elements[element].name, plan.plants[plant].facility.id
                ),
                BalanceRow::Recipe { plant, element } => format!(
                    "{y}: recipe of {} ({} per t magnet)",
                    plan.plants[plant].facility.id, plan.elements[element].name
                ),
                BalanceRow::Demand { market } => {
                    let k = &plan.markets[market];
                    format!(
                        "{y}: demand of market `{}` = {} t",
                        k.id,
                        thousands(k.demand.at(y), 1)
                    )
                }
            };
            names.insert(row.0 as usize, name);
        }
    }
    names
}

fn solve_elastic(
    plan: &Plan,
    elastic: Elastic,
    options: &SolverOptions,
) -> Result<(Formulation, Vec<f64>)> {
    let f = formulate(
        plan,
        BuildOptions {
            reserves: false,
            elastic: Some(elastic),
        },
    );
    let sol = solve::solve(&f.lp, options)?;
    if sol.status != Status::Optimal {
        return Err(crate::Error::Solver(format!(
            "the elastic relaxation ended {} (it should always be feasible)",
            sol.status.name()
        )));
    }
    Ok((f, sol.col_value))
}

/// Violations of demand and hard share rules in a solved relaxation.
fn violations(plan: &Plan, f: &Formulation, x: &[f64]) -> Vec<Finding> {
    let mut out = Vec::new();
    for c in &f.contracts {
        let contract = &plan.contracts[c.contract];
        if let (None, Some(h)) = (contract.penalty, c.shortfall) {
            let t = x[h.0 as usize];
            if t > EPS {
                out.push(Finding::ContractShort {
                    year: c.year,
                    contract: contract.id.clone(),
                    tonnes: t,
                });
            }
        }
    }
    for ym in &f.years {
        let mut seen = Vec::new();
        for l in &ym.levels {
            let Some(h) = l.floor_shortfall else { continue };
            if seen.contains(&l.stockpile) {
                continue;
            }
            seen.push(l.stockpile);
            let t = x[h.0 as usize];
            if t > EPS {
                out.push(Finding::FloorShort {
                    year: ym.year,
                    stockpile: plan.stockpiles[l.stockpile].id.clone(),
                    tonnes: t,
                });
            }
        }
        for u in &ym.unmet {
            let market = &plan.markets[u.market];
            let t = x[u.col.0 as usize];
            if market.unmet_penalty.is_none() && t > EPS {
                out.push(Finding::Unmet {
                    year: ym.year,
                    market: market.id.clone(),
                    tonnes: t,
                });
            }
        }
        for s in &ym.share_rows {
            let rule = &plan.share_rules[s.rule];
            if let (None, Some(c)) = (rule.penalty, s.shortfall) {
                let t = x[c.0 as usize];
                if t > EPS {
                    out.push(Finding::RuleShort {
                        year: ym.year,
                        rule: rule.id.clone(),
                        tonnes: t,
                    });
                }
            }
        }
    }
    out
}

fn unit_of(kind: FacilityKind) -> &'static str {
    match kind {
        FacilityKind::Mine => "t REO",
        FacilityKind::Refinery => "t REO in",
        FacilityKind::Plant => "t magnet",
    }
}

/// Explain why `plan` (min-cost) has no solution, or, when it is optimal
/// only by paying `unmet_penalty` or soft share-rule penalties, what is
/// short, where, and why (what would bind if the shortfall were forbidden).
pub fn explain(plan: &Plan, options: &SolverOptions) -> Result<Explanation> {
    let plain = formulate(plan, BuildOptions::default());
    let status = solve::solve(&plain.lp, options)?.status;
    if status == Status::Optimal {
        return explain_penalties(plan, options);
    }
    explain_infeasible(plan, options, status, plain)
}

/// An optimal plan that pays penalties: the shortfalls it pays for, then
/// why, from the plan with those shortfalls forbidden (penalties removed):
/// if that plan is infeasible, its explanation names the binding capacities
/// and embargoes; if not, serving is possible and the penalty is simply
/// cheaper than serving.
fn explain_penalties(plan: &Plan, options: &SolverOptions) -> Result<Explanation> {
    let outcome = crate::outcome::solve_plan(plan, options)?;
    let mut findings = Vec::new();
    for u in outcome.unmet.iter().filter(|u| u.tonnes > EPS) {
        findings.push(Finding::PaidUnmet {
            year: u.year,
            market: u.market.clone(),
            tonnes: u.tonnes,
        });
    }
    for s in outcome.shares.iter().filter(|s| s.shortfall > EPS) {
        findings.push(Finding::PaidRuleShort {
            year: s.year,
            rule: s.rule.clone(),
            tonnes: s.shortfall,
        });
    }
    let mut summary = summarize(plan, &findings, Status::Optimal);
    if !findings.is_empty() {
        let mut hard = plan.clone();
        for m in &mut hard.markets {
            m.unmet_penalty = None;
        }
        for r in &mut hard.share_rules {
            r.penalty = None;
        }
        let formulation = formulate(&hard, BuildOptions::default());
        let status = solve::solve(&formulation.lp, options)?.status;
        if status == Status::Infeasible {
            let why = explain_infeasible(&hard, options, status, formulation)?;
            // Its own shortfalls repeat the ones paid for; keep the causes.
            for (f, line) in why.findings.into_iter().zip(why.summary) {
                if !matches!(f, Finding::Unmet { .. } | Finding::RuleShort { .. }) {
                    findings.push(f);
                    summary.push(format!("why: {line}"));
                }
            }
        } else {
            summary.push(format!(
                "why: with the shortfalls forbidden the plan is {}: serving is possible, the penalty is cheaper than serving",
                status.name()
            ));
        }
    }
    Ok(Explanation {
        plan: plan.name.clone(),
        scenario: plan.scenario.as_ref().map(|s| s.name.clone()),
        status: Status::Optimal,
        findings,
        summary,
        iis: Vec::new(),
        iis_bounds: 0,
        remedy: None,
    })
}

fn explain_infeasible(
    plan: &Plan,
    options: &SolverOptions,
    status: Status,
    plain: Formulation,
) -> Result<Explanation> {
    let mut findings = Vec::new();
    let (mut iis, mut iis_bounds) = (Vec::new(), 0);
    if status == Status::Infeasible {
        if let Some((rows, cols)) = solve::iis(&plain.lp, options)? {
            let names = row_names(plan, &plain);
            iis = rows
                .iter()
                .map(|r| names.get(r).cloned().unwrap_or_else(|| format!("row {r}")))
                .collect();
            iis_bounds = cols.len();
        }
        // 1. What must give.
        let (f1, x1) = solve_elastic(
            plan,
            Elastic {
                demand: 1.0,
                share: 1.0,
                capacity: None,
                embargo: None,
            },
            options,
        )?;
        findings.extend(violations(plan, &f1, &x1));

        // 2. Which capacity.
        let (f2, x2) = solve_elastic(
            plan,
            Elastic {
                demand: 1e4,
                share: 1e4,
                capacity: Some(1.0),
                embargo: None,
            },
            options,
        )?;
        for ym in &f2.years {
            for cap in &ym.capacity_rows {
                let Some(e) = cap.overflow else { continue };
                let extra = x2[e.0 as usize];
                if extra > EPS {
                    let fac = crate::model::facility(plan, cap.kind, cap.index);
                    // Builds are free in the relaxation, so a facility that
                    // may build is built out before it overflows.
                    let builds: Vec<_> = f2
                        .builds
                        .iter()
                        .filter(|b| b.kind == cap.kind && b.index == cap.index)
                        .collect();
                    let built: f64 = builds
                        .iter()
                        .filter(|b| b.exists_in(ym.year))
                        .map(|b| x2[b.col.0 as usize])
                        .sum();
                    let expand_limit = fac.expand.as_ref().and_then(|x| {
                        if fac.closes.is_some_and(|c| ym.year >= c) {
                            // Closed: what it built closes with it.
                            None
                        } else if builds.iter().any(|b| b.exists_in(ym.year)) || x.max <= 0.0 {
                            Some("max")
                        } else if ym.year < x.earliest.max(plan.first_year) {
                            Some("earliest")
                        } else {
                            Some("lifetime")
                        }
                    });
                    findings.push(Finding::Capacity {
                        year: ym.year,
                        stage: stage_name(cap.kind),
                        facility: facility_id(plan, cap.kind, cap.index).to_string(),
                        country: fac.country.clone(),
                        capacity: cap.capacity + built,
                        extra,
                        unit: unit_of(cap.kind),
                        expand_limit,
                    });
                }
            }
        }

        // 3. Which embargo (only for what capacity cannot fix).
        if !violations(plan, &f2, &x2).is_empty() {
            let (f3, x3) = solve_elastic(
                plan,
                Elastic {
                    demand: 1e8,
                    share: 1e8,
                    capacity: Some(1.0),
                    embargo: Some(1e4),
                },
                options,
            )?;
            for ym in &f3.years {
                let mut used: Vec<(Product, Option<usize>, String, String, f64)> = Vec::new();
                for route in &ym.embargoed_routes {
                    let t = x3[route.col.0 as usize];
                    if t <= EPS {
                        continue;
                    }
                    match used.iter_mut().find(|u| {
                        u.0 == route.product
                            && u.1 == route.element
                            && u.2 == route.from
                            && u.3 == route.to
                    }) {
                        Some(u) => u.4 += t,
                        None => used.push((
                            route.product,
                            route.element,
                            route.from.clone(),
                            route.to.clone(),
                            t,
                        )),
                    }
                }
                for (product, element, from, to, tonnes) in used {
                    let embargoes = plan
                        .embargoes
                        .iter()
                        .enumerate()
                        .filter(|(_, b)| {
                            b.product.is_none_or(|p| p == product)
                                && (b.element.is_none() || b.element == element)
                                && b.from.matches(&from)
                                && b.to.matches(&to)
                                && b.years.is_none_or(|r| r.contains(ym.year))
                        })
                        .map(|(i, b)| b.id.clone().unwrap_or_else(|| format!("#{}", i + 1)))
                        .collect();
                    findings.push(Finding::Embargo {
                        year: ym.year,
                        embargoes,
                        product: product.name(),
                        element: element.map(|e| plan.elements[e].name.clone()),
                        from,
                        to,
                        tonnes,
                    });
                }
            }
            // Rules that nothing can fix: name the stages with no clean facility.
            for v in violations(plan, &f3, &x3) {
                if let Finding::RuleShort { year, rule, .. } = v {
                    findings.extend(no_clean_source(plan, &rule, year));
                }
            }
        }
    }
    let summary = summarize(plan, &findings, status);
    Ok(Explanation {
        plan: plan.name.clone(),
        scenario: plan.scenario.as_ref().map(|s| s.name.clone()),
        status,
        findings,
        summary,
        iis,
        iis_bounds,
        remedy: None,
    })
}

/// Stages of `rule` at which no facility outside the concern countries can
/// handle an element the rule's plants need, in `year`.
fn no_clean_source(plan: &Plan, rule_id: &str, year: i64) -> Vec<Finding> {
    let Some(rule) = plan.share_rules.iter().find(|r| r.id == rule_id) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let clean = |country: &str| !plan.is_concern(country);
    let needed: Vec<usize> = (0..plan.elements.len())
        .filter(|&e| plan.plants.iter().any(|p| p.recipe[e] > 0.0))
        .collect();
    if rule.stages & Stage::Mining.bit() != 0 {
        for &e in &needed {
            let any = plan.mines.iter().any(|m| {
                clean(&m.facility.country)
                    && m.grade[e] > 0.0
                    && m.facility.effective_capacity(year) > 0.0
            });
            if !any {
                out.push(Finding::NoCleanSource {
                    year,
                    rule: rule.id.clone(),
                    stage: "mining",
                    element: Some(plan.elements[e].name.clone()),
                });
            }
        }
    }
    if rule.stages & Stage::Refining.bit() != 0
        && !plan
            .refineries
            .iter()
            .any(|r| clean(&r.facility.country) && r.facility.effective_capacity(year) > 0.0)
    {
        out.push(Finding::NoCleanSource {
            year,
            rule: rule.id.clone(),
            stage: "refining",
            element: None,
        });
    }
    if rule.stages & Stage::Magnet.bit() != 0
        && !plan
            .plants
            .iter()
            .any(|p| clean(&p.facility.country) && p.facility.effective_capacity(year) > 0.0)
    {
        out.push(Finding::NoCleanSource {
            year,
            rule: rule.id.clone(),
            stage: "magnet",
            element: None,
        });
    }
    out
}

/// The `expand` of the facility with this id, if any.
fn plan_expand<'a>(plan: &'a Plan, id: &str) -> Option<&'a crate::plan::Expand> {
    plan.facilities()
        .find(|f| f.id == id)
        .and_then(|f| f.expand.as_ref())
}

fn summarize(plan: &Plan, findings: &[Finding], status: Status) -> Vec<String> {
    if findings.is_empty() && status != Status::Infeasible {
        return vec![format!("the plan is {}: nothing to explain", status.name())];
    }
    let concern = plan.concern.join(", ");
    findings
        .iter()
        .map(|f| match f {
            Finding::Unmet { year, market, tonnes } => {
                format!("{year}: market `{market}` is {} t of magnet short", thousands(*tonnes, 1))
            }
            Finding::RuleShort { year, rule, tonnes } => {
                format!("{year}: share rule `{rule}` is {} t of clean magnet short", thousands(*tonnes, 1))
            }
            Finding::ContractShort { year, contract, tonnes } => {
                format!("{year}: contract `{contract}` cannot take its minimum: {} t short (capacity, embargoes or other exclusive contracts of the seller stand in the way)", thousands(*tonnes, 1))
            }
            Finding::FloorShort { year, stockpile, tonnes } => {
                format!("{year}: stockpile `{stockpile}` cannot hold its min_level: {} t short (not enough clean or reachable supply to fill it)", thousands(*tonnes, 1))
            }
            Finding::PaidUnmet { year, market, tonnes } => {
                format!("{year}: market `{market}` is {} t of magnet short (optimal only by paying its unmet_penalty)", thousands(*tonnes, 1))
            }
            Finding::PaidRuleShort { year, rule, tonnes } => {
                format!("{year}: soft share rule `{rule}` is {} t of clean magnet short (its penalty is paid)", thousands(*tonnes, 1))
            }
            Finding::Capacity {
                year,
                stage,
                facility,
                country,
                capacity,
                extra,
                unit,
                expand_limit,
            } => {
                let state = if *capacity > 0.0 {
                    format!("has {} {unit}", thousands(*capacity, 1))
                } else {
                    "does not operate that year".to_string()
                };
                let more = thousands(*extra, 1);
                let fix = match (*expand_limit, plan_expand(plan, facility)) {
                    (Some("max"), Some(x)) => format!(
                        "; its expand.max ({} t/yr) would have to rise by {more}",
                        thousands(x.max, 1)
                    ),
                    (Some("earliest"), Some(x)) => format!(
                        "; its expand.earliest ({}) would have to come to {year} or earlier",
                        x.earliest
                    ),
                    (Some("lifetime"), Some(x)) => format!(
                        "; what it may build has retired by then (expand.lifetime {})",
                        x.lifetime
                    ),
                    _ => String::new(),
                };
                format!(
                    "{year}: binding limit: {stage} capacity at {facility} ({country}), which {state}; {more} {unit} more needed{fix}"
                )
            }
            Finding::Embargo {
                year,
                embargoes,
                product,
                element,
                from,
                to,
                tonnes,
            } => {
                let what = match element {
                    Some(e) => format!("{e} oxide"),
                    None => product.to_string(),
                };
                format!(
                    "{year}: embargo {} cuts the only route: {} t of {what} would have to go {from} → {to}",
                    embargoes.iter().map(|e| format!("`{e}`")).collect::<Vec<_>>().join(", "),
                    thousands(*tonnes, 1)
                )
            }
            Finding::NoCleanSource {
                year,
                rule,
                stage,
                element,
            } => match element {
                Some(e) => format!(
                    "{year}: share rule `{rule}` needs {e} mined outside {concern}, and no such mine operates"
                ),
                None => format!(
                    "{year}: share rule `{rule}` needs the {stage} stage outside {concern}, and no such facility operates"
                ),
            },
        })
        .collect()
}

/// What would serve the markets asked about in full: the least-cost
/// capacity to add, and the elements that bind.
#[derive(Clone, Debug, Serialize)]
pub struct Remedy {
    /// The markets served in full (as far as added capacity can).
    pub markets: Vec<String>,
    /// Countries where no capacity is added: the concern countries and
    /// every country an embargo stops exports from.
    pub excluded_countries: Vec<String>,
    pub builds: Vec<RemedyBuild>,
    /// Demand of those markets that added capacity cannot serve either
    /// (an embargo or a share rule with no route), per year.
    pub still_short: Vec<crate::outcome::Unmet>,
    /// Elements whose oxide from mines outside the excluded countries falls
    /// short of what the markets' magnets need, in the worst year.
    pub elements: Vec<ElementGap>,
}

/// Capacity added by the remedy.
#[derive(Clone, Debug, Serialize)]
pub struct RemedyBuild {
    pub facility: String,
    pub country: String,
    pub stage: &'static str,
    /// The year it comes online.
    pub year: i64,
    /// t/yr added.
    pub capacity: f64,
    /// Overnight cost (undiscounted).
    pub capex: f64,
    /// The capex per t/yr is an assumption (the facility has no `expand`):
    /// the median of the plan's own candidates at that stage, or
    /// [`ASSUMED_CAPEX`] where it has none.
    pub assumed: bool,
}

/// One element's gap: oxide needed by the markets' demand against what
/// mines outside the excluded countries can yield, in t oxide a year.
#[derive(Clone, Debug, Serialize)]
pub struct ElementGap {
    pub element: String,
    pub year: i64,
    pub needed: f64,
    pub available: f64,
}

/// Overnight capex per t/yr of capacity assumed where a plan has no build
/// candidate at a stage (mining and separation per t REO/yr, magnet making
/// per t magnet/yr): labelled estimates of the order of the announced
/// projects in ree-facts (a 10 kt/yr magnet plant for about 1 bn USD).
pub const ASSUMED_CAPEX: [(Stage, f64); 3] = [
    (Stage::Mining, 20_000.0),
    (Stage::Refining, 30_000.0),
    (Stage::Magnet, 100_000.0),
];

/// How much running costs and transport count in the remedy, against
/// capex: enough to choose between equal builds, too little to build
/// anything for its lower running cost.
const TIE_BREAK: f64 = 1e-4;

/// Years from the plan's first year before assumed growth can operate: an
/// expansion takes about two years to build (ree-facts: two to three and a
/// half for a new magnet plant), so the first years' shortfalls are what
/// only existing capacity and stock can answer.
pub const ASSUMED_LEAD_YEARS: i64 = 2;

/// Per t of demand of a market asked about, left unserved by the remedy:
/// far above what any capacity costs, so the remedy serves it if any
/// capacity can.
const REMEDY_PENALTY: f64 = 1e8;

/// The capacity of least capex to add outside the excluded countries so
/// that `markets` (indices) are served in full while every other market
/// keeps what the plan gives it: every facility elsewhere may grow — a
/// build candidate within its `expand`, any other at an assumed capex (the
/// median of the plan's candidates at its stage) — and demand left
/// unserved costs far more than any capacity. Running costs are left out:
/// the question is what must exist, not how to run it cheapest.
pub fn remedy(plan: &Plan, markets: &[usize], options: &SolverOptions) -> Result<Remedy> {
    let mut excluded: Vec<String> = plan.concern.clone();
    for e in &plan.embargoes {
        if let crate::plan::CountryMatch::Is(c) = &e.from {
            if !excluded.contains(c) {
                excluded.push(c.clone());
            }
        }
    }
    let median_capex = |stage: Stage| -> f64 {
        let facilities: Vec<&crate::plan::Facility> = match stage {
            Stage::Mining => plan.mines.iter().map(|m| &m.facility).collect(),
            Stage::Refining => plan.refineries.iter().map(|r| &r.facility).collect(),
            Stage::Magnet => plan.plants.iter().map(|p| &p.facility).collect(),
        };
        let mut capex: Vec<f64> = facilities
            .iter()
            .filter_map(|f| f.expand.as_ref().map(|x| x.capex))
            .filter(|c| *c > 0.0)
            .collect();
        capex.sort_by(f64::total_cmp);
        if capex.is_empty() {
            ASSUMED_CAPEX
                .iter()
                .find(|(s, _)| *s == stage)
                .map_or(0.0, |(_, c)| *c)
        } else {
            capex[capex.len() / 2]
        }
    };
    let mut fix = plan.clone();
    let horizon = plan.last_year - plan.first_year + 1;
    let mut assumed: Vec<String> = Vec::new();
    let mut grow = |f: &mut crate::plan::Facility, stage: Stage| {
        if excluded.contains(&f.country) || f.expand.is_some() {
            return;
        }
        f.expand = Some(crate::plan::Expand {
            capex: median_capex(stage),
            // As much as the markets could need: more than all demand.
            max: 1e7,
            // Not before the facility exists, nor before a build could be
            // finished from the plan's first year.
            earliest: f.online.max(plan.first_year + ASSUMED_LEAD_YEARS),
            lifetime: horizon.max(1),
            fixed_cost: 0.0,
            min_build: 0.0,
        });
        assumed.push(f.id.clone());
    };
    for m in &mut fix.mines {
        grow(&mut m.facility, Stage::Mining);
    }
    for r in &mut fix.refineries {
        grow(&mut r.facility, Stage::Refining);
    }
    for p in &mut fix.plants {
        grow(&mut p.facility, Stage::Magnet);
    }
    // The least capex, not the least running cost: with operating costs
    // and transport scaled down to tie-breakers and duties and credits left
    // out, nothing is built to replace dearer supply that already exists,
    // and a build comes as late as it can (a late build pays fewer years of
    // its annuity); between equal builds the cheaper to run wins.
    let scale = |v: &crate::plan::YearValue| match v {
        crate::plan::YearValue::Constant(c) => crate::plan::YearValue::Constant(c * TIE_BREAK),
        crate::plan::YearValue::Table(points) => {
            crate::plan::YearValue::Table(points.iter().map(|&(y, c)| (y, c * TIE_BREAK)).collect())
        }
    };
    for f in fix
        .mines
        .iter_mut()
        .map(|m| &mut m.facility)
        .chain(fix.refineries.iter_mut().map(|r| &mut r.facility))
        .chain(fix.plants.iter_mut().map(|p| &mut p.facility))
    {
        f.cost = scale(&f.cost);
    }
    let t = &mut fix.transport;
    for v in t.domestic.iter_mut().chain(t.cross_border.iter_mut()) {
        *v *= TIE_BREAK;
    }
    for lane in t.lanes.values_mut() {
        for v in lane.iter_mut().flatten() {
            *v *= TIE_BREAK;
        }
    }
    fix.tariffs.clear();
    fix.subsidies.clear();
    for s in &mut fix.stockpiles {
        s.holding_cost = crate::plan::YearValue::Constant(0.0);
    }
    // The markets asked about get all their demand; every other market
    // keeps what the plan gives it (no less, and nothing is built for more).
    let base = crate::outcome::solve_plan(plan, options)?;
    for (k, m) in fix.markets.iter_mut().enumerate() {
        if !markets.contains(&k) {
            let got = |y: i64| -> f64 {
                base.flows
                    .magnet
                    .iter()
                    .filter(|f| f.year == y && f.to == m.id)
                    .map(|f| f.tonnes)
                    .sum()
            };
            if base.cost.is_some() {
                m.demand =
                    crate::plan::YearValue::Table(plan.years().map(|y| (y, got(y))).collect());
            }
        }
        // What the others get is kept first: the markets asked about are
        // served from more capacity, never from theirs.
        m.unmet_penalty = Some(if markets.contains(&k) {
            REMEDY_PENALTY
        } else {
            10.0 * REMEDY_PENALTY
        });
    }
    let outcome = crate::outcome::solve_plan(&fix, options)?;
    let ids: Vec<String> = markets
        .iter()
        .map(|&k| plan.markets[k].id.clone())
        .collect();
    let builds = outcome
        .builds
        .iter()
        .map(|b| RemedyBuild {
            facility: b.facility.clone(),
            country: b.country.clone(),
            stage: b.stage,
            year: b.year,
            capacity: b.capacity,
            capex: b.capex,
            assumed: assumed.contains(&b.facility),
        })
        .collect();
    let still_short = outcome
        .unmet
        .iter()
        .filter(|u| ids.contains(&u.market))
        .cloned()
        .collect();
    Ok(Remedy {
        elements: element_gaps(plan, markets, &excluded),
        markets: ids,
        excluded_countries: excluded,
        builds,
        still_short,
    })
}

/// For each element, the year its gap is widest: oxide the markets'
/// demand needs (at the smallest recipe among the plants, so a lower
/// bound) against what mines outside `excluded` yield at capacity (at the
/// best recovery among refineries outside `excluded`). Only elements short
/// in some year are listed.
fn element_gaps(plan: &Plan, markets: &[usize], excluded: &[String]) -> Vec<ElementGap> {
    let outside = |c: &String| !excluded.contains(c);
    let mut out = Vec::new();
    for (e, element) in plan.elements.iter().enumerate() {
        let recipe = plan
            .plants
            .iter()
            .map(|p| p.recipe[e])
            .fold(f64::INFINITY, f64::min);
        let recovery = plan
            .refineries
            .iter()
            .filter(|r| outside(&r.facility.country))
            .map(|r| r.recovery[e])
            .fold(0.0f64, f64::max);
        if !recipe.is_finite() || recipe <= 0.0 {
            continue;
        }
        let worst = plan
            .years()
            .map(|y| {
                let needed: f64 = markets
                    .iter()
                    .map(|&k| plan.markets[k].demand.at(y))
                    .sum::<f64>()
                    * recipe;
                let available: f64 = plan
                    .mines
                    .iter()
                    .filter(|m| outside(&m.facility.country))
                    .map(|m| m.facility.effective_capacity(y) * m.grade[e])
                    .sum::<f64>()
                    * recovery;
                (y, needed, available)
            })
            .filter(|(_, n, a)| n > a)
            .max_by(|a, b| (a.1 - a.2).total_cmp(&(b.1 - b.2)));
        if let Some((year, needed, available)) = worst {
            out.push(ElementGap {
                element: element.name.clone(),
                year,
                needed,
                available,
            });
        }
    }
    out
}
