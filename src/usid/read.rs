//! Reading USID files: open a file with clear errors, list its main datasets, and validate one the
//! way pyUSID's `check_if_main` does, into a [`MainDataset`] with its dimensions.
//!
//! Everything here is defensive: a file is user input, so wrong attribute types, dangling
//! references and absurd declared sizes are errors with one readable line, never a panic, and no
//! read allocates more than [`MAX_ANCILLARY_ELEMENTS`] values.
use std::fmt::Write as _;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use hdf5::types::{FloatSize, IntSize, TypeDescriptor};
use hdf5::{Dataset, LinkType, LocationToken, LocationType};
use ndarray::{s, Array1, Array2};

use super::{Dim, ElementType, UsidError};

mod attr;

/// The most elements an ancillary (indices or values) dataset may have. Reading one costs 8 bytes
/// per element; this caps it at 2 GiB, far beyond any real map (a 8192 × 8192 scan with two
/// position dimensions is 2^27 elements), while a file that declares more gets an error instead
/// of an unbounded allocation.
pub const MAX_ANCILLARY_ELEMENTS: usize = 1 << 28;

/// The most position or spectroscopic dimensions a main dataset may have.
pub const MAX_DIMS: usize = attr::MAX_STRINGS;

/// The 8 bytes every HDF5 file starts with (at offset 0, or 512, 1024, 2048, … after a user
/// block).
const HDF5_SIGNATURE: [u8; 8] = *b"\x89HDF\r\n\x1a\n";

use crate::error::one_line;

/// Check that `path` names an existing regular file that carries the HDF5 signature, so that the
/// common mistakes (typo, directory, wrong file) get a crisp message before HDF5 sees the file.
/// Use it before opening a file some other way (e.g. with the MPI-IO driver).
pub fn check_hdf5_file(path: &Path) -> Result<(), UsidError> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => UsidError(format!("{shown}: no such file")),
        _ => UsidError(format!("{shown}: cannot be read ({})", one_line(e))),
    })?;
    if meta.is_dir() {
        return Err(UsidError(format!("{shown}: is a directory, not an HDF5 file")));
    }
    let mut file = std::fs::File::open(path)
        .map_err(|e| UsidError(format!("{shown}: cannot be read ({})", one_line(e))))?;
    let mut offset = 0u64;
    loop {
        let mut head = [0u8; 8];
        let found = file.seek(SeekFrom::Start(offset)).is_ok()
            && file.read_exact(&mut head).is_ok()
            && head == HDF5_SIGNATURE;
        if found {
            return Ok(());
        }
        // The signature sits at 0 or at a power of two from 512 on; stop at the end of the file.
        offset = if offset == 0 { 512 } else { offset * 2 };
        if offset.saturating_add(8) > meta.len() {
            return Err(UsidError(format!("{shown}: not an HDF5 file (no HDF5 signature)")));
        }
    }
}

/// Open an HDF5 file read-only, after [`check_hdf5_file`]. HDF5's error stack is silenced so the
/// user sees only our one line; a file with the signature that HDF5 still refuses is reported as
/// truncated or corrupt.
pub fn open_file(path: &Path) -> Result<hdf5::File, UsidError> {
    check_hdf5_file(path)?;
    hdf5::silence_errors(true);
    hdf5::File::open(path).map_err(|e| {
        UsidError(format!(
            "{}: cannot be opened as HDF5; the file may be truncated or corrupt ({})",
            path.display(),
            one_line(e)
        ))
    })
}

/// The paths of every USID main dataset in `file`, in the order h5py's `visititems` walks them
/// (depth first, names in increasing order), as pyUSID's `get_all_main` lists them. Only hard
/// links are followed and an object reachable by several links is listed once. The test is
/// pyUSID's: the layout (rank, attributes, ancillary datasets); the element type is not
/// checked here but by [`MainDataset::open`].
pub fn find_main_datasets(file: &hdf5::File) -> Result<Vec<String>, UsidError> {
    let file_name = file.filename();
    let mut found = Vec::new();
    // Objects with more than one hard link, already visited (single-link objects cannot be met
    // twice, so this stays tiny and a hard-link cycle cannot loop).
    let mut seen: Vec<LocationToken> = Vec::new();
    // An explicit stack instead of recursion: a deep hierarchy cannot overflow the call stack.
    let mut stack = vec!["/".to_string()];
    while let Some(path) = stack.pop() {
        let info = file
            .loc_info_by_name(&path)
            .map_err(|e| UsidError(format!("{file_name}: cannot read {path} ({})", one_line(e))))?;
        if info.num_links > 1 {
            if seen.contains(&info.token) {
                continue;
            }
            seen.push(info.token);
        }
        match info.loc_type {
            LocationType::Group => {
                let group = file.group(&path).map_err(|e| {
                    UsidError(format!("{file_name}: cannot open group {path} ({})", one_line(e)))
                })?;
                let mut children = Vec::new();
                group
                    .iter_visit_default(|name, link| {
                        if link.link_type == LinkType::Hard {
                            children.push(name.to_string());
                        }
                        Ok(())
                    })
                    .map_err(|e| UsidError(format!("{file_name}: cannot list {path} ({})", one_line(e))))?;
                let prefix = if path == "/" { "" } else { path.as_str() };
                // Reversed, so that the first name is popped first.
                stack.extend(children.iter().rev().map(|name| format!("{prefix}/{name}")));
            }
            LocationType::Dataset => {
                if let Ok(ds) = file.dataset(&path) {
                    if check_layout(&ds, &path).is_ok() {
                        found.push(path);
                    }
                }
            }
            _ => {}
        }
    }
    Ok(found)
}

impl ElementType {
    /// The element type of an HDF5 datatype: integers, `f32`/`f64`, and h5py's complex compound
    /// `{r, i}` of two equal floats. Anything else is `Err` with a description of the type.
    pub fn from_datatype(dtype: &hdf5::Datatype) -> Result<ElementType, String> {
        let desc = dtype.to_descriptor().map_err(|e| format!("an unknown type ({})", one_line(e)))?;
        Self::from_descriptor(&desc).ok_or_else(|| desc.to_string())
    }

    fn from_descriptor(desc: &TypeDescriptor) -> Option<ElementType> {
        use ElementType::*;
        Some(match desc {
            TypeDescriptor::Integer(IntSize::U1) => Int8,
            TypeDescriptor::Integer(IntSize::U2) => Int16,
            TypeDescriptor::Integer(IntSize::U4) => Int32,
            TypeDescriptor::Integer(IntSize::U8) => Int64,
            TypeDescriptor::Unsigned(IntSize::U1) => UInt8,
            TypeDescriptor::Unsigned(IntSize::U2) => UInt16,
            TypeDescriptor::Unsigned(IntSize::U4) => UInt32,
            TypeDescriptor::Unsigned(IntSize::U8) => UInt64,
            TypeDescriptor::Float(FloatSize::U4) => Float32,
            TypeDescriptor::Float(FloatSize::U8) => Float64,
            TypeDescriptor::Compound(c) => {
                let mut fields: Vec<_> = c.fields.iter().collect();
                fields.sort_by_key(|f| f.index);
                match fields.as_slice() {
                    [r, i] if r.name == "r" && i.name == "i" => match (&r.ty, &i.ty) {
                        (TypeDescriptor::Float(FloatSize::U4), TypeDescriptor::Float(FloatSize::U4)) => {
                            Complex64
                        }
                        (TypeDescriptor::Float(FloatSize::U8), TypeDescriptor::Float(FloatSize::U8)) => {
                            Complex128
                        }
                        _ => return None,
                    },
                    _ => return None,
                }
            }
            _ => return None,
        })
    }
}

/// Which pair of ancillary datasets: they differ in names and in which axis runs along the main
/// dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `Position_Indices`/`Position_Values`, shape (positions, dims): rows are positions.
    Position,
    /// `Spectroscopic_Indices`/`Spectroscopic_Values`, shape (dims, bins): columns are bins.
    Spectroscopic,
}

impl Kind {
    fn indices_name(self) -> &'static str {
        match self {
            Kind::Position => "Position_Indices",
            Kind::Spectroscopic => "Spectroscopic_Indices",
        }
    }
    fn values_name(self) -> &'static str {
        match self {
            Kind::Position => "Position_Values",
            Kind::Spectroscopic => "Spectroscopic_Values",
        }
    }
    /// The axis of the ancillary dataset (and of the main dataset) that runs over positions or
    /// bins; the other axis of the ancillary dataset runs over dimensions.
    fn step_axis(self) -> usize {
        match self {
            Kind::Position => 0,
            Kind::Spectroscopic => 1,
        }
    }
    fn steps_word(self) -> &'static str {
        match self {
            Kind::Position => "positions",
            Kind::Spectroscopic => "spectroscopic bins",
        }
    }
}

/// A validated pair of ancillary datasets.
#[derive(Debug, Clone)]
struct Ancillary {
    kind: Kind,
    indices: Dataset,
    values: Dataset,
    labels: Vec<String>,
    units: Vec<String>,
}

impl Ancillary {
    fn n_dims(&self) -> usize {
        self.labels.len()
    }
}

/// What [`check_layout`] establishes about a main dataset.
#[derive(Debug, Clone)]
struct Layout {
    n_positions: usize,
    n_bins: usize,
    quantity: String,
    units: String,
    pos: Ancillary,
    spec: Ancillary,
}

/// The error for a dataset that fails the main-dataset test: `{path} is not a USID main dataset:
/// {why}`.
fn not_main(path: &str, why: impl std::fmt::Display) -> UsidError {
    UsidError(format!("{path} is not a USID main dataset: {why}"))
}

/// `(30, 3)`, as numpy prints a shape.
fn shape_str(shape: &[usize]) -> String {
    let mut s = String::from("(");
    for (i, n) in shape.iter().enumerate() {
        let _ = write!(s, "{}{n}", if i > 0 { ", " } else { "" });
    }
    if shape.len() == 1 {
        s.push(',');
    }
    s.push(')');
    s
}

/// The dataset an object-reference attribute of `main` points at.
fn referenced(main: &Dataset, path: &str, name: &str) -> Result<Dataset, UsidError> {
    let a = attr::find(main, name)
        .map_err(|why| not_main(path, why))?
        .ok_or_else(|| not_main(path, format!("attribute {name} missing")))?;
    attr::dereference_dataset(&a, main).map_err(|why| not_main(path, format!("attribute {name} {why}")))
}

/// A scalar string attribute of `main`.
fn string_attr(main: &Dataset, path: &str, name: &str) -> Result<String, UsidError> {
    let a = attr::find(main, name)
        .map_err(|why| not_main(path, why))?
        .ok_or_else(|| not_main(path, format!("attribute {name} missing")))?;
    attr::scalar_string(&a).map_err(|why| not_main(path, format!("attribute {name} {why}")))
}

/// The `labels` or `units` list of an ancillary dataset.
fn anc_strings(ds: &Dataset, role: &str, path: &str, name: &str) -> Result<Vec<String>, UsidError> {
    let where_ = format!("{role} ({})", ds.name());
    let a = attr::find(ds, name)
        .map_err(|why| not_main(path, format!("{where_}: {why}")))?
        .ok_or_else(|| not_main(path, format!("attribute {name} of {where_} missing")))?;
    attr::string_list(&a).map_err(|why| not_main(path, format!("attribute {name} of {where_} {why}")))
}

/// Check one ancillary dataset on its own: 2-D, numeric, not too large.
fn check_anc_dataset(ds: &Dataset, role: &str, path: &str) -> Result<(), UsidError> {
    let where_ = format!("{role} ({})", ds.name());
    let shape = ds.shape();
    if shape.len() != 2 {
        return Err(not_main(path, format!("{where_} has shape {}; it must be 2-D", shape_str(&shape))));
    }
    let count = shape[0].saturating_mul(shape[1]);
    if count > MAX_ANCILLARY_ELEMENTS {
        return Err(not_main(
            path,
            format!("{where_} has {count} elements, more than the {MAX_ANCILLARY_ELEMENTS} usid-peaks reads"),
        ));
    }
    let numeric = ds.dtype().and_then(|t| t.to_descriptor()).map(|d| {
        matches!(d, TypeDescriptor::Integer(_) | TypeDescriptor::Unsigned(_) | TypeDescriptor::Float(_))
    });
    match numeric {
        Ok(true) => Ok(()),
        _ => Err(not_main(path, format!("{where_} does not hold numbers"))),
    }
}

/// Validate the indices/values pair of one kind against the main shape, and their labels/units
/// (pyUSID's `validate_anc_dset_attrs`, plus: one label per dimension).
fn check_ancillary(
    kind: Kind,
    indices: Dataset,
    values: Dataset,
    main_shape: &[usize],
    path: &str,
) -> Result<Ancillary, UsidError> {
    let (iname, vname) = (kind.indices_name(), kind.values_name());
    check_anc_dataset(&indices, iname, path)?;
    check_anc_dataset(&values, vname, path)?;
    let (ishape, vshape) = (indices.shape(), values.shape());
    if ishape != vshape {
        return Err(not_main(
            path,
            format!(
                "{iname} ({}) has shape {} but {vname} ({}) has shape {}",
                indices.name(),
                shape_str(&ishape),
                values.name(),
                shape_str(&vshape)
            ),
        ));
    }
    let axis = kind.step_axis();
    if ishape[axis] != main_shape[axis] {
        return Err(not_main(
            path,
            format!(
                "{iname} ({}) has shape {} but the dataset has {} {}",
                indices.name(),
                shape_str(&ishape),
                main_shape[axis],
                kind.steps_word()
            ),
        ));
    }
    let n_dims = ishape[1 - axis];
    if n_dims == 0 || n_dims > MAX_DIMS {
        return Err(not_main(
            path,
            format!("{iname} ({}) has {n_dims} dimensions; 1 to {MAX_DIMS} are supported", indices.name()),
        ));
    }
    let ilabels = anc_strings(&indices, iname, path, "labels")?;
    let iunits = anc_strings(&indices, iname, path, "units")?;
    let vlabels = anc_strings(&values, vname, path, "labels")?;
    let vunits = anc_strings(&values, vname, path, "units")?;
    for (role, labels, units) in [(iname, &ilabels, &iunits), (vname, &vlabels, &vunits)] {
        if labels.len() != units.len() {
            return Err(not_main(
                path,
                format!("{role} has {} labels but {} units", labels.len(), units.len()),
            ));
        }
    }
    if ilabels != vlabels {
        return Err(not_main(path, format!("labels of {iname} {ilabels:?} and {vname} {vlabels:?} differ")));
    }
    if iunits != vunits {
        return Err(not_main(path, format!("units of {iname} {iunits:?} and {vname} {vunits:?} differ")));
    }
    if ilabels.len() != n_dims {
        return Err(not_main(
            path,
            format!("{iname} ({}) has {n_dims} dimensions but {} labels", indices.name(), ilabels.len()),
        ));
    }
    Ok(Ancillary { kind, indices, values, labels: ilabels, units: iunits })
}

/// pyUSID's `check_if_main`, with the reason on failure: 2-D; the four object references resolve
/// to datasets; `quantity` and `units` are strings; the ancillary shapes match; labels and units
/// agree. Checks run in pyUSID's order so the first failure named is the one pyUSID meets first.
fn check_layout(main: &Dataset, path: &str) -> Result<Layout, UsidError> {
    let shape = main.shape();
    if shape.len() != 2 {
        return Err(not_main(
            path,
            format!(
                "it is {}-D (shape {}), a main dataset is 2-D (positions × bins)",
                shape.len(),
                shape_str(&shape)
            ),
        ));
    }
    let pos_inds = referenced(main, path, Kind::Position.indices_name())?;
    let pos_vals = referenced(main, path, Kind::Position.values_name())?;
    let spec_inds = referenced(main, path, Kind::Spectroscopic.indices_name())?;
    let spec_vals = referenced(main, path, Kind::Spectroscopic.values_name())?;
    let quantity = string_attr(main, path, "quantity")?;
    let units = string_attr(main, path, "units")?;
    let pos = check_ancillary(Kind::Position, pos_inds, pos_vals, &shape, path)?;
    let spec = check_ancillary(Kind::Spectroscopic, spec_inds, spec_vals, &shape, path)?;
    Ok(Layout { n_positions: shape[0], n_bins: shape[1], quantity, units, pos, spec })
}

/// Sorts `v` and keeps one of each distinct value (numpy's `np.unique`, NaNs counted once).
fn sort_distinct(v: &mut Vec<f64>) {
    v.sort_unstable_by(f64::total_cmp);
    v.dedup_by(|a, b| a == b || (a.is_nan() && b.is_nan()));
}

/// The size of each dimension as pyUSID's `get_dimensionality` finds it: the number of distinct
/// index values along it. Reads the index table in blocks of whole entries (all dimensions at
/// once): one read per block whatever the driver — through MPI-IO, a strided read of one column
/// costs one system call per element (half a million for a 512 × 512 map). Each dimension's
/// values are reduced to their distinct ones whenever they have doubled since the last time, so
/// memory stays about a block plus twice the distinct values, and the time O(N log N).
fn dim_sizes(anc: &Ancillary, path: &str) -> Result<Vec<usize>, UsidError> {
    const BLOCK: usize = 1 << 16;
    let shape = anc.indices.shape();
    let entries = match anc.kind {
        Kind::Position => shape[0],
        Kind::Spectroscopic => shape[1],
    };
    // Per dimension: the values so far, and how many of them were distinct at the last reduction.
    let mut distinct: Vec<(Vec<f64>, usize)> = vec![(Vec::new(), 0); anc.n_dims()];
    for start in (0..entries).step_by(BLOCK) {
        let end = (start + BLOCK).min(entries);
        let read = match anc.kind {
            Kind::Position => anc.indices.read_slice_2d::<f64, _>(s![start..end, ..]),
            Kind::Spectroscopic => {
                anc.indices.read_slice_2d::<f64, _>(s![.., start..end]).map(|a| a.reversed_axes())
            }
        };
        let block = read.map_err(|e| {
            UsidError(format!("{path}: cannot read {} ({})", anc.indices.name(), one_line(e)))
        })?;
        for (d, (values, reduced)) in distinct.iter_mut().enumerate() {
            values.extend(block.column(d));
            if values.len() >= 2 * (*reduced).max(BLOCK) {
                sort_distinct(values);
                *reduced = values.len();
            }
        }
    }
    Ok(distinct
        .into_iter()
        .map(|(mut values, _)| {
            sort_distinct(&mut values);
            values.len()
        })
        .collect())
}

/// A validated USID main dataset: a 2-D (positions × spectroscopic bins) dataset with its
/// quantity, units, element type and dimensions, and handles on its ancillary datasets.
#[derive(Debug, Clone)]
pub struct MainDataset {
    /// The dataset's absolute HDF5 path, e.g. `/Measurement_000/Channel_000/Raw_Data`.
    pub path: String,
    /// The physical quantity, e.g. `Amplitude`.
    pub quantity: String,
    /// The unit of the quantity, e.g. `V`.
    pub units: String,
    /// The element type.
    pub dtype: ElementType,
    /// Rows: the number of positions (pixels).
    pub n_positions: usize,
    /// Columns: the number of spectroscopic bins per position.
    pub n_bins: usize,
    /// The position dimensions in the order of the `Position_Indices` columns (pyUSID's order,
    /// as `USIDataset.pos_dim_labels` lists them).
    pub position_dims: Vec<Dim>,
    /// The spectroscopic dimensions in the order of the `Spectroscopic_Indices` rows.
    pub spectroscopic_dims: Vec<Dim>,
    dataset: Dataset,
    pos: Ancillary,
    spec: Ancillary,
}

impl MainDataset {
    /// Open the dataset at `path` in `file` and validate it as a USID main dataset. Errors name
    /// what is wrong in one line: the path does not exist, is a group, is not main (and why), or
    /// has an element type usid-peaks does not read.
    pub fn open(file: &hdf5::File, path: &str) -> Result<Self, UsidError> {
        let file_name = file.filename();
        let kind = file
            .loc_type_by_name(path)
            .map_err(|_| UsidError(format!("{path} does not exist in {file_name}")))?;
        match kind {
            LocationType::Dataset => {}
            LocationType::Group => {
                return Err(UsidError(format!("{path} in {file_name} is a group, not a dataset")))
            }
            _ => return Err(UsidError(format!("{path} in {file_name} is not a dataset"))),
        }
        let dataset = file
            .dataset(path)
            .map_err(|e| UsidError(format!("{path} in {file_name} cannot be opened ({})", one_line(e))))?;
        // The canonical absolute name, whatever form of the path the caller used.
        let path = dataset.name();
        let layout = check_layout(&dataset, &path)?;
        let dtype =
            dataset.dtype().map_err(one_line).and_then(|t| ElementType::from_datatype(&t)).map_err(|ty| {
                UsidError(format!(
                    "{path} has elements of type {ty}; usid-peaks reads complex, float and integer data"
                ))
            })?;
        let dims = |anc: &Ancillary| -> Result<Vec<Dim>, UsidError> {
            let sizes = dim_sizes(anc, &path)?;
            Ok(anc
                .labels
                .iter()
                .zip(&anc.units)
                .zip(sizes)
                .map(|((name, units), size)| Dim { name: name.clone(), units: units.clone(), size })
                .collect())
        };
        let position_dims = dims(&layout.pos)?;
        let spectroscopic_dims = dims(&layout.spec)?;
        Ok(MainDataset {
            quantity: layout.quantity,
            units: layout.units,
            dtype,
            n_positions: layout.n_positions,
            n_bins: layout.n_bins,
            position_dims,
            spectroscopic_dims,
            dataset,
            pos: layout.pos,
            spec: layout.spec,
            path,
        })
    }

    /// The raw HDF5 handle, for the engine's reads.
    pub fn dataset(&self) -> &Dataset {
        &self.dataset
    }

    /// `[n_positions, n_bins]`.
    pub fn shape(&self) -> [usize; 2] {
        [self.n_positions, self.n_bins]
    }

    /// `quantity (units)`, as pyUSID's `data_descriptor`.
    pub fn descriptor(&self) -> String {
        format!("{} ({})", self.quantity, self.units)
    }

    fn read_values(&self, ds: &Dataset) -> Result<Array2<f64>, UsidError> {
        ds.read_2d::<f64>()
            .map_err(|e| UsidError(format!("{}: cannot read {} ({})", self.path, ds.name(), one_line(e))))
    }

    /// `Position_Values`, shape (n_positions, n_position_dims), in the units of
    /// [`Self::position_dims`].
    pub fn position_values(&self) -> Result<Array2<f64>, UsidError> {
        self.read_values(&self.pos.values)
    }

    /// `Spectroscopic_Values`, shape (n_spectroscopic_dims, n_bins), in the units of
    /// [`Self::spectroscopic_dims`].
    pub fn spectroscopic_values(&self) -> Result<Array2<f64>, UsidError> {
        self.read_values(&self.spec.values)
    }

    /// `Spectroscopic_Indices`, shape (n_spectroscopic_dims, n_bins), as f64.
    pub fn spectroscopic_indices(&self) -> Result<Array2<f64>, UsidError> {
        self.read_values(&self.spec.indices)
    }

    /// The index in [`Self::spectroscopic_dims`] of the dimension named `name`.
    pub fn spectroscopic_dim_index(&self, name: &str) -> Option<usize> {
        self.spectroscopic_dims.iter().position(|d| d.name == name)
    }

    /// The values of one spectroscopic dimension over the bins (a row of
    /// [`Self::spectroscopic_values`]), length n_bins: the x axis of a spectrum.
    pub fn spectroscopic_axis(&self, dim: usize) -> Result<Array1<f64>, UsidError> {
        if dim >= self.spectroscopic_dims.len() {
            return Err(UsidError(format!(
                "{} has {} spectroscopic dimensions, not {}",
                self.path,
                self.spectroscopic_dims.len(),
                dim + 1
            )));
        }
        self.spec.values.read_slice_1d::<f64, _>(s![dim, ..]).map_err(|e| {
            UsidError(format!("{}: cannot read {} ({})", self.path, self.spec.values.name(), one_line(e)))
        })
    }

    /// HDF5 path of the `Position_Indices` dataset (to link results to it).
    pub fn position_indices_path(&self) -> String {
        self.pos.indices.name()
    }

    /// HDF5 path of the `Position_Values` dataset.
    pub fn position_values_path(&self) -> String {
        self.pos.values.name()
    }

    /// HDF5 path of the `Spectroscopic_Indices` dataset.
    pub fn spectroscopic_indices_path(&self) -> String {
        self.spec.indices.name()
    }

    /// HDF5 path of the `Spectroscopic_Values` dataset.
    pub fn spectroscopic_values_path(&self) -> String {
        self.spec.values.name()
    }

    /// Handles on the ancillary datasets, in the order Position_Indices, Position_Values,
    /// Spectroscopic_Indices, Spectroscopic_Values (e.g. to make references to them).
    pub fn ancillary_datasets(&self) -> [&Dataset; 4] {
        [&self.pos.indices, &self.pos.values, &self.spec.indices, &self.spec.values]
    }

    /// Which of [`Self::position_dims`] varies fastest from one pixel (row) to the next — the
    /// columns of the map (X). It is read from `Position_Indices`, not assumed from the order of
    /// the labels: pyUSID 0.0.12 lists dimensions slowest first, older files fastest first.
    /// With a single pixel, the last dimension.
    pub fn fastest_position_dim(&self) -> Result<usize, UsidError> {
        let n_dims = self.position_dims.len();
        if self.n_positions < 2 || n_dims < 2 {
            return Ok(n_dims.saturating_sub(1));
        }
        let first = self.pos.indices.read_slice_2d::<i64, _>(s![0..2, ..]).map_err(|e| {
            UsidError(format!("{}: cannot read {} ({})", self.path, self.pos.indices.name(), one_line(e)))
        })?;
        Ok((0..n_dims).find(|&d| first[[0, d]] != first[[1, d]]).unwrap_or(n_dims - 1))
    }
}

#[cfg(test)]
mod tests {
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

    fn anc(
        group: &hdf5::Group,
        name: &str,
        data: &Array2<f64>,
        labels: &[&str],
        units: &[&str],
        how: Strings,
    ) {
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
        let main =
            g.new_dataset_builder().with_data(&Array2::<f32>::zeros((6, 4))).create("Raw_Data").unwrap();
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
        let mut sizes: Vec<(String, usize)> =
            m.position_dims.iter().map(|d| (d.name.clone(), d.size)).collect();
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
            write_scalar_string(
                ds,
                "Spectroscopic_Values",
                "/Measurement_000/Channel_000/Spectroscopic_Values",
            );
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
            ds.new_attr::<ObjectReference1>()
                .create("Position_Indices")
                .unwrap()
                .write_scalar(&bogus)
                .unwrap();
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
            for (ds, labels, units) in
                [(&pi, &["X", "Y"][..], &["m", "m"][..]), (&pv, &["X", "Y"], &["m", "m"])]
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
        assert!(open_file(dir.path())
            .unwrap_err()
            .to_string()
            .ends_with(": is a directory, not an HDF5 file"));
        let text = dir.path().join("notes.txt");
        std::fs::write(&text, "hello, not HDF5\n".repeat(100)).unwrap();
        assert!(open_file(&text)
            .unwrap_err()
            .to_string()
            .ends_with(": not an HDF5 file (no HDF5 signature)"));
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
}
