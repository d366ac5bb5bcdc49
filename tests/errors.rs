//! Malformed plans, each run through `reeplan check`: exit code 1, nothing on
//! stdout, and exactly the expected diagnostics on stderr, one `error: ` line
//! per problem, each located as `plan.toml:LINE:COL:`. Locations are computed from the plan text by
//! `common::at`, independently of the program.
//!
//! Tests marked `#[ignore = "loader gap: ..."]` state the behaviour
//! PLAN_FORMAT.md or STYLE.md asks for and the loader does not (yet) give.

mod common;

use common::{at, edit, run_in, run_plan, MINIMAL};

/// `reeplan check` on `text` fails with exactly these diagnostics.
#[track_caller]
fn fails(text: &str, lines: &[String]) {
    let run = run_plan(text, &["check"]);
    let expected: String = lines.iter().map(|l| format!("error: {l}\n")).collect();
    assert_eq!(run.stderr, expected, "stderr differs for plan:\n{text}");
    assert_eq!(run.code, Some(1), "exit code; stderr: {}", run.stderr);
    assert_eq!(run.stdout, "", "nothing on stdout when the plan is invalid");
}

/// `MINIMAL` with `extra` appended after a blank line.
fn with(extra: &str) -> String {
    format!("{MINIMAL}\n{extra}")
}

const ALL_TOP_KEYS: &str =
    "plan, elements, prices, mine, refinery, magnet_plant, market, transport, tariff, \
                            embargo, share_rule, resilience, disruption, contract, subsidy, stockpile, scenario";

#[test]
fn the_minimal_example_is_valid() {
    let run = run_plan(MINIMAL, &["check"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stderr, "");
}

// ---------------------------------------------------------------- unknown keys

#[test]
fn unknown_top_level_key() {
    let plan = format!("bogus = 1\n{MINIMAL}");
    fails(
        &plan,
        &[format!(
            "{}: plan file: unknown key \"bogus\" (expected one of: {ALL_TOP_KEYS})",
            at(&plan, "|bogus")
        )],
    );
}

#[test]
fn misspelt_plan_key_gets_a_suggestion() {
    let plan = edit(
        MINIMAL,
        "name = \"two-stage toy\"",
        "nme = \"two-stage toy\"",
    );
    fails(
        &plan,
        &[format!(
            "{}: [plan]: unknown key \"nme\" (did you mean \"name\"?)",
            at(&plan, "|nme")
        )],
    );
}

#[test]
fn misspelt_facility_key_gets_a_suggestion_and_the_real_key_is_missing() {
    let plan = edit(MINIMAL, "capacity = 500\n", "capacty = 500\n");
    fails(
        &plan,
        &[
            format!(
                "{}: magnet_plant \"p1\": unknown key \"capacty\" (did you mean \"capacity\"?)",
                at(&plan, "|capacty")
            ),
            format!(
                "{}: magnet_plant \"p1\": missing required key \"capacity\"",
                at(&plan, "|[[magnet_plant]]")
            ),
        ],
    );
}

#[test]
fn unknown_facility_key_lists_the_allowed_ones() {
    let plan = edit(
        MINIMAL,
        "country = \"AU\"\n",
        "country = \"AU\"\ncolour = \"red\"\n",
    );
    fails(
        &plan,
        &[format!(
            "{}: mine \"m1\": unknown key \"colour\" (expected one of: id, name, country, capacity, cost, online, ramp, closes, expand, grade)",
            at(&plan, "|colour")
        )],
    );
}

#[test]
fn unknown_key_in_nested_transport_table() {
    let plan = with("[transport]\ndomestic = { oxide = 1, metal = 2 }\n");
    fails(
        &plan,
        &[format!(
            "{}: [transport] domestic: unknown key \"metal\" (expected one of: concentrate, oxide, magnet)",
            at(&plan, "|metal")
        )],
    );
}

#[test]
fn unknown_key_in_transport_lane() {
    let plan = with("[[transport.lane]]\nfrom = \"MY\"\nto = \"US\"\nrail = 5\n");
    fails(
        &plan,
        &[format!(
            "{}: transport lane #1: unknown key \"rail\" (expected one of: from, to, concentrate, oxide, magnet)",
            at(&plan, "|rail")
        )],
    );
}

// ---------------------------------------------------------------- [plan]

#[test]
fn integer_field_given_as_float() {
    let plan = edit(MINIMAL, "first_year = 2026\n", "first_year = 2026.0\n");
    fails(
        &plan,
        &[format!(
            "{}: [plan] first_year: expected an integer, found a float 2026.0",
            at(&plan, "first_year = |2026.0")
        )],
    );
}

#[test]
fn online_and_closes_given_as_floats() {
    let plan = edit(
        MINIMAL,
        "cost = 2000\n",
        "cost = 2000\nonline = 2026.0\ncloses = 2030.0\n",
    );
    fails(
        &plan,
        &[
            format!(
                "{}: mine \"m1\" online: expected an integer, found a float 2026.0",
                at(&plan, "online = |2026.0")
            ),
            format!(
                "{}: mine \"m1\" closes: expected an integer, found a float 2030.0",
                at(&plan, "closes = |2030.0")
            ),
        ],
    );
}

#[test]
fn last_year_before_first_year() {
    let plan = edit(MINIMAL, "last_year = 2026", "last_year = 2025");
    fails(
        &plan,
        &[format!(
            "{}: [plan] last_year = 2025: must be >= first_year (2026)",
            at(&plan, "last_year = |2025")
        )],
    );
}

#[test]
fn version_other_than_1() {
    let plan = edit(
        MINIMAL,
        "last_year = 2026\n",
        "last_year = 2026\nversion = 2\n",
    );
    fails(
        &plan,
        &[format!(
            "{}: [plan] version = 2: only format version 1 is supported",
            at(&plan, "version = |2")
        )],
    );
}

#[test]
fn version_given_as_float() {
    let plan = edit(
        MINIMAL,
        "last_year = 2026\n",
        "last_year = 2026\nversion = 1.0\n",
    );
    fails(
        &plan,
        &[format!(
            "{}: [plan] version: expected an integer, found a float 1.0",
            at(&plan, "version = |1.0")
        )],
    );
}

#[test]
fn unknown_objective() {
    let plan = edit(
        MINIMAL,
        "last_year = 2026\n",
        "last_year = 2026\nobjective = \"max-cost\"\n",
    );
    fails(
        &plan,
        &[format!(
            "{}: [plan] objective = \"max-cost\": expected \"min-cost\" or \"max-resilience\"",
            at(&plan, "objective = |\"max-cost\"")
        )],
    );
}

#[test]
fn negative_discount_rate() {
    let plan = edit(
        MINIMAL,
        "last_year = 2026\n",
        "last_year = 2026\ndiscount_rate = -0.1\n",
    );
    fails(
        &plan,
        &[format!(
            "{}: [plan] discount_rate = -0.1: must be >= 0",
            at(&plan, "discount_rate = |-0.1")
        )],
    );
}

#[test]
fn wildcard_in_concern() {
    let plan = edit(
        MINIMAL,
        "last_year = 2026\n",
        "last_year = 2026\nconcern = [\"CN\", \"*\"]\n",
    );
    fails(
        &plan,
        &[format!(
            "{}: [plan] concern = \"*\": the wildcard \"*\" is allowed only in tariffs and embargoes",
            at(&plan, "\"CN\", |\"*\"")
        )],
    );
}

#[test]
fn horizon_longer_than_the_supported_maximum() {
    // Not in PLAN_FORMAT.md: a guard against absurd horizons (see the report).
    let plan = edit(MINIMAL, "last_year = 2026", "last_year = 2600");
    fails(
        &plan,
        &[format!(
            "{}: [plan] last_year = 2600: a horizon of more than 500 years is not supported",
            at(&plan, "last_year = |2600")
        )],
    );
}

#[test]
fn missing_plan_table() {
    let plan = edit(
        MINIMAL,
        "[plan]\nname = \"two-stage toy\"\nfirst_year = 2026\nlast_year = 2026\n",
        "",
    );
    fails(
        &plan,
        &[
            "plan.toml:1:1: missing the [plan] table (it needs at least first_year and last_year)"
                .to_string(),
        ],
    );
}

#[test]
fn missing_required_years() {
    let plan = edit(MINIMAL, "first_year = 2026\nlast_year = 2026\n", "");
    fails(
        &plan,
        &[
            format!(
                "{}: [plan]: missing required key \"first_year\"",
                at(&plan, "|[plan]")
            ),
            format!(
                "{}: [plan]: missing required key \"last_year\"",
                at(&plan, "|[plan]")
            ),
        ],
    );
}

#[test]
fn no_elements_declared() {
    let plan = edit(MINIMAL, "[elements.NdPr]\nprice = 60000\n", "[elements]\n");
    fails(
        &plan,
        &[
            format!(
                "{}: [elements]: declare at least one element, e.g. [elements.NdPr]",
                at(&plan, "|[elements]")
            ),
            format!(
                "{}: mine \"m1\" grade: element \"NdPr\" is not declared under [elements] (no elements are declared)",
                at(&plan, "grade = { |NdPr")
            ),
            format!(
                "{}: magnet_plant \"p1\" recipe: element \"NdPr\" is not declared under [elements] (no elements are declared)",
                at(&plan, "recipe = { |NdPr")
            ),
        ],
    );
}

// ---------------------------------------------------------------- facilities

#[test]
fn grade_out_of_range() {
    let plan = edit(MINIMAL, "NdPr = 0.2", "NdPr = 1.2");
    fails(
        &plan,
        &[format!(
            "{}: mine \"m1\" grade NdPr = 1.2: must be between 0 and 1",
            at(&plan, "NdPr = |1.2")
        )],
    );
}

#[test]
fn negative_grade() {
    let plan = edit(MINIMAL, "NdPr = 0.2", "NdPr = -0.2");
    fails(
        &plan,
        &[format!(
            "{}: mine \"m1\" grade NdPr = -0.2: must be between 0 and 1",
            at(&plan, "NdPr = |-0.2")
        )],
    );
}

#[test]
fn grades_summing_above_one() {
    let plan = edit(
        MINIMAL,
        "[elements.NdPr]\n",
        "[elements.Dy]\n\n[elements.NdPr]\n",
    );
    let plan = edit(
        &plan,
        "grade = { NdPr = 0.2 }",
        "grade = { NdPr = 0.7, Dy = 0.5 }",
    );
    fails(
        &plan,
        &[format!(
            "{}: mine \"m1\" grades sum to 1.2: must be at most 1",
            at(&plan, "grade = |{ NdPr = 0.7")
        )],
    );
}

#[test]
fn recovery_zero() {
    let plan = edit(MINIMAL, "recovery = 0.9", "recovery = 0");
    fails(
        &plan,
        &[format!(
            "{}: refinery \"r1\" recovery = 0: must be between 0.00001 and 1",
            at(&plan, "recovery = |0")
        )],
    );
}

#[test]
fn recovery_zero_in_a_table() {
    let plan = edit(MINIMAL, "recovery = 0.9", "recovery = { NdPr = 0 }");
    fails(
        &plan,
        &[format!(
            "{}: refinery \"r1\" recovery NdPr = 0: must be between 0.00001 and 1",
            at(&plan, "recovery = { NdPr = |0 }")
        )],
    );
}

#[test]
fn undeclared_elements_in_grade_recovery_and_recipe() {
    let plan = edit(
        MINIMAL,
        "grade = { NdPr = 0.2 }",
        "grade = { NdPr = 0.2, Tb = 0.01 }",
    );
    let plan = edit(&plan, "recovery = 0.9", "recovery = { Nd = 0.9 }");
    let plan = edit(
        &plan,
        "recipe = { NdPr = 0.3 }",
        "recipe = { NdPr = 0.3, Dy = 0.01 }",
    );
    fails(
        &plan,
        &[
            format!(
                "{}: mine \"m1\" grade: element \"Tb\" is not declared under [elements] (declared: NdPr)",
                at(&plan, "|Tb = 0.01")
            ),
            format!(
                "{}: refinery \"r1\" recovery: element \"Nd\" is not declared under [elements] (declared: NdPr)",
                at(&plan, "|Nd = 0.9")
            ),
            format!(
                "{}: magnet_plant \"p1\" recipe: element \"Dy\" is not declared under [elements] (declared: NdPr)",
                at(&plan, "|Dy = 0.01")
            ),
        ],
    );
}

#[test]
fn negative_recipe() {
    let plan = edit(MINIMAL, "NdPr = 0.3", "NdPr = -0.3");
    fails(
        &plan,
        &[format!(
            "{}: magnet_plant \"p1\" recipe NdPr = -0.3: must be >= 0",
            at(&plan, "NdPr = |-0.3")
        )],
    );
}

#[test]
fn ramp_value_above_one() {
    let plan = edit(MINIMAL, "cost = 2000\n", "cost = 2000\nramp = [0.5, 1.5]\n");
    fails(
        &plan,
        &[format!(
            "{}: mine \"m1\" ramp = 1.5: must be between 0 and 1",
            at(&plan, "ramp = [0.5, |1.5]")
        )],
    );
}

#[test]
fn ramp_not_an_array() {
    let plan = edit(MINIMAL, "cost = 2000\n", "cost = 2000\nramp = 0.5\n");
    fails(
        &plan,
        &[format!(
            "{}: mine \"m1\" ramp: expected an array, found a float 0.5",
            at(&plan, "ramp = |0.5")
        )],
    );
}

#[test]
fn closes_not_after_online() {
    let plan = edit(
        MINIMAL,
        "cost = 5000\n",
        "cost = 5000\nonline = 2027\ncloses = 2027\n",
    );
    fails(
        &plan,
        &[format!(
            "{}: refinery \"r1\" closes = 2027: must be greater than online (2027)",
            at(&plan, "closes = |2027")
        )],
    );
}

#[test]
fn closes_not_after_default_online() {
    let plan = edit(MINIMAL, "cost = 2000\n", "cost = 2000\ncloses = 2026\n");
    fails(
        &plan,
        &[format!(
            "{}: mine \"m1\" closes = 2026: must be greater than online (2026, the default: first_year)",
            at(&plan, "closes = |2026")
        )],
    );
}

#[test]
fn closes_not_after_default_online_reads_well() {
    let plan = edit(MINIMAL, "cost = 2000\n", "cost = 2000\ncloses = 2020\n");
    fails(
        &plan,
        &[format!(
            "{}: mine \"m1\" closes = 2020: must be greater than online (2026, the default: first_year)",
            at(&plan, "closes = |2020")
        )],
    );
}

#[test]
fn wildcard_as_facility_and_market_country() {
    let plan = edit(MINIMAL, "country = \"AU\"", "country = \"*\"");
    let plan = edit(
        &plan,
        "id = \"us\"\ncountry = \"US\"",
        "id = \"us\"\ncountry = \"*\"",
    );
    fails(
        &plan,
        &[
            format!(
                "{}: mine \"m1\" country = \"*\": the wildcard \"*\" is allowed only in tariffs and embargoes",
                at(&plan, "id = \"m1\"\ncountry = |\"*\"")
            ),
            format!(
                "{}: market \"us\" country = \"*\": the wildcard \"*\" is allowed only in tariffs and embargoes",
                at(&plan, "id = \"us\"\ncountry = |\"*\"")
            ),
        ],
    );
}

// ------------------------------------------------------------- country codes

const NOT_A_CODE: &str = "expected an ISO 3166-1 alpha-2 country code such as \"CN\" or \"US\", or a code declared in [plan] regions";

#[test]
fn a_country_name_or_lower_case_code_is_not_a_country() {
    // "China" in a tariff would silently match nothing; "cn" in concern
    // would make every share rule trivially met.
    let plan = edit(
        MINIMAL,
        "last_year = 2026\n",
        "last_year = 2026\nconcern = [\"cn\"]\n",
    );
    let plan = format!(
        "{plan}\n[[tariff]]\nid = \"t\"\nproduct = \"magnet\"\nfrom = \"China\"\nto = \"US\"\nper_tonne = 5\n"
    );
    fails(
        &plan,
        &[
            format!(
                "{}: [plan] concern = \"cn\": {NOT_A_CODE} (did you mean \"CN\"?)",
                at(&plan, "concern = [|\"cn\"]")
            ),
            format!(
                "{}: tariff \"t\" from = \"China\": {NOT_A_CODE} (did you mean \"CN\"?)",
                at(&plan, "from = |\"China\"")
            ),
        ],
    );
}

#[test]
fn an_undeclared_region_is_not_a_country() {
    let plan = edit(
        MINIMAL,
        "id = \"us\"\ncountry = \"US\"",
        "id = \"us\"\ncountry = \"ROW\"",
    );
    fails(
        &plan,
        &[format!(
            "{}: market \"us\" country = \"ROW\": {NOT_A_CODE} (if it is a region of this plan, declare it: [plan] regions = [\"ROW\"])",
            at(&plan, "country = |\"ROW\"")
        )],
    );
    // Declared, it is a country like any other.
    let declared = edit(
        &plan,
        "last_year = 2026\n",
        "last_year = 2026\nregions = [\"ROW\"]\n",
    );
    let run = run_plan(&declared, &["check"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
}

#[test]
fn regions_must_be_codes_that_are_not_countries() {
    let plan = edit(
        MINIMAL,
        "last_year = 2026\n",
        "last_year = 2026\nregions = [\"ROW\", \"row\", \"US\", \"ROW\", \"R\"]\n",
    );
    fails(
        &plan,
        &[
            format!(
                "{}: [plan] regions: \"row\" is not a region code: expected 2-8 characters of A-Z 0-9, such as \"ROW\"",
                at(&plan, "\"ROW\", |\"row\"")
            ),
            format!(
                "{}: [plan] regions: \"US\" is an ISO 3166-1 country code; declare only codes that are not countries",
                at(&plan, "|\"US\", \"ROW\", \"R\"")
            ),
            format!(
                "{}: [plan] regions: \"ROW\" is declared twice",
                at(&plan, "\"US\", |\"ROW\", \"R\"")
            ),
            format!(
                "{}: [plan] regions: \"R\" is not a region code: expected 2-8 characters of A-Z 0-9, such as \"ROW\"",
                at(&plan, "|\"R\"]")
            ),
        ],
    );
}

#[test]
fn a_tariff_embargo_or_concern_that_matches_nothing_is_a_warning() {
    // JP has no facility: the magnet tariff from JP and the oxide embargo
    // to JP never match a shipment; concern = ["JP"] leaves every stage
    // clean. A magnet tariff to MY (a refinery, no market or stockpile)
    // matches nothing either.
    let plan = edit(
        MINIMAL,
        "last_year = 2026\n",
        "last_year = 2026\nconcern = [\"JP\"]\n",
    );
    let plan = format!(
        "{plan}\n[[tariff]]\nid = \"t\"\nproduct = \"magnet\"\nfrom = \"JP\"\nto = \"US\"\nper_tonne = 5\n\n\
         [[embargo]]\nid = \"e\"\nproduct = \"oxide\"\nfrom = \"MY\"\nto = \"JP\"\n\n\
         [[tariff]]\nid = \"t2\"\nproduct = \"magnet\"\nfrom = \"US\"\nto = \"MY\"\nper_tonne = 5\n"
    );
    let run = run_plan(&plan, &["check"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let expected = [
        format!(
            "warning: {}: tariff \"t\": from = \"JP\", but the plan has no magnet plant in \"JP\", so it matches no shipment\n",
            at(&plan, "from = |\"JP\"")
        ),
        format!(
            "warning: {}: embargo \"e\": to = \"JP\", but the plan has no magnet plant, metal plant or stockpile in \"JP\", so it matches no shipment\n",
            at(&plan, "to = |\"JP\"")
        ),
        format!(
            "warning: {}: [plan] concern = [\"JP\"]: the plan has no facility in any of these countries, so every share rule is met by every tonne\n",
            at(&plan, "concern = |[\"JP\"]")
        ),
        format!(
            "warning: {}: tariff \"t2\": to = \"MY\", but the plan has no market or stockpile in \"MY\", so it matches no shipment\n",
            at(&plan, "to = |\"MY\"\nper_tonne")
        ),
    ];
    for line in &expected {
        assert!(
            run.stderr.contains(line.as_str()),
            "missing {line:?} in:\n{}",
            run.stderr
        );
    }
    assert_eq!(run.stderr.matches("warning: ").count(), 4, "{}", run.stderr);
}

#[test]
fn capacity_year_table_with_a_bad_key() {
    let plan = edit(
        MINIMAL,
        "capacity = 500",
        "capacity = { 2026 = 500, next = 600 }",
    );
    fails(
        &plan,
        &[format!(
            "{}: magnet_plant \"p1\" capacity: year table key \"next\" is not a year (expected e.g. 2030 = 100)",
            at(&plan, "|next = 600")
        )],
    );
}

#[test]
fn year_table_with_a_year_twice() {
    let plan = edit(
        MINIMAL,
        "demand = 100",
        "demand = { 2026 = 100, 02026 = 200 }",
    );
    fails(
        &plan,
        &[format!(
            "{}: market \"us\" demand: year 2026 is given twice",
            at(&plan, "demand = |{")
        )],
    );
}

#[test]
fn year_table_keys_must_be_plain_years() {
    let plan = edit(
        MINIMAL,
        "demand = 100",
        "demand = { \" 2026\" = 100, \"+2030\" = 5 }",
    );
    fails(
        &plan,
        &[
            format!(
                "{}: market \"us\" demand: year table key \" 2026\" is not a year (expected e.g. 2030 = 100)",
                at(&plan, "|\" 2026\"")
            ),
            format!(
                "{}: market \"us\" demand: year table key \"+2030\" is not a year (expected e.g. 2030 = 100)",
                at(&plan, "|\"+2030\"")
            ),
        ],
    );
}

#[test]
fn integer_too_large_for_64_bits() {
    let plan = edit(MINIMAL, "capacity = 500", "capacity = 9223372036854775808");
    fails(
        &plan,
        &[format!(
            "{}: magnet_plant.capacity = 9223372036854775808: integer out of range (it must fit in 64 bits)",
            at(&plan, "capacity = |9223372036854775808")
        )],
    );
}

#[test]
fn integer_too_large_names_the_field() {
    // Out-of-range literals are caught before ids are read, so the field is
    // named by its dotted path, down into a year table.
    let plan = edit(MINIMAL, "capacity = 500", "capacity = -9223372036854775809");
    let plan = edit(
        &plan,
        "demand = 100",
        "demand = { 2026 = 99999999999999999999 }",
    );
    fails(
        &plan,
        &[
            format!(
                "{}: magnet_plant.capacity = -9223372036854775809: integer out of range (it must fit in 64 bits)",
                at(&plan, "capacity = |-9223372036854775809")
            ),
            format!(
                "{}: market.demand.2026 = 99999999999999999999: integer out of range (it must fit in 64 bits)",
                at(&plan, "2026 = |99999999999999999999")
            ),
        ],
    );
}

// ---------------------------------------------------------------- ids

#[test]
fn duplicate_ids_across_facility_kinds_and_markets() {
    let plan = with(
        "[[magnet_plant]]\nid = \"r1\"\ncountry = \"US\"\ncapacity = 1\nrecipe = { NdPr = 0.3 }\n\n\
         [[market]]\nid = \"m1\"\ncountry = \"US\"\ndemand = 1\n",
    );
    fails(
        &plan,
        &[
            format!(
                "{}: magnet_plant id \"r1\" is already used by a refinery at {}; facility and market ids must be unique",
                at(&plan, "id = |\"r1\"\ncountry = \"US\""),
                at(&plan, "id = |\"r1\"\ncountry = \"MY\"")
            ),
            format!(
                "{}: market id \"m1\" is already used by a mine at {}; facility and market ids must be unique",
                at(&plan, "id = |\"m1\"\ncountry = \"US\""),
                at(&plan, "id = |\"m1\"\ncountry = \"AU\"")
            ),
        ],
    );
}

#[test]
fn duplicate_tariff_ids() {
    let plan = with(
        "[[tariff]]\nid = \"t\"\nproduct = \"oxide\"\nfrom = \"MY\"\nto = \"US\"\nper_tonne = 1\n\n\
         [[tariff]]\nid = \"t\"\nproduct = \"magnet\"\nfrom = \"*\"\nto = \"US\"\nper_tonne = 2\n",
    );
    fails(
        &plan,
        &[format!(
            "{}: tariff id \"t\" is used twice (first at {}); ids must be unique",
            at(&plan, "id = |\"t\"\nproduct = \"magnet\""),
            at(&plan, "id = |\"t\"\nproduct = \"oxide\"")
        )],
    );
}

#[test]
fn duplicate_embargo_share_rule_and_disruption_ids() {
    let plan = with(
        "[[embargo]]\nid = \"e\"\nproduct = \"*\"\nfrom = \"CN\"\nto = \"*\"\n\n\
         [[embargo]]\nid = \"e\"\nproduct = \"*\"\nfrom = \"RU\"\nto = \"*\"\n\n\
         [[share_rule]]\nid = \"s\"\nmin_share = 0.1\n\n\
         [[share_rule]]\nid = \"s\"\nmin_share = 0.2\n\n\
         [[disruption]]\nid = \"d\"\ncountries = [\"AU\"]\n\n\
         [[disruption]]\nid = \"d\"\ncountries = [\"MY\"]\n",
    );
    fails(
        &plan,
        &[
            format!(
                "{}: embargo id \"e\" is used twice (first at {}); ids must be unique",
                at(&plan, "id = |\"e\"\nproduct = \"*\"\nfrom = \"RU\""),
                at(&plan, "id = |\"e\"\nproduct = \"*\"\nfrom = \"CN\"")
            ),
            format!(
                "{}: share_rule id \"s\" is used twice (first at {}); ids must be unique",
                at(&plan, "id = |\"s\"\nmin_share = 0.2"),
                at(&plan, "id = |\"s\"\nmin_share = 0.1")
            ),
            format!(
                "{}: disruption id \"d\" is used twice (first at {}); ids must be unique",
                at(&plan, "id = |\"d\"\ncountries = [\"MY\"]"),
                at(&plan, "id = |\"d\"\ncountries = [\"AU\"]")
            ),
        ],
    );
}

#[test]
fn id_with_a_space() {
    let plan = edit(MINIMAL, "id = \"m1\"", "id = \"m 1\"");
    fails(
        &plan,
        &[format!(
            "{}: mine \"m 1\" id = \"m 1\": an id must be 1-64 characters of A-Z a-z 0-9 _ . -",
            at(&plan, "id = |\"m 1\"")
        )],
    );
}

#[test]
fn id_of_65_characters() {
    let long = "a".repeat(65);
    let plan = edit(MINIMAL, "id = \"us\"", &format!("id = \"{long}\""));
    fails(
        &plan,
        &[format!(
            "{}: market \"{long}\" id = \"{long}\": an id must be 1-64 characters of A-Z a-z 0-9 _ . -",
            at(&plan, &format!("id = |\"{long}\""))
        )],
    );
}

#[test]
fn id_of_64_characters_is_fine() {
    let long = format!("{}.-_Z9", "a".repeat(59));
    assert_eq!(long.len(), 64);
    let plan = edit(MINIMAL, "id = \"us\"", &format!("id = \"{long}\""));
    let run = run_plan(&plan, &["check"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
}

#[test]
fn empty_id() {
    let plan = edit(MINIMAL, "id = \"r1\"", "id = \"\"");
    fails(
        &plan,
        &[format!(
            "{}: refinery \"\" id = \"\": an id must be 1-64 characters of A-Z a-z 0-9 _ . -",
            at(&plan, "id = |\"\"")
        )],
    );
}

// ---------------------------------------------------------------- markets

#[test]
fn negative_demand() {
    let plan = edit(MINIMAL, "demand = 100", "demand = -5");
    fails(
        &plan,
        &[format!(
            "{}: market \"us\" demand = -5: must be >= 0",
            at(&plan, "demand = |-5")
        )],
    );
}

#[test]
fn negative_demand_in_a_year_table() {
    let plan = edit(
        MINIMAL,
        "demand = 100",
        "demand = { 2026 = 100, 2030 = -1 }",
    );
    fails(
        &plan,
        &[format!(
            "{}: market \"us\" demand 2030 = -1: must be >= 0",
            at(&plan, "2030 = |-1")
        )],
    );
}

#[test]
fn negative_unmet_penalty() {
    let plan = edit(MINIMAL, "demand = 100", "demand = 100\nunmet_penalty = -1");
    fails(
        &plan,
        &[format!(
            "{}: market \"us\" unmet_penalty = -1: must be >= 0",
            at(&plan, "unmet_penalty = |-1")
        )],
    );
}

// ---------------------------------------------------------------- non-finite numbers

#[test]
fn nan_and_infinities() {
    let plan = edit(MINIMAL, "demand = 100", "demand = nan");
    let plan = edit(&plan, "cost = 2000", "cost = inf");
    let plan = edit(&plan, "cost = 5000", "cost = -inf");
    fails(
        &plan,
        &[
            format!(
                "{}: mine \"m1\" cost = inf: must be a finite number",
                at(&plan, "cost = |inf")
            ),
            format!(
                "{}: refinery \"r1\" cost = -inf: must be a finite number",
                at(&plan, "cost = |-inf")
            ),
            format!(
                "{}: market \"us\" demand = NaN: must be a finite number",
                at(&plan, "demand = |nan")
            ),
        ],
    );
}

#[test]
fn overflowing_float_is_quoted_as_written() {
    let plan = edit(MINIMAL, "cost = 2000", "cost = 1e400");
    fails(
        &plan,
        &[format!(
            "{}: mine.cost = 1e400: number out of range (too large for a 64-bit float)",
            at(&plan, "cost = |1e400")
        )],
    );
}

// ---------------------------------------------------------------- transport

#[test]
fn lane_product_given_twice_for_one_pair() {
    let plan = with(
        "[[transport.lane]]\nfrom = \"MY\"\nto = \"US\"\noxide = 5\n\n\
         [[transport.lane]]\nfrom = \"MY\"\nto = \"US\"\nmagnet = 2\noxide = 6\n",
    );
    fails(
        &plan,
        &[format!(
            "{}: transport lane MY -> US oxide: the oxide cost of this lane is already given at {}",
            at(&plan, "oxide = |6"),
            at(&plan, "oxide = |5")
        )],
    );
}

#[test]
fn lane_pair_given_twice_with_different_products_is_fine() {
    let plan = with(
        "[[transport.lane]]\nfrom = \"MY\"\nto = \"US\"\noxide = 5\n\n\
         [[transport.lane]]\nfrom = \"MY\"\nto = \"US\"\nmagnet = 2\n",
    );
    let run = run_plan(&plan, &["check"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
}

#[test]
fn lane_product_given_twice_points_at_the_first() {
    let plan = with(
        "[[transport.lane]]\nfrom = \"MY\"\nto = \"US\"\noxide = 5\n\n\
         [[transport.lane]]\nfrom = \"MY\"\nto = \"US\"\noxide = 6\n",
    );
    fails(
        &plan,
        &[format!(
            "{}: transport lane MY -> US oxide: the oxide cost of this lane is already given at {}",
            at(&plan, "oxide = |6"),
            at(&plan, "oxide = |5")
        )],
    );
}

#[test]
fn wildcard_in_a_lane() {
    let plan = with("[[transport.lane]]\nfrom = \"*\"\nto = \"US\"\noxide = 5\n");
    fails(
        &plan,
        &[format!(
            "{}: transport lane #1 from = \"*\": the wildcard \"*\" is allowed only in tariffs and embargoes",
            at(&plan, "from = |\"*\"")
        )],
    );
}

// ---------------------------------------------------------------- tariffs and embargoes

#[test]
fn tariff_element_with_product_magnet() {
    let plan = with("[[tariff]]\nproduct = \"magnet\"\nelement = \"NdPr\"\nfrom = \"*\"\nto = \"US\"\nper_tonne = 1\n");
    fails(
        &plan,
        &[format!(
            "{}: tariff #1 element: allowed only when product = \"oxide\"",
            at(&plan, "element = |\"NdPr\"")
        )],
    );
}

#[test]
fn tariff_on_an_undeclared_element() {
    let plan = with("[[tariff]]\nproduct = \"oxide\"\nelement = \"Tb\"\nfrom = \"MY\"\nto = \"US\"\nper_tonne = 1\n");
    fails(
        &plan,
        &[format!(
            "{}: tariff #1 element = \"Tb\": not declared under [elements] (declared: NdPr)",
            at(&plan, "element = |\"Tb\"")
        )],
    );
}

#[test]
fn tariff_product_wildcard() {
    let plan = with("[[tariff]]\nproduct = \"*\"\nfrom = \"MY\"\nto = \"US\"\nper_tonne = 1\n");
    fails(
        &plan,
        &[format!(
            "{}: tariff #1 product = \"*\": expected \"concentrate\", \"oxide\" or \"magnet\"",
            at(&plan, "product = |\"*\"")
        )],
    );
}

#[test]
fn ad_valorem_on_magnet_without_a_magnet_price() {
    let plan = with("[[tariff]]\nid = \"t1\"\nproduct = \"magnet\"\nfrom = \"*\"\nto = \"US\"\nad_valorem = 0.1\n");
    fails(
        &plan,
        &[format!(
            "{}: tariff \"t1\" ad_valorem = 0.1: [prices] magnet is 0, so this tariff would charge nothing; set [prices] magnet",
            at(&plan, "ad_valorem = |0.1")
        )],
    );
}

#[test]
fn ad_valorem_on_magnet_with_an_explicit_zero_price() {
    let plan = with(
        "[prices]\nmagnet = 0\n\n[[tariff]]\nproduct = \"magnet\"\nfrom = \"*\"\nto = \"US\"\nad_valorem = 0.1\n",
    );
    fails(
        &plan,
        &[format!(
            "{}: tariff #1 ad_valorem = 0.1: [prices] magnet is 0, so this tariff would charge nothing; set [prices] magnet",
            at(&plan, "ad_valorem = |0.1")
        )],
    );
}

#[test]
fn ad_valorem_on_concentrate_without_a_price() {
    let plan = with(
        "[[tariff]]\nproduct = \"concentrate\"\nfrom = \"AU\"\nto = \"MY\"\nad_valorem = 0.25\n",
    );
    fails(
        &plan,
        &[format!(
            "{}: tariff #1 ad_valorem = 0.25: [prices] concentrate is 0, so this tariff would charge nothing; set [prices] concentrate",
            at(&plan, "ad_valorem = |0.25")
        )],
    );
}

/// MINIMAL with a second element, Dy, that has no price.
fn with_unpriced_dy(extra: &str) -> String {
    let plan = edit(
        MINIMAL,
        "[elements.NdPr]\n",
        "[elements.Dy]\n\n[elements.NdPr]\n",
    );
    format!("{plan}\n{extra}")
}

#[test]
fn oxide_ad_valorem_without_element_when_an_element_has_price_zero() {
    let plan = with_unpriced_dy(
        "[[tariff]]\nproduct = \"oxide\"\nfrom = \"MY\"\nto = \"US\"\nad_valorem = 0.25\n",
    );
    fails(
        &plan,
        &[format!(
            "{}: tariff #1 ad_valorem = 0.25: elements Dy have price 0, so this oxide tariff would charge nothing on them; give [elements.X] price or restrict the tariff with element",
            at(&plan, "ad_valorem = |0.25")
        )],
    );
}

#[test]
fn oxide_ad_valorem_on_a_priced_element_is_fine() {
    let plan = with_unpriced_dy(
        "[[tariff]]\nproduct = \"oxide\"\nelement = \"NdPr\"\nfrom = \"MY\"\nto = \"US\"\nad_valorem = 0.25\n",
    );
    let run = run_plan(&plan, &["check"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
}

#[test]
fn oxide_ad_valorem_on_an_unpriced_element() {
    let plan = with_unpriced_dy(
        "[[tariff]]\nproduct = \"oxide\"\nelement = \"Dy\"\nfrom = \"MY\"\nto = \"US\"\nad_valorem = 0.25\n",
    );
    fails(
        &plan,
        &[format!(
            "{}: tariff #1 ad_valorem = 0.25: element Dy has price 0, so this tariff would charge nothing; set [elements.Dy] price",
            at(&plan, "ad_valorem = |0.25")
        )],
    );
}

#[test]
fn embargo_element_with_product_concentrate() {
    let plan = with(
        "[[embargo]]\nproduct = \"concentrate\"\nelement = \"NdPr\"\nfrom = \"CN\"\nto = \"*\"\n",
    );
    fails(
        &plan,
        &[format!(
            "{}: embargo #1 element: allowed only when product is \"oxide\" or \"*\"",
            at(&plan, "element = |\"NdPr\"")
        )],
    );
}

#[test]
fn embargo_element_with_any_product_is_fine() {
    let plan =
        with("[[embargo]]\nproduct = \"*\"\nelement = \"NdPr\"\nfrom = \"CN\"\nto = \"*\"\n");
    let run = run_plan(&plan, &["check"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
}

// ---------------------------------------------------------------- year ranges

fn tariff_with_years(years: &str) -> String {
    with(&format!(
        "[[tariff]]\nproduct = \"magnet\"\nfrom = \"*\"\nto = \"US\"\nper_tonne = 1\nyears = {years}\n"
    ))
}

#[test]
fn year_range_reversed() {
    let plan = tariff_with_years("[2030, 2025]");
    fails(
        &plan,
        &[format!(
            "{}: tariff #1 years = [2030, 2025]: the first year must not be after the last",
            at(&plan, "years = |[")
        )],
    );
}

#[test]
fn year_range_with_three_entries() {
    let plan = tariff_with_years("[2025, 2026, 2030]");
    fails(
        &plan,
        &[format!(
            "{}: tariff #1 years: expected exactly two years [first, last], found 3 values",
            at(&plan, "years = |[")
        )],
    );
}

#[test]
fn year_range_with_a_float() {
    let plan = tariff_with_years("[2025.0, 2030]");
    fails(
        &plan,
        &[format!(
            "{}: tariff #1 years: expected an integer, found a float 2025.0",
            at(&plan, "years = [|2025.0")
        )],
    );
}

#[test]
fn year_range_past_the_horizon_is_fine() {
    let run = run_plan(&tariff_with_years("[1990, 2100]"), &["check"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
}

// ---------------------------------------------------------------- share rules

#[test]
fn share_rule_naming_an_unknown_market() {
    let plan = with("[[share_rule]]\nid = \"s\"\nmarkets = [\"uss\"]\nmin_share = 0.5\n");
    fails(
        &plan,
        &[format!(
            "{}: share_rule \"s\" markets = \"uss\": no market has this id (did you mean \"us\"?)",
            at(&plan, "markets = [|\"uss\"]")
        )],
    );
}

#[test]
fn share_rule_naming_a_plant_as_market() {
    let plan = with("[[share_rule]]\nid = \"s\"\nmarkets = [\"us\", \"p1\"]\nmin_share = 0.5\n");
    fails(
        &plan,
        &[format!(
            "{}: share_rule \"s\" markets = \"p1\": no market has this id (it is a magnet_plant; a share rule pools markets)",
            at(&plan, "\"us\", |\"p1\"")
        )],
    );
}

#[test]
fn share_rule_with_empty_stages() {
    let plan = with("[[share_rule]]\nid = \"s\"\nstages = []\nmin_share = 0.5\n");
    fails(
        &plan,
        &[format!(
            "{}: share_rule \"s\" stages: must list at least one stage",
            at(&plan, "stages = |[]")
        )],
    );
}

#[test]
fn share_rule_with_a_bad_stage_name() {
    let plan = with(
        "[[share_rule]]\nid = \"s\"\nstages = [\"mining\", \"separation\"]\nmin_share = 0.5\n",
    );
    fails(
        &plan,
        &[format!(
            "{}: share_rule \"s\" stages = \"separation\": expected \"mining\", \"refining\" or \"magnet\" (did you mean \"refining\"?)",
            at(&plan, "|\"separation\"")
        )],
    );
}

#[test]
fn min_share_above_one() {
    let plan = with("[[share_rule]]\nid = \"s\"\nmin_share = 1.5\n");
    fails(
        &plan,
        &[format!(
            "{}: share_rule \"s\" min_share = 1.5: must be between 0 and 1",
            at(&plan, "min_share = |1.5")
        )],
    );
}

#[test]
fn min_share_above_one_in_a_year_table() {
    let plan = with("[[share_rule]]\nid = \"s\"\nmin_share = { 2026 = 0.5, 2030 = 1.1 }\n");
    fails(
        &plan,
        &[format!(
            "{}: share_rule \"s\" min_share 2030 = 1.1: must be between 0 and 1",
            at(&plan, "2030 = |1.1")
        )],
    );
}

#[test]
fn share_rule_without_min_share() {
    let plan = with("[[share_rule]]\nid = \"s\"\n");
    fails(
        &plan,
        &[format!(
            "{}: share_rule \"s\": missing required key \"min_share\"",
            at(&plan, "|[[share_rule]]")
        )],
    );
}

// ---------------------------------------------------------------- resilience

#[test]
fn disruption_naming_a_market_as_facility() {
    let plan = with("[[disruption]]\nid = \"d\"\nfacilities = [\"us\"]\n");
    fails(
        &plan,
        &[format!(
            "{}: disruption \"d\" facilities = \"us\": no mine, refinery or magnet plant has this id (it is a market; a disruption hits mines, refineries and magnet plants)",
            at(&plan, "facilities = [|\"us\"]")
        )],
    );
}

#[test]
fn disruption_capacity_factor_above_one() {
    let plan = with("[[disruption]]\nid = \"d\"\ncapacity_factor = 1.5\n");
    fails(
        &plan,
        &[format!(
            "{}: disruption \"d\" capacity_factor = 1.5: must be between 0 and 1",
            at(&plan, "capacity_factor = |1.5")
        )],
    );
}

#[test]
fn negative_resilience_budget() {
    let plan = with("[resilience]\nbudget = -1\n");
    fails(
        &plan,
        &[format!(
            "{}: [resilience] budget = -1: must be >= 0",
            at(&plan, "budget = |-1")
        )],
    );
}

#[test]
fn max_resilience_without_disruptions() {
    let plan = edit(
        MINIMAL,
        "last_year = 2026\n",
        "last_year = 2026\nobjective = \"max-resilience\"\n",
    );
    fails(
        &plan,
        &[format!(
            "{}: [plan] objective = \"max-resilience\" needs at least one [[disruption]]",
            at(&plan, "objective = |\"max-resilience\"")
        )],
    );
}

// ---------------------------------------------------------------- scenarios

#[test]
fn scenario_removing_a_missing_id() {
    let plan = with("[scenario.nomine]\nremove = [\"m2\"]\n");
    fails(
        &plan,
        &[format!(
            "{}: scenario \"nomine\" remove = \"m2\": no entry of the base plan has this id",
            at(&plan, "remove = [|\"m2\"]")
        )],
    );
}

#[test]
fn scenario_removing_an_id_twice() {
    let plan = with("[scenario.s]\nremove = [\"m1\", \"m1\"]\n");
    fails(
        &plan,
        &[format!(
            "{}: scenario \"s\" remove = \"m1\": given twice in remove; give each id once",
            at(&plan, "remove = [\"m1\", |\"m1\"]")
        )],
    );
}

#[test]
fn scenario_remove_not_an_array() {
    let plan = with("[scenario.s]\nremove = \"m1\"\n");
    fails(
        &plan,
        &[format!(
            "{}: scenario \"s\" remove: expected an array of ids, found a string",
            at(&plan, "remove = |\"m1\"")
        )],
    );
}

#[test]
fn scenarios_do_not_nest() {
    let plan = with("[scenario.deep.scenario.x]\ndescription = \"x\"\n");
    fails(
        &plan,
        &[format!(
            "{}: scenario \"deep\": scenarios do not nest",
            at(&plan, "[scenario.deep.|scenario.x]")
        )],
    );
}

#[test]
fn scenario_making_a_value_invalid() {
    let plan = with("[scenario.bad]\n[[scenario.bad.mine]]\nid = \"m1\"\ngrade = { NdPr = 2 }\n");
    fails(
        &plan,
        &[format!(
            "{}: scenario \"bad\": mine \"m1\" grade NdPr = 2: must be between 0 and 1",
            at(&plan, "grade = { NdPr = |2 }")
        )],
    );
}

#[test]
fn scenario_making_the_horizon_invalid_and_another_using_a_float_year() {
    let plan =
        with("[scenario.a.plan]\nlast_year = 2020\n\n[scenario.b.plan]\nfirst_year = 2030.0\n");
    fails(
        &plan,
        &[
            format!(
                "{}: scenario \"a\": [plan] last_year = 2020: must be >= first_year (2026)",
                at(&plan, "last_year = |2020")
            ),
            format!(
                "{}: scenario \"b\": [plan] first_year: expected an integer, found a float 2030.0",
                at(&plan, "first_year = |2030.0")
            ),
        ],
    );
}

#[test]
fn scenario_removing_a_market_a_share_rule_needs() {
    let plan = with("[[share_rule]]\nid = \"x\"\nmarkets = [\"us\"]\nmin_share = 0.1\n\n[scenario.s]\nremove = [\"us\"]\n");
    fails(
        &plan,
        &[format!(
            "{}: scenario \"s\": share_rule \"x\" markets = \"us\": no market has this id",
            at(&plan, "markets = [|\"us\"]")
        )],
    );
}

#[test]
fn scenario_adding_a_duplicate_id() {
    let plan =
        with("[scenario.s]\n[[scenario.s.market]]\nid = \"m1\"\ncountry = \"US\"\ndemand = 1\n");
    fails(
        &plan,
        &[format!(
            "{}: scenario \"s\": market id \"m1\" is already used by a mine at {}; facility and market ids must be unique",
            at(&plan, "[[scenario.s.market]]\nid = |\"m1\""),
            at(&plan, "id = |\"m1\"\ncountry = \"AU\"")
        )],
    );
}

#[test]
fn scenario_giving_one_id_twice() {
    let plan = with(
        "[scenario.s]\n[[scenario.s.market]]\nid = \"m9\"\ncountry = \"US\"\ndemand = 5\n\n\
         [[scenario.s.market]]\nid = \"m9\" # again\ncountry = \"US\"\ndemand = 7\n",
    );
    fails(
        &plan,
        &[format!(
            "{}: scenario \"s\" market id \"m9\" is given twice in this scenario (first at {}); give each id once",
            at(&plan, "id = |\"m9\" # again"),
            at(&plan, "id = |\"m9\"\ncountry = \"US\"\ndemand = 5")
        )],
    );
}

#[test]
fn scenario_with_a_misspelt_plan_key() {
    let plan = with("[scenario.s.plan]\nfirst_yar = 2020\n");
    fails(
        &plan,
        &[format!(
            "{}: scenario \"s\": [plan]: unknown key \"first_yar\" (did you mean \"first_year\"?)",
            at(&plan, "|first_yar")
        )],
    );
}

#[test]
fn scenario_with_an_unknown_key() {
    let plan = with("[scenario.s]\nfoo = 1\n");
    fails(
        &plan,
        &[format!(
            "{}: scenario \"s\": unknown key \"foo\" (expected one of: plan, elements, prices, mine, refinery, magnet_plant, market, transport, tariff, embargo, share_rule, resilience, disruption, contract, subsidy, stockpile, description, remove)",
            at(&plan, "|foo")
        )],
    );
}

#[test]
fn scenario_with_a_bad_name() {
    let plan = with("[scenario.\"a b\"]\ndescription = \"x\"\n");
    fails(
        &plan,
        &[format!(
            "{}: scenario name \"a b\": a name must be 1-64 characters of A-Z a-z 0-9 _ . -",
            at(&plan, "[scenario.|\"a b\"]")
        )],
    );
}

#[test]
fn scenario_patching_a_transport_rate_recursively() {
    let plan = with("[transport]\ncross_border = { oxide = 5 }\n\n[scenario.s.transport]\ncross_border = { magnet = -1 }\n");
    fails(
        &plan,
        &[format!(
            "{}: scenario \"s\": [transport] cross_border magnet = -1: must be >= 0",
            at(&plan, "magnet = |-1")
        )],
    );
}

#[test]
fn scenario_lane_patch_matched_by_pair() {
    let plan = with(
        "[[transport.lane]]\nfrom = \"MY\"\nto = \"US\"\noxide = 5\n\n\
         [scenario.s]\n[[scenario.s.transport.lane]]\nfrom = \"MY\"\nto = \"US\"\noxide = -1\n",
    );
    fails(
        &plan,
        &[format!(
            "{}: scenario \"s\": transport lane MY -> US oxide = -1: must be >= 0",
            at(&plan, "oxide = |-1")
        )],
    );
}

#[test]
fn scenario_needing_a_disruption() {
    let plan = with("[scenario.s.plan]\nobjective = \"max-resilience\"\n");
    fails(
        &plan,
        &[format!(
            "{}: scenario \"s\": [plan] objective = \"max-resilience\" needs at least one [[disruption]]",
            at(&plan, "objective = |\"max-resilience\"")
        )],
    );
}

// ---------------------------------------------------------------- files

#[test]
fn invalid_toml_syntax() {
    let plan = edit(MINIMAL, "[plan]\n", "[plan\n");
    fails(
        &plan,
        &[format!(
            "{}: invalid TOML: unclosed table, expected `]`",
            at(&plan, "[plan|\n")
        )],
    );
}

#[test]
fn duplicate_toml_key() {
    let plan = edit(MINIMAL, "demand = 100", "demand = 100\ndemand = 200");
    let run = run_plan(&plan, &["check"]);
    assert_eq!(run.code, Some(1));
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.starts_with(&format!(
            "error: {}: invalid TOML: ",
            at(&plan, "|demand = 200")
        )),
        "{}",
        run.stderr
    );
}

#[test]
fn empty_file() {
    fails(
        "",
        &[
            "plan.toml:1:1: missing the [plan] table (it needs at least first_year and last_year)"
                .into(),
        ],
    );
}

#[test]
fn missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nosuch.toml");
    let run = run_in(dir.path(), &["check", path.to_str().unwrap()]);
    assert_eq!(run.code, Some(1));
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        "error: nosuch.toml: No such file or directory (os error 2)\n"
    );
}

#[test]
fn directory_instead_of_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("plan.toml")).unwrap();
    let path = dir.path().join("plan.toml");
    let run = run_in(dir.path(), &["check", path.to_str().unwrap()]);
    assert_eq!(run.code, Some(1));
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        "error: plan.toml: not a regular file (reeplan reads plans and CSV files only from regular files)\n"
    );
}

#[test]
fn non_utf8_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.toml");
    let mut bytes = MINIMAL.as_bytes().to_vec();
    bytes.extend_from_slice(b"# \xff\xfe\n");
    std::fs::write(&path, bytes).unwrap();
    let run = run_in(dir.path(), &["check", path.to_str().unwrap()]);
    assert_eq!(run.code, Some(1));
    assert_eq!(run.stdout, "");
    // The first bad byte, located: the line after MINIMAL, column 3.
    let line = MINIMAL.lines().count() + 1;
    assert_eq!(
        run.stderr,
        format!("error: plan.toml:{line}:3: invalid UTF-8 (byte 0xFF); plans and CSV files must be UTF-8 text\n")
    );
}

#[test]
fn deeply_nested_array_is_an_error_not_a_crash() {
    let plan = format!(
        "{MINIMAL}x = {}{}\n",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let run = run_plan(&plan, &["check"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.starts_with("error: plan.toml:"),
        "{}",
        run.stderr
    );
}

#[test]
fn deeply_dotted_key_error_is_located() {
    let plan = format!("[{}]\nx = 1\n{MINIMAL}", vec!["a"; 200].join("."));
    let run = run_plan(&plan, &["check"]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.starts_with("error: plan.toml:1:1: "),
        "{}",
        run.stderr
    );
}

#[test]
#[ignore = "loader gap: the TOML nesting-limit error has no position of its own and is always reported at plan.toml:1:1, not at the deep key (here line 35)"]
fn deeply_dotted_key_error_points_at_the_key() {
    let plan = format!("{MINIMAL}\n[{}]\nx = 1\n", vec!["a"; 200].join("."));
    let run = run_plan(&plan, &["check"]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr
            .starts_with(&format!("error: {}: ", at(&plan, "|[a.a.a"))),
        "{}",
        run.stderr
    );
}

#[test]
fn year_range_given_as_a_table_says_so_once() {
    let plan = with("[[disruption]]\nid = \"ban\"\nexports_from = [\"CN\"]\nyears = { first = 2026, last = 2026 }\n");
    fails(
        &plan,
        &[format!(
            "{}: disruption \"ban\" years: expected a year range [first, last], found a table",
            at(&plan, "years = |{ first")
        )],
    );
}

#[test]
fn number_given_as_an_array_says_so_once() {
    let plan = edit(MINIMAL, "demand = 100\n", "demand = [100]\n");
    fails(
        &plan,
        &[format!(
            "{}: market \"us\" demand: expected a number or a table of year = number, found an array",
            at(&plan, "demand = |[100]")
        )],
    );
}

#[test]
fn resilience_markets_must_name_markets() {
    let plan = with("[resilience]\nmarkets = [\"us\", \"eu\"]\n");
    fails(
        &plan,
        &[format!(
            "{}: [resilience] markets = \"eu\": no market has this id (did you mean \"us\"?)",
            at(&plan, "\"us\", |\"eu\"")
        )],
    );
    let plan = with("[resilience]\nmarkets = []\n");
    fails(
        &plan,
        &[format!(
            "{}: [resilience] markets: must name at least one market (leave it out to count every market)",
            at(&plan, "markets = |[]")
        )],
    );
}

/// Names and notes reach terminals, Markdown and HTML: a control character
/// in a plan's string is refused (fuzzing: an ESC sequence in a scenario's
/// description was printed raw), and an unknown key is echoed escaped.
#[test]
fn control_characters_in_strings_and_keys() {
    let plan = with("[scenario.s]\ndescription = \"a\\u001b[2Jb\"\n");
    fails(
        &plan,
        &[format!(
            "{}: scenario \"s\" description = \"a\\u{{1b}}[2Jb\": control characters (such as ESC, NUL, a tab or a line break) are not allowed in a plan's strings",
            at(&plan, "description = |\"a")
        )],
    );
    // An element's name (a key), and an invisible bidirectional override.
    let plan = edit(
        MINIMAL,
        "[elements.NdPr]\n",
        "[elements.NdPr]\n\n[elements.\"Dy\\u0007\"]\n",
    );
    fails(
        &plan,
        &[format!(
            "{}: [elements.\"Dy\\u{{7}}\"]: control characters (such as ESC, NUL, a tab or a line break) are not allowed in an element's name",
            at(&plan, "[elements.|\"Dy")
        )],
    );
    let plan = with("[scenario.s]\ndescription = \"abc\\u202Edef\"\n");
    let run = run_plan(&plan, &["check"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains("description = \"abc\\u{202e}def\""),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains('\u{202e}'), "{:?}", run.stderr);
    let plan = edit(
        MINIMAL,
        "[elements.NdPr]\n",
        "[elements.NdPr]\n\"x\\u001b[2J\" = 1\n",
    );
    let run = run_plan(&plan, &["check"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains("unknown key \"x\\u{1b}[2J\""),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains('\u{1b}'),
        "an ESC reached the terminal: {:?}",
        run.stderr
    );
}

/// Grades, recoveries and recipes are matrix coefficients: a nonzero one
/// under 1e-5 is refused (fuzzing: HiGHS dropped a grade × recovery of
/// 1e-10 and called a feasible plan infeasible). That 1e-5 × 1e-5 solves is
/// tests/reliability.rs's `the_smallest_coefficients_still_solve_to_the_optimum`.
#[test]
fn coefficients_below_what_the_solver_resolves() {
    let plan = edit(MINIMAL, "grade = { NdPr = 0.2 }", "grade = { NdPr = 1e-6 }");
    fails(
        &plan,
        &[format!(
            "{}: mine \"m1\" grade NdPr = 0.000001: must be 0 or at least 0.00001 (a smaller amount per t is below what the solver resolves)",
            at(&plan, "grade = { NdPr = |1e-6 }")
        )],
    );
}

#[test]
fn a_percentage_written_as_an_ad_valorem_share_is_a_warning() {
    let plan = format!(
        "{MINIMAL}\n[[tariff]]\nid = \"t\"\nproduct = \"magnet\"\nfrom = \"US\"\nto = \"MY\"\nad_valorem = 25\n"
    );
    let plan = edit(
        &plan,
        "price = 60000\n",
        "price = 60000\n\n[prices]\nmagnet = 100000\n",
    );
    let run = run_plan(&plan, &["check"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let want = format!(
        "warning: {}: tariff \"t\": ad_valorem = 25 charges 2500% of the product's value; a share is written as a fraction (0.25 for 25 %)\n",
        at(&plan, "ad_valorem = |25")
    );
    assert!(run.stderr.contains(&want), "{}", run.stderr);
}

#[test]
fn a_misspelt_id_in_a_scenario_patch_is_named_as_such() {
    // "s-301" patches nothing: the base's tariff is "s301". As a new tariff
    // it would lack product, from and to, so it is the id that is wrong.
    let plan = format!(
        "{MINIMAL}\n[[tariff]]\nid = \"s301\"\nproduct = \"magnet\"\nfrom = \"MY\"\nto = \"US\"\nper_tonne = 5\n\n\
         [scenario.high]\n[[scenario.high.tariff]]\nid = \"s-301\"\nper_tonne = 50\n"
    );
    fails(
        &plan,
        &[format!(
            "{}: scenario \"high\" tariff \"s-301\" matches no tariff of the base plan (did you mean \"s301\"?), and as a new one it lacks product, from, to",
            at(&plan, "id = |\"s-301\"")
        )],
    );
}

#[test]
fn a_rule_naming_an_invalid_market_points_at_that_market() {
    // The market's country is wrong; the rule naming it says so instead of
    // "it is a market" (which read as a contradiction).
    let plan = edit(
        MINIMAL,
        "id = \"us\"\ncountry = \"US\"",
        "id = \"us\"\ncountry = \"USA\"",
    );
    let plan = format!("{plan}\n[[share_rule]]\nid = \"s\"\nmarkets = [\"us\"]\nmin_share = 0.5\n");
    fails(
        &plan,
        &[
            format!(
                "{}: market \"us\" country = \"USA\": {NOT_A_CODE} (did you mean \"US\"?)",
                at(&plan, "country = |\"USA\"")
            ),
            format!(
                "{}: share_rule \"s\" markets = \"us\": no market has this id that could be read: the market at {} is invalid (see its error)",
                at(&plan, "markets = [|\"us\"]"),
                at(&plan, "id = |\"us\"\ncountry = \"USA\"")
            ),
        ],
    );
}
