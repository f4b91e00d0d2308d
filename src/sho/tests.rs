//! The kernel's specification as tests: derivatives against finite differences, exact recovery of
//! noise-free SHOs, every degenerate spectrum marked, batching and input type without effect.
//! (Equality with BGlib itself: tests/it/sho_bglib.rs, on fixtures BGlib computed.)
use super::model::{internal_jacobian, normal_equations, Axis, Internal};
use super::*;

/// Deterministic uniform numbers in [0, 1) (xorshift64*).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545f4914f6cdd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
    /// A standard normal number (Box–Muller).
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.next().max(1e-300), self.next());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

fn band(n: usize, lo: f64, hi: f64) -> Vec<f64> {
    (0..n).map(|i| lo + (hi - lo) * i as f64 / (n - 1).max(1) as f64).collect()
}

fn sho(a: f64, w0: f64, q: f64, phi: f64) -> Sho {
    Sho { amplitude: a, frequency: w0, quality: q, phase: phi, r2: f64::NAN }
}

fn spectrum(p: &Sho, freqs: &[f64]) -> Vec<Complex64> {
    freqs.iter().map(|&f| response(p, f)).collect()
}

fn noisy(p: &Sho, freqs: &[f64], level: f64, rng: &mut Rng) -> Vec<Complex64> {
    let clean = spectrum(p, freqs);
    let peak = clean.iter().map(|v| v.norm()).fold(0.0, f64::max);
    let sigma = level * peak / 2f64.sqrt();
    clean.iter().map(|v| v + Complex64::new(rng.normal() * sigma, rng.normal() * sigma)).collect()
}

/// Central differences of `f` by each of four parameters, step `h[j]`.
fn central(f: impl Fn([f64; 4]) -> Complex64, at: [f64; 4], h: [f64; 4]) -> [Complex64; 4] {
    std::array::from_fn(|j| {
        let (mut up, mut down) = (at, at);
        up[j] += h[j];
        down[j] -= h[j];
        (f(up) - f(down)) / (2.0 * h[j])
    })
}

#[test]
fn jacobian_matches_central_differences() {
    let cases = [
        (sho(1.3e-3, 320e3, 150.0, 0.4), [300e3, 318e3, 319.9e3, 320e3, 320.5e3, 345e3]),
        (sho(7.5, 319.4e3, 1537.0, 3.1), [300e3, 319.0e3, 319.4e3, 319.45e3, 330e3, 350e3]),
        (sho(0.2, 300e3, -40.0, -2.0), [250e3, 290e3, 299e3, 300e3, 301e3, 400e3]),
        (sho(2.0, 1.0, 3.0, 1.0), [0.5, 0.9, 1.0, 1.1, 2.0, 7.0]),
    ];
    for (p, freqs) in cases {
        let at = [p.amplitude, p.frequency, p.quality, p.phase];
        let f = |v: [f64; 4]| move |freq: f64| response(&sho(v[0], v[1], v[2], v[3]), freq);
        let h = [at[0] * 1e-6, at[1] * 1e-7, at[2].abs() * 1e-6, 1e-6];
        for freq in freqs {
            let analytic = jacobian(&p, freq);
            let numeric = central(|v| f(v)(freq), at, h);
            let scale = response(&p, freq).norm();
            for j in 0..4 {
                let tol = 1e-6 * (analytic[j].norm() + scale / at[j].abs());
                let diff = (analytic[j] - numeric[j]).norm();
                assert!(
                    diff <= tol,
                    "{p:?} at {freq} Hz, d/dp{j}: analytic {} numeric {}",
                    analytic[j],
                    numeric[j]
                );
            }
        }
    }
}

#[test]
fn internal_jacobian_matches_central_differences() {
    let p: Internal = [1.1e-3, -4.2e-4, 320e3, 1.0 / 180.0];
    let h = [1e-9, 1e-9, 0.05, 1e-8];
    for freq in [300e3, 319e3, 320e3, 320.7e3, 340e3] {
        let f = |v: [f64; 4]| {
            let s = model::from_internal(&v, 0.0);
            response(&s, freq)
        };
        let numeric = central(f, p, h);
        let analytic = internal_jacobian(freq, &p);
        for j in 0..4 {
            let tol = 1e-6 * analytic[j].norm().max(1e-30);
            assert!(
                (analytic[j] - numeric[j]).norm() <= tol,
                "{freq} Hz, d/dp{j}: {} vs {}",
                analytic[j],
                numeric[j]
            );
        }
    }
}

#[test]
fn normal_equations_are_jt_j_and_jt_r_of_the_jacobian() {
    let freqs = band(41, 310e3, 330e3);
    let axis = Axis::new(&freqs);
    let mut rng = Rng(7);
    let data = noisy(&sho(2e-3, 321e3, 90.0, 1.0), &freqs, 0.05, &mut rng);
    let (mut re, mut im): (Vec<f64>, Vec<f64>) = data.iter().map(|v| (v.re, v.im)).unzip();
    re.resize(Axis::padded_len(41), 0.0);
    im.resize(Axis::padded_len(41), 0.0);
    let p: Internal = [1.5e-3, 5e-4, 320.2e3, 1.0 / 120.0];
    let ne = normal_equations(&axis, &re, &im, &p);
    let (mut h, mut g, mut ssr) = ([[0.0; 4]; 4], [0.0; 4], 0.0);
    for (k, &f) in freqs.iter().enumerate() {
        let j = internal_jacobian(f, &p);
        let r = response(&model::from_internal(&p, 0.0), f) - data[k];
        ssr += r.norm_sqr();
        for a in 0..4 {
            g[a] += j[a].re * r.re + j[a].im * r.im;
            for b in 0..4 {
                h[a][b] += j[a].re * j[b].re + j[a].im * j[b].im;
            }
        }
    }
    assert!((ne.ssr / ssr - 1.0).abs() < 1e-12);
    for a in 0..4 {
        assert!((ne.g[a] - g[a]).abs() <= 1e-9 * (h[a][a] * ssr).sqrt(), "g[{a}]");
        for b in 0..4 {
            assert!((ne.h[a][b] - h[a][b]).abs() <= 1e-12 * (h[a][a] * h[b][b]).sqrt(), "h[{a}][{b}]");
        }
    }
}

/// Within `rel` of the truth in A, ω0 and Q, and `phase` radians modulo 2π.
fn recovers(fit: &Sho, truth: &Sho, rel: f64, phase: f64) -> bool {
    let d_phi = (fit.phase - truth.phase).rem_euclid(std::f64::consts::TAU);
    (fit.amplitude / truth.amplitude - 1.0).abs() < rel
        && (fit.frequency / truth.frequency - 1.0).abs() < rel
        && (fit.quality / truth.quality - 1.0).abs() < rel
        && d_phi.min(std::f64::consts::TAU - d_phi) < phase
}

#[test]
fn noise_free_spectra_are_recovered_from_either_guess() {
    let mut rng = Rng(11);
    for guess in [ShoGuess::ComplexGaussian, ShoGuess::WaveletPeaks] {
        for bins in [37, 64, 119] {
            let freqs = band(bins, 300e3, 350e3);
            let fitter = ShoFitter::new(&freqs, &ShoParams { guess, ..ShoParams::default() }).unwrap();
            let mut scratch = fitter.new_scratch();
            let mut missed = Vec::new();
            for _ in 0..200 {
                let truth = sho(
                    10f64.powf(-4.0 + 4.0 * rng.next()),
                    310e3 + 30e3 * rng.next(),
                    20.0 + 400.0 * rng.next(),
                    (rng.next() - 0.5) * 6.2,
                );
                let out = fitter.fit(&spectrum(&truth, &freqs), &mut scratch);
                assert!(out.fit.r2 >= out.guess.r2 || out.guess.r2.is_nan(), "{out:?}");
                if !recovers(&out.fit, &truth, 1e-6, 1e-6) {
                    missed.push((truth, out));
                }
            }
            assert!(
                missed.len() <= 2,
                "{guess:?}, {bins} bins: {} missed, first {:?}",
                missed.len(),
                missed.first()
            );
        }
    }
}

#[test]
fn noisy_fits_are_never_worse_than_their_guess_and_near_the_truth() {
    let mut rng = Rng(3);
    let freqs = band(87, 305e3, 335e3);
    let fitter = ShoFitter::new(&freqs, &ShoParams::default()).unwrap();
    let mut scratch = fitter.new_scratch();
    let mut near = 0;
    for _ in 0..300 {
        let truth = sho(1e-3, 312e3 + 16e3 * rng.next(), 60.0 + 200.0 * rng.next(), (rng.next() - 0.5) * 6.0);
        let out = fitter.fit(&noisy(&truth, &freqs, 0.03, &mut rng), &mut scratch);
        assert!(matches!(out.status, FitStatus::Converged | FitStatus::MaxIterations), "{out:?}");
        assert!(out.fit.r2 >= out.guess.r2, "{out:?}");
        near += recovers(&out.fit, &truth, 0.05, 0.05) as usize;
    }
    assert!(near >= 290, "{near} of 300 within 5 % of the truth");
}

#[test]
fn degenerate_spectra_are_marked_never_a_panic() {
    let freqs = band(37, 300e3, 350e3);
    let params = [ShoParams::default(), ShoParams { guess: ShoGuess::WaveletPeaks, ..ShoParams::default() }];
    for params in &params {
        let fitter = ShoFitter::new(&freqs, params).unwrap();
        let mut s = fitter.new_scratch();
        let c = |re: f64, im: f64| Complex64::new(re, im);
        let zeros = vec![c(0.0, 0.0); 37];
        let out = fitter.fit(&zeros, &mut s);
        assert_eq!((out.fit.r2, out.guess.r2, out.fit.amplitude), (0.0, 0.0, 0.0), "{out:?}");
        let constant = vec![c(0.25, -1.5); 37];
        let out = fitter.fit(&constant, &mut s);
        assert_eq!((out.fit.r2, out.guess.r2), (0.0, 0.0), "{out:?}");
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let mut x = spectrum(&sho(1e-3, 320e3, 100.0, 0.0), &freqs);
            x[20].im = bad;
            let out = fitter.fit(&x, &mut s);
            assert_eq!(out.status, FitStatus::NonFinite);
            assert!(out.fit.r2.is_nan() && out.fit.amplitude.is_nan() && out.guess.frequency.is_nan());
        }
        // One spike, huge and tiny values: a finite answer or a marked failure, and no panic.
        let mut spike = zeros.clone();
        spike[5] = c(1.0, 0.0);
        for x in [spike, vec![c(1e300, -1e300); 37], spectrum(&sho(1e-300, 320e3, 50.0, 1.0), &freqs)] {
            let out = fitter.fit(&x, &mut s);
            assert!(
                out.fit.is_finite() || (out.status == FitStatus::Failed && out.fit.r2.is_nan()),
                "{out:?}"
            );
        }
    }
    for bins in [1, 2] {
        let freqs = band(bins, 310e3, 330e3);
        for params in &params {
            let fitter = ShoFitter::new(&freqs, params).unwrap();
            let x = vec![Complex32::new(1.0, 2.0); bins];
            let out = fitter.fit(&x, &mut fitter.new_scratch());
            assert_eq!(out.status, FitStatus::TooFewBins);
            assert!(out.fit.r2.is_nan() && out.fit.frequency.is_nan());
        }
    }
    // Three bins: four parameters through six values, a fit.
    let freqs = band(3, 310e3, 330e3);
    let fitter = ShoFitter::new(&freqs, &ShoParams::default()).unwrap();
    let out = fitter.fit(&spectrum(&sho(1.0, 321e3, 30.0, 0.3), &freqs), &mut fitter.new_scratch());
    assert!(out.fit.is_finite(), "{out:?}");
}

#[test]
fn outcomes_do_not_depend_on_batching_or_input_precision() {
    let freqs = band(64, 300e3, 340e3);
    let mut rng = Rng(5);
    let spectra: Vec<Complex32> = (0..50)
        .flat_map(|i| {
            let truth = sho(1e-2, 305e3 + 30e3 * rng.next(), 30.0 + 300.0 * rng.next(), 1.0);
            let mut x = noisy(&truth, &freqs, 0.02 * (i % 4) as f64, &mut rng);
            if i == 7 {
                x[3].re = f64::NAN;
            }
            x.into_iter().map(|v| Complex32::new(v.re as f32, v.im as f32)).collect::<Vec<_>>()
        })
        .collect();
    let wide: Vec<Complex64> = spectra.iter().map(|v| Complex64::new(v.re as f64, v.im as f64)).collect();
    for params in [ShoParams::default(), ShoParams { guess: ShoGuess::WaveletPeaks, ..ShoParams::default() }]
    {
        let fitter = ShoFitter::new(&freqs, &params).unwrap();
        let mut s = fitter.new_scratch();
        let mut whole = Vec::new();
        fitter.fit_batch(&spectra, &mut s, |i, o| whole.push((i, *o)));
        let mut by_blocks = Vec::new();
        for (b, block) in wide.chunks(7 * 64).enumerate() {
            fitter.fit_batch(block, &mut s, |i, o| by_blocks.push((b * 7 + i, *o)));
        }
        assert_eq!(whole.len(), 50);
        for ((i, a), (j, b)) in whole.iter().zip(&by_blocks) {
            assert_eq!(i, j);
            let bits = |o: &ShoOutcome| {
                [o.guess, o.fit]
                    .map(|s| [s.amplitude, s.frequency, s.quality, s.phase, s.r2].map(f64::to_bits))
            };
            assert_eq!(bits(a), bits(b), "spectrum {i}");
            assert_eq!(a.status, b.status);
        }
        assert_eq!(whole[7].1.status, FitStatus::NonFinite);
    }
}

#[test]
fn plans_refuse_what_cannot_be_fitted_with_one_line() {
    let ok = band(10, 1e5, 2e5);
    let p = ShoParams::default();
    let err = |freqs: &[f64], p: &ShoParams| ShoFitter::new(freqs, p).unwrap_err().0;
    assert!(err(&[], &p).contains("empty"));
    for bad in [f64::NAN, 0.0, -5.0, f64::INFINITY] {
        let mut f = ok.clone();
        f[4] = bad;
        assert!(err(&f, &p).contains("finite and > 0"), "{bad}");
    }
    assert!(err(&ok, &ShoParams { num_points: 1, ..p.clone() }).contains("num_points"));
    assert!(err(&ok, &ShoParams { max_iterations: 0, ..p.clone() }).contains("max_iterations"));
    assert!(err(&ok, &ShoParams { ftol: f64::NAN, ..p.clone() }).contains("ftol"));
    let no_widths = ShoParams { guess: ShoGuess::WaveletPeaks, peak_widths: vec![], ..p.clone() };
    assert!(err(&ok, &no_widths).starts_with("wavelet_peaks: "));
    for e in [err(&[], &p), err(&ok, &ShoParams { max_iterations: 0, ..p })] {
        assert!(!e.contains('\n'));
    }
}

#[test]
fn largest_bins_rank_ties_higher_bin_first_and_nan_first() {
    let mut top = Vec::new();
    let re = [1.0, 3.0, 2.0, 3.0, f64::NAN, 0.5, 2.0];
    let im = [0.0; 7];
    super::guess::largest(&re, &im, 5, &mut top);
    assert_eq!(top, [4, 3, 1, 6, 2]);
    super::guess::largest(&re[..2], &im[..2], 5, &mut top);
    assert_eq!(top, [1, 0]);
}

#[test]
fn wavelet_guess_takes_the_peak_nearest_the_middle() {
    use super::guess::nearest_middle;
    assert_eq!(nearest_middle(&[], 37), 18);
    assert_eq!(nearest_middle(&[4], 37), 4);
    assert_eq!(nearest_middle(&[10, 26], 37), 10); // equally near: the first
    assert_eq!(nearest_middle(&[2, 17, 30], 37), 17);
    let freqs = band(101, 300e3, 340e3);
    let truth = sho(1e-3, 322e3, 60.0, -1.0);
    let fitter =
        ShoFitter::new(&freqs, &ShoParams { guess: ShoGuess::WaveletPeaks, ..ShoParams::default() }).unwrap();
    let out = fitter.fit(&spectrum(&truth, &freqs), &mut fitter.new_scratch());
    assert_eq!(out.guess.quality, 10.0);
    assert!((out.guess.frequency - 322e3).abs() <= 400.0, "{:?}", out.guess);
}

#[test]
fn every_vector_arm_the_cpu_runs_gives_the_same_bits() {
    let arms = crate::cwt::isa::Isa::supported();
    eprintln!("vector arms on this CPU: {arms:?}");
    let freqs = band(45, 300e3, 340e3);
    let mut rng = Rng(17);
    let spectra: Vec<Complex64> = (0..40)
        .flat_map(|_| {
            noisy(
                &sho(1e-2, 305e3 + 30e3 * rng.next(), 30.0 + 900.0 * rng.next(), 2.0),
                &freqs,
                0.03,
                &mut rng,
            )
        })
        .collect();
    for params in [ShoParams::default(), ShoParams { guess: ShoGuess::WaveletPeaks, ..ShoParams::default() }]
    {
        let run = |isa| {
            let fitter = ShoFitter::new(&freqs, &params).unwrap().with_isa(isa);
            let mut out = Vec::new();
            fitter.fit_batch(&spectra, &mut fitter.new_scratch(), |_, o| {
                out.push(
                    [o.guess, o.fit]
                        .map(|s| [s.amplitude, s.frequency, s.quality, s.phase, s.r2].map(f64::to_bits)),
                )
            });
            out
        };
        let portable = run(*arms.last().expect("the portable arm is always there"));
        for &isa in &arms {
            assert_eq!(run(isa), portable, "{isa:?}");
        }
    }
}

#[test]
fn frequency_stays_in_the_band_unless_unbounded() {
    let freqs = band(64, 300e3, 320e3);
    let truth = sho(1e-3, 323e3, 40.0, 0.7); // above the band
    let x = spectrum(&truth, &freqs);
    let bounded = ShoFitter::new(&freqs, &ShoParams::default()).unwrap();
    let out = bounded.fit(&x, &mut bounded.new_scratch());
    assert!(out.fit.frequency <= 320e3, "{out:?}");
    assert!(out.fit.r2 >= out.guess.r2);
    let free =
        ShoFitter::new(&freqs, &ShoParams { frequency_bound: FrequencyBound::Free, ..ShoParams::default() })
            .unwrap();
    let out = free.fit(&x, &mut free.new_scratch());
    assert!(recovers(&out.fit, &truth, 1e-6, 1e-6), "{out:?}");
}

#[test]
fn an_iteration_cap_keeps_the_best_point_found() {
    let freqs = band(37, 300e3, 350e3);
    let mut rng = Rng(29);
    let x = noisy(&sho(1e-3, 318e3, 300.0, -2.0), &freqs, 0.05, &mut rng);
    let params = ShoParams { guess: ShoGuess::WaveletPeaks, max_iterations: 2, ..ShoParams::default() };
    let capped = ShoFitter::new(&freqs, &params).unwrap();
    let out = capped.fit(&x, &mut capped.new_scratch());
    assert_eq!((out.status, out.evaluations), (FitStatus::MaxIterations, 2), "{out:?}");
    assert!(out.fit.is_finite() && out.fit.r2 >= out.guess.r2, "{out:?}");
    let full = ShoFitter::new(&freqs, &ShoParams { max_iterations: 100, ..params }).unwrap();
    let done = full.fit(&x, &mut full.new_scratch());
    assert_eq!(done.status, FitStatus::Converged);
    assert!(done.fit.r2 >= out.fit.r2);
}

#[test]
fn plans_are_shared_between_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<ShoFitter>();
    fn owned<T: Send>() {}
    owned::<ShoScratch>();
}

#[test]
fn the_described_defaults_are_bglibs_and_the_phase_one_kernels() {
    let p = ShoParams::default();
    assert_eq!((p.guess, p.num_points, p.max_iterations), (ShoGuess::ComplexGaussian, 5, 100));
    assert_eq!(p.peak_widths, crate::cwt::linspace(10.0, 200.0, 20), "BGlib's wavelet widths");
    assert_eq!((p.ftol, p.xtol, p.frequency_bound), (1e-10, 1e-10, FrequencyBound::Band));
    let names: Vec<&str> = ShoParams::DESCRIPTION.specs().map(|s| s.name).collect();
    assert_eq!(
        names,
        ["guess", "num_points", "peak_widths", "max_iterations", "ftol", "xtol", "frequency_bound"]
    );
}
