//! pyUSID's `parallel_compute` example, step by step, in Rust.
//!
//! The Python original loads BELine_0004.h5, tries `find_peaks_cwt(np.abs(spectrum),
//! np.linspace(20, 60, 30))` on one spectrum, then times a serial loop against
//! `parallel_compute(raw_data, find_peaks, cores=...)` and checks the results agree. Here:
//!
//! ```text
//! cargo run --release --example seed -- [FILE.h5]      # default: data/BELine_synthetic.h5
//! ```
//!
//! (`usid-peaks generate data/BELine_synthetic.h5` makes the default file.) For whole files,
//! `usid-peaks find` does all of this with MPI, batching, checkpoints and a results group; this
//! example is the library path for data already in memory.

use std::time::Instant;

use ndarray::Array2;
use num_complex::Complex32;
use usid_peaks::compute::parallel_compute_init;
use usid_peaks::cwt::{CwtParams, PeakFinder};
use usid_peaks::usid::{self, MainDataset};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).unwrap_or_else(|| "data/BELine_synthetic.h5".into());
    let file = usid::open_file(path.as_ref())?;
    let main = MainDataset::open(&file, "/Measurement_000/Channel_000/Raw_Data")?;
    println!("{}: {} pixels x {} bins, {}", main.path, main.n_positions, main.n_bins, main.dtype.name());
    let raw: Array2<Complex32> = main.dataset().read_2d()?;

    // The seed's parameters: widths = np.linspace(20, 60, 30), scipy's defaults otherwise.
    let params = CwtParams::default();
    // The wavelet bank depends only on the spectrum length and the widths: build it once.
    let finder = PeakFinder::new(main.n_bins, &params)?;
    // The function to map over rows; the parameters are captured, as functools.partial does.
    // Each thread gets its own scratch (the `init` below), so no row allocates working memory.
    let find_peaks = |scratch: &mut usid_peaks::cwt::Scratch, row: ndarray::ArrayView1<'_, Complex32>| {
        // np.abs of complex64 is float32; scipy then works in float64.
        let amplitude: Vec<f64> = row.iter().map(|z| z.norm() as f64).collect();
        finder.find(&amplitude, scratch)
    };
    let init = || finder.new_scratch();

    // 1. One spectrum first: pixel (row 103, col 19), as the seed does.
    let n_cols = main.position_dims[main.fastest_position_dim()?].size;
    let index = (19 + 103 * n_cols).min(main.n_positions - 1);
    let peaks = find_peaks(&mut init(), raw.row(index));
    let freq = main.spectroscopic_axis(0)?;
    let hz: Vec<f64> = peaks.iter().map(|&p| freq[p as usize]).collect();
    println!("pixel {index}: peaks at bins {peaks:?} = {hz:?} {}", main.spectroscopic_dims[0].units);

    // 2. Serial, then all cores.
    let t = Instant::now();
    let serial = parallel_compute_init(raw.view(), 1, init, find_peaks);
    let t_serial = t.elapsed().as_secs_f64();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let t = Instant::now();
    let parallel = parallel_compute_init(raw.view(), cores, init, find_peaks);
    let t_parallel = t.elapsed().as_secs_f64();
    println!("serial:   {t_serial:.3} s ({:.0} spectra/s)", main.n_positions as f64 / t_serial);
    println!(
        "{cores} cores: {t_parallel:.3} s ({:.0} spectra/s), speed-up {:.2}",
        main.n_positions as f64 / t_parallel,
        t_serial / t_parallel
    );

    // 3. The results must not depend on the number of cores.
    assert_eq!(serial, parallel, "serial and parallel results differ");
    println!("serial and parallel results are identical ({} pixels)", serial.len());
    Ok(())
}
