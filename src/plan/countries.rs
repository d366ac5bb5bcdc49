//! Country codes: ISO 3166-1 alpha-2 (the officially assigned codes) plus
//! the codes a plan declares in `[plan] regions`. One list, used by the
//! reader wherever a country is written.

/// Every officially assigned ISO 3166-1 alpha-2 code, sorted. Exceptionally
/// reserved codes (`EU`, `UK`) and user-assigned ones (`XK`, `ZZ`) are not
/// in it: a plan that uses them declares them in `[plan] regions`.
const ISO_3166_ALPHA2: [&str; 249] = [
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

/// Is `code` an officially assigned ISO 3166-1 alpha-2 code?
pub fn is_iso(code: &str) -> bool {
    ISO_3166_ALPHA2.binary_search(&code).is_ok()
}

/// Country names a planner is likely to write instead of the code.
const NAMES: &[(&str, &str)] = &[
    ("china", "CN"),
    ("prc", "CN"),
    ("united states", "US"),
    ("usa", "US"),
    ("united kingdom", "GB"),
    ("uk", "GB"),
    ("great britain", "GB"),
    ("australia", "AU"),
    ("malaysia", "MY"),
    ("japan", "JP"),
    ("germany", "DE"),
    ("france", "FR"),
    ("estonia", "EE"),
    ("canada", "CA"),
    ("brazil", "BR"),
    ("vietnam", "VN"),
    ("viet nam", "VN"),
    ("myanmar", "MM"),
    ("burma", "MM"),
    ("india", "IN"),
    ("south korea", "KR"),
    ("korea", "KR"),
    ("russia", "RU"),
    ("thailand", "TH"),
    ("laos", "LA"),
    ("nigeria", "NG"),
    ("greenland", "GL"),
    ("south africa", "ZA"),
    ("tanzania", "TZ"),
    ("madagascar", "MG"),
    ("philippines", "PH"),
    ("mexico", "MX"),
    ("slovenia", "SI"),
];

/// The code a mistyped country most likely meant: the upper-case form of
/// a lower-case code (`"cn"` → `"CN"`) or a country's name (`"China"`).
pub fn suggestion(found: &str) -> Option<&'static str> {
    let upper = found.trim().to_ascii_uppercase();
    if let Ok(i) = ISO_3166_ALPHA2.binary_search(&upper.as_str()) {
        return Some(ISO_3166_ALPHA2[i]);
    }
    let lower = found.trim().to_ascii_lowercase();
    NAMES.iter().find(|(n, _)| *n == lower).map(|(_, c)| *c)
}

/// Is `code` of the form a declared region must have: 2–8 characters of
/// `A-Z 0-9`?
pub fn is_region_form(code: &str) -> bool {
    (2..=8).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_sorted_and_unique() {
        assert!(ISO_3166_ALPHA2.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn codes_and_suggestions() {
        assert!(is_iso("CN") && is_iso("US") && is_iso("GB") && is_iso("ZW"));
        assert!(!is_iso("cn") && !is_iso("EU") && !is_iso("UK") && !is_iso("ROW"));
        assert_eq!(suggestion("cn"), Some("CN"));
        assert_eq!(suggestion("China"), Some("CN"));
        assert_eq!(suggestion("UK"), Some("GB"));
        assert_eq!(suggestion("Atlantis"), None);
        assert!(is_region_form("ROW") && is_region_form("EU27") && !is_region_form("row"));
        assert!(!is_region_form("R") && !is_region_form("ABCDEFGHI"));
    }
}
