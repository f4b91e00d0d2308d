//! [`check_analysis`]: the conformance check every [`Analysis`] can be held to, the way rustfft
//! holds each algorithm to its naive DFT — the same results whatever the batching and threads,
//! and a results group pyUSID can read.

use std::path::Path;
use std::time::Instant;

use super::analysis::{Analysis, RowItems};
use super::engine::{run_with, Job, Tuning};
use super::pool::Binding;
use super::progress::ProgressMode;
use super::world::World;
use super::ComputeError;
use crate::usid::{self, SpectraLayout};

/// What [`check_analysis`] ran and checked.
#[derive(Debug, Clone)]
pub struct Checked {
    /// Spectra of the map (pixels × spectra per pixel).
    pub spectra: usize,
    /// Items over all spectra (the same in every run).
    pub items: usize,
    /// The last run's results group, in the output file.
    pub group: String,
    /// Its USID main datasets, each checked.
    pub main_datasets: Vec<String>,
}

/// Run the analysis `make` builds over the only main dataset of `input` through the engine, in
/// this process, with batches of 1 pixel, of 7 pixels (odd, and not dividing most maps) and of the
/// whole map, each on 1 and on 3 threads; every run writes a new results group into `output`.
///
/// Holds that every run gives every spectrum the same items, one result per spectrum, and that
/// the last group's datasets with a `quantity` attribute are valid USID main datasets (pyUSID's
/// `check_if_main`) with one row per pixel. The error names the first thing that differs.
pub fn check_analysis<A, F>(world: &World, input: &Path, output: &Path, make: F) -> Result<Checked, String>
where
    A: Analysis,
    F: Fn(&SpectraLayout) -> Result<A, ComputeError>,
{
    let fail = |e: ComputeError| format!("{}: {e}", input.display());
    let mut reference: Option<(String, RowItems<A::Item>)> = None;
    let mut last = None;
    for batch in [Some(1), Some(7), None] {
        for threads in [1, 3] {
            let job = Job {
                input: input.to_path_buf(),
                dataset: None,
                output: Some(output.to_path_buf()),
                threads: Some(threads),
                max_mem_mb: 1024,
                force: true,
                progress: ProgressMode::Quiet,
                along: None,
                bind_threads: Binding::Auto,
                rank_timeout: std::time::Duration::from_secs_f64(super::engine::DEFAULT_RANK_TIMEOUT_S),
            };
            let what = format!(
                "batches of {} pixels on {threads} threads",
                batch.map_or("all".into(), |b: u64| b.to_string())
            );
            let (summary, items) =
                run_with(world, &job, Instant::now(), &make, Tuning { batch_rows: batch, keep_items: true })
                    .map_err(fail)?;
            if !world.is_root() {
                continue;
            }
            let items = items.ok_or_else(|| format!("{what}: the run computed nothing"))?;
            let spectra = (summary.pixels * summary.spectra_per_pixel) as usize;
            if items.n_rows() != spectra {
                return Err(format!("{what}: {} results for {spectra} spectra", items.n_rows()));
            }
            match &reference {
                None => reference = Some((what, items)),
                Some((first, r)) => {
                    if let Some(s) = r.rows().zip(items.rows()).position(|(a, b)| a != b) {
                        return Err(format!("spectrum {s}: {what} gives other items than {first}"));
                    }
                }
            }
            last = Some(summary);
        }
    }
    let (Some(summary), Some((_, items))) = (last, reference) else {
        // Ranks other than 0 hold no results to compare.
        return Ok(Checked { spectra: 0, items: 0, group: String::new(), main_datasets: Vec::new() });
    };
    let file = usid::open_file(output).map_err(|e| e.to_string())?;
    let group = file.group(&summary.group).map_err(|e| format!("{}: {e}", summary.group))?;
    let mut main_datasets = Vec::new();
    for name in group.member_names().map_err(|e| e.to_string())? {
        let Ok(ds) = group.dataset(&name) else { continue };
        if ds.attr("quantity").is_err() {
            continue;
        }
        let [rows, _] = usid::check_main(&file, &ds.name()).map_err(|e| e.to_string())?;
        if rows as u64 != summary.pixels {
            return Err(format!("{}: {rows} rows for {} pixels", ds.name(), summary.pixels));
        }
        main_datasets.push(ds.name());
    }
    if main_datasets.is_empty() {
        return Err(format!("{}: the analysis wrote no USID main dataset", summary.group));
    }
    Ok(Checked { spectra: items.n_rows(), items: items.items.len(), group: summary.group, main_datasets })
}
