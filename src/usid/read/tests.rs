//! The validation of main datasets against pyUSID's rules, one failure at a time, on small
//! files written here (fixed-length and variable-length strings, as numpy and h5py write them).
use std::path::Path;

use super::dims::sort_distinct;
use super::file::HDF5_SIGNATURE;
use super::*;
use hdf5::types::{FixedAscii, VarLenUnicode};
use hdf5::ObjectReference1;
use ndarray::{arr2, Array2};

/// How the test file's string arrays are stored: numpy's fixed-length bytes or h5py's
/// variable-length str.
#[derive(Clone, Copy)]
enum Strings {
    Fixed,
    VarLen,
}

fn write_strings(loc: &hdf5::Location, name: &str, items: &[&str], how: Strings) {
    match how {
        Strings::Fixed => {
            let v: Vec<FixedAscii<10>> =
                items.iter().map(|s| FixedAscii::from_ascii(s.as_bytes()).unwrap()).collect();
            loc.new_attr::<FixedAscii<10>>().shape(v.len()).create(name).unwrap().write_raw(&v).unwrap();
        }
        Strings::VarLen => {
            let v: Vec<VarLenUnicode> = items.iter().map(|s| s.parse().unwrap()).collect();
            loc.new_attr::<VarLenUnicode>().shape(v.len()).create(name).unwrap().write_raw(&v).unwrap();
        }
    }
}

fn write_scalar_string(loc: &hdf5::Location, name: &str, value: &str) {
    let v: VarLenUnicode = value.parse().unwrap();
    loc.new_attr::<VarLenUnicode>().create(name).unwrap().write_scalar(&v).unwrap();
}

fn link(main: &Dataset, name: &str, target: &str) {
    let file = main.file().unwrap();
    let r: ObjectReference1 = file.reference(target).unwrap();
    main.new_attr::<ObjectReference1>().create(name).unwrap().write_scalar(&r).unwrap();
}

/// Give `main` the four references (to the ancillary datasets in the group `anc_group`) and
/// its quantity and units.
fn link_main(main: &Dataset, anc_group: &str) {
    for name in ["Position_Indices", "Position_Values", "Spectroscopic_Indices", "Spectroscopic_Values"] {
        link(main, name, &format!("{anc_group}/{name}"));
    }
    write_scalar_string(main, "quantity", "Amplitude");
    write_scalar_string(main, "units", "V");
}

fn anc(group: &hdf5::Group, name: &str, data: &Array2<f64>, labels: &[&str], units: &[&str], how: Strings) {
    let ds = group.new_dataset_builder().with_data(data).create(name).unwrap();
    write_strings(&ds, "labels", labels, how);
    write_strings(&ds, "units", units, how);
}

/// A small valid USID file: 3 × 2 positions (X fastest) × 4 frequency bins of f32, at
/// `/Measurement_000/Channel_000/Raw_Data`, plus a plain dataset `Not_Main`.
fn valid_file(dir: &Path, how: Strings) -> std::path::PathBuf {
    let path = dir.join("valid.h5");
    let file = hdf5::File::create(&path).unwrap();
    let g = file.create_group("Measurement_000").unwrap().create_group("Channel_000").unwrap();
    let pos_inds = arr2(&[[0., 0.], [1., 0.], [2., 0.], [0., 1.], [1., 1.], [2., 1.]]);
    anc(&g, "Position_Indices", &pos_inds, &["X", "Y"], &["m", "m"], how);
    anc(&g, "Position_Values", &(&pos_inds * 0.5), &["X", "Y"], &["m", "m"], how);
    let spec_inds = arr2(&[[0., 1., 2., 3.]]);
    anc(&g, "Spectroscopic_Indices", &spec_inds, &["Frequency"], &["Hz"], how);
    anc(&g, "Spectroscopic_Values", &(&spec_inds * 10.0 + 300.0), &["Frequency"], &["Hz"], how);
    let main = g.new_dataset_builder().with_data(&Array2::<f32>::zeros((6, 4))).create("Raw_Data").unwrap();
    link_main(&main, "/Measurement_000/Channel_000");
    g.new_dataset_builder().with_data(&Array2::<f32>::zeros((6, 4))).create("Not_Main").unwrap();
    path
}

const RAW: &str = "/Measurement_000/Channel_000/Raw_Data";

fn open_rw(path: &Path) -> hdf5::File {
    hdf5::File::open_rw(path).unwrap()
}

/// Change the main dataset of a [`valid_file`] in place.
fn edit_main(path: &Path, edit: impl FnOnce(&Dataset)) {
    edit(&open_rw(path).dataset(RAW).unwrap());
}

fn open_err(path: &Path, dset: &str) -> String {
    let file = open_file(path).unwrap();
    MainDataset::open(&file, dset).unwrap_err().to_string()
}

#[test]
fn valid_main_dataset_has_pyusid_dims_and_sizes() {
    for how in [Strings::Fixed, Strings::VarLen] {
        let dir = tempfile::tempdir().unwrap();
        let file = open_file(&valid_file(dir.path(), how)).unwrap();
        let m = MainDataset::open(&file, "Measurement_000/Channel_000/Raw_Data").unwrap();
        assert_eq!(m.path, RAW);
        assert_eq!((m.quantity.as_str(), m.units.as_str()), ("Amplitude", "V"));
        assert_eq!(m.dtype, ElementType::Float32);
        assert_eq!(m.shape(), [6, 4]);
        let dim = |name: &str, units: &str, size| Dim { name: name.into(), units: units.into(), size };
        assert_eq!(m.position_dims, vec![dim("X", "m", 3), dim("Y", "m", 2)]);
        assert_eq!(m.spectroscopic_dims, vec![dim("Frequency", "Hz", 4)]);
        assert_eq!(m.position_values().unwrap()[[5, 0]], 1.0);
        assert_eq!(m.spectroscopic_values().unwrap().row(0).to_vec(), vec![300., 310., 320., 330.]);
        assert_eq!(m.spectroscopic_axis(0).unwrap().to_vec(), vec![300., 310., 320., 330.]);
        assert!(m.spectroscopic_axis(1).is_err());
        assert_eq!(m.position_indices_path(), "/Measurement_000/Channel_000/Position_Indices");
        assert_eq!(m.spectroscopic_values_path(), "/Measurement_000/Channel_000/Spectroscopic_Values");
    }
}

#[test]
fn dimension_sizes_count_every_block_of_a_long_index_table() {
    // 371 × 367 pixels: more than two blocks of the index table (so the values are reduced
    // to their distinct ones once on the way and once at the end), and a size in each
    // dimension that a count of the first block alone would get wrong.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("map.h5");
    let params =
        crate::usid::generate::GenerateParams { rows: 371, cols: 367, bins: 3, dc_steps: 5, seed: 1 };
    crate::usid::generate::generate(&path, &params).unwrap();
    let file = open_file(&path).unwrap();
    let m = MainDataset::open(&file, RAW).unwrap();
    let mut sizes: Vec<(String, usize)> = m.position_dims.iter().map(|d| (d.name.clone(), d.size)).collect();
    sizes.sort();
    assert_eq!(sizes, vec![("X".to_string(), 367), ("Y".to_string(), 371)]);
    let spec: Vec<usize> = m.spectroscopic_dims.iter().map(|d| d.size).collect();
    assert_eq!(spec.iter().product::<usize>(), 15);
    assert!(spec.contains(&5) && spec.contains(&3), "{spec:?}");
}

#[test]
fn find_lists_main_datasets_once_and_skips_plain_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = valid_file(dir.path(), Strings::Fixed);
    {
        let f = open_rw(&path);
        // A second hard link to the same main dataset is the same object: listed once, under
        // the first name met (as h5py's visititems does), here the original one.
        f.link_hard(RAW, "/Z_Alias").unwrap();
        // Soft links are not followed.
        f.link_soft(RAW, "/A_Soft").unwrap();
    }
    let file = open_file(&path).unwrap();
    assert_eq!(find_main_datasets(&file).unwrap(), vec![RAW.to_string()]);
}

#[test]
fn missing_reference_attribute_is_named_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let path = valid_file(dir.path(), Strings::Fixed);
    open_rw(&path).dataset(RAW).unwrap().delete_attr("Position_Indices").unwrap();
    assert_eq!(
        open_err(&path, RAW),
        "/Measurement_000/Channel_000/Raw_Data is not a USID main dataset: attribute Position_Indices missing"
    );
    let file = open_file(&path).unwrap();
    assert!(find_main_datasets(&file).unwrap().is_empty());
}

#[test]
fn missing_quantity_and_non_string_units_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = valid_file(dir.path(), Strings::Fixed);
    open_rw(&path).dataset(RAW).unwrap().delete_attr("quantity").unwrap();
    assert!(open_err(&path, RAW).ends_with("attribute quantity missing"));
    edit_main(&path, |ds| {
        write_scalar_string(ds, "quantity", "Amplitude");
        ds.delete_attr("units").unwrap();
        ds.new_attr::<f64>().create("units").unwrap().write_scalar(&1.0).unwrap();
    });
    let e = open_err(&path, RAW);
    assert!(e.contains("attribute units is not a string"), "{e}");
}

#[test]
fn wrong_rank_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = valid_file(dir.path(), Strings::Fixed);
    open_rw(&path)
        .new_dataset_builder()
        .with_data(&ndarray::Array3::<f32>::zeros((2, 3, 4)))
        .create("Cube")
        .unwrap();
    let e = open_err(&path, "/Cube");
    assert_eq!(e, "/Cube is not a USID main dataset: it is 3-D (shape (2, 3, 4)), a main dataset is 2-D (positions × bins)");
}

#[test]
fn ancillary_shape_mismatch_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = valid_file(dir.path(), Strings::Fixed);
    {
        let f = open_rw(&path);
        let g = f.group("Measurement_000/Channel_000").unwrap();
        g.unlink("Position_Values").unwrap();
        anc(&g, "Position_Values", &Array2::zeros((5, 2)), &["X", "Y"], &["m", "m"], Strings::Fixed);
        let ds = f.dataset(RAW).unwrap();
        ds.delete_attr("Position_Values").unwrap();
        link(&ds, "Position_Values", "/Measurement_000/Channel_000/Position_Values");
    }
    let e = open_err(&path, RAW);
    assert!(e.ends_with("has shape (6, 2) but Position_Values (/Measurement_000/Channel_000/Position_Values) has shape (5, 2)"), "{e}");
}

#[test]
fn ancillary_rows_must_match_positions() {
    let dir = tempfile::tempdir().unwrap();
    let path = valid_file(dir.path(), Strings::Fixed);
    {
        let f = open_rw(&path);
        let g = f.group("Measurement_000/Channel_000").unwrap();
        g.unlink("Raw_Data").unwrap();
        let main =
            g.new_dataset_builder().with_data(&Array2::<f32>::zeros((7, 4))).create("Raw_Data").unwrap();
        link_main(&main, "/Measurement_000/Channel_000");
    }
    let e = open_err(&path, RAW);
    assert!(e.ends_with("has shape (6, 2) but the dataset has 7 positions"), "{e}");
}

#[test]
fn labels_problems_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = valid_file(dir.path(), Strings::Fixed);
    let pv = "/Measurement_000/Channel_000/Position_Values";
    open_rw(&path).dataset(pv).unwrap().delete_attr("labels").unwrap();
    let e = open_err(&path, RAW);
    assert!(e.ends_with(&format!("attribute labels of Position_Values ({pv}) missing")), "{e}");
    write_strings(&open_rw(&path).dataset(pv).unwrap(), "labels", &["X", "Z"], Strings::VarLen);
    let e = open_err(&path, RAW);
    assert!(
        e.contains("labels of Position_Indices [\"X\", \"Y\"] and Position_Values [\"X\", \"Z\"] differ"),
        "{e}"
    );
    {
        let f = open_rw(&path);
        f.dataset(pv).unwrap().delete_attr("labels").unwrap();
        write_strings(&f.dataset(pv).unwrap(), "labels", &["X"], Strings::Fixed);
    }
    let e = open_err(&path, RAW);
    assert!(e.ends_with("Position_Values has 1 labels but 2 units"), "{e}");
}

#[test]
fn reference_to_a_group_or_of_wrong_type_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = valid_file(dir.path(), Strings::Fixed);
    edit_main(&path, |ds| {
        ds.delete_attr("Spectroscopic_Values").unwrap();
        link(ds, "Spectroscopic_Values", "/Measurement_000");
    });
    let e = open_err(&path, RAW);
    assert!(e.ends_with("attribute Spectroscopic_Values points at the group /Measurement_000"), "{e}");
    edit_main(&path, |ds| {
        ds.delete_attr("Spectroscopic_Values").unwrap();
        write_scalar_string(ds, "Spectroscopic_Values", "/Measurement_000/Channel_000/Spectroscopic_Values");
    });
    let e = open_err(&path, RAW);
    assert!(e.contains("attribute Spectroscopic_Values is not an object reference"), "{e}");
}

#[test]
fn dangling_reference_is_an_error_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let path = valid_file(dir.path(), Strings::Fixed);
    edit_main(&path, |ds| {
        ds.delete_attr("Position_Indices").unwrap();
        // An object reference is a file address; one far past the end of the file is what a
        // corrupt or hand-edited file holds. The type is a transparent wrapper of that
        // address, and building one from an address is the only way to write a bad one.
        let bogus: ObjectReference1 = unsafe { std::mem::transmute(1u64 << 40) };
        ds.new_attr::<ObjectReference1>().create("Position_Indices").unwrap().write_scalar(&bogus).unwrap();
    });
    let e = open_err(&path, RAW);
    assert!(e.ends_with("attribute Position_Indices does not resolve (dangling reference)"), "{e}");
}

#[test]
fn huge_declared_ancillary_is_refused_without_allocating() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.h5");
    {
        let f = hdf5::File::create(&path).unwrap();
        let n = 1usize << 40;
        // Chunked and never written: the file is tiny, the declared shapes are not.
        let mk = |name: &str, shape: (usize, usize)| {
            f.new_dataset::<f32>().chunk((1, shape.1.min(4))).shape(shape).create(name).unwrap()
        };
        let main = mk("Raw", (n, 4));
        let pi = mk("Position_Indices", (n, 2));
        let pv = mk("Position_Values", (n, 2));
        let si = mk("Spectroscopic_Indices", (1, 4));
        let sv = mk("Spectroscopic_Values", (1, 4));
        for (ds, labels, units) in [(&pi, &["X", "Y"][..], &["m", "m"][..]), (&pv, &["X", "Y"], &["m", "m"])]
        {
            write_strings(ds, "labels", labels, Strings::Fixed);
            write_strings(ds, "units", units, Strings::Fixed);
        }
        for ds in [&si, &sv] {
            write_strings(ds, "labels", &["F"], Strings::Fixed);
            write_strings(ds, "units", &["Hz"], Strings::Fixed);
        }
        link_main(&main, "");
    }
    let e = open_err(&path, "/Raw");
    assert!(e.contains("elements, more than the 268435456 usid-peaks reads"), "{e}");
}

#[test]
fn missing_path_group_and_datatype_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = valid_file(dir.path(), Strings::Fixed);
    let shown = path.display().to_string();
    assert_eq!(open_err(&path, "/Nope/Raw_Data"), format!("/Nope/Raw_Data does not exist in {shown}"));
    assert_eq!(
        open_err(&path, "/Measurement_000"),
        format!("/Measurement_000 in {shown} is a group, not a dataset")
    );
    assert_eq!(open_err(&path, "/"), format!("/ in {shown} is a group, not a dataset"));
    assert!(open_err(&path, "").contains("does not exist"));
}

#[test]
fn main_dataset_of_unsupported_type_is_listed_but_not_opened() {
    let dir = tempfile::tempdir().unwrap();
    let path = valid_file(dir.path(), Strings::Fixed);
    {
        let f = open_rw(&path);
        let main = f.new_dataset::<bool>().shape((6, 4)).create("Flags").unwrap();
        link_main(&main, "/Measurement_000/Channel_000");
    }
    let file = open_file(&path).unwrap();
    // pyUSID's test is the layout only, so it lists the dataset...
    assert_eq!(find_main_datasets(&file).unwrap(), vec!["/Flags".to_string(), RAW.to_string()]);
    // ...and opening it says why usid-peaks cannot use it.
    let e = open_err(&path, "/Flags");
    assert!(e.starts_with("/Flags has elements of type ") && e.ends_with("integer data"), "{e}");
}

#[test]
fn complex_compound_maps_to_complex_types() {
    let dir = tempfile::tempdir().unwrap();
    let f = hdf5::File::create(dir.path().join("c.h5")).unwrap();
    let c32 = f.new_dataset::<num_complex::Complex32>().shape((2, 2)).create("c32").unwrap();
    let c64 = f.new_dataset::<num_complex::Complex64>().shape((2, 2)).create("c64").unwrap();
    let u16_ = f.new_dataset::<u16>().shape((2, 2)).create("u16").unwrap();
    let b = f.new_dataset::<bool>().shape((2, 2)).create("b").unwrap();
    let of = |ds: &Dataset| ElementType::from_datatype(&ds.dtype().unwrap());
    assert_eq!(of(&c32), Ok(ElementType::Complex64));
    assert_eq!(of(&c64), Ok(ElementType::Complex128));
    assert_eq!(of(&u16_), Ok(ElementType::UInt16));
    assert!(of(&b).is_err());
}

#[test]
fn file_level_checks_give_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.h5");
    assert!(open_file(&missing).unwrap_err().to_string().ends_with(": no such file"));
    assert!(open_file(dir.path()).unwrap_err().to_string().ends_with(": is a directory, not an HDF5 file"));
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "hello, not HDF5\n".repeat(100)).unwrap();
    assert!(open_file(&text).unwrap_err().to_string().ends_with(": not an HDF5 file (no HDF5 signature)"));
    let valid = valid_file(dir.path(), Strings::Fixed);
    let bytes = std::fs::read(&valid).unwrap();
    let cut = dir.path().join("cut.h5");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let e = open_file(&cut).unwrap_err().to_string();
    assert!(e.contains("may be truncated or corrupt") && !e.contains('\n'), "{e}");
}

#[test]
fn signature_after_a_user_block_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ub.h5");
    let mut bytes = vec![0u8; 1024];
    bytes.extend_from_slice(&HDF5_SIGNATURE);
    bytes.resize(4096, 0);
    std::fs::write(&path, bytes).unwrap();
    assert!(check_hdf5_file(&path).is_ok());
}

#[test]
fn distinct_values_are_counted_like_numpy_unique() {
    let count = |mut v: Vec<f64>| {
        sort_distinct(&mut v);
        v.len()
    };
    assert_eq!(count(vec![2., 0., 1., 0., 2.]), 3);
    assert_eq!(count(vec![f64::NAN, 1., f64::NAN]), 2);
    assert_eq!(count(vec![]), 0);
}
