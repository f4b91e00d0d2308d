//! Every route of every transform held to the direct convolution, the way rustfft holds each
//! algorithm to its DFT, in every instruction set the CPU runs.
use super::*;
use crate::cwt::lowrank::norm;
use crate::cwt::route::tie_prone;
use crate::cwt::tests::{naive, xorshift};

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
    let cases = lengths.iter().flat_map(|&l| transforms.map(|t| (l, t)));
    for ((len, transform), isa) in cases.flat_map(|c| Isa::supported().into_iter().map(move |i| (c, i))) {
        for widths in [&[0.25, 0.3, 0.45, 1.0, 2.0, 2.5, 5.0, 20.0, 61.7][..], &[1.0, 2.5, 20.0]] {
            let kernels: Vec<Kernel> = widths.iter().map(|&w| Kernel::new(w, len)).collect();
            let bank = Bank::with_isa(len, kernels.clone(), transform, isa);
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
                            "len {len} {transform:?} {isa:?}: {a} vs {b}"
                        );
                    }
                }
            }
        }
    }
}

/// The packed kernel in every instruction set the CPU runs (AVX-512, AVX2+FMA, the portable
/// body, each on its own), on the full bank and on a low-rank one, against the direct convolution
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
            let general = Bank::new(len, kernels.clone(), Transform::Gemm);
            assert!(general.packed.is_none() && general.fold.is_some());
            for isa in Isa::supported() {
                let low = Bank::with_isa(len, kernels.clone(), Transform::Matrices, isa);
                let full = Bank::with_isa(len, kernels.clone(), Transform::FullBank, isa);
                assert!(low.packed.is_some() && full.packed.is_some() && full.mixer.is_none());
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
                                "len {len}, widths {widths:?}, {isa:?}, low rank {}, spectrum {i}, row {r}, \
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
    for isa in Isa::supported() {
        let worst = [Transform::Matrices, Transform::FullBank].map(|transform| {
            let bank = Bank::with_isa(len, kernels.clone(), transform, isa);
            assert_eq!(bank.mixer.is_some(), transform == Transform::Matrices);
            worst_error(&bank, &kernels, &spectra)
        });
        println!(
            "{isa:?}: worst |error| / (‖taps‖·‖x‖): low-rank {:.2e}, full bank {:.2e}",
            worst[0], worst[1]
        );
        assert!(worst[0] <= 3e-15, "{isa:?}, low-rank bank: {:.2e}", worst[0]);
        assert!(worst[1] <= 3e-15, "{isa:?}, full bank: {:.2e}", worst[1]);
    }
}

/// The largest `|error| / (‖taps‖·‖x‖)` of `bank`'s CWT values of `spectra` against
/// twice-precise sums.
fn worst_error(bank: &Bank, kernels: &[Kernel], spectra: &[f64]) -> f64 {
    let len = bank.len;
    let n = spectra.len() / len;
    let mut s = bank.scratch(n);
    bank.multiply(spectra, &mut s);
    let mut cwt = vec![0.0; kernels.len() * len];
    let mut max = 0.0f64;
    for (i, x) in spectra.chunks_exact(len).enumerate() {
        assert_eq!(s.routes[i].0, Route::Folded);
        let cwt = bank.assemble(i, x, &mut s, &mut cwt);
        for (k, row) in kernels.iter().zip(cwt.chunks_exact(len)) {
            let norms = norm(&k.taps) * norm(x);
            for (p, &got) in row.iter().enumerate() {
                let taps =
                    (0..k.taps.len()).filter(|&t| (p + t).checked_sub(k.shift).is_some_and(|j| j < len));
                let exact = dot2(taps.clone().map(|t| k.taps[t]), taps.map(|t| x[p + t - k.shift]));
                max = max.max((got - exact).abs() / norms);
            }
        }
    }
    max
}

#[test]
fn tie_prone_spectra_take_the_direct_sums_and_keep_scipys_ties() {
    // A run of equal samples longer than the wavelet: the outputs inside are one and the same
    // chain of multiply-adds, hence equal, so no spurious maximum appears there.
    let len = 119;
    let kernels = vec![Kernel::new(1.0, len), Kernel::new(2.5, len)];
    let x: Vec<f64> = (0..len).map(|i| if (30..90).contains(&i) { 0.7 } else { 0.1 * i as f64 }).collect();
    let palindrome: Vec<f64> = (0..len).map(|i| 1.0 + (i.min(len - 1 - i) as f64).sqrt()).collect();
    let realistic: Vec<f64> = (0..len).map(|i| 1.0 + (i as f64 * 0.37).sin()).collect();
    for transform in [Transform::Matrices, Transform::Fft, Transform::Auto] {
        let bank = Bank::new(len, kernels.clone(), transform);
        assert_eq!(route(&x, bank.routes), Route::Direct);
        assert_eq!(route(&palindrome, bank.routes), Route::Direct);
        assert_ne!(route(&realistic, bank.routes), Route::Direct, "{transform:?}");
    }
    let bank = Bank::new(len, kernels, Transform::Matrices);
    let mut s = bank.scratch(1);
    bank.multiply(&x, &mut s);
    let mut cwt = vec![0.0; 2 * len];
    let cwt = bank.assemble(0, &x, &mut s, &mut cwt);
    assert!(cwt[45..75].windows(2).all(|w| w[0] == w[1]));
}
