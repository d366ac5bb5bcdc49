//! The one-screen answer of a `solve`: where each market's magnets come
//! from (sourcing per stage), how much of each stage the concern countries
//! handle, and what binds. Everything is worked out from the outcome's
//! flows, utilization and share results.

use std::collections::BTreeMap;

use super::{Cell, Table};
use crate::outcome::{Outcome, REPORT_EPS};
use crate::plan::Plan;

/// Which years and tables a `solve` shows.
#[derive(Clone, Debug, Default)]
pub struct View {
    /// Print the full flow and utilization tables too.
    pub detail: bool,
    /// Show only these years (empty: the key years, see [`key_years`]).
    pub years: Vec<i64>,
}

/// The years worth a look: the first and last of the horizon and each year
/// a share rule starts to apply.
pub fn key_years(plan: &Plan, o: &Outcome) -> Vec<i64> {
    let mut years = vec![plan.first_year, plan.last_year];
    let mut first: BTreeMap<&str, i64> = BTreeMap::new();
    for s in &o.shares {
        let e = first.entry(s.rule.as_str()).or_insert(s.year);
        *e = (*e).min(s.year);
    }
    years.extend(first.values());
    years.sort();
    years.dedup();
    years
}

/// `[2027, 2028, 2029, 2031]` → `2027–2029, 2031`.
pub fn year_ranges(years: &[i64]) -> String {
    let mut ys = years.to_vec();
    ys.sort();
    ys.dedup();
    let mut parts = Vec::new();
    let mut i = 0;
    while i < ys.len() {
        let mut j = i;
        while j + 1 < ys.len() && ys[j + 1] == ys[j] + 1 {
            j += 1;
        }
        parts.push(if j > i {
            format!("{}–{}", ys[i], ys[j])
        } else {
            ys[i].to_string()
        });
        i = j + 1;
    }
    parts.join(", ")
}

/// Shares by country, largest first: `CN 62%, AU 20%, US 18%`; with more
/// than three countries the third entry is the rest: `other 18%`.
/// Countries under 0.5 % are left out (they would read 0%).
pub fn country_mix(by_country: &BTreeMap<String, f64>) -> String {
    let total: f64 = by_country.values().sum();
    if total <= REPORT_EPS {
        return "–".into();
    }
    // Countries under 0.5 % (shown as 0%) are not named.
    let mut v: Vec<(&String, f64)> = by_country
        .iter()
        .map(|(c, t)| (c, t / total))
        .filter(|(_, s)| *s >= 0.005)
        .collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    let pct = |s: f64| format!("{:.0}%", s * 100.0);
    if v.len() <= 3 {
        return v
            .iter()
            .map(|(c, s)| format!("{c} {}", pct(*s)))
            .collect::<Vec<_>>()
            .join(", ");
    }
    let rest = 1.0 - v[0].1 - v[1].1;
    format!(
        "{} {}, {} {}, other {}",
        v[0].0,
        pct(v[0].1),
        v[1].0,
        pct(v[1].1),
        pct(rest)
    )
}

/// Where one market's magnets of one year come from, stage by stage, in
/// tonnes by country: `[mined in, separated in, made in]`. Each facility's
/// output is taken to be mixed in proportion to its inputs (oxide by
/// tonnes over all elements).
pub fn market_sources(
    plan: &Plan,
    o: &Outcome,
    year: i64,
    market: &str,
) -> [BTreeMap<String, f64>; 3] {
    let country = |id: &str| plan.country_of(id).unwrap_or("?").to_string();
    // Refinery → its concentrate intake by mine; plant → oxide intake by refinery.
    let mut conc_in: BTreeMap<&str, BTreeMap<&str, f64>> = BTreeMap::new();
    for f in o.flows.concentrate.iter().filter(|f| f.year == year) {
        *conc_in
            .entry(f.to.as_str())
            .or_default()
            .entry(f.from.as_str())
            .or_default() += f.tonnes;
    }
    let mut ox_in: BTreeMap<&str, BTreeMap<&str, f64>> = BTreeMap::new();
    for f in o.flows.oxide.iter().filter(|f| f.year == year) {
        *ox_in
            .entry(f.to.as_str())
            .or_default()
            .entry(f.from.as_str())
            .or_default() += f.tonnes;
    }
    let fractions = |m: Option<&BTreeMap<&str, f64>>| -> Vec<(String, f64)> {
        let Some(m) = m else { return Vec::new() };
        let total: f64 = m.values().sum();
        if total <= 0.0 {
            return Vec::new();
        }
        m.iter().map(|(k, t)| (k.to_string(), t / total)).collect()
    };
    let mut out: [BTreeMap<String, f64>; 3] = Default::default();
    for f in o
        .flows
        .magnet
        .iter()
        .filter(|f| f.year == year && f.to == market)
    {
        *out[2].entry(country(&f.from)).or_default() += f.tonnes;
        for (r, a) in fractions(ox_in.get(f.from.as_str())) {
            *out[1].entry(country(&r)).or_default() += f.tonnes * a;
            for (m, b) in fractions(conc_in.get(r.as_str())) {
                *out[0].entry(country(&m)).or_default() += f.tonnes * a * b;
            }
        }
    }
    out
}

/// Sourcing per market: for each market and year shown, the share of its
/// magnets by country at each stage.
pub fn sourcing_table(plan: &Plan, o: &Outcome, years: &[i64]) -> Table {
    let mut t = Table::new(
        "sourcing",
        "Sourcing per market: share of its magnets by country at each stage (each facility's output taken as mixed from its inputs)",
        &["market", "year", "t delivered", "mined in", "separated in", "made in"],
    );
    for m in &plan.markets {
        for &y in years {
            let delivered: f64 = o
                .flows
                .magnet
                .iter()
                .filter(|f| f.year == y && f.to == m.id)
                .map(|f| f.tonnes)
                .sum();
            if delivered <= REPORT_EPS {
                continue;
            }
            let s = market_sources(plan, o, y, &m.id);
            t.rows.push(vec![
                Cell::text(&m.id),
                Cell::year(y),
                Cell::money(delivered),
                Cell::text(country_mix(&s[0])),
                Cell::text(country_mix(&s[1])),
                Cell::text(country_mix(&s[2])),
            ]);
        }
    }
    t
}

/// Share of each stage handled in the plan's concern countries, all markets
/// together: t REO mined, t REO separated (concentrate in), t magnet made.
pub fn concern_shares(plan: &Plan, o: &Outcome, year: i64) -> [Option<f64>; 3] {
    let concern = |id: &str| plan.country_of(id).is_some_and(|c| plan.is_concern(c));
    let mut tot = [0.0f64; 3];
    let mut con = [0.0f64; 3];
    for f in o.flows.concentrate.iter().filter(|f| f.year == year) {
        tot[0] += f.tonnes;
        tot[1] += f.tonnes;
        if concern(&f.from) {
            con[0] += f.tonnes;
        }
        if concern(&f.to) {
            con[1] += f.tonnes;
        }
    }
    for f in o
        .flows
        .magnet
        .iter()
        .filter(|f| f.year == year && !plan.is_stockpile(&f.from))
    {
        tot[2] += f.tonnes;
        if concern(&f.from) {
            con[2] += f.tonnes;
        }
    }
    [0, 1, 2].map(|i| (tot[i] > REPORT_EPS).then(|| con[i] / tot[i]))
}

/// Concern shares with a row per stage and a column per year (a trend reads
/// along a row, and a long horizon costs width, not lines).
pub fn concern_table(plan: &Plan, o: &Outcome, years: &[i64]) -> Table {
    let mut headers = vec!["share of".to_string()];
    headers.extend(years.iter().map(|y| y.to_string()));
    let header_refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    let mut t = Table::new(
        "concern",
        format!(
            "Share handled in concern countries ({}), all markets",
            plan.concern.join(", ")
        ),
        &header_refs,
    );
    let shares: Vec<[Option<f64>; 3]> = years.iter().map(|&y| concern_shares(plan, o, y)).collect();
    for (i, stage) in ["t REO mined", "t REO separated", "t magnet made"]
        .iter()
        .enumerate()
    {
        let mut row = vec![Cell::text(*stage)];
        row.extend(shares.iter().map(|s| Cell::opt_percent(s[i])));
        t.rows.push(row);
    }
    t
}

/// Most facilities listed in "what binds" before the rest is counted.
pub const BINDS_SHOWN: usize = 8;

/// What binds: capacities at their limit, share rules with a non-zero
/// shadow price (or short of a soft rule), unmet demand; in the years shown.
pub fn binds_table(o: &Outcome, years: &[i64]) -> Table {
    let cur = &o.currency;
    let mut t = Table::new(
        "binds",
        "What binds",
        &["constraint", "where", "years", "detail"],
    );
    let shown = |y: i64| years.contains(&y);
    // Share rules whose requirement costs something.
    // rule → (years with a shadow price, largest, years short, most short)
    type RuleBinds = (Vec<i64>, f64, Vec<i64>, f64);
    let mut rules: BTreeMap<&str, RuleBinds> = BTreeMap::new();
    for s in o.shares.iter().filter(|s| shown(s.year)) {
        let e = rules.entry(s.rule.as_str()).or_default();
        if s.shadow_price.is_some_and(|p| p > 0.0) {
            e.0.push(s.year);
            e.1 = e.1.max(s.shadow_price.unwrap_or(0.0));
        }
        if s.shortfall > 0.0 {
            e.2.push(s.year);
            e.3 += s.shortfall;
        }
    }
    for (rule, (ys, price, short_ys, short)) in &rules {
        if !ys.is_empty() {
            t.rows.push(vec![
                Cell::text("share rule"),
                Cell::text(*rule),
                Cell::text(year_ranges(ys)),
                Cell::text(format!(
                    "shadow price up to {} {cur} per pp",
                    super::thousands(*price, 0)
                )),
            ]);
        }
        if !short_ys.is_empty() {
            t.rows.push(vec![
                Cell::text("share rule short"),
                Cell::text(*rule),
                Cell::text(year_ranges(short_ys)),
                Cell::text(format!(
                    "{} t clean magnet short",
                    super::thousands(*short, 0)
                )),
            ]);
        }
    }
    let mut unmet: BTreeMap<&str, (Vec<i64>, f64)> = BTreeMap::new();
    for u in o.unmet.iter().filter(|u| shown(u.year)) {
        let e = unmet.entry(u.market.as_str()).or_default();
        e.0.push(u.year);
        e.1 += u.tonnes;
    }
    for (market, (ys, tonnes)) in &unmet {
        t.rows.push(vec![
            Cell::text("unmet demand"),
            Cell::text(*market),
            Cell::text(year_ranges(ys)),
            Cell::text(format!("{} t magnet short", super::thousands(*tonnes, 0))),
        ]);
    }
    // Capacities at their limit, the facilities binding in most years first.
    let mut caps: BTreeMap<(&str, &str, &str), Vec<i64>> = BTreeMap::new();
    for u in o
        .utilization
        .iter()
        .filter(|u| shown(u.year) && u.binding && u.capacity > REPORT_EPS)
    {
        caps.entry((u.facility.as_str(), u.country.as_str(), u.stage))
            .or_default()
            .push(u.year);
    }
    let mut caps: Vec<_> = caps.into_iter().collect();
    caps.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
    let n = caps.len();
    for ((facility, country, stage), ys) in caps.iter().take(BINDS_SHOWN) {
        t.rows.push(vec![
            Cell::text(format!("{stage} capacity")),
            Cell::text(format!("{facility} ({country})")),
            Cell::text(year_ranges(ys)),
            Cell::text("at capacity"),
        ]);
    }
    if n > BINDS_SHOWN {
        t.rows.push(vec![
            Cell::text("…"),
            Cell::text(format!("{} more facilities at capacity", n - BINDS_SHOWN)),
            Cell::Empty,
            Cell::text("see --detail"),
        ]);
    }
    if t.rows.is_empty() {
        t.rows.push(vec![
            Cell::text("nothing"),
            Cell::text(
                "no capacity at its limit, no share rule with a shadow price, no unmet demand",
            ),
            Cell::Empty,
            Cell::Empty,
        ]);
    }
    t
}
