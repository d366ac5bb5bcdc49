//! `START:STOP:STEP` ranges (STOP included): one parser for `sweep --set
//! PATH=START:STOP:STEP`, `frontier --budget` and `frontier --stockpile`.

/// A parsed range.
#[derive(Clone, Debug, PartialEq)]
pub struct Range {
    pub start: f64,
    pub stop: f64,
    pub step: f64,
    /// All three were written as integers (the points are printed as such).
    pub integers: bool,
}

/// Whether `text` has the shape `A:B:C` (three parts, no list commas).
pub fn looks_like_range(text: &str) -> bool {
    text.split(':').count() == 3 && !text.contains(',')
}

/// Parse `START:STOP:STEP`: finite numbers, `START <= STOP` (and `0 <=
/// START` when `non_negative`), a positive `STEP`, at most `max_points`
/// points. The error says what is wrong, without the option's name.
pub fn parse(text: &str, non_negative: bool, max_points: usize) -> Result<Range, String> {
    let parts: Vec<&str> = text.split(':').map(str::trim).collect();
    if parts.len() != 3 {
        return Err("expected START:STOP:STEP".into());
    }
    let nums: Vec<f64> = parts
        .iter()
        .map(|p| p.parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| "START:STOP:STEP must be numbers".to_string())?;
    let (start, stop, step) = (nums[0], nums[1], nums[2]);
    let ordered = start.is_finite() && stop.is_finite() && stop >= start;
    if !(ordered && step > 0.0 && step.is_finite() && (!non_negative || start >= 0.0)) {
        return Err(if non_negative {
            "need 0 <= START <= STOP and a positive STEP".into()
        } else {
            "need START <= STOP and a positive STEP".into()
        });
    }
    let range = Range {
        start,
        stop,
        step,
        integers: parts.iter().all(|p| p.parse::<i64>().is_ok()),
    };
    let n = range.len_unbounded();
    if n > max_points as f64 {
        return Err(format!(
            "{} points is too many (at most {max_points})",
            if n < 1e15 {
                format!("{}", n as u64)
            } else {
                "more than 10^15".to_string()
            }
        ));
    }
    Ok(range)
}

impl Range {
    fn len_unbounded(&self) -> f64 {
        ((self.stop - self.start) / self.step + 1e-9).floor() + 1.0
    }

    /// The number of points, `STOP` included when the steps reach it.
    pub fn len(&self) -> usize {
        self.len_unbounded() as usize
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    /// The points, with binary noise rounded away (`0.1 + 0.2` is `0.3`):
    /// to 1e-12 where that is far below the step and the value is of a size
    /// where it can be (tiny steps and huge values are left as computed).
    pub fn values(&self) -> Vec<f64> {
        let round = self.step >= 1e-9 && self.start.abs().max(self.stop.abs()) < 1e15;
        (0..self.len())
            .map(|i| {
                let v = self.start + self.step * i as f64;
                if round {
                    (v * 1e12).round() / 1e12
                } else {
                    v
                }
            })
            .collect()
    }

    /// The points as TOML values: integers when all three were integers.
    pub fn texts(&self) -> Vec<String> {
        self.values()
            .into_iter()
            .map(|v| {
                if self.integers {
                    format!("{}", v.round() as i64)
                } else {
                    format!("{v}")
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_is_included_and_noise_rounded_away() {
        let r = parse("0:0.3:0.1", true, 100).unwrap();
        assert_eq!(r.values(), vec![0.0, 0.1, 0.2, 0.3]);
        assert_eq!(r.texts(), vec!["0", "0.1", "0.2", "0.3"]);
        assert!(!r.integers);
    }

    #[test]
    fn a_stop_between_steps_is_not_passed() {
        assert_eq!(
            parse("0:10:4", false, 100).unwrap().values(),
            vec![0.0, 4.0, 8.0]
        );
    }

    #[test]
    fn integer_ranges_print_as_integers() {
        let r = parse("2026:2030:2", false, 100).unwrap();
        assert!(r.integers);
        assert_eq!(r.texts(), vec!["2026", "2028", "2030"]);
        assert_eq!(parse(" 5 : 5 : 1 ", true, 100).unwrap().texts(), vec!["5"]);
    }

    #[test]
    fn negative_starts_only_where_allowed() {
        assert_eq!(
            parse("-1:1:1", false, 100).unwrap().values(),
            vec![-1.0, 0.0, 1.0]
        );
        assert_eq!(
            parse("-1:1:1", true, 100).unwrap_err(),
            "need 0 <= START <= STOP and a positive STEP"
        );
    }

    #[test]
    fn malformed_ranges_say_what_is_wrong() {
        assert_eq!(
            parse("0:1", false, 9).unwrap_err(),
            "expected START:STOP:STEP"
        );
        assert_eq!(
            parse("0:a:1", false, 9).unwrap_err(),
            "START:STOP:STEP must be numbers"
        );
        for bad in ["1:0:1", "0:1:0", "0:1:-1", "0:inf:1", "nan:1:1", "0:1:nan"] {
            assert_eq!(
                parse(bad, false, 9).unwrap_err(),
                "need START <= STOP and a positive STEP",
                "{bad}"
            );
        }
        assert_eq!(
            parse("0:100:1", false, 100).unwrap_err(),
            "101 points is too many (at most 100)"
        );
        assert_eq!(parse("0:99:1", false, 100).unwrap().len(), 100);
        assert!(parse("0:1e300:1e-300", false, 100)
            .unwrap_err()
            .contains("too many"));
    }

    #[test]
    fn tiny_steps_and_huge_values_are_not_rounded_away() {
        let r = parse("0:5e-13:1e-13", false, 100).unwrap();
        let v = r.values();
        assert_eq!(v.len(), 6);
        assert!(v.windows(2).all(|w| w[1] > w[0]), "{v:?}");
        assert!(v[5] <= 5e-13 * (1.0 + 1e-9));
        let r = parse("1e300:1e300:1", false, 100).unwrap();
        assert_eq!(r.values(), vec![1e300]);
    }

    #[test]
    fn shape_test_tells_ranges_from_lists() {
        assert!(looks_like_range("0:1:0.5"));
        assert!(!looks_like_range("0,1,2"));
        assert!(!looks_like_range("0:1"));
        assert!(!looks_like_range("a:b:c,d"));
    }
}
