//! `inspect`'s NSID half: NSID datasets listed beside USID main datasets, or one described —
//! shape, element type, storage (and who decodes its chunks), every axis with its type and
//! units, and the axis spectra run along by default (what `find` without `--along` does).
use serde::Serialize;
use usid_peaks::nsid::{find_nsid_datasets, DimensionType, NsidDataset, Spectra, Storage};
use usid_peaks::usid::results;

use super::CliError;

/// One axis as `--json` prints it.
#[derive(Serialize)]
struct Axis<'a> {
    name: &'a str,
    quantity: &'a str,
    units: &'a str,
    dimension_type: DimensionType,
    size: usize,
}

/// What `--json` prints for one NSID dataset.
#[derive(Serialize)]
pub(super) struct Summary<'a> {
    path: &'a str,
    quantity: &'a str,
    units: &'a str,
    dtype: &'static str,
    shape: &'a [usize],
    data_type: &'a str,
    modality: &'a str,
    /// `contiguous`, or `chunked (1, 4, 64) gzip 4: HDF5 decodes on one thread`.
    storage: String,
    /// Every axis in storage order (the first varies slowest).
    dims: Vec<Axis<'a>>,
    spectra: SpectraInfo,
}

/// How the dataset splits into spectra by default.
#[derive(Serialize)]
#[serde(untagged)]
enum SpectraInfo {
    Along {
        /// The default `--along`: the last axis that is not SPATIAL (nor a singleton or CHANNEL).
        along: String,
        len: usize,
        positions: usize,
        per_position: usize,
    },
    Undefined {
        error: String,
    },
}

impl<'a> Summary<'a> {
    pub(super) fn of(ds: &'a NsidDataset) -> Self {
        let dims = ds
            .dims
            .iter()
            .map(|d| Axis {
                name: &d.name,
                quantity: &d.quantity,
                units: &d.units,
                dimension_type: d.dimension_type,
                size: d.size(),
            })
            .collect();
        let spectra = match Spectra::new(ds, None) {
            Ok(s) => SpectraInfo::Along {
                along: s.along_dim.name.clone(),
                len: s.len(),
                positions: s.n_positions,
                per_position: s.per_position(),
            },
            Err(e) => SpectraInfo::Undefined { error: e.message },
        };
        Summary {
            path: &ds.path,
            quantity: &ds.quantity,
            units: &ds.units,
            dtype: ds.element.name(),
            shape: &ds.shape,
            data_type: &ds.data_type,
            modality: &ds.modality,
            storage: storage(&ds.storage),
            dims,
            spectra,
        }
    }

    /// One line: path, shape, dtype, quantity (units), and the spectra.
    fn line(&self, width: usize) -> String {
        let shape: Vec<String> = self.shape.iter().map(|n| n.to_string()).collect();
        format!(
            "{:width$}  ({})  {}  {} ({})  {}\n",
            self.path,
            shape.join(", "),
            self.dtype,
            self.quantity,
            self.units,
            self.spectra_text()
        )
    }

    fn spectra_text(&self) -> String {
        match &self.spectra {
            SpectraInfo::Along { along, len, positions, per_position } => format!(
                "spectra along {along} ({len} values), {per_position} per position, {positions} positions"
            ),
            SpectraInfo::Undefined { error } => format!("spectra not defined: {error}"),
        }
    }

    /// What `inspect FILE DSET` prints.
    pub(super) fn describe(&self) -> String {
        let mut s = format!(
            "{} (NSID)\n  data:  {} ({}), {} of {}\n  dtype: {}\n  shape: {:?}\n  storage: {}\n  dimensions:\n",
            self.path, self.quantity, self.units, self.data_type, self.modality, self.dtype, self.shape, self.storage
        );
        for d in &self.dims {
            let units = if d.units.is_empty() { String::new() } else { format!(" ({})", d.units) };
            s.push_str(&format!(
                "    {}{units} - size: {} - {}, {}\n",
                d.name,
                d.size,
                d.dimension_type.name(),
                d.quantity
            ));
        }
        s.push_str(&format!("  {} (the default --along)\n", self.spectra_text()));
        s
    }
}

/// Storage in words, saying who decodes a chunked dataset's chunks.
fn storage(st: &Storage) -> String {
    match st {
        Storage::Contiguous => "contiguous".into(),
        Storage::Compact => "compact".into(),
        Storage::Virtual => "virtual".into(),
        Storage::Chunked { chunk, filters } if filters.is_empty() => format!("chunked {chunk:?}"),
        Storage::Chunked { chunk, filters } => {
            format!(
                "chunked {chunk:?} {}: HDF5 decodes the chunks on the reading thread",
                filters.join(" + ")
            )
        }
    }
}

/// The NSID datasets of a file by path, each opened or the reason it cannot be.
pub(super) type Found = Vec<(String, Result<NsidDataset, String>)>;

/// The NSID datasets of `file` that are not results (pyNSID's list less what is in results
/// groups, which `inspect` lists as such), each opened, or the reason it cannot be; `Err` when
/// the file cannot be walked.
pub(super) fn sources(file: &hdf5::File) -> Result<Found, CliError> {
    let found = find_nsid_datasets(file)?;
    Ok(found
        .into_iter()
        .filter(|p| !results::is_in_results_group(p))
        .map(|p| {
            let opened = NsidDataset::open(file, &p).map_err(|e| e.message);
            (p, opened)
        })
        .collect())
}

/// `--json`'s entry for one listed NSID dataset.
#[derive(Serialize)]
#[serde(untagged)]
pub(super) enum Entry<'a> {
    Nsid(Box<Summary<'a>>),
    Unreadable { path: &'a str, error: &'a str },
}

pub(super) fn entries(found: &Found) -> Vec<Entry<'_>> {
    found
        .iter()
        .map(|(path, ds)| match ds {
            Ok(ds) => Entry::Nsid(Box::new(Summary::of(ds))),
            Err(e) => Entry::Unreadable { path, error: e },
        })
        .collect()
}

/// The listing's NSID lines (nothing without NSID datasets).
pub(super) fn list(found: &Found) -> String {
    if found.is_empty() {
        return String::new();
    }
    let width = found.iter().map(|(p, _)| p.len()).max().unwrap_or(0);
    let mut s = String::from("NSID datasets:\n");
    for (path, ds) in found {
        match ds {
            Ok(ds) => s.push_str(&Summary::of(ds).line(width)),
            Err(e) => s.push_str(&format!("{path:width$}  not readable by usid-peaks: {e}\n")),
        }
    }
    s
}
