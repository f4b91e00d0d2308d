//! The integration tests, one binary (one link instead of eleven): each module pins one part of
//! the command line's behaviour and reads as its specification; `util` is what they share (the
//! binary runner, generated maps, the Python reference environment, the failure contract).
//!
//! Run one part with its module path: `cargo test --release --test it find::`.
//! `tests/cwt_scipy.rs` stays its own binary: it is the kernel against scipy's fixtures, run alone
//! by name (with a 100k-case fixture file) by `tests/reference/cwt_fixtures.py` and docs/BENCHMARKS.md.

mod util;

mod analysis;
mod bad_inputs;
mod cli_bench_plot;
mod cli_generate;
mod cli_inspect;
mod compat;
mod faults;
mod find;
mod fuzz_reader;
mod nsid;
mod nsid_find;
mod nsid_sho;
mod plot_results;
mod scripts;
mod sho;
mod sho_bglib;
mod signals;
mod spectra;
mod usid_pyusid;
mod usid_write;
