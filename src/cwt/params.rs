//! Parameters of `find_peaks_cwt` and their scipy defaults, described once (see
//! [`crate::params`]): the command line's options, the Python keywords, the results' attributes
//! and the reuse key all come from the declaration of [`CwtParams`] below.
use super::CwtError;
pub use crate::params::linspace;
use crate::params::{
    choices, described, Alias, DefaultTo, Description, Kind, ParamError, Parameters, Scipy, Spec, Values,
};

choices! {
    /// Which CWT value is the "signal" of a ridge line's signal-to-noise ratio.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub enum SnrFrom {
        #[default]
        RidgeEnd => "ridge-end": "scipy's: the CWT value where the ridge line ends (its smallest width)",
        RidgeMax => "ridge-max": "Du, Kibbe & Lin (2006): the largest CWT value along the ridge line (NaN values skipped)",
    }
}

described! {
    /// The parameters of `scipy.signal.find_peaks_cwt` (the Ricker wavelet only), plus the
    /// [`SnrFrom`] choice. `None` means scipy's default, which depends on the spectrum length or
    /// on the widths; [`CwtParams::validate`] spells every default out. `Default` is the seed
    /// analysis: widths `np.linspace(20, 60, 30)` and scipy's defaults elsewhere.
    #[derive(Debug, Clone, PartialEq)]
    pub struct CwtParams {
        /// Wavelet widths (scales), in samples; one CWT row per width. Each must be > 0 (scipy
        /// fails on 0, negatives and NaN); +inf is accepted like scipy does (an all-zero row).
        pub widths: Vec<f64> = Spec::new(
            Kind::Widths,
            DefaultTo::Text("20:60:30"),
            "Wavelet widths (scales) in samples, one CWT row each, every one > 0",
        )
        .value_name("START:STOP:NUM")
        .alias(Alias { long: "width-list", value_name: "W1,W2,...", help: "Wavelet widths as an explicit list, e.g. 2,4.5,9" })
        .scipy(Scipy::Required),
        /// Largest column distance, per row, at which a maximum joins a ridge line from the row
        /// above; at least as many as `widths`. Default `widths / 4`.
        pub max_distances: Option<Vec<f64>> = Spec::new(
            Kind::Floats,
            DefaultTo::Derived("widths / 4"),
            "Largest column distance, per width, at which a ridge line continues",
        )
        .value_name("D1,D2,...")
        .scipy(Scipy::Positional),
        /// Rows a ridge line may go without a new maximum before it is closed. Default
        /// `ceil(widths[0])`.
        pub gap_thresh: Option<f64> = Spec::new(Kind::Float, DefaultTo::Derived("ceil(widths[0])"), "Rows a ridge line may skip")
            .scipy(Scipy::Positional),
        /// Fewest points a ridge line needs. Default `ceil(n_widths / 4)`.
        pub min_length: Option<usize> = Spec::new(
            Kind::Count,
            DefaultTo::Derived("ceil(number of widths / 4)"),
            "Fewest points a ridge line needs",
        )
        .scipy(Scipy::Positional),
        /// Smallest accepted signal-to-noise ratio. scipy accepts any value; at or below 0 the
        /// SNR filter keeps everything.
        pub min_snr: f64 = Spec::new(Kind::Float, DefaultTo::Text("1"), "Smallest signal-to-noise ratio kept")
            .scipy(Scipy::Positional),
        /// Percentile (0..=100) of CWT row 0 around a peak taken as its noise floor.
        pub noise_perc: f64 = Spec::new(
            Kind::Float,
            DefaultTo::Text("10"),
            "Percentile (0 to 100) of the smallest-width CWT row taken as the noise floor",
        )
        .scipy(Scipy::Positional),
        /// Width of the noise window, in samples. Default `ceil(len / 20)`. 0 is accepted like
        /// scipy does: the noise is then NaN and every ridge line passes the SNR filter.
        pub window_size: Option<usize> = Spec::new(
            Kind::Size,
            DefaultTo::Derived("ceil(spectrum length / 20)"),
            "Width of the noise window, in samples",
        )
        .scipy(Scipy::Positional),
        /// The SNR's signal: scipy's rule (default) or the ridge line's maximum.
        pub snr_from: SnrFrom = Spec::new(Kind::Choice(SnrFrom::CHOICES), DefaultTo::Text("ridge-end"), "The SNR's signal"),
    }
}

impl Parameters for CwtParams {
    const DESCRIPTION: Description = Description { title: "find_peaks_cwt", parts: &[CwtParams::SPECS] };

    fn from_values(values: &Values) -> Result<Self, ParamError> {
        CwtParams::from_values(values)
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
    pub(crate) fn resolved(&self, len: usize) -> ResolvedParams {
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

    /// These parameters with every default derived for spectra of `len` samples filled in: what
    /// a results group records.
    pub(crate) fn filled(&self, len: usize) -> CwtParams {
        let r = self.resolved(len);
        CwtParams {
            max_distances: Some(r.max_distances),
            gap_thresh: Some(r.gap_thresh),
            min_length: Some(r.min_length),
            window_size: Some(r.window_size),
            ..self.clone()
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

#[cfg(test)]
mod tests {
    use super::*;

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
