//! `usid-peaks generate`: the synthetic map is a USID main dataset pyUSID accepts, the seed pins the
//! data, and bad parameters end in one line on stderr.
use std::path::Path;
use std::process::Output;

use num_complex::Complex32;
use serde_json::json;

use crate::util::{self, assert_one_line_error, run, s, RAW};

/// `usid-peaks generate OUT ARGS`, whatever its exit.
fn generate(out: &Path, args: &[&str]) -> Output {
    run(&[&["generate", s(out)][..], args].concat())
}

fn data(file: &Path) -> Vec<Complex32> {
    let f = hdf5::File::open(file).expect("open the generated file");
    f.dataset(RAW).and_then(|d| d.read_raw::<Complex32>()).expect("read Raw_Data")
}

#[test]
fn generated_map_is_a_main_dataset_with_x_fastest_and_pyusid_reshapes_it_to_rows_cols_bins() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("small.h5");
    // Rows ≠ cols so that swapping X and Y cannot pass.
    let out = generate(&file, &["--rows", "6", "--cols", "5", "--bins", "17", "--seed", "3"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let v = util::check(&file, RAW, &["--ndim"]);
    assert_eq!(v["is_main"], json!(true), "{v}");
    assert_eq!(v["dtype"], json!("complex64"));
    assert_eq!(v["shape"], json!([30, 17]));
    assert_eq!(v["quantity_attr"], json!("Cantilever Vertical Deflection"));
    assert_eq!(v["units"], json!("V"));
    // pyUSID 0.0.12 stores dimensions slowest first.
    assert_eq!(v["pos_dims"], json!([["Y", "m", 6], ["X", "m", 5]]));
    assert_eq!(v["spec_dims"], json!([["Frequency", "Hz", 17]]));
    assert_eq!(v["pos_values_dtype"], json!("float32"));
    assert_eq!(v["pos_indices_dtype"], json!("uint32"));
    assert_eq!(v["n_dim_shape"], json!([6, 5, 17]));

    let attrs = util::check(&file, "/Measurement_000", &["--attrs"]);
    assert_eq!(attrs["data_type"], json!("BELineData"));
    assert_eq!(attrs["grid_num_rows"], json!(6));
    assert_eq!(attrs["grid_num_cols"], json!(5));
}

#[test]
fn default_map_is_128_by_128_by_119_and_has_the_readme_pixel_with_a_single_peak() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("default.h5");
    let out = generate(&file, &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = util::check(&file, RAW, &[]);
    assert_eq!(v["is_main"], json!(true));
    assert_eq!(v["shape"], json!([128 * 128, 119]));
    assert_eq!(v["pos_dims"], json!([["Y", "m", 128], ["X", "m", 128]]));

    let d = data(&file);
    let pixel = &d[(19 + 103 * 128) * 119..(20 + 103 * 128) * 119];
    let amp: Vec<f32> = pixel.iter().map(|z| z.norm()).collect();
    let max = amp.iter().cloned().fold(0.0f32, f32::max);
    let above: Vec<usize> = (0..119).filter(|&i| amp[i] > max / 2.0).collect();
    // One contiguous run above half maximum, 20-60 bins wide, away from the band edges.
    assert!((20..=60).contains(&above.len()), "FWHM {} bins", above.len());
    assert_eq!(above.last().unwrap() - above[0] + 1, above.len(), "one peak: {above:?}");
    assert!(above[0] > 0 && *above.last().unwrap() < 118);

    let dead = d.chunks(119).filter(|s| s.iter().all(|z| z.re == 0.0 && z.im == 0.0)).count();
    assert!((1..=20).contains(&dead), "{dead} dead pixels");
}

#[test]
fn same_seed_gives_the_same_data_and_another_seed_different_data() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (dir.path().join("a.h5"), dir.path().join("b.h5"), dir.path().join("c.h5"));
    let args = ["--rows", "40", "--cols", "33", "--bins", "25"];
    for (f, seed) in [(&a, "7"), (&b, "7"), (&c, "8")] {
        let out = generate(f, &[&args[..], &["--seed", seed]].concat());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let (da, db, dc) = (data(&a), data(&b), data(&c));
    assert!(da
        .iter()
        .zip(&db)
        .all(|(x, y)| x.re.to_bits() == y.re.to_bits() && x.im.to_bits() == y.im.to_bits()));
    assert_ne!(da, dc);
}

#[test]
fn data_does_not_depend_on_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("one.h5"), dir.path().join("many.h5"));
    for (f, threads) in [(&a, "1"), (&b, "3")] {
        let out = crate::util::command(util::BIN)
            .env("RAYON_NUM_THREADS", threads)
            .args(["generate", "--rows", "20", "--cols", "21", "--bins", "9"])
            .arg(f)
            .output()
            .unwrap();
        assert!(out.status.success());
    }
    assert_eq!(data(&a), data(&b));
}

#[test]
fn zero_sizes_are_usage_errors_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.h5");
    for flag in ["--rows", "--cols", "--bins"] {
        let out = generate(&file, &[flag, "0"]);
        assert_one_line_error(&out, 2, flag);
        assert!(!file.exists());
    }
}

#[test]
fn unwritable_paths_are_output_errors_naming_the_file_and_leave_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no/such/dir/x.h5");
    assert_one_line_error(&generate(&missing, &[]), 4, &missing.display().to_string());

    // A regular file where a directory should be: ENOTDIR even for root.
    let plain = dir.path().join("plain");
    std::fs::write(&plain, b"").unwrap();
    let under_file = plain.join("x.h5");
    assert_one_line_error(&generate(&under_file, &[]), 4, &under_file.display().to_string());

    assert_one_line_error(&generate(dir.path(), &[]), 4, "is a directory");

    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, vec![std::ffi::OsString::from("plain")], "no temporary files left");
}
