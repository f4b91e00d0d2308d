//! A bank of similar wavelets as a few basis wavelets and a mixing matrix.
//!
//! The wavelets of neighbouring widths are nearly the same function, so the bank's taps, one
//! row per width, have a small numerical rank: the seed's 30 wavelets of 119 taps (widths
//! 20..60) lie within `1e-15` of a 13-dimensional space. Convolution is linear in the taps, so
//! with `taps_r ≈ Σ_k c[r][k] · basis_k` every CWT row is `Σ_k c[r][k] · (basis_k ⊛ x)`: the
//! products run against 13 basis wavelets instead of 30, and a small `rows × rank` product
//! mixes their rows into the 30 CWT rows — two thirds of the multiply-adds at 119 samples.
//!
//! The basis fits each wavelet's taps within [`TOLERANCE`] of its norm; rebuilt from the
//! coefficients the mixing uses, within `2 · TOLERANCE` (1.2e-15 at 119 samples, checked by the
//! tests). By Cauchy–Schwarz that moves each CWT value by at most `2e-15 · ‖taps‖ · ‖x‖`, the
//! order of the rounding of the sums themselves (`√n · u · ‖taps‖ · ‖x‖` typically, `u` = 2⁻⁵³
//! the unit roundoff: 0.9e-15 at 60 terms), which another summation order already changes.
//! Measured against twice-precise sums on resonance-like spectra at 119 samples (the test
//! `low_rank_values_stay_within_the_stated_bound`), the low-rank values lie within
//! `1.95e-15 · ‖taps‖ · ‖x‖`, the full bank's within `0.8e-15` — mostly the rounding of the
//! 13-term mixing, not the truncation: 2.5 times as close to flipping a near-tie, still far
//! below what realistic spectra come near (the 100 000-vector differential run finds no
//! difference, docs/BENCHMARKS.md). The same routes keep scipy's exact ties: only
//! realistic spectra take the products (see [`super::route::Route`]).
use super::wavelet::Kernel;

/// Largest residual a basis leaves on any wavelet of the bank, relative to the wavelet's norm.
/// At 119 taps the residual after 13 basis wavelets is 0.5–0.6e-15, and rebuilding a wavelet
/// from its coefficients rounds at about 1.2e-15: a tighter bound would mostly add basis
/// wavelets that fit rounding noise.
pub(crate) const TOLERANCE: f64 = 1e-15;

/// The bank as `rank` basis wavelets and `coefficients` (`rows × rank`, row-major).
#[derive(Debug, Clone)]
pub(crate) struct LowRank {
    pub basis: Vec<Kernel>,
    pub coefficients: Vec<f64>,
    pub rank: usize,
}

/// A basis of fewer wavelets than `kernels` within [`TOLERANCE`] of every one of them, if
/// there is one. Only banks of palindromes of one length qualify: the basis wavelets are then
/// palindromes of that length too, bit for bit (every step below treats mirrored taps alike),
/// so the folded products serve them.
///
/// The basis is Gram–Schmidt's with pivoting: the wavelet the current basis fits worst gives
/// the next basis vector, until every wavelet fits. Each residual is projected twice, since
/// one pass of modified Gram–Schmidt loses orthogonality once the residuals are small.
pub(crate) fn low_rank(kernels: &[Kernel]) -> Option<LowRank> {
    let first = kernels.first()?;
    let taps = first.taps.len();
    if !kernels.iter().all(|k| k.symmetric && k.taps.len() == taps) {
        return None;
    }
    let norms: Vec<f64> = kernels.iter().map(|k| norm(&k.taps)).collect();
    let mut basis: Vec<Vec<f64>> = Vec::new();
    loop {
        let mut worst: Option<(f64, Vec<f64>)> = None;
        for (k, &n) in kernels.iter().zip(&norms) {
            let mut residual = k.taps.clone();
            for _ in 0..2 {
                for b in &basis {
                    let c = dot(&residual, b);
                    residual.iter_mut().zip(b).for_each(|(r, b)| *r -= c * b);
                }
            }
            let misfit = if n > 0.0 { norm(&residual) / n } else { 0.0 };
            if misfit > TOLERANCE && worst.as_ref().is_none_or(|(m, _)| misfit > *m) {
                worst = Some((misfit, residual));
            }
        }
        let Some((_, residual)) = worst else { break };
        if basis.len() + 1 >= kernels.len() {
            return None;
        }
        let n = norm(&residual);
        basis.push(residual.iter().map(|r| r / n).collect());
    }
    if basis.is_empty() {
        return None;
    }
    let coefficients = kernels.iter().flat_map(|k| basis.iter().map(|b| dot(&k.taps, b))).collect();
    let basis = basis
        .into_iter()
        .map(|taps| Kernel { taps, shift: first.shift, symmetric: true, scipy_uses_fft: false })
        .collect::<Vec<_>>();
    Some(LowRank { rank: basis.len(), basis, coefficients })
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

pub(crate) fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cwt::linspace;

    fn bank(widths: &[f64], len: usize) -> Vec<Kernel> {
        widths.iter().map(|&w| Kernel::new(w, len)).collect()
    }

    /// The seed's bank fits 13 basis wavelets; each wavelet is rebuilt from them within the
    /// tolerance; the basis is orthonormal and every basis wavelet a palindrome bit for bit.
    #[test]
    fn the_seed_bank_is_thirteen_palindromes_within_the_tolerance() {
        let kernels = bank(&linspace(20.0, 60.0, 30), 119);
        let lr = low_rank(&kernels).expect("the seed's bank has a low rank");
        assert_eq!(lr.rank, 13);
        for (r, k) in kernels.iter().enumerate() {
            let c = &lr.coefficients[r * lr.rank..(r + 1) * lr.rank];
            let rebuilt: Vec<f64> = (0..k.taps.len())
                .map(|t| c.iter().zip(&lr.basis).map(|(c, b)| c * b.taps[t]).sum())
                .collect();
            let misfit = norm(&rebuilt.iter().zip(&k.taps).map(|(a, b)| a - b).collect::<Vec<_>>());
            assert!(misfit <= 2.0 * TOLERANCE * norm(&k.taps), "row {r}: {misfit:e}");
        }
        for (i, a) in lr.basis.iter().enumerate() {
            assert!(a.taps.iter().eq(a.taps.iter().rev()), "basis {i} is a palindrome");
            assert_eq!(a.shift, kernels[0].shift);
            for (j, b) in lr.basis.iter().enumerate() {
                let expected = if i == j { 1.0 } else { 0.0 };
                assert!((dot(&a.taps, &b.taps) - expected).abs() < 1e-14, "basis {i}·{j}");
            }
        }
    }

    /// Banks with nothing to gain, or that the folded products cannot take, get no basis.
    #[test]
    fn dissimilar_or_unfoldable_banks_have_no_basis() {
        // Wavelets of different lengths (10·width below the spectrum length).
        assert!(low_rank(&bank(&[1.0, 2.0, 3.0], 119)).is_none());
        // Fractional points: not palindromes.
        assert!(low_rank(&bank(&[0.25, 0.45], 119)).is_none());
        // Two wavelets far apart in width need both.
        assert!(low_rank(&bank(&[20.0, 60.0], 119)).is_none());
        assert!(low_rank(&[]).is_none());
    }
}
