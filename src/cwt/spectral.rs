//! The CWT of a long spectrum by FFT convolution: one forward transform of the spectrum, then one
//! inverse transform per pair of widths (two real rows ride in one complex transform, as its
//! real and imaginary parts). `O(len · log len)` per row where the direct sums cost
//! `O(len · taps)`, with taps up to `10 · width`.
//!
//! The rounding is not the direct sums': each output carries an error of order
//! `ε · log(size) · Σ|x| · max|taps|` instead of `ε · Σ|taps · x|`, and outputs that scipy's
//! sums make exactly equal (flat runs, exact zeros) come out unequal. Only spectra that cannot
//! produce such ties take this route (see [`super::route::route`]).
use super::wavelet::Kernel;
use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};
use std::sync::Arc;

/// The FFT form of a wavelet bank for spectra of one length.
#[derive(Clone)]
pub(crate) struct Spectral {
    len: usize,
    size: usize,
    forward: Arc<dyn Fft<f64>>,
    inverse: Arc<dyn Fft<f64>>,
    /// Per pair of rows `(2p, 2p + 1)`, `size` values: `(H[2p] + i·H[2p+1]) / size`, where `H[r]`
    /// is the transform of row `r`'s reversed taps; a lone last row has no imaginary part.
    pairs: Vec<Complex<f64>>,
    /// Per row: where output 0 sits in the full linear convolution (`taps - 1 - shift`).
    offsets: Vec<usize>,
    scratch_len: usize,
}

impl std::fmt::Debug for Spectral {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spectral").field("len", &self.len).field("size", &self.size).finish_non_exhaustive()
    }
}

/// Per-thread buffers of [`Spectral::transform`].
#[derive(Debug, Clone, Default)]
pub(crate) struct SpectralScratch {
    x_hat: Vec<Complex<f64>>,
    work: Vec<Complex<f64>>,
    fft: Vec<Complex<f64>>,
}

/// The smallest `2^a · 3^b` at least `n`: sizes rustfft transforms at full speed.
pub(crate) fn smooth_size(n: usize) -> usize {
    let mut best = n.next_power_of_two();
    let mut three = 1;
    while three < best {
        let mut s = three;
        while s < n {
            s *= 2;
        }
        best = best.min(s);
        three *= 3;
    }
    best
}

impl Spectral {
    /// The bank of `kernels` (each at most `len` taps) for spectra of `len` samples.
    pub fn new(len: usize, kernels: &[Kernel]) -> Spectral {
        let longest = kernels.iter().map(|k| k.taps.len()).max().unwrap_or(1);
        // The linear convolution has len + taps - 1 samples; a shorter circular one would wrap.
        let size = smooth_size(len + longest - 1);
        let mut planner = FftPlanner::new();
        let forward = planner.plan_fft_forward(size);
        let inverse = planner.plan_fft_inverse(size);
        let scratch_len = forward.get_inplace_scratch_len().max(inverse.get_inplace_scratch_len());
        let mut scratch = vec![Complex::default(); scratch_len];
        let scale = 1.0 / size as f64;
        let mut pairs = Vec::with_capacity(kernels.len().div_ceil(2) * size);
        let mut row = vec![Complex::default(); size];
        for pair in kernels.chunks(2) {
            row.fill(Complex::default());
            for (part, k) in pair.iter().enumerate() {
                for (t, &tap) in k.taps.iter().rev().enumerate() {
                    if part == 0 {
                        row[t].re = tap * scale;
                    } else {
                        row[t].im = tap * scale;
                    }
                }
            }
            // Linear: FFT(a + i·b) = FFT(a) + i·FFT(b).
            forward.process_with_scratch(&mut row, &mut scratch);
            pairs.extend_from_slice(&row);
        }
        let offsets = kernels.iter().map(|k| k.taps.len() - 1 - k.shift).collect();
        Spectral { len, size, forward, inverse, pairs, offsets, scratch_len }
    }

    pub fn scratch(&self) -> SpectralScratch {
        SpectralScratch {
            x_hat: vec![Complex::default(); self.size],
            work: vec![Complex::default(); self.size],
            fft: vec![Complex::default(); self.scratch_len],
        }
    }

    /// The CWT of `x` (`len` finite samples) into `cwt` (`rows × len`, row-major).
    pub fn transform(&self, x: &[f64], s: &mut SpectralScratch, cwt: &mut [f64]) {
        let (len, size) = (self.len, self.size);
        for (d, &v) in s.x_hat.iter_mut().zip(x) {
            *d = Complex::new(v, 0.0);
        }
        s.x_hat[len..].fill(Complex::default());
        self.forward.process_with_scratch(&mut s.x_hat, &mut s.fft);
        let pairs = self.pairs.chunks_exact(size);
        for ((p, rows), h) in cwt.chunks_mut(2 * len).enumerate().zip(pairs) {
            for ((w, a), b) in s.work.iter_mut().zip(&s.x_hat).zip(h) {
                *w = a * b;
            }
            self.inverse.process_with_scratch(&mut s.work, &mut s.fft);
            let (first, second) = rows.split_at_mut(len);
            let o = self.offsets[2 * p];
            for (y, z) in first.iter_mut().zip(&s.work[o..]) {
                *y = z.re;
            }
            if let Some(&o) = self.offsets.get(2 * p + 1) {
                for (y, z) in second.iter_mut().zip(&s.work[o..]) {
                    *y = z.im;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smooth_sizes_are_the_smallest_of_the_form() {
        assert_eq!(smooth_size(1), 1);
        assert_eq!(smooth_size(5), 6);
        assert_eq!(smooth_size(237), 243);
        assert_eq!(smooth_size(1623), 1728);
        assert_eq!(smooth_size(8791), 9216);
        assert_eq!(smooth_size(4096), 4096);
    }
}
