//! The USID writer: what it writes is what pyUSID expects of a main dataset — new ancillary
//! datasets, links to existing ones (a results group sharing the source's positions), copies into
//! another file, parameter attributes and indexed group names.
use std::path::Path;

use hdf5::{File, Group};
use serde_json::json;
use usid_peaks::usid::results::{create_indexed_group, next_indexed_name};
use usid_peaks::usid::write::{
    copy_ancillary, create_main_dataset, write_f64_array_attr, write_f64_attr, write_i64_attr,
    write_str_array_attr, write_str_attr, Ancillary, DimSpec, MainSpec,
};

use crate::util::{self, ok, s, CHANNEL};

/// A generated map of `rows` × `cols` pixels and 11 bins.
fn generated(dir: &Path, rows: usize, cols: usize) -> std::path::PathBuf {
    let file = dir.join("source.h5");
    ok(&["generate", "--bins", "11", "--rows", &rows.to_string(), "--cols", &cols.to_string(), s(&file)]);
    file
}

/// A results-style dataset of `k` values per pixel linked to `pos_group`'s position datasets.
fn write_results(group: &Group, pos_group: &Group, n: usize, k: usize) -> hdf5::Dataset {
    let (pi, pv) =
        (pos_group.dataset("Position_Indices").unwrap(), pos_group.dataset("Position_Values").unwrap());
    let ds = create_main_dataset::<f32>(
        group,
        MainSpec {
            name: "Peak_Frequencies",
            n_positions: n,
            n_bins: k,
            quantity: "Peak frequency",
            units: "Hz",
            pos: Ancillary::Existing { indices: &pi, values: &pv },
            spec: Ancillary::New(vec![DimSpec::linear("Peak", "", 0.0, 1.0, k)]),
            chunk_rows: Some(7),
        },
    )
    .unwrap();
    // Fill in row slices, as the engine does.
    for start in (0..n).step_by(7) {
        let len = 7.min(n - start);
        let rows = ndarray::Array2::from_shape_fn((len, k), |(r, c)| ((start + r) * k + c) as f32);
        ds.write_slice(&rows, ndarray::s![start..start + len, ..]).unwrap();
    }
    ds
}

#[test]
fn results_dataset_linked_to_the_sources_positions_is_main_and_reshapes_to_rows_cols_k() {
    let dir = tempfile::tempdir().unwrap();
    let file = generated(dir.path(), 4, 6);
    {
        let f = File::open_rw(&file).unwrap();
        let channel = f.group(CHANNEL).unwrap();
        let name = next_indexed_name(&channel, "Raw_Data-Peak_Finding");
        assert_eq!(name, "Raw_Data-Peak_Finding_000");
        let results = channel.create_group(&name).unwrap();
        let ds = write_results(&results, &channel, 24, 3);
        assert_eq!(ds.chunk(), Some(vec![7, 3]));
    }
    let v = util::check(&file, &format!("{CHANNEL}/Raw_Data-Peak_Finding_000/Peak_Frequencies"), &["--ndim"]);
    assert_eq!(v["is_main"], json!(true), "{v}");
    assert_eq!(v["dtype"], json!("float32"));
    assert_eq!(v["n_dim_shape"], json!([4, 6, 3]));
    assert_eq!(v["pos_dims"], json!([["Y", "m", 4], ["X", "m", 6]]));
    assert_eq!(v["spec_dims"], json!([["Peak", "", 3]]));
    assert_eq!(v["position_indices"], json!(format!("{CHANNEL}/Position_Indices")));
}

#[test]
fn positions_copied_into_another_file_carry_their_attributes_and_link_there() {
    let dir = tempfile::tempdir().unwrap();
    let source = generated(dir.path(), 3, 5);
    let out = dir.path().join("results.h5");
    {
        let src = File::open(&source).unwrap();
        let channel = src.group(CHANNEL).unwrap();
        let (pi, pv) =
            (channel.dataset("Position_Indices").unwrap(), channel.dataset("Position_Values").unwrap());
        let dst = File::create(&out).unwrap();
        let group = create_indexed_group(&dst, "Raw_Data-Peak_Finding").unwrap();
        // Linking across files must be refused: references cannot cross files.
        let err = create_main_dataset::<f32>(
            &group,
            MainSpec {
                name: "Bad",
                n_positions: 15,
                n_bins: 1,
                quantity: "q",
                units: "u",
                pos: Ancillary::Existing { indices: &pi, values: &pv },
                spec: Ancillary::New(vec![DimSpec::new("Peak", "", vec![0.0])]),
                chunk_rows: None,
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("another file"), "{err}");
        assert!(!group.link_exists("Spectroscopic_Indices"), "a refused call writes nothing");
        assert!(!err.to_string().contains('\n'));

        let (ci, cv) = copy_ancillary(&pi, &pv, &group).unwrap();
        assert_eq!(ci.name(), "/Raw_Data-Peak_Finding_000/Position_Indices");
        create_main_dataset::<f32>(
            &group,
            MainSpec {
                name: "Peak_Frequencies",
                n_positions: 15,
                n_bins: 2,
                quantity: "Peak frequency",
                units: "Hz",
                pos: Ancillary::Existing { indices: &ci, values: &cv },
                spec: Ancillary::New(vec![DimSpec::linear("Peak", "", 0.0, 1.0, 2)]),
                chunk_rows: None,
            },
        )
        .unwrap();
    }
    let v = util::check(&out, "/Raw_Data-Peak_Finding_000/Peak_Frequencies", &["--ndim"]);
    assert_eq!(v["is_main"], json!(true), "{v}");
    assert_eq!(v["n_dim_shape"], json!([3, 5, 2]));
    let a = util::check(&out, "/Raw_Data-Peak_Finding_000/Position_Values", &["--attrs"]);
    assert_eq!(a["labels"], json!(["Y", "X"]));
    assert_eq!(a["units"], json!(["m", "m"]));
}

#[test]
fn new_dimensions_are_stored_slowest_first_with_the_first_varying_fastest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dims.h5");
    {
        let f = File::create(&path).unwrap();
        let pos = vec![
            DimSpec::linear("X", "m", 0.0, 1e-6, 2),
            DimSpec::linear("Y", "m", 0.0, 1e-6, 3),
            DimSpec::new("Z", "nm", vec![5.0, 7.0]),
        ];
        let spec = vec![
            DimSpec::linear("Frequency", "Hz", 3e5, 1e3, 4),
            DimSpec::new("DC_Offset", "V", vec![-1.0, 1.0]),
        ];
        create_main_dataset::<i16>(
            &f,
            MainSpec {
                name: "Main",
                n_positions: 12,
                n_bins: 8,
                quantity: " Current ",
                units: "A",
                pos: Ancillary::New(pos),
                spec: Ancillary::New(spec),
                chunk_rows: None,
            },
        )
        .unwrap();
        let pi = f.dataset("Position_Indices").unwrap().read_2d::<u32>().unwrap();
        assert_eq!(pi.shape(), &[12, 3]);
        // Columns Z, Y, X; X varies fastest down the rows.
        assert_eq!(pi.row(0).to_vec(), vec![0, 0, 0]);
        assert_eq!(pi.row(1).to_vec(), vec![0, 0, 1]);
        assert_eq!(pi.row(2).to_vec(), vec![0, 1, 0]);
        assert_eq!(pi.row(6).to_vec(), vec![1, 0, 0]);
        let pv = f.dataset("Position_Values").unwrap().read_2d::<f32>().unwrap();
        assert_eq!(pv.row(11).to_vec(), vec![7.0, 2e-6, 1e-6]);
        let sv = f.dataset("Spectroscopic_Values").unwrap().read_2d::<f32>().unwrap();
        assert_eq!(sv.shape(), &[2, 8]);
        assert_eq!(sv.row(0).to_vec(), vec![-1.0, -1.0, -1.0, -1.0, 1.0, 1.0, 1.0, 1.0]);
        assert_eq!(sv.row(1).to_vec()[..5], [3e5, 3.01e5, 3.02e5, 3.03e5, 3e5]);
    }
    let v = util::check(&path, "/Main", &["--ndim"]);
    assert_eq!(v["is_main"], json!(true), "{v}");
    assert_eq!(v["quantity_attr"], json!("Current"), "trimmed like pyUSID");
    assert_eq!(v["pos_dims"], json!([["Z", "nm", 2], ["Y", "m", 3], ["X", "m", 2]]));
    assert_eq!(v["spec_dims"], json!([["DC_Offset", "V", 2], ["Frequency", "Hz", 4]]));
    assert_eq!(v["n_dim_shape"], json!([2, 3, 2, 2, 4]));
}

#[test]
fn mismatched_sizes_and_existing_names_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let f = File::create(dir.path().join("bad.h5")).unwrap();
    let pos = || Ancillary::New(vec![DimSpec::linear("X", "m", 0.0, 1.0, 5)]);
    let spec = || Ancillary::New(vec![DimSpec::linear("F", "Hz", 0.0, 1.0, 3)]);
    let refused = |name: &str, n: usize, bins: usize, pos: Ancillary| {
        let e = create_main_dataset::<f32>(
            &f,
            MainSpec {
                name,
                n_positions: n,
                n_bins: bins,
                quantity: "q",
                units: "u",
                pos,
                spec: spec(),
                chunk_rows: None,
            },
        )
        .unwrap_err();
        let e = e.to_string();
        assert!(!e.contains('\n'), "{e}");
        e
    };
    let e = refused("M", 6, 3, pos());
    assert!(e.contains("sizes [5]") && e.contains("6"), "{e}");
    assert!(refused("M", 5, 0, pos()).contains("at least one"));
    create_main_dataset::<f32>(
        &f,
        MainSpec {
            name: "M",
            n_positions: 5,
            n_bins: 3,
            quantity: "q",
            units: "u",
            pos: pos(),
            spec: spec(),
            chunk_rows: None,
        },
    )
    .unwrap();
    assert!(refused("M", 5, 3, pos()).contains("/M: already exists"));
    let e = refused("M2", 5, 3, pos());
    assert!(e.contains("Position_Indices: already exists") && e.contains("Ancillary::Existing"), "{e}");
    let (pi, pv) = (f.dataset("Position_Indices").unwrap(), f.dataset("Position_Values").unwrap());
    let e = refused("M3", 4, 3, Ancillary::Existing { indices: &pi, values: &pv });
    assert!(e.contains("do not fit a main dataset with 4 positions"), "{e}");
    assert!(!f.link_exists("M2") && !f.link_exists("M3"), "refused calls create nothing");
}

#[test]
fn indexed_group_names_follow_pyusid_counting_only_groups() {
    let dir = tempfile::tempdir().unwrap();
    let f = File::create(dir.path().join("groups.h5")).unwrap();
    assert_eq!(next_indexed_name(&f, "Results"), "Results_000");
    f.create_group("Results_000").unwrap();
    f.create_group("Results_002").unwrap();
    f.create_group("Results_x").unwrap();
    f.new_dataset::<u8>().shape(1).create("Results_009").unwrap();
    assert_eq!(next_indexed_name(&f, "Results"), "Results_003");
    assert_eq!(next_indexed_name(&f, "Results_"), "Results_003");
    assert_eq!(create_indexed_group(&f, "Results").unwrap().name(), "/Results_003");
    // Past 999 the index grows a digit, and counts on from there.
    f.create_group("Results_999").unwrap();
    assert_eq!(create_indexed_group(&f, "Results").unwrap().name(), "/Results_1000");
    assert_eq!(next_indexed_name(&f, "Results"), "Results_1001");
}

#[test]
fn parameter_attributes_read_back_in_h5py_as_python_values() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("attrs.h5");
    {
        let f = File::create(&path).unwrap();
        let g = f.create_group("Results_000").unwrap();
        write_str_attr(&g, "wavelet", "ricker").unwrap();
        write_str_attr(&g, "wavelet", "ricker µ").unwrap(); // replaces, UTF-8 allowed
        write_f64_attr(&g, "min_snr", 1.5).unwrap();
        write_i64_attr(&g, "gap_thresh", -2).unwrap();
        write_f64_array_attr(&g, "widths", &[1.0, 2.5, 10.0]).unwrap();
        write_str_array_attr(&g, "labels", &["Frequency", "", "DC"]).unwrap();
    }
    let a = util::check(&path, "/Results_000", &["--attrs"]);
    assert_eq!(
        a,
        json!({"wavelet": "ricker µ", "min_snr": 1.5, "gap_thresh": -2, "widths": [1.0, 2.5, 10.0],
               "labels": ["Frequency", "", "DC"]})
    );
}
