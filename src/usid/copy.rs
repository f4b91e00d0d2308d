//! Copying a source file's ancillary datasets into a results file, by our own reads and writes.
//!
//! HDF5's object copy (H5Ocopy, hdf5's `Location::copy_to`) would do it in one call, but HDF5
//! 1.10 crashes inside it (SIGSEGV in H5T_close_real) when one of its writes fails — a full disk,
//! a file-size limit — and a results file written while the run computes meets exactly that. A
//! failed H5Dwrite or H5Awrite returns an error instead, which the run reports in one line.

use hdf5::types::{TypeDescriptor, VarLenAscii, VarLenUnicode};
use hdf5::{Attribute, Dataset, Group};
use hdf5_sys::h5::hsize_t;
use hdf5_sys::h5a::{H5Aclose, H5Acreate2, H5Aget_space, H5Aget_type, H5Aread, H5Awrite};
use hdf5_sys::h5d::{H5Dclose, H5Dcreate2, H5Dget_space, H5Dget_type, H5Dread, H5Dwrite};
use hdf5_sys::h5i::hid_t;
use hdf5_sys::h5p::H5P_DEFAULT;
use hdf5_sys::h5s::{
    H5S_seloper_t, H5Sclose, H5Screate_simple, H5Sget_simple_extent_dims, H5Sget_simple_extent_ndims,
    H5Sget_simple_extent_npoints, H5Sselect_hyperslab,
};
use hdf5_sys::h5t::{H5T_class_t, H5Tclose, H5Tdetect_class, H5Tget_size, H5Tis_variable_str};

use super::write::h5_error;
use super::UsidError;

/// Bytes read and written at a time: slabs of whole rows, so that a copy of a 10⁷-position map's
/// ancillary datasets (160 MB each) stays small in memory.
const SLAB_BYTES: usize = 4 << 20;

/// Copies dataset `src` into `dst` as `name`: its type, shape, data and attributes, except
/// reference-typed attributes (old pycroscopy files carry region references on ancillary
/// datasets; they would point into the source file). The type must have a fixed size (the
/// numbers of USID's ancillary datasets); attributes may also be variable-length strings.
pub(super) fn copy_dataset(src: &Dataset, dst: &Group, name: &str, here: &str) -> Result<Dataset, UsidError> {
    let failed =
        |what: &str| UsidError(format!("{here}: cannot copy {}:{}: {what}", src.filename(), src.name()));
    let c_name = std::ffi::CString::new(name).map_err(|_| failed("a NUL in its name"))?;
    hdf5::sync::sync(|| {
        // SAFETY: every id is checked before use and closed by its guard; the buffer holds whole
        // elements of the dataset's own (fixed-size) type, which is both the memory and file type.
        unsafe {
            let dtype = Id(H5Dget_type(src.id()), H5Tclose);
            let space = Id(H5Dget_space(src.id()), H5Sclose);
            if dtype.0 < 0 || space.0 < 0 {
                return Err(failed("cannot read its type and shape"));
            }
            if H5Tdetect_class(dtype.0, H5T_class_t::H5T_VLEN) != 0 || H5Tis_variable_str(dtype.0) != 0 {
                return Err(failed("its elements have no fixed size"));
            }
            let out = Id(
                H5Dcreate2(
                    dst.id(),
                    c_name.as_ptr(),
                    dtype.0,
                    space.0,
                    H5P_DEFAULT,
                    H5P_DEFAULT,
                    H5P_DEFAULT,
                ),
                H5Dclose,
            );
            if out.0 < 0 {
                return Err(failed("cannot create the copy"));
            }
            copy_rows(src.id(), out.0, dtype.0, space.0).map_err(|()| failed("cannot write the copy"))
        }
    })?;
    let copy = dst.dataset(name).map_err(|e| h5_error(here, "cannot open the copy", e))?;
    for attr_name in src.attr_names().map_err(|e| h5_error(here, "cannot list attributes", e))? {
        let attr = src.attr(&attr_name).map_err(|e| h5_error(here, &format!("attribute {attr_name}"), e))?;
        copy_attr(&attr, &copy, &attr_name)
            .map_err(|what| failed(&format!("attribute {attr_name}: {what}")))?;
    }
    Ok(copy)
}

/// The data of dataset `from` into `to` (same type and shape), slab of rows by slab of rows.
unsafe fn copy_rows(from: hid_t, to: hid_t, dtype: hid_t, space: hid_t) -> Result<(), ()> {
    let rank = usize::try_from(H5Sget_simple_extent_ndims(space)).map_err(|_| ())?;
    let mut dims = vec![0 as hsize_t; rank];
    if rank == 0 || H5Sget_simple_extent_dims(space, dims.as_mut_ptr(), std::ptr::null_mut()) < 0 {
        return if rank == 0 { copy_whole(from, to, dtype, space) } else { Err(()) };
    }
    let row_bytes = H5Tget_size(dtype) * dims[1..].iter().product::<hsize_t>() as usize;
    let rows_per_slab = (SLAB_BYTES / row_bytes.max(1)).max(1) as hsize_t;
    let mut buf = vec![0u8; row_bytes * rows_per_slab as usize];
    let mut start = vec![0 as hsize_t; rank];
    while start[0] < dims[0] {
        let mut count = dims.clone();
        count[0] = rows_per_slab.min(dims[0] - start[0]);
        let mem = Id(H5Screate_simple(rank as i32, count.as_ptr(), std::ptr::null()), H5Sclose);
        let sel = H5S_seloper_t::H5S_SELECT_SET;
        let none = std::ptr::null();
        if mem.0 < 0
            || H5Sselect_hyperslab(space, sel, start.as_ptr(), none, count.as_ptr(), none) < 0
            || H5Dread(from, dtype, mem.0, space, H5P_DEFAULT, buf.as_mut_ptr().cast()) < 0
            || H5Dwrite(to, dtype, mem.0, space, H5P_DEFAULT, buf.as_ptr().cast()) < 0
        {
            return Err(());
        }
        start[0] += count[0];
    }
    Ok(())
}

/// A scalar dataset's one element.
unsafe fn copy_whole(from: hid_t, to: hid_t, dtype: hid_t, space: hid_t) -> Result<(), ()> {
    let mut buf = vec![0u8; H5Tget_size(dtype)];
    if H5Dread(from, dtype, space, space, H5P_DEFAULT, buf.as_mut_ptr().cast()) < 0
        || H5Dwrite(to, dtype, space, space, H5P_DEFAULT, buf.as_ptr().cast()) < 0
    {
        return Err(());
    }
    Ok(())
}

/// One attribute onto `to`: variable-length strings through hdf5's own types (their memory is
/// hdf5's to free), references left out, any other (fixed-size) type as its raw elements.
fn copy_attr(attr: &Attribute, to: &Dataset, name: &str) -> Result<(), String> {
    let shape = attr.shape();
    let descriptor = attr.dtype().and_then(|t| t.to_descriptor()).map_err(crate::error::one_line)?;
    let made = match descriptor {
        TypeDescriptor::Reference(_) => return Ok(()),
        TypeDescriptor::VarLenUnicode => attr
            .read_raw::<VarLenUnicode>()
            .and_then(|v| to.new_attr::<VarLenUnicode>().shape(shape).create(name)?.write_raw(&v)),
        TypeDescriptor::VarLenAscii => attr
            .read_raw::<VarLenAscii>()
            .and_then(|v| to.new_attr::<VarLenAscii>().shape(shape).create(name)?.write_raw(&v)),
        _ => return copy_raw_attr(attr, to, name),
    };
    made.map_err(crate::error::one_line)
}

fn copy_raw_attr(attr: &Attribute, to: &Dataset, name: &str) -> Result<(), String> {
    let c_name = std::ffi::CString::new(name).map_err(|_| "a NUL in its name".to_string())?;
    hdf5::sync::sync(|| {
        // SAFETY: ids checked and closed by their guards; the buffer holds npoints elements of
        // the attribute's own type, which has a fixed size (the caller handled the others).
        unsafe {
            let dtype = Id(H5Aget_type(attr.id()), H5Tclose);
            let space = Id(H5Aget_space(attr.id()), H5Sclose);
            if dtype.0 < 0 || space.0 < 0 || H5Tdetect_class(dtype.0, H5T_class_t::H5T_VLEN) != 0 {
                return Err("a type that cannot be copied".to_string());
            }
            let n = usize::try_from(H5Sget_simple_extent_npoints(space.0)).unwrap_or(0);
            let mut buf = vec![0u8; n * H5Tget_size(dtype.0)];
            let made = Id(
                H5Acreate2(to.id(), c_name.as_ptr(), dtype.0, space.0, H5P_DEFAULT, H5P_DEFAULT),
                H5Aclose,
            );
            if made.0 < 0
                || H5Aread(attr.id(), dtype.0, buf.as_mut_ptr().cast()) < 0
                || H5Awrite(made.0, dtype.0, buf.as_ptr().cast()) < 0
            {
                return Err("cannot write it".to_string());
            }
            Ok(())
        }
    })
}

/// An HDF5 id closed with its own close function when dropped (a negative id: nothing to close).
struct Id(hid_t, unsafe extern "C" fn(hid_t) -> hdf5_sys::h5::herr_t);

impl Drop for Id {
    fn drop(&mut self) {
        if self.0 >= 0 {
            // SAFETY: a valid id of the kind its close function closes, closed once.
            unsafe {
                (self.1)(self.0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdf5::types::FixedAscii;
    use hdf5::ObjectReference1;

    #[test]
    fn a_copy_has_the_same_type_data_and_attributes_in_slabs_and_drops_references() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (
            hdf5::File::create(dir.path().join("a.h5")).unwrap(),
            hdf5::File::create(dir.path().join("b.h5")).unwrap(),
        );
        // More rows than one slab holds (16 bytes a row: 262 144 rows a slab).
        let rows = 600_001;
        let data: Vec<i64> = (0..2 * rows as i64).map(|v| v * 7 - 3).collect();
        let src = a.new_dataset::<i64>().shape([rows, 2]).create("Position_Indices").unwrap();
        src.write_raw(&data).unwrap();
        let labels: Vec<VarLenUnicode> = ["Y", "X"].iter().map(|s| s.parse().unwrap()).collect();
        src.new_attr::<VarLenUnicode>().shape([2]).create("labels").unwrap().write_raw(&labels).unwrap();
        let units: Vec<FixedAscii<2>> =
            ["m", "nm"].iter().map(|s| FixedAscii::from_ascii(s).unwrap()).collect();
        src.new_attr::<FixedAscii<2>>().shape([2]).create("units").unwrap().write_raw(&units).unwrap();
        src.new_attr::<f32>().shape([3]).create("scale").unwrap().write_raw(&[1.5f32, -2.0, 0.25]).unwrap();
        let to_itself = src.reference::<ObjectReference1>("/Position_Indices").unwrap();
        src.new_attr::<ObjectReference1>().create("region").unwrap().write_scalar(&to_itself).unwrap();

        let copy = copy_dataset(&src, &b.as_group().unwrap(), "Position_Indices", "b.h5").unwrap();
        assert_eq!(
            copy.dtype().unwrap().to_descriptor().unwrap(),
            TypeDescriptor::Integer(hdf5::types::IntSize::U8)
        );
        assert_eq!(copy.shape(), vec![rows, 2]);
        assert_eq!(copy.read_raw::<i64>().unwrap(), data);
        assert_eq!(copy.attr("labels").unwrap().read_raw::<VarLenUnicode>().unwrap(), labels);
        assert_eq!(copy.attr("units").unwrap().read_raw::<FixedAscii<2>>().unwrap(), units);
        assert_eq!(copy.attr("scale").unwrap().read_raw::<f32>().unwrap(), vec![1.5, -2.0, 0.25]);
        assert!(
            !copy.attr_names().unwrap().contains(&"region".to_string()),
            "a reference into a.h5 is left out"
        );
    }

    #[test]
    fn copying_over_an_existing_name_is_an_error_not_a_crash() {
        let dir = tempfile::tempdir().unwrap();
        let f = hdf5::File::create(dir.path().join("a.h5")).unwrap();
        let src = f.new_dataset::<u8>().shape([4, 1]).create("d").unwrap();
        let err = copy_dataset(&src, &f.as_group().unwrap(), "d", "a.h5").unwrap_err();
        assert!(err.to_string().contains("cannot create the copy"), "{err}");
    }
}
