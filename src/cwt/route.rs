//! Which transform each spectrum takes: the plan's choice for realistic spectra by length and
//! bank ([`Transform`]), and the direct sums for every spectrum where scipy's sums can tie.
//!
//! Every fast transform rounds differently from scipy's sums, position by position. That only
//! moves a peak where two outputs are equal or all but equal by construction, so the policy is:
//! realistic spectra (finite, no exact zero, no equal neighbours, not a palindrome) take the
//! fastest transform, the others the direct sums, bit for bit the reference's.

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
    /// FFT convolution ([`super::spectral::Spectral`]): like the folded products, its rounding differs from
    /// position to position, so it serves only spectra without exact zeros or equal neighbours,
    /// and only finite ones of moderate magnitude (no overflow of the transform's sums, no
    /// subnormal precision loss).
    Fft,
    /// The direct convolution, bit for bit [`super::direct::convolve_same`] and so the reference path's CWT:
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
    /// FFT above 128 samples — above 200 when the bank is low-rank (the seed's widths up to 200
    /// samples), above 96 when some wavelet is not a palindrome (fractional `10 · width`), where
    /// the products cannot be folded (`FFT_MIN_LEN`, `FFT_MIN_LEN_LOW_RANK`,
    /// `FFT_MIN_LEN_UNFOLDED`).
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
pub(crate) const FFT_MIN_LEN: usize = 128;

/// The same when the bank is low-rank (wavelets alike, all spanning the spectrum; see
/// [`Transform::Matrices`]): measured at 128, 160 and 200 samples with the seed's widths, the
/// low-rank products run 1.4–1.8× the FFT (docs/BENCHMARKS.md). Beyond 200 samples the seed's
/// widths no longer make a low-rank bank, and other banks were not measured there.
pub(crate) const FFT_MIN_LEN_LOW_RANK: usize = 200;

/// The same when the products cannot be folded (some wavelet of a fractional length): the FFT
/// overtakes the full products between 64 and 119 samples.
pub(crate) const FFT_MIN_LEN_UNFOLDED: usize = 96;

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

/// The routes a plan gives spectra that cannot hold scipy's ties, chosen once per plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Routes {
    /// For spectra of moderate magnitude.
    pub moderate: Route,
    /// For the others, when `moderate` is the FFT, whose sums would overflow or lose precision.
    pub extreme: Route,
}

/// The route for `x`: the direct sums for NaN/±inf and tie-prone spectra, else `routes`'.
pub(crate) fn route(x: &[f64], routes: Routes) -> Route {
    if !x.iter().fold(true, |f, v| f & v.is_finite()) || tie_prone(x) {
        return Route::Direct;
    }
    let moderate = || {
        let max_abs = x.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        (1.0 / FFT_MAX_MAGNITUDE..=FFT_MAX_MAGNITUDE).contains(&max_abs)
    };
    if routes.moderate == routes.extreme || moderate() {
        routes.moderate
    } else {
        routes.extreme
    }
}
