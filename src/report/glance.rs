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
    /// Market groups whose outside-concern shares are reported together
    /// (`--group us=us-defense,us-other`): name and market ids.
    pub groups: Vec<(String, Vec<String>)>,
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
/// Countries under 0.5 % are not named (they would read 0%) but counted in
/// a rest: `CN >99%, other <1%`.
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
    // Shares within solver noise of each other are a tie, broken by name.
    v.sort_by(|a, b| {
        let tie = (a.1 - b.1).abs() <= super::SHARE_EPS;
        (if tie {
            std::cmp::Ordering::Equal
        } else {
            b.1.total_cmp(&a.1)
        })
        .then(a.0.cmp(b.0))
    });
    let pct = |s: f64| {
        super::percent(s, 0)
            .replace(" %", "%")
            .replace("> ", ">")
            .replace("< ", "<")
    };
    if v.len() <= 3 {
        let mut parts: Vec<String> = v.iter().map(|(c, s)| format!("{c} {}", pct(*s))).collect();
        // The countries left out are still named as a rest, so that the
        // cell never implies fewer sources than there are.
        let rest = 1.0 - v.iter().map(|(_, s)| s).sum::<f64>();
        if rest > super::SHARE_EPS {
            parts.push(format!("other {}", pct(rest)));
        }
        return parts.join(", ");
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

/// Whether a share rule's year shapes its markets' sourcing: its share
/// cannot be exceeded with the flows the plan has (the outcome's labels make
/// the rule's markets as clean as those flows allow, so a share above the
/// requirement means the rule is slack there). A slack rule changes nothing
/// reported: its markets are traced like any other.
pub fn binds(share: &crate::outcome::ShareResult) -> bool {
    share.achieved.is_none_or(|a| a <= share.required + 1e-6)
}

/// Per stage, where one t of something came from: `[mined in, separated
/// in, made in]`, each a map country → share (empty: that stage has not
/// happened to it yet).
pub(super) type Mix = [BTreeMap<String, f64>; 3];

/// What a stockpile's initial stock is labelled as: its origin is not known.
pub const INITIAL_STOCK: &str = "initial stock";

/// Traces each market's magnets back through the chain, year by year. Each
/// facility's output is taken to be mixed in proportion to its inputs
/// (oxide by tonnes over all elements); a stockpile is one pool: what it
/// releases in a year has the mix of what it held at the start of the year
/// and what it took in that year, and its initial stock is labelled
/// [`INITIAL_STOCK`] at every stage it has passed.
pub struct Sources<'a> {
    plan: &'a Plan,
    o: &'a Outcome,
    /// Pool mix and level of each stockpile at the end of the last year traced.
    pools: BTreeMap<String, (Mix, f64)>,
    /// Year → node id → mix of one t of its output that year.
    years: BTreeMap<i64, BTreeMap<String, Mix>>,
    /// The lot-by-lot trace, for plans whose share rules tell origin
    /// classes apart.
    lots: Option<super::lots::LotTrace<'a>>,
}

/// The mix of a stockpile's initial stock: [`INITIAL_STOCK`] at every stage
/// it has passed (mining and separation for oxide, also making for magnets).
pub(super) fn initial_mix(stock: &crate::plan::Stockpile) -> Mix {
    let stages = match stock.product {
        crate::plan::StockProduct::Oxide(_) => 2,
        crate::plan::StockProduct::Magnet => 3,
    };
    let mut mix: Mix = Default::default();
    for m in mix.iter_mut().take(stages) {
        m.insert(INITIAL_STOCK.to_string(), 1.0);
    }
    mix
}

pub(super) fn add_scaled(into: &mut Mix, from: &Mix, weight: f64) {
    for (i, m) in from.iter().enumerate() {
        for (c, v) in m {
            *into[i].entry(c.clone()).or_default() += v * weight;
        }
    }
}

pub(super) fn normalized(mut mix: Mix) -> Mix {
    for m in &mut mix {
        let total: f64 = m.values().sum();
        if total > 0.0 {
            m.values_mut().for_each(|v| *v /= total);
        } else {
            m.clear();
        }
    }
    mix
}

impl<'a> Sources<'a> {
    pub fn new(plan: &'a Plan, o: &'a Outcome) -> Sources<'a> {
        let pools = plan
            .stockpiles
            .iter()
            .map(|s| (s.id.clone(), (initial_mix(s), s.initial)))
            .collect();
        let lots = (!o.lots.years.is_empty()).then(|| super::lots::LotTrace::new(plan, &o.lots));
        Sources {
            plan,
            o,
            pools,
            years: BTreeMap::new(),
            lots,
        }
    }

    /// The mixes of every node in `year`, tracing the years before it first
    /// when stock links them.
    fn trace(&mut self, year: i64) {
        if self.years.contains_key(&year) {
            return;
        }
        if !self.plan.stockpiles.is_empty() {
            let from = self
                .years
                .keys()
                .next_back()
                .map_or(self.plan.first_year, |y| y + 1);
            for y in from..year {
                self.trace_one(y);
            }
        }
        self.trace_one(year);
    }

    fn trace_one(&mut self, year: i64) {
        let (plan, o) = (self.plan, self.o);
        let country = |id: &str| plan.country_of(id).unwrap_or("?").to_string();
        let mut mixes: BTreeMap<String, Mix> = BTreeMap::new();
        // Mines, then refineries from their concentrate.
        let mut conc: BTreeMap<&str, Vec<(&str, f64)>> = BTreeMap::new();
        for f in o.flows.concentrate.iter().filter(|f| f.year == year) {
            conc.entry(f.to.as_str())
                .or_default()
                .push((&f.from, f.tonnes));
            let mut m: Mix = Default::default();
            m[0].insert(country(&f.from), 1.0);
            mixes.insert(f.from.clone(), m);
        }
        for (r, ins) in &conc {
            let mut m: Mix = Default::default();
            for (mine, t) in ins {
                add_scaled(&mut m, &mixes[*mine], *t);
            }
            let mut m = normalized(m);
            m[1] = BTreeMap::from([(country(r), 1.0)]);
            mixes.insert(r.to_string(), m);
        }
        let oxide: Vec<_> = o.flows.oxide.iter().filter(|f| f.year == year).collect();
        let magnet: Vec<_> = o.flows.magnet.iter().filter(|f| f.year == year).collect();
        let shipped = |from: &'a String, to: &'a String, t: f64| (from.as_str(), to.as_str(), t);
        let oxide_t: Vec<_> = oxide
            .iter()
            .map(|f| shipped(&f.from, &f.to, f.tonnes))
            .collect();
        self.release_stock(&mut mixes, &oxide_t, false);
        // Plants from their oxide (refineries and oxide stockpiles).
        let mut ox_in: BTreeMap<&str, Vec<(&str, f64)>> = BTreeMap::new();
        for f in oxide.iter().filter(|f| !plan.is_stockpile(&f.to)) {
            ox_in
                .entry(f.to.as_str())
                .or_default()
                .push((&f.from, f.tonnes));
        }
        for (p, ins) in &ox_in {
            let mut m: Mix = Default::default();
            for (from, t) in ins {
                if let Some(x) = mixes.get(*from) {
                    add_scaled(&mut m, x, *t);
                }
            }
            let mut m = normalized(m);
            m[2] = BTreeMap::from([(country(p), 1.0)]);
            mixes.insert(p.to_string(), m);
        }
        // Plants without oxide inflow that year still made what they ship.
        for f in magnet.iter().filter(|f| !plan.is_stockpile(&f.from)) {
            mixes.entry(f.from.clone()).or_insert_with(|| {
                let mut m: Mix = Default::default();
                m[2].insert(country(&f.from), 1.0);
                m
            });
        }
        let magnet_t: Vec<_> = magnet
            .iter()
            .map(|f| shipped(&f.from, &f.to, f.tonnes))
            .collect();
        self.release_stock(&mut mixes, &magnet_t, true);
        self.years.insert(year, mixes);
    }

    /// The oxide (or magnet) stockpiles' releases of one year: each draws
    /// from its pool, the start-of-year stock plus this year's intake
    /// (whose shippers are traced before it); the pool carries on with
    /// what is left.
    fn release_stock(
        &mut self,
        mixes: &mut BTreeMap<String, Mix>,
        flows: &[(&str, &str, f64)],
        magnets: bool,
    ) {
        for s in &self.plan.stockpiles {
            let is_magnet = matches!(s.product, crate::plan::StockProduct::Magnet);
            if is_magnet != magnets {
                continue;
            }
            let Some((pool, level)) = self.pools.get(&s.id).cloned() else {
                continue;
            };
            let mut m: Mix = Default::default();
            add_scaled(&mut m, &pool, level);
            let (mut taken, mut released) = (0.0, 0.0);
            for &(from, to, t) in flows {
                if to == s.id {
                    if let Some(x) = mixes.get(from) {
                        add_scaled(&mut m, x, t);
                    }
                    taken += t;
                }
                if from == s.id {
                    released += t;
                }
            }
            let m = normalized(m);
            let end = (level + taken - released).max(0.0);
            self.pools.insert(s.id.clone(), (m.clone(), end));
            mixes.insert(s.id.clone(), m);
        }
    }

    /// The market's index when a share rule applies to it in `year` and the
    /// outcome carries the lots the LP kept apart for it.
    fn ruled(&self, year: i64, market: &str) -> Option<usize> {
        self.lots.as_ref()?;
        let k = self.plan.markets.iter().position(|m| m.id == market)?;
        let in_force = |rule: &crate::plan::ShareRule| {
            rule.markets.contains(&k)
                && self
                    .o
                    .shares
                    .iter()
                    .any(|r| r.rule == rule.id && r.year == year && binds(r))
        };
        self.plan.share_rules.iter().any(in_force).then_some(k)
    }

    /// Where one market's magnets of one year come from, stage by stage, in
    /// tonnes by country: `[mined in, separated in, made in]`. A market under
    /// a share rule that year is traced lot by lot (its clean lots are what
    /// the LP sent it); the others take each facility's output as mixed from
    /// all its inputs.
    pub fn of_market(&mut self, year: i64, market: &str) -> Mix {
        if let Some(k) = self.ruled(year, market) {
            if let Some(lots) = &mut self.lots {
                return lots.of_market(year, k);
            }
        }
        self.trace(year);
        let mixes = &self.years[&year];
        let mut out: Mix = Default::default();
        for f in self
            .o
            .flows
            .magnet
            .iter()
            .filter(|f| f.year == year && f.to == market)
        {
            if let Some(m) = mixes.get(&f.from) {
                add_scaled(&mut out, m, f.tonnes);
            }
        }
        out
    }
}

/// Sourcing per market: for each market and year shown, the share of its
/// magnets by country at each stage.
pub fn sourcing_table(plan: &Plan, o: &Outcome, years: &[i64]) -> Table {
    let ruled: Vec<String> = plan
        .share_rules
        .iter()
        .filter(|_| !o.lots.years.is_empty())
        .filter(|r| {
            o.shares
                .iter()
                .any(|s| s.rule == r.id && years.contains(&s.year) && binds(s))
        })
        .map(|r| {
            let ms: Vec<&str> = r
                .markets
                .iter()
                .map(|&k| plan.markets[k].id.as_str())
                .collect();
            format!("{}: {}", r.id, ms.join(", "))
        })
        .collect();
    let mixed = if ruled.is_empty() {
        "each facility's output taken as mixed from its inputs".to_string()
    } else {
        format!(
            "each facility's output taken as mixed from its inputs; a market's rows in the years a share rule binds it ({}) follow the lots the LP keeps apart for the rule",
            ruled.join("; ")
        )
    };
    let stock = if plan.stockpiles.is_empty() {
        ""
    } else {
        "; a stockpile releases the mix it holds, its initial stock of unknown origin"
    };
    let title = format!(
        "Sourcing per market: share of its magnets by country at each stage ({mixed}{stock})"
    );
    let mut t = Table::new(
        "sourcing",
        title,
        &[
            "market",
            "year",
            "t delivered",
            "mined in",
            "separated in",
            "made in",
        ],
    );
    let mut sources = Sources::new(plan, o);
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
                // A market with demand that got nothing keeps its row: a
                // market must not drop out of the table for being cut off.
                if m.demand.at(y) > REPORT_EPS {
                    let none = Cell::text("nothing delivered");
                    t.rows.push(vec![
                        Cell::text(&m.id),
                        Cell::year(y),
                        Cell::money(0.0),
                        none.clone(),
                        none.clone(),
                        none,
                    ]);
                }
                continue;
            }
            let s = sources.of_market(y, &m.id);
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

/// The share of a market's (or a group's) magnets delivered in one year
/// that was handled outside the concern countries, stage by stage — the
/// same trace as the sourcing table: each facility's output as mixed from
/// its inputs, except a market under a share rule in a year the rule
/// applies, which follows the lots the LP kept apart for it. Stock of
/// unknown origin (a stockpile's initial stock) counts as not outside.
#[derive(Clone, Debug, serde::Serialize)]
pub struct OutsideConcern {
    /// The market id, or the group's name.
    pub group: String,
    pub markets: Vec<String>,
    pub year: i64,
    /// t magnet delivered to these markets that year.
    pub delivered: f64,
    /// Shares of that delivery mined, separated and made outside the
    /// concern countries (`None` when nothing was delivered).
    pub mining: Option<f64>,
    pub refining: Option<f64>,
    pub magnet: Option<f64>,
}

/// A share within [`crate::report::SHARE_EPS`] of 0 or 1 is solver noise:
/// it reads whole.
fn snap_share(v: f64) -> f64 {
    if v < crate::report::SHARE_EPS {
        0.0
    } else if v > 1.0 - crate::report::SHARE_EPS {
        1.0
    } else {
        v
    }
}

/// [`OutsideConcern`] for every market on its own and every group, every
/// year of the plan.
pub fn outside_concern_shares(
    plan: &Plan,
    o: &Outcome,
    groups: &[(String, Vec<String>)],
) -> Vec<OutsideConcern> {
    let mut all: Vec<(String, Vec<String>)> = plan
        .markets
        .iter()
        .map(|m| (m.id.clone(), vec![m.id.clone()]))
        .collect();
    all.extend(groups.iter().cloned());
    let mut sources = Sources::new(plan, o);
    let mut out = Vec::new();
    for year in plan.years() {
        // Each market's mix once; a group adds its members' tonnes.
        let mixes: BTreeMap<&str, Mix> = plan
            .markets
            .iter()
            .map(|m| (m.id.as_str(), sources.of_market(year, &m.id)))
            .collect();
        for (group, markets) in &all {
            let mut mix: Mix = Default::default();
            for k in markets {
                if let Some(m) = mixes.get(k.as_str()) {
                    add_scaled(&mut mix, m, 1.0);
                }
            }
            let delivered: f64 = o
                .flows
                .magnet
                .iter()
                .filter(|f| f.year == year && markets.contains(&f.to))
                .map(|f| f.tonnes)
                .sum::<f64>()
                + 0.0;
            let [mining, refining, magnet] = mix.map(|by_country| {
                let total: f64 = by_country.values().sum();
                let outside: f64 = by_country
                    .iter()
                    .filter(|(c, _)| c.as_str() != INITIAL_STOCK && !plan.is_concern(c))
                    .map(|(_, t)| t)
                    .sum();
                (delivered > REPORT_EPS && total > 0.0).then(|| snap_share(outside / total))
            });
            out.push(OutsideConcern {
                group: group.clone(),
                markets: markets.clone(),
                year,
                delivered,
                mining,
                refining,
                magnet,
            });
        }
    }
    out
}

/// Whether an outside-concern row belongs on one screen (the report's
/// summary and the default view): a group asked for, or a market under a
/// share rule.
pub fn asked_or_ruled(plan: &Plan, groups: &[(String, Vec<String>)], s: &OutsideConcern) -> bool {
    groups.iter().any(|g| g.0 == s.group)
        || plan
            .share_rules
            .iter()
            .any(|r| r.markets.iter().any(|&k| plan.markets[k].id == s.group))
}

/// The outside-concern shares as a table: a row per market (and group) and
/// year shown, a column per stage.
pub fn outside_concern_table(plan: &Plan, shares: &[OutsideConcern], years: &[i64]) -> Table {
    let mut t = Table::new(
        "outside_concern",
        format!(
            "Share of each market's magnets handled outside the concern countries ({}), by stage, by tonnes of rare earths (traced as in the sourcing table; a share rule counts a magnet only when every element of its recipe was handled outside at every listed stage, so a few t of heavy rare earths from a concern country can hold its share far below these)",
            plan.concern.join(", ")
        ),
        &[
            "market or group",
            "year",
            "t delivered",
            "mined outside",
            "separated outside",
            "made outside",
        ],
    );
    // Market-major, as the sourcing table: a trend reads down a market's rows.
    let mut order: Vec<&str> = Vec::new();
    for s in shares {
        if !order.contains(&s.group.as_str()) {
            order.push(&s.group);
        }
    }
    let rows = order.iter().flat_map(|g| {
        shares
            .iter()
            .filter(move |s| s.group == *g && years.contains(&s.year))
    });
    for s in rows {
        t.rows.push(vec![
            Cell::text(&s.group),
            Cell::year(s.year),
            Cell::money(s.delivered),
            Cell::opt_percent(s.mining),
            Cell::opt_percent(s.refining),
            Cell::opt_percent(s.magnet),
        ]);
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
    t.chart = Some(super::SheetChart::RowsAsSeries {
        first: 1,
        title: format!(
            "Share handled in concern countries ({})",
            plan.concern.join(", ")
        ),
    });
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
