//! `usid-peaks inspect`: what it prints for a pyUSID file, and one clear line (exit 3, no panic)
//! for each kind of bad input.
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use crate::util::{assert_one_line_error, run, s, scratch, write_with_pyusid, RAW};

/// A pyUSID file: complex64, position dims Y (3) × X (5), spectroscopic Frequency (7); and a
/// plain dataset `Not_Main` beside the main one. Written once per test binary.
fn pyusid_file() -> &'static Path {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        let path = scratch("inspect.h5");
        write_with_pyusid(&path, &["--dtype", "complex64", "--pos-dims", "2", "--spec-dims", "1"]);
        path
    })
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn lists_each_main_dataset_with_shape_dtype_and_quantity() {
    let out = run(&["inspect", s(pyusid_file())]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 1, "one main dataset: {text}");
    for part in [RAW, "(15, 7)", "complex64", "Amplitude (a.u.)"] {
        assert!(text.contains(part), "{part:?} missing from: {text}");
    }
    assert!(!text.contains("Not_Main"));
}

#[test]
fn describes_one_dataset_like_usidataset() {
    let out = run(&["inspect", s(pyusid_file()), RAW]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = stdout(&out);
    for part in [
        RAW,
        "Amplitude (a.u.)",
        "complex64",
        "(15, 7)",
        "Y (m) - size: 3",
        "X (m) - size: 5",
        "Frequency (Hz) - size: 7",
    ] {
        assert!(text.contains(part), "{part:?} missing from: {text}");
    }
}

#[test]
fn json_of_one_dataset_has_the_documented_fields() {
    let out = run(&["inspect", s(pyusid_file()), RAW, "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["path"], RAW);
    assert_eq!(v["dtype"], "complex64");
    assert_eq!(v["shape"], serde_json::json!([15, 7]));
    assert_eq!(v["position_dims"][1], serde_json::json!({"name": "X", "units": "m", "size": 5}));
    assert_eq!(v["spectroscopic_dims"][0]["name"], "Frequency");
    assert_eq!(v["ancillary"]["position_indices"], "/Measurement_000/Channel_000/Position_Indices");
}

#[test]
fn help_documents_the_json_forms() {
    let out = run(&["inspect", "--help"]);
    let text = stdout(&out);
    assert!(text.contains("main_datasets") && text.contains("position_dims"), "{text}");
}

#[test]
fn file_without_main_datasets_lists_nothing_and_says_so() {
    let path = scratch("plain.h5");
    {
        let f = hdf5::File::create(&path).expect("create");
        f.new_dataset::<f32>().shape((2, 3)).create("plain").expect("dataset");
    }
    let out = run(&["inspect", s(&path), "--json"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["main_datasets"], serde_json::json!([]));
    assert!(String::from_utf8_lossy(&out.stderr).contains("holds no USID main dataset"));
}

#[test]
fn missing_file_is_one_line() {
    let out = run(&["inspect", "/no/such/dir/file.h5"]);
    assert!(assert_one_line_error(&out, 3, "").ends_with("/no/such/dir/file.h5: no such file"));
}

#[test]
fn directory_is_one_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run(&["inspect", s(dir.path())]);
    assert!(assert_one_line_error(&out, 3, "").ends_with(": is a directory, not an HDF5 file"));
}

#[test]
fn non_hdf5_file_is_one_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("notes.h5");
    std::fs::write(&path, "x,y\n1,2\n".repeat(200)).expect("write");
    let out = run(&["inspect", s(&path)]);
    assert!(assert_one_line_error(&out, 3, "").ends_with(": not an HDF5 file (no HDF5 signature)"));
}

#[test]
fn truncated_hdf5_file_is_one_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = std::fs::read(pyusid_file()).expect("read the fixture");
    for keep in [bytes.len() / 2, 600, 9] {
        let path = dir.path().join(format!("cut{keep}.h5"));
        std::fs::write(&path, &bytes[..keep]).expect("write");
        let out = run(&["inspect", s(&path), RAW]);
        let line = assert_one_line_error(&out, 3, "");
        assert!(line.contains("truncated or corrupt"), "{line}");
    }
}

#[test]
fn dataset_that_does_not_exist_is_one_line() {
    let out = run(&["inspect", s(pyusid_file()), "/Measurement_000/Nope"]);
    assert_one_line_error(&out, 3, "/Measurement_000/Nope does not exist in ");
}

#[test]
fn group_is_one_line() {
    let out = run(&["inspect", s(pyusid_file()), "/Measurement_000"]);
    assert!(assert_one_line_error(&out, 3, "").ends_with("is a group, not a dataset"));
}

#[test]
fn non_main_dataset_is_one_line_naming_what_is_missing() {
    let path = "/Measurement_000/Channel_000/Not_Main";
    let out = run(&["inspect", s(pyusid_file()), path]);
    assert_eq!(
        assert_one_line_error(&out, 3, ""),
        format!("usid-peaks: error: {path} is not a USID main dataset: attribute Position_Indices missing")
    );
}
