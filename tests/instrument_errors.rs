//! Malformed `expand`, `[[contract]]`, `[[subsidy]]` and `[[stockpile]]`
//! entries (PLAN_FORMAT.md, "Investment, contracts and subsidies" and
//! "Stockpiles"): `reeplan check` exits 1 with exactly the expected located
//! messages. Locations come from `common::at`, independently of the loader.

mod common;

use common::{at, edit, run_plan, MINIMAL};

#[track_caller]
fn fails(text: &str, lines: &[String]) {
    let run = run_plan(text, &["check"]);
    let expected: String = lines.iter().map(|l| format!("error: {l}\n")).collect();
    assert_eq!(run.stderr, expected, "stderr differs for plan:\n{text}");
    assert_eq!(run.code, Some(1), "exit code; stderr: {}", run.stderr);
    assert_eq!(run.stdout, "");
}

#[track_caller]
fn passes(text: &str) {
    let run = run_plan(text, &["check"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
}

fn with(extra: &str) -> String {
    format!("{MINIMAL}\n{extra}")
}

/// MINIMAL with an `expand` table on the magnet plant.
fn plant_expand(expand: &str) -> String {
    edit(
        MINIMAL,
        "recipe = { NdPr = 0.3 }\n",
        &format!("recipe = {{ NdPr = 0.3 }}\nexpand = {expand}\n"),
    )
}

#[test]
fn valid_instruments_pass() {
    passes(&with(
        r#"[[contract]]
id = "c"
from = "m1"
to = ["r1", "r1"]
min = 10
max = { 2026 = 20 }
penalty = 100
[[subsidy]]
id = "s"
stage = "magnet"
countries = ["US"]
share_of_cost = 0.5
per_tonne = 15000
[[stockpile]]
id = "st"
country = "US"
product = "magnet"
capacity = 100
initial = 50
initial_clean = ["mining", "magnet"]
min_level = 10
holding_cost = 5
"#,
    ));
    passes(&plant_expand(
        "{ capex = 1000, max = 50, earliest = 2020, lifetime = 5, fixed_cost = 1, min_build = 50 }",
    ));
}

#[test]
fn expand_needs_capex_and_max() {
    let plan = plant_expand("{ earliest = 2027 }");
    fails(
        &plan,
        &[
            format!(
                "{}: magnet_plant \"p1\" expand: missing required key \"capex\"",
                at(&plan, "expand = |{ earliest")
            ),
            format!(
                "{}: magnet_plant \"p1\" expand: missing required key \"max\"",
                at(&plan, "expand = |{ earliest")
            ),
        ],
    );
}

#[test]
fn expand_unknown_key_gets_a_suggestion() {
    let plan = plant_expand("{ capx = 1, capex = 1, max = 1 }");
    fails(
        &plan,
        &[format!(
            "{}: magnet_plant \"p1\" expand: unknown key \"capx\" (did you mean \"capex\"?)",
            at(&plan, "|capx")
        )],
    );
}

#[test]
fn expand_lifetime_must_be_at_least_one_year() {
    let plan = plant_expand("{ capex = 1, max = 1, lifetime = 0 }");
    fails(
        &plan,
        &[format!(
            "{}: magnet_plant \"p1\" expand lifetime = 0: must be at least 1 (years)",
            at(&plan, "lifetime = |0")
        )],
    );
}

#[test]
fn expand_lifetime_must_be_an_integer() {
    let plan = plant_expand("{ capex = 1, max = 1, lifetime = 2.5 }");
    fails(
        &plan,
        &[format!(
            "{}: magnet_plant \"p1\" expand lifetime: expected an integer, found a float 2.5",
            at(&plan, "lifetime = |2.5")
        )],
    );
}

#[test]
fn expand_min_build_at_most_max() {
    let plan = plant_expand("{ capex = 1, max = 10, min_build = 50 }");
    fails(
        &plan,
        &[format!(
            "{}: magnet_plant \"p1\" expand min_build = 50: must be at most max (10)",
            at(&plan, "min_build = |50")
        )],
    );
}

#[test]
fn expand_capex_must_not_be_negative() {
    let plan = plant_expand("{ capex = -1, max = 10 }");
    fails(
        &plan,
        &[format!(
            "{}: magnet_plant \"p1\" expand capex = -1: must be >= 0",
            at(&plan, "capex = |-1")
        )],
    );
}

#[test]
fn contract_seller_must_be_a_facility() {
    let plan = with("[[contract]]\nid = \"c\"\nfrom = \"us\"\nto = [\"r1\"]\nmin = 1\n");
    fails(
        &plan,
        &[format!(
            "{}: contract \"c\" from = \"us\": no mine, refinery or magnet plant has this id (it is a market; a contract's seller is a mine, a refinery or a magnet plant)",
            at(&plan, "from = |\"us\"")
        )],
    );
}

#[test]
fn contract_seller_typo_gets_a_suggestion() {
    let plan = with("[[contract]]\nid = \"c\"\nfrom = \"m2\"\nto = [\"r1\"]\nmin = 1\n");
    fails(
        &plan,
        &[format!(
            "{}: contract \"c\" from = \"m2\": no mine, refinery or magnet plant has this id (did you mean \"m1\"?)",
            at(&plan, "from = |\"m2\"")
        )],
    );
}

#[test]
fn contract_buyers_must_be_of_the_next_stage() {
    let plan = with("[[contract]]\nid = \"c\"\nfrom = \"m1\"\nto = [\"r1\", \"p1\"]\nmin = 1\n");
    fails(
        &plan,
        &[format!(
            "{}: contract \"c\" to = \"p1\": no refinery has this id (it is a magnet plant; a mine sells to a refinery)",
            at(&plan, "\"r1\", |\"p1\"")
        )],
    );
}

#[test]
fn contract_buyers_must_not_be_empty() {
    let plan = with("[[contract]]\nid = \"c\"\nfrom = \"m1\"\nto = []\nmin = 1\n");
    fails(
        &plan,
        &[format!(
            "{}: contract \"c\" to: must name at least one buyer",
            at(&plan, "to = |[]")
        )],
    );
}

#[test]
fn a_stockpile_cannot_be_a_buyer() {
    let plan = with(
        "[[stockpile]]\nid = \"st\"\ncountry = \"US\"\nproduct = \"magnet\"\ncapacity = 10\n\
         [[contract]]\nid = \"c\"\nfrom = \"p1\"\nto = [\"st\"]\nmin = 1\n",
    );
    fails(
        &plan,
        &[format!(
            "{}: contract \"c\" to = \"st\": no market has this id (it is a stockpile; a stockpile cannot be a contract's buyer)",
            at(&plan, "to = [|\"st\"]")
        )],
    );
}

#[test]
fn contract_needs_min_max_or_exclusive() {
    let plan = with("[[contract]]\nid = \"c\"\nfrom = \"m1\"\nto = [\"r1\"]\nexclusive = false\n");
    fails(
        &plan,
        &[format!(
            "{}: contract \"c\": a contract needs at least one of min, max or exclusive = true",
            at(&plan, "|[[contract]]")
        )],
    );
}

#[test]
fn contract_penalty_needs_min() {
    let plan =
        with("[[contract]]\nid = \"c\"\nfrom = \"m1\"\nto = [\"r1\"]\nmax = 5\npenalty = 10\n");
    fails(
        &plan,
        &[format!(
            "{}: contract \"c\" penalty = 10: a penalty needs min (it is the cost per t short of min)",
            at(&plan, "penalty = |10")
        )],
    );
}

#[test]
fn contract_min_at_most_max_in_every_year() {
    let plan = with(
        "[[contract]]\nid = \"c\"\nfrom = \"m1\"\nto = [\"r1\"]\nmin = { 2026 = 20 }\nmax = 10\n",
    );
    fails(
        &plan,
        &[format!(
            "{}: contract \"c\" min = 20: must be at most max (10) in every year the contract applies; in 2026 it is not",
            at(&plan, "min = |{ 2026")
        )],
    );
    // Outside the contract's years it does not matter.
    passes(&with(
        "[[contract]]\nid = \"c\"\nfrom = \"m1\"\nto = [\"r1\"]\nmin = 20\nmax = 10\nyears = [2030, 2031]\n",
    ));
}

#[test]
fn contract_element_only_for_refinery_sellers() {
    let plan = with(
        "[[contract]]\nid = \"c\"\nfrom = \"m1\"\nto = [\"r1\"]\nelement = \"NdPr\"\nmin = 1\n",
    );
    fails(
        &plan,
        &[format!(
            "{}: contract \"c\" element: allowed only when from is a refinery (a contract for oxide)",
            at(&plan, "element = |\"NdPr\"")
        )],
    );
}

#[test]
fn contract_element_must_be_declared() {
    let plan =
        with("[[contract]]\nid = \"c\"\nfrom = \"r1\"\nto = [\"p1\"]\nelement = \"Dy\"\nmin = 1\n");
    fails(
        &plan,
        &[format!(
            "{}: contract \"c\" element = \"Dy\": not declared under [elements] (declared: NdPr)",
            at(&plan, "element = |\"Dy\"")
        )],
    );
}

#[test]
fn contract_ids_are_unique() {
    let plan = with(
        "[[contract]]\nid = \"c\"\nfrom = \"m1\"\nto = [\"r1\"]\nmin = 1\n\
         [[contract]]\nid = \"c\"\nfrom = \"r1\"\nto = [\"p1\"]\nmin = 1\n",
    );
    let first = at(&plan, "[[contract]]\nid = |\"c\"\nfrom = \"m1\"");
    fails(
        &plan,
        &[format!(
            "{}: contract id \"c\" is used twice (first at {first}); ids must be unique",
            at(&plan, "[[contract]]\nid = |\"c\"\nfrom = \"r1\"")
        )],
    );
}

#[test]
fn contract_exclusive_must_be_a_boolean() {
    let plan =
        with("[[contract]]\nid = \"c\"\nfrom = \"m1\"\nto = [\"r1\"]\nexclusive = \"yes\"\n");
    fails(
        &plan,
        &[format!(
            "{}: contract \"c\" exclusive: expected true or false, found a string \"yes\"",
            at(&plan, "exclusive = |\"yes\"")
        )],
    );
}

#[test]
fn subsidy_empty_lists_are_errors() {
    let plan = with("[[subsidy]]\nid = \"s\"\nstage = \"magnet\"\ncountries = []\nper_tonne = 1\n");
    fails(
        &plan,
        &[format!(
            "{}: subsidy \"s\" countries: an empty list matches nothing; leave it out to match every facility of the stage",
            at(&plan, "countries = |[]")
        )],
    );
    let plan =
        with("[[subsidy]]\nid = \"s\"\nstage = \"magnet\"\nfacilities = []\nper_tonne = 1\n");
    fails(
        &plan,
        &[format!(
            "{}: subsidy \"s\" facilities: an empty list matches nothing; leave it out to match every facility of the stage",
            at(&plan, "facilities = |[]")
        )],
    );
}

#[test]
fn subsidy_facilities_must_be_of_its_stage() {
    let plan =
        with("[[subsidy]]\nid = \"s\"\nstage = \"magnet\"\nfacilities = [\"r1\"]\nper_tonne = 1\n");
    fails(
        &plan,
        &[format!(
            "{}: subsidy \"s\" facilities = \"r1\": no magnet plant has this id (it is a refinery; a subsidy of stage \"magnet\" pays magnet plants)",
            at(&plan, "facilities = [|\"r1\"]")
        )],
    );
}

#[test]
fn subsidy_stage_must_be_known() {
    let plan = with("[[subsidy]]\nid = \"s\"\nstage = \"smelting\"\nper_tonne = 1\n");
    fails(
        &plan,
        &[format!(
            "{}: subsidy \"s\" stage = \"smelting\": expected \"mining\", \"refining\" or \"magnet\"",
            at(&plan, "stage = |\"smelting\"")
        )],
    );
}

#[test]
fn subsidy_share_of_cost_is_a_share() {
    let plan = with("[[subsidy]]\nid = \"s\"\nstage = \"magnet\"\nshare_of_cost = 1.5\n");
    fails(
        &plan,
        &[format!(
            "{}: subsidy \"s\" share_of_cost = 1.5: must be between 0 and 1",
            at(&plan, "share_of_cost = |1.5")
        )],
    );
}

#[test]
fn subsidies_may_not_pay_more_than_cost() {
    // p1 costs 30,000 per t: 20,000 + 0.5 × 30,000 = 35,000 > 30,000.
    let plan = with(
        "[[subsidy]]\nid = \"a\"\nstage = \"magnet\"\nper_tonne = 20000\n\
         [[subsidy]]\nid = \"b\"\nstage = \"magnet\"\ncountries = [\"US\"]\nshare_of_cost = 0.5\n",
    );
    fails(
        &plan,
        &[format!(
            "{}: subsidy \"b\": in 2026 the subsidies of magnet plant \"p1\" (a, b) add up to 35000 per unit, more than its cost 30000: a facility would be paid to produce",
            at(&plan, "|[[subsidy]]\nid = \"b\"")
        )],
    );
    // Exactly the cost is allowed.
    passes(&with(
        "[[subsidy]]\nid = \"a\"\nstage = \"magnet\"\nper_tonne = 15000\nshare_of_cost = 0.5\n",
    ));
}

#[test]
fn subsidy_check_covers_years_a_facility_does_not_operate() {
    // r1 closes in 2026 (online 2025 via a two-year horizon) but the check
    // covers every horizon year.
    let plan = edit(MINIMAL, "last_year = 2026", "last_year = 2027");
    let plan = edit(&plan, "cost = 5000\n", "cost = 5000\nonline = 2027\n");
    let plan = format!(
        "{plan}\n[[subsidy]]\nid = \"s\"\nstage = \"refining\"\nper_tonne = 6000\nyears = [2026, 2026]\n"
    );
    fails(
        &plan,
        &[format!(
            "{}: subsidy \"s\": in 2026 the subsidies of refinery \"r1\" (s) add up to 6000 per unit, more than its cost 5000: a facility would be paid to produce",
            at(&plan, "|[[subsidy]]")
        )],
    );
}

#[test]
fn oxide_stockpile_needs_an_element() {
    let plan =
        with("[[stockpile]]\nid = \"st\"\ncountry = \"US\"\nproduct = \"oxide\"\ncapacity = 10\n");
    fails(
        &plan,
        &[format!(
            "{}: stockpile \"st\": missing required key \"element\" (an oxide stockpile holds one element's oxide)",
            at(&plan, "|[[stockpile]]")
        )],
    );
}

#[test]
fn magnet_stockpile_has_no_element() {
    let plan = with(
        "[[stockpile]]\nid = \"st\"\ncountry = \"US\"\nproduct = \"magnet\"\nelement = \"NdPr\"\ncapacity = 10\n",
    );
    fails(
        &plan,
        &[format!(
            "{}: stockpile \"st\" element: allowed only when product = \"oxide\" (a magnet stockpile holds magnets)",
            at(&plan, "element = |\"NdPr\"")
        )],
    );
}

#[test]
fn stockpile_product_is_oxide_or_magnet() {
    let plan = with(
        "[[stockpile]]\nid = \"st\"\ncountry = \"US\"\nproduct = \"concentrate\"\ncapacity = 10\n",
    );
    fails(
        &plan,
        &[format!(
            "{}: stockpile \"st\" product = \"concentrate\": expected \"oxide\" or \"magnet\"",
            at(&plan, "product = |\"concentrate\"")
        )],
    );
}

#[test]
fn stockpile_initial_at_most_first_year_capacity() {
    let plan = with(
        "[[stockpile]]\nid = \"st\"\ncountry = \"US\"\nproduct = \"magnet\"\ncapacity = { 2026 = 10, 2030 = 100 }\ninitial = 50\n",
    );
    fails(
        &plan,
        &[format!(
            "{}: stockpile \"st\" initial = 50: must be at most capacity in first_year 2026 (10)",
            at(&plan, "initial = |50")
        )],
    );
}

#[test]
fn stockpile_floor_at_most_capacity() {
    let plan = with(
        "[[stockpile]]\nid = \"st\"\ncountry = \"US\"\nproduct = \"magnet\"\ncapacity = 10\nmin_level = 20\n",
    );
    fails(
        &plan,
        &[format!(
            "{}: stockpile \"st\" min_level: 20 in 2026 is more than the capacity then (10); min_level may not exceed capacity in any year",
            at(&plan, "min_level = |20")
        )],
    );
}

#[test]
fn oxide_stock_cannot_be_clean_at_the_magnet_stage() {
    let plan = with(
        "[[stockpile]]\nid = \"st\"\ncountry = \"US\"\nproduct = \"oxide\"\nelement = \"NdPr\"\ncapacity = 10\ninitial_clean = [\"mining\", \"magnet\"]\n",
    );
    fails(
        &plan,
        &[format!(
            "{}: stockpile \"st\" initial_clean = \"magnet\": expected one of \"mining\", \"refining\"",
            at(&plan, "\"mining\", |\"magnet\"")
        )],
    );
}

#[test]
fn stockpile_ids_share_the_facility_namespace() {
    let plan =
        with("[[stockpile]]\nid = \"p1\"\ncountry = \"US\"\nproduct = \"magnet\"\ncapacity = 10\n");
    let first = at(&plan, "id = |\"p1\"\ncountry = \"US\"\ncapacity = 500");
    fails(
        &plan,
        &[format!(
            "{}: stockpile id \"p1\" is already used by a magnet_plant at {first}; stockpile, facility and market ids must be unique",
            at(&plan, "id = |\"p1\"\ncountry = \"US\"\nproduct")
        )],
    );
}

#[test]
fn scenario_patches_and_removes_instruments() {
    let plan = with(
        "[[contract]]\nid = \"c\"\nfrom = \"m1\"\nto = [\"r1\"]\nmin = 10\n\
         [scenario.s]\nremove = [\"c\"]\n\
         [scenario.t]\n[[scenario.t.contract]]\nid = \"c\"\nmin = -1\n",
    );
    fails(
        &plan,
        &[format!(
            "{}: scenario \"t\": contract \"c\" min = -1: must be >= 0",
            at(&plan, "min = |-1")
        )],
    );
}
