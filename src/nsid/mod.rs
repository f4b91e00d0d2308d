//! The NSID data model (pyNSID's "N-Dimensional Spectroscopic and Imaging Data", sidpy's
//! `Dataset` on disk) in HDF5.
//!
//! An NSID dataset is an N-dimensional HDF5 dataset (not flattened to positions × bins as in
//! USID) whose every axis has an HDF5 dimension scale attached (`DIMENSION_LIST`): a 1-D dataset
//! with the axis' values and the attributes `name`, `quantity`, `units` and `dimension_type`
//! (`SPATIAL`, `RECIPROCAL`, `SPECTRAL`, `TEMPORAL`, `CHANNEL`, `UNKNOWN`, …). The dataset
//! carries `quantity`, `units`, `main_data_name`, `data_type`, `modality`, `source` and
//! `pyNSID_version`, and pyNSID writes it as `<group>/<name>/<name>` with the scales beside it.
//! The rules are pyNSID 0.0.7.2's (`check_if_main`, `read_h5py_dataset`, `write_nsid_dataset`,
//! `write_results`) and sidpy's (`Dimension`, `DimensionType`).
//!
//! * `read`    — list NSID datasets (exactly those pyNSID's `get_all_main` lists) and open one
//!   into an [`NsidDataset`] with its [`Dimension`]s, or a one-line reason why it is not NSID.
//! * `spectra` — the "spectra along one dimension" view the engine takes from USID too
//!   ([`Spectra`]): positions are the SPATIAL axes, spectra run along one other axis; and the
//!   reader of a run of positions' spectra as contiguous rows (hyperslabs of the N-D dataset,
//!   reordered when the spatial axes do not lead).
//! * `write`   — results as pyNSID's `write_results` writes them: a `Log_<process>_NNN` group
//!   with one `<name>/<name>` NSID dataset per result, a dimension scale for every axis.
//! * `scales`  — HDF5 dimension scales (the HL library's `H5DS` format) read and written with
//!   the core library: `DIMENSION_LIST`, `DIMENSION_LABELS`, `REFERENCE_LIST`, `CLASS`, `NAME`.
//!
//! Dimension scales are read and attached here without the HDF5 high-level library (which
//! neither hdf5-metno nor its `-sys` crate binds): the format is small and documented, it is the
//! same in HDF5 1.10, 1.14 and 2.0, and a build then needs nothing beyond `libhdf5`.

mod read;
mod scales;
mod spectra;
mod write;

#[cfg(test)]
mod tests;

pub use read::{find_nsid_datasets, has_dimension_scales, NsidDataset, Storage, MAX_SCALE_VALUES};
pub use spectra::{position_boxes, Spectra};
pub use write::{
    check_axes, create_growing_nsid_dataset, create_nsid_dataset, create_results_group, data_type_of,
    grow_last_axis, results_parent, write_positions, NsidSpec, PYNSID_VERSION, SIDPY_VERSION,
};

use crate::error::Class;

/// Why an NSID file or dataset cannot be used, or results cannot be written: one line for the
/// user, and its class (an input that is not usable NSID is [`Class::Input`], an `--along` that
/// names no axis [`Class::Usage`], a write that fails [`Class::Output`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NsidError {
    pub class: Class,
    /// One line naming the file or dataset and what is wrong.
    pub message: String,
}

impl NsidError {
    pub(crate) fn input(message: impl Into<String>) -> Self {
        NsidError { class: Class::Input, message: message.into() }
    }
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        NsidError { class: Class::Usage, message: message.into() }
    }
    pub(crate) fn output(message: impl Into<String>) -> Self {
        NsidError { class: Class::Output, message: message.into() }
    }
}

impl std::fmt::Display for NsidError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}
impl std::error::Error for NsidError {}

/// sidpy's `DimensionType`: what an axis is physically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DimensionType {
    Unknown,
    Spatial,
    Reciprocal,
    Spectral,
    Temporal,
    Channel,
    PointCloud,
}

impl DimensionType {
    const ALL: [DimensionType; 7] = [
        DimensionType::Unknown,
        DimensionType::Spatial,
        DimensionType::Reciprocal,
        DimensionType::Spectral,
        DimensionType::Temporal,
        DimensionType::Channel,
        DimensionType::PointCloud,
    ];

    /// The name sidpy stores in a scale's `dimension_type` attribute: `SPATIAL`, `SPECTRAL`, …
    pub fn name(self) -> &'static str {
        match self {
            DimensionType::Unknown => "UNKNOWN",
            DimensionType::Spatial => "SPATIAL",
            DimensionType::Reciprocal => "RECIPROCAL",
            DimensionType::Spectral => "SPECTRAL",
            DimensionType::Temporal => "TEMPORAL",
            DimensionType::Channel => "CHANNEL",
            DimensionType::PointCloud => "POINT_CLOUD",
        }
    }

    /// The type sidpy's `Dimension` makes of an attribute's text: a member's name in any case,
    /// `frame`, `time` or `stack` as TEMPORAL, anything else (pyNSID's default `generic`
    /// included) as UNKNOWN.
    pub fn parse(text: &str) -> DimensionType {
        let upper = text.to_uppercase();
        if let Some(t) = Self::ALL.into_iter().find(|t| t.name() == upper) {
            return t;
        }
        match text.to_lowercase().as_str() {
            "frame" | "time" | "stack" => DimensionType::Temporal,
            _ => DimensionType::Unknown,
        }
    }
}

/// One axis of an NSID dataset: sidpy's `Dimension`, as pyNSID's reader builds it from the axis'
/// label and its dimension scale, or as we write it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Dimension {
    /// The axis' label (`DIMENSION_LABELS`), which pyNSID names the dimension by, e.g. `x`.
    pub name: String,
    /// The physical quantity, e.g. `Length` (pyNSID's `generic` when the scale has none).
    pub quantity: String,
    /// The unit of `values`, e.g. `m` or `Hz` (`generic` when the scale has none).
    pub units: String,
    /// What the axis is (SPATIAL for the positions of a map).
    pub dimension_type: DimensionType,
    /// The scale's values, one per step along the axis, in `units`.
    pub values: Vec<f64>,
}

impl Dimension {
    pub fn new(
        name: impl Into<String>,
        quantity: impl Into<String>,
        units: impl Into<String>,
        dimension_type: DimensionType,
        values: Vec<f64>,
    ) -> Self {
        Dimension {
            name: name.into(),
            quantity: quantity.into(),
            units: units.into(),
            dimension_type,
            values,
        }
    }

    /// The number of steps along the axis.
    pub fn size(&self) -> usize {
        self.values.len()
    }
}
