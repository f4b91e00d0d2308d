//! SI prefixes for axis units, so a 320–380 kHz axis reads `kHz`, not `Hz` with six-digit ticks.

/// Values rescaled for display: multiply by `factor`, label with `units`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Scaled {
    pub factor: f64,
    pub units: String,
}

/// Base units that take an SI prefix; others (`a.u.`, `V/V`, already prefixed ones) stay as
/// they are.
const PREFIXABLE: &[&str] = &["Hz", "m", "V", "s", "A", "N", "W", "F"];

/// The SI prefix that puts `max_abs` (the largest |value| shown) between 1 and 1000 in `units`.
pub(crate) fn si_scale(units: &str, max_abs: f64) -> Scaled {
    let keep = Scaled { factor: 1.0, units: units.to_string() };
    if !PREFIXABLE.contains(&units) || !max_abs.is_finite() || max_abs <= 0.0 {
        return keep;
    }
    let exp = ((max_abs.log10() / 3.0).floor() as i32 * 3).clamp(-12, 9);
    let prefix = match exp {
        -12 => "p",
        -9 => "n",
        -6 => "µ",
        -3 => "m",
        3 => "k",
        6 => "M",
        9 => "G",
        _ => return keep,
    };
    Scaled { factor: 10f64.powi(-exp), units: format!("{prefix}{units}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hertz_in_the_hundreds_of_thousands_read_as_khz() {
        let s = si_scale("Hz", 380_000.0);
        assert_eq!(s.units, "kHz");
        assert!((380_000.0 * s.factor - 380.0).abs() < 1e-9);
    }

    #[test]
    fn metres_of_a_micron_scan_read_as_micrometres() {
        assert_eq!(si_scale("m", 2.5e-6).units, "µm");
    }

    #[test]
    fn unknown_units_and_unit_scale_values_are_left_alone() {
        assert_eq!(si_scale("a.u.", 1e6), Scaled { factor: 1.0, units: "a.u.".into() });
        assert_eq!(si_scale("V", 3.0), Scaled { factor: 1.0, units: "V".into() });
        assert_eq!(si_scale("Hz", 0.0).units, "Hz");
    }
}
