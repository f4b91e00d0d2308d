//! `find` over NSID datasets written by pyNSID (tests/reference/nsid_write.py): under
//! `mpirun -np 3` every spectrum gets scipy's peaks, the results are NSID datasets pyNSID reads
//! with the source's dimensions (integer dtypes as h5py sees them), the source still reads with
//! pyNSID, the results group follows the one rule (reuse, the next index), and the bad cases are
//! one line each.
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use num_complex::Complex32;
use serde_json::Value;
use usid_peaks::nsid::{create_nsid_dataset, Dimension, DimensionType, NsidSpec};

use crate::nsid::{check_resumed, copy_of, map, resume_map, RAW};
#[cfg(feature = "mpi")]
use crate::util::mpirun;
use crate::util::{assert_one_line_error, ok, reference, run, s, scratch, summary};

/// Where `find` puts the first results of a pyNSID map's source: beside its group.
const LOG: &str = "/Measurement_000/Channel_000/Log_Peak_Finding_000";

/// `find --json` on `file` with `args`, on 3 ranks where MPI is built in.
fn find(file: &str, args: &[&str]) -> Value {
    let mut all = vec!["find", "--json", "-q", file];
    all.extend_from_slice(args);
    #[cfg(feature = "mpi")]
    let out = mpirun(3, &all);
    #[cfg(not(feature = "mpi"))]
    let out = ok(&all);
    summary(&out)
}

/// Each case, the `--along` it runs with (none: the default), the names of the dimensions its
/// results keep (before the peak slot) in the order pyNSID reads them, and the along axis' unit.
type Case = (&'static str, Option<&'static str>, &'static [&'static str], &'static str);
const CASES: [Case; 9] = [
    ("complex3d", None, &["y", "x"], "Hz"),
    ("beps4d", Some("Frequency"), &["y", "x", "DC_Offset"], "Hz"),
    ("beps4d", None, &["y", "x", "Frequency"], "V"),
    ("xy_order", None, &["x", "y"], "Hz"),
    ("not_leading", None, &["y", "x"], "Hz"),
    ("unknown_freq", None, &["y", "x"], "Hz"),
    ("singleton", None, &["y", "x", "Repeat"], "Hz"),
    ("gzip", None, &["y", "x"], "Hz"),
    ("channel", None, &["y", "x", "Channel"], "Hz"),
];

#[test]
fn every_spectrum_of_every_pynsid_map_gets_scipys_peaks_in_results_pynsid_reads() {
    let mut args: Vec<PathBuf> = Vec::new();
    for (k, (case, along, _, _)) in CASES.iter().enumerate() {
        let file = copy_of(case, &format!("find_{k}_{case}.h5"));
        let extra: Vec<&str> = along.map(|a| vec!["--along", a]).unwrap_or_default();
        let sum = find(s(&file), &extra);
        assert_eq!(sum["group"], LOG, "{case}");
        assert_eq!(sum["dataset"], RAW, "{case}");
        args.extend([file, PathBuf::from(LOG)]);
    }
    let mut argv: Vec<&OsStr> = vec![OsStr::new("--peaks")];
    argv.extend(args.iter().map(|a| a.as_os_str()));
    let out = reference("nsid_read.py", &argv);
    let checked: Value = serde_json::from_slice(&out.stdout).expect("nsid_read.py --peaks prints JSON");
    for (k, (case, _, kept, along_units)) in CASES.iter().enumerate() {
        let c = &checked[s(&args[2 * k])];
        assert!(c["spectra"].as_u64().unwrap_or(0) > 0, "{case}: {c}");
        assert_eq!(c["mismatches"], 0, "{case}: scipy's peaks differ: {}", c["first_mismatches"]);
        assert_eq!(c["count_mismatches"], 0, "{case}");
        assert_eq!(c["dtypes"]["Peak_Indices"], "int32", "{case}");
        assert_eq!(c["dtypes"]["Peak_Count"], "uint32", "{case}");
        assert_eq!(c["dtypes"]["Peak_Frequencies"], "float64", "{case}");
        let main = c["main"].as_array().expect("pyNSID's list");
        let source = main.iter().find(|d| d["path"] == RAW).expect("the source is still listed");
        assert!(source.get("error").is_none(), "{case}: pyNSID no longer reads the source: {source}");
        for (name, units) in [("Peak_Count", ""), ("Peak_Indices", ""), ("Peak_Frequencies", *along_units)] {
            let path = format!("{LOG}/{name}/{name}");
            let d =
                main.iter().find(|d| d["path"] == path.as_str()).unwrap_or_else(|| panic!("{case}: {path}"));
            assert!(d.get("error").is_none(), "{case}: {d}");
            let names: Vec<&str> =
                d["dims"].as_array().unwrap().iter().map(|x| x["name"].as_str().unwrap()).collect();
            let mut want = kept.to_vec();
            if name != "Peak_Count" {
                want.push("Peak");
            }
            assert_eq!(names, want, "{case} {name}");
            assert_eq!(d["units"], units, "{case} {name}");
            let spatial = &d["dims"][0];
            assert_eq!(
                (&spatial["dimension_type"], &spatial["units"]),
                (&Value::from("SPATIAL"), &Value::from("m"))
            );
        }
    }
}

#[test]
fn a_second_find_reuses_the_nsid_group_and_force_takes_the_next_index() {
    let file = copy_of("complex3d", "find_reuse.h5");
    let first = find(s(&file), &[]);
    assert_eq!((&first["group"], &first["reused"]), (&Value::from(LOG), &Value::from(false)));
    let again = summary(&ok(&["find", "--json", "-q", s(&file)]));
    assert_eq!(
        (&again["group"], &again["reused"], &again["peaks"]),
        (&Value::from(LOG), &Value::from(true), &first["peaks"])
    );
    let forced = summary(&ok(&["find", "--json", "-q", "--force", s(&file)]));
    assert_eq!(forced["group"], "/Measurement_000/Channel_000/Log_Peak_Finding_001");
    // Other parameters: not the same results, a new group.
    let other = summary(&ok(&["find", "--json", "-q", "--min-snr", "2", s(&file)]));
    assert_eq!(
        (&other["group"], &other["reused"]),
        (&Value::from("/Measurement_000/Channel_000/Log_Peak_Finding_002"), &Value::from(false))
    );
}

#[test]
fn results_into_another_file_keep_the_sources_group_path() {
    let out = scratch("find_nsid_out.h5");
    let sum = summary(&ok(&["find", "--json", "-q", s(&map("not_leading")), "-o", s(&out)]));
    assert_eq!(sum["group"], LOG);
    let f = hdf5::File::open(&out).expect("the output file");
    let counts = f.dataset(&format!("{LOG}/Peak_Count/Peak_Count")).expect("Peak_Count").shape();
    assert_eq!(counts, vec![5, 6], "(y, x) of the source's (Frequency, y, x)");
}

#[test]
fn bad_nsid_inputs_are_one_line_errors_of_their_class() {
    assert_one_line_error(&run(&["find", s(&map("no_spatial"))]), 3, "no SPATIAL axis");
    assert_one_line_error(&run(&["find", s(&map("wrong_length")), RAW]), 3, "is not an NSID dataset");
    assert_one_line_error(&run(&["find", s(&map("wrong_length"))]), 3, "no NSID dataset");
    let out = scratch("find_bad_along.h5");
    let along = run(&["find", s(&map("complex3d")), "--along", "Nope", "-o", s(&out)]);
    assert_one_line_error(&along, 2, "--along Nope");
    let spatial = run(&["find", s(&map("complex3d")), "--along", "x", "-o", s(&out)]);
    assert_one_line_error(&spatial, 2, "SPATIAL");
}

/// Each axis a result keeps becomes a scale of its name beside every result: a source axis named
/// like a result or an axis the analysis adds is refused before anything is computed, in one line
/// naming it (exit 3), with nothing written.
#[test]
fn a_source_axis_named_like_a_result_is_refused_before_computing() {
    for (axis, command) in [("Peak", "find"), ("Peak_Count", "find"), ("Fit", "sho")] {
        let (file, out) = (scratch(&format!("axis_{axis}.h5")), scratch(&format!("axis_{axis}_out.h5")));
        write_map_with_axis(&file, axis);
        let line =
            assert_one_line_error(&run(&[command, s(&file), "-q", "-o", s(&out)]), 3, "rename the axis");
        assert!(line.contains(&format!("({axis:?}) has a name taken beside it")), "{line}");
        assert!(!out.exists(), "{command} with an axis {axis} wrote {}", out.display());
        let hidden = format!(".axis_{axis}_out.h5.");
        let begun: Vec<String> = crate::util::side_files(out.parent().unwrap(), "")
            .into_iter()
            .filter(|n| n.starts_with(&hidden))
            .collect();
        assert!(begun.is_empty(), "{command} with an axis {axis} began a run: {begun:?}");
    }
}

/// A complex NSID map (y, x, `axis`, Frequency), written with the library's NSID writer: what is
/// tested is the refusal, not how pyNSID reads the map.
fn write_map_with_axis(path: &Path, axis: &str) {
    let f = hdf5::File::create(path).expect("create the map");
    let channel =
        f.create_group("Measurement_000").and_then(|g| g.create_group("Channel_000")).expect("groups");
    let steps = |n: usize, step: f64| (0..n).map(|i| (i + 1) as f64 * step).collect::<Vec<f64>>();
    let dims = [
        Dimension::new("y", "Length", "m", DimensionType::Spatial, steps(2, 1e-6)),
        Dimension::new("x", "Length", "m", DimensionType::Spatial, steps(3, 1e-6)),
        Dimension::new(axis, "Step", "a.u.", DimensionType::Unknown, steps(2, 1.0)),
        Dimension::new("Frequency", "Frequency", "Hz", DimensionType::Spectral, steps(32, 1e3)),
    ];
    let spec = NsidSpec {
        name: "Raw_Data",
        quantity: "Response",
        units: "V",
        data_type: "SPECTRAL_IMAGE",
        modality: "Band Excitation",
        source: "usid-peaks tests",
        dims: &dims,
        chunk: None,
    };
    let data = create_nsid_dataset::<Complex32>(&channel, &spec).expect("the map");
    let values: Vec<Complex32> = (0..2 * 3 * 32 * 2).map(|i| Complex32::new((i % 7) as f32, 1.0)).collect();
    data.write_raw(&values).expect("write the map");
}

#[test]
fn pixel_on_an_nsid_map_gives_the_peaks_find_writes_at_that_position() {
    let file = copy_of("not_leading", "pixel_nsid.h5");
    find(s(&file), &[]);
    let f = hdf5::File::open(&file).expect("the map");
    let indices = f.dataset(&format!("{LOG}/Peak_Indices/Peak_Indices")).expect("Peak_Indices");
    let all = indices.read_dyn::<i32>().expect("Peak_Indices' values");
    let (cols, width) = (all.shape()[1], all.shape()[2]);
    for (row, col) in [(0, 0), (2, 3), (4, 5)] {
        let out = ok(&["pixel", s(&file), "--pixel", &format!("{row},{col}"), "--json"]);
        let pixel = summary(&out);
        let at = (row * cols + col) * width;
        let want: Vec<i64> = all.as_slice().expect("contiguous")[at..at + width]
            .iter()
            .filter(|&&p| p >= 0)
            .map(|&p| i64::from(p))
            .collect();
        let got: Vec<i64> =
            pixel["peaks"].as_array().expect("peaks").iter().map(|p| p.as_i64().unwrap()).collect();
        assert_eq!(got, want, "pixel ({row}, {col})");
        assert_eq!((&pixel["axis"], &pixel["units"]), (&Value::from("Frequency"), &Value::from("Hz")));
        assert_eq!(pixel["index"], row * cols + col);
    }
    assert_one_line_error(&run(&["pixel", s(&file), "--pixel", "0,6"]), 2, "6 columns along x");
}

#[test]
fn inspect_lists_nsid_datasets_with_their_axes_and_the_default_along_and_results_apart() {
    let file = copy_of("beps4d", "inspect_nsid.h5");
    find(s(&file), &["--along", "Frequency"]);
    let listing = summary(&ok(&["inspect", "--json", s(&file)]));
    let nsid = listing["nsid_datasets"].as_array().expect("nsid_datasets");
    assert_eq!(nsid.len(), 1, "the results are not sources: {listing}");
    let raw = &nsid[0];
    assert_eq!(raw["path"], RAW);
    assert_eq!(raw["shape"], serde_json::json!([4, 6, 48, 5]));
    let dims: Vec<(&str, &str, &str)> = raw["dims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (d["name"].as_str().unwrap(), d["dimension_type"].as_str().unwrap(), d["units"].as_str().unwrap())
        })
        .collect();
    assert_eq!(
        dims,
        [
            ("y", "SPATIAL", "m"),
            ("x", "SPATIAL", "m"),
            ("Frequency", "SPECTRAL", "Hz"),
            ("DC_Offset", "SPECTRAL", "V")
        ]
    );
    assert_eq!(raw["spectra"]["along"], "DC_Offset", "the last axis that is not SPATIAL");
    assert_eq!(raw["storage"], "contiguous");
    let groups = listing["results_groups"].as_array().expect("results_groups");
    assert_eq!(groups.len(), 1);
    assert_eq!(
        (&groups[0]["path"], &groups[0]["source_dataset"], &groups[0]["complete"]),
        (&Value::from(LOG), &Value::from(RAW), &Value::from(true))
    );
    let text = String::from_utf8(ok(&["inspect", s(&map("gzip")), RAW]).stdout).expect("UTF-8");
    assert!(text.contains("gzip") && text.contains("HDF5 decodes"), "{text}");
    assert!(text.contains("Frequency (Hz) - size: 64 - SPECTRAL"), "{text}");
}

/// The NSID results' Peak_Indices of `file` (raw, row-major).
fn nsid_peaks(file: &std::path::Path) -> Vec<i32> {
    let f = hdf5::File::open(file).expect("the file opens");
    f.dataset(&format!("{LOG}/Peak_Indices/Peak_Indices")).unwrap().read_raw::<i32>().unwrap()
}

/// SIGKILL to the run `child` once batches are in its checkpoint in `dir`, so that there is work
/// to resume and work left. On the resume map the checkpoint's header is ≈ 9 KB and each batch
/// adds 7–15 KB (156 KB in all; sizes fixed by --max-mem, not by the machine): past 32 KiB at
/// least one batch is whole. (Waiting only for growth past the size seen at the start could
/// catch the header itself being written: a fresh Debian 12 run resumed 0 positions that way.)
fn kill_after_a_batch(mut child: std::process::Child, dir: &std::path::Path) {
    crate::util::wait_for_checkpoint_over(&mut child, dir, 32 * 1024);
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert!(status.code().is_none(), "killed by a signal, not ended: {status}");
}

#[test]
fn an_nsid_run_killed_mid_run_resumes_to_a_clean_runs_results() {
    use crate::util::{side_files, slow_find};
    let (dir, file, source) = resume_map();
    kill_after_a_batch(slow_find(&file), dir.path());
    assert!(std::fs::read(&file).unwrap() == source, "the file is as it was");
    assert_eq!(side_files(dir.path(), ".ckpt").len(), 1, "the checkpoint is kept");

    let resumed = summary(&ok(&["find", "-q", "--json", s(&file)]));
    let clean = check_resumed(&resumed, dir.path(), LOG);
    ok(&["find", "-q", s(&clean)]);
    assert_eq!(nsid_peaks(&file), nsid_peaks(&clean), "the resumed run's peaks are a clean run's");
}

/// With `--output` the results are streamed into the output's staging copy from the first batch
/// on: a kill then leaves the source as it was and no output, and the rerun replays the
/// checkpoint into a new staging copy between the batches it computes.
#[test]
fn an_nsid_run_into_another_file_killed_while_streaming_resumes_to_a_clean_runs_results() {
    use crate::util::{side_files, slow_run};
    let (dir, file, source) = resume_map();
    let out = dir.path().join("out.h5");
    let slow = ["find", "-q", "--threads", "1", "--max-mem", "1", s(&file), "-o", s(&out)];
    kill_after_a_batch(slow_run(&slow, &file), dir.path());
    assert!(std::fs::read(&file).unwrap() == source, "the source is as it was");
    assert!(!out.exists(), "no output file before the run ends");
    assert_eq!(side_files(dir.path(), "usid-peaks-staging").len(), 1, "killed while streaming");
    assert_eq!(side_files(dir.path(), ".ckpt").len(), 1, "the checkpoint is kept");

    let resumed = summary(&ok(&["find", "-q", "--json", s(&file), "-o", s(&out)]));
    let clean = check_resumed(&resumed, dir.path(), LOG);
    assert!(side_files(dir.path(), "usid-peaks-staging").is_empty(), "no staging copy left");
    ok(&["find", "-q", s(&clean)]);
    assert_eq!(nsid_peaks(&out), nsid_peaks(&clean), "the resumed run's peaks are a clean run's");
}
