//! The USID data model (pyUSID's "Universal Spectroscopy and Imaging Data") in HDF5.
//!
//! A *main* dataset is 2-D, (positions × spectroscopic bins), with attributes `quantity` and
//! `units`, and four object-reference attributes pointing at the ancillary datasets
//! `Position_Indices`/`Position_Values` (positions × position dims) and
//! `Spectroscopic_Indices`/`Spectroscopic_Values` (spectroscopic dims × bins), each with `labels`
//! and `units` attributes.
//!
//! The way in, one step after the other: [`open_file`] → [`MainDataset::open`] (validated as
//! pyUSID's `check_if_main` does; [`find_main_datasets`] lists them) → [`SpectraLayout`] (the
//! spectra along one dimension) → [`SpectraReader`] (the spectra of runs of positions, gzip chunks
//! decoded on the caller's threads) → [`SpectraBlock`]. Out: [`mod@write`] makes main datasets and
//! their ancillary datasets the pyUSID way, [`results`] and [`select`] find results groups and
//! source datasets; [`generate`] writes the synthetic Band Excitation PFM map that is the
//! built-in default data.

mod chunked;
mod copy;
mod element;
pub mod generate;
mod read;
mod reader;
pub mod results;
pub mod select;
mod spectra;
pub mod write;

pub use element::ElementType;
pub(crate) use read::{attr, check_hdf5_file, check_main, visit_datasets};
pub use read::{find_main_datasets, open_file, MainDataset, RecordsDataset};
pub use reader::{ReadError, SpectraReader};
pub use spectra::{Rows, SpectraBlock, SpectraLayout};

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
