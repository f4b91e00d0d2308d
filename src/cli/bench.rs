//! `usid-peaks bench`: how the analysis scales with threads — the seed's scalability study
//! (cores against compute time), on data already in memory so the disk does not blur it.
//!
//! For each thread count: one warm-up, then `--repeat` timed runs of the engine's inner loop
//! ([`usid_peaks::compute::RowMapper`], whose threads keep their working memory from the warm-up
//! on, as a run keeps it from batch to batch) in a rayon pool of that size, the counts taking
//! turns run by run; the median is reported. Every thread count must give the same peaks. Results go to `bench.csv`, `bench.json` and
//! `scaling.png`; `--ranks-csv` (written by `scripts/bench-ranks.sh`) adds MPI ranks to them.
//! Pools are bound to CPUs as `find`'s are (`--bind-threads`): with `auto`, only the count equal to
//! the CPUs this process may use is bound; bench.json says which (`bound`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use usid_peaks::compute::{thread_pool, RowItems, RowMapper};
use usid_peaks::peaks::PeakFinding;
use usid_peaks::plot::{self, ScalingFigure, ScalingSeries};

use super::params::{AlongArg, BindArg, CwtArgs};
use super::pixel::open_main;
use super::plot::plot_error;
use super::{CliError, Exit};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The HDF5 file.
    pub file: PathBuf,
    /// The main dataset [default: the file's only main dataset].
    pub dataset: Option<String>,
    /// Thread counts to time [default: 1, 2, 4, … up to the cores, and the cores].
    #[arg(long, value_name = "N1,N2,...")]
    pub threads: Option<String>,
    /// Timed runs per thread count, after one warm-up; the median is reported.
    #[arg(long, default_value_t = 3, value_name = "K")]
    pub repeat: usize,
    /// Folder for bench.csv, bench.json and scaling.png (created if missing).
    #[arg(long, default_value = "bench", value_name = "DIR")]
    pub out: PathBuf,
    /// MPI rank timings to add to the tables and the plot: a CSV with columns `ranks` and
    /// `seconds` (and optionally `spectra_per_s`, `identical`), as scripts/bench-ranks.sh writes.
    #[arg(long, value_name = "CSV")]
    pub ranks_csv: Option<PathBuf>,
    #[command(flatten)]
    pub bind: BindArg,
    #[command(flatten)]
    pub along: AlongArg,
    #[command(flatten)]
    pub cwt: CwtArgs,
}

/// One measured point: `workers` threads (or ranks) took a median of `seconds`.
#[derive(Debug, Clone, serde::Serialize)]
struct Row {
    /// `threads` or `ranks`.
    kind: &'static str,
    workers: usize,
    /// Median of the timed runs.
    seconds: f64,
    seconds_min: f64,
    seconds_max: f64,
    /// Every timed run, in the order they ran (bench.json only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    times: Vec<f64>,
    spectra_per_s: f64,
    /// Against the fewest workers of the same kind (exactly t(1)/t(N) when 1 was measured).
    speedup: f64,
    /// speed-up / workers.
    efficiency: f64,
    /// Whether the results equal those of the first thread count (ranks: as the CSV says).
    identical: Option<bool>,
    /// Whether each thread ran on a CPU of its own (`--bind-threads`; ranks: not known).
    #[serde(skip_serializing_if = "Option::is_none")]
    bound: Option<bool>,
}

/// 1, 2, 4, … below `cores`, then `cores`.
fn default_threads(cores: usize) -> Vec<usize> {
    let mut v: Vec<usize> =
        std::iter::successors(Some(1usize), |n| n.checked_mul(2)).take_while(|&n| n < cores).collect();
    v.push(cores.max(1));
    v
}

fn parse_threads(s: &str) -> Result<Vec<usize>, CliError> {
    let v: Vec<usize> = s
        .split(',')
        .map(|t| t.trim().parse::<usize>().ok().filter(|&n| n >= 1))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| {
            CliError::usage(format!("--threads {s:?}: expected thread counts of at least 1, like 1,2,4"))
        })?;
    let mut v = v;
    v.sort_unstable();
    v.dedup();
    Ok(v)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
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

pub fn run(args: Args) -> Result<(), CliError> {
    let params = args.cwt.params()?;
    if args.repeat == 0 {
        return Err(CliError::usage("--repeat must be at least 1"));
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let counts = match &args.threads {
        Some(s) => parse_threads(s)?,
        None => default_threads(cores),
    };
    // Read the ranks CSV before the long part, so a typo fails at once.
    let mut ranks = match &args.ranks_csv {
        Some(p) => read_ranks_csv(p)?,
        None => Vec::new(),
    };
    std::fs::create_dir_all(&args.out).map_err(|e| {
        CliError::new(Exit::Output, format!("{}: cannot create the folder: {e}", args.out.display()))
    })?;

    let (_file, main) = open_main(&args.file, args.dataset.as_deref())?;
    let layout = args.along.layout(&main)?;
    let finder = PeakFinding::new(&layout, params, args.cwt.component)?;
    let t = Instant::now();
    let data = layout.read_range(main.dataset(), main.dtype, 0..main.n_positions)?;
    let n_spectra = data.n_spectra();
    usid_peaks::say!(
        "bench: {} ({} pixels x {} bins; {n_spectra} spectra along {}) read in {:.2} s; {} timed run{} per thread count after a warm-up",
        main.path,
        main.n_positions,
        main.n_bins,
        layout.along_dim.name,
        t.elapsed().as_secs_f64(),
        args.repeat,
        if args.repeat == 1 { "" } else { "s" }
    );

    // Every thread count is set up and warmed up first (its threads' working memory made and
    // kept, as a run keeps it); then the timed runs go round the counts in turn, so drifting
    // machine speed (other jobs, clock changes) slows every count alike and the speed-ups are
    // ratios measured side by side.
    let mut setups = Vec::new();
    let mut reference: Option<RowItems<u32>> = None;
    for &n in &counts {
        let pool = thread_pool(n, args.bind.bind_threads, 1).map_err(|e| CliError::new(Exit::Launch, e))?;
        let mapper = RowMapper::new(&finder, n);
        let result = pool.install(|| mapper.map(data.rows(), layout.len()));
        let identical = match &reference {
            None => {
                reference = Some(result);
                true
            }
            Some(r) => *r == result,
        };
        setups.push((n, pool, mapper, identical, Vec::with_capacity(args.repeat)));
    }
    for _ in 0..args.repeat {
        for (_, pool, mapper, _, times) in &mut setups {
            let t = Instant::now();
            pool.install(|| mapper.map(data.rows(), layout.len()));
            times.push(t.elapsed().as_secs_f64());
        }
    }
    let mut rows = Vec::new();
    for (n, pool, _, identical, mut times) in setups {
        let in_order = times.clone();
        let seconds = median(&mut times);
        usid_peaks::say!("bench: {n:>3} thread{}: {seconds:.3} s", if n == 1 { " " } else { "s" });
        rows.push(Row {
            kind: "threads",
            workers: n,
            seconds,
            seconds_min: times[0],
            seconds_max: times[times.len() - 1],
            times: in_order,
            spectra_per_s: n_spectra as f64 / seconds,
            speedup: 1.0,
            efficiency: 1.0,
            identical: Some(identical),
            bound: Some(pool.bound()),
        });
    }
    add_speedups(&mut rows);
    add_speedups(&mut ranks);

    super::print_stdout(&table(&rows, &ranks))?;
    let all: Vec<Row> = rows.iter().chain(&ranks).cloned().collect();
    write_csv(&args.out.join("bench.csv"), &all)?;
    let peaks = reference.as_ref().map_or(0, |r| r.items.len());
    let json = serde_json::json!({
        "file": args.file.display().to_string(),
        "dataset": main.path,
        "pixels": main.n_positions,
        "bins": main.n_bins,
        "along": layout.along_dim.name,
        "spectra": n_spectra,
        "peaks": peaks,
        "cores": cores,
        "repeat": args.repeat,
        "bind_threads": args.bind.bind_threads,
        "component": args.cwt.component,
        "identical": all.iter().all(|r| r.identical != Some(false)),
        "rows": all,
    });
    write_file(&args.out.join("bench.json"), &format!("{json:#}\n"))?;

    let mut series = vec![ScalingSeries {
        label: "rayon threads (in memory)".into(),
        points: rows.iter().map(|r| (r.workers, r.seconds)).collect(),
    }];
    if !ranks.is_empty() {
        series.push(ScalingSeries {
            label: "MPI ranks x 1 thread (find)".into(),
            points: ranks.iter().map(|r| (r.workers, r.seconds)).collect(),
        });
    }
    let figure = ScalingFigure {
        title: "find_peaks_cwt over every pixel: time and speed-up against cores".into(),
        subtitle: format!(
            "{}: {} pixels x {} bins; {cores} cores on this machine; median of {} run{}",
            args.file
                .file_name()
                .map_or_else(|| args.file.display().to_string(), |n| n.to_string_lossy().into()),
            main.n_positions,
            main.n_bins,
            args.repeat,
            if args.repeat == 1 { "" } else { "s" }
        ),
        series,
        cores: Some(cores),
    };
    let png = args.out.join("scaling.png");
    plot::save(&figure, &png, (1400, 650)).map_err(plot_error)?;
    usid_peaks::say!(
        "bench: wrote {}, {}, {}",
        args.out.join("bench.csv").display(),
        args.out.join("bench.json").display(),
        png.display()
    );

    if let Some(bad) = all.iter().find(|r| r.identical == Some(false)) {
        return Err(CliError::new(
            Exit::Internal,
            format!(
                "{} {} gave different peaks from {} {} — a bug, please report it",
                bad.workers, bad.kind, counts[0], "threads"
            ),
        ));
    }
    Ok(())
}

/// The table printed on stdout (markdown, so it pastes into docs as it is).
fn table(rows: &[Row], ranks: &[Row]) -> String {
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
    for r in rows.iter().chain(ranks) {
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

fn write_file(path: &Path, text: &str) -> Result<(), CliError> {
    std::fs::write(path, text)
        .map_err(|e| CliError::new(Exit::Output, format!("{}: cannot write: {e}", path.display())))
}

fn write_csv(path: &Path, rows: &[Row]) -> Result<(), CliError> {
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
    write_file(path, &s)
}

/// Rows of a ranks CSV: a header naming `ranks` and `seconds` (others optional, any order).
fn read_ranks_csv(path: &Path) -> Result<Vec<Row>, CliError> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::new(Exit::Input, format!("--ranks-csv {shown}: cannot read: {e}")))?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').map(str::trim).collect();
    let col = |name: &str| header.iter().position(|h| *h == name);
    let (Some(ci), Some(cs)) = (col("ranks"), col("seconds")) else {
        return Err(CliError::usage(format!(
            "--ranks-csv {shown}: the header must name the columns ranks and seconds"
        )));
    };
    let (cr, cid) = (col("spectra_per_s"), col("identical"));
    let mut rows = Vec::new();
    for (i, line) in lines.enumerate() {
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let bad = || {
            CliError::usage(format!("--ranks-csv {shown}: line {}: {line:?} is not ranks,seconds,…", i + 2))
        };
        let workers = f.get(ci).and_then(|v| v.parse::<usize>().ok()).filter(|&n| n >= 1).ok_or_else(bad)?;
        let seconds = f.get(cs).and_then(|v| v.parse::<f64>().ok()).filter(|s| *s > 0.0).ok_or_else(bad)?;
        let rate = cr.and_then(|c| f.get(c)).and_then(|v| v.parse::<f64>().ok()).unwrap_or(f64::NAN);
        let identical = cid.and_then(|c| f.get(c)).and_then(|v| v.parse::<bool>().ok());
        rows.push(Row {
            kind: "ranks",
            workers,
            seconds,
            seconds_min: seconds,
            seconds_max: seconds,
            times: Vec::new(),
            spectra_per_s: rate,
            speedup: 1.0,
            efficiency: 1.0,
            identical,
            bound: None,
        });
    }
    if rows.is_empty() {
        return Err(CliError::usage(format!("--ranks-csv {shown}: no rows")));
    }
    Ok(rows)
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
