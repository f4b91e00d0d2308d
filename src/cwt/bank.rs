//! The wavelet bank of one plan as matrices, and the batched transform of a block of spectra:
//! each spectrum takes its [`Route`] — the folded products (on the packed bank, or through a
//! general matrix product), the dense Toeplitz product, the FFT, or the direct sums.
use super::direct::{convolve_rows, DIRECT_BLOCK};
use super::isa::Isa;
use super::lowrank::{low_rank, LowRank};
use super::packed::{tiled_at, FoldedRow, Mixer, Packed, MR};
use super::route::{route, Route, Routes, Transform};
use super::spectral::{Spectral, SpectralScratch};
use super::wavelet::Kernel;

/// Spectra longer than this take the direct convolution: the dense bank grows as `len²` per
/// width while the convolution grows as `len · taps`, and a product whose inner dimension fits
/// one of matrixmultiply's panels (256) sums each output in one sequential chain (see
/// [`Route::Dense`]).
pub(crate) const BANK_MAX_LEN: usize = 256;

/// Spectra per block of the general products (and of the routes without products).
const GEMM_BLOCK: usize = 64;

/// Spectra per block of the packed kernel: whole tiles of [`MR`].
const PACKED_BLOCK: usize = 4 * MR;

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
    /// What realistic spectra take (tie-prone ones take the direct sums).
    routes: Routes,
    /// The instruction set of the vectorised bodies.
    isa: Isa,
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
        Self::with_isa(len, kernels, transform, Isa::detect())
    }

    /// [`Bank::new`] with its vectorised bodies compiled for `isa` (which the CPU must run): the
    /// tests build a plan for each of `Isa::supported`.
    pub(crate) fn with_isa(len: usize, kernels: Vec<Kernel>, transform: Transform, isa: Isa) -> Bank {
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
            routes: Routes { moderate: Route::Direct, extreme: Route::Direct },
            isa,
        };
        if (2..=BANK_MAX_LEN).contains(&len) && transform != Transform::Direct {
            bank.build_matrices(transform, low);
        }
        bank.routes = bank.realistic_routes();
        bank
    }

    /// The dense bank, and the folded one (packed, low-rank when that saves multiply-adds)
    /// when every wavelet is a palindrome and `transform` takes products.
    fn build_matrices(&mut self, transform: Transform, low: Option<LowRank>) {
        let len = self.len;
        let n_cols = self.kernels.len() * len;
        self.dense_t = vec![0.0; len * n_cols];
        for (r, k) in self.kernels.iter().enumerate() {
            for i in 0..len {
                for j in 0..len {
                    self.dense_t[j * n_cols + r * len + i] = toeplitz(k, i, j);
                }
            }
        }
        if !(self.fold_realistic && self.kernels.iter().all(|k| k.symmetric)) {
            return;
        }
        let folded = Folded::new(len, &self.kernels);
        if matches!(transform, Transform::Matrices | Transform::FullBank) {
            let full = folded.packed(len);
            let low = low.filter(|_| transform == Transform::Matrices).map(|lr| {
                let basis = Folded::new(len, &lr.basis).packed(len);
                (basis, Mixer::new(self.kernels.len(), lr.rank, &lr.coefficients))
            });
            // The basis only where it is clearly fewer multiply-adds: the mixing runs
            // slower than the products per multiply-add (it writes every CWT value).
            match low {
                Some((basis, mixer)) if (basis.cost() + mixer.cost(len)) * 10 < full.cost() * 9 => {
                    self.packed = Some(basis);
                    self.mixer = Some(mixer);
                }
                _ => self.packed = Some(full),
            }
        }
        self.fold = Some(folded);
    }

    /// Realistic spectra take the FFT when the plan has it (unless their magnitude is extreme),
    /// else the folded products, else the dense one; beyond [`BANK_MAX_LEN`] the direct sums.
    fn realistic_routes(&self) -> Routes {
        let extreme = if !self.has_matrices() {
            Route::Direct
        } else if self.fold.is_some() && self.fold_realistic {
            Route::Folded
        } else {
            Route::Dense
        };
        let moderate = if self.spectral.is_some() { Route::Fft } else { extreme };
        Routes { moderate, extreme }
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
            let r = route(x, self.routes);
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
            p.transform(self.isa, n_folded, &s.u, &s.v, &mut s.cwts, self.packed_stride());
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
                    Some(mixer) => mixer.mix(self.isa, rows, len, cwt),
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
            (Route::Direct, _) => convolve_rows(self.isa, x, &self.kernels, &mut s.padded, cwt),
        }
        cwt
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
mod tests;
