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
//!
//! The binary (`usid-peaks`) is a thin command line over these rooms.
pub mod compute;
pub mod cwt;
pub mod peaks;
pub mod usid;
