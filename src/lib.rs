//! # usid-peaks
//!
//! Run a per-spectrum analysis over every pixel of a USID hyperspectral map (HDF5), on every core
//! (rayon) and every MPI rank (rsmpi + parallel HDF5), and write the results the pyUSID way.
//!
//! The library is a few rooms, each with one job:
//!
//! * [`usid`] — the USID data model: find and validate main datasets, their dimensions and
//!   ancillary datasets; generate synthetic maps; write results groups that pyUSID reads.
//! * [`nsid`] — the NSID data model (pyNSID's N-dimensional datasets with dimension scales):
//!   find and validate them, the same spectra view with a reader of runs of positions, and results
//!   written the way pyNSID reads them.
//! * [`cwt`] — `scipy.signal.find_peaks_cwt`, reimplemented to give scipy's peaks, with a wavelet
//!   bank built once per run and a batched transform.
//! * [`compute`] — the generic engine: split rows over ranks, read in memory-bounded batches, map an
//!   [`compute::Analysis`] over rows with rayon, gather, checkpoint, resume.
//! * [`peaks`] — peak finding as the engine's first [`compute::Analysis`].
//! * [`params`] — parameters described once, for the command line, Python, the results' attributes
//!   and the reuse key.
//! * [`plot`] — pictures of spectra, result maps and scaling studies (PNG/SVG, pure Rust).
//! * [`error`] — the classes of failure every error carries, and the one exit-code table.
//!
//! The binary (`usid-peaks`) is a thin command line over these rooms.
//!
//! ## One spectrum, then many
//!
//! ```
//! use usid_peaks::cwt::{find_peaks_cwt, CwtParams, PeakFinder};
//!
//! // A Lorentzian resonance on 119 bins, as |response| of one pixel.
//! let spectrum: Vec<f64> = (0..119).map(|i| 1.0 / (1.0 + ((i as f64 - 60.0) / 12.0).powi(2))).collect();
//! let params = CwtParams::default(); // widths = np.linspace(20, 60, 30), scipy's defaults
//! assert_eq!(find_peaks_cwt(&spectrum, &params).unwrap(), vec![60]);
//!
//! // Many spectra: build the wavelet bank once, keep one scratch per thread.
//! let finder = PeakFinder::new(119, &params).unwrap();
//! let mut scratch = finder.new_scratch();
//! let batch: Vec<f64> = spectrum.iter().chain(&spectrum).copied().collect();
//! finder.find_batch(&batch, &mut scratch, |_, peaks| assert_eq!(peaks, &[60]));
//! ```
//!
//! ## Your own per-pixel analysis
//!
//! Implement [`compute::Analysis`] — what a block of rows turns into, and how the results are
//! written — and [`compute::run`] maps it over every pixel of a file on every rank and thread,
//! with batching, checkpoints, resume and a results group:
//!
//! ```
//! use usid_peaks::compute::{check_analysis, Analysis, Param, RowItems, Rows, World, WriteTarget};
//! use usid_peaks::usid::generate::{generate, GenerateParams};
//! use usid_peaks::usid::write::{create_main_dataset, Ancillary, DimSpec, MainSpec};
//! use usid_peaks::usid::UsidError;
//!
//! /// The bin of the largest |value| of each spectrum (complex64 maps).
//! struct ArgMax { len: usize }
//!
//! impl Analysis for ArgMax {
//!     type Item = u32;
//!     type Scratch = ();
//!     fn name(&self) -> &str { "ArgMax" }
//!     fn parameters(&self) -> Vec<(String, Param)> { vec![("algorithm".into(), Param::Str("argmax".into()))] }
//!     fn new_scratch(&self) {}
//!     fn process(&self, rows: Rows<'_>, _: &mut (), out: &mut RowItems<u32>) {
//!         if let Rows::Complex32(v) = rows {
//!             for spectrum in v.chunks_exact(self.len) {
//!                 let best = (0..self.len).max_by(|&a, &b| spectrum[a].norm().total_cmp(&spectrum[b].norm()));
//!                 out.push_row(&[best.unwrap_or(0) as u32]);
//!             }
//!         }
//!     }
//!     fn write(&self, results: &RowItems<u32>, t: &WriteTarget<'_>) -> Result<(), UsidError> {
//!         let ds = create_main_dataset::<u32>(t.group, MainSpec {
//!             name: "Max_Bin", n_positions: results.n_rows(), n_bins: 1, quantity: "Bin", units: "",
//!             pos: Ancillary::Existing { indices: t.position_indices, values: t.position_values },
//!             spec: Ancillary::New(vec![DimSpec::new("Max", "", vec![0.0])]),
//!             chunk_rows: None,
//!         })?;
//!         ds.write_raw(&results.items).map_err(|e| UsidError(e.to_string()))
//!     }
//! }
//!
//! let dir = tempfile::tempdir().unwrap();
//! let map = dir.path().join("map.h5");
//! generate(&map, &GenerateParams { rows: 6, cols: 7, ..GenerateParams::default() }).unwrap();
//! // On a file, `compute::run` does the job (with MPI, checkpoints, resume); check_analysis runs
//! // it with several batch sizes and thread counts and holds the results equal and valid USID.
//! let world = World::init().unwrap();
//! let checked = check_analysis(&world, &map, &dir.path().join("out.h5"), |spectra| {
//!     Ok(ArgMax { len: spectra.len() })
//! })
//! .unwrap();
//! assert_eq!(checked.spectra, 42);
//! ```
pub mod compute;
pub mod cwt;
pub mod error;
pub mod nsid;
pub mod params;
pub mod peaks;
pub mod plot;
pub mod sho;
pub mod usid;
