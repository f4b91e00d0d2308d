//! Parameters of `find_peaks_cwt`, their scipy defaults, and the widths grammar of the CLI.
use super::CwtError;

/// Which CWT value is the "signal" of a ridge line's signal-to-noise ratio.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SnrFrom {
    /// scipy's rule: the CWT value at the ridge line's lowest row (its smallest width) and column.
    #[default]
    RidgeEnd,
    /// Du, Kibbe & Lin (2006): the largest CWT value along the whole ridge line. NaN values on the
    /// line are skipped; a line made only of NaN has a NaN signal (which passes, like scipy's NaN).
    RidgeMax,
}

/// The parameters of `scipy.signal.find_peaks_cwt` (the Ricker wavelet only), plus the
/// [`SnrFrom`] choice. `None` means scipy's default, which depends on the spectrum length or on
/// the widths; [`CwtParams::resolved`] spells every default out.
#[derive(Debug, Clone, PartialEq)]
pub struct CwtParams {
    /// Wavelet widths (scales), in samples; one CWT row per width. Each must be > 0 (scipy fails
    /// on 0, negatives and NaN); +inf is accepted like scipy does (an all-zero row).
    pub widths: Vec<f64>,
    /// Largest column distance, per row, at which a maximum joins a ridge line from the row
    /// above; at least as many as `widths`. Default `widths / 4`.
    pub max_distances: Option<Vec<f64>>,
    /// Rows a ridge line may go without a new maximum before it is closed. Default
    /// `ceil(widths[0])`.
    pub gap_thresh: Option<f64>,
    /// Fewest points a ridge line needs. Default `ceil(n_widths / 4)`.
    pub min_length: Option<usize>,
    /// Smallest accepted signal-to-noise ratio. scipy accepts any value; at or below 0 the
    /// SNR filter keeps everything.
    pub min_snr: f64,
    /// Percentile (0..=100) of CWT row 0 around a peak taken as its noise floor.
    pub noise_perc: f64,
    /// Width of the noise window, in samples. Default `ceil(len / 20)`. 0 is accepted like
    /// scipy does: the noise is then NaN and every ridge line passes the SNR filter.
    pub window_size: Option<usize>,
    /// The SNR's signal: scipy's rule (default) or the ridge line's maximum.
    pub snr_from: SnrFrom,
}

impl Default for CwtParams {
    /// The seed analysis: widths `np.linspace(20, 60, 30)` and scipy's defaults elsewhere.
    fn default() -> Self {
        CwtParams {
            widths: linspace(20.0, 60.0, 30),
            max_distances: None,
            gap_thresh: None,
            min_length: None,
            min_snr: 1.0,
            noise_perc: 10.0,
            window_size: None,
            snr_from: SnrFrom::RidgeEnd,
        }
    }
}

/// Every parameter with its default filled in for one spectrum length: what a results file
/// should record.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedParams {
    /// Wavelet widths, in samples.
    pub widths: Vec<f64>,
    /// One per width at least (only the first `widths.len()` are used).
    pub max_distances: Vec<f64>,
    pub gap_thresh: f64,
    pub min_length: usize,
    pub min_snr: f64,
    pub noise_perc: f64,
    /// Samples.
    pub window_size: usize,
    pub snr_from: SnrFrom,
}

impl CwtParams {
    /// The effective parameters for spectra of `len` samples, scipy's defaults filled in.
    /// Does not validate; [`CwtParams::validate`] does.
    pub fn resolved(&self, len: usize) -> ResolvedParams {
        let first = self.widths.first().copied().unwrap_or(f64::NAN);
        ResolvedParams {
            widths: self.widths.clone(),
            max_distances: match &self.max_distances {
                Some(d) => d.clone(),
                None => self.widths.iter().map(|w| w / 4.0).collect(),
            },
            gap_thresh: self.gap_thresh.unwrap_or_else(|| first.ceil()),
            min_length: self.min_length.unwrap_or(self.widths.len().div_ceil(4)),
            min_snr: self.min_snr,
            noise_perc: self.noise_perc,
            window_size: self.window_size.unwrap_or(len.div_ceil(20)),
            snr_from: self.snr_from,
        }
    }

    /// The resolved parameters, or the error scipy would raise for them on a spectrum of `len`
    /// samples. Where scipy accepts a strange value silently (negative `min_snr`,
    /// `window_size` 0, a negative `gap_thresh`), so do we.
    pub fn validate(&self, len: usize) -> Result<ResolvedParams, CwtError> {
        if len == 0 {
            return Err(CwtError("the spectrum is empty".into()));
        }
        if self.widths.is_empty() {
            return Err(CwtError("no widths given".into()));
        }
        if let Some(w) = first_invalid_width(&self.widths) {
            return Err(CwtError(format!("every width must be > 0, got {w}")));
        }
        let rp = self.resolved(len);
        if rp.max_distances.len() < rp.widths.len() {
            return Err(CwtError(format!(
                "max_distances has {} values but there are {} widths",
                rp.max_distances.len(),
                rp.widths.len()
            )));
        }
        // scipy checks the percentile only when a noise window holds something.
        if rp.window_size > 0 && !(0.0..=100.0).contains(&rp.noise_perc) {
            return Err(CwtError(format!("noise_perc must be in [0, 100], got {}", rp.noise_perc)));
        }
        Ok(rp)
    }
}

/// scipy fails on a width of 0, below 0 or NaN (an empty or unsized wavelet).
fn first_invalid_width(widths: &[f64]) -> Option<f64> {
    widths.iter().copied().find(|w| w.is_nan() || *w <= 0.0)
}

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

/// Widths from the command line: `A:B:N` is `np.linspace(A, B, N)`, `a,b,c` a list, `a` one
/// width. Every width must be a number > 0 (or +inf, like scipy).
pub fn parse_widths(spec: &str) -> Result<Vec<f64>, CwtError> {
    let number = |s: &str| -> Result<f64, CwtError> {
        s.trim()
            .parse::<f64>()
            .map_err(|_| CwtError(format!("widths {spec:?}: {:?} is not a number", s.trim())))
    };
    let widths = if spec.contains(':') {
        let parts: Vec<&str> = spec.split(':').collect();
        let [a, b, n] = parts[..] else {
            return Err(CwtError(format!("widths {spec:?}: expected START:STOP:COUNT, like 20:60:30")));
        };
        let n: usize = n.trim().parse().map_err(|_| {
            CwtError(format!("widths {spec:?}: the count {:?} is not a whole number", n.trim()))
        })?;
        if n == 0 {
            return Err(CwtError(format!("widths {spec:?}: the count must be ≥ 1")));
        }
        linspace(number(a)?, number(b)?, n)
    } else {
        spec.split(',').map(number).collect::<Result<Vec<_>, _>>()?
    };
    if let Some(w) = first_invalid_width(&widths) {
        return Err(CwtError(format!("widths {spec:?}: every width must be > 0, got {w}")));
    }
    Ok(widths)
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
    fn parse_widths_accepts_ranges_lists_and_single_values() {
        assert_eq!(parse_widths("20:60:30").unwrap(), linspace(20.0, 60.0, 30));
        assert_eq!(parse_widths("2,4.5,9").unwrap(), vec![2.0, 4.5, 9.0]);
        assert_eq!(parse_widths(" 7 ").unwrap(), vec![7.0]);
    }

    #[test]
    fn parse_widths_rejects_nonsense_with_one_clear_message() {
        for bad in ["", "a,b", "20:60", "20:60:0", "20:60:2.5", "1:2:3:4", "0,1", "-2", "nan"] {
            let e = parse_widths(bad).unwrap_err();
            assert!(e.0.starts_with("widths "), "{bad:?}: {e}");
        }
    }

    #[test]
    fn defaults_resolve_like_scipy() {
        let rp = CwtParams::default().resolved(119);
        assert_eq!(rp.gap_thresh, 20.0);
        assert_eq!(rp.min_length, 8); // ceil(30 / 4)
        assert_eq!(rp.window_size, 6); // ceil(119 / 20)
        assert_eq!(rp.max_distances[29], 15.0);
    }

    #[test]
    fn validation_mirrors_what_scipy_raises_and_accepts() {
        let p = |f: &dyn Fn(&mut CwtParams)| {
            let mut p = CwtParams::default();
            f(&mut p);
            p.validate(50)
        };
        assert!(p(&|p| p.widths = vec![]).is_err());
        assert!(p(&|p| p.widths = vec![2.0, 0.0]).is_err());
        assert!(p(&|p| p.widths = vec![f64::NAN]).is_err());
        assert!(p(&|p| p.max_distances = Some(vec![1.0])).is_err());
        assert!(p(&|p| p.noise_perc = 100.5).is_err());
        assert!(p(&|p| p.noise_perc = f64::NAN).is_err());
        assert!(CwtParams::default().validate(0).is_err());
        // Accepted by scipy, accepted here.
        assert!(p(&|p| p.widths = vec![f64::INFINITY]).is_ok());
        assert!(p(&|p| p.min_snr = -1.0).is_ok());
        assert!(p(&|p| p.gap_thresh = Some(-3.0)).is_ok());
        assert!(p(&|p| {
            p.window_size = Some(0);
            p.noise_perc = 300.0;
        })
        .is_ok());
    }
}
