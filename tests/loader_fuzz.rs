//! The loader never panics: valid plans are mutated at random (lines dropped
//! or duplicated, values swapped for other types or absurd numbers, stray
//! characters, deep nesting, absurd years, huge ramps) and fed to the library
//! loader. Whatever it returns, Ok or Err, it must return; when it accepts a
//! plan (or one of its scenarios), formulating that plan must be quick.
//!
//! The RNG seed is fixed so the suite is deterministic; to explore further,
//! set `LOADER_FUZZ_SEED` and `LOADER_FUZZ_CASES` in the environment.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, RngSeed};
use reeplan::{Plan, PlanSource};

const SEED: u64 = 0x5eed_2026;
const CASES: u32 = 256;

/// Formulating any accepted plan must take less than this, even in a debug
/// build on a busy machine (the horizon is capped, the plans are small).
const FORMULATE_LIMIT: Duration = Duration::from_secs(20);

/// A richer plan: two elements, prices, tariffs (with ids, wildcards, an
/// element, years), an embargo, a share rule with a year table, lanes, a
/// disruption, ramps, online/closes and two scenarios.
const RICH: &str = r#"[plan]
name = "rich"
first_year = 2026
last_year = 2030
discount_rate = 0.05
concern = ["CN", "RU"]
version = 1

[elements.NdPr]
price = 60000

[elements.Dy]
price = 300000

[prices]
concentrate = 5000
magnet = 80000

[[mine]]
id = "mp"
name = "Mountain Pass"
country = "US"
capacity = { 2026 = 1000, 2030 = 3000 }
cost = 2500
grade = { NdPr = 0.18, Dy = 0.002 }

[[mine]]
id = "bayan"
country = "CN"
capacity = 5000
cost = 1500
grade = { NdPr = 0.2, Dy = 0.01 }

[[mine]]
id = "lynas-mine"
country = "AU"
capacity = 2000
cost = 2200
online = 2027
ramp = [0.3, 0.7]
closes = 2040
grade = { NdPr = 0.22, Dy = 0.004 }

[[refinery]]
id = "lynas-my"
country = "MY"
capacity = 4000
cost = 4000
recovery = { NdPr = 0.95, Dy = 0.9 }

[[refinery]]
id = "baotou"
country = "CN"
capacity = 10000
cost = 3000
recovery = 0.92

[[magnet_plant]]
id = "us-plant"
country = "US"
capacity = { 2026 = 200, 2028 = 800 }
cost = 35000
recipe = { NdPr = 0.3, Dy = 0.02 }

[[magnet_plant]]
id = "cn-plant"
country = "CN"
capacity = 5000
cost = 20000
recipe = { NdPr = 0.3, Dy = 0.03 }

[[market]]
id = "us"
country = "US"
demand = { 2026 = 300, 2030 = 900 }
unmet_penalty = 1000000

[[market]]
id = "eu"
name = "Europe"
country = "DE"
demand = 500
unmet_penalty = 1000000

[transport]
domestic = { concentrate = 10, oxide = 20, magnet = 30 }
cross_border = { concentrate = 100, oxide = 200, magnet = 300 }

[[transport.lane]]
from = "AU"
to = "MY"
concentrate = 40

[[transport.lane]]
from = "AU"
to = "MY"
oxide = 5

[[tariff]]
id = "us-magnets"
product = "magnet"
from = "CN"
to = "US"
ad_valorem = 0.25
years = [2027, 2035]

[[tariff]]
product = "oxide"
element = "Dy"
from = "*"
to = "US"
per_tonne = 1000

[[embargo]]
id = "cn-dy"
product = "*"
element = "Dy"
from = "CN"
to = "*"
years = [2028, 2030]

[[share_rule]]
id = "us-clean"
markets = ["us"]
stages = ["mining", "refining"]
min_share = { 2026 = 0.1, 2030 = 0.5 }
years = [2026, 2030]

[resilience]
budget = 0.2
reserve_cost = 0.1

[[disruption]]
id = "cn-ban"
description = "China stops exports"
exports_from = ["CN"]
countries = ["RU"]
facilities = ["lynas-my"]
capacity_factor = 0.5
years = [2028, 2029]

[scenario.no-lynas]
description = "Lynas never opens"
remove = ["lynas-mine"]

[scenario.resilient.plan]
objective = "max-resilience"

[[scenario.resilient.market]]
id = "us"
demand = 400

[[scenario.resilient.transport.lane]]
from = "AU"
to = "MY"
oxide = 6
"#;

/// Values of other types and absurd magnitudes to put where a value stood.
const REPLACEMENTS: &[&str] = &[
    "\"text\"",
    "\"\"",
    "\"*\"",
    "1.5",
    "7",
    "0",
    "-1",
    "-0.0",
    "1e308",
    "-1e308",
    "5e-324",
    "2026.5",
    "2026.0",
    "-2026",
    "9223372036854775807",
    "-9223372036854775808",
    "nan",
    "inf",
    "-inf",
    "true",
    "[]",
    "[1, 2]",
    "[2030, 2025]",
    "[-9223372036854775808, 9223372036854775807]",
    "[\"a\", 1]",
    "{}",
    "{ a = 1 }",
    "{ 2026 = 1, 9223372036854775807 = 2 }",
    "{ -9223372036854775808 = 0.5, 9223372036854775807 = 1 }",
    "{ NdPr = 1e308, Dy = 1e308 }",
    "1979-05-27T07:32:00Z",
    "[[1], [[2]]]",
];

#[derive(Clone, Debug)]
enum Mutation {
    DropLine(usize),
    DuplicateLine(usize),
    /// Replace the value of the n-th `key = value` line.
    ReplaceValue(usize, &'static str),
    /// Insert these characters at a (char) position.
    Insert(usize, String),
    /// `x = [[[...]]]` (or `{ a = { a = ... } }`) of this depth, appended at
    /// the top level or replacing a value.
    DeepNesting {
        depth: usize,
        table: bool,
        at_value: Option<usize>,
    },
    /// first_year = i64::MIN, last_year = i64::MAX (or other absurd pairs).
    AbsurdYears(i64, i64),
    /// A ramp of this many entries on the first facility.
    HugeRamp(usize, &'static str),
    /// Swap two lines.
    SwapLines(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let absurd_year = prop_oneof![
        Just(i64::MIN),
        Just(i64::MAX),
        Just(i64::MIN + 1),
        Just(i64::MAX - 1),
        Just(-1_i64),
        Just(0_i64),
        Just(-2026_i64),
        Just(2026_i64),
        Just(2525_i64),
        any::<i64>(),
    ];
    prop_oneof![
        3 => any::<usize>().prop_map(Mutation::DropLine),
        2 => any::<usize>().prop_map(Mutation::DuplicateLine),
        5 => (any::<usize>(), proptest::sample::select(REPLACEMENTS)).prop_map(|(i, v)| Mutation::ReplaceValue(i, v)),
        2 => (any::<usize>(), proptest::collection::vec(any::<char>(), 1..8))
            .prop_map(|(i, cs)| Mutation::Insert(i, cs.into_iter().collect())),
        1 => (any::<usize>(), "[\\[\\]{}=\"',.#\\n -]{1,6}").prop_map(|(i, s)| Mutation::Insert(i, s)),
        1 => (
            prop_oneof![Just(10_usize), Just(100), Just(1000), Just(10_000)],
            any::<bool>(),
            proptest::option::of(any::<usize>())
        )
            .prop_map(|(depth, table, at_value)| Mutation::DeepNesting { depth, table, at_value }),
        1 => (absurd_year.clone(), absurd_year).prop_map(|(a, b)| Mutation::AbsurdYears(a, b)),
        1 => (
            prop_oneof![Just(0_usize), Just(1), Just(1000), Just(100_000)],
            proptest::sample::select(&["0.5", "1", "0", "1.5", "-1", "nan", "\"x\""][..])
        )
            .prop_map(|(n, v)| Mutation::HugeRamp(n, v)),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
    ]
}

fn deep(depth: usize, table: bool) -> String {
    if table {
        format!("{}1{}", "{ a = ".repeat(depth), " }".repeat(depth))
    } else {
        format!("{}{}", "[".repeat(depth), "]".repeat(depth))
    }
}

/// Indices of the lines that assign a value (`key = value`).
fn value_lines(lines: &[String]) -> Vec<usize> {
    (0..lines.len())
        .filter(|&i| !lines[i].trim_start().starts_with('[') && lines[i].contains(" = "))
        .collect()
}

fn replace_value(line: &str, value: &str) -> String {
    match line.find(" = ") {
        Some(i) => format!("{} = {value}", &line[..i]),
        None => line.to_string(),
    }
}

fn apply(text: &str, m: &Mutation) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let n = lines.len().max(1);
    match m {
        Mutation::DropLine(i) => {
            if !lines.is_empty() {
                lines.remove(i % n);
            }
        }
        Mutation::DuplicateLine(i) => {
            if !lines.is_empty() {
                let l = lines[i % n].clone();
                lines.insert(i % n, l);
            }
        }
        Mutation::SwapLines(a, b) => {
            if !lines.is_empty() {
                lines.swap(a % n, b % n);
            }
        }
        Mutation::ReplaceValue(i, v) => {
            let candidates = value_lines(&lines);
            if !candidates.is_empty() {
                let k = candidates[i % candidates.len()];
                lines[k] = replace_value(&lines[k], v);
            }
        }
        Mutation::Insert(pos, s) => {
            let mut out = lines.join("\n");
            let chars = out.chars().count();
            let at = pos % (chars + 1);
            let byte = out.char_indices().nth(at).map_or(out.len(), |(b, _)| b);
            out.insert_str(byte, s);
            return out + "\n";
        }
        Mutation::DeepNesting {
            depth,
            table,
            at_value,
        } => {
            let value = deep(*depth, *table);
            let candidates = value_lines(&lines);
            match at_value {
                Some(i) if !candidates.is_empty() => {
                    let k = candidates[i % candidates.len()];
                    lines[k] = replace_value(&lines[k], &value);
                }
                _ => lines.insert(0, format!("x = {value}")),
            }
        }
        Mutation::AbsurdYears(a, b) => {
            for l in &mut lines {
                if l.starts_with("first_year = ") {
                    *l = format!("first_year = {a}");
                } else if l.starts_with("last_year = ") {
                    *l = format!("last_year = {b}");
                }
            }
        }
        Mutation::HugeRamp(len, v) => {
            let ramp = format!("ramp = [{}]", vec![*v; *len].join(", "));
            if let Some(k) = lines.iter().position(|l| l.starts_with("country = ")) {
                // Drop any ramp the facility already has (a key may appear once).
                let end = lines[k..]
                    .iter()
                    .position(|l| l.is_empty())
                    .map_or(lines.len(), |e| k + e);
                let mut i = 0;
                lines.retain(|l| {
                    let inside = (k..end).contains(&i);
                    i += 1;
                    !(inside && l.starts_with("ramp = "))
                });
                lines.insert(k + 1, ramp);
            }
        }
    }
    lines.join("\n") + "\n"
}

/// Load `text` with the library and, when it is accepted, formulate the base
/// plan and every scenario. Panics (which proptest reports) are the failure.
fn load_and_formulate(text: &str) -> Result<usize, String> {
    let source = match PlanSource::from_text(Path::new("plan.toml"), text.to_string()) {
        Ok(s) => s,
        Err(e) => {
            // Every diagnostic is printable.
            let _ = e.to_string();
            return Ok(0);
        }
    };
    let mut names: Vec<Option<String>> = vec![None];
    names.extend(source.scenarios.iter().map(|s| Some(s.name.clone())));
    let mut formulated = 0;
    for name in names {
        let plan = match source.plan(name.as_deref()) {
            Ok(p) => p,
            Err(e) => {
                // A plan accepted at load must stay accepted when selected.
                return Err(format!("accepted at load, rejected by plan({name:?}): {e}"));
            }
        };
        formulate_quickly(&plan)?;
        formulated += 1;
    }
    Ok(formulated)
}

fn formulate_quickly(plan: &Plan) -> Result<(), String> {
    let start = Instant::now();
    let f = reeplan::model::formulate(plan, Default::default());
    let took = start.elapsed();
    assert_eq!(
        f.years.len(),
        plan.num_years(),
        "one year model per year of the horizon"
    );
    if took > FORMULATE_LIMIT {
        return Err(format!(
            "formulating took {took:?} ({} years)",
            plan.num_years()
        ));
    }
    Ok(())
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn the_seed_plans_are_valid() {
    assert_eq!(load_and_formulate(common::MINIMAL), Ok(1));
    // Base plan and both scenarios.
    assert_eq!(load_and_formulate(RICH), Ok(3));
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: env_or("LOADER_FUZZ_CASES", u64::from(CASES)) as u32,
        rng_seed: RngSeed::Fixed(env_or("LOADER_FUZZ_SEED", SEED)),
        failure_persistence: None,
        max_shrink_iters: 2000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn mutated_plans_load_or_fail_cleanly(
        rich in any::<bool>(),
        mutations in proptest::collection::vec(mutation(), 1..4),
    ) {
        let mut text = if rich { RICH.to_string() } else { common::MINIMAL.to_string() };
        for m in &mutations {
            text = apply(&text, m);
        }
        if let Err(problem) = load_and_formulate(&text) {
            prop_assert!(false, "{problem}\n--- plan ---\n{}", text.chars().take(4000).collect::<String>());
        }
    }
}

// ---------------------------------------------------------------- fixed cases

/// Run `f` and fail if it takes longer than `limit`.
fn quickly<T>(limit: Duration, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    assert!(start.elapsed() < limit, "took {:?}", start.elapsed());
    out
}

#[test]
fn the_widest_possible_horizon_is_rejected_quickly() {
    let text = common::MINIMAL
        .replace("first_year = 2026", "first_year = -9223372036854775808")
        .replace("last_year = 2026", "last_year = 9223372036854775807");
    let result = quickly(Duration::from_secs(5), || {
        PlanSource::from_text(Path::new("plan.toml"), text).and_then(|s| s.plan(None))
    });
    let err = result.expect_err("a horizon of 2^64 years is an error");
    assert!(err.to_string().contains("last_year"), "{err}");
}

#[test]
fn extreme_but_short_horizons_load() {
    for (a, b) in [
        (i64::MIN, i64::MIN),
        (i64::MAX, i64::MAX),
        (i64::MAX - 3, i64::MAX),
        (-5, 5),
    ] {
        let text = common::MINIMAL
            .replace("first_year = 2026", &format!("first_year = {a}"))
            .replace("last_year = 2026", &format!("last_year = {b}"));
        let plan = quickly(Duration::from_secs(5), || {
            PlanSource::from_text(Path::new("plan.toml"), text).and_then(|s| s.plan(None))
        })
        .unwrap_or_else(|e| panic!("[{a}, {b}]: {e}"));
        formulate_quickly(&plan).unwrap();
    }
}

#[test]
fn extreme_years_everywhere_do_not_panic() {
    let text = common::MINIMAL
        .replace("first_year = 2026", "first_year = 9223372036854775806")
        .replace("last_year = 2026", "last_year = 9223372036854775807")
        .replace(
            "cost = 2000",
            "cost = { -9223372036854775808 = 1, 9223372036854775807 = 2 }\nonline = -9223372036854775808\nramp = [0.5]\ncloses = 9223372036854775807",
        )
        .replace("demand = 100", "demand = { 9223372036854775807 = 100, -9223372036854775808 = 0 }")
        + "\n[[tariff]]\nproduct = \"magnet\"\nfrom = \"*\"\nto = \"*\"\nper_tonne = 1\nyears = [-9223372036854775808, 9223372036854775807]\n";
    let plan = PlanSource::from_text(Path::new("plan.toml"), text)
        .and_then(|s| s.plan(None))
        .unwrap_or_else(|e| panic!("{e}"));
    formulate_quickly(&plan).unwrap();
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    for table in [false, true] {
        let text = format!("{}x = {}\n", common::MINIMAL, deep(10_000, table));
        let result = PlanSource::from_text(Path::new("plan.toml"), text);
        assert!(result.is_err());
    }
    // Deep dotted keys and table headers too.
    let text = format!(
        "[{}]\nx = 1\n{}",
        vec!["a"; 10_000].join("."),
        common::MINIMAL
    );
    assert!(PlanSource::from_text(Path::new("plan.toml"), text).is_err());
}

#[test]
fn a_huge_ramp_loads() {
    let ramp = vec!["0.5"; 200_000].join(", ");
    let text = common::MINIMAL.replace("cost = 2000", &format!("cost = 2000\nramp = [{ramp}]"));
    let plan = quickly(Duration::from_secs(20), || {
        PlanSource::from_text(Path::new("plan.toml"), text).and_then(|s| s.plan(None))
    })
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plan.mines[0].facility.effective_capacity(2026), 500.0);
    formulate_quickly(&plan).unwrap();
}

#[test]
fn the_longest_allowed_horizon_formulates_quickly() {
    let text = RICH.replace(
        "last_year = 2030",
        &format!(
            "last_year = {}",
            2026 + reeplan::plan::MAX_HORIZON_YEARS - 1
        ),
    );
    let source =
        PlanSource::from_text(Path::new("plan.toml"), text).unwrap_or_else(|e| panic!("{e}"));
    let plan = source.plan(None).unwrap();
    assert_eq!(plan.num_years() as i64, reeplan::plan::MAX_HORIZON_YEARS);
    formulate_quickly(&plan).unwrap();
}

// ---------------------------------------------------------------- solve path

/// Solve every plan (and scenario) the loader accepts: HiGHS must never
/// reject the LP ("HiGHS rejected passLp"): every number the loader lets
/// through fits the solver (docs/reliability.md). A long run:
/// `SOLVE_FUZZ_CASES=20000 cargo test --test loader_fuzz mutated_plans_solve_cleanly`.
fn load_and_solve(text: &str) -> Result<usize, String> {
    let Ok(source) = PlanSource::from_text(Path::new("plan.toml"), text.to_string()) else {
        return Ok(0);
    };
    let mut names: Vec<Option<String>> = vec![None];
    names.extend(source.scenarios.iter().map(|s| Some(s.name.clone())));
    let options = reeplan::solve::SolverOptions {
        threads: Some(1),
        time_limit: Some(20.0),
        ..Default::default()
    };
    let mut solved = 0;
    for name in names {
        let plan = source
            .plan(name.as_deref())
            .map_err(|e| format!("accepted at load, rejected by plan({name:?}): {e}"))?;
        match reeplan::solve_plan(&plan, &options) {
            Ok(_) => solved += 1,
            Err(e @ reeplan::Error::Solver(_)) => {
                return Err(format!("{name:?}: {e}"));
            }
            Err(_) => {}
        }
    }
    Ok(solved)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: env_or("SOLVE_FUZZ_CASES", 24) as u32,
        rng_seed: RngSeed::Fixed(env_or("LOADER_FUZZ_SEED", SEED)),
        failure_persistence: None,
        max_shrink_iters: 200,
        ..ProptestConfig::default()
    })]

    #[test]
    fn mutated_plans_solve_cleanly(
        rich in any::<bool>(),
        mutations in proptest::collection::vec(mutation(), 1..3),
    ) {
        let mut text = if rich { RICH.to_string() } else { common::MINIMAL.to_string() };
        for m in &mutations {
            text = apply(&text, m);
        }
        if let Err(problem) = load_and_solve(&text) {
            prop_assert!(false, "{problem}\n--- plan ---\n{}", text.chars().take(4000).collect::<String>());
        }
    }
}

// ---------------------------------------------------------------- a long loader run

/// Cheap text mutations of the seed plans, fed to the loader only (no
/// formulation), so that a million inputs take minutes, not hours:
/// characters inserted (TOML punctuation, digits, control and non-ASCII
/// characters), spans deleted, lines duplicated, numbers replaced by
/// extreme ones. Every input must return Ok or Err, and every error must
/// print. `BYTE_FUZZ_CASES` sets the count (default 2000 here; the recorded
/// long run: `BYTE_FUZZ_CASES=1000000 cargo test --test loader_fuzz
/// byte_mutations_never_panic_the_loader -- --nocapture`).
#[test]
fn byte_mutations_never_panic_the_loader() {
    let cases = env_or("BYTE_FUZZ_CASES", 2000);
    let mut x = env_or("LOADER_FUZZ_SEED", SEED) | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    const ALPHABET: &[&str] = &[
        "[",
        "]",
        "{",
        "}",
        "=",
        "\"",
        "'",
        ",",
        ".",
        "#",
        "\n",
        " ",
        "-",
        "+",
        "e",
        "0",
        "9",
        "1e308",
        "-1",
        "nan",
        "inf",
        "\u{0}",
        "\u{7f}",
        "\t",
        "é",
        "\u{feff}",
        "\\",
        "_",
        "*",
        "[[mine]]\n",
        "[data]\n",
        "1e15",
        "2026",
        "true",
        "\"\"",
    ];
    let seeds = [common::MINIMAL, RICH];
    let start = Instant::now();
    let (mut accepted, mut rejected) = (0u64, 0u64);
    for case in 0..cases {
        let mut text = seeds[(next() % 2) as usize].to_string();
        for _ in 0..1 + next() % 3 {
            let len = text.len().max(1);
            let mut at = (next() as usize) % len;
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            match next() % 4 {
                0 | 1 => text.insert_str(at, ALPHABET[(next() as usize) % ALPHABET.len()]),
                2 => {
                    let mut end = (at + 1 + (next() as usize) % 40).min(text.len());
                    while !text.is_char_boundary(end) {
                        end += 1;
                    }
                    text.replace_range(at..end, "");
                }
                _ => {
                    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
                    let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i + 1);
                    let line = text[line_start..line_end].to_string();
                    text.insert_str(line_start, &line);
                }
            }
        }
        let result = std::panic::catch_unwind(|| {
            match PlanSource::from_text(Path::new("plan.toml"), text.clone()) {
                Ok(_) => true,
                Err(e) => {
                    let _ = e.to_string();
                    false
                }
            }
        });
        match result {
            Ok(true) => accepted += 1,
            Ok(false) => rejected += 1,
            Err(_) => panic!("case {case}: the loader panicked on:\n{text}"),
        }
    }
    eprintln!(
        "{cases} inputs ({accepted} accepted, {rejected} rejected) in {:.1?}",
        start.elapsed()
    );
}
