//! Synthetic plans of any size, for tests and benchmarks.
//!
//! [`generate_plan`] writes the TOML of a valid plan with the structure of
//! the real supply chain: mining spread over many countries, separation and
//! magnet making concentrated in China, concern countries CN and RU, tariffs
//! (one of them a wildcard), an embargo, facilities that come online later
//! and ramp up, growing demand and two share rules. Every market has an
//! `unmet_penalty`, so every generated plan is feasible. The same parameters
//! always give the same text: the numbers come from a small self-contained
//! PRNG (splitmix64), not from the platform.

use std::fmt::Write;

/// How big a plan to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GenerateParams {
    pub mines: usize,
    pub refineries: usize,
    pub plants: usize,
    pub markets: usize,
    pub years: usize,
    /// Number of elements tracked, 1 to [`ELEMENTS`]`.len()`.
    pub elements: usize,
    pub seed: u64,
}

impl Default for GenerateParams {
    fn default() -> Self {
        GenerateParams {
            mines: 300,
            refineries: 150,
            plants: 300,
            markets: 40,
            years: 20,
            elements: 3,
            seed: 7,
        }
    }
}

/// The most facilities and markets a generated plan may have, all together
/// (about 30 MB of TOML, below what `check` reads: see `fsio::MAX_INPUT_BYTES`).
pub const MAX_ENTITIES: usize = 100_000;

impl GenerateParams {
    /// Whether the plan is small enough to write (and read back); checked
    /// before anything is allocated.
    pub fn check(&self) -> Result<(), String> {
        let total = [self.mines, self.refineries, self.plants, self.markets]
            .iter()
            .try_fold(0usize, |a, &b| a.checked_add(b));
        match total {
            Some(n) if n <= MAX_ENTITIES => Ok(()),
            _ => Err(format!(
                "{} mines + {} refineries + {} plants + {} markets is more than the {MAX_ENTITIES} facilities and markets a generated plan may have",
                self.mines, self.refineries, self.plants, self.markets
            )),
        }
    }
}

/// An element a generated plan can track.
#[derive(Clone, Copy, Debug)]
pub struct ElementSpec {
    pub name: &'static str,
    /// Reference price per t oxide.
    pub price: f64,
    /// Range of mine grades, t oxide per t REO.
    pub grade: (f64, f64),
    /// Range of recipe needs, t oxide per t magnet.
    pub recipe: (f64, f64),
}

/// The elements a generated plan can track, in this order.
pub const ELEMENTS: &[ElementSpec] = &[
    element("NdPr", 60_000.0, (0.12, 0.25), (0.28, 0.31)),
    element("Dy", 350_000.0, (0.002, 0.02), (0.01, 0.04)),
    element("Tb", 1_200_000.0, (0.0005, 0.004), (0.002, 0.01)),
    element("Ho", 80_000.0, (0.0005, 0.003), (0.001, 0.005)),
    element("Gd", 40_000.0, (0.002, 0.01), (0.002, 0.01)),
];

const fn element(
    name: &'static str,
    price: f64,
    grade: (f64, f64),
    recipe: (f64, f64),
) -> ElementSpec {
    ElementSpec {
        name,
        price,
        grade,
        recipe,
    }
}

/// First year of every generated plan.
pub const FIRST_YEAR: i64 = 2026;

/// Countries per stage with relative weights: China dominates separation and
/// magnet making, mining is more spread out.
const MINE_COUNTRIES: &[(&str, u32)] = &[
    ("CN", 30),
    ("AU", 12),
    ("US", 8),
    ("MM", 8),
    ("RU", 6),
    ("BR", 5),
    ("VN", 4),
    ("CA", 5),
    ("GL", 2),
    ("ZA", 3),
    ("IN", 4),
    ("TZ", 3),
];
const REFINERY_COUNTRIES: &[(&str, u32)] = &[
    ("CN", 50),
    ("MY", 8),
    ("US", 6),
    ("EE", 3),
    ("RU", 5),
    ("JP", 5),
    ("FR", 4),
    ("AU", 5),
    ("VN", 4),
    ("IN", 3),
];
const PLANT_COUNTRIES: &[(&str, u32)] = &[
    ("CN", 55),
    ("JP", 12),
    ("DE", 5),
    ("US", 6),
    ("VN", 5),
    ("KR", 5),
    ("RU", 3),
    ("IN", 3),
    ("SI", 2),
    ("GB", 2),
];
const MARKET_COUNTRIES: &[&str] = &[
    "US", "DE", "JP", "CN", "KR", "FR", "IN", "GB", "IT", "MX", "BR", "VN", "PL", "ES", "TR", "TH",
    "CA", "SE", "CZ", "HU",
];
/// The markets the refining-only share rule pools.
const ALLIED_MARKETS: &[&str] = &["US", "JP", "KR", "GB", "CA"];

/// splitmix64: tiny, fast, and the same on every platform.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn range(&mut self, (lo, hi): (f64, f64)) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn below(&mut self, n: usize) -> usize {
        (self.unit() * n as f64) as usize
    }

    fn weighted<'a>(&mut self, choices: &[(&'a str, u32)]) -> &'a str {
        let total: u32 = choices.iter().map(|c| c.1).sum();
        let mut pick = (self.unit() * f64::from(total)) as u32;
        for &(c, w) in choices {
            if pick < w {
                return c;
            }
            pick -= w;
        }
        choices[choices.len() - 1].0
    }
}

/// Write the TOML text of a synthetic plan.
///
/// # Panics
/// If a count is 0 or `elements` is outside `1..=ELEMENTS.len()`; the command
/// line checks these first.
pub fn generate_plan(p: &GenerateParams) -> String {
    generate_plan_with(p, None)
}

/// What `reeplan generate --instruments` adds: build candidates (`expand`,
/// some of them greenfield at `capacity = 0`), captive and offtake
/// contracts, production credits and stockpiles. Drawn from their own
/// random stream, so the rest of the plan is the same as without them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Instruments {
    /// Give a third of the build candidates a `min_build` (a MIP).
    pub lumpy: bool,
}

/// Countries where generated build candidates and credits sit.
const BUILD_COUNTRIES: &[&str] = &["US", "AU", "CA", "JP", "DE", "FR", "EE", "MY"];

/// An `expand` line for a facility whose typical capacity is `typical`
/// (t/yr) and whose capex per t/yr lies in `capex`.
fn expand_line(
    rng: &mut Rng,
    typical: f64,
    capex: (f64, f64),
    first: i64,
    last: i64,
    lumpy: bool,
) -> String {
    let max = (typical * rng.range((0.3, 1.2))).round().max(1.0);
    let capex = rng.range(capex).round();
    let earliest = first + rng.below(((last - first) as usize / 2).max(1) + 1) as i64;
    let lifetime = 15 + rng.below(11);
    let fixed = (0.02 * capex).round();
    let mut line = format!(
        "expand = {{ capex = {capex}, max = {max}, earliest = {earliest}, lifetime = {lifetime}, fixed_cost = {fixed}"
    );
    if lumpy && rng.chance(1.0 / 3.0) {
        line.push_str(&format!(", min_build = {}", (0.5 * max).round().max(1.0)));
    }
    line.push_str(" }");
    line
}

/// As [`generate_plan`], with the instruments of the investment, contract,
/// subsidy and stockpile sections when `instruments` is given.
pub fn generate_plan_with(p: &GenerateParams, instruments: Option<Instruments>) -> String {
    assert!(p.mines > 0 && p.refineries > 0 && p.plants > 0 && p.markets > 0 && p.years > 0);
    assert!((1..=ELEMENTS.len()).contains(&p.elements));
    let mut rng = Rng(p.seed);
    let mut irng = Rng(p.seed ^ 0x5eed_1257_0000_0001);
    let lumpy = instruments.is_some_and(|i| i.lumpy);
    let elements = &ELEMENTS[..p.elements];
    let first = FIRST_YEAR;
    let last = first + p.years as i64 - 1;
    let mid = first + (p.years as i64 - 1) / 2;
    let mut s = String::with_capacity(400 * (p.mines + p.refineries + p.plants + p.markets) + 4000);
    // Writing to a String cannot fail; `w!` keeps the lines short.
    macro_rules! w {
        ($($arg:tt)*) => { let _ = writeln!(s, $($arg)*); };
    }

    w!("# Synthetic plan written by `reeplan generate`:");
    w!(
        "#   --mines {} --refineries {} --plants {} --markets {} --years {} --elements {} --seed {}",
        p.mines,
        p.refineries,
        p.plants,
        p.markets,
        p.years,
        p.elements,
        p.seed
    );
    w!("[plan]");
    w!("name = \"synthetic (seed {})\"", p.seed);
    w!("first_year = {first}");
    w!("last_year = {last}");
    w!("discount_rate = 0.05");
    w!("concern = [\"CN\", \"RU\"]");
    w!();
    for e in elements {
        w!("[elements.{}]", e.name);
        w!("price = {}", e.price);
    }
    w!();
    w!("[prices]");
    w!("concentrate = 8000");
    w!("magnet = 70000");
    w!();
    w!("[transport]");
    w!("domestic = {{ concentrate = 25, oxide = 40, magnet = 60 }}");
    w!("cross_border = {{ concentrate = 120, oxide = 250, magnet = 450 }}");
    for (from, to, product, cost) in [
        ("AU", "MY", "concentrate", 70),
        ("AU", "CN", "concentrate", 90),
        ("MM", "CN", "concentrate", 40),
        ("US", "CN", "concentrate", 150),
        ("CN", "JP", "oxide", 120),
        ("MY", "JP", "oxide", 140),
        ("CN", "US", "magnet", 700),
        ("JP", "US", "magnet", 600),
    ] {
        w!();
        w!("[[transport.lane]]");
        w!("from = \"{from}\"");
        w!("to = \"{to}\"");
        w!("{product} = {cost}");
    }
    w!();

    // Tariffs: a section-301-style duty on Chinese magnets into the US, a
    // most-favoured-nation duty on all magnets into the US (wildcard), a
    // Chinese export duty on heavy-rare-earth oxide, and an EU magnet duty.
    w!("[[tariff]]");
    w!("id = \"us_301_magnets\"");
    w!("product = \"magnet\"");
    w!("from = \"CN\"");
    w!("to = \"US\"");
    w!("ad_valorem = 0.25");
    w!("years = [{}, {last}]", (first + 1).min(last));
    w!();
    w!("[[tariff]]");
    w!("id = \"us_mfn_magnets\"");
    w!("product = \"magnet\"");
    w!("from = \"*\"");
    w!("to = \"US\"");
    w!("ad_valorem = 0.021");
    w!("per_tonne = 15");
    w!();
    if let Some(heavy) = elements.get(1).map(|e| e.name) {
        w!("[[tariff]]");
        w!("id = \"cn_export_{}\"", heavy.to_lowercase());
        w!("product = \"oxide\"");
        w!("element = \"{heavy}\"");
        w!("from = \"CN\"");
        w!("to = \"*\"");
        w!("per_tonne = 20000");
        w!();
    }
    w!("[[tariff]]");
    w!("id = \"eu_magnets_de\"");
    w!("product = \"magnet\"");
    w!("from = \"*\"");
    w!("to = \"DE\"");
    w!("ad_valorem = 0.03");
    w!();
    w!("[[tariff]]");
    w!("id = \"concentrate_levy\"");
    w!("product = \"concentrate\"");
    w!("from = \"*\"");
    w!("to = \"*\"");
    w!("per_tonne = 10");
    w!();
    // Sanctions: no Russian magnets into the US for a few years.
    w!("[[embargo]]");
    w!("id = \"ru_us_magnets\"");
    w!("product = \"magnet\"");
    w!("from = \"RU\"");
    w!("to = \"US\"");
    w!(
        "years = [{}, {}]",
        (first + 2).min(last),
        (first + 6).min(last)
    );
    w!();
    if let Some(heavy) = elements.get(1).map(|e| e.name) {
        // An export ban on one heavy rare earth to the US, for two years.
        w!("[[embargo]]");
        w!("id = \"cn_us_{}\"", heavy.to_lowercase());
        w!("product = \"oxide\"");
        w!("element = \"{heavy}\"");
        w!("from = \"CN\"");
        w!("to = \"US\"");
        w!("years = [{}, {}]", mid, (mid + 1).min(last));
        w!();
    }

    let mut mine_ids_all: Vec<(String, String)> = Vec::new();
    // Mines, sized so that supply and demand roughly balance.
    for i in 0..p.mines {
        let country = rng.weighted(MINE_COUNTRIES);
        w!("[[mine]]");
        w!("id = \"mine_{}_{i:04}\"", country.to_lowercase());
        mine_ids_all.push((
            format!("mine_{}_{i:04}", country.to_lowercase()),
            country.to_string(),
        ));
        w!("country = \"{country}\"");
        let capacity = rng.range((500.0, 30_000.0)).round();
        if rng.chance(0.3) {
            let grown = (capacity * rng.range((1.1, 1.8))).round();
            w!("capacity = {}", year_pair(first, last, capacity, grown));
        } else {
            w!("capacity = {capacity}");
        }
        w!("cost = {}", rng.range((1500.0, 6000.0)).round());
        online_and_ramp(&mut s, &mut rng, first, last);
        // Every mine yields the first element; a few lack one of the others.
        let mut grades = Vec::new();
        for (i, e) in elements.iter().enumerate() {
            if i == 0 || !rng.chance(0.1) {
                grades.push(format!("{} = {:.5}", e.name, rng.range(e.grade)));
            }
        }
        w!("grade = {{ {} }}", grades.join(", "));
        if instruments.is_some() && irng.chance(0.1) {
            w!(
                "{}",
                expand_line(&mut irng, capacity, (8_000.0, 30_000.0), first, last, lumpy)
            );
        }
        w!();
    }
    let mut refinery_ids: Vec<(String, String)> = Vec::new();
    let mut plant_ids: Vec<(String, String)> = Vec::new();

    for i in 0..p.refineries {
        let country = rng.weighted(REFINERY_COUNTRIES);
        w!("[[refinery]]");
        w!("id = \"ref_{}_{i:04}\"", country.to_lowercase());
        w!("country = \"{country}\"");
        w!("capacity = {}", rng.range((1000.0, 40_000.0)).round());
        let cost = rng.range((3000.0, 9000.0)).round();
        if rng.chance(0.3) {
            let later = (cost * rng.range((0.8, 1.2))).round();
            w!("cost = {}", year_pair(first, last, cost, later));
        } else {
            w!("cost = {cost}");
        }
        online_and_ramp(&mut s, &mut rng, first, last);
        let recovery: Vec<String> = elements
            .iter()
            .map(|e| format!("{} = {:.3}", e.name, rng.range((0.85, 0.98))))
            .collect();
        w!("recovery = {{ {} }}", recovery.join(", "));
        if instruments.is_some() && irng.chance(0.2) {
            w!(
                "{}",
                expand_line(
                    &mut irng,
                    15_000.0,
                    (20_000.0, 80_000.0),
                    first,
                    last,
                    lumpy
                )
            );
        }
        w!();
        refinery_ids.push((
            format!("ref_{}_{i:04}", country.to_lowercase()),
            country.to_string(),
        ));
    }

    let mut plant_capacity = 0.0;
    for i in 0..p.plants {
        let country = rng.weighted(PLANT_COUNTRIES);
        w!("[[magnet_plant]]");
        w!("id = \"plant_{}_{i:04}\"", country.to_lowercase());
        w!("country = \"{country}\"");
        let capacity = rng.range((300.0, 12_000.0)).round();
        plant_capacity += capacity;
        w!("capacity = {capacity}");
        w!("cost = {}", rng.range((18_000.0, 40_000.0)).round());
        online_and_ramp(&mut s, &mut rng, first, last);
        // Some plants make grades without the heaviest elements.
        let mut recipe = Vec::new();
        for (i, e) in elements.iter().enumerate() {
            if i < 2 || !rng.chance(0.3) {
                recipe.push(format!("{} = {:.4}", e.name, rng.range(e.recipe)));
            }
        }
        w!("recipe = {{ {} }}", recipe.join(", "));
        if instruments.is_some() && irng.chance(0.2) {
            w!(
                "{}",
                expand_line(
                    &mut irng,
                    capacity,
                    (40_000.0, 150_000.0),
                    first,
                    last,
                    lumpy
                )
            );
        }
        w!();
        plant_ids.push((
            format!("plant_{}_{i:04}", country.to_lowercase()),
            country.to_string(),
        ));
    }

    // Demand: about 70 % of plant capacity in the first year, growing.
    let mean_demand = 0.7 * plant_capacity / p.markets as f64;
    let mut market_ids = Vec::with_capacity(p.markets);
    for i in 0..p.markets {
        let country = MARKET_COUNTRIES[i % MARKET_COUNTRIES.len()];
        let id = format!("market_{}_{i:03}", country.to_lowercase());
        w!("[[market]]");
        w!("id = \"{id}\"");
        w!("country = \"{country}\"");
        let now = (mean_demand * rng.range((0.3, 1.7))).round();
        let later = (now * rng.range((1.3, 2.5))).round();
        w!("demand = {}", year_pair(first, last, now, later));
        w!(
            "unmet_penalty = {}",
            rng.range((400_000.0, 600_000.0)).round()
        );
        w!();
        market_ids.push((id, country));
    }

    // Share rules: one over every market and stage, tightening over time;
    // one on refining only, for a subset of markets, from the third year.
    w!("[[share_rule]]");
    w!("id = \"non_concern_all_stages\"");
    w!("stages = [\"mining\", \"refining\", \"magnet\"]");
    w!("min_share = {}", year_pair(first, last, 0.05, 0.3));
    w!();
    let allied: Vec<String> = market_ids
        .iter()
        .filter(|(_, c)| ALLIED_MARKETS.contains(c))
        .map(|(id, _)| format!("\"{id}\""))
        .collect();
    let allied = if allied.is_empty() {
        vec![format!("\"{}\"", market_ids[0].0)]
    } else {
        allied
    };
    w!("[[share_rule]]");
    w!("id = \"allied_refining\"");
    w!("markets = [{}]", allied.join(", "));
    w!("stages = [\"refining\"]");
    w!("min_share = 0.4");
    w!("years = [{}, {last}]", (first + 2).min(last));
    if instruments.is_some() {
        write_instruments(
            &mut s,
            &mut irng,
            elements,
            (first, last),
            (&mine_ids_all, &refinery_ids, &plant_ids),
            &market_ids,
            lumpy,
        );
    }
    s
}

/// A generated facility's id and country.
type IdCountry = (String, String);

/// Greenfield candidates, contracts, subsidies and stockpiles (see
/// [`Instruments`]). Every contract minimum has a penalty and every
/// stockpile floor is held from the start, so the plan stays feasible.
fn write_instruments(
    s: &mut String,
    rng: &mut Rng,
    elements: &[ElementSpec],
    (first, last): (i64, i64),
    (mines, refineries, plants): (&[IdCountry], &[IdCountry], &[IdCountry]),
    markets: &[(String, &str)],
    lumpy: bool,
) {
    macro_rules! w {
        ($($arg:tt)*) => { let _ = writeln!(s, $($arg)*); };
    }
    w!();
    // Greenfield candidates outside the concern countries.
    let n = (refineries.len() / 10).max(1);
    for i in 0..n {
        let country = BUILD_COUNTRIES[rng.below(BUILD_COUNTRIES.len())];
        w!("[[refinery]]");
        w!("id = \"new_ref_{}_{i:03}\"", country.to_lowercase());
        w!("country = \"{country}\"");
        w!("capacity = 0");
        w!("cost = {}", rng.range((5000.0, 10_000.0)).round());
        w!(
            "{}",
            expand_line(rng, 12_000.0, (30_000.0, 90_000.0), first, last, lumpy)
        );
        w!();
    }
    let n = (plants.len() / 10).max(1);
    for i in 0..n {
        let country = BUILD_COUNTRIES[rng.below(BUILD_COUNTRIES.len())];
        w!("[[magnet_plant]]");
        w!("id = \"new_plant_{}_{i:03}\"", country.to_lowercase());
        w!("country = \"{country}\"");
        w!("capacity = 0");
        w!("cost = {}", rng.range((20_000.0, 45_000.0)).round());
        let recipe: Vec<String> = elements
            .iter()
            .map(|e| format!("{} = {:.4}", e.name, rng.range(e.recipe)))
            .collect();
        w!("recipe = {{ {} }}", recipe.join(", "));
        w!(
            "{}",
            expand_line(rng, 5_000.0, (60_000.0, 160_000.0), first, last, lumpy)
        );
        w!();
    }
    // Captive chains: some non-concern mines sell only to one or two
    // refineries outside the concern countries.
    let clean_refineries: Vec<&String> = refineries
        .iter()
        .filter(|(_, c)| c != "CN" && c != "RU")
        .map(|(id, _)| id)
        .collect();
    let mut k = 0;
    for (id, country) in mines.iter().filter(|(_, c)| c != "CN" && c != "RU") {
        if clean_refineries.is_empty() || !rng.chance(0.15) {
            continue;
        }
        let a = clean_refineries[rng.below(clean_refineries.len())];
        let b = clean_refineries[rng.below(clean_refineries.len())];
        w!("[[contract]]");
        w!("id = \"captive_{k:03}\"");
        w!("from = \"{id}\"");
        w!("to = [\"{a}\", \"{b}\"]");
        w!("exclusive = true");
        if rng.chance(0.5) {
            w!("min = {}", rng.range((100.0, 2000.0)).round());
            w!("penalty = {}", rng.range((500.0, 3000.0)).round());
        }
        let _ = country;
        w!();
        k += 1;
    }
    // Offtake: some plants outside the concern countries promise magnets
    // to a market, take-or-pay with a penalty.
    for (id, country) in plants.iter().filter(|(_, c)| c != "CN" && c != "RU") {
        if !rng.chance(0.2) {
            continue;
        }
        let (market, _) = &markets[rng.below(markets.len())];
        w!("[[contract]]");
        w!("id = \"offtake_{k:03}\"");
        w!("from = \"{id}\"");
        w!("to = [\"{market}\"]");
        let (now, later) = (
            rng.range((50.0, 300.0)).round(),
            rng.range((200.0, 900.0)).round(),
        );
        w!("min = {}", year_pair(first, last, now, later));
        w!("penalty = {}", rng.range((2_000.0, 20_000.0)).round());
        w!("years = [{}, {last}]", (first + 1).min(last));
        let _ = country;
        w!();
        k += 1;
    }
    // Production credits (at most a tenth of the cheapest cost of the stage).
    w!("[[subsidy]]");
    w!("id = \"us_magnet_credit\"");
    w!("stage = \"magnet\"");
    w!("countries = [\"US\"]");
    w!("share_of_cost = 0.1");
    w!("years = [{first}, {}]", (first + 6).min(last));
    w!();
    w!("[[subsidy]]");
    w!("id = \"allied_separation\"");
    w!("stage = \"refining\"");
    w!("countries = [\"AU\", \"MY\", \"US\", \"EE\", \"FR\", \"JP\"]");
    w!("per_tonne = 300");
    w!();
    w!("[[subsidy]]");
    w!("id = \"mining_credit\"");
    w!("stage = \"mining\"");
    w!("countries = [\"AU\", \"CA\", \"US\"]");
    w!("per_tonne = 150");
    w!();
    // Stockpiles: the first element's oxide in the US, magnets in Japan.
    let capacity = rng.range((2_000.0, 8_000.0)).round();
    let floor = (0.2 * capacity).round();
    w!("[[stockpile]]");
    w!("id = \"us_{}_reserve\"", elements[0].name.to_lowercase());
    w!("country = \"US\"");
    w!("product = \"oxide\"");
    w!("element = \"{}\"", elements[0].name);
    w!("capacity = {capacity}");
    w!("initial = {floor}");
    w!("initial_clean = [\"mining\", \"refining\"]");
    w!("min_level = {floor}");
    w!("holding_cost = {}", rng.range((100.0, 400.0)).round());
    w!();
    let capacity = rng.range((500.0, 3_000.0)).round();
    w!("[[stockpile]]");
    w!("id = \"jp_magnet_buffer\"");
    w!("country = \"JP\"");
    w!("product = \"magnet\"");
    w!("capacity = {capacity}");
    w!("initial = {}", (0.5 * capacity).round());
    w!("holding_cost = {}", rng.range((500.0, 1500.0)).round());
}

/// `{ first = a, last = b }`, or just `a` when the horizon is one year (a
/// table would give the year twice).
fn year_pair(first: i64, last: i64, a: f64, b: f64) -> String {
    if first == last {
        format!("{a}")
    } else {
        format!("{{ {first} = {a}, {last} = {b} }}")
    }
}

/// Most facilities run from the start; some come online later (or before the
/// horizon) with a ramp-up, a few close before the end.
fn online_and_ramp(s: &mut String, rng: &mut Rng, first: i64, last: i64) {
    let span = (last - first + 1) as usize;
    if rng.chance(0.25) {
        let online = first + rng.below(span) as i64;
        let _ = writeln!(s, "online = {online}");
        let _ = writeln!(s, "ramp = [0.25, 0.5, 0.8]");
    } else if rng.chance(0.1) && span > 3 {
        let closes = first + 2 + rng.below(span - 2) as i64;
        let _ = writeln!(s, "closes = {closes}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{formulate, BuildOptions};
    use crate::plan::PlanSource;
    use std::path::Path;

    fn small(seed: u64) -> GenerateParams {
        GenerateParams {
            mines: 12,
            refineries: 6,
            plants: 10,
            markets: 8,
            years: 5,
            elements: 3,
            seed,
        }
    }

    #[test]
    fn same_seed_same_text_other_seed_other_text() {
        assert_eq!(generate_plan(&small(7)), generate_plan(&small(7)));
        assert_ne!(generate_plan(&small(7)), generate_plan(&small(8)));
    }

    #[test]
    fn generated_plans_load_with_the_promised_structure() {
        for elements in 1..=ELEMENTS.len() {
            for seed in 0..5 {
                let params = GenerateParams {
                    elements,
                    seed,
                    ..small(seed)
                };
                let text = generate_plan(&params);
                let source = PlanSource::from_text(Path::new("generated.toml"), text)
                    .unwrap_or_else(|e| panic!("seed {seed}, {elements} elements: {e}"));
                let plan = source.plan(None).unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(plan.mines.len(), 12);
                assert_eq!(plan.refineries.len(), 6);
                assert_eq!(plan.plants.len(), 10);
                assert_eq!(plan.markets.len(), 8);
                assert_eq!(plan.num_years(), 5);
                assert_eq!(plan.elements.len(), elements);
                assert_eq!(plan.concern, ["CN", "RU"]);
                assert!(plan.markets.iter().all(|k| k.unmet_penalty.is_some()));
                assert_eq!(plan.share_rules.len(), 2);
                assert_eq!(plan.share_rules[0].stages, 0b111);
                assert!(plan.share_rules[1].markets.len() < plan.markets.len());
                assert!(plan
                    .tariffs
                    .iter()
                    .any(|t| t.from == crate::plan::CountryMatch::Any));
                assert!(!plan.embargoes.is_empty());
                let lp = formulate(&plan, BuildOptions::default()).lp;
                assert!(lp.num_cols() > 0 && lp.num_rows() > 0);
            }
        }
    }

    #[test]
    fn generated_instrument_plans_load_and_solve() -> crate::Result<()> {
        for (seed, lumpy) in [(1, false), (2, true), (3, true)] {
            let text = generate_plan_with(&small(seed), Some(Instruments { lumpy }));
            let plan =
                PlanSource::from_text(Path::new("g.toml"), text).and_then(|s| s.plan(None))?;
            assert!(plan.has_builds());
            assert_eq!(plan.subsidies.len(), 3);
            assert_eq!(plan.stockpiles.len(), 2);
            let outcome = crate::solve_plan(&plan, &Default::default())?;
            assert_eq!(outcome.status, crate::solve::Status::Optimal, "seed {seed}");
        }
        // Without instruments the plan is unchanged.
        assert_eq!(
            generate_plan(&small(4)),
            generate_plan_with(&small(4), None)
        );
        Ok(())
    }

    #[test]
    fn every_generated_plan_is_feasible() -> crate::Result<()> {
        let text = generate_plan(&small(3));
        let plan = PlanSource::from_text(Path::new("g.toml"), text).and_then(|s| s.plan(None))?;
        let outcome = crate::solve_plan(&plan, &Default::default())?;
        assert_eq!(outcome.status, crate::solve::Status::Optimal);
        Ok(())
    }
}
