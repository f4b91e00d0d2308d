//! The continuous wavelet transform: scipy's row-by-row direct convolution, and the batched
//! transform of many spectra as a few matrix products against a wavelet bank built once.
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

/// How a spectrum's CWT row `r` is assembled from the products.
#[derive(Debug, Clone, Copy)]
enum RowSource {
    /// Positions `0..n_pos` of the folded product start at column `col` of `E`/`O`; position
    /// `p` gives `cwt[p] = e + o` and `cwt[len - 1 + odd_shift - p] = e - o`.
    Folded { col: usize, n_pos: usize, mirror: usize },
    /// `len` columns of the general product starting at `col`.
    General { col: usize },
}

/// The wavelet bank of one (spectrum length, widths) pair as matrices for batched products.
///
/// A wavelet with an integer number of points is a palindrome, so its 'same' Toeplitz matrix
/// `T` commutes with reversing the spectrum (up to a half-sample shift of the output when the
/// wavelet has an even length). Splitting each spectrum `x` into `u = x + rev(x)` and
/// `v = x - rev(x)` (first halves only) gives `cwt = P·u ± Q·v` with `P`, `Q` of half the size:
/// half the multiply-adds of `T·x`. Wavelets with a fractional number of points (off-centre,
/// not palindromes) take the plain product `T·x`.
#[derive(Debug, Clone)]
pub(crate) struct Bank {
    len: usize,
    /// `ceil(len / 2)`: the `u` half, with the middle sample of an odd length folded in.
    half: usize,
    /// `floor(len / 2)`: the `v` half.
    lo: usize,
    rows: Vec<RowSource>,
    /// `half × folded_cols`, row-major: `P` of every folded row side by side, transposed.
    p_t: Vec<f64>,
    /// `lo × folded_cols`: `Q` likewise.
    q_t: Vec<f64>,
    folded_cols: usize,
    /// `len × general_cols`: `T` of every general row, transposed.
    g_t: Vec<f64>,
    general_cols: usize,
}

/// Per-thread buffers of the batched products, for `block` spectra at a time.
#[derive(Debug, Clone, Default)]
pub(crate) struct TransformScratch {
    u: Vec<f64>,
    v: Vec<f64>,
    e: Vec<f64>,
    o: Vec<f64>,
    g: Vec<f64>,
}

impl Bank {
    pub fn new(len: usize, kernels: &[Kernel]) -> Bank {
        let half = len.div_ceil(2);
        let lo = len / 2;
        // The Toeplitz entry of `k` at output position `i` (which may be `len`) and sample `j`.
        let toeplitz = |k: &Kernel, i: usize, j: usize| -> f64 {
            let t = (j + k.shift).wrapping_sub(i);
            k.taps.get(t).copied().unwrap_or(0.0)
        };
        let mut rows = Vec::with_capacity(kernels.len());
        let (mut folded, mut general) = (Vec::new(), Vec::new());
        let (mut folded_cols, mut general_cols) = (0, 0);
        for k in kernels {
            if k.symmetric && len >= 2 {
                // Even-length wavelets are centred half a sample early: outputs p and
                // len - p mirror each other instead of p and len - 1 - p.
                let odd_shift = 1 - k.taps.len() % 2;
                let n_pos = (len + odd_shift).div_ceil(2);
                rows.push(RowSource::Folded { col: folded_cols, n_pos, mirror: len - 1 + odd_shift });
                folded.push((k, folded_cols, n_pos));
                folded_cols += n_pos;
            } else {
                rows.push(RowSource::General { col: general_cols });
                general.push((k, general_cols));
                general_cols += len;
            }
        }
        let mut p_t = vec![0.0; half * folded_cols];
        let mut q_t = vec![0.0; lo * folded_cols];
        for &(k, col, n_pos) in &folded {
            for p in 0..n_pos {
                for j in 0..lo {
                    let (a, b) = (toeplitz(k, p, j), toeplitz(k, p, len - 1 - j));
                    p_t[j * folded_cols + col + p] = 0.5 * (a + b);
                    q_t[j * folded_cols + col + p] = 0.5 * (a - b);
                }
                if half > lo {
                    p_t[lo * folded_cols + col + p] = toeplitz(k, p, lo);
                }
            }
        }
        let mut g_t = vec![0.0; len * general_cols];
        for &(k, col) in &general {
            for i in 0..len {
                for j in 0..len {
                    g_t[j * general_cols + col + i] = toeplitz(k, i, j);
                }
            }
        }
        Bank { len, half, lo, rows, p_t, q_t, folded_cols, g_t, general_cols }
    }

    pub fn scratch(&self, block: usize) -> TransformScratch {
        TransformScratch {
            u: vec![0.0; block * self.half],
            v: vec![0.0; block * self.lo],
            e: vec![0.0; block * self.folded_cols],
            o: vec![0.0; block * self.folded_cols],
            g: vec![0.0; block * self.general_cols],
        }
    }

    /// The products for `spectra` (`n × len`, row-major, `n` at most the scratch's block).
    /// [`Bank::assemble`] then reads spectrum by spectrum out of the scratch.
    pub fn multiply(&self, spectra: &[f64], s: &mut TransformScratch) {
        let (len, half, lo) = (self.len, self.half, self.lo);
        let n = spectra.len() / len;
        if self.folded_cols > 0 {
            for (x, (u, v)) in
                spectra.chunks_exact(len).zip(s.u.chunks_exact_mut(half).zip(s.v.chunks_exact_mut(lo.max(1))))
            {
                for j in 0..lo {
                    u[j] = x[j] + x[len - 1 - j];
                    v[j] = x[j] - x[len - 1 - j];
                }
                if half > lo {
                    u[lo] = x[lo];
                }
            }
            gemm(n, half, self.folded_cols, &s.u, &self.p_t, &mut s.e);
            gemm(n, lo, self.folded_cols, &s.v, &self.q_t, &mut s.o);
        }
        if self.general_cols > 0 {
            gemm(n, len, self.general_cols, spectra, &self.g_t, &mut s.g);
        }
    }

    /// Spectrum `index` of the last [`Bank::multiply`] as its CWT matrix, `rows × len`.
    pub fn assemble(&self, index: usize, s: &TransformScratch, cwt: &mut [f64]) {
        let len = self.len;
        for (row, out) in self.rows.iter().zip(cwt.chunks_exact_mut(len)) {
            match *row {
                RowSource::Folded { col, n_pos, mirror } => {
                    let base = index * self.folded_cols + col;
                    let (e, o) = (&s.e[base..base + n_pos], &s.o[base..base + n_pos]);
                    for (p, (e, o)) in e.iter().zip(o).enumerate() {
                        if p < len {
                            out[p] = e + o;
                        }
                        if mirror - p < len {
                            out[mirror - p] = e - o;
                        }
                    }
                }
                RowSource::General { col } => {
                    let base = index * self.general_cols + col;
                    out.copy_from_slice(&s.g[base..base + len]);
                }
            }
        }
    }
}

/// `c = a · b` for row-major `a: m × k`, `b: k × n`, `c: m × n`.
fn gemm(m: usize, k: usize, n: usize, a: &[f64], b: &[f64], c: &mut [f64]) {
    assert!(a.len() >= m * k && b.len() >= k * n && c.len() >= m * n);
    if k == 0 {
        c[..m * n].fill(0.0);
        return;
    }
    // SAFETY: the assert above keeps every (row, column) the strides address inside the slices.
    unsafe {
        matrixmultiply::dgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            k as isize,
            1,
            b.as_ptr(),
            n as isize,
            1,
            0.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(x: &[f64], k: &Kernel) -> Vec<f64> {
        let mut out = vec![0.0; x.len()];
        convolve_same(x, k, &mut out);
        out
    }

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

    #[test]
    fn folded_and_general_products_equal_the_direct_convolution() {
        let mut state = 0x9e3779b97f4a7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        for len in [2, 3, 4, 7, 8, 33, 64, 119, 128] {
            let widths = [0.25, 0.3, 0.45, 1.0, 2.0, 2.5, 5.0, 20.0, 61.7];
            let kernels: Vec<Kernel> = widths.iter().map(|&w| Kernel::new(w, len)).collect();
            let bank = Bank::new(len, &kernels);
            let n = 5;
            let spectra: Vec<f64> = (0..n * len).map(|_| next() - 0.3).collect();
            let mut s = bank.scratch(n);
            bank.multiply(&spectra, &mut s);
            let mut cwt = vec![0.0; widths.len() * len];
            for (i, x) in spectra.chunks_exact(len).enumerate() {
                bank.assemble(i, &s, &mut cwt);
                for (k, row) in kernels.iter().zip(cwt.chunks_exact(len)) {
                    let scale: f64 = k.taps.iter().map(|t| t.abs()).sum();
                    for (a, b) in row.iter().zip(naive(x, k)) {
                        assert!((a - b).abs() <= 1e-14 * scale, "len {len}: {a} vs {b}");
                    }
                }
            }
        }
    }
}
