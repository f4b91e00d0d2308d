//! Files written by pyUSID itself are read by `usid-peaks inspect` (and the library) with the
//! dimensions, sizes, element type and shape that pyUSID's USIDataset reports.
use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::Value;
use usid_peaks::usid::{open_file, MainDataset};

use crate::util::{ok, scratch, summary, write_with_pyusid};

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
