//! Finding and opening NSID datasets: pyNSID's `check_if_main` (which datasets are NSID, listed
//! as `get_all_main` lists them) and `read_h5py_dataset` (what their dimensions are), with the
//! reason in one line where a dataset is not NSID or cannot be used.
//!
//! Everything here is defensive, as the USID reader is: a file is user input, so wrong attribute
//! types, dangling references and absurd declared sizes are errors, never a panic, and no read
//! allocates more than [`MAX_SCALE_VALUES`] values per scale.
use hdf5::filters::Filter;
use hdf5::types::TypeDescriptor;
use hdf5::{Dataset, LocationType};

use super::scales;
use super::{Dimension, DimensionType, NsidError};
use crate::error::one_line;
use crate::usid::results::parent_path;
use crate::usid::ElementType;
use crate::usid::{attr, visit_datasets};

/// The most values a dimension scale may have (8 bytes each as read: 2 GiB), far beyond any real
/// axis; a file that declares more gets an error instead of an unbounded allocation.
pub const MAX_SCALE_VALUES: usize = 1 << 28;

/// The attributes pyNSID's `check_if_main` requires on an NSID dataset, all strings, in its
/// order.
const MAIN_ATTRS: [&str; 7] =
    ["quantity", "units", "main_data_name", "pyNSID_version", "data_type", "modality", "source"];

/// The attributes it requires on the dimension scale of every axis (their presence only).
const SCALE_ATTRS: [&str; 4] = ["dimension_type", "name", "quantity", "units"];

/// How a dataset's values are laid out in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Storage {
    /// In one block: any hyperslab is one strided read.
    Contiguous,
    /// In the object header (small datasets).
    Compact,
    /// In chunks of `chunk` elements, each run through `filters` (e.g. `shuffle`, `gzip 4`), in
    /// the order the writer applied them; HDF5's read undoes them on the thread that calls it.
    Chunked { chunk: Vec<usize>, filters: Vec<String> },
    /// Mapped from other datasets (HDF5's virtual datasets).
    Virtual,
}

impl Storage {
    fn of(ds: &Dataset) -> Storage {
        match ds.layout() {
            hdf5::dataset::Layout::Compact => Storage::Compact,
            hdf5::dataset::Layout::Contiguous => Storage::Contiguous,
            hdf5::dataset::Layout::Chunked => Storage::Chunked {
                chunk: ds.chunk().unwrap_or_default(),
                filters: ds.filters().iter().map(filter_name).collect(),
            },
            _ => Storage::Virtual,
        }
    }
}

fn filter_name(f: &Filter) -> String {
    match f {
        Filter::Deflate(level) => format!("gzip {level}"),
        Filter::Shuffle => "shuffle".to_string(),
        Filter::Fletcher32 => "fletcher32".to_string(),
        other => format!("{other:?}").to_lowercase(),
    }
}

/// The paths of every NSID dataset in `file`, exactly those pyNSID's `get_all_main` lists and in
/// its order (h5py's `visititems`: depth first, names in increasing order, each object once): a
/// dataset whose every axis has a dimension scale attached, with pyNSID's attributes as strings,
/// and for every axis a dataset named by the axis' label beside it, 1-D, as long as the axis, with
/// the scale attributes. The element type is not checked here but by [`NsidDataset::open`].
pub fn find_nsid_datasets(file: &hdf5::File) -> Result<Vec<String>, NsidError> {
    let mut found = Vec::new();
    visit_datasets(file, |path, ds| {
        if check_if_main(file, ds).is_ok() {
            found.push(path.to_string());
        }
    })
    .map_err(|e| NsidError::input(e.0))?;
    Ok(found)
}

/// Whether the dataset at `path` of `file` has dimension scales attached (`DIMENSION_LIST`): one
/// that is not a USID main dataset is then opened as NSID, and its errors are NSID's.
pub fn has_dimension_scales(file: &hdf5::File, path: &str) -> bool {
    file.dataset(path).is_ok_and(|d| attr::find(&d, "DIMENSION_LIST").is_ok_and(|a| a.is_some()))
}

/// What [`check_if_main`] establishes: the scales attached to each axis and the axis labels.
struct Checked {
    scales: Vec<Vec<Dataset>>,
    labels: Vec<String>,
}

/// pyNSID's `check_if_main`, with the reason on failure, in its order: every axis has a scale
/// attached; the seven attributes exist and are strings; for each axis the dataset its label names
/// in the dataset's group has the scale attributes, is 1-D and as long as the axis.
fn check_if_main(file: &hdf5::File, ds: &Dataset) -> Result<Checked, String> {
    let shape = ds.shape();
    let scales = match scales::attached(ds)? {
        None if !shape.is_empty() => return Err("it has no dimension scales (no DIMENSION_LIST)".into()),
        None => Vec::new(),
        Some(s) => s,
    };
    if let Some(axis) = scales.iter().position(Vec::is_empty) {
        return Err(format!("axis {axis} has no dimension scale attached"));
    }
    for name in MAIN_ATTRS {
        if attr::find(ds, name)?.is_none() {
            return Err(format!("attribute {name} missing"));
        }
    }
    for name in MAIN_ATTRS {
        string_attr(ds, name)?;
    }
    let labels = scales::labels(ds)?;
    let group = file.group(parent_path(&ds.name())).map_err(one_line)?;
    for (axis, (label, &size)) in labels.iter().zip(&shape).enumerate() {
        let what = format!("the dimension scale {label:?} of axis {axis}");
        if label.is_empty() {
            return Err(format!("axis {axis} has no label (DIMENSION_LABELS), which names its scale"));
        }
        match group.loc_type_by_name(label) {
            Ok(LocationType::Dataset) => {}
            Ok(_) => return Err(format!("{what} is not a dataset")),
            Err(_) => return Err(format!("{what} is not in {}", group.name())),
        }
        let scale = group.dataset(label).map_err(|e| format!("{what} cannot be opened ({})", one_line(e)))?;
        if let Some(missing) = SCALE_ATTRS.iter().find(|n| !matches!(attr::find(&scale, n), Ok(Some(_)))) {
            return Err(format!("{what} has no attribute {missing}"));
        }
        check_scale_shape(&scale, size).map_err(|why| format!("{what} {why}"))?;
    }
    Ok(Checked { scales, labels })
}

/// A scale must be 1-D with one value per step of its axis.
fn check_scale_shape(scale: &Dataset, size: usize) -> Result<(), String> {
    match scale.shape().as_slice() {
        [n] if *n == size => Ok(()),
        [n] => Err(format!("has {n} values, the axis {size}")),
        other => Err(format!("is {}-D, not 1-D", other.len())),
    }
}

/// A scalar string attribute that must exist.
fn string_attr(obj: &Dataset, name: &str) -> Result<String, String> {
    let a = attr::find(obj, name)?.ok_or_else(|| format!("attribute {name} missing"))?;
    attr::scalar_string(&a).map_err(|why| format!("attribute {name} {why}"))
}

/// A validated NSID dataset: its dimensions (one per axis, in storage order: the first varies
/// slowest), the attributes pyNSID reads, its element type and storage, and the HDF5 handle.
#[derive(Debug, Clone)]
pub struct NsidDataset {
    /// The dataset's absolute HDF5 path, e.g. `/Measurement_000/Channel_000/Raw_Data/Raw_Data`.
    pub path: String,
    /// The extent of each axis.
    pub shape: Vec<usize>,
    /// One per axis, as pyNSID's reader builds them (name from the axis label; values, quantity,
    /// units and type from the attached scale).
    pub dims: Vec<Dimension>,
    /// The physical quantity of the values, e.g. `Amplitude`, and its unit, e.g. `V`.
    pub quantity: String,
    pub units: String,
    /// sidpy's `DataType` name, e.g. `SPECTRAL_IMAGE`, `IMAGE_STACK`, `SPECTRUM`.
    pub data_type: String,
    /// E.g. `Band Excitation`.
    pub modality: String,
    /// What produced the data.
    pub source: String,
    /// The title of the sidpy Dataset that was written (`main_data_name`).
    pub main_data_name: String,
    /// The versions of pyNSID and (where written) sidpy that wrote the file.
    pub pynsid_version: String,
    pub sidpy_version: Option<String>,
    /// The stored element type.
    pub element: ElementType,
    /// How the values are laid out in the file.
    pub storage: Storage,
    dataset: Dataset,
}

impl NsidDataset {
    /// Open the dataset at `path` in `file` and validate it as NSID (pyNSID's check), then as data
    /// usid-peaks reads: its element type, and for every axis the dimension pyNSID's reader makes
    /// of it (a generic one where sidpy refuses the scale; string attributes required). Errors name
    /// what is wrong in one line ([`crate::error::Class::Input`]).
    pub fn open(file: &hdf5::File, path: &str) -> Result<Self, NsidError> {
        let file_name = file.filename();
        match file.loc_type_by_name(path) {
            Ok(LocationType::Dataset) => {}
            Ok(LocationType::Group) => {
                return Err(NsidError::input(format!("{path} in {file_name} is a group, not a dataset")))
            }
            Ok(_) => return Err(NsidError::input(format!("{path} in {file_name} is not a dataset"))),
            Err(_) => return Err(NsidError::input(format!("{path} does not exist in {file_name}"))),
        }
        let dataset = file.dataset(path).map_err(|e| {
            NsidError::input(format!("{path} in {file_name} cannot be opened ({})", one_line(e)))
        })?;
        // The canonical absolute name, whatever form of the path the caller used.
        let path = dataset.name();
        let not_nsid = |why: String| NsidError::input(format!("{path} is not an NSID dataset: {why}"));
        let checked = check_if_main(file, &dataset).map_err(not_nsid)?;
        let element = element_of(&dataset).map_err(|ty| {
            NsidError::input(format!(
                "{path} has elements of type {ty}; usid-peaks reads complex, float and integer data"
            ))
        })?;
        let shape = dataset.shape();
        let dims = (0..shape.len())
            .map(|axis| read_dimension(&checked, axis, shape[axis]))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|why| NsidError::input(format!("{path}: {why}")))?;
        let text = |name: &str| string_attr(&dataset, name).map_err(not_nsid);
        let sidpy_version = match attr::find(&dataset, "sidpy_version") {
            Ok(Some(a)) => attr::scalar_string(&a).ok(),
            _ => None,
        };
        Ok(NsidDataset {
            quantity: text("quantity")?,
            units: text("units")?,
            data_type: text("data_type")?,
            modality: text("modality")?,
            source: text("source")?,
            main_data_name: text("main_data_name")?,
            pynsid_version: text("pyNSID_version")?,
            sidpy_version,
            element,
            storage: Storage::of(&dataset),
            shape,
            dims,
            dataset,
            path,
        })
    }

    /// The raw HDF5 handle, for the reader.
    pub fn dataset(&self) -> &Dataset {
        &self.dataset
    }

    /// The number of axes.
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// The index of the axis named `name`.
    pub fn axis(&self, name: &str) -> Option<usize> {
        self.dims.iter().position(|d| d.name == name)
    }

    /// `quantity (units)`, as sidpy prints a dataset's descriptor.
    pub fn descriptor(&self) -> String {
        format!("{} ({})", self.quantity, self.units)
    }
}

/// The element type of a dataset (the USID model's, float16 included); `Err` with a description
/// of any other type.
fn element_of(ds: &Dataset) -> Result<ElementType, String> {
    let dtype = ds.dtype().map_err(|e| format!("an unknown type ({})", one_line(e)))?;
    ElementType::from_datatype(&dtype)
}

/// The dimension of `axis` (of `size` steps) as pyNSID's reader makes it from the scale it takes
/// for the axis: sidpy's `Dimension` of the label, the scale's values and its attributes (trimmed,
/// `generic` where the scale lacks one). Where sidpy refuses that dimension (an empty quantity,
/// unit or type, values that are not 1-D numbers as long as the axis) pyNSID's reader keeps the
/// generic one instead, and so does this ([`generic_dimension`]). An attribute that is not a
/// string makes pyNSID's reader fail: an error here too.
fn read_dimension(checked: &Checked, axis: usize, size: usize) -> Result<Dimension, String> {
    let label = checked.labels.get(axis).map_or("", |l| l.trim());
    let what = format!("the dimension scale of axis {axis} ({label})");
    let scale = checked
        .scales
        .get(axis)
        .and_then(|s| scales::pynsid_choice(s))
        .ok_or_else(|| format!("axis {axis} ({label}) has no dimension scale attached"))?;
    if size > MAX_SCALE_VALUES {
        return Err(format!("{what} has {size} values, more than the {MAX_SCALE_VALUES} usid-peaks reads"));
    }
    let text = |attr_name: &str| -> Result<String, String> {
        match attr::find(scale, attr_name)? {
            None => Ok("generic".to_string()),
            Some(a) => attr::scalar_string(&a)
                .map(|t| t.trim().to_string())
                .map_err(|why| format!("{what}: attribute {attr_name} {why}")),
        }
    };
    let (quantity, units, dimension_type) = (text("quantity")?, text("units")?, text("dimension_type")?);
    let values = scale_values(scale, size).map_err(|why| format!("{what}: {why}"))?;
    match values {
        Some(values) if ![label, &quantity, &units, &dimension_type].iter().any(|t| t.is_empty()) => {
            Ok(Dimension {
                name: label.to_string(),
                quantity,
                units,
                dimension_type: DimensionType::parse(&dimension_type),
                values,
            })
        }
        _ => Ok(generic_dimension(axis, size)),
    }
}

/// A scale's values as f64 when they are 1-D numbers as long as the axis; `None` when sidpy would
/// refuse them (another shape, not numbers); `Err` when numbers cannot be read (I/O).
fn scale_values(scale: &Dataset, size: usize) -> Result<Option<Vec<f64>>, String> {
    if check_scale_shape(scale, size).is_err() {
        return Ok(None);
    }
    let dtype = scale.dtype().map_err(one_line)?;
    let numeric = matches!(
        dtype.to_descriptor(),
        Ok(TypeDescriptor::Integer(_) | TypeDescriptor::Unsigned(_) | TypeDescriptor::Float(_))
    );
    if !numeric {
        return Ok(None);
    }
    scale
        .as_reader()
        .conversion(hdf5::Conversion::Soft)
        .read_raw::<f64>()
        .map(Some)
        .map_err(|e| format!("its values cannot be read ({})", one_line(e)))
}

/// The dimension sidpy's `Dataset.from_array` gives axis `axis` and pyNSID's reader keeps where
/// the scale does not make a sidpy `Dimension`: named `a`, `b`, … by position, `generic` quantity
/// and units, UNKNOWN, the values 0, 1, 2, ….
fn generic_dimension(axis: usize, size: usize) -> Dimension {
    let name = char::from_u32(u32::from(b'a') + axis as u32).filter(|c| c.is_ascii_lowercase());
    Dimension {
        name: name.map_or_else(|| format!("dim_{axis}"), String::from),
        quantity: "generic".into(),
        units: "generic".into(),
        dimension_type: DimensionType::Unknown,
        values: (0..size).map(|i| i as f64).collect(),
    }
}
