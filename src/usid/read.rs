//! Reading USID files: open a file with clear errors ([`mod@file`]), list its main datasets
//! ([`find`]), and validate one the way pyUSID's `check_if_main` does ([`check`]) into a
//! [`MainDataset`] with its dimensions ([`dims`]).
//!
//! Everything here is defensive: a file is user input, so wrong attribute types, dangling
//! references and absurd declared sizes are errors with one readable line, never a panic, and no
//! read allocates more than [`check::MAX_ANCILLARY_ELEMENTS`] values.
use hdf5::{Dataset, LocationType};
use ndarray::{s, Array1, Array2};

use super::{Dim, ElementType, UsidError};
use crate::error::one_line;
use check::{check_layout, Ancillary};
use dims::dim_sizes;

pub(crate) mod attr;
mod check;
mod dims;
mod file;
mod find;

pub(crate) use file::check_hdf5_file;
pub use file::open_file;
pub use find::find_main_datasets;
pub(crate) use find::visit_datasets;

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

/// The dataset at `path` of `file`, or the one line that says why not (missing, a group, …).
fn open_dataset(file: &hdf5::File, path: &str) -> Result<Dataset, UsidError> {
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
    file.dataset(path)
        .map_err(|e| UsidError(format!("{path} in {file_name} cannot be opened ({})", one_line(e))))
}

/// Validate the dataset at `path` of `file` as a USID main dataset whatever its element type
/// (an analysis's compound records, which are not spectra to read): its (positions, bins).
pub(crate) fn check_main(file: &hdf5::File, path: &str) -> Result<[usize; 2], UsidError> {
    checked_main(&open_dataset(file, path)?)
}

/// [`check_main`] of a dataset already open.
fn checked_main(dataset: &Dataset) -> Result<[usize; 2], UsidError> {
    let layout = check_layout(dataset, &dataset.name())?;
    Ok([layout.n_positions, layout.n_bins])
}

/// A USID main dataset of compound records — an analysis's results, such as the SHO fit's
/// `Guess` and `Fit` — which usid-peaks lists but does not read as spectra.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RecordsDataset {
    /// The dataset's absolute HDF5 path.
    pub path: String,
    /// `[positions, records per position]`.
    pub shape: [usize; 2],
    /// The records' field names in order, e.g. `Amplitude [V]`, `Frequency [Hz]`.
    pub fields: Vec<String>,
}

impl RecordsDataset {
    /// Open the dataset at `path` as a main dataset of compound records; `Err` when it is not
    /// main or its elements are not compound (a complex `{r, i}` pair counts as not compound).
    pub fn open(file: &hdf5::File, path: &str) -> Result<Self, UsidError> {
        let dataset = open_dataset(file, path)?;
        let shape = checked_main(&dataset)?;
        let path = dataset.name();
        let dtype = dataset.dtype().map_err(|e| UsidError(one_line(e)))?;
        let desc = dtype.to_descriptor().map_err(|e| UsidError(one_line(e)))?;
        match desc {
            hdf5::types::TypeDescriptor::Compound(c) if ElementType::from_datatype(&dtype).is_err() => {
                Ok(RecordsDataset { path, shape, fields: c.fields.into_iter().map(|f| f.name).collect() })
            }
            _ => Err(UsidError(format!("{path} does not hold compound records"))),
        }
    }
}

impl MainDataset {
    /// Open the dataset at `path` in `file` and validate it as a USID main dataset. Errors name
    /// what is wrong in one line: the path does not exist, is a group, is not main (and why), or
    /// has an element type usid-peaks does not read.
    pub fn open(file: &hdf5::File, path: &str) -> Result<Self, UsidError> {
        Self::open_as(file, path, |dataset, path| {
            dataset.dtype().map_err(one_line).and_then(|t| ElementType::from_datatype(&t)).map_err(|ty| {
                UsidError(format!(
                    "{path} has elements of type {ty}; usid-peaks reads complex, float and integer data"
                ))
            })
        })
    }

    /// Open a main dataset of compound records whose fields are all float64 (an analysis's
    /// results, as the SHO fit's `Guess` and `Fit`) for its dimensions and ancillary datasets:
    /// `dtype` is then [`ElementType::Float64`], the type of each field. Its records are read
    /// by their own type, never as spectra.
    pub(crate) fn open_records(file: &hdf5::File, path: &str) -> Result<Self, UsidError> {
        Self::open_as(file, path, |dataset, path| {
            let desc = dataset.dtype().and_then(|t| t.to_descriptor()).map_err(|e| UsidError(one_line(e)))?;
            match desc {
                hdf5::types::TypeDescriptor::Compound(c)
                    if !c.fields.is_empty()
                        && c.fields.iter().all(|f| {
                            f.ty == hdf5::types::TypeDescriptor::Float(hdf5::types::FloatSize::U8)
                        }) =>
                {
                    Ok(ElementType::Float64)
                }
                _ => Err(UsidError(format!("{path} does not hold records of float64 fields"))),
            }
        })
    }

    /// Open and validate the main dataset at `path`, its element type given by `element`.
    fn open_as(
        file: &hdf5::File,
        path: &str,
        element: impl FnOnce(&Dataset, &str) -> Result<ElementType, UsidError>,
    ) -> Result<Self, UsidError> {
        let dataset = open_dataset(file, path)?;
        // The canonical absolute name, whatever form of the path the caller used.
        let path = dataset.name();
        let layout = check_layout(&dataset, &path)?;
        let dtype = element(&dataset, &path)?;
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

    /// The element type `Spectroscopic_Values` is stored as (`None`: one usid-peaks does not name).
    pub(crate) fn spectroscopic_values_type(&self) -> Option<ElementType> {
        self.spec.values.dtype().ok().and_then(|t| ElementType::from_datatype(&t).ok())
    }

    /// `Spectroscopic_Indices`, shape (n_spectroscopic_dims, n_bins), as f64.
    pub fn spectroscopic_indices(&self) -> Result<Array2<f64>, UsidError> {
        self.read_values(&self.spec.indices)
    }

    /// The index in [`Self::spectroscopic_dims`] of the dimension named `name`.
    pub(crate) fn spectroscopic_dim_index(&self, name: &str) -> Option<usize> {
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
    pub(crate) fn ancillary_datasets(&self) -> [&Dataset; 4] {
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
mod tests;
