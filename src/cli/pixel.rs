//! `usid-peaks pixel`: the peaks of one pixel's spectrum — the seed's "try the function on one
//! spectrum first" step.

use std::path::PathBuf;

use usid_peaks::compute::Rows;
use usid_peaks::peaks::PeakFinding;
use usid_peaks::usid::{self, MainDataset};

use super::params::CwtArgs;
use super::{CliError, Exit};

/// The file, its main dataset and one pixel, as `pixel` and `plot` take them.
#[derive(clap::Args, Debug)]
pub struct PixelTarget {
    /// The HDF5 file.
    pub file: PathBuf,
    /// The main dataset [default: the file's only main dataset].
    pub dataset: Option<String>,
    /// The pixel as ROW,COL on the position grid (index = COL + ROW * number of columns, the
    /// columns being the position dimension that varies fastest, e.g. X).
    #[arg(long, value_name = "ROW,COL")]
    pub pixel: Option<String>,
    /// The pixel as its row index in the main dataset.
    #[arg(long, value_name = "N")]
    pub index: Option<usize>,
}

#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["pixel", "index"])))]
pub struct Args {
    #[command(flatten)]
    pub target: PixelTarget,
    #[command(flatten)]
    pub cwt: CwtArgs,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

/// A pixel chosen on the command line, resolved against a dataset's position grid.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct PixelRef {
    pub index: usize,
    pub row: usize,
    pub col: usize,
}

/// Turn `--pixel ROW,COL` or `--index N` into a row of `main`, checking it exists.
pub fn resolve(main: &MainDataset, pixel: Option<&str>, index: Option<usize>) -> Result<PixelRef, CliError> {
    let fast = main.fastest_position_dim()?;
    let n_cols = main.position_dims.get(fast).map(|d| d.size).unwrap_or(1).max(1);
    let r = match (pixel, index) {
        (Some(p), _) => {
            let (row, col) = p
                .split_once(',')
                .and_then(|(r, c)| Some((r.trim().parse::<usize>().ok()?, c.trim().parse::<usize>().ok()?)))
                .ok_or_else(|| CliError::usage(format!("--pixel {p:?}: expected ROW,COL, like 103,19")))?;
            if col >= n_cols {
                return Err(CliError::usage(format!(
                    "--pixel {p}: column {col} is outside the grid ({n_cols} columns along {})",
                    main.position_dims
                        .get(fast)
                        .map(|d| d.name.as_str())
                        .unwrap_or("the fastest position dimension")
                )));
            }
            PixelRef { index: col + row * n_cols, row, col }
        }
        (None, Some(i)) => PixelRef { index: i, row: i / n_cols, col: i % n_cols },
        (None, None) => return Err(CliError::usage("give --pixel ROW,COL or --index N")),
    };
    if r.index >= main.n_positions {
        return Err(CliError::usage(format!(
            "pixel ({}, {}) = index {} is outside {} ({} positions)",
            r.row, r.col, r.index, main.path, main.n_positions
        )));
    }
    Ok(r)
}

/// Open `file` and its main dataset (the only one when `dataset` is `None`).
pub fn open_main(
    file: &std::path::Path,
    dataset: Option<&str>,
) -> Result<(hdf5::File, MainDataset), CliError> {
    let f = usid::open_file(file)?;
    let path = match dataset {
        Some(p) => p.to_string(),
        None => usid::select::only_source_dataset(&f, file).map_err(|e| match e {
            usid::select::SelectError::Input(e) => CliError::from(e),
            usid::select::SelectError::Ambiguous(m) => CliError::usage(m),
        })?,
    };
    let main = MainDataset::open(&f, &path)?;
    Ok((f, main))
}

/// Rows of `main` in their own element type (one row for `pixel`, all of them for `bench`).
pub enum OwnedRow {
    C32(Vec<num_complex::Complex32>),
    C64(Vec<num_complex::Complex64>),
    F32(Vec<f32>),
    F64(Vec<f64>),
}

impl OwnedRow {
    /// Row `index` of `main`.
    pub fn read(main: &MainDataset, index: usize) -> Result<Self, CliError> {
        Self::read_rows(main, index..index + 1)
    }

    /// Rows `rows` of `main`, one after the other (`usid-peaks bench` reads them all at once).
    pub fn read_rows(main: &MainDataset, rows: std::ops::Range<usize>) -> Result<Self, CliError> {
        fn some<T: hdf5::H5Type + Clone>(
            main: &MainDataset,
            rows: &std::ops::Range<usize>,
        ) -> Result<Vec<T>, CliError> {
            main.dataset()
                .as_reader()
                .conversion(hdf5::Conversion::Hard)
                .read_slice_2d::<T, _>(ndarray::s![rows.clone(), ..])
                .map(|a| a.into_iter().collect())
                .map_err(|e| {
                    CliError::new(Exit::Input, format!("{}: cannot read rows {rows:?}: {e}", main.path))
                })
        }
        use usid_peaks::usid::ElementType as E;
        Ok(match main.dtype {
            E::Complex64 => OwnedRow::C32(some(main, &rows)?),
            E::Complex128 => OwnedRow::C64(some(main, &rows)?),
            E::Float32 => OwnedRow::F32(some(main, &rows)?),
            _ => OwnedRow::F64(some(main, &rows)?),
        })
    }
    pub fn rows(&self) -> Rows<'_> {
        match self {
            OwnedRow::C32(v) => Rows::Complex32(v),
            OwnedRow::C64(v) => Rows::Complex64(v),
            OwnedRow::F32(v) => Rows::Float32(v),
            OwnedRow::F64(v) => Rows::Float64(v),
        }
    }
}

pub fn run(args: Args) -> Result<(), CliError> {
    let params = args.cwt.params()?;
    let t = &args.target;
    let (_file, main) = open_main(&t.file, t.dataset.as_deref())?;
    let pixel = resolve(&main, t.pixel.as_deref(), t.index)?;
    let finder = PeakFinding::new(&main, params, args.cwt.component)?;
    let row = OwnedRow::read(&main, pixel.index)?;
    let peaks = finder.find_one(row.rows());
    let values: Vec<f64> =
        peaks.iter().map(|&p| finder.axis().get(p as usize).copied().unwrap_or(f64::NAN)).collect();
    let (axis, units) = finder.axis_label();
    if args.json {
        let j = serde_json::json!({
            "file": t.file.display().to_string(), "dataset": main.path,
            "index": pixel.index, "row": pixel.row, "col": pixel.col,
            "peaks": peaks, "axis": axis, "units": units, "values": values,
        });
        println!("{j}");
        return Ok(());
    }
    println!("{}  pixel (row {}, col {}) = index {}", main.path, pixel.row, pixel.col, pixel.index);
    if peaks.is_empty() {
        println!("no peaks");
        return Ok(());
    }
    println!("{:>6}  {} ({units})", "bin", axis);
    for (p, v) in peaks.iter().zip(&values) {
        println!("{p:>6}  {v}");
    }
    Ok(())
}
