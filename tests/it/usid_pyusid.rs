//! Files written by pyUSID itself are read by `usid-peaks inspect` (and the library) with the
//! dimensions, sizes, element type and shape that pyUSID's USIDataset reports; whatever pyUSID
//! accepts as a main dataset, in every variety of file we have, `inspect` lists and `find` reads
//! exactly, or names the one reason it cannot.
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;
use usid_peaks::usid::{open_file, MainDataset};

use crate::util::{
    assert_one_line_error, generate, ok, repo, run, s, scratch, script, summary, write_with_pyusid,
};

/// One file, several pyUSID main datasets: float32 and complex64 with 1 to 3 position dims and 1
/// to 3 spectroscopic dims, plus float64 and uint16. Written once per test binary (pyUSID is slow
/// to start).
fn fixture() -> &'static (PathBuf, Vec<Value>) {
    static FIXTURE: OnceLock<(PathBuf, Vec<Value>)> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let path = scratch("pyusid_channels.h5");
        let channels = [
            "float32:1:1",
            "complex64:1:2",
            "float32:2:1",
            "complex64:2:2",
            "float32:3:3",
            "complex64:3:1",
            "float64:2:1",
            "uint16:1:1",
        ];
        let mut args = Vec::new();
        for c in channels {
            args.extend(["--channel", c]);
        }
        let view = write_with_pyusid(&path, &args);
        let list = view.as_array().expect("a list of main datasets").clone();
        assert_eq!(list.len(), channels.len(), "pyUSID lists every channel");
        (path, list)
    })
}

fn inspect_json(args: &[&str]) -> Value {
    summary(&ok(args))
}

/// The fields inspect --json shares with pyUSID's view.
const SHARED: [&str; 7] =
    ["path", "quantity", "units", "dtype", "shape", "position_dims", "spectroscopic_dims"];

#[test]
fn inspect_json_of_each_pyusid_dataset_matches_usidataset() {
    let (path, views) = fixture();
    let file = path.to_str().expect("a UTF-8 scratch path");
    for view in views {
        let dset = view["path"].as_str().expect("a path");
        let ours = inspect_json(&["inspect", file, dset, "--json"]);
        for key in SHARED {
            assert_eq!(ours[key], view[key], "{dset}: {key} differs from pyUSID's");
        }
    }
}

#[test]
fn inspect_json_lists_the_main_datasets_pyusid_finds_in_its_order() {
    let (path, views) = fixture();
    let file = path.to_str().expect("a UTF-8 scratch path");
    let listing = inspect_json(&["inspect", file, "--json"]);
    let ours = listing["main_datasets"].as_array().expect("main_datasets is a list");
    assert_eq!(ours.len(), views.len());
    for (o, view) in ours.iter().zip(views) {
        for key in SHARED {
            assert_eq!(o[key], view[key], "{}: {key} differs from pyUSID's", view["path"]);
        }
    }
}

#[test]
fn library_reads_pyusid_ancillary_values() {
    let (path, views) = fixture();
    let file = open_file(path).expect("open the pyUSID file");
    for view in views {
        let dset = view["path"].as_str().expect("a path");
        let m = MainDataset::open(&file, dset).expect("a main dataset");
        let as_rows = |v: &Value| -> Vec<Vec<f64>> {
            v.as_array()
                .expect("rows")
                .iter()
                .map(|r| r.as_array().expect("a row").iter().map(|x| x.as_f64().expect("a number")).collect())
                .collect()
        };
        let rows =
            |a: ndarray::Array2<f64>| -> Vec<Vec<f64>> { a.outer_iter().map(|r| r.to_vec()).collect() };
        assert_eq!(rows(m.position_values().expect("position values")), as_rows(&view["position_values"]));
        assert_eq!(
            rows(m.spectroscopic_values().expect("spectroscopic values")),
            as_rows(&view["spectroscopic_values"])
        );
    }
}

// ---- every variety of file: what pyUSID accepts, usid-peaks lists (and reads exactly) ----------

/// A pyUSID file of `args` (tests/reference/pyusid_write.py's options) in `dir`.
fn pyusid_file(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let path = dir.join(name);
    write_with_pyusid(&path, args);
    path
}

/// The ancillary datasets stored as other integer and float types than pyUSID's uint32 indices
/// and float32 values (float16 values among them), one option set per file.
const ANCILLARY_TYPES: [&[&str]; 3] = [
    &[
        "--anc-dtype",
        "Position_Indices=int8",
        "--anc-dtype",
        "Position_Values=float16",
        "--anc-dtype",
        "Spectroscopic_Indices=int64",
        "--anc-dtype",
        "Spectroscopic_Values=float16",
    ],
    &[
        "--anc-dtype",
        "Position_Indices=float32",
        "--anc-dtype",
        "Position_Values=int16",
        "--anc-dtype",
        "Spectroscopic_Indices=uint16",
        "--anc-dtype",
        "Spectroscopic_Values=float64",
    ],
    &[
        "--anc-dtype",
        "Position_Indices=uint64",
        "--anc-dtype",
        "Position_Values=float64",
        "--anc-dtype",
        "Spectroscopic_Indices=float64",
        "--anc-dtype",
        "Spectroscopic_Values=int32",
    ],
];

/// Every element type pyUSID writes (numpy's names), float16 among them, one channel each; the
/// NSID tests hold pyNSID's maps to the same names.
pub(crate) const ELEMENT_TYPES: [&str; 13] = [
    "float16",
    "float32",
    "float64",
    "complex64",
    "complex128",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
];

/// The files of every variety the tests have, written once per test binary: the committed
/// release fixtures, maps usid-peaks generates with the results groups `find` adds, and files
/// pyUSID writes — every element type, BEPS, gzip-chunked, float16 data, ancillary datasets of
/// other types, and (`ancillary_0.h5`) a float16 frequency axis that overflowed to inf: a main
/// dataset for pyUSID, which `find` refuses. The tests only read them.
fn every_variety() -> &'static [PathBuf] {
    static FILES: OnceLock<(tempfile::TempDir, Vec<PathBuf>)> = OnceLock::new();
    &FILES
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let files = write_every_variety(dir.path());
            (dir, files)
        })
        .1
}

fn write_every_variety(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> =
        ["beline.h5", "beps.h5"].iter().map(|n| repo().join("tests/fixtures/compat").join(n)).collect();
    let beline = generate(dir, "generated.h5", 6, 7, 3);
    ok(&["find", s(&beline), "-q", "--widths", "2:8:7"]);
    ok(&["find", s(&beline), "-q", "--force"]);
    files.push(beline);
    let beps = dir.join("generated_beps.h5");
    ok(&["generate", s(&beps), "--rows", "3", "--cols", "4", "--spec-dims", "Frequency:40,DC_Offset:3"]);
    ok(&["find", s(&beps), "-q", "--widths", "2:8:7"]);
    files.push(beps);
    let mut channels = Vec::new();
    for (k, t) in ELEMENT_TYPES.iter().enumerate() {
        channels.extend(["--channel".to_string(), format!("{t}:{}:{}", k % 3 + 1, (k + 1) % 3 + 1)]);
    }
    let channels: Vec<&str> = channels.iter().map(String::as_str).collect();
    files.push(pyusid_file(dir, "every_type.h5", &channels));
    let spec = ["--spec", "Frequency:40,DC_Offset:3", "--rows", "4", "--cols", "5"];
    files.push(pyusid_file(dir, "beps_gzip.h5", &[&spec[..], &["--gzip"]].concat()));
    files.push(pyusid_file(dir, "beps_f16.h5", &[&spec[..], &["--dtype", "float16"]].concat()));
    files.push(pyusid_file(
        dir,
        "beps_f16_gzip.h5",
        &[&spec[..], &["--dtype", "float16", "--gzip"]].concat(),
    ));
    for (k, types) in ANCILLARY_TYPES.iter().enumerate() {
        let spec = ["--spec", "Frequency:40", "--dtype", "float32", "--rows", "4", "--cols", "5"];
        files.push(pyusid_file(dir, &format!("ancillary_{k}.h5"), &[&spec[..], types].concat()));
    }
    files
}

/// The file of [`every_variety`] named `name`.
fn variety(name: &str) -> &'static Path {
    every_variety().iter().find(|f| f.ends_with(name)).expect("a file of every_variety")
}

#[test]
fn inspect_lists_exactly_the_main_datasets_get_all_main_finds_in_every_variety_of_file() {
    for file in every_variety() {
        let theirs = script("pyusid_read.py", &[file.as_os_str(), "--all-main".as_ref()]);
        let listing = inspect_json(&["inspect", s(file), "--json"]);
        let ours: Vec<Value> = listing["main_datasets"]
            .as_array()
            .expect("main_datasets is a list")
            .iter()
            .map(|m| m["path"].clone())
            .collect();
        assert_eq!(Value::from(ours), theirs, "{}: inspect's list against get_all_main's", file.display());
        for m in listing["main_datasets"].as_array().unwrap() {
            assert!(m.get("error").is_none(), "{}: usid-peaks cannot read {m}", file.display());
        }
    }
}

/// float16 data (plain and gzip-chunked) and ancillary datasets of other integer and float types
/// are read exactly: every spectrum's peaks are scipy's on the values h5py reads.
#[test]
fn float16_data_and_ancillary_datasets_of_any_type_give_scipys_peaks() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["beps_f16.h5", "beps_f16_gzip.h5", "ancillary_1.h5", "ancillary_2.h5"] {
        let (file, out) = (variety(name), dir.path().join(name));
        let run = ok(&["find", s(file), "-q", "--json", "--widths", "2:8:7", "-o", s(&out)]);
        let group = summary(&run)["group"].as_str().expect("a group").to_string();
        let cmp = script(
            "scipy_peaks.py",
            &[out.as_os_str(), group.as_ref(), "--source".as_ref(), file.as_os_str()],
        );
        assert_eq!(cmp["mismatches"], 0, "{name}: {cmp}");
    }
}

/// A frequency axis in Hz stored as float16 is all inf: pyUSID lists the dataset, `find` names
/// the one reason it cannot analyse it.
#[test]
fn a_float16_axis_that_overflowed_is_one_line_and_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["find", s(variety("ancillary_0.h5")), "-q", "-o", s(&dir.path().join("out.h5"))]);
    let line = assert_one_line_error(&out, 3, "not finite");
    assert!(line.contains("Frequency is inf at bin 0") && line.contains("float16"), "{line}");
}
