//! The USID data model (pyUSID's "Universal Spectroscopy and Imaging Data") in HDF5.
//!
//! A *main* dataset is 2-D, (positions × spectroscopic bins), with attributes `quantity` and
//! `units`, and four object-reference attributes pointing at the ancillary datasets
//! `Position_Indices`/`Position_Values` (positions × position dims) and
//! `Spectroscopic_Indices`/`Spectroscopic_Values` (spectroscopic dims × bins), each with `labels`
//! and `units` attributes.
//!
//! * `read`     — open files, list and validate main datasets (pyUSID's `check_if_main`).
//! * `chunked`  — rows of gzip/shuffle-chunked datasets, decompressed on every thread.
//! * `write`    — write main datasets and their ancillary datasets the pyUSID way.
//! * `generate` — the synthetic Band Excitation PFM map that is the built-in default data.

pub mod chunked;
pub mod generate;
pub mod read;
pub mod results;
pub mod select;
pub mod spectra;
pub mod write;

pub use read::{check_hdf5_file, find_main_datasets, open_file, MainDataset};
pub use results::{create_indexed_group, next_indexed_name};
pub use spectra::{Rows, SpectraBlock, SpectraLayout};
pub use write::{
    copy_ancillary, create_main_dataset, link_as_main, write_f64_array_attr, write_f64_attr,
    write_i64_array_attr, write_i64_attr, write_str_array_attr, write_str_attr, Ancillary, DimSpec, MainSpec,
};

/// One dimension of a USID main dataset (a position or a spectroscopic dimension).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Dim {
    /// The label, e.g. `X` or `Frequency`.
    pub name: String,
    /// The physical unit, e.g. `m` or `Hz`.
    pub units: String,
    /// Number of distinct steps along this dimension.
    pub size: usize,
}

/// The element type of a main dataset, as numpy would name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElementType {
    Complex64,
    Complex128,
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
    pub fn is_complex(self) -> bool {
        matches!(self, ElementType::Complex64 | ElementType::Complex128)
    }
}

/// Why a file or dataset could not be used. The message is one line meant for the user: it names
/// the file or dataset and what is wrong.
#[derive(Debug)]
pub struct UsidError(pub String);

impl std::fmt::Display for UsidError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for UsidError {}
