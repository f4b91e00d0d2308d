//! A new per-pixel analysis in one file: the bin of the largest |value| of each spectrum, written
//! as a USID results group `<dataset>-ArgMax_NNN` with one `Max_Bin` main dataset.
//!
//! ```sh
//! cargo run --release --example argmax -- map.h5 results.h5
//! ```
//! `tests/it/analysis.rs` holds it to `compute::check_analysis` and has pyUSID read its group.
use usid_peaks::compute::{
    self, Analysis, Binding, ComputeError, Job, Param, ProgressMode, RowItems, Rows, World, WriteTarget,
};
use usid_peaks::usid::write::{self, Ancillary, DimSpec, MainSpec};
use usid_peaks::usid::{SpectraLayout, UsidError};

/// The bin of the largest |value| of each spectrum (`len` values).
pub struct ArgMax {
    pub len: usize,
}

impl ArgMax {
    /// For the spectra of a map (their length is all it needs).
    pub fn new(spectra: &SpectraLayout) -> Result<Self, ComputeError> {
        Ok(ArgMax { len: spectra.len() })
    }
}

/// The index of the largest value (the first of equals), NaN counted as smallest.
fn arg_max(values: impl Iterator<Item = f64>) -> u32 {
    let mut best = (0u32, f64::NEG_INFINITY);
    for (i, v) in values.enumerate() {
        if v > best.1 {
            best = (i as u32, v);
        }
    }
    best.0
}

impl Analysis for ArgMax {
    type Item = u32;
    type Scratch = ();

    fn name(&self) -> &str {
        "ArgMax"
    }
    fn parameters(&self) -> Vec<(String, Param)> {
        vec![("algorithm".into(), Param::Str("argmax of |value|".into()))]
    }
    fn new_scratch(&self) {}
    fn process(&self, rows: Rows<'_>, _: &mut (), out: &mut RowItems<u32>) {
        let n = rows.len() / self.len.max(1);
        for s in 0..n {
            let best = match rows.slice_rows(s, s + 1, self.len) {
                Rows::Complex32(v) => arg_max(v.iter().map(|z| z.norm() as f64)),
                Rows::Complex64(v) => arg_max(v.iter().map(|z| z.norm())),
                Rows::Float32(v) => arg_max(v.iter().map(|x| x.abs() as f64)),
                Rows::Float64(v) => arg_max(v.iter().map(|x| x.abs())),
            };
            out.push_row(&[best]);
        }
    }
    fn write(&self, results: &RowItems<u32>, t: &WriteTarget<'_>) -> Result<(), UsidError> {
        // One spectrum per pixel here: a map with several spectroscopic dims would keep them as
        // peak finding does (src/peaks.rs).
        let n = results.n_rows();
        let ds = write::create_main_dataset::<u32>(
            t.group,
            MainSpec {
                name: "Max_Bin",
                n_positions: n,
                n_bins: 1,
                quantity: "Bin of the largest |value|",
                units: "",
                pos: Ancillary::Existing { indices: t.position_indices, values: t.position_values },
                spec: Ancillary::New(vec![DimSpec::new("Max", "", vec![0.0])]),
                chunk_rows: None,
            },
        )?;
        ds.write_raw(&results.items).map_err(|e| UsidError(format!("{}: {e}", ds.name())))
    }
}

#[allow(dead_code)] // the tests use ArgMax alone
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, input, output] = args.as_slice() else {
        return Err("usage: argmax MAP.h5 RESULTS.h5".into());
    };
    let world = World::init()?;
    let job = Job {
        input: input.into(),
        dataset: None,
        output: Some(output.into()),
        threads: None,
        max_mem_mb: 1024,
        force: false,
        progress: ProgressMode::Auto,
        along: None,
        bind_threads: Binding::Auto,
        rank_timeout: std::time::Duration::from_secs_f64(usid_peaks::compute::DEFAULT_RANK_TIMEOUT_S),
    };
    let summary = compute::run(&world, &job, std::time::Instant::now(), ArgMax::new)?;
    println!("{} pixels -> {}:{}", summary.pixels, summary.file, summary.group);
    Ok(())
}
