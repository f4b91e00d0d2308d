//! The simple harmonic oscillator (SHO) fit of Band Excitation spectra, as BGlib 0.0.6 defines
//! it, fast enough for every spectrum of a map.
//!
//! A cantilever's complex response near resonance is
//! r(ω) = A·e^{iφ}·ω0² / (ω² − iωω0/Q − ω0²) ([`response`], BGlib's `SHOfunc`), with
//! amplitude A (the data's units), resonance frequency ω0 (Hz, as stored, not rad/s), quality
//! factor Q and phase φ (rad). For each spectrum the kernel computes
//!
//! * **the guess**, BGlib's: `complex_gaussian` (its default; `SHOestimateGuess` with its
//!   `num_points` largest bins, its weights and its fallback to `SHOfastGuess`) computed as
//!   BGlib computes it on complex128 values, or `wavelet_peaks` on our own `find_peaks_cwt`
//!   ([`crate::cwt`]) — and the guess's R²;
//! * **the fit**: least squares on the complex residual (real and imaginary parts) by
//!   Levenberg–Marquardt with the analytic Jacobian ([`jacobian`]), started from the guess with
//!   its amplitude and phase replaced by their best values for its ω0 and Q (a closed form;
//!   it only lowers the residual), ω0 kept in the band (BGlib's `SHOlowerBound`/
//!   `SHOupperBound`). The fit never ends worse than its start: its R² is at least the guess's.
//! * **R²** as BGlib computes it: 1 − Σ|r − fit|² / Σ|r − mean r|², and 0 for a constant spectrum.
//!
//! Where a spectrum cannot be fitted (a NaN or ±inf value, fewer than 3 bins) the fit is NaN —
//! parameters and R² — and [`FitStatus`] says why; nothing panics on any values.
//!
//! [`ShoFitter`] is the plan for one frequency axis: built once, shared by all threads
//! (`Send + Sync`); each thread keeps a [`ShoScratch`], and [`ShoFitter::fit_batch`] runs over a
//! block of spectra (complex64 or complex128, `n × bins`, row-major) allocating nothing per
//! spectrum. Real-valued spectra are not accepted: the model is complex, and a real-only series
//! (say |r|) would be fitted as if its phase were 0 everywhere — no such call type exists.
//!
//! ```
//! use num_complex::Complex32;
//! use usid_peaks::sho::{response, FitStatus, Sho, ShoFitter, ShoParams};
//!
//! // A resonance at 320 kHz, Q = 150, sampled on 64 bins between 310 and 330 kHz.
//! let freqs: Vec<f64> = (0..64).map(|i| 310e3 + i as f64 * 20e3 / 63.0).collect();
//! let truth = Sho { amplitude: 2e-3, frequency: 320e3, quality: 150.0, phase: 0.5, r2: 1.0 };
//! let spectrum: Vec<Complex32> = freqs.iter().map(|&f| {
//!     let r = response(&truth, f);
//!     Complex32::new(r.re as f32, r.im as f32)
//! }).collect();
//!
//! let fitter = ShoFitter::new(&freqs, &ShoParams::default())?;
//! let mut scratch = fitter.new_scratch();
//! fitter.fit_batch(&spectrum, &mut scratch, |_, out| {
//!     assert_eq!(out.status, FitStatus::Converged);
//!     assert!((out.fit.frequency / 320e3 - 1.0).abs() < 1e-6);
//!     assert!((out.fit.quality / 150.0 - 1.0).abs() < 1e-4);
//!     assert!(out.fit.r2 > 0.999_999 && out.fit.r2 >= out.guess.r2);
//! });
//! # Ok::<(), usid_peaks::sho::ShoError>(())
//! ```
mod analysis;
mod fitter;
mod guess;
mod lm;
mod model;

pub use analysis::{ShoFit, STATUS_DATASETS};
pub use fitter::{ShoFitter, ShoScratch};
pub use model::{jacobian, response};

use crate::params::{choices, described, DefaultTo, Description, Kind, ParamError, Parameters, Spec, Values};
use num_complex::{Complex32, Complex64};

/// An invalid frequency axis or parameter of the SHO fit; `Display` is the one-line message.
#[derive(Debug, Clone, PartialEq)]
pub struct ShoError(pub String);

impl std::fmt::Display for ShoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for ShoError {}

/// One SHO: BGlib's `sho32` record, field for field and in its order (5 × float64, as BGlib
/// 0.0.6 writes it despite the name).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, hdf5::H5Type, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Sho {
    /// `Amplitude [V]`: A, in the data's units.
    #[hdf5(rename = "Amplitude [V]")]
    pub amplitude: f64,
    /// `Frequency [Hz]`: the resonance ω0, in the frequency axis' units (Hz).
    #[hdf5(rename = "Frequency [Hz]")]
    pub frequency: f64,
    /// `Quality Factor`: Q (negative where the data ask for a growing oscillation).
    #[hdf5(rename = "Quality Factor")]
    pub quality: f64,
    /// `Phase [rad]`: φ, in (−π, π].
    #[hdf5(rename = "Phase [rad]")]
    pub phase: f64,
    /// `R2 Criterion`: 1 − Σ|r − model|² / Σ|r − mean r|² (0 for a constant spectrum).
    #[hdf5(rename = "R2 Criterion")]
    pub r2: f64,
}

impl Sho {
    /// The record of a spectrum that could not be fitted.
    pub const NAN: Sho =
        Sho { amplitude: f64::NAN, frequency: f64::NAN, quality: f64::NAN, phase: f64::NAN, r2: f64::NAN };

    /// Whether every field, R² included, is a finite number.
    pub fn is_finite(&self) -> bool {
        [self.amplitude, self.frequency, self.quality, self.phase, self.r2].iter().all(|v| v.is_finite())
    }
}

choices! {
    /// Where the fit starts: BGlib's two guess strategies.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub enum ShoGuess {
        /// `complex_gaussian` (BGlib's default): closed-form SHOs through each pair of the
        /// `num_points` bins of largest |r|, averaged with BGlib's weights.
        #[default]
        ComplexGaussian => "complex-gaussian": "BGlib's default: closed-form SHOs through pairs of the num_points largest bins, weighted",
        /// `wavelet_peaks`: the peak `find_peaks_cwt(|r|, peak_widths)` finds nearest the middle
        /// bin, with Q = 10.
        WaveletPeaks => "wavelet-peaks": "the find_peaks_cwt peak of |r| nearest the middle bin, Q = 10",
    }
}

choices! {
    /// Whether ω0 is held within the frequency axis' range.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub enum FrequencyBound {
        /// ω0 kept between the lowest and highest frequency (BGlib's `SHOlowerBound`/`SHOupperBound`).
        #[default]
        Band => "band": "ω0 kept between the lowest and highest frequency, as BGlib's bounds do",
        /// ω0 free.
        Free => "free": "ω0 anywhere",
    }
}

described! {
    /// The parameters of the SHO fit, BGlib's defaults where BGlib has them (see
    /// [`crate::params`]: the command line's options, the Python keywords, the recorded
    /// attributes and the reuse key come from this declaration).
    #[derive(Debug, Clone, PartialEq)]
    pub struct ShoParams {
        /// The guess strategy. Default: `complex_gaussian`.
        pub guess: ShoGuess = Spec::new(Kind::Choice(ShoGuess::CHOICES), DefaultTo::Text("complex-gaussian"), "Where the fit starts: BGlib's guess"),
        /// `complex_gaussian`: the bins of largest |r| taken (BGlib's default 5; at least 2).
        pub num_points: usize = Spec::new(Kind::Count, DefaultTo::Text("5"), "complex-gaussian: bins of largest |r| whose pairs are solved (at least 2)"),
        /// `wavelet_peaks`: the wavelet widths in bins, BGlib's `np.linspace(10, 200, 20)`
        /// (`peak_width_bounds` [10, 200], `peak_width_step` 20); scipy's other defaults.
        pub peak_widths: Vec<f64> = Spec::new(Kind::Widths, DefaultTo::Text("10:200:20"), "wavelet-peaks: wavelet widths in bins")
            .value_name("START:STOP:NUM"),
        /// Most trial points (passes over the spectrum) one fit may evaluate. Default 100.
        pub max_iterations: usize = Spec::new(Kind::Count, DefaultTo::Text("100"), "Most trial points one fit evaluates (at least 1)"),
        /// Stop when a step lowers the residual sum of squares by less than this fraction of it.
        pub ftol: f64 = Spec::new(Kind::Float, DefaultTo::Text("1e-10"), "Stop when a step lowers the residual by less than this fraction"),
        /// Stop when a step changes each parameter by less than this fraction of it.
        pub xtol: f64 = Spec::new(Kind::Float, DefaultTo::Text("1e-10"), "Stop when a step changes each parameter by less than this fraction"),
        /// Keep ω0 within the frequency axis' range, as BGlib's bounds do. Default `band`.
        pub frequency_bound: FrequencyBound = Spec::new(Kind::Choice(FrequencyBound::CHOICES), DefaultTo::Text("band"), "Where the resonance frequency may go"),
    }
}

impl Parameters for ShoParams {
    const DESCRIPTION: Description =
        Description { title: "SHO fit (BGlib's model and guesses)", parts: &[ShoParams::SPECS] };

    fn from_values(values: &Values) -> Result<Self, ParamError> {
        ShoParams::from_values(values)
    }
}

/// How one spectrum's fit ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FitStatus {
    /// A minimum to the tolerances (or no step could lower the residual any more).
    Converged,
    /// `max_iterations` trial points without meeting the tolerances: the parameters are the
    /// best found, their R² is valid.
    MaxIterations,
    /// The spectrum holds NaN or ±inf: guess and fit NaN.
    NonFinite,
    /// Fewer than 3 bins cannot fix 4 parameters: the fit is NaN (the guess is given).
    TooFewBins,
    /// No finite start or no finite residual: the fit is NaN.
    Failed,
}

/// What the kernel gives for one spectrum.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShoOutcome {
    /// The guess with its R² (BGlib's `Guess` record).
    pub guess: Sho,
    /// The fit with its R² (BGlib's `Fit` record); NaN unless `status` is `Converged` or
    /// `MaxIterations`.
    pub fit: Sho,
    pub status: FitStatus,
    /// Trial points evaluated by the fit.
    pub evaluations: u32,
}

/// A complex value the kernel reads: complex64 and complex128 (computed in float64 either way).
pub trait ComplexSample: Copy {
    fn re_im(self) -> (f64, f64);
}
impl ComplexSample for Complex32 {
    fn re_im(self) -> (f64, f64) {
        (self.re as f64, self.im as f64)
    }
}
impl ComplexSample for Complex64 {
    fn re_im(self) -> (f64, f64) {
        (self.re, self.im)
    }
}

#[cfg(test)]
mod tests;
