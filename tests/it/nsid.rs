//! NSID datasets written by pyNSID itself (tests/reference/nsid_write.py) are found, described
//! and read by the library as pyNSID and numpy find, describe and arrange them; results the
//! library writes are read back by pyNSID with the dimensions written, and leave the source
//! readable. The reference environment is `.venv` (pyNSID 0.0.7.2, sidpy, numpy 2).
use std::ffi::OsStr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use num_complex::{Complex32, Complex64};
use serde_json::Value;
use usid_peaks::error::Class;
use usid_peaks::nsid::{
    create_nsid_dataset, create_results_group, find_nsid_datasets, results_parent, write_positions,
    Dimension, DimensionType, NsidDataset, NsidSpec, Spectra, Storage,
};
use usid_peaks::usid::{open_file, ElementType};

use crate::usid_pyusid::ELEMENT_TYPES;
use crate::util::{reference, scratch};

/// Every case nsid_write.py writes, one file each.
const CASES: [&str; 14] = [
    "beps4d",
    "channel",
    "complex3d",
    "dtypes",
    "generic_axis",
    "gzip",
    "interleaved",
    "no_scales",
    "no_spatial",
    "not_leading",
    "singleton",
    "unknown_freq",
    "wrong_length",
    "xy_order",
];

/// The source dataset of every single-dataset case.
pub(crate) const RAW: &str = "/Measurement_000/Channel_000/Raw_Data/Raw_Data";

/// The test maps, written by pyNSID once per test binary: (directory, what each case holds).
fn maps() -> &'static (PathBuf, Value) {
    static MAPS: OnceLock<(PathBuf, Value)> = OnceLock::new();
    MAPS.get_or_init(|| {
        let dir = scratch("nsid_maps");
        let out = reference("nsid_write.py", &[dir.as_os_str()]);
        let written: Value = serde_json::from_slice(&out.stdout).expect("nsid_write.py prints JSON");
        (dir, written)
    })
}

pub(crate) fn map(case: &str) -> PathBuf {
    maps().0.join(format!("{case}.h5"))
}

/// What pyNSID reads from each of `files` (one run of the reference: sidpy takes seconds to
/// import): every dataset get_all_main lists, as read_h5py_dataset reads it.
fn pynsid_views(files: &[PathBuf]) -> Vec<Vec<Value>> {
    let args: Vec<&OsStr> = files.iter().map(|f| f.as_os_str()).collect();
    let out = reference("nsid_read.py", &args);
    let view: Value = serde_json::from_slice(&out.stdout).expect("nsid_read.py prints JSON");
    files
        .iter()
        .map(|f| view[f.to_str().expect("a UTF-8 path")].as_array().expect("a list of datasets").clone())
        .collect()
}

/// pyNSID's view of the map of `case`, every case's read in one run.
fn pynsid_view(case: &str) -> &'static [Value] {
    static VIEWS: OnceLock<Vec<Vec<Value>>> = OnceLock::new();
    let views = VIEWS.get_or_init(|| pynsid_views(&CASES.map(map)));
    let at = CASES.iter().position(|c| *c == case).expect("a case");
    &views[at]
}

/// A dimension's values as pyNSID reads them, exactly (their IEEE bits).
fn values_of(dim: &Value) -> Vec<f64> {
    let bits: Vec<u64> = serde_json::from_value(dim["value_bits"].clone()).expect("value bits");
    bits.into_iter().map(f64::from_bits).collect()
}

fn open(case: &str, path: &str) -> NsidDataset {
    let file = open_file(&map(case)).expect("open the map");
    NsidDataset::open(&file, path).unwrap_or_else(|e| panic!("{case}:{path}: {e}"))
}

fn open_err(case: &str, path: &str) -> usid_peaks::nsid::NsidError {
    let file = open_file(&map(case)).expect("open the map");
    NsidDataset::open(&file, path).expect_err("not usable NSID")
}

#[test]
fn the_model_lists_exactly_the_datasets_pynsid_lists() {
    for case in CASES {
        let file = open_file(&map(case)).expect("open the map");
        let ours = find_nsid_datasets(&file).expect("list");
        let theirs: Vec<String> =
            pynsid_view(case).iter().map(|d| d["path"].as_str().expect("a path").to_string()).collect();
        assert_eq!(ours, theirs, "{case}");
        let expected = match case {
            "dtypes" => 12,
            "no_scales" | "wrong_length" => 0,
            _ => 1,
        };
        assert_eq!(ours.len(), expected, "{case}: {ours:?}");
    }
}

#[test]
fn dims_attributes_and_types_are_what_pynsid_reads() {
    for case in CASES {
        for view in pynsid_view(case) {
            let path = view["path"].as_str().expect("a path");
            assert!(view.get("error").is_none(), "{case}:{path}: pyNSID cannot read it: {view}");
            let ds = open(case, path);
            let shape: Vec<usize> = serde_json::from_value(view["shape"].clone()).expect("a shape");
            assert_eq!(ds.shape, shape, "{case}:{path}");
            assert_eq!(ds.element.name(), view["dtype"], "{case}:{path}");
            for key in ["quantity", "units", "data_type", "modality", "source"] {
                let ours = match key {
                    "quantity" => &ds.quantity,
                    "units" => &ds.units,
                    "data_type" => &ds.data_type,
                    "modality" => &ds.modality,
                    _ => &ds.source,
                };
                assert_eq!(ours, &view[key], "{case}:{path}: {key}");
            }
            assert_eq!(ds.pynsid_version, "0.0.7.2");
            let dims = view["dims"].as_array().expect("dims");
            assert_eq!(ds.dims.len(), dims.len(), "{case}:{path}");
            for (ours, theirs) in ds.dims.iter().zip(dims) {
                assert_eq!(ours.name, theirs["name"], "{case}:{path}");
                assert_eq!(ours.quantity, theirs["quantity"], "{case}:{path}");
                assert_eq!(ours.units, theirs["units"], "{case}:{path}");
                assert_eq!(ours.dimension_type.name(), theirs["dimension_type"], "{case}:{path}");
                assert_eq!(ours.values, values_of(theirs), "{case}:{path}: {}", ours.name);
            }
        }
    }
}

#[test]
fn every_stored_type_is_named_as_numpy_names_it() {
    let file = open_file(&map("dtypes")).expect("open");
    let names: Vec<&str> = find_nsid_datasets(&file)
        .expect("list")
        .iter()
        .map(|p| NsidDataset::open(&file, p).expect("open").element.name())
        .collect();
    // nsid_write.py's dtypes case writes every type pyUSID does but complex64 (the gzip case's).
    let written: Vec<&str> = ELEMENT_TYPES.into_iter().filter(|t| *t != "complex64").collect();
    assert_eq!(names, written);
}

/// A case's spectra by default: the along axis, the spatial axes, the positions, the spectra per
/// position and the other axes (fastest first).
struct Layout {
    case: &'static str,
    along: &'static str,
    spatial: &'static [&'static str],
    n_positions: usize,
    per_position: usize,
    others: &'static [&'static str],
}

#[rustfmt::skip]
const DEFAULTS: [Layout; 10] = [
    Layout { case: "complex3d", along: "Frequency", spatial: &["y", "x"], n_positions: 35, per_position: 1, others: &[] },
    Layout { case: "beps4d", along: "DC_Offset", spatial: &["y", "x"], n_positions: 24, per_position: 48, others: &["Frequency"] },
    Layout { case: "xy_order", along: "Frequency", spatial: &["x", "y"], n_positions: 35, per_position: 1, others: &[] },
    Layout { case: "unknown_freq", along: "Frequency", spatial: &["y", "x"], n_positions: 30, per_position: 1, others: &[] },
    Layout { case: "not_leading", along: "Frequency", spatial: &["y", "x"], n_positions: 30, per_position: 1, others: &[] },
    Layout { case: "interleaved", along: "Frequency", spatial: &["y", "x"], n_positions: 20, per_position: 3, others: &["DC_Offset"] },
    Layout { case: "singleton", along: "Frequency", spatial: &["y", "x"], n_positions: 20, per_position: 1, others: &["Repeat"] },
    Layout { case: "channel", along: "Frequency", spatial: &["y", "x"], n_positions: 20, per_position: 2, others: &["Channel"] },
    Layout { case: "gzip", along: "Frequency", spatial: &["y", "x"], n_positions: 99, per_position: 1, others: &[] },
    Layout { case: "generic_axis", along: "c", spatial: &["y"], n_positions: 5, per_position: 7, others: &["b"] },
];

#[test]
fn spectra_run_by_default_along_the_last_non_spatial_axis_that_is_not_singleton_or_channel() {
    for Layout { case, along, spatial, n_positions, per_position, others } in DEFAULTS {
        let ds = open(case, RAW);
        let s = Spectra::new(&ds, None).unwrap_or_else(|e| panic!("{case}: {e}"));
        assert_eq!(ds.dims[s.along].name, along, "{case}");
        assert_eq!(s.along_dim.name, along, "{case}");
        assert_eq!(s.axis, ds.dims[s.along].values, "{case}");
        assert_eq!(s.len(), ds.shape[s.along], "{case}");
        let names: Vec<&str> = s.position_axes.iter().map(|&a| ds.dims[a].name.as_str()).collect();
        assert_eq!(names, spatial, "{case}");
        assert_eq!((s.n_positions, s.per_position()), (n_positions, per_position), "{case}");
        let other_names: Vec<&str> = s.others.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(other_names, others, "{case}");
    }
}

#[test]
fn a_frequency_axis_typed_unknown_is_the_default_along_as_one_typed_spectral() {
    let unknown = open("unknown_freq", RAW);
    assert_eq!(unknown.dims[2].dimension_type, DimensionType::Unknown);
    let s = Spectra::new(&unknown, None).expect("spectra");
    assert_eq!((s.along, s.along_dim.units.as_str()), (2, "Hz"));
}

#[test]
fn scales_sidpy_refuses_become_the_generic_axes_pynsid_keeps() {
    let ds = open("generic_axis", RAW);
    let theirs: Vec<&str> = pynsid_view("generic_axis")[0]["dims"]
        .as_array()
        .expect("dims")
        .iter()
        .map(|d| d["name"].as_str().expect("a name"))
        .collect();
    let ours: Vec<&str> = ds.dims.iter().map(|d| d.name.as_str()).collect();
    assert_eq!((ours.as_slice(), theirs.as_slice()), (&["y", "b", "c"][..], &["y", "b", "c"][..]));
    assert_eq!(ds.dims[1].dimension_type, DimensionType::Unknown);
    assert_eq!(ds.dims[2].values, (0..48).map(f64::from).collect::<Vec<_>>());
}

#[test]
fn gzip_chunks_are_described_and_read_through_hdf5() {
    let ds = open("gzip", RAW);
    assert_eq!(
        ds.storage,
        Storage::Chunked { chunk: vec![2, 4, 64], filters: vec!["shuffle".into(), "gzip 4".into()] }
    );
    assert_eq!(open("complex3d", RAW).storage, Storage::Contiguous);
    // Its values: in reader_rows_are_numpys_spectra_for_every_layout_along_and_stored_type.
}

/// `n` positions as runs of growing length 1, 2, 3, …: most cut a row of the slowest spatial
/// axis somewhere, so the reader meets every kind of box.
fn runs(n: usize) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let (mut start, mut len) = (0, 1);
    while start < n {
        out.push(start..(start + len).min(n));
        start += len;
        len += 1;
    }
    out
}

/// The spectra the reader is held to: (case, dataset, along). Every layout along its default
/// axis; along an axis other than the default (a slow one, one between the spatial axes, a
/// singleton, a CHANNEL axis); every stored type.
fn row_requests() -> Vec<(&'static str, String, &'static str)> {
    let mut out: Vec<(&str, String, &str)> =
        DEFAULTS.iter().map(|d| (d.case, RAW.to_string(), d.along)).collect();
    for (case, along) in [
        ("beps4d", "Frequency"),
        ("interleaved", "DC_Offset"),
        ("singleton", "Repeat"),
        ("channel", "Channel"),
    ] {
        out.push((case, RAW.to_string(), along));
    }
    for k in 0..12 {
        out.push(("dtypes", format!("/Measurement_000/Channel_{k:03}/Raw_Data/Raw_Data"), "Frequency"));
    }
    out
}

/// numpy's arrangement of h5py's values for every request of [`row_requests`], in one run of the
/// reference: dataset `k` of the returned file answers request `k`.
fn expected_rows() -> &'static PathBuf {
    static ROWS: OnceLock<PathBuf> = OnceLock::new();
    ROWS.get_or_init(|| {
        let out = scratch("nsid_rows.h5");
        let requests = row_requests();
        let mut args: Vec<std::ffi::OsString> = vec!["--rows".into(), out.clone().into()];
        for (case, path, along) in &requests {
            args.extend([map(case).into(), path.into(), along.into()]);
        }
        let args: Vec<&OsStr> = args.iter().map(|a| a.as_os_str()).collect();
        reference("nsid_read.py", &args);
        out
    })
}

/// Our spectra of request `k` ([`row_requests`]), read as `T` in runs of positions (all at once,
/// run by run, every other run in one call), against numpy's.
fn check_rows<T>(k: usize)
where
    T: hdf5::H5Type + Copy + Default + PartialEq + std::fmt::Debug,
{
    let (case, path, along) = row_requests().swap_remove(k);
    let what = format!("{case}:{path} along {along}");
    let ds = open(case, &path);
    let s = Spectra::named(&ds, Some(along)).unwrap_or_else(|e| panic!("{what}: {e}"));
    let expected: Vec<T> = hdf5::File::open(expected_rows())
        .and_then(|f| f.dataset(&k.to_string())?.read_raw::<T>())
        .expect("read numpy's rows");
    let file = open_file(&map(case)).expect("open");
    let dataset = file.dataset(&path).expect("dataset");
    let all: Vec<T> =
        s.read(&dataset, std::slice::from_ref(&(0..s.n_positions))).expect("read every position");
    assert_eq!(all, expected, "{what}: every position at once");
    let runs = runs(s.n_positions);
    let per_position = s.per_position() * s.len();
    let mut pieces = Vec::new();
    for r in &runs {
        pieces.extend(s.read::<T>(&dataset, std::slice::from_ref(r)).expect("read a run"));
        assert_eq!(pieces.len(), r.end * per_position);
    }
    assert_eq!(pieces, expected, "{what}: run by run");
    let odd: Vec<Range<usize>> = runs.iter().skip(1).step_by(2).cloned().collect();
    let picked: Vec<T> =
        odd.iter().flat_map(|r| expected[r.start * per_position..r.end * per_position].to_vec()).collect();
    assert_eq!(s.read::<T>(&dataset, &odd).expect("read runs"), picked, "{what}: runs in one call");
}

#[test]
fn reader_rows_are_numpys_spectra_for_every_layout_along_and_stored_type() {
    for (k, (case, path, _)) in row_requests().into_iter().enumerate() {
        // The type the reader hands the dataset's values out as.
        match open(case, &path).element.read_as() {
            ElementType::Complex64 => check_rows::<Complex32>(k),
            ElementType::Complex128 => check_rows::<Complex64>(k),
            ElementType::Float32 => check_rows::<f32>(k),
            _ => check_rows::<f64>(k),
        }
    }
}

/// An error's message is one line with `mentions` in it, and its class is `class`.
fn assert_one_line(e: &usid_peaks::nsid::NsidError, class: Class, mentions: &str) {
    assert_eq!(e.class, class, "{e}");
    assert!(!e.message.contains('\n'), "one line: {e}");
    assert!(e.message.contains(mentions), "{e:?} should mention {mentions:?}");
}

#[test]
fn unusable_datasets_and_bad_along_are_one_line_errors_of_their_class() {
    let ds = open("no_spatial", RAW);
    let e = Spectra::new(&ds, None).expect_err("no positions");
    assert_one_line(&e, Class::Input, "no SPATIAL axis (Frequency SPECTRAL, DC_Offset SPECTRAL)");
    let e = open_err("wrong_length", RAW);
    assert_one_line(
        &e,
        Class::Input,
        "is not an NSID dataset: the dimension scale \"Frequency\" of axis 2 has 39 values, the axis 40",
    );
    let e = open_err("no_scales", RAW);
    assert_one_line(
        &e,
        Class::Input,
        "is not an NSID dataset: it has no dimension scales (no DIMENSION_LIST)",
    );
    let ds = open("beps4d", RAW);
    let e = Spectra::named(&ds, Some("Nope")).expect_err("no such axis");
    assert_one_line(&e, Class::Usage, "--along Nope: /Measurement_000/Channel_000/Raw_Data/Raw_Data has no axis Nope (y SPATIAL, x SPATIAL, Frequency SPECTRAL, DC_Offset SPECTRAL)");
    let e = Spectra::named(&ds, Some("x")).expect_err("a spatial axis");
    assert_one_line(&e, Class::Usage, "--along x: x is a SPATIAL axis");
    let e = open_err("beps4d", "/Measurement_000/Channel_000/Raw_Data");
    assert_one_line(&e, Class::Input, "is a group, not a dataset");
    let e = open_err("beps4d", "/Nope");
    assert_one_line(&e, Class::Input, "/Nope does not exist in");
    // A dimension scale is a dataset too, but no NSID one.
    let e = open_err("beps4d", "/Measurement_000/Channel_000/Raw_Data/Frequency");
    assert_one_line(&e, Class::Input, "is not an NSID dataset: it has no dimension scales");
}

/// What results of a source are laid out over: its spatial dimensions then its other
/// dimensions (Spectra::result_dims), the along axis' units, and the positions' shape.
struct ResultAxes {
    dims: Vec<Dimension>,
    units: String,
    shape: Vec<usize>,
    n_positions: usize,
}

impl ResultAxes {
    /// The axes of results of the map `file`'s source along `along` (the file is closed again).
    fn of(file: &Path, along: &str) -> ResultAxes {
        let source = NsidDataset::open(&open_file(file).expect("open"), RAW).expect("source");
        let s = Spectra::named(&source, Some(along)).expect("spectra");
        ResultAxes {
            dims: s.result_dims(&source),
            units: source.dims[s.along].units.clone(),
            shape: s.position_shape(),
            n_positions: s.n_positions,
        }
    }
}

/// `file` opened for writing, waiting (up to 30 s) while another process holds its lock: seen
/// once in a fresh Debian 12 run ("unable to lock file, errno = 11"), cause not found — the
/// harness's children inherit none of this process's descriptors (util::command), and the
/// reference Python takes no locks.
fn open_rw_when_unlocked(file: &Path) -> hdf5::File {
    let give_up = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        match hdf5::File::open_rw(file) {
            Ok(f) => return f,
            Err(e)
                if e.to_string().contains("unable to lock file") && std::time::Instant::now() < give_up =>
            {
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            Err(e) => panic!("open for writing: {e}"),
        }
    }
}

/// Results as the engine will write them, in a `Log_Peak_Finding_NNN` group in `group`:
/// Peak_Indices (int32) and Peak_Frequencies (float64) over (positions…, others…, Peak),
/// Peak_Count (uint32) over (positions…, others…), each filled run by run with values made from
/// their flat index.
fn write_results(file: &Path, group: &str, axes: &ResultAxes) {
    let f = open_rw_when_unlocked(file);
    let parent = f.group(group).expect("the results' parent group");
    let log = create_results_group(&parent, "Peak_Finding").expect("the results group");
    usid_peaks::usid::write::write_str_attr(&log, "widths", "20:60:30").expect("a parameter");
    let count_dims = axes.dims.clone();
    let mut dims = count_dims.clone();
    dims.push(Dimension::new("Peak", "Peak", "a.u.", DimensionType::Unknown, vec![0.0, 1.0, 2.0]));
    let spec = |name, quantity, units, dims| NsidSpec {
        name,
        quantity,
        units,
        data_type: "SPECTRAL_IMAGE",
        modality: "Band Excitation",
        source: "usid-peaks tests",
        dims,
        chunk: None,
    };
    let indices = create_nsid_dataset::<i32>(&log, &spec("Peak_Indices", "Bin", "", &dims)).expect("indices");
    let freqs = create_nsid_dataset::<f64>(&log, &spec("Peak_Frequencies", "Frequency", &axes.units, &dims))
        .expect("freqs");
    let counts =
        create_nsid_dataset::<u32>(&log, &spec("Peak_Count", "Count", "", &count_dims)).expect("counts");
    let per = |d: &[Dimension]| d[axes.shape.len()..].iter().map(Dimension::size).product::<usize>();
    let (n, n_count) = (per(&dims), per(&count_dims));
    for r in runs(axes.n_positions) {
        let flat = r.start * n..r.end * n;
        let v: Vec<i32> = flat.clone().map(|i| i as i32).collect();
        write_positions(&indices, &axes.shape, r.clone(), &v).expect("write indices");
        let v: Vec<f64> = flat.map(|i| i as f64 * 0.5).collect();
        write_positions(&freqs, &axes.shape, r.clone(), &v).expect("write frequencies");
        let v: Vec<u32> = (r.start * n_count..r.end * n_count).map(|i| i as u32).collect();
        write_positions(&counts, &axes.shape, r.clone(), &v).expect("write counts");
    }
}

/// A copy of the map of `case` in the scratch directory, to write results into.
/// The `resume` map (large enough for a run to be stopped mid-run) copied to `map.h5` in a
/// temporary directory: the directory, the copy, and the copy's bytes as they were.
pub(crate) fn resume_map() -> (tempfile::TempDir, PathBuf, Vec<u8>) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("map.h5");
    std::fs::copy(map("resume"), &file).expect("copy the map");
    let source = std::fs::read(&file).expect("read the copy");
    (dir, file, source)
}

/// What a run resumed on [`resume_map`]'s copy in `dir` must say (`resumed`, its summary): some
/// positions but not all resumed, its results in `group`, the checkpoint gone. Returns a fresh
/// copy of the map in `dir` for the clean run to compare with.
pub(crate) fn check_resumed(resumed: &Value, dir: &Path, group: &str) -> PathBuf {
    let n = resumed["resumed"].as_u64().expect("resumed positions");
    assert!(n > 0 && n < 128 * 128, "resumed {n} of {} positions", 128 * 128);
    assert_eq!(resumed["group"], group);
    assert!(crate::util::side_files(dir, ".ckpt").is_empty(), "the checkpoint is removed once written");
    let clean = dir.join("clean.h5");
    std::fs::copy(map("resume"), &clean).expect("copy the map");
    clean
}

pub(crate) fn copy_of(case: &str, name: &str) -> PathBuf {
    let file = scratch(name);
    std::fs::copy(map(case), &file).expect("copy the map");
    file
}

#[test]
fn results_read_back_through_pynsid_with_their_dims_and_leave_the_source_readable() {
    let cases = [("complex3d", "Frequency"), ("beps4d", "Frequency"), ("interleaved", "Frequency")];
    let parent = results_parent(RAW).expect("a place beside the source");
    assert_eq!(parent, "/Measurement_000/Channel_000");
    let files: Vec<PathBuf> = cases
        .iter()
        .map(|(case, along)| {
            let file = copy_of(case, &format!("results-{case}.h5"));
            write_results(&file, &parent, &ResultAxes::of(&file, along));
            file
        })
        .collect();
    let log = "/Measurement_000/Channel_000/Log_Peak_Finding_000";
    for (((case, _), file), views) in cases.iter().zip(&files).zip(pynsid_views(&files)) {
        let paths: Vec<&str> = views.iter().map(|v| v["path"].as_str().expect("a path")).collect();
        let results = ["Peak_Count", "Peak_Frequencies", "Peak_Indices"].map(|n| format!("{log}/{n}/{n}"));
        assert_eq!(paths, [&results[..], &[RAW.to_string()]].concat(), "{case}");
        let ours = find_nsid_datasets(&open_file(file).expect("open")).expect("list");
        assert_eq!(ours, paths, "{case}: our list is pyNSID's");
        for view in &views {
            assert!(
                view.get("error").is_none(),
                "{case}: pyNSID cannot read {}: {}",
                view["path"],
                view["error"]
            );
            for axis in view["scales"].as_array().expect("scales") {
                assert_eq!(
                    (&axis["is_scale"], &axis["is_attached"]),
                    (&Value::Bool(true), &Value::Bool(true))
                );
                assert_eq!(axis["names"], serde_json::json!([axis["label"]]), "{case}: {view}");
            }
        }
        for (view, dtype) in views.iter().zip(["uint32", "float64", "int32"]) {
            check_result(case, file, view, dtype);
        }
        let names: Vec<&str> = views[2]["dims"]
            .as_array()
            .expect("dims")
            .iter()
            .map(|d| d["name"].as_str().expect("name"))
            .collect();
        let expected: &[&str] =
            if *case == "complex3d" { &["y", "x", "Peak"] } else { &["y", "x", "DC_Offset", "Peak"] };
        assert_eq!(names, expected, "{case}");
        let _ = std::fs::remove_file(file);
    }
}

/// One results dataset of `file`: stored as `dtype`, NSID to us with pyNSID's dims, positions
/// leading, its values (written run by run) their flat index.
fn check_result(case: &str, file: &Path, view: &Value, dtype: &str) {
    let path = view["path"].as_str().expect("path");
    assert_eq!(view["dtype"], dtype, "{case}:{path}: h5py's stored type");
    let back =
        NsidDataset::open(&open_file(file).expect("open"), path).expect("our results are NSID to us too");
    let dims = view["dims"].as_array().expect("dims");
    assert_eq!(back.dims.len(), dims.len());
    for (d, theirs) in back.dims.iter().zip(dims) {
        assert_eq!(d.name, theirs["name"]);
        assert_eq!(d.units, theirs["units"]);
        assert_eq!(d.quantity, theirs["quantity"]);
        assert_eq!(d.dimension_type.name(), theirs["dimension_type"]);
        assert_eq!(d.values, values_of(theirs));
    }
    let spatial: Vec<&str> = back.dims.iter().take(2).map(|d| d.name.as_str()).collect();
    assert_eq!(spatial, ["y", "x"], "{case}:{path}: positions lead the results");
    let data = back.dataset().read_raw::<f64>().expect("read back");
    let scale = if dtype == "float64" { 0.5 } else { 1.0 };
    assert!(data.iter().enumerate().all(|(i, &v)| v == i as f64 * scale), "{case}:{path}");
}

#[test]
fn a_results_group_inside_the_sources_group_breaks_pynsid_reading_the_source() {
    // Why results_parent puts them one level up: pyNSID's reader walks the groups beside the
    // dataset it reads and fails on one holding datasets.
    let file = copy_of("complex3d", "results-inside.h5");
    write_results(&file, "/Measurement_000/Channel_000/Raw_Data", &ResultAxes::of(&file, "Frequency"));
    let views = pynsid_views(std::slice::from_ref(&file)).swap_remove(0);
    let raw = views.iter().find(|v| v["path"] == RAW).expect("pyNSID still lists the source");
    let error = raw["error"].as_str().expect("but cannot read it");
    assert!(error.starts_with("TypeError: we need a h5py group to read from"), "{error}");
    let _ = std::fs::remove_file(file);
}

#[test]
fn results_have_no_place_beside_a_dataset_in_the_root_group() {
    let e = results_parent("/Raw_Data").expect_err("no place");
    assert_one_line(&e, Class::Output, "/Raw_Data: results cannot go beside a dataset in the root group");
    assert_eq!(results_parent("/Raw_Data/Raw_Data").expect("the root"), "/");
}
