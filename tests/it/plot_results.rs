//! `usid-peaks plot` of the SHO fit's results: `--map` draws the chosen field of `Fit` (or
//! `Guess`) — the values the records hold, pixel by pixel — and `--pixel --sho` the measured
//! spectrum with the model of its `Fit` record (the kernel, `ShoFitter`, is the reference of the
//! record; `sho::response` is the one model).
use std::path::{Path, PathBuf};

use num_complex::{Complex32, Complex64};
use usid_peaks::peaks::{PeakParams, PixelQuery};
use usid_peaks::plot::{self, MapQuery, MapWhat, Parts, ShoPixelQuery};
use usid_peaks::sho::{response, Sho, ShoFitter, ShoParams};
use usid_peaks::usid::select::PixelChoice;

use crate::util::{assert_one_line_error, ok, run, s, CHANNEL, RAW};

/// A 6 × 5 map of 119 frequencies × 3 DC steps, fitted by `usid-peaks sho`.
fn fitted_map(dir: &Path) -> PathBuf {
    let file = dir.join("beps.h5");
    let args = ["--rows", "6", "--cols", "5", "--seed", "4", "--spec-dims", "Frequency:119,DC_Offset:3"];
    ok(&[&["generate", s(&file)][..], &args].concat());
    ok(&["sho", "-q", s(&file)]);
    file
}

/// The records `name` (`Fit`, `Guess`) of the first SHO group, (positions × 3) row-major.
fn records(file: &Path, name: &str) -> Vec<Sho> {
    let f = hdf5::File::open(file).unwrap();
    f.dataset(&format!("{CHANNEL}/Raw_Data-SHO_Fit_000/{name}")).unwrap().read_raw::<Sho>().unwrap()
}

fn map_of(file: &Path, what: MapWhat<'_>, steps: &[(&str, usize)]) -> plot::MapFigure {
    let q = MapQuery { file, dataset: None, results: None, what, steps };
    plot::map_figure(&q).unwrap()
}

/// Equal, NaN equal to NaN.
fn same(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y || (x.is_nan() && y.is_nan()))
}

/// A field as `--field` names it, whether of `Guess`, the record's value, the map's units.
type Case = (&'static str, bool, fn(&Sho) -> f64, &'static str);

#[test]
fn sho_map_shows_the_chosen_field_of_fit_or_guess_at_the_chosen_step() {
    let dir = tempfile::tempdir().unwrap();
    let file = fitted_map(dir.path());
    let (fit, guess) = (records(&file, "Fit"), records(&file, "Guess"));
    let column = |r: &[Sho], step: usize, v: fn(&Sho) -> f64| -> Vec<f64> {
        r.chunks(3).map(|pixel| v(&pixel[step])).collect()
    };
    // The default is Fit's frequency at the first DC step; Auto finds the SHO group alone.
    let auto = map_of(&file, MapWhat::Auto, &[]);
    assert!(same(&auto.values, &column(&fit, 0, |r| r.frequency)), "{:?}", auto.values);
    assert!(auto.values.iter().all(|v| v.is_finite()) && auto.value_units == "Hz", "{}", auto.title);
    assert!(auto.title.contains("SHO Fit Frequency"), "{}", auto.title);
    let cases: [Case; 4] = [
        ("Quality Factor", false, |r| r.quality, ""),
        ("amplitude", false, |r| r.amplitude, "V"),
        ("R2", true, |r| r.r2, ""),
        ("Phase", true, |r| r.phase, "rad"),
    ];
    for (field, use_guess, value, units) in cases {
        let m = map_of(&file, MapWhat::Sho { field: Some(field), guess: use_guess }, &[("DC_Offset", 2)]);
        let want = column(if use_guess { &guess } else { &fit }, 2, value);
        assert!(same(&m.values, &want), "{field}: {:?} vs {want:?}", m.values);
        assert_eq!(m.value_units, units, "{field}");
        assert!(m.title.contains("DC_Offset=") && m.title.contains(if use_guess { "Guess" } else { "Fit" }));
    }
}

#[test]
fn sho_map_on_the_command_line_says_its_default_field_and_refuses_an_unknown_one_listing_them() {
    let dir = tempfile::tempdir().unwrap();
    let file = fitted_map(dir.path());
    let png = dir.path().join("m.png");
    let out = ok(&["plot", s(&file), "--map", "-o", s(&png)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("drawing Fit Frequency (--field picks another)"), "{err}");
    assert!(png.exists());
    let svg = dir.path().join("q.svg");
    let out = ok(&["plot", s(&file), "--map", "--field", "Quality Factor", "-o", s(&svg)]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("--field picks"));
    assert!(std::fs::read_to_string(&svg).unwrap().contains("Fit Quality Factor"));
    let bad = dir.path().join("bad.png");
    let e = assert_one_line_error(
        &run(&["plot", s(&file), "--map", "--field", "Resonance", "-o", s(&bad)]),
        2,
        "--field",
    );
    assert!(e.contains("Amplitude, Frequency, Quality Factor, Phase, R2 Criterion"), "{e}");
    // clap's own refusal (its usage lines follow): peak finding's --of is no SHO option.
    let both = run(&["plot", s(&file), "--map", "--of", "count", "--field", "Phase", "-o", s(&bad)]);
    assert_eq!(both.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&both.stderr).contains("'--of <OF>' cannot be used with '--field <NAME>'")
    );
    // Peak finding's map is asked for: there is none, and the line says which command makes it.
    assert_one_line_error(
        &run(&["plot", s(&file), "--map", "--of", "count", "-o", s(&bad)]),
        3,
        "run usid-peaks find",
    );
    assert!(!bad.exists());
}

#[test]
fn sho_pixel_draws_the_measured_spectrum_and_the_model_of_its_fit_record() {
    let dir = tempfile::tempdir().unwrap();
    let file = fitted_map(dir.path());
    let (row, col, step) = (4, 3, 1);
    let index = row * 5 + col;
    let steps = [("DC_Offset", step)];
    let pixel = PixelQuery {
        file: &file,
        dataset: None,
        pixel: PixelChoice::Grid { row, col },
        along: None,
        steps: &steps,
    };
    let q = ShoPixelQuery { pixel, results: None, parts: Parts::AmplitudePhase };
    let figure = plot::sho_spectrum_figure(&q).unwrap();

    // The measured values: the pixel's spectrum at that DC step, as stored (Frequency fastest).
    let f = hdf5::File::open(&file).unwrap();
    let raw: Vec<Complex32> = f.dataset(RAW).unwrap().read_raw().unwrap();
    let spectrum = &raw[(index * 3 + step) * 119..][..119];
    let measured: Vec<Complex64> =
        spectrum.iter().map(|z| Complex64::new(z.re as f64, z.im as f64)).collect();
    assert_eq!(figure.measured, measured);
    assert_eq!(figure.x.len(), 119);
    // Its record is the kernel's fit of that spectrum, and the curve is that SHO's response.
    let fitter = ShoFitter::new(&figure.x, &ShoParams::default()).unwrap();
    let mut kernel = Sho::NAN;
    fitter.fit_batch(spectrum, &mut fitter.new_scratch(), |_, o| kernel = o.fit);
    assert_eq!(records(&file, "Fit")[index * 3 + step], kernel);
    assert!(kernel.r2 > 0.9, "{kernel:?}");
    assert!(figure.model_x.len() > 119 && figure.model.len() == figure.model_x.len());
    for (x, m) in figure.model_x.iter().zip(&figure.model) {
        assert_eq!(*m, response(&kernel, *x));
    }
    assert!(figure.subtitle.contains("Raw_Data-SHO_Fit_000 Fit") && figure.subtitle.contains("Q = "));
    assert!(figure.title.contains("DC_Offset="), "{}", figure.title);

    let svg = dir.path().join("p.svg");
    let pixel_arg = format!("{row},{col}");
    ok(&[
        "plot",
        s(&file),
        "--pixel",
        &pixel_arg,
        "--sho",
        "--parts",
        "re-im",
        "--step",
        "DC_Offset=1",
        "-o",
        s(&svg),
    ]);
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.contains("SHO fit") && text.contains("imaginary part"), "{text:.300}");
}

#[test]
fn sho_pixel_without_an_sho_group_says_to_run_sho_first() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("m.h5");
    ok(&["generate", s(&file), "--rows", "4", "--cols", "4"]);
    let png = dir.path().join("p.png");
    assert_one_line_error(
        &run(&["plot", s(&file), "--pixel", "1,1", "--sho", "-o", s(&png)]),
        3,
        "run usid-peaks sho",
    );
    assert_one_line_error(
        &run(&["plot", s(&file), "--map", "--field", "Phase", "-o", s(&png)]),
        3,
        "run usid-peaks sho",
    );
    assert!(!png.exists());
}

/// Peak finding with narrow wavelets, so that the number of peaks varies over a pyNSID map.
fn narrow() -> PeakParams {
    let mut p = PeakParams::default();
    p.cwt.widths = vec![1.0, 2.0, 4.0];
    p
}

#[test]
fn plot_draws_pynsid_maps_results_pixel_by_pixel_as_pixel_finds_them() {
    // (case, --along, --step): axes in storage order, x before y, and a 4-D map.
    let cases = [
        ("complex3d", None, None),
        ("xy_order", None, None),
        ("beps4d", Some("Frequency"), Some(("DC_Offset", 2))),
    ];
    for (k, (case, along, step)) in cases.into_iter().enumerate() {
        let file = crate::nsid::copy_of(case, &format!("plot_{k}_{case}.h5"));
        let mut args = vec!["find", "-q", s(&file), "--width-list", "1,2,4"];
        args.extend(along.map(|a| ["--along", a]).into_iter().flatten());
        ok(&args);
        let steps: Vec<(&str, usize)> = step.into_iter().collect();
        let q = |of| MapQuery {
            file: &file,
            dataset: None,
            results: None,
            what: MapWhat::Peaks(of),
            steps: &steps,
        };
        let counts = plot::map_figure(&q(plot::MapOf::Count)).unwrap();
        let freqs = plot::map_figure(&q(plot::MapOf::Frequency)).unwrap();
        let (nx, ny) = (counts.x.len(), counts.y.len());
        assert_eq!(counts.values.len(), nx * ny, "{case}");
        let mut seen = std::collections::BTreeSet::new();
        for (p, (&count, &freq)) in counts.values.iter().zip(&freqs.values).enumerate() {
            let pixel = PixelChoice::Grid { row: p / nx, col: p % nx };
            let query = PixelQuery { file: &file, dataset: None, pixel, along, steps: &steps };
            let found = usid_peaks::peaks::pixel_peaks(&query, narrow()).unwrap();
            let one = &found.spectra[0];
            let want = if one.peaks.is_empty() { f64::NAN } else { one.peaks.len() as f64 };
            assert!(same(&[count], &[want]), "{case} pixel {p}: map {count}, pixel {:?}", one.peaks);
            assert!(same(&[freq], &[one.values.first().copied().unwrap_or(f64::NAN)]), "{case} pixel {p}");
            seen.insert(one.peaks.len());
            // The spectrum drawn at that pixel has the same peaks.
            let figure = plot::spectrum_figure(&query, narrow()).unwrap();
            assert_eq!(
                figure.peaks,
                one.peaks.iter().map(|&b| b as usize).collect::<Vec<_>>(),
                "{case} pixel {p}"
            );
        }
        assert!(
            seen.len() > 1,
            "{case}: every pixel has {seen:?} peaks; the test would not see a transposed map"
        );
        if step.is_some() {
            assert!(counts.title.contains("DC_Offset="), "{}", counts.title);
        }
        let png = file.with_extension("png");
        ok(&["plot", s(&file), "--map", "--of", "count", "-o", s(&png)]);
        let dims = ["--pixel", "1,2", "-o", s(&png)];
        ok(&[&["plot", s(&file)][..], &dims].concat());
    }
}
