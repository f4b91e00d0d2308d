//! # usid-peaks
//!
//! Run a per-spectrum analysis over every pixel of a USID hyperspectral map (HDF5), on every core
//! (rayon) and every MPI rank (rsmpi + parallel HDF5), and write the results the pyUSID way.
//!
//! The library is a few rooms, each with one job:
//!
//! * [`usid`] — the USID data model: find and validate main datasets, their dimensions and
//!   ancillary datasets; generate synthetic maps; write results groups that pyUSID reads.
//! * [`cwt`] — `scipy.signal.find_peaks_cwt`, reimplemented to give scipy's peaks, with a wavelet
//!   bank built once per run and a batched transform.
//! * [`compute`] — the generic engine: split rows over ranks, read in memory-bounded batches, map an
//!   [`compute::Analysis`] over rows with rayon, gather, checkpoint, resume.
//! * [`peaks`] — peak finding as the engine's first [`compute::Analysis`].
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
//! ```no_run
//! use usid_peaks::compute::{self, Analysis, Job, Param, ProgressMode, RowItems, Rows, World, WriteTarget};
//! use usid_peaks::usid::{write, UsidError};
//!
//! /// The bin of the largest |value| of each spectrum.
//! struct ArgMax;
//!
//! impl Analysis for ArgMax {
//!     type Item = u32;
//!     type Scratch = ();
//!     fn name(&self) -> &str { "ArgMax" }
//!     fn parameters(&self) -> Vec<(String, Param)> { vec![("algorithm".into(), Param::Str("argmax".into()))] }
//!     fn new_scratch(&self) {}
//!     fn process(&self, rows: Rows<'_>, _: &mut (), out: &mut RowItems<u32>) {
//!         if let Rows::Complex32(v) = rows {
//!             for row in v.chunks_exact(119) {
//!                 let best = (0..row.len()).max_by(|&a, &b| row[a].norm().total_cmp(&row[b].norm()));
//!                 out.push_row(&[best.unwrap_or(0) as u32]);
//!             }
//!         }
//!     }
//!     fn write(&self, results: &RowItems<u32>, t: &WriteTarget<'_>) -> Result<(), UsidError> {
//!         let n = results.n_rows();
//!         let ds = write::create_main_dataset::<u32>(
//!             t.group, "ArgMax", n, 1, "Bin", "",
//!             write::Ancillary::Existing { indices: t.position_indices, values: t.position_values },
//!             write::Ancillary::New(vec![write::DimSpec::new("Max", "", vec![0.0])]),
//!             None,
//!         )?;
//!         ds.write_raw(&results.items).map_err(|e| UsidError(e.to_string()))
//!     }
//! }
//!
//! let world = World::init().unwrap();
//! let job = Job {
//!     input: "map.h5".into(), dataset: None, output: None, threads: None,
//!     max_mem_mb: 1024, force: false, progress: ProgressMode::Auto, along: None,
//! };
//! let summary = compute::run(&world, &job, std::time::Instant::now(), |_main, _spectra| Ok(ArgMax)).unwrap();
//! println!("{} pixels -> {}", summary.pixels, summary.group);
//! ```
pub mod compute;
pub mod cwt;
pub mod error;
pub mod peaks;
pub mod plot;
pub mod usid;
