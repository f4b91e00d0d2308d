//! HDF5 dimension scales, read and written with the core library in the format of the HL
//! library's `H5DS` functions (which h5py's `Dataset.dims`, and through it pyNSID, uses):
//!
//! * on the dataset, `DIMENSION_LIST`: one entry per axis, each a variable-length list of object
//!   references (`H5T_STD_REF_OBJ`) to the scales attached to that axis, in attachment order;
//! * on the dataset, `DIMENSION_LABELS`: one variable-length ASCII string per axis (h5py's
//!   `dims[i].label`);
//! * on a scale, `CLASS` = `"DIMENSION_SCALE"` (a null-terminated fixed-length string of 16
//!   bytes), `NAME` (null-terminated fixed-length; h5py's key of the scale) and
//!   `REFERENCE_LIST`: one `{dataset: object reference, dimension: uint32}` per axis it is
//!   attached to (HDF5 1.10 writes the index as int32, 1.14 and 2.0 as uint32: either reads).
//!
//! Readers return `Err(reason)` with a short reason (no dataset path) for the caller's message.
use hdf5::types::{FixedAscii, Reference, TypeDescriptor, VarLenArray, VarLenAscii, VarLenUnicode};
use hdf5::{Dataset, Datatype, ObjectReference1, ReferencedObject};
use hdf5_sys::h5t::{H5T_str_t, H5Tcopy, H5Tset_size, H5Tset_strpad};

use crate::error::one_line;
use crate::usid::attr;

/// The most scales read per axis (real files attach one): a bound on what a hostile file makes us
/// open.
const MAX_SCALES_PER_AXIS: usize = 64;

/// The longest scale `NAME` written, in bytes.
const MAX_NAME: usize = 1024;

/// `{dataset, dimension}`: one entry of a scale's `REFERENCE_LIST`, laid out as H5DS lays it out.
#[derive(hdf5::H5Type, Clone, Copy, Debug)]
#[repr(C)]
struct BackReference {
    dataset: ObjectReference1,
    dimension: u32,
}

/// The scales attached to each axis of `ds`, in attachment order (an empty list: no scale on that
/// axis); `Ok(None)` when `ds` has no `DIMENSION_LIST` at all.
pub(super) fn attached(ds: &Dataset) -> Result<Option<Vec<Vec<Dataset>>>, String> {
    let Some(a) = attr::find(ds, "DIMENSION_LIST")? else {
        return Ok(None);
    };
    let desc = a
        .dtype()
        .and_then(|t| t.to_descriptor())
        .map_err(|e| format!("DIMENSION_LIST has an unreadable type ({})", one_line(e)))?;
    let expected = TypeDescriptor::VarLenArray(Box::new(TypeDescriptor::Reference(Reference::Object)));
    if desc != expected {
        return Err(format!(
            "DIMENSION_LIST is not a list of object references per axis (its type is {desc})"
        ));
    }
    let ndim = ds.ndim();
    if a.shape() != [ndim] {
        return Err(format!("DIMENSION_LIST has shape {:?}, the dataset {ndim} axes", a.shape()));
    }
    let lists: Vec<VarLenArray<ObjectReference1>> =
        a.read_raw().map_err(|e| format!("DIMENSION_LIST cannot be read ({})", one_line(e)))?;
    lists
        .iter()
        .enumerate()
        .map(|(axis, refs)| {
            if refs.len() > MAX_SCALES_PER_AXIS {
                return Err(format!(
                    "axis {axis} has {} scales attached, more than {MAX_SCALES_PER_AXIS}",
                    refs.len()
                ));
            }
            refs.iter()
                .map(|r| match ds.dereference(r) {
                    Ok(ReferencedObject::Dataset(scale)) => Ok(scale),
                    Ok(_) => Err(format!("a scale of axis {axis} is not a dataset")),
                    Err(_) => Err(format!("a scale of axis {axis} does not resolve (dangling reference)")),
                })
                .collect()
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// The axis labels of `ds` (`DIMENSION_LABELS`), empty strings where there are none.
pub(super) fn labels(ds: &Dataset) -> Result<Vec<String>, String> {
    let ndim = ds.ndim();
    let Some(a) = attr::find(ds, "DIMENSION_LABELS")? else {
        return Ok(vec![String::new(); ndim]);
    };
    let labels = attr::string_list(&a).map_err(|why| format!("DIMENSION_LABELS {why}"))?;
    if labels.len() != ndim {
        return Err(format!("DIMENSION_LABELS has {} entries, the dataset {ndim} axes", labels.len()));
    }
    Ok(labels)
}

/// A scale's `NAME` (h5py's key for it among the scales of an axis); empty when it has none.
pub(super) fn scale_name(scale: &Dataset) -> String {
    attr::find(scale, "NAME").ok().flatten().and_then(|a| attr::scalar_string(&a).ok()).unwrap_or_default()
}

/// The scale pyNSID's reader takes for an axis: h5py looks up the *name* of the last attached
/// scale (`dims[i].keys()[-1]`) and returns the first scale of that name (`dims[i][name]`).
pub(super) fn pynsid_choice(scales: &[Dataset]) -> Option<&Dataset> {
    let names: Vec<String> = scales.iter().map(scale_name).collect();
    let last = names.last()?;
    names.iter().position(|n| n == last).and_then(|i| scales.get(i))
}

/// A null-terminated fixed-length ASCII string type of `size` bytes (the terminator included),
/// as H5DS writes `CLASS` and `NAME` (hdf5-metno's own fixed strings are null-padded, and
/// `H5DSis_scale` accepts only null-terminated ones).
fn null_terminated(size: usize) -> hdf5::Result<Datatype> {
    let padded = Datatype::from_type::<FixedAscii<16>>()?;
    let id = hdf5::sync::sync(|| {
        // SAFETY: `padded` is an open datatype handle for the calls; the copy's id is handed to
        // `from_id`, which takes ownership of it (and closes it when dropped).
        unsafe {
            let id = H5Tcopy(padded.id());
            if id < 0 || H5Tset_size(id, size) < 0 || H5Tset_strpad(id, H5T_str_t::H5T_STR_NULLTERM) < 0 {
                return -1;
            }
            id
        }
    });
    if id < 0 {
        return Err("cannot make a null-terminated string type".into());
    }
    // SAFETY: `id` is a datatype this process just created and owns no other handle of.
    unsafe { hdf5::from_id::<Datatype>(id) }
}

/// A scalar null-terminated fixed-length string attribute `name` = `value` on `obj`.
fn write_null_terminated(obj: &Dataset, name: &str, value: &str) -> Result<(), String> {
    if value.len() >= MAX_NAME || !value.is_ascii() {
        return Err(format!("{name} {value:?}: H5DS stores ASCII names shorter than {MAX_NAME} bytes"));
    }
    let v = FixedAscii::<MAX_NAME>::from_ascii(value.as_bytes()).map_err(|e| format!("{name}: {e}"))?;
    let dtype = null_terminated(value.len() + 1).map_err(|e| format!("{name}: {}", one_line(e)))?;
    obj.new_attr_builder()
        .with_data_as(&ndarray::arr0(v), &dtype)
        .create(name)
        .map(|_| ())
        .map_err(|e| format!("cannot write {name} ({})", one_line(e)))
}

/// Make `scale` (a 1-D dataset) a dimension scale named `name`, as `H5DSset_scale` does.
pub(super) fn set_scale(scale: &Dataset, name: &str) -> Result<(), String> {
    write_null_terminated(scale, "CLASS", "DIMENSION_SCALE")?;
    write_null_terminated(scale, "NAME", name)
}

/// Attach `scales[i]` (made scales by [`set_scale`], in the same file) to axis `i` of `main` and
/// label the axes `labels`, as `H5DSattach_scale` and `H5DSset_label` do for every axis of a
/// dataset that has none yet: `DIMENSION_LIST` and `DIMENSION_LABELS` on `main`, and an entry in
/// each scale's `REFERENCE_LIST` (appended to those it has).
pub(super) fn attach(main: &Dataset, scales: &[&Dataset], labels: &[&str]) -> Result<(), String> {
    let ndim = main.ndim();
    if scales.len() != ndim || labels.len() != ndim {
        return Err(format!("{ndim} axes, but {} scales and {} labels", scales.len(), labels.len()));
    }
    if attr::find(main, "DIMENSION_LIST")?.is_some() {
        return Err("scales are attached already".to_string());
    }
    let file = main.file().map_err(one_line)?;
    let to = |d: &Dataset| file.reference::<ObjectReference1>(&d.name()).map_err(one_line);
    let main_ref = to(main)?;
    let mut lists = Vec::with_capacity(ndim);
    for (axis, scale) in scales.iter().enumerate() {
        lists.push(VarLenArray::from_slice(&[to(scale)?]));
        let dimension = u32::try_from(axis).map_err(|_| "too many axes".to_string())?;
        add_back_reference(scale, BackReference { dataset: main_ref, dimension })?;
    }
    main.new_attr_builder()
        .with_data(lists.as_slice())
        .create("DIMENSION_LIST")
        .map_err(|e| format!("cannot write DIMENSION_LIST ({})", one_line(e)))?;
    write_labels(main, labels)
}

/// Append `entry` to `scale`'s `REFERENCE_LIST` (created when it has none).
fn add_back_reference(scale: &Dataset, entry: BackReference) -> Result<(), String> {
    let mut entries: Vec<BackReference> = match attr::find(scale, "REFERENCE_LIST")? {
        Some(a) => a.read_raw().map_err(|e| format!("REFERENCE_LIST cannot be read ({})", one_line(e)))?,
        None => Vec::new(),
    };
    entries.push(entry);
    if attr::find(scale, "REFERENCE_LIST")?.is_some() {
        scale.delete_attr("REFERENCE_LIST").map_err(one_line)?;
    }
    scale
        .new_attr_builder()
        .with_data(entries.as_slice())
        .create("REFERENCE_LIST")
        .map(|_| ())
        .map_err(|e| format!("cannot write REFERENCE_LIST ({})", one_line(e)))
}

/// `DIMENSION_LABELS`: variable-length ASCII strings as `H5DSset_label` writes them, UTF-8 where
/// a label is not ASCII (h5py decodes labels as UTF-8 either way).
fn write_labels(main: &Dataset, labels: &[&str]) -> Result<(), String> {
    let failed = |e: hdf5::Error| format!("cannot write DIMENSION_LABELS ({})", one_line(e));
    if labels.iter().all(|l| l.is_ascii()) {
        let v: Vec<VarLenAscii> = labels
            .iter()
            .map(VarLenAscii::from_ascii)
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        main.new_attr_builder().with_data(v.as_slice()).create("DIMENSION_LABELS").map_err(failed)?;
    } else {
        let v: Vec<VarLenUnicode> =
            labels.iter().map(|l| l.parse()).collect::<Result<_, _>>().map_err(|e| format!("{e}"))?;
        main.new_attr_builder().with_data(v.as_slice()).create("DIMENSION_LABELS").map_err(failed)?;
    }
    Ok(())
}
