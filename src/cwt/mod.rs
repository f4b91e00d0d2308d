//! `scipy.signal.find_peaks_cwt`, peak for peak, fast enough for every pixel of a map.
//!
//! scipy (1.17) smooths a spectrum with a Ricker wavelet of each width, links the relative
//! maxima of the resulting CWT matrix into ridge lines from the widest row down, and keeps the
//! lines long enough and with a high enough signal-to-noise ratio. This module reproduces every
//! step and every parameter except a custom wavelet:
//!
//! * [`PeakFinder`] is the plan: the wavelet bank for one (spectrum length, parameters) pair,
//!   built once, shared by all threads (`Send + Sync`). [`PeakFinder::find_batch`] transforms a
//!   batch of spectra and runs the ridge stage on per-thread [`Scratch`] buffers, allocating
//!   nothing per spectrum. Each spectrum takes one of four routes. Realistic spectra (finite, no
//!   exact zero, no two equal neighbours, not a palindrome) take the plan's [`Transform`]: up to
//!   128 samples, half-size matrix products of `x ± reversed x` when every wavelet is a
//!   palindrome (half the multiply-adds; the full products up to 96 samples otherwise), against
//!   a few basis wavelets mixed into the rows when the wavelets are alike (13 for the seed's 30:
//!   two thirds of the multiply-adds again, and up to 200 samples); beyond, FFT convolution (one forward transform, one
//!   inverse per pair of widths). Both round differently at each position, so spectra that
//!   can hold scipy's exact ties — an exact zero or two equal neighbours, where scipy's sums
//!   give exactly equal outputs — take the full Toeplitz product (up to 256 samples) or the
//!   direct sums, whose rounding is the same at every position; NaN/±inf take the direct sums.
//!   The direct sums are vectorised across output positions and are the reference's sums bit
//!   for bit.
//! * [`find_peaks_cwt`] is the reference: the algorithm transcribed one spectrum at a time,
//!   direct convolutions and all. The tests hold the plan to it and both to scipy.
//!
//! ```
//! use usid_peaks::cwt::{CwtParams, PeakFinder};
//! let spectrum: Vec<f64> = (0..119).map(|i| (-((i as f64 - 60.0) / 8.0).powi(2)).exp()).collect();
//! let finder = PeakFinder::new(spectrum.len(), &CwtParams::default())?;
//! let mut scratch = finder.new_scratch();
//! assert_eq!(finder.find(&spectrum, &mut scratch), vec![60]);
//! # Ok::<(), usid_peaks::cwt::CwtError>(())
//! ```
//!
//! Where scipy is odd, so are we, on purpose: the wavelet of a fractional number of points is
//! off-centre; a ridge line joined twice in one row reports the point numpy's unstable argsort
//! puts first; a NaN signal-to-noise ratio passes; `window_size` 0 makes every noise NaN. The
//! floating-point sums differ from numpy's in the last bits (another summation order), so a
//! comparison that numpy decides by an ulp may go the other way; the discrete peaks agree
//! otherwise. Where scipy switches to FFT convolution (long spectra with wide wavelets, over 2048
//! samples) and where we do (realistic spectra over 128 samples) differ; that only
//! changes rounding, and we copy the FFT's one visible effect in scipy, a row of NaN when the
//! spectrum has a NaN or ±inf.
mod bank;
mod direct;
pub(crate) mod isa; // also the SHO kernel's choice of vector arm
mod lowrank;
mod packed;
mod params;
mod reference;
mod ridges;
mod route;
mod spectral;
mod wavelet;

pub use params::{linspace, CwtParams, ResolvedParams, SnrFrom};
pub use reference::{cwt_matrix, find_peaks_cwt, peaks_from_cwt};
pub use wavelet::ricker;

use bank::{Bank, TransformScratch};
use ridges::RidgeScratch;
pub use route::Transform;
use wavelet::Kernel;

/// An invalid parameter of the peak finder; `Display` is the one-line message.
#[derive(Debug, Clone, PartialEq)]
pub struct CwtError(pub String);

impl std::fmt::Display for CwtError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for CwtError {}

/// The plan for spectra of one length and one parameter set: the wavelet bank as matrices, and
/// the resolved parameters. Build once, share between threads, give each thread a [`Scratch`].
#[derive(Debug, Clone)]
pub struct PeakFinder {
    len: usize,
    params: ResolvedParams,
    bank: Bank,
}

/// Per-thread working memory of a [`PeakFinder`] (a few hundred KiB for 119 × 30).
#[derive(Debug, Clone)]
pub struct Scratch {
    transform: TransformScratch,
    cwt: Vec<f64>,
    ridges: RidgeScratch,
    peaks: Vec<u32>,
}

impl PeakFinder {
    /// The plan for spectra of `len` samples, or the error scipy would raise for `params`.
    pub fn new(len: usize, params: &CwtParams) -> Result<Self, CwtError> {
        Self::with_transform(len, params, Transform::Auto)
    }

    /// The plan with a chosen [`Transform`] for spectra that cannot hold scipy's exact ties:
    /// for benchmarks and for tests that hold every route to the reference. The peaks are the
    /// same up to ties within rounding.
    pub fn with_transform(len: usize, params: &CwtParams, transform: Transform) -> Result<Self, CwtError> {
        let params = params.validate(len)?;
        let kernels: Vec<Kernel> = params.widths.iter().map(|&w| Kernel::new(w, len)).collect();
        let bank = Bank::new(len, kernels, transform);
        Ok(PeakFinder { len, params, bank })
    }

    /// Samples per spectrum.
    pub fn spectrum_len(&self) -> usize {
        self.len
    }

    /// Working memory for one thread.
    pub fn new_scratch(&self) -> Scratch {
        let rows = self.params.widths.len();
        Scratch {
            transform: self.bank.scratch(self.bank.block()),
            cwt: vec![0.0; rows * self.len],
            ridges: RidgeScratch::new(rows, self.len),
            // At most one peak per ridge line, at most one line per relative maximum.
            peaks: Vec::with_capacity(rows * self.len.div_ceil(2)),
        }
    }

    /// Peaks of every spectrum in `spectra` (`n × len`, row-major). Calls `emit(i, peaks)` once
    /// per spectrum, in order, with its sorted peak indices (duplicates kept, like scipy).
    /// The peaks do not depend on how the spectra are batched.
    ///
    /// # Panics
    /// If `spectra.len()` is not a multiple of [`PeakFinder::spectrum_len`], or `scratch` came
    /// from a plan of another shape.
    pub fn find_batch(&self, spectra: &[f64], scratch: &mut Scratch, mut emit: impl FnMut(usize, &[u32])) {
        let len = self.len;
        assert_eq!(spectra.len() % len, 0, "spectra must be n × {len} samples");
        assert_eq!(scratch.cwt.len(), self.params.widths.len() * len, "scratch of another plan");
        // Fewer than 3 samples have no relative maximum.
        if len < 3 {
            (0..spectra.len() / len).for_each(|i| emit(i, &[]));
            return;
        }
        let Scratch { transform, cwt, ridges, peaks } = scratch;
        let per_block = self.bank.block();
        for (b, block) in spectra.chunks(per_block * len).enumerate() {
            self.bank.multiply(block, transform);
            for (i, x) in block.chunks_exact(len).enumerate() {
                // A dead pixel (all samples ±0) has an all-zero CWT in any summation order, so
                // no relative maximum and no peak: skip its direct sums, the slowest route.
                if x.iter().all(|&v| v == 0.0) {
                    emit(b * per_block + i, &[]);
                    continue;
                }
                let cwt = self.bank.assemble(i, x, transform, cwt);
                ridges::find_peaks(cwt, len, &self.params, ridges, peaks);
                emit(b * per_block + i, peaks);
            }
        }
    }

    /// Peaks of one spectrum (`len` samples); allocates the result.
    pub fn find(&self, spectrum: &[f64], scratch: &mut Scratch) -> Vec<u32> {
        let mut out = Vec::new();
        self.find_batch(spectrum, scratch, |_, p| out.extend_from_slice(p));
        out
    }
}

#[cfg(test)]
mod tests;
