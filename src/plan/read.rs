//! From the spanned TOML tree to a checked [`Plan`]: every rule of
//! PLAN_FORMAT.md is enforced here, once, and every problem is reported with
//! the file, line, column and field it concerns.

use std::collections::HashMap;

mod instruments;

use super::schema;
use super::tree::{Key, Node, Table, Value};
use super::*;
use crate::error::{Diagnostic, Span};

/// A plan may span at most this many years (guards against absurd horizons).
pub const MAX_HORIZON_YEARS: i64 = 500;

const PRODUCT_KEYS: &[&str] = &["concentrate", "oxide", "magnet"];

/// The keys each kind of table accepts, from the one definition of the
/// format in `schema.rs` (used for unknown-key errors, `--set` paths and CSV
/// columns). `""` is the top level (without the `[data]` extension, which is
/// expanded before reading).
pub fn known_keys(section: &str) -> Vec<&'static str> {
    match section {
        "" => schema::TOP
            .iter()
            .map(|(k, _)| *k)
            .filter(|k| *k != "data")
            .collect(),
        "transport" => schema::TRANSPORT
            .iter()
            .map(|f| f.name)
            .chain(["lane"])
            .collect(),
        _ => schema::fields(section).iter().map(|f| f.name).collect(),
    }
}

/// The largest amount or cost a plan may give (t, t per year, currency per
/// t): HiGHS treats numbers from 1e20 on as infinite and rejects matrix
/// values of 1e15 and more, and products of such numbers overflow its
/// tolerances long before (docs/reliability.md).
pub const MAX_AMOUNT: f64 = 1e12;
/// The largest recipe need, t oxide per t magnet (a matrix coefficient).
pub const MAX_RECIPE: f64 = 1e3;
/// The largest discount rate (100 % a year).
pub const MAX_DISCOUNT_RATE: f64 = 1.0;
/// The largest multiple of a reference value: `ad_valorem`, the resilience
/// `budget` and `reserve_cost` (10,000 %).
pub const MAX_MULTIPLE: f64 = 100.0;

/// Numeric checks on a value.
#[derive(Clone, Copy)]
enum Range01 {
    /// in `[0, MAX_AMOUNT]`
    NonNeg,
    /// in `[0, max]`, with what the maximum is for
    Max(f64, &'static str),
    /// in `[0, 1]`
    Unit,
    /// in `(0, 1]`
    OpenUnit,
}

impl Range01 {
    fn check(self, v: f64) -> Option<String> {
        match self {
            Range01::NonNeg | Range01::Max(..) if v < 0.0 => Some("must be >= 0".into()),
            Range01::NonNeg if v > MAX_AMOUNT => Some(
                "must be at most 1e12, the largest amount or cost reeplan accepts \
                 (HiGHS cannot work with larger numbers)"
                    .into(),
            ),
            Range01::Max(max, why) if v > max => Some(format!("must be at most {max} ({why})")),
            Range01::Unit if !(0.0..=1.0).contains(&v) => Some("must be between 0 and 1".into()),
            Range01::OpenUnit if !(v > 0.0 && v <= 1.0) => {
                Some("must be greater than 0 and at most 1".into())
            }
            _ => None,
        }
    }
}

struct Reader {
    diags: Vec<Diagnostic>,
}

/// A table being read: which keys it has, which were used.
struct Fields<'a> {
    table: &'a Table,
    span: &'a Span,
    /// How messages name this table: `mine "mp"`, `[plan]`.
    what: String,
}

impl<'a> Fields<'a> {
    fn get(&self, key: &str) -> Option<&'a Node> {
        self.table.get(key)
    }

    fn field(&self, key: &str) -> String {
        format!("{} {}", self.what, key)
    }
}

fn closest<'k>(name: &str, candidates: &[&'k str]) -> Option<&'k str> {
    candidates
        .iter()
        .map(|c| (strsim_distance(name, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance, for "did you mean" hints.
pub fn strsim_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn declared(elements: &[Element]) -> String {
    if elements.is_empty() {
        "no elements are declared".into()
    } else {
        let names: Vec<&str> = elements.iter().map(|e| e.name.as_str()).collect();
        format!("declared: {}", names.join(", "))
    }
}

pub fn is_valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

impl Reader {
    fn error(&mut self, span: &Span, message: impl Into<String>) {
        self.diags.push(Diagnostic {
            span: Some(span.clone()),
            message: message.into(),
        });
    }

    /// Open a table, reporting unknown keys (with a "did you mean").
    fn table<'a>(&mut self, node: &'a Node, what: &str, allowed: &[&str]) -> Option<Fields<'a>> {
        let Value::Table(table) = &node.value else {
            self.error(
                &node.span,
                format!("{what}: expected a table, found {}", node.value.type_name()),
            );
            return None;
        };
        for (key, _) in &table.entries {
            if !allowed.contains(&key.name.as_str()) {
                self.unknown_key(key, what, allowed);
            }
        }
        Some(Fields {
            table,
            span: &node.span,
            what: what.to_string(),
        })
    }

    fn unknown_key(&mut self, key: &Key, what: &str, allowed: &[&str]) {
        let hint = match closest(&key.name, allowed) {
            Some(c) => format!(" (did you mean \"{c}\"?)"),
            None => format!(" (expected one of: {})", allowed.join(", ")),
        };
        self.error(
            &key.span,
            format!("{what}: unknown key \"{}\"{hint}", key.name),
        );
    }

    fn required<'a>(&mut self, f: &Fields<'a>, key: &str) -> Option<&'a Node> {
        let node = f.get(key);
        if node.is_none() {
            self.error(
                f.span,
                format!("{}: missing required key \"{key}\"", f.what),
            );
        }
        node
    }

    fn string(&mut self, node: &Node, what: &str) -> Option<String> {
        match &node.value {
            Value::Str(s) => Some(s.clone()),
            _ => {
                self.error(
                    &node.span,
                    format!("{what}: expected a string, found {}", node.found()),
                );
                None
            }
        }
    }

    fn id(&mut self, node: &Node, what: &str) -> Option<String> {
        let s = self.string(node, what)?;
        if is_valid_id(&s) {
            Some(s)
        } else {
            self.error(
                &node.span,
                format!("{what} = {s:?}: an id must be 1-64 characters of A-Z a-z 0-9 _ . -"),
            );
            None
        }
    }

    fn country(&mut self, node: &Node, what: &str, wildcard: bool) -> Option<CountryMatch> {
        let s = self.string(node, what)?;
        if s == "*" {
            if wildcard {
                return Some(CountryMatch::Any);
            }
            self.error(
                &node.span,
                format!(
                    "{what} = \"*\": the wildcard \"*\" is allowed only in tariffs and embargoes"
                ),
            );
            return None;
        }
        if s.trim().is_empty() {
            self.error(
                &node.span,
                format!("{what} = {s:?}: expected a country code such as \"US\""),
            );
            return None;
        }
        if s.chars().any(char::is_control) || s.chars().count() > 64 {
            self.error(
                &node.span,
                format!(
                    "{what} = {s:?}: a country code is at most 64 characters, without control characters (such as NUL or a line break)"
                ),
            );
            return None;
        }
        Some(CountryMatch::Is(s))
    }

    fn plain_country(&mut self, node: &Node, what: &str) -> Option<String> {
        match self.country(node, what, false)? {
            CountryMatch::Is(c) => Some(c),
            CountryMatch::Any => None,
        }
    }

    fn integer(&mut self, node: &Node, what: &str) -> Option<i64> {
        match &node.value {
            Value::Int(i) => Some(*i),
            _ => {
                self.error(
                    &node.span,
                    format!("{what}: expected an integer, found {}", node.found()),
                );
                None
            }
        }
    }

    fn number(&mut self, node: &Node, what: &str, range: Range01) -> Option<f64> {
        let v = match &node.value {
            Value::Int(i) => *i as f64,
            Value::Float(f) => *f,
            _ => {
                self.error(
                    &node.span,
                    format!("{what}: expected a number, found {}", node.found()),
                );
                return None;
            }
        };
        if !v.is_finite() {
            self.error(
                &node.span,
                format!("{what} = {}: must be a finite number", node.show()),
            );
            return None;
        }
        if let Some(problem) = range.check(v) {
            self.error(&node.span, format!("{what} = {}: {problem}", node.show()));
            return None;
        }
        Some(v)
    }

    fn opt_number(&mut self, f: &Fields, key: &str, range: Range01, default: f64) -> Option<f64> {
        match f.get(key) {
            Some(node) => self.number(node, &f.field(key), range),
            None => Some(default),
        }
    }

    /// A number or a `{ year = number }` table.
    fn year_value(&mut self, node: &Node, what: &str, range: Range01) -> Option<YearValue> {
        match &node.value {
            Value::Table(table) => {
                if table.entries.is_empty() {
                    self.error(
                        &node.span,
                        format!("{what}: a year table needs at least one year"),
                    );
                    return None;
                }
                let mut points = Vec::new();
                let mut ok = true;
                for (key, value) in &table.entries {
                    let digits = key.name.strip_prefix('-').unwrap_or(&key.name);
                    let is_year = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
                    let Some(year) = key.name.parse::<i64>().ok().filter(|_| is_year) else {
                        self.error(
                            &key.span,
                            format!("{what}: year table key {:?} is not a year (expected e.g. 2030 = 100)", key.name),
                        );
                        ok = false;
                        continue;
                    };
                    match self.number(value, &format!("{what} {year}"), range) {
                        Some(v) => points.push((year, v)),
                        None => ok = false,
                    }
                }
                points.sort_by_key(|p| p.0);
                if let Some(w) = points.windows(2).find(|w| w[0].0 == w[1].0) {
                    self.error(
                        &node.span,
                        format!("{what}: year {} is given twice", w[0].0),
                    );
                    ok = false;
                }
                ok.then_some(YearValue::Table(points))
            }
            Value::Int(_) | Value::Float(_) => {
                self.number(node, what, range).map(YearValue::Constant)
            }
            _ => {
                self.error(
                    &node.span,
                    format!(
                        "{what}: expected a number or a table of year = number, found {}",
                        node.found()
                    ),
                );
                None
            }
        }
    }

    fn year_range(&mut self, node: &Node, what: &str) -> Option<YearRange> {
        let Value::Array(items) = &node.value else {
            self.error(
                &node.span,
                format!(
                    "{what}: expected a year range [first, last], found {}",
                    node.found()
                ),
            );
            return None;
        };
        if items.len() != 2 {
            self.error(
                &node.span,
                format!(
                    "{what}: expected exactly two years [first, last], found {} values",
                    items.len()
                ),
            );
            return None;
        }
        let first = self.integer(&items[0], what)?;
        let last = self.integer(&items[1], what)?;
        if first > last {
            self.error(
                &node.span,
                format!("{what} = [{first}, {last}]: the first year must not be after the last"),
            );
            return None;
        }
        Some(YearRange { first, last })
    }

    fn opt_years(&mut self, f: &Fields) -> (Option<YearRange>, bool) {
        match f.get("years") {
            Some(node) => match self.year_range(node, &f.field("years")) {
                Some(r) => (Some(r), true),
                None => (None, false),
            },
            None => (None, true),
        }
    }

    fn array<'a>(&mut self, node: &'a Node, what: &str) -> Option<&'a [Node]> {
        match &node.value {
            Value::Array(items) => Some(items),
            _ => {
                self.error(
                    &node.span,
                    format!("{what}: expected an array, found {}", node.found()),
                );
                None
            }
        }
    }

    fn string_list(&mut self, node: &Node, what: &str) -> Option<Vec<(String, Span)>> {
        let items = self.array(node, what)?;
        let mut out = Vec::new();
        let mut ok = true;
        for item in items {
            match self.string(item, what) {
                Some(s) => out.push((s, item.span.clone())),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn country_list(&mut self, node: &Node, what: &str) -> Option<Vec<String>> {
        let items = self.array(node, what)?;
        let mut out = Vec::new();
        let mut ok = true;
        for item in items {
            match self.plain_country(item, what) {
                Some(c) => out.push(c),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    /// `element → number` table over declared elements; missing ones get `default`.
    fn element_table(
        &mut self,
        node: &Node,
        what: &str,
        elements: &[Element],
        range: Range01,
        default: f64,
    ) -> Option<Vec<f64>> {
        let Value::Table(table) = &node.value else {
            self.error(
                &node.span,
                format!(
                    "{what}: expected a table of element = number, found {}",
                    node.found()
                ),
            );
            return None;
        };
        let mut out = vec![default; elements.len()];
        let mut ok = true;
        for (key, value) in &table.entries {
            let Some(e) = elements.iter().position(|el| el.name == key.name) else {
                self.error(
                    &key.span,
                    format!(
                        "{what}: element \"{}\" is not declared under [elements] ({})",
                        key.name,
                        declared(elements)
                    ),
                );
                ok = false;
                continue;
            };
            match self.number(value, &format!("{what} {}", key.name), range) {
                Some(v) => out[e] = v,
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn element_ref(&mut self, node: &Node, what: &str, elements: &[Element]) -> Option<usize> {
        let name = self.string(node, what)?;
        let found = elements.iter().position(|e| e.name == name);
        if found.is_none() {
            self.error(
                &node.span,
                format!(
                    "{what} = {name:?}: not declared under [elements] ({})",
                    declared(elements)
                ),
            );
        }
        found
    }

    /// `element` of a tariff or embargo: allowed only for oxide (`forbidden`
    /// when the product says otherwise; `when` names the condition).
    fn trade_element(
        &mut self,
        f: &Fields,
        elements: &[Element],
        forbidden: bool,
        when: &str,
    ) -> Option<Option<usize>> {
        let n = match f.get("element") {
            None => return Some(None),
            Some(n) => n,
        };
        if forbidden {
            self.error(
                &n.span,
                format!("{}: allowed only when {when}", f.field("element")),
            );
            return None;
        }
        self.element_ref(n, &f.field("element"), elements).map(Some)
    }

    /// `from` and `to` of a tariff or embargo (wildcards allowed).
    fn trade_route(&mut self, f: &Fields) -> (Option<CountryMatch>, Option<CountryMatch>) {
        let from = self
            .required(f, "from")
            .and_then(|n| self.country(n, &f.field("from"), true));
        let to = self
            .required(f, "to")
            .and_then(|n| self.country(n, &f.field("to"), true));
        (from, to)
    }

    fn entries<'a>(&mut self, root: &'a Table, key: &str) -> Vec<&'a Node> {
        match root.get(key) {
            None => Vec::new(),
            Some(node) => match &node.value {
                Value::Array(items) => items.iter().collect(),
                other => {
                    self.error(
                        &node.span,
                        format!(
                            "{key}: expected an array of tables ([[{key}]]), found {}",
                            other.type_name()
                        ),
                    );
                    Vec::new()
                }
            },
        }
    }
}

/// Describes an entry of an array of tables before its id is known: `mine "mp"`
/// or `mine #3`.
/// Warnings about a valid plan tree: a tariff from a country to itself
/// applies only to cross-border shipments, so it is never charged.
pub fn warnings(root: &Node) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let Value::Table(table) = &root.value else {
        return out;
    };
    let Some(Node {
        value: Value::Array(tariffs),
        ..
    }) = table.get("tariff")
    else {
        return out;
    };
    for (i, node) in tariffs.iter().enumerate() {
        let Value::Table(t) = &node.value else {
            continue;
        };
        if let (
            Some(Node {
                value: Value::Str(from),
                ..
            }),
            Some(
                to_node @ Node {
                    value: Value::Str(to),
                    ..
                },
            ),
        ) = (t.get("from"), t.get("to"))
        {
            if from == to && from != "*" {
                out.push(Diagnostic {
                    span: Some(to_node.span.clone()),
                    message: format!(
                        "{}: from and to are both {from:?}; a tariff is charged only on cross-border shipments, so this one never applies",
                        entry_name("tariff", node, i)
                    ),
                });
            }
        }
    }
    out
}

fn entry_name(kind: &str, node: &Node, index: usize) -> String {
    if let Value::Table(t) = &node.value {
        if let Some(Node {
            value: Value::Str(id),
            ..
        }) = t.get("id")
        {
            return format!("{kind} \"{id}\"");
        }
    }
    format!("{kind} #{}", index + 1)
}

struct Horizon {
    first: i64,
}

/// Read and check a whole plan. `root` is the base tree, already patched by a
/// scenario if one is selected.
pub fn read_plan(
    root: &Node,
    default_name: &str,
    scenario: Option<Scenario>,
) -> Result<Plan, Vec<Diagnostic>> {
    let mut r = Reader { diags: Vec::new() };
    let plan = read_all(&mut r, root, default_name, scenario);
    match plan {
        Some(plan) if r.diags.is_empty() => Ok(plan),
        _ => {
            if r.diags.is_empty() {
                r.diags.push(Diagnostic {
                    span: Some(root.span.clone()),
                    message: "the plan is invalid".into(),
                });
            }
            Err(r.diags)
        }
    }
}

fn read_all(
    r: &mut Reader,
    root: &Node,
    default_name: &str,
    scenario: Option<Scenario>,
) -> Option<Plan> {
    let top = r.table(root, "plan file", &known_keys(""))?;
    let root_table = top.table;

    // [plan]
    let Some(plan_node) = root_table.get("plan") else {
        r.error(
            &root.span,
            "missing the [plan] table (it needs at least first_year and last_year)",
        );
        return None;
    };
    let pf = r.table(plan_node, "[plan]", &known_keys("plan"))?;
    let name = match pf.get("name") {
        Some(n) => r.string(n, "[plan] name"),
        None => Some(default_name.to_string()),
    };
    let first_year = r
        .required(&pf, "first_year")
        .and_then(|n| r.integer(n, "[plan] first_year"));
    let last_year = r
        .required(&pf, "last_year")
        .and_then(|n| r.integer(n, "[plan] last_year"));
    if let (Some(a), Some(b)) = (first_year, last_year) {
        let node = pf.get("last_year").unwrap_or(plan_node);
        if b < a {
            r.error(
                &node.span,
                format!("[plan] last_year = {b}: must be >= first_year ({a})"),
            );
        } else if i128::from(b) - i128::from(a) >= i128::from(MAX_HORIZON_YEARS) {
            r.error(
                &node.span,
                format!("[plan] last_year = {b}: a horizon of more than {MAX_HORIZON_YEARS} years is not supported"),
            );
        }
    }
    let objective = match pf.get("objective") {
        Some(n) => r.string(n, "[plan] objective").and_then(|s| {
            let o = Objective::from_name(&s);
            if o.is_none() {
                r.error(
                    &n.span,
                    format!(
                        "[plan] objective = {s:?}: expected \"min-cost\" or \"max-resilience\""
                    ),
                );
            }
            o
        }),
        None => Some(Objective::MinCost),
    };
    let currency = match pf.get("currency") {
        Some(n) => r.string(n, "[plan] currency"),
        None => Some("USD".to_string()),
    };
    let discount_rate = r.opt_number(
        &pf,
        "discount_rate",
        Range01::Max(MAX_DISCOUNT_RATE, "a rate of 100 % a year"),
        0.0,
    );
    let concern = match pf.get("concern") {
        Some(n) => r.country_list(n, "[plan] concern"),
        None => Some(vec!["CN".to_string()]),
    };
    if let Some(n) = pf.get("version") {
        if let Some(v) = r.integer(n, "[plan] version") {
            if v != 1 {
                r.error(
                    &n.span,
                    format!("[plan] version = {v}: only format version 1 is supported"),
                );
            }
        }
    }
    let horizon = Horizon {
        first: first_year.unwrap_or(0),
    };

    // [elements]
    let mut elements = Vec::new();
    match root_table.get("elements") {
        None => r.error(
            &root.span,
            "missing [elements]: declare at least one element, e.g. [elements.NdPr]",
        ),
        Some(node) => {
            if let Value::Table(t) = &node.value {
                if t.entries.is_empty() {
                    r.error(
                        &node.span,
                        "[elements]: declare at least one element, e.g. [elements.NdPr]",
                    );
                }
                for (key, value) in &t.entries {
                    let what = format!("[elements.{}]", key.name);
                    if key.name.trim().is_empty() {
                        r.error(&key.span, format!("{what}: an element needs a name"));
                    }
                    let Some(ef) = r.table(value, &what, &known_keys("elements")) else {
                        continue;
                    };
                    let price = r
                        .opt_number(&ef, "price", Range01::NonNeg, 0.0)
                        .unwrap_or(0.0);
                    elements.push(Element {
                        name: key.name.clone(),
                        price,
                    });
                }
            } else {
                r.error(
                    &node.span,
                    format!(
                        "[elements]: expected a table, found {}",
                        node.value.type_name()
                    ),
                );
            }
        }
    }

    // [prices]
    let (mut concentrate_price, mut magnet_price) = (0.0, 0.0);
    if let Some(node) = root_table.get("prices") {
        if let Some(f) = r.table(node, "[prices]", &known_keys("prices")) {
            concentrate_price = r
                .opt_number(&f, "concentrate", Range01::NonNeg, 0.0)
                .unwrap_or(0.0);
            magnet_price = r
                .opt_number(&f, "magnet", Range01::NonNeg, 0.0)
                .unwrap_or(0.0);
        }
    }

    // Facilities and markets share one id namespace.
    let mut ids: HashMap<String, (String, Span)> = HashMap::new();
    let mut claim_id = |r: &mut Reader, id: &str, kind: &str, node: &Node| {
        if let Some((other_kind, other_span)) = ids.get(id) {
            r.error(
                &node.span,
                format!(
                    "{kind} id \"{id}\" is already used by a {other_kind} at {}; facility and market ids must be unique",
                    other_span.location()
                ),
            );
        } else {
            ids.insert(id.to_string(), (kind.to_string(), node.span.clone()));
        }
    };

    let mut mines = Vec::new();
    for (i, node) in r.entries(root_table, "mine").into_iter().enumerate() {
        let what = entry_name("mine", node, i);
        let Some(f) = r.table(node, &what, &known_keys("mine")) else {
            continue;
        };
        let facility = read_facility(r, &f, &horizon, &mut claim_id, "mine");
        let grade = r
            .required(&f, "grade")
            .and_then(|n| r.element_table(n, &f.field("grade"), &elements, Range01::Unit, 0.0));
        if let (Some(g), Some(n)) = (&grade, f.get("grade")) {
            let sum: f64 = g.iter().sum();
            if sum > 1.0 + 1e-9 {
                r.error(
                    &n.span,
                    format!("{} grades sum to {sum}: must be at most 1", f.what),
                );
            }
        }
        if let (Some(facility), Some(grade)) = (facility, grade) {
            mines.push(Mine { facility, grade });
        }
    }

    let mut refineries = Vec::new();
    for (i, node) in r.entries(root_table, "refinery").into_iter().enumerate() {
        let what = entry_name("refinery", node, i);
        let Some(f) = r.table(node, &what, &known_keys("refinery")) else {
            continue;
        };
        let facility = read_facility(r, &f, &horizon, &mut claim_id, "refinery");
        let recovery = match f.get("recovery") {
            None => Some(vec![1.0; elements.len()]),
            Some(n) if matches!(n.value, Value::Table(_)) => {
                r.element_table(n, &f.field("recovery"), &elements, Range01::OpenUnit, 1.0)
            }
            Some(n) => r
                .number(n, &f.field("recovery"), Range01::OpenUnit)
                .map(|v| vec![v; elements.len()]),
        };
        if let (Some(facility), Some(recovery)) = (facility, recovery) {
            refineries.push(Refinery { facility, recovery });
        }
    }

    let mut plants = Vec::new();
    for (i, node) in r
        .entries(root_table, "magnet_plant")
        .into_iter()
        .enumerate()
    {
        let what = entry_name("magnet_plant", node, i);
        let Some(f) = r.table(node, &what, &known_keys("magnet_plant")) else {
            continue;
        };
        let facility = read_facility(r, &f, &horizon, &mut claim_id, "magnet_plant");
        let recipe = r
            .required(&f, "recipe")
            .and_then(|n| {
                let range = Range01::Max(MAX_RECIPE, "t oxide per t magnet");
                let recipe = r.element_table(n, &f.field("recipe"), &elements, range, 0.0)?;
                if recipe.iter().all(|&v| v == 0.0) && !elements.is_empty() {
                    r.error(
                        &n.span,
                        format!(
                            "{}: must give at least one element a value > 0 (a plant that needs no oxide would make magnets from nothing)",
                            f.field("recipe")
                        ),
                    );
                    return None;
                }
                Some(recipe)
            });
        if let (Some(facility), Some(recipe)) = (facility, recipe) {
            plants.push(MagnetPlant { facility, recipe });
        }
    }

    let mut markets = Vec::new();
    for (i, node) in r.entries(root_table, "market").into_iter().enumerate() {
        let what = entry_name("market", node, i);
        let Some(f) = r.table(node, &what, &known_keys("market")) else {
            continue;
        };
        let id = r.required(&f, "id").and_then(|n| r.id(n, &f.field("id")));
        if let (Some(id), Some(n)) = (&id, f.get("id")) {
            claim_id(r, id, "market", n);
        }
        let name = match f.get("name") {
            Some(n) => r.string(n, &f.field("name")),
            None => id.clone(),
        };
        let country = r
            .required(&f, "country")
            .and_then(|n| r.plain_country(n, &f.field("country")));
        let demand = r
            .required(&f, "demand")
            .and_then(|n| r.year_value(n, &f.field("demand"), Range01::NonNeg));
        let unmet_penalty = match f.get("unmet_penalty") {
            Some(n) => r
                .number(n, &f.field("unmet_penalty"), Range01::NonNeg)
                .map(Some),
            None => Some(None),
        };
        if let (Some(id), Some(name), Some(country), Some(demand), Some(unmet_penalty)) =
            (id, name, country, demand, unmet_penalty)
        {
            markets.push(Market {
                id,
                name,
                country,
                demand,
                unmet_penalty,
            });
        }
    }

    let transport = read_transport(r, root_table);

    // [[tariff]]
    let mut tariffs = Vec::new();
    let mut tariff_ids = HashMap::new();
    for (i, node) in r.entries(root_table, "tariff").into_iter().enumerate() {
        let what = entry_name("tariff", node, i);
        let Some(f) = r.table(node, &what, &known_keys("tariff")) else {
            continue;
        };
        let id = read_opt_id(r, &f, &mut tariff_ids);
        let product = r.required(&f, "product").and_then(|n| {
            let s = r.string(n, &f.field("product"))?;
            let p = Product::from_name(&s);
            if p.is_none() {
                r.error(
                    &n.span,
                    format!(
                        "{} = {s:?}: expected \"concentrate\", \"oxide\" or \"magnet\"",
                        f.field("product")
                    ),
                );
            }
            p
        });
        let oxide_only = product.is_some_and(|p| p != Product::Oxide);
        let element = r.trade_element(&f, &elements, oxide_only, "product = \"oxide\"");
        let (from, to) = r.trade_route(&f);
        let ad_valorem = r.opt_number(
            &f,
            "ad_valorem",
            Range01::Max(MAX_MULTIPLE, "10,000 % of the reference value"),
            0.0,
        );
        let per_tonne = r.opt_number(&f, "per_tonne", Range01::NonNeg, 0.0);
        let (years, years_ok) = r.opt_years(&f);
        if let (Some(product), Some(element), Some(av)) = (product, element, ad_valorem) {
            if av > 0.0 {
                let span = f.get("ad_valorem").map_or(f.span, |n| &n.span);
                match (product, element) {
                    (Product::Oxide, None) => {
                        let free: Vec<&str> = elements
                            .iter()
                            .filter(|e| e.price == 0.0)
                            .map(|e| e.name.as_str())
                            .collect();
                        if !free.is_empty() {
                            r.error(
                                span,
                                format!(
                                    "{} = {av}: elements {} have price 0, so this oxide tariff would charge nothing on them; give [elements.X] price or restrict the tariff with element",
                                    f.field("ad_valorem"),
                                    free.join(", ")
                                ),
                            );
                        }
                    }
                    (Product::Oxide, Some(e)) if elements[e].price == 0.0 => r.error(
                        span,
                        format!(
                            "{} = {av}: element {} has price 0, so this tariff would charge nothing; set [elements.{}] price",
                            f.field("ad_valorem"),
                            elements[e].name,
                            elements[e].name
                        ),
                    ),
                    (Product::Concentrate, _) if concentrate_price == 0.0 => r.error(
                        span,
                        format!(
                            "{} = {av}: [prices] concentrate is 0, so this tariff would charge nothing; set [prices] concentrate",
                            f.field("ad_valorem")
                        ),
                    ),
                    (Product::Magnet, _) if magnet_price == 0.0 => r.error(
                        span,
                        format!(
                            "{} = {av}: [prices] magnet is 0, so this tariff would charge nothing; set [prices] magnet",
                            f.field("ad_valorem")
                        ),
                    ),
                    _ => {}
                }
            }
        }
        if let (
            Some(id),
            Some(product),
            Some(element),
            Some(from),
            Some(to),
            Some(ad_valorem),
            Some(per_tonne),
            true,
        ) = (
            id, product, element, from, to, ad_valorem, per_tonne, years_ok,
        ) {
            tariffs.push(Tariff {
                id,
                product,
                element,
                from,
                to,
                ad_valorem,
                per_tonne,
                years,
            });
        }
    }

    // [[embargo]]
    let mut embargoes = Vec::new();
    let mut embargo_ids = HashMap::new();
    for (i, node) in r.entries(root_table, "embargo").into_iter().enumerate() {
        let what = entry_name("embargo", node, i);
        let Some(f) = r.table(node, &what, &known_keys("embargo")) else {
            continue;
        };
        let id = read_opt_id(r, &f, &mut embargo_ids);
        let product = r.required(&f, "product").and_then(|n| {
            let s = r.string(n, &f.field("product"))?;
            if s == "*" {
                return Some(None);
            }
            let p = Product::from_name(&s);
            if p.is_none() {
                r.error(
                    &n.span,
                    format!(
                        "{} = {s:?}: expected \"concentrate\", \"oxide\", \"magnet\" or \"*\"",
                        f.field("product")
                    ),
                );
            }
            p.map(Some)
        });
        let not_oxide = matches!(product, Some(Some(p)) if p != Product::Oxide);
        let element = r.trade_element(&f, &elements, not_oxide, "product is \"oxide\" or \"*\"");
        let (from, to) = r.trade_route(&f);
        let (years, years_ok) = r.opt_years(&f);
        if let (Some(id), Some(mut product), Some(element), Some(from), Some(to), true) =
            (id, product, element, from, to, years_ok)
        {
            // With an element, "*" matches only that element's oxide.
            if element.is_some() {
                product = Some(Product::Oxide);
            }
            embargoes.push(Embargo {
                id,
                product,
                element,
                from,
                to,
                years,
            });
        }
    }

    // [[share_rule]]
    let mut share_rules = Vec::new();
    let mut rule_ids = HashMap::new();
    for (i, node) in r.entries(root_table, "share_rule").into_iter().enumerate() {
        let what = entry_name("share_rule", node, i);
        let Some(f) = r.table(node, &what, &known_keys("share_rule")) else {
            continue;
        };
        let id = unique_id(r, &f, &mut rule_ids, "share_rule");
        let rule_markets = match f.get("markets") {
            None => Some((0..markets.len()).collect()),
            Some(n) => r.string_list(n, &f.field("markets")).and_then(|list| {
                if list.is_empty() {
                    r.error(
                        &n.span,
                        format!(
                            "{}: must name at least one market (leave it out to pool all markets)",
                            f.field("markets")
                        ),
                    );
                    return None;
                }
                let mut out: Vec<usize> = Vec::new();
                let mut ok = true;
                for (m, span) in list {
                    match markets.iter().position(|k| k.id == m) {
                        Some(k) if !out.contains(&k) => out.push(k),
                        Some(_) => {}
                        None => {
                            let hint = match ids.get(&m) {
                                Some((kind, _)) => {
                                    format!(" (it is a {kind}; a share rule pools markets)")
                                }
                                None => closest_id(&m, markets.iter().map(|k| k.id.as_str())),
                            };
                            r.error(
                                &span,
                                format!(
                                    "{} = {m:?}: no market has this id{hint}",
                                    f.field("markets")
                                ),
                            );
                            ok = false;
                        }
                    }
                }
                ok.then_some(out)
            }),
        };
        let stages = match f.get("stages") {
            None => Some(Stage::ALL.iter().fold(0, |acc, s| acc | s.bit())),
            Some(n) => r.string_list(n, &f.field("stages")).and_then(|list| {
                if list.is_empty() {
                    r.error(
                        &n.span,
                        format!("{}: must list at least one stage", f.field("stages")),
                    );
                    return None;
                }
                let mut set: StageSet = 0;
                let mut ok = true;
                for (s, span) in list {
                    match Stage::from_name(&s) {
                        Some(stage) => set |= stage.bit(),
                        None => {
                            r.error(
                                &span,
                                format!(
                                    "{} = {s:?}: expected \"mining\", \"refining\" or \"magnet\"",
                                    f.field("stages")
                                ),
                            );
                            ok = false;
                        }
                    }
                }
                ok.then_some(set)
            }),
        };
        let min_share = r
            .required(&f, "min_share")
            .and_then(|n| r.year_value(n, &f.field("min_share"), Range01::Unit));
        let (years, years_ok) = r.opt_years(&f);
        let penalty = match f.get("penalty") {
            Some(n) => r.number(n, &f.field("penalty"), Range01::NonNeg).map(Some),
            None => Some(None),
        };
        if let (Some(id), Some(markets), Some(stages), Some(min_share), true, Some(penalty)) =
            (id, rule_markets, stages, min_share, years_ok, penalty)
        {
            share_rules.push(ShareRule {
                id,
                markets,
                stages,
                min_share,
                years,
                penalty,
            });
        }
    }

    // [resilience]
    let mut resilience = Resilience {
        budget: 0.1,
        reserve_cost: 0.0,
    };
    if let Some(node) = root_table.get("resilience") {
        if let Some(f) = r.table(node, "[resilience]", &known_keys("resilience")) {
            resilience.budget = r
                .opt_number(
                    &f,
                    "budget",
                    Range01::Max(MAX_MULTIPLE, "10,000 % of the optimum"),
                    0.1,
                )
                .unwrap_or(0.1);
            resilience.reserve_cost = r
                .opt_number(
                    &f,
                    "reserve_cost",
                    Range01::Max(MAX_MULTIPLE, "100 times the unit cost"),
                    0.0,
                )
                .unwrap_or(0.0);
        }
    }

    // [[disruption]]
    let facility_ids: Vec<&str> = mines
        .iter()
        .map(|m| m.facility.id.as_str())
        .chain(refineries.iter().map(|f| f.facility.id.as_str()))
        .chain(plants.iter().map(|f| f.facility.id.as_str()))
        .collect();
    let mut disruptions = Vec::new();
    let mut disruption_ids = HashMap::new();
    for (i, node) in r.entries(root_table, "disruption").into_iter().enumerate() {
        let what = entry_name("disruption", node, i);
        let Some(f) = r.table(node, &what, &known_keys("disruption")) else {
            continue;
        };
        let id = unique_id(r, &f, &mut disruption_ids, "disruption");
        let description = match f.get("description") {
            Some(n) => r.string(n, &f.field("description")).map(Some),
            None => Some(None),
        };
        let exports_from = match f.get("exports_from") {
            Some(n) => r.country_list(n, &f.field("exports_from")),
            None => Some(Vec::new()),
        };
        let countries = match f.get("countries") {
            Some(n) => r.country_list(n, &f.field("countries")),
            None => Some(Vec::new()),
        };
        let facilities = match f.get("facilities") {
            None => Some(Vec::new()),
            Some(n) => r.string_list(n, &f.field("facilities")).and_then(|list| {
                let mut ok = true;
                let mut out = Vec::new();
                for (id, span) in list {
                    if facility_ids.contains(&id.as_str()) {
                        out.push(id);
                    } else {
                        let hint = closest_id(&id, facility_ids.iter().copied());
                        let kind = if markets.iter().any(|k| k.id == id) {
                            " (it is a market; a disruption hits mines, refineries and magnet plants)".to_string()
                        } else {
                            hint
                        };
                        r.error(
                            &span,
                            format!("{} = {id:?}: no mine, refinery or magnet plant has this id{kind}", f.field("facilities")),
                        );
                        ok = false;
                    }
                }
                ok.then_some(out)
            }),
        };
        let capacity_factor = r.opt_number(&f, "capacity_factor", Range01::Unit, 0.0);
        let (years, years_ok) = r.opt_years(&f);
        if let (
            Some(id),
            Some(description),
            Some(exports_from),
            Some(countries),
            Some(facilities),
            Some(capacity_factor),
            true,
        ) = (
            id,
            description,
            exports_from,
            countries,
            facilities,
            capacity_factor,
            years_ok,
        ) {
            disruptions.push(Disruption {
                id,
                description,
                exports_from,
                countries,
                facilities,
                capacity_factor,
                years,
            });
        }
    }

    // The horizon the cross-year checks below walk: only a valid one (an
    // invalid horizon is already reported; walking it could take forever).
    let (check_first, check_last) = match (first_year, last_year) {
        (Some(a), Some(b))
            if b >= a && i128::from(b) - i128::from(a) < i128::from(MAX_HORIZON_YEARS) =>
        {
            (a, b)
        }
        _ => (1, 0), // an empty range
    };
    // [[stockpile]]: ids share the namespace of facilities and markets.
    let stockpiles = instruments::read_stockpiles(
        r,
        root_table,
        &elements,
        check_first,
        check_last,
        &mut |r: &mut Reader, id: &str, node: &Node| {
            if let Some((other_kind, other_span)) = ids.get(id) {
                r.error(
                    &node.span,
                    format!(
                        "stockpile id \"{id}\" is already used by a {other_kind} at {}; stockpile, facility and market ids must be unique",
                        other_span.location()
                    ),
                );
            } else {
                ids.insert(id.to_string(), ("stockpile".to_string(), node.span.clone()));
            }
        },
    );
    let (contracts, subsidies) = {
        let (mf, rf, pf2): (Vec<&Facility>, Vec<&Facility>, Vec<&Facility>) = (
            mines.iter().map(|m| &m.facility).collect(),
            refineries.iter().map(|m| &m.facility).collect(),
            plants.iter().map(|m| &m.facility).collect(),
        );
        let stock_ids: Vec<String> = stockpiles.iter().map(|s| s.id.clone()).collect();
        let parties = instruments::Parties {
            mines: &mf,
            refineries: &rf,
            plants: &pf2,
            markets: &markets,
            stockpiles: &stock_ids,
            first_year: check_first,
            last_year: check_last,
        };
        (
            instruments::read_contracts(r, root_table, &parties, &elements),
            instruments::read_subsidies(r, root_table, &parties),
        )
    };

    if objective == Some(Objective::MaxResilience) && disruptions.is_empty() && r.diags.is_empty() {
        let span = pf
            .get("objective")
            .map_or(plan_node.span.clone(), |n| n.span.clone());
        r.error(
            &span,
            "[plan] objective = \"max-resilience\" needs at least one [[disruption]]",
        );
    }

    Some(Plan {
        name: name?,
        first_year: first_year?,
        last_year: last_year?,
        objective: objective?,
        currency: currency?,
        discount_rate: discount_rate?,
        concern: concern?,
        elements,
        concentrate_price,
        magnet_price,
        mines,
        refineries,
        plants,
        markets,
        transport: transport?,
        tariffs,
        embargoes,
        share_rules,
        resilience,
        disruptions,
        contracts,
        subsidies,
        stockpiles,
        scenario,
    })
}

fn closest_id<'a>(id: &str, candidates: impl Iterator<Item = &'a str>) -> String {
    let all: Vec<&str> = candidates.collect();
    match closest(id, &all) {
        Some(c) => format!(" (did you mean \"{c}\"?)"),
        None => String::new(),
    }
}

fn unique_in(r: &mut Reader, seen: &mut HashMap<String, Span>, id: &str, node: &Node, kind: &str) {
    if let Some(prev) = seen.get(id) {
        r.error(
            &node.span,
            format!(
                "{kind} id \"{id}\" is used twice (first at {}); ids must be unique",
                prev.location()
            ),
        );
    } else {
        seen.insert(id.to_string(), node.span.clone());
    }
}

/// A required `id`, unique within its array (`kind` names it in the message).
fn unique_id(
    r: &mut Reader,
    f: &Fields,
    seen: &mut HashMap<String, Span>,
    kind: &str,
) -> Option<String> {
    let id = r.required(f, "id").and_then(|n| r.id(n, &f.field("id")));
    if let (Some(id), Some(n)) = (&id, f.get("id")) {
        unique_in(r, seen, id, n, kind);
    }
    id
}

fn read_opt_id(
    r: &mut Reader,
    f: &Fields,
    seen: &mut HashMap<String, Span>,
) -> Option<Option<String>> {
    match f.get("id") {
        None => Some(None),
        Some(n) => {
            let id = r.id(n, &f.field("id"))?;
            let kind = f.what.split(' ').next().unwrap_or("entry").to_string();
            unique_in(r, seen, &id, n, &kind);
            Some(Some(id))
        }
    }
}

fn read_facility(
    r: &mut Reader,
    f: &Fields,
    horizon: &Horizon,
    claim_id: &mut impl FnMut(&mut Reader, &str, &str, &Node),
    kind: &str,
) -> Option<Facility> {
    let id = r.required(f, "id").and_then(|n| r.id(n, &f.field("id")));
    if let (Some(id), Some(n)) = (&id, f.get("id")) {
        claim_id(r, id, kind, n);
    }
    let name = match f.get("name") {
        Some(n) => r.string(n, &f.field("name")),
        None => id.clone(),
    };
    let country = r
        .required(f, "country")
        .and_then(|n| r.plain_country(n, &f.field("country")));
    let capacity = r
        .required(f, "capacity")
        .and_then(|n| r.year_value(n, &f.field("capacity"), Range01::NonNeg));
    let cost = match f.get("cost") {
        Some(n) => r.year_value(n, &f.field("cost"), Range01::NonNeg),
        None => Some(YearValue::Constant(0.0)),
    };
    let online = match f.get("online") {
        Some(n) => r.integer(n, &f.field("online")),
        None => Some(horizon.first),
    };
    let ramp = match f.get("ramp") {
        None => Some(Vec::new()),
        Some(n) => r.array(n, &f.field("ramp")).and_then(|items| {
            let mut out = Vec::with_capacity(items.len());
            let mut ok = true;
            for item in items {
                match r.number(item, &f.field("ramp"), Range01::Unit) {
                    Some(v) => out.push(v),
                    None => ok = false,
                }
            }
            ok.then_some(out)
        }),
    };
    let closes = match f.get("closes") {
        None => Some(None),
        Some(n) => r.integer(n, &f.field("closes")).and_then(|c| {
            if let Some(on) = online {
                if c <= on {
                    let which = if f.get("online").is_some() {
                        format!("online ({on})")
                    } else {
                        format!("online ({on}, the default: first_year)")
                    };
                    r.error(
                        &n.span,
                        format!("{} = {c}: must be greater than {which}", f.field("closes")),
                    );
                    return None;
                }
            }
            Some(Some(c))
        }),
    };
    let expand = instruments::read_expand(r, f, horizon);
    Some(Facility {
        id: id?,
        name: name?,
        country: country?,
        capacity: capacity?,
        cost: cost?,
        online: online?,
        ramp: ramp?,
        closes: closes?,
        expand: expand?,
    })
}

fn read_product_table(r: &mut Reader, node: &Node, what: &str) -> Option<[f64; 3]> {
    let f = r.table(node, what, PRODUCT_KEYS)?;
    let mut out = [0.0; 3];
    let mut ok = true;
    for p in Product::ALL {
        match r.opt_number(&f, p.name(), Range01::NonNeg, 0.0) {
            Some(v) => out[p.index()] = v,
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn read_transport(r: &mut Reader, root: &Table) -> Option<Transport> {
    let mut transport = Transport::default();
    let Some(node) = root.get("transport") else {
        return Some(transport);
    };
    let f = r.table(node, "[transport]", &known_keys("transport"))?;
    let mut ok = true;
    if let Some(n) = f.get("domestic") {
        match read_product_table(r, n, "[transport] domestic") {
            Some(v) => transport.domestic = v,
            None => ok = false,
        }
    }
    if let Some(n) = f.get("cross_border") {
        match read_product_table(r, n, "[transport] cross_border") {
            Some(v) => transport.cross_border = v,
            None => ok = false,
        }
    }
    if let Some(n) = f.get("lane") {
        let items = match &n.value {
            Value::Array(items) => items.as_slice(),
            other => {
                r.error(
                    &n.span,
                    format!("[transport] lane: expected an array of tables ([[transport.lane]]), found {}", other.type_name()),
                );
                return None;
            }
        };
        let mut given: HashMap<(String, String, usize), Span> = HashMap::new();
        for (i, item) in items.iter().enumerate() {
            let what = format!("transport lane #{}", i + 1);
            let Some(lf) = r.table(item, &what, &known_keys("lane")) else {
                ok = false;
                continue;
            };
            let from = r
                .required(&lf, "from")
                .and_then(|n| r.plain_country(n, &lf.field("from")));
            let to = r
                .required(&lf, "to")
                .and_then(|n| r.plain_country(n, &lf.field("to")));
            let (Some(from), Some(to)) = (from, to) else {
                ok = false;
                continue;
            };
            let what = format!("transport lane {from} -> {to}");
            for p in Product::ALL {
                let Some(vn) = lf.get(p.name()) else { continue };
                match r.number(vn, &format!("{what} {}", p.name()), Range01::NonNeg) {
                    Some(v) => {
                        let key = (from.clone(), to.clone(), p.index());
                        if let Some(first) = given.get(&key) {
                            r.error(
                                &vn.span,
                                format!(
                                    "{what} {}: the {} cost of this lane is already given at {}",
                                    p.name(),
                                    p.name(),
                                    first.location()
                                ),
                            );
                            ok = false;
                        } else {
                            given.insert(key, vn.span.clone());
                        }
                        transport
                            .lanes
                            .entry((from.clone(), to.clone()))
                            .or_insert([None; 3])[p.index()] = Some(v);
                    }
                    None => ok = false,
                }
            }
        }
    }
    ok.then_some(transport)
}
