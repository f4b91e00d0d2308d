//! The plan ([`ShoFitter`]) and its batch call: one spectrum after another through load → guess →
//! start → Levenberg–Marquardt, on per-thread memory ([`ShoScratch`]), in the widest vector
//! instructions the CPU has.
use super::guess::{self, GuessScratch, View};
use super::model::{self, Axis, Internal};
use super::{lm, ComplexSample, FitStatus, FrequencyBound, Sho, ShoError, ShoGuess, ShoOutcome, ShoParams};
use crate::cwt::isa::{Isa, Level};
use crate::cwt::{CwtParams, PeakFinder, Scratch as CwtScratch};

/// The plan for spectra on one frequency axis: the axis, the parameters and, for
/// `wavelet_peaks`, the wavelet bank. Build once, share between threads.
#[derive(Debug, Clone)]
pub struct ShoFitter {
    axis: Axis,
    params: ShoParams,
    peaks: Option<PeakFinder>,
    settings: lm::Settings,
    /// The vector instructions the kernel runs in, the widest detected (the CWT kernel's choice).
    /// Every arm runs the same operations in the same order (no fused multiply-adds: Rust never
    /// contracts), so the outcomes are the same bits on every CPU.
    isa: Isa,
}

/// Per-thread working memory of a [`ShoFitter`].
#[derive(Debug, Clone)]
pub struct ShoScratch {
    bins: usize,
    re: Vec<f64>,
    im: Vec<f64>,
    mag: Vec<f64>,
    guess: GuessScratch,
    /// `wavelet_peaks`: |r| of a whole block, its chosen peak per spectrum, and the CWT's memory.
    block_mag: Vec<f64>,
    chosen: Vec<usize>,
    cwt: Option<CwtScratch>,
}

/// What a spectrum's values say before any fit: whether they are all finite, all equal, and
/// their Σ|r − mean r|².
struct Loaded {
    finite: bool,
    constant: bool,
    ss_tot: f64,
}

impl ShoFitter {
    /// The plan for spectra sampled at `freqs` (Hz, one per bin; finite and > 0, any order).
    pub fn new(freqs: &[f64], params: &ShoParams) -> Result<ShoFitter, ShoError> {
        Self::check_frequencies(freqs)?;
        params.check()?;
        let peaks = match params.guess {
            ShoGuess::ComplexGaussian => None,
            ShoGuess::WaveletPeaks => Some(
                PeakFinder::new(freqs.len(), &params.wavelet())
                    .map_err(|e| ShoError(format!("wavelet_peaks: {e}")))?,
            ),
        };
        let settings = lm::Settings {
            max_iterations: u32::try_from(params.max_iterations).unwrap_or(u32::MAX),
            ftol: params.ftol,
            xtol: params.xtol,
            bound_frequency: params.frequency_bound == FrequencyBound::Band,
        };
        Ok(ShoFitter { axis: Axis::new(freqs), params: params.clone(), peaks, settings, isa: Isa::detect() })
    }

    /// Whether `freqs` can be a frequency axis (not empty; every value finite and > 0 Hz), or
    /// the one line that says why not.
    pub fn check_frequencies(freqs: &[f64]) -> Result<(), ShoError> {
        if freqs.is_empty() {
            return Err(ShoError("the frequency axis is empty".into()));
        }
        if let Some(f) = freqs.iter().find(|f| !(f.is_finite() && **f > 0.0)) {
            return Err(ShoError(format!("every frequency must be finite and > 0 Hz, got {f}")));
        }
        Ok(())
    }

    /// The plan with the kernel's vector instructions chosen (one of `Isa::supported`): for the
    /// tests that hold every arm the CPU runs to the same bits.
    #[cfg(test)]
    pub(crate) fn with_isa(mut self, isa: Isa) -> ShoFitter {
        self.isa = isa;
        self
    }

    /// Bins per spectrum.
    pub fn spectrum_len(&self) -> usize {
        self.axis.n
    }

    /// The frequency axis (Hz).
    pub fn frequencies(&self) -> &[f64] {
        &self.axis.w[..self.axis.n]
    }

    /// The parameters in effect.
    pub fn params(&self) -> &ShoParams {
        &self.params
    }

    /// Working memory for one thread.
    pub fn new_scratch(&self) -> ShoScratch {
        // Padded like the axis; `load` writes the first `n` values only, the tail stays 0.
        let padded = Axis::padded_len(self.spectrum_len());
        ShoScratch {
            bins: self.spectrum_len(),
            re: vec![0.0; padded],
            im: vec![0.0; padded],
            mag: vec![0.0; padded],
            guess: GuessScratch::default(),
            block_mag: Vec::new(),
            chosen: Vec::new(),
            cwt: self.peaks.as_ref().map(PeakFinder::new_scratch),
        }
    }

    /// Guess and fit of every spectrum in `spectra` (`n × bins`, row-major): calls
    /// `emit(i, outcome)` once per spectrum, in order. The outcomes do not depend on how the
    /// spectra are batched.
    ///
    /// # Panics
    /// If `spectra.len()` is not a multiple of [`ShoFitter::spectrum_len`], or `scratch` came
    /// from a plan of another shape.
    pub fn fit_batch<T: ComplexSample>(
        &self,
        spectra: &[T],
        scratch: &mut ShoScratch,
        mut emit: impl FnMut(usize, &ShoOutcome),
    ) {
        let n = self.spectrum_len();
        assert_eq!(spectra.len() % n, 0, "spectra must be count × {n} values");
        assert_eq!(scratch.bins, n, "scratch of another plan");
        if let Some(finder) = &self.peaks {
            self.choose_peaks(finder, spectra, scratch);
        }
        match self.isa.level() {
            // SAFETY: the CPU has AVX-512F (an `Isa` is only made by detection).
            #[cfg(target_arch = "x86_64")]
            Level::Avx512 => unsafe { self.fit_all_avx512(spectra, scratch, &mut emit) },
            // SAFETY: the CPU has AVX2 (an `Isa` is only made by detection).
            #[cfg(target_arch = "x86_64")]
            Level::Avx2Fma => unsafe { self.fit_all_avx2(spectra, scratch, &mut emit) },
            Level::Portable => self.fit_all(spectra, scratch, &mut emit),
        }
    }

    /// The batch's spectra one after another, compiled into each arm of [`Isa`] (every kernel
    /// it calls is inlined into it).
    #[inline(always)]
    fn fit_all<T: ComplexSample>(
        &self,
        spectra: &[T],
        s: &mut ShoScratch,
        emit: &mut impl FnMut(usize, &ShoOutcome),
    ) {
        for (i, x) in spectra.chunks_exact(self.spectrum_len()).enumerate() {
            let loaded = load(x, s, self.peaks.is_some());
            let outcome = self.fit_loaded(&loaded, i, s);
            emit(i, &outcome);
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    fn fit_all_avx512<T: ComplexSample>(
        &self,
        spectra: &[T],
        s: &mut ShoScratch,
        emit: &mut impl FnMut(usize, &ShoOutcome),
    ) {
        self.fit_all(spectra, s, emit)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn fit_all_avx2<T: ComplexSample>(
        &self,
        spectra: &[T],
        s: &mut ShoScratch,
        emit: &mut impl FnMut(usize, &ShoOutcome),
    ) {
        self.fit_all(spectra, s, emit)
    }

    /// Guess and fit of one spectrum (`bins` values).
    pub fn fit<T: ComplexSample>(&self, spectrum: &[T], scratch: &mut ShoScratch) -> ShoOutcome {
        let mut out =
            ShoOutcome { guess: Sho::NAN, fit: Sho::NAN, status: FitStatus::Failed, evaluations: 0 };
        self.fit_batch(spectrum, scratch, |_, o| out = *o);
        out
    }

    /// `wavelet_peaks`: |r| of the whole block (numpy's `abs`, a `hypot`) through the CWT
    /// kernel in one call, and the peak BGlib would take for each spectrum.
    fn choose_peaks<T: ComplexSample>(&self, finder: &PeakFinder, spectra: &[T], s: &mut ShoScratch) {
        let n = self.spectrum_len();
        s.block_mag.clear();
        s.block_mag.extend(spectra.iter().map(|v| {
            let (re, im) = v.re_im();
            re.hypot(im)
        }));
        s.chosen.clear();
        s.chosen.resize(spectra.len() / n, n / 2);
        let (chosen, cwt) = (&mut s.chosen, s.cwt.get_or_insert_with(|| finder.new_scratch()));
        finder.find_batch(&s.block_mag, cwt, |i, peaks| chosen[i] = guess::nearest_middle(peaks, n));
    }

    /// The guess and fit of the spectrum `load` put in the scratch (spectrum `i` of its block).
    #[inline(always)]
    fn fit_loaded(&self, loaded: &Loaded, i: usize, s: &mut ShoScratch) -> ShoOutcome {
        let n = self.spectrum_len();
        if !loaded.finite {
            return ShoOutcome {
                guess: Sho::NAN,
                fit: Sho::NAN,
                status: FitStatus::NonFinite,
                evaluations: 0,
            };
        }
        let mag = if self.peaks.is_some() { &s.block_mag[i * n..(i + 1) * n] } else { &s.mag[..] };
        let x = View { re: &s.re, im: &s.im, mag };
        let (guess, best_pair) = match self.params.guess {
            ShoGuess::ComplexGaussian => {
                let est = guess::complex_gaussian(&self.axis, &x, self.params.num_points, &mut s.guess);
                (est.guess, est.best_pair)
            }
            ShoGuess::WaveletPeaks => (guess::wavelet_guess(&self.axis, &x, s.chosen[i]), None),
        };
        let r2 = |ssr: f64| r_squared(ssr, loaded);
        let guess_p = model::to_internal(&Sho::from_array(guess));
        let guess = Sho { r2: r2(model::ssr(&self.axis, &s.re, &s.im, &guess_p)), ..Sho::from_array(guess) };
        if n < 3 {
            return ShoOutcome { guess, fit: Sho::NAN, status: FitStatus::TooFewBins, evaluations: 0 };
        }
        let Some(start) = self.start(&x, guess_p, best_pair) else {
            return ShoOutcome { guess, fit: Sho::NAN, status: FitStatus::Failed, evaluations: 0 };
        };
        let sol = lm::solve(&self.axis, &s.re, &s.im, start, &self.settings);
        let fit = model::from_internal(&sol.p, r2(sol.ssr));
        if sol.status == FitStatus::Failed || !fit.is_finite() {
            return ShoOutcome {
                guess,
                fit: Sho::NAN,
                status: FitStatus::Failed,
                evaluations: sol.evaluations,
            };
        }
        ShoOutcome { guess, fit, status: sol.status, evaluations: sol.evaluations }
    }

    /// The fit's start: the guess where it is finite, else the best single pair of the
    /// `complex_gaussian` estimate, else BGlib's fast guess; ω0 put in the band; then the best c
    /// for that ω0 and q.
    #[inline(always)]
    fn start(&self, x: &View<'_>, guess: Internal, best_pair: Option<Internal>) -> Option<Internal> {
        let finite = |p: &Internal| p.iter().all(|v| v.is_finite());
        let fast = || model::to_internal(&Sho::from_array(guess::fast_guess(&self.axis, x)));
        let first = [Some(guess), best_pair]
            .into_iter()
            .flatten()
            .find(finite)
            .or_else(|| Some(fast()).filter(finite))?;
        let mut p = lm::clip(&self.axis, first, self.settings.bound_frequency);
        if let Some((cr, ci)) = model::best_amplitude(&self.axis, x.re, x.im, p[2], p[3]) {
            p[0] = cr;
            p[1] = ci;
        }
        Some(p)
    }
}

impl Sho {
    pub(crate) fn from_array(p: [f64; 4]) -> Sho {
        Sho { amplitude: p[0], frequency: p[1], quality: p[2], phase: p[3], r2: f64::NAN }
    }
}

/// BGlib's R²: 1 − ss_res/ss_tot, 0 for a constant spectrum (BGlib's `ss_tot > 0` test, which
/// for equal values can also see a rounding residue of the mean: there it is 0 by rule).
fn r_squared(ss_res: f64, loaded: &Loaded) -> f64 {
    if loaded.constant || loaded.ss_tot <= 0.0 || loaded.ss_tot.is_nan() {
        0.0
    } else {
        1.0 - ss_res / loaded.ss_tot
    }
}

/// Puts one spectrum into the scratch as float64 parts and |r| (`hypot` for `wavelet_peaks`,
/// whose |r| came from the block; √(re² + im²) for the standard deviations of
/// `complex_gaussian`), and says what its values are.
#[inline(always)]
fn load<T: ComplexSample>(x: &[T], s: &mut ShoScratch, block_mag: bool) -> Loaded {
    let (mut finite, mut constant) = (true, true);
    let first = x[0].re_im();
    let (mut sum_re, mut sum_im) = (0.0, 0.0);
    for (k, v) in x.iter().enumerate() {
        let (re, im) = v.re_im();
        s.re[k] = re;
        s.im[k] = im;
        finite &= re.is_finite() && im.is_finite();
        constant &= re == first.0 && im == first.1;
        sum_re += re;
        sum_im += im;
        if !block_mag {
            s.mag[k] = (re * re + im * im).sqrt();
        }
    }
    let n = x.len() as f64;
    let (mean_re, mean_im) = (sum_re / n, sum_im / n);
    let ss_tot = s.re[..x.len()]
        .iter()
        .zip(&s.im[..x.len()])
        .map(|(re, im)| (re - mean_re).powi(2) + (im - mean_im).powi(2))
        .sum();
    Loaded { finite, constant, ss_tot }
}

impl ShoParams {
    /// Whether the parameters can plan a fit (on any frequency axis), or the one line that says
    /// why not: tolerances finite and ≥ 0, at least 1 iteration, at least 2 points.
    pub fn check(&self) -> Result<(), ShoError> {
        if !(self.ftol >= 0.0 && self.ftol.is_finite() && self.xtol >= 0.0 && self.xtol.is_finite()) {
            return Err(ShoError(format!(
                "ftol and xtol must be finite and ≥ 0, got {} and {}",
                self.ftol, self.xtol
            )));
        }
        if self.max_iterations == 0 {
            return Err(ShoError("max_iterations must be at least 1".into()));
        }
        if self.guess == ShoGuess::ComplexGaussian && self.num_points < 2 {
            return Err(ShoError(format!("num_points must be at least 2, got {}", self.num_points)));
        }
        Ok(())
    }

    /// `wavelet_peaks`' peak finding: `peak_widths` and scipy's other defaults.
    pub(crate) fn wavelet(&self) -> CwtParams {
        CwtParams { widths: self.peak_widths.clone(), ..CwtParams::default() }
    }
}
