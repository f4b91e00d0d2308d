//! What a command works on, chosen the same way for the command line and Python: the main
//! dataset (the file's only source dataset when none is named), one pixel of it (on the position
//! grid, or by row), and the spectra of a pixel (`DIM=STEP` choices among the other
//! spectroscopic dimensions).

use std::path::Path;

use super::results::is_in_results_group;
use super::{find_main_datasets, MainDataset, SpectraLayout, UsidError};
use crate::error::Class;

/// Why no dataset, pixel or spectrum could be chosen.
#[derive(Debug)]
pub enum SelectError {
    /// The file could not be read, or has no source main dataset.
    Input(UsidError),
    /// A choice the user must make or correct: several candidate datasets (listed in the
    /// message), a pixel outside the grid, a dimension or step that is not there.
    Usage(String),
}

impl SelectError {
    /// An unreadable file is an input error; a choice the user must make is a usage error.
    pub fn class(&self) -> Class {
        match self {
            SelectError::Input(_) => Class::Input,
            SelectError::Usage(_) => Class::Usage,
        }
    }
}

impl std::fmt::Display for SelectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SelectError::Input(e) => write!(f, "{e}"),
            SelectError::Usage(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for SelectError {}

impl From<UsidError> for SelectError {
    fn from(e: UsidError) -> Self {
        SelectError::Input(e)
    }
}

/// The file's only main dataset (USID) or NSID dataset that is not itself a result (datasets in
/// results groups are skipped, see [`super::results`]); `name` is the file as the user gave it,
/// for messages.
pub(crate) fn only_source_dataset(file: &hdf5::File, name: &Path) -> Result<String, SelectError> {
    let mut mains = find_main_datasets(file)?;
    mains.extend(crate::nsid::find_nsid_datasets(file).map_err(|e| UsidError(e.message))?);
    let sources: Vec<&String> = mains.iter().filter(|p| !is_in_results_group(p)).collect();
    match sources.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(SelectError::Input(UsidError(format!(
            "{} has no USID main dataset and no NSID dataset (name a dataset after the file to see why it is not one)",
            name.display()
        )))),
        many => Err(SelectError::Usage(format!(
            "{} has {} main datasets ({}); name one after the file",
            name.display(),
            many.len(),
            many.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// Open `path` and its main dataset `dataset` (the file's only source dataset when `None`). The
/// file is returned too: the dataset is read through it.
pub fn open_main(path: &Path, dataset: Option<&str>) -> Result<(hdf5::File, MainDataset), SelectError> {
    let file = super::open_file(path)?;
    let dset = match dataset {
        Some(d) => d.to_string(),
        None => only_source_dataset(&file, path)?,
    };
    let main = MainDataset::open(&file, &dset)?;
    Ok((file, main))
}

/// How a pixel is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelChoice {
    /// Row and column on the position grid; the columns are the position dimension that varies
    /// fastest (e.g. X), so the pixel's row in the dataset is `col + row × columns`.
    Grid { row: usize, col: usize },
    /// The pixel's row in the main dataset.
    Index(usize),
}

/// A pixel of a main dataset: its row in the dataset and its place on the position grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Pixel {
    pub index: usize,
    pub row: usize,
    pub col: usize,
}

impl Pixel {
    /// The pixel `choice` names in `main`, checked to exist.
    pub(crate) fn resolve(main: &MainDataset, choice: PixelChoice) -> Result<Pixel, SelectError> {
        let fast = main.fastest_position_dim()?;
        let (n_cols, cols) = main
            .position_dims
            .get(fast)
            .map_or((1, "the fastest position dimension"), |d| (d.size, d.name.as_str()));
        Self::on_grid(choice, &main.path, main.n_positions, n_cols, cols)
    }

    /// The pixel `choice` names among `n_positions` positions of the dataset at `path`, rows of
    /// `n_cols` columns along the dimension `cols` (the fastest-varying), checked to exist.
    pub(crate) fn on_grid(
        choice: PixelChoice,
        path: &str,
        n_positions: usize,
        n_cols: usize,
        cols: &str,
    ) -> Result<Pixel, SelectError> {
        let n_cols = n_cols.max(1);
        let pixel = match choice {
            PixelChoice::Grid { col, .. } if col >= n_cols => {
                return Err(SelectError::Usage(format!(
                    "column {col} is outside the grid ({n_cols} columns along {cols})"
                )))
            }
            PixelChoice::Grid { row, col } => Pixel { index: col + row * n_cols, row, col },
            PixelChoice::Index(i) => Pixel { index: i, row: i / n_cols, col: i % n_cols },
        };
        if pixel.index >= n_positions {
            return Err(SelectError::Usage(format!(
                "pixel ({}, {}) = index {} is outside {path} ({n_positions} positions)",
                pixel.row, pixel.col, pixel.index
            )));
        }
        Ok(pixel)
    }
}

/// Steps wanted (`DIM=STEP`, the step's index from 0) resolved against the dimensions a choice
/// is among (`dims`: name and size of each; `along`: what the spectra run along, for the
/// message): the wanted step of each dimension, `None` where none is named. `shown` is how the
/// user wrote each choice, for messages.
pub(crate) fn resolve_steps(
    wanted: &[(&str, usize)],
    dims: &[(String, usize)],
    along: &str,
) -> Result<Vec<Option<usize>>, SelectError> {
    let mut steps: Vec<Option<usize>> = vec![None; dims.len()];
    for &(name, step) in wanted {
        let Some(d) = dims.iter().position(|(n, _)| n == name) else {
            let names: Vec<&str> = dims.iter().map(|(n, _)| n.as_str()).collect();
            return Err(SelectError::Usage(format!(
                "{name}={step}: the spectra run along {along}; the other spectroscopic dimensions are: {}",
                if names.is_empty() { "none".to_string() } else { names.join(", ") }
            )));
        };
        let size = dims[d].1;
        if step >= size {
            return Err(SelectError::Usage(format!(
                "{name}={step}: {name} has {size} steps (0 to {})",
                size.saturating_sub(1)
            )));
        }
        steps[d] = Some(step);
    }
    Ok(steps)
}

/// The spectra of a pixel of `layout` that the `wanted` steps select (every one given), in
/// order; all of them when none is given.
pub(crate) fn select_spectra(
    layout: &SpectraLayout,
    wanted: &[(&str, usize)],
) -> Result<Vec<usize>, SelectError> {
    let dims: Vec<(String, usize)> = layout.others.iter().map(|d| (d.name.clone(), d.values.len())).collect();
    let steps = resolve_steps(wanted, &dims, &layout.along_dim.name)?;
    Ok((0..layout.per_pixel())
        .filter(|&sp| layout.steps_of(sp).iter().zip(&steps).all(|(i, w)| w.is_none_or(|w| w == *i)))
        .collect())
}
