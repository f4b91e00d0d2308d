//! `usid-peaks sho`: the SHO fit of every spectrum through the engine, written as BGlib writes it
//! — run for real: the binary, mpirun, pyUSID as the reader, the kernel (`ShoFitter`, pinned
//! against BGlib in `sho_bglib.rs`) as the reference of every record.

#[cfg(feature = "mpi")]
use crate::util::mpirun;
use crate::util::{self, assert_one_line_error, ok, run, s, summary, BIN, CHANNEL, RAW};

use num_complex::Complex32;
use std::path::{Path, PathBuf};
use usid_peaks::compute::{check_analysis, World};
use usid_peaks::sho::{Sho, ShoFit, ShoFitter, ShoParams};
use usid_peaks::usid::{MainDataset, SpectraLayout};

/// A generated map of `rows` × `cols` pixels, 119 frequency bins and `dc` DC steps (1: BE-line).
fn map(dir: &Path, name: &str, rows: usize, cols: usize, dc: usize) -> PathBuf {
    let file = dir.join(name);
    let (r, c) = (rows.to_string(), cols.to_string());
    let mut args = vec!["generate", s(&file), "--rows", &r, "--cols", &c, "--seed", "3"];
    let dims = format!("Frequency:119,DC_Offset:{dc}");
    if dc > 1 {
        args.extend(["--spec-dims", &dims]);
    }
    ok(&args);
    file
}

/// `Guess` and `Fit` of a results group, row-major (positions × spectra per pixel).
fn records(file: &Path, group: &str) -> (Vec<Sho>, Vec<Sho>) {
    let f = hdf5::File::open(file).expect("open the results file");
    let g = f.group(group).expect("the results group");
    let read = |name| g.dataset(name).unwrap().read_raw::<Sho>().unwrap();
    (read("Guess"), read("Fit"))
}

/// The records' bits, so that NaN records compare equal to NaN records.
pub(crate) fn bits(records: &[Sho]) -> Vec<u64> {
    bytemuck::cast_slice::<Sho, u64>(records).to_vec()
}

/// What the kernel gives for every spectrum of the map's `Raw_Data` (frequency fastest), in the
/// file's order: the guesses and the fits.
fn kernel(file: &Path) -> (Vec<Sho>, Vec<Sho>) {
    let f = hdf5::File::open(file).unwrap();
    let main = MainDataset::open(&f, RAW).unwrap();
    let layout = SpectraLayout::named(&main, None).unwrap().unwrap();
    let raw: Vec<Complex32> = f.dataset(RAW).unwrap().read_raw().unwrap();
    kernel_of(&layout.axis, &raw)
}

/// What the kernel (default parameters) gives for each of the spectra `rows` over the frequency
/// axis `freqs` (Hz), in order: the guesses and the fits.
pub(crate) fn kernel_of(freqs: &[f64], rows: &[Complex32]) -> (Vec<Sho>, Vec<Sho>) {
    let fitter = ShoFitter::new(freqs, &ShoParams::default()).unwrap();
    let (mut guess, mut fit) = (Vec::new(), Vec::new());
    fitter.fit_batch(rows, &mut fitter.new_scratch(), |_, o| {
        guess.push(o.guess);
        fit.push(o.fit);
    });
    (guess, fit)
}

#[test]
fn sho_fit_passes_check_analysis_on_beline_and_beps_maps() {
    let dir = tempfile::tempdir().unwrap();
    let world = World::init().unwrap();
    for dc in [1, 3] {
        let file = map(dir.path(), &format!("map{dc}.h5"), 9, 11, dc);
        let out = dir.path().join(format!("sho{dc}.h5"));
        let checked =
            check_analysis(&world, &file, &out, |spectra| ShoFit::new(spectra, ShoParams::default()))
                .unwrap_or_else(|e| panic!("{dc} DC steps: {e}"));
        assert_eq!(checked.spectra, 99 * dc);
        assert_eq!(checked.items, 2 * 99 * dc, "a guess and a fit per spectrum");
        assert_eq!(checked.main_datasets.len(), 2, "{:?}", checked.main_datasets);
    }
}

#[test]
fn the_fit_is_the_kernels_on_every_spectrum_whatever_the_ranks_threads_and_batches() {
    let dir = tempfile::tempdir().unwrap();
    let file = map(dir.path(), "map.h5", 7, 6, 3);
    let (guess, fit) = kernel(&file);
    assert!(fit.iter().filter(|f| f.r2 > 0.9).count() > fit.len() / 2, "the map's spectra are resonances");
    let mut runs: Vec<(&str, Vec<&str>)> =
        vec![("one.h5", vec!["--threads", "1"]), ("small.h5", vec!["--threads", "2", "--max-mem", "1"])];
    if cfg!(feature = "mpi") {
        runs.push(("mpi.h5", vec!["--threads", "1", "--max-mem", "1"]));
    }
    for (name, extra) in runs {
        let out = dir.path().join(name);
        let args = [&["sho", s(&file), "-q", "--json", "-o", s(&out)][..], &extra].concat();
        #[cfg(feature = "mpi")]
        let done = if name == "mpi.h5" { mpirun(2, &args) } else { ok(&args) };
        #[cfg(not(feature = "mpi"))]
        let done = ok(&args);
        let v = summary(&done);
        assert_eq!(v["group"], format!("{RAW}-SHO_Fit_000"), "{v}");
        let (g, f) = records(&out, v["group"].as_str().unwrap());
        assert_eq!(bits(&g), bits(&guess), "{name}: Guess");
        assert_eq!(bits(&f), bits(&fit), "{name}: Fit");
    }
}

#[test]
fn pyusid_reads_guess_and_fit_as_main_datasets_with_bglibs_fields_and_attributes() {
    let dir = tempfile::tempdir().unwrap();
    let file = map(dir.path(), "map.h5", 4, 5, 3);
    let v = summary(&ok(&["sho", s(&file), "-q", "--json"]));
    let group = v["group"].as_str().unwrap();
    for name in ["Guess", "Fit"] {
        let d = util::check(&file, &format!("{group}/{name}"), &["--ndim"]);
        assert_eq!(d["is_main"], true, "{d}");
        assert_eq!(d["shape"], serde_json::json!([20, 3]), "{d}");
        assert_eq!(d["spec_dims"], serde_json::json!([["DC_Offset", "V", 3]]), "{d}");
        assert_eq!(d["position_indices"], format!("{CHANNEL}/Position_Indices"), "{d}");
        assert_eq!(d["n_dim_shape"], serde_json::json!([4, 5, 3]), "{d}");
        let fields = "[('Amplitude [V]', '<f8'), ('Frequency [Hz]', '<f8'), ('Quality Factor', '<f8'), ('Phase [rad]', '<f8'), ('R2 Criterion', '<f8')]";
        assert_eq!(d["dtype"], fields, "{d}");
        let a = util::check(&file, &format!("{group}/{name}"), &["--attrs"]);
        assert_eq!(a["guess-algorithm"], "complex_gaussian", "{a}");
        assert_eq!(a["quantity"], "SHO", "{a}");
    }
    let a = util::check(&file, group, &["--attrs"]);
    for (key, value) in [
        ("guess-method", serde_json::json!("pycroscopy BESHO")),
        ("guess-complex_gaussian-num_points", serde_json::json!(5)),
        ("fit-method", serde_json::json!("pycroscopy BESHO")),
        ("last_pixel", serde_json::json!(20)),
        ("guess", serde_json::json!("complex-gaussian")),
        ("along", serde_json::json!("Frequency")),
    ] {
        assert_eq!(a[key], value, "{key}: {a}");
    }
    let f = hdf5::File::open(&file).unwrap();
    for status in usid_peaks::sho::STATUS_DATASETS {
        let done = f.dataset(&format!("{group}/{status}")).unwrap().read_raw::<u8>().unwrap();
        assert_eq!(done, vec![1u8; 20], "{status}");
    }
}

/// BGlib's five fields of `Guess` and `Fit`, in order.
const SHO_FIELDS: [&str; 5] =
    ["Amplitude [V]", "Frequency [Hz]", "Quality Factor", "Phase [rad]", "R2 Criterion"];

#[test]
fn inspect_lists_guess_and_fit_as_records_with_their_fields_and_shape() {
    let dir = tempfile::tempdir().unwrap();
    let file = map(dir.path(), "map.h5", 4, 5, 3);
    let v = summary(&ok(&["sho", s(&file), "-q", "--json"]));
    let group = v["group"].as_str().unwrap();
    let listing = String::from_utf8(ok(&["inspect", s(&file)]).stdout).unwrap();
    assert!(!listing.contains("not readable"), "{listing}");
    for name in ["Guess", "Fit"] {
        let path = format!("{group}/{name}");
        let line = listing
            .lines()
            .find(|l| l.starts_with(&format!("{path} ")))
            .unwrap_or_else(|| panic!("{listing}"));
        assert!(line.contains("(20, 3)") && line.contains(&SHO_FIELDS.join(", ")), "{line}");
        let one = String::from_utf8(ok(&["inspect", s(&file), &path]).stdout).unwrap();
        assert!(one.contains("shape: (20, 3)") && SHO_FIELDS.iter().all(|f| one.contains(f)), "{one}");
    }
    let json: serde_json::Value =
        serde_json::from_slice(&ok(&["inspect", s(&file), "--json"]).stdout).unwrap();
    let fit = json["main_datasets"].as_array().unwrap().iter().find(|e| e["path"] == format!("{group}/Fit"));
    let fit = fit.unwrap_or_else(|| panic!("{json}"));
    assert_eq!(fit["shape"], serde_json::json!([20, 3]), "{fit}");
    assert_eq!(fit["fields"], serde_json::json!(SHO_FIELDS), "{fit}");
}

#[test]
fn a_complete_group_is_reused_and_force_or_other_parameters_make_a_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let file = map(dir.path(), "map.h5", 3, 4, 1);
    let first = summary(&ok(&["sho", s(&file), "-q", "--json"]));
    let again = summary(&ok(&["sho", s(&file), "-q", "--json"]));
    assert_eq!((again["reused"].as_bool(), &again["group"]), (Some(true), &first["group"]), "{again}");
    assert_eq!(again["peaks"], first["peaks"], "the reused group's records are counted as a run counts them");
    let forced = summary(&ok(&["sho", s(&file), "-q", "--json", "--force"]));
    assert_eq!(forced["group"], format!("{RAW}-SHO_Fit_001"), "{forced}");
    let other = summary(&ok(&["sho", s(&file), "-q", "--json", "--guess", "wavelet-peaks"]));
    assert_eq!(
        (other["reused"].as_bool(), &other["group"]),
        (Some(false), &serde_json::json!(format!("{RAW}-SHO_Fit_002")))
    );
    // Peak finding's groups are another process's: a fit is never reused as peaks.
    let peaks = summary(&ok(&["find", s(&file), "-q", "--json"]));
    assert_eq!(peaks["group"], format!("{RAW}-Peak_Finding_000"), "{peaks}");
}

#[test]
fn a_killed_fit_resumes_from_its_checkpoint_and_gives_the_clean_runs_records() {
    let dir = tempfile::tempdir().unwrap();
    let file = map(dir.path(), "map.h5", 96, 96, 4);
    let target = dir.path().join("resumed.h5");
    // Tiny batches on one thread: the run checkpoints often and lasts long enough to be killed.
    let args = ["sho", s(&file), "--json", "-q", "--threads", "1", "--max-mem", "1", "-o", s(&target)];
    let mut child = util::command(BIN).args(args).spawn().unwrap();
    let checkpoint = util::wait_for_batches(&mut child, dir.path());
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(!target.exists(), "a killed run must not leave a results file");
    let v = summary(&ok(&args));
    let (resumed, computed) = (v["resumed"].as_u64().unwrap(), v["computed"].as_u64().unwrap());
    assert!(resumed > 0, "nothing was resumed: {v}");
    assert_eq!(resumed + computed, 96 * 96, "{v}");
    assert!(!checkpoint.exists(), "the checkpoint is removed once the results are written");
    let clean = dir.path().join("clean.h5");
    ok(&["sho", s(&file), "-q", "-o", s(&clean)]);
    let group = v["group"].as_str().unwrap();
    let ((g1, f1), (g2, f2)) = (records(&target, group), records(&clean, group));
    assert_eq!((bits(&g1), bits(&f1)), (bits(&g2), bits(&f2)));
}

#[test]
fn an_output_file_gets_what_bglibs_loop_fitter_is_told_from_the_source() {
    let dir = tempfile::tempdir().unwrap();
    let file = map(dir.path(), "map.h5", 2, 3, 2);
    {
        let f = hdf5::File::open_rw(&file).unwrap();
        usid_peaks::usid::write::write_str_attr(&f, "data_type", "BEPSData").unwrap();
        let m = f.group("/Measurement_000").unwrap();
        usid_peaks::usid::write::write_str_attr(&m, "VS_mode", "DC modulation mode").unwrap();
        usid_peaks::usid::write::write_str_attr(&m, "VS_cycle_fraction", "full").unwrap();
    }
    let out = dir.path().join("out.h5");
    ok(&["sho", s(&file), "-q", "-o", s(&out)]);
    let root = util::check(&out, "/", &["--attrs"]);
    assert_eq!(root["data_type"], "BEPSData", "{root}");
    let m = util::check(&out, "/Measurement_000", &["--attrs"]);
    assert_eq!(
        (&m["VS_mode"], &m["VS_cycle_fraction"]),
        (&"DC modulation mode".into(), &"full".into()),
        "{m}"
    );
}

#[test]
fn bad_inputs_and_parameters_are_one_line_each_with_their_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let file = map(dir.path(), "map.h5", 2, 2, 3);
    // DC_Offset runs from -10 to +10 V: not a frequency axis.
    let out = run(&["sho", s(&file), "--along", "DC_Offset"]);
    assert_one_line_error(&out, 3, "DC_Offset as the frequency axis");
    for (args, mentions) in [
        (&["--num-points", "1"][..], "num_points"),
        (&["--max-iterations", "0"], "max_iterations"),
        (&["--ftol", "-1"], "ftol"),
        (&["--peak-widths", "0", "--guess", "wavelet-peaks"], "--peak-widths"),
    ] {
        let out = run(&[&["sho", s(&file)][..], args].concat());
        assert_one_line_error(&out, 2, mentions);
    }
    assert_eq!(run(&["sho", s(&file), "--guess", "nearest"]).status.code(), Some(2));
    // Real values: the model is complex.
    let real = dir.path().join("real.h5");
    util::write_with_pyusid(&real, &["--channel", "float32:2:1"]);
    let out = run(&["sho", s(&real), RAW]);
    assert_one_line_error(&out, 3, "float32 values; the analysis takes complex spectra only");
    assert!(hdf5::File::open(&real)
        .unwrap()
        .group(CHANNEL)
        .unwrap()
        .member_names()
        .unwrap()
        .iter()
        .all(|n| !n.contains("SHO_Fit")));
}
