//! The continuous wavelet transform: scipy's row-by-row direct convolution, the batched
//! transform of many spectra as a few matrix products against a wavelet bank built once, and
//! the FFT convolution of long spectra.
use super::lowrank::low_rank;
use super::packed::{tiled_at, FoldedRow, Mixer, Packed, MR};
use super::spectral::{Spectral, SpectralScratch};
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

/// Spectra per block of the general products (and of the routes without products).
const GEMM_BLOCK: usize = 64;

/// Spectra per block of the packed kernel: whole tiles of [`MR`].
const PACKED_BLOCK: usize = 4 * MR;

/// How one spectrum of a batch is transformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// Half-size products of `x ± rev(x)`. Their sums of pairs round differently at each
    /// position, so they can only serve spectra where no two outputs are exactly equal by
    /// construction.
    Folded,
    /// The full Toeplitz product, for realistic spectra when the wavelets are not all
    /// palindromes (no fold) and the FFT is not chosen or not safe (extreme magnitudes).
    Dense,
    /// FFT convolution ([`Spectral`]): like the folded products, its rounding differs from
    /// position to position, so it serves only spectra without exact zeros or equal neighbours,
    /// and only finite ones of moderate magnitude (no overflow of the transform's sums, no
    /// subnormal precision loss).
    Fft,
    /// The direct convolution, bit for bit [`convolve_same`] and so the reference path's CWT:
    /// for NaN/±inf (which poison whole products), and for every tie-prone spectrum — exact
    /// zeros, equal neighbours, palindromes — where scipy's sums make outputs exactly equal, or
    /// equal but for the order of the terms, and which way such a tie goes is decided by the
    /// rounding alone. On those the fast path answers exactly what the reference answers.
    Direct,
}

/// Which transform a plan gives spectra that cannot hold scipy's exact ties (every spectrum of
/// realistic, noisy data). Spectra that can — exact zeros, equal neighbours, palindromes,
/// NaN/±inf — always take the direct sums, bit for bit the reference's, whatever is chosen here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Transform {
    /// The fastest measured for the spectrum length: matrix products for short spectra, the
    /// FFT above [`FFT_MIN_LEN`] samples — above [`FFT_MIN_LEN_LOW_RANK`] when the bank is
    /// low-rank (the seed's widths up to 200 samples), above [`FFT_MIN_LEN_UNFOLDED`] when some
    /// wavelet is not a palindrome (fractional `10 · width`), where the products cannot be folded.
    #[default]
    Auto,
    /// Matrix products (folded when every wavelet is a palindrome); spectra longer than
    /// 256 samples have no matrices and take the direct sums instead. The folded products run
    /// on a bank packed once per plan, skipping its zero band, with the unfold fused into the
    /// store (AVX-512 or AVX2+FMA when the CPU has them, detected at run time). When the
    /// wavelets are alike (one length, neighbouring widths, as the seed's 20..60) and it saves
    /// multiply-adds, the products run against a few basis wavelets within `1e-15` of the bank
    /// and a small product mixes their rows into the CWT rows (13 basis wavelets for the seed's
    /// 30 at 119 samples).
    Matrices,
    /// [`Transform::Matrices`] always on the full bank, one packed row per wavelet: the fast
    /// path before the low-rank bank, kept for the tests and the benchmarks.
    FullBank,
    /// The same matrix products through a general matrix multiplication (the matrixmultiply
    /// crate), which repacks the bank for every block of spectra and leaves the unfold to a
    /// second pass: the short-spectrum path before the packed kernel, kept as a second
    /// implementation for the tests and the benchmarks.
    Gemm,
    /// FFT convolution.
    Fft,
    /// Direct sums, vectorised across output positions; bit for bit the reference path's.
    Direct,
}

impl Transform {
    /// What [`Transform::Auto`] means for spectra of `len` samples, `foldable` when every wavelet
    /// is a palindrome, `low_rank` when the bank has a basis of fewer wavelets.
    pub(crate) fn choose(self, len: usize, foldable: bool, low_rank: bool) -> Transform {
        let min_len = match (foldable, low_rank) {
            (true, true) => FFT_MIN_LEN_LOW_RANK,
            (true, false) => FFT_MIN_LEN,
            (false, _) => FFT_MIN_LEN_UNFOLDED,
        };
        match self {
            Transform::Auto if len > min_len => Transform::Fft,
            Transform::Auto => Transform::Matrices,
            t => t,
        }
    }
}

/// Above this length [`Transform::Auto`] takes the FFT: measured on one thread, the FFT overtakes
/// the folded products between 119 and 160 samples (seed widths 20..60 and narrow widths 1..10;
/// docs/BENCHMARKS.md).
pub const FFT_MIN_LEN: usize = 128;

/// The same when the bank is low-rank (wavelets alike, all spanning the spectrum; see
/// [`Transform::Matrices`]): measured at 128, 160 and 200 samples with the seed's widths, the
/// low-rank products run 1.4–1.8× the FFT (docs/BENCHMARKS.md). Beyond 200 samples the seed's
/// widths no longer make a low-rank bank, and other banks were not measured there.
pub const FFT_MIN_LEN_LOW_RANK: usize = 200;

/// The same when the products cannot be folded (some wavelet of a fractional length): the FFT
/// overtakes the full products between 64 and 119 samples.
pub const FFT_MIN_LEN_UNFOLDED: usize = 96;

/// Largest magnitude the FFT route takes: far from overflow of its sums of `size` terms, and far
/// from the subnormals, whose coarse rounding its twiddle products would amplify.
const FFT_MAX_MAGNITUDE: f64 = 1e200;

/// Whether `x` can make scipy's sums tie: an exact zero or two equal neighbours (exactly equal
/// outputs in flat runs), or a palindrome (outputs at mirrored positions are the same terms
/// summed in opposite orders, so the two middle ones of an even-length wavelet tie up to
/// rounding; the folded products would make them exactly equal).
pub(crate) fn tie_prone(x: &[f64]) -> bool {
    // Without early exits, so that the compiler vectorises the passes: realistic spectra,
    // the common case, have to be read to the end anyway.
    let zero = x.iter().fold(false, |z, &v| z | (v == 0.0));
    let equal_neighbours = x.windows(2).fold(false, |e, w| e | (w[0] == w[1]));
    zero || equal_neighbours || x.iter().eq(x.iter().rev())
}

/// The route for `x`.
pub(crate) fn route(x: &[f64], bank: &Bank) -> Route {
    if !x.iter().fold(true, |f, v| f & v.is_finite()) || tie_prone(x) {
        return Route::Direct;
    }
    let moderate = || {
        let max_abs = x.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        (1.0 / FFT_MAX_MAGNITUDE..=FFT_MAX_MAGNITUDE).contains(&max_abs)
    };
    if bank.spectral.is_some() && moderate() {
        Route::Fft
    } else if !bank.has_matrices() {
        Route::Direct
    } else if bank.fold.is_some() && bank.fold_realistic {
        Route::Folded
    } else {
        Route::Dense
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
    /// Realistic spectra take the folded products (else the dense one, or the direct sums).
    fold_realistic: bool,
    /// The folded bank in the explicit kernel's layout ([`Transform::Matrices`]); without it the
    /// folded products go through [`gemm`] ([`Transform::Gemm`]). With a `mixer`, the bank of
    /// the basis wavelets.
    packed: Option<Packed>,
    /// Mixes the basis rows the packed kernel leaves into the CWT rows (a low-rank bank).
    mixer: Option<Mixer>,
    /// The FFT form, when the plan gives it realistic spectra.
    spectral: Option<Spectral>,
    /// Longest wavelet: the zero padding the direct sums need on the right.
    longest: usize,
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
    spectral: SpectralScratch,
    /// The spectrum between zeros, for the direct sums.
    padded: Vec<f64>,
    /// The packed kernel's CWT matrices, `rows × len` per folded spectrum of the block.
    cwts: Vec<f64>,
}

/// The Toeplitz entry of `k` at output position `i` (which may be `len`) and sample `j`.
fn toeplitz(k: &Kernel, i: usize, j: usize) -> f64 {
    let t = (j + k.shift).wrapping_sub(i);
    k.taps.get(t).copied().unwrap_or(0.0)
}

impl Bank {
    pub fn new(len: usize, kernels: Vec<Kernel>, transform: Transform) -> Bank {
        let (half, lo) = (len.div_ceil(2), len / 2);
        let foldable = kernels.iter().all(|k| k.symmetric);
        // Only banks of up to 256 samples have matrices at all.
        let low =
            (foldable && matches!(transform, Transform::Auto | Transform::Matrices) && len <= BANK_MAX_LEN)
                .then(|| low_rank(&kernels))
                .flatten();
        let transform = transform.choose(len, foldable, low.is_some());
        let spectral = (transform == Transform::Fft && len >= 2).then(|| Spectral::new(len, &kernels));
        let longest = kernels.iter().map(|k| k.taps.len()).max().unwrap_or(0);
        let mut bank = Bank {
            len,
            kernels,
            half,
            lo,
            fold: None,
            packed: None,
            mixer: None,
            dense_t: Vec::new(),
            fold_realistic: matches!(transform, Transform::Matrices | Transform::FullBank | Transform::Gemm),
            spectral,
            longest,
        };
        if !(2..=BANK_MAX_LEN).contains(&len) || transform == Transform::Direct {
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
        if bank.fold_realistic && bank.kernels.iter().all(|k| k.symmetric) {
            let folded = Folded::new(len, &bank.kernels);
            if matches!(transform, Transform::Matrices | Transform::FullBank) {
                let full = folded.packed(len);
                let low = low.filter(|_| transform == Transform::Matrices).map(|lr| {
                    let basis = Folded::new(len, &lr.basis).packed(len);
                    (basis, Mixer::new(bank.kernels.len(), lr.rank, &lr.coefficients))
                });
                // The basis only where it is clearly fewer multiply-adds: the mixing runs
                // slower than the products per multiply-add (it writes every CWT value).
                match low {
                    Some((basis, mixer)) if (basis.cost() + mixer.cost(len)) * 10 < full.cost() * 9 => {
                        bank.packed = Some(basis);
                        bank.mixer = Some(mixer);
                    }
                    _ => bank.packed = Some(full),
                }
            }
            bank.fold = Some(folded);
        }
        bank
    }

    /// Spectra to transform together: for the general products enough rows to amortise the
    /// repacking of the bank, few enough for the products to stay in the caches; for the packed
    /// kernel few enough that the block's CWT matrices stay in the second-level cache until the
    /// ridge stage reads them.
    pub fn block(&self) -> usize {
        if self.packed.is_some() {
            PACKED_BLOCK
        } else {
            GEMM_BLOCK
        }
    }

    /// Values per spectrum the packed kernel writes: its rows' CWT matrices, and with a
    /// mixer the slack its last panel reads past them.
    fn packed_stride(&self) -> usize {
        match &self.mixer {
            Some(mixer) => mixer.input_len(self.len),
            None => self.kernels.len() * self.len,
        }
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
        // The packed kernel works on whole tiles of spectra; it writes the CWT matrices itself.
        let (e_cols, tiled, cwts) = match (&self.packed, folded_cols) {
            (_, 0) => (0, block, 0),
            (Some(_), _) => (0, block.div_ceil(MR) * MR, block * self.packed_stride()),
            (None, cols) => (cols, block, 0),
        };
        TransformScratch {
            routes: Vec::with_capacity(block),
            u: vec![0.0; tiled * self.half],
            v: vec![0.0; tiled * self.lo],
            e: vec![0.0; block * e_cols],
            o: vec![0.0; block * e_cols],
            x_dense: vec![0.0; dense_rows * self.len],
            dense: vec![0.0; dense_rows * rows * self.len],
            spectral: self.spectral.as_ref().map(Spectral::scratch).unwrap_or_default(),
            padded: vec![0.0; self.len + 2 * self.longest + DIRECT_BLOCK],
            cwts: vec![0.0; cwts],
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
                    // The packed kernel reads each tile's folds interleaved, sample by sample.
                    let (at, step): (fn(usize, usize) -> usize, usize) = match self.packed {
                        Some(_) => (tiled_at, MR),
                        None => (|slot, k| slot * k, 1),
                    };
                    let (u, v) = (&mut s.u[at(n_folded, half)..], &mut s.v[at(n_folded, lo)..]);
                    for j in 0..lo {
                        u[j * step] = x[j] + x[len - 1 - j];
                        v[j * step] = x[j] - x[len - 1 - j];
                    }
                    if half > lo {
                        u[lo * step] = x[lo];
                    }
                    n_folded += 1;
                    n_folded - 1
                }
                Route::Dense => {
                    s.x_dense[n_dense * len..(n_dense + 1) * len].copy_from_slice(x);
                    n_dense += 1;
                    n_dense - 1
                }
                Route::Direct | Route::Fft => 0,
            };
            s.routes.push((r, slot));
        }
        if let (Some(p), true) = (&self.packed, n_folded > 0) {
            p.transform(n_folded, &s.u, &s.v, &mut s.cwts, self.packed_stride());
        } else if let (Some(f), true) = (&self.fold, n_folded > 0) {
            gemm(n_folded, half, f.cols, &s.u, &f.p_t, &mut s.e);
            gemm(n_folded, lo, f.cols, &s.v, &f.q_t, &mut s.o);
        }
        if n_dense > 0 {
            let cols = self.kernels.len() * len;
            gemm(n_dense, len, cols, &s.x_dense, &self.dense_t, &mut s.dense);
        }
    }

    /// Spectrum `index` of the last [`Bank::multiply`] (whose samples are `x`) as its CWT
    /// matrix, `rows × len`: in `cwt`, or where the packed kernel left it in the scratch.
    pub fn assemble<'a>(
        &self,
        index: usize,
        x: &[f64],
        s: &'a mut TransformScratch,
        cwt: &'a mut [f64],
    ) -> &'a [f64] {
        let len = self.len;
        let n = self.kernels.len() * len;
        let rows = cwt.chunks_exact_mut(len);
        match s.routes[index] {
            (Route::Folded, slot) if self.packed.is_some() => {
                let stride = self.packed_stride();
                let rows = &s.cwts[slot * stride..(slot + 1) * stride];
                match &self.mixer {
                    Some(mixer) => mixer.mix(rows, len, cwt),
                    None => return &rows[..n],
                }
            }
            (Route::Folded, slot) => {
                let Some(f) = &self.fold else { return cwt };
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
                cwt.copy_from_slice(&s.dense[slot * n..(slot + 1) * n]);
            }
            (Route::Fft, _) => {
                if let Some(f) = &self.spectral {
                    f.transform(x, &mut s.spectral, cwt);
                }
            }
            (Route::Direct, _) => convolve_rows(x, &self.kernels, &mut s.padded, cwt),
        }
        cwt
    }
}

/// Outputs summed together by [`convolve_rows`]: independent chains for the vector units, few
/// enough to stay in registers.
const DIRECT_BLOCK: usize = 32;

/// [`convolve_same`] for every row of `kernels`, bit for bit, into `cwt` (`rows × len`):
/// each output is still one chain `0 + w₀x₀ + w₁x₁ + …` over the taps in order (no fused
/// multiply-add), but `DIRECT_BLOCK` neighbouring outputs advance together, so the chains fill
/// the vector units instead of waiting on one addition after another. Samples outside the
/// spectrum are zeros, whose products leave a chain unchanged. `padded` holds at least
/// `len + 2 · longest taps + DIRECT_BLOCK` values.
pub(crate) fn convolve_rows(x: &[f64], kernels: &[Kernel], padded: &mut [f64], cwt: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, checked just above.
            return unsafe { convolve_rows_avx2(x, kernels, padded, cwt) };
        }
    }
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

    /// The same bank in the packed kernel's layout.
    fn packed(&self, len: usize) -> Packed {
        let rows: Vec<FoldedRow> = self
            .rows
            .iter()
            .map(|&(n_pos, mirror, col)| FoldedRow {
                n_pos,
                mirror,
                p: Box::new(move |j, p| self.p_t[j * self.cols + col + p]),
                q: Box::new(move |j, p| self.q_t[j * self.cols + col + p]),
            })
            .collect();
        Packed::new(len, &rows)
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
    use super::super::lowrank::norm;
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

    fn xorshift(seed: u64) -> impl FnMut() -> f64 {
        let mut state = seed;
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// Every route of every transform against the direct convolution, the way rustfft holds
    /// each algorithm to its DFT: within rounding of `Σ|taps|`, NaN where it is NaN.
    #[test]
    fn every_route_equals_the_direct_convolution() {
        let mut next = xorshift(0x9e3779b97f4a7c15);
        let lengths = [2, 3, 4, 7, 8, 33, 64, 119, 128, 129, 256, 257, 500, 1000];
        let transforms = [
            Transform::Matrices,
            Transform::FullBank,
            Transform::Gemm,
            Transform::Fft,
            Transform::Direct,
            Transform::Auto,
        ];
        for (len, transform) in lengths.iter().flat_map(|&l| transforms.map(|t| (l, t))) {
            for widths in [&[0.25, 0.3, 0.45, 1.0, 2.0, 2.5, 5.0, 20.0, 61.7][..], &[1.0, 2.5, 20.0]] {
                let kernels: Vec<Kernel> = widths.iter().map(|&w| Kernel::new(w, len)).collect();
                let bank = Bank::new(len, kernels.clone(), transform);
                let n = 6;
                let mut spectra: Vec<f64> = (0..n * len).map(|_| next() - 0.3).collect();
                spectra[len] = 0.0; // spectrum 1 takes the direct sums
                spectra[2 * len] = f64::NAN; // spectrum 2 the direct one
                let mut s = bank.scratch(n);
                bank.multiply(&spectra, &mut s);
                let foldable = kernels.iter().all(|k| k.symmetric);
                let low_rank = foldable && len <= BANK_MAX_LEN && low_rank(&kernels).is_some();
                let expected = match transform.choose(len, foldable, low_rank) {
                    _ if tie_prone(&spectra[..len]) => Route::Direct,

                    Transform::Fft if len >= 2 => Route::Fft,
                    Transform::Direct => Route::Direct,
                    _ if len > BANK_MAX_LEN => Route::Direct,
                    _ if bank.fold.is_some() => Route::Folded,
                    _ => Route::Dense,
                };
                assert_eq!(s.routes[0].0, expected, "len {len}, {transform:?}, {widths:?}");
                let mut cwt = vec![0.0; widths.len() * len];
                for (i, x) in spectra.chunks_exact(len).enumerate() {
                    let cwt = bank.assemble(i, x, &mut s, &mut cwt);
                    for (k, row) in kernels.iter().zip(cwt.chunks_exact(len)) {
                        let scale: f64 = k.taps.iter().map(|t| t.abs()).sum();
                        for (a, b) in row.iter().zip(naive(x, k)) {
                            let close = (a - b).abs() <= 1e-14 * scale;
                            assert!(
                                close || (a.is_nan() && b.is_nan()),
                                "len {len} {transform:?}: {a} vs {b}"
                            );
                        }
                    }
                }
            }
        }
    }

    /// The vectorised direct sums are the reference's sums, bit for bit: same terms, same
    /// order, no fused multiply-add — whatever instruction set the CPU offers.
    #[test]
    fn vectorised_direct_sums_are_the_reference_bit_for_bit() {
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
            let mut cwt = vec![0.0; widths.len() * len];
            convolve_rows(&x, &kernels, &mut padded, &mut cwt);
            for (k, row) in kernels.iter().zip(cwt.chunks_exact(len)) {
                let bits = |v: &[f64]| {
                    v.iter().map(|y| if y.is_nan() { 0 } else { y.to_bits() }).collect::<Vec<_>>()
                };
                assert_eq!(bits(row), bits(&naive(&x, k)), "len {len}, {} taps", k.taps.len());
            }
        }
    }

    /// The packed kernel (whatever instruction set the CPU gives it: AVX-512, AVX2+FMA, or the
    /// portable body), on the full bank and on a low-rank one, against the direct convolution
    /// and against the general matrix product it replaces: every length parity, even- and
    /// odd-length wavelets, narrow wavelets whose bank has a zero band, the seed's 30 alike
    /// wavelets (a low-rank bank), and blocks of many tiles with a partial last one.
    #[test]
    fn packed_kernel_equals_the_direct_convolution_and_the_general_products() {
        let mut next = xorshift(0x5851f42d4c957f2d);
        let seed = crate::cwt::linspace(20.0, 60.0, 30);
        for len in [3, 4, 5, 16, 17, 63, 118, 119, 120, 200, 256] {
            for widths in
                // Three equal widths: a basis of one wavelet, a partial tile of mixed rows.
                [
                    &[20.0, 24.0, 31.0, 60.0][..],
                    &[0.3, 0.4, 1.0, 1.5, 2.0, 3.3, 5.0],
                    &[0.5, 0.7],
                    &[25.0; 3],
                    &seed,
                ]
            {
                let kernels: Vec<Kernel> = widths.iter().map(|&w| Kernel::new(w, len)).collect();
                if !kernels.iter().all(|k| k.symmetric) {
                    continue;
                }
                let low = Bank::new(len, kernels.clone(), Transform::Matrices);
                let full = Bank::new(len, kernels.clone(), Transform::FullBank);
                let general = Bank::new(len, kernels.clone(), Transform::Gemm);
                assert!(low.packed.is_some() && full.packed.is_some() && full.mixer.is_none());
                assert!(general.packed.is_none() && general.fold.is_some());
                if widths.len() == 30 && (63..=200).contains(&len) {
                    assert!(low.mixer.is_some(), "len {len}: the seed's bank is low-rank");
                }
                if widths.len() == 3 && len >= 16 {
                    assert!(low.mixer.is_some(), "len {len}: three equal wavelets are one");
                }
                for packed in [low, full] {
                    // More spectra than one chunk of tiles, not a whole number of tiles.
                    let n = 71;
                    let spectra: Vec<f64> = (0..n * len).map(|_| next() * 3.0 - 1.0).collect();
                    let (mut sp, mut sg) = (packed.scratch(n), general.scratch(n));
                    packed.multiply(&spectra, &mut sp);
                    general.multiply(&spectra, &mut sg);
                    let (mut cp, mut cg) = (vec![0.0; widths.len() * len], vec![0.0; widths.len() * len]);
                    for (i, x) in spectra.chunks_exact(len).enumerate() {
                        assert_eq!(sp.routes[i].0, Route::Folded, "len {len}, spectrum {i}");
                        let a = packed.assemble(i, x, &mut sp, &mut cp);
                        let b = general.assemble(i, x, &mut sg, &mut cg);
                        for (r, k) in kernels.iter().enumerate() {
                            let scale: f64 = k.taps.iter().map(|t| t.abs()).sum::<f64>() * 3.0;
                            let direct = naive(x, k);
                            // Also in the norms the low-rank bound is stated in (lowrank.rs).
                            // Random spectra barely meet the directions a basis leaves out, so
                            // the basis's own precision is checked on the taps, in lowrank.rs.
                            let norms = norm(&k.taps) * norm(x);
                            for p in 0..len {
                                let (a, b, d) = (a[r * len + p], b[r * len + p], direct[p]);
                                let tol = 1e-14 * scale;
                                assert!(
                                    (a - d).abs() <= tol
                                        && (a - b).abs() <= tol
                                        && (a - d).abs() <= 4e-15 * norms,
                                    "len {len}, widths {widths:?}, low rank {}, spectrum {i}, row {r}, \
                                 position {p}: packed {a}, general {b}, direct {d}",
                                    packed.mixer.is_some()
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    /// `Σ a·b` as if in twice the working precision (Ogita, Rump and Oishi's Dot2): each
    /// product's and each addition's rounding error is kept and added back at the end.
    fn dot2(a: impl Iterator<Item = f64>, b: impl Iterator<Item = f64>) -> f64 {
        let (mut sum, mut carry) = (0.0f64, 0.0f64);
        for (a, b) in a.zip(b) {
            let p = a * b;
            let product_error = a.mul_add(b, -p);
            let t = sum + p;
            let z = t - sum;
            carry += (sum - (t - z)) + (p - z) + product_error;
            sum = t;
        }
        sum + carry
    }

    /// The error lowrank.rs states, measured: the seed's bank at 119 samples on resonance-like
    /// spectra, every CWT value against a twice-precise sum, in units of `‖taps‖ · ‖x‖`
    /// (printed: 1.95e-15 for the low-rank bank, 0.8e-15 for the full one). Both stay at the
    /// level of the sums' rounding: the basis's misfit (2e-15) plus the mixing's rounding.
    #[test]
    fn low_rank_values_stay_within_the_stated_bound() {
        let len = 119;
        let kernels: Vec<Kernel> =
            crate::cwt::linspace(20.0, 60.0, 30).iter().map(|&w| Kernel::new(w, len)).collect();
        let mut next = xorshift(0x853c49e6748fea9b);
        let n = 200;
        // A resonance's amplitude (a Lorentzian over a baseline) with 10 % noise: positive, as
        // `np.abs` of a band-excitation response is.
        let mut spectra = Vec::with_capacity(n * len);
        for _ in 0..n {
            let (centre, half_width) = ((0.2 + 0.6 * next()) * len as f64, 2.0 + 20.0 * next());
            for i in 0..len {
                let d = (i as f64 - centre) / half_width;
                spectra.push(0.5 + 1.0 / (1.0 + d * d) + 0.1 * next());
            }
        }
        let mut worst = Vec::new();
        for transform in [Transform::Matrices, Transform::FullBank] {
            let bank = Bank::new(len, kernels.clone(), transform);
            assert_eq!(bank.mixer.is_some(), transform == Transform::Matrices);
            let mut s = bank.scratch(n);
            bank.multiply(&spectra, &mut s);
            let mut cwt = vec![0.0; kernels.len() * len];
            let mut max = 0.0f64;
            for (i, x) in spectra.chunks_exact(len).enumerate() {
                assert_eq!(s.routes[i].0, Route::Folded);
                let cwt = bank.assemble(i, x, &mut s, &mut cwt);
                for (k, row) in kernels.iter().zip(cwt.chunks_exact(len)) {
                    let norms = norm(&k.taps) * norm(x);
                    for (p, &got) in row.iter().enumerate() {
                        let taps = (0..k.taps.len())
                            .filter(|&t| (p + t).checked_sub(k.shift).is_some_and(|j| j < len));
                        let exact = dot2(taps.clone().map(|t| k.taps[t]), taps.map(|t| x[p + t - k.shift]));
                        max = max.max((got - exact).abs() / norms);
                    }
                }
            }
            worst.push(max);
        }
        println!("worst |error| / (‖taps‖·‖x‖): low-rank {:.2e}, full bank {:.2e}", worst[0], worst[1]);
        assert!(worst[0] <= 3e-15, "low-rank bank: {:.2e}", worst[0]);
        assert!(worst[1] <= 3e-15, "full bank: {:.2e}", worst[1]);
    }

    #[test]
    fn tie_prone_spectra_take_the_direct_sums_and_keep_scipys_ties() {
        // A run of equal samples longer than the wavelet: the outputs inside are one and the same
        // chain of multiply-adds, hence equal, so no spurious maximum appears there.
        let len = 119;
        let kernels = vec![Kernel::new(1.0, len), Kernel::new(2.5, len)];
        let x: Vec<f64> =
            (0..len).map(|i| if (30..90).contains(&i) { 0.7 } else { 0.1 * i as f64 }).collect();
        let palindrome: Vec<f64> = (0..len).map(|i| 1.0 + (i.min(len - 1 - i) as f64).sqrt()).collect();
        let realistic: Vec<f64> = (0..len).map(|i| 1.0 + (i as f64 * 0.37).sin()).collect();
        for transform in [Transform::Matrices, Transform::Fft, Transform::Auto] {
            let bank = Bank::new(len, kernels.clone(), transform);
            assert_eq!(route(&x, &bank), Route::Direct);
            assert_eq!(route(&palindrome, &bank), Route::Direct);
            assert_ne!(route(&realistic, &bank), Route::Direct, "{transform:?}");
        }
        let bank = Bank::new(len, kernels, Transform::Matrices);
        let mut s = bank.scratch(1);
        bank.multiply(&x, &mut s);
        let mut cwt = vec![0.0; 2 * len];
        let cwt = bank.assemble(0, &x, &mut s, &mut cwt);
        assert!(cwt[45..75].windows(2).all(|w| w[0] == w[1]));
    }
}
