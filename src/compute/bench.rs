//! How an analysis scales with threads, on data already in memory so the disk does not blur it
//! (`usid-peaks bench`, the seed's scalability study): timed runs of the engine's inner loop, the
//! medians, speed-ups and efficiencies, and MPI rank timings read from a CSV to set beside them.
//!
//! Every thread count is set up and warmed up first (its threads' working memory made and kept,
//! as a run keeps it from batch to batch); then the timed runs go round the counts in turn, so
//! drifting machine speed (other jobs, clock changes) slows every count alike and the speed-ups
//! are ratios measured side by side. Every count must give the same items.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use super::analysis::{Analysis, RowItems, Rows};
use super::mapper::RowMapper;
use super::pool::{thread_pool, Binding};
use super::ComputeError;

/// One measured point: `workers` threads (or ranks) took a median of `seconds`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Row {
    /// `threads` or `ranks`.
    pub kind: &'static str,
    pub workers: usize,
    /// Median of the timed runs, in seconds.
    pub seconds: f64,
    pub seconds_min: f64,
    pub seconds_max: f64,
    /// Every timed run, in the order they ran (empty for ranks).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub times: Vec<f64>,
    pub spectra_per_s: f64,
    /// Against the fewest workers of the same kind (exactly t(1)/t(N) when 1 was measured).
    pub speedup: f64,
    /// speed-up / workers.
    pub efficiency: f64,
    /// Whether the results equal those of the first thread count (ranks: as the CSV says).
    pub identical: Option<bool>,
    /// Whether each thread ran on a CPU of its own (ranks: not known).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bound: Option<bool>,
}

/// 1, 2, 4, … below `cores`, then `cores`: the thread counts timed by default.
pub fn default_threads(cores: usize) -> Vec<usize> {
    let mut v: Vec<usize> =
        std::iter::successors(Some(1usize), |n| n.checked_mul(2)).take_while(|&n| n < cores).collect();
    v.push(cores.max(1));
    v
}

/// The median (the mean of the middle two for an even count); sorts `v`.
fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => v[n / 2],
        _ => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Fill in speed-up and efficiency against the fewest workers of the series. When that is not 1,
/// the base is taken as perfectly efficient (speed-up = its workers at its time), so the figures
/// stay comparable with a series that starts at 1; include 1 worker for a measured baseline.
fn add_speedups(rows: &mut [Row]) {
    let Some(base) = rows.iter().min_by_key(|r| r.workers).map(|r| (r.workers, r.seconds)) else { return };
    for r in rows {
        r.speedup = base.0 as f64 * base.1 / r.seconds;
        r.efficiency = r.speedup / r.workers as f64;
    }
}

/// What [`time_threads`] measured: one row per thread count (speed-ups filled in), and the
/// items of the first count (every spectrum's), which the others were compared with.
pub struct Timed<T> {
    pub rows: Vec<Row>,
    pub items: RowItems<T>,
}

/// Time `analysis` over `data` (spectra of `len` values) on each of `counts` threads (pools
/// bound to CPUs as `binding` says, as a run's are), `repeat` timed runs each after a warm-up.
pub fn time_threads<A: Analysis>(
    analysis: &A,
    data: Rows<'_>,
    len: usize,
    counts: &[usize],
    repeat: usize,
    binding: Binding,
) -> Result<Timed<A::Item>, ComputeError> {
    let mut setups = Vec::new();
    let mut reference: Option<RowItems<A::Item>> = None;
    for &n in counts {
        let pool = thread_pool(n, binding, 1).map_err(ComputeError::Launch)?;
        let mapper = RowMapper::new(analysis, n);
        let result = pool.install(|| mapper.map(data, len));
        let identical = reference.as_ref().is_none_or(|r| *r == result);
        reference.get_or_insert(result);
        setups.push((n, pool, mapper, identical, Vec::with_capacity(repeat)));
    }
    for _ in 0..repeat {
        for (_, pool, mapper, _, times) in &mut setups {
            let t = Instant::now();
            pool.install(|| mapper.map(data, len));
            times.push(t.elapsed().as_secs_f64());
        }
    }
    let n_spectra = data.len().checked_div(len).unwrap_or(0);
    let mut rows: Vec<Row> = setups
        .into_iter()
        .map(|(n, pool, _, identical, times)| {
            let mut sorted = times.clone();
            let seconds = median(&mut sorted);
            Row {
                kind: "threads",
                workers: n,
                seconds,
                seconds_min: sorted.first().copied().unwrap_or(f64::NAN),
                seconds_max: sorted.last().copied().unwrap_or(f64::NAN),
                times,
                spectra_per_s: n_spectra as f64 / seconds,
                speedup: 1.0,
                efficiency: 1.0,
                identical: Some(identical),
                bound: Some(pool.bound()),
            }
        })
        .collect();
    add_speedups(&mut rows);
    Ok(Timed { rows, items: reference.unwrap_or_default() })
}

/// Rows of a ranks CSV: a header naming `ranks` and `seconds` (`spectra_per_s` and `identical`
/// optional; any order), one row per rank count, speed-ups filled in.
pub fn read_ranks_csv(path: &Path) -> Result<Vec<Row>, ComputeError> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| ComputeError::Input(crate::usid::UsidError(format!("{shown}: cannot read: {e}"))))?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').map(str::trim).collect();
    let col = |name: &str| header.iter().position(|h| *h == name);
    let (Some(ci), Some(cs)) = (col("ranks"), col("seconds")) else {
        return Err(ComputeError::Usage(format!(
            "{shown}: the header must name the columns ranks and seconds"
        )));
    };
    let (cr, cid) = (col("spectra_per_s"), col("identical"));
    let mut rows = Vec::new();
    for (i, line) in lines.enumerate() {
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let bad = || ComputeError::Usage(format!("{shown}: line {}: {line:?} is not ranks,seconds,…", i + 2));
        let workers = f.get(ci).and_then(|v| v.parse::<usize>().ok()).filter(|&n| n >= 1).ok_or_else(bad)?;
        let seconds = f.get(cs).and_then(|v| v.parse::<f64>().ok()).filter(|s| *s > 0.0).ok_or_else(bad)?;
        rows.push(Row {
            kind: "ranks",
            workers,
            seconds,
            seconds_min: seconds,
            seconds_max: seconds,
            times: Vec::new(),
            spectra_per_s: cr.and_then(|c| f.get(c)).and_then(|v| v.parse::<f64>().ok()).unwrap_or(f64::NAN),
            speedup: 1.0,
            efficiency: 1.0,
            identical: cid.and_then(|c| f.get(c)).and_then(|v| v.parse::<bool>().ok()),
            bound: None,
        });
    }
    if rows.is_empty() {
        return Err(ComputeError::Usage(format!("{shown}: no rows")));
    }
    add_speedups(&mut rows);
    Ok(rows)
}

/// The rows as a markdown table (it pastes into docs as it is).
pub fn table(rows: &[Row]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| {:<8} | {:>7} | {:>9} | {:>11} | {:>8} | {:>10} | {:<9} |",
        "", "workers", "seconds", "spectra/s", "speed-up", "efficiency", "identical"
    );
    let _ = writeln!(
        s,
        "|{:-<10}|{:->9}|{:->11}|{:->13}|{:->10}|{:->12}|{:-<11}|",
        ":", ":", ":", ":", ":", ":", ":"
    );
    for r in rows {
        let same = match r.identical {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "-",
        };
        let _ = writeln!(
            s,
            "| {:<8} | {:>7} | {:>9.3} | {:>11.0} | {:>8.2} | {:>9.0}% | {:<9} |",
            r.kind,
            r.workers,
            r.seconds,
            r.spectra_per_s,
            r.speedup,
            r.efficiency * 100.0,
            same
        );
    }
    s
}

/// The rows as CSV, with a header.
pub fn to_csv(rows: &[Row]) -> String {
    let mut s = String::from(
        "kind,workers,seconds,seconds_min,seconds_max,spectra_per_s,speedup,efficiency,identical\n",
    );
    for r in rows {
        let same = r.identical.map_or(String::new(), |b| b.to_string());
        let _ = writeln!(
            s,
            "{},{},{:.6},{:.6},{:.6},{:.3},{:.4},{:.4},{same}",
            r.kind,
            r.workers,
            r.seconds,
            r.seconds_min,
            r.seconds_max,
            r.spectra_per_s,
            r.speedup,
            r.efficiency
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_thread_list_doubles_up_to_the_cores_and_includes_them() {
        assert_eq!(default_threads(1), vec![1]);
        assert_eq!(default_threads(2), vec![1, 2]);
        assert_eq!(default_threads(6), vec![1, 2, 4, 6]);
        assert_eq!(default_threads(16), vec![1, 2, 4, 8, 16]);
    }

    #[test]
    fn median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
    }
}
