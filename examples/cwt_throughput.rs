//! Spectra per second of the CWT kernel on one thread, on spectra from a file.
//!
//! `cwt_throughput SPECTRA.f64 LEN [REPEATS] [TRANSFORM] [PEAKS_OUT]`: SPECTRA.f64 holds
//! n × LEN little-endian f64 values (what `scripts/bench.py kernel` writes). TRANSFORM is `auto`
//! (default), `matrices`, `full-bank`, `gemm`, `fft` or `direct` (see
//! `usid_peaks::cwt::Transform`). Prints the best rate over the repeats and the total number of
//! peaks; with PEAKS_OUT, also writes every spectrum's peaks there, one line each
//! (space-separated), so that a caller can compare them with scipy's one by one.
use std::io::Write;
use std::time::Instant;
use usid_peaks::cwt::{CwtParams, PeakFinder, Transform};

/// CPU time of this thread, in seconds.
fn thread_cpu_seconds() -> f64 {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `t` is a valid, writable timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, path, len, rest @ ..] = &args[..] else {
        return Err("usage: cwt_throughput SPECTRA.f64 LEN [REPEATS] [TRANSFORM] [PEAKS_OUT]".into());
    };
    let len: usize = len.parse()?;
    let repeats: usize = rest.first().map_or(Ok(5), |r| r.parse())?;
    let transform = match rest.get(1).map(String::as_str) {
        None | Some("auto") => Transform::Auto,
        Some("matrices") => Transform::Matrices,
        Some("full-bank") => Transform::FullBank,
        Some("gemm") => Transform::Gemm,
        Some("fft") => Transform::Fft,
        Some("direct") => Transform::Direct,
        Some(t) => {
            return Err(
                format!("unknown transform {t:?}: auto, matrices, full-bank, gemm, fft or direct").into()
            )
        }
    };
    let bytes = std::fs::read(path)?;
    let data: Vec<f64> = bytes
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
        .collect();
    if len == 0 || !data.len().is_multiple_of(len) {
        return Err(format!("{path}: {} values are not a whole number of spectra", data.len()).into());
    }
    let n = data.len() / len;
    let finder = PeakFinder::with_transform(len, &CwtParams::default(), transform)?;
    let mut scratch = finder.new_scratch();
    let (mut best, mut best_cpu, mut peaks) = (f64::INFINITY, f64::INFINITY, 0);
    for _ in 0..repeats {
        let (start, start_cpu) = (Instant::now(), thread_cpu_seconds());
        peaks = 0;
        finder.find_batch(&data, &mut scratch, |_, p| peaks += p.len());
        best = best.min(start.elapsed().as_secs_f64());
        best_cpu = best_cpu.min(thread_cpu_seconds() - start_cpu);
    }
    if let Some(out) = rest.get(2) {
        let mut w = std::io::BufWriter::new(std::fs::File::create(out)?);
        let mut result = Ok(());
        finder.find_batch(&data, &mut scratch, |_, p| {
            let line: Vec<String> = p.iter().map(|c| c.to_string()).collect();
            if result.is_ok() {
                result = writeln!(w, "{}", line.join(" "));
            }
        });
        result?;
        w.flush()?;
    }
    println!("spectra {n}");
    println!("peaks {peaks}");
    println!("spectra_per_s {:.0}", n as f64 / best);
    // On a machine shared with other jobs the wall clock includes their time slices.
    println!("spectra_per_cpu_s {:.0}", n as f64 / best_cpu);
    Ok(())
}
