//! Spectra per second of the CWT kernel on one thread, widths `linspace(20, 60, 30)`, at several
//! spectrum lengths, every transform side by side in one run (same spectra, same process):
//!
//! * `matrices`: the folded matrix products on the bank packed once per plan, with the unfold
//!   fused into the store, against 13 basis wavelets mixed into the 30 rows where the bank has
//!   that low a rank (at 119 samples: the automatic choice);
//! * `full-bank`: the same packed products against all 30 wavelets (the fast path before the
//!   low-rank bank);
//! * `gemm`: the same products through matrixmultiply's general matrix product, which repacks
//!   the bank every block (the fast path before the packed kernel);
//! * `fft`: FFT convolution (the automatic choice above 128 samples);
//! * `direct`: the direct sums vectorised across outputs (bit for bit the reference's sums);
//! * `reference`: the per-spectrum transcription of scipy's algorithm, scalar direct sums — at
//!   long lengths what the fast path did before (it summed each output in one scalar chain).
//!
//! `cargo bench --bench cwt` runs all; `cargo bench --bench cwt -- cwt_1024` one length.
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::time::Duration;
use usid_peaks::cwt::{find_peaks_cwt, CwtParams, PeakFinder, Transform};

/// Band-excitation-like spectra: a resonance over noise, always positive (`np.abs`).
fn spectra(n: usize, len: usize) -> Vec<f64> {
    let mut state = 0x853c49e6748fea9bu64;
    let mut uniform = move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..n)
        .flat_map(|_| {
            let centre = (0.2 + 0.6 * uniform()) * len as f64;
            let q = 5.0 + 50.0 * uniform();
            let noise: Vec<f64> = (0..len).map(|_| 0.2 * uniform()).collect();
            (0..len).map(move |i| {
                let f = i as f64 / centre;
                1.0 / ((1.0 - f * f).powi(2) + (f / q).powi(2)).sqrt() + noise[i]
            })
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let params = CwtParams::default();
    for len in [119, 256, 1024, 8192] {
        // About a quarter of a million samples per timed batch.
        let n = (1 << 18) / len;
        let data = spectra(n, len);
        let mut group = c.benchmark_group(format!("cwt_{len}x30"));
        group.throughput(Throughput::Elements(n as u64));
        group.sample_size(10).warm_up_time(Duration::from_millis(500));
        group.measurement_time(Duration::from_secs(if len > 1000 { 4 } else { 2 }));
        let transforms = [
            ("matrices", Transform::Matrices),
            ("full-bank", Transform::FullBank),
            ("gemm", Transform::Gemm),
            ("fft", Transform::Fft),
            ("direct", Transform::Direct),
        ];
        for (name, transform) in transforms {
            // Beyond 256 samples there are no matrices: that plan would be the direct sums again.
            if matches!(transform, Transform::Matrices | Transform::FullBank | Transform::Gemm) && len > 256 {
                continue;
            }
            let finder = PeakFinder::with_transform(len, &params, transform).expect("valid parameters");
            let mut scratch = finder.new_scratch();
            group.bench_function(BenchmarkId::from_parameter(name), |b| {
                b.iter(|| {
                    let mut found = 0;
                    finder.find_batch(black_box(&data), &mut scratch, |_, p| found += p.len());
                    found
                })
            });
        }
        let few = &data[..len * (n / 16).max(2)];
        group.throughput(Throughput::Elements((few.len() / len) as u64));
        group.bench_function(BenchmarkId::from_parameter("reference"), |b| {
            b.iter(|| {
                few.chunks_exact(len)
                    .map(|x| find_peaks_cwt(black_box(x), &params).map_or(0, |p| p.len()))
                    .sum::<usize>()
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
