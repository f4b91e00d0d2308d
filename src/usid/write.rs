//! Writing USID main datasets, their ancillary datasets and attributes the way pyUSID 0.0.12
//! writes them (`write_main_dataset`, `write_ind_val_dsets`, `build_ind_val_matrices`,
//! `link_as_main`), so that pyUSID's `check_if_main` and `USIDataset`
//! accept what we write.
//!
//! What pyUSID 0.0.12 writes, and so what we write:
//! * ancillary datasets `<Prefix>_Indices` (uint32) and `<Prefix>_Values` (float32); position
//!   datasets are (n_positions, n_dims), spectroscopic ones (n_dims, n_bins);
//! * dimensions are *given* fastest-varying first (pyUSID's default `slow_to_fast=False`), the
//!   first one varies fastest along the positions (or bins), and they are *stored* slowest first:
//!   for an image of `rows × cols` given as `[X (cols), Y (rows)]` the columns of
//!   `Position_Indices` are `[Y, X]`, so that `USIDataset.get_n_dim_form()` is (rows, cols, bins);
//! * on both ancillary datasets the attributes `labels` and `units` (fixed-length ASCII string
//!   arrays, one entry per dimension, in stored order) and `type` (int64 zeros: every dimension is
//!   pyUSID's `DimType.DEFAULT`);
//! * on the main dataset `quantity` and `units` (variable-length UTF-8 strings) and four scalar
//!   object-reference attributes `Position_Indices`, `Position_Values`, `Spectroscopic_Indices`,
//!   `Spectroscopic_Values`.
//!
//! No per-dimension region references: pyUSID 0.0.12 no longer writes them and `check_if_main`
//! does not look for them. pyUSID's book-keeping attributes (machine id, platform, timestamp,
//! versions) are not written either: nothing in pyUSID reads them.
//!
//! With a file opened through the MPI-IO driver every function here creates objects, so it must be
//! called collectively, with identical arguments, on every rank.
use hdf5::types::{FixedAscii, FixedUnicode, TypeDescriptor, VarLenUnicode};
use hdf5::{Dataset, Group, H5Type, Location, ObjectReference1};

use super::UsidError;

/// Numpy dtypes of pyUSID's ancillary datasets (`INDICES_DTYPE`, `VALUES_DTYPE`).
type IndexType = u32;
type ValueType = f32;

/// The longest label, unit or string-array entry (bytes) that [`write_str_array_attr`] writes.
const MAX_FIXED_STR: usize = 256;

/// HDF5 refuses chunks of 4 GiB or more.
const MAX_CHUNK_BYTES: usize = (1 << 32) - 1;

/// One dimension of a new ancillary dataset, like pyUSID's `Dimension`.
#[derive(Debug, Clone, PartialEq)]
pub struct DimSpec {
    /// The label, e.g. `X` or `Frequency`.
    pub name: String,
    /// The physical unit, e.g. `m` or `Hz`.
    pub units: String,
    /// The value of each step along the dimension, in `units`; its length is the dimension's size.
    pub values: Vec<f64>,
}

impl DimSpec {
    pub fn new(name: impl Into<String>, units: impl Into<String>, values: Vec<f64>) -> Self {
        DimSpec { name: name.into(), units: units.into(), values }
    }

    /// `size` evenly spaced values `start, start + step, ...` (in `units`).
    pub fn linear(
        name: impl Into<String>,
        units: impl Into<String>,
        start: f64,
        step: f64,
        size: usize,
    ) -> Self {
        let values = (0..size).map(|i| start + step * i as f64).collect();
        DimSpec::new(name, units, values)
    }
}

/// Where the position or the spectroscopic ancillary datasets of a new main dataset come from.
#[derive(Debug, Clone)]
pub enum Ancillary<'a> {
    /// Write new `<Prefix>_Indices`/`<Prefix>_Values` next to the main dataset; the dimensions are
    /// listed fastest-varying first.
    New(Vec<DimSpec>),
    /// Link to existing ancillary datasets in the same file (e.g. the source dataset's position
    /// datasets, shared by a results dataset). Use [`copy_ancillary`] first when they live in
    /// another file: object references cannot cross files.
    Existing { indices: &'a Dataset, values: &'a Dataset },
}

/// What a new main dataset is, for [`create_main_dataset`].
#[derive(Debug, Clone)]
pub struct MainSpec<'a> {
    /// Its name in the group (plain, no `/`).
    pub name: &'a str,
    /// Rows: positions; their dimensions' sizes multiply to it.
    pub n_positions: usize,
    /// Columns: spectroscopic bins; their dimensions' sizes multiply to it.
    pub n_bins: usize,
    /// The physical quantity and its unit, e.g. `"Cantilever Vertical Deflection"`, `"V"`.
    pub quantity: &'a str,
    pub units: &'a str,
    /// The position dimensions; new ones are named `Position_*` and must not exist yet.
    pub pos: Ancillary<'a>,
    /// The spectroscopic dimensions; new ones are named `Spectroscopic_*`.
    pub spec: Ancillary<'a>,
    /// `Some(r)` stores the dataset in chunks of (r, n_bins) elements (r clamped to
    /// `n_positions`), `None` contiguously. Both can be written in row slices; chunks are what
    /// compression or a partial read of a huge file wants.
    pub chunk_rows: Option<usize>,
}

/// Creates the 2-D main dataset described by `spec` in `group`, with element type `T`, writes or
/// links its ancillary datasets and sets every attribute pyUSID's `check_if_main` requires. The
/// data is left unwritten (HDF5's fill value, zero) for the caller to fill, e.g. in row slices
/// with `write_slice`.
///
/// On an error the objects the call made are unlinked again (best effort: HDF5 keeps the space
/// they took in the file).
pub fn create_main_dataset<T: H5Type>(group: &Group, spec: MainSpec<'_>) -> Result<Dataset, UsidError> {
    let MainSpec { name, n_positions, n_bins, quantity, units, pos, spec, chunk_rows } = spec;
    let here = describe(group, name);
    if name.is_empty() || name.contains('/') {
        return Err(UsidError(format!("{here}: a main dataset needs a plain, non-empty name")));
    }
    if n_positions == 0 || n_bins == 0 {
        return Err(UsidError(format!(
            "{here}: a main dataset needs at least one position and one bin (got {n_positions} x {n_bins})"
        )));
    }
    if group.link_exists(name) {
        return Err(UsidError(format!("{here}: already exists")));
    }
    let chunk = match chunk_rows {
        None => None,
        Some(rows) => {
            let rows = rows.clamp(1, n_positions);
            let bytes = rows.saturating_mul(n_bins).saturating_mul(T::type_descriptor().size());
            if bytes > MAX_CHUNK_BYTES {
                return Err(UsidError(format!(
                    "{here}: chunks of {rows} rows x {n_bins} bins are {bytes} bytes, over HDF5's 4 GiB limit"
                )));
            }
            Some(rows)
        }
    };

    let builder = group.new_dataset::<T>().shape((n_positions, n_bins));
    let builder = match chunk {
        Some(rows) => builder.chunk((rows, n_bins)),
        None => builder,
    };
    let main = builder.create(name).map_err(|e| h5_error(&here, "cannot create the dataset", e))?;
    // A refused call leaves the group as it was: make_main removes what it made, and the dataset,
    // not yet written (HDF5 allocates on first write), goes with its link.
    let result = make_main(group, &main, quantity, units, pos, spec).map(|()| main);
    unlink_on_error(group, &result, &[name.to_string()]);
    result
}

/// Makes `main`, a 2-D dataset already in `group`, a main dataset: writes or links its ancillary
/// datasets for its present shape, sets its quantity and units and links them as USID does.
/// [`create_main_dataset`] ends with it; the streamed writers call it at the end, when the width
/// of a dataset grown column by column is known.
pub fn make_main(
    group: &Group,
    main: &Dataset,
    quantity: &str,
    units: &str,
    pos: Ancillary<'_>,
    spec: Ancillary<'_>,
) -> Result<(), UsidError> {
    let shape = main.shape();
    let [n_positions, n_bins] = shape[..] else {
        return Err(UsidError(format!("{}: a main dataset must be 2-D, not {shape:?}", main.name())));
    };
    check_ancillary(group, &pos, false, n_positions)?;
    check_ancillary(group, &spec, true, n_bins)?;
    let mut created = Vec::new();
    let result = (|| {
        let (pos_inds, pos_vals) = ancillary_pair(group, pos, false, &mut created)?;
        let (spec_inds, spec_vals) = ancillary_pair(group, spec, true, &mut created)?;
        write_str_attr(main, "quantity", quantity.trim())?;
        write_str_attr(main, "units", units.trim())?;
        link_as_main(main, &pos_inds, &pos_vals, &spec_inds, &spec_vals)
    })();
    unlink_on_error(group, &result, &created);
    result
}

/// Best effort after a failed creation: the error being reported matters more than a failed
/// clean-up of the objects `created` on the way.
fn unlink_on_error<T>(group: &Group, result: &Result<T, UsidError>, created: &[String]) {
    if result.is_err() {
        for n in created.iter().rev() {
            let _ = group.unlink(n);
        }
    }
}

/// The checks of [`ancillary_pair`] that need no writing: sizes, free names, same file.
fn check_ancillary(
    group: &Group,
    anc: &Ancillary,
    is_spectral: bool,
    main_len: usize,
) -> Result<(), UsidError> {
    match anc {
        Ancillary::New(dims) => {
            let total = dims.iter().try_fold(1usize, |acc, d| acc.checked_mul(d.values.len()));
            if total != Some(main_len) {
                let sizes: Vec<String> = dims.iter().map(|d| d.values.len().to_string()).collect();
                return Err(UsidError(format!(
                    "{}: the {} dimension sizes [{}] do not multiply to the main dataset's {}",
                    describe(group, prefix(is_spectral)),
                    kind(is_spectral),
                    sizes.join(", "),
                    main_len
                )));
            }
            for suffix in ["Indices", "Values"] {
                let n = format!("{}_{suffix}", prefix(is_spectral));
                if group.link_exists(&n) {
                    return Err(UsidError(format!(
                        "{}: already exists; link it with Ancillary::Existing instead",
                        describe(group, &n)
                    )));
                }
            }
            Ok(())
        }
        Ancillary::Existing { indices, values } => {
            check_ancillary_shapes(indices, values, is_spectral, main_len)?;
            for d in [indices, values] {
                if !same_file(group, d) {
                    return Err(UsidError(format!(
                        "{}:{} is in another file than {}:{}; copy it over first (copy_ancillary)",
                        d.filename(),
                        d.name(),
                        group.filename(),
                        group.name()
                    )));
                }
            }
            Ok(())
        }
    }
}

/// Writes new ancillary datasets (recording their names in `created`) or hands back the existing
/// ones; [`check_ancillary`] has vetted both.
fn ancillary_pair(
    group: &Group,
    anc: Ancillary,
    is_spectral: bool,
    created: &mut Vec<String>,
) -> Result<(Dataset, Dataset), UsidError> {
    match anc {
        Ancillary::New(dims) => {
            let pair = write_ind_val_dsets(group, &dims, is_spectral)?;
            created.push(base_name(&pair.0.name()));
            created.push(base_name(&pair.1.name()));
            Ok(pair)
        }
        Ancillary::Existing { indices, values } => Ok((indices.clone(), values.clone())),
    }
}

/// pyUSID's `validate_anc_h5_dsets`: two 2-D datasets of equal shape whose position axis (rows for
/// positions, columns for spectroscopic) has `main_len` entries.
fn check_ancillary_shapes(
    indices: &Dataset,
    values: &Dataset,
    is_spectral: bool,
    main_len: usize,
) -> Result<(), UsidError> {
    let (si, sv) = (indices.shape(), values.shape());
    let axis = usize::from(is_spectral);
    if si.len() != 2 || si != sv || si[axis] != main_len {
        return Err(UsidError(format!(
            "{}:{} and {}: {} ancillary datasets of shapes {:?} and {:?} do not fit a main dataset with {} {}",
            indices.filename(),
            indices.name(),
            values.name(),
            kind(is_spectral),
            si,
            sv,
            main_len,
            if is_spectral { "bins" } else { "positions" }
        )));
    }
    Ok(())
}

/// Writes `Position_Indices`/`Position_Values` (`is_spectral == false`, shape
/// (n_positions, n_dims)) or `Spectroscopic_Indices`/`Spectroscopic_Values` (shape
/// (n_dims, n_bins)) into `group`, as pyUSID's `write_ind_val_dsets` does for `DimType.DEFAULT`
/// dimensions. `dims` are listed fastest-varying first; they are stored slowest first.
fn write_ind_val_dsets(
    group: &Group,
    dims: &[DimSpec],
    is_spectral: bool,
) -> Result<(Dataset, Dataset), UsidError> {
    let base = prefix(is_spectral);
    if dims.is_empty() {
        return Err(UsidError(format!(
            "{}: no {} dimensions given",
            describe(group, base),
            kind(is_spectral)
        )));
    }
    for d in dims {
        if d.values.is_empty() {
            return Err(UsidError(format!(
                "{}: {} dimension '{}' has no values",
                describe(group, base),
                kind(is_spectral),
                d.name
            )));
        }
    }
    let (ind_name, val_name) = (format!("{base}_Indices"), format!("{base}_Values"));
    for n in [&ind_name, &val_name] {
        if group.link_exists(n) {
            return Err(UsidError(format!(
                "{}: already exists; link it with Ancillary::Existing instead",
                describe(group, n)
            )));
        }
    }
    let (indices, values) = build_ind_val_matrices(dims);
    let n_dims = dims.len();
    let n_steps = indices.len() / n_dims;
    // Matrices come dimension-major, slowest dimension first: (n_dims, n_steps). Positions are
    // stored transposed, one row per position.
    let shape = if is_spectral { (n_dims, n_steps) } else { (n_steps, n_dims) };
    let (indices, values) = if is_spectral {
        (indices, values)
    } else {
        (transpose(&indices, n_dims, n_steps), transpose(&values, n_dims, n_steps))
    };
    let h5_inds = write_2d(group, &ind_name, &indices, shape)?;
    let h5_vals = write_2d(group, &val_name, &values, shape)?;

    let labels: Vec<&str> = dims.iter().rev().map(|d| d.name.as_str()).collect();
    let units: Vec<&str> = dims.iter().rev().map(|d| d.units.as_str()).collect();
    let types = vec![0i64; n_dims];
    for dset in [&h5_inds, &h5_vals] {
        write_str_array_attr(dset, "labels", &labels)?;
        write_str_array_attr(dset, "units", &units)?;
        write_i64_array_attr(dset, "type", &types)?;
    }
    Ok((h5_inds, h5_vals))
}

/// pyUSID's `build_ind_val_matrices` followed by `write_ind_val_dsets`'s flip: for dimensions given
/// fastest first, the index and value matrices (n_dims × n_steps, row-major) with the slowest
/// dimension in row 0 and the first given dimension varying fastest along the steps.
fn build_ind_val_matrices(dims: &[DimSpec]) -> (Vec<IndexType>, Vec<ValueType>) {
    let n_steps: usize = dims.iter().map(|d| d.values.len()).product();
    let mut indices = Vec::with_capacity(dims.len() * n_steps);
    let mut values = Vec::with_capacity(dims.len() * n_steps);
    for (k, dim) in dims.iter().enumerate().rev() {
        // Each step of dimension k repeats for every combination of the faster dimensions.
        let repeat: usize = dims[..k].iter().map(|d| d.values.len()).product();
        let len = dim.values.len();
        for step in 0..n_steps {
            let i = (step / repeat) % len;
            indices.push(i as IndexType);
            values.push(dim.values[i] as ValueType);
        }
    }
    (indices, values)
}

fn transpose<T: Copy>(m: &[T], rows: usize, cols: usize) -> Vec<T> {
    let mut out = Vec::with_capacity(m.len());
    for c in 0..cols {
        out.extend((0..rows).map(|r| m[r * cols + c]));
    }
    out
}

fn write_2d<T: H5Type>(
    group: &Group,
    name: &str,
    data: &[T],
    shape: (usize, usize),
) -> Result<Dataset, UsidError> {
    let here = describe(group, name);
    let view = ndarray::ArrayView2::from_shape(shape, data)
        .map_err(|e| UsidError(format!("{here}: internal shape error: {e}")))?;
    group.new_dataset_builder().with_data(view).create(name).map_err(|e| h5_error(&here, "cannot write", e))
}

/// pyUSID's `link_as_main`: checks the shapes of the four ancillary datasets against `main`
/// (2-D, positions × bins) and sets the object-reference attributes `Position_Indices`,
/// `Position_Values`, `Spectroscopic_Indices` and `Spectroscopic_Values` on it. All five must be
/// in the same file.
fn link_as_main(
    main: &Dataset,
    pos_inds: &Dataset,
    pos_vals: &Dataset,
    spec_inds: &Dataset,
    spec_vals: &Dataset,
) -> Result<(), UsidError> {
    let here = format!("{}:{}", main.filename(), main.name());
    let shape = main.shape();
    if shape.len() != 2 {
        return Err(UsidError(format!("{here}: a main dataset must be 2-D, this one has shape {shape:?}")));
    }
    check_ancillary_shapes(pos_inds, pos_vals, false, shape[0])?;
    check_ancillary_shapes(spec_inds, spec_vals, true, shape[1])?;
    for (attr, anc) in [
        ("Position_Indices", pos_inds),
        ("Position_Values", pos_vals),
        ("Spectroscopic_Indices", spec_inds),
        ("Spectroscopic_Values", spec_vals),
    ] {
        if !same_file(main, anc) {
            return Err(UsidError(format!(
                "{here}: {attr} {}:{} is in another file; copy it over first (copy_ancillary)",
                anc.filename(),
                anc.name()
            )));
        }
        let reference: ObjectReference1 = main
            .reference(&anc.name())
            .map_err(|e| h5_error(&here, &format!("cannot reference {}", anc.name()), e))?;
        replace_attr(main, attr, &here)?;
        main.new_attr::<ObjectReference1>()
            .create(attr)
            .and_then(|a| a.write_scalar(&reference))
            .map_err(|e| h5_error(&here, &format!("cannot write attribute {attr}"), e))?;
    }
    Ok(())
}

/// Whether two objects live in the same HDF5 file (HDF5 1.10 has no file serial number to compare,
/// so compare the paths the files were opened with).
fn same_file(a: &Location, b: &Location) -> bool {
    same_path(std::path::Path::new(&a.filename()), std::path::Path::new(&b.filename()))
}

/// Whether two paths name the same file (after resolving links and relative parts).
pub(crate) fn same_path(a: &std::path::Path, b: &std::path::Path) -> bool {
    if a == b {
        return true;
    }
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(ca), Ok(cb)) => ca == cb,
        _ => false,
    }
}

/// Copies a pair of ancillary datasets (e.g. a source file's `Position_Indices` and
/// `Position_Values`) with their data and attributes into `dst_group`, under the same names, so a
/// main dataset in another file can link to them. Reference-typed attributes (old pycroscopy
/// files carry region references on ancillary datasets) are dropped: they would point into the
/// source file. Copied by our own reads and writes, not HDF5's object copy (see `usid::copy`).
pub fn copy_ancillary(
    src_indices: &Dataset,
    src_values: &Dataset,
    dst_group: &Group,
) -> Result<(Dataset, Dataset), UsidError> {
    let shape_i = src_indices.shape();
    if shape_i.len() != 2 || shape_i != src_values.shape() {
        return Err(UsidError(format!(
            "{}:{} and {}: not a pair of ancillary datasets (shapes {:?} and {:?})",
            src_indices.filename(),
            src_indices.name(),
            src_values.name(),
            shape_i,
            src_values.shape()
        )));
    }
    // pyUSID accepts one dataset serving as both indices and values: copy it once.
    let same = src_indices.name() == src_values.name();
    let sources: &[&Dataset] = if same { &[src_indices] } else { &[src_indices, src_values] };
    let mut out = Vec::with_capacity(2);
    for &src in sources {
        let name = base_name(&src.name());
        let here = describe(dst_group, &name);
        if dst_group.link_exists(&name) {
            return Err(UsidError(format!("{here}: already exists")));
        }
        out.push(super::copy::copy_dataset(src, dst_group, &name, &here)?);
    }
    if same {
        out.extend(out.first().cloned());
    }
    let values = out.pop();
    let indices = out.pop();
    match (indices, values) {
        (Some(i), Some(v)) => Ok((i, v)),
        _ => Err(UsidError(format!("{}: internal error copying ancillary datasets", dst_group.name()))),
    }
}

/// The last component of an HDF5 path.
pub(crate) fn base_name(path: &str) -> String {
    path.rsplit('/').next().unwrap_or(path).to_string()
}

/// Sets the string attribute `name` on a group, dataset or file (a scalar variable-length UTF-8
/// string, as h5py writes a Python `str`), replacing any existing attribute of that name.
pub fn write_str_attr(obj: &Location, name: &str, value: &str) -> Result<(), UsidError> {
    let here = obj_name(obj);
    let v: VarLenUnicode = value.parse().map_err(|e| {
        UsidError(format!("{here}: attribute {name}: cannot store {value:?} as an HDF5 string: {e}"))
    })?;
    write_attr(obj, name, &v)
}

/// Sets a scalar `f64` attribute (float64), replacing any existing one.
pub fn write_f64_attr(obj: &Location, name: &str, value: f64) -> Result<(), UsidError> {
    write_attr(obj, name, &value)
}

/// Sets a scalar `i64` attribute (int64), replacing any existing one.
pub fn write_i64_attr(obj: &Location, name: &str, value: i64) -> Result<(), UsidError> {
    write_attr(obj, name, &value)
}

/// Sets a 1-D `f64` array attribute (float64, shape (len,)), replacing any existing one.
pub fn write_f64_array_attr(obj: &Location, name: &str, values: &[f64]) -> Result<(), UsidError> {
    write_array_attr(obj, name, values)
}

/// Sets a 1-D `i64` array attribute (int64, shape (len,)), replacing any existing one.
fn write_i64_array_attr(obj: &Location, name: &str, values: &[i64]) -> Result<(), UsidError> {
    write_array_attr(obj, name, values)
}

/// Sets a 1-D string array attribute the way pyUSID writes `labels` and `units`: fixed-length,
/// null-padded, as long as the longest entry (numpy `|S<n>`); ASCII, or UTF-8 when an entry is
/// not ASCII. Entries longer than 256 bytes are refused.
pub fn write_str_array_attr(obj: &Location, name: &str, values: &[&str]) -> Result<(), UsidError> {
    let here = obj_name(obj);
    let longest = values.iter().map(|s| s.len()).max().unwrap_or(0);
    if longest > MAX_FIXED_STR {
        return Err(UsidError(format!(
            "{here}: attribute {name}: an entry of {longest} bytes is longer than {MAX_FIXED_STR}"
        )));
    }
    // HDF5 has no zero-length fixed strings; numpy's |S1 is what h5py writes for empty strings too.
    let width = longest.max(1);
    let bad = |e: &dyn std::fmt::Display| UsidError(format!("{here}: attribute {name}: {e}"));
    replace_attr(obj, name, &here)?;
    let result = if values.iter().all(|s| s.is_ascii()) {
        let v = values
            .iter()
            .map(|s| FixedAscii::<MAX_FIXED_STR>::from_ascii(s.as_bytes()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(&e))?;
        obj.new_attr_builder().with_data_as(v.as_slice(), TypeDescriptor::FixedAscii(width)).create(name)
    } else {
        let v = values
            .iter()
            .map(|s| s.parse::<FixedUnicode<MAX_FIXED_STR>>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(&e))?;
        obj.new_attr_builder().with_data_as(v.as_slice(), TypeDescriptor::FixedUnicode(width)).create(name)
    };
    result.map(|_| ()).map_err(|e| h5_error(&here, &format!("cannot write attribute {name}"), e))
}

fn write_attr<T: H5Type>(obj: &Location, name: &str, value: &T) -> Result<(), UsidError> {
    let here = obj_name(obj);
    replace_attr(obj, name, &here)?;
    obj.new_attr::<T>()
        .create(name)
        .and_then(|a| a.write_scalar(value))
        .map_err(|e| h5_error(&here, &format!("cannot write attribute {name}"), e))
}

fn write_array_attr<T: H5Type>(obj: &Location, name: &str, values: &[T]) -> Result<(), UsidError> {
    let here = obj_name(obj);
    replace_attr(obj, name, &here)?;
    obj.new_attr_builder()
        .with_data(values)
        .create(name)
        .map(|_| ())
        .map_err(|e| h5_error(&here, &format!("cannot write attribute {name}"), e))
}

/// h5py's `attrs[name] = v` replaces; HDF5's create does not, so delete first.
fn replace_attr(obj: &Location, name: &str, here: &str) -> Result<(), UsidError> {
    let exists =
        obj.attr_names().map_err(|e| h5_error(here, "cannot list attributes", e))?.iter().any(|n| n == name);
    if exists {
        obj.delete_attr(name).map_err(|e| h5_error(here, &format!("cannot replace attribute {name}"), e))?;
    }
    Ok(())
}

fn prefix(is_spectral: bool) -> &'static str {
    if is_spectral {
        "Spectroscopic"
    } else {
        "Position"
    }
}

fn kind(is_spectral: bool) -> &'static str {
    if is_spectral {
        "spectroscopic"
    } else {
        "position"
    }
}

/// `file:/group/name`, for messages.
fn describe(group: &Group, name: &str) -> String {
    let g = group.name();
    let sep = if g.ends_with('/') { "" } else { "/" };
    format!("{}:{g}{sep}{name}", group.filename())
}

fn obj_name(obj: &Location) -> String {
    format!("{}:{}", obj.filename(), obj.name())
}

/// Where, what, and HDF5's message on one line.
pub(super) fn h5_error(here: &str, what: &str, e: hdf5::Error) -> UsidError {
    UsidError(format!("{here}: {what}: {}", crate::error::one_line(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dims(sizes: &[usize]) -> Vec<DimSpec> {
        sizes
            .iter()
            .enumerate()
            .map(|(k, &n)| DimSpec::linear(format!("d{k}"), "u", 10.0 * k as f64, 1.0, n))
            .collect()
    }

    #[test]
    fn first_dimension_varies_fastest_and_is_stored_last() {
        let (ind, val) = build_ind_val_matrices(&dims(&[3, 2]));
        // Row 0 is the slow dimension d1 (size 2), row 1 the fast d0 (size 3).
        assert_eq!(ind, vec![0, 0, 0, 1, 1, 1, 0, 1, 2, 0, 1, 2]);
        assert_eq!(&val[..6], &[10.0, 10.0, 10.0, 11.0, 11.0, 11.0]);
        assert_eq!(&val[6..], &[0.0, 1.0, 2.0, 0.0, 1.0, 2.0]);
    }

    #[test]
    fn three_dimensions_tile_like_pyusid() {
        let (ind, _) = build_ind_val_matrices(&dims(&[2, 3, 2]));
        let rows: Vec<&[u32]> = ind.chunks(12).collect();
        assert_eq!(rows[0], &[0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
        assert_eq!(rows[1], &[0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2]);
        assert_eq!(rows[2], &[0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
    }

    #[test]
    fn transpose_puts_one_position_per_row() {
        assert_eq!(transpose(&[1, 2, 3, 4, 5, 6], 2, 3), vec![1, 4, 2, 5, 3, 6]);
    }

    #[test]
    fn base_name_is_last_path_component() {
        assert_eq!(base_name("/a/b/Position_Indices"), "Position_Indices");
        assert_eq!(base_name("x"), "x");
    }
}
