//! The starting points BGlib 0.0.6 computes (`BGlib/be/analysis/utils/be_sho.py`,
//! `be_sho_fitter.py`), as it computes them.
//!
//! `complex_gaussian` (`SHOestimateGuess`): every pair among the `num_points` bins of largest
//! |r| fixes an SHO in closed form, (a, b, c, d) with A·e^{iφ}·ω0² = −(a + ib), ω0² = d and
//! ω0/Q = −c; the pairs with a positive denominator and d > 0 are averaged with weights
//! (1/e)⁴, e each pair's Σ|H − r|². The average is kept unless it explains less than BGlib asks
//! (std|r| / std|r − H| < 1.2) or puts ω0 outside the band, where `SHOfastGuess` takes over. We
//! evaluate each pair's H as −(a + ib)/(ω² − d + iωc), BGlib's expression with A, ω0, Q and φ
//! substituted, which differs from it only by rounding.
//!
//! BGlib sorts |r| with numpy's `argsort` (descending, reversed); on exactly equal magnitudes the
//! order is numpy's sort's, ours is by |r|² with the higher bin first (a stable sort reversed).
//! BGlib raises on spectra with fewer than `num_points` bins; we take all the bins there.
use super::model::{at, lane_sum, Axis, Internal, LANES};

/// BGlib's `SHOfastGuess` quality factor.
const FAST_Q: f64 = 200.0;
/// BGlib's `wavelet_peaks` guess gives every peak this quality factor.
pub(crate) const WAVELET_Q: f64 = 10.0;

/// Working memory of the guesses: the bins of largest |r| and each pair's solution.
#[derive(Debug, Clone, Default)]
pub(crate) struct GuessScratch {
    top: Vec<usize>,
    /// (a, b, c, d, e, (1/e)⁴) of every accepted pair.
    pairs: Vec<[f64; 6]>,
}

/// What `complex_gaussian` found: BGlib's guess (A, ω0, Q, φ) — NaN where BGlib's weights are
/// (a pair fits exactly, e = 0) —, and the pair of least error, a start where the guess is NaN.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Estimate {
    pub guess: [f64; 4],
    pub best_pair: Option<Internal>,
}

/// A spectrum in the shape the guesses read: real and imaginary parts, and |r|, per bin (the
/// parts padded with zeros as the axis is; |r| for the bins of the spectrum at least).
pub(crate) struct View<'a> {
    pub re: &'a [f64],
    pub im: &'a [f64],
    pub mag: &'a [f64],
}

/// `SHOestimateGuess(resp_vec, w_vec, num_points)` on complex128 values.
#[inline(always)]
pub(crate) fn complex_gaussian(
    axis: &Axis,
    x: &View<'_>,
    num_points: usize,
    s: &mut GuessScratch,
) -> Estimate {
    largest(&x.re[..axis.n], &x.im[..axis.n], num_points, &mut s.top);
    s.pairs.clear();
    for (c1, &i1) in s.top.iter().enumerate() {
        for &i2 in &s.top[c1 + 1..] {
            if let Some(abcd) = pair(axis, x, i1, i2) {
                let e = pair_error(axis, x, &abcd);
                s.pairs.push([abcd[0], abcd[1], abcd[2], abcd[3], e, weight(e)]);
            }
        }
    }
    if s.pairs.is_empty() {
        return Estimate { guess: fast_guess(axis, x), best_pair: None };
    }
    let best_pair = s
        .pairs
        .iter()
        .filter(|p| p[4].is_finite())
        .min_by(|a, b| a[4].total_cmp(&b[4]))
        .map(|p| abcd_to_internal(&[p[0], p[1], p[2], p[3]]));
    let w_sum: f64 = s.pairs.iter().map(|p| p[5]).sum();
    let mean = |j: usize| s.pairs.iter().map(|p| p[5] * p[j]).sum::<f64>() / w_sum;
    let abcd = [mean(0), mean(1), mean(2), mean(3)];
    let [a, b, c, d] = abcd;
    let guess = [a.hypot(b) / d, d.sqrt(), -d.sqrt() / c, (-b).atan2(-a)];
    // BGlib's acceptance test; NaN compares false, so a NaN average is kept (as NaN).
    let explains = std_dev(&x.mag[..axis.n]) / residual_std(axis, x, &abcd);
    if explains < 1.2 || guess[1] < axis.lo || guess[1] > axis.hi {
        return Estimate { guess: fast_guess(axis, x), best_pair };
    }
    Estimate { guess, best_pair }
}

/// BGlib's weight of a pair of error e: (1/e)⁴ (infinite at e = 0, which makes the average NaN).
/// Two squarings where numpy calls `pow`: a few ulps apart, far below the 1e-9 the guess keeps to.
fn weight(e: f64) -> f64 {
    let r = 1.0 / e;
    let r2 = r * r;
    r2 * r2
}

/// The `num_points` bins of largest |r|, largest first (ties: the higher bin first).
#[inline(always)]
pub(crate) fn largest(re: &[f64], im: &[f64], num_points: usize, top: &mut Vec<usize>) {
    let k = num_points.min(re.len());
    top.clear();
    let key = |i: usize| re[i] * re[i] + im[i] * im[i];
    // `before(i, j)`: bin i ranks above bin j. NaN ranks first, as numpy's argsort puts it last.
    let before = |i: usize, j: usize| {
        let (a, b) = (key(i), key(j));
        match (a.is_nan(), b.is_nan()) {
            (true, false) => true,
            (false, true) => false,
            _ => a > b || (a == b || (a.is_nan() && b.is_nan())) && i > j,
        }
    };
    for i in 0..re.len() {
        if top.len() == k && !before(i, top[k - 1]) {
            continue;
        }
        let at = top.iter().position(|&j| before(i, j)).unwrap_or(top.len());
        if top.len() == k {
            top.pop();
        }
        top.insert(at, i);
    }
}

/// The closed-form SHO through bins i1 and i2, (a, b, c, d), where BGlib accepts it (denominator
/// and d > 0). The expressions keep BGlib's order of operations.
#[allow(non_snake_case)]
#[inline(always)]
fn pair(axis: &Axis, x: &View<'_>, i1: usize, i2: usize) -> Option<[f64; 4]> {
    let (w1, w2) = (axis.w[i1], axis.w[i2]);
    let (X1, X2, Y1, Y2) = (x.re[i1], x.re[i2], x.im[i1], x.im[i2]);
    let denom = w1 * (X1 * X1 - X1 * X2 + Y1 * (Y1 - Y2)) + w2 * (-X1 * X2 + X2 * X2 - Y1 * Y2 + Y2 * Y2);
    if denom <= 0.0 || denom.is_nan() {
        return None;
    }
    let dw2 = w1 * w1 - w2 * w2;
    let (r1, r2) = (X1 * X1 + Y1 * Y1, X2 * X2 + Y2 * Y2);
    let a = (dw2 * (w1 * X2 * r1 - w2 * X1 * r2)) / denom;
    let b = (dw2 * (w1 * Y2 * r1 - w2 * Y1 * r2)) / denom;
    let c = (dw2 * (X2 * Y1 - X1 * Y2)) / denom;
    let cross = X1 * X2 + Y1 * Y2;
    let d = (w1 * w1 * w1 * r1 - w1 * w1 * w2 * cross - w1 * (w2 * w2) * cross + w2 * w2 * w2 * r2) / denom;
    (d > 0.0).then_some([a, b, c, d])
}

/// H = −(a + ib)/(ω² − d + iωc) over the group of bins from `k` (0 in the padding), as
/// (real parts, imaginary parts).
#[inline(always)]
fn pair_response(axis: &Axis, abcd: &[f64; 4], k: usize) -> ([f64; LANES], [f64; LANES]) {
    let [a, b, c, d] = *abcd;
    let (w, w2, mask) = axis.group(k);
    let (mut hr, mut hi) = ([0.0; LANES], [0.0; LANES]);
    for l in 0..LANES {
        let (dr, di) = (w2[l] - d, w[l] * c);
        let inv = mask[l] / (dr * dr + di * di);
        // −(a + ib)·conj(D)/|D|²
        hr[l] = -(a * dr + b * di) * inv;
        hi[l] = -(b * dr - a * di) * inv;
    }
    (hr, hi)
}

/// Σ|H − r|² of the pair's SHO.
#[inline(always)]
fn pair_error(axis: &Axis, x: &View<'_>, abcd: &[f64; 4]) -> f64 {
    let mut acc = [0.0f64; LANES];
    for k in axis.starts() {
        let (hr, hi) = pair_response(axis, abcd, k);
        let (re, im) = (at(x.re, k), at(x.im, k));
        for l in 0..LANES {
            let (er, ei) = (hr[l] - re[l], hi[l] - im[l]);
            acc[l] += er * er + ei * ei;
        }
    }
    lane_sum(&acc)
}

/// std|r − H| for the averaged (a, b, c, d).
#[inline(always)]
fn residual_std(axis: &Axis, x: &View<'_>, abcd: &[f64; 4]) -> f64 {
    let n = axis.n as f64;
    let mut acc = [0.0f64; LANES];
    for k in axis.starts() {
        let d = distances(axis, x, abcd, k);
        for l in 0..LANES {
            acc[l] += d[l];
        }
    }
    let mean = lane_sum(&acc) / n;
    let mut acc = [0.0f64; LANES];
    for k in axis.starts() {
        let (d, mask) = (distances(axis, x, abcd, k), at(&axis.mask, k));
        for l in 0..LANES {
            let dev = (d[l] - mean) * mask[l];
            acc[l] += dev * dev;
        }
    }
    (lane_sum(&acc) / n).sqrt()
}

/// |r − H| over the group of bins from `k` (0 in the padding).
#[inline(always)]
fn distances(axis: &Axis, x: &View<'_>, abcd: &[f64; 4], k: usize) -> [f64; LANES] {
    let (hr, hi) = pair_response(axis, abcd, k);
    let (re, im) = (at(x.re, k), at(x.im, k));
    let mut d = [0.0; LANES];
    for l in 0..LANES {
        let (er, ei) = (re[l] - hr[l], im[l] - hi[l]);
        d[l] = (er * er + ei * ei).sqrt();
    }
    d
}

/// numpy's `std` (ddof 0).
#[inline(always)]
fn std_dev(v: &[f64]) -> f64 {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    (v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n).sqrt()
}

/// The averaged (or one pair's) a, b, c, d as the kernel's parameters: c = −(a + ib)/d,
/// ω0 = √d, q = 1/Q = −c/√d.
fn abcd_to_internal(abcd: &[f64; 4]) -> Internal {
    let [a, b, c, d] = *abcd;
    [-a / d, -b / d, d.sqrt(), -c / d.sqrt()]
}

/// BGlib's `SHOfastGuess`: mean |r| / 200, the middle bin's frequency and phase, Q = 200.
#[inline(always)]
pub(crate) fn fast_guess(axis: &Axis, x: &View<'_>) -> [f64; 4] {
    let n = axis.n;
    if n == 0 {
        return [f64::NAN; 4];
    }
    let mid = n / 2;
    let mean = x.mag[..n].iter().sum::<f64>() / n as f64;
    [mean / FAST_Q, axis.w[mid], FAST_Q, x.im[mid].atan2(x.re[mid])]
}

/// The peak BGlib's `wavelet_peaks` guess takes among those `find_peaks_cwt` found in |r| of a
/// spectrum of `n` bins: the one peak, or the one nearest the middle bin `n / 2` (the first of
/// equals), or the middle bin when there is none.
pub(crate) fn nearest_middle(peaks: &[u32], n: usize) -> usize {
    let mid = n / 2;
    peaks.iter().map(|&p| p as usize).min_by_key(|&p| p.abs_diff(mid)).unwrap_or(mid)
}

/// BGlib's `wavelet_peaks` guess at bin `at`: |r| and the phase there, its frequency, Q = 10.
/// BGlib 0.0.6's driver never writes this guess — it stops with `KeyError: 'guess-algorithm'`
/// (its set-up stores the key as `guess_algorithm`), and past that its R² call names a method
/// that does not exist —, so this is what its code means; the R² is computed as for every guess.
#[inline(always)]
pub(crate) fn wavelet_guess(axis: &Axis, x: &View<'_>, at: usize) -> [f64; 4] {
    [x.mag[at], axis.w[at], WAVELET_Q, x.im[at].atan2(x.re[at])]
}
