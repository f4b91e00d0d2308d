//! Maps with several spectroscopic dimensions (BEPS: Frequency × DC_Offset, FORC-like four-dim
//! layouts): a spectrum is the run along one dimension, every spectrum equals scipy's peaks on it,
//! and the results keep the other dimensions so pyUSID reshapes them to the n-dimensional form.
//! The fixtures are written by pyUSID itself (`tests/reference/pyusid_write.py --spec`) or by
//! `usid-peaks generate --spec-dims`.

use std::path::{Path, PathBuf};

use crate::util::{self, assert_one_line_error, ok, run, s, summary, RAW};
use serde_json::{json, Value};

/// A map written by pyUSID with the spectroscopic dimensions `spec` (fastest first,
/// `Frequency:48,DC_Offset:4`) and element type `dtype`; `extra` are more options of the program.
fn pyusid_map(dir: &Path, name: &str, spec: &str, dtype: &str, extra: &[&str]) -> PathBuf {
    let path = dir.join(name);
    let mut args =
        vec![path.as_os_str(), "--spec".as_ref(), spec.as_ref(), "--dtype".as_ref(), dtype.as_ref()];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    util::script("pyusid_write.py", &args);
    path
}

/// `find FILE ARGS --json -q --widths 2:8:7` (narrow wavelets: the fixtures' sweeps are short).
fn find(file: &Path, args: &[&str]) -> Value {
    let mut all = vec!["find", s(file), "--json", "-q", "--widths", "2:8:7"];
    all.extend_from_slice(args);
    summary(&ok(&all))
}

/// Every spectrum of the group equals scipy's, Peak_Count agrees, and pyUSID's n-dim forms have
/// these `(label, size)` pairs (Peak_Indices / Peak_Frequencies without their `Peak` axis).
fn assert_like_scipy(file: &Path, group: &str, spectra: u64, count_dims: Value) {
    let cmp = util::scipy_compare(file, group);
    assert_eq!(cmp["spectra"], spectra, "{cmp}");
    assert_eq!(cmp["mismatches"], 0, "spectra differing from scipy: {}", cmp["first_mismatches"]);
    assert_eq!(cmp["count_mismatches"], 0, "{cmp}");
    assert_eq!(cmp["n_dim"]["Peak_Count"], count_dims, "{cmp}");
    for name in ["Peak_Indices", "Peak_Frequencies"] {
        let dims: Vec<Value> = cmp["n_dim"][name]
            .as_array()
            .expect("labels and sizes")
            .iter()
            .filter(|d| d[0] != "Peak")
            .cloned()
            .collect();
        assert_eq!(Value::Array(dims), count_dims, "{name}: {cmp}");
    }
}

#[test]
fn beps_spectra_run_along_frequency_and_each_equals_scipy_with_dc_offset_kept() {
    let dir = tempfile::tempdir().unwrap();
    let file = pyusid_map(dir.path(), "beps.h5", "Frequency:48,DC_Offset:4", "complex64", &[]);
    let sum = find(&file, &[]);
    assert_eq!(sum["along"], "Frequency");
    assert_eq!(sum["spectra_per_pixel"], 4);
    let group = sum["group"].as_str().unwrap();
    assert_like_scipy(&file, group, 12 * 4, json!([["Y", 3], ["X", 4], ["DC_Offset", 4]]));
    // Peak_Frequencies is in the along dimension's units; every dataset is main for pyUSID.
    let v = util::check(&file, &format!("{group}/Peak_Frequencies"), &[]);
    assert_eq!(v["units"], "Hz", "{v}");
    let v = util::check(&file, &format!("{group}/Peak_Count"), &[]);
    assert_eq!(v["spec_dims"], json!([["DC_Offset", "V", 4]]), "{v}");
    // The summary line says which dimension and how many spectra per pixel.
    let out = ok(&["find", s(&file), "--widths", "2:8:7", "--force"]);
    let line = String::from_utf8_lossy(&out.stderr);
    assert!(line.contains("12 pixels x 4 spectra along Frequency"), "{line}");
}

#[test]
fn frequency_not_fastest_float32_spectra_follow_the_index_order_along_any_dimension() {
    let dir = tempfile::tempdir().unwrap();
    let file = pyusid_map(dir.path(), "dc_first.h5", "DC_Offset:3,Frequency:40,Cycle:2", "float32", &[]);
    // By default the spectra run along the fastest dimension, here DC_Offset.
    let fast = find(&file, &[]);
    assert_eq!(fast["along"], "DC_Offset");
    assert_eq!(fast["spectra_per_pixel"], 80);
    assert_like_scipy(
        &file,
        fast["group"].as_str().unwrap(),
        12 * 80,
        json!([["Y", 3], ["X", 4], ["Cycle", 2], ["Frequency", 40]]),
    );
    // --along a slower dimension: each spectrum gathers bins 3 apart, in Frequency's order.
    let slow = find(&file, &["--along", "Frequency"]);
    assert_eq!(slow["along"], "Frequency");
    assert_ne!(slow["group"], fast["group"], "the along dimension is a parameter: no reuse");
    assert_like_scipy(
        &file,
        slow["group"].as_str().unwrap(),
        12 * 6,
        json!([["Y", 3], ["X", 4], ["Cycle", 2], ["DC_Offset", 3]]),
    );
    // The same command again reuses the group it made.
    let again = find(&file, &["--along", "Frequency"]);
    assert_eq!(again["reused"], true);
    assert_eq!(again["group"], slow["group"]);
}

#[test]
fn four_spectroscopic_dimensions_float64_every_spectrum_equals_scipy() {
    let dir = tempfile::tempdir().unwrap();
    let file = pyusid_map(
        dir.path(),
        "forc.h5",
        "Frequency:24,DC_Offset:3,Field:2,Cycle:2",
        "float64",
        &["--rows", "2"],
    );
    let sum = find(&file, &[]);
    assert_eq!(sum["spectra_per_pixel"], 12);
    assert_like_scipy(
        &file,
        sum["group"].as_str().unwrap(),
        8 * 12,
        json!([["Y", 2], ["X", 4], ["Cycle", 2], ["Field", 2], ["DC_Offset", 3]]),
    );
}

#[test]
#[cfg(feature = "mpi")]
fn gzip_chunked_beps_map_gives_identical_results_on_one_two_and_three_ranks() {
    let dir = tempfile::tempdir().unwrap();
    let file =
        pyusid_map(dir.path(), "gz.h5", "Frequency:40,DC_Offset:3", "complex64", &["--gzip", "--rows", "5"]);
    let out = |n: &str| dir.path().join(n);
    find(&file, &["-o", s(&out("np1.h5"))]);
    let w = ["--widths", "2:8:7", "-q"];
    util::mpirun(2, &[&["find", s(&file), "-o", s(&out("np2.h5"))][..], &w].concat());
    util::mpirun(3, &[&["find", s(&file), "--max-mem", "1", "-o", s(&out("np3.h5"))][..], &w].concat());
    let group = format!("{RAW}-Peak_Finding_000");
    let read = |f: &Path| {
        let h = hdf5::File::open(f).unwrap();
        let g = h.group(&group).unwrap();
        (
            g.dataset("Peak_Indices").unwrap().read_2d::<i32>().unwrap(),
            g.dataset("Peak_Count").unwrap().read_2d::<u32>().unwrap(),
        )
    };
    let one = read(&out("np1.h5"));
    assert_eq!(one.1.dim(), (20, 3));
    assert_eq!(read(&out("np2.h5")), one, "2 ranks differ from 1");
    assert_eq!(read(&out("np3.h5")), one, "3 ranks differ from 1");
    let cmp = util::script(
        "scipy_peaks.py",
        &[out("np3.h5").as_os_str(), group.as_ref(), "--source".as_ref(), file.as_os_str()],
    );
    assert_eq!(cmp["mismatches"], 0, "{cmp}");
    assert_eq!(cmp["spectra"], 60, "{cmp}");
}

#[test]
fn spectroscopic_indices_that_are_not_a_full_grid_are_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = pyusid_map(dir.path(), "bad.h5", "Frequency:20,DC_Offset:2", "float32", &[]);
    {
        // Bin 1 gets bin 0's indices: one (Frequency, DC_Offset) pair twice, another missing.
        let f = hdf5::File::open_rw(&file).unwrap();
        let ds = f.dataset("/Measurement_000/Channel_000/Spectroscopic_Indices").unwrap();
        let mut idx = ds.read_2d::<u32>().unwrap();
        let first = idx.column(0).to_owned();
        idx.column_mut(1).assign(&first);
        ds.write(&idx).unwrap();
    }
    let bench = dir.path().join("bench");
    for cmd in [
        &["find", s(&file)][..],
        &["pixel", s(&file), "--index", "0"],
        &["bench", s(&file), "--out", s(&bench)],
    ] {
        assert_one_line_error(&run(cmd), 3, "not a full grid");
    }
}

#[test]
fn unknown_along_or_step_is_a_usage_error_naming_the_dimensions() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("beps.h5");
    ok(&["generate", s(&file), "--rows", "3", "--cols", "3", "--spec-dims", "Frequency:60,DC_Offset:3"]);
    assert_one_line_error(&run(&["find", s(&file), "--along", "Voltage"]), 2, "it has DC_Offset, Frequency");
    assert_one_line_error(&run(&["pixel", s(&file), "--index", "0", "--step", "Field=1"]), 2, "DC_Offset");
    assert_one_line_error(&run(&["pixel", s(&file), "--index", "0", "--step", "DC_Offset=3"]), 2, "3 steps");
    assert_one_line_error(&run(&["generate", s(&file), "--spec-dims", "DC_Offset:3"]), 2, "Frequency:BINS");
}

#[test]
fn generated_beps_map_reshapes_in_pyusid_and_pixel_prints_each_spectrum_as_find_wrote_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("beps.h5");
    ok(&["generate", s(&file), "--rows", "4", "--cols", "5", "--spec-dims", "Frequency:60,DC_Offset:3"]);
    let v = util::check(&file, RAW, &["--ndim"]);
    assert_eq!(v["spec_dims"], json!([["DC_Offset", "V", 3], ["Frequency", "Hz", 60]]), "{v}");
    assert_eq!(v["n_dim_shape"], json!([4, 5, 3, 60]), "{v}");

    let sum = summary(&ok(&["find", s(&file), "--json", "-q"]));
    let group = sum["group"].as_str().unwrap();
    assert_like_scipy(&file, group, 20 * 3, json!([["Y", 4], ["X", 5], ["DC_Offset", 3]]));
    let h = hdf5::File::open(&file).unwrap();
    let idx = h.group(group).unwrap().dataset("Peak_Indices").unwrap().read_2d::<i32>().unwrap();
    let width = idx.ncols() / 3;

    // pixel: one line per DC step, labelled by its bias, the peaks find wrote for that spectrum.
    let out = ok(&["pixel", s(&file), "--pixel", "2,3"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("DC_Offset=")).collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("DC_Offset=-10 V"), "{text}");
    let j: Value =
        serde_json::from_slice(&ok(&["pixel", s(&file), "--pixel", "2,3", "--json"]).stdout).unwrap();
    let spectra = j["spectra"].as_array().unwrap();
    assert_eq!(spectra.len(), 3);
    for (k, sp) in spectra.iter().enumerate() {
        let written: Vec<i64> =
            (0..width).map(|c| idx[[13, k * width + c]] as i64).filter(|&p| p >= 0).collect();
        assert_eq!(sp["peaks"], json!(written), "DC step {k}");
    }
    // --step picks one.
    let j: Value = serde_json::from_slice(
        &ok(&["pixel", s(&file), "--pixel", "2,3", "--json", "--step", "DC_Offset=2"]).stdout,
    )
    .unwrap();
    assert_eq!(j["spectra"].as_array().unwrap().len(), 1);
    assert_eq!(j["spectra"][0]["label"], "DC_Offset=10 V");

    // plot: one spectrum of a pixel, and one DC step of the map, each saying which.
    let png = dir.path().join("p.png");
    let out = ok(&["plot", s(&file), "--pixel", "2,3", "--step", "DC_Offset=1", "-o", s(&png)]);
    assert!(png.exists(), "{}", String::from_utf8_lossy(&out.stderr));
    let map = dir.path().join("m.png");
    ok(&["plot", s(&file), "--map", "--step", "DC_Offset=2", "-o", s(&map)]);
    assert!(map.exists());
}
