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

/// Spectra longer than this take the direct convolution: the dense bank grows as `len²` per
/// width while the convolution grows as `len · taps`, and a product whose inner dimension fits
/// one of matrixmultiply's panels (256) sums each output in one sequential chain (see
/// [`Route::Dense`]).
pub(crate) const BANK_MAX_LEN: usize = 256;

/// How one spectrum of a batch is transformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// Half-size products of `x ± rev(x)`. Their sums of pairs round differently at each
    /// position, so they can only serve spectra where no two outputs are exactly equal by
    /// construction.
    Folded,
    /// The full Toeplitz product: every output is one fused multiply-add chain over its wavelet
    /// taps in order (the zeros outside the taps leave the chain unchanged), like scipy's sums.
    /// Exact zeros, runs of equal samples and lone spikes thus give exactly equal or exactly
    /// zero outputs — scipy's ties, kept as ties.
    Dense,
    /// The direct convolution, for NaN/±inf (which poison whole products) and long spectra.
    Direct,
}

/// The route for `x`: exact zeros or two equal neighbours make scipy's exact ties possible.
pub(crate) fn route(x: &[f64], bank: &Bank) -> Route {
    if !bank.has_matrices() || x.iter().any(|v| !v.is_finite()) {
        Route::Direct
    } else if bank.fold.is_none() || x.contains(&0.0) || x.windows(2).any(|w| w[0] == w[1]) {
        Route::Dense
    } else {
        Route::Folded
    }
}

/// The folded form of a bank whose wavelets are all palindromes.
#[derive(Debug, Clone)]
struct Folded {
    /// Per row: positions computed, the mirror of position 0, first column in `E`/`O`.
    rows: Vec<(usize, usize, usize)>,
    /// `half × cols`, row-major: `P` of every row side by side, transposed.
    p_t: Vec<f64>,
    /// `lo × cols`: `Q` likewise.
    q_t: Vec<f64>,
    cols: usize,
}

/// The wavelet bank of one (spectrum length, widths) pair as matrices for batched products.
///
/// A wavelet with an integer number of points is a palindrome, so its 'same' Toeplitz matrix
/// `T` commutes with reversing the spectrum (up to a half-sample shift of the output when the
/// wavelet has an even length). Splitting each spectrum `x` into `u = x + rev(x)` and
/// `v = x - rev(x)` (first halves only) gives `cwt = P·u ± Q·v` with `P`, `Q` of half the size:
/// half the multiply-adds of `T·x`. When a wavelet has a fractional number of points
/// (off-centre, not a palindrome) the bank is not folded and every spectrum takes `T·x`.
#[derive(Debug, Clone)]
pub(crate) struct Bank {
    len: usize,
    kernels: Vec<Kernel>,
    /// `ceil(len / 2)`: the `u` half, with the middle sample of an odd length folded in.
    half: usize,
    /// `floor(len / 2)`: the `v` half.
    lo: usize,
    fold: Option<Folded>,
    /// `len × rows·len`, row-major: `T` of every row side by side, transposed. Empty beyond
    /// [`BANK_MAX_LEN`].
    dense_t: Vec<f64>,
}

/// Per-thread buffers of the batched products, for `block` spectra at a time.
#[derive(Debug, Clone, Default)]
pub(crate) struct TransformScratch {
    routes: Vec<(Route, usize)>,
    u: Vec<f64>,
    v: Vec<f64>,
    e: Vec<f64>,
    o: Vec<f64>,
    x_dense: Vec<f64>,
    dense: Vec<f64>,
}

/// The Toeplitz entry of `k` at output position `i` (which may be `len`) and sample `j`.
fn toeplitz(k: &Kernel, i: usize, j: usize) -> f64 {
    let t = (j + k.shift).wrapping_sub(i);
    k.taps.get(t).copied().unwrap_or(0.0)
}

impl Bank {
    pub fn new(len: usize, kernels: Vec<Kernel>) -> Bank {
        let (half, lo) = (len.div_ceil(2), len / 2);
        let mut bank = Bank { len, kernels, half, lo, fold: None, dense_t: Vec::new() };
        if !(2..=BANK_MAX_LEN).contains(&len) {
            return bank;
        }
        let n_cols = bank.kernels.len() * len;
        bank.dense_t = vec![0.0; len * n_cols];
        for (r, k) in bank.kernels.iter().enumerate() {
            for i in 0..len {
                for j in 0..len {
                    bank.dense_t[j * n_cols + r * len + i] = toeplitz(k, i, j);
                }
            }
        }
        if bank.kernels.iter().all(|k| k.symmetric) {
            bank.fold = Some(Folded::new(len, &bank.kernels));
        }
        bank
    }

    fn has_matrices(&self) -> bool {
        !self.dense_t.is_empty()
    }

    pub fn scratch(&self, block: usize) -> TransformScratch {
        let rows = self.kernels.len();
        let (dense_rows, folded_cols) = match (&self.fold, self.has_matrices()) {
            (_, false) => (0, 0),
            (Some(f), true) => (block, f.cols),
            (None, true) => (block, 0),
        };
        TransformScratch {
            routes: Vec::with_capacity(block),
            u: vec![0.0; block * self.half],
            v: vec![0.0; block * self.lo],
            e: vec![0.0; block * folded_cols],
            o: vec![0.0; block * folded_cols],
            x_dense: vec![0.0; dense_rows * self.len],
            dense: vec![0.0; dense_rows * rows * self.len],
        }
    }

    /// The products for `spectra` (`n × len`, row-major, `n` at most the scratch's block).
    /// [`Bank::assemble`] then reads spectrum by spectrum out of the scratch.
    pub fn multiply(&self, spectra: &[f64], s: &mut TransformScratch) {
        let (len, half, lo) = (self.len, self.half, self.lo);
        s.routes.clear();
        let (mut n_folded, mut n_dense) = (0, 0);
        for x in spectra.chunks_exact(len) {
            let r = route(x, self);
            let slot = match r {
                Route::Folded => {
                    let (u, v) = (&mut s.u[n_folded * half..], &mut s.v[n_folded * lo..]);
                    for j in 0..lo {
                        u[j] = x[j] + x[len - 1 - j];
                        v[j] = x[j] - x[len - 1 - j];
                    }
                    if half > lo {
                        u[lo] = x[lo];
                    }
                    n_folded += 1;
                    n_folded - 1
                }
                Route::Dense => {
                    s.x_dense[n_dense * len..(n_dense + 1) * len].copy_from_slice(x);
                    n_dense += 1;
                    n_dense - 1
                }
                Route::Direct => 0,
            };
            s.routes.push((r, slot));
        }
        if let (Some(f), true) = (&self.fold, n_folded > 0) {
            gemm(n_folded, half, f.cols, &s.u, &f.p_t, &mut s.e);
            gemm(n_folded, lo, f.cols, &s.v, &f.q_t, &mut s.o);
        }
        if n_dense > 0 {
            let cols = self.kernels.len() * len;
            gemm(n_dense, len, cols, &s.x_dense, &self.dense_t, &mut s.dense);
        }
    }

    /// Spectrum `index` of the last [`Bank::multiply`] (whose samples are `x`) as its CWT
    /// matrix, `rows × len`.
    pub fn assemble(&self, index: usize, x: &[f64], s: &TransformScratch, cwt: &mut [f64]) {
        let len = self.len;
        let rows = cwt.chunks_exact_mut(len);
        match s.routes[index] {
            (Route::Folded, slot) => {
                let Some(f) = &self.fold else { return };
                for (&(n_pos, mirror, col), out) in f.rows.iter().zip(rows) {
                    let base = slot * f.cols + col;
                    let (e, o) = (&s.e[base..base + n_pos], &s.o[base..base + n_pos]);
                    for (p, (e, o)) in e.iter().zip(o).enumerate() {
                        out[p] = e + o;
                        if mirror - p < len {
                            out[mirror - p] = e - o;
                        }
                    }
                }
            }
            (Route::Dense, slot) => {
                let n = self.kernels.len() * len;
                cwt.copy_from_slice(&s.dense[slot * n..(slot + 1) * n]);
            }
            (Route::Direct, _) => {
                for (k, out) in self.kernels.iter().zip(rows) {
                    convolve_same(x, k, out);
                }
            }
        }
    }
}

impl Folded {
    fn new(len: usize, kernels: &[Kernel]) -> Folded {
        let (half, lo) = (len.div_ceil(2), len / 2);
        let mut rows = Vec::with_capacity(kernels.len());
        let mut cols = 0;
        for k in kernels {
            // Even-length wavelets are centred half a sample early: outputs p and len - p
            // mirror each other instead of p and len - 1 - p.
            let odd_shift = 1 - k.taps.len() % 2;
            let n_pos = (len + odd_shift).div_ceil(2);
            rows.push((n_pos, len - 1 + odd_shift, cols));
            cols += n_pos;
        }
        let mut p_t = vec![0.0; half * cols];
        let mut q_t = vec![0.0; lo * cols];
        for (k, &(n_pos, _, col)) in kernels.iter().zip(&rows) {
            for p in 0..n_pos {
                for j in 0..lo {
                    let (a, b) = (toeplitz(k, p, j), toeplitz(k, p, len - 1 - j));
                    p_t[j * cols + col + p] = 0.5 * (a + b);
                    q_t[j * cols + col + p] = 0.5 * (a - b);
                }
                if half > lo {
                    p_t[lo * cols + col + p] = toeplitz(k, p, lo);
                }
            }
        }
        Folded { rows, p_t, q_t, cols }
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
    fn every_route_equals_the_direct_convolution() {
        let mut state = 0x9e3779b97f4a7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        for len in [2, 3, 4, 7, 8, 33, 64, 119, 128, 256] {
            for widths in [&[0.25, 0.3, 0.45, 1.0, 2.0, 2.5, 5.0, 20.0, 61.7][..], &[1.0, 2.5, 20.0]] {
                let kernels: Vec<Kernel> = widths.iter().map(|&w| Kernel::new(w, len)).collect();
                let bank = Bank::new(len, kernels.clone());
                let n = 6;
                let mut spectra: Vec<f64> = (0..n * len).map(|_| next() - 0.3).collect();
                spectra[len] = 0.0; // spectrum 1 takes the dense route
                spectra[2 * len] = f64::NAN; // spectrum 2 the direct one
                let mut s = bank.scratch(n);
                bank.multiply(&spectra, &mut s);
                let mut cwt = vec![0.0; widths.len() * len];
                for (i, x) in spectra.chunks_exact(len).enumerate() {
                    bank.assemble(i, x, &s, &mut cwt);
                    for (k, row) in kernels.iter().zip(cwt.chunks_exact(len)) {
                        let scale: f64 = k.taps.iter().map(|t| t.abs()).sum();
                        for (a, b) in row.iter().zip(naive(x, k)) {
                            let close = (a - b).abs() <= 1e-14 * scale;
                            assert!(close || (a.is_nan() && b.is_nan()), "len {len}: {a} vs {b}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn the_dense_route_keeps_scipys_exact_ties_in_flat_runs() {
        // A run of equal samples longer than the wavelet: the outputs inside are one and the same
        // chain of multiply-adds, hence equal, so no spurious maximum appears there.
        let len = 119;
        let kernels = vec![Kernel::new(1.0, len), Kernel::new(2.5, len)];
        let bank = Bank::new(len, kernels);
        let x: Vec<f64> =
            (0..len).map(|i| if (30..90).contains(&i) { 0.7 } else { 0.1 * i as f64 }).collect();
        assert_eq!(route(&x, &bank), Route::Dense);
        let mut s = bank.scratch(1);
        bank.multiply(&x, &mut s);
        let mut cwt = vec![0.0; 2 * len];
        bank.assemble(0, &x, &s, &mut cwt);
        assert!(cwt[45..75].windows(2).all(|w| w[0] == w[1]));
    }
}
