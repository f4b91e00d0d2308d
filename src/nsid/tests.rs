//! The NSID room on files it writes itself (the pyNSID reference is in tests/it/nsid.rs): what
//! the writer makes, the model reads back; the reader's arrangement against index arithmetic;
//! hostile files give one-line errors, never a panic or an unbounded allocation.
use hdf5::types::VarLenArray;
use hdf5::ObjectReference1;

use super::*;
use crate::usid::open_file;
use crate::usid::ElementType;

fn dim(name: &str, t: DimensionType, n: usize) -> Dimension {
    Dimension::new(name, name.to_uppercase(), "u", t, (0..n).map(|i| i as f64 * 0.5 + 1.0).collect())
}

fn spec<'a>(name: &'a str, dims: &'a [Dimension]) -> NsidSpec<'a> {
    NsidSpec {
        name,
        quantity: "Amplitude",
        units: "V",
        data_type: "SPECTRAL_IMAGE",
        modality: "test",
        source: "unit tests",
        dims,
        chunk: None,
    }
}

/// The axes DC_Offset (3), y (4), Frequency (5), x (2) stored in the order `order` (indices into
/// that list); the value at DC step d, row y, bin f, column x is 1000 d + 100 y + 10 f + x.
fn four_d(dir: &std::path::Path, order: [usize; 4]) -> std::path::PathBuf {
    let path = dir.join(format!("four_d_{order:?}.h5"));
    let f = hdf5::File::create(&path).unwrap();
    let g = f.create_group("Measurement_000").unwrap().create_group("Channel_000").unwrap();
    let all = [
        dim("DC_Offset", DimensionType::Spectral, 3),
        dim("y", DimensionType::Spatial, 4),
        dim("Frequency", DimensionType::Unknown, 5),
        dim("x", DimensionType::Spatial, 2),
    ];
    let dims = order.map(|k| all[k].clone());
    let ds = create_nsid_dataset::<f32>(&g, &spec("Raw_Data", &dims)).unwrap();
    let shape = order.map(|k| all[k].size());
    let values = ndarray::Array4::from_shape_fn(shape, |(a, b, c, d)| {
        let mut at = [0usize; 4];
        for (k, i) in order.iter().zip([a, b, c, d]) {
            at[*k] = i;
        }
        (1000 * at[0] + 100 * at[1] + 10 * at[2] + at[3]) as f32
    });
    ds.write(&values).unwrap();
    path
}

/// (DC_Offset, y, Frequency, x): the spatial axes not leading and apart, the along axis between.
fn interleaved(dir: &std::path::Path) -> std::path::PathBuf {
    four_d(dir, [0, 1, 2, 3])
}

const RAW: &str = "/Measurement_000/Channel_000/Raw_Data/Raw_Data";

#[test]
fn what_the_writer_makes_the_model_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let file = open_file(&interleaved(dir.path())).unwrap();
    assert_eq!(find_nsid_datasets(&file).unwrap(), vec![RAW.to_string()]);
    let ds = NsidDataset::open(&file, RAW).unwrap();
    assert_eq!(ds.shape, vec![3, 4, 5, 2]);
    assert_eq!(ds.element, ElementType::Float32);
    assert_eq!(ds.storage, Storage::Contiguous);
    assert_eq!(
        (ds.quantity.as_str(), ds.units.as_str(), ds.data_type.as_str()),
        ("Amplitude", "V", "SPECTRAL_IMAGE")
    );
    assert_eq!((ds.main_data_name.as_str(), ds.pynsid_version.as_str()), ("Raw_Data", PYNSID_VERSION));
    assert_eq!(ds.sidpy_version.as_deref(), Some(SIDPY_VERSION));
    let names: Vec<&str> = ds.dims.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["DC_Offset", "y", "Frequency", "x"]);
    assert_eq!(ds.dims[2], dim("Frequency", DimensionType::Unknown, 5));
}

#[test]
fn spectra_are_arranged_positions_then_others_then_along() {
    let dir = tempfile::tempdir().unwrap();
    // Spectra strided in the file (transposed in memory), and runs of the file out of order.
    for order in [[0, 1, 2, 3], [1, 0, 3, 2], [2, 3, 1, 0]] {
        let file = open_file(&four_d(dir.path(), order)).unwrap();
        let ds = NsidDataset::open(&file, RAW).unwrap();
        for along in ["Frequency", "DC_Offset"] {
            let s = Spectra::named(&ds, Some(along)).unwrap();
            let (n_dc, n_f) = (3, 5);
            let (n_other, n_along) = if along == "Frequency" { (n_dc, n_f) } else { (n_f, n_dc) };
            assert_eq!((s.n_positions, s.per_position(), s.len()), (8, n_other, n_along));
            for run in [0..8, 3..6, 7..8] {
                let got: Vec<f64> = s.read(ds.dataset(), std::slice::from_ref(&run)).unwrap();
                let mut want = Vec::new();
                for p in run {
                    // Positions row-major over the spatial axes in storage order.
                    let (y, x) = if order.iter().position(|&k| k == 1) < order.iter().position(|&k| k == 3) {
                        (p / 2, p % 2)
                    } else {
                        (p % 4, p / 4)
                    };
                    for o in 0..n_other {
                        for a in 0..n_along {
                            let (d, f) = if along == "Frequency" { (o, a) } else { (a, o) };
                            want.push((1000 * d + 100 * y + 10 * f + x) as f64);
                        }
                    }
                }
                assert_eq!(got, want, "order {order:?} along {along}");
            }
        }
    }
}

#[test]
fn the_writer_refuses_bad_specs_and_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let f = hdf5::File::create(dir.path().join("w.h5")).unwrap();
    let g = f.create_group("G").unwrap();
    let y = dim("y", DimensionType::Spatial, 2);
    let cases: Vec<(Vec<Dimension>, &str, &str)> = vec![
        (vec![y.clone(), y.clone()], "R", "two axes are named \"y\""),
        (vec![dim("R", DimensionType::Spatial, 2)], "R", "axis 0 (\"R\") has a name taken beside it (R)"),
        (
            vec![dim("a/b", DimensionType::Spatial, 2)],
            "R",
            "axis 0 needs a plain, non-empty name (got \"a/b\")",
        ),
        (vec![dim("y", DimensionType::Spatial, 0)], "R", "axis 0 (y) has no values"),
        (vec![Dimension { units: " ".into(), ..y.clone() }], "R", "needs a non-empty quantity and unit"),
        (
            vec![Dimension { quantity: String::new(), ..y.clone() }],
            "R",
            "needs a non-empty quantity and unit",
        ),
        (vec![y.clone()], "a/b", "needs a plain, non-empty name"),
    ];
    for (dims, name, why) in cases {
        let e = create_nsid_dataset::<f64>(&g, &spec(name, &dims)).unwrap_err();
        assert_eq!(e.class, crate::error::Class::Output);
        assert!(e.message.contains(why) && !e.message.contains('\n'), "{e}");
    }
    let chunked = NsidSpec { chunk: Some(&[1, 1]), ..spec("R", std::slice::from_ref(&y)) };
    assert!(create_nsid_dataset::<f64>(&g, &chunked).unwrap_err().message.contains("do not fit 1 axes"));
    assert!(g.member_names().unwrap().is_empty());
    let ds = create_nsid_dataset::<f64>(&g, &spec("R", &[y.clone(), dim("f", DimensionType::Spectral, 3)]))
        .unwrap();
    let e = write_positions(&ds, &[2], 0..1, &[1.0, 2.0]).unwrap_err();
    assert!(e.message.contains("2 values for positions 0..1 of 3 each"), "{e}");
    let e = write_positions(&ds, &[3], 0..1, &[1.0, 2.0, 3.0]).unwrap_err();
    assert!(e.message.contains("does not begin with the positions [3]"), "{e}");
}

/// An NSID dataset `R` of shape (2, 3) in `/G` of a new file, for a test to break.
fn small(dir: &std::path::Path) -> (std::path::PathBuf, hdf5::File) {
    let path = dir.join("small.h5");
    let f = hdf5::File::create(&path).unwrap();
    let g = f.create_group("G").unwrap();
    let dims = [dim("y", DimensionType::Spatial, 2), dim("f", DimensionType::Spectral, 3)];
    create_nsid_dataset::<f64>(&g, &spec("R", &dims)).unwrap();
    (path, f)
}

fn open_err(path: &std::path::Path, dset: &str) -> String {
    let file = open_file(path).unwrap();
    let e = NsidDataset::open(&file, dset).unwrap_err();
    assert!(!e.message.contains('\n'), "{e}");
    e.message
}

#[test]
fn broken_scales_are_one_line_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let (path, f) = small(dir.path());
    let ds = f.dataset("/G/R/R").unwrap();
    ds.delete_attr("DIMENSION_LIST").unwrap();
    ds.new_attr::<i32>().shape(2).create("DIMENSION_LIST").unwrap();
    drop((ds, f));
    let e = open_err(&path, "/G/R/R");
    assert!(e.contains("DIMENSION_LIST is not a list of object references per axis"), "{e}");

    let (path, f) = small(dir.path());
    let ds = f.dataset("/G/R/R").unwrap();
    ds.delete_attr("DIMENSION_LABELS").unwrap();
    drop((ds, f));
    assert!(
        open_err(&path, "/G/R/R").ends_with("axis 0 has no label (DIMENSION_LABELS), which names its scale")
    );

    let (path, f) = small(dir.path());
    let scale = f.dataset("/G/R/f").unwrap();
    scale.delete_attr("units").unwrap();
    drop((scale, f));
    assert!(open_err(&path, "/G/R/R").ends_with("the dimension scale \"f\" of axis 1 has no attribute units"));
    assert!(find_nsid_datasets(&open_file(&path).unwrap()).unwrap().is_empty());

    let (path, f) = small(dir.path());
    let scale = f.dataset("/G/R/f").unwrap();
    scale.delete_attr("units").unwrap();
    scale.new_attr::<f64>().create("units").unwrap().write_scalar(&1.0).unwrap();
    drop((scale, f));
    // pyNSID's check asks for the attribute only: listed, but not usable.
    assert_eq!(find_nsid_datasets(&open_file(&path).unwrap()).unwrap(), vec!["/G/R/R".to_string()]);
    assert!(open_err(&path, "/G/R/R").contains("attribute units is not a string"));
}

#[test]
fn a_scale_sidpy_refuses_is_the_generic_axis_pynsid_keeps() {
    let dir = tempfile::tempdir().unwrap();
    let generic = |axis: usize, name: &str| {
        Dimension::new(
            name,
            "generic",
            "generic",
            DimensionType::Unknown,
            (0..[2, 3][axis]).map(|i| i as f64).collect(),
        )
    };
    // An empty unit (after trimming, as sidpy trims).
    let (path, f) = small(dir.path());
    crate::usid::write::write_str_attr(&f.dataset("/G/R/f").unwrap(), "units", "  ").unwrap();
    crate::usid::write::write_str_attr(&f.dataset("/G/R/y").unwrap(), "quantity", " Length ").unwrap();
    drop(f);
    let ds = NsidDataset::open(&open_file(&path).unwrap(), "/G/R/R").unwrap();
    assert_eq!(ds.dims[1], generic(1, "b"));
    assert_eq!((ds.dims[0].name.as_str(), ds.dims[0].quantity.as_str()), ("y", "Length"));
    drop(ds);
    // Values that are not numbers.
    let (path, f) = small(dir.path());
    let ds = f.dataset("/G/R/R").unwrap();
    let g = f.group("/G/R").unwrap();
    let words: Vec<hdf5::types::VarLenUnicode> = ["a", "b"].iter().map(|w| w.parse().unwrap()).collect();
    let text = g.new_dataset_builder().with_data(words.as_slice()).create("words").unwrap();
    scales::set_scale(&text, "y").unwrap();
    let list = [
        VarLenArray::from_slice(&[f.reference::<ObjectReference1>("/G/R/words").unwrap()]),
        VarLenArray::from_slice(&[f.reference::<ObjectReference1>("/G/R/f").unwrap()]),
    ];
    ds.delete_attr("DIMENSION_LIST").unwrap();
    ds.new_attr_builder().with_data(&list[..]).create("DIMENSION_LIST").unwrap();
    drop((ds, g, text, f));
    let ds = NsidDataset::open(&open_file(&path).unwrap(), "/G/R/R").unwrap();
    assert_eq!(ds.dims[0], generic(0, "a"));
    assert_eq!(ds.dims[1].name, "f");
}

#[test]
fn a_dangling_scale_reference_is_an_error_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let (path, f) = small(dir.path());
    let ds = f.dataset("/G/R/R").unwrap();
    let good: ObjectReference1 = f.reference("/G/R/y").unwrap();
    // An object reference is a file address; one far past the end is what a corrupt file holds.
    // SAFETY: ObjectReference1 is a transparent wrapper of that address.
    let bogus: ObjectReference1 = unsafe { std::mem::transmute(1u64 << 40) };
    ds.delete_attr("DIMENSION_LIST").unwrap();
    let lists = [VarLenArray::from_slice(&[good]), VarLenArray::from_slice(&[bogus])];
    ds.new_attr_builder().with_data(&lists[..]).create("DIMENSION_LIST").unwrap();
    drop((ds, f));
    assert!(open_err(&path, "/G/R/R").ends_with("a scale of axis 1 does not resolve (dangling reference)"));
}

#[test]
fn the_scale_read_is_the_first_of_the_last_attached_name_as_h5py_finds_it() {
    let dir = tempfile::tempdir().unwrap();
    let (path, f) = small(dir.path());
    let g = f.group("/G/R").unwrap();
    let make = |name: &str, scale_name: &str, v: f64| {
        let d = g.new_dataset_builder().with_data(&[v, v, v]).create(name).unwrap();
        scales::set_scale(&d, scale_name).unwrap();
        f.reference::<ObjectReference1>(&d.name()).unwrap()
    };
    let (a, b, c) = (make("a", "same", 1.0), make("b", "other", 2.0), make("c", "same", 3.0));
    let ds = f.dataset("/G/R/R").unwrap();
    let y: ObjectReference1 = f.reference("/G/R/y").unwrap();
    ds.delete_attr("DIMENSION_LIST").unwrap();
    let lists = [VarLenArray::from_slice(&[y]), VarLenArray::from_slice(&[a, b, c])];
    ds.new_attr_builder().with_data(&lists[..]).create("DIMENSION_LIST").unwrap();
    drop((ds, g, f));
    let file = open_file(&path).unwrap();
    let ds = NsidDataset::open(&file, "/G/R/R").unwrap();
    assert_eq!(ds.dims[1].values, vec![1.0; 3], "h5py's dims[1]['same'] is the first scale named so");
    assert_eq!(ds.dims[1].name, "f", "the name is the axis label");
}

#[test]
fn a_huge_declared_axis_is_refused_without_allocating() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.h5");
    {
        let f = hdf5::File::create(&path).unwrap();
        let g = f.create_group("G").unwrap();
        let n = MAX_SCALE_VALUES + 1;
        // Chunked and never written: the file is tiny, the declared shapes are not.
        let main = g.new_dataset::<f32>().chunk((1024, 1)).shape((n, 2)).create("R").unwrap();
        let big = g.new_dataset::<f64>().chunk(1024).shape(n).create("y").unwrap();
        let f_scale = g.new_dataset_builder().with_data(&[0.0, 1.0]).create("f").unwrap();
        for (scale, name, t) in [(&big, "y", "SPATIAL"), (&f_scale, "f", "SPECTRAL")] {
            for (k, v) in [("name", name), ("quantity", name), ("units", "u"), ("dimension_type", t)] {
                crate::usid::write::write_str_attr(scale, k, v).unwrap();
            }
            scales::set_scale(scale, name).unwrap();
        }
        for k in ["quantity", "units", "main_data_name", "pyNSID_version", "data_type", "modality", "source"]
        {
            crate::usid::write::write_str_attr(&main, k, "x").unwrap();
        }
        scales::attach(&main, &[&big, &f_scale], &["y", "f"]).unwrap();
    }
    let e = open_err(&path, "/G/R");
    assert!(
        e.ends_with(&format!(
            "has {} values, more than the {MAX_SCALE_VALUES} usid-peaks reads",
            MAX_SCALE_VALUES + 1
        )),
        "{e}"
    );
}

#[test]
fn a_scalar_with_pynsids_attributes_is_listed_as_pynsid_does_but_has_no_positions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scalar.h5");
    {
        let f = hdf5::File::create(&path).unwrap();
        let g = f.create_group("G").unwrap();
        let s = g.new_dataset::<f64>().create("S").unwrap();
        for k in ["quantity", "units", "main_data_name", "pyNSID_version", "data_type", "modality", "source"]
        {
            crate::usid::write::write_str_attr(&s, k, "x").unwrap();
        }
    }
    let file = open_file(&path).unwrap();
    assert_eq!(find_nsid_datasets(&file).unwrap(), vec!["/G/S".to_string()]);
    let ds = NsidDataset::open(&file, "/G/S").unwrap();
    let e = Spectra::new(&ds, None).unwrap_err();
    assert!(
        e.message.ends_with("no SPATIAL axis (); positions are the SPATIAL axes of an NSID dataset"),
        "{e}"
    );
}

#[test]
fn dimension_types_parse_as_sidpy_does() {
    for t in DimensionType::ALL {
        assert_eq!(DimensionType::parse(t.name()), t);
        assert_eq!(DimensionType::parse(&t.name().to_lowercase()), t);
    }
    assert_eq!(DimensionType::parse("Spatial"), DimensionType::Spatial);
    assert_eq!(DimensionType::parse("time"), DimensionType::Temporal);
    assert_eq!(DimensionType::parse("Frame"), DimensionType::Temporal);
    assert_eq!(DimensionType::parse("generic"), DimensionType::Unknown);
    assert_eq!(DimensionType::parse(""), DimensionType::Unknown);
}
