//! From the spanned TOML tree to a checked [`Plan`]: every rule of
//! PLAN_FORMAT.md is enforced here, once, and every problem is reported with
//! the file, line, column and field it concerns.

use std::collections::HashMap;

mod instruments;
mod sections;

use super::schema::{self, Bounds, Field, Ty};
use super::tree::{Key, Node, Table, Value};
use super::*;
use crate::error::{Diagnostic, Span};

/// A plan may span at most this many years (guards against absurd horizons).
pub const MAX_HORIZON_YEARS: i64 = 500;

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
        _ => schema::names(schema::fields(section)),
    }
}

struct Reader {
    diags: Vec<Diagnostic>,
    /// The codes `[plan] regions` declares: countries beside ISO 3166-1.
    regions: Vec<String>,
}

/// A table being read: which keys it has, which were used.
struct Fields<'a> {
    table: &'a Table,
    span: &'a Span,
    /// How messages name this table: `mine "mp"`, `[plan]`.
    what: String,
    /// The format's definition of this table's fields (`schema.rs`).
    schema: &'static [Field],
}

impl<'a> Fields<'a> {
    fn get(&self, key: &str) -> Option<&'a Node> {
        self.table.get(key)
    }

    fn field(&self, key: &str) -> String {
        format!("{} {}", self.what, key)
    }

    fn ty(&self, key: &str) -> Option<Ty> {
        schema::field(self.schema, key).map(|f| f.ty)
    }

    /// The bounds the format gives the numbers of `key`. The reader asks
    /// only for numeric fields of the table (every one is exercised by
    /// tests/schema.rs), so a miss is a bug here, not in the plan.
    fn bounds(&self, key: &str) -> Bounds {
        self.ty(key)
            .and_then(Ty::bounds)
            .unwrap_or_else(|| panic!("{}: {key} is not a number of the field table", self.what))
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

    /// Open a table of kind `section` (`mine`, `expand`, …), its keys and
    /// fields from the field table.
    fn table<'a>(&mut self, node: &'a Node, what: &str, section: &str) -> Option<Fields<'a>> {
        self.open(node, what, &known_keys(section), schema::fields(section))
    }

    /// Open a table of `fields`, reporting keys not `allowed` (with a "did
    /// you mean").
    fn open<'a>(
        &mut self,
        node: &'a Node,
        what: &str,
        allowed: &[&str],
        fields: &'static [Field],
    ) -> Option<Fields<'a>> {
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
            schema: fields,
        })
    }

    fn unknown_key(&mut self, key: &Key, what: &str, allowed: &[&str]) {
        let hint = match closest(&key.name, allowed) {
            Some(c) => format!(" (did you mean \"{c}\"?)"),
            None => format!(" (expected one of: {})", allowed.join(", ")),
        };
        self.error(
            &key.span,
            format!("{what}: unknown key {:?}{hint}", key.name),
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
            // Names and notes are echoed to terminals, Markdown and HTML: a
            // control character (an escape sequence, NUL, a line break)
            // would reach them raw, so no string of a plan holds one.
            Value::Str(s) if s.chars().any(crate::error::is_unsafe_char) => {
                self.error(
                    &node.span,
                    format!(
                        "{what} = {s:?}: {} in a plan's strings",
                        crate::error::UNSAFE_CHARS
                    ),
                );
                None
            }
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
        // Control characters are refused by `string` already.
        if !countries::is_iso(&s) && !self.regions.contains(&s) {
            let hint = match countries::suggestion(&s) {
                Some(code) => format!(" (did you mean \"{code}\"?)"),
                None if countries::is_region_form(&s) => format!(
                    " (if it is a region of this plan, declare it: [plan] regions = [\"{s}\"])"
                ),
                None => String::new(),
            };
            self.error(
                &node.span,
                format!(
                    "{what} = {s:?}: expected an ISO 3166-1 alpha-2 country code such as \"CN\" or \"US\", or a code declared in [plan] regions{hint}"
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

    /// An integer `key` of `f`, at least the minimum its field gives.
    fn integer_at_least(&mut self, f: &Fields, key: &str, node: &Node) -> Option<i64> {
        let v = self.integer(node, &f.field(key))?;
        let Some(Ty::IntegerAtLeast { min, unit }) = f.ty(key) else {
            panic!("{}: {key} is not an integer with a minimum", f.what);
        };
        if v < min {
            self.error(
                &node.span,
                format!("{} = {v}: must be at least {min} ({unit})", f.field(key)),
            );
            return None;
        }
        Some(v)
    }

    /// A finite number within `bounds` (a field's, from the field table).
    fn number(&mut self, node: &Node, what: &str, bounds: Bounds) -> Option<f64> {
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
        if let Some(problem) = bounds.problem(v) {
            self.error(&node.span, format!("{what} = {}: {problem}", node.show()));
            return None;
        }
        Some(v)
    }

    /// An optional number `key` of `f`; its bounds and its default when left
    /// out are the field table's.
    fn opt_number(&mut self, f: &Fields, key: &str) -> Option<f64> {
        match f.get(key) {
            Some(node) => self.number(node, &f.field(key), f.bounds(key)),
            None => Some(schema::default_of(f.schema, key)),
        }
    }

    /// An optional per-year value `key` of `f`, the same way.
    fn opt_year_value_or_default(&mut self, f: &Fields, key: &str) -> Option<YearValue> {
        match f.get(key) {
            Some(node) => self.year_value(node, &f.field(key), f.bounds(key)),
            None => Some(YearValue::Constant(schema::default_of(f.schema, key))),
        }
    }

    /// A number or a `{ year = number }` table.
    fn year_value(&mut self, node: &Node, what: &str, bounds: Bounds) -> Option<YearValue> {
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
                    match self.number(value, &format!("{what} {year}"), bounds) {
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
                self.number(node, what, bounds).map(YearValue::Constant)
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
        bounds: Bounds,
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
            match self.number(value, &format!("{what} {}", key.name), bounds) {
                Some(v) if self.resolvable(value, &format!("{what} {}", key.name), v) => out[e] = v,
                _ => ok = false,
            }
        }
        ok.then_some(out)
    }

    /// Grades, recoveries and recipes are coefficients of the LP's matrix,
    /// which HiGHS treats as 0 below a threshold: a nonzero one under
    /// [`schema::MIN_COEFFICIENT`] (and so a product of two, under 1e-12) is
    /// refused rather than silently dropped (fuzzing: grade 1e-9 made a
    /// feasible plan "infeasible").
    pub fn resolvable(&mut self, node: &Node, what: &str, v: f64) -> bool {
        if v != 0.0 && v.abs() < schema::MIN_COEFFICIENT {
            self.error(
                &node.span,
                format!(
                    "{what} = {}: must be 0 or at least {} (a smaller amount per t is below what the solver resolves)",
                    node.show(),
                    schema::MIN_COEFFICIENT
                ),
            );
            return false;
        }
        true
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
/// applies only to cross-border shipments, so it is never charged; a tariff
/// or embargo whose country has no facility (or market) never matches a
/// shipment; a concern list that names no country with a facility makes
/// every share rule trivially met.
pub fn warnings(root: &Node) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let Value::Table(table) = &root.value else {
        return out;
    };
    countries_matching_nothing(table, &mut out);
    duties_above_value(table, &mut out);
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

/// A tariff whose `ad_valorem` is above 1 charges more than the product is
/// worth: almost always a percentage written where a share was meant
/// (`25` for 25 %). Valid, so a warning.
fn duties_above_value(table: &Table, out: &mut Vec<Diagnostic>) {
    let Some(Node {
        value: Value::Array(items),
        ..
    }) = table.get("tariff")
    else {
        return;
    };
    for (i, node) in items.iter().enumerate() {
        let Value::Table(t) = &node.value else {
            continue;
        };
        let Some(n) = t.get("ad_valorem") else {
            continue;
        };
        let v = match n.value {
            Value::Float(v) => v,
            Value::Int(v) => v as f64,
            _ => continue,
        };
        if v > 1.0 {
            out.push(Diagnostic {
                span: Some(n.span.clone()),
                message: format!(
                    "{}: ad_valorem = {v} charges {}% of the product's value; a share is written as a fraction (0.25 for 25 %)",
                    entry_name("tariff", node, i),
                    v * 100.0
                ),
            });
        }
    }
}

/// The `country` of every entry of the arrays `kinds`.
fn countries_of(table: &Table, kinds: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for kind in kinds {
        if let Some(Node {
            value: Value::Array(items),
            ..
        }) = table.get(kind)
        {
            for item in items {
                if let Value::Table(t) = &item.value {
                    if let Some(Node {
                        value: Value::Str(c),
                        ..
                    }) = t.get("country")
                    {
                        out.push(c.clone());
                    }
                }
            }
        }
    }
    out
}

/// Tariffs, embargoes and the concern list that name a country where the
/// plan has nothing: they silently do nothing, which is rarely what was meant.
fn countries_matching_nothing(table: &Table, out: &mut Vec<Diagnostic>) {
    const FACILITIES: &[&str] = &[
        "mine",
        "refinery",
        "magnet_plant",
        "stockpile",
        "metal_plant",
        "recycler",
    ];
    let facilities = countries_of(table, FACILITIES);
    // Who ships and who receives each product across a border.
    let ends = |product: &str| -> (Vec<String>, Vec<String>, &'static str, &'static str) {
        let (from, to, from_what, to_what): (&[&str], &[&str], _, _) = match product {
            "concentrate" => (&["mine"], &["refinery"], "no mine", "no refinery"),
            "oxide" => (
                &["refinery", "recycler"],
                &["magnet_plant", "metal_plant", "stockpile"],
                "no refinery or recycler",
                "no magnet plant, metal plant or stockpile",
            ),
            "metal" => (
                &["metal_plant"],
                &["magnet_plant", "stockpile"],
                "no metal plant",
                "no magnet plant or stockpile",
            ),
            "magnet" => (
                &["magnet_plant"],
                &["market", "stockpile"],
                "no magnet plant",
                "no market or stockpile",
            ),
            "scrap" => (
                &["magnet_plant", "market"],
                &["recycler"],
                "no magnet plant or market",
                "no recycler",
            ),
            _ => (
                FACILITIES,
                FACILITIES,
                "no facility",
                "no facility or market",
            ),
        };
        let mut to_countries = countries_of(table, to);
        if !matches!(
            product,
            "concentrate" | "oxide" | "metal" | "magnet" | "scrap"
        ) {
            to_countries.extend(countries_of(table, &["market"]));
        }
        (countries_of(table, from), to_countries, from_what, to_what)
    };
    for kind in ["tariff", "embargo"] {
        let Some(Node {
            value: Value::Array(items),
            ..
        }) = table.get(kind)
        else {
            continue;
        };
        for (i, node) in items.iter().enumerate() {
            let Value::Table(t) = &node.value else {
                continue;
            };
            let product = match t.get("product") {
                Some(Node {
                    value: Value::Str(p),
                    ..
                }) => p.as_str(),
                _ => "*",
            };
            let (senders, receivers, from_what, to_what) = ends(product);
            for (side, known, what) in [("from", &senders, from_what), ("to", &receivers, to_what)]
            {
                if let Some(
                    n @ Node {
                        value: Value::Str(c),
                        ..
                    },
                ) = t.get(side)
                {
                    if c != "*" && !known.contains(c) {
                        out.push(Diagnostic {
                            span: Some(n.span.clone()),
                            message: format!(
                                "{}: {side} = {c:?}, but the plan has {what} in {c:?}, so it matches no shipment",
                                entry_name(kind, node, i)
                            ),
                        });
                    }
                }
            }
        }
    }
    if let Some(Node {
        value: Value::Table(plan),
        ..
    }) = table.get("plan")
    {
        if let Some(
            n @ Node {
                value: Value::Array(codes),
                ..
            },
        ) = plan.get("concern")
        {
            let named: Vec<&str> = codes
                .iter()
                .filter_map(|c| match &c.value {
                    Value::Str(s) => Some(s.as_str()),
                    _ => None,
                })
                .collect();
            if !named.is_empty() && !named.iter().any(|c| facilities.iter().any(|f| f == c)) {
                out.push(Diagnostic {
                    span: Some(n.span.clone()),
                    message: format!(
                        "[plan] concern = [{}]: the plan has no facility in any of these countries, so every share rule is met by every tonne",
                        named.iter().map(|c| format!("{c:?}")).collect::<Vec<_>>().join(", ")
                    ),
                });
            }
        }
    }
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
    let mut r = Reader {
        diags: Vec::new(),
        regions: Vec::new(),
    };
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
    let top = r.open(root, "plan file", &known_keys(""), &[])?;
    let root_table = top.table;

    let header = sections::read_header(r, root, root_table, default_name)?;
    let sections::Header {
        name,
        first_year,
        last_year,
        objective,
        currency,
        discount_rate,
        concern,
        objective_span,
    } = header;
    let horizon = Horizon {
        first: first_year.unwrap_or(0),
    };
    let elements = sections::read_elements(r, root, root_table);
    let (concentrate_price, magnet_price) = sections::read_prices(r, root_table);
    // Facilities, markets and stockpiles share one id namespace.
    let mut ids = sections::Ids::default();
    let mines = sections::read_mines(r, root_table, &horizon, &elements, &mut ids);
    let refineries = sections::read_refineries(r, root_table, &horizon, &elements, &mut ids);
    let plants = sections::read_plants(r, root_table, &horizon, &elements, &mut ids);
    let markets = sections::read_markets(r, root_table, &mut ids);
    let transport = read_transport(r, root_table);
    let tariffs = sections::read_tariffs(r, root_table, &elements, concentrate_price, magnet_price);
    let embargoes = sections::read_embargoes(r, root_table, &elements);
    let share_rules = sections::read_share_rules(r, root_table, &markets, &ids);
    let resilience = sections::read_resilience(r, root_table, &markets);
    let disruptions =
        sections::read_disruptions(r, root_table, &mines, &refineries, &plants, &markets);
    let mut ids = ids.0;

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
        r.error(
            &objective_span,
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
        .and_then(|n| r.year_value(n, &f.field("capacity"), f.bounds("capacity")));
    let cost = r.opt_year_value_or_default(f, "cost");
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
                match r.number(item, &f.field("ramp"), f.bounds("ramp")) {
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
    let rates = schema::PRODUCT_RATES;
    let f = r.open(node, what, &schema::names(rates), rates)?;
    let mut out = [0.0; 3];
    let mut ok = true;
    for p in Product::ALL {
        match r.opt_number(&f, p.name()) {
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
    let f = r.table(node, "[transport]", "transport")?;
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
            let Some(lf) = r.table(item, &what, "lane") else {
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
                match r.number(vn, &format!("{what} {}", p.name()), lf.bounds(p.name())) {
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
