//! The command line's grammar of parameter values (also the grammar of the defaults a
//! description writes down): numbers, whole numbers, lists `a,b,c`, and `START:STOP:NUM` ranges
//! that are exactly `np.linspace`.

use super::{Kind, Param};

/// `np.linspace(start, stop, num)` bit for bit: `i * step + start` with `step = (stop - start) /
/// (num - 1)`, numpy's `i / div * delta` fallback when the step underflows to 0, and the last
/// value set to `stop`.
pub fn linspace(start: f64, stop: f64, num: usize) -> Vec<f64> {
    let delta = stop - start;
    let div = num.saturating_sub(1);
    let mut y: Vec<f64> = (0..num).map(|i| i as f64).collect();
    if div > 0 {
        let step = delta / div as f64;
        if step == 0.0 {
            y.iter_mut().for_each(|v| *v = *v / div as f64 * delta);
        } else {
            y.iter_mut().for_each(|v| *v *= step);
        }
    } else {
        y.iter_mut().for_each(|v| *v *= delta);
    }
    y.iter_mut().for_each(|v| *v += start);
    if num > 1 {
        y[num - 1] = stop;
    }
    y
}

/// A number (NaN is not one; `inf` is).
fn number(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if !v.is_nan() => Ok(v),
        _ => Err(format!("{:?} is not a number", s.trim())),
    }
}

/// Widths: `A:B:N` is `np.linspace(A, B, N)`, `a,b,c` a list, `a` one width. Every width must
/// be a number > 0 (or +inf, like scipy). The error is the reason, without the text.
fn parse_widths(spec: &str) -> Result<Vec<f64>, String> {
    let widths = if spec.contains(':') {
        let parts: Vec<&str> = spec.split(':').collect();
        let [a, b, n] = parts[..] else {
            return Err("expected START:STOP:COUNT, like 20:60:30".into());
        };
        let n: usize =
            n.trim().parse().map_err(|_| format!("the count {:?} is not a whole number", n.trim()))?;
        if n == 0 {
            return Err("the count must be ≥ 1".into());
        }
        linspace(number(a)?, number(b)?, n)
    } else {
        spec.split(',').map(number).collect::<Result<Vec<_>, _>>()?
    };
    match widths.iter().find(|w| w.is_nan() || **w <= 0.0) {
        Some(w) => Err(format!("every width must be > 0, got {w}")),
        None => Ok(widths),
    }
}

/// `text` as a value of `kind`, or why it is not one (a clause to follow the text, e.g.
/// `"x" is not a number`).
pub(super) fn parse(kind: Kind, text: &str) -> Result<Param, String> {
    match kind {
        Kind::Float => number(text).map(Param::Float),
        Kind::Count | Kind::Size => match text.trim().parse::<u64>().map(i64::try_from) {
            Ok(Ok(n)) => Ok(Param::Int(n)),
            _ => Err(format!("{:?} is not a whole number ≥ 0", text.trim())),
        },
        Kind::Floats => text.split(',').map(number).collect::<Result<Vec<_>, _>>().map(Param::Floats),
        Kind::Widths => parse_widths(text).map(Param::Floats),
        Kind::Choice(choices) => match choices.iter().find(|c| c.name == text.trim()) {
            Some(c) => Ok(Param::Str(c.name.to_string())),
            None => {
                let names: Vec<&str> = choices.iter().map(|c| c.name).collect();
                Err(format!("{:?} is not one of {}", text.trim(), names.join(", ")))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bit patterns printed by numpy 1.26 for `np.linspace(...)`.
    #[test]
    fn linspace_matches_numpy_bits() {
        let seed = linspace(20.0, 60.0, 30);
        let numpy_seed: [u64; 5] = [
            0x4034000000000000, // [0] = 20
            0x4035611a7b9611a8, // [1]
            0x4042f72c234f72c2, // [13]
            0x404d4f72c234f72c, // [28]
            0x404e000000000000, // [29] = 60
        ];
        let ours = [seed[0], seed[1], seed[13], seed[28], seed[29]].map(f64::to_bits);
        assert_eq!(ours, numpy_seed);
        // (0.1 - 0) / 9 * i is not i / 90: the step is rounded first, as numpy does.
        let tenth = linspace(0.0, 0.1, 10);
        assert_eq!(tenth[3].to_bits(), 0x3fa1111111111111);
        assert_eq!(tenth[7].to_bits(), 0x3fb3e93e93e93e94);
        assert_eq!(linspace(5.0, 9.0, 1), vec![5.0]);
        assert!(linspace(1.0, 2.0, 0).is_empty());
        // A step that underflows to 0 takes numpy's i / div * delta path.
        let sub = linspace(0.0, 5e-324, 3);
        assert_eq!(sub.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), [0, 0, 1]);
    }

    #[test]
    fn widths_are_ranges_lists_and_single_values() {
        assert_eq!(parse_widths("20:60:30").unwrap(), linspace(20.0, 60.0, 30));
        assert_eq!(parse_widths("2,4.5,9").unwrap(), vec![2.0, 4.5, 9.0]);
        assert_eq!(parse_widths(" 7 ").unwrap(), vec![7.0]);
        assert_eq!(parse_widths("inf").unwrap(), vec![f64::INFINITY]);
    }

    #[test]
    fn nonsense_widths_are_refused_with_the_reason() {
        for (bad, why) in [
            ("", "is not a number"),
            ("a,b", "\"a\" is not a number"),
            ("20:60", "expected START:STOP:COUNT"),
            ("20:60:0", "the count must be ≥ 1"),
            ("20:60:2.5", "is not a whole number"),
            ("1:2:3:4", "expected START:STOP:COUNT"),
            ("0,1", "every width must be > 0, got 0"),
            ("-2", "every width must be > 0"),
            ("nan", "is not a number"),
        ] {
            let e = parse_widths(bad).unwrap_err();
            assert!(e.contains(why), "{bad:?}: {e}");
        }
    }

    #[test]
    fn every_kind_reads_its_text_and_refuses_the_rest() {
        assert_eq!(parse(Kind::Float, "-1.5"), Ok(Param::Float(-1.5)));
        assert_eq!(parse(Kind::Float, "inf"), Ok(Param::Float(f64::INFINITY)));
        assert!(parse(Kind::Float, "nan").unwrap_err().contains("not a number"));
        assert_eq!(parse(Kind::Count, "7"), Ok(Param::Int(7)));
        assert!(parse(Kind::Size, "-1").unwrap_err().contains("not a whole number"));
        assert_eq!(parse(Kind::Floats, "1, 2.5"), Ok(Param::Floats(vec![1.0, 2.5])));
        assert!(parse(Kind::Floats, "1,y").unwrap_err().contains("\"y\" is not a number"));
        const AB: &[super::super::Choice] =
            &[super::super::Choice { name: "a-b", help: "" }, super::super::Choice { name: "c", help: "" }];
        assert_eq!(parse(Kind::Choice(AB), "a-b"), Ok(Param::Str("a-b".into())));
        assert!(parse(Kind::Choice(AB), "x").unwrap_err().contains("one of a-b, c"));
    }
}
