//! The direct sums: scipy's `np.convolve(x, taps[::-1], 'same')` row by row, transcribed
//! ([`convolve_same`], the reference path's) and vectorised across output positions
//! ([`convolve_rows`], bit for bit the same sums), for the spectra no product may round.
use super::isa::Isa;
use super::wavelet::Kernel;

/// One CWT row the way `np.convolve(x, taps[::-1], 'same')` computes it: each output sums only
/// the taps that overlap the spectrum, so a NaN or ±inf reaches the outputs whose wavelet covers
/// it and no others. `out.len() == x.len()`.
pub(crate) fn convolve_same(x: &[f64], k: &Kernel, out: &mut [f64]) {
    let len = x.len();
    let m = k.taps.len();
    for (i, y) in out.iter_mut().enumerate() {
        let t0 = k.shift.saturating_sub(i);
        let t1 = m.min(len + k.shift - i);
        let start = i + t0 - k.shift;
        *y = k.taps[t0..t1].iter().zip(&x[start..]).fold(0.0, |acc, (w, v)| acc + w * v);
    }
    // scipy's FFT path turns a single non-finite sample into a row of NaN.
    if k.scipy_uses_fft && x.iter().any(|v| !v.is_finite()) {
        out.fill(f64::NAN);
    }
}

/// Outputs summed together by [`convolve_rows`]: independent chains for the vector units, few
/// enough to stay in registers.
pub(crate) const DIRECT_BLOCK: usize = 32;

/// [`convolve_same`] for every row of `kernels`, bit for bit, into `cwt` (`rows × len`):
/// each output is still one chain `0 + w₀x₀ + w₁x₁ + …` over the taps in order (no fused
/// multiply-add), but `DIRECT_BLOCK` neighbouring outputs advance together, so the chains fill
/// the vector units instead of waiting on one addition after another. Samples outside the
/// spectrum are zeros, whose products leave a chain unchanged. `padded` holds at least
/// `len + 2 · longest taps + DIRECT_BLOCK` values.
/// `isa` is the plan's instruction set ([`Isa::detect`] or, in tests, any of
/// `Isa::supported`): the sums are the same bits in every one.
pub(crate) fn convolve_rows(isa: Isa, x: &[f64], kernels: &[Kernel], padded: &mut [f64], cwt: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if isa.has_avx2() {
        // SAFETY: the CPU has AVX2 (an `Isa` is only made by detection).
        return unsafe { convolve_rows_avx2(x, kernels, padded, cwt) };
    }
    let _ = isa;
    convolve_rows_portable(x, kernels, padded, cwt)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn convolve_rows_avx2(x: &[f64], kernels: &[Kernel], padded: &mut [f64], cwt: &mut [f64]) {
    convolve_rows_portable(x, kernels, padded, cwt)
}

/// The body of [`convolve_rows`], compiled once per instruction set it is inlined into.
#[inline(always)]
fn convolve_rows_portable(x: &[f64], kernels: &[Kernel], padded: &mut [f64], cwt: &mut [f64]) {
    let len = x.len();
    let lead = kernels.iter().map(|k| k.shift).max().unwrap_or(0);
    padded.fill(0.0);
    padded[lead..lead + len].copy_from_slice(x);
    for (k, out) in kernels.iter().zip(cwt.chunks_exact_mut(len)) {
        let base = lead - k.shift;
        for (b, out) in out.chunks_mut(DIRECT_BLOCK).enumerate() {
            let mut acc = [0.0f64; DIRECT_BLOCK];
            let from = base + b * DIRECT_BLOCK;
            for (t, &w) in k.taps.iter().enumerate() {
                let xs = &padded[from + t..from + t + DIRECT_BLOCK];
                for (a, &v) in acc.iter_mut().zip(xs) {
                    *a += w * v;
                }
            }
            out.copy_from_slice(&acc[..out.len()]);
        }
        if k.scipy_uses_fft && x.iter().any(|v| !v.is_finite()) {
            out.fill(f64::NAN);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cwt::tests::{naive, xorshift};

    #[test]
    fn same_mode_centres_like_numpy_for_odd_and_even_wavelets() {
        // np.convolve(x, v, 'same') with v = taps[::-1]: out[i] = Σ taps[t] x[i - len(taps)//2 + t].
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        let k =
            |taps: Vec<f64>| Kernel { shift: taps.len() / 2, taps, symmetric: false, scipy_uses_fft: false };
        assert_eq!(naive(&x, &k(vec![0.0, 1.0])), [1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(naive(&x, &k(vec![0.0, 0.0, 1.0])), [2.0, 3.0, 4.0, 5.0, 0.0]);
        assert_eq!(naive(&x, &k(vec![0.0, 0.0, 0.0, 1.0])), [2.0, 3.0, 4.0, 5.0, 0.0]);
        assert_eq!(naive(&x, &k(vec![1.0, 0.0, 0.0, 0.0])), [0.0, 0.0, 1.0, 2.0, 3.0]);
    }

    #[test]
    fn a_nan_reaches_only_the_outputs_its_wavelet_covers() {
        let k = Kernel::new(0.3, 10); // 3 taps
        let mut x = [1.0; 10];
        x[0] = f64::NAN;
        let y = naive(&x, &k);
        assert!(y[0].is_nan() && y[1].is_nan());
        assert!(y[2..].iter().all(|v| v.is_finite()));
    }

    /// The vectorised direct sums are the reference's sums, bit for bit: same terms, same
    /// order, no fused multiply-add — in every instruction set the CPU runs (the AVX2 body and
    /// the portable one, each on its own).
    #[test]
    fn vectorised_direct_sums_are_the_reference_bit_for_bit() {
        let isas = Isa::supported();
        let mut next = xorshift(0x2545f4914f6cdd1d);
        for len in [1, 2, 5, 31, 32, 33, 119, 300, 2049] {
            let widths = [0.25, 0.35, 1.0, 1.6, 2.5, 7.05, 20.0, 61.7, f64::INFINITY];
            let kernels: Vec<Kernel> = widths.iter().map(|&w| Kernel::new(w, len)).collect();
            let longest = kernels.iter().map(|k| k.taps.len()).max().unwrap_or(0);
            let mut padded = vec![0.0; len + 2 * longest + DIRECT_BLOCK];
            let mut x: Vec<f64> = (0..len).map(|_| next() * 2.0 - 0.5).collect();
            if len > 3 {
                x[1] = 0.0;
                x[3] = -x[2];
            }
            if len == 2049 {
                x[700] = f64::INFINITY; // a row scipy would convolve by FFT turns all NaN
            }
            let bits =
                |v: &[f64]| v.iter().map(|y| if y.is_nan() { 0 } else { y.to_bits() }).collect::<Vec<_>>();
            for &isa in &isas {
                let mut cwt = vec![0.0; widths.len() * len];
                convolve_rows(isa, &x, &kernels, &mut padded, &mut cwt);
                for (k, row) in kernels.iter().zip(cwt.chunks_exact(len)) {
                    assert_eq!(bits(row), bits(&naive(&x, k)), "{isa:?}, len {len}, {} taps", k.taps.len());
                }
            }
        }
    }
}
