//! `usid-peaks bench`: how the analysis scales with threads — the seed's scalability study
//! (cores against compute time), on data already in memory so the disk does not blur it.
//!
//! For each thread count: one warm-up, then `--repeat` timed runs of the engine's inner loop in a
//! rayon pool of that size, the counts taking turns run by run; the median is reported
//! ([`usid_peaks::compute::bench`] measures). Every thread count must give the same peaks.
//! Results go to `bench.csv`, `bench.json` and `scaling.png`; `--ranks-csv` (written by
//! `scripts/bench.py ranks --plot`) adds MPI ranks to them.
//! Pools are bound to CPUs as `find`'s are (`--bind-threads`): with `auto`, only the count equal to
//! the CPUs this process may use is bound; bench.json says which (`bound`).

use std::path::{Path, PathBuf};
use std::time::Instant;

use usid_peaks::compute::bench;
use usid_peaks::peaks::PeakFinding;
use usid_peaks::plot::{self, ScalingFigure};
use usid_peaks::usid::select::open_main;
use usid_peaks::usid::MainDataset;

use super::params::{AlongArg, BindArg, CwtArgs};
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
    /// `seconds` (and optionally `spectra_per_s`, `identical`), as `scripts/bench.py ranks --plot` writes.
    #[arg(long, value_name = "CSV")]
    pub ranks_csv: Option<PathBuf>,
    #[command(flatten)]
    pub bind: BindArg,
    #[command(flatten)]
    pub along: AlongArg,
    #[command(flatten)]
    pub cwt: CwtArgs,
}

fn parse_threads(s: &str) -> Result<Vec<usize>, CliError> {
    let mut v: Vec<usize> = s
        .split(',')
        .map(|t| t.trim().parse::<usize>().ok().filter(|&n| n >= 1))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| {
            CliError::usage(format!("--threads {s:?}: expected thread counts of at least 1, like 1,2,4"))
        })?;
    v.sort_unstable();
    v.dedup();
    Ok(v)
}

pub fn run(args: Args) -> Result<(), CliError> {
    let params = args.cwt.params()?;
    let component = params.options.component.name();
    if args.repeat == 0 {
        return Err(CliError::usage("--repeat must be at least 1"));
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let counts = match &args.threads {
        Some(s) => parse_threads(s)?,
        None => bench::default_threads(cores),
    };
    // Read the ranks CSV before the long part, so a typo fails at once.
    let ranks = match &args.ranks_csv {
        Some(p) => {
            bench::read_ranks_csv(p).map_err(|e| CliError::new(e.class(), format!("--ranks-csv {e}")))?
        }
        None => Vec::new(),
    };
    std::fs::create_dir_all(&args.out).map_err(|e| {
        CliError::new(Exit::Output, format!("{}: cannot create the folder: {e}", args.out.display()))
    })?;

    let (_file, main) = open_main(&args.file, args.dataset.as_deref())?;
    let layout = args.along.layout(&main)?;
    let finder = PeakFinding::new(&layout, params)?;
    let t = Instant::now();
    let data = usid_peaks::usid::SpectraReader::new(&main, &layout).read_range(0..main.n_positions)?;
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
    let timed = bench::time_threads(
        &finder,
        data.rows(),
        layout.len(),
        &counts,
        args.repeat,
        args.bind.bind_threads,
    )?;
    for r in &timed.rows {
        usid_peaks::say!(
            "bench: {:>3} thread{}: {:.3} s",
            r.workers,
            if r.workers == 1 { " " } else { "s" },
            r.seconds
        );
    }
    let about =
        About { args: &args, main: &main, along: &layout.along_dim.name, n_spectra, cores, component };
    about.write(&timed, &ranks)?;
    match timed.rows.iter().chain(&ranks).find(|r| r.identical == Some(false)) {
        Some(bad) => Err(CliError::new(
            Exit::Internal,
            format!(
                "{} {} gave different peaks from {} threads — a bug, please report it",
                bad.workers, bad.kind, counts[0]
            ),
        )),
        None => Ok(()),
    }
}

/// What was timed, for the files bench writes.
struct About<'a> {
    args: &'a Args,
    main: &'a MainDataset,
    along: &'a str,
    n_spectra: usize,
    cores: usize,
    component: &'a str,
}

impl About<'_> {
    /// The table on stdout; bench.csv, bench.json and scaling.png in `--out`.
    fn write(&self, timed: &bench::Timed<u32>, ranks: &[bench::Row]) -> Result<(), CliError> {
        let (args, main) = (self.args, self.main);
        let all: Vec<bench::Row> = timed.rows.iter().chain(ranks).cloned().collect();
        super::print_stdout(&bench::table(&all))?;
        write_file(&args.out.join("bench.csv"), &bench::to_csv(&all))?;
        let json = serde_json::json!({
            "file": args.file.display().to_string(),
            "dataset": main.path,
            "pixels": main.n_positions,
            "bins": main.n_bins,
            "along": self.along,
            "spectra": self.n_spectra,
            "peaks": timed.items.items.len(),
            "cores": self.cores,
            "repeat": args.repeat,
            "bind_threads": args.bind.bind_threads,
            "component": self.component,
            "identical": all.iter().all(|r| r.identical != Some(false)),
            "rows": all,
        });
        write_file(&args.out.join("bench.json"), &format!("{json:#}\n"))?;
        let figure =
            ScalingFigure::of_bench(&timed.rows, ranks, &args.file, main.shape(), self.cores, args.repeat);
        let png = args.out.join("scaling.png");
        plot::save(&figure, &png, (1400, 650)).map_err(plot_error)?;
        usid_peaks::say!(
            "bench: wrote {}, {}, {}",
            args.out.join("bench.csv").display(),
            args.out.join("bench.json").display(),
            png.display()
        );
        Ok(())
    }
}

fn write_file(path: &Path, text: &str) -> Result<(), CliError> {
    std::fs::write(path, text)
        .map_err(|e| CliError::new(Exit::Output, format!("{}: cannot write: {e}", path.display())))
}
