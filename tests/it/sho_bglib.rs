//! The SHO kernel against BGlib 0.0.6 itself, on the fixtures its code computed
//! (`tests/reference/bglib_sho.py fixtures`, in the BGlib reference environment): its
//! FakeBEPSGenerator's maps with their true parameters, its `complex_gaussian` guesses, its
//! `wavelet_peaks` bins and its `BESHOfitter` fits.
//!
//! `SHO_FIXTURES=path cargo test --release --test it sho_bglib` runs them on another fixture file.
use num_complex::{Complex32, Complex64};
use std::f64::consts::TAU;
use usid_peaks::sho::{FitStatus, Sho, ShoFitter, ShoGuess, ShoOutcome, ShoParams};

/// One group of the fixture file: a frequency axis, spectra as stored, and BGlib's answers.
struct Set {
    name: String,
    freqs: Vec<f64>,
    spectra: Vec<Complex32>,
    /// The generator's (A, ω0, Q, φ) per spectrum, where the set has them.
    truth: Option<Vec<[f64; 4]>>,
    /// BGlib's complex_gaussian guess and its R² per spectrum.
    guess: Vec<[f64; 5]>,
    /// BGlib's fit and R² per spectrum, and what computed it.
    fit: Option<(Vec<[f64; 5]>, String)>,
    /// The Guess BGlib's driver wrote (on complex64 values and float32 frequencies).
    driver_guess: Option<Vec<[f64; 5]>>,
    wavelet_peak: Vec<i64>,
}

impl Set {
    fn len(&self) -> usize {
        self.guess.len()
    }
    fn spectrum(&self, i: usize) -> &[Complex32] {
        let n = self.freqs.len();
        &self.spectra[i * n..(i + 1) * n]
    }
}

fn fixture_path() -> String {
    std::env::var("SHO_FIXTURES")
        .unwrap_or_else(|_| format!("{}/tests/fixtures/sho/bglib_sho.h5", env!("CARGO_MANIFEST_DIR")))
}

fn rows<const N: usize>(g: &hdf5::Group, name: &str) -> Vec<[f64; N]> {
    let flat = g.dataset(name).and_then(|d| d.read_raw::<f64>()).unwrap_or_else(|e| panic!("{name}: {e}"));
    flat.chunks_exact(N).map(|r| std::array::from_fn(|j| r[j])).collect()
}

fn load() -> Vec<Set> {
    let path = fixture_path();
    let file = hdf5::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let names = ["clean", "noisy", "noisy119", "edge"];
    names
        .iter()
        .map(|&name| {
            let g = file.group(name).unwrap_or_else(|e| panic!("{path}: no set {name}: {e}"));
            let has = |d: &str| g.link_exists(d);
            let fit_by: String = g
                .attr("fit_by")
                .and_then(|a| a.read_scalar::<hdf5::types::VarLenUnicode>())
                .map(|s| s.to_string())
                .unwrap_or_default();
            Set {
                name: name.to_string(),
                freqs: g.dataset("freqs").and_then(|d| d.read_raw()).unwrap(),
                spectra: g.dataset("spectra").and_then(|d| d.read_raw()).unwrap(),
                truth: has("truth").then(|| rows::<4>(&g, "truth")),
                guess: rows::<5>(&g, "guess"),
                fit: has("fit").then(|| (rows::<5>(&g, "fit"), fit_by)),
                driver_guess: has("driver_guess").then(|| rows::<5>(&g, "driver_guess")),
                wavelet_peak: g.dataset("wavelet_peak").and_then(|d| d.read_raw()).unwrap(),
            }
        })
        .collect()
}

/// Our outcome for every spectrum of a set.
fn ours(set: &Set, guess: ShoGuess) -> Vec<ShoOutcome> {
    let fitter = ShoFitter::new(&set.freqs, &ShoParams { guess, ..ShoParams::default() }).unwrap();
    let mut out = Vec::with_capacity(set.len());
    fitter.fit_batch(&set.spectra, &mut fitter.new_scratch(), |_, o| out.push(*o));
    assert_eq!(out.len(), set.len(), "{}", set.name);
    out
}

fn phase_distance(a: f64, b: f64) -> f64 {
    let d = (a - b).rem_euclid(TAU);
    d.min(TAU - d)
}

fn fields(s: &Sho) -> [f64; 5] {
    [s.amplitude, s.frequency, s.quality, s.phase, s.r2]
}

#[test]
fn fixture_sets_hold_what_the_reference_program_wrote() {
    let sets = load();
    for set in &sets {
        let n = set.len();
        assert!(n >= 16, "{}: {n} spectra", set.name);
        assert_eq!(set.spectra.len(), n * set.freqs.len(), "{}", set.name);
        assert_eq!(set.wavelet_peak.len(), n);
        if let Some(t) = &set.truth {
            assert_eq!(t.len(), n);
        }
    }
    let fit_by =
        |name: &str| sets.iter().find(|s| s.name == name).and_then(|s| s.fit.as_ref()).map(|f| f.1.clone());
    // The noisy maps' reference is BGlib's own driver, not our reading of it.
    assert_eq!(fit_by("noisy").as_deref(), Some("BESHOfitter"));
    assert_eq!(fit_by("noisy119").as_deref(), Some("BESHOfitter"));
}

#[test]
fn guess_equals_bglibs_complex_gaussian_where_bglibs_is_finite() {
    let (mut compared, mut bglib_nan) = (0, 0);
    for set in load() {
        let ours = ours(&set, ShoGuess::ComplexGaussian);
        for (i, (theirs, o)) in set.guess.iter().zip(&ours).enumerate() {
            if !theirs[..4].iter().all(|v| v.is_finite()) {
                bglib_nan += 1;
                continue;
            }
            compared += 1;
            let g = fields(&o.guess);
            let what = || format!("{} spectrum {i}: ours {g:?}, BGlib {theirs:?}", set.name);
            for j in 0..3 {
                assert!((g[j] - theirs[j]).abs() <= 1e-9 * theirs[j].abs(), "{}", what());
            }
            assert!(phase_distance(g[3], theirs[3]) <= 1e-9, "{}", what());
            assert!((g[4] - theirs[4]).abs() <= 1e-9, "R²: {}", what());
        }
    }
    eprintln!(
        "complex_gaussian: {compared} guesses equal to BGlib's; {bglib_nan} where BGlib's is not finite"
    );
    assert!(compared >= 1800, "{compared}");
}

#[test]
fn wavelet_guess_takes_the_bin_bglibs_wavelet_peaks_takes() {
    for set in load() {
        let ours = ours(&set, ShoGuess::WaveletPeaks);
        for (i, (&bin, o)) in set.wavelet_peak.iter().zip(&ours).enumerate() {
            let x = set.spectrum(i)[bin as usize];
            if o.status == FitStatus::NonFinite {
                continue;
            }
            let want = [Complex64::new(x.re as f64, x.im as f64).norm(), set.freqs[bin as usize], 10.0];
            let got = [o.guess.amplitude, o.guess.frequency, o.guess.quality];
            assert_eq!(got, want, "{} spectrum {i}: BGlib's bin {bin}", set.name);
        }
    }
}

#[test]
fn fit_r2_is_at_least_bglibs_on_noisy_maps() {
    for set in load().into_iter().filter(|s| s.name.starts_with("noisy")) {
        let (theirs, by) = set.fit.as_ref().unwrap();
        let ours = ours(&set, ShoGuess::ComplexGaussian);
        let (mut at_least, mut nan_guess, mut worst) = (0, 0, f64::INFINITY);
        for (i, (o, t)) in ours.iter().zip(theirs).enumerate() {
            if !set.guess[i][..4].iter().all(|v| v.is_finite()) {
                nan_guess += 1;
                continue;
            }
            assert!(
                matches!(o.status, FitStatus::Converged | FitStatus::MaxIterations),
                "{} {i}: {o:?}",
                set.name
            );
            worst = worst.min(o.fit.r2 - t[4]);
            at_least += (o.fit.r2 >= t[4] - 1e-3) as usize;
        }
        let counted = set.len() - nan_guess;
        eprintln!(
            "{}: our R² ≥ BGlib's ({by}) − 1e-3 on {at_least} of {counted} spectra ({nan_guess} with a NaN BGlib guess apart); \
             worst difference {worst:.3e}",
            set.name
        );
        assert!(at_least * 100 >= counted * 99, "{}: {at_least} of {counted}", set.name);
    }
}

#[test]
fn fit_reaches_the_generators_truth_on_the_noise_free_map() {
    let set = load().into_iter().find(|s| s.name == "clean").unwrap();
    let truth = set.truth.as_ref().unwrap();
    let ours = ours(&set, ShoGuess::ComplexGaussian);
    let mut reached = 0;
    let mut worst = [0.0f64; 4];
    for (o, t) in ours.iter().zip(truth) {
        let f = fields(&o.fit);
        let err = [
            (f[0] / t[0] - 1.0).abs(),
            (f[1] / t[1] - 1.0).abs(),
            (f[2] / t[2] - 1.0).abs(),
            phase_distance(f[3], t[3]),
        ];
        for j in 0..4 {
            worst[j] = worst[j].max(err[j]);
        }
        reached += (err[0] < 0.01 && err[1] < 0.01 && err[2] < 0.01 && err[3] < 0.01) as usize;
    }
    eprintln!(
        "clean: truth reached on {reached} of {} spectra; largest errors A {:.1e}, ω0 {:.1e}, Q {:.1e} (relative), φ {:.1e} rad",
        set.len(),
        worst[0],
        worst[1],
        worst[2],
        worst[3]
    );
    assert!(reached * 100 >= set.len() * 95, "{reached} of {}", set.len());
}

#[test]
fn fits_from_either_guess_reach_the_same_minimum_on_the_generators_maps() {
    // wavelet_peaks starts far off (Q = 10 where the generator's Q is 800-1800, A = the peak's |r|):
    // a robust fit gets from there to where it gets from complex_gaussian's close start.
    for set in load().into_iter().filter(|s| s.truth.is_some()) {
        let near = ours(&set, ShoGuess::ComplexGaussian);
        let far = ours(&set, ShoGuess::WaveletPeaks);
        let same = near.iter().zip(&far).filter(|(a, b)| (a.fit.r2 - b.fit.r2).abs() <= 1e-6).count();
        let evaluations =
            |v: &[ShoOutcome]| v.iter().map(|o| o.evaluations as f64).sum::<f64>() / v.len() as f64;
        eprintln!(
            "{}: same R² (within 1e-6) from both guesses on {same} of {}; mean trial points {:.1} (complex_gaussian), {:.1} (wavelet_peaks)",
            set.name,
            set.len(),
            evaluations(&near),
            evaluations(&far)
        );
        assert!(same * 100 >= set.len() * 99, "{}: {same} of {}", set.name, set.len());
    }
}

#[test]
fn fit_finishes_where_bglibs_driver_stops() {
    // On the noise-free map BGlib's own driver computes its guess in float32 arithmetic, finds a
    // pair that fits exactly, weighs it 1/0 and gets NaN; its do_fit then stops on the whole map
    // ("Initial guess is outside of provided bounds"). Ours takes the stored values as float64,
    // and where a guess is NaN it starts from the best pair: every spectrum is fitted.
    let set = load().into_iter().find(|s| s.name == "clean").unwrap();
    let (driver, truth) = (set.driver_guess.as_ref().unwrap(), set.truth.as_ref().unwrap());
    assert_eq!(set.fit.as_ref().unwrap().1, "least_squares", "BGlib's driver ran through: no stopping case");
    let ours = ours(&set, ShoGuess::ComplexGaussian);
    let stopped: Vec<usize> = (0..set.len()).filter(|&i| driver[i][..4].iter().any(|v| v.is_nan())).collect();
    assert!(!stopped.is_empty(), "no spectrum with a NaN driver guess in the fixture");
    for &i in &stopped {
        let (o, t) = (&ours[i], &truth[i]);
        assert_eq!(o.status, FitStatus::Converged, "spectrum {i}: {o:?}");
        assert!(
            (o.fit.frequency / t[1] - 1.0).abs() < 1e-6 && (o.fit.quality / t[2] - 1.0).abs() < 1e-3,
            "{i}: {o:?}"
        );
    }
    // Elsewhere the driver's float32 guess is ours up to float32 rounding.
    let worst = (0..set.len())
        .filter(|i| !stopped.contains(i))
        .map(|i| {
            (ours[i].guess.frequency / driver[i][1] - 1.0)
                .abs()
                .max((ours[i].guess.quality / driver[i][2] - 1.0).abs())
        })
        .fold(0.0, f64::max);
    eprintln!("clean: {} spectra with a NaN driver guess all fitted; elsewhere ω0, Q within {worst:.1e} of the driver's guess", stopped.len());
    assert!(worst < 1e-3);
}
