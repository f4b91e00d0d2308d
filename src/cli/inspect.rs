//! `usid-peaks inspect FILE [DSET] [--json]`: list the USID main datasets of a file, or describe
//! one the way pyUSID's `USIDataset` prints it.
use std::path::PathBuf;

use serde::Serialize;
use usid_peaks::usid::results::{self, ResultsGroup};
use usid_peaks::usid::{self, Dim, MainDataset, RecordsDataset, SpectraLayout, UsidError};

use super::{CliError, Exit};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The HDF5 file.
    pub file: PathBuf,
    /// A main dataset to describe, e.g. /Measurement_000/Channel_000/Raw_Data. Without it, every
    /// main dataset of the file is listed.
    pub dset: Option<String>,
    /// Print JSON on stdout. With DSET: one object {path, quantity, units, dtype, shape
    /// [n_positions, n_bins], position_dims [{name, units, size}], spectroscopic_dims [...],
    /// ancillary {position_indices, ...}, spectra {along, len, per_pixel, dims_fastest_first
    /// [{name, units, size}]} (or {error} when the spectroscopic indices are not a full grid)}.
    /// Without: {file, main_datasets: [such objects]}; a main
    /// dataset usid-peaks cannot read appears as {path, error}, one of an analysis's compound
    /// records (e.g. the SHO fit's Guess and Fit) as {path, shape, fields}; results_groups lists every results
    /// group as {path, source_dataset, complete, attributes [[name, value], ...]}.
    #[arg(long)]
    pub json: bool,
}

/// The HDF5 paths of the ancillary datasets, for linking results to them.
#[derive(Serialize)]
struct AncillaryPaths {
    position_indices: String,
    position_values: String,
    spectroscopic_indices: String,
    spectroscopic_values: String,
}

/// What `--json` prints for one main dataset.
#[derive(Serialize)]
struct Summary<'a> {
    path: &'a str,
    quantity: &'a str,
    units: &'a str,
    dtype: &'static str,
    shape: [usize; 2],
    position_dims: &'a [Dim],
    spectroscopic_dims: &'a [Dim],
    ancillary: AncillaryPaths,
    spectra: Spectra,
}

/// How the rows split into spectra by default (what `find` without `--along` does).
#[derive(Serialize)]
#[serde(untagged)]
enum Spectra {
    Layout {
        /// The default `--along`: the fastest-varying spectroscopic dimension.
        along: String,
        /// Values per spectrum.
        len: usize,
        per_pixel: usize,
        /// Every spectroscopic dimension, fastest-varying first.
        dims_fastest_first: Vec<Dim>,
    },
    Undefined {
        error: String,
    },
}

impl Spectra {
    fn of(m: &MainDataset) -> Self {
        match SpectraLayout::new(m, None) {
            Ok(l) => {
                let mut dims = vec![l.along_dim.clone()];
                dims.extend(l.others.iter().map(|d| Dim {
                    name: d.name.clone(),
                    units: d.units.clone(),
                    size: d.values.len(),
                }));
                Spectra::Layout {
                    along: l.along_dim.name.clone(),
                    len: l.len(),
                    per_pixel: l.per_pixel(),
                    dims_fastest_first: dims,
                }
            }
            Err(e) => Spectra::Undefined { error: e.to_string() },
        }
    }
}

impl<'a> Summary<'a> {
    fn of(m: &'a MainDataset) -> Self {
        Summary {
            path: &m.path,
            quantity: &m.quantity,
            units: &m.units,
            dtype: m.dtype.name(),
            shape: m.shape(),
            position_dims: &m.position_dims,
            spectroscopic_dims: &m.spectroscopic_dims,
            ancillary: AncillaryPaths {
                position_indices: m.position_indices_path(),
                position_values: m.position_values_path(),
                spectroscopic_indices: m.spectroscopic_indices_path(),
                spectroscopic_values: m.spectroscopic_values_path(),
            },
            spectra: Spectra::of(m),
        }
    }
}

/// A main dataset as the listing opened it: spectra, or an analysis's compound records.
enum Opened {
    Main(Box<MainDataset>),
    Records(RecordsDataset),
}

impl Opened {
    /// The main dataset at `path`, or its records when they are compound; the main dataset's
    /// error when neither opens.
    fn open(file: &hdf5::File, path: &str) -> Result<Self, UsidError> {
        MainDataset::open(file, path)
            .map(|m| Opened::Main(Box::new(m)))
            .or_else(|e| RecordsDataset::open(file, path).map(Opened::Records).map_err(|_| e))
    }
}

/// One entry of the listing: a main dataset, or one pyUSID would list that we cannot read.
#[derive(Serialize)]
#[serde(untagged)]
enum Entry<'a> {
    Main(Box<Summary<'a>>),
    /// An analysis's records (e.g. the SHO fit's Guess and Fit): {path, shape, fields}.
    Records(&'a RecordsDataset),
    Unreadable {
        path: &'a str,
        error: String,
    },
}

#[derive(Serialize)]
struct Listing<'a> {
    file: String,
    main_datasets: Vec<Entry<'a>>,
    /// Every NSID dataset that is not a result (pyNSID's `get_all_main`, results left out).
    nsid_datasets: Vec<super::inspect_nsid::Entry<'a>>,
    /// Every results group in the file, with its source, completeness and attributes.
    results_groups: Vec<ResultsGroup>,
}

pub fn run(args: Args) -> Result<(), CliError> {
    let file = usid::open_file(&args.file)?;
    let out = match &args.dset {
        Some(dset) => one(&file, dset, args.json)?,
        None => {
            let paths = usid::find_main_datasets(&file)?;
            let opened: Vec<(&str, Result<Opened, UsidError>)> =
                paths.iter().map(|p| (p.as_str(), Opened::open(&file, p))).collect();
            let nsid = super::inspect_nsid::sources(&file)?;
            if paths.is_empty() && nsid.is_empty() {
                // Not an error (the file is fine), but an empty stdout deserves a word.
                usid_peaks::say!(
                    "usid-peaks: {} holds no USID main dataset and no NSID dataset",
                    args.file.display()
                );
            }
            if args.json {
                let main_datasets = opened
                    .iter()
                    .map(|(path, m)| match m {
                        Ok(Opened::Main(m)) => Entry::Main(Box::new(Summary::of(m))),
                        Ok(Opened::Records(r)) => Entry::Records(r),
                        Err(e) => Entry::Unreadable { path, error: e.to_string() },
                    })
                    .collect();
                let results_groups = results::all_groups(&file);
                let nsid_datasets = super::inspect_nsid::entries(&nsid);
                let file_name = args.file.display().to_string();
                to_json(&Listing { file: file_name, main_datasets, nsid_datasets, results_groups })?
            } else {
                list(&opened) + &super::inspect_nsid::list(&nsid) + &list_results(&results::all_groups(&file))
            }
        }
    };
    super::print_stdout(&out)
}

/// The description of the dataset `dset`, as `find` opens it: a USID main dataset (or an
/// analysis's records) when it is one, else NSID when it has dimension scales, else USID's reason
/// why it is not a main dataset.
fn one(file: &hdf5::File, dset: &str, json: bool) -> Result<String, CliError> {
    match Opened::open(file, dset) {
        Ok(Opened::Main(m)) if json => to_json(&Summary::of(&m)),
        Ok(Opened::Main(m)) => Ok(describe(&m)),
        Ok(Opened::Records(r)) if json => to_json(&r),
        Ok(Opened::Records(r)) => Ok(describe_records(&r)),
        Err(_) if usid_peaks::nsid::has_dimension_scales(file, dset) => {
            let ds = usid_peaks::nsid::NsidDataset::open(file, dset)?;
            let summary = super::inspect_nsid::Summary::of(&ds);
            if json {
                to_json(&summary)
            } else {
                Ok(summary.describe())
            }
        }
        Err(e) => Err(e.into()),
    }
}

fn to_json(value: &impl Serialize) -> Result<String, CliError> {
    serde_json::to_string_pretty(value)
        .map(|s| s + "\n")
        .map_err(|e| CliError::new(Exit::Internal, format!("cannot write JSON: {e}")))
}

/// `(30, 21)`, as numpy prints a shape.
fn shape(m: &MainDataset) -> String {
    format!("({}, {})", m.n_positions, m.n_bins)
}

/// `Frequency (Hz) - size: 87`, as pyUSID prints a dimension (no parentheses without units).
fn dim_line(d: &Dim) -> String {
    if d.units.is_empty() {
        format!("    {} - size: {}\n", d.name, d.size)
    } else {
        format!("    {} ({}) - size: {}\n", d.name, d.units, d.size)
    }
}

/// One line per main dataset: path, shape, dtype, quantity (units).
fn list(opened: &[(&str, Result<Opened, UsidError>)]) -> String {
    let width = opened.iter().map(|(p, _)| p.len()).max().unwrap_or(0);
    opened
        .iter()
        .map(|(path, m)| match m {
            Ok(Opened::Main(m)) => {
                format!("{path:width$}  {:>14}  {:10}  {}\n", shape(m), m.dtype.name(), m.descriptor())
            }
            Ok(Opened::Records(r)) => format!(
                "{path:width$}  {:>14}  {:10}  {}\n",
                format!("({}, {})", r.shape[0], r.shape[1]),
                "records",
                r.fields.join(", ")
            ),
            Err(e) => format!("{path:width$}  not readable by usid-peaks: {e}\n"),
        })
        .collect()
}

/// The results groups, each with its source, whether it is complete, and its parameters.
fn list_results(groups: &[ResultsGroup]) -> String {
    if groups.is_empty() {
        return String::new();
    }
    let mut s = String::from("results groups:\n");
    for g in groups {
        s.push_str(&format!(
            "  {}  {}, of {}\n",
            g.path,
            if g.complete { "complete" } else { "INCOMPLETE" },
            g.source_dataset
        ));
        // The key that decides reuse is long and not for reading.
        let attrs: Vec<String> = g
            .attributes
            .iter()
            .filter(|(n, _)| n != "usid_peaks_fingerprint" && n != "source_dataset")
            .map(|(n, v)| format!("{n}={v}"))
            .collect();
        s.push_str(&format!("    {}\n", attrs.join(" ")));
    }
    s
}

/// An analysis's records: where, their fields, and how many per pixel.
fn describe_records(r: &RecordsDataset) -> String {
    let mut s = format!(
        "{}\n  records: {} fields per record\n  shape: ({}, {}) (positions × records per position)\n  fields:\n",
        r.path,
        r.fields.len(),
        r.shape[0],
        r.shape[1]
    );
    s.extend(r.fields.iter().map(|f| format!("    {f}\n")));
    s
}

/// What pyUSID's `USIDataset` prints: where, what, the dimensions and the element type.
fn describe(m: &MainDataset) -> String {
    let mut s = format!(
        "{}\n  data:  {}\n  dtype: {}\n  shape: {} (positions × spectroscopic bins)\n",
        m.path,
        m.descriptor(),
        m.dtype.name(),
        shape(m)
    );
    s.push_str("  position dimensions:\n");
    s.extend(m.position_dims.iter().map(dim_line));
    s.push_str("  spectroscopic dimensions:\n");
    s.extend(m.spectroscopic_dims.iter().map(dim_line));
    match Spectra::of(m) {
        Spectra::Layout { along, per_pixel, dims_fastest_first, .. } => {
            if dims_fastest_first.len() > 1 {
                let dims: Vec<String> =
                    dims_fastest_first.iter().map(|d| format!("{} {}", d.name, d.size)).collect();
                s.push_str(&format!(
                    "  fastest-varying first: {}
",
                    dims.join(", ")
                ));
            }
            s.push_str(&format!("  spectra: along {along} (the default --along), {per_pixel} per pixel\n"));
        }
        Spectra::Undefined { error } => s.push_str(&format!("  spectra: not defined: {error}\n")),
    }
    s
}
