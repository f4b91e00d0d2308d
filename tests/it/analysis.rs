//! Every `Analysis` is held to the engine's promises by `compute::check_analysis`: the same items
//! whatever the batches and threads, and a results group of valid USID main datasets. Peak
//! finding and the one-file example `examples/argmax.rs` pass it, and pyUSID reads the example's
//! group.

// The example is the file under test (an example target cannot be linked as a library).
#[path = "../../examples/argmax.rs"]
mod argmax;

use crate::util::{self, ok, s};
use usid_peaks::compute::{check_analysis, World};
use usid_peaks::peaks::{PeakFinding, PeakParams};

/// A 9 × 11 map (99 pixels: batches of 7 leave a remainder) with `extra` generator options.
fn map(dir: &std::path::Path, extra: &[&str]) -> std::path::PathBuf {
    let file = dir.join("map.h5");
    ok(&[&["generate", s(&file), "--rows", "9", "--cols", "11"][..], extra].concat());
    file
}

#[test]
fn peak_finding_passes_check_analysis_on_beline_and_beps_maps() {
    let dir = tempfile::tempdir().unwrap();
    let world = World::init().unwrap();
    for extra in [&[][..], &["--spec-dims", "Frequency:119,DC_Offset:3"]] {
        let file = map(dir.path(), extra);
        let out = dir.path().join("peaks.h5");
        let _ = std::fs::remove_file(&out);
        let checked =
            check_analysis(&world, &file, &out, |spectra| PeakFinding::new(spectra, PeakParams::default()))
                .unwrap_or_else(|e| panic!("{extra:?}: {e}"));
        let per_pixel = if extra.is_empty() { 1 } else { 3 };
        assert_eq!(checked.spectra, 99 * per_pixel);
        assert!(checked.items >= checked.spectra / 2, "peaks found: {}", checked.items);
        assert_eq!(checked.main_datasets.len(), 3, "{:?}", checked.main_datasets);
    }
}

#[test]
fn argmax_example_passes_check_analysis_and_pyusid_reads_its_group() {
    let dir = tempfile::tempdir().unwrap();
    let file = map(dir.path(), &[]);
    let out = dir.path().join("argmax.h5");
    let world = World::init().unwrap();
    let checked = check_analysis(&world, &file, &out, argmax::ArgMax::new).unwrap();
    assert_eq!(checked.spectra, 99);
    assert_eq!(checked.items, 99, "one bin per spectrum");
    let v = util::check(&out, &format!("{}/Max_Bin", checked.group), &["--ndim"]);
    assert_eq!(v["is_main"], true, "{v}");
    assert_eq!(v["n_dim_shape"], serde_json::json!([9, 11, 1]), "{v}");
}

/// An analysis that breaks the contract: each spectrum's item is the size of the block it came in.
struct BlockSize(usize);

impl usid_peaks::compute::Analysis for BlockSize {
    type Item = u32;
    type Scratch = ();
    fn name(&self) -> &str {
        "Block_Size"
    }
    fn parameters(&self) -> Vec<(String, usid_peaks::compute::Param)> {
        Vec::new()
    }
    fn new_scratch(&self) {}
    fn process(
        &self,
        rows: usid_peaks::compute::Rows<'_>,
        _: &mut (),
        out: &mut usid_peaks::compute::RowItems<u32>,
    ) {
        let n = rows.len() / self.0;
        for _ in 0..n {
            out.push_row(&[n as u32]);
        }
    }
    fn write(
        &self,
        _: &usid_peaks::compute::RowItems<u32>,
        _: &usid_peaks::compute::WriteTarget<'_>,
    ) -> Result<(), usid_peaks::usid::UsidError> {
        Ok(())
    }
}

#[test]
fn an_analysis_whose_items_depend_on_the_batch_fails_check_analysis() {
    let dir = tempfile::tempdir().unwrap();
    let file = map(dir.path(), &[]);
    let world = World::init().unwrap();
    let err =
        check_analysis(&world, &file, &dir.path().join("bad.h5"), |spectra| Ok(BlockSize(spectra.len())))
            .expect_err("batch-dependent items must fail");
    assert!(err.contains("gives other items than batches of 1 pixels on 1 threads"), "{err}");
}
