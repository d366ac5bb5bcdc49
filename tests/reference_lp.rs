//! Independent reference implementation of the LP in `FORMULATION.md`.
//!
//! This file deliberately does NOT use the `reeplan` library crate. It reads a
//! plan with the `toml` crate into a `toml::Value`, builds the full LP of
//! FORMULATION.md literally (every origin class, no size reductions) with
//! `good_lp` + HiGHS, and checks
//!
//! 1. every hand-computed plan in `tests/plans/*.toml` (its `# EXPECTED` lines)
//!    against this reference LP and against the `reeplan` binary, and
//! 2. a suite of random plans: reeplan's optimum and status must agree with
//!    the reference LP.

// `!(x <= tol)` is deliberate: it also fails when x is NaN.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

use good_lp::solvers::DualValues;
use good_lp::{
    constraint, highs, variable, Constraint, Expression, ProblemVariables, ResolutionError,
    Solution, SolutionWithDual, SolverModel, Variable,
};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use toml::Value;

// ---------------------------------------------------------------------------
// Plan reading
// ---------------------------------------------------------------------------

const MINING: u8 = 1;
const REFINING: u8 = 2;
const MAGNET: u8 = 4;

#[derive(Clone, Debug)]
enum PerYear {
    Const(f64),
    Table(Vec<(i64, f64)>),
}

impl PerYear {
    fn parse(v: &Value) -> PerYear {
        match v {
            Value::Integer(i) => PerYear::Const(*i as f64),
            Value::Float(f) => PerYear::Const(*f),
            Value::Table(t) => {
                let mut pts: Vec<(i64, f64)> = t
                    .iter()
                    .map(|(k, v)| (k.trim().parse::<i64>().expect("year key"), num(v)))
                    .collect();
                pts.sort_by_key(|p| p.0);
                assert!(!pts.is_empty(), "empty year table");
                PerYear::Table(pts)
            }
            other => panic!("bad per-year value {other:?}"),
        }
    }
    fn at(&self, y: i64) -> f64 {
        match self {
            PerYear::Const(c) => *c,
            PerYear::Table(pts) => {
                if y <= pts[0].0 {
                    return pts[0].1;
                }
                if y >= pts[pts.len() - 1].0 {
                    return pts[pts.len() - 1].1;
                }
                for w in pts.windows(2) {
                    let (y0, v0) = w[0];
                    let (y1, v1) = w[1];
                    if y >= y0 && y <= y1 {
                        return v0 + (v1 - v0) * (y - y0) as f64 / (y1 - y0) as f64;
                    }
                }
                unreachable!()
            }
        }
    }
}

fn num(v: &Value) -> f64 {
    match v {
        Value::Integer(i) => *i as f64,
        Value::Float(f) => *f,
        other => panic!("expected number, got {other:?}"),
    }
}

fn get_num(t: &Value, k: &str, default: f64) -> f64 {
    t.get(k).map(num).unwrap_or(default)
}

fn get_str(t: &Value, k: &str) -> Option<String> {
    t.get(k).map(|v| v.as_str().expect("string").to_string())
}

fn get_strs(t: &Value, k: &str) -> Option<Vec<String>> {
    t.get(k).map(|v| {
        v.as_array()
            .expect("array")
            .iter()
            .map(|s| s.as_str().expect("string").to_string())
            .collect()
    })
}

fn get_range(t: &Value, k: &str) -> Option<(i64, i64)> {
    t.get(k).map(|v| {
        let a = v.as_array().expect("year range");
        (a[0].as_integer().unwrap(), a[1].as_integer().unwrap())
    })
}

fn elem_map(v: Option<&Value>) -> HashMap<String, f64> {
    match v {
        None => HashMap::new(),
        Some(Value::Table(t)) => t.iter().map(|(k, v)| (k.clone(), num(v))).collect(),
        Some(other) => panic!("expected element table, got {other:?}"),
    }
}

#[derive(Clone, Debug)]
struct Fac {
    id: String,
    country: String,
    capacity: PerYear,
    cost: PerYear,
    online: i64,
    ramp: Vec<f64>,
    closes: Option<i64>,
    grade: HashMap<String, f64>,
    recovery_all: f64,
    recovery: HashMap<String, f64>,
    recipe: HashMap<String, f64>,
}

impl Fac {
    fn parse(t: &Value, first_year: i64) -> Fac {
        let (recovery_all, recovery) = match t.get("recovery") {
            None => (1.0, HashMap::new()),
            Some(v @ Value::Table(_)) => (1.0, elem_map(Some(v))),
            Some(v) => (num(v), HashMap::new()),
        };
        Fac {
            id: get_str(t, "id").unwrap(),
            country: get_str(t, "country").unwrap(),
            capacity: PerYear::parse(t.get("capacity").expect("capacity")),
            cost: t
                .get("cost")
                .map(PerYear::parse)
                .unwrap_or(PerYear::Const(0.0)),
            online: t
                .get("online")
                .map(|v| v.as_integer().unwrap())
                .unwrap_or(first_year),
            ramp: t
                .get("ramp")
                .map(|v| v.as_array().unwrap().iter().map(num).collect())
                .unwrap_or_default(),
            closes: t.get("closes").map(|v| v.as_integer().unwrap()),
            grade: elem_map(t.get("grade")),
            recovery_all,
            recovery,
            recipe: elem_map(t.get("recipe")),
        }
    }
    fn cap(&self, y: i64) -> f64 {
        if y < self.online {
            return 0.0;
        }
        if let Some(c) = self.closes {
            if y >= c {
                return 0.0;
            }
        }
        let ramp = self
            .ramp
            .get((y - self.online) as usize)
            .copied()
            .unwrap_or(1.0);
        self.capacity.at(y) * ramp
    }
    fn rec(&self, e: &str) -> f64 {
        *self.recovery.get(e).unwrap_or(&self.recovery_all)
    }
}

#[derive(Clone, Debug)]
struct Market {
    id: String,
    country: String,
    demand: PerYear,
    penalty: Option<f64>,
}

#[derive(Clone, Debug)]
struct Tariff {
    product: String,
    element: Option<String>,
    from: String,
    to: String,
    ad_valorem: f64,
    per_tonne: f64,
    years: Option<(i64, i64)>,
}

#[derive(Clone, Debug)]
struct Embargo {
    product: String,
    element: Option<String>,
    from: String,
    to: String,
    years: Option<(i64, i64)>,
}

#[derive(Clone, Debug)]
struct Rule {
    id: String,
    markets: Option<Vec<String>>,
    stages: u8,
    min_share: PerYear,
    years: Option<(i64, i64)>,
}

#[derive(Clone, Debug)]
struct Disruption {
    exports_from: Vec<String>,
    countries: Vec<String>,
    facilities: Vec<String>,
    factor: f64,
    years: Option<(i64, i64)>,
}

#[derive(Clone, Debug)]
struct Plan {
    first: i64,
    last: i64,
    max_resilience: bool,
    discount: f64,
    concern: Vec<String>,
    elements: Vec<(String, f64)>,
    price_conc: f64,
    price_magnet: f64,
    mines: Vec<Fac>,
    refineries: Vec<Fac>,
    plants: Vec<Fac>,
    markets: Vec<Market>,
    domestic: HashMap<String, f64>,
    cross_border: HashMap<String, f64>,
    lanes: HashMap<(String, String), HashMap<String, f64>>,
    tariffs: Vec<Tariff>,
    embargoes: Vec<Embargo>,
    rules: Vec<Rule>,
    budget: f64,
    reserve_cost: f64,
    disruptions: Vec<Disruption>,
    /// (rule, year, delta): adds delta to that rule's min_share in that year
    /// (used to take finite differences of the optimum).
    share_bump: Option<(String, i64, f64)>,
}

fn in_range(r: &Option<(i64, i64)>, y: i64) -> bool {
    match r {
        None => true,
        Some((a, b)) => *a <= y && y <= *b,
    }
}

fn cmatch(pat: &str, c: &str) -> bool {
    pat == "*" || pat == c
}

impl Plan {
    fn from_value(v: &Value) -> Plan {
        let p = v.get("plan").expect("[plan]");
        let first = p.get("first_year").unwrap().as_integer().unwrap();
        let last = p.get("last_year").unwrap().as_integer().unwrap();
        let arr = |k: &str| -> Vec<Value> {
            v.get(k)
                .and_then(|a| a.as_array().cloned())
                .unwrap_or_default()
        };
        let mut elements: Vec<(String, f64)> = v
            .get("elements")
            .and_then(|e| e.as_table())
            .expect("[elements]")
            .iter()
            .map(|(k, t)| (k.clone(), get_num(t, "price", 0.0)))
            .collect();
        elements.sort_by(|a, b| a.0.cmp(&b.0));
        let empty = Value::Table(Default::default());
        let prices = v.get("prices").unwrap_or(&empty);
        let transport = v.get("transport").unwrap_or(&empty);
        let mut lanes: HashMap<(String, String), HashMap<String, f64>> = HashMap::new();
        for l in transport
            .get("lane")
            .and_then(|a| a.as_array().cloned())
            .unwrap_or_default()
        {
            let e = lanes
                .entry((get_str(&l, "from").unwrap(), get_str(&l, "to").unwrap()))
                .or_default();
            for prod in ["concentrate", "oxide", "magnet"] {
                if let Some(x) = l.get(prod) {
                    e.insert(prod.to_string(), num(x));
                }
            }
        }
        let res = v.get("resilience").unwrap_or(&empty);
        Plan {
            first,
            last,
            max_resilience: get_str(p, "objective").as_deref() == Some("max-resilience"),
            discount: get_num(p, "discount_rate", 0.0),
            concern: get_strs(p, "concern").unwrap_or_else(|| vec!["CN".to_string()]),
            elements,
            price_conc: get_num(prices, "concentrate", 0.0),
            price_magnet: get_num(prices, "magnet", 0.0),
            mines: arr("mine").iter().map(|t| Fac::parse(t, first)).collect(),
            refineries: arr("refinery")
                .iter()
                .map(|t| Fac::parse(t, first))
                .collect(),
            plants: arr("magnet_plant")
                .iter()
                .map(|t| Fac::parse(t, first))
                .collect(),
            markets: arr("market")
                .iter()
                .map(|t| Market {
                    id: get_str(t, "id").unwrap(),
                    country: get_str(t, "country").unwrap(),
                    demand: PerYear::parse(t.get("demand").unwrap()),
                    penalty: t.get("unmet_penalty").map(num),
                })
                .collect(),
            domestic: elem_map(transport.get("domestic")),
            cross_border: elem_map(transport.get("cross_border")),
            lanes,
            tariffs: arr("tariff")
                .iter()
                .map(|t| Tariff {
                    product: get_str(t, "product").unwrap(),
                    element: get_str(t, "element"),
                    from: get_str(t, "from").unwrap(),
                    to: get_str(t, "to").unwrap(),
                    ad_valorem: get_num(t, "ad_valorem", 0.0),
                    per_tonne: get_num(t, "per_tonne", 0.0),
                    years: get_range(t, "years"),
                })
                .collect(),
            embargoes: arr("embargo")
                .iter()
                .map(|t| Embargo {
                    product: get_str(t, "product").unwrap(),
                    element: get_str(t, "element"),
                    from: get_str(t, "from").unwrap(),
                    to: get_str(t, "to").unwrap(),
                    years: get_range(t, "years"),
                })
                .collect(),
            rules: arr("share_rule")
                .iter()
                .map(|t| Rule {
                    id: get_str(t, "id").unwrap(),
                    markets: get_strs(t, "markets"),
                    stages: get_strs(t, "stages")
                        .map(|s| {
                            s.iter()
                                .map(|x| match x.as_str() {
                                    "mining" => MINING,
                                    "refining" => REFINING,
                                    "magnet" => MAGNET,
                                    o => panic!("bad stage {o}"),
                                })
                                .fold(0, |a, b| a | b)
                        })
                        .unwrap_or(MINING | REFINING | MAGNET),
                    min_share: PerYear::parse(t.get("min_share").unwrap()),
                    years: get_range(t, "years"),
                })
                .collect(),
            budget: get_num(res, "budget", 0.1),
            reserve_cost: get_num(res, "reserve_cost", 0.0),
            disruptions: arr("disruption")
                .iter()
                .map(|t| Disruption {
                    exports_from: get_strs(t, "exports_from").unwrap_or_default(),
                    countries: get_strs(t, "countries").unwrap_or_default(),
                    facilities: get_strs(t, "facilities").unwrap_or_default(),
                    factor: get_num(t, "capacity_factor", 0.0),
                    years: get_range(t, "years"),
                })
                .collect(),
            share_bump: None,
        }
    }

    fn clean(&self, country: &str) -> bool {
        !self.concern.iter().any(|c| c == country)
    }
    fn weight(&self, y: i64) -> f64 {
        (1.0 + self.discount).powi(-((y - self.first) as i32))
    }
    fn transport(&self, prod: &str, a: &str, b: &str) -> f64 {
        if let Some(l) = self.lanes.get(&(a.to_string(), b.to_string())) {
            if let Some(x) = l.get(prod) {
                return *x;
            }
        }
        let t = if a == b {
            &self.domestic
        } else {
            &self.cross_border
        };
        *t.get(prod).unwrap_or(&0.0)
    }
    fn value(&self, prod: &str, e: Option<&str>) -> f64 {
        match prod {
            "concentrate" => self.price_conc,
            "magnet" => self.price_magnet,
            _ => {
                self.elements
                    .iter()
                    .find(|x| Some(x.0.as_str()) == e)
                    .unwrap()
                    .1
            }
        }
    }
    fn tariff(&self, prod: &str, e: Option<&str>, a: &str, b: &str, y: i64) -> f64 {
        if a == b {
            return 0.0;
        }
        self.tariffs
            .iter()
            .filter(|t| {
                t.product == prod
                    && (t.element.is_none() || t.element.as_deref() == e)
                    && cmatch(&t.from, a)
                    && cmatch(&t.to, b)
                    && in_range(&t.years, y)
            })
            .map(|t| t.ad_valorem * self.value(prod, e) + t.per_tonne)
            .sum()
    }
    fn embargoed(&self, prod: &str, e: Option<&str>, a: &str, b: &str, y: i64) -> bool {
        a != b
            && self.embargoes.iter().any(|t| {
                (t.product == "*" || t.product == prod)
                    && (t.element.is_none() || t.element.as_deref() == e)
                    && cmatch(&t.from, a)
                    && cmatch(&t.to, b)
                    && in_range(&t.years, y)
            })
    }
    fn years(&self) -> Vec<i64> {
        (self.first..=self.last).collect()
    }
}

/// Applies `[scenario.NAME]` to the raw TOML (remove, then table merges, then
/// array entries), returning the patched document without `[scenario]`.
fn apply_scenario(doc: &Value, name: &str) -> Value {
    let mut base = doc.clone();
    let patch = doc
        .get("scenario")
        .and_then(|s| s.get(name))
        .unwrap_or_else(|| panic!("no scenario {name}"))
        .clone();
    let bt = base.as_table_mut().unwrap();
    bt.remove("scenario");
    let pt = patch.as_table().unwrap();
    if let Some(rm) = pt.get("remove") {
        let ids: Vec<String> = rm
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect();
        for key in [
            "mine",
            "refinery",
            "magnet_plant",
            "market",
            "tariff",
            "embargo",
            "share_rule",
            "disruption",
        ] {
            if let Some(Value::Array(a)) = bt.get_mut(key) {
                a.retain(|e| {
                    !ids.iter()
                        .any(|id| e.get("id").and_then(|v| v.as_str()) == Some(id))
                });
            }
        }
    }
    fn merge(dst: &mut Value, src: &Value) {
        match (dst, src) {
            (Value::Table(d), Value::Table(s)) => {
                for (k, v) in s {
                    if k == "lane" {
                        let lanes = d.entry("lane").or_insert(Value::Array(vec![]));
                        let la = lanes.as_array_mut().unwrap();
                        for l in v.as_array().unwrap() {
                            let key = (l.get("from").cloned(), l.get("to").cloned());
                            if let Some(ex) = la
                                .iter_mut()
                                .find(|x| (x.get("from").cloned(), x.get("to").cloned()) == key)
                            {
                                for (lk, lv) in l.as_table().unwrap() {
                                    ex.as_table_mut().unwrap().insert(lk.clone(), lv.clone());
                                }
                            } else {
                                la.push(l.clone());
                            }
                        }
                    } else if let Some(dv) = d.get_mut(k) {
                        if dv.is_table() && v.is_table() {
                            merge(dv, v);
                        } else {
                            *dv = v.clone();
                        }
                    } else {
                        d.insert(k.clone(), v.clone());
                    }
                }
            }
            (d, s) => *d = s.clone(),
        }
    }
    for (k, v) in pt {
        if k == "remove" || k == "description" {
            continue;
        }
        if v.is_table() {
            let dst = bt
                .entry(k.clone())
                .or_insert(Value::Table(Default::default()));
            merge(dst, v);
        }
    }
    for (k, v) in pt {
        if let Value::Array(entries) = v {
            if k == "remove" {
                continue;
            }
            let arr = bt
                .entry(k.clone())
                .or_insert(Value::Array(vec![]))
                .as_array_mut()
                .unwrap();
            for e in entries {
                let id = e.get("id").and_then(|x| x.as_str());
                let existing = id.and_then(|id| {
                    arr.iter_mut()
                        .find(|x| x.get("id").and_then(|v| v.as_str()) == Some(id))
                });
                match existing {
                    Some(x) => {
                        for (ek, ev) in e.as_table().unwrap() {
                            x.as_table_mut().unwrap().insert(ek.clone(), ev.clone());
                        }
                    }
                    None => arr.push(e.clone()),
                }
            }
        }
    }
    base
}

// ---------------------------------------------------------------------------
// The LP
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Status {
    Optimal,
    Infeasible,
    Unbounded,
}

#[derive(Debug, Clone)]
struct RefResult {
    status: Status,
    objective: f64,
    /// (rule, year) -> shadow price per percentage point (min-cost only)
    shadow: BTreeMap<(String, i64), f64>,
    /// (market, year) -> unmet tonnes
    unmet: BTreeMap<(String, i64), f64>,
    /// production, transport, tariffs, unmet, reserves, total
    cost: BTreeMap<String, f64>,
}

/// Subsets of {mining, refining}: the oxide classes and production classes.
const OX_CLASSES: [u8; 4] = [0, MINING, REFINING, MINING | REFINING];

struct YearVars {
    y: i64,
    /// (m, r) -> var
    x: HashMap<(usize, usize), Variable>,
    /// (r, p, e, b) -> var
    o: HashMap<(usize, usize, usize, u8), Variable>,
    /// (p, e, b, d) -> var
    q: HashMap<(usize, usize, u8, u8), Variable>,
    /// (p, k, d) -> var
    z: HashMap<(usize, usize, u8), Variable>,
    /// k -> var
    u: HashMap<usize, Variable>,
}

struct Lp {
    vars: ProblemVariables,
    cons: Vec<Constraint>,
    /// (rule, year, index into cons, markets delivered expression)
    share_rows: Vec<(String, i64, usize, Expression)>,
    prod: Expression,
    trans: Expression,
    tariffs: Expression,
    unmet: Expression,
    years: Vec<YearVars>,
}

fn sum<I: IntoIterator<Item = Variable>>(it: I) -> Expression {
    let mut e = Expression::from(0.0);
    for v in it {
        e += v;
    }
    e
}

/// Builds the min-cost LP (constraints 1-9) for every year of the plan.
fn build(plan: &Plan) -> Lp {
    let mut vars = ProblemVariables::new();
    let mut cons: Vec<Constraint> = vec![];
    let mut share_rows = vec![];
    let (mut prod, mut trans, mut tariffs, mut unmet) = (
        Expression::from(0.0),
        Expression::from(0.0),
        Expression::from(0.0),
        Expression::from(0.0),
    );
    let ne = plan.elements.len();
    let mut years = vec![];
    for y in plan.years() {
        let w = plan.weight(y);
        let mut yv = YearVars {
            y,
            x: HashMap::new(),
            o: HashMap::new(),
            q: HashMap::new(),
            z: HashMap::new(),
            u: HashMap::new(),
        };
        // x[m,r]
        for (mi, m) in plan.mines.iter().enumerate() {
            for (ri, r) in plan.refineries.iter().enumerate() {
                if plan.embargoed("concentrate", None, &m.country, &r.country, y) {
                    continue;
                }
                let v = vars.add(variable().min(0.0));
                yv.x.insert((mi, ri), v);
                prod += (w * (m.cost.at(y) + r.cost.at(y))) * v;
                trans += (w * plan.transport("concentrate", &m.country, &r.country)) * v;
                tariffs += (w * plan.tariff("concentrate", None, &m.country, &r.country, y)) * v;
            }
        }
        // o[r,p,e,b]: b ranges over the classes refinery r can produce, a ∪ ref(r)
        for (ri, r) in plan.refineries.iter().enumerate() {
            let refc = if plan.clean(&r.country) { REFINING } else { 0 };
            for (pi, p) in plan.plants.iter().enumerate() {
                for (ei, (e, _)) in plan.elements.iter().enumerate() {
                    if plan.embargoed("oxide", Some(e), &r.country, &p.country, y) {
                        continue;
                    }
                    let c = plan.transport("oxide", &r.country, &p.country);
                    let t = plan.tariff("oxide", Some(e), &r.country, &p.country, y);
                    for a in [0u8, MINING] {
                        let b = a | refc;
                        let v = vars.add(variable().min(0.0));
                        yv.o.insert((ri, pi, ei, b), v);
                        trans += (w * c) * v;
                        tariffs += (w * t) * v;
                    }
                }
            }
        }
        // q[p,e,b,d], d ⊆ b
        for pi in 0..plan.plants.len() {
            for ei in 0..ne {
                for b in OX_CLASSES {
                    for d in OX_CLASSES {
                        if d & b == d {
                            yv.q.insert((pi, ei, b, d), vars.add(variable().min(0.0)));
                        }
                    }
                }
            }
        }
        // z[p,k,d]
        for (pi, p) in plan.plants.iter().enumerate() {
            for (ki, k) in plan.markets.iter().enumerate() {
                if plan.embargoed("magnet", None, &p.country, &k.country, y) {
                    continue;
                }
                for d in OX_CLASSES {
                    let v = vars.add(variable().min(0.0));
                    yv.z.insert((pi, ki, d), v);
                    prod += (w * p.cost.at(y)) * v;
                    trans += (w * plan.transport("magnet", &p.country, &k.country)) * v;
                    tariffs += (w * plan.tariff("magnet", None, &p.country, &k.country, y)) * v;
                }
            }
        }
        // u[k]
        for (ki, k) in plan.markets.iter().enumerate() {
            if let Some(pen) = k.penalty {
                let v = vars.add(variable().min(0.0));
                yv.u.insert(ki, v);
                unmet += (w * pen) * v;
            }
        }
        // 1. mine capacity
        for (mi, m) in plan.mines.iter().enumerate() {
            let e = sum((0..plan.refineries.len()).filter_map(|ri| yv.x.get(&(mi, ri)).copied()));
            cons.push(constraint!(e <= m.cap(y)));
        }
        // 2. refinery capacity
        for (ri, r) in plan.refineries.iter().enumerate() {
            let e = sum((0..plan.mines.len()).filter_map(|mi| yv.x.get(&(mi, ri)).copied()));
            cons.push(constraint!(e <= r.cap(y)));
        }
        // 3. separation, per r, e, concentrate class a
        for (ri, r) in plan.refineries.iter().enumerate() {
            let refc = if plan.clean(&r.country) { REFINING } else { 0 };
            for (ei, (e, _)) in plan.elements.iter().enumerate() {
                for a in [0u8, MINING] {
                    let b = a | refc;
                    let out =
                        sum((0..plan.plants.len())
                            .filter_map(|pi| yv.o.get(&(ri, pi, ei, b)).copied()));
                    let mut inp = Expression::from(0.0);
                    for (mi, m) in plan.mines.iter().enumerate() {
                        let mclass = if plan.clean(&m.country) { MINING } else { 0 };
                        if mclass != a {
                            continue;
                        }
                        let g = *m.grade.get(e).unwrap_or(&0.0);
                        if let Some(v) = yv.x.get(&(mi, ri)) {
                            inp += (r.rec(e) * g) * *v;
                        }
                    }
                    cons.push(constraint!(out <= inp));
                }
            }
        }
        // 4. oxide use, per p, e, b
        for pi in 0..plan.plants.len() {
            for ei in 0..ne {
                for b in OX_CLASSES {
                    let used = sum(OX_CLASSES
                        .iter()
                        .filter(|&&d| d & b == d)
                        .map(|&d| yv.q[&(pi, ei, b, d)]));
                    let recv = sum((0..plan.refineries.len())
                        .filter_map(|ri| yv.o.get(&(ri, pi, ei, b)).copied()));
                    cons.push(constraint!(used <= recv));
                }
            }
        }
        // 5. recipe, per p, d, e with beta > 0
        for (pi, p) in plan.plants.iter().enumerate() {
            for d in OX_CLASSES {
                let made =
                    sum((0..plan.markets.len()).filter_map(|ki| yv.z.get(&(pi, ki, d)).copied()));
                for (ei, (e, _)) in plan.elements.iter().enumerate() {
                    let beta = *p.recipe.get(e).unwrap_or(&0.0);
                    if beta <= 0.0 {
                        continue;
                    }
                    let used = sum(OX_CLASSES
                        .iter()
                        .filter(|&&b| d & b == d)
                        .map(|&b| yv.q[&(pi, ei, b, d)]));
                    cons.push(constraint!(used >= beta * made.clone()));
                }
            }
        }
        // 6. plant capacity
        for (pi, p) in plan.plants.iter().enumerate() {
            let e = sum(yv.z.iter().filter(|(k, _)| k.0 == pi).map(|(_, v)| *v));
            cons.push(constraint!(e <= p.cap(y)));
        }
        // 7. demand
        for (ki, k) in plan.markets.iter().enumerate() {
            let mut e = sum(yv.z.iter().filter(|(key, _)| key.1 == ki).map(|(_, v)| *v));
            if let Some(u) = yv.u.get(&ki) {
                e += *u;
            }
            cons.push(constraint!(e == k.demand.at(y)));
        }
        // 8. share rules
        for rule in &plan.rules {
            if !in_range(&rule.years, y) {
                continue;
            }
            let in_rule = |ki: usize| match &rule.markets {
                None => true,
                Some(ms) => ms.iter().any(|m| *m == plan.markets[ki].id),
            };
            let mut clean = Expression::from(0.0);
            let mut all = Expression::from(0.0);
            for (&(pi, ki, d), &v) in &yv.z {
                if !in_rule(ki) {
                    continue;
                }
                all += v;
                let class = if plan.clean(&plan.plants[pi].country) {
                    d | MAGNET
                } else {
                    d
                };
                if rule.stages & class == rule.stages {
                    clean += v;
                }
            }
            let mut ms = rule.min_share.at(y);
            if let Some((id, by, delta)) = &plan.share_bump {
                if *id == rule.id && *by == y {
                    ms += delta;
                }
            }
            share_rows.push((rule.id.clone(), y, cons.len(), all.clone()));
            cons.push(constraint!(clean >= ms * all));
        }
        years.push(yv);
    }
    Lp {
        vars,
        cons,
        share_rows,
        prod,
        trans,
        tariffs,
        unmet,
        years,
    }
}

fn status_of(e: &ResolutionError) -> Status {
    match e {
        ResolutionError::Infeasible => Status::Infeasible,
        ResolutionError::Unbounded => Status::Unbounded,
        other => panic!("solver error: {other:?}"),
    }
}

fn empty_result(status: Status) -> RefResult {
    RefResult {
        status,
        objective: f64::NAN,
        shadow: BTreeMap::new(),
        unmet: BTreeMap::new(),
        cost: BTreeMap::new(),
    }
}

fn solve_min_cost(plan: &Plan) -> RefResult {
    let lp = build(plan);
    let objective = lp.prod.clone() + lp.trans.clone() + lp.tariffs.clone() + lp.unmet.clone();
    let mut model = lp.vars.minimise(objective.clone()).using(highs);
    model.set_verbose(false);
    let mut refs = vec![];
    for c in lp.cons {
        refs.push(model.add_constraint(c));
    }
    let mut sol = match model.solve() {
        Ok(s) => s,
        Err(e) => return empty_result(status_of(&e)),
    };
    let mut cost = BTreeMap::new();
    cost.insert("production".to_string(), sol.eval(&lp.prod));
    cost.insert("transport".to_string(), sol.eval(&lp.trans));
    cost.insert("tariffs".to_string(), sol.eval(&lp.tariffs));
    cost.insert("unmet".to_string(), sol.eval(&lp.unmet));
    cost.insert("reserves".to_string(), 0.0);
    let total = sol.eval(&objective);
    cost.insert("total".to_string(), total);
    let mut unmet = BTreeMap::new();
    for yv in &lp.years {
        for (ki, k) in plan.markets.iter().enumerate() {
            let t = yv.u.get(&ki).map(|v| sol.value(*v)).unwrap_or(0.0);
            unmet.insert((k.id.clone(), yv.y), t);
        }
    }
    let delivered: Vec<f64> = lp.share_rows.iter().map(|r| sol.eval(&r.3)).collect();
    let duals = sol.compute_dual();
    let mut shadow = BTreeMap::new();
    for (i, (rule, y, ci, _)) in lp.share_rows.iter().enumerate() {
        let pi = duals.dual(refs[*ci].clone());
        shadow.insert((rule.clone(), *y), pi.abs() * delivered[i] / 100.0);
    }
    RefResult {
        status: Status::Optimal,
        objective: total,
        shadow,
        unmet,
        cost,
    }
}

/// max-resilience (FORMULATION.md): returns λ* as the objective.
fn solve_max_resilience(plan: &Plan) -> RefResult {
    let base = solve_min_cost(plan);
    if base.status != Status::Optimal {
        return base;
    }
    let cstar = base.objective;
    // step 5: maximise lambda, then at lambda >= lambda* - 1e-7 minimise cost
    let lambda_star = match resilience_lp(plan, cstar, None) {
        Ok((l, _, _)) => l,
        Err(st) => return empty_result(st),
    };
    let (total, reserves) = match resilience_lp(plan, cstar, Some(lambda_star - 1e-7)) {
        Ok((_, t, r)) => (t, r),
        Err(st) => return empty_result(st),
    };
    let mut cost = BTreeMap::new();
    cost.insert("total".to_string(), total);
    cost.insert("reserves".to_string(), reserves);
    cost.insert("min_cost".to_string(), cstar);
    RefResult {
        status: Status::Optimal,
        objective: lambda_star,
        shadow: BTreeMap::new(),
        unmet: BTreeMap::new(),
        cost,
    }
}

/// The max-resilience LP. With `lambda_min = None` it maximises lambda; with
/// `Some(l)` it holds lambda >= l and minimises the plan's cost. Returns
/// (lambda, cost including reserves, reserves).
fn resilience_lp(
    plan: &Plan,
    cstar: f64,
    lambda_min: Option<f64>,
) -> Result<(f64, f64, f64), Status> {
    let mut lp = build(plan);
    let lambda = lp.vars.add(variable());
    let mut reserves = Expression::from(0.0);
    let mut cons = std::mem::take(&mut lp.cons);
    let ne = plan.elements.len();
    for yv in &lp.years {
        let y = yv.y;
        let w = plan.weight(y);
        // base throughputs
        let mine_tp: Vec<Expression> = (0..plan.mines.len())
            .map(|mi| sum((0..plan.refineries.len()).filter_map(|ri| yv.x.get(&(mi, ri)).copied())))
            .collect();
        let ref_tp: Vec<Expression> = (0..plan.refineries.len())
            .map(|ri| sum((0..plan.mines.len()).filter_map(|mi| yv.x.get(&(mi, ri)).copied())))
            .collect();
        let plant_tp: Vec<Expression> = (0..plan.plants.len())
            .map(|pi| sum(yv.z.iter().filter(|(k, _)| k.0 == pi).map(|(_, v)| *v)))
            .collect();
        let mut avail = |f: &Fac, tp: &Expression, cons: &mut Vec<Constraint>| -> Expression {
            let v = lp.vars.add(variable().min(0.0));
            reserves += (w * plan.reserve_cost * f.cost.at(y)) * v;
            cons.push(constraint!(tp.clone() + v <= f.cap(y)));
            tp.clone() + v
        };
        let mine_av: Vec<Expression> = plan
            .mines
            .iter()
            .zip(&mine_tp)
            .map(|(f, t)| avail(f, t, &mut cons))
            .collect();
        let ref_av: Vec<Expression> = plan
            .refineries
            .iter()
            .zip(&ref_tp)
            .map(|(f, t)| avail(f, t, &mut cons))
            .collect();
        let plant_av: Vec<Expression> = plan
            .plants
            .iter()
            .zip(&plant_tp)
            .map(|(f, t)| avail(f, t, &mut cons))
            .collect();
        for d in &plan.disruptions {
            if !in_range(&d.years, y) {
                continue;
            }
            let stopped = |a: &str, b: &str| a != b && d.exports_from.iter().any(|c| c == a);
            let factor = |f: &Fac| {
                if d.countries.contains(&f.country) || d.facilities.contains(&f.id) {
                    d.factor
                } else {
                    1.0
                }
            };
            let mut xs = HashMap::new();
            for (mi, m) in plan.mines.iter().enumerate() {
                for (ri, r) in plan.refineries.iter().enumerate() {
                    if plan.embargoed("concentrate", None, &m.country, &r.country, y)
                        || stopped(&m.country, &r.country)
                    {
                        continue;
                    }
                    xs.insert((mi, ri), lp.vars.add(variable().min(0.0)));
                }
            }
            let mut os = HashMap::new();
            for (ri, r) in plan.refineries.iter().enumerate() {
                for (pi, p) in plan.plants.iter().enumerate() {
                    for (ei, (e, _)) in plan.elements.iter().enumerate() {
                        if plan.embargoed("oxide", Some(e), &r.country, &p.country, y)
                            || stopped(&r.country, &p.country)
                        {
                            continue;
                        }
                        os.insert((ri, pi, ei), lp.vars.add(variable().min(0.0)));
                    }
                }
            }
            let mut zs = HashMap::new();
            for (pi, p) in plan.plants.iter().enumerate() {
                for (ki, k) in plan.markets.iter().enumerate() {
                    if plan.embargoed("magnet", None, &p.country, &k.country, y)
                        || stopped(&p.country, &k.country)
                    {
                        continue;
                    }
                    zs.insert((pi, ki), lp.vars.add(variable().min(0.0)));
                }
            }
            // 3 summed over classes
            for (ri, r) in plan.refineries.iter().enumerate() {
                for (ei, (e, _)) in plan.elements.iter().enumerate() {
                    let out =
                        sum((0..plan.plants.len()).filter_map(|pi| os.get(&(ri, pi, ei)).copied()));
                    let mut inp = Expression::from(0.0);
                    for (mi, m) in plan.mines.iter().enumerate() {
                        if let Some(v) = xs.get(&(mi, ri)) {
                            inp += (r.rec(e) * m.grade.get(e).copied().unwrap_or(0.0)) * *v;
                        }
                    }
                    cons.push(constraint!(out <= inp));
                }
            }
            // 5 without classes
            for (pi, p) in plan.plants.iter().enumerate() {
                let made = sum((0..plan.markets.len()).filter_map(|ki| zs.get(&(pi, ki)).copied()));
                for ei in 0..ne {
                    let beta = p.recipe.get(&plan.elements[ei].0).copied().unwrap_or(0.0);
                    if beta <= 0.0 {
                        continue;
                    }
                    let got =
                        sum((0..plan.refineries.len())
                            .filter_map(|ri| os.get(&(ri, pi, ei)).copied()));
                    cons.push(constraint!(got >= beta * made.clone()));
                }
            }
            for (mi, m) in plan.mines.iter().enumerate() {
                let tp =
                    sum((0..plan.refineries.len()).filter_map(|ri| xs.get(&(mi, ri)).copied()));
                cons.push(constraint!(tp <= factor(m) * mine_av[mi].clone()));
            }
            for (ri, r) in plan.refineries.iter().enumerate() {
                let tp = sum((0..plan.mines.len()).filter_map(|mi| xs.get(&(mi, ri)).copied()));
                cons.push(constraint!(tp <= factor(r) * ref_av[ri].clone()));
            }
            for (pi, p) in plan.plants.iter().enumerate() {
                let tp = sum((0..plan.markets.len()).filter_map(|ki| zs.get(&(pi, ki)).copied()));
                cons.push(constraint!(tp <= factor(p) * plant_av[pi].clone()));
            }
            for (ki, k) in plan.markets.iter().enumerate() {
                let dem = k.demand.at(y);
                if dem <= 0.0 {
                    continue;
                }
                let del = sum((0..plan.plants.len()).filter_map(|pi| zs.get(&(pi, ki)).copied()));
                cons.push(constraint!(del.clone() <= dem));
                cons.push(constraint!(del >= dem * lambda));
            }
        }
    }
    let total = lp.prod.clone()
        + lp.trans.clone()
        + lp.tariffs.clone()
        + lp.unmet.clone()
        + reserves.clone();
    let limit = (1.0 + plan.budget) * cstar * (1.0 + 1e-9) + 1e-9;
    cons.push(constraint!(total.clone() <= limit));
    let mut model = match lambda_min {
        None => lp.vars.maximise(lambda).using(highs),
        Some(l) => {
            cons.push(constraint!(lambda >= l));
            lp.vars.minimise(total.clone()).using(highs)
        }
    };
    model.set_verbose(false);
    for c in cons {
        model.add_constraint(c);
    }
    match model.solve() {
        Ok(sol) => Ok((sol.value(lambda), sol.eval(&total), sol.eval(&reserves))),
        Err(e) => Err(status_of(&e)),
    }
}

fn solve_reference(plan: &Plan) -> RefResult {
    if plan.max_resilience {
        solve_max_resilience(plan)
    } else {
        solve_min_cost(plan)
    }
}

fn solve_reference_text(text: &str, scenario: Option<&str>) -> RefResult {
    let doc: Value = toml::from_str(text).expect("plan parses as TOML");
    let doc = match scenario {
        Some(s) => apply_scenario(&doc, s),
        None => doc,
    };
    solve_reference(&Plan::from_value(&doc))
}

// ---------------------------------------------------------------------------
// The reeplan binary
// ---------------------------------------------------------------------------

fn reeplan_bin() -> &'static str {
    env!("CARGO_BIN_EXE_reeplan")
}

struct BinResult {
    code: i32,
    json: serde_json::Value,
}

fn run_reeplan(path: &Path, extra: &[&str]) -> BinResult {
    let out = Command::new(reeplan_bin())
        .arg("solve")
        .arg(path)
        .args(["--format", "json"])
        .args(extra)
        .output()
        .expect("run reeplan");
    let code = out.status.code().unwrap_or(-1);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "reeplan {} gave no JSON ({e}); exit {code}\nstdout: {stdout}\nstderr: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    BinResult { code, json }
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1.0)
}

// ---------------------------------------------------------------------------
// Independent checks of the solution reeplan reports
// ---------------------------------------------------------------------------

/// Re-derives, from reeplan's reported (class-summed) flows alone, that the
/// plan is feasible (capacities, separation yields, recipes, demand balance,
/// embargoes) and that it costs what reeplan says, part by part.
fn check_reported_solution(plan: &Plan, json: &serde_json::Value) -> Vec<String> {
    let mut errs = vec![];
    let fac = |id: &str| -> Option<(&'static str, usize)> {
        if let Some(i) = plan.mines.iter().position(|f| f.id == id) {
            return Some(("mine", i));
        }
        if let Some(i) = plan.refineries.iter().position(|f| f.id == id) {
            return Some(("refinery", i));
        }
        if let Some(i) = plan.plants.iter().position(|f| f.id == id) {
            return Some(("plant", i));
        }
        if let Some(i) = plan.markets.iter().position(|f| f.id == id) {
            return Some(("market", i));
        }
        None
    };
    let ne = plan.elements.len();
    let (mut prod, mut trans, mut tar, mut unmet_cost) = (0.0, 0.0, 0.0, 0.0);
    let tol = |x: f64| 1e-5 * x.abs().max(1.0) + 1e-4;
    let rows = |key: &str| -> Vec<serde_json::Value> {
        json["flows"][key].as_array().cloned().unwrap_or_default()
    };
    for y in plan.years() {
        let w = plan.weight(y);
        let mut x = vec![vec![0.0; plan.refineries.len()]; plan.mines.len()];
        let mut o = vec![vec![vec![0.0; ne]; plan.plants.len()]; plan.refineries.len()];
        let mut z = vec![vec![0.0; plan.markets.len()]; plan.plants.len()];
        for f in rows("concentrate")
            .iter()
            .filter(|f| f["year"].as_i64() == Some(y))
        {
            let t = f["tonnes"].as_f64().unwrap();
            match (
                fac(f["from"].as_str().unwrap()),
                fac(f["to"].as_str().unwrap()),
            ) {
                (Some(("mine", m)), Some(("refinery", r))) => x[m][r] += t,
                _ => errs.push(format!("bad concentrate flow {f}")),
            }
        }
        for f in rows("oxide")
            .iter()
            .filter(|f| f["year"].as_i64() == Some(y))
        {
            let t = f["tonnes"].as_f64().unwrap();
            let e = plan
                .elements
                .iter()
                .position(|e| Some(e.0.as_str()) == f["element"].as_str());
            match (
                fac(f["from"].as_str().unwrap()),
                fac(f["to"].as_str().unwrap()),
                e,
            ) {
                (Some(("refinery", r)), Some(("plant", p)), Some(e)) => o[r][p][e] += t,
                _ => errs.push(format!("bad oxide flow {f}")),
            }
        }
        for f in rows("magnet")
            .iter()
            .filter(|f| f["year"].as_i64() == Some(y))
        {
            let t = f["tonnes"].as_f64().unwrap();
            match (
                fac(f["from"].as_str().unwrap()),
                fac(f["to"].as_str().unwrap()),
            ) {
                (Some(("plant", p)), Some(("market", k))) => z[p][k] += t,
                _ => errs.push(format!("bad magnet flow {f}")),
            }
        }
        let mut u = vec![0.0; plan.markets.len()];
        for f in json["unmet"].as_array().cloned().unwrap_or_default() {
            if f["year"].as_i64() == Some(y) {
                match fac(f["market"].as_str().unwrap()) {
                    Some(("market", k)) => u[k] += f["tonnes"].as_f64().unwrap(),
                    _ => errs.push(format!("bad unmet row {f}")),
                }
            }
        }
        for (mi, m) in plan.mines.iter().enumerate() {
            let tp: f64 = x[mi].iter().sum();
            if tp > m.cap(y) + tol(m.cap(y)) {
                errs.push(format!(
                    "{y}: mine {} ships {tp} > capacity {}",
                    m.id,
                    m.cap(y)
                ));
            }
            for (ri, r) in plan.refineries.iter().enumerate() {
                let t = x[mi][ri];
                if t > 1e-6 && plan.embargoed("concentrate", None, &m.country, &r.country, y) {
                    errs.push(format!(
                        "{y}: embargoed concentrate {} -> {} ({t} t)",
                        m.id, r.id
                    ));
                }
                prod += w * t * (m.cost.at(y) + r.cost.at(y));
                trans += w * t * plan.transport("concentrate", &m.country, &r.country);
                tar += w * t * plan.tariff("concentrate", None, &m.country, &r.country, y);
            }
        }
        for (ri, r) in plan.refineries.iter().enumerate() {
            let tp: f64 = (0..plan.mines.len()).map(|mi| x[mi][ri]).sum();
            if tp > r.cap(y) + tol(r.cap(y)) {
                errs.push(format!(
                    "{y}: refinery {} takes {tp} > capacity {}",
                    r.id,
                    r.cap(y)
                ));
            }
            for (ei, (e, _)) in plan.elements.iter().enumerate() {
                let made: f64 = plan
                    .mines
                    .iter()
                    .enumerate()
                    .map(|(mi, m)| r.rec(e) * m.grade.get(e).copied().unwrap_or(0.0) * x[mi][ri])
                    .sum();
                let shipped: f64 = (0..plan.plants.len()).map(|pi| o[ri][pi][ei]).sum();
                if shipped > made + tol(made) {
                    errs.push(format!(
                        "{y}: refinery {} ships {shipped} t {e} > separated {made}",
                        r.id
                    ));
                }
                for (pi, p) in plan.plants.iter().enumerate() {
                    let t = o[ri][pi][ei];
                    if t > 1e-6 && plan.embargoed("oxide", Some(e), &r.country, &p.country, y) {
                        errs.push(format!(
                            "{y}: embargoed oxide {e} {} -> {} ({t} t)",
                            r.id, p.id
                        ));
                    }
                    trans += w * t * plan.transport("oxide", &r.country, &p.country);
                    tar += w * t * plan.tariff("oxide", Some(e), &r.country, &p.country, y);
                }
            }
        }
        for (pi, p) in plan.plants.iter().enumerate() {
            let made: f64 = z[pi].iter().sum();
            if made > p.cap(y) + tol(p.cap(y)) {
                errs.push(format!(
                    "{y}: plant {} makes {made} > capacity {}",
                    p.id,
                    p.cap(y)
                ));
            }
            for (ei, (e, _)) in plan.elements.iter().enumerate() {
                let beta = p.recipe.get(e).copied().unwrap_or(0.0);
                let got: f64 = (0..plan.refineries.len()).map(|ri| o[ri][pi][ei]).sum();
                if got < beta * made - tol(beta * made) {
                    errs.push(format!(
                        "{y}: plant {} gets {got} t {e} < recipe needs {}",
                        p.id,
                        beta * made
                    ));
                }
            }
            for (ki, k) in plan.markets.iter().enumerate() {
                let t = z[pi][ki];
                if t > 1e-6 && plan.embargoed("magnet", None, &p.country, &k.country, y) {
                    errs.push(format!(
                        "{y}: embargoed magnets {} -> {} ({t} t)",
                        p.id, k.id
                    ));
                }
                prod += w * t * p.cost.at(y);
                trans += w * t * plan.transport("magnet", &p.country, &k.country);
                tar += w * t * plan.tariff("magnet", None, &p.country, &k.country, y);
            }
        }
        for (ki, k) in plan.markets.iter().enumerate() {
            let del: f64 = (0..plan.plants.len()).map(|pi| z[pi][ki]).sum();
            let d = k.demand.at(y);
            if (del + u[ki] - d).abs() > tol(d) {
                errs.push(format!(
                    "{y}: market {} gets {del} + unmet {} != demand {d}",
                    k.id, u[ki]
                ));
            }
            if u[ki] > 1e-6 && k.penalty.is_none() {
                errs.push(format!(
                    "{y}: market {} has unmet demand but no unmet_penalty",
                    k.id
                ));
            }
            unmet_cost += w * u[ki] * k.penalty.unwrap_or(0.0);
        }
    }
    let total = prod + trans + tar + unmet_cost;
    let reported = |k: &str| json["cost"][k].as_f64().unwrap_or(f64::NAN);
    let cost_tol = |v: f64| 1e-6 * v.abs().max(1.0) + 0.05;
    for (k, v) in [
        ("production", prod),
        ("transport", trans),
        ("tariffs", tar),
        ("unmet", unmet_cost),
    ] {
        if !((reported(k) - v).abs() <= cost_tol(v)) {
            errs.push(format!(
                "cost.{k} reported {} but its flows cost {v}",
                reported(k)
            ));
        }
    }
    if !plan.max_resilience {
        let ov = json["objective_value"].as_f64().unwrap_or(f64::NAN);
        if !((ov - total).abs() <= cost_tol(total)) {
            errs.push(format!(
                "objective_value {ov} but the reported flows cost {total}"
            ));
        }
    }
    // one shares row per rule and year of the horizon it covers
    let mut want = 0;
    for r in &plan.rules {
        for y in plan.years() {
            if !in_range(&r.years, y) {
                continue;
            }
            want += 1;
            let row = json["shares"].as_array().and_then(|a| {
                a.iter()
                    .find(|s| s["rule"].as_str() == Some(&r.id) && s["year"].as_i64() == Some(y))
            });
            match row {
                None => errs.push(format!("no shares row for rule {} in {y}", r.id)),
                Some(row) => {
                    let req = row["required"].as_f64().unwrap_or(f64::NAN);
                    if !close(req, r.min_share.at(y), 1e-9) {
                        errs.push(format!(
                            "rule {} {y}: required {req} != {}",
                            r.id,
                            r.min_share.at(y)
                        ));
                    }
                    if let Some(ach) = row["achieved"].as_f64() {
                        if ach < req - 1e-6 {
                            errs.push(format!(
                                "rule {} {y}: achieved {ach} < required {req}",
                                r.id
                            ));
                        }
                    }
                }
            }
        }
    }
    let got = json["shares"].as_array().map_or(0, |a| a.len());
    if got != want {
        errs.push(format!("{got} shares rows, expected {want}"));
    }
    errs
}

/// Where the optimum is differentiable in a rule's min_share (the left and
/// right finite differences of the reference optimum agree), reeplan's
/// shadow_price must equal that derivative (per percentage point).
fn check_shadow_prices(plan: &Plan, base: f64, json: &serde_json::Value) -> Vec<String> {
    let mut errs = vec![];
    let delta = 1e-4;
    for r in &plan.rules {
        for y in plan.years() {
            if !in_range(&r.years, y) {
                continue;
            }
            let ms = r.min_share.at(y);
            if ms - delta < 0.0 || ms + delta > 1.0 {
                continue;
            }
            let bumped = |d: f64| {
                let mut p = plan.clone();
                p.share_bump = Some((r.id.clone(), y, d));
                let res = solve_min_cost(&p);
                (res.status == Status::Optimal).then_some(res.objective)
            };
            let (Some(up), Some(down)) = (bumped(delta), bumped(-delta)) else {
                continue;
            };
            let right = (up - base) / delta / 100.0;
            let left = (base - down) / delta / 100.0;
            let scale = right.abs().max(left.abs()).max(1.0);
            if (right - left).abs() > 1e-3 * scale {
                continue; // a kink: the shadow price is not unique here
            }
            let row = json["shares"].as_array().and_then(|a| {
                a.iter()
                    .find(|s| s["rule"].as_str() == Some(&r.id) && s["year"].as_i64() == Some(y))
            });
            let got = row
                .and_then(|s| s["shadow_price"].as_f64())
                .unwrap_or(f64::NAN);
            let want = 0.5 * (right + left);
            if !((got - want).abs() <= 2e-3 * scale + 1e-6 * base.abs()) {
                errs.push(format!(
                    "rule {} {y}: shadow_price {got}, optimum moves {want} per pp",
                    r.id
                ));
            }
        }
    }
    errs
}

// ---------------------------------------------------------------------------
// Hand-computed plans
// ---------------------------------------------------------------------------

#[derive(Default, Debug)]
struct Expected {
    objective: Option<f64>,
    infeasible: bool,
    shadow: Vec<(String, i64, f64)>,
    unmet: Vec<(String, i64, f64)>,
    cost: Vec<(String, f64)>,
    scenarios: Vec<(String, f64)>,
}

fn parse_expected(text: &str) -> Expected {
    let mut ex = Expected::default();
    for line in text.lines() {
        let Some(rest) = line.trim().strip_prefix("# EXPECTED ") else {
            continue;
        };
        let (lhs, rhs) = rest.split_once('=').expect("EXPECTED line has =");
        let lhs: Vec<&str> = lhs.split_whitespace().collect();
        let rhs = rhs.split_whitespace().next().unwrap_or("");
        let val = || rhs.replace(['_', ','], "").parse::<f64>().expect("number");
        match lhs.as_slice() {
            ["objective_value"] => ex.objective = Some(val()),
            ["status"] => ex.infeasible = rhs == "infeasible",
            ["shadow_price", rule, year] => {
                ex.shadow
                    .push((rule.to_string(), year.parse().unwrap(), val()))
            }
            ["unmet", market, year] => {
                ex.unmet
                    .push((market.to_string(), year.parse().unwrap(), val()))
            }
            ["scenario", name, "objective_value"] => ex.scenarios.push((name.to_string(), val())),
            [part] if part.starts_with("cost.") => ex.cost.push((part[5..].to_string(), val())),
            other => panic!("unknown EXPECTED line {other:?}"),
        }
    }
    ex
}

fn plans_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("plans")
}

fn plan_files() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(plans_dir())
        .expect("tests/plans")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    v.sort();
    assert!(
        v.len() >= 20,
        "expected the hand-computed plans in tests/plans"
    );
    v
}

/// Checks the reference LP against every hand-computed `# EXPECTED` line.
#[test]
fn reference_lp_matches_hand_computed_plans() {
    let mut failures = vec![];
    for path in plan_files() {
        let text = std::fs::read_to_string(&path).unwrap();
        let ex = parse_expected(&text);
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let r = solve_reference_text(&text, None);
        if ex.infeasible {
            if r.status != Status::Infeasible {
                failures.push(format!(
                    "{name}: expected infeasible, reference gave {:?}",
                    r.status
                ));
            }
        } else if r.status != Status::Optimal {
            failures.push(format!("{name}: reference status {:?}", r.status));
            continue;
        }
        if let Some(v) = ex.objective {
            if !close(r.objective, v, 1e-6) {
                failures.push(format!(
                    "{name}: reference objective {} != expected {v}",
                    r.objective
                ));
            }
        }
        for (rule, y, v) in &ex.shadow {
            let got = r
                .shadow
                .get(&(rule.clone(), *y))
                .copied()
                .unwrap_or(f64::NAN);
            if !close(got, *v, 1e-6) {
                failures.push(format!(
                    "{name}: reference shadow {rule} {y} = {got} != {v}"
                ));
            }
        }
        for (m, y, v) in &ex.unmet {
            let got = r.unmet.get(&(m.clone(), *y)).copied().unwrap_or(f64::NAN);
            if !close(got, *v, 1e-6) {
                failures.push(format!("{name}: reference unmet {m} {y} = {got} != {v}"));
            }
        }
        for (part, v) in &ex.cost {
            let got = r.cost.get(part).copied().unwrap_or(f64::NAN);
            if !close(got, *v, 1e-6) {
                failures.push(format!("{name}: reference cost.{part} = {got} != {v}"));
            }
        }
        for (s, v) in &ex.scenarios {
            let rs = solve_reference_text(&text, Some(s));
            if !close(rs.objective, *v, 1e-6) {
                failures.push(format!(
                    "{name}: reference scenario {s} = {} != {v}",
                    rs.objective
                ));
            }
        }
        eprintln!("reference {name}: {:?} {}", r.status, r.objective);
    }
    assert!(
        failures.is_empty(),
        "reference LP disagrees with hand values:\n{}",
        failures.join("\n")
    );
}

/// Checks the reeplan binary against every hand-computed `# EXPECTED` line.
#[test]
fn reeplan_matches_hand_computed_plans() {
    let mut failures = vec![];
    for path in plan_files() {
        let text = std::fs::read_to_string(&path).unwrap();
        let ex = parse_expected(&text);
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let b = run_reeplan(&path, &[]);
        let status = b.json["status"].as_str().unwrap_or("?").to_string();
        if ex.infeasible {
            if status != "infeasible" || b.code != 3 {
                failures.push(format!(
                    "{name}: expected infeasible/exit 3, reeplan gave {status}/exit {}",
                    b.code
                ));
            }
            continue;
        }
        if status != "optimal" || b.code != 0 {
            failures.push(format!("{name}: reeplan status {status} exit {}", b.code));
            continue;
        }
        let got = b.json["objective_value"].as_f64().unwrap_or(f64::NAN);
        if let Some(v) = ex.objective {
            if !close(got, v, 1e-6) {
                failures.push(format!(
                    "{name}: reeplan objective_value {got} != expected {v}"
                ));
            }
        }
        for (rule, y, v) in &ex.shadow {
            let row = b.json["shares"].as_array().and_then(|a| {
                a.iter()
                    .find(|s| s["rule"].as_str() == Some(rule) && s["year"].as_i64() == Some(*y))
            });
            let got = row
                .and_then(|s| s["shadow_price"].as_f64())
                .unwrap_or(f64::NAN);
            if !close(got, *v, 1e-6) {
                failures.push(format!(
                    "{name}: reeplan shadow_price {rule} {y} = {got} != {v}"
                ));
            }
        }
        for (m, y, v) in &ex.unmet {
            let got: f64 = b.json["unmet"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter(|s| {
                            s["market"].as_str() == Some(m) && s["year"].as_i64() == Some(*y)
                        })
                        .map(|s| s["tonnes"].as_f64().unwrap())
                        .sum()
                })
                .unwrap_or(0.0);
            if !close(got, *v, 1e-6) {
                failures.push(format!("{name}: reeplan unmet {m} {y} = {got} != {v}"));
            }
        }
        for (part, v) in &ex.cost {
            let got = b.json["cost"][part.as_str()].as_f64().unwrap_or(f64::NAN);
            if !close(got, *v, 1e-6) {
                failures.push(format!("{name}: reeplan cost.{part} = {got} != {v}"));
            }
        }
        for (s, v) in &ex.scenarios {
            let bs = run_reeplan(&path, &["--scenario", s]);
            let got = bs.json["objective_value"].as_f64().unwrap_or(f64::NAN);
            if !close(got, *v, 1e-6) {
                failures.push(format!(
                    "{name}: reeplan --scenario {s} objective_value {got} != {v}"
                ));
            }
        }
        let plan = Plan::from_value(&toml::from_str(&text).unwrap());
        for e in check_reported_solution(&plan, &b.json) {
            failures.push(format!("{name}: {e}"));
        }
        eprintln!("reeplan {name}: {status} {got}");
    }
    assert!(
        failures.is_empty(),
        "reeplan disagrees with hand values:\n{}",
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------
// Random plans
// ---------------------------------------------------------------------------

/// splitmix64: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
    /// an integer in [lo, hi]
    fn int(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

const COUNTRIES: [&str; 4] = ["CN", "AU", "US", "MY"];
const ELEMENTS: [&str; 3] = ["NdPr", "Dy", "Tb"];

/// A per-year value: a number, or sometimes a small year table.
fn rand_per_year(rng: &mut Rng, lo: i64, hi: i64, first: i64, last: i64) -> String {
    if last > first && rng.chance(0.25) {
        let a = rng.int(lo, hi);
        let b = rng.int(lo, hi);
        let y0 = rng.int(first - 1, last);
        let y1 = y0 + rng.int(1, 3);
        format!("{{ {y0} = {a}, {y1} = {b} }}")
    } else {
        rng.int(lo, hi).to_string()
    }
}

fn rand_country(rng: &mut Rng) -> &'static str {
    let country: &&str = rng.pick(&COUNTRIES);
    country
}

fn rand_years(rng: &mut Rng, first: i64, last: i64) -> String {
    let a = rng.int(first - 1, last);
    let b = rng.int(a, last + 1);
    format!("years = [{a}, {b}]\n")
}

/// A small random plan, mostly feasible (unmet penalties on most markets).
fn random_plan(seed: u64, resilience: bool) -> String {
    random_plan_sized(seed, resilience, false)
}

/// `big` plans have more facilities, markets, rules and years.
fn random_plan_sized(seed: u64, resilience: bool, big: bool) -> String {
    let mut rng = Rng(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ 0x5EED);
    let first = 2026;
    let last = first + rng.int(0, if big { 4 } else { 2 });
    let mut s = String::new();
    s += &format!("[plan]\nfirst_year = {first}\nlast_year = {last}\n");
    if resilience {
        s += "objective = \"max-resilience\"\n";
    }
    if rng.chance(0.3) {
        s += &format!("discount_rate = {}\n", rng.pick(&[0.05, 0.1, 0.25]));
    }
    match rng.below(8) {
        0 | 1 => s += "concern = [\"CN\", \"MY\"]\n",
        2 => s += "concern = [\"AU\"]\n",
        3 => s += "concern = []\n",
        _ => {}
    }
    let ne = rng.int(1, 3) as usize;
    let els = &ELEMENTS[..ne];
    for e in els {
        s += &format!("\n[elements.{e}]\nprice = {}\n", rng.int(1, 50) * 1000);
    }
    s += &format!(
        "\n[prices]\nconcentrate = {}\nmagnet = {}\n",
        rng.int(1, 20) * 100,
        rng.int(1, 20) * 1000
    );
    let facility_common = |rng: &mut Rng, s: &mut String, lo: i64, hi: i64| {
        *s += &format!("country = \"{}\"\n", rand_country(rng));
        *s += &format!("capacity = {}\n", rand_per_year(rng, lo, hi, first, last));
        *s += &format!("cost = {}\n", rand_per_year(rng, 0, 50, first, last));
        let mut online = first;
        if rng.chance(0.15) {
            online = rng.int(first - 1, last);
            *s += &format!("online = {online}\n");
        }
        if rng.chance(0.15) {
            *s += &format!(
                "ramp = [{}, {}]\n",
                rng.int(0, 10) as f64 / 10.0,
                rng.int(0, 10) as f64 / 10.0
            );
        }
        if rng.chance(0.1) {
            *s += &format!("closes = {}\n", rng.int(online + 1, last + 1));
        }
    };
    let nm = if big {
        rng.int(3, 7)
    } else {
        rng.int(if resilience { 2 } else { 1 }, 4)
    };
    for i in 0..nm {
        s += &format!("\n[[mine]]\nid = \"m{i}\"\n");
        facility_common(&mut rng, &mut s, 100, 1000);
        let mut g = vec![];
        let mut left = 100;
        for e in els {
            if rng.chance(0.8) && left >= 5 {
                let v = rng.int(5, left.min(45));
                left -= v;
                g.push(format!("{e} = {}", v as f64 / 100.0));
            }
        }
        s += &format!("grade = {{ {} }}\n", g.join(", "));
    }
    let nr = if big {
        rng.int(2, 5)
    } else {
        rng.int(if resilience { 2 } else { 1 }, 3)
    };
    for i in 0..nr {
        s += &format!("\n[[refinery]]\nid = \"r{i}\"\n");
        facility_common(&mut rng, &mut s, 50, 500);
        match rng.below(3) {
            0 => {}
            1 => s += &format!("recovery = {}\n", rng.int(5, 10) as f64 / 10.0),
            _ => {
                let e = rng.pick(els);
                s += &format!("recovery = {{ {e} = {} }}\n", rng.int(5, 10) as f64 / 10.0);
            }
        }
    }
    let np = if big {
        rng.int(2, 5)
    } else {
        rng.int(if resilience { 2 } else { 1 }, 3)
    };
    for i in 0..np {
        s += &format!("\n[[magnet_plant]]\nid = \"p{i}\"\n");
        facility_common(&mut rng, &mut s, 10, 150);
        let mut r = vec![];
        for (j, e) in els.iter().enumerate() {
            if j == 0 && rng.chance(0.9) {
                r.push(format!("{e} = {}", rng.int(1, 20) as f64 / 100.0));
            } else if j > 0 && rng.chance(0.6) {
                r.push(format!("{e} = {}", rng.int(1, 10) as f64 / 200.0));
            }
        }
        s += &format!("recipe = {{ {} }}\n", r.join(", "));
    }
    let nk = if big { rng.int(2, 4) } else { rng.int(1, 3) };
    let mut market_ids = vec![];
    for i in 0..nk {
        market_ids.push(format!("k{i}"));
        s += &format!(
            "\n[[market]]\nid = \"k{i}\"\ncountry = \"{}\"\n",
            rand_country(&mut rng)
        );
        let lo = if resilience { 1 } else { 0 };
        s += &format!(
            "demand = {}\n",
            rand_per_year(&mut rng, lo, 80, first, last)
        );
        if rng.chance(0.85) {
            s += &format!("unmet_penalty = {}\n", rng.int(5, 200) * 100);
        }
    }
    s += "\n[transport]\n";
    for kind in ["domestic", "cross_border"] {
        if rng.chance(0.7) {
            s += &format!(
                "{kind} = {{ concentrate = {}, oxide = {}, magnet = {} }}\n",
                rng.int(0, 20),
                rng.int(0, 40),
                rng.int(0, 60)
            );
        }
    }
    let mut lane_pairs = vec![];
    for _ in 0..rng.int(0, 2) {
        let a = rand_country(&mut rng);
        let b = rand_country(&mut rng);
        if lane_pairs.contains(&(a, b)) {
            continue;
        }
        lane_pairs.push((a, b));
        let prod = rng.pick(&["concentrate", "oxide", "magnet"]);
        s += &format!(
            "\n[[transport.lane]]\nfrom = \"{a}\"\nto = \"{b}\"\n{prod} = {}\n",
            rng.int(0, 100)
        );
    }
    for i in 0..rng.int(0, 3) {
        let prod = *rng.pick(&["concentrate", "oxide", "magnet"]);
        s += &format!("\n[[tariff]]\nid = \"t{i}\"\nproduct = \"{prod}\"\n");
        if prod == "oxide" && rng.chance(0.4) {
            s += &format!("element = \"{}\"\n", rng.pick(els));
        }
        let from = if rng.chance(0.3) {
            "*"
        } else {
            rand_country(&mut rng)
        };
        let to = if rng.chance(0.3) {
            "*"
        } else {
            rand_country(&mut rng)
        };
        s += &format!("from = \"{from}\"\nto = \"{to}\"\n");
        if rng.chance(0.5) {
            s += &format!("ad_valorem = {}\n", rng.int(1, 50) as f64 / 100.0);
        }
        if rng.chance(0.6) {
            s += &format!("per_tonne = {}\n", rng.int(1, 500));
        }
        if rng.chance(0.5) {
            s += &rand_years(&mut rng, first, last);
        }
    }
    for i in 0..rng.int(0, 2) {
        let prod = *rng.pick(&["concentrate", "oxide", "magnet", "*"]);
        s += &format!("\n[[embargo]]\nid = \"e{i}\"\nproduct = \"{prod}\"\n");
        if (prod == "oxide" || prod == "*") && rng.chance(0.3) {
            s += &format!("element = \"{}\"\n", rng.pick(els));
        }
        let from = if rng.chance(0.2) {
            "*"
        } else {
            rand_country(&mut rng)
        };
        let to = if rng.chance(0.3) {
            "*"
        } else {
            rand_country(&mut rng)
        };
        s += &format!("from = \"{from}\"\nto = \"{to}\"\n");
        if rng.chance(0.3) {
            s += &rand_years(&mut rng, first, last);
        }
    }
    for i in 0..rng.int(if big { 1 } else { 0 }, if big { 4 } else { 3 }) {
        s += &format!("\n[[share_rule]]\nid = \"s{i}\"\n");
        if rng.chance(0.3) {
            let k = rng.pick(&market_ids).clone();
            s += &format!("markets = [\"{k}\"]\n");
        } else if market_ids.len() >= 2 && rng.chance(0.2) {
            s += &format!("markets = [\"{}\", \"{}\"]\n", market_ids[0], market_ids[1]);
        }
        if rng.chance(0.6) {
            let all = ["mining", "refining", "magnet"];
            let mut st: Vec<String> = all
                .iter()
                .filter(|_| rng.chance(0.5))
                .map(|x| format!("\"{x}\""))
                .collect();
            if st.is_empty() {
                st.push(format!("\"{}\"", rng.pick(&all)));
            }
            s += &format!("stages = [{}]\n", st.join(", "));
        }
        if last > first && rng.chance(0.3) {
            s += &format!(
                "min_share = {{ {first} = {}, {last} = {} }}\n",
                rng.int(0, 10) as f64 / 10.0,
                rng.int(0, 10) as f64 / 10.0
            );
        } else {
            s += &format!("min_share = {}\n", rng.int(1, 8) as f64 / 10.0);
        }
        if rng.chance(0.3) {
            s += &rand_years(&mut rng, first, last);
        }
    }
    if resilience {
        s += &format!(
            "\n[resilience]\nbudget = {}\nreserve_cost = {}\n",
            rng.pick(&[0.0, 0.05, 0.2, 1.0]),
            rng.pick(&[0.0, 0.5, 2.0])
        );
        for i in 0..rng.int(1, 3) {
            s += &format!("\n[[disruption]]\nid = \"d{i}\"\n");
            match rng.below(3) {
                0 => s += &format!("exports_from = [\"{}\"]\n", rand_country(&mut rng)),
                1 => s += &format!("countries = [\"{}\"]\n", rand_country(&mut rng)),
                _ => s += &format!("facilities = [\"{}\"]\n", rng.pick(&["m0", "r0", "p0"])),
            }
            if rng.chance(0.5) {
                s += &format!("capacity_factor = {}\n", rng.int(0, 9) as f64 / 10.0);
            }
            if rng.chance(0.3) {
                s += &format!("years = [{first}, {}]\n", rng.int(first, last + 1));
            }
        }
    }
    if !resilience && rng.chance(0.4) {
        s += "\n[scenario.alt]\ndescription = \"random variant\"\n";
        let removed = nm > 1 && rng.chance(0.3);
        if removed {
            s += "remove = [\"m0\"]\n";
        }
        if rng.chance(0.4) {
            s += "\n[scenario.alt.plan]\ndiscount_rate = 0.1\n";
        }
        if rng.chance(0.4) {
            s += &format!(
                "\n[scenario.alt.transport]\ncross_border = {{ oxide = {} }}\n",
                rng.int(0, 50)
            );
        }
        if rng.chance(0.5) {
            let mi = if removed { 1 } else { 0 };
            s += &format!(
                "\n[[scenario.alt.mine]]\nid = \"m{mi}\"\ncost = {}\n",
                rng.int(0, 80)
            );
        }
        if rng.chance(0.5) {
            s += "\n[[scenario.alt.embargo]]\nid = \"e_alt\"\nproduct = \"magnet\"\nfrom = \"CN\"\nto = \"*\"\n";
        }
    }
    s
}

const RANDOM_PLANS: u64 = 100;
const RANDOM_BIG_PLANS: u64 = 20;

/// The reference LP solves every random plan (no solver errors), and a good
/// share of them are feasible and non-trivial.
#[test]
fn reference_lp_solves_random_plans() {
    let mut optimal = 0;
    let mut with_binding_rule = 0;
    for seed in 0..RANDOM_PLANS + RANDOM_BIG_PLANS {
        let text = random_plan_sized(seed, false, seed >= RANDOM_PLANS);
        let r = solve_reference_text(&text, None);
        if r.status == Status::Optimal {
            optimal += 1;
            let binding = r.shadow.values().filter(|v| **v > 1e-9).count();
            let unmet: f64 = r.unmet.values().sum();
            if binding > 0 {
                with_binding_rule += 1;
            }
            eprintln!(
                "seed {seed}: optimum {:.4}, binding share rows {binding}, unmet {unmet:.3}",
                r.objective
            );
        } else {
            eprintln!("seed {seed}: {:?}", r.status);
        }
    }
    assert!(
        with_binding_rule >= 5,
        "only {with_binding_rule} random plans have a binding share rule"
    );
    let n = RANDOM_PLANS + RANDOM_BIG_PLANS;
    assert!(
        optimal >= n * 2 / 3,
        "only {optimal} of {n} random plans are feasible"
    );
}

/// reeplan and the reference LP agree on status and optimum for random plans.
#[test]
fn reeplan_matches_reference_on_random_plans() {
    let dir = tempfile::tempdir().unwrap();
    let mut failures = vec![];
    let mut checked_shadows = 0;
    let mut scenarios = 0;
    for seed in 0..RANDOM_PLANS + RANDOM_BIG_PLANS {
        // the last RANDOM_BIG_PLANS seeds make bigger plans
        let text = random_plan_sized(seed, false, seed >= RANDOM_PLANS);
        let path = dir.path().join(format!("random_{seed}.toml"));
        std::fs::write(&path, &text).unwrap();
        let r = solve_reference_text(&text, None);
        let b = run_reeplan(&path, &[]);
        let status = b.json["status"].as_str().unwrap_or("?").to_string();
        let ref_status = match r.status {
            Status::Optimal => "optimal",
            Status::Infeasible => "infeasible",
            Status::Unbounded => "unbounded",
        };
        if status != ref_status {
            failures.push(format!(
                "seed {seed}: reeplan status {status}, reference {ref_status}\n{text}"
            ));
            continue;
        }
        let want_code = if r.status == Status::Infeasible { 3 } else { 0 };
        if r.status != Status::Unbounded && b.code != want_code {
            failures.push(format!("seed {seed}: reeplan exit {} for {status}", b.code));
        }
        if r.status == Status::Optimal {
            let got = b.json["objective_value"].as_f64().unwrap_or(f64::NAN);
            if !close(got, r.objective, 1e-6) {
                failures.push(format!(
                    "seed {seed}: reeplan {got} != reference {}\n{text}",
                    r.objective
                ));
                continue;
            }
            let total = b.json["cost"]["total"].as_f64().unwrap_or(f64::NAN);
            let parts: f64 = ["production", "transport", "tariffs", "unmet", "reserves"]
                .iter()
                .map(|p| b.json["cost"][*p].as_f64().unwrap_or(f64::NAN))
                .sum();
            if !close(total, r.objective, 1e-6) || !close(parts, total, 1e-6) {
                failures.push(format!(
                    "seed {seed}: cost.total {total}, parts sum {parts}, reference {}",
                    r.objective
                ));
            }
            let plan = Plan::from_value(&toml::from_str(&text).unwrap());
            let mut errs = check_reported_solution(&plan, &b.json);
            errs.extend(check_shadow_prices(&plan, r.objective, &b.json));
            checked_shadows += plan.rules.len();
            if !errs.is_empty() {
                failures.push(format!("seed {seed}:\n  {}\n{text}", errs.join("\n  ")));
            }
        }
        if text.contains("[scenario.alt]") {
            scenarios += 1;
            let rs = solve_reference_text(&text, Some("alt"));
            let bs = run_reeplan(&path, &["--scenario", "alt"]);
            let st = bs.json["status"].as_str().unwrap_or("?").to_string();
            let want = match rs.status {
                Status::Optimal => "optimal",
                Status::Infeasible => "infeasible",
                Status::Unbounded => "unbounded",
            };
            let got = bs.json["objective_value"].as_f64().unwrap_or(f64::NAN);
            if st != want || (rs.status == Status::Optimal && !close(got, rs.objective, 1e-6)) {
                failures.push(format!(
                    "seed {seed} --scenario alt: reeplan {st} {got}, reference {want} {}\n{text}",
                    rs.objective
                ));
            }
        }
    }
    eprintln!("{scenarios} scenarios compared");
    eprintln!(
        "{} random plans compared ({checked_shadows} share rules)",
        RANDOM_PLANS + RANDOM_BIG_PLANS
    );
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

const RANDOM_RESILIENCE_PLANS: u64 = 30;

/// max-resilience: reeplan's lambda* agrees with the reference for random plans.
#[test]
fn reeplan_matches_reference_on_random_resilience_plans() {
    let dir = tempfile::tempdir().unwrap();
    let mut failures = vec![];
    for seed in 1000..1000 + RANDOM_RESILIENCE_PLANS {
        let text = random_plan(seed, true);
        let path = dir.path().join(format!("resilience_{seed}.toml"));
        std::fs::write(&path, &text).unwrap();
        let r = solve_reference_text(&text, None);
        let b = run_reeplan(&path, &[]);
        let status = b.json["status"].as_str().unwrap_or("?").to_string();
        let ref_status = match r.status {
            Status::Optimal => "optimal",
            Status::Infeasible => "infeasible",
            Status::Unbounded => "unbounded",
        };
        if status != ref_status {
            failures.push(format!(
                "seed {seed}: reeplan status {status}, reference {ref_status}\n{text}"
            ));
            continue;
        }
        if r.status == Status::Optimal {
            let got = b.json["objective_value"].as_f64().unwrap_or(f64::NAN);
            // lambda* may move by what the budget row's 1e-9 relative slack buys
            if (got - r.objective).abs() > 1e-5 {
                failures.push(format!(
                    "seed {seed}: reeplan lambda* {got} != reference {}\n{text}",
                    r.objective
                ));
                continue;
            }
            let plan = Plan::from_value(&toml::from_str(&text).unwrap());
            let total = b.json["cost"]["total"].as_f64().unwrap_or(f64::NAN);
            let want = r.cost["total"];
            let cap = (1.0 + plan.budget) * r.cost["min_cost"];
            if !close(total, want, 1e-6) || total > cap * (1.0 + 1e-8) + 1e-6 {
                failures.push(format!(
                    "seed {seed}: reeplan cost.total {total}, reference {want} (budget cap {cap})\n{text}"
                ));
            }
            let parts: f64 = ["production", "transport", "tariffs", "unmet", "reserves"]
                .iter()
                .map(|p| b.json["cost"][*p].as_f64().unwrap_or(f64::NAN))
                .sum();
            if !close(parts, total, 1e-6) {
                failures.push(format!(
                    "seed {seed}: cost parts sum {parts} != cost.total {total}"
                ));
            }
            let errs = check_reported_solution(&plan, &b.json);
            if !errs.is_empty() {
                failures.push(format!("seed {seed}:\n  {}\n{text}", errs.join("\n  ")));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// Prints random plan `$SEED` (debugging aid): `cargo test dump_random_plan -- --ignored --nocapture`.
#[test]
#[ignore]
fn dump_random_plan() {
    let seed: u64 = std::env::var("SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let res = std::env::var("RESILIENCE").is_ok();
    println!("{}", random_plan(seed, res));
}
