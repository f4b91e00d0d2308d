//! How fast a main dataset goes from the file into memory, with nothing computed: the read half
//! of `usid-peaks find`, at several thread counts.
//!
//! `read_bench FILE... [--threads 1,2] [--repeat 5] [--library]`
//!
//! Each file's only main dataset is read whole, as spectra along its default dimension, in the
//! batches `find` uses with its default `--max-mem` (so the same row ranges), through the reader
//! `find` uses (`usid::SpectraReader`): chunks fetched on this thread and inflated on a rayon
//! pool of the given size for a gzip/shuffle-chunked dataset, the library's `H5Dread` otherwise. `--library` forces the library's path (HDF5 inflating on
//! this one thread, as before chunks were decoded on the pool). One warm-up pass, then `--repeat`
//! timed passes; prints a markdown table with the median, and the speed-up over the first thread
//! count, and the megabytes per CPU-second of the whole process (what one core delivers, a figure
//! that holds on a busy machine where wall-clock time does not). Run it on a file already in the
//! page cache to time decompression, not the disk.
use std::path::PathBuf;
use std::time::Instant;

use usid_peaks::compute::{batch_rows_for, thread_pool, Binding};
use usid_peaks::usid::{self, MainDataset, SpectraLayout, SpectraReader};

type Error = Box<dyn std::error::Error>;

struct Args {
    files: Vec<PathBuf>,
    threads: Vec<usize>,
    repeat: usize,
    library: bool,
}

fn parse_args() -> Result<Args, Error> {
    let mut args = Args { files: Vec::new(), threads: vec![1, 2], repeat: 5, library: false };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--threads" => {
                let list = it.next().ok_or("--threads needs a list, e.g. 1,2")?;
                args.threads = list.split(',').map(str::parse).collect::<Result<_, _>>()?;
            }
            "--repeat" => args.repeat = it.next().ok_or("--repeat needs a number")?.parse()?,
            "--library" => args.library = true,
            _ if a.starts_with('-') => return Err(format!("unknown option {a}").into()),
            _ => args.files.push(a.into()),
        }
    }
    if args.files.is_empty() || args.threads.contains(&0) || args.repeat == 0 {
        return Err("usage: read_bench FILE... [--threads 1,2] [--repeat 5] [--library]".into());
    }
    Ok(args)
}

/// One pass over every row, `batch` rows at a time, as `find` reads them; returns the values
/// read.
fn pass(
    main: &MainDataset,
    reader: &SpectraReader,
    pool: &rayon::ThreadPool,
    batch: u64,
) -> Result<usize, Error> {
    let n = main.n_positions;
    let mut values = 0;
    for start in (0..n).step_by(batch as usize) {
        let rows = start..(start + batch as usize).min(n);
        let block = reader.read(std::slice::from_ref(&rows), pool)?;
        values += std::hint::black_box(block).rows().len();
    }
    Ok(values)
}

/// CPU seconds of this process so far (every thread, user and system).
fn cpu_seconds() -> f64 {
    // SAFETY: an all-zero rusage is a valid value of the plain C struct.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `u` is a valid, writable rusage.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    tv(u.ru_utime) + tv(u.ru_stime)
}

/// Wall and CPU seconds of one pass.
fn timed_pass(
    main: &MainDataset,
    reader: &SpectraReader,
    pool: &rayon::ThreadPool,
    batch: u64,
) -> Result<(f64, f64), Error> {
    let (t, cpu) = (Instant::now(), cpu_seconds());
    let values = pass(main, reader, pool, batch)?;
    let seconds = (t.elapsed().as_secs_f64(), cpu_seconds() - cpu);
    if values != main.n_positions * main.n_bins {
        return Err(
            format!("read {values} values, the dataset has {}", main.n_positions * main.n_bins).into()
        );
    }
    Ok(seconds)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> Result<(), Error> {
    let args = parse_args()?;
    println!(
        "| file | path | threads | seconds (median of {}) | spectra/s | MB/s in memory | speed-up | MB per CPU-second |",
        args.repeat
    );
    println!("| --- | --- | --: | --: | --: | --: | --: | --: |");
    for path in &args.files {
        let file = usid::open_file(path)?;
        let dset = match usid::find_main_datasets(&file)?.as_slice() {
            [one] => one.clone(),
            found => {
                return Err(format!("{}: {} main datasets, want one", path.display(), found.len()).into())
            }
        };
        let main = MainDataset::open(&file, &dset)?;
        let layout = SpectraLayout::new(&main, None)?;
        let reader = SpectraReader::new(&main, &layout);
        let reader = if args.library { reader.without_chunk_decoder() } else { reader };
        let how = match (reader.decoded_chunks(), main.dataset().chunk()) {
            (Some((rows, cols)), _) => format!("chunks {rows}×{cols} inflated on the pool"),
            (None, Some(ch)) if !main.dataset().filters().is_empty() => {
                format!("library, chunks {}×{} filtered", ch[0], ch[1])
            }
            _ => "library".to_string(),
        };
        // In memory per value, as the engine holds it (integers as f64).
        let value_bytes = main.dtype.value_bytes();
        let mb = (main.n_positions * main.n_bins * value_bytes) as f64 / 1e6;
        let mut base = None;
        for &threads in &args.threads {
            // Bound to CPUs as `find`'s pool is.
            let pool = thread_pool(threads, Binding::Auto, 1)?;
            // The batches `find` reads with its default --max-mem.
            let batch = batch_rows_for(1024 << 20, (main.n_bins * value_bytes * 2 + 64) as u64, threads);
            timed_pass(&main, &reader, &pool, batch)?;
            let times = (0..args.repeat)
                .map(|_| timed_pass(&main, &reader, &pool, batch))
                .collect::<Result<Vec<_>, _>>()?;
            let s = median(times.iter().map(|t| t.0).collect());
            let cpu = median(times.iter().map(|t| t.1).collect());
            let base_s = *base.get_or_insert(s);
            println!(
                "| {} | {how} | {threads} | {s:.3} | {:.0} | {:.0} | {:.2} | {:.0} |",
                path.file_name()
                    .map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned()),
                main.n_positions as f64 / s,
                mb / s,
                base_s / s,
                mb / cpu
            );
        }
    }
    Ok(())
}
