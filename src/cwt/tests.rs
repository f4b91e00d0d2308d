//! The specification of the kernel as tests: scipy's corner cases, and the fast plan against the
//! reference path.
use super::direct::convolve_same;
use super::ridges::{find_peaks, RidgeScratch};
use super::wavelet::Kernel;
use super::*;

/// Deterministic uniform numbers in [0, 1) (xorshift64*).
pub(crate) struct Rng(u64);
impl Rng {
    pub fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545f4914f6cdd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Deterministic uniform numbers in [0, 1) (xorshift64).
pub(crate) fn xorshift(seed: u64) -> impl FnMut() -> f64 {
    let mut state = seed;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// One CWT row by the reference's direct convolution.
pub(crate) fn naive(x: &[f64], k: &Kernel) -> Vec<f64> {
    let mut out = vec![0.0; x.len()];
    convolve_same(x, k, &mut out);
    out
}

/// The ridge and filter stages of the fast path on a made-up CWT matrix (one row per width of
/// `p`), held to the reference's ridge lines and filters on the same matrix.
fn ridge_peaks(cwt: &[Vec<f64>], p: &CwtParams) -> Vec<u32> {
    let len = cwt[0].len();
    let rp = p.validate(len).unwrap();
    let flat: Vec<f64> = cwt.concat();
    let mut out = Vec::new();
    find_peaks(&flat, len, &rp, &mut RidgeScratch::new(cwt.len(), len), &mut out);
    let reference = peaks_from_cwt(cwt, &rp);
    assert_eq!(out.iter().map(|&c| c as usize).collect::<Vec<_>>(), reference, "fast vs reference ridges");
    out
}

fn params_for(rows: usize, max_distance: f64, gap: f64) -> CwtParams {
    CwtParams {
        widths: vec![1.0; rows],
        max_distances: Some(vec![max_distance; rows]),
        gap_thresh: Some(gap),
        min_length: Some(1),
        min_snr: 0.0,
        ..CwtParams::default()
    }
}

#[test]
fn ridge_extended_twice_in_one_row_like_scipy() {
    // Row 3 has one maximum (col 10); rows 2 and 1 each join two maxima to that line, so scipy's
    // argsort scatter reports the line at (row 1, col 13) — not the first join in its lowest row.
    let mut m = vec![vec![0.0; 20]; 4];
    m[3][10] = 1.0;
    m[2][8] = 1.0;
    m[2][12] = 1.0;
    m[1][7] = 1.0; // 5 from col 12, the line's last join: starts a line of its own
    m[1][11] = 1.0;
    m[1][13] = 2.0;
    m[0] = (0..20).map(|i| 1.0 + 0.01 * i as f64).collect();
    let mut p = params_for(4, 3.0, 2.0);
    p.window_size = Some(3);
    assert_eq!(ridge_peaks(&m, &p), [7, 13]);
    // The SNR reads cwt[1][13] = 2 (snr 1.78), not cwt[1][11] = 1: scipy keeps col 13 alone.
    p.min_snr = 1.5;
    assert_eq!(ridge_peaks(&m, &p), [13]);
}

#[test]
fn closest_previous_column_is_the_first_on_ties() {
    // Col 7 is 2 from both lines (cols 5 and 9): it joins the first, which ends at row 0.
    let mut m = vec![vec![0.0; 20]; 2];
    m[1][5] = 1.0;
    m[1][9] = 1.0;
    m[0][7] = 1.0;
    let mut p = params_for(2, 3.0, 2.0);
    p.min_length = Some(2);
    assert_eq!(ridge_peaks(&m, &p), [7]);
}

#[test]
fn a_line_whose_gap_exceeds_gap_thresh_is_closed() {
    // A line at col 10 from row 4; rows 3..1 have no maximum near it; row 0 has one at col 10.
    let mut m = vec![vec![0.0; 30]; 5];
    m[4][10] = 1.0;
    m[0][10] = 1.0;
    m[2][25] = 1.0; // keeps rows busy elsewhere
    let mut p = params_for(5, 2.0, 2.0);
    p.min_length = Some(2);
    // gap 3 > 2 after rows 3, 2, 1: the line closes with one point; row 0's max starts anew.
    assert_eq!(ridge_peaks(&m, &p), Vec::<u32>::new());
    p.gap_thresh = Some(3.0);
    assert_eq!(ridge_peaks(&m, &p), [10]);
}

#[test]
fn relative_maxima_are_strict_and_never_at_the_edges() {
    let mut m = vec![vec![0.0; 8]; 1];
    m[0] = vec![9.0, 1.0, 3.0, 3.0, 1.0, 2.0, 1.0, 9.0];
    assert_eq!(ridge_peaks(&m, &params_for(1, 1.0, 1.0)), [5]);
}

#[test]
fn snr_from_ridge_max_uses_the_largest_value_on_the_line() {
    // One line down col 10 with values 5 (row 2), 0.5 (row 1), 1.5 (row 0).
    let mut m = vec![vec![0.0; 20]; 3];
    m[2][10] = 5.0;
    m[1][10] = 0.5;
    m[0] = vec![1.0; 20];
    m[0][9] = 0.0;
    m[0][10] = 1.5;
    let mut p = params_for(3, 2.0, 2.0);
    p.window_size = Some(3);
    p.min_length = Some(3);
    // Noise: 10th percentile of [0, 1.5, 1] = 0.2. scipy's signal 1.5 gives 7.5, the line's
    // largest value 5 gives 25.
    p.min_snr = 8.0;
    assert_eq!(ridge_peaks(&m, &p), Vec::<u32>::new());
    p.snr_from = SnrFrom::RidgeMax;
    assert_eq!(ridge_peaks(&m, &p), [10]);
}

fn random_spectrum(rng: &mut Rng, len: usize, kind: usize) -> Vec<f64> {
    let centre = rng.next() * len as f64;
    let width = 2.0 + rng.next() * len as f64 / 6.0;
    (0..len)
        .map(|i| {
            let noise = rng.next();
            let x = (i as f64 - centre) / width;
            match kind % 4 {
                0 => noise,
                1 => 3.0 / (1.0 + x * x) + 0.3 * noise,
                2 => 2.0 * (-x * x).exp() + 0.2 * noise,
                // A dead pixel, zeros of both signs.
                _ if noise < 0.5 => 0.0,
                _ => -0.0,
            }
        })
        .collect()
}

fn parameter_sets() -> Vec<CwtParams> {
    let default = CwtParams::default();
    vec![
        default.clone(),
        CwtParams { widths: linspace(1.0, 10.0, 12), ..default.clone() },
        // Fractional wavelet lengths (off-centre, no folding) mixed with integer ones.
        CwtParams { widths: vec![0.35, 1.25, 2.0, 3.33, 4.5, 7.0], ..default.clone() },
        CwtParams {
            widths: linspace(2.0, 30.0, 15),
            max_distances: Some(vec![3.0; 15]),
            gap_thresh: Some(1.0),
            min_length: Some(2),
            min_snr: 0.5,
            noise_perc: 35.0,
            window_size: Some(9),
            snr_from: SnrFrom::RidgeMax,
        },
    ]
}

/// Every transform, at lengths on both sides of where the automatic choice changes.
#[test]
fn fast_path_equals_reference_path_on_random_vectors() {
    let mut rng = Rng(0x5eed_cafe_f00d_d00d);
    let mut compared = 0;
    let transforms =
        [Transform::Auto, Transform::Matrices, Transform::FullBank, Transform::Fft, Transform::Direct];
    for (params, transform) in parameter_sets().into_iter().flat_map(|p| transforms.map(|t| (p.clone(), t))) {
        for len in [1, 2, 3, 5, 16, 64, 119, 128, 200, 300] {
            let finder = PeakFinder::with_transform(len, &params, transform).unwrap();
            let mut scratch = finder.new_scratch();
            let n = 70; // more than one block
            let spectra: Vec<f64> = (0..n).flat_map(|k| random_spectrum(&mut rng, len, k)).collect();
            finder.find_batch(&spectra, &mut scratch, |i, fast| {
                let x = &spectra[i * len..(i + 1) * len];
                let reference = find_peaks_cwt(x, &params).unwrap();
                let fast: Vec<usize> = fast.iter().map(|&c| c as usize).collect();
                assert_eq!(fast, reference, "len {len}, spectrum {i}, {transform:?}, {params:?}");
                compared += 1;
            });
        }
    }
    assert_eq!(compared, 4 * 5 * 10 * 70);
}

#[test]
fn results_do_not_depend_on_batch_size() {
    let mut rng = Rng(42);
    let len = 119;
    let finder = PeakFinder::new(len, &CwtParams::default()).unwrap();
    let spectra: Vec<f64> = (0..150).flat_map(|k| random_spectrum(&mut rng, len, k)).collect();
    let mut scratch = finder.new_scratch();
    let mut whole = Vec::new();
    finder.find_batch(&spectra, &mut scratch, |_, p| whole.push(p.to_vec()));
    for batch in [1, 7, 64, 65] {
        let mut pieces = Vec::new();
        for chunk in spectra.chunks(batch * len) {
            finder.find_batch(chunk, &mut scratch, |_, p| pieces.push(p.to_vec()));
        }
        assert_eq!(pieces, whole, "batch of {batch}");
    }
}

#[test]
fn non_finite_samples_spread_only_as_far_as_scipys_sums() {
    let len = 119;
    let params = CwtParams { widths: vec![0.5, 1.0, 2.0, 3.0], ..CwtParams::default() };
    let finder = PeakFinder::new(len, &params).unwrap();
    let mut scratch = finder.new_scratch();
    let mut rng = Rng(7);
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let mut x = random_spectrum(&mut rng, len, 1);
        x[40] = bad;
        let fast: Vec<usize> = finder.find(&x, &mut scratch).iter().map(|&c| c as usize).collect();
        assert_eq!(fast, find_peaks_cwt(&x, &params).unwrap());
        assert!(!fast.is_empty(), "the samples far from {bad} still give peaks");
    }
}

/// Checked by the compiler: this test fails to build if a plan stops being shareable between
/// threads or a scratch stops being movable to one.
#[test]
fn plans_are_shared_between_threads() {
    fn is_send_sync<T: Send + Sync>() {}
    fn is_send<T: Send>() {}
    is_send_sync::<PeakFinder>();
    is_send::<Scratch>();
}
