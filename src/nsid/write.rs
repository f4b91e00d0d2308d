//! Writing results the way pyNSID 0.0.7.2 writes them, so that its `read_h5py_dataset` returns
//! sidpy Datasets with the right dimension names, units and types:
//!
//! * `write_results(h5_group, datasets, attributes, process)` makes an indexed group
//!   `Log_<process>_NNN` ([`create_results_group`]) with sidpy's book-keeping attributes
//!   (`machine_id`, `timestamp`, `platform`, `sidpy_version`) and `pyNSID_version`;
//! * `write_nsid_dataset` writes each result as `<log group>/<name>/<name>` with the same
//!   book-keeping on the `<name>` group and on the dataset, the dataset's attributes `quantity`,
//!   `units`, `main_data_name`, `data_type`, `modality`, `source`, and beside it one float64
//!   dimension scale per axis named after the axis, with the attributes `name`, `units`,
//!   `quantity`, `dimension_type`, attached to its axis and labelled ([`create_nsid_dataset`]).
//!
//! Where the log group goes matters: pyNSID's reader turns every group beside a dataset (in the
//! dataset's own group) into a dictionary with sidpy's `h5_group_to_dict`, which raises on a group
//! holding datasets. A results group inside the source's `<name>` group therefore breaks reading
//! the *source* with pyNSID. [`results_parent`] names the group one level up, beside the
//! source's group, which pyNSID's reader of the source never walks.
//!
//! The version attributes name the pyNSID and sidpy releases whose format this follows
//! ([`PYNSID_VERSION`], [`SIDPY_VERSION`]); pyNSID requires `pyNSID_version` to be a string.
//!
//! One process writes, as rank 0 writes USID results into its serial copy of the file: the
//! book-keeping attributes (machine, time) differ from rank to rank, so these functions are not
//! for collective calls on a file opened through the MPI-IO driver ([`write_positions`] alone
//! is, on a dataset made beforehand).
use std::ops::Range;

use hdf5::types::OwnedDynValue;
use hdf5::{Dataset, Extent, Group, H5Type, Hyperslab, Location, Selection, SliceOrIndex};

use super::spectra::position_boxes;
use super::{scales, Dimension, DimensionType, NsidError};
use crate::error::one_line;
use crate::usid::results::{create_indexed_group, parent_path};
use crate::usid::write::write_str_attr;

/// The pyNSID release whose layout and attributes the writer follows (its `pyNSID_version`).
pub const PYNSID_VERSION: &str = "0.0.7.2";
/// The sidpy release whose model the writer follows (its `sidpy_version`).
pub const SIDPY_VERSION: &str = "0.12.9";

/// What a new NSID dataset is, for [`create_nsid_dataset`].
#[derive(Debug, Clone)]
pub struct NsidSpec<'a> {
    /// Its name: of the group made for it and of the dataset in it (plain, no `/`), and its
    /// `main_data_name` (the sidpy Dataset's title).
    pub name: &'a str,
    /// The physical quantity of the values and its unit, e.g. `Frequency`, `Hz`.
    pub quantity: &'a str,
    pub units: &'a str,
    /// sidpy's `DataType` name, e.g. `IMAGE` (positions only), `SPECTRAL_IMAGE`, `IMAGE_STACK`.
    pub data_type: &'a str,
    /// E.g. `Band Excitation`, and what produced the values, e.g. `usid-peaks find`.
    pub modality: &'a str,
    pub source: &'a str,
    /// One per axis, slowest first; their sizes are the dataset's shape. Names must be distinct,
    /// plain and other than `name` (each becomes a dataset beside the new one), and quantities
    /// and units non-empty (pyNSID's reader turns an axis without them into a generic one).
    pub dims: &'a [Dimension],
    /// `Some(c)`: stored in chunks of `c` elements (one per axis); `None`: contiguous.
    pub chunk: Option<&'a [usize]>,
}

/// sidpy's `DataType` of a result over `dims`: an image of two SPATIAL axes, a spectral image
/// with one more axis, else the generic `UNKNOWN`.
pub fn data_type_of(dims: &[Dimension]) -> &'static str {
    let spatial = dims.iter().filter(|d| d.dimension_type == DimensionType::Spatial).count();
    match (dims.len(), spatial) {
        (2, 2) => "IMAGE",
        (3, 2) => "SPECTRAL_IMAGE",
        _ => "UNKNOWN",
    }
}

/// The group results of the NSID dataset at `source_path` go in: beside the source's own group
/// (`/Measurement_000/Channel_000` for `/Measurement_000/Channel_000/Raw_Data/Raw_Data`), never
/// inside it, where pyNSID's reader of the source would walk into them. A source directly in the
/// root group has no such place ([`crate::error::Class::Output`]).
pub fn results_parent(source_path: &str) -> Result<String, NsidError> {
    let own = parent_path(source_path);
    if own == "/" {
        return Err(NsidError::output(format!(
            "{source_path}: results cannot go beside a dataset in the root group without breaking pyNSID's reading of it; write them to another file"
        )));
    }
    Ok(parent_path(own).to_string())
}

/// pyNSID's `write_results` group: `Log_<process>_NNN` in `parent` (the next free index), with
/// the book-keeping attributes. Parameters go on it as further attributes (pyNSID's
/// `attributes`).
pub fn create_results_group(parent: &Group, process: &str) -> Result<Group, NsidError> {
    let group =
        create_indexed_group(parent, &format!("Log_{process}")).map_err(|e| NsidError::output(e.0))?;
    book_keeping(&group)?;
    Ok(group)
}

/// Creates `<parent>/<name>/<name>`, an NSID dataset of element type `T` described by `spec`, with
/// its dimension scales attached and every attribute pyNSID writes, as `write_nsid_dataset` does.
/// The values are left unwritten (HDF5's fill value, zero) for the caller to fill, e.g. by runs of
/// positions with [`write_positions`]. On an error the `<name>` group is removed again.
pub fn create_nsid_dataset<T: H5Type>(parent: &Group, spec: &NsidSpec<'_>) -> Result<Dataset, NsidError> {
    create::<T>(parent, spec, None)
}

/// [`create_nsid_dataset`] for a result whose last axis grows as results arrive (the peak slots
/// of a spectrum, known only once every spectrum is): the dataset and that axis' scale are
/// chunked (`spec.chunk`, required) and unlimited along it, and elements never written read as
/// `fill` (those a grown axis adds to what was written before). [`grow_last_axis`] grows both.
pub fn create_growing_nsid_dataset<T: H5Type + Into<OwnedDynValue>>(
    parent: &Group,
    spec: &NsidSpec<'_>,
    fill: T,
) -> Result<Dataset, NsidError> {
    create::<T>(parent, spec, Some(fill.into()))
}

/// Grow the last axis of `dataset` (made by [`create_growing_nsid_dataset`]) to `axis`, whose
/// values replace its scale's: the elements added read as the dataset's fill value.
pub fn grow_last_axis(dataset: &Dataset, axis: &Dimension) -> Result<(), NsidError> {
    let fail = |what: String| NsidError::output(format!("{}:{}: {what}", dataset.filename(), dataset.name()));
    let mut shape = dataset.shape();
    match shape.last_mut() {
        Some(last) if *last <= axis.size() => *last = axis.size(),
        _ => return Err(fail(format!("cannot make {shape:?} {} long along {}", axis.size(), axis.name))),
    }
    let scale = dataset
        .file()
        .and_then(|f| f.group(parent_path(&dataset.name())))
        .and_then(|g| g.dataset(&axis.name))
        .map_err(|e| fail(format!("the scale {} ({})", axis.name, one_line(e))))?;
    scale
        .resize(axis.size())
        .and_then(|()| scale.write(axis.values.as_slice()))
        .and_then(|()| dataset.resize(shape))
        .map_err(|e| fail(format!("cannot grow {} ({})", axis.name, one_line(e))))
}

/// [`create_nsid_dataset`], the last axis growing when `growing` gives its fill value.
fn create<T: H5Type>(
    parent: &Group,
    spec: &NsidSpec<'_>,
    growing: Option<OwnedDynValue>,
) -> Result<Dataset, NsidError> {
    let here = format!("{}:{}", parent.filename(), join(&parent.name(), spec.name));
    check_spec(spec).map_err(|why| NsidError::output(format!("{here}: {why}")))?;
    if growing.is_some() && (spec.chunk.is_none() || spec.dims.is_empty()) {
        let why = "a growing axis needs an axis and chunks";
        return Err(NsidError::output(format!("{here}: {why}")));
    }
    let group = parent
        .create_group(spec.name)
        .map_err(|e| NsidError::output(format!("{here}: cannot create the group ({})", one_line(e))))?;
    let made = fill_group::<T>(&group, spec, growing);
    if made.is_err() {
        // Best effort: the error being reported matters more than a failed clean-up.
        let _ = parent.unlink(spec.name);
    }
    made.map_err(|why| NsidError::output(format!("{here}: {why}")))
}

/// What can be checked of `spec` before anything is created.
fn check_spec(spec: &NsidSpec<'_>) -> Result<(), String> {
    if !plain(spec.name) {
        return Err("an NSID dataset needs a plain, non-empty name".into());
    }
    check_axes(spec.dims, &[spec.name])?;
    if let Some(chunk) = spec.chunk {
        if chunk.len() != spec.dims.len() || chunk.contains(&0) {
            return Err(format!("chunks {chunk:?} do not fit {} axes", spec.dims.len()));
        }
    }
    Ok(())
}

fn plain(name: &str) -> bool {
    !name.is_empty() && !name.contains('/') && name != "." && name != ".."
}

/// Whether `dims` can be the axes of an NSID dataset whose group also holds the names `taken`
/// (the dataset's own; a caller checking ahead adds whatever else it will write beside them):
/// each axis becomes a scale of its name there, so the names must be plain, distinct and free,
/// and the quantity and unit set (pyNSID's reader turns an axis without them into a generic one).
pub fn check_axes(dims: &[Dimension], taken: &[&str]) -> Result<(), String> {
    for (axis, d) in dims.iter().enumerate() {
        if !plain(&d.name) {
            return Err(format!("axis {axis} needs a plain, non-empty name (got {:?})", d.name));
        }
        if taken.contains(&d.name.as_str()) {
            return Err(format!(
                "axis {axis} ({:?}) has a name taken beside it ({})",
                d.name,
                taken.join(", ")
            ));
        }
        if dims[..axis].iter().any(|e| e.name == d.name) {
            return Err(format!("two axes are named {:?}", d.name));
        }
        if d.values.is_empty() {
            return Err(format!("axis {axis} ({}) has no values", d.name));
        }
        if d.quantity.trim().is_empty() || d.units.trim().is_empty() || d.name.trim() != d.name {
            // sidpy refuses such a Dimension, and pyNSID's reader then keeps a generic axis.
            return Err(format!(
                "axis {axis} ({:?}) needs a non-empty quantity and unit and a name without outer spaces, or pyNSID reads it as a generic axis",
                d.name
            ));
        }
    }
    Ok(())
}

/// The dataset, its attributes and its scales in the fresh `group`.
fn fill_group<T: H5Type>(
    group: &Group,
    spec: &NsidSpec<'_>,
    growing: Option<OwnedDynValue>,
) -> Result<Dataset, String> {
    book_keeping(group).map_err(|e| e.message)?;
    let last = spec.dims.len().saturating_sub(1);
    let extents: Vec<Extent> = (spec.dims.iter().enumerate())
        .map(|(axis, d)| match growing {
            Some(_) if axis == last => Extent::resizable(d.size()),
            _ => Extent::fixed(d.size()),
        })
        .collect();
    let builder = group.new_dataset::<T>().shape(extents);
    let builder = match spec.chunk {
        Some(chunk) => builder.chunk(chunk),
        None => builder,
    };
    let builder = match &growing {
        Some(fill) => builder.fill_value(fill.clone()),
        None => builder,
    };
    let main =
        builder.create(spec.name).map_err(|e| format!("cannot create the dataset ({})", one_line(e)))?;
    for (name, value) in [
        ("quantity", spec.quantity),
        ("units", spec.units),
        ("main_data_name", spec.name),
        ("data_type", spec.data_type),
        ("modality", spec.modality),
        ("source", spec.source),
    ] {
        write_str_attr(&main, name, value).map_err(|e| e.0)?;
    }
    book_keeping(&main).map_err(|e| e.message)?;
    let mut made = Vec::with_capacity(spec.dims.len());
    for (axis, d) in spec.dims.iter().enumerate() {
        let grows = match (&growing, spec.chunk) {
            (Some(_), Some(chunk)) if axis == last => Some(chunk[axis]),
            _ => None,
        };
        made.push(write_scale(group, d, grows)?);
    }
    let scales: Vec<&Dataset> = made.iter().collect();
    let labels: Vec<&str> = spec.dims.iter().map(|d| d.name.as_str()).collect();
    scales::attach(&main, &scales, &labels)?;
    Ok(main)
}

/// The float64 dimension scale of `d` in `group`, named after it, with sidpy's attributes;
/// `grows`: resizable, in chunks of that many values.
fn write_scale(group: &Group, d: &Dimension, grows: Option<usize>) -> Result<Dataset, String> {
    let made = match grows {
        Some(chunk) => {
            let builder = group.new_dataset::<f64>().shape(Extent::resizable(d.size())).chunk(chunk);
            builder.create(d.name.as_str()).and_then(|s| s.write(d.values.as_slice()).map(|()| s))
        }
        None => group.new_dataset_builder().with_data(d.values.as_slice()).create(d.name.as_str()),
    };
    let scale = made.map_err(|e| format!("cannot write the scale {} ({})", d.name, one_line(e)))?;
    for (name, value) in [
        ("name", d.name.as_str()),
        ("units", d.units.as_str()),
        ("quantity", d.quantity.as_str()),
        ("dimension_type", d.dimension_type.name()),
    ] {
        write_str_attr(&scale, name, value).map_err(|e| e.0)?;
    }
    scales::set_scale(&scale, &d.name).map_err(|why| format!("the scale {}: {why}", d.name))?;
    Ok(scale)
}

/// sidpy's `write_book_keeping_attrs` and pyNSID's `pyNSID_version`: this machine, the time (UTC,
/// in sidpy's `2026_12_06-00_41_14` form), the platform, and the versions followed.
fn book_keeping(obj: &Location) -> Result<(), NsidError> {
    let (machine, platform) = machine_and_platform();
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let timestamp: String = now
        .trim_end_matches('Z')
        .chars()
        .map(|c| match c {
            '-' | ':' => '_',
            'T' => '-',
            c => c,
        })
        .collect();
    for (name, value) in [
        ("machine_id", machine.as_str()),
        ("timestamp", timestamp.as_str()),
        ("platform", platform.as_str()),
        ("sidpy_version", SIDPY_VERSION),
        ("pyNSID_version", PYNSID_VERSION),
    ] {
        write_str_attr(obj, name, value).map_err(|e| NsidError::output(e.0))?;
    }
    Ok(())
}

/// This machine's name, and `Linux-<release>-<machine>` as Python's `platform.platform()` begins.
fn machine_and_platform() -> (String, String) {
    // SAFETY: an all-zero utsname is a valid value of the plain C struct.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: `u` is a valid, writable utsname; uname NUL-terminates every field on success.
    if unsafe { libc::uname(&mut u) } != 0 {
        return ("unknown".into(), "unknown".into());
    }
    let text = |field: &[libc::c_char]| -> String {
        let bytes: Vec<u8> = field.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    let platform = format!("{}-{}-{}", text(&u.sysname), text(&u.release), text(&u.machine));
    (text(&u.nodename), platform)
}

fn join(group: &str, name: &str) -> String {
    if group.ends_with('/') {
        format!("{group}{name}")
    } else {
        format!("{group}/{name}")
    }
}

/// Write the values of the positions `positions` of `dataset`, an NSID dataset whose first
/// `position_shape.len()` axes are the positions (of those sizes) and whose other axes hold each
/// position's values, as [`create_nsid_dataset`] makes results: `values` holds the positions one
/// after the other, each position's values in storage order (what [`super::Spectra::read`] hands
/// out, and what an analysis makes of it per position).
pub fn write_positions<T: H5Type>(
    dataset: &Dataset,
    position_shape: &[usize],
    positions: Range<usize>,
    values: &[T],
) -> Result<(), NsidError> {
    let shape = dataset.shape();
    let fail = |what: String| NsidError::output(format!("{}:{}: {what}", dataset.filename(), dataset.name()));
    if shape.len() < position_shape.len() || shape[..position_shape.len()] != *position_shape {
        return Err(fail(format!("shape {shape:?} does not begin with the positions {position_shape:?}")));
    }
    let per_position: usize = shape[position_shape.len()..].iter().product();
    if positions.len().checked_mul(per_position) != Some(values.len()) {
        return Err(fail(format!(
            "{} values for positions {positions:?} of {per_position} each",
            values.len()
        )));
    }
    let mut at = 0;
    for boxed in position_boxes(position_shape, positions) {
        let mut extent: Vec<usize> = boxed.iter().map(|r| r.len()).collect();
        extent.extend_from_slice(&shape[position_shape.len()..]);
        let n: usize = extent.iter().product();
        let part = ndarray::ArrayView::from_shape(extent.as_slice(), &values[at..at + n])
            .map_err(|e| fail(format!("internal: {e}")))?;
        let slab: Vec<SliceOrIndex> = boxed
            .iter()
            .cloned()
            .chain(shape[position_shape.len()..].iter().map(|&m| 0..m))
            .map(SliceOrIndex::from)
            .collect();
        dataset
            .as_writer()
            .write_slice(part, Selection::from(Hyperslab::from(slab)))
            .map_err(|e| fail(format!("cannot write positions {boxed:?} ({})", one_line(e))))?;
        at += n;
    }
    Ok(())
}
