//! The front page of a report a director reads (`solve --format html`):
//! an executive summary computed from the solve, a chart of China's (the
//! concern countries') share by stage over the years, the plan's own notes
//! and sources (its header comment), a glossary, and when and how the run
//! was made. Every sentence is built from the same numbers as the tables.

use super::glance::{concern_shares, OutsideConcern};
use super::thousands;
use crate::outcome::{Outcome, REPORT_EPS};
use crate::plan::Plan;

/// What the HTML report shows before its tables.
pub struct Front {
    /// The executive summary, one sentence or short paragraph each.
    pub summary: Vec<String>,
    /// The plan file's opening comment (its question, model and sources).
    pub about: Option<String>,
    /// The terms a reader meets in the tables, with their meaning.
    pub glossary: Vec<(&'static str, &'static str)>,
    /// `reeplan solve … on 2026-12-08`.
    pub run: String,
}

/// Terms of the report, in the planner's words.
pub const GLOSSARY: [(&str, &str); 7] = [
    (
        "resource cost",
        "what the chain uses up: production, transport, investment, spare-capacity reserves and stock holding",
    ),
    (
        "transfers",
        "tariffs less subsidies: money that changes hands between buyers, sellers and governments, not a cost to the economy",
    ),
    (
        "penalties",
        "the price the plan puts on what did not happen: demand left unserved (unmet_penalty), soft share rules missed, contract volumes short",
    ),
    (
        "concern countries",
        "the countries share rules keep out of the chain ([plan] concern; China by default)",
    ),
    (
        "outside-concern (China-free) share",
        "the share of a market's magnets mined, separated or made outside the concern countries, each facility's output taken as mixed from its inputs (a ruled market follows the lots the LP keeps apart for its rule)",
    ),
    (
        "share rule",
        "a minimum share of a market's magnets that must be handled outside the concern countries at given stages, traced lot by lot: mixing never launders origin",
    ),
    (
        "shadow price",
        "what one more percentage point of a share rule would cost, at the margin",
    ),
];

fn bn(v: f64) -> String {
    if v.abs() >= 1e9 {
        format!("{:.2} bn", v / 1e9)
    } else if v.abs() >= 1e6 {
        format!("{:.1} M", v / 1e6)
    } else {
        thousands(v, 0)
    }
}

fn pct(v: f64) -> String {
    format!("{:.1} %", v * 100.0)
}

/// The executive summary of a solved plan: cost in its three groups, unmet
/// demand, the outside-concern shares of the groups and ruled markets (or
/// the concern countries' share of each stage), what binds, and builds.
pub fn summary(plan: &Plan, o: &Outcome, outside: &[OutsideConcern]) -> Vec<String> {
    let mut out = Vec::new();
    let cur = &o.currency;
    let (first, last) = (plan.first_year, plan.last_year);
    let Some(c) = &o.cost else {
        out.push(format!(
            "The plan has no solution ({}): see `reeplan explain`.",
            o.status.name()
        ));
        return out;
    };
    out.push(format!(
        "Cost {first}–{last}: {} {cur} in total, of which {} {cur} resource cost (what the chain uses up), {} {cur} transfers (tariffs less subsidies) and {} {cur} penalties (prices of what did not happen).",
        bn(c.total),
        bn(c.resource),
        bn(c.transfers),
        bn(c.penalties)
    ));
    let unmet: f64 = o.unmet.iter().map(|u| u.tonnes).sum();
    if unmet <= REPORT_EPS {
        out.push("All demand is served in every year.".into());
    } else {
        let mut markets: Vec<&str> = o.unmet.iter().map(|u| u.market.as_str()).collect();
        markets.sort();
        markets.dedup();
        let worst = o
            .unmet
            .iter()
            .filter_map(|u| {
                let d = plan
                    .markets
                    .iter()
                    .find(|m| m.id == u.market)?
                    .demand
                    .at(u.year);
                (d > 0.0).then(|| (u, u.tonnes / d))
            })
            .max_by(|a, b| a.1.total_cmp(&b.1));
        let mut s = format!(
            "{} t of magnet demand go unserved over the horizon ({}).",
            thousands(unmet, 0),
            markets.join(", ")
        );
        if let Some((u, share)) = worst {
            s += &format!(
                " The worst: {} in {}, {} t short ({} of its demand).",
                u.market,
                u.year,
                thousands(u.tonnes, 0),
                pct(share)
            );
        }
        out.push(s);
    }
    let concern = plan.concern.join(", ");
    if outside.is_empty() {
        let at = |y: i64| concern_shares(plan, o, y);
        let describe = |y: i64| {
            let [m, r, p] = at(y);
            format!(
                "{} of mining, {} of separation and {} of magnet making in {y}",
                m.map_or("–".into(), pct),
                r.map_or("–".into(), pct),
                p.map_or("–".into(), pct)
            )
        };
        out.push(format!(
            "The concern countries ({concern}) handle {}; {}.",
            describe(first),
            describe(last)
        ));
    } else {
        for s in outside.iter().filter(|s| s.year == last || s.year == first) {
            if let (Some(m), Some(r), Some(p)) = (s.mining, s.refining, s.magnet) {
                out.push(format!(
                    "{} in {}: {} of its {} t of magnets mined outside {concern}, {} separated outside, {} made outside.",
                    s.group,
                    s.year,
                    pct(m),
                    thousands(s.delivered, 0),
                    pct(r),
                    pct(p)
                ));
            }
        }
    }
    let priced: Vec<String> = plan
        .share_rules
        .iter()
        .filter_map(|r| {
            let price: f64 = o
                .shares
                .iter()
                .filter(|s| s.rule == r.id)
                .filter_map(|s| s.shadow_price)
                .sum();
            (price > 0.5).then(|| {
                format!(
                    "{} ({} {cur} per pp, summed over its years)",
                    r.id,
                    thousands(price, 0)
                )
            })
        })
        .collect();
    let rules = if plan.share_rules.is_empty() {
        String::new()
    } else if priced.is_empty() {
        " No share rule costs anything at the margin.".to_string()
    } else {
        format!(
            " Share rules that cost at the margin: {}.",
            priced.join("; ")
        )
    };
    let at_capacity = o
        .utilization
        .iter()
        .filter(|u| u.year == last && u.binding)
        .count();
    let facilities = if at_capacity == 1 {
        "facility"
    } else {
        "facilities"
    };
    out.push(format!(
        "What binds in {last}: {at_capacity} {facilities} at capacity.{rules}"
    ));
    if o.builds.is_empty() {
        if plan.has_builds() {
            out.push("Nothing is built: the capacity that exists covers the plan.".into());
        }
    } else {
        let capex: f64 = o.builds.iter().map(|b| b.capex).sum();
        let mut where_: Vec<String> = o
            .builds
            .iter()
            .map(|b| format!("{} ({})", b.facility, b.country))
            .collect();
        where_.dedup();
        out.push(format!(
            "Builds: {} {cur} of overnight capex at {}.",
            bn(capex),
            where_.join(", ")
        ));
    }
    out
}

/// The opening comment of a plan file, without its `#` marks: the plan's
/// question, model and sources as its author wrote them.
pub fn header_comment(text: &str) -> Option<String> {
    let lines: Vec<&str> = text
        .lines()
        .take_while(|l| l.trim_start().starts_with('#') || l.trim().is_empty())
        .collect();
    let body: Vec<String> = lines
        .iter()
        .map(|l| {
            let l = l.trim_start();
            let l = l.strip_prefix('#').unwrap_or(l);
            l.strip_prefix(' ').unwrap_or(l).to_string()
        })
        .collect();
    let joined = body.join("\n").trim().to_string();
    (!joined.is_empty()).then_some(joined)
}

/// The paragraph of a plan's notes that states its question (the one
/// starting `QUESTION.`), on one line, without the word itself.
pub fn question(about: &str) -> Option<String> {
    let start = about.find("QUESTION.")?;
    let rest = &about[start + "QUESTION.".len()..];
    let paragraph = rest.split("\n\n").next().unwrap_or(rest);
    let line = paragraph.split_whitespace().collect::<Vec<_>>().join(" ");
    (!line.is_empty()).then_some(line)
}

/// `2026-12-08` for a time given as seconds since 1970 (UTC), by the civil
/// calendar (Howard Hinnant's days-from-civil inverse).
pub fn date_of(unix_seconds: i64) -> String {
    let z = unix_seconds.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_by_hand() {
        assert_eq!(date_of(0), "1970-01-01");
        // 2026-12-08 00:00 UTC = 20,795 days after 1970-01-01.
        assert_eq!(date_of(20_795 * 86_400), "2026-12-08");
        // 2024-02-29, a leap day: 19,782 days.
        assert_eq!(date_of(19_782 * 86_400 + 3_600), "2024-02-29");
    }

    #[test]
    fn the_header_comment_without_its_marks() {
        let text = "# q.toml -- a question\n#\n# MODEL. x\n\n[plan]\n# not this\n";
        assert_eq!(
            header_comment(text).as_deref(),
            Some("q.toml -- a question\n\nMODEL. x")
        );
        assert_eq!(header_comment("[plan]\n"), None);
    }

    #[test]
    fn the_question_paragraph() {
        let about = "x.toml -- t\n\nQUESTION. How much\nwould it cost?\n\nMODEL. y";
        assert_eq!(question(about).as_deref(), Some("How much would it cost?"));
        assert_eq!(question("MODEL. y"), None);
    }
}
