//! The element types of a main dataset: what HDF5 stores, what numpy calls it, and what the
//! spectra hold in memory.
use hdf5::types::{FloatSize, IntSize, TypeDescriptor};
use hdf5::Datatype;

use crate::error::one_line;

/// The element type of a main dataset, as numpy would name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElementType {
    Complex64,
    Complex128,
    Float16,
    Float32,
    Float64,
    Int8,
    Int16,
    Int32,
    Int64,
    UInt8,
    UInt16,
    UInt32,
    UInt64,
}

impl ElementType {
    /// numpy's name: `complex64`, `float32`, `uint16`, ...
    pub fn name(self) -> &'static str {
        match self {
            ElementType::Complex64 => "complex64",
            ElementType::Complex128 => "complex128",
            ElementType::Float16 => "float16",
            ElementType::Float32 => "float32",
            ElementType::Float64 => "float64",
            ElementType::Int8 => "int8",
            ElementType::Int16 => "int16",
            ElementType::Int32 => "int32",
            ElementType::Int64 => "int64",
            ElementType::UInt8 => "uint8",
            ElementType::UInt16 => "uint16",
            ElementType::UInt32 => "uint32",
            ElementType::UInt64 => "uint64",
        }
    }

    /// The element type of an HDF5 datatype: integers, `f16`/`f32`/`f64`, and h5py's complex compound
    /// `{r, i}` of two equal floats. Anything else is `Err` with a description of the type.
    pub(crate) fn from_datatype(dtype: &hdf5::Datatype) -> Result<ElementType, String> {
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
            TypeDescriptor::Float(FloatSize::U2) => Float16,
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

    /// Bytes per value as a [`super::SpectraBlock`] holds it: complex and float32 as stored,
    /// float64, float16 and the integers as f64.
    pub fn value_bytes(self) -> usize {
        self.read_as().stored_bytes()
    }

    /// The type the reader hands the values out as (see [`crate::usid::Rows`]): complex and
    /// float32 as stored, every other type (float16, float64, the integers) as float64, which
    /// holds each of their values exactly.
    pub fn read_as(self) -> ElementType {
        match self {
            ElementType::Complex64 | ElementType::Complex128 | ElementType::Float32 => self,
            _ => ElementType::Float64,
        }
    }

    /// The bytes one element takes in memory as its Rust type (and, where the chunk decoder
    /// accepts the dataset, in the file).
    pub(crate) fn stored_bytes(self) -> usize {
        use ElementType::*;
        match self {
            Int8 | UInt8 => 1,
            Int16 | UInt16 | Float16 => 2,
            Int32 | UInt32 | Float32 => 4,
            Int64 | UInt64 | Float64 | Complex64 => 8,
            Complex128 => 16,
        }
    }

    /// The in-memory HDF5 type: a dataset stored as exactly this type needs no conversion.
    pub(crate) fn memory_type(self) -> hdf5::Result<Datatype> {
        use ElementType::*;
        match self {
            Int8 => Datatype::from_type::<i8>(),
            Int16 => Datatype::from_type::<i16>(),
            Int32 => Datatype::from_type::<i32>(),
            Int64 => Datatype::from_type::<i64>(),
            UInt8 => Datatype::from_type::<u8>(),
            UInt16 => Datatype::from_type::<u16>(),
            UInt32 => Datatype::from_type::<u32>(),
            UInt64 => Datatype::from_type::<u64>(),
            Float16 => Datatype::from_type::<half::f16>(),
            Float32 => Datatype::from_type::<f32>(),
            Float64 => Datatype::from_type::<f64>(),
            Complex64 => Datatype::from_type::<num_complex::Complex32>(),
            Complex128 => Datatype::from_type::<num_complex::Complex64>(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ElementType;

    #[test]
    fn elements_are_held_as_the_reader_hands_them_out() {
        assert_eq!(ElementType::Float16.read_as(), ElementType::Float64);
        assert_eq!(ElementType::Float16.name(), "float16");
        assert_eq!(ElementType::Complex64.read_as(), ElementType::Complex64);
        assert_eq!(ElementType::Float32.read_as(), ElementType::Float32);
        assert_eq!(ElementType::UInt16.read_as(), ElementType::Float64);
        assert_eq!(ElementType::Float64.read_as(), ElementType::Float64);
        let bytes =
            [ElementType::Complex128, ElementType::Complex64, ElementType::Float32, ElementType::Float16]
                .map(ElementType::value_bytes);
        assert_eq!(bytes, [16, 8, 4, 8]);
        assert_eq!(ElementType::Int8.value_bytes(), 8);
    }
}
