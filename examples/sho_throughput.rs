//! Microseconds per spectrum of the SHO kernel (guess + fit) on one thread, on spectra from a file.
//!
//! `sho_throughput SPECTRA.h5 [REPEATS] [complex_gaussian|wavelet_peaks]`: SPECTRA.h5 holds
//! `/freqs` (float64, bins) and `/spectra` (complex64, n × bins), as
//! `tests/reference/bglib_sho.py bench` writes them. Runs the whole set REPEATS times (default 7)
//! on the calling thread and prints, as one JSON line, the median and best time per spectrum
//! and the tally of fit statuses.
use num_complex::Complex32;
use std::collections::BTreeMap;
use std::time::Instant;
use usid_peaks::sho::{ShoFitter, ShoGuess, ShoParams};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, path, rest @ ..] = &args[..] else {
        return Err("usage: sho_throughput SPECTRA.h5 [REPEATS] [complex_gaussian|wavelet_peaks]".into());
    };
    let repeats: usize = rest.first().map_or(Ok(7), |r| r.parse())?;
    let guess = match rest.get(1).map(String::as_str) {
        None | Some("complex_gaussian") => ShoGuess::ComplexGaussian,
        Some("wavelet_peaks") => ShoGuess::WaveletPeaks,
        Some(other) => return Err(format!("unknown guess {other:?}").into()),
    };
    let file = hdf5::File::open(path)?;
    let freqs: Vec<f64> = file.dataset("freqs")?.read_raw()?;
    let spectra: Vec<Complex32> = file.dataset("spectra")?.read_raw()?;
    let fitter = ShoFitter::new(&freqs, &ShoParams { guess, ..ShoParams::default() })?;
    let mut scratch = fitter.new_scratch();
    let n = spectra.len() / freqs.len();
    let mut times = Vec::with_capacity(repeats);
    let mut statuses = BTreeMap::new();
    let mut evaluations = 0u64;
    for round in 0..repeats.max(1) {
        let t0 = Instant::now();
        fitter.fit_batch(&spectra, &mut scratch, |_, o| {
            if round == 0 {
                *statuses.entry(format!("{:?}", o.status)).or_insert(0usize) += 1;
                evaluations += o.evaluations as u64;
            }
        });
        times.push(t0.elapsed().as_secs_f64() * 1e6 / n as f64);
    }
    times.sort_by(f64::total_cmp);
    let json = serde_json::json!({
        "spectra": n,
        "bins": freqs.len(),
        "us_per_spectrum": times[times.len() / 2],
        "best_us_per_spectrum": times[0],
        "repeats": times.len(),
        "mean_evaluations": evaluations as f64 / n as f64,
        "statuses": statuses,
    });
    println!("{json}");
    Ok(())
}
